//! Working-tree source: a parallel walk with the `ignore` crate (respects .gitignore, .ignore and
//! git's excludes unless told not to), one scratch buffer per walker thread.
//!
//! Hidden files are walked (`.env` is the point), the `.git` directory is not. Symlinks are not
//! followed (they are counted as skipped); FIFOs, sockets and devices are never opened (a FIFO
//! would block the scan) and are counted as `special-file` skips, also when named on the command
//! line; a directory whose `.gitignore` or `.ignore` is one is not entered (an error), since the
//! walker would open it. A path given explicitly on the command line is scanned even when
//! ignored, as a user naming a file means it.

use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Collector, Scanner, SkipReason};
use crate::source::Source;
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};

/// What the walk needs to know.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub roots: Vec<PathBuf>,
    pub respect_ignore: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Archive levels opened inside files (zip, jar, tar, tar.gz, ...): 0 opens none. Members
    /// are scanned as `outer.zip!inner/path`, within the bounds of [`crate::archive::Limits`].
    pub archive_depth: usize,
}

/// The work-tree source: walks every root and scans each regular file. Its output is the files
/// that look like secret files (`.env`, keys: [`looks_secret`]) which the ignore rules kept out
/// of the walk, as displayed paths, sorted (see [`ignored_secret_files`]); empty with
/// `respect_ignore` off.
impl Source for WalkOptions {
    type Output = Vec<String>;
    const MODE: &'static str = "worktree";

    fn run(self, scanner: &Scanner, sink: &Collector) -> anyhow::Result<Vec<String>> {
        Ok(scan(&self, scanner, sink))
    }
}

fn scan(opts: &WalkOptions, scanner: &Scanner, collector: &Collector) -> Vec<String> {
    let budget = crate::archive::Budget::new(crate::archive::SCAN_BUDGET);
    let budget = &budget;
    let mut dirs = Vec::new();
    for root in &opts.roots {
        match std::fs::symlink_metadata(root) {
            Err(e) => collector.error(display(root), describe_io(&e)),
            Ok(m) if m.is_dir() => dirs.push(root.clone()),
            Ok(_) => {
                // An explicit file (or a symlink to one) is scanned whatever the ignore files say.
                match std::fs::metadata(root) {
                    Ok(m) if m.is_file() => scan_file(
                        root,
                        m.len(),
                        opts,
                        budget,
                        scanner,
                        collector,
                        &mut Scratch::default(),
                    ),
                    Ok(m) if is_special(m.file_type()) => {
                        collector.skip(display(root), SkipReason::SpecialFile)
                    }
                    Ok(_) => collector.error(display(root), "not a regular file or directory"),
                    Err(e) => collector.error(display(root), describe_io(&e)),
                }
            }
        }
    }
    if opts.respect_ignore {
        // The walker opens the ignore files of a root and of its parents before any filter runs.
        dirs.retain(|d| {
            let full = d.canonicalize().unwrap_or_else(|_| d.clone());
            let bad: Vec<PathBuf> = full.ancestors().flat_map(special_ignore_files).collect();
            for p in &bad {
                blocked_ignore_file(p, collector);
            }
            bad.is_empty()
        });
    }
    let Some((first, rest)) = dirs.split_first() else {
        return Vec::new();
    };
    // What the walk saw: the directories it entered and its secret-looking entries, to tell
    // afterwards which such files of those directories the ignore rules hid.
    let seen = std::sync::Mutex::new((Vec::<PathBuf>::new(), std::collections::HashSet::new()));
    let blocked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let blocked_in_walk = std::sync::Arc::clone(&blocked);
    let respect_ignore = opts.respect_ignore;
    let mut builder = WalkBuilder::new(first);
    for d in rest {
        builder.add(d);
    }
    builder
        .hidden(false)
        .parents(opts.respect_ignore)
        .ignore(opts.respect_ignore)
        .git_ignore(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            // A directory whose ignore file is a FIFO or device is not entered: the walker would
            // open it and block. It is an error (the directory is not scanned).
            if !respect_ignore || !e.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let bad = special_ignore_files(e.path());
            if bad.is_empty() {
                return true;
            }
            blocked_in_walk
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(bad);
            false
        });
    let seen_ref = &seen;
    builder.build_parallel().run(|| {
        let mut scratch = Scratch::default();
        Box::new(move |entry| {
            if respect_ignore {
                // Only directories and secret-looking names are kept: memory stays small.
                if let Ok(e) = &entry {
                    let dir = e.file_type().is_some_and(|t| t.is_dir());
                    if dir || looks_secret(&e.file_name().to_string_lossy()) {
                        let mut seen = seen_ref.lock().unwrap_or_else(|p| p.into_inner());
                        if dir {
                            seen.0.push(e.path().to_path_buf());
                        }
                        seen.1.insert(e.path().to_path_buf());
                    }
                }
            }
            match entry {
                Err(e) => {
                    let path = error_path(&e).unwrap_or_default();
                    collector.error(path, e.to_string());
                }
                Ok(entry) => {
                    let Some(ft) = entry.file_type() else {
                        return WalkState::Continue;
                    };
                    if ft.is_symlink() {
                        collector.skip(display(entry.path()), SkipReason::Symlink);
                    } else if ft.is_file() {
                        match entry.metadata() {
                            Ok(m) => scan_file(
                                entry.path(),
                                m.len(),
                                opts,
                                budget,
                                scanner,
                                collector,
                                &mut scratch,
                            ),
                            Err(e) => collector.error(display(entry.path()), e.to_string()),
                        }
                    } else if is_special(ft) {
                        collector.skip(display(entry.path()), SkipReason::SpecialFile);
                    }
                }
            }
            WalkState::Continue
        })
    });
    for p in blocked.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        blocked_ignore_file(p, collector);
    }
    let (walked, entries) = seen.into_inner().unwrap_or_else(|p| p.into_inner());
    ignored_secret_files(&walked, &entries)
}

