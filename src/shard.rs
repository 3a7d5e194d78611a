//! Shard reports: what `leaksweep git --shard I/N` writes and `leaksweep merge` reads.
//!
//! A shard scans only the objects whose id falls in its shard, but walks the whole commit graph,
//! so each finding it reports already carries its exact first commit and paths. What it cannot
//! do alone is the last step of a history scan, one finding per secret across every blob
//! ([`crate::source::history::one_per_secret`]): the blobs holding one secret may sit in several
//! shards. So a shard report holds the findings *before* that step, each with the number of file
//! versions it stands for, and the walk rank of every commit they name; `merge` joins the shards'
//! findings and runs the same step, then triage and reporting as an unsharded scan does.
//!
//! The report is JSON Lines: a header (`"type":"shard"`), then findings, skips and errors. It is
//! redacted like every report (no raw secret unless `--show-secrets`), so one thing an unsharded
//! scan does needs the secrets themselves: verifying an HS256 token against a key found in
//! *another* shard. `merge` says how many tokens it could not check that way; shards run with
//! `--show-secrets` keep the values and lose nothing.

use crate::finding::{Finding, Fingerprint, Secret, SecretId};
use crate::git::id::{CommitId, Shard};
use crate::report::json::JsonFinding;
use crate::scan::{ScanError, Skipped};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The shard report's format version.
pub const FORMAT: u32 = 1;

/// The first line of a shard report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub tool_version: String,
    /// `INDEX/COUNT`.
    pub shard: String,
    /// Digest of the commit walk: every shard of one scan has the same.
    pub walk: String,
    pub commits: u64,
    /// Unique blobs of this shard.
    pub blobs: u64,
    pub files: u64,
    pub bytes: u64,
    pub suppressed_inline: u64,
    pub rules: u64,
    pub duration_ms: u64,
    pub all_locations: bool,
    /// True for a scan of the full history (an empty one is an error), false for a range.
    pub expect_input: bool,
    /// Whether findings carry their raw secret (`--show-secrets`).
    pub secrets: bool,
    /// Walk rank of every commit the findings name.
    pub ranks: BTreeMap<String, usize>,
    /// (token, signing secret) pairs by secret_id that this shard verified (without
    /// `--show-secrets` the merge cannot verify them itself).
    #[serde(default)]
    pub links: Vec<(String, String)>,
}

/// One line of a shard report.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Shard(Header),
    Finding {
        /// File versions this finding stands for.
        versions: usize,
        #[serde(flatten)]
        finding: Box<JsonFinding>,
    },
    Skipped(Skipped),
    Error(ScanError),
}

/// Everything one shard report holds.
pub struct ShardReport {
    pub header: Header,
    pub shard: Shard,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ScanError>,
}

/// The shard report of already-cleaned findings (see [`crate::report::clean`]).
pub fn write(
    header: &Header,
    findings: &[Finding],
    skipped: &[Skipped],
    errors: &[ScanError],
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut line = |l: &Line| -> Result<()> {
        serde_json::to_writer(&mut out, l)?;
        out.push(b'\n');
        Ok(())
    };
    line(&Line::Shard(header.clone()))?;
    for f in findings {
        line(&Line::Finding {
            versions: f.git.as_ref().map_or(1, |g| g.versions.max(1)),
            finding: Box::new(JsonFinding::from_finding(f, header.secrets)),
        })?;
    }
    for s in skipped {
        line(&Line::Skipped(s.clone()))?;
    }
    for e in errors {
        line(&Line::Error(e.clone()))?;
    }
    Ok(out)
}

