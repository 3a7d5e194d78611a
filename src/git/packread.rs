//! Reading blobs straight from the pack files, one delta tree at a time, depth first.
//!
//! Through libgit2 each blob read looks its id up in the pack index, takes the pack's locks, and
//! inflates the delta chain down to the nearest base left in a 16 MiB cache that is emptied whole
//! when full: on a pack with long chains (as a clone from a hosting service receives them) most
//! of a history scan's reading time was spent inflating the same bases again. Here every object
//! of a pack that leads to a wanted blob is inflated exactly once: a delta tree (a whole object
//! and every delta built on it, and on those) is walked depth first, each delta applied to its
//! base while the base is still held, and a base dropped once its last delta is done. What is
//! held at any time is the chain from the tree's root to the object being read.
//!
//! The plan comes from the `.idx` (offsets) and the entry headers of the `.pack` (types, sizes,
//! bases), read front to back ([`super::packorder`]). Whatever it cannot read (a blob over the
//! size limit, a base in another pack, a malformed entry, a loose object) is left to the caller,
//! which reads it through libgit2 as before, with its errors and limits.

use super::id::ObjectId;
use super::packorder::{delta_children, pack_entries, pack_indexes, Entry, PackIndex, Parent};
use git2::Repository;
use std::fs::File;
use std::path::PathBuf;

/// The most bytes of bases one reader holds for the deltas below them (the chain from a tree's
/// root to the entry being read).
const HOLD_LIMIT: usize = 64 << 20;

/// No item: an entry that is not wanted itself (a base, or an object not asked for).
const NONE: u32 = u32::MAX;

/// The entries of one pack, in offset order, with their delta trees, and what is wanted of them.
struct Pack {
    layout: PackLayout,
    /// The wanted item each entry is, or [`NONE`].
    item: Vec<u32>,
    /// Whether the entry's subtree holds a wanted item.
    wanted: Vec<bool>,
}

/// What a [`Plan`] is made from, whatever is wanted: each readable pack's index and entry
/// headers, with its delta trees. Reading it is a pass over every pack's headers, which need
/// not wait for the history walk to know which blobs it wants.
pub struct Layout {
    packs: Vec<PackLayout>,
}

struct PackLayout {
    path: PathBuf,
    idx: PackIndex,
    entries: Vec<Entry>,
    /// Where each entry's compressed data ends (the next entry, or the pack's trailer).
    ends: Vec<u64>,
    /// Children of entry `e`: `children[first[e]..first[e + 1]]`, in offset order.
    first: Vec<u32>,
    children: Vec<u32>,
}

impl Layout {
    /// The packs of `repo` in name order; a pack whose index or headers do not read is left out
    /// (what it holds is then read through libgit2).
    pub fn read(repo: &Repository) -> Layout {
        let packs = pack_indexes(repo)
            .into_iter()
            .filter_map(|(path, idx)| {
                let (entries, ends) = pack_entries(&path, &idx)?;
                let (first, children) = delta_children(&entries);
                Some(PackLayout {
                    path,
                    idx,
                    entries,
                    ends,
                    first,
                    children,
                })
            })
            .collect();
        Layout { packs }
    }
}

/// The delta trees that hold the wanted blobs, and the blobs no tree holds.
pub struct Plan {
    packs: Vec<Pack>,
    /// (pack, root entry) of every tree holding a wanted item, in pack order.
    trees: Vec<(u32, u32)>,
    /// Indices of the wanted ids no tree holds, in their order.
    pub rest: Vec<usize>,
    /// The most bytes of bases a reader holds ([`HOLD_LIMIT`]).
    pub hold_limit: usize,
}

impl Plan {
    /// Plans the reading of `wanted` (object ids, by index): each id is looked for in the packs
    /// in name order, the first holding it reads it.
    pub fn new(repo: &Repository, wanted: &[Option<ObjectId>]) -> Plan {
        Plan::from_layout(Layout::read(repo), wanted)
    }

