//! A byte-exact dotenv editor: pure functions from bytes to bytes, so they can be fuzzed and tested
//! without touching the file system.
//!
//! The parser understands just enough of the dotenv dialects in use (node `dotenv`, docker compose,
//! python-dotenv, shell `export`) to know where a value starts and ends: `KEY=value`, optional
//! `export `, single- and double-quoted values (double quotes honour backslash escapes and may span
//! lines), unquoted values ending at ` #` or at the end of the line. Everything it does not
//! understand is copied verbatim; comments are never edited. Line endings are kept byte for byte
//! (a CRLF file stays CRLF) because the editor only ever rewrites bytes inside value regions.
//!
//! Trade-off: replacement is by value, not by key. Every occurrence of an old secret inside any
//! value is replaced (a password inside `DATABASE_URL` as well as `DATABASE_PASSWORD=`), which is
//! what rotation needs; a secret short enough to occur by accident inside an unrelated value would
//! be replaced there too, which the scanner's minimum lengths and entropy make unlikely.

use crate::replace::{Hit, Literals};
use std::ops::Range;
use zeroize::Zeroizing;

/// One assignment found in a dotenv file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// 1-based line of the key.
    pub line: usize,
    /// The variable name (without `export `).
    pub key: String,
    /// Byte range of the value's content in the input (inside the quotes, if any; may span lines
    /// for multi-line double-quoted values).
    pub value: Range<usize>,
    /// The quote character around the value (`'` or `"`), if any.
    pub quote: Option<u8>,
}

/// Finds every `KEY=value` assignment. Never fails: lines it does not understand are skipped.
pub fn assignments(input: &[u8]) -> Vec<Assignment> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line_no = 1;
    while pos < input.len() {
        let (line_end, content_end) = line_bounds(input, pos);
        let mut next = line_end + 1;
        let mut lines_used = 1;
        if let Some((key, vstart)) = parse_key(input, pos, content_end, true) {
            let (value, quote, end) = parse_value(input, vstart, content_end);
            if end > line_end {
                (lines_used, next) = after_multiline(input, line_end, end);
            }
            out.push(Assignment {
                line: line_no,
                key,
                value,
                quote,
            });
        }
        line_no += lines_used;
        pos = next;
    }
    out
}

/// The line starting at `pos`: where it ends (its `\n`, or the end of the input) and where its
/// content ends (before a `\r\n`).
fn line_bounds(input: &[u8], pos: usize) -> (usize, usize) {
    let line_end = memchr::memchr(b'\n', &input[pos..]).map_or(input.len(), |i| pos + i);
    let content_end = if line_end > pos && input[line_end - 1] == b'\r' {
        line_end - 1
    } else {
        line_end
    };
    (line_end, content_end)
}

/// A multi-line quoted value that closes at `end`, past its first line's end `line_end`: the
/// lines it uses and where the line after the closing quote's line starts.
fn after_multiline(input: &[u8], line_end: usize, end: usize) -> (usize, usize) {
    let lines = 1 + input[line_end..end].iter().filter(|&&b| b == b'\n').count();
    let next = memchr::memchr(b'\n', &input[end..]).map_or(input.len(), |i| end + i + 1);
    (lines, next)
}

