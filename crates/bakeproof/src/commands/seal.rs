//! `bakeproof seal check` (and the dispatch of `seal apply`, in
//! `seal_apply.rs`).

use std::io::Write;

use anyhow::{Result, bail};
use bakeproof_seal::CheckOptions;

use super::source::{self, Spec};
use super::source_date_epoch;
use crate::args::seal::{CheckArgs, CheckFormat, SealCommand};
use crate::output::{exit, warn};

pub fn run(cmd: SealCommand) -> Result<u8> {
    match cmd {
        SealCommand::Check(args) => run_check(args),
        SealCommand::Apply(args) => super::seal_apply::run(args),
    }
}

fn run_check(args: CheckArgs) -> Result<u8> {
    let spec = Spec::parse(args.root.as_os_str())?;
    let opened = source::open(&spec, &args.image, false)?;
    let Some(root) = opened.tree() else {
        bail!("{}: not a directory or a disk image", spec.label());
    };
    let opts = CheckOptions {
        strict: args.strict,
        timestamp: source_date_epoch()?,
        threads: args.threads,
        source: Some(spec.label()),
    };
    // The same scan as `bakeproof scan` (accounts included), with the
    // seal's observer on its single read.
    let scanned = bakeproof_seal::image_scan(root, &opts).run()?;
    let report = bakeproof_seal::check_inventory(root, &scanned.inventory, &opts)?;
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
        warn(e);
    }
    for db in scanned.inventory.dbs.iter().filter(|db| db.dropped > 0) {
        warn(format_args!(
            "{}: {} records could not be read (their packages are not checked)",
            db.location, db.dropped
        ));
    }
    Ok(if scanned.is_incomplete() {
        exit::INCOMPLETE
    } else if report.sealed() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
