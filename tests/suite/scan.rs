//! Working-tree and stdin scans through the real binary: exact findings, exit codes, bad input.

use crate::common::*;
use predicates::prelude::*;
use std::path::Path;

#[test]
fn env_file_ignored_by_default_found_with_no_ignore() {
    let fx = Fixture::new();
    let secret = b64url(32);
    fx.write(".gitignore", ".env\n");
    fx.write(".env", format!("PORT=3000\nJWT_SECRET=\"{secret}\"\n"));
    fx.write("src/app.js", "const s = process.env.JWT_SECRET;\n");

    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 0, "{report}");
    assert_eq!(findings(&report).len(), 0);

    let (code, report, _) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--format", "json"]));
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["rule_id"], "jwt-secret");
    assert_eq!(f[0]["path"], ".env");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["column"], 13);
    assert_eq!(f[0]["end_column"], 12 + secret.len() as u64);
    assert_eq!(f[0]["category"], "jwt-secret");
    assert!(
        f[0].get("secret").is_none(),
        "raw secret must not be in JSON by default"
    );
    assert!(
        !report.to_string().contains(&secret),
        "secret leaked into the report"
    );
    assert_eq!(report["summary"]["files"], 3);
    assert_eq!(report["summary"]["findings"], 1);
}

#[test]
fn show_secrets_puts_raw_value_in_json_only_when_asked() {
    let fx = Fixture::new();
    let secret = hex(32);
    fx.write(
        "config/.env.production",
        format!("ENCRYPTION_KEY={secret}\n"),
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        "config",
        "--format",
        "json",
        "--show-secrets",
    ]));
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f[0]["secret"], secret.as_str());
    assert_eq!(f[0]["rule_id"], "encryption-key");
    assert_eq!(f[0]["path"], "config/.env.production");

    // Text output is redacted.
    let out = leaksweep(fx.path())
        .args(["scan", "config"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&secret));
    assert!(text.contains("encryption-key"), "{text}");
    assert!(
        text.contains(&format!("{}****** (64 chars)", &secret[..4])),
        "{text}"
    );
}

#[test]
fn same_password_in_two_places_has_one_secret_id() {
    let fx = Fixture::new();
    let pw = password(20);
    fx.write(
        "app.env",
        format!("DATABASE_PASSWORD={pw}\nDATABASE_URL=postgres://app:{pw}@db.internal:5432/app\n"),
    );
    let (code, report, _) =
        run_json(leaksweep(fx.path()).args(["scan", "app.env", "--format", "json"]));
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{report:#}");
    assert_eq!(f[0]["rule_id"], "db-password");
    assert_eq!(f[1]["rule_id"], "db-connection-uri");
    assert_eq!(f[0]["secret_id"], f[1]["secret_id"]);
    assert_eq!(report["summary"]["secrets"], 1);
    assert_ne!(f[0]["fingerprint"], f[1]["fingerprint"]);
}

#[test]
fn placeholders_and_references_are_not_reported() {
    let fx = Fixture::new();
    fx.write(
        ".env.example",
        "JWT_SECRET=${JWT_SECRET}\nNEXTAUTH_SECRET=<your-secret>\nENCRYPTION_KEY=changeme\n\
         DB_PASSWORD=xxxxxxxxxxxx\nAUTH_SECRET=your_jwt_secret_here\nDATABASE_URL=postgresql://user:password@localhost:5432/mydb\n\
         REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379\nJWT_SECRET_FILE=/run/secrets/jwt\n",
    );
    fx.write(
        "src/config.ts",
        "export const jwtSecret = process.env.JWT_SECRET;\nconst k = os.environ['AES_KEY']\n",
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn stdin_is_scanned_as_dash() {
    let fx = Fixture::new();
    let secret = b64url(32);
    let (code, report, _) = run_json(
        leaksweep(fx.path())
            .args(["scan", "-", "--format", "json"])
            .write_stdin(format!("x\nNEXTAUTH_SECRET={secret}\n")),
    );
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f[0]["path"], "-");
    assert_eq!(f[0]["rule_id"], "nextauth-secret");
    assert_eq!(f[0]["line"], 2);
}

#[test]
fn k8s_secret_data_is_decoded_and_reported_at_outer_location() {
    use base64::Engine;
    let fx = Fixture::new();
    let pw = password(22);
    let url = format!("postgresql://app:{pw}@db.internal:5432/app");
    let enc = base64::engine::general_purpose::STANDARD.encode(url);
    fx.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  database-url: {enc}\n"),
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1, "{report:#}");
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["rule_id"], "db-connection-uri");
    assert_eq!(f[0]["line"], 7);
    assert_eq!(f[0]["column"], 17);
    // The secret_id names the decoded password, so it groups with the plain-text occurrences.
    use sha2::Digest;
    let id = hex::encode(sha2::Sha256::digest(format!("leaksweep:{pw}")));
    assert_eq!(f[0]["secret_id"], id.as_str());
}

