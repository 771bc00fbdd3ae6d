//! `bakeproof version`, `completion` and `man`.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use serde_json::json;

use crate::args::Cli;
use crate::args::meta::{CompletionArgs, ManArgs, VersionArgs};
use crate::output::exit;

/// What the build script recorded (crates/bakeproof/build.rs).
pub struct BuildInfo {
    pub version: &'static str,
    pub commit: &'static str,
    /// RFC 3339 UTC; `None` when the build had no git history.
    pub commit_date: Option<String>,
    pub build_date: Option<String>,
    pub target: &'static str,
    pub profile: &'static str,
    pub rustc: &'static str,
}

fn rfc3339(secs: &str) -> Option<String> {
    let secs: i64 = secs.trim().parse().ok()?;
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

impl BuildInfo {
    pub fn of_this_binary() -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: env!("BAKEPROOF_BUILD_COMMIT"),
            commit_date: rfc3339(env!("BAKEPROOF_BUILD_COMMIT_TIME")),
            build_date: rfc3339(env!("BAKEPROOF_BUILD_TIME")),
            target: env!("BAKEPROOF_BUILD_TARGET"),
            profile: env!("BAKEPROOF_BUILD_PROFILE"),
            rustc: env!("BAKEPROOF_BUILD_RUSTC"),
        }
    }

    /// `schemas/version.schema.json`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "name": "bakeproof",
            "version": self.version,
            "commit": self.commit,
            "commit_date": self.commit_date,
            "build_date": self.build_date,
            "target": self.target,
            "profile": self.profile,
            "rustc": self.rustc,
        })
    }
}

pub fn run_version(args: VersionArgs) -> Result<u8> {
    let info = BuildInfo::of_this_binary();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &info.to_json())?;
        writeln!(out)?;
    } else {
        let short = info.commit.get(..12).unwrap_or(info.commit);
        writeln!(
            out,
            "bakeproof {} ({short}{}) {} {}",
            info.version,
            info.commit_date
                .as_deref()
                .map(|d| format!(" {}", d.get(..10).unwrap_or(d)))
                .unwrap_or_default(),
            info.target,
            info.profile,
        )?;
        writeln!(
            out,
            "built {} with {}",
            info.build_date.as_deref().unwrap_or("?"),
            info.rustc
        )?;
    }
    Ok(exit::OK)
}

pub fn run_completion(args: CompletionArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "bakeproof", &mut out);
    out.flush()?;
    Ok(exit::OK)
}

pub fn run_man(args: ManArgs) -> Result<u8> {
    let dir = &args.output_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("writing manual pages into {}", dir.display()))?;
    Ok(exit::OK)
}
