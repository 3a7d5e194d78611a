//! The native rewrite, in process with git2: new objects first, refs last, all at once.
//!
//! Built on the [`Graph`] pass: blobs holding a target were already cleaned (and written) by it;
//! here trees are rewritten bottom-up from their raw bytes (only those whose mask is non-zero, each
//! once: a memo maps node -> new id), then commits oldest first, then annotated tags. An object
//! whose content does not change keeps its id, so untouched history (and its signatures) stays
//! exactly as it was; a changed commit or tag loses its signature, which can no longer verify, and
//! is counted. Commit and tag messages are cleaned with the same literals, and no footer is added.
//!
//! New trees, commits and tags go to an in-memory object store (libgit2's mempack backend, added
//! by the caller) and then into a pack with [`write_pack`], at the end or whenever the store holds
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

use super::graph::{
    header_fields, split_object, tag_signature_start, Graph, Obj, GITLINK, REMOVED,
};
use super::Replacer;
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Odb, Oid, Repository};
use std::collections::HashMap;
use std::path::PathBuf;

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
    /// The in-memory store (added with [`MEMPACK_PRIORITY`]) that receives the writes: flushed
    /// into a pack every [`PACK_FLUSH_BYTES`] and at the end. `None`: loose objects.
    pub mempack: Option<&'m git2::Mempack<'m>>,
}

/// Raw bytes held in the in-memory store before they are written out as a pack: bounds the
/// memory of a rewrite of any size. On curl (80,000 new trees and commits, ~130 MB raw) 32 MiB
/// gives 4 packs and 318 MiB peak RSS against 431 MiB with one pack, in the same time; the
/// packs are consolidated by `rewrite finish` (git gc).
pub const PACK_FLUSH_BYTES: usize = 32 << 20;
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

struct Writer<'a> {
    repo: &'a Repository,
    mempack: Option<&'a git2::Mempack<'a>>,
    /// Bytes in the in-memory store, and how many of `written` were packed already.
    pending: usize,
    flushed: usize,
    flush_limit: usize,
    odb: Odb<'a>,
    graph: &'a Graph,
    dry_run: bool,
    /// Dry run: the trees that would have been written, for the notes remap to read.
    dry_trees: HashMap<Oid, Vec<u8>>,
    new_tree: Vec<Option<Oid>>,
    empty_tree: Oid,
    trees_written: usize,
    /// Every object written, in writing order (for [`write_pack`]).
    written: Vec<Oid>,
}

