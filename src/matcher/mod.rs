//! The compiled rule set: what turns bytes into matches.
//!
//! Cheap filter first (ripgrep's lesson): one Aho-Corasick automaton over every rule's keywords,
//! ASCII case-insensitive, finds candidate rules and where they might match. Only the triggered
//! rules run their regex, and only on the lines around each keyword hit (or the whole blob for
//! multi-line rules such as PEM keys). Entropy, placeholder, allowlist and validator checks run last,
//! on the captured secret alone. Regexes are compiled lazily, the first time a rule's keywords hit,
//! so a scan of a few small files (a pre-commit hook) compiles almost nothing.
//!
//! The matcher sees bytes and an optional path; it knows nothing of files or git. It is `Sync`:
//! worker threads share one `Matcher`.

pub mod allow;
pub mod filters;
pub mod flow;
pub mod jwt_link;
mod keywords;
mod prefilter;
#[cfg(test)]
mod tests;
mod trigrams;
pub mod validate;

use crate::error::Error;
use crate::finding::Confidence;
use crate::rules::{KeywordGuard, Rule};
use base64::Engine;
use prefilter::Prefilter;
use regex::bytes::{Regex, RegexBuilder};
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use validate::Verdict;

/// A rule compiled for matching.
pub struct CompiledRule {
    pub rule: Rule,
    regex: OnceLock<Result<Regex, Error>>,
    allow_regexes: OnceLock<Vec<Regex>>,
    stopwords: Vec<Vec<u8>>,
    paths: Option<globset::GlobSet>,
    /// The files whose whole content the rule reads without a keyword ([`Rule::files`]).
    files: Option<globset::GlobSet>,
    /// [`Rule::is_generic`], decided once: the prefilter loop asks it for every keyword hit.
    generic: bool,
    /// The rule's [`KeywordGuard`], compiled.
    guard: Option<Guard>,
    /// Values the rule's filters reject are kept as evidence: they may sign a token of the scan
    /// ([`jwt_link::may_sign`]).
    keeps_rejected: bool,
    /// The regex captures its secret with the shared `%VALUE%` fragment (a value assigned to a
    /// name): the capture is then extended to the closing quote, or cut where its syntax ends.
    assigned_value: bool,
}

/// A [`KeywordGuard`] as byte tables.
#[derive(Debug, Clone)]
pub struct Guard {
    not_after: Option<[bool; 256]>,
    line_start: bool,
    then: Option<[bool; 256]>,
    stop: [bool; 256],
    word_prefix: Option<(Vec<u8>, [bool; 256])>,
    followed_by: Vec<memchr::memmem::Finder<'static>>,
    /// Lines after the hit's line that `followed_by` may reach (the rule's `context_lines`).
    continued_lines: usize,
    /// The rule's regex also takes the other forms of an assignment (`ENV NAME value`,
    /// `Setenv("NAME", "value")`, [`crate::rules::has_assignment_forms`]), which `then` does not
    /// see: a hit `then` fails still passes in one of them.
    other_forms: bool,
}

impl Guard {
    pub fn compile(g: &KeywordGuard, context_lines: usize) -> Result<Guard, String> {
        if g.followed_by.iter().any(String::is_empty) {
            return Err("followed_by holds an empty string".into());
        }
        let word_prefix = match &g.word_prefix {
            Some(p) if p.is_empty() || g.word.is_empty() => {
                return Err("word_prefix needs a non-empty prefix and `word`".into())
            }
            Some(p) => Some((p.as_bytes().to_vec(), byte_set(&g.word)?)),
            None => None,
        };
        let then = match g.then.as_deref() {
            Some(t) if t.is_empty() || t.contains('\n') => {
                return Err("then needs one or more characters, no newline".into())
            }
            Some(t) => Some(byte_set(t)?),
            None => None,
        };
        let mut stop = byte_set(&g.stop)?;
        stop[usize::from(b'\n')] = true;
        if then.is_none() && !g.stop.is_empty() {
            return Err("stop without then".into());
        }
        Ok(Guard {
            not_after: g.not_after.as_deref().map(byte_set).transpose()?,
            line_start: g.line_start,
            then,
            stop,
            word_prefix,
            followed_by: g
                .followed_by
                .iter()
                .map(|f| memchr::memmem::Finder::new(f.as_bytes()).into_owned())
                .collect(),
            continued_lines: context_lines,
            other_forms: false,
        })
    }

    /// The hit's line from `end` on, and the lines it continues onto (a trailing `\`), at most
    /// `continued_lines` of them.
    fn logical_line(&self, data: &[u8], end: usize) -> usize {
        let mut stop = end;
        for _ in 0..=self.continued_lines {
            stop = memchr::memchr(b'\n', &data[stop..]).map_or(data.len(), |i| stop + i);
            let line = data[..stop].strip_suffix(b"\r").unwrap_or(&data[..stop]);
            if stop == data.len() || !line.ends_with(b"\\") {
                break;
            }
            stop += 1;
        }
        stop
    }

