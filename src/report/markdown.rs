//! Markdown audit summary, for people deciding what to rotate first (a ticket, a wiki page, a PR
//! comment, `$GITHUB_STEP_SUMMARY`).
//!
//! Sections: scope and totals; findings and distinct secrets by severity, by repository (an
//! audit of many repositories, `git --repos`) and by category; the files with most findings; the
//! oldest leak (by git author date, so only history scans have one); then each secret once
//! (grouped by secret_id; held by most repositories first, then worst first) with every
//! repository and location it was found at; last, with `--show-filtered`, the candidates the
//! built-in filters rejected, one table row each, apart from every count above. Grouping by secret rather than by location is the point of an audit: one secret is
//! rotated once however many files and commits hold it.
//!
//! Text from scanned content (paths, previews, commit summaries) is escaped so that it cannot
//! break a table or inject links or HTML. The raw secret is never written, even with
//! `--show-secrets`: audit reports are shared.

use super::{ReportOptions, Reporter};
use crate::finding::Finding;
use crate::rules::Severity;
use crate::scan::Report;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// The Markdown audit reporter.
pub struct Markdown;

/// How many files the "top files" table lists.
const TOP_FILES: usize = 10;

/// Escapes text for Markdown prose and table cells: backslash-escapes what could start emphasis,
/// code, a link, HTML, an entity or a table cell, and turns line breaks into spaces. (Text never
/// starts a line here, so `#`, `-` and `+` need no escape.)
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Inline code that survives backticks in `s`: the fence is one backtick longer than the longest
/// run inside. Pipes are escaped so that the span is safe inside a table too.
pub fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    let s = s.replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Seconds since the Unix epoch of an RFC 3339 date (`2024-05-01T12:00:00+02:00`), or `None`.
pub fn rfc3339_seconds(s: &str) -> Option<i64> {
    crate::git::time::parse_rfc3339(s)
}

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// The file a finding is in: its path, after its repository in an audit of many repositories.
fn file_of(f: &Finding) -> String {
    match &f.repository {
        Some(o) => format!("{}:{}", o.repository, f.path),
        None => f.path.clone(),
    }
}

fn location(f: &Finding) -> String {
    let mut s = format!("{}:{}:{}", code(&file_of(f)), f.line, f.column);
    if let Some(g) = &f.git {
        if !g.commit.is_empty() {
            s.push_str(&format!(
                " in commit {} by {} on {} ({})",
                code(&g.commit[..g.commit.len().min(12)]),
                escape(&g.author_name),
                escape(&g.date),
                escape(&g.summary)
            ));
        }
    }
    s
}

/// The places a history finding lists besides its own (`--all-locations` lists its own too).
fn other_places(f: &Finding) -> impl Iterator<Item = &crate::finding::GitLocation> {
    f.git.iter().flat_map(move |g| {
        g.locations
            .iter()
            .filter(move |l| !(l.commit == g.commit && l.path == f.path))
    })
}

/// Findings and distinct secrets per key.
fn tally<'a, K: Ord>(
    findings: &'a [Finding],
    key: impl Fn(&'a Finding) -> K,
) -> BTreeMap<K, (usize, BTreeSet<&'a str>)> {
    let mut m: BTreeMap<K, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for f in findings {
        let e = m.entry(key(f)).or_default();
        e.0 += 1;
        e.1.insert(f.secret_id.as_str());
    }
    m
}