impl Writer<'_> {
    fn write(&mut self, kind: ObjectType, data: &[u8]) -> Result<Oid> {
        if self.dry_run {
            let oid = Oid::hash_object(kind, data)?;
            if kind == ObjectType::Tree {
                self.dry_trees.insert(oid, data.to_vec());
            }
            Ok(oid)
        } else {
            let oid = self.odb.write(kind, data)?;
            self.written.push(oid);
            if self.mempack.is_some() {
                self.pending += data.len();
                if self.pending >= self.flush_limit {
                    self.flush()?;
                }
            }
            Ok(oid)
        }
    }

    /// Writes what the in-memory store holds as a pack, then empties it.
    fn flush(&mut self) -> Result<()> {
        let Some(mp) = self.mempack else {
            return Ok(());
        };
        // A pack cut short by Ctrl-C would leave its temporary files behind: the handler waits.
        let _step = crate::output::defer_interrupts("writing a pack");
        write_pack(self.repo, &self.written[self.flushed..])?;
        mp.reset()?;
        self.flushed = self.written.len();
        self.pending = 0;
        Ok(())
    }

    /// The new id of node `i` when it is already known without writing anything.
    fn known(&self, i: u32) -> Option<Oid> {
        let n = &self.graph.nodes[i as usize];
        if self.graph.mask[i as usize] == 0 {
            return Some(n.oid);
        }
        if !n.is_tree {
            return Some(*self.graph.new_blob.get(&i).unwrap_or(&n.oid));
        }
        self.new_tree[i as usize]
    }

    /// The new id of node `i`, writing every changed tree below it first (children before
    /// parents). Iterative, with an explicit stack: any nesting depth costs heap, not call stack.
    fn node(&mut self, root: u32) -> Result<Oid> {
        if let Some(done) = self.known(root) {
            return Ok(done);
        }
        // (tree, next child slot to look at)
        let mut stack: Vec<(u32, u32)> = vec![(root, 0)];
        while let Some(&(i, k)) = stack.last() {
            let n = &self.graph.nodes[i as usize];
            let (start, end) = (n.start, n.end);
            let mut k = k;
            let mut descend = None;
            while start + k < end {
                let c = self.graph.children[(start + k) as usize];
                if c != REMOVED && c != GITLINK && self.known(c).is_none() {
                    descend = Some(c);
                    break;
                }
                k += 1;
            }
            if let Some(top) = stack.last_mut() {
                top.1 = k;
            }
            if let Some(c) = descend {
                stack.push((c, 0));
                continue;
            }
            let new = self.write_tree(i)?;
            self.new_tree[i as usize] = Some(new);
            stack.pop();
        }
        self.known(root).with_context(|| {
            format!(
                "tree {} was not rewritten",
                self.graph.nodes[root as usize].oid
            )
        })
    }

    /// Writes tree `i` with its children's new ids (all known by now).
    fn write_tree(&mut self, i: u32) -> Result<Oid> {
        let n = &self.graph.nodes[i as usize];
        let (oid, start) = (n.oid, n.start as usize);
        let raw = self.odb.read(oid)?.data().to_vec();
        let entries = super::graph::tree_entries(&raw)?;
        let mut out = Vec::with_capacity(raw.len());
        for (k, (mode, name, id)) in entries.into_iter().enumerate() {
            let child = self.graph.children[start + k];
            let new_id = match child {
                REMOVED => continue,
                GITLINK => id,
                c => self
                    .known(c)
                    .with_context(|| format!("tree {oid}: child {id} not rewritten yet"))?,
            };
            // A directory emptied by removals goes too (git does not keep empty trees).
            if new_id == self.empty_tree && id != self.empty_tree {
                continue;
            }
            out.extend_from_slice(mode);
            out.push(b' ');
            out.extend_from_slice(name);
            out.push(0);
            out.extend_from_slice(new_id.as_bytes());
        }
        if out == raw {
            Ok(oid)
        } else {
            self.trees_written += 1;
            self.write(ObjectType::Tree, &out)
        }
    }
}

/// Cleans header lines: drops signatures (they cannot verify any more), replaces targets.
fn clean_headers(headers: &[u8], skip: &[&[u8]], replacer: &Replacer, out: &mut Vec<u8>) -> bool {
    let mut dropped_sig = false;
    for (name, line) in header_fields(headers) {
        if name == b"gpgsig" || name == b"gpgsig-sha256" {
            dropped_sig = true;
            continue;
        }
        if skip.contains(&name) {
            continue;
        }
        match replacer.replace(line) {
            Some(r) => out.extend_from_slice(&r),
            None => out.extend_from_slice(line),
        }
    }
    dropped_sig
}

