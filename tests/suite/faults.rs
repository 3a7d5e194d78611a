//! Faults: a report that cannot be written (missing directory, read-only directory, disk
//! full) is a clear error with exit 2 and leaves no partial file; an interrupt (SIGINT) during a
//! scan that writes `-o` leaves either no report or a complete one, and no `.leaksweep-*`
//! temporary file.
//!
//! `rewrite apply` stopped by a real SIGINT or SIGKILL at any point leaves every ref at its old
//! value or every ref at its new value (never a mix, never a stale `.lock`), and a rerun finishes
//! the job; a SIGINT during the ref update waits for the update and the checkout to finish.
//!
//! An unreadable part of `.git/objects` (the directory, `pack/`, a pack or its index, a loose
//! fan-out directory) makes `leaksweep git`, `git --staged` and `rewrite plan`/`apply` fail with
//! exit 2 and one line naming the path and "permission denied"; one unreadable loose object is an
//! incomplete scan (exit 2) whose error names its file. Run as root, these run the binary as uid
//! 65534 with setpriv(1), since file modes deny root nothing.

use crate::common::{b64url, fresh_clone, git_ok, git_stdin, leaksweep, live_log, Fixture, Repo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tree with one JWT secret per file, so the report has something to say.
fn tree(files: usize) -> Fixture {
    let fx = Fixture::new();
    for i in 0..files {
        fx.write(
            &format!("d{}/f{i}.env", i % 50),
            format!(
                "JWT_SECRET={}\nDATABASE_PASSWORD={}\n",
                b64url(32),
                b64url(18)
            ),
        );
    }
    fx
}

/// Names in `dir` that look like our temporary files.
fn stray_temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".leaksweep-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The binary, run by the user `wrapper` switches to (empty: the current user).
fn binary(wrapper: &[String]) -> Command {
    match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(env!("CARGO_BIN_EXE_leaksweep"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_leaksweep")),
    }
}

/// `scan -f json -o TARGET .` in `dir` fails with exit 2, naming the target and the OS error.
fn assert_report_write_fails(mut cmd: Command, dir: &Path, target: &str, os_error: &str) {
    let out = cmd
        .args(["scan", "-f", "json", "-o", target, "."])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write report to {target}")),
        "{stderr}"
    );
    assert!(stderr.contains(os_error), "{stderr}");
}

#[test]
fn report_into_missing_directory_is_a_clear_error() {
    let fx = tree(3);
    let target = "no/such/dir/report.json";
    assert_report_write_fails(binary(&[]), fx.path(), target, "No such file or directory");
    assert!(!fx.path().join("no").exists());
}

#[cfg(unix)]
#[test]
fn report_into_read_only_directory_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let fx = tree(3);
    // Root ignores directory modes: run the binary as uid 65534 then.
    let Some(wrapper) = unprivileged_runner() else {
        eprintln!("skipped: running as root, and setpriv cannot run the binary as uid 65534");
        return;
    };
    // The temporary directory is 0700: let that user in.
    std::fs::set_permissions(fx.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ro = fx.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let target = "ro/report.json";
    assert_report_write_fails(binary(&wrapper), fx.path(), target, "Permission denied");
    assert_eq!(std::fs::read_dir(&ro).expect("ls").count(), 0);
}

/// `-o /dev/full`: the write fails with ENOSPC. Devices are written directly (a rename would
/// replace the device node), so this is the disk-full error path of the report writer.
#[cfg(target_os = "linux")]
#[test]
fn report_to_dev_full_is_a_clear_error_and_dev_null_works() {
    let fx = tree(3);
    assert_report_write_fails(
        binary(&[]),
        fx.path(),
        "/dev/full",
        "No space left on device",
    );

    let out = leaksweep(fx.path())
        .args(["scan", "-f", "json", "-o", "/dev/null", "."])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        std::fs::metadata("/dev/null")
            .map(|m| !m.is_file())
            .unwrap_or(true),
        "/dev/null must stay a device"
    );
}

