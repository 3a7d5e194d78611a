//! Rotation: new secret material for every leaked secret, and the plan that gets it deployed.
//!
//! `rotate` consumes findings (a fresh scan or a JSON report read back) and never scans itself
//! (DESIGN.md). Findings are grouped by [`SecretId`]: one secret found in several places (a
//! password as `DATABASE_PASSWORD=` and inside `DATABASE_URL`) gets one new value, written into
//! every place. The rule's [`RotationKind`] decides what the replacement looks like; `match` keeps
//! the old value's encoding and length (an AES key stays a key of the same size), with a floor on
//! strength for signing secrets, because a weak old JWT secret must not beget a weak new one.
//!
//! Every value comes from the operating system's CSPRNG ([`OsRng`]) and lives in a [`Secret`]
//! (zeroized on drop). Provider-issued credentials (`revoke`) get no value, only advice
//! ([`providers`]).

pub mod checklist;
pub mod dotenv;
pub mod providers;

use crate::finding::{Finding, Secret, SecretId};
use crate::replace::{Literals, Pair};
use crate::rules::RotationKind;
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use zeroize::Zeroizing;

/// Letters, digits and `-_.~`: unreserved in URLs (RFC 3986) and inert in shells and dotenv files.
pub const SAFE_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
/// Letters and digits.
pub const ALNUM_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Django's `get_random_secret_key()` alphabet.
pub const DJANGO_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
/// Default password length.
pub const PASSWORD_LEN: usize = 32;

/// How passwords are generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub charset: Vec<u8>,
    pub password_len: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            charset: SAFE_ALPHABET.to_vec(),
            password_len: PASSWORD_LEN,
        }
    }
}

impl Policy {
    /// Parses `--charset`: `safe` (default), `alnum`, or a literal set of at least 16 distinct
    /// printable ASCII characters.
    pub fn charset(spec: &str) -> Result<Vec<u8>, String> {
        match spec {
            "safe" => Ok(SAFE_ALPHABET.to_vec()),
            "alnum" => Ok(ALNUM_ALPHABET.to_vec()),
            s => {
                let mut set: Vec<u8> = s.bytes().collect();
                if set.iter().any(|b| !b.is_ascii_graphic()) {
                    return Err("--charset: use printable ASCII characters without spaces".into());
                }
                set.sort_unstable();
                set.dedup();
                if set.len() < 16 {
                    return Err(format!(
                        "--charset: {} distinct characters is too few (at least 16), or use 'safe' or 'alnum'",
                        set.len()
                    ));
                }
                Ok(set)
            }
        }
    }
}

/// The encoding of an old value, as far as its characters tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex { upper: bool },
    Base64 { padded: bool },
    Base64Url { padded: bool },
    Alnum,
    Other,
}

/// Guesses the encoding of `old`. Hex needs one letter case; base64 needs `+`, `/` or padding;
/// base64url needs `-` or `_`; otherwise letters and digits alone are [`Encoding::Alnum`].
pub fn detect(old: &[u8]) -> Encoding {
    if old.is_empty() {
        return Encoding::Other;
    }
    let body_len = old.len() - old.iter().rev().take_while(|&&b| b == b'=').count();
    let (body, pad) = old.split_at(body_len);
    if pad.len() > 2 || body.is_empty() {
        return Encoding::Other;
    }
    let padded = !pad.is_empty();
    if !padded && body.iter().all(u8::is_ascii_hexdigit) {
        let lower = body.iter().any(u8::is_ascii_lowercase);
        let upper = body.iter().any(u8::is_ascii_uppercase);
        if !(lower && upper) {
            return Encoding::Hex { upper };
        }
    }
    let std = body
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    let url = body
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if padded && old.len() % 4 != 0 {
        return Encoding::Other;
    }
    if std && (padded || body.iter().any(|&b| b == b'+' || b == b'/')) {
        return Encoding::Base64 { padded };
    }
    if url && body.iter().any(|&b| b == b'-' || b == b'_') {
        return Encoding::Base64Url { padded };
    }
    if url && padded {
        return Encoding::Base64 { padded };
    }
    if url {
        return Encoding::Alnum;
    }
    Encoding::Other
}

