//! The history walk on several threads (`leaksweep git`, a history of 512 commits or more, more
//! than one thread) gives the report of the one-thread walk: the same findings at the same first
//! commit and path, the same skips (each submodule once), the same copies. Built with
//! `git fast-import` so a history of a thousand commits takes a moment.

use crate::common::{git_ok, git_stdin, leaksweep, password, password_from, seeded_rng};
use crate::common::{Fixture, Repo};
use rand::Rng;
use serde_json::Value;

const COMMITS: usize = 1200;

/// Appends a `fast-import` data block holding `d`.
fn data(s: &mut Vec<u8>, d: &[u8]) {
    s.extend_from_slice(format!("data {}\n", d.len()).as_bytes());
    s.extend_from_slice(d);
    s.push(b'\n');
}

/// `fast-import` input: commit `i` (1-based) changes `src/f{i % 40}.txt`; at chosen commits a
/// secret file is added, copied, deleted, re-added; a submodule appears; a directory is copied;
/// a side branch and a merge; a tag on a tree.
fn history(secrets: &[String; 4]) -> Vec<u8> {
    let mut s: Vec<u8> = Vec::new();
    let env = |k: usize| format!("APP=demo\nDB_PASSWORD={}\n", secrets[k]);
    for i in 1..=COMMITS {
        s.extend_from_slice(format!("commit refs/heads/main\nmark :{i}\n").as_bytes());
        let who = format!("T <t@example.invalid> {} +0000\n", 1_600_000_000 + i * 60);
        s.extend_from_slice(format!("committer {who}").as_bytes());
        let msg = match i {
            1000 => format!("rotate\n\nold token: DB_PASSWORD={}\n", secrets[3]),
            _ => format!("change {i}\n"),
        };
        data(&mut s, msg.as_bytes());
        if i > 1 {
            s.extend_from_slice(format!("from :{}\n", i - 1).as_bytes());
        }
        if i == 1100 {
            s.extend_from_slice(b"merge :2000\n");
        }
        let file = |s: &mut Vec<u8>, path: &str, body: &str| {
            s.extend_from_slice(format!("M 100644 inline {path}\n").as_bytes());
            data(s, body.as_bytes());
        };
        match i {
            300 => file(&mut s, "conf/.env", &env(0)),
            700 => file(&mut s, "deploy/prod/.env", &env(1)),
            // The same blob at a second path, much later: still one secret, first at commit 700.
            900 => file(&mut s, "backup/.env", &env(1)),
            950 => s.extend_from_slice(b"D conf/.env\n"),
            1150 => file(&mut s, "conf/.env", &env(0)),
            _ => {}
        }
        if i == 800 {
            let sub = "0123456789abcdef0123456789abcdef01234567";
            s.extend_from_slice(format!("M 160000 {sub} vendor/lib\n").as_bytes());
        }
        if i == 1050 {
            // A directory copied under a new name: its tree is already known.
            s.extend_from_slice(b"C deploy deploy-copy\n");
        }
        file(
            &mut s,
            &format!("src/f{}.txt", i % 40),
            &format!("line {i}\n").repeat(8),
        );
        if i == 600 {
            // A side branch forked here, merged at 1100: its secret is first seen on it.
            s.extend_from_slice(b"commit refs/heads/side\nmark :2000\n");
            s.extend_from_slice(b"committer T <t@example.invalid> 1600036030 +0000\n");
            data(&mut s, b"side work\n");
            s.extend_from_slice(b"from :600\nM 100644 inline side/.env\n");
            data(&mut s, env(2).as_bytes());
        }
    }
    s
}

/// The report of `leaksweep git -j THREADS` with `--all-locations`, less its timing.
fn report(repo: &Repo, threads: &str) -> Value {
    report_with(repo, threads, "moves")
}

/// [`report`], with `LEAKSWEEP_OTHER_PATHS` set to `other_paths`: `trees` finds the other paths
/// of a blob by a pass over every commit tree, anything else from what the walk recorded.
fn report_with(repo: &Repo, threads: &str, other_paths: &str) -> Value {
    let out = leaksweep(repo.path())
        .env("LEAKSWEEP_OTHER_PATHS", other_paths)
        .args([
            "git",
            "-j",
            threads,
            "--format",
            "json",
            "--all-locations",
            "-v",
        ])
        .output()
        .expect("run leaksweep");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("json report");
    v["summary"]["duration_ms"] = Value::Null;
    v
}