/// Rewrites every object of `graph` that holds a target; returns the new id of every ref.
pub fn rewrite(
    repo: &Repository,
    graph: &Graph,
    replacer: &Replacer,
    opts: &ApplyOptions,
) -> Result<Outcome> {
    let mut w = Writer {
        repo,
        mempack: opts.mempack,
        pending: 0,
        flushed: 0,
        flush_limit: std::env::var(PACK_FLUSH_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PACK_FLUSH_BYTES),
        odb: repo.odb()?,
        graph,
        dry_run: opts.dry_run,
        dry_trees: HashMap::new(),
        new_tree: vec![None; graph.nodes.len()],
        empty_tree: Oid::hash_object(ObjectType::Tree, b"")?,
        trees_written: 0,
        written: Vec::new(),
    };
    let mut outcome = Outcome {
        commits: graph.commits.len(),
        blobs_cleaned: graph.new_blob.len(),
        ..Outcome::default()
    };
    // Per commit: its new id (None: pruned away with nothing to stand in) and new tree.
    let mut new_commit: Vec<Option<Oid>> = vec![None; graph.commits.len()];
    let mut new_tree_of: Vec<Oid> = vec![Oid::zero(); graph.commits.len()];
    let mut pruned = vec![false; graph.commits.len()];
    // Commits only notes refs reach come last: their trees are keyed by the ids of the commits
    // they annotate, which must all be known first (see `remap_notes`).
    let notes_only = graph.notes_only();
    let order: Vec<usize> = (0..graph.commits.len())
        .filter(|&i| !notes_only[i])
        .chain((0..graph.commits.len()).filter(|&i| notes_only[i]))
        .collect();
    let mut remap: Option<HashMap<Oid, Oid>> = None;
    for ci in order {
        let c = &graph.commits[ci];
        let mut tree = w.node(c.tree)?;
        if notes_only[ci] {
            let map = remap.get_or_insert_with(|| {
                graph
                    .commits
                    .iter()
                    .zip(&new_commit)
                    .filter_map(|(c, n)| n.filter(|n| *n != c.oid).map(|n| (c.oid, n)))
                    .collect()
            });
            tree = remap_notes(&mut w, tree, map)?;
        }
        let old_tree = graph.nodes[c.tree as usize].oid;
        let changed_parent = c.parents.iter().any(|&p| {
            p != GITLINK && new_commit[p as usize] != Some(graph.commits[p as usize].oid)
        });
        if tree == old_tree && c.msg_mask == 0 && !changed_parent {
            new_commit[ci] = Some(c.oid);
            new_tree_of[ci] = tree;
            continue;
        }
        let raw = w.odb.read(c.oid)?.data().to_vec();
        let raw = zeroize::Zeroizing::new(raw);
        let (headers, message) = split_object(&raw);
        // Parents in order, pruned ones replaced by what stands in for them, duplicates dropped.
        let old_parents: Vec<Oid> = header_fields(headers)
            .into_iter()
            .filter(|(n, _)| *n == b"parent")
            .filter_map(|(_, l)| {
                std::str::from_utf8(l)
                    .ok()
                    .and_then(|s| s.split_whitespace().nth(1))
                    .and_then(|h| Oid::from_str(h).ok())
            })
            .collect();
        let mut parents: Vec<Oid> = Vec::new();
        for (k, p) in old_parents.iter().enumerate() {
            let mapped = match c.parents.get(k) {
                Some(&pi) if pi != GITLINK => new_commit[pi as usize],
                _ => Some(*p),
            };
            if let Some(m) = mapped {
                if !parents.contains(&m) {
                    parents.push(m);
                }
            }
        }
        if opts.prune_empty && old_parents.len() <= 1 && parents.len() <= 1 {
            let old_parent_tree = match c.parents.first() {
                Some(&pi) if pi != GITLINK => {
                    graph.nodes[graph.commits[pi as usize].tree as usize].oid
                }
                Some(_) => Oid::zero(),
                None => w.empty_tree,
            };
            let new_parent_tree = match c.parents.first() {
                Some(&pi) if pi != GITLINK => {
                    // The tree of whatever now stands in for the parent.
                    match new_commit[pi as usize] {
                        Some(_) => new_tree_of[pi as usize],
                        None => w.empty_tree,
                    }
                }
                Some(_) => Oid::zero(),
                None => w.empty_tree,
            };
            let became_empty = tree == new_parent_tree && old_tree != old_parent_tree;
            if became_empty {
                outcome.commits_pruned += 1;
                pruned[ci] = true;
                new_commit[ci] = parents.first().copied();
                new_tree_of[ci] = tree;
                continue;
            }
        }
        let mut out = Vec::with_capacity(raw.len());
        out.extend_from_slice(format!("tree {tree}\n").as_bytes());
        for p in &parents {
            out.extend_from_slice(format!("parent {p}\n").as_bytes());
        }
        if clean_headers(headers, &[b"tree", b"parent"], replacer, &mut out) {
            outcome.signed_commits_dropped += 1;
        }
        out.push(b'\n');
        match replacer.replace(message) {
            Some(m) => out.extend_from_slice(&m),
            None => out.extend_from_slice(message),
        }
        let new = w.write(ObjectType::Commit, &out)?;
        if new != c.oid {
            outcome.commits_rewritten += 1;
        }
        new_commit[ci] = Some(new);
        new_tree_of[ci] = tree;
    }
    outcome.trees_written = w.trees_written;

    let commit_index: HashMap<Oid, usize> = graph
        .commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.oid, i))
        .collect();
    // Annotated tags, memoised (a tag may point at a tag).
    let mut new_tag: HashMap<u32, Option<Oid>> = HashMap::new();
    let mut refs = Vec::new();
    for r in &graph.refs {
        let new = resolve(
            &mut w,
            graph,
            replacer,
            r.target,
            &new_commit,
            &mut new_tag,
            &mut outcome,
        )?;
        // A replace ref is named by the id of the object it replaces: it follows that object.
        let renamed = replaced_id(&r.raw)
            .and_then(|old| commit_index.get(&old).map(|&i| (old, new_commit[i])))
            .and_then(|(old, n)| n.filter(|n| *n != old))
            .map(|n| format!("refs/replace/{n}").into_bytes());
        if new != Some(r.oid) || renamed.is_some() {
            refs.push(RefUpdate {
                name: r.name.clone(),
                raw: r.raw.clone(),
                old: r.oid.to_string(),
                new: new.map(|o| o.to_string()),
                renamed_to: renamed.as_deref().map(super::graph::display_name),
                renamed_raw: renamed,
            });
        }
    }
    outcome.refs = refs;
    // After the tags: they are written while resolving the refs.
    w.flush()?;
    outcome.written = std::mem::take(&mut w.written);
    outcome.commit_map = graph
        .commits
        .iter()
        .zip(&new_commit)
        .zip(&pruned)
        .map(|((c, n), &p)| (c.oid, if p { None } else { *n }))
        .collect();
    let changed: std::collections::HashSet<Oid> = outcome
        .commit_map
        .iter()
        .filter(|(o, n)| *n != Some(*o))
        .map(|(o, _)| *o)
        .collect();
    outcome.stash_entries_rewritten = super::graph::stash_entries(repo)
        .iter()
        .filter(|o| changed.contains(o))
        .count();
    Ok(outcome)
}

