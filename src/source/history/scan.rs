//! Phase 2, reading and scanning: the worker pool over the items in pack order, the per-version
//! judgement (first per secret and rule, inherited secrets), messages, and the second look at
//! blobs first judged at a path a path filter applies to.

use super::annotate::{moved_places, tree_places, Places};
use super::exposure::HolderTable;
use super::fold::Reducer;
use super::walk::Move;
use super::{
    is_lfs_pointer, progress_bar, HistoryOptions, Item, Kind, Paths, COMMIT_MESSAGE_PATH,
    TAG_MESSAGE_PATH,
};
use crate::archive::{self, Budget, Limits};
use crate::finding::{Finding, SecretId};
use crate::git::id::{BlobId, CommitId, IdSet, ObjectId};
use crate::git::packread::{Layout as PackLayout, Plan as PackPlan, Reader as PackReader};
use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Candidate, Collector, Provenance, Scanner, SkipReason};
use anyhow::{Context, Result};
use git2::{ObjectType, Repository};
use indicatif::ProgressStyle;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Items claimed per step: small enough to balance, large enough to read nearly sequentially.
const CHUNK: usize = 64;

/// What the walk enumerated: the items to scan, and the commits in walk order with their trees.
#[derive(Clone, Copy)]
pub(super) struct Enumeration<'a> {
    pub(super) items: &'a [Item],
    pub(super) commits: &'a [CommitId],
    pub(super) trees: &'a [Option<ObjectId>],
    /// Full history: what the walk met at a path other than its first ([`super::walk::Move`]).
    pub(super) moves: Option<&'a [Move]>,
}

/// Reads and scans every item on `opts.threads` threads, each with its own repository handle;
/// returns the commits and tags holding each folded finding (none in a range, which folds none).
/// The blobs the packs hold are read as `layout` lays them out; without it, everything is read
/// through libgit2.
pub(super) fn scan_items(
    repo: &Repository,
    walked: Enumeration<'_>,
    layout: Option<PackLayout>,
    paths: &mut Paths,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<HolderTable> {
    let Enumeration { items, commits, .. } = walked;
    let revisit = std::sync::Mutex::new(Vec::new());
    let budget = &Budget::new(archive::SCAN_BUDGET);
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
    let threads = opts.threads.max(1).min(items.len().max(1));
    let open_error = std::sync::Mutex::new(None);
    // Runs `work` on every worker thread, each with its own repository handle and scratch.
    let run = |work: &(dyn Fn(&Ctx<'_>, &mut Scratch) + Sync)| {
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
                        budget,
                    };
                    work(&ctx, &mut scratch);
                });
            }
        });
    };
    // First the blobs the packs hold, one delta tree at a time ([`PackPlan`]); then what they
    // do not (messages, loose objects, what the plan could not read), through libgit2.
    let t0 = std::time::Instant::now();
    let plan = layout.map(|layout| {
        let wanted: Vec<_> = items
            .iter()
            .map(|i| matches!(i.kind, Kind::Blob | Kind::Unreachable).then_some(i.oid))
            .collect();
        PackPlan::from_layout(layout, &wanted)
    });
    let t1 = std::time::Instant::now();
    let mut second: Vec<Item> = match &plan {
        None => items.to_vec(),
        Some(plan) => {
            let trees = AtomicUsize::new(0);
            let left = std::sync::Mutex::new(Vec::new());
            run(&|ctx, scratch| {
                let mut reader = PackReader::default();
                let mut mine = Vec::new();
                loop {
                    let t = trees.fetch_add(1, Ordering::Relaxed);
                    if t >= plan.trees() {
                        break;
                    }
                    let mut visit = |i: usize, data: &[u8]| {
                        ctx.scan_blob_data(&items[i], data, scratch);
                        bar.inc(1);
                    };
                    plan.read_tree(t, &mut reader, opts.max_file_size, &mut visit, &mut mine);
                    if t.is_multiple_of(256) {
                        show_bytes(&bar, collector);
                    }
                }
                left.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
            });
            let mut again = left.into_inner().unwrap_or_else(|p| p.into_inner());
            again.extend(plan.rest.iter().copied());
            again.extend(
                (0..items.len())
                    .filter(|&i| !matches!(items[i].kind, Kind::Blob | Kind::Unreachable)),
            );
            again.sort_unstable();
            again.dedup();
            again.into_iter().map(|i| items[i]).collect()
        }
    };
    // What libgit2 reads, in pack order; everything in delta-tree order when the plan did not
    // run (after it, what is left is the messages and a few blobs: not worth a second pass over
    // the pack headers).
    let order = std::env::var("LEAKSWEEP_PACK_ORDER");
    match order.as_deref() {
        Ok("none") => {}
        o if plan.is_some() || o == Ok("offset") => {
            crate::git::packorder::sort_by_pack_offset(repo, &mut second, |i| i.oid)
        }
        _ => crate::git::packorder::sort_by_delta_tree(repo, &mut second, |i| i.oid),
    }
    let t2 = std::time::Instant::now();
    let cursor = AtomicUsize::new(0);
    run(&|ctx, scratch| loop {
        let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
        if start >= second.len() {
            break;
        }
        let end = (start + CHUNK).min(second.len());
        for item in &second[start..end] {
            ctx.scan_item(item, scratch);
        }
        bar.inc((end - start) as u64);
        if start.is_multiple_of(CHUNK * 16) {
            show_bytes(&bar, collector);
        }
    });
    bar.finish_and_clear();
    let t3 = std::time::Instant::now();
    if let Some(e) = open_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e).context("cannot open the repository in a worker thread");
    }
    let revisit = revisit.into_inner().unwrap_or_else(|p| p.into_inner());
    if opts.timings {
        eprintln!(
            "leaksweep: timings: plan {} ms, pack reads {} ms, libgit2 reads {} ms ({} items)",
            (t1 - t0).as_millis(),
            (t2 - t1).as_millis(),
            (t3 - t2).as_millis(),
            second.len()
        );
    }
    if !revisit.is_empty() {
        judge_at_other_paths(
            repo, &revisit, walked, paths, opts, scanner, collector, reducer, budget,
        )?;
    }
    if opts.timings {
        eprintln!(
            "leaksweep: timings: other paths {} ms ({} blobs)",
            t3.elapsed().as_millis(),
            revisit.len()
        );
    }
    let mut holders = HolderTable::default();
    if let Some(r) = reducer {
        let (findings, table) = r.take_findings();
        collector.add_findings(findings);
        holders = table;
    }
    Ok(holders)
}

