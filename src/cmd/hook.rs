//! `leaksweep hook install|uninstall [REPO] [--pre-push]`: plain git hooks, for repositories that do
//! not use the pre-commit framework (that one uses `.pre-commit-hooks.yaml` instead).
//!
//! The hooks directory is git's: `core.hooksPath` when set (relative to the working tree, as git
//! reads it), else `hooks/` in the common git directory (shared by linked worktrees). git2 finds
//! the repository and reads the config, so this works from any subdirectory. A relative
//! `core.hooksPath` is one directory per worktree (git resolves it where the hook runs), so
//! `install` and `uninstall` act on every existing worktree's and say so ([`hooks_dirs`]).
//!
//! A hook we wrote carries a marker line ([`MARKER`]). We overwrite or remove only hooks with that
//! marker. A foreign hook is left alone unless `--force`, which first moves it to
//! `<hook>.leaksweep-backup`; `uninstall` puts the backup back.
//!
//! The script calls the binary by the absolute path of the one that installed it (so a hook works
//! where `leaksweep` is not on git's PATH, e.g. in GUI clients), falling back to `leaksweep` on
//! PATH if that file is gone; `LEAKSWEEP_BIN` overrides both. It fails closed: a scan error blocks
//! the commit or push too, with a message saying how to bypass once (`--no-verify`).
//!
//! The pre-commit script runs `leaksweep git --staged`; `hook install` writes it as both
//! `pre-commit` and `pre-merge-commit` (which `git merge` runs instead of pre-commit when it makes
//! the merge commit itself). The pre-push script runs `leaksweep git --range` over each pushed
//! range (a single revision for a new branch).
//!
//! `leaksweep hook pre-push` is the pre-push entry of `.pre-commit-hooks.yaml`: the pre-commit
//! framework reads git's pre-push lines itself and passes the range in its environment
//! ([`framework_range`]).

use crate::cli::HookCmd;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Marks a hook as ours; only hooks carrying it are overwritten or removed.
pub const MARKER: &str = "# leaksweep-hook: v1";

/// Suffix of the backup of a foreign hook replaced with `--force`.
pub const BACKUP_SUFFIX: &str = ".leaksweep-backup";

/// Which git hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PreCommit,
    /// Run by `git merge` when it commits the merge itself; the same script as pre-commit.
    PreMergeCommit,
    PrePush,
}

impl HookKind {
    /// The hook's file name in the hooks directory.
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PreMergeCommit => "pre-merge-commit",
            HookKind::PrePush => "pre-push",
        }
    }
}

