//! Attack tests: see main.rs. `rewrite verify` re-checks everything a repository stores,
//! independently of what `apply` walked; `finish` leaves no old value behind and refuses to prune
//! a repository that was never rewritten; scans say when they skip backups.
use crate::common::*;
use std::path::{Path, PathBuf};

/// Upper and lower case letters and digits.
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A repository rewritten by `leaksweep rewrite apply` (no inputs: a fresh history scan).
struct Rewritten {
    fx: Fixture,
    repo: PathBuf,
    jwt: String,
    pw: String,
    /// The old `main` (kept by the backups): holds both secrets in its history.
    old: String,
}

impl Rewritten {
    fn secrets(&self) -> [&str; 2] {
        [&self.jwt, &self.pw]
    }
}

/// The first 16 hex digits of a secret's id, as verify names it.
fn id16(secret: &str) -> String {
    leaksweep::finding::SecretId::of(secret.as_bytes()).as_str()[..16].to_string()
}

/// Source repository with a JWT secret and a database password in `.env`, removed later; a
/// fresh clone of it, rewritten. `rewrite plan` runs first with each of `plans` (it writes a
/// replacements file).
fn rewritten_with(plans: &[&[&str]]) -> Rewritten {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let jwt = b64url_from(&mut rng, 32);
    let pw = password_from(&mut rng, 20);
    let src = Repo::init(&fx, "src");
    src.write("README.md", "# app\n");
    src.write(
        ".env",
        format!("JWT_SECRET={jwt}\nDATABASE_URL=postgres://app:{pw}@db.prod.internal:5432/app\n"),
    );
    src.commit("initial");
    src.write(
        ".env",
        "JWT_SECRET=${JWT_SECRET}\nDATABASE_URL=${DATABASE_URL}\n",
    );
    src.commit("move secrets out");
    let repo = fresh_clone(&fx, src.path(), "work");
    for args in plans {
        run_expect(leaksweep(&repo).args(["rewrite", "plan"]).args(*args), 0);
    }
    run_expect(leaksweep(&repo).args(["rewrite", "apply"]), 0);
    // The old history keeps its ids (the source still has it), wherever the backups live.
    let old = src.rev("main");
    Rewritten {
        fx,
        repo,
        jwt,
        pw,
        old,
    }
}

fn rewritten() -> Rewritten {
    rewritten_with(&[])
}

/// Runs `rewrite verify` (no inputs); (exit code, stdout, stderr). Asserts no raw secret in
/// either stream.
fn verify(r: &Rewritten) -> (i32, String, String) {
    let (code, stdout, stderr) = run_text(leaksweep(&r.repo).args(["rewrite", "verify"]));
    for s in r.secrets() {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "raw secret printed:\n{stdout}{stderr}"
        );
    }
    (code, stdout, stderr)
}

/// Asserts verify fails with a problem line naming `holder` and the secret's id.
fn assert_fails_naming(r: &Rewritten, holder: &str, secret: &str) -> String {
    let (code, out, err) = verify(r);
    assert_eq!(code, 1, "verify passed:\n{out}{err}");
    let id = id16(secret);
    assert!(
        out.lines()
            .any(|l| l.contains("FAIL") && l.contains(holder) && l.contains(&id)),
        "no FAIL line naming {holder} and {id}:\n{out}{err}"
    );
    out
}

fn assert_verified(r: &Rewritten) -> String {
    let (code, out, err) = verify(r);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("leaksweep: verified"), "{out}");
    out
}

/// A commit on its own (no parent) whose tree holds `file` with `content`.
fn commit_with(dir: &Path, file: &str, content: &str) -> String {
    let blob = git_stdin(dir, &["hash-object", "-w", "--stdin"], content);
    let blob = String::from_utf8_lossy(&blob).trim().to_string();
    let tree = git_stdin(dir, &["mktree"], format!("100644 blob {blob}\t{file}\n"));
    let tree = String::from_utf8_lossy(&tree).trim().to_string();
    git_ok(dir, &["commit-tree", &tree, "-m", "data"])
}

