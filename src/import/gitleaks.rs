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

use crate::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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

/// How many `[extend] path` files deep a conversion follows.
const MAX_EXTEND_DEPTH: usize = 3;

/// Converts the gitleaks configuration at `path`. Errors (unreadable file, TOML that does not
/// parse, an `[extend] path` that cannot be read) name the file; everything that parses converts,
/// with notes for what does not map.
pub fn convert_file(path: &Path) -> Result<Conversion, Error> {
    let mut notes = Vec::new();
    let model = load(path, 0, &mut notes)?;
    Ok(finish(model, notes))
}

/// Converts configuration text; `shown` names it in errors, `dir` resolves `[extend] path`.
pub fn convert_text(shown: &str, text: &str, dir: &Path) -> Result<Conversion, Error> {
    let mut notes = Vec::new();
    let model = parse(shown, text, dir, 0, &mut notes)?;
    Ok(finish(model, notes))
}

/// One gitleaks file, with what it extends folded in.
#[derive(Default)]
struct Model {
    use_default: bool,
    rules: Vec<ImportedRule>,
    /// Per-rule allowlists by gitleaks rule id.
    rule_allows: Vec<(String, Allow)>,
    global: Allow,
    /// Global allowlists restricted to some rules (`targetRules`).
    targeted: Vec<(Vec<String>, Allow)>,
    disabled: Vec<String>,
}

fn load(path: &Path, depth: usize, notes: &mut Vec<String>) -> Result<Model, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| Error::GitleaksIo {
        file: shown.clone(),
        error,
    })?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    parse(&shown, &text, &dir, depth, notes)
}

fn parse(
    shown: &str,
    text: &str,
    dir: &Path,
    depth: usize,
    notes: &mut Vec<String>,
) -> Result<Model, Error> {
    let value: toml::Table = toml::from_str(text).map_err(|e| Error::GitleaksToml {
        file: shown.to_string(),
        message: e.message().trim_end().to_string(),
        line: e.span().map(|span| {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            before.iter().filter(|&&b| b == b'\n').count() + 1
        }),
    })?;
    let shape = |message: String| Error::GitleaksShape {
        file: shown.to_string(),
        message,
    };
    let mut model = Model::default();
    let mut has_extend = false;
    // The extended file first: this file's rules and allowlists are laid over it.
    if let Some(ext) = value.get("extend") {
        has_extend = true;
        let Some(ext) = ext.as_table() else {
            return Err(shape("[extend] must be a table".into()));
        };
        // `path` first: the extended file is the base the other keys change.
        let mut keys: Vec<_> = ext.iter().collect();
        keys.sort_by_key(|(k, _)| k.as_str() != "path");
        for (k, v) in keys {
            match k.as_str() {
                "useDefault" => model.use_default = v.as_bool().unwrap_or(false),
                "path" => {
                    let Some(p) = v.as_str() else {
                        return Err(shape("[extend] path must be a string".into()));
                    };
                    if depth + 1 > MAX_EXTEND_DEPTH {
                        notes.push(format!(
                            "{shown}: [extend] path '{p}': not followed (more than {MAX_EXTEND_DEPTH} files deep)"
                        ));
                        continue;
                    }
                    let mut target = dir.join(p);
                    if !target.is_file() && Path::new(p).is_file() {
                        target = PathBuf::from(p);
                    }
                    let base = load(&target, depth + 1, notes)?;
                    model.use_default |= base.use_default;
                    model.rules = base.rules;
                    model.rule_allows = base.rule_allows;
                    model.global = base.global;
                    model.targeted = base.targeted;
                    model.disabled = base.disabled;
                }
                "disabledRules" => {
                    for id in strings(v, &format!("{shown}: [extend] disabledRules"), notes) {
                        model.disabled.push(id);
                    }
                }
                other => notes.push(format!(
                    "{shown}: [extend] {other}: unknown gitleaks key, not converted"
                )),
            }
        }
    }
    for (k, v) in &value {
        match k.as_str() {
            "extend" => {}
            "title" | "description" => {}
            "minVersion" => notes.push(format!(
                "{shown}: minVersion: a gitleaks version requirement, not converted"
            )),
            "rules" => {
                let Some(list) = v.as_array() else {
                    return Err(shape("rules must be an array of [[rules]] tables".into()));
                };
                for (i, r) in list.iter().enumerate() {
                    let Some(t) = r.as_table() else {
                        return Err(shape(format!("rules[{i}] is not a table")));
                    };
                    if let Some((rule, allows)) = rule(shown, i, t, notes) {
                        // Same id as a rule of the extended file: this one wins.
                        model.rules.retain(|r| r.id != rule.id);
                        model.rules.push(rule.clone());
                        for a in allows {
                            model.rule_allows.push((rule.id.clone(), a));
                        }
                    }
                }
            }
            "allowlist" => {
                let Some(t) = v.as_table() else {
                    return Err(shape("[allowlist] must be a table".into()));
                };
                global_allow(shown, "[allowlist]", t, &mut model, notes);
            }
            "allowlists" => {
                let Some(list) = v.as_array() else {
                    return Err(shape("allowlists must be an array of tables".into()));
                };
                for (i, a) in list.iter().enumerate() {
                    let Some(t) = a.as_table() else {
                        return Err(shape(format!("allowlists[{i}] is not a table")));
                    };
                    global_allow(
                        shown,
                        &format!("[[allowlists]] #{}", i + 1),
                        t,
                        &mut model,
                        notes,
                    );
                }
            }
            other => notes.push(format!(
                "{shown}: {other}: unknown gitleaks key, not converted"
            )),
        }
    }
    // Without [extend], a gitleaks config replaces the default rules.
    let _ = has_extend;
    Ok(model)
}