#[test]
fn inline_allow_suppresses_and_is_counted() {
    let fx = Fixture::new();
    fx.write(
        "a.py",
        format!(
            "JWT_SECRET = '{}'  # leaksweep:allow\nAUTH_SECRET = '{}'  # pragma: allowlist secret\nNEXTAUTH_SECRET='{}'\n",
            b64url(32),
            b64url(32),
            b64url(32)
        ),
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 1);
    assert_eq!(findings(&report)[0]["line"], 3);
    assert_eq!(report["summary"]["suppressed_inline"], 2);
}

#[test]
fn exit_code_is_configurable() {
    let fx = Fixture::new();
    fx.write("s.env", format!("NEXTAUTH_SECRET={}\n", b64url(32)));
    leaksweep(fx.path())
        .args(["scan", ".", "--exit-code", "7"])
        .assert()
        .code(7);
    leaksweep(fx.path())
        .args(["scan", ".", "--exit-code", "0"])
        .assert()
        .code(0);
}

#[test]
fn empty_scan_fails_loudly_unless_allowed() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.path().join("empty")).unwrap();
    assert_input_error(fx.path(), &["scan", "empty"], "nothing was scanned");
    leaksweep(fx.path())
        .args(["scan", "empty", "--allow-empty"])
        .assert()
        .code(0);
}

#[test]
fn bad_inputs_are_skipped_counted_and_explained() {
    let fx = Fixture::new();
    let pw = password(20);
    // Invalid UTF-8 around a real secret: still found.
    let mut latin1 = b"caf\xe9 \xff\xfe\n".to_vec();
    latin1.extend_from_slice(format!("DB_PASSWORD={pw}\n").as_bytes());
    fx.write("latin1.txt", latin1);
    fx.write(
        "blob.bin",
        b"\x00\x01\x02JWT_SECRET=abcdefghijklmnopqrstuvwxyz012345\x00",
    );
    let big = fx.write("big.log", vec![b'a'; 50 << 20]);
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent/target", fx.path().join("dangling")).unwrap();

    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json", "-v"]));
    assert_eq!(code, 1, "{stderr}");
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "latin1.txt");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(report["summary"]["skipped"]["binary"], 1);
    assert_eq!(report["summary"]["skipped"]["too-large"], 1);
    #[cfg(unix)]
    assert_eq!(report["summary"]["skipped"]["symlink"], 1);
    assert!(stderr.contains("skipped big.log (too-large)"), "{stderr}");

    // Raising the limit scans the big file.
    let (_, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--max-file-size",
        "60M",
    ]));
    assert_eq!(report["summary"]["skipped"].get("too-large"), None);
    drop(big);

    // A dangling symlink named explicitly is an input error: exit 2, named.
    #[cfg(unix)]
    leaksweep(fx.path())
        .args(["scan", "dangling"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("dangling"));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let p = fx.write("locked.env", format!("JWT_SECRET={}\n", b64url(32)));
    fx.write("open.env", format!("AUTH_SECRET={}\n", b64url(32)));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_ok() {
        // Running with privileges that bypass file modes (root): nothing to test here.
        return;
    }
    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 2);
    assert_eq!(findings(&report).len(), 1);
    assert_eq!(report["errors"][0]["path"], "locked.env");
    assert!(stderr.contains("locked.env: permission denied"), "{stderr}");
}