/// A full file system for real: a 16 KiB tmpfs filled up, in a user + mount namespace (no root
/// needed where unprivileged user namespaces are enabled; skipped elsewhere). The temporary file
/// is created, its write fails with ENOSPC, and it is removed: the directory holds only the filler.
#[cfg(target_os = "linux")]
#[test]
fn disk_full_is_a_clear_error_and_leaves_nothing() {
    let fx = tree(20);
    let mnt = fx.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let script = r#"
        mount -t tmpfs -o size=16k tmpfs "$1" || exit 99
        head -c 1048576 /dev/zero > "$1/filler" 2>/dev/null
        "$2" scan -f json -o "$1/report.json" "$3"
        echo "exit=$?" >&2
        ls -A "$1" >&2
    "#;
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&mnt)
        .arg(env!("CARGO_BIN_EXE_leaksweep"))
        .arg(fx.path())
        .env("NO_COLOR", "1")
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: no unshare(1)");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(99) || !stderr.contains("exit=") {
        eprintln!("skipped: cannot mount a tmpfs in a user namespace here: {stderr}");
        return;
    }
    assert!(stderr.contains("exit=2"), "{stderr}");
    assert!(stderr.contains("cannot write report to"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let listing: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("exit="))
        .skip(1)
        .collect();
    assert_eq!(listing, ["filler"], "{stderr}");
}

/// Ctrl-C at many points of a scan that writes `-o`: afterwards the report is either absent or
/// complete (it parses, with every finding), and no temporary file is left behind.
#[cfg(unix)]
#[test]
fn interrupt_never_leaves_a_partial_report() {
    let fx = tree(1500);
    let dir = fx.path();
    let report = dir.join("report.json");
    // One uninterrupted run: how long a scan takes, and what a complete report holds.
    let started = Instant::now();
    let out = leaksweep(dir)
        .args(["scan", "-f", "json", "-j", "1", "-o", "report.json", "."])
        .output()
        .expect("run");
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let complete: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("JSON");
    let findings = complete["findings"].as_array().map_or(0, Vec::len);
    assert!(findings >= 1500, "{findings} findings");
    std::fs::remove_file(&report).expect("rm");

    let mut interrupted = 0;
    for step in 0..12u32 {
        let delay = full.mul_f64(f64::from(step) / 10.0);
        let child = Command::new(env!("CARGO_BIN_EXE_leaksweep"))
            .current_dir(dir)
            .args(["scan", "-f", "json", "-j", "1", "-o", "report.json", "."])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let status = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&status.stderr);
        match status.status.code() {
            // Interrupted: exit 130 from our handler, and nothing at the final path.
            Some(130) => {
                interrupted += 1;
                assert!(stderr.contains("interrupted"), "{stderr}");
                if report.exists() {
                    // The rename had already happened: the report must be the whole report.
                    let v: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&report).expect("read"))
                            .expect("a report at the final path is complete");
                    assert_eq!(v["findings"].as_array().map_or(0, Vec::len), findings);
                }
            }
            // Finished before the signal: a complete report.
            Some(1) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&report).expect("read"))
                        .expect("complete report");
                assert_eq!(v["findings"].as_array().map_or(0, Vec::len), findings);
            }
            // Killed by the signal before the handler was installed (the very start of main):
            // nothing can have been written yet.
            None => assert!(
                !report.exists(),
                "step {step}: killed early but a report exists"
            ),
            other => panic!("step {step}: unexpected exit {other:?}: {stderr}"),
        }
        assert_eq!(stray_temps(dir), Vec::<String>::new(), "step {step}");
        let _ = std::fs::remove_file(&report);
    }
    assert!(
        interrupted > 0,
        "no run was interrupted ({full:?} per scan)"
    );
}

// ---- rewrite apply, interrupted by real signals ----

