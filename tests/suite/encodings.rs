//! UTF-16 text and archives wherever the scanner reads (work tree, stdin, the index, history),
//! and the rewrite and its verification on both: exact findings, lines and exit codes.

use crate::common::*;

/// `text` as UTF-16 with a byte-order mark, little- or big-endian.
fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out: Vec<u8> = if little {
        vec![0xff, 0xfe]
    } else {
        vec![0xfe, 0xff]
    };
    for u in text.encode_utf16() {
        out.extend(if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

/// A PowerShell profile that sets a generated JWT secret on line 3.
fn profile(secret: &str) -> String {
    format!("# profile\r\nWrite-Host \"héllo ✓\"\r\n$env:JWT_SECRET = \"{secret}\"\r\n")
}

/// The (path, line, rule, encoding note) of every finding.
fn places(report: &serde_json::Value) -> Vec<(String, u64, String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["notes"]["encoding"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn one(path: &str, line: u64, encoding: &str) -> Vec<(String, u64, String, String)> {
    vec![(path.into(), line, "jwt-secret".into(), encoding.into())]
}

#[test]
fn utf16_with_a_bom_is_scanned_in_the_work_tree_and_stdin() {
    let fx = Fixture::new();
    let (le, be) = (b64url(32), b64url(32));
    fx.write("le.ps1", utf16(&profile(&le), true));
    fx.write("be.ps1", utf16(&format!("x\n\nJWT_SECRET={be}\n"), false));
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1, "{report:#}");
    let mut want = one("be.ps1", 3, "UTF-16BE");
    want.extend(one("le.ps1", 3, "UTF-16LE"));
    assert_eq!(places(&report), want, "{report:#}");
    assert_eq!(report["summary"]["skipped"], serde_json::json!({}));
    // The byte offsets are the stored file's: the secret's UTF-16 form is at them.
    let stored = utf16(&profile(&le), true);
    let f = &findings(&report)[1];
    let (s, e) = (
        f["start_offset"].as_u64().unwrap() as usize,
        f["end_offset"].as_u64().unwrap() as usize,
    );
    assert_eq!(stored[s..e], utf16(&le, true)[2..]);
    assert!(!report.to_string().contains(&le));

    let (code, report, _) = run_json(
        leaksweep(fx.path())
            .args(["scan", "-", "--format", "json"])
            .write_stdin(utf16(&profile(&le), true)),
    );
    assert_eq!(code, 1);
    assert_eq!(places(&report), one("-", 3, "UTF-16LE"));
}

#[test]
fn utf16_is_scanned_in_history_and_in_the_index() {
    let repo = Repo::new();
    let (old, new) = (b64url(32), b64url(32));
    repo.commit_files(&[("profile.ps1", utf16(&profile(&old), true))], "add");
    repo.commit_files(&[("README", "nothing\n")], "more");
    let (code, report, _) = run_json(leaksweep(repo.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(places(&report), one("profile.ps1", 3, "UTF-16LE"));

    // Staged: the old secret's line is not new, the added one (line 4) is.
    let text = format!("{}JWT_SECRET={new}\r\n", profile(&old));
    repo.write("profile.ps1", utf16(&text, true));
    repo.git(&["add", "profile.ps1"]);
    let (code, report, _) =
        run_json(leaksweep(repo.path()).args(["git", "--staged", "--format", "json"]));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(places(&report), one("profile.ps1", 4, "UTF-16LE"));

    // Big-endian, staged as a new file.
    repo.write("be.txt", utf16(&format!("JWT_SECRET={new}\n"), false));
    repo.git(&["add", "be.txt"]);
    let (_, report, _) =
        run_json(leaksweep(repo.path()).args(["git", "--staged", "--format", "json"]));
    let mut want = one("be.txt", 1, "UTF-16BE");
    want.extend(one("profile.ps1", 4, "UTF-16LE"));
    assert_eq!(places(&report), want, "{report:#}");
}

#[test]
fn archives_in_history_are_opened_and_named_by_member() {
    let repo = Repo::new();
    let secret = b64url(32);
    let env = format!("PORT=1\nJWT_SECRET={secret}\n");
    let inner = zip_of(&[("f", env.as_bytes()), ("notes", b"hello\n")]);
    let outer = tar_gz_of(&[("inner.zip", &inner), ("README", b"read me\n")]);
    let added = repo.commit_files(
        &[("a.tar.gz", &outer[..]), ("README", b"a bundle\n")],
        "add the bundle",
    );
    repo.remove("a.tar.gz");
    repo.commit("drop the bundle");
    let (code, report, _) = run_json(leaksweep(repo.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(places(&report), one("a.tar.gz!inner.zip!f", 2, ""));
    let f = &findings(&report)[0];
    assert_eq!(f["git"]["commit"], added.as_str());
    // Three members and the README scanned; nothing skipped.
    assert_eq!(report["summary"]["files"], 4, "{report:#}");
    assert_eq!(report["summary"]["skipped"], serde_json::json!({}));

    // One level only: the zip is named as a skip, never silently passed over.
    let (code, report, _) = run_json(leaksweep(repo.path()).args([
        "git",
        "--archive-depth",
        "1",
        "--format",
        "json",
        "-v",
    ]));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!({"archive-depth": 1})
    );
    let short = &added[..7];
    assert_eq!(
        report["skipped"][0]["path"],
        format!("{short}:a.tar.gz!inner.zip")
    );
    // Not opened at all: the archive is binary.
    let (code, report, _) =
        run_json(leaksweep(repo.path()).args(["git", "--archive-depth", "0", "--format", "json"]));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!({"binary": 1})
    );
}

/// A `--secrets` file (0600) listing `values`.
fn secrets_file(fx: &Fixture, values: &[&str]) -> String {
    let p = fx.write("secrets.txt", values.join("\n") + "\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p.display().to_string()
}

#[test]
fn rewrite_removes_a_utf16_secret_and_verify_checks_its_stored_forms() {
    let fx = Fixture::new();
    let src = Repo::init(&fx, "src");
    let (le, be) = (b64url(32), b64url(32));
    src.commit_files(
        &[
            ("profile.ps1", utf16(&profile(&le), true)),
            ("be.txt", utf16(&format!("JWT_SECRET={be}\n"), false)),
        ],
        "add profile",
    );
    src.commit_files(&[("README", "hello\n")], "readme");
    let repo = fresh_clone(&fx, src.path(), "work");
    // A fresh history scan finds both; apply replaces them, verify (from the record) agrees.
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "apply"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "verify"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified"), "{out}");
    // Gone in every stored form, replaced in each file's own byte order.
    let objects = objects_of(&repo, &["--branches", "--tags", "--remotes"]);
    for value in [&le, &be] {
        for little in [true, false] {
            assert!(!holds(&objects, &utf16(value, little)[2..]), "still stored");
        }
    }
    assert_eq!(
        git_raw(&repo, &["show", "HEAD:profile.ps1"]),
        utf16(&profile("REDACTED:jwt-secret"), true)
    );
    assert_eq!(
        git_raw(&repo, &["show", "HEAD:be.txt"]),
        utf16("JWT_SECRET=REDACTED:jwt-secret\n", false)
    );
    let (code, report, _) = run_json(leaksweep(&repo).args(["git", "--format", "json"]));
    assert_eq!(code, 0, "{report:#}");

    // verify is not fooled by UTF-16 copies left in history, in either byte order.
    let untouched = fresh_clone(&fx, src.path(), "untouched");
    let secrets = secrets_file(&fx, &[&le, &be]);
    let (code, out, _) =
        run_text(leaksweep(&untouched).args(["rewrite", "verify", "--secrets", &secrets]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("UTF-16LE") && out.contains("UTF-16BE"),
        "{out}"
    );
    assert!(!out.contains(&le) && !out.contains(&be), "{out}");
}

#[test]
fn rewrite_names_archives_holding_a_target_and_verify_looks_inside() {
    let fx = Fixture::new();
    let src = Repo::init(&fx, "src");
    let secret = b64url(32);
    let env = format!("JWT_SECRET={secret}\n");
    let bundle = zip_of(&[("cfg/.env", env.as_bytes()), ("README", b"bundle\n")]);
    src.commit_files(
        &[
            ("dist/bundle.zip", &bundle[..]),
            ("app.env", env.as_bytes()),
        ],
        "add the bundle",
    );
    src.remove("dist/bundle.zip");
    src.commit_files(&[("app.env", "JWT_SECRET=${JWT_SECRET}\n")], "drop it");

    // The plan names the archive and says it must be removed.
    let repo = fresh_clone(&fx, src.path(), "work");
    let (code, plan, err) =
        run_text(leaksweep(&repo).args(["rewrite", "plan", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert!(!plan.contains(&secret));
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(
        plan["archives"],
        serde_json::json!([{
            "path": "dist/bundle.zip",
            "members": ["dist/bundle.zip!cfg/.env"],
            "secrets": [plan["secrets"][0]["secret_id"].as_str().unwrap()[..16]],
            "removed": false,
        }]),
        "{plan:#}"
    );
    let (_, text, _) = run_text(leaksweep(&repo).args(["rewrite", "plan"]));
    assert!(
        text.contains("dist/bundle.zip  NOT removed: pass --remove-path 'dist/bundle.zip'"),
        "{text}"
    );
    // Applied without removing it: the plain copy is replaced, the archive's is not, and verify
    // says so by member.
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "apply"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "verify"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("in dist/bundle.zip!cfg/.env, by rule jwt-secret"),
        "{out}"
    );
    assert!(!out.contains(&secret));

    // With --remove-path of it: removed, and verified clean.
    let repo = fresh_clone(&fx, src.path(), "work2");
    let remove = ["--remove-path", "dist/bundle.zip"];
    let (code, plan, err) = run_text(
        leaksweep(&repo)
            .args(["rewrite", "plan", "--format", "json"])
            .args(remove),
    );
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["archives"][0]["removed"], true, "{plan:#}");
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "apply"]).args(remove));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", "verify"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, report, _) = run_json(leaksweep(&repo).args(["git", "--format", "json"]));
    assert_eq!(code, 0, "{report:#}");
}

/// An attempt to walk around the gate: the same `.env` saved as UTF-16 without a byte-order mark
/// (as .NET's `Encoding.Unicode` writes it without a preamble). It is ASCII with every other byte
/// zero, so it reads as UTF-16, not as binary: the staged gate, the history and the tree find it.
#[test]
fn utf16_without_a_byte_order_mark_does_not_pass_the_gate() {
    let repo = Repo::new();
    repo.commit_files(&[("README", "app\n")], "init");
    let (secret, other) = (b64url(32), b64url(32));
    let text = |s: &str| format!("NODE_ENV=production\r\nJWT_SECRET={s}\r\n");
    let le: Vec<u8> = text(&secret)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let be: Vec<u8> = text(&other)
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    repo.write(".env.production", le);
    repo.write("config/.env", be);
    repo.git(&["add", "-A"]);
    let (code, report, err) =
        run_json(leaksweep(repo.path()).args(["git", "--staged", "--format", "json"]));
    assert_eq!(code, 1, "{err}{report:#}");
    let mut want = one(".env.production", 2, "UTF-16LE");
    want.extend(one("config/.env", 2, "UTF-16BE"));
    want.sort();
    let mut got = places(&report);
    got.sort();
    assert_eq!(got, want, "{report:#}");
    assert!(!report.to_string().contains(&secret) && !report.to_string().contains(&other));

    repo.git(&["commit", "-qm", "env"]);
    let (code, report, _) = run_json(leaksweep(repo.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 1);
    let mut got = places(&report);
    got.sort();
    assert_eq!(got, want, "{report:#}");
    let (code, report, _) =
        run_json(leaksweep(repo.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1);
    let mut got = places(&report);
    got.sort();
    assert_eq!(got, want, "{report:#}");
}
