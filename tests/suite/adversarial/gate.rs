//! Attack tests: see main.rs. The gate sees exactly what git records: the pre-commit hook scans
//! the index `git commit` is about to write (whichever index that is, from wherever git runs
//! it), decides which lines are new by itself, skips only real LFS pointers, and the shipped
//! pre-commit framework entries work as the framework drives them.

use crate::common::*;
use std::path::Path;
use std::process::Output;

/// A GitHub classic token of the real shape, with a valid checksum, drawn from `rng`.
fn token(rng: &mut impl rand::Rng) -> String {
    use leaksweep::matcher::validate::{base62, crc32};
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = draw(rng, B62, 30);
    let check = base62(crc32(random.as_bytes()) as u64, 6);
    format!("ghp_{random}{check}")
}

/// `leaksweep hook install` in `r`.
fn install_hook(r: &Repo) {
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success();
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts that a git command was refused by the leaksweep hook, naming `path`.
fn assert_blocked(out: &Output, path: &str) {
    let all = text(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected the hook to block: {all}"
    );
    assert!(all.contains("blocked"), "{all}");
    assert!(all.contains(path), "the finding names {path}: {all}");
}

fn assert_passed(out: &Output) {
    assert!(out.status.success(), "expected success: {}", text(out));
}

/// (path, line) of each finding of a JSON report.
fn places(v: &serde_json::Value) -> Vec<(String, u64)> {
    let mut p: Vec<(String, u64)> = findings(v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    p.sort();
    p
}

/// `leaksweep git --staged --format json` in `dir` (plus `env`): (exit code, report).
fn staged(dir: &Path, env: &[(&str, &Path)]) -> (i32, serde_json::Value) {
    let mut cmd = leaksweep(dir);
    cmd.args(["git", "--staged", "--format", "json"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, v, _) = run_json(&mut cmd);
    (code, v)
}

fn place(path: &str, line: u64) -> (String, u64) {
    (path.to_string(), line)
}

/// A repository whose `app.env` holds an old secret on line 1 since before HEAD (so it is not
/// new), with the hook installed.
fn repo_with_old_secret(rng: &mut impl rand::Rng) -> Repo {
    let r = Repo::new();
    r.write("app.env", format!("OLD_TOKEN={}\nPORT=1\n", token(rng)));
    r.write("notes.txt", "notes\n");
    r.commit("one");
    r.write("other.txt", "other\n");
    r.commit("two");
    install_hook(&r);
    r
}

// ---- 1. the index git commits, wherever it is ----

/// `git commit -a`, `git commit PATH`, `--only PATH` and `--include PATH` commit a temporary
/// index (GIT_INDEX_FILE), not `.git/index`; each must be blocked when it adds a secret.
#[test]
fn every_commit_form_is_gated_through_its_own_index() {
    let mut rng = seeded_rng();
    let forms: &[&[&str]] = &[
        &["commit", "-q", "-a", "-m", "x"],
        &["commit", "-q", "-m", "x", "app.env"],
        &["commit", "-q", "-m", "x", "--only", "app.env"],
        &["commit", "-q", "-m", "x", "--include", "app.env"],
    ];
    for form in forms {
        let r = repo_with_old_secret(&mut rng);
        let before = r.head();
        let old = r.read("app.env");
        r.write("app.env", format!("{old}NEW_TOKEN={}\n", token(&mut rng)));
        // Nothing is staged in .git/index: only the commit's own index has the secret.
        let out = git_output(r.path(), form);
        assert_blocked(&out, "app.env");
        assert!(
            text(&out).contains("  3:"),
            "line 3 of app.env: {}",
            text(&out)
        );
        assert_eq!(r.head(), before, "{form:?} must not commit");
    }
}

/// The converse: a secret staged in `.git/index` that `git commit PATH` leaves out is not what
/// the commit records, so it does not block that commit.
#[test]
fn what_a_path_commit_leaves_out_does_not_block_it() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.write("staged.env", format!("TOKEN={}\n", token(&mut rng)));
    r.git(&["add", "staged.env"]);
    r.write("notes.txt", "more notes\n");
    let out = git_output(r.path(), &["commit", "-q", "-m", "notes only", "notes.txt"]);
    assert_passed(&out);
    assert_eq!(
        r.git(&["show", "--name-only", "--format=", "HEAD"]),
        "notes.txt"
    );
    // The staged secret is still staged, and the next plain commit is blocked.
    let out = git_output(r.path(), &["commit", "-q", "-m", "the rest"]);
    assert_blocked(&out, "staged.env");
}

/// git runs hooks from the top of the work tree whatever directory `git commit` ran in, and a
/// relative GIT_INDEX_FILE is relative to that top (as `git ls-files` reads it); a run from a
/// subdirectory reads the same index.
#[test]
fn commit_from_a_subdirectory_and_a_relative_index_file() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.write("sub/deep/x.txt", "x\n");
    r.commit("three");
    r.write("sub/deep/x.txt", format!("x\nTOKEN={}\n", token(&mut rng)));
    let sub = r.path().join("sub/deep");
    let out = git_output(&sub, &["commit", "-q", "-a", "-m", "from sub"]);
    assert_blocked(&out, "sub/deep/x.txt");

    // An index elsewhere, named relative to the top: build it with git itself.
    let alt = Path::new(".git/alt-index");
    let mut add = git_command(r.path());
    add.env("GIT_INDEX_FILE", alt)
        .args(["add", "-A"])
        .status()
        .unwrap();
    // git resolves it against the top even when run from a subdirectory.
    let mut ls = git_command(&sub);
    let listed = ls
        .env("GIT_INDEX_FILE", alt)
        .args(["ls-files", "x.txt"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "x.txt");
    let (code, v) = staged(&sub, &[("GIT_INDEX_FILE", alt)]);
    assert_eq!((code, places(&v)), (1, vec![place("sub/deep/x.txt", 2)]));
    // .git/index itself holds nothing new.
    let (code, v) = staged(&sub, &[]);
    assert_eq!((code, places(&v)), (0, vec![]));
}

/// A linked worktree has its own index (`.git/worktrees/NAME/index`, GIT_DIR set by git).
#[test]
fn commit_in_a_linked_worktree_is_gated() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    let wt = r.worktree("wt", "topic");
    std::fs::write(wt.join("notes.txt"), format!("TOKEN={}\n", token(&mut rng))).unwrap();
    let out = git_output(&wt, &["commit", "-q", "-a", "-m", "wt"]);
    assert_blocked(&out, "notes.txt");
    std::fs::write(wt.join("new.env"), format!("TOKEN={}\n", token(&mut rng))).unwrap();
    git_ok(&wt, &["add", "new.env"]);
    let out = git_output(&wt, &["commit", "-q", "-m", "wt", "new.env"]);
    assert_blocked(&out, "new.env");
    // A clean commit in the worktree passes.
    std::fs::write(wt.join("notes.txt"), "clean\n").unwrap();
    let out = git_output(&wt, &["commit", "-q", "-m", "clean", "notes.txt"]);
    assert_passed(&out);
}

/// A git directory apart from its work tree (`git --git-dir D --work-tree W`, the dotfiles
/// layout), with W inside another repository: the hook must scan D's index, not the one that
/// searching upwards from W finds.
#[test]
fn git_dir_and_work_tree_from_the_environment() {
    let mut rng = seeded_rng();
    let outer = Repo::new();
    outer.write("readme.txt", "outer\n");
    outer.commit("outer");
    let home = outer.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let dot = outer.beside("dot.git");
    init_bare(&dot);
    let gd = format!("--git-dir={}", dot.display());
    let wt = format!("--work-tree={}", home.display());
    std::fs::write(home.join(".profile"), "export A=1\n").unwrap();
    git_ok(&home, &[&gd, &wt, "add", ".profile"]);
    git_ok(&home, &[&gd, &wt, "commit", "-q", "-m", "profile"]);
    leaksweep(&dot).args(["hook", "install"]).assert().success();
    std::fs::write(
        home.join(".profile"),
        format!("export A=1\nexport GITHUB_TOKEN={}\n", token(&mut rng)),
    )
    .unwrap();
    let out = git_output(&home, &[&gd, &wt, "commit", "-q", "-a", "-m", "token"]);
    assert_blocked(&out, ".profile");
    // The same through the environment, from the work tree.
    let (code, v) = staged(&home, &[("GIT_DIR", &dot), ("GIT_WORK_TREE", &home)]);
    assert_eq!(
        (code, places(&v)),
        (0, vec![]),
        "nothing staged in D's index yet"
    );
    git_ok(&home, &[&gd, &wt, "add", ".profile"]);
    let (code, v) = staged(&home, &[("GIT_DIR", &dot), ("GIT_WORK_TREE", &home)]);
    assert_eq!((code, places(&v)), (1, vec![place(".profile", 2)]));
    // A GIT_DIR that is not a repository is an input error, not a pass.
    let mut cmd = leaksweep(&home);
    cmd.env("GIT_DIR", outer.beside("nowhere"))
        .args(["git", "--staged"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("GIT_DIR="));
}

// ---- 2. new lines decided without the diff engine ----

/// A `-diff` attribute makes libgit2 report no lines for the file; the secret is still new.
#[test]
fn a_no_diff_attribute_does_not_hide_added_lines() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.write(".gitattributes", "*.env -diff\n");
    r.commit("attributes");
    r.commit("again");
    let old = r.read("app.env");
    r.write("app.env", format!("{old}NEW={}\n", token(&mut rng)));
    r.git(&["add", "app.env"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("app.env", 3)]));
    assert_blocked(
        &git_output(r.path(), &["commit", "-q", "-m", "x"]),
        "app.env",
    );
}

