//! The ref switch: every ref moved at once, each compared against its value at the start (one
//! rename of `packed-refs`, or one libgit2 transaction), and the stash list rewritten after it.

use super::backup::write_backups;
use super::{Outcome, RefUpdate, CRASH_ENV};
use crate::rewrite::Replacer;
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;
use std::path::PathBuf;

/// Every direct ref by raw name (old-style backups included), as it resolves now.
pub(super) fn current_refs(repo: &Repository) -> Result<std::collections::BTreeMap<Vec<u8>, Oid>> {
    let mut out = std::collections::BTreeMap::new();
    for r in repo.references()? {
        let r = r?;
        if let Some(t) = r.target() {
            out.insert(r.name_bytes().to_vec(), t);
        }
    }
    Ok(out)
}

/// The current value of `raw` (`HEAD`: only when detached).
pub(super) fn current_value(
    repo: &Repository,
    current: &std::collections::BTreeMap<Vec<u8>, Oid>,
    raw: &[u8],
) -> Option<Oid> {
    if raw == b"HEAD" {
        return if repo.head_detached().unwrap_or(false) {
            repo.head().ok().and_then(|h| h.target())
        } else {
            None
        };
    }
    current.get(raw).copied()
}

/// Checks that every ref in `refs` still holds the value read at the start of the run.
fn check_unmoved(repo: &Repository, refs: &[RefUpdate]) -> Result<()> {
    let current = current_refs(repo)?;
    for r in refs {
        let old = Oid::from_str(&r.old)?;
        let now = current_value(repo, &current, &r.raw);
        if now != Some(old) {
            bail!("{}", moved_error(r, now));
        }
        if let Some(to) = &r.renamed_raw {
            if current.contains_key(to) {
                bail!(
                    "{} would be renamed to {}, which exists; no ref was moved: remove one of them",
                    r.name,
                    crate::rewrite::graph::display_name(to)
                );
            }
        }
    }
    Ok(())
}

fn moved_error(r: &RefUpdate, now: Option<Oid>) -> String {
    format!(
        "{} moved while leaksweep was rewriting (it was {} when the run started, it is {} now); \
         no ref was moved: run `leaksweep rewrite apply` again once nothing else writes to the repository",
        r.name,
        &r.old[..12],
        now.map_or("deleted".to_string(), |o| o.to_string()[..12].to_string())
    )
}

/// Moves every ref at once, compare-and-swap against the values read at the start of the run
/// (`RefUpdate::old`): a ref that moved since then stops the switch with an error naming it,
/// and every ref is left as it was. The old values go to the backup repository first
/// ([`backup_repo_path`]). Ref names are handled as bytes.
///
/// With the files ref backend (every clone git makes today) the switch is one `rename(2)`: the
/// current refs are first packed into `packed-refs` (same values, so nothing changes), their loose
/// files removed (still nothing changes), then a `packed-refs` holding the new values replaces it.
/// A crash or SIGKILL at any point leaves every ref old or every ref new; a loose ref written by
/// another process during the switch is detected after it, and the old `packed-refs` is put back.
/// Elsewhere (reftable, per-worktree refs) it falls back to one libgit2 transaction (all refs
/// locked, their values checked under the locks, then renamed one by one), which an interrupt
/// cannot split (it waits) but a SIGKILL could; that path takes UTF-8 names only, and refuses
/// others by name before anything moves.
pub fn update_refs(repo: &Repository, refs: &[RefUpdate]) -> Result<()> {
    if std::env::var_os(CRASH_ENV).is_some_and(|v| v != "after-pack") {
        bail!("simulated crash before updating refs ({CRASH_ENV} is set)");
    }
    check_unmoved(repo, refs)?;
    write_backups(repo, refs)?;
    let head = refs.iter().find(|r| r.raw == b"HEAD");
    if !packed_switch(repo, refs)? {
        transaction(repo, refs)?;
    }
    if let Some(h) = head {
        if let Some(new) = &h.new {
            repo.reference_matching(
                "HEAD",
                Oid::from_str(new)?,
                true,
                Oid::from_str(&h.old)?,
                "leaksweep rewrite",
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "{}",
                    moved_error(h, repo.head().ok().and_then(|x| x.target()))
                )
            })?;
        }
    }
    Ok(())
}