/// The new id of what a ref points at; a chain of tags is followed with a loop (any length),
/// innermost tag rewritten first, each tag once (memoised in `new_tag`).
fn resolve(
    w: &mut Writer,
    graph: &Graph,
    replacer: &Replacer,
    obj: Obj,
    new_commit: &[Option<Oid>],
    new_tag: &mut HashMap<u32, Option<Oid>>,
    outcome: &mut Outcome,
) -> Result<Option<Oid>> {
    let mut chain: Vec<u32> = Vec::new();
    let mut cur = obj;
    let mut value = loop {
        match cur {
            Obj::Commit(i) => break new_commit[i as usize],
            Obj::Node(i) => break Some(w.node(i)?),
            Obj::Other(o) => break Some(o),
            Obj::Tag(i) => {
                if let Some(done) = new_tag.get(&i) {
                    break *done;
                }
                if chain.len() > graph.tags.len() {
                    bail!("tag chain longer than the number of tags");
                }
                chain.push(i);
                cur = graph.tags[i as usize].target;
            }
        }
    };
    for i in chain.into_iter().rev() {
        value = rewrite_tag(w, graph, replacer, i, value, outcome)?;
        new_tag.insert(i, value);
    }
    Ok(value)
}

/// Tag `i` with its target's new id `target` (`None`: the target is gone, so is the tag).
fn rewrite_tag(
    w: &mut Writer,
    graph: &Graph,
    replacer: &Replacer,
    i: u32,
    target: Option<Oid>,
    outcome: &mut Outcome,
) -> Result<Option<Oid>> {
    let t = &graph.tags[i as usize];
    let old_target = target_oid(graph, t.target);
    Ok(match target {
        None => None,
        Some(target) if target == old_target && t.mask == 0 => Some(t.oid),
        Some(target) => {
            let raw = zeroize::Zeroizing::new(w.odb.read(t.oid)?.data().to_vec());
            let (headers, message) = split_object(&raw);
            let mut out = Vec::with_capacity(raw.len());
            out.extend_from_slice(format!("object {target}\n").as_bytes());
            let mut dropped = clean_headers(headers, &[b"object"], replacer, &mut out);
            out.push(b'\n');
            let body = match tag_signature_start(message) {
                Some(s) => {
                    dropped = true;
                    &message[..s]
                }
                None => message,
            };
            match replacer.replace(body) {
                Some(m) => out.extend_from_slice(&m),
                None => out.extend_from_slice(body),
            }
            if dropped {
                outcome.signed_tags_dropped += 1;
            }
            outcome.tags_rewritten += 1;
            Some(w.write(ObjectType::Tag, &out)?)
        }
    })
}

