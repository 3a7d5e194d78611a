//! The JSON report reader of `rotate --from-report`: see `checks::report_reader`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::report_reader(data));