    /// Whether the regex can match at the keyword hit `start..end` of `data`.
    pub fn passes(&self, data: &[u8], start: usize, end: usize) -> bool {
        if let (Some(set), Some(&b)) = (&self.not_after, start.checked_sub(1).map(|i| &data[i])) {
            if set[usize::from(b)] {
                return false;
            }
        }
        if self.line_start
            && !data[..start]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .all(|&b| b == b' ' || b == b'\t')
        {
            return false;
        }
        if let Some((prefix, word)) = &self.word_prefix {
            let begins = data[..start]
                .iter()
                .rposition(|&b| !word[usize::from(b)])
                .map_or(0, |i| i + 1);
            if !data[begins..].starts_with(prefix) {
                return false;
            }
        }
        if !self.followed_by.is_empty() {
            let rest = &data[end..self.logical_line(data, end)];
            if !self.followed_by.iter().any(|f| f.find(rest).is_some()) {
                return false;
            }
        }
        match &self.then {
            Some(then) => {
                data[end..]
                    .iter()
                    .find(|&&b| then[usize::from(b)] || self.stop[usize::from(b)])
                    .is_some_and(|&b| then[usize::from(b)])
                    || self.other_forms
                        && (crate::rules::quoted_first_argument(&data[end..])
                            || crate::rules::after_directive(data, start))
            }
            None => true,
        }
    }
}

/// The bytes of a set written as ASCII characters and `a-z` ranges (a `-` first or last is
/// itself).
fn byte_set(spec: &str) -> Result<[bool; 256], String> {
    if !spec.is_ascii() {
        return Err(format!("{spec:?} holds a character outside ASCII"));
    }
    let b = spec.as_bytes();
    let mut set = [false; 256];
    let mut i = 0;
    while i < b.len() {
        if i + 2 < b.len() && b[i + 1] == b'-' {
            if b[i] > b[i + 2] {
                return Err(format!(
                    "range {}-{} is backwards",
                    b[i] as char,
                    b[i + 2] as char
                ));
            }
            for c in b[i]..=b[i + 2] {
                set[usize::from(c)] = true;
            }
            i += 3;
        } else {
            set[usize::from(b[i])] = true;
            i += 1;
        }
    }
    Ok(set)
}

/// Chosen passwords and signing keys shorter than this are noted as weak.
const WEAK_BELOW: usize = 12;

/// The secret group of the shared `%VALUE%` fragment once expanded (`src/rules/template.rs`).
const VALUE_CAPTURE: &str = r#"(?P<secret>[^\s"'`,;\\]+)"#;

impl CompiledRule {
    fn new(rule: Rule) -> Result<Self, Error> {
        let stopwords = rule
            .allowlist
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase().into_bytes())
            .collect();
        Ok(CompiledRule {
            paths: glob_set(&rule, "path", &rule.allowlist.paths)?,
            files: glob_set(&rule, "files", &rule.files)?,
            generic: rule.is_generic(),
            guard: match &rule.keyword_guard {
                Some(g) => {
                    let mut guard =
                        Guard::compile(g, rule.context_lines).map_err(|message| Error::Rule {
                            file: rule.source_file.clone(),
                            rule: rule.id.clone(),
                            message: format!("keyword_guard: {message}"),
                        })?;
                    guard.other_forms = crate::rules::has_assignment_forms(&rule.regex);
                    Some(guard)
                }
                None => None,
            },
            keeps_rejected: jwt_link::may_sign(&rule),
            assigned_value: rule.regex.contains(VALUE_CAPTURE),
            rule,
            regex: OnceLock::new(),
            allow_regexes: OnceLock::new(),
            stopwords,
        })
    }

    /// The rule's regex, compiled on first use.
    pub fn regex(&self) -> Result<&Regex, &Error> {
        self.regex
            .get_or_init(|| {
                compile_rule_regex(&self.rule.regex).map_err(|error| Error::RuleRegex {
                    rule: self.rule.id.clone(),
                    error,
                })
            })
            .as_ref()
    }

    fn allow_regexes(&self) -> &[Regex] {
        self.allow_regexes.get_or_init(|| {
            // Validated at load, so every pattern compiles.
            self.rule
                .allowlist
                .regexes
                .iter()
                .filter_map(|r| Regex::new(r).ok())
                .collect()
        })
    }
}

/// The set of `globs` (the rule's `key` list: `path` for its allowlist, `files`), or `None`
/// when there are none.
fn glob_set(
    rule: &Rule,
    key: &'static str,
    globs: &[String],
) -> Result<Option<globset::GlobSet>, Error> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in globs {
        b.add(globset::Glob::new(p).map_err(|e| Error::RuleGlob {
            rule: rule.id.clone(),
            key,
            glob: p.clone(),
            message: e.to_string(),
        })?);
    }
    b.build().map(Some).map_err(|e| Error::RuleGlobSet {
        rule: rule.id.clone(),
        message: e.to_string(),
    })
}

/// Compiles a rule's regex as the matcher runs it (bytes, no Unicode classes, bounded size).
/// User rules are compiled once at load with this, so a regex over the size limit is an error
/// there rather than a rule that never matches.
pub fn compile_rule_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(50 << 20)
        .dfa_size_limit(20 << 20)
        .build()
}

/// What a caller makes of one match (see [`Matcher::scan_judged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Reported: counts toward the findings limit.
    Keep,
    /// Suppressed by an inline allow comment (counted as such).
    Suppressed,
    /// Not reported for any other reason (an allowlist, a line the mode does not report).
    Dropped,
}

/// A secret the matcher found in a buffer.
#[derive(Debug, Clone)]
pub struct Match {
    /// Index of the rule in [`Matcher::rules`].
    pub rule: usize,
    /// Byte span of the secret in the buffer.
    pub span: Range<usize>,
    pub entropy: f64,
    pub confidence: Confidence,
    pub notes: Vec<(String, String)>,
}

