//! Resolves what the user typed (`cli.rs`) and the project's `.leaksweep.toml` (`project.rs`)
//! into what the library needs: the rule set, allowlists, limits, format, output, baseline.
//! The command line wins over the config file, which wins over the defaults. Nothing here reads
//! clap structs: commands hand over a [`ScanOptions`] (the command line's, converted in `cli.rs`,
//! or one they fill in themselves).

use crate::baseline::{Baseline, IgnoreList};
use crate::finding::Confidence;
use crate::matcher::{allow::Allowlists, MatchOptions, Matcher};
use crate::project::{self, ProjectConfig, SizeSetting};
use crate::report::{Format, ReportOptions};
use crate::rules::{self, Rule, Severity};
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: &str = "10M";

/// What a scanning command was asked for, before anything is loaded or checked: the command
/// line's options (see `cli::CommonArgs`, which converts into this) or those a command sets for
/// itself. `Default` is what the command line gives when no option is passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// `--format` [default: `format` in .leaksweep.toml, else text].
    pub format: Option<Format>,
    /// `--output FILE`.
    pub output: Option<PathBuf>,
    /// `--show-secrets`.
    pub show_secrets: bool,
    /// `--report-mode` [default: 0600].
    pub report_mode: Option<u32>,
    /// `--exit-code` [default: 1].
    pub exit_code: u8,
    /// `--max-file-size` [default: `max_file_size` in .leaksweep.toml, else
    /// [`DEFAULT_MAX_FILE_SIZE`]].
    pub max_file_size: Option<String>,
    /// `--rules FILE`...
    pub rule_files: Vec<PathBuf>,
    /// `--min-severity`.
    pub min_severity: Option<String>,
    /// `--min-confidence`.
    pub min_confidence: Option<String>,
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--baseline FILE`.
    pub baseline: Option<PathBuf>,
    /// `--decode-depth`.
    pub decode_depth: Option<usize>,
    /// `--max-findings-per-file`.
    pub max_findings_per_file: Option<usize>,
    /// `--threads` [default: [`default_threads`]].
    pub threads: Option<usize>,
    /// `--allow-empty`.
    pub allow_empty: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--quiet`.
    pub quiet: bool,
    /// `--color` [default: auto].
    pub color: Color,
    /// `--enable-rule ID`...: only these rules.
    pub enable_rule: Vec<String>,
    /// `--disable-rule ID`...
    pub disable_rule: Vec<String>,
    /// `--redact=N`.
    pub redact: Option<u8>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            format: None,
            output: None,
            show_secrets: false,
            report_mode: None,
            exit_code: 1,
            max_file_size: None,
            rule_files: Vec::new(),
            min_severity: None,
            min_confidence: None,
            config: None,
            baseline: None,
            decode_depth: None,
            max_findings_per_file: None,
            threads: None,
            allow_empty: false,
            verbose: 0,
            quiet: false,
            color: Color::Auto,
            enable_rule: Vec::new(),
            disable_rule: Vec::new(),
            redact: None,
        }
    }
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// When standard output is a terminal, no `--output` is given and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

/// Everything a scanning command needs, validated.
pub struct ScanConfig {
    pub rules: Vec<Rule>,
    pub max_file_size: u64,
    pub format: Format,
    pub output: Option<PathBuf>,
    /// Permissions of the file `output` names (`--report-mode`, default 0600).
    pub report_mode: u32,
    pub report: ReportOptions,
    pub exit_code: u8,
    pub min_severity: Option<Severity>,
    pub min_confidence: Option<Confidence>,
    /// Decoding depth and project allowlists, handed to the matcher.
    pub match_options: MatchOptions,
    /// `--baseline FILE` (or `baseline` in .leaksweep.toml): findings whose secret it lists are
    /// not reported.
    pub baseline: Option<Baseline>,
    /// `.leaksweepignore` at the project root.
    pub ignore: Option<IgnoreList>,
    /// The `.leaksweep.toml` in effect, if any.
    pub config_file: Option<PathBuf>,
    pub threads: usize,
    pub allow_empty: bool,
    pub verbose: u8,
    pub quiet: bool,
    /// Whether progress bars may be drawn (stderr is a terminal and not --quiet).
    pub progress: bool,
    /// Unreadable items are reported but do not force exit 2 (set by commands that offer it).
    pub ignore_errors: bool,
    /// `--redact=N` below 100: the percentage of each secret its redaction shows.
    pub redact_percent: Option<u8>,
}

