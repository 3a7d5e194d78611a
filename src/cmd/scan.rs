//! `leaksweep scan [PATH]...`: the working tree (or stdin with `-`).

use crate::cli::ScanCmd;
use crate::config::{ScanConfig, ScanOptions};
use crate::finding::Finding;
use crate::scan::{ScanError, Scanner, Skipped, Summary};
use crate::source::{self, stdin, worktree};
use anyhow::{bail, Result};
use std::path::PathBuf;
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
        .map(ExitCode::from)
    }
}

/// Where the project root of a working-tree scan of `paths` is looked for (see
/// [`crate::project::discover`]): the first path if it is a directory, else that file's
/// directory, else the current directory.
pub fn scan_root(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        Some(p) => match p.parent() {
            Some(d) if !d.as_os_str().is_empty() && d.is_dir() => d.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => PathBuf::from("."),
    }
}

/// Resolves the configuration (the project root found from the first path, see
/// [`crate::project::discover`]) and scans; shared by `scan` and `baseline create`.
pub fn collect(args: &ScanCmd) -> Result<Scanned> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let use_stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if use_stdin && paths.len() > 1 {
        bail!("'-' (standard input) cannot be combined with other paths");
    }
    let root = if use_stdin {
        PathBuf::from(".")
    } else {
        scan_root(&paths)
    };
    let cfg = ScanConfig::resolve_at(&ScanOptions::from(&args.common), &root)?;
    let scanner = Scanner::new(cfg.matcher()?.show_filtered(args.show_filtered));
    let scanned = if use_stdin {
        let input = stdin::Stdin {
            input: std::io::stdin().lock(),
            max_size: cfg.max_file_size,
        };
        source::scan(input, &scanner)?.map(|()| Vec::new())
    } else {
        let walk = worktree::WalkOptions {
            roots: paths,
            respect_ignore: !args.no_ignore,
            max_file_size: cfg.max_file_size,
            threads: cfg.threads,
            archive_depth: args.archive_depth,
        };
        source::scan(walk, &scanner)?
    };
    if !scanned.output.is_empty() && !cfg.quiet {
        eprintln!("leaksweep: {}", ignored_note(&scanned.output));
    }
    let summary = scanned.summary(&scanner);
    Ok(Scanned {
        cfg,
        findings: scanned.findings,
        skipped: scanned.skipped,
        errors: scanned.errors,
        summary,
        expect_input: !use_stdin,
    })
}

/// Files named at most in the note on ignored secret files.
const IGNORED_SHOWN: usize = 5;

/// The note on files that look like secret files and were not scanned because git ignores
/// them: how many, the first few by name, and how to include them.
pub fn ignored_note(ignored: &[String]) -> String {
    let mut names: Vec<String> = ignored
        .iter()
        .take(IGNORED_SHOWN)
        .map(|p| crate::finding::sanitize(p).into_owned())
        .collect();
    if ignored.len() > IGNORED_SHOWN {
        names.push(format!("and {} more", ignored.len() - IGNORED_SHOWN));
    }
    format!(
        "{} git-ignored file(s) that may hold secrets: {}: not scanned, git-ignored; --no-ignore to include",
        ignored.len(),
        names.join(", ")
    )
}
