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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".leaksweep-")
        .tempfile_in(&dir)
        .map_err(without_path)?;
    let _in_flight = InFlight::new(tmp.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
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
