//! `bakeproof lifecycle ...` and `bakeproof channel ...` (docs/lifecycle.md).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::args::store::StoreArgs;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum LifecycleCommand {
    /// Record a published AMI as in testing (built -> testing).
    #[command(disable_version_flag = true)]
    Test(RecordArgs),
    /// Approve an AMI (built or testing -> approved).
    #[command(disable_version_flag = true)]
    Approve(RecordArgs),
    /// Deprecate an approved AMI, now or from `--at DATE` (boots warn until
    /// then and fail after).
    #[command(disable_version_flag = true)]
    Deprecate(RecordArgs),
    /// Revoke an AMI (`--reason` required): boots of it fail.
    #[command(disable_version_flag = true)]
    Revoke(RecordArgs),
    /// Restore a revoked AMI to the state it had (`--reason` required).
    #[command(disable_version_flag = true)]
    Restore(RecordArgs),
    /// The AMI's state, checked against the store's status document.
    Status(ShowArgs),
    /// The AMI's records, oldest first (and the objects ignored).
    History(ShowArgs),
    /// Every AMI in the store with its state, application, version and
    /// build date, newest first.
    List(ListArgs),
    /// Re-sign the store's status document (version one higher, a new
    /// expiry): run it from a scheduler well within `--valid-for`.
    Refresh(RefreshArgs),
    /// The instances launched from an AMI (EC2 DescribeInstances).
    FindUsage(super::ec2::FindUsageArgs),
    /// Deregister the application's deprecated AMIs beyond the newest N
    /// and delete their snapshots (a dry run unless --yes; images still
    /// used by instances are skipped).
    Cleanup(super::ec2::CleanupArgs),
}

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Point channel NAME (in the AMI's region) at an approved AMI: a
    /// signed pointer appended to the channel's history (rollback: set it
    /// back).
    Set(ChannelSetArgs),
    /// Print the AMI id the channel points at (for launch templates).
    Get(ChannelShowArgs),
    /// The channel's pointers, oldest first.
    History(ChannelShowArgs),
}

/// The signing key of a write, and the other keys whose records count.
#[derive(Args, Debug)]
pub struct WriterArgs {
    /// The signing key: a cosign private key file (password from
    /// COSIGN_PASSWORD or a prompt), or an AWS KMS key (awskms:///alias/NAME,
    /// awskms:///KEY-ID, awskms:///ARN), as for `attest`.
    #[arg(long, value_name = "FILE|awskms:///KEY", env = "BAKEPROOF_KEY")]
    pub key: String,
    /// The AWS region of a KMS key (default: the ARN's, else AWS_REGION /
    /// AWS_DEFAULT_REGION).
    #[arg(long, value_name = "REGION")]
    pub kms_region: Option<String>,
    /// Other public keys whose records are part of the chains (the signing
    /// key's own always is); repeatable. Records signed by any other key
    /// are ignored.
    #[arg(long, value_name = "PUB")]
    pub trusted_key: Vec<PathBuf>,
    /// Validity of the status document written.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub valid_for: String,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The AMI, REGION:AMI-ID (published in the store).
    #[arg(value_name = "REGION:AMI-ID")]
    pub ami: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub writer: WriterArgs,
    /// Why (required for revoke and restore).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Deprecate: effective from this date (RFC 3339 or YYYY-MM-DD;
    /// default now).
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Label: the application the AMI is built for.
    #[arg(long, value_name = "A")]
    pub application: Option<String>,
    /// Label: the application's version (`bakeproof version` prints
    /// bakeproof's own: these commands have no `--version` flag).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Label: the build date (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "D")]
    pub build_date: Option<String>,
    /// Packer's manifest: labels from the build's custom_data
    /// (Application, Version, BuildDate, others kept as they are) and its
    /// build_time.
    #[arg(long, value_name = "FILE")]
    pub packer_manifest: Option<PathBuf>,
    #[command(flatten)]
    pub ec2: super::ec2::Ec2Args,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}

/// The public keys a reader trusts.
#[derive(Args, Debug)]
pub struct ReaderArgs {
    /// Trusted public keys (cosign.pub); repeatable. Records signed by any
    /// other key are ignored; the status document must be signed by one.
    #[arg(
        long,
        value_name = "PUB",
        env = "BAKEPROOF_PUBLIC_KEY",
        required = true
    )]
    pub key: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[arg(value_name = "REGION:AMI-ID")]
    pub ami: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub reader: ReaderArgs,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub reader: ReaderArgs,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}

#[derive(Args, Debug)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub writer: WriterArgs,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}

#[derive(Args, Debug)]
pub struct ChannelSetArgs {
    /// The channel: 1 to 64 of a-z 0-9 . _ -.
    pub name: String,
    /// The approved AMI, REGION:AMI-ID (the channel is in its region).
    #[arg(value_name = "REGION:AMI-ID")]
    pub ami: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub writer: WriterArgs,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Deprecate the AMI the channel pointed at before (now, or from `--at`).
    #[arg(long)]
    pub deprecate_previous: bool,
    /// With --deprecate-previous: effective from this date.
    #[arg(long, value_name = "DATE", requires = "deprecate_previous")]
    pub at: Option<String>,
    /// With --deprecate-previous: mirror the deprecated AMI's state to EC2.
    #[command(flatten)]
    pub ec2: super::ec2::Ec2Args,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}

#[derive(Args, Debug)]
pub struct ChannelShowArgs {
    pub name: String,
    /// The channel's region (the AMIs').
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// The store: s3://BUCKET[/PREFIX], file:///DIR, or a directory path.
    #[arg(long, value_name = "URL", env = "BAKEPROOF_STORE")]
    pub store: String,
    /// S3 endpoint for S3-compatible servers (default AWS_ENDPOINT_URL_S3 /
    /// AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The store bucket's region (default AWS_REGION / AWS_DEFAULT_REGION).
    #[arg(long, value_name = "REGION")]
    pub store_region: Option<String>,
    #[command(flatten)]
    pub reader: ReaderArgs,
    #[arg(long, value_enum, default_value_t = LifecycleFormat::Text)]
    pub format: LifecycleFormat,
}
