//! Exposure: `git.refs`, the refs whose history holds each history finding, in every format
//! that shows it, through shards and their merge, and in the rewrite plan's refs to force-push.

use crate::common::*;
use rand::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A generated signing secret as a `.env` line.
fn jwt_line(rng: &mut impl Rng) -> String {
    format!("JWT_SECRET={}\n", b64url_from(rng, 32))
}

/// `leaksweep git . --format json` with `flags`: (exit code, report).
fn scan(dir: &Path, flags: &[&str]) -> (i32, Value) {
    let mut args = vec!["git", ".", "--format", "json"];
    args.extend_from_slice(flags);
    let (code, json, _) = run_json(leaksweep(dir).args(&args));
    (code, json)
}

/// Each finding's (path, line) and its `git.refs` (`None` when absent).
fn refs_by_place(report: &Value) -> BTreeMap<(String, u64), Option<Vec<String>>> {
    findings(report)
        .iter()
        .map(|f| {
            let refs = f["git"].get("refs").map(|r| {
                r.as_array()
                    .expect("refs is a list")
                    .iter()
                    .map(|n| n.as_str().expect("a ref name").to_string())
                    .collect()
            });
            (
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                ),
                refs,
            )
        })
        .collect()
}

/// The refs of the one finding at `path` (line `line`).
fn refs_at(report: &Value, path: &str, line: u64) -> Vec<String> {
    let all = refs_by_place(report);
    match all.get(&(path.to_string(), line)) {
        Some(Some(refs)) => refs.clone(),
        other => panic!("no refs for {path}:{line}: {other:?}; findings: {all:?}"),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A history with a secret only an old tag reaches (its branch was reset away), one on main
/// that a feature branch also holds, one only on the feature branch, one whose file changed on
/// main after the tag held an older version of it (two versions folded into one finding), and
/// a branch with no secret.
fn branches_and_tags(rng: &mut impl Rng) -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    repo.git(&["branch", "clean"]);
    let folded = jwt_line(rng);
    repo.write("old.env", jwt_line(rng));
    repo.write("conf.env", &folded);
    repo.commit("secret on a line of history only a tag keeps");
    repo.tag("old");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.write("app.env", jwt_line(rng));
    repo.commit("secret on main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feat.env", jwt_line(rng));
    repo.commit("secret on the feature branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conf.env", format!("MODE=prod\n{folded}"));
    repo.commit("the tag's secret again, in a new version of its file");
    repo
}

#[test]
fn refs_name_exactly_the_branches_and_tags_that_reach_each_secret() {
    let mut rng = seeded_rng();
    let repo = branches_and_tags(&mut rng);
    let (code, report) = scan(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(refs_by_place(&report).len(), 4, "{report}");
    assert_eq!(refs_at(&report, "old.env", 1), names(&["refs/tags/old"]));
    assert_eq!(
        refs_at(&report, "app.env", 1),
        names(&["refs/heads/feature", "refs/heads/main"])
    );
    assert_eq!(
        refs_at(&report, "feat.env", 1),
        names(&["refs/heads/feature"])
    );
    // Both versions of conf.env hold it: the tag's and main's (feature forked before it).
    let conf = findings(&report)
        .into_iter()
        .find(|f| f["path"] == "conf.env")
        .expect("conf.env finding");
    assert_eq!(
        conf["git"]["refs"],
        serde_json::json!(["refs/heads/main", "refs/tags/old"])
    );
    // JSON Lines carries the same list.
    let (out, _) = run_expect(
        leaksweep(repo.path()).args(["git", ".", "--format", "jsonl"]),
        1,
    );
    let old: Value = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["path"] == "old.env")
        .expect("old.env line");
    assert_eq!(old["git"]["refs"], serde_json::json!(["refs/tags/old"]));
}

#[test]
fn text_names_the_refs_briefly() {
    let mut rng = seeded_rng();
    let repo = branches_and_tags(&mut rng);
    let (code, out, _) = run_text(leaksweep(repo.path()).args(["git", "."]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    for want in [
        "reachable from: old",
        "reachable from: feature, main",
        "reachable from: feature",
        "reachable from: main, old",
    ] {
        assert!(lines.contains(&want), "{want:?} in:\n{out}");
    }
}

#[test]
fn stash_entries_detached_head_messages_and_unreachable_blobs() {
    let mut rng = seeded_rng();
    let repo = Repo::new();
    repo.write("cfg.env", "A=1\n");
    repo.commit("base");
    // Two stash entries: the older lives only in the stash reflog.
    repo.write("cfg.env", format!("A=1\n{}", jwt_line(&mut rng)));
    repo.git(&["stash", "-q"]);
    repo.write("cfg.env", format!("A=1\nB=2\n{}", jwt_line(&mut rng)));
    repo.git(&["stash", "-q"]);
    // A commit message on main, an annotated tag's message.
    repo.write("x.txt", "x\n");
    repo.commit(&format!(
        "rotate db\n\nold password was DB_PASSWORD={}",
        password_from(&mut rng, 18)
    ));
    repo.tag_annotated(
        "rel",
        &format!("release\n\nDB_PASSWORD={}", password_from(&mut rng, 18)),
    );
    // A commit only the detached HEAD reaches.
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("detached.env", jwt_line(&mut rng));
    repo.commit("on a detached HEAD");
    // A blob no commit holds.
    let loose = repo.beside("loose.env");
    std::fs::write(&loose, jwt_line(&mut rng)).unwrap();
    let blob = repo.git(&["hash-object", "-w", &loose.display().to_string()]);

    let (code, report) = scan(repo.path(), &["--include-unreachable"]);
    assert_eq!(code, 1);
    assert_eq!(refs_at(&report, "cfg.env", 2), names(&["refs/stash"]));
    assert_eq!(refs_at(&report, "cfg.env", 3), names(&["refs/stash"]));
    assert_eq!(refs_at(&report, "detached.env", 1), names(&["HEAD"]));
    let by_kind = |kind: &str| -> Vec<Value> {
        findings(&report)
            .into_iter()
            .filter(|f| f["git"]["kind"] == kind)
            .map(|f| f["git"]["refs"].clone())
            .collect()
    };
    // Main's message is reached by main, the tag on it and its descendant, the detached HEAD.
    assert_eq!(
        by_kind("commit-message"),
        [serde_json::json!([
            "HEAD",
            "refs/heads/main",
            "refs/tags/rel"
        ])]
    );
    assert_eq!(
        by_kind("tag-message"),
        [serde_json::json!(["refs/tags/rel"])]
    );
    assert_eq!(by_kind("unreachable"), [serde_json::json!([])]);
    let unreachable = findings(&report)
        .into_iter()
        .find(|f| f["git"]["kind"] == "unreachable")
        .unwrap();
    assert_eq!(unreachable["git"]["blob"], blob.as_str());
}

#[test]
fn a_range_scan_reports_no_refs() {
    let mut rng = seeded_rng();
    let repo = branches_and_tags(&mut rng);
    let (code, report) = scan(repo.path(), &["--range", "HEAD~1..HEAD"]);
    assert_eq!(code, 1);
    let all = refs_by_place(&report);
    assert!(!all.is_empty());
    assert!(all.values().all(Option::is_none), "{all:?}");
}

#[test]
fn merged_shards_give_the_refs_of_one_scan() {
    let mut rng = seeded_rng();
    let repo = branches_and_tags(&mut rng);
    let dir = repo.path();
    for flags in [&[][..], &["--all-locations"][..]] {
        let (_, want) = scan(dir, flags);
        let mut reports = Vec::new();
        for i in 0..3 {
            let out = dir.join(format!("../exposure-shard-{i}.jsonl"));
            let out_s = out.display().to_string();
            let shard = format!("{i}/3");
            let mut args = vec!["git", ".", "--shard", &shard, "--quiet", "--output", &out_s];
            args.extend_from_slice(flags);
            run_expect(leaksweep(dir).args(&args), 0);
            reports.push(out_s);
        }
        let mut args = vec!["merge".to_string()];
        args.extend(reports);
        args.extend(["--format", "json"].map(String::from));
        let (code, got, _) = run_json(leaksweep(dir).args(&args));
        assert_eq!(code, 1);
        assert_eq!(refs_by_place(&got), refs_by_place(&want), "{flags:?}");
        let conf = findings(&got)
            .into_iter()
            .find(|f| f["path"] == "conf.env")
            .expect("conf.env finding");
        assert_eq!(
            conf["git"]["refs"],
            serde_json::json!(["refs/heads/main", "refs/tags/old"]),
            "the folded versions' refs survive the merge"
        );
    }
}

/// `rewrite plan --format json` in `dir`.
fn plan(dir: &Path) -> Value {
    let (code, out, err) = run_text(leaksweep(dir).args(["rewrite", "plan", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("a JSON plan")
}

/// The union of the refs of every finding, less the local stash.
fn union_of_refs(report: &Value) -> Vec<String> {
    let mut all: Vec<String> = refs_by_place(report)
        .into_values()
        .flatten()
        .flatten()
        .filter(|r| r != "refs/stash")
        .collect();
    all.sort();
    all.dedup();
    all
}

#[test]
fn the_rewrite_plan_lists_the_refs_to_force_push() {
    let mut rng = seeded_rng();
    let repo = branches_and_tags(&mut rng);
    // A stash holding a secret is rewritten, but is not pushed.
    repo.write("app.env", jwt_line(&mut rng));
    repo.git(&["stash", "-q"]);
    let p = plan(repo.path());
    let want = names(&["refs/heads/feature", "refs/heads/main", "refs/tags/old"]);
    assert_eq!(p["refs_to_push"], serde_json::json!(want));
    assert_eq!(
        p["push_commands"],
        serde_json::json!([
            "git push --force 'origin' 'refs/heads/feature' 'refs/heads/main' 'refs/tags/old'"
        ])
    );
    let (_, report) = scan(repo.path(), &[]);
    assert_eq!(
        union_of_refs(&report),
        want,
        "the refs reaching the findings"
    );
    let (code, text, _) = run_text(leaksweep(repo.path()).args(["rewrite", "plan"]));
    assert_eq!(code, 0);
    assert!(
        text.contains(
            "Refs to force-push (3):\n  refs/heads/feature\n  refs/heads/main\n  refs/tags/old\n  $ git push --force 'origin' 'refs/heads/feature' 'refs/heads/main' 'refs/tags/old'\n"
        ),
        "{text}"
    );
    let (code, md, _) =
        run_text(leaksweep(repo.path()).args(["rewrite", "plan", "--format", "markdown"]));
    assert_eq!(code, 0);
    assert!(
        md.contains("## Refs to force-push\n\n- `refs/heads/feature`\n"),
        "{md}"
    );
}

#[test]
fn in_a_clone_remote_tracking_refs_are_pushed_as_the_remote_branches() {
    let mut rng = seeded_rng();
    let src = branches_and_tags(&mut rng);
    let fx = Fixture::new();
    let clone = fresh_clone(&fx, src.path(), "clone");
    let p = plan(&clone);
    assert_eq!(
        p["refs_to_push"],
        serde_json::json!([
            "refs/heads/main",
            "refs/remotes/origin/feature",
            "refs/remotes/origin/main",
            "refs/tags/old"
        ])
    );
    // origin/main is main, which is pushed from the local branch.
    assert_eq!(
        p["push_commands"],
        serde_json::json!([
            "git push --force 'origin' 'refs/heads/main' 'refs/tags/old' 'refs/remotes/origin/feature:refs/heads/feature'"
        ])
    );
    let (_, report) = scan(&clone, &[]);
    assert_eq!(
        refs_at(&report, "app.env", 1),
        names(&[
            "refs/heads/main",
            "refs/remotes/origin/feature",
            "refs/remotes/origin/main"
        ])
    );
}

/// A ref named after the secret it reaches (`refs/heads/leak/<value>`) is repository text like
/// any other: the exposure list, the text report and the rewrite plan's push commands redact
/// it.
#[test]
fn a_ref_named_after_its_secret_is_redacted_everywhere() {
    let mut rng = seeded_rng();
    let repo = Repo::new();
    let value = b64url_from(&mut rng, 32).replace('-', "x");
    repo.commit_files(&[(".env", format!("JWT_SECRET={value}\n"))], "env");
    repo.git(&["branch", &format!("leak/{value}")]);
    let (code, report) = scan(repo.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    let refs = refs_at(&report, ".env", 1);
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(refs.contains(&"refs/heads/main".to_string()), "{refs:?}");
    assert!(
        refs.iter().any(|r| r.starts_with("refs/heads/leak/")),
        "{refs:?}"
    );
    assert!(!report.to_string().contains(&value), "{report:#}");
    let (code, text, _) = run_text(leaksweep(repo.path()).args(["git", "."]));
    assert_eq!(code, 1);
    assert!(text.contains("reachable from: "), "{text}");
    assert!(!text.contains(&value), "{text}");
    let plan = plan(repo.path());
    assert_eq!(
        plan["refs_to_push"].as_array().map(Vec::len),
        Some(2),
        "{plan:#}"
    );
    assert!(!plan.to_string().contains(&value), "{plan:#}");
    let (_, text, _) = run_text(leaksweep(repo.path()).args(["rewrite", "plan"]));
    assert!(text.contains("git push --force"), "{text}");
    assert!(!text.contains(&value), "{text}");
}
