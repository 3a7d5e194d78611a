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

/// A baseline or ignore file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a leaksweep baseline or JSON report: {message} (make one with `leaksweep baseline create -o FILE`)")]
    Parse { path: String, message: String },
    #[error("{path}:{line}: not a secret_id (64 hex digits, or a prefix of at least 12) or a fingerprint (commit:path:rule:line): '{text}'")]
    IgnoreLine {
        path: String,
        line: usize,
        text: String,
    },
}

/// A loaded baseline.
#[derive(Debug)]
pub struct Baseline {
    pub path: PathBuf,
    pub entries: BTreeMap<SecretId, Entry>,
}

impl Baseline {
    /// Reads a baseline file, or a JSON report used as one.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses the text of a baseline file or JSON report; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, BaselineError> {
        let shown = path.display().to_string();
        let parse_err = |message: String| BaselineError::Parse {
            path: shown.clone(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let mut entries = BTreeMap::new();
        if value.get("secrets").is_some() {
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
                "expected an object with a \"secrets\" or \"findings\" array".into(),
            ));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn contains(&self, id: &SecretId) -> bool {
        self.entries.contains_key(id)
    }

    /// Entries whose secret was not among `seen`.
    pub fn stale<'a>(&'a self, seen: &HashSet<&SecretId>) -> Vec<&'a Entry> {
        self.entries
            .values()
            .filter(|e| !seen.contains(&e.secret_id))
            .collect()
    }
}

/// A loaded `.leaksweepignore`.
#[derive(Debug, Default)]
pub struct IgnoreList {
    pub path: PathBuf,
    ids: HashSet<SecretId>,
    prefixes: Vec<String>,
    fingerprints: HashSet<String>,
}

impl IgnoreList {
    /// Reads `path` if it exists (`Ok(None)` when it does not).
    pub fn load(path: &Path) -> Result<Option<Self>, BaselineError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(BaselineError::Io {
                    path: shown,
                    source,
                })
            }
        };
        Self::parse(path, &text).map(Some)
    }

    /// Parses the text of an ignore file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, BaselineError> {
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
                return Err(BaselineError::IgnoreLine {
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
        self.ids.contains(&f.secret_id)
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
}
