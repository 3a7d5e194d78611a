//! Phase 3, annotation (only for findings): author, date and summary of the introducing commit
//! or tag, and every (commit, path) holding a blob, by one memoized pass over the commit trees.

use super::walk::{slice_bounds, Move, PARALLEL_MIN_COMMITS, SLICES_PER_THREAD};
use super::{History, Paths};
use crate::finding::{Finding, GitLocation};
use crate::git::id::{BlobId, IdHasher, IdMap, IdSet, ObjectId};
use crate::git::time::GitTime;
use crate::git::tree;
use crate::git::walk::Ranks;
use git2::Repository;
use std::rc::Rc;

/// Which places [`tree_places`] records.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Places {
    /// Every (commit, path) holding the blob (`--all-locations`).
    All,
    /// Only the first commit at each path: a blob that stays at one path for ten thousand
    /// commits is one place, not ten thousand strings.
    FirstPerPath,
}

/// The (commit index, path) places where each of `targets` appears, as `which` says, in walk
/// order (oldest first). `trees` holds each commit's tree, in walk order (`None`: unreadable);
/// [`Places::FirstPerPath`] is found on up to `threads` threads.
pub(super) fn tree_places(
    repo: &Repository,
    trees: &[Option<ObjectId>],
    targets: &IdSet,
    which: Places,
    threads: usize,
) -> IdMap<Vec<(u32, String)>> {
    let mut out: IdMap<Vec<(u32, String)>> = IdMap::default();
    if targets.is_empty() {
        return out;
    }
    if which == Places::FirstPerPath {
        return first_places(repo, trees, targets, threads);
    }
    let Ok(odb) = repo.odb() else { return out };
    let mut memo: IdMap<Rc<Vec<(String, ObjectId)>>> = IdMap::default();
    for (ci, tree) in trees.iter().enumerate() {
        let Some(tree) = *tree else { continue };
        let hits = tree_hits(&odb, tree, targets, &mut memo, 0);
        for (path, blob) in hits.iter() {
            out.entry(*blob)
                .or_default()
                .push((ci as u32, path.clone()));
        }
    }
    out
}

/// [`Places::FirstPerPath`] from what the walk recorded ([`Move`]): each target's places at
/// paths other than its first, the first commit at each, in walk order. A blob moved is a place
/// of its own; a tree moved holds its targets at its new directory, as many as it holds (read
/// once per tree, memoized). No commit tree is read again.
pub(super) fn moved_places(
    repo: &Repository,
    moves: &[Move],
    paths: &Paths,
    targets: &IdSet,
) -> IdMap<Vec<(u32, String)>> {
    let mut out: IdMap<Vec<(u32, String)>> = IdMap::default();
    // Only a moved tree is read: a blob's moves need no object database.
    let odb = moves
        .iter()
        .any(|m| m.tree)
        .then(|| repo.odb().ok())
        .flatten();
    let mut memo: IdMap<Rc<Vec<(String, ObjectId)>>> = IdMap::default();
    for mv in moves {
        let at = paths.get(mv.path);
        if !mv.tree {
            if targets.contains(&mv.oid) {
                out.entry(mv.oid)
                    .or_default()
                    .push((mv.commit, at.to_string()));
            }
            continue;
        }
        let Some(odb) = &odb else { continue };
        for (rel, blob) in tree_hits(odb, mv.oid, targets, &mut memo, 0).iter() {
            let path = match at.is_empty() {
                true => rel.clone(),
                false => format!("{at}/{rel}"),
            };
            out.entry(*blob).or_default().push((mv.commit, path));
        }
    }
    first_per_path(&mut out);
    out
}

