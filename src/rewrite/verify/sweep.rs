//! The sweep: every holder, searched without trusting what `apply` believed. Every object a
//! holder reaches is walked once (attributed to the first holder, live before backups before
//! reflogs), searched with the [`Needles`] and the rule set, and every hit is reported by holder.

use super::holders::{find_holders, hex_oid, os_bytes, show_bytes, Found, HolderKind, Seed};
use super::needles::Needles;
use super::Verdict;
use crate::archive::{self, Budget, Limits};
use crate::finding::SecretId;
use crate::matcher::Scratch;
use crate::rewrite::graph::{
    header_fields, mode_is_gitlink, mode_is_tree, split_object, tree_entries,
};
use crate::rewrite::{Replacer, Target, TargetRecord};
use crate::scan::{is_binary, Blob, Scanner};
use anyhow::Result;
use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use zeroize::Zeroizing;

/// Every target the sweep searches for, with how it is shown (never the value).
struct Wanted {
    id: SecretId,
    label: String,
}
/// One object to search, with the holder that reached it first.
#[derive(Clone, Copy)]
struct Item {
    oid: Oid,
    holder: u32,
    kind: ObjectType,
    /// Index into the interned paths.
    path: u32,
}

/// Walks every object every seed reaches, holders in order (live, backups, reflogs), each
/// object once: an object is attributed to the first holder that reaches it.
fn walk_objects(repo: &Repository, found: &Found) -> Result<(Vec<Item>, Vec<Vec<u8>>, usize)> {
    let odb = repo.odb()?;
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut items = Vec::new();
    let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
    let mut path_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut missing = 0usize;
    let mut order: Vec<&Seed> = found.seeds.iter().collect();
    order.sort_by_key(|s| found.holders[s.holder as usize].kind);
    let mut stack: Vec<(Oid, Vec<u8>, bool)> = Vec::new();
    for seed in order {
        stack.push((seed.oid, seed.path.clone(), seed.blob));
        while let Some((oid, path, blob)) = stack.pop() {
            if !seen.insert(oid) {
                continue;
            }
            let pi = match path_index.get(&path) {
                Some(&i) => i,
                None => {
                    paths.push(path.clone());
                    let i = (paths.len() - 1) as u32;
                    path_index.insert(path.clone(), i);
                    i
                }
            };
            if blob {
                items.push(Item {
                    oid,
                    holder: seed.holder,
                    kind: ObjectType::Blob,
                    path: pi,
                });
                continue;
            }
            let Ok(obj) = odb.read(oid) else {
                missing += 1;
                continue;
            };
            let data = obj.data();
            match obj.kind() {
                ObjectType::Commit | ObjectType::Tag => {
                    let (headers, _) = split_object(data);
                    for (name, line) in header_fields(headers) {
                        let id = line
                            .get(name.len() + 1..)
                            .and_then(hex_oid)
                            .filter(|_| matches!(name, b"tree" | b"parent" | b"object"));
                        if let Some(id) = id {
                            stack.push((id, Vec::new(), false));
                        }
                    }
                    items.push(Item {
                        oid,
                        holder: seed.holder,
                        kind: obj.kind(),
                        path: 0,
                    });
                }
                ObjectType::Tree => {
                    let Ok(entries) = tree_entries(data) else {
                        missing += 1;
                        continue;
                    };
                    for (mode, name, id) in entries {
                        if mode_is_gitlink(mode) {
                            continue;
                        }
                        let mut p = path.clone();
                        if !p.is_empty() {
                            p.push(b'/');
                        }
                        p.extend_from_slice(name);
                        stack.push((id, p, !mode_is_tree(mode)));
                    }
                }
                _ => items.push(Item {
                    oid,
                    holder: seed.holder,
                    kind: ObjectType::Blob,
                    path: pi,
                }),
            }
        }
    }
    Ok((items, paths, missing))
}

/// One place a target is still held.
struct Hit {
    holder: u32,
    /// The object or file, shown.
    at: String,
    wanted: usize,
    how: String,
}

