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

/// Expands every `%NAME%` fragment in `pattern`.
pub fn expand(pattern: &str) -> String {
    let mut out = pattern.to_string();
    for (k, v) in FRAGMENTS {
        if out.contains(k) {
            out = out.replace(k, v);
        }
    }
    out
}
