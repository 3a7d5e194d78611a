//! Object ids as values: 20 raw bytes (SHA-1; SHA-256 repositories are not supported), compared
//! and hashed inline. git2's `Oid` compares through FFI, which showed up in profiles of the
//! history walk; these are plain arrays. [`ObjectId`] is any object (trees and tags too);
//! [`BlobId`] and [`CommitId`] say which kind a value names, so a commit id cannot be passed
//! where a blob id is meant.

use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// Hex digits of a short object id, as `git log --oneline` shows them by default.
pub const SHORT_LEN: usize = 7;

/// Any object's id.
#[derive(Clone, Copy, Eq, PartialOrd, Ord, Default)]
pub struct ObjectId([u8; 20]);

/// Compared as two 8-byte words and a 4-byte one, inline: the derived comparison calls
/// `memcmp`, which showed in profiles of the tree walk (every entry's id is compared).
impl PartialEq for ObjectId {
    fn eq(&self, other: &ObjectId) -> bool {
        words(&self.0) == words(&other.0)
    }
}

fn words(b: &[u8; 20]) -> (u64, u64, u32) {
    let w = |i: usize| {
        u64::from_ne_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ])
    };
    (w(0), w(8), u32::from_ne_bytes([b[16], b[17], b[18], b[19]]))
}

impl ObjectId {
    /// The id of a git2 object id (its first 20 bytes).
    pub fn of(oid: Oid) -> ObjectId {
        let mut b = [0u8; 20];
        let raw = oid.as_bytes();
        let n = raw.len().min(20);
        b[..n].copy_from_slice(&raw[..n]);
        ObjectId(b)
    }

    /// The id held by exactly 20 raw bytes (as a tree entry stores it).
    pub fn from_bytes(bytes: &[u8]) -> Option<ObjectId> {
        let b: [u8; 20] = bytes.try_into().ok()?;
        Some(ObjectId(b))
    }

    /// The id written as 40 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<ObjectId> {
        if hex.len() != 40 {
            return None;
        }
        let mut b = [0u8; 20];
        hex::decode_to_slice(hex, &mut b).ok()?;
        Some(ObjectId(b))
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// As a git2 object id.
    pub fn oid(self) -> Oid {
        // 20 bytes always make a SHA-1 object id.
        Oid::from_bytes(&self.0).unwrap_or_else(|_| Oid::zero())
    }

    /// The first [`SHORT_LEN`] hex digits.
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(SHORT_LEN);
        s
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }

    /// The shard (of `count`) this object belongs to: its first four bytes, big-endian, modulo
    /// `count`. A fixed function of the id, so every process that shards one repository agrees,
    /// and uniform, since object ids are hashes.
    pub fn shard(&self, count: u32) -> u32 {
        let n = u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]);
        n % count.max(1)
    }
}

/// One of `count` disjoint parts of a history's objects (`--shard INDEX/COUNT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether this shard scans `id`.
    pub fn owns(&self, id: ObjectId) -> bool {
        id.shard(self.count) == self.index
    }

    /// Shard 0 also reports what the commit walk itself finds (unreadable trees, submodules,
    /// skipped backup refs): every shard walks, one reports it.
    pub fn reports_walk(&self) -> bool {
        self.index == 0
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}`: a shard is INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 0/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// Hashed by the first 8 bytes, which are already uniformly distributed (see [`IdHasher`]).
impl std::hash::Hash for ObjectId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(b));
    }
}

impl From<Oid> for ObjectId {
    fn from(oid: Oid) -> ObjectId {
        ObjectId::of(oid)
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub ObjectId);

        impl $name {
            pub fn of(oid: Oid) -> $name {
                $name(ObjectId::of(oid))
            }
            pub fn from_hex(hex: &str) -> Option<$name> {
                ObjectId::from_hex(hex).map($name)
            }
            pub fn oid(self) -> Oid {
                self.0.oid()
            }
            pub fn object(self) -> ObjectId {
                self.0
            }
            /// The first [`SHORT_LEN`] hex digits.
            pub fn short(&self) -> String {
                self.0.short()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl From<Oid> for $name {
            fn from(oid: Oid) -> $name {
                $name::of(oid)
            }
        }
    };
}

typed_id!(
    /// A blob's id.
    BlobId
);
typed_id!(
    /// A commit's id.
    CommitId
);

/// Passes an id's 8 hashed bytes through unchanged (ids are hashes already); other input is
/// folded FNV-style, so the hasher stays usable for any key.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// A set of ids, hashed by [`IdHasher`].
pub type IdSet<K = ObjectId> = HashSet<K, BuildHasherDefault<IdHasher>>;
/// A map keyed by ids, hashed by [`IdHasher`].
pub type IdMap<V, K = ObjectId> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn hex_round_trip_and_short() {
        let id = ObjectId::from_hex(HEX).unwrap();
        assert_eq!(id.to_string(), HEX);
        assert_eq!(id.short(), "0123456");
        assert_eq!(id.oid().to_string(), HEX);
        assert_eq!(ObjectId::of(Oid::from_str(HEX).unwrap()), id);
        assert_eq!(ObjectId::from_hex(&HEX.to_uppercase()), Some(id));
        let c = CommitId::from_hex(HEX).unwrap();
        assert_eq!(c.to_string(), HEX);
        assert_eq!(c.short(), "0123456");
        assert_eq!(BlobId::of(c.oid()).object(), id);
    }

    #[test]
    fn bad_ids_are_rejected() {
        assert_eq!(ObjectId::from_hex(&HEX[..39]), None);
        assert_eq!(ObjectId::from_hex(&format!("{}g", &HEX[..39])), None);
        assert_eq!(ObjectId::from_hex(""), None);
        assert_eq!(ObjectId::from_bytes(&[0u8; 19]), None);
        assert_eq!(ObjectId::from_bytes(&[0u8; 21]), None);
        assert!(ObjectId::from_bytes(&[0u8; 20]).unwrap().is_zero());
    }

    #[test]
    fn ordering_is_bytewise_and_sets_work() {
        let a = ObjectId::from_bytes(&[1u8; 20]).unwrap();
        let mut b = [1u8; 20];
        b[19] = 2;
        let b = ObjectId::from_bytes(&b).unwrap();
        assert!(a < b);
        // Same first 8 bytes: one hash bucket, still two entries.
        let set: IdSet = [a, b, a].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&b));
    }
}
