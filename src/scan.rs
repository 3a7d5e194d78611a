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
use crate::matcher::{allow, validate, Judgement, Match, Matcher, Scratch};
use base64::Engine;
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
}

/// A source's filter: true for the candidates it reports (see [`Scanner::scan_blob_keep`]).
pub type Keep<'a> = &'a dyn Fn(&Candidate<'_>) -> bool;

/// The scanner's judgement of one match: rule index, span in the blob, secret.
type Judge<'a> = dyn Fn(usize, std::ops::Range<usize>, &[u8]) -> Judgement + 'a;

/// One decoding pass's context: where the encoded value sits and where decoded matches go.
struct Layer<'a, 'j> {
    path: &'a str,
    outer: &'a std::ops::Range<usize>,
    judge: &'a Judge<'j>,
    out: &'a mut Vec<(std::ops::Range<usize>, Secret, Match)>,
    suppressed: &'a mut usize,
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
    /// Findings suppressed by inline allow comments.
    pub suppressed_inline: u64,
    /// Findings dropped because the baseline or `.leaksweepignore` lists them.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed_baseline: u64,
    pub duration_ms: u64,
    pub rules: u64,
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
}

impl Scanner {
    pub fn new(matcher: Matcher) -> Self {
        Scanner {
            decode_depth: matcher.options().decode_depth,
            matcher,
            started: Instant::now(),
            suppressed_inline: AtomicU64::new(0),
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
    pub fn scan_blob_keep(
        &self,
        blob: &Blob<'_>,
        scratch: &mut Scratch,
        keep: Keep<'_>,
    ) -> Vec<Finding> {
        let data = blob.data;
        scratch.take_truncated();
        if self.matcher.options().allow.skips_path(blob.path) {
            return Vec::new();
        }
        let index = std::cell::OnceCell::new();
        let markers = std::cell::OnceCell::new();
        let judge = |ri: usize, span: std::ops::Range<usize>, secret: &[u8]| {
            let index = index.get_or_init(|| LineIndex::new(data));
            let markers = markers.get_or_init(|| inline_markers(data));
            self.judge(blob, index, markers, ri, &span, secret, keep)
        };
        let (matches, suppressed) =
            self.matcher
                .scan_judged(data, Some(blob.path), scratch, &mut |ri, span| {
                    judge(ri, span.clone(), &data[span])
                });
        let (decoded, suppressed_decoded) = self.decode_pass(data, blob.path, scratch, &judge);
        self.suppressed_inline
            .fetch_add((suppressed + suppressed_decoded) as u64, Ordering::Relaxed);
        if matches.is_empty() && decoded.is_empty() {
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
        let max = self.matcher.options().max_findings;
        if out.len() > max {
            out.truncate(max);
            scratch.mark_truncated();
        }
        out
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

/// How a candidate value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Base64,
    Percent,
}

impl Encoding {
    /// Decodes `raw`; `None` when it is not valid in this encoding or decodes to nothing new.
    fn decode(self, raw: &[u8]) -> Option<Secret> {
        match self {
            Encoding::Base64 => {
                if raw.len() < 16 {
                    return None;
                }
                let engine = base64::engine::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
                );
                engine.decode(raw).ok().map(Secret::new)
            }
            Encoding::Percent => {
                let mut out = Vec::with_capacity(raw.len());
                let mut i = 0;
                let mut changed = false;
                while i < raw.len() {
                    if raw[i] == b'%' && i + 2 < raw.len() {
                        if let (Some(h), Some(l)) = (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                            out.push(h << 4 | l);
                            i += 3;
                            changed = true;
                            continue;
                        }
                    }
                    out.push(raw[i]);
                    i += 1;
                }
                changed.then(|| Secret::new(out))
            }
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Longest encoded value decoded: a Kubernetes Secret holds at most 1 MiB, and a longer run of
/// base64 is a data blob (an image, an archive), not a wrapped secret.
const MAX_ENCODED: usize = 1 << 20;

/// Calls `f` on each encoded value worth decoding, in order, until it returns false: base64
/// values (24 characters to [`MAX_ENCODED`]) that end a line after `:` or `=` (optionally quoted,
/// optionally followed by `,`), and tokens holding `%XX` escapes. Streaming, so a file of ten
/// million encoded lines needs no list of them.
fn for_each_encoded(data: &[u8], f: &mut dyn FnMut(std::ops::Range<usize>, Encoding) -> bool) {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    for nl in ends {
        let line_start = start;
        start = nl + 1;
        // Walk back over the line's tail: spaces, `,`, one closing quote, padding, base64.
        let mut e = nl;
        while e > line_start && matches!(data[e - 1], b'\r' | b' ' | b'\t' | b',') {
            e -= 1;
        }
        let quoted = e > line_start && matches!(data[e - 1], b'"' | b'\'');
        if quoted {
            e -= 1;
        }
        let mut s = e;
        while s > line_start && e - s < 2 && data[s - 1] == b'=' {
            s -= 1;
        }
        while s > line_start && is_b64(data[s - 1]) {
            s -= 1;
        }
        if e - s < 24 || e - s > MAX_ENCODED {
            continue;
        }
        let mut p = s;
        if quoted && p > line_start && matches!(data[p - 1], b'"' | b'\'') {
            p -= 1;
        }
        while p > line_start && matches!(data[p - 1], b' ' | b'\t') {
            p -= 1;
        }
        if p > line_start && matches!(data[p - 1], b':' | b'=') && !f(s..e, Encoding::Base64) {
            return;
        }
    }
    // Percent-encoded tokens: a `%XX` escape, grown to the surrounding run of URL characters.
    for r in percent_runs(data) {
        if (12..=MAX_ENCODED).contains(&r.len()) && !f(r, Encoding::Percent) {
            return;
        }
    }
}

/// The percent-encoded tokens of `data`, in order and not overlapping: each `%XX` escape grown to
/// the run of URL characters around it. The scanner's decode pass and the rewrite (which writes
/// replacements back in the same encoding) both find them here.
pub fn percent_runs(data: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let url_char = |b: u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>');
    let mut last_end = 0;
    memchr::memchr_iter(b'%', data).filter_map(move |i| {
        if i < last_end || i + 2 >= data.len() {
            return None;
        }
        if hex_val(data[i + 1]).is_none() || hex_val(data[i + 2]).is_none() {
            return None;
        }
        let mut s = i;
        while s > last_end && url_char(data[s - 1]) {
            s -= 1;
        }
        let mut e = i + 3;
        while e < data.len() && url_char(data[e]) {
            e += 1;
        }
        last_end = e;
        Some(s..e)
    })
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

/// Heuristic used by every source: a blob is binary when its first 8 KiB hold a NUL byte.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
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
    let secrets: std::collections::HashSet<&SecretId> =
        findings.iter().map(|f| &f.secret_id).collect();
    Summary {
        mode: mode.to_string(),
        files,
        bytes,
        commits: None,
        blobs: None,
        skipped: skip_counts,
        errors: errors.len() as u64,
        findings: findings.len() as u64,
        secrets: secrets.len() as u64,
        suppressed_inline: scanner.suppressed_inline.load(Ordering::Relaxed),
        suppressed_baseline: 0,
        duration_ms: scanner.elapsed_ms(),
        rules: scanner.matcher.rules().len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::MatchOptions;
    use crate::source::{self, stdin::Stdin, worktree::WalkOptions};
    use rand::distributions::Alphanumeric;
    use rand::{Rng, SeedableRng};

    /// A seeded generator; the seed is printed (shown when the test fails) and can be replayed
    /// with `LEAKSWEEP_TEST_SEED`.
    fn rng() -> (u64, rand::rngs::StdRng) {
        let seed = std::env::var("LEAKSWEEP_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("LEAKSWEEP_TEST_SEED={seed}");
        (seed, rand::rngs::StdRng::seed_from_u64(seed))
    }

    /// A generated Stripe live key: `sk_live_` and 40 random letters and digits.
    fn stripe_key(rng: &mut impl Rng) -> String {
        let tail: String = rng
            .sample_iter(Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        format!("sk_live_{tail}")
    }

    fn scanner(max_findings: usize) -> Scanner {
        let rules = crate::rules::builtin().expect("built-in rules");
        let opts = MatchOptions {
            max_findings,
            ..MatchOptions::default()
        };
        Scanner::new(Matcher::new(rules).expect("matcher").with_options(opts))
    }

    fn object_id(rng: &mut impl Rng) -> ObjectId {
        ObjectId::from_bytes(&rng.gen::<[u8; 20]>()).expect("20 bytes")
    }

    /// `lines` filler lines, then `    charge(KEY);`: the key at line `lines + 1`, column 12.
    fn blob_text(lines: usize, key: &str) -> String {
        let mut text: String = (0..lines).map(|i| format!("// step {i}\n")).collect();
        text.push_str(&format!("    charge({key});\nend\n"));
        text
    }

    #[test]
    fn one_secret_one_finding_where_it_is() {
        let (seed, mut rng) = rng();
        let s = scanner(1000);
        let key = stripe_key(&mut rng);
        let lines = rng.gen_range(0..6);
        let text = blob_text(lines, &key);
        let at = text.find(&key).expect("key in text");
        let found = s.scan_blob(
            &Blob::file(text.as_bytes(), "src/pay.rs"),
            &mut Scratch::default(),
        );
        assert_eq!(found.len(), 1, "seed {seed}: {found:?}");
        let f = &found[0];
        assert_eq!(f.rule_id, "stripe-secret-key", "seed {seed}");
        assert_eq!((f.line, f.column), (lines + 1, 12), "seed {seed}");
        assert_eq!(
            (f.end_line, f.end_column),
            (lines + 1, 11 + key.len()),
            "seed {seed}"
        );
        assert_eq!(f.span, at..at + key.len(), "seed {seed}");
        assert_eq!(f.secret.expose(), key.as_bytes(), "seed {seed}");
        assert_eq!(f.secret_id, SecretId::of(key.as_bytes()), "seed {seed}");
        assert!(f.matched.is_none(), "seed {seed}");
        assert!(
            !f.preview.contains(&key),
            "seed {seed}: preview shows the key"
        );
        assert!(
            f.git.is_none(),
            "seed {seed}: a work-tree file has no git provenance"
        );
        assert_eq!(
            f.fingerprint.as_str(),
            format!(":src/pay.rs:stripe-secret-key:{}", lines + 1),
            "seed {seed}"
        );
    }

    #[test]
    fn findings_carry_the_blob_provenance() {
        let (seed, mut rng) = rng();
        let s = scanner(1000);
        let key = stripe_key(&mut rng);
        let text = blob_text(2, &key);
        let (blob, commit, tag) = (
            BlobId(object_id(&mut rng)),
            CommitId(object_id(&mut rng)),
            object_id(&mut rng),
        );
        let scan = |provenance| {
            let found = s.scan_blob(
                &Blob::new(text.as_bytes(), "app/.env", provenance),
                &mut Scratch::default(),
            );
            assert_eq!(found.len(), 1, "seed {seed}: {provenance:?}");
            found.into_iter().next().unwrap()
        };

        let f = scan(Provenance::GitBlob {
            blob,
            commit: Some(commit),
        });
        let g = f.git.as_ref().expect("git provenance");
        assert_eq!(g.commit, commit.to_string(), "seed {seed}");
        assert_eq!(g.blob, blob.to_string(), "seed {seed}");
        assert_eq!(g.kind, "file", "seed {seed}");
        assert_eq!(g.ids.commit, Some(commit), "seed {seed}");
        assert_eq!(g.ids.blob, Some(blob), "seed {seed}");
        assert_eq!(
            f.fingerprint.as_str(),
            format!("{commit}:app/.env:stripe-secret-key:3"),
            "seed {seed}"
        );
        assert!(g.author_name.is_empty() && g.date.is_empty(), "seed {seed}");

        let g = scan(Provenance::Unreachable(blob))
            .git
            .expect("git provenance");
        assert_eq!((g.commit.as_str(), g.kind.as_str()), ("", "unreachable"));
        assert_eq!(g.blob, blob.to_string(), "seed {seed}");

        let g = scan(Provenance::CommitMessage(commit))
            .git
            .expect("git provenance");
        assert_eq!(g.commit, commit.to_string(), "seed {seed}");
        assert_eq!((g.blob.as_str(), g.kind.as_str()), ("", "commit-message"));

        let g = scan(Provenance::TagMessage {
            tag,
            name: "refs/tags/v1.2",
        })
        .git
        .expect("git provenance");
        assert_eq!(g.commit, tag.to_string(), "seed {seed}");
        assert_eq!(
            (g.kind.as_str(), g.summary.as_str()),
            ("tag-message", "tag v1.2")
        );
        assert_eq!((g.ids.tag, g.ids.commit), (Some(tag), None), "seed {seed}");

        for p in [
            Provenance::Stdin,
            Provenance::Staged(blob),
            Provenance::File,
        ] {
            assert!(scan(p).git.is_none(), "seed {seed}: {p:?}");
        }
    }

    #[test]
    fn decode_pass_finds_a_base64_wrapped_key() {
        let (seed, mut rng) = rng();
        let s = scanner(1000);
        let key = stripe_key(&mut rng);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
        let text = format!("kind: Config\npayload: {encoded}\n");
        let at = text.find(&encoded).expect("encoded in text");
        let found = s.scan_blob(
            &Blob::file(text.as_bytes(), "k8s.yaml"),
            &mut Scratch::default(),
        );
        assert_eq!(found.len(), 1, "seed {seed}: {found:?}");
        let f = &found[0];
        assert_eq!(f.rule_id, "stripe-secret-key", "seed {seed}");
        // Named by the decoded key, reported where the encoded text is.
        assert_eq!(f.secret.expose(), key.as_bytes(), "seed {seed}");
        assert_eq!(f.span, at..at + encoded.len(), "seed {seed}");
        assert_eq!((f.line, f.column), (2, 10), "seed {seed}");
        assert_eq!(
            f.matched.as_ref().map(|m| m.expose()),
            Some(encoded.as_bytes()),
            "seed {seed}"
        );

        // Without the decode pass the encoded key is not seen.
        let rules = crate::rules::builtin().expect("built-in rules");
        let opts = MatchOptions {
            decode_depth: 0,
            ..MatchOptions::default()
        };
        let plain = Scanner::new(Matcher::new(rules).expect("matcher").with_options(opts));
        let found = plain.scan_blob(
            &Blob::file(text.as_bytes(), "k8s.yaml"),
            &mut Scratch::default(),
        );
        assert!(
            found.iter().all(|f| f.secret.expose() != key.as_bytes()),
            "seed {seed}"
        );
    }

    #[test]
    fn binary_and_too_large_input_are_skips_with_their_reason() {
        let (seed, mut rng) = rng();
        let s = scanner(1000);
        let key = stripe_key(&mut rng);
        let text = blob_text(1, &key);
        let max = text.len() as u64;
        let stdin = |data: Vec<u8>, max_size| {
            source::scan(
                Stdin {
                    input: &data[..],
                    max_size,
                },
                &s,
            )
            .expect("stdin scan")
        };

        let mut binary = text.clone().into_bytes();
        binary.insert(rng.gen_range(0..binary.len()), 0);
        let got = stdin(binary, max + 1);
        assert!(got.findings.is_empty(), "seed {seed}");
        assert_eq!(got.skipped.len(), 1, "seed {seed}");
        assert_eq!(
            (got.skipped[0].path.as_str(), got.skipped[0].reason),
            ("-", SkipReason::Binary)
        );

        let got = stdin(text.clone().into_bytes(), max - 1);
        assert!(got.findings.is_empty(), "seed {seed}");
        assert_eq!(got.skipped[0].reason, SkipReason::TooLarge, "seed {seed}");
        assert_eq!((got.files, got.bytes), (0, 0), "seed {seed}");

        // At exactly the limit it is scanned.
        let got = stdin(text.clone().into_bytes(), max);
        assert!(got.skipped.is_empty(), "seed {seed}");
        assert_eq!(got.findings.len(), 1, "seed {seed}");
        assert_eq!((got.mode, got.files, got.bytes), ("stdin", 1, max));

        // The work tree names each skipped file.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bin = text.clone().into_bytes();
        bin.insert(0, 0);
        std::fs::write(dir.path().join("blob.bin"), bin).expect("write");
        std::fs::write(dir.path().join("big.txt"), text.repeat(2)).expect("write");
        std::fs::write(dir.path().join("ok.txt"), &text).expect("write");
        let walk = WalkOptions {
            roots: vec![dir.path().to_path_buf()],
            respect_ignore: true,
            // The binary file is one byte longer than the text.
            max_file_size: max + 1,
            threads: 1,
        };
        let got = source::scan(walk, &s).expect("walk");
        let skips: Vec<(String, SkipReason)> = got
            .skipped
            .iter()
            .map(|k| {
                let name = std::path::Path::new(&k.path).file_name().unwrap();
                (name.to_string_lossy().into_owned(), k.reason)
            })
            .collect();
        assert_eq!(
            skips,
            [
                ("big.txt".to_string(), SkipReason::TooLarge),
                ("blob.bin".to_string(), SkipReason::Binary)
            ],
            "seed {seed}"
        );
        assert_eq!(got.findings.len(), 1, "seed {seed}");
        assert!(got.findings[0].path.ends_with("ok.txt"), "seed {seed}");
    }

    #[test]
    fn a_blob_over_the_cap_is_cut_and_recorded() {
        let (seed, mut rng) = rng();
        let s = scanner(2);
        let keys: Vec<String> = (0..3).map(|_| stripe_key(&mut rng)).collect();
        let text: String = keys.iter().map(|k| format!("k = {k}\n")).collect();
        let sink = Collector::default();
        let found = s.scan_counted(
            &Blob::file(text.as_bytes(), "many.env"),
            &mut Scratch::default(),
            &sink,
            || "many.env".into(),
        );
        assert_eq!(found.len(), 2, "seed {seed}");
        let (_, skipped, _, files, _) = sink.finish();
        assert_eq!(files, 1, "seed {seed}");
        assert_eq!(skipped.len(), 1, "seed {seed}");
        assert_eq!(
            (skipped[0].path.as_str(), skipped[0].reason),
            ("many.env", SkipReason::TooManyFindings)
        );
    }

    /// Matches the source's filter rejects, and matches allowed inline, are judged before the
    /// cap counts: they cannot use it up and hide a finding that is reported.
    #[test]
    fn judged_before_the_cap() {
        let (seed, mut rng) = rng();
        let s = scanner(1);
        let (old, allowed, new) = (
            stripe_key(&mut rng),
            stripe_key(&mut rng),
            stripe_key(&mut rng),
        );
        let text = format!("a = {old}\nb = {allowed} # leaksweep:allow\nc = {new}\n");
        let blob = Blob::file(text.as_bytes(), "app.env");
        let mut scratch = Scratch::default();

        let found = s.scan_blob_keep(&blob, &mut scratch, &|c| c.line != 1);
        assert_eq!(found.len(), 1, "seed {seed}");
        assert_eq!(found[0].secret.expose(), new.as_bytes(), "seed {seed}");
        assert_eq!(found[0].line, 3, "seed {seed}");
        assert!(
            !scratch.take_truncated(),
            "seed {seed}: cut short by filtered matches"
        );
        assert_eq!(
            s.suppressed_inline.load(Ordering::Relaxed),
            1,
            "seed {seed}"
        );

        // Keeping everything, the cap of one is reached by the first line's key.
        let found = s.scan_blob(&blob, &mut scratch);
        assert_eq!(found.len(), 1, "seed {seed}");
        assert_eq!(found[0].secret.expose(), old.as_bytes(), "seed {seed}");
        assert!(scratch.take_truncated(), "seed {seed}");
    }
}
