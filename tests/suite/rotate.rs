//! `leaksweep rotate` and `keygen` on the real binary, over a MediaNest-style leak built fresh in a
//! temp dir with random secrets (so no secret is ever committed as a fixture).

use crate::common::run_expect;
use assert_cmd::Command;
use base64::Engine;
use rand::RngCore;
use std::path::Path;

struct Fixture {
    dir: tempfile::TempDir,
    jwt: String,
    nextauth: String,
    key: String,
    password: String,
}

fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    crate::common::seeded_rng().fill_bytes(&mut b);
    b
}

/// .env (LF, unquoted) and .env.production (CRLF, some values quoted, comments) holding the same
/// five variables; the DB password appears as DATABASE_PASSWORD and inside DATABASE_URL.
fn medianest() -> Fixture {
    use base64::engine::general_purpose as gp;
    let dir = tempfile::tempdir().unwrap();
    let jwt = gp::URL_SAFE_NO_PAD.encode(random(32));
    let nextauth = gp::STANDARD.encode(random(32));
    let key = hex::encode(random(32));
    let password = gp::URL_SAFE_NO_PAD.encode(random(18));
    let env = format!(
        "# MediaNest\nNODE_ENV=development\nJWT_SECRET={jwt}\nNEXTAUTH_SECRET={nextauth}\n\
ENCRYPTION_KEY={key}\nDATABASE_PASSWORD={password}\n\
DATABASE_URL=postgresql://medianest:{password}@localhost:5432/medianest\nPORT=3000\n"
    );
    let prod = format!(
        "# production  \r\nNODE_ENV=production\r\nJWT_SECRET=\"{jwt}\"\r\nNEXTAUTH_SECRET='{nextauth}' # auth\r\n\
\r\nENCRYPTION_KEY={key}\r\nexport DATABASE_PASSWORD={password}\r\n\
DATABASE_URL=\"postgresql://medianest:{password}@db.prod.internal:5432/medianest?sslmode=require\"\r\n"
    );
    std::fs::write(dir.path().join(".env"), env).unwrap();
    std::fs::write(dir.path().join(".env.production"), prod).unwrap();
    Fixture {
        dir,
        jwt,
        nextauth,
        key,
        password,
    }
}

impl Fixture {
    fn olds(&self) -> [&str; 4] {
        [&self.jwt, &self.nextauth, &self.key, &self.password]
    }
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("leaksweep").unwrap();
        c.current_dir(self.dir.path());
        c
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
}

fn assert_no_secret(text: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(!text.contains(s), "{what} holds a secret");
    }
}

