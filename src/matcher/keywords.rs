//! Every occurrence of every keyword in a buffer, ASCII case-insensitive and overlapping, found
//! through one short anchor per keyword.
//!
//! A full Aho-Corasick DFA over several hundred keywords is a table of some 2 MB: stepping it
//! once per byte misses the caches on most bytes of real text, and that step was the largest
//! single cost of a history scan. Here each keyword is reduced to one anchor, a 4-byte slice of
//! it chosen to be rare in source text (3 bytes for keywords of 2 or 3 bytes, the 2-byte ones
//! expanded over every third byte). Per position of the buffer the search hashes the 4 bytes
//! there, folded to lower case, and tests one bit in each of two small bit tables (40 KB, in the
//! first-level cache); only where a bit is set does it compare the keywords filed under that
//! hash with the text. So the cost per byte is a few instructions with no dependent loads, and
//! the comparisons happen about as often as keywords actually occur.
//!
//! The result is exactly the set Aho-Corasick's overlapping search reports (a test compares the
//! two on generated text), sorted by start position.

use crate::error::Error;

/// Bits in the table of 4-byte anchors (2^16 bits: 8 KB).
const LONG_BITS: u32 = 16;
/// Bits in the table of 3-byte anchors (2^14 bits: 2 KB).
const SHORT_BITS: u32 = 14;

/// The folding both tables hash: every byte with bit 5 set, so that ASCII letters of either case
/// hash alike. Other bytes collide in pairs too (`_` with DEL, `@` with `` ` ``); the comparison
/// that follows a hit decides, so this only ever adds a comparison.
const FOLD: u32 = 0x2020_2020;

#[inline(always)]
fn long_hash(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> (32 - LONG_BITS)) as usize
}

#[inline(always)]
fn short_hash(x: u32) -> usize {
    ((x & 0x00FF_FFFF).wrapping_mul(0x85EB_CA77) >> (32 - SHORT_BITS)) as usize
}

/// How common a byte is in source and configuration text (higher is more common), the measure
/// by which each keyword's anchor is chosen: letters by their frequency in English text, then
/// layout and punctuation. A rough order is enough: it only decides how often the search stops
/// to compare, never what it finds.
fn commonness(b: u8) -> u32 {
    const LETTERS: &[u8] = b"etaoinsrlcdhumpfgbywvkxjqz";
    match b {
        b' ' | b'\n' | b'\t' | b'\r' | b'*' | b'(' | b')' | b',' | b';' | b'=' => 40,
        b'a'..=b'z' => 36 - LETTERS.iter().position(|&c| c == b).unwrap_or(25) as u32,
        b'.' | b'_' | b'/' | b'-' | b':' | b'\'' | b'"' => 20,
        b'0'..=b'9' => 15,
        _ => 5,
    }
}

/// A bit table with, per set bit, the entries filed under it (compressed rows).
struct Table<E, const WORDS: usize> {
    /// A fixed size, so that indexing by a hash (which the compiler sees is in range) needs no
    /// bounds check in the loop over every byte.
    bits: Box<[u64; WORDS]>,
    starts: Box<[u32]>,
    entries: Box<[E]>,
}

