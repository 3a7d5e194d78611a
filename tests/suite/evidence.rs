//! Evidence that overrides the filters: a value they reject that verifies an HS* token found in
//! the same scan is a signing secret (work tree, history, the index), and code-shaped values are
//! literals in files whose syntax has no expressions. Every value is generated.

use crate::common::*;
use rand::Rng;

/// Lower-case letters without `e`, `o` and `x`, so no placeholder word (`todo`, `env.`, `xxxx`,
/// `fake`, `example`) can turn up by chance.
fn letters(rng: &mut impl Rng, n: usize) -> String {
    draw(rng, b"abcdfghijklmnpqrstuvwyz", n)
}

/// A signing secret every filter turns down: short, and in a placeholder's words.
fn weak_secret(rng: &mut impl Rng) -> String {
    format!("changeme {}", letters(rng, 5))
}

fn session_js(secret: &str) -> String {
    format!("const app = express();\napp.use(session({{ secret: '{secret}' }}));\n")
}

fn fixture_json(token: &str) -> String {
    format!("{{\n  \"auth\": \"Bearer {token}\"\n}}\n")
}

fn at<'a>(found: &'a [serde_json::Value], path: &str) -> Vec<&'a serde_json::Value> {
    found.iter().filter(|f| f["path"] == path).collect()
}

/// The one finding of the weak secret: critical, high, with the evidence and link notes.
fn assert_promoted(found: &[serde_json::Value], secret: &str, token_at: &str) {
    let s = at(found, "src/session.js");
    assert_eq!(s.len(), 1, "{found:#?}");
    let s = s[0];
    assert_eq!(s["line"], 2);
    assert_eq!(s["secret"], secret);
    assert_eq!(s["severity"], "critical");
    assert_eq!(s["confidence"], "high");
    let why = s["notes"]["evidence"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("rejected by the ") && why.ends_with(" filter but verifies a token"),
        "{s:#}"
    );
    assert_eq!(
        s["notes"]["link"],
        format!("signs tokens found at {token_at}: anyone holding it can mint valid tokens")
    );
    let t = at(found, "test/fixtures/auth.json");
    assert_eq!(t.len(), 1, "{found:#?}");
    assert_eq!(t[0]["severity"], "critical");
    let link = t[0]["notes"]["link"].as_str().unwrap_or_default();
    assert!(
        link.starts_with("signed by the secret at src/session.js:2")
            && link.contains(&format!("({why})")),
        "{link}"
    );
}

