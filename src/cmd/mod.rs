//! One file per subcommand, each with one `run`. This module only dispatches, plus the ending
//! every scanning command shares: filter, summarize, report, and turn the result into an exit code.

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
    summary.findings = findings.len() as u64;
    summary.secrets = findings
        .iter()
        .map(|f| &f.secret_id)
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
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
fn tidy(line: &str) -> String {
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

/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;

/// The shared ending of a scan: [`triage`] (JWT linking, baseline and ignore file, level
/// filters), write the report, print the summary and the reasons for an error exit on stderr, and
/// pick the exit code (2 on errors or an empty scan, else `--exit-code` on findings, else 0).
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
) -> Result<ExitCode> {
    // Every secret found, also those the baseline or the level filters drop next, is masked
    // wherever repository text shows it; with `--show-secrets` the report holds them anyway, and
    // keeps paths and summaries exact (only control characters are escaped).
    let redactor = if cfg.report.show_secrets {
        Redactor::new([])
    } else {
        Redactor::from_findings(&findings)
    };
    triage(cfg, &mut findings, &mut summary, true);
    let mut report = Report {
        findings,
        skipped,
        errors,
        summary,
    };
    report::clean(&mut report, &redactor);
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
            "leaksweep: {} findings ({} secrets) in {} files, {} bytes, {} skipped, {} errors, {} ms",
            s.findings,
            s.secrets,
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
    if !report.errors.is_empty() && !cfg.ignore_errors {
        eprintln!(
            "leaksweep: {} item(s) could not be read; the scan is incomplete (exit 2)",
            report.errors.len()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if expect_input && s.files == 0 && !cfg.allow_empty {
        eprintln!(
            "leaksweep: nothing was scanned (0 files; {} skipped): check the path and ignore files, or pass --allow-empty",
            s.skipped.values().sum::<u64>()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if s.findings > 0 {
        return Ok(ExitCode::from(cfg.exit_code));
    }
    if stdout_failed {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}
