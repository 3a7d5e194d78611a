//! Findings and the identities that name them.
//!
//! A finding is reported once per location. It carries two fingerprints (DESIGN.md decision 3):
//! the [`SecretId`], a hash of the secret's value alone, which groups one secret across files,
//! commits and rules and keys baselines so they survive rebases and line shifts; and the location
//! [`Fingerprint`] (`commit:path:rule:line`) as secondary metadata. The raw secret lives in a
//! [`Secret`], which zeroizes on drop, prints `<redacted>` and is never serialized by derive.

use crate::rules::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Range;
use zeroize::Zeroizing;

/// Names a secret by its value: `sha256("leaksweep:" + secret)`, hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretId(String);

impl SecretId {
    pub fn of(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"leaksweep:");
        h.update(secret);
        SecretId(hex::encode(h.finalize()))
    }
    /// Parses a 64-character lower-case hex id.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| SecretId(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A location fingerprint: `commit:path:rule:line` (commit empty outside git history).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn new(commit: Option<&str>, path: &str, rule: &str, line: usize) -> Self {
        Fingerprint(format!("{}:{path}:{rule}:{line}", commit.unwrap_or("")))
    }
    pub fn from_string(s: String) -> Self {
        Fingerprint(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Raw secret bytes: zeroized on drop, redacted in `Debug`, not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// The secret as text (lossy for invalid UTF-8); only for `--show-secrets` and 0600 files.
    pub fn expose_str(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How sure we are that a finding is a real, live secret.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Where in git a blob was found (filled in by the history source for blobs with findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GitProvenance {
    /// The commit that first introduced the blob (oldest by topology).
    pub commit: String,
    pub author_name: String,
    pub author_email: String,
    /// Author date, RFC 3339.
    pub date: String,
    pub summary: String,
    /// The blob's object id (empty for commit and tag messages).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blob: String,
    /// `file`, `commit-message` or `tag-message`.
    pub kind: String,
    /// Other places holding the secret (history scans report a secret once): each other path,
    /// or with `--all-locations` every (commit, path) where it appears.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<GitLocation>,
    /// Blobs (file versions) this finding stands for: the history scan keeps one finding per
    /// (secret, rule, path) as blobs are scanned, counting the rest (0 means 1).
    #[serde(skip)]
    pub versions: usize,
    /// With `--all-locations`: the other blobs it stands for, (object id, line), so that their
    /// places can be listed too.
    #[serde(skip)]
    pub other_blobs: Vec<(String, usize)>,
}

/// One (commit, path) occurrence of a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GitLocation {
    pub commit: String,
    pub path: String,
    /// 1-based line of the secret in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One reported secret at one location.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub description: String,
    pub category: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Display path (relative to the scan root where possible; `-` for stdin).
    pub path: String,
    /// 1-based line and column (in bytes) of the secret's first byte.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Byte span of the secret within the scanned blob (half-open).
    pub span: Range<usize>,
    /// The line holding the secret with the secret masked, trimmed to a readable width.
    pub preview: String,
    /// The secret masked (`Ab****** (43 chars)`).
    pub redacted: String,
    pub entropy: f64,
    pub secret_id: SecretId,
    pub fingerprint: Fingerprint,
    pub secret: Secret,
    /// Validator notes (e.g. decoded JWT claims), key/value.
    pub notes: Vec<(String, String)>,
    pub git: Option<GitProvenance>,
}

impl Finding {
    /// Sort key: path, then position, then rule.
    pub fn sort_key(&self) -> (String, String, usize, usize, String) {
        let commit = self
            .git
            .as_ref()
            .map(|g| g.commit.clone())
            .unwrap_or_default();
        (
            self.path.clone(),
            commit,
            self.line,
            self.column,
            self.rule_id.clone(),
        )
    }

    /// Recomputes the location fingerprint after provenance changed.
    pub fn refresh_fingerprint(&mut self) {
        let commit = self.git.as_ref().map(|g| g.commit.as_str());
        self.fingerprint = Fingerprint::new(commit, &self.path, &self.rule_id, self.line);
    }
}

/// Masks a secret: keeps a short prefix (at most 4 bytes, at most a fifth of it) and the length.
pub fn redact(secret: &[u8]) -> String {
    let keep = (secret.len() / 5).min(4);
    let head: String = String::from_utf8_lossy(&secret[..keep])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    format!("{head}{} ({} chars)", "*".repeat(6), secret.len())
}

/// Builds the preview: the secret's line with the secret replaced by its redaction, at most
/// `width` characters around it, control characters removed.
///
/// Only `4 * width` bytes on either side are looked at (a character is at most 4 bytes), so a
/// finding on a 1 GiB single line costs what one on a short line does.
pub fn preview(data: &[u8], span: &Range<usize>, redacted: &str, width: usize) -> String {
    let reach = width.saturating_mul(4) + 16;
    let lo = span.start.saturating_sub(reach);
    let hi = span.end.saturating_add(reach).min(data.len());
    let line_start = memchr::memrchr(b'\n', &data[lo..span.start]).map_or(lo, |i| lo + i + 1);
    // Multi-line secret: show the first line only, masked to its end.
    let multiline = memchr::memchr(b'\n', &data[span.clone()]).is_some();
    let before = clean(&data[line_start..span.start]);
    let after = if multiline {
        String::new()
    } else {
        let line_end = memchr::memchr(b'\n', &data[span.end..hi]).map_or(hi, |i| span.end + i);
        clean(&data[span.end..line_end])
    };
    let budget = width.saturating_sub(redacted.len()) / 2;
    let before = tail_chars(before.trim_start(), budget);
    let after = head_chars(after.trim_end(), budget);
    format!("{before}{redacted}{after}")
}

fn clean(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

fn tail_chars(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        s.to_string()
    } else {
        format!("…{}", s.chars().skip(count - n).collect::<String>())
    }
}

fn head_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Maps byte offsets to 1-based (line, column) and to the bounds of their line; built once per
/// blob that has findings.
///
/// It keeps three numbers per 4 KiB block, not one per line: a blob of 1 GiB of newlines would
/// otherwise need 8 GiB of line starts. A lookup reads at most one block, so a finding on a 1 GiB
/// single line costs what one on a short line does.
pub struct LineIndex<'a> {
    data: &'a [u8],
    /// Per block: newlines before the block's first byte.
    lines_before: Vec<usize>,
    /// Per block: start of the line holding the block's first byte.
    line_start: Vec<usize>,
    /// Per block: the first newline at or after the block's first byte (`data.len()` if none).
    next_newline: Vec<usize>,
}

const LINE_BLOCK: usize = 4096;

impl<'a> LineIndex<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let blocks = data.len() / LINE_BLOCK + 1;
        let mut lines_before = Vec::with_capacity(blocks);
        let mut line_start = Vec::with_capacity(blocks);
        let mut next_newline = vec![data.len(); blocks];
        let (mut count, mut start) = (0, 0);
        for b in 0..blocks {
            lines_before.push(count);
            line_start.push(start);
            let lo = (b * LINE_BLOCK).min(data.len());
            let hi = (lo + LINE_BLOCK).min(data.len());
            for i in memchr::memchr_iter(b'\n', &data[lo..hi]) {
                if count == lines_before[b] {
                    next_newline[b] = lo + i;
                }
                count += 1;
                start = lo + i + 1;
            }
        }
        for b in (0..blocks.saturating_sub(1)).rev() {
            if next_newline[b] == data.len() {
                next_newline[b] = next_newline[b + 1];
            }
        }
        LineIndex {
            data,
            lines_before,
            line_start,
            next_newline,
        }
    }

    /// (block, its first byte) for `offset`, clamped to the data.
    fn block(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        let b = (offset / LINE_BLOCK).min(self.lines_before.len() - 1);
        (b, b * LINE_BLOCK)
    }

    /// 1-based line and column (in bytes) of byte `offset`.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        let (b, lo) = self.block(offset);
        let before = &self.data[lo..offset];
        let line = self.lines_before[b] + memchr::memchr_iter(b'\n', before).count() + 1;
        (line, offset - self.start_of_line(offset) + 1)
    }

    /// First byte of the line holding `offset`.
    fn start_of_line(&self, offset: usize) -> usize {
        let offset = offset.min(self.data.len());
        let (b, lo) = self.block(offset);
        memchr::memrchr(b'\n', &self.data[lo..offset]).map_or(self.line_start[b], |i| lo + i + 1)
    }

    /// End of the line holding `offset` (its newline, or the end of the data).
    fn end_of_line(&self, offset: usize) -> usize {
        let offset = offset.min(self.data.len());
        let (b, lo) = self.block(offset);
        let hi = (lo + LINE_BLOCK).min(self.data.len());
        match memchr::memchr(b'\n', &self.data[offset..hi]) {
            Some(i) => offset + i,
            None => self
                .next_newline
                .get(b + 1)
                .copied()
                .unwrap_or(self.data.len()),
        }
    }

    /// The lines a byte span touches, without the last line's newline.
    pub fn lines_of(&self, span: &Range<usize>) -> Range<usize> {
        let last = span.end.saturating_sub(1).max(span.start);
        self.start_of_line(span.start)..self.end_of_line(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_id_is_value_only() {
        assert_eq!(SecretId::of(b"abc"), SecretId::of(b"abc"));
        assert_ne!(SecretId::of(b"abc"), SecretId::of(b"abd"));
        assert_eq!(SecretId::of(b"abc").as_str().len(), 64);
    }

    #[test]
    fn redaction_hides_most() {
        let r = redact(b"LD0FEHeQp838JYrrxnzfDzrMy0HRrucxLDBOvysNFxA");
        assert_eq!(r, "LD0F****** (43 chars)");
        assert_eq!(redact(b"abcdefg"), "a****** (7 chars)");
        assert_eq!(format!("{:?}", Secret::new(b"x".to_vec())), "<redacted>");
    }

    #[test]
    fn line_index() {
        let idx = LineIndex::new(b"a\nbc\n\nd");
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(3), (2, 2));
        assert_eq!(idx.locate(6), (4, 1));
        assert_eq!(idx.lines_of(&(3..4)), 2..4);
        assert_eq!(idx.lines_of(&(2..7)), 2..7);
        assert_eq!(idx.lines_of(&(5..5)), 5..5);
    }

    /// The block index agrees with a line-by-line count at every line's ends and at points
    /// inside it, across block boundaries, on long lines, runs of newlines and data without a
    /// final newline.
    #[test]
    fn line_index_matches_naive_count() {
        let mut data = Vec::new();
        let mut seed = 7u32;
        for _ in 0..3000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = match seed % 7 {
                0 => 0,
                1 => 9000,
                _ => (seed >> 8) as usize % 200,
            };
            data.extend(std::iter::repeat_n(b'x', len));
            data.push(b'\n');
        }
        data.extend_from_slice(b"tail");
        let idx = LineIndex::new(&data);
        let mut start = 0;
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            let end = start + line.len();
            for o in [
                start,
                start + 1,
                start + line.len() / 3,
                end.saturating_sub(1),
                end,
            ] {
                let o = o.clamp(start, end);
                assert_eq!(idx.locate(o), (n + 1, o - start + 1), "offset {o}");
                assert_eq!(idx.lines_of(&(o..o + 1)), start..end, "offset {o}");
            }
            start = end + 1;
        }
    }

    #[test]
    fn preview_masks_secret() {
        let data = b"x=1\nJWT_SECRET=abcdefghijkl # note\n";
        let p = preview(data, &(15..27), "ab***", 80);
        assert_eq!(p, "JWT_SECRET=ab*** # note");
    }
}
