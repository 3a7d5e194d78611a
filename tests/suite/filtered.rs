//! `--show-filtered`: the candidates the built-in filters judged not to be leaks, reported marked
//! with the filter's reason. They never change the exit status, never enter a baseline, never
//! carry a raw value without `--show-secrets`, and leave no trace without the flag. Every value is
//! generated: a GitHub classic token with a broken checksum, a placeholder password, and a GitHub
//! token whose checksum holds (the real-shaped secret).

use crate::common::*;
use leaksweep::matcher::validate::{base62, crc32};
use rand::Rng;

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub classic token (`ghp_` + 30 random characters + their base62 CRC32), its checksum
/// broken when `broken`.
fn ghp(rng: &mut impl Rng, broken: bool) -> String {
    let random = draw(rng, ALNUM, 30);
    let check = base62(u64::from(crc32(random.as_bytes())), 6);
    let check = match broken {
        false => check,
        true if check == "000000" => "111111".to_string(),
        true => "000000".to_string(),
    };
    format!("ghp_{random}{check}")
}

/// The values of one fixture.
struct Planted {
    /// The token with the broken checksum.
    fake: String,
    /// The token whose checksum holds.
    real: String,
}

/// The placeholder every fixture assigns to a password in a configuration file.
const PLACEHOLDER: &str = "changeme";

/// `src/config.py` (line 1 the fake token, line 2 the real one) and `deploy.env` (line 1 the
/// placeholder password), in `dir`.
fn plant(dir: &std::path::Path, rng: &mut impl Rng) -> Planted {
    let p = Planted {
        fake: ghp(rng, true),
        real: ghp(rng, false),
    };
    write_files(dir, &p);
    p
}

fn write_files(dir: &std::path::Path, p: &Planted) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/config.py"),
        format!(
            "GITHUB_TOKEN = \"{}\"\nREAL_TOKEN = \"{}\"\n",
            p.fake, p.real
        ),
    )
    .unwrap();
    std::fs::write(dir.join("deploy.env"), format!("PASSWORD={PLACEHOLDER}\n")).unwrap();
}

/// `scan . --no-ignore --format json` plus `extra` in `dir`.
fn scan_json(dir: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["scan", ".", "--no-ignore", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, report, _) = run_json(leaksweep(dir).args(&args));
    (code, report)
}