#[test]
fn verify_passes_on_a_correct_rewrite_and_names_the_backups_as_expected() {
    let r = rewritten();
    let out = assert_verified(&r);
    assert!(
        out.contains("expected: the backups") && out.contains(&id16(&r.jwt)),
        "{out}"
    );
}

#[test]
fn verify_counts_the_recorded_old_history_as_the_backup_wherever_the_backup_refs_are() {
    let r = rewritten();
    // Backup refs kept elsewhere (or deleted): the HEAD and main reflogs still name the old
    // commits, which the commit-map records as the old history.
    let backups = git_ok(
        &r.repo,
        &["for-each-ref", "--format=%(refname)", "refs/leaksweep/"],
    );
    for b in backups.lines() {
        git_ok(&r.repo, &["update-ref", "-d", b]);
    }
    let git_dir = r.repo.join(git_ok(&r.repo, &["rev-parse", "--git-dir"]));
    let backup_repo = git_dir.join("leaksweep/backup.git");
    if backup_repo.exists() {
        std::fs::remove_dir_all(&backup_repo).unwrap();
    }
    let secrets = r.fx.path().join("secrets.txt");
    // The values, with the replacements the rewrite used.
    std::fs::write(
        &secrets,
        format!(
            "{}==>REDACTED:jwt-secret\n{}==>REDACTED:db-connection-uri\n",
            r.jwt, r.pw
        ),
    )
    .unwrap();
    let out = leaksweep(&r.repo)
        .args(["rewrite", "verify", "--secrets"])
        .arg(&secrets)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("expected: the backups (file leaksweep/commit-map"),
        "{stdout}"
    );
    assert!(!stdout.contains(&r.jwt) && !stdout.contains(&r.pw));
    // A live ref at the old history is still a failure.
    git_ok(&r.repo, &["update-ref", "refs/heads/old", &r.old]);
    let out = leaksweep(&r.repo)
        .args(["rewrite", "verify", "--secrets"])
        .arg(&secrets)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("FAIL refs/heads/old") && l.contains(&id16(&r.pw))),
        "{stdout}"
    );
}

#[test]
fn verify_fails_on_a_ref_with_a_non_utf8_name() {
    use std::os::unix::ffi::OsStrExt;
    let r = rewritten();
    let name = std::ffi::OsStr::from_bytes(b"refs/heads/caf\xe9");
    let st = git_command(&r.repo)
        .arg("update-ref")
        .arg(name)
        .arg(&r.old)
        .status()
        .unwrap();
    assert!(st.success());
    assert_fails_naming(&r, "refs/heads/caf\\xe9", &r.jwt);
    let st = git_command(&r.repo)
        .args(["update-ref", "-d"])
        .arg(name)
        .status()
        .unwrap();
    assert!(st.success());
    assert_verified(&r);
    // A ref whose name spells a value is named masked (`verify` asserts nothing raw is printed).
    let leak = format!("refs/heads/leak-{}", r.jwt);
    git_ok(&r.repo, &["update-ref", &leak, &r.old]);
    assert_fails_naming(&r, "refs/heads/leak-", &r.jwt);
}

#[test]
fn verify_fails_on_a_detached_linked_worktree_head_and_a_worktree_index() {
    let r = rewritten();
    let wt = r.fx.path().join("wt");
    git_ok(
        &r.repo,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            &wt.display().to_string(),
            "HEAD",
        ],
    );
    assert_verified(&r);
    // HEAD only: the worktree's index still stages the clean tree.
    git_ok(&wt, &["update-ref", "--no-deref", "HEAD", &r.old]);
    assert_fails_naming(&r, "worktree wt: HEAD", &r.pw);
    git_ok(&wt, &["update-ref", "--no-deref", "HEAD", "main"]);
    assert_verified(&r);
    // The index only: a value staged and never committed.
    std::fs::write(wt.join("local.env"), format!("JWT_SECRET={}\n", r.jwt)).unwrap();
    git_ok(&wt, &["add", "local.env"]);
    assert_fails_naming(&r, "worktree wt: index", &r.jwt);
    git_ok(&wt, &["rm", "-q", "--cached", "local.env"]);
    // The main worktree's index too.
    std::fs::write(r.repo.join("local.env"), format!("JWT_SECRET={}\n", r.jwt)).unwrap();
    git_ok(&r.repo, &["add", "local.env"]);
    assert_fails_naming(&r, "the index", &r.jwt);
}

