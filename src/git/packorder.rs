//! Pack order: sorting objects by where they sit in the pack files before reading them.
//!
//! Reading objects in object-id (or discovery) order is several times slower than reading a pack
//! front to back, because each read may re-inflate a long delta chain. Delta-tree order
//! ([`sort_by_delta_tree`]) goes further: each object's deltas come right before it, so libgit2's
//! small base cache (16 MiB, emptied whole when full) still holds what the next read needs, where
//! in front-to-back order a delta's base is often far behind. The positions come from the `.idx`
//! files (version 2), the bases from the entry headers of the `.pack` files, read front to back
//! (a few bytes per object). Used by the history scan ([`crate::source::history`]), the rewrite's
//! blob pass ([`crate::rewrite::graph`]) and its verification.

use super::id::ObjectId;
use git2::Repository;
use std::path::{Path, PathBuf};

/// Pack position of every object we will read, from the `.idx` files (version 2).
pub(crate) struct PackIndex {
    /// Raw index file.
    data: Vec<u8>,
    count: usize,
}

impl PackIndex {
    fn load(path: &Path) -> Option<PackIndex> {
        let data = std::fs::read(path).ok()?;
        if data.len() < 8 + 256 * 4
            || data[..4] != [0xff, b't', b'O', b'c']
            || data[4..8] != [0, 0, 0, 2]
        {
            return None;
        }
        let count = be32(&data, 8 + 255 * 4)? as usize;
        // Header, fan-out, names, CRCs, 4-byte offsets (large offsets may follow).
        if data.len() < 8 + 1024 + count * 28 {
            return None;
        }
        Some(PackIndex { data, count })
    }

    pub(crate) fn offset(&self, oid: &ObjectId) -> Option<u64> {
        let id = &oid.as_bytes()[..];
        let first = id[0] as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.data, 8 + (first - 1) * 4)? as usize
        };
        let hi = be32(&self.data, 8 + first * 4)? as usize;
        let names = 8 + 1024;
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let name = self.data.get(names + mid * 20..names + mid * 20 + 20)?;
            match name.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset_at(mid),
            }
        }
        None
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Sorts `items` by (pack, offset in pack) of `oid(item)`; objects in no pack (loose, or an
/// index this parser does not read) keep their relative order, at the end. A repository without
/// readable pack indexes leaves `items` as they are.
pub fn sort_by_pack_offset<T: Copy, K: Into<ObjectId>>(
    repo: &Repository,
    items: &mut [T],
    oid: impl Fn(&T) -> K,
) {
    let packs: Vec<PackIndex> = pack_indexes(repo).into_iter().map(|p| p.1).collect();
    if packs.is_empty() {
        return;
    }
    let mut keyed: Vec<(u32, u64, T)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let id: ObjectId = oid(it).into();
            let key = packs
                .iter()
                .enumerate()
                .find_map(|(p, idx)| idx.offset(&id).map(|o| (p as u32, o)))
                .unwrap_or((u32::MAX, i as u64));
            (key.0, key.1, *it)
        })
        .collect();
    keyed.sort_unstable_by_key(|k| (k.0, k.1));
    for (slot, k) in items.iter_mut().zip(keyed) {
        *slot = k.2;
    }
}

impl PackIndex {
    /// The pack offset of the `i`th object in the index (object-id order): a 4-byte offset, or
    /// one of the 8-byte offsets after them for a pack over 2 GiB.
    fn offset_at(&self, i: usize) -> Option<u64> {
        let offsets = 8 + 1024 + self.count * 24;
        let off = be32(&self.data, offsets + i * 4)?;
        if off & 0x8000_0000 == 0 {
            return Some(off as u64);
        }
        let large = offsets + self.count * 4 + (off & 0x7fff_ffff) as usize * 8;
        let b = self.data.get(large..large + 8)?;
        Some(u64::from_be_bytes(b.try_into().ok()?))
    }

