//! Offline validators: structural checks that turn "looks like" into "is". A validator either rejects
//! a match (it cannot be the real thing, e.g. a GitHub token whose checksum fails) or accepts it with
//! a confidence and optional notes (decoded JWT claims). Nothing here touches the network.

use crate::finding::Confidence;
use crate::rules::Validator;
use base64::Engine;

/// The outcome of a validator.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Reject,
    Accept {
        confidence: Confidence,
        notes: Vec<(String, String)>,
    },
}

fn accept(confidence: Confidence) -> Verdict {
    Verdict::Accept {
        confidence,
        notes: Vec::new(),
    }
}

/// Runs `validator` on `secret`.
pub fn run(validator: Validator, secret: &[u8]) -> Verdict {
    match validator {
        Validator::Jwt => jwt(secret),
        Validator::Pem => pem(secret),
        Validator::GithubCrc32 | Validator::NpmCrc32 => github_crc32(secret),
        Validator::AwsKeyId => aws_key_id(secret),
        Validator::DbUri => accept(Confidence::Medium),
        Validator::AgeBech32 => age_bech32(secret),
        Validator::Grafana => grafana(secret),
        Validator::Sentry => sentry(secret),
        Validator::PypiMacaroon => pypi_macaroon(secret),
        Validator::DiscordBot => discord_bot(secret),
        Validator::GitlabRoutable => gitlab_routable(secret),
    }
}

/// High confidence when `ok`, otherwise a rejection: for formats whose check a real token
/// always passes.
fn accept_if(ok: bool) -> Verdict {
    if ok {
        accept(Confidence::High)
    } else {
        Verdict::Reject
    }
}

/// Decodes base64url without padding (tolerating padding), as JWT segments use.
pub fn b64url(seg: &[u8]) -> Option<Vec<u8>> {
    let seg: Vec<u8> = seg.iter().copied().filter(|&b| b != b'=').collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(seg)
        .ok()
}

fn jwt(secret: &[u8]) -> Verdict {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return Verdict::Reject;
    };
    let Some(header) = b64url(h).and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
    else {
        return Verdict::Reject;
    };
    let Some(alg) = header.get("alg").and_then(|a| a.as_str()) else {
        return Verdict::Reject;
    };
    let mut notes = vec![("alg".to_string(), alg.to_string())];
    let mut confidence = Confidence::Medium;
    if let Some(claims) =
        b64url(p).and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
    {
        // Supabase's local development keys are published in its docs and CLI output.
        if claims.get("iss").and_then(|v| v.as_str()) == Some("supabase-demo") {
            return Verdict::Reject;
        }
        confidence = Confidence::High;
        for key in ["iss", "sub", "role", "scope", "exp"] {
            if let Some(v) = claims.get(key) {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                notes.push((key.to_string(), s));
            }
        }
        if let Some(exp) = claims.get("exp").and_then(|v| v.as_f64()) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            notes.push(("expired".to_string(), (exp < now).to_string()));
        }
    }
    Verdict::Accept { confidence, notes }
}

/// Severity implied by decoded claims, overriding the rule's: a Supabase `service_role` token
/// bypasses row-level security (critical); an `anon` token is meant to ship to browsers (low).
pub fn severity_hint(notes: &[(String, String)]) -> Option<crate::rules::Severity> {
    use crate::rules::Severity;
    match notes.iter().find(|(k, _)| k == "role")?.1.as_str() {
        "service_role" | "supabase_admin" => Some(Severity::Critical),
        "anon" => Some(Severity::Low),
        _ => None,
    }
}

