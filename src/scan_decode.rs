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

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Longest encoded value decoded: a Kubernetes Secret holds at most 1 MiB, and a longer run of
/// base64 is a data blob (an image, an archive), not a wrapped secret.
const MAX_ENCODED: usize = 1 << 20;

/// Calls `f` on each encoded value worth decoding, in order, until it returns false: base64
/// values (24 characters to [`MAX_ENCODED`]) that end a line after `:` or `=` (optionally quoted,
/// optionally followed by `,`), and tokens holding `%XX` escapes. Streaming, so a file of ten
/// million encoded lines needs no list of them.
pub(crate) fn for_each_encoded(
    data: &[u8],
    f: &mut dyn FnMut(std::ops::Range<usize>, Encoding) -> bool,
) {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    for nl in ends {
        let line_start = start;
        start = nl + 1;
        // Walk back over the line's tail: spaces, `,`, one closing quote, padding, base64.
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
        if p > line_start && matches!(data[p - 1], b':' | b'=') && !f(s..e, Encoding::Base64) {
            return;
        }
    }
    // Percent-encoded tokens: a `%XX` escape, grown to the surrounding run of URL characters.
    for r in percent_runs(data) {
        if (12..=MAX_ENCODED).contains(&r.len()) && !f(r, Encoding::Percent) {
            return;
        }
    }
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
