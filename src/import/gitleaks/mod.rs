//! `leaksweep import gitleaks`: a gitleaks configuration (`.gitleaks.toml`) converted into
//! `.leaksweep.toml` (allowlists, disabled rules, whether the built-in rules stay) plus a rule file
//! (the custom rules), from gitleaks' documented format.
//!
//! What maps:
//! - `[[rules]]`: `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`. The regex
//!   (Go RE2 syntax, which Rust's regex mostly shares) gets its secret group renamed to
//!   `(?P<secret>...)`: group `secretGroup` when set, else the first group, else the whole match.
//!   A rule without keywords gets keywords derived from the regex's literals (our prefilter needs
//!   them); when none can be derived the rule is not converted. Imported rules are marked
//!   `imported = "gitleaks"`, which exempts them from the examples a hand-written rule must carry.
//! - `[allowlist]`, `[[allowlists]]` (global) and `[rules.allowlist]`, `[[rules.allowlists]]`:
//!   `paths` (regexes on the path) become `path_regexes`, `regexes` become `regexes` (secret,
//!   `regexTarget = "secret"`) or `lines` (`"line"`; `"match"` is approximated by the line),
//!   `stopwords` stay stopwords; a global allowlist with `targetRules` becomes per-rule allowlists.
//! - `[extend]`: `useDefault` keeps our built-in rules (gitleaks' default rules are not imported:
//!   ours take their place), `path` converts the extended file too (its rules first, this file's
//!   rules with the same id win), `disabledRules` drops rules of the extended file and disables
//!   our counterpart of a gitleaks default rule where there is an obvious one ([`counterpart`]).
//!
//! Everything else (`commits` allowlists, `condition = "AND"`, a rule's `path`, `tags`,
//! `[[rules.required]]`, unknown keys) is named in [`Conversion::notes`] with the reason, and the
//! command prints them on stderr and into both output files as comments.

mod model;
mod pattern;

pub use pattern::{derive_keywords, secret_group};

use crate::error::Error;
use model::Model;
use std::fmt::Write as _;
use std::path::Path;
use toml::Value;

/// The result of converting one gitleaks configuration.
#[derive(Debug, Default)]
pub struct Conversion {
    /// Whether our built-in rules stay on (`[extend] useDefault`).
    pub extend_builtin: bool,
    /// Converted rules, in file order.
    pub rules: Vec<ImportedRule>,
    /// Global allowlist.
    pub global: Allow,
    /// Per-rule allowlists (rule id, allowlist), for converted rules and our counterparts.
    pub per_rule: Vec<(String, Allow)>,
    /// Our rule ids to disable.
    pub disable: Vec<String>,
    /// Everything that could not be converted, or was converted approximately, and why.
    pub notes: Vec<String>,
}

/// One converted rule.
#[derive(Debug, Clone)]
pub struct ImportedRule {
    pub id: String,
    pub description: String,
    pub regex: String,
    pub entropy: f64,
    pub keywords: Vec<String>,
}

/// An allowlist in our terms (the keys of `[allowlist]` in `.leaksweep.toml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allow {
    pub path_regexes: Vec<String>,
    pub regexes: Vec<String>,
    pub lines: Vec<String>,
    pub stopwords: Vec<String>,
}

impl Allow {
    fn is_empty(&self) -> bool {
        *self == Allow::default()
    }
    fn extend(&mut self, other: Allow) {
        for (mine, theirs) in [
            (&mut self.path_regexes, other.path_regexes),
            (&mut self.regexes, other.regexes),
            (&mut self.lines, other.lines),
            (&mut self.stopwords, other.stopwords),
        ] {
            for v in theirs {
                if !mine.contains(&v) {
                    mine.push(v);
                }
            }
        }
    }
}

