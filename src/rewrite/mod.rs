//! History rewrite: the targets (leaked values to replace, paths to drop), the plan, and the
//! shared pass over history that both `plan` and `apply` build on.
//!
//! `rewrite` consumes findings and never re-implements rule matching (DESIGN.md): a [`Target`] is a
//! literal secret, found by a scan (by default a fresh history scan, the same as `leaksweep git`,
//! through [`targets_from_findings`]; or a JSON report with raw secrets) or listed by the user in
//! a filter-repo style `--secrets` file.
//! Finding where those literals occur in history is then a plain multi-literal search (one
//! Aho-Corasick automaton over all literals), which is both faster than re-running the rules and
//! exact: a value the rules missed in one place but found in another is still replaced everywhere.
//!
//! The pass over history ([`graph`]) reads every unique tree once, every unique blob once (in
//! parallel), and every commit and annotated tag once; it leaves a compact graph with, per object,
//! a bit mask of the targets it (transitively) holds. `plan` only reads that graph; `apply`
//! rewrites exactly the objects whose mask is non-zero, oldest first, and leaves every other object
//! (and its id, and its signature) untouched.

//! What `verify` checks without inputs: `plan` and `apply` record the targets in
//! `<gitdir>/leaksweep/targets` ([`TargetsRecord`]): secret id, rule, length, replacement and the
//! `--remove-path` globs, never the values, so no secret is left on disk by the rewrite itself
//! (the filter-repo replacements file of `plan` is the one exception, 0600, for users of other
//! tools). `verify` without inputs re-runs the history scan over every ref *including* the
//! backups (the backup repository of [`apply::backup_repo_path`]) to recover the values of the recorded ids in memory
//! (the rules find the same values in the same old blobs), then runs the exact checks: a literal
//! search of everything reachable from the live refs (stronger than "no finding with a recorded
//! secret_id": it also catches a value in a context the rules would not match), topology and
//! byte-identical trees. Once `finish` has pruned the backups nothing is left to recover from; a
//! recorded id that the scan of every ref does not find is then simply absent, which is the
//! claim. A recorded id that cannot be recovered while the backups exist (a `--secrets` literal
//! no rule matches) is a failure that asks for the same inputs again.

pub mod apply;
pub mod encoded;
pub mod graph;
pub mod plan;
pub mod verify;

use crate::finding::{redact, Finding, Secret, SecretId};
use crate::replace::{Literals, Pair};
use crate::text::Utf16Text;
use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::path::Path;
use zeroize::Zeroizing;

/// File name of the targets record under `<gitdir>/leaksweep/`.
pub const TARGETS_FILE: &str = "targets";

/// One recorded target: everything but the value.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TargetRecord {
    pub secret_id: SecretId,
    pub rule_id: String,
    /// Length of the value in bytes.
    pub length: usize,
    /// The replacement (lossy UTF-8; not secret).
    pub replacement: String,
}

/// What `plan`/`apply` ran with, for `verify` without inputs (see the module doc).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TargetsRecord {
    pub version: u32,
    /// Where the targets came from: `history scan`, `report`, `secrets file` (comma-separated).
    pub source: String,
    pub remove_path: Vec<String>,
    pub targets: Vec<TargetRecord>,
}

impl TargetsRecord {
    pub fn new(source: &str, targets: &[Target], remove: &RemoveSet) -> Self {
        TargetsRecord {
            version: 1,
            source: source.to_string(),
            remove_path: remove.globs.clone(),
            targets: targets
                .iter()
                .map(|t| TargetRecord {
                    secret_id: t.secret_id.clone(),
                    rule_id: t.rule_id.clone(),
                    length: t.secret.expose().len(),
                    replacement: String::from_utf8_lossy(&t.replacement).into_owned(),
                })
                .collect(),
        }
    }

