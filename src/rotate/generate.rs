//! New secret material: the [`Recipe`] for each rotation kind (and for `match`, one that keeps
//! the old value's encoding and length), drawn from the operating system's CSPRNG ([`OsRng`]).

use crate::finding::Secret;
use crate::rules::RotationKind;
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use zeroize::Zeroizing;

/// Letters, digits and `-_.~`: unreserved in URLs (RFC 3986) and inert in shells and dotenv files.
pub const SAFE_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
/// Letters and digits.
pub const ALNUM_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Django's `get_random_secret_key()` alphabet.
pub const DJANGO_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
/// Default password length.
pub const PASSWORD_LEN: usize = 32;

/// How passwords are generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub charset: Vec<u8>,
    pub password_len: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            charset: SAFE_ALPHABET.to_vec(),
            password_len: PASSWORD_LEN,
        }
    }
}

impl Policy {
    /// Parses `--charset`: `safe` (default), `alnum`, or a literal set of at least 16 distinct
    /// printable ASCII characters.
    pub fn charset(spec: &str) -> Result<Vec<u8>, String> {
        match spec {
            "safe" => Ok(SAFE_ALPHABET.to_vec()),
            "alnum" => Ok(ALNUM_ALPHABET.to_vec()),
            s => {
                let mut set: Vec<u8> = s.bytes().collect();
                if set.iter().any(|b| !b.is_ascii_graphic()) {
                    return Err("--charset: use printable ASCII characters without spaces".into());
                }
                set.sort_unstable();
                set.dedup();
                if set.len() < 16 {
                    return Err(format!(
                        "--charset: {} distinct characters is too few (at least 16), or use 'safe' or 'alnum'",
                        set.len()
                    ));
                }
                Ok(set)
            }
        }
    }
}

/// The encoding of an old value, as far as its characters tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex { upper: bool },
    Base64 { padded: bool },
    Base64Url { padded: bool },
    Alnum,
    Other,
}

/// Guesses the encoding of `old`. Hex needs one letter case; base64 needs `+`, `/` or padding;
/// base64url needs `-` or `_`; otherwise letters and digits alone are [`Encoding::Alnum`].
pub fn detect(old: &[u8]) -> Encoding {
    if old.is_empty() {
        return Encoding::Other;
    }
    let body_len = old.len() - old.iter().rev().take_while(|&&b| b == b'=').count();
    let (body, pad) = old.split_at(body_len);
    if pad.len() > 2 || body.is_empty() {
        return Encoding::Other;
    }
    let padded = !pad.is_empty();
    if !padded && body.iter().all(u8::is_ascii_hexdigit) {
        let lower = body.iter().any(u8::is_ascii_lowercase);
        let upper = body.iter().any(u8::is_ascii_uppercase);
        if !(lower && upper) {
            return Encoding::Hex { upper };
        }
    }
    let std = body
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    let url = body
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if padded && !old.len().is_multiple_of(4) {
        return Encoding::Other;
    }
    if std && (padded || body.iter().any(|&b| b == b'+' || b == b'/')) {
        return Encoding::Base64 { padded };
    }
    if url && body.iter().any(|&b| b == b'-' || b == b'_') {
        return Encoding::Base64Url { padded };
    }
    if url && padded {
        return Encoding::Base64 { padded };
    }
    if url {
        return Encoding::Alnum;
    }
    Encoding::Other
}

/// A concrete recipe for one new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// `chars` hex digits.
    Hex { chars: usize, upper: bool },
    /// `bytes` random bytes, base64 (standard or URL alphabet, with or without padding).
    Base64 {
        bytes: usize,
        url: bool,
        padded: bool,
    },
    /// `len` characters drawn uniformly from `alphabet` (passwords, alnum, Django keys).
    Chars { len: usize, alphabet: Vec<u8> },
    /// Laravel `APP_KEY`: `base64:` + 32 random bytes, base64.
    Laravel,
}

