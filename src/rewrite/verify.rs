//! `rewrite verify`: proof that the rewrite did what it should and nothing else.
//!
//! Four checks. (0) The sweep ([`sweep`]), which trusts nothing `apply` believed: it reads the
//! git directory itself for every holder of data (every ref by its raw name, loose and packed,
//! peeled lines included; the HEAD, pseudo-refs and index of every worktree; every reflog entry;
//! every file outside the object store), walks every object each reaches, and searches all of it
//! for the targets raw and in every encoding the scanner decodes, and with the full rule set.
//! The backups are the one expected holder. (1) No target literal is reachable from the refs the
//! rewrite walked, and no removed path is left in any tree; with `--include-unreachable`, every
//! object in the object database is searched as well.
//! (2) From the commit-map: every old commit has its new commit, the parents of each new commit
//! are the mapped parents of the old one (same topology), and the number of commits reachable now
//! equals the number mapped. (3) For every (old, new) commit pair the trees are compared entry by
//! entry: the same paths minus removed ones, the same modes, and each blob identical, unless the
//! old blob held a target, in which case the new one must be exactly the old one with the targets
//! replaced. Tree pairs already compared are not compared again, so the cost follows the number of
//! distinct trees, not commits x files.
//!
//! NOTE: the sweep does not search an index's resolve-undo entries, submodule repositories under
//! `modules/`, or base64 wrapped across lines.

use super::apply::read_commit_map;
use super::apply::BACKUP_PREFIX;
use super::graph::header_fields;
use super::graph::{
    mode_is_gitlink, mode_is_tree, split_object, tree_entries, BuildOptions, Graph,
};
use super::{RemoveSet, Replacer, Target, TargetRecord, REMOVED_BIT};
use crate::finding::SecretId;
use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Scanner};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::{Context, Result};
use git2::{ObjectType, Odb, Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use zeroize::Zeroizing;

/// The result: every problem found (empty: all holds) and what was checked.
#[derive(Debug, Default)]
pub struct Verdict {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

const MAX_PROBLEMS: usize = 50;

impl Verdict {
    fn fail(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems
                .push("... (further problems not listed)".into());
        }
    }
}

/// What [`verify`] checks against: the targets (values known), the recorded ids (values maybe
/// not), the paths removed, and the rule set with its size limit.
pub struct Inputs<'a> {
    pub targets: &'a [Target],
    pub recorded: &'a [TargetRecord],
    pub remove: &'a RemoveSet,
    pub scanner: &'a Scanner,
    pub max_file_size: u64,
}

