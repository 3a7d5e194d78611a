//! GitHub Actions workflow commands: one annotation per finding,
//! `::error file=PATH,line=N,col=C,endColumn=C,title=RULE::message`, which the runner shows on the
//! pull request's diff and in the run summary. A secret spanning lines (a PEM key) gets
//! `line=N,endLine=M` and no columns, as the runner requires.
//!
//! Severity picks the command: critical and high are `error`, medium `warning`, low and info
//! `notice`; a candidate a built-in filter rejected (`--show-filtered`) is a `notice` naming the
//! filter in its title. Escaping follows the runner's toolkit (`@actions/core` `command.ts`): in the message
//! `%`, CR and LF become `%25`, `%0D`, `%0A`; in property values `:` and `,` are escaped too
//! (`%3A`, `%2C`), since they delimit properties. History findings name the commit in the message:
//! the annotation's `file` is the path at that commit, which may no longer exist at HEAD.
//!
//! The raw secret is never written, even with `--show-secrets`: Actions logs are often public.

use super::{ReportOptions, Reporter};
use crate::rules::Severity;
use crate::scan::Report;
use std::io::{self, Write};

/// The GitHub Actions annotation reporter.
pub struct Github;

/// Escapes a workflow command's message (the data after `::`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

impl Reporter for Github {
    fn write(&self, report: &Report, _opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        for f in &report.findings {
            let mut message = format!(
                "{}: {} (rule {}, severity {}, confidence {}, secret_id {})",
                f.description,
                f.redacted,
                f.rule_id,
                f.severity,
                f.confidence.as_str(),
                &f.secret_id.as_str()[..16]
            );
            if let Some(g) = &f.git {
                if !g.commit.is_empty() {
                    message.push_str(&format!(
                        "\nIntroduced in commit {} by {} on {}: {}",
                        g.commit, g.author_name, g.date, g.summary
                    ));
                }
            }
            // In a `--repos` audit the annotation's file is in the named repository.
            if let Some(o) = &f.repository {
                message.push_str(&format!("\nRepository: {}", o.repository));
                if let Some(also) = super::text::also_in(o) {
                    message.push_str(&format!("; {also}"));
                }
            }
            let (level, title) = match &f.filtered {
                Some(reason) => {
                    message.push_str(&format!(
                        "\nFiltered ({reason}): judged not to be a leak; shown by --show-filtered."
                    ));
                    ("notice", format!("{} [filtered: {reason}]", f.rule_id))
                }
                None => {
                    message.push_str(
                        "\nRotate the secret; if it is not one, add a `leaksweep:allow` comment on the line or use a baseline.",
                    );
                    (command(f.severity), f.rule_id.clone())
                }
            };
            // The runner rejects columns on annotations spanning several lines.
            let position = if f.end_line > f.line {
                format!("line={},endLine={}", f.line, f.end_line)
            } else {
                format!(
                    "line={},col={},endColumn={}",
                    f.line, f.column, f.end_column
                )
            };
            writeln!(
                out,
                "::{} file={},{position},title={}::{}",
                level,
                escape_property(&f.path),
                escape_property(&title),
                escape_data(&message)
            )?;
        }
        for e in &report.errors {
            writeln!(
                out,
                "::error file={},title={}::{}",
                escape_property(&e.path),
                escape_property("unreadable"),
                escape_data(&e.message)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("100%\r\nx:y,z"), "100%25%0D%0Ax:y,z");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
