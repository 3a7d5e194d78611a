//! The pipeline: sources push blobs, the matcher finds secrets, one collector gathers findings.
//!
//! Push model: a source calls [`Scanner::scan_blob`] from its own worker threads, each with its own
//! [`Scratch`]; the scanner turns matches into [`Finding`]s and hands them to the shared
//! [`Collector`] (a mutex-guarded vector: findings are rare, so contention is negligible). A failure
//! to read one item is recorded in the collector with its path and the scan goes on; the command
//! turns a non-zero error count into exit code 2 at the end.

use crate::finding::{
    self, Confidence, Finding, Fingerprint, GitIds, GitProvenance, LineIndex, Secret, SecretId,
};
use crate::git::id::{BlobId, CommitId, ObjectId};
use crate::matcher::{
    allow, jwt_link, validate, Filter, Judgement, Match, Matcher, Rejected, Scratch,
};
use crate::text::{Utf16, Utf16Text};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// What a source sees of a candidate finding to decide whether it reports it.
pub struct Candidate<'a> {
    /// Rule id.
    pub rule: &'a str,
    /// The secret (decoded, for a value found inside an encoding).
    pub secret: &'a [u8],
    /// 1-based first and last line of the secret in the blob.
    pub line: usize,
    pub end_line: usize,
    /// A value a filter rejected, judged only as evidence that may sign a token of the scan
    /// ([`crate::matcher::jwt_link`]): a source reports it as it would a candidate there, but
    /// does not take it for one of its own candidates.
    pub rejected: bool,
}

/// A source's filter: true for the candidates it reports (see [`Scanner::scan_blob_keep`]).
pub type Keep<'a> = &'a dyn Fn(&Candidate<'_>) -> bool;

/// The scanner's judgement of one match: rule index, span in the blob, secret.
type Judge<'a> = dyn Fn(usize, std::ops::Range<usize>, &[u8]) -> Judgement + 'a;

/// [`Judge`] of a value a filter rejected (see [`Candidate::rejected`]).
type JudgeRejected<'a> = dyn Fn(usize, std::ops::Range<usize>, &[u8], bool) -> Judgement + 'a;

/// One decoding pass's context: where the encoded value sits and where decoded matches go.
struct Layer<'a, 'j> {
    path: &'a str,
    outer: &'a std::ops::Range<usize>,
    judge: &'a Judge<'j>,
    out: &'a mut Vec<(std::ops::Range<usize>, Secret, Match)>,
    suppressed: &'a mut usize,
    /// The candidates the built-in filters rejected in decoded text (`--show-filtered`).
    filtered: &'a mut Vec<Shown>,
}

/// A candidate a built-in filter rejected, to be shown (`--show-filtered`): where the blob holds
/// it, its value (decoded, for one found inside an encoding), its rule and the filter.
struct Shown {
    span: std::ops::Range<usize>,
    secret: Secret,
    rule: usize,
    filter: Filter,
}

/// Bytes of a blob handed to the scanner, with its display path and where it came from.
#[derive(Clone, Copy)]
pub struct Blob<'a> {
    pub data: &'a [u8],
    /// Display path (`-` for stdin, `<commit message>` for commit messages).
    pub path: &'a str,
    /// Set by the source that read the bytes; the scanner copies into each finding what the
    /// finding reports of it ([`Provenance::git`]).
    pub provenance: Provenance<'a>,
}

impl<'a> Blob<'a> {
    pub fn new(data: &'a [u8], path: &'a str, provenance: Provenance<'a>) -> Self {
        Blob {
            data,
            path,
            provenance,
        }
    }

    /// A file's bytes (a work tree, a file named on the command line, any file read as such).
    pub fn file(data: &'a [u8], path: &'a str) -> Self {
        Blob::new(data, path, Provenance::File)
    }
}

/// Where the bytes of a [`Blob`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance<'a> {
    /// A file in a work tree, or named on the command line.
    File,
    /// Standard input.
    Stdin,
    /// A blob staged in the index: what `git commit` would record.
    Staged(BlobId),
    /// A file version in the history, with the commit that first reached it (none for a blob
    /// that only a tag, or a tag's tree, names).
    GitBlob {
        blob: BlobId,
        commit: Option<CommitId>,
    },
    /// A blob that no ref reaches (`--include-unreachable`).
    Unreachable(BlobId),
    /// A commit's message.
    CommitMessage(CommitId),
    /// An annotated tag's message: the tag object, and the ref (or tag) name it was found by.
    TagMessage { tag: ObjectId, name: &'a str },
}