/// A history of `commits` commits on `main` made with `git fast-import`: commit 1 adds `.env`
/// with `JWT_SECRET=<secret>`, which every later commit keeps; each commit also changes one of 40
/// other files. Plus a branch `dev` one commit past `main`, an annotated tag `v1` half-way, and
/// `tags` lightweight tags on the newest commits (more refs for the ref update to move).
fn long_history(fx: &Fixture, commits: usize, tags: usize, secret: &str) -> PathBuf {
    let src = Repo::init(fx, "src");
    let mut s: Vec<u8> = Vec::new();
    let data = |s: &mut Vec<u8>, d: &[u8]| {
        s.extend_from_slice(format!("data {}\n", d.len()).as_bytes());
        s.extend_from_slice(d);
        s.push(b'\n');
    };
    let ident = |t: usize| {
        format!(
            "Test <test@example.invalid> {} +0000",
            1_600_000_000 + t * 60
        )
    };
    for i in 1..=commits {
        s.extend_from_slice(format!("commit refs/heads/main\nmark :{i}\n").as_bytes());
        s.extend_from_slice(format!("committer {}\n", ident(i)).as_bytes());
        data(&mut s, format!("change {i}\n").as_bytes());
        if i > 1 {
            s.extend_from_slice(format!("from :{}\n", i - 1).as_bytes());
        }
        if i == 1 {
            s.extend_from_slice(b"M 100644 inline .env\n");
            data(
                &mut s,
                format!("APP=demo\nJWT_SECRET={secret}\n").as_bytes(),
            );
        }
        s.extend_from_slice(format!("M 100644 inline src/f{}.txt\n", i % 40).as_bytes());
        data(&mut s, format!("line {i}\n").repeat(10).as_bytes());
    }
    let dev = commits + 1;
    s.extend_from_slice(format!("commit refs/heads/dev\nmark :{dev}\n").as_bytes());
    s.extend_from_slice(format!("committer {}\n", ident(dev)).as_bytes());
    data(&mut s, b"dev work\n");
    s.extend_from_slice(format!("from :{commits}\nM 100644 inline dev.txt\n").as_bytes());
    data(&mut s, b"dev\n");
    s.extend_from_slice(format!("tag v1\nfrom :{}\ntagger {}\n", commits / 2, ident(0)).as_bytes());
    data(&mut s, b"release 1\n");
    for t in 0..tags {
        s.extend_from_slice(format!("reset refs/tags/t{t}\nfrom :{}\n", commits - t).as_bytes());
    }
    git_stdin(src.path(), &["fast-import", "--quiet"], s);
    src.path().to_path_buf()
}

/// `--secrets` file (mode 0600) listing the one secret.
fn secrets_file(fx: &Fixture, secret: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = fx.path().join("secrets.txt");
    std::fs::write(&p, format!("{secret}\n")).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

/// Every ref and its value, except the rewrite's backups under `refs/leaksweep/`.
fn live_refs(repo: &Path) -> BTreeMap<String, String> {
    refs_under(repo, "refs/")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("refs/leaksweep/"))
        .collect()
}

/// The refs of the backup repository `rewrite apply` keeps (empty when there is none).
fn backup_refs(repo: &Path) -> BTreeMap<String, String> {
    let dir = repo.join(".git/leaksweep/backup.git");
    if !dir.exists() {
        return BTreeMap::new();
    }
    refs_under(&dir, "refs/")
}

fn refs_under(repo: &Path, prefix: &str) -> BTreeMap<String, String> {
    git_ok(
        repo,
        &["for-each-ref", "--format=%(refname) %(objectname)", prefix],
    )
    .lines()
    .map(|l| {
        let (name, id) = l.split_once(' ').expect("ref line");
        (name.to_string(), id.to_string())
    })
    .collect()
}

