//! The working tree: whether the repository may be rewritten (fresh, clean, no linked worktrees,
//! not shallow), and, after the switch, the working tree and index made to follow the new HEAD.

use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository};

/// Non-bare repositories: makes the working tree and index follow the new HEAD, file by file,
/// never over a change made since `apply` started.
///
/// Only the paths whose content differs between the old and the new HEAD tree are touched (the
/// cleaned files, and files whose path was removed from history). A working-tree file is
/// rewritten (or deleted) only while it still holds exactly the old HEAD's content and mode, and
/// an index entry is updated only while it still names the old blob; anything else is an edit
/// made while `apply` ran (the run refused a dirty tree at its start), and is kept as it is. The
/// paths kept are returned, so the caller can say that they still hold old content. Nothing is
/// forced.
pub fn checkout_head(repo: &Repository, old_head_tree: Option<Oid>) -> Result<Vec<String>> {
    let mut kept = Vec::new();
    let (Some(old), Some(workdir)) = (old_head_tree, repo.workdir()) else {
        return Ok(kept);
    };
    if repo.is_bare() {
        return Ok(kept);
    }
    let Ok(head) = repo.head() else {
        return Ok(kept);
    };
    let tree = head.peel_to_tree()?;
    let old = repo.find_tree(old)?;
    let diff = repo.diff_tree_to_tree(Some(&old), Some(&tree), None)?;
    let mut index = repo.index()?;
    let odb = repo.odb()?;
    for d in diff.deltas() {
        let (of, nf) = (d.old_file(), d.new_file());
        let Some(rel) = of.path().or_else(|| nf.path()) else {
            continue;
        };
        let rel = rel.to_path_buf();
        let full = workdir.join(&rel);
        let old_id = (d.status() != git2::Delta::Added).then(|| of.id());
        let new_id = (d.status() != git2::Delta::Deleted).then(|| nf.id());
        // The working-tree file, unless it was changed since apply started.
        let on_disk = file_blob_id(&full)?;
        let file_untouched = on_disk.map(|(id, mode)| (Some(id), mode))
            == old_id.map(|id| (Some(id), u32::from(of.mode())));
        let file_untouched = file_untouched || (old_id.is_none() && on_disk.is_none());
        let entry = index.get_path(&rel, 0);
        let index_untouched = entry.as_ref().map(|e| e.id) == old_id;
        if !file_untouched || !index_untouched {
            kept.push(rel.display().to_string());
        }
        if file_untouched {
            match new_id {
                Some(n) => write_worktree_file(&full, odb.read(n)?.data(), u32::from(nf.mode()))?,
                None => match std::fs::remove_file(&full) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot remove {}", full.display()))
                    }
                },
            }
        }
        if index_untouched {
            match (new_id, entry) {
                (Some(_), Some(_)) if file_untouched => {
                    // The file now holds exactly the new blob: add it with its stat data.
                    index.add_path(&rel).with_context(|| {
                        format!("cannot update the index entry of {}", rel.display())
                    })?;
                }
                (Some(n), Some(mut e)) => {
                    // The file was edited: the entry names the new blob, with no stat data, so
                    // git compares content and shows the edit as unstaged.
                    e.id = n;
                    e.mode = u32::from(nf.mode());
                    e.file_size = odb.read_header(n).map(|(len, _)| len as u32).unwrap_or(0);
                    e.ctime = git2::IndexTime::new(0, 0);
                    e.mtime = git2::IndexTime::new(0, 0);
                    e.ino = 0;
                    e.dev = 0;
                    index.add(&e)?;
                }
                (None, Some(_)) => index.remove_path(&rel)?,
                (_, None) => {}
            }
        }
    }
    index.write()?;
    Ok(kept)
}

