//! The state directory `<gitdir>/leaksweep`: the commit and ref maps, and the backup repository
//! that holds the old refs outside `refs/`.

use super::refs::{current_refs, current_value, write_packed_refs};
use super::{Outcome, RefUpdate, BACKUP_PREFIX};
use anyhow::{Context, Result};
use git2::{Oid, Repository};
use std::path::PathBuf;

/// `<gitdir>/leaksweep`, where the maps live.
pub fn state_dir(repo: &Repository) -> PathBuf {
    repo.commondir().join("leaksweep")
}

/// Writes `commit-map` (every walked commit, `0000…` for pruned ones) and `ref-map`.
pub fn write_maps(repo: &Repository, outcome: &Outcome) -> Result<()> {
    let dir = state_dir(repo);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cm = String::from("old                                      new\n");
    for (old, new) in &outcome.commit_map {
        cm.push_str(&format!("{old} {}\n", new.unwrap_or_else(Oid::zero)));
    }
    crate::output::write_atomic(&dir.join("commit-map"), cm.as_bytes(), true)
        .context("cannot write commit-map")?;
    let mut rm = String::from(
        "old                                      new                                      ref\n",
    );
    for r in &outcome.refs {
        let new = r.new.clone().unwrap_or_else(|| Oid::zero().to_string());
        rm.push_str(&format!("{} {new} {}\n", r.old, r.name));
    }
    crate::output::write_atomic(&dir.join("ref-map"), rm.as_bytes(), true)
        .context("cannot write ref-map")?;
    Ok(())
}

/// Old commit -> new commit (`None`: pruned with nothing to stand in).
pub type CommitMap = Vec<(Oid, Option<Oid>)>;

/// Reads `commit-map`: old -> new (`None` for pruned).
pub fn read_commit_map(repo: &Repository) -> Result<Option<CommitMap>> {
    let path = state_dir(repo).join("commit-map");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    parse_commit_map(&text, &path).map(Some)
}

/// The lines of a `commit-map` (after its header line): `old new`, `0000…` for none; a line
/// without two words is skipped, a word that is no object id is an error naming `path`.
fn parse_commit_map(text: &str, path: &std::path::Path) -> Result<CommitMap> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let mut it = line.split_whitespace();
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            continue;
        };
        let old =
            Oid::from_str(a).with_context(|| format!("{}: bad line {line:?}", path.display()))?;
        let new =
            Oid::from_str(b).with_context(|| format!("{}: bad line {line:?}", path.display()))?;
        out.push((old, (!new.is_zero()).then_some(new)));
    }
    Ok(out)
}

/// Name of the backup repository under [`state_dir`].
pub const BACKUP_REPO: &str = "backup.git";

/// Where `apply` keeps the old refs: `<gitdir>/leaksweep/backup.git`, a bare repository (mode
/// 0700) outside `refs/`, so that no push (`git push --mirror`, `--all`, `--tags`,
/// `+refs/*:refs/*`, or a mirror clone's plain `git push`) can ever send them. It holds every
/// moved ref's old value under the ref's own name (bytes; a detached HEAD as its `HEAD`), and its
/// own hard links (or copies) of the object files the old history lives in, so it stays whole
/// whatever `git gc` does to the rewritten repository.
///
/// Undo: `git fetch --force --update-head-ok <backup> '+refs/*:refs/*'` (then `git reset --hard`
/// in a working tree); `rewrite finish` deletes it ([`remove_backups`]).
pub fn backup_repo_path(repo: &Repository) -> PathBuf {
    state_dir(repo).join(BACKUP_REPO)
}
/// The backed-up refs: (raw name, old value), from the backup repository (`HEAD` for a detached
/// HEAD) and from old-style refs under [`BACKUP_PREFIX`] (prefix stripped).
pub fn backup_refs(repo: &Repository) -> Result<Vec<(Vec<u8>, Oid)>> {
    let mut out = Vec::new();
    let dir = backup_repo_path(repo);
    if dir.exists() {
        let b = Repository::open_bare(&dir)
            .with_context(|| format!("cannot open the backup repository {}", dir.display()))?;
        out.extend(current_refs(&b)?);
        if b.head_detached().unwrap_or(false) {
            if let Some(h) = b.head().ok().and_then(|h| h.target()) {
                out.push((b"HEAD".to_vec(), h));
            }
        }
    }
    for (name, id) in current_refs(repo)? {
        if let Some(rest) = name.strip_prefix(BACKUP_PREFIX.as_bytes()) {
            out.push((rest.to_vec(), id));
        }
    }
    Ok(out)
}

