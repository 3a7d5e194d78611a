//! Every occurrence of every keyword in a buffer, ASCII case-insensitive and overlapping, found
//! through one short anchor per keyword.
//!
//! A full Aho-Corasick DFA over several hundred keywords is a table of some 2 MB: stepping it
//! once per byte misses the caches on most bytes of real text, and that step was the largest
//! single cost of a history scan. Here each keyword is reduced to one anchor, a 4-byte slice of
//! it expected to be rare in text ([`Rarity`]; a 3-byte keyword is filed under itself followed
//! by every possible fourth byte, or preceded by every possible byte). A 4-byte anchor holds two
//! 3-byte blocks, and one of them starts at an even position, so the search looks at every second
//! position only: it hashes the 3 bytes there, folded to lower case, and tests one bit of a 32 KB
//! table of every anchor's blocks. Only where that bit is set does it test the two anchors the block may belong to (the
//! one starting there and the one starting a byte before) in a second bit table, and only where
//! that bit is set too does it compare the keywords filed under the anchor with the text. So the
//! cost is a few instructions per two bytes with no dependent loads, and the comparisons happen
//! about as often as anchors occur. The rare 2-byte keywords are found apart, by a vectorised
//! byte search for their rarer byte.
//!
//! The result is exactly the set Aho-Corasick's overlapping search reports (a test compares the
//! two on generated text), sorted by start position.

use crate::error::Error;

/// Bits in the table of 4-byte anchors (2^17 bits: 16 KB).
const ANCHOR_BITS: u32 = 17;
/// Bits in the table of the anchors' 3-byte blocks (2^18 bits: 32 KB): large enough that blocks
/// of text flag mostly where they are an anchor's, not where their hash collides with one.
const BLOCK_BITS: u32 = 18;

/// The folding the tables hash: every byte with bit 5 set, so that ASCII letters of either case
/// hash alike. Other bytes collide in pairs too (`_` with DEL, `@` with `` ` ``); the comparison
/// that follows a hit decides, so this only ever adds a comparison.
const FOLD: u32 = 0x2020_2020;

/// The anchor offset of a 3-byte keyword filed under the byte before it and itself.
const BEFORE: u16 = u16::MAX;

/// The hash of a 4-byte anchor (or the 4 folded bytes at a position).
#[inline(always)]
fn anchor_hash(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> (32 - ANCHOR_BITS)) as usize
}

/// The hash of the first 3 bytes of `x` (the shift drops the fourth).
#[inline(always)]
fn block_hash(x: u32) -> usize {
    ((x << 8).wrapping_mul(0x85EB_CA77) >> (32 - BLOCK_BITS)) as usize
}

/// The 4 bytes at `i` of `data`, folded (read as one load: the caller has checked they fit).
#[inline(always)]
fn folded(data: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(data[i..i + 4].try_into().unwrap_or([0; 4])) | FOLD
}

/// Letter pairs of English text, most common first: the measure of how common a pair of letters
/// is in identifiers, comments and prose (unlisted pairs are rarer than their letters suggest).
const PAIRS: &str =
    "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha \
    as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo \
    ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po \
    we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld ry mp fe bl \
    ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov by rm ep tt oc fa \
    ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va um pp ua up lu go ht ru ug ds lt pi rc \
    rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud mb ip ub oi \
    rl gu dr hr cc tw ft wn nu af hu nn eo vo rv nf xp gn sm fl iz ok nl my gl aw ju oa eq sy sl \
    ps jo lf nv je nk kn gs dy hy ze ks xt bs ik dd cy rp sk xi oe oy ws lv dl rf eu dg wr xa yi \
    nm eb rb tm xc eh tc gy ja hn yp za gg ym sw bj lm cs ii ix xe oh lk dv lp ax ox uf dm iu sf \
    bt ka hm uy sn";

/// How often each text block is expected, the measure by which each keyword's anchor is chosen:
/// the 3-byte sequences measured in source and configuration text ([`super::trigrams`]) where
/// the table lists them, else a chain over byte pairs, with bytes weighted by their frequency in
/// such text and letter pairs by their rank in [`PAIRS`]. A rough estimate is enough: it only
/// decides how often the search stops to look closer, never what it finds. (The pair model
/// alone took `code` as the anchor of `b64decode` and `----` as that of `private key-----`,
/// which real text is full of.)
struct Rarity {
    /// For each pair of lower-case letters, how much more (or less) common it is than its two
    /// letters' frequencies alone suggest.
    letter_pairs: [[f64; 26]; 26],
    /// The measured frequency (per 10,000 bytes) of the common 3-byte sequences
    /// ([`super::trigrams`]).
    measured: std::collections::HashMap<[u8; 3], f64>,
}

