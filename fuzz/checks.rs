//! The bodies of the fuzz targets, shared with `tests/fuzz_regressions.rs` so a crashing input
//! saved under `testdata/fuzz-regressions/<target>/` is replayed through exactly the code the
//! fuzzer ran. Each function panics on a bug (a panic in the library or a broken invariant).
#![allow(dead_code)]

use leaksweep::matcher::{Matcher, Scratch};
use leaksweep::rotate::dotenv::{self, Replacement};
use leaksweep::rotate::{self, checklist, Policy};
use leaksweep::scan::{Blob, Scanner};
use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

/// Built once: building the scanner per input would measure rule loading, not matching.
static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    let rules = leaksweep::rules::builtin().expect("built-in rules load");
    Scanner::new(Matcher::new(rules).expect("built-in rules compile"))
});

static KINDS: LazyLock<HashMap<String, leaksweep::rules::RotationKind>> = LazyLock::new(|| {
    leaksweep::rules::builtin()
        .expect("built-in rules load")
        .into_iter()
        .map(|r| (r.id, r.rotation))
        .collect()
});

/// Arbitrary bytes through `Scanner::scan_blob` with the full built-in rule set (plus the base64
/// decode pass), as every source calls it. Every finding's span lies inside the input and its
/// line/column are 1-based.
pub fn matcher(data: &[u8]) {
    let mut scratch = Scratch::default();
    for path in [".env", "config/settings.py"] {
        let findings = SCANNER.scan_blob(&Blob::file(data, path), &mut scratch);
        for f in &findings {
            assert!(f.span.start <= f.span.end, "inverted span {:?}", f.span);
            assert!(
                f.span.end <= data.len(),
                "span {:?} outside {} bytes",
                f.span,
                data.len()
            );
            assert!(f.line >= 1 && f.column >= 1);
            assert!(f.end_line >= f.line);
        }
    }
}

/// Arbitrary text through the rule loader (`rules::parse`, as `--rules FILE` and `rules check`
/// use it); a file that loads is checked against its examples, compiled into a matcher and run
/// over its own text. `--max-file-size`'s parser gets the same text. When `.leaksweep.toml`
/// support lands (config.rs), its parser belongs here too.
pub fn rules_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = leaksweep::config::parse_size(text);
    let Ok(rules) = leaksweep::rules::parse("fuzz.toml", text) else {
        return;
    };
    let _ = leaksweep::cmd::rules::check_examples(&rules);
    let Ok(matcher) = Matcher::new(rules) else {
        return;
    };
    let mut scratch = Scratch::default();
    for m in matcher.scan(data, Some("fuzz.toml"), &mut scratch) {
        assert!(m.span.end <= data.len());
    }
}

/// The dotenv editor behind `rotate --apply`. Input: the file, then replacements, separated by
/// 0xFF bytes (never valid UTF-8): `file 0xFF old1 0xFF new1 0xFF old2 0xFF new2 ...`. The bytes
/// outside the reported edits are unchanged and in order, and with no replacements the output
/// is the input byte for byte.
pub fn dotenv_editor(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0xFF);
    let file = parts.next().unwrap_or_default();
    let rest: Vec<&[u8]> = parts.collect();
    let reps: Vec<Replacement<'_>> = rest
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| Replacement {
            old: c[0],
            new: c[1],
        })
        .collect();

    for a in dotenv::assignments(file) {
        assert!(a.value.start <= a.value.end && a.value.end <= file.len());
    }
    let r = dotenv::rewrite(file, &reps);
    let (mut i, mut o) = (0, 0);
    for e in &r.edits {
        assert!(
            i <= e.input.start && e.input.end <= file.len(),
            "edit {e:?}"
        );
        assert!(
            o <= e.output.start && e.output.end <= r.bytes.len(),
            "edit {e:?}"
        );
        assert_eq!(&file[i..e.input.start], &r.bytes[o..e.output.start]);
        i = e.input.end;
        o = e.output.end;
    }
    assert_eq!(&file[i..], &r.bytes[o..]);
    assert_eq!(r.counts.len(), reps.len());
    if reps.is_empty() {
        assert_eq!(&r.bytes[..], file);
    }
    let _ = dotenv::quote_value(file);
}

/// The JSON report reader: the parse `rotate --from-report` does (`findings_from_report`), then
/// what rotate does with the findings: the plan, the new-values file, the checklist in every
/// format, and the dotenv rewrite. Twice: with no file content (history findings) and with the
/// input itself as every file's content (arbitrary spans against arbitrary bytes). Also the
/// `--baseline` reader (a baseline file or a JSON report) and the `.leaksweepignore` parser.
pub fn report_reader(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = leaksweep::baseline::Baseline::parse(Path::new("fuzz.json"), text);
        let _ = leaksweep::baseline::IgnoreList::parse(Path::new(".leaksweepignore"), text);
    }
    let Ok(findings) = leaksweep::cmd::rotate::findings_from_report(data, Path::new("fuzz.json"))
    else {
        return;
    };
    let policy = Policy::default();
    for with_files in [false, true] {
        let lookup = |_: &str| with_files.then_some(data);
        let plans = rotate::plan(findings.clone(), &KINDS, &policy, &lookup);
        let _ = checklist::out_file(&plans);
        let ctx = checklist::Context {
            out_file: ".env.rotated".into(),
            out_written: true,
            applied: vec![checklist::Applied {
                path: ".env".into(),
                occurrences: 1,
                secrets: 1,
                lines: vec![1],
            }],
            show_secrets: false,
            findings: findings.len(),
        };
        let entries = checklist::entries(&plans, &ctx);
        let _ = checklist::text(&entries, &ctx);
        let _ = checklist::markdown(&entries, &ctx);
        let _ = checklist::json(&entries, &ctx);
        let _ = rotate::dotenv::rewrite(data, &rotate::replacements(&plans));
        let _ = rotate::dotenv::example(data, &rotate::replacements(&plans), |k| {
            k.as_bytes().to_vec()
        });
    }
}
