//! The holders of a repository, read from the git directory itself: refs by raw name (what
//! libgit2 lists, `packed-refs` line by line with its peeled lines, loose files by raw file
//! name), every worktree's HEAD, pseudo-refs and index, every reflog entry, and every file
//! outside the object store.

use crate::rewrite::apply::BACKUP_PREFIX;
use anyhow::Result;
use git2::{Oid, Repository};
use std::collections::HashSet;
use std::path::Path;

/// What keeps an object (or a file) in the repository, as the sweep classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HolderKind {
    /// Refs by raw name (loose, packed, peeled lines, every backend libgit2 lists), every
    /// worktree's HEAD, pseudo-refs (`ORIG_HEAD`, `FETCH_HEAD`, ...) and index, and every file of
    /// the git directory outside the object store: a secret held here is a failure.
    Live,
    /// The backups of the rewrite (refs under [`BACKUP_PREFIX`]) and the files of its state
    /// directory, with the old commits they record (commit-map, ref-map): expected to hold the
    /// old values until `rewrite finish`.
    Backup,
    /// Reflog entries: a secret that only a reflog reaches (no backup holds the same object) is a
    /// failure; one the backups hold too is the old history, expired by `finish`.
    Log,
}

/// One holder: what it is and how it is shown (raw names escaped, never lossy-merged).
#[derive(Debug, Clone)]
pub struct Holder {
    pub kind: HolderKind,
    pub name: String,
}

/// A name from the repository (a ref, a path) made printable: invalid UTF-8 and control
/// characters escaped as `\xNN`, so two different raw names never print the same.
pub fn show_bytes(raw: &[u8]) -> String {
    let mut out = String::new();
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                for b in c.to_string().bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A starting point of the object walk: holder, object, path of the object when known.
pub(super) struct Seed {
    pub(super) holder: u32,
    pub(super) oid: Oid,
    pub(super) path: Vec<u8>,
    pub(super) blob: bool,
}

/// Holders found in the git directory, the objects they name, and what could not be read.
#[derive(Default)]
pub(super) struct Found {
    pub(super) holders: Vec<Holder>,
    pub(super) seeds: Vec<Seed>,
    /// Files of the git directory to search (outside the object store), with their holder.
    pub(super) files: Vec<(u32, std::path::PathBuf)>,
    pub(super) problems: Vec<String>,
    pub(super) notes: Vec<String>,
    seen_refs: HashSet<(Vec<u8>, Oid)>,
}

impl Found {
    fn holder(&mut self, kind: HolderKind, name: String) -> u32 {
        self.holders.push(Holder { kind, name });
        (self.holders.len() - 1) as u32
    }

    fn add_ref(&mut self, raw_name: &[u8], shown: String, oid: Oid) {
        let kind = if raw_name.starts_with(BACKUP_PREFIX.as_bytes()) {
            HolderKind::Backup
        } else {
            HolderKind::Live
        };
        self.add_ref_as(raw_name, shown, oid, kind);
    }

    fn add_ref_as(&mut self, raw_name: &[u8], shown: String, oid: Oid, kind: HolderKind) {
        if oid.is_zero() || !self.seen_refs.insert((raw_name.to_vec(), oid)) {
            return;
        }
        let h = self.holder(kind, shown);
        self.seeds.push(Seed {
            holder: h,
            oid,
            path: Vec::new(),
            blob: false,
        });
    }
}

pub(super) fn hex_oid(s: &[u8]) -> Option<Oid> {
    let hex = s.get(..40)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

#[cfg(unix)]
pub(super) fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}
#[cfg(not(unix))]
pub(super) fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

/// Regular files below `dir` (recursively, symlinks not followed), with their path relative to
/// `dir` as raw bytes; `skip` lists directories (relative) not to enter.
fn files_below(dir: &Path, skip: &[&str], out: &mut Vec<(Vec<u8>, std::path::PathBuf)>) {
    fn walk(dir: &Path, rel: &[u8], skip: &[&str], out: &mut Vec<(Vec<u8>, std::path::PathBuf)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let mut r = rel.to_vec();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(&os_bytes(&e.file_name()));
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if skip.iter().any(|s| s.as_bytes() == r.as_slice()) {
                    continue;
                }
                walk(&e.path(), &r, skip, out);
            } else if ft.is_file() {
                out.push((r, e.path()));
            }
        }
    }
    walk(dir, b"", skip, out);
}