/// The fallback: one libgit2 transaction, values checked under the locks.
fn transaction(repo: &Repository, refs: &[RefUpdate]) -> Result<()> {
    let mut names = Vec::new();
    for r in refs.iter().filter(|r| r.raw != b"HEAD") {
        let Ok(name) = std::str::from_utf8(&r.raw) else {
            bail!(
                "cannot update {}: its name is not UTF-8, and this repository's refs (not the files backend, \
                 or per-worktree refs) are updated through libgit2, which takes UTF-8 names only; \
                 rename it with `git update-ref` or rewrite a plain clone; no ref was moved",
                r.name
            );
        };
        if let Some(to) = &r.renamed_raw {
            if std::str::from_utf8(to).is_err() {
                bail!(
                    "cannot rename {} to a name that is not UTF-8 here; no ref was moved",
                    r.name
                );
            }
        }
        names.push((name, r));
    }
    let mut tx = repo.transaction()?;
    for (name, r) in &names {
        tx.lock_ref(name)
            .with_context(|| format!("cannot lock {name}"))?;
        if let Some(to) = r
            .renamed_raw
            .as_deref()
            .and_then(|t| std::str::from_utf8(t).ok())
        {
            tx.lock_ref(to)
                .with_context(|| format!("cannot lock {to}"))?;
            if repo.find_reference(to).is_ok() {
                bail!(
                    "{} would be renamed to {to}, which exists; no ref was moved",
                    r.name
                );
            }
        }
    }
    // Under the locks nobody else can move them: compare now.
    for (name, r) in &names {
        let now = repo.find_reference(name).ok().and_then(|x| x.target());
        if now != Some(Oid::from_str(&r.old)?) {
            bail!("{}", moved_error(r, now));
        }
    }
    for (name, r) in &names {
        let to = r
            .renamed_raw
            .as_deref()
            .and_then(|t| std::str::from_utf8(t).ok());
        if to.is_some() {
            tx.remove(name)?;
        }
        let at = to.unwrap_or(name);
        match &r.new {
            Some(n) => tx.set_target(at, Oid::from_str(n)?, None, "leaksweep rewrite")?,
            None => tx.remove(at)?,
        }
    }
    tx.commit().context("cannot update refs")?;
    Ok(())
}

/// The loose file of a ref (raw name) under `dir`.
fn loose_path(dir: &std::path::Path, raw: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    dir.join(std::ffi::OsStr::from_bytes(raw))
}

/// The atomic switch through `packed-refs`; `Ok(false)` when it does not apply here.
fn packed_switch(repo: &Repository, refs: &[RefUpdate]) -> Result<bool> {
    let config = repo.config()?;
    if config
        .get_string("extensions.refstorage")
        .is_ok_and(|b| !b.eq_ignore_ascii_case("files"))
    {
        return Ok(false);
    }
    let dir = repo.commondir().to_path_buf();
    let shared = |name: &[u8]| {
        name.starts_with(b"refs/")
            && ![&b"refs/bisect/"[..], b"refs/worktree/", b"refs/rewritten/"]
                .iter()
                .any(|p| name.starts_with(p))
    };
    if refs.iter().any(|r| r.raw != b"HEAD" && !shared(&r.raw)) {
        return Ok(false);
    }
    // Every shared direct ref as it resolves now (a loose file wins over packed-refs).
    let current: std::collections::BTreeMap<Vec<u8>, Oid> = current_refs(repo)?
        .into_iter()
        .filter(|(n, _)| shared(n))
        .collect();
    let mut next = current.clone();
    for r in refs.iter().filter(|r| r.raw != b"HEAD") {
        let old = Oid::from_str(&r.old)?;
        if current.get(&r.raw) != Some(&old) {
            bail!("{}", moved_error(r, current.get(&r.raw).copied()));
        }
        if let Some(to) = &r.renamed_raw {
            if current.contains_key(to) {
                bail!(
                    "{} would be renamed to {}, which exists; no ref was moved",
                    r.name,
                    crate::rewrite::graph::display_name(to)
                );
            }
            next.remove(&r.raw);
        }
        let at = r.renamed_raw.clone().unwrap_or_else(|| r.raw.clone());
        match &r.new {
            Some(n) => next.insert(at, Oid::from_str(n)?),
            None => next.remove(&at),
        };
    }
    // 1. Pack the current values; 2. drop the loose files they shadowed. Nothing changes yet.
    write_packed_refs(repo, &dir, &current)?;
    for (name, id) in &current {
        let loose = loose_path(&dir, name);
        match std::fs::read(&loose) {
            Ok(text) if text.trim_ascii() == id.to_string().as_bytes() => {
                std::fs::remove_file(&loose)
                    .with_context(|| format!("cannot remove {}", loose.display()))?
            }
            Ok(_) => bail!(
                "{} changed while leaksweep was updating refs; no ref was moved",
                crate::rewrite::graph::display_name(name)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", loose.display())),
        }
    }
    if std::env::var_os(CRASH_ENV).is_some() {
        // Test hook: die between packing and the switch, as a SIGKILL would.
        std::process::abort();
    }
    // 3. The switch.
    write_packed_refs(repo, &dir, &next)?;
    // A loose ref written meanwhile shadows its packed value: put the old refs back, say which.
    if let Some(r) = refs.iter().filter(|r| r.raw != b"HEAD").find(|r| {
        loose_path(&dir, &r.raw).exists()
            || r.renamed_raw
                .as_ref()
                .is_some_and(|to| loose_path(&dir, to).exists())
    }) {
        write_packed_refs(repo, &dir, &current)?;
        let now = std::fs::read(loose_path(&dir, &r.raw))
            .ok()
            .and_then(|t| Oid::from_str(String::from_utf8_lossy(&t).trim()).ok());
        bail!("{}", moved_error(r, now));
    }
    // Best effort: the refs have moved whether or not their logs say so. Only refs that keep a
    // log get an entry (a mirror keeps none).
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("leaksweep", "leaksweep@localhost"))?;
    for r in refs.iter().filter(|r| r.raw != b"HEAD") {
        let (Some(new), Ok(name)) = (&r.new, std::str::from_utf8(&r.raw)) else {
            continue;
        };
        // The stash's reflog is the stash list itself: rewritten by `rewrite_stash_log`.
        if name == "refs/stash" {
            continue;
        }
        if let Ok(mut log) = repo.reflog(name) {
            if !log.is_empty() {
                let _ = log
                    .append(Oid::from_str(new)?, &sig, Some("leaksweep rewrite"))
                    .and_then(|()| log.write());
            }
        }
    }
    Ok(true)
}

