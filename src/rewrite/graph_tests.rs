use super::*;
use crate::rewrite::{parse_secrets_file, RemoveSet, Replacer};

const SECRET: &str = "zq8Wv3LmT0pX7rKc2NbYh5";

fn sig() -> git2::Signature<'static> {
    git2::Signature::new("T", "t@example.invalid", &git2::Time::new(1_700_000_000, 0)).unwrap()
}

/// A new repository (see [`fill`]).
fn repo() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    fill(&repo);
    (dir, repo)
}

/// Two commits: `a.txt` and `dir/b.txt` (holding the secret) first, then a change to
/// `a.txt`; a tag on the second.
fn fill(repo: &Repository) {
    let blob = |data: &[u8]| repo.blob(data).unwrap();
    let mut sub = repo.treebuilder(None).unwrap();
    sub.insert(
        "b.txt",
        blob(format!("key={SECRET}\n").as_bytes()),
        0o100644,
    )
    .unwrap();
    let sub = sub.write().unwrap();
    let tree = |a: &[u8]| {
        let mut t = repo.treebuilder(None).unwrap();
        t.insert("a.txt", blob(a), 0o100644).unwrap();
        t.insert("dir", sub, 0o040000).unwrap();
        t.write().unwrap()
    };
    let t1 = repo.find_tree(tree(b"one\n")).unwrap();
    let c1 = repo
        .commit(Some("refs/heads/main"), &sig(), &sig(), "first", &t1, &[])
        .unwrap();
    let t2 = repo.find_tree(tree(b"two\n")).unwrap();
    let p = repo.find_commit(c1).unwrap();
    let c2 = repo
        .commit(
            Some("refs/heads/main"),
            &sig(),
            &sig(),
            "second",
            &t2,
            &[&p],
        )
        .unwrap();
    let obj = repo.find_object(c2, None).unwrap();
    repo.tag("v1", &obj, &sig(), "release", false).unwrap();
}

fn build(repo: &Repository, path: &Path, remove: &[String]) -> Graph {
    let targets = parse_secrets_file(format!("{SECRET}\n").as_bytes(), "REMOVED").unwrap();
    let replacer = Replacer::new(&targets).unwrap();
    let remove = RemoveSet::new(remove).unwrap();
    let opts = BuildOptions {
        replacer: &replacer,
        remove: &remove,
        write_blobs: false,
        threads: Some(2),
    };
    Graph::build(repo, path, &opts).unwrap()
}

#[test]
fn walks_commits_trees_blobs_and_refs() {
    let (dir, repo) = repo();
    let g = build(&repo, dir.path(), &[]);
    assert_eq!(g.commits.len(), 2);
    assert_eq!(g.commits[0].parents, Vec::<u32>::new());
    assert_eq!(g.commits[1].parents, vec![0]);
    // a.txt twice, dir/b.txt once (shared by both trees).
    assert_eq!(g.blobs_scanned, 3);
    assert_eq!(g.blobs_per_bit[0], 1);
    assert_eq!(g.new_blob.len(), 1);
    // The secret sits below both roots; both commits change.
    for c in &g.commits {
        assert_eq!(g.mask[c.tree as usize] & 1, 1);
        assert_eq!(c.msg_mask, 0);
    }
    assert_eq!(g.rewritten_commits(), vec![true, true]);
    assert_eq!(g.notes_only(), vec![false, false]);
    let names: Vec<&str> = g.refs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["refs/heads/main", "refs/tags/v1"]);
    assert_eq!(g.tags.len(), 1);
    assert!(matches!(g.refs[1].target, Obj::Tag(0)));
    assert!(g.obj_rewritten(g.refs[1].target, &g.rewritten_commits()));
    assert!(g.removed_blobs.is_empty());
}

#[test]
fn removed_paths_are_marked() {
    let (dir, repo) = repo();
    let g = build(&repo, dir.path(), &["b.txt".to_string()]);
    assert_eq!(g.removed_blobs.len(), 1);
    // Keyed by (tree, path): the dir subtree is one node per path, and b.txt is gone.
    assert_eq!(g.blobs_scanned, 2);
    for c in &g.commits {
        assert_ne!(g.mask[c.tree as usize] & REMOVED_BIT, 0);
    }
}

#[test]
fn refs_are_listed_by_raw_name_without_backups() {
    let (_dir, repo) = repo();
    let head = repo.refname_to_id("refs/heads/main").unwrap();
    repo.reference("refs/leaksweep/old/main", head, false, "backup")
        .unwrap();
    let refs = list_refs(&repo).unwrap();
    let names: Vec<&[u8]> = refs.iter().map(|(n, _)| n.as_slice()).collect();
    assert_eq!(names, [&b"refs/heads/main"[..], b"refs/tags/v1"]);
    repo.set_head_detached(head).unwrap();
    let refs = list_refs(&repo).unwrap();
    assert_eq!(refs.last(), Some(&(b"HEAD".to_vec(), head)));
}

#[test]
fn malformed_trees_are_errors() {
    assert!(tree_entries(b"100644 a\0short").is_err());
    assert!(tree_entries(b"100644").is_err());
    let mut ok = b"100644 a\0".to_vec();
    ok.extend_from_slice(&[7u8; 20]);
    let e = tree_entries(&ok).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].2, Oid::from_bytes(&[7u8; 20]).unwrap());
}
