//! Secrets that reach a signing call through a name: `var secret = '...'` on one line and
//! `jwt.sign(payload, secret)`, `cookieParser(secret)` or `.signWith(alg, KEY)` on another.
//!
//! The signing call is the evidence; the literal assigned to the name it passes is the key,
//! whatever its length or shape. Runs only on blobs where the signing-call rule's keywords hit,
//! and only for the names such calls pass (a handful per file), so it costs nothing elsewhere.

use regex::bytes::{Regex, RegexBuilder};
use std::ops::Range;
use std::sync::OnceLock;

/// Names passed as the key argument of a signing or verifying call, with the call's offset.
fn calls() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // An argument before the key: a balanced-enough expression without a comma at its top.
        let arg = r#"(?:\{[^{}]*\}|[^,(){}]*(?:\([^()]*\))?[^,(){}]*)"#;
        let name = r#"(?P<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)"#;
        let pattern = format!(
            r#"(?i)(?:(?:jwt|jsonwebtoken|jose|pyjwt)\.(?:sign|verify|encode|decode)\(\s*{arg},\s*|createHmac\(\s*{arg},\s*|hmac\.new\(\s*(?:key\s*=\s*)?|cookieParser\(\s*|signWith\(\s*(?:{arg},\s*)?|setSigningKey\(\s*|SignedString\(\s*(?:\[\]byte\(\s*)?|from_secret\(\s*|Algorithm\.HMAC(?:256|384|512)\(\s*|(?:session|expressJwt|expressjwt|jwt|cookieSession)\(\s*\{{[^{{}}]*?\b(?:secret|secretOrKey|keys)\s*:\s*\[?\s*){name}\s*[,)}}\]]"#
        );
        RegexBuilder::new(&pattern)
            .unicode(false)
            .build()
            .expect("built-in pattern")
    })
}

/// Names that stand for a value looked up elsewhere, never for a literal in this file.
const LOOKUPS: &[&str] = &[
    "process", "env", "config", "settings", "options", "opts", "this",
];

/// Every `(literal span, name, offset of the call)` where a string literal is assigned to a name
/// that a signing call in `windows` of `data` passes as its key.
pub fn keys_passed_to_signing_calls(
    data: &[u8],
    windows: &[Range<usize>],
) -> Vec<(Range<usize>, String, usize)> {
    let mut names: Vec<(String, usize)> = Vec::new();
    for w in windows {
        for c in calls().captures_iter(&data[w.clone()]) {
            let Some(n) = c.name("name") else { continue };
            let full = String::from_utf8_lossy(n.as_bytes()).into_owned();
            let last = full.rsplit('.').next().unwrap_or(&full).to_string();
            if LOOKUPS.contains(&last.as_str())
                || full.starts_with("process.")
                || names.iter().any(|(x, _)| *x == last)
            {
                continue;
            }
            names.push((last, w.start + n.start()));
            if names.len() >= 8 {
                break;
            }
        }
    }
    let mut out = Vec::new();
    for (name, at) in names {
        // `name = '...'`, `name: "..."`, `String name = "..."`, `name := []byte("...")`.
        let pattern = format!(
            r#"(?m)(?:^|[^\w$])(?:{n})["'`]?[ \t]*(?::[ \t]*[\w<>\[\]]+[ \t]*)?(?:=|:=|:)[ \t]*(?:\[\]byte\(|Buffer\.from\()?b?(?:"(?P<d>[^"\r\n\\]+)"|'(?P<s>[^'\r\n\\]+)'|`(?P<b>[^`\r\n\\]+)`)"#,
            n = regex::escape(&name)
        );
        let Ok(re) = RegexBuilder::new(&pattern).unicode(false).build() else {
            continue;
        };
        for c in re.captures_iter(data) {
            if let Some(v) = c.name("d").or(c.name("s")).or(c.name("b")) {
                out.push((v.start()..v.end(), name.clone(), at));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<String> {
        let data = src.as_bytes();
        let whole: Range<usize> = 0..data.len();
        keys_passed_to_signing_calls(data, std::slice::from_ref(&whole))
            .into_iter()
            .map(|(s, _, _)| src[s].to_string())
            .collect()
    }

    #[test]
    fn literal_reaches_a_signing_call_by_name() {
        assert_eq!(
            found("var secret = 'Kq2';\napp.use(cookieParser(secret));\n"),
            ["Kq2"]
        );
        assert_eq!(
            found("const k = \"a b\"\nconst t = jwt.sign({ id: u.id }, k, { expiresIn: 60 })\n"),
            ["a b"]
        );
        assert_eq!(
            found(
                "String KEY = \"Zx9\";\nJwts.builder().signWith(SignatureAlgorithm.HS512, KEY)\n"
            ),
            ["Zx9"]
        );
        assert_eq!(
            found("app.use(session({ resave: false, secret: mykey }))\nlet mykey = 'w0r'\n"),
            ["w0r"]
        );
        assert_eq!(
            found("key := []byte(\"pq7\")\ns, _ := tok.SignedString(key)\n"),
            ["pq7"]
        );
    }

    #[test]
    fn lookups_and_unrelated_names_are_not_keys() {
        assert!(found("jwt.sign(p, process.env.SECRET)\nconst SECRET = 'x1'\n").is_empty());
        assert!(found("var other = 'abc';\njwt.sign(p, secret)\n").is_empty());
        assert!(found("var secret = getSecret();\njwt.sign(p, secret)\n").is_empty());
    }
}
