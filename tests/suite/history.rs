//! `leaksweep git`: builds real repositories in temp dirs with the git CLI, runs the real binary
//! with `--format json`, and checks exact commit ids, paths, lines and exit codes.

use crate::common::{git_output, leaksweep, run_expect, Repo};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

const DATE_RFC3339: &str = "2024-01-02T03:04:05+01:00";

/// A random 43-character value, fresh per test run (never a committed secret).
fn secret() -> String {
    crate::common::seeded_rng()
        .sample_iter(&Alphanumeric)
        .take(43)
        .map(char::from)
        .collect()
}

fn jwt(s: &str) -> String {
    format!("JWT_SECRET={s}\n")
}

/// Runs `leaksweep git <args> --format json` in `dir`; returns (exit code, report, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = leaksweep(dir)
        .arg("git")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn run(r: &Repo, args: &[&str]) -> (i32, Value) {
    let (code, v, err) = run_in(r.path(), args);
    assert!(v.is_object(), "no JSON report; stderr: {err}");
    (code, v)
}

fn findings(v: &Value) -> Vec<Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// (commit, path, line) of every finding, in report order.
fn places(v: &Value) -> Vec<(String, String, u64)> {
    findings(v)
        .iter()
        .map(|f| {
            (
                f["git"]["commit"].as_str().unwrap_or("").to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn place(commit: &str, path: &str, line: u64) -> (String, String, u64) {
    (commit.to_string(), path.to_string(), line)
}

#[test]
fn secret_added_then_deleted() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    r.write("config/app.env", format!("PORT=8080\n{}", jwt(&secret())));
    let c2 = r.commit("add config");
    r.remove("config/app.env");
    r.commit("remove config");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c2, "config/app.env", 2)]);
    let f = &findings(&v)[0];
    let g = &f["git"];
    assert_eq!(g["kind"], "file");
    assert_eq!(g["blob"], r.rev(&format!("{c2}:config/app.env")).as_str());
    assert_eq!(g["author_name"], "Ada Tester");
    assert_eq!(g["author_email"], "ada@example.com");
    assert_eq!(g["date"], DATE_RFC3339);
    assert_eq!(g["summary"], "add config");
    assert_eq!(
        f["fingerprint"],
        format!("{c2}:config/app.env:jwt-secret:2").as_str()
    );
    assert_eq!(v["summary"]["commits"], 3);
    assert_eq!(v["summary"]["blobs"], 2);
    assert_eq!(v["summary"]["mode"], "git");
}

#[test]
fn secret_only_on_side_branch() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.branch("side");
    r.write("side/.env", jwt(&secret()));
    let c = r.commit("side work");
    r.checkout("main");
    r.write("a.txt", "b\n");
    r.commit("main work");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c, "side/.env", 1)]);
}

#[test]
fn secret_only_in_tags() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    // Lightweight tag on a commit no branch reaches.
    r.branch("tmp");
    r.write("light.env", jwt(&secret()));
    let light = r.commit("light");
    r.tag("v1");
    r.checkout("main");
    r.git(&["branch", "-q", "-D", "tmp"]);
    // Annotated tag on another unreachable commit, with a secret in its message too.
    r.branch("tmp2");
    r.write("annotated.env", jwt(&secret()));
    let annotated = r.commit("annotated");
    let msg = format!("release notes\n\n{}", jwt(&secret()));
    let tag_obj = r.tag_annotated("v2", &msg);
    r.checkout("main");
    r.git(&["branch", "-q", "-D", "tmp2"]);
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&v),
        vec![
            place(&tag_obj, "<tag message>", 3),
            place(&annotated, "annotated.env", 1),
            place(&light, "light.env", 1),
        ]
    );
    let t = &findings(&v)[0]["git"];
    assert_eq!(t["kind"], "tag-message");
    assert_eq!(t["summary"], "tag v2");
    assert_eq!(t["author_name"], "Ada Tester");
    assert_eq!(t["date"], DATE_RFC3339);
}

#[test]
fn secret_only_in_commit_message() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    let msg = format!("fix login\n\ntemporarily set\n{}", jwt(&secret()));
    let c = r.commit(&msg);
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c, "<commit message>", 4)]);
    let g = &findings(&v)[0]["git"];
    assert_eq!(g["kind"], "commit-message");
    assert_eq!(g["summary"], "fix login");
    assert!(g.get("blob").is_none());
}

