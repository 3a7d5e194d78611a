//! Unit tests of the matcher's core: a keyword hit opens a window, the regex captures in it, the
//! entropy and placeholder judgement keeps or drops the capture, and a [`Match`] comes out.
//!
//! The rules are written here (not the built-in set), so each test controls the one stage it
//! checks. Values are drawn from a seeded generator: the seed is printed to the test's captured
//! output (shown when a test fails) and `LEAKSWEEP_TEST_SEED=<seed>` replays it.

use super::*;
use rand::rngs::StdRng;
use rand::Rng;

use crate::testing::seeded;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// `len` characters from `alphabet`.
fn draw(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A generated token of `len` letters and digits that holds every class (lower, upper, digit):
/// the shape of a real key.
fn token(rng: &mut StdRng, len: usize) -> String {
    let all: Vec<u8> = [LOWER, UPPER, DIGITS].concat();
    let mut t: Vec<u8> = vec![
        LOWER[rng.gen_range(0..LOWER.len())],
        UPPER[rng.gen_range(0..UPPER.len())],
        DIGITS[rng.gen_range(0..DIGITS.len())],
    ];
    t.extend(draw(rng, &all, len - 3).bytes());
    // The three forced characters at drawn places, not always in front.
    for i in 0..3 {
        let j = rng.gen_range(0..t.len());
        t.swap(i, j);
    }
    String::from_utf8(t).unwrap()
}

/// A matcher over the rules of one rule file (validated as a user's would be).
fn matcher(rules_toml: &str) -> Matcher {
    Matcher::new(crate::rules::parse("test.toml", rules_toml).expect("test rules load"))
        .expect("test rules compile")
}

/// The secrets `m` reports in `data`, as text.
fn found(m: &Matcher, data: &str) -> Vec<String> {
    let mut scratch = Scratch::default();
    m.scan(data.as_bytes(), None, &mut scratch)
        .into_iter()
        .map(|x| String::from_utf8_lossy(&data.as_bytes()[x.span]).into_owned())
        .collect()
}

/// A rule for `tkey = "..."`: keyword `tkey`, any quoted value, an entropy floor of 3.5.
const QUOTED: &str = r#"
[[rule]]
id = "t-quoted"
keywords = ["tkey"]
regex = '''tkey\s*=\s*"(?P<secret>[^"]+)"'''
entropy = 3.5
examples = ["x"]
negatives = ["y"]
"#;

#[test]
fn keyword_regex_and_judgement_make_a_match() {
    let (mut rng, seed) = seeded();
    let m = matcher(QUOTED);
    for _ in 0..50 {
        let len = rng.gen_range(24..48);
        let secret = token(&mut rng, len);
        let data = format!("# config\ntkey = \"{secret}\"\nother = 1\n");
        let mut scratch = Scratch::default();
        let out = m.scan(data.as_bytes(), Some("app.cfg"), &mut scratch);
        assert_eq!(out.len(), 1, "seed {seed}: {data:?}");
        let x = &out[0];
        assert_eq!(x.rule, 0, "seed {seed}");
        assert_eq!(
            &data.as_bytes()[x.span.clone()],
            secret.as_bytes(),
            "seed {seed}"
        );
        assert_eq!(x.confidence, Confidence::Medium, "seed {seed}");
        assert_eq!(
            x.entropy,
            filters::shannon_entropy(secret.as_bytes()),
            "seed {seed}"
        );
        assert!(x.entropy >= 3.5, "seed {seed}: {}", x.entropy);
        assert!(x.notes.is_empty(), "seed {seed}: {:?}", x.notes);
        assert!(!scratch.take_truncated(), "seed {seed}");
    }
}

#[test]
fn no_keyword_no_regex() {
    let (mut rng, seed) = seeded();
    // The regex does not name the keyword: only the prefilter decides where it runs.
    let m = matcher(
        r#"
[[rule]]
id = "t-window"
keywords = ["tkey"]
regex = '''(?P<secret>Q[A-Za-z0-9]{31})'''
examples = ["x"]
negatives = ["y"]
"#,
    );
    for _ in 0..50 {
        let secret = format!("Q{}", token(&mut rng, 31));
        // The keyword on the value's line: a window holds it.
        assert_eq!(
            found(&m, &format!("tkey {secret}\n")),
            vec![secret.clone()],
            "seed {seed}"
        );
        // No keyword anywhere: the regex never runs.
        assert!(
            found(&m, &format!("key {secret}\n")).is_empty(),
            "seed {seed}"
        );
        // The keyword on another line, and the rule reaches no further lines.
        assert!(
            found(&m, &format!("tkey\n{secret}\n")).is_empty(),
            "seed {seed}"
        );
    }
}

#[test]
fn context_lines_widen_the_window() {
    let (mut rng, seed) = seeded();
    let m = matcher(
        r#"
[[rule]]
id = "t-nested"
keywords = ["tkey"]
regex = '''(?P<secret>Q[A-Za-z0-9]{31})'''
context_lines = 1
examples = ["x"]
negatives = ["y"]
"#,
    );
    let secret = format!("Q{}", token(&mut rng, 31));
    assert_eq!(
        found(&m, &format!("tkey:\n  value: {secret}\n")),
        vec![secret.clone()],
        "seed {seed}"
    );
    // Two lines down is past the window.
    assert!(
        found(&m, &format!("tkey:\n  x: 1\n  value: {secret}\n")).is_empty(),
        "seed {seed}"
    );
    // A second keyword inside the first one's window widens it past its own line.
    assert_eq!(
        found(&m, &format!("tkey:\ntkey:\n  value: {secret}\n")),
        vec![secret.clone()],
        "seed {seed}"
    );
}

#[test]
fn keywords_fold_ascii_case() {
    let (mut rng, seed) = seeded();
    // Written upper-case in the rule, found in any case in the text.
    let m = matcher(
        r#"
[[rule]]
id = "t-case"
keywords = ["TKEY"]
regex = '''(?i)tkey\s*=\s*"(?P<secret>[^"]+)"'''
entropy = 3.5
examples = ["x"]
negatives = ["y"]
"#,
    );
    for _ in 0..20 {
        let secret = token(&mut rng, 32);
        // Each letter of the keyword in a drawn case.
        let keyword: String = "tkey"
            .chars()
            .map(|c| if rng.gen() { c.to_ascii_uppercase() } else { c })
            .collect();
        let data = format!("{keyword} = \"{secret}\"\n");
        assert_eq!(found(&m, &data), vec![secret], "seed {seed}: {data:?}");
    }
    // The regex is what the rule says, case and all: the prefilter only narrows where it runs.
    let strict = matcher(QUOTED);
    let secret = token(&mut rng, 32);
    assert_eq!(
        found(&strict, &format!("TKEY = \"{secret}\"\n")),
        Vec::<String>::new(),
        "seed {seed}"
    );
}

#[test]
fn placeholders_and_env_lookups_are_not_secrets() {
    let (mut rng, seed) = seeded();
    let m = matcher(QUOTED);
    for _ in 0..20 {
        // Names drawn from upper-case letters, so each case is new on every run.
        let (a, b) = (rng.gen_range(3..8), rng.gen_range(3..8));
        let name = format!("{}_{}", draw(&mut rng, UPPER, a), draw(&mut rng, UPPER, b));
        let lower = name.to_ascii_lowercase();
        for value in [
            format!("${{{name}}}"),
            format!("${name}"),
            format!("process.env.{name}"),
            format!("os.environ.{lower}"),
            format!("<your-{}-here>", lower.replace('_', "-")),
            format!("your_{lower}_here"),
            "changeme-changeme-changeme".to_string(),
            "xxxxxxxxxxxxxxxxxxxxxxxx".to_string(),
        ] {
            let data = format!("tkey = \"{value}\"\n");
            assert!(found(&m, &data).is_empty(), "seed {seed}: {data:?}");
        }
        // The same place with a generated value is reported: the value was judged, not the line.
        let secret = token(&mut rng, 32);
        assert_eq!(
            found(&m, &format!("tkey = \"{secret}\"\n")),
            vec![secret],
            "seed {seed}"
        );
    }
}

#[test]
fn values_below_the_entropy_floor_are_dropped() {
    let (mut rng, seed) = seeded();
    // No placeholder check: only the entropy floor can drop a value here.
    let rule = |entropy: &str| {
        format!(
            r#"
[[rule]]
id = "t-entropy"
keywords = ["tkey"]
regex = '''tkey\s*=\s*"(?P<secret>[a-z0-9]+)"'''
entropy = {entropy}
no_placeholder_check = true
examples = ["x"]
negatives = ["y"]
"#
        )
    };
    let floor = matcher(&rule("3.5"));
    let none = matcher(&rule("0.0"));
    for _ in 0..50 {
        // Two symbols: at most 1 bit per character, whatever the draw.
        let pair = draw(&mut rng, LOWER, 2);
        let len = rng.gen_range(16..40);
        let low = draw(&mut rng, pair.as_bytes(), len);
        assert!(
            filters::shannon_entropy(low.as_bytes()) <= 1.0,
            "seed {seed}"
        );
        let data = format!("tkey = \"{low}\"\n");
        assert!(found(&floor, &data).is_empty(), "seed {seed}: {data:?}");
        // Without the floor the same value is reported: the floor dropped it.
        assert_eq!(found(&none, &data), vec![low.clone()], "seed {seed}");
        // A drawn value of the rule's alphabet clears the floor.
        let high = draw(&mut rng, &[LOWER, DIGITS].concat(), 32);
        if filters::shannon_entropy(high.as_bytes()) >= 3.5 {
            assert_eq!(
                found(&floor, &format!("tkey = \"{high}\"\n")),
                vec![high],
                "seed {seed}"
            );
        }
    }
}

#[test]
fn a_specific_rule_hides_the_generic_match_of_the_same_value() {
    let (mut rng, seed) = seeded();
    let m = matcher(
        r#"
[[rule]]
id = "t-generic"
keywords = ["tkey"]
regex = '''tkey\s*=\s*"(?P<secret>[^"]+)"'''
priority = -1
examples = ["x"]
negatives = ["y"]

[[rule]]
id = "t-vendor"
keywords = ["tk_"]
regex = '''(?P<secret>tk_[A-Za-z0-9]{32})'''
examples = ["x"]
negatives = ["y"]
"#,
    );
    for _ in 0..20 {
        let secret = format!("tk_{}", token(&mut rng, 32));
        let data = format!("tkey = \"{secret}\"\n");
        let out = m.scan(data.as_bytes(), None, &mut Scratch::default());
        assert_eq!(out.len(), 1, "seed {seed}: {data:?}");
        assert_eq!(m.rule(out[0].rule).id, "t-vendor", "seed {seed}");
    }
}

#[test]
fn the_findings_limit_truncates_and_says_so() {
    let (mut rng, seed) = seeded();
    let m = matcher(QUOTED).with_options(MatchOptions {
        max_findings: 3,
        ..MatchOptions::default()
    });
    let data: String = (0..10)
        .map(|_| format!("tkey = \"{}\"\n", token(&mut rng, 32)))
        .collect();
    let mut scratch = Scratch::default();
    assert_eq!(
        m.scan(data.as_bytes(), None, &mut scratch).len(),
        3,
        "seed {seed}"
    );
    assert!(scratch.take_truncated(), "seed {seed}");
    assert!(
        !scratch.take_truncated(),
        "seed {seed}: the flag is taken once"
    );
}

#[test]
fn an_escaped_opening_quote_is_closed_by_the_same_escaped_quote() {
    let (mut rng, seed) = seeded();
    let v = format!("{} {}", token(&mut rng, 10), token(&mut rng, 10));
    // Plain, escaped and doubly escaped quotes: the value ends at its own closing quote.
    for text in [
        format!("k=\"{v}\",x"),
        format!("{{\\\"k\\\":\\\"{v}\\\",\\\"u\\\":\\\"b\\\"}}"),
        format!("{{\\\\\\\"k\\\\\\\":\\\\\\\"{v}\\\\\\\"}}"),
        // A plain quoted value's escaped quote belongs to it.
        format!("k='{v}\\'s',x"),
    ] {
        let data = text.as_bytes();
        let start = text.find(&v).unwrap();
        let (span, quoted) = value_extent(data, start..start + 3);
        let want = if text.contains("\\'s") {
            format!("{v}\\'s")
        } else {
            v.clone()
        };
        assert!(quoted, "seed {seed}: {text}");
        assert_eq!(&text[span], want, "seed {seed}: {text}");
    }
}

#[test]
fn the_random_group_alone_is_judged_for_placeholders_and_entropy() {
    let (mut rng, seed) = seeded();
    let m = matcher(
        r#"
[[rule]]
id = "t-bot"
keywords = ["tbot"]
regex = '''tbot=(?P<secret>[0-9]{10}:(?P<random>[A-Za-z0-9]{30}))'''
entropy = 3.5
examples = ["tbot=1234567890:Zq8x0Lk2Wm4Nc6Vb8Xz1As3Df5Gh7Jk9L"]
negatives = ["tbot=1234567890:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]
"#,
    );
    let drawn = token(&mut rng, 30);
    let data = format!("tbot=1234567890:{drawn}\n");
    assert_eq!(
        found(&m, &data),
        [format!("1234567890:{drawn}")],
        "seed {seed}"
    );
    // A typed run in the drawn part still marks a placeholder.
    let typed = format!("{}12345678", token(&mut rng, 22));
    assert!(
        found(&m, &format!("tbot=1234567890:{typed}\n")).is_empty(),
        "seed {seed}"
    );
}

/// The built-in rules that carry a keyword guard, with and without it.
fn guarded_rules() -> (Vec<Rule>, Vec<Rule>) {
    let guarded: Vec<Rule> = crate::rules::builtin()
        .expect("built-in rules load")
        .into_iter()
        .filter(|r| r.keyword_guard.is_some())
        .collect();
    let bare = guarded
        .iter()
        .cloned()
        .map(|mut r| {
            r.keyword_guard = None;
            r
        })
        .collect();
    (guarded, bare)
}

/// A guard only skips hits where its rule's regex cannot match: every built-in rule with a guard
/// finds the same values with and without it, on seeded lines built from the pieces that decide
/// (userinfo or not, what comes before a token prefix, indentation before a keyword).
#[test]
fn keyword_guards_lose_no_match_of_their_rules() {
    let (guarded, bare) = guarded_rules();
    assert!(guarded.len() >= 3, "the guarded rules: {}", guarded.len());
    let (with, without) = (
        Matcher::new(guarded).expect("compile"),
        Matcher::new(bare).expect("compile"),
    );
    let (mut rng, seed) = seeded();
    let tok = token(&mut rng, 36);
    let hex: String = (0..64)
        .map(|_| b"0123456789abcdef"[rng.gen_range(0..16)] as char)
        .collect();
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("deploy:{}", token(&mut rng, 14)))
    };
    for text in [
        format!("//registry.acme-corp.net/:_auth={b64}"),
        format!("_password = {b64}"),
        format!("x:_auth=\"{b64}\"\r\ny_auth={b64}"),
        format!("git clone https://ci:{tok}@git.acme-corp.net/app.git"),
        format!("u = 'ftp://a@b:{tok}@h/'"),
        format!("NETLIFY_AUTH_TOKEN=nfp_{tok}"),
        format!("(nfo_{tok}) info_{tok} -nfb_{tok}"),
        format!("  machine h.acme-corp.net login ci password {tok}"),
        format!("default machine h login ci password {tok}"),
        format!("const signingKey = \"{hex}\"; keyboard = \"{hex}\""),
        format!("  - api_key: {hex}\n{{ key: '{tok}1' }} key)= 'x{tok}9'"),
        format!("password = \"{tok}\"; passwordless: \"{tok}\" smtp_pass ?= '{tok}'"),
        format!("DB_PASSWORD={tok}\n\\\"db_pwd\\\": \\\"{tok}\\\""),
        format!("export default NextAuth({{\n  providers: [],\n  secret: \"{tok}\",\n}})"),
        format!("  nextauth: {{\n    url: 'x',\n    secret: '{tok}'\n  }}"),
        format!("data:\n  api-token: {b64}\n  \"db.password\" : {b64}"),
        format!("mysql --password {tok} --db-password={tok} db_password {tok}"),
        format!("run(\"--api-key\", \"{tok}\") --next-token {tok} x--token {tok}"),
        format!("args:\n  - --client-secret\n  - {tok}"),
        format!("curl -X PUT \\\n  -u admin:{tok} \\\n  https://es.acme-corp.net:9200/x"),
        format!("curl https://es.acme-corp.net/\n-u admin:{tok}"),
        format!("libcurl -u a:{tok}"),
        format!("(curl -u a:{tok})"),
        format!("echo `curl --user a:{tok}`"),
        format!("$curl -u a:{tok}"),
        format!("/usr/bin/curl -u a:{tok}"),
        format!("x|curl -u b:{tok}"),
        format!("x;curl.exe -u c:{tok}"),
        format!("x.curl -u d:{tok}"),
        format!("createTransport({{ auth: {{ user: 'ops', pass: '{tok}' }} }})"),
        format!("  \"auth\" : {{\n    user: \"u\",\n    pass: \"{tok}\"\n  }}"),
        format!("xauth: {{ pass: '{tok}' }}"),
        format!("app.config['SECRET_KEY'] = '{tok}'"),
        format!("$cfg['Servers'][$i]['password'] = '{tok}';"),
        format!("x['token'].y = '{tok}'; z[\"db_pass\"] = \"{tok}\""),
    ] {
        assert_eq!(
            found(&with, &text),
            found(&without, &text),
            "seed {seed}: {text:?}"
        );
    }
    let pieces = [
        "https://",
        "ftp://",
        "://",
        "deploy",
        ":",
        "@",
        "/",
        " ",
        "\t",
        "\n",
        "\r",
        "\"",
        "info_",
        "nfp_",
        "nfo_",
        "x",
        "_",
        "-",
        "machine ",
        "login ",
        "password ",
        "db.acme-corp.net",
        "(",
        "=",
        "_auth",
        "_password",
        "//registry.acme-corp.net/",
        "curl ",
        "libcurl ",
        "-u ",
        "--user ",
        " \\\n",
        "auth",
        ": {",
        "pass: '",
        "'",
        "['",
        "']",
        "] = '",
        "x[\"api_key\"] = \"",
        "--",
        "--db",
        "-password",
        "_password ",
        "-token=",
        "_api_key ",
        "\", \"",
        "\n  - ",
        "key",
        "Key",
        "apiKey",
        "keyboard",
        " = ",
        ": ",
        "\\\"",
        "db_pass",
        "DB_PASSWORD",
        "passwordless",
        "auth: {\n",
        "NextAuth({\n",
        "  secret: ",
        "  api-token: ",
        "?=",
        "$",
        "|",
        ";",
        ".exe ",
    ];
    for round in 0..3000 {
        let mut text = String::new();
        for _ in 0..rng.gen_range(1..24) {
            let p = pieces[rng.gen_range(0..pieces.len())];
            text.push_str(p);
            if rng.gen_range(0..4) == 0 {
                let len = rng.gen_range(8..40);
                text.push_str(&token(&mut rng, len));
            }
        }
        assert_eq!(
            found(&with, &text),
            found(&without, &text),
            "seed {seed} round {round}: {text:?}"
        );
    }
}