/// [`Places::FirstPerPath`]: the commits are cut into slices, claimed in order by the calling
/// thread and `threads - 1` more, each with its own repository handle and its own record of
/// the (directory, tree) pairs it has read. That is exact, as in the parallel walk: the first
/// commit holding a blob at a path lies in some slice, and the thread walking it cannot have
/// read a tree holding the blob at that path before (that would be an earlier commit holding
/// it there), so it records that commit; the merge keeps, per path, the earliest.
fn first_places(
    repo: &Repository,
    trees: &[Option<ObjectId>],
    targets: &IdSet,
    threads: usize,
) -> IdMap<Vec<(u32, String)>> {
    let threads = match trees.len() >= PARALLEL_MIN_COMMITS {
        true => threads.max(1),
        false => 1,
    };
    let slices = slice_bounds(trees.len(), threads * SLICES_PER_THREAD);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = |odb: &git2::Odb<'_>| {
        let mut walk = FirstWalk::new(odb, targets);
        while let Some(range) = slices.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        {
            for ci in range.clone() {
                if let Some(tree) = trees[ci] {
                    walk.visit(None, tree, ci as u32, 0);
                }
            }
        }
        walk.out
    };
    let git_dir = repo.path().to_path_buf();
    let parts: Vec<IdMap<Vec<(u32, String)>>> = std::thread::scope(|s| {
        // A helper that cannot open the repository claims no slice: the others walk them all.
        let helpers: Vec<_> = (1..threads)
            .map(|_| {
                s.spawn(|| {
                    Repository::open(&git_dir)
                        .and_then(|r| Ok(work(&r.odb()?)))
                        .unwrap_or_default()
                })
            })
            .collect();
        let own = repo.odb().map(|odb| work(&odb)).unwrap_or_default();
        let mut parts = vec![own];
        // A helper that panicked would take the places of its slices with it: not passed over.
        parts.extend(
            helpers
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
        );
        parts
    });
    let mut out: IdMap<Vec<(u32, String)>> = IdMap::default();
    for part in parts {
        for (blob, places) in part {
            out.entry(blob).or_default().extend(places);
        }
    }
    first_per_path(&mut out);
    out
}

/// Keeps each blob's earliest place at each path, in walk order.
fn first_per_path(out: &mut IdMap<Vec<(u32, String)>>) {
    for places in out.values_mut() {
        // Stable: the places of one commit were all found by one thread, in tree order.
        places.sort_by_key(|&(ci, _)| ci);
        let mut first = std::collections::HashSet::new();
        places.retain(|(_, path)| first.insert(path.clone()));
    }
}

impl History {
    /// Each walked commit's position in the walk, which is topological, oldest first: a commit
    /// ranks after all of its ancestors. Comparing ranks orders findings by "introduced first"
    /// without walking the graph for each pair.
    pub fn ranks(&self) -> Ranks {
        Ranks::of(&self.commits)
    }

    /// Fills in author, date and summary for every finding, every location with
    /// `all_locations`, and in a full history the refs that reach it. Runs on the calling
    /// thread after the scan.
    pub fn annotate(&self, repo: &Repository, findings: &mut [Finding], all_locations: bool) {
        let mut meta: IdMap<Meta> = IdMap::default();
        for f in findings.iter_mut() {
            let Some(g) = f.git.as_mut() else { continue };
            // A tag message shows its tagger; anything else its commit's author.
            let (id, tag) = match (g.ids.tag, g.ids.commit) {
                (Some(tag), _) => (tag, true),
                (None, Some(commit)) => (commit.object(), false),
                (None, None) => continue,
            };
            let m = meta.entry(id).or_insert_with(|| Meta::load(repo, id, tag));
            g.author_name.clone_from(&m.name);
            g.author_email.clone_from(&m.email);
            g.date.clone_from(&m.date);
            if g.summary.is_empty() {
                g.summary.clone_from(&m.summary);
            }
        }
        if all_locations {
            let targets: IdSet = findings
                .iter()
                .filter_map(|f| f.git.as_ref())
                .filter(|g| g.kind == "file")
                .flat_map(|g| {
                    g.ids
                        .blob
                        .into_iter()
                        .chain(g.other_blobs.iter().map(|&(b, _)| b))
                })
                .map(BlobId::object)
                .collect();
            let locations = self.locations(repo, &targets);
            for f in findings.iter_mut() {
                let line = f.line;
                let Some(g) = f.git.as_mut() else { continue };
                if g.kind != "file" {
                    continue;
                }
                // Its own blob's places, then those of the other versions it stands for, each
                // with the line the secret is on there.
                let own = g.ids.blob.map(|b| (b, line));
                let blobs = own.into_iter().chain(g.other_blobs.drain(..));
                let mut all = Vec::new();
                for (blob, line) in blobs {
                    if let Some(l) = locations.get(&blob.object()) {
                        all.extend(l.iter().map(|l| GitLocation {
                            line: Some(line),
                            ..l.clone()
                        }));
                    }
                }
                g.locations = all;
            }
        }
        if let Some(e) = &self.exposure {
            e.expose(self, findings);
        }
        for f in findings.iter_mut() {
            f.refresh_fingerprint();
        }
    }

