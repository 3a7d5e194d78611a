//! Encoded forms of a target, rewritten as stored.
//!
//! A target is searched for as it is and in its UTF-16 forms ([`literal_forms`]).
//!
//! The scanner peels base64 and percent-encoding off values (a Kubernetes Secret's `data:`, a
//! password in a URL, base64 of a whole `.env` line) and names what it finds by the decoded
//! value, which is not in the stored bytes. The rewrite therefore looks inside encoded spans
//! itself: every run of base64 characters (standard or URL alphabet, padded or not) and every
//! token holding a `%XX` escape is decoded, searched for the targets (and, nested, for further
//! encoded spans, up to [`DEPTH`] layers), and when a target is inside, the span is written back
//! in the encoding it was found in with the replacement in place of the value:
//!
//! - base64: the whole run is re-encoded with the same alphabet; padding as found (a run without
//!   `=` whose length shows none was needed gets it only in the standard alphabet);
//! - percent-encoding: only the bytes that change are re-encoded (every byte outside RFC 3986's
//!   unreserved set as `%XX`), every other byte keeps its stored form (`%2F` stays `%2F`, `/`
//!   stays `/`).
//!
//! This searches more widely than the scanner decodes (any base64 run, not only values ending a
//! `key: value` line), so whatever the scanner found encoded is found here too. Base64 wrapped
//! over several lines (PEM-style) is one run per line and is not joined.

use crate::text::Utf16;
use zeroize::Zeroizing;

/// Layers of encoding peeled (the scanner's default is 2; a project may set up to this).
pub const DEPTH: usize = 3;
/// Shortest base64 run decoded (12 bytes once decoded).
const MIN_B64: usize = 16;
/// Longest span decoded (larger runs are data URIs or embedded files; 8 MiB).
const MAX_SPAN: usize = 8 << 20;

/// One stored form of a target and its replacement in the same form.
pub struct LiteralForm {
    /// Index of the target.
    pub target: usize,
    pub old: Zeroizing<Vec<u8>>,
    pub new: Zeroizing<Vec<u8>>,
}

/// Every literal form each target is stored in: as it is, and in UTF-16LE and UTF-16BE (text
/// saved by Windows tools), each with the replacement in that form. Targets in order, each form
/// naming its target.
pub fn literal_forms(targets: &[super::Target]) -> Vec<LiteralForm> {
    let mut out = Vec::with_capacity(targets.len() * 3);
    for (i, t) in targets.iter().enumerate() {
        let (old, new) = (t.secret.expose(), &t.replacement);
        out.push(LiteralForm {
            target: i,
            old: Zeroizing::new(old.to_vec()),
            new: Zeroizing::new(new.clone()),
        });
        for order in Utf16::BOTH {
            out.push(LiteralForm {
                target: i,
                old: Zeroizing::new(order.encode(old)),
                new: Zeroizing::new(order.encode(new)),
            });
        }
    }
    out
}

/// How a span is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Base64; `url`: the `-_` alphabet; `padded`: `=` padding was found.
    Base64 {
        url: bool,
        padded: bool,
    },
    Percent,
}

/// An encoded span of a buffer and what it decodes to.
pub struct Span {
    pub range: std::ops::Range<usize>,
    pub enc: Encoding,
    pub decoded: Zeroizing<Vec<u8>>,
    /// Percent-encoding: for each decoded byte, where its stored form starts (relative to the span).
    map: Vec<u32>,
}

/// Bytes of either base64 alphabet (`=` padding aside).
static B64_CHAR: [bool; 256] = crate::scan::byte_class!(
    |c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
);

#[cfg(test)]
fn is_b64_char(b: u8) -> bool {
    B64_CHAR[b as usize]
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

const fn engine_for(url: bool, pad: bool) -> base64::engine::GeneralPurpose {
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    let alphabet = if url {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(pad)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    )
}

/// The four engines, built once: (url, pad) = (false, false), (false, true), (true, false),
/// (true, true).
static ENGINES: [base64::engine::GeneralPurpose; 4] = [
    engine_for(false, false),
    engine_for(false, true),
    engine_for(true, false),
    engine_for(true, true),
];

fn engine(url: bool, pad: bool) -> &'static base64::engine::GeneralPurpose {
    &ENGINES[usize::from(url) * 2 + usize::from(pad)]
}

