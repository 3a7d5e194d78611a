//! `leaksweep scan [PATH]...`: the working tree (or stdin with `-`).

use crate::cli::ScanCmd;
use crate::config::ScanConfig;
use crate::finding::Finding;
use crate::scan::{summarize, Collector, ScanError, Scanner, Skipped, Summary};
use crate::source::{stdin, worktree};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: ScanCmd) -> Result<ExitCode> {
    collect(&args)?.report()
}

/// A finished scan (working tree, stdin or history), before triage and reporting.
pub struct Scanned {
    pub cfg: ScanConfig,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanError>,
    pub summary: Summary,
    /// False for stdin (an empty scan is not an error there).
    pub expect_input: bool,
}

impl Scanned {
    /// Triage, report, and the exit code ([`super::finish`]).
    pub fn report(self) -> Result<ExitCode> {
        super::finish(
            &self.cfg,
            self.findings,
            self.skipped,
            self.errors,
            self.summary,
            self.expect_input,
        )
    }
}

/// Resolves the configuration (rooted at the first path when it is a directory, else the current
/// directory) and scans; shared by `scan` and `baseline create`.
pub fn collect(args: &ScanCmd) -> Result<Scanned> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let use_stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if use_stdin && paths.len() > 1 {
        bail!("'-' (standard input) cannot be combined with other paths");
    }
    let root = match paths.first() {
        Some(p) if !use_stdin && p.is_dir() => p.as_path(),
        _ => Path::new("."),
    };
    let cfg = ScanConfig::resolve_at(&args.common, root)?;
    let scanner = Scanner::new(cfg.matcher()?);
    let collector = Collector::default();
    let mode = if use_stdin {
        stdin::scan(
            &mut std::io::stdin().lock(),
            cfg.max_file_size,
            &scanner,
            &collector,
        );
        "stdin"
    } else {
        let opts = worktree::WalkOptions {
            roots: paths,
            respect_ignore: !args.no_ignore,
            max_file_size: cfg.max_file_size,
            threads: cfg.threads,
        };
        worktree::scan(&opts, &scanner, &collector);
        "worktree"
    };
    let (findings, skipped, errors, files, bytes) = collector.finish();
    let summary = summarize(mode, &findings, &skipped, &errors, files, bytes, &scanner);
    Ok(Scanned {
        cfg,
        findings,
        skipped,
        errors,
        summary,
        expect_input: !use_stdin,
    })
}
