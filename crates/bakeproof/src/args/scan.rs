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
    /// What to index: a root directory (`/` inside a build VM, or a mounted
    /// image); a disk image file read without mounting it (raw disk or
    /// partition image, or qcow2: GPT, MBR, LVM2; ext2/3/4, XFS); an EBS
    /// snapshot, `ebs:snap-ID`; an AMI's root volume, `ami:REGION:AMI-ID`;
    /// or a bare package database file (a dpkg `status` file).
    #[arg(default_value = "/", value_name = "ROOT|IMAGE")]
    pub root: PathBuf,
    #[command(flatten)]
    pub image: crate::args::image::ImageArgs,
    /// An output of the scan, as FORMAT=FILE, FORMAT (standard output) or
    /// FILE (the --format format, to FILE). Repeatable: every output comes
    /// from the one scan. FORMAT: cyclonedx-json (CycloneDX 1.5, also
    /// cyclonedx-json@1.5), cyclonedx-json@1.6, cyclonedx-json-packages
    /// (the packages-only CycloneDX of the same scan: same serial number
    /// and tree digest, no file components; @1.5 or @1.6), spdx-json
    /// (SPDX 2.3, also spdx-json@2.3), table. Files are written atomically;
    /// at most one output goes to standard output. Default: --format on
    /// standard output.
    #[arg(short, long, value_name = "FORMAT[=FILE]")]
    pub output: Vec<PathBuf>,
    /// Format of a bare `-o FILE` and of standard output without -o
    /// (default cyclonedx-json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
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
    #[arg(long, short = 'j', value_name = "N", env = "BAKEPROOF_THREADS")]
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
    /// The language ecosystems whose packages the walk catalogs from the
    /// files it reads anyway: `all` (the default), `none`, or a comma list
    /// of python, npm, go, java, rust. Python distributions (.dist-info,
    /// .egg-info), installed npm packages and lockfiles, Go modules of Go
    /// binaries, Java archives, Rust crates of cargo-auditable binaries.
    /// `--packages-only` has no walk and so no language packages.
    #[arg(long, value_name = "LIST", default_value = "all", value_parser = parse_ecosystems)]
    pub ecosystems: bakeproof_ecosystems::observer::Langs,
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
    /// Root filesystem whose packages to verify: a directory, a disk image
    /// file, `ebs:snap-ID` or `ami:REGION:AMI-ID` (as for `scan`).
    #[arg(default_value = "/", value_name = "ROOT|IMAGE")]
    pub root: PathBuf,
    #[command(flatten)]
    pub image: crate::args::image::ImageArgs,
    /// Skip paths matching GLOB (as for `scan`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", env = "BAKEPROOF_THREADS")]
    pub threads: Option<usize>,
}

/// `--distro ID-VERSION`.
fn parse_distro(s: &str) -> Result<bakeproof_pkgdb::OsRelease, String> {
    bakeproof_pkgdb::OsRelease::from_distro(s).ok_or_else(|| {
        format!("expected ID-VERSION_ID as in os-release (e.g. debian-12, rhel-9.4), not {s:?}")
    })
}

/// `--ecosystems`: `all`, `none` or a comma list of ecosystem names.
pub fn parse_ecosystems(s: &str) -> Result<bakeproof_ecosystems::observer::Langs, String> {
    use bakeproof_ecosystems::observer::Langs;
    match s.trim() {
        "all" => return Ok(Langs::ALL),
        "none" => return Ok(Langs::NONE),
        _ => {}
    }
    let mut l = Langs::NONE;
    for name in s.split(',').map(str::trim) {
        match name {
            "python" => l.python = true,
            "npm" => l.npm = true,
            "go" => l.go = true,
            "java" => l.java = true,
            "rust" => l.rust = true,
            other => {
                return Err(format!(
                    "unknown ecosystem '{other}': all, none, or a comma list of python, npm, go, java, rust"
                ));
            }
        }
    }
    Ok(l)
}
