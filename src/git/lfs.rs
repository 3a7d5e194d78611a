//! Git LFS pointer files: the one test, shared by every source and by the rewrite planner, of
//! whether a blob is a pointer (skipped: its content lives in LFS storage) or a file to scan.
//!
//! A pointer is the whole of a small file in the format of the Git LFS specification (v1): the
//! line `version https://git-lfs.github.com/spec/v1`, then optional extension lines
//! `ext-<priority>-<name> sha256:<64 hex>`, then `oid sha256:<64 hex>` and `size <digits>`, each
//! line ending in `\n` (the last one may lack it), nothing else, under 1024 bytes. Anything more
//! (a file that merely starts with the version line, trailing text, a second oid) is not a
//! pointer and is scanned like any other file.

/// Pointer files are smaller than this (the specification's bound).
pub const MAX_POINTER_SIZE: usize = 1024;

const VERSION: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// True when `data` is a Git LFS pointer file and nothing else (see the module docs).
pub fn is_pointer(data: &[u8]) -> bool {
    if data.len() >= MAX_POINTER_SIZE {
        return false;
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let mut lines = body.split(|&b| b == b'\n');
    if lines.next() != Some(VERSION) {
        return false;
    }
    let mut line = lines.next();
    // Extensions come before the oid (keys are sorted).
    while let Some(l) = line.filter(|l| l.starts_with(b"ext-")) {
        if !is_extension(l) {
            return false;
        }
        line = lines.next();
    }
    let oid_ok = line
        .and_then(|l| l.strip_prefix(b"oid "))
        .is_some_and(is_sha256);
    let size_ok = lines
        .next()
        .and_then(|l| l.strip_prefix(b"size "))
        .is_some_and(|d| !d.is_empty() && d.len() <= 20 && d.iter().all(u8::is_ascii_digit));
    oid_ok && size_ok && lines.next().is_none()
}

/// `sha256:` and 64 lower-case hex digits.
fn is_sha256(v: &[u8]) -> bool {
    v.strip_prefix(b"sha256:").is_some_and(|h| {
        h.len() == 64
            && h.iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    })
}

/// `ext-<digit>-<name> sha256:<hex>`, the name alphanumeric.
fn is_extension(l: &[u8]) -> bool {
    let Some((key, value)) = l.iter().position(|&b| b == b' ').map(|i| l.split_at(i)) else {
        return false;
    };
    let Some(rest) = key.strip_prefix(b"ext-") else {
        return false;
    };
    let ok_key = match rest {
        [p, b'-', name @ ..] => {
            p.is_ascii_digit() && !name.is_empty() && name.iter().all(u8::is_ascii_alphanumeric)
        }
        _ => false,
    };
    ok_key && is_sha256(&value[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

    fn pointer(extra: &str) -> String {
        format!("version https://git-lfs.github.com/spec/v1\n{extra}oid sha256:{OID}\nsize 12345\n")
    }

    #[test]
    fn pointers() {
        assert!(is_pointer(pointer("").as_bytes()));
        assert!(is_pointer(pointer("").trim_end().as_bytes()));
        assert!(is_pointer(
            pointer(&format!("ext-0-foo sha256:{OID}\next-1-bar sha256:{OID}\n")).as_bytes()
        ));
    }

    #[test]
    fn not_pointers() {
        let p = pointer("");
        assert!(!is_pointer(b"hello"));
        assert!(!is_pointer(b""));
        assert!(!is_pointer(
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"
        ));
        // More than a pointer: trailing text, a header followed by anything else.
        assert!(!is_pointer(format!("{p}TOKEN=abc\n").as_bytes()));
        assert!(!is_pointer(format!("{p}\n").as_bytes()));
        assert!(!is_pointer(
            b"version https://git-lfs.github.com/spec/v1\nTOKEN=abc\n"
        ));
        assert!(!is_pointer(p.replace("size 12345", "size 12x").as_bytes()));
        assert!(!is_pointer(p.replace("size 12345", "size ").as_bytes()));
        assert!(!is_pointer(p.replace('\n', "\r\n").as_bytes()));
        assert!(!is_pointer(
            pointer(&format!("ext-0-foo sha256:{OID} x\n")).as_bytes()
        ));
        assert!(!is_pointer(pointer("ext-0- sha256:00\n").as_bytes()));
        assert!(!is_pointer(p.to_uppercase().as_bytes()));
        let big = pointer(&format!("ext-0-foo sha256:{OID}\n").repeat(12));
        assert!(big.len() >= MAX_POINTER_SIZE && !is_pointer(big.as_bytes()));
    }
}