impl Reporter for Markdown {
    fn write(&self, report: &Report, _opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let s = &report.summary;
        // The candidates the filters rejected are listed apart, after the findings.
        let fs: std::borrow::Cow<'_, [Finding]> = if s.filtered > 0 {
            let reported = report.findings.iter().filter(|f| f.filtered.is_none());
            std::borrow::Cow::Owned(reported.cloned().collect())
        } else {
            std::borrow::Cow::Borrowed(&report.findings)
        };
        let fs = &*fs;
        writeln!(out, "# leaksweep audit report\n")?;
        let mut scope = format!(
            "Scanned {} file{} ({}) in mode `{}`",
            s.files,
            if s.files == 1 { "" } else { "s" },
            super::text::human_bytes(s.bytes),
            escape(&s.mode)
        );
        if let Some(c) = s.commits {
            scope.push_str(&format!(", {c} commits, {} blobs", s.blobs.unwrap_or(0)));
        }
        writeln!(out, "{scope}.\n")?;
        writeln!(out, "| | |\n|---|---:|")?;
        writeln!(out, "| Findings | {} |", s.findings)?;
        writeln!(out, "| Distinct secrets | {} |", s.secrets)?;
        writeln!(
            out,
            "| Skipped items | {} |",
            s.skipped.values().sum::<u64>()
        )?;
        writeln!(out, "| Unreadable items | {} |", s.errors)?;
        writeln!(out, "| Suppressed inline | {} |", s.suppressed_inline)?;
        if s.filtered > 0 {
            writeln!(out, "| Filtered candidates shown | {} |", s.filtered)?;
        }
        writeln!(out)?;
        if fs.is_empty() {
            writeln!(out, "No secrets found.\n")?;
            write_repositories(report, out)?;
            write_filtered(report, out)?;
            return write_errors(report, out);
        }

        writeln!(out, "## By severity\n")?;
        writeln!(out, "| Severity | Findings | Secrets |\n|---|---:|---:|")?;
        let by_sev = tally(fs, |f| f.severity);
        for sev in SEVERITIES {
            if let Some((n, ids)) = by_sev.get(&sev) {
                writeln!(out, "| {sev} | {n} | {} |", ids.len())?;
            }
        }
        writeln!(out)?;

        write_repositories(report, out)?;

        writeln!(out, "## By category\n")?;
        writeln!(out, "| Category | Findings | Secrets |\n|---|---:|---:|")?;
        for (cat, (n, ids)) in tally(fs, |f| f.category.as_str()) {
            writeln!(out, "| {} | {n} | {} |", escape(cat), ids.len())?;
        }
        writeln!(out)?;

        writeln!(out, "## Top files\n")?;
        writeln!(out, "| File | Findings | Secrets |\n|---|---:|---:|")?;
        let mut files: Vec<(String, (usize, BTreeSet<&str>))> =
            tally(fs, file_of).into_iter().collect();
        files.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        for (path, (n, ids)) in files.iter().take(TOP_FILES) {
            writeln!(out, "| {} | {n} | {} |", code(path), ids.len())?;
        }
        if files.len() > TOP_FILES {
            writeln!(out, "\n…and {} more files.", files.len() - TOP_FILES)?;
        }
        writeln!(out)?;

        writeln!(out, "## Oldest leak\n")?;
        let oldest = fs
            .iter()
            .filter_map(|f| {
                let g = f.git.as_ref()?;
                Some((rfc3339_seconds(&g.date)?, f))
            })
            .min_by(|a, b| a.0.cmp(&b.0).then(a.1.sort_key().cmp(&b.1.sort_key())));
        match oldest {
            Some((_, f)) => writeln!(
                out,
                "{} ({}, {}) at {}.\n",
                code(&f.redacted),
                escape(&f.rule_id),
                f.severity,
                location(f)
            )?,
            None => writeln!(
                out,
                "No finding carries a commit date (this was not a history scan).\n"
            )?,
        }

