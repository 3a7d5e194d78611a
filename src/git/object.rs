//! Raw commits and tags: headers, message, the ids they name.

use super::id::ObjectId;

/// Splits a raw commit or tag into (headers including their final newline, message).
pub fn split_object(raw: &[u8]) -> (&[u8], &[u8]) {
    if raw.starts_with(b"\n") {
        return (&raw[..0], &raw[1..]);
    }
    match memchr::memmem::find(raw, b"\n\n") {
        Some(i) => (&raw[..i + 1], &raw[i + 2..]),
        None => (raw, &raw[raw.len()..]),
    }
}

/// Header lines of a raw object as (name, whole line(s) including continuation lines).
pub fn header_fields(headers: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out: Vec<(&[u8], &[u8])> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < headers.len() {
        let end = memchr::memchr(b'\n', &headers[i..]).map_or(headers.len(), |j| i + j + 1);
        let line = &headers[i..end];
        if line.starts_with(b" ") && !out.is_empty() {
            // Continuation of the previous field.
            if let Some(last) = out.last_mut() {
                last.1 = &headers[start..end];
            }
        } else {
            let name_end = memchr::memchr(b' ', line).unwrap_or(line.len());
            start = i;
            out.push((&line[..name_end], line));
        }
        i = end;
    }
    out
}

/// Whether a tag message carries a signature block, and where it starts.
pub fn tag_signature_start(message: &[u8]) -> Option<usize> {
    const MARKERS: [&[u8]; 3] = [
        b"-----BEGIN PGP SIGNATURE-----",
        b"-----BEGIN SSH SIGNATURE-----",
        b"-----BEGIN SIGNED MESSAGE-----",
    ];
    MARKERS
        .iter()
        .filter_map(|m| {
            memchr::memmem::rfind(message, m).filter(|&i| i == 0 || message[i - 1] == b'\n')
        })
        .min()
}

/// The tree a raw commit names on its first line (cheaper than parsing the whole commit).
pub fn commit_tree(raw: &[u8]) -> Option<ObjectId> {
    raw.strip_prefix(b"tree ")
        .and_then(|rest| rest.get(..40))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(ObjectId::from_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    #[test]
    fn commit_parts() {
        let raw = format!("tree {T}\nparent {T}\ngpgsig a\n b\n\nsubject\n\nbody\n");
        let (h, m) = split_object(raw.as_bytes());
        assert_eq!(m, b"subject\n\nbody\n");
        let fields = header_fields(h);
        let names: Vec<&[u8]> = fields.iter().map(|f| f.0).collect();
        assert_eq!(names, [&b"tree"[..], b"parent", b"gpgsig"]);
        assert_eq!(fields[2].1, b"gpgsig a\n b\n");
        assert_eq!(
            commit_tree(raw.as_bytes())
                .map(|t| t.to_string())
                .as_deref(),
            Some(T)
        );
        assert_eq!(commit_tree(b"parent x"), None);
        assert_eq!(commit_tree(b"tree 4b82"), None);
        assert_eq!(split_object(b"\nmsg"), (&b""[..], &b"msg"[..]));
        assert_eq!(split_object(b"a b\n"), (&b"a b\n"[..], &b""[..]));
    }

    #[test]
    fn tag_signatures() {
        assert_eq!(
            tag_signature_start(b"msg\n-----BEGIN PGP SIGNATURE-----\nx"),
            Some(4)
        );
        assert_eq!(
            tag_signature_start(b"msg -----BEGIN PGP SIGNATURE-----"),
            None
        );
        assert_eq!(tag_signature_start(b"plain"), None);
    }
}
