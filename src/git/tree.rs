//! The one parser of raw tree objects: `mode SP name NUL id[20]`, repeated.
//!
//! Trees are read raw rather than through `git2::Tree`: libgit2's parsed trees allocate per
//! entry, and the rewrite must write a byte-identical tree with only changed ids swapped (its
//! tree builder would normalise odd file modes). Malformed data is an error, never a panic: the
//! iterator yields the error and then ends.

use super::id::ObjectId;
use std::fmt;

/// Mode of a directory entry (`40000`; git also accepts `040000`).
pub const MODE_TREE: u32 = 0o40000;
/// Mode of a gitlink (a submodule's commit).
pub const MODE_GITLINK: u32 = 0o160000;

/// One entry of a raw tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The mode as written (octal digits, not normalised).
    pub mode: &'a [u8],
    pub name: &'a [u8],
    pub id: ObjectId,
}

impl Entry<'_> {
    /// The mode's value, or `None` when it is not made of octal digits (or overflows).
    pub fn mode_bits(&self) -> Option<u32> {
        let mut mode = 0u32;
        for &c in self.mode {
            if !(b'0'..=b'7').contains(&c) {
                return None;
            }
            mode = mode.checked_mul(8)?.checked_add(u32::from(c - b'0'))?;
        }
        Some(mode)
    }
}

/// Whether a mode, as written, is a directory (`40000` or `040000`).
pub fn mode_is_tree(mode: &[u8]) -> bool {
    mode == b"40000" || mode == b"040000"
}

/// Whether a mode, as written, is a gitlink.
pub fn mode_is_gitlink(mode: &[u8]) -> bool {
    mode == b"160000"
}

/// What is wrong with a raw tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    /// An entry was asked for past the end of the data.
    OutOfRange,
    /// No space after the mode.
    NoMode,
    /// No NUL after the name.
    NoNameEnd,
    /// Fewer than 20 bytes of id after the name.
    TruncatedId,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TreeError::OutOfRange => "malformed tree: entry out of range",
            TreeError::NoMode => "malformed tree: no mode",
            TreeError::NoNameEnd => "malformed tree: no name end",
            TreeError::TruncatedId => {
                "malformed tree: truncated id (only SHA-1 repositories are supported)"
            }
        })
    }
}

impl std::error::Error for TreeError {}

/// The entry starting at byte `pos` of a raw tree, and where the next one starts.
pub fn entry_at(data: &[u8], pos: usize) -> Result<(Entry<'_>, usize), TreeError> {
    let rest = data.get(pos..).ok_or(TreeError::OutOfRange)?;
    // Byte loops, not memchr: a mode is a few bytes and a name rarely many, and the call
    // overhead of memchr on such short runs was most of the history walk's parsing time.
    let sp = rest
        .iter()
        .position(|&b| b == b' ')
        .ok_or(TreeError::NoMode)?;
    let nul = sp
        + rest[sp..]
            .iter()
            .position(|&b| b == 0)
            .ok_or(TreeError::NoNameEnd)?;
    let id = rest
        .get(nul + 1..nul + 21)
        .and_then(ObjectId::from_bytes)
        .ok_or(TreeError::TruncatedId)?;
    let entry = Entry {
        mode: &rest[..sp],
        name: &rest[sp + 1..nul],
        id,
    };
    Ok((entry, pos + nul + 21))
}

/// The entries of a raw tree, in order; a malformed entry is yielded as an error, after which
/// the iteration ends.
pub fn entries(data: &[u8]) -> Entries<'_> {
    Entries { data, pos: 0 }
}

/// Iterator of [`entries`].
pub struct Entries<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, TreeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        match entry_at(self.data, self.pos) {
            Ok((e, next)) => {
                self.pos = next;
                Some(Ok(e))
            }
            Err(e) => {
                self.pos = self.data.len();
                Some(Err(e))
            }
        }
    }
}

/// Git's order of tree entries: by name, a directory's name compared as if it ended in `/`.
/// A byte loop, inline: names are short, and `memcmp` calls showed in profiles of the walk.
pub fn entry_order(a: &Entry<'_>, b: &Entry<'_>) -> std::cmp::Ordering {
    let n = a.name.len().min(b.name.len());
    for (x, y) in a.name[..n].iter().zip(&b.name[..n]) {
        if x != y {
            return x.cmp(y);
        }
    }
    let next = |e: &Entry<'_>| match e.name.get(n) {
        Some(&c) => c,
        None if mode_is_tree(e.mode) => b'/',
        None => 0,
    };
    next(a).cmp(&next(b))
}

/// An older version of a tree, read alongside a newer one (both in git's entry order) to tell
/// which entries of the newer were in the older: their objects are already known. Entries of
/// the newer must be asked about in their order. Out-of-order or malformed data can only make a
/// known entry look new, never the reverse.
pub struct Unchanged<'a> {
    old: Entries<'a>,
    cur: Option<Entry<'a>>,
}

