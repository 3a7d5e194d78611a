//! The literal search of the sweep: every target raw, in UTF-16LE and UTF-16BE, in base64 and
//! base64url at every alignment, base64 of base64, inside percent-encoding, and all of these
//! inside UTF-16 text with a byte-order mark (searched decoded).

use crate::rewrite::Target;
use crate::text::{Utf16, Utf16Text};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::{Context, Result};
use zeroize::Zeroizing;

/// How a stored copy of a target was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Enc {
    Raw,
    Utf16(Utf16),
    Base64,
    Base64Url,
    Base64OfBase64,
    Base64UrlOfBase64,
}

/// An encoding, possibly inside percent-encoding, possibly in decoded UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Form {
    enc: Enc,
    percent: bool,
    /// Found in the decoded text of UTF-16 with a byte-order mark.
    utf16_text: bool,
}

impl std::fmt::Display for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = match self.enc {
            Enc::Raw => "plain text",
            Enc::Utf16(order) => order.name(),
            Enc::Base64 => "base64",
            Enc::Base64Url => "base64url",
            Enc::Base64OfBase64 => "base64 of base64",
            Enc::Base64UrlOfBase64 => "base64url of base64",
        };
        f.write_str(e)?;
        if self.percent {
            f.write_str(", percent-encoded")?;
        }
        if self.utf16_text {
            f.write_str(", in UTF-16 text")?;
        }
        Ok(())
    }
}

/// Shortest base64 core searched for: a shorter one would match random base64 data.
const MIN_CORE: usize = 8;

/// The base64 characters that encode `value` wherever it sits in the encoded data: for each of
/// the three alignments (the value starting 0, 1 or 2 bytes into a 3-byte group), the characters
/// that depend on the value's bytes alone. They are a substring of every encoding of any data
/// holding the value at that alignment, padded or not, so one literal per alignment covers the
/// value at the start, in the middle and at the end (with or without `=`) of a longer encoded
/// text. Cores shorter than [`MIN_CORE`] are left out.
fn base64_cores(value: &[u8], url: bool) -> Vec<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let engine = if url {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    let mut out = Vec::new();
    for skip in 0..3 {
        let Some(t) = value.get(skip..) else { break };
        let full = t.len() / 3 * 4;
        let core = full
            + match t.len() % 3 {
                1 => 1,
                2 => 2,
                _ => 0,
            };
        if core < MIN_CORE {
            continue;
        }
        let mut enc = Zeroizing::new(engine.encode(t).into_bytes());
        enc.truncate(core);
        out.push(enc);
    }
    out
}

/// The literal search of the sweep: every target raw and in every encoding the scanner decodes
/// (base64 standard and url-safe, padded or not, at every alignment, one layer of base64 inside
/// base64; percent-encoding, any mix of escaped and plain characters in either case, by
/// decoding the data rather than the needle).
pub struct Needles {
    ac: Option<AhoCorasick>,
    /// Per pattern: (target index, encoding).
    pats: Vec<(usize, Enc)>,
    /// Longest pattern, in bytes.
    pub(super) max_len: usize,
}