/// Runs `hook install` / `hook uninstall`.
pub fn run(args: HookCmd) -> Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    match args {
        HookCmd::Install {
            repo,
            pre_push,
            force,
        } => {
            let cwd = start_at(&cwd, repo.as_deref());
            let kind = kind(pre_push);
            let dirs = hooks_dirs(&cwd)?;
            let exe = std::env::current_exe().ok();
            for (i, dir) in dirs.iter().enumerate() {
                match install_kind(dir, kind, force, exe.as_deref()) {
                    Ok(()) => {}
                    // This worktree's hooks: a failure is the command's failure.
                    Err(e) if i == 0 => return Err(e),
                    Err(e) => eprintln!("leaksweep: warning: {e:#}"),
                }
            }
            if relative_hooks_path(&cwd) {
                eprintln!(
                    "leaksweep: core.hooksPath is relative, so git looks for hooks in each worktree \
                     ({} now); run `leaksweep hook install` again in worktrees added later, or \
                     set an absolute core.hooksPath",
                    dirs.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        HookCmd::Uninstall { repo, pre_push } => {
            let cwd = start_at(&cwd, repo.as_deref());
            let kind = kind(pre_push);
            let dirs = hooks_dirs(&cwd)?;
            for (i, dir) in dirs.iter().enumerate() {
                let path = dir.join(kind.file_name());
                if i > 0 && !is_ours(&path) {
                    continue;
                }
                eprintln!("leaksweep: {}", uninstall(dir, kind)?);
                let merge = dir.join(HookKind::PreMergeCommit.file_name());
                if kind == HookKind::PreCommit && is_ours(&merge) {
                    eprintln!("leaksweep: {}", uninstall(dir, HookKind::PreMergeCommit)?);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HookCmd::PrePush(git) => {
            let mut git = *git;
            if git.staged || git.range.is_some() || git.since.is_some() || git.repos.is_some() {
                bail!(
                    "`hook pre-push` takes the pushed range from the pre-commit framework; \
                     use `leaksweep git` for --staged, --range, --since or --repos"
                );
            }
            git.range = Some(framework_range(|k| std::env::var_os(k))?);
            super::git::run(git)
        }
    }
}

/// The revision range a pre-commit framework pre-push stage covers, from the variables the
/// framework sets (pre-commit 2.x to 4.x; `lookup` reads one):
///
/// - `PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF` (older releases: `PRE_COMMIT_ORIGIN` and
///   `PRE_COMMIT_SOURCE`): `FROM..TO`; the framework sets FROM to the remote's commit, or, for a
///   new branch, to the parent of the first commit that no ref of that remote has. An all-zero
///   FROM (no such commit) gives TO alone: all of its history.
/// - Neither, with `PRE_COMMIT_LOCAL_BRANCH` (the local ref being pushed): the push starts a new
///   history (its first new commit is a root), and the framework runs in all-files mode: all
///   history of that ref.
/// - Neither, with `PRE_COMMIT=1` only (`pre-commit run --hook-stage pre-push` by hand): all
///   history of HEAD.
///
/// Anything else is an input error naming what is missing.
pub fn framework_range(lookup: impl Fn(&str) -> Option<OsString>) -> Result<String> {
    let var = |names: &[&str]| -> Result<Option<String>> {
        for name in names {
            if let Some(v) = lookup(name).filter(|v| !v.is_empty()) {
                let v = v
                    .into_string()
                    .map_err(|_| anyhow::anyhow!("{name} is not valid UTF-8"))?;
                return Ok(Some(v.trim().to_string()));
            }
        }
        Ok(None)
    };
    let from = var(&["PRE_COMMIT_FROM_REF", "PRE_COMMIT_ORIGIN"])?;
    let to = var(&["PRE_COMMIT_TO_REF", "PRE_COMMIT_SOURCE"])?;
    let zero = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'0');
    match (from, to) {
        (Some(from), Some(to)) if zero(&from) => Ok(to),
        (Some(from), Some(to)) => Ok(format!("{from}..{to}")),
        (Some(_), None) | (None, Some(_)) => bail!(
            "the pre-commit framework set only one of PRE_COMMIT_FROM_REF and \
             PRE_COMMIT_TO_REF; both are needed to know what is pushed"
        ),
        (None, None) => {
            if let Some(local) = var(&["PRE_COMMIT_LOCAL_BRANCH"])? {
                Ok(local)
            } else if var(&["PRE_COMMIT"])?.is_some() {
                Ok("HEAD".to_string())
            } else {
                bail!(
                    "`leaksweep hook pre-push` is the pre-commit framework's pre-push entry, \
                     and PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF are not set (nor \
                     PRE_COMMIT_LOCAL_BRANCH); outside the framework run \
                     `leaksweep git --range BASE..HEAD`, or install the git hook with \
                     `leaksweep hook install --pre-push`"
                )
            }
        }
    }
}

/// Where the repository is looked for: `repo` (relative to the current directory) or the
/// current directory.
fn start_at(cwd: &Path, repo: Option<&Path>) -> PathBuf {
    repo.map_or_else(|| cwd.to_path_buf(), |r| cwd.join(r))
}

fn kind(pre_push: bool) -> HookKind {
    if pre_push {
        HookKind::PrePush
    } else {
        HookKind::PreCommit
    }
}

/// Installs the hook of `kind` into `dir`; the pre-commit hook comes with its pre-merge-commit
/// twin (merge commits made by `git merge` itself run that one, not pre-commit).
fn install_kind(dir: &Path, kind: HookKind, force: bool, exe: Option<&Path>) -> Result<()> {
    eprintln!("leaksweep: {}", install(dir, kind, force, exe)?);
    if kind == HookKind::PreCommit {
        match install(dir, HookKind::PreMergeCommit, force, exe) {
            Ok(msg) => eprintln!("leaksweep: {msg}"),
            Err(e) => eprintln!(
                "leaksweep: warning: {e:#}; merge commits made by `git merge` are not checked"
            ),
        }
    }
    Ok(())
}

fn open_repo(start: &Path) -> Result<git2::Repository> {
    git2::Repository::discover(start).with_context(|| {
        format!(
            "{} is not inside a git repository (run `git init` first, or cd into one)",
            start.display()
        )
    })
}

/// core.hooksPath, when set.
fn hooks_path(repo: &git2::Repository) -> Result<Option<PathBuf>> {
    let config = repo
        .config()
        .context("cannot read the repository's git config")?;
    Ok(config.get_path("core.hooksPath").ok())
}

fn relative_hooks_path(start: &Path) -> bool {
    open_repo(start)
        .ok()
        .and_then(|r| hooks_path(&r).ok().flatten())
        .is_some_and(|p| p.is_relative())
}

/// The hooks directory of the repository containing `start`.
pub fn hooks_dir(start: &Path) -> Result<PathBuf> {
    let repo = open_repo(start)?;
    if let Some(p) = hooks_path(&repo)? {
        if p.is_absolute() {
            return Ok(p);
        }
        // git runs hooks from the top of the working tree, so a relative path is relative to it.
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(base.join(p));
    }
    Ok(repo.commondir().join("hooks"))
}

/// Every hooks directory git uses for the repository containing `start`, this worktree's first.
/// One, unless core.hooksPath is relative: git resolves it in the worktree the hook runs in, so
/// each worktree (the main one and every linked one) has its own.
pub fn hooks_dirs(start: &Path) -> Result<Vec<PathBuf>> {
    let first = hooks_dir(start)?;
    let repo = open_repo(start)?;
    let Some(rel) = hooks_path(&repo)?.filter(|p| p.is_relative()) else {
        return Ok(vec![first]);
    };
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(w) = git2::Repository::open(repo.commondir())
        .ok()
        .and_then(|m| m.workdir().map(Path::to_path_buf))
    {
        roots.push(w);
    }
    if let Ok(names) = repo.worktrees() {
        for name in names.iter().flatten() {
            if let Ok(wt) = repo.find_worktree(name) {
                roots.push(wt.path().to_path_buf());
            }
        }
    }
    let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut seen = vec![key(repo.workdir().unwrap_or_else(|| repo.path())).join(&rel)];
    let mut out = vec![first];
    for root in roots.into_iter().filter(|r| r.is_dir()) {
        let dir = key(&root).join(&rel);
        if !seen.contains(&dir) {
            seen.push(dir.clone());
            out.push(dir);
        }
    }
    Ok(out)
}

/// The hook script. `exe` is the binary to call (absolute), if known.
pub fn script(kind: HookKind, exe: Option<&Path>) -> String {
    let default = exe
        .and_then(|p| p.to_str())
        .map(crate::shell::quote)
        .unwrap_or_else(|| "leaksweep".into());
    let head = format!(
        r#"#!/bin/sh
{MARKER} ({name})
# Installed by `leaksweep hook install`; remove with `leaksweep hook uninstall`.
# It blocks a {what} that adds a secret. Bypass once: git {verb} --no-verify

LEAKSWEEP={default}
if [ -n "$LEAKSWEEP_BIN" ]; then LEAKSWEEP=$LEAKSWEEP_BIN; fi
if [ ! -x "$LEAKSWEEP" ]; then
  LEAKSWEEP=$(command -v "$LEAKSWEEP" 2>/dev/null || command -v leaksweep 2>/dev/null)
fi
if [ -z "$LEAKSWEEP" ]; then
  echo "leaksweep hook: the leaksweep binary was not found; install it, or run 'leaksweep hook uninstall'." >&2
  echo "Bypass once: git {verb} --no-verify" >&2
  exit 1
fi

allow_help() {{
  cat >&2 <<'EOF'

leaksweep: {what} blocked: it adds the secret(s) listed above (shown redacted).
  - Remove the secret from the file, stage it again, and rotate the secret if it was
    ever pushed or shared (leaksweep rotate).
  - Not a secret (a test fixture, a public example)? Either add a comment containing
    leaksweep:allow on the same line, or add its secret_id (printed above) to
    .leaksweepignore at the top of the work tree, one per line.
  - Bypass this check once: git {verb} --no-verify
EOF
}}
"#,
        name = kind.file_name(),
        what = match kind {
            HookKind::PreCommit => "commit",
            HookKind::PreMergeCommit => "merge commit",
            HookKind::PrePush => "push",
        },
        verb = match kind {
            HookKind::PreCommit => "commit",
            HookKind::PreMergeCommit => "merge",
            HookKind::PrePush => "push",
        },
    );
    let body = match kind {
        HookKind::PreCommit | HookKind::PreMergeCommit => {
            r#"
"$LEAKSWEEP" git --staged
status=$?
if [ "$status" -eq 1 ]; then
  allow_help
elif [ "$status" -ne 0 ]; then
  echo "leaksweep: the scan failed (exit $status), so the commit is blocked; see the error above." >&2
fi
exit "$status"
"#
        }
        HookKind::PrePush => {
            r#"
# stdin: one line per pushed ref: <local ref> <local sha> <remote ref> <remote sha>
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
  case "$local_sha" in *[!0]*) ;; *) continue ;; esac   # a deleted ref: nothing to scan
  case "$remote_sha" in
    *[!0]*)
      if git cat-file -e "$remote_sha^{commit}" 2>/dev/null; then
        range="$remote_sha..$local_sha"
      else
        range="$local_sha"   # the remote's commit is unknown here: scan all of the pushed history
      fi ;;
    *) range="$local_sha" ;;   # a new branch: scan all of its history
  esac
  "$LEAKSWEEP" git --range "$range" </dev/null
  rc=$?
  if [ "$rc" -gt "$status" ]; then status=$rc; fi
done
if [ "$status" -eq 1 ]; then
  allow_help
elif [ "$status" -ne 0 ]; then
  echo "leaksweep: the scan failed (exit $status), so the push is blocked; see the error above." >&2
fi
exit "$status"
"#
        }
    };
    head + body
}