/// A file that was binary in HEAD and is text now: every line is compared with the old bytes.
#[test]
fn a_file_that_used_to_be_binary() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.write("data.cfg", b"\x00\x01\x02binary\x00\n");
    r.commit("binary");
    r.commit("again");
    r.write(
        "data.cfg",
        format!("mode=text\nTOKEN={}\n", token(&mut rng)),
    );
    r.git(&["add", "data.cfg"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("data.cfg", 2)]));
}

/// A symlink or a submodule replaced by a regular file: the old entry is not a file's lines.
/// With a symlink whose target is the very bytes of the new file, the blob ids are equal.
#[cfg(unix)]
#[test]
fn a_symlink_or_gitlink_replaced_by_a_file() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    let secret_line = format!("TOKEN={}", token(&mut rng));
    std::os::unix::fs::symlink(&secret_line, r.path().join("same.env")).unwrap();
    std::os::unix::fs::symlink("app.env", r.path().join("link.env")).unwrap();
    let sub = r.commit("links");
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{sub},vendor"),
    ]);
    r.commit_staged("gitlink");
    r.commit_staged("again");
    for p in ["same.env", "link.env"] {
        std::fs::remove_file(r.path().join(p)).unwrap();
    }
    r.write("same.env", &secret_line);
    r.write("link.env", format!("{secret_line}\n"));
    r.git(&["rm", "-q", "--cached", "vendor"]);
    r.write("vendor", format!("A=1\n{secret_line}\n"));
    r.git(&["add", "same.env", "link.env", "vendor"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!(
        (code, places(&v)),
        (
            1,
            vec![
                place("link.env", 1),
                place("same.env", 1),
                place("vendor", 2)
            ]
        )
    );
}

/// A secret moved or copied to a new path is new there (git records paths, not renames); an
/// old secret left where it was is not new, and a mode change adds no lines.
#[cfg(unix)]
#[test]
fn renames_copies_and_mode_changes() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.git(&["mv", "app.env", "moved.env"]);
    r.write(
        "notes.txt",
        std::fs::read(r.path().join("moved.env")).unwrap(),
    );
    r.git(&["add", "notes.txt"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!(
        (code, places(&v)),
        (1, vec![place("moved.env", 1), place("notes.txt", 1)])
    );
    r.git(&["reset", "-q", "--hard"]);

    // Mode change only: nothing new.
    use std::os::unix::fs::PermissionsExt;
    let env = r.path().join("app.env");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o755)).unwrap();
    r.git(&["add", "app.env"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (0, vec![]));
    // Mode change and a new secret: only the new line.
    let old = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("X={}\n{old}", token(&mut rng))).unwrap();
    r.git(&["add", "app.env"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("app.env", 1)]));
    // A line duplicated: one copy is old, the other is new.
    std::fs::write(&env, format!("{old}{old}")).unwrap();
    r.git(&["add", "app.env"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("app.env", 3)]));
}

