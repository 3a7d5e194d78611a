//! `rules list` grouped by family with --category/--search, and the provider catalog on real
//! scans: prefixed tokens found with their exact rule and line, shared prefixes resolved once.

use crate::common::*;
use std::collections::BTreeMap;

/// Runs `leaksweep rules list ARGS`; returns (exit code, stdout, stderr).
fn list(args: &[&str]) -> (i32, String, String) {
    let fx = Fixture::new();
    let out = leaksweep(fx.path())
        .arg("rules")
        .arg("list")
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The listing parsed as family -> (count in its heading, rule lines under it).
fn groups(stdout: &str) -> BTreeMap<String, (usize, Vec<String>)> {
    let mut out: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    let mut order = Vec::new();
    let mut current = None;
    for line in stdout.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rule) = line.strip_prefix("  ") {
            let fam: &String = current
                .as_ref()
                .expect("a rule line under a family heading");
            out.get_mut(fam).unwrap().1.push(rule.to_string());
        } else {
            let (name, count) = line
                .strip_suffix(')')
                .and_then(|l| l.split_once(" ("))
                .unwrap_or_else(|| panic!("family heading 'name (N)': {line}"));
            let n: usize = count.parse().expect("heading count");
            assert!(
                out.insert(name.to_string(), (n, Vec::new())).is_none(),
                "family {name} listed twice"
            );
            order.push(name.to_string());
            current = Some(name.to_string());
        }
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "families in name order");
    out
}

fn ids(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect()
}

#[test]
fn list_groups_every_rule_under_its_family_with_counts() {
    let (code, out, err) = list(&[]);
    assert_eq!(code, 0, "{err}");
    let g = groups(&out);
    let total: usize = g.values().map(|(n, _)| n).sum();
    for (fam, (n, lines)) in &g {
        assert_eq!(*n, lines.len(), "heading count of {fam}");
        let ids = ids(lines);
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "rules of {fam} in id order");
    }
    assert!(
        err.contains(&format!("{total} rules, in {} families", g.len())),
        "{err}"
    );
    assert!(total >= 180, "the provider catalog is built in: {total}");
    for (fam, id) in [
        ("ai", "groq-api-key"),
        ("payment", "stripe-secret-key"),
        ("payment", "paystack-secret-key"),
        ("messaging", "slack-bot-token"),
        ("messaging", "brevo-api-key"),
        ("observability", "newrelic-user-api-key"),
        ("saas", "notion-integration-token"),
    ] {
        assert!(ids(&g[fam].1).contains(&id), "{id} under {fam}:\n{out}");
    }
}

#[test]
fn list_category_filter_is_case_insensitive_and_counts_what_it_shows() {
    let (_, all, err_all) = list(&[]);
    let total = groups(&all).values().map(|(n, _)| n).sum::<usize>();
    let payment = groups(&all)["payment"].1.clone();
    assert!(err_all.contains(&format!("{total} rules")), "{err_all}");

    let (code, out, err) = list(&["--category", "PAYMENT"]);
    assert_eq!(code, 0, "{err}");
    let g = groups(&out);
    assert_eq!(g.keys().collect::<Vec<_>>(), ["payment"], "{out}");
    assert_eq!(g["payment"].1, payment);
    assert!(
        err.contains(&format!("{} of {total} rules, in 1 family", payment.len())),
        "{err}"
    );
}

#[test]
fn list_search_matches_id_or_description_case_insensitively() {
    // "WEBHOOK" is in ids (slack-webhook-url) and only in descriptions elsewhere (the Stripe
    // signing secret is described as a webhook secret).
    let (code, out, err) = list(&["--search", "WEBHOOK"]);
    assert_eq!(code, 0, "{err}");
    let g = groups(&out);
    let mut found = Vec::new();
    for (_, lines) in g.values() {
        for l in lines {
            assert!(l.to_ascii_lowercase().contains("webhook"), "{l}");
        }
        found.extend(ids(lines).into_iter().map(str::to_string));
    }
    for id in [
        "slack-webhook-url",
        "discord-webhook-url",
        "microsoft-teams-webhook-url",
        "stripe-webhook-secret",
        "adyen-hmac-key",
    ] {
        assert!(found.iter().any(|f| f == id), "{id} in:\n{out}");
    }
    assert!(!found.iter().any(|f| f == "groq-api-key"), "{out}");

    // Both filters: the intersection.
    let (code, out, err) = list(&["--category", "messaging", "--search", "webhook"]);
    assert_eq!(code, 0, "{err}");
    let g = groups(&out);
    assert_eq!(g.keys().collect::<Vec<_>>(), ["messaging"], "{out}");
    assert!(!ids(&g["messaging"].1).contains(&"stripe-webhook-secret"));

    // Nothing matches: an empty listing and a zero count, not an error.
    let (code, out, err) = list(&["--search", "no-such-provider-anywhere"]);
    assert_eq!((code, out.trim()), (0, ""), "{err}");
    assert!(err.contains("0 of "), "{err}");
}

