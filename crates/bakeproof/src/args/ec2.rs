//! EC2 on the lifecycle commands (docs/lifecycle.md "EC2"): `--ec2` on the
//! commands that write a record, `lifecycle find-usage` and `lifecycle
//! cleanup`.

use clap::{Args, ValueEnum};

use super::lifecycle::ReaderArgs;
use super::store::StoreArgs;

/// `--ec2`, flattened into the lifecycle commands that write records
/// (`lifecycle test|approve|deprecate|revoke|restore`, `channel set`).
#[derive(Args, Debug, Clone, Default)]
pub struct Ec2Args {
    /// Also mirror the AMI's new state to EC2 (its region's API: endpoint
    /// AWS_ENDPOINT_URL_EC2, credentials from the AWS chain): the tags
    /// Status, Application, Version, BuildDate, DeprecationDate and the
    /// record's sequence and digest, and EC2's deprecation time
    /// (EnableImageDeprecation, DisableImageDeprecation after a restore).
    /// The record is written first; an EC2 failure is exit 2.
    #[arg(long)]
    pub ec2: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Ec2Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct FindUsageArgs {
    /// The AMI, REGION:AMI-ID.
    #[arg(value_name = "REGION:AMI-ID")]
    pub ami: String,
    #[arg(long, value_enum, default_value_t = Ec2Format::Text)]
    pub format: Ec2Format,
}

#[derive(Args, Debug)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Trusted public keys (repeatable): only AMIs deprecated by a trusted
    /// record are cleaned up.
    #[command(flatten)]
    pub reader: ReaderArgs,
    /// How many of the newest deprecated AMIs to keep, per region.
    #[arg(long, value_name = "N")]
    pub keep: usize,
    /// The application (label) whose deprecated AMIs are cleaned up.
    #[arg(long, value_name = "APP")]
    pub application: String,
    /// Deregister and delete (default: a dry run that says what it would do).
    #[arg(long)]
    pub yes: bool,
    #[arg(long, value_enum, default_value_t = Ec2Format::Text)]
    pub format: Ec2Format,
}
