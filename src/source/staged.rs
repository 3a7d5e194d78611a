//! Staged source (`leaksweep git --staged`): what `git commit` would record, against HEAD.
//!
//! The repository, work tree and index are found exactly as git finds them ([`open`]): `GIT_DIR`,
//! `GIT_WORK_TREE` and `GIT_INDEX_FILE` are honoured, so inside a hook the scan reads the index
//! git is about to commit (`git commit -a`, `git commit PATH`, `--only` and `--include` commit a
//! temporary index, not `.git/index`).
//!
//! Each staged blob that differs from HEAD's entry at its path is scanned whole, and a finding is
//! kept when any of its lines is new. Whether a line is new is decided here, not by a diff engine
//! (which reports no lines for a `-diff` attribute, a file that was binary, or a type change):
//! the lines of HEAD's blob at the same path are counted as a multiset, and each staged line
//! consumes one matching old line; a line left without a match is new. When in doubt the line is
//! new (fail closed): no entry at that path in HEAD (a new file, a rename or copy: a secret moved
//! to a new path is reported there), an old entry that is not a regular file (symlink,
//! submodule), an old blob that cannot be read. Line numbers are those of the staged file. The
//! filter runs inside the scanner, before the per-file findings cap counts, so old findings
//! cannot push a new one past the cap.
//!
//! The comparison is with HEAD, as for `git diff --cached`: a pre-commit hook is not told that
//! the commit is `git commit --amend`, so the lines HEAD itself added are not new to an amended
//! commit (they passed the hook when HEAD was made; the pre-push gate scans them again).
//!
//! Works without HEAD (the first commit: everything staged is new) and during a merge (the index
//! against HEAD is what the merge commit will add). An unresolved conflict cannot be committed
//! and is reported as an error naming the path (fail closed), as is a staged blob that cannot be
//! read; when files are staged but none could be read, the scan fails outright.
//!
//! Cost: the index is read once and only HEAD's trees are compared, so a repository with 50,000
//! tracked files and one staged change reads one blob; old versions are read only for staged
//! files with findings.

use crate::git::id::BlobId;
use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Candidate, Collector, Provenance, Scanner, SkipReason};
use crate::source::{lfs, Source};
use crate::text::scanned_text;
use anyhow::{bail, Context, Result};
use git2::{Delta, DiffOptions, ErrorCode, FileMode, Index, Repository, Tree};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Counts of a staged scan.
#[derive(Debug, Clone, Default)]
pub struct StagedStats {
    /// Staged files with content (added, modified, type-changed).
    pub staged: u64,
    /// Of those, the ones that were read (scanned or skipped on purpose).
    pub read: u64,
    /// Paths with unresolved merge conflicts (not scanned; they make the scan fail).
    pub conflicts: u64,
}

/// The repository and the index a commit made from `start` would record, found as git finds
/// them. `start` is the directory git would run in (the current directory, or the REPO argument,
/// like `git -C REPO`).
///
/// - `GIT_DIR` (relative to `start`) names the git directory; no search. Without it the
///   repository is discovered upwards from `start`, stopping at `GIT_CEILING_DIRECTORIES`.
/// - The work tree is `GIT_WORK_TREE` (relative to `start`) when set; else, with `GIT_DIR` set,
///   `core.worktree` or `start` itself (git's rule), unless the repository is bare; else the
///   discovered one.
/// - The index is `GIT_INDEX_FILE` when set, a relative path being relative to the top of the
///   work tree (git resolves it after moving there; `start` for a bare repository), else the
///   repository's own. A missing index file is an empty index, as for git.
pub fn open(start: &Path) -> Result<(Repository, Index)> {
    if !start.exists() {
        bail!("{}: no such file or directory", start.display());
    }
    let start = if start.is_dir() {
        start.to_path_buf()
    } else {
        start
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let git_dir = env_path("GIT_DIR");
    let repo = match &git_dir {
        Some(dir) => {
            let dir = start.join(dir);
            Repository::open(&dir).with_context(|| {
                format!(
                    "GIT_DIR={} is not a git repository (unset GIT_DIR, or point it at one)",
                    dir.display()
                )
            })?
        }
        None => {
            let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| p.is_absolute())
                        .collect()
                })
                .unwrap_or_default();
            Repository::open_ext(&start, git2::RepositoryOpenFlags::empty(), &ceilings)
                .with_context(|| {
                    format!(
                        "{} is not inside a git repository (run `git init`, or pass the repository path)",
                        start.display()
                    )
                })?
        }
    };
    if let Some(wt) = env_path("GIT_WORK_TREE") {
        let wt = start.join(wt);
        repo.set_workdir(&wt, false)
            .with_context(|| format!("cannot use GIT_WORK_TREE={}", wt.display()))?;
    } else if git_dir.is_some() && !repo.is_bare() {
        let core_worktree = repo
            .config()
            .ok()
            .and_then(|c| c.get_path("core.worktree").ok());
        if core_worktree.is_none() {
            repo.set_workdir(&start, false)
                .with_context(|| format!("cannot use {} as the work tree", start.display()))?;
        }
    }
    let index = match env_path("GIT_INDEX_FILE") {
        Some(file) => {
            let top = repo
                .workdir()
                .map_or_else(|| start.clone(), Path::to_path_buf);
            let file = top.join(file);
            Index::open(&file).with_context(|| {
                format!("cannot read the index GIT_INDEX_FILE={}", file.display())
            })?
        }
        None => repo.index().context("cannot read the index")?,
    };
    Ok((repo, index))
}

