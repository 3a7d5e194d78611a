//! Working-tree source: a parallel walk with the `ignore` crate (respects .gitignore, .ignore and
//! git's excludes unless told not to), one scratch buffer per walker thread.
//!
//! Hidden files are walked (`.env` is the point), the `.git` directory is not. Symlinks are not
//! followed (they are counted as skipped); FIFOs, sockets and devices are never opened (a FIFO
//! would block the scan) and are counted as `special-file` skips, also when named on the command
//! line. A path given explicitly on the command line is scanned even when ignored, as a user
//! naming a file means it.

use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Collector, Scanner, SkipReason};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};

/// What the walk needs to know.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub roots: Vec<PathBuf>,
    pub respect_ignore: bool,
    pub max_file_size: u64,
    pub threads: usize,
}

/// Walks every root and scans each regular file.
pub fn scan(opts: &WalkOptions, scanner: &Scanner, collector: &Collector) {
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
    let Some((first, rest)) = dirs.split_first() else {
        return;
    };
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
        .filter_entry(|e| e.file_name() != ".git");
    builder.build_parallel().run(|| {
        let mut scratch = Scratch::default();
        Box::new(move |entry| {
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
}

fn scan_file(
    path: &Path,
    len: u64,
    opts: &WalkOptions,
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
    if is_binary(&data) {
        collector.skip(shown, SkipReason::Binary);
        return;
    }
    scanner.scan_into(
        &Blob {
            data: &data,
            path: &shown,
        },
        scratch,
        collector,
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
