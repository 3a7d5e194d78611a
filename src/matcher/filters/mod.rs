//! Cheap checks on a captured secret: entropy and the placeholder heuristics that keep
//! `${JWT_SECRET}`, `process.env.X`, `<your-secret>`, `changeme` and `xxxxxxxx` out of reports.

mod code;
#[cfg(test)]
mod tests;

use code::{balanced, code_expression, looks_like_words, starts_like_call};
pub use code::{is_identifier, literal_syntax};

/// Shannon entropy of `data` in bits per character: per UTF-8 character when `data` is valid
/// UTF-8 (a letter of another script is one symbol, not two or three bytes), else per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    if let Some(text) = std::str::from_utf8(data).ok().filter(|t| !t.is_ascii()) {
        let mut counts: std::collections::HashMap<char, u32> = std::collections::HashMap::new();
        for c in text.chars() {
            *counts.entry(c).or_default() += 1;
        }
        return entropy_of(counts.into_values(), text.chars().count());
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    entropy_of(counts.into_iter(), data.len())
}

fn entropy_of(counts: impl Iterator<Item = u32>, len: usize) -> f64 {
    let len = len as f64;
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Length in characters (UTF-8), or in bytes when `data` is not UTF-8.
pub fn char_len(data: &[u8]) -> usize {
    std::str::from_utf8(data).map_or(data.len(), |t| t.chars().count())
}

/// Words of running text that passwords and keys do not contain.
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "to", "of", "and", "or", "is", "are", "be", "in", "on", "for", "with",
    "your", "you", "this", "that", "it", "not", "please", "enter", "must", "should", "can", "will",
    "by", "at", "from", "as", "if", "has", "have", "was", "new", "no",
];

/// Natural-language text rather than a secret: a UI string, a label, a sentence.
///
/// Text holding letters of another script than ASCII is language (`Contraseña`, a Japanese
/// sentence): generated secrets are ASCII, and so are the passwords systems accept. ASCII text
/// with spaces is a sentence when it has a function word (`the`, `your`, `enter`), or ends like one
/// (`.`, `?`, `!`, `:`); a few bare words (`monkey summer birthday`) are a passphrase.
pub fn is_natural_language(secret: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(secret) else {
        return false;
    };
    if text.chars().any(|c| !c.is_ascii() && c.is_alphabetic()) || is_word_list(text) {
        return true;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 2 {
        return false;
    }
    let wordy = words
        .iter()
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphabetic() || ",.?!:;'\"()-".contains(c))
        })
        .count();
    if wordy * 2 < words.len() {
        return false;
    }
    let function_word = words.iter().any(|w| {
        let w = w
            .trim_matches(|c: char| !c.is_ascii_alphabetic())
            .to_ascii_lowercase();
        FUNCTION_WORDS.contains(&w.as_str())
    });
    // `Change Password`, `Mot de passe actuel`: capitalised words are a label or a sentence;
    // a passphrase is typed in one case.
    let capitalised = words.iter().any(|w| {
        let mut c = w.chars();
        c.next().is_some_and(|f| f.is_ascii_uppercase()) && c.all(|l| l.is_ascii_lowercase())
    });
    function_word || capitalised || text.trim_end().ends_with(['.', '?', '!', ':', '…'])
}

/// A list of words (`br,input,link,meta,!doctype,hr`, `read|write|admin`): at least four items
/// split by `,` or `|`, three quarters of them letters only (give or take punctuation at their
/// ends). Generated secrets and passwords are not lists.
fn is_word_list(text: &str) -> bool {
    [',', '|'].iter().any(|&sep| {
        let items: Vec<&str> = text.split(sep).map(str::trim).collect();
        let words = items
            .iter()
            .filter(|i| {
                let w = i.trim_matches(|c: char| c.is_ascii_punctuation());
                !w.is_empty() && w.len() <= 16 && w.chars().all(|c| c.is_ascii_alphabetic())
            })
            .count();
        items.len() >= 4 && words * 4 >= items.len() * 3
    })
}

/// Text of a translation or message resource: letters, spaces and punctuation without a digit
/// (`Wachtwoord`, `Mot de passe`, `Show`). Only used for files that hold UI text.
pub fn is_resource_text(secret: &[u8]) -> bool {
    std::str::from_utf8(secret).is_ok_and(|t| {
        t.chars().any(char::is_alphabetic)
            && t.chars().all(|c| {
                c.is_alphabetic() || c.is_whitespace() || (c.is_ascii_punctuation() && c != '_')
            })
    })
}

