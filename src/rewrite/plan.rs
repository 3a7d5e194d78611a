//! `rewrite plan`: what a rewrite will change and cost, the equivalent filter-repo and BFG
//! commands, and the steps after it. Built from the [`Graph`] alone; never holds raw secrets
//! (the replacements file is written separately, 0600, by the command).

use super::graph::{Graph, Obj};
use super::{target_bit, RemoveSet, Target};
use git2::{Oid, Repository};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// One secret to replace, redacted.
#[derive(Debug, Serialize)]
pub struct PlanSecret {
    pub secret_id: String,
    pub rule_id: String,
    pub redacted: String,
    pub replacement: String,
    /// Unique blobs holding it.
    pub blobs: u64,
    /// Commits whose message (or headers) hold it.
    pub commit_messages: u64,
    pub tag_messages: u64,
    /// First commit (oldest, topologically) holding it in its tree or message.
    pub first_commit: Option<String>,
}

/// One `--remove-path` glob and every history path it matches, so that a glob that takes more
/// than meant (`.env.*` also takes `.env.example`) shows before the rewrite.
#[derive(Debug, Serialize)]
pub struct RemoveMatch {
    pub glob: String,
    /// Sorted by path; empty when the glob matches nothing in history.
    pub paths: Vec<MatchedPath>,
}

/// A history path a glob matches (a file, or a directory removed with its content).
#[derive(Debug, Serialize)]
pub struct MatchedPath {
    pub path: String,
    /// Distinct versions (blob or tree ids) found at that path in the commits walked.
    pub versions: usize,
}

/// A commit named for people.
#[derive(Debug, Serialize)]
pub struct CommitRef {
    pub id: String,
    pub date: String,
    pub summary: String,
}

/// The plan.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub repository: String,
    pub refs: usize,
    pub commits: usize,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub secrets: Vec<PlanSecret>,
    pub remove_paths: Vec<String>,
    /// Per `--remove-path` glob, the history paths it matches.
    pub remove_path_matches: Vec<RemoveMatch>,
    pub removed_blobs: usize,
    /// Commits whose tree or message holds a target or a removed path.
    pub commits_affected: usize,
    /// Commits whose id changes (affected ones and all their descendants).
    pub commits_rewritten: usize,
    pub earliest_affected: Option<CommitRef>,
    pub refs_rewritten: Vec<String>,
    pub tags_rewritten: Vec<String>,
    pub signed_commits_losing_signature: usize,
    pub signed_tags_losing_signature: usize,
    pub lfs_objects_orphaned: usize,
    /// Branches (other than the current one) that contributors must rebase onto the new history.
    pub branches_to_rebase: Vec<String>,
    /// Rewritten refs a remote holds and must be force-pushed: every rewritten ref but the
    /// stash and a detached `HEAD` (local only) and the hosts' read-only refs (`refs/pull/*`,
    /// `refs/merge-requests/*`).
    pub refs_to_push: Vec<String>,
    /// The `git push --force` commands that publish them, one per remote.
    pub push_commands: Vec<String>,
    /// Archives in history whose members hold a target: the rewrite does not edit inside them.
    pub archives: Vec<PlanArchive>,
    pub replacements_file: String,
    pub filter_repo_command: String,
    pub bfg_command: String,
    pub after_steps: Vec<String>,
}

/// An archive (at one path in history) with members holding a target.
#[derive(Debug, Serialize)]
pub struct PlanArchive {
    pub path: String,
    /// The members holding a target, `path!member`.
    pub members: Vec<String>,
    /// Secret ids (short) of the targets inside.
    pub secrets: Vec<String>,
    /// Whether a `--remove-path` glob removes it; if not, its targets stay in history.
    pub removed: bool,
}

/// Archive blobs with members holding a target, by id: those the graph searched, and those
/// only removed paths hold (which the graph does not read).
fn archive_blobs(
    repo: &Repository,
    graph: &Graph,
    targets: &[Target],
) -> std::collections::HashMap<git2::Oid, Vec<(String, u64)>> {
    let mut out: std::collections::HashMap<_, _> = graph
        .archived
        .iter()
        .map(|(&i, m)| (graph.nodes[i as usize].oid, m.clone()))
        .collect();
    let (Ok(odb), Ok(replacer)) = (repo.odb(), super::Replacer::new(targets)) else {
        return out;
    };
    for oid in &graph.removed_blobs {
        let members = odb
            .read(*oid)
            .ok()
            .and_then(|o| replacer.archive_members(o.data()));
        if let Some(m) = members.filter(|m| !m.is_empty()) {
            out.insert(*oid, m);
        }
    }
    out
}

