//! `leaksweep merge REPORT...`: the shard reports of `git --shard I/N` combined into the report
//! (and exit status) of the unsharded scan. See [`crate::shard`].

use super::scan::Scanned;
use crate::cli::MergeCmd;
use crate::config::{ScanConfig, ScanOptions};
use crate::scan::Summary;
use crate::shard;
use crate::source::history;
use anyhow::{bail, Context, Result};
use std::process::ExitCode;

pub fn run(args: MergeCmd) -> Result<ExitCode> {
    let mut reports = args
        .reports
        .iter()
        .map(|p| shard::read(p))
        .collect::<Result<Vec<_>>>()?;
    shard::check_complete(&reports)?;
    reports.sort_by_key(|r| r.shard.index);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let cfg = ScanConfig::resolve_at(&ScanOptions::from(&args.common), &cwd)?;
    let secrets = reports.iter().all(|r| r.header.secrets);
    if cfg.redact_percent.is_some() && !secrets {
        bail!("--redact shows part of each secret, and the shard reports hold none: run the shards with --show-secrets");
    }
    let ranks = shard::ranks(&reports);
    let links = shard::links(&reports);
    let first = &reports[0].header;
    let (all_locations, expect_input, commits, rules) = (
        first.all_locations,
        first.expect_input,
        first.commits,
        first.rules,
    );
    let mut summary = Summary {
        mode: "git".into(),
        commits: Some(commits),
        blobs: Some(0),
        rules,
        ..Summary::default()
    };
    let (mut findings, mut skipped, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for r in reports {
        let h = &r.header;
        summary.files += h.files;
        summary.bytes += h.bytes;
        summary.blobs = summary.blobs.map(|b| b + h.blobs);
        summary.suppressed_inline += h.suppressed_inline;
        summary.duration_ms = summary.duration_ms.max(h.duration_ms);
        findings.extend(r.findings);
        skipped.extend(r.skipped);
        errors.extend(r.errors);
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    for s in &skipped {
        *summary
            .skipped
            .entry(s.reason.as_str().to_string())
            .or_insert(0) += 1;
    }
    summary.errors = errors.len() as u64;
    let mut findings = history::one_per_secret(&ranks, findings, all_locations);
    findings.sort_by_key(|f| f.sort_key());
    // Where the shards verified token-key pairs (their reports hold no values), annotate them
    // here, at the point of the unsharded scan's triage.
    crate::matcher::jwt_link::apply(&mut findings, &links);
    // The finding and secret counts are triage's to set (`finish`), as for any scan.
    if !secrets && !cfg.quiet {
        // A token and its key in different shards: neither shard held both.
        let unchecked = findings
            .iter()
            .filter(|f| {
                f.notes
                    .iter()
                    .any(|(k, v)| k == "alg" && v.starts_with("HS"))
            })
            .filter(|f| !f.notes.iter().any(|(k, _)| k == "link"))
            .count();
        if unchecked > 0 {
            eprintln!(
                "leaksweep: note: {unchecked} HMAC-signed JWT finding(s) were checked only against keys in \
                 their own shard (shard reports hold no secrets; run the shards with --show-secrets to check \
                 tokens against keys across shards)"
            );
        }
    }
    Scanned {
        cfg,
        findings,
        skipped,
        errors,
        summary,
        expect_input,
    }
    .report()
}
