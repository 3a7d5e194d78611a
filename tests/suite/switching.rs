//! Switching from gitleaks or detect-secrets: `import gitleaks`, `.gitleaksignore`, their
//! reports and baselines as `--baseline`, and the command-line options with gitleaks' names,
//! all through the real binary.

use crate::common::*;
use predicates::prelude::*;

/// (path, line, rule) of every finding, sorted.
fn places(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<_> = findings(report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["rule_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn sha1_of(s: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha1sum runs");
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)[..40].to_string()
}

const GITLEAKS_CONFIG: &str = r#"
title = "team config"

[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[allowlist]
description = "global"
paths = ['''^docs/''', '''(.*?)\.lock$''']
stopwords = ["sandboxvalue"]

[[rules]]
id = "acme-token"
description = "ACME API token"
regex = '''(?i)acme[_-]?token\s*[:=]\s*["']?(acme_[a-f0-9]{32})'''
secretGroup = 1
keywords = ["acme"]
entropy = 2.5
tags = ["acme", "internal"]

  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''fixture-only''']

  [[rules.allowlists]]
  commits = ["0123456789abcdef0123456789abcdef01234567"]

[[rules]]
id = "acme-legacy"
regex = '''legacy_([a-z0-9]{20})'''
path = '''\.cfg$'''

[[rules]]
id = "pem-file"
path = '''\.pem$'''
"#;

#[test]
fn import_gitleaks_converts_rules_and_allowlists_and_names_the_rest() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(".gitleaks.toml", GITLEAKS_CONFIG);
    let out = leaksweep(fx.path())
        .args(["import", "gitleaks"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Every field that does not map is named, with the rule it belongs to.
    for expected in [
        "rule 'acme-token': tags not converted",
        "1 commit(s) not converted",
        "rule 'acme-legacy': path not converted",
        "rule 'pem-file': no regex",
        "disabledRules 'generic-api-key': disables leaksweep's counterpart 'generic-secret'",
        "imported 2 rule(s) from .gitleaks.toml into .leaksweep.toml and leaksweep-rules.toml",
    ] {
        assert!(
            stderr.contains(expected),
            "missing '{expected}' in:\n{stderr}"
        );
    }
    let config = std::fs::read_to_string(fx.path().join(".leaksweep.toml")).unwrap();
    let rules = std::fs::read_to_string(fx.path().join("leaksweep-rules.toml")).unwrap();
    for text in [&config, &rules] {
        assert!(
            text.contains("#   - .gitleaks.toml: rule 'pem-file': no regex"),
            "{text}"
        );
    }
    assert!(config.contains("extend_builtin = true"), "{config}");
    assert!(
        config.contains("disable = [\"generic-secret\"]"),
        "{config}"
    );
    assert!(rules.contains("imported = \"gitleaks\""), "{rules}");
    assert!(!rules.contains("examples ="), "{rules}");

    // The converted config scans: the secret group is group 1 of the gitleaks regex.
    let token = format!("acme_{}", hex_from(&mut rng, 16));
    let hidden_docs = format!("acme_{}", hex_from(&mut rng, 16));
    let hidden_line = format!("acme_{}", hex_from(&mut rng, 16));
    let legacy = draw(&mut rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 20);
    fx.write(
        "src/settings.py",
        format!(
            "DEBUG = False\nACME_TOKEN = \"{token}\"\nTEST_TOKEN = \"acme_token={hidden_line}\"  # fixture-only\nlegacy_{legacy}\n"
        ),
    );
    fx.write("docs/setup.md", format!("acme_token: {hidden_docs}\n"));
    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json", "--show-secrets"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&report),
        vec![
            ("src/settings.py".to_string(), 2, "acme-token".to_string()),
            ("src/settings.py".to_string(), 4, "acme-legacy".to_string()),
        ],
        "{report:#}"
    );
    let f = findings(&report);
    assert_eq!(f[0]["secret"], token.as_str());
    assert_eq!(f[1]["secret"], legacy.as_str());

    // Output that exists is kept unless --force.
    assert_input_error(
        fx.path(),
        &["import", "gitleaks"],
        ".leaksweep.toml already exists; pass --force",
    );
    leaksweep(fx.path())
        .args(["import", "gitleaks", "--force"])
        .assert()
        .code(0);
}

#[test]
fn import_gitleaks_without_groups_or_keywords_and_extend_path() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "gitleaks/base.toml",
        r#"
[[rules]]
id = "tok-base"
regex = '''tok_[A-Za-z0-9]{24}'''

[[rules]]
id = "old-rule"
regex = '''old_[a-z]{12}'''
keywords = ["old_"]
"#,
    );
    fx.write(
        "gitleaks/main.toml",
        r#"
[extend]
path = "base.toml"
disabledRules = ["old-rule"]

[[rules]]
id = "go-only"
regex = '''\C+secret'''
keywords = ["secret"]
"#,
    );
    let out = leaksweep(fx.path())
        .args(["import", "gitleaks", "gitleaks/main.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("rule 'tok-base': no keywords; derived from the regex: tok_"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule 'go-only': regex not converted"),
        "{stderr}"
    );
    assert!(stderr.contains("imported 1 rule(s)"), "{stderr}");
    let config = std::fs::read_to_string(fx.path().join(".leaksweep.toml")).unwrap();
    // No useDefault: the gitleaks config replaced the default rules, so ours are off.
    assert!(config.contains("extend_builtin = false"), "{config}");

    let tok = format!(
        "tok_{}",
        draw(
            &mut rng,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            24
        )
    );
    let old = draw(&mut rng, b"abcdefghijklmnopqrstuvwxyz", 12);
    let jwt = b64url_from(&mut rng, 32);
    fx.write(
        "app/.env.sample",
        format!("TOKEN={tok}\nOLD=old_{old}\nJWT_SECRET={jwt}\n"),
    );
    let (code, report, stderr) = run_json(leaksweep(fx.path()).args([
        "scan",
        "--no-ignore",
        "--format",
        "json",
        "--show-secrets",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&report),
        vec![("app/.env.sample".to_string(), 1, "tok-base".to_string())],
        "{report:#}"
    );
    // No group: the whole match is the secret.
    assert_eq!(findings(&report)[0]["secret"], tok.as_str());
}

#[test]
fn import_gitleaks_refuses_config_that_does_not_parse() {
    let fx = Fixture::new();
    fx.write(".gitleaks.toml", "[[rules]]\nid = \"x\nregex = 'a'\n");
    assert_input_error(
        fx.path(),
        &["import", "gitleaks"],
        ".gitleaks.toml: not a gitleaks configuration (TOML)",
    );
    assert!(!fx.path().join(".leaksweep.toml").exists());
    assert_input_error(
        fx.path(),
        &["import", "gitleaks", "missing.toml"],
        "missing.toml: no such gitleaks config",
    );
}

#[test]
fn gitleaksignore_matches_by_commit_path_and_line_whatever_the_rule() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let (a, b, c) = (
        b64url_from(&mut rng, 32),
        b64url_from(&mut rng, 32),
        b64url_from(&mut rng, 32),
    );
    r.write("config/app.env", format!("PORT=1\nJWT_SECRET={a}\n"));
    r.write("deploy/prod.env", format!("# prod\n\nJWT_SECRET={b}\n"));
    r.write("deploy/stage.env", format!("JWT_SECRET={c}\n"));
    let first = r.commit_at("2024-01-02T10:00:00Z", "config");

    // gitleaks names the rule `generic-api-key`; ours is `jwt-secret`: the place decides.
    r.write(
        ".gitleaksignore",
        format!(
            "# accepted after review\n{first}:config/app.env:generic-api-key:2\ndeploy/prod.env:generic-api-key:3\n0000000000000000000000000000000000000000:deploy/stage.env:generic-api-key:1\n"
        ),
    );
    let (code, report, stderr) = run_json(leaksweep(r.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&report),
        vec![("deploy/stage.env".to_string(), 1, "jwt-secret".to_string())],
        "{report:#}"
    );
    assert_eq!(report["summary"]["suppressed_baseline"], 2);

    // In the working tree the entry with a commit does not apply; the one without does.
    let (code, report, _) =
        run_json(leaksweep(r.path()).args(["scan", ".", "--no-ignore", "--format", "json"]));
    assert_eq!(code, 1);
    assert_eq!(
        places(&report),
        vec![
            ("config/app.env".to_string(), 2, "jwt-secret".to_string()),
            ("deploy/stage.env".to_string(), 1, "jwt-secret".to_string()),
        ]
    );

    r.write(".gitleaksignore", "config/app.env:2\n");
    assert_input_error(
        r.path(),
        &["scan", ".", "--no-ignore"],
        ".gitleaksignore:1: not a gitleaks fingerprint",
    );
}

#[test]
fn gitleaks_report_is_a_baseline_by_secret_or_by_place() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let (a, b, c, d) = (
        b64url_from(&mut rng, 32),
        hex_from(&mut rng, 32),
        b64url_from(&mut rng, 32),
        b64url_from(&mut rng, 32),
    );
    r.write("svc/a.env", format!("JWT_SECRET={a}\n"));
    r.write("svc/b.env", format!("X=1\nENCRYPTION_KEY={b}\n"));
    r.write("svc/c.env", format!("JWT_SECRET={c}\n"));
    r.write("svc/d.env", format!("JWT_SECRET={d}\n"));
    let commit = r.commit_at("2024-02-03T04:05:06Z", "services");
    // Secret `a` with its raw value at another place: accepted wherever it is. `b` redacted:
    // accepted at its file and line. `c` redacted at the wrong line, `d` at another commit.
    let report = serde_json::json!([
        {"Description": "Generic API Key", "StartLine": 9, "EndLine": 9, "StartColumn": 1,
         "EndColumn": 40, "Match": format!("JWT_SECRET={a}"), "Secret": a, "File": "old/a.env",
         "SymlinkFile": "", "Commit": "", "Entropy": 4.5, "Author": "", "Email": "",
         "Date": "", "Message": "", "Tags": [], "RuleID": "generic-api-key",
         "Fingerprint": "old/a.env:generic-api-key:9"},
        {"Description": "Generic API Key", "StartLine": 2, "Secret": "REDACTED",
         "Match": "REDACTED", "File": "svc/b.env", "Commit": commit, "RuleID": "generic-api-key",
         "Fingerprint": format!("{commit}:svc/b.env:generic-api-key:2")},
        {"Description": "Generic API Key", "StartLine": 3, "Secret": "ab...", "File": "svc/c.env",
         "Commit": "", "RuleID": "generic-api-key"},
        {"Description": "Generic API Key", "StartLine": 1, "Secret": "REDACTED",
         "File": "svc/d.env", "Commit": "1111111111111111111111111111111111111111",
         "RuleID": "generic-api-key"}
    ]);
    r.write(
        "gitleaks-report.json",
        serde_json::to_vec_pretty(&report).unwrap(),
    );
    let (code, out, stderr) = run_json(leaksweep(r.path()).args([
        "git",
        "--format",
        "json",
        "--baseline",
        "gitleaks-report.json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&out),
        vec![
            ("svc/c.env".to_string(), 1, "jwt-secret".to_string()),
            ("svc/d.env".to_string(), 1, "jwt-secret".to_string()),
        ],
        "{out:#}"
    );
    // An empty gitleaks report is a valid, empty baseline; a malformed entry is an input error.
    r.write("empty.json", "[]");
    let (code, out, _) =
        run_json(leaksweep(r.path()).args(["git", "--format", "json", "--baseline", "empty.json"]));
    assert_eq!((code, findings(&out).len()), (1, 4));
    r.write("bad.json", r#"[{"File": "svc/b.env"}]"#);
    assert_input_error(
        r.path(),
        &["git", "--baseline", "bad.json"],
        "entry 0 has neither a Secret nor a StartLine",
    );
}

#[test]
fn detect_secrets_baseline_matches_sha1_and_path() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (a, b) = (hex_from(&mut rng, 32), hex_from(&mut rng, 32));
    fx.write("app/.env", format!("ENCRYPTION_KEY={a}\nSESSION=2\n"));
    fx.write("ops/.env", format!("ENCRYPTION_KEY={a}\nAES_KEY={b}\n"));
    let baseline = serde_json::json!({
        "version": "1.5.0",
        "plugins_used": [{"name": "HexHighEntropyString", "limit": 3.0}],
        "filters_used": [],
        "results": {
            "app/.env": [{"type": "Hex High Entropy String", "filename": "app/.env",
                          "hashed_secret": sha1_of(&a), "is_verified": false, "line_number": 5}],
            "ops/.env": [{"type": "Hex High Entropy String", "filename": "ops/.env",
                          "hashed_secret": sha1_of(&b), "is_verified": false, "line_number": 2}]
        },
        "generated_at": "2024-05-01T00:00:00Z"
    });
    fx.write(
        ".secrets.baseline",
        serde_json::to_vec_pretty(&baseline).unwrap(),
    );
    let (_, all, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        "app",
        "ops",
        "--no-ignore",
        "--format",
        "json",
    ]));
    assert_eq!(findings(&all).len(), 3, "{all:#}");
    let (code, out, stderr) = run_json(leaksweep(fx.path()).args([
        "scan",
        "app",
        "ops",
        "--no-ignore",
        "--format",
        "json",
        "--baseline",
        ".secrets.baseline",
    ]));
    assert_eq!(code, 1, "{stderr}");
    // `a` is accepted in app/.env only (detect-secrets keys by path); `b` in ops/.env.
    assert_eq!(
        places(&out),
        vec![("ops/.env".to_string(), 1, "encryption-key".to_string())],
        "{out:#}"
    );
    fx.write(
        "bad.baseline",
        r#"{"results": {"x": [{"line_number": 1}]}}"#,
    );
    assert_input_error(
        fx.path(),
        &["scan", "app", "--baseline", "bad.baseline"],
        "has no hashed_secret",
    );
}

#[test]
fn enable_and_disable_rule_select_rules_and_reject_unknown_ids() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "svc.env",
        format!(
            "JWT_SECRET={}\nENCRYPTION_KEY={}\n",
            b64url_from(&mut rng, 32),
            hex_from(&mut rng, 32)
        ),
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", "svc.env", "--format", "json"];
        args.extend_from_slice(extra);
        let (_, r, _) = run_json(leaksweep(fx.path()).args(&args));
        places(&r).into_iter().map(|p| p.2).collect::<Vec<_>>()
    };
    assert_eq!(run(&[]), vec!["jwt-secret", "encryption-key"]);
    assert_eq!(run(&["--enable-rule", "jwt-secret"]), vec!["jwt-secret"]);
    // The generic rule takes over a value whose specific rule is off.
    assert_eq!(
        run(&["--disable-rule", "jwt-secret"]),
        vec!["generic-secret", "encryption-key"]
    );
    assert_eq!(
        run(&[
            "--disable-rule",
            "jwt-secret",
            "--disable-rule",
            "generic-secret"
        ]),
        vec!["encryption-key"]
    );
    assert_eq!(
        run(&[
            "--enable-rule",
            "jwt-secret",
            "--enable-rule",
            "encryption-key",
            "--disable-rule",
            "jwt-secret"
        ]),
        vec!["encryption-key"]
    );
    assert_input_error(
        fx.path(),
        &["scan", "svc.env", "--enable-rule", "jwt-secrte"],
        "--enable-rule jwt-secrte: no rule with id 'jwt-secrte' (did you mean 'jwt-secret'?)",
    );
    assert_input_error(
        fx.path(),
        &["scan", "svc.env", "--disable-rule", "encryption-kye"],
        "(did you mean 'encryption-key'?)",
    );
}

#[test]
fn config_from_environment_path_or_text() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "proj/svc.env",
        format!(
            "JWT_SECRET={}\nENCRYPTION_KEY={}\n",
            b64url_from(&mut rng, 32),
            hex_from(&mut rng, 32)
        ),
    );
    fx.write(
        "ci/leaksweep.toml",
        "disable = [\"jwt-secret\", \"generic-secret\"]\n",
    );
    fx.write(
        "proj/.leaksweep.toml",
        "disable = [\"encryption-key\", \"key-material-assignment\", \"generic-key\"]\n",
    );
    let proj = fx.path().join("proj");
    let rules = |cmd: &mut assert_cmd::Command| {
        let (_, r, stderr) = run_json(cmd.args(["scan", ".", "--no-ignore", "--format", "json"]));
        (
            places(&r).into_iter().map(|p| p.2).collect::<Vec<_>>(),
            stderr,
        )
    };
    let ci = fx.path().join("ci/leaksweep.toml");
    assert_eq!(rules(&mut leaksweep(&proj)).0, vec!["jwt-secret"]);
    assert_eq!(
        rules(leaksweep(&proj).env("LEAKSWEEP_CONFIG", &ci)).0,
        vec!["encryption-key"]
    );
    assert_eq!(
        rules(leaksweep(&proj).env(
            "LEAKSWEEP_CONFIG_TOML",
            "disable = [\"jwt-secret\", \"generic-secret\", \"encryption-key\", \"key-material-assignment\", \"generic-key\"]\n"
        ))
        .0,
        Vec::<String>::new()
    );
    // The path wins over the text, --config over both.
    assert_eq!(
        rules(
            leaksweep(&proj)
                .env("LEAKSWEEP_CONFIG", &ci)
                .env("LEAKSWEEP_CONFIG_TOML", "disable = [\"encryption-key\"]\n")
        )
        .0,
        vec!["encryption-key"]
    );
    let (_, r, _) = run_json(leaksweep(&proj).env("LEAKSWEEP_CONFIG", &ci).args([
        "scan",
        ".",
        "--no-ignore",
        "--format",
        "json",
        "--config",
        ".leaksweep.toml",
    ]));
    assert_eq!(
        places(&r).into_iter().map(|p| p.2).collect::<Vec<_>>(),
        vec!["jwt-secret"]
    );
    leaksweep(&proj)
        .env("LEAKSWEEP_CONFIG_TOML", "disabel = []\n")
        .args(["scan", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "$LEAKSWEEP_CONFIG_TOML: unknown field `disabel`",
        ));
    leaksweep(&proj)
        .env("LEAKSWEEP_CONFIG", fx.path().join("nope.toml"))
        .args(["scan", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nope.toml: cannot read config file",
        ));
}

#[test]
fn history_filters_by_commit_date_and_path() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let secrets: Vec<String> = (0..3).map(|_| b64url_from(&mut rng, 32)).collect();
    r.write("a.env", format!("JWT_SECRET={}\n", secrets[0]));
    r.commit_at("2023-01-10T12:00:00Z", "one");
    r.write("config/b.env", format!("JWT_SECRET={}\n", secrets[1]));
    r.commit_at("2024-06-01T23:30:00+00:00", "two");
    r.write("src/deep/c.env", format!("JWT_SECRET={}\n", secrets[2]));
    r.commit_at("2025-02-01T08:00:00Z", "three");

    let paths = |extra: &[&str]| {
        let mut args = vec!["git", "--format", "json"];
        args.extend_from_slice(extra);
        let (code, r, stderr) = run_json(leaksweep(r.path()).args(&args));
        assert!(code == 0 || code == 1, "{stderr}");
        places(&r).into_iter().map(|p| p.0).collect::<Vec<_>>()
    };
    assert_eq!(paths(&[]), vec!["a.env", "config/b.env", "src/deep/c.env"]);
    assert_eq!(
        paths(&["--since-date", "2024-01-01"]),
        vec!["config/b.env", "src/deep/c.env"]
    );
    // A bare until-date includes that whole day.
    assert_eq!(
        paths(&["--until-date", "2024-06-01"]),
        vec!["a.env", "config/b.env"]
    );
    assert_eq!(
        paths(&[
            "--since-date",
            "2024-06-01T23:30:01Z",
            "--until-date",
            "2025-02-01T09:00:00+01:00"
        ]),
        vec!["src/deep/c.env"]
    );
    assert_eq!(paths(&["--path", "src/**"]), vec!["src/deep/c.env"]);
    assert_eq!(
        paths(&["--path", "b.env", "--path", "a.env"]),
        vec!["a.env", "config/b.env"]
    );
    assert_eq!(
        paths(&["--path", "*.env", "--since-date", "2025-01-01"]),
        vec!["src/deep/c.env"]
    );

    leaksweep(r.path())
        .args([
            "git",
            "--since-date",
            "2024-06-01",
            "-v",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "1 finding(s) outside --since-date/--until-date/--path not reported",
        ))
        .stderr(predicate::str::contains(
            "outside the history filters: a.env:1 (jwt-secret, commit ",
        ));
    assert_input_error(
        r.path(),
        &["git", "--since-date", "2024-02-30"],
        "invalid --since-date '2024-02-30'",
    );
    assert_input_error(
        r.path(),
        &["git", "--until-date", "last week"],
        "invalid --until-date",
    );
    assert_input_error(
        r.path(),
        &[
            "git",
            "--since-date",
            "2025-01-01",
            "--until-date",
            "2024-01-01",
        ],
        "--since-date is after --until-date",
    );
}

#[test]
fn redact_percent_shows_that_share_and_100_is_show_secrets() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let secret = b64url_from(&mut rng, 30); // 40 characters
    fx.write("svc.env", format!("JWT_SECRET={secret}\n"));
    let one = |extra: &[&str]| {
        let mut args = vec!["scan", "svc.env", "--format", "json"];
        args.extend_from_slice(extra);
        let (code, r, stderr) = run_json(leaksweep(fx.path()).args(&args));
        assert_eq!(code, 1, "{stderr}");
        findings(&r)[0].clone()
    };
    let f = one(&[]);
    assert_eq!(f["redacted"], format!("{}****** (40 chars)", &secret[..4]));
    let f = one(&["--redact=0"]);
    assert_eq!(f["redacted"], "****** (40 chars)");
    assert!(f.get("secret").is_none());
    let f = one(&["--redact=50"]);
    assert_eq!(f["redacted"], format!("{}****** (40 chars)", &secret[..20]));
    assert_eq!(
        f["preview"],
        format!("JWT_SECRET={}****** (40 chars)", &secret[..20])
    );
    assert!(!f.to_string().contains(&secret));
    let f = one(&["--redact=99"]);
    assert_eq!(f["redacted"], format!("{}****** (40 chars)", &secret[..39]));
    let f = one(&["--redact=100"]);
    assert_eq!(f["secret"], secret.as_str());

    // With 100 the report holds the raw secret: its file is 0600 whatever --report-mode says.
    leaksweep(fx.path())
        .args([
            "scan",
            "svc.env",
            "--format",
            "json",
            "--redact=100",
            "--report-mode",
            "644",
            "-o",
            "r.json",
        ])
        .assert()
        .code(1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(fx.path().join("r.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(std::fs::read_to_string(fx.path().join("r.json"))
        .unwrap()
        .contains(&secret));
    assert_input_error(
        fx.path(),
        &["scan", "svc.env", "--redact=101"],
        "101 is not in 0..=100",
    );
}

#[test]
fn import_gitleaks_text_from_the_config_stays_in_comments() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    // A key whose name carries newlines and TOML: named in a comment, never a line of its own.
    fx.write(
        ".gitleaks.toml",
        r#"
"x\n[allowlist]\npaths = ['**']\n#" = 1

[extend]
useDefault = true

[[rules]]
id = "private-key"
description = "team PEM rule"
regex = '''-----BEGIN TEAM KEY-----([A-Za-z0-9+/=]{16,})'''
keywords = ["BEGIN TEAM KEY"]
"#,
    );
    let out = leaksweep(fx.path())
        .args(["import", "gitleaks"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("rule 'private-key': replaces leaksweep's built-in rule of the same id"),
        "{stderr}"
    );
    let config = std::fs::read_to_string(fx.path().join(".leaksweep.toml")).unwrap();
    assert!(!config.lines().any(|l| l.starts_with("paths")), "{config}");
    let body = draw(
        &mut rng,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        32,
    );
    fx.write("keys/team.txt", format!("-----BEGIN TEAM KEY-----{body}\n"));
    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json", "--show-secrets"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&report),
        vec![("keys/team.txt".to_string(), 1, "private-key".to_string())]
    );
    assert_eq!(findings(&report)[0]["secret"], body.as_str());
}
