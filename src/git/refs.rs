//! References, listed once for every git reader (the history scan, the rewrite graph), with
//! names as bytes: git allows any bytes but NUL and newline, and a name that is not UTF-8 must
//! survive a rewrite unchanged. `rewrite/verify.rs` reads the ref files itself, on purpose.

use super::id::ObjectId;
use git2::Repository;

/// One reference as the repository stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The full name (`refs/heads/main`), as bytes.
    pub name: Vec<u8>,
    /// The id a direct ref stores; `None` for a symbolic ref.
    pub direct: Option<ObjectId>,
    /// The id it resolves to, following symbolic refs; `None` when it does not resolve.
    pub resolved: Option<ObjectId>,
}

impl Ref {
    /// The name as text (lossy UTF-8), for messages and display paths.
    pub fn lossy_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Every reference under `refs/` (not `HEAD`), in the order libgit2 lists them. The outer error
/// is a listing that could not start; an inner one, a reference that could not be read.
pub fn list(repo: &Repository) -> Result<Vec<Result<Ref, git2::Error>>, git2::Error> {
    let mut out = Vec::new();
    for r in repo.references()? {
        out.push(r.map(|r| {
            let direct = match r.kind() {
                Some(git2::ReferenceType::Direct) => r.target().map(ObjectId::of),
                _ => None,
            };
            let resolved = match direct {
                Some(id) => Some(id),
                None => r.resolve().ok().and_then(|r| r.target()).map(ObjectId::of),
            };
            Ref {
                name: r.name_bytes().to_vec(),
                direct,
                resolved,
            }
        }));
    }
    Ok(out)
}

/// The id `HEAD` resolves to, if it does (not on an unborn branch).
pub fn head(repo: &Repository) -> Option<ObjectId> {
    let head = repo.head().ok()?;
    head.resolve().ok()?.target().map(ObjectId::of)
}

/// `HEAD`'s id when it is detached (points at a commit, not a branch).
pub fn detached_head(repo: &Repository) -> Option<ObjectId> {
    if !repo.head_detached().unwrap_or(false) {
        return None;
    }
    repo.head().ok()?.target().map(ObjectId::of)
}

/// Refs under `refs/leaksweep/`: old-style backups of a history rewrite.
pub fn is_backup_ref(name: &[u8]) -> bool {
    name.starts_with(b"refs/leaksweep/")
}

/// A ref name for display: lossy UTF-8 with control characters escaped.
pub fn display_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().to_string()
}

/// The reflog of `refs/stash`, which holds every stash entry (`stash@{N}`), under the common dir.
pub const STASH_LOG: &str = "logs/refs/stash";

/// The commit of every stash entry, newest first (`stash@{0}` first), read from [`STASH_LOG`].
/// Lines that hold no id, and zero ids, are passed over.
pub fn stash_entries(repo: &Repository) -> Vec<ObjectId> {
    let Ok(text) = std::fs::read(repo.commondir().join(STASH_LOG)) else {
        return Vec::new();
    };
    stash_ids(&text)
}

/// The new ids of a reflog's lines (`old new name <email> time tz\tmessage`), newest first.
fn stash_ids(text: &[u8]) -> Vec<ObjectId> {
    let mut out: Vec<ObjectId> = text
        .split(|&b| b == b'\n')
        .filter_map(|l| l.get(41..81))
        .filter_map(|h| std::str::from_utf8(h).ok())
        .filter_map(ObjectId::from_hex)
        .filter(|o| !o.is_zero())
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflog_lines() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let z = "0".repeat(40);
        let log = format!(
            "{z} {a} A <a@x> 1 +0000\tWIP on main\n{a} {b} A <a@x> 2 +0000\tWIP\nshort line\n{b} {z} A <a@x> 3 +0000\tdrop\n"
        );
        let ids: Vec<String> = stash_ids(log.as_bytes())
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert_eq!(ids, [b, a]);
        assert!(stash_ids(b"").is_empty());
    }

    #[test]
    fn names() {
        assert!(is_backup_ref(b"refs/leaksweep/old/main"));
        assert!(!is_backup_ref(b"refs/heads/leaksweep/x"));
        assert_eq!(
            display_name(b"refs/heads/a\nb\xff"),
            "refs/heads/a\\nb\u{fffd}"
        );
    }
}
