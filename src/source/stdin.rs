//! `leaksweep scan -`: standard input as one blob named `-`.

use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Collector, Provenance, Scanner, SkipReason};
use std::io::Read;

/// Reads all of `input` (up to `max_size` bytes) and scans it.
pub fn scan(input: &mut dyn Read, max_size: u64, scanner: &Scanner, collector: &Collector) {
    let mut data = Vec::new();
    match input.take(max_size + 1).read_to_end(&mut data) {
        Err(e) => collector.error("-", format!("cannot read standard input: {e}")),
        Ok(_) if data.len() as u64 > max_size => collector.skip("-", SkipReason::TooLarge),
        Ok(_) if is_binary(&data) => collector.skip("-", SkipReason::Binary),
        Ok(_) => {
            scanner.scan_into(
                &Blob::new(&data, "-", Provenance::Stdin),
                &mut Scratch::default(),
                collector,
            );
        }
    }
}