/// (path, line, rule, filtered reason or "") of each finding, in report order.
fn shape(report: &serde_json::Value) -> Vec<(String, u64, String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["filtered"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn row(path: &str, line: u64, rule: &str, filtered: &str) -> (String, u64, String, String) {
    (path.into(), line, rule.into(), filtered.into())
}

#[test]
fn the_flag_adds_each_rejected_candidate_marked_with_its_filter() {
    let fx = Fixture::new();
    let p = plant(fx.path(), &mut seeded_rng());

    let (code, plain) = scan_json(fx.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        shape(&plain),
        vec![row("src/config.py", 2, "github-pat", "")]
    );
    assert!(
        plain["summary"].get("filtered").is_none(),
        "{:#}",
        plain["summary"]
    );

    let (code, shown) = scan_json(fx.path(), &["--show-filtered", "--show-secrets"]);
    assert_eq!(code, 1, "the real token still fails the scan");
    assert_eq!(
        shape(&shown),
        vec![
            row("deploy.env", 1, "password-assignment", "placeholder"),
            row("src/config.py", 1, "github-pat", "checksum-failed"),
            row("src/config.py", 2, "github-pat", ""),
        ]
    );
    let found = findings(&shown);
    assert_eq!(found[0]["secret"], PLACEHOLDER);
    assert_eq!(found[1]["secret"], p.fake.as_str());
    assert_eq!(found[2]["secret"], p.real.as_str());
    for f in &found[..2] {
        assert_eq!(f["confidence"], "low", "{f:#}");
    }
    assert_eq!(found[2]["confidence"], "high");
    assert!(found[2].get("filtered").is_none());
    // Counted apart: one finding, one secret, two filtered candidates.
    assert_eq!(shown["summary"]["findings"], 1);
    assert_eq!(shown["summary"]["secrets"], 1);
    assert_eq!(shown["summary"]["filtered"], 2);
    let errors: Vec<String> = crate::formats::report_validator()
        .validate(&shown)
        .err()
        .into_iter()
        .flatten()
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn only_filtered_candidates_exit_zero_and_say_so() {
    let fx = Fixture::new();
    let p = plant(fx.path(), &mut seeded_rng());
    std::fs::write(
        fx.path().join("src/config.py"),
        format!("GITHUB_TOKEN = \"{}\"\n", p.fake),
    )
    .unwrap();
    let (code, report) = scan_json(fx.path(), &["--show-filtered"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(report["summary"]["filtered"], 2);
    let (text, err) = run_expect(
        leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--show-filtered"]),
        0,
    );
    assert!(text.contains("0 findings (0 distinct secrets)"), "{text}");
    assert!(text.contains("; 2 filtered candidates shown"), "{text}");
    assert!(err.is_empty() || !err.contains("error"), "{err}");
    let (_, err) = run_expect(
        leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--show-filtered", "-f", "json"]),
        0,
    );
    assert!(
        err.contains("0 findings (0 secrets, 2 filtered candidates shown)"),
        "{err}"
    );
}

/// Every format with the flag: the marker each shows, and no raw value anywhere.
#[test]
fn every_format_marks_them_and_none_holds_a_raw_value() {
    let fx = Fixture::new();
    let p = plant(fx.path(), &mut seeded_rng());
    let run = |format: &str| {
        let (out, _) = run_expect(
            leaksweep(fx.path()).args([
                "scan",
                ".",
                "--no-ignore",
                "--show-filtered",
                "--format",
                format,
            ]),
            1,
        );
        for raw in [p.fake.as_str(), p.real.as_str(), PLACEHOLDER] {
            assert!(!out.contains(raw), "{format} holds a raw value:\n{out}");
        }
        out
    };

    let text = run("text");
    assert!(
        text.contains("  1:17  critical  github-pat [filtered: checksum-failed] [low]\n"),
        "{text}"
    );
    assert!(
        text.contains("password-assignment [filtered: placeholder] [low]\n"),
        "{text}"
    );
    assert!(
        text.contains("  2:15  critical  github-pat [high]\n"),
        "{text}"
    );

    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let levels: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["level"].as_str().unwrap(),
                r["properties"]["filtered"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            ("password-assignment", "note", "placeholder"),
            ("github-pat", "note", "checksum-failed"),
            ("github-pat", "error", ""),
        ]
    );
    let errors: Vec<String> = crate::formats::sarif_validator()
        .validate(&sarif)
        .err()
        .into_iter()
        .flatten()
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let jsonl = run("jsonl");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["filtered"], "checksum-failed");
    assert_eq!(lines[3]["type"], "summary");
    assert_eq!(lines[3]["filtered"], 2);

    let csv = run("csv");
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",description,filtered"), "{header}");
    assert!(
        csv.lines().nth(2).unwrap().ends_with(",checksum-failed"),
        "{csv}"
    );
    assert!(csv.lines().nth(3).unwrap().ends_with(','), "{csv}");

    let junit = run("junit");
    assert!(
        junit.contains(r#"tests="3" failures="1" errors="0" skipped="2""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<skipped message="filtered (checksum-failed): "#),
        "{junit}"
    );

    let github = run("github");
    assert!(
        github.contains("::notice file=src/config.py,line=1,col=17,endColumn=56,title=github-pat [filtered%3A checksum-failed]::"),
        "{github}"
    );
    assert!(
        github.contains("::error file=src/config.py,line=2,"),
        "{github}"
    );

    let markdown = run("markdown");
    assert!(markdown.contains("| Findings | 1 |"), "{markdown}");
    assert!(
        markdown.contains("| Filtered candidates shown | 2 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("## Filtered candidates (judged not to be leaks)"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "| github-pat | checksum-failed | `ghp_****** (40 chars)` | `src/config.py`:1:17 |"
        ),
        "{markdown}"
    );
}

/// Without the flag the candidates leave no trace: every format's output is the output of a
/// tree where those lines hold nothing any rule matches (same sizes), but for the time taken.
#[test]
fn without_the_flag_every_format_is_as_before() {
    let mut rng = seeded_rng();
    let (with, without) = (Fixture::new(), Fixture::new());
    let p = plant(with.path(), &mut rng);
    let blank = Planted {
        fake: "x".repeat(p.fake.len()),
        real: p.real.clone(),
    };
    write_files(without.path(), &blank);
    std::fs::write(
        without.path().join("deploy.env"),
        format!("PASSWORD_{}\n", "y".repeat(PLACEHOLDER.len())),
    )
    .unwrap();
    let duration = regex::Regex::new(r#"(\d+ ms|"duration_ms": ?\d+)"#).unwrap();
    for format in [
        "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
    ] {
        let out = |dir: &std::path::Path| {
            let (out, _) = run_expect(
                leaksweep(dir).args(["scan", ".", "--no-ignore", "--format", format]),
                1,
            );
            duration.replace_all(&out, "<time>").into_owned()
        };
        assert_eq!(out(with.path()), out(without.path()), "{format}");
    }
}

#[test]
fn a_baseline_created_with_the_flag_holds_no_filtered_value() {
    let fx = Fixture::new();
    let p = plant(fx.path(), &mut seeded_rng());
    let (baseline, _) = run_expect(
        leaksweep(fx.path()).args(["baseline", "create", ".", "--no-ignore", "--show-filtered"]),
        0,
    );
    let b: serde_json::Value = serde_json::from_str(&baseline).unwrap();
    let ids: Vec<&str> = b["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secret_id"].as_str().unwrap())
        .collect();
    let (_, report) = scan_json(fx.path(), &["--show-filtered"]);
    let real = findings(&report)
        .into_iter()
        .find(|f| f.get("filtered").is_none())
        .unwrap();
    assert_eq!(ids, vec![real["secret_id"].as_str().unwrap()], "{baseline}");
    assert!(!baseline.contains(&p.fake) && !baseline.contains(PLACEHOLDER));
}

/// The user's own decisions are not second-guessed: a value allowed inline or by the project's
/// allowlist is not shown as filtered.
#[test]
fn what_the_user_allowed_is_not_shown() {
    let fx = Fixture::new();
    let p = plant(fx.path(), &mut seeded_rng());
    std::fs::write(
        fx.path().join("src/config.py"),
        format!("GITHUB_TOKEN = \"{}\"  # leaksweep:allow\n", p.fake),
    )
    .unwrap();
    fx.write(
        ".leaksweep.toml",
        "[allowlist]\npaths = ['''deploy\\.env''']\n",
    );
    let (code, report) = scan_json(fx.path(), &["--show-filtered"]);
    assert_eq!(code, 0);
    assert_eq!(shape(&report), vec![]);
    assert!(report["summary"].get("filtered").is_none());
}

/// Inside base64 values, archives and standard input, as normal findings are.
#[test]
fn decoded_values_archives_and_stdin_show_them_too() {
    use base64::Engine;
    let mut rng = seeded_rng();
    let fake = ghp(&mut rng, true);
    let fx = Fixture::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("token: {fake}\n"));
    fx.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  config: {encoded}\n"),
    );
    fx.write(
        "bundle.zip",
        zip_of(&[(
            "app/settings.py",
            format!("TOKEN = \"{fake}\"\n").as_bytes(),
        )]),
    );
    let (code, report) = scan_json(fx.path(), &["--show-filtered"]);
    assert_eq!(code, 0);
    assert_eq!(
        shape(&report),
        vec![
            row(
                "bundle.zip!app/settings.py",
                1,
                "github-pat",
                "checksum-failed"
            ),
            row("k8s/secret.yaml", 4, "github-pat", "checksum-failed"),
        ]
    );
    let (text, _) = run_expect(
        leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--show-filtered"]),
        0,
    );
    assert!(!text.contains(&fake) && !text.contains(&encoded), "{text}");

    let (code, report, _) = run_json(
        leaksweep(fx.path())
            .args(["scan", "-", "--show-filtered", "-f", "json"])
            .write_stdin(format!("GITHUB_TOKEN={fake}\n")),
    );
    assert_eq!(code, 0);
    assert_eq!(
        shape(&report),
        vec![row("-", 1, "github-pat", "checksum-failed")]
    );
}

