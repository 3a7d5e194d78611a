//! Sources: where blobs come from. Each source walks its input, reads items, skips what must be
//! skipped (recording why in the [`Collector`]) and pushes blobs, each with its
//! [`Provenance`](crate::scan::Provenance), to the [`Scanner`]. A source knows nothing of rules.
//!
//! Every command scans through [`scan`]: one [`Source`] (the work tree, standard input, the
//! index, the history) run against one scanner into one collector, whose contents come back
//! sorted as a [`Collected`]. What a command does with the findings afterwards (history's
//! annotation and fold, triage, reporting) is not the source's business.

pub mod history;
pub mod staged;
pub mod stdin;
pub mod worktree;

/// Moved to [`crate::git`]; kept here for the paths other modules name.
pub use crate::git::{lfs, packorder};

use crate::finding::Finding;
use crate::scan::{summarize, Collector, ScanError, Scanner, Skipped, Summary};
use anyhow::Result;

/// Something that pushes blobs to a scanner.
///
/// The sink contract: `run` hands every blob it reads to `scanner` (`Scanner::scan_into`, or
/// `scan_counted`/`scan_counted_keep` with its own filter, then `Collector::add_findings`), on as
/// many threads as it likes, each with its own `Scratch`; records every item it does not scan
/// in `sink` as a skip with its reason or as an error with its path, never dropping one
/// silently; and adds to `sink` only findings the scanner built, with the provenance the blob
/// carried. A source may hold findings back to fold them (history keeps one per secret, rule
/// and path as it goes) as long as everything is in `sink` when `run` returns. An `Err` is a
/// failure of the whole input (no repository, no index), not of one item.
pub trait Source {
    /// What the source reports beside findings: the work tree's ignored secret files, the
    /// staged counts, the walked history (for annotation afterwards).
    type Output;

    /// The summary's `mode`: `worktree`, `stdin`, `staged`, `git`.
    const MODE: &'static str;

    /// Reads everything and pushes it to `scanner`, collecting into `sink`.
    fn run(self, scanner: &Scanner, sink: &Collector) -> Result<Self::Output>;
}

/// What one source's scan collected: findings sorted by [`Finding::sort_key`], skips and errors
/// sorted by path, the counts, and the source's own output.
pub struct Collected<T> {
    pub mode: &'static str,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanError>,
    /// Files scanned (commit and tag messages not counted).
    pub files: u64,
    pub bytes: u64,
    pub output: T,
}

impl<T> Collected<T> {
    /// The same collection with the source's output mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Collected<U> {
        Collected {
            mode: self.mode,
            findings: self.findings,
            skipped: self.skipped,
            errors: self.errors,
            files: self.files,
            bytes: self.bytes,
            output: f(self.output),
        }
    }

    /// The summary of the findings as they are now (a command may have folded or filtered them).
    pub fn summary(&self, scanner: &Scanner) -> Summary {
        summarize(
            self.mode,
            &self.findings,
            &self.skipped,
            &self.errors,
            self.files,
            self.bytes,
            scanner,
        )
    }
}

/// Runs `source` against `scanner` (built from the command's configuration) and returns what it
/// collected: the one entry every scanning command goes through.
pub fn scan<S: Source>(source: S, scanner: &Scanner) -> Result<Collected<S::Output>> {
    let sink = Collector::default();
    let output = source.run(scanner, &sink)?;
    let (mut findings, skipped, errors, files, bytes) = sink.finish();
    // Values the filters rejected that sign a token found here are findings after all.
    crate::scan::promote_rejected(&mut findings, scanner.rejected.take());
    Ok(Collected {
        mode: S::MODE,
        findings,
        skipped,
        errors,
        files,
        bytes,
        output,
    })
}