/// A path-valued environment variable, when set and not empty (git ignores empty values).
fn env_path(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// A path from git's bytes (any bytes on Unix; lossy elsewhere).
fn path_of(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// The version a staged file is compared with: HEAD's tree.
struct Old<'r> {
    repo: &'r Repository,
    head: Option<Tree<'r>>,
}

impl<'r> Old<'r> {
    /// The regular-file blob at `path` in HEAD, if there is one and it can be read.
    fn blob(&self, path: &Path) -> Option<git2::Blob<'r>> {
        let entry = self.head.as_ref()?.get_path(path).ok()?;
        let mode = entry.filemode();
        if mode != i32::from(FileMode::Blob) && mode != i32::from(FileMode::BlobExecutable) {
            return None;
        }
        self.repo.find_blob(entry.id()).ok()
    }

    /// For each line of `data` (1-based; index 0 unused), whether it is new: not matched by one
    /// of the lines of HEAD's version of `path`, each old line matching once.
    fn new_lines(&self, path: &Path, data: &[u8]) -> Vec<bool> {
        let mut out = vec![true];
        let Some(head) = self.blob(path) else {
            out.extend(scanned_text(data).split(|&b| b == b'\n').map(|_| true));
            return out;
        };
        // Lines as the scanner numbers them: UTF-16 is compared decoded, on both sides.
        let (head, data) = (scanned_text(head.content()), scanned_text(data));
        let mut left: HashMap<&[u8], usize> = HashMap::new();
        for line in head.split(|&b| b == b'\n') {
            *left.entry(line).or_default() += 1;
        }
        for line in data.split(|&b| b == b'\n') {
            match left.get_mut(line) {
                Some(c) if *c > 0 => {
                    *c -= 1;
                    out.push(false);
                }
                _ => out.push(true),
            }
        }
        out
    }
}

/// The staged source: the changes staged in `index` (see [`open`]) against HEAD of `repo`.
/// Unreadable blobs and conflicts are recorded as errors; the caller must fail when its output
/// says `staged > 0 && read == 0` (see [`StagedStats`]).
pub struct Staged<'r> {
    pub repo: &'r Repository,
    pub index: &'r Index,
    pub max_file_size: u64,
}

impl Source for Staged<'_> {
    type Output = StagedStats;
    const MODE: &'static str = "staged";

    fn run(self, scanner: &Scanner, sink: &Collector) -> Result<StagedStats> {
        scan(self.repo, self.index, self.max_file_size, scanner, sink)
    }
}

fn scan(
    repo: &Repository,
    index: &Index,
    max_file_size: u64,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<StagedStats> {
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().context("cannot read HEAD's tree")?),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(e).context("cannot resolve HEAD"),
    };
    let mut stats = StagedStats::default();
    let mut conflicted = std::collections::HashSet::new();
    if index.has_conflicts() {
        for c in index.conflicts().context("cannot read index conflicts")? {
            let c = c.context("cannot read an index conflict")?;
            if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                let path = String::from_utf8_lossy(&e.path).into_owned();
                collector.error(
                    path,
                    "unresolved merge conflict: not scanned (resolve it, stage the result, scan again)",
                );
                conflicted.insert(e.path);
                stats.conflicts += 1;
            }
        }
    }
    // No rename detection: git records paths and contents, and a line is new unless the same
    // path held it (see the module docs).
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(false);
    let diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(index), Some(&mut opts))
        .context("cannot compare the index with HEAD")?;
    let old = Old {
        repo,
        head: head_tree.clone(),
    };
    let mut scratch = Scratch::default();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Typechange
        ) {
            continue;
        }
        let new = delta.new_file();
        let Some(raw_path) = new.path_bytes() else {
            continue;
        };
        if conflicted.contains(raw_path) {
            continue;
        }
        let path = String::from_utf8_lossy(raw_path).into_owned();
        stats.staged += 1;
        match new.mode() {
            FileMode::Commit => {
                stats.read += 1;
                collector.skip(path, SkipReason::Submodule);
                continue;
            }
            FileMode::Link => {
                stats.read += 1;
                collector.skip(path, SkipReason::Symlink);
                continue;
            }
            _ => {}
        }
        let blob = match repo.find_blob(new.id()) {
            Ok(b) => b,
            Err(e) => {
                collector.error(
                    path,
                    format!("cannot read staged blob {}: {}", new.id(), e.message()),
                );
                continue;
            }
        };
        stats.read += 1;
        let data = blob.content();
        if data.len() as u64 > max_file_size {
            collector.skip(path, SkipReason::TooLarge);
            continue;
        }
        if lfs::is_pointer(data) {
            collector.skip(path, SkipReason::LfsPointer);
            continue;
        }
        if is_binary(data) {
            collector.skip(path, SkipReason::Binary);
            continue;
        }
        // Only candidates on new lines are kept, judged before the findings cap counts them, so
        // old findings cannot push a new one past the cap. HEAD's version is read only for a file
        // with candidates.
        let new_lines = std::cell::OnceCell::new();
        let keep = |c: &Candidate<'_>| {
            let new_lines = new_lines.get_or_init(|| old.new_lines(&path_of(raw_path), data));
            (c.line..=c.end_line.max(c.line)).any(|l| new_lines.get(l).copied().unwrap_or(true))
        };
        let findings = scanner.scan_counted_keep(
            &Blob::new(data, &path, Provenance::Staged(BlobId::of(new.id()))),
            &mut scratch,
            collector,
            || path.clone(),
            &keep,
        );
        collector.add_findings(findings);
    }
    Ok(stats)
}
