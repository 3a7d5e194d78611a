//! `leaksweep rewrite`: plan, apply, verify and finish on generated repositories, checked with the
//! git CLI (an independent reader of the result) and, when `LEAKSWEEP_TEST_GITLEAKS` names its
//! binary, gitleaks.

use crate::common::{
    b64url, fresh_clone, git_ok, git_output, holds, leaksweep, live_log, objects_of, password,
    run_text, Fixture, Repo,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A GitHub token from the rule's examples (valid checksum), found by the scanner and gitleaks.
const TOKEN: &str = "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";
/// A password given as a literal.
const PASSWORD: &str = "hunter2-Zq8vLm3RtYx9";
/// A secret that appears only in a commit message.
const MSG_SECRET: &str = "sk_msg_Wd83kLq0Pz71NcVb";
const SECRETS: [&str; 3] = [TOKEN, PASSWORD, MSG_SECRET];

/// The binary file that must stay untouched (no secret inside).
fn binary_blob() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect()
}

/// Builds the source repository; returns its path.
fn build_source(fx: &Fixture) -> PathBuf {
    let r = Repo::init(fx, "src");
    let mut bin_with_secret = vec![0u8, 159, 146, 150, 0, 1];
    bin_with_secret.extend_from_slice(PASSWORD.as_bytes());
    bin_with_secret.extend_from_slice(&[0, 255, 254, 0]);
    r.write("README.md", "# demo\n");
    r.write("config/app.env", format!("GITHUB_TOKEN={TOKEN}\nDEBUG=1\n"));
    r.write("assets/logo.bin", binary_blob());
    r.write("assets/blob.dat", bin_with_secret);
    r.write(".env.production", format!("DB_PASSWORD={PASSWORD}\n"));
    r.commit("initial import");
    // The file holding the token is renamed later.
    r.git(&["mv", "config/app.env", "config/settings.env"]);
    r.write("README.md", "# demo\n\nmore\n");
    r.commit(&format!("rename config; temp key {MSG_SECRET}"));
    r.tag_annotated("v1.0", "release 1.0\n\nnotes");
    r.tag("light");
    r.branch("feature");
    r.write("src/lib.rs", format!("const PW: &str = \"{PASSWORD}\";\n"));
    r.commit("feature work");
    r.checkout("main");
    r.write("docs/guide.md", "guide\n");
    r.commit("docs");
    r.git(&["merge", "-q", "--no-ff", "--no-edit", "feature"]);
    r.write("docs/guide.md", "guide v2\n");
    r.commit("docs v2");
    r.tag_annotated("v2.0", "release 2.0");
    r.path().to_path_buf()
}