#[test]
fn secret_only_in_stashes() {
    let r = Repo::new();
    r.write("app.env", "PORT=1\n");
    r.commit("init");
    r.write("app.env", format!("PORT=1\n{}", jwt(&secret())));
    r.git(&["stash", "-q"]);
    let older = r.rev("refs/stash");
    r.write("app.env", format!("PORT=2\n\n{}", jwt(&secret())));
    r.git(&["stash", "-q"]);
    let newer = r.rev("refs/stash");
    assert_ne!(older, newer);
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    let mut got = places(&v);
    got.sort();
    let mut want = vec![place(&older, "app.env", 2), place(&newer, "app.env", 3)];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn secret_in_merge_commit() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.branch("side");
    r.write("b.txt", "b\n");
    r.commit("side");
    r.checkout("main");
    r.write("c.txt", "c\n");
    r.commit("main");
    r.git(&["merge", "-q", "--no-commit", "--no-ff", "side"]);
    r.write("merge.env", jwt(&secret()));
    r.git(&["add", "merge.env"]);
    let m = r.commit_staged("merge side");
    assert_eq!(
        r.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3
    );
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&m, "merge.env", 1)]);
    assert_eq!(findings(&v)[0]["git"]["summary"], "merge side");
}

#[test]
fn renamed_file_is_one_finding_with_both_locations() {
    let r = Repo::new();
    r.write("old.env", jwt(&secret()));
    let c1 = r.commit("add");
    r.git(&["mv", "old.env", "new.env"]);
    let c2 = r.commit("rename");
    let (code, v) = run(&r, &["--all-locations"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c1, "old.env", 1)]);
    let locs: Vec<(String, String)> = findings(&v)[0]["git"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["commit"].as_str().unwrap().to_string(),
                l["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Oldest first (by the topological walk, whatever the dates say).
    assert_eq!(
        locs,
        vec![
            (c1.clone(), "old.env".to_string()),
            (c2, "new.env".to_string())
        ]
    );
    // Without the flag, no locations are listed.
    let (_, v) = run(&r, &[]);
    assert!(findings(&v)[0]["git"].get("locations").is_none());
}

#[test]
fn same_secret_in_three_files_is_one_secret() {
    let r = Repo::new();
    let s = secret();
    r.write("a.env", jwt(&s));
    r.write("b/b.env", format!("X=1\n{}", jwt(&s)));
    r.write("c/c/c.env", format!("X=1\nY=2\n{}", jwt(&s)));
    let c = r.commit("three");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    // History reports the secret once, at its first place; the others are listed with lines.
    assert_eq!(places(&v), vec![place(&c, "a.env", 1)]);
    assert_eq!(
        findings(&v)[0]["git"]["locations"],
        serde_json::json!([
            {"commit": c, "path": "b/b.env", "line": 2},
            {"commit": c, "path": "c/c/c.env", "line": 3}
        ])
    );
    assert_eq!(
        findings(&v)[0]["notes"]["versions"],
        "3 file versions in 3 paths hold it"
    );
    assert_eq!(v["summary"]["secrets"], 1);
    assert_eq!(v["summary"]["findings"], 1);
    // The text report names the other places.
    let out = leaksweep(r.path()).arg("git").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "also at: b/b.env:2 (commit {}), c/c/c.env:3 (commit {})",
            &c[..12],
            &c[..12]
        )),
        "{text}"
    );
}