/// At most `--max-findings-per-file` of them per file, as for findings.
#[test]
fn they_are_bounded_per_file() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let lines: String = (0..6)
        .map(|i| format!("TOKEN_{i} = \"{}\"\n", ghp(&mut rng, true)))
        .collect();
    fx.write("tokens.py", lines);
    let (code, report) = scan_json(
        fx.path(),
        &["--show-filtered", "--max-findings-per-file", "2"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        shape(&report),
        vec![
            row("tokens.py", 1, "github-pat", "checksum-failed"),
            row("tokens.py", 2, "github-pat", "checksum-failed"),
        ]
    );
}

/// The history scan sees one in an old commit (named by it), sharded and merged too; a commit
/// message holding the value is one of its places, and the summary shows it masked.
#[test]
fn history_sharded_or_not_sees_one_in_an_old_commit() {
    let mut rng = seeded_rng();
    let fake = ghp(&mut rng, true);
    let repo = Repo::new();
    let old = repo.commit_files(
        &[("settings.py", format!("GITHUB_TOKEN = \"{fake}\"\n"))],
        &format!("add token {fake}"),
    );
    repo.remove("settings.py");
    repo.commit("drop it");
    let dir = repo.path();
    let (code, plain, _) = run_json(leaksweep(dir).args(["git", ".", "-f", "json"]));
    assert_eq!(code, 0);
    assert_eq!(shape(&plain), vec![]);

    let (code, report, _) =
        run_json(leaksweep(dir).args(["git", ".", "-f", "json", "--show-filtered"]));
    assert_eq!(code, 0);
    // One entry per secret, as for findings: the message first, the file among its places.
    assert_eq!(
        shape(&report),
        vec![row("<commit message>", 1, "github-pat", "checksum-failed")]
    );
    let f = &findings(&report)[0];
    assert_eq!(f["git"]["commit"], old.as_str(), "{f:#}");
    assert_eq!(f["git"]["locations"][0]["path"], "settings.py", "{f:#}");
    assert_eq!(f["git"]["locations"][0]["commit"], old.as_str(), "{f:#}");
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains(&fake), "{text}");
    assert!(text.contains("add token ghp_****** (40 chars)"), "{text}");

    let shards: Vec<String> = (0..2)
        .map(|i| {
            let out = repo
                .beside(&format!("s{i}.jsonl"))
                .to_string_lossy()
                .into_owned();
            let s = format!("{i}/2");
            run_expect(
                leaksweep(dir).args([
                    "git",
                    ".",
                    "--shard",
                    &s,
                    "--show-filtered",
                    "-o",
                    &out,
                    "-q",
                ]),
                0,
            );
            out
        })
        .collect();
    let (code, merged, _) =
        run_json(leaksweep(dir).args(["merge", &shards[0], &shards[1], "-f", "json"]));
    assert_eq!(code, 0);
    assert_eq!(shape(&merged), shape(&report));
    assert_eq!(merged["summary"]["filtered"], 1);
}