/// Writes `refs` (raw names) as `<dir>/packed-refs`: sorted, every tag peeled (through `repo`'s
/// objects), through `packed-refs.lock` (created exclusively, as git does, so a concurrent git
/// waits or fails) and one rename.
pub(super) fn write_packed_refs(
    repo: &Repository,
    dir: &std::path::Path,
    refs: &std::collections::BTreeMap<Vec<u8>, Oid>,
) -> Result<()> {
    use std::io::Write;
    let odb = repo.odb()?;
    let mut text = b"# pack-refs with: peeled fully-peeled sorted \n".to_vec();
    for (name, id) in refs {
        text.extend_from_slice(format!("{id} ").as_bytes());
        text.extend_from_slice(name);
        text.push(b'\n');
        if odb.read_header(*id).map(|(_, t)| t) == Ok(ObjectType::Tag) {
            let peeled = repo
                .find_object(*id, None)
                .and_then(|o| o.peel(ObjectType::Any))
                .with_context(|| {
                    format!(
                        "cannot peel tag {id} of {}",
                        crate::rewrite::graph::display_name(name)
                    )
                })?;
            text.extend_from_slice(format!("^{}\n", peeled.id()).as_bytes());
        }
    }
    let lock = dir.join("packed-refs.lock");
    // What this run is about to put in the lock file, recorded first: a run killed before the
    // rename leaves a lock file that the next run can tell for its own ([`remove_stale_lock`]).
    let pending = pending_path(repo, dir);
    write_synced(&pending, &text)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .with_context(|| {
            format!(
                "cannot create {}: another git process may be running (if none is, remove the file)",
                lock.display()
            )
        })?;
    let written = f
        .write_all(&text)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&lock, dir.join("packed-refs")));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&lock);
        return Err(e)
            .with_context(|| format!("cannot write {}", dir.join("packed-refs").display()));
    }
    let _ = std::fs::remove_file(&pending);
    Ok(())
}

/// The state-directory file holding the `packed-refs` text a run is writing into `dir`: the
/// repository's own, or the backup repository's.
fn pending_path(repo: &Repository, dir: &std::path::Path) -> PathBuf {
    let name = if dir == repo.commondir() {
        "packed-refs.pending"
    } else {
        "backup-packed-refs.pending"
    };
    super::backup::state_dir(repo).join(name)
}