/// The frequency the measured table gives a sequence it does not list: it lists every one seen
/// at least this often.
const UNLISTED: f64 = 0.25;

impl Rarity {
    fn new() -> Self {
        let mut letter_pairs = [[0.2; 26]; 26];
        let words = PAIRS.split_ascii_whitespace();
        for (rank, w) in words.enumerate() {
            if let [a @ b'a'..=b'z', b @ b'a'..=b'z'] = *w.as_bytes() {
                letter_pairs[usize::from(a - b'a')][usize::from(b - b'a')] =
                    320.0 / (rank as f64 + 40.0);
            }
        }
        let mut measured = std::collections::HashMap::new();
        for &(tier, seqs) in super::trigrams::TIERS {
            // The middle of the tier, on a log scale.
            let f = 1000.0 * (-(f64::from(tier) + 0.5) / 2.0).exp2();
            for s in seqs.chunks_exact(3) {
                measured.insert([s[0], s[1], s[2]], f);
            }
        }
        Rarity {
            letter_pairs,
            measured,
        }
    }

    /// Occurrences of the 3 bytes `a`, `b`, `c` (lower case) per 10,000 bytes: measured where
    /// the table lists them, else the chain over pairs, which is at most [`UNLISTED`].
    fn block(&self, a: u8, b: u8, c: u8) -> f64 {
        match self.measured.get(&[a, b, c]) {
            Some(&f) => f,
            None => (self.pair(a, b) * self.pair(b, c) / Self::byte(b)).min(UNLISTED),
        }
    }

    /// Occurrences of the 3-byte blocks that hold the pair `a`, `b` and any byte before
    /// (`before`) or after it, per 10,000 bytes: the cost of a 3-byte keyword filed under every
    /// byte beside it.
    fn any_beside(&self, a: u8, b: u8, before: bool) -> f64 {
        let listed: f64 = self
            .measured
            .iter()
            .filter(|(k, _)| match before {
                true => k[1] == a && k[2] == b,
                false => k[0] == a && k[1] == b,
            })
            .map(|(_, f)| f)
            .sum();
        listed.max(self.pair(a, b))
    }

    /// Occurrences of byte `b` (folded) per 10,000 bytes of source text, roughly.
    fn byte(b: u8) -> f64 {
        const LETTERS: &[u8; 26] = b"etaoinsrlcdhumpfgbywvkxjqz";
        const PER_LETTER: [f64; 26] = [
            600., 450., 420., 400., 380., 370., 340., 330., 250., 200., 200., 180., 160., 150.,
            140., 110., 100., 80., 80., 70., 50., 40., 20., 10., 6., 5.,
        ];
        match b {
            b'a'..=b'z' => LETTERS
                .iter()
                .position(|&c| c == b)
                .map_or(5., |i| PER_LETTER[i]),
            b' ' => 1200.,
            b'\n' | b'\t' | b'\r' => 300.,
            b'_' | b'(' | b')' | b',' | b';' | b'=' | b'.' | b'*' | b'"' => 120.,
            b'0'..=b'9' => 60.,
            b'-' | b'/' | b':' | b'\'' | b'{' | b'}' | b'<' | b'>' | b'[' | b']' => 50.,
            b'#' | b'&' | b'|' | b'!' | b'+' | b'$' | b'@' | b'%' | b'\\' | b'~' | b'`' | b'?'
            | b'^' => 8.,
            _ => 1.,
        }
    }

    /// Occurrences of the pair `a`, `b` (folded) per 10,000 bytes, roughly.
    fn pair(&self, a: u8, b: u8) -> f64 {
        let both = Self::byte(a) * Self::byte(b) / 10_000.;
        match (a, b) {
            (b'a'..=b'z', b'a'..=b'z') => {
                both * self.letter_pairs[usize::from(a - b'a')][usize::from(b - b'a')]
            }
            _ => both,
        }
    }

