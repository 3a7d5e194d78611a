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
//!
//! The parts: this file runs the checks on the graph and the commit-map; [`holders`] reads the
//! git directory itself (refs by raw name, packed and loose, every worktree's HEAD and index,
//! reflogs, the other files), [`needles`] is the literal search raw and encoded, and [`sweep`]
//! walks what the holders reach, searches it and reports it. Nothing here reads `apply`'s state
//! but the commit-map it wrote to disk.

mod holders;
mod needles;
mod sweep;

pub use holders::{show_bytes, Holder, HolderKind};
pub use needles::Needles;
pub use sweep::sweep;

use super::apply::read_commit_map;
use super::graph::{
    mode_is_gitlink, mode_is_tree, split_object, tree_entries, BuildOptions, Graph,
};
use super::{RemoveSet, Replacer, Target, TargetRecord, REMOVED_BIT};
use crate::scan::Scanner;
use anyhow::Result;
use git2::{ObjectType, Odb, Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

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
