//! Shared test harness: temp fixture trees, random secrets, and running the real binary.
#![allow(dead_code)]

use assert_cmd::Command;
use rand::Rng;
use std::path::{Path, PathBuf};

/// A temporary directory with helpers to write files into it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write");
        p
    }
}

/// The leaksweep binary, run from `cwd`, with colour off.
pub fn leaksweep(cwd: &Path) -> Command {
    let mut c = Command::cargo_bin("leaksweep").expect("binary built");
    c.current_dir(cwd).env("NO_COLOR", "1");
    c
}

/// Random base64url string of `n` random bytes (no padding): [`b64url_from`] a fresh draw.
pub fn b64url(n: usize) -> String {
    b64url_from(&mut seeded_rng(), n)
}

/// Random lower-case hex of `n` bytes: [`hex_from`] a fresh draw.
pub fn hex(n: usize) -> String {
    hex_from(&mut seeded_rng(), n)
}

/// A random password of `n` characters with letters, digits and symbols, always mixed:
/// [`password_from`] a fresh draw.
pub fn password(n: usize) -> String {
    password_from(&mut seeded_rng(), n)
}

/// Runs the command, returns (exit code, parsed JSON stdout, stderr).
pub fn run_json(cmd: &mut Command) -> (i32, serde_json::Value, String) {
    let out = cmd.output().expect("run");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (code, json, stderr)
}

/// The findings array of a JSON report.
pub fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// `git` run in `dir`, isolated from the machine's global and system config, with a fixed identity.
pub fn git_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid");
    cmd
}

/// Runs `git args` in `dir` (see [`git_command`]), asserts success, returns trimmed stdout.
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh clone of `src` as `<fixture>/<name>` (`--no-local`: objects copied as a remote
/// clone would, one HEAD reflog entry, branches tracking `origin`), which `rewrite apply` wants.
pub fn fresh_clone(fx: &Fixture, src: &Path, name: &str) -> PathBuf {
    let dst = fx.path().join(name);
    git_ok(
        fx.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            &src.display().to_string(),
            &dst.display().to_string(),
        ],
    );
    dst
}

/// Runs `leaksweep args` in `dir` and asserts a usage or input error: exit 2 with `message` on
/// stderr.
pub fn assert_input_error(dir: &Path, args: &[&str], message: &str) {
    leaksweep(dir)
        .args(args)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(message));
}

/// A seeded random generator for test values. The seed comes from `LEAKSWEEP_TEST_SEED` or is
/// drawn once per test thread; every call prints it (with the draw's number in the test) to the
/// test's captured output, which libtest shows when the test fails, so a failing draw can be
/// replayed with `LEAKSWEEP_TEST_SEED=<seed> cargo test <test name>`. Each call in a test returns a
/// different stream, derived from the seed and the call's number.
pub fn seeded_rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    use std::cell::Cell;
    thread_local! {
        static SEED: u64 = std::env::var("LEAKSWEEP_TEST_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(rand::random);
        static DRAW: Cell<u64> = const { Cell::new(0) };
    }
    let seed = SEED.with(|s| *s);
    let n = DRAW.with(|d| {
        let n = d.get();
        d.set(n + 1);
        n
    });
    eprintln!("random test values: LEAKSWEEP_TEST_SEED={seed} (draw {n})");
    rand::rngs::StdRng::seed_from_u64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// `n` characters from `alphabet`, drawn from `rng`.
pub fn draw(rng: &mut impl Rng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// Base64url (no padding) of `n` bytes drawn from `rng`.
pub fn b64url_from(rng: &mut impl Rng, n: usize) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex of `n` bytes drawn from `rng`.
pub fn hex_from(rng: &mut impl Rng, n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
    hex::encode(bytes)
}

/// A mixed password of `n` (>= 4) characters drawn from `rng`: letters, digits and symbols.
pub fn password_from(rng: &mut impl Rng, n: usize) -> String {
    const A: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!^*+-_";
    // No `**`: a run of stars reads as a masked value (`Ab3x****9f`), as it should.
    let mut s = draw(rng, A, n - 3).replace("**", "*k");
    s.push_str("Q7x");
    s
}
