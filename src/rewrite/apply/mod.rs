//! The native rewrite, in process with git2: new objects first, refs last, all at once.
//!
//! Built on the [`Graph`] pass: blobs holding a target were already cleaned (and written) by it;
//! here trees are rewritten bottom-up from their raw bytes (only those whose mask is non-zero, each
//! once: a memo maps node -> new id), then commits oldest first, then annotated tags. An object
//! whose content does not change keeps its id, so untouched history (and its signatures) stays
//! exactly as it was; a changed commit or tag loses its signature, which can no longer verify, and
//! is counted. Commit and tag messages are cleaned with the same literals, and no footer is added.
//!
//! New trees, commits and tags go to an in-memory object store ([`Store`], set up by the caller)
//! and then into a pack with [`write_pack`], at the end or whenever the store holds
//! [`PACK_FLUSH_BYTES`]; the cleaned blobs were written loose by the graph pass (one per cleaned
//! blob, a few hundred on curl).
//!
//! Crash safety: objects are written before any ref moves, and the refs move at once (see
//! [`update_refs`]: one rename of `packed-refs`), each compare-and-swap against its value at the
//! start. A crash before the switch leaves the old refs in place and only unreachable objects
//! behind; rerunning rewrites the same content to the same ids. The old ref values go first to
//! the backup repository `<gitdir>/leaksweep/backup.git` ([`backup_repo_path`]: outside `refs/`,
//! so no push can publish them), and `<gitdir>/leaksweep/commit-map` / `ref-map` record
//! old -> new ids (filter-repo's format).
//!
//! Besides branches and tags: every stash entry is rewritten in the stash list
//! ([`rewrite_stash_log`]), notes move to the new ids of the commits they annotate, and replace
//! refs are renamed to the new ids of the commits they replace. Ref names are bytes throughout.
//!
//! The parts: [`objects`] writes the new trees, commits and tags (and packs them), [`refs`]
//! moves the refs (compare-and-swap, the `packed-refs` switch, the stash list), [`backup`] keeps
//! the state directory (maps, backup repository), and [`worktree`] checks the repository before
//! and makes its working tree follow after.

mod backup;
mod objects;
mod refs;
mod worktree;

pub use backup::{
    backup_refs, backup_repo_path, backups_exist, read_commit_map, remove_backups,
    rewritten_before, state_dir, write_maps, CommitMap, BACKUP_REPO,
};
pub use objects::{rewrite, write_pack, Store};
pub use refs::{remove_stale_lock, rewrite_stash_log, update_refs};
pub use worktree::{
    changed_paths, checkout_done, checkout_head, finish_interrupted_checkout, freshness_problems,
    linked_worktrees, note_checkout_pending, run_lock, worktree_problems, RunLock,
};

use anyhow::{bail, Context, Result};
use git2::Oid;

/// Prefix of the backup refs of earlier versions (the backups now live in [`backup_repo_path`]);
/// still read, so that such backups are found, counted and removed.
pub const BACKUP_PREFIX: &str = "refs/leaksweep/original/";
/// Set to make `apply` stop after writing objects, before moving refs (tests of recovery).
pub const CRASH_ENV: &str = "LEAKSWEEP_TEST_CRASH_BEFORE_REFS";

/// Test seam: a shell command that `apply` runs (`sh -c CMD leaksweep STAGE`) at fixed points,
/// so that a test can change the repository at a known moment: `before-refs` (right before the
/// ref switch) and `before-checkout` (after it, right before the working tree follows). For
/// tests only; unset in normal use.
pub const TEST_HOOK_ENV: &str = "LEAKSWEEP_TEST_HOOK";

/// Runs the [`TEST_HOOK_ENV`] command for `stage`, if set.
pub fn test_hook(stage: &str) -> Result<()> {
    let Some(cmd) = std::env::var_os(TEST_HOOK_ENV) else {
        return Ok(());
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .arg("leaksweep")
        .arg(stage)
        .status()
        .with_context(|| format!("cannot run {TEST_HOOK_ENV}"))?;
    if !status.success() {
        bail!("{TEST_HOOK_ENV} failed at {stage} ({status})");
    }
    Ok(())
}

/// Options of [`rewrite`].
pub struct ApplyOptions<'m> {
    pub prune_empty: bool,
    /// Compute ids without writing anything.
    pub dry_run: bool,
    /// The in-memory store that receives the writes: flushed into a pack every
    /// [`PACK_FLUSH_BYTES`] and at the end. `None`: loose objects.
    pub store: Option<&'m Store<'m>>,
}

/// Raw bytes held in the in-memory store before they are written out as a pack: bounds the
/// memory of a rewrite of any size. On curl (80,000 new trees and commits, ~130 MB raw) 16 MiB
/// gives 9 packs and 165 MiB peak RSS against 198 MiB with 32 MiB (4 packs) and 163 MiB with
/// 8 MiB (17 packs), in the same time; the packs are consolidated by `rewrite finish` (git gc).
pub const PACK_FLUSH_BYTES: usize = 16 << 20;
/// Test knob: flush after this many bytes instead.
const PACK_FLUSH_ENV: &str = "LEAKSWEEP_TEST_PACK_FLUSH_BYTES";

/// One ref that moves.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefUpdate {
    /// The name for display (lossy UTF-8, escaped).
    pub name: String,
    /// The name as stored (bytes).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// The value read at the start of the run: the switch is compare-and-swap against it.
    pub old: String,
    /// `None`: the ref is deleted (its commit was pruned away entirely).
    pub new: Option<String>,
    /// The ref moves to this name (a replace ref, `refs/replace/<id>`, follows the new id of the
    /// object it replaces); the name must be free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    #[serde(skip)]
    pub renamed_raw: Option<Vec<u8>>,
}

/// What the rewrite did (or would do).
#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub commits: usize,
    pub commits_rewritten: usize,
    pub commits_pruned: usize,
    pub trees_written: usize,
    pub blobs_cleaned: usize,
    pub tags_rewritten: usize,
    pub signed_commits_dropped: usize,
    pub signed_tags_dropped: usize,
    /// Stash entries (`stash@{N}`) whose commit changes.
    pub stash_entries_rewritten: usize,
    pub refs: Vec<RefUpdate>,
    /// old commit -> new commit (`None`: pruned; its children now point at what stands in for it).
    #[serde(skip)]
    pub commit_map: Vec<(Oid, Option<Oid>)>,
    /// Trees, commits and tags written (into the in-memory store when there is one).
    #[serde(skip)]
    pub written: Vec<Oid>,
}
