//! One pass over the history reachable from every ref: the compact object graph that `plan`,
//! `apply` and `verify` share.
//!
//! Order of work, chosen so each object is read once: commits are walked oldest first
//! (topological, reversed) from every ref except `refs/leaksweep/`; each commit's tree is read
//! recursively with memoisation (a tree already seen is not read again); every unique blob is
//! recorded. The blobs are then read in pack order ([`crate::git::packorder`], as the history
//! scan does: front to back through each pack, so delta bases stay in libgit2's cache), on one
//! thread per core with one `Repository` each (it is `Send` but not `Sync`), workers claiming
//! small contiguous chunks, and searched for all target literals at once. Reads skip libgit2's
//! per-object SHA-1 re-verification, as the history scan does. Per node we keep a
//! bit mask of the targets below it (bit 63: a removed path below), so `apply` knows, without
//! reading anything again, which trees must change.
//!
//! Trees are parsed from their raw bytes, not through `git2::Tree`, so that `apply` can write a
//! byte-identical tree with only the changed ids swapped (libgit2's tree builder would normalise
//! odd file modes and change ids that must not change).
//!
//! With `--remove-path`, whether an entry goes depends on its path, so trees are keyed by
//! (id, path) instead of id alone; without it, the path is not part of the key (and costs nothing).
//! The walk keeps its own stack (on the heap): trees nested tens of thousands of levels deep
//! cost memory, never the call stack.

use super::{RemoveSet, Replacer, REMOVED_BIT};
use crate::git::id::IdMap;
use crate::git::{refs, tree, walk, ObjectId};
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Odb, Oid, Repository};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Child slot of a gitlink (submodule commit): kept as is.
pub const GITLINK: u32 = u32::MAX;
/// Child slot of an entry dropped by `--remove-path`.
pub const REMOVED: u32 = u32::MAX - 1;

/// A tree or a blob.
#[derive(Debug, Clone)]
pub struct Node {
    pub oid: Oid,
    pub is_tree: bool,
    /// For trees: the range of this tree's entries in [`Graph::children`].
    pub start: u32,
    pub end: u32,
}

/// What a ref or tag points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obj {
    Commit(u32),
    Tag(u32),
    Node(u32),
    /// Anything outside the walk (kept as is).
    Other(Oid),
}

/// A commit, in topological order (parents first).
#[derive(Debug, Clone)]
pub struct CommitNode {
    pub oid: Oid,
    pub tree: u32,
    /// Indices of parent commits; `GITLINK` for a parent outside the walk (shallow clone).
    pub parents: Vec<u32>,
    /// Targets in the message or headers.
    pub msg_mask: u64,
    /// Has a `gpgsig` header.
    pub signed: bool,
}

/// An annotated tag object.
#[derive(Debug, Clone)]
pub struct TagNode {
    pub oid: Oid,
    pub target: Obj,
    pub mask: u64,
    /// Carries a signature (in the message or a `gpgsig` header).
    pub signed: bool,
}

/// A direct ref (symbolic refs follow their target; `HEAD` is listed only when detached).
#[derive(Debug, Clone)]
pub struct RefEntry {
    /// The name for display (lossy UTF-8, control characters escaped).
    pub name: String,
    /// The name as git stores it (any bytes but NUL and newline).
    pub raw: Vec<u8>,
    pub oid: Oid,
    pub target: Obj,
}

/// The graph of everything reachable from the refs.
pub struct Graph {
    pub nodes: Vec<Node>,
    pub children: Vec<u32>,
    /// Per node: targets (and [`REMOVED_BIT`]) at or below it.
    pub mask: Vec<u64>,
    /// Blob node -> the id of its cleaned content (only blobs that held a target).
    pub new_blob: HashMap<u32, Oid>,
    pub commits: Vec<CommitNode>,
    pub tags: Vec<TagNode>,
    pub refs: Vec<RefEntry>,
    /// Blobs found only at removed paths, or also at removed paths.
    pub removed_blobs: HashSet<Oid>,
    /// Unique blobs read, and their total size.
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    /// Per target bit: blobs holding it.
    pub blobs_per_bit: [u64; 64],
    /// Archive blobs (by node) with members holding a target: (member, mask). Not rewritten
    /// (see [`Replacer::archive_members`]).
    pub archived: HashMap<u32, Vec<(String, u64)>>,
}

