//! Attestations about files, such as a release's binaries and packages
//! (tools/release.sh): one in-toto statement whose subjects are the files'
//! names with their SHA-256 (in-toto's usual file subjects, as SLSA
//! provenance and `cosign attest-blob` write them) and whose predicate is the
//! CycloneDX SBOM that lists them (`https://cyclonedx.org/bom`), signed into
//! a Sigstore bundle like every other statement ([`crate::verify::sign_bundle`]).
//! Verification checks the signature first ([`crate::verify::open_bundle`]),
//! then that each given file is a subject with its digest.

use std::collections::BTreeSet;

use bakeproof_types::Sha256Digest;
use serde_json::{Map, Value, json};

use crate::statement::{SBOM_PREDICATE_TYPE, STATEMENT_TYPE, statement};
use crate::trust::TrustedKeys;
use crate::verify::{VerifyError, open_bundle};

/// A file by name (no directory part) and the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub sha256: Sha256Digest,
}

impl Artifact {
    pub fn of(name: &str, bytes: &[u8]) -> Artifact {
        Artifact {
            name: name.to_string(),
            sha256: Sha256Digest::of(bytes),
        }
    }
}

/// One reason per failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArtifactError {
    #[error(transparent)]
    Bundle(#[from] VerifyError),
    #[error("no artifacts")]
    Empty,
    #[error("artifact {0:?} given twice")]
    Duplicate(String),
    #[error("artifact name {0:?} is not a plain file name")]
    BadName(String),
    #[error("malformed statement: {0}")]
    Malformed(String),
    #[error("predicateType {0:?} is not https://cyclonedx.org/bom")]
    PredicateType(String),
    #[error("{0} is not among the attested artifacts")]
    NotInSubjects(String),
    #[error("{name}: sha256 {got}, attested sha256 {attested}")]
    DigestMismatch {
        name: String,
        got: String,
        attested: String,
    },
}

fn check_names(artifacts: &[Artifact]) -> Result<(), ArtifactError> {
    if artifacts.is_empty() {
        return Err(ArtifactError::Empty);
    }
    let mut seen = BTreeSet::new();
    for a in artifacts {
        if a.name.is_empty() || a.name.contains('/') || a.name == "." || a.name == ".." {
            return Err(ArtifactError::BadName(a.name.clone()));
        }
        if !seen.insert(a.name.as_str()) {
            return Err(ArtifactError::Duplicate(a.name.clone()));
        }
    }
    Ok(())
}

/// The statement: the artifacts as subjects, the SBOM as predicate.
pub fn artifact_statement(artifacts: &[Artifact], sbom: Value) -> Result<Value, ArtifactError> {
    check_names(artifacts)?;
    let subjects = artifacts
        .iter()
        .map(|a| json!({"name": a.name, "digest": {"sha256": a.sha256.to_string()}}))
        .collect();
    Ok(statement(Value::Array(subjects), SBOM_PREDICATE_TYPE, sbom))
}

/// What verified: the signing key and every attested artifact.
#[derive(Clone, Debug)]
pub struct VerifiedArtifacts {
    pub keyid: String,
    /// (name, sha256 hex) of every subject, in the statement's order.
    pub subjects: Vec<(String, String)>,
}