/// Every holder of the repository, read from the git directory itself (see [`HolderKind`]).
pub(super) fn find_holders(repo: &Repository) -> Result<Found> {
    let mut f = Found::default();
    let common = repo.commondir().to_path_buf();
    // The git directories: the main one, then each linked worktree's (`worktrees/<id>/`).
    let mut gitdirs: Vec<(String, std::path::PathBuf)> = vec![(String::new(), common.clone())];
    if let Ok(rd) = std::fs::read_dir(common.join("worktrees")) {
        let mut wts: Vec<_> = rd.flatten().filter(|e| e.path().is_dir()).collect();
        wts.sort_by_key(|e| e.file_name());
        for e in wts {
            gitdirs.push((
                format!("worktree {}: ", show_bytes(&os_bytes(&e.file_name()))),
                e.path(),
            ));
        }
    }
    // Refs of every backend libgit2 reads, by raw name.
    match repo.references() {
        Ok(refs) => {
            for r in refs {
                match r {
                    Ok(r) => {
                        if let Some(oid) = r.target() {
                            let raw = r.name_bytes().to_vec();
                            f.add_ref(&raw, show_bytes(&raw), oid);
                        }
                    }
                    Err(e) => f.problems.push(format!("cannot read a reference: {e}")),
                }
            }
        }
        Err(e) => f.problems.push(format!("cannot list references: {e}")),
    }
    // packed-refs, line by line: every ref and every peeled line.
    match std::fs::read(common.join("packed-refs")) {
        Ok(text) => {
            let mut last: Option<(Vec<u8>, String)> = None;
            for line in text.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.is_empty() || line.starts_with(b"#") {
                    continue;
                }
                if let Some(rest) = line.strip_prefix(b"^") {
                    match (hex_oid(rest), &last) {
                        (Some(oid), Some((raw, shown))) => {
                            let mut key = raw.clone();
                            key.extend_from_slice(b"^{}");
                            let shown = format!("{shown} (peeled line of packed-refs)");
                            f.add_ref(&key, shown, oid);
                        }
                        _ => f.problems.push(format!(
                            "packed-refs: unreadable line {:?}",
                            show_bytes(line)
                        )),
                    }
                    continue;
                }
                match (hex_oid(line), line.get(41..)) {
                    (Some(oid), Some(name)) if line.get(40) == Some(&b' ') => {
                        let shown = show_bytes(name);
                        f.add_ref(name, shown.clone(), oid);
                        last = Some((name.to_vec(), shown));
                    }
                    _ => f.problems.push(format!(
                        "packed-refs: unreadable line {:?}",
                        show_bytes(line)
                    )),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => f.problems.push(format!("cannot read packed-refs: {e}")),
    }
    for (label, dir) in &gitdirs {
        let main = label.is_empty();
        // Loose refs, by raw file name (a linked worktree's own refs: bisect, worktree, ...).
        let mut loose = Vec::new();
        files_below(&dir.join("refs"), &[], &mut loose);
        for (rel, path) in loose {
            let mut raw = b"refs/".to_vec();
            raw.extend_from_slice(&rel);
            let Ok(text) = std::fs::read(&path) else {
                f.problems
                    .push(format!("{label}cannot read {}", show_bytes(&raw)));
                continue;
            };
            if text.starts_with(b"ref:") {
                continue;
            }
            match hex_oid(&text) {
                Some(oid) => {
                    let mut key = label.as_bytes().to_vec();
                    key.extend_from_slice(&raw);
                    f.add_ref(&key, format!("{label}{}", show_bytes(&raw)), oid);
                }
                None => f.problems.push(format!(
                    "{label}{}: not a ref (cannot tell what it holds)",
                    show_bytes(&raw)
                )),
            }
        }
        // HEAD and the pseudo-refs (ORIG_HEAD, FETCH_HEAD, MERGE_HEAD, ...): every id they list.
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut names: Vec<_> = rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| os_bytes(&e.file_name()))
                .filter(|n| {
                    !n.is_empty()
                        && n.iter().all(|&b| b.is_ascii_uppercase() || b == b'_')
                        && (n.ends_with(b"HEAD") || n.as_slice() == b"AUTO_MERGE")
                })
                .collect();
            names.sort();
            for n in names {
                let path = dir.join(String::from_utf8_lossy(&n).as_ref());
                let Ok(text) = std::fs::read(&path) else {
                    continue;
                };
                for line in text.split(|&b| b == b'\n') {
                    if let Some(oid) = hex_oid(line) {
                        let mut key = label.as_bytes().to_vec();
                        key.extend_from_slice(&n);
                        // HEAD keeps its objects; the others only name them, as a reflog does.
                        let kind = if n.as_slice() == b"HEAD" {
                            HolderKind::Live
                        } else {
                            HolderKind::Log
                        };
                        f.add_ref_as(&key, format!("{label}{}", show_bytes(&n)), oid, kind);
                    }
                }
            }
        }
        // The index: every staged blob (all stages).
        let index_path = dir.join("index");
        if index_path.is_file() {
            let name = if main {
                "the index".to_string()
            } else {
                format!("{label}index")
            };
            match git2::Index::open(&index_path) {
                Ok(index) => {
                    let h = f.holder(HolderKind::Live, name);
                    for e in index.iter() {
                        if e.mode & 0o170000 == 0o160000 {
                            continue;
                        }
                        f.seeds.push(Seed {
                            holder: h,
                            oid: e.id,
                            path: e.path.clone(),
                            blob: true,
                        });
                    }
                }
                Err(e) => f.problems.push(format!(
                    "{name} cannot be read ({}), so what it stages is not checked",
                    e.message()
                )),
            }
        }
    }
    // Reflogs, entry by entry (both ids of each), numbered as git does (`@{0}` is the newest).
    for (label, dir) in &gitdirs {
        let mut logs = Vec::new();
        files_below(&dir.join("logs"), &[], &mut logs);
        for (rel, path) in logs {
            let Ok(text) = std::fs::read(&path) else {
                f.problems.push(format!(
                    "{label}cannot read the reflog logs/{}",
                    show_bytes(&rel)
                ));
                continue;
            };
            let lines: Vec<&[u8]> = text
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let n = lines.len();
            for (i, line) in lines.into_iter().enumerate() {
                let name = format!("{label}reflog {}@{{{}}}", show_bytes(&rel), n - 1 - i);
                let ids = [hex_oid(line), line.get(41..).and_then(hex_oid)];
                let mut h = None;
                for oid in ids.into_iter().flatten().filter(|o| !o.is_zero()) {
                    let hi = *h.get_or_insert_with(|| f.holder(HolderKind::Log, name.clone()));
                    f.seeds.push(Seed {
                        holder: hi,
                        oid,
                        path: Vec::new(),
                        blob: false,
                    });
                }
            }
        }
    }
    // Every file of the git directory outside the object store (reflog messages, COMMIT_EDITMSG,
    // FETCH_HEAD, config, rebase state, LFS cache, ...). Submodule repositories are their own.
    let mut files = Vec::new();
    files_below(&common, &["objects", "modules"], &mut files);
    if common.join("modules").is_dir() {
        f.notes.push(
            "submodule repositories under modules/ are not searched (verify each on its own)"
                .into(),
        );
    }
    let state = crate::rewrite::apply::state_dir(repo);
    for (rel, path) in files {
        let kind = if path.starts_with(&state) {
            HolderKind::Backup
        } else {
            HolderKind::Live
        };
        let h = f.holder(kind, format!("file {}", show_bytes(&rel)));
        if kind == HolderKind::Backup {
            // The old history the rewrite recorded (the ids of commit-map and ref-map) is the
            // backup, wherever the backup refs are kept: a reflog naming it is expected, a live
            // holder reaching it is still a failure (live holders are walked first).
            if let Ok(text) = std::fs::read(&path) {
                for line in text.split(|&b| b == b'\n') {
                    for word in line.split(|&b| b == b' ').take(2) {
                        if let Some(oid) = hex_oid(word).filter(|_| word.len() == 40) {
                            f.seeds.push(Seed {
                                holder: h,
                                oid,
                                path: Vec::new(),
                                blob: false,
                            });
                        }
                    }
                }
            }
        }
        f.files.push((h, path));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_the_first_forty_hex_digits() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let want = Oid::from_str(hex).unwrap();
        assert_eq!(hex_oid(hex.as_bytes()), Some(want));
        assert_eq!(
            hex_oid(format!("{hex} refs/heads/main").as_bytes()),
            Some(want)
        );
        assert_eq!(hex_oid(format!("{hex}\n").as_bytes()), Some(want));
        assert_eq!(hex_oid(&hex.as_bytes()[..39]), None);
        assert_eq!(hex_oid(b"ref: refs/heads/main"), None);
        assert_eq!(hex_oid(b"0123456789abcdef0123456789abcdef0123456g"), None);
    }

    #[test]
    fn files_below_lists_regular_files_sorted_and_skips_what_it_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["b", "a/x", "a/y", "objects/pack/p", "logs/HEAD"] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"").unwrap();
        }
        let mut out = Vec::new();
        files_below(d, &["objects"], &mut out);
        let rels: Vec<&[u8]> = out.iter().map(|(r, _)| r.as_slice()).collect();
        assert_eq!(rels, [&b"a/x"[..], b"a/y", b"b", b"logs/HEAD"]);
        assert!(out
            .iter()
            .all(|(r, p)| p.ends_with(std::str::from_utf8(r).unwrap())));
        let mut nested = Vec::new();
        files_below(d, &["objects/pack"], &mut nested);
        assert_eq!(nested.len(), 4);
        let mut none = Vec::new();
        files_below(&d.join("missing"), &[], &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn shown_names_keep_raw_bytes_apart() {
        assert_eq!(show_bytes(b"refs/heads/caf\xe9"), "refs/heads/caf\\xe9");
        assert_eq!(show_bytes("refs/heads/café".as_bytes()), "refs/heads/café");
        assert_eq!(show_bytes(b"a\x1b[31m"), "a\\x1b[31m");
    }
}
