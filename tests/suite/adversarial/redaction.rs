//! Redaction and sanitising: no raw secret and no raw control character from repository text in
//! any output format, message or report file.
use crate::common::*;
use base64::Engine;
use std::path::Path;

/// Every `--format` value of `scan` and `git`.
const FORMATS: &[&str] = &[
    "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
];

/// Runs the binary; returns (exit code, stdout + stderr as bytes).
fn run_bytes(dir: &Path, args: &[&str]) -> (i32, Vec<u8>) {
    let out = leaksweep(dir).args(args).output().expect("run leaksweep");
    let mut all = out.stdout;
    all.extend_from_slice(b"\n--- stderr ---\n");
    all.extend_from_slice(&out.stderr);
    (out.status.code().unwrap_or(-1), all)
}

/// Fails if any 10-character window of any secret occurs in `out`.
fn assert_no_window(what: &str, out: &[u8], secrets: &[(&str, String)]) {
    let text = String::from_utf8_lossy(out);
    for (kind, s) in secrets {
        for w in s.as_bytes().windows(10) {
            let w = std::str::from_utf8(w).expect("secrets are ASCII");
            assert!(
                !text.contains(w),
                "{what}: part of {kind} ({w:?}) appears in the output:\n{text}"
            );
        }
    }
}

/// Every report format at the default, `-v` and `-q` levels, for the command `base`.
fn every_output(dir: &Path, base: &[&str], expect: i32) -> Vec<(String, Vec<u8>)> {
    let mut outs = Vec::new();
    for format in FORMATS {
        for level in [None, Some("-v"), Some("-vv"), Some("-q")] {
            let mut args: Vec<&str> = base.to_vec();
            args.extend(["-f", format]);
            args.extend(level);
            let (code, out) = run_bytes(dir, &args);
            let what = format!("{args:?}");
            assert_eq!(code, expect, "{what}:\n{}", String::from_utf8_lossy(&out));
            outs.push((what, out));
        }
    }
    outs
}

/// The secrets are found (the JSON report with `--show-secrets` holds each): otherwise the
/// greps below prove nothing.
fn assert_found(dir: &Path, base: &[&str], secrets: &[(&str, String)]) {
    let mut args = base.to_vec();
    args.extend(["-f", "json", "--show-secrets"]);
    let (_, out) = run_bytes(dir, &args);
    let text = String::from_utf8_lossy(&out);
    for (kind, s) in secrets {
        assert!(text.contains(s.as_str()), "{kind} not found:\n{text}");
    }
}

fn jwt(claims: &str, rng: &mut impl rand::Rng) -> String {
    let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        e(r#"{"alg":"HS256","typ":"JWT"}"#),
        e(claims),
        b64url_from(rng, 32)
    )
}

/// Two secrets on one line: each finding's preview masks the other secret too, in every format;
/// so do a credentialed URL holding its password twice and a line whose second value is found
/// only by decoding it.
#[test]
fn every_secret_on_a_line_is_masked_in_every_preview() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = b64url_from(&mut rng, 32);
    let b = password_from(&mut rng, 24);
    let pw = password_from(&mut rng, 20);
    let d = hex_from(&mut rng, 32);
    let e = password_from(&mut rng, 22);
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("DB_PASSWORD={e}\n"));
    fx.write(
        "config.json",
        format!("{{\"jwt_secret\":\"{a}\",\"db_password\":\"{b}\"}}\n"),
    );
    fx.write(
        "db.env",
        format!("DATABASE_URL=postgres://app:{pw}@db.internal:5432/app?password={pw}\n"),
    );
    fx.write(
        "deploy.env",
        format!("ENCRYPTION_KEY={d} BACKUP_ENV={encoded}\n"),
    );
    let secrets = vec![
        ("jwt secret", a),
        ("db password", b),
        ("url password", pw),
        ("encryption key", d),
        ("decoded password", e),
    ];
    let base = ["scan", "--no-ignore", "."];
    assert_found(fx.path(), &base, &secrets);
    let mut grep = secrets.clone();
    // The encoded value is what the blob holds at the decoded finding's span.
    grep.push(("encoded value", encoded));
    for (what, out) in every_output(fx.path(), &base, 1) {
        assert_no_window(&what, &out, &grep);
    }
}