/// Writes `data` to `path` and flushes it to disk.
fn write_synced(path: &std::path::Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes a `packed-refs.lock` that an earlier apply, killed while writing it, left behind:
/// one whose content is a prefix of what that run recorded it was writing. Any other lock file
/// belongs to someone else and stays (the ref update then fails and says so). Called by `apply`
/// while it holds its exclusive run lock, so no run of ours is writing it. Returns whether a
/// file was removed.
pub fn remove_stale_lock(repo: &Repository) -> Result<bool> {
    let mut removed = false;
    for dir in [
        repo.commondir().to_path_buf(),
        super::backup::backup_repo_path(repo),
    ] {
        let pending = pending_path(repo, &dir);
        let Ok(ours) = std::fs::read(&pending) else {
            continue;
        };
        let lock = dir.join("packed-refs.lock");
        if let Ok(left) = std::fs::read(&lock) {
            if ours.starts_with(&left) {
                std::fs::remove_file(&lock)
                    .with_context(|| format!("cannot remove {}", lock.display()))?;
                removed = true;
            }
        }
        let _ = std::fs::remove_file(&pending);
    }
    Ok(removed)
}

/// Rewrites the stash list (the reflog of `refs/stash`, one line per `stash@{N}`) in place: every
/// entry's ids mapped through the commit map, targets replaced in its message, same order, no
/// entry added or dropped. Written through a temporary file and a rename.
pub fn rewrite_stash_log(repo: &Repository, outcome: &Outcome, replacer: &Replacer) -> Result<()> {
    let path = repo.commondir().join(crate::rewrite::graph::STASH_LOG);
    let text = match std::fs::read(&path) {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let out = stash_log_rewritten(&text, &outcome.commit_map, replacer);
    if out[..] != text[..] {
        crate::output::write_atomic(&path, &out, false)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The stash list `text` with both ids of every entry mapped through `commit_map` (an id with
/// no new commit is kept) and targets replaced in the rest of the line; lines that are not
/// `<40 hex> <40 hex> ...` are copied as they are.
fn stash_log_rewritten(
    text: &[u8],
    commit_map: &[(Oid, Option<Oid>)],
    replacer: &Replacer,
) -> zeroize::Zeroizing<Vec<u8>> {
    let map: HashMap<Oid, Oid> = commit_map
        .iter()
        .filter_map(|(o, n)| n.map(|n| (*o, n)))
        .collect();
    let id = |h: &[u8]| -> Option<Vec<u8>> {
        let o = Oid::from_str(std::str::from_utf8(h).ok()?).ok()?;
        map.get(&o).map(|n| n.to_string().into_bytes())
    };
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(text.len()));
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.len() < 82 || line[40] != b' ' || line[81] != b' ' {
            out.extend_from_slice(line);
            continue;
        }
        out.extend_from_slice(&id(&line[..40]).unwrap_or_else(|| line[..40].to_vec()));
        out.push(b' ');
        out.extend_from_slice(&id(&line[41..81]).unwrap_or_else(|| line[41..81].to_vec()));
        let rest = &line[81..];
        match replacer.replace(rest) {
            Some(r) => out.extend_from_slice(&r),
            None => out.extend_from_slice(rest),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(c: char) -> Oid {
        Oid::from_str(&c.to_string().repeat(40)).unwrap()
    }

    fn update(raw: &[u8], old: &str) -> RefUpdate {
        RefUpdate {
            name: String::from_utf8_lossy(raw).into_owned(),
            raw: raw.to_vec(),
            old: old.to_string(),
            new: None,
            renamed_to: None,
            renamed_raw: None,
        }
    }

    #[test]
    fn stash_entries_follow_the_commit_map_and_lose_their_secrets() {
        let replacer = Replacer::new(
            &crate::rewrite::parse_secrets_file(b"hunter2hunter2==>R\n", "x").unwrap(),
        )
        .unwrap();
        let (a, b, c, d) = (oid('a'), oid('b'), oid('c'), oid('d'));
        let text = format!(
            "{a} {b} Me <m@e> 1 +0000\tWIP on main: hunter2hunter2\n{c} {a} Me <m@e> 2 +0000\tkeep\nshort line hunter2hunter2\n"
        );
        let map = vec![(a, Some(d)), (b, None)];
        let out = stash_log_rewritten(text.as_bytes(), &map, &replacer);
        let want = format!(
            "{d} {b} Me <m@e> 1 +0000\tWIP on main: R\n{c} {d} Me <m@e> 2 +0000\tkeep\nshort line hunter2hunter2\n"
        );
        assert_eq!(String::from_utf8_lossy(&out), want);
        // Nothing mapped and nothing to replace: the same bytes.
        let none = stash_log_rewritten(text.as_bytes(), &[], &Replacer::new(&[]).unwrap());
        assert_eq!(&none[..], text.as_bytes());
    }

    #[test]
    fn moved_error_names_the_ref_and_both_values() {
        let old = oid('a').to_string();
        let r = update(b"refs/heads/main", &old);
        let moved = moved_error(&r, Some(oid('b')));
        assert!(moved.starts_with("refs/heads/main moved while leaksweep was rewriting"));
        assert!(moved.contains("it was aaaaaaaaaaaa when the run started, it is bbbbbbbbbbbb now"));
        assert!(moved_error(&r, None).contains("it is deleted now"));
    }

    #[cfg(unix)]
    #[test]
    fn loose_ref_paths_keep_raw_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = loose_path(std::path::Path::new("/g"), b"refs/heads/caf\xe9");
        assert_eq!(p.as_os_str().as_bytes(), b"/g/refs/heads/caf\xe9");
    }
}