/// Reads one shard report, naming the file and line of whatever is wrong with it.
pub fn read(path: &Path) -> Result<ShardReport> {
    let shown = crate::finding::sanitize(&path.display().to_string()).into_owned();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    let mut header: Option<Header> = None;
    let (mut findings, mut skipped, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let at = || format!("{shown}:{}", i + 1);
        let line: Line = serde_json::from_str(raw).with_context(|| {
            format!("{}: not a shard report line (write shard reports with `leaksweep git --shard I/N`)", at())
        })?;
        match (line, &header) {
            (Line::Shard(h), None) => header = Some(h),
            (Line::Shard(_), Some(_)) => bail!("{}: a second shard header", at()),
            (_, None) => bail!(
                "{}: no shard header first (is this a shard report of `leaksweep git --shard I/N`?)",
                at()
            ),
            (Line::Finding { versions, finding }, Some(_)) => {
                findings.push(to_finding(*finding, versions).with_context(at)?)
            }
            (Line::Skipped(s), Some(_)) => skipped.push(s),
            (Line::Error(e), Some(_)) => errors.push(e),
        }
    }
    let Some(header) = header else {
        bail!("{shown}: empty (a shard report starts with its shard header)");
    };
    if header.format != FORMAT {
        bail!(
            "{shown}: shard report format {} (this leaksweep reads format {FORMAT})",
            header.format
        );
    }
    let shard: Shard = header
        .shard
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{shown}: {e}"))?;
    Ok(ShardReport {
        header,
        shard,
        findings,
        skipped,
        errors,
    })
}

/// A finding as it was before serialization (less what no report holds: the raw secret unless
/// shown, and the encoded text a decoded secret sat in, which redaction already used).
fn to_finding(j: JsonFinding, versions: usize) -> Result<Finding> {
    let severity: crate::rules::Severity = j.severity.parse()?;
    let confidence: crate::finding::Confidence =
        j.confidence.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret_id = SecretId::parse(&j.secret_id)
        .with_context(|| format!("not a secret_id: '{}'", j.secret_id))?;
    let mut git = j.git;
    if let Some(g) = git.as_mut() {
        g.versions = versions;
        g.restore_ids();
    }
    Ok(Finding {
        rule_id: j.rule_id,
        description: j.description,
        category: j.category,
        severity,
        confidence,
        path: j.path,
        line: j.line,
        column: j.column,
        end_line: j.end_line,
        end_column: j.end_column,
        span: j.start_offset..j.end_offset,
        preview: j.preview,
        redacted: j.redacted,
        entropy: j.entropy,
        secret_id,
        fingerprint: Fingerprint::from_string(j.fingerprint),
        secret: Secret::new(j.secret.map(String::into_bytes).unwrap_or_default()),
        matched: None,
        notes: j.notes.into_iter().collect(),
        git,
        repository: None,
        filtered: j.filtered,
    })
}

/// The shards of one scan, checked to be exactly that: the same walk, tool and options, and
/// every index from 0 to COUNT-1 once.
pub fn check_complete(reports: &[ShardReport]) -> Result<()> {
    let Some(first) = reports.first() else {
        bail!("no shard reports given");
    };
    let count = first.shard.count;
    let mut seen = vec![false; count as usize];
    for r in reports {
        let h = &r.header;
        if r.shard.count != count {
            bail!(
                "shard {} is one of {} shards, shard {} one of {count}: these reports are not of one sharded scan",
                r.shard, r.shard.count, first.shard
            );
        }
        if h.walk != first.header.walk {
            bail!(
                "shard {} walked a different history than shard {} (the repository changed between them, or they scanned different repositories)",
                r.shard, first.shard
            );
        }
        if h.tool_version != first.header.tool_version
            || h.all_locations != first.header.all_locations
            || h.expect_input != first.header.expect_input
            || h.rules != first.header.rules
        {
            bail!(
                "shard {} ran with another leaksweep version, rule set or options than shard {}: run every shard alike",
                r.shard, first.shard
            );
        }
        let slot = &mut seen[r.shard.index as usize];
        if *slot {
            bail!("shard {} is given twice", r.shard);
        }
        *slot = true;
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "missing shard report(s): {} (a merge needs every shard, or its findings would be incomplete)",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Every shard's verified (token, secret) pairs.
pub fn links(reports: &[ShardReport]) -> Vec<(SecretId, SecretId)> {
    reports
        .iter()
        .flat_map(|r| r.header.links.iter())
        .filter_map(|(t, s)| Some((SecretId::parse(t)?, SecretId::parse(s)?)))
        .collect()
}

/// The walk ranks every shard recorded, as one table (shards agree on shared commits: one walk).
pub fn ranks(reports: &[ShardReport]) -> crate::git::walk::Ranks {
    crate::git::walk::Ranks::from_pairs(reports.iter().flat_map(|r| {
        r.header
            .ranks
            .iter()
            .filter_map(|(c, &rank)| Some((CommitId::from_hex(c)?, rank)))
    }))
}
