//! `bakeproof key`, `bakeproof attest` and `bakeproof verify-attestation`.

use std::path::PathBuf;

use bakeproof_attest::statement::DEFAULT_INLINE_SBOM_MAX;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Write a cosign-compatible key pair: PREFIX.key (encrypted ECDSA P-256,
    /// mode 0600) and PREFIX.pub. Password from COSIGN_PASSWORD or a prompt.
    Generate(GenerateArgs),
    /// Print the public key (PEM, cosign.pub's form) of a signing key: a
    /// cosign key file (password from COSIGN_PASSWORD or a prompt) or an AWS
    /// KMS key (awskms:///alias/NAME, key id or ARN; from GetPublicKey).
    Public(PublicArgs),
}

/// The signing key: a cosign key file, or an AWS KMS key.
#[derive(Args, Debug)]
pub struct SigningKeyArgs {
    /// The signing key: a cosign private key file (password from
    /// COSIGN_PASSWORD or a prompt), or an AWS KMS key as cosign names it:
    /// awskms:///alias/NAME, awskms:///KEY-ID, awskms:///ARN, or
    /// awskms://HOST[:PORT]/... to reach KMS at https://HOST[:PORT]. The KMS
    /// key must be ECC_NIST_P256 SIGN_VERIFY; no private key leaves KMS.
    #[arg(long, value_name = "FILE|awskms:///KEY", env = "BAKEPROOF_KEY")]
    pub key: String,
    /// The AWS region of a KMS key (default: the ARN's, else AWS_REGION /
    /// AWS_DEFAULT_REGION, or the profile's). The endpoint is
    /// AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL when set, else AWS's.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Args, Debug)]
pub struct PublicArgs {
    #[command(flatten)]
    pub key: SigningKeyArgs,
    /// Write the PEM to this file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// The audit report written by `bakeproof audit --format json`: signed
    /// as a third statement (audit.sigstore.json) with the same AMI
    /// subjects. It must name the SBOM's tree digest and pass.
    #[arg(long, value_name = "REPORT")]
    pub audit: Option<PathBuf>,
    /// Attest a failing audit report too (its signed status says so, and
    /// `bakeproof verify --require-audit` fails the instance at boot).
    #[arg(long, requires = "audit")]
    pub allow_failing_audit: bool,
    #[command(flatten)]
    pub key: SigningKeyArgs,
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
    Audit,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Sigstore bundles to verify.
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
    /// The trusted public key (cosign.pub).
    #[arg(long, env = "BAKEPROOF_PUBLIC_KEY")]
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