/// Scan-wide settings beyond the rules, from `.leaksweep.toml` and the command line. They travel
/// with the matcher so that every source and command built on it gets them without extra wiring.
#[derive(Clone)]
pub struct MatchOptions {
    /// Layers of base64/percent encoding the scanner peels off encoded values (0 disables).
    pub decode_depth: usize,
    /// Project allowlists (global and per rule).
    pub allow: Arc<allow::Allowlists>,
    /// Matches kept per buffer: past it, [`Matcher::scan`] stops and marks the scratch
    /// truncated, so a data dump with millions of secrets costs bounded memory. Only matches
    /// the caller keeps count ([`Matcher::scan_judged`]).
    pub max_findings: usize,
}

/// Default of `--max-findings-per-file`.
pub const DEFAULT_MAX_FINDINGS: usize = 1000;

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            decode_depth: 2,
            max_findings: DEFAULT_MAX_FINDINGS,
            allow: Arc::new(allow::Allowlists::default()),
        }
    }
}

/// Every rule, compiled, with the keyword prefilter.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    prefilter: Prefilter,
    options: MatchOptions,
    /// The `jwt-signing-call` rule, when loaded: keys that reach a signing call through a name
    /// are reported under it (see [`flow`]).
    signing_rule: Option<usize>,
    /// Keep the candidates the built-in filters reject in [`Scratch::filtered`].
    show_filtered: bool,
}

/// Reusable per-thread buffers for [`Matcher::scan`].
#[derive(Default)]
pub struct Scratch {
    windows: Vec<Vec<Range<usize>>>,
    triggered: Vec<usize>,
    /// The keyword hits of the blob being scanned: (keyword, start, end).
    hits: Vec<(usize, usize, usize)>,
    /// Set when a scan stopped at `max_findings`; cleared by [`Scratch::take_truncated`].
    truncated: bool,
    /// The values of the last [`Matcher::scan_judged`] that a filter rejected, of rules that may
    /// sign tokens (see [`jwt_link`]): at most [`jwt_link::MAX_REJECTED_PER_BLOB`].
    pub(crate) rejected: Vec<Rejected>,
    /// With [`Matcher::show_filtered`]: every candidate of the last [`Matcher::scan_judged`] a
    /// built-in filter rejected, one per value (overlaps resolved as for matches), none where a
    /// match is; at most `max_findings` of them.
    pub(crate) filtered: Vec<(usize, Range<usize>, Filter)>,
}

/// A value a filter of [`Matcher::check`] rejected: rule index, span in the buffer, the filter.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub rule: usize,
    pub span: Range<usize>,
    pub filter: &'static str,
}

/// The built-in filter that judged a candidate not to be a leak (see [`Matcher::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Shorter than the rule's `min_len`.
    TooShort,
    /// Below the rule's entropy floor.
    LowEntropy,
    /// A vendor's documented example value (`AKIAIOSFODNN7EXAMPLE`).
    ExampleValue,
    /// A token whose embedded checksum fails (GitHub, npm, GitLab, Grafana, age), whatever rule
    /// matched it.
    KnownChecksum,
    /// A placeholder or template: `changeme`, `your-api-key`, `xxxx`, `${VAR}`, an env lookup.
    Placeholder,
    /// Words of prose, not a drawn value.
    NaturalLanguage,
    /// Encoded text (hex or base64 of readable text).
    EncodedText,
    /// UI text of a translation or message bundle.
    ResourceText,
    /// An unquoted name in source code (a variable, not a literal).
    Identifier,
    /// A weak development default (`secret`, `password123`).
    DevelopmentDefault,
    /// A weak value that is also another field of its line (a user name), or a URI's password
    /// equal to its user name.
    DefaultAccount,
    /// The rule's validator rejected it.
    Validator(crate::rules::Validator),
}

impl Filter {
    /// The stable kebab-case name reports show (`--show-filtered`).
    pub fn reason(self) -> &'static str {
        use crate::rules::Validator as V;
        match self {
            Filter::TooShort => "too-short",
            Filter::LowEntropy => "low-entropy",
            Filter::ExampleValue => "example-value",
            Filter::KnownChecksum => "checksum-failed",
            Filter::Placeholder => "placeholder",
            Filter::NaturalLanguage => "natural-language",
            Filter::EncodedText => "encoded-text",
            Filter::ResourceText => "resource-text",
            Filter::Identifier => "identifier",
            Filter::DevelopmentDefault => "development-default",
            Filter::DefaultAccount => "default-account",
            Filter::Validator(
                V::GithubCrc32 | V::NpmCrc32 | V::AgeBech32 | V::Grafana | V::GitlabRoutable,
            ) => "checksum-failed",
            Filter::Validator(_) => "invalid-format",
        }
    }

    /// The filter as a promoted value's note names it ([`jwt_link::promote`]), or `None` for a
    /// decision a token does not overturn (a documented example, a failed checksum).
    fn guess(self) -> Option<&'static str> {
        Some(match self {
            Filter::ExampleValue | Filter::KnownChecksum => return None,
            Filter::TooShort | Filter::LowEntropy => "length/entropy floor",
            Filter::Validator(_) => "validator",
            other => other.reason(),
        })
    }
}