    /// Where in `keyword` (4 bytes or more) its anchor starts: the 4 bytes whose blocks text
    /// is expected to flag least often.
    fn best_anchor(&self, keyword: &[u8]) -> usize {
        let last = (keyword.len().saturating_sub(4)).min(u16::MAX as usize);
        (0..=last)
            .min_by(|&a, &b| {
                let cost = |j: usize| self.anchor_cost(&keyword[j..j + 4]);
                cost(a).total_cmp(&cost(b))
            })
            .unwrap_or(0)
    }

    /// How often the 4 bytes of an anchor make a block of text flag: the sum of the expected
    /// frequencies of its two 3-byte blocks.
    fn anchor_cost(&self, anchor: &[u8]) -> f64 {
        let f: Vec<u8> = anchor.iter().map(|b| b.to_ascii_lowercase()).collect();
        self.block(f[0], f[1], f[2]) + self.block(f[1], f[2], f[3])
    }
}

/// A bit table with, per set bit, the entries filed under it (compressed rows).
struct Table<E, const WORDS: usize> {
    /// A fixed size, so that indexing by a hash (which the compiler sees is in range) needs no
    /// bounds check in the loop over the text.
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
    /// Keywords of 3 bytes or more: (keyword, offset of its anchor in it, or [`BEFORE`]).
    anchors: Table<(u32, u16), { 1 << (ANCHOR_BITS - 6) }>,
    /// The first and the last 3 bytes of every anchor.
    blocks: Box<[u64; 1 << (BLOCK_BITS - 6)]>,
    /// The 3-byte keywords filed under an anchor that starts a byte before them, which a
    /// keyword at the very start of the text lacks.
    leading: Vec<u32>,
    /// Keywords of 2 bytes: (keyword, which of its bytes is searched for).
    pairs: Vec<(u32, usize)>,
    /// The bytes searched for (both cases of a letter), for the 2-byte keywords.
    pair_bytes: Vec<u8>,
}

impl KeywordSearch {
    /// Files every keyword (at least 2 bytes each, as rule validation requires) under its anchor.
    pub(super) fn new(keywords: &[String]) -> Result<Self, Error> {
        let rarity = Rarity::new();
        let mut filed = Vec::new();
        let mut blocks = Box::new([0u64; 1 << (BLOCK_BITS - 6)]);
        let mut file = |x: u32, entry: (u32, u16)| {
            filed.push((anchor_hash(x), entry));
            for b in [block_hash(x), block_hash(x >> 8)] {
                blocks[b / 64] |= 1 << (b % 64);
            }
        };
        let mut leading = Vec::new();
        let mut pairs = Vec::new();
        let mut pair_bytes = Vec::new();
        for (i, k) in keywords.iter().enumerate() {
            let k = k.as_bytes();
            let id = i as u32;
            match k.len() {
                0 | 1 => {
                    return Err(Error::Prefilter {
                        message: format!("keyword {:?} is shorter than 2 bytes", k),
                    })
                }
                2 => {
                    let freq = |b: u8| Rarity::byte(b.to_ascii_lowercase());
                    let r = usize::from(freq(k[1]) < freq(k[0]));
                    for b in [k[r].to_ascii_lowercase(), k[r].to_ascii_uppercase()] {
                        if !pair_bytes.contains(&b) {
                            pair_bytes.push(b);
                        }
                    }
                    pairs.push((id, r));
                }
                3 => {
                    // Filed under itself and every fourth byte, or every byte before it and
                    // itself: whichever makes the block with the wildcard the rarer.
                    let f = k.to_ascii_lowercase();
                    let lead =
                        rarity.any_beside(f[0], f[1], true) < rarity.any_beside(f[1], f[2], false);
                    if lead {
                        leading.push(id);
                    }
                    for c in 0..=255u8 {
                        let (bytes, at) = match lead {
                            true => ([c, k[0], k[1], k[2]], BEFORE),
                            false => ([k[0], k[1], k[2], c], 0),
                        };
                        file(u32::from_le_bytes(bytes) | FOLD, (id, at));
                    }
                }
                _ => {
                    let at = rarity.best_anchor(k);
                    let x = u32::from_le_bytes([k[at], k[at + 1], k[at + 2], k[at + 3]]) | FOLD;
                    file(x, (id, at as u16));
                }
            }
        }
        Ok(KeywordSearch {
            keywords: keywords
                .iter()
                .map(|k| k.as_bytes().to_ascii_lowercase().into_boxed_slice())
                .collect(),
            anchors: Table::new(filed),
            blocks,
            leading,
            pairs,
            pair_bytes,
        })
    }

