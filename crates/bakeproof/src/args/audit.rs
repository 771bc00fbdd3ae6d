//! `bakeproof audit`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// One OK/NG line per requirement, then the summary.
    Text,
    /// The audit report (schemas/audit-report.schema.json).
    Json,
    /// The handover document: document id and title, date, image identity
    /// and tree digest, every requirement with expected, actual and OK/NG,
    /// then the configuration report.
    Markdown,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Root filesystem to audit (read-only). Not with --sbom.
    #[arg(conflicts_with = "sbom")]
    pub root: Option<PathBuf>,
    /// A design document: the plain form (`NAME OP VERSION` lines, approved
    /// NEVRAs or `name=version`, `# Design:`/`# Target:` headers and their
    /// Japanese forms) or, for a
    /// name ending in `.toml`, the structured form (docs/audit.md).
    /// Repeatable: the documents' requirements add up.
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub design: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AuditFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A CycloneDX SBOM standing in for the root: package requirements are
    /// checked against its packages, everything else is not assessed. A
    /// file, or `REGION:AMI-ID`: the AMI's attested SBOM from `--store`,
    /// verified with `--key` before use.
    #[arg(long, value_name = "FILE|REGION:AMI-ID")]
    pub sbom: Option<String>,
    #[command(flatten)]
    pub lookup: crate::args::store::AmiLookupArgs,
    /// Also read what only a running system has (listening sockets, the
    /// running SELinux mode); for auditing the machine itself (ROOT `/`).
    #[arg(long, conflicts_with = "sbom")]
    pub live: bool,
    /// Read the package databases and configuration only, without walking
    /// the whole tree: faster, but the report names no tree digest (so it
    /// cannot be attested next to the image's SBOM).
    #[arg(long, conflicts_with = "sbom")]
    pub no_tree_digest: bool,
    /// Worker threads for the walk (default: one per core).
    #[arg(long, short = 'j', value_name = "N", env = "BAKEPROOF_THREADS")]
    pub threads: Option<usize>,
}
