//! Git history source: every blob reachable from every ref, read and scanned once.
//!
//! The scan has three phases (DESIGN.md decision 1):
//!
//! 1. **Enumerate** (one thread): collect tips from every ref under `refs/` (branches, tags,
//!    remotes, notes, stash and the stash reflog) plus `HEAD`, except `refs/leaksweep/` (the
//!    backups of a history rewrite, see [`is_backup_ref`]), walk commits oldest first
//!    (`TOPOLOGICAL | REVERSE`), and walk each commit's tree, skipping trees and blobs already
//!    seen. The first commit that reaches a blob is the one that introduced it; we keep only
//!    `(oid, commit index, interned path)` per unique blob, never contents.
//! 2. **Scan** (N threads, one `git2::Repository` each, as it is `Send` but not `Sync`): the
//!    unique items are sorted by their offset in the pack files (parsed from the `.idx` files),
//!    because reading a pack front to back keeps delta bases in libgit2's base cache; reading in
//!    object-id order is several times slower ([`crate::source::packorder`]). Workers claim
//!    small contiguous chunks from an atomic cursor, so each reads nearly sequentially and the
//!    load stays balanced. Memory is bounded by one blob per worker plus the item table.
//! 3. **Annotate** (one thread, only for findings): author, date and summary of the introducing
//!    commit, and with `--all-locations` every (commit, path) where the blob appears, computed by
//!    one memoized pass over the commit trees restricted to the blobs with findings.
//!
//! Commit and annotated-tag messages are scanned as items of their own (`<commit message>`,
//! `<tag message>`), under the same `--max-file-size` as blobs (a longer one is a `too-large`
//! skip named `commit7:<commit message>` or `tag:<tag message>`); findings carry at most
//! [`MAX_SUMMARY`] characters of a commit's summary line. Gitlinks (submodules) are not followed but counted; Git LFS pointers are
//! counted, not fetched. An unreadable object is recorded in the collector with the commit and
//! path that reach it, and the scan goes on; an unreadable part of the object database (a
//! directory or pack, which libgit2 would pass over unseen) is an error up front
//! ([`check_object_store`]).
//!
//! Reads skip libgit2's per-object SHA-1 re-verification (`strict_hash_verification(false)`):
//! it cost a third of the CPU time on a large history, and zlib's checksum still catches
//! corrupt data, as with `git cat-file`. `LEAKSWEEP_NO_PACK_ORDER=1` keeps discovery order
//! instead of pack order (a benchmarking knob).
//!
//! Trade-off: ranges (`BASE..HEAD`) treat as "already present" the blobs in the trees of the
//! boundary commits (the parents of range commits outside the range), not every blob ever seen
//! in BASE's history: that costs one tree walk instead of the whole history, and a secret that
//! was deleted before the range and re-added inside it is reported (it has leaked again). A blob
//! the boundary held at a path a path filter applies to (an allowlisted `docs/`, a fixture) is
//! new at any other path a range commit puts it (as a file or inside a copied tree), and is
//! scanned there.
//!
//! Path filters (path allowlists, test-path confidence, lock files) are judged at every path
//! that holds a blob, not only the first: a blob first judged at such a path, with findings or
//! with candidates the path hid, is scanned again at each of its other paths after phase 2
//! (`judge_at_other_paths`). The findings limit counts only what a version reports: one
//! finding per (secret, rule), in a range only secrets not inherited from the parents' version
//! of the path, and in a full history, for a version over the limit, only secrets new to it.

use crate::finding::{Finding, GitLocation, GitProvenance, SecretId};
use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Candidate, Collector, Scanner, SkipReason};
use crate::source::packorder;
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Oid, Repository, Sort};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Display path of a scanned commit message.
pub const COMMIT_MESSAGE_PATH: &str = "<commit message>";
/// Display path of a scanned annotated-tag message.
pub const TAG_MESSAGE_PATH: &str = "<tag message>";
/// Display path prefix of a blob that no ref reaches (followed by its id and `>`).
pub const UNREACHABLE_PREFIX: &str = "<unreachable blob ";

/// What to walk.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// `Some((base, head))`: only commits reachable from `head` and not from `base`.
    pub range: Option<(String, String)>,
    pub include_unreachable: bool,
    pub all_locations: bool,
    pub max_file_size: u64,
    pub threads: usize,
    pub progress: bool,
    /// Print phase timings on stderr (`-vv`).
    pub timings: bool,
    /// Also walk the refs under `refs/leaksweep/` (the backups `rewrite apply` keeps of the old
    /// history), which are skipped by default.
    pub backup_refs: bool,
}

/// Totals of a history scan, for the summary.
#[derive(Debug, Clone, Default)]
pub struct HistoryStats {
    pub commits: u64,
    /// Unique blobs found (scanned or skipped).
    pub blobs: u64,
    pub shallow: bool,
}

/// The result of enumeration and scanning, kept to annotate findings afterwards.
pub struct History {
    commits: Vec<Oid>,
    pub stats: HistoryStats,
}

/// A raw object id used as a hash key: compared inline (git2's `Oid` compares through FFI,
/// which showed up in profiles of the walk) and hashed by its first 8 bytes, which are already
/// uniformly distributed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Id([u8; 20]);

impl Id {
    fn of(oid: Oid) -> Id {
        let mut b = [0u8; 20];
        b.copy_from_slice(&oid.as_bytes()[..20]);
        Id(b)
    }
    fn oid(self) -> Oid {
        // 20 bytes always make a SHA-1 object id.
        Oid::from_bytes(&self.0).unwrap_or_else(|_| Oid::zero())
    }
}

impl std::hash::Hash for Id {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(b));
    }
}

/// Passes [`Id`]'s 8 bytes through unchanged.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

type IdSet = HashSet<Id, BuildHasherDefault<IdHasher>>;
type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