/// Records `span` as rejected by `filter` when rule `cr` keeps such values, within the bounds.
/// A value assigned unquoted in source code is a name or an expression, whose value is elsewhere:
/// it cannot be a key, and is not recorded.
fn note_rejected(
    out: &mut Vec<Rejected>,
    cr: &CompiledRule,
    rule: usize,
    span: Range<usize>,
    filter: Option<Filter>,
    ctx: &Context,
) {
    let name = cr.assigned_value && !ctx.quoted && ctx.code_file;
    let filter = filter.and_then(Filter::guess);
    if let Some(filter) = filter.filter(|_| cr.keeps_rejected && !name) {
        if out.len() < jwt_link::MAX_REJECTED_PER_BLOB
            && (1..=jwt_link::MAX_REJECTED_LEN).contains(&span.len())
        {
            out.push(Rejected { rule, span, filter });
        }
    }
}

impl Scratch {
    /// Whether a scan since the last call stopped early at the findings limit.
    pub fn take_truncated(&mut self) -> bool {
        std::mem::take(&mut self.truncated)
    }
    /// Records that a scan stopped early at the findings limit.
    pub fn mark_truncated(&mut self) {
        self.truncated = true;
    }
}

impl Matcher {
    /// Builds the prefilter over `rules`' keywords. Regexes are compiled lazily.
    pub fn new(rules: Vec<Rule>) -> Result<Self, Error> {
        let compiled = rules
            .into_iter()
            .map(CompiledRule::new)
            .collect::<Result<Vec<_>, _>>()?;
        let prefilter = Prefilter::new(&compiled)?;
        let signing_rule = compiled
            .iter()
            .position(|c| c.rule.id == "jwt-signing-call");
        Ok(Matcher {
            signing_rule,
            show_filtered: false,
            rules: compiled,
            prefilter,
            options: MatchOptions::default(),
        })
    }

    /// How many keyword hits `data` holds: the prefilter's search alone, without the windows,
    /// regexes or judgement (for the benchmarks).
    #[doc(hidden)]
    pub fn keyword_hits(&self, data: &[u8]) -> usize {
        self.prefilter.count_hits(data)
    }

    /// Replaces the scan-wide options.
    pub fn with_options(mut self, options: MatchOptions) -> Self {
        self.options = options;
        self
    }

    /// Keeps, or stops keeping, the candidates the built-in filters reject, for
    /// `--show-filtered` ([`Scratch::filtered`]).
    pub fn show_filtered(mut self, on: bool) -> Self {
        self.show_filtered = on;
        self
    }

    /// Whether [`Matcher::show_filtered`] is on.
    pub fn shows_filtered(&self) -> bool {
        self.show_filtered
    }