#[test]
fn bad_user_rule_file_names_file_and_rule() {
    let fx = Fixture::new();
    fx.write("a.env", "x=1\n");
    fx.write(
        "my-rules.toml",
        "[[rule]]\nid = \"acme-token\"\nkeywords = [\"acme_\"]\nregex = '''acme_(?P<secret>[a-z0-9]{32'''\nexamples = [\"x\"]\nnegatives = [\"y\"]\n",
    );
    assert_input_error(
        fx.path(),
        &["scan", "a.env", "--rules", "my-rules.toml"],
        "my-rules.toml: rule 'acme-token': regex does not compile",
    );
    fx.write("broken.toml", "[[rule]\nid=");
    assert_input_error(
        fx.path(),
        &["scan", "a.env", "--rules", "broken.toml"],
        "broken.toml: invalid rule file",
    );
    assert_input_error(
        fx.path(),
        &["scan", "a.env", "--rules", "missing.toml"],
        "missing.toml: cannot read rule file",
    );
}

#[test]
fn user_rule_file_adds_a_rule() {
    let fx = Fixture::new();
    let tok: String = hex(16);
    fx.write("a.cfg", format!("token: acme_{tok}\n"));
    fx.write(
        "my-rules.toml",
        format!(
            "[[rule]]\nid = \"acme-token\"\ncategory = \"saas\"\nkeywords = [\"acme_\"]\nregex = '''acme_(?P<secret>[a-f0-9]{{32}})'''\nexamples = [\"acme_{}\"]\nnegatives = [\"acme_short\"]\n",
            hex(16)
        ),
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        "a.cfg",
        "--rules",
        "my-rules.toml",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    assert_eq!(findings(&report)[0]["rule_id"], "acme-token");
    leaksweep(fx.path())
        .args(["rules", "check", "my-rules.toml"])
        .assert()
        .code(0);
}

#[test]
fn usage_errors_exit_2() {
    let fx = Fixture::new();
    leaksweep(fx.path())
        .args(["scan", "--max-file-size", "10X"])
        .assert()
        .code(2);
    leaksweep(fx.path())
        .args(["scan", "--format", "yaml"])
        .assert()
        .code(2);
    leaksweep(fx.path())
        .args(["scan", "no/such/dir"])
        .assert()
        .code(2);
}

#[test]
fn jsonl_has_one_finding_per_line_then_summary() {
    let fx = Fixture::new();
    fx.write(
        "a.env",
        format!("JWT_SECRET={}\nAUTH_SECRET={}\n", b64url(32), b64url(32)),
    );
    let out = leaksweep(fx.path())
        .args(["scan", ".", "--format", "jsonl"])
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "finding");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["type"], "summary");
    assert_eq!(lines[2]["findings"], 2);
}

#[test]
fn output_file_is_written() {
    let fx = Fixture::new();
    fx.write("a.env", format!("JWT_SECRET={}\n", b64url(32)));
    leaksweep(fx.path())
        .args([
            "scan",
            "a.env",
            "--format",
            "json",
            "--output",
            "out/report.json",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot write report to out/report.json",
        ));
    leaksweep(fx.path())
        .args([
            "scan",
            "a.env",
            "--format",
            "json",
            "--output",
            "report.json",
        ])
        .assert()
        .code(1);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(v["summary"]["findings"], 1);
}

#[test]
fn findings_per_file_are_capped_and_the_cut_is_reported() {
    let fx = Fixture::new();
    let dump: String = (0..1200)
        .map(|_| format!("JWT_SECRET={}\n", b64url(32)))
        .collect();
    fx.write("dump.env", dump);
    fx.write("small.env", format!("JWT_SECRET={}\n", b64url(32)));

    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--format", "json", "-v"]));
    assert_eq!(code, 1, "{stderr}");
    let f = findings(&report);
    let dump_lines: Vec<u64> = f
        .iter()
        .filter(|x| x["path"] == "dump.env")
        .map(|x| x["line"].as_u64().unwrap())
        .collect();
    // The first 1000 (the default), in order; the other file is unaffected.
    assert_eq!(dump_lines, (1..=1000).collect::<Vec<u64>>());
    assert_eq!(f.iter().filter(|x| x["path"] == "small.env").count(), 1);
    assert_eq!(report["summary"]["skipped"]["too-many-findings"], 1);
    assert!(
        stderr.contains("skipped dump.env (too-many-findings)"),
        "{stderr}"
    );

    // The flag and the config key set the limit; zero is a usage error.
    let (_, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        "dump.env",
        "--format",
        "json",
        "--max-findings-per-file",
        "5",
    ]));
    assert_eq!(findings(&report).len(), 5);
    fx.write(".leaksweep.toml", "max_findings_per_file = 3\n");
    let (_, report, _) =
        run_json(leaksweep(fx.path()).args(["scan", "dump.env", "--format", "json"]));
    assert_eq!(findings(&report).len(), 3);
    assert_input_error(
        fx.path(),
        &["scan", "dump.env", "--max-findings-per-file", "0"],
        "at least 1",
    );
}

