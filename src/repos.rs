//! `git --repos FILE`: many repositories in one audit, and one answer per secret across them.
//!
//! The command scans each listed repository as `git REPO` would (its own project config, triage,
//! baseline) and hands each result to an [`Audit`]. The audit tags every finding with its
//! repository, prefixes skipped and unreadable items with it, records a repository that could
//! not be scanned as an error entry naming it, and sums the totals. At the end,
//! [`one_per_secret`] folds the findings of one secret (and rule) found in several repositories
//! into one entry that lists every repository holding it, in the order they were listed: the
//! secret is rotated once, whichever repositories leaked it. The other repositories' own findings
//! stay inside the entry ([`RepoPlace::finding`]) for the formats that report per repository.

use crate::finding::{Finding, Redactor, Secret, SecretId};
use crate::scan::{Report, ScanError, Skipped, Summary};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// One repository holding a secret: where it was found there first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoPlace {
    /// The repository as the list names it.
    pub repository: String,
    pub path: String,
    pub line: usize,
    /// The commit that introduced it there (empty for a message only a tag holds).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit: String,
    /// That commit's author date, RFC 3339.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    /// That repository's own finding (columns, provenance, other paths), kept for the formats
    /// that report each repository apart (SARIF); `None` for the entry's own repository.
    #[serde(skip)]
    pub finding: Option<Box<Finding>>,
}

impl RepoPlace {
    fn of(repository: &str, f: &Finding) -> Self {
        RepoPlace {
            repository: repository.to_string(),
            path: f.path.clone(),
            line: f.line,
            commit: f.commit().unwrap_or_default().to_string(),
            date: f.git.as_ref().map(|g| g.date.clone()).unwrap_or_default(),
            finding: None,
        }
    }

    /// The place alone, without the repository's own finding (what a report serializes).
    pub fn bare(&self) -> RepoPlace {
        RepoPlace {
            repository: self.repository.clone(),
            path: self.path.clone(),
            line: self.line,
            commit: self.commit.clone(),
            date: self.date.clone(),
            finding: None,
        }
    }
}

/// The repository a finding of an audit comes from, and every repository holding its secret.
#[derive(Debug, Clone)]
pub struct RepoOrigin {
    /// The repository as listed.
    pub repository: String,
    /// Every repository holding the secret, as listed (this one first); empty on the findings
    /// folded into another entry.
    pub places: Vec<RepoPlace>,
}

impl RepoOrigin {
    /// Redacts and sanitises every string, as [`Finding::clean`] does for the rest.
    pub fn clean(&mut self, redactor: &Redactor) {
        redactor.clean_in_place(&mut self.repository);
        for p in &mut self.places {
            redactor.clean_in_place(&mut p.repository);
            redactor.clean_in_place(&mut p.path);
            redactor.clean_in_place(&mut p.date);
            if let Some(f) = p.finding.as_mut() {
                f.clean(redactor);
            }
        }
    }

    /// The other repositories holding the secret.
    pub fn others(&self) -> impl Iterator<Item = &RepoPlace> {
        self.places
            .iter()
            .filter(move |p| p.repository != self.repository)
    }
}

/// One listed repository's totals in the summary of an audit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoSummary {
    /// The repository as listed.
    pub repository: String,
    /// Findings and distinct secrets there after triage, before the fold across repositories.
    pub findings: u64,
    pub secrets: u64,
    pub files: u64,
    pub commits: u64,
    /// Items there that could not be read.
    pub errors: u64,
    pub duration_ms: u64,
    /// Why the repository could not be scanned at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads the repository list: one path per line, `-` for standard input (see [`parse_list`]).
pub fn read_list(file: &Path) -> Result<Vec<String>> {
    let name = file.display().to_string();
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read the repository list from standard input")?;
    } else {
        bytes = std::fs::read(file)
            .with_context(|| format!("cannot read the repository list {name}"))?;
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the repository list {name} is not UTF-8 text"))?;
    parse_list(&text).with_context(|| format!("repository list {name}"))
}

/// The repositories of a list: one per line, surrounding blanks trimmed, blank lines and lines
/// starting with `#` ignored. An empty list or a repository listed twice is an error: either is
/// a mistake in the list, and the second would report one repository's secrets as shared.
pub fn parse_list(text: &str) -> Result<Vec<String>> {
    let mut repos: Vec<String> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(first) = seen.insert(line, n + 1) {
            bail!(
                "line {}: {} is listed twice (first on line {first})",
                n + 1,
                crate::finding::sanitize(line)
            );
        }
        repos.push(line.to_string());
    }
    if repos.is_empty() {
        bail!("no repositories listed (one path per line; `#` starts a comment)");
    }
    Ok(repos)
}