/// No commit (unreachable blobs, tags on trees or blobs).
const NO_COMMIT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blob,
    CommitMessage,
    TagMessage,
    Unreachable,
}

/// One unit of work: a unique blob (or a message), with where it was first seen.
#[derive(Debug, Clone, Copy)]
struct Item {
    oid: Oid,
    /// Index into `History::commits`, or `NO_COMMIT`.
    commit: u32,
    /// Index into the interned paths (for tags: the tag name).
    path: u32,
    kind: Kind,
}

/// Paths interned once: many blobs share a path across history.
#[derive(Default)]
struct Paths {
    index: HashMap<Box<str>, u32>,
    list: Vec<Box<str>>,
}

impl Paths {
    fn intern(&mut self, p: &str) -> u32 {
        if let Some(&i) = self.index.get(p) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(p.into());
        self.index.insert(p.into(), i);
        i
    }
    fn get(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", |s| s)
    }
}

/// Enumeration state.
struct Walker<'r> {
    repo: &'r Repository,
    seen: IdSet,
    odb: git2::Odb<'r>,
    items: Vec<Item>,
    paths: Paths,
    collector: &'r Collector,
    /// The commit whose tree is being walked (for error messages).
    current: Option<Oid>,
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
    copies: HashSet<(Id, Box<str>)>,
}

/// Refs under `refs/leaksweep/`: the old history that `rewrite apply` keeps as a backup until
/// `rewrite finish`. The history scan skips them (unless [`HistoryOptions::backup_refs`]): they
/// hold exactly the secrets that were just removed, and would keep reporting them. Each one
/// skipped is recorded as a skip ([`SkipReason::BackupRef`]), so the summary counts them and
/// `-v` names them: wherever `rewrite apply` keeps its backups now, a repository that still has
/// refs of this old style (a remote that received them by a push) says so. With
/// `--include-unreachable`, objects only the backups reach are reported as unreachable blobs
/// (until `rewrite finish` prunes them), which is what they are about to become.
pub fn is_backup_ref(name: &str) -> bool {
    name.starts_with("refs/leaksweep/")
}

/// Opens the repository containing `path` (or the current directory), with a clear error.
pub fn discover(path: Option<&Path>) -> Result<Repository> {
    let start = path.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if !start.exists() {
        bail!("{}: no such file or directory", start.display());
    }
    Repository::discover(&start).with_context(|| {
        format!(
            "{} is not inside a git repository (run `git init`, or pass the repository path)",
            start.display()
        )
    })
}

/// Fails, naming the path, when part of the object database cannot be read. libgit2 passes over
/// an object directory or pack it cannot open as if it were not there, so without this check an
/// unreadable `objects/`, `objects/pack/`, pack or index surfaces only as "object not found"
/// (or, in a range that never reads them, not at all). Checked: `objects/` and each loose fan-out
/// directory can be searched, `objects/pack/` can be listed, each `.pack` and `.idx` opened. One
/// unreadable loose object file is not looked for here: libgit2's error names it already.
pub fn check_object_store(repo: &Repository) -> Result<()> {
    let objects = repo.commondir().join("objects");
    let mut bad: Vec<(PathBuf, std::io::Error)> = Vec::new();
    // Searchable: a name inside can be resolved (`dir/.` needs search permission on `dir`).
    let searchable = |dir: &Path, bad: &mut Vec<(PathBuf, std::io::Error)>| match std::fs::metadata(
        dir.join("."),
    ) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            bad.push((dir.to_path_buf(), e));
            false
        }
    };
    if searchable(&objects, &mut bad) {
        for i in 0..=255u8 {
            searchable(&objects.join(format!("{i:02x}")), &mut bad);
        }
        let pack = objects.join("pack");
        match std::fs::read_dir(&pack) {
            Ok(rd) => {
                let mut files: Vec<PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "pack" || x == "idx"))
                    .collect();
                files.sort();
                for f in files {
                    match std::fs::File::open(&f) {
                        // Removed since the listing (a concurrent `git gc`): not ours to report.
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => bad.push((f, e)),
                        _ => {}
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bad.push((pack, e)),
        }
    }
    let Some((path, err)) = bad.first() else {
        return Ok(());
    };
    let why = if err.kind() == std::io::ErrorKind::PermissionDenied {
        "permission denied".to_string()
    } else {
        err.to_string()
    };
    let more = match bad.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    bail!(
        "cannot read the object database: {}: {why}{more}; every object must be readable: \
         run leaksweep as a user who can read everything under {}",
        path.display(),
        objects.display()
    )
}

/// Scans the history of `repo`; per-object failures go to the collector.
pub fn scan(
    repo: &Repository,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<History> {
    // Trees and commits are read once each: libgit2's object cache would only grow.
    git2::opts::enable_caching(false);
    // Re-hashing every object on read (SHA-1 with collision detection) cost a third of the CPU
    // time on curl's history; zlib's checksum still catches corrupt data, as `git cat-file` does.
    git2::opts::strict_hash_verification(false);
    let t0 = std::time::Instant::now();
    let spinner = progress_bar(opts.progress, None);
    spinner.set_style(
        ProgressStyle::with_template("{spinner} walking history: {pos} commits, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut w = Walker {
        repo,
        seen: IdSet::default(),
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
    };
    let commits = w.walk_commits(opts, &spinner)?;
    if opts.include_unreachable {
        w.add_unreachable()?;
    }
    spinner.finish_and_clear();
    let blobs = w
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Blob | Kind::Unreachable))
        .count() as u64;
    let Walker {
        mut items,
        mut paths,
        seen,
        odb,
        boundary_trees,
        boundary_filtered,
        copies,
        ..
    } = w;
    drop((boundary_trees, boundary_filtered, copies));
    drop(seen);
    drop(odb);
    let t1 = std::time::Instant::now();
    if std::env::var_os("LEAKSWEEP_NO_PACK_ORDER").is_none() {
        packorder::sort_by_pack_offset(repo, &mut items, |i| i.oid);
    }
    let t2 = std::time::Instant::now();
    scan_items(repo, &items, &commits, &mut paths, opts, scanner, collector)?;
    if opts.timings {
        eprintln!(
            "leaksweep: timings: walk {} ms ({} commits, {} items), pack order {} ms, read+scan {} ms",
            (t1 - t0).as_millis(),
            commits.len(),
            items.len(),
            (t2 - t1).as_millis(),
            t2.elapsed().as_millis()
        );
    }
    Ok(History {
        stats: HistoryStats {
            commits: commits.len() as u64,
            blobs,
            shallow: repo.is_shallow(),
        },
        commits,
    })
}

