//! Pack order: sorting objects by their position in the pack files before reading them.
//!
//! Reading a pack front to back keeps delta bases in libgit2's base cache; reading the same
//! objects in object-id (or discovery) order is several times slower, because each read may
//! re-inflate a long delta chain. The positions come straight from the `.idx` files (version 2),
//! without opening the packs. Used by the history scan ([`crate::source::history`]), the
//! rewrite's blob pass ([`crate::rewrite::graph`]) and its verification.

use super::id::ObjectId;
use git2::Repository;
use std::path::{Path, PathBuf};

/// Pack position of every object we will read, from the `.idx` files (version 2).
struct PackIndex {
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

    fn offset(&self, oid: &ObjectId) -> Option<u64> {
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
                std::cmp::Ordering::Equal => {
                    let offsets = names + self.count * 24;
                    let off = be32(&self.data, offsets + mid * 4)?;
                    if off & 0x8000_0000 == 0 {
                        return Some(off as u64);
                    }
                    let large = offsets + self.count * 4 + (off & 0x7fff_ffff) as usize * 8;
                    let b = self.data.get(large..large + 8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    return Some(u64::from_be_bytes(a));
                }
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
    let dir = repo.commondir().join("objects").join("pack");
    let mut idx_files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect(),
        Err(_) => return,
    };
    idx_files.sort();
    let packs: Vec<PackIndex> = idx_files
        .iter()
        .filter_map(|p| PackIndex::load(p))
        .collect();
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
