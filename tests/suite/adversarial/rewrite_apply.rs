//! Attacks on `rewrite apply` (and `plan`): every stored form of the secret goes, nothing else is
//! lost, and the repository stays consistent.
use crate::common::*;
use base64::Engine;
use std::path::{Path, PathBuf};

/// Every object in the object database, raw, concatenated (`git cat-file --batch-all-objects`).
fn all_objects(repo: &Path) -> Vec<u8> {
    git_raw(
        repo,
        &["cat-file", "--batch-all-objects", "--batch", "--unordered"],
    )
}

/// Every object reachable from every ref (and HEAD) but old-style backups, raw, concatenated.
fn reachable(repo: &Path) -> Vec<u8> {
    objects_of(repo, &["--exclude=refs/leaksweep/*", "--all"])
}

/// Every ref as `<id> <name>` lines.
fn refs(repo: &Path) -> String {
    git_ok(repo, &["for-each-ref", "--format=%(objectname) %(refname)"])
}

/// `leaksweep git DIR --format json` findings (exit code checked: 0 or 1).
fn git_findings(dir: &Path) -> Vec<serde_json::Value> {
    let (code, report, err) = run_json(leaksweep(dir).args(["git", "--format", "json"]));
    assert!(code == 0 || code == 1, "leaksweep git failed: {err}");
    findings(&report)
}

/// Runs `leaksweep rewrite apply` (plus `extra`) in `repo`; returns (exit code, stdout, stderr).
fn apply(repo: &Path, extra: &[&str]) -> (i32, String, String) {
    run_text(leaksweep(repo).args(["rewrite", "apply"]).args(extra))
}

fn apply_ok(repo: &Path, extra: &[&str]) -> String {
    let (code, out, err) = apply(repo, extra);
    assert_eq!(code, 0, "apply failed:\n{out}\n{err}");
    out
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn encoded_secrets_are_rewritten_in_their_encoding() {
    let mut rng = seeded_rng();
    let k8s_pw = password_from(&mut rng, 24);
    // With a symbol, so that its percent-encoded form differs from the value.
    let url_pw = format!("{}!", password_from(&mut rng, 20));
    let line_pw = password_from(&mut rng, 22);
    let msg_pw = format!("{}*", password_from(&mut rng, 21));
    let std = base64::engine::general_purpose::STANDARD;
    // A Kubernetes Secret whose `data:` value is base64 of a connection URL.
    let k8s_url = format!("postgres://app:{k8s_pw}@db.internal:5432/app");
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  DATABASE_URL: {}\n  username: YWRtaW4=\n",
        std.encode(&k8s_url)
    );
    // A whole connection URL percent-encoded (as in a redirect or a query parameter).
    let url = format!(
        "DATABASE_URL_ENC={}\n",
        pct(&format!("postgres://app:{url_pw}@db.internal:5432/app"))
    );
    // Base64 of an .env line with the password among other text.
    let line = format!("export DB_PASSWORD={line_pw} MODE=production REGION=eu-west-1");
    let env = format!("env_b64: {}\n", std.encode(&line));
    let msg = format!(
        "deploy\n\nconnection: {}\n",
        pct(&format!("postgres://ops:{msg_pw}@db.internal/ops"))
    );
    let fx = Fixture::new();
    let r = Repo::init(&fx, "src");
    r.commit_files(
        &[
            ("k8s/secret.yaml", manifest.as_str()),
            ("config/url.env", url.as_str()),
            ("config/env.yaml", env.as_str()),
        ],
        &msg,
    );
    let src = r.path();
    let repo = fresh_clone(&fx, src, "work");
    let before = git_findings(&repo);
    let pws = [&k8s_pw, &url_pw, &line_pw, &msg_pw];
    for pw in pws {
        assert!(
            before.iter().any(|f| f["secret_id"].as_str().is_some()
                && f["redacted"].as_str().unwrap()[..3] == pw[..3]),
            "the scanner finds every encoded secret first: {before:#?}"
        );
    }
    let out = apply_ok(&repo, &["--force"]);
    assert!(out.contains("rewrote"), "{out}");
    assert_eq!(git_findings(&repo), Vec::<serde_json::Value>::new());
    let all = reachable(&repo);
    for pw in pws {
        assert!(!holds(&all, pw.as_bytes()));
        assert!(!holds(&all, pct(pw).as_bytes()));
    }
    assert!(!holds(&all, std.encode(&k8s_url).as_bytes()));
    assert!(!holds(&all, std.encode(&line).as_bytes()));
    // Stored in the same encoding, with the replacement inside; the rest unchanged.
    let m = git_ok(&repo, &["show", "HEAD:k8s/secret.yaml"]);
    let v = m
        .lines()
        .find_map(|l| l.strip_prefix("  DATABASE_URL: "))
        .unwrap();
    let v = String::from_utf8(std.decode(v).unwrap()).unwrap();
    assert_eq!(
        v,
        "postgres://app:REDACTED:db-connection-uri@db.internal:5432/app"
    );
    assert!(m.ends_with("\n  username: YWRtaW4="), "{m}");
    let e = git_ok(&repo, &["show", "HEAD:config/env.yaml"]);
    let d = std
        .decode(e.strip_prefix("env_b64: ").unwrap().trim())
        .unwrap();
    let d = String::from_utf8(d).unwrap();
    assert!(d.starts_with("export DB_PASSWORD=REDACTED:"), "{d}");
    assert!(d.ends_with(" MODE=production REGION=eu-west-1"), "{d}");
    let u = git_ok(&repo, &["show", "HEAD:config/url.env"]);
    assert!(
        u.starts_with("DATABASE_URL_ENC=postgres%3A%2F%2Fapp%3AREDACTED%3A")
            && u.ends_with("%40db%2Einternal%3A5432%2Fapp"),
        "{u}"
    );
    let body = git_ok(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        body.contains("connection: postgres%3A%2F%2Fops%3AREDACTED%3A"),
        "{body}"
    );
}

