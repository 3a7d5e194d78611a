//! The binary: parse the command line, run, map the result to an exit code.
//! 0 clean, 1 findings (configurable), 2 usage or input error. A closed pipe is not an error:
//! a scanning command still exits 1 on findings (see `cmd::finish`); any other command exits 0.

#![forbid(unsafe_code)]

use clap::Parser;
use leaksweep::cmd::ExitStatus;
use std::process::ExitCode;

/// A clap usage error as `leaksweep: error: ...`, its other lines (usage, tips) prefixed
/// `leaksweep: ` and blank lines dropped.
fn usage_message(text: &str) -> String {
    let text: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    leaksweep::cmd::error_message(&text.join("\n"))
}

fn main() -> ExitCode {
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
