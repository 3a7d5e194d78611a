//! `rewrite finish`: the backups removed, reflogs expired, unreachable objects pruned, and the
//! replacements files `plan` wrote deleted.

use super::inputs::open_repo;
use crate::cli::RewriteFinishArgs;
use crate::rewrite::apply;
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// A raw ref name as an argument.
fn os_from_bytes(raw: &[u8]) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(raw).to_os_string()
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(raw).into_owned().into()
    }
}

fn git(repo_dir: &Path, args: &[&str]) -> Result<()> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    git_os(repo_dir, &args)
}

fn git_os(repo_dir: &Path, args: &[&std::ffi::OsStr]) -> Result<()> {
    // Standard streams are not inherited: git's repack misreads an inherited regular-file stdout
    // in some environments, and its chatter is not ours to print.
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo_dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!("git is not installed (needed for reflog expire and gc); install git or run `git reflog expire --expire=now --all && git gc --prune=now` elsewhere")
            } else {
                anyhow::Error::from(e)
            }
        })?;
    if !out.status.success() {
        bail!(
            "`git {}` failed ({}): {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Name of the default replacements file of `plan` under `<gitdir>/leaksweep/`.
const REPLACEMENTS_FILE: &str = "replacements.txt";
/// Under `<gitdir>/leaksweep/`: where `plan --replacements-out` wrote the replacements file.
pub(super) const REPLACEMENTS_OUT: &str = "replacements-out";
/// Under `<gitdir>/leaksweep/`: written by `finish` once the old objects are pruned.
const FINISHED_FILE: &str = "finished";

/// Whether `bytes` look like a replacements file of `plan` (every line `value==>replacement`):
/// `finish` removes a file it was told about only if it does.
fn is_replacements_file(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .all(|l| memchr::memmem::find(l, b"==>").is_some())
}

/// Removes the replacements files `plan` wrote (they hold every old value in plain text):
/// the default one under `dir` and the one `--replacements-out` named. Returns those removed.
fn remove_replacements(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut candidates = vec![dir.join(REPLACEMENTS_FILE)];
    let pointer = dir.join(REPLACEMENTS_OUT);
    if let Ok(raw) = std::fs::read(&pointer) {
        #[cfg(unix)]
        let out = {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&raw))
        };
        #[cfg(not(unix))]
        let out = PathBuf::from(String::from_utf8_lossy(&raw).into_owned());
        candidates.push(out);
    }
    for file in candidates {
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        let bytes = Zeroizing::new(std::fs::read(&file).unwrap_or_default());
        if !meta.is_file() || !is_replacements_file(&bytes) {
            eprintln!(
                "leaksweep: warning: {} is not a replacements file any more; left alone",
                file.display()
            );
            continue;
        }
        std::fs::remove_file(&file).with_context(|| {
            format!("cannot remove {} (it holds the old values)", file.display())
        })?;
        removed.push(file);
    }
    match std::fs::remove_file(&pointer) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", pointer.display())),
    }
    Ok(removed)
}

pub(super) fn run_finish(args: RewriteFinishArgs) -> Result<ExitCode> {
    let (repo, path) = open_repo(args.repo.as_deref())?;
    let backups = apply::backup_refs(&repo)?;
    let state = apply::state_dir(&repo);
    // Expiring every reflog and pruning what no ref reaches loses work (a reset, an amended
    // commit, a dropped stash) unless that is what a recorded rewrite left behind.
    let mapped = apply::read_commit_map(&repo)?.is_some();
    // Finished, unless a later `apply` wrote a new commit-map since.
    let modified = |f: &str| {
        std::fs::metadata(state.join(f))
            .and_then(|m| m.modified())
            .ok()
    };
    let finished = match (modified(FINISHED_FILE), modified("commit-map")) {
        (Some(done), Some(map)) => done >= map,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if backups.is_empty() && (!mapped || finished) {
        bail!(
            "no rewrite is recorded in {} to finish (no backups{}): \
             `finish` expires every reflog and prunes unreachable commits, which here would be work \
             you may still need; nothing done",
            path.display(),
            if finished {
                ", and the last rewrite was finished already"
            } else {
                ", no commit-map from `rewrite apply`"
            }
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "finish deletes the backups ({} ref(s) in {}) and prunes the old objects for good; \
                 pass --yes to confirm (standard input is not a terminal, so I cannot ask)",
                backups.len(),
                apply::backup_repo_path(&repo).display()
            );
        }
        eprint!(
            "Delete {} backup ref(s) in {}, expire all reflogs and prune old objects in {}? This cannot be undone. [y/N] ",
            backups.len(),
            apply::backup_repo_path(&repo).display(),
            path.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("leaksweep: nothing done");
            return Ok(ExitCode::from(1));
        }
    }
    apply::remove_backups(&repo)?;
    // Old-style backup refs whose names are not UTF-8 (libgit2 looks refs up by UTF-8 name
    // only): git deletes them by raw name.
    let leftover: Vec<Vec<u8>> = repo
        .references()?
        .flatten()
        .map(|r| r.name_bytes().to_vec())
        .filter(|n| n.starts_with(apply::BACKUP_PREFIX.as_bytes()))
        .collect();
    for raw in &leftover {
        git_os(
            &path,
            &[
                std::ffi::OsStr::new("update-ref"),
                std::ffi::OsStr::new("-d"),
                &os_from_bytes(raw),
            ],
        )?;
    }
    let removed = remove_replacements(&state)?;
    for f in &removed {
        eprintln!(
            "leaksweep: removed {} (it held the old values)",
            f.display()
        );
    }
    let temps = remove_pack_temps(&repo);
    if temps > 0 {
        eprintln!("leaksweep: removed {temps} temporary pack file(s) left by a killed run");
    }
    git(&path, &["reflog", "expire", "--expire=now", "--all"])?;
    git(&path, &["gc", "--prune=now", "--quiet"])?;
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    crate::output::write_atomic(&state.join(FINISHED_FILE), b"finished\n", true)
        .with_context(|| format!("cannot write {}", state.join(FINISHED_FILE).display()))?;
    println!(
        "leaksweep: removed {} backup ref(s), expired reflogs, pruned unreachable objects. \
         Next: force-push every rewritten ref, ask your host to purge cached refs, and have everyone re-clone.",
        backups.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes the temporary files of a pack whose writing was killed (libgit2 names them
/// `pack_git2_*` until the final rename): nothing refers to them. Returns how many.
fn remove_pack_temps(repo: &git2::Repository) -> usize {
    let dir = repo.commondir().join("objects").join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("pack_git2_"))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}
