//! `bakeproof seal check` and `bakeproof seal apply`.

use std::path::PathBuf;

use bakeproof_seal::apply::OpId;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum SealCommand {
    /// Read-only: report what would make clones of this image share an identity or secrets.
    Check(CheckArgs),
    /// Apply the seal (dry-run first).
    Apply(ApplyArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// PASS / WARN / FAIL per check, with paths.
    Text,
    /// The seal report (schemas/seal-report.schema.json).
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Root filesystem to check: a directory, a disk image file,
    /// `ebs:snap-ID` or `ami:REGION:AMI-ID` (as for `scan`).
    #[arg(default_value = "/", value_name = "ROOT|IMAGE")]
    pub root: PathBuf,
    #[command(flatten)]
    pub image: crate::args::image::ImageArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Warnings fail too (exit 1, status "unsealed").
    #[arg(long)]
    pub strict: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", env = "BAKEPROOF_THREADS")]
    pub threads: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Root filesystem to seal.
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// List every change and change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Apply the changes (without it nothing changes).
    #[arg(long)]
    pub yes: bool,
    /// Only these operations (comma-separated ids: machine-id, ssh-host-keys,
    /// ssh-authorized-keys, cloud-init, shell-history, logs, tmp,
    /// package-cache, random-seed, network-identity).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = parse_op)]
    pub only: Vec<OpId>,
    /// Never these operations (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = parse_op)]
    pub skip: Vec<OpId>,
    /// Users whose authorized_keys are emptied (comma-separated; root only
    /// when listed). Default: every /home user, every uid >= 1000, and the
    /// usual cloud build users when present.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub users: Option<Vec<String>>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ApplyFormat,
}

fn parse_op(s: &str) -> Result<OpId, String> {
    s.trim().parse::<OpId>().map_err(|e| e.to_string())
}