/// The base64 runs of `data` that are decoded: maximal runs of base64 characters with up to two
/// `=` after them, `min_run` (at least [`MIN_B64`]) to [`MAX_SPAN`] bytes long (padding
/// included), in order, as `start..end` (found by [`crate::scan::class_runs`]: such a run holds
/// at least `min_run - 2` characters before its padding).
fn b64_runs(data: &[u8], min_run: usize, mut f: impl FnMut(std::ops::Range<usize>)) {
    let min_run = min_run.max(MIN_B64);
    crate::scan::class_runs(data, &B64_CHAR, min_run - 2, |r| {
        let (s, body_end) = (r.start, r.end);
        let mut e = body_end;
        while e < data.len() && e - body_end < 2 && data[e] == b'=' {
            e += 1;
        }
        if (min_run..=MAX_SPAN).contains(&(e - s)) {
            f(s..e);
        }
    });
}

/// The shortest base64 run that can decode to `min_len` bytes: every 4 characters (padding
/// included) hold at most 3 bytes. Shorter runs are not decoded at all, which for targets of
/// real secrets' length skips most identifiers and paths.
fn min_b64_run(min_len: usize) -> usize {
    min_len.saturating_mul(4).div_ceil(3)
}

/// Decodes a base64 run (with its padding) into `out` (cleared first), trying a shifted start
/// when the run does not decode as it stands (a character glued in front). Returns (start
/// offset, encoding) when it decodes to at least one byte.
fn decode_b64_into(run: &[u8], out: &mut Vec<u8>) -> Option<(usize, Encoding)> {
    use base64::Engine;
    let body_end = run.len() - run.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &run[..body_end];
    let std_only = body.iter().any(|&b| b == b'+' || b == b'/');
    let url_only = body.iter().any(|&b| b == b'-' || b == b'_');
    if std_only && url_only {
        return None;
    }
    let url = url_only;
    let padded = body_end < run.len();
    let e = engine(url, padded);
    for skip in 0..4 {
        if run.len() - skip < MIN_B64 {
            break;
        }
        out.clear();
        if e.decode_vec(&run[skip..], out).is_ok() && !out.is_empty() {
            return Some((skip, Encoding::Base64 { url, padded }));
        }
    }
    None
}

/// Calls `f` with what each encoded span of `data` decodes to (the spans of [`spans`], same
/// order), when that is at least `min_len` bytes. Nothing is kept: one buffer, wiped at the end,
/// holds each decoded base64 span in turn (the search of the whole history decodes millions of
/// runs).
pub fn for_each_decoded(data: &[u8], min_len: usize, mut f: impl FnMut(&[u8])) {
    visit(data, min_len, |_, _, decoded, _| f(decoded));
}

/// The walk behind [`spans`] and [`for_each_decoded`]: each encoded span of `data` that decodes
/// to at least `min_len` bytes, in order and not overlapping, as (stored range, encoding,
/// decoded bytes, for percent-encoding the stored offset of each decoded byte). Percent-encoded
/// tokens come first where they overlap a base64 run (they are rare: a `%` and two hex digits,
/// so they are decoded up front); base64 runs are decoded one at a time into one buffer.
fn visit(
    data: &[u8],
    min_len: usize,
    mut f: impl FnMut(std::ops::Range<usize>, Encoding, &[u8], &[u32]),
) {
    let mut percent: Vec<Span> = Vec::new();
    for range in crate::scan::percent_runs(data) {
        // A token decodes to at most as many bytes as it stores.
        if (min_len..=MAX_SPAN).contains(&(range.end - range.start)) {
            let (decoded, map) = decode_percent(&data[range.clone()]);
            if decoded.len() >= min_len {
                percent.push(Span {
                    range,
                    enc: Encoding::Percent,
                    decoded,
                    map,
                });
            }
        }
    }
    let mut buf = Zeroizing::new(Vec::new());
    let (mut p, mut next) = (0, 0);
    b64_runs(data, min_b64_run(min_len), |r| {
        while p < percent.len() && percent[p].range.end <= r.start {
            p += 1;
        }
        if p < percent.len() && percent[p].range.start < r.end {
            return;
        }
        while next < percent.len() && percent[next].range.start < r.start {
            let s = &percent[next];
            f(s.range.clone(), s.enc, &s.decoded, &s.map);
            next += 1;
        }
        if let Some((skip, enc)) = decode_b64_into(&data[r.clone()], &mut buf) {
            if buf.len() >= min_len {
                f(r.start + skip..r.end, enc, &buf, &[]);
            }
        }
    });
    for s in &percent[next..] {
        f(s.range.clone(), s.enc, &s.decoded, &s.map);
    }
}

