//! Reading a gitleaks configuration into its [`Model`]: the file and the files it extends, its
//! rules and allowlists in our terms, and a note for everything that does not map.

use super::{derive_keywords, secret_group, tarr, tstr, Allow, ImportedRule};
use crate::error::Error;
use std::path::{Path, PathBuf};
use toml::Value;

/// How many `[extend] path` files deep a conversion follows.
const MAX_EXTEND_DEPTH: usize = 3;

/// One gitleaks file, with what it extends folded in.
#[derive(Default)]
pub(super) struct Model {
    pub(super) use_default: bool,
    pub(super) rules: Vec<ImportedRule>,
    /// Per-rule allowlists by gitleaks rule id.
    pub(super) rule_allows: Vec<(String, Allow)>,
    pub(super) global: Allow,
    /// Global allowlists restricted to some rules (`targetRules`).
    pub(super) targeted: Vec<(Vec<String>, Allow)>,
    pub(super) disabled: Vec<String>,
}

/// Reads and parses the file at `path`, `depth` files down an `[extend] path` chain.
pub(super) fn load(path: &Path, depth: usize, notes: &mut Vec<String>) -> Result<Model, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| Error::GitleaksIo {
        file: shown.clone(),
        error,
    })?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    parse(&shown, &text, &dir, depth, notes)
}

/// Parses one file's text; `shown` names it in errors and notes, `dir` resolves `[extend] path`.
pub(super) fn parse(
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

/// The last non-blank line of an error message (regex-syntax puts the reason there).
pub(super) fn first_line(s: &str) -> String {
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
