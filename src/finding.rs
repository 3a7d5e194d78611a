//! Findings and the identities that name them.
//!
//! A finding is reported once per location. It carries two fingerprints (DESIGN.md decision 3):
//! the [`SecretId`], a hash of the secret's value alone, which groups one secret across files,
//! commits and rules and keys baselines so they survive rebases and line shifts; and the location
//! [`Fingerprint`] (`commit:path:rule:line`) as secondary metadata. The raw secret lives in a
//! [`Secret`], which zeroizes on drop, prints `<redacted>` and is never serialized by derive.
//!
//! Redaction (DESIGN.md decision 4) lives here too: [`preview`] masks every secret span of the
//! blob ([`Masks`]), [`Redactor`] masks every secret value a run found wherever it occurs in other
//! text, and [`sanitize`] escapes control characters; [`Finding::clean`] applies both to every
//! repository-derived field before reporters see it.

use crate::git::id::{BlobId, CommitId, ObjectId};
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
    /// The first [`SecretId::SHORT_LEN`] hex digits, as reports and plans show an id.
    pub fn short(&self) -> &str {
        self.0.get(..Self::SHORT_LEN).unwrap_or(&self.0)
    }
    /// Hex digits of a short secret id.
    pub const SHORT_LEN: usize = 16;
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

/// `low`, `medium` or `high`: the one parser of confidence text (the command line and reports
/// read back; `.leaksweep.toml` goes through serde's names, the same three).
impl std::str::FromStr for Confidence {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "low" => Confidence::Low,
            "medium" => Confidence::Medium,
            "high" => Confidence::High,
            _ => {
                return Err(crate::error::Error::UnknownConfidence {
                    text: s.to_string(),
                })
            }
        })
    }
}

/// Where in git a blob was found: built by the scanner from the blob's provenance
/// ([`crate::scan::Provenance`]), the author, date and summary filled in afterwards for
/// findings only.
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
    /// Full history scans: every ref whose history holds the secret (full names, sorted;
    /// `refs/stash` for any stash entry; `HEAD` only when detached). Empty for an unreachable
    /// blob; absent in a range, which walks no refs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Vec<String>>,
    /// Blobs (file versions) this finding stands for: the history scan keeps one finding per
    /// (secret, rule, path) as blobs are scanned, counting the rest (0 means 1).
    #[serde(skip)]
    pub versions: usize,
    /// With `--all-locations`: the other blobs it stands for, (object id, line), so that their
    /// places can be listed too.
    #[serde(skip)]
    pub other_blobs: Vec<(BlobId, usize)>,
    /// The ids `commit` and `blob` are written from, as the source read them (not serialized;
    /// a finding read back from a report has none).
    #[serde(skip)]
    pub ids: GitIds,
}

/// The typed ids of a git finding's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GitIds {
    /// The commit that introduced it: the first to reach the blob, or the commit whose message
    /// holds it. None for a tag message, an unreachable blob, or a blob only a tag names.
    pub commit: Option<CommitId>,
    /// The annotated tag whose message holds it.
    pub tag: Option<ObjectId>,
    /// The file version (blob) that holds it; none for a message.
    pub blob: Option<BlobId>,
}

impl GitProvenance {
    /// The provenance of `ids`, of `kind` (`file`, `unreachable`, `commit-message`,
    /// `tag-message`): `commit` is the commit's id, or a tag message's tag id; `blob` the
    /// blob's; the author, date and locations are left empty.
    pub fn of(ids: GitIds, kind: &str, summary: String) -> Self {
        let introduced = ids.commit.map(CommitId::object).or(ids.tag);
        GitProvenance {
            commit: introduced.map(|c| c.to_string()).unwrap_or_default(),
            blob: ids.blob.map(|b| b.to_string()).unwrap_or_default(),
            kind: kind.to_string(),
            summary,
            ids,
            ..GitProvenance::default()
        }
    }