    pub fn options(&self) -> &MatchOptions {
        &self.options
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Whether rule `id`'s own path allowlist matches `path`.
    pub fn rule_path_matches(&self, id: &str, path: &str) -> bool {
        self.rules
            .iter()
            .any(|cr| cr.rule.id == id && cr.paths.as_ref().is_some_and(|p| p.is_match(path)))
    }

    /// Whether some rule's own path allowlist matches `path`.
    pub fn rule_paths_match(&self, path: &str) -> bool {
        self.rules
            .iter()
            .any(|cr| cr.paths.as_ref().is_some_and(|p| p.is_match(path)))
    }

    pub fn rule(&self, i: usize) -> &Rule {
        &self.rules[i].rule
    }

    /// Finds every secret in `data`. `path` (if any) is used for path allowlists only.
    pub fn scan(&self, data: &[u8], path: Option<&str>, scratch: &mut Scratch) -> Vec<Match> {
        self.scan_judged(data, path, scratch, &mut |_, _| Judgement::Keep)
            .0
    }

    /// [`Matcher::scan`], with `judge` deciding for each match (rule index, span) whether the
    /// caller reports it. The `max_findings` limit counts only kept matches, so matches a caller
    /// filters out (old lines, inline allows, allowlists) cannot use it up. Matches judged out
    /// still take part in overlap resolution (a filtered provider match still hides the generic
    /// match of the same value), up to a bound past which they are forgotten (which can only add
    /// findings, never hide one). Returns the kept matches and how many of those resolved were
    /// [`Judgement::Suppressed`].
    pub fn scan_judged(
        &self,
        data: &[u8],
        path: Option<&str>,
        scratch: &mut Scratch,
        judge: &mut dyn FnMut(usize, Range<usize>) -> Judgement,
    ) -> (Vec<Match>, usize) {
        let mut out: Vec<(Match, Judgement)> = Vec::new();
        scratch.rejected.clear();
        scratch.filtered.clear();
        if data.is_empty() {
            return (Vec::new(), 0);
        }
        self.prefilter.collect_windows(&self.rules, data, scratch);
        self.prefilter
            .add_file_rules(&self.rules, data, path, scratch);
        // Room for matches that overlap resolution will drop (one value found by several rules).
        let cap = self.options.max_findings.saturating_mul(2).max(16);
        let shadow_cap = self.options.max_findings.saturating_mul(16).max(256);
        let (mut kept, mut shadows, mut suppressed) = (0usize, 0usize, 0usize);
        // What the path says about the file's syntax, once per buffer rather than per candidate.
        let code_file = path.is_some_and(is_code_file);
        let literal = path.is_some_and(filters::literal_syntax);
        let text_resource = path.is_some_and(allow::is_text_resource);
        'rules: for &ri in &scratch.triggered {
            let cr = &self.rules[ri];
            if let (Some(paths), Some(p)) = (&cr.paths, path) {
                if paths.is_match(p) {
                    continue;
                }
            }
            let Ok(regex) = cr.regex() else { continue };
            for w in &scratch.windows[ri] {
                for caps in regex.captures_iter(&data[w.clone()]) {
                    let Some(m) = caps.name("secret") else {
                        continue;
                    };
                    let mut span = w.start + m.start()..w.start + m.end();
                    let mut quoted = false;
                    if cr.assigned_value {
                        (span, quoted) = value_extent(data, span);
                        span = template_default(data, span);
                        // `@Value("${jwt.secret:...}")`: the default of a reference is a
                        // literal, even unquoted in source code.
                        quoted |= is_reference_default(data, &span);
                        if span.is_empty() {
                            continue;
                        }
                    }
                    // A URI whose password equals its user name (`postgres:postgres@`) is a default.
                    if caps
                        .name("user")
                        .is_some_and(|u| u.as_bytes().eq_ignore_ascii_case(&data[span.clone()]))
                    {
                        self.note_filtered(
                            &mut scratch.filtered,
                            ri,
                            &span,
                            Some(Filter::DefaultAccount),
                            cap,
                        );
                        continue;
                    }
                    let host = caps.name("host").map(|h| h.as_bytes());
                    let random = caps
                        .name("random")
                        .map(|r| w.start + r.start()..w.start + r.end())
                        .filter(|r| span.start <= r.start && r.end <= span.end);
                    let ctx = Context {
                        quoted,
                        code_file,
                        literal,
                        strong: self.strong_context(ri, path, host),
                        text_resource,
                        random,
                    };
                    let mut found = match self.check(ri, data, span.clone(), &ctx) {
                        Ok(found) => found,
                        Err(filter) => {
                            self.note_filtered(&mut scratch.filtered, ri, &span, filter, cap);
                            note_rejected(&mut scratch.rejected, cr, ri, span, filter, &ctx);
                            continue;
                        }
                    };
                    if host.is_some_and(|h| is_local_host(h) || is_documentation_host(h)) {
                        found.confidence = Confidence::Low;
                    }
                    let verdict = judge(ri, found.span.clone());
                    if verdict == Judgement::Keep {
                        kept += 1;
                    } else if shadows < shadow_cap {
                        shadows += 1;
                    } else {
                        suppressed += usize::from(verdict == Judgement::Suppressed);
                        continue;
                    }
                    out.push((found, verdict));
                    if kept >= cap {
                        scratch.truncated = true;
                        break 'rules;
                    }
                }
            }
        }
        if out.len() < cap {
            self.signing_flow(data, path, scratch, judge, &mut out);
        }
        resolve_overlaps(&mut out, &self.rules, |(m, _)| (m.rule, &m.span));
        if !scratch.filtered.is_empty() {
            self.resolve_filtered(&mut scratch.filtered, &out);
        }
        suppressed += out
            .iter()
            .filter(|(_, v)| *v == Judgement::Suppressed)
            .count();
        let mut out: Vec<Match> = out
            .into_iter()
            .filter(|(_, v)| *v == Judgement::Keep)
            .map(|(m, _)| m)
            .collect();
        if out.len() > self.options.max_findings {
            out.truncate(self.options.max_findings);
            scratch.truncated = true;
        }
        (out, suppressed)
    }

    /// Keeps candidate `span` of rule `ri`, rejected by `filter`, in `out` ([`Scratch::filtered`])
    /// when [`Matcher::show_filtered`] is on, up to `cap` of them (a branch on a rejection
    /// otherwise).
    fn note_filtered(
        &self,
        out: &mut Vec<(usize, Range<usize>, Filter)>,
        ri: usize,
        span: &Range<usize>,
        filter: Option<Filter>,
        cap: usize,
    ) {
        if let Some(filter) = filter.filter(|_| self.show_filtered) {
            if out.len() < cap {
                out.push((ri, span.clone(), filter));
            }
        }
    }

    /// Leaves in `filtered` one candidate per value (the rule of highest priority, as
    /// [`resolve_overlaps`] picks among matches), none overlapping a match in `matches` (a value
    /// reported, allowlisted or allowed inline is not shown again as filtered), at most
    /// `max_findings`, in order of position.
    fn resolve_filtered(
        &self,
        filtered: &mut Vec<(usize, Range<usize>, Filter)>,
        matches: &[(Match, Judgement)],
    ) {
        filtered.retain(|(_, span, _)| {
            !matches
                .iter()
                .any(|(m, _)| m.span.start < span.end && span.start < m.span.end)
        });
        resolve_overlaps(filtered, &self.rules, |(rule, span, _)| (*rule, span));
        filtered.truncate(self.options.max_findings);
    }

