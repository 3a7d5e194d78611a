//! Staged source (`leaksweep git --staged`): what `git commit` would record, against HEAD.
//!
//! Reads the index itself with git2 (no shelling out), diffs HEAD's tree against it with zero
//! context lines (so every new-side line of a hunk is an added or changed line), scans each
//! staged blob whole, and keeps only findings that touch an added line (before the findings
//! limit counts them): a multi-line secret counts when any of its lines is new. Line numbers are those of the staged file. Renames are
//! detected, so moving a file with an old secret does not report it again.
//!
//! Works without HEAD (the first commit: everything staged is new) and during a merge (the index
//! against HEAD is what the merge commit will add). An unresolved conflict cannot be committed
//! and is reported as an error naming the path (fail closed), as is a staged blob that cannot be
//! read; when files are staged but none could be read, the scan fails outright.
//!
//! Cost: the index is read once and only HEAD's trees are compared, so a repository with 50,000
//! tracked files and one staged change reads one blob pair.

use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Candidate, Collector, Scanner, SkipReason};
use crate::source::history::is_lfs_pointer;
use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Patch, Repository};
use std::ops::Range;

/// Counts of a staged scan.
#[derive(Debug, Clone, Default)]
pub struct StagedStats {
    /// Staged files with content (added, modified, renamed, copied, type-changed).
    pub staged: u64,
    /// Of those, the ones that were read (scanned or skipped on purpose).
    pub read: u64,
    /// Paths with unresolved merge conflicts (not scanned; they make the scan fail).
    pub conflicts: u64,
}

/// Scans the staged changes of `repo`. Unreadable blobs and conflicts are recorded in the
/// collector; the caller must fail when `staged > 0 && read == 0` (see [`StagedStats`]).
pub fn scan(
    repo: &Repository,
    max_file_size: u64,
    scanner: &Scanner,
    collector: &Collector,
) -> Result<StagedStats> {
    let index = repo.index().context("cannot read the index")?;
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
                    path.clone(),
                    "unresolved merge conflict: not scanned (resolve it, stage the result, scan again)",
                );
                conflicted.insert(path);
                stats.conflicts += 1;
            }
        }
    }
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .include_typechange(true)
        .ignore_submodules(false);
    let mut diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
        .context("cannot compare the index with HEAD")?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .context("cannot detect renames in the staged changes")?;
    let mut scratch = Scratch::default();
    for i in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(i) else {
            continue;
        };
        let status = delta.status();
        if !matches!(
            status,
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let new = delta.new_file();
        let path = new
            .path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        if conflicted.contains(&path) {
            continue;
        }
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
        if is_lfs_pointer(data) {
            collector.skip(path, SkipReason::LfsPointer);
            continue;
        }
        if is_binary(data) {
            collector.skip(path, SkipReason::Binary);
            continue;
        }
        // Only findings on added lines are kept, before the findings limit counts them. A file
        // new to the index (no old side) is all added lines; one with the same content as
        // before (a pure rename or mode change) has none.
        // So is a file renamed or copied out of a path whose filters (an allowlisted `docs/`, a
        // fixture) hid or lowered what it holds: the filters where it lands are not those.
        let old_path = delta
            .old_file()
            .path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let moved_out = matches!(status, Delta::Renamed | Delta::Copied)
            && old_path != path
            && scanner.path_sensitive(&old_path);
        let whole = status == Delta::Added || moved_out;
        let unchanged = !whole && delta.old_file().id() == new.id();
        let added = std::cell::OnceCell::new();
        let keep = |c: &Candidate<'_>| {
            if whole || unchanged {
                return whole;
            }
            match added.get_or_init(|| added_lines(&diff, i)) {
                Ok(a) => a.iter().any(|r| r.start <= c.end_line && c.line < r.end),
                Err(_) => true,
            }
        };
        let findings = scanner.scan_counted_keep(
            &Blob { data, path: &path },
            &mut scratch,
            collector,
            || path.clone(),
            &keep,
        );
        if let Some(Err(e)) = added.into_inner() {
            return Err(e).with_context(|| format!("cannot diff staged file {path}"));
        }
        collector.add_findings(findings);
    }
    Ok(stats)
}

/// 1-based half-open line ranges of the new side that the diff adds (zero context lines).
fn added_lines(diff: &git2::Diff<'_>, idx: usize) -> Result<Vec<Range<usize>>> {
    let Some(patch) = Patch::from_diff(diff, idx)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(h)?;
        let start = hunk.new_start() as usize;
        let n = hunk.new_lines() as usize;
        if n > 0 {
            out.push(start..start + n);
        }
    }
    Ok(out)
}
