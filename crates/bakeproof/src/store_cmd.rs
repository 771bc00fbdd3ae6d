//! `bakeproof publish` and `bakeproof fetch` (CLI side).

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct PublishArgs {}

#[derive(Args, Debug)]
pub struct FetchArgs {}

pub fn run_publish(_args: PublishArgs) -> Result<u8> {
    anyhow::bail!("publish: not implemented yet")
}

pub fn run_fetch(_args: FetchArgs) -> Result<u8> {
    anyhow::bail!("fetch: not implemented yet")
}
