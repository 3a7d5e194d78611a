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
        Validator::GithubCrc32 => github_crc32(secret),
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
    }
    Verdict::Accept { confidence, notes }
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

/// GitHub's new-format tokens (`ghp_` + 30 random base62 + 6 base62 CRC32 of the random part).
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
