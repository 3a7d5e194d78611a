//! Unit tests of the placeholder, entropy and code-shape filters.

use super::*;

#[test]
fn camel_case_words_are_pronounceable_pieces() {
    for w in [
        "jwtSecretKey",
        "appConfig",
        "signingKey",
        "myAppSecret",
        "web3Sandbox",
        "sha256Sum",
    ] {
        assert!(looks_like_words(w.as_bytes()), "{w}");
    }
    // Drawn letters: a piece without a vowel, with five consonants in a row, or with letters
    // after a digit.
    for w in [
        "deVvmwtFqa",
        "abVvmwtFqw",
        "kTrzsbn",
        "qxPlmnrtq",
        "sQsFork6zf",
        "ivkrxU35Q7x",
    ] {
        assert!(!looks_like_words(w.as_bytes()), "{w}");
    }
}

#[test]
fn short_words_inside_random_values_are_chance() {
    // Generated values that happen to hold a placeholder word are still secrets.
    for v in [
        "nqIijaSZwPr8b5xxxxaDS-VZi1VuyCnxluH3idQcWPo",
        "ZwcL7khJhvwvMFakeTDtOZh2onsEjMtBNfH1TD677qE",
        "q3TodoZ8kLp2Wm9XcV7bN1sR4tY6uI0oPaSdFgHjKl",
        "XxxxGDqEVktFTqFJto49tetTQ1hYIoK0fLkehLPpWfE",
        "KjjxKHTfwxvWDjxSi_Jiz97qkfake-9l7L8170anHCI",
        "nGZmtApmuKGqCpefg8UQPktFz7U-HErEs2w0ZIDfPpY",
        "ccc3b9eaad3656172271abc123b7b494536ff1d0d4ea8dfd9a041ba13fcc9c86",
        "*xVc5aPukjn6a-sgeQ7x",
        "*ccgi-DgynDftD-seQ7x",
        "z6gfB*faKE!d!__DVQ7x",
        "d498c28e3dd12474d3530d41fa5968f3c4444442eadf1acb478babb02005f2f2",
    ] {
        assert!(!is_placeholder(v.as_bytes()), "{v}");
    }
    // A redacted value, as reports print it, is masked however random its visible part.
    assert!(is_placeholder(b"GizU****** (44 chars)"));
    // Standing apart, or in a value that is not random-looking, they still mark one.
    for v in [
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "Ab3dE_xxxx_9fGhJkLmNpQrStUv",
        "my-fake-Key-1234567890AbCdEf",
        "fake_8Jd93kLmQ0pZx7Vb2NcR5tYw",
        "AbCd1234xxxxxxxxxxxxEfGh5678",
        "AbCd1234********EfGh5678AbCd",
        "thisisafakesecretvalue",
        "yourSecretKeyHere1234567",
        "NEWpassword-1234567890.~_abcdefgh",
        "abcdef1234567890abcdef1234567890",
        "deadbeefdeadbeefdeadbeefdeadbeef",
        "0123456789abcdef0123456789abcdef0123",
        "*ctx->secret_key",
        "*s3ScanSessionToken",
        "&conn.password2",
        "*p",
    ] {
        assert!(is_placeholder(v.as_bytes()), "{v}");
    }
}

