//! Attack tests: see main.rs.
//!
//! Caps, skips, exit codes and resource bounds: the findings cap counts only what a mode reports,
//! a blob is judged at every path that holds it, tag and commit messages obey the same limits
//! as files, special files are counted skips, and the exit code says "findings" whatever
//! happened to standard output.

use crate::common::*;
use rand::rngs::StdRng;
use std::path::Path;

/// A `JWT_SECRET=` line with a fresh random value (the value is returned too).
fn secret_line(rng: &mut StdRng) -> (String, String) {
    let v = b64url_from(rng, 32);
    (format!("JWT_SECRET={v}\n"), v)
}

/// `n` lines, each a different secret.
fn many_secrets(rng: &mut StdRng, n: usize) -> String {
    (0..n).map(|_| secret_line(rng).0).collect()
}

/// (path, line, commit) of every finding.
fn places(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    findings(report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["git"]["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut cmd = leaksweep(dir);
    cmd.args(args).args(["--format", "json"]);
    run_json(&mut cmd)
}

// ---- 1. the findings cap counts only what the mode reports ----

/// 1,001 old secrets in a file, then one new one appended: the staged gate must report the new
/// one (the cap used to be reached by the old lines before the added-line filter ran).
#[test]
fn findings_cap_counts_only_added_lines_when_staged() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let old = many_secrets(&mut rng, 1001);
    r.write("app.env", &old);
    r.commit("old secrets");
    let (line, _) = secret_line(&mut rng);
    r.write("app.env", format!("{old}{line}"));
    r.git(&["add", "app.env"]);
    let (code, report, err) = json(r.path(), &["git", "--staged"]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, u64)> = places(&report)
        .into_iter()
        .map(|(p, l, _)| (p, l))
        .collect();
    assert_eq!(got, vec![("app.env".to_string(), 1002)]);
}

/// The same in a pushed range: the new secret of the second commit is reported, alone.
#[test]
fn findings_cap_counts_only_new_secrets_in_a_range() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let old = many_secrets(&mut rng, 1001);
    r.write("app.env", &old);
    let c1 = r.commit("old secrets");
    let (line, _) = secret_line(&mut rng);
    r.write("app.env", format!("{old}{line}"));
    let c2 = r.commit("one more");
    let (code, report, err) = json(r.path(), &["git", "--range", &format!("{c1}..HEAD")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(places(&report), vec![("app.env".to_string(), 1002, c2)]);
}

/// A full history scan reports the secret the second version added, though both versions hold
/// more than the cap.
#[test]
fn findings_cap_in_history_counts_secrets_new_to_a_version() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let old = many_secrets(&mut rng, 1001);
    r.write("app.env", &old);
    r.commit("old secrets");
    let (line, _) = secret_line(&mut rng);
    r.write("app.env", format!("{old}{line}"));
    let c2 = r.commit("one more");
    let (code, report, err) = json(r.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    let at = places(&report);
    assert!(
        at.contains(&("app.env".to_string(), 1002, c2)),
        "the new secret is missing: {} findings, none at line 1002",
        at.len()
    );
}

/// Inline-allowed lines do not use up the cap either: 1,001 allowed secrets then a real one.
#[test]
fn findings_cap_counts_only_findings_not_allowed_inline() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    let mut text: String = (0..1001)
        .map(|_| {
            format!(
                "JWT_SECRET={} # leaksweep:allow\n",
                b64url_from(&mut rng, 32)
            )
        })
        .collect();
    text.push_str(&secret_line(&mut rng).0);
    fx.write("app.env", text);
    let (code, report, err) = json(fx.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<u64> = places(&report).into_iter().map(|(_, l, _)| l).collect();
    assert_eq!(got, vec![1002]);
    assert_eq!(report["summary"]["suppressed_inline"], 1001);
}

// ---- 2. a blob is judged at every path that holds it ----

const ALLOW_DOCS: &str = "[allowlist]\npaths = [\"docs/**\"]\n";

/// A secret in an allowlisted `docs/example.env`, copied byte for byte to `config/prod.env`: the
/// copy is reported there, at the commit that made it.
#[test]
fn copied_blob_is_reported_at_a_path_that_is_not_allowlisted() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write(".leaksweep.toml", ALLOW_DOCS);
    let content = format!("# example\n{}", secret_line(&mut rng).0);
    r.write("docs/example.env", &content);
    r.commit("docs");
    r.write("config/prod.env", &content);
    let c2 = r.commit("config");
    let (code, report, err) = json(r.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&report),
        vec![("config/prod.env".to_string(), 2, c2.clone())]
    );
    // Every location listed is one where it is reported: not the allowlisted original.
    let (code, report, err) = json(r.path(), &["git", "--all-locations"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&report),
        vec![("config/prod.env".to_string(), 2, c2)]
    );
    let found = findings(&report);
    let listed: Vec<&str> = found[0]["git"]["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["path"].as_str())
        .collect();
    assert_eq!(listed, vec!["config/prod.env"]);
}

/// The same when the whole directory is copied (one tree object reached at two paths).
#[test]
fn copied_tree_is_reported_at_a_path_that_is_not_allowlisted() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write(".leaksweep.toml", ALLOW_DOCS);
    let content = format!("# example\n{}", secret_line(&mut rng).0);
    r.write("docs/env/example.env", &content);
    r.commit("docs");
    r.write("config/env/example.env", &content);
    let c2 = r.commit("config");
    let (code, report, err) = json(r.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        places(&report),
        vec![("config/env/example.env".to_string(), 2, c2)]
    );
}

