//! What a rewrite removes: the targets and paths, from a fresh history scan, a JSON report, a
//! `--secrets` file, or (for `verify` without inputs) the targets record and a scan that
//! includes the backups.

use crate::cli::RewriteInput;
use crate::config::{ScanConfig, ScanOptions};
use crate::finding::Finding;
use crate::rewrite::apply;
use crate::rewrite::{self, RemoveSet, Target, TargetRecord, TargetsRecord};
use crate::scan::Scanner;
use crate::source::history::{self, HistoryOptions};
use anyhow::{bail, Context, Result};
use git2::Repository;
use std::path::{Path, PathBuf};
use std::time::Instant;
use zeroize::Zeroizing;

/// The resolved inputs.
pub(super) struct Inputs {
    pub(super) repo: Repository,
    /// Path the parallel workers reopen.
    pub(super) path: PathBuf,
    pub(super) targets: Vec<Target>,
    pub(super) remove: RemoveSet,
    /// Where the targets came from (for the record).
    pub(super) source: String,
    /// `verify` without inputs: recorded targets whose values no scan recovered.
    pub(super) unrecovered: Vec<TargetRecord>,
}

pub(super) fn open_repo(repo: Option<&Path>) -> Result<(Repository, PathBuf)> {
    let r = history::discover(repo)?;
    history::check_object_store(&r)?;
    let path = r.path().to_path_buf();
    Ok((r, path))
}

/// Which subcommand resolves its inputs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Plan,
    Apply,
    Verify,
}

/// The targets and paths to remove, from the inputs or a fresh history scan; `None` when that
/// scan found nothing and no other input was given.
pub(super) fn inputs(input: &RewriteInput, mode: Mode) -> Result<Option<Inputs>> {
    let (repo, path) = open_repo(input.repo.as_deref())?;
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    let mut unrecovered = Vec::new();
    let mut remove_globs = input.remove_path.clone();
    if input.from_report.is_none() && input.secrets.is_none() && !input.no_scan {
        if mode == Mode::Verify {
            let Some(record) = TargetsRecord::load(&apply::state_dir(&repo))? else {
                bail!(
                    "nothing to verify: no targets recorded in {} (run `leaksweep rewrite plan` or `apply` first), \
                     or pass the inputs of the rewrite: --from-report FILE, --secrets FILE, --remove-path GLOB",
                    apply::state_dir(&repo).display()
                );
            };
            // The values are recovered in memory from a scan that includes the backups.
            let mut findings = history_findings(&repo, input, true)?;
            // The backups live in their own repository (see `apply::backup_repo_path`).
            let backup = apply::backup_repo_path(&repo);
            if backup.exists() {
                let b = Repository::open_bare(&backup).with_context(|| {
                    format!("cannot open the backup repository {}", backup.display())
                })?;
                findings.extend(history_findings(&b, input, true)?);
            }
            let (found, missing) = record.recover(&findings);
            targets = found;
            unrecovered = missing;
            if remove_globs.is_empty() {
                remove_globs = record.remove_path.clone();
            }
            sources.push("recorded targets");
        } else {
            let findings = history_findings(&repo, input, false)?;
            targets = rewrite::targets_from_findings_with(&findings, &input.replacement);
            sources.push("history scan");
        }
    }
    if let Some(r) = &input.from_report {
        let findings = crate::cmd::rotate::read_report(r)?;
        targets.extend(rewrite::targets_from_findings_with(
            &findings,
            &input.replacement,
        ));
        sources.push("report");
    }
    if let Some(f) = &input.secrets {
        let bytes = Zeroizing::new(
            std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?,
        );
        warn_if_readable(f);
        targets.extend(
            rewrite::parse_secrets_file(&bytes, &input.replacement)
                .with_context(|| format!("{}", f.display()))?,
        );
        sources.push("secrets file");
    }
    let targets = rewrite::dedup_targets(targets);
    let remove = RemoveSet::new(&remove_globs)?;
    if mode != Mode::Verify
        && sources == ["history scan"]
        && targets.is_empty()
        && remove.is_empty()
    {
        // A clean history is not an error: there is nothing to do.
        return Ok(None);
    }
    if (mode != Mode::Verify || input.no_scan) && targets.is_empty() && remove.is_empty() {
        bail!(
            "nothing to remove: no secret found (or --no-scan); pass --from-report FILE (a `leaksweep scan --format json --show-secrets` report), \
             --secrets FILE (one literal per line, `literal` or `literal==>replacement`), and/or --remove-path GLOB"
        );
    }
    Ok(Some(Inputs {
        repo,
        path,
        targets,
        remove,
        source: sources.join(", "),
        unrecovered,
    }))
}

/// The configuration and scanner of `leaksweep git` with no options (the defaults of
/// [`ScanOptions`]), quiet, with the rewrite's rule files and threads.
pub(super) fn scan_setup(input: &RewriteInput) -> Result<(ScanConfig, Scanner)> {
    let opts = ScanOptions {
        quiet: true,
        threads: input.threads,
        rule_files: input.rule_files.clone(),
        ..ScanOptions::default()
    };
    let cfg = ScanConfig::resolve(&opts)?;
    let scanner = Scanner::new(cfg.matcher()?);
    Ok((cfg, scanner))
}

/// The history scan of `leaksweep git REPO`, quietly and without a report: every ref except
/// `refs/leaksweep/` (with `backup_refs`, those too). Unreadable objects are counted on stderr:
/// a secret in one of them would not be replaced.
pub(super) fn history_findings(
    repo: &Repository,
    input: &RewriteInput,
    backup_refs: bool,
) -> Result<Vec<Finding>> {
    let started = Instant::now();
    let (cfg, scanner) = scan_setup(input)?;
    let opts = HistoryOptions {
        max_file_size: cfg.max_file_size,
        threads: cfg.threads,
        backup_refs,
        archive_depth: crate::archive::DEFAULT_DEPTH,
        ..HistoryOptions::default()
    };
    let source = history::HistorySource { repo, opts: &opts };
    let crate::source::Collected {
        findings,
        skipped,
        errors,
        output: hist,
        ..
    } = crate::source::scan(source, &scanner)?;
    let backups_skipped = skipped
        .iter()
        .filter(|s| s.reason == crate::scan::SkipReason::BackupRef)
        .count();
    if !errors.is_empty() {
        eprintln!(
            "leaksweep: warning: the history scan could not read {} item(s) (first: {}: {}); secrets in them are not targets",
            errors.len(),
            errors[0].path,
            errors[0].message
        );
    }
    let distinct = findings
        .iter()
        .map(|f| &f.secret_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "leaksweep: history scan{}: {} commits, {} unique blobs, {} finding(s), {} distinct secret(s) in {:.1}s",
        match (backup_refs, backups_skipped) {
            (true, _) => " (backup refs included)".to_string(),
            (false, 0) => String::new(),
            (false, n) => format!(" ({n} backup ref(s) under refs/leaksweep/ skipped)"),
        },
        hist.stats.commits,
        hist.stats.blobs,
        findings.len(),
        distinct,
        started.elapsed().as_secs_f64()
    );
    Ok(findings)
}

/// Records the targets (no values) for `verify` without inputs.
pub(super) fn record_targets(inp: &Inputs) -> Result<()> {
    TargetsRecord::new(&inp.source, &inp.targets, &inp.remove).save(&apply::state_dir(&inp.repo))
}

pub(super) fn warn_if_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "leaksweep: warning: {} holds secrets and is readable by others: chmod 600 it",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