#[test]
fn list_unknown_category_is_an_input_error_naming_the_families() {
    let fx = Fixture::new();
    assert_input_error(
        fx.path(),
        &["rules", "list", "--category", "paymnet"],
        "no rule family 'paymnet'",
    );
    let (code, _, err) = list(&["--category", "paymnet"]);
    assert_eq!(code, 2);
    for fam in ["ai", "messaging", "observability", "payment", "saas"] {
        assert!(err.contains(fam), "{err}");
    }
}

#[test]
fn list_shows_a_rule_file_family_next_to_the_built_in_ones() {
    let fx = Fixture::new();
    let mut rng = seeded_rng();
    let value = hex_from(&mut rng, 16);
    fx.write(
        "extra.toml",
        format!(
            "[[rule]]\nid = \"acme-token\"\ndescription = \"ACME deploy token\"\ncategory = \"acme\"\nkeywords = [\"acme_\"]\nregex = '''acme_(?P<secret>[a-f0-9]{{32}})'''\nexamples = [\"acme_{value}\"]\nnegatives = [\"acme_short\"]\n"
        ),
    );
    let out = leaksweep(fx.path())
        .args([
            "rules",
            "list",
            "--rules",
            "extra.toml",
            "--category",
            "acme",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let g = groups(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(ids(&g["acme"].1), ["acme-token"]);
}

/// Prefixed catalog tokens in one file: each found once, by its own rule, on its own line. Two
/// providers share Stripe's `sk_live_`/`sk_test_` prefix; their rules take priority, so the same
/// value is not reported twice.
#[test]
fn catalog_tokens_are_found_by_their_own_rule_and_line() {
    const AN: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const UP: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = seeded_rng();
    let lines: Vec<(&str, String)> = vec![
        ("groq-api-key", format!("gsk_{}", draw(&mut rng, AN, 52))),
        ("xai-api-key", format!("xai-{}", draw(&mut rng, AN, 80))),
        (
            "langsmith-api-key",
            format!(
                "lsv2_pt_{}_{}",
                hex_from(&mut rng, 16),
                hex_from(&mut rng, 5)
            ),
        ),
        (
            "brevo-api-key",
            format!(
                "xkeysib-{}-{}",
                hex_from(&mut rng, 32),
                draw(&mut rng, AN, 16)
            ),
        ),
        (
            "newrelic-user-api-key",
            format!("NRAK-{}", draw(&mut rng, UP, 27)),
        ),
        (
            "notion-integration-token",
            format!("ntn_{}", draw(&mut rng, AN, 46)),
        ),
        (
            "paystack-secret-key",
            format!("sk_live_{}", hex_from(&mut rng, 20)),
        ),
        (
            "stripe-secret-key",
            format!("sk_live_51{}", draw(&mut rng, AN, 97)),
        ),
    ];
    let mut text = String::from("# service credentials\n");
    for (i, (_, v)) in lines.iter().enumerate() {
        text.push_str(&format!("KEY_{i}={v}\n"));
    }
    let mut rb = draw(&mut rng, AN, 42);
    rb.insert_str(0, "sk_test_");
    text.push_str(&format!("CLERK_SECRET_KEY={rb}\n"));

    let fx = Fixture::new();
    fx.write("svc.env", &text);
    let (code, report, err) = run_json(leaksweep(fx.path()).args([
        "scan",
        "--no-ignore",
        "--format",
        "json",
        "--show-secrets",
        ".",
    ]));
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["secret"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut want: Vec<(String, u64, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, (id, v))| (id.to_string(), i as u64 + 2, v.clone()))
        .collect();
    want.push(("clerk-secret-key".into(), lines.len() as u64 + 2, rb));
    assert_eq!(got, want, "{report}");
}
