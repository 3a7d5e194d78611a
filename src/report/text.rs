//! Text for people: findings grouped by file, secrets masked, colours on a terminal, then a summary.
//! History findings are grouped by file and commit, the groups oldest commit first (see
//! [`in_order`]), so the report reads in the order the leaks happened.

use super::{ReportOptions, Reporter};
use crate::scan::Report;
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

pub struct Text;

fn paint(on: bool, style: Style, s: &str) -> String {
    if on {
        format!("{}{s}{}", style.render(), style.render_reset())
    } else {
        s.to_string()
    }
}

impl Reporter for Text {
    fn write(&self, report: &Report, opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
        let c = opts.color;
        let bold = Style::new().bold();
        let red = AnsiColor::Red.on_default().bold();
        let yellow = AnsiColor::Yellow.on_default();
        let dim = Style::new().dimmed();
        let mut current: Option<(Option<&str>, &str, Option<&str>)> = None;
        for f in in_order(&report.findings) {
            let repo = f.repository.as_ref().map(|o| o.repository.as_str());
            let key = (
                repo,
                f.path.as_str(),
                f.git.as_ref().map(|g| g.commit.as_str()),
            );
            if current != Some(key) {
                if current.is_some() {
                    writeln!(out)?;
                }
                if let Some(repo) = repo {
                    write!(out, "{} ", paint(c, bold, &format!("{repo}:")))?;
                }
                match &f.git {
                    Some(g) if !g.commit.is_empty() => writeln!(
                        out,
                        "{} {}",
                        paint(c, bold, &f.path),
                        paint(
                            c,
                            dim,
                            &format!(
                                "(commit {} by {} on {}: {})",
                                short(&g.commit),
                                g.author_name,
                                g.date,
                                g.summary
                            )
                        )
                    )?,
                    _ => writeln!(out, "{}", paint(c, bold, &f.path))?,
                }
                current = Some(key);
            }
            let sev = paint(
                c,
                if f.severity >= crate::rules::Severity::High {
                    red
                } else {
                    yellow
                },
                f.severity.as_str(),
            );
            writeln!(
                out,
                "  {}:{}  {}  {}{} [{}]",
                f.line,
                f.column,
                sev,
                f.rule_id,
                filtered_marker(f),
                f.confidence.as_str()
            )?;
            writeln!(out, "    {}", f.preview)?;
            if opts.show_secrets {
                writeln!(out, "    secret: {}", f.secret.expose_str())?;
            }
            writeln!(
                out,
                "    {}",
                paint(
                    c,
                    dim,
                    &format!("secret_id {}", &f.secret_id.as_str()[..16])
                )
            )?;
            for (k, v) in &f.notes {
                writeln!(out, "    {}", paint(c, dim, &format!("{k}: {v}")))?;
            }
            if let Some(g) = &f.git {
                // `--all-locations` lists the finding's own place too.
                let others: Vec<&crate::finding::GitLocation> = g
                    .locations
                    .iter()
                    .filter(|l| !(l.commit == g.commit && l.path == f.path))
                    .collect();
                if !others.is_empty() {
                    writeln!(out, "    {}", paint(c, dim, &also_at(&others)))?;
                }
                if let Some(refs) = &g.refs {
                    writeln!(out, "    {}", paint(c, dim, &reachable_from(refs)))?;
                }
            }
            if let Some(line) = f.repository.as_ref().and_then(also_in) {
                writeln!(out, "    {}", paint(c, bold, &line))?;
            }
        }
        if !report.findings.is_empty() {
            writeln!(out)?;
        }
        if opts.verbose {
            for s in &report.skipped {
                writeln!(out, "skipped {} ({})", s.path, s.reason.as_str())?;
            }
        }
        for e in &report.errors {
            writeln!(out, "{} {}: {}", paint(c, red, "error:"), e.path, e.message)?;
        }
        if opts.quiet {
            return Ok(());
        }
        let s = &report.summary;
        let skipped: u64 = s.skipped.values().sum();
        let mut line = format!(
            "{} finding{} ({} distinct secret{}) in {} file{}, {} scanned in {} ms",
            s.findings,
            plural(s.findings),
            s.secrets,
            plural(s.secrets),
            s.files,
            plural(s.files),
            human_bytes(s.bytes),
            s.duration_ms
        );
        if let Some(commits) = s.commits {
            line.push_str(&format!(
                "; {commits} commits, {} blobs",
                s.blobs.unwrap_or(0)
            ));
        }
        if skipped > 0 {
            let detail: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{v} {k}")).collect();
            line.push_str(&format!("; skipped {skipped} ({})", detail.join(", ")));
        }
        if s.errors > 0 {
            line.push_str(&format!("; {} error{}", s.errors, plural(s.errors)));
        }
        if !s.repositories.is_empty() {
            let failed = s.repositories.iter().filter(|r| r.error.is_some()).count();
            line.push_str(&format!("; {} repositories", s.repositories.len()));
            if failed > 0 {
                line.push_str(&format!(" ({failed} failed)"));
            }
        }
        if s.suppressed_inline > 0 {
            line.push_str(&format!(
                "; {} suppressed by inline allow",
                s.suppressed_inline
            ));
        }
        if s.suppressed_baseline > 0 {
            line.push_str(&format!(
                "; {} suppressed by baseline",
                s.suppressed_baseline
            ));
        }
        if s.filtered > 0 {
            line.push_str(&format!("; {}", filtered_count(s.filtered)));
        }
        let style = if s.findings > 0 || s.errors > 0 {
            red
        } else {
            AnsiColor::Green.on_default()
        };
        writeln!(out, "{}", paint(c, style, &line))
    }
}

