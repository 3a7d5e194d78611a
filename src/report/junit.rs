//! JUnit XML, for CI test dashboards (GitLab `artifacts:reports:junit`, Jenkins, Azure, CircleCI).
//!
//! One `<testsuite name="leaksweep">`; one failing `<testcase>` per finding, its `classname` the
//! file (dashboards group test cases by class, so findings group by file) and its `name` the rule
//! and position (plus the short commit for history findings). A scan without findings writes one
//! passing test case, because several dashboards treat an empty suite as an error. Unreadable items
//! become `<error>` test cases. A candidate a built-in filter rejected (`--show-filtered`) is a
//! skipped test case naming the filter: shown, but no failure.
//!
//! Text is escaped for XML 1.0 (`& < > " '`), and characters XML 1.0 cannot carry at all (most
//! C0 controls) are dropped. The raw secret is never written: JUnit reports are CI artifacts.

use super::{ReportOptions, Reporter};
use crate::scan::Report;
use std::io::{self, Write};

/// The JUnit reporter.
pub struct Junit;

/// Escapes text for XML attribute values, dropping characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    escape_xml(s, true)
}

/// Escapes XML element content: like [`escape`], but tabs and line breaks stay as they are.
pub fn escape_text(s: &str) -> String {
    escape_xml(s, false)
}

fn escape_xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

impl Reporter for Junit {
    fn write(&self, report: &Report, _opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let s = &report.summary;
        let skipped = report
            .findings
            .iter()
            .filter(|f| f.filtered.is_some())
            .count();
        let failures = report.findings.len() - skipped;
        let errors = report.errors.len();
        let tests = skipped + (failures + errors).max(1);
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="leaksweep" tests="{tests}" failures="{failures}" errors="{errors}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="leaksweep {}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}">"#,
            escape(&s.mode)
        )?;
        for f in &report.findings {
            let mut name = format!("{} at line {} column {}", f.rule_id, f.line, f.column);
            let mut detail = format!(
                "{}\nrule: {} ({}, severity {}, confidence {})\nlocation: {}:{}:{}\nsecret: {}\nsecret_id: {}\npreview: {}",
                f.description,
                f.rule_id,
                f.category,
                f.severity,
                f.confidence.as_str(),
                f.path,
                f.line,
                f.column,
                f.redacted,
                f.secret_id,
                f.preview
            );
            if let Some(g) = &f.git {
                if !g.commit.is_empty() {
                    name.push_str(&format!(" in {}", &g.commit[..g.commit.len().min(12)]));
                }
                detail.push_str(&format!(
                    "\ncommit: {} by {} <{}> on {}: {}",
                    g.commit, g.author_name, g.author_email, g.date, g.summary
                ));
            }
            // In a `--repos` audit the test case's class is `repository:path`.
            let class = match &f.repository {
                Some(o) => {
                    if let Some(also) = super::text::also_in(o) {
                        detail.push_str(&format!("\n{also}"));
                    }
                    format!("{}:{}", o.repository, f.path)
                }
                None => f.path.clone(),
            };
            writeln!(
                out,
                r#"    <testcase classname="{}" name="{}" file="{}" line="{}">"#,
                escape(&class),
                escape(&name),
                escape(&f.path),
                f.line
            )?;
            match &f.filtered {
                Some(reason) => writeln!(
                    out,
                    r#"      <skipped message="{}">{}</skipped>"#,
                    escape(&format!(
                        "filtered ({reason}): {}: {}",
                        f.description, f.redacted
                    )),
                    escape_text(&detail)
                )?,
                None => writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    escape(&format!("{}: {}", f.description, f.redacted)),
                    escape(f.severity.as_str()),
                    escape_text(&detail)
                )?,
            }
            writeln!(out, "    </testcase>")?;
        }
        for e in &report.errors {
            writeln!(
                out,
                r#"    <testcase classname="{}" name="read">"#,
                escape(&e.path)
            )?;
            writeln!(
                out,
                r#"      <error message="{}" type="read-error"/>"#,
                escape(&e.message)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        if failures + errors == 0 {
            writeln!(
                out,
                r#"    <testcase classname="leaksweep" name="no secrets found ({} scanned)"/>"#,
                match s.files {
                    1 => "1 file".to_string(),
                    n => format!("{n} files"),
                }
            )?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_text};

    #[test]
    fn escapes_xml() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;"
        );
        assert_eq!(escape_text("a\nb]]>"), "a\nb]]&gt;");
    }
}
