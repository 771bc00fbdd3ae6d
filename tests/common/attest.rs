//! The inputs of `bakeproof attest` for the Debian fixture root, as the
//! attest, store and boot tests start from.

use std::path::PathBuf;
use std::process::Command;

use super::run::{bakeproof, bakeproof_bin, describe, extract, scan_to_json};

/// A directory with `sbom.cdx.json` (the scan of the clean fixture root),
/// `seal.json` (its `seal check --format json`) and a key pair `cosign.key`,
/// `cosign.pub` (`key generate`).
pub struct AttestInputs {
    pub dir: tempfile::TempDir,
    pub root: tempfile::TempDir,
    /// The SBOM's tree digest (hex).
    pub tree_digest: String,
}

impl AttestInputs {
    pub fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn s(&self, name: &str) -> String {
        self.p(name).to_str().unwrap().to_string()
    }
}

/// Scans the fixture root, writes its seal report and a key pair encrypted
/// with `password`.
pub fn attest_inputs(password: &str) -> AttestInputs {
    let inputs = attest_inputs_without_key();
    let o = Command::new(bakeproof_bin())
        .args(["key", "generate", "--output-dir"])
        .arg(inputs.dir.path())
        .env("COSIGN_PASSWORD", password)
        .output()
        .expect("run bakeproof");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    inputs
}

/// Scans the fixture root and writes its seal report; no key (the KMS
/// tests sign with keys that never leave KMS).
pub fn attest_inputs_without_key() -> AttestInputs {
    let root = extract("dpkgroot/clean.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let (c, sbom, err) = scan_to_json(root.path(), &dir.path().join("sbom.cdx.json"), &[]);
    assert_eq!(c, 0, "{err}");
    let tree_digest = sbom["metadata"]["component"]["hashes"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    // The real seal report of the same root.
    let o = bakeproof(&[
        "seal".as_ref(),
        "check".as_ref(),
        root.path().as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", describe(&o));
    std::fs::write(dir.path().join("seal.json"), &o.stdout).unwrap();
    AttestInputs {
        dir,
        root,
        tree_digest,
    }
}
