//! Sigstore bundles holding one DSSE-signed in-toto statement: writing and
//! fail-closed verification (usable by the boot verifier).

use std::path::{Path, PathBuf};

use bakeproof_types::Sha256Digest;
use serde_json::{Map, Value, json};

use crate::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE, b64decode};
use crate::keys::PublicKey;
use crate::signer::{SignError, Signer};
use crate::statement::{
    AUDIT_PREDICATE_TYPE, AmiRef, PredicateKind, SBOM_PREDICATE_TYPE, SBOM_REF_PREDICATE_TYPE,
    SEAL_PREDICATE_TYPE, STATEMENT_TYPE, check_seal_report, sbom_ref_of_predicate,
    tree_digest_of_sbom,
};
use crate::trust::TrustedKeys;

/// The media type bakeproof writes.
pub const BUNDLE_MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Media types accepted on verification (v0.1 to v0.3, as the bundle spec names them).
pub const ACCEPTED_BUNDLE_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_MEDIA_TYPE_V03,
];

/// A Sigstore bundle (v0.3) with a keyed DSSE envelope and no transparency
/// log entries; `verificationMaterial.publicKey.hint` is the key id.
/// The signature is checked with the signer's public key first.
pub fn sign_bundle(statement: &Value, key: &dyn Signer) -> Result<Value, SignError> {
    let payload = serde_json::to_vec(statement).expect("serializable");
    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, &payload, key)?;
    let keyid = env.signatures[0].keyid.clone();
    Ok(json!({
        "mediaType": BUNDLE_MEDIA_TYPE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": keyid},
            "tlogEntries": [],
        },
        "dsseEnvelope": env,
    }))
}

/// What a verifier requires.
#[derive(Clone, Debug)]
pub struct VerifyPolicy {
    /// The trusted keys: a bundle must be signed by one of them.
    pub keys: TrustedKeys,
    /// When set, this AMI must be among the subjects.
    pub ami: Option<AmiRef>,
    /// When set, the predicate must be of this kind.
    pub kind: Option<PredicateKind>,
    /// When set, the subjects' digest must be this tree digest (hex).
    pub tree_digest: Option<String>,
}

impl VerifyPolicy {
    /// A policy trusting `keys` (a [`TrustedKeys`] set, or one [`PublicKey`]).
    pub fn new(keys: impl Into<TrustedKeys>) -> Self {
        VerifyPolicy {
            keys: keys.into(),
            ami: None,
            kind: None,
            tree_digest: None,
        }
    }
}

/// A digest-pinned SBOM reference: a CycloneDX predicate standing for the
/// SBOM ([`crate::statement::sbom_ref_predicate`]), or the older predicate
/// type `https://bakeproof.dev/sbom-ref/v1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomRef {
    pub uri: String,
    pub sha256: String,
    pub size: u64,
}

impl SbomRef {
    /// Checks the referenced SBOM's bytes against the signed digest and size.
    pub fn check(&self, bytes: &[u8]) -> Result<(), VerifyError> {
        let got = Sha256Digest::of(bytes).to_string();
        if got != self.sha256 || bytes.len() as u64 != self.size {
            return Err(VerifyError::SbomDigestMismatch {
                expected: self.sha256.clone(),
                got,
            });
        }
        Ok(())
    }

    /// Where the referenced SBOM is looked for beside the bundle at
    /// `bundle`: the reference's name in the bundle's directory, only when
    /// it is a plain file name (no `/`, not `.` or `..`), so that a signed
    /// statement never makes its verifier read outside that directory.
    /// `None` for any other URI (the caller then needs the SBOM given).
    pub fn beside(&self, bundle: &Path) -> Option<PathBuf> {
        let plain = !self.uri.contains('/') && self.uri != ".." && self.uri != ".";
        plain.then(|| bundle.parent().unwrap_or(Path::new(".")).join(&self.uri))
    }
}

