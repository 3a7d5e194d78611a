//! Links HMAC-signed JWTs to the signing secrets found in the same scan.
//!
//! A JWT signed with HS256/384/512 verifies against exactly one key. When a token found anywhere
//! in the scan verifies against a JWT/NextAuth/generic/encryption secret also found in the scan,
//! that secret is proven to be a live signing key (anyone holding it can mint valid tokens), and
//! the token proven to be one it signed. Both findings get a note naming the other's location and
//! are raised to critical with high confidence: the strongest evidence a leaked secret is real.
//!
//! Runs once per scan, after collection (`cmd::finish`), on raw secrets held in memory. Cost is
//! (distinct tokens x distinct candidate secrets x up to two keys) HMACs over a few hundred bytes:
//! negligible next to the scan, and zero when no HS* token was found.
//!
//! A token is also evidence against the filters: a value they rejected (`secret: 'keyboard cat'`,
//! a placeholder-looking or low-entropy key) that verifies a token of the scan signs it, whatever
//! it looks like. The scanner keeps such values of the rules that may sign ([`may_sign`]) in a
//! [`RejectedPool`], in memory only and bounded ([`MAX_REJECTED`] places, [`MAX_REJECTED_LEN`]
//! bytes a value, [`MAX_REJECTED_PLACES`] places a value), and [`promote`] makes those that
//! verify a token into findings as collection ends; [`link`] then links them as any other.

use crate::finding::{Confidence, Finding, SecretId};
use crate::rules::Severity;
use base64::Engine;
use hmac::{Hmac, Mac};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Categories of rules whose secrets may sign tokens.
const SIGNING_CATEGORIES: &[&str] = &["jwt-secret", "nextauth", "generic", "encryption-key"];

/// Locations listed in one note before "and N more".
const MAX_LISTED: usize = 5;

/// Rejected places a scan keeps at most: with a finding's text (preview, path, provenance) a few
/// hundred bytes each, at most a few MiB. Past it, further rejected values are not kept (a
/// token signed by one of them is reported without its key, as before).
pub const MAX_REJECTED: usize = 4096;
/// Places kept per rejected value (one names it; a few show where it is used).
pub const MAX_REJECTED_PLACES: usize = 4;
/// Longest rejected value kept, in bytes: HMAC keys people choose are short, and longer rejected
/// values are code or text.
pub const MAX_REJECTED_LEN: usize = 256;
/// Rejected values the matcher notes per buffer scanned.
pub const MAX_REJECTED_PER_BLOB: usize = 64;

/// Whether values of `rule` may be HMAC signing keys: its category is one of the signing
/// categories (every rule of a secret, token or key name assigned a value, and the signing calls;
/// passwords are checked against hashes, not used as keys), and it reads the value as written
/// (not decoded from base64).
pub fn may_sign(rule: &crate::rules::Rule) -> bool {
    SIGNING_CATEGORIES.contains(&rule.category.as_str()) && rule.decode.is_none()
}

/// The values one scan's filters rejected, as findings, each with the name of its filter (see
/// the module documentation). Shared by the scan's worker threads.
#[derive(Default)]
pub struct RejectedPool {
    inner: Mutex<Pool>,
    /// Set once the pool holds [`MAX_REJECTED`] places: read without the lock.
    full: AtomicBool,
}

#[derive(Default)]
struct Pool {
    kept: Vec<(Finding, &'static str)>,
    places: HashMap<SecretId, usize>,
}

impl RejectedPool {
    /// Whether a place of the value named `id` would still be kept (checked before building it).
    pub fn wants(&self, id: &SecretId) -> bool {
        let pool = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        pool.kept.len() < MAX_REJECTED
            && pool.places.get(id).copied().unwrap_or(0) < MAX_REJECTED_PLACES
    }

    /// Whether the pool is full (nothing more is kept).
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Keeps `f`, rejected by `filter`, within the bounds.
    pub fn add(&self, f: Finding, filter: &'static str) {
        let mut pool = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let places = pool.places.get(&f.secret_id).copied().unwrap_or(0);
        if pool.kept.len() < MAX_REJECTED && places < MAX_REJECTED_PLACES {
            pool.places.insert(f.secret_id.clone(), places + 1);
            pool.kept.push((f, filter));
            self.full
                .store(pool.kept.len() >= MAX_REJECTED, Ordering::Relaxed);
        }
    }

