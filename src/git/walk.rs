//! The commit walk every history reader shares: oldest first, parents before children
//! (`TOPOLOGICAL | REVERSE`), each commit's rank in it, and the walked graph by rank, which
//! answers "which tips reach these commits" in one pass over the edges per 64 questions.

use super::id::{CommitId, IdMap, ObjectId};
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

/// The parents a raw commit names: its `parent` header lines, which follow the `tree` line.
pub fn raw_parents(raw: &[u8]) -> impl Iterator<Item = ObjectId> + '_ {
    raw.split(|&b| b == b'\n')
        .skip(1)
        .map_while(|line| line.strip_prefix(b"parent "))
        .filter_map(|hex| std::str::from_utf8(hex).ok().and_then(ObjectId::from_hex))
}

/// The walked commits' parent links, by rank, in compressed rows: commit `r`'s parents are
/// `parents[start[r]..start[r + 1]]`. Only links to an earlier rank are kept: in an oldest-first
/// walk that is every parent the walk holds; a parent outside it (past a shallow boundary or a
/// range's base) has no rank. Memory: 4 bytes per commit and per edge.
#[derive(Debug, Clone)]
pub struct Graph {
    start: Vec<u32>,
    parents: Vec<u32>,
}

impl Default for Graph {
    fn default() -> Graph {
        Graph {
            start: vec![0],
            parents: Vec::new(),
        }
    }
}

impl Graph {
    /// Appends the next commit of the walk (rank [`Graph::len`]) with the ranks of its parents.
    pub fn push(&mut self, parents: impl IntoIterator<Item = usize>) {
        let rank = self.len();
        self.parents
            .extend(parents.into_iter().filter(|&p| p < rank).map(|p| p as u32));
        self.start.push(self.parents.len() as u32);
    }

    /// Commits in the graph.
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn parents_of(&self, rank: usize) -> &[u32] {
        &self.parents[self.start[rank] as usize..self.start[rank + 1] as usize]
    }

    /// For each target (a set of commit ranks), the indices of the `tips` (commit ranks) that
    /// reach it: whose commit is one of the target's commits or descends from one. No tips x
    /// commits table: per block of 64 targets, one `u64` per commit whose bits say which targets
    /// it reaches, propagated from parents to children in walk order (parents rank first), so a
    /// block costs one pass over the edges, from the oldest target commit on. Ranks outside the
    /// graph reach nothing.
    pub fn reaching(&self, targets: &[Vec<u32>], tips: &[u32]) -> Vec<Vec<usize>> {
        let n = self.len();
        let mut out = vec![Vec::new(); targets.len()];
        let mut words = vec![0u64; n];
        for (block, chunk) in targets.chunks(64).enumerate() {
            words.fill(0);
            let mut oldest = n;
            for (bit, commits) in chunk.iter().enumerate() {
                for &c in commits.iter().filter(|&&c| (c as usize) < n) {
                    words[c as usize] |= 1 << bit;
                    oldest = oldest.min(c as usize);
                }
            }
            for c in oldest..n {
                let mut w = words[c];
                for &p in self.parents_of(c) {
                    w |= words[p as usize];
                }
                words[c] = w;
            }
            for (t, &tip) in tips.iter().enumerate() {
                let mut w = words.get(tip as usize).copied().unwrap_or(0);
                while w != 0 {
                    out[block * 64 + w.trailing_zeros() as usize].push(t);
                    w &= w - 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0 - 1 - 2 - 4 (main), 1 - 3 (side), 5 alone (an orphan branch).
    fn sample() -> Graph {
        let mut g = Graph::default();
        for parents in [&[][..], &[0], &[1], &[1], &[2, 3], &[]] {
            g.push(parents.iter().copied());
        }
        g
    }

    #[test]
    fn reaching_follows_descendants_only() {
        let g = sample();
        assert_eq!(g.len(), 6);
        // Tips: main (4), side (3), orphan (5), an old tag (1).
        let tips = [4, 3, 5, 1];
        let got = g.reaching(
            &[
                vec![2],
                vec![3],
                vec![0],
                vec![5],
                vec![2, 5],
                vec![],
                vec![9],
            ],
            &tips,
        );
        assert_eq!(
            got,
            [
                vec![0],
                vec![0, 1],
                vec![0, 1, 3],
                vec![2],
                vec![0, 2],
                vec![],
                vec![]
            ]
        );
    }

    #[test]
    fn reaching_more_than_64_targets() {
        let mut g = Graph::default();
        for r in 0..200usize {
            g.push(r.checked_sub(1));
        }
        let targets: Vec<Vec<u32>> = (0..200).map(|r| vec![r]).collect();
        // A tip at rank 100 reaches targets 0..=100, one at 150 reaches 0..=150.
        let got = g.reaching(&targets, &[100, 150]);
        assert_eq!(got[0], [0, 1]);
        assert_eq!(got[100], [0, 1]);
        assert_eq!(got[101], [1]);
        assert_eq!(got[150], [1]);
        assert!(got[151].is_empty());
    }

    #[test]
    fn parents_of_a_raw_commit() {
        let t = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let p = "1111111111111111111111111111111111111111";
        let q = "2222222222222222222222222222222222222222";
        let raw =
            format!("tree {t}\nparent {p}\nparent {q}\nauthor A <a@x> 1 +0000\n\nparent {t}\n");
        let got: Vec<String> = raw_parents(raw.as_bytes()).map(|o| o.to_string()).collect();
        assert_eq!(got, [p, q]);
        assert_eq!(
            raw_parents(format!("tree {t}\nauthor A\n").as_bytes()).count(),
            0
        );
    }

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
