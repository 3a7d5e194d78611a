//! Phase 1, enumeration: tips of every ref, the commit walk, each commit's tree, range
//! boundaries and the annotated tags a range publishes, unreachable blobs.

use super::exposure::{Tip, STASH_REF};
use super::range::peel_commit;
use super::{HistoryOptions, Item, Kind, Paths, NO_COMMIT, UNREACHABLE_PREFIX};
use crate::git::id::{CommitId, IdMap, IdSet, ObjectId};
use crate::git::walk::Ranks;
use crate::git::{refs, tree, walk};
use crate::scan::{Collector, Scanner, SkipReason};
use anyhow::{Context, Result};
use git2::{ObjectType, Repository};
use indicatif::ProgressBar;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Enumeration state.
pub(super) struct Walker<'r> {
    repo: &'r Repository,
    /// Every object met, with the path (interned) it was first met at, or [`NO_PATH`] where no
    /// other path is looked for (a range, a tag, what a tag names).
    seen: IdMap<u32>,
    odb: git2::Odb<'r>,
    items: Vec<Item>,
    paths: Paths,
    collector: &'r Collector,
    /// The commit whose tree is being walked (for error messages).
    current: Option<CommitId>,
    /// Walk `refs/leaksweep/` too.
    backup_refs: bool,
    /// Decides which paths a path filter applies to.
    scanner: &'r Scanner,
    /// Range mode: each tree of the boundary commits, with the path it was first seen at.
    boundary_trees: IdMap<Box<str>>,
    /// Range mode: boundary blobs first seen at a path a path filter applies to (an allowlisted
    /// `docs/`, a fixture), with that path. A copy of one elsewhere in the range is new there.
    boundary_filtered: IdMap<Box<str>>,
    /// (tree or blob, path) pairs already handled as such copies.
    copies: HashSet<(ObjectId, Box<str>)>,
    /// Full history: the walked commits' parent links, by rank.
    graph: walk::Graph,
    /// Full history: every ref walked, as exposure reports it.
    refs: Vec<Tip>,
    /// A slice of a parallel walk: what the walk reports about an object, held (keyed by the
    /// object) until the slices are merged; `None`: reported at once.
    held: Option<Vec<(ObjectId, Note)>>,
    /// The last tree walked at each directory path (raw), up to [`LAST_TREES_BYTES`]: a new
    /// version of a directory is compared with it, and its unchanged entries (already seen)
    /// are passed over without a look-up in `seen`, the walk's main cost on a long history.
    last_at: HashMap<String, Vec<u8>>,
    last_bytes: usize,
    /// After a parallel walk: the objects each worker saw (all but blobs, which `seen` has),
    /// folded into `seen` only if something still asks (a tag on a tree, unreachable blobs),
    /// so the sets are not held twice.
    seen_parts: Vec<IdMap<u32>>,
    /// The tree of each commit walked, in walk order (`None`: the commit could not be read), so
    /// that later passes over the commit trees do not read every commit again.
    trees: Vec<Option<ObjectId>>,
    /// Full history: every place an object was met at, after its first, at another path (the
    /// first is in `seen`).
    moves: Option<Moves>,
}

/// The other paths of what the walk has already seen ([`Walker::moves`]).
///
/// A blob first judged at a path a path filter applies to is judged again at each other path
/// holding it, at the first commit holding it there. The walk passes over what it has seen, but
/// an object met at a path other than its first is a copy or a rename: it is recorded here, a
/// tree by the directory it is met at. That is every such place: the first commit holding a
/// blob at a path walks the trees down to it until the first one already seen; if that one (or
/// the blob) was first met at this very path, an earlier commit held the blob here already.
/// The entries the walk passes over as unchanged are the same name and object as in a version
/// of the directory walked before (`tree::Unchanged`), so held there already as well.
#[derive(Default)]
struct Moves {
    /// (object, commit, path interned): an object met at a path other than its first.
    list: Vec<Move>,
}

/// The first path of an object [`Walker::seen`] holds without one.
const NO_PATH: u32 = u32::MAX;

/// Marks `id` seen (with no first path); whether it was not before.
fn mark(seen: &mut IdMap<u32>, id: ObjectId) -> bool {
    match seen.entry(id) {
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(NO_PATH);
            true
        }
        std::collections::hash_map::Entry::Occupied(_) => false,
    }
}

/// A tree or blob met at `path` (interned) at `commit`, not the path it was first met at.
#[derive(Clone, Copy)]
pub(super) struct Move {
    pub(super) oid: ObjectId,
    pub(super) commit: u32,
    pub(super) path: u32,
    /// A tree (met at the directory `path`), not a blob.
    pub(super) tree: bool,
}

