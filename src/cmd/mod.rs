//! One file per subcommand, each with one `run`. This module only dispatches, plus the ending
//! every scanning command shares: filter, summarize, report, and turn the result into an
//! [`ExitStatus`].

pub mod baseline;
pub mod completions;
pub mod git;
pub mod hook;
pub mod import;
pub mod keygen;
pub mod merge;
pub mod rewrite;
pub mod rotate;
pub mod rules;
pub mod scan;

use crate::cli::{Cli, Command};
use crate::config::ScanConfig;
use crate::finding::{sanitize, Finding, Redactor};
use crate::report;
use crate::scan::{Report, ScanError, Skipped, Summary};
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Git(args) => git::run(args),
        Command::Baseline(args) => baseline::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Rotate(args) => rotate::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Hook(args) => hook::run(args),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { out_dir } => completions::man(out_dir.as_deref()),
        Command::Rewrite(args) => rewrite::run(args),
        Command::Import(args) => import::run(args),
        Command::Merge(args) => merge::run(args),
    }
}

/// What happens to findings between the scan and the report, for every scanning command:
/// 1. link HS* JWTs to the secrets in the scan that sign them (both become critical);
/// 2. with `use_baseline`, drop findings `--baseline`, `.leaksweepignore` or `.gitleaksignore`
///    accepts (by secret, or by place for gitleaks entries without one)
///    (with `-v`, name baseline entries this scan did not see: stale);
/// 3. drop findings below `--min-severity` / `--min-confidence`;
/// 4. recount the summary.
pub fn triage(
    cfg: &ScanConfig,
    findings: &mut Vec<Finding>,
    summary: &mut Summary,
    use_baseline: bool,
) {
    crate::matcher::jwt_link::link(findings);
    if use_baseline {
        let before = findings.len();
        if let Some(b) = &cfg.baseline {
            if cfg.verbose > 0 {
                let seen: std::collections::HashSet<_> =
                    findings.iter().map(|f| &f.secret_id).collect();
                for e in b.stale(&seen) {
                    eprintln!(
                        "leaksweep: stale baseline entry {} ({}; {}): not found in this scan",
                        &e.secret_id.as_str()[..16],
                        sanitize(&e.rules.join(", ")),
                        sanitize(&e.paths.join(", "))
                    );
                }
            }
            findings.retain(|f| !b.matches(f));
        }
        if let Some(ig) = &cfg.ignore {
            findings.retain(|f| !ig.matches(f));
        }
        summary.suppressed_baseline = (before - findings.len()) as u64;
    }
    if let Some(min) = cfg.min_severity {
        findings.retain(|f| f.severity >= min);
    }
    if let Some(min) = cfg.min_confidence {
        findings.retain(|f| f.confidence >= min);
    }
    (summary.findings, summary.secrets, summary.filtered) = crate::scan::count(findings);
}

/// The text `main` prints for an error that ends the run: `leaksweep: error: ...`, every line
/// of it prefixed with `leaksweep: ` (so no line of a message can pose as a report line or a CI
/// workflow command) and control characters in it escaped (errors name paths and refs, which
/// come from the repository).
///
/// What the user cannot act on is left out: libgit2's `; class=... (N); code=... (N)` tails, and
/// a cause repeated word for word after its context (`cannot read: E: E`, where the context
/// already quoted the OS error).
pub fn error_message(message: &str) -> String {
    let mut out = String::new();
    for (i, line) in message.split('\n').enumerate() {
        let line = tidy(line);
        let line = sanitize(&line);
        if i == 0 {
            out.push_str(&format!("leaksweep: error: {line}\n"));
        } else {
            out.push_str(&format!("leaksweep: {line}\n"));
        }
    }
    out
}

