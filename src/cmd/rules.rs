//! `leaksweep rules list|show|check`.

use crate::cli::RulesCmd;
use crate::config::load_rules;
use crate::matcher::{Matcher, Scratch};
use crate::rules::{self, Rule};
use anyhow::{bail, Result};
use std::process::ExitCode;

pub fn run(args: RulesCmd) -> Result<ExitCode> {
    match args {
        RulesCmd::List { rule_files } => {
            let rules = load_rules(&rule_files)?;
            for r in &rules {
                println!(
                    "{:<32} {:<16} {:<8} {}",
                    r.id, r.category, r.severity, r.description
                );
            }
            eprintln!("{} rules", rules.len());
            Ok(ExitCode::SUCCESS)
        }
        RulesCmd::Show { id } => {
            let rules = load_rules(&[])?;
            let Some(r) = rules.iter().find(|r| r.id == id) else {
                bail!("no rule with id '{id}' (see `leaksweep rules list`)");
            };
            println!("id:          {}", r.id);
            println!("description: {}", r.description);
            println!("category:    {}", r.category);
            println!("severity:    {}", r.severity);
            println!("keywords:    {}", r.keywords.join(", "));
            println!("entropy:     {}", r.entropy);
            println!("rotation:    {}", r.rotation);
            if let Some(v) = r.validator {
                println!(
                    "validator:   {}",
                    serde_json::to_string(&v)
                        .unwrap_or_default()
                        .trim_matches('"')
                );
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
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// Runs every rule's examples (must match) and negatives (must not), each rule on its own.
/// Returns one message per failure.
pub fn check_examples(rules: &[Rule]) -> Vec<String> {
    let mut failures = Vec::new();
    for rule in rules {
        let matcher = match Matcher::new(vec![rule.clone()]) {
            Ok(m) => m,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if let Err(e) = matcher.rules()[0].regex() {
            failures.push(e.to_string());
            continue;
        }
        let mut scratch = Scratch::default();
        for ex in &rule.examples {
            let text = unescape(ex);
            if matcher.scan(text.as_bytes(), None, &mut scratch).is_empty() {
                failures.push(format!("rule '{}': example not matched: {ex}", rule.id));
            }
        }
        for ex in &rule.negatives {
            let text = unescape(ex);
            if !matcher.scan(text.as_bytes(), None, &mut scratch).is_empty() {
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
