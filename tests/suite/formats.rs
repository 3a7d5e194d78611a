//! Every report format for the same scan: snapshots of the real binary's output over one fixture
//! tree, the SARIF log validated against the official SARIF 2.1.0 schema (worktree and
//! history-style findings), the JSON report validated against schema/report.schema.json, and the
//! promises each format makes (quoting, escaping, no raw secrets where none may appear).
//!
//! History findings (`git: Some(GitProvenance)`) are built in-process so that every provenance
//! field is fixed; the reporters cannot tell them from findings of a real `leaksweep git` run.

use assert_cmd::Command;
use leaksweep::finding::{
    self, Confidence, Finding, Fingerprint, GitLocation, GitProvenance, Secret, SecretId,
};
use leaksweep::report::{reporter, Format, ReportOptions};
use leaksweep::rules::Severity;
use leaksweep::scan::{Report, ScanError, Summary};
use std::path::Path;

// Fixture values: the made-up examples that rules/mission.toml ships for its own tests (random
// strings; the JWT is signed for `auth.acme.test`). They belong to nothing.
const JWT_SECRET: &str = "LD0FEHeQp838JYrrxnzfDzrMy0HRrucxLDBOvysNFxA";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4MjEzIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlzcyI6Imh0dHBzOi8vYXV0aC5hY21lLnRlc3QiLCJleHAiOjE4OTM0NTYwMDB9.YZDx598Cst7hL_kNmLaCVdLBX1rR6nYSBEwluGNi9oA";
const NEXTAUTH: &str = "HXKBWePUfqoisHviu3goq6b6RXV_Co8e2iazxYzZjQk";

const FORMATS: &[&str] = &[
    "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
];