/// `NAME=value` lines of a dotenv text (quotes stripped).
fn values(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_end_matches('\r');
            let l = l.strip_prefix("export ").unwrap_or(l);
            let v = l.strip_prefix(&format!("{name}="))?;
            let v = v.split(" #").next().unwrap_or(v);
            Some(v.trim_matches(|c| c == '"' || c == '\'').to_string())
        })
        .collect()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn medianest_apply_one_new_db_password_everywhere() {
    let fx = medianest();
    let env_before = fx.read(".env");
    let prod_before = fx.read(".env.production");
    let (stdout, stderr) = run_expect(
        fx.cmd().args([
            "rotate",
            ".",
            "--apply",
            ".env",
            "--apply",
            ".env.production",
            "--backup",
        ]),
        0,
    );
    assert_no_secret(&stdout, &fx.olds(), "stdout");
    assert_no_secret(&stderr, &fx.olds(), "stderr");
    assert!(stdout.contains("4 secrets from 10 findings"), "{stdout}");
    assert!(stdout.contains(
        "ALTER ROLE \"medianest\" WITH PASSWORD '<DATABASE_PASSWORD from .env.rotated>'"
    ));

    let rotated = fx.read(".env.rotated");
    #[cfg(unix)]
    assert_eq!(mode(&fx.dir.path().join(".env.rotated")), 0o600);
    #[cfg(unix)]
    assert_eq!(mode(&fx.dir.path().join(".env.production.bak")), 0o600);
    assert_eq!(fx.read(".env.production.bak"), prod_before);
    let new_pw = values(&rotated, "DATABASE_PASSWORD");
    assert_eq!(new_pw.len(), 1, "{rotated}");
    let new_pw = &new_pw[0];
    assert_eq!(new_pw.len(), 32);
    assert_ne!(new_pw, &fx.password);
    for stdout_part in [&stdout, &stderr] {
        assert!(!stdout_part.contains(new_pw.as_str()), "new value printed");
    }

    let env = fx.read(".env");
    let prod = fx.read(".env.production");
    // Exactly one new DB password, in both variables of both files.
    let mut seen = std::collections::HashSet::new();
    for text in [&env, &prod] {
        for v in values(text, "DATABASE_PASSWORD") {
            seen.insert(v);
        }
        for url in values(text, "DATABASE_URL") {
            let pw = url
                .split("medianest:")
                .nth(1)
                .unwrap()
                .split('@')
                .next()
                .unwrap();
            seen.insert(pw.to_string());
        }
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen.contains(new_pw));
    assert_no_secret(&env, &fx.olds(), ".env");
    assert_no_secret(&prod, &fx.olds(), ".env.production");

    // Every non-secret byte is unchanged: put the old values back and get the original files.
    let new_of = |name: &str| values(&rotated, name).pop().unwrap();
    let restore = |text: &str| {
        text.replace(&new_of("JWT_SECRET"), &fx.jwt)
            .replace(&new_of("NEXTAUTH_SECRET"), &fx.nextauth)
            .replace(&new_of("ENCRYPTION_KEY"), &fx.key)
            .replace(new_pw.as_str(), &fx.password)
    };
    assert_eq!(restore(&env), env_before);
    assert_eq!(restore(&prod), prod_before);
    assert_eq!(
        prod.matches("\r\n").count(),
        prod_before.matches("\r\n").count()
    );
}