    /// Every object's offset in the pack, in the index's (object-id) order (`None` for an index
    /// whose large-offset table is cut short).
    fn offsets(&self) -> Option<Vec<u64>> {
        (0..self.count).map(|i| self.offset_at(i)).collect()
    }
}

/// The readable pack indexes of `repo`, by pack file name, each with its `.pack` path.
pub(crate) fn pack_indexes(repo: &Repository) -> Vec<(PathBuf, PackIndex)> {
    let dir = repo.commondir().join("objects").join("pack");
    let mut idx_files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect(),
        Err(_) => return Vec::new(),
    };
    idx_files.sort();
    idx_files
        .iter()
        .filter_map(|p| PackIndex::load(p).map(|i| (p.with_extension("pack"), i)))
        .collect()
}

/// Where a pack entry's delta base is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parent {
    /// A whole object, no base.
    Whole,
    /// The entry at this index (in offset order) of the same pack, always an earlier one.
    Entry(u32),
    /// A base this pack does not hold (a `REF_DELTA` to another pack).
    Elsewhere,
}

/// One pack entry, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub offset: u64,
    /// The type (1 commit, 2 tree, 3 blob, 4 tag, 6 `OFS_DELTA`, 7 `REF_DELTA`).
    pub kind: u8,
    /// The inflated size of the entry's data (a delta's: its instructions).
    pub size: u64,
    /// The bytes of the header, before the compressed data.
    pub header_len: u8,
    pub parent: Parent,
}

/// What a pack entry's header says of its base: none (a whole object), the offset of its base
/// (`OFS_DELTA`), or its base's object id (`REF_DELTA`).
#[derive(Debug, PartialEq, Eq)]
enum Base {
    Whole,
    At(u64),
    Id(ObjectId),
}

/// Parses the header of the pack entry at `offset` from `head` (its first bytes): the type and
/// size varint, then an `OFS_DELTA`'s negative offset or a `REF_DELTA`'s base id. Returns the
/// type, the size, the header's length and the base.
fn entry_header(head: &[u8], offset: u64) -> Option<(u8, u64, usize, Base)> {
    let first = *head.first()?;
    let kind = (first >> 4) & 7;
    let mut size = (first & 0x0f) as u64;
    let mut shift = 4;
    let mut i = 1;
    let mut c = first;
    while c & 0x80 != 0 {
        c = *head.get(i)?;
        i += 1;
        if shift > 57 {
            return None;
        }
        size |= ((c & 0x7f) as u64) << shift;
        shift += 7;
    }
    let base = match kind {
        6 => {
            let mut c = *head.get(i)?;
            i += 1;
            let mut back = (c & 0x7f) as u64;
            while c & 0x80 != 0 {
                c = *head.get(i)?;
                i += 1;
                back = back.checked_add(1)?.checked_mul(128)? | (c & 0x7f) as u64;
            }
            Base::At(offset.checked_sub(back).filter(|_| back > 0)?)
        }
        7 => {
            let id = ObjectId::from_bytes(head.get(i..i + 20)?)?;
            i += 20;
            Base::Id(id)
        }
        1..=4 => Base::Whole,
        _ => return None,
    };
    Some((kind, size, i, base))
}

