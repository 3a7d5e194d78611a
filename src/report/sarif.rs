//! SARIF 2.1.0, for code-scanning services (GitHub code scanning, Azure DevOps, SonarQube, ...).
//!
//! One run (an audit of many repositories, `git --repos`: one run per repository, its own
//! findings at its own places, named by `automationDetails.id` `leaksweep/<repository>/`); the
//! driver lists one rule descriptor per rule that produced a finding (not every loaded rule: the
//! file stays small and `ruleIndex` points into it). Each finding is one result
//! with one physical location. History findings also carry their commit, author and date in the
//! result's `properties`, because SARIF locations name files, not commits.
//!
//! `partialFingerprints` hold the secret_id alone (`leaksweep/secret/v1`), never the commit, path,
//! line or author: code scanning then tracks one alert per secret across runs, rebases, squashes
//! and line shifts (DESIGN.md decision 3). The location fingerprint goes into `properties`.
//!
//! The raw secret is never written, even with `--show-secrets`: SARIF files are uploaded to
//! services and attached to CI runs. Results show the redacted form.
//!
//! NOTE: our columns count bytes; SARIF counts characters (`columnKind`). They agree on ASCII
//! lines, which is where secrets live; `region.byteOffset`/`byteLength` give the exact span.

use super::{ReportOptions, Reporter};
use crate::finding::Finding;
use crate::rules::Severity;
use crate::scan::{Report, ScanError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Key of the secret_id in `partialFingerprints`. Bump the version if its meaning ever changes.
pub const FINGERPRINT_KEY: &str = "leaksweep/secret/v1";

/// `$schema` written into every SARIF log.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF reporter.
pub struct Sarif;

/// SARIF `level` for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (0.1-3.9 low, 4-6.9 medium, 7-8.9 high, 9+ critical).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A display path as a URI reference: relative paths stay relative (to the scan root, which is
/// what code scanning expects), absolute ones become `file://` URIs, and everything outside the
/// RFC 3986 unreserved set (plus `/`) is percent-encoded.
pub fn path_to_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_descriptor(f: &Finding) -> Value {
    json!({
        "id": f.rule_id,
        "name": f.rule_id,
        "shortDescription": { "text": f.description },
        "fullDescription": { "text": format!("{} (category {}, severity {}).", f.description, f.category, f.severity) },
        "help": {
            "text": "A secret was committed or written to a file. Rotate it (leaksweep rotate), then \
                     remove it from history (leaksweep rewrite). If it is not a secret, add an inline \
                     `leaksweep:allow` comment on its line or record it in a baseline.",
        },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "category": f.category,
            "severity": f.severity.as_str(),
            "security-severity": security_severity(f.severity),
            "tags": ["security", "secret", f.category],
        },
    })
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let mut message = format!("{}: {}", f.description, f.redacted);
    if let Some(reason) = &f.filtered {
        message.push_str(&format!(" (filtered: {reason}; judged not to be a leak)"));
    }
    if let Some(g) = &f.git {
        if !g.commit.is_empty() {
            message.push_str(&format!(
                " (commit {} by {} on {})",
                &g.commit[..g.commit.len().min(12)],
                g.author_name,
                g.date
            ));
        }
    }
    let mut props = Map::new();
    props.insert("confidence".into(), f.confidence.as_str().into());
    if let Some(reason) = &f.filtered {
        props.insert("filtered".into(), reason.clone().into());
    }
    props.insert("severity".into(), f.severity.as_str().into());
    props.insert("category".into(), f.category.clone().into());
    props.insert("secretId".into(), f.secret_id.as_str().into());
    props.insert("fingerprint".into(), f.fingerprint.as_str().into());
    props.insert("redacted".into(), f.redacted.clone().into());
    props.insert("entropy".into(), json!(f.entropy));
    if !f.notes.is_empty() {
        let notes: BTreeMap<&str, &str> = f
            .notes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        props.insert("notes".into(), json!(notes));
    }
    if let Some(g) = &f.git {
        props.insert("commit".into(), g.commit.clone().into());
        props.insert("author".into(), g.author_name.clone().into());
        props.insert("authorEmail".into(), g.author_email.clone().into());
        props.insert("date".into(), g.date.clone().into());
        props.insert("commitSummary".into(), g.summary.clone().into());
        props.insert("kind".into(), g.kind.clone().into());
        if !g.blob.is_empty() {
            props.insert("blob".into(), g.blob.clone().into());
        }
        if !g.locations.is_empty() {
            props.insert("locations".into(), json!(g.locations));
        }
    }
    json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        // A candidate a built-in filter rejected (`--show-filtered`) is a note whatever its rule.
        "level": if f.filtered.is_some() { "note" } else { level(f.severity) },
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": path_to_uri(&f.path) },
                "region": {
                    "startLine": f.line.max(1),
                    "startColumn": f.column.max(1),
                    "endLine": f.end_line.max(f.line).max(1),
                    // SARIF's endColumn is exclusive; ours is the last byte's column.
                    "endColumn": f.end_column.max(1) + 1,
                    "byteOffset": f.span.start,
                    "byteLength": f.span.len(),
                    "snippet": { "text": f.preview },
                }
            }
        }],
        "partialFingerprints": { FINGERPRINT_KEY: f.secret_id.as_str() },
        "properties": props,
    })
}