/// HEAD's version cannot be read (its object is gone): nothing can be called old, so every
/// finding of the staged file is reported (fail closed).
#[test]
fn an_unreadable_old_version_reports_every_finding() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let old_line = format!("OLD={}\n", token(&mut rng));
    r.write("app.env", &old_line);
    r.commit("one");
    let old = r.rev("HEAD:app.env");
    r.write("app.env", format!("{old_line}NEW={}\n", token(&mut rng)));
    r.git(&["add", "app.env"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("app.env", 2)]));
    std::fs::remove_file(
        r.path()
            .join(".git/objects")
            .join(&old[..2])
            .join(&old[2..]),
    )
    .unwrap();
    let (code, v) = staged(r.path(), &[]);
    assert_eq!(
        (code, places(&v)),
        (1, vec![place("app.env", 1), place("app.env", 2)])
    );
}

/// A file that already holds as many findings as the per-file cap: a secret added after them
/// is past the cap in a whole-file scan, and must still be seen.
#[test]
fn old_findings_up_to_the_cap_do_not_hide_a_new_one() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let dump: String = (0..1000)
        .map(|i| format!("T{i}={}\n", token(&mut rng)))
        .collect();
    r.write("dump.txt", &dump);
    r.commit("a dump of old tokens");
    r.write("dump.txt", format!("{dump}NEW={}\n", token(&mut rng)));
    r.git(&["add", "dump.txt"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("dump.txt", 1001)]));
}