/// Of statements verified together, given as (kind, tree digest), the
/// indices of those without a partner. When both an SBOM and a seal
/// attestation are among them, each must have one of the other kind of the
/// same tree: a crossed pair (one image's SBOM, another's seal report), each
/// signed and valid alone, is not a proof about either image. Statements of
/// one kind only are never unpaired.
///
/// An audit statement given with any other statement must have one of the
/// same tree among them (an audit of another image beside this image's
/// SBOM proves nothing about it); audits alone are never unpaired.
pub fn unpaired(verified: &[(PredicateKind, &str)]) -> Vec<usize> {
    let is_seal = |k: &PredicateKind| matches!(k, PredicateKind::Seal);
    let is_sbom = |k: &PredicateKind| matches!(k, PredicateKind::Sbom);
    let is_audit = |k: &PredicateKind| matches!(k, PredicateKind::Audit);
    let both_kinds =
        verified.iter().any(|(k, _)| is_seal(k)) && verified.iter().any(|(k, _)| is_sbom(k));
    let has = |want: &dyn Fn(&PredicateKind) -> bool, tree: &str| {
        verified.iter().any(|(k, t)| want(k) && *t == tree)
    };
    let others = verified.iter().any(|(k, _)| !is_audit(k));
    verified
        .iter()
        .enumerate()
        .filter(|(_, (k, tree))| match k {
            PredicateKind::Seal => both_kinds && !has(&is_sbom, tree),
            PredicateKind::Sbom => both_kinds && !has(&is_seal, tree),
            PredicateKind::Audit => others && !has(&|k| !is_audit(k), tree),
        })
        .map(|(i, _)| i)
        .collect()
}

/// A statement whose signature, types and subjects passed the policy.
#[derive(Clone, Debug)]
pub struct VerifiedStatement {
    pub bundle_media_type: String,
    pub keyid: String,
    pub predicate_type: String,
    pub kind: PredicateKind,
    /// The AMIs named by the subjects.
    pub amis: Vec<AmiRef>,
    /// The tree digest (hex) every subject carries.
    pub tree_digest: String,
    pub predicate: Value,
    /// Set for SBOM references: the caller checks the SBOM with [`SbomRef::check`].
    pub sbom_ref: Option<SbomRef>,
}

/// One reason per failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported bundle mediaType {0:?}")]
    UnsupportedMediaType(String),
    #[error("malformed bundle: {0}")]
    MalformedBundle(String),
    #[error("expected exactly one signature, found {0}")]
    SignatureCount(usize),
    #[error(
        "unknown key: signed by key id {found:?}, trusted key id{} {}",
        if .trusted.len() == 1 { " is" } else { "s are" },
        .trusted.join(", ")
    )]
    UnknownKey {
        /// The trusted key ids, sorted.
        trusted: Vec<String>,
        found: String,
    },
    #[error("the bundle's key hint {hint:?} and its signature's key id {signature:?} differ")]
    KeyIdMismatch { hint: String, signature: String },
    #[error("payloadType {0:?} is not application/vnd.in-toto+json")]
    PayloadType(String),
    #[error("bad signature")]
    BadSignature,
    #[error("statement _type {0:?} is not https://in-toto.io/Statement/v1")]
    StatementType(String),
    #[error("unexpected predicateType {0:?}")]
    PredicateType(String),
    #[error("predicateType {got:?} is not a {want} predicate")]
    WrongKind { want: &'static str, got: String },
    #[error("malformed statement: {0}")]
    MalformedStatement(String),
    #[error("AMI {0} is not among the subjects")]
    AmiNotInSubjects(String),
    #[error("tree digest {got} is not the expected {expected}")]
    TreeDigestMismatch { expected: String, got: String },
    #[error(
        "the seal report names tree {report}, the subjects sha256:{subjects}: it describes another image"
    )]
    SealTreeDigest { report: String, subjects: String },
    #[error("seal report: {0}")]
    SealReport(String),
    #[error(
        "the audit report names tree {report}, the subjects sha256:{subjects}: it describes another image"
    )]
    AuditTreeDigest { report: String, subjects: String },
    #[error("{0}")]
    AuditReport(String),
    #[error("SBOM digest mismatch: signed sha256 {expected}, file has {got}")]
    SbomDigestMismatch { expected: String, got: String },
}

fn bundle_err(s: &str) -> VerifyError {
    VerifyError::MalformedBundle(s.to_string())
}

fn stmt_err(s: impl Into<String>) -> VerifyError {
    VerifyError::MalformedStatement(s.into())
}

/// Verifies a Sigstore bundle's DSSE envelope with the trusted key it names
/// (its signature's key id, else its hint; a bundle naming none is tried
/// against each trusted key), then the in-toto statement it carries. Nothing from the payload is looked at before
/// the signature is verified.
pub fn verify_bundle(
    bytes: &[u8],
    policy: &VerifyPolicy,
) -> Result<VerifiedStatement, VerifyError> {
    let opened = open_bundle(bytes, &policy.keys)?;
    let mut v = verify_statement(&opened.payload, policy)?;
    v.bundle_media_type = opened.media_type;
    v.keyid = opened.keyid;
    Ok(v)
}