/// The blob id and git mode of a working-tree file as it is now (`None`: absent).
fn file_blob_id(path: &std::path::Path) -> Result<Option<(Oid, u32)>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        use std::os::unix::ffi::OsStrExt;
        let id = Oid::hash_object(ObjectType::Blob, target.as_os_str().as_bytes())?;
        return Ok(Some((id, 0o120000)));
    }
    if !meta.is_file() {
        return Ok(Some((Oid::zero(), 0)));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        0o100755
    } else {
        0o100644
    };
    let data = zeroize::Zeroizing::new(
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    Ok(Some((Oid::hash_object(ObjectType::Blob, &data)?, mode)))
}

/// Writes a working-tree file (or symlink) with a git mode, through a temporary file and a rename.
fn write_worktree_file(path: &std::path::Path, data: &[u8], mode: u32) -> Result<()> {
    let _ = std::fs::remove_file(path);
    if mode == 0o120000 {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(data), path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))?;
    let perm = if mode == 0o100755 { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    Ok(())
}

/// Tracked paths whose working-tree or index content differs from HEAD (at most 5 named).
pub fn changed_paths(repo: &Repository) -> Result<Vec<String>> {
    if repo.is_bare() {
        return Ok(Vec::new());
    }
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let st = repo.statuses(Some(&mut opts))?;
    let mut dirty: Vec<String> = st
        .iter()
        .filter(|e| e.status() != git2::Status::CURRENT)
        .map(|e| String::from_utf8_lossy(e.path_bytes()).into_owned())
        .take(6)
        .collect();
    if dirty.len() > 5 {
        dirty.truncate(5);
        dirty.push("...".into());
    }
    Ok(dirty)
}

/// Why `repo` does not look like a fresh clone or mirror (empty when it does).
///
/// The rewrite should run on a fresh clone, so that a mistake costs a re-clone, not work:
/// a non-bare repository whose HEAD reflog has more than one entry has seen commits, checkouts or
/// resets since it was cloned; a stash holds local work; a local branch without an upstream
/// exists nowhere else. A bare repository (a mirror) has no reflog by default and only needs no
/// stash.
pub fn freshness_problems(repo: &Repository) -> Vec<String> {
    let mut out = Vec::new();
    if repo.find_reference("refs/stash").is_ok() {
        out.push("it has a stash (refs/stash): local work that exists nowhere else".into());
    }
    if repo.is_bare() {
        return out;
    }
    if let Ok(log) = repo.reflog("HEAD") {
        if log.len() > 1 {
            out.push(format!(
                "the HEAD reflog has {} entries (a fresh clone has 1): work happened here since the clone",
                log.len()
            ));
        }
    }
    if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
        let lonely: Vec<String> = branches
            .flatten()
            .filter(|(b, _)| b.upstream().is_err())
            .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string))
            .collect();
        if !lonely.is_empty() {
            out.push(format!(
                "local branch(es) without an upstream: {} (they exist only here)",
                lonely.join(", ")
            ));
        }
    }
    out
}

/// Why the repository cannot be rewritten (empty when it can); none of these is waived by
/// `--force`.
///
/// - A shallow clone: its history is cut off at commits whose parents it does not have, and
///   `<gitdir>/shallow` names those cut-off commits by id; rewriting them would leave the file
///   naming commits no ref reaches and the new boundary commits unlisted, a repository `git fsck`
///   rejects. It is refused: rewrite a full clone.
/// - Linked worktrees (`git worktree add`): each has its own HEAD (possibly detached on an old
///   commit), index and checkout, holding the old history where this run cannot safely reset
///   them (they may hold uncommitted work). They are refused, by path: remove them (or rewrite a
///   fresh clone, which has none).
/// - An operation in progress, or uncommitted changes in the working tree.
pub fn worktree_problems(repo: &Repository) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if repo.is_shallow() {
        out.push(format!(
            "{} is a shallow clone ({}): its history is cut off, and rewriting it would corrupt it; \
             rewrite a full clone (`git fetch --unshallow`, or `git clone --mirror URL`)",
            repo.path().display(),
            repo.path().join("shallow").display()
        ));
    }
    let linked = linked_worktrees(repo);
    if !linked.is_empty() {
        out.push(format!(
            "linked worktree(s) exist: {}; each has its own HEAD, index and checkout of the old history, \
             which the rewrite cannot reset under you: commit or save their work, remove them \
             (`git worktree remove PATH`), or rewrite a fresh clone",
            linked.join(", ")
        ));
    }
    if repo.state() != git2::RepositoryState::Clean {
        out.push(format!(
            "an operation is in progress ({:?}): finish or abort it first",
            repo.state()
        ));
    }
    let dirty = changed_paths(repo)?;
    if !dirty.is_empty() {
        out.push(format!(
            "the working tree has uncommitted changes ({}): commit or stash them, or better, rewrite a fresh clone",
            dirty.join(", ")
        ));
    }
    Ok(out)
}