/// A concrete recipe for one new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// `chars` hex digits.
    Hex { chars: usize, upper: bool },
    /// `bytes` random bytes, base64 (standard or URL alphabet, with or without padding).
    Base64 {
        bytes: usize,
        url: bool,
        padded: bool,
    },
    /// `len` characters drawn uniformly from `alphabet` (passwords, alnum, Django keys).
    Chars { len: usize, alphabet: Vec<u8> },
    /// Laravel `APP_KEY`: `base64:` + 32 random bytes, base64.
    Laravel,
}

impl Recipe {
    /// Draws a new value from [`OsRng`].
    pub fn generate(&self) -> Secret {
        match self {
            Recipe::Hex { chars, upper } => {
                let mut raw = Zeroizing::new(vec![0u8; chars.div_ceil(2)]);
                OsRng.fill_bytes(&mut raw);
                let mut s = Zeroizing::new(if *upper {
                    hex::encode_upper(&*raw)
                } else {
                    hex::encode(&*raw)
                });
                s.truncate(*chars);
                Secret::new(s.as_bytes().to_vec())
            }
            Recipe::Base64 { bytes, url, padded } => {
                let mut raw = Zeroizing::new(vec![0u8; *bytes]);
                OsRng.fill_bytes(&mut raw);
                let s = Zeroizing::new(engine(*url, *padded).encode(&*raw));
                Secret::new(s.as_bytes().to_vec())
            }
            Recipe::Chars { len, alphabet } => Secret::new(
                (0..*len)
                    .map(|_| alphabet[OsRng.gen_range(0..alphabet.len())])
                    .collect(),
            ),
            Recipe::Laravel => {
                let mut raw = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(&mut *raw);
                let s = Zeroizing::new(format!(
                    "base64:{}",
                    base64::engine::general_purpose::STANDARD.encode(*raw)
                ));
                Secret::new(s.as_bytes().to_vec())
            }
        }
    }

    /// Bits of randomness in one value.
    pub fn bits(&self) -> f64 {
        match self {
            Recipe::Hex { chars, .. } => *chars as f64 * 4.0,
            Recipe::Base64 { bytes, .. } => *bytes as f64 * 8.0,
            Recipe::Chars { len, alphabet } => *len as f64 * (alphabet.len() as f64).log2(),
            Recipe::Laravel => 256.0,
        }
    }

    /// Length of a generated value in bytes.
    pub fn len(&self) -> usize {
        match self {
            Recipe::Hex { chars, .. } => *chars,
            Recipe::Base64 { bytes, url, padded } => {
                let e = engine(*url, *padded);
                base64::encoded_len(*bytes, *padded)
                    .unwrap_or_else(|| e.encode(vec![0; *bytes]).len())
            }
            Recipe::Chars { len, .. } => *len,
            Recipe::Laravel => 51,
        }
    }

    /// Always false: a recipe never yields an empty value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// What the value is, for people: `32 random bytes, base64url`.
    pub fn describe(&self) -> String {
        match self {
            Recipe::Hex { chars, upper } => format!(
                "{chars} {} hex digits ({} bits)",
                if *upper { "upper-case" } else { "lower-case" },
                chars * 4
            ),
            Recipe::Base64 { bytes, url, padded } => format!(
                "{bytes} random bytes, {}{}",
                if *url { "base64url" } else { "base64" },
                if *padded { "" } else { " without padding" }
            ),
            Recipe::Chars { len, alphabet } => {
                let set = if alphabet == SAFE_ALPHABET {
                    "letters, digits, -_.~".to_string()
                } else if alphabet == ALNUM_ALPHABET {
                    "letters and digits".to_string()
                } else if alphabet == DJANGO_ALPHABET {
                    "Django's secret-key alphabet".to_string()
                } else {
                    format!("{} chosen characters", alphabet.len())
                };
                format!("{len} characters ({set}; {:.0} bits)", self.bits())
            }
            Recipe::Laravel => "base64: + 32 random bytes (Laravel APP_KEY)".into(),
        }
    }