/// A small tree: one secret in two files (grouping), a JWT, an allowed line, a clean file, and
/// a path with a space and a comma (quoting and URI encoding).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join(".env.production"),
        format!("JWT_SECRET=\"{JWT_SECRET}\"\nAUTH_TOKEN={JWT}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("config dir")).unwrap();
    std::fs::write(
        root.join("config dir/settings,prod.py"),
        format!("jwt_secret = \"{JWT_SECRET}\"\nDEBUG = False\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("allowed.env"),
        format!("JWT_SECRET={NEXTAUTH} # leaksweep:allow\n"),
    )
    .unwrap();
    std::fs::write(root.join("README.md"), "nothing to see\n").unwrap();
    dir
}

fn scan(dir: &Path, format: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("leaksweep")
        .unwrap()
        .current_dir(dir)
        .args(["scan", "--no-ignore", "--color", "never", "-f", format])
        .args(extra)
        .arg(".")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Removes what changes between runs: durations, the rule count (rule files come and go), the
/// tool version, and the temp dir should it appear.
fn redact(s: &str, dir: &Path) -> String {
    let s = s.replace(&dir.display().to_string(), "[TEMP]");
    let re =
        |p: &str, r: &str, s: &str| regex::Regex::new(p).unwrap().replace_all(s, r).into_owned();
    let s = re(r#""duration_ms": ?\d+"#, r#""duration_ms": "[MS]""#, &s);
    let s = re(r#""rules": ?\d+"#, r#""rules": "[N]""#, &s);
    let s = re(r"in \d+ ms", "in [MS] ms", &s);
    let v = env!("CARGO_PKG_VERSION");
    s.replace(&format!("\"{v}\""), "\"[VERSION]\"")
}

#[test]
fn snapshot_every_format_of_one_scan() {
    let dir = fixture();
    for format in FORMATS {
        let (code, out) = scan(dir.path(), format, &[]);
        assert_eq!(code, 1, "{format}: findings exit 1");
        insta::assert_snapshot!(format!("scan_{format}"), redact(&out, dir.path()));
    }
}

#[test]
fn clean_scan_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "hello\n").unwrap();
    for format in FORMATS {
        let (code, out) = scan(dir.path(), format, &[]);
        assert_eq!(code, 0, "{format}");
        insta::assert_snapshot!(format!("clean_{format}"), redact(&out, dir.path()));
    }
}

pub(crate) fn sarif_validator() -> jsonschema::JSONSchema {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .compile(&schema)
        .expect("SARIF schema compiles offline")
}

pub(crate) fn report_validator() -> jsonschema::JSONSchema {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .compile(&schema)
        .expect("report schema compiles offline")
}

pub(crate) fn assert_valid(v: &jsonschema::JSONSchema, doc: &serde_json::Value, what: &str) {
    if let Err(errors) = v.validate(doc) {
        let msgs: Vec<String> = errors
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        panic!("{what} does not match its schema:\n{}", msgs.join("\n"));
    }
}

/// A finding as the history source would build it.
fn finding(
    path: &str,
    line: usize,
    rule: &str,
    severity: Severity,
    secret: &str,
    git: Option<GitProvenance>,
) -> Finding {
    let redacted = finding::redact(secret.as_bytes());
    let column = 13;
    let mut f = Finding {
        rule_id: rule.into(),
        description: format!("test rule {rule}"),
        category: "jwt-secret".into(),
        severity,
        confidence: Confidence::High,
        path: path.into(),
        line,
        column,
        end_line: line,
        end_column: column + secret.len() - 1,
        span: 100..100 + secret.len(),
        preview: format!("JWT_SECRET={redacted}"),
        redacted,
        entropy: 4.7,
        secret_id: SecretId::of(secret.as_bytes()),
        fingerprint: Fingerprint::new(None, "", "", 0),
        secret: Secret::new(secret.as_bytes().to_vec()),
        matched: None,
        notes: vec![("alg".into(), "HS256".into())],
        git,
        repository: None,
        filtered: None,
    };
    f.refresh_fingerprint();
    f
}

fn provenance(commit: &str, date: &str, summary: &str) -> GitProvenance {
    GitProvenance {
        commit: commit.into(),
        author_name: "Ada, \"the\" Dev".into(),
        author_email: "ada@example.invalid".into(),
        date: date.into(),
        summary: summary.into(),
        blob: "5d1f2c2d0a6f0d2a8b0c6f2e9a1b3c4d5e6f7a8b".into(),
        kind: "file".into(),
        locations: vec![GitLocation {
            commit: commit.into(),
            path: "config/app.env".into(),
            line: Some(3),
        }],
        ..GitProvenance::default()
    }
}

/// Worktree and history findings side by side, one secret in several places, an unreadable item.
fn mixed_report() -> Report {
    let c1 = "1111111111111111111111111111111111111111";
    let c2 = "2222222222222222222222222222222222222222";
    let findings = vec![
        finding(
            "config/app.env",
            3,
            "jwt-secret",
            Severity::Critical,
            JWT_SECRET,
            Some(provenance(c2, "2023-02-01T10:00:00+01:00", "Add config")),
        ),
        finding(
            "config/app.env",
            3,
            "jwt-secret",
            Severity::Critical,
            JWT_SECRET,
            Some(provenance(
                c1,
                "2023-02-01T09:30:00Z",
                "Initial: 100% <done>\n",
            )),
        ),
        finding(
            "src/a b,c.rs",
            7,
            "nextauth-secret",
            Severity::Medium,
            NEXTAUTH,
            None,
        ),
        finding(
            ".env",
            1,
            "jwt-secret",
            Severity::Critical,
            JWT_SECRET,
            None,
        ),
    ];
    let summary = Summary {
        mode: "git".into(),
        files: 3,
        bytes: 4096,
        commits: Some(2),
        blobs: Some(3),
        findings: findings.len() as u64,
        secrets: 2,
        rules: 40,
        errors: 1,
        ..Summary::default()
    };
    Report {
        findings,
        skipped: vec![],
        errors: vec![ScanError {
            path: "broken.bin".into(),
            message: "permission denied".into(),
        }],
        summary,
    }
}

fn render(report: &Report, format: Format, show_secrets: bool) -> String {
    let mut buf = Vec::new();
    let opts = ReportOptions {
        show_secrets,
        ..ReportOptions::default()
    };
    reporter(format).write(report, &opts, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn sarif_with_worktree_and_history_findings_matches_the_official_schema() {
    let v = sarif_validator();
    let report = mixed_report();
    let doc: serde_json::Value =
        serde_json::from_str(&render(&report, Format::Sarif, true)).unwrap();
    assert_valid(&v, &doc, "in-process SARIF");

    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    // One descriptor per rule used, and ruleIndex points at it.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 2);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    // History findings carry commit and author; worktree findings do not.
    assert_eq!(
        results[0]["properties"]["commit"],
        "2222222222222222222222222222222222222222"
    );
    assert_eq!(results[0]["properties"]["author"], "Ada, \"the\" Dev");
    assert!(results[2]["properties"].get("commit").is_none());
    // partialFingerprints: the secret_id alone, the same for one secret in every commit and file.
    let id = SecretId::of(JWT_SECRET.as_bytes()).to_string();
    for i in [0, 1, 3] {
        assert_eq!(
            results[i]["partialFingerprints"],
            serde_json::json!({ "leaksweep/secret/v1": id })
        );
    }
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );

    // And a real report from the binary.
    let dir = fixture();
    let (_, out) = scan(dir.path(), "sarif", &["--show-secrets"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&v, &doc, "binary SARIF");
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 3);
}

#[test]
fn sarif_schema_rejects_a_broken_log() {
    // Guards against a validator that accepts anything (e.g. a schema that failed to load).
    let v = sarif_validator();
    let bad = serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [] }] });
    assert!(!v.is_valid(&bad), "a run without tool must be invalid");
}

