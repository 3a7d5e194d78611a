//! Baselines and ignore files: accepted findings, keyed by the secret's value.
//!
//! A baseline names each secret by its `secret_id` (sha256 of the value), with the rules and paths
//! that found it and, for history scans, the first commit. It holds no raw secret, no line number
//! and no timestamp, and is sorted, so it is byte-for-byte stable across runs and merges cleanly:
//! moving a baselined secret to another line or file, rebasing or squashing changes nothing, while
//! a *new* secret placed on a baselined line is still reported (peers key by commit and line and
//! get both wrong).
//!
//! `.leaksweepignore` at the scan root is the hand-written counterpart: one secret_id (full, or a
//! prefix of at least 12 hex digits as the text report prints) or one location fingerprint
//! (`commit:path:rule:line`) per line, `#` comments and blank lines allowed.
//!
//! `--baseline FILE` also accepts a JSON report (`scan --format json`): its findings' secret_ids
//! are the baseline.
//!
//! Baselines of other scanners are accepted too, recognised by their content:
//! - a gitleaks (or betterleaks) JSON report, an array of objects with `RuleID`, `File`,
//!   `StartLine`, `Commit`, `Secret`: an entry with a raw `Secret` accepts that secret (by its
//!   secret_id, wherever it is); one without (`--redact`ed: `REDACTED` or a prefix ending in `...`)
//!   accepts the finding at its `File` and `StartLine`, and at its `Commit` when it has one;
//! - a detect-secrets `.secrets.baseline` (`"results": {path: [{hashed_secret, line_number}]}`):
//!   an entry accepts a finding at that path whose secret's SHA-1 is `hashed_secret`.
//!
//! `.gitleaksignore` at the scan root is read next to `.leaksweepignore`: one gitleaks
//! fingerprint per line, `commit:file:rule:line` or `file:rule:line`, `#` comment lines. Rule
//! ids differ between the tools, so the rule part is not compared: an entry matches a finding
//! at that path and line (the finding's first line, or any line it spans) and, when the entry
//! names a commit, in that commit (the commit that introduced the finding, or one of its other
//! locations); an entry with a commit never matches a working-tree finding.

use crate::error::Error;
use crate::finding::{Finding, SecretId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Version of the baseline file format.
pub const VERSION: u32 = 1;

/// The file name looked for at the scan root.
pub const IGNORE_FILE: &str = ".leaksweepignore";

/// One accepted secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub secret_id: SecretId,
    /// Rule ids that found it, sorted.
    pub rules: Vec<String>,
    /// Paths where it was found, sorted.
    pub paths: Vec<String>,
    /// The earliest commit (by author date) that introduced it, for history scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit: Option<String>,
}

/// The baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    pub tool: String,
    /// One entry per secret, sorted by secret_id.
    pub secrets: Vec<Entry>,
}