/// Options of the pass.
pub struct BuildOptions<'a> {
    pub replacer: &'a Replacer,
    pub remove: &'a RemoveSet,
    /// Write the cleaned blobs into the object database (else only hash them).
    pub write_blobs: bool,
    pub threads: Option<usize>,
}

/// True for refs the walk leaves alone: our own backups.
pub fn is_backup_ref(name: &str) -> bool {
    refs::is_backup_ref(name.as_bytes())
}

pub use crate::git::object::{header_fields, split_object, tag_signature_start};
pub use crate::git::refs::{display_name, STASH_LOG};
pub use crate::git::tree::{mode_is_gitlink, mode_is_tree};

/// A raw tree entry: (mode, name, id).
pub type Entry<'a> = (&'a [u8], &'a [u8], Oid);

/// Entries of a raw tree: (mode, name, id); the first malformed entry is the error.
pub fn tree_entries(data: &[u8]) -> Result<Vec<Entry<'_>>> {
    let mut out = Vec::new();
    for e in tree::entries(data) {
        let e = e?;
        out.push((e.mode, e.name, e.id.oid()));
    }
    Ok(out)
}

struct Builder<'a> {
    odb: Odb<'a>,
    opts: &'a BuildOptions<'a>,
    /// Ids hash by their first bytes ([`IdMap`]): millions of look-ups on a large history.
    tree_index: IdMap<u32, (ObjectId, Vec<u8>)>,
    blob_index: IdMap<u32>,
    commit_index: IdMap<u32>,
    tag_index: IdMap<u32>,
    nodes: Vec<Node>,
    children: Vec<u32>,
    blobs: Vec<u32>,
    removed_blobs: HashSet<Oid>,
    removes_here: HashSet<u32>,
    commits: Vec<CommitNode>,
    tags: Vec<TagNode>,
}