impl Moves {
    /// Records that `oid`, seen before and first met at path `first`, is at `prefix/name` in
    /// `commit`, unless that is its first path. (The bytes are compared: a name that is not
    /// UTF-8 is another path here, and the place recorded is its first path again, which the
    /// other-paths pass passes over.)
    fn met(&mut self, paths: &mut Paths, place: Place, first: u32, prefix: &str, name: &[u8]) {
        let here = |p: &str| is_join(p.as_bytes(), prefix.as_bytes(), name);
        self.met_at(paths, place, first, here, || join(prefix, name));
    }

    /// Records that `oid`, seen before and first met at path `first`, is at the path `make`
    /// builds in `commit`, unless `here` says that is `first`.
    fn met_at(
        &mut self,
        paths: &mut Paths,
        (oid, commit, tree): Place,
        first: u32,
        here: impl FnOnce(&str) -> bool,
        make: impl FnOnce() -> String,
    ) {
        if first == NO_PATH || here(paths.get(first)) {
            return;
        }
        let path = paths.intern(&make());
        self.list.push(Move {
            oid,
            commit,
            path,
            tree,
        });
    }
}

/// (object, commit, whether it is a tree): what [`Moves`] is told of.
type Place = (ObjectId, u32, bool);

/// Whether `path` is `prefix/name` (`name` alone at the root), without building the string.
fn is_join(path: &[u8], prefix: &[u8], name: &[u8]) -> bool {
    if prefix.is_empty() {
        return path == name;
    }
    path.len() == prefix.len() + 1 + name.len()
        && path.ends_with(name)
        && path.starts_with(prefix)
        && path[prefix.len()] == b'/'
}

/// Bound of [`Walker::last_at`]'s contents: past it, directories not yet kept are not kept.
const LAST_TREES_BYTES: usize = 64 << 20;

/// What the walk reports about an object: an unreadable tree or commit, a submodule skipped.
#[derive(Clone)]
enum Note {
    Skip(String, SkipReason),
    Error(String, String),
}

/// Reports `note` about `key`, or holds it for the merge of a parallel walk. A function of the
/// fields, so the tree walk can call it while it borrows the object database.
fn note(collector: &Collector, held: &mut Option<Vec<(ObjectId, Note)>>, key: ObjectId, n: Note) {
    match held {
        Some(h) => h.push((key, n)),
        None => emit(collector, n),
    }
}

fn emit(collector: &Collector, n: Note) {
    match n {
        Note::Skip(path, reason) => collector.skip(path, reason),
        Note::Error(path, message) => collector.error(path, message),
    }
}

/// What one worker of a parallel walk found: its items (paths interned in its own table), the
/// notes it held, every object it saw, and per slice it walked the ranges of those two lists
/// and the commits' parent ranks.
struct Part {
    items: Vec<Item>,
    paths: Paths,
    held: Vec<(ObjectId, Note)>,
    seen: IdMap<u32>,
    slices: Vec<SliceOut>,
    moves: Vec<Move>,
}

struct SliceOut {
    index: usize,
    items: std::ops::Range<usize>,
    held: std::ops::Range<usize>,
    parents: Vec<Vec<usize>>,
    trees: Vec<Option<ObjectId>>,
}

/// Slices of a parallel walk per thread, claimed in order: with one each, the thread with the
/// heavier half of the history (git/git's later commits) walked on alone for a third of the walk;
/// with four, the last slices are short (0.93x the wall time on git/git, the same CPU time, the
/// same items). Each slice a worker starts after another worker's costs it the trees it has not
/// seen, so more slices cost more CPU.
pub(super) const SLICES_PER_THREAD: usize = 4;

/// Fewest commits worth a parallel walk: below this the extra repository handles cost more than
/// they save.
pub(super) const PARALLEL_MIN_COMMITS: usize = 512;

/// What the walk leaves behind: the items to scan, their paths, and (in a full history) the
/// graph and refs the exposure of findings is computed from.
pub(super) struct Walked {
    pub(super) items: Vec<Item>,
    pub(super) paths: Paths,
    pub(super) graph: walk::Graph,
    pub(super) refs: Vec<Tip>,
    /// The tree of each commit, in walk order ([`Walker::trees`]).
    pub(super) trees: Vec<Option<ObjectId>>,
    /// Full history: every tree or blob met at a commit at a path other than its first (its
    /// first is an item's, for a blob), in no particular order ([`Moves`]).
    pub(super) moves: Option<Vec<Move>>,
}