fn pem(secret: &[u8]) -> Verdict {
    // The body lies between the BEGIN line's closing dashes and the END line; keys pasted into
    // JSON or code carry literal `\n` escapes instead of line breaks.
    let text = String::from_utf8_lossy(secret)
        .replace("\\n", "\n")
        .replace("\\r", "");
    let Some(begin) = text.find("-----BEGIN") else {
        return Verdict::Reject;
    };
    let after_begin = &text[begin + 10..];
    let Some(close) = after_begin.find("-----") else {
        return Verdict::Reject;
    };
    let body = &after_begin[close + 5..];
    let body = body.find("-----END").map_or(body, |e| &body[..e]);
    let b64: String = body
        .lines()
        .map(str::trim)
        // Header lines (Proc-Type, DEK-Info, Version) and the PGP checksum line are not key data.
        .filter(|l| !l.contains(':') && !l.starts_with('='))
        .flat_map(|l| l.chars())
        .collect();
    if b64.len() < 40
        || !b64
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    {
        return Verdict::Reject;
    }
    let trimmed = b64.trim_end_matches('=');
    match base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed.as_bytes()) {
        // DER of a real key starts with a SEQUENCE (0x30); OpenSSH's format with its magic.
        Ok(der) if der.first() == Some(&0x30) || der.starts_with(b"openssh-key-v1") => {
            accept(Confidence::High)
        }
        _ => accept(Confidence::Medium),
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base62, left-padded with '0' to `width`.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CRC-32 (IEEE), bitwise: tokens are short, so a table buys nothing here.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// GitHub's new-format tokens (`ghp_` + 30 random base62 + 6 base62 CRC32 of the random part);
/// npm's `npm_` tokens use the same layout.
fn github_crc32(secret: &[u8]) -> Verdict {
    let Some(us) = secret.iter().position(|&b| b == b'_') else {
        return Verdict::Reject;
    };
    let body = &secret[us + 1..];
    if body.len() != 36 {
        // Fine-grained PATs (github_pat_) have another layout: shape only.
        return accept(Confidence::Medium);
    }
    let (random, check) = body.split_at(30);
    if base62(crc32(random) as u64, 6).as_bytes() == check {
        accept(Confidence::High)
    } else {
        Verdict::Reject
    }
}

/// True for a value shaped like a checksum-bearing token (GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/
/// `ghr_`, npm `npm_`: prefix + 36 base62; Grafana `glsa_`; age `AGE-SECRET-KEY-1`; GitLab
/// routable `glpat-`/`glrt-`) whose checksum fails. It is not a live token, whichever rule
/// matched it (a generic `token = ...` rule included).
pub fn fails_known_checksum(secret: &[u8]) -> bool {
    let shaped = secret.len() == 40
        && (secret.starts_with(b"npm_")
            || (secret.starts_with(b"gh") && secret[3] == b'_' && b"pousr".contains(&secret[2])))
        && secret[4..].iter().all(u8::is_ascii_alphanumeric);
    let github_fails = shaped && github_crc32(secret) == Verdict::Reject;
    github_fails
        || fails_grafana_checksum(secret)
        || fails_age_checksum(secret)
        || fails_gitlab_checksum(secret)
}

/// A GitLab routable token (`glpat-`/`glrt-`, base64url payload and `.`-separated base36 fields)
/// whose CRC32 fails.
fn fails_gitlab_checksum(secret: &[u8]) -> bool {
    let shaped = (secret.starts_with(b"glpat-") || secret.starts_with(b"glrt-"))
        && secret.contains(&b'.')
        && secret
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    shaped && gitlab_routable(secret) == Verdict::Reject
}

/// A Grafana service-account token (`glsa_` + 32 alphanumerics + `_` + 8 hex) whose CRC32 fails.
fn fails_grafana_checksum(secret: &[u8]) -> bool {
    let shaped = secret.len() == 46
        && secret.starts_with(b"glsa_")
        && secret[5..37].iter().all(u8::is_ascii_alphanumeric)
        && secret[37] == b'_'
        && secret[38..].iter().all(u8::is_ascii_hexdigit);
    shaped && grafana(secret) == Verdict::Reject
}

/// An age secret key (`AGE-SECRET-KEY-1` + 58 Bech32 characters) whose checksum fails.
fn fails_age_checksum(secret: &[u8]) -> bool {
    let shaped = secret.len() == 74
        && secret.starts_with(b"AGE-SECRET-KEY-1")
        && secret[16..]
            .iter()
            .all(|b| BECH32.contains(&b.to_ascii_lowercase()));
    shaped && age_bech32(secret) == Verdict::Reject
}

fn aws_key_id(secret: &[u8]) -> Verdict {
    // Body after the 4-character prefix is base32 (A-Z, 2-7).
    let ok = secret.len() == 20
        && secret[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b));
    if ok {
        accept(Confidence::High)
    } else {
        Verdict::Reject
    }
}