/// The archives of [`archive_blobs`] at every path history holds them, named (repository text:
/// the targets masked, controls escaped), each marked removed or not by `remove`.
fn archives(
    repo: &Repository,
    graph: &Graph,
    targets: &[Target],
    remove: &[String],
) -> Vec<PlanArchive> {
    let by_oid = archive_blobs(repo, graph, targets);
    if by_oid.is_empty() {
        return Vec::new();
    }
    let remove = super::RemoveSet::new(remove).ok();
    let redactor = crate::finding::Redactor::new(targets.iter().map(|t| t.secret.expose()));
    let clean = |s: String| {
        let mut s = s;
        redactor.clean_in_place(&mut s);
        s
    };
    let mut out: Vec<PlanArchive> = Vec::new();
    for (path, oid) in blob_paths(repo, graph, &by_oid) {
        let members = &by_oid[&oid];
        let mut ids: Vec<String> = (0..targets.len())
            .filter(|&i| members.iter().any(|(_, m)| m & target_bit(i) != 0))
            .map(|i| {
                targets[i].secret_id.as_str()[..crate::finding::SecretId::SHORT_LEN].to_string()
            })
            .collect();
        ids.dedup();
        let removed = remove.as_ref().is_some_and(|r| removed_by(r, &path));
        let shown = String::from_utf8_lossy(&path).into_owned();
        out.push(PlanArchive {
            members: members
                .iter()
                .map(|(m, _)| clean(format!("{shown}{}{m}", crate::archive::SEPARATOR)))
                .collect(),
            path: clean(shown),
            secrets: ids,
            removed,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path && a.members == b.members);
    out
}

/// Whether `--remove-path` drops `path` (the file, or a directory above it).
fn removed_by(remove: &super::RemoveSet, path: &[u8]) -> bool {
    let mut end = path.len();
    loop {
        let prefix = &path[..end];
        let name = prefix.rsplit(|&b| b == b'/').next().unwrap_or(prefix);
        if remove.matches(prefix, name) {
            return true;
        }
        match prefix.iter().rposition(|&b| b == b'/') {
            Some(i) => end = i,
            None => return false,
        }
    }
}

/// Every (path, blob) of the commits' trees whose blob is in `wanted`: each (tree, path) pair
/// walked once, with an explicit stack.
fn blob_paths(
    repo: &Repository,
    graph: &Graph,
    wanted: &std::collections::HashMap<git2::Oid, Vec<(String, u64)>>,
) -> Vec<(Vec<u8>, git2::Oid)> {
    let Ok(odb) = repo.odb() else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut stack: Vec<(git2::Oid, Vec<u8>)> = graph
        .commits
        .iter()
        .map(|c| (graph.nodes[c.tree as usize].oid, Vec::new()))
        .collect();
    while let Some((tree, prefix)) = stack.pop() {
        if !seen.insert((tree, prefix.clone())) {
            continue;
        }
        let Ok(obj) = odb.read(tree) else { continue };
        let Ok(entries) = super::graph::tree_entries(obj.data()) else {
            continue;
        };
        for (mode, name, id) in entries {
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(name);
            if super::graph::mode_is_tree(mode) {
                stack.push((id, path));
            } else if wanted.contains_key(&id) && seen.insert((id, path.clone())) {
                out.push((path, id));
            }
        }
    }
    out
}

fn commit_ref(repo: &Repository, oid: git2::Oid) -> CommitRef {
    match repo.find_commit(oid) {
        Ok(c) => {
            let t = c.time();
            CommitRef {
                id: oid.to_string(),
                date: format_time(t.seconds(), t.offset_minutes()),
                summary: c.summary().unwrap_or("").to_string(),
            }
        }
        Err(_) => CommitRef {
            id: oid.to_string(),
            date: String::new(),
            summary: String::new(),
        },
    }
}

/// `YYYY-MM-DD` of a unix time at an offset.
fn format_time(secs: i64, offset_min: i32) -> String {
    crate::git::time::GitTime {
        seconds: secs,
        offset_minutes: offset_min,
    }
    .date()
}

/// Builds the plan from the graph.
pub fn build(
    repo: &Repository,
    graph: &Graph,
    targets: &[Target],
    remove: &[String],
    replacements_file: &str,
) -> Plan {
    let rewritten = graph.rewritten_commits();
    let mut first: Vec<Option<String>> = vec![None; targets.len()];
    let mut msg_counts = vec![0u64; targets.len()];
    let mut affected = 0;
    let mut earliest = None;
    for c in &graph.commits {
        let own = graph.mask[c.tree as usize] | c.msg_mask;
        if own == 0 {
            continue;
        }
        affected += 1;
        earliest.get_or_insert(c.oid);
        for (i, f) in first.iter_mut().enumerate() {
            let bit = target_bit(i);
            if own & bit != 0 && f.is_none() {
                *f = Some(c.oid.to_string());
            }
            if c.msg_mask & bit != 0 {
                msg_counts[i] += 1;
            }
        }
    }
    let secrets = targets
        .iter()
        .enumerate()
        .map(|(i, t)| PlanSecret {
            secret_id: t.secret_id.to_string(),
            rule_id: t.rule_id.clone(),
            redacted: t.redacted(),
            replacement: String::from_utf8_lossy(&t.replacement).into_owned(),
            blobs: graph.blobs_per_bit[i.min(62)],
            commit_messages: msg_counts[i],
            tag_messages: graph
                .tags
                .iter()
                .filter(|tg| tg.mask & target_bit(i) != 0)
                .count() as u64,
            first_commit: first[i].clone(),
        })
        .collect();
    let mut refs_rewritten = Vec::new();
    let mut tags_rewritten = Vec::new();
    let mut branches_to_rebase = Vec::new();
    let head = repo.head().ok().and_then(|h| h.name().map(str::to_string));
    for r in &graph.refs {
        if !graph.obj_rewritten(r.target, &rewritten) {
            continue;
        }
        refs_rewritten.push(r.name.clone());
        if r.name.starts_with("refs/tags/") {
            tags_rewritten.push(r.name.trim_start_matches("refs/tags/").to_string());
        }
        let is_branch = r.name.starts_with("refs/heads/")
            || (r.name.starts_with("refs/remotes/") && !r.name.ends_with("/HEAD"));
        let is_head = head.as_deref() == Some(r.name.as_str())
            || head.as_deref().is_some_and(|h| {
                r.name
                    .strip_prefix("refs/remotes/")
                    .and_then(|rest| rest.split_once('/'))
                    .is_some_and(|(_, b)| h == format!("refs/heads/{b}"))
            });
        if is_branch && !is_head {
            branches_to_rebase.push(r.name.clone());
        }
    }
    let signed_commits = graph
        .commits
        .iter()
        .zip(&rewritten)
        .filter(|(c, &rw)| rw && c.signed)
        .count();
    let signed_tags = graph
        .tags
        .iter()
        .filter(|t| t.signed && graph.obj_rewritten(Obj::Tag(tag_index(graph, t.oid)), &rewritten))
        .count();
    let lfs = graph
        .removed_blobs
        .iter()
        .filter(|oid| is_lfs_pointer(repo, **oid))
        .count();
    let file = crate::shell::quote(replacements_file);
    let mut filter_repo = format!("git filter-repo --replace-text {file} --replace-message {file}");
    let mut bfg = format!("bfg --no-blob-protection --replace-text {file}");
    if !remove.is_empty() {
        filter_repo.push_str(" --invert-paths");
        for g in remove {
            filter_repo.push_str(&format!(" --path-glob {}", crate::shell::quote(g)));
        }
        // BFG deletes by file name only: a glob with a directory part (`docs/*`) has no BFG
        // form, and its last part alone (`*`) would delete every file.
        let names: Vec<&str> = remove
            .iter()
            .map(|g| g.strip_prefix("**/").unwrap_or(g))
            .collect();
        if let Some(g) = names.iter().find(|g| g.contains('/')) {
            bfg = format!(
                "# no BFG equivalent: BFG deletes by file name, and {} names a path; use the filter-repo command",
                crate::shell::quote(g)
            );
        } else {
            let arg = if names.len() == 1 {
                names[0].to_string()
            } else {
                format!("{{{}}}", names.join(","))
            };
            bfg.push_str(&format!(" --delete-files {}", crate::shell::quote(&arg)));
        }
    }
    if !bfg.starts_with('#') {
        bfg.push_str(" <repo.git>");
    }
    let mut after = vec![
        "Rotate first: every leaked value must already be revoked or replaced (`leaksweep rotate`); a rewrite does not un-leak anything that was pushed or cloned.".to_string(),
        "Run the rewrite on a fresh clone or mirror (`git clone --mirror URL`), then `leaksweep rewrite verify`.".to_string(),
        "Drop the old objects locally: `leaksweep rewrite finish` (removes refs/leaksweep/original/*, `git reflog expire --expire=now --all`, `git gc --prune=now`).".to_string(),
        format!(
            "Force-push every rewritten ref ({}): `git push --force --mirror origin`, or one by one with `git push --force origin <ref>`.",
            refs_rewritten.len()
        ),
        "Hosting services keep the old commits: read-only refs/pull/* (GitHub) and refs/merge-requests/* (GitLab), cached commit and blob views, and forks. Ask the provider's support to purge them (GitHub: 'remove sensitive data' request; GitLab: project housekeeping and support).".to_string(),
        "Every existing clone still holds the secrets and will push them back: every contributor must re-clone (not pull).".to_string(),
    ];
    if !branches_to_rebase.is_empty() {
        after.push(format!(
            "Open branches ({}) must be rebased by their owners onto the rewritten history (`git rebase --onto <new> <old>`, using the commit-map).",
            branches_to_rebase.len()
        ));
    }
    if signed_commits + signed_tags > 0 {
        after.push(format!(
            "{signed_commits} signed commit(s) and {signed_tags} signed tag(s) lose their signatures; re-sign tags that matter (`git tag -s -f`)."
        ));
    }
    if lfs > 0 {
        after.push(format!(
            "{lfs} Git LFS object(s) behind removed paths become orphaned on the LFS server; delete them there (the pointer files are gone from history)."
        ));
    }
    let archives = archives(repo, graph, targets, remove);
    let kept: Vec<&str> = archives
        .iter()
        .filter(|a| !a.removed)
        .map(|a| a.path.as_str())
        .collect();
    if !kept.is_empty() {
        after.insert(
            0,
            format!(
                "{} archive path(s) hold a target inside (the rewrite does not edit inside archives): run again with --remove-path for each ({}), or the targets stay in history and `leaksweep rewrite verify` fails.",
                kept.len(),
                kept.join(", ")
            ),
        );
    }
    let commits_rewritten = rewritten.iter().filter(|&&r| r).count();
    let refs_to_push: Vec<String> = refs_rewritten
        .iter()
        .filter(|r| pushable(r))
        .cloned()
        .collect();
    let push_commands = push_commands(repo, &refs_to_push);
    Plan {
        repository: repo
            .workdir()
            .unwrap_or_else(|| repo.path())
            .display()
            .to_string(),
        refs: graph.refs.len(),
        commits: graph.commits.len(),
        blobs_scanned: graph.blobs_scanned,
        bytes_scanned: graph.bytes_scanned,
        secrets,
        remove_paths: remove.to_vec(),
        remove_path_matches: remove_matches(repo, graph, remove),
        removed_blobs: graph.removed_blobs.len(),
        commits_affected: affected,
        commits_rewritten,
        earliest_affected: earliest.map(|o| commit_ref(repo, o)),
        refs_rewritten,
        tags_rewritten,
        signed_commits_losing_signature: signed_commits,
        signed_tags_losing_signature: signed_tags,
        lfs_objects_orphaned: lfs,
        branches_to_rebase,
        refs_to_push,
        push_commands,
        archives,
        replacements_file: replacements_file.to_string(),
        filter_repo_command: filter_repo,
        bfg_command: bfg,
        after_steps: after,
    }
}

/// Whether a remote holds `name` for a push to update: not the stash or a detached `HEAD`
/// (local), nor the refs a host keeps read-only.
fn pushable(name: &str) -> bool {
    const LOCAL_OR_READ_ONLY: [&str; 3] = ["refs/stash", "refs/pull/", "refs/merge-requests/"];
    name != "HEAD" && !LOCAL_OR_READ_ONLY.iter().any(|p| name.starts_with(p))
}

/// One `git push --force REMOTE REFSPEC...` per remote, each refspec quoted for the shell. A
/// local ref goes to `origin` under its own name; a remote-tracking ref
/// `refs/remotes/R/B` to remote `R` (the longest remote name that prefixes it) as its branch
/// `refs/heads/B`, unless the same branch is pushed from a local ref to the same remote.
fn push_commands(repo: &Repository, refs: &[String]) -> Vec<String> {
    const DEFAULT_REMOTE: &str = "origin";
    let remotes: Vec<String> = repo
        .remotes()
        .map(|r| r.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    let mut by_remote: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for name in refs.iter().filter(|r| !r.starts_with("refs/remotes/")) {
        by_remote
            .entry(DEFAULT_REMOTE.to_string())
            .or_default()
            .push(name.clone());
    }
    for name in refs {
        let Some(rest) = name.strip_prefix("refs/remotes/") else {
            continue;
        };
        let remote = remotes
            .iter()
            .filter(|r| rest.starts_with(&format!("{r}/")))
            .max_by_key(|r| r.len())
            .cloned()
            .unwrap_or_else(|| rest.split('/').next().unwrap_or(rest).to_string());
        let Some(branch) = rest.strip_prefix(&format!("{remote}/")) else {
            continue;
        };
        let dest = format!("refs/heads/{branch}");
        let specs = by_remote.entry(remote).or_default();
        if !specs.contains(&dest) {
            specs.push(format!("{name}:{dest}"));
        }
    }
    by_remote
        .into_iter()
        .map(|(remote, specs)| {
            let mut cmd = format!("git push --force {}", crate::shell::quote(&remote));
            for spec in specs {
                cmd.push(' ');
                cmd.push_str(&crate::shell::quote(&spec));
            }
            cmd
        })
        .collect()
}

/// Every path of the commits' trees each glob of `remove` matches, as the rewrite matches them
/// ([`RemoveSet::matches`]: below a matched directory nothing more is looked at), with the number
/// of distinct versions at each. Each (tree, path) is read once; the walk is a loop, not a
/// recursion. An unreadable tree was already an error of the graph's build, so it is passed over.
pub fn remove_matches(repo: &Repository, graph: &Graph, remove: &[String]) -> Vec<RemoveMatch> {
    let sets: Vec<RemoveSet> = remove
        .iter()
        .filter_map(|g| RemoveSet::new(std::slice::from_ref(g)).ok())
        .collect();
    let (Ok(odb), false) = (repo.odb(), sets.is_empty()) else {
        return Vec::new();
    };
    let mut found: Vec<BTreeMap<String, HashSet<Oid>>> = vec![BTreeMap::new(); sets.len()];
    let mut seen: HashSet<(Oid, Vec<u8>)> = HashSet::new();
    let mut stack: Vec<(Oid, Vec<u8>)> = graph
        .commits
        .iter()
        .filter_map(|c| graph.nodes.get(c.tree as usize))
        .map(|n| (n.oid, Vec::new()))
        .collect();
    while let Some((oid, prefix)) = stack.pop() {
        if !seen.insert((oid, prefix.clone())) {
            continue;
        }
        let Ok(obj) = odb.read(oid) else { continue };
        for entry in crate::git::tree::entries(obj.data()).map_while(Result::ok) {
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(entry.name);
            let mut matched = false;
            for (i, set) in sets.iter().enumerate() {
                if set.matches(&path, entry.name) {
                    matched = true;
                    found[i]
                        .entry(String::from_utf8_lossy(&path).into_owned())
                        .or_default()
                        .insert(entry.id.oid());
                }
            }
            if !matched && crate::git::tree::mode_is_tree(entry.mode) {
                stack.push((entry.id.oid(), path));
            }
        }
    }
    remove
        .iter()
        .zip(found)
        .map(|(glob, paths)| RemoveMatch {
            glob: glob.clone(),
            paths: paths
                .into_iter()
                .map(|(path, ids)| MatchedPath {
                    path,
                    versions: ids.len(),
                })
                .collect(),
        })
        .collect()
}

/// The text lines naming what each glob matches.
fn remove_match_lines(p: &Plan, bullet: &str) -> String {
    let mut s = String::new();
    for m in &p.remove_path_matches {
        if m.paths.is_empty() {
            s.push_str(&format!("{bullet}{} matches nothing in history\n", m.glob));
            continue;
        }
        s.push_str(&format!(
            "{bullet}{} matches {} path(s) in history:\n",
            m.glob,
            m.paths.len()
        ));
        for x in &m.paths {
            s.push_str(&format!(
                "    {bullet}{}  ({} version{})\n",
                x.path,
                x.versions,
                if x.versions == 1 { "" } else { "s" }
            ));
        }
    }
    s
}

fn tag_index(graph: &Graph, oid: git2::Oid) -> u32 {
    graph.tags.iter().position(|t| t.oid == oid).unwrap_or(0) as u32
}

fn is_lfs_pointer(repo: &Repository, oid: git2::Oid) -> bool {
    let Ok(odb) = repo.odb() else { return false };
    let found = match odb.read(oid) {
        Ok(o) => crate::git::lfs::is_pointer(o.data()),
        Err(_) => false,
    };
    found
}

/// The plan for a terminal.
pub fn text(p: &Plan) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Rewrite plan for {}\n  {} refs, {} commits, {} unique blobs ({} bytes) searched\n\n",
        p.repository, p.refs, p.commits, p.blobs_scanned, p.bytes_scanned
    ));
    s.push_str(&format!("Secrets to replace ({}):\n", p.secrets.len()));
    for x in &p.secrets {
        s.push_str(&format!(
            "  {:<24} {}  -> {}\n      secret_id {}  blobs {}  commit messages {}  tag messages {}  first in {}\n",
            x.rule_id,
            x.redacted,
            x.replacement,
            &x.secret_id[..crate::finding::SecretId::SHORT_LEN],
            x.blobs,
            x.commit_messages,
            x.tag_messages,
            x.first_commit.as_deref().map_or("(not found in history)", |c| &c[..12.min(c.len())])
        ));
    }
    if !p.remove_paths.is_empty() {
        s.push_str(&format!(
            "\nPaths to remove from every commit: {} ({} blob(s))\n",
            p.remove_paths.join(", "),
            p.removed_blobs
        ));
        s.push_str(&remove_match_lines(p, "  "));
    }
    s.push_str(&archives_text(p));
    s.push_str(&format!(
        "\nCommits holding a target: {}; commits rewritten (with descendants): {} of {}\n",
        p.commits_affected, p.commits_rewritten, p.commits
    ));
    if let Some(e) = &p.earliest_affected {
        s.push_str(&format!(
            "Earliest affected commit: {} {} {}\n",
            e.id, e.date, e.summary
        ));
    }
    s.push_str(&format!("Refs rewritten ({}):\n", p.refs_rewritten.len()));
    for r in &p.refs_rewritten {
        s.push_str(&format!("  {r}\n"));
    }
    s.push_str(&push_text(p));
    s.push_str(&format!(
        "\nCosts:\n  signed commits losing their signature: {}\n  signed tags losing their signature: {}\n  LFS objects orphaned: {}\n  branches contributors must rebase: {}\n",
        p.signed_commits_losing_signature,
        p.signed_tags_losing_signature,
        p.lfs_objects_orphaned,
        if p.branches_to_rebase.is_empty() { "none".to_string() } else { p.branches_to_rebase.join(", ") }
    ));
    s.push_str(&format!(
        "\nReplacements file (holds the secrets, mode 0600): {}\nEquivalent commands:\n  {}\n  {}\n",
        p.replacements_file, p.filter_repo_command, p.bfg_command
    ));
    s.push_str("\nOr natively: leaksweep rewrite apply (same inputs), then leaksweep rewrite verify.\n\nAfter the rewrite:\n");
    for (i, a) in p.after_steps.iter().enumerate() {
        s.push_str(&format!("  {}. {a}\n", i + 1));
    }
    s
}

