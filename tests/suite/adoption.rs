//! A new user's first hour: `scan .` in a repository with ignored `.env` files, `scan src` in a
//! project with a config at its top, a baseline named in `.leaksweep.toml` that the hook uses,
//! and the errors, help, man pages and summaries they meet. Everything runs the real binary
//! against real temporary git repositories.

use crate::common::*;
use std::path::Path;

/// A JWT signing secret assignment of a realistic shape (random, belongs to nothing).
fn jwt_line(rng: &mut impl rand::Rng) -> (String, String) {
    let secret = b64url_from(rng, 32);
    (format!("JWT_SECRET={secret}\n"), secret)
}

/// A git repository with `files` committed.
fn repo(files: &[(&str, &str)]) -> Repo {
    let r = Repo::new();
    r.commit_files(files, "init");
    r
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn scan_names_the_ignored_env_files_it_did_not_scan() {
    let mut rng = seeded_rng();
    let (a, _) = jwt_line(&mut rng);
    let (b, _) = jwt_line(&mut rng);
    let r = repo(&[
        (".gitignore", ".env*\nnode_modules/\n"),
        ("app.js", "console.log('hi')\n"),
    ]);
    r.write(".env", &a);
    r.write(".env.production", &b);
    r.write("node_modules/pkg/.env", &a);
    r.write("config/.env.local", &b);
    let out = leaksweep(r.path()).args(["scan", "."]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "3 git-ignored file(s) that may hold secrets: .env, .env.production, config/.env.local: \
             not scanned, git-ignored; --no-ignore to include"
        ),
        "{err}"
    );
    // An ignored directory is not walked to find more.
    assert!(!err.contains("node_modules"), "{err}");
    // -q: nothing on stderr.
    let out = leaksweep(r.path())
        .args(["scan", "-q", "."])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&out), "");
    // The advice is true: --no-ignore scans them.
    let out = leaksweep(r.path())
        .args(["scan", "--no-ignore", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr_of(&out).contains("git-ignored"));
}

#[test]
fn scan_of_a_subdirectory_uses_the_projects_config_and_ignore_file() {
    let mut rng = seeded_rng();
    let (a, secret_a) = jwt_line(&mut rng);
    let (b, _) = jwt_line(&mut rng);
    let r = repo(&[("src/a.env", &a), ("src/deep/b.env", &b)]);
    // The secret id of b, from a scan.
    let (code, json, err) =
        run_json(leaksweep(r.path()).args(["scan", "--format", "json", "src/deep"]));
    assert_eq!(code, 1, "{err}");
    let id_b = findings(&json)[0]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    r.write(
        ".leaksweep.toml",
        format!("[allowlist]\nregexes = ['''^{secret_a}$''']\n"),
    );
    r.write(".leaksweepignore", format!("{id_b}\n"));
    for (cwd, arg) in [
        (r.path().to_path_buf(), "src"),
        (r.path().to_path_buf(), "src/deep"),
        (r.path().to_path_buf(), "src/a.env"),
        (r.path().join("src"), "."),
        (r.path().join("src/deep"), "."),
    ] {
        let out = leaksweep(&cwd).args(["scan", arg]).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "scan {arg} in {}: {}{}",
            cwd.display(),
            stdout_of(&out),
            stderr_of(&out)
        );
    }
    // Discovery stops at the repository's top: a config above it is not the project's.
    let outer = Fixture::new();
    outer.write(".leaksweep.toml", "this is = not toml\n");
    Repo::init(&outer, "inner");
    outer.write("inner/x.txt", "hello\n");
    leaksweep(&outer.path().join("inner"))
        .args(["scan", "."])
        .assert()
        .code(0);
}