    /// Reports the string literals that a signing call in `data` receives through a name
    /// (`jwt.sign(p, secret)` with `var secret = '...'` elsewhere in the file).
    fn signing_flow(
        &self,
        data: &[u8],
        path: Option<&str>,
        scratch: &mut Scratch,
        judge: &mut dyn FnMut(usize, Range<usize>) -> Judgement,
        out: &mut Vec<(Match, Judgement)>,
    ) {
        let Some(ri) = self.signing_rule else { return };
        if !scratch.triggered.contains(&ri) {
            return;
        }
        let ctx = Context {
            quoted: true,
            code_file: path.is_some_and(is_code_file),
            literal: false,
            strong: !path.is_some_and(allow::is_test_path),
            text_resource: false,
            random: None,
        };
        for (span, name, at) in flow::keys_passed_to_signing_calls(data, &scratch.windows[ri]) {
            if out.iter().any(|(m, _)| m.span == span && m.rule == ri) {
                continue;
            }
            let mut found = match self.check(ri, data, span.clone(), &ctx) {
                Ok(found) => found,
                Err(filter) => {
                    let cap = self.options.max_findings.saturating_mul(2).max(16);
                    self.note_filtered(&mut scratch.filtered, ri, &span, filter, cap);
                    let cr = &self.rules[ri];
                    note_rejected(&mut scratch.rejected, cr, ri, span, filter, &ctx);
                    continue;
                }
            };
            let line = 1 + memchr::memchr_iter(b'\n', &data[..at.min(data.len())]).count();
            found.notes.push((
                "context".into(),
                format!("passed to a signing call as `{name}` at line {line}"),
            ));
            let verdict = judge(ri, found.span.clone());
            out.push((found, verdict));
        }
    }

    /// Whether the place rule `ri` matched is strong evidence by itself, so that a short or
    /// low-entropy value is reported (as weak) instead of dropped: a signing-key name or signing
    /// call, a URI to a host that is not local, a password name in a configuration file. Never
    /// in test or example paths.
    fn strong_context(&self, ri: usize, path: Option<&str>, host: Option<&[u8]>) -> bool {
        if path.is_some_and(allow::is_test_path) {
            return false;
        }
        let rule = &self.rules[ri].rule;
        if let Some(h) = host {
            return !is_local_host(h) && !is_documentation_host(h);
        }
        if path.is_some_and(allow::is_text_resource) {
            return false;
        }
        if matches!(rule.category.as_str(), "jwt-secret" | "nextauth") {
            return true;
        }
        rule.rotation == crate::rules::RotationKind::Password && path.is_some_and(is_config_file)
    }

    /// Applies the secret-level checks of rule `ri` to `span`. A value turned down is `Err`
    /// with the filter that rejected it, or `None` when it is no candidate at all (it does not
    /// decode, the rule's allowlist or stopwords name it: the rule's own decisions).
    fn check(
        &self,
        ri: usize,
        data: &[u8],
        span: Range<usize>,
        ctx: &Context,
    ) -> Result<Match, Option<Filter>> {
        let cr = &self.rules[ri];
        let rule = &cr.rule;
        let raw = &data[span.clone()];
        let decoded;
        let secret: &[u8] = match rule.decode.as_deref() {
            Some("base64") => {
                decoded = base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .map_err(|_| None)?;
                if decoded.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
                    return Err(None);
                }
                &decoded
            }
            _ => raw,
        };
        // The part drawn at random (`(?P<random>...)`: a bot token's secret after its numeric bot
        // id) is what the entropy and placeholder checks judge; the rest is a fixed layout or an
        // identifier that may well read like a typed run (`1234567890:`).
        let drawn: &[u8] = match (&ctx.random, rule.decode.is_none()) {
            (Some(r), true) => &data[r.clone()],
            _ => secret,
        };
        let entropy = filters::shannon_entropy(drawn);
        // Below the rule's floors a value is still reported where the context is strong: a weak
        // leaked password is worse than a strong one.
        let below = filters::char_len(secret) < rule.min_len || entropy < rule.entropy;
        if below && !ctx.strong {
            return Err(Some(if filters::char_len(secret) < rule.min_len {
                Filter::TooShort
            } else {
                Filter::LowEntropy
            }));
        }
        // Passwords and signing keys people chose: short ones are said to be weak.
        let chosen = rule.rotation == crate::rules::RotationKind::Password
            || matches!(rule.category.as_str(), "jwt-secret" | "nextauth");
        let weak = below || (chosen && filters::char_len(secret) < WEAK_BELOW);
        if filters::is_vendor_example(secret) {
            return Err(Some(Filter::ExampleValue));
        }
        if validate::fails_known_checksum(secret) {
            return Err(Some(Filter::KnownChecksum));
        }
        if !rule.no_placeholder_check {
            let placeholder = if ctx.literal {
                filters::is_literal_placeholder(drawn)
            } else {
                filters::is_placeholder(drawn)
            };
            if placeholder {
                return Err(Some(Filter::Placeholder));
            }
            if filters::is_natural_language(drawn) {
                return Err(Some(Filter::NaturalLanguage));
            }
            if filters::is_encoded_text(drawn) {
                return Err(Some(Filter::EncodedText));
            }
            if ctx.text_resource && filters::is_resource_text(drawn) {
                return Err(Some(Filter::ResourceText));
            }
            // Unquoted in source code, a bare name is a variable or constant, not a literal.
            if cr.assigned_value && !ctx.quoted && ctx.code_file && filters::is_identifier(secret) {
                return Err(Some(Filter::Identifier));
            }
            if below && filters::is_dev_default(secret) {
                return Err(Some(Filter::DevelopmentDefault));
            }
            // `<user username="tomcat" password="tomcat"/>`: a weak value that is also another
            // field of its line (the user name) is a default account.
            if weak && repeats_on_line(data, &span) {
                return Err(Some(Filter::DefaultAccount));
            }
        }
        if !cr.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if cr
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
            {
                return Err(None);
            }
        }
        if cr.allow_regexes().iter().any(|r| r.is_match(secret)) {
            return Err(None);
        }
        let (confidence, mut notes) = match rule.validator {
            Some(v) => match validate::run(v, secret) {
                Verdict::Reject => return Err(Some(Filter::Validator(v))),
                Verdict::Accept { confidence, notes } => (confidence, notes),
            },
            None => (Confidence::Medium, Vec::new()),
        };
        if weak {
            notes.push((
                "strength".into(),
                format!(
                    "weak: {} characters, {:.1} bits of entropy per character",
                    filters::char_len(secret),
                    entropy
                ),
            ));
        }
        Ok(Match {
            rule: ri,
            span,
            entropy,
            confidence,
            notes,
        })
    }
}

