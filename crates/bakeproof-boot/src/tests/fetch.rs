//! The fetch-and-verify decisions against a local store in a tempdir, the
//! attestations made and published by the attest and store crates.

use std::path::{Path, PathBuf};

use bakeproof_attest::{
    AmiRef, AttestRequest, PredicateKind, PrivateKey, TrustedKeys, VerifyError, attest,
};
use bakeproof_store::{IndexWrite, LocalStore, Store, StoreError, publish_attest_dir};
use serde_json::{Value, json};

use crate::{FetchError, FetchRequest, SealWanted, fetch_attestations};

const AMI: &str = "eu-west-1:ami-0123456789abcdef0";
const OTHER: &str = "eu-west-1:ami-0fedcba9876543210";

/// A CycloneDX SBOM of the tree `d` (hex).
fn sbom(d: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"type": "container", "name": "img",
            "hashes": [{"alg": "SHA-256", "content": d}]},
            "properties": [{"name": "bakeproof:tree-digest", "value": format!("sha256:{d}")}]},
        "components": []
    }))
    .unwrap()
}

/// A sealed report of the tree `d` (a complete one: attest reads it by
/// the seal crate's rules).
fn seal(d: &str) -> Vec<u8> {
    serde_json::to_vec(&super::seal_report(d, &[("machine-id", "pass")], None)).unwrap()
}

struct Fx {
    dir: tempfile::TempDir,
    key: PrivateKey,
}

impl Fx {
    fn new() -> Fx {
        Fx {
            dir: tempfile::tempdir().unwrap(),
            key: PrivateKey::generate(),
        }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn store(&self) -> LocalStore {
        LocalStore::new(self.p("store"))
    }
    fn keys(&self) -> TrustedKeys {
        self.key.public_key().into()
    }
    /// Attests the SBOM and seal report of tree `d` for `ami` into `out`
    /// (SBOMs over `inline_max` by reference), then publishes it.
    fn publish(&self, out: &str, d: &str, ami: &str, inline_max: u64) {
        let (sbom, seal) = (sbom(d), seal(d));
        attest(
            &AttestRequest {
                sbom: &sbom,
                seal: &seal,
                amis: &[AmiRef::parse(ami).unwrap()],
                key: &self.key,
                inline_sbom_max: inline_max,
                allow_unsealed: false,
                audit: None,
                allow_failing_audit: false,
                tool_version: "0.0.0",
                created: "2024-01-01T00:00:00Z".into(),
            },
            &self.p(out),
        )
        .unwrap();
        publish_attest_dir(&self.store(), &self.p(out), IndexWrite::Replace).unwrap();
    }
    fn index_path(&self, ami: &str) -> PathBuf {
        let (r, a) = ami.split_once(':').unwrap();
        self.p(&format!("store/amis/{r}/{a}/index.json"))
    }
    fn index(&self, ami: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.index_path(ami)).unwrap()).unwrap()
    }
    fn write_index(&self, ami: &str, v: &Value) {
        let p = self.index_path(ami);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    }
    /// The entry of `ami`'s index whose predicate type contains `what`.
    fn entry(&self, ami: &str, what: &str) -> Value {
        self.index(ami)["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["predicate_type"].as_str().unwrap().contains(what))
            .unwrap()
            .clone()
    }
    fn blob(&self, sha: &str) -> PathBuf {
        self.p(&format!("store/blobs/sha256/{sha}"))
    }
    fn fetch(
        &self,
        ami: &str,
        keys: &TrustedKeys,
        seal: SealWanted,
    ) -> Result<crate::Attestations, FetchError> {
        fetch_attestations(
            &self.store(),
            &FetchRequest {
                ami: &AmiRef::parse(ami).unwrap(),
                keys,
                seal,
            },
        )
    }
}

/// Flips one byte of a file, keeping its size.
fn tamper(p: &Path) {
    let mut b = std::fs::read(p).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x20;
    std::fs::write(p, b).unwrap();
}

fn tree(c: char) -> String {
    c.to_string().repeat(64)
}

#[test]
fn verified_sbom_and_seal_of_one_tree() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    for want in [SealWanted::Required, SealWanted::IfListed] {
        let a = f.fetch(AMI, &f.keys(), want).unwrap();
        assert_eq!(a.tree_digest(), tree('a'));
        assert_eq!(a.sbom.statement.kind, PredicateKind::Sbom);
        assert_eq!(
            a.seal_report().unwrap(),
            &serde_json::from_slice::<Value>(&seal(&tree('a'))).unwrap()
        );
        assert_eq!(
            a.keyids.iter().collect::<Vec<_>>(),
            [&f.key.public_key().keyid()]
        );
        let doc: Value = serde_json::from_slice(&a.sbom_document(&f.store()).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::from_slice::<Value>(&sbom(&tree('a'))).unwrap()
        );
    }
    let a = f.fetch(AMI, &f.keys(), SealWanted::Skip).unwrap();
    assert!(a.seal.is_none());
}