#[test]
fn copy_in_a_later_commit_is_listed_under_the_oldest_and_baselined() {
    let r = Repo::new();
    let s = secret();
    // z.env sorts after a.env but holds the secret first: it is the finding's place.
    r.write("z.env", format!("A=1\n{}", jwt(&s)));
    let first = r.commit("first");
    r.write("a.env", jwt(&s));
    let second = r.commit("copy");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&first, "z.env", 2)]);
    assert_eq!(
        findings(&v)[0]["git"]["locations"],
        serde_json::json!([{"commit": second, "path": "a.env", "line": 1}])
    );
    // The history report works as a baseline: the same history then passes.
    let report = r.beside("report.json");
    std::fs::write(&report, serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, v) = run(&r, &["--baseline", report.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");

    // `baseline git` records both paths and the commit that introduced the secret; with it, only
    // a secret added later is reported.
    let base = r.beside("base.json");
    let out = leaksweep(r.path())
        .args(["baseline", "git", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let b: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    assert_eq!(b["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(
        b["secrets"][0]["paths"],
        serde_json::json!(["a.env", "z.env"])
    );
    assert_eq!(b["secrets"][0]["first_commit"], first.as_str());
    assert!(!String::from_utf8_lossy(&std::fs::read(&base).unwrap()).contains(&s));
    let fresh = secret();
    r.write("b.env", jwt(&fresh));
    let third = r.commit("another");
    let (code, v) = run(&r, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&third, "b.env", 1)]);
}

#[test]
fn dangling_blob_needs_include_unreachable() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    let loose = r.beside("loose.env");
    std::fs::write(&loose, format!("X=1\n{}", jwt(&secret()))).unwrap();
    let blob = r.git(&["hash-object", "-w", loose.to_str().unwrap()]);
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
    let (code, v) = run(&r, &["--include-unreachable"]);
    assert_eq!(code, 1);
    let path = format!("<unreachable blob {blob}>");
    assert_eq!(places(&v), vec![place("", &path, 2)]);
    let g = &findings(&v)[0]["git"];
    assert_eq!(g["blob"], blob.as_str());
    assert_eq!(g["kind"], "unreachable");
}

#[test]
fn ranges_report_only_what_they_introduce() {
    let r = Repo::new();
    r.write("old.env", format!("A=1\n{}", jwt(&secret())));
    let c1 = r.commit("before");
    r.write("new.env", jwt(&secret()));
    let c2 = r.commit("inside");
    r.write("other.txt", "x\n");
    let c3 = r.commit("later");
    for args in [
        vec!["--range".to_string(), format!("{c1}..HEAD")],
        vec!["--since".to_string(), c1.clone()],
        vec!["--range".to_string(), format!("{c1}..{c3}")],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, v) = run(&r, &args);
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(places(&v), vec![place(&c2, "new.env", 1)], "{args:?}");
        assert_eq!(v["summary"]["commits"], 2, "{args:?}");
    }
    // Nothing introduced after c2: clean, and an empty range is not an error.
    let (code, v) = run(&r, &["--range", &format!("{c2}..HEAD")]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
    let (code, v) = run(&r, &["--since", "HEAD"]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["commits"], 0);
    // A file that already held a secret, touched in the range on another line: the unchanged
    // secret is not reported again.
    r.write(
        "old.env",
        format!(
            "A=2\n{}",
            std::fs::read_to_string(r.path().join("old.env"))
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
        ),
    );
    let c4 = r.commit("touch old.env");
    let (code, v) = run(&r, &["--range", &format!("{c3}..{c4}")]);
    assert_eq!((code, places(&v)), (0, vec![]));
    // A single revision is everything reachable from it (a pre-push of a new branch).
    let (code, v) = run(&r, &["--range", &c2]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&v),
        vec![place(&c2, "new.env", 1), place(&c1, "old.env", 2)]
    );
    // A bad range is a usage error.
    let (code, _, err) = run_in(r.path(), &["--range", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown revision 'nonsense'"), "{err}");
    let (code, _, err) = run_in(r.path(), &["--range", "..HEAD"]);
    assert_eq!(code, 2);
    assert!(err.contains("BASE..HEAD"), "{err}");
}

#[test]
fn staged_reports_only_added_lines() {
    let r = Repo::new();
    r.write("app.env", format!("{}PORT=1\n", jwt(&secret())));
    r.commit("init with an old secret");
    // Nothing staged (but an unstaged secret in the working tree): clean.
    r.write("unstaged.env", jwt(&secret()));
    let (code, v) = run(&r, &["--staged"]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
    assert_eq!(v["summary"]["mode"], "staged");
    r.remove("unstaged.env");
    // Add a line with a new secret below the old one; only the new line is reported.
    let old = std::fs::read_to_string(r.path().join("app.env")).unwrap();
    r.write("app.env", format!("{old}DEBUG=0\n{}", jwt(&secret())));
    r.git(&["add", "app.env"]);
    let (code, v) = run(&r, &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place("", "app.env", 4)]);
    assert!(findings(&v)[0].get("git").is_none());
    // git records paths, not renames: a secret moved to a new path is new there.
    r.git(&["reset", "-q", "--hard"]);
    r.git(&["mv", "app.env", "moved.env"]);
    let (code, v) = run(&r, &["--staged"]);
    assert_eq!((code, places(&v)), (1, vec![place("", "moved.env", 1)]));
}

#[test]
fn staged_first_commit_without_head() {
    let r = Repo::new();
    r.write("a.txt", "nothing\n");
    r.write("conf/.env", format!("A=1\nB=2\n{}", jwt(&secret())));
    r.git(&["add", "-A"]);
    let (code, v) = run(&r, &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place("", "conf/.env", 3)]);
    assert_eq!(v["summary"]["files"], 2);
}

#[test]
fn staged_during_a_merge() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.branch("side");
    r.write("side.env", jwt(&secret()));
    r.commit("side");
    r.checkout("main");
    r.write("c.txt", "c\n");
    r.commit("main");
    r.git(&["merge", "-q", "--no-commit", "--no-ff", "side"]);
    assert!(r.path().join(".git/MERGE_HEAD").exists());
    let (code, v) = run(&r, &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place("", "side.env", 1)]);
}