fn global_allow(
    shown: &str,
    what: &str,
    t: &toml::Table,
    model: &mut Model,
    notes: &mut Vec<String>,
) {
    let targets = t
        .get("targetRules")
        .map(|v| strings(v, &format!("{shown}: {what} targetRules"), notes))
        .unwrap_or_default();
    if let Some(a) = allowlist(shown, what, t, true, notes) {
        if targets.is_empty() {
            model.global.extend(a);
        } else {
            model.targeted.push((targets, a));
        }
    }
}

/// Converts one gitleaks allowlist table; `None` when nothing of it can be used.
fn allowlist(
    shown: &str,
    what: &str,
    t: &toml::Table,
    global: bool,
    notes: &mut Vec<String>,
) -> Option<Allow> {
    let target = t
        .get("regexTarget")
        .and_then(|v| v.as_str())
        .unwrap_or("secret");
    let mut out = Allow::default();
    let mut kinds = 0;
    for (k, v) in t {
        let here = format!("{shown}: {what} {k}");
        match k.as_str() {
            "description" | "regexTarget" | "condition" => {}
            "targetRules" if global => {}
            "paths" => {
                out.path_regexes = strings(v, &here, notes);
                kinds += usize::from(!out.path_regexes.is_empty());
            }
            "regexes" => {
                let list = strings(v, &here, notes);
                kinds += usize::from(!list.is_empty());
                match target {
                    "secret" => out.regexes = list,
                    "line" => out.lines = list,
                    "match" => {
                        notes.push(format!(
                            "{here}: regexTarget = \"match\" approximated: tested against the whole line holding the secret"
                        ));
                        out.lines = list;
                    }
                    other => {
                        notes.push(format!(
                            "{here}: unknown regexTarget '{other}', not converted"
                        ));
                    }
                }
            }
            "stopwords" => {
                out.stopwords = strings(v, &here, notes);
                kinds += usize::from(!out.stopwords.is_empty());
            }
            "commits" => {
                let n = v.as_array().map_or(0, |a| a.len());
                if n > 0 {
                    kinds += 1;
                    notes.push(format!(
                        "{here}: {n} commit(s) not converted: leaksweep allowlists do not name commits (list those findings in .leaksweepignore or a baseline)"
                    ));
                }
            }
            other => notes.push(format!(
                "{here}: unknown gitleaks key '{other}', not converted"
            )),
        }
    }
    let and = t
        .get("condition")
        .and_then(|v| v.as_str())
        .is_some_and(|c| c.eq_ignore_ascii_case("and"));
    if and && kinds > 1 {
        notes.push(format!(
            "{shown}: {what}: condition = \"AND\" not converted: leaksweep allowlists drop a finding when any entry applies, which would allow more than this allowlist does"
        ));
        return None;
    }
    for re in out
        .path_regexes
        .iter()
        .chain(&out.regexes)
        .chain(&out.lines)
    {
        if let Err(e) = regex::bytes::Regex::new(re) {
            notes.push(format!(
                "{shown}: {what}: regex '{re}' does not compile here ({}), allowlist not converted",
                first_line(&e.to_string())
            ));
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A list of strings (or one string); anything else is noted and dropped.
fn strings(v: &Value, here: &str, notes: &mut Vec<String>) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| match x.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    notes.push(format!("{here}: entry {x} is not a string, not converted"));
                    None
                }
            })
            .collect(),
        other => {
            notes.push(format!(
                "{here}: {other} is not a list of strings, not converted"
            ));
            Vec::new()
        }
    }
}