#[test]
fn verify_fails_on_a_stash_entry_older_than_the_top() {
    let r = rewritten();
    std::fs::write(r.repo.join("README.md"), format!("JWT_SECRET={}\n", r.jwt)).unwrap();
    git_ok(&r.repo, &["stash", "push", "-q"]);
    std::fs::write(r.repo.join("README.md"), "# app, edited\n").unwrap();
    git_ok(&r.repo, &["stash", "push", "-q"]);
    assert_fails_naming(&r, "reflog refs/stash@{1}", &r.jwt);
}

#[test]
fn verify_fails_on_a_commit_only_the_reflogs_reach() {
    let r = rewritten();
    std::fs::write(r.repo.join("local.env"), format!("JWT_SECRET={}\n", r.jwt)).unwrap();
    git_ok(&r.repo, &["add", "local.env"]);
    git_ok(&r.repo, &["commit", "-q", "-m", "oops"]);
    git_ok(&r.repo, &["reset", "-q", "--hard", "HEAD~1"]);
    // The reset left ORIG_HEAD naming it, and the reflogs of HEAD and main.
    assert_fails_naming(&r, "ORIG_HEAD", &r.jwt);
    std::fs::remove_file(r.repo.join(".git/ORIG_HEAD")).unwrap();
    assert_fails_naming(&r, "reflog HEAD@{1}", &r.jwt);
}

#[test]
fn verify_fails_on_base64_and_percent_encoded_copies() {
    use base64::Engine;
    let r = rewritten();
    // Base64url without padding, the value one byte into a 3-byte group, no `key=` before it:
    // no rule and no decoder of the scanner looks at it.
    let mut plain = b"x".to_vec();
    plain.extend_from_slice(r.pw.as_bytes());
    plain.extend_from_slice(b"yz");
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&plain);
    let c = commit_with(&r.repo, "blob.txt", &format!("payload {enc} end\n"));
    git_ok(&r.repo, &["update-ref", "refs/heads/encoded", &c]);
    let out = assert_fails_naming(&r, "refs/heads/encoded", &r.pw);
    assert!(out.contains("base64url"), "{out}");
    git_ok(&r.repo, &["update-ref", "-d", "refs/heads/encoded"]);
    // Percent-encoded, every other character escaped (lower-case hex): the raw value is not there.
    let pct: String =
        r.pw.bytes()
            .enumerate()
            .map(|(i, b)| {
                if i % 2 == 0 {
                    format!("%{b:02x}")
                } else {
                    (b as char).to_string()
                }
            })
            .collect();
    let c = commit_with(
        &r.repo,
        "links.md",
        &format!("see https://example.invalid/login?next=/&p={pct} for the old login\n"),
    );
    git_ok(&r.repo, &["update-ref", "refs/heads/percent", &c]);
    let out = assert_fails_naming(&r, "refs/heads/percent", &r.pw);
    assert!(out.contains("percent-encoded"), "{out}");
}

#[test]
fn verify_fails_on_a_note() {
    let r = rewritten();
    git_ok(
        &r.repo,
        &[
            "notes",
            "add",
            "-m",
            &format!("JWT_SECRET={}", r.jwt),
            "HEAD",
        ],
    );
    assert_fails_naming(&r, "refs/notes/commits", &r.jwt);
}

