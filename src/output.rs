//! Files the tool writes: reports, baselines, rewrite state, rotated `.env` files. Every write is
//! atomic (a temporary file in the same directory, then a rename), files holding secrets are
//! created 0600, and a temporary file in flight is removed if the run is interrupted. Reporters
//! only format; this module is where their bytes, and the rewrite's and rotate's, reach the disk.

use std::io::{self, Write};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename, so
/// an interrupted run never leaves a half-written report. `private` files (holding secrets) are
/// created with mode 0600.
///
/// An existing path that is not a regular file (`/dev/stdout`, `/dev/null`, a FIFO) is written
/// directly: a rename would replace the device node (as root) or fail in `/dev`.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8], private: bool) -> io::Result<()> {
    write_atomic_mode(path, bytes, if private { PRIVATE_MODE } else { 0o644 })
}

/// Mode of every file written from scan results (reports, baselines) unless the user asks for
/// another with `--report-mode`, and of every file holding secrets whatever was asked.
pub const PRIVATE_MODE: u32 = 0o600;

/// A report or baseline written from scan results: [`write_atomic`] with the mode the user
/// chose (`--report-mode`, default [`PRIVATE_MODE`]), and always [`PRIVATE_MODE`] when it holds
/// raw secrets (`--show-secrets`).
pub fn write_report(
    path: &std::path::Path,
    bytes: &[u8],
    mode: u32,
    holds_secrets: bool,
) -> io::Result<()> {
    let mode = if holds_secrets { PRIVATE_MODE } else { mode };
    write_atomic_mode(path, bytes, mode)
}

/// [`write_atomic`] with explicit permission bits for the new file (Unix; ignored elsewhere).
pub fn write_atomic_mode(path: &std::path::Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    // A device or FIFO (`-o /dev/null`, `-o /dev/stdout`) is written in place: renaming a temp
    // file over it would replace the device node with a regular file (as root, system-wide).
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.write_all(bytes)?;
        return f.flush();
    }
    let tmp = temp_beside(path).map_err(without_path)?;
    let _in_flight = InFlight::new(tmp.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    persist(tmp, bytes, path)
}

/// Replaces the regular file at `path` in place, atomically (a temporary file in the same
/// directory, then a rename), keeping `meta`'s mode, owner and group: run as root, a plain
/// rename would hand the file to root. `rotate --apply` writes `.env` files this way; `meta` is
/// the file's metadata read before the edit. A file whose owner cannot be kept is not written.
pub fn write_keeping_mode(
    path: &std::path::Path,
    bytes: &[u8],
    meta: &std::fs::Metadata,
) -> io::Result<()> {
    let tmp = temp_beside(path)?;
    let _in_flight = InFlight::new(tmp.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let now = tmp.as_file().metadata()?;
        if (now.uid(), now.gid()) != (meta.uid(), meta.gid()) {
            std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).map_err(
                |e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot keep the file's owner {}:{} ({e}); run as that user",
                            meta.uid(),
                            meta.gid()
                        ),
                    )
                },
            )?;
        }
    }
    tmp.as_file().set_permissions(meta.permissions())?;
    persist(tmp, bytes, path)
}

/// A new temporary file in the directory of `path` (the current one for a bare file name).
fn temp_beside(path: &std::path::Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".leaksweep-")
        .tempfile_in(&dir)
}

/// Writes `bytes` into `tmp`, syncs it and renames it over `path`.
fn persist(
    mut tmp: tempfile::NamedTempFile,
    bytes: &[u8],
    path: &std::path::Path,
) -> io::Result<()> {
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// An error of `tempfile` without the temporary file's name it appends (` at path "..."`): the
/// caller names the file the user asked for, and the temporary name means nothing to them.
fn without_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path ") {
        Some(at) => io::Error::new(e.kind(), text[..at].to_string()),
        None => e,
    }
}

/// Temporary files being written right now. A signal kills the process without unwinding, so
/// `tempfile`'s drop never runs: the interrupt handler ([`abort_in_flight`]) removes these instead.
static IN_FLIGHT: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

