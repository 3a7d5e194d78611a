//! Text encodings the scanner reads besides UTF-8: UTF-16 with a byte-order mark, and UTF-16
//! without one when its opening is unmistakable (ASCII text with every other byte zero).
//!
//! The scanner matches UTF-8; a UTF-16 file is decoded first and its findings are placed in the
//! decoded text (lines, columns) and in the stored bytes (the byte span, [`Utf16Text::stored`]).
//! The rewrite and its verification search the stored forms ([`Utf16::encode`]).

use std::ops::Range;

/// A UTF-16 byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Utf16 {
    Le,
    Be,
}

/// Length of a UTF-16 byte-order mark.
const BOM: usize = 2;
/// How much of a file without a mark is looked at to call it UTF-16.
const SNIFF: usize = 1024;
/// The fewest characters a file without a mark needs to be called UTF-16.
const SNIFF_MIN: usize = 4;

impl Utf16 {
    /// Both byte orders.
    pub const BOTH: [Utf16; 2] = [Utf16::Le, Utf16::Be];

    /// The byte order `data`'s byte-order mark names (`FF FE` little-endian, as PowerShell and
    /// Windows tools write by default; `FE FF` big-endian); `None` without one.
    pub fn of(data: &[u8]) -> Option<Utf16> {
        match data {
            [0xff, 0xfe, ..] => Some(Utf16::Le),
            [0xfe, 0xff, ..] => Some(Utf16::Be),
            _ => None,
        }
    }

    /// The byte order of UTF-16 text written without a mark (.NET's `Encoding.Unicode` without
    /// a preamble, some exporters): an even length and an opening (up to [`SNIFF`] bytes) that
    /// is all printable ASCII or line breaks in one byte of each pair and zero in the other. Real
    /// binary data almost never looks like that, and a secret must not hide behind a missing mark.
    pub fn sniff(data: &[u8]) -> Option<Utf16> {
        let head = &data[..data.len().min(SNIFF)];
        if !data.len().is_multiple_of(2) || head.len() < SNIFF_MIN * 2 {
            return None;
        }
        let text = |b: u8| matches!(b, b' '..=b'~' | b'\n' | b'\r' | b'\t');
        let pairs = || head.chunks_exact(2);
        if pairs().all(|p| text(p[0]) && p[1] == 0) {
            Some(Utf16::Le)
        } else if pairs().all(|p| p[0] == 0 && text(p[1])) {
            Some(Utf16::Be)
        } else {
            None
        }
    }

    /// The encoding's name, as findings and reports show it.
    pub fn name(self) -> &'static str {
        match self {
            Utf16::Le => "UTF-16LE",
            Utf16::Be => "UTF-16BE",
        }
    }

    /// The byte-order mark of this byte order.
    pub fn bom(self) -> [u8; 2] {
        self.unit(0xfeff)
    }

    fn unit(self, u: u16) -> [u8; 2] {
        match self {
            Utf16::Le => u.to_le_bytes(),
            Utf16::Be => u.to_be_bytes(),
        }
    }

    /// `text` in this byte order, without a byte-order mark. Bytes that are not UTF-8 are
    /// encoded as U+FFFD (a secret or replacement always has a stored form to search for).
    pub fn encode(self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for u in String::from_utf8_lossy(text).encode_utf16() {
            out.extend_from_slice(&self.unit(u));
        }
        out
    }
}

/// The text the scanner reads in `data`: its UTF-16 decoded ([`Utf16Text::decode`]), or `data`
/// itself. What line numbers count.
pub fn scanned_text(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match Utf16Text::decode(data) {
        Some(t) => std::borrow::Cow::Owned(t.text.into_bytes()),
        None => std::borrow::Cow::Borrowed(data),
    }
}

/// UTF-16 text, decoded to UTF-8.
pub struct Utf16Text {
    pub order: Utf16,
    /// Whether the stored text starts with a byte-order mark (else [`Utf16::sniff`] found it).
    pub marked: bool,
    /// The decoded text, without the mark. Unpaired surrogates are U+FFFD and an odd trailing
    /// byte is dropped, so damaged text is still scanned. Lines keep their numbers: every line
    /// break survives.
    pub text: String,
}

impl Utf16Text {
    /// `data` decoded, when it starts with a UTF-16 byte-order mark or reads as UTF-16 without
    /// one ([`Utf16::sniff`]); `None` for anything else.
    pub fn decode(data: &[u8]) -> Option<Utf16Text> {
        let (order, marked) = match Utf16::of(data) {
            Some(o) => (o, true),
            None => (Utf16::sniff(data)?, false),
        };
        let start = if marked { BOM } else { 0 };
        let units = data[start..].chunks_exact(2).map(|p| match order {
            Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
            Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
        });
        let text = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        Some(Utf16Text {
            order,
            marked,
            text,
        })
    }

    /// `data` decoded when encoding the text again gives back exactly `data` (no damage to
    /// replace), so an edit of the text can be stored in the same form ([`Utf16Text::store`]).
    pub fn decode_exact(data: &[u8]) -> Option<Utf16Text> {
        let t = Utf16Text::decode(data)?;
        (t.order.encode(t.text.as_bytes()) == data[t.mark_len()..]).then_some(t)
    }

