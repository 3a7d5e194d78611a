//! Arbitrary bytes through `Scanner::scan_blob` with the full built-in rule set (plus the base64
//! decode pass), as every source calls it. The scanner is built once: building it per input would
//! make the fuzzer measure rule loading, not matching.
//!
//! Checked beyond "no panic": every finding's span lies inside the input and its line/column are
//! 1-based.

#![no_main]

use leaksweep::matcher::{Matcher, Scratch};
use leaksweep::scan::{Blob, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    let rules = leaksweep::rules::builtin().expect("built-in rules load");
    Scanner::new(Matcher::new(rules).expect("built-in rules compile"))
});

fuzz_target!(|data: &[u8]| {
    let mut scratch = Scratch::default();
    for path in [".env", "config/settings.py"] {
        let findings = SCANNER.scan_blob(&Blob { data, path }, &mut scratch);
        for f in &findings {
            assert!(f.span.start <= f.span.end, "inverted span {:?}", f.span);
            assert!(f.line >= 1 && f.column >= 1);
            assert!(f.end_line >= f.line);
            if f.span.end <= data.len() {
                // Direct findings point at their bytes; decoded ones at the encoded value.
                continue;
            }
            panic!("span {:?} outside input of {} bytes", f.span, data.len());
        }
    }
});
