//! The commit walk every history reader shares: oldest first, parents before children
//! (`TOPOLOGICAL | REVERSE`), and each commit's rank in it.

use super::id::{CommitId, IdMap};
use git2::{Repository, Revwalk, Sort};

/// A walk that yields commits oldest first: a commit comes after all of its ancestors.
pub fn oldest_first(repo: &Repository) -> Result<Revwalk<'_>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    Ok(walk)
}

/// Each walked commit's position in an oldest-first walk. Comparing ranks orders commits by
/// "introduced first" without walking the graph for each pair; a commit outside the walk
/// ranks after every walked one.
#[derive(Debug, Clone, Default)]
pub struct Ranks(IdMap<usize, CommitId>);

impl Ranks {
    /// Ranks of `commits`, given in walk order.
    pub fn of(commits: &[CommitId]) -> Ranks {
        Ranks(commits.iter().enumerate().map(|(i, &c)| (c, i)).collect())
    }

    /// Ranks given as (commit, rank) pairs (as a shard report carries them).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (CommitId, usize)>) -> Ranks {
        Ranks(pairs.into_iter().collect())
    }

    /// The rank of `commit`; [`usize::MAX`] for one outside the walk.
    pub fn get(&self, commit: CommitId) -> usize {
        self.0.get(&commit).copied().unwrap_or(usize::MAX)
    }

    /// The rank of a commit written in hex; [`usize::MAX`] for one outside the walk or not an id.
    pub fn of_hex(&self, commit: &str) -> usize {
        CommitId::from_hex(commit).map_or(usize::MAX, |c| self.get(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks() {
        let c = |n: u8| CommitId::from_hex(&format!("{n:02x}").repeat(20)).unwrap();
        let r = Ranks::of(&[c(3), c(1), c(2)]);
        assert_eq!(r.get(c(3)), 0);
        assert_eq!(r.get(c(2)), 2);
        assert_eq!(r.get(c(9)), usize::MAX);
        assert_eq!(r.of_hex(&c(1).to_string()), 1);
        assert_eq!(r.of_hex(""), usize::MAX);
        assert_eq!(r.of_hex("xyz"), usize::MAX);
    }
}