#[test]
fn a_rejected_secret_that_verifies_a_token_is_found_in_the_tree_and_one_that_does_not_is_not() {
    let mut rng = seeded_rng();
    let secret = weak_secret(&mut rng);
    let token = hs256(secret.as_bytes(), r#"{"sub":"42","role":"admin"}"#);
    // Another weak secret, and a token signed by a key close to it but not it.
    let unused = weak_secret(&mut rng);
    let stranger = hs256(
        format!("{unused}{}", letters(&mut rng, 3)).as_bytes(),
        r#"{"sub":"43"}"#,
    );
    let fx = Fixture::new();
    fx.write("src/session.js", session_js(&secret));
    fx.write("src/admin.js", session_js(&unused));
    fx.write("test/fixtures/auth.json", fixture_json(&token));
    fx.write("test/fixtures/other.json", fixture_json(&stranger));
    let (code, report, _) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--format", "json", "--show-secrets"]));
    assert_eq!(code, 1);
    let found = findings(&report);
    assert_promoted(&found, &secret, "test/fixtures/auth.json:2");
    assert!(at(&found, "src/admin.js").is_empty(), "{found:#?}");
    let other = at(&found, "test/fixtures/other.json");
    assert_eq!(other.len(), 1, "{found:#?}");
    assert!(other[0]["notes"].get("link").is_none(), "{:#}", other[0]);
    // Without --show-secrets no report holds the values.
    let (_, out, _) = run_text(leaksweep(fx.path()).args(["scan", ".", "--format", "json"]));
    assert!(!out.contains(&secret) && !out.contains(&unused), "{out}");
}

#[test]
fn a_rejected_secret_and_its_token_in_different_commits_are_linked_in_history() {
    let mut rng = seeded_rng();
    let secret = weak_secret(&mut rng);
    let token = hs256(secret.as_bytes(), r#"{"sub":"7"}"#);
    let repo = Repo::new();
    repo.write("src/session.js", session_js(&secret));
    let first = repo.commit("session middleware");
    repo.write("test/fixtures/auth.json", fixture_json(&token));
    let second = repo.commit("auth fixture");
    let (code, report, _) =
        run_json(leaksweep(repo.path()).args(["git", ".", "--format", "json", "--show-secrets"]));
    assert_eq!(code, 1);
    let found = findings(&report);
    let token_at = format!("test/fixtures/auth.json:2 (commit {})", &second[..12]);
    let s = at(&found, "src/session.js");
    assert_eq!(s.len(), 1, "{found:#?}");
    assert_eq!(s[0]["git"]["commit"], first.as_str());
    assert_eq!(s[0]["severity"], "critical");
    assert_eq!(
        s[0]["notes"]["link"],
        format!("signs tokens found at {token_at}: anyone holding it can mint valid tokens")
    );
    let t = at(&found, "test/fixtures/auth.json");
    assert_eq!(t.len(), 1, "{found:#?}");
    let link = t[0]["notes"]["link"].as_str().unwrap_or_default();
    assert!(
        link.starts_with(&format!(
            "signed by the secret at src/session.js:2 (commit {}) (rejected by the ",
            &first[..12]
        )),
        "{link}"
    );
}

#[test]
fn a_staged_token_verifies_a_staged_rejected_secret() {
    let mut rng = seeded_rng();
    let secret = weak_secret(&mut rng);
    let token = hs256(secret.as_bytes(), r#"{"sub":"9"}"#);
    let repo = Repo::new();
    repo.write("README.md", "app\n");
    repo.commit("init");
    repo.write("src/session.js", session_js(&secret));
    repo.write("test/fixtures/auth.json", fixture_json(&token));
    repo.git(&["add", "."]);
    let (code, report, _) = run_json(leaksweep(repo.path()).args([
        "git",
        "--staged",
        "--format",
        "json",
        "--show-secrets",
    ]));
    assert_eq!(code, 1);
    assert_promoted(&findings(&report), &secret, "test/fixtures/auth.json:2");
}

/// A dotted path of words: a member path in code, a literal in a `.env` file.
fn member_path(rng: &mut impl Rng) -> String {
    format!(
        "{}.{}.{}",
        letters(rng, 6),
        letters(rng, 5),
        letters(rng, 7)
    )
}

#[test]
fn a_code_shaped_password_is_a_literal_where_the_syntax_has_no_expressions() {
    let mut rng = seeded_rng();
    let value = member_path(&mut rng);
    let line = format!("DB_PASSWORD={value}\n");
    let fx = Fixture::new();
    fx.write(".env", &line);
    fx.write(
        "config/application.properties",
        format!("spring.datasource.password={value}\n"),
    );
    // Where expressions exist it is one: code, a YAML value.
    fx.write("src/db.js", &line);
    fx.write("deploy/values.yaml", format!("password: {value}\n"));
    let (_, report, _) = scan_json_raw(fx.path());
    let found = findings(&report);
    let mut paths: Vec<&str> = found
        .iter()
        .filter(|f| f["secret"] == value.as_str())
        .map(|f| f["path"].as_str().unwrap_or_default())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [".env", "config/application.properties"],
        "{found:#?}"
    );
    let env = at(&found, ".env");
    assert_eq!(env[0]["line"], 1);
    assert_eq!(env[0]["rule_id"], "db-password");
}
