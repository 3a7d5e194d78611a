//! Text encodings the scanner reads besides UTF-8.

/// The UTF-8 form of UTF-16 text that starts with a byte-order mark (`FF FE` little-endian, as
/// PowerShell and Windows tools write by default, or `FE FF` big-endian), without the mark; `None`
/// for anything else. Unpaired surrogates become U+FFFD and an odd trailing byte is dropped, so
/// damaged text is still scanned. Lines keep their numbers: every line break survives.
pub fn utf16_with_bom(data: &[u8]) -> Option<Vec<u8>> {
    let little = match data {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return None,
    };
    let units = data[2..].chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut out = Vec::with_capacity(data.len() / 2 + 8);
    let mut buf = [0u8; 4];
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str) -> Vec<u8> {
        let mut v = vec![0xff, 0xfe];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn little_and_big_endian_decode() {
        let text = "$env:API_KEY = 'k3y'\r\nWrite-Host \"é ✓ 𝄞\"\r\n";
        assert_eq!(utf16_with_bom(&le(text)).unwrap(), text.as_bytes());
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(utf16_with_bom(&be).unwrap(), text.as_bytes());
    }

    #[test]
    fn no_bom_is_not_utf16() {
        assert_eq!(utf16_with_bom(b"plain"), None);
        assert_eq!(utf16_with_bom(&[0xef, 0xbb, 0xbf, b'a']), None);
        assert_eq!(utf16_with_bom(&[0xff]), None);
    }

    #[test]
    fn damage_is_replaced_not_fatal() {
        // A lone high surrogate, then an odd trailing byte.
        let mut v = le("a");
        v.extend([0x00, 0xd8, b'b', 0x00, 0x41]);
        assert_eq!(utf16_with_bom(&v).unwrap(), "a\u{fffd}b".as_bytes());
        assert_eq!(utf16_with_bom(&[0xff, 0xfe]).unwrap(), b"");
    }
}