/// What the search of one object or file needs besides its bytes.
struct Search<'a> {
    needles: &'a Needles,
    scanner: &'a Scanner,
    wanted_ids: &'a HashMap<SecretId, usize>,
    targets_len: usize,
    /// How archives are opened: the history scan's default depth and limits.
    limits: Limits,
    budget: &'a Budget,
}

impl Search<'_> {
    /// Searches `data` (an object's content or a file, shown as `path`) for every wanted
    /// secret: the literal search and, on text, the rule set (a finding whose secret_id is
    /// wanted counts; others are tallied). An archive is also opened and each member searched
    /// the same way, a hit naming `path!member`; what the expansion cannot open goes to
    /// `unsearched` (`path!member (reason)`), since a target may be in it.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        data: &[u8],
        rule_text: Option<&[u8]>,
        path: &str,
        scratch: &mut Scratch,
        hit: &mut dyn FnMut(usize, String),
        other: &mut Vec<(SecretId, String)>,
        unsearched: &mut Vec<String>,
    ) {
        self.one(data, rule_text, path, "", scratch, hit, other);
        if rule_text.is_none() || archive::detect(data).is_none() {
            return;
        }
        let name = if path.is_empty() { "blob" } else { path };
        let mut member = |at: &str, bytes: &[u8]| {
            let text = (!crate::git::lfs::is_pointer(bytes)).then_some(bytes);
            self.one(bytes, text, at, &format!("in {at}, "), scratch, hit, other);
        };
        if let Some(done) = archive::expand(name, data, &self.limits, self.budget, &mut member) {
            unsearched.extend(
                done.skips
                    .into_iter()
                    .map(|s| format!("{} ({})", s.path, s.kind.as_str())),
            );
        }
    }

    /// The literal search and the rule set over one text; `how` starts each hit's description.
    #[allow(clippy::too_many_arguments)]
    fn one(
        &self,
        data: &[u8],
        rule_text: Option<&[u8]>,
        path: &str,
        how: &str,
        scratch: &mut Scratch,
        hit: &mut dyn FnMut(usize, String),
        other: &mut Vec<(SecretId, String)>,
    ) {
        for (t, form) in self.needles.find(data) {
            if t < self.targets_len {
                hit(t, format!("{how}as {form}"));
            }
        }
        let Some(text) = rule_text.filter(|t| !is_binary(t)) else {
            return;
        };
        for f in self.scanner.scan_blob(&Blob::file(text, path), scratch) {
            match self.wanted_ids.get(&f.secret_id) {
                Some(&w) => hit(w, format!("{how}by rule {}", f.rule_id)),
                None => other.push((f.secret_id.clone(), f.rule_id.clone())),
            }
        }
    }
}

/// The sweep's answer.
#[derive(Default)]
struct Swept {
    hits: Vec<Hit>,
    /// Secrets the rules find in live holders that are not targets: (id, rule, holder).
    others: Vec<(SecretId, String, u32)>,
    unreadable: Vec<String>,
    /// Archive members that could not be opened: (holder, object, member and reason).
    unsearched: Vec<(u32, String, String)>,
}

