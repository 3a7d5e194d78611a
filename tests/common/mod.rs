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

/// `leaksweep scan . --no-ignore --format json --show-secrets` in `dir`: (exit code, report,
/// stderr). For tests that compare the raw values found with the ones they planted.
pub fn scan_json_raw(dir: &Path) -> (i32, serde_json::Value, String) {
    run_json(leaksweep(dir).args([
        "scan",
        ".",
        "--no-ignore",
        "--format",
        "json",
        "--show-secrets",
    ]))
}

/// Runs the command, returns (exit code, stdout, stderr); -1 for a process killed by a signal.
pub fn run_text(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the command and asserts exit code `code` (showing stderr when it is not); returns
/// (stdout, stderr), which must be UTF-8.
pub fn run_expect(cmd: &mut Command, code: i32) -> (String, String) {
    let out = cmd.output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// The findings array of a JSON report.
pub fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// The identity and date of every commit and tag the tests make (unless a test sets its own),
/// so the same steps make the same commit ids.
pub const GIT_NAME: &str = "Ada Tester";
pub const GIT_EMAIL: &str = "ada@example.com";
pub const GIT_DATE: &str = "2024-01-02T03:04:05 +0100";

/// `git` run in `dir`, isolated from the machine's global and system config, with the fixed
/// identity and date ([`GIT_NAME`], [`GIT_EMAIL`], [`GIT_DATE`]).
pub fn git_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", GIT_NAME)
        .env("GIT_AUTHOR_EMAIL", GIT_EMAIL)
        .env("GIT_AUTHOR_DATE", GIT_DATE)
        .env("GIT_COMMITTER_NAME", GIT_NAME)
        .env("GIT_COMMITTER_EMAIL", GIT_EMAIL)
        .env("GIT_COMMITTER_DATE", GIT_DATE);
    cmd
}

/// Runs `git args` in `dir` (see [`git_command`]), asserts success, returns trimmed stdout.
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&git_raw(dir, args))
        .trim()
        .to_string()
}

/// Runs `git args` in `dir` (see [`git_command`]), asserts success, returns stdout as it is.
pub fn git_raw(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `git args` in `dir` (see [`git_command`], hooks included) without asserting anything.
pub fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
    git_command(dir).args(args).output().expect("git runs")
}

/// Runs `cmd` with `input` on its standard input; returns its output.
pub fn output_with_stdin(
    cmd: &mut std::process::Command,
    input: impl AsRef<[u8]>,
) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_ref())
        .expect("write to stdin");
    child.wait_with_output().expect("wait")
}

/// `git args` in `dir` with `input` on its standard input; asserts success, returns stdout
/// (`hash-object --stdin`, `mktree`, `cat-file --batch`).
pub fn git_stdin(dir: &Path, args: &[&str], input: impl AsRef<[u8]>) -> Vec<u8> {
    let out = output_with_stdin(git_command(dir).args(args), input);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every object `git rev-list --objects REVS` lists, raw (`git cat-file --batch`), concatenated:
/// what a clone of those revisions would hold.
pub fn objects_of(repo: &Path, revs: &[&str]) -> Vec<u8> {
    let mut args = vec!["rev-list", "--objects"];
    args.extend_from_slice(revs);
    let ids: String = git_ok(repo, &args)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string() + "\n")
        .collect();
    git_stdin(repo, &["cat-file", "--batch"], ids)
}

/// `git log -p` of every branch, tag and remote-tracking ref, messages included: the live
/// history as the git CLI reads it.
pub fn live_log(repo: &Path) -> String {
    git_ok(
        repo,
        &[
            "log",
            "--branches",
            "--tags",
            "--remotes",
            "-p",
            "--format=%B",
        ],
    )
}