/// In a pushed range, a copy (of a file or of a whole directory) out of an allowlisted path that
/// the base already held is new at its new path: the range reports it there.
#[test]
fn range_reports_a_copy_out_of_an_allowlisted_path() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write(".leaksweep.toml", ALLOW_DOCS);
    let file = format!("# example\n{}", secret_line(&mut rng).0);
    let nested = format!("# nested\n{}", secret_line(&mut rng).0);
    r.write("docs/example.env", &file);
    r.write("docs/env/nested.env", &nested);
    let c1 = r.commit("docs");
    r.write("config/prod.env", &file);
    r.write("deploy/env/nested.env", &nested);
    let c2 = r.commit("copies");
    let (code, report, err) = json(r.path(), &["git", "--range", &format!("{c1}..HEAD")]);
    assert_eq!(code, 1, "{err}");
    let mut at = places(&report);
    at.sort();
    assert_eq!(
        at,
        vec![
            ("config/prod.env".to_string(), 2, c2.clone()),
            ("deploy/env/nested.env".to_string(), 2, c2)
        ]
    );
}

/// A file moved out of an allowlisted path (`git mv`, detected as a rename) is new where it
/// lands: the staged gate and the pushed range report it there.
#[test]
fn rename_out_of_an_allowlisted_path_is_reported() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write(".leaksweep.toml", ALLOW_DOCS);
    r.write(
        "docs/example.env",
        format!("# example\n{}", secret_line(&mut rng).0),
    );
    let c1 = r.commit("docs");
    r.git(&["mv", "docs/example.env", "config.env"]);
    let (code, report, err) = json(r.path(), &["git", "--staged"]);
    assert_eq!(code, 1, "{err}");
    let at: Vec<(String, u64)> = places(&report)
        .into_iter()
        .map(|(p, l, _)| (p, l))
        .collect();
    assert_eq!(at, vec![("config.env".to_string(), 2)]);
    let c2 = r.commit("move");
    let (code, report, err) = json(r.path(), &["git", "--range", &format!("{c1}..HEAD")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(places(&report), vec![("config.env".to_string(), 2, c2)]);
}

/// A secret first seen in a test fixture and copied to a real config keeps the confidence the
/// real path gives it, so `--min-confidence medium` still reports it.
#[test]
fn copied_blob_keeps_the_confidence_of_its_real_path() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let content = format!("# fixture\n{}", secret_line(&mut rng).0);
    r.write("tests/fixture.env", &content);
    r.commit("fixture");
    r.write("config/prod.env", &content);
    r.commit("config");
    let (code, report, err) = json(r.path(), &["git", "--min-confidence", "medium"]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["confidence"], "medium");
}

// ---- 3. tag messages in ranges ----

/// The pre-push hook passes a new tag as `<tag object id>` (a single revision): its message is
/// scanned. A range whose commits an annotated tag points at scans that tag's message too.
#[test]
fn range_scans_the_messages_of_pushed_annotated_tags() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("a.txt", "a\n");
    let c1 = r.commit("one");
    r.write("a.txt", "b\n");
    r.commit("two");
    let (line, _) = secret_line(&mut rng);
    let tag = r.tag_annotated("v1", &format!("release\n\n{line}"));
    for range in [tag.clone(), format!("{c1}..{tag}"), format!("{c1}..HEAD")] {
        let (code, report, err) = json(r.path(), &["git", "--range", &range]);
        assert_eq!(code, 1, "--range {range}: {err}");
        let f = findings(&report);
        assert_eq!(f.len(), 1, "--range {range}: {report:#}");
        assert_eq!(f[0]["path"], "<tag message>");
        assert_eq!(f[0]["git"]["commit"], tag.as_str());
    }
    // A range not holding the tagged commit does not report it.
    let (code, _, err) = json(r.path(), &["git", "--range", &format!("{c1}..{c1}")]);
    assert_eq!(code, 0, "{err}");
}

