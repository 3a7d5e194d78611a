//! Paper cuts a first rewrite or a first report meets: what a `--remove-path` glob takes, a
//! clean history, refusals before the history scan, and the order of history groups in the text
//! report. Real repositories in temporary directories, the real binary.

use crate::common::*;

/// A repository with `.env.example`, `.env.production` (two versions) and `sub/.env.local`, no
/// secret anywhere; and a fresh clone of it.
fn env_files_repo() -> (Fixture, std::path::PathBuf) {
    let fx = Fixture::new();
    let r = Repo::init(&fx, "src");
    r.commit_files(
        &[
            (".env.example", "API_URL=<set API_URL>\n"),
            (".env.production", "API_URL=https://one.example\n"),
            ("sub/.env.local", "DEBUG=1\n"),
            ("README.md", "# app\n"),
        ],
        "one",
    );
    r.commit_files(
        &[(".env.production", "API_URL=https://two.example\n")],
        "two",
    );
    let clone = fresh_clone(&fx, r.path(), "work");
    (fx, clone)
}

#[test]
fn rewrite_plan_lists_every_path_a_remove_glob_matches() {
    let (_fx, repo) = env_files_repo();
    let (code, out, err) = run_text(leaksweep(&repo).args([
        "rewrite",
        "plan",
        "--remove-path",
        ".env.*",
        "--remove-path",
        "docs/*",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plan["remove_path_matches"],
        serde_json::json!([
            {"glob": ".env.*", "paths": [
                {"path": ".env.example", "versions": 1},
                {"path": ".env.production", "versions": 2},
                {"path": "sub/.env.local", "versions": 1},
            ]},
            {"glob": "docs/*", "paths": []},
        ]),
        "{out}"
    );
    let (code, out, err) = run_text(leaksweep(&repo).args([
        "rewrite",
        "plan",
        "--remove-path",
        ".env.*",
        "--remove-path",
        "docs/*",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "  .env.* matches 3 path(s) in history:\n      .env.example  (1 version)\n      \
             .env.production  (2 versions)\n      sub/.env.local  (1 version)\n  docs/* matches nothing in history\n"
        ),
        "{out}"
    );
}

#[test]
fn rewrite_on_a_clean_history_has_nothing_to_do() {
    let (_fx, repo) = env_files_repo();
    for action in ["plan", "apply"] {
        let (code, out, err) = run_text(leaksweep(&repo).args(["rewrite", action]));
        assert_eq!(code, 0, "{action}: {out}{err}");
        assert!(
            err.contains("nothing to rewrite: the history scan found no secret"),
            "{action}: {err}"
        );
    }
    assert!(!repo.join(".git/leaksweep/commit-map").exists());
}

#[test]
fn rewrite_apply_refuses_before_the_history_scan() {
    let (fx, repo) = env_files_repo();
    std::fs::write(repo.join("README.md"), "local edit\n").unwrap();
    let (code, _, err) = run_text(leaksweep(&repo).args(["rewrite", "apply"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("uncommitted changes (README.md)"), "{err}");
    assert!(
        !err.contains("history scan"),
        "scanned before refusing: {err}"
    );
    // Not a fresh clone: refused before the scan too.
    let src = fx.path().join("src");
    let (code, _, err) = run_text(leaksweep(&src).args(["rewrite", "apply"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fresh clone or mirror"), "{err}");
    assert!(
        !err.contains("history scan"),
        "scanned before refusing: {err}"
    );
}

/// The text report of a history scan shows its groups oldest commit first, whatever the paths:
/// here `z.env` (2019, in a +05:00 zone that makes it earlier than its UTC date suggests),
/// `a.env` (2021), `m.env` (2023).
#[test]
fn history_groups_in_the_text_report_are_oldest_first() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("README.md", "# app\n");
    r.commit_at("2018-01-01T00:00:00Z", "init");
    for (name, date) in [
        ("a.env", "2021-06-01T00:00:00Z"),
        ("z.env", "2019-03-01T02:00:00+05:00"),
        ("m.env", "2023-01-01T00:00:00Z"),
    ] {
        r.write(name, format!("JWT_SECRET={}\n", b64url_from(&mut rng, 32)));
        r.commit_at(date, name);
    }
    let (code, out, err) = run_text(leaksweep(r.path()).arg("git"));
    assert_eq!(code, 1, "{err}");
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            l.split(" (commit ")
                .next()
                .filter(|_| l.contains(" (commit "))
        })
        .collect();
    assert_eq!(order, ["z.env", "a.env", "m.env"], "{out}");
}

#[test]
fn an_unknown_rule_id_gets_a_suggestion() {
    let fx = Fixture::new();
    let out = leaksweep(fx.path())
        .args(["rules", "show", "jwt-secrte"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "leaksweep: error: no rule with id 'jwt-secrte' (did you mean 'jwt-secret'?); see `leaksweep rules list`\n"
    );
}

/// Outside a repository, `git` says so once: the path, the reason and what to do, without
/// libgit2's own sentence repeating the path.
#[test]
fn not_a_repository_is_said_once() {
    let fx = Fixture::new();
    let dir = fx.path().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, _out, err) = run_text(leaksweep(&dir).args(["git", "."]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not inside a git repository"), "{err}");
    assert!(!err.contains("could not find repository"), "{err}");
    assert_eq!(err.matches("leaksweep: error:").count(), 1, "{err}");
}