/// Base64 of text (`SWYgeW91IGRlc2VyaWFsaXpl…` is a sentence, encoded): data, not a key.
/// Keys decode to random bytes, of which few are printable.
pub fn is_encoded_text(secret: &[u8]) -> bool {
    use base64::Engine;
    if secret.len() < 24 {
        return false;
    }
    let trimmed: Vec<u8> = secret.iter().copied().filter(|&b| b != b'=').collect();
    let decoded = [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ]
    .iter()
    .find_map(|e| e.decode(&trimmed).ok());
    let Some(d) = decoded else { return false };
    let printable = d
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .count();
    let spaces = d.iter().filter(|&&b| b == b' ').count();
    printable * 10 >= d.len() * 7 && spaces >= 3
}

/// A version (`1.2.1`, `^4.17.21`, `v2.0.0-rc.1`): a dependency pinned under a name that holds
/// a secret-like word, not a secret.
fn version(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"^").or(s.strip_prefix(b"~")).unwrap_or(s);
    let s = s.strip_prefix(b"v").unwrap_or(s);
    let core_len = s
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    let core = &s[..core_len];
    core.split(|&b| b == b'.').count() >= 2
        && core.split(|&b| b == b'.').all(|p| !p.is_empty())
        && (core_len == s.len() || matches!(s[core_len], b'-' | b'+'))
}

/// Stand-ins that development setups use for every short credential: not worth a finding even
/// where a short value would otherwise be reported as weak.
const DEV_DEFAULTS: &[&str] = &[
    "changeit",
    "welcome",
    "demo",
    "sample",
    "foo",
    "bar",
    "baz",
    "qux",
    "abc",
    "xyz",
    "user",
    "username",
    "pwd",
    "pw",
    "sa",
    "example",
    "mypassword",
    "mysecret",
    "secret123",
    "admin123",
    "pass123",
    "test123",
    "root123",
    "1234",
    "12345",
    "123456",
    "password1",
];

/// True for a short value that is a development default (`changeit`, `demo`, `foo`) or too
/// short (under 4 characters) to be anything but a stand-in.
pub fn is_dev_default(secret: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
    char_len(secret) < 4 || DEV_DEFAULTS.contains(&lower.as_str())
}

/// Words that mark a value as a placeholder, example or test value rather than a real secret.
/// Matched case-insensitively as substrings.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "placeholder",
    "example",
    "sample",
    "your_",
    "your-",
    "yoursecret",
    "yourkey",
    "yourpass",
    "xxxx",
    "****",
    "***",
    "••",
    "dummy",
    "redacted",
    "replace",
    "insert",
    "todo",
    "fixme",
    "notreal",
    "not_real",
    "not-real",
    "fake",
    "invalid",
    "foobar",
    "lorem",
    "secret_here",
    "_here",
    "-here",
    "set_in_",
    "set-in-",
    "generate",
    "<",
    ">",
    "${",
    "#{",
    "{{",
    "}}",
    "%(",
    "$(",
    "process.env",
    "os.environ",
    "getenv",
    "import.meta",
    "system.getenv",
    "environ[",
    "env(",
    "env[",
    "env.",
    "secretkeyref",
    "valuefrom",
    "secrets.",
    "vault:",
    "/run/secrets",
    "testsecret",
    "test-secret",
    "test_secret",
    // An elided value (`ya29.AHES6Z...OMfsHYI`, `sk-…abcd`): documentation shows the ends of a
    // token; no token alphabet draws three dots or an ellipsis.
    "...",
    "\u{2026}",
];

/// Common weak passwords and keyboard runs. A value that is little more than one of them is a
/// stand-in; a longer value that contains one (`qwerty` inside a 32-character key) is still a key.
const WEAK_WORDS: &[&str] = &[
    "supersecret",
    "mysecret",
    "my-secret",
    "my_secret",
    "s3cr3t",
    "password1",
    "password123",
    "p@ssw0rd",
    "passw0rd",
    "qwerty",
    "letmein",
    "abc123",
    "123456",
    "abcdef",
];

/// Whole values that are placeholders or well-known defaults (case-insensitive).
const PLACEHOLDER_VALUES: &[&str] = &[
    "secret",
    "password",
    "pass",
    "passwd",
    "admin",
    "root",
    "postgres",
    "mysql",
    "redis",
    "guest",
    "test",
    "testing",
    "dev",
    "development",
    "local",
    "default",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "key",
    "token",
    "shhh",
    "string",
    "str",
    "bytes",
    "value",
    "required",
    "optional",
    "empty",
    "blank",
    "tbd",
    "n/a",
    "na",
    "unset",
    "hidden",
    "masked",
    // The documented defaults of express-session and cookie-parser examples.
    "keyboard cat",
    "optional secret string",
];

