//! `bakeproof seal check` and `bakeproof seal apply` (CLI side).
//! Owner: the seal-check work; `apply` lives in `seal_apply.rs`.

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum SealCommand {
    /// Read-only: report what would make clones of this image share an identity or secrets.
    Check(CheckArgs),
    /// Apply the seal (dry-run first).
    Apply(crate::seal_apply::ApplyArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Root filesystem to check.
    #[arg(default_value = "/")]
    pub root: std::path::PathBuf,
}

pub fn run(cmd: SealCommand) -> Result<u8> {
    match cmd {
        SealCommand::Check(_args) => anyhow::bail!("seal check: not implemented yet"),
        SealCommand::Apply(args) => crate::seal_apply::run(args),
    }
}