    /// Every (commit, path) where one of `targets` appears, in walk order (oldest first).
    fn locations(&self, repo: &Repository, targets: &IdSet) -> IdMap<Vec<GitLocation>> {
        tree_places(repo, &self.trees, targets, Places::All, 1)
            .into_iter()
            .map(|(blob, places)| {
                let list = places
                    .into_iter()
                    .map(|(ci, path)| GitLocation {
                        commit: self.commits[ci as usize].to_string(),
                        path,
                        line: None,
                    })
                    .collect();
                (blob, list)
            })
            .collect()
    }
}

/// Paths (relative to `tree`) of the target blobs inside `tree`, memoized per tree.
fn tree_hits(
    odb: &git2::Odb<'_>,
    tree: ObjectId,
    targets: &IdSet,
    memo: &mut IdMap<Rc<Vec<(String, ObjectId)>>>,
    depth: usize,
) -> Rc<Vec<(String, ObjectId)>> {
    if let Some(h) = memo.get(&tree) {
        return Rc::clone(h);
    }
    let mut hits = Vec::new();
    // Depth guard: real trees are shallow; a crafted one must not overflow the stack.
    if depth < 512 {
        if let Ok(obj) = odb.read(tree.oid()) {
            let entries = tree::entries(obj.data())
                .map_while(|e| e.ok().and_then(|e| Some((e.mode_bits()?, e.name, e.id))));
            for (mode, name, id) in entries {
                if mode == tree::MODE_TREE {
                    let sub = tree_hits(odb, id, targets, memo, depth + 1);
                    if !sub.is_empty() {
                        let name = String::from_utf8_lossy(name);
                        hits.extend(sub.iter().map(|(p, b)| (format!("{name}/{p}"), *b)));
                    }
                } else if targets.contains(&id) {
                    hits.push((String::from_utf8_lossy(name).into_owned(), id));
                }
            }
        }
    }
    let hits = Rc::new(hits);
    memo.insert(tree, Rc::clone(&hits));
    hits
}

/// The first commit holding each target at each of its paths, in walk order.
///
/// A tree met again at the same directory path holds the same blobs at the same paths as when
/// it was first met, at an earlier commit, so it is not read again: each (directory, tree)
/// pair is read once, and nothing is kept per commit. (A memo of every tree's hits, as
/// [`Places::All`] needs, holds one list of paths per commit for a blob that stays put.)
struct FirstWalk<'a> {
    odb: &'a git2::Odb<'a>,
    targets: &'a IdSet,
    /// (directory, tree) pairs already read; the root is directory `u32::MAX`.
    seen: std::collections::HashSet<DirTree, std::hash::BuildHasherDefault<IdHasher>>,
    /// Directory paths by id, and ids by path.
    dirs: Vec<String>,
    dir_ids: std::collections::HashMap<String, u32>,
    out: IdMap<Vec<(u32, String)>>,
}

/// A (directory id, tree) pair of [`FirstWalk::seen`], hashed as the tree id mixed with the
/// directory (both already well spread), not byte by byte.
#[derive(PartialEq, Eq)]
struct DirTree(u32, ObjectId);

