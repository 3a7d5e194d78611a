//! Project-level allowlists and path/line context heuristics, applied to findings after the
//! matcher's per-rule checks.
//!
//! Two kinds of knowledge live here. The **allowlists** come from `.leaksweep.toml` (global, and
//! per rule id): path globs, regexes on the secret, regexes on the whole line, and stopwords. They
//! are compiled once per scan and shared by every worker. The **context heuristics** are built in:
//! test-fixture paths lower a finding's severity (they are usually fake, but not always, so they
//! are not hidden), lock files and minified bundles drop findings of the generic rules (integrity
//! hashes and mangled identifiers look random; provider tokens and credentialed URLs found there
//! are still reported).
//!
//! Everything here runs per finding (or once per blob for the path check), never per byte, so it
//! costs nothing on clean input.

use crate::error::Error;
use crate::rules::Severity;
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashMap;

/// An allowlist as written in `.leaksweep.toml` (`[allowlist]` or `[rules.<id>.allowlist]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// Path globs (`docs/**`, `**/*.snap`), relative to the scan root; matching files are skipped.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes tested against the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Regexes tested against the path (as gitleaks' allowlist `paths` are).
    #[serde(default)]
    pub path_regexes: Vec<String>,
    /// Regexes tested against the whole line (or lines) holding the secret.
    #[serde(default)]
    pub lines: Vec<String>,
    /// Case-insensitive substrings of the secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

impl AllowSpec {
    fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.path_regexes.is_empty()
            && self.regexes.is_empty()
            && self.lines.is_empty()
            && self.stopwords.is_empty()
    }
}

/// One compiled [`AllowSpec`].
#[derive(Debug, Default)]
pub struct CompiledAllow {
    paths: Option<globset::GlobSet>,
    path_regexes: Vec<Regex>,
    regexes: Vec<Regex>,
    lines: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
}

impl CompiledAllow {
    /// Compiles `spec`; errors name the offending entry (`where_` says which table it is in).
    pub fn new(spec: &AllowSpec, where_: &str) -> Result<Self, Error> {
        let paths = if spec.paths.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for p in &spec.paths {
                b.add(globset::Glob::new(p).map_err(|e| Error::AllowGlob {
                    table: where_.to_string(),
                    glob: p.clone(),
                    message: e.to_string(),
                })?);
            }
            Some(b.build().map_err(|e| Error::AllowGlobSet {
                table: where_.to_string(),
                message: e.to_string(),
            })?)
        };
        let compile = |list: &[String], key: &'static str| -> Result<Vec<Regex>, Error> {
            list.iter()
                .map(|r| {
                    Regex::new(r).map_err(|error| Error::AllowRegex {
                        table: where_.to_string(),
                        key,
                        regex: r.clone(),
                        error,
                    })
                })
                .collect()
        };
        Ok(CompiledAllow {
            paths,
            path_regexes: compile(&spec.path_regexes, "path_regexes")?,
            regexes: compile(&spec.regexes, "regexes")?,
            lines: compile(&spec.lines, "lines")?,
            stopwords: spec
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect(),
        })
    }

    fn path_matches(&self, path: &str, root: &str, prefix: &str) -> bool {
        if self.paths.is_none() && self.path_regexes.is_empty() {
            return false;
        }
        let rel = if root.is_empty() {
            None
        } else {
            path.strip_prefix(root)
                .and_then(|p| p.strip_prefix('/'))
                .filter(|p| !p.is_empty())
        };
        let one = |p: &str| {
            self.paths.as_ref().is_some_and(|s| s.is_match(p))
                || self.path_regexes.iter().any(|r| r.is_match(p.as_bytes()))
        };
        one(rel.unwrap_or(path))
            || (rel.is_some() && one(path))
            || (!prefix.is_empty() && one(&format!("{prefix}{path}")))
    }

    fn secret_or_line_matches(&self, secret: &[u8], line: &[u8]) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret))
            || self.lines.iter().any(|r| r.is_match(line))
        {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }
}

/// The project's allowlists: global plus per rule id.
#[derive(Debug, Default)]
pub struct Allowlists {
    global: CompiledAllow,
    per_rule: HashMap<String, CompiledAllow>,
    /// The scan root as displayed (`proj` for `leaksweep scan proj`, empty for `.`): path globs
    /// match the displayed path or the path relative to this root.
    root: String,
    /// The scan root below the project root (`src/` for `scan .` run in `src`), or empty:
    /// path globs also match this followed by the displayed path.
    prefix: String,
    /// Files never scanned (the project config itself: its rule examples would match).
    files: Vec<String>,
    empty: bool,
}