// ---- 3. LFS pointers: the whole file, nothing else ----

const LFS_OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

fn lfs_pointer() -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{LFS_OID}\nsize 12345\n")
}

/// A file that starts like an LFS pointer but holds more is scanned by the worktree scan,
/// `--staged` and the history scan; a real pointer is skipped by all three.
#[test]
fn an_lfs_header_does_not_hide_a_secret() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write(
        "model.bin",
        format!("{}TOKEN={}\n", lfs_pointer(), token(&mut rng)),
    );
    r.write("real.bin", lfs_pointer());
    r.git(&["add", "-A"]);
    let skipped_lfs = |v: &serde_json::Value| -> Vec<String> {
        v["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["reason"] == "lfs-pointer")
            // `./real.bin` (worktree), `real.bin` (staged), `<commit>:real.bin` (history).
            .map(|s| {
                let p = s["path"].as_str().unwrap();
                p.rsplit([':', '/']).next().unwrap().to_string()
            })
            .collect()
    };
    let (code, v) = staged(r.path(), &[]);
    assert_eq!((code, places(&v)), (1, vec![place("model.bin", 4)]));
    assert_eq!(skipped_lfs(&v), ["real.bin"]);
    let (code, v, _) = run_json(leaksweep(r.path()).args(["scan", ".", "--format", "json"]));
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert!(findings(&v)[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("model.bin"));
    assert_eq!(findings(&v)[0]["line"], 4);
    assert_eq!(skipped_lfs(&v), ["real.bin"]);
    r.commit("lfs");
    let (code, v, _) = run_json(leaksweep(r.path()).args(["git", "--format", "json"]));
    assert_eq!((code, places(&v)), (1, vec![place("model.bin", 4)]));
    assert_eq!(skipped_lfs(&v), ["real.bin"]);
}

// ---- 5. siblings ----

/// A force-added ignored file, and a staged file deleted from the work tree since: both are in
/// the commit, both are scanned from the index.
#[test]
fn ignored_and_deleted_files_are_scanned_from_the_index() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.write(".gitignore", "*.secret\n");
    r.commit("ignore");
    r.write("prod.secret", format!("TOKEN={}\n", token(&mut rng)));
    r.git(&["add", "-f", "prod.secret"]);
    assert_blocked(
        &git_output(r.path(), &["commit", "-q", "-m", "x"]),
        "prod.secret",
    );
    r.write("gone.env", format!("TOKEN={}\n", token(&mut rng)));
    r.git(&["add", "gone.env"]);
    r.remove("prod.secret");
    r.remove("gone.env");
    let (code, v) = staged(r.path(), &[]);
    assert_eq!(
        (code, places(&v)),
        (1, vec![place("gone.env", 1), place("prod.secret", 1)])
    );
}