impl Recipe {
    /// Draws a new value from [`OsRng`].
    pub fn generate(&self) -> Secret {
        match self {
            Recipe::Hex { chars, upper } => {
                let mut raw = Zeroizing::new(vec![0u8; chars.div_ceil(2)]);
                OsRng.fill_bytes(&mut raw);
                let mut s = Zeroizing::new(if *upper {
                    hex::encode_upper(&*raw)
                } else {
                    hex::encode(&*raw)
                });
                s.truncate(*chars);
                Secret::new(s.as_bytes().to_vec())
            }
            Recipe::Base64 { bytes, url, padded } => {
                let mut raw = Zeroizing::new(vec![0u8; *bytes]);
                OsRng.fill_bytes(&mut raw);
                let s = Zeroizing::new(engine(*url, *padded).encode(&*raw));
                Secret::new(s.as_bytes().to_vec())
            }
            Recipe::Chars { len, alphabet } => Secret::new(
                (0..*len)
                    .map(|_| alphabet[OsRng.gen_range(0..alphabet.len())])
                    .collect(),
            ),
            Recipe::Laravel => {
                let mut raw = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(&mut *raw);
                let s = Zeroizing::new(format!(
                    "base64:{}",
                    base64::engine::general_purpose::STANDARD.encode(*raw)
                ));
                Secret::new(s.as_bytes().to_vec())
            }
        }
    }

    /// Bits of randomness in one value.
    pub fn bits(&self) -> f64 {
        match self {
            Recipe::Hex { chars, .. } => *chars as f64 * 4.0,
            Recipe::Base64 { bytes, .. } => *bytes as f64 * 8.0,
            Recipe::Chars { len, alphabet } => *len as f64 * (alphabet.len() as f64).log2(),
            Recipe::Laravel => 256.0,
        }
    }

    /// Length of a generated value in bytes.
    pub fn len(&self) -> usize {
        match self {
            Recipe::Hex { chars, .. } => *chars,
            Recipe::Base64 { bytes, url, padded } => {
                let e = engine(*url, *padded);
                base64::encoded_len(*bytes, *padded)
                    .unwrap_or_else(|| e.encode(vec![0; *bytes]).len())
            }
            Recipe::Chars { len, .. } => *len,
            Recipe::Laravel => 51,
        }
    }

    /// Always false: a recipe never yields an empty value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// What the value is, for people: `32 random bytes, base64url`.
    pub fn describe(&self) -> String {
        match self {
            Recipe::Hex { chars, upper } => format!(
                "{chars} {} hex digits ({} bits)",
                if *upper { "upper-case" } else { "lower-case" },
                chars * 4
            ),
            Recipe::Base64 { bytes, url, padded } => format!(
                "{bytes} random bytes, {}{}",
                if *url { "base64url" } else { "base64" },
                if *padded { "" } else { " without padding" }
            ),
            Recipe::Chars { len, alphabet } => {
                let set = if alphabet == SAFE_ALPHABET {
                    "letters, digits, -_.~".to_string()
                } else if alphabet == ALNUM_ALPHABET {
                    "letters and digits".to_string()
                } else if alphabet == DJANGO_ALPHABET {
                    "Django's secret-key alphabet".to_string()
                } else {
                    format!("{} chosen characters", alphabet.len())
                };
                format!("{len} characters ({set}; {:.0} bits)", self.bits())
            }
            Recipe::Laravel => "base64: + 32 random bytes (Laravel APP_KEY)".into(),
        }
    }