impl<E: Copy + PartialEq, const WORDS: usize> Table<E, WORDS> {
    fn new(filed: Vec<(usize, E)>) -> Self {
        let slots = WORDS * 64;
        let mut rows: Vec<Vec<E>> = vec![Vec::new(); slots];
        for (slot, e) in filed {
            if !rows[slot].contains(&e) {
                rows[slot].push(e);
            }
        }
        let mut table = Box::new([0u64; WORDS]);
        let mut starts = Vec::with_capacity(slots + 1);
        let mut entries = Vec::new();
        for (slot, row) in rows.iter().enumerate() {
            starts.push(entries.len() as u32);
            if !row.is_empty() {
                table[slot / 64] |= 1 << (slot % 64);
            }
            entries.extend_from_slice(row);
        }
        starts.push(entries.len() as u32);
        Table {
            bits: table,
            starts: starts.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn bit(&self, slot: usize) -> u64 {
        self.bits[slot / 64] >> (slot % 64) & 1
    }

    fn row(&self, slot: usize) -> &[E] {
        &self.entries[self.starts[slot] as usize..self.starts[slot + 1] as usize]
    }
}

/// The keywords, each filed under its anchor.
pub(super) struct KeywordSearch {
    /// Lower-cased keywords; a hit names its keyword by index here.
    keywords: Vec<Box<[u8]>>,
    /// Keywords of 4 bytes or more: (keyword, offset of its anchor in it).
    long: Table<(u32, u16), { 1 << (LONG_BITS - 6) }>,
    /// Keywords of 2 or 3 bytes, anchored at their start.
    short: Table<u32, { 1 << (SHORT_BITS - 6) }>,
}

impl KeywordSearch {
    /// Files every keyword (at least 2 bytes each, as rule validation requires) under its anchor.
    pub(super) fn new(keywords: &[String]) -> Result<Self, Error> {
        let mut long = Vec::new();
        let mut short = Vec::new();
        let fold = |b: u8| b | 0x20;
        for (i, k) in keywords.iter().enumerate() {
            let k = k.as_bytes();
            let id = i as u32;
            match k.len() {
                0 | 1 => {
                    return Err(Error::Prefilter {
                        message: format!("keyword {:?} is shorter than 2 bytes", k),
                    })
                }
                2 | 3 => {
                    let third: Vec<u8> = match k.get(2) {
                        Some(&c) => vec![fold(c)],
                        None => (0..=255u8).map(fold).collect(),
                    };
                    for c in third {
                        let x = u32::from_le_bytes([fold(k[0]), fold(k[1]), c, 0]);
                        short.push((short_hash(x), id));
                    }
                }
                n => {
                    let last = (n - 4).min(u16::MAX as usize);
                    let at = (0..=last)
                        .min_by_key(|&j| {
                            k[j..j + 4]
                                .iter()
                                .map(|&b| commonness(fold(b)))
                                .sum::<u32>()
                        })
                        .unwrap_or(0);
                    let x = u32::from_le_bytes([k[at], k[at + 1], k[at + 2], k[at + 3]]) | FOLD;
                    long.push((long_hash(x), (id, at as u16)));
                }
            }
        }
        Ok(KeywordSearch {
            keywords: keywords
                .iter()
                .map(|k| k.as_bytes().to_ascii_lowercase().into_boxed_slice())
                .collect(),
            long: Table::new(long),
            short: Table::new(short),
        })
    }

    /// Puts into `hits` every occurrence of every keyword in `data` as (keyword, start, end),
    /// sorted by start (several keywords at one start in no set order). Each is found where its
    /// anchor is, which can be past the start of a keyword found later, hence the sort.
    pub(super) fn find_all(&self, data: &[u8], hits: &mut Vec<(usize, usize, usize)>) {
        hits.clear();
        let mut hit = |k, s, e| hits.push((k, s, e));
        let n = data.len();
        let mut i = 0;
        while i + 4 <= n {
            let x = u32::from_le_bytes(data[i..i + 4].try_into().unwrap_or([0; 4])) | FOLD;
            if self.long.bit(long_hash(x)) | self.short.bit(short_hash(x)) != 0 {
                self.compare(data, i, x, &mut hit);
            }
            i += 1;
        }
        // The last three positions: pad with a space, which folds like every third byte a
        // 2-byte keyword was filed under, and which no 4-byte anchor can need (it lies outside).
        while i < n {
            let mut b = [b' '; 4];
            b[..n - i].copy_from_slice(&data[i..]);
            self.compare(data, i, u32::from_le_bytes(b) | FOLD, &mut hit);
            i += 1;
        }
        hits.sort_unstable_by_key(|h| h.1);
    }

    /// Compares the keywords filed under the hashes of `x` (the folded 4 bytes at `i`).
    #[inline(never)]
    fn compare(&self, data: &[u8], i: usize, x: u32, hit: &mut impl FnMut(usize, usize, usize)) {
        for &(id, at) in self.long.row(long_hash(x)) {
            let k = &self.keywords[id as usize];
            let at = at as usize;
            if i >= at && is_at(data, i - at, k) {
                hit(id as usize, i - at, i - at + k.len());
            }
        }
        // Rows are only read on a set bit: test it, as the long row's own bit may be the one set.
        let s = short_hash(x);
        if self.short.bit(s) != 0 {
            for &id in self.short.row(s) {
                let k = &self.keywords[id as usize];
                if is_at(data, i, k) {
                    hit(id as usize, i, i + k.len());
                }
            }
        }
    }
}

/// Whether `keyword` (lower case) occurs at `start` of `data`, ASCII case-insensitively.
#[inline(always)]
fn is_at(data: &[u8], start: usize, keyword: &[u8]) -> bool {
    data.get(start..start + keyword.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(keyword))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasickBuilder, MatchKind};
    use rand::Rng;

    /// Every (keyword, start, end) Aho-Corasick's overlapping search reports, sorted.
    fn reference(keywords: &[String], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(keywords)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(data)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_unstable();
        v
    }

    fn found(keywords: &[String], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let search = KeywordSearch::new(keywords).unwrap();
        let mut v = Vec::new();
        search.find_all(data, &mut v);
        let mut sorted = v.clone();
        sorted.sort_by_key(|&(_, s, _)| s);
        assert_eq!(
            v.iter().map(|h| h.1).collect::<Vec<_>>(),
            sorted.iter().map(|h| h.1).collect::<Vec<_>>(),
            "hits are sorted by start"
        );
        v.sort_unstable();
        v
    }

    #[test]
    fn same_hits_as_aho_corasick_on_generated_text() {
        let (mut rng, seed) = crate::testing::seeded();
        let keywords: Vec<String> = [
            "q~",
            "db",
            ":/",
            "key",
            "aws",
            "://",
            "$1$",
            "pass",
            "password",
            "passwd",
            "_auth",
            "ghp_",
            "sk-ant-",
            "xoxb-",
            "define(",
            "secret",
            "client_secret",
            "aaaa",
            "aaab",
            "begin rsa private key",
            "é~",
            "a\u{7f}b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Text made of keyword pieces, case flips, separators and bytes that fold onto them.
        let pieces: Vec<&[u8]> = vec![
            b" ", b"\n", b"_", b"\x7f", b"@", b"`", b"~", b"Q", b"-", b":", b"/", b"$", b"\xc3",
            b"\xa9", b"\xe9",
        ];
        for round in 0..300 {
            let mut data = Vec::new();
            let len = rng.gen_range(0..400);
            while data.len() < len {
                if rng.gen_bool(0.4) {
                    let k = keywords[rng.gen_range(0..keywords.len())].as_bytes();
                    let cut = rng.gen_range(1..=k.len());
                    for &b in &k[..cut] {
                        data.push(if rng.gen_bool(0.3) {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        });
                    }
                } else if rng.gen_bool(0.5) {
                    data.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
                } else {
                    data.push(rng.gen());
                }
            }
            assert_eq!(
                found(&keywords, &data),
                reference(&keywords, &data),
                "seed {seed:#x}, round {round}, text {:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    #[test]
    fn keywords_at_the_edges_of_the_buffer() {
        let keywords: Vec<String> = ["q~", "key", "pass"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for data in [
            &b"q~"[..],
            b"Q~",
            b"xq~",
            b"KEY",
            b"xkey",
            b"pass",
            b"xPASS",
            b"k",
            b"",
        ] {
            assert_eq!(
                found(&keywords, data),
                reference(&keywords, data),
                "{data:?}"
            );
        }
    }

    #[test]
    fn built_in_keywords_match_aho_corasick_on_rule_text() {
        let rules = crate::rules::builtin().unwrap();
        let mut keywords: Vec<String> = rules
            .iter()
            .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase()))
            .collect();
        keywords.sort();
        keywords.dedup();
        // The rules' own examples and negatives are text dense with their keywords.
        let mut data = Vec::new();
        for r in &rules {
            for e in r.examples.iter().chain(&r.negatives) {
                data.extend_from_slice(e.as_bytes());
                data.push(b'\n');
            }
        }
        assert!(data.len() > 10_000);
        assert_eq!(found(&keywords, &data), reference(&keywords, &data));
    }

    #[test]
    fn a_one_byte_keyword_is_an_error() {
        assert!(KeywordSearch::new(&["x".to_string()]).is_err());
    }
}
