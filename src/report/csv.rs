//! CSV: one row per finding under a fixed header, for spreadsheets and ad-hoc `awk`/`sqlite`.
//!
//! Quoting is RFC 4180 (the `csv` crate: fields holding `,`, `"`, CR or LF are quoted, quotes
//! doubled); records end in LF, not CRLF, for Unix tools (every CSV reader accepts both).
//! Git columns are empty for working-tree findings, so one header fits every scan; an audit of
//! many repositories (`git --repos`) adds `repository` and `also_in` (the other repositories
//! holding the secret, `;`-separated) before `secret`; a report with candidates the filters
//! rejected (`--show-filtered`) adds `filtered` (the filter's reason, empty for a finding) there.
//! Spreadsheet formula injection is defused: a text cell from scanned content that starts with
//! `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP's advice), since a scanned file is
//! attacker-controlled. The `secret` column exists only with `--show-secrets`.

use super::{ReportOptions, Reporter};
use crate::scan::Report;
use std::io::{self, Write};

/// The CSV reporter.
pub struct Csv;

/// Columns, in order (`secret` is appended with `--show-secrets`).
pub const HEADER: &[&str] = &[
    "rule_id",
    "category",
    "severity",
    "confidence",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "secret_id",
    "redacted",
    "preview",
    "commit",
    "author",
    "date",
    "description",
];

/// Prefixes a cell that a spreadsheet would evaluate as a formula.
fn defuse(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

impl Reporter for Csv {
    fn write(&self, report: &Report, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let mut header: Vec<&str> = HEADER.to_vec();
        let audit = !report.summary.repositories.is_empty();
        if audit {
            header.extend(["repository", "also_in"]);
        }
        let filtered = report.findings.iter().any(|f| f.filtered.is_some());
        if filtered {
            header.push("filtered");
        }
        if opts.show_secrets {
            header.push("secret");
        }
        w.write_record(&header)?;
        for f in &report.findings {
            let (commit, author, date) = match &f.git {
                Some(g) => (g.commit.as_str(), g.author_name.as_str(), g.date.as_str()),
                None => ("", "", ""),
            };
            let mut row = vec![
                f.rule_id.clone(),
                f.category.clone(),
                f.severity.as_str().to_string(),
                f.confidence.as_str().to_string(),
                defuse(&f.path),
                f.line.to_string(),
                f.column.to_string(),
                f.end_line.to_string(),
                f.end_column.to_string(),
                f.secret_id.to_string(),
                defuse(&f.redacted),
                defuse(&f.preview),
                commit.to_string(),
                defuse(author),
                date.to_string(),
                f.description.clone(),
            ];
            if audit {
                let origin = f.repository.as_ref();
                row.push(defuse(origin.map_or("", |o| o.repository.as_str())));
                let others: Vec<&str> = origin
                    .into_iter()
                    .flat_map(|o| o.others().map(|p| p.repository.as_str()))
                    .collect();
                row.push(defuse(&others.join(";")));
            }
            if filtered {
                row.push(f.filtered.clone().unwrap_or_default());
            }
            if opts.show_secrets {
                row.push(f.secret.expose_str());
            }
            w.write_record(&row)?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("-x"), "'-x");
        assert_eq!(defuse("src/a.rs"), "src/a.rs");
    }
}
