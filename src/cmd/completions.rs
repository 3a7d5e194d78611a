//! `leaksweep completions SHELL` and `leaksweep man`: generated from the clap definitions in
//! `cli.rs`, so they never drift from the real options. Both print to standard output; packagers
//! redirect them into place (see README).

use crate::cli::Cli;
use anyhow::Result;
use clap::CommandFactory;
use std::io::Write;
use std::process::ExitCode;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "leaksweep", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page (roff) for `leaksweep(1)`: options, and the subcommands with their summaries.
///
/// NOTE: one page; per-subcommand pages (`leaksweep-scan(1)`, ...) are not generated yet.
pub fn man() -> Result<ExitCode> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&buf)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
