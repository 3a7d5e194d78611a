//! Git history source: every blob reachable from every ref, read and scanned once.
//!
//! The scan has three phases (DESIGN.md decision 1):
//!
//! 1. **Enumerate**: collect tips from every ref under `refs/` (branches, tags,
//!    remotes, notes, stash and the stash reflog) plus `HEAD`, except `refs/leaksweep/` (the
//!    backups of a history rewrite, see [`is_backup_ref`]), walk commits oldest first
//!    (`TOPOLOGICAL | REVERSE`, [`crate::git::walk`]), and walk each commit's tree, skipping trees and blobs already
//!    seen. The first commit that reaches a blob is the one that introduced it; we keep only
//!    `(oid, commit index, interned path)` per unique blob, never contents. A full history of
//!    512 commits or more is walked on every thread: the commits are cut into slices, each
//!    worker walks the slices it claims with its own repository handle and set of seen objects,
//!    and the merge keeps each object's first find in slice order, which is the one-thread
//!    result (`walk.rs`, `Walker::walk_parallel`). A directory's new version is compared entry
//!    by entry with the last version walked at that path, so unchanged entries need no look-up.
//! 2. **Scan** (N threads, one `git2::Repository` each, as it is `Send` but not `Sync`): the
//!    unique items are sorted by their offset in the pack files (parsed from the `.idx` files),
//!    because reading a pack front to back keeps delta bases in libgit2's base cache; reading in
//!    object-id order is several times slower ([`crate::git::packorder`]). Workers claim
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
//! corrupt data, as with `git cat-file`.
//!
//! Blobs in packs are read straight from the pack files, one delta tree at a time, each object
//! inflated once ([`crate::git::packread`]), as planned on the packs' entry headers, which a
//! thread of its own reads while phase 1 runs; what that cannot read, and the messages, go through
//! libgit2 in pack order. Benchmarking knobs: `LEAKSWEEP_PACK_READ=libgit2` reads everything
//! through libgit2 in delta-tree order ([`crate::git::packorder::sort_by_delta_tree`]),
//! `LEAKSWEEP_PACK_ORDER=offset` in plain pack order, `=none` in discovery order.
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
//! (`judge_at_other_paths`). In a full history those paths come from the walk itself: it passes
//! over what it has seen, but records each tree or blob met at a path other than the one it was
//! first met at (a copy or a rename, `walk::Moves`), and a moved tree's targets are read from it
//! after the scan; no commit tree is read again. (A separate pass over every commit tree took
//! 1.0-1.3 s of curl's 10 s history scan; the record costs the walk about nothing, as its
//! set of seen objects keeps each one's first path.) A range, whose boundary the walk treats
//! otherwise, still makes that pass (`LEAKSWEEP_OTHER_PATHS=trees` makes it in a full history
//! too: the reference the tests compare against).
//!
//! The findings limit counts only what a version reports: one finding per (secret, rule), in a
//! range only secrets not inherited from the parents' version of the path, and in a full
//! history, for a version over the limit, only secrets new to it.

mod annotate;
mod exposure;
mod fold;
mod range;
mod scan;
mod walk;

pub use fold::{older, one_per_secret};
pub use range::parse_range;

use crate::git::id::{CommitId, ObjectId, Shard};
use crate::scan::{Collector, Scanner};
use crate::source::Source;
use anyhow::{bail, Result};
use git2::Repository;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
    /// Scan only the items (blobs, commit and tag messages) whose object id falls in this shard.
    /// The whole commit graph is still walked, so first commits, paths and ranks are exact; what
    /// the walk itself records (unreadable trees, submodules, backup refs) only shard 0 reports.
    pub shard: Option<Shard>,
    /// Archive levels opened inside blobs, as in the work tree (`--archive-depth`): members are
    /// scanned as `path!member`; 0 opens none.
    pub archive_depth: usize,
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
    commits: Vec<CommitId>,
    /// The tree of each commit, in walk order (`None`: unreadable).
    trees: Vec<Option<ObjectId>>,
    pub stats: HistoryStats,
    /// Full history: the graph and refs that say which refs reach each finding.
    exposure: Option<exposure::Exposure>,
    /// The commits and tags holding each folded finding (see [`exposure`]).
    holders: exposure::HolderTable,
}

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
    oid: ObjectId,
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