    /// `text` (UTF-8) stored as this text is: the same mark and byte order (bytes that are not
    /// UTF-8 as U+FFFD, see [`Utf16::encode`]).
    pub fn store(&self, text: &[u8]) -> Vec<u8> {
        let mut out = if self.marked {
            self.order.bom().to_vec()
        } else {
            Vec::new()
        };
        out.extend(self.order.encode(text));
        out
    }

    /// Bytes of the stored text before the first character: the mark's, if any.
    fn mark_len(&self) -> usize {
        if self.marked {
            BOM
        } else {
            0
        }
    }

    /// The stored byte ranges (the mark counted) of `ranges` of the decoded text. An offset
    /// inside a character maps to that character's start. One pass over the text for all.
    pub fn stored(&self, ranges: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut offsets: Vec<usize> = ranges.iter().flat_map(|r| [r.start, r.end]).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut mapped = Vec::with_capacity(offsets.len());
        let mut stored = self.mark_len();
        let mut next = offsets.iter().peekable();
        for (i, c) in self.text.char_indices() {
            while next.next_if(|&&o| o < i + c.len_utf8()).is_some() {
                mapped.push(stored);
            }
            stored += c.len_utf16() * 2;
        }
        mapped.extend(next.map(|_| stored));
        let at = |o: usize| mapped[offsets.binary_search(&o).unwrap_or(0)];
        ranges.iter().map(|r| at(r.start)..at(r.end)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(order: Utf16, s: &str) -> Vec<u8> {
        let mut v = order.bom().to_vec();
        v.extend(order.encode(s.as_bytes()));
        v
    }

    #[test]
    fn little_and_big_endian_decode() {
        let text = "$env:API_KEY = 'k3y'\r\nWrite-Host \"é ✓ 𝄞\"\r\n";
        for order in Utf16::BOTH {
            let t = Utf16Text::decode(&stored(order, text)).unwrap();
            assert_eq!((t.order, t.text.as_str()), (order, text));
        }
        assert_eq!(&stored(Utf16::Le, "a")[..], [0xff, 0xfe, b'a', 0]);
        assert_eq!(&stored(Utf16::Be, "a")[..], [0xfe, 0xff, 0, b'a']);
    }

    #[test]
    fn utf16_without_a_mark_is_sniffed_only_when_unmistakable() {
        let le: Vec<u8> = "API_KEY=abc\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "API_KEY=abc\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(Utf16::sniff(&le), Some(Utf16::Le));
        assert_eq!(Utf16::sniff(&be), Some(Utf16::Be));
        let t = Utf16Text::decode(&le).unwrap();
        assert!(!t.marked);
        assert_eq!(t.text, "API_KEY=abc\n");
        let key = 8..11;
        assert_eq!(t.stored(std::slice::from_ref(&key)), vec![(16..22)]);
        assert_eq!(t.store(t.text.as_bytes()), le);
        // Odd length, too short, a non-zero high byte, binary with zeros: not UTF-16.
        assert_eq!(Utf16::sniff(&le[..le.len() - 1]), None);
        assert_eq!(Utf16::sniff(&le[..6]), None);
        let mut bad = le.clone();
        bad[3] = 1;
        assert_eq!(Utf16::sniff(&bad), None);
        assert_eq!(
            Utf16::sniff(&[0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]),
            None
        );
        assert_eq!(Utf16::sniff(b"plain ascii text"), None);
    }

    #[test]
    fn no_bom_is_not_utf16() {
        assert!(Utf16Text::decode(b"plain").is_none());
        assert!(Utf16Text::decode(&[0xef, 0xbb, 0xbf, b'a']).is_none());
        assert!(Utf16Text::decode(&[0xff]).is_none());
    }

    #[test]
    fn damage_is_replaced_not_fatal_and_not_stored_back() {
        // A lone high surrogate, then an odd trailing byte.
        let mut v = stored(Utf16::Le, "a");
        v.extend([0x00, 0xd8, b'b', 0x00, 0x41]);
        assert_eq!(Utf16Text::decode(&v).unwrap().text, "a\u{fffd}b");
        assert!(Utf16Text::decode_exact(&v).is_none());
        assert_eq!(Utf16Text::decode(&[0xff, 0xfe]).unwrap().text, "");
        let whole = stored(Utf16::Be, "x=é𝄞\n");
        let t = Utf16Text::decode_exact(&whole).unwrap();
        assert_eq!(t.store(t.text.as_bytes()), whole);
        assert_eq!(
            t.store(&[0xff])[2..],
            Utf16::Be.encode("\u{fffd}".as_bytes())
        );
    }

    #[test]
    fn decoded_ranges_map_to_stored_bytes() {
        let text = "é=𝄞 key\n";
        let data = stored(Utf16::Le, text);
        let t = Utf16Text::decode(&data).unwrap();
        let key = text.find("key").unwrap();
        let got = t.stored(&[key..key + 3, 0..text.len(), 0..0]);
        // BOM 2, é 2, = 2, 𝄞 4, space 2: "key" starts at byte 12.
        assert_eq!(got, [12..18, 2..data.len(), 2..2]);
        assert_eq!(&data[12..18], &Utf16::Le.encode(b"key")[..]);
    }
}
