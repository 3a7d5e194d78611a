//! The library's one error type. Every variant names what the user needs to act on: the file,
//! the rule, the line or the table where the problem is, as far as the code that fails knows it.
//! The messages are part of the interface (tests and users match on them): change their text
//! only on purpose.
//!
//! The command layer (`cmd/`) wraps these in `anyhow` with its own context. Only the two I/O
//! variants carry their cause as a `source`; every other variant already says everything in its
//! message, so an error chain printed in full never repeats a cause.

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An input the library cannot use: a rule file, an allowlist, a baseline or ignore file, a
/// gitleaks configuration, or a value given on the command line or in a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Rule files (`rules/`).
    /// A rule file that cannot be read.
    #[error("{file}: cannot read rule file: {source}")]
    RuleFileIo {
        file: String,
        source: std::io::Error,
    },
    /// A rule file that is not valid TOML or does not have the rule file's shape. `message`
    /// gives the position, never the offending line (it may hold a secret).
    #[error("{file}: invalid rule file: {message}")]
    RuleFileParse { file: String, message: String },
    /// One rule of a rule file that is invalid (bad regex, missing example, duplicate id, ...).
    #[error("{file}: rule '{rule}': {message}")]
    Rule {
        file: String,
        rule: String,
        message: String,
    },

    // Values of rule fields and options.
    /// A severity that is not one of the five names.
    #[error("unknown severity '{text}' (info, low, medium, high, critical)")]
    UnknownSeverity { text: String },
    /// A confidence that is not one of the three names.
    #[error("unknown confidence '{text}' (low, medium, high)")]
    UnknownConfidence { text: String },
    /// A `--report-mode` that is not octal permission bits.
    #[error("`{text}` is not a file mode: give octal permission bits such as 600 or 644")]
    FileMode { text: String },
    /// A rotation kind that is not known.
    #[error("unknown rotation kind '{text}'")]
    UnknownRotation { text: String },
    /// A rotation kind with a byte count (`hex:N`) out of range.
    #[error("rotation '{text}': byte count must be 8..=1024")]
    RotationBytes { text: String },

    // Compiling rules for the matcher (`matcher/`).
    /// A path or `files` glob of a rule that does not compile (`key` is `path` or `files`).
    #[error("rule '{rule}': {key} glob '{glob}': {message}")]
    RuleGlob {
        rule: String,
        key: &'static str,
        glob: String,
        message: String,
    },
    /// A rule's globs that do not build into one set.
    #[error("rule '{rule}': {message}")]
    RuleGlobSet { rule: String, message: String },
    /// A rule's regex that does not compile (found when its keywords first hit).
    #[error("rule '{rule}': {error}")]
    RuleRegex { rule: String, error: regex::Error },
    /// The keyword automaton over every rule cannot be built.
    #[error("keyword prefilter: {message}")]
    Prefilter { message: String },

    // Project allowlists (`matcher/allow.rs`).
    /// An allowlist path glob that does not compile; `table` is `allowlist` or
    /// `rules.<id>.allowlist`.
    #[error("{table}.paths: glob '{glob}': {message}")]
    AllowGlob {
        table: String,
        glob: String,
        message: String,
    },
    /// An allowlist's path globs that do not build into one set.
    #[error("{table}.paths: {message}")]
    AllowGlobSet { table: String, message: String },
    /// An allowlist regex (`key`: `regexes`, `path_regexes` or `lines`) that does not compile.
    #[error("{table}.{key}: regex '{regex}': {error}")]
    AllowRegex {
        table: String,
        key: &'static str,
        regex: String,
        error: regex::Error,
    },

    // Baselines and ignore files (`baseline.rs`).
    /// A baseline or ignore file that cannot be read.
    #[error("{path}: cannot read: {source}")]
    BaselineIo {
        path: String,
        source: std::io::Error,
    },
    /// A file given as a baseline that is neither a baseline nor a report leaksweep reads.
    #[error("{path}: not a leaksweep baseline or JSON report: {message} (make one with `leaksweep baseline create -o FILE`)")]
    BaselineParse { path: String, message: String },
    /// A line of `.leaksweepignore` that is neither a secret id (or prefix) nor a fingerprint.
    #[error("{path}:{line}: not a secret_id (64 hex digits, or a prefix of at least 12) or a fingerprint (commit:path:rule:line): '{text}'")]
    IgnoreLine {
        path: String,
        line: usize,
        text: String,
    },
    /// A line of `.gitleaksignore` that is not a gitleaks fingerprint.
    #[error("{path}:{line}: not a gitleaks fingerprint (commit:file:rule:line or file:rule:line): '{text}'")]
    GitleaksIgnoreLine {
        path: String,
        line: usize,
        text: String,
    },

    // Gitleaks configurations (`import/gitleaks.rs`).
    /// A gitleaks configuration (or a file it extends) that cannot be read.
    #[error("{file}: cannot read: {error}")]
    GitleaksIo { file: String, error: std::io::Error },
    /// A gitleaks configuration that is not TOML; `line` where the parser says.
    #[error("{file}: not a gitleaks configuration (TOML): {message}{}", at_line(.line))]
    GitleaksToml {
        file: String,
        message: String,
        line: Option<usize>,
    },
    /// A gitleaks configuration whose shape is wrong (`[extend] must be a table`, ...).
    #[error("{file}: {message}")]
    GitleaksShape { file: String, message: String },
    /// A gitleaks regex that does not parse.
    #[error("does not parse: {message}")]
    RegexSyntax { message: String },
    /// A gitleaks `secretGroup` past the regex's last group.
    #[error("secretGroup = {group}, but the regex has {groups} group(s)")]
    NoSuchGroup { group: usize, groups: usize },
}

