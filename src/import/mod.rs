//! Switching from other scanners: converting a gitleaks configuration into `.leaksweep.toml`
//! plus a rule file ([`gitleaks`]), and the history filters gitleaks users expect on the command
//! line (`--since-date`, `--until-date`, `--path`: [`filters`]). Reading gitleaks' and
//! detect-secrets' baselines and `.gitleaksignore` lives with our own baselines in `baseline.rs`.

pub mod filters;
pub mod gitleaks;

/// Lower-case Levenshtein "did you mean": the candidate nearest to `wanted`, when it is close
/// enough to be a plausible typo (at most a third of the length away).
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= (wanted.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// `--redact=N` (N below 100): each finding's redaction shows the first N percent of the secret's
/// characters (never all of them) instead of the default short prefix, in `redacted` and in the
/// preview. Runs after the report text is cleaned; the shown part is sanitised too.
pub fn reveal_percent(findings: &mut [crate::finding::Finding], pct: u8) {
    use crate::finding::{redact, sanitize};
    for f in findings {
        let text = f.secret.expose_str();
        let chars: Vec<char> = text.chars().collect();
        let keep =
            (chars.len() * usize::from(pct.min(100)) / 100).min(chars.len().saturating_sub(1));
        let head: String = chars[..keep].iter().collect();
        let shown = format!(
            "{}{} ({} chars)",
            sanitize(&head),
            "*".repeat(6),
            f.secret.len()
        );
        let old = sanitize(&redact(f.secret.expose())).into_owned();
        f.preview = f.preview.replace(&old, &shown);
        f.redacted = shown;
    }
}