/// Decodes a percent-encoded token, with the stored offset of every decoded byte.
fn decode_percent(raw: &[u8]) -> (Zeroizing<Vec<u8>>, Vec<u32>) {
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut map = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(l)) = (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                out.push(h << 4 | l);
                map.push(i as u32);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        map.push(i as u32);
        i += 1;
    }
    (out, map)
}

/// The encoded spans of `data` that decode to at least `min_len` bytes, in order and not
/// overlapping: percent-encoded tokens first (a base64 run inside one is found again, nested, in
/// its decoded form), then base64 runs outside them.
pub fn spans(data: &[u8], min_len: usize) -> Vec<Span> {
    let mut out = Vec::new();
    visit(data, min_len, |range, enc, decoded, map| {
        out.push(Span {
            range,
            enc,
            decoded: Zeroizing::new(decoded.to_vec()),
            map: map.to_vec(),
        });
    });
    out
}

/// Bytes outside RFC 3986's unreserved set are written as `%XX`.
fn percent_encode(data: &[u8], out: &mut Vec<u8>) {
    for &b in data {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

impl Span {
    /// The stored form of `new` (what this span decodes to after the replacement), written in
    /// this span's encoding; `raw` is the span's stored bytes.
    pub fn encode(&self, raw: &[u8], new: &[u8], out: &mut Vec<u8>) {
        use base64::Engine;
        match self.enc {
            Encoding::Base64 { url, padded } => {
                // Padding as found; when none was needed, the standard alphabet pads.
                let pad = padded || (!url && self.decoded.len().is_multiple_of(3));
                out.extend_from_slice(engine(url, pad).encode(new).as_bytes());
            }
            Encoding::Percent => {
                let old = &self.decoded[..];
                let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
                let max_suffix = old.len().min(new.len()) - prefix;
                let suffix = old
                    .iter()
                    .rev()
                    .zip(new.iter().rev())
                    .take(max_suffix)
                    .take_while(|(a, b)| a == b)
                    .count();
                let at = |k: usize| self.map.get(k).map_or(raw.len(), |&o| o as usize);
                out.extend_from_slice(&raw[..at(prefix)]);
                percent_encode(&new[prefix..new.len() - suffix], out);
                out.extend_from_slice(&raw[at(old.len() - suffix)..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn finds_base64_and_percent_spans() {
        let v = base64::engine::general_purpose::STANDARD.encode("colour=light-blue-abc");
        let data = format!("a: {v}\nurl: https://h/a%2Fb%20c/d\n");
        let s = spans(data.as_bytes(), 4);
        assert_eq!(s.len(), 2);
        assert_eq!(&s[0].decoded[..], b"colour=light-blue-abc");
        assert_eq!(&s[1].decoded[..], b"https://h/a/b c/d");
    }

    #[test]
    fn percent_keeps_unchanged_bytes_as_stored() {
        let raw = b"x://u:p%40ss%2fw@h%2F";
        let s = &spans(raw, 4)[0];
        let new = b"x://u:R:1@h/";
        let mut out = Vec::new();
        s.encode(raw, new, &mut out);
        assert_eq!(out, b"x://u:R%3A1@h%2F");
    }

    #[test]
    fn base64_keeps_alphabet_and_padding() {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfbu8; 20]);
        let s = &spans(raw.as_bytes(), 4)[0];
        let mut out = Vec::new();
        s.encode(raw.as_bytes(), &[0xfb; 4], &mut out);
        assert_eq!(out, b"-_v7-w");
    }

    /// The strided run search finds exactly the runs of a byte-by-byte walk, and the decoded
    /// spans come in the same order as `spans`, on seeded random text dense in run edges.
    #[test]
    fn strided_runs_and_decoded_spans_match_a_plain_walk() {
        fn plain(data: &[u8]) -> Vec<std::ops::Range<usize>> {
            let (mut out, mut i) = (Vec::new(), 0);
            while i < data.len() {
                if !is_b64_char(data[i]) {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < data.len() && is_b64_char(data[i]) {
                    i += 1;
                }
                let mut e = i;
                while e < data.len() && e - i < 2 && data[e] == b'=' {
                    e += 1;
                }
                i = e;
                if (MIN_B64..=MAX_SPAN).contains(&(e - s)) {
                    out.push(s..e);
                }
            }
            out
        }
        // Every body length around the shortest run, with 0 to 3 `=` and a neighbour run.
        for body in 10..=18 {
            for pad in 0..=3 {
                for lead in 0..4 {
                    let mut data = vec![b' '; lead];
                    data.extend(std::iter::repeat_n(b'Q', body));
                    data.extend(std::iter::repeat_n(b'=', pad));
                    data.extend_from_slice(b"AAAA ");
                    let mut got = Vec::new();
                    b64_runs(&data, MIN_B64, |r| got.push(r));
                    assert_eq!(got, plain(&data), "body {body} pad {pad} lead {lead}");
                }
            }
        }
        let seed = 0x05ee_db64_u64;
        let mut x = seed;
        let alphabet = b"aZ09+/-_==%2F %41 \n.;:";
        for round in 0..400 {
            let len = (round * 7) % 300;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly run characters, so runs of every length around MIN_B64 occur.
                    if !x.is_multiple_of(5) {
                        alphabet[(x >> 8) as usize % 8]
                    } else {
                        alphabet[(x >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            let mut got = Vec::new();
            b64_runs(&data, MIN_B64, |r| got.push(r));
            assert_eq!(got, plain(&data), "seed {seed:#x} round {round}");
            // The spans, listed the plain way: percent-encoded tokens, then the base64 runs
            // of the byte walk that overlap none of them, by start; for targets of several
            // lengths (the longer, the more runs are too short to be decoded at all).
            for min_len in [4, 12, 13, 20, 31] {
                let long = |d: &[u8]| d.len() >= min_len;
                let mut want: Vec<(usize, Vec<u8>)> = Vec::new();
                let percent: Vec<std::ops::Range<usize>> = crate::scan::percent_runs(&data)
                    .filter(|r| long(&decode_percent(&data[r.clone()]).0))
                    .collect();
                for r in &percent {
                    want.push((r.start, decode_percent(&data[r.clone()]).0.to_vec()));
                }
                for r in plain(&data) {
                    if percent.iter().any(|p| p.start < r.end && r.start < p.end) {
                        continue;
                    }
                    let mut d = Vec::new();
                    if let Some((skip, _)) = decode_b64_into(&data[r.clone()], &mut d) {
                        if long(&d) {
                            want.push((r.start + skip, d));
                        }
                    }
                }
                want.sort_by_key(|w| w.0);
                let listed: Vec<(usize, Vec<u8>)> = spans(&data, min_len)
                    .iter()
                    .map(|s| (s.range.start, s.decoded.to_vec()))
                    .collect();
                let at = format!("seed {seed:#x} round {round} min_len {min_len}");
                assert_eq!(listed, want, "{at}");
                let mut visited: Vec<Vec<u8>> = Vec::new();
                for_each_decoded(&data, min_len, |d| visited.push(d.to_vec()));
                let decoded: Vec<Vec<u8>> = want.into_iter().map(|w| w.1).collect();
                assert_eq!(visited, decoded, "{at}");
            }
        }
    }
}