/// Bech32's alphabet (BIP-173): the value of a character is its index.
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// BIP-173's checksum function over 5-bit values; a valid string's HRP expansion followed by
/// its data (checksum included) gives 1.
fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// BIP-173's HRP expansion: the high bits of each character, a zero, then the low bits.
fn bech32_hrp_expand(hrp: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    out.push(0);
    out.extend(hrp.iter().map(|c| c & 31));
    out
}

/// An age X25519 identity (`AGE-SECRET-KEY-1` + 58 Bech32 characters): the Bech32 checksum
/// holds and the data is exactly 32 bytes (52 five-bit groups, the 4 spare bits zero). The
/// string is upper case; Bech32 is case-insensitive as long as it is not mixed.
fn age_bech32(secret: &[u8]) -> Verdict {
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return Verdict::Reject;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    let values: Option<Vec<u8>> = data
        .iter()
        .map(|c| BECH32.iter().position(|b| b == c).map(|v| v as u8))
        .collect();
    let Some(values) = values else {
        return Verdict::Reject;
    };
    let mixed_case =
        secret.iter().any(u8::is_ascii_lowercase) && secret.iter().any(u8::is_ascii_uppercase);
    let ok = !mixed_case
        && hrp == b"age-secret-key-"
        && values.len() == 58
        && values[51] & 0b1111 == 0
        && bech32_polymod(
            bech32_hrp_expand(hrp)
                .into_iter()
                .chain(values.iter().copied()),
        ) == 1;
    accept_if(ok)
}

/// Grafana's tokens. A service-account token `glsa_<32 alphanumerics>_<8 hex>` ends with the
/// CRC32 (IEEE) of everything before its last `_`, its four bytes little-endian in hex. A
/// Grafana Cloud access-policy token `glc_<base64>` decodes to a JSON object naming the
/// organisation (`o`) and the key (`k`); that layout is observed rather than documented, so one
/// that does not decode stays at medium confidence.
fn grafana(secret: &[u8]) -> Verdict {
    if let Some(rest) = secret.strip_prefix(b"glc_") {
        let object =
            b64_any(rest).and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok());
        let named = object.is_some_and(|o| {
            ["o", "k"]
                .iter()
                .all(|k| o.get(k).is_some_and(|v| v.is_string()))
        });
        return accept(if named {
            Confidence::High
        } else {
            Confidence::Medium
        });
    }
    let Some(us) = secret.iter().rposition(|&b| b == b'_') else {
        return Verdict::Reject;
    };
    let (key, check) = (&secret[..us], &secret[us + 1..]);
    let expected = hex::encode(crc32(key).to_le_bytes());
    accept_if(check.eq_ignore_ascii_case(expected.as_bytes()))
}

/// Decodes base64 in the standard or the URL-safe alphabet, padded or not.
fn b64_any(text: &[u8]) -> Option<Vec<u8>> {
    let trimmed: Vec<u8> = text.iter().copied().filter(|&b| b != b'=').collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&trimmed))
        .ok()
}

/// Sentry's organisation tokens, `sntrys_<payload>_<secret>`: the payload is base64 of a JSON
/// object with a non-empty `iat` (Sentry refuses a token whose payload does not parse so), and
/// names the Sentry URL and organisation (kept as notes). User tokens (`sntryu_` + 64 hex) carry
/// no structure.
fn sentry(secret: &[u8]) -> Verdict {
    let Some(rest) = secret.strip_prefix(b"sntrys_") else {
        return accept(Confidence::Medium);
    };
    let mut parts = rest.split(|&b| b == b'_');
    let (Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next()) else {
        return Verdict::Reject;
    };
    let Some(object) = b64_any(payload)
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
        .filter(|o| {
            o.get("iat")
                .is_some_and(|v| !v.is_null() && v != 0 && v != "")
        })
    else {
        return Verdict::Reject;
    };
    let notes = ["url", "org"]
        .iter()
        .filter_map(|&k| Some((k.to_string(), object.get(k)?.as_str()?.to_string())))
        .collect();
    Verdict::Accept {
        confidence: Confidence::High,
        notes,
    }
}

