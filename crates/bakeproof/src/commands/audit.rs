//! `bakeproof audit`: the image against its design document.

use std::path::Path;

use anyhow::{Context, Result, bail};
use bakeproof_audit::facts::ReadOptions;
use bakeproof_audit::facts::packages::PackageFacts;
use bakeproof_audit::report::ImageIdentity;
use bakeproof_audit::{Design, Facts, design, render};
use bakeproof_index::Root;

use super::source_date_epoch;
use crate::args::audit::{AuditArgs, AuditFormat};
use crate::output::{exit, write_output};

pub fn run(args: AuditArgs) -> Result<u8> {
    // The design first: a bad design document is an input error (exit 2)
    // before anything is read from the image.
    let mut design = Design::default();
    for path in &args.design {
        let bytes =
            super::read_capped(path, design::MAX_DESIGN_BYTES as u64, "design document", "")?;
        design.merge(design::parse_file(&bytes, &path.display().to_string())?);
    }
    if design.is_empty() {
        bail!(
            "the design documents ({}) state no requirement",
            args.design
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (facts, image) = match &args.sbom {
        Some(sbom) => {
            let (bytes, shown) = sbom_bytes(sbom, &args)?;
            facts_of_sbom(&bytes, &shown)?
        }
        None => {
            let root_path = args.root.clone().unwrap_or_else(|| "/".into());
            let root = Root::open(&root_path)?;
            let opts = ReadOptions {
                live: args.live,
                tree_digest: !args.no_tree_digest,
                threads: args.threads,
            };
            let facts = Facts::read(&root, &opts)?;
            let image = ImageIdentity {
                source: root_path.display().to_string(),
                tree_digest: None,
                name: None,
            };
            (facts, image)
        }
    };
    let secs = source_date_epoch()?.unwrap_or_else(bakeproof_sbom::cyclonedx::now_secs);
    let date = bakeproof_sbom::cyclonedx::rfc3339(secs).unwrap_or_default();
    let report = bakeproof_audit::check::report(&design, &facts, image, date);
    write_output(args.output.as_deref(), |w| {
        match args.format {
            AuditFormat::Text => w.write_all(render::text(&report).as_bytes())?,
            AuditFormat::Json => w.write_all(&render::json(&report))?,
            AuditFormat::Markdown => w.write_all(render::markdown(&report).as_bytes())?,
        }
        Ok(())
    })?;
    for w in &report.warnings {
        crate::output::warn(w);
    }
    Ok(match report.exit_code() {
        0 => exit::OK,
        _ => exit::FINDINGS,
    })
}

/// The SBOM `--sbom` names: a file, or `REGION:AMI-ID`, the AMI's SBOM
/// attestation from the store, fetched and verified with `--key` as the
/// boot check and `diff` do ([`bakeproof_boot::fetch_attestations`]: every
/// bundle the index lists, the AMI among the subjects, a referenced SBOM
/// against its pinned digest). Fail-closed: any doubt is an error.
fn sbom_bytes(arg: &str, args: &AuditArgs) -> Result<(Vec<u8>, String)> {
    let max = bakeproof_sbom::cyclonedx::decoder::MAX_SBOM_BYTES;
    let path = Path::new(arg);
    let ami = match bakeproof_attest::AmiRef::parse(arg) {
        Ok(ami) if !path.exists() => ami,
        _ => {
            return Ok((
                super::read_capped(path, max, "SBOM", "")?,
                path.display().to_string(),
            ));
        }
    };
    let opts = super::lookup_options(&args.lookup)?;
    let (Some(url), Some(key)) = (&args.lookup.store, &args.lookup.key) else {
        bail!(
            "--sbom {arg}: looking up an AMI needs --store URL and --key PUB (to verify its attestation)"
        );
    };
    let (store, att) =
        super::fetch_ami(arg, &ami, url, &opts, key, bakeproof_boot::SealWanted::Skip)?;
    if att.sbom.entry.size > max {
        bail!("{arg}: the SBOM attestation is larger than {max} bytes");
    }
    let bytes = att
        .sbom_document(&*store)
        .map_err(|e| super::fetch_error(arg, e))?;
    Ok((bytes, arg.to_owned()))
}

/// Packages (and the tree digest) from an SBOM; every other fact is not
/// assessed.
fn facts_of_sbom(bytes: &[u8], shown: &str) -> Result<(Facts, ImageIdentity)> {
    let sbom = bakeproof_sbom::cyclonedx::decoder::parse(bytes)
        .with_context(|| format!("SBOM {shown}"))?;
    let shown = shown.to_owned();
    let facts = Facts {
        packages: Some(PackageFacts::of_sbom(&sbom, &shown)),
        tree_digest: sbom.tree_digest(),
        ..Default::default()
    };
    let image = ImageIdentity {
        source: shown,
        tree_digest: sbom.tree_digest(),
        name: None,
    };
    Ok((facts, image))
}