/// A path that is not UTF-8: scanned, and its old lines found by its exact bytes.
#[cfg(target_os = "linux")]
#[test]
fn a_non_utf8_path() {
    use std::os::unix::ffi::OsStrExt;
    let mut rng = seeded_rng();
    let r = Repo::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    let file = r.path().join(name);
    std::fs::write(&file, format!("OLD={}\n", token(&mut rng))).unwrap();
    r.commit("one");
    r.commit("two");
    install_hook(&r);
    let old = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{old}NEW={}\n", token(&mut rng))).unwrap();
    r.git(&["add", "-A"]);
    let (code, v) = staged(r.path(), &[]);
    assert_eq!(code, 1);
    let lines: Vec<u64> = findings(&v)
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2], "only the new line");
    let out = git_output(r.path(), &["commit", "-q", "-m", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// With core.hooksPath set, `hook install` writes the hook where git runs it, and it blocks.
#[test]
fn core_hooks_path_gates_commits() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    r.git(&["config", "core.hooksPath", "tools/hooks"]);
    install_hook(&r);
    assert!(r.path().join("tools/hooks/pre-commit").exists());
    r.write("a.env", format!("TOKEN={}\n", token(&mut rng)));
    r.git(&["add", "a.env"]);
    assert_blocked(&git_output(r.path(), &["commit", "-q", "-m", "x"]), "a.env");
}

/// A relative core.hooksPath is resolved in the worktree git runs the hook in: `hook install`
/// must cover the linked worktrees too, or a commit there runs no hook at all.
#[test]
fn a_relative_hooks_path_covers_every_worktree() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    r.git(&["config", "core.hooksPath", ".githooks"]);
    let wt = r.worktree("wt", "topic");
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success()
        .stderr(predicates::str::contains("each worktree"));
    std::fs::write(wt.join("s.env"), format!("TOKEN={}\n", token(&mut rng))).unwrap();
    git_ok(&wt, &["add", "s.env"]);
    let before = git_ok(&wt, &["rev-parse", "HEAD"]);
    assert_blocked(&git_output(&wt, &["commit", "-q", "-m", "x"]), "s.env");
    assert_eq!(git_ok(&wt, &["rev-parse", "HEAD"]), before);
    // Uninstall removes them all.
    leaksweep(&wt)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!wt.join(".githooks/pre-commit").exists());
    assert!(!r.path().join(".githooks/pre-commit").exists());
}

