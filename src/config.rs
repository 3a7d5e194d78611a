//! Resolves what the user typed (`cli.rs`) into what the library needs: the rule set, limits,
//! format and output. Nothing below this module reads clap structs.

use crate::cli::{ColorChoice, CommonArgs};
use crate::matcher::Matcher;
use crate::report::{Format, ReportOptions};
use crate::rules::{self, Rule, Severity};
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Everything a scanning command needs, validated.
pub struct ScanConfig {
    pub rules: Vec<Rule>,
    pub max_file_size: u64,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub report: ReportOptions,
    pub exit_code: u8,
    pub min_severity: Option<Severity>,
    pub threads: usize,
    pub allow_empty: bool,
    pub verbose: u8,
    pub quiet: bool,
    /// Whether progress bars may be drawn (stderr is a terminal and not --quiet).
    pub progress: bool,
    /// Unreadable items are reported but do not force exit 2 (set by commands that offer it).
    pub ignore_errors: bool,
}

impl ScanConfig {
    pub fn resolve(args: &CommonArgs) -> Result<Self> {
        let rules = load_rules(&args.rule_files)?;
        let max_file_size = parse_size(&args.max_file_size)
            .with_context(|| format!("invalid --max-file-size '{}'", args.max_file_size))?;
        let min_severity = match &args.min_severity {
            Some(s) => Some(
                s.parse::<Severity>()
                    .map_err(anyhow::Error::msg)
                    .context("invalid --min-severity")?,
            ),
            None => None,
        };
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                args.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let threads = match args.threads {
            Some(0) => bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        Ok(ScanConfig {
            rules,
            max_file_size,
            format: args.format,
            output: args.output.clone(),
            report: ReportOptions {
                show_secrets: args.show_secrets,
                color,
                verbose: args.verbose > 0,
            },
            exit_code: args.exit_code,
            min_severity,
            threads,
            allow_empty: args.allow_empty,
            verbose: args.verbose,
            quiet: args.quiet,
            progress: !args.quiet && std::io::stderr().is_terminal(),
            ignore_errors: false,
        })
    }

    pub fn matcher(&self) -> Result<Matcher> {
        Matcher::new(self.rules.clone()).map_err(anyhow::Error::msg)
    }
}

/// The built-in rules plus user rule files; a user rule with a built-in id replaces it.
pub fn load_rules(files: &[PathBuf]) -> Result<Vec<Rule>> {
    let mut rules = rules::builtin()?;
    for f in files {
        for r in rules::load_file(f)? {
            match rules.iter_mut().find(|b| b.id == r.id) {
                Some(slot) => *slot = r,
                None => rules.push(r),
            }
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