/// Searches every object and file the holders reach, in parallel.
#[allow(clippy::too_many_arguments)]
fn sweep_items(
    path: &Path,
    items: &[Item],
    paths: &[Vec<u8>],
    files: &[(u32, std::path::PathBuf)],
    common: &Path,
    needles: &Needles,
    scanner: &Scanner,
    max_file_size: u64,
    wanted_ids: &HashMap<SecretId, usize>,
    targets_len: usize,
    threads: Option<usize>,
) -> Result<Swept> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let budget = Budget::new(archive::SCAN_BUDGET);
    let search = Search {
        needles,
        scanner,
        wanted_ids,
        targets_len,
        limits: Limits::scan(archive::DEFAULT_DEPTH, max_file_size),
        budget: &budget,
    };
    let objects: Vec<Result<Swept>> = pool.install(|| {
        items
            .par_chunks(256)
            .map_init(
                || (Repository::open(path), Scratch::default()),
                |(repo, scratch), chunk| {
                    let repo = repo.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let odb = repo.odb()?;
                    let mut s = Swept::default();
                    for it in chunk {
                        let obj = match odb.read(it.oid) {
                            Ok(o) => o,
                            Err(e) => {
                                s.unreadable
                                    .push(format!("object {}: {}", it.oid, e.message()));
                                continue;
                            }
                        };
                        let data = obj.data();
                        let p = show_bytes(&paths[it.path as usize]);
                        let (at, rule_text, rpath) = match it.kind {
                            ObjectType::Commit => (
                                format!("commit {}", it.oid),
                                Some(split_object(data).1),
                                crate::source::history::COMMIT_MESSAGE_PATH,
                            ),
                            ObjectType::Tag => (
                                format!("tag {}", it.oid),
                                Some(split_object(data).1),
                                crate::source::history::TAG_MESSAGE_PATH,
                            ),
                            _ => (
                                if p.is_empty() {
                                    format!("blob {}", it.oid)
                                } else {
                                    format!("blob {} ({p})", it.oid)
                                },
                                (data.len() as u64 <= max_file_size).then_some(data),
                                p.as_str(),
                            ),
                        };
                        let mut other = Vec::new();
                        let mut hits = Vec::new();
                        let mut unsearched = Vec::new();
                        search.run(
                            data,
                            rule_text,
                            rpath,
                            scratch,
                            &mut |w, how| hits.push((w, how)),
                            &mut other,
                            &mut unsearched,
                        );
                        s.unsearched
                            .extend(unsearched.into_iter().map(|u| (it.holder, at.clone(), u)));
                        for (w, how) in hits {
                            s.hits.push(Hit {
                                holder: it.holder,
                                at: at.clone(),
                                wanted: w,
                                how,
                            });
                        }
                        s.others
                            .extend(other.into_iter().map(|(i, r)| (i, r, it.holder)));
                    }
                    Ok(s)
                },
            )
            .collect()
    });
    let mut all = Swept::default();
    for s in objects {
        let s = s?;
        all.hits.extend(s.hits);
        all.others.extend(s.others);
        all.unreadable.extend(s.unreadable);
        all.unsearched.extend(s.unsearched);
    }
    let mut scratch = Scratch::default();
    for (h, file) in files {
        let rel = file.strip_prefix(common).unwrap_or(file);
        let at = show_bytes(&os_bytes(rel.as_os_str()));
        let size = std::fs::metadata(file).map_or(0, |m| m.len());
        if size > max_file_size {
            // Too large for the rules (an LFS object): the literal search, in overlapping chunks.
            match search_large_file(file, needles) {
                Ok(found) => all.hits.extend(found.into_iter().map(|(w, how)| Hit {
                    holder: *h,
                    at: at.clone(),
                    wanted: w,
                    how,
                })),
                Err(e) => all.unreadable.push(format!("{at}: {e}")),
            }
            continue;
        }
        let data = match std::fs::read(file) {
            Ok(d) => Zeroizing::new(d),
            Err(e) => {
                all.unreadable.push(format!("{at}: {e}"));
                continue;
            }
        };
        let rule_text = (data.len() as u64 <= max_file_size).then_some(data.as_slice());
        let mut other = Vec::new();
        let mut hits = Vec::new();
        let mut unsearched = Vec::new();
        search.run(
            &data,
            rule_text,
            &at,
            &mut scratch,
            &mut |w, how| hits.push((w, how)),
            &mut other,
            &mut unsearched,
        );
        all.unsearched
            .extend(unsearched.into_iter().map(|u| (*h, at.clone(), u)));
        for (w, how) in hits {
            all.hits.push(Hit {
                holder: *h,
                at: at.clone(),
                wanted: w,
                how,
            });
        }
        // Files are searched for the targets; what else the rules find in git's own files
        // (a credential in a remote URL) is not history and not counted here.
    }
    Ok(all)
}

