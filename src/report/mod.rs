//! Reporters: they only format a finished [`Report`]; they never scan. One file per format; a new
//! format is one file plus one line in [`Format`] and [`reporter`]. The report they get has been
//! through [`clean`] (secrets masked, control characters escaped in every repository-derived
//! string); each format still escapes its own syntax.

pub mod csv;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use crate::finding::Redactor;
use crate::scan::Report;
use std::io::{self, Write};

/// Redacts and sanitises a finished report in one place, before any reporter or message sees it
/// (DESIGN.md decision 4): every string that comes from the repository or the scanned content
/// (paths, previews, notes and claims, author names and emails, commit and tag summaries, ref
/// names, locations, repositories, skipped items, error messages) has every secret `redactor`
/// knows masked and its control characters escaped ([`crate::finding::sanitize`]). Reporters may
/// then print any field as it is.
pub fn clean(report: &mut Report, redactor: &Redactor) {
    for f in &mut report.findings {
        f.clean(redactor);
    }
    for s in &mut report.skipped {
        redactor.clean_in_place(&mut s.path);
    }
    for e in &mut report.errors {
        redactor.clean_in_place(&mut e.path);
        redactor.clean_in_place(&mut e.message);
    }
    for r in &mut report.summary.repositories {
        redactor.clean_in_place(&mut r.repository);
        if let Some(e) = r.error.as_mut() {
            redactor.clean_in_place(e);
        }
    }
}

/// Output formats of `scan` and `git`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Grouped by file, for people; secrets redacted.
    Text,
    /// One JSON document (schema: schema/report.schema.json).
    Json,
    /// One JSON object per line: findings, then a summary.
    Jsonl,
    /// SARIF 2.1.0 for code scanning; never holds raw secrets.
    Sarif,
    /// One row per finding, RFC 4180 quoting.
    Csv,
    /// JUnit XML for CI test dashboards; never holds raw secrets.
    Junit,
    /// GitHub Actions annotations (`::error file=...`); never holds raw secrets.
    Github,
    /// Markdown audit summary, each secret once; never holds raw secrets.
    Markdown,
}

/// Options every reporter honours.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Include raw secrets (JSON `secret` field, text shows them unmasked).
    pub show_secrets: bool,
    /// Use ANSI colours (text only).
    pub color: bool,
    /// Mention skipped items and errors one by one.
    pub verbose: bool,
    /// `--quiet`: leave out the closing summary line (text).
    pub quiet: bool,
}

/// Formats a report.
pub trait Reporter {
    fn write(&self, report: &Report, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()>;
}

/// The reporter for `format`.
pub fn reporter(format: Format) -> Box<dyn Reporter> {
    match format {
        Format::Text => Box::new(text::Text),
        Format::Json => Box::new(json::Json { lines: false }),
        Format::Jsonl => Box::new(json::Json { lines: true }),
        Format::Sarif => Box::new(sarif::Sarif),
        Format::Csv => Box::new(csv::Csv),
        Format::Junit => Box::new(junit::Junit),
        Format::Github => Box::new(github::Github),
        Format::Markdown => Box::new(markdown::Markdown),
    }
}
