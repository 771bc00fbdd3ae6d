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
use std::path::Path;

use anyhow::{Context, Result};
use bakeproof_attest::AmiRef;
use bakeproof_boot::{AllowWarn, AmiChoice, BootConfig, BootReport, ConfigError, Ignored};
use bakeproof_imds::ImdsConfig;

use bakeproof_lifecycle::State;
use bakeproof_lifecycle::boot::{DeprecatedPolicy, Enforcement, Verdict};

use crate::args::boot::{
    BootFormat, BootVerifyArgs, DeprecatedMode, Level, LifecycleMode, RequireState,
};

/// The flags as the library's settings. Usage and configuration errors
/// (unreadable keys or certificates, a bad glob, AMI or IMDS endpoint)
/// are errors here: exit 2 before anything is checked.
fn config(args: &BootVerifyArgs) -> Result<BootConfig> {
    bakeproof_store::check_options(&args.store, &args.s3.options())?;
    if args.lifecycle == LifecycleMode::Off && args.require.is_some() {
        anyhow::bail!("--require needs the lifecycle check (--lifecycle off given)");
    }
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
        store_options: args.s3.options(),
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
        require_audit: args.require_audit,
        lifecycle: bakeproof_boot::LifecycleConfig {
            enforcement: match args.lifecycle {
                LifecycleMode::Off => Enforcement::Off,
                LifecycleMode::Auto if args.require.is_none() => Enforcement::Auto,
                LifecycleMode::Auto | LifecycleMode::Required => Enforcement::Required,
            },
            require: args.require.map(|r| match r {
                RequireState::Testing => State::Testing,
                RequireState::Approved => State::Approved,
            }),
            deprecated: match args.deprecated {
                DeprecatedMode::Warn => DeprecatedPolicy::Warn,
                DeprecatedMode::Fail => DeprecatedPolicy::Fail,
            },
            state_file: Some(args.status_state.clone()),
        },
        tool_version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub fn run(args: BootVerifyArgs) -> Result<u8> {
    let config = config(&args)?;
    if let Some(url) = &args.report {
        report_options(url, &args)?;
    }
    let report = bakeproof_boot::verify(&config);
    if let Some(url) = &args.report {
        write_report(url, &args, &report);
    }
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

/// The report store's options: the S3 flags when it is a bucket.
fn report_options(url: &str, args: &BootVerifyArgs) -> Result<bakeproof_store::StoreOptions> {
    if url.starts_with("s3://") {
        Ok(args.s3.options())
    } else {
        let o = bakeproof_store::StoreOptions::default();
        bakeproof_store::check_options(url, &o)?;
        Ok(o)
    }
}

/// `--report URL`: the result, with this instance's identity, to the
/// fleet's reports (docs/fleet.md). A failure is a warning: the exit code
/// stays the verification's.
fn write_report(url: &str, args: &BootVerifyArgs, report: &BootReport) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let machine_id = bakeproof_fleet::reports::read_machine_id(&args.root);
    let record = bakeproof_fleet::reports::BootRecord::new(report, machine_id.as_deref(), now_ms);
    let result = report_options(url, args)
        .map_err(|e| e.to_string())
        .and_then(|o| bakeproof_store::open_with(url, &o).map_err(|e| e.to_string()))
        .and_then(|s| {
            bakeproof_fleet::reports::write_report(s.as_ref(), &record, now_ms)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(w) => log::info!("boot report written to {}/{}", w.location, w.json_key),
        Err(e) => crate::output::warn(format!("--report {url}: the result was not reported: {e}")),
    }
}

/// One line per check, the first 50 differences, the outcome.
fn render_text(r: &BootReport, level: Level, out: &mut dyn std::io::Write) -> Result<()> {
    let warned = r
        .lifecycle
        .as_ref()
        .is_some_and(|l| l.verdict == Verdict::Warn);
    for c in &r.checks {
        writeln!(
            out,
            "{} {:<14} {}",
            match (c.ok, c.id) {
                (true, "lifecycle") if warned => "WARN",
                (true, _) => "PASS",
                (false, _) => "FAIL",
            },
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
    let ami = r.ami.as_ref().map_or_else(
        || "AMI unknown (not resolved)".to_owned(),
        |a| a.ami.to_string(),
    );
    writeln!(
        out,
        "{}: {ami} at level {} ({} ms)",
        r.result.as_str().to_uppercase(),
        bakeproof_boot::Level::from(level).as_str(),
        r.elapsed_ms
    )?;
    Ok(())
}
