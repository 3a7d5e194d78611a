//! `.leaksweep.toml`, the project configuration: extra rules, disabled rules, allowlists, limits
//! and defaults, kept in the repository so every developer and CI job scans the same way.
//!
//! The file is found at the project root ([`discover`]: the nearest directory at or above the
//! scan root that holds it or `.leaksweepignore`, no higher than the top of the git work tree),
//! or given with `--config FILE`; command-line options win over it. Unknown keys and bad values
//! are errors that name the file, the key and the line (toml's spans are turned into
//! `line L column C`), because a typo in `disable` or `allowlist` that is silently ignored is how
//! real leaks get through. `config.rs` merges the result with the
//! command line; nothing here reads clap structs.

use crate::finding::Confidence;
use crate::matcher::allow::AllowSpec;
use crate::report::Format;
use crate::rules::{Rule, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name looked for at the project root.
pub const FILE_NAME: &str = ".leaksweep.toml";

/// Where a scan's project files (`.leaksweep.toml`, `.leaksweepignore`) are, found from the scan
/// root by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRoot {
    /// The directory, as a path usable from the current directory.
    pub dir: PathBuf,
    /// The scan root's path below `dir`, with a trailing `/` (`src/` for `scan .` run in `src`),
    /// or empty: put in front of a displayed path, it gives the path relative to `dir`, which is
    /// what the config's path globs are written against.
    pub prefix: String,
}

/// Finds the project root for a scan rooted at `start` (a directory) the way git finds `.git`:
/// `start` and then each parent, the first that holds `.leaksweep.toml` or `.leaksweepignore`,
/// looking no higher than the top of the git work tree holding `start` (the directory with
/// `.git`). Outside a git work tree, or when no directory up to its top holds either file,
/// `start` itself (a config above a repository is not that repository's).
pub fn discover(start: &Path) -> ProjectRoot {
    let here = ProjectRoot {
        dir: start.to_path_buf(),
        prefix: String::new(),
    };
    let Ok(abs) = start.canonicalize() else {
        return here;
    };
    let mut found = None;
    for (up, dir) in abs.ancestors().enumerate() {
        let holds = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok();
        if found.is_none() && (holds(FILE_NAME) || holds(crate::baseline::IGNORE_FILE)) {
            found = Some(up);
        }
        if holds(".git") {
            break;
        }
        if dir.parent().is_none() {
            // No work tree above `start`: it is its own root.
            return here;
        }
    }
    let Some(up) = found else {
        return here;
    };
    // Climb lexically while `start` has names to drop, then with `..`; the levels climbed with
    // `..` are the prefix of displayed paths.
    let mut dir = start.to_path_buf();
    let mut popped = 0;
    while popped < up {
        match dir.components().next_back() {
            Some(std::path::Component::Normal(_)) => {
                dir.pop();
                popped += 1;
            }
            Some(std::path::Component::CurDir) => {
                dir.pop();
            }
            _ => break,
        }
    }
    let rest = up - popped;
    if rest == 0 {
        return ProjectRoot {
            dir: if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            },
            prefix: String::new(),
        };
    }
    if dir
        .components()
        .any(|c| c == std::path::Component::ParentDir)
        || dir.is_absolute()
    {
        // `..` in what the user typed: the root by its full path, globs by displayed path.
        return ProjectRoot {
            dir: abs.ancestors().nth(up).unwrap_or(&abs).to_path_buf(),
            prefix: String::new(),
        };
    }
    let below = abs.ancestors().nth(popped).unwrap_or(&abs);
    let names: Vec<String> = below
        .components()
        .rev()
        .take(rest)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let prefix: String = names.iter().rev().map(|n| format!("{n}/")).collect();
    for _ in 0..rest {
        dir.push("..");
    }
    ProjectRoot { dir, prefix }
}

