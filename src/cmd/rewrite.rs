//! `leaksweep rewrite plan|apply|verify|finish [REPO]`: remove leaked values from all of history.
//!
//! Inputs: by default a fresh history scan, the same as `leaksweep git REPO` (the history source
//! and the Scanner, quietly, no report), whose findings become targets through
//! [`rewrite::targets_from_findings`]: each distinct secret by secret_id, replaced by
//! `REDACTED:<rule-id>`. Or, instead of the scan, `--from-report` (a JSON report with raw
//! secrets) and/or `--secrets` (filter-repo's literal list). `--remove-path` globs add to either.
//! `plan` and `apply` record the targets without their values (see [`rewrite::TargetsRecord`]);
//! `verify` without inputs recovers the values from that record and a scan that includes the
//! backup refs.
//! Order of effects in `apply`: refuse early (shallow clone, linked worktrees, dirty tree,
//! operation in progress, not a fresh clone), write every new object, write the maps, check the
//! working tree again, back up and move all refs at once (compare-and-swap), rewrite the stash
//! list, then let the working tree follow file by file (never over an edit).
//! An interrupt during the last two waits for them to finish (see
//! [`crate::output::defer_interrupts`]).

use crate::cli::{
    PlanFormat, RewriteAction, RewriteApplyArgs, RewriteCmd, RewriteFinishArgs, RewriteInput,
    RewritePlanArgs, RewriteVerifyArgs,
};
use crate::config::{ScanConfig, ScanOptions};
use crate::finding::Finding;
use crate::rewrite::apply::{self, ApplyOptions};
use crate::rewrite::graph::{BuildOptions, Graph};
use crate::rewrite::{
    self, plan, verify, RemoveSet, Replacer, Target, TargetRecord, TargetsRecord,
};
use crate::scan::Scanner;
use crate::source::history::{self, HistoryOptions};
use anyhow::{bail, Context, Result};
use git2::Repository;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use zeroize::Zeroizing;

pub fn run(cmd: RewriteCmd) -> Result<ExitCode> {
    let threads = match &cmd.action {
        RewriteAction::Plan(a) => a.input.threads,
        RewriteAction::Apply(a) => a.input.threads,
        RewriteAction::Verify(a) => a.input.threads,
        RewriteAction::Finish(_) => None,
    };
    if threads.is_some() {
        crate::config::resolve_threads(threads)?;
    }
    match cmd.action {
        RewriteAction::Plan(a) => run_plan(a),
        RewriteAction::Apply(a) => run_apply(a),
        RewriteAction::Verify(a) => run_verify(a),
        RewriteAction::Finish(a) => run_finish(a),
    }
}

/// The resolved inputs.
struct Inputs {
    repo: Repository,
    /// Path the parallel workers reopen.
    path: PathBuf,
    targets: Vec<Target>,
    remove: RemoveSet,
    /// Where the targets came from (for the record).
    source: String,
    /// `verify` without inputs: recorded targets whose values no scan recovered.
    unrecovered: Vec<TargetRecord>,
}

fn open_repo(repo: Option<&Path>) -> Result<(Repository, PathBuf)> {
    let start = repo.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let r = Repository::discover(&start)
        .with_context(|| format!("{} is not in a git repository", start.display()))?;
    history::check_object_store(&r)?;
    let path = r.path().to_path_buf();
    Ok((r, path))
}

/// Which subcommand resolves its inputs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plan,
    Apply,
    Verify,
}

