//! Secret hygiene audit: plant random secrets of every mission kind in file contents and in every
//! field the repository supplies (commit summaries, author names and emails, paths, branch and
//! tag names, tag messages, JWT claims, error messages), then run every output format at every
//! log level (`-q`, default, `-v`, `-vv`), report files, baselines, `rewrite plan`, `rules` and
//! the rotation checklist, and grep all of stdout, stderr and the files written for the raw
//! secrets. Only `--show-secrets` output and the 0600 files of DESIGN.md (scan `-o` with
//! `--show-secrets`, rotate's new-values file, the rewrite replacements file) may hold them. A
//! positive control proves the grep can fail.
//!
//! The grep looks for any 10-character window of each secret, not just the whole value, so a
//! preview that shows half a secret fails too. Redaction keeps at most 4 characters. The same
//! outputs must hold no raw ESC byte from the planted ESC-bearing path, author and summary.
//! NOTE: the progress display is drawn only on a terminal and is not covered here.

use crate::common::{b64url_from, hex_from, leaksweep, password_from, seeded_rng, Fixture, Repo};
use rand::Rng;
use std::path::Path;

/// Every `--format` value of `scan` and `git` (report::Format).
const FORMATS: &[&str] = &[
    "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
];

/// Every log level.
const LEVELS: &[Option<&str>] = &[Some("-q"), None, Some("-v"), Some("-vv")];

/// A GitHub classic token with a valid CRC32 checksum (so the validator accepts it).
fn github_token(rng: &mut impl Rng) -> String {
    use leaksweep::matcher::validate::{base62, crc32};
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = crate::common::draw(rng, B62, 30);
    let check = base62(crc32(random.as_bytes()) as u64, 6);
    format!("ghp_{random}{check}")
}

/// An HS256 JWT with `claims`, signed with random bytes.
fn jwt(claims: &str, rng: &mut impl Rng) -> String {
    use base64::Engine;
    let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        e(r#"{"alg":"HS256","typ":"JWT"}"#),
        e(claims),
        b64url_from(rng, 32)
    )
}

/// One random value of each kind.
struct Values {
    jwt: String,
    nextauth: String,
    key: String,
    pw: String,
    gh: String,
}

impl Values {
    fn draw(rng: &mut impl Rng) -> Self {
        use base64::Engine;
        let raw: Vec<u8> = (0..32).map(|_| rng.gen()).collect();
        Values {
            jwt: b64url_from(rng, 32),
            nextauth: base64::engine::general_purpose::STANDARD.encode(raw),
            key: hex_from(rng, 32),
            pw: password_from(rng, 24),
            gh: github_token(rng),
        }
    }
    fn list(&self) -> Vec<(&'static str, String)> {
        vec![
            ("jwt-secret", self.jwt.clone()),
            ("nextauth", self.nextauth.clone()),
            ("encryption-key", self.key.clone()),
            ("db-password", self.pw.clone()),
            ("github-token", self.gh.clone()),
        ]
    }
}

/// A path, an author name and a commit summary that would drive a terminal if printed raw.
const ESC_PATH: &str = "ops/\x1b]0;pwned\x07\x1b[2J.env";
const ESC_AUTHOR: &str = "Eve \x1b[31mred\x1b[0m";
const ESC_SUMMARY: &str = "fix \x1b]0;owned\x07\x1b[1A\x1b[2K";