    /// A placeholder for `.env.example` files: a command that makes such a value.
    pub fn placeholder(&self) -> String {
        let cmd = match self {
            Recipe::Hex {
                chars,
                upper: false,
            } if chars % 2 == 0 => format!("openssl rand -hex {}", chars / 2),
            Recipe::Base64 {
                bytes,
                url: false,
                padded: true,
            } => format!("openssl rand -base64 {bytes}"),
            Recipe::Hex { chars, upper } => format!(
                "leaksweep keygen --kind hex:{}{}",
                chars.div_ceil(2),
                if *upper { " | tr a-f A-F" } else { "" }
            ),
            Recipe::Base64 {
                bytes, url: true, ..
            } => format!("leaksweep keygen --kind base64url:{bytes}"),
            Recipe::Base64 { bytes, .. } => format!("leaksweep keygen --kind base64:{bytes}"),
            Recipe::Chars { alphabet, .. } if alphabet == DJANGO_ALPHABET => {
                "leaksweep keygen --kind django".into()
            }
            Recipe::Chars { len, alphabet } => {
                let set = if alphabet == SAFE_ALPHABET {
                    String::new()
                } else if alphabet == ALNUM_ALPHABET {
                    " --charset alnum".to_string()
                } else {
                    " --charset '...'".to_string()
                };
                let length = if *len == PASSWORD_LEN {
                    String::new()
                } else {
                    format!(" --length {len}")
                };
                format!("leaksweep keygen --kind password{set}{length}")
            }
            Recipe::Laravel => "php artisan key:generate --show".into(),
        };
        format!("<generate: {cmd}>")
    }
}

fn engine(url: bool, padded: bool) -> base64::engine::GeneralPurpose {
    use base64::engine::general_purpose as gp;
    match (url, padded) {
        (false, true) => gp::STANDARD,
        (false, false) => gp::STANDARD_NO_PAD,
        (true, true) => gp::URL_SAFE,
        (true, false) => gp::URL_SAFE_NO_PAD,
    }
}

/// The recipe for a `match` rotation: same encoding and length as `old`.
fn match_recipe(old: &[u8], policy: &Policy) -> Recipe {
    let password = Recipe::Chars {
        len: policy.password_len,
        alphabet: policy.charset.clone(),
    };
    let b64 = |url: bool, padded: bool| {
        let body = old.iter().take_while(|&&b| b != b'=').count();
        let bytes = body * 3 / 4;
        let r = Recipe::Base64 { bytes, url, padded };
        if r.len() == old.len() {
            r
        } else {
            // A length no byte count encodes to (4k+1): keep the length, draw from the alphabet.
            let alphabet = if url {
                [ALNUM_ALPHABET, b"-_"].concat()
            } else {
                [ALNUM_ALPHABET, b"+/"].concat()
            };
            Recipe::Chars {
                len: old.len(),
                alphabet,
            }
        }
    };
    match detect(old) {
        Encoding::Hex { upper } => Recipe::Hex {
            chars: old.len(),
            upper,
        },
        Encoding::Base64 { padded } => b64(false, padded),
        Encoding::Base64Url { padded } => b64(true, padded),
        Encoding::Alnum => Recipe::Chars {
            len: old.len(),
            alphabet: ALNUM_ALPHABET.to_vec(),
        },
        Encoding::Other => password,
    }
}

