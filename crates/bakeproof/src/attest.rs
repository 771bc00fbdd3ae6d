//! `bakeproof key`, `bakeproof attest`, `bakeproof verify-attestation` (CLI side).

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Write a cosign-compatible key pair.
    Generate,
}

#[derive(Args, Debug)]
pub struct AttestArgs {}

#[derive(Args, Debug)]
pub struct VerifyArgs {}

pub fn run_key(_cmd: KeyCommand) -> Result<u8> {
    anyhow::bail!("key: not implemented yet")
}

pub fn run_attest(_args: AttestArgs) -> Result<u8> {
    anyhow::bail!("attest: not implemented yet")
}

pub fn run_verify(_args: VerifyArgs) -> Result<u8> {
    anyhow::bail!("verify-attestation: not implemented yet")
}