fn in_flight() -> std::sync::MutexGuard<'static, Vec<std::path::PathBuf>> {
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers a temporary file as being written until dropped (after the rename, or on error,
/// when `tempfile` has removed it itself).
pub struct InFlight(std::path::PathBuf);

impl InFlight {
    pub fn new(path: &std::path::Path) -> Self {
        in_flight().push(path.to_path_buf());
        InFlight(path.to_path_buf())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        in_flight().retain(|p| p != &self.0);
    }
}

/// Held while a step runs that must not be cut in half by an interrupt: writing a pack, and the
/// ref update and checkout of `rewrite apply`. Exiting in the middle would leave temporary and
/// `.lock` files behind (and, for the refs, some moved and others not).
static UNINTERRUPTIBLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What the step holding [`UNINTERRUPTIBLE`] does, for the handler's message.
static STEP: std::sync::Mutex<&'static str> = std::sync::Mutex::new("");

/// Defers Ctrl-C/SIGTERM/SIGHUP until the guard is dropped: the handler ([`abort_in_flight`])
/// says it is finishing `step` (`"the ref update"`), waits for it, then exits.
pub fn defer_interrupts(step: &'static str) -> std::sync::MutexGuard<'static, ()> {
    let guard = UNINTERRUPTIBLE.lock().unwrap_or_else(|p| p.into_inner());
    *STEP.lock().unwrap_or_else(|p| p.into_inner()) = step;
    guard
}

/// Called from the Ctrl-C/SIGTERM handler: waits for a step that defers interrupts
/// ([`defer_interrupts`]), removes every temporary file being written and exits with `code`. The
/// locks are held until the process is gone, so no new temporary file can appear and no deferred
/// step can start in between; a rename that already happened left a complete file, never a
/// partial one.
pub fn abort_in_flight(code: i32) -> ! {
    let _step = match UNINTERRUPTIBLE.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => {
            let step = *STEP.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("leaksweep: finishing {step} before exiting");
            UNINTERRUPTIBLE.lock().unwrap_or_else(|p| p.into_inner())
        }
    };
    let files = in_flight();
    for p in files.iter() {
        let _ = std::fs::remove_file(p);
    }
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries of `dir` other than `keep`, and registered temporary files inside it.
    fn leftovers(dir: &std::path::Path, keep: &[&str]) -> (Vec<String>, usize) {
        let names = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !keep.contains(&n.as_str()))
            .collect();
        let registered = in_flight().iter().filter(|p| p.starts_with(dir)).count();
        (names, registered)
    }

    #[cfg(unix)]
    #[test]
    fn keeping_mode_replaces_content_atomically_and_keeps_the_mode() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, b"KEY=old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        // A second name for the old file: a rename leaves it the old content, an in-place
        // write would change it too.
        let old_link = dir.path().join("old-link");
        std::fs::hard_link(&path, &old_link).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        write_keeping_mode(&path, b"KEY=new\n", &meta).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"KEY=new\n");
        assert_eq!(std::fs::read(&old_link).unwrap(), b"KEY=old\n");
        let now = std::fs::metadata(&path).unwrap();
        assert_eq!(now.permissions().mode() & 0o7777, 0o640);
        assert_eq!((now.uid(), now.gid()), (meta.uid(), meta.gid()));
        assert_ne!(now.ino(), meta.ino());
        assert_eq!(leftovers(dir.path(), &[".env", "old-link"]), (vec![], 0));
    }

    #[cfg(unix)]
    #[test]
    fn keeping_mode_keeps_an_unusual_mode_too() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.env");
        std::fs::write(&path, b"A=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        write_keeping_mode(&path, b"A=2\n", &meta).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o604);
    }

    #[test]
    fn keeping_mode_into_a_missing_directory_fails_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let missing = dir.path().join("gone").join("f");
        assert!(write_keeping_mode(&missing, b"y", &meta).is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        assert_eq!(leftovers(dir.path(), &["f"]), (vec![], 0));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_are_private_when_asked_and_leave_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic(&path, b"{}", true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, PRIVATE_MODE);
        write_atomic(&path, b"[]", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[]");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(leftovers(dir.path(), &["report.json"]), (vec![], 0));
    }
}
