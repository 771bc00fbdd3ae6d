//! `bakeproof attest-artifacts` and `bakeproof verify-artifacts`: signed
//! statements about files (a release's binaries and packages).

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct AttestArtifactsArgs {
    /// The CycloneDX SBOM of the files (e.g. `bakeproof scan DIR`): the
    /// statement's predicate.
    #[arg(long)]
    pub sbom: PathBuf,
    #[command(flatten)]
    pub key: crate::args::attest::SigningKeyArgs,
    /// The Sigstore bundle to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The files: each a subject, by file name and SHA-256.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyArtifactsArgs {
    /// The Sigstore bundle written by `bakeproof attest-artifacts`.
    #[arg(long)]
    pub bundle: PathBuf,
    /// The trusted public key.
    #[arg(long, env = "BAKEPROOF_PUBLIC_KEY")]
    pub key: PathBuf,
    /// The files to check: each must be a subject, by file name, with its SHA-256.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}