fn secrets_file(fx: &Fixture) -> PathBuf {
    let p = fx.path().join("secrets.txt");
    std::fs::write(&p, format!("{PASSWORD}\n{MSG_SECRET}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// A JSON report with raw secrets made by `leaksweep scan` over a directory holding the token.
fn token_report(fx: &Fixture) -> PathBuf {
    let dir = fx.path().join("scan-input");
    fx.write("scan-input/app.env", format!("GITHUB_TOKEN={TOKEN}\n"));
    let report = fx.path().join("report.json");
    let out = leaksweep(&dir)
        .args(["scan", ".", "--format", "json", "--show-secrets", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

fn input_args(fx: &Fixture, report: &Path) -> Vec<String> {
    vec![
        "--from-report".into(),
        report.display().to_string(),
        "--secrets".into(),
        secrets_file(fx).display().to_string(),
        "--remove-path".into(),
        ".env.production".into(),
    ]
}

/// The source repository ([`build_source`]) in a fresh fixture, and the inputs of a rewrite that
/// removes every planted secret ([`input_args`] with [`token_report`]).
fn source_and_inputs() -> (Fixture, PathBuf, Vec<String>) {
    let fx = Fixture::new();
    let src = build_source(&fx);
    let report = token_report(&fx);
    let args = input_args(&fx, &report);
    (fx, src, args)
}

fn run_ls(repo: &Path, args: &[&str], extra: &[String]) -> (i32, String, String) {
    run_text(leaksweep(repo).args(args).args(extra))
}

/// Every object reachable from the live refs (not the backups), raw, concatenated.
fn reachable_objects(repo: &Path) -> Vec<u8> {
    objects_of(repo, &["--branches", "--tags", "--remotes"])
}

/// The refs of the backup repository `apply` keeps (`for-each-ref` lines).
fn backups(repo: &Path) -> String {
    let dir = repo.join(".git/leaksweep/backup.git");
    git_ok(
        repo,
        &["--git-dir", &dir.display().to_string(), "for-each-ref"],
    )
}

fn commit_map(repo: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo.join(".git/leaksweep/commit-map")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut it = l.split_whitespace();
            (
                it.next().unwrap().to_string(),
                it.next().unwrap().to_string(),
            )
        })
        .collect()
}

/// path -> (mode, blob id) of a commit's whole tree.
fn files(repo: &Path, commit: &str) -> BTreeMap<String, (String, String)> {
    git_ok(repo, &["ls-tree", "-r", "--full-tree", commit])
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            let m: Vec<&str> = meta.split(' ').collect();
            (path.to_string(), (m[0].to_string(), m[2].to_string()))
        })
        .collect()
}

fn blob(repo: &Path, id: &str) -> Vec<u8> {
    git_output(repo, &["cat-file", "blob", id]).stdout
}

fn replace_all(data: &[u8], pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = data.to_vec();
    for (from, to) in pairs {
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if s[i..].starts_with(from.as_bytes()) {
                out.extend_from_slice(to.as_bytes());
                i += from.len();
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        s = out;
    }
    s
}

#[test]
fn apply_then_verify_removes_every_secret_and_changes_nothing_else() {
    let (fx, src, args) = source_and_inputs();
    let repo = fresh_clone(&fx, &src, "work");
    let before_tag = git_ok(&repo, &["cat-file", "-p", "v1.0"]);
    let before_count = git_ok(&repo, &["rev-list", "--count", "--all"]);

    // Plan: redacted, with the replacements file 0600 and both peer commands.
    let (code, plan, err) = run_ls(&repo, &["rewrite", "plan", "--format", "json"], &args);
    assert_eq!(code, 0, "{err}");
    for s in SECRETS {
        assert!(!plan.contains(s), "plan leaks a secret");
    }
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["secrets"].as_array().unwrap().len(), 3);
    assert!(plan["filter_repo_command"]
        .as_str()
        .unwrap()
        .contains("--replace-text"));
    assert!(plan["bfg_command"]
        .as_str()
        .unwrap()
        .contains("--delete-files '.env.production'"));
    let rfile = PathBuf::from(plan["replacements_file"].as_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&rfile).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(std::fs::read_to_string(&rfile)
        .unwrap()
        .contains(&format!("{TOKEN}==>REDACTED:github-pat")));
    assert!(plan["earliest_affected"]["summary"] == "initial import");
    assert!(plan["refs_rewritten"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "refs/tags/v1.0"));

    let (code, out, err) = run_ls(&repo, &["rewrite", "apply"], &args);
    assert_eq!(code, 0, "apply failed: {out}\n{err}");
    let (code, out, err) = run_ls(&repo, &["rewrite", "verify"], &args);
    assert_eq!(code, 0, "verify failed: {out}\n{err}");
    assert!(out.contains("verified"), "{out}");

    // None of the secrets reachable from any live ref, by the git CLI.
    let all = reachable_objects(&repo);
    let log = live_log(&repo);
    for s in SECRETS {
        assert!(!holds(&all, s), "secret still reachable");
        assert!(!log.contains(s));
    }
    assert!(log.contains("REDACTED:github-pat"));
    assert!(log.contains("temp key REDACTED:secrets-file"));
    let revs = git_ok(&repo, &["rev-list", "--branches", "--tags", "--remotes"]);
    let revs: Vec<&str> = revs.lines().collect();
    let mut grep = vec!["grep", "-F", "-e", TOKEN, "-e", PASSWORD];
    grep.extend(revs.iter().copied());
    assert_eq!(
        git_output(&repo, &grep).status.code(),
        Some(1),
        "git grep found a secret"
    );

    // Same commit count and topology; every file byte-identical except the cleaned ones.
    let map = commit_map(&repo);
    let m: HashMap<&str, &str> = map.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        map.len().to_string(),
        before_count
            .trim()
            .to_string()
            .parse::<usize>()
            .map(|n| n.to_string())
            .unwrap()
    );
    let pairs = [
        (TOKEN, "REDACTED:github-pat"),
        (PASSWORD, "REDACTED:secrets-file"),
        (MSG_SECRET, "REDACTED:secrets-file"),
    ];
    for (old, new) in &map {
        assert_ne!(
            old, new,
            "every commit descends from the first one, so every id changes"
        );
        let op: Vec<String> = git_ok(&repo, &["rev-list", "--parents", "-n1", old])
            .split_whitespace()
            .skip(1)
            .map(|p| m[p].to_string())
            .collect();
        let np: Vec<String> = git_ok(&repo, &["rev-list", "--parents", "-n1", new])
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect();
        assert_eq!(op, np, "topology differs at {old}");
        let of = files(&repo, old);
        let nf = files(&repo, new);
        let expected_paths: Vec<&String> = of
            .keys()
            .filter(|p| !p.ends_with(".env.production"))
            .collect();
        assert_eq!(expected_paths, nf.keys().collect::<Vec<_>>());
        for (path, (mode, id)) in &nf {
            let (omode, oid) = &of[path];
            assert_eq!(mode, omode);
            if id != oid {
                let want = replace_all(&blob(&repo, oid), &pairs);
                assert_ne!(want, blob(&repo, oid), "{path} changed without a secret");
                assert_eq!(
                    want,
                    blob(&repo, id),
                    "{path} differs beyond the replacement"
                );
            }
        }
        assert_eq!(
            nf["assets/logo.bin"], of["assets/logo.bin"],
            "binary untouched"
        );
        // Author, committer, dates kept.
        let fmt = "--format=%an %ae %ad %cn %ce %cd";
        assert_eq!(
            git_ok(&repo, &["show", "-s", fmt, old]),
            git_ok(&repo, &["show", "-s", fmt, new])
        );
    }
    // The binary file with a secret is cleaned, the rest of its bytes kept.
    let head = files(&repo, "HEAD");
    let dat = blob(&repo, &head["assets/blob.dat"].1);
    assert!(dat.starts_with(&[0, 159, 146, 150, 0, 1]) && dat.ends_with(&[0, 255, 254, 0]));

    // The annotated tag stays annotated, with its tagger and message.
    assert_eq!(git_ok(&repo, &["cat-file", "-t", "v1.0"]).trim(), "tag");
    let after_tag = git_ok(&repo, &["cat-file", "-p", "v1.0"]);
    assert_eq!(
        before_tag.lines().skip(1).collect::<Vec<_>>(),
        after_tag.lines().skip(1).collect::<Vec<_>>()
    );
    assert_eq!(git_ok(&repo, &["cat-file", "-t", "light"]).trim(), "commit");
    // Backups and remote-tracking refs.
    assert!(backups(&repo).contains("refs/tags/v1.0"));
    assert_eq!(git_ok(&repo, &["for-each-ref", "refs/leaksweep/"]), "");
    let feature = git_ok(&repo, &["rev-parse", "refs/remotes/origin/feature"]);
    assert!(m.values().any(|n| *n == feature.trim()));
    // The working tree is the new HEAD: clean, no removed file.
    assert_eq!(git_ok(&repo, &["status", "--porcelain"]), "");
    assert!(!repo.join(".env.production").exists());
    assert!(!std::fs::read_to_string(repo.join("config/settings.env"))
        .unwrap()
        .contains(TOKEN));

    // finish drops the backups; then nothing at all in the object database holds a secret.
    let (code, _, err) = run_ls(&repo, &["rewrite", "finish"], &[]);
    assert_eq!(
        code, 2,
        "finish without --yes on a non-TTY must refuse: {err}"
    );
    assert!(err.contains("--yes"));
    let (code, out, err) = run_ls(&repo, &["rewrite", "finish", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let mut v = vec![
        "rewrite".to_string(),
        "verify".into(),
        "--include-unreachable".into(),
    ];
    v.extend(args.clone());
    let (code, out, _) = run_ls(
        &repo,
        &v.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(code, 0, "{out}");

    // gitleaks (offline), when `LEAKSWEEP_TEST_GITLEAKS` names its binary, finds none of the
    // planted secrets: a second, independent scanner over the rewritten history.
    let gitleaks = std::env::var_os("LEAKSWEEP_TEST_GITLEAKS").map(PathBuf::from);
    if gitleaks.is_none() {
        eprintln!("LEAKSWEEP_TEST_GITLEAKS is not set: the cross-check with gitleaks is not run");
    }
    if let Some(gitleaks) = gitleaks.as_deref() {
        assert!(
            gitleaks.exists(),
            "LEAKSWEEP_TEST_GITLEAKS={}: no such file",
            gitleaks.display()
        );
        let rep = fx.path().join("gitleaks.json");
        let out = Command::new(gitleaks)
            .args([
                "git",
                "--no-banner",
                "--report-format",
                "json",
                "--report-path",
            ])
            .arg(&rep)
            .arg(&repo)
            .output()
            .unwrap();
        let text = std::fs::read_to_string(&rep).unwrap_or_default();
        for s in SECRETS {
            assert!(
                !text.contains(s),
                "gitleaks found a planted secret: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Sanity: gitleaks does find the token in the untouched source.
        let rep2 = fx.path().join("gitleaks-src.json");
        Command::new(gitleaks)
            .args([
                "git",
                "--no-banner",
                "--report-format",
                "json",
                "--report-path",
            ])
            .arg(&rep2)
            .arg(&src)
            .output()
            .unwrap();
        assert!(std::fs::read_to_string(&rep2)
            .unwrap_or_default()
            .contains(TOKEN));
    } else {
        eprintln!("gitleaks not installed at /tmp/peers/bin/gitleaks: skipped");
    }
}

fn snapshot(repo: &Path) -> (String, usize) {
    let refs = git_ok(repo, &["for-each-ref", "--format=%(refname) %(objectname)"]);
    let objects = walkdir(&repo.join(".git/objects"));
    (refs, objects)
}

fn walkdir(p: &Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walkdir(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn dry_run_writes_nothing() {
    let (fx, src, args) = source_and_inputs();
    let repo = fresh_clone(&fx, &src, "work");
    let before = snapshot(&repo);
    let (code, out, err) = run_ls(&repo, &["rewrite", "apply", "--dry-run"], &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("would rewrite") && out.contains("nothing was written"),
        "{out}"
    );
    assert_eq!(snapshot(&repo), before);
    assert!(!repo.join(".git/leaksweep/commit-map").exists());
}

#[test]
fn refuses_dirty_tree_and_stale_clone() {
    let (fx, src, args) = source_and_inputs();
    // The source itself has a long HEAD reflog and a local branch without upstream.
    let (code, _, err) = run_ls(&src, &["rewrite", "apply"], &args);
    assert_eq!(code, 2);
    assert!(
        err.contains("fresh clone") && err.contains("reflog"),
        "{err}"
    );
    let repo = fresh_clone(&fx, &src, "work");
    std::fs::write(repo.join("README.md"), "local edit\n").unwrap();
    let (code, _, err) = run_ls(&repo, &["rewrite", "apply", "--force"], &args);
    assert_eq!(code, 2);
    assert!(err.contains("uncommitted changes"), "{err}");
    // Verify without inputs and without a recorded plan: a clear error.
    let (code, _, err) = run_ls(&repo, &["rewrite", "verify"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--from-report") && err.contains("--secrets"),
        "{err}"
    );
    // --force on the stale source works.
    let (code, out, err) = run_ls(&src, &["rewrite", "apply", "--force"], &args);
    assert_eq!(code, 0, "{out}{err}");
}

/// A crash at either point of the ref update leaves every ref at its old value and nothing
/// locked, and a rerun finishes the job: before any ref work (an error exit), and killed between
/// packing the current refs (their loose files gone) and the one rename of `packed-refs` that
/// switches them all.
#[test]
fn crashed_before_the_switch_keeps_old_refs_and_rerun_recovers() {
    let (fx, src, args) = source_and_inputs();
    for point in ["1", "after-pack"] {
        let repo = fresh_clone(&fx, &src, &format!("work-{point}"));
        let refs_before = git_ok(&repo, &["for-each-ref"]);
        assert!(repo.join(".git/refs/heads/main").exists());
        let out = leaksweep(&repo)
            .args(["rewrite", "apply"])
            .args(&args)
            .env("LEAKSWEEP_TEST_CRASH_BEFORE_REFS", point)
            .output()
            .unwrap();
        if point == "after-pack" {
            assert_eq!(out.status.code(), None, "killed by a signal: {out:?}");
            assert!(
                !repo.join(".git/refs/heads/main").exists(),
                "loose ref dropped"
            );
        } else {
            assert_eq!(out.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&out.stderr).contains("simulated crash"));
        }
        assert!(!repo.join(".git/packed-refs.lock").exists(), "{point}");
        assert_eq!(git_ok(&repo, &["for-each-ref"]), refs_before, "{point}");
        assert_eq!(git_ok(&repo, &["status", "--porcelain"]), "", "{point}");
        let (code, out, err) = run_ls(&repo, &["rewrite", "apply"], &args);
        assert_eq!(code, 0, "{point}: {out}{err}");
        let (code, out, _) = run_ls(&repo, &["rewrite", "verify"], &args);
        assert_eq!(code, 0, "{point}: {out}");
        assert_ne!(git_ok(&repo, &["for-each-ref"]), refs_before);
        // The refs live in packed-refs now, and git itself reads them.
        assert!(std::fs::read_to_string(repo.join(".git/packed-refs"))
            .unwrap()
            .contains("refs/heads/main"));
        assert!(backups(&repo).contains(&refs_before.lines().next().unwrap()[..40]));
        git_ok(&repo, &["fsck", "--no-progress"]);
    }
}

#[test]
fn verify_fails_before_apply_and_prune_empty_drops_commits() {
    let (fx, src, args) = source_and_inputs();
    let repo = fresh_clone(&fx, &src, "mirror");
    let (code, out, _) = run_ls(&repo, &["rewrite", "verify"], &args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"));
    // A commit that only touched the removed file becomes empty.
    let r = Repo::open(&src);
    r.write(".env.production", "DB_PASSWORD=other\n");
    r.commit("rotate db password");
    let repo2 = fresh_clone(&fx, &src, "work2");
    let n = git_ok(&repo2, &["rev-list", "--count", "--all"])
        .trim()
        .parse::<usize>()
        .unwrap();
    let (code, out, err) = run_ls(&repo2, &["rewrite", "apply", "--prune-empty"], &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(1 pruned)"), "{out}");
    let live = git_ok(
        &repo2,
        &["rev-list", "--count", "--branches", "--tags", "--remotes"],
    );
    assert_eq!(live.trim().parse::<usize>().unwrap(), n - 1);
    let (code, out, _) = run_ls(&repo2, &["rewrite", "verify"], &args);
    assert_eq!(code, 0, "{out}");
}

/// Secret ids that `leaksweep git REPO --format json` reports.
fn git_scan_ids(repo: &Path) -> Vec<String> {
    let out = leaksweep(repo)
        .args(["git", ".", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn no_input_flags_use_a_fresh_history_scan_and_a_recorded_verify() {
    let fx = Fixture::new();
    let jwt = b64url(32);
    let db_pw = password(20);
    let r = Repo::init(&fx, "src");
    r.write("README.md", "# app\n");
    r.write(
        ".env",
        format!(
            "JWT_SECRET={jwt}\nDATABASE_URL=postgres://app:{db_pw}@db.prod.internal:5432/app\n"
        ),
    );
    r.commit("initial");
    r.write("src/main.rs", "fn main() {}\n");
    r.commit("code");
    r.write(
        ".env",
        "JWT_SECRET=${JWT_SECRET}\nDATABASE_URL=${DATABASE_URL}\n",
    );
    r.commit("move secrets out");
    r.tag_annotated("v1", "v1");
    let src = r.path();
    let repo = fresh_clone(&fx, src, "work");
    let before = git_scan_ids(&repo);
    assert!(before.len() >= 2, "{before:?}");

    // --no-scan and nothing else: nothing to do.
    let (code, _, err) = run_ls(&repo, &["rewrite", "plan", "--no-scan"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to remove"), "{err}");
    // Plan: a fresh scan, targets recorded without their values.
    let (code, out, err) = run_ls(&repo, &["rewrite", "plan"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("history scan"), "{err}");
    assert!(
        out.contains("jwt-secret") && out.contains("db-connection-uri"),
        "{out}"
    );
    assert!(!out.contains(&jwt) && !out.contains(&db_pw), "{out}");
    let record_path = repo.join(".git/leaksweep/targets");
    let record = std::fs::read_to_string(&record_path).unwrap();
    assert!(
        !record.contains(&jwt) && !record.contains(&db_pw),
        "{record}"
    );
    for id in &before {
        assert!(record.contains(id.as_str()), "{id} not recorded: {record}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&record_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Before the rewrite, verify without inputs recovers the values and fails.
    let (code, out, _) = run_ls(&repo, &["rewrite", "verify"], &[]);
    assert_eq!(code, 1, "{out}");

    // A tiny flush threshold: the new objects go out as several packs (not loose objects).
    let out = leaksweep(&repo)
        .args(["rewrite", "apply"])
        .env("LEAKSWEEP_TEST_PACK_FLUSH_BYTES", "300")
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.contains("rewrote"), "{out}{err}");
    // git reads the packs without complaint.
    let fsck = git_output(&repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let counts = git_ok(&repo, &["count-objects", "-v"]);
    let packs: usize = counts
        .lines()
        .find_map(|l| l.strip_prefix("packs: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(packs >= 3, "{counts}");
    let (code, out, err) = run_ls(&repo, &["rewrite", "verify"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified"), "{out}");
    let objects = reachable_objects(&repo);
    assert!(!holds(&objects, &jwt) && !holds(&objects, &db_pw));
    let env = git_ok(&repo, &["show", "HEAD~2:.env"]);
    assert!(
        env.contains("JWT_SECRET=REDACTED:jwt-secret")
            && env.contains("postgres://app:REDACTED:db-connection-uri@"),
        "{env}"
    );
    // The backups still hold the old history, and `leaksweep git` skips them.
    assert!(backups(&repo).contains("refs/heads/main"));
    let after = git_scan_ids(&repo);
    for id in &before {
        assert!(!after.contains(id), "{id} still reported: {after:?}");
    }
    // After finish, verify without inputs still passes (nothing left to recover).
    let (code, out, err) = run_ls(&repo, &["rewrite", "finish", "--yes"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_ls(&repo, &["rewrite", "verify"], &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Only the literal goes: the default of a reference keeps its reference around it, and a value
/// given by a directive keeps the directive and the name.
#[test]
fn apply_replaces_the_default_of_a_reference_and_a_directive_value_alone() {
    let fx = Fixture::new();
    let (jwt, db_pw) = (b64url(32), password(20));
    let r = Repo::init(&fx, "src");
    r.write(
        "src/main/resources/application.yml",
        format!("jwt:\n  secret: ${{JWT_SECRET:{jwt}}}\n  expiry: 3600\n"),
    );
    r.write(
        "Dockerfile",
        format!("FROM node:20\nENV DB_PASSWORD {db_pw}\nENV NODE_ENV production\n"),
    );
    r.commit("initial");
    let repo = fresh_clone(&fx, r.path(), "work");
    let (code, out, err) = run_ls(&repo, &["rewrite", "plan"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_ls(&repo, &["rewrite", "apply"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_ls(&repo, &["rewrite", "verify"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        git_ok(&repo, &["show", "HEAD:src/main/resources/application.yml"]),
        "jwt:\n  secret: ${JWT_SECRET:REDACTED:jwt-secret}\n  expiry: 3600"
    );
    assert_eq!(
        git_ok(&repo, &["show", "HEAD:Dockerfile"]),
        "FROM node:20\nENV DB_PASSWORD REDACTED:db-password\nENV NODE_ENV production"
    );
    let objects = reachable_objects(&repo);
    assert!(!holds(&objects, &jwt) && !holds(&objects, &db_pw));
}

/// BFG deletes by file name: a `--remove-path` glob with a directory part has no BFG form, and
/// the plan must not offer its last part alone (`docs/*` as `--delete-files '*'` deletes every
/// file of every commit).
#[test]
fn plan_offers_no_bfg_command_for_a_path_glob() {
    let (fx, src, mut args) = source_and_inputs();
    let repo = fresh_clone(&fx, &src, "work");
    let at = args.iter().position(|a| a == ".env.production").unwrap();
    args[at] = "config/*".into();
    let (code, plan, err) = run_ls(&repo, &["rewrite", "plan", "--format", "json"], &args);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let bfg = plan["bfg_command"].as_str().unwrap();
    assert!(!bfg.contains("--delete-files"), "{bfg}");
    assert!(bfg.starts_with("# no BFG equivalent"), "{bfg}");
    assert!(plan["filter_repo_command"]
        .as_str()
        .unwrap()
        .contains("--path-glob 'config/*'"));
}