/// Credentials published in vendor documentation: copied into countless READMEs and tests, never
/// live. Matched exactly.
const VENDOR_EXAMPLES: &[&str] = &[
    // AWS documentation.
    "AKIAIOSFODNN7EXAMPLE",
    "AKIAI44QH8DHBEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    // Stripe documentation.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    // jwt.io's default token.
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// True for documented example credentials: the list above, and AWS-style values whose random
/// part ends in `EXAMPLE` or `EXAMPLEKEY` (the convention of AWS's docs and SDK tests).
pub fn is_vendor_example(secret: &[u8]) -> bool {
    secret.ends_with(b"EXAMPLE")
        || secret.ends_with(b"EXAMPLEKEY")
        || VENDOR_EXAMPLES.iter().any(|e| e.as_bytes() == secret)
}

/// True when `secret` looks like a placeholder, template reference, env lookup or example value.
pub fn is_placeholder(secret: &[u8]) -> bool {
    placeholder(secret, true)
}

/// [`is_placeholder`] for a value in a file whose syntax has no expressions
/// ([`literal_syntax`]): there a value shaped like code (`config.db.password`,
/// `user?.data?.password`) is text someone wrote, not a reference to one.
pub fn is_literal_placeholder(secret: &[u8]) -> bool {
    placeholder(secret, false)
}

/// [`is_placeholder`]; `expressions`: the value sits where code-shaped values are code.
fn placeholder(secret: &[u8], expressions: bool) -> bool {
    let lower = secret.to_ascii_lowercase();
    let text = String::from_utf8_lossy(&lower);
    let text = text.as_ref();
    if PLACEHOLDER_VALUES.contains(&text) {
        return true;
    }
    let random = random_looking(secret);
    // A generated value of every character class (a WordPress salt holds `{`, `(` and `[`) is
    // not code.
    let punctuation = |b: &u8| !b.is_ascii_alphanumeric();
    let mut marks: Vec<u8> = secret.iter().copied().filter(punctuation).collect();
    marks.sort_unstable();
    marks.dedup();
    // Its letters may run long by chance, but then they do not read as words (`IeYyzjYFpJKsqt`).
    let wordy_run = secret
        .split(|b| !b.is_ascii_alphabetic())
        .any(|run| run.len() >= 10 && looks_like_words(run));
    let generated = random
        && classes(secret) == 4
        && marks.len() >= 4
        && !wordy_run
        && !(starts_like_call(secret) && balanced(secret));
    if PLACEHOLDER_WORDS.iter().any(|w| {
        let w = w.as_bytes();
        // In a generated value `<`, `>` or `{{` turn up by chance: there only a template's whole
        // shape (`<your-key>`, `${DB_PASS}`) marks one.
        if generated
            && matches!(
                w,
                b"<" | b">" | b"${" | b"#{" | b"{{" | b"}}" | b"%(" | b"$("
            )
        {
            return template_marker(&lower, w);
        }
        marks_placeholder(&lower, w, random)
    }) {
        return true;
    }
    if WEAK_WORDS
        .iter()
        .any(|w| lower.len() <= w.len() + 4 && memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    if periodic(secret) {
        return true;
    }
    if longest_sequence(secret) >= 8 {
        // `NEWpassword-12345678`: a typed run (generators almost never produce one).
        return true;
    }
    if random && longest_run(secret) >= 8 {
        // `AbCxxxxxxxx9`: a masked middle (random hex holds a run of 6 about once in 20,000).
        return true;
    }
    if version(secret) {
        return true;
    }
    // `$DB_PASS`, `@DB_PASS@`, `%DB_PASS%`: a template or variable, unless the value is generated
    // (a WordPress salt starts with `@` or `%` one time in thirty).
    if !generated && sigil_template(secret) {
        return true;
    }
    if yaml_tag(secret) {
        return true;
    }
    if one_class_words(secret, expressions)
        || repeated_or_sequential(secret)
        || (expressions && !generated && code_expression(secret))
        || file_name(&lower)
    {
        return true;
    }
    false
}

/// A value that starts like a variable or template: `$DB_PASS`, `@db_password`, `%DB_PASS%`,
/// `%{hiera('db')}`, `%env(DB_PASS)%`. A `%` alone in front (`%6rnPiaeuQYFVMw`) is a password
/// that starts with a symbol: Windows and Symfony variables end with a second `%`, Puppet's and
/// Python's open a bracket.
fn sigil_template(secret: &[u8]) -> bool {
    match secret {
        [b'$' | b'@', ..] => true,
        [b'%', b'{' | b'(', ..] => true,
        // A percent-escape (`%4D^%70` in a URL): the decode pass reads what it stands for.
        [b'%', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => true,
        [b'%', rest @ ..] => rest.contains(&b'%') || upper_name_first(rest),
        _ => false,
    }
}

/// An upper-case name of three or more (`HTTPPORT`, `DB_PASS`) that does not run on into
/// letters or digits: a test harness's or build tool's `%NAME` substitution
/// (`%HOSTIP:%HTTPPORT`). A password drawn after a `%` runs on in mixed case (`%Tq8vW2…`).
fn upper_name_first(rest: &[u8]) -> bool {
    let n = rest
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
        .count();
    n >= 3 && !rest[0].is_ascii_digit() && rest.get(n).is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// A YAML tag standing where the value would be: `!vault |` (Ansible Vault), `!secret db_pass`
/// (Home Assistant), `!Ref DbPassword` (CloudFormation). The value follows elsewhere.
fn yaml_tag(secret: &[u8]) -> bool {
    matches!(secret, [b'!', rest @ ..] if rest.len() >= 2 && rest.iter().all(u8::is_ascii_alphabetic))
}

/// Upper- and lower-case letters and digits, 20 characters or more: the shape of a generated
/// secret, in which a short word turns up by chance (a random 43-character base64url value holds
/// `fake`, `todo` or `xxxx` about once in 10,000).
fn random_looking(s: &[u8]) -> bool {
    let digits = s.iter().any(u8::is_ascii_digit);
    let mixed_case = s.iter().any(u8::is_ascii_uppercase) && s.iter().any(u8::is_ascii_lowercase);
    // Or hex of 128 bits and more, where `abc123` or `abcdef` turn up by chance.
    let hex = s.len() >= 32
        && s.iter().all(u8::is_ascii_hexdigit)
        && s.iter().any(u8::is_ascii_alphabetic);
    s.len() >= 20 && digits && (mixed_case || hex) && !periodic(s) && longest_sequence(s) < 8
}

/// Length of the longest run of consecutive characters (`12345678`, `abcdefgh`, `zyxw`), which
/// people type and generators almost never produce.
fn longest_sequence(s: &[u8]) -> usize {
    let (mut best, mut up, mut down) = (1, 1, 1);
    for w in s.windows(2) {
        up = if w[1] == w[0].wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if w[0] == w[1].wrapping_add(1) {
            down + 1
        } else {
            1
        };
        best = best.max(up).max(down);
    }
    best.min(s.len())
}

/// Whether `word` in `lower` marks a placeholder. In a random-looking value a short word (six
/// characters or fewer) counts only where it stands apart on both sides, each side being the
/// start or end of the value or a separator (`_ - . / :` or a space: `Ab3_xxxx_9f…`,
/// `my-fake-key-…`); inside a run of random characters, or touching one, it is chance.
fn marks_placeholder(lower: &[u8], word: &[u8], random: bool) -> bool {
    // A run of mask characters (`GizU****** (44 chars)`, a redacted value) is never chance.
    let mask = word.iter().all(|&b| b == b'*');
    if !random || word.len() > 6 || (mask && word.len() >= 4) {
        return memchr::memmem::find(lower, word).is_some();
    }
    // Separators people put between words; other punctuation (`*faKE!`) is random too.
    let sep = |b: u8| matches!(b, b'_' | b'-' | b'.' | b' ' | b'/' | b':');
    memchr::memmem::find_iter(lower, word).any(|i| {
        let end = i + word.len();
        let left = i == 0 || sep(lower[i - 1]) || sep(word[0]);
        let right = end == lower.len() || sep(lower[end]) || sep(word[word.len() - 1]);
        left && right
    })
}

/// Whether the opener `word` (`<`, `${`, `#{`, `{{`, `%(`, `$(`) starts a template in `lower`: a name
/// of words joined by `_`, `-`, `.` or a space, or of eight letters or more, and then the closer
/// (`<your-salt>`, `${db_pass}`); in drawn characters `<Iwql>` is chance.
fn template_marker(lower: &[u8], word: &[u8]) -> bool {
    let close = match word {
        b"<" => b'>',
        b"${" | b"#{" | b"{{" => b'}',
        b"%(" | b"$(" => b')',
        _ => return false,
    };
    memchr::memmem::find_iter(lower, word).any(|i| {
        let rest = &lower[i + word.len()..];
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b' ' | b'.'))
            .count();
        let named = &rest[..name];
        let separated = named.iter().any(|b| matches!(b, b'_' | b'-' | b' ' | b'.'));
        (separated || name >= 8) && rest.get(name) == Some(&close)
    })
}

/// Length of the longest run of one repeated byte.
fn longest_run(s: &[u8]) -> usize {
    s.chunk_by(|a, b| a == b)
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

/// `CHANGE_ME`, `your_value_here`, `insert-key-here`: letters of one case with separators only.
/// With `expressions`, a `.` joins names too (`db.password`, `appConfig.secret`: member paths).
fn one_class_words(s: &[u8], expressions: bool) -> bool {
    let letters = s.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return false;
    }
    let only_words = s
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.' | b' '));
    if !only_words {
        return false;
    }
    // Lower-case words are a password (`owasp`, `monkey summer birthday`) unless joined like a
    // name or slug (`your_value_here`, `insert-key-here`, `db.password`).
    let joined = s.windows(3).any(|w| {
        w[0].is_ascii_alphabetic()
            && (matches!(w[1], b'_' | b'-') || (expressions && w[1] == b'.'))
            && w[2].is_ascii_alphabetic()
    });
    let all_lower = s.iter().all(|b| !b.is_ascii_uppercase()) && joined;
    let all_upper = s.iter().all(|b| !b.is_ascii_lowercase());
    // Identifier-shaped camelCase words (`jwtSecretKey`, `appConfig.secret`) are code, not secrets;
    // a capitalised phrase run together (`IamUsedForSomething`) is a password people type.
    let camel = s
        .iter()
        .all(|b| b.is_ascii_alphabetic() || (expressions && *b == b'.'))
        && s.iter().any(u8::is_ascii_uppercase)
        && looks_like_words(s)
        && (s[0].is_ascii_lowercase() || s.contains(&b'.'));
    // `DatabasePassword`, `SigningKey`: a capitalised name of the kind of value, not the value.
    let lower = s.to_ascii_lowercase();
    let named = s[0].is_ascii_uppercase()
        && looks_like_words(s)
        && s.iter().all(u8::is_ascii_alphabetic)
        && ["password", "passwd", "secret", "token", "key", "credential"]
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some());
    all_lower || all_upper || camel || named
}

/// Whole values that repeat a unit of up to 64 bytes (`abcdef1234567890abcdef1234567890`,
/// `deadbeefdeadbeef`): made up, not generated. At most 64 passes over the value, so a huge
/// captured value costs linear time.
fn periodic(s: &[u8]) -> bool {
    s.len() >= 16 && (1..=(s.len() / 2).min(64)).any(|p| s[p..].iter().zip(s).all(|(a, b)| a == b))
}

/// A file name or path (`server.key`, `/etc/ssl/private/app.pem`): config naming where a key
/// lives, not the key.
fn file_name(lower: &[u8]) -> bool {
    const EXT: &[&[u8]] = &[
        b".key",
        b".pem",
        b".crt",
        b".cer",
        b".p12",
        b".pfx",
        b".jks",
        b".der",
        b".pub",
        b".asc",
        b".gpg",
        b".json",
        b".yaml",
        b".yml",
        b".txt",
        b".cnf",
        b".conf",
        b".cfg",
        b".env",
        b".ini",
        b".keystore",
        b".secret",
        b".enc",
    ];
    EXT.iter().any(|e| lower.ends_with(e))
}

/// `aaaaaaaa`, `abcdefgh`, `12345678`.
fn repeated_or_sequential(s: &[u8]) -> bool {
    if s.len() < 2 {
        return true;
    }
    let same = s.iter().all(|&b| b == s[0]);
    let asc = s.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    let desc = s.windows(2).all(|w| w[0] == w[1].wrapping_add(1));
    same || asc || desc
}

/// Character classes present: (lower, upper, digit, other).
pub fn classes(s: &[u8]) -> usize {
    let lower = s.iter().any(|b| b.is_ascii_lowercase()) as usize;
    let upper = s.iter().any(|b| b.is_ascii_uppercase()) as usize;
    let digit = s.iter().any(|b| b.is_ascii_digit()) as usize;
    let other = s.iter().any(|b| !b.is_ascii_alphanumeric()) as usize;
    lower + upper + digit + other
}