/// Runs all checks.
pub fn verify(
    repo: &Repository,
    path: &Path,
    inputs: &Inputs,
    include_unreachable: bool,
    threads: Option<usize>,
) -> Result<Verdict> {
    let mut v = Verdict::default();
    sweep(
        repo,
        path,
        inputs.targets,
        inputs.recorded,
        inputs.scanner,
        inputs.max_file_size,
        threads,
        &mut v,
    )?;
    let replacer = &Replacer::new(inputs.targets)?;
    let remove = inputs.remove;
    let graph = Graph::build(
        repo,
        path,
        &BuildOptions {
            replacer,
            remove,
            write_blobs: false,
            threads,
        },
    )?;
    // (1) Nothing left reachable.
    let mut left = 0;
    for (i, n) in graph.nodes.iter().enumerate() {
        if !n.is_tree && graph.mask[i] != 0 {
            left += 1;
            v.fail(format!("blob {} still holds a secret", n.oid));
        }
    }
    for c in &graph.commits {
        if c.msg_mask != 0 {
            left += 1;
            v.fail(format!(
                "commit {} still holds a secret in its message",
                c.oid
            ));
        }
        if graph.mask[c.tree as usize] & REMOVED_BIT != 0 {
            v.fail(format!(
                "commit {} still has a removed path in its tree",
                c.oid
            ));
        }
    }
    for t in &graph.tags {
        if t.mask != 0 {
            left += 1;
            v.fail(format!("tag {} still holds a secret in its message", t.oid));
        }
    }
    v.notes.push(format!(
        "searched {} refs, {} commits, {} tags, {} unique blobs: {} object(s) still hold a secret",
        graph.refs.len(),
        graph.commits.len(),
        graph.tags.len(),
        graph.blobs_scanned,
        left
    ));
    if include_unreachable {
        let hits = scan_odb(repo, path, replacer, threads)?;
        v.notes.push(format!(
            "searched every object in the object database: {} hold a secret",
            hits.len()
        ));
        for h in hits {
            v.fail(format!(
                "object {h} in the object database still holds a secret (run `leaksweep rewrite finish` to drop the backup refs and prune)"
            ));
        }
    }
    // (2) and (3) from the commit-map.
    let Some(map) = read_commit_map(repo)? else {
        v.notes
            .push("no commit-map (no `rewrite apply` here): history comparison skipped".into());
        return Ok(v);
    };
    let mapped: HashMap<Oid, Option<Oid>> = map.iter().copied().collect();
    let expected = map
        .iter()
        .filter_map(|(_, n)| *n)
        .collect::<HashSet<_>>()
        .len();
    if expected != graph.commits.len() {
        v.fail(format!(
            "commit count differs: the commit-map maps to {expected} commits, {} are reachable from the refs",
            graph.commits.len()
        ));
    }
    let reachable: HashSet<Oid> = graph.commits.iter().map(|c| c.oid).collect();
    let odb = repo.odb()?;
    let mut cmp = TreeCompare {
        odb: &odb,
        replacer,
        remove,
        seen: HashSet::new(),
        cleaned: HashMap::new(),
        problems: Vec::new(),
    };
    let mut pairs = 0usize;
    let mut old_gone = 0usize;
    for (old, new) in &map {
        let Some(new) = new else { continue };
        pairs += 1;
        if !reachable.contains(new) {
            v.fail(format!(
                "new commit {new} (for {old}) is not reachable from any ref"
            ));
            continue;
        }
        let Ok(nc) = repo.find_commit(*new) else {
            v.fail(format!("new commit {new} is missing"));
            continue;
        };
        let Ok(oc) = repo.find_commit(*old) else {
            // `rewrite finish` pruned the old history: nothing left to compare against.
            old_gone += 1;
            continue;
        };
        let mut want: Vec<Oid> = Vec::new();
        for p in oc.parent_ids() {
            // A pruned parent is stood in for by its own (first) parent, recursively.
            if let Some(m) = stand_in(repo, &mapped, p) {
                if !want.contains(&m) {
                    want.push(m);
                }
            }
        }
        let got: Vec<Oid> = nc.parent_ids().collect();
        if want != got {
            v.fail(format!(
                "commit {new}: parents differ from the old commit {old}'s, mapped"
            ));
        }
        cmp.compare(oc.tree_id(), nc.tree_id(), b"")?;
    }
    for p in cmp.problems.drain(..) {
        v.fail(p);
    }
    if old_gone > 0 {
        v.notes.push(format!(
            "{old_gone} old commit(s) are gone (pruned by `rewrite finish`): not compared"
        ));
    }
    v.notes.push(format!(
        "compared {} commit pairs ({} distinct tree pairs): parents and every file outside the replaced values",
        pairs - old_gone,
        cmp.seen.len()
    ));
    Ok(v)
}

/// What a parent maps to: its new commit, or for a pruned one, what stands in for it.
fn stand_in(repo: &Repository, mapped: &HashMap<Oid, Option<Oid>>, mut p: Oid) -> Option<Oid> {
    loop {
        match mapped.get(&p) {
            None => return Some(p),
            Some(Some(n)) => return Some(*n),
            Some(None) => p = repo.find_commit(p).ok()?.parent_id(0).ok()?,
        }
    }
}

struct TreeCompare<'a> {
    odb: &'a Odb<'a>,
    replacer: &'a Replacer,
    remove: &'a RemoveSet,
    seen: HashSet<(Oid, Oid, Vec<u8>)>,
    /// old blob -> expected new id (itself when it holds no target).
    cleaned: HashMap<Oid, Oid>,
    problems: Vec<String>,
}

