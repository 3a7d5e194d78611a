use super::*;
use crate::matcher::MatchOptions;
use crate::source::{self, stdin::Stdin, worktree::WalkOptions};
use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::{Rng, SeedableRng};

/// A seeded generator; the seed is printed (shown when the test fails) and can be replayed
/// with `LEAKSWEEP_TEST_SEED`.
fn rng() -> (u64, rand::rngs::StdRng) {
    let seed = std::env::var("LEAKSWEEP_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("LEAKSWEEP_TEST_SEED={seed}");
    (seed, rand::rngs::StdRng::seed_from_u64(seed))
}

/// A generated Stripe live key: `sk_live_` and 40 random letters and digits.
fn stripe_key(rng: &mut impl Rng) -> String {
    let tail: String = rng
        .sample_iter(Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("sk_live_{tail}")
}

fn scanner(max_findings: usize) -> Scanner {
    let rules = crate::rules::builtin().expect("built-in rules");
    let opts = MatchOptions {
        max_findings,
        ..MatchOptions::default()
    };
    Scanner::new(Matcher::new(rules).expect("matcher").with_options(opts))
}

fn object_id(rng: &mut impl Rng) -> ObjectId {
    ObjectId::from_bytes(&rng.gen::<[u8; 20]>()).expect("20 bytes")
}

/// `lines` filler lines, then `    charge(KEY);`: the key at line `lines + 1`, column 12.
fn blob_text(lines: usize, key: &str) -> String {
    let mut text: String = (0..lines).map(|i| format!("// step {i}\n")).collect();
    text.push_str(&format!("    charge({key});\nend\n"));
    text
}

#[test]
fn one_secret_one_finding_where_it_is() {
    let (seed, mut rng) = rng();
    let s = scanner(1000);
    let key = stripe_key(&mut rng);
    let lines = rng.gen_range(0..6);
    let text = blob_text(lines, &key);
    let at = text.find(&key).expect("key in text");
    let found = s.scan_blob(
        &Blob::file(text.as_bytes(), "src/pay.rs"),
        &mut Scratch::default(),
    );
    assert_eq!(found.len(), 1, "seed {seed}: {found:?}");
    let f = &found[0];
    assert_eq!(f.rule_id, "stripe-secret-key", "seed {seed}");
    assert_eq!((f.line, f.column), (lines + 1, 12), "seed {seed}");
    assert_eq!(
        (f.end_line, f.end_column),
        (lines + 1, 11 + key.len()),
        "seed {seed}"
    );
    assert_eq!(f.span, at..at + key.len(), "seed {seed}");
    assert_eq!(f.secret.expose(), key.as_bytes(), "seed {seed}");
    assert_eq!(f.secret_id, SecretId::of(key.as_bytes()), "seed {seed}");
    assert!(f.matched.is_none(), "seed {seed}");
    assert!(
        !f.preview.contains(&key),
        "seed {seed}: preview shows the key"
    );
    assert!(
        f.git.is_none(),
        "seed {seed}: a work-tree file has no git provenance"
    );
    assert_eq!(
        f.fingerprint.as_str(),
        format!(":src/pay.rs:stripe-secret-key:{}", lines + 1),
        "seed {seed}"
    );
}

#[test]
fn findings_carry_the_blob_provenance() {
    let (seed, mut rng) = rng();
    let s = scanner(1000);
    let key = stripe_key(&mut rng);
    let text = blob_text(2, &key);
    let (blob, commit, tag) = (
        BlobId(object_id(&mut rng)),
        CommitId(object_id(&mut rng)),
        object_id(&mut rng),
    );
    let scan = |provenance| {
        let found = s.scan_blob(
            &Blob::new(text.as_bytes(), "app/.env", provenance),
            &mut Scratch::default(),
        );
        assert_eq!(found.len(), 1, "seed {seed}: {provenance:?}");
        found.into_iter().next().unwrap()
    };

    let f = scan(Provenance::GitBlob {
        blob,
        commit: Some(commit),
    });
    let g = f.git.as_ref().expect("git provenance");
    assert_eq!(g.commit, commit.to_string(), "seed {seed}");
    assert_eq!(g.blob, blob.to_string(), "seed {seed}");
    assert_eq!(g.kind, "file", "seed {seed}");
    assert_eq!(g.ids.commit, Some(commit), "seed {seed}");
    assert_eq!(g.ids.blob, Some(blob), "seed {seed}");
    assert_eq!(
        f.fingerprint.as_str(),
        format!("{commit}:app/.env:stripe-secret-key:3"),
        "seed {seed}"
    );
    assert!(g.author_name.is_empty() && g.date.is_empty(), "seed {seed}");

    let g = scan(Provenance::Unreachable(blob))
        .git
        .expect("git provenance");
    assert_eq!((g.commit.as_str(), g.kind.as_str()), ("", "unreachable"));
    assert_eq!(g.blob, blob.to_string(), "seed {seed}");

    let g = scan(Provenance::CommitMessage(commit))
        .git
        .expect("git provenance");
    assert_eq!(g.commit, commit.to_string(), "seed {seed}");
    assert_eq!((g.blob.as_str(), g.kind.as_str()), ("", "commit-message"));

    let g = scan(Provenance::TagMessage {
        tag,
        name: "refs/tags/v1.2",
    })
    .git
    .expect("git provenance");
    assert_eq!(g.commit, tag.to_string(), "seed {seed}");
    assert_eq!(
        (g.kind.as_str(), g.summary.as_str()),
        ("tag-message", "tag v1.2")
    );
    assert_eq!((g.ids.tag, g.ids.commit), (Some(tag), None), "seed {seed}");

    for p in [
        Provenance::Stdin,
        Provenance::Staged(blob),
        Provenance::File,
    ] {
        assert!(scan(p).git.is_none(), "seed {seed}: {p:?}");
    }
}

#[test]
fn decode_pass_finds_a_base64_wrapped_key() {
    let (seed, mut rng) = rng();
    let s = scanner(1000);
    let key = stripe_key(&mut rng);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    let text = format!("kind: Config\npayload: {encoded}\n");
    let at = text.find(&encoded).expect("encoded in text");
    let found = s.scan_blob(
        &Blob::file(text.as_bytes(), "k8s.yaml"),
        &mut Scratch::default(),
    );
    assert_eq!(found.len(), 1, "seed {seed}: {found:?}");
    let f = &found[0];
    assert_eq!(f.rule_id, "stripe-secret-key", "seed {seed}");
    // Named by the decoded key, reported where the encoded text is.
    assert_eq!(f.secret.expose(), key.as_bytes(), "seed {seed}");
    assert_eq!(f.span, at..at + encoded.len(), "seed {seed}");
    assert_eq!((f.line, f.column), (2, 10), "seed {seed}");
    assert_eq!(
        f.matched.as_ref().map(|m| m.expose()),
        Some(encoded.as_bytes()),
        "seed {seed}"
    );

    // Without the decode pass the encoded key is not seen.
    let rules = crate::rules::builtin().expect("built-in rules");
    let opts = MatchOptions {
        decode_depth: 0,
        ..MatchOptions::default()
    };
    let plain = Scanner::new(Matcher::new(rules).expect("matcher").with_options(opts));
    let found = plain.scan_blob(
        &Blob::file(text.as_bytes(), "k8s.yaml"),
        &mut Scratch::default(),
    );
    assert!(
        found.iter().all(|f| f.secret.expose() != key.as_bytes()),
        "seed {seed}"
    );
}

#[test]
fn binary_and_too_large_input_are_skips_with_their_reason() {
    let (seed, mut rng) = rng();
    let s = scanner(1000);
    let key = stripe_key(&mut rng);
    let text = blob_text(1, &key);
    let max = text.len() as u64;
    let stdin = |data: Vec<u8>, max_size| {
        source::scan(
            Stdin {
                input: &data[..],
                max_size,
            },
            &s,
        )
        .expect("stdin scan")
    };

    let mut binary = text.clone().into_bytes();
    binary.insert(rng.gen_range(0..binary.len()), 0);
    let got = stdin(binary, max + 1);
    assert!(got.findings.is_empty(), "seed {seed}");
    assert_eq!(got.skipped.len(), 1, "seed {seed}");
    assert_eq!(
        (got.skipped[0].path.as_str(), got.skipped[0].reason),
        ("-", SkipReason::Binary)
    );

    let got = stdin(text.clone().into_bytes(), max - 1);
    assert!(got.findings.is_empty(), "seed {seed}");
    assert_eq!(got.skipped[0].reason, SkipReason::TooLarge, "seed {seed}");
    assert_eq!((got.files, got.bytes), (0, 0), "seed {seed}");

    // At exactly the limit it is scanned.
    let got = stdin(text.clone().into_bytes(), max);
    assert!(got.skipped.is_empty(), "seed {seed}");
    assert_eq!(got.findings.len(), 1, "seed {seed}");
    assert_eq!((got.mode, got.files, got.bytes), ("stdin", 1, max));

    // The work tree names each skipped file.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bin = text.clone().into_bytes();
    bin.insert(0, 0);
    std::fs::write(dir.path().join("blob.bin"), bin).expect("write");
    std::fs::write(dir.path().join("big.txt"), text.repeat(2)).expect("write");
    std::fs::write(dir.path().join("ok.txt"), &text).expect("write");
    let walk = WalkOptions {
        roots: vec![dir.path().to_path_buf()],
        respect_ignore: true,
        // The binary file is one byte longer than the text.
        max_file_size: max + 1,
        threads: 1,
        archive_depth: 0,
    };
    let got = source::scan(walk, &s).expect("walk");
    let skips: Vec<(String, SkipReason)> = got
        .skipped
        .iter()
        .map(|k| {
            let name = std::path::Path::new(&k.path).file_name().unwrap();
            (name.to_string_lossy().into_owned(), k.reason)
        })
        .collect();
    assert_eq!(
        skips,
        [
            ("big.txt".to_string(), SkipReason::TooLarge),
            ("blob.bin".to_string(), SkipReason::Binary)
        ],
        "seed {seed}"
    );
    assert_eq!(got.findings.len(), 1, "seed {seed}");
    assert!(got.findings[0].path.ends_with("ok.txt"), "seed {seed}");
}

#[test]
fn a_blob_over_the_cap_is_cut_and_recorded() {
    let (seed, mut rng) = rng();
    let s = scanner(2);
    let keys: Vec<String> = (0..3).map(|_| stripe_key(&mut rng)).collect();
    let text: String = keys.iter().map(|k| format!("k = {k}\n")).collect();
    let sink = Collector::default();
    let found = s.scan_counted(
        &Blob::file(text.as_bytes(), "many.env"),
        &mut Scratch::default(),
        &sink,
        || "many.env".into(),
    );
    assert_eq!(found.len(), 2, "seed {seed}");
    let (_, skipped, _, files, _) = sink.finish();
    assert_eq!(files, 1, "seed {seed}");
    assert_eq!(skipped.len(), 1, "seed {seed}");
    assert_eq!(
        (skipped[0].path.as_str(), skipped[0].reason),
        ("many.env", SkipReason::TooManyFindings)
    );
}

/// Matches the source's filter rejects, and matches allowed inline, are judged before the
/// cap counts: they cannot use it up and hide a finding that is reported.
#[test]
fn judged_before_the_cap() {
    let (seed, mut rng) = rng();
    let s = scanner(1);
    let (old, allowed, new) = (
        stripe_key(&mut rng),
        stripe_key(&mut rng),
        stripe_key(&mut rng),
    );
    let text = format!("a = {old}\nb = {allowed} # leaksweep:allow\nc = {new}\n");
    let blob = Blob::file(text.as_bytes(), "app.env");
    let mut scratch = Scratch::default();

    let found = s.scan_blob_keep(&blob, &mut scratch, &|c| c.line != 1);
    assert_eq!(found.len(), 1, "seed {seed}");
    assert_eq!(found[0].secret.expose(), new.as_bytes(), "seed {seed}");
    assert_eq!(found[0].line, 3, "seed {seed}");
    assert!(
        !scratch.take_truncated(),
        "seed {seed}: cut short by filtered matches"
    );
    assert_eq!(
        s.suppressed_inline.load(Ordering::Relaxed),
        1,
        "seed {seed}"
    );

    // Keeping everything, the cap of one is reached by the first line's key.
    let found = s.scan_blob(&blob, &mut scratch);
    assert_eq!(found.len(), 1, "seed {seed}");
    assert_eq!(found[0].secret.expose(), old.as_bytes(), "seed {seed}");
    assert!(scratch.take_truncated(), "seed {seed}");
}