/// Converts one `[[rules]]` table: the rule and its allowlists, or `None` (with a note).
fn rule(
    shown: &str,
    i: usize,
    t: &toml::Table,
    notes: &mut Vec<String>,
) -> Option<(ImportedRule, Vec<Allow>)> {
    let raw_id = t.get("id").and_then(|v| v.as_str()).unwrap_or("");
    let at = if raw_id.is_empty() {
        format!("{shown}: rules[{i}]")
    } else {
        format!("{shown}: rule '{raw_id}'")
    };
    if raw_id.is_empty() {
        notes.push(format!("{at}: no id, not converted"));
        return None;
    }
    let id: String = raw_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if id != raw_id {
        notes.push(format!(
            "{at}: id renamed to '{id}' (leaksweep ids use letters, digits, '-', '_', '.')"
        ));
    }
    let Some(regex) = t.get("regex").and_then(|v| v.as_str()) else {
        notes.push(format!(
            "{at}: no regex (a rule that flags files by path alone), not converted: leaksweep rules find secret values"
        ));
        return None;
    };
    let group = match t.get("secretGroup") {
        None => None,
        Some(v) => match v.as_integer() {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                notes.push(format!(
                    "{at}: secretGroup {v} is not a group number, not converted"
                ));
                return None;
            }
        },
    };
    let regex = match secret_group(regex, group) {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!("{at}: regex not converted: {e}"));
            return None;
        }
    };
    let entropy = match t.get("entropy") {
        None => 0.0,
        Some(v) => match v.as_float().or_else(|| v.as_integer().map(|n| n as f64)) {
            Some(e) if (0.0..=8.0).contains(&e) => e,
            _ => {
                notes.push(format!(
                    "{at}: entropy {v} is out of range 0..=8, not converted"
                ));
                0.0
            }
        },
    };
    let mut keywords: Vec<String> = Vec::new();
    if let Some(v) = t.get("keywords") {
        for k in strings(v, &format!("{at} keywords"), notes) {
            if k.trim().len() < 2 {
                notes.push(format!(
                    "{at}: keyword '{k}' dropped (leaksweep keywords are at least 2 characters)"
                ));
            } else if !keywords.contains(&k.to_lowercase()) {
                keywords.push(k.to_lowercase());
            }
        }
    }
    if keywords.is_empty() {
        match derive_keywords(&regex) {
            Some(k) => {
                notes.push(format!(
                    "{at}: no keywords; derived from the regex: {}",
                    k.join(", ")
                ));
                keywords = k;
            }
            None => {
                notes.push(format!(
                    "{at}: no keywords and none can be derived from the regex, not converted: leaksweep runs a rule only where one of its keywords occurs (add keywords and import again)"
                ));
                return None;
            }
        }
    }
    let mut allows = Vec::new();
    for (k, v) in t {
        match k.as_str() {
            "id" | "regex" | "secretGroup" | "entropy" | "keywords" | "description" => {}
            "path" => notes.push(format!(
                "{at}: path not converted: leaksweep rules apply to every file, so this rule now runs on all paths (more findings, never fewer)"
            )),
            "tags" => notes.push(format!("{at}: tags not converted (leaksweep has categories, not tags)")),
            "required" => notes.push(format!(
                "{at}: [[rules.required]] not converted: leaksweep has no composite rules, so this rule reports without its required companions (more findings)"
            )),
            "skipReport" => notes.push(format!(
                "{at}: skipReport not converted: the rule reports its findings"
            )),
            "allowlist" => match v.as_table() {
                Some(a) => allows.extend(allowlist(shown, &format!("rule '{id}' [rules.allowlist]"), a, false, notes)),
                None => notes.push(format!("{at}: allowlist is not a table, not converted")),
            },
            "allowlists" => match v.as_array() {
                Some(list) => {
                    for (j, a) in list.iter().enumerate() {
                        match a.as_table() {
                            Some(a) => allows.extend(allowlist(
                                shown,
                                &format!("rule '{id}' [[rules.allowlists]] #{}", j + 1),
                                a,
                                false,
                                notes,
                            )),
                            None => notes.push(format!("{at}: allowlists[{j}] is not a table, not converted")),
                        }
                    }
                }
                None => notes.push(format!("{at}: allowlists is not an array, not converted")),
            },
            other => notes.push(format!("{at}: {other}: unknown gitleaks key, not converted")),
        }
    }
    let rule = ImportedRule {
        id,
        description: t
            .get("description")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string(),
        regex,
        entropy,
        keywords,
    };
    // The loader's own checks (regex syntax in our dialect, the secret group).
    let probe = format!(
        "[[rule]]\nid = {}\nkeywords = {}\nregex = {}\nimported = \"gitleaks\"\n",
        tstr(&rule.id),
        tarr(&rule.keywords),
        tstr(&rule.regex)
    );
    if let Err(e) = crate::rules::parse(shown, &probe) {
        notes.push(format!(
            "{at}: regex not converted: {}",
            first_line(&e.to_string())
        ));
        return None;
    }
    Some((rule, allows))
}

