//! `leaksweep git [REPO]`: the full history of a repository (every ref, every blob once), a
//! commit range (`--since`, `--range`), or the staged changes (`--staged`).

use crate::cli::GitCmd;
use crate::config::ScanConfig;
use crate::scan::{summarize, Collector, Scanner};
use crate::source::history::{self, HistoryOptions};
use crate::source::staged;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(args: GitCmd) -> Result<ExitCode> {
    let mut cfg = ScanConfig::resolve(&args.common)?;
    cfg.ignore_errors = args.ignore_errors;
    let repo = history::discover(args.repo.as_deref())?;
    let scanner = Scanner::new(cfg.matcher()?);
    let collector = Collector::default();

    if args.staged {
        let stats = staged::scan(&repo, cfg.max_file_size, &scanner, &collector)?;
        let (findings, skipped, errors, files, bytes) = collector.finish();
        if stats.staged > 0 && stats.read == 0 {
            // Fail closed: something is staged and nothing of it could be checked.
            eprintln!(
                "leaksweep: {} staged file(s) but none could be read; refusing to pass",
                stats.staged
            );
            cfg.ignore_errors = false;
        }
        if stats.conflicts > 0 {
            // An unresolved conflict cannot be committed: say so rather than pass it.
            cfg.ignore_errors = false;
        }
        let summary = summarize(
            "staged", &findings, &skipped, &errors, files, bytes, &scanner,
        );
        return super::finish(&cfg, findings, skipped, errors, summary, false);
    }

    let range = match (&args.range, &args.since) {
        (Some(spec), _) => Some(history::parse_range(&repo, spec)?),
        (None, Some(rev)) => Some((rev.clone(), "HEAD".to_string())),
        (None, None) => None,
    };
    let opts = HistoryOptions {
        range: range.clone(),
        include_unreachable: args.include_unreachable,
        all_locations: args.all_locations,
        max_file_size: cfg.max_file_size,
        threads: cfg.threads,
        progress: cfg.progress,
        timings: cfg.verbose >= 2,
        backup_refs: false,
    };
    let hist = history::scan(&repo, &opts, &scanner, &collector)?;
    if hist.stats.shallow {
        eprintln!(
            "leaksweep: warning: {} is a shallow clone: history is incomplete, and blobs from before \
             the shallow boundary are attributed to the boundary commits (run `git fetch --unshallow`)",
            repo.path().display()
        );
    }
    let (mut findings, skipped, errors, files, bytes) = collector.finish();
    if range.is_some() {
        hist.drop_inherited(&repo, &mut findings, &scanner);
    }
    hist.annotate(&repo, &mut findings, opts.all_locations);
    findings.sort_by_key(|f| f.sort_key());
    let mut summary = summarize("git", &findings, &skipped, &errors, files, bytes, &scanner);
    summary.commits = Some(hist.stats.commits);
    summary.blobs = Some(hist.stats.blobs);
    // An empty range is a normal CI outcome; an empty full history is not.
    super::finish(&cfg, findings, skipped, errors, summary, range.is_none())
}