/// Lock files anywhere under `.git` (a transaction or checkout cut short leaves them).
fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if e.file_type().expect("file type").is_dir() {
            out.extend(lock_files(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}

/// Runs `leaksweep rewrite ACTION --secrets FILE` in `repo`: (exit code, stdout + stderr).
fn rewrite(repo: &Path, action: &str, secrets: &Path) -> (Option<i32>, String) {
    rewrite_with(repo, action, secrets, None)
}

/// [`rewrite`], with `LEAKSWEEP_TEST_HOOK` set to `hook` when given.
fn rewrite_with(
    repo: &Path,
    action: &str,
    secrets: &Path,
    hook: Option<&str>,
) -> (Option<i32>, String) {
    let mut cmd = leaksweep(repo);
    if let Some(h) = hook {
        cmd.env("LEAKSWEEP_TEST_HOOK", h);
    }
    let out = cmd
        .args(["rewrite", action, "--secrets"])
        .arg(secrets)
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The end state of a finished rewrite: `verify` passes; no live ref reaches the secret (by the
/// git CLI, contents and messages); the checkout and index hold the redacted `.env`; no lock file.
fn assert_rewritten(repo: &Path, secrets: &Path, secret: &str, what: &str, pack_temps_ok: bool) {
    let (code, out) = rewrite(repo, "verify", secrets);
    assert_eq!(code, Some(0), "{what}: verify: {out}");
    assert!(out.contains("leaksweep: verified:"), "{what}: {out}");
    let log = live_log(repo);
    assert!(log.contains("JWT_SECRET=REDACTED:secrets-file"), "{what}");
    assert!(
        !log.contains(secret),
        "{what}: the secret is still reachable"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join(".env")).expect(".env"),
        "APP=demo\nJWT_SECRET=REDACTED:secrets-file\n",
        "{what}"
    );
    assert_eq!(git_ok(repo, &["status", "--porcelain"]), "", "{what}");
    let locks: Vec<PathBuf> = lock_files(&repo.join(".git"))
        .into_iter()
        .filter(|p| {
            !(pack_temps_ok
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("pack_git2_")))
        })
        .collect();
    assert_eq!(locks, Vec::<PathBuf>::new(), "{what}");
}

/// Sends `signal` (`INT`, `KILL`) to a child process with kill(1).
fn send(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill(1)");
    // A child that already exited (but is not reaped yet) still takes the signal silently.
    assert!(status.success(), "kill -{signal} failed");
}

/// `rewrite apply` on a 1000-commit history, stopped by SIGINT at seven delays spread over its
/// measured duration and one at four times it, and by SIGKILL at a third, two thirds and five
/// sixths of it, each in a fresh clone.
/// After each: every live ref is at its old value (then a plain rerun, which must still see a
/// fresh clone, finishes the job), or every live ref is at its new value (then `verify` passes
/// and a rerun refuses: the repository was rewritten). Either way the end state equals an
/// uninterrupted rewrite's, ref for ref.
///
/// SIGKILL cannot be caught, but it cannot split the ref update either: the refs switch from old
/// to new with one rename of `packed-refs` (the moment just before it is tested on its own in
/// tests/rewrite.rs, `crashed_before_the_switch_keeps_old_refs_and_rerun_recovers`).
#[cfg(unix)]
#[test]
fn rewrite_apply_interrupted_anywhere_leaves_old_or_new_refs_and_reruns_clean() {
    let started = Instant::now();
    let fx = Fixture::new();
    let secret = b64url(30);
    let src = long_history(&fx, 1000, 2, &secret);
    let secrets = secrets_file(&fx, &secret);

    // The uninterrupted rewrite: its duration, and the new value of every ref.
    let reference = fresh_clone(&fx, &src, "reference");
    let old = live_refs(&reference);
    assert_eq!(old.len(), 7, "{old:?}");
    let t0 = Instant::now();
    let (code, out) = rewrite(&reference, "apply", &secrets);
    let full = t0.elapsed();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rewrote 1001 of 1001 commits"), "{out}");
    let new = live_refs(&reference);
    for (name, id) in &old {
        assert_ne!(&new[name], id, "{name} did not move");
    }
    assert_eq!(backup_refs(&reference).len(), 6);
    assert_rewritten(&reference, &secrets, &secret, "uninterrupted", false);

    // The last SIGINT comes well after the run should have finished (exit 0, refs new).
    let mut plan: Vec<(&str, Duration)> = (0..=6u32)
        .map(|k| ("INT", full.mul_f64(f64::from(k) / 6.0)))
        .collect();
    plan.push(("INT", full * 4));
    plan.push(("KILL", full / 3));
    plan.push(("KILL", full * 2 / 3));
    plan.push(("KILL", full * 5 / 6));
    let (mut stayed_old, mut moved) = (0, 0);
    for (i, (signal, delay)) in plan.into_iter().enumerate() {
        let what = format!("SIG{signal} after {delay:?} (a full apply takes {full:?})");
        let repo = fresh_clone(&fx, &src, &format!("run{i}"));
        let child = Command::new(env!("CARGO_BIN_EXE_leaksweep"))
            .current_dir(&repo)
            .env("NO_COLOR", "1")
            .args(["rewrite", "apply", "--secrets"])
            .arg(&secrets)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        send(&child, signal);
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        match (signal, code) {
            // Our handler's exit; finished first; or killed before the handler was installed.
            ("INT", Some(130 | 0) | None) => {}
            ("KILL", Some(0) | None) => {}
            _ => panic!("{what}: unexpected exit {code:?}: {stderr}"),
        }
        if code == Some(130) {
            assert!(
                stderr.contains("leaksweep: interrupted"),
                "{what}: {stderr}"
            );
        }
        let now = live_refs(&repo);
        if now == old {
            stayed_old += 1;
            assert_ne!(code, Some(0), "{what}: exit 0 but no ref moved");
            assert_eq!(refs_under(&repo, "refs/leaksweep/").len(), 0, "{what}");
            if signal == "INT" {
                assert_eq!(
                    lock_files(&repo.join(".git")),
                    Vec::<PathBuf>::new(),
                    "{what}"
                );
            }
            // Nothing moved, so the clone still counts as fresh: a plain rerun does the job.
            let (code, out) = rewrite(&repo, "apply", &secrets);
            assert_eq!(code, Some(0), "{what}: rerun: {out}");
        } else if now == new {
            moved += 1;
            let (code, out) = rewrite(&repo, "apply", &secrets);
            assert_eq!(code, Some(2), "{what}: second apply: {out}");
            assert!(
                out.contains("this repository was rewritten before"),
                "{what}: {out}"
            );
        } else {
            let mixed: Vec<String> = now
                .iter()
                .map(|(n, id)| {
                    let state = if old.get(n) == Some(id) {
                        "old"
                    } else if new.get(n) == Some(id) {
                        "new"
                    } else {
                        "other"
                    };
                    format!("{n}: {state}")
                })
                .collect();
            panic!("{what}: refs are neither all old nor all new: {mixed:?}\n{stderr}");
        }
        assert_eq!(live_refs(&repo), new, "{what}: after the rerun");
        assert_eq!(
            backup_refs(&repo),
            old.iter()
                .filter(|(n, _)| n.as_str() != "refs/remotes/origin/HEAD")
                .map(|(n, id)| (n.clone(), id.clone()))
                .collect::<BTreeMap<_, _>>(),
            "{what}: the backups hold the old values"
        );
        // A kill while a pack was being written leaves its temporary files (libgit2's
        // `pack_git2_*`, referenced by nothing) and nothing else; `finish` removes them.
        assert_rewritten(&repo, &secrets, &secret, &what, signal == "KILL");
        if signal == "KILL" {
            let out = leaksweep(&repo)
                .args(["rewrite", "finish", "--yes"])
                .output()
                .expect("run");
            assert!(out.status.success(), "{what}: finish: {out:?}");
            assert_eq!(
                lock_files(&repo.join(".git")),
                Vec::<PathBuf>::new(),
                "{what}: after finish"
            );
        }
        eprintln!(
            "{what}: exit {code:?}, refs {}",
            if now == new { "new" } else { "old" }
        );
    }
    // The timing of a loaded machine decides the split; only an interruption must have happened.
    assert!(
        stayed_old >= 2,
        "too few runs were stopped before the refs moved"
    );
    eprintln!(
        "{stayed_old} stopped before the ref update, {moved} after; {:?} in all",
        started.elapsed()
    );
}

/// SIGINT while the ref update of `rewrite apply` is under way (300 tags make it long enough to
/// hit): the handler waits for the update and the checkout to finish, so every ref moves, the
/// working tree follows, and no `.lock` file stays behind. Two moments: as soon as
/// `packed-refs.lock` appears (the current refs are being packed), and as soon as the loose
/// `refs/heads/main` is gone (the loose files are being dropped before the switch).
#[cfg(unix)]
#[test]
fn interrupt_during_the_ref_update_waits_for_it() {
    let started = Instant::now();
    let fx = Fixture::new();
    let secret = b64url(30);
    let src = long_history(&fx, 320, 300, &secret);
    let secrets = secrets_file(&fx, &secret);
    let moments = [("packed-refs.lock", true), ("refs/heads/main", false)];
    let mut deferred = 0;
    for (i, (moment, appears)) in moments.into_iter().enumerate() {
        let repo = fresh_clone(&fx, &src, &format!("run{i}"));
        let old = live_refs(&repo);
        assert_eq!(old.len(), 305);
        let watched = repo.join(".git").join(moment);
        assert_eq!(watched.exists(), !appears, "{moment} before the run");
        let mut child = Command::new(env!("CARGO_BIN_EXE_leaksweep"))
            .current_dir(&repo)
            .env("NO_COLOR", "1")
            .args(["rewrite", "apply", "--secrets"])
            .arg(&secrets)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut exited = false;
        while watched.exists() != appears {
            assert!(Instant::now() < deadline, "{moment} never changed");
            if child.try_wait().expect("try_wait").is_some() {
                // Finished before the moment was seen (the child is reaped: no signal).
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        if !exited {
            send(&child, "INT");
        }
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!(
            "SIGINT once .git/{moment} {}",
            if appears { "exists" } else { "is gone" }
        );
        // 130 when the handler won the race after the update, 0 when the run returned first.
        assert!(
            matches!(out.status.code(), Some(0 | 130)),
            "{what}: {:?}: {stderr}",
            out.status
        );
        if stderr.contains("leaksweep: finishing the ref update before exiting") {
            deferred += 1;
        }
        let now = live_refs(&repo);
        let moved: Vec<&String> = old.keys().filter(|n| now[*n] != old[*n]).collect();
        assert_eq!(
            moved.len(),
            old.len(),
            "{what}: not every ref moved: {stderr}"
        );
        assert_eq!(
            backup_refs(&repo).len(),
            old.len() - 1,
            "{what}: one backup per moved ref (origin/HEAD is symbolic)"
        );
        assert_rewritten(&repo, &secrets, &secret, &what, false);
    }
    assert!(
        deferred >= 1,
        "no SIGINT arrived during the ref update, so nothing was tested"
    );
    eprintln!(
        "{deferred} of 2 interrupts deferred; {:?} in all",
        started.elapsed()
    );
}

// ---- unreadable object database ----

/// Runs the binary as an unprivileged user (uid/gid 65534) when the tests run as root, where
/// file modes deny nothing; as the current user otherwise. `None`: this is not possible here.
fn unprivileged_runner() -> Option<Vec<String>> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some(Vec::new());
    }
    let wrapper: Vec<String> = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]
    .map(String::from)
    .to_vec();
    // The binary itself must be reachable and executable by that user.
    let ok = Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .arg(env!("CARGO_BIN_EXE_leaksweep"))
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(wrapper)
}

/// A mode change undone on drop (so a failing assertion does not leave a tree that cannot be
/// cleaned up).
struct Chmod(PathBuf, u32);

impl Chmod {
    fn deny(path: &Path) -> Chmod {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).expect("stat").permissions().mode();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).expect("chmod 0");
        Chmod(path.to_path_buf(), mode)
    }
}