#[test]
fn staged_conflict_fails_closed() {
    let r = Repo::new();
    r.write("x.txt", "base\n");
    r.commit("init");
    r.branch("side");
    r.write("x.txt", "side\n");
    r.commit("side");
    r.checkout("main");
    r.write("x.txt", "main\n");
    r.commit("main");
    let st = git_output(r.path(), &["merge", "-q", "side"]);
    assert!(!st.status.success());
    let (code, v, err) = run_in(r.path(), &["--staged", "--ignore-errors"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(v["errors"][0]["path"], "x.txt");
}

#[test]
fn bare_repo_worktree_and_subdirectory() {
    let r = Repo::new();
    r.write("sub/dir/k.env", jwt(&secret()));
    let c = r.commit("add");
    let want = vec![place(&c, "sub/dir/k.env", 1)];
    // From a subdirectory.
    let (code, v, _) = run_in(&r.path().join("sub/dir"), &[]);
    assert_eq!((code, places(&v)), (1, want.clone()));
    // A bare clone, given as an argument.
    let bare = r.beside("bare.git");
    r.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let (code, v, _) = run_in(r.path(), &[bare.to_str().unwrap()]);
    assert_eq!((code, places(&v)), (1, want.clone()));
    // A linked worktree.
    let wt = r.worktree("wt", "wt");
    let (code, v, _) = run_in(&wt, &[]);
    assert_eq!((code, places(&v)), (1, want));
}

#[test]
fn not_a_repository_is_exit_2() {
    let tmp = TempDir::new().unwrap();
    let (code, _, err) = run_in(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not inside a git repository"), "{err}");
}

#[test]
fn submodules_lfs_and_binaries_are_counted() {
    let r = Repo::new();
    r.write("a.txt", "a\n");
    let c = r.commit("init");
    r.write(
        "big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:\
         4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    std::fs::write(r.path().join("blob.dat"), b"\0\x01\x02binary").unwrap();
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{c},vendor/lib"),
    ]);
    r.git(&["add", "big.bin", "blob.dat"]);
    r.commit_staged("more");
    assert_eq!(
        r.git(&["ls-tree", "HEAD", "vendor/lib"]),
        format!("160000 commit {c}\tvendor/lib")
    );
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["skipped"]["submodule"], 1);
    assert_eq!(v["summary"]["skipped"]["lfs-pointer"], 1);
    assert_eq!(v["summary"]["skipped"]["binary"], 1);
}

#[test]
fn missing_object_is_named_and_the_scan_goes_on() {
    let r = Repo::new();
    r.write("keep.env", jwt(&secret()));
    r.write("lost.txt", "this blob will go missing\n");
    let c = r.commit("add");
    let lost = r.rev(&format!("{c}:lost.txt"));
    std::fs::remove_file(
        r.path()
            .join(".git/objects")
            .join(&lost[..2])
            .join(&lost[2..]),
    )
    .unwrap();
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 2);
    assert_eq!(places(&v), vec![place(&c, "keep.env", 1)]);
    assert_eq!(
        v["errors"][0]["path"],
        format!("{}:lost.txt", &c[..7]).as_str()
    );
    assert!(v["errors"][0]["message"].as_str().unwrap().contains(&lost));
    let (code, _) = run(&r, &["--ignore-errors"]);
    assert_eq!(code, 1);
}