#[test]
fn a_baseline_named_in_the_config_is_used_by_scan_git_and_the_hook() {
    let mut rng = seeded_rng();
    let (old, _) = jwt_line(&mut rng);
    let (new, _) = jwt_line(&mut rng);
    let r = repo(&[("config/app.env", &old)]);
    leaksweep(r.path())
        .args(["baseline", "create", ".", "-o", "leaksweep-baseline.json"])
        .assert()
        .code(0);
    r.write(
        ".leaksweep.toml",
        "baseline = \"leaksweep-baseline.json\"\n",
    );
    r.commit("baseline");
    leaksweep(r.path()).args(["scan", "."]).assert().code(0);
    leaksweep(r.path())
        .args(["scan", "config"])
        .assert()
        .code(0);
    leaksweep(r.path()).args(["git"]).assert().code(0);
    leaksweep(&r.path().join("config"))
        .args(["git"])
        .assert()
        .code(0);
    // The staged gate: the known secret copied elsewhere passes, a new one is blocked.
    r.write("deploy/app.env", &old);
    r.git(&["add", "-A"]);
    leaksweep(r.path())
        .args(["git", "--staged"])
        .assert()
        .code(0);
    // The hook's advice, followed to the letter, lets the commit through.
    leaksweep(r.path())
        .args(["hook", "install"])
        .assert()
        .code(0);
    // Stages everything and commits it through the installed hook (this binary as the scanner).
    let commit_through_the_hook = || {
        r.git(&["add", "-A"]);
        git_command(r.path())
            .env("LEAKSWEEP_BIN", assert_cmd::cargo::cargo_bin("leaksweep"))
            .args(["commit", "-q", "-m", "add"])
            .output()
            .unwrap()
    };
    r.write("deploy/new.env", &new);
    let out = commit_through_the_hook();
    let err = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("add its secret_id (printed above) to\n    .leaksweepignore at the top of the work tree"),
        "the hook's advice: {err}"
    );
    let id = err
        .split("secret_id ")
        .nth(1)
        .and_then(|s| s.get(..16))
        .expect("the report names the secret_id")
        .to_string();
    r.write(".leaksweepignore", format!("{id}\n"));
    let out = commit_through_the_hook();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // A baseline the config names but that is missing is an input error naming the config.
    r.write(".leaksweep.toml", "baseline = \"gone.json\"\n");
    assert_input_error(r.path(), &["scan", "."], "gone.json");
}

/// Runs `leaksweep args` in `dir`, expects exit 2, returns stderr.
fn input_error(dir: &Path, args: &[&str]) -> String {
    let out = leaksweep(dir).args(args).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.starts_with("leaksweep: error: "), "{args:?}: {err}");
    for line in err.lines() {
        assert!(line.starts_with("leaksweep: "), "{args:?}: {err}");
        assert!(!line.contains("error: error"), "{args:?}: {err}");
    }
    assert!(!err.contains("class="), "{args:?}: libgit2 detail: {err}");
    assert!(!err.contains("code="), "{args:?}: libgit2 detail: {err}");
    assert!(
        err.matches("os error").count() <= 1,
        "{args:?}: OS message doubled: {err}"
    );
    err
}

#[test]
fn errors_have_one_prefix_and_no_library_or_temporary_file_detail() {
    let r = repo(&[("a.txt", "hello\n")]);
    let plain = Fixture::new();
    input_error(r.path(), &["git", "--range", "nope..HEAD"]);
    input_error(plain.path(), &["git"]);
    input_error(plain.path(), &["git", "--staged"]);
    input_error(r.path(), &["git", "no/such/dir"]);
    input_error(r.path(), &["scan", ".", "--baseline", "missing.json"]);
    input_error(r.path(), &["scan", ".", "--config", "missing.toml"]);
    input_error(r.path(), &["scan", "--bogus"]);
    input_error(r.path(), &["scan", "--format", "yaml", "."]);
    let err = input_error(r.path(), &["scan", ".", "-o", "no/such/dir/report.json"]);
    assert!(err.contains("no/such/dir/report.json"), "{err}");
    assert!(!err.contains(".tmp"), "a temporary file name: {err}");
    let err = input_error(r.path(), &["keygen", "--kind", "nope"]);
    for kind in [
        "jwt",
        "nextauth",
        "aes256",
        "password",
        "hex:N",
        "base64url:N",
    ] {
        assert!(err.contains(kind), "{kind} missing: {err}");
    }
}