/// ` [filtered: REASON]` after the rule id of a candidate a built-in filter rejected
/// (`--show-filtered`), else nothing.
pub fn filtered_marker(f: &crate::finding::Finding) -> String {
    f.filtered
        .as_deref()
        .map(|r| format!(" [filtered: {r}]"))
        .unwrap_or_default()
}

/// `N filtered candidate(s) shown`.
fn filtered_count(n: u64) -> String {
    format!("{n} filtered candidate{} shown", plural(n))
}

/// `, N filtered candidates shown` for the summary line on stderr when `--show-filtered`
/// showed any, else nothing.
pub fn filtered_note(s: &crate::scan::Summary) -> String {
    if s.filtered == 0 {
        return String::new();
    }
    format!(", {}", filtered_count(s.filtered))
}

/// The findings as the report shows them: groups of one path (and, from history, one commit),
/// kept in their sorted order inside; groups without a commit first, in path order, then the
/// history groups by author date, oldest first (ties in path order).
fn in_order(findings: &[crate::finding::Finding]) -> Vec<&crate::finding::Finding> {
    fn repo(f: &crate::finding::Finding) -> Option<&str> {
        f.repository.as_ref().map(|o| o.repository.as_str())
    }
    fn key(f: &crate::finding::Finding) -> (Option<&str>, &str, Option<&str>) {
        (
            repo(f),
            f.path.as_str(),
            f.git.as_ref().map(|g| g.commit.as_str()),
        )
    }
    // Repositories (of a `--repos` audit) keep the order they come in; inside each, the dates.
    let mut repos: Vec<Option<&str>> = Vec::new();
    for f in findings {
        if !repos.contains(&repo(f)) {
            repos.push(repo(f));
        }
    }
    let mut groups: Vec<&[crate::finding::Finding]> =
        findings.chunk_by(|a, b| key(a) == key(b)).collect();
    groups.sort_by_key(|g| {
        let date = g[0]
            .git
            .as_ref()
            .filter(|g| !g.commit.is_empty())
            .map(|g| crate::git::time::parse_rfc3339(&g.date).unwrap_or(i64::MIN));
        (repos.iter().position(|r| *r == repo(&g[0])), date)
    });
    groups.into_iter().flatten().collect()
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1.2 MiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `also in: repo-b (path:line @ abc1234), ...`: every other repository holding the secret (each
/// is a place to rotate it, so all are listed); `None` when no other repository holds it.
pub(super) fn also_in(origin: &crate::repos::RepoOrigin) -> Option<String> {
    let parts: Vec<String> = origin
        .others()
        .map(|p| match p.commit.as_str() {
            "" => format!("{} ({}:{})", p.repository, p.path, p.line),
            c => format!("{} ({}:{} @ {})", p.repository, p.path, p.line, short(c)),
        })
        .collect();
    (!parts.is_empty()).then(|| format!("also in: {}", parts.join(", ")))
}

/// `also at: path:line (commit abc1234), ... (+N more)`: the first few other places.
fn also_at(locations: &[&crate::finding::GitLocation]) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = locations
        .iter()
        .take(SHOWN)
        .map(|l| match l.line {
            Some(line) => format!("{}:{line} (commit {})", l.path, short(&l.commit)),
            None => format!("{} (commit {})", l.path, short(&l.commit)),
        })
        .collect();
    if locations.len() > SHOWN {
        parts.push(format!("(+{} more)", locations.len() - SHOWN));
    }
    format!("also at: {}", parts.join(", "))
}

/// `reachable from: main, v1.0 (+3 more)`: the first few refs whose history holds the secret,
/// by short name (`refs/heads/`, `refs/tags/`, `refs/remotes/` left off; the stash as `stash`).
fn reachable_from(refs: &[String]) -> String {
    const SHOWN: usize = 3;
    if refs.is_empty() {
        return "reachable from: no ref".to_string();
    }
    let parts: Vec<&str> = refs
        .iter()
        .take(SHOWN)
        .map(|r| match r.as_str() {
            "refs/stash" => "stash",
            r => ["refs/heads/", "refs/tags/", "refs/remotes/"]
                .iter()
                .find_map(|p| r.strip_prefix(p))
                .unwrap_or(r),
        })
        .collect();
    let mut line = format!("reachable from: {}", parts.join(", "));
    if refs.len() > SHOWN {
        line.push_str(&format!(" (+{} more)", refs.len() - SHOWN));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::reachable_from;

    #[test]
    fn reachable_from_names_a_few_refs_briefly() {
        let refs = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(reachable_from(&[]), "reachable from: no ref");
        assert_eq!(
            reachable_from(&refs(&["refs/heads/main", "refs/tags/v1.0"])),
            "reachable from: main, v1.0"
        );
        assert_eq!(
            reachable_from(&refs(&[
                "refs/heads/main",
                "refs/notes/x",
                "refs/remotes/origin/dev",
                "refs/stash",
                "refs/tags/v1",
            ])),
            "reachable from: main, refs/notes/x, origin/dev (+2 more)"
        );
        assert_eq!(
            reachable_from(&refs(&["refs/stash"])),
            "reachable from: stash"
        );
    }
}
