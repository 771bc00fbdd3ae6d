//! `bakeproof seal apply` (CLI side).

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Root filesystem to seal.
    #[arg(default_value = "/")]
    pub root: std::path::PathBuf,
}

pub fn run(_args: ApplyArgs) -> Result<u8> {
    anyhow::bail!("seal apply: not implemented yet")
}
