//! The dotenv editor behind `rotate --apply` (`rotate::dotenv`), a pure function of bytes.
//!
//! Input layout: the file, then replacements, separated by 0xFF bytes (never valid UTF-8, so the
//! fuzzer learns it quickly): `file 0xFF old1 0xFF new1 0xFF old2 0xFF new2 ...`.
//!
//! Checked beyond "no panic": the bytes outside the reported edits are unchanged and in order,
//! every edit's output holds bytes from the output, and with no replacements the output is the
//! input byte for byte.

#![no_main]

use leaksweep::rotate::dotenv::{self, Replacement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xFF);
    let file = parts.next().unwrap_or_default();
    let rest: Vec<&[u8]> = parts.collect();
    let reps: Vec<Replacement<'_>> = rest
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| Replacement { old: c[0], new: c[1] })
        .collect();

    for a in dotenv::assignments(file) {
        assert!(a.value.start <= a.value.end && a.value.end <= file.len());
    }
    let r = dotenv::rewrite(file, &reps);
    let (mut i, mut o) = (0, 0);
    for e in &r.edits {
        assert!(i <= e.input.start && e.input.end <= file.len(), "edit {e:?}");
        assert!(o <= e.output.start && e.output.end <= r.bytes.len(), "edit {e:?}");
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
});
