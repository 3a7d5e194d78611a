//! Git primitives shared by every reader of a repository: object ids ([`id`]), references
//! ([`refs`]), the raw tree parser ([`tree`]), raw commits and tags ([`object`]), the commit
//! walk and ranks ([`walk`]), pack order ([`packorder`]), blobs read from the packs
//! ([`packread`]), timestamps ([`time`]) and the Git LFS
//! pointer test ([`lfs`]). The history source (`source::history`) and the rewrite graph
//! (`rewrite::graph`) use these; `rewrite::verify` deliberately reads the raw files itself.

pub mod id;
pub mod lfs;
pub mod object;
pub mod packorder;
pub mod packread;
pub mod refs;
pub mod time;
pub mod tree;
pub mod walk;

pub use id::{BlobId, CommitId, ObjectId};