impl BaselineFile {
    /// Builds a deterministic baseline from findings: one entry per secret_id.
    pub fn from_findings(findings: &[Finding]) -> Self {
        struct Acc {
            rules: BTreeSet<String>,
            paths: BTreeSet<String>,
            first: Option<(String, String)>,
        }
        let mut by_id: BTreeMap<&SecretId, Acc> = BTreeMap::new();
        for f in findings {
            let acc = by_id.entry(&f.secret_id).or_insert_with(|| Acc {
                rules: BTreeSet::new(),
                paths: BTreeSet::new(),
                first: None,
            });
            acc.rules.insert(f.rule_id.clone());
            acc.paths.insert(f.path.clone());
            // A history finding lists the other paths holding the secret.
            for l in f.git.iter().flat_map(|g| &g.locations) {
                acc.paths.insert(l.path.clone());
            }
            if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
                let cand = (g.date.clone(), g.commit.clone());
                let earlier = match &acc.first {
                    Some(cur) => cand < *cur,
                    None => true,
                };
                if earlier {
                    acc.first = Some(cand);
                }
            }
        }
        BaselineFile {
            version: VERSION,
            tool: "leaksweep".into(),
            secrets: by_id
                .into_iter()
                .map(|(id, a)| Entry {
                    secret_id: id.clone(),
                    rules: a.rules.into_iter().collect(),
                    paths: a.paths.into_iter().collect(),
                    first_commit: a.first.map(|(_, c)| c),
                })
                .collect(),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings and vectors: serializing cannot fail.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// The file name of gitleaks' ignore file, honoured at the scan root.
pub const GITLEAKS_IGNORE_FILE: &str = ".gitleaksignore";

/// A place a finding is accepted at: (commit, when given), path, line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub commit: Option<String>,
    pub path: String,
    pub line: usize,
}

impl Location {
    /// True when `f` is at this place (see the module documentation).
    pub fn matches(&self, f: &Finding) -> bool {
        let here = |path: &str, first: usize, last: usize| {
            normal_path(path) == self.path && (first..=last.max(first)).contains(&self.line)
        };
        let same_commit = |c: &str| {
            self.commit.as_deref().is_some_and(|want| {
                !c.is_empty() && (c == want || (want.len() >= 7 && c.starts_with(want)))
            })
        };
        match (&self.commit, &f.git) {
            (None, _) => here(&f.path, f.line, f.end_line),
            (Some(_), None) => false,
            (Some(_), Some(g)) => {
                (same_commit(&g.commit) && here(&f.path, f.line, f.end_line))
                    || g.locations.iter().any(|l| {
                        same_commit(&l.commit)
                            && here(
                                &l.path,
                                l.line.unwrap_or(f.line),
                                l.line.unwrap_or(f.end_line),
                            )
                    })
            }
        }
    }
}

/// A path as both tools print it: no leading `./`.
fn normal_path(p: &str) -> &str {
    p.trim_start_matches("./")
}

/// A loaded baseline.
#[derive(Debug)]
pub struct Baseline {
    pub path: PathBuf,
    pub entries: BTreeMap<SecretId, Entry>,
    /// Accepted places (gitleaks report entries without a raw secret).
    pub locations: Vec<Location>,
    /// Accepted (SHA-1 of the secret, path) pairs (detect-secrets baselines).
    pub sha1: HashSet<(String, String)>,
}

impl Baseline {
    /// Reads a baseline file, or a JSON report used as one.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::BaselineIo {
            path: shown.clone(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses the text of a baseline file or JSON report; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let parse_err = |message: String| Error::BaselineParse {
            path: shown.clone(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let mut entries = BTreeMap::new();
        let mut locations = Vec::new();
        let mut sha1 = HashSet::new();
        if let Some(list) = value.as_array() {
            parse_gitleaks(list, &mut entries, &mut locations, &parse_err)?;
        } else if let Some(results) = value.get("results") {
            let results = results.as_object().ok_or_else(|| {
                parse_err("detect-secrets baseline: \"results\" is not an object".into())
            })?;
            for (path, list) in results {
                let list = list.as_array().ok_or_else(|| {
                    parse_err(format!(
                        "detect-secrets baseline: results for '{path}' is not an array"
                    ))
                })?;
                for (i, e) in list.iter().enumerate() {
                    let hash = e
                        .get("hashed_secret")
                        .and_then(|h| h.as_str())
                        .filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                        .ok_or_else(|| {
                            parse_err(format!(
                                "detect-secrets baseline: results for '{path}' entry {i} has no hashed_secret (40 hex digits)"
                            ))
                        })?;
                    sha1.insert((hash.to_ascii_lowercase(), normal_path(path).to_string()));
                }
            }
        } else if value.get("secrets").is_some() {
            let file: BaselineFile =
                serde_json::from_value(value).map_err(|e| parse_err(e.to_string()))?;
            if file.version != VERSION {
                return Err(parse_err(format!(
                    "baseline version {} (this leaksweep reads version {VERSION})",
                    file.version
                )));
            }
            for e in file.secrets {
                entries.insert(e.secret_id.clone(), e);
            }
        } else if let Some(findings) = value.get("findings").and_then(|f| f.as_array()) {
            for (i, f) in findings.iter().enumerate() {
                let id = f
                    .get("secret_id")
                    .and_then(|s| s.as_str())
                    .and_then(SecretId::parse)
                    .ok_or_else(|| parse_err(format!("finding {i} has no valid secret_id")))?;
                let e = entries.entry(id.clone()).or_insert_with(|| Entry {
                    secret_id: id,
                    rules: Vec::new(),
                    paths: Vec::new(),
                    first_commit: None,
                });
                for (key, list) in [("rule_id", &mut e.rules), ("path", &mut e.paths)] {
                    if let Some(s) = f.get(key).and_then(|s| s.as_str()) {
                        if !list.iter().any(|x| x == s) {
                            list.push(s.to_string());
                        }
                    }
                }
            }
        } else {
            return Err(parse_err(
                "expected an object with a \"secrets\" or \"findings\" array, a gitleaks JSON report (an array) or a detect-secrets baseline (\"results\")".into(),
            ));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            entries,
            locations,
            sha1,
        })
    }

    pub fn contains(&self, id: &SecretId) -> bool {
        self.entries.contains_key(id)
    }

    /// True when the baseline accepts this finding: its secret, its place (gitleaks entries
    /// without a secret) or its secret's SHA-1 at its path (detect-secrets).
    pub fn matches(&self, f: &Finding) -> bool {
        self.contains(&f.secret_id)
            || self.locations.iter().any(|l| l.matches(f))
            || (!self.sha1.is_empty()
                && self.sha1.contains(&(
                    crate::baseline::sha1_hex(f.secret.expose()),
                    normal_path(&f.path).to_string(),
                )))
    }

    /// Entries whose secret was not among `seen`.
    pub fn stale<'a>(&'a self, seen: &HashSet<&SecretId>) -> Vec<&'a Entry> {
        self.entries
            .values()
            .filter(|e| !seen.contains(&e.secret_id))
            .collect()
    }
}

