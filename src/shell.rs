//! Quoting for the POSIX shell commands leaksweep writes (hook scripts, the filter-repo and BFG
//! commands of a rewrite plan).

/// `s` as one word for a POSIX shell: always in single quotes, inside which nothing is special,
/// with each `'` written as `'\''` (close, escaped quote, reopen). The empty string is `''`, so an
/// empty argument is not dropped; `$`, backticks, `\`, globs, spaces and newlines stay literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    const NASTY: &[&str] = &[
        "",
        "plain",
        "/a b/it's",
        "'",
        "''",
        "a'b'c",
        "$HOME",
        "${IFS}x",
        "$(id)",
        "`id`",
        "line\nbreak\n",
        "tab\there",
        "back\\slash\\",
        "*?[a]",
        "~user",
        "=cmd",
        "-n",
        "!x",
        "a;b|c&d>e<f",
        "\"double\"",
        "{a,b}",
        "ünï",
    ];

    #[test]
    fn quoted_forms() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(quote("$x `y`"), "'$x `y`'");
        assert_eq!(quote("a\nb"), "'a\nb'");
        assert_eq!(quote(".env.production"), "'.env.production'");
    }

    /// `sh` reads each quoted word back as exactly the original text, as one argument.
    #[cfg(unix)]
    #[test]
    fn sh_reads_back_the_same_word() {
        for s in NASTY {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf '%s|' {}", quote(s))])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                format!("{s}|"),
                "{s:?}"
            );
            let count = std::process::Command::new("sh")
                .args(["-c", &format!("set -- {}; printf '%s' \"$#\"", quote(s))])
                .output()
                .unwrap();
            assert_eq!(count.stdout, b"1", "{s:?} is one word");
        }
    }
}