impl Builder<'_> {
    fn blob(&mut self, oid: Oid) -> u32 {
        if let Some(&i) = self.blob_index.get(&ObjectId::of(oid)) {
            return i;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Node {
            oid,
            is_tree: false,
            start: 0,
            end: 0,
        });
        self.blob_index.insert(ObjectId::of(oid), i);
        self.blobs.push(i);
        i
    }

    /// Reads a tree (and every tree below it not read yet) into nodes; children get their
    /// indices before their parent. Iterative, with an explicit stack: a tree nested any number
    /// of levels deep costs heap, not call stack.
    fn tree(&mut self, oid: Oid, path: &[u8]) -> Result<u32> {
        struct Frame {
            oid: Oid,
            key: Vec<u8>,
            path: Vec<u8>,
            raw: Vec<u8>,
            pos: usize,
            kids: Vec<u32>,
            removes: bool,
        }
        let keyed = !self.opts.remove.is_empty();
        let key_of = |p: &[u8]| if keyed { p.to_vec() } else { Vec::new() };
        if let Some(&i) = self.tree_index.get(&(ObjectId::of(oid), key_of(path))) {
            return Ok(i);
        }
        let read = |odb: &Odb, oid: Oid| -> Result<Vec<u8>> {
            Ok(odb
                .read(oid)
                .with_context(|| format!("cannot read tree {oid}"))?
                .data()
                .to_vec())
        };
        let mut stack = vec![Frame {
            oid,
            key: key_of(path),
            path: path.to_vec(),
            raw: read(&self.odb, oid)?,
            pos: 0,
            kids: Vec::new(),
            removes: false,
        }];
        loop {
            let Some(top) = stack.last_mut() else {
                bail!("tree walk ended without a result");
            };
            if top.pos >= top.raw.len() {
                let f = stack.pop().context("tree walk: empty stack")?;
                let i = self.nodes.len() as u32;
                let start = self.children.len() as u32;
                self.children.extend_from_slice(&f.kids);
                self.nodes.push(Node {
                    oid: f.oid,
                    is_tree: true,
                    start,
                    end: self.children.len() as u32,
                });
                if f.removes {
                    self.removes_here.insert(i);
                }
                self.tree_index.insert((ObjectId::of(f.oid), f.key), i);
                match stack.last_mut() {
                    Some(parent) => parent.kids.push(i),
                    None => return Ok(i),
                }
                continue;
            }
            // The entry's kind and id are copied out; its name only when paths are keyed
            // (no allocation per entry otherwise: millions of entries on a large history).
            let (entry, next) =
                tree::entry_at(&top.raw, top.pos).with_context(|| format!("tree {}", top.oid))?;
            let (is_tree, is_gitlink, id) = (
                mode_is_tree(entry.mode),
                mode_is_gitlink(entry.mode),
                entry.id,
            );
            let mut child_path = Vec::new();
            let mut removed = false;
            if keyed {
                if !top.path.is_empty() {
                    child_path.extend_from_slice(&top.path);
                    child_path.push(b'/');
                }
                child_path.extend_from_slice(entry.name);
                removed = self.opts.remove.matches(&child_path, entry.name);
            }
            top.pos = next;
            if removed {
                top.removes = true;
                if !is_tree && !is_gitlink {
                    self.removed_blobs.insert(id.oid());
                }
                top.kids.push(REMOVED);
                continue;
            }
            if is_gitlink {
                top.kids.push(GITLINK);
            } else if is_tree {
                let key = key_of(&child_path);
                let id = id.oid();
                if let Some(&i) = self.tree_index.get(&(ObjectId::of(id), key.clone())) {
                    top.kids.push(i);
                } else {
                    let raw = read(&self.odb, id)?;
                    stack.push(Frame {
                        oid: id,
                        key,
                        path: child_path,
                        raw,
                        pos: 0,
                        kids: Vec::new(),
                        removes: false,
                    });
                }
            } else {
                let b = self.blob(id.oid());
                if let Some(top) = stack.last_mut() {
                    top.kids.push(b);
                }
            }
        }
    }

    fn commit(&mut self, oid: Oid) -> Result<()> {
        let raw = self
            .odb
            .read(oid)
            .with_context(|| format!("cannot read commit {oid}"))?
            .data()
            .to_vec();
        let (headers, message) = split_object(&raw);
        let mut tree = None;
        let mut parents = Vec::new();
        let mut signed = false;
        let mut msg_mask = self.opts.replacer.mask(message);
        for (name, line) in header_fields(headers) {
            match name {
                b"tree" => tree = Some(parse_oid_line(line)?),
                b"parent" => {
                    let p = parse_oid_line(line)?;
                    parents.push(
                        self.commit_index
                            .get(&ObjectId::of(p))
                            .copied()
                            .unwrap_or(GITLINK),
                    );
                }
                b"gpgsig" | b"gpgsig-sha256" => signed = true,
                _ => msg_mask |= self.opts.replacer.mask(line),
            }
        }
        let tree = tree.with_context(|| format!("commit {oid} has no tree"))?;
        let tree = self.tree(tree, b"")?;
        self.commit_index
            .insert(ObjectId::of(oid), self.commits.len() as u32);
        self.commits.push(CommitNode {
            oid,
            tree,
            parents,
            msg_mask,
            signed,
        });
        Ok(())
    }

    /// What `oid` is in the graph; a chain of tags (a tag of a tag of ...) is followed with a
    /// loop, any length, and indexed innermost first.
    fn object(&mut self, oid: Oid) -> Result<Obj> {
        // (tag id, mask, signed), outermost first.
        let mut chain: Vec<(Oid, u64, bool)> = Vec::new();
        let mut in_chain: HashSet<Oid> = HashSet::new();
        let mut cur = oid;
        let base = loop {
            if let Some(&i) = self.commit_index.get(&ObjectId::of(cur)) {
                break Obj::Commit(i);
            }
            if let Some(&i) = self.tag_index.get(&ObjectId::of(cur)) {
                break Obj::Tag(i);
            }
            let kind = match self.odb.read_header(cur) {
                Ok((_, k)) => k,
                Err(_) => break Obj::Other(cur),
            };
            match kind {
                ObjectType::Tag => {
                    let raw = self.odb.read(cur)?.data().to_vec();
                    let (headers, message) = split_object(&raw);
                    let mut target = None;
                    let mut signed = tag_signature_start(message).is_some();
                    let mut mask = self.opts.replacer.mask(message);
                    for (name, line) in header_fields(headers) {
                        match name {
                            b"object" => target = Some(parse_oid_line(line)?),
                            b"gpgsig" | b"gpgsig-sha256" => signed = true,
                            _ => mask |= self.opts.replacer.mask(line),
                        }
                    }
                    let target = target.with_context(|| format!("tag {cur} has no object"))?;
                    // Only a corrupt object database can loop (ids are hashes of content).
                    if !in_chain.insert(cur) || in_chain.contains(&target) {
                        bail!("tag {cur} points back into its own chain: the object database is corrupt");
                    }
                    chain.push((cur, mask, signed));
                    cur = target;
                }
                ObjectType::Tree => break Obj::Node(self.tree(cur, b"")?),
                ObjectType::Blob => break Obj::Node(self.blob(cur)),
                // A commit outside the walk cannot happen (every ref's commit was pushed).
                _ => break Obj::Other(cur),
            }
        };
        let mut target = base;
        for (oid, mask, signed) in chain.into_iter().rev() {
            let i = self.tags.len() as u32;
            self.tags.push(TagNode {
                oid,
                target,
                mask,
                signed,
            });
            self.tag_index.insert(ObjectId::of(oid), i);
            target = Obj::Tag(i);
        }
        Ok(target)
    }
}