/// A source repository whose history holds a database password in `app.env`, in `n` commits
/// (the password in the first, then unrelated changes); returns (path, password).
fn token_history(fx: &Fixture, rng: &mut impl rand::Rng, n: usize) -> (PathBuf, String) {
    let token = password_from(rng, 24);
    let r = Repo::init(fx, "src");
    r.commit_files(
        &[("app.env", format!("DB_PASSWORD={token}\n"))],
        "add config",
    );
    for i in 1..n {
        r.write("notes.txt", format!("change {i}\n"));
        r.commit(&format!("change {i}"));
    }
    let src = r.path().to_path_buf();
    (src, token)
}

#[test]
fn a_shallow_clone_is_refused_and_left_intact() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 3);
    let r = Repo::open(&src);
    r.write("app.env", format!("DB_PASSWORD={token}\nX=1\n"));
    r.commit("touch config");
    let url = format!("file://{}", src.display());
    git_ok(fx.path(), &["clone", "-q", "--depth", "2", &url, "shallow"]);
    let repo = fx.path().join("shallow");
    let before = refs(&repo);
    let plan = leaksweep(&repo).args(["rewrite", "plan"]).output().unwrap();
    assert!(String::from_utf8_lossy(&plan.stderr).contains("will refuse this repository"));
    assert_input_error(&repo, &["rewrite", "apply", "--force"], "shallow");
    assert_eq!(refs(&repo), before);
    git_ok(&repo, &["fsck", "--full"]);
}

#[test]
fn linked_worktrees_are_refused_by_name() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, _token) = token_history(&fx, &mut rng, 2);
    let repo = fresh_clone(&fx, &src, "work");
    let wt = fx.path().join("old-checkout");
    git_ok(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            &wt.display().to_string(),
            "HEAD~1",
        ],
    );
    let before = refs(&repo);
    assert_input_error(&repo, &["rewrite", "apply", "--force"], "old-checkout");
    assert_eq!(refs(&repo), before);
    // Once the worktree is gone, the rewrite runs.
    git_ok(
        &repo,
        &["worktree", "remove", "--force", &wt.display().to_string()],
    );
    apply_ok(&repo, &["--force"]);
}