/// And it does skip: a URL without userinfo, `info_`, `machine` inside a line and `db_password`
/// open no window of their guarded rules, while the forms the rules match still do.
#[test]
fn keyword_guards_skip_hits_their_regex_cannot_match() {
    let (guarded, _) = guarded_rules();
    let m = Matcher::new(guarded).expect("compile");
    let windows = |text: &str| {
        let mut scratch = Scratch::default();
        m.prefilter
            .collect_windows(&m.rules, text.as_bytes(), &mut scratch);
        let mut ids: Vec<&str> = scratch
            .triggered
            .iter()
            .map(|&ri| m.rules[ri].rule.id.as_str())
            .collect();
        ids.sort();
        ids
    };
    assert!(windows(
        "see https://curl.se/docs/ and info_reset()\nthe machine is up\ndb_password(x)"
    )
    .is_empty());
    assert_eq!(
        windows("//registry.acme-corp.net/:_auth=x"),
        ["npmrc-legacy-auth"]
    );
    assert_eq!(
        windows(&format!(
            "git clone https://ci:{}@git.acme-corp.net/app.git",
            "Xq8vLp2m"
        )),
        ["url-credentials"]
    );
    assert_eq!(
        windows("  machine h login u password p"),
        ["netrc-password"]
    );
    assert_eq!(windows("NETLIFY=nfp_x"), ["netlify-token"]);
}