fn parse_oid_line(line: &[u8]) -> Result<Oid> {
    let s = std::str::from_utf8(line).context("header is not UTF-8")?;
    let hex = s
        .split_whitespace()
        .nth(1)
        .context("header without a value")?;
    Oid::from_str(hex).with_context(|| format!("bad object id {hex:?}"))
}

/// Whether a raw ref name is one of our backups (old-style refs under `refs/leaksweep/`).
pub fn is_backup_ref_bytes(name: &[u8]) -> bool {
    refs::is_backup_ref(name)
}

/// The direct refs of the repository except old-style backups, by raw name (bytes, so names that
/// are not UTF-8 are kept), sorted, plus a detached HEAD as `HEAD`.
pub fn list_refs(repo: &Repository) -> Result<Vec<(Vec<u8>, Oid)>> {
    let mut out = Vec::new();
    for r in refs::list(repo)? {
        let r = r?;
        if refs::is_backup_ref(&r.name) {
            continue;
        }
        if let Some(id) = r.direct {
            out.push((r.name, id.oid()));
        }
    }
    out.sort();
    if let Some(id) = refs::detached_head(repo) {
        out.push((b"HEAD".to_vec(), id.oid()));
    }
    Ok(out)
}

/// The commit of every stash entry, newest first (from [`STASH_LOG`] under the common dir).
pub fn stash_entries(repo: &Repository) -> Vec<Oid> {
    refs::stash_entries(repo)
        .into_iter()
        .map(ObjectId::oid)
        .collect()
}