/// Shows the bytes scanned so far in the progress bar's message.
fn show_bytes(bar: &indicatif::ProgressBar, collector: &Collector) {
    let mib = collector.bytes.load(Ordering::Relaxed) as f64 / 1048576.0;
    bar.set_message(format!("{mib:.0} MiB"));
}

/// Scans again, once per other path that holds it, each blob first judged at a path that a path
/// filter applies to (an allowlisted `docs/`, a test fixture, a lock file): the filters of each
/// path are its own, so a secret in an allowlisted file copied byte for byte to `config/` is
/// reported there, at the first commit holding it at that path. In a full history those paths
/// are what the walk recorded ([`super::walk::Move`]); in a range they are found by one memoized
/// pass over the commit trees, restricted to these blobs (as `--all-locations` does).
#[allow(clippy::too_many_arguments)]
fn judge_at_other_paths(
    repo: &Repository,
    revisit: &[Item],
    walked: Enumeration<'_>,
    paths: &mut Paths,
    opts: &HistoryOptions,
    scanner: &Scanner,
    collector: &Collector,
    reducer: Option<&Reducer>,
    budget: &Budget,
) -> Result<()> {
    let targets: IdSet = revisit.iter().map(|i| i.oid).collect();
    let commits = walked.commits;
    // `LEAKSWEEP_OTHER_PATHS=trees`: the pass over every commit tree, as a range does (a
    // reference for tests and benchmarks).
    let moves = walked
        .moves
        .filter(|_| std::env::var_os("LEAKSWEEP_OTHER_PATHS").is_none_or(|v| v != "trees"));
    let places = match moves {
        Some(moves) => moved_places(repo, moves, paths, &targets),
        None => tree_places(
            repo,
            walked.trees,
            &targets,
            Places::FirstPerPath,
            opts.threads,
        ),
    };
    let mut again = Vec::new();
    for item in revisit {
        let mut done = HashSet::new();
        done.insert(paths.get(item.path).to_string());
        for (commit, path) in places.get(&item.oid).into_iter().flatten() {
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
        budget,
    };
    let mut scratch = Scratch::default();
    for item in &again {
        ctx.scan_item(item, &mut scratch);
    }
    Ok(())
}

/// What a worker needs to scan one item.
struct Ctx<'a> {
    repo: &'a Repository,
    odb: &'a git2::Odb<'a>,
    commits: &'a [CommitId],
    paths: &'a Paths,
    opts: &'a HistoryOptions,
    scanner: &'a Scanner,
    collector: &'a Collector,
    /// `None` in range mode, where every version is judged on its own.
    reducer: Option<&'a Reducer>,
    /// Blobs first judged at a path a path filter applies to, to judge at their other paths;
    /// `None` while doing that (the blob is then not counted again either).
    revisit: Option<&'a std::sync::Mutex<Vec<Item>>>,
    /// What archives may still expand to, shared by every worker of the scan.
    budget: &'a Budget,
}