/// `leaksweep rewrite apply --force` with `LEAKSWEEP_TEST_HOOK` running `script` at each stage
/// (`$1` is the stage).
fn apply_with_hook(repo: &Path, script: &str) -> (i32, String, String) {
    run_text(
        leaksweep(repo)
            .args(["rewrite", "apply", "--force"])
            .env("LEAKSWEEP_TEST_HOOK", script),
    )
}

#[test]
fn edits_made_while_apply_runs_are_never_overwritten() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 2);
    let repo = fresh_clone(&fx, &src, "work");
    // An edit of the file being rewritten and of another, after the refs moved.
    let (code, out, err) = apply_with_hook(
        &repo,
        r#"[ "$1" = before-checkout ] && echo LOCAL_EDIT=1 >> app.env && echo mine > notes.txt; true"#,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let env = std::fs::read_to_string(repo.join("app.env")).unwrap();
    assert_eq!(
        env,
        format!("DB_PASSWORD={token}\nLOCAL_EDIT=1\n"),
        "the edit is kept"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("notes.txt")).unwrap(),
        "mine\n"
    );
    assert!(err.contains("app.env"), "the kept file is named: {err}");
    // The index is not reset over them either: the edit shows as a change against the new HEAD.
    let status = String::from_utf8(git_raw(&repo, &["status", "--porcelain"])).unwrap();
    assert!(
        status.contains(" M app.env") && status.contains(" M notes.txt"),
        "{status}"
    );
    assert_eq!(
        git_ok(&repo, &["diff", "--cached", "--name-only"]),
        "",
        "nothing old is staged"
    );

    // An edit before the switch: nothing moves.
    let fx2 = Fixture::new();
    let (src2, token2) = token_history(&fx2, &mut rng, 2);
    let repo2 = fresh_clone(&fx2, &src2, "work");
    let before = refs(&repo2);
    let (code, out, err) = apply_with_hook(
        &repo2,
        r#"[ "$1" = before-refs ] && echo LOCAL_EDIT=1 >> app.env; true"#,
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("app.env"), "{err}");
    assert_eq!(refs(&repo2), before);
    assert_eq!(
        std::fs::read_to_string(repo2.join("app.env")).unwrap(),
        format!("DB_PASSWORD={token2}\nLOCAL_EDIT=1\n")
    );
}

/// Every ref as (raw name, id), from `git for-each-ref` of `git_dir`.
fn raw_refs(dir: &Path, git_dir: Option<&Path>) -> Vec<(Vec<u8>, String)> {
    let mut args: Vec<String> = Vec::new();
    if let Some(g) = git_dir {
        args.extend(["--git-dir".into(), g.display().to_string()]);
    }
    args.extend([
        "for-each-ref".into(),
        "--format=%(objectname) %(refname)".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git_raw(dir, &args)
        .split(|&b| b == b'\n')
        .filter(|l| l.len() > 41)
        .map(|l| {
            (
                l[41..].to_vec(),
                String::from_utf8(l[..40].to_vec()).unwrap(),
            )
        })
        .collect()
}

fn backup_dir(repo: &Path) -> PathBuf {
    repo.join(".git/leaksweep/backup.git")
}

#[test]
fn refs_named_by_any_bytes_are_rewritten_and_backed_up() {
    use std::os::unix::ffi::OsStrExt;
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 2);
    let repo = fresh_clone(&fx, &src, "work");
    let old = git_ok(&repo, &["rev-parse", "HEAD"]);
    let packed: &[u8] = b"refs/tags/r\xe9l-packed";
    let loose: &[u8] = b"refs/heads/caf\xe9-loose";
    // One packed, one loose, neither UTF-8.
    let pf = repo.join(".git/packed-refs");
    let mut text = std::fs::read(&pf).unwrap_or_default();
    text.extend_from_slice(format!("{old} ").as_bytes());
    text.extend_from_slice(packed);
    text.push(b'\n');
    std::fs::write(&pf, text).unwrap();
    let lf = repo.join(".git").join(std::ffi::OsStr::from_bytes(loose));
    std::fs::write(lf, format!("{old}\n")).unwrap();
    let before = raw_refs(&repo, None);
    assert!(before.iter().any(|(n, _)| n == packed) && before.iter().any(|(n, _)| n == loose));

    apply_ok(&repo, &["--force"]);
    let new = git_ok(&repo, &["rev-parse", "HEAD"]);
    assert_ne!(new, old);
    let after = raw_refs(&repo, None);
    for name in [packed, loose] {
        let now: Vec<&String> = after
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, i)| i)
            .collect();
        assert_eq!(
            now,
            vec![&new],
            "{} is rewritten, not deleted or left",
            String::from_utf8_lossy(name)
        );
    }
    let backups = raw_refs(&repo, Some(&backup_dir(&repo)));
    for name in [packed, loose] {
        assert!(
            backups.contains(&(name.to_vec(), old.clone())),
            "{backups:?}"
        );
    }
    assert!(!holds(&reachable(&repo), token.as_bytes()));
    git_ok(&repo, &["fsck", "--full", "--no-progress"]);
}