    /// Everything kept, emptying the pool.
    pub fn take(&self) -> Vec<(Finding, &'static str)> {
        let mut pool = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        pool.places.clear();
        self.full.store(false, Ordering::Relaxed);
        std::mem::take(&mut pool.kept)
    }
}

/// Adds to `findings` each rejected place whose value verifies an HS* token among `findings`,
/// raised to critical with high confidence and noted `rejected by the <filter> filter but
/// verifies a token`; a place `findings` already reports (the same value at the same place) is
/// passed over. Returns how many were added. Without an HS* token among `findings` this is one
/// pass over their notes.
pub fn promote(findings: &mut Vec<Finding>, rejected: Vec<(Finding, &'static str)>) -> usize {
    if rejected.is_empty() {
        return 0;
    }
    let mut tokens: Vec<&SecretId> = findings
        .iter()
        .filter(|f| hmac_alg(f).is_some())
        .map(|f| &f.secret_id)
        .collect();
    tokens.sort();
    tokens.dedup();
    let tokens: Vec<Token<'_>> = tokens
        .into_iter()
        .filter_map(|id| findings.iter().find(|f| &f.secret_id == id))
        .filter_map(Token::of)
        .collect();
    if tokens.is_empty() {
        return 0;
    }
    let mut verdicts: HashMap<SecretId, bool> = HashMap::new();
    let mut add = Vec::new();
    for (mut f, filter) in rejected {
        let signs = *verdicts.entry(f.secret_id.clone()).or_insert_with(|| {
            let keys = candidate_keys(f.secret.expose());
            tokens.iter().any(|t| t.signed_by(&keys))
        });
        // The same value at the same place: reported already, or rejected by two rules.
        let reported = findings.iter().chain(&add).any(|r| {
            r.secret_id == f.secret_id && r.path == f.path && r.line == f.line && r.git == f.git
        });
        if signs && !reported {
            f.notes.push((
                "evidence".into(),
                format!("rejected by the {filter} filter but verifies a token"),
            ));
            f.severity = Severity::Critical;
            f.confidence = Confidence::High;
            add.push(f);
        }
    }
    let n = add.len();
    findings.extend(add);
    n
}

/// An HS* token's parts, as verification needs them.
struct Token<'a> {
    alg: &'a str,
    input: &'a [u8],
    sig: Vec<u8>,
}

impl<'a> Token<'a> {
    /// The parts of `f`, an HS* JWT finding.
    fn of(f: &'a Finding) -> Option<Self> {
        let alg = hmac_alg(f)?;
        let raw = f.secret.expose();
        let dot = raw.iter().rposition(|&b| b == b'.')?;
        let sig = crate::matcher::validate::b64url(&raw[dot + 1..])?;
        Some(Token {
            alg,
            input: &raw[..dot],
            sig,
        })
    }

    /// Whether one of `keys` signs the token.
    fn signed_by(&self, keys: &[Vec<u8>]) -> bool {
        keys.iter()
            .any(|k| verifies(self.alg, self.input, &self.sig, k))
    }
}

/// The HMAC algorithm of an HS* JWT finding, from the validator's `alg` note.
fn hmac_alg(f: &Finding) -> Option<&str> {
    let alg = f
        .notes
        .iter()
        .find(|(k, _)| k == "alg")
        .map(|(_, v)| v.as_str())?;
    matches!(alg, "HS256" | "HS384" | "HS512").then_some(alg)
}

/// Whether `sig` is the `alg` HMAC of `input` under `key`.
fn verifies(alg: &str, input: &[u8], sig: &[u8], key: &[u8]) -> bool {
    fn check<M: Mac + hmac::digest::KeyInit>(input: &[u8], sig: &[u8], key: &[u8]) -> bool {
        match <M as hmac::digest::KeyInit>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(input);
                m.verify_slice(sig).is_ok()
            }
            Err(_) => false,
        }
    }
    match alg {
        "HS256" => check::<Hmac<sha2::Sha256>>(input, sig, key),
        "HS384" => check::<Hmac<sha2::Sha384>>(input, sig, key),
        "HS512" => check::<Hmac<sha2::Sha512>>(input, sig, key),
        _ => false,
    }
}

/// The keys a secret value may stand for: the value itself, and its base64 decoding when it is
/// base64 of at least 16 bytes (some frameworks store the key encoded).
fn candidate_keys(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut keys = vec![secret.to_vec()];
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        if let Ok(d) = engine.decode(secret) {
            if d.len() >= 16 && !keys.contains(&d) {
                keys.push(d);
            }
        }
    }
    keys
}

fn location(f: &Finding) -> String {
    match f.commit() {
        Some(c) => format!("{}:{} (commit {})", f.path, f.line, &c[..c.len().min(12)]),
        None => format!("{}:{}", f.path, f.line),
    }
}

