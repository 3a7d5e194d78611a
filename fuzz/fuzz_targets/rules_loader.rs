//! Arbitrary text through the rule loader (`rules::parse`, as `--rules FILE` and `rules check`
//! use it); a rule file that loads is compiled into a matcher and scanned over its own text and
//! its examples, as a scan with that file would. The size parser of `--max-file-size` gets the
//! same text. When `.leaksweep.toml` support lands (config.rs), its parser belongs here too.

#![no_main]

use leaksweep::matcher::{Matcher, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
