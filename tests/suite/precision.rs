//! Precision and triage through the real binary: project config, allowlists, baselines, ignore
//! files, inline allows, validators, decoding, JWT claims and JWT-to-secret linking, context
//! heuristics and level filters. Every secret is generated at random here.

use crate::common::*;
use base64::Engine;
use leaksweep::matcher::validate::{base62, crc32};
use predicates::prelude::*;
use rand::Rng;

fn b62(n: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = crate::common::seeded_rng();
    (0..n).map(|_| A[rng.gen_range(0..62)] as char).collect()
}

/// `prefix` + 30 random base62 + the 6-character base62 CRC32 (GitHub and npm layout).
fn checksummed(prefix: &str) -> String {
    let random = b62(30);
    format!(
        "{prefix}{random}{}",
        base62(crc32(random.as_bytes()) as u64, 6)
    )
}

/// The same token with a wrong checksum.
fn bad_checksum(token: &str) -> String {
    let (head, check) = token.split_at(token.len() - 6);
    let wrong: String = check
        .chars()
        .map(|c| if c == 'z' { 'y' } else { 'z' })
        .collect();
    format!("{head}{wrong}")
}

fn secret_id(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("leaksweep:{s}")))
}

fn scan_json(fx: &Fixture, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scan", ".", "--no-ignore", "--format", "json"];
    args.extend_from_slice(extra);
    run_json(leaksweep(fx.path()).args(&args))
}

fn rule_ids(report: &serde_json::Value) -> Vec<String> {
    findings(report)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap_or("").to_string())
        .collect()
}

// ---------------------------------------------------------------- config

#[test]
fn config_unknown_key_is_an_error_with_its_line() {
    let fx = Fixture::new();
    fx.write("a.env", "PORT=1\n");
    fx.write(
        ".leaksweep.toml",
        "# project config\nextend_builtin = true\ndisabel = [\"jwt-secret\"]\n",
    );
    leaksweep(fx.path())
        .args(["scan", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "leaksweep: error: .leaksweep.toml: unknown field `disabel`, expected",
        ))
        .stderr(predicate::str::contains("at line 3 column 1"));
    // A bad value names its line too.
    fx.write(
        ".leaksweep.toml",
        "\n[rules.jwt-secret]\nseverity = \"severe\"\n",
    );
    assert_input_error(fx.path(), &["scan", "."], "at line 3");
    // An unknown rule id in `disable` is an error, not a silent no-op.
    fx.write(".leaksweep.toml", "disable = [\"jwt-secert\"]\n");
    assert_input_error(
        fx.path(),
        &["scan", "."],
        "disable: no rule with id 'jwt-secert'",
    );
    // --config FILE that does not exist.
    assert_input_error(
        fx.path(),
        &["scan", ".", "--config", "nope.toml"],
        "nope.toml: cannot read config file",
    );
}

