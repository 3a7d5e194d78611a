//! Sources: where blobs come from. Each source walks its input, reads items, skips what must be
//! skipped (recording why in the [`Collector`](crate::scan::Collector)) and pushes blobs to the
//! [`Scanner`](crate::scan::Scanner). A source knows nothing of rules.

pub mod history;
pub mod staged;
pub mod stdin;
pub mod worktree;

/// Moved to [`crate::git`]; kept here for the paths other modules name.
pub use crate::git::{lfs, packorder};