/// Renames the secret group of a gitleaks regex to `secret`: group `group` (1-based; 0 or
/// `None`: the first group, or the whole match when there is none).
pub fn secret_group(regex: &str, group: Option<usize>) -> Result<String, Error> {
    use regex_syntax::ast::{parse::Parser, Ast, GroupKind};
    let ast = Parser::new().parse(regex).map_err(|e| Error::RegexSyntax {
        message: first_line(&e.to_string()),
    })?;
    // (start of group, replacement range, kind) for every capture group, in opening order.
    struct G {
        start: usize,
        name: Option<(usize, usize, String)>,
    }
    fn walk(a: &Ast, out: &mut Vec<G>) {
        match a {
            Ast::Group(g) => {
                match &g.kind {
                    GroupKind::CaptureIndex(_) => out.push(G {
                        start: g.span.start.offset,
                        name: None,
                    }),
                    GroupKind::CaptureName { name, .. } => out.push(G {
                        start: g.span.start.offset,
                        name: Some((
                            name.span.start.offset,
                            name.span.end.offset,
                            name.name.clone(),
                        )),
                    }),
                    GroupKind::NonCapturing(_) => {}
                }
                walk(&g.ast, out);
            }
            Ast::Alternation(x) => x.asts.iter().for_each(|a| walk(a, out)),
            Ast::Concat(x) => x.asts.iter().for_each(|a| walk(a, out)),
            Ast::Repetition(r) => walk(&r.ast, out),
            _ => {}
        }
    }
    let mut groups = Vec::new();
    walk(&ast, &mut groups);
    groups.sort_by_key(|g| g.start);
    let want = match group {
        Some(n) if n > 0 => {
            if n > groups.len() {
                return Err(Error::NoSuchGroup {
                    group: n,
                    groups: groups.len(),
                });
            }
            Some(n - 1)
        }
        _ => (!groups.is_empty()).then_some(0),
    };
    let Some(want) = want else {
        return Ok(format!("(?P<secret>{regex})"));
    };
    // Edits from the right, so earlier offsets stay valid.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        match (&g.name, i == want) {
            (None, true) => edits.push((g.start, g.start + 1, "(?P<secret>".into())),
            (Some((s, e, _)), true) => edits.push((*s, *e, "secret".into())),
            (Some((s, e, n)), false) if n == "secret" => {
                edits.push((*s, *e, "gitleaks_secret".into()))
            }
            _ => {}
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = regex.to_string();
    for (s, e, with) in edits {
        out.replace_range(s..e, &with);
    }
    Ok(out)
}

/// Keywords for a rule that has none: the literals every match starts (or ends) with, lower-case,
/// when there are few and each is at least 2 characters.
pub fn derive_keywords(regex: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(regex)
        .ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let seq = Extractor::new().kind(kind).extract(&hir);
        let Some(lits) = seq.literals() else {
            continue;
        };
        let mut out: Vec<String> = Vec::new();
        let mut ok = !lits.is_empty();
        for l in lits {
            match std::str::from_utf8(l.as_bytes()) {
                Ok(s) if s.trim().len() >= 2 => {
                    let s = s.to_lowercase();
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
                _ => ok = false,
            }
        }
        if ok && !out.is_empty() && out.len() <= 16 {
            return Some(out);
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_groups() {
        assert_eq!(secret_group("abc", None).unwrap(), "(?P<secret>abc)");
        assert_eq!(secret_group("(a)(b)", Some(2)).unwrap(), "(a)(?P<secret>b)");
        assert_eq!(
            secret_group("(?:x)(a)", Some(0)).unwrap(),
            "(?:x)(?P<secret>a)"
        );
        assert_eq!(
            secret_group("(?P<k>a)(?P<secret>b)", Some(1)).unwrap(),
            "(?P<secret>a)(?P<gitleaks_secret>b)"
        );
        assert!(secret_group("(a)", Some(3)).is_err());
        assert!(secret_group("(a", None).is_err());
    }

    #[test]
    fn keywords_from_literals() {
        assert_eq!(
            derive_keywords("acme_(?P<secret>[a-f0-9]{8})").unwrap(),
            vec!["acme_"]
        );
        assert_eq!(derive_keywords("(?P<secret>[a-f0-9]{8})"), None);
    }
}