/// A history with secrets in a commit message, an author name, a path, a tag name, a tag
/// message and a JWT claim: every format and level of `git`, and `rewrite plan` in every format,
/// mask them all.
#[test]
fn repository_text_is_redacted_in_every_format_and_message() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let repo = Repo::init(&fx, "repo");
    let jwt_secret = b64url_from(&mut rng, 32);
    let db = password_from(&mut rng, 24);
    let key = hex_from(&mut rng, 32);
    let nextauth = b64url_from(&mut rng, 32);
    let token = jwt(&format!(r#"{{"sub":"{db}","role":"admin"}}"#), &mut rng);

    repo.write("app.env", format!("JWT_SECRET={jwt_secret}\n"));
    repo.commit(&format!("set JWT_SECRET={jwt_secret} for staging"));

    repo.write("db.env", format!("DATABASE_PASSWORD={db}\n"));
    repo.write("auth.txt", format!("token: {token}\n"));
    repo.commit_by(&format!("deploy {db}"), None, "database");

    repo.write(
        &format!("keys/{key}.env"),
        format!("ENCRYPTION_KEY={key}\n"),
    );
    repo.commit("keys");
    repo.tag_annotated(
        &format!("rel-{key}"),
        &format!("NEXTAUTH_SECRET={nextauth}"),
    );

    let secrets = vec![
        ("jwt secret", jwt_secret),
        ("db password", db),
        ("encryption key", key),
        ("nextauth secret", nextauth),
    ];
    let base = ["git", "repo"];
    assert_found(fx.path(), &base, &secrets);
    for (what, out) in every_output(fx.path(), &base, 1) {
        assert_no_window(&what, &out, &secrets);
    }
    for format in ["text", "json", "markdown"] {
        let replacements = fx.path().join(format!("replacements-{format}.txt"));
        let r = replacements.to_string_lossy().into_owned();
        let (code, out) = run_bytes(
            fx.path(),
            &[
                "rewrite",
                "plan",
                "repo",
                "-f",
                format,
                "--replacements-out",
                &r,
            ],
        );
        let what = format!("rewrite plan -f {format}");
        assert_eq!(code, 0, "{what}:\n{}", String::from_utf8_lossy(&out));
        assert_no_window(&what, &out, &secrets);
    }
}

const ESC: u8 = 0x1b;

/// Fails if `out` holds a raw control character from the planted text (ESC, BEL, CR or the
/// right-to-left override), or a GitHub workflow command that the tool did not write.
fn assert_no_control(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(
        !out.contains(&ESC) && !out.contains(&0x07) && !out.contains(&b'\r'),
        "{what}: raw control character in the output:\n{text:?}"
    );
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{9b}'),
        "{what}: raw bidi override or C1 control in the output:\n{text:?}"
    );
    for line in text.lines() {
        assert!(
            !line.starts_with("::error file=forged"),
            "{what}: forged annotation line {line:?}:\n{text}"
        );
    }
}

/// Paths, author names, commit summaries and JWT claims holding ESC sequences, CR, a newline
/// followed by a workflow command, C1 controls and a bidi override: every format and level of
/// `scan` and `git` shows them escaped, on stdout and stderr.
#[test]
fn control_characters_from_the_repository_are_escaped_everywhere() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let repo = Repo::init(&fx, "repo");
    let evil_title = "evil\x1b]0;pwned\x07\u{202e}vne.env";
    let forged = "x\n::error file=forged::forged\r.env";
    let token = jwt(
        "{\"sub\":\"\\u001b[2J\\u001b[1;1Hok\",\"role\":\"\\u202eadmin\\u009b\"}",
        &mut rng,
    );
    repo.write(
        evil_title,
        format!("JWT_SECRET={}\n", b64url_from(&mut rng, 32)),
    );
    repo.write(
        forged,
        format!("DATABASE_PASSWORD={}\n", password_from(&mut rng, 24)),
    );
    repo.write("auth.txt", format!("token: {token}\n"));
    // Skipped (binary) with a name that clears the screen: named by `-v`.
    repo.write("bin\x1b[2J.dat", b"\0\x1b[2J\0");
    repo.commit_by(
        "Eve\x1b[31m\u{9b}2J",
        None,
        "fix\x1b]0;owned\x07 \u{202e}txt.exe\x1b[2J",
    );
    let log = repo.git(&["log", "--format=%an %s"]);
    assert!(log.as_bytes().contains(&ESC), "git kept the ESC: {log:?}");

    for (base, expect) in [
        (vec!["git", "repo"], 1),
        (vec!["scan", "--no-ignore", "repo"], 1),
    ] {
        for (what, out) in every_output(fx.path(), &base, expect) {
            assert_no_control(&what, &out);
            let text = String::from_utf8_lossy(&out);
            assert!(text.contains("\\x1b"), "{what}: escaped ESC shown:\n{text}");
        }
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

/// Report files (`-o`, every format) and baselines are created 0600, also over an existing 0644
/// file; `--report-mode 644` asks for a shared file.
#[cfg(unix)]
#[test]
fn report_files_are_private_unless_asked() {
    use std::os::unix::fs::PermissionsExt;
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "app/.env",
        format!("JWT_SECRET={}\n", b64url_from(&mut rng, 32)),
    );
    for format in FORMATS {
        let report = fx.path().join(format!("report.{format}"));
        std::fs::write(&report, "old").expect("write");
        std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let r = report.to_string_lossy().into_owned();
        let (code, out) = run_bytes(fx.path(), &["scan", "-f", format, "-o", &r, "app"]);
        assert_eq!(code, 1, "{}", String::from_utf8_lossy(&out));
        assert_eq!(mode(&report), 0o600, "{format} report");
    }
    let (code, out) = run_bytes(
        fx.path(),
        &["baseline", "create", "-o", "baseline.json", "app"],
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert_eq!(mode(&fx.path().join("baseline.json")), 0o600, "baseline");

    let (code, out) = run_bytes(
        fx.path(),
        &[
            "scan",
            "-f",
            "sarif",
            "--report-mode",
            "644",
            "-o",
            "shared.sarif",
            "app",
        ],
    );
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&out));
    assert_eq!(
        mode(&fx.path().join("shared.sarif")),
        0o644,
        "--report-mode"
    );
    // With the raw secrets in it, the file stays private whatever the mode asked.
    let (code, out) = run_bytes(
        fx.path(),
        &[
            "scan",
            "-f",
            "json",
            "--show-secrets",
            "--report-mode",
            "644",
            "-o",
            "raw.json",
            "app",
        ],
    );
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&out));
    assert_eq!(
        mode(&fx.path().join("raw.json")),
        0o600,
        "--show-secrets report"
    );
    assert_input_error(
        fx.path(),
        &["scan", "--report-mode", "999", "-o", "x.json", "app"],
        "--report-mode",
    );
}

