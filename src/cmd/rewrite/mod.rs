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
//!
//! The parts: [`inputs`] resolves what to remove (a history scan, a report, a secrets file, the
//! record), and [`finish`] ends a rewrite (backups, reflogs, gc, the replacements files).

mod finish;
mod inputs;

use crate::cli::{
    PlanFormat, RewriteAction, RewriteApplyArgs, RewriteCmd, RewritePlanArgs, RewriteVerifyArgs,
};
use crate::rewrite::apply::{self, ApplyOptions};
use crate::rewrite::graph::{BuildOptions, Graph};
use crate::rewrite::{self, plan, verify, Replacer, Target, TargetsRecord};
use anyhow::{bail, Context, Result};
use finish::{run_finish, REPLACEMENTS_OUT};
use inputs::{inputs, record_targets, scan_setup, Inputs, Mode};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

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
        &mut p.refs_to_push,
        &mut p.push_commands,
        &mut p.remove_paths,
    ];
    for s in lists.into_iter().flatten() {
        r.clean_in_place(s);
    }
    for m in &mut p.remove_path_matches {
        r.clean_in_place(&mut m.glob);
        for x in &mut m.paths {
            r.clean_in_place(&mut x.path);
        }
    }
}

fn run_apply(args: RewriteApplyArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let (repo, _) = inputs::open_repo(args.input.repo.as_deref())?;
    // One apply at a time; holding the lock, what a killed run left half done is ours to finish.
    let _run = (!args.dry_run)
        .then(|| apply::run_lock(&repo))
        .transpose()?;
    if !args.dry_run {
        resume_interrupted(&repo)?;
    }
    // Refusals first: a repository that will be refused is told so before the history scan.
    refuse_unless_safe(&repo, args.force)?;
    drop(repo);
    let inp = inputs_or_done!(&args.input, Mode::Apply);
    let repo = &inp.repo;
    let replacer = Replacer::new(&inp.targets)?;
    let graph = build_graph(&inp, &replacer, !args.dry_run, args.input.threads)?;
    let scanned = started.elapsed();
    let old_head_tree = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_tree().ok())
        .map(|t| t.id());
    // New trees, commits and tags go to an in-memory store first, then into a pack.
    let store_repo = git2::Repository::from_odb(git2::Odb::new()?)?;
    let store_odb = store_repo.odb()?;
    let mempack = store_odb.add_new_mempack_backend(1)?;
    let store = apply::Store {
        repo: &store_repo,
        odb: &store_odb,
        mempack: &mempack,
    };
    let mut outcome = apply::rewrite(
        repo,
        &graph,
        &replacer,
        &ApplyOptions {
            prune_empty: args.prune_empty,
            dry_run: args.dry_run,
            store: (!args.dry_run).then_some(&store),
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
        apply::note_checkout_pending(repo, old_head_tree)?;
        if let Err(e) = apply::update_refs(repo, &outcome.refs) {
            // No ref moved (the update puts the old values back before it fails).
            apply::checkout_done(repo);
            return Err(e);
        }
        apply::rewrite_stash_log(repo, &outcome, &replacer)?;
        apply::test_hook("before-checkout")?;
        let kept = apply::checkout_head(repo, old_head_tree)?;
        apply::checkout_done(repo);
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

/// Finishes what an `apply` killed part way left (the caller holds the run lock, so that run has
/// ended): its `packed-refs.lock`, and the checkout of refs it had moved. Each is said on stderr.
fn resume_interrupted(repo: &git2::Repository) -> Result<()> {
    if apply::remove_stale_lock(repo)? {
        eprintln!(
            "leaksweep: removed the packed-refs.lock an interrupted `rewrite apply` left (no ref had moved)"
        );
    }
    if let Some(kept) = apply::finish_interrupted_checkout(repo)? {
        eprintln!(
            "leaksweep: finished the checkout of an interrupted `rewrite apply`: the working tree and index follow the refs"
        );
        if !kept.is_empty() {
            eprintln!(
                "leaksweep: warning: {} file(s) changed since and were kept as they are: {}; `git checkout HEAD -- PATH` takes the rewritten version",
                kept.len(),
                kept.join(", ")
            );
        }
    }
    Ok(())
}

/// Fails when `apply` must not rewrite `repo`: a dirty work tree, linked worktrees, an operation
/// in progress, a shallow clone; without `force`, also a repository that does not look like a
/// fresh clone or mirror, or one rewritten before.
fn refuse_unless_safe(repo: &git2::Repository, force: bool) -> Result<()> {
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
    if !force {
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
    Ok(())
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