#[test]
fn keyword_guard_byte_sets_and_errors() {
    let g = |toml: &str| -> Result<Guard, String> {
        Guard::compile(
            &toml::from_str::<KeywordGuard>(toml).map_err(|e| e.to_string())?,
            2,
        )
    };
    let word = g(r#"not_after = "A-Za-z0-9_-""#).unwrap();
    assert!(word.passes(b"nfp_", 0, 4));
    assert!(word.passes(b"=nfp_", 1, 5));
    assert!(!word.passes(b"info_", 2, 5));
    assert!(!word.passes(b"-nfp_", 1, 5));
    let at = g(r#"then = "@"
stop = "/ ""#)
    .unwrap();
    assert!(at.passes(b"x://u:p@h", 1, 4));
    assert!(!at.passes(b"x://h/u:p@h", 1, 4));
    assert!(!at.passes(b"x://u:p\n@h", 1, 4));
    let flag = g(r#"followed_by = ["-u", "--user"]"#).unwrap();
    assert!(flag.passes(b"curl -u a:b", 0, 4));
    assert!(flag.passes(b"curl -X PUT \\\r\n  --user a:b", 0, 4));
    assert!(flag.passes(b"curl \\\n \\\n -u a:b", 0, 4));
    assert!(
        !flag.passes(b"curl \\\n \\\n \\\n -u a:b", 0, 4),
        "past context_lines"
    );
    assert!(!flag.passes(b"curl https://h\n-u a:b", 0, 4));
    assert!(!flag.passes(b"-u a:b curl", 7, 11));
    assert!(g(r#"followed_by = [""]"#).is_err());
    let long = g(r#"word_prefix = "--"
word = "A-Za-z0-9_-""#)
    .unwrap();
    assert!(long.passes(b"--password x", 1, 10));
    assert!(long.passes(b"a --db-password x", 5, 14));
    assert!(!long.passes(b"db_password = x", 2, 11));
    assert!(!long.passes(b"x--password", 2, 11));
    assert!(g(r#"word_prefix = "--""#).is_err());
    assert!(g(r#"not_after = "z-a""#).unwrap_err().contains("backwards"));
    assert!(g(r#"then = "é""#).is_err());
    assert!(g(r#"stop = "/""#)
        .unwrap_err()
        .contains("stop without then"));
}

#[test]
fn a_reference_with_a_default_yields_its_default() {
    let (mut rng, _) = seeded();
    let rng = &mut rng;
    let m = matcher(
        r#"
[[rule]]
id = "t-secret"
description = "t"
keywords = ["tsecret"]
regex = '''(?i)%PRE%tsecret%ASSIGN%%VALUE%'''
entropy = 3.0
examples = ["x"]
negatives = ["y"]
"#,
    );
    let (a, b) = (token(rng, 24), token(rng, 24));
    assert_eq!(
        found(&m, &format!("tsecret: ${{APP_TSECRET:{a}}}")),
        vec![a.clone()]
    );
    assert_eq!(
        found(&m, &format!("tsecret=\"${{APP_TSECRET:-{b}}}\"")),
        vec![b.clone()]
    );
    assert_eq!(
        found(&m, &format!("tsecret: ${{app.tsecret:{a}}}")),
        vec![a.clone()]
    );
    // No default, an empty one, or one that is itself a reference: nothing literal.
    assert!(found(&m, "tsecret: ${APP_TSECRET}").is_empty());
    assert!(found(&m, "tsecret: ${APP_TSECRET:}").is_empty());
    assert!(found(&m, "tsecret: ${APP_TSECRET:${OTHER_SECRET}}").is_empty());
}
