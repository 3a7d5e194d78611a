//! Attacks leaksweep withstands, one test per attack, kept together so the list is readable in
//! one place. Each test reproduces an attack on a guarantee (nothing raw in any output, the gate
//! sees what git records, `verify` means verified, nothing but the secret is lost) and fails if
//! the attack succeeds.
//!
//! - `redaction`: raw secrets and control characters in every output and message.
//! - `gate`: what `git commit` and `git push` record is what `--staged` and `--range` scan.
//! - `limits`: caps, skips, exit codes and resource bounds that an input could walk around.
//! - `rewrite_apply`: the history rewrite removes every stored form of the secret and nothing else.
//! - `rewrite_verify`: `verify` re-checks independently of `apply`; backups cannot be published.
//! - `rotate`: rotation writes exactly what it says and never copies a value into an example.

mod gate;
mod limits;
mod redaction;
mod rewrite_apply;
mod rewrite_verify;
mod rotate;