/// Verifies the bundle's signature with `keys`, then that each of `files`
/// is among its subjects with the same SHA-256.
pub fn verify_artifacts(
    bundle: &[u8],
    keys: &TrustedKeys,
    files: &[Artifact],
) -> Result<VerifiedArtifacts, ArtifactError> {
    check_names(files)?;
    let opened = open_bundle(bundle, keys)?;
    let bad = |s: &str| ArtifactError::Malformed(s.to_string());
    let st: Map<String, Value> = serde_json::from_slice(&opened.payload)
        .map_err(|e| ArtifactError::Malformed(e.to_string()))?;
    if st.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(bad("_type is not https://in-toto.io/Statement/v1"));
    }
    let pt = st
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no predicateType"))?;
    if pt != SBOM_PREDICATE_TYPE {
        return Err(ArtifactError::PredicateType(pt.to_string()));
    }
    let mut subjects = Vec::new();
    for s in st
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no subjects"))?
    {
        let name = s
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("subject without name"))?;
        let d = s
            .pointer("/digest/sha256")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("subject without sha256 digest"))?;
        subjects.push((name.to_string(), d.to_string()));
    }
    for f in files {
        let got = f.sha256.to_string();
        match subjects.iter().find(|(n, _)| *n == f.name) {
            None => return Err(ArtifactError::NotInSubjects(f.name.clone())),
            Some((_, d)) if *d != got => {
                return Err(ArtifactError::DigestMismatch {
                    name: f.name.clone(),
                    got,
                    attested: d.clone(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(VerifiedArtifacts {
        keyid: opened.keyid,
        subjects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;
    use crate::verify::sign_bundle;

    fn bundle(key: &PrivateKey, arts: &[Artifact]) -> Vec<u8> {
        let st = artifact_statement(arts, json!({"bomFormat": "CycloneDX"})).unwrap();
        serde_json::to_vec(&sign_bundle(&st, key).unwrap()).unwrap()
    }

    #[test]
    fn signed_artifacts_verify_and_changed_ones_do_not() {
        let key = PrivateKey::generate();
        let arts = [Artifact::of("a", b"one"), Artifact::of("b.deb", b"two")];
        let b = bundle(&key, &arts);
        let keys = TrustedKeys::from(key.public_key());
        let v = verify_artifacts(&b, &keys, &arts).unwrap();
        assert_eq!(v.subjects.len(), 2);
        assert_eq!(v.keyid, key.public_key().keyid());
        // One of them, alone.
        verify_artifacts(&b, &keys, &arts[1..]).unwrap();
        // Changed bytes.
        let e = verify_artifacts(&b, &keys, &[Artifact::of("a", b"One")]).unwrap_err();
        assert!(matches!(e, ArtifactError::DigestMismatch { .. }), "{e}");
        // Not attested.
        let e = verify_artifacts(&b, &keys, &[Artifact::of("c", b"one")]).unwrap_err();
        assert_eq!(e, ArtifactError::NotInSubjects("c".into()));
        // Another key.
        let other = TrustedKeys::from(PrivateKey::generate().public_key());
        assert!(matches!(
            verify_artifacts(&b, &other, &arts).unwrap_err(),
            ArtifactError::Bundle(VerifyError::UnknownKey { .. })
        ));
        // A changed statement under the old signature.
        let mut doc: Value = serde_json::from_slice(&b).unwrap();
        let st = artifact_statement(&[Artifact::of("a", b"evil")], json!({})).unwrap();
        let payload = serde_json::to_vec(&st).unwrap();
        use base64::Engine as _;
        doc["dsseEnvelope"]["payload"] =
            json!(base64::engine::general_purpose::STANDARD.encode(&payload));
        let e = verify_artifacts(&serde_json::to_vec(&doc).unwrap(), &keys, &arts).unwrap_err();
        assert_eq!(e, ArtifactError::Bundle(VerifyError::BadSignature));
    }

    #[test]
    fn names_are_plain_and_unique() {
        let s = |n: &str| artifact_statement(&[Artifact::of(n, b"")], json!({}));
        assert!(matches!(s("dir/x"), Err(ArtifactError::BadName(_))));
        assert!(matches!(s(".."), Err(ArtifactError::BadName(_))));
        assert_eq!(
            artifact_statement(&[], json!({})),
            Err(ArtifactError::Empty)
        );
        let a = Artifact::of("x", b"");
        assert_eq!(
            artifact_statement(&[a.clone(), a], json!({})),
            Err(ArtifactError::Duplicate("x".into()))
        );
    }
}