/// `KEY=` at the start of a line (after an optional UTF-8 byte-order mark at the start of the
/// file, blanks and `export` followed by blanks), or the YAML-style `KEY: value`: the key and
/// where the value begins. `None` for comments, blank lines and anything else.
fn parse_key(input: &[u8], start: usize, end: usize, colon: bool) -> Option<(String, usize)> {
    let mut i = start;
    if i == 0 && input[..end].starts_with(BOM) {
        i = BOM.len();
    }
    while i < end && (input[i] == b' ' || input[i] == b'\t') {
        i += 1;
    }
    if input[i..end].starts_with(b"export") && matches!(input.get(i + 6), Some(b' ' | b'\t')) {
        i += 6;
        while i < end && (input[i] == b' ' || input[i] == b'\t') {
            i += 1;
        }
    }
    let key_start = i;
    while i < end && (input[i].is_ascii_alphanumeric() || matches!(input[i], b'_' | b'.' | b'-')) {
        i += 1;
    }
    if i == key_start || input[key_start].is_ascii_digit() {
        return None;
    }
    let key = String::from_utf8_lossy(&input[key_start..i]).into_owned();
    while i < end && (input[i] == b' ' || input[i] == b'\t') {
        i += 1;
    }
    match input.get(i) {
        Some(b'=') if i < end => i += 1,
        // `KEY: value` (YAML, docker compose `environment:`): the colon ends the key only when a
        // blank or the end of the line follows, so `host:5432` is not a key.
        Some(b':')
            if colon && i < end && (i + 1 == end || matches!(input[i + 1], b' ' | b'\t')) =>
        {
            i += 1
        }
        _ => return None,
    }
    while i < end && (input[i] == b' ' || input[i] == b'\t') {
        i += 1;
    }
    Some((key, i))
}

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The value starting at `start` on a line whose content ends at `end`: (content range, quote,
/// byte after the closing quote or value end).
fn parse_value(input: &[u8], start: usize, end: usize) -> (Range<usize>, Option<u8>, usize) {
    match input.get(start) {
        Some(&q @ (b'"' | b'\'')) if start < end => {
            let body = start + 1;
            let mut i = body;
            while i < input.len() {
                let b = input[i];
                if q == b'"' && b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == q {
                    return (body..i, Some(q), i + 1);
                }
                if q == b'\'' && b == b'\n' {
                    break;
                }
                i += 1;
            }
            // Unterminated: treat the rest of the line as the value, quote included in nothing.
            (body..end, Some(q), end)
        }
        _ => {
            // Unquoted: up to ` #` (an inline comment) or the end of the line, trailing blanks off.
            let mut stop = end;
            let mut i = start;
            while i < end {
                if input[i] == b'#' && i > start && matches!(input[i - 1], b' ' | b'\t') {
                    stop = i;
                    break;
                }
                i += 1;
            }
            while stop > start && matches!(input[stop - 1], b' ' | b'\t') {
                stop -= 1;
            }
            (start..stop, None, stop)
        }
    }
}

/// One old value to replace by a new one.
pub use crate::replace::Pair as Replacement;

/// One replaced occurrence: where the old bytes were in the input and where the new bytes are in
/// the output. Quotes added around an unquoted value are part of the output span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub input: Range<usize>,
    pub output: Range<usize>,
    /// 1-based line of the assignment.
    pub line: usize,
}

/// The result of [`rewrite`].
pub struct Rewritten {
    /// The new file content (zeroized on drop: it holds new secrets).
    pub bytes: Zeroizing<Vec<u8>>,
    pub edits: Vec<Edit>,
    /// How many occurrences of each replacement were replaced (same order as the input slice).
    pub counts: Vec<usize>,
    /// Warnings for people (e.g. a value that needed quoting).
    pub warnings: Vec<String>,
}

/// Bytes that change meaning in an unquoted dotenv value (or when a shell sources the file).
fn unsafe_unquoted(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'#'
            | b'"'
            | b'\''
            | b'$'
            | b'\\'
            | b'`'
            | b'\r'
            | b'\n'
            | b'<'
            | b'>'
            | b'|'
            | b'&'
            | b';'
            | b'('
            | b')'
    )
}

