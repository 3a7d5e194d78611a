//! The README's generic shell CI gate, run verbatim against real temporary git repositories with
//! the built binary first on PATH. The script is read out of the README (between the
//! `ci-gate:begin`/`ci-gate:end` markers), so the documented recipe and the tested one cannot drift.
//!
//! The range mode (`LEAKSWEEP_BASE`, `leaksweep git --range`) is tested with a secret added and
//! removed after the base (the gate fails) and with HEAD as the base (the gate passes).

use crate::common::{git_command, Repo};
use std::path::{Path, PathBuf};
use std::process::Output;

// A made-up JWT signing secret from rules/mission.toml's examples: random, belongs to nothing.
const SECRET: &str = "LD0FEHeQp838JYrrxnzfDzrMy0HRrucxLDBOvysNFxA";

/// The gate script from README.md, between the ci-gate markers.
fn gate_script() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["README.md"] {
        let Ok(text) = std::fs::read_to_string(root.join(name)) else {
            continue;
        };
        let Some(start) = text.find("<!-- ci-gate:begin -->") else {
            continue;
        };
        let rest = &text[start..];
        let end = rest
            .find("<!-- ci-gate:end -->")
            .expect("ci-gate:end marker");
        let block = &rest[..end];
        let body_start = block.find("```sh\n").expect("```sh fence") + "```sh\n".len();
        let body_end = block.rfind("```").expect("closing fence");
        return block[body_start..body_end].to_string();
    }
    panic!("no ci-gate block in README.md");
}

/// A repository with one commit holding `files`.
fn repo(files: &[(&str, String)]) -> Repo {
    let r = Repo::new();
    r.commit_files(files, "init");
    r
}

fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("leaksweep")
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs the gate in `dir` with `path` as PATH and extra environment.
fn run_gate(dir: &Path, path: &str, env: &[(&str, &str)]) -> Output {
    // Outside the repository, so the scan does not see it.
    let script = tempfile::Builder::new()
        .prefix("leaksweep-gate-")
        .suffix(".sh")
        .tempfile()
        .unwrap();
    std::fs::write(script.path(), gate_script()).unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg(script.path()).current_dir(dir).env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn path_with_leaksweep() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_gate_passes_a_clean_repository() {
    let r = repo(&[("README.md", "hello\n".into())]);
    let out = run_gate(r.path(), &path_with_leaksweep(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no secrets found"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path().join("leaksweep.json")).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn the_gate_fails_a_repository_with_a_secret_and_keeps_it_out_of_the_log() {
    let r = repo(&[
        ("README.md", "hello\n".into()),
        ("settings.py", format!("JWT_SECRET = \"{SECRET}\"\n")),
    ]);
    let out = run_gate(r.path(), &path_with_leaksweep(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("secrets found"), "{log}");
    assert!(!log.contains(SECRET), "the CI log must not hold the secret");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path().join("leaksweep.json")).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "settings.py");
    assert!(findings[0].get("secret").is_none());
}

#[test]
fn the_gate_fails_when_the_scanner_cannot_run() {
    let r = repo(&[("README.md", "hello\n".into())]);
    // No leaksweep on PATH: the gate must not pass silently.
    let out = run_gate(r.path(), "/usr/bin:/bin", &[]);
    assert_ne!(out.status.code(), Some(0));
    assert_ne!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the scan failed"));
}

#[test]
fn the_gate_scans_only_the_new_commits_with_a_base() {
    let r = repo(&[("README.md", "hello\n".into())]);
    let base = r.head();
    // A secret added and removed again after BASE: gone from the tree, still in the range.
    std::fs::write(
        r.path().join("settings.py"),
        format!("JWT_SECRET = \"{SECRET}\"\n"),
    )
    .unwrap();
    r.commit("add");
    r.git(&["rm", "-q", "settings.py"]);
    r.commit_staged("remove");

    let out = run_gate(
        r.path(),
        &path_with_leaksweep(),
        &[("LEAKSWEEP_BASE", &base)],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // From HEAD on, nothing new.
    let out = run_gate(
        r.path(),
        &path_with_leaksweep(),
        &[("LEAKSWEEP_BASE", "HEAD")],
    );
    assert_eq!(out.status.code(), Some(0));
}

/// The lines of the README's plain-hook recipe (between the hook-recipe markers), comments cut.
fn hook_recipe() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = text
        .find("<!-- hook-recipe:begin -->")
        .expect("hook-recipe:begin marker");
    let rest = &text[start..];
    let block = &rest[..rest.find("<!-- hook-recipe:end -->").expect("end marker")];
    let body = &block[block.find("```sh\n").expect("```sh fence") + 6..block.rfind("```").unwrap()];
    body.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Runs one recipe line with `sh` in `dir`, leaksweep first on PATH; asserts it succeeds.
fn run_line(dir: &Path, line: &str) {
    let out = std::process::Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env("PATH", path_with_leaksweep())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_hook_recipe_installs_hooks_that_block_a_secret_and_removes_them() {
    let lines = hook_recipe();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let r = repo(&[("README.md", "hello\n".into())]);
    let hooks = r.path().join(".git/hooks");
    for line in &lines[..2] {
        run_line(r.path(), line);
    }
    for hook in ["pre-commit", "pre-merge-commit", "pre-push"] {
        assert!(hooks.join(hook).is_file(), "{hook} not installed");
    }
    // The installed pre-commit hook blocks a commit that adds a secret.
    std::fs::write(
        r.path().join("settings.py"),
        format!("JWT_SECRET = \"{SECRET}\"\n"),
    )
    .unwrap();
    r.git(&["add", "settings.py"]);
    let out = git_command(r.path())
        .args(["commit", "-q", "-m", "add"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the hook let a secret through");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("commit blocked"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    for line in &lines[2..] {
        run_line(r.path(), line);
    }
    for hook in ["pre-commit", "pre-merge-commit", "pre-push"] {
        assert!(!hooks.join(hook).exists(), "{hook} left behind");
    }
}