/// One line of an error without libgit2's class/code tail and without a `: `-separated part
/// that repeats the one before it.
pub(crate) fn tidy(line: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in line.split(": ") {
        let part = strip_git2_tail(part);
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// `text` without a trailing `; class=Name (N)` and `; code=Name (N)` as git2 errors end.
fn strip_git2_tail(text: &str) -> &str {
    let mut text = text;
    loop {
        let Some(at) = text.rfind("; ") else {
            return text;
        };
        let tail = &text[at + 2..];
        let is_detail = ["class=", "code="].iter().any(|k| {
            tail.strip_prefix(k).is_some_and(|rest| {
                let mut words = rest.splitn(2, ' ');
                let name = words.next().unwrap_or("");
                let num = words.next().unwrap_or("");
                !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
                    && num.starts_with('(')
                    && num.ends_with(')')
                    && num[1..num.len() - 1]
                        .trim_start_matches('-')
                        .chars()
                        .all(|c| c.is_ascii_digit())
            })
        });
        if !is_detail {
            return text;
        }
        text = &text[..at];
    }
}

/// How a run ends, as the process sees it: the exit status is an API (scripts and CI branch on
/// it), so every command picks one of these rather than a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: a scan found nothing to report, or the command did its work.
    Clean,
    /// A scan reported findings: `--exit-code`, 1 unless asked otherwise.
    Findings(u8),
    /// 1: a check the command exists for failed (`rules check`: an example; `rewrite verify`: a
    /// problem; `rewrite finish`: not confirmed).
    CheckFailed,
    /// 2: a usage or input error, or an incomplete scan (an item could not be read, nothing was
    /// scanned, the report could not be written).
    Error,
    /// 130: interrupted (Ctrl-C, SIGTERM, SIGHUP), as a shell reports it.
    Interrupted,
}

impl ExitStatus {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings(code) => code,
            ExitStatus::CheckFailed => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// Exit code for usage and input errors ([`ExitStatus::Error`]), for commands that still build
/// their `ExitCode` from a number.
pub const EXIT_ERROR: u8 = ExitStatus::Error.code();

/// What went wrong at the end of a scan, in the order [`Outcome::status`] weighs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Outcome {
    /// Items could not be read and `--ignore-errors` was not given.
    unread: bool,
    /// Input was expected, nothing was scanned, and `--allow-empty` was not given.
    empty: bool,
    /// Findings left after triage.
    findings: bool,
    /// Standard output failed for another reason than a closed pipe (the report was lost).
    stdout_failed: bool,
}

impl Outcome {
    /// An incomplete or empty scan is an error whatever it found; findings win over a lost
    /// report (a failed write never hides findings); a lost report makes a clean scan an error.
    fn status(self, findings_code: u8) -> ExitStatus {
        if self.unread || self.empty {
            ExitStatus::Error
        } else if self.findings {
            ExitStatus::Findings(findings_code)
        } else if self.stdout_failed {
            ExitStatus::Error
        } else {
            ExitStatus::Clean
        }
    }
}

/// The shared ending of a scan: [`triage`] (JWT linking, baseline and ignore file, level
/// filters), write the report, print the summary and the reasons for an error exit on stderr, and
/// pick the [`ExitStatus`] (2 on errors or an empty scan, else `--exit-code` on findings, else 0).
///
/// Standard output that cannot be written never hides findings: a closed pipe (`| head -1`) is
/// not an error at all, and any other write failure is named on stderr and makes a clean scan
/// exit 2 (the report was lost), while a scan with findings keeps its findings exit code.
pub fn finish(
    cfg: &ScanConfig,
    mut findings: Vec<Finding>,
    skipped: Vec<Skipped>,
    errors: Vec<ScanError>,
    mut summary: Summary,
    expect_input: bool,
) -> Result<ExitStatus> {
    // Every secret found, also those the baseline or the level filters drop next, is masked
    // wherever repository text shows it; with `--show-secrets` the report holds them anyway, and
    // keeps paths and summaries exact (only control characters are escaped).
    let redactor = if cfg.report.show_secrets {
        Redactor::new([])
    } else {
        Redactor::from_findings(&findings)
    };
    triage(cfg, &mut findings, &mut summary, true);
    let report = Report {
        findings,
        skipped,
        errors,
        summary,
    };
    publish(cfg, report, &redactor, expect_input)
}

/// The end of [`finish`] after triage, for a report triaged already (`git --repos` triages each
/// repository with its own configuration): clean the report with `redactor`, write it, print
/// the summary and the reasons for an error exit, and pick the [`ExitStatus`].
pub fn publish(
    cfg: &ScanConfig,
    mut report: Report,
    redactor: &Redactor,
    expect_input: bool,
) -> Result<ExitStatus> {
    report::clean(&mut report, redactor);
    if let Some(pct) = cfg.redact_percent {
        crate::import::reveal_percent(&mut report.findings, pct);
    }
    let mut buf = Vec::new();
    let mut stdout_failed = false;
    report::reporter(cfg.format).write(&report, &cfg.report, &mut buf)?;
    match &cfg.output {
        Some(path) => {
            crate::output::write_report(path, &buf, cfg.report_mode, cfg.report.show_secrets)
                .with_context(|| format!("cannot write report to {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&buf).and_then(|()| out.flush()) {
                Ok(()) => {}
                // The reader stopped reading (`| head -1`): not an error, and never a pass.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    eprintln!("leaksweep: error: cannot write the report to standard output: {e}");
                    stdout_failed = true;
                }
            }
        }
    }
    let s = &report.summary;
    if !cfg.quiet && (cfg.output.is_some() || cfg.format != report::Format::Text) {
        eprintln!(
            "leaksweep: {} findings ({} secrets{}) in {} files, {} bytes, {} skipped, {} errors, {} ms",
            s.findings,
            s.secrets,
            report::text::filtered_note(s),
            s.files,
            s.bytes,
            s.skipped.values().sum::<u64>(),
            s.errors,
            s.duration_ms
        );
    }
    if cfg.verbose > 0 && cfg.format != report::Format::Text {
        for sk in &report.skipped {
            eprintln!("leaksweep: skipped {} ({})", sk.path, sk.reason.as_str());
        }
    }
    if cfg.format != report::Format::Text || cfg.output.is_some() {
        for e in &report.errors {
            eprintln!("leaksweep: error: {}: {}", e.path, e.message);
        }
    }
    let outcome = Outcome {
        unread: !report.errors.is_empty() && !cfg.ignore_errors,
        empty: expect_input && s.files == 0 && !cfg.allow_empty,
        findings: s.findings > 0,
        stdout_failed,
    };
    if outcome.unread {
        eprintln!(
            "leaksweep: {} item(s) could not be read; the scan is incomplete (exit 2)",
            report.errors.len()
        );
    } else if outcome.empty {
        eprintln!(
            "leaksweep: nothing was scanned (0 files; {} skipped): check the path and ignore files, or pass --allow-empty",
            s.skipped.values().sum::<u64>()
        );
    }
    Ok(outcome.status(cfg.exit_code))
}

#[cfg(test)]
mod tests {
    use super::{ExitStatus, Outcome};

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Clean.code(), 0);
        assert_eq!(ExitStatus::Findings(1).code(), 1);
        assert_eq!(ExitStatus::Findings(7).code(), 7);
        assert_eq!(ExitStatus::CheckFailed.code(), 1);
        assert_eq!(ExitStatus::Error.code(), 2);
        assert_eq!(ExitStatus::Interrupted.code(), 130);
        assert_eq!(super::EXIT_ERROR, 2);
    }

    /// Every combination of what can go wrong, against the contract in ARCHITECTURE.md.
    #[test]
    fn scan_outcome_picks_the_exit_status() {
        for bits in 0..16u8 {
            let o = Outcome {
                unread: bits & 1 != 0,
                empty: bits & 2 != 0,
                findings: bits & 4 != 0,
                stdout_failed: bits & 8 != 0,
            };
            let want = if o.unread || o.empty {
                ExitStatus::Error
            } else if o.findings {
                ExitStatus::Findings(5)
            } else if o.stdout_failed {
                ExitStatus::Error
            } else {
                ExitStatus::Clean
            };
            assert_eq!(o.status(5), want, "{o:?}");
        }
        // A report lost to a failed write never turns findings into a pass or an error.
        let lost = Outcome {
            findings: true,
            stdout_failed: true,
            ..Outcome::default()
        };
        assert_eq!(lost.status(1), ExitStatus::Findings(1));
        // `--exit-code 0`: findings are reported and the run passes.
        assert_eq!(lost.status(0).code(), 0);
        assert_eq!(Outcome::default().status(1), ExitStatus::Clean);
    }
}