/// The files in `walked` directories that [`looks_secret`] and are not among the walk's `entries`
/// (its secret-looking ones): the ignore rules hid them. One listing per directory the walk
/// entered, so an ignored directory (`node_modules/`) is never read.
fn ignored_secret_files(
    walked: &[PathBuf],
    entries: &std::collections::HashSet<PathBuf>,
) -> Vec<String> {
    let mut out = Vec::new();
    for dir in walked {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_file())
                && looks_secret(&e.file_name().to_string_lossy())
                && !entries.contains(&path)
            {
                out.push(display(&path));
            }
        }
    }
    out.sort();
    out
}

/// A file name that usually holds secrets: `.env` and its variants (not `.env.example` and
/// other templates), `*.env`, private keys and key stores, `credentials`, `secrets.*`.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let template = [".example", ".sample", ".template", ".dist", ".defaults"]
        .iter()
        .any(|t| lower.ends_with(t));
    if template {
        return false;
    }
    lower == ".env"
        || lower.starts_with(".env.")
        || lower.ends_with(".env")
        || [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .any(|k| lower == *k)
        || lower.starts_with("credentials")
        || lower.starts_with("secrets.")
        || lower.starts_with(".secrets")
}

fn scan_file(
    path: &Path,
    len: u64,
    opts: &WalkOptions,
    budget: &crate::archive::Budget,
    scanner: &Scanner,
    collector: &Collector,
    scratch: &mut Scratch,
) {
    let shown = display(path);
    if len > opts.max_file_size {
        collector.skip(shown, SkipReason::TooLarge);
        return;
    }
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            collector.error(shown, describe_io(&e));
            return;
        }
    };
    if super::lfs::is_pointer(&data) {
        collector.skip(shown, SkipReason::LfsPointer);
        return;
    }
    if opts.archive_depth > 0 && crate::archive::detect(&data).is_some() {
        let limits = crate::archive::Limits::scan(opts.archive_depth, opts.max_file_size);
        let mut visit = |member: &str, bytes: &[u8]| {
            if super::lfs::is_pointer(bytes) {
                collector.skip(member, SkipReason::LfsPointer);
            } else if is_binary(bytes) {
                collector.skip(member, SkipReason::Binary);
            } else {
                scanner.scan_into(&Blob::file(bytes, member), scratch, collector);
            }
        };
        if let Some(done) = crate::archive::expand(&shown, &data, &limits, budget, &mut visit) {
            for s in done.skips {
                collector.skip(s.path, SkipReason::from(s.kind));
            }
            return;
        }
    }
    if is_binary(&data) {
        collector.skip(shown, SkipReason::Binary);
        return;
    }
    scanner.scan_into(&Blob::file(&data, &shown), scratch, collector);
}

/// Ignore files the walker reads in a directory.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore", ".git/info/exclude"];

/// The ignore files of `dir` that are FIFOs, sockets or devices, which the walker would open
/// and block on.
fn special_ignore_files(dir: &Path) -> Vec<PathBuf> {
    IGNORE_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| is_special(m.file_type())))
        .collect()
}

/// Records an ignore file that is not read, so its directory is not scanned (an error).
fn blocked_ignore_file(path: &Path, collector: &Collector) {
    collector.error(
        display(path),
        "is a FIFO or device where an ignore file belongs: not read (it would block), so its \
         directory is not scanned (remove it, or pass --no-ignore)",
    );
}

/// A FIFO, socket, or block or character device: counted as skipped, never opened.
fn is_special(ft: std::fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device()
    }
    #[cfg(not(unix))]
    {
        !ft.is_file() && !ft.is_dir() && !ft.is_symlink()
    }
}

/// A path as shown to users: without a leading `./`.
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory (a dangling symlink?)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn error_path(e: &ignore::Error) -> Option<String> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(display(path)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
