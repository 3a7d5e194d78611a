//! Git hooks in real repositories: `hook install|uninstall` (hooks directory, core.hooksPath,
//! foreign hooks, backups), the installed scripts driven by real `git commit` and by pre-push
//! input, and the other install-time integrations (completions, man page).
//!
//! The scripts call `leaksweep git --staged|--range`. The wiring is tested with a stub scanner
//! (`LEAKSWEEP_BIN`) whose exit code is chosen, and end to end with the real scanner.

use crate::common::{git_command, git_output, leaksweep, Repo};
use std::path::{Path, PathBuf};
use std::process::Output;

// A made-up JWT from rules/mission.toml's examples (random signature, `auth.acme.test` issuer).
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4MjEzIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlzcyI6Imh0dHBzOi8vYXV0aC5hY21lLnRlc3QiLCJleHAiOjE4OTM0NTYwMDB9.YZDx598Cst7hL_kNmLaCVdLBX1rR6nYSBEwluGNi9oA";

/// Runs git in `dir` (hooks included), with `LEAKSWEEP_BIN` set for the hooks it runs.
fn git_with(dir: &Path, args: &[&str], bin: &Path) -> Output {
    git_command(dir)
        .env("LEAKSWEEP_BIN", bin)
        .args(args)
        .output()
        .expect("git runs")
}

fn hook(dir: &Path, name: &str) -> PathBuf {
    dir.join(".git/hooks").join(name)
}

/// A stand-in scanner: records its arguments in `log` and exits with `code`.
fn stub(dir: &Path, code: i32) -> (PathBuf, PathBuf) {
    let log = dir.join("stub.log");
    let path = dir.join(format!("stub-{code}.sh"));
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\necho 'stub: found eyJh****** (193 chars)' >&2\nexit {code}\n",
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (path, log)
}

#[test]
fn install_writes_an_executable_hook_calling_this_binary() {
    let r = Repo::new();
    std::fs::create_dir(r.path().join("sub")).unwrap();
    // From a subdirectory: the repository is discovered.
    leaksweep(&r.path().join("sub"))
        .args(["hook", "install"])
        .assert()
        .success();
    let path = hook(r.path(), "pre-commit");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# leaksweep-hook: v1"));
    assert!(text.contains("git --staged"));
    let exe = assert_cmd::cargo::cargo_bin("leaksweep");
    assert!(text.contains(&format!("LEAKSWEEP='{}'", exe.display())));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "executable");
    }
    // Installing again updates our own hook.
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success()
        .stderr(predicates::str::contains("updated"));
}

#[test]
fn install_writes_pre_merge_commit_too_and_leaves_a_foreign_one_alone() {
    let r = Repo::new();
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success()
        .stderr(predicates::str::contains("pre-merge-commit"));
    let merge = hook(r.path(), "pre-merge-commit");
    let text = std::fs::read_to_string(&merge).unwrap();
    assert!(text.contains("# leaksweep-hook: v1") && text.contains("git --staged"));
    assert!(text.contains("git merge --no-verify"), "{text}");
    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!merge.exists() && !hook(r.path(), "pre-commit").exists());
    // A foreign pre-merge-commit: pre-commit is installed, the other is kept, with a warning.
    std::fs::write(&merge, "#!/bin/sh\necho mine\n").unwrap();
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "merge commits made by `git merge` are not checked",
        ));
    assert_eq!(
        std::fs::read_to_string(&merge).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(is_leaksweep_hook(&hook(r.path(), "pre-commit")));
    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&merge).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

fn is_leaksweep_hook(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains("# leaksweep-hook: v1"))
}

#[test]
fn core_hooks_path_is_honoured() {
    let r = Repo::new();
    r.git(&["config", "core.hooksPath", ".githooks"]);
    leaksweep(r.path())
        .args(["hook", "install", "--pre-push"])
        .assert()
        .success();
    let text = std::fs::read_to_string(r.path().join(".githooks/pre-push")).unwrap();
    assert!(text.contains("git --range"));
    assert!(!hook(r.path(), "pre-push").exists());
}

#[test]
fn a_foreign_hook_is_kept_unless_forced_and_restored_on_uninstall() {
    let r = Repo::new();
    let path = hook(r.path(), "pre-commit");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let foreign = "#!/bin/sh\necho mine\n";
    std::fs::write(&path, foreign).unwrap();

    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not written by leaksweep"))
        .stderr(predicates::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), foreign);

    // Uninstall never removes a foreign hook.
    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), foreign);

    leaksweep(r.path())
        .args(["hook", "install", "--force"])
        .assert()
        .success()
        .stderr(predicates::str::contains("leaksweep-backup"));
    let backup = r.path().join(".git/hooks/pre-commit.leaksweep-backup");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), foreign);
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("leaksweep-hook"));

    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .success()
        .stderr(predicates::str::contains("restored"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), foreign);
    assert!(!backup.exists());
}