/// The environment variable naming a config file (used when `--config` is not given).
pub const CONFIG_ENV: &str = "LEAKSWEEP_CONFIG";
/// The environment variable holding a config's text (used when neither `--config` nor
/// `LEAKSWEEP_CONFIG` is given); it wins over `.leaksweep.toml` at the scan root.
pub const CONFIG_TOML_ENV: &str = "LEAKSWEEP_CONFIG_TOML";

/// The project config: `--config FILE`, else `$LEAKSWEEP_CONFIG` (a path), else
/// `$LEAKSWEEP_CONFIG_TOML` (the text), else `.leaksweep.toml` at `root`.
fn load_project(args: &ScanOptions, root: &Path) -> Result<Option<ProjectConfig>> {
    let env_path = std::env::var_os(CONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if let Some(p) = args.config.as_deref().or(env_path.as_deref()) {
        return Ok(project::load(Some(p), root)?);
    }
    match std::env::var(CONFIG_TOML_ENV) {
        Ok(text) if !text.trim().is_empty() => {
            let mut c = project::parse(&format!("${CONFIG_TOML_ENV}"), &text)?;
            c.path = PathBuf::from(format!("${CONFIG_TOML_ENV}"));
            Ok(Some(c))
        }
        _ => Ok(project::load(None, root)?),
    }
}

/// The directory a config's `rule_files` are relative to: the config's own, or the scan root
/// for `$LEAKSWEEP_CONFIG_TOML`.
fn config_dir(p: &ProjectConfig, root: &Path) -> PathBuf {
    if p.path.as_os_str().to_string_lossy().starts_with('$') {
        return root.to_path_buf();
    }
    p.path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `--enable-rule` (only these) and `--disable-rule`; an unknown id is an error with the
/// nearest id as a suggestion.
fn select_rules(mut rules: Vec<Rule>, s: &ScanOptions) -> Result<Vec<Rule>> {
    for (flag, ids) in [
        ("--enable-rule", &s.enable_rule),
        ("--disable-rule", &s.disable_rule),
    ] {
        for id in ids.iter() {
            if !rules.iter().any(|r| &r.id == id) {
                let hint = crate::import::did_you_mean(id, rules.iter().map(|r| r.id.as_str()))
                    .map(|m| format!(" (did you mean '{m}'?)"))
                    .unwrap_or_default();
                bail!("{flag} {id}: no rule with id '{id}'{hint}; see `leaksweep rules list`");
            }
        }
    }
    if !s.enable_rule.is_empty() {
        rules.retain(|r| s.enable_rule.contains(&r.id));
    }
    rules.retain(|r| !s.disable_rule.contains(&r.id));
    if rules.is_empty() {
        bail!("--disable-rule turned off every rule: nothing would be found");
    }
    Ok(rules)
}

/// The project root found from `root`, its config and the rule set, as [`ScanConfig::resolve_at`]
/// resolves them.
fn project_rules(
    args: &ScanOptions,
    root: &Path,
) -> Result<(project::ProjectRoot, Option<ProjectConfig>, Vec<Rule>)> {
    let found = project::discover(root);
    let project = load_project(args, &found.dir)?;
    let rules = assemble_rules(&args.rule_files, project.as_ref(), &found.dir)?;
    let rules = select_rules(rules, args)?;
    Ok((found, project, rules))
}

/// Only the rule set [`ScanConfig::resolve_at`] would resolve (built-in rules, the project
/// config's, `--rules` files, `--enable-rule`/`--disable-rule`), for a command that needs the
/// rules without scanning.
pub fn rules_at(args: &ScanOptions, root: &Path) -> Result<Vec<Rule>> {
    Ok(project_rules(args, root)?.2)
}

impl ScanConfig {
    /// Resolves with the current directory as the scan root (`.leaksweep.toml` and
    /// `.leaksweepignore` are looked for there and up to the top of its git work tree).
    pub fn resolve(args: &ScanOptions) -> Result<Self> {
        Self::resolve_at(args, Path::new("."))
    }

    /// Resolves for a scan rooted at `root` (a directory): `.leaksweep.toml` and
    /// `.leaksweepignore` are those of the project root found from it ([`project::discover`]).
    pub fn resolve_at(args: &ScanOptions, root: &Path) -> Result<Self> {
        let (found, project, rules) = project_rules(args, root)?;
        let root = found.dir.as_path();
        let configured_size = project.as_ref().and_then(|p| p.max_file_size.as_ref());
        let max_file_size = match (&args.max_file_size, configured_size) {
            (Some(s), _) => {
                parse_size(s).with_context(|| format!("invalid --max-file-size '{s}'"))?
            }
            (None, Some(SizeSetting::Bytes(n))) => *n,
            (None, Some(SizeSetting::Text(s))) => parse_size(s).with_context(|| {
                format!(
                    "{}: invalid max_file_size '{s}'",
                    config_name(project.as_ref())
                )
            })?,
            (None, None) => parse_size(DEFAULT_MAX_FILE_SIZE)?,
        };
        if max_file_size == 0 {
            // Every non-empty file would be skipped and an empty one would pass the scan.
            bail!("--max-file-size (or max_file_size) must be at least 1 byte");
        }
        let min_severity = match &args.min_severity {
            Some(s) => Some(s.parse::<Severity>().context("invalid --min-severity")?),
            None => project.as_ref().and_then(|p| p.min_severity),
        };
        let min_confidence = match &args.min_confidence {
            Some(s) => Some(
                s.parse::<Confidence>()
                    .context("invalid --min-confidence")?,
            ),
            None => project.as_ref().and_then(|p| p.min_confidence),
        };
        let format = args
            .format
            .or(project.as_ref().and_then(|p| p.format))
            .unwrap_or(Format::Text);
        let decode_depth = args
            .decode_depth
            .or(project.as_ref().and_then(|p| p.decode_depth))
            .unwrap_or(2);
        let max_findings = match args
            .max_findings_per_file
            .or(project.as_ref().and_then(|p| p.max_findings_per_file))
        {
            Some(0) => bail!("max findings per file must be at least 1"),
            Some(n) => n,
            None => crate::matcher::DEFAULT_MAX_FINDINGS,
        };
        let root_shown = if found.prefix.is_empty() {
            crate::source::worktree::display(root)
        } else {
            String::new()
        };
        let allow = match &project {
            Some(p) => {
                let per_rule: Vec<_> = p
                    .rules
                    .iter()
                    .map(|(id, r)| (id.clone(), r.allowlist.clone()))
                    .collect();
                let mut a = Allowlists::new(&p.allowlist, &per_rule, &root_shown)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.path.display()))?
                    .with_prefix(found.prefix.clone());
                // Its own `[[rule]]` examples would match: the config file is not scanned.
                a.skip_file(crate::source::worktree::display(&p.path));
                for f in &p.rule_files {
                    a.skip_file(crate::source::worktree::display(
                        &config_dir(p, root).join(f),
                    ));
                }
                a
            }
            None => Allowlists::default(),
        };
        let baseline = match (&args.baseline, project.as_ref()) {
            (Some(path), _) => Some(Baseline::load(path)?),
            (None, Some(p)) => match &p.baseline {
                // Relative to the config file, like everything else in it.
                Some(b) => {
                    let dir = p.path.parent().unwrap_or(Path::new(""));
                    let path = if dir.as_os_str().is_empty() {
                        b.clone()
                    } else {
                        dir.join(b)
                    };
                    Some(Baseline::load(&path).with_context(|| {
                        format!(
                            "{}: baseline = {:?}",
                            p.path.display(),
                            b.display().to_string()
                        )
                    })?)
                }
                None => None,
            },
            (None, None) => None,
        };
        for name in [
            crate::baseline::IGNORE_FILE,
            crate::baseline::GITLEAKS_IGNORE_FILE,
        ] {
            let path = root.join(name);
            if std::fs::metadata(&path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
                bail!(
                    "{}: not a regular file (a FIFO or device is never read: it would block)",
                    path.display()
                );
            }
        }
        let ignore = IgnoreList::load_root(root)?;
        let color = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                args.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let threads = resolve_threads(args.threads)?;
        Ok(ScanConfig {
            rules,
            max_file_size,
            format,
            output: args.output.clone(),
            report_mode: args.report_mode.unwrap_or(crate::output::PRIVATE_MODE),
            report: ReportOptions {
                show_secrets: args.show_secrets || args.redact == Some(100),
                color,
                verbose: args.verbose > 0,
                quiet: args.quiet,
            },
            exit_code: args.exit_code,
            min_severity,
            min_confidence,
            match_options: MatchOptions {
                decode_depth,
                max_findings,
                allow: Arc::new(allow),
            },
            baseline,
            ignore,
            config_file: project.map(|p| p.path),
            threads,
            allow_empty: args.allow_empty,
            verbose: args.verbose,
            quiet: args.quiet,
            progress: !args.quiet && std::io::stderr().is_terminal(),
            ignore_errors: false,
            redact_percent: args.redact.filter(|&n| n < 100 && !args.show_secrets),
        })
    }

    /// The matcher for this configuration (rules, decoding depth, allowlists).
    pub fn matcher(&self) -> Result<Matcher> {
        Ok(Matcher::new(self.rules.clone())?.with_options(self.match_options.clone()))
    }
}