impl Provenance<'_> {
    /// The git provenance a finding in such a blob carries (author, date and locations are
    /// filled in later, for findings only); none outside history.
    pub fn git(&self) -> Option<GitProvenance> {
        let none = GitIds::default();
        let (ids, kind, summary) = match *self {
            Provenance::File | Provenance::Stdin | Provenance::Staged(_) => return None,
            Provenance::GitBlob { blob, commit } => (
                GitIds {
                    commit,
                    blob: Some(blob),
                    ..none
                },
                "file",
                String::new(),
            ),
            Provenance::Unreachable(blob) => (
                GitIds {
                    blob: Some(blob),
                    ..none
                },
                "unreachable",
                String::new(),
            ),
            Provenance::CommitMessage(commit) => (
                GitIds {
                    commit: Some(commit),
                    ..none
                },
                "commit-message",
                String::new(),
            ),
            Provenance::TagMessage { tag, name } => (
                GitIds {
                    tag: Some(tag),
                    ..none
                },
                "tag-message",
                format!("tag {}", name.trim_start_matches("refs/tags/")),
            ),
        };
        Some(GitProvenance::of(ids, kind, summary))
    }
}

/// Why an item was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Binary,
    TooLarge,
    Symlink,
    LfsPointer,
    Submodule,
    /// A FIFO, socket or device: never opened (reading a FIFO would block the scan).
    SpecialFile,
    /// Scanned, but only the first `--max-findings-per-file` findings are reported.
    TooManyFindings,
    /// A ref under `refs/leaksweep/` (the old history a rewrite keeps), not walked.
    BackupRef,
    /// An archive nested deeper than `--archive-depth`.
    ArchiveDepth,
    /// An archive member larger than `--max-file-size` once expanded.
    ArchiveMemberTooLarge,
    /// An archive past its expansion limit (or the scan's), or past its member count.
    ArchiveLimit,
    /// An encrypted archive member.
    ArchiveEncrypted,
    /// A damaged archive, or a member in a format that cannot be read.
    ArchiveUnreadable,
}

impl From<crate::archive::SkipKind> for SkipReason {
    fn from(k: crate::archive::SkipKind) -> SkipReason {
        use crate::archive::SkipKind as K;
        match k {
            K::Depth => SkipReason::ArchiveDepth,
            K::TooLarge => SkipReason::ArchiveMemberTooLarge,
            K::Budget | K::Entries => SkipReason::ArchiveLimit,
            K::Encrypted => SkipReason::ArchiveEncrypted,
            K::Unreadable => SkipReason::ArchiveUnreadable,
        }
    }
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too-large",
            SkipReason::Symlink => "symlink",
            SkipReason::LfsPointer => "lfs-pointer",
            SkipReason::Submodule => "submodule",
            SkipReason::SpecialFile => "special-file",
            SkipReason::TooManyFindings => "too-many-findings",
            SkipReason::BackupRef => "backup-ref",
            SkipReason::ArchiveDepth => "archive-depth",
            SkipReason::ArchiveMemberTooLarge => "archive-member-too-large",
            SkipReason::ArchiveLimit => "archive-limit",
            SkipReason::ArchiveEncrypted => "archive-encrypted",
            SkipReason::ArchiveUnreadable => "archive-unreadable",
        }
    }
}

/// One skipped item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

/// One item that could not be read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// Thread-safe accumulator shared by all workers of one scan.
#[derive(Default)]
pub struct Collector {
    findings: Mutex<Vec<Finding>>,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<ScanError>>,
    pub items: AtomicU64,
    pub bytes: AtomicU64,
    /// Of `items`, the commit and tag messages: counted as scanned, but not as files.
    pub messages: AtomicU64,
}

