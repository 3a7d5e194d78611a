//! The rule file schema. Unknown fields are errors, so a typo in a user's rule file is reported
//! instead of silently ignored.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One rule file: a list of `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// A detection rule. See `rules/*.toml` for the built-in set and the README for the field reference.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable identifier, e.g. `jwt-secret`.
    pub id: String,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// Family used for grouping and rotation advice: `jwt`, `database`, `encryption-key`, ...
    #[serde(default = "default_category")]
    pub category: String,
    #[serde(default)]
    pub severity: Severity,
    /// Literal strings, matched case-insensitively; the rule's regex runs only where one occurs.
    pub keywords: Vec<String>,
    /// Regex with a `(?P<secret>...)` group. `%NAME%` fragments are expanded (see `template.rs`).
    /// An optional `(?P<random>...)` group inside it names the part drawn at random (a bot
    /// token's secret after its numeric id): the entropy and placeholder checks judge that part
    /// alone, so an identifier that reads like a typed run (`1234567890:`) does not sink it.
    #[serde(default)]
    pub regex: String,
    /// Minimum Shannon entropy (bits per character) of the secret.
    #[serde(default)]
    pub entropy: f64,
    /// Minimum length of the secret in characters (waived where the context is strong).
    #[serde(default = "default_min_len")]
    pub min_len: usize,
    /// Lines after a keyword's line that the regex may reach (for YAML keys nested under a parent).
    #[serde(default)]
    pub context_lines: usize,
    /// A cheap test of each keyword hit before the regex runs on its line ([`KeywordGuard`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_guard: Option<KeywordGuard>,
    /// Run on the whole blob rather than on lines around keyword hits (multi-line secrets like PEM).
    #[serde(default)]
    pub multiline: bool,
    /// The secret is base64 of the real value (Kubernetes `data:`); filters apply to the decoded value.
    #[serde(default)]
    pub decode: Option<String>,
    /// Rules with a lower priority yield to overlapping findings of higher priority (generic < specific).
    #[serde(default)]
    pub priority: i32,
    /// Skip placeholder heuristics (for tokens whose format alone proves they are real).
    #[serde(default)]
    pub no_placeholder_check: bool,
    #[serde(default)]
    pub allowlist: Allowlist,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// What a replacement looks like (used by `rotate`).
    #[serde(default)]
    pub rotation: RotationKind,
    /// Path globs of files whose whole content is the secret (`**/master.key`): the rule runs on
    /// every file they match, without a keyword (its `keywords` may then be empty).
    #[serde(default)]
    pub files: Vec<String>,
    /// The path the examples and negatives are scanned at (for a rule with `files`).
    #[serde(default)]
    pub example_path: Option<String>,
    /// Where the format is documented (the provider's own pages first).
    #[serde(default)]
    pub references: Vec<String>,
    /// Strings the rule must flag.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Strings the rule must not flag.
    #[serde(default)]
    pub negatives: Vec<String>,
    /// The tool the rule was converted from (`gitleaks`, by `leaksweep import gitleaks`): such a
    /// rule needs no examples or negatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported: Option<String>,
    /// The file the rule came from (set at load).
    #[serde(skip)]
    pub source_file: String,
}

fn default_category() -> String {
    "generic".into()
}
fn default_min_len() -> usize {
    8
}

impl Rule {
    /// A catch-all rule (category `generic`, or one that yields to specific rules): the kind that
    /// cries wolf in lock files, minified bundles and data lines.
    pub fn is_generic(&self) -> bool {
        self.category == "generic" || self.priority < 0
    }
}

/// What must hold at a keyword hit for the rule's regex to match there: a hit that fails it
/// opens no window, so the regex does not run on a line only for it. For a rule whose keyword
/// is common in code (`://` in every URL, `nfo_` inside `info_`). Each test must follow from
/// the regex (a guard stricter than the regex loses findings; `rules check` runs the examples
/// through it). Byte sets are ASCII characters and ranges: `A-Za-z0-9_-`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordGuard {
    /// The byte before the hit is none of these (the start of the data passes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Only spaces and tabs between the start of the line and the hit.
    #[serde(default)]
    pub line_start: bool,
    /// After the hit, one of these characters comes before any byte of `stop` and before the
    /// line ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    /// The bytes `then` must come before (a newline always ends the search).
    #[serde(default)]
    pub stop: String,
    /// The word holding the hit (the run of `word` bytes around its start) begins with this:
    /// `--` for a long flag's name, so `db_password` in code does not run a flag rule's regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word_prefix: Option<String>,
    /// The bytes of a word for `word_prefix`.
    #[serde(default)]
    pub word: String,
    /// After the hit, one of these strings occurs on its line or on the lines it continues onto
    /// (each ending in `\`), as far as the rule's `context_lines` reach: a shell command's flag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followed_by: Vec<String>,
}

/// Per-rule allowlist: a match is dropped when any entry applies.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Regexes tested against the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive substrings; a secret containing one is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Path globs where the rule does not apply.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    #[default]
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => {
                return Err(Error::UnknownSeverity {
                    text: s.to_string(),
                })
            }
        })
    }
}

