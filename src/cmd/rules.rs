//! `leaksweep rules list|show|check`.

use crate::cli::RulesCmd;
use crate::config::load_rules;
use crate::matcher::{Matcher, Scratch};
use crate::rules::{self, Rule};
use anyhow::{bail, Result};
use std::process::ExitCode;

pub fn run(args: RulesCmd) -> Result<ExitCode> {
    match args {
        RulesCmd::List {
            rule_files,
            category,
            search,
        } => {
            let rules = load_rules(&rule_files)?;
            let total = rules.len();
            let shown = select(&rules, category.as_deref(), search.as_deref())?;
            let families = print_grouped(&shown);
            let families = match families {
                1 => "1 family".to_string(),
                n => format!("{n} families"),
            };
            let validated = shown.iter().filter(|r| r.validator.is_some()).count();
            if category.is_some() || search.is_some() {
                eprintln!(
                    "{} of {total} rules, in {families}; {validated} validated offline",
                    shown.len()
                );
            } else {
                eprintln!("{total} rules, in {families}; {validated} validated offline");
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCmd::Show { id } => {
            let rules = load_rules(&[])?;
            let Some(r) = rules.iter().find(|r| r.id == id) else {
                let hint = crate::import::did_you_mean(&id, rules.iter().map(|r| r.id.as_str()))
                    .map(|m| format!(" (did you mean '{m}'?)"))
                    .unwrap_or_default();
                bail!("no rule with id '{id}'{hint}; see `leaksweep rules list`");
            };
            println!("id:          {}", r.id);
            println!("description: {}", r.description);
            println!("category:    {}", r.category);
            println!("severity:    {}", r.severity);
            println!("keywords:    {}", r.keywords.join(", "));
            println!("entropy:     {}", r.entropy);
            println!("rotation:    {}", r.rotation);
            match r.validator {
                Some(v) => println!("validator:   {}: {}", v.name(), v.summary()),
                None => println!("validator:   none (regex, entropy and placeholder checks only)"),
            }
            println!("file:        rules/{}", r.source_file);
            println!("regex:       {}", r.regex);
            println!("examples:");
            for e in &r.examples {
                println!("  + {e}");
            }
            for e in &r.negatives {
                println!("  - {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCmd::Check { file } => {
            let rules = rules::load_file(&file)?;
            let failures = check_examples(&rules);
            for f in &failures {
                eprintln!("{}: {f}", file.display());
            }
            if failures.is_empty() {
                println!(
                    "{}: {} rule(s) OK, all examples pass",
                    file.display(),
                    rules.len()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(super::ExitStatus::CheckFailed.into())
            }
        }
    }
}

/// The rules `rules list` shows: those of family `category` (case-insensitive; a family no rule
/// has is an error that names the families there are) whose id or description contains `search`
/// (case-insensitive).
fn select<'a>(
    rules: &'a [Rule],
    category: Option<&str>,
    search: Option<&str>,
) -> Result<Vec<&'a Rule>> {
    if let Some(c) = category {
        if !rules.iter().any(|r| r.category.eq_ignore_ascii_case(c)) {
            let mut known: Vec<&str> = rules.iter().map(|r| r.category.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            bail!(
                "--category: no rule family '{c}' (families: {})",
                known.join(", ")
            );
        }
    }
    let needle = search.map(str::to_ascii_lowercase);
    Ok(rules
        .iter()
        .filter(|r| category.is_none_or(|c| r.category.eq_ignore_ascii_case(c)))
        .filter(|r| {
            needle.as_deref().is_none_or(|n| {
                r.id.to_ascii_lowercase().contains(n)
                    || r.description.to_ascii_lowercase().contains(n)
            })
        })
        .collect())
}

/// Prints `rules` grouped by family (category), families and rules sorted by name, each family
/// under a `family (N)` heading; a rule with an offline validator ends with `[validator: NAME]`.
/// Returns the number of families printed.
fn print_grouped(rules: &[&Rule]) -> usize {
    let mut sorted: Vec<&Rule> = rules.to_vec();
    sorted.sort_by(|a, b| a.category.cmp(&b.category).then_with(|| a.id.cmp(&b.id)));
    let mut families = 0;
    for group in sorted.chunk_by(|a, b| a.category == b.category) {
        if families > 0 {
            println!();
        }
        families += 1;
        println!("{} ({})", group[0].category, group.len());
        for r in group {
            let validator = r
                .validator
                .map(|v| format!("  [validator: {}]", v.name()))
                .unwrap_or_default();
            println!(
                "  {:<40} {:<8} {}{validator}",
                r.id,
                r.severity.to_string(),
                r.description
            );
        }
    }
    families
}

/// Runs every rule's examples (must match) and negatives (must not), each rule on its own.
/// Returns one message per failure.
pub fn check_examples(rules: &[Rule]) -> Vec<String> {
    let mut failures = Vec::new();
    for rule in rules {
        let matcher = match Matcher::new(vec![rule.clone()]) {
            Ok(m) => m,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        if let Err(e) = matcher.rules()[0].regex() {
            failures.push(e.to_string());
            continue;
        }
        let mut scratch = Scratch::default();
        let at = rule.example_path.as_deref();
        for ex in &rule.examples {
            let text = unescape(ex);
            if matcher.scan(text.as_bytes(), at, &mut scratch).is_empty() {
                failures.push(format!("rule '{}': example not matched: {ex}", rule.id));
            }
        }
        for ex in &rule.negatives {
            let text = unescape(ex);
            if !matcher.scan(text.as_bytes(), at, &mut scratch).is_empty() {
                failures.push(format!(
                    "rule '{}': negative example matched: {ex}",
                    rule.id
                ));
            }
        }
    }
    failures
}

/// Examples may write a line break as a literal `\n` (for multi-line secrets).
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
}