/// Our rule that plays the part of a gitleaks default rule, where one obviously does.
pub fn counterpart(gitleaks_id: &str) -> Option<&'static str> {
    Some(match gitleaks_id {
        "aws-access-token" => "aws-access-key-id",
        "generic-api-key" => "generic-secret",
        "private-key" => "private-key",
        "jwt" => "jwt",
        "github-pat" => "github-pat",
        "github-oauth" => "github-oauth-token",
        "github-app-token" => "github-app-token",
        "github-refresh-token" => "github-refresh-token",
        "github-fine-grained-pat" => "github-fine-grained-pat",
        "gitlab-pat" => "gitlab-pat",
        "gitlab-rrt" => "gitlab-runner-registration-token",
        "gitlab-runner-authentication-token" => "gitlab-runner-token",
        "gitlab-deploy-token" => "gitlab-deploy-token",
        "slack-bot-token" => "slack-bot-token",
        "slack-user-token" => "slack-user-token",
        "slack-app-token" => "slack-app-token",
        "slack-legacy-token" => "slack-legacy-token",
        "slack-webhook-url" => "slack-webhook-url",
        "stripe-access-token" => "stripe-secret-key",
        "openai-api-key" => "openai-api-key",
        "anthropic-api-key" => "anthropic-api-key",
        "huggingface-access-token" => "huggingface-token",
        "sendgrid-api-token" => "sendgrid-api-key",
        "mailgun-private-api-token" => "mailgun-api-key",
        "mailchimp-api-key" => "mailchimp-api-key",
        "twilio-api-key" => "twilio-api-key",
        "shopify-access-token" => "shopify-token",
        "discord-api-token" => "discord-bot-token",
        "telegram-bot-api-token" => "telegram-bot-token",
        "datadog-access-token" => "datadog-api-key",
        "sentry-access-token" => "sentry-auth-token",
        "grafana-api-key" => "grafana-token",
        "vault-service-token" => "vault-token",
        "npm-access-token" => "npm-token",
        "pypi-upload-token" => "pypi-token",
        "gcp-api-key" => "gcp-api-key",
        "heroku-api-key" => "heroku-api-key",
        "digitalocean-access-token" => "digitalocean-token",
        "doppler-api-token" => "doppler-token",
        "linear-api-key" => "linear-api-key",
        "postman-api-token" => "postman-api-key",
        "atlassian-api-token" => "atlassian-api-token",
        "azure-ad-client-secret" => "azure-ad-client-secret",
        "cloudflare-api-key" => "cloudflare-api-token",
        "cloudflare-global-api-key" => "cloudflare-global-api-key",
        "cloudflare-origin-ca-key" => "cloudflare-origin-ca-key",
        "alibaba-access-key-id" => "alibaba-access-key-id",
        _ => return None,
    })
}

/// Converts the gitleaks configuration at `path`. Errors (unreadable file, TOML that does not
/// parse, an `[extend] path` that cannot be read) name the file; everything that parses converts,
/// with notes for what does not map.
pub fn convert_file(path: &Path) -> Result<Conversion, Error> {
    let mut notes = Vec::new();
    let model = model::load(path, 0, &mut notes)?;
    Ok(finish(model, notes))
}

/// Converts configuration text; `shown` names it in errors, `dir` resolves `[extend] path`.
pub fn convert_text(shown: &str, text: &str, dir: &Path) -> Result<Conversion, Error> {
    let mut notes = Vec::new();
    let model = model::parse(shown, text, dir, 0, &mut notes)?;
    Ok(finish(model, notes))
}