/// The recipe for a secret: its rule's rotation kind, its category and its old value.
/// `None` for provider-issued credentials (`revoke`).
///
/// `match` keeps the old format exactly for encryption keys (the key size is part of the
/// contract); signing secrets (`jwt-secret`, `nextauth`) get at least 256 bits, other secrets at
/// least 128, falling back to the kind's usual format when the old value was weaker.
pub fn recipe(kind: &RotationKind, category: &str, old: &[u8], policy: &Policy) -> Option<Recipe> {
    Some(match kind {
        RotationKind::Revoke => return None,
        RotationKind::Hex(n) => Recipe::Hex {
            chars: n * 2,
            upper: false,
        },
        RotationKind::Base64(n) => Recipe::Base64 {
            bytes: *n,
            url: false,
            padded: true,
        },
        RotationKind::Base64Url(n) => Recipe::Base64 {
            bytes: *n,
            url: true,
            padded: false,
        },
        RotationKind::Password => Recipe::Chars {
            len: policy.password_len,
            alphabet: policy.charset.clone(),
        },
        RotationKind::Django => Recipe::Chars {
            len: 50,
            alphabet: DJANGO_ALPHABET.to_vec(),
        },
        RotationKind::Rails => Recipe::Hex {
            chars: 128,
            upper: false,
        },
        RotationKind::Laravel => Recipe::Laravel,
        RotationKind::Match => {
            let r = match_recipe(old, policy);
            match category {
                "encryption-key" => r,
                "jwt-secret" if r.bits() < 256.0 => Recipe::Base64 {
                    bytes: 32,
                    url: true,
                    padded: false,
                },
                "nextauth" if r.bits() < 256.0 => Recipe::Base64 {
                    bytes: 32,
                    url: false,
                    padded: true,
                },
                _ if r.bits() < 128.0 => Recipe::Chars {
                    len: policy.password_len,
                    alphabet: policy.charset.clone(),
                },
                _ => r,
            }
        }
    })
}

/// Parses a `keygen --kind` value: `jwt`, `nextauth`, `aes256`, `password`, `hex:N`,
/// `base64:N`, `base64url:N` (N random bytes), `django`, `rails`, `laravel`.
pub fn keygen_recipe(spec: &str, policy: &Policy) -> Result<Recipe, String> {
    let kind: RotationKind = match spec {
        "jwt" => RotationKind::Base64Url(32),
        "nextauth" => RotationKind::Base64(32),
        "aes256" => RotationKind::Hex(32),
        "revoke" | "match" => {
            return Err(format!(
                "--kind {spec} needs an old value; use jwt, nextauth, aes256, password, hex:N, base64:N, base64url:N, django, rails or laravel"
            ))
        }
        s => s.parse()?,
    };
    recipe(&kind, "keygen", b"", policy)
        .ok_or_else(|| format!("--kind {spec}: nothing to generate"))
}

/// A database whose password changes: what the SQL is written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    /// `postgres`, `mysql`, `mongodb`, `redis`, or another URI scheme.
    pub engine: String,
    /// The user, when a connection URI names one.
    pub user: Option<String>,
}

/// One place a secret was found.
#[derive(Debug, Clone)]
pub struct Location {
    pub path: String,
    pub line: usize,
    pub rule_id: String,
    /// Byte span of the secret in the file (half-open).
    pub span: Range<usize>,
    /// The variable assigned on that line, if the line is an assignment.
    pub variable: Option<String>,
    /// The variable's whole old value (the secret itself, or e.g. a URL holding it).
    pub value: Option<Secret>,
    /// Commit that introduced it, when the finding came from git history.
    pub commit: Option<String>,
    pub commit_date: Option<String>,
    /// The masked line.
    pub preview: String,
}

