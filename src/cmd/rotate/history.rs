//! What `rotate` knows of git history: the secrets a repository's history holds that the
//! files scanned do not (`--history` rotates them, otherwise they are counted on stderr), and
//! the values of a report made without `--show-secrets`, read back from the places it records.
//!
//! A recovered value is never a guess: the recorded blob (or the file at the recorded commit
//! and path, or the commit message, or the work-tree file) is scanned again and the value is
//! the one of the finding with the report's secret_id, whose hash is the id. A finding whose
//! value cannot be found that way is named and counted.

use crate::finding::{Finding, Secret, SecretId};
use crate::report::json::JsonFinding;
use crate::scan::{Blob, Scanner};
use crate::source::history::{self, HistoryOptions, HistorySource, COMMIT_MESSAGE_PATH};
use anyhow::Result;
use git2::Repository;
use std::collections::HashSet;
use std::path::Path;
use zeroize::Zeroizing;

/// The repository holding `root`, when there is one with at least one commit.
pub(super) fn repository_at(root: &Path) -> Option<Repository> {
    let repo = Repository::discover(root).ok()?;
    (!repo.is_empty().unwrap_or(true)).then_some(repo)
}

/// A history scan of every ref of `repo`, as `leaksweep git` makes it with the same scanner:
/// one finding per secret and path, annotated (commit, date, other places). Returns the
/// findings and the number of items that could not be read.
pub(super) fn scan(
    repo: &Repository,
    scanner: &Scanner,
    max_file_size: u64,
    threads: usize,
) -> Result<(Vec<Finding>, usize)> {
    history::check_object_store(repo)?;
    let opts = HistoryOptions {
        max_file_size,
        threads,
        ..HistoryOptions::default()
    };
    let mut scanned = crate::source::scan(HistorySource { repo, opts: &opts }, scanner)?;
    scanned.output.annotate(repo, &mut scanned.findings, false);
    for f in &mut scanned.findings {
        if let Some(g) = f.git.as_mut() {
            g.locations
                .retain(|l| !scanner.path_drops(&f.rule_id, &l.path));
        }
    }
    let findings = std::mem::take(&mut scanned.findings);
    let findings = history::one_per_secret(&scanned.output.ranks(), findings, false);
    Ok((findings, scanned.errors.len()))
}

/// The history findings whose secret no finding of the work tree holds.
pub(super) fn history_only(tree: &[Finding], history: Vec<Finding>) -> Vec<Finding> {
    let seen: HashSet<&SecretId> = tree.iter().map(|f| &f.secret_id).collect();
    history
        .into_iter()
        .filter(|f| !seen.contains(&f.secret_id))
        .collect()
}

/// Distinct secrets among `findings`.
pub(super) fn distinct(findings: &[Finding]) -> usize {
    findings
        .iter()
        .map(|f| &f.secret_id)
        .collect::<HashSet<_>>()
        .len()
}

/// A finding of a report whose value could not be read back, and why.
pub(super) struct Unrecovered {
    /// `rule_id at path:line (secret 0123abcd...)`, from the report.
    pub(super) what: String,
    pub(super) why: String,
}

/// The value of one report finding made without `--show-secrets`, read from the place it
/// records and checked against its secret_id; `Err` says why it cannot be.
pub(super) fn recover(
    jf: &JsonFinding,
    repo: Option<&Repository>,
    scanner: &Scanner,
) -> std::result::Result<Secret, Unrecovered> {
    let fail = |why: String| Unrecovered {
        what: format!(
            "{} at {}:{} (secret {})",
            jf.rule_id,
            jf.path,
            jf.line,
            jf.secret_id
                .get(..SecretId::SHORT_LEN)
                .unwrap_or(&jf.secret_id)
        ),
        why,
    };
    let data = recorded_bytes(jf, repo).map_err(fail)?;
    let mut scratch = crate::matcher::Scratch::default();
    let found = scanner.scan_blob(&Blob::file(&data, &jf.path), &mut scratch);
    let Some(f) = found.iter().find(|f| f.secret_id.as_str() == jf.secret_id) else {
        return Err(fail(
            "a scan of its recorded content finds no value with its secret_id".into(),
        ));
    };
    // The id is the value's hash: a value that does not hash to it is not the one reported.
    if SecretId::of(f.secret.expose()).as_str() != jf.secret_id {
        return Err(fail(
            "the value found does not hash to its secret_id".into(),
        ));
    }
    Ok(f.secret.clone())
}

/// The content a finding was reported in: the recorded blob, else the file at the recorded
/// commit and path, the commit's message, or (no git provenance) the work-tree file.
fn recorded_bytes(
    jf: &JsonFinding,
    repo: Option<&Repository>,
) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let Some(g) = &jf.git else {
        return std::fs::read(&jf.path)
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read {}: {e}", jf.path));
    };
    let Some(repo) = repo else {
        return Err(
            "it comes from git history and no repository was found (run in the repository, or pass --repo)"
                .into(),
        );
    };
    let oid = |hex: &str| git2::Oid::from_str(hex).ok().filter(|o| !o.is_zero());
    if let Some(blob) = oid(&g.blob) {
        return repo
            .find_blob(blob)
            .map(|b| Zeroizing::new(b.content().to_vec()))
            .map_err(|_| format!("blob {} is not in the repository", short(&g.blob)));
    }
    let Some(commit) = oid(&g.commit) else {
        return Err(format!(
            "the report records no blob or commit for it ({})",
            g.kind
        ));
    };
    let commit = repo
        .find_commit(commit)
        .map_err(|_| format!("commit {} is not in the repository", short(&g.commit)))?;
    if g.kind == "commit-message" || jf.path.ends_with(COMMIT_MESSAGE_PATH) {
        return Ok(Zeroizing::new(commit.message_bytes().to_vec()));
    }
    let entry = commit
        .tree()
        .and_then(|t| t.get_path(Path::new(&jf.path)))
        .map_err(|_| format!("commit {} has no {}", short(&g.commit), jf.path))?;
    repo.find_blob(entry.id())
        .map(|b| Zeroizing::new(b.content().to_vec()))
        .map_err(|_| format!("{} at commit {} is not a file", jf.path, short(&g.commit)))
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}
