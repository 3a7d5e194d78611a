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
//! ([`providers`]).//!
//! The new values themselves ([`Policy`], [`Recipe`], [`recipe`]) are made in [`generate`]; this
//! file groups findings into [`SecretPlan`]s and puts new values in the place of old ones.

pub mod checklist;
pub mod dotenv;
pub mod generate;
mod outfile;
pub mod providers;

pub use generate::{
    detect, entropy, keygen_recipe, recipe, Encoding, Policy, Recipe, ALNUM_ALPHABET,
    DJANGO_ALPHABET, PASSWORD_LEN, SAFE_ALPHABET,
};

use crate::finding::{Finding, Secret, SecretId};
use crate::replace::{Literals, Pair};
use crate::rules::RotationKind;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use zeroize::Zeroizing;

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

    /// True when only git history holds the secret: every location names a commit, none is a
    /// file of the work tree, so there is nothing to replace there.
    pub fn history_only(&self) -> bool {
        self.locations.iter().all(|l| l.commit.is_some())
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
