//! `bakeproof diff` (CLI side).

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old SBOM.
    pub old: String,
    /// The new SBOM.
    pub new: String,
}

pub fn run(_args: DiffArgs) -> Result<u8> {
    anyhow::bail!("diff: not implemented yet")
}