impl Drop for Chmod {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(self.1));
    }
}

/// Part of `.git/objects` unreadable (mode 0, for a user who is not root): `leaksweep git`,
/// `git --staged` and `rewrite plan|apply` stop with exit 2 and one line naming the path and
/// "permission denied", instead of libgit2's "object not found" for objects it silently could not
/// see. `--ignore-errors` does not turn it into a pass. A single unreadable loose object is
/// reported by libgit2 itself, with its path and "Permission denied", and the scan exits 2.
#[cfg(target_os = "linux")]
#[test]
fn unreadable_object_database_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let started = Instant::now();
    let Some(wrapper) = unprivileged_runner() else {
        eprintln!(
            "skipped: running as root, and `setpriv --reuid=65534` cannot run {} (no setpriv, \
             or the build directory is not readable by uid 65534)",
            env!("CARGO_BIN_EXE_leaksweep")
        );
        return;
    };
    let fx = Fixture::new();
    // The temporary directory is 0700: let the unprivileged user in.
    std::fs::set_permissions(fx.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let r = Repo::init(&fx, "repo");
    let secret = b64url(30);
    r.write(".env", format!("JWT_SECRET={secret}\n"));
    r.write("README.md", "demo\n");
    r.commit("first");
    r.git(&["repack", "-adq"]);
    // Then loose objects: a commit with a new file, and a staged file.
    r.write("loose.txt", "loose\n");
    r.commit("second");
    r.write("staged.txt", "staged\n");
    r.git(&["add", "staged.txt"]);
    let repo = r.path().to_path_buf();
    let loose = git_ok(&repo, &["rev-parse", "HEAD:loose.txt"]);
    let objects = repo.join(".git/objects");
    let loose_dir = objects.join(&loose[..2]);
    let loose_file = loose_dir.join(&loose[2..]);
    let mut pack_files: Vec<PathBuf> = std::fs::read_dir(objects.join("pack"))
        .expect("pack dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack" || x == "idx"))
        .collect();
    pack_files.sort();
    assert_eq!(pack_files.len(), 2, "{pack_files:?}");
    let (idx, pack) = (pack_files[0].clone(), pack_files[1].clone());
    let secrets = fx.path().join("secrets.txt");
    std::fs::write(&secrets, format!("{secret}\n")).expect("write");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    if !wrapper.is_empty() {
        // libgit2 refuses a repository owned by someone else: hand everything to that user.
        for p in [&repo, &secrets] {
            let st = Command::new("chown")
                .args(["-R", "65534:65534"])
                .arg(p)
                .status()
                .expect("chown");
            assert!(st.success());
        }
    }
    // (exit code, stdout, stderr) of the binary run in the repository by the unprivileged user.
    let run = |args: &[&str]| -> (Option<i32>, String, String) {
        let out = binary(&wrapper)
            .args(args)
            .current_dir(&repo)
            .env("NO_COLOR", "1")
            .env("HOME", fx.path())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), stdout, stderr)
    };
    let secrets_arg = secrets.display().to_string();
    let git: &[&str] = &["git", "."];
    let staged: &[&str] = &["git", "--staged", "."];
    let plan: &[&str] = &["rewrite", "plan", "--secrets", &secrets_arg];

    // Everything readable: the secret is found, the staged file is clean, the plan works.
    assert_eq!(run(git).0, Some(1));
    assert_eq!(run(staged).0, Some(0));
    let (code, _, stderr) = run(plan);
    assert_eq!(code, Some(0), "{stderr}");

    // Each of `deny` made unreadable: every command in `runs` fails with exactly one line.
    let check = |deny: &[&Path], runs: &[&[&str]]| {
        let _guards: Vec<Chmod> = deny.iter().map(|p| Chmod::deny(p)).collect();
        let more = match deny.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let expected = format!(
            "leaksweep: error: cannot read the object database: {}: permission denied{more}; \
             every object must be readable: run leaksweep as a user who can read everything \
             under {}\n",
            deny[0].display(),
            objects.display()
        );
        for args in runs {
            let (code, stdout, stderr) = run(args);
            assert_eq!(code, Some(2), "{args:?} with {deny:?} unreadable: {stderr}");
            assert_eq!(stderr, expected, "{args:?}");
            assert_eq!(stdout, "", "{args:?}");
        }
    };
    let apply: &[&str] = &["rewrite", "apply", "--secrets", &secrets_arg];
    let lenient: &[&str] = &["git", "--ignore-errors", "."];
    let pack_dir = objects.join("pack");
    check(&[&objects], &[git, lenient, staged, plan, apply]);
    check(&[&pack_dir], &[git, staged, plan]);
    check(&[&pack], &[git, staged]);
    check(&[&idx], &[git, plan]);
    check(&[&idx, &pack], &[git]);
    check(&[&loose_dir], &[git, staged, plan]);

    // One loose object file unreadable: libgit2's error names it; the scan is incomplete, exit 2.
    {
        let _guard = Chmod::deny(&loose_file);
        let (code, stdout, stderr) = run(git);
        assert_eq!(code, Some(2), "{stdout}{stderr}");
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("cannot read blob {loose}")))
            .unwrap_or_else(|| panic!("no error for the blob: {stdout}"));
        assert!(line.contains("loose.txt"), "{line}");
        assert!(
            line.contains(&format!("'{}'", loose_file.display())),
            "{line}"
        );
        assert!(line.ends_with("Permission denied"), "{line}");
        assert_eq!(
            stderr,
            "leaksweep: 1 item(s) could not be read; the scan is incomplete (exit 2)\n"
        );
    }
    // All modes restored: back to the first result.
    assert_eq!(run(git).0, Some(1));
    eprintln!("{:?} in all", started.elapsed());
}

