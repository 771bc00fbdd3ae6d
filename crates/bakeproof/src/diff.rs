//! `bakeproof diff` (CLI side): reads two CycloneDX JSON SBOMs, prints the
//! difference (text, JSON or Markdown) and maps `--fail-on` to exit 1.
//! The comparison itself is `bakeproof_sbom::diff`; see docs/diff.md.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bakeproof_sbom::diff::{self, ChangeKind};
use clap::{Args, ValueEnum};

use crate::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Grouped by kind; coloured on a terminal unless NO_COLOR is set.
    Text,
    /// `schemas/diff.schema.json`.
    Json,
    /// For change records and pull-request comments.
    Markdown,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old SBOM: a CycloneDX JSON file, or `REGION:AMI-ID` looked up in
    /// `--store` (its attestation verified with `--key` before use).
    pub old: String,
    /// The new SBOM.
    pub new: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Exit 1 when a change of one of these kinds exists (comma-separated):
    /// added, removed, upgraded, downgraded, rebuilt, license, supplier,
    /// added-files, removed-files, modified-files, mode-changes,
    /// unowned-files, or all.
    #[arg(long, value_name = "KINDS")]
    pub fail_on: Option<String>,
    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Attestation store to look `REGION:AMI-ID` up in (s3://BUCKET[/PREFIX],
    /// file:///DIR or a directory).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Public key the AMI's SBOM attestation must be signed with.
    #[arg(long, value_name = "PUB")]
    pub key: Option<PathBuf>,
}

/// `REGION:AMI-ID`, e.g. `eu-west-1:ami-0123456789abcdef0`.
fn is_ami_ref(s: &str) -> bool {
    let Some((region, ami)) = s.split_once(':') else {
        return false;
    };
    let region_ok = region.split('-').count() >= 3
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ami_ok = ami
        .strip_prefix("ami-")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
    region_ok && ami_ok
}

/// The SBOM bytes of `arg`: a file, or `REGION:AMI-ID` looked up in the
/// store, its SBOM attestation verified (signature with `key`, the AMI
/// among the subjects, a referenced SBOM checked against its pinned digest)
/// before anything of it is used. Fail-closed: any doubt is an error.
fn read(arg: &str, store: Option<&str>, key: Option<&Path>) -> Result<Vec<u8>> {
    let path = Path::new(arg);
    if !is_ami_ref(arg) || path.exists() {
        return std::fs::read(path).with_context(|| format!("cannot read {arg}"));
    }
    let (Some(url), Some(key)) = (store, key) else {
        bail!(
            "{arg}: looking up an AMI needs --store URL and --key PUB (to verify its attestation)"
        );
    };
    let ami = bakeproof_attest::AmiRef::parse(arg).map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
    let pem = std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
    let key = bakeproof_attest::PublicKey::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let store = bakeproof_store::open(url).map_err(|e| anyhow::anyhow!("store {url}: {e}"))?;
    let sref = bakeproof_store::AmiRef {
        region: ami.region.clone(),
        ami_id: ami.ami_id.clone(),
    };
    let index = store
        .get_index(&sref)
        .map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
    let policy = bakeproof_attest::VerifyPolicy {
        key,
        ami: Some(ami),
        kind: Some(bakeproof_attest::PredicateKind::Sbom),
        tree_digest: None,
    };
    let mut last_err = None;
    for entry in &index.entries {
        let Ok(blob) = store.get_blob(&entry.sha256) else {
            continue;
        };
        match bakeproof_attest::verify_bundle(&blob, &policy) {
            Ok(st) => {
                return match &st.sbom_ref {
                    Some(r) => {
                        let b = store
                            .get_blob(&r.sha256)
                            .map_err(|e| anyhow::anyhow!("{arg}: referenced SBOM: {e}"))?;
                        r.check(&b).map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
                        Ok(b)
                    }
                    None => Ok(serde_json::to_vec(&st.predicate)?),
                };
            }
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => bail!("{arg}: no SBOM attestation verifies: {e}"),
        None => bail!("{arg}: the store holds no SBOM attestation for this AMI"),
    }
}

pub fn run(args: DiffArgs) -> Result<u8> {
    let fail_on = match &args.fail_on {
        Some(s) => diff::parse_fail_on(s).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    let (store, key) = (args.store.as_deref(), args.key.as_deref());
    let (old_bytes, new_bytes) = (read(&args.old, store, key)?, read(&args.new, store, key)?);
    // both documents parsed at once (the larger cost for 100k-file SBOMs)
    let (old, new) = std::thread::scope(|s| {
        let h = s.spawn(|| diff::parse(&old_bytes));
        let new = diff::parse(&new_bytes);
        (h.join().expect("parse does not panic"), new)
    });
    let old = old.with_context(|| args.old.clone())?;
    let new = new.with_context(|| args.new.clone())?;
    let d = diff::diff(&old, &new);
    // The process ends right after: freeing hundreds of thousands of parsed
    // components one by one would only cost time.
    std::mem::forget((old, new));
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match args.format {
        DiffFormat::Text => diff::render_text(&d, color),
        DiffFormat::Markdown => diff::render_markdown(&d),
        DiffFormat::Json => diff::render_json(&d),
    };
    match &args.output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e).context("cannot write to standard output"),
            }
        }
    }
    std::mem::forget((old_bytes, new_bytes));
    let hit = ChangeKind::ALL
        .iter()
        .any(|&k| fail_on.contains(k.as_str()) && d.count(k) > 0);
    Ok(if hit { exit::FINDINGS } else { exit::OK })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ami_refs() {
        assert!(super::is_ami_ref("eu-west-1:ami-0123456789abcdef0"));
        assert!(!super::is_ami_ref("old.json"));
        assert!(!super::is_ami_ref("C:ami-1"));
    }
}
