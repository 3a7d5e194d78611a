//! Provider token shapes through the real binary: each format as the provider issues it (lengths,
//! alphabets, signatures), the part of a token the placeholder checks judge, and values written
//! as JSON inside a string literal. Every token is drawn from the seeded generator.

use crate::common::*;
use rand::rngs::StdRng;
use rand::Rng;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

/// `n` characters of `alphabet`.
fn draw(rng: &mut StdRng, alphabet: &str, n: usize) -> String {
    let a = alphabet.as_bytes();
    (0..n)
        .map(|_| a[rng.gen_range(0..a.len())] as char)
        .collect()
}

/// `n` letters and digits holding a lower-case letter, an upper-case letter and a digit (the
/// shape of a generated token; a draw without one of them is drawn again).
fn alnum(rng: &mut StdRng, n: usize) -> String {
    loop {
        let s = draw(rng, &format!("{LOWER}{UPPER}{DIGITS}"), n);
        let has = |set: &str| s.chars().any(|c| set.contains(c));
        if has(LOWER) && has(UPPER) && has(DIGITS) {
            return s;
        }
    }
}

/// Hex of `n` characters in both cases (as Sourcegraph documents its tokens).
fn mixed_hex(rng: &mut StdRng, n: usize) -> String {
    draw(rng, "0123456789abcdefABCDEF", n)
}

