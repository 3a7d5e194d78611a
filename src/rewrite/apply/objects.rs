//! New objects: trees bottom-up from their raw bytes, commits oldest first, annotated tags, notes
//! trees moved to the new ids, all through one [`Writer`] that counts what it writes and packs it
//! ([`write_pack`]) whenever the in-memory store holds [`PACK_FLUSH_BYTES`].

use super::{ApplyOptions, Outcome, RefUpdate, PACK_FLUSH_BYTES, PACK_FLUSH_ENV};
use crate::rewrite::graph::{
    header_fields, split_object, tag_signature_start, Graph, Obj, GITLINK, REMOVED,
};
use crate::rewrite::Replacer;
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Odb, Oid, Repository};
use std::collections::HashMap;

struct Writer<'a> {
    repo: &'a Repository,
    store: Option<&'a Store<'a>>,
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
            let oid = match self.store {
                Some(store) => store.odb.write(kind, data)?,
                None => self.odb.write(kind, data)?,
            };
            self.written.push(oid);
            if self.store.is_some() {
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
        let Some(store) = self.store else {
            return Ok(());
        };
        // A pack cut short by Ctrl-C would leave its temporary files behind: the handler waits.
        let _step = crate::output::defer_interrupts("writing a pack");
        let dir = self.repo.path().join("objects").join("pack");
        write_pack(store.repo, &dir, &self.written[self.flushed..])?;
        store.mempack.reset()?;
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
        let entries = crate::rewrite::graph::tree_entries(&raw)?;
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
        store: opts.store,
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
                renamed_to: renamed.as_deref().map(crate::rewrite::graph::display_name),
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
    outcome.stash_entries_rewritten = crate::rewrite::graph::stash_entries(repo)
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
            None => w.read_any(tree)?,
        };
        for (mode, name, id) in crate::rewrite::graph::tree_entries(&raw)? {
            let mut p = path.clone();
            p.push(name.to_vec());
            let full = [hex.as_slice(), name].concat();
            if crate::rewrite::graph::mode_is_tree(mode)
                && name.len() == 2
                && is_hex(name)
                && full.len() < 40
            {
                stack.push((id, p, full));
                continue;
            }
            if !crate::rewrite::graph::mode_is_tree(mode) && full.len() == 40 && is_hex(&full) {
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
        if crate::rewrite::graph::mode_is_tree(m) {
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

/// The in-memory store that receives the new objects: libgit2's mempack backend alone in an
/// object database of its own, wrapped in a repository for the pack builder.
///
/// Not a backend of the repository's own object database: a write there first looks for the
/// object in every backend and, on a miss, rescans `objects/pack` and tries to touch a loose
/// file (a directory read, a failed `open` and a failed `utime` for each new object: 80,000 of
/// each on curl). Here a write looks only in memory, so an object that already exists on disk is
/// written and packed again (the same bytes under the same id).
pub struct Store<'a> {
    pub repo: &'a Repository,
    pub odb: &'a Odb<'a>,
    pub mempack: &'a git2::Mempack<'a>,
}

impl Writer<'_> {
    /// An object written by this run (still in memory, or packed already) or an old one.
    fn read_any(&self, oid: Oid) -> Result<Vec<u8>> {
        if let Some(store) = self.store {
            if let Ok(o) = store.odb.read(oid) {
                return Ok(o.data().to_vec());
            }
        }
        Ok(self.odb.read(oid)?.data().to_vec())
    }
}

/// Writes the objects of `written` (held by the [`Store`] of `source`) as a new pack with its
/// index in `dir` (the repository's `objects/pack`), instead of one loose file each: on curl,
/// 80,000 loose trees and commits cost most of the rewrite's time. libgit2's pack builder
/// deltifies (on all cores); its output reaches the indexer (which writes the pack and its index)
/// in [`INDEXER_CHUNK`] pieces rather than the builder's own two or three small writes per object:
/// the indexer remaps its view of the growing pack file on every write it is given. Refs have not
/// moved yet, so a crash here leaves the old refs and at worst a stray temporary pack file.
pub fn write_pack(source: &Repository, dir: &std::path::Path, written: &[Oid]) -> Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    let mut pb = source.packbuilder().context("cannot start a pack")?;
    pb.set_threads(0);
    for &oid in written {
        pb.insert_object(oid, None)
            .with_context(|| format!("cannot pack object {oid}"))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cannot = || format!("cannot write the new pack into {}", dir.display());
    let indexer = git2::Indexer::new(None, dir, 0, false).with_context(cannot)?;
    let mut out = std::io::BufWriter::with_capacity(INDEXER_CHUNK, indexer);
    let mut failed = None;
    let built = pb.foreach(|chunk| match std::io::Write::write_all(&mut out, chunk) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    });
    if let Some(e) = failed {
        return Err(e).with_context(cannot);
    }
    built.with_context(cannot)?;
    let indexer = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(cannot)?;
    indexer.commit().with_context(cannot)?;
    Ok(())
}

/// Bytes of pack data handed to the indexer at once (see [`write_pack`]).
const INDEXER_CHUNK: usize = 4 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_refs_name_the_object_they_replace() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let want = Oid::from_str(hex).unwrap();
        assert_eq!(
            replaced_id(format!("refs/replace/{hex}").as_bytes()),
            Some(want)
        );
        assert_eq!(replaced_id(format!("refs/heads/{hex}").as_bytes()), None);
        assert_eq!(replaced_id(b"refs/replace/0123"), None);
        assert_eq!(replaced_id(format!("refs/replace/{hex}0").as_bytes()), None);
        assert_eq!(
            replaced_id(b"refs/replace/zz23456789abcdef0123456789abcdef01234567"),
            None
        );
    }

    #[test]
    fn headers_lose_signatures_and_skipped_fields_and_their_secrets() {
        let replacer =
            Replacer::new(&crate::rewrite::parse_secrets_file(b"s3cr3t-value==>X\n", "x").unwrap())
                .unwrap();
        let headers = b"tree 1111111111111111111111111111111111111111\n\
parent 2222222222222222222222222222222222222222\n\
author A <a@s3cr3t-value> 1 +0000\n\
committer C <c@c> 1 +0000\n\
gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n";
        let mut out = Vec::new();
        assert!(clean_headers(
            headers,
            &[b"tree", b"parent"],
            &replacer,
            &mut out
        ));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "author A <a@X> 1 +0000\ncommitter C <c@c> 1 +0000\n"
        );
        let mut out = Vec::new();
        assert!(!clean_headers(
            b"tagger T <t@t> 1 +0000\n",
            &[],
            &replacer,
            &mut out
        ));
        assert_eq!(out, b"tagger T <t@t> 1 +0000\n");
    }
}
