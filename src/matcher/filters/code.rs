//! The shape of code and of names: whether a captured value reads as an identifier, a call,
//! a member path or an expression (`getPassword()`, `self.password`, `ctx->key`) rather than a
//! literal, and whether letters read as camelCase words rather than drawn characters.

/// Whether the file at `path` is written in a syntax without expressions, where a value is a
/// literal whatever its shape: `.env` files, Java properties, INI and its kin (`.ini`, `.cfg`,
/// `.conf`, `.cnf`), TOML (values are quoted strings), Terraform variable files (constants only)
/// and the credential files of tools (`.netrc`, `.pgpass`, `.npmrc`, `.pypirc`, `.htpasswd`,
/// `.git-credentials`). The template references they may hold (`${DB_PASS}`, `%(pw)s`, `$X`)
/// are caught as templates, not as code. Source code, shell (`.envrc` too), YAML, JSON and XML
/// are not such files: they carry expressions, or the tools that read them do (`$(cmd)`,
/// Spring's `#{bean.key}`, XAML's `{Binding Key}`, ARM's `[parameters('key')]`).
pub fn literal_syntax(path: &str) -> bool {
    const EXT: &[&str] = &[
        "env",
        "properties",
        "ini",
        "cfg",
        "conf",
        "cnf",
        "toml",
        "tfvars",
        "netrc",
        "pgpass",
        "npmrc",
        "pypirc",
        "htpasswd",
    ];
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let dotfile = name.strip_prefix('.').unwrap_or(&name);
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    (name.starts_with(".env") && name != ".envrc")
        || matches!(name.as_str(), "_netrc" | ".git-credentials")
        || EXT.contains(&dotfile)
        || ext.is_some_and(|e| EXT.contains(&e))
}

/// A bare identifier (`SECRETS`, `jwtKey`, `db_password2`): unquoted in source code, a name.
pub fn is_identifier(secret: &[u8]) -> bool {
    secret
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'$'))
        && secret
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$'))
}

/// Whether every `(`, `[` and `{` is closed in order, as in code (`getTokens(row)[0]`); drawn
/// punctuation almost never balances.
pub(super) fn balanced(s: &[u8]) -> bool {
    let mut open = Vec::new();
    for &b in s {
        match b {
            b'(' | b'[' | b'{' => open.push(b),
            b')' | b']' | b'}' => {
                let want = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if open.pop() != Some(want) {
                    return false;
                }
            }
            _ => {}
        }
    }
    open.is_empty()
}

/// `session.getTokens(row)[0]`: a path of word-like identifiers, then a call or an index.
pub(super) fn starts_like_call(s: &[u8]) -> bool {
    let n = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
        .count();
    matches!(s.get(n), Some(b'(' | b'['))
        && s[..n]
            .split(|&b| b == b'.')
            .all(|seg| seg.len() >= 3 && seg[0].is_ascii_alphabetic() && looks_like_words(seg))
}

/// Mixed-case letters that read as camelCase words: few upper-case letters, each starting a run of
/// lower case, and every piece of four letters or more pronounceable (a vowel or `y`, and no run
/// of five consonants): `jwtSecretKey` reads as words, a drawn `deVvmwtFqa` does not.
pub(super) fn looks_like_words(s: &[u8]) -> bool {
    let upper = s.iter().filter(|b| b.is_ascii_uppercase()).count();
    if upper * 4 > s.len()
        || s.windows(2)
            .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase())
    {
        return false;
    }
    let vowel = |b: &u8| {
        matches!(
            b.to_ascii_lowercase(),
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
        )
    };
    let mut start = 0;
    for i in 1..=s.len() {
        if i < s.len() && !s[i].is_ascii_uppercase() && s[i] != b'.' {
            continue;
        }
        let piece: &[u8] = &s[start..i];
        let piece = piece.strip_prefix(b".").unwrap_or(piece);
        // A digit inside a piece, letters after it (`Fork6zf`, `Q7x`), is drawn, not a word;
        // a number ends an identifier's piece (`web3`, `sha256`).
        if piece
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && w[1].is_ascii_alphabetic())
        {
            return false;
        }
        // Abbreviations of three letters (`jwt`, `cfg`, `db`) need no vowel.
        if piece.len() >= 4 {
            let mut consonants = 0;
            for b in piece {
                consonants = if vowel(b) || !b.is_ascii_alphabetic() {
                    0
                } else {
                    consonants + 1
                };
                if consonants >= 5 {
                    return false;
                }
            }
            if !piece.iter().any(vowel) {
                return false;
            }
        }
        start = i;
    }
    true
}