impl Ctx<'_> {
    fn hand_over(&self, item: &Item, findings: Vec<Finding>) {
        match self.reducer {
            Some(r) => r.add(
                item.commit,
                (item.kind == Kind::TagMessage).then_some(item.oid),
                findings,
            ),
            None => self.collector.add_findings(findings),
        }
    }

    fn commit_id(&self, item: &Item) -> Option<CommitId> {
        self.commits.get(item.commit as usize).copied()
    }

    /// Where an item's bytes come from, as its findings report it.
    fn provenance(&self, item: &Item) -> Provenance<'_> {
        match item.kind {
            Kind::Blob => Provenance::GitBlob {
                blob: BlobId(item.oid),
                commit: self.commit_id(item),
            },
            Kind::Unreachable => Provenance::Unreachable(BlobId(item.oid)),
            Kind::CommitMessage => Provenance::CommitMessage(CommitId(item.oid)),
            Kind::TagMessage => Provenance::TagMessage {
                tag: item.oid,
                name: self.paths.get(item.path),
            },
        }
    }

    /// `commit7:path`, how skipped and unreadable blobs are named.
    fn label(&self, item: &Item) -> String {
        self.label_at(item, self.paths.get(item.path))
    }

    /// `commit7:path` for `path` inside the item (itself, or a member `path!member`).
    fn label_at(&self, item: &Item, path: &str) -> String {
        match self.commit_id(item) {
            Some(c) => format!("{}:{path}", c.short()),
            None => path.to_string(),
        }
    }

    fn scan_item(&self, item: &Item, scratch: &mut Scratch) {
        match item.kind {
            Kind::Blob | Kind::Unreachable => self.scan_blob(item, scratch),
            Kind::CommitMessage => match self.repo.find_commit(item.oid.oid()) {
                Ok(c) => self.scan_message(item, c.message_bytes(), COMMIT_MESSAGE_PATH, scratch),
                Err(e) => self
                    .collector
                    .error(item.oid.to_string(), format!("cannot read commit: {e}")),
            },
            Kind::TagMessage => match self.repo.find_tag(item.oid.oid()) {
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
        if let Ok((size, _)) = self.odb.read_header(item.oid.oid()) {
            if size as u64 > self.opts.max_file_size {
                self.collector.skip(self.label(item), SkipReason::TooLarge);
                return;
            }
        }
        let obj = match self.odb.read(item.oid.oid()) {
            Ok(o) => o,
            Err(e) => {
                self.collector.error(
                    self.label(item),
                    format!("cannot read blob {}: {}", item.oid, e.message()),
                );
                return;
            }
        };
        self.scan_blob_data(item, obj.data(), scratch);
    }

    /// Scans the bytes of a blob item (read through libgit2, or straight from its pack).
    fn scan_blob_data(&self, item: &Item, data: &[u8], scratch: &mut Scratch) {
        if data.len() as u64 > self.opts.max_file_size {
            self.collector.skip(self.label(item), SkipReason::TooLarge);
            return;
        }
        let path = self.paths.get(item.path);
        let inherited = std::cell::OnceCell::new();
        let mut findings = Vec::new();
        let mut revisit = false;
        let mut skip = |at: &str, why| self.collector.skip(self.label_at(item, at), why);
        self.for_each_text(path, data, &mut skip, &mut |at, text| {
            let blob = Blob::new(text, at, self.provenance(item));
            if self.revisit.is_some() {
                self.collector.counted(text.len() as u64);
            }
            let found = self.judged_findings(item, &blob, &inherited, scratch);
            // Judged at one path; a path filter (allowlist, test path, lock file) may have
            // hidden or lowered what another path holding the same blob must report.
            revisit |= self.revisit.is_some()
                && item.kind == Kind::Blob
                && self.scanner.path_sensitive(at)
                && (!found.is_empty() || self.has_candidates(&blob, scratch));
            findings.extend(found);
        });
        if let Some(list) = self.revisit.filter(|_| revisit) {
            list.lock().unwrap_or_else(|p| p.into_inner()).push(*item);
        }
        if !findings.is_empty() {
            self.hand_over(item, findings);
        }
    }

    /// Calls `visit(display path, text)` for the text a blob at `path` holds: the blob itself,
    /// or, for an archive within `--archive-depth`, each member (`path!member`), with the same
    /// limits as the work tree. LFS pointers, binary data and whatever the expansion passes over
    /// go to `skip` with their display path and reason instead.
    fn for_each_text(
        &self,
        path: &str,
        data: &[u8],
        skip: &mut dyn FnMut(&str, SkipReason),
        visit: &mut dyn FnMut(&str, &[u8]),
    ) {
        let mut one = |at: &str, text: &[u8]| {
            if is_lfs_pointer(text) {
                skip(at, SkipReason::LfsPointer);
            } else if is_binary(text) {
                skip(at, SkipReason::Binary);
            } else {
                visit(at, text);
            }
        };
        if is_lfs_pointer(data) || self.opts.archive_depth == 0 {
            return one(path, data);
        }
        let limits = Limits::scan(self.opts.archive_depth, self.opts.max_file_size);
        match archive::expand(path, data, &limits, self.budget, &mut one) {
            Some(done) => {
                for s in done.skips {
                    skip(&s.path, SkipReason::from(s.kind));
                }
            }
            None => one(path, data),
        }
    }

    /// The findings of one blob version: one per (secret, rule) (the first), and in a range only
    /// secrets the version did not inherit from its parents at the same path. The findings limit
    /// counts what is left. In a full history, a version over the limit is judged again counting
    /// only the secrets it did not inherit (those are its parents' findings), so a file of 1,001
    /// old secrets does not hide the one a new version adds.
    /// `inherited` holds the parents' secrets once read, for every text of one blob.
    fn judged_findings(
        &self,
        item: &Item,
        blob: &Blob<'_>,
        inherited: &std::cell::OnceCell<HashSet<SecretId>>,
        scratch: &mut Scratch,
    ) -> Vec<Finding> {
        let range = self.opts.range.is_some();
        let first = std::cell::RefCell::new(HashSet::new());
        let new_here = |c: &Candidate<'_>, check_parents: bool| {
            let id = SecretId::of(c.secret);
            // A rejected value is evidence for the tokens found here, inherited or not: the
            // parents are not read for it.
            if check_parents
                && !c.rejected
                && inherited.get_or_init(|| self.inherited(item)).contains(&id)
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
                .skip(self.label_at(item, blob.path), SkipReason::TooManyFindings);
        }
        findings
    }

    /// Secret ids every candidate of the parents' versions of the item's path holds (before the
    /// findings limit: all of them; of an archive, in all its members).
    fn inherited(&self, item: &Item) -> HashSet<SecretId> {
        let path = self.paths.get(item.path);
        let ids = std::cell::RefCell::new(HashSet::new());
        let Some(commit) = self
            .commits
            .get(item.commit as usize)
            .and_then(|c| self.repo.find_commit(c.oid()).ok())
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
                .and_then(|e| Some((e.id(), self.odb.read(e.id()).ok()?)));
            let Some((id, obj)) = blob else { continue };
            let data = obj.data();
            if data.len() as u64 > self.opts.max_file_size {
                continue;
            }
            let provenance = Provenance::GitBlob {
                blob: BlobId::of(id),
                commit: Some(CommitId::of(parent.id())),
            };
            // Only judged: nothing is reported from the parents' versions.
            self.for_each_text(path, data, &mut |_, _| {}, &mut |at, text| {
                self.scanner
                    .scan_blob_keep(&Blob::new(text, at, provenance), &mut scratch, &|c| {
                        if !c.rejected {
                            ids.borrow_mut().insert(SecretId::of(c.secret));
                        }
                        false
                    });
            });
        }
        ids.into_inner()
    }

    /// Whether anything in `data` would be a finding at a path no path filter applies to.
    fn has_candidates(&self, blob: &Blob<'_>, scratch: &mut Scratch) -> bool {
        let any = std::cell::Cell::new(false);
        self.scanner
            .scan_blob_keep(&Blob { path: "", ..*blob }, scratch, &|c| {
                any.set(any.get() || !c.rejected);
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
                _ => item.oid.short(),
            };
            self.collector
                .skip(format!("{at}:{path}"), SkipReason::TooLarge);
            return;
        }
        let blob = Blob::new(message, path, self.provenance(item));
        let findings = self
            .scanner
            .scan_counted(&blob, scratch, self.collector, || path.to_string());
        // Scanned, but a message is not a file in the summary's count.
        self.collector.messages.fetch_add(1, Ordering::Relaxed);
        if !findings.is_empty() {
            self.hand_over(item, findings);
        }
    }
}