/// True when the file at `path` is a hook we wrote.
pub fn is_ours(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| memchr::memmem::find(&b, MARKER.as_bytes()).is_some())
        .unwrap_or(false)
}

fn backup_path(hook: &Path) -> PathBuf {
    let mut s = hook.as_os_str().to_owned();
    s.push(BACKUP_SUFFIX);
    PathBuf::from(s)
}

/// Writes the hook into `dir`. Returns what was done, for the user.
pub fn install(dir: &Path, kind: HookKind, force: bool, exe: Option<&Path>) -> Result<String> {
    let path = dir.join(kind.file_name());
    let mut note = String::new();
    if path.exists() || path.is_symlink() {
        if is_ours(&path) {
            note = " (updated the existing leaksweep hook)".into();
        } else if !force {
            bail!(
                "{} already exists and was not written by leaksweep; leaving it alone. \
                 Rerun with --force to replace it (it is kept as {}), or call \
                 `leaksweep git --staged` from it yourself",
                path.display(),
                backup_path(&path).display()
            );
        } else {
            let backup = backup_path(&path);
            if backup.exists() {
                bail!(
                    "{} already exists; move it away first so that --force does not overwrite an older backup",
                    backup.display()
                );
            }
            std::fs::rename(&path, &backup).with_context(|| {
                format!("cannot move {} to {}", path.display(), backup.display())
            })?;
            note = format!(" (the previous hook is kept as {})", backup.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&path, script(kind, exe))
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(format!(
        "installed the {} hook at {}{note}",
        kind.file_name(),
        path.display()
    ))
}

/// Removes our hook from `dir` and restores a backup if there is one.
pub fn uninstall(dir: &Path, kind: HookKind) -> Result<String> {
    let path = dir.join(kind.file_name());
    if !path.exists() {
        return Ok(format!(
            "no {} hook at {}",
            kind.file_name(),
            path.display()
        ));
    }
    if !is_ours(&path) {
        bail!(
            "{} was not written by leaksweep; leaving it alone",
            path.display()
        );
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    let backup = backup_path(&path);
    if backup.exists() {
        std::fs::rename(&backup, &path)
            .with_context(|| format!("cannot restore {}", backup.display()))?;
        return Ok(format!(
            "removed the leaksweep {} hook and restored the previous one from {}",
            kind.file_name(),
            backup.display()
        ));
    }
    Ok(format!(
        "removed the leaksweep {} hook at {}",
        kind.file_name(),
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_carry_the_marker() {
        for k in [
            HookKind::PreCommit,
            HookKind::PreMergeCommit,
            HookKind::PrePush,
        ] {
            let s = script(k, Some(Path::new("/opt/bin/leaksweep")));
            assert!(s.starts_with("#!/bin/sh\n"));
            assert!(s.contains(MARKER));
            assert!(s.contains("'/opt/bin/leaksweep'"));
            assert!(s.contains("leaksweep:allow"));
        }
    }

    #[test]
    fn framework_ranges() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let r = |vars| framework_range(env(vars)).map_err(|e| e.to_string());
        assert_eq!(
            r(&[("PRE_COMMIT_FROM_REF", "a1"), ("PRE_COMMIT_TO_REF", "b2")]),
            Ok("a1..b2".into())
        );
        assert_eq!(
            r(&[("PRE_COMMIT_ORIGIN", "a1"), ("PRE_COMMIT_SOURCE", "b2")]),
            Ok("a1..b2".into())
        );
        assert_eq!(
            r(&[
                (
                    "PRE_COMMIT_FROM_REF",
                    "0000000000000000000000000000000000000000"
                ),
                ("PRE_COMMIT_TO_REF", "b2")
            ]),
            Ok("b2".into())
        );
        assert_eq!(
            r(&[
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
                ("PRE_COMMIT", "1")
            ]),
            Ok("refs/heads/main".into())
        );
        assert_eq!(r(&[("PRE_COMMIT", "1")]), Ok("HEAD".into()));
        assert!(r(&[("PRE_COMMIT_TO_REF", "b2")])
            .unwrap_err()
            .contains("only one"));
        assert!(r(&[]).unwrap_err().contains("PRE_COMMIT_TO_REF"));
    }
}