/// Entries of a gitleaks report: raw secrets become secret ids, the rest places.
fn parse_gitleaks(
    list: &[serde_json::Value],
    entries: &mut BTreeMap<SecretId, Entry>,
    locations: &mut Vec<Location>,
    parse_err: &dyn Fn(String) -> Error,
) -> Result<(), Error> {
    for (i, f) in list.iter().enumerate() {
        let field = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("");
        if !f.is_object() || (f.get("RuleID").is_none() && f.get("File").is_none()) {
            return Err(parse_err(format!(
                "gitleaks report: entry {i} is not a finding (an object with RuleID and File)"
            )));
        }
        let secret = field("Secret");
        let redacted = secret.is_empty() || secret == "REDACTED" || secret.ends_with("...");
        if !redacted {
            let id = SecretId::of(secret.as_bytes());
            let e = entries.entry(id.clone()).or_insert_with(|| Entry {
                secret_id: id,
                rules: Vec::new(),
                paths: Vec::new(),
                first_commit: None,
            });
            for (v, list) in [
                (field("RuleID"), &mut e.rules),
                (field("File"), &mut e.paths),
            ] {
                if !v.is_empty() && !list.iter().any(|x| x == v) {
                    list.push(v.to_string());
                }
            }
            continue;
        }
        let line = f.get("StartLine").and_then(|v| v.as_u64()).ok_or_else(|| {
            parse_err(format!(
                "gitleaks report: entry {i} has neither a Secret nor a StartLine"
            ))
        })?;
        let file = field("File");
        if file.is_empty() {
            return Err(parse_err(format!(
                "gitleaks report: entry {i} has neither a Secret nor a File"
            )));
        }
        let commit = field("Commit");
        locations.push(Location {
            commit: (!commit.is_empty()).then(|| commit.to_string()),
            path: normal_path(file).to_string(),
            line: line as usize,
        });
    }
    Ok(())
}

/// SHA-1 of `data`, lower-case hex: the hash detect-secrets keys its baselines by (FIPS 180-4).
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// A loaded `.leaksweepignore` (and `.gitleaksignore`, when the scan root has one).
#[derive(Debug, Default)]
pub struct IgnoreList {
    pub path: PathBuf,
    ids: HashSet<SecretId>,
    prefixes: Vec<String>,
    fingerprints: HashSet<String>,
    /// `.gitleaksignore` entries, as places.
    gitleaks: Vec<Location>,
}