impl Needles {
    pub fn new(targets: &[Target]) -> Result<Self> {
        use base64::Engine;
        let mut pats = Vec::new();
        let mut bytes: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            let v = t.secret.expose();
            if v.is_empty() {
                continue;
            }
            bytes.push(Zeroizing::new(v.to_vec()));
            pats.push((i, Enc::Raw));
            for order in Utf16::BOTH {
                bytes.push(Zeroizing::new(order.encode(v)));
                pats.push((i, Enc::Utf16(order)));
            }
            for (url, enc) in [(false, Enc::Base64), (true, Enc::Base64Url)] {
                for c in base64_cores(v, url) {
                    bytes.push(c);
                    pats.push((i, enc));
                }
            }
            for inner_engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                let inner = Zeroizing::new(inner_engine.encode(v).into_bytes());
                for (url, enc) in [(false, Enc::Base64OfBase64), (true, Enc::Base64UrlOfBase64)] {
                    for c in base64_cores(&inner, url) {
                        bytes.push(c);
                        pats.push((i, enc));
                    }
                }
            }
        }
        let ac = if bytes.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(bytes.iter().map(|b| b.as_slice()))
                    .context("cannot build the literal matcher")?,
            )
        };
        let max_len = bytes.iter().map(|b| b.len()).max().unwrap_or(0);
        Ok(Needles { ac, pats, max_len })
    }

    /// Every (target index, form) found in `data`, sorted and deduplicated.
    pub(super) fn find(&self, data: &[u8]) -> Vec<(usize, Form)> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut search = |hay: &[u8], utf16_text: bool| {
            let percent = percent_decoded(hay);
            for (hay, percent) in [
                (Some(hay), false),
                (percent.as_ref().map(|p| p.as_slice()), true),
            ] {
                for m in hay.into_iter().flat_map(|h| ac.find_overlapping_iter(h)) {
                    let (t, enc) = self.pats[m.pattern().as_usize()];
                    out.push((
                        t,
                        Form {
                            enc,
                            percent,
                            utf16_text,
                        },
                    ));
                }
            }
        };
        search(data, false);
        if let Some(text) = Utf16Text::decode(data) {
            search(text.text.as_bytes(), true);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// `data` with every `%XX` escape decoded, or `None` when it holds none.
fn percent_decoded(data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let first = memchr::memchr_iter(b'%', data).find(|&i| {
        i + 2 < data.len() && hex(data[i + 1]).is_some() && hex(data[i + 2]).is_some()
    })?;
    let mut out = Zeroizing::new(Vec::with_capacity(data.len()));
    out.extend_from_slice(&data[..first]);
    let mut i = first;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use rand::{Rng, SeedableRng};

    fn target(v: &[u8]) -> Target {
        crate::rewrite::parse_secrets_file(v, "x")
            .unwrap()
            .remove(0)
    }

    #[test]
    fn needles_find_every_base64_alignment_alphabet_and_padding() {
        let seed: u64 = rand::random();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for len in [12usize, 20, 33, 40] {
            let v: Vec<u8> = (0..len).map(|_| rng.gen_range(b'!'..=b'~')).collect();
            let n = Needles::new(&[target(&v)]).unwrap();
            for pre in 0..4usize {
                for post in 0..4usize {
                    let mut plain: Vec<u8> = (0..pre).map(|_| rng.gen()).collect();
                    plain.extend_from_slice(&v);
                    plain.extend((0..post).map(|_| rng.gen::<u8>()));
                    for engine in [
                        &base64::engine::general_purpose::STANDARD,
                        &base64::engine::general_purpose::STANDARD_NO_PAD,
                        &base64::engine::general_purpose::URL_SAFE,
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    ] {
                        let hay = format!("blob {}\n", engine.encode(&plain));
                        assert!(
                            !n.find(hay.as_bytes()).is_empty(),
                            "seed {seed}: len {len} pre {pre} post {post}: {hay}"
                        );
                        // Wrapped once more, and percent-encoded.
                        let twice =
                            base64::engine::general_purpose::STANDARD.encode(engine.encode(&v));
                        assert!(!n.find(twice.as_bytes()).is_empty(), "seed {seed}");
                        let pct: String = engine
                            .encode(&plain)
                            .bytes()
                            .map(|b| {
                                if b.is_ascii_alphanumeric() {
                                    (b as char).to_string()
                                } else {
                                    format!("%{b:02x}")
                                }
                            })
                            .collect();
                        if pct.contains('%') {
                            let found = n.find(pct.as_bytes());
                            assert!(found.iter().any(|(_, f)| f.percent), "seed {seed}: {pct}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn needles_find_utf16_forms_and_encodings_inside_utf16_text() {
        let v = b"Zr8kqWm2Lp9xQ7xTt4Bn";
        let n = Needles::new(&[target(v)]).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(v);
        for order in Utf16::BOTH {
            let bare = order.encode(format!("k = {}\n", "Zr8kqWm2Lp9xQ7xTt4Bn").as_bytes());
            // (An ASCII value's other byte order is there too, one byte off.)
            let shown: Vec<String> = n.find(&bare).iter().map(|(_, f)| f.to_string()).collect();
            assert!(shown.iter().any(|f| f == order.name()), "{shown:?}");
            let mut text = order.bom().to_vec();
            text.extend(order.encode(format!("k = {b64}\n").as_bytes()));
            let shown: Vec<String> = n.find(&text).iter().map(|(_, f)| f.to_string()).collect();
            assert!(
                shown.contains(&"base64, in UTF-16 text".to_string()),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn percent_decoding_takes_valid_escapes_only() {
        assert!(percent_decoded(b"no escapes, 100% sure").is_none());
        assert!(percent_decoded(b"%zz and %4").is_none());
        assert_eq!(
            &percent_decoded(b"a%2Fb%2fc%zz%41%").unwrap().as_slice(),
            b"a/b/c%zzA%"
        );
    }

    #[test]
    fn base64_cores_are_in_every_encoding_of_data_around_the_value() {
        use base64::engine::general_purpose as gp;
        // Too short for any core: nothing to search for.
        assert!(base64_cores(b"abc", false).is_empty());
        let v = b"correct horse battery";
        let cores = base64_cores(v, false);
        assert_eq!(cores.len(), 3);
        for pre in 0..3usize {
            let mut data = vec![b'#'; pre];
            data.extend_from_slice(v);
            data.extend_from_slice(b"!!");
            let enc = gp::STANDARD.encode(&data);
            let core = &cores[(3 - pre) % 3];
            assert!(
                enc.as_bytes()
                    .windows(core.len())
                    .any(|w| w == core.as_slice()),
                "pre {pre}: {enc}"
            );
        }
        let url = base64_cores(&[0xfb; 12], true);
        assert!(url.iter().all(|c| !c.contains(&b'+') && !c.contains(&b'/')));
        assert!(url.iter().any(|c| c.contains(&b'-') || c.contains(&b'_')));
    }

    #[test]
    fn needles_find_percent_encoding_in_either_case_and_nothing_else() {
        let v = b"pa!ss*wo+rd^Zq8vLm3";
        let n = Needles::new(&[target(v)]).unwrap();
        assert!(n
            .find(b"url=https://u:pa%21ss%2Awo%2brd%5eZq8vLm3@h/")
            .iter()
            .any(|(_, f)| f.percent));
        assert!(n
            .find(b"url=https://u:%70%61%21%73%73*wo%2Brd^Zq8vLm3@h/")
            .iter()
            .any(|(_, f)| f.percent));
        assert!(n.find(b"nothing of it here: pa!ss*wo+rd^Zq8vLm").is_empty());
        // The base64 of a value that differs in its last byte only: no core matches.
        let other = base64::engine::general_purpose::STANDARD.encode(b"pa!ss*wo+rd^Zq8vLmX");
        assert!(n.find(other.as_bytes()).is_empty(), "{other}");
    }
}