/// The message alone, for code that still reports errors as text (`rotate::keygen_recipe`
/// parses a [`crate::rules::RotationKind`] with `?` into its `String` error).
impl From<Error> for String {
    fn from(e: Error) -> String {
        e.to_string()
    }
}

/// ` at line N`, or nothing.
fn at_line(line: &Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Only the I/O variants have a source: a chain printed with `{:#}` never says a cause twice.
    #[test]
    fn only_io_variants_chain_a_source() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let with = Error::RuleFileIo {
            file: "r.toml".into(),
            source: io(),
        };
        assert_eq!(with.to_string(), "r.toml: cannot read rule file: gone");
        assert!(with.source().is_some());
        let without = Error::GitleaksIo {
            file: "g.toml".into(),
            error: io(),
        };
        assert_eq!(without.to_string(), "g.toml: cannot read: gone");
        assert!(without.source().is_none());
    }

    #[test]
    fn gitleaks_toml_names_the_line_when_known() {
        let e = |line| Error::GitleaksToml {
            file: "g.toml".into(),
            message: "expected `=`".into(),
            line,
        };
        assert_eq!(
            e(Some(3)).to_string(),
            "g.toml: not a gitleaks configuration (TOML): expected `=` at line 3"
        );
        assert_eq!(
            e(None).to_string(),
            "g.toml: not a gitleaks configuration (TOML): expected `=`"
        );
    }

    /// Confidence and severity text parse in one place each, and name the accepted words.
    #[test]
    fn confidence_and_severity_round_trip() {
        use crate::finding::Confidence;
        use crate::rules::Severity;
        for c in [Confidence::Low, Confidence::Medium, Confidence::High] {
            assert_eq!(c.as_str().parse::<Confidence>().unwrap(), c);
        }
        assert_eq!(
            "High".parse::<Confidence>().unwrap_err().to_string(),
            "unknown confidence 'High' (low, medium, high)"
        );
        for s in [Severity::Info, Severity::Low, Severity::Critical] {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert_eq!(
            "urgent".parse::<Severity>().unwrap_err().to_string(),
            "unknown severity 'urgent' (info, low, medium, high, critical)"
        );
    }
}