/// A notes tree's entries, flattened: (path components, mode, id).
type FlatEntry = (Vec<Vec<u8>>, Vec<u8>, Oid);

/// A notes tree (`refs/notes/*`) with every note moved to the new id of the commit it annotates.
///
/// Notes are blobs named by the annotated object's hex id, either flat (`<40 hex>`) or in fanout
/// directories (`ab/cdef...`, `ab/cd/ef...`); each note keeps its own fanout depth under its new
/// name, and every other entry stays where it is. A note for an object that did not change keeps
/// its name; a tree with no note to move is returned as is (same id).
fn remap_notes(w: &mut Writer, root: Oid, map: &HashMap<Oid, Oid>) -> Result<Oid> {
    let is_hex = |n: &[u8]| n.iter().all(|b| b.is_ascii_hexdigit());
    let mut flat: Vec<FlatEntry> = Vec::new();
    let mut moved = false;
    // Fanout directories only: at most 19 levels, so this stack stays small.
    let mut stack: Vec<(Oid, Vec<Vec<u8>>, Vec<u8>)> = vec![(root, Vec::new(), Vec::new())];
    while let Some((tree, path, hex)) = stack.pop() {
        let raw = match w.dry_trees.get(&tree) {
            Some(t) => t.clone(),
            None => w.odb.read(tree)?.data().to_vec(),
        };
        for (mode, name, id) in super::graph::tree_entries(&raw)? {
            let mut p = path.clone();
            p.push(name.to_vec());
            let full = [hex.as_slice(), name].concat();
            if super::graph::mode_is_tree(mode)
                && name.len() == 2
                && is_hex(name)
                && full.len() < 40
            {
                stack.push((id, p, full));
                continue;
            }
            if !super::graph::mode_is_tree(mode) && full.len() == 40 && is_hex(&full) {
                let annotated = Oid::from_str(std::str::from_utf8(&full)?)?;
                if let Some(new) = map.get(&annotated) {
                    moved = true;
                    let new = new.to_string().into_bytes();
                    let depth = p.len() - 1;
                    let mut q: Vec<Vec<u8>> =
                        (0..depth).map(|d| new[2 * d..2 * d + 2].to_vec()).collect();
                    q.push(new[2 * depth..].to_vec());
                    flat.push((q, mode.to_vec(), id));
                    continue;
                }
            }
            flat.push((p, mode.to_vec(), id));
        }
    }
    if !moved {
        return Ok(root);
    }
    build_tree(w, &flat, 0)
}

/// Writes the tree holding `entries` (paths relative to this level `depth`), subtrees first.
fn build_tree(w: &mut Writer, entries: &[FlatEntry], depth: usize) -> Result<Oid> {
    let mut groups: std::collections::BTreeMap<&[u8], Vec<FlatEntry>> = Default::default();
    let mut leaves: Vec<(&[u8], &[u8], Oid)> = Vec::new();
    for e in entries {
        if e.0.len() == depth + 1 {
            leaves.push((&e.0[depth], &e.1, e.2));
        } else {
            groups.entry(&e.0[depth]).or_default().push(e.clone());
        }
    }
    let mut items: Vec<(Vec<u8>, Vec<u8>, Oid)> = leaves
        .into_iter()
        .map(|(n, m, id)| (n.to_vec(), m.to_vec(), id))
        .collect();
    for (name, sub) in groups {
        let id = build_tree(w, &sub, depth + 1)?;
        items.push((name.to_vec(), b"40000".to_vec(), id));
    }
    // Git's order: by name, a tree's name compared as if it ended in `/`.
    let key = |(n, m, _): &(Vec<u8>, Vec<u8>, Oid)| {
        let mut k = n.clone();
        if super::graph::mode_is_tree(m) {
            k.push(b'/');
        }
        k
    };
    items.sort_by_key(key);
    let mut out = Vec::new();
    for (name, mode, id) in items {
        out.extend_from_slice(&mode);
        out.push(b' ');
        out.extend_from_slice(&name);
        out.push(0);
        out.extend_from_slice(id.as_bytes());
    }
    w.write(ObjectType::Tree, &out)
}

