//! `bakeproof scan` and `bakeproof verify-packages`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CycloneDX 1.5 JSON.
    CyclonedxJson,
    /// A readable table of packages and totals.
    Table,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Root filesystem to index (`/` inside a build VM, or a mounted image),
    /// or a bare package database file (a dpkg `status` file).
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// Write the output here instead of standard output (written atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::CyclonedxJson)]
    pub format: Format,
    /// Skip paths matching GLOB (matched against the path inside ROOT,
    /// starting with `/`; a pattern without `/` matches a name at any depth;
    /// a matching directory is not descended). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Descend into other mounted filesystems (kernel pseudo filesystems such
    /// as proc and sysfs are never scanned).
    #[arg(long)]
    pub cross_mounts: bool,
    /// Also scan /proc, /sys, /dev and /run when ROOT is the running system's `/`.
    #[arg(long)]
    pub include_runtime_dirs: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Name of the image in the SBOM (default: the last component of ROOT).
    #[arg(long)]
    pub name: Option<String>,
    /// List the entries no package owns on standard error after the summary.
    #[arg(long)]
    pub unowned: bool,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Read the package databases only: no walk, no file hashing, no file
    /// components and no tree digest (an inventory in milliseconds; such an
    /// SBOM cannot be attested as an image).
    #[arg(long)]
    pub packages_only: bool,
    /// The distribution a bare package database file is from, as
    /// `ID-VERSION_ID` (`debian-12`, `rhel-9.4`, `amzn-2023`): it sets the
    /// purl namespace and `distro` qualifier and the SBOM's OS component,
    /// which a bare file cannot tell. Refused for a root (its os-release
    /// says).
    #[arg(long, value_name = "ID-VERSION", value_parser = parse_distro)]
    pub distro: Option<bakeproof_pkgdb::OsRelease>,
    /// Also run `seal check` on the same walk and write its JSON report to
    /// FILE (written atomically): the report's tree digest is the SBOM's by
    /// construction. Exit 1 when the report is unsealed.
    #[arg(long, value_name = "FILE", conflicts_with = "packages_only")]
    pub seal_report: Option<PathBuf>,
    /// With --seal-report: warnings make the report unsealed (seal check --strict).
    #[arg(long, requires = "seal_report")]
    pub seal_strict: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Root filesystem whose packages to verify.
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// Skip paths matching GLOB (as for `scan`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// `--distro ID-VERSION`.
fn parse_distro(s: &str) -> Result<bakeproof_pkgdb::OsRelease, String> {
    bakeproof_pkgdb::OsRelease::from_distro(s).ok_or_else(|| {
        format!("expected ID-VERSION_ID as in os-release (e.g. debian-12, rhel-9.4), not {s:?}")
    })
}
