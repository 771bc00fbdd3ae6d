//! `bakeproof seal check` and `bakeproof seal apply` (CLI side).
//! Owner: the seal-check work; `apply` lives in `seal_apply.rs`.

use std::io::Write;

use anyhow::Result;
use bakeproof_index::Root;
use bakeproof_seal::CheckOptions;
use clap::{Args, Subcommand, ValueEnum};

use crate::exit;

#[derive(Subcommand, Debug)]
pub enum SealCommand {
    /// Read-only: report what would make clones of this image share an identity or secrets.
    Check(CheckArgs),
    /// Apply the seal (dry-run first).
    Apply(crate::seal_apply::ApplyArgs),
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
    /// Root filesystem to check.
    #[arg(default_value = "/")]
    pub root: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Warnings fail too (exit 1, status "unsealed").
    #[arg(long)]
    pub strict: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(cmd: SealCommand) -> Result<u8> {
    match cmd {
        SealCommand::Check(args) => run_check(args),
        SealCommand::Apply(args) => crate::seal_apply::run(args),
    }
}

fn run_check(args: CheckArgs) -> Result<u8> {
    let root = Root::open(&args.root)?;
    let opts = CheckOptions {
        strict: args.strict,
        timestamp: crate::scan::source_date_epoch()?,
        threads: args.threads,
        source: Some(args.root.display().to_string()),
    };
    let report = bakeproof_seal::check_root(&root, &opts)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        CheckFormat::Json => out.write_all(report.to_json().as_bytes())?,
        CheckFormat::Text => report.write_text(&mut out)?,
    }
    out.flush()?;
    Ok(if report.sealed() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