/// Reads one LEB128 varint (7 bits a byte, low group first), as macaroon fields use.
fn varint(data: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let b = *data.get(*at)?;
        *at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Reads one field of a version-2 macaroon: (type, contents); the end-of-section marker is
/// type 0 with no contents.
fn macaroon_field<'a>(data: &'a [u8], at: &mut usize) -> Option<(usize, &'a [u8])> {
    let kind = varint(data, at)?;
    if kind == 0 {
        return Some((0, &[]));
    }
    let len = varint(data, at)?;
    let body = data.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some((kind, body))
}

/// The location of a version-2 binary macaroon (libmacaroons' format: version byte 2; fields of
/// varint type, varint length and contents; 1 location, 2 identifier, 4 verification id,
/// 6 signature, 0 ends a section), if `data` is one: a header of optional location and an
/// identifier, caveats of optional location, identifier and optional verification id, an empty
/// section, then a 32-byte signature and nothing after it.
fn macaroon_location(data: &[u8]) -> Option<&[u8]> {
    if data.first() != Some(&2) {
        return None;
    }
    let mut at = 1;
    let mut location = None;
    let mut section = 0;
    loop {
        let mut field = macaroon_field(data, &mut at)?;
        if field.0 == 0 && section > 0 {
            break;
        }
        if field.0 == 1 {
            if section == 0 {
                location = Some(field.1);
            }
            field = macaroon_field(data, &mut at)?;
        }
        if field.0 != 2 {
            return None;
        }
        field = macaroon_field(data, &mut at)?;
        if field.0 == 4 && section > 0 {
            field = macaroon_field(data, &mut at)?;
        }
        if field.0 != 0 {
            return None;
        }
        section += 1;
    }
    let (kind, signature) = macaroon_field(data, &mut at)?;
    (kind == 6 && signature.len() == 32 && at == data.len()).then_some(location?)
}

/// PyPI API tokens are `pypi-` and a base64url macaroon whose location is the index that issued
/// it. A value that does not decode so was never issued by PyPI.
fn pypi_macaroon(secret: &[u8]) -> Verdict {
    let location = secret
        .strip_prefix(b"pypi-")
        .and_then(b64_any)
        .and_then(|d| macaroon_location(&d).map(<[u8]>::to_vec));
    accept_if(matches!(
        location.as_deref(),
        Some(b"pypi.org" | b"test.pypi.org")
    ))
}

/// Discord bot tokens are three dot-separated segments, the first the bot's user id (a decimal
/// snowflake, 17 to 20 digits) in base64. A first segment that decodes to anything else is not a
/// Discord token.
fn discord_bot(secret: &[u8]) -> Verdict {
    let first = secret.split(|&b| b == b'.').next().unwrap_or_default();
    let id = b64_any(first).unwrap_or_default();
    accept_if((17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit))
}

