//! Secret hygiene audit (issue 8): plant one random secret of every mission kind, run every
//! output format at every log level, with an error condition present, plus `rules list` and the
//! rotation checklist in every format, and grep all of stdout and stderr for the raw secrets.
//! Only `--show-secrets` output and the 0600 files of DESIGN.md (scan `-o` with `--show-secrets`,
//! rotate's new-values file) may hold them. A positive control proves the grep can fail.
//!
//! The grep looks for any 10-character window of each secret, not just the whole value, so a
//! preview that shows half a secret fails too. Redaction keeps at most 4 characters.
//! NOTE: the progress display is drawn only on a terminal and is not covered here.

mod common;

use common::{b64url, hex, leaksweep, password, Fixture};
use std::path::Path;

/// Every `--format` value of `scan` (report::Format).
const FORMATS: &[&str] = &[
    "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
];

/// A GitHub classic token with a valid CRC32 checksum (so the validator accepts it).
fn github_token() -> String {
    use leaksweep::matcher::validate::{base62, crc32};
    use rand::Rng;
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let random: String = (0..30)
        .map(|_| B62[rng.gen_range(0..B62.len())] as char)
        .collect();
    let check = base62(crc32(random.as_bytes()) as u64, 6);
    format!("ghp_{random}{check}")
}

struct Planted {
    fx: Fixture,
    /// (kind, raw secret)
    secrets: Vec<(&'static str, String)>,
}

fn plant() -> Planted {
    use base64::Engine;
    let fx = Fixture::new();
    let jwt = b64url(32);
    let nextauth = base64::engine::general_purpose::STANDARD
        .encode((0..32).map(|_| rand::random::<u8>()).collect::<Vec<u8>>());
    let key = hex(32);
    let pw = password(24);
    let gh = github_token();
    fx.write(
        "app/.env",
        format!(
            "JWT_SECRET={jwt}\nNEXTAUTH_SECRET={nextauth}\nENCRYPTION_KEY={key}\n\
             DATABASE_PASSWORD={pw}\n\
             DATABASE_URL=postgresql://app:{pw}@db.prod.internal:5432/app\n"
        ),
    );
    fx.write("ci/deploy.sh", format!("export GITHUB_TOKEN={gh}\n"));
    Planted {
        fx,
        secrets: vec![
            ("jwt-secret", jwt),
            ("nextauth", nextauth),
            ("encryption-key", key),
            ("db-password", pw),
            ("github-token", gh),
        ],
    }
}

/// Fails if any 10-character window of any secret occurs in `text`.
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

/// The JSON report finds every planted secret: otherwise the audit below proves nothing.
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
}

#[test]
fn scan_output_never_holds_a_raw_secret() {
    let p = plant();
    let dir = p.fx.path();
    for format in FORMATS {
        for verbosity in [None, Some("-v"), Some("-vv")] {
            for with_error in [false, true] {
                let mut args = vec!["scan", "--no-ignore", "-f", format];
                args.extend(verbosity);
                args.push(".");
                if with_error {
                    // A path that does not exist, named alongside the real tree.
                    args.push("no/such/dir");
                }
                let (code, out) = run(dir, &args);
                let what = format!("scan {args:?}");
                assert_eq!(code, if with_error { 2 } else { 1 }, "{what}:\n{out}");
                assert_clean(&what, &out, &p.secrets);
            }
        }
        // Standard input, and a report file (summary on stderr, report on disk, mode 0644).
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
            &[
                "scan",
                "--no-ignore",
                "-f",
                format,
                "-o",
                &report_arg,
                "app",
                "ci",
            ],
        );
        assert_eq!(code, 1, "{out}");
        assert_clean(&format!("scan -f {format} -o (stdio)"), &out, &p.secrets);
        let file = std::fs::read_to_string(&report).expect("report written");
        assert_clean(&format!("scan -f {format} -o (file)"), &file, &p.secrets);
        #[cfg(unix)]
        assert_eq!(mode(&report), 0o644, "{format} report without secrets");
        std::fs::remove_file(&report).expect("rm report");
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
/// report written with it is created 0600.
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
    let report = dir.join("secrets.json");
    let (code, out) = run(
        dir,
        &[
            "scan",
            "--no-ignore",
            "-f",
            "json",
            "--show-secrets",
            "-o",
            "secrets.json",
            ".",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_clean("scan --show-secrets -o (stdio)", &out, &p.secrets);
    #[cfg(unix)]
    assert_eq!(mode(&report), 0o600, "report with secrets");
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