    /// Writes the record to `dir/targets` (mode 0600: lengths and ids are nobody else's business).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(TARGETS_FILE);
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        crate::output::write_atomic(&path, &json, true)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Reads `dir/targets`; `None` when there is none.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(TARGETS_FILE);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
                format!("{}: not a targets record", path.display())
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Targets for the recorded ids whose values occur in `findings` (with the recorded rule and
    /// replacement), and the records that no finding recovers.
    pub fn recover(&self, findings: &[Finding]) -> (Vec<Target>, Vec<TargetRecord>) {
        let by_id: HashMap<&SecretId, &Finding> = findings
            .iter()
            .filter(|f| !f.secret.is_empty())
            .map(|f| (&f.secret_id, f))
            .collect();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for r in &self.targets {
            match by_id.get(&r.secret_id) {
                Some(f) => found.push(Target {
                    secret: f.secret.clone(),
                    rule_id: r.rule_id.clone(),
                    secret_id: r.secret_id.clone(),
                    replacement: r.replacement.clone().into_bytes(),
                }),
                None => missing.push(r.clone()),
            }
        }
        (found, missing)
    }
}

/// Default replacement template: `{rule}` is the rule id, `{id}` the first 12 hex digits of the
/// secret id.
pub const DEFAULT_TEMPLATE: &str = "REDACTED:{rule}";

/// Rule id given to literals from a `--secrets` file.
pub const SECRETS_FILE_RULE: &str = "secrets-file";

/// One leaked value to remove from history.
#[derive(Debug, Clone)]
pub struct Target {
    /// The literal bytes (zeroized on drop).
    pub secret: Secret,
    /// The rule that found it (`secrets-file` for user-listed literals).
    pub rule_id: String,
    pub secret_id: SecretId,
    /// What replaces it; not secret.
    pub replacement: Vec<u8>,
}

impl Target {
    /// The secret masked for display.
    pub fn redacted(&self) -> String {
        redact(self.secret.expose())
    }
}

/// Expands a replacement template for one secret.
pub fn expand_template(template: &str, rule_id: &str, id: &SecretId) -> Vec<u8> {
    template
        .replace("{rule}", rule_id)
        .replace("{id}", &id.as_str()[..12])
        .into_bytes()
}

/// One target per distinct secret (by [`SecretId`]), replacement `REDACTED:<rule-id>` from the
/// first finding's rule; the seam for a fresh history scan. Empty secrets are skipped.
pub fn targets_from_findings(findings: &[Finding]) -> Vec<Target> {
    targets_from_findings_with(findings, DEFAULT_TEMPLATE)
}

/// [`targets_from_findings`] with a replacement template.
pub fn targets_from_findings_with(findings: &[Finding], template: &str) -> Vec<Target> {
    let mut seen: HashMap<&SecretId, ()> = HashMap::new();
    let mut out = Vec::new();
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| (&a.secret_id, &a.rule_id).cmp(&(&b.secret_id, &b.rule_id)));
    for f in sorted {
        if f.secret.is_empty() || seen.insert(&f.secret_id, ()).is_some() {
            continue;
        }
        out.push(Target {
            secret: f.secret.clone(),
            rule_id: f.rule_id.clone(),
            secret_id: f.secret_id.clone(),
            replacement: expand_template(template, &f.rule_id, &f.secret_id),
        });
    }
    out
}

/// Parses a filter-repo style `--replace-text` file: one `literal` or `literal==>replacement` per
/// line (a `literal:` prefix is accepted; `regex:` and `glob:` are not supported, because the
/// verification needs exact values). Blank lines are skipped; like filter-repo, a line starting
/// with `#` is a literal too, not a comment.
pub fn parse_secrets_file(bytes: &[u8], template: &str) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.starts_with(b"regex:") || line.starts_with(b"glob:") {
            bail!(
                "line {}: regex: and glob: patterns are not supported; list each literal value",
                n + 1
            );
        }
        let line = line.strip_prefix(b"literal:").unwrap_or(line);
        let (lit, repl) = match memchr::memmem::find(line, b"==>") {
            Some(i) => (&line[..i], Some(&line[i + 3..])),
            None => (line, None),
        };
        if lit.is_empty() {
            bail!("line {}: empty literal", n + 1);
        }
        let secret = Secret::new(lit.to_vec());
        let secret_id = SecretId::of(secret.expose());
        let replacement = match repl {
            Some(r) => r.to_vec(),
            None => expand_template(template, SECRETS_FILE_RULE, &secret_id),
        };
        out.push(Target {
            secret,
            rule_id: SECRETS_FILE_RULE.to_string(),
            secret_id,
            replacement,
        });
    }
    Ok(out)
}

/// Merges target lists: the first target of each secret id wins.
pub fn dedup_targets(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    targets
        .into_iter()
        .filter(|t| seen.insert(t.secret_id.clone()))
        .collect()
}

/// The filter-repo `--replace-text` file for `targets` (holds secrets: write it 0600).
pub fn replacements_file(targets: &[Target]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for t in targets {
        out.extend_from_slice(t.secret.expose());
        out.extend_from_slice(b"==>");
        out.extend_from_slice(&t.replacement);
        out.push(b'\n');
    }
    out
}