        writeln!(out, "## Secrets\n")?;
        let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in fs {
            groups.entry(f.secret_id.as_str()).or_default().push(f);
        }
        let mut groups: Vec<Vec<&Finding>> = groups.into_values().collect();
        // Most-reused first (an audit of many repositories: held by most repositories), then
        // worst first, then by first location (findings are sorted, so group[0] is the first).
        groups.sort_by(|a, b| {
            let sa = a.iter().map(|f| f.severity).max();
            let sb = b.iter().map(|f| f.severity).max();
            held_by(b)
                .len()
                .cmp(&held_by(a).len())
                .then(sb.cmp(&sa))
                .then(a[0].sort_key().cmp(&b[0].sort_key()))
        });
        for (i, g) in groups.iter().enumerate() {
            let first = g[0];
            let worst = g.iter().map(|f| f.severity).max().unwrap_or(first.severity);
            let rules: BTreeSet<&str> = g.iter().map(|f| f.rule_id.as_str()).collect();
            let rules: Vec<String> = rules.into_iter().map(escape).collect();
            writeln!(
                out,
                "### {}. {} ({})\n",
                i + 1,
                code(&first.redacted),
                worst
            )?;
            writeln!(out, "- {}", escape(&first.description))?;
            writeln!(out, "- rules: {}", rules.join(", "))?;
            writeln!(out, "- secret_id: {}", code(first.secret_id.as_str()))?;
            let repos = held_by(g);
            if !repos.is_empty() {
                let named: Vec<String> = repos
                    .iter()
                    .map(|p| {
                        let commit = &p.commit[..p.commit.len().min(12)];
                        format!(
                            "{} ({}:{} in commit {})",
                            code(&p.repository),
                            code(&p.path),
                            p.line,
                            code(commit)
                        )
                    })
                    .collect();
                writeln!(
                    out,
                    "- {} repositor{}: {}",
                    repos.len(),
                    if repos.len() == 1 { "y" } else { "ies" },
                    named.join(", ")
                )?;
            }
            let others: usize = g.iter().map(|f| other_places(f).count()).sum();
            let count = g.len() + others;
            writeln!(
                out,
                "- {} location{}:",
                count,
                if count == 1 { "" } else { "s" }
            )?;
            for f in g {
                writeln!(out, "  - {}", location(f))?;
                for l in other_places(f) {
                    let line = l.line.map(|n| format!(":{n}")).unwrap_or_default();
                    writeln!(
                        out,
                        "  - {}{line} in commit {}",
                        code(&l.path),
                        code(&l.commit[..l.commit.len().min(12)])
                    )?;
                }
            }
            writeln!(out)?;
        }
        write_filtered(report, out)?;
        write_errors(report, out)
    }
}

/// The candidates the built-in filters judged not to be leaks (`--show-filtered`): one row each
/// with the filter's reason; nothing without them.
fn write_filtered(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.filtered.is_some())
        .collect();
    if shown.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Filtered candidates (judged not to be leaks)\n")?;
    writeln!(
        out,
        "| Rule | Filter | Value | Location |\n|---|---|---|---|"
    )?;
    for f in shown {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape(&f.rule_id),
            escape(f.filtered.as_deref().unwrap_or_default()),
            code(&f.redacted),
            location(f)
        )?;
    }
    writeln!(out)
}

/// The repositories holding one secret (a group of findings of one secret_id) in an audit of many
/// repositories, each once with where it came first, in list order; empty otherwise.
fn held_by<'a>(group: &[&'a Finding]) -> Vec<&'a crate::repos::RepoPlace> {
    let mut seen = BTreeSet::new();
    let mut places = Vec::new();
    for p in group
        .iter()
        .flat_map(|f| f.repository.iter().flat_map(|o| &o.places))
    {
        if seen.insert(p.repository.as_str()) {
            places.push(p);
        }
    }
    places
}

/// `## By repository` in an audit of many repositories: each as listed, with its findings and
/// distinct secrets (before the fold across repositories), or why it could not be scanned.
fn write_repositories(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let repos = &report.summary.repositories;
    if repos.is_empty() {
        return Ok(());
    }
    writeln!(out, "## By repository\n")?;
    writeln!(out, "| Repository | Findings | Secrets |\n|---|---:|---:|")?;
    for r in repos {
        match &r.error {
            Some(e) => writeln!(
                out,
                "| {} | not scanned: {} | |",
                code(&r.repository),
                escape(e)
            )?,
            None => writeln!(
                out,
                "| {} | {} | {} |",
                code(&r.repository),
                r.findings,
                r.secrets
            )?,
        }
    }
    writeln!(out)
}

fn write_errors(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.errors.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Unreadable items\n")?;
    for e in &report.errors {
        writeln!(out, "- {}: {}", code(&e.path), escape(&e.message))?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("a|b*[x](y)\n"), "a\\|b\\*\\[x\\](y) ");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(rfc3339_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert!(
            rfc3339_seconds("2020-01-01T00:30:00+01:00") < rfc3339_seconds("2019-12-31T23:45:00Z")
        );
        assert_eq!(rfc3339_seconds("yesterday"), None);
    }
}