/// The object a replace ref (`refs/replace/<hex id>`) replaces.
fn replaced_id(raw: &[u8]) -> Option<Oid> {
    let hex = raw.strip_prefix(b"refs/replace/")?;
    if hex.len() != 40 {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

fn target_oid(graph: &Graph, obj: Obj) -> Oid {
    match obj {
        Obj::Commit(i) => graph.commits[i as usize].oid,
        Obj::Tag(i) => graph.tags[i as usize].oid,
        Obj::Node(i) => graph.nodes[i as usize].oid,
        Obj::Other(o) => o,
    }
}

/// `<gitdir>/leaksweep`, where the maps live.
/// Priority of the in-memory object store: above libgit2's loose (1) and pack (2) backends, so
/// every write lands there and reads look there first.
pub const MEMPACK_PRIORITY: i32 = 1000;

/// Writes the objects of `written` (held by an in-memory `Mempack` backend added with
/// [`MEMPACK_PRIORITY`] to the repository's object database) as a new pack with its index
/// under `objects/pack/`, instead of one loose file each: on curl, 80,000 loose trees and commits
/// cost most of the rewrite's time. libgit2's pack builder deltifies (on all cores) and writes the
/// index; an object that already existed on disk is simply packed again. Refs have not moved yet,
/// so a crash here leaves the old refs and at worst a stray temporary pack file.
pub fn write_pack(repo: &Repository, written: &[Oid]) -> Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    let mut pb = repo.packbuilder().context("cannot start a pack")?;
    pb.set_threads(0);
    for &oid in written {
        pb.insert_object(oid, None)
            .with_context(|| format!("cannot pack object {oid}"))?;
    }
    let dir = repo.path().join("objects").join("pack");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    pb.write(&dir, 0)
        .with_context(|| format!("cannot write the new pack into {}", dir.display()))?;
    Ok(())
}

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
    Ok(Some(out))
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

/// Every direct ref by raw name (old-style backups included), as it resolves now.
fn current_refs(repo: &Repository) -> Result<std::collections::BTreeMap<Vec<u8>, Oid>> {
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
fn current_value(
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
fn write_backups(repo: &Repository, refs: &[RefUpdate]) -> Result<()> {
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
    let stash_log = repo.commondir().join(super::graph::STASH_LOG);
    let stash_backup = work.join(super::graph::STASH_LOG);
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
                    super::graph::display_name(to)
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
                    super::graph::display_name(to)
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
                super::graph::display_name(name)
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
fn write_packed_refs(
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
                        super::graph::display_name(name)
                    )
                })?;
            text.extend_from_slice(format!("^{}\n", peeled.id()).as_bytes());
        }
    }
    let lock = dir.join("packed-refs.lock");
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
    Ok(())
}

/// Rewrites the stash list (the reflog of `refs/stash`, one line per `stash@{N}`) in place: every
/// entry's ids mapped through the commit map, targets replaced in its message, same order, no
/// entry added or dropped. Written through a temporary file and a rename.
pub fn rewrite_stash_log(repo: &Repository, outcome: &Outcome, replacer: &Replacer) -> Result<()> {
    let path = repo.commondir().join(super::graph::STASH_LOG);
    let text = match std::fs::read(&path) {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let map: HashMap<Oid, Oid> = outcome
        .commit_map
        .iter()
        .filter_map(|(o, n)| n.map(|n| (*o, n)))
        .collect();
    let id = |h: &[u8]| -> Option<Vec<u8>> {
        let o = Oid::from_str(std::str::from_utf8(h).ok()?).ok()?;
        map.get(&o).map(|n| n.to_string().into_bytes())
    };
    let mut out = Vec::with_capacity(text.len());
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
    if out[..] != text[..] {
        crate::output::write_atomic(&path, &out, false)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

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