impl Graph {
    /// Walks `repo` (opened at `path`, which the parallel workers reopen).
    pub fn build(repo: &Repository, path: &Path, opts: &BuildOptions) -> Result<Graph> {
        // As in the history scan: no per-object SHA-1 re-verification on read (a third of the
        // CPU time on a large history; zlib's checksum still catches corrupt data), and no
        // object cache (every tree and commit is read once).
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
        let refs = list_refs(repo)?;
        let mut walk = walk::oldest_first(repo)?;
        for (_, oid) in &refs {
            if let Ok(c) = repo
                .find_object(*oid, None)
                .and_then(|o| o.peel_to_commit())
            {
                walk.push(c.id())?;
            }
        }
        // Every stash entry, not only the newest (refs/stash): older ones live in its reflog.
        for oid in stash_entries(repo) {
            if repo.find_commit(oid).is_ok() {
                walk.push(oid)?;
            }
        }
        let mut b = Builder {
            odb: repo.odb()?,
            opts,
            tree_index: IdMap::default(),
            blob_index: IdMap::default(),
            commit_index: IdMap::default(),
            tag_index: IdMap::default(),
            nodes: Vec::new(),
            children: Vec::new(),
            blobs: Vec::new(),
            removed_blobs: HashSet::new(),
            removes_here: HashSet::new(),
            commits: Vec::new(),
            tags: Vec::new(),
        };
        for oid in walk {
            b.commit(oid?)?;
        }
        let mut ref_entries = Vec::with_capacity(refs.len());
        for (raw, oid) in refs {
            let target = b.object(oid)?;
            ref_entries.push(RefEntry {
                name: display_name(&raw),
                raw,
                oid,
                target,
            });
        }

        // The walk's indexes are not needed any more: freed before the blobs are read.
        drop(std::mem::take(&mut b.tree_index));
        drop(std::mem::take(&mut b.blob_index));
        drop(std::mem::take(&mut b.commit_index));
        drop(std::mem::take(&mut b.tag_index));
        // Blobs in parallel.
        let scanned = scan_blobs(repo, path, &b.nodes, &b.blobs, opts)?;
        let mut mask = vec![0u64; b.nodes.len()];
        let mut new_blob = HashMap::new();
        let bytes = scanned.bytes;
        let mut blobs_per_bit = [0u64; 64];
        let mut archived = HashMap::new();
        for (i, m, new, members) in scanned.hits {
            if !members.is_empty() {
                archived.insert(i, members);
            }
            mask[i as usize] = m;
            for (bit, count) in blobs_per_bit.iter_mut().enumerate() {
                if m & (1 << bit) != 0 {
                    *count += 1;
                }
            }
            if let Some(n) = new {
                new_blob.insert(i, n);
            }
        }
        // Children precede parents in node order, so one forward pass propagates the masks.
        for i in 0..b.nodes.len() {
            let n = &b.nodes[i];
            if !n.is_tree {
                continue;
            }
            let mut m = if b.removes_here.contains(&(i as u32)) {
                REMOVED_BIT
            } else {
                0
            };
            for &c in &b.children[n.start as usize..n.end as usize] {
                if c != GITLINK && c != REMOVED {
                    m |= mask[c as usize];
                }
            }
            mask[i] = m;
        }
        Ok(Graph {
            blobs_scanned: b.blobs.len() as u64,
            nodes: b.nodes,
            children: b.children,
            mask,
            new_blob,
            commits: b.commits,
            tags: b.tags,
            refs: ref_entries,
            removed_blobs: b.removed_blobs,
            bytes_scanned: bytes,
            blobs_per_bit,
            archived,
        })
    }

    /// Per commit: whether its id changes (its tree or message holds a target or a removed path,
    /// or a parent changes).
    pub fn rewritten_commits(&self) -> Vec<bool> {
        let mut out = vec![false; self.commits.len()];
        for (i, c) in self.commits.iter().enumerate() {
            out[i] = self.mask[c.tree as usize] != 0
                || c.msg_mask != 0
                || c.parents.iter().any(|&p| p != GITLINK && out[p as usize]);
        }
        out
    }

    /// Per commit: whether only notes refs (`refs/notes/*`) reach it (its tree is a notes tree).
    pub fn notes_only(&self) -> Vec<bool> {
        const NOTES: u8 = 1;
        const OTHER: u8 = 2;
        let mut flags = vec![0u8; self.commits.len()];
        for r in &self.refs {
            let mut t = r.target;
            // Through tags to the commit (a bounded walk: tags are indexed in creation order).
            for _ in 0..=self.tags.len() {
                match t {
                    Obj::Tag(i) => t = self.tags[i as usize].target,
                    _ => break,
                }
            }
            if let Obj::Commit(i) = t {
                flags[i as usize] |= if r.raw.starts_with(b"refs/notes/") {
                    NOTES
                } else {
                    OTHER
                };
            }
        }
        // Stash entries and other walked commits no ref names directly count as other.
        for i in (0..self.commits.len()).rev() {
            if flags[i] == 0 {
                flags[i] = OTHER;
            }
            let f = flags[i];
            for &p in &self.commits[i].parents {
                if p != GITLINK {
                    flags[p as usize] |= f;
                }
            }
        }
        flags.into_iter().map(|f| f == NOTES).collect()
    }