impl Allowlists {
    /// Compiles the global and per-rule allowlists. `root` is the scan root as displayed.
    pub fn new(
        global: &AllowSpec,
        per_rule: &[(String, AllowSpec)],
        root: &str,
    ) -> Result<Self, Error> {
        let mut map = HashMap::new();
        for (id, spec) in per_rule {
            if !spec.is_empty() {
                map.insert(
                    id.clone(),
                    CompiledAllow::new(spec, &format!("rules.{id}.allowlist"))?,
                );
            }
        }
        let root = root.trim_start_matches("./").trim_end_matches('/');
        Ok(Allowlists {
            global: CompiledAllow::new(global, "allowlist")?,
            empty: global.is_empty() && map.is_empty(),
            files: Vec::new(),
            prefix: String::new(),
            per_rule: map,
            root: if root == "." {
                String::new()
            } else {
                root.to_string()
            },
        })
    }

    /// Path globs also match `prefix` followed by the displayed path (see [`Allowlists::new`]'s
    /// `root` for the other direction).
    pub fn with_prefix(mut self, prefix: String) -> Self {
        self.prefix = prefix;
        self
    }

    /// Never scan the file displayed as `path`.
    pub fn skip_file(&mut self, path: String) {
        self.files.push(path);
        self.empty = false;
    }

    /// True when the whole blob at `path` is excluded by a global path glob (or is the project
    /// config).
    pub fn skips_path(&self, path: &str) -> bool {
        !self.empty
            && (self.files.iter().any(|f| f == path)
                || self.global.path_matches(path, &self.root, &self.prefix))
    }

    /// True when some path glob (global or per rule) or the skipped files name `path`: what is
    /// reported there may differ from elsewhere.
    pub fn path_dependent(&self, path: &str) -> bool {
        !self.empty
            && (self.skips_path(path)
                || self
                    .per_rule
                    .values()
                    .any(|a| a.path_matches(path, &self.root, &self.prefix)))
    }

    /// True when a finding of `rule_id` at `path` is allowlisted by path alone (a global path
    /// glob, the skipped files, or the rule's own `paths`).
    pub fn drops_path(&self, rule_id: &str, path: &str) -> bool {
        !self.empty
            && (self.skips_path(path)
                || self
                    .per_rule
                    .get(rule_id)
                    .is_some_and(|a| a.path_matches(path, &self.root, &self.prefix)))
    }

    /// True when a finding of `rule_id` with this secret on this line is allowlisted.
    pub fn drops(&self, rule_id: &str, path: &str, secret: &[u8], line: &[u8]) -> bool {
        if self.empty {
            return false;
        }
        if self.global.secret_or_line_matches(secret, line) {
            return true;
        }
        self.per_rule.get(rule_id).is_some_and(|a| {
            a.path_matches(path, &self.root, &self.prefix) || a.secret_or_line_matches(secret, line)
        })
    }
}

/// Directory names that hold test data, fixtures, mocks or examples.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "testdata",
    "test-data",
    "test_data",
    "fixtures",
    "fixture",
    "__fixtures__",
    "__mocks__",
    "mocks",
    "spec",
    "specs",
    "examples",
    "example",
    "e2e",
];

/// True for paths of test files, fixtures, mocks and examples (`tests/`, `src/__mocks__/`,
/// `foo_test.go`, `foo.spec.ts`, `test_foo.py`).
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut segments = lower.split(['/', '\\']).peekable();
    while let Some(seg) = segments.next() {
        if segments.peek().is_none() {
            // The file name.
            let stem = seg.split('.').next().unwrap_or(seg);
            return stem.starts_with("test_")
                || stem.ends_with("_test")
                || stem.ends_with("_spec")
                || stem.ends_with("_tests")
                || seg.contains(".test.")
                || seg.contains(".spec.")
                || seg.contains(".mock.");
        }
        if TEST_DIRS.contains(&seg) {
            return true;
        }
    }
    false
}

/// Directory names of third-party code copied into a repository.
const VENDOR_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "vendors",
    "third_party",
    "third-party",
    "thirdparty",
    "bower_components",
    "jspm_packages",
    "site-packages",
    "external",
    "deps",
];

/// True for vendored third-party code (`node_modules/`, `vendor/`, `third_party/`, ...) and
/// minified bundles: findings there are reported at low confidence, saying why.
pub fn is_vendored_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split(['/', '\\']).collect();
    segments[..segments.len().saturating_sub(1)]
        .iter()
        .any(|s| VENDOR_DIRS.contains(s))
        || is_minified_path(path)
}

/// Directory names of translation and message bundles.
const TEXT_DIRS: &[&str] = &[
    "i18n",
    "l10n",
    "locale",
    "locales",
    "lang",
    "langs",
    "languages",
    "translations",
    "nls",
];

