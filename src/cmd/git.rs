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
    if let Some(list) = &args.repos {
        return run_repos(&args, list);
    }
    if let Some(shard) = args.shard {
        return run_shard(&args, shard);
    }
    collect(&args)?.report()
}

/// `--repos FILE`: every listed repository scanned as `git REPO` would scan it (its own project
/// config, triage and baseline), one after the other, into one report with one entry per secret
/// (see [`crate::repos`]). A repository that cannot be scanned is named on stderr and in the
/// report, the others go on, and the run exits 2 at the end.
fn run_repos(args: &GitCmd, list: &std::path::Path) -> Result<ExitCode> {
    let repos = crate::repos::read_list(list)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut cfg = ScanConfig::resolve_at(&ScanOptions::from(&args.common), &cwd)?;
    let started = std::time::Instant::now();
    let mut audit = crate::repos::Audit::default();
    for (i, repo) in repos.iter().enumerate() {
        let at = std::time::Instant::now();
        let one = GitCmd {
            repo: Some(repo.into()),
            repos: None,
            ..args.clone()
        };
        let head = format!(
            "[{}/{}] {}",
            i + 1,
            repos.len(),
            crate::finding::sanitize(repo)
        );
        match collect(&one) {
            Ok(scanned) => {
                let Scanned {
                    cfg: own,
                    mut findings,
                    skipped,
                    errors,
                    mut summary,
                    ..
                } = scanned;
                audit.remember(&findings);
                super::triage(&own, &mut findings, &mut summary, true);
                let line = audit.add(repo, findings, skipped, errors, &summary);
                if !cfg.quiet {
                    eprintln!(
                        "leaksweep: {head}: {} secret{}, {:.2} s",
                        line.secrets,
                        if line.secrets == 1 { "" } else { "s" },
                        at.elapsed().as_secs_f64()
                    );
                }
            }
            Err(e) => {
                let message = failure(&e);
                if !cfg.quiet {
                    eprintln!(
                        "leaksweep: {head}: error: {}",
                        crate::finding::sanitize(&message)
                    );
                }
                audit.fail(repo, message);
            }
        }
    }
    let failed = audit.failed();
    let elapsed = started.elapsed();
    let (report, redactor) = audit.finish(cfg.report.show_secrets, elapsed.as_millis() as u64);
    if !cfg.quiet {
        let s = &report.summary;
        eprintln!(
            "leaksweep: {} repositories ({failed} failed): {} secret{}, {} in more than one repository, {:.1} s",
            repos.len(),
            s.secrets,
            if s.secrets == 1 { "" } else { "s" },
            crate::repos::shared_secrets(&report.findings),
            elapsed.as_secs_f64()
        );
    }
    if failed > 0 {
        eprintln!(
            "leaksweep: {failed} of {} repositories could not be scanned (exit 2)",
            repos.len()
        );
        // A repository missing from the audit is never a pass, --ignore-errors or not.
        cfg.ignore_errors = false;
    } else {
        cfg.ignore_errors = args.ignore_errors;
    }
    let expect_input = args.range.is_none() && args.since.is_none();
    super::publish(&cfg, report, &redactor, expect_input).map(ExitCode::from)
}

/// Why a repository could not be scanned, on one line as an error entry holds it.
fn failure(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let lines: Vec<String> = text.lines().map(super::tidy).collect();
    lines.join("; ")
}

/// A history scan up to its last step (one finding per secret), where a shard stops.
struct Gathered {
    cfg: ScanConfig,
    scanner: Scanner,
    scanned: source::Collected<history::History>,
    all_locations: bool,
    expect_input: bool,
}

/// Scans history (or the index) as `args` say; shared by `git` and `baseline git`.
pub fn collect(args: &GitCmd) -> Result<Scanned> {
    if args.repos.is_some() {
        anyhow::bail!("--repos is for `leaksweep git` (one report of many repositories); scan one repository here");
    }
    if args.staged {
        return collect_staged(args);
    }
    let Gathered {
        cfg,
        scanner,
        mut scanned,
        all_locations,
        expect_input,
    } = gather(args)?;
    let findings = std::mem::take(&mut scanned.findings);
    scanned.findings = history::one_per_secret(&scanned.output.ranks(), findings, all_locations);
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
        expect_input,
    })
}

