//! The pipeline: sources push blobs, the matcher finds secrets, one collector gathers findings.
//!
//! Push model: a source calls [`Scanner::scan_blob`] from its own worker threads, each with its own
//! [`Scratch`]; the scanner turns matches into [`Finding`]s and hands them to the shared
//! [`Collector`] (a mutex-guarded vector: findings are rare, so contention is negligible). A failure
//! to read one item is recorded in the collector with its path and the scan goes on; the command
//! turns a non-zero error count into exit code 2 at the end.

use crate::finding::{self, Finding, Fingerprint, LineIndex, Secret, SecretId};
use crate::matcher::{Match, Matcher, Scratch};
use base64::Engine;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Bytes of a blob handed to the scanner, with its display path.
pub struct Blob<'a> {
    pub data: &'a [u8],
    /// Display path (`-` for stdin, `commit message` for commit messages).
    pub path: &'a str,
}

/// Why an item was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Binary,
    TooLarge,
    Symlink,
    LfsPointer,
    Submodule,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too-large",
            SkipReason::Symlink => "symlink",
            SkipReason::LfsPointer => "lfs-pointer",
            SkipReason::Submodule => "submodule",
        }
    }
}

/// One skipped item.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

/// One item that could not be read.
#[derive(Debug, Clone, Serialize)]
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
    /// Takes everything collected, findings sorted for deterministic output.
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
            self.items.into_inner(),
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
    pub duration_ms: u64,
    pub rules: u64,
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
    /// How many layers of base64 to peel off encoded values (0 disables decoding).
    pub decode_depth: usize,
    started: Instant,
    pub suppressed_inline: AtomicU64,
}

impl Scanner {
    pub fn new(matcher: Matcher) -> Self {
        Scanner {
            matcher,
            decode_depth: 2,
            started: Instant::now(),
            suppressed_inline: AtomicU64::new(0),
        }
    }

    /// Scans one blob; called from any worker thread with that thread's scratch.
    pub fn scan_blob(&self, blob: &Blob<'_>, scratch: &mut Scratch) -> Vec<Finding> {
        let data = blob.data;
        let matches = self.matcher.scan(data, Some(blob.path), scratch);
        let decoded = self.decode_pass(data, blob.path, scratch);
        if matches.is_empty() && decoded.is_empty() {
            return Vec::new();
        }
        let index = LineIndex::new(data);
        let markers = inline_markers(data);
        let mut out = Vec::with_capacity(matches.len() + decoded.len());
        for m in &matches {
            out.extend(self.make_finding(
                blob,
                &index,
                &markers,
                m.span.clone(),
                &data[m.span.clone()],
                m,
            ));
        }
        for (outer, inner, m) in &decoded {
            // Already reported at this outer location by a direct rule: keep the direct finding.
            if matches
                .iter()
                .any(|d| d.span.start < outer.end && outer.start < d.span.end)
            {
                continue;
            }
            out.extend(self.make_finding(blob, &index, &markers, outer.clone(), inner.expose(), m));
        }
        out
    }

    /// Finds base64-encoded values (`key: <base64>`, as in Kubernetes Secret `data:` fields and
    /// encoded .env blobs), decodes those that are printable text, and scans the decoded text.
    /// Returns (outer span of the encoded value, decoded secret, match in the decoded text).
    fn decode_pass(
        &self,
        data: &[u8],
        path: &str,
        scratch: &mut Scratch,
    ) -> Vec<(std::ops::Range<usize>, Secret, Match)> {
        let mut out = Vec::new();
        if self.decode_depth == 0 || memchr::memmem::find(data, b"data:").is_none() {
            return out;
        }
        for caps in encoded_value_regex().captures_iter(data) {
            let Some(m) = caps.get(1) else { continue };
            let mut text = Secret::new(
                match base64::engine::general_purpose::STANDARD.decode(m.as_bytes()) {
                    Ok(d) => d,
                    Err(_) => continue,
                },
            );
            for _ in 0..self.decode_depth {
                if text
                    .expose()
                    .iter()
                    .any(|&b| (b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t') || b == 0x7f)
                {
                    break;
                }
                let found = self.matcher.scan(text.expose(), Some(path), scratch);
                if !found.is_empty() {
                    for f in found {
                        let inner = Secret::new(text.expose()[f.span.clone()].to_vec());
                        out.push((m.range(), inner, f));
                    }
                    break;
                }
                // Nested encoding: base64 of base64.
                match base64::engine::general_purpose::STANDARD.decode(text.expose().trim_ascii()) {
                    Ok(d) => text = Secret::new(d),
                    Err(_) => break,
                }
            }
        }
        out
    }

    fn make_finding(
        &self,
        blob: &Blob<'_>,
        index: &LineIndex,
        markers: &[(usize, usize)],
        span: std::ops::Range<usize>,
        secret: &[u8],
        m: &Match,
    ) -> Option<Finding> {
        let data = blob.data;
        let rule = self.matcher.rule(m.rule);
        let (line, column) = index.locate(span.start);
        let (end_line, end_column) = index.locate(span.end.saturating_sub(1).max(span.start));
        let lines =
            index.line_bounds(line, data.len()).start..index.line_bounds(end_line, data.len()).end;
        if inline_allowed(markers, &lines) {
            self.suppressed_inline.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let redacted = finding::redact(secret);
        let preview = finding::preview(data, &span, &redacted, 120);
        let mut f = Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            confidence: m.confidence,
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
            notes: m.notes.clone(),
            git: None,
        };
        f.refresh_fingerprint();
        Some(f)
    }

    /// Milliseconds since the scanner was built.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// A base64 value standing alone after `:` or `=` on its line.
fn encoded_value_regex() -> &'static regex::bytes::Regex {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::bytes::Regex::new(r#"(?m)[:=][ \t]*["']?([A-Za-z0-9+/]{16,}={0,2})["']?[ \t]*\r?$"#)
            // Invariant: a constant pattern that every scan test compiles; it cannot fail at run time.
            .expect("valid regex")
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
        duration_ms: scanner.elapsed_ms(),
        rules: scanner.matcher.rules().len() as u64,
    }
}
