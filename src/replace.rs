//! The one literal replacer: (old -> new) byte pairs, found leftmost-longest (at the leftmost
//! position where any old value starts, the longest one there; of identical old values the first
//! listed), without overlaps, in one pass of one Aho-Corasick automaton.
//!
//! `rotate` puts new values in the place of old ones (the new-values file, `--apply`'s dotenv
//! editor, `--example`'s masking), and `rewrite` puts replacement text in the place of leaked
//! values in history, with its encoded-form search as a layer on top (`rewrite::Replacer`). The
//! new values are kept zeroized, and so is every buffer this module fills: what it writes may
//! hold them.
//!
//! Pairs keep their position: a hit names the pair by its index in the list given to
//! [`Literals::new`], so callers can count per pair or map hits to their own records. An empty
//! old value is passed to the automaton like any other (it matches the empty string); callers
//! that must not replace at every position leave such pairs out.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, BuildError, MatchKind};
use std::ops::Range;
use zeroize::Zeroizing;

/// One old value to replace by a new one.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub old: &'a [u8],
    pub new: &'a [u8],
}

/// One occurrence of an old value: where it is, and which pair it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub range: Range<usize>,
    pub pair: usize,
}

/// Compiled (old -> new) pairs; see the module doc.
pub struct Literals {
    /// `None` when there are no pairs: nothing ever matches.
    ac: Option<AhoCorasick>,
    news: Vec<Zeroizing<Vec<u8>>>,
}

impl Literals {
    /// Compiles `pairs` (in order: hits name them by index). Fails only when the automaton
    /// would exceed Aho-Corasick's size limits.
    pub fn new<'a>(pairs: impl IntoIterator<Item = Pair<'a>>) -> Result<Self, BuildError> {
        let pairs: Vec<Pair<'a>> = pairs.into_iter().collect();
        if pairs.is_empty() {
            return Ok(Literals {
                ac: None,
                news: Vec::new(),
            });
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(pairs.iter().map(|p| p.old))?;
        Ok(Literals {
            ac: Some(ac),
            news: pairs
                .iter()
                .map(|p| Zeroizing::new(p.new.to_vec()))
                .collect(),
        })
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.news.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.news.is_empty()
    }

    /// The new value of pair `i`.
    pub fn new_value(&self, i: usize) -> &[u8] {
        &self.news[i]
    }

    /// Whether any old value occurs in `haystack`.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.ac.as_ref().is_some_and(|ac| ac.is_match(haystack))
    }

    /// Every occurrence of an old value in `haystack`, leftmost-longest, in order.
    pub fn find_iter<'h>(&'h self, haystack: &'h [u8]) -> impl Iterator<Item = Hit> + 'h {
        self.ac.iter().flat_map(move |ac| {
            ac.find_iter(haystack).map(|m| Hit {
                range: m.start()..m.end(),
                pair: m.pattern().as_usize(),
            })
        })
    }

    /// Appends `haystack` to `out` with every old value replaced by its new one; returns the
    /// number of replacements made.
    pub fn replace_into(&self, haystack: &[u8], out: &mut Vec<u8>) -> usize {
        let mut last = 0;
        let mut n = 0;
        for hit in self.find_iter(haystack) {
            out.extend_from_slice(&haystack[last..hit.range.start]);
            out.extend_from_slice(&self.news[hit.pair]);
            last = hit.range.end;
            n += 1;
        }
        out.extend_from_slice(&haystack[last..]);
        n
    }

    /// `haystack` with every old value replaced, or `None` when none occurs.
    pub fn replace(&self, haystack: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if !self.is_match(haystack) {
            return None;
        }
        let mut out = Zeroizing::new(Vec::with_capacity(haystack.len()));
        self.replace_into(haystack, &mut out);
        Some(out)
    }

    /// `haystack` with every old value replaced (a copy of it when none occurs).
    pub fn replace_all(&self, haystack: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(haystack.len()));
        self.replace_into(haystack, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn lits(pairs: &[(&'static [u8], &'static [u8])]) -> Literals {
        Literals::new(pairs.iter().map(|&(old, new)| Pair { old, new })).unwrap()
    }

    #[test]
    fn leftmost_then_longest() {
        let l = lits(&[(b"abc", b"1"), (b"abcdef", b"2"), (b"cde", b"3")]);
        assert_eq!(&l.replace_all(b"xabcdefyabc")[..], b"x2y1");
        // `cde` starts after `abc`'s leftmost start: the earlier start wins, even if shorter.
        assert_eq!(&l.replace_all(b"abcde")[..], b"1de");
        let hits: Vec<Hit> = l.find_iter(b"abcdefcde").collect();
        assert_eq!(
            hits,
            [
                Hit {
                    range: 0..6,
                    pair: 1
                },
                Hit {
                    range: 6..9,
                    pair: 2
                }
            ]
        );
    }

    #[test]
    fn identical_old_values_the_first_wins() {
        let l = lits(&[(b"same", b"first"), (b"same", b"second")]);
        assert_eq!(&l.replace_all(b"a same b")[..], b"a first b");
    }

    #[test]
    fn nothing_to_replace() {
        let none = lits(&[]);
        assert!(none.is_empty());
        assert!(none.replace(b"abc").is_none());
        assert_eq!(&none.replace_all(b"abc")[..], b"abc");
        assert_eq!(none.find_iter(b"abc").count(), 0);
        let l = lits(&[(b"zz", b"y")]);
        assert!(l.replace(b"abc").is_none());
        let mut out = b"keep:".to_vec();
        assert_eq!(l.replace_into(b"azzbzz", &mut out), 2);
        assert_eq!(out, b"keep:ayby");
    }

    /// The definition, written out: at each position the longest old value starting there
    /// (the first of equal ones), else the byte itself.
    fn reference(hay: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < hay.len() {
            let mut best: Option<&(Vec<u8>, Vec<u8>)> = None;
            for p in pairs {
                if hay[i..].starts_with(&p.0) && best.is_none_or(|b| p.0.len() > b.0.len()) {
                    best = Some(p);
                }
            }
            match best {
                Some(p) => {
                    out.extend_from_slice(&p.1);
                    i += p.0.len();
                }
                None => {
                    out.push(hay[i]);
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn agrees_with_the_definition_on_random_inputs() {
        let seed: u64 = rand::random();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for round in 0..2000 {
            let n = rng.gen_range(0..5);
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
                .map(|_| {
                    let old = (0..rng.gen_range(1..5))
                        .map(|_| rng.gen_range(b'a'..=b'c'))
                        .collect();
                    let new = (0..rng.gen_range(0..4))
                        .map(|_| rng.gen_range(b'X'..=b'Z'))
                        .collect();
                    (old, new)
                })
                .collect();
            let hay: Vec<u8> = (0..rng.gen_range(0..40))
                .map(|_| rng.gen_range(b'a'..=b'd'))
                .collect();
            let l = Literals::new(pairs.iter().map(|(old, new)| Pair { old, new })).unwrap();
            assert_eq!(
                &l.replace_all(&hay)[..],
                &reference(&hay, &pairs)[..],
                "seed {seed}, round {round}: {pairs:?} in {hay:?}"
            );
        }
    }
}