impl TreeCompare<'_> {
    fn compare(&mut self, old: Oid, new: Oid, path: &[u8]) -> Result<()> {
        let key_path = if self.remove.is_empty() {
            Vec::new()
        } else {
            path.to_vec()
        };
        if !self.seen.insert((old, new, key_path)) {
            return Ok(());
        }
        if old == new && self.remove.is_empty() {
            // Unchanged tree: only fine if nothing in it needed cleaning; the reachability scan
            // already proved that no blob in it holds a secret.
            return Ok(());
        }
        let o = self.odb.read(old)?.data().to_vec();
        let n = self.odb.read(new)?.data().to_vec();
        let oe = tree_entries(&o)?;
        let ne = tree_entries(&n)?;
        let mut ni = ne.iter().peekable();
        let show = |name: &[u8]| {
            let mut p = path.to_vec();
            if !p.is_empty() {
                p.push(b'/');
            }
            p.extend_from_slice(name);
            p
        };
        for (mode, name, id) in &oe {
            let full = show(name);
            if self.remove.matches(&full, name) {
                continue;
            }
            let Some((nmode, nname, nid)) = ni.peek().copied() else {
                self.gone(&full, old, *id)?;
                continue;
            };
            if nname != name {
                self.gone(&full, old, *id)?;
                continue;
            }
            ni.next();
            if mode != nmode {
                self.problems
                    .push(format!("{}: mode changed", String::from_utf8_lossy(&full)));
                continue;
            }
            if mode_is_gitlink(mode) {
                if id != nid {
                    self.problems.push(format!(
                        "{}: submodule commit changed",
                        String::from_utf8_lossy(&full)
                    ));
                }
            } else if mode_is_tree(mode) {
                self.compare(*id, *nid, &full)?;
            } else {
                let want = self.expected_blob(*id)?;
                if want != *nid {
                    self.problems.push(format!(
                        "{}: blob {nid} differs from the old blob {id} beyond the replaced values",
                        String::from_utf8_lossy(&full)
                    ));
                }
            }
        }
        for (_, name, _) in ni {
            self.problems.push(format!(
                "{}: path added by the rewrite",
                String::from_utf8_lossy(&show(name))
            ));
        }
        Ok(())
    }

    /// An old entry missing in the new tree is fine only for a directory emptied by removals.
    fn gone(&mut self, full: &[u8], _tree: Oid, id: Oid) -> Result<()> {
        if !self.remove.is_empty() {
            if let Ok(o) = self.odb.read(id) {
                if o.kind() == ObjectType::Tree && self.all_removed(id, full)? {
                    return Ok(());
                }
            }
        }
        self.problems.push(format!(
            "{}: path missing after the rewrite",
            String::from_utf8_lossy(full)
        ));
        Ok(())
    }

    fn all_removed(&self, tree: Oid, path: &[u8]) -> Result<bool> {
        let raw = self.odb.read(tree)?.data().to_vec();
        for (mode, name, id) in tree_entries(&raw)? {
            let mut full = path.to_vec();
            full.push(b'/');
            full.extend_from_slice(name);
            if self.remove.matches(&full, name) {
                continue;
            }
            if !(mode_is_tree(mode) && self.all_removed(id, &full)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn expected_blob(&mut self, old: Oid) -> Result<Oid> {
        if let Some(&e) = self.cleaned.get(&old) {
            return Ok(e);
        }
        let obj = self.odb.read(old)?;
        let e = match self.replacer.replace(obj.data()) {
            Some(c) => Oid::hash_object(ObjectType::Blob, &zeroize::Zeroizing::new(c))?,
            None => old,
        };
        self.cleaned.insert(old, e);
        Ok(e)
    }
}

/// Every object in the object database holding a target (blob content, whole commits and tags).
fn scan_odb(
    repo: &Repository,
    path: &Path,
    replacer: &Replacer,
    threads: Option<usize>,
) -> Result<Vec<Oid>> {
    let mut all = Vec::new();
    repo.odb()?.foreach(|oid| {
        all.push(*oid);
        true
    })?;
    all.sort();
    all.dedup();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let hits: Vec<Result<Vec<Oid>>> = pool.install(|| {
        all.par_chunks(512)
            .map_init(
                || Repository::open(path).map_err(anyhow::Error::from),
                |repo, chunk| {
                    let repo = repo.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let odb = repo.odb()?;
                    let mut out = Vec::new();
                    for oid in chunk {
                        let o = odb.read(*oid)?;
                        let data = match o.kind() {
                            ObjectType::Tree => continue,
                            ObjectType::Commit | ObjectType::Tag => split_object(o.data()).1,
                            _ => o.data(),
                        };
                        if replacer.mask(data) != 0 {
                            out.push(*oid);
                        }
                    }
                    Ok(out)
                },
            )
            .collect()
    });
    let mut out = Vec::new();
    for h in hits {
        out.extend(h?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The sweep: every holder, searched without trusting what `apply` believed.
// ---------------------------------------------------------------------------------------------

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

/// Every target the sweep searches for, with how it is shown (never the value).
struct Wanted {
    id: SecretId,
    label: String,
}

/// How a stored copy of a target was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Enc {
    Raw,
    Base64,
    Base64Url,
    Base64OfBase64,
    Base64UrlOfBase64,
}

/// An encoding, possibly inside percent-encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Form {
    enc: Enc,
    percent: bool,
}

impl std::fmt::Display for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = match self.enc {
            Enc::Raw => "plain text",
            Enc::Base64 => "base64",
            Enc::Base64Url => "base64url",
            Enc::Base64OfBase64 => "base64 of base64",
            Enc::Base64UrlOfBase64 => "base64url of base64",
        };
        if self.percent {
            write!(f, "{e}, percent-encoded")
        } else {
            f.write_str(e)
        }
    }
}

/// Shortest base64 core searched for: a shorter one would match random base64 data.
const MIN_CORE: usize = 8;

/// The base64 characters that encode `value` wherever it sits in the encoded data: for each of
/// the three alignments (the value starting 0, 1 or 2 bytes into a 3-byte group), the characters
/// that depend on the value's bytes alone. They are a substring of every encoding of any data
/// holding the value at that alignment, padded or not, so one literal per alignment covers the
/// value at the start, in the middle and at the end (with or without `=`) of a longer encoded
/// text. Cores shorter than [`MIN_CORE`] are left out.
fn base64_cores(value: &[u8], url: bool) -> Vec<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let engine = if url {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    let mut out = Vec::new();
    for skip in 0..3 {
        let Some(t) = value.get(skip..) else { break };
        let full = t.len() / 3 * 4;
        let core = full
            + match t.len() % 3 {
                1 => 1,
                2 => 2,
                _ => 0,
            };
        if core < MIN_CORE {
            continue;
        }
        let mut enc = Zeroizing::new(engine.encode(t).into_bytes());
        enc.truncate(core);
        out.push(enc);
    }
    out
}

/// The literal search of the sweep: every target raw and in every encoding the scanner decodes
/// (base64 standard and url-safe, padded or not, at every alignment, one layer of base64 inside
/// base64; percent-encoding, any mix of escaped and plain characters in either case, by
/// decoding the data rather than the needle).
pub struct Needles {
    ac: Option<AhoCorasick>,
    /// Per pattern: (target index, encoding).
    pats: Vec<(usize, Enc)>,
    /// Longest pattern, in bytes.
    max_len: usize,
}

impl Needles {
    pub fn new(targets: &[Target]) -> Result<Self> {
        use base64::Engine;
        let mut pats = Vec::new();
        let mut bytes: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            let v = t.secret.expose();
            if v.is_empty() {
                continue;
            }
            bytes.push(Zeroizing::new(v.to_vec()));
            pats.push((i, Enc::Raw));
            for (url, enc) in [(false, Enc::Base64), (true, Enc::Base64Url)] {
                for c in base64_cores(v, url) {
                    bytes.push(c);
                    pats.push((i, enc));
                }
            }
            for inner_engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                let inner = Zeroizing::new(inner_engine.encode(v).into_bytes());
                for (url, enc) in [(false, Enc::Base64OfBase64), (true, Enc::Base64UrlOfBase64)] {
                    for c in base64_cores(&inner, url) {
                        bytes.push(c);
                        pats.push((i, enc));
                    }
                }
            }
        }
        let ac = if bytes.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(bytes.iter().map(|b| b.as_slice()))
                    .context("cannot build the literal matcher")?,
            )
        };
        let max_len = bytes.iter().map(|b| b.len()).max().unwrap_or(0);
        Ok(Needles { ac, pats, max_len })
    }

    /// Every (target index, form) found in `data`, sorted and deduplicated.
    fn find(&self, data: &[u8]) -> Vec<(usize, Form)> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut search = |hay: &[u8], percent: bool| {
            for m in ac.find_overlapping_iter(hay) {
                let (t, enc) = self.pats[m.pattern().as_usize()];
                out.push((t, Form { enc, percent }));
            }
        };
        search(data, false);
        if let Some(decoded) = percent_decoded(data) {
            search(&decoded, true);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// `data` with every `%XX` escape decoded, or `None` when it holds none.
fn percent_decoded(data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let first = memchr::memchr_iter(b'%', data).find(|&i| {
        i + 2 < data.len() && hex(data[i + 1]).is_some() && hex(data[i + 2]).is_some()
    })?;
    let mut out = Zeroizing::new(Vec::with_capacity(data.len()));
    out.extend_from_slice(&data[..first]);
    let mut i = first;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    Some(out)
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
struct Seed {
    holder: u32,
    oid: Oid,
    path: Vec<u8>,
    blob: bool,
}

/// Holders found in the git directory, the objects they name, and what could not be read.
#[derive(Default)]
struct Found {
    holders: Vec<Holder>,
    seeds: Vec<Seed>,
    /// Files of the git directory to search (outside the object store), with their holder.
    files: Vec<(u32, std::path::PathBuf)>,
    problems: Vec<String>,
    notes: Vec<String>,
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

fn hex_oid(s: &[u8]) -> Option<Oid> {
    let hex = s.get(..40)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}
#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
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
fn find_holders(repo: &Repository) -> Result<Found> {
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
    let state = super::apply::state_dir(repo);
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

/// One object to search, with the holder that reached it first.
#[derive(Clone, Copy)]
struct Item {
    oid: Oid,
    holder: u32,
    kind: ObjectType,
    /// Index into the interned paths.
    path: u32,
}

/// Walks every object every seed reaches, holders in order (live, backups, reflogs), each
/// object once: an object is attributed to the first holder that reaches it.
fn walk_objects(repo: &Repository, found: &Found) -> Result<(Vec<Item>, Vec<Vec<u8>>, usize)> {
    let odb = repo.odb()?;
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut items = Vec::new();
    let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
    let mut path_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut missing = 0usize;
    let mut order: Vec<&Seed> = found.seeds.iter().collect();
    order.sort_by_key(|s| found.holders[s.holder as usize].kind);
    let mut stack: Vec<(Oid, Vec<u8>, bool)> = Vec::new();
    for seed in order {
        stack.push((seed.oid, seed.path.clone(), seed.blob));
        while let Some((oid, path, blob)) = stack.pop() {
            if !seen.insert(oid) {
                continue;
            }
            let pi = match path_index.get(&path) {
                Some(&i) => i,
                None => {
                    paths.push(path.clone());
                    let i = (paths.len() - 1) as u32;
                    path_index.insert(path.clone(), i);
                    i
                }
            };
            if blob {
                items.push(Item {
                    oid,
                    holder: seed.holder,
                    kind: ObjectType::Blob,
                    path: pi,
                });
                continue;
            }
            let Ok(obj) = odb.read(oid) else {
                missing += 1;
                continue;
            };
            let data = obj.data();
            match obj.kind() {
                ObjectType::Commit | ObjectType::Tag => {
                    let (headers, _) = split_object(data);
                    for (name, line) in header_fields(headers) {
                        let id = line
                            .get(name.len() + 1..)
                            .and_then(hex_oid)
                            .filter(|_| matches!(name, b"tree" | b"parent" | b"object"));
                        if let Some(id) = id {
                            stack.push((id, Vec::new(), false));
                        }
                    }
                    items.push(Item {
                        oid,
                        holder: seed.holder,
                        kind: obj.kind(),
                        path: 0,
                    });
                }
                ObjectType::Tree => {
                    let Ok(entries) = tree_entries(data) else {
                        missing += 1;
                        continue;
                    };
                    for (mode, name, id) in entries {
                        if mode_is_gitlink(mode) {
                            continue;
                        }
                        let mut p = path.clone();
                        if !p.is_empty() {
                            p.push(b'/');
                        }
                        p.extend_from_slice(name);
                        stack.push((id, p, !mode_is_tree(mode)));
                    }
                }
                _ => items.push(Item {
                    oid,
                    holder: seed.holder,
                    kind: ObjectType::Blob,
                    path: pi,
                }),
            }
        }
    }
    Ok((items, paths, missing))
}

/// One place a target is still held.
struct Hit {
    holder: u32,
    /// The object or file, shown.
    at: String,
    wanted: usize,
    how: String,
}

/// Searches `data` (an object's content or a file) for every wanted secret: the literal search
/// and, on text, the rule set (a finding whose secret_id is wanted counts; others are tallied).
#[allow(clippy::too_many_arguments)]
fn search(
    data: &[u8],
    rule_text: Option<&[u8]>,
    path: &str,
    needles: &Needles,
    scanner: &Scanner,
    wanted_ids: &HashMap<SecretId, usize>,
    targets_len: usize,
    scratch: &mut Scratch,
    mut hit: impl FnMut(usize, String),
    other: &mut Vec<(SecretId, String)>,
) {
    for (t, form) in needles.find(data) {
        if t < targets_len {
            hit(t, format!("as {form}"));
        }
    }
    if let Some(text) = rule_text {
        if is_binary(text) {
            return;
        }
        for f in scanner.scan_blob(&Blob::file(text, path), scratch) {
            match wanted_ids.get(&f.secret_id) {
                Some(&w) => hit(w, format!("by rule {}", f.rule_id)),
                None => other.push((f.secret_id.clone(), f.rule_id.clone())),
            }
        }
    }
}

/// The sweep's answer.
#[derive(Default)]
struct Swept {
    hits: Vec<Hit>,
    /// Secrets the rules find in live holders that are not targets: (id, rule, holder).
    others: Vec<(SecretId, String, u32)>,
    unreadable: Vec<String>,
}

/// Searches every object and file the holders reach, in parallel.
#[allow(clippy::too_many_arguments)]
fn sweep_items(
    path: &Path,
    items: &[Item],
    paths: &[Vec<u8>],
    files: &[(u32, std::path::PathBuf)],
    common: &Path,
    needles: &Needles,
    scanner: &Scanner,
    max_file_size: u64,
    wanted_ids: &HashMap<SecretId, usize>,
    targets_len: usize,
    threads: Option<usize>,
) -> Result<Swept> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let objects: Vec<Result<Swept>> = pool.install(|| {
        items
            .par_chunks(256)
            .map_init(
                || (Repository::open(path), Scratch::default()),
                |(repo, scratch), chunk| {
                    let repo = repo.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let odb = repo.odb()?;
                    let mut s = Swept::default();
                    for it in chunk {
                        let obj = match odb.read(it.oid) {
                            Ok(o) => o,
                            Err(e) => {
                                s.unreadable
                                    .push(format!("object {}: {}", it.oid, e.message()));
                                continue;
                            }
                        };
                        let data = obj.data();
                        let p = show_bytes(&paths[it.path as usize]);
                        let (at, rule_text, rpath) = match it.kind {
                            ObjectType::Commit => (
                                format!("commit {}", it.oid),
                                Some(split_object(data).1),
                                super::super::source::history::COMMIT_MESSAGE_PATH,
                            ),
                            ObjectType::Tag => (
                                format!("tag {}", it.oid),
                                Some(split_object(data).1),
                                super::super::source::history::TAG_MESSAGE_PATH,
                            ),
                            _ => (
                                if p.is_empty() {
                                    format!("blob {}", it.oid)
                                } else {
                                    format!("blob {} ({p})", it.oid)
                                },
                                (data.len() as u64 <= max_file_size).then_some(data),
                                p.as_str(),
                            ),
                        };
                        let mut other = Vec::new();
                        let mut hits = Vec::new();
                        search(
                            data,
                            rule_text,
                            rpath,
                            needles,
                            scanner,
                            wanted_ids,
                            targets_len,
                            scratch,
                            |w, how| hits.push((w, how)),
                            &mut other,
                        );
                        for (w, how) in hits {
                            s.hits.push(Hit {
                                holder: it.holder,
                                at: at.clone(),
                                wanted: w,
                                how,
                            });
                        }
                        s.others
                            .extend(other.into_iter().map(|(i, r)| (i, r, it.holder)));
                    }
                    Ok(s)
                },
            )
            .collect()
    });
    let mut all = Swept::default();
    for s in objects {
        let s = s?;
        all.hits.extend(s.hits);
        all.others.extend(s.others);
        all.unreadable.extend(s.unreadable);
    }
    let mut scratch = Scratch::default();
    for (h, file) in files {
        let rel = file.strip_prefix(common).unwrap_or(file);
        let at = show_bytes(&os_bytes(rel.as_os_str()));
        let size = std::fs::metadata(file).map_or(0, |m| m.len());
        if size > max_file_size {
            // Too large for the rules (an LFS object): the literal search, in overlapping chunks.
            match search_large_file(file, needles) {
                Ok(found) => all.hits.extend(found.into_iter().map(|(w, how)| Hit {
                    holder: *h,
                    at: at.clone(),
                    wanted: w,
                    how,
                })),
                Err(e) => all.unreadable.push(format!("{at}: {e}")),
            }
            continue;
        }
        let data = match std::fs::read(file) {
            Ok(d) => Zeroizing::new(d),
            Err(e) => {
                all.unreadable.push(format!("{at}: {e}"));
                continue;
            }
        };
        let rule_text = (data.len() as u64 <= max_file_size).then_some(data.as_slice());
        let mut other = Vec::new();
        let mut hits = Vec::new();
        search(
            &data,
            rule_text,
            &at,
            needles,
            scanner,
            wanted_ids,
            targets_len,
            &mut scratch,
            |w, how| hits.push((w, how)),
            &mut other,
        );
        for (w, how) in hits {
            all.hits.push(Hit {
                holder: *h,
                at: at.clone(),
                wanted: w,
                how,
            });
        }
        // Files are searched for the targets; what else the rules find in git's own files
        // (a credential in a remote URL) is not history and not counted here.
    }
    Ok(all)
}

/// The literal search of a file too large to read at once: chunks that overlap by more than
/// the longest pattern (three times it, for percent-encoded copies).
fn search_large_file(file: &Path, needles: &Needles) -> std::io::Result<Vec<(usize, String)>> {
    use std::io::Read;
    const CHUNK: usize = 8 << 20;
    let overlap = needles.max_len * 3 + 3;
    let mut f = std::fs::File::open(file)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(CHUNK + overlap));
    let mut out = Vec::new();
    loop {
        let keep = buf.len().min(overlap);
        let start = buf.len() - keep;
        buf.drain(..start);
        let before = buf.len();
        buf.resize(before + CHUNK, 0);
        let n = f.read(&mut buf[before..])?;
        buf.truncate(before + n);
        if n == 0 {
            break;
        }
        for (t, form) in needles.find(&buf) {
            out.push((t, format!("as {form}")));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The independent check: finds every holder of the repository ([`HolderKind`]), walks every
/// object each reaches and every file of the git directory outside the object store, and
/// searches them for the targets (raw and encoded, see [`Needles`]) and with the rule set (a
/// finding whose secret_id is a target or a recorded id counts, so a recorded id whose value
/// could not be recovered is still looked for). A secret held by a live holder, or reached only
/// by a reflog, is a problem naming the holder, the object and the secret (by secret_id and
/// redacted form); what the backups hold is reported as expected.
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    repo: &Repository,
    path: &Path,
    targets: &[Target],
    recorded: &[TargetRecord],
    scanner: &Scanner,
    max_file_size: u64,
    threads: Option<usize>,
    v: &mut Verdict,
) -> Result<()> {
    let mut wanted: Vec<Wanted> = targets
        .iter()
        .map(|t| Wanted {
            id: t.secret_id.clone(),
            label: format!(
                "{} ({}, {})",
                &t.secret_id.as_str()[..16],
                t.rule_id,
                t.redacted()
            ),
        })
        .collect();
    for r in recorded {
        if !wanted.iter().any(|w| w.id == r.secret_id) {
            wanted.push(Wanted {
                id: r.secret_id.clone(),
                label: format!(
                    "{} ({}, {} chars, value not recovered)",
                    &r.secret_id.as_str()[..16],
                    r.rule_id,
                    r.length
                ),
            });
        }
    }
    let wanted_ids: HashMap<SecretId, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.clone(), i))
        .collect();
    let needles = Needles::new(targets)?;
    let (problems_before, notes_before) = (v.problems.len(), v.notes.len());
    let found = find_holders(repo)?;
    let (items, paths, missing) = walk_objects(repo, &found)?;
    let mut order = items;
    crate::source::packorder::sort_by_pack_offset(repo, &mut order, |i| i.oid);
    let swept = sweep_items(
        path,
        &order,
        &paths,
        &found.files,
        repo.commondir(),
        &needles,
        scanner,
        max_file_size,
        &wanted_ids,
        targets.len(),
        threads,
    )?;
    for p in &found.problems {
        v.fail(p.clone());
    }
    v.notes.extend(found.notes.iter().cloned());
    let count = |k: HolderKind| found.holders.iter().filter(|h| h.kind == k).count();
    v.notes.push(format!(
        "swept {} live holder(s) (refs by raw name, peeled lines, HEADs and indexes of every worktree, files of the git directory), {} reflog entr(ies)/pseudo-ref(s), {} backup holder(s): {} objects and {} files searched for {} secret(s) raw, base64/base64url (every alignment) and percent-encoded, and with the rule set",
        count(HolderKind::Live),
        count(HolderKind::Log),
        count(HolderKind::Backup),
        order.len(),
        found.files.len(),
        wanted.len(),
    ));
    if missing > 0 {
        v.notes.push(format!(
            "{missing} object(s) named by a holder are not in the object database (shallow clone, or pruned): nothing of them is stored here"
        ));
    }
    for u in &swept.unreadable {
        v.fail(format!("{u}: cannot be read, so it is not checked"));
    }
    // Per (holder, secret): the places (first shown, the others counted) and how it was found.
    type Places = (
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    );
    let mut groups: std::collections::BTreeMap<(u32, usize), Places> =
        std::collections::BTreeMap::new();
    for h in &swept.hits {
        let g = groups.entry((h.holder, h.wanted)).or_default();
        g.0.insert(h.at.clone());
        g.1.insert(h.how.clone());
    }
    let mut expected: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut expected_holders: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
    for ((holder, w), (ats, hows)) in &groups {
        let h = &found.holders[*holder as usize];
        let at = ats.iter().next().map_or("", String::as_str);
        let how = hows.iter().cloned().collect::<Vec<_>>().join(", ");
        let more = match ats.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        match h.kind {
            HolderKind::Backup => {
                expected.insert(*w);
                expected_holders.insert(*holder);
            }
            HolderKind::Live => v.fail(format!(
                "{} still holds secret {} in {at}{more}, found {how}",
                h.name, wanted[*w].label
            )),
            HolderKind::Log => v.fail(format!(
                "{} still holds secret {} in {at}{more}, found {how}; no backup holds it (`leaksweep rewrite finish` expires every reflog and prunes what only they name)",
                h.name, wanted[*w].label
            )),
        }
    }
    if !expected.is_empty() {
        let names: Vec<&str> = expected_holders
            .iter()
            .take(5)
            .map(|&h| found.holders[h as usize].name.as_str())
            .collect();
        v.notes.push(format!(
            "expected: the backups ({}{}) still hold {} secret(s) ({}) until `leaksweep rewrite finish`",
            names.join(", "),
            if expected_holders.len() > 5 { ", ..." } else { "" },
            expected.len(),
            expected
                .iter()
                .map(|&w| wanted[w].label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut others: std::collections::BTreeMap<&SecretId, &str> = std::collections::BTreeMap::new();
    for (id, rule, holder) in &swept.others {
        if found.holders[*holder as usize].kind == HolderKind::Live {
            others.entry(id).or_insert(rule);
        }
    }
    if !others.is_empty() {
        v.notes.push(format!(
            "the rules find {} other secret(s) in the live history that this rewrite does not target: {}",
            others.len(),
            others
                .iter()
                .take(10)
                .map(|(id, rule)| format!("{} ({rule})", &id.as_str()[..16]))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Names come from the repository: a ref or a path may spell a value itself.
    let masks: Vec<Target> = targets
        .iter()
        .map(|t| Target {
            replacement: t.redacted().into_bytes(),
            ..t.clone()
        })
        .collect();
    let masker = Replacer::new(&masks)?;
    let mask = |line: &mut String| {
        if let Some(m) = masker.replace(line.as_bytes()) {
            *line = String::from_utf8_lossy(&m).into_owned();
        }
    };
    v.problems[problems_before..].iter_mut().for_each(mask);
    v.notes[notes_before..].iter_mut().for_each(mask);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use rand::{Rng, SeedableRng};

    fn target(v: &[u8]) -> Target {
        crate::rewrite::parse_secrets_file(v, "x")
            .unwrap()
            .remove(0)
    }

    #[test]
    fn needles_find_every_base64_alignment_alphabet_and_padding() {
        let seed: u64 = rand::random();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for len in [12usize, 20, 33, 40] {
            let v: Vec<u8> = (0..len).map(|_| rng.gen_range(b'!'..=b'~')).collect();
            let n = Needles::new(&[target(&v)]).unwrap();
            for pre in 0..4usize {
                for post in 0..4usize {
                    let mut plain: Vec<u8> = (0..pre).map(|_| rng.gen()).collect();
                    plain.extend_from_slice(&v);
                    plain.extend((0..post).map(|_| rng.gen::<u8>()));
                    for engine in [
                        &base64::engine::general_purpose::STANDARD,
                        &base64::engine::general_purpose::STANDARD_NO_PAD,
                        &base64::engine::general_purpose::URL_SAFE,
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    ] {
                        let hay = format!("blob {}\n", engine.encode(&plain));
                        assert!(
                            !n.find(hay.as_bytes()).is_empty(),
                            "seed {seed}: len {len} pre {pre} post {post}: {hay}"
                        );
                        // Wrapped once more, and percent-encoded.
                        let twice =
                            base64::engine::general_purpose::STANDARD.encode(engine.encode(&v));
                        assert!(!n.find(twice.as_bytes()).is_empty(), "seed {seed}");
                        let pct: String = engine
                            .encode(&plain)
                            .bytes()
                            .map(|b| {
                                if b.is_ascii_alphanumeric() {
                                    (b as char).to_string()
                                } else {
                                    format!("%{b:02x}")
                                }
                            })
                            .collect();
                        if pct.contains('%') {
                            let found = n.find(pct.as_bytes());
                            assert!(found.iter().any(|(_, f)| f.percent), "seed {seed}: {pct}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn needles_find_percent_encoding_in_either_case_and_nothing_else() {
        let v = b"pa!ss*wo+rd^Zq8vLm3";
        let n = Needles::new(&[target(v)]).unwrap();
        assert!(n
            .find(b"url=https://u:pa%21ss%2Awo%2brd%5eZq8vLm3@h/")
            .iter()
            .any(|(_, f)| f.percent));
        assert!(n
            .find(b"url=https://u:%70%61%21%73%73*wo%2Brd^Zq8vLm3@h/")
            .iter()
            .any(|(_, f)| f.percent));
        assert!(n.find(b"nothing of it here: pa!ss*wo+rd^Zq8vLm").is_empty());
        // The base64 of a value that differs in its last byte only: no core matches.
        let other = base64::engine::general_purpose::STANDARD.encode(b"pa!ss*wo+rd^Zq8vLmX");
        assert!(n.find(other.as_bytes()).is_empty(), "{other}");
    }

    #[test]
    fn a_large_file_is_searched_across_chunk_boundaries() {
        let v = b"Zr8kqWm2Lp9xQ7xTt4Bn";
        let n = Needles::new(&[target(v)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut data = vec![b'.'; (8 << 20) + 4096];
        let at = (8 << 20) - 7;
        data[at..at + v.len()].copy_from_slice(v);
        std::fs::write(&path, &data).unwrap();
        let found = search_large_file(&path, &n).unwrap();
        assert_eq!(found, vec![(0, "as plain text".to_string())]);
        std::fs::write(&path, vec![b'.'; (8 << 20) + 4096]).unwrap();
        assert!(search_large_file(&path, &n).unwrap().is_empty());
    }

    #[test]
    fn shown_names_keep_raw_bytes_apart() {
        assert_eq!(show_bytes(b"refs/heads/caf\xe9"), "refs/heads/caf\\xe9");
        assert_eq!(show_bytes("refs/heads/café".as_bytes()), "refs/heads/café");
        assert_eq!(show_bytes(b"a\x1b[31m"), "a\\x1b[31m");
    }
}