/// Encodes `n` in lower-case base36, left-padded with '0' to `width`.
pub fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 || out.is_empty() {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.resize(out.len().max(width), b'0');
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// GitLab's routable tokens: prefix, base64url payload, `.`, an optional two-character version
/// and `.`, the payload's length in two base36 characters, then the CRC32 (IEEE) of everything
/// before it in seven base36 characters. A token without a `.` is the legacy random form, which
/// carries no check.
fn gitlab_routable(secret: &[u8]) -> Verdict {
    let (Some(first_dot), Some(last_dot)) = (
        secret.iter().position(|&b| b == b'.'),
        secret.iter().rposition(|&b| b == b'.'),
    ) else {
        return accept(Confidence::Medium);
    };
    let tail = &secret[last_dot + 1..];
    if tail.len() != 9 {
        return Verdict::Reject;
    }
    let (length, check) = tail.split_at(2);
    let length = std::str::from_utf8(length)
        .ok()
        .and_then(|l| usize::from_str_radix(l, 36).ok());
    let head = &secret[..secret.len() - 7];
    let ok = length.is_some_and(|n| n > 0 && n <= first_dot)
        && base36(u64::from(crc32(head)), 7).as_bytes() == check;
    accept_if(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn github_checksum() {
        let random = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1";
        let good = format!("ghp_{random}{}", base62(crc32(random.as_bytes()) as u64, 6));
        assert!(matches!(
            github_crc32(good.as_bytes()),
            Verdict::Accept { .. }
        ));
        let bad = format!("ghp_{random}000000");
        assert_eq!(github_crc32(bad.as_bytes()), Verdict::Reject);
        // npm: same layout (a token from rules/vcs.toml's examples).
        assert!(matches!(
            run(
                Validator::NpmCrc32,
                b"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"
            ),
            Verdict::Accept {
                confidence: Confidence::High,
                ..
            }
        ));
        assert_eq!(
            run(
                Validator::NpmCrc32,
                b"npm_iKWWll28l0FKAIkPBxCF27WQBHk3Gt0D4Qcs"
            ),
            Verdict::Reject
        );
    }

    #[test]
    fn jwt_expiry_and_roles() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let h = enc(r#"{"alg":"HS256"}"#);
        let t = format!("{h}.{}.c2ln", enc(r#"{"role":"anon","exp":1000}"#));
        let Verdict::Accept { notes, .. } = jwt(t.as_bytes()) else {
            panic!()
        };
        assert!(notes.contains(&("expired".into(), "true".into())));
        assert_eq!(severity_hint(&notes), Some(crate::rules::Severity::Low));
        let t = format!("{h}.{}.c2ln", enc(r#"{"exp":99999999999}"#));
        let Verdict::Accept { notes, .. } = jwt(t.as_bytes()) else {
            panic!()
        };
        assert!(notes.contains(&("expired".into(), "false".into())));
        let demo = format!(
            "{h}.{}.c2ln",
            enc(r#"{"iss":"supabase-demo","role":"anon"}"#)
        );
        assert_eq!(jwt(demo.as_bytes()), Verdict::Reject);
    }

    #[test]
    fn jwt_header_must_have_alg() {
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"1","role":"service_role"}"#);
        let t = format!("{h}.{p}.c2lnbmF0dXJlLXZhbHVlLWhlcmU");
        match jwt(t.as_bytes()) {
            Verdict::Accept { notes, .. } => {
                assert!(notes.contains(&("role".into(), "service_role".into())))
            }
            v => panic!("{v:?}"),
        }
        let h2 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT"}"#);
        assert_eq!(jwt(format!("{h2}.{p}.sig").as_bytes()), Verdict::Reject);
    }

    use rand::Rng;

    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    fn draw(rng: &mut impl Rng, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
            .collect()
    }

    fn is_high(v: &Verdict) -> bool {
        matches!(
            v,
            Verdict::Accept {
                confidence: Confidence::High,
                ..
            }
        )
    }

    /// `token` with its character at `at` replaced by another one of `alphabet`.
    fn change_one(token: &str, at: usize, alphabet: &[u8]) -> String {
        let mut bytes = token.as_bytes().to_vec();
        let old = bytes[at];
        bytes[at] = *alphabet.iter().find(|&&c| c != old).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// An age secret key for `key`: Bech32 of its 5-bit groups and the BIP-173 checksum.
    fn age_key(key: &[u8; 32]) -> String {
        let mut groups = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for &b in key {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                groups.push(((acc >> bits) & 31) as u8);
            }
        }
        groups.push(((acc << (5 - bits)) & 31) as u8);
        let hrp = b"age-secret-key-";
        let values = bech32_hrp_expand(hrp)
            .into_iter()
            .chain(groups.iter().copied())
            .chain([0; 6]);
        let check = bech32_polymod(values) ^ 1;
        groups.extend((0..6).map(|i| ((check >> (5 * (5 - i))) & 31) as u8));
        let data: String = groups.iter().map(|&g| BECH32[g as usize] as char).collect();
        format!("AGE-SECRET-KEY-1{}", data.to_ascii_uppercase())
    }

    #[test]
    fn bech32_checksum_matches_bip173_vectors() {
        let valid = |s: &str| {
            let (hrp, data) = s.rsplit_once('1').unwrap();
            let values = data
                .bytes()
                .map(|c| BECH32.iter().position(|&b| b == c).unwrap() as u8);
            bech32_polymod(bech32_hrp_expand(hrp.as_bytes()).into_iter().chain(values)) == 1
        };
        assert!(valid("a12uel5l"));
        assert!(valid("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
        assert!(valid(
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"
        ));
        assert!(!valid("a12uel5m"));
    }

    #[test]
    fn age_keys_carry_a_bech32_checksum() {
        let (mut rng, _) = crate::testing::seeded();
        let key: [u8; 32] = rng.gen();
        let good = age_key(&key);
        assert_eq!(good.len(), 74);
        assert!(
            is_high(&run(Validator::AgeBech32, good.as_bytes())),
            "{good}"
        );
        let upper_bech32 = BECH32.to_ascii_uppercase();
        let at = rng.gen_range(16..good.len());
        let bad = change_one(&good, at, &upper_bech32);
        assert_eq!(
            run(Validator::AgeBech32, bad.as_bytes()),
            Verdict::Reject,
            "{bad}"
        );
        assert!(fails_known_checksum(bad.as_bytes()));
        assert!(!fails_known_checksum(good.as_bytes()));
        // Mixed case is not Bech32; another HRP is not an age key.
        let mixed = format!("{}{}", &good[..20], good[20..].to_ascii_lowercase());
        assert_eq!(run(Validator::AgeBech32, mixed.as_bytes()), Verdict::Reject);
        let public = good.replacen("AGE-SECRET-KEY-", "AGE-PUBLIC-KEY-", 1);
        assert_eq!(
            run(Validator::AgeBech32, public.as_bytes()),
            Verdict::Reject
        );
    }

    fn glsa_token(rng: &mut impl Rng) -> String {
        let key = format!("glsa_{}", draw(rng, ALNUM, 32));
        format!("{key}_{}", hex::encode(crc32(key.as_bytes()).to_le_bytes()))
    }

    #[test]
    fn grafana_service_account_tokens_carry_a_crc32() {
        let (mut rng, _) = crate::testing::seeded();
        let good = glsa_token(&mut rng);
        assert!(is_high(&run(Validator::Grafana, good.as_bytes())), "{good}");
        for at in [rng.gen_range(5..37), rng.gen_range(38..46)] {
            let alphabet: &[u8] = if at < 37 { ALNUM } else { b"0123456789abcdef" };
            let bad = change_one(&good, at, alphabet);
            assert_eq!(
                run(Validator::Grafana, bad.as_bytes()),
                Verdict::Reject,
                "{bad}"
            );
            assert!(fails_known_checksum(bad.as_bytes()), "{bad}");
        }
        assert!(!fails_known_checksum(good.as_bytes()));
    }

    #[test]
    fn grafana_cloud_tokens_decode_to_json_naming_org_and_key() {
        let (mut rng, _) = crate::testing::seeded();
        let json = format!(
            r#"{{"o":"{}","n":"stack-{}-read","k":"{}","m":{{"r":"prod-us-east-0"}}}}"#,
            rng.gen_range(100_000..999_999),
            rng.gen_range(100_000..999_999),
            draw(&mut rng, ALNUM, 24)
        );
        let good = format!(
            "glc_{}",
            base64::engine::general_purpose::STANDARD.encode(&json)
        );
        assert!(is_high(&run(Validator::Grafana, good.as_bytes())), "{good}");
        // Not JSON with o and k: shape only (medium), not dropped.
        let other = format!(
            "glc_{}",
            base64::engine::general_purpose::STANDARD.encode(r#"{"x":1}"#)
        );
        assert_eq!(
            run(Validator::Grafana, other.as_bytes()),
            accept(Confidence::Medium)
        );
    }

    fn sentry_org_token(rng: &mut impl Rng, payload: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        let random: [u8; 32] = rng.gen();
        let tail = b64.encode(random);
        format!(
            "sntrys_{}_{}",
            b64.encode(payload),
            tail.trim_end_matches('=')
        )
    }

    #[test]
    fn sentry_org_tokens_carry_a_json_payload() {
        let (mut rng, _) = crate::testing::seeded();
        let org = draw(&mut rng, b"abcdefghijklmnopqrstuvwxyz", 10);
        let payload = format!(
            r#"{{"iat": {}.{}, "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": "{org}"}}"#,
            rng.gen_range(1_600_000_000u64..1_800_000_000),
            rng.gen_range(0..1_000_000)
        );
        let good = sentry_org_token(&mut rng, &payload);
        match run(Validator::Sentry, good.as_bytes()) {
            Verdict::Accept {
                confidence: Confidence::High,
                notes,
            } => assert_eq!(
                notes,
                [
                    ("url".into(), "https://sentry.io".into()),
                    ("org".into(), org)
                ]
            ),
            v => panic!("{good}: {v:?}"),
        }
        // One character of the payload changed: it no longer decodes to JSON (or loses `iat`).
        let bad = change_one(&good, 7, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(
            run(Validator::Sentry, bad.as_bytes()),
            Verdict::Reject,
            "{bad}"
        );
        let no_iat = sentry_org_token(&mut rng, r#"{"url": "https://sentry.io"}"#);
        assert_eq!(run(Validator::Sentry, no_iat.as_bytes()), Verdict::Reject);
        let user = format!("sntryu_{}", draw(&mut rng, b"0123456789abcdef", 64));
        assert_eq!(
            run(Validator::Sentry, user.as_bytes()),
            accept(Confidence::Medium)
        );
    }

    /// One field of a version-2 macaroon: type, varint length, contents.
    fn field(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
        out.push(kind);
        let mut n = body.len();
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(body);
    }

    /// A PyPI-shaped token: a version-2 macaroon located at `location` with a random identifier,
    /// `caveats` first-party caveats and a random signature.
    fn pypi_token(rng: &mut impl Rng, location: &str, caveats: usize) -> String {
        let mut m = vec![2];
        field(&mut m, 1, location.as_bytes());
        let id = format!(r#"{{"nonce": "{}", "version": 1}}"#, draw(rng, ALNUM, 20));
        field(&mut m, 2, id.as_bytes());
        m.push(0);
        for _ in 0..caveats {
            let caveat = format!(
                r#"{{"permissions": {{"projects": ["{}"]}}, "version": 1}}"#,
                draw(rng, ALNUM, 150)
            );
            field(&mut m, 2, caveat.as_bytes());
            m.push(0);
        }
        m.push(0);
        field(&mut m, 6, &rng.gen::<[u8; 32]>());
        format!(
            "pypi-{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m)
        )
    }

    #[test]
    fn pypi_tokens_are_macaroons_located_at_pypi() {
        let (mut rng, _) = crate::testing::seeded();
        for (location, caveats) in [("pypi.org", 0), ("pypi.org", 1), ("test.pypi.org", 2)] {
            let good = pypi_token(&mut rng, location, caveats);
            assert!(
                is_high(&run(Validator::PypiMacaroon, good.as_bytes())),
                "{good}"
            );
            // Truncated or extended, the signature is not the last 32 bytes.
            let cut = &good[..good.len() - 4];
            assert_eq!(
                run(Validator::PypiMacaroon, cut.as_bytes()),
                Verdict::Reject
            );
        }
        let good = pypi_token(&mut rng, "pypi.org", 1);
        // The character after `pypi-AgEIcHlwaS5vcmc` holds the identifier's field type.
        let bad = change_one(&good, 20, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert_eq!(
            run(Validator::PypiMacaroon, bad.as_bytes()),
            Verdict::Reject,
            "{bad}"
        );
        let elsewhere = pypi_token(&mut rng, "pypi.example", 0);
        assert_eq!(
            run(Validator::PypiMacaroon, elsewhere.as_bytes()),
            Verdict::Reject
        );
        // The right prefix followed by random base64url is not a macaroon.
        let random = format!("pypi-AgEIcHlwaS5vcmc{}", draw(&mut rng, ALNUM, 120));
        assert_eq!(
            run(Validator::PypiMacaroon, random.as_bytes()),
            Verdict::Reject
        );
    }

    fn discord_token(rng: &mut impl Rng) -> String {
        let id = rng.gen_range(100_000_000_000_000_000u64..1_400_000_000_000_000_000);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            b64.encode(id.to_string()),
            draw(rng, ALNUM, 6),
            draw(rng, ALNUM, 38)
        )
    }

    #[test]
    fn discord_bot_tokens_start_with_a_base64_user_id() {
        let (mut rng, _) = crate::testing::seeded();
        let good = discord_token(&mut rng);
        assert!(
            is_high(&run(Validator::DiscordBot, good.as_bytes())),
            "{good}"
        );
        // The third character of the id segment holds bits of the first two digits.
        let bad = change_one(&good, 2, b"abcdefghijklmnopqrstuvwxyz");
        assert_eq!(
            run(Validator::DiscordBot, bad.as_bytes()),
            Verdict::Reject,
            "{bad}"
        );
        let word = format!(
            "{}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("not-a-user-id-at-all"),
            &good[good.find('.').unwrap() + 1..]
        );
        assert_eq!(run(Validator::DiscordBot, word.as_bytes()), Verdict::Reject);
    }

    /// A GitLab routable token with `prefix`: random bytes and a routing payload, base64url, the
    /// version `01`, the payload length and the CRC.
    fn gitlab_token(rng: &mut impl Rng, prefix: &str) -> String {
        let mut raw = format!(
            "c:1\no:{}\nu:{}",
            base36(rng.gen_range(1..99_999), 1),
            base36(rng.gen_range(1..9_999_999), 1)
        )
        .into_bytes();
        raw.extend(rng.gen::<[u8; 16]>());
        raw.push(16);
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let head = format!("{prefix}{payload}.01.{}", base36(payload.len() as u64, 2));
        format!("{head}{}", base36(u64::from(crc32(head.as_bytes())), 7))
    }

    #[test]
    fn gitlab_routable_tokens_carry_a_base36_crc32() {
        assert_eq!(base36(0, 7), "0000000");
        assert_eq!(base36(u64::from(u32::MAX), 7), "1z141z3");
        let (mut rng, _) = crate::testing::seeded();
        for prefix in ["glpat-", "glrt-t1_"] {
            let good = gitlab_token(&mut rng, prefix);
            assert!(
                is_high(&run(Validator::GitlabRoutable, good.as_bytes())),
                "{good}"
            );
            let at = rng.gen_range(prefix.len()..good.len());
            let alphabet: &[u8] = if at >= good.len() - 9 {
                b"0123456789abcdefghijklmnopqrstuvwxyz"
            } else {
                ALNUM
            };
            let bad = if good.as_bytes()[at] == b'.' {
                format!("{good}0")
            } else {
                change_one(&good, at, alphabet)
            };
            assert_eq!(
                run(Validator::GitlabRoutable, bad.as_bytes()),
                Verdict::Reject,
                "{bad}"
            );
            assert!(fails_known_checksum(bad.as_bytes()), "{bad}");
            assert!(!fails_known_checksum(good.as_bytes()), "{good}");
        }
        let legacy = format!("glpat-{}", draw(&mut rng, ALNUM, 20));
        assert_eq!(
            run(Validator::GitlabRoutable, legacy.as_bytes()),
            accept(Confidence::Medium)
        );
    }

    #[test]
    fn validator_names_are_the_rule_file_names() {
        for v in [
            Validator::Jwt,
            Validator::Pem,
            Validator::GithubCrc32,
            Validator::NpmCrc32,
            Validator::AwsKeyId,
            Validator::DbUri,
            Validator::AgeBech32,
            Validator::Grafana,
            Validator::Sentry,
            Validator::PypiMacaroon,
            Validator::DiscordBot,
            Validator::GitlabRoutable,
        ] {
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                format!("\"{}\"", v.name())
            );
        }
    }
}