    /// Puts into `hits` every occurrence of every keyword in `data` as (keyword, start, end),
    /// sorted by start (several keywords at one start in no set order). Each is found where its
    /// anchor is, which can be past the start of a keyword found later, hence the sort.
    pub(super) fn find_all(&self, data: &[u8], hits: &mut Vec<(usize, usize, usize)>) {
        hits.clear();
        let mut hit = |k, s, e| hits.push((k, s, e));
        let n = data.len();
        for &id in &self.leading {
            let k = &self.keywords[id as usize];
            if is_at(data, 0, k) {
                hit(id as usize, 0, k.len());
            }
        }
        // Every anchor that fits lies over the block at an even `j`: its first block when it
        // starts at `j`, its last when it starts at `j - 1`.
        let mut j = 0;
        while j + 4 <= n {
            let x = folded(data, j);
            let b = block_hash(x);
            if self.blocks[b / 64] >> (b % 64) & 1 != 0 {
                self.flagged(data, j, x, &mut hit);
            }
            j += 2;
        }
        // The anchors the loop could not reach: from `j - 1` (its block at `j` did not fit) on.
        let mut i = j.saturating_sub(1);
        while i + 4 <= n {
            self.anchor_at(data, i, folded(data, i), &mut hit);
            i += 1;
        }
        // The last three positions: only a 3-byte keyword fits there, and one filed under every
        // fourth byte is found with any padding (one filed under the byte before it was found
        // at the position before).
        while i < n {
            let mut b = [b' '; 4];
            b[..n - i].copy_from_slice(&data[i..]);
            self.compare(data, i, u32::from_le_bytes(b) | FOLD, &mut hit);
            i += 1;
        }
        self.find_pairs(data, &mut hit);
        hits.sort_unstable_by_key(|h| h.1);
    }

    /// The block at `j` (`x` the folded 4 bytes there) is an anchor's: tests the anchors that
    /// start at `j` and at `j - 1`.
    #[inline(never)]
    fn flagged(&self, data: &[u8], j: usize, x: u32, hit: &mut impl FnMut(usize, usize, usize)) {
        if j > 0 {
            self.anchor_at(data, j - 1, folded(data, j - 1), hit);
        }
        self.anchor_at(data, j, x, hit);
    }

    /// Compares the keywords filed under `x` (the folded 4 bytes at `i`) if its bit is set.
    #[inline(always)]
    fn anchor_at(&self, data: &[u8], i: usize, x: u32, hit: &mut impl FnMut(usize, usize, usize)) {
        if self.anchors.bit(anchor_hash(x)) != 0 {
            self.compare(data, i, x, hit);
        }
    }

    /// The 2-byte keywords: where their rarer byte occurs, compare the keyword.
    fn find_pairs(&self, data: &[u8], hit: &mut impl FnMut(usize, usize, usize)) {
        for needles in self.pair_bytes.chunks(3) {
            let (a, b, c) = match *needles {
                [a] => (a, a, a),
                [a, b] => (a, b, b),
                [a, b, c] => (a, b, c),
                _ => continue,
            };
            for p in memchr::memchr3_iter(a, b, c, data) {
                for &(id, r) in &self.pairs {
                    let k = &self.keywords[id as usize];
                    if data[p].eq_ignore_ascii_case(&k[r]) && p >= r && is_at(data, p - r, k) {
                        hit(id as usize, p - r, p - r + 2);
                    }
                }
            }
        }
    }