/// `git merge` makes its merge commit without the pre-commit hook (it runs pre-merge-commit):
/// `hook install` installs that one too, so a merged-in side that adds a secret is blocked, as
/// is the commit that concludes a merge stopped by `--no-commit`.
#[test]
fn merges_are_gated() {
    let mut rng = seeded_rng();
    let r = repo_with_old_secret(&mut rng);
    r.branch("side");
    r.write("side.env", format!("TOKEN={}\n", token(&mut rng)));
    r.commit("side, without the hook");
    r.checkout("main");
    r.write("main.txt", "main\n");
    r.commit("main");
    let head = r.head();
    let out = git_output(r.path(), &["merge", "-q", "--no-ff", "-m", "merge", "side"]);
    assert_blocked(&out, "side.env");
    assert_eq!(r.head(), head);
    let _ = git_output(r.path(), &["merge", "--abort"]);
    git_ok(r.path(), &["merge", "-q", "--no-ff", "--no-commit", "side"]);
    assert_blocked(
        &git_output(r.path(), &["commit", "-q", "-m", "merge"]),
        "side.env",
    );
    assert_eq!(r.head(), head);
}

// ---- 4. the pre-commit framework's pre-push entry, driven as the framework drives it ----

/// The `entry:` of hook `id` in the shipped `.pre-commit-hooks.yaml`.
fn framework_entry(id: &str) -> String {
    let yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let block = yaml
        .split("\n- id: ")
        .find(|b| b.starts_with(id) && b[id.len()..].starts_with('\n'))
        .unwrap_or_else(|| panic!("no hook {id} in .pre-commit-hooks.yaml"));
    let entry = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap_or_else(|| panic!("hook {id} has no entry"));
    assert!(
        block.contains("always_run: true"),
        "{id}: without always_run the framework skips a push that changes no file"
    );
    entry.to_string()
}