/// What to do about one distinct secret.
#[derive(Debug)]
pub struct SecretPlan {
    pub secret_id: SecretId,
    /// The rule whose rotation kind was used.
    pub rule_id: String,
    /// Every rule that found it.
    pub rule_ids: Vec<String>,
    pub category: String,
    pub description: String,
    pub kind: RotationKind,
    pub redacted: String,
    pub old: Secret,
    /// `None` for `revoke`.
    pub recipe: Option<Recipe>,
    pub new: Option<Secret>,
    pub locations: Vec<Location>,
    pub database: Option<DbTarget>,
}

impl SecretPlan {
    /// Distinct paths, in order of first appearance.
    pub fn files(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for l in &self.locations {
            if !seen.contains(&l.path.as_str()) {
                seen.push(l.path.as_str());
            }
        }
        seen
    }

    /// The earliest commit (by date) that holds the secret, when known.
    pub fn first_commit(&self) -> Option<(&str, &str)> {
        self.locations
            .iter()
            .filter_map(|l| Some((l.commit.as_deref()?, l.commit_date.as_deref().unwrap_or(""))))
            .min_by(|a, b| a.1.cmp(b.1))
    }

    /// Distinct variable names, in order of first appearance.
    pub fn variables(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for v in self.locations.iter().filter_map(|l| l.variable.as_deref()) {
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen
    }

    /// The order plans are worked through: provider credentials first (live access to someone
    /// else's systems), then databases, keys, and last the secrets whose rotation signs users out.
    pub fn order(&self) -> u8 {
        match (self.recipe.is_none(), self.category.as_str()) {
            (true, _) => 0,
            (_, "database") => 1,
            (_, "encryption-key") => 2,
            (_, "jwt-secret" | "nextauth") => 4,
            _ => 3,
        }
    }
}

/// Reads files for context (variable names and whole values); `None` when unreadable.
pub type FileLookup<'a> = dyn Fn(&str) -> Option<&'a [u8]> + 'a;

/// Groups findings by secret and generates one new value per secret.
///
/// `kinds` maps rule ids to their rotation kind (unknown rules rotate as `match`). `files` gives
/// the content of a finding's file so the variable name and its whole value can be read; without
/// it, the variable name comes from the finding's preview.
pub fn plan(
    findings: Vec<Finding>,
    kinds: &HashMap<String, RotationKind>,
    policy: &Policy,
    files: &FileLookup<'_>,
) -> Vec<SecretPlan> {
    let mut groups: BTreeMap<SecretId, Vec<Finding>> = BTreeMap::new();
    for f in findings {
        groups.entry(f.secret_id.clone()).or_default().push(f);
    }
    let assignments: std::cell::RefCell<HashMap<String, Vec<dotenv::Assignment>>> =
        Default::default();
    let mut plans: Vec<SecretPlan> = groups
        .into_iter()
        .filter_map(|(id, group)| {
            let kind_of = |f: &Finding| kinds.get(&f.rule_id).cloned().unwrap_or_default();
            // Revoke wins (a provider token stays a provider token), then any explicit kind.
            let lead = group
                .iter()
                .find(|f| kind_of(f) == RotationKind::Revoke)
                .or_else(|| group.iter().find(|f| kind_of(f) != RotationKind::Match))
                .or_else(|| group.first())?;
            let kind = kind_of(lead);
            let old = lead.secret.clone();
            let recipe = recipe(&kind, &lead.category, old.expose(), policy);
            let new = recipe.as_ref().map(Recipe::generate);
            let mut rule_ids: Vec<String> = group.iter().map(|f| f.rule_id.clone()).collect();
            rule_ids.sort();
            rule_ids.dedup();
            let locations: Vec<Location> = group
                .iter()
                .map(|f| {
                    let (variable, value) = match files(&f.path) {
                        Some(data) => {
                            let mut cache = assignments.borrow_mut();
                            let list = cache
                                .entry(f.path.clone())
                                .or_insert_with(|| dotenv::assignments(data));
                            match list.iter().find(|a| {
                                a.value.start <= f.span.start && f.span.end <= a.value.end
                            }) {
                                Some(a) => (
                                    Some(a.key.clone()),
                                    Some(Secret::new(data[a.value.clone()].to_vec())),
                                ),
                                None => (None, None),
                            }
                        }
                        None => variable_from_preview(&f.preview, &f.redacted, &f.secret),
                    };
                    Location {
                        path: f.path.clone(),
                        line: f.line,
                        rule_id: f.rule_id.clone(),
                        span: f.span.clone(),
                        variable,
                        value,
                        commit: f.git.as_ref().map(|g| g.commit.clone()),
                        commit_date: f.git.as_ref().map(|g| g.date.clone()),
                        preview: f.preview.clone(),
                    }
                })
                .collect();
            // A history finding names the other places that held the secret: each needs it
            // replaced too.
            let mut locations = locations;
            for f in &group {
                let Some(g) = &f.git else { continue };
                for l in &g.locations {
                    if l.commit == g.commit && l.path == f.path {
                        continue;
                    }
                    locations.push(Location {
                        path: l.path.clone(),
                        line: l.line.unwrap_or(f.line),
                        rule_id: f.rule_id.clone(),
                        span: 0..0,
                        variable: None,
                        value: None,
                        commit: Some(l.commit.clone()),
                        commit_date: None,
                        preview: String::new(),
                    });
                }
            }
            let database = (lead.category == "database")
                .then(|| database_target(&group))
                .flatten();
            Some(SecretPlan {
                secret_id: id,
                rule_id: lead.rule_id.clone(),
                rule_ids,
                category: lead.category.clone(),
                description: lead.description.clone(),
                kind,
                redacted: lead.redacted.clone(),
                old,
                recipe,
                new,
                locations,
                database,
            })
        })
        .collect();
    plans.sort_by(|a, b| {
        (a.order(), a.files().first().copied(), a.locations[0].line).cmp(&(
            b.order(),
            b.files().first().copied(),
            b.locations[0].line,
        ))
    });
    plans
}

/// `NAME=` at the start of a (masked) preview: the variable, and the whole value when the
/// secret is all of it.
fn variable_from_preview(
    preview: &str,
    redacted: &str,
    secret: &Secret,
) -> (Option<String>, Option<Secret>) {
    let p = preview.trim_start_matches('…').trim_start();
    let p = p.strip_prefix("export ").unwrap_or(p);
    let Some((name, rest)) = p.split_once('=') else {
        return (None, None);
    };
    let name = name.trim();
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return (None, None);
    }
    let rest = rest.trim();
    let unquoted = rest.trim_matches(|c| c == '"' || c == '\'');
    let whole = unquoted == redacted;
    (Some(name.to_string()), whole.then(|| secret.clone()))
}