/// Repository `name` of `fx`, made by `git fast-import` from `input`, with `main` checked out.
fn imported(fx: &Fixture, name: &str, input: Vec<u8>) -> Repo {
    let repo = Repo::init(fx, name);
    git_stdin(repo.path(), &["fast-import", "--quiet"], input);
    git_ok(repo.path(), &["checkout", "-q", "main"]);
    repo
}

/// The one-thread report, after checking that 2, 3 and 8 threads give the same.
fn same_on_every_thread_count(repo: &Repo) -> Value {
    let one = report(repo, "1");
    for threads in ["2", "3", "8"] {
        assert_eq!(report(repo, threads), one, "-j {threads} differs from -j 1");
    }
    one
}

/// The id of commit `n` (1-based) of `main`'s [`COMMITS`].
fn main_commit(repo: &Repo, n: usize) -> String {
    let id = git_ok(
        repo.path(),
        &["rev-parse", &format!("main~{}", COMMITS - n)],
    );
    id.trim().to_string()
}

#[test]
fn parallel_walk_reports_what_one_thread_reports() {
    let fx = Fixture::new();
    let secrets = [password(24), password(24), password(24), password(24)];
    let repo = imported(&fx, "long", history(&secrets));
    // A tag on the tree of commit 400: a tree the walk reaches again, after the commits.
    let tree = git_ok(repo.path(), &["rev-parse", "main~800^{tree}"]);
    git_ok(repo.path(), &["tag", "tree-tag", tree.trim()]);

    let one = same_on_every_thread_count(&repo);

    // And the one-thread report is the right one: each secret at its first commit and path.
    let commit = |n: usize| main_commit(&repo, n);
    let side = git_ok(repo.path(), &["rev-parse", "side"]);
    let found: Vec<(String, String, String)> = one["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["git"]["commit"].as_str().unwrap_or("").to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["rule_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (c, path) in [
        (commit(300), "conf/.env"),
        (commit(700), "deploy/prod/.env"),
        (side.trim().to_string(), "side/.env"),
        (commit(1000), "<commit message>"),
    ] {
        assert!(
            found
                .iter()
                .any(|(fc, fp, _)| *fc == c.trim() && fp == path),
            "no finding at {path} in {}: {found:?}",
            c.trim()
        );
    }
    assert_eq!(found.len(), 4, "one finding per secret: {found:?}");
    // The submodule is skipped once, named by the commit that added it.
    let skipped = one["skipped"].as_array().expect("skipped");
    let subs: Vec<&Value> = skipped
        .iter()
        .filter(|s| {
            s["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(":vendor/lib"))
        })
        .collect();
    assert_eq!(subs.len(), 1, "{skipped:?}");
    let short = &commit(800)[..7];
    assert_eq!(
        subs[0]["path"],
        format!("{short}:vendor/lib"),
        "{skipped:?}"
    );
}

/// Starts commit `i` (1-based) of `main` in `fast-import` input, on commit `i - 1`: its mark,
/// committer (one minute after the last) and message.
fn main_commit_header(s: &mut Vec<u8>, i: usize) {
    s.extend_from_slice(format!("commit refs/heads/main\nmark :{i}\n").as_bytes());
    let who = format!("T <t@example.invalid> {} +0000\n", 1_600_000_000 + i * 60);
    s.extend_from_slice(format!("committer {who}").as_bytes());
    data(s, format!("change {i}\n").as_bytes());
    if i > 1 {
        s.extend_from_slice(format!("from :{}\n", i - 1).as_bytes());
    }
}

/// `fast-import` input: a history of [`COMMITS`] commits where a secret first lies in an
/// allowlisted `docs/` file and is copied out of it twice (commits 650 and 1100), and another
/// lies in an allowlisted directory that is copied whole (commit 1000: one tree at two paths).
fn copied_out_of_docs(secrets: &[String; 2]) -> Vec<u8> {
    let mut s: Vec<u8> = Vec::new();
    let file = |s: &mut Vec<u8>, path: &str, body: &str| {
        s.extend_from_slice(format!("M 100644 inline {path}\n").as_bytes());
        data(s, body.as_bytes());
    };
    for i in 1..=COMMITS {
        main_commit_header(&mut s, i);
        match i {
            1 => file(
                &mut s,
                ".leaksweep.toml",
                "[allowlist]\npaths = [\"docs/**\"]\n",
            ),
            100 => file(
                &mut s,
                "docs/example.env",
                &format!("APP=demo\nDB_PASSWORD={}\n", secrets[0]),
            ),
            200 => file(
                &mut s,
                "docs/env/sample.env",
                &format!("MODE=x\nDB_PASSWORD={}\n", secrets[1]),
            ),
            650 => s.extend_from_slice(b"C docs/example.env config/prod.env\n"),
            1000 => s.extend_from_slice(b"C docs/env config/env\n"),
            1100 => s.extend_from_slice(b"C docs/example.env config/again.env\n"),
            _ => {}
        }
        file(
            &mut s,
            &format!("src/f{}.txt", i % 40),
            &format!("line {i}\n").repeat(8),
        );
    }
    s
}

/// A blob first seen at an allowlisted path is judged again at each other path holding it, the
/// first commit of each found by one pass over the commit trees; on several threads that pass
/// is cut into slices, and a thread starting a later slice finds the copies again at its first
/// commit: the report must still name the commit that made each copy, as one thread does.
#[test]
fn copies_out_of_an_allowlisted_path_are_found_at_their_first_commit_on_every_thread_count() {
    let fx = Fixture::new();
    let secrets = [password(24), password(24)];
    let repo = imported(&fx, "copies", copied_out_of_docs(&secrets));
    let one = same_on_every_thread_count(&repo);
    let commit = |n: usize| main_commit(&repo, n);
    // (path, commit) of each finding, and of the first commit at each path it lists.
    type Place = (String, String);
    let mut found: Vec<(String, String, Vec<Place>)> = one["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            // Every commit holding it is listed, oldest first: the first at each path.
            let mut listed: Vec<Place> = Vec::new();
            for l in f["git"]["locations"].as_array().into_iter().flatten() {
                let path = l["path"].as_str().unwrap_or("").to_string();
                if !listed.iter().any(|(p, _)| *p == path) {
                    listed.push((path, l["commit"].as_str().unwrap_or("").to_string()));
                }
            }
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["git"]["commit"].as_str().unwrap_or("").to_string(),
                listed,
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "config/env/sample.env".to_string(),
                commit(1000),
                vec![("config/env/sample.env".to_string(), commit(1000))]
            ),
            (
                "config/prod.env".to_string(),
                commit(650),
                vec![
                    ("config/prod.env".to_string(), commit(650)),
                    ("config/again.env".to_string(), commit(1100)),
                ]
            ),
        ],
        "{one:#}"
    );
}

