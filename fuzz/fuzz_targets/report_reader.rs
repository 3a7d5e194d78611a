//! The JSON report reader: arbitrary bytes through the parse `rotate --from-report` does
//! (`cmd::rotate::findings_from_report`: serde into `JsonReport`, then findings), then what rotate
//! does with the findings: the plan (grouping, variable names from files or previews, database
//! targets), the new-values file and the checklist in every format. Run twice: with no file
//! content (history findings) and with the input itself as every file's content (arbitrary spans
//! against arbitrary bytes). Baseline files (`--baseline`, not on this branch yet) are JSON reports
//! too; their reader belongs here when it lands.

#![no_main]

use leaksweep::rotate::{self, checklist, Policy};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

static KINDS: LazyLock<HashMap<String, leaksweep::rules::RotationKind>> = LazyLock::new(|| {
    leaksweep::rules::builtin()
        .expect("built-in rules load")
        .into_iter()
        .map(|r| (r.id, r.rotation))
        .collect()
});

fuzz_target!(|data: &[u8]| {
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
            applied: vec![".env".into()],
            show_secrets: false,
            findings: findings.len(),
        };
        let entries = checklist::entries(&plans, &ctx);
        let _ = checklist::text(&entries, &ctx);
        let _ = checklist::markdown(&entries, &ctx);
        let _ = checklist::json(&entries, &ctx);
        let _ = rotate::dotenv::rewrite(data, &rotate::replacements(&plans));
    }
});
