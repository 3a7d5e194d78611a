//! `git --shard I/N` and `merge`: the merged shard reports are the unsharded report.

use crate::common::*;
use rand::Rng;
use std::path::Path;

/// A history where sharding matters: secrets repeated across paths, file versions and commits
/// (so one secret's blobs fall in different shards), a signing key in one file and the token it
/// signed in another, secrets in a commit message and an annotated tag's message, and items
/// the scan skips (binary, too large).
fn history(rng: &mut impl Rng, tokens: bool) -> Repo {
    let repo = Repo::new();
    let key = b64url_from(rng, 43);
    let shared = password_from(rng, 20);
    repo.write("binary.bin", [0u8, 1, 2, 0, 3, 255, 0, 7]);
    repo.write("big.txt", "x".repeat(3000));
    for i in 0..24 {
        let aws = format!("AKIA{}", draw(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
        repo.write(
            &format!("svc{}/.env", i % 5),
            format!(
                "DB_PASSWORD={shared}\nAWS_ACCESS_KEY_ID={aws}\nAPI_TOKEN=ghx{}\nVERSION={i}\n",
                b64url_from(rng, 30)
            ),
        );
        if i % 4 == 0 {
            repo.write(
                &format!("keys/k{i}.env"),
                format!("JWT_SECRET={key}\nN={i}\n"),
            );
        }
        if tokens && i % 6 == 3 {
            let token = hs256(
                key.as_bytes(),
                &format!(r#"{{"sub":"user{i}","iat":1700000000}}"#),
            );
            repo.write(
                &format!("fixtures/session{i}.json"),
                format!("{{\"token\": \"{token}\"}}\n"),
            );
        }
        let msg = if i == 7 {
            format!(
                "rotate db\n\nold password was DB_PASSWORD={}",
                password_from(rng, 18)
            )
        } else {
            format!("change {i}")
        };
        repo.commit(&msg);
        if i == 10 {
            repo.tag_annotated(
                "v1",
                &format!(
                    "release\n\nSLACK_WEBHOOK=https://hooks.slack.com/services/T{}/B{}/{}",
                    draw(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
                    draw(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
                    draw(
                        rng,
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                        24
                    )
                ),
            );
        }
    }
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~5"]);
    repo.write("svc9/.env", format!("DB_PASSWORD={shared}\n"));
    repo.commit("side branch copies the password");
    repo.git(&["checkout", "-q", "main"]);
    repo
}

/// The report with its timing left out (the one field a merge cannot reproduce).
fn normalized(mut report: serde_json::Value) -> serde_json::Value {
    if let Some(s) = report.get_mut("summary").and_then(|s| s.as_object_mut()) {
        s.remove("duration_ms");
    }
    report
}

/// Equal reports, or a failure naming the first part that differs (not two whole reports).
fn assert_same(got: &serde_json::Value, want: &serde_json::Value, what: &str) {
    if got == want {
        return;
    }
    for key in ["summary", "skipped", "errors"] {
        assert_eq!(got[key], want[key], "{what}: {key}");
    }
    let (g, w) = (findings(got), findings(want));
    for (a, b) in g.iter().zip(w.iter()) {
        assert_eq!(a, b, "{what}: first differing finding");
    }
    assert_eq!(g.len(), w.len(), "{what}: number of findings");
    assert_eq!(got, want, "{what}");
}

fn full(dir: &Path, flags: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["git", ".", "--format", "json", "--max-file-size", "2000"];
    args.extend_from_slice(flags);
    let (code, json, _) = run_json(leaksweep(dir).args(&args));
    (code, normalized(json))
}

/// Runs every shard of `n`, then the merge; returns the merge's exit code and report.
fn sharded(dir: &Path, n: u32, flags: &[&str], merge_flags: &[&str]) -> (i32, serde_json::Value) {
    let mut reports = Vec::new();
    for i in 0..n {
        let out = dir.join(format!("../shard-{i}-of-{n}.jsonl"));
        let shard = format!("{i}/{n}");
        let mut args = vec![
            "git",
            ".",
            "--shard",
            &shard,
            "--max-file-size",
            "2000",
            "--quiet",
        ];
        args.extend_from_slice(flags);
        let out_s = out.to_string_lossy().into_owned();
        args.extend_from_slice(&["--output", &out_s]);
        run_expect(leaksweep(dir).args(&args), 0);
        reports.push(out_s);
    }
    // Any order: the merge sorts by shard index.
    reports.reverse();
    let mut args = vec!["merge".to_string()];
    args.extend(reports);
    args.extend(["--format", "json"].map(String::from));
    args.extend(merge_flags.iter().map(|s| s.to_string()));
    let (code, json, _) = run_json(leaksweep(dir).args(&args));
    (code, normalized(json))
}

#[test]
fn merged_shards_are_the_unsharded_report_for_1_2_3_and_7_shards() {
    let mut rng = seeded_rng();
    let repo = history(&mut rng, false);
    let dir = repo.path();
    for flags in [&[][..], &["--all-locations"][..]] {
        let (code, want) = full(dir, flags);
        assert_eq!(code, 1, "the history has findings");
        let found = findings(&want);
        assert!(
            found.len() >= 20,
            "a history worth sharding: {} findings",
            found.len()
        );
        // The equality covers exposure: every finding lists its refs, and they differ.
        let exposures: std::collections::BTreeSet<String> = found
            .iter()
            .map(|f| {
                assert!(f["git"]["refs"].is_array(), "refs of {f}");
                f["git"]["refs"].to_string()
            })
            .collect();
        assert!(exposures.len() >= 3, "refs that differ: {exposures:?}");
        for n in [1, 2, 3, 7] {
            let (mcode, got) = sharded(dir, n, flags, &[]);
            assert_eq!(mcode, code, "exit status, {n} shards, {flags:?}");
            assert_same(&got, &want, &format!("{n} shards, {flags:?}"));
        }
    }
}

#[test]
fn shards_split_the_work_and_each_walks_the_whole_graph() {
    let mut rng = seeded_rng();
    let repo = history(&mut rng, true);
    let dir = repo.path();
    let (_, want) = full(dir, &[]);
    let mut blobs = 0;
    let mut with_findings = 0;
    for i in 0..3 {
        let shard = format!("{i}/3");
        let (out, _) = run_expect(
            leaksweep(dir).args(["git", ".", "--shard", &shard, "--max-file-size", "2000"]),
            0,
        );
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON Lines"))
            .collect();
        let header = &lines[0];
        assert_eq!(header["type"], "shard");
        assert_eq!(header["shard"], shard.as_str());
        assert_eq!(
            header["commits"], want["summary"]["commits"],
            "every shard walks all commits"
        );
        blobs += header["blobs"].as_u64().unwrap();
        if lines.iter().any(|l| l["type"] == "finding") {
            with_findings += 1;
        }
        assert!(
            lines.iter().all(|l| l.get("secret").is_none()),
            "no raw secret in a shard report without --show-secrets"
        );
    }
    assert_eq!(
        blobs,
        want["summary"]["blobs"].as_u64().unwrap(),
        "the shards' blobs add up"
    );
    assert!(with_findings >= 2, "findings fall in several shards");
}

#[test]
fn tokens_and_keys_in_different_shards_link_with_show_secrets() {
    let mut rng = seeded_rng();
    let repo = history(&mut rng, true);
    let dir = repo.path();
    let (code, want) = full(dir, &["--show-secrets"]);
    assert_eq!(code, 1);
    let linked = findings(&want)
        .iter()
        .filter(|f| f["notes"].get("link").is_some())
        .count();
    assert!(
        linked >= 2,
        "the key and its tokens are linked in the unsharded report"
    );
    for n in [2, 7] {
        let (mcode, got) = sharded(dir, n, &["--show-secrets"], &["--show-secrets"]);
        assert_eq!(mcode, code);
        assert_same(&got, &want, &format!("{n} shards with --show-secrets"));
    }
    // Without the values, a shard verifies only the pairs it holds both halves of: the same
    // findings (ids, first commits, paths), with links only where token and key shared a shard.
    let (_, want) = full(dir, &[]);
    let key = |r: &serde_json::Value| {
        let mut v: Vec<(String, String, String)> = findings(r)
            .iter()
            .map(|f| {
                let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
                (s(&f["secret_id"]), s(&f["git"]["commit"]), s(&f["path"]))
            })
            .collect();
        v.sort();
        v
    };
    for n in [1, 7] {
        let (_, got) = sharded(dir, n, &[], &[]);
        assert_eq!(key(&got), key(&want), "{n} shards without --show-secrets");
        if n == 1 {
            assert_same(&got, &want, "one shard holds every pair");
        }
    }
}

#[test]
fn merge_refuses_an_incomplete_or_mixed_set_of_shards() {
    let mut rng = seeded_rng();
    let repo = history(&mut rng, false);
    let dir = repo.path();
    let shard = |i: u32, n: u32, name: &str| {
        let s = format!("{i}/{n}");
        let out = repo.beside(name).to_string_lossy().into_owned();
        run_expect(
            leaksweep(dir).args(["git", ".", "--shard", &s, "--output", &out, "--quiet"]),
            0,
        );
        out
    };
    let a = shard(0, 3, "a.jsonl");
    let b = shard(1, 3, "b.jsonl");
    let (_, err) = run_expect(leaksweep(dir).args(["merge", &a, &b]), 2);
    assert!(err.contains("missing shard report(s): 2/3"), "{err}");
    let (_, err) = run_expect(leaksweep(dir).args(["merge", &a, &b, &a]), 2);
    assert!(err.contains("shard 0/3 is given twice"), "{err}");
    let other = shard(1, 2, "other.jsonl");
    let (_, err) = run_expect(leaksweep(dir).args(["merge", &a, &other]), 2);
    assert!(err.contains("not of one sharded scan"), "{err}");
    // The repository moved on between shards.
    repo.write("late.txt", "late\n");
    repo.commit("after shard 1");
    let c = shard(2, 3, "c.jsonl");
    let (_, err) = run_expect(leaksweep(dir).args(["merge", &a, &b, &c]), 2);
    assert!(err.contains("walked a different history"), "{err}");
    // Not a shard report at all.
    let plain = repo.beside("plain.json");
    std::fs::write(&plain, "{\"version\":1}\n").unwrap();
    let (_, err) = run_expect(leaksweep(dir).args(["merge", &plain.to_string_lossy()]), 2);
    assert!(
        err.contains("plain.json:1: not a shard report line"),
        "{err}"
    );
}

#[test]
fn bad_shard_arguments_are_usage_errors() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit("a");
    for bad in ["3/3", "1/0", "x/2", "2"] {
        let (_, err) = run_expect(leaksweep(repo.path()).args(["git", ".", "--shard", bad]), 2);
        assert!(err.contains("a shard is INDEX/COUNT"), "{bad}: {err}");
    }
    let (_, err) = run_expect(
        leaksweep(repo.path()).args(["git", ".", "--shard", "0/2", "--format", "sarif"]),
        2,
    );
    assert!(err.contains("--shard writes a shard report"), "{err}");
}
