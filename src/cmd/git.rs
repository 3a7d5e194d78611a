//! `leaksweep git [REPO]`: the full history of a repository (every ref, every blob once), a
//! commit range (`--since`, `--range`), or the staged changes (`--staged`).

use super::scan::Scanned;
use crate::cli::GitCmd;
use crate::config::{ScanConfig, ScanOptions};
use crate::scan::Scanner;
use crate::source::history::{self, HistoryOptions, HistorySource};
use crate::source::{self, staged};
use anyhow::{Context, Result};
use std::process::ExitCode;

pub fn run(args: GitCmd) -> Result<ExitCode> {
    collect(&args)?.report()
}

/// Scans history (or the index) as `args` say; shared by `git` and `baseline git`.
pub fn collect(args: &GitCmd) -> Result<Scanned> {
    if args.staged {
        return collect_staged(args);
    }
    let filter = crate::import::filters::HistoryFilter::new(
        args.since_date.as_deref(),
        args.until_date.as_deref(),
        &args.path_globs,
    )?;
    let repo = history::discover(args.repo.as_deref())?;
    history::check_object_store(&repo)?;
    // The project config (.leaksweep.toml, .leaksweepignore) lives at the top of the work tree;
    // a bare repository has none unless --config names one.
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut cfg = ScanConfig::resolve_at(&ScanOptions::from(&args.common), &root)?;
    cfg.ignore_errors = args.ignore_errors;
    let scanner = Scanner::new(cfg.matcher()?);

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
        backup_refs: args.include_backups,
    };
    let mut scanned = source::scan(
        HistorySource {
            repo: &repo,
            opts: &opts,
        },
        &scanner,
    )?;
    let hist = &scanned.output;
    if hist.stats.shallow {
        eprintln!(
            "leaksweep: warning: {} is a shallow clone: history is incomplete, and blobs from before \
             the shallow boundary are attributed to the boundary commits (run `git fetch --unshallow`)",
            crate::finding::sanitize(&repo.path().display().to_string())
        );
    }
    // In a range the source already dropped secrets a version inherited from its parents.
    let backups = scanned
        .skipped
        .iter()
        .filter(|s| s.reason == crate::scan::SkipReason::BackupRef)
        .count();
    if backups > 0 {
        eprintln!(
            "leaksweep: warning: skipped {backups} backup ref(s) under refs/leaksweep/ (old history kept by a rewrite \
             until `leaksweep rewrite finish`; a repository that received them by a push publishes them): \
             pass --include-backups to scan them"
        );
    }
    hist.annotate(&repo, &mut scanned.findings, opts.all_locations);
    // The places a blob sits at include paths whose filters hide the finding: not listed.
    for f in &mut scanned.findings {
        if let Some(g) = f.git.as_mut() {
            g.locations
                .retain(|l| !scanner.path_drops(&f.rule_id, &l.path));
        }
    }
    filter.apply(&repo, &mut scanned.findings, cfg.verbose > 0, cfg.quiet);
    let findings = std::mem::take(&mut scanned.findings);
    scanned.findings = history::one_per_secret(&hist.ranks(), findings, opts.all_locations);
    scanned.findings.sort_by_key(|f| f.sort_key());
    let mut summary = scanned.summary(&scanner);
    summary.commits = Some(scanned.output.stats.commits);
    summary.blobs = Some(scanned.output.stats.blobs);
    // An empty range is a normal CI outcome; an empty full history is not.
    Ok(Scanned {
        cfg,
        findings: scanned.findings,
        skipped: scanned.skipped,
        errors: scanned.errors,
        summary,
        expect_input: range.is_none(),
    })
}

/// `--staged`: the index git would commit (found as git finds it: `GIT_DIR`, `GIT_WORK_TREE`,
/// `GIT_INDEX_FILE`; see [`staged::open`]) against HEAD.
fn collect_staged(args: &GitCmd) -> Result<Scanned> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let start = args
        .repo
        .as_deref()
        .map_or_else(|| cwd.clone(), |p| cwd.join(p));
    let (repo, index) = staged::open(&start)?;
    history::check_object_store(&repo)?;
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut cfg = ScanConfig::resolve_at(&ScanOptions::from(&args.common), &root)?;
    cfg.ignore_errors = args.ignore_errors;
    let scanner = Scanner::new(cfg.matcher()?);
    let staged = staged::Staged {
        repo: &repo,
        index: &index,
        max_file_size: cfg.max_file_size,
    };
    let scanned = source::scan(staged, &scanner)?;
    let stats = &scanned.output;
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
    let summary = scanned.summary(&scanner);
    Ok(Scanned {
        cfg,
        findings: scanned.findings,
        skipped: scanned.skipped,
        errors: scanned.errors,
        summary,
        expect_input: false,
    })
}
