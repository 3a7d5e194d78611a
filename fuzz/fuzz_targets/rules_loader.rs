//! Arbitrary text through the rule loader: see `checks::rules_loader`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rules_loader(data));
