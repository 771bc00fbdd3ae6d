//! `bakeproof key`, `bakeproof attest` and `bakeproof verify-attestation`.

use std::path::PathBuf;

use bakeproof_attest::statement::DEFAULT_INLINE_SBOM_MAX;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Write a cosign-compatible key pair: PREFIX.key (encrypted ECDSA P-256,
    /// mode 0600) and PREFIX.pub. Password from COSIGN_PASSWORD or a prompt.
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// File name prefix of the pair.
    #[arg(long, default_value = "cosign")]
    pub prefix: String,
    /// Directory to write the pair into.
    #[arg(long, default_value = ".")]
    pub output_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct AttestArgs {
    /// The CycloneDX SBOM written by `bakeproof scan`.
    #[arg(long)]
    pub sbom: PathBuf,
    /// The seal report written by `bakeproof seal check --format json` (or
    /// `bakeproof scan --seal-report`). It must name the SBOM's tree digest
    /// and be sealed.
    #[arg(long)]
    pub seal: PathBuf,
    /// Attest an unsealed seal report too (its signed status says so, and
    /// `bakeproof verify` fails the instance at boot).
    #[arg(long)]
    pub allow_unsealed: bool,
    /// The cosign private key (password from COSIGN_PASSWORD or a prompt).
    #[arg(long)]
    pub key: PathBuf,
    /// Packer's manifest: the AMIs of the build of its last_run_uuid.
    #[arg(long, conflicts_with = "ami", required_unless_present = "ami")]
    pub packer_manifest: Option<PathBuf>,
    /// An AMI the image was published as, REGION:AMI-ID (repeatable).
    #[arg(long, value_name = "REGION:AMI-ID")]
    pub ami: Vec<String>,
    /// Output directory (bundles and index.json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// SBOMs larger than this many bytes are attested by digest-pinned
    /// reference (and copied to the output directory) instead of inline.
    #[arg(long, default_value_t = DEFAULT_INLINE_SBOM_MAX, value_name = "BYTES")]
    pub inline_sbom_max: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TypeArg {
    Sbom,
    Seal,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Sigstore bundles to verify.
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
    /// The trusted public key (cosign.pub).
    #[arg(long)]
    pub key: PathBuf,
    /// Require this AMI (REGION:AMI-ID) among the subjects.
    #[arg(long, value_name = "REGION:AMI-ID")]
    pub ami: Option<String>,
    /// Require this kind of predicate.
    #[arg(long = "type", value_enum)]
    pub kind: Option<TypeArg>,
    /// The SBOM a digest-pinned SBOM reference must match (default: the
    /// referenced file name beside the bundle, when it exists).
    #[arg(long)]
    pub sbom: Option<PathBuf>,
    /// Accept a digest-pinned SBOM reference without the SBOM it pins
    /// (signature, subjects and tree digest only). Without it, a reference
    /// whose SBOM is neither given nor beside the bundle fails: fail-closed.
    #[arg(long)]
    pub allow_missing_sbom: bool,
}