/// Whether any backup exists (the backup repository, or old-style refs under [`BACKUP_PREFIX`]).
pub fn backups_exist(repo: &Repository) -> bool {
    backup_repo_path(repo).exists()
        || repo
            .references_glob(&format!("{BACKUP_PREFIX}*"))
            .map(|mut it| it.next().is_some())
            .unwrap_or(false)
}

/// Whether a previous rewrite moved refs here: some backed-up ref no longer holds its backed-up
/// value. Backups whose refs all still hold their values are what a run stopped before the
/// switch leaves; they do not count (the next run completes the job).
pub fn rewritten_before(repo: &Repository) -> Result<bool> {
    let current = current_refs(repo)?;
    Ok(backup_refs(repo)?
        .iter()
        .any(|(name, old)| current_value(repo, &current, name) != Some(*old)))
}

/// Deletes every backup (the backup repository and old-style refs); returns how many backed-up
/// refs there were.
pub fn remove_backups(repo: &Repository) -> Result<usize> {
    let n = backup_refs(repo)?.len();
    let dir = backup_repo_path(repo);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    let old: Vec<String> = repo
        .references_glob(&format!("{BACKUP_PREFIX}*"))?
        .flatten()
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    for name in old {
        repo.find_reference(&name)?
            .delete()
            .with_context(|| format!("cannot delete {name}"))?;
    }
    Ok(n)
}

#[cfg(unix)]
fn private_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))
}
#[cfg(not(unix))]
fn private_dir(_dir: &std::path::Path) -> Result<()> {
    Ok(())
}

/// Gives `dst` (an `objects/` directory) every object file of `src`: hard links, or copies where
/// links cannot be made (another file system); alternates are carried over as absolute paths.
fn link_objects(src: &std::path::Path, dst: &std::path::Path) -> Result<()> {
    let link = |from: &std::path::Path, to: &std::path::Path| -> Result<()> {
        if to.exists() {
            return Ok(());
        }
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to)
                .with_context(|| format!("cannot copy {} into the backup", from.display()))?;
        }
        Ok(())
    };
    let hex = |n: &str| n.bytes().all(|b| b.is_ascii_hexdigit());
    for e in std::fs::read_dir(src).with_context(|| format!("cannot read {}", src.display()))? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 2 && hex(name) && e.path().is_dir() {
            let to = dst.join(name);
            std::fs::create_dir_all(&to)?;
            for f in std::fs::read_dir(e.path())?.flatten() {
                let n = f.file_name();
                if n.to_str().is_some_and(|n| n.len() == 38 && hex(n)) {
                    link(&f.path(), &to.join(&n))?;
                }
            }
        }
    }
    let pack = src.join("pack");
    if pack.is_dir() {
        let to = dst.join("pack");
        std::fs::create_dir_all(&to)?;
        for f in std::fs::read_dir(&pack)?.flatten() {
            let n = f.file_name();
            let keep = n.to_str().is_some_and(|n| {
                n.starts_with("pack-") && [".pack", ".idx", ".rev"].iter().any(|x| n.ends_with(x))
            });
            if keep {
                link(&f.path(), &to.join(&n))?;
            }
        }
    }
    if let Ok(text) = std::fs::read(src.join("info").join("alternates")) {
        use std::os::unix::ffi::OsStrExt;
        let mut out = Vec::new();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let p = std::path::Path::new(std::ffi::OsStr::from_bytes(line));
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                src.join(p)
            };
            out.extend_from_slice(abs.as_os_str().as_bytes());
            out.push(b'\n');
        }
        std::fs::create_dir_all(dst.join("info"))?;
        std::fs::write(dst.join("info").join("alternates"), out)?;
    }
    Ok(())
}