// ---- 4. exit codes whatever happened to stdout ----

/// Runs `leaksweep args` in `dir` with stdout a pipe whose reading end is closed as soon as the
/// process starts (before its scan ends and it writes the report).
fn run_into_closed_pipe(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leaksweep"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `leaksweep scan . | head -1` under `set -o pipefail`: findings are exit 1 even when nobody
/// reads the report; a clean scan into a closed pipe stays exit 0.
#[test]
fn closed_stdout_does_not_turn_findings_into_a_pass() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("app.env", secret_line(&mut rng).0);
    for format in ["text", "json", "sarif"] {
        let (code, err) = run_into_closed_pipe(fx.path(), &["scan", ".", "--format", format]);
        assert_eq!(code, 1, "--format {format}: {err}");
    }
    let clean = Fixture::new();
    clean.write("a.txt", "nothing here\n");
    let (code, err) = run_into_closed_pipe(clean.path(), &["scan", "."]);
    assert_eq!(code, 0, "{err}");
}

// ---- 5. rules that cannot compile ----

/// A user rule whose regex is over the compile size limit is an error at load naming the rule
/// and file, not a rule silently left out of the scan.
#[test]
fn oversized_user_rule_regex_is_a_load_error() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write(
        "huge.toml",
        "[[rule]]\nid = \"huge\"\ndescription = \"d\"\nkeywords = [\"hugetoken\"]\n\
         regex = '''hugetoken(?P<secret>[a-z0-9]{1000}){1000}'''\n\
         examples = [\"hugetoken\"]\nnegatives = [\"other\"]\n",
    );
    fx.write("app.env", secret_line(&mut rng).0);
    for args in [
        vec!["scan", ".", "--rules", "huge.toml"],
        vec!["rules", "list", "--rules", "huge.toml"],
    ] {
        let out = leaksweep(fx.path()).args(&args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("huge.toml"), "{args:?}: {err}");
        assert!(err.contains("'huge'"), "{args:?}: {err}");
        assert!(err.contains("size limit"), "{args:?}: {err}");
    }
}

// ---- 6. commit and tag messages obey --max-file-size ----

/// A commit message over `--max-file-size` is skipped as too large, named by its commit, and
/// its secret is not scanned; one under the limit is.
#[test]
fn commit_message_over_max_file_size_is_skipped_and_named() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let (line, _) = secret_line(&mut rng);
    let pad = "x".repeat(4096);
    r.write("a.txt", "a\n");
    let big = r.commit(&format!("big\n\n{pad}\n{line}"));
    let (code, report, err) = json(r.path(), &["git", "--max-file-size", "2K", "-v"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report["summary"]["skipped"]["too-large"], 1, "{report:#}");
    assert!(err.contains(&big[..7]), "the skip names the commit: {err}");
    let (code, _, err) = json(r.path(), &["git", "--max-file-size", "8K"]);
    assert_eq!(code, 1, "{err}");
}

/// An annotated tag message over the limit is skipped the same way.
#[test]
fn tag_message_over_max_file_size_is_skipped() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    let (line, _) = secret_line(&mut rng);
    let pad = "x".repeat(4096);
    r.tag_annotated("v1", &format!("{pad}\n{line}"));
    let (code, report, err) = json(r.path(), &["git", "--max-file-size", "2K"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report["summary"]["skipped"]["too-large"], 1, "{report:#}");
}

/// A commit whose first line is huge: the summary copied into findings is bounded.
#[test]
fn commit_summary_in_reports_is_bounded() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    r.write("app.env", secret_line(&mut rng).0);
    let title = "y".repeat(100_000);
    r.commit(&format!("{title}\n\n{}", secret_line(&mut rng).0));
    let (code, report, err) = json(r.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{report:#}");
    for f in &f {
        let summary = f["git"]["summary"].as_str().unwrap_or_default();
        assert!(
            summary.chars().count() <= 201,
            "{} characters of summary in a finding",
            summary.len()
        );
    }
}

// ---- 7. special files ----

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
}

/// A FIFO in a scanned tree is counted as a skip (`special-file`) and named with -v, without
/// being opened (opening it would block the scan forever).
#[test]
fn fifo_in_tree_is_a_counted_skip() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("app.env", secret_line(&mut rng).0);
    mkfifo(&fx.path().join("pipe.env"));
    let (code, report, err) = json(fx.path(), &["scan", ".", "-v"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        report["summary"]["skipped"]["special-file"], 1,
        "{report:#}"
    );
    assert!(
        err.contains("skipped pipe.env (special-file)"),
        "-v names it: {err}"
    );
}

