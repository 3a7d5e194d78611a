//! Folding repeats: one finding per (secret, rule, path) while blobs are scanned, then one per
//! (secret, rule) for the report, both choosing the older finding by [`older`].

use super::exposure::{HolderTable, Holders};
use crate::finding::{Finding, GitLocation, SecretId};
use crate::git::id::ObjectId;
use crate::git::walk::Ranks;
use std::collections::{BTreeSet, HashMap};

/// The one definition of "older" for history findings: earlier in the topological walk (an
/// ancestor always ranks first; commits outside the walk, such as tag messages and unreachable
/// blobs, rank last, see [`Ranks`]), then by path, then by line, so that which finding is kept
/// never depends on the order the worker threads finished in.
pub fn older(a_rank: usize, a: &Finding, b_rank: usize, b: &Finding) -> bool {
    (a_rank, &a.path, a.line) < (b_rank, &b.path, b.line)
}

/// The walk rank of an item's commit index (`NO_COMMIT` ranks last).
fn rank_of_index(commit: u32) -> usize {
    if commit == super::NO_COMMIT {
        usize::MAX
    } else {
        commit as usize
    }
}

/// History findings reduced as blobs are scanned: per (secret, rule, path), the finding from the
/// earliest commit in the walk, and how many versions (blobs) hold it. A secret kept through a
/// million file versions then costs one finding of memory, not a million.
#[derive(Default)]
pub(super) struct Reducer {
    pub(super) keep_blobs: bool,
    pub(super) map: std::sync::Mutex<Kept>,
}

/// (secret, rule, path) -> (walk rank of the kept finding's commit, the finding, the commits and
/// tags of every version folded into it).
type Kept = HashMap<(SecretId, String, String), (usize, Finding, Holders)>;

impl Reducer {
    /// Folds the findings of one item, which `commit` (an index, or `NO_COMMIT`) or, for a tag
    /// message, `tag` holds: each becomes the kept finding of its key or a counted version of it,
    /// and its holder is recorded either way (see [`super::exposure`]).
    pub(super) fn add(&self, commit: u32, tag: Option<ObjectId>, findings: Vec<Finding>) {
        let rank = rank_of_index(commit);
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for mut f in findings {
            let key = (f.secret_id.clone(), f.rule_id.clone(), f.path.clone());
            let Some((best_rank, best, holders)) = map.get_mut(&key) else {
                let mut holders = Holders::default();
                holders.add(commit, tag);
                map.insert(key, (rank, f, holders));
                continue;
            };
            holders.add(commit, tag);
            // Same path (it is part of the key): older by rank, then line.
            let newcomer_older = older(rank, &f, *best_rank, best);
            let (Some(g), Some(bg)) = (f.git.as_mut(), best.git.as_mut()) else {
                continue;
            };
            let versions = bg.versions.max(1) + g.versions.max(1);
            if newcomer_older {
                // The newcomer is older: it becomes the finding, the old one a counted version.
                g.other_blobs = std::mem::take(&mut bg.other_blobs);
                if let Some(blob) = bg.ids.blob.filter(|_| self.keep_blobs) {
                    g.other_blobs.push((blob, best.line));
                }
                g.versions = versions;
                *best_rank = rank;
                *best = f;
            } else {
                bg.versions = versions;
                if let Some(blob) = g.ids.blob.filter(|_| self.keep_blobs) {
                    bg.other_blobs.push((blob, f.line));
                }
            }
        }
    }

    /// The kept findings, and the holders of each by its key.
    pub(super) fn take_findings(&self) -> (Vec<Finding>, HolderTable) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = HolderTable::with_capacity(map.len());
        let findings = std::mem::take(&mut *map)
            .into_iter()
            .map(|(key, (_, f, holders))| {
                table.insert(key, holders);
                f
            })
            .collect();
        (findings, table)
    }
}

/// One (secret, rule) while [`one_per_secret`] folds: the oldest finding of each path, every
/// location with `--all-locations`, the file versions, and the union of the refs reaching them.
#[derive(Default)]
struct Group {
    per_path: Vec<Finding>,
    all: Vec<GitLocation>,
    versions: usize,
    refs: Option<BTreeSet<String>>,
}

