//! Rule model and loading.
//!
//! Rules are data: the built-in set lives in `rules/*.toml` at the repository root and is embedded at
//! compile time; users add their own files with `--rules FILE`. Loading validates everything that can
//! be checked without running a scan (TOML shape, regex syntax, the `secret` capture group, examples
//! present, known validator and rotation kind) and names the file and rule in every error. Regexes are
//! only *parsed* here; the matcher compiles each one lazily the first time its keywords hit, so an
//! empty or small scan (a pre-commit hook) pays for no regex it does not use.

mod model;
mod template;

pub use model::{Allowlist, KeywordGuard, RotationKind, Rule, RuleFile, Severity, Validator};
pub use template::{after_directive, has_assignment_forms, quoted_first_argument};

use crate::error::Error;
use std::path::Path;

/// The built-in rule files, embedded at compile time: (file name, contents).
pub const BUILTIN: &[(&str, &str)] = &[
    ("mission.toml", include_str!("../../rules/mission.toml")),
    ("database.toml", include_str!("../../rules/database.toml")),
    ("keys.toml", include_str!("../../rules/keys.toml")),
    ("cloud.toml", include_str!("../../rules/cloud.toml")),
    ("vcs.toml", include_str!("../../rules/vcs.toml")),
    ("saas.toml", include_str!("../../rules/saas.toml")),
    (
        "registries.toml",
        include_str!("../../rules/registries.toml"),
    ),
    ("data.toml", include_str!("../../rules/data.toml")),
    ("keyfiles.toml", include_str!("../../rules/keyfiles.toml")),
    (
        "frameworks.toml",
        include_str!("../../rules/frameworks.toml"),
    ),
    ("ai.toml", include_str!("../../rules/ai.toml")),
    ("payment.toml", include_str!("../../rules/payment.toml")),
    ("messaging.toml", include_str!("../../rules/messaging.toml")),
    (
        "observability.toml",
        include_str!("../../rules/observability.toml"),
    ),
    (
        "commandline.toml",
        include_str!("../../rules/commandline.toml"),
    ),
    ("generic.toml", include_str!("../../rules/generic.toml")),
];

/// Loads and validates every built-in rule.
pub fn builtin() -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for (name, text) in BUILTIN {
        // Compiled lazily: the built-in regexes are compiled by the tests, not at every start.
        rules.extend(prepare_with(name, parse_file(name, text)?, false)?);
    }
    check_unique(&rules, "built-in rules")?;
    Ok(rules)
}

/// Loads and validates a user rule file.
pub fn load_file(path: &Path) -> Result<Vec<Rule>, Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::RuleFileIo {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text)
}

/// Parses and validates the text of one rule file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Rule>, Error> {
    prepare(file, parse_file(file, text)?)
}

fn parse_file(file: &str, text: &str) -> Result<Vec<Rule>, Error> {
    // The message and position only: toml's Display quotes the offending line, and a rule file
    // named by mistake (`--rules .env`) would print a secret into CI logs.
    let parsed: RuleFile = toml::from_str(text).map_err(|e| Error::RuleFileParse {
        file: file.to_string(),
        message: match e.span() {
            Some(span) => {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
                format!("line {line}, column {column}: {}", e.message().trim_end())
            }
            None => e.message().trim_end().to_string(),
        },
    })?;
    Ok(parsed.rule)
}

/// Expands and validates rules already deserialized (from a rule file or the `[[rule]]` tables of
/// `.leaksweep.toml`); `file` names their source in errors. Each regex is compiled once, so one
/// that is over the compile size limit fails here, naming the rule and file.
pub fn prepare(file: &str, parsed: Vec<Rule>) -> Result<Vec<Rule>, Error> {
    prepare_with(file, parsed, true)
}

fn prepare_with(file: &str, parsed: Vec<Rule>, compile: bool) -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::with_capacity(parsed.len());
    for mut rule in parsed {
        rule.regex = template::expand(&rule.regex);
        rule.source_file = file.to_string();
        validate(&rule)
            .and_then(|()| if compile { compiles(&rule) } else { Ok(()) })
            .map_err(|message| rule_error(file, &rule, message))?;
        rules.push(rule);
    }
    check_unique(&rules, file)?;
    Ok(rules)
}

/// The error for rule `rule` of `file`.
fn rule_error(file: &str, rule: &Rule, problem: Problem) -> Error {
    Error::Rule {
        file: file.to_string(),
        rule: rule.id.clone(),
        message: problem.0,
    }
}

fn check_unique(rules: &[Rule], file: &str) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for r in rules {
        if !seen.insert(r.id.as_str()) {
            return Err(rule_error(file, r, "duplicate rule id".into()));
        }
    }
    Ok(())
}

/// What is wrong with one rule, before the file and rule are known to name it
/// ([`Error::Rule`]'s message).
struct Problem(String);

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Self {
        Problem(message.to_string())
    }
}