/// The targets and paths to remove, from the inputs or a fresh history scan; `None` when that
/// scan found nothing and no other input was given.
fn inputs(input: &RewriteInput, mode: Mode) -> Result<Option<Inputs>> {
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
        let findings = super::rotate::read_report(r)?;
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

/// `inputs`, or the run's end (exit 0) when the history scan found nothing to remove.
macro_rules! inputs_or_done {
    ($input:expr, $mode:expr) => {
        match inputs($input, $mode)? {
            Some(inp) => inp,
            None => {
                eprintln!("leaksweep: nothing to rewrite: the history scan found no secret");
                return Ok(ExitCode::SUCCESS);
            }
        }
    };
}

/// The configuration and scanner of `leaksweep git` with no options (the defaults of
/// [`ScanOptions`]), quiet, with the rewrite's rule files and threads.
fn scan_setup(input: &RewriteInput) -> Result<(ScanConfig, Scanner)> {
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
fn history_findings(
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
fn record_targets(inp: &Inputs) -> Result<()> {
    TargetsRecord::new(&inp.source, &inp.targets, &inp.remove).save(&apply::state_dir(&inp.repo))
}

fn warn_if_readable(path: &Path) {
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

fn build_graph(
    inp: &Inputs,
    replacer: &Replacer,
    write: bool,
    threads: Option<usize>,
) -> Result<Graph> {
    Graph::build(
        &inp.repo,
        &inp.path,
        &BuildOptions {
            replacer,
            remove: &inp.remove,
            write_blobs: write,
            threads,
        },
    )
    .context("cannot walk the history")
}

fn run_plan(args: RewritePlanArgs) -> Result<ExitCode> {
    let inp = inputs_or_done!(&args.input, Mode::Plan);
    for p in apply::worktree_problems(&inp.repo)? {
        eprintln!("leaksweep: warning: `rewrite apply` will refuse this repository: {p}");
    }
    let replacer = Replacer::new(&inp.targets)?;
    let graph = build_graph(&inp, &replacer, false, args.input.threads)?;
    let file = args
        .replacements_out
        .clone()
        .unwrap_or_else(|| apply::state_dir(&inp.repo).join("replacements.txt"));
    if !inp.targets.is_empty() {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::output::write_atomic(&file, &rewrite::replacements_file(&inp.targets), true)
            .with_context(|| format!("cannot write {}", file.display()))?;
        if args.replacements_out.is_some() {
            // So that `finish` removes it too: it holds every old value.
            let dir = apply::state_dir(&inp.repo);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let abs = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
            crate::output::write_atomic(
                &dir.join(REPLACEMENTS_OUT),
                abs.as_os_str().as_encoded_bytes(),
                true,
            )
            .with_context(|| format!("cannot write {}", dir.join(REPLACEMENTS_OUT).display()))?;
        }
    }
    record_targets(&inp)?;
    let mut p = plan::build(
        &inp.repo,
        &graph,
        &inp.targets,
        &inp.remove.globs,
        &file.display().to_string(),
    );
    clean_plan(&mut p, &inp.targets);
    let mut out = std::io::stdout().lock();
    match args.format {
        PlanFormat::Text => out.write_all(plan::text(&p).as_bytes())?,
        PlanFormat::Markdown => out.write_all(plan::markdown(&p).as_bytes())?,
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &p)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Masks the targets wherever the plan shows repository text (commit summary, ref and tag
/// names, paths) and escapes control characters in it, as every report does.
fn clean_plan(p: &mut plan::Plan, targets: &[Target]) {
    let r = crate::finding::Redactor::new(targets.iter().map(|t| t.secret.expose()));
    r.clean_in_place(&mut p.repository);
    if let Some(e) = &mut p.earliest_affected {
        r.clean_in_place(&mut e.summary);
    }
    let lists = [
        &mut p.refs_rewritten,
        &mut p.tags_rewritten,
        &mut p.branches_to_rebase,
        &mut p.remove_paths,
    ];
    for s in lists.into_iter().flatten() {
        r.clean_in_place(s);
    }
}

fn run_apply(args: RewriteApplyArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let inp = inputs_or_done!(&args.input, Mode::Apply);
    let repo = &inp.repo;
    let problems = apply::worktree_problems(repo)?;
    let rewritten = apply::rewritten_before(repo)?;
    if !problems.is_empty() {
        // A run killed during its checkout leaves refs new and the working tree half updated.
        let also = if rewritten {
            format!(
                "; this repository was rewritten before (backups in {}): if a rewrite was stopped during its checkout, \
                 `git checkout HEAD -- .` takes the rewritten files",
                apply::backup_repo_path(repo).display()
            )
        } else {
            String::new()
        };
        bail!("refusing to rewrite: {}{also}", problems.join("; "));
    }
    if !args.force {
        let mut fresh = apply::freshness_problems(repo);
        if rewritten {
            fresh.push(format!(
                "backups exist in {}: this repository was rewritten before (run `leaksweep rewrite finish` first)",
                apply::backup_repo_path(repo).display()
            ));
        }
        if !fresh.is_empty() {
            bail!(
                "refusing to rewrite: this does not look like a fresh clone or mirror: {}. \
                 Rewrite a fresh clone (`git clone --mirror URL`), so a mistake costs a re-clone and no work; \
                 or pass --force",
                fresh.join("; ")
            );
        }
    }
    let replacer = Replacer::new(&inp.targets)?;
    let graph = build_graph(&inp, &replacer, !args.dry_run, args.input.threads)?;
    let scanned = started.elapsed();
    let old_head_tree = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_tree().ok())
        .map(|t| t.id());
    // New trees, commits and tags go to an in-memory store first, then into a pack.
    let odb = repo.odb()?;
    let mempack = if args.dry_run {
        None
    } else {
        Some(odb.add_new_mempack_backend(apply::MEMPACK_PRIORITY)?)
    };
    let mut outcome = apply::rewrite(
        repo,
        &graph,
        &replacer,
        &ApplyOptions {
            prune_empty: args.prune_empty,
            dry_run: args.dry_run,
            mempack: mempack.as_ref(),
        },
    )?;
    let rewritten = started.elapsed();
    let anything = !outcome.refs.is_empty() || outcome.stash_entries_rewritten > 0;
    if !args.dry_run && anything {
        apply::write_maps(repo, &outcome)?;
        record_targets(&inp)?;
        // All refs move, and the working tree follows, or nothing moves: an interrupt waits.
        let _step = crate::output::defer_interrupts("the ref update");
        apply::test_hook("before-refs")?;
        // Edits made since the start: refuse before anything moves.
        let dirty = apply::changed_paths(repo)?;
        if !dirty.is_empty() {
            bail!(
                "the working tree changed while rewriting ({}); nothing was moved: commit or stash the changes and run again",
                dirty.join(", ")
            );
        }
        apply::update_refs(repo, &outcome.refs)?;
        apply::rewrite_stash_log(repo, &outcome, &replacer)?;
        apply::test_hook("before-checkout")?;
        let kept = apply::checkout_head(repo, old_head_tree)?;
        if !kept.is_empty() {
            eprintln!(
                "leaksweep: warning: {} file(s) changed while the refs moved and were kept as they are, not checked out: {}; \
                 they (and their index entries) may still hold old content: review them, then `git checkout HEAD -- PATH` to take the rewritten version",
                kept.len(),
                kept.join(", ")
            );
        }
    }
    // Ref names come from the repository: shown with the targets masked, controls escaped.
    let redactor = crate::finding::Redactor::new(inp.targets.iter().map(|t| t.secret.expose()));
    for r in &mut outcome.refs {
        redactor.clean_in_place(&mut r.name);
    }
    let mut out = std::io::stdout().lock();
    if args.format == PlanFormat::Json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        out.write_all(b"\n")?;
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run {
        "would rewrite"
    } else {
        "rewrote"
    };
    writeln!(
        out,
        "leaksweep: {verb} {} of {} commits ({} pruned), {} trees, {} blobs cleaned, {} tags; {} ref(s) {}",
        outcome.commits_rewritten,
        outcome.commits,
        outcome.commits_pruned,
        outcome.trees_written,
        outcome.blobs_cleaned,
        outcome.tags_rewritten,
        outcome.refs.len(),
        if args.dry_run { "would move" } else { "moved" }
    )?;
    for r in &outcome.refs {
        writeln!(
            out,
            "  {} {} -> {}",
            r.name,
            &r.old[..12],
            r.new.as_deref().map_or("(deleted)", |n| &n[..12])
        )?;
        if let Some(to) = &r.renamed_to {
            writeln!(out, "    renamed to {to} (it replaces a rewritten commit)")?;
        }
    }
    if outcome.stash_entries_rewritten > 0 {
        writeln!(
            out,
            "  stash entries rewritten: {} (same order, same messages)",
            outcome.stash_entries_rewritten
        )?;
    }
    if outcome.signed_commits_dropped + outcome.signed_tags_dropped > 0 {
        writeln!(
            out,
            "  signatures dropped (they cannot verify any more): {} commit(s), {} tag(s)",
            outcome.signed_commits_dropped, outcome.signed_tags_dropped
        )?;
    }
    if args.dry_run {
        writeln!(out, "leaksweep: dry run: nothing was written")?;
    } else if !anything {
        writeln!(
            out,
            "leaksweep: nothing to rewrite: no ref reaches a target"
        )?;
    } else {
        let dir = apply::state_dir(repo);
        writeln!(
            out,
            "leaksweep: old refs kept in {} (outside refs/: no push can send them); commit-map and ref-map in {}\n\
             next: leaksweep rewrite verify{}, then leaksweep rewrite finish, then force-push every moved ref",
            apply::backup_repo_path(repo).display(),
            dir.display(),
            if inp.source == "history scan" {
                " (no inputs needed: the targets are recorded)"
            } else {
                " (same inputs)"
            }
        )?;
    }
    eprintln!(
        "leaksweep: {} unique blobs ({} bytes) searched in {:.1}s; {} objects rewritten and packed in {:.1}s; total {:.1}s",
        graph.blobs_scanned,
        graph.bytes_scanned,
        scanned.as_secs_f64(),
        outcome.written.len(),
        (rewritten - scanned).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_verify(args: RewriteVerifyArgs) -> Result<ExitCode> {
    let inp = inputs_or_done!(&args.input, Mode::Verify);
    let (cfg, scanner) = scan_setup(&args.input)?;
    let recorded = TargetsRecord::load(&apply::state_dir(&inp.repo))?
        .map(|r| r.targets)
        .unwrap_or_default();
    let mut v = verify::verify(
        &inp.repo,
        &inp.path,
        &verify::Inputs {
            targets: &inp.targets,
            recorded: &recorded,
            remove: &inp.remove,
            scanner: &scanner,
            max_file_size: cfg.max_file_size,
        },
        args.include_unreachable,
        args.input.threads,
    )?;
    if !inp.unrecovered.is_empty() {
        let backups = apply::backups_exist(&inp.repo);
        for r in &inp.unrecovered {
            let what = format!(
                "recorded target {} ({}, {} chars)",
                &r.secret_id.as_str()[..16],
                r.rule_id,
                r.length
            );
            if backups {
                v.problems.push(format!(
                    "{what}: a scan of every ref, backups included, does not find its value, so it cannot be searched for; \
                     pass the inputs of the rewrite again (--secrets / --from-report)"
                ));
            } else {
                v.notes.push(format!(
                    "{what}: not found by a scan of every ref (the backups are gone, so only the rules could look for it)"
                ));
            }
        }
    }
    // Notes and problems name paths and refs of the repository.
    let redactor = crate::finding::Redactor::new(inp.targets.iter().map(|t| t.secret.expose()));
    for s in v.notes.iter_mut().chain(v.problems.iter_mut()) {
        redactor.clean_in_place(s);
    }
    let mut out = std::io::stdout().lock();
    for n in &v.notes {
        writeln!(out, "  {n}")?;
    }
    if v.problems.is_empty() {
        writeln!(
            out,
            "leaksweep: verified: no secret held outside the backups by any ref, worktree, index, reflog or file, same topology, every other byte unchanged"
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &v.problems {
            writeln!(out, "  FAIL {p}")?;
        }
        writeln!(
            out,
            "leaksweep: verification failed ({} problem(s))",
            v.problems.len()
        )?;
        Ok(ExitCode::from(1))
    }
}

/// A raw ref name as an argument.
fn os_from_bytes(raw: &[u8]) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(raw).to_os_string()
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(raw).into_owned().into()
    }
}

fn git(repo_dir: &Path, args: &[&str]) -> Result<()> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    git_os(repo_dir, &args)
}

fn git_os(repo_dir: &Path, args: &[&std::ffi::OsStr]) -> Result<()> {
    // Standard streams are not inherited: git's repack misreads an inherited regular-file stdout
    // in some environments, and its chatter is not ours to print.
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo_dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!("git is not installed (needed for reflog expire and gc); install git or run `git reflog expire --expire=now --all && git gc --prune=now` elsewhere")
            } else {
                anyhow::Error::from(e)
            }
        })?;
    if !out.status.success() {
        bail!(
            "`git {}` failed ({}): {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Name of the default replacements file of `plan` under `<gitdir>/leaksweep/`.
const REPLACEMENTS_FILE: &str = "replacements.txt";
/// Under `<gitdir>/leaksweep/`: where `plan --replacements-out` wrote the replacements file.
const REPLACEMENTS_OUT: &str = "replacements-out";
/// Under `<gitdir>/leaksweep/`: written by `finish` once the old objects are pruned.
const FINISHED_FILE: &str = "finished";

/// Whether `bytes` look like a replacements file of `plan` (every line `value==>replacement`):
/// `finish` removes a file it was told about only if it does.
fn is_replacements_file(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .all(|l| memchr::memmem::find(l, b"==>").is_some())
}

/// Removes the replacements files `plan` wrote (they hold every old value in plain text):
/// the default one under `dir` and the one `--replacements-out` named. Returns those removed.
fn remove_replacements(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut candidates = vec![dir.join(REPLACEMENTS_FILE)];
    let pointer = dir.join(REPLACEMENTS_OUT);
    if let Ok(raw) = std::fs::read(&pointer) {
        #[cfg(unix)]
        let out = {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&raw))
        };
        #[cfg(not(unix))]
        let out = PathBuf::from(String::from_utf8_lossy(&raw).into_owned());
        candidates.push(out);
    }
    for file in candidates {
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        let bytes = Zeroizing::new(std::fs::read(&file).unwrap_or_default());
        if !meta.is_file() || !is_replacements_file(&bytes) {
            eprintln!(
                "leaksweep: warning: {} is not a replacements file any more; left alone",
                file.display()
            );
            continue;
        }
        std::fs::remove_file(&file).with_context(|| {
            format!("cannot remove {} (it holds the old values)", file.display())
        })?;
        removed.push(file);
    }
    match std::fs::remove_file(&pointer) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", pointer.display())),
    }
    Ok(removed)
}

fn run_finish(args: RewriteFinishArgs) -> Result<ExitCode> {
    let (repo, path) = open_repo(args.repo.as_deref())?;
    let backups = apply::backup_refs(&repo)?;
    let state = apply::state_dir(&repo);
    // Expiring every reflog and pruning what no ref reaches loses work (a reset, an amended
    // commit, a dropped stash) unless that is what a recorded rewrite left behind.
    let mapped = apply::read_commit_map(&repo)?.is_some();
    // Finished, unless a later `apply` wrote a new commit-map since.
    let modified = |f: &str| {
        std::fs::metadata(state.join(f))
            .and_then(|m| m.modified())
            .ok()
    };
    let finished = match (modified(FINISHED_FILE), modified("commit-map")) {
        (Some(done), Some(map)) => done >= map,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if backups.is_empty() && (!mapped || finished) {
        bail!(
            "no rewrite is recorded in {} to finish (no backups{}): \
             `finish` expires every reflog and prunes unreachable commits, which here would be work \
             you may still need; nothing done",
            path.display(),
            if finished {
                ", and the last rewrite was finished already"
            } else {
                ", no commit-map from `rewrite apply`"
            }
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "finish deletes the backups ({} ref(s) in {}) and prunes the old objects for good; \
                 pass --yes to confirm (standard input is not a terminal, so I cannot ask)",
                backups.len(),
                apply::backup_repo_path(&repo).display()
            );
        }
        eprint!(
            "Delete {} backup ref(s) in {}, expire all reflogs and prune old objects in {}? This cannot be undone. [y/N] ",
            backups.len(),
            apply::backup_repo_path(&repo).display(),
            path.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("leaksweep: nothing done");
            return Ok(ExitCode::from(1));
        }
    }
    apply::remove_backups(&repo)?;
    // Old-style backup refs whose names are not UTF-8 (libgit2 looks refs up by UTF-8 name
    // only): git deletes them by raw name.
    let leftover: Vec<Vec<u8>> = repo
        .references()?
        .flatten()
        .map(|r| r.name_bytes().to_vec())
        .filter(|n| n.starts_with(apply::BACKUP_PREFIX.as_bytes()))
        .collect();
    for raw in &leftover {
        git_os(
            &path,
            &[
                std::ffi::OsStr::new("update-ref"),
                std::ffi::OsStr::new("-d"),
                &os_from_bytes(raw),
            ],
        )?;
    }
    let removed = remove_replacements(&state)?;
    for f in &removed {
        eprintln!(
            "leaksweep: removed {} (it held the old values)",
            f.display()
        );
    }
    let temps = remove_pack_temps(&repo);
    if temps > 0 {
        eprintln!("leaksweep: removed {temps} temporary pack file(s) left by a killed run");
    }
    git(&path, &["reflog", "expire", "--expire=now", "--all"])?;
    git(&path, &["gc", "--prune=now", "--quiet"])?;
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    crate::output::write_atomic(&state.join(FINISHED_FILE), b"finished\n", true)
        .with_context(|| format!("cannot write {}", state.join(FINISHED_FILE).display()))?;
    println!(
        "leaksweep: removed {} backup ref(s), expired reflogs, pruned unreachable objects. \
         Next: force-push every rewritten ref, ask your host to purge cached refs, and have everyone re-clone.",
        backups.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes the temporary files of a pack whose writing was killed (libgit2 names them
/// `pack_git2_*` until the final rename): nothing refers to them. Returns how many.
fn remove_pack_temps(repo: &git2::Repository) -> usize {
    let dir = repo.commondir().join("objects").join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("pack_git2_"))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}
