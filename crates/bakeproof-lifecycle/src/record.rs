//! The three statement kinds as Sigstore bundles: signed like the
//! attestations (`bakeproof_attest::verify::sign_bundle`: DSSE, in-toto
//! Statement v1, the signer's key id as hint) and opened only through a
//! trusted key (`bakeproof_attest::verify::open_bundle`) before anything
//! in the payload is looked at.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use bakeproof_attest::statement::statement;
use bakeproof_attest::verify::{open_bundle, sign_bundle};
use bakeproof_attest::{Signer, TrustedKeys};
use bakeproof_types::{AmiRef, Sha256Digest};

use crate::LifecycleError;
use crate::model::{
    CHANNEL_PREDICATE_TYPE, ChannelPredicate, RECORD_PREDICATE_TYPE, RecordPredicate,
    STATUS_PREDICATE_TYPE, STATUS_SUBJECT_NAME, StatusPredicate,
};

/// A bundle as stored: its exact bytes and their digest (`sha256:HEX`, what
/// the next record's `supersedes` and the status document name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBytes {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl SignedBytes {
    pub fn new(bytes: Vec<u8>) -> SignedBytes {
        let digest = Sha256Digest::of(&bytes).prefixed();
        SignedBytes { bytes, digest }
    }
}

fn sign(stmt: &Value, signer: &dyn Signer) -> Result<SignedBytes, LifecycleError> {
    let bundle = sign_bundle(stmt, signer)?;
    let mut bytes = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
    bytes.push(b'\n');
    Ok(SignedBytes::new(bytes))
}

fn subject(ami: &AmiRef, tree_digest_hex: &str) -> Value {
    json!([{"name": ami.subject_name(), "digest": {"sha256": tree_digest_hex}}])
}

fn to_value<T: Serialize>(p: &T) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// Signs an AMI's record; the subject is the AMI with `tree_digest_hex`.
pub fn sign_record(
    ami: &AmiRef,
    tree_digest_hex: &str,
    pred: &RecordPredicate,
    signer: &dyn Signer,
) -> Result<SignedBytes, LifecycleError> {
    let stmt = statement(
        subject(ami, tree_digest_hex),
        RECORD_PREDICATE_TYPE,
        to_value(pred),
    );
    sign(&stmt, signer)
}

/// Signs a channel's pointer record; the subject is the AMI it points at.
pub fn sign_channel(
    ami: &AmiRef,
    tree_digest_hex: &str,
    pred: &ChannelPredicate,
    signer: &dyn Signer,
) -> Result<SignedBytes, LifecycleError> {
    let stmt = statement(
        subject(ami, tree_digest_hex),
        CHANNEL_PREDICATE_TYPE,
        to_value(pred),
    );
    sign(&stmt, signer)
}

/// Signs a status document.
pub fn sign_status(
    pred: &StatusPredicate,
    signer: &dyn Signer,
) -> Result<SignedBytes, LifecycleError> {
    let subj = json!([{"name": STATUS_SUBJECT_NAME, "digest": {"sha256": pred.digest()}}]);
    let stmt = statement(subj, STATUS_PREDICATE_TYPE, to_value(pred));
    sign(&stmt, signer)
}

/// A statement whose signature verified with a trusted key.
#[derive(Clone, Debug)]
pub struct Opened<P> {
    /// Key id of the trusted key that verified it.
    pub keyid: String,
    /// The subjects' (name, sha256 hex).
    pub subjects: Vec<(String, String)>,
    pub predicate: P,
    /// `sha256:HEX` of the bundle's bytes.
    pub digest: String,
}

/// Why a stored statement is not taken (the chain reader records it and
/// goes on: an untrusted or malformed object is ignored, never believed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not signed by a trusted key: {0}")]
    Untrusted(String),
    #[error("signed, but not a statement of this kind: {0}")]
    Malformed(String),
}

fn open<P: DeserializeOwned>(
    bytes: &[u8],
    keys: &TrustedKeys,
    predicate_type: &str,
) -> Result<Opened<P>, OpenError> {
    let opened = open_bundle(bytes, keys).map_err(|e| OpenError::Untrusted(e.to_string()))?;
    let bad = |m: String| OpenError::Malformed(m);
    let stmt: Value = serde_json::from_slice(&opened.payload)
        .map_err(|e| bad(format!("payload is not JSON: {e}")))?;
    if stmt.get("_type").and_then(Value::as_str)
        != Some(bakeproof_attest::statement::STATEMENT_TYPE)
    {
        return Err(bad("not an in-toto Statement v1".into()));
    }
    let pt = stmt.get("predicateType").and_then(Value::as_str);
    if pt != Some(predicate_type) {
        return Err(bad(format!(
            "predicateType {pt:?}, expected {predicate_type:?}"
        )));
    }
    let mut subjects = Vec::new();
    for s in stmt
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no subject array".into()))?
    {
        let name = s.get("name").and_then(Value::as_str);
        let d = s.pointer("/digest/sha256").and_then(Value::as_str);
        match (name, d) {
            (Some(n), Some(d)) if Sha256Digest::is_hex(d) => {
                subjects.push((n.to_string(), d.to_string()));
            }
            _ => return Err(bad("a subject without name or sha256 digest".into())),
        }
    }
    let predicate: P = serde_json::from_value(stmt.get("predicate").cloned().unwrap_or_default())
        .map_err(|e| bad(format!("predicate: {e}")))?;
    Ok(Opened {
        keyid: opened.keyid,
        subjects,
        predicate,
        digest: Sha256Digest::of(bytes).prefixed(),
    })
}

/// Opens an AMI's record (signature first, then the statement).
pub fn open_record(bytes: &[u8], keys: &TrustedKeys) -> Result<Opened<RecordPredicate>, OpenError> {
    open(bytes, keys, RECORD_PREDICATE_TYPE)
}

/// Opens a channel's pointer record.
pub fn open_channel(
    bytes: &[u8],
    keys: &TrustedKeys,
) -> Result<Opened<ChannelPredicate>, OpenError> {
    open(bytes, keys, CHANNEL_PREDICATE_TYPE)
}

/// Opens a status document; its subject digest must be its predicate's.
pub fn open_status(bytes: &[u8], keys: &TrustedKeys) -> Result<Opened<StatusPredicate>, OpenError> {
    let o: Opened<StatusPredicate> = open(bytes, keys, STATUS_PREDICATE_TYPE)?;
    let want = o.predicate.digest();
    if o.subjects.len() != 1 || o.subjects[0].0 != STATUS_SUBJECT_NAME || o.subjects[0].1 != want {
        return Err(OpenError::Malformed(
            "the status document's subject is not its own digest".into(),
        ));
    }
    Ok(o)
}