#[test]
fn uninstall_removes_only_our_hook() {
    let r = Repo::new();
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success();
    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!hook(r.path(), "pre-commit").exists());
    // Nothing to remove is not an error.
    leaksweep(r.path())
        .args(["hook", "uninstall"])
        .assert()
        .success()
        .stderr(predicates::str::contains("no pre-commit hook"));
}

#[test]
fn install_outside_a_repository_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    leaksweep(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not inside a git repository"));
}

#[test]
fn the_pre_commit_hook_blocks_on_exit_1_and_explains_how_to_allow() {
    let r = Repo::new();
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success();
    r.write("a.txt", "x\n");
    r.git(&["add", "a.txt"]);

    let (blocking, log) = stub(r.path(), 1);
    let out = git_with(r.path(), &["commit", "-q", "-m", "blocked"], &blocking);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("commit blocked"), "{err}");
    assert!(err.contains("leaksweep:allow"), "{err}");
    assert!(err.contains(".leaksweepignore"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().trim(),
        "git --staged"
    );
    assert!(git_output(r.path(), &["rev-parse", "HEAD"]).status.code() != Some(0));

    let (passing, _) = stub(r.path(), 0);
    let out = git_with(r.path(), &["commit", "-q", "-m", "clean"], &passing);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A scan error (exit 2) blocks too: the hook fails closed.
    r.write("b.txt", "y\n");
    r.git(&["add", "b.txt"]);
    let (erroring, _) = stub(r.path(), 2);
    let out = git_with(r.path(), &["commit", "-q", "-m", "error"], &erroring);
    assert_eq!(out.status.code(), Some(1), "git reports a failed hook as 1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("scan failed (exit 2)"));
}

#[test]
fn the_pre_push_hook_scans_the_pushed_range() {
    let r = Repo::new();
    r.write("a.txt", "1\n");
    let old = r.commit("one");
    r.write("a.txt", "2\n");
    let new = r.commit("two");
    leaksweep(r.path())
        .args(["hook", "install", "--pre-push"])
        .assert()
        .success();
    let (stub_bin, log) = stub(r.path(), 0);
    let zero = "0".repeat(40);
    let unknown = "f".repeat(40);
    let stdin = format!(
        "refs/heads/main {new} refs/heads/main {old}\n\
         refs/heads/topic {new} refs/heads/topic {zero}\n\
         (delete) {zero} refs/heads/gone {old}\n\
         refs/heads/main {new} refs/heads/main {unknown}\n"
    );
    let out = std::process::Command::new(hook(r.path(), "pre-push"))
        .current_dir(r.path())
        .env("LEAKSWEEP_BIN", &stub_bin)
        .args(["origin", "https://example.invalid/repo.git"])
        .stdin_bytes(stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls,
        [
            format!("git --range {old}..{new}"),
            format!("git --range {new}"),
            format!("git --range {new}"),
        ]
    );

    // A finding in any pushed ref blocks the push.
    let (blocking, _) = stub(r.path(), 1);
    let out = std::process::Command::new(hook(r.path(), "pre-push"))
        .current_dir(r.path())
        .env("LEAKSWEEP_BIN", &blocking)
        .stdin_bytes(format!("refs/heads/main {new} refs/heads/main {old}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("push blocked"));
}

/// Runs a command with `input` on its standard input.
trait StdinBytes {
    fn stdin_bytes(&mut self, input: String) -> Output;
}

impl StdinBytes for std::process::Command {
    fn stdin_bytes(&mut self, input: String) -> Output {
        use std::io::Write;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

#[test]
fn end_to_end_the_hook_blocks_a_jwt_and_lets_a_clean_commit_through() {
    let r = Repo::new();
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .success();
    r.write("config.env", format!("AUTH_TOKEN={JWT}\n"));
    r.git(&["add", "config.env"]);
    let out = git_output(r.path(), &["commit", "-q", "-m", "add token"]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("config.env"), "{all}");
    assert!(all.contains("eyJh******"), "redacted: {all}");
    assert!(!all.contains(JWT), "the raw secret must not be printed");
    assert!(all.contains("leaksweep:allow"), "{all}");

    r.git(&["rm", "-q", "--cached", "config.env"]);
    r.write("notes.txt", "nothing secret\n");
    r.git(&["add", "notes.txt"]);
    let out = git_output(r.path(), &["commit", "-q", "-m", "clean"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = leaksweep(Path::new("."))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("leaksweep"), "{shell}");
        assert!(text.contains("sarif"), "{shell}: formats are completed");
    }
    leaksweep(Path::new("."))
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn man_page() {
    let out = leaksweep(Path::new(".")).arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".TH leaksweep 1"));
    assert!(text.contains("hook"));
}
