//! `leaksweep baseline create [scan args] -o FILE` (or `baseline git [git args]`): scan like `scan`
//! (or like `git`) and record every secret found, so later runs with `--baseline FILE` report only
//! new ones (see `baseline.rs`).
//!
//! The baseline is written whatever was found (exit 0); an incomplete scan (unreadable files)
//! still writes it but exits 2, since secrets in the unread files are missing from it.

use crate::baseline::BaselineFile;
use crate::cli::BaselineCmd;
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;

pub fn run(cmd: BaselineCmd) -> Result<ExitCode> {
    match cmd {
        BaselineCmd::Create(args) => write(super::scan::collect(&args)?),
        BaselineCmd::Git(args) => write(super::git::collect(&args)?),
    }
}

fn write(mut s: super::scan::Scanned) -> Result<ExitCode> {
    // JWT linking and the level filters apply; an older baseline or ignore file does not (the new
    // baseline records everything found now).
    let redactor = crate::finding::Redactor::from_findings(&s.findings);
    super::triage(&s.cfg, &mut s.findings, &mut s.summary, false);
    // What the filters judged not to be leaks (`--show-filtered`) is no secret to accept.
    s.findings.retain(|f| f.filtered.is_none());
    // Paths in a baseline come from the repository: no secret and no control character in them.
    for f in &mut s.findings {
        f.clean(&redactor);
    }
    let file = BaselineFile::from_findings(&s.findings);
    let bytes = file.to_json();
    match &s.cfg.output {
        Some(path) => crate::output::write_report(path, &bytes, s.cfg.report_mode, false)
            .with_context(|| format!("cannot write baseline to {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    if !s.cfg.quiet {
        eprintln!(
            "leaksweep: baseline{}: {} secret(s) from {} finding(s) in {} file(s)",
            s.cfg
                .output
                .as_ref()
                .map(|p| format!(" {}", p.display()))
                .unwrap_or_default(),
            file.secrets.len(),
            s.findings.len(),
            s.summary.files
        );
    }
    for e in &s.errors {
        eprintln!(
            "leaksweep: error: {}: {}",
            redactor.clean(&e.path),
            redactor.clean(&e.message)
        );
    }
    if !s.errors.is_empty() {
        eprintln!(
            "leaksweep: {} item(s) could not be read; the baseline is incomplete (exit 2)",
            s.errors.len()
        );
        return Ok(super::ExitStatus::Error.into());
    }
    Ok(ExitCode::SUCCESS)
}