/// The signed payload of a bundle whose signature verified.
#[derive(Clone, Debug)]
pub struct OpenedBundle {
    pub media_type: String,
    /// The key id of the trusted key that verified the signature.
    pub keyid: String,
    /// The in-toto statement's bytes (not yet looked at).
    pub payload: Vec<u8>,
}

/// The signature half of [`verify_bundle`]: the bundle's DSSE envelope
/// verified with the trusted key it names; the statement is left to the
/// caller ([`verify_bundle`], [`crate::artifacts::verify_artifacts`]).
pub fn open_bundle(bytes: &[u8], keys: &TrustedKeys) -> Result<OpenedBundle, VerifyError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| VerifyError::MalformedJson(e.to_string()))?;
    let doc = doc
        .as_object()
        .ok_or_else(|| VerifyError::MalformedJson("not a JSON object".into()))?;
    let media_type = doc
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| bundle_err("no mediaType"))?;
    if !ACCEPTED_BUNDLE_MEDIA_TYPES.contains(&media_type) {
        return Err(VerifyError::UnsupportedMediaType(media_type.to_string()));
    }
    let unknown = |found: &str| VerifyError::UnknownKey {
        trusted: keys.keyids().map(str::to_string).collect(),
        found: found.to_string(),
    };
    let vm = doc
        .get("verificationMaterial")
        .and_then(Value::as_object)
        .ok_or_else(|| bundle_err("no verificationMaterial"))?;
    let pk = vm.get("publicKey").and_then(Value::as_object).ok_or_else(|| {
        bundle_err("verificationMaterial has no publicKey (certificate-based bundles are not supported)")
    })?;
    let hint = pk.get("hint").and_then(Value::as_str).unwrap_or("");
    if !hint.is_empty() && !keys.contains(hint) {
        return Err(unknown(hint));
    }
    let env_v = doc
        .get("dsseEnvelope")
        .ok_or_else(|| bundle_err("no dsseEnvelope"))?;
    let n_sigs = env_v
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| bundle_err("dsseEnvelope has no signatures array"))?
        .len();
    if n_sigs != 1 {
        return Err(VerifyError::SignatureCount(n_sigs));
    }
    let env: Envelope = serde_json::from_value(env_v.clone())
        .map_err(|e| bundle_err(&format!("dsseEnvelope: {e}")))?;
    let sig = &env.signatures[0];
    if !sig.keyid.is_empty() && !keys.contains(&sig.keyid) {
        return Err(unknown(&sig.keyid));
    }
    if !hint.is_empty() && !sig.keyid.is_empty() && hint != sig.keyid {
        return Err(VerifyError::KeyIdMismatch {
            hint: hint.to_string(),
            signature: sig.keyid.clone(),
        });
    }
    // The key the bundle names (its signature's key id, else its hint);
    // a bundle naming none is tried against each trusted key.
    let named = [sig.keyid.as_str(), hint]
        .into_iter()
        .find(|k| !k.is_empty());
    let candidates: Vec<&PublicKey> = match named {
        Some(k) => keys.get(k).into_iter().collect(),
        None => keys.iter().collect(),
    };
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(VerifyError::PayloadType(env.payload_type));
    }
    let payload = b64decode(&env.payload).ok_or_else(|| bundle_err("payload is not base64"))?;
    let sig_der = b64decode(&sig.sig).ok_or_else(|| bundle_err("signature is not base64"))?;
    let pae = dsse::pae(&env.payload_type, &payload);
    let Some(key) = candidates.into_iter().find(|k| k.verify(&pae, &sig_der)) else {
        return Err(VerifyError::BadSignature);
    };
    Ok(OpenedBundle {
        media_type: media_type.to_string(),
        keyid: key.keyid(),
        payload,
    })
}