/// A signing secret's location as a token's note names it, with why the filters had rejected
/// it when they had ([`promote`]).
fn signer(f: &Finding) -> String {
    match f.notes.iter().find(|(k, _)| k == "evidence") {
        Some((_, why)) => format!("{} ({why})", location(f)),
        None => location(f),
    }
}

fn list(locs: &[String]) -> String {
    let mut s = locs
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if locs.len() > MAX_LISTED {
        s.push_str(&format!(" and {} more", locs.len() - MAX_LISTED));
    }
    s
}

/// Finds every (token, secret) pair where the secret signs the token, annotates both findings and
/// raises them to critical/high. Returns the number of distinct pairs.
pub fn link(findings: &mut [Finding]) -> usize {
    let pairs = verified_pairs(findings);
    apply(findings, &pairs)
}

/// Distinct tokens and distinct candidate secrets, each with every finding index.
type ById<'a> = BTreeMap<&'a SecretId, Vec<usize>>;

fn index(findings: &[Finding]) -> (ById<'_>, ById<'_>) {
    let mut tokens: ById<'_> = BTreeMap::new();
    let mut secrets: ById<'_> = BTreeMap::new();
    // A candidate the filters rejected (`--show-filtered`) is linked only through the pool.
    for (i, f) in findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.filtered.is_none())
    {
        if hmac_alg(f).is_some() {
            tokens.entry(&f.secret_id).or_default().push(i);
        } else if SIGNING_CATEGORIES.contains(&f.category.as_str()) {
            secrets.entry(&f.secret_id).or_default().push(i);
        }
    }
    (tokens, secrets)
}

/// The (token, signing secret) pairs among `findings`, by secret_id, in order. Needs the raw
/// values; [`apply`] then needs only the ids (so a shard can verify and a merge annotate).
pub fn verified_pairs(findings: &[Finding]) -> Vec<(SecretId, SecretId)> {
    let (tokens, secrets) = index(findings);
    if tokens.is_empty() || secrets.is_empty() {
        return Vec::new();
    }
    let secret_keys: Vec<(&SecretId, Vec<Vec<u8>>)> = secrets
        .iter()
        .map(|(id, idx)| (*id, candidate_keys(findings[idx[0]].secret.expose())))
        .collect();
    let mut pairs = Vec::new();
    for (t_id, t_idx) in &tokens {
        let Some(tok) = Token::of(&findings[t_idx[0]]) else {
            continue;
        };
        for (s_id, keys) in &secret_keys {
            if tok.signed_by(keys) {
                pairs.push(((*t_id).clone(), (*s_id).clone()));
            }
        }
    }
    pairs
}