/// Code rather than a literal: a call or index (`getPassword()`, `request.form[`) or a dotted path of
/// letter-only identifiers (`self.password`, `config.db.secret`).
pub(super) fn code_expression(s: &[u8]) -> bool {
    // `!!line.charAt(col`, `-offset`: a unary operator before an expression.
    let s = {
        let skip = s.iter().take_while(|b| matches!(b, b'!' | b'~')).count();
        &s[skip..]
    };
    if s.is_empty() {
        return false;
    }
    // Operators between operands (`__p += '`, `' + pw + '`, `a == b`): an expression.
    const OPERATORS: &[&[u8]] = &[
        b" + ", b" += ", b" = ", b" == ", b" && ", b" || ", b" => ", b"' +", b"+ '", b"\" +",
        b"+ \"",
    ];
    if OPERATORS
        .iter()
        .any(|o| memchr::memmem::find(s, o).is_some())
    {
        return true;
    }
    // `br,input,link,!doctype`: a list of words.
    let items: Vec<&[u8]> = s
        .strip_suffix(b",")
        .unwrap_or(s)
        .split(|&b| b == b',')
        .collect();
    if items.len() >= 3
        && items.iter().all(|i| {
            let i = i.strip_prefix(b"!").unwrap_or(i);
            !i.is_empty() && i.iter().all(|b| b.is_ascii_alphabetic() || *b == b'-')
        })
    {
        return true;
    }
    // `:constructor_template` (the rest of `Creds::constructor_template`), Ruby's `:password`.
    if let [b':', rest @ ..] = s {
        if ident_path(rest) {
            return true;
        }
    }
    if member_path(s) {
        return true;
    }
    // `Curl_bufref_ptr(&x)`, `ctx->key`, `*ptr`, `&buf`, `this.$rows[this.$i]`: an identifier
    // followed by a call, a member access, an index, or a pointer expression.
    let ident_len = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'$' | b'?'))
        .count();
    let rest = &s[ident_len..];
    if ident_len > 0
        && (rest.starts_with(b"(")
            || rest.starts_with(b"->")
            || rest.starts_with(b"[")
            || rest.starts_with(b"!("))
    {
        return true;
    }
    // A path of identifiers (`Token::Literal`, `_bindgen_ty_3::IFLA_TOKEN`, `std::env::var`).
    if memchr::memmem::find(s, b"::").is_some()
        && s.split(|&b| b == b':')
            .filter(|seg| !seg.is_empty())
            .all(|seg| {
                (seg[0].is_ascii_alphabetic() || seg[0] == b'_')
                    && seg.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            })
    {
        return true;
    }
    // A parenthesised expression: `(mark_start+2)`.
    if s.first() == Some(&b'(') && s.last() == Some(&b')') {
        return true;
    }
    // `*ptr`, `&buf`, `(char` (a cast): a sigil and then an identifier path only.
    if let [b'&' | b'*' | b'(', rest @ ..] = s {
        if ident_path(rest) && looks_like_words(rest) {
            return true;
        }
    }
    let call = memchr::memmem::find(s, b"()").is_some()
        || matches!(s.last(), Some(b'(' | b'['))
        || s.iter().any(|b| matches!(b, b'{' | b'}'));
    if call {
        return true;
    }
    s.contains(&b'.')
        && s.split(|&b| b == b'.')
            .all(|seg| !seg.is_empty() && seg.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_'))
}

/// `s` cut at every separator: `sep(byte, next byte)` is the separator's length there, or 0.
fn split_at(s: &[u8], sep: impl Fn(u8, Option<u8>) -> usize) -> Vec<&[u8]> {
    let mut segments = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < s.len() {
        match sep(s[i], s.get(i + 1).copied()) {
            0 => i += 1,
            n => {
                segments.push(&s[start..i]);
                start = i + n;
                i = start;
            }
        }
    }
    segments.push(&s[start..]);
    segments
}

/// A member path in any common language: identifiers joined by `.`, `?.`, `::`, `->` or `#`
/// (`user?.data?.password`, `internals.credentials.dh37f`, `Creds::constructor_template`,
/// `support.class.actionscript.2`), whose first segment reads as a word (`user`, `this`,
/// `SecurityCredentials`), not as random characters (`AAWIRh_JUq.BlIF` is a password).
pub(super) fn member_path(s: &[u8]) -> bool {
    let mut segments = split_at(s, |b, next| match (b, next) {
        (b'?', Some(b'.')) | (b':', Some(b':')) | (b'-', Some(b'>')) => 2,
        (b'.' | b'#', _) => 1,
        _ => 0,
    });
    if segments.len() < 2 {
        return false;
    }
    // Swift's and TypeScript's `x.y!`: a trailing assertion.
    if let Some(last) = segments.last_mut() {
        *last = last.strip_suffix(b"!").unwrap_or(last);
    }
    // In a path of three or more segments a segment may be kebab-case (TextMate scopes:
    // `comment.line.double-slash.js`).
    let kebab = segments.len() >= 3;
    let ident = |seg: &[u8]| {
        seg.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'$'))
            && seg.iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$') || (kebab && *b == b'-')
            })
    };
    let first = segments[0];
    let first = first.strip_prefix(b"$").unwrap_or(first);
    let wordy = !first.is_empty()
        && first.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
        && looks_like_words(first)
        && first.iter().filter(|b| b.is_ascii_alphabetic()).count() >= 2;
    // A segment of mixed case and digits is generated (`hvs.HI8uqDLCDbZHGw…`), not a name.
    let generated = |seg: &[u8]| {
        seg.len() >= 10
            && seg.iter().any(u8::is_ascii_digit)
            && seg.iter().any(u8::is_ascii_uppercase)
            && seg.iter().any(u8::is_ascii_lowercase)
    };
    wordy
        && !segments.iter().any(|seg| generated(seg))
        && segments.iter().all(|seg| {
            ident(seg)
                || (segments.len() >= 3 && !seg.is_empty() && seg.iter().all(u8::is_ascii_digit))
        })
}

/// `ctx->key`, `buf.len`, `s3Client.token`: C identifiers joined by `.` or `->` (a `-` elsewhere,
/// as in a generated `xVc5aPukjn6a-sge`, is not code).
pub(super) fn ident_path(s: &[u8]) -> bool {
    let segments = split_at(s, |b, next| match (b, next) {
        (b'.', _) => 1,
        (b'-', Some(b'>')) => 2,
        _ => 0,
    });
    segments.iter().all(|seg| {
        seg.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && seg.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    })
}