/// The schema of `.leaksweep.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Keep the built-in rules (default) or use only `[[rule]]` tables and `--rules` files.
    #[serde(default = "default_true")]
    pub extend_builtin: bool,
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Extra rules (same schema as `rules/*.toml`); an id equal to a built-in one replaces it.
    #[serde(default)]
    pub rule: Vec<Rule>,
    /// Rule files to load (relative to this file's directory), like `--rules FILE`.
    #[serde(default)]
    pub rule_files: Vec<PathBuf>,
    /// Global allowlist.
    #[serde(default)]
    pub allowlist: AllowSpec,
    /// Per-rule settings: `[rules.<id>]` with `severity` and `[rules.<id>.allowlist]`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSettings>,
    /// Skip files larger than this (`"10M"` or a number of bytes).
    pub max_file_size: Option<SizeSetting>,
    /// Default output format.
    pub format: Option<Format>,
    /// Layers of base64/percent encoding to peel (0 disables decoding).
    pub decode_depth: Option<usize>,
    /// Findings reported per file or blob at most.
    pub max_findings_per_file: Option<usize>,
    /// Default `--min-severity`.
    pub min_severity: Option<Severity>,
    /// Default `--min-confidence`.
    pub min_confidence: Option<Confidence>,
    /// Default `--baseline`: a baseline file (or JSON report), relative to this file's directory,
    /// used by every scanning command (`scan`, `git`, `git --staged` and so the hooks).
    pub baseline: Option<PathBuf>,
    /// Where the file was read from (set at load).
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_true() -> bool {
    true
}

/// `[rules.<id>]`: settings for one existing rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Overrides the rule's severity.
    pub severity: Option<Severity>,
    /// Added to the rule's allowlist.
    #[serde(default)]
    pub allowlist: AllowSpec,
}

/// A size written as text (`"512K"`) or a number of bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SizeSetting {
    Bytes(u64),
    Text(String),
}

/// A configuration error, already phrased for the user (`FILE: message at line L column C`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Loads `explicit` (an error when missing), else `root/.leaksweep.toml` when it exists.
pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Option<ProjectConfig>, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = if root.as_os_str().is_empty() || root == Path::new(".") {
                PathBuf::from(FILE_NAME)
            } else {
                root.join(FILE_NAME)
            };
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError(format!("{shown}: cannot read config file: {e}")))?;
    parse(&shown, &text).map(|mut c| {
        c.path = path;
        Some(c)
    })
}

/// Parses the text of a config file; `shown` names it in errors.
pub fn parse(shown: &str, text: &str) -> Result<ProjectConfig, ConfigError> {
    toml::from_str::<ProjectConfig>(text).map_err(|e| {
        let message = e.message().trim_end().to_string();
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                ConfigError(format!("{shown}: {message} at line {line} column {column}"))
            }
            None => ConfigError(format!("{shown}: {message}")),
        }
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line() {
        let e = parse(
            ".leaksweep.toml",
            "extend_builtin = true\n\ndisabel = [\"x\"]\n",
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with(".leaksweep.toml: unknown field `disabel`"),
            "{s}"
        );
        assert!(s.ends_with("at line 3 column 1"), "{s}");
    }

    #[test]
    fn full_schema_parses() {
        let c = parse(
            "x",
            r#"
extend_builtin = false
disable = ["generic-secret"]
max_file_size = "2M"
format = "json"
decode_depth = 3
min_severity = "low"
min_confidence = "medium"
[allowlist]
paths = ["docs/**"]
regexes = ["^dev-"]
lines = ["NOT_A_SECRET"]
stopwords = ["sandbox"]
[rules.jwt-secret]
severity = "high"
[rules.jwt-secret.allowlist]
stopwords = ["local"]
"#,
        )
        .unwrap();
        assert!(!c.extend_builtin);
        assert_eq!(c.rules["jwt-secret"].severity, Some(Severity::High));
        assert_eq!(c.format, Some(Format::Json));
        assert!(matches!(c.max_file_size, Some(SizeSetting::Text(_))));
        let e = parse("x", "[rules.a]\nseverity = \"severe\"\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