/// Offline checks that a match is the real thing (see `matcher/validate.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// Three base64url segments; the header decodes to a JSON object with `alg`.
    Jwt,
    /// A PEM body that decodes as base64 (DER) of plausible size.
    Pem,
    /// GitHub's `ghp_`/`gho_`/... tokens: base62 CRC32 checksum in the last 6 characters.
    GithubCrc32,
    /// npm's `npm_` tokens: the same base62 CRC32 layout as GitHub's.
    NpmCrc32,
    /// AWS access key id: known prefix and base32 body.
    AwsKeyId,
    /// A connection URI whose password is not a well-known default or a template.
    DbUri,
    /// age secret key: Bech32 (BIP-173) checksum over HRP `age-secret-key-` and a 32-byte key.
    AgeBech32,
    /// Grafana `glsa_` token: CRC32 of `glsa_<secret>` in its last 8 hex characters; Grafana
    /// Cloud `glc_` token: base64 of a JSON object naming the org (`o`) and key (`k`).
    Grafana,
    /// Sentry `sntrys_` org token: base64 JSON payload with `iat` between prefix and secret.
    Sentry,
    /// PyPI `pypi-` token: base64url of a version-2 macaroon located at pypi.org or test.pypi.org.
    PypiMacaroon,
    /// Discord bot token: the first segment is base64 of the bot's numeric user id.
    DiscordBot,
    /// GitLab routable token (`glpat-<payload>.<version>.<length><crc>`): base36 CRC32 in the
    /// last 7 characters; the legacy 20-character form carries none.
    GitlabRoutable,
}

impl Validator {
    /// The name rule files use (`validator = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Validator::Jwt => "jwt",
            Validator::Pem => "pem",
            Validator::GithubCrc32 => "github-crc32",
            Validator::NpmCrc32 => "npm-crc32",
            Validator::AwsKeyId => "aws-key-id",
            Validator::DbUri => "db-uri",
            Validator::AgeBech32 => "age-bech32",
            Validator::Grafana => "grafana",
            Validator::Sentry => "sentry",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::DiscordBot => "discord-bot",
            Validator::GitlabRoutable => "gitlab-routable",
        }
    }

    /// One line on what the check proves, for `rules show`.
    pub fn summary(self) -> &'static str {
        match self {
            Validator::Jwt => "header and claims decode (JSON with alg)",
            Validator::Pem => "body decodes as base64 (DER or OpenSSH structure: high confidence)",
            Validator::GithubCrc32 | Validator::NpmCrc32 => {
                "CRC32 checksum in the last 6 base62 characters (a failing one is dropped)"
            }
            Validator::AwsKeyId => "base32 body after the key-type prefix",
            Validator::DbUri => "password is not a default or a template",
            Validator::AgeBech32 => "Bech32 checksum and 32-byte key (a failing one is dropped)",
            Validator::Grafana => {
                "glsa_: CRC32 checksum in the last 8 hex characters (a failing one is dropped); glc_: decodes to JSON with o and k"
            }
            Validator::Sentry => {
                "sntrys_: payload decodes to JSON with iat (one that does not is dropped)"
            }
            Validator::PypiMacaroon => {
                "decodes to a macaroon located at pypi.org or test.pypi.org (one that does not is dropped)"
            }
            Validator::DiscordBot => {
                "first segment decodes to a numeric user id (one that does not is dropped)"
            }
            Validator::GitlabRoutable => {
                "routable form: CRC32 in the last 7 base36 characters (a failing one is dropped); legacy form: shape only"
            }
        }
    }
}

/// What a replacement for a leaked secret looks like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RotationKind {
    /// Same encoding and length as the old value (hex stays hex of the same length, ...).
    #[default]
    Match,
    /// N random bytes, hex-encoded.
    Hex(usize),
    /// N random bytes, base64.
    Base64(usize),
    /// N random bytes, base64url without padding.
    Base64Url(usize),
    /// A password from the password policy.
    Password,
    /// A Django `SECRET_KEY` (50 characters of its usual alphabet).
    Django,
    /// A Rails `secret_key_base` (128 hex characters).
    Rails,
    /// A Laravel `APP_KEY` (`base64:` + 32 random bytes).
    Laravel,
    /// Issued by a provider: cannot be generated locally; revoke and reissue there.
    Revoke,
}

impl FromStr for RotationKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || Error::UnknownRotation {
            text: s.to_string(),
        };
        let bytes = |n: &str| -> Result<usize, Error> {
            n.parse::<usize>()
                .ok()
                .filter(|n| (8..=1024).contains(n))
                .ok_or_else(|| Error::RotationBytes {
                    text: s.to_string(),
                })
        };
        Ok(match s.split_once(':') {
            None => match s {
                "match" => RotationKind::Match,
                "password" => RotationKind::Password,
                "django" => RotationKind::Django,
                "rails" => RotationKind::Rails,
                "laravel" => RotationKind::Laravel,
                "revoke" => RotationKind::Revoke,
                _ => return Err(unknown()),
            },
            Some(("hex", n)) => RotationKind::Hex(bytes(n)?),
            Some(("base64", n)) => RotationKind::Base64(bytes(n)?),
            Some(("base64url", n)) => RotationKind::Base64Url(bytes(n)?),
            Some(_) => return Err(unknown()),
        })
    }
}

impl fmt::Display for RotationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotationKind::Match => f.write_str("match"),
            RotationKind::Hex(n) => write!(f, "hex:{n}"),
            RotationKind::Base64(n) => write!(f, "base64:{n}"),
            RotationKind::Base64Url(n) => write!(f, "base64url:{n}"),
            RotationKind::Password => f.write_str("password"),
            RotationKind::Django => f.write_str("django"),
            RotationKind::Rails => f.write_str("rails"),
            RotationKind::Laravel => f.write_str("laravel"),
            RotationKind::Revoke => f.write_str("revoke"),
        }
    }
}

impl<'de> Deserialize<'de> for RotationKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for RotationKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