impl Walker<'_> {
    /// Walks commits oldest first and their trees; returns the commits in walk order.
    fn walk_commits(&mut self, opts: &HistoryOptions, spinner: &ProgressBar) -> Result<Vec<Oid>> {
        let repo = self.repo;
        let mut walk = repo.revwalk().context("cannot start the history walk")?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
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
                    if let Err(e) = walk.push(tip) {
                        self.collector
                            .error(tip.to_string(), format!("cannot walk from commit: {e}"));
                    }
                }
            }
        }
        let mut commits = Vec::new();
        for oid in walk {
            match oid {
                Ok(oid) => commits.push(oid),
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
        for (ci, &oid) in commits.iter().enumerate() {
            let ci = ci as u32;
            match self.commit_tree(oid) {
                Ok(tree) => {
                    self.items.push(Item {
                        oid,
                        commit: ci,
                        path: 0,
                        kind: Kind::CommitMessage,
                    });
                    self.current = Some(oid);
                    self.walk_tree(tree, ci, true);
                }
                Err(e) => self
                    .collector
                    .error(oid.to_string(), format!("cannot read commit: {e}")),
            }
            if ci % 256 == 0 {
                spinner.set_position(ci as u64);
                spinner.set_message(format!("{} unique blobs", self.items.len()));
            }
        }
        self.current = None;
        for (tree, name) in extra_trees {
            match tree {
                Target::Tree(t) => self.walk_tree(t, NO_COMMIT, true),
                Target::Blob(b) => {
                    if self.seen.insert(Id::of(b)) {
                        let path = self.paths.intern(&name);
                        self.items.push(Item {
                            oid: b,
                            commit: NO_COMMIT,
                            path,
                            kind: Kind::Blob,
                        });
                    }
                }
            }
        }
        Ok(commits)
    }

    /// The tree of a commit, from the raw object's first header line (cheaper than parsing it all).
    fn commit_tree(&self, oid: Oid) -> std::result::Result<Oid, String> {
        commit_tree_id(&self.odb, oid)
    }

    /// Commit tips of every ref (peeled), HEAD and the stash reflog; annotated tags become
    /// message items; tags on trees or blobs go to `extra`.
    fn tips(&mut self, extra: &mut Vec<(Target, String)>) -> Vec<Oid> {
        let repo = self.repo;
        let mut tips = Vec::new();
        let mut named: Vec<(String, Oid)> = Vec::new();
        if let Ok(head) = repo.head() {
            if let Some(oid) = head.resolve().ok().and_then(|r| r.target()) {
                named.push(("HEAD".into(), oid));
            }
        }
        match repo.references() {
            Ok(refs) => {
                for r in refs {
                    match r {
                        Ok(r) => {
                            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                            if !self.backup_refs && is_backup_ref(&name) {
                                // Counted and named: on a repository that received them (a
                                // mirror push) they are published history.
                                self.collector.skip(name, SkipReason::BackupRef);
                                continue;
                            }
                            match r.resolve().ok().and_then(|r| r.target()) {
                                Some(oid) => named.push((name, oid)),
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
        if let Ok(log) = repo.reflog("refs/stash") {
            for (i, entry) in log.iter().enumerate() {
                named.push((format!("stash@{{{i}}}"), entry.id_new()));
            }
        }
        let mut seen_tips = IdSet::default();
        for (name, oid) in named {
            if !seen_tips.insert(Id::of(oid)) {
                continue;
            }
            self.peel_tip(&name, oid, &mut tips, extra);
        }
        tips
    }

    /// Follows tags down to a commit, tree or blob.
    fn peel_tip(
        &mut self,
        name: &str,
        mut oid: Oid,
        tips: &mut Vec<Oid>,
        extra: &mut Vec<(Target, String)>,
    ) {
        let repo = self.repo;
        // Tag chains are short; the bound guards against a cycle in a corrupt repository.
        for _ in 0..64 {
            let kind = match repo.odb().and_then(|odb| odb.read_header(oid)) {
                Ok((_, kind)) => kind,
                Err(e) => {
                    self.collector
                        .error(name, format!("cannot read object {oid}: {e}"));
                    return;
                }
            };
            match kind {
                ObjectType::Commit => {
                    tips.push(oid);
                    return;
                }
                ObjectType::Tag => {
                    if self.seen.insert(Id::of(oid)) {
                        let path = self.paths.intern(name);
                        self.items.push(Item {
                            oid,
                            commit: NO_COMMIT,
                            path,
                            kind: Kind::TagMessage,
                        });
                    }
                    match repo.find_tag(oid) {
                        Ok(t) => oid = t.target_id(),
                        Err(e) => {
                            self.collector
                                .error(name, format!("cannot read tag {oid}: {e}"));
                            return;
                        }
                    }
                }
                ObjectType::Tree => {
                    extra.push((Target::Tree(oid), name.to_string()));
                    return;
                }
                ObjectType::Blob => {
                    extra.push((Target::Blob(oid), name.to_string()));
                    return;
                }
                _ => return,
            }
        }
    }

    /// Range mode: the annotated tags a push of the range publishes become message items: the
    /// tag chain `head` names (the pre-push hook passes a pushed tag as its tag object id), and
    /// every annotated tag under `refs/tags/` whose commit is in the range.
    fn range_tags(&mut self, head: &str, commits: &[Oid]) {
        let repo = self.repo;
        let in_range: IdSet = commits.iter().map(|&c| Id::of(c)).collect();
        let mut starts: Vec<(String, Oid)> = Vec::new();
        if let Ok(obj) = repo.revparse_single(head) {
            if obj.kind() == Some(ObjectType::Tag) {
                starts.push((String::new(), obj.id()));
            }
        }
        if let Ok(refs) = repo.references_glob("refs/tags/*") {
            for r in refs.flatten() {
                if let Some(oid) = r.target() {
                    let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                    starts.push((name, oid));
                }
            }
        }
        for (name, start) in starts {
            // The chain of tag objects down to what it tags (bounded against a corrupt cycle).
            let mut chain = Vec::new();
            let mut oid = start;
            let mut target = None;
            for _ in 0..64 {
                match repo.find_tag(oid) {
                    Ok(t) => {
                        let tag_name = String::from_utf8_lossy(t.name_bytes()).into_owned();
                        chain.push((oid, tag_name));
                        oid = t.target_id();
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
                repo.find_object(t, None)
                    .and_then(|o| o.peel_to_commit())
                    .is_ok_and(|c| in_range.contains(&Id::of(c.id())))
            });
            if !explicit && !reaches_range {
                continue;
            }
            for (tag, tag_name) in chain {
                if self.seen.insert(Id::of(tag)) {
                    let shown = if explicit {
                        format!("refs/tags/{tag_name}")
                    } else {
                        name.clone()
                    };
                    let path = self.paths.intern(&shown);
                    self.items.push(Item {
                        oid: tag,
                        commit: NO_COMMIT,
                        path,
                        kind: Kind::TagMessage,
                    });
                }
            }
        }
    }

    /// Range mode: blobs in the trees of the boundary commits count as already present.
    fn mark_boundary(&mut self, commits: &[Oid]) {
        let in_range: IdSet = commits.iter().map(|&c| Id::of(c)).collect();
        let mut boundary = IdSet::default();
        for &oid in commits {
            if let Ok(c) = self.repo.find_commit(oid) {
                boundary.extend(c.parent_ids().map(Id::of).filter(|p| !in_range.contains(p)));
            }
        }
        let mut boundary: Vec<Oid> = boundary.into_iter().map(Id::oid).collect();
        boundary.sort();
        for oid in boundary {
            match self.repo.find_commit(oid) {
                Ok(c) => {
                    self.current = Some(oid);
                    self.walk_tree(c.tree_id(), NO_COMMIT, false);
                }
                Err(e) => self
                    .collector
                    .error(oid.to_string(), format!("cannot read boundary commit: {e}")),
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
    fn walk_tree(&mut self, root: Oid, commit: u32, record: bool) {
        // (tree, path, walked again as a copy of a boundary tree)
        let mut stack: Vec<(Id, String, bool)> = vec![(Id::of(root), String::new(), false)];
        let mut subtrees = Vec::new();
        let copies_matter = record && !self.boundary_trees.is_empty();
        while let Some((tree_id, prefix, again)) = stack.pop() {
            if !self.seen.insert(tree_id) && !again {
                continue;
            }
            if !record {
                self.boundary_trees.insert(tree_id, prefix.as_str().into());
            }
            let obj = match self.odb.read(tree_id.oid()) {
                Ok(o) if o.kind() == ObjectType::Tree => o,
                Ok(o) => {
                    self.tree_error(&prefix, tree_id, &format!("is a {}, not a tree", o.kind()));
                    continue;
                }
                Err(e) => {
                    self.tree_error(&prefix, tree_id, e.message());
                    continue;
                }
            };
            let mut malformed = false;
            for entry in TreeEntries(obj.data()) {
                let Some((mode, name, id)) = entry else {
                    malformed = true;
                    break;
                };
                if mode == 0o40000 {
                    if !self.seen.contains(&id) {
                        subtrees.push((id, join(&prefix, name), false));
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
                if !self.seen.insert(id) {
                    if copies_matter {
                        if let Some(first) = self.boundary_filtered.get(&id) {
                            let path = join(&prefix, name);
                            if **first != *path && self.copies.insert((id, path.as_str().into())) {
                                let path = self.paths.intern(&path);
                                self.items.push(Item {
                                    oid: id.oid(),
                                    commit,
                                    path,
                                    kind: Kind::Blob,
                                });
                            }
                        }
                    }
                    continue;
                }
                if !record {
                    if mode != 0o160000 {
                        let path = join(&prefix, name);
                        if self.scanner.path_sensitive(&path) {
                            self.boundary_filtered.insert(id, path.into());
                        }
                    }
                    continue;
                }
                let path = join(&prefix, name);
                if mode == 0o160000 {
                    self.collector.skip(
                        format!("{}:{path}", self.commit_label()),
                        SkipReason::Submodule,
                    );
                    continue;
                }
                let path = self.paths.intern(&path);
                self.items.push(Item {
                    oid: id.oid(),
                    commit,
                    path,
                    kind: Kind::Blob,
                });
            }
            if malformed {
                self.tree_error(&prefix, tree_id, "malformed tree entry");
            }
            stack.extend(subtrees.drain(..).rev());
        }
    }

    fn tree_error(&self, prefix: &str, tree: Id, message: &str) {
        let at = if prefix.is_empty() { "/" } else { prefix };
        self.collector.error(
            format!("{}:{at}", self.commit_label()),
            format!("cannot read tree {}: {message}", tree.oid()),
        );
    }

    /// `commit7` of the tree being walked, as skipped and unreadable items are named.
    fn commit_label(&self) -> String {
        match self.current {
            // A hex object id has 40 characters.
            Some(c) => c.to_string()[..7].to_string(),
            None => "(tag)".into(),
        }
    }

    /// Adds every blob of the object database that the walk did not reach.
    fn add_unreachable(&mut self) -> Result<()> {
        let odb = self.repo.odb().context("cannot open the object database")?;
        let mut candidates = Vec::new();
        odb.foreach(|oid| {
            if !self.seen.contains(&Id::of(*oid)) {
                candidates.push(*oid);
            }
            true
        })
        .context("cannot list the object database")?;
        candidates.sort();
        candidates.dedup();
        for oid in candidates {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => {
                    self.seen.insert(Id::of(oid));
                    let path = self.paths.intern(&format!("{UNREACHABLE_PREFIX}{oid}>"));
                    self.items.push(Item {
                        oid,
                        commit: NO_COMMIT,
                        path,
                        kind: Kind::Unreachable,
                    });
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

/// Iterates the entries of a raw tree object: `mode SP name NUL id[20]`; `None` on malformed data.
struct TreeEntries<'a>(&'a [u8]);

impl<'a> Iterator for TreeEntries<'a> {
    type Item = Option<(u32, &'a [u8], Id)>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let data = self.0;
        let parsed = (|| {
            let sp = memchr::memchr(b' ', data)?;
            let mut mode = 0u32;
            for &c in &data[..sp] {
                if !(b'0'..=b'7').contains(&c) {
                    return None;
                }
                mode = mode.checked_mul(8)? + u32::from(c - b'0');
            }
            let nul = sp + 1 + memchr::memchr(0, &data[sp + 1..])?;
            let id = data.get(nul + 1..nul + 21)?;
            let mut b = [0u8; 20];
            b.copy_from_slice(id);
            Some((mode, &data[sp + 1..nul], Id(b), nul + 21))
        })();
        match parsed {
            Some((mode, name, id, next)) => {
                self.0 = &data[next..];
                Some(Some((mode, name, id)))
            }
            None => {
                self.0 = &[];
                Some(None)
            }
        }
    }
}

enum Target {
    Tree(Oid),
    Blob(Oid),
}

fn join(prefix: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if prefix.is_empty() {
        name.into_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Resolves a revision to a commit id, with a clear error.
fn peel_commit(repo: &Repository, rev: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .with_context(|| format!("unknown revision '{rev}'"))?;
    let c = obj
        .peel_to_commit()
        .with_context(|| format!("'{rev}' does not name a commit"))?;
    Ok(c.id())
}

/// Splits `BASE..HEAD` (HEAD defaults to `HEAD`); `BASE...HEAD` means from their merge base; a
/// single `REV` means everything reachable from it (returned with an empty base), as a pre-push
/// hook needs for a new branch.
pub fn parse_range(repo: &Repository, spec: &str) -> Result<(String, String)> {
    if let Some((a, b)) = spec.split_once("...") {
        let b = if b.is_empty() { "HEAD" } else { b };
        let base = repo
            .merge_base(peel_commit(repo, a)?, peel_commit(repo, b)?)
            .with_context(|| format!("'{a}' and '{b}' have no common ancestor"))?;
        return Ok((base.to_string(), b.to_string()));
    }
    match spec.split_once("..") {
        Some((a, b)) if !a.is_empty() => {
            let b = if b.is_empty() { "HEAD" } else { b };
            Ok((a.to_string(), b.to_string()))
        }
        Some(_) => {
            bail!("invalid --range '{spec}': expected BASE..HEAD (for example origin/main..HEAD)")
        }
        None => {
            peel_commit(repo, spec)?;
            Ok((String::new(), spec.to_string()))
        }
    }
}

/// Items claimed per step: small enough to balance, large enough to read nearly sequentially.
const CHUNK: usize = 64;

/// Reads and scans every item on `opts.threads` threads, each with its own repository handle.
fn scan_items(
    repo: &Repository,
    items: &[Item],
    commits: &[Oid],
    paths: &mut Paths,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<()> {
    let revisit = std::sync::Mutex::new(Vec::new());
    let shared: &Paths = paths;
    let reducer = opts.range.is_none().then(|| Reducer {
        keep_blobs: opts.all_locations,
        ..Reducer::default()
    });
    let reducer = reducer.as_ref();
    let bar = progress_bar(opts.progress, Some(items.len() as u64));
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} items, {msg} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let git_dir = repo.path().to_path_buf();
    let cursor = AtomicUsize::new(0);
    let threads = opts.threads.max(1).min(items.len().max(1));
    let open_error = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let repo = match Repository::open(&git_dir) {
                    Ok(r) => r,
                    Err(e) => {
                        *open_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                };
                let odb = match repo.odb() {
                    Ok(o) => o,
                    Err(e) => {
                        *open_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                };
                let mut scratch = Scratch::default();
                let ctx = Ctx {
                    repo: &repo,
                    odb: &odb,
                    commits,
                    paths: shared,
                    opts,
                    scanner,
                    collector,
                    reducer,
                    revisit: Some(&revisit),
                };
                loop {
                    let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= items.len() {
                        break;
                    }
                    let end = (start + CHUNK).min(items.len());
                    for item in &items[start..end] {
                        ctx.scan_item(item, &mut scratch);
                    }
                    bar.inc((end - start) as u64);
                    if start % (CHUNK * 16) == 0 {
                        let mib = collector.bytes.load(Ordering::Relaxed) as f64 / 1048576.0;
                        bar.set_message(format!("{mib:.0} MiB"));
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = open_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e).context("cannot open the repository in a worker thread");
    }
    let revisit = revisit.into_inner().unwrap_or_else(|p| p.into_inner());
    if !revisit.is_empty() {
        judge_at_other_paths(
            repo, &revisit, commits, paths, opts, scanner, collector, reducer,
        )?;
    }
    if let Some(r) = reducer {
        collector.add_findings(r.take_findings());
    }
    Ok(())
}

/// Scans again, once per other path that holds it, each blob first judged at a path that a path
/// filter applies to (an allowlisted `docs/`, a test fixture, a lock file): the filters of each
/// path are its own, so a secret in an allowlisted file copied byte for byte to `config/` is
/// reported there, at the first commit holding it at that path. Finding those paths is one
/// memoized pass over the commit trees, restricted to these blobs (as `--all-locations` does).
#[allow(clippy::too_many_arguments)]
fn judge_at_other_paths(
    repo: &Repository,
    revisit: &[Item],
    commits: &[Oid],
    paths: &mut Paths,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
    reducer: Option<&Reducer>,
) -> Result<()> {
    let targets: IdSet = revisit.iter().map(|i| Id::of(i.oid)).collect();
    let places = tree_places(repo, commits, &targets);
    let mut again = Vec::new();
    for item in revisit {
        let mut done = HashSet::new();
        done.insert(paths.get(item.path).to_string());
        for (commit, path) in places.get(&Id::of(item.oid)).into_iter().flatten() {
            if done.insert(path.clone()) {
                again.push(Item {
                    oid: item.oid,
                    commit: *commit,
                    path: paths.intern(path),
                    kind: Kind::Blob,
                });
            }
        }
    }
    if again.is_empty() {
        return Ok(());
    }
    let odb = repo.odb().context("cannot open the object database")?;
    let ctx = Ctx {
        repo,
        odb: &odb,
        commits,
        paths,
        opts,
        scanner,
        collector,
        reducer,
        revisit: None,
    };
    let mut scratch = Scratch::default();
    for item in &again {
        ctx.scan_item(item, &mut scratch);
    }
    Ok(())
}

/// Every (commit index, path) where one of `targets` appears, in walk order (oldest first).
fn tree_places(repo: &Repository, commits: &[Oid], targets: &IdSet) -> IdMap<Vec<(u32, String)>> {
    let mut out: IdMap<Vec<(u32, String)>> = IdMap::default();
    let Ok(odb) = repo.odb() else { return out };
    if targets.is_empty() {
        return out;
    }
    let mut memo: IdMap<Rc<Vec<(String, Id)>>> = IdMap::default();
    for (ci, &c) in commits.iter().enumerate() {
        let Ok(tree) = commit_tree_id(&odb, c) else {
            continue;
        };
        let hits = tree_hits(&odb, Id::of(tree), targets, &mut memo, 0);
        for (path, blob) in hits.iter() {
            out.entry(*blob)
                .or_default()
                .push((ci as u32, path.clone()));
        }
    }
    out
}

/// The tree of a commit, from the raw object's first header line (cheaper than parsing it all).
fn commit_tree_id(odb: &git2::Odb<'_>, oid: Oid) -> std::result::Result<Oid, String> {
    let obj = odb.read(oid).map_err(|e| e.message().to_string())?;
    obj.data()
        .strip_prefix(b"tree ")
        .and_then(|rest| rest.get(..40))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(|hex| Oid::from_str(hex).ok())
        .ok_or_else(|| "malformed commit (no tree line)".to_string())
}

/// History findings reduced as blobs are scanned: per (secret, rule, path), the finding from the
/// earliest commit in the walk, and how many versions (blobs) hold it. A secret kept through a
/// million file versions then costs one finding of memory, not a million.
#[derive(Default)]
struct Reducer {
    keep_blobs: bool,
    map: std::sync::Mutex<Kept>,
}

/// (secret, rule, path) -> (walk rank of the kept finding's commit, the finding).
type Kept = HashMap<(crate::finding::SecretId, String, String), (u32, Finding)>;

impl Reducer {
    fn add(&self, rank: u32, findings: Vec<Finding>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for mut f in findings {
            let key = (f.secret_id.clone(), f.rule_id.clone(), f.path.clone());
            let Some((best_rank, best)) = map.get_mut(&key) else {
                map.insert(key, (rank, f));
                continue;
            };
            let (Some(g), Some(bg)) = (f.git.as_mut(), best.git.as_mut()) else {
                continue;
            };
            let versions = bg.versions.max(1) + g.versions.max(1);
            if (rank, f.line) < (*best_rank, best.line) {
                // The newcomer is older: it becomes the finding, the old one a counted version.
                g.other_blobs = std::mem::take(&mut bg.other_blobs);
                if self.keep_blobs {
                    g.other_blobs.push((bg.blob.clone(), best.line));
                }
                g.versions = versions;
                *best_rank = rank;
                *best = f;
            } else {
                bg.versions = versions;
                if self.keep_blobs {
                    bg.other_blobs.push((g.blob.clone(), f.line));
                }
            }
        }
    }

    fn take_findings(&self) -> Vec<Finding> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *map)
            .into_values()
            .map(|(_, f)| f)
            .collect()
    }
}

/// What a worker needs to scan one item.
struct Ctx<'a> {
    repo: &'a Repository,
    odb: &'a git2::Odb<'a>,
    commits: &'a [Oid],
    paths: &'a Paths,
    opts: &'a HistoryOptions,
    scanner: &'a Scanner,
    collector: &'a Collector,
    /// `None` in range mode, where every version is judged on its own.
    reducer: Option<&'a Reducer>,
    /// Blobs first judged at a path a path filter applies to, to judge at their other paths;
    /// `None` while doing that (the blob is then not counted again either).
    revisit: Option<&'a std::sync::Mutex<Vec<Item>>>,
}

impl Ctx<'_> {
    fn hand_over(&self, item: &Item, findings: Vec<Finding>) {
        match self.reducer {
            Some(r) => r.add(item.commit, findings),
            None => self.collector.add_findings(findings),
        }
    }

    fn commit_id(&self, item: &Item) -> String {
        self.commits
            .get(item.commit as usize)
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// `commit7:path`, how skipped and unreadable blobs are named.
    fn label(&self, item: &Item) -> String {
        let c = self.commit_id(item);
        let short = c.get(..7).unwrap_or(&c);
        let path = self.paths.get(item.path);
        if short.is_empty() {
            path.to_string()
        } else {
            format!("{short}:{path}")
        }
    }

    fn scan_item(&self, item: &Item, scratch: &mut Scratch) {
        match item.kind {
            Kind::Blob | Kind::Unreachable => self.scan_blob(item, scratch),
            Kind::CommitMessage => match self.repo.find_commit(item.oid) {
                Ok(c) => self.scan_message(item, c.message_bytes(), COMMIT_MESSAGE_PATH, scratch),
                Err(e) => self
                    .collector
                    .error(item.oid.to_string(), format!("cannot read commit: {e}")),
            },
            Kind::TagMessage => match self.repo.find_tag(item.oid) {
                Ok(t) => self.scan_message(
                    item,
                    t.message_bytes().unwrap_or_default(),
                    TAG_MESSAGE_PATH,
                    scratch,
                ),
                Err(e) => self.collector.error(
                    self.paths.get(item.path).to_string(),
                    format!("cannot read tag {}: {e}", item.oid),
                ),
            },
        }
    }

    fn scan_blob(&self, item: &Item, scratch: &mut Scratch) {
        // The size comes from the object header first, so an oversized blob is skipped without
        // being inflated into memory (a 2 GiB blob would otherwise cost 2 GiB of RSS).
        if let Ok((size, _)) = self.odb.read_header(item.oid) {
            if size as u64 > self.opts.max_file_size {
                self.collector.skip(self.label(item), SkipReason::TooLarge);
                return;
            }
        }
        let obj = match self.odb.read(item.oid) {
            Ok(o) => o,
            Err(e) => {
                self.collector.error(
                    self.label(item),
                    format!("cannot read blob {}: {}", item.oid, e.message()),
                );
                return;
            }
        };
        let data = obj.data();
        if data.len() as u64 > self.opts.max_file_size {
            self.collector.skip(self.label(item), SkipReason::TooLarge);
            return;
        }
        if is_lfs_pointer(data) {
            self.collector
                .skip(self.label(item), SkipReason::LfsPointer);
            return;
        }
        if is_binary(data) {
            self.collector.skip(self.label(item), SkipReason::Binary);
            return;
        }
        let path = self.paths.get(item.path);
        let blob = Blob { data, path };
        if self.revisit.is_some() {
            self.collector.counted(data.len() as u64);
        }
        let mut findings = self.judged_findings(item, &blob, scratch);
        if let Some(revisit) = self.revisit {
            // Judged at one path; a path filter (allowlist, test path, lock file) may have hidden
            // or lowered what another path holding the same blob must report.
            if item.kind == Kind::Blob
                && self.scanner.path_sensitive(path)
                && (!findings.is_empty() || self.has_candidates(data, scratch))
            {
                revisit
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(*item);
            }
        }
        if findings.is_empty() {
            return;
        }
        let kind = if item.kind == Kind::Unreachable {
            "unreachable"
        } else {
            "file"
        };
        for f in &mut findings {
            f.git = Some(GitProvenance {
                commit: self.commit_id(item),
                blob: item.oid.to_string(),
                kind: kind.into(),
                ..GitProvenance::default()
            });
            f.refresh_fingerprint();
        }
        self.hand_over(item, findings);
    }

    /// The findings of one blob version: one per (secret, rule) (the first), and in a range only
    /// secrets the version did not inherit from its parents at the same path. The findings limit
    /// counts what is left. In a full history, a version over the limit is judged again counting
    /// only the secrets it did not inherit (those are its parents' findings), so a file of 1,001
    /// old secrets does not hide the one a new version adds.
    fn judged_findings(&self, item: &Item, blob: &Blob<'_>, scratch: &mut Scratch) -> Vec<Finding> {
        let range = self.opts.range.is_some();
        let first = std::cell::RefCell::new(HashSet::new());
        let inherited = std::cell::OnceCell::new();
        let new_here = |c: &Candidate<'_>, check_parents: bool| {
            let id = SecretId::of(c.secret);
            if check_parents
                && inherited
                    .get_or_init(|| self.inherited(item, blob.path))
                    .contains(&id)
            {
                return false;
            }
            first.borrow_mut().insert((id, c.rule.to_string()))
        };
        let findings = self
            .scanner
            .scan_blob_keep(blob, scratch, &|c| new_here(c, range));
        let mut truncated = scratch.take_truncated();
        let findings = if truncated && !range {
            first.borrow_mut().clear();
            let again = self
                .scanner
                .scan_blob_keep(blob, scratch, &|c| new_here(c, true));
            truncated = scratch.take_truncated();
            again
        } else {
            findings
        };
        if truncated {
            self.collector
                .skip(self.label(item), SkipReason::TooManyFindings);
        }
        findings
    }

    /// Secret ids every candidate of the parents' versions of `path` holds (before the findings
    /// limit: all of them).
    fn inherited(&self, item: &Item, path: &str) -> HashSet<SecretId> {
        let ids = std::cell::RefCell::new(HashSet::new());
        let Some(commit) = self
            .commits
            .get(item.commit as usize)
            .and_then(|&c| self.repo.find_commit(c).ok())
        else {
            return HashSet::new();
        };
        let mut scratch = Scratch::default();
        for parent in commit.parents() {
            let blob = parent
                .tree()
                .ok()
                .and_then(|t| t.get_path(Path::new(path)).ok())
                .filter(|e| e.kind() == Some(ObjectType::Blob))
                .and_then(|e| self.odb.read(e.id()).ok());
            let Some(obj) = blob else { continue };
            let data = obj.data();
            if data.len() as u64 > self.opts.max_file_size || is_binary(data) {
                continue;
            }
            self.scanner
                .scan_blob_keep(&Blob { data, path }, &mut scratch, &|c| {
                    ids.borrow_mut().insert(SecretId::of(c.secret));
                    false
                });
        }
        ids.into_inner()
    }

    /// Whether anything in `data` would be a finding at a path no path filter applies to.
    fn has_candidates(&self, data: &[u8], scratch: &mut Scratch) -> bool {
        let any = std::cell::Cell::new(false);
        self.scanner
            .scan_blob_keep(&Blob { data, path: "" }, scratch, &|_| {
                any.set(true);
                false
            });
        scratch.take_truncated();
        any.get()
    }

    fn scan_message(&self, item: &Item, message: &[u8], path: &str, scratch: &mut Scratch) {
        if message.len() as u64 > self.opts.max_file_size {
            // Named by the object that holds it: `commit7:<commit message>`, `v1:<tag message>`.
            let at = match item.kind {
                Kind::TagMessage => self
                    .paths
                    .get(item.path)
                    .trim_start_matches("refs/tags/")
                    .to_string(),
                _ => item.oid.to_string()[..7].to_string(),
            };
            self.collector
                .skip(format!("{at}:{path}"), SkipReason::TooLarge);
            return;
        }
        let blob = Blob {
            data: message,
            path,
        };
        let mut findings = self
            .scanner
            .scan_counted(&blob, scratch, self.collector, || path.to_string());
        // Scanned, but a message is not a file in the summary's count.
        self.collector.messages.fetch_add(1, Ordering::Relaxed);
        if findings.is_empty() {
            return;
        }
        let (commit, kind, summary) = match item.kind {
            Kind::TagMessage => (
                item.oid.to_string(),
                "tag-message",
                format!(
                    "tag {}",
                    self.paths.get(item.path).trim_start_matches("refs/tags/")
                ),
            ),
            _ => (item.oid.to_string(), "commit-message", String::new()),
        };
        for f in &mut findings {
            f.git = Some(GitProvenance {
                commit: commit.clone(),
                kind: kind.into(),
                summary: summary.clone(),
                ..GitProvenance::default()
            });
            f.refresh_fingerprint();
        }
        self.hand_over(item, findings);
    }
}

/// A Git LFS pointer file (the whole file, in the pointer format): see [`super::lfs`].
pub use super::lfs::is_pointer as is_lfs_pointer;

impl History {
    /// Each walked commit's position in the walk, which is topological, oldest first: a commit
    /// ranks after all of its ancestors. Comparing ranks orders findings by "introduced first"
    /// without walking the graph for each pair.
    pub fn ranks(&self) -> HashMap<Oid, usize> {
        self.commits
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i))
            .collect()
    }

    /// Fills in author, date and summary for every finding, and every location with
    /// `all_locations`. Runs on the calling thread after the scan.
    pub fn annotate(&self, repo: &Repository, findings: &mut [Finding], all_locations: bool) {
        let mut meta: HashMap<String, Meta> = HashMap::new();
        for f in findings.iter_mut() {
            let Some(g) = f.git.as_mut() else { continue };
            if g.commit.is_empty() {
                continue;
            }
            let m = meta
                .entry(g.commit.clone())
                .or_insert_with(|| Meta::load(repo, &g.commit, &g.kind));
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
                .flat_map(|g| std::iter::once(&g.blob).chain(g.other_blobs.iter().map(|(b, _)| b)))
                .filter_map(|b| Oid::from_str(b).ok().map(Id::of))
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
                let blobs = std::iter::once((g.blob.clone(), line)).chain(g.other_blobs.drain(..));
                let mut all = Vec::new();
                for (blob, line) in blobs {
                    if let Some(l) = Oid::from_str(&blob)
                        .ok()
                        .and_then(|b| locations.get(&Id::of(b)))
                    {
                        all.extend(l.iter().map(|l| GitLocation {
                            line: Some(line),
                            ..l.clone()
                        }));
                    }
                }
                g.locations = all;
            }
        }
        for f in findings.iter_mut() {
            f.refresh_fingerprint();
        }
    }

    /// Every (commit, path) where one of `targets` appears, in walk order (oldest first).
    fn locations(&self, repo: &Repository, targets: &IdSet) -> IdMap<Vec<GitLocation>> {
        tree_places(repo, &self.commits, targets)
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
    tree: Id,
    targets: &IdSet,
    memo: &mut IdMap<Rc<Vec<(String, Id)>>>,
    depth: usize,
) -> Rc<Vec<(String, Id)>> {
    if let Some(h) = memo.get(&tree) {
        return Rc::clone(h);
    }
    let mut hits = Vec::new();
    // Depth guard: real trees are shallow; a crafted one must not overflow the stack.
    if depth < 512 {
        if let Ok(obj) = odb.read(tree.oid()) {
            for (mode, name, id) in TreeEntries(obj.data()).map_while(|e| e) {
                if mode == 0o40000 {
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

/// Author (or tagger) details of a commit (or tag).
#[derive(Default)]
struct Meta {
    name: String,
    email: String,
    date: String,
    summary: String,
}

impl Meta {
    fn load(repo: &Repository, id: &str, kind: &str) -> Meta {
        let Ok(oid) = Oid::from_str(id) else {
            return Meta::default();
        };
        if kind == "tag-message" {
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
            date: rfc3339(s.when().seconds(), s.when().offset_minutes()),
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

/// Formats a git timestamp as RFC 3339 in its own offset (`2024-05-01T12:00:00+02:00`).
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// A progress bar on stderr, or a hidden one.
fn progress_bar(visible: bool, len: Option<u64>) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    if len.is_none() {
        bar.enable_steady_tick(Duration::from_millis(250));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_700_000_000, 120), "2023-11-15T00:13:20+02:00");
        assert_eq!(rfc3339(951_782_400, -300), "2000-02-28T19:00:00-05:00");
    }
}