/// Checks a signed in-toto statement against the policy (after the signature).
fn verify_statement(
    payload: &[u8],
    policy: &VerifyPolicy,
) -> Result<VerifiedStatement, VerifyError> {
    let st: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|e| VerifyError::MalformedJson(format!("statement: {e}")))?;
    let ty = st.get("_type").and_then(Value::as_str).unwrap_or("");
    if ty != STATEMENT_TYPE {
        return Err(VerifyError::StatementType(ty.to_string()));
    }
    let pt = st
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| stmt_err("no predicateType"))?;
    let kind = PredicateKind::of(pt).ok_or_else(|| VerifyError::PredicateType(pt.to_string()))?;
    if let Some(want) = policy.kind
        && want != kind
    {
        return Err(VerifyError::WrongKind {
            want: want.name(),
            got: pt.to_string(),
        });
    }
    let subjects = st
        .get("subject")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| stmt_err("no subjects"))?;
    let mut amis = Vec::new();
    let mut tree: Option<String> = None;
    for s in subjects {
        let name = s
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| stmt_err("subject without name"))?;
        let ami = AmiRef::from_subject_name(name)
            .map_err(|_| stmt_err(format!("subject name {name:?} is not ami://REGION/AMI-ID")))?;
        let d = s
            .pointer("/digest/sha256")
            .and_then(Value::as_str)
            .filter(|d| Sha256Digest::is_hex(d))
            .ok_or_else(|| stmt_err(format!("subject {name:?} has no sha256 digest")))?;
        match &tree {
            Some(t) if t != d => return Err(stmt_err("subjects carry different digests")),
            _ => tree = Some(d.to_string()),
        }
        amis.push(ami);
    }
    let tree = tree.expect("at least one subject");
    if let Some(want) = &policy.ami
        && !amis.contains(want)
    {
        return Err(VerifyError::AmiNotInSubjects(want.to_string()));
    }
    if let Some(want) = &policy.tree_digest
        && *want != tree
    {
        return Err(VerifyError::TreeDigestMismatch {
            expected: want.clone(),
            got: tree,
        });
    }
    let predicate = st
        .get("predicate")
        .filter(|p| p.is_object())
        .cloned()
        .ok_or_else(|| stmt_err("predicate is not a JSON object"))?;
    let mut sbom_ref = None;
    match pt {
        SBOM_PREDICATE_TYPE => {
            // The SBOM, or the CycloneDX document standing for it (the same
            // metadata, so the same tree digest rule).
            let inner = tree_digest_of_sbom(&predicate).map_err(|e| stmt_err(e.to_string()))?;
            if inner != tree {
                return Err(VerifyError::TreeDigestMismatch {
                    expected: tree,
                    got: inner,
                });
            }
            sbom_ref = sbom_ref_of_predicate(&predicate)
                .map_err(stmt_err)?
                .map(|(uri, sha256, size)| SbomRef { uri, sha256, size });
        }
        SBOM_REF_PREDICATE_TYPE => {
            let uri = predicate.get("uri").and_then(Value::as_str);
            let sha = predicate
                .pointer("/digest/sha256")
                .and_then(Value::as_str)
                .filter(|d| Sha256Digest::is_hex(d));
            let size = predicate.get("size").and_then(Value::as_u64);
            let (Some(uri), Some(sha), Some(size)) = (uri, sha, size) else {
                return Err(stmt_err("SBOM reference needs uri, digest.sha256 and size"));
            };
            if let Some(t) = predicate
                .pointer("/treeDigest/sha256")
                .and_then(Value::as_str)
                && t != tree
            {
                return Err(VerifyError::TreeDigestMismatch {
                    expected: tree,
                    got: t.to_string(),
                });
            }
            sbom_ref = Some(SbomRef {
                uri: uri.to_string(),
                sha256: sha.to_string(),
                size,
            });
        }
        SEAL_PREDICATE_TYPE => {
            // Bound to the subjects' tree and consistent with its checks; an
            // unsealed report is a valid statement (the boot check fails it).
            check_seal_report(&predicate, &tree).map_err(|e| match e {
                crate::InputError::SealTreeDigest { report, .. } => VerifyError::SealTreeDigest {
                    report,
                    subjects: tree.clone(),
                },
                crate::InputError::Seal(s) => VerifyError::SealReport(s),
                e => VerifyError::SealReport(e.to_string()),
            })?;
        }
        AUDIT_PREDICATE_TYPE => {
            // Bound to the subjects' tree and consistent with its
            // requirements; a failing audit is a valid statement (the boot
            // check with --require-audit fails it).
            crate::statement::check_audit_report(&predicate, &tree).map_err(|e| match e {
                crate::InputError::AuditTreeDigest { report, .. } => VerifyError::AuditTreeDigest {
                    report,
                    subjects: tree.clone(),
                },
                e => VerifyError::AuditReport(e.to_string()),
            })?;
        }
        _ => unreachable!("kind checked"),
    }
    Ok(VerifiedStatement {
        bundle_media_type: String::new(),
        keyid: String::new(),
        predicate_type: pt.to_string(),
        kind,
        amis,
        tree_digest: tree,
        predicate,
        sbom_ref,
    })
}
