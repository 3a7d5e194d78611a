//! Faults: a report that cannot be written (missing directory, read-only directory, disk
//! full) is a clear error with exit 2 and leaves no partial file; an interrupt (SIGINT) during a
//! scan that writes `-o` leaves either no report or a complete one, and no `.leaksweep-*`
//! temporary file.
//!
//! NOTE: `rewrite apply` interruption and permission-denied on `.git/objects` belong here when the
//! history rewrite and `leaksweep git` land on this branch.

mod common;

use common::{b64url, leaksweep, Fixture};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

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

#[test]
fn report_into_missing_directory_is_a_clear_error() {
    let fx = tree(3);
    let out = leaksweep(fx.path())
        .args(["scan", "-f", "json", "-o", "no/such/dir/report.json", "."])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write report to no/such/dir/report.json"),
        "{stderr}"
    );
    assert!(stderr.contains("No such file or directory"), "{stderr}");
    assert!(!fx.path().join("no").exists());
}

#[cfg(unix)]
#[test]
fn report_into_read_only_directory_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let fx = tree(3);
    let ro = fx.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    if std::fs::write(ro.join("probe"), b"x").is_ok() {
        // Root (or CAP_DAC_OVERRIDE) ignores directory modes: nothing to test here.
        eprintln!("skipped: this user can write into a 0555 directory (root?)");
        return;
    }
    let out = leaksweep(fx.path())
        .args(["scan", "-f", "json", "-o", "ro/report.json", "."])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write report to ro/report.json"),
        "{stderr}"
    );
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert_eq!(std::fs::read_dir(&ro).expect("ls").count(), 0);
}

/// `-o /dev/full`: the write fails with ENOSPC. Devices are written directly (a rename would
/// replace the device node), so this is the disk-full error path of the report writer.
#[cfg(target_os = "linux")]
#[test]
fn report_to_dev_full_is_a_clear_error_and_dev_null_works() {
    let fx = tree(3);
    let out = leaksweep(fx.path())
        .args(["scan", "-f", "json", "-o", "/dev/full", "."])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write report to /dev/full"),
        "{stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");

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
