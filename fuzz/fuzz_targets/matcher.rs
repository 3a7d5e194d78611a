//! Arbitrary bytes through the scanner with every built-in rule: see `checks::matcher`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::matcher(data));