/// `fast-import` input of a random history (from `rng`): secrets in allowlisted `docs/` files,
/// and on most commits one of: a docs file or directory copied or renamed out of `docs/`, a
/// file deleted, a file put back as it once was, all of `docs/` copied to `do/` (whose entry
/// sorts right before `docs`: the same tree id twice in a row in the root), a side branch that
/// copies a directory, merged back later. Returns the input and the copies out of `docs/` made.
fn shuffled_history(rng: &mut impl Rng) -> (Vec<u8>, usize) {
    let mut s: Vec<u8> = Vec::new();
    let file = |s: &mut Vec<u8>, path: &str, body: &str| {
        s.extend_from_slice(format!("M 100644 inline {path}\n").as_bytes());
        data(s, body.as_bytes());
    };
    let mut bodies: Vec<String> = Vec::new();
    // The files of `main` (copies of whole directories aside).
    let mut present: Vec<String> = Vec::new();
    let mut copies = 0;
    let dirs = ["docs/a", "docs/b", "docs/a/deep"];
    let outside = ["config", "app/etc", "a", "deploy/x"];
    let mut side = 0;
    for i in 1..=COMMITS {
        main_commit_header(&mut s, i);
        if side > 0 && rng.gen_bool(0.05) {
            s.extend_from_slice(format!("merge :{side}\n").as_bytes());
            side = 0;
        }
        if i == 1 {
            file(
                &mut s,
                ".leaksweep.toml",
                "[allowlist]\npaths = [\"docs/**\"]\n",
            );
        }
        let dir = dirs[rng.gen_range(0..dirs.len())];
        let dir_exists = present.iter().any(|p| p.starts_with(&format!("{dir}/")));
        let out = outside[rng.gen_range(0..outside.len())];
        let op = rng.gen_range(0..12);
        match op {
            0..=2 => {
                let body = format!("MODE={i}\nDB_PASSWORD={}\n", password_from(rng, 20));
                let path = format!("{dir}/s{}.env", rng.gen_range(0..6));
                file(&mut s, &path, &body);
                bodies.push(body);
                if !present.contains(&path) {
                    present.push(path);
                }
            }
            3 | 4 if !present.is_empty() => {
                let at = rng.gen_range(0..present.len());
                let to = format!("{out}/c{}.env", rng.gen_range(0..4));
                let from = match op {
                    3 => present[at].clone(),
                    _ => present.swap_remove(at),
                };
                let verb = if op == 3 { "C" } else { "R" };
                s.extend_from_slice(format!("{verb} {from} {to}\n").as_bytes());
                copies += usize::from(from.starts_with("docs/"));
                if !present.contains(&to) {
                    present.push(to);
                }
            }
            5 if dir_exists => {
                let to = format!("{out}/d{}", rng.gen_range(0..3));
                s.extend_from_slice(format!("C {dir} {to}\n").as_bytes());
                copies += 1;
            }
            6 if dir_exists => {
                s.extend_from_slice(b"C docs do\n");
                copies += 1;
            }
            7 if !present.is_empty() => {
                let at = rng.gen_range(0..present.len());
                s.extend_from_slice(format!("D {}\n", present.swap_remove(at)).as_bytes());
            }
            8 if !bodies.is_empty() => {
                let body = &bodies[rng.gen_range(0..bodies.len())];
                let path = format!("{out}/r{}.env", rng.gen_range(0..3));
                file(&mut s, &path, body);
                if !present.contains(&path) {
                    present.push(path);
                }
            }
            9 if side == 0 && dir_exists && i < COMMITS - 10 => {
                // A side branch off the previous commit; `main` goes on from the same one.
                side = 2000 + i;
                let who = format!("S <s@example.invalid> {} +0000\n", 1_600_000_000 + i * 60);
                let mut b = format!("commit refs/heads/side{i}\nmark :{side}\ncommitter {who}");
                b.push_str(&format!(
                    "data 5\nside\nfrom :{}\nC {dir} side/{i}\n\n",
                    i - 1
                ));
                let at = s.len() - s.windows(7).rev().position(|w| w == b"commit ").unwrap() - 7;
                s.splice(at..at, b.into_bytes());
                copies += 1;
            }
            _ => {}
        }
        file(
            &mut s,
            &format!("src/f{}.txt", i % 40),
            &format!("line {i}\n").repeat(8),
        );
    }
    (s, copies)
}

/// On random histories of copies, renames, deletions, restored files and merges out of an
/// allowlisted `docs/`, the other paths of each blob found from what the walk recorded are the
/// ones a pass over every commit tree finds, on one thread and on three: the same report.
#[test]
fn other_paths_from_the_walk_are_those_of_a_pass_over_every_tree() {
    let fx = Fixture::new();
    let mut rng = seeded_rng();
    for round in 0..2 {
        let (input, copies) = shuffled_history(&mut rng);
        let repo = imported(&fx, &format!("shuffled{round}"), input);
        let reference = report_with(&repo, "1", "trees");
        let found = reference["findings"].as_array().map_or(0, Vec::len);
        assert!(
            copies > 20 && found > 10,
            "{copies} copies, {found} findings: too few to compare"
        );
        for threads in ["1", "3"] {
            assert_eq!(
                report_with(&repo, threads, "moves"),
                reference,
                "round {round}, -j {threads}: other paths differ from the pass over every tree"
            );
        }
    }
}