impl std::hash::Hash for DirTree {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let b = self.1.as_bytes();
        let id = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        state.write_u64(id ^ u64::from(self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

impl<'a> FirstWalk<'a> {
    fn new(odb: &'a git2::Odb<'a>, targets: &'a IdSet) -> Self {
        FirstWalk {
            odb,
            targets,
            seen: Default::default(),
            dirs: Vec::new(),
            dir_ids: std::collections::HashMap::new(),
            out: IdMap::default(),
        }
    }

    /// Records the targets in `tree`, found at directory `dir` (`None`: the root) of commit
    /// `ci`, that no earlier commit held at the same path; entries in tree order.
    fn visit(&mut self, dir: Option<u32>, tree: ObjectId, ci: u32, depth: usize) {
        // Depth guard: real trees are shallow; a crafted one must not overflow the stack.
        if depth >= 512 || !self.seen.insert(DirTree(dir.unwrap_or(u32::MAX), tree)) {
            return;
        }
        let Ok(obj) = self.odb.read(tree.oid()) else {
            return;
        };
        // One buffer for the paths of the entries looked at: a string is made only for a
        // directory met for the first time and for a place recorded.
        let mut path = String::new();
        let entries = tree::entries(obj.data())
            .map_while(|e| e.ok().and_then(|e| Some((e.mode_bits()?, e.name, e.id))));
        for (mode, name, id) in entries {
            let subtree = mode == tree::MODE_TREE;
            if !subtree && !self.targets.contains(&id) {
                continue;
            }
            path.clear();
            if let Some(d) = dir {
                path.push_str(&self.dirs[d as usize]);
                path.push('/');
            }
            path.push_str(&String::from_utf8_lossy(name));
            if subtree {
                let d = match self.dir_ids.get(path.as_str()) {
                    Some(&d) => d,
                    None => {
                        let d = self.dirs.len() as u32;
                        self.dirs.push(path.clone());
                        self.dir_ids.insert(path.clone(), d);
                        d
                    }
                };
                self.visit(Some(d), id, ci, depth + 1);
            } else {
                let places = self.out.entry(id).or_default();
                if !places.iter().any(|(_, p)| *p == path) {
                    places.push((ci, path.clone()));
                }
            }
        }
    }
}

/// Author (or tagger) details of a commit (or tag).
#[derive(Default)]
struct Meta {
    name: String,
    email: String,
    date: String,
    summary: String,
}

impl Meta {
    /// The tagger of tag `id` (with `tag`), or the author and summary of commit `id`.
    fn load(repo: &Repository, id: ObjectId, tag: bool) -> Meta {
        let oid = id.oid();
        if tag {
            return match repo.find_tag(oid) {
                Ok(t) => match t.tagger() {
                    Some(s) => Meta::from_signature(&s, String::new()),
                    None => Meta::default(),
                },
                Err(_) => Meta::default(),
            };
        }
        match repo.find_commit(oid) {
            Ok(c) => {
                let summary = bounded_summary(c.summary_bytes().unwrap_or_default());
                Meta::from_signature(&c.author(), summary)
            }
            Err(_) => Meta::default(),
        }
    }

    fn from_signature(s: &git2::Signature<'_>, summary: String) -> Meta {
        Meta {
            name: String::from_utf8_lossy(s.name_bytes()).into_owned(),
            email: String::from_utf8_lossy(s.email_bytes()).into_owned(),
            date: GitTime::of(s.when()).rfc3339(),
            summary,
        }
    }
}

/// Longest commit summary copied into a finding, in characters (a commit's first line can be
/// as long as its message).
pub const MAX_SUMMARY: usize = 200;

/// The first [`MAX_SUMMARY`] characters of a commit summary, `…` marking a cut.
fn bounded_summary(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(MAX_SUMMARY * 4)];
    let text = String::from_utf8_lossy(raw);
    if text.chars().count() <= MAX_SUMMARY {
        return text.into_owned();
    }
    let mut out: String = text.chars().take(MAX_SUMMARY).collect();
    out.push('…');
    out
}