impl<'r> Walker<'r> {
    pub(super) fn new(
        repo: &'r Repository,
        opts: &HistoryOptions,
        scanner: &'r Scanner,
        collector: &'r Collector,
    ) -> Result<Walker<'r>> {
        Ok(Walker {
            repo,
            seen: IdMap::default(),
            odb: repo.odb().context("cannot open the object database")?,
            items: Vec::new(),
            paths: Paths::default(),
            collector,
            current: None,
            backup_refs: opts.backup_refs,
            scanner,
            boundary_trees: IdMap::default(),
            boundary_filtered: IdMap::default(),
            copies: HashSet::new(),
            graph: walk::Graph::default(),
            refs: Vec::new(),
            held: None,
            last_at: HashMap::new(),
            last_bytes: 0,
            seen_parts: Vec::new(),
            trees: Vec::new(),
            moves: opts.range.is_none().then(Moves::default),
        })
    }

    /// The items found, their interned paths, the graph and the refs; the rest of the walk's
    /// state is dropped.
    pub(super) fn finish(self) -> Walked {
        Walked {
            items: self.items,
            paths: self.paths,
            graph: self.graph,
            refs: self.refs,
            trees: self.trees,
            moves: self.moves.map(|m| m.list),
        }
    }
}

impl Walker<'_> {
    /// Walks commits oldest first and their trees; returns the commits in walk order.
    pub(super) fn walk_commits(
        &mut self,
        opts: &HistoryOptions,
        spinner: &ProgressBar,
    ) -> Result<Vec<CommitId>> {
        let repo = self.repo;
        let mut walk = walk::oldest_first(repo).context("cannot start the history walk")?;
        let mut extra_trees = Vec::new();
        match &opts.range {
            Some((base, head)) => {
                let head_oid = peel_commit(repo, head)?;
                walk.push(head_oid)?;
                // An empty base: everything reachable from `head` (a single-revision range).
                if !base.is_empty() {
                    walk.hide(peel_commit(repo, base)?)?;
                }
            }
            None => {
                for tip in self.tips(&mut extra_trees) {
                    if let Err(e) = walk.push(tip.oid()) {
                        self.collector
                            .error(tip.to_string(), format!("cannot walk from commit: {e}"));
                    }
                }
            }
        }
        let mut commits = Vec::new();
        for oid in walk {
            match oid {
                Ok(oid) => commits.push(CommitId::of(oid)),
                Err(e) => {
                    self.collector
                        .error("history", format!("the commit walk stopped early: {e}"));
                    break;
                }
            }
        }
        if let Some((_, head)) = &opts.range {
            self.mark_boundary(&commits);
            self.range_tags(head, &commits);
        }
        // Parent links by rank, for exposure: only a full history reports it.
        let ranks = opts.range.is_none().then(|| Ranks::of(&commits));
        match &ranks {
            Some(r)
                if opts.threads > 1
                    && commits.len() >= PARALLEL_MIN_COMMITS
                    && std::env::var_os("LSW1").is_none() =>
            {
                self.walk_parallel(&commits, r, opts, spinner)?;
            }
            _ => {
                for (ci, &commit) in commits.iter().enumerate() {
                    let parents = self.walk_commit(commit, ci as u32, ranks.as_ref());
                    if ranks.is_some() {
                        self.graph.push(parents);
                    }
                    if ci.is_multiple_of(256) {
                        spinner.set_position(ci as u64);
                        spinner.set_message(format!("{} unique blobs", self.items.len()));
                    }
                }
            }
        }
        self.current = None;
        if !extra_trees.is_empty() {
            self.fold_seen();
        }
        for (tree, name) in extra_trees {
            match tree {
                Target::Tree(t) => self.walk_tree(t, NO_COMMIT, true),
                Target::Blob(b) => {
                    if mark(&mut self.seen, b) {
                        push(
                            &mut self.paths,
                            &mut self.items,
                            b,
                            NO_COMMIT,
                            &name,
                            Kind::Blob,
                        );
                    }
                }
            }
        }
        Ok(commits)
    }

    /// Walks one commit: its message becomes an item, its tree is walked. Returns the ranks of
    /// its parents (with `ranks`).
    fn walk_commit(&mut self, commit: CommitId, ci: u32, ranks: Option<&Ranks>) -> Vec<usize> {
        let (tree, parents) = self.tree_and_parents(commit, ranks);
        self.trees.push(tree.as_ref().ok().copied());
        match tree {
            Ok(tree) => {
                self.items.push(Item {
                    oid: commit.object(),
                    commit: ci,
                    path: 0,
                    kind: Kind::CommitMessage,
                });
                self.current = Some(commit);
                self.walk_tree(tree, ci, true);
            }
            Err(e) => note(
                self.collector,
                &mut self.held,
                commit.object(),
                Note::Error(commit.to_string(), format!("cannot read commit: {e}")),
            ),
        }
        parents
    }

    /// The full-history walk on `opts.threads` threads, with the result of the one-thread walk.
    ///
    /// The commits (oldest first) are cut into contiguous slices; each worker has its own
    /// repository handle and its own set of seen objects, and walks the slices it claims in
    /// order. A worker that starts a slice has not seen what other workers saw before it, so it
    /// finds some objects again: the merge keeps, per object, what the earliest slice found.
    /// That is exact: the first commit (in walk order) that reaches an object lies in some slice,
    /// and the worker of that slice cannot have seen the object before, so it records the object
    /// at that commit and at the same path as one walker would; a later find is dropped. Notes
    /// (unreadable trees, submodules) are merged the same way, so each is reported once.
    fn walk_parallel(
        &mut self,
        commits: &[CommitId],
        ranks: &Ranks,
        opts: &HistoryOptions,
        spinner: &ProgressBar,
    ) -> Result<()> {
        let threads = opts.threads;
        let slices = slice_bounds(commits.len(), threads * SLICES_PER_THREAD);
        let git_dir = self.repo.path().to_path_buf();
        let (scanner, collector) = (self.scanner, self.collector);
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let worker = || -> Result<Part> {
            let repo = Repository::open(&git_dir)
                .with_context(|| format!("cannot open {}", git_dir.display()))?;
            let mut w = Walker::new(&repo, opts, scanner, collector)?;
            w.held = Some(Vec::new());
            let mut outs = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(range) = slices.get(index) else {
                    break;
                };
                let (items0, held0) = (w.items.len(), w.held.as_ref().map_or(0, Vec::len));
                let trees0 = w.trees.len();
                let mut parents = Vec::with_capacity(range.len());
                for ci in range.clone() {
                    parents.push(w.walk_commit(commits[ci], ci as u32, Some(ranks)));
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(256) {
                        spinner.set_position(n as u64);
                    }
                }
                outs.push(SliceOut {
                    index,
                    items: items0..w.items.len(),
                    held: held0..w.held.as_ref().map_or(0, Vec::len),
                    parents,
                    trees: w.trees.split_off(trees0),
                });
            }
            Ok(Part {
                items: std::mem::take(&mut w.items),
                paths: std::mem::take(&mut w.paths),
                held: w.held.take().unwrap_or_default(),
                seen: std::mem::take(&mut w.seen),
                slices: outs,
                moves: w.moves.take().map(|m| m.list).unwrap_or_default(),
            })
        };
        let parts: Vec<Result<Part>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a history walk thread failed")))
                })
                .collect()
        });
        let mut parts = parts.into_iter().collect::<Result<Vec<Part>>>()?;
        self.merge(&mut parts);
        Ok(())
    }

    /// Merges the workers' parts in slice order: the first find of each blob and each noted
    /// object is kept, commit messages and parent links are taken as they are.
    fn merge(&mut self, parts: &mut [Part]) {
        let mut order: Vec<(usize, usize)> = parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| part.slices.iter().enumerate().map(move |(k, _)| (p, k)))
            .collect();
        order.sort_by_key(|&(p, k)| parts[p].slices[k].index);
        let mut noted = IdSet::default();
        for (p, k) in order {
            let part = &mut parts[p];
            let slice = &mut part.slices[k];
            for item in &part.items[slice.items.clone()] {
                let here = part.paths.get(item.path);
                let blob = item.kind == Kind::Blob;
                if let Some(&first) = blob.then(|| self.seen.get(&item.oid)).flatten() {
                    // Found first by an earlier slice: at another path, it is a place of its own.
                    if let Some(m) = self.moves.as_mut() {
                        let place = (item.oid, item.commit, false);
                        m.met_at(&mut self.paths, place, first, |p| p == here, || here.into());
                    }
                    continue;
                }
                let path = self.paths.intern(here);
                self.items.push(Item { path, ..*item });
                if blob {
                    let first = if self.moves.is_some() { path } else { NO_PATH };
                    self.seen.insert(item.oid, first);
                }
            }
            // By index, not drained: a worker's later slices index the same list.
            for (key, n) in &part.held[slice.held.clone()] {
                if noted.insert(*key) {
                    emit(self.collector, n.clone());
                }
            }
            for parents in std::mem::take(&mut slice.parents) {
                self.graph.push(parents);
            }
            self.trees.append(&mut slice.trees);
        }
        if let Some(m) = self.moves.as_mut() {
            for part in parts.iter_mut() {
                for mv in std::mem::take(&mut part.moves) {
                    let path = self.paths.intern(part.paths.get(mv.path));
                    m.list.push(Move { path, ..mv });
                }
            }
        }
        self.seen_parts = parts
            .iter_mut()
            .map(|p| std::mem::take(&mut p.seen))
            .collect();
    }

    /// Folds the workers' sets of seen objects into `seen`.
    fn fold_seen(&mut self) {
        for part in std::mem::take(&mut self.seen_parts) {
            for (id, first) in part {
                self.seen.entry(id).or_insert(first);
            }
        }
    }

    /// The tree a commit names and, with `ranks`, the ranks of its parents (read from the one
    /// raw object: cheaper than parsing the whole commit).
    fn tree_and_parents(
        &self,
        commit: CommitId,
        ranks: Option<&Ranks>,
    ) -> (std::result::Result<ObjectId, String>, Vec<usize>) {
        let obj = match self.odb.read(commit.oid()) {
            Ok(o) => o,
            Err(e) => return (Err(e.message().to_string()), Vec::new()),
        };
        let raw = obj.data();
        let parents = match ranks {
            Some(r) => walk::raw_parents(raw).map(|p| r.get(CommitId(p))).collect(),
            None => Vec::new(),
        };
        let tree = crate::git::object::commit_tree(raw)
            .ok_or_else(|| "malformed commit (no tree line)".to_string());
        (tree, parents)
    }

    /// Commit tips of every ref (peeled), HEAD and the stash reflog; annotated tags become
    /// message items; tags on trees or blobs go to `extra`. Every ref is also recorded, with
    /// what it peels to, for exposure.
    fn tips(&mut self, extra: &mut Vec<(Target, String)>) -> Vec<ObjectId> {
        let repo = self.repo;
        let mut tips = Vec::new();
        let detached = refs::detached_head(repo).is_some();
        // (name, id, the name exposure reports it by: none for an alias of another ref).
        let mut named: Vec<(String, ObjectId, Option<String>)> = Vec::new();
        if let Some(id) = refs::head(repo) {
            named.push(("HEAD".into(), id, detached.then(|| "HEAD".into())));
        }
        match refs::list(repo) {
            Ok(list) => {
                for r in list {
                    match r {
                        Ok(r) => {
                            let name = r.lossy_name();
                            if !self.backup_refs && refs::is_backup_ref(&r.name) {
                                // Counted and named: on a repository that received them (a
                                // mirror push) they are published history.
                                self.collector.skip(name, SkipReason::BackupRef);
                                continue;
                            }
                            // A symbolic ref (`refs/remotes/origin/HEAD`) names another ref.
                            let reported = r.direct.map(|_| name.clone());
                            match r.resolved {
                                Some(id) => named.push((name, id, reported)),
                                None => self.collector.error(name, "reference does not resolve"),
                            }
                        }
                        Err(e) => self
                            .collector
                            .error("refs", format!("cannot read a reference: {e}")),
                    }
                }
            }
            Err(e) => self
                .collector
                .error("refs", format!("cannot list references: {e}")),
        }
        // Older stashes live only in the stash reflog.
        for (i, id) in refs::stash_entries(repo).into_iter().enumerate() {
            named.push((format!("stash@{{{i}}}"), id, Some(STASH_REF.into())));
        }
        // Each id is peeled once: (the commit it reaches, the tag objects on the way).
        let mut peeled: IdMap<(Option<ObjectId>, Vec<ObjectId>)> = IdMap::default();
        for (name, id, reported) in named {
            let (commit, chain) = peeled
                .entry(id)
                .or_insert_with(|| {
                    let mut chain = Vec::new();
                    let commit = self.peel_tip(&name, id, &mut chain, extra);
                    tips.extend(commit);
                    (commit, chain)
                })
                .clone();
            if let Some(name) = reported {
                self.refs.push(Tip {
                    name,
                    commit,
                    tags: chain,
                });
            }
        }
        tips
    }

    /// Follows tags down to a commit (returned), tree or blob; the tag objects on the way are
    /// added to `chain`.
    fn peel_tip(
        &mut self,
        name: &str,
        mut oid: ObjectId,
        chain: &mut Vec<ObjectId>,
        extra: &mut Vec<(Target, String)>,
    ) -> Option<ObjectId> {
        let repo = self.repo;
        // Tag chains are short; the bound guards against a cycle in a corrupt repository.
        for _ in 0..64 {
            let kind = match repo.odb().and_then(|odb| odb.read_header(oid.oid())) {
                Ok((_, kind)) => kind,
                Err(e) => {
                    self.collector
                        .error(name, format!("cannot read object {oid}: {e}"));
                    return None;
                }
            };
            match kind {
                ObjectType::Commit => return Some(oid),
                ObjectType::Tag => {
                    chain.push(oid);
                    if mark(&mut self.seen, oid) {
                        push(
                            &mut self.paths,
                            &mut self.items,
                            oid,
                            NO_COMMIT,
                            name,
                            Kind::TagMessage,
                        );
                    }
                    match repo.find_tag(oid.oid()) {
                        Ok(t) => oid = ObjectId::of(t.target_id()),
                        Err(e) => {
                            self.collector
                                .error(name, format!("cannot read tag {oid}: {e}"));
                            return None;
                        }
                    }
                }
                ObjectType::Tree => {
                    extra.push((Target::Tree(oid), name.to_string()));
                    return None;
                }
                ObjectType::Blob => {
                    extra.push((Target::Blob(oid), name.to_string()));
                    return None;
                }
                _ => return None,
            }
        }
        None
    }

    /// Range mode: the annotated tags a push of the range publishes become message items: the
    /// tag chain `head` names (the pre-push hook passes a pushed tag as its tag object id), and
    /// every annotated tag under `refs/tags/` whose commit is in the range.
    fn range_tags(&mut self, head: &str, commits: &[CommitId]) {
        let repo = self.repo;
        let in_range: IdSet<CommitId> = commits.iter().copied().collect();
        let mut starts: Vec<(String, ObjectId)> = Vec::new();
        if let Ok(obj) = repo.revparse_single(head) {
            if obj.kind() == Some(ObjectType::Tag) {
                starts.push((String::new(), ObjectId::of(obj.id())));
            }
        }
        if let Ok(list) = refs::list(repo) {
            for r in list.into_iter().flatten() {
                if !r.name.starts_with(b"refs/tags/") {
                    continue;
                }
                if let Some(id) = r.direct {
                    starts.push((r.lossy_name(), id));
                }
            }
        }
        for (name, start) in starts {
            // The chain of tag objects down to what it tags (bounded against a corrupt cycle).
            let mut chain = Vec::new();
            let mut oid = start;
            let mut target = None;
            for _ in 0..64 {
                match repo.find_tag(oid.oid()) {
                    Ok(t) => {
                        let tag_name = String::from_utf8_lossy(t.name_bytes()).into_owned();
                        chain.push((oid, tag_name));
                        oid = ObjectId::of(t.target_id());
                    }
                    Err(_) => {
                        target = Some(oid);
                        break;
                    }
                }
            }
            if chain.is_empty() {
                continue;
            }
            let explicit = name.is_empty();
            let reaches_range = target.is_some_and(|t| {
                repo.find_object(t.oid(), None)
                    .and_then(|o| o.peel_to_commit())
                    .is_ok_and(|c| in_range.contains(&CommitId::of(c.id())))
            });
            if !explicit && !reaches_range {
                continue;
            }
            for (tag, tag_name) in chain {
                if mark(&mut self.seen, tag) {
                    let shown = if explicit {
                        format!("refs/tags/{tag_name}")
                    } else {
                        name.clone()
                    };
                    push(
                        &mut self.paths,
                        &mut self.items,
                        tag,
                        NO_COMMIT,
                        &shown,
                        Kind::TagMessage,
                    );
                }
            }
        }
    }

    /// Range mode: blobs in the trees of the boundary commits count as already present.
    fn mark_boundary(&mut self, commits: &[CommitId]) {
        let in_range: IdSet<CommitId> = commits.iter().copied().collect();
        let mut boundary: IdSet<CommitId> = IdSet::default();
        for &commit in commits {
            if let Ok(c) = self.repo.find_commit(commit.oid()) {
                boundary.extend(
                    c.parent_ids()
                        .map(CommitId::of)
                        .filter(|p| !in_range.contains(p)),
                );
            }
        }
        let mut boundary: Vec<CommitId> = boundary.into_iter().collect();
        boundary.sort();
        for commit in boundary {
            match self.repo.find_commit(commit.oid()) {
                Ok(c) => {
                    self.current = Some(commit);
                    self.walk_tree(ObjectId::of(c.tree_id()), NO_COMMIT, false);
                }
                Err(e) => self.collector.error(
                    commit.to_string(),
                    format!("cannot read boundary commit: {e}"),
                ),
            }
        }
    }

    /// Depth-first walk of a tree in entry order, skipping everything already seen. With
    /// `record`, new blobs become items attributed to `commit`; without, they are only marked.
    /// Trees are read raw and parsed here: libgit2's parsed trees allocate per entry.
    ///
    /// Range mode: a boundary tree reached at another path is walked again there (once per
    /// path), and a boundary blob that a path filter hid becomes an item at each other path, as
    /// the filters there are not the ones that hid it.
    fn walk_tree(&mut self, root: ObjectId, commit: u32, record: bool) {
        // (tree, path, walked again as a copy of a boundary tree)
        let mut stack: Vec<(ObjectId, String, bool)> = vec![(root, String::new(), false)];
        let mut subtrees = Vec::new();
        let copies_matter = record && !self.boundary_trees.is_empty();
        // Full history: the other paths of what was seen before are recorded ([`Moves`]).
        let track = record && commit != NO_COMMIT && !copies_matter;
        let mut moves = self.moves.as_mut().filter(|_| track);
        while let Some((tree_id, prefix, again)) = stack.pop() {
            let known = self.seen.get(&tree_id).copied();
            if let (Some(first), false) = (known, again) {
                // Met twice in one commit: two directories that hold the same tree.
                if let Some(m) = moves.as_mut() {
                    let place = (tree_id, commit, true);
                    m.met_at(
                        &mut self.paths,
                        place,
                        first,
                        |p| p == prefix,
                        || prefix.clone(),
                    );
                }
                continue;
            }
            if known.is_none() {
                let first = match moves {
                    Some(_) => self.paths.intern(&prefix),
                    None => NO_PATH,
                };
                self.seen.insert(tree_id, first);
            }
            if !record {
                self.boundary_trees.insert(tree_id, prefix.as_str().into());
            }
            let obj = match self.odb.read(tree_id.oid()) {
                Ok(o) if o.kind() == ObjectType::Tree => o,
                Ok(o) => {
                    let m = format!("is a {}, not a tree", o.kind());
                    let n = tree_note(self.current, &prefix, tree_id, &m);
                    note(self.collector, &mut self.held, tree_id, n);
                    continue;
                }
                Err(e) => {
                    let n = tree_note(self.current, &prefix, tree_id, e.message());
                    note(self.collector, &mut self.held, tree_id, n);
                    continue;
                }
            };
            let mut malformed = false;
            // The last version of this directory: its entries are all in `seen` (unless copies
            // must be found, which needs every entry looked at).
            let last = match copies_matter {
                false => self.last_at.get_mut(&prefix).map(std::mem::take),
                true => None,
            };
            let mut unchanged = last.as_deref().map(tree::Unchanged::new);
            for entry in tree::entries(obj.data()) {
                // The mode must be octal digits: anything else is as malformed as a short entry.
                let Some((mode, name, id, e)) = entry
                    .ok()
                    .and_then(|e| Some((e.mode_bits()?, e.name, e.id, e)))
                else {
                    malformed = true;
                    break;
                };
                if unchanged.as_mut().is_some_and(|u| u.contains(&e)) {
                    continue;
                }
                if mode == tree::MODE_TREE {
                    let known = self.seen.get(&id).copied();
                    if known.is_none() {
                        subtrees.push((id, join(&prefix, name), false));
                    } else if let (Some(m), Some(first)) = (moves.as_mut(), known) {
                        m.met(&mut self.paths, (id, commit, true), first, &prefix, name);
                    } else if copies_matter {
                        if let Some(first) = self.boundary_trees.get(&id) {
                            let path = join(&prefix, name);
                            if **first != *path && self.copies.insert((id, path.as_str().into())) {
                                subtrees.push((id, path, true));
                            }
                        }
                    }
                    continue;
                }
                let known = match self.seen.entry(id) {
                    std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(NO_PATH);
                        None
                    }
                };
                if let Some(first) = known {
                    if let Some(m) = moves.as_mut() {
                        m.met(&mut self.paths, (id, commit, false), first, &prefix, name);
                    } else if copies_matter {
                        if let Some(first) = self.boundary_filtered.get(&id) {
                            let path = join(&prefix, name);
                            if **first != *path && self.copies.insert((id, path.as_str().into())) {
                                push(
                                    &mut self.paths,
                                    &mut self.items,
                                    id,
                                    commit,
                                    &path,
                                    Kind::Blob,
                                );
                            }
                        }
                    }
                    continue;
                }
                if !record {
                    if mode != tree::MODE_GITLINK {
                        let path = join(&prefix, name);
                        if self.scanner.path_sensitive(&path) {
                            self.boundary_filtered.insert(id, path.into());
                        }
                    }
                    continue;
                }
                let path = join(&prefix, name);
                if mode == tree::MODE_GITLINK {
                    let label = format!("{}:{path}", commit_label(self.current));
                    let n = Note::Skip(label, SkipReason::Submodule);
                    note(self.collector, &mut self.held, id, n);
                    continue;
                }
                let at = push(
                    &mut self.paths,
                    &mut self.items,
                    id,
                    commit,
                    &path,
                    Kind::Blob,
                );
                if moves.is_some() {
                    self.seen.insert(id, at);
                }
            }
            if malformed {
                let n = tree_note(self.current, &prefix, tree_id, "malformed tree entry");
                note(self.collector, &mut self.held, tree_id, n);
            } else if !copies_matter {
                // Kept only whole: the entries after a malformed one were never looked at.
                keep_last(
                    &mut self.last_at,
                    &mut self.last_bytes,
                    &prefix,
                    last,
                    obj.data(),
                );
            }
            stack.extend(subtrees.drain(..).rev());
        }
    }

    /// Adds every blob of the object database that the walk did not reach.
    pub(super) fn add_unreachable(&mut self) -> Result<()> {
        self.fold_seen();
        let odb = self.repo.odb().context("cannot open the object database")?;
        let mut candidates = Vec::new();
        odb.foreach(|oid| {
            let id = ObjectId::of(*oid);
            if !self.seen.contains_key(&id) {
                candidates.push(id);
            }
            true
        })
        .context("cannot list the object database")?;
        candidates.sort();
        candidates.dedup();
        for oid in candidates {
            match odb.read_header(oid.oid()) {
                Ok((_, ObjectType::Blob)) => {
                    mark(&mut self.seen, oid);
                    push(
                        &mut self.paths,
                        &mut self.items,
                        oid,
                        NO_COMMIT,
                        &format!("{UNREACHABLE_PREFIX}{oid}>"),
                        Kind::Unreachable,
                    );
                }
                Ok(_) => {}
                Err(e) => self
                    .collector
                    .error(oid.to_string(), format!("cannot read object header: {e}")),
            }
        }
        Ok(())
    }
}