/// Finds and replaces every target in a buffer: the literal value, its UTF-16LE and UTF-16BE
/// forms (replaced by the replacement in the same form), and the value inside a base64 or
/// percent-encoded span, written back in that span's encoding (see [`encoded`]). UTF-16 text
/// with a byte-order mark is also searched decoded (an encoded span inside it) and stored back
/// in its byte order, when decoding it loses nothing. Overlapping literals: the leftmost, then
/// longest, match wins.
pub struct Replacer {
    literals: Literals,
    /// Per literal pair: the target it stands for.
    owner: Vec<usize>,
    /// The shortest target: a decoded span shorter than this cannot hold one.
    min_len: usize,
}

/// Bit of the mask that stands for "a removed path is below" (see [`graph`]).
pub const REMOVED_BIT: u64 = 1 << 63;
/// Targets beyond the 63rd share the last secret bit.
const LAST_SECRET_BIT: usize = 62;

/// The mask bit of target `i`.
pub fn target_bit(i: usize) -> u64 {
    1 << i.min(LAST_SECRET_BIT)
}

impl Replacer {
    pub fn new(targets: &[Target]) -> Result<Self> {
        let forms = encoded::literal_forms(targets);
        let literals = Literals::new(forms.iter().map(|f| Pair {
            old: &f.old,
            new: &f.new,
        }))
        .context("cannot build the literal matcher")?;
        Ok(Replacer {
            literals,
            owner: forms.iter().map(|f| f.target).collect(),
            min_len: targets
                .iter()
                .map(|t| t.secret.expose().len())
                .min()
                .map_or(usize::MAX, |n| n.max(1)),
        })
    }

    /// The mask of targets that occur in `data`, as stored or encoded (0 when none, and for an
    /// archive: [`Replacer::archive_members`]).
    pub fn mask(&self, data: &[u8]) -> u64 {
        if self.archive_members(data).is_some() {
            return 0;
        }
        let utf16 = Utf16Text::decode_exact(data)
            .map_or(0, |t| self.mask_at(t.text.as_bytes(), encoded::DEPTH));
        self.mask_at(data, encoded::DEPTH) | utf16
    }

    fn mask_at(&self, data: &[u8], depth: usize) -> u64 {
        if self.literals.is_empty() {
            return 0;
        }
        let mut m = 0;
        for hit in self.literals.find_iter(data) {
            m |= target_bit(self.owner[hit.pair]);
        }
        if depth > 0 && data.len() >= self.min_len {
            encoded::for_each_decoded(data, self.min_len, |decoded| {
                m |= self.mask_at(decoded, depth - 1);
            });
        }
        m
    }

    /// When `data` is an archive the scan opens (with its default limits; not bytes that only
    /// start like one), the members that hold a target, as (member path inside the archive,
    /// mask); `None` for anything else. The rewrite does not edit archives (an edit of the
    /// compressed or checksummed bytes would break them): [`Replacer::mask`] and
    /// [`Replacer::replace`] leave them alone, the plan names them for `--remove-path`, and
    /// `verify` searches inside them.
    pub fn archive_members(&self, data: &[u8]) -> Option<Vec<(String, u64)>> {
        use crate::archive::{self, SkipKind};
        if self.literals.is_empty() {
            return None;
        }
        archive::detect(data)?;
        let limits = archive::Limits::default();
        let budget = archive::Budget::new(limits.max_expanded);
        let mut out = Vec::new();
        let done = archive::expand("", data, &limits, &budget, &mut |member, bytes| {
            let m = self.mask(bytes);
            if m != 0 {
                let name = member.trim_start_matches(archive::SEPARATOR);
                out.push((name.to_string(), m));
            }
        })?;
        let opened = !done
            .skips
            .iter()
            .any(|s| s.path.is_empty() && s.kind == SkipKind::Unreadable);
        opened.then_some(out)
    }

    /// `data` with every target replaced (encoded ones in their encoding), or `None` when
    /// nothing matched (or `data` is an archive).
    pub fn replace(&self, data: &[u8]) -> Option<Vec<u8>> {
        if self.archive_members(data).is_some() {
            return None;
        }
        let stored = self.replace_at(data, encoded::DEPTH);
        let cur = stored.as_deref().unwrap_or(data);
        let decoded = Utf16Text::decode_exact(cur).and_then(|t| {
            let new = Zeroizing::new(self.replace_at(t.text.as_bytes(), encoded::DEPTH)?);
            Some(t.store(&new))
        });
        decoded.or(stored)
    }