    /// A placeholder for `.env.example` files: a command that makes such a value.
    pub fn placeholder(&self) -> String {
        let cmd = match self {
            Recipe::Hex {
                chars,
                upper: false,
            } if chars % 2 == 0 => format!("openssl rand -hex {}", chars / 2),
            Recipe::Base64 {
                bytes,
                url: false,
                padded: true,
            } => format!("openssl rand -base64 {bytes}"),
            Recipe::Hex { chars, upper } => format!(
                "leaksweep keygen --kind hex:{}{}",
                chars.div_ceil(2),
                if *upper { " | tr a-f A-F" } else { "" }
            ),
            Recipe::Base64 {
                bytes, url: true, ..
            } => format!("leaksweep keygen --kind base64url:{bytes}"),
            Recipe::Base64 { bytes, .. } => format!("leaksweep keygen --kind base64:{bytes}"),
            Recipe::Chars { alphabet, .. } if alphabet == DJANGO_ALPHABET => {
                "leaksweep keygen --kind django".into()
            }
            Recipe::Chars { len, alphabet } => {
                let set = if alphabet == SAFE_ALPHABET {
                    String::new()
                } else if alphabet == ALNUM_ALPHABET {
                    " --charset alnum".to_string()
                } else {
                    " --charset '...'".to_string()
                };
                let length = if *len == PASSWORD_LEN {
                    String::new()
                } else {
                    format!(" --length {len}")
                };
                format!("leaksweep keygen --kind password{set}{length}")
            }
            Recipe::Laravel => "php artisan key:generate --show".into(),
        };
        format!("<generate: {cmd}>")
    }
}

fn engine(url: bool, padded: bool) -> base64::engine::GeneralPurpose {
    use base64::engine::general_purpose as gp;
    match (url, padded) {
        (false, true) => gp::STANDARD,
        (false, false) => gp::STANDARD_NO_PAD,
        (true, true) => gp::URL_SAFE,
        (true, false) => gp::URL_SAFE_NO_PAD,
    }
}

/// The recipe for a `match` rotation: same encoding and length as `old`.
fn match_recipe(old: &[u8], policy: &Policy) -> Recipe {
    let password = Recipe::Chars {
        len: policy.password_len,
        alphabet: policy.charset.clone(),
    };
    let b64 = |url: bool, padded: bool| {
        let body = old.iter().take_while(|&&b| b != b'=').count();
        let bytes = body * 3 / 4;
        let r = Recipe::Base64 { bytes, url, padded };
        if r.len() == old.len() {
            r
        } else {
            // A length no byte count encodes to (4k+1): keep the length, draw from the alphabet.
            let alphabet = if url {
                [ALNUM_ALPHABET, b"-_"].concat()
            } else {
                [ALNUM_ALPHABET, b"+/"].concat()
            };
            Recipe::Chars {
                len: old.len(),
                alphabet,
            }
        }
    };
    match detect(old) {
        Encoding::Hex { upper } => Recipe::Hex {
            chars: old.len(),
            upper,
        },
        Encoding::Base64 { padded } => b64(false, padded),
        Encoding::Base64Url { padded } => b64(true, padded),
        Encoding::Alnum => Recipe::Chars {
            len: old.len(),
            alphabet: ALNUM_ALPHABET.to_vec(),
        },
        Encoding::Other => password,
    }
}

/// The recipe for a secret: its rule's rotation kind, its category and its old value.
/// `None` for provider-issued credentials (`revoke`).
///
/// `match` keeps the old format exactly for encryption keys (the key size is part of the
/// contract); signing secrets (`jwt-secret`, `nextauth`) get at least 256 bits, other secrets at
/// least 128, falling back to the kind's usual format when the old value was weaker.
pub fn recipe(kind: &RotationKind, category: &str, old: &[u8], policy: &Policy) -> Option<Recipe> {
    Some(match kind {
        RotationKind::Revoke => return None,
        RotationKind::Hex(n) => Recipe::Hex {
            chars: n * 2,
            upper: false,
        },
        RotationKind::Base64(n) => Recipe::Base64 {
            bytes: *n,
            url: false,
            padded: true,
        },
        RotationKind::Base64Url(n) => Recipe::Base64 {
            bytes: *n,
            url: true,
            padded: false,
        },
        RotationKind::Password => Recipe::Chars {
            len: policy.password_len,
            alphabet: policy.charset.clone(),
        },
        RotationKind::Django => Recipe::Chars {
            len: 50,
            alphabet: DJANGO_ALPHABET.to_vec(),
        },
        RotationKind::Rails => Recipe::Hex {
            chars: 128,
            upper: false,
        },
        RotationKind::Laravel => Recipe::Laravel,
        RotationKind::Match => {
            let r = match_recipe(old, policy);
            match category {
                "encryption-key" => r,
                "jwt-secret" if r.bits() < 256.0 => Recipe::Base64 {
                    bytes: 32,
                    url: true,
                    padded: false,
                },
                "nextauth" if r.bits() < 256.0 => Recipe::Base64 {
                    bytes: 32,
                    url: false,
                    padded: true,
                },
                _ if r.bits() < 128.0 => Recipe::Chars {
                    len: policy.password_len,
                    alphabet: policy.charset.clone(),
                },
                _ => r,
            }
        }
    })
}

