//! Commit ranges: `BASE..HEAD`, `BASE...HEAD` and a single revision.

use anyhow::{bail, Context, Result};
use git2::{Oid, Repository};

/// Resolves a revision to a commit id, with a clear error.
pub(super) fn peel_commit(repo: &Repository, rev: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .with_context(|| format!("unknown revision '{rev}'"))?;
    let c = obj
        .peel_to_commit()
        .with_context(|| format!("'{rev}' does not name a commit"))?;
    Ok(c.id())
}

/// Splits `BASE..HEAD` (HEAD defaults to `HEAD`); `BASE...HEAD` means from their merge base; a
/// single `REV` means everything reachable from it (returned with an empty base), as a pre-push
/// hook needs for a new branch.
pub fn parse_range(repo: &Repository, spec: &str) -> Result<(String, String)> {
    if let Some((a, b)) = spec.split_once("...") {
        let b = if b.is_empty() { "HEAD" } else { b };
        let base = repo
            .merge_base(peel_commit(repo, a)?, peel_commit(repo, b)?)
            .with_context(|| format!("'{a}' and '{b}' have no common ancestor"))?;
        return Ok((base.to_string(), b.to_string()));
    }
    match spec.split_once("..") {
        Some((a, b)) if !a.is_empty() => {
            let b = if b.is_empty() { "HEAD" } else { b };
            Ok((a.to_string(), b.to_string()))
        }
        Some(_) => {
            bail!("invalid --range '{spec}': expected BASE..HEAD (for example origin/main..HEAD)")
        }
        None => {
            peel_commit(repo, spec)?;
            Ok((String::new(), spec.to_string()))
        }
    }
}