/// History reports each leaked secret once: one finding per (secret, rule), at the place that
/// introduced it first (earliest commit in the topological walk, then path), because in history
/// the unit of work is the secret (rotate it once, purge it once), not the file version. A
/// secret that sat in `config/.env` for 200 commits and was copied to `deploy/.env` is one
/// finding, not 200 or 2.
///
/// `git.locations` lists the other places: each other path (at the oldest commit holding the
/// secret there), or with `--all-locations` every (commit, path) of every blob that holds it. The
/// `versions` note counts the file versions and paths that hold it; `git.refs` is the union of
/// the refs reaching each of the findings folded (so a merge of shards gives what one scan does).
pub fn one_per_secret(ranks: &Ranks, findings: Vec<Finding>, all_locations: bool) -> Vec<Finding> {
    let rank = |f: &Finding| {
        f.git
            .as_ref()
            .and_then(|g| g.ids.commit)
            .map_or(usize::MAX, |c| ranks.get(c))
    };
    let older = |a: &Finding, b: &Finding| older(rank(a), a, rank(b), b);

    // Group, keeping per group the oldest finding of each path.
    let mut groups: Vec<Group> = Vec::new();
    // A candidate shown as filtered is folded apart from the findings of its secret and rule.
    let mut index: HashMap<(SecretId, String, bool), usize> = HashMap::new();
    // (group, path) -> position in that group's per-path list.
    let mut slots: HashMap<(usize, String), usize> = HashMap::new();
    for f in findings {
        let key = (f.secret_id.clone(), f.rule_id.clone(), f.filtered.is_some());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Group::default());
            groups.len() - 1
        });
        let Group {
            per_path,
            all,
            versions,
            refs,
        } = &mut groups[i];
        // The history scan already folded the versions of one path into one finding.
        *versions += f.git.as_ref().map_or(1, |g| g.versions.max(1));
        // The refs reaching any of the group's findings reach the secret.
        if let Some(r) = f.git.as_ref().and_then(|g| g.refs.as_ref()) {
            refs.get_or_insert_with(BTreeSet::new)
                .extend(r.iter().cloned());
        }
        if all_locations {
            if let Some(g) = f.git.as_ref() {
                all.extend(g.locations.iter().map(|l| GitLocation {
                    line: l.line.or(Some(f.line)),
                    ..l.clone()
                }));
            }
        }
        match slots.get(&(i, f.path.clone())) {
            None => {
                slots.insert((i, f.path.clone()), per_path.len());
                per_path.push(f);
            }
            Some(&j) => {
                if older(&f, &per_path[j]) {
                    per_path[j] = f;
                }
            }
        }
    }

    let mut out = Vec::with_capacity(groups.len());
    for Group {
        mut per_path,
        mut all,
        versions,
        refs,
    } in groups
    {
        let mut first = 0;
        for j in 1..per_path.len() {
            if older(&per_path[j], &per_path[first]) {
                first = j;
            }
        }
        let mut kept = per_path.swap_remove(first);
        // Reported where it came first, judged by its strongest path: a secret first seen in a
        // test fixture and copied to a real config is not a test value there.
        for other in &per_path {
            if (other.severity, other.confidence) > (kept.severity, kept.confidence) {
                kept.severity = other.severity;
                kept.confidence = other.confidence;
                kept.notes
                    .retain(|(k, v)| !(k == "context" && v == "test or example path"));
                kept.notes.push((
                    "context".into(),
                    format!("also at {}, not a test or example path", other.path),
                ));
            }
        }
        let paths = per_path.len() + 1;
        if !all_locations {
            all = per_path
                .iter()
                .filter_map(|f| {
                    let g = f.git.as_ref()?;
                    Some(GitLocation {
                        commit: g.commit.clone(),
                        path: f.path.clone(),
                        line: Some(f.line),
                    })
                })
                .collect();
        }
        all.sort();
        all.dedup();
        // Oldest first, then by path.
        // A location names its commit in hex only.
        all.sort_by_cached_key(|l| {
            (
                ranks.of_hex(&l.commit),
                l.path.clone(),
                l.line,
                l.commit.clone(),
            )
        });
        if versions > 1 {
            let what = if paths == 1 {
                format!("{versions} versions of this file hold it")
            } else {
                format!("{versions} file versions in {paths} paths hold it")
            };
            kept.notes.push(("versions".into(), what));
        }
        if let Some(g) = kept.git.as_mut() {
            g.locations = all;
            g.refs = refs.map(|r| r.into_iter().collect());
        }
        out.push(kept);
    }
    out
}
