//! `leaksweep completions SHELL` and `leaksweep man`: generated from the clap definitions in
//! `cli.rs`, so they never drift from the real options. Both print to standard output; packagers
//! redirect them into place, or write the man pages with `man --out-dir DIR` (see README).

use crate::cli::Cli;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "leaksweep", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `leaksweep man`: the page `leaksweep(1)` on standard output, or with `out_dir` that page and
/// one per subcommand (`leaksweep-scan.1`, `leaksweep-hook-install.1`, ...) written into the
/// directory. Every page has an EXIT STATUS section ([`exit_status`]).
pub fn man(out_dir: Option<&Path>) -> Result<ExitCode> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match out_dir {
        None => {
            let buf = page(&cmd)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = 0;
            write_pages(&cmd, dir, &mut written)?;
            eprintln!("leaksweep: wrote {written} man pages to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the page of `cmd` and of each of its subcommands, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut usize) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page(cmd)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    *written += 1;
    Ok(())
}

/// One page (roff): clap_mangen's sections, with EXIT STATUS before VERSION.
fn page(cmd: &clap::Command) -> Result<Vec<u8>> {
    // Subcommands carry no version of their own: every page names the program's.
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("leaksweep {}", env!("CARGO_PKG_VERSION")));
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf)?;
    }
    buf.extend_from_slice(exit_status().as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut buf)?;
    }
    Ok(buf)
}

/// The EXIT STATUS section (roff), the same for every page: exit codes are one contract.
fn exit_status() -> String {
    let items = [
        ("0", "Success: a scan found nothing to report, or the command did its work."),
        (
            "1",
            "A scan reported findings (set another code with \\-\\-exit\\-code); \\fBrules check\\fR: an \
             example failed; \\fBrewrite verify\\fR: a problem was found; \\fBrewrite finish\\fR: not confirmed.",
        ),
        (
            "2",
            "A usage or input error, or an incomplete scan (an item could not be read, or nothing was scanned).",
        ),
        ("130", "Interrupted (Ctrl\\-C, SIGTERM or SIGHUP)."),
    ];
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, text) in items {
        roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{text}\n"));
    }
    roff
}