/// `commit7` of `current`, as skipped and unreadable items are named.
fn commit_label(current: Option<CommitId>) -> String {
    match current {
        Some(c) => c.short(),
        None => "(tag)".into(),
    }
}

/// The error note of an unreadable tree, named by the commit and path that reach it.
fn tree_note(current: Option<CommitId>, prefix: &str, tree: ObjectId, message: &str) -> Note {
    let at = if prefix.is_empty() { "/" } else { prefix };
    Note::Error(
        format!("{}:{at}", commit_label(current)),
        format!("cannot read tree {tree}: {message}"),
    )
}

/// Keeps `data` as the last tree walked at `prefix`, in the buffer of the one it replaces.
fn keep_last(
    last_at: &mut HashMap<String, Vec<u8>>,
    bytes: &mut usize,
    prefix: &str,
    buffer: Option<Vec<u8>>,
    data: &[u8],
) {
    match (last_at.get_mut(prefix), buffer) {
        (Some(slot), Some(mut buf)) => {
            *bytes = (*bytes + data.len()).saturating_sub(buf.len());
            buf.clear();
            buf.extend_from_slice(data);
            *slot = buf;
        }
        _ if *bytes + data.len() <= LAST_TREES_BYTES => {
            *bytes += data.len();
            last_at.insert(prefix.to_string(), data.to_vec());
        }
        _ => {}
    }
}

/// `n` commits cut into `threads` contiguous slices of (nearly) equal length.
pub(super) fn slice_bounds(n: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let k = threads.max(1).min(n.max(1));
    (0..k).map(|i| i * n / k..(i + 1) * n / k).collect()
}

enum Target {
    Tree(ObjectId),
    Blob(ObjectId),
}

fn join(prefix: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if prefix.is_empty() {
        name.into_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Records one item to scan, at `path` (interned; returned). A function of the two fields, not
/// of the walker, so the tree walk can call it while it borrows the object database.
fn push(
    paths: &mut Paths,
    items: &mut Vec<Item>,
    oid: ObjectId,
    commit: u32,
    path: &str,
    kind: Kind,
) -> u32 {
    let path = paths.intern(path);
    items.push(Item {
        oid,
        commit,
        path,
        kind,
    });
    path
}
