//! leaksweep: find leaked secrets in working trees and git history, report them, generate
//! replacements, and rewrite history to remove them. See DESIGN.md for the architecture:
//! sources push blobs into the scanner, the matcher turns bytes into matches, reporters format.

#![deny(unsafe_code)]

pub mod archive;
pub mod baseline;
mod bytemask;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod finding;
pub mod git;
pub mod import;
pub mod matcher;
pub mod output;
pub mod project;
pub mod replace;
pub mod report;
pub mod repos;
pub mod rewrite;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod shard;
pub mod shell;
pub mod source;
#[cfg(test)]
mod testing;
pub mod text;

pub use error::Error;