/// Parses a `keygen --kind` value: `jwt`, `nextauth`, `aes256`, `password`, `hex:N`,
/// `base64:N`, `base64url:N` (N random bytes), `django`, `rails`, `laravel`.
pub fn keygen_recipe(spec: &str, policy: &Policy) -> Result<Recipe, String> {
    let kind: RotationKind = match spec {
        "jwt" => RotationKind::Base64Url(32),
        "nextauth" => RotationKind::Base64(32),
        "aes256" => RotationKind::Hex(32),
        "revoke" | "match" => {
            return Err(format!(
                "--kind {spec} needs an old value; use jwt, nextauth, aes256, password, hex:N, base64:N, base64url:N, django, rails or laravel"
            ))
        }
        s => s.parse()?,
    };
    recipe(&kind, "keygen", b"", policy)
        .ok_or_else(|| format!("--kind {spec}: nothing to generate"))
}

/// Shannon entropy in bits per byte (a test helper and a sanity check on generated values).
pub fn entropy(data: &[u8]) -> f64 {
    crate::matcher::filters::shannon_entropy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<(&'static str, Recipe)> {
        let p = Policy::default();
        [
            "jwt",
            "nextauth",
            "aes256",
            "password",
            "hex:16",
            "base64:24",
            "base64url:48",
            "django",
            "rails",
            "laravel",
        ]
        .into_iter()
        .map(|k| (k, keygen_recipe(k, &p).unwrap()))
        .collect()
    }

    fn check_format(kind: &str, v: &[u8]) {
        let s = std::str::from_utf8(v).unwrap();
        let b64 = |s: &str, e: base64::engine::GeneralPurpose| e.decode(s).unwrap().len();
        use base64::engine::general_purpose as gp;
        match kind {
            "jwt" => assert_eq!((s.len(), b64(s, gp::URL_SAFE_NO_PAD)), (43, 32), "{kind}"),
            "nextauth" => assert_eq!((s.len(), b64(s, gp::STANDARD)), (44, 32), "{kind}"),
            "aes256" => assert!(
                s.len() == 64
                    && s.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            ),
            "password" => {
                assert_eq!(s.len(), 32);
                assert!(s.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
            }
            "hex:16" => assert!(s.len() == 32 && hex::decode(s).is_ok()),
            "base64:24" => assert_eq!(b64(s, gp::STANDARD), 24),
            "base64url:48" => assert_eq!(b64(s, gp::URL_SAFE_NO_PAD), 48),
            "django" => {
                assert_eq!(s.len(), 50);
                assert!(s.bytes().all(|b| DJANGO_ALPHABET.contains(&b)));
            }
            "rails" => assert!(s.len() == 128 && hex::decode(s).is_ok()),
            "laravel" => {
                let body = s.strip_prefix("base64:").unwrap();
                assert_eq!(b64(body, gp::STANDARD), 32);
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_kind_has_its_format_and_length() {
        for (kind, r) in all_kinds() {
            let v = r.generate();
            check_format(kind, v.expose());
            assert_eq!(v.len(), r.len(), "{kind}");
            assert!(r.bits() >= 128.0, "{kind}: {} bits", r.bits());
        }
        assert!(keygen_recipe("match", &Policy::default()).is_err());
        assert!(keygen_recipe("hex:4", &Policy::default()).is_err());
        assert!(keygen_recipe("bogus", &Policy::default()).is_err());
    }

    #[test]
    fn thousand_values_distinct_and_random_looking() {
        for (kind, r) in all_kinds() {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                let v = r.generate();
                // Simple entropy check: most of what the length and alphabet allow.
                let alphabet = match kind {
                    "aes256" | "hex:16" | "rails" => 16.0f64,
                    "django" => 50.0,
                    "password" => 66.0,
                    _ => 64.0,
                };
                let ceiling = alphabet.log2().min((v.len() as f64).log2());
                let e = entropy(v.expose());
                assert!(e > 0.65 * ceiling, "{kind}: entropy {e} of {ceiling}");
                assert!(seen.insert(v.expose().to_vec()), "{kind}: repeated value");
            }
        }
    }

    #[test]
    fn detects_encodings() {
        assert_eq!(detect(b"deadbeef0123"), Encoding::Hex { upper: false });
        assert_eq!(detect(b"DEADBEEF0123"), Encoding::Hex { upper: true });
        assert_eq!(detect(b"DeadBeef0123"), Encoding::Alnum);
        assert_eq!(detect(b"ab+/cdEF"), Encoding::Base64 { padded: false });
        assert_eq!(detect(b"abcdEF=="), Encoding::Base64 { padded: true });
        assert_eq!(detect(b"ab-_cdEF"), Encoding::Base64Url { padded: false });
        assert_eq!(detect(b"p@ss w0rd!"), Encoding::Other);
    }

    #[test]
    fn match_keeps_format_and_length() {
        let p = Policy::default();
        let hex_lower = b"0123456789abcdef".to_vec();
        let hex_upper = b"0123456789ABCDEF".to_vec();
        let b64 = [ALNUM_ALPHABET, b"+/"].concat();
        let b64url = [ALNUM_ALPHABET, b"-_"].concat();
        let cases: Vec<(&[u8], Vec<u8>)> = vec![
            (b"0123456789abcdef0123456789abcdef", hex_lower),
            (b"0123456789ABCDEF0123456789ABCDEF", hex_upper),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z47A=", b64.clone()),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z4w==", b64.clone()),
            (b"KtbkT8iU+NIRuPW9FDOTzr1nWeWmZYPJQB+eFh1Z4", b64),
            (b"x_jXBgIvMPnLBUYOKZsxAghfdJzUH5xi6mHNvzGxNL4", b64url),
            (b"Q2xhdWRlIGlzIGEgZ29vZCBib3Q", ALNUM_ALPHABET.to_vec()),
        ];
        for (old, alphabet) in cases {
            let r = recipe(&RotationKind::Match, "encryption-key", old, &p).unwrap();
            for _ in 0..50 {
                let v = r.generate();
                let what = String::from_utf8_lossy(old);
                assert_eq!(v.len(), old.len(), "{what}");
                let pad = old.iter().rev().take_while(|&&b| b == b'=').count();
                let (body, tail) = v.expose().split_at(v.len() - pad);
                assert!(tail.iter().all(|&b| b == b'='), "{what}: padding");
                assert!(
                    body.iter().all(|b| alphabet.contains(b)),
                    "{what}: alphabet"
                );
                assert_ne!(v.expose(), old);
            }
        }
        // A weak old JWT secret does not beget a weak new one.
        let r = recipe(&RotationKind::Match, "jwt-secret", b"changeme123", &p).unwrap();
        assert!(r.bits() >= 256.0);
        // Provider tokens get no value.
        assert!(recipe(&RotationKind::Revoke, "aws", b"AKIA...", &p).is_none());
    }

    #[test]
    fn charset_policy() {
        assert_eq!(Policy::charset("safe").unwrap(), SAFE_ALPHABET);
        assert!(Policy::charset("abc").is_err());
        assert!(Policy::charset("abcdefghijklmnop qr").is_err());
        let set = Policy::charset("abcdefghijklmnop!").unwrap();
        let r = Recipe::Chars {
            len: 40,
            alphabet: set.clone(),
        };
        assert!(r.generate().expose().iter().all(|b| set.contains(b)));
    }
}