/// The literal search of a file too large to read at once: chunks that overlap by more than
/// the longest pattern (three times it, for percent-encoded copies).
fn search_large_file(file: &Path, needles: &Needles) -> std::io::Result<Vec<(usize, String)>> {
    use std::io::Read;
    const CHUNK: usize = 8 << 20;
    let overlap = needles.max_len * 3 + 3;
    let mut f = std::fs::File::open(file)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(CHUNK + overlap));
    let mut out = Vec::new();
    loop {
        let keep = buf.len().min(overlap);
        let start = buf.len() - keep;
        buf.drain(..start);
        let before = buf.len();
        buf.resize(before + CHUNK, 0);
        let n = f.read(&mut buf[before..])?;
        buf.truncate(before + n);
        if n == 0 {
            break;
        }
        for (t, form) in needles.find(&buf) {
            out.push((t, format!("as {form}")));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The independent check: finds every holder of the repository ([`HolderKind`]), walks every
/// object each reaches and every file of the git directory outside the object store, and
/// searches them for the targets (raw and encoded, see [`Needles`]) and with the rule set (a
/// finding whose secret_id is a target or a recorded id counts, so a recorded id whose value
/// could not be recovered is still looked for). A secret held by a live holder, or reached only
/// by a reflog, is a problem naming the holder, the object and the secret (by secret_id and
/// redacted form); what the backups hold is reported as expected.
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    repo: &Repository,
    path: &Path,
    targets: &[Target],
    recorded: &[TargetRecord],
    scanner: &Scanner,
    max_file_size: u64,
    threads: Option<usize>,
    v: &mut Verdict,
) -> Result<()> {
    let mut wanted: Vec<Wanted> = targets
        .iter()
        .map(|t| Wanted {
            id: t.secret_id.clone(),
            label: format!(
                "{} ({}, {})",
                &t.secret_id.as_str()[..16],
                t.rule_id,
                t.redacted()
            ),
        })
        .collect();
    for r in recorded {
        if !wanted.iter().any(|w| w.id == r.secret_id) {
            wanted.push(Wanted {
                id: r.secret_id.clone(),
                label: format!(
                    "{} ({}, {} chars, value not recovered)",
                    &r.secret_id.as_str()[..16],
                    r.rule_id,
                    r.length
                ),
            });
        }
    }
    let wanted_ids: HashMap<SecretId, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.clone(), i))
        .collect();
    let needles = Needles::new(targets)?;
    let (problems_before, notes_before) = (v.problems.len(), v.notes.len());
    let found = find_holders(repo)?;
    let (items, paths, missing) = walk_objects(repo, &found)?;
    let mut order = items;
    crate::source::packorder::sort_by_delta_tree(repo, &mut order, |i| i.oid);
    let swept = sweep_items(
        path,
        &order,
        &paths,
        &found.files,
        repo.commondir(),
        &needles,
        scanner,
        max_file_size,
        &wanted_ids,
        targets.len(),
        threads,
    )?;
    for p in &found.problems {
        v.fail(p.clone());
    }
    v.notes.extend(found.notes.iter().cloned());
    let count = |k: HolderKind| found.holders.iter().filter(|h| h.kind == k).count();
    v.notes.push(format!(
        "swept {} live holder(s) (refs by raw name, peeled lines, HEADs and indexes of every worktree, files of the git directory), {} reflog entr(ies)/pseudo-ref(s), {} backup holder(s): {} objects and {} files searched for {} secret(s) raw, in UTF-16, base64/base64url (every alignment) and percent-encoded, inside UTF-16 text and archives, and with the rule set",
        count(HolderKind::Live),
        count(HolderKind::Log),
        count(HolderKind::Backup),
        order.len(),
        found.files.len(),
        wanted.len(),
    ));
    if missing > 0 {
        v.notes.push(format!(
            "{missing} object(s) named by a holder are not in the object database (shallow clone, or pruned): nothing of them is stored here"
        ));
    }
    for u in &swept.unreadable {
        v.fail(format!("{u}: cannot be read, so it is not checked"));
    }
    // What the backups hold is expected; an archive member elsewhere may hold a target.
    for (holder, at, member) in &swept.unsearched {
        let h = &found.holders[*holder as usize];
        if h.kind != HolderKind::Backup {
            v.fail(format!(
                "{} holds {at}: archive member {member} cannot be opened, so it is not checked",
                h.name
            ));
        }
    }
    // Per (holder, secret): the places (first shown, the others counted) and how it was found.
    type Places = (
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    );
    let mut groups: std::collections::BTreeMap<(u32, usize), Places> =
        std::collections::BTreeMap::new();
    for h in &swept.hits {
        let g = groups.entry((h.holder, h.wanted)).or_default();
        g.0.insert(h.at.clone());
        g.1.insert(h.how.clone());
    }
    let mut expected: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut expected_holders: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
    for ((holder, w), (ats, hows)) in &groups {
        let h = &found.holders[*holder as usize];
        let at = ats.iter().next().map_or("", String::as_str);
        let how = hows.iter().cloned().collect::<Vec<_>>().join(", ");
        let more = match ats.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        match h.kind {
            HolderKind::Backup => {
                expected.insert(*w);
                expected_holders.insert(*holder);
            }
            HolderKind::Live => v.fail(format!(
                "{} still holds secret {} in {at}{more}, found {how}",
                h.name, wanted[*w].label
            )),
            HolderKind::Log => v.fail(format!(
                "{} still holds secret {} in {at}{more}, found {how}; no backup holds it (`leaksweep rewrite finish` expires every reflog and prunes what only they name)",
                h.name, wanted[*w].label
            )),
        }
    }
    if !expected.is_empty() {
        let names: Vec<&str> = expected_holders
            .iter()
            .take(5)
            .map(|&h| found.holders[h as usize].name.as_str())
            .collect();
        v.notes.push(format!(
            "expected: the backups ({}{}) still hold {} secret(s) ({}) until `leaksweep rewrite finish`",
            names.join(", "),
            if expected_holders.len() > 5 { ", ..." } else { "" },
            expected.len(),
            expected
                .iter()
                .map(|&w| wanted[w].label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut others: std::collections::BTreeMap<&SecretId, &str> = std::collections::BTreeMap::new();
    for (id, rule, holder) in &swept.others {
        if found.holders[*holder as usize].kind == HolderKind::Live {
            others.entry(id).or_insert(rule);
        }
    }
    if !others.is_empty() {
        v.notes.push(format!(
            "the rules find {} other secret(s) in the live history that this rewrite does not target: {}",
            others.len(),
            others
                .iter()
                .take(10)
                .map(|(id, rule)| format!("{} ({rule})", &id.as_str()[..16]))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Names come from the repository: a ref or a path may spell a value itself.
    let masks: Vec<Target> = targets
        .iter()
        .map(|t| Target {
            replacement: t.redacted().into_bytes(),
            ..t.clone()
        })
        .collect();
    let masker = Replacer::new(&masks)?;
    let mask = |line: &mut String| {
        if let Some(m) = masker.replace(line.as_bytes()) {
            *line = String::from_utf8_lossy(&m).into_owned();
        }
    };
    v.problems[problems_before..].iter_mut().for_each(mask);
    v.notes[notes_before..].iter_mut().for_each(mask);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(v: &[u8]) -> Target {
        crate::rewrite::parse_secrets_file(v, "x")
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_large_file_is_searched_across_chunk_boundaries() {
        let v = b"Zr8kqWm2Lp9xQ7xTt4Bn";
        let n = Needles::new(&[target(v)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut data = vec![b'.'; (8 << 20) + 4096];
        let at = (8 << 20) - 7;
        data[at..at + v.len()].copy_from_slice(v);
        std::fs::write(&path, &data).unwrap();
        let found = search_large_file(&path, &n).unwrap();
        assert_eq!(found, vec![(0, "as plain text".to_string())]);
        std::fs::write(&path, vec![b'.'; (8 << 20) + 4096]).unwrap();
        assert!(search_large_file(&path, &n).unwrap().is_empty());
    }
}