/// Annotates the findings of each verified (token, secret) pair (see [`link`]); pairs whose
/// token or secret is not among `findings` are passed over. Returns the pairs applied.
pub fn apply(findings: &mut [Finding], pairs: &[(SecretId, SecretId)]) -> usize {
    let (tokens, secrets) = index(findings);
    let mut sorted: Vec<&(SecretId, SecretId)> = pairs.iter().collect();
    sorted.sort();
    sorted.dedup();
    let pairs: Vec<(Vec<usize>, Vec<usize>)> = sorted
        .into_iter()
        .filter_map(|(t, s)| Some((tokens.get(t)?.clone(), secrets.get(s)?.clone())))
        .collect();
    let n = pairs.len();
    // Collect notes first (locations read from findings), then apply.
    let mut notes: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    for (t_idx, s_idx) in &pairs {
        let token_locs: Vec<String> = t_idx.iter().map(|&i| location(&findings[i])).collect();
        let secret_locs: Vec<String> = s_idx.iter().map(|&i| signer(&findings[i])).collect();
        for &s in s_idx {
            notes
                .entry(s)
                .or_insert_with(|| ("signs".into(), Vec::new()))
                .1
                .extend(token_locs.iter().cloned());
        }
        for &t in t_idx {
            notes
                .entry(t)
                .or_insert_with(|| ("signed".into(), Vec::new()))
                .1
                .extend(secret_locs.iter().cloned());
        }
    }
    for (i, (kind, mut locs)) in notes {
        locs.dedup();
        let text = if kind == "signs" {
            format!(
                "signs tokens found at {}: anyone holding it can mint valid tokens",
                list(&locs)
            )
        } else {
            format!("signed by the secret at {}", list(&locs))
        };
        let f = &mut findings[i];
        f.notes.push(("link".into(), text));
        f.severity = Severity::Critical;
        f.confidence = Confidence::High;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{Blob, Scanner};
    use rand::Rng;

    fn scanner() -> Scanner {
        let rules = crate::rules::builtin().expect("built-in rules");
        Scanner::new(crate::matcher::Matcher::new(rules).expect("matcher"))
    }

    fn hs256(key: &[u8], claims: &str) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let input = format!(
            "{}.{}",
            B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            B64.encode(claims)
        );
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
        m.update(input.as_bytes());
        format!("{input}.{}", B64.encode(m.finalize().into_bytes()))
    }

    /// Scans `files` with one scanner and promotes what its pool kept, as `source::scan` does.
    fn scan(files: &[(&str, String)]) -> Vec<Finding> {
        let s = scanner();
        let mut scratch = crate::matcher::Scratch::default();
        let mut found = Vec::new();
        for (path, text) in files {
            found.extend(s.scan_blob(&Blob::file(text.as_bytes(), path), &mut scratch));
        }
        promote(&mut found, s.rejected.take());
        found
    }

    #[test]
    fn a_rejected_value_that_signs_a_token_is_promoted() {
        let (mut rng, _) = crate::testing::seeded();
        let word: String = (0..6).map(|_| rng.gen_range(b'a'..=b'z') as char).collect();
        // Short and in a placeholder's words: every filter turns it down.
        let key = format!("changeme {word}");
        let token = hs256(key.as_bytes(), r#"{"sub":"1"}"#);
        let app = (
            "app.js",
            format!("app.use(session({{ secret: '{key}' }}));\n"),
        );
        let found = scan(&[app.clone(), ("t.json", format!("{{\"t\": \"{token}\"}}\n"))]);
        let promoted: Vec<&Finding> = found.iter().filter(|f| f.path == "app.js").collect();
        assert_eq!(promoted.len(), 1, "{promoted:?}");
        let f = promoted[0];
        assert_eq!(f.secret.expose(), key.as_bytes());
        assert_eq!(
            (f.severity, f.confidence),
            (Severity::Critical, Confidence::High)
        );
        let why = &f.notes.iter().find(|(k, _)| k == "evidence").unwrap().1;
        assert!(
            why.starts_with("rejected by the ") && why.ends_with(" filter but verifies a token"),
            "{why}"
        );
        // Signed by another key: the value stays rejected, and the pool is dropped.
        let other = hs256(format!("{key}!").as_bytes(), r#"{"sub":"1"}"#);
        let found = scan(&[app, ("t.json", format!("{{\"t\": \"{other}\"}}\n"))]);
        assert!(found.iter().all(|f| f.path != "app.js"), "{found:?}");
    }

    #[test]
    fn the_pool_is_bounded() {
        let s = scanner();
        let mut scratch = crate::matcher::Scratch::default();
        // The same rejected value at more places than kept, and values longer than kept.
        let mut text = String::new();
        for _ in 0..MAX_REJECTED_PLACES + 3 {
            text.push_str("app.use(session({ secret: 'keyboard cat' }));\n");
        }
        text.push_str(&format!(
            "app.use(session({{ secret: 'changeme {}' }}));\n",
            "a ".repeat(MAX_REJECTED_LEN)
        ));
        s.scan_blob(&Blob::file(text.as_bytes(), "app.js"), &mut scratch);
        let kept = s.rejected.take();
        assert_eq!(kept.len(), MAX_REJECTED_PLACES, "{kept:?}");
        assert!(kept
            .iter()
            .all(|(f, _)| f.secret.expose() == b"keyboard cat"));
        assert!(s.rejected.take().is_empty());
        // Past MAX_REJECTED places nothing more is kept.
        for i in 0..MAX_REJECTED + 10 {
            let text = format!("app.use(session({{ secret: 'changeme{i}' }}));\n");
            s.scan_blob(&Blob::file(text.as_bytes(), "app.js"), &mut scratch);
        }
        assert!(s.rejected.is_full());
        assert_eq!(s.rejected.take().len(), MAX_REJECTED);
    }

    #[test]
    fn hs256_known_vector() {
        // RFC 7515 appendix A.1 key and signing input.
        let key = crate::matcher::validate::b64url(
            b"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        )
        .unwrap();
        let input = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let sig = crate::matcher::validate::b64url(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .unwrap();
        assert!(verifies("HS256", input, &sig, &key));
        assert!(!verifies("HS256", input, &sig, b"other"));
        assert!(!verifies("HS384", input, &sig, &key));
    }
}