    /// The typed ids again from the hex fields, for a provenance read back from a report (they
    /// are not serialized): the inverse of [`GitProvenance::of`].
    pub fn restore_ids(&mut self) {
        let tag = self.kind == "tag-message";
        self.ids = GitIds {
            commit: CommitId::from_hex(&self.commit).filter(|_| !tag),
            tag: ObjectId::from_hex(&self.commit).filter(|_| tag),
            blob: BlobId::from_hex(&self.blob),
        };
    }
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
    /// The text the blob holds at `span` when it differs from the secret (the encoded value a
    /// secret was found in by decoding); masked wherever it occurs, like the secret.
    pub matched: Option<Secret>,
    /// Validator notes (e.g. decoded JWT claims), key/value.
    pub notes: Vec<(String, String)>,
    pub git: Option<GitProvenance>,
    /// The repository of a `git --repos` audit that holds it, with every repository that holds
    /// the same secret; `None` in a single-repository run.
    pub repository: Option<crate::repos::RepoOrigin>,
    /// `--show-filtered`: the built-in filter that judged this candidate not to be a leak
    /// ([`crate::matcher::Filter::reason`]); `None` for a finding.
    pub filtered: Option<String>,
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

    /// Passes every string of the finding that comes from the repository or the scanned content
    /// (path, preview, notes, provenance, locations; rule texts too, as a project config can
    /// define rules) through `redactor` and the sanitiser. The fingerprint is rebuilt from the
    /// cleaned path, so it holds neither a secret nor a control character either.
    pub fn clean(&mut self, redactor: &Redactor) {
        let r = redactor;
        r.clean_in_place(&mut self.path);
        r.clean_in_place(&mut self.preview);
        r.clean_in_place(&mut self.rule_id);
        r.clean_in_place(&mut self.description);
        r.clean_in_place(&mut self.category);
        self.redacted = sanitize(&self.redacted).into_owned();
        for (k, v) in &mut self.notes {
            r.clean_in_place(k);
            r.clean_in_place(v);
        }
        if let Some(g) = &mut self.git {
            r.clean_in_place(&mut g.author_name);
            r.clean_in_place(&mut g.author_email);
            r.clean_in_place(&mut g.summary);
            r.clean_in_place(&mut g.date);
            r.clean_in_place(&mut g.kind);
            for l in &mut g.locations {
                r.clean_in_place(&mut l.path);
            }
            for name in g.refs.iter_mut().flatten() {
                r.clean_in_place(name);
            }
        }
        if let Some(origin) = &mut self.repository {
            origin.clean(r);
        }
        let fingerprint = r.clean(self.fingerprint.as_str());
        if fingerprint != self.fingerprint.as_str() {
            self.fingerprint = Fingerprint::from_string(fingerprint);
        }
    }

