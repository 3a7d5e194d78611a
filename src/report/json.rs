//! JSON and JSON Lines. The schema is `schema/report.schema.json` (version 1); a test validates a
//! real report against it. The raw secret appears only with `--show-secrets`.

use super::{ReportOptions, Reporter};
use crate::finding::{Finding, GitProvenance};
use crate::repos::RepoPlace;
use crate::scan::{Report, ScanError, Skipped, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Version of the JSON report schema.
pub const SCHEMA_VERSION: u32 = 1;

/// A finding as serialized. Also read back by `rotate --from-report` and baselines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonFinding {
    pub rule_id: String,
    pub description: String,
    pub category: String,
    pub severity: String,
    pub confidence: String,
    /// `--show-filtered`: the built-in filter that judged the candidate not to be a leak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<String>,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Byte offsets of the secret in the file or blob, half-open.
    pub start_offset: usize,
    pub end_offset: usize,
    pub preview: String,
    pub redacted: String,
    pub entropy: f64,
    pub secret_id: String,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
    /// `git --repos`: the repository it was found in, as listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `git --repos`: every repository holding the secret (path, line, first commit), as listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepoPlace>,
    /// The raw secret; present only with `--show-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl JsonFinding {
    pub fn from_finding(f: &Finding, show_secrets: bool) -> Self {
        JsonFinding {
            rule_id: f.rule_id.clone(),
            description: f.description.clone(),
            category: f.category.clone(),
            severity: f.severity.to_string(),
            confidence: f.confidence.as_str().to_string(),
            filtered: f.filtered.clone(),
            path: f.path.clone(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            start_offset: f.span.start,
            end_offset: f.span.end,
            preview: f.preview.clone(),
            redacted: f.redacted.clone(),
            entropy: f.entropy,
            secret_id: f.secret_id.to_string(),
            fingerprint: f.fingerprint.to_string(),
            notes: f.notes.iter().cloned().collect(),
            git: f.git.clone(),
            repository: f.repository.as_ref().map(|o| o.repository.clone()),
            repositories: f
                .repository
                .as_ref()
                .map(|o| o.places.iter().map(RepoPlace::bare).collect())
                .unwrap_or_default(),
            secret: show_secrets.then(|| f.secret.expose_str()),
        }
    }
}

/// The whole JSON document.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonReport {
    pub version: u32,
    pub tool: Tool,
    pub summary: serde_json::Value,
    pub findings: Vec<JsonFinding>,
    #[serde(default)]
    pub skipped: Vec<serde_json::Value>,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

fn tool() -> Tool {
    Tool {
        name: "leaksweep".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

fn value<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}

/// JSON (`lines: false`) or JSON Lines (`lines: true`).
pub struct Json {
    pub lines: bool,
}

impl Reporter for Json {
    fn write(&self, report: &Report, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let findings: Vec<JsonFinding> = report
            .findings
            .iter()
            .map(|f| JsonFinding::from_finding(f, opts.show_secrets))
            .collect();
        if self.lines {
            for f in &findings {
                let mut v = value(f);
                if let serde_json::Value::Object(m) = &mut v {
                    m.insert("type".into(), "finding".into());
                }
                serde_json::to_writer(&mut *out, &v)?;
                out.write_all(b"\n")?;
            }
            let mut s = value(&report.summary);
            if let serde_json::Value::Object(m) = &mut s {
                m.insert("type".into(), "summary".into());
            }
            serde_json::to_writer(&mut *out, &s)?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        let doc = JsonReport {
            version: SCHEMA_VERSION,
            tool: tool(),
            summary: value::<Summary>(&report.summary),
            findings,
            skipped: report.skipped.iter().map(value::<Skipped>).collect(),
            errors: report.errors.iter().map(value::<ScanError>).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    }
}