#[test]
fn a_set_of_trusted_keys_needs_only_the_signer() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let set: TrustedKeys = [
        PrivateKey::generate().public_key(),
        f.key.public_key(),
        PrivateKey::generate().public_key(),
    ]
    .into_iter()
    .collect();
    f.fetch(AMI, &set, SealWanted::Required).unwrap();
}

#[test]
fn missing_index_is_a_store_failure() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let e = f.fetch(OTHER, &f.keys(), SealWanted::Required).unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Store {
                error: StoreError::NotFound(_),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.check_id(), "store");
    assert!(!e.is_unreachable());
    assert!(e.to_string().contains("ami-0fedcba9876543210"), "{e}");
}

#[test]
fn tampered_or_missing_bundle_is_refused_whatever_is_wanted() {
    for what in ["cyclonedx", "seal-report"] {
        for want in [SealWanted::Required, SealWanted::IfListed, SealWanted::Skip] {
            let f = Fx::new();
            f.publish("att", &tree('a'), AMI, 1 << 20);
            let sha = f.entry(AMI, what)["sha256"].as_str().unwrap().to_string();
            tamper(&f.blob(&sha));
            let e = f.fetch(AMI, &f.keys(), want).unwrap_err();
            assert!(
                matches!(
                    &e,
                    FetchError::Store {
                        error: StoreError::DigestMismatch(_),
                        ..
                    }
                ),
                "{what} {want:?}: {e}"
            );
            assert_eq!(e.check_id(), "store");
            assert!(e.to_string().contains(&sha), "{e}");
            std::fs::remove_file(f.blob(&sha)).unwrap();
            let e = f.fetch(AMI, &f.keys(), want).unwrap_err();
            assert!(
                matches!(
                    &e,
                    FetchError::Store {
                        error: StoreError::NotFound(_),
                        ..
                    }
                ),
                "{what} {want:?}: {e}"
            );
        }
    }
}

#[test]
fn a_bundle_shorter_than_its_index_says_is_refused() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let mut idx = f.index(AMI);
    for e in idx["entries"].as_array_mut().unwrap() {
        e["size"] = json!(e["size"].as_u64().unwrap() + 1);
    }
    f.write_index(AMI, &idx);
    let e = f.fetch(AMI, &f.keys(), SealWanted::Required).unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Store {
                error: StoreError::Corrupt(_),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn unknown_key_fails_the_signatures() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let other: TrustedKeys = PrivateKey::generate().public_key().into();
    let e = f.fetch(AMI, &other, SealWanted::Required).unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Verify {
                error: VerifyError::UnknownKey { .. },
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.check_id(), "signatures");
    assert_eq!(e.bundle_kind(), Some(PredicateKind::Sbom));
    assert!(e.to_string().contains("unknown key"), "{e}");
}

#[test]
fn foreign_subject_fails_the_subjects() {
    // Another AMI's index copied from ours: its bundles name our AMI only.
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let mut idx = f.index(AMI);
    idx["ami"]["ami_id"] = json!("ami-0fedcba9876543210");
    f.write_index(OTHER, &idx);
    let e = f.fetch(OTHER, &f.keys(), SealWanted::Required).unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Verify {
                error: VerifyError::AmiNotInSubjects(_),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.check_id(), "subjects");
}

#[test]
fn index_of_another_ami_is_refused() {
    // The index under OTHER's key names AMI.
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    f.write_index(OTHER, &f.index(AMI));
    let e = f.fetch(OTHER, &f.keys(), SealWanted::Required).unwrap_err();
    assert_eq!(e.check_id(), "store", "{e}");
    assert!(e.to_string().contains("names another AMI"), "{e}");
}

#[test]
fn seal_attestation_required_optional_or_skipped() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let mut idx = f.index(AMI);
    let seal_entry = f.entry(AMI, "seal-report");
    idx["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| *e != seal_entry);
    f.write_index(AMI, &idx);
    let e = f.fetch(AMI, &f.keys(), SealWanted::Required).unwrap_err();
    assert!(matches!(e, FetchError::NoSeal(_)), "{e}");
    assert!(
        f.fetch(AMI, &f.keys(), SealWanted::IfListed)
            .unwrap()
            .seal
            .is_none()
    );

    // No SBOM: refused whatever is wanted.
    let mut idx = f.index(AMI);
    idx["entries"] = json!([seal_entry]);
    f.write_index(AMI, &idx);
    for want in [SealWanted::Required, SealWanted::IfListed, SealWanted::Skip] {
        let e = f.fetch(AMI, &f.keys(), want).unwrap_err();
        assert!(matches!(e, FetchError::NoSbom(_)), "{e}");
    }
}