    /// Compares the keywords filed under the hash of `x` (the folded 4 bytes at `i`).
    #[inline(never)]
    fn compare(&self, data: &[u8], i: usize, x: u32, hit: &mut impl FnMut(usize, usize, usize)) {
        for &(id, at) in self.anchors.row(anchor_hash(x)) {
            let k = &self.keywords[id as usize];
            let start = match at {
                BEFORE => Some(i + 1),
                at => i.checked_sub(usize::from(at)),
            };
            if let Some(start) = start.filter(|&s| is_at(data, s, k)) {
                hit(id as usize, start, start + k.len());
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
            "aes",
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
        let keywords: Vec<String> = ["q~", "key", "aes", "pass"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for data in [
            &b"q~"[..],
            b"AES",
            b"xaes",
            b"xaesx",
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
    fn keywords_at_every_offset_of_short_buffers() {
        // The search steps over every second position and finishes the last few one by one:
        // each keyword length at each offset of each short length, padded with text that folds
        // onto the keywords' bytes.
        let keywords: Vec<String> = ["q~", "key", "aes", "pass", "token", "a_b~c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for k in &keywords {
            for len in k.len()..=13 {
                for at in 0..=len - k.len() {
                    let mut data = vec![b'\x7f'; len];
                    data[at..at + k.len()].copy_from_slice(k.to_ascii_uppercase().as_bytes());
                    assert_eq!(
                        found(&keywords, &data),
                        reference(&keywords, &data),
                        "{:?}",
                        String::from_utf8_lossy(&data)
                    );
                    assert_eq!(found(&keywords, &data).len(), 1, "{k} in {data:?}");
                }
            }
        }
    }

    #[test]
    fn anchors_lie_over_the_rarest_bytes() {
        let rarity = Rarity::new();
        let anchor = |k: &[u8]| {
            let at = (0..=k.len() - 4)
                .min_by(|&a, &b| {
                    let cost = |j: usize| rarity.anchor_cost(&k[j..j + 4]);
                    cost(a).total_cmp(&cost(b))
                })
                .unwrap();
            String::from_utf8_lossy(&k[at..at + 4]).into_owned()
        };
        assert_eq!(anchor(b"the_token_xoxb"), "xoxb");
        assert_eq!(anchor(b"Q~zv the "), "Q~zv");
        // `aes` is filed under the byte before it (`es` is far commoner than `ae`), `xyz` under
        // the byte after it (`xy` is commoner than `yz`).
        let search = KeywordSearch::new(&["xyz".to_string(), "aes".to_string()]).unwrap();
        assert_eq!(search.leading, [1]);
        // Among letters, the pairs of English text are the common ones.
        assert!(rarity.anchor_cost(b"tion") > rarity.anchor_cost(b"kvqj"));
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
    fn the_measured_table_is_well_formed() {
        let mut all = std::collections::HashSet::new();
        let mut last = None;
        for &(tier, seqs) in crate::matcher::trigrams::TIERS {
            assert!(last.is_none_or(|l| l < tier), "tiers in order: {tier}");
            last = Some(tier);
            assert_eq!(seqs.len() % 3, 0, "tier {tier} holds whole sequences");
            for s in seqs.chunks_exact(3) {
                assert!(s
                    .iter()
                    .all(|b| (0x20..0x7f).contains(b) && !b.is_ascii_uppercase()));
                assert!(
                    all.insert(s.to_vec()),
                    "{:?} listed once",
                    String::from_utf8_lossy(s)
                );
            }
        }
        assert!(all.len() > 1000, "{} sequences", all.len());
    }

    /// Anchors are chosen by how often their blocks occur in real text: a keyword's common
    /// parts (a run of dashes, `code`, `client`) are passed over for its rarer ones.
    #[test]
    fn anchors_pass_over_the_common_parts_of_a_keyword() {
        let rarity = Rarity::new();
        let anchor = |k: &str| {
            let at = rarity.best_anchor(k.as_bytes());
            k[at..at + 4].to_string()
        };
        for (keyword, common) in [
            ("private key-----", "----"),
            ("b64decode", "code"),
            ("box-client-secret", "lien"),
            ("https://hooks.slack.com", "ttps"),
        ] {
            let a = anchor(keyword);
            assert_ne!(a, common, "{keyword}");
            assert!(
                rarity.anchor_cost(a.as_bytes()) < rarity.anchor_cost(common.as_bytes()) / 4.0,
                "{keyword}: {a} is rarer than {common}"
            );
        }
        // Measured, a block of common text costs more than one the table does not list.
        assert!(rarity.block(b'i', b'o', b'n') > 10.0 * rarity.block(b'j', b'q', b'z'));
    }

    #[test]
    fn a_one_byte_keyword_is_an_error() {
        assert!(KeywordSearch::new(&["x".to_string()]).is_err());
    }
}
