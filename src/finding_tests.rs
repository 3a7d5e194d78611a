use super::*;

#[test]
fn secret_id_is_value_only() {
    assert_eq!(SecretId::of(b"abc"), SecretId::of(b"abc"));
    assert_ne!(SecretId::of(b"abc"), SecretId::of(b"abd"));
    assert_eq!(SecretId::of(b"abc").as_str().len(), 64);
}

#[test]
fn short_secret_id_is_its_prefix() {
    let id = SecretId::of(b"abc");
    assert_eq!(id.short().len(), SecretId::SHORT_LEN);
    assert!(id.as_str().starts_with(id.short()));
    assert_ne!(id.short(), SecretId::of(b"abd").short());
}

#[test]
fn redaction_hides_most() {
    let r = redact(b"LD0FEHeQp838JYrrxnzfDzrMy0HRrucxLDBOvysNFxA");
    assert_eq!(r, "LD0F****** (43 chars)");
    assert_eq!(redact(b"abcdefg"), "a****** (7 chars)");
    assert_eq!(format!("{:?}", Secret::new(b"x".to_vec())), "<redacted>");
}

#[test]
fn line_index() {
    let idx = LineIndex::new(b"a\nbc\n\nd");
    assert_eq!(idx.locate(0), (1, 1));
    assert_eq!(idx.locate(3), (2, 2));
    assert_eq!(idx.locate(6), (4, 1));
    assert_eq!(idx.lines_of(&(3..4)), 2..4);
    assert_eq!(idx.lines_of(&(2..7)), 2..7);
    assert_eq!(idx.lines_of(&(5..5)), 5..5);
}

/// The block index agrees with a line-by-line count at every line's ends and at points
/// inside it, across block boundaries, on long lines, runs of newlines and data without a
/// final newline.
#[test]
fn line_index_matches_naive_count() {
    let mut data = Vec::new();
    let mut seed = 7u32;
    for _ in 0..3000 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let len = match seed % 7 {
            0 => 0,
            1 => 9000,
            _ => (seed >> 8) as usize % 200,
        };
        data.extend(std::iter::repeat_n(b'x', len));
        data.push(b'\n');
    }
    data.extend_from_slice(b"tail");
    let idx = LineIndex::new(&data);
    let mut start = 0;
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        let end = start + line.len();
        for o in [
            start,
            start + 1,
            start + line.len() / 3,
            end.saturating_sub(1),
            end,
        ] {
            let o = o.clamp(start, end);
            assert_eq!(idx.locate(o), (n + 1, o - start + 1), "offset {o}");
            assert_eq!(idx.lines_of(&(o..o + 1)), start..end, "offset {o}");
        }
        start = end + 1;
    }
}

#[test]
fn preview_masks_secret() {
    let data = b"x=1\nJWT_SECRET=abcdefghijkl # note\n";
    let p = preview(data, &(15..27), "ab***", &Masks::default(), 80);
    assert_eq!(p, "JWT_SECRET=ab*** # note");
}

#[test]
fn preview_masks_every_span_on_the_line() {
    let data = b"{\"a\":\"AAAAAAAAAAAA\",\"b\":\"BBBBBBBBBBBB\"}\n";
    let a = 6..18;
    let b = 25..37;
    let masks = Masks::new(vec![b.clone(), a.clone()]);
    let p = preview(data, &a, "A***", &masks, 120);
    assert_eq!(p, "{\"a\":\"A***\",\"b\":\"BB****** (12 chars)\"}");
    let p = preview(data, &b, "B***", &masks, 120);
    assert_eq!(p, "{\"a\":\"AA****** (12 chars)\",\"b\":\"B***\"}");
    // A mask overlapping the secret is hidden under the secret's redaction.
    let masks = Masks::new(vec![4..20, a.clone()]);
    assert_eq!(
        preview(data, &a, "A***", &masks, 120),
        "{\"a\"A***\"b\":\"BBBBBBBBBBBB\"}"
    );
}

#[test]
fn cuts_drop_partial_tokens() {
    assert_eq!(tail_chars("abc defgh", 3), "…");
    assert_eq!(tail_chars("abc defgh ij", 6), "… ij");
    assert_eq!(tail_chars("abc def", 4), "… def");
    assert_eq!(head_chars("abcdef gh", 3), "…");
    assert_eq!(head_chars("ab cdef gh", 5), "ab …");
    assert_eq!(head_chars("ab cd", 9), "ab cd");
}

#[test]
fn sanitizer_escapes_controls_visibly() {
    assert_eq!(
        sanitize("a\x1b]0;t\x07\n::error\r"),
        "a\\x1b]0;t\\x07\\n::error\\r"
    );
    assert_eq!(sanitize("\u{202e}x\u{9b}\u{7f}"), "\\u{202e}x\\u{9b}\\x7f");
    assert!(matches!(
        sanitize("plain/path.rs"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn redactor_masks_every_value() {
    let r = Redactor::new([&b"s3cr3tvalue"[..], b"other-secret-1", b"abc"]);
    assert_eq!(r.len(), 2);
    assert_eq!(
        r.clean("set s3cr3tvalue and other-secret-1\x1b, abc"),
        "set s3****** (11 chars) and ot****** (14 chars)\\x1b, abc"
    );
    assert_eq!(r.redact("nothing"), "nothing");
}

#[test]
fn ids_restore_from_the_hex_a_report_holds() {
    let c = CommitId::from_hex(&"ab".repeat(20)).unwrap();
    let b = BlobId::from_hex(&"cd".repeat(20)).unwrap();
    let t = ObjectId::from_hex(&"ef".repeat(20)).unwrap();
    for (ids, kind) in [
        (
            GitIds {
                commit: Some(c),
                tag: None,
                blob: Some(b),
            },
            "file",
        ),
        (
            GitIds {
                commit: Some(c),
                tag: None,
                blob: None,
            },
            "commit-message",
        ),
        (
            GitIds {
                commit: None,
                tag: Some(t),
                blob: None,
            },
            "tag-message",
        ),
        (
            GitIds {
                commit: None,
                tag: None,
                blob: Some(b),
            },
            "unreachable",
        ),
    ] {
        let mut g = GitProvenance::of(ids, kind, String::new());
        g.ids = GitIds::default();
        g.restore_ids();
        assert_eq!(g.ids, ids, "{kind}");
    }
}