#[test]
fn a_ref_moved_while_apply_runs_aborts_the_switch_and_nothing_moves() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 3);
    git_ok(&src, &["branch", "feature", "HEAD~1"]);
    let repo = fresh_clone(&fx, &src, "work");
    git_ok(&repo, &["branch", "--track", "feature", "origin/feature"]);
    // Someone moves `feature` (to a commit that still holds the secret) after the scan.
    let (code, out, err) = apply_with_hook(
        &repo,
        r#"[ "$1" = before-refs ] && git update-ref refs/heads/feature HEAD~2; true"#,
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("refs/heads/feature moved"), "{err}");
    let refs = raw_refs(&repo, None);
    let get = |n: &str| {
        refs.iter()
            .find(|(r, _)| r == n.as_bytes())
            .map(|(_, i)| i.clone())
    };
    assert_eq!(
        get("refs/heads/feature"),
        Some(git_ok(&src, &["rev-parse", "HEAD~2"]))
    );
    assert_eq!(
        get("refs/heads/main"),
        Some(git_ok(&src, &["rev-parse", "main"]))
    );
    assert_eq!(
        get("refs/remotes/origin/feature"),
        Some(git_ok(&src, &["rev-parse", "feature"]))
    );
    assert!(
        holds(&reachable(&repo), token.as_bytes()),
        "nothing was rewritten"
    );
    // A plain rerun, with nothing moving, completes.
    apply_ok(&repo, &["--force"]);
    assert!(!holds(&reachable(&repo), token.as_bytes()));
}

#[test]
fn no_push_can_publish_the_backups() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 2);
    git_ok(&src, &["tag", "-a", "-m", "release", "v1", "HEAD~1"]);
    let mirror = fx.path().join("mirror.git");
    git_ok(
        fx.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            "--no-local",
            &src.display().to_string(),
            &mirror.display().to_string(),
        ],
    );
    apply_ok(&mirror, &[]);
    let pushes: [&[&str]; 5] = [
        &["push", "-q", "--mirror"],
        &["push", "-q", "--all"],
        &["push", "-q", "--tags"],
        &["push", "-q", "+refs/*:refs/*"],
        // A mirror clone's plain push pushes refs/* (remote.origin.mirror).
        &["push", "-q"],
    ];
    for (k, args) in pushes.iter().enumerate() {
        let dst = fx.path().join(format!("pushed-{k}.git"));
        init_bare(&dst);
        let url = dst.display().to_string();
        git_ok(&mirror, &["remote", "set-url", "origin", &url]);
        let mut a: Vec<&str> = args.to_vec();
        if k < 4 {
            a.insert(2, &url);
        }
        git_raw(&mirror, &a);
        let objects = all_objects(&dst);
        assert!(!objects.is_empty(), "{args:?} pushed something");
        assert!(
            !holds(&objects, token.as_bytes()),
            "{args:?} published the old secret"
        );
        assert_eq!(
            git_findings(&dst),
            Vec::<serde_json::Value>::new(),
            "{args:?}"
        );
        assert_eq!(
            git_ok(&dst, &["for-each-ref", "refs/leaksweep/"]),
            "",
            "{args:?}"
        );
    }
    // The backups are private, and undo works from them.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(mirror.join("leaksweep/backup.git"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let backup = mirror.join("leaksweep/backup.git").display().to_string();
    git_ok(
        &mirror,
        &["fetch", "-q", "--force", &backup, "+refs/*:refs/*"],
    );
    assert_eq!(refs(&mirror), refs(&src));
}