/// Refs under `refs/leaksweep/`: the old history that `rewrite apply` keeps as a backup until
/// `rewrite finish`. The history scan skips them (unless [`HistoryOptions::backup_refs`]): they
/// hold exactly the secrets that were just removed, and would keep reporting them. Each one
/// skipped is recorded as a skip ([`SkipReason::BackupRef`]), so the summary counts them and
/// `-v` names them: wherever `rewrite apply` keeps its backups now, a repository that still has
/// refs of this old style (a remote that received them by a push) says so. With
/// `--include-unreachable`, objects only the backups reach are reported as unreachable blobs
/// (until `rewrite finish` prunes them), which is what they are about to become.
pub fn is_backup_ref(name: &str) -> bool {
    crate::git::refs::is_backup_ref(name.as_bytes())
}

/// Opens the repository containing `path` (or the current directory), with a clear error.
pub fn discover(path: Option<&Path>) -> Result<Repository> {
    let start = path.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if !start.exists() {
        bail!("{}: no such file or directory", start.display());
    }
    Repository::discover(&start).map_err(|e| {
        let msg = format!(
            "{} is not inside a git repository (run `git init`, or pass the repository path)",
            start.display()
        );
        // libgit2's own "could not find repository at '...'" only repeats the path.
        if e.code() == git2::ErrorCode::NotFound {
            anyhow::anyhow!(msg)
        } else {
            anyhow::Error::new(e).context(msg)
        }
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

/// The history source: every blob and message of `repo` that `opts` selects; per-object
/// failures are recorded as errors. Its output is the walk, to annotate the findings with
/// afterwards ([`History::annotate`]).
pub struct HistorySource<'a> {
    pub repo: &'a Repository,
    pub opts: &'a HistoryOptions,
}

impl Source for HistorySource<'_> {
    type Output = History;
    const MODE: &'static str = "git";

    fn run(self, scanner: &Scanner, sink: &Collector) -> Result<History> {
        scan(self.repo, self.opts, scanner, sink)
    }
}

fn scan(
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
    // Every shard walks; one records what the walk finds, the others drop it (see `shard`).
    let walk_only = Collector::default();
    let walk_sink = match opts.shard {
        Some(shard) if !shard.reports_walk() => &walk_only,
        _ => collector,
    };
    // The packs' headers, which the reading of blobs in pack order is planned on, do not depend
    // on what the walk finds: they are read on a thread of their own while the walk runs (whose
    // commit listing is on one thread).
    let direct = std::env::var("LEAKSWEEP_PACK_READ").as_deref() != Ok("libgit2");
    let git_dir = repo.path();
    let (walked, layout) = std::thread::scope(|s| {
        let layout = direct.then(|| {
            s.spawn(|| {
                let t = std::time::Instant::now();
                let layout = Repository::open(git_dir)
                    .ok()
                    .map(|r| crate::git::packread::Layout::read(&r));
                (layout, t.elapsed())
            })
        });
        let walked = (|| -> Result<_> {
            let mut w = walk::Walker::new(repo, opts, scanner, walk_sink)?;
            let commits = w.walk_commits(opts, &spinner)?;
            if opts.include_unreachable {
                w.add_unreachable()?;
            }
            Ok((commits, w.finish()))
        })();
        let layout = layout.and_then(|h| h.join().ok());
        (walked, layout)
    });
    let (
        commits,
        walk::Walked {
            mut items,
            mut paths,
            graph,
            refs,
            trees,
            moves,
        },
    ) = walked?;
    spinner.finish_and_clear();
    let (layout, layout_time) = layout.unwrap_or((None, Duration::ZERO));
    if let Some(shard) = opts.shard {
        items.retain(|i| shard.owns(i.oid));
    }
    let blobs = items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Blob | Kind::Unreachable))
        .count() as u64;
    let t1 = std::time::Instant::now();
    let walked = scan::Enumeration {
        items: &items,
        commits: &commits,
        trees: &trees,
        moves: moves.as_deref(),
    };
    let holders = scan::scan_items(repo, walked, layout, &mut paths, opts, scanner, collector)?;
    let t2 = std::time::Instant::now();
    let exposure = opts
        .range
        .is_none()
        .then(|| exposure::Exposure::new(&commits, graph, refs));
    if opts.timings {
        eprintln!(
            "leaksweep: timings: walk {} ms ({} commits, {} items, {} moves; pack headers {} ms \
             alongside), read+scan {} ms, exposure {} ms",
            (t1 - t0).as_millis(),
            commits.len(),
            items.len(),
            moves.as_ref().map_or(0, Vec::len),
            layout_time.as_millis(),
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
        trees,
        exposure,
        holders,
    })
}

impl History {
    /// A digest of the walk (every commit in walk order): shards of one scan must agree on it.
    pub fn walk_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for c in &self.commits {
            h.update(c.object().as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// A Git LFS pointer file (the whole file, in the pointer format): see [`super::lfs`].
pub use crate::git::lfs::is_pointer as is_lfs_pointer;

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