/// Linked worktrees of `repo` (every entry of `<commondir>/worktrees/`, whatever its name),
/// named by their checkout path (from the entry's `gitdir` file), else by the entry.
pub fn linked_worktrees(repo: &Repository) -> Vec<String> {
    let dir = repo.commondir().join("worktrees");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let gitdir = std::fs::read(e.path().join("gitdir")).unwrap_or_default();
            let text = String::from_utf8_lossy(&gitdir);
            let text = text.trim();
            match text.strip_suffix("/.git") {
                Some(p) if !p.is_empty() => p.to_string(),
                _ => e.path().display().to_string(),
            }
        })
        .collect();
    out.sort();
    out
}

/// The state file written before the refs move and removed once the working tree follows them:
/// HEAD's tree before the rewrite. A run killed in between leaves it, and the next `apply`
/// finishes that checkout ([`finish_interrupted_checkout`]).
const CHECKOUT_PENDING: &str = "checkout-pending";

/// Records, before the refs move, that the working tree must follow them from `old_head_tree`.
pub fn note_checkout_pending(repo: &Repository, old_head_tree: Option<Oid>) -> Result<()> {
    use std::io::Write;
    let Some(tree) = old_head_tree else {
        return Ok(());
    };
    let dir = super::backup::state_dir(repo);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(CHECKOUT_PENDING);
    let mut f = private_file(&path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(format!("{tree}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The working tree follows the refs: the record of [`note_checkout_pending`] goes.
pub fn checkout_done(repo: &Repository) {
    let _ = std::fs::remove_file(super::backup::state_dir(repo).join(CHECKOUT_PENDING));
}

/// Finishes the checkout of an `apply` that was killed after recording it: the working tree
/// and index are moved from the recorded tree to HEAD's (a file changed since is kept, as in
/// [`checkout_head`]). `None` when no checkout was pending; otherwise the files kept.
pub fn finish_interrupted_checkout(repo: &Repository) -> Result<Option<Vec<String>>> {
    let path = super::backup::state_dir(repo).join(CHECKOUT_PENDING);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let tree = Oid::from_str(text.trim())
        .with_context(|| format!("{} does not hold a tree id", path.display()))?;
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    if head.is_none_or(|h| h.id() == tree) {
        // The run was killed before its refs moved: nothing to follow.
        checkout_done(repo);
        return Ok(None);
    }
    let kept = checkout_head(repo, Some(tree))?;
    checkout_done(repo);
    Ok(Some(kept))
}

/// Held for the whole of an `apply`: an exclusive lock on the git directory itself (nothing is
/// created for it), which the system releases when the process ends however it ends. A second
/// `apply` on the same repository fails at once; one that gets the lock knows no earlier run is
/// still going, so what an earlier run left half done is its to finish.
pub struct RunLock {
    _held: std::fs::File,
}

/// Takes the [`RunLock`] of `repo`.
pub fn run_lock(repo: &Repository) -> Result<RunLock> {
    let dir = repo.commondir();
    let f = std::fs::File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(RunLock { _held: f }),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another `leaksweep rewrite apply` is running on this repository (it holds a lock on {})",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", dir.display()))
        }
    }
}

/// Creates (or truncates) `path` readable by its owner only, as every file of the state
/// directory is.
pub(super) fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}