/// Replaces every occurrence of each `old` inside assignment values (never in comments) by its
/// `new`, leftmost-longest, and leaves every other byte as it was.
///
/// An unquoted value whose new content would need quoting (a space, `#`, `$`, a quote...) gets
/// single quotes around the whole value, and a warning; a quoted value whose quote style cannot
/// hold the new content is written anyway, with a warning.
pub fn rewrite(input: &[u8], reps: &[Replacement<'_>]) -> Rewritten {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() + 64));
    let mut edits = Vec::new();
    let mut warnings = Vec::new();
    let mut counts = vec![0; reps.len()];
    // An empty old value would match everywhere: then nothing is replaced at all.
    let literals = if reps.is_empty() || reps.iter().any(|r| r.old.is_empty()) {
        None
    } else {
        Literals::new(reps.iter().copied()).ok()
    };
    let Some(literals) = literals else {
        out.extend_from_slice(input);
        return Rewritten {
            bytes: out,
            edits,
            counts,
            warnings,
        };
    };
    let mut copied = 0;
    for a in assignments(input) {
        let value = &input[a.value.clone()];
        let hits: Vec<Hit> = literals.find_iter(value).collect();
        if hits.is_empty() {
            continue;
        }
        // The value as it will be, to decide on quoting.
        let mut new_value = Zeroizing::new(Vec::with_capacity(value.len() + 32));
        literals.replace_into(value, &mut new_value);
        for h in &hits {
            counts[h.pair] += 1;
        }
        let needs_quotes = new_value.iter().any(|&b| unsafe_unquoted(b));
        let add_quotes = a.quote.is_none()
            && needs_quotes
            && !value.iter().any(|&b| unsafe_unquoted(b))
            && !new_value.contains(&b'\'');
        if let Some(w) = quoting_warning(&a, &new_value, needs_quotes, add_quotes) {
            warnings.push(w);
        }
        out.extend_from_slice(&input[copied..a.value.start]);
        if add_quotes {
            // The whole value changes (quotes added): one edit covering it.
            let start = out.len();
            out.push(b'\'');
            out.extend_from_slice(&new_value);
            out.push(b'\'');
            edits.push(Edit {
                input: a.value.clone(),
                output: start..out.len(),
                line: a.line,
            });
        } else {
            let mut last = 0;
            for h in &hits {
                out.extend_from_slice(&value[last..h.range.start]);
                let start = out.len();
                out.extend_from_slice(literals.new_value(h.pair));
                edits.push(Edit {
                    input: a.value.start + h.range.start..a.value.start + h.range.end,
                    output: start..out.len(),
                    line: a.line,
                });
                last = h.range.end;
            }
            out.extend_from_slice(&value[last..]);
        }
        copied = a.value.end;
    }
    out.extend_from_slice(&input[copied..]);
    Rewritten {
        bytes: out,
        edits,
        counts,
        warnings,
    }
}

/// The result of [`example`].
pub struct Example {
    /// The example file's content: no value of the input survives in it.
    pub bytes: Vec<u8>,
    /// Values replaced by placeholders.
    pub placeholders: usize,
    /// 1-based lines left out because they are neither blank, a comment nor an assignment (a
    /// line the editor does not understand may hold a value).
    pub dropped: Vec<usize>,
}

/// An example of a dotenv file, to be committed: every non-empty value, detected as a secret or
/// not, and in commented-out assignments too (`# DB_PASSWORD=...`), becomes a placeholder. A
/// value that is exactly one of `known` gets that replacement's `new` (a placeholder naming how
/// to generate it); any other value gets `generic(key)`. Comments keep their text but with
/// every `known` value masked; lines that are none of these are dropped, and said so.
pub fn example(
    input: &[u8],
    known: &[Replacement<'_>],
    generic: impl Fn(&str) -> Vec<u8>,
) -> Example {
    // Only the old values count here: every hit is written `[masked]`.
    let literals = Literals::new(known.iter().copied().filter(|r| !r.old.is_empty()))
        .ok()
        .filter(|l| !l.is_empty());
    // Copies `text` with every known value replaced by `[masked]`.
    let masked = |out: &mut Vec<u8>, text: &[u8]| match &literals {
        Some(l) => {
            let mut last = 0;
            for h in l.find_iter(text) {
                out.extend_from_slice(&text[last..h.range.start]);
                out.extend_from_slice(b"[masked]");
                last = h.range.end;
            }
            out.extend_from_slice(&text[last..]);
        }
        None => out.extend_from_slice(text),
    };
    let mut out = Vec::with_capacity(input.len() + 64);
    let mut placeholders = 0;
    let mut dropped = Vec::new();
    let mut pos = 0;
    let mut line_no = 1;
    while pos < input.len() {
        let (line_end, content_end) = line_bounds(input, pos);
        let content = &input[pos..content_end];
        let trimmed = content.trim_ascii_start();
        let body = trimmed
            .strip_prefix(BOM)
            .unwrap_or(trimmed)
            .trim_ascii_start();
        // A commented-out assignment is parsed after its `#` and blanks.
        let key_at = if body.starts_with(b"#") {
            let after = content.len() - body.len() + 1;
            let mut k = pos + after;
            while k < content_end && matches!(input[k], b' ' | b'\t' | b'#') {
                k += 1;
            }
            k
        } else {
            pos
        };
        // In a comment only `KEY=` counts: `# Note: ...` is prose.
        let parsed = parse_key(input, key_at, content_end, key_at == pos);
        let mut next = line_end + 1;
        let mut lines_used = 1;
        match parsed {
            Some((key, vstart)) => {
                let (value, quote, end) = parse_value(input, vstart, content_end);
                if end > line_end {
                    (lines_used, next) = after_multiline(input, line_end, end);
                }
                out.extend_from_slice(&input[pos..value.start]);
                // Where the copied tail starts: the closing quote, or after it when the value is
                // re-quoted.
                let mut tail = value.end;
                if value.is_empty() {
                    // Nothing to hide.
                } else {
                    let v = &input[value.clone()];
                    let ph = known
                        .iter()
                        .find(|r| !r.old.is_empty() && r.old == v)
                        .map(|r| r.new.to_vec())
                        .unwrap_or_else(|| generic(&key));
                    placeholders += 1;
                    match quote {
                        Some(q) if !ph.contains(&q) && !ph.contains(&b'\\') => {
                            out.extend_from_slice(&ph)
                        }
                        Some(_) => {
                            // The placeholder does not fit the value's quotes: quote it anew.
                            out.pop();
                            out.extend_from_slice(&quote_value(&ph));
                            if end > value.end {
                                tail = end;
                            }
                        }
                        None => out.extend_from_slice(&quote_value(&ph)),
                    }
                }
                // Whatever follows the value on its line (an inline comment), known values masked.
                masked(&mut out, &input[tail..next.min(input.len())]);
            }
            None if body.is_empty() || body.starts_with(b"#") => {
                masked(&mut out, &input[pos..next.min(input.len())]);
            }
            None => dropped.push(line_no),
        }
        line_no += lines_used;
        pos = next;
    }
    Example {
        bytes: out,
        placeholders,
        dropped,
    }
}

fn quoting_warning(
    a: &Assignment,
    new_value: &[u8],
    needs_quotes: bool,
    add_quotes: bool,
) -> Option<String> {
    let what = match a.quote {
        None if add_quotes => {
            "added single quotes around the value (the new value holds shell/dotenv special characters)"
        }
        None if needs_quotes => "the new value needs quoting; check the line",
        Some(b'\'') if new_value.contains(&b'\'') => {
            "the new value contains a single quote inside a single-quoted value; check the line"
        }
        Some(b'"') if new_value.iter().any(|&b| matches!(b, b'"' | b'\\' | b'$' | b'`')) => {
            "the new value contains \" \\ $ or ` inside a double-quoted value; check how your loader expands it"
        }
        _ => return None,
    };
    Some(format!("line {}: {}: {what}", a.line, a.key))
}

/// A value as it should be written after `KEY=`: bare when nothing in it needs quoting, else in
/// single quotes, else (it holds a single quote) in double quotes with `\`, `"`, `$` and `` ` ``
/// escaped.
pub fn quote_value(value: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 2));
    if !value.iter().any(|&b| unsafe_unquoted(b)) {
        out.extend_from_slice(value);
    } else if !value.contains(&b'\'') && !value.contains(&b'\n') {
        out.push(b'\'');
        out.extend_from_slice(value);
        out.push(b'\'');
    } else {
        out.push(b'"');
        for &b in value {
            match b {
                b'\\' | b'"' | b'$' | b'`' => {
                    out.push(b'\\');
                    out.push(b);
                }
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.push(b),
            }
        }
        out.push(b'"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};

    /// Bytes outside the edited spans are identical, in order, and every edit holds the new value.
    fn assert_only_spans_changed(input: &[u8], r: &Rewritten) {
        let mut i_pos = 0;
        let mut o_pos = 0;
        for e in &r.edits {
            assert_eq!(
                &input[i_pos..e.input.start],
                &r.bytes[o_pos..e.output.start]
            );
            i_pos = e.input.end;
            o_pos = e.output.end;
        }
        assert_eq!(&input[i_pos..], &r.bytes[o_pos..]);
    }

    const OLD_PW: &[u8] = b"Fu3l-kpuYNvscpXz5lZXODhb";
    const OLD_KEY: &[u8] = b"1d09e42bff4d34163f2d6e88783fc534";

    fn reps() -> Vec<Replacement<'static>> {
        vec![
            Replacement {
                old: OLD_PW,
                new: b"NEWpassword-1234567890.~_abcdefgh",
            },
            Replacement {
                old: OLD_KEY,
                new: b"ffffeeeeddddccccbbbbaaaa99998888",
            },
        ]
    }

    #[test]
    fn round_trip_keeps_every_other_byte() {
        let input = b"# comment with Fu3l-kpuYNvscpXz5lZXODhb stays\r\n\
export DATABASE_PASSWORD=Fu3l-kpuYNvscpXz5lZXODhb\r\n\
DATABASE_URL=\"postgresql://app:Fu3l-kpuYNvscpXz5lZXODhb@db:5432/app\"\r\n\
  ENCRYPTION_KEY = '1d09e42bff4d34163f2d6e88783fc534'   # inline comment\r\n\
\r\n\
OTHER=keep me\r\n\
MULTI=\"line one\r\nFu3l-kpuYNvscpXz5lZXODhb\r\nend\"\r\n\
LAST=1d09e42bff4d34163f2d6e88783fc534";
        let r = rewrite(input, &reps());
        assert_eq!(r.counts, vec![3, 2]);
        assert_eq!(r.edits.len(), 5);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_only_spans_changed(input, &r);
        let out = String::from_utf8(r.bytes.to_vec()).unwrap();
        assert!(out.starts_with("# comment with Fu3l-kpuYNvscpXz5lZXODhb stays\r\n"));
        assert_eq!(out.matches("\r\n").count(), 9);
        assert!(!out.contains("1d09e42b"));
        assert!(out.contains("postgresql://app:NEWpassword-1234567890.~_abcdefgh@db:5432/app"));
    }

    #[test]
    fn assignments_are_parsed() {
        let input = b"A=1\n# B=2\nexport C='x y' # c\nD=\"a\\\"b\"\nnot an assignment\nE=v # c\n";
        let a = assignments(input);
        let keys: Vec<_> = a.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["A", "C", "D", "E"]);
        assert_eq!(&input[a[1].value.clone()], b"x y");
        assert_eq!(&input[a[2].value.clone()], b"a\\\"b");
        assert_eq!(&input[a[3].value.clone()], b"v");
        assert_eq!(a[3].line, 6);
    }

    #[test]
    fn dialects_are_parsed() {
        let input = b"\xef\xbb\xbfA=1\nexport\tB=2\nC: 3\nD:4\nURL: http://h:80\n";
        let a = assignments(input);
        let keys: Vec<_> = a.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["A", "B", "C", "URL"]);
        assert_eq!(&input[a[3].value.clone()], b"http://h:80");
    }

    #[test]
    fn example_keeps_keys_and_comments_and_no_value() {
        let input = b"# Note: keep me\nA=\"one two\"\n# B=hidden\nC='x' # c hidden-too\nD=\n?? junk line\nE=hidden-too\n";
        let known = [Replacement {
            old: b"hidden-too",
            new: b"<generate>",
        }];
        let ex = example(input, &known, |k| format!("<set {k}>").into_bytes());
        let out = String::from_utf8(ex.bytes).unwrap();
        assert_eq!(
            out,
            "# Note: keep me\nA=\"<set A>\"\n# B='<set B>'\nC='<set C>' # c [masked]\nD=\nE='<generate>'\n"
        );
        assert_eq!(ex.placeholders, 4);
        assert_eq!(ex.dropped, [6]);
    }

    #[test]
    fn unsafe_new_value_gets_quoted() {
        let input = b"SECRET_KEY=abcdefghijklmnop\n";
        let r = rewrite(
            input,
            &[Replacement {
                old: b"abcdefghijklmnop",
                new: b"a#b$c",
            }],
        );
        assert_eq!(&r.bytes[..], b"SECRET_KEY='a#b$c'\n");
        assert_eq!(r.warnings.len(), 1);
        assert_only_spans_changed(input, &r);
    }

    #[test]
    fn an_empty_old_value_replaces_nothing_at_all() {
        let input = b"A=abcdefgh\n";
        let r = rewrite(
            input,
            &[
                Replacement {
                    old: b"abcdefgh",
                    new: b"NEW",
                },
                Replacement {
                    old: b"",
                    new: b"x",
                },
            ],
        );
        assert_eq!(&r.bytes[..], input);
        assert_eq!(r.counts, [0, 0]);
        assert!(r.edits.is_empty());
    }

    #[test]
    fn quote_values() {
        assert_eq!(&quote_value(b"plain")[..], b"plain");
        assert_eq!(&quote_value(b"a b")[..], b"'a b'");
        assert_eq!(&quote_value(b"it's $x")[..], b"\"it's \\$x\"");
    }

    /// A cheap fuzz: random dotenv-ish bytes never panic, and nothing changes without hits.
    #[test]
    fn random_inputs() {
        let alphabet = b"AB=_ \t#'\"\\\r\nxyz$";
        let mut rng = rand::thread_rng();
        for _ in 0..2000 {
            let len = rng.gen_range(0..80);
            let mut input: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            if rng.gen_bool(0.1) {
                let mut junk = [0u8; 8];
                rng.fill_bytes(&mut junk);
                input.extend_from_slice(&junk);
            }
            let _ = assignments(&input);
            let r = rewrite(
                &input,
                &[Replacement {
                    old: b"xyz",
                    new: b"NEW",
                }],
            );
            assert_only_spans_changed(&input, &r);
            let none = rewrite(&input, &[]);
            assert_eq!(&none.bytes[..], &input[..]);
        }
    }
}