#[test]
fn a_seal_bundle_of_another_ami_is_refused_unless_skipped() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 1 << 20);
    f.publish("att-other", &tree('a'), OTHER, 1 << 20);
    let mut idx = f.index(AMI);
    let foreign = f.entry(OTHER, "seal-report");
    for e in idx["entries"].as_array_mut().unwrap() {
        if e["predicate_type"]
            .as_str()
            .unwrap()
            .contains("seal-report")
        {
            *e = foreign.clone();
        }
    }
    f.write_index(AMI, &idx);
    for want in [SealWanted::Required, SealWanted::IfListed] {
        let e = f.fetch(AMI, &f.keys(), want).unwrap_err();
        assert_eq!(e.check_id(), "subjects", "{e}");
        assert_eq!(e.bundle_kind(), Some(PredicateKind::Seal));
    }
    f.fetch(AMI, &f.keys(), SealWanted::Skip).unwrap();
}

#[test]
fn statements_of_another_tree_or_disagreeing_seals_are_refused() {
    let f = Fx::new();
    f.publish("att-b", &tree('b'), AMI, 1 << 20);
    let seal_b = f.entry(AMI, "seal-report");
    f.publish("att", &tree('a'), AMI, 1 << 20);
    // Tree b's seal bundle (same AMI, same key) beside tree a's SBOM.
    let mut idx = f.index(AMI);
    let seal_a = f.entry(AMI, "seal-report");
    for e in idx["entries"].as_array_mut().unwrap() {
        if *e == seal_a {
            *e = seal_b.clone();
        }
    }
    f.write_index(AMI, &idx);
    let e = f.fetch(AMI, &f.keys(), SealWanted::IfListed).unwrap_err();
    assert!(matches!(e, FetchError::TreeDigests { .. }), "{e}");
    assert_eq!(e.check_id(), "signatures");
    f.fetch(AMI, &f.keys(), SealWanted::Skip).unwrap();

    // Two seal bundles of tree a with different reports.
    f.publish("att", &tree('a'), AMI, 1 << 20);
    let mut other_seal: Value = serde_json::from_slice(&seal(&tree('a'))).unwrap();
    other_seal["checks"] = json!([{"id": "ssh-host-keys", "status": "pass", "findings": []}]);
    let (sbom, other_seal) = (sbom(&tree('a')), serde_json::to_vec(&other_seal).unwrap());
    attest(
        &AttestRequest {
            sbom: &sbom,
            seal: &other_seal,
            amis: &[AmiRef::parse(AMI).unwrap()],
            key: &f.key,
            inline_sbom_max: 1 << 20,
            allow_unsealed: false,
            audit: None,
            allow_failing_audit: false,
            tool_version: "0.0.0",
            created: "2024-01-01T00:00:00Z".into(),
        },
        &f.p("att-c"),
    )
    .unwrap();
    let bytes = std::fs::read(f.p("att-c/seal.sigstore.json")).unwrap();
    let sha = f.store().put_blob(&bytes).unwrap();
    let mut idx = f.index(AMI);
    let mut extra = f.entry(AMI, "seal-report");
    extra["sha256"] = json!(sha);
    extra["size"] = json!(bytes.len());
    idx["entries"].as_array_mut().unwrap().push(extra);
    f.write_index(AMI, &idx);
    let e = f.fetch(AMI, &f.keys(), SealWanted::Required).unwrap_err();
    assert!(matches!(e, FetchError::SealsDisagree { .. }), "{e}");
}

#[test]
fn referenced_sbom_is_read_bounded_and_checked() {
    let f = Fx::new();
    f.publish("att", &tree('a'), AMI, 10);
    let a = f.fetch(AMI, &f.keys(), SealWanted::Required).unwrap();
    let r = a.sbom.statement.sbom_ref.clone().expect("by reference");
    assert_eq!(a.sbom_document(&f.store()).unwrap(), sbom(&tree('a')));
    // The copy tampered: the store's digest check.
    tamper(&f.blob(&r.sha256));
    let e = a.sbom_document(&f.store()).unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::Store {
                error: StoreError::DigestMismatch(_),
                ..
            }
        ),
        "{e}"
    );
    // The verified statements do not depend on it.
    f.fetch(AMI, &f.keys(), SealWanted::Required).unwrap();
}
