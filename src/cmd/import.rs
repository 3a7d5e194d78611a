//! `leaksweep import gitleaks [PATH]`: converts a gitleaks config into `.leaksweep.toml` plus a
//! rule file (see `import/gitleaks.rs`), naming on stderr every field that could not be
//! converted. Existing output files are kept unless `--force`; a config that does not parse is
//! an error (exit 2).

use crate::cli::{ImportCmd, ImportGitleaksArgs};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub fn run(cmd: ImportCmd) -> Result<ExitCode> {
    match cmd {
        ImportCmd::Gitleaks(args) => gitleaks(&args),
    }
}

fn gitleaks(args: &ImportGitleaksArgs) -> Result<ExitCode> {
    if !args.path.is_file() {
        bail!(
            "{}: no such gitleaks config (pass its path: `leaksweep import gitleaks FILE`)",
            args.path.display()
        );
    }
    if !args.force {
        for out in [&args.config_out, &args.rules_out] {
            if out.exists() {
                bail!(
                    "{} already exists; pass --force to overwrite it",
                    out.display()
                );
            }
        }
    }
    let conv = crate::import::gitleaks::convert_file(&args.path).map_err(anyhow::Error::msg)?;
    let source = args.path.display().to_string();
    let rule_ref = rule_file_reference(&args.config_out, &args.rules_out)?;
    let config = conv.config_toml(&source, &rule_ref);
    // What we wrote must load: a conversion we cannot read back is our error, not the user's.
    crate::project::parse(&args.config_out.display().to_string(), &config)
        .context("the converted config does not load (please report this)")?;
    if !conv.rules.is_empty() {
        let text = conv.rules_toml(&source);
        crate::rules::parse(&args.rules_out.display().to_string(), &text)
            .context("the converted rules do not load (please report this)")?;
        write(&args.rules_out, &text)?;
    }
    write(&args.config_out, &config)?;
    for n in &conv.notes {
        eprintln!("leaksweep: not converted: {}", crate::finding::sanitize(n));
    }
    eprintln!(
        "leaksweep: imported {} rule(s) from {} into {}{} ({} field(s) not converted or approximated; see the comments there)",
        conv.rules.len(),
        crate::finding::sanitize(&source),
        args.config_out.display(),
        if conv.rules.is_empty() {
            String::new()
        } else {
            format!(" and {}", args.rules_out.display())
        },
        conv.notes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// How the config names the rule file: relative to the config's directory when both share it,
/// else an absolute path.
fn rule_file_reference(config: &Path, rules: &Path) -> Result<String> {
    let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    if parent(config) == parent(rules) {
        if let Some(name) = rules.file_name() {
            return Ok(name.to_string_lossy().into_owned());
        }
    }
    let abs = std::path::absolute(rules)
        .with_context(|| format!("cannot resolve {}", rules.display()))?;
    Ok(abs.display().to_string())
}

fn write(path: &Path, text: &str) -> Result<()> {
    crate::output::write_atomic_mode(path, text.as_bytes(), 0o644)
        .with_context(|| format!("cannot write {}", path.display()))
}
