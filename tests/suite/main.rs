//! The integration tests: one binary, one harness (`common`: fixture trees, git repositories, the
//! binary runner, seeded random secrets). Every test drives the real `leaksweep` binary against
//! real files and real git repositories in temporary directories.
//!
//! - `adversarial`: the attacks each guarantee withstands, one module per guarantee.
//! - one module per area otherwise (`scan`, `history`, `formats`, `rewrite`, `rotate`, ...).

#[path = "../common/mod.rs"]
mod common;

mod adoption;
mod adversarial;
mod catalog;
mod ci_recipes;
mod commandline;
mod configformats;
mod encodings;
mod evidence;
mod exposure;
mod faults;
mod filtered;
mod formats;
mod fuzz_regressions;
mod history;
mod hooks;
mod hygiene;
mod papercuts;
mod precision;
mod repos;
mod rewrite;
mod rotate;
mod rules_list;
mod scan;
mod shard;
mod switching;
mod validators;
mod walk;