impl<'a> Unchanged<'a> {
    pub fn new(old: &'a [u8]) -> Unchanged<'a> {
        let mut old = entries(old);
        let cur = old.next().and_then(Result::ok);
        Unchanged { old, cur }
    }

    /// Whether `entry` (of the newer tree) names an object the older one holds at the same
    /// place: the same id under the same name. (The same id under the next name is a rename,
    /// which the history walk records as another path of what it holds.) The ids are compared
    /// first: in an unchanged stretch the two trees line up entry by entry.
    pub fn contains(&mut self, entry: &Entry<'_>) -> bool {
        while let Some(c) = self.cur {
            if c.id == entry.id && c.name == entry.name {
                self.cur = self.old.next().and_then(Result::ok);
                return true;
            }
            match entry_order(&c, entry) {
                std::cmp::Ordering::Less => self.cur = self.old.next().and_then(Result::ok),
                std::cmp::Ordering::Equal => {
                    self.cur = self.old.next().and_then(Result::ok);
                    return false;
                }
                std::cmp::Ordering::Greater => return false,
            }
        }
        false
    }
}

/// Writes one raw tree entry (the inverse of [`entry_at`]).
pub fn push_entry(out: &mut Vec<u8>, mode: &[u8], name: &[u8], id: &ObjectId) {
    out.extend_from_slice(mode);
    out.push(b' ');
    out.extend_from_slice(name);
    out.push(0);
    out.extend_from_slice(id.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes(&[n; 20]).unwrap()
    }

    fn tree(entries: &[(&[u8], &[u8], u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, n) in entries {
            push_entry(&mut out, mode, name, &id(*n));
        }
        out
    }

    /// Which entries of `new` [`Unchanged`] says the older tree `old` holds.
    fn known(old: &[u8], new: &[u8]) -> Vec<String> {
        let mut u = Unchanged::new(old);
        entries(new)
            .map(Result::unwrap)
            .filter(|e| u.contains(e))
            .map(|e| String::from_utf8_lossy(e.name).into_owned())
            .collect()
    }

    #[test]
    fn unchanged_entries_of_a_new_version_are_known() {
        // git's order: `foo.c` before the directory `foo` (compared as `foo/`), `foo0` after.
        let old = tree(&[
            (b"100644", b"a", 1),
            (b"100644", b"foo.c", 2),
            (b"40000", b"foo", 3),
            (b"100644", b"foo0", 4),
            (b"100644", b"z", 5),
        ]);
        let new = tree(&[
            (b"100644", b"a", 1),
            (b"100644", b"b", 9),
            (b"100644", b"foo.c", 2),
            (b"40000", b"foo", 8),
            (b"100644", b"foo0", 4),
            (b"100755", b"z", 5),
        ]);
        assert_eq!(known(&old, &new), ["a", "foo.c", "foo0", "z"]);
        assert_eq!(
            entry_order(&entry_at(&old, 0).unwrap().0, &entry_at(&new, 0).unwrap().0),
            std::cmp::Ordering::Equal
        );
        // Nothing is known against an empty or malformed older tree; against one out of order,
        // only what happens to line up (never an entry it does not hold).
        assert!(known(b"", &new).is_empty());
        assert!(known(b"100644 a\0short", &new).is_empty());
        let reversed = tree(&[(b"100644", b"z", 5), (b"100644", b"a", 1)]);
        assert_eq!(known(&reversed, &new), ["z"]);
    }

    #[test]
    fn parses_entries_in_order() {
        let raw = tree(&[
            (b"100644", b"a.txt", 1),
            (b"40000", b"dir", 2),
            (b"160000", b"sub", 3),
            (b"120000", b"name with spaces\xff", 4),
        ]);
        let got: Vec<Entry> = entries(&raw).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].name, b"a.txt");
        assert_eq!(got[0].mode_bits(), Some(0o100644));
        assert_eq!(got[1].mode_bits(), Some(MODE_TREE));
        assert!(mode_is_tree(got[1].mode));
        assert!(mode_is_gitlink(got[2].mode));
        assert_eq!(got[2].mode_bits(), Some(MODE_GITLINK));
        assert_eq!(got[3].name, b"name with spaces\xff");
        assert_eq!(got[3].id, id(4));
        assert_eq!(entries(b"").count(), 0);
    }

    #[test]
    fn odd_modes_are_kept_as_written() {
        let raw = tree(&[(b"040000", b"d", 1), (b"10x644", b"f", 2)]);
        let got: Vec<Entry> = entries(&raw).collect::<Result<_, _>>().unwrap();
        assert_eq!(got[0].mode, b"040000");
        assert!(mode_is_tree(got[0].mode));
        assert_eq!(got[0].mode_bits(), Some(MODE_TREE));
        assert_eq!(got[1].mode_bits(), None);
        let huge = Entry {
            mode: b"77777777777777",
            name: b"x",
            id: id(0),
        };
        assert_eq!(huge.mode_bits(), None);
    }

    #[test]
    fn malformed_trees_error_and_stop() {
        let good = tree(&[(b"100644", b"a", 1)]);
        let cases: Vec<(Vec<u8>, TreeError)> = vec![
            (b"100644".to_vec(), TreeError::NoMode),
            (b"100644 name-without-nul".to_vec(), TreeError::NoNameEnd),
            (b"100644 a\0short".to_vec(), TreeError::TruncatedId),
            ([good.clone(), b"junk".to_vec()].concat(), TreeError::NoMode),
            (good[..good.len() - 1].to_vec(), TreeError::TruncatedId),
        ];
        for (raw, want) in cases {
            let all: Vec<_> = entries(&raw).collect();
            assert_eq!(all.last(), Some(&Err(want)), "{raw:?}");
            assert_eq!(all.iter().filter(|e| e.is_err()).count(), 1);
        }
        assert_eq!(entry_at(&good, good.len() + 1), Err(TreeError::OutOfRange));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A fixed linear congruential sequence: deterministic, no seed to report.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..300usize {
            let mut raw = Vec::with_capacity(len);
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let b = (x >> 56) as u8;
                // Bias towards the bytes the format cares about.
                raw.push(match b % 8 {
                    0 => b' ',
                    1 => 0,
                    _ => b,
                });
            }
            let mut total = 0;
            for e in entries(&raw) {
                match e {
                    Ok(e) => total += e.mode.len() + e.name.len() + 22,
                    Err(_) => break,
                }
            }
            assert!(total <= raw.len());
        }
    }
}
