//! Named regex fragments shared by rule files, so that the dozens of "a secret-like name is assigned
//! a value" rules agree on what an assignment looks like in .env, YAML, JSON, TOML and code.
//!
//! A fragment is written `%NAME%` in a rule's regex (a percent sign is literal in regex syntax, so
//! the placeholders cannot collide with real patterns).

/// (placeholder, expansion)
const FRAGMENTS: &[(&str, &str)] = &[
    // Start of a name: a word boundary, optionally followed by a prefix that ends in a separator
    // (`APP_`, `process.env.`, `auth.`), so `MY_JWT_SECRET` and `settings.jwt_secret` match.
    ("%PRE%", r"(?:^|[^\w.-])(?:[\w.-]*[_.-])?"),
    // Between a name and its value: optional closing quote of a quoted key, an optional type
    // annotation (`: string`, `: &str`) followed by `=`, `:=`, `=>` or `?=`; or a bare `:` (YAML, JSON).
    // A quote may be escaped (`\"`, `\\\"`): JSON inside a string literal (`"{\"key\":\"...\"}"` in
    // Java, JS or C#) or JSON-escaped JSON in a log line. The value's escaped opening quote is taken
    // here, so the rule's own optional quote then matches nothing.
    (
        "%ASSIGN%",
        r#"(?:\\*["'`])?[ \t]*(?:(?::[ \t]*&?(?:'static[ \t]+)?[A-Za-z_][\w:<>]*[ \t]*)?(?:=|:=|=>|\?=)|:)[ \t]*(?:\\+["'`])?"#,
    ),
    // The value: an optional byte-string wrapper (Go `[]byte(`, JS `Buffer.from(`,
    // `new TextEncoder().encode(`), an optional opening quote (Python `b"`), then the secret up to
    // whitespace, a quote, `,` or `;`.
    (
        "%VALUE%",
        r#"(?:\[\]byte\(|Buffer\.from\(|(?:new )?TextEncoder\(\)\.encode\()?(?:b?["'`])?(?P<secret>[^\s"'`,;\\]+)"#,
    ),
    // A command-line argument or directive value: the `%VALUE%` capture after an optional `'` or
    // `"`. Not after a backtick: in a shell that opens a command substitution, whose output is the
    // value (`--token `vault read ...``), never a literal.
    ("%ARG%", r#"["']?(?P<secret>[^\s"'`,;\\]+)"#),
    // After a flag or directive name: a space or `=` then `%ARG%`; or, in an argument list
    // (`["--token", "..."]`), the name's closing quote, a comma and the next item's opening quote
    // (only a quoted item is a value there: `add_argument("--token", required=True)` is code); or,
    // in a YAML list (`args:` of a container), the next line's item. A rule using it reads one
    // line past its keyword (`context_lines = 1`).
    (
        "%FLAGVALUE%",
        r#"(?:(?:[ \t]+|=)["']?|["'][ \t]*,[ \t]*["']|["']?[ \t]*\r?\n[ \t]*-[ \t]+["']?)(?P<secret>[^\s"'`,;\\]+)"#,
    ),
];

/// The name of a directive that gives a variable a value after a space, not `=`: a Dockerfile's
/// `ENV NAME value` (its older form), Apache's `SetEnv NAME value`, csh's and launchd's
/// `setenv NAME value`, fish's `set -gx NAME value`, Windows' `setx NAME value` and nginx's
/// `fastcgi_param NAME value;`. Then the optional prefix of a name, as in `%PRE%`.
const DIRECTIVE: &str = r"(?m:^)[ \t]*(?i:env|(?:launchctl[ \t]+)?setenv|setx|set[ \t]+-[a-z]+|fastcgi_param|uwsgi_param)[ \t]+(?:[\w.-]*[_.-])?";

/// A call whose first argument is the quoted name and whose second is a quoted literal:
/// `os.Setenv("DB_PASSWORD", "...")`, `os.environ.setdefault("JWT_SECRET", "...")`,
/// `System.setProperty("jwt.secret", "...")`, `app.set('jwtSecret', '...')`,
/// `headers.put("X-Api-Key", "...")`. The value's opening quote is taken here, so only a quoted
/// literal is a value (`setItem("token", response.token)` is code).
const CALL_OPEN: &str = r#"\([ \t]*["'](?:[\w.-]*[_.-])?"#;
const CALL_SEP: &str = r#"["'][ \t]*,[ \t]*["']"#;

/// Every `%PRE%NAME%ASSIGN%` of `pattern` also matches the two other ways a name is given a
/// value: a directive and a space (`ENV NAME value`), and a call's two first arguments
/// (`Setenv("NAME", "value")`). The name is written once in the rule; it holds no capture group
/// (the rules name only their value), so it can appear three times in the expansion.
fn assignment_forms(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 3);
    let mut rest = pattern;
    while let Some(pre) = rest.find("%PRE%") {
        let after = &rest[pre + "%PRE%".len()..];
        let Some(assign) = after.find("%ASSIGN%") else {
            break;
        };
        let name = &after[..assign];
        if name.contains("%PRE%") || name.contains("(?P<") {
            out.push_str(&rest[..pre + "%PRE%".len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..pre]);
        out.push_str(&format!(
            "(?:%PRE%{name}%ASSIGN%|{DIRECTIVE}{name}[ \t]+|{CALL_OPEN}{name}{CALL_SEP})"
        ));
        rest = &after[assign + "%ASSIGN%".len()..];
    }
    out.push_str(rest);
    out
}

/// The keyword guard's cheap test of the call form (beside its regex, so the two agree): after
/// the rest of a name (`[\w.-]*`), a closing quote, blanks and a comma, the name is a call's
/// quoted first argument (`Setenv("DB_PASSWORD", ...)`).
pub fn quoted_first_argument(rest: &[u8]) -> bool {
    let mut it = rest
        .iter()
        .skip_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    matches!(it.next(), Some(b'"' | b'\'')) && it.find(|&&b| b != b' ' && b != b'\t') == Some(&b',')
}

/// The keyword guard's cheap test of the directive form (beside [`DIRECTIVE`], whose first words
/// these are): the line of the hit at `start` opens with one of them.
pub fn after_directive(data: &[u8], start: usize) -> bool {
    let line = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let head = data[line..start].trim_ascii_start();
    let word = head
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .map_or(head, |i| &head[..i]);
    [
        &b"env"[..],
        b"setenv",
        b"set",
        b"setx",
        b"launchctl",
        b"fastcgi_param",
        b"uwsgi_param",
    ]
    .iter()
    .any(|d| word.eq_ignore_ascii_case(d))
}

/// Whether an expanded regex takes the other forms of an assignment of [`assignment_forms`]
/// (a directive and a space, a call's first two arguments).
pub fn has_assignment_forms(regex: &str) -> bool {
    regex.contains(DIRECTIVE)
}

/// Expands every `%NAME%` fragment in `pattern`.
pub fn expand(pattern: &str) -> String {
    let mut out = assignment_forms(pattern);
    for (k, v) in FRAGMENTS {
        if out.contains(k) {
            out = out.replace(k, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expand;
    use regex::Regex;

    fn secret<'a>(re: &Regex, text: &'a str) -> Option<&'a str> {
        re.captures(text)
            .and_then(|c| c.name("secret"))
            .map(|m| m.as_str())
    }

    #[test]
    fn a_name_is_given_a_value_by_assignment_directive_or_call() {
        let re = Regex::new(&expand(
            r"(?i)%PRE%[\w.-]*?(?:secret|password)%ASSIGN%%VALUE%",
        ))
        .unwrap();
        for (text, want) in [
            ("JWT_SECRET=a1", Some("a1")),
            ("ENV JWT_SECRET a2", Some("a2")),
            ("  env APP_JWT_SECRET \"a3\"", Some("a3")),
            ("SetEnv DB_PASSWORD a4", Some("a4")),
            ("setenv DB_PASSWORD a5", Some("a5")),
            ("set -gx JWT_SECRET a6", Some("a6")),
            ("setx DB_PASSWORD a13", Some("a13")),
            ("launchctl setenv DB_PASSWORD a14", Some("a14")),
            ("  fastcgi_param DB_PASSWORD a15;", Some("a15")),
            ("os.Setenv(\"DB_PASSWORD\", \"a7\")", Some("a7")),
            ("System.setProperty(\"jwt.secret\", 'a8');", Some("a8")),
            ("os.environ.setdefault( 'APP_SECRET' , 'a9')", Some("a9")),
            ("check(\"secret\", 'a12')x", Some("a12")),
            // Not a value: prose after a name, a directive in the middle of a line, code.
            ("the jwt secret a10", None),
            ("RUN echo ENV JWT_SECRET a11", None),
            ("localStorage.setItem(\"secret\", response.secret)", None),
        ] {
            assert_eq!(secret(&re, text), want, "{text}");
        }
    }
}