/// Whether `needle` occurs in `hay`.
pub fn holds(hay: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A new bare repository at `path`.
pub fn init_bare(path: &Path) {
    let parent = path.parent().expect("a parent");
    git_ok(
        parent,
        &["init", "-q", "--bare", &path.display().to_string()],
    );
}

/// A git repository on branch `main`, made and changed with the git CLI ([`git_command`]: fixed
/// identity and dates, no hooks on the commits it makes).
pub struct Repo {
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Repo {
    /// A new repository in a temporary directory of its own, as `<tmp>/repo` (so that
    /// [`Repo::beside`] has room).
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut r = Repo::init_in(&tmp.path().join("repo"));
        r._tmp = Some(tmp);
        r
    }

    /// A new repository as `<fixture>/<name>`.
    pub fn init(fx: &Fixture, name: &str) -> Repo {
        Repo::init_in(&fx.path().join(name))
    }

    /// A new repository in `dir` (made if missing).
    pub fn init_in(dir: &Path) -> Repo {
        std::fs::create_dir_all(dir).expect("mkdir");
        git_ok(dir, &["init", "-q", "-b", "main"]);
        Repo::open(dir)
    }

    /// An existing repository (a clone, say).
    pub fn open(dir: &Path) -> Repo {
        Repo {
            dir: dir.to_path_buf(),
            _tmp: None,
        }
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `name` in the directory that holds the repository: outside it, next to it.
    pub fn beside(&self, name: &str) -> PathBuf {
        self.dir.parent().expect("a parent").join(name)
    }

    /// Writes `rel` in the work tree (directories made as needed); returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&p, contents).expect("write");
        p
    }

    /// Reads `rel` from the work tree.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).expect("read")
    }

    /// Removes `rel` from the work tree.
    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.dir.join(rel)).expect("rm");
    }

    /// `git args` in the work tree; asserts success, returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git_ok(&self.dir, args)
    }

    /// Stages everything (`add -A`) and commits it; returns the commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(msg)
    }

    /// Writes `files` (path, contents) and commits everything; returns the commit id.
    pub fn commit_files<C: AsRef<[u8]>>(&self, files: &[(&str, C)], msg: &str) -> String {
        for (rel, contents) in files {
            self.write(rel, contents);
        }
        self.commit(msg)
    }

    /// Commits what is staged, nothing else; returns the commit id.
    pub fn commit_staged(&self, msg: &str) -> String {
        self.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", msg]);
        self.head()
    }

    /// Stages everything and commits it with author and committer date `date`; returns the id.
    pub fn commit_at(&self, date: &str, msg: &str) -> String {
        self.git(&["add", "-A"]);
        let out = git_command(&self.dir)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .args(["commit", "-q", "--no-verify", "-m", msg])
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    /// Stages everything and commits it as author `name` (`email` if given); returns the id.
    pub fn commit_by(&self, name: &str, email: Option<&str>, msg: &str) -> String {
        self.git(&["add", "-A"]);
        let mut cmd = git_command(&self.dir);
        cmd.env("GIT_AUTHOR_NAME", name);
        if let Some(email) = email {
            cmd.env("GIT_AUTHOR_EMAIL", email);
        }
        let out = cmd
            .args(["commit", "-q", "--no-verify", "-m", msg])
            .output()
            .expect("git runs");
        assert!(out.status.success(), "{out:?}");
        self.head()
    }

    /// The id `rev` names.
    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// The id of HEAD.
    pub fn head(&self) -> String {
        self.rev("HEAD")
    }

    /// Creates branch `name` at HEAD and checks it out.
    pub fn branch(&self, name: &str) {
        self.git(&["checkout", "-q", "-b", name]);
    }

    /// A linked worktree `name` beside the repository, on a new branch `branch`; returns its path.
    pub fn worktree(&self, name: &str, branch: &str) -> PathBuf {
        let wt = self.beside(name);
        let path = wt.display().to_string();
        self.git(&["worktree", "add", "-q", "-b", branch, &path]);
        wt
    }

    /// Checks out `rev`.
    pub fn checkout(&self, rev: &str) {
        self.git(&["checkout", "-q", rev]);
    }

    /// A lightweight tag `name` at HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// An annotated tag `name` at HEAD with message `msg`; returns the tag object's id.
    pub fn tag_annotated(&self, name: &str, msg: &str) -> String {
        self.git(&["tag", "-a", name, "-m", msg]);
        self.rev(name)
    }
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

/// Base64url without padding, as JWTs encode their parts.
pub fn b64url_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// An HS256 JWT over `claims`, signed with `key`.
pub fn hs256(key: &[u8], claims: &str) -> String {
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        b64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url_encode(claims.as_bytes())
    );
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    m.update(input.as_bytes());
    format!("{input}.{}", b64url_encode(&m.finalize().into_bytes()))
}

/// A zip (deflated members) holding `members`.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `data`, gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A gzip-compressed tar holding `members`.
pub fn tar_gz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    gzip(&b.into_inner().unwrap())
}