#[test]
fn config_disables_a_rule_and_overrides_severity() {
    let fx = Fixture::new();
    fx.write(
        "app.env",
        format!(
            "NEXTAUTH_SECRET={}\nENCRYPTION_KEY={}\n",
            b64url(32),
            hex(32)
        ),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let ids = rule_ids(&report);
    assert!(ids.contains(&"nextauth-secret".to_string()), "{ids:?}");
    fx.write(
        ".leaksweep.toml",
        "disable = [\"nextauth-secret\"]\n[rules.encryption-key]\nseverity = \"low\"\n",
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert!(
        f.iter().all(|f| f["rule_id"] != "nextauth-secret"),
        "{report:#}"
    );
    let enc = f.iter().find(|f| f["rule_id"] == "encryption-key").unwrap();
    assert_eq!(enc["severity"], "low");
}

#[test]
fn config_adds_rules_and_can_replace_the_builtin_set() {
    let fx = Fixture::new();
    let tok = hex(16);
    fx.write(
        "a.cfg",
        format!("token: acme_{tok}\nJWT_SECRET={}\n", b64url(32)),
    );
    let rule = format!(
        "[[rule]]\nid = \"acme-token\"\ncategory = \"saas\"\nseverity = \"critical\"\nkeywords = [\"acme_\"]\nregex = '''acme_(?P<secret>[a-f0-9]{{32}})'''\nexamples = [\"acme_{}\"]\nnegatives = [\"acme_short\"]\n",
        hex(16)
    );
    fx.write(".leaksweep.toml", &rule);
    let (code, report, _) = scan_json(&fx, &[]);
    assert_eq!(code, 1);
    let ids = rule_ids(&report);
    assert!(ids.contains(&"acme-token".to_string()), "{ids:?}");
    assert!(ids.contains(&"jwt-secret".to_string()), "{ids:?}");

    fx.write(".leaksweep.toml", format!("extend_builtin = false\n{rule}"));
    let (_, report, _) = scan_json(&fx, &[]);
    assert_eq!(rule_ids(&report), vec!["acme-token".to_string()]);

    // A config rule with a broken regex names the file and the rule.
    fx.write(
        ".leaksweep.toml",
        rule.replace("[a-f0-9]{32})", "[a-f0-9]{32}"),
    );
    assert_input_error(
        fx.path(),
        &["scan", "."],
        ".leaksweep.toml: rule 'acme-token': regex does not compile",
    );
}

#[test]
fn config_global_and_per_rule_allowlists() {
    let fx = Fixture::new();
    fx.write("docs/setup.md", format!("JWT_SECRET={}\n", b64url(32)));
    fx.write("src/app.env", format!("JWT_SECRET={}\n", b64url(32)));
    fx.write(
        "src/other.env",
        format!("AUTH_SECRET={}  # NOT-A-SECRET: rotated\n", b64url(32)),
    );
    fx.write(
        "src/sandbox.env",
        format!("NEXTAUTH_SECRET=sandbox{}\n", b64url(24)),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    assert_eq!(findings(&report).len(), 4, "{report:#}");
    fx.write(
        ".leaksweep.toml",
        r#"
[allowlist]
paths = ["docs/**"]
lines = ["NOT-A-SECRET"]

[rules.nextauth-secret.allowlist]
stopwords = ["sandbox"]
"#,
    );
    let (code, report, _) = scan_json(&fx, &[]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["path"], "src/app.env");

    // Scanning the project from outside: globs are relative to the scan root.
    let outer = fx.path().parent().unwrap();
    let name = fx.path().file_name().unwrap().to_str().unwrap();
    let (_, report, _) =
        run_json(leaksweep(outer).args(["scan", name, "--no-ignore", "--format", "json"]));
    assert_eq!(findings(&report).len(), 1, "{report:#}");
}

#[test]
fn config_sets_default_format_and_max_file_size() {
    let fx = Fixture::new();
    fx.write("a.env", format!("JWT_SECRET={}\n", b64url(32)));
    fx.write(
        "big.env",
        format!("JWT_SECRET={}\n{}\n", b64url(32), "x".repeat(4096)),
    );
    fx.write(
        ".leaksweep.toml",
        "format = \"json\"\nmax_file_size = \"2K\"\n",
    );
    let (code, report, _) = run_json(leaksweep(fx.path()).args(["scan", "."]));
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 1);
    assert_eq!(report["summary"]["skipped"]["too-large"], 1);
    // The command line wins.
    let out = leaksweep(fx.path())
        .args(["scan", ".", "--format", "text", "--max-file-size", "1M"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 findings"), "{text}");
}

// ---------------------------------------------------------------- inline allow

#[test]
fn text_report_counts_inline_allows() {
    let fx = Fixture::new();
    fx.write(
        "a.py",
        format!(
            "JWT_SECRET = '{}'  # gitleaks:allow\nAUTH_SECRET = '{}'\n",
            b64url(32),
            b64url(32)
        ),
    );
    let out = leaksweep(fx.path()).args(["scan", "."]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 finding (1 distinct secret)"), "{text}");
    assert!(text.contains("; 1 suppressed by inline allow"), "{text}");
}

// ---------------------------------------------------------------- baselines

#[test]
fn baseline_round_trip_reports_only_new_secrets() {
    let fx = Fixture::new();
    let old = b64url(32);
    let pw = password(20);
    fx.write(
        "app.env",
        format!("PORT=1\nJWT_SECRET={old}\nDB_PASSWORD={pw}\n"),
    );
    leaksweep(fx.path())
        .args([
            "baseline",
            "create",
            ".",
            "--no-ignore",
            "-o",
            "baseline.json",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("2 secret(s)"));
    let text = std::fs::read_to_string(fx.path().join("baseline.json")).unwrap();
    assert!(
        !text.contains(&old) && !text.contains(&pw),
        "raw secret in baseline"
    );
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["version"], 1);
    let entries = b["secrets"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0]["secret_id"].as_str() < entries[1]["secret_id"].as_str());
    assert!(!text.contains("\"line\""), "no line numbers: {text}");
    assert!(entries
        .iter()
        .any(|e| e["secret_id"] == secret_id(&old).as_str() && e["paths"][0] == "app.env"));
    // Deterministic: a second run writes the same bytes.
    leaksweep(fx.path())
        .args([
            "baseline",
            "create",
            ".",
            "--no-ignore",
            "-o",
            "baseline2.json",
        ])
        .assert()
        .code(0);
    assert_eq!(
        text,
        std::fs::read_to_string(fx.path().join("baseline2.json")).unwrap()
    );
    std::fs::remove_file(fx.path().join("baseline2.json")).unwrap();

    // With the baseline: clean.
    let (code, report, _) = scan_json(&fx, &["--baseline", "baseline.json"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed_baseline"], 2);

    // The old secret moves to another line and another file; a new one is added.
    let new = b64url(32);
    fx.write("app.env", format!("DB_PASSWORD={pw}\n\n\nPORT=1\n"));
    fx.write(
        "config/prod.env",
        format!("X=1\nJWT_SECRET={old}\nAUTH_SECRET={new}\n"),
    );
    let (code, report, _) = scan_json(&fx, &["--baseline", "baseline.json"]);
    assert_eq!(code, 1);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["secret_id"], secret_id(&new).as_str());

    // A new secret on the very line that held a baselined one is reported.
    let newer = b64url(32);
    fx.write("config/prod.env", format!("X=1\nJWT_SECRET={newer}\n"));
    let (_, report, _) = scan_json(&fx, &["--baseline", "baseline.json"]);
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["secret_id"], secret_id(&newer).as_str());

    // The text report says how many the baseline hid.
    let out = leaksweep(fx.path())
        .args(["scan", ".", "--no-ignore", "--baseline", "baseline.json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 suppressed by baseline"));
}

#[test]
fn a_json_report_works_as_a_baseline() {
    let fx = Fixture::new();
    fx.write("a.env", format!("JWT_SECRET={}\n", b64url(32)));
    leaksweep(fx.path())
        .args([
            "scan",
            ".",
            "--no-ignore",
            "-f",
            "json",
            "-o",
            "report.json",
        ])
        .assert()
        .code(1);
    let (code, _, _) = scan_json(&fx, &["--baseline", "report.json"]);
    assert_eq!(code, 0);
}

#[test]
fn stale_baseline_entries_are_named_with_verbose() {
    let fx = Fixture::new();
    let gone = b64url(32);
    fx.write("a.env", format!("JWT_SECRET={gone}\n"));
    fx.write("b.env", format!("AUTH_SECRET={}\n", b64url(32)));
    leaksweep(fx.path())
        .args(["baseline", "create", ".", "--no-ignore", "-o", "base.json"])
        .assert()
        .code(0);
    fx.write("a.env", "JWT_SECRET=${JWT_SECRET}\n");
    let (code, _, stderr) = scan_json(&fx, &["--baseline", "base.json", "-v"]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains(&format!(
            "stale baseline entry {} (jwt-secret; a.env)",
            &secret_id(&gone)[..16]
        )),
        "{stderr}"
    );
    let (_, _, stderr) = scan_json(&fx, &["--baseline", "base.json"]);
    assert!(!stderr.contains("stale"), "{stderr}");
}

#[test]
fn bad_baseline_is_a_clear_error() {
    let fx = Fixture::new();
    fx.write("a.env", "PORT=1\n");
    fx.write("bad.json", "{\"hello\": 1}");
    assert_input_error(
        fx.path(),
        &["scan", ".", "--baseline", "bad.json"],
        "bad.json: not a leaksweep baseline or JSON report",
    );
    fx.write("trunc.json", "{\"version\": 1, \"secrets\": [");
    assert_input_error(
        fx.path(),
        &["scan", ".", "--baseline", "trunc.json"],
        "trunc.json",
    );
    assert_input_error(
        fx.path(),
        &["scan", ".", "--baseline", "missing.json"],
        "missing.json: cannot read",
    );
}

#[test]
fn leaksweepignore_takes_secret_ids_prefixes_and_fingerprints() {
    let fx = Fixture::new();
    let a = b64url(32);
    let b = b64url(32);
    let c = b64url(32);
    fx.write(
        "x.env",
        format!("JWT_SECRET={a}\nAUTH_SECRET={b}\nNEXTAUTH_SECRET={c}\n"),
    );
    fx.write(
        ".leaksweepignore",
        format!(
            "# accepted test values\n{}\n{}   # short id from the text report\n:x.env:nextauth-secret:3\n",
            secret_id(&a),
            &secret_id(&b)[..16]
        ),
    );
    let (code, report, _) = scan_json(&fx, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["suppressed_baseline"], 3);
    // A line that is neither an id nor a fingerprint is an error naming the file and line.
    fx.write(".leaksweepignore", "not-an-id\n");
    assert_input_error(
        fx.path(),
        &["scan", "."],
        ".leaksweepignore:1: not a secret_id",
    );
}

// ---------------------------------------------------------------- validators

#[test]
fn github_and_npm_checksums() {
    let fx = Fixture::new();
    let ghp = checksummed("ghp_");
    let npm = checksummed("npm_");
    fx.write(
        "ci.env",
        format!(
            "GITHUB_TOKEN={ghp}\nGH_OLD={}\nNPM_TOKEN={npm}\nNPM_OLD={}\n",
            bad_checksum(&ghp),
            bad_checksum(&npm)
        ),
    );
    fx.write(
        ".npmrc",
        format!(
            "//registry.npmjs.org/:_authToken={}\n",
            bad_checksum(&checksummed("npm_"))
        ),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{report:#}");
    assert_eq!(f[0]["rule_id"], "github-pat");
    assert_eq!(f[0]["line"], 1);
    assert_eq!(f[0]["confidence"], "high");
    assert_eq!(f[1]["rule_id"], "npm-token");
    assert_eq!(f[1]["line"], 3);
    assert_eq!(f[1]["confidence"], "high");
}

#[test]
fn jwt_pem_and_aws_validators() {
    let fx = Fixture::new();
    // JWT: header and claims decode: high confidence, claims as notes, expired or not.
    let tok = hs256(
        &hex(32).into_bytes(),
        r#"{"sub":"42","iss":"https://auth.acme.test","exp":1000000000}"#,
    );
    fx.write("token.txt", format!("Authorization: Bearer {tok}\n"));
    // PEM: a body that decodes to a DER SEQUENCE is high confidence, other base64 medium.
    let mut der = vec![0x30u8, 0x82, 0x02, 0x5c];
    let mut der_rng = crate::common::seeded_rng();
    der.extend((0..600).map(|_| der_rng.gen::<u8>()));
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    fx.write(
        "keys/id_rsa",
        format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            lines.join("\n")
        ),
    );
    // AWS: a well-formed key id is high confidence; the documented example is dropped.
    let mut rng = crate::common::seeded_rng();
    let id: String = (0..16)
        .map(|_| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rng.gen_range(0..32)] as char)
        .collect();
    fx.write(
        "aws.env",
        format!("AWS_ACCESS_KEY_ID=AKIA{id}\nEXAMPLE_ID=AKIAIOSFODNN7EXAMPLE\n"),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    let by = |rule: &str| {
        f.iter()
            .find(|x| x["rule_id"] == rule)
            .unwrap_or_else(|| panic!("no {rule}: {report:#}"))
            .clone()
    };
    let jwt = by("jwt");
    assert_eq!(jwt["confidence"], "high");
    assert_eq!(jwt["notes"]["alg"], "HS256");
    assert_eq!(jwt["notes"]["iss"], "https://auth.acme.test");
    assert_eq!(jwt["notes"]["expired"], "true");
    assert_eq!(by("private-key")["confidence"], "high");
    let aws = by("aws-access-key-id");
    assert_eq!(aws["confidence"], "high");
    assert_eq!(
        f.iter()
            .filter(|x| x["rule_id"] == "aws-access-key-id")
            .count(),
        1,
        "{report:#}"
    );
}

#[test]
fn supabase_roles_set_severity() {
    let fx = Fixture::new();
    let key = b64url(32);
    let service = hs256(
        key.as_bytes(),
        r#"{"iss":"supabase","ref":"abcd","role":"service_role","exp":4102444800}"#,
    );
    let anon = hs256(
        key.as_bytes(),
        r#"{"iss":"supabase","ref":"abcd","role":"anon","exp":4102444800}"#,
    );
    fx.write(
        "web.env",
        format!("SUPABASE_SERVICE_ROLE_KEY={service}\nNEXT_PUBLIC_SUPABASE_ANON_KEY={anon}\n"),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{report:#}");
    assert_eq!(f[0]["severity"], "critical");
    assert_eq!(f[0]["notes"]["expired"], "false");
    assert_eq!(f[1]["severity"], "low");
}

// ---------------------------------------------------------------- JWT linking

#[test]
fn jwt_is_linked_to_the_secret_that_signs_it() {
    let fx = Fixture::new();
    let key = b64url(32);
    let tok = hs256(key.as_bytes(), r#"{"sub":"7","role":"user"}"#);
    let stranger = hs256(b64url(32).as_bytes(), r#"{"sub":"8"}"#);
    fx.write(".env", format!("PORT=3000\nJWT_SECRET={key}\n"));
    fx.write(
        "src/fixtures.ts",
        format!("export const token = \"{tok}\";\nexport const other = \"{stranger}\";\n"),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 3, "{report:#}");
    let secret = f.iter().find(|x| x["rule_id"] == "jwt-secret").unwrap();
    assert_eq!(secret["severity"], "critical");
    assert_eq!(secret["confidence"], "high");
    assert_eq!(
        secret["notes"]["link"],
        "signs tokens found at src/fixtures.ts:1: anyone holding it can mint valid tokens"
    );
    let linked = f
        .iter()
        .find(|x| x["rule_id"] == "jwt" && x["line"] == 1)
        .unwrap();
    assert_eq!(linked["severity"], "critical");
    assert_eq!(linked["confidence"], "high");
    assert_eq!(linked["notes"]["link"], "signed by the secret at .env:2");
    let other = f
        .iter()
        .find(|x| x["rule_id"] == "jwt" && x["line"] == 2)
        .unwrap();
    assert!(other["notes"].get("link").is_none(), "{other:#}");
    assert_eq!(other["severity"], "medium");
}

// ---------------------------------------------------------------- decoding

#[test]
fn nested_base64_and_percent_encoding_are_decoded() {
    use base64::engine::general_purpose::STANDARD;
    let fx = Fixture::new();
    let pw = password(22);
    let url = format!("postgresql://app:{pw}@db.internal:5432/app");
    // Base64 of base64, in a Kubernetes Secret.
    let twice = STANDARD.encode(STANDARD.encode(&url));
    fx.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  database-url: {twice}\n"),
    );
    // Percent-encoded, inside a query string.
    let pw2 = password(22);
    let pct: String = format!("postgresql://app:{pw2}@db.internal:5432/app")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    fx.write(
        "deploy/links.txt",
        format!("see https://console.internal/connect?target={pct}&mode=rw\n"),
    );
    // An encoded .env blob (no `data:` anywhere in the file).
    let key = b64url(32);
    let blob = STANDARD.encode(format!("PORT=1\nJWT_SECRET={key}\n"));
    fx.write("ops/bootstrap.env", format!("SETTINGS_BLOB=\"{blob}\"\n"));

    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 3, "{report:#}");
    let at = |p: &str| f.iter().find(|x| x["path"] == p).unwrap().clone();
    let k8s = at("k8s/secret.yaml");
    assert_eq!(k8s["rule_id"], "db-connection-uri");
    assert_eq!(k8s["line"], 4);
    assert_eq!(k8s["column"], 17);
    assert_eq!(k8s["secret_id"], secret_id(&pw).as_str());
    let link = at("deploy/links.txt");
    assert_eq!(link["rule_id"], "db-connection-uri");
    assert_eq!(link["secret_id"], secret_id(&pw2).as_str());
    assert_eq!(link["line"], 1);
    let env = at("ops/bootstrap.env");
    assert_eq!(env["rule_id"], "jwt-secret");
    assert_eq!(env["secret_id"], secret_id(&key).as_str());
    assert_eq!(env["column"], 16);

    // Depth 1 does not reach the doubly encoded value; depth 0 disables decoding.
    let (_, report, _) = scan_json(&fx, &["--decode-depth", "1"]);
    assert_eq!(findings(&report).len(), 2, "{report:#}");
    let (_, report, _) = scan_json(&fx, &["--decode-depth", "0"]);
    assert_eq!(findings(&report).len(), 0, "{report:#}");
}

// ---------------------------------------------------------------- context and levels

#[test]
fn test_fixtures_are_lowered_not_hidden() {
    let fx = Fixture::new();
    let key = b64url(32);
    fx.write("config/app.env", format!("JWT_SECRET={key}\n"));
    fx.write("tests/fixtures/app.env", format!("JWT_SECRET={key}\n"));
    fx.write(
        "src/__mocks__/auth.js",
        format!("const JWT_SECRET = '{}';\n", b64url(32)),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let f = findings(&report);
    assert_eq!(f.len(), 3, "{report:#}");
    let at = |p: &str| f.iter().find(|x| x["path"] == p).unwrap().clone();
    assert_eq!(at("config/app.env")["severity"], "critical");
    let t = at("tests/fixtures/app.env");
    assert_eq!(t["severity"], "medium");
    assert_eq!(t["confidence"], "low");
    assert_eq!(t["notes"]["context"], "test or example path");
    assert_eq!(at("src/__mocks__/auth.js")["confidence"], "low");
}

#[test]
fn lock_files_do_not_trip_generic_rules() {
    let fx = Fixture::new();
    let mut rng = crate::common::seeded_rng();
    let hash: Vec<u8> = (0..64).map(|_| rng.gen()).collect();
    let integrity = base64::engine::general_purpose::STANDARD.encode(hash);
    fx.write(
        "package-lock.json",
        format!(
            "{{\n  \"packages\": {{\n    \"node_modules/secret-handshake\": {{\n      \"version\": \"1.1.0\",\n      \"integrity\": \"sha512-{integrity}\",\n      \"token\": \"{}\"\n    }}\n  }}\n}}\n",
            b64url(30)
        ),
    );
    let ghp = checksummed("ghp_");
    fx.write(
        "yarn.lock",
        format!(
            "\"pkg@^1\":\n  resolved \"https://x-access-token:{ghp}@npm.pkg.github.com/pkg.tgz\"\n"
        ),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    assert_eq!(
        rule_ids(&report),
        vec!["github-pat".to_string()],
        "{report:#}"
    );
}

#[test]
fn min_severity_and_min_confidence_filter() {
    let fx = Fixture::new();
    let ghp = checksummed("ghp_");
    fx.write(
        "a.env",
        format!(
            "GITHUB_TOKEN={ghp}\nJWT_SECRET={}\nSTRIPE_KEY=sk_test_{}\n",
            b64url(32),
            b62(24)
        ),
    );
    let (_, report, _) = scan_json(&fx, &[]);
    let all = findings(&report).len();
    assert!(all >= 3, "{report:#}");
    let (_, report, _) = scan_json(&fx, &["--min-confidence", "high"]);
    assert_eq!(rule_ids(&report), vec!["github-pat".to_string()]);
    let (_, report, _) = scan_json(&fx, &["--min-severity", "critical"]);
    let f = findings(&report);
    assert!(f.iter().all(|x| x["severity"] == "critical"), "{report:#}");
    assert_eq!(report["summary"]["findings"], f.len());
    assert!(f.len() < all);
    assert_input_error(
        fx.path(),
        &["scan", ".", "--min-confidence", "sure"],
        "unknown confidence 'sure'",
    );
    assert_input_error(
        fx.path(),
        &["scan", ".", "--min-severity", "huge"],
        "unknown severity 'huge'",
    );
}

/// Generated secrets are never mistaken for placeholders: 3,000 each of base64url JWT secrets,
/// hex encryption keys and mixed passwords, all reported (a random value holds `fake`, `xxxx`,
/// `abc123` or a run like `999999` by chance about once in 10,000). Passwords here do not start
/// with `*`, `&` or `!`: one that does and reads as an identifier (`*s3ScanSessionToken`,
/// `!*_uzyLgAwn29`) is code by design.
#[test]
fn random_secrets_are_all_reported() {
    let fx = Fixture::new();
    let mut text = String::new();
    for _ in 0..3000 {
        text.push_str(&format!("JWT_SECRET={}\n", b64url(32)));
        text.push_str(&format!("ENCRYPTION_KEY={}\n", hex(32)));
        let mut pw = password(20);
        while pw.starts_with(['*', '&', '!']) {
            pw = password(20);
        }
        text.push_str(&format!("DATABASE_PASSWORD={pw}\n"));
    }
    fx.write("random.env", &text);
    let (code, report, stderr) = run_json(leaksweep(fx.path()).args([
        "scan",
        "random.env",
        "-f",
        "json",
        "--max-findings-per-file",
        "100000",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let lines: std::collections::BTreeSet<u64> = findings(&report)
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    let missed: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| !lines.contains(&(*i as u64 + 1)))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(missed, Vec::<&str>::new());
}

// ---------------------------------------------------------------- real-world detection quality

/// `(path, line, secret)` of every finding, sorted (`--show-secrets` JSON).
fn found(fx: &Fixture) -> Vec<(String, u64, String)> {
    let (code, report, stderr) = scan_json(fx, &["--show-secrets"]);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut v: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["secret"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn finding_for<'a>(report: &'a serde_json::Value, secret: &str) -> Option<serde_json::Value> {
    let _: &'a serde_json::Value = report;
    findings(report)
        .into_iter()
        .find(|f| f["secret"].as_str() == Some(secret))
}

fn lower_from(rng: &mut impl Rng, n: usize) -> String {
    draw(rng, b"abcdefghijklmnopqrstuvwxyz", n)
}

const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn ui_text_in_any_script_is_not_a_secret() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "frontend/src/assets/i18n/es_ES.json",
        "{\n  \"LABEL_PASSWORD\": \"Contraseña\",\n  \"MANDATORY_PASSWORD\": \"Por favor, introduzca una contraseña.\",\n  \"LABEL_NEW_PASSWORD\": \"Nueva contraseña\"\n}\n",
    );
    fx.write(
        "frontend/src/assets/i18n/ja_JP.json",
        "{\n  \"LABEL_PASSWORD\": \"パスワード\",\n  \"INVALID_PASSWORD_LENGTH\": \"パスワードは{{length}}文字以上である必要があります。\",\n  \"SECRET_QUESTION\": \"秘密の質問 あなたの母親の旧姓は\"\n}\n",
    );
    fx.write(
        "frontend/src/assets/i18n/en.json",
        "{\n  \"PASSWORD_HINT\": \"Please enter your password again.\",\n  \"TOKEN_EXPIRED\": \"Your session token has expired, log in again:\"\n}\n",
    );
    let pw = password_from(&mut rng, 18);
    fx.write("config/prod.env", format!("DB_PASSWORD={pw}\n"));
    assert_eq!(found(&fx), [("config/prod.env".to_string(), 1, pw)]);
}

#[test]
fn code_expressions_are_not_values() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let tail = format!("{}{}", lower_from(&mut rng, 4), hex_from(&mut rng, 4));
    fx.write(
        "lib/app.js",
        format!(
            "const password = user?.data?.password\n\
             token = this.$rowTokens[this.$tokenIndex]\n\
             secret = !!line.charAt(column)\n\
             credentials: internals.credentials.{tail},\n\
             {{ token: 'support.class.actionscript.2', regex: 'x' }},\n\
             const apiKey = config.services.payments.apiKey2\n"
        ),
    );
    fx.write(
        "src/Main.java",
        "class Main {\n  void f() {\n    for (String secret : SECRETS) {\n      use(secret);\n    }\n    String token = SecurityCredentials::constructor_template;\n  }\n}\n",
    );
    fx.write(
        "src/node.cc",
        "  credentials = SecurityCredentials::constructor_template.Get(isolate);\n",
    );
    let key = b64url_from(&mut rng, 32);
    fx.write("lib/keys.js", format!("const apiKey = '{key}';\n"));
    assert_eq!(found(&fx), [("lib/keys.js".to_string(), 1, key)]);
}

#[test]
fn values_end_where_their_syntax_ends() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    // Long enough that a draw falls under the rules' entropy floor well under once in a thousand.
    let pw = format!("{}_{}", draw(&mut rng, MIXED, 12), hex_from(&mut rng, 2));
    let csrf = b64url_from(&mut rng, 16);
    let phrase = format!(
        "{} {} {}",
        lower_from(&mut rng, 6),
        lower_from(&mut rng, 6),
        lower_from(&mut rng, 8)
    );
    let quoted = format!(
        "{};{},{}",
        draw(&mut rng, MIXED, 6),
        draw(&mut rng, MIXED, 5),
        hex_from(&mut rng, 3)
    );
    fx.write(
        "docs/setup.txt",
        format!(
            "Log in to the console as admin (password={pw}).\n\
             curl -d 'user=admin&password={pw}&_csrf={csrf}' https://shop.acme-corp.net/login\n\
             otpauth://totp/Shop:alice?secret=secret&issuer=Shop\n"
        ),
    );
    fx.write(
        "deploy/app.yml",
        format!("ssh_passphrase: '{phrase}'\nsmtp_password: \"{quoted}\"\n"),
    );
    let mut want = vec![
        ("deploy/app.yml".to_string(), 1, phrase),
        ("deploy/app.yml".to_string(), 2, quoted),
        ("docs/setup.txt".to_string(), 1, pw.clone()),
        ("docs/setup.txt".to_string(), 2, pw),
    ];
    want.sort();
    assert_eq!(found(&fx), want);
}

#[test]
fn strong_context_reports_short_values_and_says_they_are_weak() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let uri_pw = lower_from(&mut rng, 5);
    let sql_pw = format!("_{}", lower_from(&mut rng, 7));
    let sign = format!(
        "{}{}{}",
        draw(&mut rng, MIXED, 5),
        hex_from(&mut rng, 2),
        lower_from(&mut rng, 6)
    );
    let jwt_pw = lower_from(&mut rng, 7);
    let cfg_pw = format!("{}{}", lower_from(&mut rng, 4), hex_from(&mut rng, 2));
    fx.write(
        "config/env/all.js",
        format!(
            "module.exports = {{\n  db: process.env.MONGODB_URI || \"mongodb://shop:{uri_pw}@ds{}.mlab.com:59217/shop\",\n}};\n",
            hex_from(&mut rng, 3)
        ),
    );
    fx.write(
        "db/create.sql",
        format!("CREATE LOGIN shop_guest with password = '{sql_pw}';\n"),
    );
    fx.write(
        "server.js",
        format!(
            "var secret = '{sign}';\n\napp.use(cookieParser(secret));\n\
             app.post('/login', function (req, res) {{\n  var token = jwt.sign(user, secret, {{ expiresIn: 300 }});\n}});\n"
        ),
    );
    fx.write(
        "src/main/java/Constants.java",
        format!("interface Constants {{\n    String JWT_PASSWORD = \"{jwt_pw}\";\n}}\n"),
    );
    fx.write(
        "config/database.yml",
        format!("production:\n  password: {cfg_pw}\n"),
    );
    // The same short values without strong context are not reported: a local host, a test
    // path, a password name in code rather than configuration.
    fx.write(
        "test/fixtures/all.js",
        format!("db: \"mongodb://shop:{uri_pw}@ds1.mlab.com:59217/shop\"\n"),
    );
    fx.write(
        "local.env",
        format!("MONGO_URL=mongodb://shop:{uri_pw}@localhost:27017/shop\n"),
    );
    fx.write("src/login.js", format!("const password = \"{cfg_pw}\";\n"));
    let (_, report, _) = scan_json(&fx, &["--show-secrets"]);
    for (secret, path, rule) in [
        (&uri_pw, "config/env/all.js", "db-connection-uri"),
        (&sql_pw, "db/create.sql", "sql-password"),
        (&sign, "server.js", "jwt-signing-call"),
        (&jwt_pw, "src/main/java/Constants.java", "jwt-secret"),
        (&cfg_pw, "config/database.yml", "password-assignment"),
    ] {
        let hits: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| f["secret"].as_str() == Some(secret.as_str()))
            .collect();
        let f = hits
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{secret} not found at {path}: {report:#}"));
        assert_eq!(f["rule_id"], rule, "{f:#}");
        if secret.len() < 12 {
            assert!(f.to_string().contains("weak: "), "no weakness note: {f:#}");
        }
        if secret == &uri_pw {
            let paths: Vec<_> = hits.iter().map(|f| f["path"].clone()).collect();
            assert_eq!(paths, [path], "{report:#}");
        }
    }
    let f = finding_for(&report, &sign).unwrap();
    assert!(
        f.to_string()
            .contains("passed to a signing call as `secret` at line 3"),
        "{f:#}"
    );
    assert!(
        findings(&report)
            .iter()
            .all(|f| f["path"] != "src/login.js"),
        "{report:#}"
    );
}

#[test]
fn common_words_inside_real_values_do_not_veto_them() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let walk = format!(
        "qwerty{}123456",
        draw(&mut rng, b"abcdefghijklmnopqrstuvwxyz", 20)
    );
    let lower = lower_from(&mut rng, 14);
    let caps = format!(
        "Iam{}For{}",
        ["Used", "Kept", "Made"][rng.gen_range(0..3)],
        ["Something", "Deploys", "Backups"][rng.gen_range(0..3)]
    );
    fx.write(
        "src/main/java/RefreshEndpoint.java",
        format!("class R {{\n  private static final String JWT_KEY = \"{walk}\";\n}}\n"),
    );
    fx.write(
        "app.properties",
        format!("mail.password={lower}\nadmin.password={caps}\n"),
    );
    // Placeholders whose whole shape says so stay quiet.
    fx.write(
        "example.properties",
        "mail.password=qwerty123\nadmin.password=your_password_here\nsmtp.password=password123\n",
    );
    let mut want = vec![
        ("app.properties".to_string(), 1, lower),
        ("app.properties".to_string(), 2, caps),
        ("src/main/java/RefreshEndpoint.java".to_string(), 2, walk),
    ];
    want.sort();
    assert_eq!(found(&fx), want);
}

#[test]
fn compound_and_bare_names_are_known() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let a = password_from(&mut rng, 16);
    let b = password_from(&mut rng, 14);
    let c = password_from(&mut rng, 20);
    let link = hex_from(&mut rng, 16);
    let bare = draw(&mut rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27);
    let secret = b64url_from(&mut rng, 24);
    fx.write(
        "src/main/java/Lesson.java",
        format!(
            "class Lesson {{\n\
             \x20 private String connectionPassword = \"{a}\";\n\
             \x20 String userPassword = \"{b}\";\n\
             \x20 private static final String sshPassphrase = \"{c}\";\n\
             \x20 public static final String ADMIN_PASSWORD_LINK = \"{link}\";\n\
             \x20 private final static String key = \"{bare}\";\n\
             \x20 static String secret = \"{secret}\";\n\
             }}\n"
        ),
    );
    let got: Vec<u64> = found(&fx).into_iter().map(|(_, l, _)| l).collect();
    assert_eq!(got, [2, 3, 4, 5, 6, 7]);
}

#[test]
fn signing_calls_in_every_common_library() {
    let mut rng = seeded_rng();
    // Drawn keys hold a digit: ten drawn letters can read as a camelCase identifier
    // (`msjeumkoCz`), which the filters take for code, as they would a real one.
    let mut k = || {
        let d = draw(&mut rng, b"0123456789", 1);
        let mut key = draw(&mut rng, MIXED, 9);
        key.insert_str(key.len() / 2, &d);
        key
    };
    let keys: Vec<String> = (0..8).map(|_| k()).collect();
    let fx = Fixture::new();
    fx.write(
        "src/Tokens.java",
        format!(
            "Jwts.builder().setClaims(c).signWith(SignatureAlgorithm.HS512, \"{}\").compact();\n\
             Jwts.parser().setSigningKey(\"{}\").parseClaimsJws(t);\n",
            keys[0], keys[1]
        ),
    );
    fx.write(
        "app/auth.py",
        format!(
            "token = jwt.encode({{\"sub\": user.id}}, \"{}\", algorithm=\"HS256\")\n",
            keys[2]
        ),
    );
    fx.write(
        "auth/token.go",
        format!(
            "signed, err := token.SignedString([]byte(\"{}\"))\n",
            keys[3]
        ),
    );
    fx.write(
        "server.js",
        format!(
            "app.use(cookieParser('{}'));\n\
             app.use(session({{ resave: true, saveUninitialized: true, secret: '{}' }}));\n\
             const mac = crypto.createHmac('sha256', '{}').update(d).digest('hex');\n\
             const t = jwt.sign(\n  {{ id: user.id }},\n  '{}',\n  {{ expiresIn: '1h' }}\n);\n",
            keys[4], keys[5], keys[6], keys[7]
        ),
    );
    let got: std::collections::BTreeSet<String> =
        found(&fx).into_iter().map(|(_, _, s)| s).collect();
    let want: std::collections::BTreeSet<String> = keys.into_iter().collect();
    assert_eq!(got, want);
}

#[test]
fn credentials_in_common_config_formats() {
    use base64::Engine;
    let mut rng = seeded_rng();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut p = |n| password_from(&mut rng, n);
    let v: Vec<String> = (0..16).map(|i| p(10 + i % 5)).collect();
    let salt: String = draw(
        &mut seeded_rng(),
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%()*+,-./:;<>?@[]^_{|}~",
        64,
    );
    let bcrypt = format!(
        "$2a$10${}",
        draw(
            &mut seeded_rng(),
            b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            53
        )
    );
    let fx = Fixture::new();
    fx.write(
        "wp-config.php",
        format!("<?php\ndefine('DB_PASSWORD', '{}');\ndefine( 'AUTH_SALT', '{salt}' );\n$dbpasswd = '{}';\n", v[0], v[1]),
    );
    fx.write(
        "conf/tomcat-users.xml",
        format!("<tomcat-users>\n  <user username=\"deploy\" password=\"{}\" roles=\"manager-gui\"/>\n</tomcat-users>\n", v[2]),
    );
    fx.write(
        ".netrc",
        format!(
            "machine ftp.acme-corp.net\n  login backup\n  password {}\n",
            v[3]
        ),
    );
    fx.write(
        ".pgpass",
        format!("db.acme-corp.net:5432:orders:app:{}\n", v[4]),
    );
    fx.write(
        ".git-credentials",
        format!("https://deploy:{}@git.acme-corp.net\n", v[5]),
    );
    fx.write(
        "deploy/urls.txt",
        format!(
            "ftp://backup:{}@files.acme-corp.net/dumps\nsmtps://mailer:{}@smtp.acme-corp.net:465\n",
            v[6], v[7]
        ),
    );
    fx.write(
        "db/users.sql",
        format!(
            "CREATE USER 'app'@'%' IDENTIFIED BY '{}';\nINSERT INTO users VALUES (1, 'ops@acme.test', '{bcrypt}');\n",
            v[8]
        ),
    );
    fx.write(
        ".docker/config.json",
        format!(
            "{{\"auths\": {{\"registry.acme-corp.net\": {{\"auth\": \"{}\"}}}}}}\n",
            b64(&format!("deploy:{}", v[9]))
        ),
    );
    fx.write(
        ".npmrc",
        format!("//registry.acme-corp.net/:_password={}\n", b64(&v[10])),
    );
    fx.write(
        "config/app.ini",
        format!("[database]\npassword = {}\n", v[11]),
    );
    fx.write(
        ".m2/settings.xml",
        format!("<settings><servers><server>\n  <id>releases</id>\n  <username>deploy</username>\n  <password>{}</password>\n</server></servers></settings>\n", v[12]),
    );
    fx.write(
        "mail.env",
        format!("MAIL_HOST=smtp.acme-corp.net\nMAIL_PASS={}\n", v[13]),
    );
    let (_, report, _) = scan_json(&fx, &["--show-secrets"]);
    let got: std::collections::BTreeSet<String> = findings(&report)
        .iter()
        .filter_map(|f| f["secret"].as_str().map(str::to_string))
        .collect();
    let mut want: std::collections::BTreeSet<String> = v[..9].iter().cloned().collect();
    want.insert(v[11].clone());
    want.insert(v[12].clone());
    want.insert(v[13].clone());
    want.insert(salt);
    want.insert(bcrypt.clone());
    // Base64 values are reported as found (and checked decoded).
    want.insert(b64(&format!("deploy:{}", v[9])));
    want.insert(b64(&v[10]));
    assert_eq!(
        got.symmetric_difference(&want).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{report:#}"
    );
    let h = finding_for(&report, &bcrypt).unwrap();
    assert_eq!(h["category"], "password-hash");
    assert_eq!(h["severity"], "medium");
}

#[test]
fn default_accounts_and_built_strings_are_not_leaks() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let user = lower_from(&mut rng, 7);
    let pw = password_from(&mut rng, 9);
    fx.write(
        "conf/tomcat-users.xml",
        format!(
            "<tomcat-users>\n  <user password=\"{user}\" roles=\"admin\" username=\"{user}\"/>\n  <user username=\"ops\" password=\"{pw}\" roles=\"admin\"/>\n</tomcat-users>\n"
        ),
    );
    fx.write(
        "docker/Dockerfile",
        format!("RUN psql --command \"CREATE USER {user} WITH SUPERUSER PASSWORD '{user}';\"\n"),
    );
    fx.write(
        "web/js/xxe.js",
        "var xml = '<user>' +\n  '  <password>' + 'test' + '</password>' +\n  '</user>';\nsource = \"__p += '\";\nhmac.new(source)\n",
    );
    fx.write(
        "web/js/app.js",
        "app.use(session({ secret: 'keyboard cat', resave: false }))\n",
    );
    assert_eq!(found(&fx), [("conf/tomcat-users.xml".to_string(), 3, pw)]);
}

/// A file whose whole content is a key has no keyword: Rails' `config/master.key` and
/// `config/credentials/production.key`, and key files by name (`*.key`, `secret_key`), are read
/// whole, in the working tree and in history. The same bytes under another name, a PEM block in
/// a `.key` file, or a placeholder are not such keys.
#[test]
fn bare_key_files_are_found_by_their_name() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let master = hex_from(&mut rng, 16);
    let prod = hex_from(&mut rng, 16);
    let session = b64url_from(&mut rng, 32);
    fx.write("config/master.key", format!("{master}\n"));
    fx.write("config/credentials/production.key", &prod);
    fx.write("deploy/session.key", format!("{session}\n"));
    fx.write("notes/ids.txt", format!("{}\n", hex_from(&mut rng, 16)));
    fx.write(
        "tls/server.key",
        "-----BEGIN PRIVATE KEY-----\nnot a real key body\n-----END PRIVATE KEY-----\n",
    );
    fx.write("deploy/other.key", "changeme\n");
    let (code, report, stderr) = scan_json(&fx, &["--show-secrets"]);
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, u64, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "config/credentials/production.key".into(),
                1,
                "rails-master-key".into(),
                prod.clone()
            ),
            (
                "config/master.key".into(),
                1,
                "rails-master-key".into(),
                master.clone()
            ),
            ("deploy/session.key".into(), 1, "key-file".into(), session),
        ]
    );
    // History: the committed master.key is found at its commit.
    let r = Repo::init_in(fx.path());
    r.git(&["add", "config/master.key"]);
    r.commit_staged("add key");
    let (code, report, stderr) = run_json(leaksweep(fx.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 1, "{stderr}");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["rails-master-key"]);
}

/// A list of tag names assigned to a `..._token` key is data, not a token; a random value under
/// the same key, and a list whose items are random, are still reported.
#[test]
fn word_lists_under_secret_names_are_not_secrets() {
    let fx = Fixture::new();
    let random = b62(28);
    fx.write(
        "beautify.js",
        format!(
            "var opts = {{\n  single_token: 'br,input,link,meta,!doctype,basefont,base,area,hr,wbr,param,img,?xml,embed'.split(','),\n  api_token: '{random}',\n}};\n"
        ),
    );
    let (code, report, _) = scan_json(&fx, &[]);
    let lines: Vec<u64> = findings(&report)
        .iter()
        .map(|f| f["line"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(lines, vec![3], "{report:#}");
}