    fn replace_at(&self, data: &[u8], depth: usize) -> Option<Vec<u8>> {
        if self.literals.is_empty() {
            return None;
        }
        let literal = self.literals.is_match(data).then(|| {
            let mut out = Vec::with_capacity(data.len());
            self.literals.replace_into(data, &mut out);
            out
        });
        if depth == 0 {
            return literal;
        }
        let cur: &[u8] = literal.as_deref().unwrap_or(data);
        if cur.len() < self.min_len {
            return literal;
        }
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0;
        for span in encoded::spans(cur, self.min_len) {
            let Some(new) = self.replace_at(&span.decoded, depth - 1) else {
                continue;
            };
            let new = Zeroizing::new(new);
            let o = out.get_or_insert_with(|| Vec::with_capacity(cur.len()));
            o.extend_from_slice(&cur[last..span.range.start]);
            span.encode(&cur[span.range.clone()], &new, o);
            last = span.range.end;
        }
        match out {
            Some(mut o) => {
                o.extend_from_slice(&cur[last..]);
                Some(o)
            }
            None => literal,
        }
    }
}

/// Paths to drop from every tree (`--remove-path`). A glob with a `/` is matched against the whole
/// path from the repository root; one without `/` against every path and against the file name,
/// so `.env.production` drops that file in any directory. A matching directory goes with its
/// whole content.
#[derive(Clone)]
pub struct RemoveSet {
    full: GlobSet,
    names: GlobSet,
    pub globs: Vec<String>,
}

impl RemoveSet {
    pub fn new(globs: &[String]) -> Result<Self> {
        let mut full = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for g in globs {
            let glob = Glob::new(g.trim_start_matches('/'))
                .with_context(|| format!("--remove-path {g}: not a valid glob"))?;
            if g.contains('/') {
                full.add(glob);
            } else {
                names.add(glob);
            }
        }
        Ok(RemoveSet {
            full: full.build()?,
            names: names.build()?,
            globs: globs.to_vec(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// Whether the entry at `path` (with file name `name`) is removed.
    pub fn matches(&self, path: &[u8], name: &[u8]) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let p = String::from_utf8_lossy(path);
        let n = String::from_utf8_lossy(name);
        self.full.is_match(p.as_ref()) || self.names.is_match(n.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_file_parses_both_forms() {
        let t =
            parse_secrets_file(b"abc\nxyz==>NOPE\n\nliteral:q1==>\n#if x\n", "R:{rule}").unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].replacement, b"R:secrets-file");
        assert_eq!(t[1].replacement, b"NOPE");
        assert_eq!(t[2].secret.expose(), b"q1");
        assert!(t[2].replacement.is_empty());
        assert_eq!(t[3].secret.expose(), b"#if x");
        assert!(parse_secrets_file(b"regex:a+\n", "x").is_err());
    }

    #[test]
    fn replacer_replaces_longest() {
        let t = parse_secrets_file(b"abc==>1\nabcdef==>2\n", "x").unwrap();
        let r = Replacer::new(&t).unwrap();
        assert_eq!(r.replace(b"xabcdefyabc").unwrap(), b"x2y1");
        assert_eq!(r.mask(b"abc"), 1);
        assert!(r.replace(b"nothing").is_none());
    }

    #[test]
    fn replacer_replaces_utf16_forms_in_their_byte_order() {
        use crate::text::Utf16;
        let t = parse_secrets_file(b"k3y-Zr8kqWm2Lp9x==>R\n", "x").unwrap();
        let r = Replacer::new(&t).unwrap();
        for order in Utf16::BOTH {
            let stored = |s: &str| {
                let mut v = order.bom().to_vec();
                v.extend(order.encode(s.as_bytes()));
                v
            };
            let data = stored("a = 'k3y-Zr8kqWm2Lp9x'\n");
            assert_eq!(r.mask(&data), 1);
            assert_eq!(r.replace(&data).unwrap(), stored("a = 'R'\n"));
            // Base64 of the value inside UTF-16 text: replaced decoded, stored back.
            let b64 = "azN5LVpyOGtxV20yTHA5eA==";
            let data = stored(&format!("v: {b64}\n"));
            assert_eq!(r.mask(&data), 1);
            assert_eq!(r.replace(&data).unwrap(), stored("v: Ug==\n"));
            // Without a mark: the literal forms still.
            let bare = order.encode(b"x k3y-Zr8kqWm2Lp9x");
            assert_eq!(r.replace(&bare).unwrap(), order.encode(b"x R"));
        }
    }

    #[test]
    fn remove_set_names_and_paths() {
        let r = RemoveSet::new(&[".env.production".into(), "secrets/*.pem".into()]).unwrap();
        assert!(r.matches(b"a/b/.env.production", b".env.production"));
        assert!(r.matches(b"secrets/k.pem", b"k.pem"));
        assert!(!r.matches(b"other/k.pem", b"k.pem"));
    }
}