// ---- rewrite apply, killed at a known point, then run again ----

/// Runs `rewrite apply` with `LEAKSWEEP_TEST_HOOK` set to `hook` (run as `sh -c HOOK leaksweep
/// STAGE`, a child of leaksweep: `kill -9 $PPID` kills the apply at that stage).
fn apply_with_hook(repo: &Path, secrets: &Path, hook: &str) -> (Option<i32>, String) {
    rewrite_with(repo, "apply", secrets, Some(hook))
}

#[test]
fn apply_killed_after_the_refs_moved_is_finished_by_the_next_apply() {
    let fx = Fixture::new();
    let secret = b64url(30);
    let src = long_history(&fx, 20, 0, &secret);
    let secrets = secrets_file(&fx, &secret);
    let repo = fresh_clone(&fx, &src, "killed");
    let old = live_refs(&repo);
    let (code, out) = apply_with_hook(
        &repo,
        &secrets,
        r#"[ "$1" = before-checkout ] && kill -9 $PPID; exit 0"#,
    );
    assert_eq!(code, None, "killed: {out}");
    // The refs moved; the checkout and index did not: verify says so.
    assert!(live_refs(&repo)
        .iter()
        .all(|(n, id)| old.get(n) != Some(id)));
    let (code, out) = rewrite(&repo, "verify", &secrets);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the index still holds secret"), "{out}");
    // The next apply finishes the checkout, then refuses a second rewrite.
    let (code, out) = rewrite(&repo, "apply", &secrets);
    assert!(
        out.contains("finished the checkout of an interrupted `rewrite apply`"),
        "{out}"
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("this repository was rewritten before"),
        "{out}"
    );
    assert_rewritten(
        &repo,
        &secrets,
        &secret,
        "after the resumed checkout",
        false,
    );
}