/// The scans of an audit as they come in, one repository after the other.
pub struct Audit {
    per_repo: Vec<(String, Vec<Finding>)>,
    skipped: Vec<Skipped>,
    errors: Vec<ScanError>,
    summary: Summary,
    values: Vec<Secret>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            per_repo: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
            summary: Summary {
                mode: "git".into(),
                commits: Some(0),
                blobs: Some(0),
                ..Summary::default()
            },
            values: Vec::new(),
        }
    }
}

impl Audit {
    /// Keeps the values of a repository's findings before triage drops any, so that the report
    /// masks them wherever they occur (as one scan's report masks what its baseline accepted).
    pub fn remember(&mut self, findings: &[Finding]) {
        for f in findings {
            self.values.push(f.secret.clone());
            self.values.extend(f.matched.clone());
        }
    }

    /// Adds one repository's triaged scan; returns its line of the summary.
    pub fn add(
        &mut self,
        repository: &str,
        findings: Vec<Finding>,
        skipped: Vec<Skipped>,
        errors: Vec<ScanError>,
        s: &Summary,
    ) -> &RepoSummary {
        let t = &mut self.summary;
        t.files += s.files;
        t.bytes += s.bytes;
        t.commits = t.commits.map(|c| c + s.commits.unwrap_or(0));
        t.blobs = t.blobs.map(|b| b + s.blobs.unwrap_or(0));
        t.suppressed_inline += s.suppressed_inline;
        t.suppressed_baseline += s.suppressed_baseline;
        t.rules = t.rules.max(s.rules);
        for (reason, n) in &s.skipped {
            *t.skipped.entry(reason.clone()).or_insert(0) += n;
        }
        t.repositories.push(RepoSummary {
            repository: repository.to_string(),
            findings: findings.len() as u64,
            secrets: distinct(&findings) as u64,
            files: s.files,
            commits: s.commits.unwrap_or(0),
            errors: errors.len() as u64,
            duration_ms: s.duration_ms,
            error: None,
        });
        self.skipped.extend(skipped.into_iter().map(|mut sk| {
            sk.path = format!("{repository}:{}", sk.path);
            sk
        }));
        self.errors.extend(errors.into_iter().map(|mut e| {
            e.path = format!("{repository}:{}", e.path);
            e
        }));
        self.per_repo.push((repository.to_string(), findings));
        &self.summary.repositories[self.summary.repositories.len() - 1]
    }

    /// Records a repository that could not be scanned (missing, not a repository, unreadable
    /// object store): an error entry naming it, and its line of the summary.
    pub fn fail(&mut self, repository: &str, message: String) {
        self.errors.push(ScanError {
            path: repository.to_string(),
            message: message.clone(),
        });
        self.summary.repositories.push(RepoSummary {
            repository: repository.to_string(),
            error: Some(message),
            ..RepoSummary::default()
        });
    }

    /// How many repositories could not be scanned.
    pub fn failed(&self) -> usize {
        self.summary
            .repositories
            .iter()
            .filter(|r| r.error.is_some())
            .count()
    }

    /// The audit's report (one entry per secret and rule, see [`one_per_secret`]; counts set),
    /// not yet cleaned, and the redactor for it: every value found, unless `show_secrets`.
    pub fn finish(self, show_secrets: bool, duration_ms: u64) -> (Report, Redactor) {
        let redactor = if show_secrets {
            Redactor::new([])
        } else {
            Redactor::new(self.values.iter().map(Secret::expose))
        };
        let findings = one_per_secret(self.per_repo);
        let mut summary = self.summary;
        summary.findings = findings.len() as u64;
        summary.secrets = distinct(&findings) as u64;
        summary.errors = self.errors.len() as u64;
        summary.duration_ms = duration_ms;
        let report = Report {
            findings,
            skipped: self.skipped,
            errors: self.errors,
            summary,
        };
        (report, redactor)
    }
}

/// Distinct secrets among `findings`.
fn distinct(findings: &[Finding]) -> usize {
    findings
        .iter()
        .map(|f| &f.secret_id)
        .collect::<HashSet<_>>()
        .len()
}

/// Distinct secrets held by more than one repository, in an audit's folded findings.
pub fn shared_secrets(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.repository.as_ref().is_some_and(|o| o.places.len() > 1))
        .map(|f| &f.secret_id)
        .collect::<HashSet<_>>()
        .len()
}

