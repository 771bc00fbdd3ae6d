//! `bakeproof attest-artifacts`, `bakeproof verify-artifacts`: the work is
//! in `bakeproof_attest::artifacts` (docs/attest.md, "Artifacts").

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use bakeproof_attest::artifacts::{Artifact, artifact_statement, verify_artifacts};
use bakeproof_attest::{PublicKey, TrustedKeys};

use crate::args::artifacts::{AttestArtifactsArgs, VerifyArtifactsArgs};
use crate::output::write_output;

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("{}", p.display()))
}

fn artifacts(files: &[std::path::PathBuf]) -> Result<Vec<Artifact>> {
    files
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow!("{}: not a UTF-8 file name", p.display()))?;
            Ok(Artifact::of(name, &read(p)?))
        })
        .collect()
}

pub fn run_attest(a: AttestArtifactsArgs) -> Result<u8> {
    let arts = artifacts(&a.files)?;
    let sbom: serde_json::Value = serde_json::from_slice(&read(&a.sbom)?)
        .with_context(|| format!("{}: not JSON", a.sbom.display()))?;
    let statement = artifact_statement(&arts, sbom)?;
    let key = crate::commands::attest::open_signer(&a.key)?;
    let bundle = bakeproof_attest::verify::sign_bundle(&statement, key.as_ref())?;
    write_output(Some(&a.output), |w| {
        serde_json::to_writer_pretty(&mut *w, &bundle)?;
        writeln!(w)?;
        Ok(())
    })?;
    eprintln!(
        "wrote {}: {} artifacts, key id {}",
        a.output.display(),
        arts.len(),
        key.public_key().keyid()
    );
    Ok(0)
}

pub fn run_verify(a: VerifyArtifactsArgs) -> Result<u8> {
    let key =
        PublicKey::from_pem(&read(&a.key)?).with_context(|| format!("{}", a.key.display()))?;
    let arts = artifacts(&a.files)?;
    let bundle = read(&a.bundle)?;
    match verify_artifacts(&bundle, &TrustedKeys::from(key), &arts) {
        Ok(v) => {
            for f in &arts {
                println!(
                    "{}: verified (sha256:{}, key id {})",
                    f.name, f.sha256, v.keyid
                );
            }
            Ok(0)
        }
        Err(e) => {
            println!("{}: INVALID: {e}", a.bundle.display());
            Ok(1)
        }
    }
}