#[test]
fn a_packed_refs_lock_left_by_a_killed_apply_is_removed_and_no_other() {
    let fx = Fixture::new();
    let secret = b64url(30);
    let src = long_history(&fx, 20, 0, &secret);
    let secrets = secrets_file(&fx, &secret);

    // Killed while writing the lock: the lock holds a prefix of what the run recorded.
    let repo = fresh_clone(&fx, &src, "ours");
    let state = repo.join(".git/leaksweep");
    std::fs::create_dir_all(&state).expect("state dir");
    let text = std::fs::read(repo.join(".git/packed-refs")).expect("packed-refs");
    std::fs::write(state.join("packed-refs.pending"), &text).expect("pending");
    std::fs::write(repo.join(".git/packed-refs.lock"), &text[..text.len() / 2]).expect("lock");
    let (code, out) = rewrite(&repo, "apply", &secrets);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("removed the packed-refs.lock"), "{out}");
    assert_rewritten(&repo, &secrets, &secret, "after a stale lock", false);

    // A lock this tool did not record is another process's: left alone, and nothing moves.
    for (name, pending) in [("git", None), ("other", Some(&b"something else\n"[..]))] {
        let repo = fresh_clone(&fx, &src, name);
        let old = live_refs(&repo);
        if let Some(p) = pending {
            let state = repo.join(".git/leaksweep");
            std::fs::create_dir_all(&state).expect("state dir");
            std::fs::write(state.join("packed-refs.pending"), p).expect("pending");
        }
        let lock = repo.join(".git/packed-refs.lock");
        std::fs::write(&lock, b"# pack-refs with: peeled\n").expect("lock");
        let (code, out) = rewrite(&repo, "apply", &secrets);
        assert_eq!(code, Some(2), "{name}: {out}");
        assert!(
            out.contains("another git process may be running"),
            "{name}: {out}"
        );
        assert!(lock.exists(), "{name}: the lock was removed");
        assert_eq!(live_refs(&repo), old, "{name}: refs moved");
    }
}