/// One entry per (secret, rule) across repositories, as history keeps one per (secret, rule)
/// within one: the finding of the first listed repository holding it, its `places` naming every
/// repository that does (path, line, first commit), in list order, and judged by the strongest
/// of them (severity and confidence). Entries come in list order of their repository, each
/// repository's in the order its scan sorted them.
pub fn one_per_secret(per_repo: Vec<(String, Vec<Finding>)>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut index: HashMap<(SecretId, String), usize> = HashMap::new();
    for (repository, findings) in per_repo {
        for mut f in findings {
            let mut place = RepoPlace::of(&repository, &f);
            f.repository = Some(RepoOrigin {
                repository: repository.clone(),
                places: Vec::new(),
            });
            match index.entry((f.secret_id.clone(), f.rule_id.clone())) {
                Entry::Vacant(slot) => {
                    slot.insert(out.len());
                    if let Some(o) = f.repository.as_mut() {
                        o.places.push(place);
                    }
                    out.push(f);
                }
                Entry::Occupied(slot) => {
                    let entry = &mut out[*slot.get()];
                    entry.severity = entry.severity.max(f.severity);
                    entry.confidence = entry.confidence.max(f.confidence);
                    place.finding = Some(Box::new(f));
                    if let Some(o) = entry.repository.as_mut() {
                        o.places.push(place);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Scratch;
    use crate::scan::{Blob, Scanner};
    use rand::Rng;

    /// A seeded generator (the seed printed, replayable with `LEAKSWEEP_TEST_SEED`).
    fn rng() -> rand::rngs::StdRng {
        crate::testing::seeded().0
    }

    /// A generated Stripe live key.
    fn key(rng: &mut impl Rng) -> String {
        let tail: String = rng
            .sample_iter(rand::distributions::Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        format!("sk_live_{tail}")
    }

    /// The findings of one file holding `keys`, one per line.
    fn found(scanner: &Scanner, path: &str, keys: &[&str]) -> Vec<Finding> {
        let text: String = keys.iter().map(|k| format!("charge({k});\n")).collect();
        scanner.scan_blob(&Blob::file(text.as_bytes(), path), &mut Scratch::default())
    }

    /// A secret in three repositories is one entry, from the first listed, naming all three in
    /// list order with their own paths and lines; the others' findings ride along.
    #[test]
    fn a_shared_secret_is_one_entry_naming_every_repository() {
        let mut rng = rng();
        let scanner =
            Scanner::new(crate::matcher::Matcher::new(crate::rules::builtin().unwrap()).unwrap());
        let (shared, own) = (key(&mut rng), key(&mut rng));
        let per_repo = vec![
            ("b".to_string(), found(&scanner, "pay.rs", &[&shared])),
            (
                "a".to_string(),
                found(&scanner, "x/pay.rs", &[&own, &shared]),
            ),
            ("c".to_string(), Vec::new()),
            ("d".to_string(), found(&scanner, "billing.rs", &[&shared])),
        ];
        let out = one_per_secret(per_repo);
        assert_eq!(out.len(), 2, "{out:?}");
        let entry = &out[0];
        assert_eq!(entry.secret.expose(), shared.as_bytes());
        let origin = entry.repository.as_ref().unwrap();
        assert_eq!(origin.repository, "b");
        let places: Vec<(&str, &str, usize, bool)> = origin
            .places
            .iter()
            .map(|p| {
                (
                    p.repository.as_str(),
                    p.path.as_str(),
                    p.line,
                    p.finding.is_some(),
                )
            })
            .collect();
        assert_eq!(
            places,
            [
                ("b", "pay.rs", 1, false),
                ("a", "x/pay.rs", 2, true),
                ("d", "billing.rs", 1, true)
            ]
        );
        assert_eq!(origin.others().count(), 2);
        let unique = out[1].repository.as_ref().unwrap();
        assert_eq!(out[1].secret.expose(), own.as_bytes());
        assert_eq!((unique.repository.as_str(), unique.places.len()), ("a", 1));
        assert_eq!(shared_secrets(&out), 1);
    }

    #[test]
    fn lists_skip_blanks_and_comments() {
        let text = "# services\n\n  ../svc-a  \r\n#../off\nmirrors/b.git\n\t\n";
        assert_eq!(parse_list(text).unwrap(), ["../svc-a", "mirrors/b.git"]);
    }

    #[test]
    fn empty_lists_and_repeats_are_errors() {
        let e = parse_list("# nothing\n\n").unwrap_err().to_string();
        assert!(e.contains("no repositories listed"), "{e}");
        let e = parse_list("a\nb\n a\n").unwrap_err().to_string();
        assert_eq!(e, "line 3: a is listed twice (first on line 1)");
    }
}
