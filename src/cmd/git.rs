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
    let repo = history::discover(args.repo.as_deref())?;
    history::check_object_store(&repo)?;
    // The project config (.leaksweep.toml, .leaksweepignore) lives at the top of the work tree;
    // a bare repository has none unless --config names one.
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut cfg = ScanConfig::resolve_at(&args.common, &root)?;
    cfg.ignore_errors = args.ignore_errors;
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
    let mut findings = one_per_secret_and_path(&repo, findings);
    findings.sort_by_key(|f| f.sort_key());
    let mut summary = summarize("git", &findings, &skipped, &errors, files, bytes, &scanner);
    summary.commits = Some(hist.stats.commits);
    summary.blobs = Some(hist.stats.blobs);
    // An empty range is a normal CI outcome; an empty full history is not.
    super::finish(&cfg, findings, skipped, errors, summary, range.is_none())
}

/// History holds a file in many versions, each a different blob: a secret that sat unchanged in
/// `config/.env` for 200 commits would otherwise be reported once per version. Keep one finding per
/// (secret, rule, path): the version from the oldest commit, noting how many versions hold it.
/// Every (commit, path) stays available with `--all-locations`, merged into the kept finding.
fn one_per_secret_and_path(
    repo: &git2::Repository,
    findings: Vec<crate::finding::Finding>,
) -> Vec<crate::finding::Finding> {
    use std::collections::HashMap;
    let commit = |f: &crate::finding::Finding| {
        f.git
            .as_ref()
            .and_then(|g| git2::Oid::from_str(&g.commit).ok())
    };
    let time = |id: Option<git2::Oid>| -> i64 {
        id.and_then(|id| repo.find_commit(id).ok())
            .map_or(i64::MAX, |c| c.time().seconds())
    };
    // Older by topology where one commit descends from the other, else by commit time.
    let older = |a: Option<git2::Oid>, b: Option<git2::Oid>| -> bool {
        match (a, b) {
            (Some(a), Some(b)) if a != b => {
                if repo.graph_descendant_of(b, a).unwrap_or(false) {
                    true
                } else if repo.graph_descendant_of(a, b).unwrap_or(false) {
                    false
                } else {
                    time(Some(a)) < time(Some(b))
                }
            }
            _ => false,
        }
    };
    let mut kept: Vec<(crate::finding::Finding, usize)> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for f in findings {
        let key = (f.secret_id.to_string(), f.rule_id.clone(), f.path.clone());
        match index.get(&key) {
            None => {
                index.insert(key, kept.len());
                kept.push((f, 1));
            }
            Some(&i) => {
                let (k, versions) = &mut kept[i];
                *versions += 1;
                let mut extra = f
                    .git
                    .as_ref()
                    .map(|g| g.locations.clone())
                    .unwrap_or_default();
                let replace = older(commit(&f), commit(k));
                let mut f = f;
                if replace {
                    std::mem::swap(k, &mut f);
                }
                extra.extend(
                    f.git
                        .as_ref()
                        .map(|g| g.locations.clone())
                        .unwrap_or_default(),
                );
                if let Some(g) = k.git.as_mut() {
                    g.locations.extend(extra);
                    g.locations.sort();
                    g.locations.dedup();
                }
            }
        }
    }
    kept.into_iter()
        .map(|(mut f, versions)| {
            if versions > 1 {
                f.notes.push((
                    "versions".into(),
                    format!("{versions} versions of this file hold it"),
                ));
            }
            f
        })
        .collect()
}