impl IgnoreList {
    /// `.leaksweepignore` and `.gitleaksignore` in `root`, whichever exist (`Ok(None)`: neither).
    pub fn load_root(root: &Path) -> Result<Option<Self>, Error> {
        let ours = Self::load(&root.join(IGNORE_FILE))?;
        let path = root.join(GITLEAKS_IGNORE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ours),
            Err(source) => {
                return Err(Error::BaselineIo {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let mut list = ours.unwrap_or_else(|| IgnoreList {
            path: path.clone(),
            ..Default::default()
        });
        list.gitleaks = parse_gitleaks_ignore(&path, &text)?;
        Ok(Some(list))
    }

    /// Reads `path` if it exists (`Ok(None)` when it does not).
    pub fn load(path: &Path) -> Result<Option<Self>, Error> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::BaselineIo {
                    path: shown,
                    source,
                })
            }
        };
        Self::parse(path, &text).map(Some)
    }

    /// Parses the text of an ignore file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let mut list = IgnoreList {
            path: path.to_path_buf(),
            ..Default::default()
        };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let hex = line.bytes().all(|b| b.is_ascii_hexdigit());
            if let Some(id) = SecretId::parse(&line.to_ascii_lowercase()) {
                list.ids.insert(id);
            } else if hex && (12..64).contains(&line.len()) {
                list.prefixes.push(line.to_ascii_lowercase());
            } else if line.matches(':').count() >= 3 {
                list.fingerprints.insert(line.to_string());
            } else {
                return Err(Error::IgnoreLine {
                    path: path.display().to_string(),
                    line: i + 1,
                    text: line.to_string(),
                });
            }
        }
        Ok(list)
    }

    /// True when the finding's secret or location is listed.
    pub fn matches(&self, f: &Finding) -> bool {
        self.gitleaks.iter().any(|l| l.matches(f))
            || self.ids.contains(&f.secret_id)
            || self.fingerprints.contains(f.fingerprint.as_str())
            || self
                .prefixes
                .iter()
                .any(|p| f.secret_id.as_str().starts_with(p.as_str()))
    }

    /// Whether a secret_id is listed (by full id or prefix).
    pub fn lists_id(&self, id: &SecretId) -> bool {
        self.ids.contains(id) || self.prefixes.iter().any(|p| id.as_str().starts_with(p))
    }
}

/// Parses `.gitleaksignore`: `commit:file:rule:line` or `file:rule:line` per line, `#` comment
/// lines and blank lines allowed.
pub fn parse_gitleaks_ignore(path: &Path, text: &str) -> Result<Vec<Location>, Error> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || Error::GitleaksIgnoreLine {
            path: path.display().to_string(),
            line: i + 1,
            text: crate::finding::sanitize(line).into_owned(),
        };
        let mut parts = line.rsplitn(3, ':');
        let number = parts
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(bad)?;
        let _rule = parts.next().filter(|r| !r.is_empty()).ok_or_else(bad)?;
        let rest = parts.next().filter(|r| !r.is_empty()).ok_or_else(bad)?;
        let (commit, file) = match rest.split_once(':') {
            Some((c, f))
                if (7..=64).contains(&c.len())
                    && c.bytes().all(|b| b.is_ascii_hexdigit())
                    && !f.is_empty() =>
            {
                (Some(c.to_ascii_lowercase()), f)
            }
            _ => (None, rest),
        };
        out.push(Location {
            commit,
            path: normal_path(file).to_string(),
            line: number,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_lines() {
        let id = SecretId::of(b"x");
        let text = format!(
            "# accepted\n{id}\n{}  # short\n:a.env:jwt-secret:3\n\n",
            &SecretId::of(b"y").as_str()[..16]
        );
        let l = IgnoreList::parse(Path::new(".leaksweepignore"), &text).unwrap();
        assert!(l.lists_id(&id));
        assert!(l.lists_id(&SecretId::of(b"y")));
        assert!(!l.lists_id(&SecretId::of(b"z")));
        assert!(l.fingerprints.contains(":a.env:jwt-secret:3"));
        let e = IgnoreList::parse(Path::new("f"), "ok\n").unwrap_err();
        assert!(e.to_string().starts_with("f:1: not a secret_id"), "{e}");
    }

    #[test]
    fn sha1_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(sha1_hex(long), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }

    #[test]
    fn gitleaks_ignore_lines() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let text = format!("# ok\n{c}:a/b.env:generic-api-key:3\nc.env:jwt:7\n");
        let l = parse_gitleaks_ignore(Path::new(".gitleaksignore"), &text).unwrap();
        assert_eq!(l[0].commit.as_deref(), Some(c));
        assert_eq!((l[0].path.as_str(), l[0].line), ("a/b.env", 3));
        assert_eq!(
            (l[1].commit.as_deref(), l[1].path.as_str(), l[1].line),
            (None, "c.env", 7)
        );
        let e = parse_gitleaks_ignore(Path::new("g"), "x\n").unwrap_err();
        assert!(
            e.to_string().starts_with("g:1: not a gitleaks fingerprint"),
            "{e}"
        );
    }
}