    /// The commit (or, for a tag message, the tag) a history finding was introduced by, in hex;
    /// `None` outside history.
    pub fn commit(&self) -> Option<&str> {
        self.git
            .as_ref()
            .map(|g| g.commit.as_str())
            .filter(|c| !c.is_empty())
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

/// The spans of one blob that hold secrets (every match, direct or found by decoding), sorted,
/// so that a preview masks all of them, not only its own finding's.
#[derive(Debug, Clone, Default)]
pub struct Masks {
    spans: Vec<Range<usize>>,
    longest: usize,
}

impl Masks {
    pub fn new(mut spans: Vec<Range<usize>>) -> Self {
        spans.retain(|s| s.start < s.end);
        spans.sort_by_key(|s| (s.start, s.end));
        spans.dedup();
        let longest = spans.iter().map(|s| s.len()).max().unwrap_or(0);
        Masks { spans, longest }
    }

    /// The spans that overlap `lo..hi`, in order. A binary search bounds the start, so a blob
    /// with many findings on one line costs what the findings near each other cost.
    fn near(&self, lo: usize, hi: usize) -> impl Iterator<Item = &Range<usize>> {
        let first = self
            .spans
            .partition_point(|s| s.start.saturating_add(self.longest) <= lo);
        self.spans[first..]
            .iter()
            .take_while(move |s| s.start < hi)
            .filter(move |s| s.end > lo)
    }
}

/// Builds the preview: the secret's line with the secret replaced by its redaction and every
/// other span of `masks` on it replaced by that value's redaction, at most `width` characters
/// around it, control characters escaped ([`sanitize`]).
///
/// Only `4 * width` bytes on either side are looked at (a character is at most 4 bytes), so a
/// finding on a 1 GiB single line costs what one on a short line does.
pub fn preview(
    data: &[u8],
    span: &Range<usize>,
    redacted: &str,
    masks: &Masks,
    width: usize,
) -> String {
    let span = span.start.min(data.len())..span.end.min(data.len()).max(span.start.min(data.len()));
    let reach = width.saturating_mul(4) + 16;
    // A mask overlapping the secret is hidden under the secret's own redaction.
    let (mut s, mut e) = (span.start, span.end);
    loop {
        let (s0, e0) = (s, e);
        for m in masks.near(s, e.max(s + 1)) {
            s = s.min(m.start);
            e = e.max(m.end.min(data.len()));
        }
        if (s, e) == (s0, e0) {
            break;
        }
    }
    let lo = s.saturating_sub(reach);
    let hi = e.saturating_add(reach).min(data.len());
    let line_start = memchr::memrchr(b'\n', &data[lo..s]).map_or(lo, |i| lo + i + 1);
    // Multi-line secret: show the first line only, masked to its end.
    let multiline = memchr::memchr(b'\n', &data[s..e]).is_some();
    let before = masked(data, line_start..s, masks);
    let after = if multiline {
        String::new()
    } else {
        let line_end = memchr::memchr(b'\n', &data[e..hi]).map_or(hi, |i| e + i);
        masked(data, e..line_end, masks)
    };
    let budget = width.saturating_sub(redacted.len()) / 2;
    let before = tail_chars(before.trim_start(), budget);
    let after = head_chars(after.trim_end(), budget);
    format!("{before}{}{after}", sanitize(redacted))
}

/// `data[range]` as clean text, each span of `masks` in it replaced by its value's redaction.
fn masked(data: &[u8], range: Range<usize>, masks: &Masks) -> String {
    let mut out = String::new();
    let mut pos = range.start;
    for m in masks.near(range.start, range.end) {
        if m.end <= pos {
            continue;
        }
        let start = m.start.max(pos);
        out.push_str(&clean(&data[pos..start]));
        out.push_str(&redact(&data[m.start..m.end.min(data.len())]));
        pos = m.end.min(range.end);
    }
    out.push_str(&clean(&data[pos..range.end]));
    out
}

fn clean(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b).replace('\t', " ");
    sanitize(&text).into_owned()
}

/// True for characters that must not reach a terminal, a log or a line-based format raw: C0
/// controls (ESC, CR, LF, tab, ...), DEL, C1 controls, bidirectional overrides and isolates,
/// and the Unicode line and paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// The sanitiser for text that comes from a repository or a scanned file (paths, author names,
/// commit summaries, ref names, claims, error messages): every character of [`is_unsafe_char`]
/// is escaped visibly (`\n`, `\r`, `\t`, `\x1b`, `\u{202e}`), so it can neither drive a terminal
/// (titles, screen clears, colours), forge report or log lines (GitHub workflow commands), nor
/// reorder what is shown. Everything else is kept.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Shortest value a [`Redactor`] masks: shorter ones would mask ordinary words.
pub const MIN_REDACTED_LEN: usize = 4;

/// Masks every known secret value wherever it occurs in a piece of text: one Aho-Corasick
/// automaton over all the values a run found (each secret, and the encoded text that held it
/// when it was found by decoding), each occurrence replaced by that value's [`redact`]ion.
/// Built once per run from the findings ([`Redactor::from_findings`]) and applied to every
/// repository-derived string before any reporter or message sees it.
pub struct Redactor {
    values: Vec<Zeroizing<Vec<u8>>>,
    labels: Vec<String>,
    automaton: Option<aho_corasick::AhoCorasick>,
}

impl Redactor {
    /// A redactor for `values` (duplicates and values shorter than [`MIN_REDACTED_LEN`] dropped).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut set: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for v in values {
            if v.len() < MIN_REDACTED_LEN {
                continue;
            }
            set.push(Zeroizing::new(v.to_vec()));
            // Text shown to people went through lossy UTF-8: mask that form too.
            let lossy = String::from_utf8_lossy(v);
            if lossy.as_bytes() != v {
                set.push(Zeroizing::new(lossy.into_owned().into_bytes()));
            }
        }
        set.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
        set.dedup_by(|a, b| a.as_slice() == b.as_slice());
        let labels = set.iter().map(|v| redact(v)).collect();
        let automaton = if set.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(set.iter().map(|v| v.as_slice()))
                .ok()
        };
        Redactor {
            values: set,
            labels,
            automaton,
        }
    }

    /// A redactor for every secret in `findings` and every encoded text that held one.
    pub fn from_findings(findings: &[Finding]) -> Self {
        Redactor::new(findings.iter().flat_map(|f| {
            std::iter::once(f.secret.expose()).chain(f.matched.as_ref().map(|m| m.expose()))
        }))
    }

    /// How many values it masks.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every known secret value masked.
    pub fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.values.is_empty() || text.len() < MIN_REDACTED_LEN {
            return std::borrow::Cow::Borrowed(text);
        }
        let hay = text.as_bytes();
        let mut out: Vec<u8> = Vec::new();
        let mut pos = 0;
        let mut push = |start: usize, end: usize, id: usize, out: &mut Vec<u8>| {
            out.extend_from_slice(&hay[pos..start]);
            out.extend_from_slice(self.labels[id].as_bytes());
            pos = end;
        };
        match &self.automaton {
            Some(ac) => {
                for m in ac.find_iter(hay) {
                    push(m.start(), m.end(), m.pattern().as_usize(), &mut out);
                }
            }
            None => {
                // The automaton could not be built (too many values): the slow way, one value at
                // a time, longest first.
                let mut order: Vec<usize> = (0..self.values.len()).collect();
                order.sort_by_key(|&i| std::cmp::Reverse(self.values[i].len()));
                let mut spans: Vec<(usize, usize, usize)> = Vec::new();
                for i in order {
                    for at in memchr::memmem::find_iter(hay, self.values[i].as_slice()) {
                        let end = at + self.values[i].len();
                        if !spans.iter().any(|&(s, e, _)| s < end && at < e) {
                            spans.push((at, end, i));
                        }
                    }
                }
                spans.sort_unstable();
                for (s, e, i) in spans {
                    push(s, e, i, &mut out);
                }
            }
        }
        if pos == 0 && out.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        out.extend_from_slice(&hay[pos..]);
        std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    }

    /// [`Redactor::redact`], then [`sanitize`]: what every repository-derived string goes
    /// through before it is shown.
    pub fn clean(&self, text: &str) -> String {
        sanitize(&self.redact(text)).into_owned()
    }

    /// [`Redactor::clean`] in place.
    pub fn clean_in_place(&self, text: &mut String) {
        let cleaned = self.clean(text);
        if cleaned != *text {
            *text = cleaned;
        }
    }
}

/// Characters that end a token for [`tail_chars`] and [`head_chars`]: whitespace, quotes and
/// brackets, separators of lists. Secrets (keys, tokens, passwords) are runs of other characters.
fn is_token_boundary(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\'' | '`' | ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '|'
        )
}

/// The last `n` characters of `s`, after `…` when cut. A cut never splits a token: the partial
/// token at the cut is dropped, so a value that does not fit shows no part of itself (the
/// run-wide [`Redactor`] masks whole values only).
fn tail_chars(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= n {
        return s.to_string();
    }
    let cut = chars.len() - n;
    let mut start = cut;
    if !is_token_boundary(chars[cut - 1]) {
        while start < chars.len() && !is_token_boundary(chars[start]) {
            start += 1;
        }
    }
    format!("…{}", chars[start..].iter().collect::<String>())
}

/// The first `n` characters of `s`, then `…` when cut; like [`tail_chars`], never part of a token.
fn head_chars(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    if !is_token_boundary(chars[n]) {
        while end > 0 && !is_token_boundary(chars[end - 1]) {
            end -= 1;
        }
    }
    format!("{}…", chars[..end].iter().collect::<String>())
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
#[path = "finding_tests.rs"]
mod tests;