impl Collector {
    pub fn add_findings(&self, mut f: Vec<Finding>) {
        if !f.is_empty() {
            lock(&self.findings).append(&mut f);
        }
    }
    pub fn skip(&self, path: impl Into<String>, reason: SkipReason) {
        lock(&self.skipped).push(Skipped {
            path: path.into(),
            reason,
        });
    }
    pub fn error(&self, path: impl Into<String>, message: impl Into<String>) {
        lock(&self.errors).push(ScanError {
            path: path.into(),
            message: message.into(),
        });
    }
    pub fn counted(&self, bytes: u64) {
        self.items.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    /// Takes everything collected, findings sorted for deterministic output: (findings,
    /// skipped, errors, files scanned (messages not counted), bytes scanned).
    pub fn finish(self) -> (Vec<Finding>, Vec<Skipped>, Vec<ScanError>, u64, u64) {
        let mut findings = self
            .findings
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        findings.sort_by_key(|f| f.sort_key());
        let mut skipped = self.skipped.into_inner().unwrap_or_else(|p| p.into_inner());
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let mut errors = self.errors.into_inner().unwrap_or_else(|p| p.into_inner());
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        (
            findings,
            skipped,
            errors,
            self.items
                .into_inner()
                .saturating_sub(self.messages.into_inner()),
            self.bytes.into_inner(),
        )
    }
}

/// Locks a mutex, recovering from poisoning (a panicking worker must not hide others' results).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Totals of one scan, reported in every format's summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// What was scanned: `worktree`, `stdin`, `git`, `staged`.
    pub mode: String,
    pub files: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs: Option<u64>,
    pub skipped: std::collections::BTreeMap<String, u64>,
    pub errors: u64,
    pub findings: u64,
    pub secrets: u64,
    /// `--show-filtered`: candidates a built-in filter judged not to be leaks, shown marked;
    /// not counted in `findings` or `secrets`.
    #[serde(skip_serializing_if = "is_zero")]
    pub filtered: u64,
    /// Findings suppressed by inline allow comments.
    pub suppressed_inline: u64,
    /// Findings dropped because the baseline or `.leaksweepignore` lists them.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed_baseline: u64,
    pub duration_ms: u64,
    pub rules: u64,
    /// `git --repos`: each repository as listed, with its own totals (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<crate::repos::RepoSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The result of a scan, ready for reporters.
pub struct Report {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanError>,
    pub summary: Summary,
}

/// Markers that suppress a finding on their line.
pub const INLINE_ALLOW: &[&str] = &[
    "leaksweep:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Scans blobs with a shared [`Matcher`].
pub struct Scanner {
    pub matcher: Matcher,
    /// How many layers of encoding (base64, percent) to peel off encoded values (0 disables
    /// decoding). Taken from the matcher's options.
    pub decode_depth: usize,
    started: Instant,
    pub suppressed_inline: AtomicU64,
    /// Values the filters rejected that may sign a token of this scan ([`jwt_link::promote`]).
    pub rejected: jwt_link::RejectedPool,
}

impl Scanner {
    pub fn new(matcher: Matcher) -> Self {
        Scanner {
            decode_depth: matcher.options().decode_depth,
            matcher,
            started: Instant::now(),
            suppressed_inline: AtomicU64::new(0),
            rejected: jwt_link::RejectedPool::default(),
        }
    }

    /// Scans one blob; called from any worker thread with that thread's scratch.
    ///
    /// At most `max_findings` findings come back; when the blob held more, the scan stopped there
    /// and `scratch.take_truncated()` says so (the source records it as a skip).
    pub fn scan_blob(&self, blob: &Blob<'_>, scratch: &mut Scratch) -> Vec<Finding> {
        self.scan_blob_keep(blob, scratch, &|_| true)
    }

    /// [`Scanner::scan_blob`], reporting only the candidates `keep` accepts (a source's own
    /// filter: the added lines of a staged file, the secrets a version did not inherit). Every
    /// filter runs before the findings limit, so findings that would not be reported (filtered
    /// by `keep`, allowlisted, allowed inline) never use it up: the limit counts reported
    /// findings only.
    ///
    /// UTF-16 with a byte-order mark is scanned as its decoded text ([`Scanner::scan_utf16`]).
    pub fn scan_blob_keep(
        &self,
        blob: &Blob<'_>,
        scratch: &mut Scratch,
        keep: Keep<'_>,
    ) -> Vec<Finding> {
        match Utf16Text::decode(blob.data) {
            Some(text) => self.scan_utf16(blob, &text, scratch, keep),
            None => self.scan_text(blob, scratch, keep, true),
        }
    }

    /// A UTF-16 blob, scanned as its decoded `text`: lines and columns are the text's, and each
    /// finding's byte span is moved to the stored bytes and the finding notes the encoding, so
    /// no offset that only holds in the decoded text is taken for one into the stored file.
    fn scan_utf16(
        &self,
        blob: &Blob<'_>,
        text: &Utf16Text,
        scratch: &mut Scratch,
        keep: Keep<'_>,
    ) -> Vec<Finding> {
        let decoded = Blob {
            data: text.text.as_bytes(),
            ..*blob
        };
        // Its rejected values are not kept: their spans would be the decoded text's.
        let mut out = self.scan_text(&decoded, scratch, keep, false);
        let spans: Vec<_> = out.iter().map(|f| f.span.clone()).collect();
        for (f, span) in out.iter_mut().zip(text.stored(&spans)) {
            f.span = span;
            f.notes
                .push(("encoding".into(), text.order.name().to_string()));
        }
        out
    }

    /// [`Scanner::scan_blob_keep`] of text as it is (UTF-8 or bytes); with `evidence`, the
    /// values the filters rejected that may sign a token go to [`Scanner::rejected`].
    fn scan_text(
        &self,
        blob: &Blob<'_>,
        scratch: &mut Scratch,
        keep: Keep<'_>,
        evidence: bool,
    ) -> Vec<Finding> {
        let data = blob.data;
        scratch.take_truncated();
        if self.matcher.options().allow.skips_path(blob.path) {
            return Vec::new();
        }
        let index = std::cell::OnceCell::new();
        let markers = std::cell::OnceCell::new();
        let judge_as = |ri: usize, span: std::ops::Range<usize>, secret: &[u8], rejected| {
            let index = index.get_or_init(|| LineIndex::new(data));
            let markers = markers.get_or_init(|| inline_markers(data));
            self.judge(blob, index, markers, ri, &span, secret, keep, rejected)
        };
        let judge = |ri, span, secret: &[u8]| judge_as(ri, span, secret, false);
        let (matches, suppressed) =
            self.matcher
                .scan_judged(data, Some(blob.path), scratch, &mut |ri, span| {
                    judge(ri, span.clone(), &data[span])
                });
        let mut rejected = std::mem::take(&mut scratch.rejected);
        if !evidence {
            rejected.clear();
        }
        let filtered = std::mem::take(&mut scratch.filtered);
        let mut decoded_filtered = Vec::new();
        let (decoded, suppressed_decoded) =
            self.decode_pass(data, blob.path, scratch, &judge, &mut decoded_filtered);
        self.suppressed_inline
            .fetch_add((suppressed + suppressed_decoded) as u64, Ordering::Relaxed);
        self.judge_rejected(data, &mut rejected, &matches, &judge_as);
        let shown = self.judge_filtered(
            data,
            &filtered,
            decoded_filtered,
            &matches,
            &decoded,
            &judge,
        );
        scratch.filtered = filtered;
        if matches.is_empty() && decoded.is_empty() && rejected.is_empty() && shown.is_empty() {
            scratch.rejected = rejected;
            return Vec::new();
        }
        let cx = BlobContext {
            index: index.into_inner().unwrap_or_else(|| LineIndex::new(data)),
            markers: markers.into_inner().unwrap_or_else(|| inline_markers(data)),
            // Every span holding a secret, so that each preview masks the others on its line.
            masks: finding::Masks::new(
                matches
                    .iter()
                    .map(|m| m.span.clone())
                    .chain(decoded.iter().map(|(outer, _, _)| outer.clone()))
                    .chain(shown.iter().map(|s| s.span.clone()))
                    .collect(),
            ),
        };
        let mut out = Vec::with_capacity(matches.len() + decoded.len());
        for m in &matches {
            out.extend(self.make_finding(blob, &cx, m.span.clone(), &data[m.span.clone()], m));
        }
        for (outer, inner, m) in &decoded {
            // Already reported at this outer location by a direct rule: keep the direct finding.
            if matches
                .iter()
                .any(|d| d.span.start < outer.end && outer.start < d.span.end)
            {
                continue;
            }
            out.extend(self.make_finding(blob, &cx, outer.clone(), inner.expose(), m));
        }
        self.keep_rejected(blob, &cx, &rejected);
        rejected.clear();
        scratch.rejected = rejected;
        let max = self.matcher.options().max_findings;
        if out.len() > max {
            out.truncate(max);
            scratch.mark_truncated();
        }
        out.extend(
            shown
                .iter()
                .filter_map(|s| self.filtered_finding(blob, &cx, s)),
        );
        out
    }

    /// Of the candidates the built-in filters rejected (`direct` in the blob, `decoded` inside
    /// its encoded values), those to show: at no place a match or decoded match reports, one per
    /// place, each reported there but for its filter (allowlists, inline allows and the source's
    /// filter still apply), at most `max_findings`. Judged after every match, so a source that
    /// keeps the first candidate of a secret keeps its match. Empty without `--show-filtered`.
    fn judge_filtered(
        &self,
        data: &[u8],
        direct: &[(usize, std::ops::Range<usize>, Filter)],
        decoded: Vec<Shown>,
        matches: &[Match],
        decoded_matches: &[(std::ops::Range<usize>, Secret, Match)],
        judge: &Judge<'_>,
    ) -> Vec<Shown> {
        let mut out: Vec<Shown> = Vec::new();
        if direct.is_empty() && decoded.is_empty() {
            return out;
        }
        let overlaps = |a: &std::ops::Range<usize>, b: &std::ops::Range<usize>| {
            a.start < b.end && b.start < a.end
        };
        let max = self.matcher.options().max_findings;
        let candidates = direct.iter().map(|(rule, span, filter)| Shown {
            span: span.clone(),
            secret: Secret::new(data[span.clone()].to_vec()),
            rule: *rule,
            filter: *filter,
        });
        for s in candidates.chain(decoded) {
            if out.len() >= max {
                break;
            }
            let taken = matches
                .iter()
                .map(|m| &m.span)
                .chain(decoded_matches.iter().map(|(outer, _, _)| outer))
                .chain(out.iter().map(|o| &o.span))
                .any(|t| overlaps(t, &s.span));
            if !taken && judge(s.rule, s.span.clone(), s.secret.expose()) == Judgement::Keep {
                out.push(s);
            }
        }
        out
    }

    /// The finding of a shown candidate ([`Scanner::judge_filtered`]): built as any finding
    /// (redaction, preview, provenance), with confidence low and the filter's reason.
    fn filtered_finding(
        &self,
        blob: &Blob<'_>,
        cx: &BlobContext<'_>,
        s: &Shown,
    ) -> Option<Finding> {
        let value = s.secret.expose();
        let m = Match {
            rule: s.rule,
            span: s.span.clone(),
            entropy: crate::matcher::filters::shannon_entropy(value),
            confidence: Confidence::Low,
            notes: Vec::new(),
        };
        let mut f = self.make_finding(blob, cx, s.span.clone(), value, &m)?;
        f.confidence = Confidence::Low;
        f.filtered = Some(s.filter.reason().to_string());
        Some(f)
    }

    /// Leaves in `rejected` the values a filter rejected that the scan keeps as evidence: not at
    /// a place a match reports, reported there but for the filter (allowlists, inline allows and
    /// the source's filter still apply), and wanted by the pool.
    fn judge_rejected(
        &self,
        data: &[u8],
        rejected: &mut Vec<Rejected>,
        matches: &[Match],
        judge: &JudgeRejected<'_>,
    ) {
        if rejected.is_empty() {
            return;
        }
        if self.rejected.is_full() {
            rejected.clear();
            return;
        }
        rejected.retain(|r| {
            let value = &data[r.span.clone()];
            !matches
                .iter()
                .any(|m| m.span.start < r.span.end && r.span.start < m.span.end)
                && judge(r.rule, r.span.clone(), value, true) == Judgement::Keep
                && self.rejected.wants(&SecretId::of(value))
        });
    }

    /// Hands the places [`Scanner::judge_rejected`] kept to the pool, as findings.
    fn keep_rejected(&self, blob: &Blob<'_>, cx: &BlobContext<'_>, rejected: &[Rejected]) {
        for r in rejected {
            let value = &blob.data[r.span.clone()];
            let m = Match {
                rule: r.rule,
                span: r.span.clone(),
                entropy: crate::matcher::filters::shannon_entropy(value),
                confidence: Confidence::High,
                notes: Vec::new(),
            };
            if let Some(f) = self.make_finding(blob, cx, r.span.clone(), value, &m) {
                self.rejected.add(f, r.filter);
            }
        }
    }

    /// Whether a match of rule `ri` with `secret` at `span` of the blob would be reported: the
    /// allowlists, the generic rules' lock-file and minified-line exclusions, inline allow
    /// markers, then the source's `keep`. [`Scanner::make_finding`] applies the same checks.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        blob: &Blob<'_>,
        index: &LineIndex<'_>,
        markers: &[(usize, usize)],
        ri: usize,
        span: &std::ops::Range<usize>,
        secret: &[u8],
        keep: Keep<'_>,
        rejected: bool,
    ) -> Judgement {
        let rule = self.matcher.rule(ri);
        let line_span = index.lines_of(span);
        let lines = &blob.data[line_span.clone()];
        if self
            .matcher
            .options()
            .allow
            .drops(&rule.id, blob.path, secret, lines)
            || (rule.is_generic()
                && (allow::is_lock_file(blob.path)
                    || allow::is_minified_path(blob.path)
                    || lines.len() > allow::MINIFIED_LINE))
        {
            return Judgement::Dropped;
        }
        if inline_allowed(markers, &line_span) {
            return Judgement::Suppressed;
        }
        let (line, _) = index.locate(span.start);
        let (end_line, _) = index.locate(span.end.saturating_sub(1).max(span.start));
        let candidate = Candidate {
            rule: &rule.id,
            secret,
            line,
            end_line,
            rejected,
        };
        if keep(&candidate) {
            Judgement::Keep
        } else {
            Judgement::Dropped
        }
    }

    /// Scans a blob on behalf of a source: counts it in `collector`, and records a blob cut short
    /// at the findings limit as skipped (`too-many-findings`, named by `label`, which is only
    /// built then).
    pub fn scan_counted(
        &self,
        blob: &Blob<'_>,
        scratch: &mut Scratch,
        collector: &Collector,
        label: impl FnOnce() -> String,
    ) -> Vec<Finding> {
        self.scan_counted_keep(blob, scratch, collector, label, &|_| true)
    }

    /// [`Scanner::scan_counted`] with a source filter ([`Scanner::scan_blob_keep`]): the limit
    /// counts only the findings `keep` accepts.
    pub fn scan_counted_keep(
        &self,
        blob: &Blob<'_>,
        scratch: &mut Scratch,
        collector: &Collector,
        label: impl FnOnce() -> String,
        keep: Keep<'_>,
    ) -> Vec<Finding> {
        collector.counted(blob.data.len() as u64);
        let findings = self.scan_blob_keep(blob, scratch, keep);
        if scratch.take_truncated() {
            collector.skip(label(), SkipReason::TooManyFindings);
        }
        findings
    }

    /// [`Scanner::scan_counted`], the findings handed to `collector` as they are.
    pub fn scan_into(&self, blob: &Blob<'_>, scratch: &mut Scratch, collector: &Collector) {
        let findings = self.scan_counted(blob, scratch, collector, || blob.path.to_string());
        collector.add_findings(findings);
    }

    /// Peels encodings off values and scans what is inside: base64 values ending a `key: value` or
    /// `KEY=value` line (Kubernetes Secret `data:`, encoded .env blobs, JSON strings) and
    /// percent-encoded tokens (`%3A%2F%2F` in URLs), nested up to `decode_depth` layers.
    /// Returns (outer span of the encoded value, decoded secret, match in the decoded text), so
    /// findings are reported at the outer location but named by the decoded secret.
    ///
    /// Cost: one pass over line ends and one `memchr` for `%` per blob; decoding and matching run
    /// only on candidates, which are rare. Lock files are skipped (integrity hashes).
    fn decode_pass(
        &self,
        data: &[u8],
        path: &str,
        scratch: &mut Scratch,
        judge: &Judge<'_>,
        filtered: &mut Vec<Shown>,
    ) -> (Vec<(std::ops::Range<usize>, Secret, Match)>, usize) {
        let mut out = Vec::new();
        let mut suppressed = 0;
        if self.decode_depth == 0 || allow::is_lock_file(path) {
            return (out, suppressed);
        }
        let max = self.matcher.options().max_findings;
        for_each_encoded(data, &mut |range, enc| {
            if let Some(text) = enc.decode(&data[range.clone()]) {
                let mut layer = Layer {
                    path,
                    outer: &range,
                    judge,
                    out: &mut out,
                    suppressed: &mut suppressed,
                    filtered: &mut *filtered,
                };
                self.peel(text, scratch, self.decode_depth, &mut layer);
            }
            if out.len() >= max {
                scratch.mark_truncated();
                return false;
            }
            true
        });
        out.dedup_by(|a, b| a.0 == b.0 && a.2.rule == b.2.rule && a.1 == b.1);
        (out, suppressed)
    }

    /// Scans one decoded layer; when nothing is found and depth remains, looks for encoded values
    /// inside it (or treats it as wholly encoded) and goes one layer deeper. Matches are judged
    /// at the outer location with the decoded secret.
    fn peel(&self, text: Secret, scratch: &mut Scratch, depth: usize, layer: &mut Layer<'_, '_>) {
        let t = text.expose();
        if t.len() < 8
            || t.iter()
                .any(|&b| (b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t') || b == 0x7f)
        {
            return;
        }
        let outer = layer.outer.clone();
        let judge = layer.judge;
        let (found, suppressed) =
            self.matcher
                .scan_judged(t, Some(layer.path), scratch, &mut |ri, span| {
                    judge(ri, outer.clone(), &t[span])
                });
        *layer.suppressed += suppressed;
        let room = self.matcher.options().max_findings;
        for (rule, span, filter) in scratch.filtered.drain(..) {
            if layer.filtered.len() < room {
                layer.filtered.push(Shown {
                    span: outer.clone(),
                    secret: Secret::new(t[span].to_vec()),
                    rule,
                    filter,
                });
            }
        }
        if !found.is_empty() || suppressed > 0 {
            for f in found {
                let inner = Secret::new(t[f.span.clone()].to_vec());
                layer.out.push((outer.clone(), inner, f));
            }
            return;
        }
        if depth <= 1 {
            return;
        }
        // Wholly encoded again (base64 of base64), or holding encoded values.
        let whole = t.trim_ascii();
        if let Some(d) = Encoding::Base64.decode(whole) {
            self.peel(d, scratch, depth - 1, layer);
            return;
        }
        for_each_encoded(t, &mut |range, enc| {
            if let Some(d) = enc.decode(&t[range]) {
                self.peel(d, scratch, depth - 1, layer);
            }
            true
        });
    }

    fn make_finding(
        &self,
        blob: &Blob<'_>,
        cx: &BlobContext<'_>,
        span: std::ops::Range<usize>,
        secret: &[u8],
        m: &Match,
    ) -> Option<Finding> {
        let data = blob.data;
        let index = &cx.index;
        let rule = self.matcher.rule(m.rule);
        let (line, column) = index.locate(span.start);
        let (end_line, end_column) = index.locate(span.end.saturating_sub(1).max(span.start));
        let line_span = index.lines_of(&span);
        let lines = &data[line_span.clone()];
        if self
            .matcher
            .options()
            .allow
            .drops(&rule.id, blob.path, secret, lines)
        {
            return None;
        }
        // Lock files (integrity hashes) and minified bundles (mangled identifiers) are where the
        // generic rules cry wolf; provider tokens and credentialed URLs there are still reported.
        let generic = rule.is_generic();
        if generic
            && (allow::is_lock_file(blob.path)
                || allow::is_minified_path(blob.path)
                || lines.len() > allow::MINIFIED_LINE)
        {
            return None;
        }
        let mut severity = validate::severity_hint(&m.notes).unwrap_or(rule.severity);
        let mut confidence = m.confidence;
        let mut notes = m.notes.clone();
        if allow::is_test_path(blob.path) {
            // Usually fake, sometimes a real key pasted into a test: lowered, not hidden.
            severity = allow::lower(severity, 2);
            confidence = Confidence::Low;
            notes.push(("context".into(), "test or example path".into()));
        } else if allow::is_vendored_path(blob.path) {
            confidence = Confidence::Low;
            notes.push((
                "context".into(),
                "vendored or minified third-party code".into(),
            ));
        }
        if inline_allowed(&cx.markers, &line_span) {
            // Judged (and counted) as suppressed before: only here for callers of make_finding
            // that did not judge.
            return None;
        }
        let redacted = finding::redact(secret);
        let preview = finding::preview(data, &span, &redacted, &cx.masks, 120);
        let held = &data[span.clone()];
        let matched = (held != secret).then(|| Secret::new(held.to_vec()));
        let mut f = Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            category: rule.category.clone(),
            severity,
            confidence,
            path: blob.path.to_string(),
            line,
            column,
            end_line,
            end_column,
            span,
            preview,
            redacted,
            entropy: (m.entropy * 1000.0).round() / 1000.0,
            secret_id: SecretId::of(secret),
            fingerprint: Fingerprint::new(None, "", "", 0),
            secret: Secret::new(secret.to_vec()),
            matched,
            notes,
            git: blob.provenance.git(),
            repository: None,
            filtered: None,
        };
        f.refresh_fingerprint();
        Some(f)
    }

    /// Whether a filter depends on `path`: a path allowlist (global or per rule, or a rule's own
    /// paths), a test or example path (lowered confidence), a lock file or a minified bundle
    /// (generic rules off). Content at such a path is judged differently elsewhere.
    pub fn path_sensitive(&self, path: &str) -> bool {
        self.matcher.options().allow.path_dependent(path)
            || self.matcher.rule_paths_match(path)
            || allow::is_test_path(path)
            || allow::is_lock_file(path)
            || allow::is_minified_path(path)
    }

    /// Whether a finding of rule `rule_id` would not be reported at `path`, by path alone: a
    /// path allowlist, or a generic rule in a lock file or minified bundle.
    pub fn path_drops(&self, rule_id: &str, path: &str) -> bool {
        let generic = self
            .matcher
            .rules()
            .iter()
            .any(|cr| cr.rule.id == rule_id && cr.rule.is_generic());
        self.matcher.options().allow.drops_path(rule_id, path)
            || self.matcher.rule_path_matches(rule_id, path)
            || (generic && (allow::is_lock_file(path) || allow::is_minified_path(path)))
    }

    /// Milliseconds since the scanner was built.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// What is built once per blob with matches, for each of its findings.
struct BlobContext<'a> {
    index: LineIndex<'a>,
    /// Inline allow markers ([`inline_markers`]).
    markers: Vec<(usize, usize)>,
    /// Every span of the blob holding a secret, masked in every preview.
    masks: finding::Masks,
}

/// Every inline allow marker in `data`: (offset, length), sorted by offset. Found once per blob
/// with findings, so checking a finding costs a binary search, not a pass over its line (a
/// minified 1 GiB line with many findings would otherwise be quadratic).
fn inline_markers(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = INLINE_ALLOW
        .iter()
        .flat_map(|m| memchr::memmem::find_iter(data, m.as_bytes()).map(|i| (i, m.len())))
        .collect();
    out.sort_unstable();
    out
}

/// True when a marker lies wholly inside `lines` (the lines the secret spans, without the final
/// newline).
fn inline_allowed(markers: &[(usize, usize)], lines: &std::ops::Range<usize>) -> bool {
    let first = markers.partition_point(|&(at, _)| at < lines.start);
    markers[first..]
        .iter()
        .take_while(|&&(at, _)| at < lines.end)
        .any(|&(at, len)| at + len <= lines.end)
}

/// Heuristic used by every source: a blob is binary when its first 8 KiB hold a NUL byte, unless
/// it is UTF-16 text, with a byte-order mark or without one ([`Utf16::sniff`]), which the scanner
/// decodes ([`Scanner::scan_blob`]).
pub fn is_binary(data: &[u8]) -> bool {
    Utf16::of(data).is_none()
        && memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
        && Utf16::sniff(data).is_none()
}

/// Makes the values the filters rejected that sign a token among `findings` findings after all
/// ([`jwt_link::promote`]), `findings` sorted again. The candidates shown as filtered take no
/// part, and one at the place of a promoted value is not shown (the value is reported).
pub fn promote_rejected(findings: &mut Vec<Finding>, pool: Vec<(Finding, &'static str)>) {
    if pool.is_empty() {
        return;
    }
    let mut shown = Vec::new();
    if findings.iter().any(|f| f.filtered.is_some()) {
        let (filtered, reported) = std::mem::take(findings)
            .into_iter()
            .partition(|f| f.filtered.is_some());
        (shown, *findings) = (filtered, reported);
    }
    if jwt_link::promote(findings, pool) == 0 && shown.is_empty() {
        return;
    }
    let place = |f: &Finding| {
        let commit = f.git.as_ref().map(|g| g.commit.clone());
        (f.path.clone(), commit, f.span.clone())
    };
    let reported: std::collections::HashSet<_> = findings.iter().map(place).collect();
    findings.extend(shown.into_iter().filter(|f| !reported.contains(&place(f))));
    findings.sort_by_key(|f| f.sort_key());
}

/// The summary's counts of `findings`: (findings, distinct secrets, filtered candidates shown).
/// A filtered candidate ([`Finding::filtered`]) is no finding.
pub fn count(findings: &[Finding]) -> (u64, u64, u64) {
    let filtered = findings.iter().filter(|f| f.filtered.is_some()).count();
    let secrets: std::collections::HashSet<&SecretId> = findings
        .iter()
        .filter(|f| f.filtered.is_none())
        .map(|f| &f.secret_id)
        .collect();
    (
        (findings.len() - filtered) as u64,
        secrets.len() as u64,
        filtered as u64,
    )
}

/// Builds the summary common to all sources.
pub fn summarize(
    mode: &str,
    findings: &[Finding],
    skipped: &[Skipped],
    errors: &[ScanError],
    files: u64,
    bytes: u64,
    scanner: &Scanner,
) -> Summary {
    let mut skip_counts = std::collections::BTreeMap::new();
    for s in skipped {
        *skip_counts
            .entry(s.reason.as_str().to_string())
            .or_insert(0) += 1;
    }
    let (found, secrets, filtered) = count(findings);
    Summary {
        mode: mode.to_string(),
        files,
        bytes,
        commits: None,
        blobs: None,
        skipped: skip_counts,
        errors: errors.len() as u64,
        findings: found,
        secrets,
        filtered,
        suppressed_inline: scanner.suppressed_inline.load(Ordering::Relaxed),
        suppressed_baseline: 0,
        duration_ms: scanner.elapsed_ms(),
        rules: scanner.matcher.rules().len() as u64,
        repositories: Vec::new(),
    }
}

#[path = "scan_decode.rs"]
pub(crate) mod decode;
pub(crate) use decode::byte_class;
pub use decode::{class_runs, percent_runs};
use decode::{for_each_encoded, Encoding};

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