/// A pre-push hook doing what the pre-commit framework (4.x, `hook_impl._pre_push_ns` and
/// `run`) does before it runs a pre-push stage hook: it reads git's lines, takes the first ref
/// that pushes something, sets PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF (the remote's commit if
/// this repository has it, else the parent of the first commit no remote-tracking ref of that
/// remote has; neither when the push starts at a root commit: the framework's all-files mode),
/// the PRE_COMMIT_* remote and branch variables and PRE_COMMIT=1, and runs the entry with the
/// binary on PATH and no standard input. A push with nothing new runs no hook.
fn install_framework_pre_push(r: &Repo, entry: &str) {
    let bin = assert_cmd::cargo::cargo_bin("leaksweep");
    let script = format!(
        r#"#!/bin/sh
Z40=0000000000000000000000000000000000000000
while read -r local_branch local_sha remote_branch remote_sha; do
  [ "$local_sha" = "$Z40" ] && continue
  if [ "$remote_sha" != "$Z40" ] && git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then
    from=$remote_sha; to=$local_sha
  else
    first=$(git rev-list "$local_sha" --topo-order --reverse --not --remotes="$1" | head -n 1)
    [ -z "$first" ] && continue
    if git rev-list --max-parents=0 "$local_sha" | grep -qx "$first"; then
      from=; to=
    else
      from=$(git rev-parse "$first^"); to=$local_sha
    fi
  fi
  if [ -n "$from" ]; then
    export PRE_COMMIT_ORIGIN="$from" PRE_COMMIT_SOURCE="$to"
    export PRE_COMMIT_FROM_REF="$from" PRE_COMMIT_TO_REF="$to"
  fi
  export PRE_COMMIT_LOCAL_BRANCH="$local_branch" PRE_COMMIT_REMOTE_BRANCH="$remote_branch"
  export PRE_COMMIT_REMOTE_NAME="$1" PRE_COMMIT_REMOTE_URL="$2" PRE_COMMIT=1
  PATH='{bindir}':$PATH
  export PATH
  exec {entry} </dev/null
done
exit 0
"#,
        bindir = bin.parent().unwrap().display(),
    );
    let path = r.path().join(".git/hooks/pre-push");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The shipped pre-push entry, run by the framework on real pushes to a bare remote: the first
/// push of a branch (all-zero remote sha, root commit: all-files mode), a normal push, a new
/// branch from a pushed one, an annotated tag on new commits. Clean pushes pass; each push that
/// adds a secret is refused; a secret already on the remote does not block later pushes.
#[cfg(unix)]
#[test]
fn the_framework_pre_push_entry_gates_real_pushes() {
    let mut rng = seeded_rng();
    let entry = framework_entry("leaksweep-pre-push");
    let r = Repo::new();
    let remote = r.beside("remote.git");
    init_bare(&remote);
    r.git(&["remote", "add", "origin", &remote.display().to_string()]);
    install_framework_pre_push(&r, &entry);
    let pushed = |branch: &str| {
        git_output(&remote, &["rev-parse", "-q", "--verify", branch])
            .status
            .success()
    };

    // First push of a branch whose root commit holds a secret: all-files mode.
    r.write("app.env", format!("TOKEN={}\n", token(&mut rng)));
    r.commit("root with a secret");
    let out = git_output(r.path(), &["push", "-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("app.env"), "{}", text(&out));
    assert!(!pushed("refs/heads/main"));
    // Clean root: the first push passes.
    r.git(&["update-ref", "-d", "refs/heads/main"]);
    r.git(&["rm", "-q", "--cached", "app.env"]);
    r.remove("app.env");
    r.write("readme.txt", "hello\n");
    r.commit("clean root");
    assert_passed(&git_output(r.path(), &["push", "-q", "origin", "main"]));

    // A normal push: a clean commit passes, one adding a secret is refused.
    r.write("readme.txt", "hello again\n");
    r.commit("clean");
    assert_passed(&git_output(r.path(), &["push", "-q", "origin", "main"]));
    r.write("deploy.env", format!("TOKEN={}\n", token(&mut rng)));
    r.commit("secret");
    let out = git_output(r.path(), &["push", "-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("deploy.env"), "{}", text(&out));
    // Pushed anyway (the secret is on the remote now): later clean pushes are not blocked by it.
    git_ok(r.path(), &["push", "-q", "--no-verify", "origin", "main"]);
    r.write("readme.txt", "third\n");
    r.commit("clean after");
    assert_passed(&git_output(r.path(), &["push", "-q", "origin", "main"]));

    // A new branch from a pushed commit (all-zero remote sha, not a root).
    r.branch("topic");
    r.write("topic.txt", "topic\n");
    r.commit("topic clean");
    assert_passed(&git_output(r.path(), &["push", "-q", "origin", "topic"]));
    r.branch("topic2");
    r.write("topic.env", format!("TOKEN={}\n", token(&mut rng)));
    r.commit("topic secret");
    let out = git_output(r.path(), &["push", "-q", "origin", "topic2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("topic.env"), "{}", text(&out));
    assert!(!pushed("refs/heads/topic2"));

    // An annotated tag on new commits.
    r.checkout("main");
    r.write("release.env", format!("TOKEN={}\n", token(&mut rng)));
    r.commit("release");
    r.git(&["tag", "-a", "-m", "v1", "v1"]);
    let out = git_output(r.path(), &["push", "-q", "origin", "v1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("release.env"), "{}", text(&out));
    assert!(!pushed("refs/tags/v1"));
    // A clean annotated tag on new commits passes.
    r.git(&["reset", "-q", "--hard", "HEAD~"]);
    r.write("changelog.txt", "v2\n");
    r.commit("v2");
    r.git(&["tag", "-a", "-m", "v2", "v2"]);
    assert_passed(&git_output(r.path(), &["push", "-q", "origin", "v2"]));
}

/// Run outside the framework (no PRE_COMMIT_* variables), the pre-push entry says what it needs
/// rather than scanning nothing.
#[test]
fn the_framework_pre_push_entry_outside_the_framework_is_an_input_error() {
    let entry = framework_entry("leaksweep-pre-push");
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    let args: Vec<&str> = entry.split_whitespace().skip(1).collect();
    assert_input_error(r.path(), &args, "PRE_COMMIT_TO_REF");
}