/// Every entry of one pack, in offset order, from its header, with where each entry's data ends
/// (the next entry, or the 20-byte trailer). `None` when the pack cannot be read or an entry's
/// header does not parse, or a base does not come before its delta (a malformed pack). Reads the
/// headers front to back through a buffer: a few bytes per object.
pub(crate) fn pack_entries(pack: &Path, idx: &PackIndex) -> Option<(Vec<Entry>, Vec<u64>)> {
    use std::io::{BufReader, Read};
    let mut offsets = idx.offsets()?;
    offsets.sort_unstable();
    let file = std::fs::File::open(pack).ok()?;
    let len = file.metadata().ok()?.len();
    let mut file = BufReader::with_capacity(1 << 20, file);
    let mut at = 0u64;
    let mut head = [0u8; 32];
    let mut entries = Vec::with_capacity(offsets.len());
    for &off in &offsets {
        // Entries may be shorter than the bytes read ahead, so this may step back.
        file.seek_relative(i64::try_from(off).ok()? - i64::try_from(at).ok()?)
            .ok()?;
        let mut got = 0;
        while got < head.len() {
            match file.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(_) => return None,
            }
        }
        at = off + got as u64;
        let (kind, size, header_len, base) = entry_header(&head[..got], off)?;
        let base = match base {
            Base::Whole => None,
            Base::At(b) => Some(Some(b)),
            Base::Id(id) => Some(idx.offset(&id)),
        };
        let parent = match base {
            None => Parent::Whole,
            Some(Some(b)) => match offsets.binary_search(&b) {
                Ok(e) if e < entries.len() => Parent::Entry(e as u32),
                Ok(_) => return None,
                Err(_) => Parent::Elsewhere,
            },
            Some(None) => Parent::Elsewhere,
        };
        entries.push(Entry {
            offset: off,
            kind,
            size,
            header_len: header_len as u8,
            parent,
        });
    }
    let trailer = len.checked_sub(20)?;
    let ends: Vec<u64> = offsets
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(trailer))
        .collect();
    if offsets.last().is_some_and(|&l| l >= trailer) {
        return None;
    }
    Some((entries, ends))
}