/// The database behind a password: from a connection URI among the findings, else from the
/// variable name (`POSTGRES_PASSWORD`, `MYSQL_PASSWORD`).
fn database_target(group: &[Finding]) -> Option<DbTarget> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)\b(postgres(?:ql)?|mysql[x2]?|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)://([^:@/\s"'`]*):"#,
        )
        // Invariant: a constant pattern that the rotate tests compile; it cannot fail at run time.
        .expect("valid regex")
    });
    let mut fallback = None;
    for f in group {
        if let Some(c) = re.captures(&f.preview) {
            let scheme = c[1].to_ascii_lowercase();
            let engine = match scheme.as_str() {
                s if s.starts_with("postgres") => "postgres",
                s if s.starts_with("mysql") || s == "mariadb" => "mysql",
                s if s.starts_with("mongodb") => "mongodb",
                s if s.starts_with("redis") => "redis",
                s if s.starts_with("amqp") => "rabbitmq",
                _ => "sqlserver",
            };
            let user = Some(c[2].to_string()).filter(|u| !u.is_empty());
            return Some(DbTarget {
                engine: engine.to_string(),
                user,
            });
        }
        let upper = f.preview.to_ascii_uppercase();
        for (hint, engine) in [
            ("POSTGRES", "postgres"),
            ("PG", "postgres"),
            ("MYSQL", "mysql"),
            ("MARIADB", "mysql"),
            ("MONGO", "mongodb"),
            ("REDIS", "redis"),
        ] {
            if fallback.is_none() && upper.starts_with(hint) {
                fallback = Some(DbTarget {
                    engine: engine.to_string(),
                    user: None,
                });
            }
        }
    }
    fallback
}

