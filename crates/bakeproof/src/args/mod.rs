//! The command line's definitions (clap only): one module per command
//! family. Nothing here does work; `crate::commands` turns these values into
//! the libraries' settings.

pub mod artifacts;
pub mod attest;
pub mod audit;
pub mod boot;
pub mod diff;
pub mod ec2;
pub mod fleet;
pub mod image;
pub mod lifecycle;
pub mod meta;
pub mod scan;
pub mod seal;
pub mod store;

use clap::{ArgAction, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "bakeproof",
    version,
    about = "Prove what is inside a golden VM image, and check it at boot",
    propagate_version = true
)]
pub struct Cli {
    /// More detail on standard error about what is being done: `-v` the
    /// steps (databases found, store objects, checks), `-vv` debugging
    /// detail, `-vvv` everything (BAKEPROOF_LOG=error|warn|info|debug|trace
    /// sets the level too).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Index a root filesystem (or a bare package database) into a CycloneDX SBOM.
    Scan(scan::ScanArgs),
    /// Check every file the package databases list against their recorded
    /// digests; prints `dpkg --verify`'s or `rpm -Va`'s format. Exit 1 when
    /// anything differs.
    VerifyPackages(scan::VerifyArgs),
    /// Check (read-only) or apply the seal of an image root.
    #[command(subcommand)]
    Seal(seal::SealCommand),
    /// Compare two SBOMs (or two AMIs' attested SBOMs).
    Diff(diff::DiffArgs),
    /// Manage signing keys (cosign-compatible).
    #[command(subcommand)]
    Key(attest::KeyCommand),
    /// Sign the SBOM and seal report as in-toto attestations bound to AMIs.
    Attest(attest::AttestArgs),
    /// Verify Sigstore bundles written by `bakeproof attest`.
    VerifyAttestation(attest::VerifyArgs),
    /// Publish the output of `bakeproof attest` to a store (S3 or a directory).
    Publish(store::PublishArgs),
    /// Fetch an AMI's attestations from a store.
    Fetch(store::FetchArgs),
    /// The fleet tables beside the attestations (Parquet, docs/fleet.md):
    /// rebuild them for an existing store.
    #[command(subcommand)]
    Tables(fleet::TablesCommand),
    /// Which AMIs contain a package in a version range (the package
    /// manager's own order), from the fleet tables; or, with --reports,
    /// the instances that did not verify and ghost identities. Exit 1 when
    /// something matches.
    Query(fleet::QueryArgs),
    /// First-boot check: this instance runs an attested, sealed, untampered image.
    Verify(boot::BootVerifyArgs),
    /// Print the version, the commit and the dates of this build.
    Version(meta::VersionArgs),
    /// Write a shell completion script to standard output (bash, zsh, fish,
    /// elvish, powershell).
    Completion(meta::CompletionArgs),
    /// Write the manual pages (roff) into a directory.
    Man(meta::ManArgs),
    /// Sign a statement about files (their names and SHA-256, with their
    /// SBOM as predicate): a release's binaries and packages.
    AttestArtifacts(artifacts::AttestArtifactsArgs),
    /// Verify files against a bundle written by `bakeproof attest-artifacts`.
    VerifyArtifacts(artifacts::VerifyArtifactsArgs),
    /// Audit an image root (or an SBOM) against its design document:
    /// required, approved and forbidden packages and the configuration.
    /// Exit 1 when a requirement is not met.
    Audit(audit::AuditArgs),
    /// An AMI's signed lifecycle in the store: test, approve, deprecate,
    /// revoke, restore; status, history, list; the status document's refresh.
    #[command(subcommand)]
    Lifecycle(lifecycle::LifecycleCommand),
    /// Channels: signed pointers to approved AMIs (set, get, history).
    #[command(subcommand)]
    Channel(lifecycle::ChannelCommand),
}
