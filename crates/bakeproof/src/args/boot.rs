//! `bakeproof verify`'s flags (the first-boot check; the command is
//! `crate::commands::boot`). Rules, exit codes and the systemd unit:
//! docs/boot.md.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Exit codes of `bakeproof verify`, as the first-boot contract fixes them:
/// 0 verified, 1 failed, 2 could not verify. "Could not verify" covers both
/// an unreachable IMDS or store and a usage or configuration error (clap,
/// unreadable keys, mapped by `main`): in both cases nothing was proven, and a
/// unit or script only has to tell "image bad" (1) from "check impossible" (2).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Signatures, subjects, seal report, identity freshness.
    Attestation,
    /// ... and the installed packages against the attested SBOM.
    Packages,
    /// ... and every entry (content, type, target, mode, owner, ...).
    Files,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct BootVerifyArgs {
    /// The attestation store (`s3://BUCKET/PREFIX`, `file:///DIR`, a directory).
    #[arg(long, env = "BAKEPROOF_STORE", value_name = "URL")]
    pub store: String,
    #[command(flatten)]
    pub s3: crate::args::store::S3Args,
    /// Trusted public keys (cosign.pub); repeatable. Default: every `*.pub`
    /// in /etc/bakeproof/keys on the running system.
    #[arg(long, value_name = "PUB", env = "BAKEPROOF_PUBLIC_KEY")]
    pub key: Vec<PathBuf>,
    /// `auto` (from IMDS) or REGION:AMI-ID.
    #[arg(long, default_value = "auto", value_name = "auto|REGION:AMI-ID")]
    pub ami: String,
    /// The live root filesystem to check.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    #[arg(long, value_enum, default_value_t = Level::Attestation)]
    pub level: Level,
    #[arg(long, value_enum, default_value_t = BootFormat::Text)]
    pub format: BootFormat,
    /// IMDS endpoint (default: AWS_EC2_METADATA_SERVICE_ENDPOINT, the
    /// endpoint mode, else http://169.254.169.254).
    #[arg(long, value_name = "URL")]
    pub imds_endpoint: Option<String>,
    /// Allow IMDSv1 when the token service refuses (off: IMDSv2 only).
    #[arg(long)]
    pub imds_allow_v1: bool,
    /// AWS identity certificates (PEM) for the instance identity document;
    /// when given, the document must verify and name this AMI. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub identity_cert: Vec<PathBuf>,
    /// Seal-check ids whose warnings are tolerated (`all`: any). Failing
    /// checks are never tolerated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub allow_warn: Vec<String>,
    /// Extra expected-mutable path globs (added to the defaults).
    #[arg(long, value_name = "GLOB")]
    pub mutable: Vec<String>,
    /// Do not use the default expected-mutable globs.
    #[arg(long)]
    pub no_default_mutable: bool,
    /// Which time a live SSH host key must be newer than (docs/boot.md,
    /// ssh-host-keys): `launch`, the instance's launch (IMDS `pendingTime`:
    /// for a check run once at first boot; after a stop and start every key
    /// is older); `image`, the seal report's time (survives stop/start);
    /// `off`.
    #[arg(long, value_enum, default_value_t = HostKeyAge::Launch)]
    pub host_key_age: HostKeyAge,
    /// Require a passing audit report (`bakeproof attest --audit`) among
    /// the AMI's attestations, signed by a trusted key and of the attested
    /// tree (check `audit`): missing or failing fails the instance.
    #[arg(long)]
    pub require_audit: bool,
    /// The `lifecycle` check (docs/lifecycle.md): `auto` checks the AMI's
    /// signed lifecycle when the store has one (a status document; records
    /// without one fail), `required` fails a store without a valid status
    /// document, `off` does not read it.
    #[arg(long, value_enum, default_value_t = LifecycleMode::Auto)]
    pub lifecycle: LifecycleMode,
    /// Fail unless the AMI is in this state (implies `--lifecycle required`).
    #[arg(long, value_enum, value_name = "STATE")]
    pub require: Option<RequireState>,
    /// A deprecated AMI: `warn` until its effective date (then it fails),
    /// or `fail`.
    #[arg(long, value_enum, default_value_t = DeprecatedMode::Warn)]
    pub deprecated: DeprecatedMode,
    /// The file holding the highest status document version accepted
    /// (per store): a lower one is refused as rolled back. Written only
    /// after a status document is accepted, never lowered.
    #[arg(long, value_name = "FILE", default_value = bakeproof_boot::DEFAULT_STATUS_STATE)]
    pub status_state: PathBuf,
    /// Also write the result, with this instance's id, AMI, region, time
    /// and machine-id hash, to this store's reports/ (s3://BUCKET[/PREFIX],
    /// file:///DIR, a directory; the attestation store or one of its own):
    /// `bakeproof query --reports` finds the fleet's failures and ghost
    /// identities there. A report that cannot be written is a warning; the
    /// exit code stays the verification's.
    #[arg(long, value_name = "URL", env = "BAKEPROOF_REPORT")]
    pub report: Option<String>,
}

/// See `--lifecycle`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleMode {
    Off,
    Auto,
    Required,
}

/// See `--require`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequireState {
    Testing,
    Approved,
}

/// See `--deprecated`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeprecatedMode {
    Warn,
    Fail,
}

/// See `--host-key-age`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyAge {
    Launch,
    Image,
    Off,
}

impl From<Level> for bakeproof_boot::Level {
    fn from(l: Level) -> Self {
        match l {
            Level::Attestation => bakeproof_boot::Level::Attestation,
            Level::Packages => bakeproof_boot::Level::Packages,
            Level::Files => bakeproof_boot::Level::Files,
        }
    }
}

impl From<HostKeyAge> for bakeproof_boot::HostKeyAge {
    fn from(a: HostKeyAge) -> Self {
        match a {
            HostKeyAge::Launch => bakeproof_boot::HostKeyAge::Launch,
            HostKeyAge::Image => bakeproof_boot::HostKeyAge::Image,
            HostKeyAge::Off => bakeproof_boot::HostKeyAge::Off,
        }
    }
}