    /// [`Plan::new`] from the packs' layout, read beforehand.
    pub fn from_layout(layout: Layout, wanted: &[Option<ObjectId>]) -> Plan {
        let mut packs = Vec::new();
        let mut placed = vec![false; wanted.len()];
        for pack in layout.packs {
            let entries = &pack.entries;
            // The wanted ids this pack holds.
            let here: Vec<(usize, u64)> = wanted
                .iter()
                .enumerate()
                .filter(|&(i, _)| !placed[i])
                .filter_map(|(i, w)| Some((i, pack.idx.offset(&(*w)?)?)))
                .collect();
            if here.is_empty() {
                continue;
            }
            let n = entries.len();
            let mut item = vec![NONE; n];
            for (i, off) in here {
                if let Ok(e) = entries.binary_search_by_key(&off, |e| e.offset) {
                    item[e] = i as u32;
                    placed[i] = true;
                }
            }
            // A base always comes before its deltas (`pack_entries` checks).
            let mut wanted_below: Vec<bool> = item.iter().map(|&i| i != NONE).collect();
            for i in (0..n).rev() {
                if let (true, Parent::Entry(b)) = (wanted_below[i], entries[i].parent) {
                    wanted_below[b as usize] = true;
                }
            }
            packs.push(Pack {
                layout: pack,
                item,
                wanted: wanted_below,
            });
        }
        let mut trees = Vec::new();
        let mut rest: Vec<usize> = Vec::new();
        for (p, pack) in packs.iter().enumerate() {
            for (e, entry) in pack.layout.entries.iter().enumerate() {
                if !pack.wanted[e] {
                    continue;
                }
                match entry.parent {
                    Parent::Whole => trees.push((p as u32, e as u32)),
                    Parent::Entry(_) => {}
                    // A base this pack does not hold: libgit2 finds it.
                    Parent::Elsewhere => collect(pack, e, &mut rest),
                }
            }
        }
        rest.extend((0..wanted.len()).filter(|&i| wanted[i].is_some() && !placed[i]));
        rest.sort_unstable();
        Plan {
            packs,
            trees,
            rest,
            hold_limit: HOLD_LIMIT,
        }
    }

    /// How many trees there are to read.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Reads tree `t` depth first, calling `visit(item, data)` for each wanted blob in it; the
    /// items of a subtree it cannot read (an object over `max_size`, a type other than a blob, a
    /// malformed entry or delta, a read error) go to `left` instead, to be read through libgit2.
    pub fn read_tree(
        &self,
        t: usize,
        reader: &mut Reader,
        max_size: u64,
        visit: &mut dyn FnMut(usize, &[u8]),
        left: &mut Vec<usize>,
    ) {
        let Some(&(p, root)) = self.trees.get(t) else {
            return;
        };
        let pack = &self.packs[p as usize];
        let root = root as usize;
        let data = match reader.inflate_entry(p as usize, pack, root, max_size) {
            Some(d) if pack.layout.entries[root].kind == BLOB => d,
            _ => return collect(pack, root, left),
        };
        // The chain from the root to the entry being read: (entry, its data, next child).
        let mut stack: Vec<(usize, Vec<u8>, u32)> = Vec::new();
        let mut held_left = Vec::new();
        let held = std::cell::Cell::new(0usize);
        let mut enter = |e: usize, data: Vec<u8>, stack: &mut Vec<(usize, Vec<u8>, u32)>| {
            // Larger than the limit (a whole base may be, to serve its deltas): left to the
            // caller, which reports it skipped.
            match pack.item[e] {
                NONE => {}
                i if data.len() as u64 > max_size => left.push(i as usize),
                i => visit(i as usize, &data),
            }
            let kids = &pack.layout.children
                [pack.layout.first[e] as usize..pack.layout.first[e + 1] as usize];
            if !kids.iter().any(|&c| pack.wanted[c as usize]) {
                return;
            }
            if held.get() + data.len() > self.hold_limit {
                // A chain of large bases (a crafted pack could make it thousands long): what
                // is built on this one is left to libgit2 rather than held in memory.
                for &c in kids.iter().filter(|&&c| pack.wanted[c as usize]) {
                    collect(pack, c as usize, left);
                }
                return;
            }
            held.set(held.get() + data.len());
            stack.push((e, data, pack.layout.first[e]));
        };
        enter(root, data, &mut stack);
        while let Some((e, base, next)) = stack.last_mut() {
            let e = *e;
            if *next >= pack.layout.first[e + 1] {
                held.set(held.get() - base.len());
                stack.pop();
                continue;
            }
            let child = pack.layout.children[*next as usize] as usize;
            *next += 1;
            if !pack.wanted[child] {
                continue;
            }
            let delta = reader.inflate_entry(p as usize, pack, child, max_size);
            match delta.and_then(|d| apply_delta(base, &d, max_size)) {
                Some(data) => enter(child, data, &mut stack),
                None => collect(pack, child, &mut held_left),
            }
        }
        left.extend(held_left);
    }
}

