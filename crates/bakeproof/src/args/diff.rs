//! `bakeproof diff`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Grouped by kind; coloured on a terminal unless NO_COLOR is set.
    Text,
    /// `schemas/diff.schema.json`.
    Json,
    /// For change records and pull-request comments.
    Markdown,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old SBOM: a CycloneDX JSON file, or `REGION:AMI-ID` looked up in
    /// `--store` (its attestation verified with `--key` before use).
    pub old: String,
    /// The new SBOM.
    pub new: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Exit 1 when a change of one of these kinds exists (comma-separated):
    /// added, removed, upgraded, downgraded, rebuilt, license, supplier, author,
    /// added-files, removed-files, modified-files, mode-changes,
    /// capabilities, unowned-files, seal (a seal check got worse, or sealed -> unsealed),
    /// seal-findings (a seal finding was added), audit (an audit
    /// requirement became ng, or the audit pass -> fail), or all.
    #[arg(long, value_name = "KINDS")]
    pub fail_on: Option<String>,
    /// The old side's seal report (`bakeproof seal check --format json`).
    /// For an AMI, replaces the seal attestation from the store.
    #[arg(long, value_name = "FILE")]
    pub old_seal: Option<PathBuf>,
    /// The new side's seal report.
    #[arg(long, value_name = "FILE")]
    pub new_seal: Option<PathBuf>,
    /// The old side's audit report (`bakeproof audit --format json`). For
    /// an AMI, replaces the audit attestation from the store.
    #[arg(long, value_name = "FILE")]
    pub old_audit: Option<PathBuf>,
    /// The new side's audit report.
    #[arg(long, value_name = "FILE")]
    pub new_audit: Option<PathBuf>,
    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub lookup: crate::args::store::AmiLookupArgs,
    /// Refuse an SBOM larger than this many bytes (a seal report: 64 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = bakeproof_diff::MAX_SBOM_BYTES)]
    pub max_input_bytes: u64,
}
