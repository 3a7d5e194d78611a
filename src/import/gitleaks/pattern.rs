//! Gitleaks regexes in our terms: the secret group renamed to `secret`, and keywords derived
//! from a regex's literals for a rule that has none.

use super::model::first_line;
use crate::error::Error;

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