/// An error that ends the run names a path or a ref: its control characters are escaped, and
/// each of its lines starts with `leaksweep: `, so none can pose as a workflow command.
#[test]
fn fatal_error_messages_escape_repository_text() {
    let fx = Fixture::new();
    fx.write("a.txt", "nothing here\n");
    let name = "base\x1b]0;pwned\x07\n::error file=forged::forged.json";
    fx.write(name, "{ not json");
    for args in [
        vec!["scan", "--baseline", name, "."],
        vec!["git", name],
        vec!["scan", "--config", name, "."],
    ] {
        let (code, out) = run_bytes(fx.path(), &args);
        let what = format!("{args:?}");
        assert_eq!(code, 2, "{what}: {}", String::from_utf8_lossy(&out));
        assert_no_control(&what, &out);
        assert!(
            String::from_utf8_lossy(&out).contains("base\\x1b]0;pwned\\x07"),
            "{what}: the name is shown escaped: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// A preview is cut to its width: a secret that the cut splits shows no part of itself (the cut
/// moves to a token boundary), so the run-wide redactor, which masks whole values, misses
/// nothing.
#[test]
fn a_preview_cut_never_shows_part_of_a_secret() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = b64url_from(&mut rng, 32);
    let b = b64url_from(&mut rng, 48);
    let c = b64url_from(&mut rng, 48);
    // `b` and `c` on the line are not matched there (no keyword), but elsewhere in the run.
    fx.write(
        "app.env",
        format!("old value {c} was JWT_SECRET={a} see {b} for the other\n"),
    );
    fx.write(
        "other.env",
        format!("NEXTAUTH_SECRET={b}\nSESSION_SECRET={c}\n"),
    );
    let secrets = vec![
        ("jwt secret", a),
        ("nearby secret", b),
        ("earlier secret", c),
    ];
    let base = ["scan", "--no-ignore", "."];
    assert_found(fx.path(), &base, &secrets);
    for format in ["text", "json"] {
        let (_, out) = run_bytes(fx.path(), &[base[0], base[1], base[2], "-f", format]);
        assert_no_window(format, &out, &secrets);
    }
}

/// `rewrite apply` names the refs it moves and `rewrite verify` the paths it compares: a branch
/// and a path named after a secret show it masked, in text and JSON.
#[test]
fn rewrite_apply_and_verify_mask_ref_names_and_paths() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let src = Repo::init(&fx, "src");
    let key = hex_from(&mut rng, 32);
    src.write(
        &format!("keys/{key}.env"),
        format!("ENCRYPTION_KEY={key}\n"),
    );
    src.write("README", "hello\n");
    src.commit("keys");
    src.git(&["branch", &format!("feature/{key}")]);
    let secrets = vec![("encryption key", key)];
    for format in ["text", "json"] {
        let clone = fresh_clone(&fx, src.path(), &format!("clone-{format}"));
        let c = clone.to_string_lossy().into_owned();
        let (code, out) = run_bytes(fx.path(), &["rewrite", "apply", &c, "-f", format]);
        let what = format!("rewrite apply -f {format}");
        assert_eq!(code, 0, "{what}:\n{}", String::from_utf8_lossy(&out));
        assert!(
            String::from_utf8_lossy(&out).contains("feature/"),
            "{what}: names the branch:\n{}",
            String::from_utf8_lossy(&out)
        );
        assert_no_window(&what, &out, &secrets);
        // The value is still in a branch name and a path, which a content rewrite keeps: verify
        // fails on them, and says so without showing the value.
        let (code, out) = run_bytes(fx.path(), &["rewrite", "verify", &c]);
        let what = format!("rewrite verify ({format} clone)");
        assert_eq!(code, 1, "{what}:\n{}", String::from_utf8_lossy(&out));
        assert!(
            String::from_utf8_lossy(&out).contains("FAIL file packed-refs still holds secret"),
            "{what}:\n{}",
            String::from_utf8_lossy(&out)
        );
        assert_no_window(&what, &out, &secrets);
    }
}