/// This repository scans clean: its made-up test secrets sit in allowlisted paths
/// (.leaksweep.toml) or are named in .leaksweepignore, and nothing else looks like a secret.
#[test]
fn this_repository_scans_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = leaksweep(root).args(["scan", "."]).output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn secrets_inside_archives_are_found_at_their_member_path() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let key = b64url_from(&mut rng, 43);
    let pw = password_from(&mut rng, 20);
    let inner = zip_of(&[(
        "config/.env",
        format!("# prod\nJWT_SECRET={key}\n").as_bytes(),
    )]);
    let outer = zip_of(&[
        ("README.txt", b"nothing here\n"),
        ("lib/inner.jar", &inner),
        (
            "deploy/db.properties",
            format!("db.password={pw}\n").as_bytes(),
        ),
    ]);
    fx.write("dist/bundle.zip", &outer);
    fx.write(
        "logs/app.env.gz",
        gzip(format!("\n\nJWT_SECRET={key}\n").as_bytes()),
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1);
    let mut got: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("path"), f["line"].as_u64().unwrap(), s("rule_id"))
        })
        .collect();
    got.sort();
    let paths: Vec<(&str, u64)> = got.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(
        paths,
        [
            ("dist/bundle.zip!deploy/db.properties", 1),
            ("dist/bundle.zip!lib/inner.jar!config/.env", 2),
            ("logs/app.env.gz!app.env", 3),
        ],
        "{got:?}"
    );
    // Not a byte of either secret in the report.
    let text = report.to_string();
    assert!(!text.contains(&key) && !text.contains(&pw));

    // One level: the jar inside the zip is named as a skip, not scanned, not silently dropped.
    let (_, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--archive-depth",
        "1",
    ]));
    assert_eq!(report["summary"]["skipped"]["archive-depth"], 1);
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "archive-depth")
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["dist/bundle.zip!lib/inner.jar"]);
    // Off: archives are binary files again.
    let (_, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--archive-depth",
        "0",
    ]));
    assert_eq!(findings(&report).len(), 0);
    assert_eq!(report["summary"]["skipped"]["binary"], 2);
}

#[test]
fn an_archive_bomb_is_a_named_skip_not_a_hang() {
    let fx = Fixture::new();
    // 64 MiB of zeros compress to about 64 KiB: each member is over a 1 MiB --max-file-size.
    let zeros = vec![0u8; 64 << 20];
    let gz = gzip(&zeros);
    assert!(gz.len() < 1 << 20);
    fx.write("bomb.gz", &gz);
    fx.write(
        "bomb.zip",
        zip_of(&[("a", &zeros[..8 << 20]), ("b", &zeros[..8 << 20])]),
    );
    fx.write("damaged.zip", &zip_of(&[("a.txt", b"hello\n")])[..20]);
    fx.write("notes.txt", "nothing to see\n");
    let (code, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--max-file-size",
        "1048576",
    ]));
    assert_eq!(code, 0, "{report}");
    let mut skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().into(),
                s["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    skipped.sort();
    let want: Vec<(String, String)> = [
        ("bomb.gz", "archive-member-too-large"),
        ("bomb.zip!a", "archive-member-too-large"),
        ("bomb.zip!b", "archive-member-too-large"),
        ("damaged.zip", "archive-unreadable"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(skipped, want);
}
