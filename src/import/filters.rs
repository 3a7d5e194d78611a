//! History filters of `leaksweep git`: `--since-date`, `--until-date` (the committer date of the
//! commit that introduced a finding) and `--path GLOB` (the path of a finding).
//!
//! They are applied to the findings of a history scan, after provenance is known and before
//! each secret is reduced to one finding: every blob is still scanned (cost does not shrink),
//! but only findings introduced inside the window, at a matching path, are reported. A secret
//! introduced before the window and copied to another path inside it is reported at that path.
//! Findings in commit and tag messages have no path: `--path` drops them; findings without a
//! commit (unreachable blobs) have no date: a date filter drops them. With `-v` each dropped
//! finding is named on stderr; otherwise only the count is.

use crate::finding::{sanitize, Finding};
use anyhow::{bail, Context, Result};

/// The filters, parsed.
#[derive(Debug, Default)]
pub struct HistoryFilter {
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, inclusive.
    pub until: Option<i64>,
    paths: Option<(globset::GlobSet, globset::GlobSet)>,
}

impl HistoryFilter {
    /// Parses the command-line values; an error names the option.
    pub fn new(since: Option<&str>, until: Option<&str>, paths: &[String]) -> Result<Self> {
        let since = since
            .map(|s| parse_date(s, false).with_context(|| format!("invalid --since-date '{s}'")))
            .transpose()?;
        let until = until
            .map(|s| parse_date(s, true).with_context(|| format!("invalid --until-date '{s}'")))
            .transpose()?;
        if let (Some(a), Some(b)) = (since, until) {
            if a > b {
                bail!("--since-date is after --until-date: no commit can match");
            }
        }
        let paths = if paths.is_empty() {
            None
        } else {
            let mut full = globset::GlobSetBuilder::new();
            let mut names = globset::GlobSetBuilder::new();
            for p in paths {
                let g = globset::GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .with_context(|| format!("invalid --path glob '{p}'"))?;
                if p.contains('/') {
                    full.add(g);
                } else {
                    names.add(g);
                }
            }
            Some((full.build()?, names.build()?))
        };
        Ok(HistoryFilter {
            since,
            until,
            paths,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.until.is_none() && self.paths.is_none()
    }

    fn path_ok(&self, path: &str) -> bool {
        let Some((full, names)) = &self.paths else {
            return true;
        };
        if path.starts_with('<') {
            // Commit and tag messages, unreachable blobs: not a path of the tree.
            return false;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        full.is_match(path) || names.is_match(name)
    }

    /// Keeps the findings inside the filters; prints what was dropped (count, or each with
    /// `verbose`) on stderr unless `quiet`.
    pub fn apply(
        &self,
        repo: &git2::Repository,
        findings: &mut Vec<Finding>,
        verbose: bool,
        quiet: bool,
    ) {
        if self.is_empty() {
            return;
        }
        let mut dates: std::collections::HashMap<String, Option<i64>> = Default::default();
        let mut date_of = |commit: &str| -> Option<i64> {
            *dates.entry(commit.to_string()).or_insert_with(|| {
                let id = git2::Oid::from_str(commit).ok()?;
                match repo.find_commit(id) {
                    Ok(c) => Some(c.committer().when().seconds()),
                    // A tag message: the tagger's date.
                    Err(_) => repo
                        .find_tag(id)
                        .ok()
                        .and_then(|t| t.tagger().map(|s| s.when().seconds())),
                }
            })
        };
        let redactor = crate::finding::Redactor::from_findings(findings);
        let before = findings.len();
        let mut dropped = Vec::new();
        findings.retain(|f| {
            let commit = f.git.as_ref().map_or("", |g| g.commit.as_str());
            let in_window = if self.since.is_none() && self.until.is_none() {
                true
            } else {
                match (!commit.is_empty()).then(|| date_of(commit)).flatten() {
                    Some(t) => {
                        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
                    }
                    None => false,
                }
            };
            let keep = in_window && self.path_ok(&f.path);
            if !keep && verbose {
                dropped.push(format!(
                    "{}:{} ({}, commit {})",
                    sanitize(&redactor.redact(&f.path)),
                    f.line,
                    f.rule_id,
                    commit.get(..12).unwrap_or(commit)
                ));
            }
            keep
        });
        let n = before - findings.len();
        if n > 0 && !quiet {
            eprintln!(
                "leaksweep: {n} finding(s) outside --since-date/--until-date/--path not reported"
            );
            for d in dropped {
                eprintln!("leaksweep: outside the history filters: {d}");
            }
        }
    }
}

/// Parses `YYYY-MM-DD` or RFC 3339 (`2024-05-01T12:00:00Z`, `...+02:00`) into Unix seconds. A
/// bare date is the start of that day (UTC), or with `end_of_day` its last second, so
/// `--until-date 2024-05-01` includes commits of May 1st.
pub fn parse_date(s: &str, end_of_day: bool) -> Result<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        let t = s.get(r).context("expected YYYY-MM-DD or RFC 3339")?;
        if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
            bail!("expected YYYY-MM-DD or RFC 3339 (e.g. 2024-05-01T12:00:00Z)");
        }
        Ok(t.parse::<i64>()?)
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        bail!("expected YYYY-MM-DD or RFC 3339 (e.g. 2024-05-01T12:00:00Z)");
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        bail!("no such date");
    }
    let day = days_from_civil(y, m, d) * 86_400;
    if b.len() == 10 {
        return Ok(if end_of_day { day + 86_399 } else { day });
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        bail!("expected YYYY-MM-DD or RFC 3339 (e.g. 2024-05-01T12:00:00Z)");
    }
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hh > 23 || mm > 59 || ss > 60 {
        bail!("no such time");
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            bail!("expected digits after '.'");
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => bail!("expected a time zone (Z or +HH:MM)"),
            };
            let r = &rest[1..];
            let ok = r.len() == 5
                && r.as_bytes()[2] == b':'
                && r.bytes()
                    .enumerate()
                    .all(|(i, c)| i == 2 || c.is_ascii_digit());
            if !ok {
                bail!("expected a time zone (Z or +HH:MM)");
            }
            let (oh, om): (i64, i64) = (r[..2].parse()?, r[3..].parse()?);
            if oh > 23 || om > 59 {
                bail!("no such time zone offset");
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Ok(day + hh * 3600 + mm * 60 + ss - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01", false).unwrap(), 0);
        assert_eq!(parse_date("1970-01-01", true).unwrap(), 86_399);
        assert_eq!(
            parse_date("2024-03-01T00:00:00Z", false).unwrap(),
            1_709_251_200
        );
        assert_eq!(
            parse_date("2024-03-01T02:00:00.5+02:00", false).unwrap(),
            1_709_251_200
        );
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "yesterday",
            "2024-03-01T00:00:00",
            "2024-3-1",
        ] {
            assert!(parse_date(bad, false).is_err(), "{bad}");
        }
    }
}