/// Compiles the rule's regex as the matcher will (the syntax is already checked).
fn compiles(rule: &Rule) -> Result<(), Problem> {
    match crate::matcher::compile_rule_regex(&rule.regex) {
        Ok(_) => Ok(()),
        Err(regex::Error::CompiledTooBig(limit)) => Err(format!(
            "regex is over the compile size limit ({} MiB): simplify it (smaller counted \
             repetitions such as {{1000}}, fewer alternatives)",
            limit >> 20
        )
        .into()),
        Err(e) => Err(format!("regex does not compile:\n{e}").into()),
    }
}

/// Checks one rule without compiling its regex to an automaton.
fn validate(rule: &Rule) -> Result<(), Problem> {
    if rule.id.is_empty()
        || !rule
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err("id must be non-empty and use only letters, digits, '-', '_' or '.'".into());
    }
    if rule.keywords.is_empty() && rule.files.is_empty() {
        return Err(
            "needs at least one keyword (the prefilter only runs rules whose keywords occur), or `files`"
                .into(),
        );
    }
    if rule.keywords.iter().any(|k| k.trim().len() < 2) {
        return Err("keywords must be at least 2 characters".into());
    }
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(&rule.regex)
        .map_err(|e| format!("regex does not compile:\n{e}"))?;
    if let Some(d) = &rule.decode {
        if d != "base64" {
            return Err(format!("unknown decode '{d}' (only \"base64\")").into());
        }
    }
    let names = capture_names(&rule.regex)?;
    if !names.iter().any(|n| n == "secret") {
        return Err("regex has no capture group named 'secret' (write (?P<secret>...))".into());
    }
    if rule.examples.is_empty() && rule.imported.is_none() {
        return Err("needs at least one example (a string the rule must match)".into());
    }
    if rule.negatives.is_empty() && rule.imported.is_none() {
        return Err(
            "needs at least one negative example (a string the rule must not match)".into(),
        );
    }
    for f in &rule.files {
        globset::Glob::new(f).map_err(|e| format!("files glob '{f}': {e}"))?;
    }
    if !rule.files.is_empty() && rule.example_path.is_none() && rule.imported.is_none() {
        return Err(
            "a rule with `files` needs `example_path` (where its examples are scanned)".into(),
        );
    }
    if let Some(g) = &rule.keyword_guard {
        crate::matcher::Guard::compile(g, rule.context_lines)
            .map_err(|e| format!("keyword_guard: {e}"))?;
    }
    if !(0.0..=8.0).contains(&rule.entropy) {
        return Err(format!("entropy {} is out of range 0..=8", rule.entropy).into());
    }
    for re in &rule.allowlist.regexes {
        regex::bytes::Regex::new(re)
            .map_err(|e| format!("allowlist regex does not compile: {e}"))?;
    }
    for p in &rule.allowlist.paths {
        globset::Glob::new(p).map_err(|e| format!("allowlist path glob '{p}': {e}"))?;
    }
    Ok(())
}

fn capture_names(pattern: &str) -> Result<Vec<String>, Problem> {
    // regex-syntax's AST keeps group names; walk it to list them.
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| format!("regex does not compile:\n{e}"))?;
    let mut names = Vec::new();
    collect_names(&ast, &mut names);
    Ok(names)
}

fn collect_names(ast: &regex_syntax::ast::Ast, out: &mut Vec<String>) {
    use regex_syntax::ast::{Ast, GroupKind};
    match ast {
        Ast::Group(g) => {
            if let GroupKind::CaptureName { name, .. } = &g.kind {
                out.push(name.name.clone());
            }
            collect_names(&g.ast, out);
        }
        Ast::Alternation(a) => a.asts.iter().for_each(|x| collect_names(x, out)),
        Ast::Concat(c) => c.asts.iter().for_each(|x| collect_names(x, out)),
        Ast::Repetition(r) => collect_names(&r.ast, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rules = builtin().expect("built-in rules are valid");
        assert!(rules.len() >= 40, "only {} rules", rules.len());
    }

    /// Every built-in rule's examples match and its negatives do not.
    #[test]
    fn builtin_rule_examples() {
        let rules = builtin().expect("built-in rules are valid");
        let failures = crate::cmd::rules::check_examples(&rules);
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn bad_rules_name_file_and_rule() {
        let e = parse(
            "x.toml",
            "[[rule]]\nid='a'\nkeywords=['ab']\nregex='(ab'\nexamples=['ab']\nnegatives=['c']\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.toml: rule 'a': regex does not compile"),
            "{e}"
        );
        let e = parse(
            "x.toml",
            "[[rule]]\nid='a'\nkeywords=['ab']\nregex='ab'\nexamples=['ab']\nnegatives=['c']\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("no capture group named 'secret'"),
            "{e}"
        );
        let e = parse(
            "x.toml",
            "[[rule]]\nid='a'\nkeywords=['ab']\nregex='(?P<secret>ab)'\nnegatives=['c']\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs at least one example"), "{e}");
        let e = parse("x.toml", "[[rule]]\nid='a'\nbogus=1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `bogus`"), "{e}");
        // A secrets file passed as rules: the error names the place, never quotes the line.
        let e = parse("x.toml", "A=1\nJWT_SECRET=-TJwIU9YrKqnfxVCPR9IUcEnKp\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.toml: invalid rule file: line 2, column "),
            "{e}"
        );
        assert!(!e.to_string().contains("TJwIU9YrK"), "{e}");
    }
}
