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
    /// Record the secrets found now, so later scans with `--baseline FILE` report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCmd),
    /// Inspect and check rules.
    #[command(subcommand)]
    Rules(RulesCmd),
    /// Generate new values for leaked secrets and a rotation checklist.
    Rotate(RotateCmd),
    /// Print one new random secret value.
    Keygen(KeygenCmd),
    /// Install or remove git hooks that block commits (or pushes) adding secrets.
    #[command(subcommand)]
    Hook(HookCmd),
    /// Print a shell completion script (e.g. `leaksweep completions bash > /etc/bash_completion.d/leaksweep`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `leaksweep man > leaksweep.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum HookCmd {
    /// Write the pre-commit hook (or pre-push with --pre-push) into the repository's hooks
    /// directory (core.hooksPath is honoured).
    Install {
        /// Install the pre-push hook (scans the pushed commits) instead of pre-commit.
        #[arg(long)]
        pre_push: bool,
        /// Replace a hook not written by leaksweep (it is kept as <hook>.leaksweep-backup).
        #[arg(long)]
        force: bool,
    },
    /// Remove the leaksweep hook (never a foreign one) and restore a backup if there is one.
    Uninstall {
        /// Remove the pre-push hook instead of pre-commit.
        #[arg(long)]
        pre_push: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BaselineCmd {
    /// Scan exactly like `scan` (same arguments) and write a baseline to `-o FILE` (or standard
    /// output): one entry per secret with its secret_id, rules, paths and first commit; never the
    /// secret itself, no line numbers, no timestamps.
    Create(ScanCmd),
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

/// Options shared by every scanning command.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Output format [default: text, or `format` in .leaksweep.toml].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show raw secrets (text) / include them in JSON. Never use in public CI logs.
    #[arg(long)]
    pub show_secrets: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Skip files (and blobs) larger than SIZE (bytes, or with a K/M/G suffix) [default: 10M].
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// Extra rule file(s) to load in addition to the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Only report findings at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    pub min_severity: Option<String>,
    /// Only report findings at or above this confidence (low, medium, high).
    #[arg(long, value_name = "LEVEL")]
    pub min_confidence: Option<String>,
    /// Project config file [default: .leaksweep.toml at the scan root, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only findings whose secret is not in this baseline (from `baseline create`, or a
    /// JSON report).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Layers of base64/percent encoding to decode and scan inside (0 disables) [default: 2].
    #[arg(long, value_name = "N")]
    pub decode_depth: Option<usize>,
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

/// Output formats of `rotate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RotateFormat {
    /// A checklist for a terminal.
    Text,
    /// One JSON document.
    Json,
    /// A markdown checklist for an issue or pull request.
    Markdown,
}

#[derive(Debug, Args)]
pub struct RotateCmd {
    /// Files or directories to scan (including git-ignored files such as .env). Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Take findings from a JSON report made with `scan --format json --show-secrets`.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub from_report: Option<PathBuf>,
    /// Checklist format (standard output).
    #[arg(long, short = 'f', value_enum, default_value_t = RotateFormat::Text)]
    pub format: RotateFormat,
    /// Where the new values go (dotenv, mode 0600; default `.env.rotated`); with --example,
    /// where the example goes (default: `.env.example` next to each .env file).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing --out file (or .env.example).
    #[arg(long)]
    pub force: bool,
    /// Rewrite this dotenv file in place with the new values (repeatable).
    #[arg(long, value_name = "FILE")]
    pub apply: Vec<PathBuf>,
    /// With --apply, keep a copy of the original as FILE.bak (mode 0600).
    #[arg(long, requires = "apply")]
    pub backup: bool,
    /// Print old and new values in the checklist. Never use in public CI logs.
    #[arg(long)]
    pub show_secrets: bool,
    /// Password alphabet: `safe` (letters, digits, -_.~), `alnum`, or the literal characters.
    #[arg(long, value_name = "SET", default_value = "safe")]
    pub charset: String,
    /// Write .env.example files with placeholders instead of generating values.
    #[arg(long, conflicts_with_all = ["apply", "from_report"])]
    pub example: bool,
    /// Respect .gitignore and friends while scanning (by default rotation sees ignored .env files).
    #[arg(long)]
    pub respect_ignore: bool,
    /// Extra rule file(s) to load in addition to the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Skip files larger than SIZE (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "10M")]
    pub max_file_size: String,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// No notes on stderr (warnings are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct KeygenCmd {
    /// jwt, nextauth, aes256, password, hex:N, base64:N, base64url:N (N bytes), django, rails, laravel.
    #[arg(long, short = 'k', value_name = "KIND", default_value = "password")]
    pub kind: String,
    /// Password alphabet (for --kind password): `safe`, `alnum`, or the literal characters.
    #[arg(long, value_name = "SET", default_value = "safe")]
    pub charset: String,
    /// Password length (for --kind password).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub length: usize,
}
