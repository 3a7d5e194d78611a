//! Exposure: the refs that reach each history finding, so an audit can tell a secret only an
//! old tag still holds from one on `main`.
//!
//! A finding is held by commits: the one that introduced its blob, the first commits of the
//! other file versions the scan folded into it, the commits of its locations (every one with
//! `--all-locations`), or for a commit message the commits whose message holds it. A ref
//! reaches the finding when its history contains one of them, which [`Graph::reaching`]
//! answers for every finding at once from the walk's parent links. An annotated tag's message
//! is reached by the refs whose tag chain holds that tag object. An unreachable blob has no
//! refs (an empty list). Names are full (`refs/heads/main`), sorted; every stash entry is
//! `refs/stash`, `HEAD` is named only when it is detached (else its branch is), and a symbolic
//! ref (`refs/remotes/origin/HEAD`) not at all (the ref it names is).
//!
//! A blob that a commit on another line of history added again independently (not inherited
//! from the introducing commit) is a holder only where the scan recorded it: as a location, or
//! as a folded version with a new blob id. With `--all-locations` every commit holding it is.
//! A blob that only a tag on a tree or blob names (no commit holds it) has no refs.

use super::History;
use crate::finding::{Finding, SecretId};
use crate::git::id::{CommitId, IdMap, ObjectId};
use crate::git::walk::{Graph, Ranks};
use std::collections::{BTreeSet, HashMap};

/// What the walk knows of the refs: the graph by rank, each ref's commit, each tag object's
/// refs.
#[derive(Default)]
pub(super) struct Exposure {
    /// Ref names as reported, sorted and unique.
    names: Vec<String>,
    /// (commit rank, index into `names`) of every ref that peels to a walked commit.
    tips: Vec<(u32, u32)>,
    /// Annotated tag object -> the refs whose tag chain holds it.
    tags: IdMap<Vec<u32>>,
    graph: Graph,
}

/// The walk's view of one ref: its reported name, the commit it peels to (if it peels to a
/// commit) and the annotated tag objects on the way.
pub(super) struct Tip {
    pub(super) name: String,
    pub(super) commit: Option<ObjectId>,
    pub(super) tags: Vec<ObjectId>,
}

/// The commits and tag objects holding one finding (before the one-per-secret fold), as the
/// history scan met them.
#[derive(Debug, Clone, Default)]
pub(super) struct Holders {
    /// Walk ranks of commits.
    pub(super) commits: Vec<u32>,
    /// Annotated tags whose message holds it.
    pub(super) tags: Vec<ObjectId>,
}

impl Holders {
    /// Adds a commit (`NO_COMMIT` is none) or a tag; repeats in a row are kept once.
    pub(super) fn add(&mut self, commit: u32, tag: Option<ObjectId>) {
        if commit != super::NO_COMMIT && self.commits.last() != Some(&commit) {
            self.commits.push(commit);
        }
        if let Some(t) = tag.filter(|t| self.tags.last() != Some(t)) {
            self.tags.push(t);
        }
    }
}

/// The holders of each folded finding, by its fold key (secret, rule, path).
pub(super) type HolderTable = HashMap<(SecretId, String, String), Holders>;

impl Exposure {
    /// The exposure of a walk: `commits` in walk order, their parent links, and its refs.
    pub(super) fn new(commits: &[CommitId], graph: Graph, refs: Vec<Tip>) -> Exposure {
        let names: Vec<String> = refs
            .iter()
            .map(|t| t.name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = |name: &str| names.binary_search_by(|n| n.as_str().cmp(name)).ok();
        let ranks = Ranks::of(commits);
        let mut tips = Vec::new();
        let mut tags: IdMap<Vec<u32>> = IdMap::default();
        for t in &refs {
            let Some(n) = index(&t.name) else { continue };
            let n = n as u32;
            let rank = t.commit.map_or(usize::MAX, |c| ranks.get(CommitId(c)));
            if rank != usize::MAX {
                tips.push((rank as u32, n));
            }
            for tag in &t.tags {
                tags.entry(*tag).or_default().push(n);
            }
        }
        tips.sort_unstable();
        tips.dedup();
        Exposure {
            names,
            tips,
            tags,
            graph,
        }
    }

    /// Sets `git.refs` of every finding: the refs reaching its holders (the table's entry for
    /// its fold key, plus its own commit or tag and the commits of its locations).
    pub(super) fn expose(&self, history: &History, findings: &mut [Finding]) {
        let ranks = history.ranks();
        let mut targets = Vec::with_capacity(findings.len());
        let mut tag_refs = Vec::with_capacity(findings.len());
        for f in findings.iter() {
            let Some(g) = f.git.as_ref() else {
                targets.push(Vec::new());
                tag_refs.push(BTreeSet::new());
                continue;
            };
            let key = (f.secret_id.clone(), f.rule_id.clone(), f.path.clone());
            let mut holders = history.holders.get(&key).cloned().unwrap_or_default();
            let own = g.ids.commit.map_or(usize::MAX, |c| ranks.get(c));
            holders.add(rank_index(own), g.ids.tag);
            for l in &g.locations {
                holders.add(rank_index(ranks.of_hex(&l.commit)), None);
            }
            holders.commits.sort_unstable();
            holders.commits.dedup();
            let by_tag: BTreeSet<u32> = holders
                .tags
                .iter()
                .filter_map(|t| self.tags.get(t))
                .flatten()
                .copied()
                .collect();
            targets.push(holders.commits);
            tag_refs.push(by_tag);
        }
        let tip_ranks: Vec<u32> = self.tips.iter().map(|&(rank, _)| rank).collect();
        let reached = self.graph.reaching(&targets, &tip_ranks);
        for ((f, tips), mut names) in findings.iter_mut().zip(reached).zip(tag_refs) {
            let Some(g) = f.git.as_mut() else { continue };
            names.extend(tips.into_iter().map(|t| self.tips[t].1));
            // Names are sorted, so sorted indices give sorted names.
            g.refs = Some(
                names
                    .into_iter()
                    .map(|n| self.names[n as usize].clone())
                    .collect(),
            );
        }
    }
}

/// A walk rank as an item's commit index (`NO_COMMIT` for a commit outside the walk).
fn rank_index(rank: usize) -> u32 {
    u32::try_from(rank).unwrap_or(super::NO_COMMIT)
}

/// The name every stash entry (`stash@{N}`, the stash reflog's) is reported by.
pub(super) const STASH_REF: &str = "refs/stash";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_keep_one_of_a_repeat() {
        let mut h = Holders::default();
        let t = ObjectId::from_bytes(&[7; 20]);
        h.add(3, None);
        h.add(3, t);
        h.add(super::super::NO_COMMIT, t);
        h.add(1, None);
        assert_eq!(h.commits, [3, 1]);
        assert_eq!(h.tags.len(), 1);
    }
}
