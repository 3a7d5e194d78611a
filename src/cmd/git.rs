//! `leaksweep git [REPO]`: the full history of a repository (every ref, every blob once), a
//! commit range (`--since`, `--range`), or the staged changes (`--staged`).

use super::scan::Scanned;
use crate::cli::GitCmd;
use crate::config::{ScanConfig, ScanOptions};
use crate::finding::{Finding, GitLocation, SecretId};
use crate::scan::{summarize, Collector, Scanner};
use crate::source::history::{self, HistoryOptions};
use crate::source::staged;
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
    let collector = Collector::default();

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
    let hist = history::scan(&repo, &opts, &scanner, &collector)?;
    if hist.stats.shallow {
        eprintln!(
            "leaksweep: warning: {} is a shallow clone: history is incomplete, and blobs from before \
             the shallow boundary are attributed to the boundary commits (run `git fetch --unshallow`)",
            crate::finding::sanitize(&repo.path().display().to_string())
        );
    }
    // In a range the source already dropped secrets a version inherited from its parents.
    let (mut findings, skipped, errors, files, bytes) = collector.finish();
    let backups = skipped
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
    hist.annotate(&repo, &mut findings, opts.all_locations);
    // The places a blob sits at include paths whose filters hide the finding: not listed.
    for f in &mut findings {
        if let Some(g) = f.git.as_mut() {
            g.locations
                .retain(|l| !scanner.path_drops(&f.rule_id, &l.path));
        }
    }
    filter.apply(&repo, &mut findings, cfg.verbose > 0, cfg.quiet);
    let mut findings = one_per_secret(&hist, findings, opts.all_locations);
    findings.sort_by_key(|f| f.sort_key());
    let mut summary = summarize("git", &findings, &skipped, &errors, files, bytes, &scanner);
    summary.commits = Some(hist.stats.commits);
    summary.blobs = Some(hist.stats.blobs);
    // An empty range is a normal CI outcome; an empty full history is not.
    Ok(Scanned {
        cfg,
        findings,
        skipped,
        errors,
        summary,
        expect_input: range.is_none(),
    })
}

/// History reports each leaked secret once: one finding per (secret, rule), at the place that
/// introduced it first (earliest commit in the topological walk, then path), because in history
/// the unit of work is the secret (rotate it once, purge it once), not the file version. A
/// secret that sat in `config/.env` for 200 commits and was copied to `deploy/.env` is one
/// finding, not 200 or 2.
///
/// `git.locations` lists the other places: each other path (at the oldest commit holding the
/// secret there), or with `--all-locations` every (commit, path) of every blob that holds it. The
/// `versions` note counts the file versions and paths that hold it.
fn one_per_secret(
    hist: &history::History,
    findings: Vec<Finding>,
    all_locations: bool,
) -> Vec<Finding> {
    use std::collections::HashMap;
    // Older = earlier in the topological walk (an ancestor always ranks first); commits outside
    // the walk (tag messages) rank last. Then by path and line, so the choice does not depend on
    // the order the threads finished in.
    let ranks = hist.ranks();
    let rank_of = |commit: &str| {
        git2::Oid::from_str(commit)
            .ok()
            .and_then(|id| ranks.get(&id).copied())
            .unwrap_or(usize::MAX)
    };
    let rank = |f: &Finding| f.git.as_ref().map_or(usize::MAX, |g| rank_of(&g.commit));
    let older = |a: &Finding, b: &Finding| (rank(a), &a.path, a.line) < (rank(b), &b.path, b.line);

    // Group, keeping per group the oldest finding of each path.
    let mut groups: Vec<(Vec<Finding>, Vec<GitLocation>, usize)> = Vec::new();
    let mut index: HashMap<(SecretId, String), usize> = HashMap::new();
    // (group, path) -> position in that group's per-path list.
    let mut slots: HashMap<(usize, String), usize> = HashMap::new();
    for f in findings {
        let key = (f.secret_id.clone(), f.rule_id.clone());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push((Vec::new(), Vec::new(), 0));
            groups.len() - 1
        });
        let (per_path, all, versions) = &mut groups[i];
        // The history scan already folded the versions of one path into one finding.
        *versions += f.git.as_ref().map_or(1, |g| g.versions.max(1));
        if all_locations {
            if let Some(g) = f.git.as_ref() {
                all.extend(g.locations.iter().map(|l| GitLocation {
                    line: l.line.or(Some(f.line)),
                    ..l.clone()
                }));
            }
        }
        match slots.get(&(i, f.path.clone())) {
            None => {
                slots.insert((i, f.path.clone()), per_path.len());
                per_path.push(f);
            }
            Some(&j) => {
                if older(&f, &per_path[j]) {
                    per_path[j] = f;
                }
            }
        }
    }

    let mut out = Vec::with_capacity(groups.len());
    for (mut per_path, mut all, versions) in groups {
        let mut first = 0;
        for j in 1..per_path.len() {
            if older(&per_path[j], &per_path[first]) {
                first = j;
            }
        }
        let mut kept = per_path.swap_remove(first);
        // Reported where it came first, judged by its strongest path: a secret first seen in a
        // test fixture and copied to a real config is not a test value there.
        for other in &per_path {
            if (other.severity, other.confidence) > (kept.severity, kept.confidence) {
                kept.severity = other.severity;
                kept.confidence = other.confidence;
                kept.notes
                    .retain(|(k, v)| !(k == "context" && v == "test or example path"));
                kept.notes.push((
                    "context".into(),
                    format!("also at {}, not a test or example path", other.path),
                ));
            }
        }
        let paths = per_path.len() + 1;
        if !all_locations {
            all = per_path
                .iter()
                .filter_map(|f| {
                    let g = f.git.as_ref()?;
                    Some(GitLocation {
                        commit: g.commit.clone(),
                        path: f.path.clone(),
                        line: Some(f.line),
                    })
                })
                .collect();
        }
        all.sort();
        all.dedup();
        // Oldest first, then by path.
        all.sort_by_cached_key(|l| (rank_of(&l.commit), l.path.clone(), l.line, l.commit.clone()));
        if versions > 1 {
            let what = if paths == 1 {
                format!("{versions} versions of this file hold it")
            } else {
                format!("{versions} file versions in {paths} paths hold it")
            };
            kept.notes.push(("versions".into(), what));
        }
        if let Some(g) = kept.git.as_mut() {
            g.locations = all;
        }
        out.push(kept);
    }
    out
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
    let collector = Collector::default();
    let stats = staged::scan(&repo, &index, cfg.max_file_size, &scanner, &collector)?;
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
    Ok(Scanned {
        cfg,
        findings,
        skipped,
        errors,
        summary,
        expect_input: false,
    })
}