/// Records the old value of every ref in `refs` in the backup repository ([`backup_repo_path`]),
/// before any ref moves. A backup already recorded for a name is kept: it holds the state before
/// the first rewrite. A new backup repository is built under a temporary name and renamed into
/// place whole.
pub(super) fn write_backups(repo: &Repository, refs: &[RefUpdate]) -> Result<()> {
    let state = state_dir(repo);
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    private_dir(&state)?;
    let dir = backup_repo_path(repo);
    let fresh = !dir.exists();
    let work = if fresh {
        let tmp = state.join(format!("{BACKUP_REPO}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)
                .with_context(|| format!("cannot remove {}", tmp.display()))?;
        }
        Repository::init_bare(&tmp)
            .with_context(|| format!("cannot create the backup repository {}", tmp.display()))?;
        tmp
    } else {
        dir.clone()
    };
    private_dir(&work)?;
    link_objects(&repo.commondir().join("objects"), &work.join("objects"))?;
    let mut map = std::collections::BTreeMap::new();
    if !fresh {
        let b = Repository::open_bare(&work)?;
        map = current_refs(&b)?;
    }
    let mut head = None;
    for r in refs {
        let old = Oid::from_str(&r.old)?;
        if r.raw == b"HEAD" {
            head = Some(old);
        } else {
            map.entry(r.raw.clone()).or_insert(old);
        }
    }
    write_packed_refs(repo, &work, &map)?;
    // The old stash list, for undo.
    let stash_log = repo.commondir().join(crate::rewrite::graph::STASH_LOG);
    let stash_backup = work.join(crate::rewrite::graph::STASH_LOG);
    if stash_log.exists() && !stash_backup.exists() && refs.iter().any(|r| r.raw == b"refs/stash") {
        std::fs::create_dir_all(stash_backup.parent().context("stash log path")?)?;
        std::fs::copy(&stash_log, &stash_backup).context("cannot back up the stash list")?;
    }
    if fresh {
        // HEAD as it was: detached at its old value, or naming the same branch.
        let text = match head {
            Some(h) => format!("{h}\n").into_bytes(),
            None => match repo
                .find_reference("HEAD")
                .ok()
                .and_then(|h| h.symbolic_target_bytes().map(<[u8]>::to_vec))
            {
                Some(t) => [b"ref: ".as_slice(), &t, b"\n"].concat(),
                None => b"ref: refs/heads/main\n".to_vec(),
            },
        };
        std::fs::write(work.join("HEAD"), text).context("cannot write the backup's HEAD")?;
        std::fs::rename(&work, &dir)
            .with_context(|| format!("cannot move the backup into {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(c: char) -> Oid {
        Oid::from_str(&c.to_string().repeat(40)).unwrap()
    }

    #[test]
    fn commit_map_lines_parse_and_zero_means_pruned() {
        let path = std::path::Path::new("commit-map");
        let (a, b, c) = (oid('a'), oid('b'), oid('c'));
        let text = format!(
            "old                                      new\n{a} {b}\n\n{c} {}\nlonely\n",
            Oid::zero()
        );
        let map = parse_commit_map(&text, path).unwrap();
        assert_eq!(map, vec![(a, Some(b)), (c, None)]);
        // The header is skipped whatever it says: a map of one line is empty.
        assert!(parse_commit_map(&format!("{a} {b}\n"), path)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn commit_map_with_a_bad_id_names_the_file() {
        let err = parse_commit_map(
            "old new\nnot-an-id 0000\n",
            std::path::Path::new("/x/commit-map"),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("/x/commit-map: bad line"),
            "{err:#}"
        );
    }
}
