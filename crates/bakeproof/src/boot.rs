//! `bakeproof verify`: the first-boot check (CLI side).

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct BootVerifyArgs {}

pub fn run(_args: BootVerifyArgs) -> Result<u8> {
    anyhow::bail!("verify: not implemented yet")
}