#[test]
fn verify_fails_on_restored_remote_tracking_tagged_and_peeled_old_history() {
    let r = rewritten();
    let new = git_ok(&r.repo, &["rev-parse", "main"]);
    // A branch restored from the backup.
    git_ok(&r.repo, &["update-ref", "refs/heads/main", &r.old]);
    assert_fails_naming(&r, "refs/heads/main", &r.jwt);
    git_ok(&r.repo, &["update-ref", "refs/heads/main", &new]);
    // A remote-tracking ref still at the old history.
    git_ok(
        &r.repo,
        &["update-ref", "refs/remotes/origin/stale", &r.old],
    );
    assert_fails_naming(&r, "refs/remotes/origin/stale", &r.jwt);
    git_ok(&r.repo, &["update-ref", "-d", "refs/remotes/origin/stale"]);
    // An annotated tag on an old commit, and a tag whose message holds a value.
    git_ok(&r.repo, &["tag", "-a", "old-release", &r.old, "-m", "old"]);
    assert_fails_naming(&r, "refs/tags/old-release", &r.pw);
    git_ok(&r.repo, &["tag", "-d", "old-release"]);
    git_ok(
        &r.repo,
        &[
            "tag",
            "-a",
            "notes",
            "HEAD",
            "-m",
            &format!("JWT_SECRET={}", r.jwt),
        ],
    );
    assert_fails_naming(&r, "refs/tags/notes", &r.jwt);
    git_ok(&r.repo, &["tag", "-d", "notes"]);
    // A replace ref standing an old commit in for the new one.
    git_ok(&r.repo, &["replace", &new, &r.old]);
    assert_fails_naming(&r, &format!("refs/replace/{new}"), &r.jwt);
    git_ok(&r.repo, &["replace", "-d", &new]);
    assert_verified(&r);
    // A packed-refs peeled line naming an old commit (what `git show-ref -d` and upload-pack
    // advertise for the tag).
    git_ok(&r.repo, &["tag", "-a", "v1", "HEAD", "-m", "release"]);
    git_ok(&r.repo, &["pack-refs", "--all"]);
    let packed = r.repo.join(".git/packed-refs");
    let text = std::fs::read_to_string(&packed).unwrap();
    let edited = text.replace(&format!("^{new}"), &format!("^{}", r.old));
    assert_ne!(text, edited, "no peeled line for v1: {text}");
    std::fs::write(&packed, edited).unwrap();
    assert_fails_naming(&r, "refs/tags/v1 (peeled line of packed-refs)", &r.jwt);
}

#[test]
fn verify_fails_after_an_interrupted_apply() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let jwt = b64url_from(&mut rng, 32);
    let src = Repo::init(&fx, "src");
    src.commit_files(&[(".env", format!("JWT_SECRET={jwt}\n"))], "initial");
    let repo = fresh_clone(&fx, src.path(), "work");
    let out = leaksweep(&repo)
        .args(["rewrite", "apply"])
        .env("LEAKSWEEP_TEST_CRASH_BEFORE_REFS", "1")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let out = leaksweep(&repo)
        .args(["rewrite", "verify"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("FAIL refs/heads/main") && l.contains(&id16(&jwt))),
        "{stdout}"
    );
    assert!(!stdout.contains(&jwt));
}