/// A raw tree with one entry.
fn one_entry_tree(mode: &str, name: &str, id: git2::Oid) -> Vec<u8> {
    let mut t = format!("{mode} {name}\0").into_bytes();
    t.extend_from_slice(id.as_bytes());
    t
}

#[test]
fn trees_and_tag_chains_thirty_thousand_deep_are_planned_and_rewritten() {
    const DEPTH: usize = 30_000;
    let mut rng = seeded_rng();
    let secret = password_from(&mut rng, 24);
    let fx = Fixture::new();
    let dir = fx.path().join("deep.git");
    let repo = git2::Repository::init_bare(&dir).unwrap();
    let odb = repo.odb().unwrap();
    let leaf = odb
        .write(
            git2::ObjectType::Blob,
            format!("DB_PASSWORD={secret}\n").as_bytes(),
        )
        .unwrap();
    let mut tree = odb
        .write(
            git2::ObjectType::Tree,
            &one_entry_tree("100644", "app.env", leaf),
        )
        .unwrap();
    for _ in 0..DEPTH {
        tree = odb
            .write(git2::ObjectType::Tree, &one_entry_tree("40000", "d", tree))
            .unwrap();
    }
    let sig = git2::Signature::new(
        "Test",
        "test@example.invalid",
        &git2::Time::new(1_600_000_000, 0),
    )
    .unwrap();
    let t = repo.find_tree(tree).unwrap();
    let commit = repo
        .commit(Some("refs/heads/main"), &sig, &sig, "deep", &t, &[])
        .unwrap();
    // A tag of a tag of ... of the commit.
    let (mut obj, mut kind) = (commit, "commit");
    for k in 0..DEPTH {
        let raw = format!(
            "object {obj}\ntype {kind}\ntag t{k}\ntagger Test <test@example.invalid> 1600000000 +0000\n\nlevel {k}\n"
        );
        obj = odb.write(git2::ObjectType::Tag, raw.as_bytes()).unwrap();
        kind = "tag";
    }
    repo.reference("refs/tags/deep", obj, false, "test")
        .unwrap();
    let secrets = fx.write("secrets.txt", format!("{secret}\n"));
    let secrets = secrets.display().to_string();

    let (plan, _) = run_expect(
        leaksweep(&dir).args(["rewrite", "plan", "--format", "json", "--secrets", &secrets]),
        0,
    );
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["secrets"][0]["blobs"], 1);
    assert_eq!(plan["commits_rewritten"], 1);

    let out = apply_ok(&dir, &["--secrets", &secrets]);
    assert!(out.contains("rewrote 1 of 1 commits"), "{out}");
    assert!(
        out.contains(&format!(
            "{} trees, 1 blobs cleaned, {DEPTH} tags",
            DEPTH + 1
        )),
        "{out}"
    );
    // Down the new tree: the same shape, the value replaced at the bottom.
    let repo = git2::Repository::open_bare(&dir).unwrap();
    let mut t = repo
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_tree()
        .unwrap();
    for _ in 0..DEPTH {
        assert_eq!(t.len(), 1);
        let next = t.get_name("d").unwrap().id();
        t = repo.find_tree(next).unwrap();
    }
    let blob = repo.find_blob(t.get_name("app.env").unwrap().id()).unwrap();
    assert_eq!(blob.content(), b"DB_PASSWORD=REDACTED:secrets-file\n");
    // Down the new tag chain: every level kept, ending at the new commit.
    let main = repo.refname_to_id("refs/heads/main").unwrap();
    let mut id = repo.refname_to_id("refs/tags/deep").unwrap();
    for k in (0..DEPTH).rev() {
        let tag = repo.find_tag(id).unwrap();
        assert_eq!(tag.name(), Some(format!("t{k}").as_str()));
        id = tag.target_id();
    }
    assert_eq!(id, main);
}

/// Objects reachable from `tips`, raw, concatenated.
fn reachable_from(repo: &Path, tips: &[String]) -> Vec<u8> {
    let tips: Vec<&str> = tips.iter().map(String::as_str).collect();
    objects_of(repo, &tips)
}