struct Planted {
    fx: Fixture,
    /// (kind, raw secret)
    secrets: Vec<(&'static str, String)>,
}

/// A working tree: every kind in `.env`-style files, one in a path, one in a JWT claim, one
/// under a path holding ESC sequences.
fn plant() -> Planted {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let v = Values::draw(&mut rng);
    fx.write(
        "app/.env",
        format!(
            "JWT_SECRET={}\nNEXTAUTH_SECRET={}\nENCRYPTION_KEY={}\n\
             DATABASE_PASSWORD={}\n\
             DATABASE_URL=postgresql://app:{}@db.prod.internal:5432/app\n",
            v.jwt, v.nextauth, v.key, v.pw, v.pw
        ),
    );
    fx.write("ci/deploy.sh", format!("export GITHUB_TOKEN={}\n", v.gh));
    // A path that holds a secret, a claim that holds one, a path with ESC sequences.
    fx.write(
        &format!("keys/{}.env", v.key),
        format!("ENCRYPTION_KEY={}\n", v.key),
    );
    let token = jwt(&format!(r#"{{"sub":"{}","role":"admin"}}"#, v.pw), &mut rng);
    fx.write("auth/token.txt", format!("token: {token}\n"));
    fx.write(ESC_PATH, format!("JWT_SECRET={}\n", v.jwt));
    Planted {
        fx,
        secrets: v.list(),
    }
}

/// A repository whose history holds every kind in files and in the text git records about
/// them: a commit summary, an author name and email, a path, a branch name, a tag name and a tag
/// message, a JWT claim; and an ESC-bearing path, author and summary. Returns the fixture (the
/// repository is `repo` in it).
fn plant_history() -> Planted {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let v = Values::draw(&mut rng);
    let repo = Repo::init(&fx, "repo");

    repo.write("app/.env", format!("JWT_SECRET={}\n", v.jwt));
    repo.commit(&format!("set JWT_SECRET={} for staging", v.jwt));

    repo.write("db/.env", format!("DATABASE_PASSWORD={}\n", v.pw));
    let token = jwt(&format!(r#"{{"sub":"{}","role":"admin"}}"#, v.pw), &mut rng);
    repo.write("auth/token.txt", format!("token: {token}\n"));
    let email = format!("{}@example.invalid", v.pw);
    repo.commit_by(&format!("deploy {}", v.pw), Some(&email), "database");

    repo.write(
        &format!("keys/{}.env", v.key),
        format!("ENCRYPTION_KEY={}\n", v.key),
    );
    repo.write("ci/deploy.sh", format!("export GITHUB_TOKEN={}\n", v.gh));
    repo.commit("keys");
    repo.git(&["branch", &format!("feature/{}", v.key)]);

    repo.write(ESC_PATH, format!("JWT_SECRET={}\n", v.jwt));
    repo.commit_by(ESC_AUTHOR, Some("eve@example.invalid"), ESC_SUMMARY);

    repo.tag_annotated(
        &format!("rel-{}", v.gh),
        &format!("NEXTAUTH_SECRET={}", v.nextauth),
    );
    let log = repo.git(&["log", "--format=%an %s"]);
    assert!(log.contains('\x1b'), "git kept the ESC bytes: {log:?}");
    Planted {
        fx,
        secrets: v.list(),
    }
}

/// Fails if any 10-character window of any secret, or a raw ESC byte, occurs in `text`.
fn assert_clean(what: &str, text: &str, secrets: &[(&str, String)]) {
    for (kind, s) in secrets {
        let bytes = s.as_bytes();
        for w in bytes.windows(10) {
            let w = std::str::from_utf8(w).expect("secrets are ASCII");
            assert!(
                !text.contains(w),
                "{what}: part of the planted {kind} secret ({w:?}) appears in the output:\n{text}"
            );
        }
    }
    assert!(
        !text.contains('\x1b'),
        "{what}: a raw ESC byte appears in the output:\n{text:?}"
    );
}

/// Runs the binary in `dir`; returns (exit code, stdout + stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = leaksweep(dir).args(args).output().expect("run leaksweep");
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str("\n--- stderr ---\n");
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), all)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

/// The JSON report finds every planted secret, in the tree and in history: otherwise the audit
/// below proves nothing. The claim, the path and the history's messages are where they should
/// be, so the greps below look at them.
#[test]
fn every_planted_secret_is_found() {
    let p = plant();
    let (code, out) = run(
        p.fx.path(),
        &["scan", "--no-ignore", "-f", "json", "--show-secrets", "."],
    );
    assert_eq!(code, 1, "{out}");
    for (kind, s) in &p.secrets {
        assert!(out.contains(s.as_str()), "{kind} not found:\n{out}");
    }
    let h = plant_history();
    let (code, out) = run(
        h.fx.path(),
        &["git", "-f", "json", "--show-secrets", "repo"],
    );
    assert_eq!(code, 1, "{out}");
    for (kind, s) in &h.secrets {
        assert!(
            out.contains(s.as_str()),
            "history: {kind} not found:\n{out}"
        );
    }
    for field in [
        "<commit message>",
        "<tag message>",
        "set JWT_SECRET=",
        "deploy ",
        "\"sub\"",
        "keys/",
    ] {
        assert!(
            out.contains(field),
            "history report lacks {field:?}:\n{out}"
        );
    }
}

#[test]
fn scan_output_never_holds_a_raw_secret() {
    let p = plant();
    let dir = p.fx.path();
    // A missing path named after a planted secret: the error message names it.
    let missing = format!("no/such/{}", p.secrets[0].1);
    for format in FORMATS {
        for level in LEVELS {
            for with_error in [false, true] {
                let mut args = vec!["scan", "--no-ignore", "-f", format];
                args.extend(level);
                args.push(".");
                if with_error {
                    args.push(&missing);
                }
                let (code, out) = run(dir, &args);
                let what = format!("scan {args:?}");
                assert_eq!(code, if with_error { 2 } else { 1 }, "{what}:\n{out}");
                assert_clean(&what, &out, &p.secrets);
            }
        }
        // Standard input, and a report file (summary on stderr, report on disk, mode 0600).
        let env = std::fs::read(dir.join("app/.env")).expect("read fixture");
        let out = leaksweep(dir)
            .args(["scan", "-f", format, "-vv", "-"])
            .write_stdin(env)
            .output()
            .expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert_clean(&format!("scan -f {format} -"), &text, &p.secrets);

        let report = dir.join(format!("report.{format}"));
        let report_arg = report.to_string_lossy().into_owned();
        let (code, out) = run(
            dir,
            &["scan", "--no-ignore", "-f", format, "-o", &report_arg, "."],
        );
        assert_eq!(code, 1, "{out}");
        assert_clean(&format!("scan -f {format} -o (stdio)"), &out, &p.secrets);
        let file = std::fs::read_to_string(&report).expect("report written");
        assert_clean(&format!("scan -f {format} -o (file)"), &file, &p.secrets);
        #[cfg(unix)]
        assert_eq!(mode(&report), 0o600, "{format} report");
        std::fs::remove_file(&report).expect("rm report");
    }
    // Asked for, a shared report.
    let (code, out) = run(
        dir,
        &[
            "scan",
            "--no-ignore",
            "--report-mode",
            "644",
            "-f",
            "sarif",
            "-o",
            "shared.sarif",
            ".",
        ],
    );
    assert_eq!(code, 1, "{out}");
    #[cfg(unix)]
    assert_eq!(mode(&dir.join("shared.sarif")), 0o644, "--report-mode 644");
    std::fs::remove_file(dir.join("shared.sarif")).expect("rm report");
}

#[test]
fn git_output_never_holds_a_raw_secret() {
    let p = plant_history();
    let dir = p.fx.path();
    for format in FORMATS {
        for level in LEVELS {
            for extra in [None, Some("--all-locations")] {
                let mut args = vec!["git", "-f", format];
                args.extend(level);
                args.extend(extra);
                args.push("repo");
                let (code, out) = run(dir, &args);
                let what = format!("{args:?}");
                assert_eq!(code, 1, "{what}:\n{out}");
                assert_clean(&what, &out, &p.secrets);
            }
        }
        let report = dir.join(format!("history.{format}"));
        let report_arg = report.to_string_lossy().into_owned();
        let (code, out) = run(dir, &["git", "-f", format, "-o", &report_arg, "repo"]);
        assert_eq!(code, 1, "{out}");
        assert_clean(&format!("git -f {format} -o (stdio)"), &out, &p.secrets);
        let file = std::fs::read_to_string(&report).expect("report written");
        assert_clean(&format!("git -f {format} -o (file)"), &file, &p.secrets);
        #[cfg(unix)]
        assert_eq!(mode(&report), 0o600, "{format} report");
    }
    // A range scan, and the staged changes.
    let (code, out) = run(dir, &["git", "-v", "--range", "HEAD~2..HEAD", "repo"]);
    assert_eq!(code, 1, "{out}");
    assert_clean("git --range", &out, &p.secrets);
}

#[test]
fn baselines_hold_no_raw_secret_and_are_private() {
    let w = plant();
    let h = plant_history();
    for (p, args) in [
        (
            &w,
            vec![
                "baseline",
                "create",
                "--no-ignore",
                "-v",
                "-o",
                "b.json",
                ".",
            ],
        ),
        (&h, vec!["baseline", "git", "-v", "-o", "b.json", "repo"]),
    ] {
        let dir = p.fx.path();
        let (code, out) = run(dir, &args);
        assert_eq!(code, 0, "{args:?}:\n{out}");
        assert_clean(&format!("{args:?} (stdio)"), &out, &p.secrets);
        let file = std::fs::read_to_string(dir.join("b.json")).expect("baseline written");
        assert_clean(&format!("{args:?} (file)"), &file, &p.secrets);
        #[cfg(unix)]
        assert_eq!(mode(&dir.join("b.json")), 0o600, "{args:?}");
        // Stale entries are named with -v.
        let (_, out) = run(dir, &["scan", "-v", "--baseline", "b.json", "ci"]);
        assert_clean("scan -v --baseline", &out, &p.secrets);
    }
}

#[test]
fn rewrite_plan_holds_no_raw_secret() {
    let p = plant_history();
    let dir = p.fx.path();
    for format in ["text", "json", "markdown"] {
        let replacements = dir.join(format!("replacements-{format}.txt"));
        let r = replacements.to_string_lossy().into_owned();
        let (code, out) = run(
            dir,
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
        assert_eq!(code, 0, "{what}:\n{out}");
        assert_clean(&what, &out, &p.secrets);
        assert!(out.contains("feature/"), "{what}: names the branch:\n{out}");
        // The replacements file is the one place that holds them (0600).
        let file = std::fs::read_to_string(&replacements).expect("replacements file");
        assert!(file.contains(&p.secrets[0].1), "{what}: replacements file");
        #[cfg(unix)]
        assert_eq!(mode(&replacements), 0o600, "replacements file");
    }
}

#[test]
fn rules_and_usage_errors_hold_no_secret() {
    let p = plant();
    let dir = p.fx.path();
    for args in [
        vec!["rules", "list"],
        vec!["rules", "show", "jwt-secret"],
        // Bad options next to a real tree: the error message must not echo file contents.
        vec!["scan", "--max-file-size", "lots", "."],
        vec!["scan", "--rules", "app/.env", "."],
        vec!["rotate", "--from-report", "app/.env"],
        vec!["scan", "--baseline", "app/.env", "."],
        vec!["scan", "--config", "app/.env", "."],
    ] {
        let (_, out) = run(dir, &args);
        assert_clean(&format!("{args:?}"), &out, &p.secrets);
    }
}

#[test]
fn rotate_checklists_hold_no_old_or_new_secret() {
    let p = plant();
    let dir = p.fx.path();
    for format in ["text", "json", "markdown"] {
        let (code, out) = run(dir, &["rotate", "-f", format, "--force", "."]);
        assert_eq!(code, 0, "rotate -f {format}:\n{out}");
        assert_clean(&format!("rotate -f {format}"), &out, &p.secrets);
        assert!(
            !out.contains('\u{1b}'),
            "rotate -f {format}: a raw ESC from a path:\n{out:?}"
        );
        // The new values are secrets too: they live in the 0600 file only.
        let rotated = dir.join(".env.rotated");
        #[cfg(unix)]
        assert_eq!(mode(&rotated), 0o600, "new-values file");
        let file = std::fs::read_to_string(&rotated).expect("new-values file");
        let new: Vec<(&str, String)> = file
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(_, v)| ("new value", v.trim_matches(['\'', '"']).to_string()))
            .filter(|(_, v)| v.len() >= 16)
            .collect();
        assert!(new.len() >= 4, "new values: {file}");
        assert_clean(&format!("rotate -f {format} (new values)"), &out, &new);
    }
}

/// The positive control: `--show-secrets` does print them (so `assert_clean` can fail), and a
/// report written with it is created 0600 even when `--report-mode` asks otherwise.
#[test]
fn show_secrets_prints_them_and_files_are_private() {
    let p = plant();
    let dir = p.fx.path();
    for format in ["text", "json"] {
        let (code, out) = run(
            dir,
            &["scan", "--no-ignore", "-f", format, "--show-secrets", "."],
        );
        assert_eq!(code, 1, "{out}");
        for (kind, s) in &p.secrets {
            assert!(out.contains(s.as_str()), "{format}: {kind} not shown");
        }
        let result = std::panic::catch_unwind(|| assert_clean("control", &out, &p.secrets));
        assert!(result.is_err(), "the audit grep must catch shown secrets");
    }
    // The ESC grep can fail too.
    let result = std::panic::catch_unwind(|| assert_clean("control", ESC_SUMMARY, &[]));
    assert!(result.is_err(), "the audit grep must catch a raw ESC");
    let report = dir.join("secrets.json");
    let (code, out) = run(
        dir,
        &[
            "scan",
            "--no-ignore",
            "-f",
            "json",
            "--show-secrets",
            "--report-mode",
            "644",
            "-o",
            "secrets.json",
            ".",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_clean("scan --show-secrets -o (stdio)", &out, &p.secrets);
    #[cfg(unix)]
    assert_eq!(mode(&report), 0o600, "report with secrets");
    std::fs::remove_file(dir.join(ESC_PATH)).expect("rm");
    let (code, out) = run(
        dir,
        &[
            "rotate",
            "-f",
            "text",
            "--show-secrets",
            "--out",
            "new.env",
            ".",
        ],
    );
    assert_eq!(code, 0, "{out}");
    // rotate --show-secrets prints the new values (the old ones are what the scan found).
    let file = std::fs::read_to_string(dir.join("new.env")).expect("new values");
    let new_value = file
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.trim_matches(['\'', '"']))
        .find(|v| v.len() >= 16)
        .expect("a new value");
    assert!(out.contains(new_value), "rotate --show-secrets:\n{out}");
    #[cfg(unix)]
    assert_eq!(mode(&dir.join("new.env")), 0o600, "rotate --out");
}
