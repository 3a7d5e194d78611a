//! The binary: parse the command line, run, map the result to an exit code.
//! 0 clean, 1 findings (configurable), 2 usage or input error. A closed pipe is not an error:
//! a scanning command still exits 1 on findings (see `cmd::finish`); any other command exits 0.

// Unsafe code is denied, and allowed in one place: `limit_pack_windows`.
#![deny(unsafe_code)]

use clap::Parser;
use leaksweep::cmd::ExitStatus;
use std::process::ExitCode;

/// A clap usage error as `leaksweep: error: ...`, its other lines (usage, tips) prefixed
/// `leaksweep: ` and blank lines dropped.
fn usage_message(text: &str) -> String {
    let text: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    leaksweep::cmd::error_message(&text.join("\n"))
}

/// Bytes of a pack file libgit2 maps at once (one window), and in all. Six windows: the history
/// walk's threads read trees in different parts of the pack, the scan's read blobs in pack order,
/// and with fewer windows they kept unmapping each other's (system time tripled).
const PACK_WINDOW: usize = 8 << 20;
const PACK_MAPPED_LIMIT: usize = 48 << 20;

/// Bounds the pack files libgit2 keeps mapped. By default it maps windows of 1 GiB up to 8 GiB
/// in all, and a history scan reads every object, so the whole pack stayed mapped and counted
/// in the peak RSS (the 247 MiB pack of a 367 MiB peak on one repository). With these bounds the
/// least recently used windows are unmapped as reading moves on through the pack.
fn limit_pack_windows() {
    // SAFETY: these set libgit2 globals that are unsafe to change while another thread uses
    // libgit2. Nothing has used libgit2 yet, and no other thread exists: this is the first
    // statement of `main`.
    #[allow(unsafe_code)]
    unsafe {
        let _ = git2::opts::set_mwindow_size(PACK_WINDOW);
        let _ = git2::opts::set_mwindow_mapped_limit(PACK_MAPPED_LIMIT);
    }
}

/// glibc keeps freed memory for reuse, and once a large block is freed it raises the size below
/// which blocks come from the heap (up to 32 MiB): the buffers of large blobs then stayed in the
/// heap after use and counted in the peak RSS (about 20 MiB of a history scan's). A fixed trim
/// threshold turns that adjustment off: blocks of 128 KiB and more are mapped and returned when
/// freed, and free memory at the top of the heap is returned past 1 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_heap_retention() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread
    // exists (the first statements of `main`).
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_heap_retention() {}

fn main() -> ExitCode {
    limit_pack_windows();
    limit_heap_retention();
    // Ctrl-C, SIGTERM, SIGHUP: remove any half-written temporary file, exit 130 as a shell would.
    // Reports are built in memory and renamed into place, so the final path is never partial.
    // A handler that cannot be installed (no signal support) only loses that cleanup.
    let _ = ctrlc::set_handler(|| {
        eprintln!("leaksweep: interrupted");
        leaksweep::output::abort_in_flight(ExitStatus::Interrupted.code().into())
    });
    let cli = match leaksweep::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap does, exit 0.
            let _ = e.print();
            return ExitStatus::Clean.into();
        }
        Err(e) => {
            // Usage errors carry the one prefix every error has (clap's own starts `error: `).
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("{}", usage_message(text));
            return ExitStatus::Error.into();
        }
    };
    match leaksweep::cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitStatus::Clean.into();
                }
            }
            eprint!("{}", leaksweep::cmd::error_message(&format!("{e:#}")));
            ExitStatus::Error.into()
        }
    }
}