#[test]
fn every_stash_entry_is_rewritten_in_order_without_duplicates() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 2);
    let repo = fresh_clone(&fx, &src, "work");
    let other = password_from(&mut rng, 22);
    // stash@{1}: the old password again plus another; stash@{0}: an unrelated change.
    std::fs::write(
        repo.join("app.env"),
        format!("DB_PASSWORD={token}\nADMIN_PASSWORD={other}\n"),
    )
    .unwrap();
    git_ok(&repo, &["stash", "push", "-q", "-m", "older work"]);
    std::fs::write(repo.join("notes.txt"), "draft\n").unwrap();
    git_ok(&repo, &["stash", "push", "-q", "-m", "newer work"]);
    let messages = git_ok(&repo, &["log", "-g", "--format=%gs", "refs/stash"]);
    let secrets = fx.write("secrets.txt", format!("{token}\n{other}\n"));
    apply_ok(
        &repo,
        &["--force", "--secrets", &secrets.display().to_string()],
    );

    let entries: Vec<String> = git_ok(&repo, &["log", "-g", "--format=%H", "refs/stash"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(entries.len(), 2, "no entry added or lost: {entries:?}");
    assert_eq!(
        git_ok(&repo, &["log", "-g", "--format=%gs", "refs/stash"]),
        messages
    );
    let objects = reachable_from(&repo, &entries);
    assert!(!holds(&objects, token.as_bytes()) && !holds(&objects, other.as_bytes()));
    let older = git_ok(&repo, &["stash", "show", "-p", "stash@{1}"]);
    assert!(
        older.contains("+ADMIN_PASSWORD=REDACTED:secrets-file"),
        "{older}"
    );
    let newer = git_ok(&repo, &["stash", "show", "-p", "stash@{0}"]);
    assert!(newer.contains("+draft"), "{newer}");
    git_ok(&repo, &["fsck", "--full", "--no-progress"]);
}

#[test]
fn replace_refs_follow_the_commits_they_replace() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 3);
    let repo = fresh_clone(&fx, &src, "work");
    // HEAD~1 is grafted onto nothing: with the replacement, history is 2 commits long.
    git_ok(&repo, &["replace", "--graft", "HEAD~1"]);
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]), "2");
    apply_ok(&repo, &["--force"]);
    let new = git_ok(&repo, &["--no-replace-objects", "rev-parse", "HEAD~1"]);
    let replace = git_ok(
        &repo,
        &["for-each-ref", "--format=%(refname)", "refs/replace/"],
    );
    assert_eq!(
        replace,
        format!("refs/replace/{new}"),
        "renamed to the new id"
    );
    assert_eq!(
        git_ok(&repo, &["rev-list", "--count", "HEAD"]),
        "2",
        "the replacement still applies"
    );
    let target = git_ok(&repo, &["rev-parse", &format!("refs/replace/{new}")]);
    assert!(!holds(&reachable_from(&repo, &[target]), token.as_bytes()));
    assert_eq!(
        git_ok(
            &repo,
            &["--no-replace-objects", "rev-list", "--count", "HEAD"]
        ),
        "3"
    );
}

