//! `leaksweep scan -`: standard input as one blob named `-`.

use crate::matcher::Scratch;
use crate::scan::{is_binary, Blob, Collector, Provenance, Scanner, SkipReason};
use crate::source::Source;
use std::io::Read;

/// All of `input` (up to `max_size` bytes; more is a `too-large` skip) as one blob named `-`.
pub struct Stdin<R> {
    pub input: R,
    pub max_size: u64,
}

impl<R: Read> Source for Stdin<R> {
    type Output = ();
    const MODE: &'static str = "stdin";

    fn run(self, scanner: &Scanner, sink: &Collector) -> anyhow::Result<()> {
        scan(self.input, self.max_size, scanner, sink);
        Ok(())
    }
}

fn scan(input: impl Read, max_size: u64, scanner: &Scanner, collector: &Collector) {
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