/// What the matcher knows of the place a value was captured, beyond the rule.
pub(crate) struct Context {
    /// The value stood between quotes (a string literal, not a name).
    pub quoted: bool,
    /// The file is source code (where an unquoted word is an identifier).
    pub code_file: bool,
    /// The file's syntax has no expressions ([`filters::literal_syntax`]): a value shaped like
    /// code is a literal there.
    pub literal: bool,
    /// See [`Matcher::strong_context`].
    pub strong: bool,
    /// The file holds UI text (a translation or message bundle).
    pub text_resource: bool,
    /// The span of the rule's `random` group inside the secret, when it has one.
    pub random: Option<Range<usize>>,
}

/// Longest quoted value searched for its closing quote (no secret is near this long).
const MAX_QUOTED: usize = 64 << 10;

/// Where a value captured by the shared `%VALUE%` fragment ends, and whether it was quoted.
///
/// Inside quotes the value runs to the closing quote on the same line (a passphrase holds
/// spaces; a password holds `,` or `;`), a backslash escaping the next character. An escaped
/// opening quote (`\"`: JSON inside a string literal) is closed by the same escaped quote.
/// Unquoted, it ends where its syntax does: before `&name=` (the next parameter of a query
/// string), and before closing brackets it did not open and a final `.` or `:` (prose: `Admin_1).`).
///
/// The search for the closing quote is not bounded by the window the match was found in: a value
/// continued over an escaped newline ends where it ends, whatever other keywords (or keyword
/// guards) opened or did not open windows around it. It is bounded by [`MAX_QUOTED`], so a file
/// of escaped newlines costs each candidate at most that much.
fn value_extent(data: &[u8], span: Range<usize>) -> (Range<usize>, bool) {
    let limit = data.len().min(span.start.saturating_add(MAX_QUOTED));
    if let Some(&q) = span.start.checked_sub(1).and_then(|i| data.get(i)) {
        if matches!(q, b'"' | b'\'' | b'`') {
            let escapes = data[..span.start - 1]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count();
            return match closing_quote(&data[span.start..limit], q, escapes) {
                Some(len) => (span.start..span.start + len, true),
                // No closing quote on the line: the capture stands as it was.
                None => (span, false),
            };
        }
    }
    let v = &data[span.clone()];
    let mut end = v.len();
    // `pw&next=1`: a query-string parameter follows.
    if let Some(i) = (0..v.len()).find(|&i| {
        v[i] == b'&' && {
            let name = v[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                .count();
            name > 0 && v.get(i + 1 + name) == Some(&b'=')
        }
    }) {
        end = i;
    }
    while let Some(&last) = v[..end].last() {
        let opener = match last {
            b')' => Some(b'('),
            b']' => Some(b'['),
            b'}' => Some(b'{'),
            b'.' | b':' => None,
            _ => break,
        };
        if let Some(o) = opener {
            let opened = v[..end].iter().filter(|&&b| b == o).count();
            let closed = v[..end].iter().filter(|&&b| b == last).count();
            if opened >= closed {
                break;
            }
        }
        end -= 1;
    }
    (span.start..span.start + end, false)
}

/// The default of a value that is a reference with a default (`${JWT_SECRET:…}` in Spring,
/// `${DB_PASS:-…}` in a shell or Compose file): the default is the literal, the rest names
/// where it would come from. Any other value stands as it is.
fn template_default(data: &[u8], span: Range<usize>) -> Range<usize> {
    let v = &data[span.clone()];
    let Some(inner) = v.strip_prefix(b"${").and_then(|v| v.strip_suffix(b"}")) else {
        return span;
    };
    let name = inner.iter().take_while(|&&b| is_reference_name(b)).count();
    let Some(sep) = [&b":-"[..], b":"]
        .into_iter()
        .find(|s| name > 0 && inner[name..].starts_with(s))
    else {
        return span;
    };
    let default = &inner[name + sep.len()..];
    if default.is_empty() || default.contains(&b'{') || default.contains(&b'}') {
        return span;
    }
    let start = span.start + 2 + name + sep.len();
    start..start + default.len()
}

/// A byte of the variable's name in a reference (`${jwt.secret:…}`, `${DB_PASS:-…}`).
fn is_reference_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Whether `span` is the default of a reference: after `${NAME:` or `${NAME:-`, before `}`.
fn is_reference_default(data: &[u8], span: &Range<usize>) -> bool {
    if data.get(span.end) != Some(&b'}') {
        return false;
    }
    let before = &data[..span.start];
    let before = before.strip_suffix(b"-").unwrap_or(before);
    let Some(before) = before.strip_suffix(b":") else {
        return false;
    };
    let name = before
        .iter()
        .rev()
        .take_while(|&&b| is_reference_name(b))
        .count();
    name > 0 && before[..before.len() - name].ends_with(b"${")
}

/// Length of a quoted value (`rest` starts after its opening quote `q`) up to its closing quote
/// on the same line: `q` preceded by as many backslashes as the opening one (`escapes`), or by
/// fewer (the enclosing literal ends there). Elsewhere a backslash (in a plain value) or a run
/// of them (in an escaped one) escapes the character after it.
fn closing_quote(rest: &[u8], q: u8, escapes: usize) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() && rest[i] != b'\n' {
        let run = rest[i..].iter().take_while(|&&b| b == b'\\').count();
        if run <= escapes && rest.get(i + run) == Some(&q) {
            return Some(i);
        }
        i += match (run, escapes) {
            (0, _) => 1,
            (_, 0) => 2,
            _ => run + 1,
        };
    }
    None
}