#[test]
fn staged_honours_a_baseline_keyed_by_secret() {
    let r = Repo::new();
    let known = secret();
    r.write("app.env", jwt(&known));
    r.git(&["add", "app.env"]);
    // Record the staged secret in a baseline, outside the repository.
    let base = r.beside("baseline.json");
    run_expect(
        leaksweep(r.path())
            .args(["baseline", "create", "app.env", "-o"])
            .arg(&base),
        0,
    );
    let base = base.to_str().unwrap();
    // The known secret, moved to another line and file, is suppressed; a new one is reported.
    r.git(&["rm", "-q", "--cached", "app.env"]);
    r.remove("app.env");
    let fresh = secret();
    r.write("moved.env", format!("A=1\n{}{}", jwt(&known), jwt(&fresh)));
    r.git(&["add", "moved.env"]);
    let (code, v) = run(&r, &["--staged", "--baseline", base]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(places(&v), vec![place("", "moved.env", 3)]);
    // With only the known secret staged, the gate passes.
    r.write("moved.env", format!("A=1\n{}", jwt(&known)));
    r.git(&["add", "moved.env"]);
    let (code, v) = run(&r, &["--staged", "--baseline", base]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn one_finding_per_secret_across_file_versions() {
    let r = Repo::new();
    let s = secret();
    r.write("config.env", format!("A=1\n{}", jwt(&s)));
    let c1 = r.commit("first version");
    r.write("config.env", format!("A=2\n{}", jwt(&s)));
    r.commit("second version");
    r.write("config.env", format!("A=3\nB=4\n{}", jwt(&s)));
    r.commit("third version, secret moved down a line");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c1, "config.env", 2)]);
    let f = &findings(&v)[0];
    assert_eq!(f["notes"]["versions"], "3 versions of this file hold it");
    // Every version is still listed with --all-locations.
    let (_, v) = run(&r, &["--all-locations"]);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(
        findings(&v)[0]["git"]["locations"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn blobs_over_the_size_limit_are_skipped_and_counted() {
    let r = Repo::new();
    let s = secret();
    // A secret in a 2 KiB file: found with the default limit, skipped under a 1K limit.
    r.write(
        "big.env",
        format!("{}{}", jwt(&s), "# padding\n".repeat(200)),
    );
    r.write("small.env", jwt(&secret()));
    let c = r.commit("two files");
    let (code, v) = run(&r, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 2);
    let (code, v) = run(&r, &["--max-file-size", "1K"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c, "small.env", 1)]);
    assert_eq!(v["summary"]["skipped"]["too-large"], 1);
    // The same when both are read straight from a pack, the big one a base of a small delta.
    r.write(
        "big.env",
        format!("{}{}", jwt(&s), "# padding\n".repeat(199)),
    );
    let c2 = r.commit("a line less");
    r.git(&["repack", "-adq"]);
    let (code, v) = run(&r, &["--max-file-size", "1K"]);
    assert_eq!(code, 1);
    assert_eq!(places(&v), vec![place(&c, "small.env", 1)]);
    assert_eq!(v["summary"]["skipped"]["too-large"], 2);
    let (_, v) = run(&r, &[]);
    assert_eq!(findings(&v).len(), 2, "{c2}");
}

#[test]
fn rotation_from_a_history_report_lists_every_path() {
    let r = Repo::new();
    let s = secret();
    r.write("z.env", jwt(&s));
    let first = r.commit("first");
    r.write("a.env", format!("X=1\n{}", jwt(&s)));
    let second = r.commit("copy");
    let report = r.beside("history.json");
    let out = leaksweep(r.path())
        .args(["git", "--show-secrets", "-f", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = leaksweep(r.path())
        .args(["rotate", "--format", "json", "--from-report"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let places: Vec<(String, u64, String)> = v["secrets"][0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
                l["commit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        places,
        vec![
            ("z.env".to_string(), 1, first),
            ("a.env".to_string(), 2, second)
        ]
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&s));
}

/// Blobs are read straight from the packs, one delta tree at a time (or through libgit2 in
/// delta-tree order, each object's deltas before it). On a repository repacked with long delta
/// chains, in loose objects, and in two packs at once, both report exactly what libgit2 reports
/// in plain pack order and in discovery order: every version, each secret at the commit that
/// added it, none lost or doubled.
#[test]
fn pack_reading_reports_what_libgit2_reports_in_every_order() {
    let r = Repo::new();
    let mut expected = Vec::new();
    let mut body: Vec<String> = (0..200).map(|i| format!("SETTING_{i}={i}\n")).collect();
    for v in 0..40 {
        // Each version changes a line, so that the versions deltify against each other.
        body[(v * 7) % 200] = format!("SETTING_{v}_CHANGED={}\n", v * 3);
        let mut text = body.concat();
        if v % 5 == 0 {
            let s = secret();
            text.push_str(&jwt(&s));
            expected.push(s);
        }
        r.write("config/app.env", &text);
        r.write(
            &format!("notes/{}.txt", v % 3),
            body[..(v + 5) * 4].concat(),
        );
        r.commit(&format!("version {v}"));
    }
    // `order` is how libgit2 reads (`tree`, `offset`, `none`); `direct` reads from the packs.
    let scan = |order: &str| {
        let (read, order) = match order {
            "direct" => ("direct", "tree"),
            o => ("libgit2", o),
        };
        let out = leaksweep(r.path())
            .env("LEAKSWEEP_PACK_ORDER", order)
            .env("LEAKSWEEP_PACK_READ", read)
            .args(["git", "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!(
            out.status.code(),
            Some(1),
            "order {order}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got: Vec<_> = findings(&v)
            .iter()
            .map(|f| {
                (
                    f["git"]["commit"].as_str().unwrap_or("").to_string(),
                    f["path"].as_str().unwrap_or("").to_string(),
                    f["line"].as_u64().unwrap_or(0),
                    f["secret_id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        got.sort();
        got
    };
    let loose = scan("tree");
    assert_eq!(loose.len(), expected.len(), "{loose:?}");
    r.git(&["repack", "-adfq", "--depth=50", "--window=50"]);
    let deep = scan("tree");
    assert_eq!(deep, loose);
    assert_eq!(scan("direct"), deep);
    assert_eq!(scan("offset"), deep);
    assert_eq!(scan("none"), deep);
    // A second pack beside the first, and loose objects beside both.
    let s = secret();
    r.write("config/app.env", format!("{}{}", body.concat(), jwt(&s)));
    r.commit("after the repack");
    r.git(&["repack", "-dq"]);
    let s2 = secret();
    r.write("other/.env", jwt(&s2));
    r.commit("loose");
    let mixed = scan("tree");
    assert_eq!(mixed.len(), expected.len() + 2, "{mixed:?}");
    assert_eq!(scan("direct"), mixed);
    assert_eq!(scan("offset"), mixed);
    assert_eq!(scan("none"), mixed);
}

/// A packed blob whose compressed data is damaged is an error with the commit and path that
/// reach it (exit 2: the scan is incomplete), read straight from the pack or through libgit2
/// alike, and the blobs around it in the same pack are still scanned and reported.
#[test]
fn a_damaged_packed_blob_is_an_error_and_the_rest_of_the_pack_is_scanned() {
    let r = Repo::new();
    let (a, b) = (secret(), secret());
    r.write(".env", jwt(&a));
    r.write(
        "data.txt",
        (1..3000).map(|i| format!("{i}\n")).collect::<String>(),
    );
    r.write("b/.env", jwt(&b));
    let c = r.commit("three files");
    r.git(&["repack", "-adq"]);
    let blob = r.git(&["rev-parse", "HEAD:data.txt"]);
    let pack_dir = r.path().join(".git/objects/pack");
    let file = |ext: &str| {
        std::fs::read_dir(&pack_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == ext))
            .unwrap()
    };
    let index = std::fs::read(file("idx")).unwrap();
    let listing = crate::common::git_stdin(r.path(), &["show-index"], index);
    let offset: usize = String::from_utf8_lossy(&listing)
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(blob.trim()))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .expect("the blob is in the pack");
    let pack = file("pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[offset + 10] ^= 0xff;
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, bytes).unwrap();
    for read in ["direct", "libgit2"] {
        let out = leaksweep(r.path())
            .env("LEAKSWEEP_PACK_READ", read)
            .args(["git", "--format", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{read}: {stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut got = places(&v);
        got.sort();
        assert_eq!(
            got,
            vec![place(&c, ".env", 1), place(&c, "b/.env", 1)],
            "{read}"
        );
        assert_eq!(v["summary"]["errors"], 1, "{read}");
        assert!(
            stderr.contains(&format!("{}:data.txt", &c[..7])),
            "{read}: {stderr}"
        );
        assert!(stderr.contains(blob.trim()), "{read}: {stderr}");
    }
}
