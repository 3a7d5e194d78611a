//! Attack tests: see main.rs. `rotate --example` writes a file meant to be committed, so it must
//! never copy a value it was given; `rotate --apply` edits files in place, so it must say exactly
//! what it changed, keep the file's owner, and fail when it could not make a requested change.

use crate::common::*;
use rand::Rng;

/// A passphrase of four lower-case words: a secret no rule detects by shape.
fn passphrase(rng: &mut impl Rng) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    (0..4)
        .map(|_| {
            let n = rng.gen_range(5..9);
            draw(rng, LETTERS, n)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fails if `text` holds any 8-character window of `value`.
fn assert_absent(what: &str, text: &str, value: &str) {
    let b = value.as_bytes();
    for w in b.windows(8.min(b.len())) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(
            !text.contains(w),
            "{what}: {w:?} (part of {value:?}) was copied:\n{text}"
        );
    }
}

#[test]
fn example_holds_no_value_it_was_given_detected_or_not() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let jwt = b64url_from(&mut rng, 32);
    let smtp = passphrase(&mut rng);
    let old_db = password_from(&mut rng, 20);
    let api = hex_from(&mut rng, 20);
    let yaml_style = password_from(&mut rng, 18);
    fx.write(
        ".env",
        format!(
            "# mail and auth\nJWT_SECRET={jwt}\nSMTP_PASSWORD=\"{smtp}\"\n\
             # DB_PASSWORD={old_db}\nexport\tINTERNAL_API_KEY={api}\nPORT=3000\nEMPTY=\n\
             LEGACY_TOKEN: {yaml_style}\n"
        ),
    );
    let out = leaksweep(fx.path())
        .args(["rotate", "--example", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let ex = std::fs::read_to_string(fx.path().join(".env.example")).unwrap();
    for (what, v) in [
        ("detected JWT secret", &jwt),
        ("undetected passphrase", &smtp),
        ("commented-out password", &old_db),
        ("tab-exported key", &api),
        ("KEY: value line", &yaml_style),
    ] {
        assert_absent(what, &ex, v);
    }
    assert!(!ex.contains("3000"), "every value is a placeholder:\n{ex}");
    // The keys stay, so the example still documents what to set.
    for key in [
        "JWT_SECRET=",
        "SMTP_PASSWORD=",
        "# DB_PASSWORD=",
        "INTERNAL_API_KEY=",
        "PORT=",
        "EMPTY=\n",
        "LEGACY_TOKEN:",
    ] {
        assert!(ex.contains(key), "{key} missing from the example:\n{ex}");
    }
    assert!(ex.starts_with("# mail and auth\n"), "{ex}");
}

#[cfg(unix)]
#[test]
fn apply_keeps_owner_and_group() {
    use std::os::unix::fs::MetadataExt;
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let jwt = b64url_from(&mut rng, 32);
    let env = fx.write(".env", format!("JWT_SECRET={jwt}\n"));
    let me = std::fs::metadata(&env).unwrap();
    // As root, hand the file to another user first: a rename of a root-created temporary file
    // would silently make it root's.
    let (uid, gid) = if me.uid() == 0 {
        std::os::unix::fs::chown(&env, Some(65534), Some(65534)).unwrap();
        (65534, 65534)
    } else {
        (me.uid(), me.gid())
    };
    run_expect(
        leaksweep(fx.path()).args(["rotate", "--apply", ".env", "-q"]),
        0,
    );
    let after = std::fs::metadata(&env).unwrap();
    assert_eq!((after.uid(), after.gid()), (uid, gid));
    assert!(!std::fs::read_to_string(&env).unwrap().contains(&jwt));
}

/// Dialects the editor must understand: a tab after `export`, a UTF-8 byte-order mark before the
/// first key, and `KEY: value`. Each is replaced and reported with its line.
#[test]
fn apply_replaces_every_dialect_and_says_which_lines() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = b64url_from(&mut rng, 32);
    let b = b64url_from(&mut rng, 32);
    let c = b64url_from(&mut rng, 32);
    fx.write(
        ".env",
        format!("\u{feff}JWT_SECRET={a}\nexport\tSESSION_SECRET={b}\nCOOKIE_SECRET: {c}\n"),
    );
    let out = leaksweep(fx.path())
        .args(["rotate", "--apply", ".env"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let after = std::fs::read_to_string(fx.path().join(".env")).unwrap();
    for v in [&a, &b, &c] {
        assert!(!after.contains(v.as_str()), "not replaced:\n{after}");
    }
    assert!(after.starts_with("\u{feff}JWT_SECRET="), "{after}");
    assert!(after.contains("\nexport\tSESSION_SECRET="), "{after}");
    assert!(after.contains("\nCOOKIE_SECRET: "), "{after}");
    assert!(
        stdout.contains("Applied to: .env (3 occurrences of 3 secrets, lines 1, 2, 3)"),
        "{stdout}"
    );
}

/// A file the editor cannot edit (JSON, not dotenv) still holds the old value after `--apply`:
/// that is exit 2 naming the file and line, and the file is left exactly as it was.
#[test]
fn apply_fails_when_a_value_could_not_be_replaced() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = b64url_from(&mut rng, 32);
    let b = b64url_from(&mut rng, 32);
    let json = format!("{{\n  \"jwt_secret\": \"{a}\"\n}}\n");
    fx.write("config.json", &json);
    let out = leaksweep(fx.path())
        .args(["rotate", "--apply", "config.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("config.json: line 2: an old value is not in a KEY=value assignment"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Applied"));
    assert_eq!(
        std::fs::read_to_string(fx.path().join("config.json")).unwrap(),
        json
    );

    // Mixed: one line it can edit, one it cannot. Nothing is half-applied.
    let env = format!("JWT_SECRET={a}\n  {{\"jwt_secret\": \"{b}\"}}\n");
    fx.write(".env", &env);
    std::fs::remove_file(fx.path().join("config.json")).unwrap();
    let out = leaksweep(fx.path())
        .args(["rotate", "--apply", ".env", "--force"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(".env: line 2:"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(fx.path().join(".env")).unwrap(),
        env
    );
}

/// `--apply` on a file that holds none of the values being rotated changes nothing, and says so
/// with exit 2 rather than "applied".
#[test]
fn apply_to_a_file_without_the_secrets_is_an_error() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = b64url_from(&mut rng, 32);
    fx.write(".env", format!("JWT_SECRET={a}\n"));
    fx.write("other.env", "PORT=3000\n");
    let out = leaksweep(fx.path())
        .args(["rotate", ".env", "--apply", "other.env"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("other.env: holds none of the values being rotated"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Applied"));
}

/// A directory name holding an escape sequence: the checklist (text, markdown) and every message
/// show it escaped, never raw, so it cannot retitle the terminal or forge output lines.
#[cfg(unix)]
#[test]
fn checklist_and_messages_escape_control_characters_in_paths() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let jwt = b64url_from(&mut rng, 32);
    let dir = "conf\u{1b}]0;owned\u{7}\u{1b}[2J";
    fx.write(&format!("{dir}/.env"), format!("JWT_SECRET={jwt}\n"));
    for format in ["text", "markdown"] {
        let env = format!("{dir}/.env");
        let out = leaksweep(fx.path())
            .args([
                "rotate", dir, "--force", "--format", format, "--apply", &env,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !bytes.iter().any(|&b| b == 0x1b || b == 0x07),
                "{format} {what} holds a raw control character:\n{text:?}"
            );
            if what == "stdout" {
                assert!(text.contains("conf\\x1b]0;owned"), "{format}: {text}");
            }
        }
    }
}

/// `--backup` keeps the old values in `FILE.bak`: the message names that file, and a warning says
/// when git would commit it (not ignored), since it holds every old secret.
#[test]
fn a_backup_of_old_values_is_named_and_flagged_when_git_would_commit_it() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    Repo::init_in(fx.path());
    fx.write(".gitignore", ".env\n.env.rotated\n");
    let jwt = b64url_from(&mut rng, 32);
    fx.write(".env", format!("JWT_SECRET={jwt}\n"));
    let out = leaksweep(fx.path())
        .args(["rotate", "--apply", ".env", "--backup"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("FILE.bak"), "{stderr}");
    assert!(stderr.contains(".env.bak, mode 0600)"), "{stderr}");
    assert!(
        stderr.contains(".env.bak is not ignored by git"),
        "{stderr}"
    );
    let bak = std::fs::read_to_string(fx.path().join(".env.bak")).unwrap();
    assert!(bak.contains(&jwt));
}