#[test]
fn text_code_and_versions_are_not_values() {
    for t in [
        "Contraseña",
        "パスワード",
        "Please enter your password again.",
        "Mot de passe actuel",
        "Change Password",
    ] {
        assert!(is_natural_language(t.as_bytes()), "{t}");
    }
    for p in [
        "monkey summer birthday",
        "correct horse battery staple",
        "Zq8Lm2pX9vR4",
    ] {
        assert!(!is_natural_language(p.as_bytes()), "{p}");
    }
    for c in [
        "user?.data?.password",
        "this.$rowTokens[this.$tokenIndex]",
        "!!line.charAt(column",
        "support.class.actionscript.2",
        "comment.line.double-slash.actionscript.2",
        "constant.datatype!",
        "internals.credentials.dh37fgj492je",
        "SecurityCredentials::constructor_template",
        ":constructor_template",
        "RandomStringUtils.randomAlphabetic(20)",
        "DatabasePassword",
        "1.2.1",
        "^4.17.21",
        "qwerty123",
    ] {
        assert!(is_placeholder(c.as_bytes()), "{c}");
    }
    for c in [
        "session.getTokens(row)[0]",
        "__p += '",
        "' + 'test' + '",
        "br,input,link,meta,!doctype,basefont",
        "br,input,link,meta,!doctype,basefont,",
        "keyboard cat",
    ] {
        assert!(is_placeholder(c.as_bytes()), "{c}");
    }
    for v in [
        // Split so that this file does not hold a token-shaped literal.
        concat!("hv", "s.HI8uqDLCDbZHGwwDmgsXTr5L"),
        "AAWIRh_JUq.BlIFXZ532",
        "qwertyuiopasdfghjklzxcvbnm123456",
        "IamUsedForSomething",
        "owasp",
        "_webgoat",
        "Winter.2024",
        "h=Qb~4P|vd[K7{x0)#Y]fW2@mLz!9rTe&uS^c",
    ] {
        assert!(!is_placeholder(v.as_bytes()), "{v}");
    }
    // Base64 of a sentence is data; base64 of random bytes is a key.
    assert!(is_encoded_text(
        b"SWYgeW91IGRlY29kZSBtZSB5b3Ugd2lsbCBmaW5kIHdvcmRz"
    ));
    assert!(!is_encoded_text(
        b"8Cx6+ivrOBMzqHbTgXKFT7xVOYNCMfMsMH9KHMjB6qc="
    ));
}

#[test]
fn entropy_bounds() {
    assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-9);
    assert!(shannon_entropy(b"0123456789abcdef") > 3.99);
    // Per character, not per byte: two distinct characters, one of them two bytes long.
    assert!((shannon_entropy("ñaña".as_bytes()) - 1.0).abs() < 1e-9);
    assert_eq!(char_len("ñaña".as_bytes()), 4);
}

#[test]
fn vendor_examples() {
    assert!(is_vendor_example(b"AKIAIOSFODNN7EXAMPLE"));
    assert!(is_vendor_example(
        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    ));
    assert!(!is_vendor_example(b"AKIARXX53LXQSCPVP66N"));
}

#[test]
fn placeholders() {
    // A generated salt may start with a template sigil; a template is not generated.
    for salt in [
        "@3FOhcMNM0.f;_cwK:MXQFRJ%ZL-A?t^pve}6z%]NjW/!brsnb#P8.6PYSy[2:up",
        "%6c2j^lV5|te/vM!FGHqA6]Luu?Oj)[Y6rbTgbf,a-qr.^_<UDQ]E1}Q6#4I!fNS",
    ] {
        assert!(!is_placeholder(salt.as_bytes()), "{salt}");
    }
    for t in [
        "$DB_PASSWORD",
        "@DB_PASSWORD@",
        "%DB_PASSWORD%",
        "${DB_PASSWORD}",
        "#{environment.JWT_SECRET}",
        "#{ApiSecret}#",
        "%env(DB_PASSWORD)%",
        "%{hiera('db_password')}",
        "!vault",
        "!secret",
        "!Ref",
        "%HTTPPORT?email=name",
        "ya29.AHES6Z...OMfsHYI",
        "%4D^%70",
        "sk-proj-\u{2026}Qx7L",
        "%DB_PASS",
    ] {
        assert!(is_placeholder(t.as_bytes()), "{t}");
    }
    // A password that only starts with a sigil-like symbol.
    for v in [
        "%6rnPiaeuQYFVMwdSj",
        "!Zq8Lm2pX9vR4",
        "%Tq8vW2xLm9pZ",
        "%QX7Lm2pZ9vR4",
        "%4QX7LM2PZ9VR4",
    ] {
        assert!(!is_placeholder(v.as_bytes()), "{v}");
    }
    for p in [
        "${JWT_SECRET}",
        "process.env.JWT",
        "<your-secret>",
        "changeme",
        "xxxxxxxx",
        "your_jwt_secret_here",
        "CHANGE_ME",
        "__SET_IN_VAULT__",
        "insert-key-here",
        "12345678",
        "(mark_start+2)",
        "REPLACE_WITH_RANDOM_STRING",
        "{{ .Values.auth.secret }}",
        "%(JWT_SECRET)s",
        "jwtSecretKey",
        "_bindgen_ty_3::IFLA_INET6_TOKEN",
        "Token::Literal",
        "bracketed!(content",
    ] {
        assert!(is_placeholder(p.as_bytes()), "{p}");
    }
    for s in [
        "LD0FEHeQp838JYrrxnzfDzrMy0HRrucxLDBOvysNFxA",
        "*^ZDT!djPvRL9+d4FQ7x",
        "(k3eQ^x_Pi5r*i5h",
        "*KEqwygpAN4b9HLVeQ7x",
        "Nq^JoUD#!Ydua!5ZM5",
        "4f087e51b429fe81",
    ] {
        assert!(!is_placeholder(s.as_bytes()), "{s}");
    }
}

