//! The binary: parse the command line, run, map the result to an exit code.
//! 0 clean, 1 findings (configurable), 2 usage or input error; a closed pipe is not an error.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = leaksweep::cli::Cli::parse();
    match leaksweep::cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("leaksweep: error: {e:#}");
            ExitCode::from(leaksweep::cmd::EXIT_ERROR)
        }
    }
}