/// `--shard I/N`: scan one shard and write its shard report (see [`crate::shard`]); exit 0 when
/// it was written: the findings and the exit status are the merge's to give.
fn run_shard(args: &GitCmd, shard: crate::git::id::Shard) -> Result<ExitCode> {
    if let Some(f) = args.common.format {
        if f != crate::report::Format::Jsonl {
            anyhow::bail!(
                "--shard writes a shard report (JSON Lines) for `leaksweep merge`; drop --format, \
                 or pass --format jsonl, and choose the format on the merge"
            );
        }
    }
    let g = gather(args)?;
    let show = g.cfg.report.show_secrets;
    // Without the values the merge cannot verify tokens against keys: verify here what this
    // shard holds, and let the merge annotate (after its fold, as an unsharded scan does).
    let links = if show {
        Vec::new()
    } else {
        crate::matcher::jwt_link::verified_pairs(&g.scanned.findings)
            .into_iter()
            .map(|(t, s)| (t.to_string(), s.to_string()))
            .collect()
    };
    let redactor = if show {
        crate::finding::Redactor::new([])
    } else {
        crate::finding::Redactor::from_findings(&g.scanned.findings)
    };
    let mut report = crate::scan::Report {
        findings: g.scanned.findings,
        skipped: g.scanned.skipped,
        errors: g.scanned.errors,
        summary: Default::default(),
    };
    crate::report::clean(&mut report, &redactor);
    let ranks = g.scanned.output.ranks();
    let mut named = std::collections::BTreeMap::new();
    for f in &report.findings {
        let Some(gp) = f.git.as_ref() else { continue };
        for c in std::iter::once(&gp.commit).chain(gp.locations.iter().map(|l| &l.commit)) {
            let rank = ranks.of_hex(c);
            if rank != usize::MAX {
                named.insert(c.clone(), rank);
            }
        }
    }
    let header = crate::shard::Header {
        format: crate::shard::FORMAT,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        shard: shard.to_string(),
        walk: g.scanned.output.walk_digest(),
        commits: g.scanned.output.stats.commits,
        blobs: g.scanned.output.stats.blobs,
        files: g.scanned.files,
        bytes: g.scanned.bytes,
        suppressed_inline: g
            .scanner
            .suppressed_inline
            .load(std::sync::atomic::Ordering::Relaxed),
        rules: g.scanner.matcher.rules().len() as u64,
        duration_ms: g.scanner.elapsed_ms(),
        all_locations: g.all_locations,
        expect_input: g.expect_input,
        secrets: show,
        ranks: named,
        links,
    };
    let buf = crate::shard::write(&header, &report.findings, &report.skipped, &report.errors)?;
    match &g.cfg.output {
        Some(path) => crate::output::write_report(path, &buf, g.cfg.report_mode, show)
            .with_context(|| format!("cannot write the shard report to {}", path.display()))?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)
                .and_then(|()| out.flush())
                .context("cannot write the shard report to standard output")?;
        }
    }
    if !g.cfg.quiet {
        eprintln!(
            "leaksweep: shard {shard}: {} findings before merging, {} blobs of {} commits ({} files, {} bytes), {} skipped, {} errors, {} ms",
            report.findings.len(),
            header.blobs,
            header.commits,
            header.files,
            header.bytes,
            report.skipped.len(),
            report.errors.len(),
            header.duration_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Everything of a history scan but its last step.
fn gather(args: &GitCmd) -> Result<Gathered> {
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
    let scanner = Scanner::new(cfg.matcher()?.show_filtered(args.show_filtered));

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
        shard: args.shard,
        archive_depth: args.archive_depth,
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
    Ok(Gathered {
        cfg,
        scanner,
        scanned,
        all_locations: opts.all_locations,
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
    let scanner = Scanner::new(cfg.matcher()?.show_filtered(args.show_filtered));
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
