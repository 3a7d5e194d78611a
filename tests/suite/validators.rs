//! Offline validators through the real binary: a token whose checksum or structure holds is
//! reported with high confidence, its fake twin (one character changed) by no rule at all; and
//! `rules show` / `rules list` say which validation each rule has.

use crate::common::*;
use base64::Engine;
use leaksweep::matcher::validate::{base36, crc32};
use rand::Rng;

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Grafana service-account token: `glsa_` + 32 alphanumerics + `_` + the CRC32 of what comes
/// before, little-endian hex.
fn glsa(rng: &mut impl Rng) -> String {
    let key = format!("glsa_{}", draw(rng, ALNUM, 32));
    format!("{key}_{}", hex::encode(crc32(key.as_bytes()).to_le_bytes()))
}

/// `token` with its last character changed (a hex or base36 digit stays one).
fn last_changed(token: &str) -> String {
    let (head, last) = token.split_at(token.len() - 1);
    format!("{head}{}", if last == "0" { '1' } else { '0' })
}

/// A Sentry organisation token naming organisation `org`.
fn sntrys(rng: &mut impl Rng, org: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = format!(
        r#"{{"iat": {}.5, "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": "{org}"}}"#,
        rng.gen_range(1_600_000_000u64..1_800_000_000)
    );
    let secret = b64.encode(rng.gen::<[u8; 32]>());
    format!(
        "sntrys_{}_{}",
        b64.encode(payload),
        secret.trim_end_matches('=')
    )
}

/// A GitLab routable personal access token: base64url of a routing payload, 16 random bytes and
/// their count, then version `01`, the payload length and the CRC32, base36.
fn glpat_routable(rng: &mut impl Rng) -> String {
    let mut raw = format!("c:1\no:{}", base36(rng.gen_range(1..99_999), 1)).into_bytes();
    raw.extend(rng.gen::<[u8; 16]>());
    raw.push(16);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let head = format!("glpat-{payload}.01.{}", base36(payload.len() as u64, 2));
    format!("{head}{}", base36(u64::from(crc32(head.as_bytes())), 7))
}

#[test]
fn valid_tokens_are_reported_high_and_their_fakes_by_no_rule() {
    let mut rng = seeded_rng();
    let grafana = glsa(&mut rng);
    let fake = last_changed(&grafana);
    let sentry = sntrys(&mut rng, "northwind-labs");
    // The payload's first character changed: it no longer decodes to a JSON object.
    let fake_sentry = format!("sntrys_A{}", &sentry["sntrys_e".len()..]);
    let gitlab = glpat_routable(&mut rng);
    let fake_gitlab = last_changed(&gitlab);
    let fx = Fixture::new();
    fx.write(
        "deploy.env",
        format!(
            "GRAFANA_TOKEN={grafana}\nGRAFANA_OLD_TOKEN={fake}\ntoken = \"{fake}\"\nSENTRY_AUTH_TOKEN={sentry}\nSENTRY_OLD={fake_sentry}\nGITLAB_TOKEN={gitlab}\nGITLAB_OLD_TOKEN={fake_gitlab}\n"
        ),
    );
    let (code, report, err) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let found: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("grafana-token".to_string(), 1, "high".to_string()),
            ("sentry-auth-token".to_string(), 4, "high".to_string()),
            ("gitlab-pat".to_string(), 6, "high".to_string()),
        ],
        "{report:#}"
    );
    let sentry_finding = &findings(&report)[1];
    assert_eq!(sentry_finding["notes"]["org"], "northwind-labs");
    assert_eq!(sentry_finding["notes"]["url"], "https://sentry.io");
}

#[test]
fn rules_show_and_list_name_the_validator() {
    let fx = Fixture::new();
    let (show, _) = run_expect(
        leaksweep(fx.path()).args(["rules", "show", "age-secret-key"]),
        0,
    );
    assert!(
        show.lines().any(|l| {
            l
            == "validator:   age-bech32: Bech32 checksum and 32-byte key (a failing one is dropped)"
        }),
        "{show}"
    );
    let (show, _) = run_expect(
        leaksweep(fx.path()).args(["rules", "show", "slack-bot-token"]),
        0,
    );
    assert!(
        show.lines()
            .any(|l| l == "validator:   none (regex, entropy and placeholder checks only)"),
        "{show}"
    );

    let (list, err) = run_expect(
        leaksweep(fx.path()).args(["rules", "list", "--category", "observability"]),
        0,
    );
    let line = |id: &str| {
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} listed:\n{list}"))
            .to_string()
    };
    assert!(line("grafana-token").ends_with("  [validator: grafana]"));
    assert!(line("sentry-auth-token").ends_with("  [validator: sentry]"));
    assert!(!line("sentry-dsn-secret").contains("[validator:"));
    assert!(err.contains("; 2 validated offline"), "{err}");
}
