//! Credentials on command lines and in whitespace-separated config directives (rules/commandline.toml),
//! through the real binary over real files: shell scripts, GitHub Actions workflows, Dockerfiles,
//! Makefiles, README code blocks, redis.conf and Java `.properties`. Each test names the exact
//! rule and line of every finding, and the env lookups, placeholders and prose that must not be one.

use crate::common::*;

/// A generated password that cannot be read as a flag (`-...`) or a variable: a letter, then
/// letters, digits and symbols.
fn secret() -> String {
    format!("k{}", password(17))
}

/// A generated token: letters and digits only, as API keys are.
fn token() -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    format!("t{}9Q", draw(&mut seeded_rng(), A, 26))
}

/// (file, line, rule id) of every finding of `leaksweep scan .` in `fx`, sorted.
fn found(fx: &Fixture) -> Vec<(String, u64, String)> {
    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--format", "json"]));
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut out: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Shorthand for an expected finding.
fn at(file: &str, line: u64, rule: &str) -> (String, u64, String) {
    (file.to_string(), line, rule.to_string())
}

#[test]
fn long_flags_in_a_shell_script_a_workflow_and_a_makefile() {
    let fx = Fixture::new();
    let (pw, db, key, bearer) = (secret(), secret(), token(), token());
    fx.write(
        "scripts/backup.sh",
        format!(
            "#!/bin/sh\nset -eu\n# nightly dump\nmysqldump -u backup --password '{pw}' --all-databases > all.sql\n\
             app migrate --db_password {db} --yes\n"
        ),
    );
    fx.write(
        ".github/workflows/deploy.yml",
        format!(
            "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          \
             mycli --api-key {key} deploy\n"
        ),
    );
    fx.write(
        "Makefile",
        format!("smoke:\n\tcurl --oauth2-bearer {bearer} https://api.corp.net/v1/me\n"),
    );
    assert_eq!(
        found(&fx),
        vec![
            at(".github/workflows/deploy.yml", 7, "cli-secret-flag"),
            at("Makefile", 2, "cli-secret-flag"),
            at("scripts/backup.sh", 4, "cli-password-flag"),
            at("scripts/backup.sh", 5, "cli-password-flag"),
        ]
    );
}

#[test]
fn flags_given_a_lookup_a_placeholder_or_prose_are_not_reported() {
    let fx = Fixture::new();
    fx.write(
        "deploy.sh",
        "mysql -u admin --password \"$DB_PASS\" db\n\
         mysql -u admin --password=${DB_PASS} db\n\
         mysql -u admin --password $(cat /run/secrets/db) db\n\
         mycli --token `vault read -field=token secret/ci`\n\
         mysql -u admin --password <password> db\n\
         mysql -u admin --password **** db\n\
         mycli --token YOUR_TOKEN\n\
         echo \"$PW\" | docker login -u ci --password-stdin registry.corp.net\n\
         pg_dump --no-password --username backup db\n",
    );
    fx.write(
        "deploy.bat",
        "mycli.exe --api-key %API_KEY% --client-secret %CLIENT_SECRET%\r\n",
    );
    fx.write(
        ".github/workflows/ci.yml",
        "jobs:\n  push:\n    runs-on: ubuntu-latest\n    steps:\n      - run: mycli --token ${{ secrets.DEPLOY_TOKEN }} push\n",
    );
    fx.write(
        "README.md",
        "# mycli\n\nPass --token to the command to skip the login prompt; --password prompts for it.\n\n\
         ```sh\nmycli --token <your-token> push\n```\n",
    );
    assert_eq!(found(&fx), vec![]);
}
