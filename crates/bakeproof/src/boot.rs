//! `bakeproof verify`: the first-boot check, CLI side: flags -> a
//! [`BootConfig`] -> [`bakeproof_boot::verify`] -> the report rendered as
//! text or JSON -> its exit code. The checks themselves are the library's
//! (crates/bakeproof-boot). Rules, exit codes and the systemd unit:
//! docs/boot.md; result schema: schemas/boot-result.schema.json.
//!
//! Fail-closed: every step that cannot be completed is a failure. Exit 0
//! verified, 1 failed, 2 could not verify (IMDS or the store unreachable,
//! or a usage or configuration error).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bakeproof_attest::AmiRef;
use bakeproof_boot::{AllowWarn, AmiChoice, BootConfig, BootReport, ConfigError, Ignored};
use bakeproof_imds::ImdsConfig;
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
    store: String,
    /// S3 endpoint for S3-compatible servers (default AWS_ENDPOINT_URL_S3 /
    /// AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The store bucket's region (default AWS_REGION / AWS_DEFAULT_REGION,
    /// or the profile's).
    #[arg(long, value_name = "REGION")]
    store_region: Option<String>,
    /// Trusted public keys (cosign.pub); repeatable. Default: every `*.pub`
    /// in /etc/bakeproof/keys on the running system.
    #[arg(long, value_name = "PUB")]
    key: Vec<PathBuf>,
    /// `auto` (from IMDS) or REGION:AMI-ID.
    #[arg(long, default_value = "auto", value_name = "auto|REGION:AMI-ID")]
    ami: String,
    /// The live root filesystem to check.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    #[arg(long, value_enum, default_value_t = Level::Attestation)]
    level: Level,
    #[arg(long, value_enum, default_value_t = BootFormat::Text)]
    format: BootFormat,
    /// IMDS endpoint (default: AWS_EC2_METADATA_SERVICE_ENDPOINT, the
    /// endpoint mode, else http://169.254.169.254).
    #[arg(long, value_name = "URL")]
    imds_endpoint: Option<String>,
    /// Allow IMDSv1 when the token service refuses (off: IMDSv2 only).
    #[arg(long)]
    imds_allow_v1: bool,
    /// AWS identity certificates (PEM) for the instance identity document;
    /// when given, the document must verify and name this AMI. Repeatable.
    #[arg(long, value_name = "PEM")]
    identity_cert: Vec<PathBuf>,
    /// Seal-check ids whose warnings are tolerated (`all`: any). Failing
    /// checks are never tolerated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    allow_warn: Vec<String>,
    /// Extra expected-mutable path globs (added to the defaults).
    #[arg(long, value_name = "GLOB")]
    mutable: Vec<String>,
    /// Do not use the default expected-mutable globs.
    #[arg(long)]
    no_default_mutable: bool,
    /// Which time a live SSH host key must be newer than (docs/boot.md,
    /// ssh-host-keys): `launch`, the instance's launch (IMDS `pendingTime`:
    /// for a check run once at first boot; after a stop and start every key
    /// is older); `image`, the seal report's time (survives stop/start);
    /// `off`.
    #[arg(long, value_enum, default_value_t = HostKeyAge::Launch)]
    host_key_age: HostKeyAge,
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

/// The flags as the library's settings. Usage and configuration errors
/// (unreadable keys or certificates, a bad glob, AMI or IMDS endpoint)
/// are errors here: exit 2 before anything is checked.
fn config(args: &BootVerifyArgs) -> Result<BootConfig> {
    let dir = Path::new(bakeproof_boot::DEFAULT_KEY_DIR);
    let keys = bakeproof_boot::load_trusted_keys(&args.key, dir).map_err(|e| match e {
        ConfigError::NoKeys { .. } => {
            anyhow::anyhow!("no trusted keys (--key, or *.pub in {})", dir.display())
        }
        ConfigError::KeyDir { source, .. } => anyhow::Error::new(source)
            .context(format!("no --key given and {} unreadable", dir.display())),
        e => e.into(),
    })?;
    let identity_certs = bakeproof_boot::load_identity_certs(&args.identity_cert)?;
    let ignored = Ignored::new(!args.no_default_mutable, &args.mutable).map_err(|e| match e {
        ConfigError::Glob { glob, source } => {
            anyhow::Error::new(source).context(format!("--mutable {glob:?}"))
        }
        e => e.into(),
    })?;
    let ami = if args.ami == "auto" {
        AmiChoice::Imds
    } else {
        AmiChoice::Given(AmiRef::parse(&args.ami)?)
    };
    let imds = match &args.imds_endpoint {
        Some(ep) => ImdsConfig::default().with_endpoint(ep)?,
        None => ImdsConfig::from_env()?,
    };
    Ok(BootConfig {
        store: args.store.clone(),
        store_options: bakeproof_store::StoreOptions {
            endpoint_url: args.endpoint_url.clone(),
            region: args.store_region.clone(),
        },
        keys,
        ami,
        imds: ImdsConfig {
            allow_v1: args.imds_allow_v1,
            ..imds
        },
        identity_certs,
        root: args.root.clone(),
        level: args.level.into(),
        allow_warn: AllowWarn::from_ids(&args.allow_warn),
        ignored,
        host_key_age: args.host_key_age.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub fn run(args: BootVerifyArgs) -> Result<u8> {
    let config = config(&args)?;
    let report = bakeproof_boot::verify(&config);
    let mut out = std::io::stdout().lock();
    match args.format {
        BootFormat::Json => {
            let mut s = report.to_json();
            s.push('\n');
            out.write_all(s.as_bytes())?;
        }
        BootFormat::Text => render_text(&report, args.level, &mut out)?,
    }
    out.flush().context("writing to standard output")?;
    Ok(report.exit_code())
}

/// One line per check, the first 50 differences, the outcome.
fn render_text(r: &BootReport, level: Level, out: &mut dyn std::io::Write) -> Result<()> {
    for c in &r.checks {
        writeln!(
            out,
            "{} {:<14} {}",
            if c.ok { "PASS" } else { "FAIL" },
            c.id,
            c.detail
        )?;
    }
    let d = &r.differences;
    let rows = d
        .packages
        .iter()
        .map(|p| (p.change.as_str(), p.package.clone()))
        .chain(d.files.iter().map(|f| (f.change.as_str(), f.shown_path())));
    for (change, name) in rows.take(50) {
        writeln!(out, "  {change} {name}")?;
    }
    let more = (d.packages.len() + d.files.len()).saturating_sub(50);
    if more > 0 {
        writeln!(out, "  ... {more} more")?;
    }
    let ami = r
        .ami
        .as_ref()
        .map(|a| a.ami.to_string())
        .unwrap_or_else(|| "?".into());
    writeln!(
        out,
        "{}: {ami} at level {level:?} ({} ms)",
        r.result.as_str().to_uppercase(),
        r.elapsed_ms
    )?;
    Ok(())
}