/// A FIFO or a device named on the command line is skipped the same way (never opened), and a
/// scan of nothing else scanned nothing: exit 2.
#[test]
fn fifo_or_device_given_directly_is_a_counted_skip() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("app.env", secret_line(&mut rng).0);
    mkfifo(&fx.path().join("pipe"));
    let (code, report, err) = json(fx.path(), &["scan", "pipe", "/dev/zero", "app.env"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        report["summary"]["skipped"]["special-file"], 2,
        "{report:#}"
    );
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    let out = leaksweep(fx.path())
        .args(["scan", "pipe"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was scanned"));
}

/// A FIFO where an ignore file belongs (`.gitignore`, `.ignore`, `.leaksweepignore`) never
/// blocks the scan: the directory holding it is an error (not scanned, exit 2) and the rest is
/// scanned; `--no-ignore` reads no ignore file and counts the FIFO as a skip.
#[test]
fn fifo_ignore_files_never_block_the_scan() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("app.env", secret_line(&mut rng).0);
    fx.write("sub/inner.env", secret_line(&mut rng).0);
    mkfifo(&fx.path().join("sub/.ignore"));
    let (code, report, err) = json(fx.path(), &["scan", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sub/.ignore"), "{err}");
    let got: Vec<String> = places(&report).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(got, vec!["app.env"]);
    let (code, report, err) = json(fx.path(), &["scan", ".", "--no-ignore"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&report).len(), 2, "{report:#}");
    assert_eq!(
        report["summary"]["skipped"]["special-file"], 1,
        "{report:#}"
    );

    let top = Fixture::new();
    top.write("app.env", secret_line(&mut rng).0);
    mkfifo(&top.path().join(".gitignore"));
    assert_input_error(top.path(), &["scan", ".", "-f", "json"], ".gitignore");
    let other = Fixture::new();
    other.write("app.env", secret_line(&mut rng).0);
    mkfifo(&other.path().join(".leaksweepignore"));
    assert_input_error(other.path(), &["scan", "."], ".leaksweepignore");
}

// ---- 8. thread counts ----

/// `-j` above the bound is rejected with a clear message; `-j 0` stays an error.
#[test]
fn thread_count_is_bounded() {
    let fx = Fixture::new();
    fx.write("a.txt", "a\n");
    assert_input_error(fx.path(), &["scan", ".", "-j", "5000"], "--threads");
    assert_input_error(fx.path(), &["scan", ".", "-j", "0"], "--threads");
    let r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    assert_input_error(r.path(), &["git", "-j", "100000"], "--threads");
    leaksweep(fx.path())
        .args(["scan", ".", "-j", "256"])
        .assert()
        .code(0);
}

// ---- 9. siblings ----

/// `--max-file-size 0` would skip every non-empty file and pass on an empty one: it is rejected.
#[test]
fn max_file_size_zero_is_rejected() {
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("empty.txt", "");
    fx.write("app.env", secret_line(&mut rng).0);
    assert_input_error(
        fx.path(),
        &["scan", ".", "--max-file-size", "0"],
        "--max-file-size",
    );
}

/// The cap in history counts distinct secrets of a version, not locations: one secret
/// repeated past the cap does not hide a second one after it.
#[test]
fn findings_cap_in_history_counts_secrets_not_repeats() {
    let mut rng = seeded_rng();
    let r = Repo::new();
    let (line, _) = secret_line(&mut rng);
    let mut text = line.repeat(1001);
    text.push_str(&secret_line(&mut rng).0);
    r.write("app.env", &text);
    r.commit("repeats");
    let (code, report, err) = json(r.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    let mut lines: Vec<u64> = places(&report).into_iter().map(|(_, l, _)| l).collect();
    lines.sort();
    assert_eq!(lines, vec![1, 1002]);
}

/// An unreadable file or directory is an error naming it, and the scan exits 2 (incomplete)
/// even when it found something elsewhere. Under root (whom file modes do not stop) the binary
/// runs as uid 65534 with setpriv(1).
#[cfg(target_os = "linux")]
#[test]
fn unreadable_files_are_errors_with_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let mut rng = seeded_rng();
    let fx = Fixture::new();
    fx.write("app.env", secret_line(&mut rng).0);
    let file = fx.write("locked.env", secret_line(&mut rng).0);
    let dir = fx.path().join("locked");
    fx.write("locked/inner.env", secret_line(&mut rng).0);
    let everyone = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(fx.path(), everyone.clone()).expect("chmod");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_leaksweep"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_leaksweep"))
    };
    let out = cmd
        .current_dir(fx.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .expect("run");
    std::fs::set_permissions(&dir, everyone).expect("chmod back");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["errors"], 2, "{report:#}");
    assert_eq!(findings(&report).len(), 1, "{report:#}");
    assert!(err.contains("locked.env: permission denied"), "{err}");
    assert!(err.contains("locked"), "{err}");
}