#[test]
fn a_second_apply_while_one_runs_fails_at_once() {
    let fx = Fixture::new();
    let secret = b64url(30);
    let src = long_history(&fx, 20, 0, &secret);
    let secrets = secrets_file(&fx, &secret);
    let repo = fresh_clone(&fx, &src, "two");
    let gate = fx.path().join("gate");
    // The first apply waits before its refs move until the gate file appears.
    let hook = format!(
        r#"[ "$1" = before-refs ] && while [ ! -e '{}' ]; do sleep 0.05; done; exit 0"#,
        gate.display()
    );
    let first = Command::new(env!("CARGO_BIN_EXE_leaksweep"))
        .current_dir(&repo)
        .env("LEAKSWEEP_TEST_HOOK", &hook)
        .args(["rewrite", "apply", "--secrets"])
        .arg(&secrets)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Until the first run has its lock, a second one may still win it: wait for the hook.
    let started = Instant::now();
    while !repo.join(".git/leaksweep/commit-map").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first apply never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, out) = rewrite(&repo, "apply", &secrets);
    std::fs::write(&gate, b"").expect("gate");
    let first = first.wait_with_output().expect("wait");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("another `leaksweep rewrite apply` is running"),
        "{out}"
    );
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_rewritten(&repo, &secrets, &secret, "after two applies", false);
}