#[test]
fn format_names_are_case_insensitive() {
    let r = repo(&[("a.txt", "hello\n")]);
    let (code, json, err) = run_json(leaksweep(r.path()).args(["scan", "--format", "JSON", "."]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["summary"]["files"], 1);
    leaksweep(r.path())
        .args(["git", "-f", "Sarif"])
        .assert()
        .code(0);
}

#[test]
fn every_argument_has_help_text() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if a.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            if a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {} (subcommand)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&leaksweep::cli::Cli::command(), "leaksweep", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}

#[test]
fn man_pages_cover_every_subcommand_with_an_exit_status() {
    use clap::CommandFactory;
    let out = Fixture::new();
    leaksweep(out.path())
        .args(["man", "--out-dir", "man"])
        .assert()
        .code(0);
    fn names(cmd: &clap::Command, prefix: &str, acc: &mut Vec<String>) {
        acc.push(prefix.to_string());
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                names(sub, &format!("{prefix}-{}", sub.get_name()), acc);
            }
        }
    }
    let mut pages = Vec::new();
    names(&leaksweep::cli::Cli::command(), "leaksweep", &mut pages);
    assert!(pages.len() > 15, "{pages:?}");
    for page in &pages {
        let path = out.path().join("man").join(format!("{page}.1"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.contains(".SH \"EXIT STATUS\""), "{page}: {text}");
    }
    // Printed to standard output, the main page has the section and names the subcommands.
    let main = leaksweep(out.path()).arg("man").output().unwrap();
    let text = stdout_of(&main);
    assert!(text.contains(".SH \"EXIT STATUS\""), "{text}");
    assert!(text.contains("leaksweep\\-rewrite(1)"), "{text}");
}

#[test]
fn hook_install_takes_a_repository_path() {
    let r = repo(&[("a.txt", "hello\n")]);
    let elsewhere = Fixture::new();
    leaksweep(elsewhere.path())
        .args(["hook", "install"])
        .arg(r.path())
        .assert()
        .code(0);
    let hook = std::fs::read_to_string(r.path().join(".git/hooks/pre-commit")).unwrap();
    assert!(hook.contains("leaksweep-hook"), "{hook}");
    leaksweep(elsewhere.path())
        .args(["hook", "uninstall"])
        .arg(r.path())
        .assert()
        .code(0);
    assert!(!r.path().join(".git/hooks/pre-commit").exists());
}

#[test]
fn quiet_hides_the_summary_in_every_format() {
    let r = repo(&[("a.txt", "hello\n")]);
    let out = leaksweep(r.path())
        .args(["scan", "-q", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !stdout_of(&out).contains("scanned in"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(stderr_of(&out), "");
    let out = leaksweep(r.path())
        .args(["git", "-q", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&out), "");
    // Without -q the text summary is there.
    let out = leaksweep(r.path()).args(["scan", "."]).output().unwrap();
    assert!(
        stdout_of(&out).contains("in 1 file,"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn the_history_summary_counts_files_not_commit_messages() {
    let r = repo(&[("a.txt", "one\n")]);
    for (i, name) in ["b.txt", "c.txt"].iter().enumerate() {
        r.write(name, format!("file {i}\n"));
        r.commit(&format!("commit {i}"));
    }
    let (code, json, err) = run_json(leaksweep(r.path()).args(["git", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["summary"]["commits"], 3);
    assert_eq!(json["summary"]["files"], 3, "{}", json["summary"]);
    let out = leaksweep(r.path()).arg("git").output().unwrap();
    assert!(
        stdout_of(&out).contains("in 3 files,"),
        "{}",
        stdout_of(&out)
    );
}
