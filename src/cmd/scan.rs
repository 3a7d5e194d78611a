//! `leaksweep scan [PATH]...`: the working tree (or stdin with `-`).

use crate::cli::ScanCmd;
use crate::config::ScanConfig;
use crate::scan::{summarize, Collector, Scanner};
use crate::source::{stdin, worktree};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(args: ScanCmd) -> Result<ExitCode> {
    let cfg = ScanConfig::resolve(&args.common)?;
    let scanner = Scanner::new(cfg.matcher()?);
    let collector = Collector::default();
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let use_stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if use_stdin && paths.len() > 1 {
        bail!("'-' (standard input) cannot be combined with other paths");
    }
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
    super::finish(&cfg, findings, skipped, errors, summary, !use_stdin)
}