/// Every regular file under `dir` except `dir/objects`, recursively.
fn files_outside_objects(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            if p.file_name().is_some_and(|n| n == "objects") && p.parent() == Some(dir) {
                continue;
            }
            files_outside_objects(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

#[test]
fn finish_leaves_no_file_holding_an_old_secret() {
    use base64::Engine;
    use std::os::unix::fs::PermissionsExt;
    let mut rng = seeded_rng();
    let outside = std::env::temp_dir().join(format!("leaksweep-repl-{}", hex_from(&mut rng, 8)));
    let outside_arg = outside.display().to_string();
    // `plan` writes the default replacements file, and the one --replacements-out names.
    let r = rewritten_with(&[&[], &["--replacements-out", &outside_arg]]);
    let gitdir = r.repo.join(".git");
    assert!(gitdir.join("leaksweep/replacements.txt").is_file());
    assert!(outside.is_file());
    assert_verified(&r);
    let out = leaksweep(&r.repo)
        .args(["rewrite", "finish", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!outside.exists(), "{} outlived finish", outside.display());
    let mut files = Vec::new();
    files_outside_objects(&gitdir, &mut files);
    assert!(!files.is_empty());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        for s in r.secrets() {
            let forms = [
                s.as_bytes().to_vec(),
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .encode(s)
                    .into_bytes(),
            ];
            for form in forms {
                assert!(
                    !data.windows(form.len()).any(|w| w == form.as_slice()),
                    "{} still holds an old secret after finish",
                    f.display()
                );
            }
        }
        if f.starts_with(gitdir.join("leaksweep")) {
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
    // And verify still passes with nothing left to recover.
    assert_verified(&r);
    let _ = std::fs::remove_file(&outside);
}

#[test]
fn finish_refuses_a_repository_that_was_never_rewritten() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let src = Repo::init(&fx, "src");
    src.commit_files(&[("a.txt", "a\n")], "a");
    let repo = Repo::open(&fresh_clone(&fx, src.path(), "work"));
    // Work the user may still need: a commit only the reflog reaches.
    repo.write("b.txt", draw(&mut rng, ALNUM, 24));
    let wip = repo.commit("work in progress");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    assert_input_error(
        repo.path(),
        &["rewrite", "finish", "--yes"],
        "no rewrite is recorded",
    );
    repo.git(&["cat-file", "-e", &wip]);
    assert!(repo.git(&["reflog", "show", "--format=%H"]).contains(&wip));
}

#[test]
fn history_scans_count_and_name_skipped_backup_refs() {
    let r = rewritten();
    // Backup refs of the old style, whatever `apply` keeps today.
    for b in ["refs/heads/main", "refs/remotes/origin/main"] {
        git_ok(
            &r.repo,
            &[
                "update-ref",
                &format!("refs/leaksweep/original/{b}"),
                &r.old,
            ],
        );
    }
    // The backups are skipped, and said to be.
    let (code, json, err) = run_json(leaksweep(&r.repo).args(["git", ".", "--format", "json"]));
    assert_eq!(code, 0, "{json}{err}");
    assert!(findings(&json).is_empty(), "{json}");
    let skipped = json["summary"]["skipped"]["backup-ref"].as_u64();
    assert!(skipped.is_some_and(|n| n >= 2), "{json}");
    assert!(
        err.contains(&format!("{} backup ref(s)", skipped.unwrap()))
            && err.contains("--include-backups"),
        "{err}"
    );
    // --include-backups scans them.
    let (code, json, err) =
        run_json(leaksweep(&r.repo).args(["git", ".", "--format", "json", "--include-backups"]));
    assert_eq!(code, 1, "{json}{err}");
    let found: Vec<String> = findings(&json)
        .iter()
        .filter_map(|f| f["secret_id"].as_str().map(|s| s[..16].to_string()))
        .collect();
    assert!(
        found.contains(&id16(&r.jwt)) && found.contains(&id16(&r.pw)),
        "{json}"
    );
    // A remote that received the backups (a mirror push) warns as well.
    let remote = r.fx.path().join("remote.git");
    init_bare(&remote);
    git_ok(
        &r.repo,
        &["push", "-q", "--mirror", &remote.display().to_string()],
    );
    let (code, json, err) = run_json(leaksweep(&remote).args(["git", ".", "--format", "json"]));
    assert_eq!(code, 0, "{json}{err}");
    assert!(
        json["summary"]["skipped"]["backup-ref"]
            .as_u64()
            .is_some_and(|n| n >= 2),
        "{json}"
    );
    assert!(err.contains("backup ref(s)"), "{err}");
}
