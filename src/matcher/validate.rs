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
/// `ghr_`, npm `npm_`: prefix + 36 base62) whose checksum fails. It is not a live token, whichever
/// rule matched it (a generic `token = ...` rule included).
pub fn fails_known_checksum(secret: &[u8]) -> bool {
    let shaped = secret.len() == 40
        && (secret.starts_with(b"npm_")
            || (secret.starts_with(b"gh") && secret[3] == b'_' && b"pousr".contains(&secret[2])))
        && secret[4..].iter().all(u8::is_ascii_alphanumeric);
    shaped && github_crc32(secret) == Verdict::Reject
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
}