#[test]
fn no_raw_secret_in_sarif_junit_github_markdown_even_with_show_secrets() {
    let report = mixed_report();
    for format in [
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Markdown,
    ] {
        let out = render(&report, format, true);
        for s in [JWT_SECRET, NEXTAUTH] {
            assert!(!out.contains(s), "{format:?} leaked a raw secret");
        }
    }
    let dir = fixture();
    for format in [
        "sarif", "junit", "github", "markdown", "text", "csv", "json",
    ] {
        let (_, out) = scan(dir.path(), format, &[]);
        assert!(
            !out.contains(JWT_SECRET),
            "{format} leaked without --show-secrets"
        );
        assert!(!out.contains(JWT), "{format} leaked without --show-secrets");
    }
    // csv and json carry it only when asked.
    for format in ["csv", "json"] {
        let (_, out) = scan(dir.path(), format, &["--show-secrets"]);
        assert!(out.contains(JWT_SECRET), "{format} --show-secrets");
    }
}

#[test]
fn history_report_snapshots() {
    let report = mixed_report();
    for format in [
        Format::Sarif,
        Format::Csv,
        Format::Junit,
        Format::Github,
        Format::Markdown,
    ] {
        let out = render(&report, format, false);
        let out = out.replace(
            &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"[VERSION]\"",
        );
        insta::assert_snapshot!(format!("history_{format:?}").to_lowercase(), out);
    }
}

#[test]
fn csv_round_trips_through_a_csv_reader() {
    let report = mixed_report();
    let out = render(&report, Format::Csv, false);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header = r.headers().unwrap().clone();
    assert_eq!(&header[0], "rule_id");
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let path = header.iter().position(|h| h == "path").unwrap();
    let author = header.iter().position(|h| h == "author").unwrap();
    assert_eq!(&rows[2][path], "src/a b,c.rs");
    assert_eq!(&rows[0][author], "Ada, \"the\" Dev");
    assert_eq!(&rows[2][author], "");
}

#[test]
fn junit_is_well_formed_xml() {
    let report = mixed_report();
    let out = render(&report, Format::Junit, false);
    let doc = roxmltree::Document::parse(&out).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 5, "4 findings + 1 unreadable item");
    assert_eq!(cases[2].attribute("classname"), Some("src/a b,c.rs"));
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, 4);
    assert!(out.contains("Initial: 100% &lt;done&gt;"));
}

#[test]
fn github_annotations_escape_properties_and_data() {
    let report = mixed_report();
    let out = render(&report, Format::Github, false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[2].starts_with("::warning file=src/a b%2Cc.rs,line=7,col=13,"));
    assert!(lines[0].starts_with("::error file=config/app.env,line=3,"));
    // The commit summary's newline and percent sign cannot end or corrupt the command.
    assert!(lines[1].contains("Initial: 100%25 <done>%0A"));
    assert!(lines[1].contains("title=jwt-secret::"));
}

#[test]
fn markdown_groups_by_secret_and_finds_the_oldest_leak() {
    let report = mixed_report();
    let out = render(&report, Format::Markdown, false);
    // 10:00+01:00 is 09:00Z, older than 09:30Z although it sorts later as a string.
    let oldest = out.split("## Oldest leak").nth(1).unwrap();
    let oldest = oldest.split("##").next().unwrap();
    assert!(oldest.contains("`222222222222`"), "{oldest}");
    // Each secret once, with all its locations.
    assert_eq!(out.matches("### ").count(), 2);
    assert!(out.contains("- 3 locations:"));
    assert!(out.contains("## Unreadable items"));
}

#[test]
fn json_report_matches_its_schema() {
    let v = report_validator();
    let dir = fixture();
    for extra in [&[][..], &["--show-secrets"][..]] {
        let (code, out) = scan(dir.path(), "json", extra);
        assert_eq!(code, 1);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_valid(&v, &doc, "binary JSON report");
    }
    // History findings and errors too.
    let doc: serde_json::Value =
        serde_json::from_str(&render(&mixed_report(), Format::Json, true)).unwrap();
    assert_valid(&v, &doc, "in-process JSON report");
    // JSON Lines: each line matches its definition.
    let (_, out) = scan(dir.path(), "jsonl", &[]);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let def = v["type"].as_str().unwrap();
        let sub = serde_json::json!({
            "$ref": format!("#/definitions/{def}"),
            "definitions": schema["definitions"],
        });
        let sub_v = jsonschema::JSONSchema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .compile(&sub)
            .unwrap();
        assert_valid(&sub_v, &v, "JSON Lines record");
    }
    // The schema is strict: an unknown field is rejected.
    let mut doc: serde_json::Value =
        serde_json::from_str(&scan(dir.path(), "json", &[]).1).unwrap();
    doc["findings"][0]["surprise"] = true.into();
    assert!(!v.is_valid(&doc));
}