/// `(rule id, secret)` of every finding when the fixture's files are scanned.
fn found(fx: &Fixture) -> Vec<(String, String)> {
    let (code, report, stderr) = scan_json_raw(fx.path());
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut out: Vec<(String, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or("").to_string(),
                f["secret"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The findings of one file holding `text`.
fn found_in(name: &str, text: &str) -> Vec<(String, String)> {
    let fx = Fixture::new();
    fx.write(name, text);
    found(&fx)
}

fn one(rule: &str, secret: &str) -> Vec<(String, String)> {
    vec![(rule.to_string(), secret.to_string())]
}

#[test]
fn json_inside_a_string_literal_is_read_with_its_escaped_quotes() {
    let mut rng = seeded_rng();
    let key = draw(&mut rng, &format!("{LOWER}{UPPER}{DIGITS}/+"), 40);
    let java = format!(
        "class Creds {{\n    String body = \"{{\\\"awsSecretKey\\\":\\\"{key}\\\",\\\"region\\\":\\\"eu-west-1\\\"}}\";\n}}\n"
    );
    assert_eq!(
        found_in("Creds.java", &java),
        one("aws-secret-access-key", &key)
    );
    // A value the shared value template reads runs to its escaped closing quote, not past it
    // into the next field, and holds a space.
    let secret = format!("{} {}", alnum(&mut rng, 12), alnum(&mut rng, 12));
    let log =
        format!("msg=\"{{\\\"client_secret\\\":\\\"{secret}\\\",\\\"user\\\":\\\"svc\\\"}}\"\n");
    assert_eq!(found_in("app.log", &log), one("generic-secret", &secret));
    // JSON-escaped JSON: one more level of escaping.
    let log =
        format!("{{\"event\":\"{{\\\\\\\"client_secret\\\\\\\":\\\\\\\"{secret}\\\\\\\"}}\"}}\n");
    assert_eq!(found_in("events.log", &log), one("generic-secret", &secret));
}

#[test]
fn a_telegram_bot_token_is_judged_by_its_drawn_part_not_its_bot_id() {
    let mut rng = seeded_rng();
    let b64url = format!("{LOWER}{UPPER}{DIGITS}_-");
    // A bot id that reads like a typed run does not make the token a placeholder.
    let token = format!("1234567890:{}", alnum(&mut rng, 35));
    assert_eq!(
        found_in("bot.env", &format!("TELEGRAM_BOT_TOKEN={token}\n")),
        one("telegram-bot-token-named", &token)
    );
    let id: u64 = rng.gen_range(10_000_000..10_000_000_000);
    let token = format!("{id}:{}", draw(&mut rng, &b64url, 34) + "Q");
    assert_eq!(
        found_in(
            "apprise.yml",
            &format!("urls:\n  - tgram://{token}/-100{id}\n")
        ),
        one("telegram-bot-token-named", &token)
    );
    // A placeholder in the drawn part is still one; without a Telegram name the shape alone is
    // not enough.
    let masked = format!("1234567890:{}", "x".repeat(35));
    assert!(found_in("bot.env", &format!("TELEGRAM_BOT_TOKEN={masked}\n")).is_empty());
    let bare = format!("{id}:{}", alnum(&mut rng, 35));
    assert!(found_in("notes.txt", &format!("value {bare}\n")).is_empty());
}

#[test]
fn slack_webhook_ids_in_either_case() {
    let mut rng = seeded_rng();
    let url = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        alnum(&mut rng, 9),
        alnum(&mut rng, 10),
        alnum(&mut rng, 24)
    );
    assert_eq!(
        found_in("notify.env", &format!("SLACK_WEBHOOK_URL={url}\n")),
        one("slack-webhook-url", &url)
    );
    // Zeroed ids mark a documentation URL, whatever its last part holds.
    let docs = format!(
        "https://hooks.slack.com/services/T00000000/B00000000/{}",
        alnum(&mut rng, 24)
    );
    assert!(found_in("notify.env", &format!("SLACK_WEBHOOK_URL={docs}\n")).is_empty());
}

#[test]
fn sourcegraph_tokens_in_either_case_and_its_service_tokens() {
    let mut rng = seeded_rng();
    let scoped = format!(
        "sgp_{}_{}",
        mixed_hex(&mut rng, 16),
        mixed_hex(&mut rng, 40)
    );
    let local = format!("sgp_local_{}", mixed_hex(&mut rng, 40));
    let license = format!("slk_{}", hex(32));
    let text = format!("SRC_ACCESS_TOKEN={scoped}\nSRC_LOCAL={local}\nCODY_KEY={license}\n");
    let mut want = vec![
        ("sourcegraph-access-token".to_string(), scoped),
        ("sourcegraph-access-token".to_string(), local),
        ("sourcegraph-service-token".to_string(), license),
    ];
    want.sort();
    assert_eq!(found_in("src.env", &text), want);
    // Not hex: not a Sourcegraph token.
    let not_hex = format!("sgp_{}", alnum(&mut rng, 40).replace(char::is_numeric, "z"));
    assert!(
        found_in("src.env", &format!("SRC_ACCESS_TOKEN={not_hex}x\n"))
            .iter()
            .all(|(rule, _)| !rule.starts_with("sourcegraph"))
    );
}

#[test]
fn azure_devops_pats_by_their_two_signatures() {
    let mut rng = seeded_rng();
    // The fields between the signatures may be zero.
    let pat = format!(
        "{}JQQJ7{}AAAAAAAAAAAA{}AZDO{}",
        alnum(&mut rng, 52),
        alnum(&mut rng, 3),
        alnum(&mut rng, 4),
        alnum(&mut rng, 4)
    );
    assert_eq!(pat.len(), 84);
    assert_eq!(
        found_in("pipeline.env", &format!("azure devops pat = {pat}\n")),
        one("azure-devops-pat-identifiable", &pat)
    );
    // The provider signature one place off is not the format.
    let off = format!(
        "{}JQQJ{}AZDO{}",
        alnum(&mut rng, 52),
        alnum(&mut rng, 21),
        alnum(&mut rng, 3)
    );
    assert!(found_in("pipeline.env", &format!("TOKEN_VALUE={off}\n"))
        .iter()
        .all(|(rule, _)| rule != "azure-devops-pat-identifiable"));
}

#[test]
fn cloudflare_origin_ca_keys_of_both_lengths() {
    let short = format!("v1.0-{}-{}", hex(12), &hex(73)[..146]);
    let long = format!("v1.0-{}-{}-{}", hex(32), hex(64), hex(32));
    let text = format!("ORIGIN_CA_KEY={short}\nX-Auth-User-Service-Key: {long}\n");
    let mut want = vec![
        ("cloudflare-origin-ca-key".to_string(), short),
        ("cloudflare-origin-ca-key".to_string(), long),
    ];
    want.sort();
    assert_eq!(found_in("cf.env", &text), want);
    let version = format!("image: app:v1.0-{}-{}", hex(12), hex(20));
    assert!(found_in("deploy.yml", &format!("{version}\n")).is_empty());
}

#[test]
fn alibaba_sts_ids_google_tokens_and_crates_io_headers() {
    let mut rng = seeded_rng();
    let sts = format!("STS.{}", alnum(&mut rng, 25));
    assert_eq!(
        found_in("sts.json", &format!("{{\"AccessKeyId\": \"{sts}\"}}\n")),
        one("alibaba-sts-access-key-id", &sts)
    );
    assert!(found_in(
        "client.go",
        "resp, err := c.STS.AssumeRoleWithOIDC(ctx, request)\n"
    )
    .is_empty());
    let b64url = format!("{LOWER}{UPPER}{DIGITS}_-");
    let short = format!("ya29.{}", alnum(&mut rng, 50));
    let service = format!("ya29.c.{}", draw(&mut rng, &b64url, 150));
    let padded = format!("ya29.{}........", draw(&mut rng, &b64url, 180));
    let text = format!("a={short}\nb={service}\nc={padded}\n");
    let mut want: Vec<(String, String)> = [short, service, padded]
        .into_iter()
        .map(|t| ("gcp-oauth-access-token".to_string(), t))
        .collect();
    want.sort();
    assert_eq!(found_in("tokens.txt", &text), want);
    let crate_token = format!("cio{}", alnum(&mut rng, 32));
    assert_eq!(
        found_in(
            "publish.sh",
            &format!("curl -H 'Authorization: {crate_token}' https://crates.io/api/v1/me\n")
        ),
        one("crates-io-api-token-header", &crate_token)
    );
}