#[test]
fn outputs_never_hold_secrets_without_show_secrets() {
    for format in ["text", "json", "markdown"] {
        let fx = medianest();
        let out = fx
            .cmd()
            .args(["rotate", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let rotated = fx.read(".env.rotated");
        let news: Vec<String> = [
            "JWT_SECRET",
            "NEXTAUTH_SECRET",
            "ENCRYPTION_KEY",
            "DATABASE_PASSWORD",
        ]
        .iter()
        .map(|n| values(&rotated, n).pop().unwrap())
        .collect();
        let news: Vec<&str> = news.iter().map(String::as_str).collect();
        assert_no_secret(&stdout, &fx.olds(), format);
        assert_no_secret(&stdout, &news, format);
        assert_no_secret(&stderr, &fx.olds(), format);
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["secrets"].as_array().unwrap().len(), 4);
        }
        if format == "markdown" {
            assert!(stdout.contains("- [ ] "));
        }
    }
    // With --show-secrets the new values are shown.
    let fx = medianest();
    let out = fx
        .cmd()
        .args(["rotate", "--show-secrets"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let pw = values(&fx.read(".env.rotated"), "DATABASE_PASSWORD")
        .pop()
        .unwrap();
    assert!(stdout.contains(&pw));
}

#[test]
fn refuses_to_overwrite_without_force() {
    let fx = medianest();
    fx.cmd().arg("rotate").assert().success();
    let first = fx.read(".env.rotated");
    let out = fx.cmd().arg("rotate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(fx.read(".env.rotated"), first);
    fx.cmd().args(["rotate", "--force"]).assert().success();
    assert_ne!(fx.read(".env.rotated"), first);
    // The second run did not treat the first run's new values as leaks.
    assert_eq!(
        values(&fx.read(".env.rotated"), "DATABASE_PASSWORD").len(),
        1
    );
}

/// A report without values has them read back from the files it names; a value its file no
/// longer holds is named, not guessed, and the run exits 2. With values, the report is used as is.
#[test]
fn from_report_reads_missing_values_back_or_names_them() {
    let fx = medianest();
    let report = fx.dir.path().join("report.json");
    fx.cmd()
        .args(["scan", "--no-ignore", ".", "--format", "json", "-o"])
        .arg(&report)
        .assert()
        .code(1);
    let (stdout, stderr) = run_expect(
        fx.cmd()
            .args(["rotate", "--format", "json", "--from-report"])
            .arg(&report),
        0,
    );
    assert_no_secret(&stdout, &fx.olds(), "json");
    assert!(stderr.contains("recovered 10 value(s)"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["secrets"].as_array().unwrap().len(), 4);
    // .env.production no longer holds the old values: its five findings are named.
    std::fs::write(
        fx.dir.path().join(".env.production"),
        "NODE_ENV=production\n",
    )
    .unwrap();
    let (_, stderr) = run_expect(
        fx.cmd()
            .args(["rotate", "--force", "--from-report"])
            .arg(&report),
        2,
    );
    assert_no_secret(&stderr, &fx.olds(), "stderr");
    assert_eq!(
        stderr.matches("cannot recover the value of ").count(),
        5,
        "{stderr}"
    );
    assert!(
        stderr.contains("at .env.production:3 (secret ")
            && stderr.contains("5 of 10 finding(s)")
            && stderr.contains("--show-secrets"),
        "{stderr}"
    );
    std::fs::remove_file(fx.dir.path().join(".env.rotated")).unwrap();

    fx.cmd()
        .args([
            "scan",
            "--no-ignore",
            ".",
            "--format",
            "json",
            "--show-secrets",
            "-o",
        ])
        .arg(&report)
        .assert()
        .code(1);
    let (stdout, _) = run_expect(
        fx.cmd()
            .args(["rotate", "--format", "json", "--from-report"])
            .arg(&report),
        0,
    );
    assert_no_secret(&stdout, &fx.olds(), "json");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["secrets"].as_array().unwrap().len(), 4);
}

#[test]
fn example_files_have_placeholders() {
    let fx = medianest();
    fx.cmd().args(["rotate", "--example"]).assert().success();
    let ex = fx.read(".env.example");
    assert_no_secret(&ex, &fx.olds(), ".env.example");
    assert!(
        ex.contains("NEXTAUTH_SECRET='<generate: openssl rand -base64 32>'"),
        "{ex}"
    );
    assert!(
        ex.contains("ENCRYPTION_KEY='<generate: openssl rand -hex 32>'"),
        "{ex}"
    );
    assert!(ex.contains("NODE_ENV='<set NODE_ENV>'\n"), "{ex}");
    let prod = fx.read(".env.production.example");
    assert!(prod.contains("\r\n"));
    assert!(!fx.dir.path().join(".env.rotated").exists());
    // No overwrite without --force.
    fx.cmd().args(["rotate", "--example"]).assert().code(2);
}

#[test]
fn warns_when_env_is_not_git_ignored() {
    let fx = medianest();
    git2::Repository::init(fx.dir.path()).unwrap();
    std::fs::write(fx.dir.path().join(".gitignore"), ".env\n.env.rotated\n").unwrap();
    let out = fx.cmd().arg("rotate").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".env.production is not ignored by git"),
        "{stderr}"
    );
    assert!(!stderr.contains("./.env is not ignored"), "{stderr}");
}

#[test]
fn keygen_every_kind() {
    use base64::engine::general_purpose as gp;
    let run = |kind: &str| {
        let out = Command::cargo_bin("leaksweep")
            .unwrap()
            .args(["keygen", "--kind", kind])
            .output()
            .unwrap();
        assert!(out.status.success(), "{kind}");
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    };
    assert_eq!(gp::URL_SAFE_NO_PAD.decode(run("jwt")).unwrap().len(), 32);
    assert_eq!(gp::STANDARD.decode(run("nextauth")).unwrap().len(), 32);
    assert_eq!(hex::decode(run("aes256")).unwrap().len(), 32);
    assert_eq!(run("password").len(), 32);
    assert_eq!(hex::decode(run("hex:20")).unwrap().len(), 20);
    assert_eq!(gp::STANDARD.decode(run("base64:16")).unwrap().len(), 16);
    assert_eq!(
        gp::URL_SAFE_NO_PAD
            .decode(run("base64url:64"))
            .unwrap()
            .len(),
        64
    );
    assert_eq!(run("django").len(), 50);
    assert_eq!(hex::decode(run("rails")).unwrap().len(), 64);
    let l = run("laravel");
    assert_eq!(
        gp::STANDARD
            .decode(l.strip_prefix("base64:").unwrap())
            .unwrap()
            .len(),
        32
    );
    assert_ne!(run("password"), run("password"));
    Command::cargo_bin("leaksweep")
        .unwrap()
        .args(["keygen", "--kind", "nope"])
        .assert()
        .code(2);
}

/// Rotate takes its rules from the project's `.leaksweep.toml` as `scan` does (the project root
/// found from the scanned path): a rule the config adds finds its secret and rotates as that rule
/// says (`revoke`: no value generated), and a rule the config disables finds nothing, also when
/// the scanned directory is not the current one.
#[test]
fn project_config_decides_rules_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("app");
    std::fs::create_dir(&project).unwrap();
    let token = format!("acme_{}", hex::encode(random(16)));
    std::fs::write(project.join("settings.cfg"), format!("token: {token}\n")).unwrap();
    let config = |extra: &str| {
        format!(
            "{extra}[[rule]]\nid = \"acme-token\"\ncategory = \"saas\"\nkeywords = [\"acme_\"]\n\
regex = '''(?P<secret>acme_[a-f0-9]{{32}})'''\nrotation = \"revoke\"\n\
examples = [\"acme_{}\"]\nnegatives = [\"acme_short\"]\n",
            hex::encode(random(16))
        )
    };
    let rotate = |cwd: &Path, path: &str| {
        let out = Command::cargo_bin("leaksweep")
            .unwrap()
            .current_dir(cwd)
            .args(["rotate", path, "--format", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(!stdout.contains(&token), "the checklist holds the secret");
        let secrets = match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(v) => v["secrets"].as_array().unwrap().clone(),
            // Nothing found: no checklist, a note on stderr.
            Err(_) => {
                assert!(stdout.is_empty() && stderr.contains("nothing to rotate"));
                Vec::new()
            }
        };
        secrets
            .iter()
            .map(|s| {
                (
                    s["rule_id"].as_str().unwrap().to_string(),
                    s["action"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    std::fs::write(project.join(".leaksweep.toml"), config("")).unwrap();
    for (cwd, path) in [(project.as_path(), "."), (dir.path(), "app")] {
        let found = rotate(cwd, path);
        assert_eq!(
            found,
            [("acme-token".to_string(), serde_json::json!("revoke"))],
            "rotate {path} in {}",
            cwd.display()
        );
        assert!(
            !cwd.join(".env.rotated").exists(),
            "a revoke has no new value"
        );
    }
    std::fs::write(
        project.join(".leaksweep.toml"),
        config("disable = [\"acme-token\"]\n"),
    )
    .unwrap();
    for (cwd, path) in [(project.as_path(), "."), (dir.path(), "app")] {
        let found = rotate(cwd, path);
        assert!(
            found.iter().all(|(id, _)| id != "acme-token"),
            "rotate {path} in {}: {found:?}",
            cwd.display()
        );
    }
}

/// A repository whose history holds a JWT secret in `old.env` (committed, then deleted) and
/// whose git-ignored `.env` holds a NextAuth secret; returns it with (jwt, nextauth, commit).
fn history_repo() -> (crate::common::Repo, String, String, String) {
    use crate::common::{b64url_from, seeded_rng, Repo};
    let mut rng = seeded_rng();
    let jwt = b64url_from(&mut rng, 32);
    let nextauth = b64url_from(&mut rng, 32);
    let r = Repo::new();
    let first = r.commit_files(&[("old.env", format!("JWT_SECRET={jwt}\n"))], "config");
    r.remove("old.env");
    r.write(".gitignore", ".env\n.env.rotated\n");
    r.commit("secrets out of git");
    r.write(".env", format!("NEXTAUTH_SECRET={nextauth}\n"));
    (r, jwt, nextauth, first)
}

/// The checklist entries of a JSON checklist, as (rule_id, first_commit).
fn entries(stdout: &str) -> Vec<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rule_id"].as_str().unwrap().to_string(),
                s["first_commit"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn history_only_secrets_are_counted_and_rotated_with_history() {
    use crate::common::leaksweep;
    let (r, jwt, nextauth, first) = history_repo();
    let olds = [jwt.as_str(), nextauth.as_str()];
    let (stdout, stderr) = run_expect(leaksweep(r.path()).args(["rotate", "-f", "json"]), 0);
    assert!(
        stderr.contains(
            "1 secret(s) exist only in the git history of {} (in no file scanned) and are not in this plan: `leaksweep rotate --history` includes them"
                .replace("{}", &format!("{}/", r.path().display()))
                .as_str()
        ),
        "{stderr}"
    );
    assert_eq!(entries(&stdout), [("nextauth-secret".to_string(), None)]);
    let rotated = std::fs::read_to_string(r.path().join(".env.rotated")).unwrap();
    assert!(values(&rotated, "JWT_SECRET").is_empty(), "{rotated}");

    let (stdout, stderr) = run_expect(
        leaksweep(r.path()).args(["rotate", "--history", "--force", "-f", "json"]),
        0,
    );
    assert_no_secret(&stdout, &olds, "stdout");
    assert_no_secret(&stderr, &olds, "stderr");
    assert!(
        stderr.contains("including 1 secret(s) found only in the git history"),
        "{stderr}"
    );
    assert_eq!(
        entries(&stdout),
        [
            ("nextauth-secret".to_string(), None),
            ("jwt-secret".to_string(), Some(first.clone())),
        ]
    );
    let steps = serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["secrets"][1]["steps"]
        .to_string();
    assert!(
        steps.contains("Only git history holds the old value (old.env, first in commit")
            && steps.contains("nothing to replace in the work tree"),
        "{steps}"
    );
    let rotated = std::fs::read_to_string(r.path().join(".env.rotated")).unwrap();
    assert_no_secret(&rotated, &olds, ".env.rotated");
    let section = rotated
        .split("\n\n")
        .find(|s| s.starts_with("# for old.env in git history only"))
        .unwrap_or_else(|| panic!("no history section: {rotated}"));
    let new = values(section, "JWT_SECRET");
    assert_eq!(new.len(), 1, "{rotated}");
    assert_eq!(new[0].len(), 43, "{rotated}");
    // The work tree is left alone: nothing of the history secret is in it to replace.
    assert_eq!(r.read(".env"), format!("NEXTAUTH_SECRET={nextauth}\n"));

    // --history outside a repository is an input error.
    let plain = tempfile::tempdir().unwrap();
    let (_, stderr) = run_expect(leaksweep(plain.path()).args(["rotate", "--history"]), 2);
    assert!(
        stderr.starts_with("leaksweep: error: --history: ")
            && stderr.contains("is not inside a git repository"),
        "{stderr}"
    );
}

#[test]
fn from_report_of_history_without_values_reads_the_blobs_back() {
    use crate::common::leaksweep;
    let (r, jwt, _, first) = history_repo();
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("history.json");
    leaksweep(r.path())
        .args(["git", "--format", "json", "-o"])
        .arg(&report)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains(&jwt), "the report holds no value");
    // Run elsewhere, with the repository named.
    let (stdout, stderr) = run_expect(
        leaksweep(out.path())
            .args(["rotate", "-f", "json", "--repo"])
            .arg(r.path())
            .arg("--from-report")
            .arg(&report),
        0,
    );
    assert_no_secret(&stdout, &[&jwt], "stdout");
    assert!(stderr.contains("recovered 1 value(s)"), "{stderr}");
    assert_eq!(entries(&stdout), [("jwt-secret".to_string(), Some(first))]);
    let rotated = std::fs::read_to_string(out.path().join(".env.rotated")).unwrap();
    assert_eq!(values(&rotated, "JWT_SECRET").len(), 1, "{rotated}");

    // A finding that points at another blob, and one whose secret_id is not the value's: both
    // named, neither guessed, exit 2.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let good = v["findings"][0].clone();
    let gitignore = r.git(&["rev-parse", "HEAD:.gitignore"]);
    let mut wrong_blob = good.clone();
    wrong_blob["git"]["blob"] = serde_json::json!(gitignore);
    let mut wrong_id = good.clone();
    wrong_id["secret_id"] = serde_json::json!("ab".repeat(32));
    v["findings"] = serde_json::json!([good, wrong_blob, wrong_id]);
    let tampered = out.path().join("tampered.json");
    std::fs::write(&tampered, v.to_string()).unwrap();
    let (_, stderr) = run_expect(
        leaksweep(r.path())
            .args(["rotate", "--force", "--from-report"])
            .arg(&tampered),
        2,
    );
    assert_no_secret(&stderr, &[&jwt], "stderr");
    assert_eq!(
        stderr
            .matches("cannot recover the value of jwt-secret at old.env:1 (secret ")
            .count(),
        2,
        "{stderr}"
    );
    assert!(
        stderr.contains("(secret abababababababab): a scan of its recorded content finds no value with its secret_id")
            && stderr.contains("2 of 3 finding(s)"),
        "{stderr}"
    );
    // The one recovered value is still rotated.
    let rotated = r.read(".env.rotated");
    assert_eq!(values(&rotated, "JWT_SECRET").len(), 1, "{rotated}");
}

#[test]
fn rotated_file_names_the_target_file_of_every_value() {
    let fx = medianest();
    fx.cmd().arg("rotate").assert().success();
    let rotated = fx.read(".env.rotated");
    // Section header -> the variables under it.
    let sections: Vec<(String, Vec<String>)> = rotated
        .split("\n\n")
        .filter_map(|s| {
            let header = s.lines().next()?.strip_prefix("# for ")?.to_string();
            let vars = s
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
                .collect();
            Some((header, vars))
        })
        .collect();
    let vars_of = |h: &str| {
        sections
            .iter()
            .find(|(x, _)| x == h)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no section {h}: {rotated}"))
    };
    // One value shared by both files is written once, for both; the URLs differ per file.
    let both = vars_of(".env, .env.production");
    for v in [
        "JWT_SECRET",
        "NEXTAUTH_SECRET",
        "ENCRYPTION_KEY",
        "DATABASE_PASSWORD",
    ] {
        assert!(both.contains(&v.to_string()), "{v}: {rotated}");
    }
    assert_eq!(vars_of(".env"), ["DATABASE_URL"]);
    assert_eq!(vars_of(".env.production"), ["DATABASE_URL"]);
    assert_eq!(sections.len(), 3, "{rotated}");
    let local = values(&rotated, "DATABASE_URL");
    assert!(local[0].contains("@localhost:5432"), "{rotated}");
    assert!(local[1].contains("@db.prod.internal:5432"), "{rotated}");
}

#[test]
fn backup_path_is_printed_and_an_unignored_backup_is_flagged() {
    let fx = medianest();
    crate::common::git_ok(fx.dir.path(), &["init", "-q"]);
    std::fs::write(
        fx.dir.path().join(".gitignore"),
        ".env\n.env.production\n.env.rotated\n",
    )
    .unwrap();
    let (_, stderr) = run_expect(
        fx.cmd()
            .args(["rotate", "--apply", ".env.production", "--backup"]),
        0,
    );
    let bak = std::fs::canonicalize(fx.dir.path())
        .unwrap()
        .join(".env.production.bak");
    assert!(bak.is_file());
    assert!(
        stderr.contains(&format!(
            "(backup with the old values: {}, mode 0600)",
            bak.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "leaksweep: warning: {} is not ignored by git: add `.env.production.bak` to .gitignore",
            bak.display()
        )),
        "{stderr}"
    );
    // Once ignored, no warning.
    std::fs::write(fx.dir.path().join(".gitignore"), ".env*\n").unwrap();
    let (_, stderr) = run_expect(
        fx.cmd().args([
            "rotate",
            "--force",
            "--apply",
            ".env.production",
            "--backup",
        ]),
        0,
    );
    assert!(!stderr.contains("not ignored"), "{stderr}");
}