/// The "Refs to force-push" section for a terminal: the refs, then the commands.
fn push_text(p: &Plan) -> String {
    let mut s = format!("\nRefs to force-push ({}):\n", p.refs_to_push.len());
    for r in &p.refs_to_push {
        s.push_str(&format!("  {r}\n"));
    }
    for c in &p.push_commands {
        s.push_str(&format!("  $ {c}\n"));
    }
    s
}

/// The archive section of the text plan: each archive path with targets inside, and whether
/// `--remove-path` removes it or it must be passed.
fn archives_text(p: &Plan) -> String {
    if p.archives.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\nArchives holding a target ({}); the rewrite does not edit inside archives:\n",
        p.archives.len()
    );
    for a in &p.archives {
        let what = if a.removed {
            "removed by --remove-path".to_string()
        } else {
            format!(
                "NOT removed: pass --remove-path {}",
                crate::shell::quote(&a.path)
            )
        };
        s.push_str(&format!(
            "  {}  {what}\n      holds {} in {}\n",
            a.path,
            a.secrets.join(", "),
            a.members.join(", ")
        ));
    }
    s
}

/// The plan as markdown (for an issue or a change ticket).
pub fn markdown(p: &Plan) -> String {
    let mut s = format!("# History rewrite plan: `{}`\n\n", p.repository);
    s.push_str(&format!(
        "{} refs, {} commits, {} unique blobs searched. **{} of {} commits** are rewritten; {} hold a target.\n\n",
        p.refs, p.commits, p.blobs_scanned, p.commits_rewritten, p.commits, p.commits_affected
    ));
    s.push_str("## Secrets\n\n| rule | secret | secret_id | replacement | blobs | messages | first commit |\n|---|---|---|---|---|---|---|\n");
    for x in &p.secrets {
        s.push_str(&format!(
            "| {} | `{}` | `{}` | `{}` | {} | {} | {} |\n",
            x.rule_id,
            x.redacted,
            &x.secret_id[..crate::finding::SecretId::SHORT_LEN],
            x.replacement,
            x.blobs,
            x.commit_messages + x.tag_messages,
            x.first_commit
                .as_deref()
                .map_or("-", |c| &c[..12.min(c.len())])
        ));
    }
    if !p.remove_paths.is_empty() {
        s.push_str(&format!(
            "\n## Paths removed\n\n{}\n",
            remove_match_lines(p, "- ")
        ));
    }
    if !p.archives.is_empty() {
        s.push_str("\n## Archives holding a target (not edited by the rewrite)\n\n");
        for a in &p.archives {
            let what = if a.removed {
                "removed by `--remove-path`".to_string()
            } else {
                format!("**not removed**: pass `--remove-path {}`", a.path)
            };
            s.push_str(&format!(
                "- `{}`: {what} ({})\n",
                a.path,
                a.members.join(", ")
            ));
        }
    }
    if let Some(e) = &p.earliest_affected {
        s.push_str(&format!(
            "\nEarliest affected commit: `{}` ({}) {}\n",
            e.id, e.date, e.summary
        ));
    }
    s.push_str("\n## Refs rewritten\n\n");
    for r in &p.refs_rewritten {
        s.push_str(&format!("- `{r}`\n"));
    }
    s.push_str("\n## Refs to force-push\n\n");
    for r in &p.refs_to_push {
        s.push_str(&format!("- `{r}`\n"));
    }
    if !p.push_commands.is_empty() {
        s.push_str(&format!("\n```sh\n{}\n```\n", p.push_commands.join("\n")));
    }
    s.push_str(&format!(
        "\n## Costs\n\n- signed commits losing their signature: {}\n- signed tags losing their signature: {}\n- LFS objects orphaned: {}\n- branches to rebase: {}\n",
        p.signed_commits_losing_signature, p.signed_tags_losing_signature, p.lfs_objects_orphaned, p.branches_to_rebase.len()
    ));
    s.push_str(&format!(
        "\n## Commands\n\nReplacements file (0600, holds the secrets): `{}`\n\n```sh\n{}\n{}\nleaksweep rewrite apply   # native equivalent\n```\n\n## After the rewrite\n\n",
        p.replacements_file, p.filter_repo_command, p.bfg_command
    ));
    for a in &p.after_steps {
        s.push_str(&format!("- [ ] {a}\n"));
    }
    s
}