/// True for translation and message bundles (`assets/i18n/de_DE.json`, `locales/fr.yml`,
/// `messages_nl.properties`, `WebGoatLabels.properties`): their values are UI text, and a
/// password name there labels a field.
pub fn is_text_resource(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split(['/', '\\']).collect();
    let Some((name, dirs)) = segments.split_last() else {
        return false;
    };
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    if !matches!(
        ext,
        "json"
            | "properties"
            | "yml"
            | "yaml"
            | "xml"
            | "po"
            | "pot"
            | "resx"
            | "strings"
            | "xlf"
            | "arb"
            | "ini"
            | "toml"
    ) {
        return false;
    }
    // `de`, `de_de`, `pt-br`, `zh_hans`: a locale code.
    let locale = {
        let mut parts = stem.split(['_', '-']);
        parts
            .next()
            .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
            && parts
                .all(|p| (2..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    dirs.iter().any(|d| TEXT_DIRS.contains(d))
        || locale
        || ["messages", "labels", "strings", "translations"]
            .iter()
            .any(|w| stem.contains(w))
}

/// Package-manager lock files: full of integrity hashes that look random.
const LOCK_FILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "cargo.lock",
    "poetry.lock",
    "pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "composer.lock",
    "gemfile.lock",
    "go.sum",
    "packages.lock.json",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "podfile.lock",
];

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// True for package-manager lock files.
pub fn is_lock_file(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    LOCK_FILES.contains(&name.as_str())
}

/// Lines longer than this are treated as minified or generated.
pub const MINIFIED_LINE: usize = 5000;

/// True for minified bundles by name (`*.min.js`, `*.bundle.js`, source maps).
pub fn is_minified_path(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    [
        ".min.js",
        ".min.css",
        ".min.mjs",
        ".bundle.js",
        ".js.map",
        ".css.map",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

/// Lowers a severity by `steps`, never below `info`.
pub fn lower(sev: Severity, steps: u8) -> Severity {
    let mut s = sev;
    for _ in 0..steps {
        s = match s {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths() {
        for p in [
            "tests/a.rs",
            "src/__mocks__/api.js",
            "pkg/testdata/x.json",
            "foo_test.go",
            "app/user.spec.ts",
            "test_settings.py",
            "a/fixtures/b/c.yml",
            "docs/examples/config.env",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in [
            ".env",
            "src/config.ts",
            "latest/x.env",
            "contest.py",
            "attestation/key.pem",
        ] {
            assert!(!is_test_path(p), "{p}");
        }
    }

    #[test]
    fn text_resources() {
        for p in [
            "frontend/src/assets/i18n/de_DE.json",
            "config/locales/fr.yml",
            "src/main/resources/i18n/messages_nl.properties",
            "lessons/WebGoatLabels_english.properties",
            "res/values/strings.xml",
            "po/pt-BR.po",
        ] {
            assert!(is_text_resource(p), "{p}");
        }
        for p in [
            "config/database.yml",
            ".env",
            "src/app.json",
            "i18n/index.js",
            "de.rs",
        ] {
            assert!(!is_text_resource(p), "{p}");
        }
    }

    #[test]
    fn vendored_paths() {
        assert!(is_vendored_path("node_modules/hawk/README.md"));
        assert!(is_vendored_path("web/vendor/lib/a.php"));
        assert!(is_vendored_path("src/third_party/x.c"));
        assert!(is_vendored_path("static/app.min.js"));
        assert!(!is_vendored_path("src/vendor.js"));
        assert!(!is_vendored_path("app/config.js"));
    }

    #[test]
    fn lock_and_minified() {
        assert!(is_lock_file("web/package-lock.json"));
        assert!(is_lock_file("Cargo.lock"));
        assert!(!is_lock_file("lock.rs"));
        assert!(is_minified_path("static/app.min.js"));
        assert!(!is_minified_path("static/app.js"));
    }

    #[test]
    fn allowlists_match_relative_to_root() {
        let spec = AllowSpec {
            paths: vec!["docs/**".into()],
            lines: vec!["ALLOWED".into()],
            ..Default::default()
        };
        let a = Allowlists::new(&spec, &[], "proj").unwrap();
        assert!(a.skips_path("proj/docs/a.md"));
        assert!(a.skips_path("docs/a.md"));
        assert!(!a.skips_path("proj/src/a.rs"));
        assert!(a.drops("x", "p", b"s", b"k=s # ALLOWED"));
        assert!(!a.drops("x", "p", b"s", b"k=s"));
    }

    #[test]
    fn severity_steps() {
        assert_eq!(lower(Severity::Critical, 2), Severity::Medium);
        assert_eq!(lower(Severity::Low, 2), Severity::Info);
    }
}
