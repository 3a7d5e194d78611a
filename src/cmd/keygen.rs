//! `leaksweep keygen --kind KIND`: one new random value on standard output. Printing the value is
//! the point of this command, so unlike `rotate` it does not hide it.

use crate::cli::KeygenCmd;
use crate::rotate::{self, Policy};
use anyhow::{bail, Result};
use std::io::Write;
use std::process::ExitCode;

/// The values `--kind` takes, as its error lists them.
pub const KINDS: &str = "jwt, nextauth, aes256, password, hex:N, base64:N, base64url:N (N random bytes), django, rails, laravel";

pub fn run(args: KeygenCmd) -> Result<ExitCode> {
    if !(8..=1024).contains(&args.length) {
        bail!("--length must be between 8 and 1024");
    }
    let policy = Policy {
        charset: Policy::charset(&args.charset).map_err(anyhow::Error::msg)?,
        password_len: args.length,
    };
    let recipe = rotate::keygen_recipe(&args.kind, &policy).map_err(|e| {
        anyhow::anyhow!(
            "invalid --kind {}: {e}; valid kinds: {KINDS}",
            crate::finding::sanitize(&args.kind)
        )
    })?;
    let value = recipe.generate();
    let mut out = std::io::stdout().lock();
    out.write_all(value.expose())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
