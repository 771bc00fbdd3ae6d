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
    // The same scan as `bakeproof scan` (accounts included), with the
    // seal's observer on its single read.
    let scanned = bakeproof_seal::image_scan(&root, &opts).run()?;
    let report = bakeproof_seal::check_inventory(&root, &scanned.inventory, &opts)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        CheckFormat::Json => out.write_all(report.to_json().as_bytes())?,
        CheckFormat::Text => report.write_text(&mut out)?,
    }
    out.flush()?;
    // What the scan could not read is said, never dropped: a damaged
    // package database loses the package-owned exemptions and the
    // verification of package files, so the report is incomplete (exit 3).
    for e in &scanned.problems {
        eprintln!("bakeproof: warning: {e}");
    }
    for db in scanned.inventory.dbs.iter().filter(|db| db.dropped > 0) {
        eprintln!(
            "bakeproof: warning: {}: {} records could not be read (their packages are not checked)",
            db.location, db.dropped
        );
    }
    Ok(if scanned.is_incomplete() {
        exit::INCOMPLETE
    } else if report.sealed() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