#[test]
fn files_without_expressions() {
    for p in [
        ".env",
        "deploy/.env.production",
        "app.env",
        "src/main/resources/application.properties",
        "php.ini",
        "setup.cfg",
        "etc/app.conf",
        "my.cnf",
        "config.TOML",
        "prod.tfvars",
        ".netrc",
        "_netrc",
        ".pgpass",
        ".npmrc",
        ".pypirc",
        ".htpasswd",
        ".git-credentials",
    ] {
        assert!(literal_syntax(p), "{p}");
    }
    for p in [
        "app.js",
        "settings.py",
        ".envrc",
        "deploy.sh",
        "values.yaml",
        "config.yml",
        "appsettings.json",
        "web.config",
        "pom.xml",
        "env.js",
        "README.md",
    ] {
        assert!(!literal_syntax(p), "{p}");
    }
}

#[test]
fn code_shapes_are_literals_where_the_syntax_has_no_expressions() {
    // Vetoed as code where expressions exist; literals in a `.env` or `.properties` file.
    for v in [
        "user?.data?.password",
        "config.db.password",
        "member.path.like",
        "appConfig.dbPassword",
        "request.form.pwd",
        "getPassword()",
    ] {
        assert!(is_placeholder(v.as_bytes()), "{v}");
        assert!(!is_literal_placeholder(v.as_bytes()), "{v}");
    }
    // Templates, lookups, placeholder words and slugs stay placeholders everywhere.
    for v in [
        "${DB_PASSWORD}",
        "${{ secrets.DB_PASSWORD }}",
        "$(pass show db)",
        "%(db_password)s",
        "$DB_PASS",
        "process.env.DB_PASS",
        "your_value_here",
        "insert-key-here",
        "CHANGE_ME",
        "changeme",
        "jwtSecretKey",
    ] {
        assert!(is_placeholder(v.as_bytes()), "{v}");
        assert!(is_literal_placeholder(v.as_bytes()), "{v}");
    }
}

#[test]
fn word_lists_are_language() {
    for t in [
        "br,input,link,meta,!doctype,basefont,base,area,hr,?xml,?php,?,?=",
        "read|write|admin|owner",
        "alpha, beta, gamma, delta",
    ] {
        assert!(is_natural_language(t.as_bytes()), "{t}");
    }
    // Passwords and keys with a comma or two, or lists of random items, are not.
    for t in [
        "Xk2,9vQ,Lm",
        "hunter2,summer",
        "q8Zr1,Vt7Lp,aa91X,0pQmZ",
        "zK3v9qLw2RtX8mNpB4yH",
    ] {
        assert!(!is_natural_language(t.as_bytes()), "{t}");
    }
}