impl Reporter for Sarif {
    fn write(&self, report: &Report, _opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let s = &report.summary;
        let runs: Vec<Value> = if s.repositories.is_empty() {
            let findings: Vec<&Finding> = report.findings.iter().collect();
            let errors: Vec<&ScanError> = report.errors.iter().collect();
            let mut summary = Map::new();
            summary.insert("mode".into(), s.mode.clone().into());
            summary.insert("files".into(), s.files.into());
            summary.insert("findings".into(), s.findings.into());
            summary.insert("secrets".into(), s.secrets.into());
            if s.filtered > 0 {
                summary.insert("filtered".into(), s.filtered.into());
            }
            if let Some(c) = s.commits {
                summary.insert("commits".into(), c.into());
            }
            vec![run(&findings, &errors, json!({ "summary": summary }))]
        } else {
            repository_runs(report)
        };
        let doc = json!({
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": runs,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}

/// One run: the rules its findings use, one result per finding, its errors as notifications.
fn run(findings: &[&Finding], errors: &[&ScanError], properties: Value) -> Value {
    // Rules in order of first use; findings are already sorted, so this is deterministic.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::with_capacity(findings.len());
    for f in findings {
        let i = *index.entry(f.rule_id.as_str()).or_insert_with(|| {
            rules.push(rule_descriptor(f));
            rules.len() - 1
        });
        results.push(result(f, i));
    }
    let notifications: Vec<Value> = errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", e.path, e.message) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": path_to_uri(&e.path) } } }],
            })
        })
        .collect();
    json!({
        "tool": {
            "driver": {
                "name": "leaksweep",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "invocations": [{
            "executionSuccessful": errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": properties,
    })
}

/// `git --repos`: one run per listed repository, in list order, so that each can go to that
/// repository's code scanning. A run holds that repository's own findings (a secret shared by
/// several repositories is a result in each, at its own place there) and its own errors (a
/// repository that could not be scanned is a failed run naming why).
fn repository_runs(report: &Report) -> Vec<Value> {
    let mut by_repo: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        let Some(origin) = &f.repository else {
            continue;
        };
        by_repo.entry(&origin.repository).or_default().push(f);
        for p in origin.others() {
            if let Some(own) = p.finding.as_deref() {
                by_repo.entry(&p.repository).or_default().push(own);
            }
        }
    }
    report
        .summary
        .repositories
        .iter()
        .map(|r| {
            let mut findings = by_repo.remove(r.repository.as_str()).unwrap_or_default();
            findings.sort_by_key(|f| f.sort_key());
            let prefix = format!("{}:", r.repository);
            let errors: Vec<&ScanError> = report
                .errors
                .iter()
                .filter(|e| e.path == r.repository || e.path.starts_with(&prefix))
                .collect();
            let props = json!({ "repository": r.repository, "summary": r });
            let mut run = run(&findings, &errors, props);
            if let Value::Object(m) = &mut run {
                m.insert(
                    "automationDetails".into(),
                    json!({ "id": format!("leaksweep/{}/", r.repository) }),
                );
            }
            run
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(path_to_uri("src/a b.rs"), "src/a%20b.rs");
        assert_eq!(path_to_uri("/tmp/x#1"), "file:///tmp/x%231");
        assert_eq!(path_to_uri("dir\\f.env"), "dir/f.env");
    }
}