fn config_name(p: Option<&ProjectConfig>) -> String {
    p.map_or_else(
        || project::FILE_NAME.to_string(),
        |p| p.path.display().to_string(),
    )
}

/// Most worker threads `--threads` accepts: past a few hundred, threads only add memory (each
/// history worker opens the repository) and contention, and thousands exhaust the process.
pub const MAX_THREADS: usize = 256;

/// `--threads N`: 1 to [`MAX_THREADS`]; absent, every core (at most [`MAX_THREADS`]).
pub fn resolve_threads(arg: Option<usize>) -> Result<usize> {
    match arg {
        Some(0) => bail!("--threads must be at least 1 (leave it out to use every core)"),
        Some(n) if n > MAX_THREADS => {
            bail!("--threads {n} is too many: at most {MAX_THREADS} worker threads")
        }
        Some(n) => Ok(n),
        None => Ok(default_threads()),
    }
}

/// Worker threads when none are asked for: every core (2 when that cannot be known), at most
/// [`MAX_THREADS`].
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(MAX_THREADS)
}

/// The built-in rules plus user rule files; a user rule with a built-in id replaces it.
pub fn load_rules(files: &[PathBuf]) -> Result<Vec<Rule>> {
    assemble_rules(files, None, Path::new("."))
}

/// The rule set: built-in rules (unless the project config says `extend_builtin = false`), then
/// the config's `[[rule]]` tables and `rule_files`, then `--rules` files (a rule with an existing
/// id replaces it);
/// then per-rule severity overrides and `disable`. Unknown ids in `disable` or `[rules.<id>]`
/// are errors, so a typo does not silently leave a rule on.
fn assemble_rules(
    files: &[PathBuf],
    project: Option<&ProjectConfig>,
    root: &Path,
) -> Result<Vec<Rule>> {
    let mut rules = match project {
        Some(p) if !p.extend_builtin => Vec::new(),
        _ => rules::builtin()?,
    };
    let merge = |rules: &mut Vec<Rule>, extra: Vec<Rule>| {
        for r in extra {
            match rules.iter_mut().find(|b| b.id == r.id) {
                Some(slot) => *slot = r,
                None => rules.push(r),
            }
        }
    };
    if let Some(p) = project {
        let shown = p.path.display().to_string();
        merge(&mut rules, rules::prepare(&shown, p.rule.clone())?);
        for f in &p.rule_files {
            let path = config_dir(p, root).join(f);
            let loaded = rules::load_file(&path).with_context(|| format!("{shown}: rule_files"))?;
            merge(&mut rules, loaded);
        }
    }
    for f in files {
        merge(&mut rules, rules::load_file(f)?);
    }
    if let Some(p) = project {
        let shown = p.path.display();
        for (id, settings) in &p.rules {
            let Some(rule) = rules.iter_mut().find(|r| &r.id == id) else {
                bail!("{shown}: [rules.{id}]: no rule with id '{id}' (see `leaksweep rules list`)");
            };
            if let Some(sev) = settings.severity {
                rule.severity = sev;
            }
        }
        for id in &p.disable {
            let before = rules.len();
            rules.retain(|r| &r.id != id);
            if rules.len() == before {
                bail!("{shown}: disable: no rule with id '{id}' (see `leaksweep rules list`)");
            }
        }
        if rules.is_empty() {
            bail!(
                "{shown}: no rules left (extend_builtin = false needs [[rule]] tables or --rules files)"
            );
        }
    }
    Ok(rules)
}

/// Parses `10M`, `512K`, `1G`, `2048` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'B' => 1,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => bail!("unknown size suffix '{c}' (use K, M or G)"),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .with_context(|| format!("'{num}' is not a number"))?;
    n.checked_mul(mult).context("size too large")
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("10M").unwrap(), 10 << 20);
        assert_eq!(super::parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(super::parse_size("77").unwrap(), 77);
        assert!(super::parse_size("10X").is_err());
        assert!(super::parse_size("abc").is_err());
    }
}