/// `git mktree` of `spec` (ls-tree lines); returns the tree id.
fn mktree(repo: &Path, spec: &str) -> String {
    String::from_utf8(git_stdin(repo, &["mktree"], spec))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn notes_are_remapped_to_the_new_commit_ids_flat_and_with_fanout() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 3);
    let repo = fresh_clone(&fx, &src, "work");
    // Flat notes through git, one of them holding the secret.
    git_ok(&repo, &["notes", "add", "-m", "reviewed by ops", "HEAD~2"]);
    git_ok(
        &repo,
        &[
            "notes",
            "add",
            "-m",
            &format!("rotated from {token}"),
            "HEAD",
        ],
    );
    // A fanout notes tree (ab/cdef...), built by hand.
    let target = git_ok(&repo, &["rev-parse", "HEAD~1"]);
    let blob = String::from_utf8(git_stdin(
        &repo,
        &["hash-object", "-w", "--stdin"],
        "fanout note\n",
    ))
    .unwrap()
    .trim()
    .to_string();
    let inner = mktree(&repo, &format!("100644 blob {blob}\t{}\n", &target[2..]));
    let outer = mktree(&repo, &format!("040000 tree {inner}\t{}\n", &target[..2]));
    let commit = git_ok(&repo, &["commit-tree", "-m", "notes", &outer]);
    git_ok(&repo, &["update-ref", "refs/notes/review", &commit]);
    assert_eq!(
        git_ok(&repo, &["notes", "--ref", "review", "show", "HEAD~1"]),
        "fanout note"
    );

    // A dry run computes the same rewrite without writing (the remapped notes trees included).
    let dry = apply_ok(&repo, &["--force", "--dry-run"]);
    let out = apply_ok(&repo, &["--force"]);
    assert_eq!(
        dry.lines().nth(1).unwrap_or_default(),
        out.lines().nth(1).unwrap_or_default()
    );
    assert_eq!(
        git_ok(&repo, &["notes", "show", "HEAD~2"]),
        "reviewed by ops"
    );
    assert_eq!(
        git_ok(&repo, &["notes", "show", "HEAD"]),
        "rotated from REDACTED:db-password"
    );
    assert_eq!(
        git_ok(&repo, &["notes", "--ref", "review", "show", "HEAD~1"]),
        "fanout note"
    );
    let new = git_ok(&repo, &["rev-parse", "HEAD~1"]);
    assert_ne!(new, target);
    let tree = git_ok(
        &repo,
        &["ls-tree", "-r", "--name-only", "refs/notes/review"],
    );
    assert_eq!(
        tree,
        format!("{}/{}", &new[..2], &new[2..]),
        "the fanout is kept"
    );
    let notes = git_ok(&repo, &["notes", "list"]);
    assert_eq!(notes.lines().count(), 2, "{notes}");
    let notes_objects = reachable_from(
        &repo,
        &["refs/notes/commits".into(), "refs/notes/review".into()],
    );
    assert!(!holds(&notes_objects, token.as_bytes()));
}

#[test]
fn a_run_killed_before_its_checkout_is_finished_by_the_next_run() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let (src, token) = token_history(&fx, &mut rng, 2);
    let repo = fresh_clone(&fx, &src, "work");
    let secrets = fx.write("secrets.txt", format!("{token}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let secrets = secrets.display().to_string();
    // SIGKILL right after the refs moved, before the working tree follows.
    let (code, _, _) = apply_with_hook(
        &repo,
        r#"[ "$1" = before-checkout ] && kill -9 $PPID; true"#,
    );
    assert_eq!(code, -1, "killed");
    assert_ne!(
        git_ok(&repo, &["rev-parse", "HEAD"]),
        git_ok(&src, &["rev-parse", "HEAD"])
    );
    let out = leaksweep(&repo)
        .args(["rewrite", "apply", "--secrets", &secrets])
        .output()
        .unwrap();
    // It finishes the checkout the killed run had not done, then refuses a second rewrite.
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("finished the checkout of an interrupted `rewrite apply`"),
        "{err}"
    );
    assert!(
        err.contains("this repository was rewritten before"),
        "{err}"
    );
    assert_eq!(git_ok(&repo, &["status", "--porcelain"]), "");
}

/// A history with no secret is not an error for `plan` or `apply`: nothing to do is exit 0, and
/// nothing is written.
#[test]
fn a_clean_history_is_nothing_to_do_not_an_error() {
    let fx = Fixture::new();
    let r = Repo::init(&fx, "src");
    r.commit_files(&[("README", "hello\n")], "init");
    let clone = fresh_clone(&fx, r.path(), "clone");
    for cmd in ["plan", "apply"] {
        let out = leaksweep(&clone).args(["rewrite", cmd]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "rewrite {cmd}: {stderr}");
        assert!(
            stderr.contains("nothing to rewrite: the history scan found no secret"),
            "rewrite {cmd}: {stderr}"
        );
    }
    assert!(!clone.join(".git/leaksweep").exists());
    // With --no-scan and no input there is nothing to work from: still a usage error.
    assert_input_error(
        &clone,
        &["rewrite", "plan", "--no-scan"],
        "nothing to remove",
    );
}