/// Replaces every old secret of `plans` inside `value` by its new one (leftmost-longest).
pub fn substitute(value: &[u8], plans: &[SecretPlan]) -> Zeroizing<Vec<u8>> {
    match Literals::new(replacements(plans)) {
        Ok(l) => l.replace_all(value),
        // Beyond the automaton's size limits (never for real plans): nothing is replaced.
        Err(_) => Zeroizing::new(value.to_vec()),
    }
}

/// The (old, new) pairs of every plan with a new value.
pub fn replacements(plans: &[SecretPlan]) -> Vec<Pair<'_>> {
    plans
        .iter()
        .filter_map(|p| {
            Some(Pair {
                old: p.old.expose(),
                new: p.new.as_ref()?.expose(),
            })
        })
        .filter(|r| !r.old.is_empty())
        .collect()
}

/// Shannon entropy in bits per byte (a test helper and a sanity check on generated values).
pub fn entropy(data: &[u8]) -> f64 {
    crate::matcher::filters::shannon_entropy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<(&'static str, Recipe)> {
        let p = Policy::default();
        [
            "jwt",
            "nextauth",
            "aes256",
            "password",
            "hex:16",
            "base64:24",
            "base64url:48",
            "django",
            "rails",
            "laravel",
        ]
        .into_iter()
        .map(|k| (k, keygen_recipe(k, &p).unwrap()))
        .collect()
    }

    fn check_format(kind: &str, v: &[u8]) {
        let s = std::str::from_utf8(v).unwrap();
        let b64 = |s: &str, e: base64::engine::GeneralPurpose| e.decode(s).unwrap().len();
        use base64::engine::general_purpose as gp;
        match kind {
            "jwt" => assert_eq!((s.len(), b64(s, gp::URL_SAFE_NO_PAD)), (43, 32), "{kind}"),
            "nextauth" => assert_eq!((s.len(), b64(s, gp::STANDARD)), (44, 32), "{kind}"),
            "aes256" => assert!(
                s.len() == 64
                    && s.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            ),
            "password" => {
                assert_eq!(s.len(), 32);
                assert!(s.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
            }
            "hex:16" => assert!(s.len() == 32 && hex::decode(s).is_ok()),
            "base64:24" => assert_eq!(b64(s, gp::STANDARD), 24),
            "base64url:48" => assert_eq!(b64(s, gp::URL_SAFE_NO_PAD), 48),
            "django" => {
                assert_eq!(s.len(), 50);
                assert!(s.bytes().all(|b| DJANGO_ALPHABET.contains(&b)));
            }
            "rails" => assert!(s.len() == 128 && hex::decode(s).is_ok()),
            "laravel" => {
                let body = s.strip_prefix("base64:").unwrap();
                assert_eq!(b64(body, gp::STANDARD), 32);
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_kind_has_its_format_and_length() {
        for (kind, r) in all_kinds() {
            let v = r.generate();
            check_format(kind, v.expose());
            assert_eq!(v.len(), r.len(), "{kind}");
            assert!(r.bits() >= 128.0, "{kind}: {} bits", r.bits());
        }
        assert!(keygen_recipe("match", &Policy::default()).is_err());
        assert!(keygen_recipe("hex:4", &Policy::default()).is_err());
        assert!(keygen_recipe("bogus", &Policy::default()).is_err());
    }

    #[test]
    fn thousand_values_distinct_and_random_looking() {
        for (kind, r) in all_kinds() {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                let v = r.generate();
                // Simple entropy check: most of what the length and alphabet allow.
                let alphabet = match kind {
                    "aes256" | "hex:16" | "rails" => 16.0f64,
                    "django" => 50.0,
                    "password" => 66.0,
                    _ => 64.0,
                };
                let ceiling = alphabet.log2().min((v.len() as f64).log2());
                let e = entropy(v.expose());
                assert!(e > 0.65 * ceiling, "{kind}: entropy {e} of {ceiling}");
                assert!(seen.insert(v.expose().to_vec()), "{kind}: repeated value");
            }
        }
    }

    #[test]
    fn detects_encodings() {
        assert_eq!(detect(b"deadbeef0123"), Encoding::Hex { upper: false });
        assert_eq!(detect(b"DEADBEEF0123"), Encoding::Hex { upper: true });
        assert_eq!(detect(b"DeadBeef0123"), Encoding::Alnum);
        assert_eq!(detect(b"ab+/cdEF"), Encoding::Base64 { padded: false });
        assert_eq!(detect(b"abcdEF=="), Encoding::Base64 { padded: true });
        assert_eq!(detect(b"ab-_cdEF"), Encoding::Base64Url { padded: false });
        assert_eq!(detect(b"p@ss w0rd!"), Encoding::Other);
    }

    #[test]
    fn match_keeps_format_and_length() {
        let p = Policy::default();
        let hex_lower = b"0123456789abcdef".to_vec();
        let hex_upper = b"0123456789ABCDEF".to_vec();
        let b64 = [ALNUM_ALPHABET, b"+/"].concat();
        let b64url = [ALNUM_ALPHABET, b"-_"].concat();
        let cases: Vec<(&[u8], Vec<u8>)> = vec![
            (b"0123456789abcdef0123456789abcdef", hex_lower),
            (b"0123456789ABCDEF0123456789ABCDEF", hex_upper),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z47A=", b64.clone()),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z4w==", b64.clone()),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z4", b64),
            (b"x_jXBgIvMPnLBUYOKZsxAghfdJzUH5xi6mHNvzGxNL4", b64url),
            (b"Q2xhdWRlIGlzIGEgZ29vZCBib3Q", ALNUM_ALPHABET.to_vec()),
        ];
        for (old, alphabet) in cases {
            let r = recipe(&RotationKind::Match, "encryption-key", old, &p).unwrap();
            for _ in 0..50 {
                let v = r.generate();
                let what = String::from_utf8_lossy(old);
                assert_eq!(v.len(), old.len(), "{what}");
                let pad = old.iter().rev().take_while(|&&b| b == b'=').count();
                let (body, tail) = v.expose().split_at(v.len() - pad);
                assert!(tail.iter().all(|&b| b == b'='), "{what}: padding");
                assert!(
                    body.iter().all(|b| alphabet.contains(b)),
                    "{what}: alphabet"
                );
                assert_ne!(v.expose(), old);
            }
        }
        // A weak old JWT secret does not beget a weak new one.
        let r = recipe(&RotationKind::Match, "jwt-secret", b"changeme123", &p).unwrap();
        assert!(r.bits() >= 256.0);
        // Provider tokens get no value.
        assert!(recipe(&RotationKind::Revoke, "aws", b"AKIA...", &p).is_none());
    }

    #[test]
    fn charset_policy() {
        assert_eq!(Policy::charset("safe").unwrap(), SAFE_ALPHABET);
        assert!(Policy::charset("abc").is_err());
        assert!(Policy::charset("abcdefghijklmnop qr").is_err());
        let set = Policy::charset("abcdefghijklmnop!").unwrap();
        let r = Recipe::Chars {
            len: 40,
            alphabet: set.clone(),
        };
        assert!(r.generate().expose().iter().all(|b| set.contains(b)));
    }
}