/// The deltas built directly on each entry, as `(first, children)`: those of entry `e` are
/// `children[first[e]..first[e + 1]]`, in offset order.
pub(crate) fn delta_children(entries: &[Entry]) -> (Vec<u32>, Vec<u32>) {
    let n = entries.len();
    let mut first = vec![0u32; n + 1];
    for e in entries {
        if let Parent::Entry(b) = e.parent {
            first[b as usize + 1] += 1;
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut children = vec![0u32; first[n] as usize];
    for (i, e) in entries.iter().enumerate() {
        if let Parent::Entry(b) = e.parent {
            children[fill[b as usize] as usize] = i as u32;
            fill[b as usize] += 1;
        }
    }
    (first, children)
}

/// The entries of one pack in delta-tree post-order: each whole object's deltas (and theirs,
/// depth first) before the object itself, the trees in pack order. Reading a delta resolves its
/// chain and leaves each base it passed through in libgit2's base cache, so every sibling that
/// follows, and then the base itself, is one delta (or none) away; in plain pack order a delta's
/// base is often far behind, long evicted from the small cache, and its whole chain is inflated
/// again.
fn post_order(entries: &[Entry]) -> Vec<u32> {
    let n = entries.len();
    let (first, children) = delta_children(entries);
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in (0..n).filter(|&i| !matches!(entries[i].parent, Parent::Entry(_))) {
        stack.push((root as u32, first[root]));
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if next < first[node as usize + 1] {
                top.1 += 1;
                let child = children[next as usize];
                stack.push((child, first[child as usize]));
            } else {
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

/// Sorts `items` in delta-tree order ([`post_order`]) of the pack holding each, packs in name
/// order; items in no pack keep their relative order, at the end. Where a pack cannot be read
/// front to back, its items fall back to pack order; without readable indexes, `items` stay as
/// they are.
pub fn sort_by_delta_tree<T: Copy, K: Into<ObjectId>>(
    repo: &Repository,
    items: &mut [T],
    oid: impl Fn(&T) -> K,
) {
    let packs = pack_indexes(repo);
    if packs.is_empty() {
        return;
    }
    // Each item's (pack, offset), then per pack the rank of each offset in its order.
    let keys: Vec<(u32, u64)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let id: ObjectId = oid(it).into();
            packs
                .iter()
                .enumerate()
                .find_map(|(p, (_, idx))| idx.offset(&id).map(|o| (p as u32, o)))
                .unwrap_or((u32::MAX, i as u64))
        })
        .collect();
    let mut used = vec![false; packs.len()];
    for &(p, _) in &keys {
        if let Some(u) = used.get_mut(p as usize) {
            *u = true;
        }
    }
    let ranks: Vec<Option<(Vec<u64>, Vec<u32>)>> = packs
        .iter()
        .zip(used)
        .map(|((pack, idx), used)| {
            if !used {
                return None;
            }
            let (entries, _) = pack_entries(pack, idx)?;
            let order = post_order(&entries);
            let mut rank = vec![0u32; order.len()];
            for (r, &e) in order.iter().enumerate() {
                rank[e as usize] = r as u32;
            }
            Some((entries.iter().map(|e| e.offset).collect(), rank))
        })
        .collect();
    let mut keyed: Vec<(u32, u64, T)> = keys
        .iter()
        .zip(items.iter())
        .map(|(&(p, off), it)| {
            let rank = ranks
                .get(p as usize)
                .and_then(|r| r.as_ref())
                .and_then(|(offs, rank)| offs.binary_search(&off).ok().map(|e| rank[e] as u64));
            (p, rank.unwrap_or(off), *it)
        })
        .collect();
    keyed.sort_by_key(|k| (k.0, k.1));
    for (slot, k) in items.iter_mut().zip(keyed) {
        *slot = k.2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_headers_give_type_size_length_and_base() {
        // A blob of 300 bytes (type 3; size 300 = 12 in the low four bits, then 18 << 4).
        assert_eq!(
            entry_header(&[0xbc, 0x12], 100),
            Some((3, 300, 2, Base::Whole))
        );
        // OFS_DELTA (type 6) of size 5, its base 0x81 0x10 = ((1 + 1) << 7) | 0x10 = 272 back.
        assert_eq!(
            entry_header(&[0x65, 0x81, 0x10], 1000),
            Some((6, 5, 3, Base::At(728)))
        );
        assert_eq!(
            entry_header(&[0x65, 0x05], 1000),
            Some((6, 5, 2, Base::At(995)))
        );
        // A base before the start of the pack, or no distance at all, is malformed.
        assert_eq!(entry_header(&[0x65, 0x7f], 100), None);
        assert_eq!(entry_header(&[0x65, 0x00], 100), None);
        // REF_DELTA (type 7): the 20-byte base id follows the size.
        let mut head = vec![0x75];
        head.extend([0xab; 20]);
        let id = ObjectId::from_bytes(&[0xab; 20]).map(Base::Id);
        assert_eq!(entry_header(&head, 10).map(|h| h.3), id);
        assert_eq!(entry_header(&head, 10).map(|h| h.2), Some(21));
        // Cut off mid-header, the unused types 0 and 5, a size varint that never ends.
        assert_eq!(entry_header(&[0xbc], 0), None);
        assert_eq!(entry_header(&[0x75, 1, 2], 0), None);
        assert_eq!(entry_header(&[0x05], 0), None);
        assert_eq!(entry_header(&[0x55], 0), None);
        assert_eq!(entry_header(&[0xff; 32], 0), None);
    }

    #[test]
    fn post_order_puts_each_base_after_its_deltas() {
        // 0 <- 1 <- 2, 0 <- 3, 4 whole, 4 <- 5, 6 based elsewhere.
        let e = |parent| Entry {
            offset: 0,
            kind: 3,
            size: 0,
            header_len: 1,
            parent,
        };
        let entries = [
            e(Parent::Whole),
            e(Parent::Entry(0)),
            e(Parent::Entry(1)),
            e(Parent::Entry(0)),
            e(Parent::Whole),
            e(Parent::Entry(4)),
            e(Parent::Elsewhere),
        ];
        assert_eq!(post_order(&entries), vec![2, 1, 3, 0, 5, 4, 6]);
        assert_eq!(post_order(&[]), Vec::<u32>::new());
    }
}