/// Adds the wanted items of entry `e`'s subtree to `out`.
fn collect(pack: &Pack, e: usize, out: &mut Vec<usize>) {
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        if pack.item[e] != NONE {
            out.push(pack.item[e] as usize);
        }
        for &c in
            &pack.layout.children[pack.layout.first[e] as usize..pack.layout.first[e + 1] as usize]
        {
            if pack.wanted[c as usize] {
                todo.push(c as usize);
            }
        }
    }
}

/// The pack type of a blob.
const BLOB: u8 = 3;

/// One thread's open pack files and buffers.
pub struct Reader {
    files: Vec<Option<File>>,
    compressed: Vec<u8>,
    /// One inflate state, reset for each entry rather than allocated anew.
    inflate: flate2::Decompress,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader {
            files: Vec::new(),
            compressed: Vec::new(),
            inflate: flate2::Decompress::new(true),
        }
    }
}

impl Reader {
    /// The inflated data of entry `e` (an object, or a delta's instructions); `None` when it is
    /// larger than `max_size` (a delta's instructions may be somewhat larger than its result),
    /// cannot be read, or does not inflate to exactly the size its header gives.
    fn inflate_entry(&mut self, p: usize, pack: &Pack, e: usize, max_size: u64) -> Option<Vec<u8>> {
        let entry = &pack.layout.entries[e];
        if entry.size > max_size.saturating_mul(2).saturating_add(1024) {
            return None;
        }
        if self.files.len() <= p {
            self.files.resize_with(p + 1, || None);
        }
        if self.files[p].is_none() {
            self.files[p] = File::open(&pack.layout.path).ok();
        }
        let file = self.files[p].as_ref()?;
        let start = entry.offset + entry.header_len as u64;
        let len = usize::try_from(pack.layout.ends[e].checked_sub(start)?).ok()?;
        // Deflate never grows data by more than a few bytes per 16 KiB block: a longer span is
        // not one entry's stream (a gap in a crafted pack), and is not read into memory.
        if len as u64 > entry.size + entry.size / 8 + 64 {
            return None;
        }
        self.compressed.clear();
        self.compressed.resize(len, 0);
        read_exact_at(file, &mut self.compressed, start).ok()?;
        let size = usize::try_from(entry.size).ok()?;
        let mut out = Vec::with_capacity(size);
        self.inflate.reset(true);
        let z = &mut self.inflate;
        match z.decompress_vec(&self.compressed, &mut out, flate2::FlushDecompress::Finish) {
            Ok(flate2::Status::StreamEnd) if out.len() == size => Some(out),
            Ok(flate2::Status::Ok | flate2::Status::BufError) if out.len() == size && size == 0 => {
                Some(out)
            }
            _ => None,
        }
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// A little-endian base-128 size at the start of `d`, and what follows it.
fn delta_size(d: &[u8]) -> Option<(u64, &[u8])> {
    let mut size = 0u64;
    for (i, &b) in d.iter().enumerate().take(10) {
        size |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            return Some((size, &d[i + 1..]));
        }
    }
    None
}

/// Applies git's delta instructions `delta` to `base`: the base's size, the result's size, then
/// copies from the base (offset and length, each byte present only when its flag bit is set; a
/// length of 0 means 64 KiB) and inserts of 1 to 127 literal bytes. `None` for a malformed delta
/// (sizes that do not match, a copy outside the base, the reserved opcode 0) or a result larger
/// than `max_size`.
pub fn apply_delta(base: &[u8], delta: &[u8], max_size: u64) -> Option<Vec<u8>> {
    let (base_size, rest) = delta_size(delta)?;
    let (size, mut ops) = delta_size(rest)?;
    if base_size != base.len() as u64 || size > max_size {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    let mut out = Vec::with_capacity(size);
    while let Some((&op, tail)) = ops.split_first() {
        ops = tail;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for bit in 0..7 {
                if op & (1 << bit) != 0 {
                    let (&b, tail) = ops.split_first()?;
                    ops = tail;
                    if bit < 4 {
                        offset |= (b as usize) << (8 * bit);
                    } else {
                        len |= (b as usize) << (8 * (bit - 4));
                    }
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            let copy = base.get(offset..offset.checked_add(len)?)?;
            if out.len() + copy.len() > size {
                return None;
            }
            out.extend_from_slice(copy);
        } else if op != 0 {
            let n = op as usize;
            let insert = ops.get(..n)?;
            ops = &ops[n..];
            if out.len() + n > size {
                return None;
            }
            out.extend_from_slice(insert);
        } else {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::collections::HashMap;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A repository of many versions of a few files (seeded edits, so that they deltify),
    /// repacked with long chains; returns it with every blob's content by id.
    fn deltified() -> (tempfile::TempDir, HashMap<ObjectId, Vec<u8>>) {
        let (mut rng, seed) = crate::testing::seeded();
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        let mut files: Vec<Vec<String>> = (0..4)
            .map(|f| {
                (0..150)
                    .map(|i| format!("file {f} line {i} {}\n", rng.gen::<u32>()))
                    .collect()
            })
            .collect();
        for v in 0..60 {
            for (f, lines) in files.iter_mut().enumerate() {
                if rng.gen_bool(0.6) {
                    let at = rng.gen_range(0..lines.len());
                    match rng.gen_range(0..3) {
                        0 => lines[at] = format!("changed {v} {}\n", rng.gen::<u64>()),
                        1 => lines.insert(at, format!("added {v}\n")),
                        _ => drop(lines.remove(at)),
                    }
                }
                std::fs::write(dir.path().join(format!("f{f}.txt")), lines.concat()).unwrap();
            }
            git(dir.path(), &["add", "-A"]);
            git(
                dir.path(),
                &[
                    "commit",
                    "-qm",
                    &format!("v{v} seed {seed}"),
                    "--allow-empty",
                ],
            );
        }
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=50", "--window=50"],
        );
        let repo = Repository::open(dir.path()).unwrap();
        let mut blobs = HashMap::new();
        for line in git(dir.path(), &["rev-list", "--objects", "--all"]).lines() {
            let id = git2::Oid::from_str(&line[..40]).unwrap();
            if let Ok(b) = repo.find_blob(id) {
                blobs.insert(
                    ObjectId::from_bytes(id.as_bytes()).unwrap(),
                    b.content().to_vec(),
                );
            }
        }
        (dir, blobs)
    }

    /// Reads every tree of `plan`; returns what was visited (item, data) and what was left.
    fn read_all(plan: &Plan, max: u64) -> (Vec<(usize, Vec<u8>)>, Vec<usize>) {
        let (mut seen, mut left) = (Vec::new(), Vec::new());
        let mut reader = Reader::default();
        for t in 0..plan.trees() {
            plan.read_tree(
                t,
                &mut reader,
                max,
                &mut |i, d| seen.push((i, d.to_vec())),
                &mut left,
            );
        }
        (seen, left)
    }

    #[test]
    fn every_blob_of_a_deltified_pack_is_read_once_with_its_content() {
        let (dir, blobs) = deltified();
        let repo = Repository::open(dir.path()).unwrap();
        let packs = super::super::packorder::pack_indexes(&repo);
        assert_eq!(packs.len(), 1);
        let (entries, _) = pack_entries(&packs[0].0, &packs[0].1).unwrap();
        let deltas = entries
            .iter()
            .filter(|e| matches!(e.parent, Parent::Entry(_)))
            .count();
        assert!(
            deltas * 2 > blobs.len(),
            "{deltas} deltas of {} blobs",
            blobs.len()
        );
        let ids: Vec<ObjectId> = blobs.keys().copied().collect();
        // A few wanted ids the pack does not hold, and ids that are not wanted (None).
        let mut wanted: Vec<Option<ObjectId>> = ids.iter().map(|&i| Some(i)).collect();
        wanted.push(ObjectId::from_bytes(&[7; 20]));
        wanted.push(None);
        let plan = Plan::new(&repo, &wanted);
        assert_eq!(plan.rest, vec![ids.len()]);
        let (seen, left) = read_all(&plan, u64::MAX);
        assert!(left.is_empty(), "{left:?}");
        let mut visited: Vec<usize> = seen.iter().map(|s| s.0).collect();
        visited.sort_unstable();
        assert_eq!(visited, (0..ids.len()).collect::<Vec<_>>());
        for (i, data) in &seen {
            assert!(blobs[&ids[*i]] == *data, "content of {}", ids[*i]);
        }
        // Only some of them wanted: exactly those are visited.
        let some: Vec<Option<ObjectId>> = ids
            .iter()
            .enumerate()
            .map(|(n, &i)| (n % 3 == 0).then_some(i))
            .collect();
        let (seen, left) = read_all(&Plan::new(&repo, &some), u64::MAX);
        assert!(left.is_empty());
        let mut visited: Vec<usize> = seen.iter().map(|s| s.0).collect();
        visited.sort_unstable();
        assert_eq!(
            visited,
            (0..ids.len()).filter(|n| n % 3 == 0).collect::<Vec<_>>()
        );
        // Under a size limit, what is larger is left to the caller, never visited.
        let mut sizes: Vec<u64> = blobs.values().map(|b| b.len() as u64).collect();
        sizes.sort_unstable();
        let max = sizes[sizes.len() / 2];
        let (seen, left) = read_all(&Plan::new(&repo, &wanted), max);
        assert!(seen.iter().all(|(_, d)| d.len() as u64 <= max));
        let big = ids.iter().filter(|i| blobs[i].len() as u64 > max).count();
        assert!(
            big > 0 && left.len() >= big,
            "{big} big, {} left",
            left.len()
        );
        assert_eq!(seen.len() + left.len(), ids.len());
    }

    #[test]
    fn a_corrupt_pack_leaves_what_it_cannot_read_and_reads_the_rest_right() {
        let (dir, blobs) = deltified();
        let repo = Repository::open(dir.path()).unwrap();
        let ids: Vec<ObjectId> = blobs.keys().copied().collect();
        let wanted: Vec<Option<ObjectId>> = ids.iter().map(|&i| Some(i)).collect();
        let (pack, _) = super::super::packorder::pack_indexes(&repo).remove(0);
        let mut bytes = std::fs::read(&pack).unwrap();
        let (mut rng, _) = crate::testing::seeded();
        let mut perms = std::fs::metadata(&pack).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&pack, perms).unwrap();
        for _ in 0..20 {
            let at = rng.gen_range(12..bytes.len() - 20);
            bytes[at] ^= 1 << rng.gen_range(0..8);
        }
        std::fs::write(&pack, &bytes).unwrap();
        let plan = Plan::new(&repo, &wanted);
        let (seen, left) = read_all(&plan, u64::MAX);
        let mut all: Vec<usize> = seen
            .iter()
            .map(|s| s.0)
            .chain(left.iter().copied())
            .collect();
        all.extend(plan.rest.iter().copied());
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), ids.len());
        for (i, data) in &seen {
            assert!(
                blobs[&ids[*i]] == *data,
                "a corrupt entry read as content: {}",
                ids[*i]
            );
        }
    }

    #[test]
    fn malformed_deltas_are_refused() {
        let base = b"0123456789abcdef";
        // base size 16, result 6: copy 4 bytes at 2, insert "xy".
        let ok = [16, 6, 0x91, 2, 4, 2, b'x', b'y'];
        assert_eq!(apply_delta(base, &ok, 100).as_deref(), Some(&b"2345xy"[..]));
        assert_eq!(apply_delta(base, &ok, 5), None, "result over the limit");
        assert_eq!(
            apply_delta(&base[..15], &ok, 100),
            None,
            "base of another size"
        );
        let refused: [(&[u8], &str); 6] = [
            (&[16, 6, 0x91, 14, 4, 2, b'x', b'y'], "copy past the base"),
            (&[16, 6, 0x91, 2, 4, 0, b'x', b'y'], "opcode 0"),
            (&[16, 6, 0x91, 2, 4, 2, b'x'], "cut short"),
            (&[16, 7, 0x91, 2, 4, 2, b'x', b'y'], "short of its size"),
            (&[16, 5, 0x91, 2, 4, 2, b'x', b'y'], "past its size"),
            (&[0x80; 12], "size that never ends"),
        ];
        for (delta, why) in refused {
            assert_eq!(apply_delta(base, delta, 100), None, "{why}");
        }
    }
}