fn finish(model: Model, mut notes: Vec<String>) -> Conversion {
    let mut c = Conversion {
        extend_builtin: model.use_default,
        ..Default::default()
    };
    let mut rules = model.rules;
    for id in &model.disabled {
        let before = rules.len();
        rules.retain(|r| &r.id != id);
        if rules.len() != before {
            continue;
        }
        match counterpart(id).filter(|_| model.use_default) {
            Some(ours) => {
                if !c.disable.iter().any(|d| d == ours) {
                    c.disable.push(ours.to_string());
                }
                notes.push(format!(
                    "[extend] disabledRules '{id}': disables leaksweep's counterpart '{ours}'"
                ));
            }
            None => notes.push(format!(
                "[extend] disabledRules '{id}': no such rule here and no leaksweep counterpart, nothing to disable"
            )),
        }
    }
    let known = |id: &str, rules: &[ImportedRule]| -> Option<String> {
        if rules.iter().any(|r| r.id == id) {
            Some(id.to_string())
        } else if model.use_default {
            counterpart(id).map(str::to_string)
        } else {
            None
        }
    };
    let mut per_rule: Vec<(String, Allow)> = Vec::new();
    let add = |id: String, a: Allow, per_rule: &mut Vec<(String, Allow)>| match per_rule
        .iter_mut()
        .find(|(i, _)| *i == id)
    {
        Some((_, have)) => have.extend(a),
        None => per_rule.push((id, a)),
    };
    for (id, a) in model.rule_allows {
        if rules.iter().any(|r| r.id == id) {
            add(id, a, &mut per_rule);
        }
    }
    for (targets, a) in model.targeted {
        for t in targets {
            match known(&t, &rules) {
                Some(ours) if !c.disable.contains(&ours) => add(ours, a.clone(), &mut per_rule),
                _ => notes.push(format!(
                    "[[allowlists]] targetRules '{t}': no such rule here and no leaksweep counterpart, not converted"
                )),
            }
        }
    }
    if rules.is_empty() && !c.extend_builtin {
        notes.push(
            "no rule converted and [extend] useDefault is not set: leaksweep's built-in rules stay on (a scan without rules would find nothing)".into(),
        );
        c.extend_builtin = true;
    }
    if let Ok(builtin) = crate::rules::builtin() {
        for r in &rules {
            if builtin.iter().any(|b| b.id == r.id) {
                notes.push(format!(
                    "rule '{}': replaces leaksweep's built-in rule of the same id (rename it in the rule file and its [rules.<id>] tables to keep both)",
                    r.id
                ));
            }
        }
    }
    c.rules = rules;
    c.global = model.global;
    c.per_rule = per_rule;
    c.notes = notes;
    c
}

/// A TOML string literal.
fn tstr(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A TOML array of strings.
fn tarr(list: &[String]) -> String {
    Value::Array(list.iter().cloned().map(Value::String).collect()).to_string()
}

fn comment_notes(out: &mut String, notes: &[String]) {
    if notes.is_empty() {
        out.push_str("# Every field converted.\n");
        return;
    }
    out.push_str("# Not converted, or converted approximately:\n");
    for n in notes {
        // One comment line per note, whatever the note holds.
        let flat: String = n
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let _ = writeln!(out, "#   - {flat}");
    }
}

fn allow_toml(out: &mut String, table: &str, a: &Allow) {
    let _ = writeln!(out, "\n[{table}]");
    for (key, list) in [
        ("path_regexes", &a.path_regexes),
        ("regexes", &a.regexes),
        ("lines", &a.lines),
        ("stopwords", &a.stopwords),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{key} = {}", tarr(list));
        }
    }
}

impl Conversion {
    /// The text of `.leaksweep.toml`; `rule_file` is how it names the rule file (relative to
    /// the config's directory).
    pub fn config_toml(&self, source: &str, rule_file: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Converted from {source} by `leaksweep import gitleaks`."
        );
        comment_notes(&mut out, &self.notes);
        let _ = writeln!(out, "\nextend_builtin = {}", self.extend_builtin);
        if !self.rules.is_empty() {
            let _ = writeln!(out, "rule_files = {}", tarr(&[rule_file.to_string()]));
        }
        if !self.disable.is_empty() {
            let _ = writeln!(out, "disable = {}", tarr(&self.disable));
        }
        if !self.global.is_empty() {
            allow_toml(&mut out, "allowlist", &self.global);
        }
        for (id, a) in &self.per_rule {
            allow_toml(&mut out, &format!("rules.{}.allowlist", tstr(id)), a);
        }
        out
    }

    /// The text of the rule file.
    pub fn rules_toml(&self, source: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Rules converted from {source} by `leaksweep import gitleaks` (imported rules carry no\n# examples; `leaksweep rules check` checks their regexes)."
        );
        comment_notes(&mut out, &self.notes);
        for r in &self.rules {
            let _ = writeln!(out, "\n[[rule]]");
            let _ = writeln!(out, "id = {}", tstr(&r.id));
            if !r.description.is_empty() {
                let _ = writeln!(out, "description = {}", tstr(&r.description));
            }
            let _ = writeln!(out, "category = \"custom\"");
            let _ = writeln!(out, "keywords = {}", tarr(&r.keywords));
            let _ = writeln!(out, "regex = {}", tstr(&r.regex));
            if r.entropy > 0.0 {
                let _ = writeln!(out, "entropy = {:?}", r.entropy);
            }
            let _ = writeln!(out, "min_len = 1");
            let _ = writeln!(out, "imported = \"gitleaks\"");
        }
        out
    }
}
