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
        /// The shell to write the script for.
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `leaksweep man > leaksweep.1`; with --out-dir, write one page
    /// per subcommand too (`leaksweep-scan.1`, ...).
    Man {
        /// Write leaksweep.1 and a page for every subcommand into DIR instead of printing.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Remove leaked values (and files) from all of git history: plan, apply, verify, finish.
    Rewrite(RewriteCmd),
    /// Convert another scanner's configuration into leaksweep's.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Combine the shard reports of `leaksweep git --shard I/N` (every shard, 0 to N-1) into the
    /// report one unsharded scan gives, in any format, with the scan's exit status.
    Merge(MergeCmd),
}

#[derive(Debug, Args)]
pub struct MergeCmd {
    /// The shard reports (JSON Lines, as `git --shard` writes them), one per shard, any order.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Convert a gitleaks config into .leaksweep.toml plus a rule file; what cannot be converted
    /// is named on stderr and in comments in both files.
    Gitleaks(ImportGitleaksArgs),
}

#[derive(Debug, Args)]
pub struct ImportGitleaksArgs {
    /// The gitleaks config to convert.
    #[arg(default_value = ".gitleaks.toml")]
    pub path: PathBuf,
    /// Where the project config goes.
    #[arg(long, value_name = "FILE", default_value = ".leaksweep.toml")]
    pub config_out: PathBuf,
    /// Where the converted rules go (named by the project config's `rule_files`).
    #[arg(long, value_name = "FILE", default_value = "leaksweep-rules.toml")]
    pub rules_out: PathBuf,
    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum HookCmd {
    /// Write the pre-commit hook (and pre-merge-commit, its twin for `git merge`), or pre-push
    /// with --pre-push, into the repository's hooks directory (core.hooksPath is honoured).
    Install {
        /// The repository (or any path inside it). Default: the one containing the current directory.
        repo: Option<PathBuf>,
        /// Install the pre-push hook (scans the pushed commits) instead of pre-commit.
        #[arg(long)]
        pre_push: bool,
        /// Replace a hook not written by leaksweep (it is kept as <hook>.leaksweep-backup).
        #[arg(long)]
        force: bool,
    },
    /// Remove the leaksweep hook (never a foreign one) and restore a backup if there is one.
    Uninstall {
        /// The repository (or any path inside it). Default: the one containing the current directory.
        repo: Option<PathBuf>,
        /// Remove the pre-push hook instead of pre-commit.
        #[arg(long)]
        pre_push: bool,
    },
    /// The pre-push check as the pre-commit framework runs it: scans PRE_COMMIT_FROM_REF..
    /// PRE_COMMIT_TO_REF, or all history of PRE_COMMIT_LOCAL_BRANCH when the push starts a new
    /// history (the entry of `.pre-commit-hooks.yaml`). Takes the arguments of `git`.
    #[command(name = "pre-push")]
    PrePush(Box<GitCmd>),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCmd {
    /// Scan exactly like `scan` (same arguments) and write a baseline to `-o FILE` (or standard
    /// output): one entry per secret with its secret_id, rules and paths; never the secret
    /// itself, no line numbers, no timestamps.
    Create(ScanCmd),
    /// Scan history exactly like `git` (same arguments: all history, `--range`, `--staged`) and
    /// write a baseline the same way; entries carry the commit that first introduced each secret.
    Git(GitCmd),
}

#[derive(Debug, Args)]
pub struct ScanCmd {
    /// Files or directories to scan; `-` reads standard input. Default: the current directory.
    pub paths: Vec<PathBuf>,
    /// Also scan files that .gitignore/.ignore exclude (`.env` usually is: use this for audits).
    #[arg(long)]
    pub no_ignore: bool,
    /// Archive levels to open inside files (zip, jar, war, apk, docx, tar, tar.gz, gz, bz2, xz):
    /// members are scanned as `outer.zip!inner/path`; 0 opens none.
    #[arg(long, value_name = "N", default_value_t = crate::archive::DEFAULT_DEPTH)]
    pub archive_depth: usize,
    /// Also report each candidate a built-in filter judged not to be a leak (a failed checksum,
    /// a placeholder, too low entropy, ...), marked with the filter's reason, confidence low.
    /// They never change the exit status and never go into a baseline.
    #[arg(long)]
    pub show_filtered: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args, Clone)]
pub struct GitCmd {
    /// The repository (or any path inside it). Default: the repository containing the current directory.
    pub repo: Option<PathBuf>,
    /// Scan many repositories, one after the other, into one report: FILE lists one repository
    /// path per line (`-`: standard input; blank lines and `#` comments ignored). A secret found
    /// in several repositories is one entry listing every repository that holds it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["repo", "staged", "shard"])]
    pub repos: Option<PathBuf>,
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
    /// Also scan the refs under refs/leaksweep/ (the old history a rewrite keeps), which are
    /// skipped by default (and counted as `backup-ref` skips).
    #[arg(long, conflicts_with_all = ["staged", "range", "since"])]
    pub include_backups: bool,
    /// Only findings introduced by commits with a committer date at or after DATE (RFC 3339 or
    /// YYYY-MM-DD, UTC midnight).
    #[arg(long, value_name = "DATE", conflicts_with = "staged")]
    pub since_date: Option<String>,
    /// Only findings introduced by commits with a committer date at or before DATE (RFC 3339, or
    /// YYYY-MM-DD: that whole day).
    #[arg(long, value_name = "DATE", conflicts_with = "staged")]
    pub until_date: Option<String>,
    /// Only findings at paths matching GLOB (repeatable; a glob without `/` matches file names
    /// anywhere). Commit and tag messages are left out.
    #[arg(long = "path", value_name = "GLOB", conflicts_with = "staged")]
    pub path_globs: Vec<String>,
    /// Scan one shard of the history's objects: INDEX/COUNT (e.g. `--shard 2/4`), a fixed
    /// function of each object id. Every shard walks the whole commit graph, so first commits
    /// and paths stay exact; the output is a shard report (JSON Lines) for `leaksweep merge`,
    /// which gives the report (and exit status) of the unsharded scan.
    #[arg(long, value_name = "INDEX/COUNT", conflicts_with = "staged")]
    pub shard: Option<crate::git::id::Shard>,
    /// Archive levels to open inside history blobs, as `scan --archive-depth` does: members are
    /// scanned as `path!member`; 0 opens none.
    #[arg(long, value_name = "N", default_value_t = crate::archive::DEFAULT_DEPTH)]
    pub archive_depth: usize,
    /// Also report each candidate a built-in filter judged not to be a leak (a failed checksum,
    /// a placeholder, too low entropy, ...), marked with the filter's reason, confidence low.
    /// They never change the exit status and never go into a baseline.
    #[arg(long, conflicts_with = "repos")]
    pub show_filtered: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by every scanning command.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Output format [default: text, or `format` in .leaksweep.toml].
    #[arg(long, short = 'f', value_enum, ignore_case = true)]
    pub format: Option<Format>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show raw secrets (text) / include them in JSON. Never use in public CI logs.
    #[arg(long)]
    pub show_secrets: bool,
    /// Permissions (octal) of the file `-o` writes [default: 600]; e.g. 644 to share a report.
    /// A report written with --show-secrets is always 600.
    #[arg(long, value_name = "MODE", value_parser = parse_report_mode)]
    pub report_mode: Option<u32>,
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
    /// Project config file [default: .leaksweep.toml at the project root (the scan root or a parent, up to the top of the git work tree), if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only findings whose secret is not in this baseline (from `baseline create`, a
    /// JSON report, a gitleaks JSON report or a detect-secrets `.secrets.baseline`) [default:
    /// `baseline` in .leaksweep.toml, if set].
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Layers of base64/percent encoding to decode and scan inside (0 disables) [default: 2].
    #[arg(long, value_name = "N")]
    pub decode_depth: Option<usize>,
    /// Report at most N findings per file or blob; the rest of a file past that is counted as
    /// skipped (`too-many-findings`), which keeps memory bounded on data dumps [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_findings_per_file: Option<usize>,
    /// Worker threads, 1 to 256 (default: all cores).
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
    #[command(flatten)]
    pub switch: SwitchArgs,
}

/// Options with gitleaks' names, for teams switching over.
#[derive(Debug, Args, Clone, Default)]
pub struct SwitchArgs {
    /// Run only this rule (repeatable: only these rules). An unknown id is an error.
    #[arg(long = "enable-rule", value_name = "ID")]
    pub enable_rule: Vec<String>,
    /// Do not run this rule (repeatable). An unknown id is an error.
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disable_rule: Vec<String>,
    /// Show N percent of each secret (0-100) instead of the default short prefix; 100 shows
    /// the raw secret and is treated as --show-secrets (a report file is then 0600).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub redact: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl From<ColorChoice> for crate::config::Color {
    fn from(c: ColorChoice) -> Self {
        match c {
            ColorChoice::Auto => Self::Auto,
            ColorChoice::Always => Self::Always,
            ColorChoice::Never => Self::Never,
        }
    }
}

/// The options as typed, for [`crate::config::ScanConfig::resolve_at`] to resolve.
impl From<&CommonArgs> for crate::config::ScanOptions {
    fn from(a: &CommonArgs) -> Self {
        crate::config::ScanOptions {
            format: a.format,
            output: a.output.clone(),
            show_secrets: a.show_secrets,
            report_mode: a.report_mode,
            exit_code: a.exit_code,
            max_file_size: a.max_file_size.clone(),
            rule_files: a.rule_files.clone(),
            min_severity: a.min_severity.clone(),
            min_confidence: a.min_confidence.clone(),
            config: a.config.clone(),
            baseline: a.baseline.clone(),
            decode_depth: a.decode_depth,
            max_findings_per_file: a.max_findings_per_file,
            threads: a.threads,
            allow_empty: a.allow_empty,
            verbose: a.verbose,
            quiet: a.quiet,
            color: a.color.into(),
            enable_rule: a.switch.enable_rule.clone(),
            disable_rule: a.switch.disable_rule.clone(),
            redact: a.switch.redact,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// List the built-in rules (plus --rules files), grouped by family (category).
    List {
        /// Extra rule file(s) to list with the built-in rules.
        #[arg(long = "rules", value_name = "FILE")]
        rule_files: Vec<PathBuf>,
        /// Only the rules of this family, e.g. `ai`, `payment`, `messaging` (case-insensitive).
        #[arg(long, value_name = "NAME")]
        category: Option<String>,
        /// Only the rules whose id or description contains TEXT (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
    },
    /// Show one rule with its regex and examples.
    Show {
        /// The rule id (`leaksweep rules list`).
        id: String,
    },
    /// Validate a rule file and run its examples.
    Check {
        /// The rule file (TOML, the schema of rules/*.toml).
        file: PathBuf,
    },
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
    /// Take findings from a JSON report (`scan` or `git` with `--format json`). Values a report
    /// made without `--show-secrets` lacks are read back from the places it records.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub from_report: Option<PathBuf>,
    /// With --from-report: the repository a history report was made of, to read values back
    /// from (default: the one holding the current directory).
    #[arg(long, value_name = "DIR", requires = "from_report")]
    pub repo: Option<PathBuf>,
    /// Also rotate the secrets only the git history holds (new values, nothing to replace in
    /// the work tree). Without it they are counted on stderr.
    #[arg(long, conflicts_with_all = ["from_report", "example"])]
    pub history: bool,
    /// Checklist format (standard output).
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = RotateFormat::Text)]
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
    /// Worker threads, 1 to 256 (default: all cores).
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

/// `leaksweep rewrite`.
#[derive(Debug, Args)]
pub struct RewriteCmd {
    #[command(subcommand)]
    pub action: RewriteAction,
}

#[derive(Debug, Subcommand)]
pub enum RewriteAction {
    /// What a rewrite would change and cost, the equivalent filter-repo/BFG commands, the after-steps.
    Plan(RewritePlanArgs),
    /// Rewrite history in place (git2): replace the values, drop the paths, move every ref.
    Apply(RewriteApplyArgs),
    /// Prove the rewrite: no value left in any ref, same topology, every other byte unchanged.
    Verify(RewriteVerifyArgs),
    /// Drop the backup refs, expire reflogs and gc, so the old objects are gone locally.
    Finish(RewriteFinishArgs),
}

/// What to remove: the secrets (from a report and/or a literal list) and paths.
#[derive(Debug, Args, Clone)]
pub struct RewriteInput {
    /// The repository (default: the one containing the current directory).
    pub repo: Option<PathBuf>,
    /// A JSON report with raw secrets (`leaksweep scan --format json --show-secrets -o FILE`).
    #[arg(long, value_name = "FILE")]
    pub from_report: Option<PathBuf>,
    /// Literal secrets, one per line, `literal` or `literal==>replacement` (filter-repo's
    /// --replace-text format; keep it mode 0600).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// Remove files matching GLOB from every commit (repeatable; a glob without `/` matches file
    /// names anywhere).
    #[arg(long = "remove-path", value_name = "GLOB")]
    pub remove_path: Vec<String>,
    /// Replacement text: `{rule}` is the rule id, `{id}` the start of the secret id.
    #[arg(long, value_name = "TEMPLATE", default_value = "REDACTED:{rule}")]
    pub replacement: String,
    /// Extra rule file(s) for the fresh history scan (used when neither --from-report nor
    /// --secrets is given).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// No fresh history scan: only --remove-path (and --from-report/--secrets if given).
    #[arg(long)]
    pub no_scan: bool,
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// Output formats of `rewrite plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct RewritePlanArgs {
    #[command(flatten)]
    pub input: RewriteInput,
    /// Output format of the plan.
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Where to write the filter-repo/BFG replacements file (mode 0600; default
    /// `<gitdir>/leaksweep/replacements.txt`).
    #[arg(long, value_name = "FILE")]
    pub replacements_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RewriteApplyArgs {
    #[command(flatten)]
    pub input: RewriteInput,
    /// Rewrite a repository that does not look like a fresh clone or mirror.
    #[arg(long)]
    pub force: bool,
    /// Drop commits that become empty (their children are re-parented).
    #[arg(long)]
    pub prune_empty: bool,
    /// Print what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the summary.
    #[arg(long, short = 'f', value_enum, ignore_case = true, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct RewriteVerifyArgs {
    #[command(flatten)]
    pub input: RewriteInput,
    /// Also search every object in the object database, reachable or not.
    #[arg(long)]
    pub include_unreachable: bool,
}

#[derive(Debug, Args)]
pub struct RewriteFinishArgs {
    /// The repository (default: the one containing the current directory).
    pub repo: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Parses `--report-mode`: permission bits in octal (`600`, `0644`), at most `777`.
fn parse_report_mode(s: &str) -> Result<u32, crate::error::Error> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o777 && !digits.is_empty() => Ok(m),
        _ => Err(crate::error::Error::FileMode {
            text: s.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScanOptions;
    use clap::FromArgMatches;

    fn common(argv: &[&str]) -> CommonArgs {
        let matches = CommonArgs::augment_args(clap::Command::new("scan"))
            .try_get_matches_from(argv)
            .unwrap();
        CommonArgs::from_arg_matches(&matches).unwrap()
    }

    /// Commands that fill in a `ScanOptions` themselves get what the command line gives when
    /// no option is typed.
    #[test]
    fn default_options_are_the_command_lines() {
        assert_eq!(
            ScanOptions::from(&common(&["scan"])),
            ScanOptions::default()
        );
    }

    #[test]
    fn every_option_carries_over() {
        let o = ScanOptions::from(&common(&[
            "scan",
            "--format=json",
            "-o",
            "r.json",
            "--show-secrets",
            "--report-mode=644",
            "--exit-code=7",
            "--max-file-size=1K",
            "--rules=a.toml",
            "--min-severity=high",
            "--min-confidence=low",
            "--config=c.toml",
            "--baseline=b.json",
            "--decode-depth=0",
            "--max-findings-per-file=3",
            "-j2",
            "--allow-empty",
            "-vv",
            "-q",
            "--color=never",
            "--enable-rule=x",
            "--disable-rule=y",
            "--redact=50",
        ]));
        let want = ScanOptions {
            format: Some(crate::report::Format::Json),
            output: Some("r.json".into()),
            show_secrets: true,
            report_mode: Some(0o644),
            exit_code: 7,
            max_file_size: Some("1K".into()),
            rule_files: vec!["a.toml".into()],
            min_severity: Some("high".into()),
            min_confidence: Some("low".into()),
            config: Some("c.toml".into()),
            baseline: Some("b.json".into()),
            decode_depth: Some(0),
            max_findings_per_file: Some(3),
            threads: Some(2),
            allow_empty: true,
            verbose: 2,
            quiet: true,
            color: crate::config::Color::Never,
            enable_rule: vec!["x".into()],
            disable_rule: vec!["y".into()],
            redact: Some(50),
        };
        assert_eq!(o, want);
    }
}
