//! Where a blob holds encoded text the scanner decodes and scans again: base64 (standard and
//! URL-safe), hex and percent-encoding runs, found in one pass.

use crate::finding::Secret;
use base64::Engine;
/// How a candidate value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Base64,
    Percent,
}

impl Encoding {
    /// Decodes `raw`; `None` when it is not valid in this encoding or decodes to nothing new.
    pub(crate) fn decode(self, raw: &[u8]) -> Option<Secret> {
        match self {
            Encoding::Base64 => {
                if raw.len() < 16 {
                    return None;
                }
                let engine = base64::engine::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
                );
                engine.decode(raw).ok().map(Secret::new)
            }
            Encoding::Percent => {
                let mut out = Vec::with_capacity(raw.len());
                let mut i = 0;
                let mut changed = false;
                while i < raw.len() {
                    if raw[i] == b'%' && i + 2 < raw.len() {
                        if let (Some(h), Some(l)) = (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                            out.push(h << 4 | l);
                            i += 3;
                            changed = true;
                            continue;
                        }
                    }
                    out.push(raw[i]);
                    i += 1;
                }
                changed.then(|| Secret::new(out))
            }
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Longest encoded value decoded: a Kubernetes Secret holds at most 1 MiB, and a longer run of
/// base64 is a data blob (an image, an archive), not a wrapped secret.
const MAX_ENCODED: usize = 1 << 20;

/// A 256-entry table of the bytes `$c` makes `$e` true for, built at compile time.
macro_rules! byte_class {
    (|$c:ident| $e:expr) => {{
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let $c = b as u8;
            t[b] = $e;
            b += 1;
        }
        t
    }};
}
pub(crate) use byte_class;

/// Standard base64 alphabet bytes (`=` padding aside): what [`for_each_encoded`] decodes.
pub(crate) static STD_B64: [bool; 256] =
    byte_class!(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');

/// Calls `f` with every maximal run of bytes of `class` at least `min_len` long, in order.
///
/// Looks at every `min_len`-th byte only: a byte outside the class there rules out every long run
/// around it, which is most of the text in source code and prose; a byte inside it is grown to its
/// run both ways.
pub fn class_runs(
    data: &[u8],
    class: &[bool; 256],
    min_len: usize,
    mut f: impl FnMut(std::ops::Range<usize>),
) {
    let min_len = min_len.max(1);
    let inside = |b: u8| class[b as usize];
    // Invariant: `i == 0` or `data[i - 1]` is outside the class (no run goes on at `i`).
    let mut i = 0;
    while i + min_len <= data.len() {
        let probe = i + min_len - 1;
        if !inside(data[probe]) {
            i = probe + 1;
            continue;
        }
        let mut s = probe;
        while s > i && inside(data[s - 1]) {
            s -= 1;
        }
        let mut e = probe + 1;
        while e < data.len() && inside(data[e]) {
            e += 1;
        }
        if e - s >= min_len {
            f(s..e);
        }
        // `data[e]` is outside the class (or the end).
        i = e + 1;
    }
}

/// The shortest run of the base64 alphabet [`for_each_encoded`] looks at (22 characters before
/// up to two `=`: a 16-byte value).
const MIN_B64_RUN: usize = 22;

/// Bit `i` of the result set where `block[i]` is in the standard base64 alphabet (`block` holds
/// at most 64 bytes; the bits past its end are clear).
fn b64_mask(block: &[u8]) -> u64 {
    if let Ok(full) = <&[u8; 64]>::try_from(block) {
        return crate::bytemask::b64_mask64(full);
    }
    block
        .iter()
        .enumerate()
        .fold(0, |m, (j, &b)| m | (STD_B64[b as usize] as u64) << j)
}

/// The same runs as `class_runs(data, &STD_B64, MIN_B64_RUN, f)`, found 64 bytes at a time: each
/// block's membership bits, and with the next block's, the positions where 22 members in a row
/// begin (five shifts and ands); only a block where one begins is looked at byte by byte, to grow
/// that run to its end. Most text holds no run that long, and no branch depends on its bytes.
fn b64_runs(data: &[u8], mut f: impl FnMut(std::ops::Range<usize>)) {
    let mask = |k: usize| {
        b64_mask(
            data.get(64 * k..)
                .map_or(&[][..], |d| &d[..d.len().min(64)]),
        )
    };
    let inside = |b: u8| STD_B64[b as usize];
    let blocks = data.len().div_ceil(64);
    // Everything before `pos` is done, and `data[pos - 1]` (if any) is outside the alphabet.
    let mut pos = 0;
    let mut k = 0;
    let mut cur = mask(0);
    while k < blocks {
        let next = if k + 1 < blocks { mask(k + 1) } else { 0 };
        let x = cur as u128 | (next as u128) << 64;
        let mut y = x & x >> 1;
        y &= y >> 2;
        y &= y >> 4;
        y &= y >> 8;
        y &= y >> (MIN_B64_RUN - 16);
        let mut starts = y as u64;
        let base = 64 * k;
        if pos > base {
            starts &= u64::MAX.checked_shl((pos - base) as u32).unwrap_or(0);
        }
        if starts == 0 {
            k += 1;
            cur = next;
            continue;
        }
        let mut s = base + starts.trailing_zeros() as usize;
        while s > pos && inside(data[s - 1]) {
            s -= 1;
        }
        let mut e = s + MIN_B64_RUN;
        while e < data.len() && inside(data[e]) {
            e += 1;
        }
        f(s..e);
        pos = e + 1;
        k = pos / 64;
        cur = mask(k);
    }
}

/// Calls `f` on each encoded value worth decoding, in order, until it returns false: base64
/// values (24 characters to [`MAX_ENCODED`]) that end a line after `:` or `=` (optionally quoted,
/// optionally followed by `,`), and tokens holding `%XX` escapes. Streaming, so a file of ten
/// million encoded lines needs no list of them.
///
/// Base64 values are found as long runs of the alphabet ([`class_runs`], at least 22 characters
/// before up to two `=`), each checked for what ends its line after it and what comes before it,
/// rather than line by line: most lines of code hold no such run.
pub(crate) fn for_each_encoded(
    data: &[u8],
    f: &mut dyn FnMut(std::ops::Range<usize>, Encoding) -> bool,
) {
    let mut go_on = true;
    b64_runs(data, |r| {
        if !go_on {
            return;
        }
        if let Some(v) = line_end_value(data, r) {
            go_on = f(v, Encoding::Base64);
        }
    });
    if !go_on {
        return;
    }
    // Percent-encoded tokens: a `%XX` escape, grown to the surrounding run of URL characters.
    for r in percent_runs(data) {
        if (12..=MAX_ENCODED).contains(&r.len()) && !f(r, Encoding::Percent) {
            return;
        }
    }
}

/// The base64 value of a run when it ends its line: the run and up to two `=`, then optionally
/// a closing quote, then only `\r`, spaces, tabs and `,` to the end of the line; before the run
/// (past its opening quote when it has a closing one, and spaces or tabs) a `:` or `=`.
fn line_end_value(data: &[u8], run: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
    let (s, mut e) = (run.start, run.end);
    let mut pad = 0;
    while e < data.len() && pad < 2 && data[e] == b'=' {
        e += 1;
        pad += 1;
    }
    let mut t = e;
    let quoted = t < data.len() && matches!(data[t], b'"' | b'\'');
    if quoted {
        t += 1;
    }
    while t < data.len() && matches!(data[t], b'\r' | b' ' | b'\t' | b',') {
        t += 1;
    }
    if t < data.len() && data[t] != b'\n' {
        return None;
    }
    if e - s < 24 || e - s > MAX_ENCODED {
        return None;
    }
    let mut p = s;
    if quoted && p > 0 && matches!(data[p - 1], b'"' | b'\'') {
        p -= 1;
    }
    while p > 0 && matches!(data[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    (p > 0 && matches!(data[p - 1], b':' | b'=')).then_some(s..e)
}

/// The percent-encoded tokens of `data`, in order and not overlapping: each `%XX` escape grown to
/// the run of URL characters around it. The scanner's decode pass and the rewrite (which writes
/// replacements back in the same encoding) both find them here.
pub fn percent_runs(data: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let url_char = |b: u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>');
    let mut last_end = 0;
    memchr::memchr_iter(b'%', data).filter_map(move |i| {
        if i < last_end || i + 2 >= data.len() {
            return None;
        }
        if hex_val(data[i + 1]).is_none() || hex_val(data[i + 2]).is_none() {
            return None;
        }
        let mut s = i;
        while s > last_end && url_char(data[s - 1]) {
            s -= 1;
        }
        let mut e = i + 3;
        while e < data.len() && url_char(data[e]) {
            e += 1;
        }
        last_end = e;
        Some(s..e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line-by-line walk the run search replaced: each line's tail, walked back.
    fn line_walk(data: &[u8]) -> Vec<std::ops::Range<usize>> {
        let is_b64 = |b: u8| STD_B64[b as usize];
        let mut out = Vec::new();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        for nl in ends {
            let line_start = start;
            start = nl + 1;
            let mut e = nl;
            while e > line_start && matches!(data[e - 1], b'\r' | b' ' | b'\t' | b',') {
                e -= 1;
            }
            let quoted = e > line_start && matches!(data[e - 1], b'"' | b'\'');
            if quoted {
                e -= 1;
            }
            let mut s = e;
            while s > line_start && e - s < 2 && data[s - 1] == b'=' {
                s -= 1;
            }
            while s > line_start && is_b64(data[s - 1]) {
                s -= 1;
            }
            if e - s < 24 || e - s > MAX_ENCODED {
                continue;
            }
            let mut p = s;
            if quoted && p > line_start && matches!(data[p - 1], b'"' | b'\'') {
                p -= 1;
            }
            while p > line_start && matches!(data[p - 1], b' ' | b'\t') {
                p -= 1;
            }
            if p > line_start && matches!(data[p - 1], b':' | b'=') {
                out.push(s..e);
            }
        }
        out
    }

    /// The block search finds exactly the runs of the byte-at-a-time search (that each byte
    /// value is classified alike is `bytemask`'s tests), on seeded random texts of every length
    /// around the block size, dense and sparse in alphabet bytes, with runs of every length
    /// around the shortest.
    #[test]
    fn block_search_finds_the_runs_of_the_byte_search() {
        let runs = |d: &[u8], block: bool| {
            let mut out = Vec::new();
            if block {
                b64_runs(d, |r| out.push(r));
            } else {
                class_runs(d, &STD_B64, MIN_B64_RUN, |r| out.push(r));
            }
            out
        };
        let seed = 0xb10c_5ea7_u64;
        let mut x = seed;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let len = (next() % 300) as usize;
            let mut d = Vec::with_capacity(len);
            while d.len() < len {
                let run = (next() % 70) as usize;
                for _ in 0..run {
                    let pick = next();
                    d.push(b"QZaz09+/Kx"[(pick % 10) as usize]);
                }
                let gap = 1 + (next() % 3) as usize;
                for _ in 0..gap {
                    d.push([b' ', b'=', b'\n', 0xc3, b'-', b'_', 0xff][(next() % 7) as usize]);
                }
            }
            d.truncate(len);
            assert_eq!(
                runs(&d, true),
                runs(&d, false),
                "seed {seed:#x} round {round}"
            );
        }
        let long = vec![b'A'; 1000];
        assert_eq!(runs(&long, true), vec![0..1000]);
    }

    fn base64_values(data: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        for_each_encoded(data, &mut |r, enc| {
            if enc == Encoding::Base64 {
                out.push(r);
            }
            true
        });
        out
    }

    /// The run search finds exactly the values of the line walk: every value length around the
    /// shortest, padding, quotes, tails and what precedes, and seeded random lines built from
    /// those pieces.
    #[test]
    fn run_search_finds_the_values_of_the_line_walk() {
        let heads: [&[u8]; 7] = [b"k: ", b"k=", b"k = \"", b"k:'", b"x ", b"", b"a=\""];
        let tails: [&[u8]; 8] = [b"", b"=", b"==", b"===", b"\"", b"',", b" ,\r", b"\" x"];
        for head in heads {
            for tail in tails {
                for len in 18..30 {
                    let mut data = b"line\n".to_vec();
                    data.extend_from_slice(head);
                    data.extend(std::iter::repeat_n(b'Q', len));
                    data.extend_from_slice(tail);
                    for end in [&b""[..], b"\n", b"\nnext"] {
                        let mut d = data.clone();
                        d.extend_from_slice(end);
                        assert_eq!(
                            base64_values(&d),
                            line_walk(&d),
                            "{:?}",
                            String::from_utf8_lossy(&d)
                        );
                    }
                }
            }
        }
        let seed = 0x0e4c_0de5_u64;
        let mut x = seed;
        let pieces: [&[u8]; 12] = [
            b"QUJDREVGR0hJSktMTU5PUA",
            b"dGVzdA",
            b"==",
            b"=",
            b": ",
            b"=",
            b"\"",
            b"'",
            b"\n",
            b" ",
            b",",
            b"\r\n",
        ];
        for round in 0..2000 {
            let mut d = Vec::new();
            for _ in 0..(round % 17) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                d.extend_from_slice(pieces[(x % pieces.len() as u64) as usize]);
            }
            assert_eq!(
                base64_values(&d),
                line_walk(&d),
                "seed {seed:#x} round {round}"
            );
        }
    }
}