/// Whether the value at `span` occurs again, as a whole word, on its line.
fn repeats_on_line(data: &[u8], span: &Range<usize>) -> bool {
    let value = &data[span.clone()];
    if value.is_empty() {
        return false;
    }
    let start = memchr::memrchr(b'\n', &data[..span.start]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[span.end..]).map_or(data.len(), |i| span.end + i);
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(&data[start..end], value).any(|i| {
        let (a, b) = (start + i, start + i + value.len());
        a != span.start && (a == 0 || !word(data[a - 1])) && (b >= data.len() || !word(data[b]))
    })
}

/// Source code by extension: there an unquoted word after `=` is a name, not a value.
fn is_code_file(path: &str) -> bool {
    const EXT: &[&str] = &[
        "js", "mjs", "cjs", "jsx", "ts", "tsx", "java", "kt", "kts", "scala", "groovy", "py", "rb",
        "go", "rs", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "m", "mm", "php", "pl", "pm",
        "lua", "dart", "vue", "svelte", "ex", "exs", "erl", "clj", "fs", "vb", "r", "jl",
    ];
    extension(path).is_some_and(|e| EXT.contains(&e.as_str()))
}

/// A configuration file by name or extension: where a password name holds the password.
pub fn is_config_file(path: &str) -> bool {
    const EXT: &[&str] = &[
        "env",
        "yml",
        "yaml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "cnf",
        "config",
        "properties",
        "xml",
        "json",
        "plist",
        "tfvars",
        "sql",
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
    name.starts_with(".env")
        || name.ends_with(".env")
        || matches!(
            name.as_str(),
            ".netrc"
                | "_netrc"
                | ".pgpass"
                | ".npmrc"
                | ".pypirc"
                | ".git-credentials"
                | "wp-config.php"
                | "config.php"
                | "settings.php"
                | "database.php"
                | "configuration.php"
                | "localsettings.php"
                | "parameters.php"
        )
        || extension(path).is_some_and(|e| EXT.contains(&e.as_str()))
}

fn extension(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Host names reserved for documentation and testing (RFC 2606, RFC 6761): `example.com`,
/// `*.example`, `*.test`, `*.invalid`, `*.localhost`.
fn is_documentation_host(host: &[u8]) -> bool {
    let h = host.to_ascii_lowercase();
    let h = h.strip_suffix(b".").unwrap_or(&h);
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| h == d.as_bytes() || h.ends_with(format!(".{d}").as_bytes()))
        || [".example", ".test", ".invalid", ".localhost", ".local"]
            .iter()
            .any(|t| h.ends_with(t.as_bytes()))
        || h == b"example"
}

/// Loopback and container-local host names: credentials for them are usually development defaults.
fn is_local_host(host: &[u8]) -> bool {
    let h = host.to_ascii_lowercase();
    matches!(
        h.as_slice(),
        b"localhost" | b"127.0.0.1" | b"0.0.0.0" | b"[::1]" | b"host.docker.internal"
    )
}

/// Drops a match whose secret overlaps a match of a higher-priority rule, and exact duplicates
/// (the same span found by two rules of equal priority keeps the first rule). `key` gives an
/// item's rule index and span.
fn resolve_overlaps<T>(
    matches: &mut Vec<T>,
    rules: &[CompiledRule],
    key: impl Fn(&T) -> (usize, &Range<usize>),
) {
    if matches.len() < 2 {
        return;
    }
    matches.sort_by(|a, b| {
        let ((ra, a), (rb, b)) = (key(a), key(b));
        a.start
            .cmp(&b.start)
            .then(rules[rb].rule.priority.cmp(&rules[ra].rule.priority))
            .then(ra.cmp(&rb))
    });
    let mut keep = vec![true; matches.len()];
    for i in 0..matches.len() {
        // Sorted by start: only later matches starting before this one ends can overlap it,
        // and earlier ones are checked from their side.
        for j in i + 1..matches.len() {
            let ((ra, a), (rb, b)) = (key(&matches[i]), key(&matches[j]));
            if b.start >= a.end {
                break;
            }
            let (pi, pj) = (rules[ra].rule.priority, rules[rb].rule.priority);
            if pi < pj {
                keep[i] = false;
            } else if pj < pi || a == b {
                keep[j] = false;
            }
        }
    }
    let mut k = keep.into_iter();
    matches.retain(|_| k.next().unwrap_or(true));
}
