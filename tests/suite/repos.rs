//! `git --repos FILE`: many repositories in one audit, one entry per secret across them, a
//! failing repository named and counted, and every format free of raw secrets.

use crate::common::*;
use crate::formats::{assert_valid, report_validator, sarif_validator};
use serde_json::Value;

/// Three repositories as `<fixture>/svc-a`, `svc-b`, `svc-c`: one database password in all three
/// (at a different path, line and commit in each), an AWS key in svc-b only, a clean commit
/// before the leak in each. Listed (with a comment and a blank line) in `repos.txt`.
struct Org {
    fx: Fixture,
    shared: String,
    unique: String,
    /// The commit that brought the shared secret into svc-a, svc-b, svc-c.
    commits: [String; 3],
}

/// Where the shared secret sits in each repository: (path, line).
const PLACES: [(&str, usize); 3] = [("config/.env", 2), (".env", 1), ("deploy/app.env", 3)];

fn org() -> Org {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let shared = password_from(&mut rng, 22);
    let unique = format!(
        "AKIA{}",
        draw(&mut rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    );
    let mut commits = Vec::new();
    for (i, name) in ["svc-a", "svc-b", "svc-c"].iter().enumerate() {
        let repo = Repo::init(&fx, name);
        repo.commit_files(&[("README.md", format!("# {name}\n"))], "start");
        let (path, line) = PLACES[i];
        let mut text: String = (1..line).map(|n| format!("PORT_{n}=80{n}\n")).collect();
        text.push_str(&format!("DB_PASSWORD={shared}\n"));
        if *name == "svc-b" {
            text.push_str(&format!("AWS_ACCESS_KEY_ID={unique}\n"));
        }
        commits.push(repo.commit_files(&[(path, text)], "configure"));
    }
    fx.write("repos.txt", "# the services\nsvc-a\n\n  svc-b\nsvc-c\n");
    Org {
        fx,
        shared,
        unique,
        commits: commits.try_into().expect("three commits"),
    }
}

/// `leaksweep git --repos repos.txt` plus `args`, run in the fixture.
fn audit(org: &Org, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = leaksweep(org.fx.path());
    cmd.args(["git", "--repos", "repos.txt"]).args(args);
    cmd
}

/// The finding of the shared secret, which must be the only one naming it.
fn shared_entry(report: &Value) -> Value {
    let fs = findings(report);
    let shared: Vec<&Value> = fs
        .iter()
        .filter(|f| f["rule_id"] == "db-password")
        .collect();
    assert_eq!(shared.len(), 1, "{fs:#?}");
    shared[0].clone()
}

/// The repositories an entry names, in its order.
fn named(entry: &Value) -> Vec<String> {
    entry["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|p| p["repository"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_shared_secret_is_one_entry_listing_every_repository() {
    let org = org();
    let (code, report, stderr) = run_json(&mut audit(&org, &["-f", "json"]));
    assert_eq!(code, 1, "{stderr}");
    assert_valid(&report_validator(), &report, "the --repos JSON report");
    let fs = findings(&report);
    assert_eq!(fs.len(), 2, "{fs:#?}");
    assert_eq!(report["summary"]["findings"], 2);
    assert_eq!(report["summary"]["secrets"], 2);
    assert_eq!(report["summary"]["errors"], 0);

    let entry = shared_entry(&report);
    assert_eq!(entry["repository"], "svc-a");
    assert_eq!(entry["path"], "config/.env");
    let places = entry["repositories"].as_array().expect("repositories");
    assert_eq!(places.len(), 3, "{places:#?}");
    for (i, name) in ["svc-a", "svc-b", "svc-c"].iter().enumerate() {
        let p = &places[i];
        assert_eq!(p["repository"], *name);
        assert_eq!(p["path"], PLACES[i].0);
        assert_eq!(p["line"], PLACES[i].1);
        assert_eq!(p["commit"], org.commits[i].as_str());
        assert!(p["date"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    }
    let unique = fs.iter().find(|f| f["rule_id"] != "db-password").unwrap();
    assert_eq!(unique["repository"], "svc-b");
    assert_eq!(unique["repositories"].as_array().map(Vec::len), Some(1));
    assert_eq!(unique["repositories"][0]["commit"], org.commits[1].as_str());

    let per_repo: Vec<(String, u64, u64)> = report["summary"]["repositories"]
        .as_array()
        .expect("summary.repositories")
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap().to_string(),
                r["findings"].as_u64().unwrap(),
                r["commits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_repo,
        [
            ("svc-a".to_string(), 1, 2),
            ("svc-b".to_string(), 2, 2),
            ("svc-c".to_string(), 1, 2)
        ]
    );
    for (i, name) in ["svc-a", "svc-b", "svc-c"].iter().enumerate() {
        assert!(
            stderr.contains(&format!("leaksweep: [{}/3] {name}: ", i + 1)),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains(
            "leaksweep: 3 repositories (0 failed): 2 secrets, 1 in more than one repository"
        ),
        "{stderr}"
    );
    // -q hides the progress.
    let (_, quiet) = run_expect(&mut audit(&org, &["-f", "json", "-q"]), 1);
    assert!(!quiet.contains("[1/3]"), "{quiet}");
}

#[test]
fn text_names_the_shared_secret_once_with_every_repository() {
    let org = org();
    let (out, _) = run_expect(&mut audit(&org, &[]), 1);
    let id = shared_entry(&run_json(&mut audit(&org, &["-f", "json", "-q"])).1)["secret_id"]
        .as_str()
        .unwrap()[..16]
        .to_string();
    assert_eq!(out.matches(&id).count(), 1, "{out}");
    let also = format!(
        "also in: svc-b (.env:1 @ {}), svc-c (deploy/app.env:3 @ {})",
        &org.commits[1][..12],
        &org.commits[2][..12]
    );
    assert_eq!(out.matches(&also).count(), 1, "{out}");
    assert_eq!(
        out.matches("svc-a: config/.env (commit ").count(),
        1,
        "{out}"
    );
    assert_eq!(out.matches("svc-b: .env (commit ").count(), 1, "{out}");
    assert!(
        !out.contains("svc-c: "),
        "svc-c holds only the shared secret: {out}"
    );
    assert!(out.contains("; 3 repositories"), "{out}");
}

#[test]
fn sarif_has_one_run_per_repository_with_its_own_places() {
    let org = org();
    let (out, _) = run_expect(&mut audit(&org, &["-f", "sarif", "-q"]), 1);
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_valid(&sarif_validator(), &log, "the --repos SARIF log");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for (i, name) in ["svc-a", "svc-b", "svc-c"].iter().enumerate() {
        let run = &runs[i];
        assert_eq!(run["automationDetails"]["id"], format!("leaksweep/{name}/"));
        assert_eq!(run["properties"]["repository"], *name);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), if i == 1 { 2 } else { 1 }, "{name}");
        let db = results
            .iter()
            .find(|r| r["ruleId"] == "db-password")
            .unwrap();
        let loc = &db["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], PLACES[i].0);
        assert_eq!(loc["region"]["startLine"], PLACES[i].1);
        assert_eq!(db["properties"]["commit"], org.commits[i].as_str());
    }
}

#[test]
fn markdown_tallies_repositories_and_lists_the_most_reused_first() {
    let org = org();
    let (md, _) = run_expect(&mut audit(&org, &["-f", "markdown", "-q"]), 1);
    assert!(
        md.contains("## By repository\n\n| Repository | Findings | Secrets |\n|---|---:|---:|\n| `svc-a` | 1 | 1 |\n| `svc-b` | 2 | 2 |\n| `svc-c` | 1 | 1 |\n"),
        "{md}"
    );
    let first = md.split("### 1. ").nth(1).unwrap();
    let first = first.split("### 2. ").next().unwrap();
    assert!(first.contains("- 3 repositories: `svc-a`"), "{first}");
    assert!(first.contains("- rules: db-password"), "{first}");
}

#[test]
fn failing_repositories_are_named_and_the_rest_go_on() {
    let org = org();
    std::fs::create_dir(org.fx.path().join("not-a-repo")).unwrap();
    org.fx
        .write("repos.txt", "svc-a\nmissing\nnot-a-repo\nsvc-c\n");
    let (code, report, stderr) = run_json(&mut audit(&org, &["-f", "json"]));
    assert_eq!(code, 2, "{stderr}");
    assert_valid(
        &report_validator(),
        &report,
        "the JSON report of a failing audit",
    );
    let entry = shared_entry(&report);
    assert_eq!(named(&entry), ["svc-a", "svc-c"]);
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["missing", "not-a-repo"]);
    assert_eq!(report["summary"]["errors"], 2);
    let repos = report["summary"]["repositories"].as_array().unwrap();
    assert!(repos[1]["error"].is_string() && repos[2]["error"].is_string());
    assert!(repos[0].get("error").is_none() && repos[3].get("error").is_none());
    assert!(
        stderr.contains("leaksweep: [2/4] missing: error: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("leaksweep: [3/4] not-a-repo: error: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("leaksweep: 2 of 4 repositories could not be scanned (exit 2)"),
        "{stderr}"
    );
    // --ignore-errors is for unreadable objects: a repository missing from the audit still fails.
    let (code, _, _) = run_json(&mut audit(&org, &["-f", "json", "--ignore-errors", "-q"]));
    assert_eq!(code, 2);
    // Text names both failures in the report too.
    let (out, _) = run_expect(&mut audit(&org, &[]), 2);
    assert!(out.contains("error: missing: "), "{out}");
    assert!(out.contains("error: not-a-repo: "), "{out}");
    assert!(out.contains("4 repositories (2 failed)"), "{out}");
}

#[test]
fn the_list_comes_from_stdin_and_nonsense_combinations_are_refused() {
    let org = org();
    let mut cmd = leaksweep(org.fx.path());
    cmd.args(["git", "--repos", "-", "-f", "json", "-q"])
        .write_stdin("# from a pipe\n\nsvc-c\n   \n# svc-b\nsvc-a\n");
    let (code, report, stderr) = run_json(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    let listed: Vec<&str> = report["summary"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["svc-c", "svc-a"]);
    assert_eq!(shared_entry(&report)["repository"], "svc-c");

    let dir = org.fx.path();
    for (args, message) in [
        (
            &["git", "--repos", "repos.txt", "svc-a"][..],
            "cannot be used with",
        ),
        (
            &["git", "--repos", "repos.txt", "--staged"][..],
            "cannot be used with",
        ),
        (
            &["git", "--repos", "repos.txt", "--shard", "0/2"][..],
            "cannot be used with",
        ),
        (
            &["baseline", "git", "--repos", "repos.txt"][..],
            "--repos is for `leaksweep git`",
        ),
        (
            &["git", "--repos", "absent.txt"][..],
            "cannot read the repository list absent.txt",
        ),
    ] {
        assert_input_error(dir, args, message);
    }
    org.fx.write("empty.txt", "# nothing yet\n\n");
    assert_input_error(
        dir,
        &["git", "--repos", "empty.txt"],
        "no repositories listed",
    );
    org.fx.write("twice.txt", "svc-a\nsvc-b\nsvc-a\n");
    assert_input_error(
        dir,
        &["git", "--repos", "twice.txt"],
        "line 3: svc-a is listed twice (first on line 1)",
    );
}

#[test]
fn each_repository_keeps_its_own_ignore_file_and_the_level_filters_apply() {
    let org = org();
    let id = shared_entry(&run_json(&mut audit(&org, &["-f", "json", "-q"])).1)["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    // svc-b accepts the shared secret in its own .leaksweepignore: only svc-b stops naming it.
    org.fx.write("svc-b/.leaksweepignore", format!("{id}\n"));
    let (code, report, _) = run_json(&mut audit(&org, &["-f", "json", "-q"]));
    assert_eq!(code, 1);
    assert_eq!(named(&shared_entry(&report)), ["svc-a", "svc-c"]);
    assert_eq!(report["summary"]["suppressed_baseline"], 1);
    // --min-severity drops the AWS key (high) in every repository, as in one.
    let (_, report, _) = run_json(&mut audit(
        &org,
        &["-f", "json", "-q", "--min-severity", "critical"],
    ));
    let rules: Vec<String> = findings(&report)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, ["db-password"]);
}

#[test]
fn no_raw_secret_in_any_format_of_an_audit() {
    let org = org();
    std::fs::create_dir(org.fx.path().join("not-a-repo")).unwrap();
    org.fx
        .write("repos.txt", "svc-a\nnot-a-repo\nsvc-b\nsvc-c\n");
    for format in [
        "text", "json", "jsonl", "sarif", "csv", "junit", "github", "markdown",
    ] {
        let out = audit(&org, &["-f", format, "-v"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            for secret in [&org.shared, &org.unique] {
                assert!(
                    !holds(bytes, secret),
                    "{format} {what} holds a raw secret:\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
    // --show-secrets is the one way to see them.
    let (_, report, _) = run_json(&mut audit(&org, &["-f", "json", "-q", "--show-secrets"]));
    assert_eq!(shared_entry(&report)["secret"], org.shared.as_str());
}

/// The CI formats name the repository too: an Actions annotation says which repository its file
/// is in (and where else the secret is), a JUnit test case's class is `repository:path`.
#[test]
fn github_and_junit_name_the_repository() {
    let org = org();
    let (out, _) = run_expect(&mut audit(&org, &["-f", "github", "-q"]), 1);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    let shared = lines
        .iter()
        .find(|l| l.contains("title=db-password"))
        .expect("the shared secret's annotation");
    assert!(
        shared.starts_with("::error file=config/.env,line=2,"),
        "{shared}"
    );
    let also = format!(
        "Repository: svc-a; also in: svc-b (.env:1 @ {}), svc-c (deploy/app.env:3 @ {})",
        &org.commits[1][..12],
        &org.commits[2][..12]
    );
    assert!(shared.contains(&also), "{shared}");
    let aws = lines
        .iter()
        .find(|l| l.contains("title=aws-access-key-id"))
        .expect("the AWS key's annotation");
    assert!(aws.contains("%0ARepository: svc-b%0A"), "{aws}");

    let (out, _) = run_expect(&mut audit(&org, &["-f", "junit", "-q"]), 1);
    assert_eq!(
        out.matches(r#"<testcase classname="svc-a:config/.env""#)
            .count(),
        1,
        "{out}"
    );
    assert_eq!(
        out.matches(r#"<testcase classname="svc-b:.env""#).count(),
        1,
        "{out}"
    );
    assert!(!out.contains(&org.shared) && !out.contains(&org.unique));
}

/// The pre-push check scans the pushed range of one repository: a list of repositories there is
/// a usage error, not a run over each.
#[test]
fn pre_push_refuses_a_repository_list() {
    let org = org();
    let mut cmd = leaksweep(org.fx.path());
    cmd.args(["hook", "pre-push", "--repos", "repos.txt"])
        .env("PRE_COMMIT_FROM_REF", &org.commits[0])
        .env("PRE_COMMIT_TO_REF", &org.commits[0]);
    let (code, _, err) = run_text(&mut cmd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--repos"), "{err}");
    assert!(!err.contains("[1/3]"), "{err}");
}