    /// Whether an object reached by a ref changes.
    pub fn obj_rewritten(&self, obj: Obj, commits: &[bool]) -> bool {
        let mut obj = obj;
        // Tags are indexed innermost first, so a chain ends within `tags.len()` steps.
        for _ in 0..=self.tags.len() {
            match obj {
                Obj::Commit(i) => return commits[i as usize],
                Obj::Tag(i) => {
                    let t = &self.tags[i as usize];
                    if t.mask != 0 {
                        return true;
                    }
                    obj = t.target;
                }
                Obj::Node(i) => return self.mask[i as usize] != 0,
                Obj::Other(_) => return false,
            }
        }
        false
    }
}

/// A blob that holds a target (or is an archive with members that do): (node, mask, cleaned id,
/// members). Blobs without any are not kept (most of them: their count and size are summed).
type Scanned = (u32, u64, Option<Oid>, Vec<(String, u64)>);

/// What the blob workers found: the blobs holding a target, and the bytes read.
struct BlobScan {
    hits: Vec<Scanned>,
    bytes: u64,
}

/// Blobs claimed per step by a worker: small enough to balance, large enough to read nearly
/// sequentially (the history scan's value).
const CHUNK: usize = 64;

/// Reads every unique blob once, in pack order, on `threads` workers, and searches it for the
/// targets; a blob holding one is cleaned and written (or only hashed). The calling thread is one
/// of the workers, on the caller's `repo` (the others open their own: a `Repository` is not
/// `Sync`), so no extra set of pack windows and delta-base cache is opened for it.
fn scan_blobs(
    repo: &Repository,
    path: &Path,
    nodes: &[Node],
    blobs: &[u32],
    opts: &BuildOptions,
) -> Result<BlobScan> {
    let mut order: Vec<u32> = blobs.to_vec();
    if std::env::var("LEAKSWEEP_PACK_ORDER").as_deref() == Ok("offset") {
        crate::git::packorder::sort_by_pack_offset(repo, &mut order, |&i| nodes[i as usize].oid);
    } else {
        crate::git::packorder::sort_by_delta_tree(repo, &mut order, |&i| nodes[i as usize].oid);
    }
    let threads = opts
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(crate::config::default_threads)
        .min(order.len().max(1));
    let cursor = AtomicUsize::new(0);
    let work = |odb: &Odb| -> Result<BlobScan> {
        let mut out = BlobScan {
            hits: Vec::new(),
            bytes: 0,
        };
        loop {
            let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= order.len() {
                break;
            }
            for &i in &order[start..(start + CHUNK).min(order.len())] {
                let (size, hit) = scan_blob(odb, i, nodes[i as usize].oid, opts)?;
                out.bytes += size;
                out.hits.extend(hit);
            }
        }
        Ok(out)
    };
    let results: Vec<Result<BlobScan>> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|_| s.spawn(|| work(&Repository::open(path)?.odb()?)))
            .collect();
        let mut results = vec![repo
            .odb()
            .map_err(anyhow::Error::from)
            .and_then(|odb| work(&odb))];
        results.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a blob worker panicked")))
        }));
        results
    });
    let mut all = BlobScan {
        hits: Vec::new(),
        bytes: 0,
    };
    for r in results {
        let r = r?;
        all.hits.extend(r.hits);
        all.bytes += r.bytes;
    }
    Ok(all)
}

/// Reads and searches one blob: its size, and what it holds when it holds a target.
fn scan_blob(odb: &Odb, i: u32, oid: Oid, opts: &BuildOptions) -> Result<(u64, Option<Scanned>)> {
    let obj = odb
        .read(oid)
        .with_context(|| format!("cannot read blob {oid}"))?;
    let data = obj.data();
    let members = opts.replacer.archive_members(data).unwrap_or_default();
    let m = opts.replacer.mask(data);
    let new = if m != 0 {
        let cleaned = zeroize::Zeroizing::new(opts.replacer.replace(data).unwrap_or_default());
        Some(if opts.write_blobs {
            odb.write(ObjectType::Blob, &cleaned)?
        } else {
            Oid::hash_object(ObjectType::Blob, &cleaned)?
        })
    } else {
        None
    };
    let hit = (m != 0 || !members.is_empty()).then_some((i, m, new, members));
    Ok((data.len() as u64, hit))
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
