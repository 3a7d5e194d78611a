//! What the user typed: clap definitions only. Nothing here loads, opens or validates;
//! `config.rs` resolves these into what the library needs.

use crate::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "leaksweep",
    version,
    about = "Find leaked secrets in files and git history, rotate them, and rewrite history to remove them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (the working tree), or standard input with `-`.
    Scan(ScanCmd),
    /// Scan git history: every blob reachable from every ref once, plus commit and tag messages.
    Git(GitCmd),
    /// Inspect and check rules.
    #[command(subcommand)]
    Rules(RulesCmd),
}

#[derive(Debug, Args)]
pub struct ScanCmd {
    /// Files or directories to scan; `-` reads standard input. Default: the current directory.
    pub paths: Vec<PathBuf>,
    /// Also scan files that .gitignore/.ignore exclude (`.env` usually is: use this for audits).
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct GitCmd {
    /// The repository (or any path inside it). Default: the repository containing the current directory.
    pub repo: Option<PathBuf>,
    /// List every (commit, path) where a blob with findings appears, not only where it was introduced.
    #[arg(long, conflicts_with = "staged")]
    pub all_locations: bool,
    /// Also scan blobs in the object database that no ref reaches (dangling objects).
    #[arg(long, conflicts_with_all = ["staged", "range", "since"])]
    pub include_unreachable: bool,
    /// Only blobs introduced by commits after REV on HEAD (same as --range REV..HEAD).
    #[arg(long, value_name = "REV", conflicts_with_all = ["staged", "range"])]
    pub since: Option<String>,
    /// Only blobs introduced by commits in BASE..HEAD (blobs already present in BASE are not reported).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "staged")]
    pub range: Option<String>,
    /// Scan what is staged in the index against HEAD; report only findings on added or changed lines.
    #[arg(long)]
    pub staged: bool,
    /// Exit as if unreadable objects were not there (they are still listed in the report).
    #[arg(long)]
    pub ignore_errors: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by every scanning command.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show raw secrets (text) / include them in JSON. Never use in public CI logs.
    #[arg(long)]
    pub show_secrets: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Skip files (and blobs) larger than SIZE (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "10M")]
    pub max_file_size: String,
    /// Extra rule file(s) to load in addition to the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Only report findings at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    pub min_severity: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Exit 0 instead of 2 when nothing at all was scanned.
    #[arg(long)]
    pub allow_empty: bool,
    /// More detail on stderr: skipped files and why (-v), timings (-vv).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress and no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// List the built-in rules (plus --rules files).
    List {
        #[arg(long = "rules", value_name = "FILE")]
        rule_files: Vec<PathBuf>,
    },
    /// Show one rule with its regex and examples.
    Show { id: String },
    /// Validate a rule file and run its examples.
    Check { file: PathBuf },
}
