//! The attest index: `index.json` beside the bundles `bakeproof attest -o DIR`
//! writes, read back by `bakeproof publish`. One type, written and read by the
//! same serde definition; strict on read (an unknown version or field is
//! refused, not guessed at). It is not signed and not needed for
//! verification: `publish` checks every file it lists against its digest.
//! Format: docs/attest.md.

use serde::{Deserialize, Serialize};

use bakeproof_types::Sha256Digest;

use crate::statement::AmiRef;

/// The value of `bakeproofAttestIndex` this version writes and reads.
pub const ATTEST_INDEX_VERSION: u64 = 1;

/// `index.json` of the attest output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestIndex {
    /// Always [`ATTEST_INDEX_VERSION`] (checked on read).
    #[serde(rename = "bakeproofAttestIndex")]
    pub version: u64,
    pub tool: Tool,
    /// RFC 3339 (`SOURCE_DATE_EPOCH` when set).
    pub created: String,
    /// Key id of the signing key (hex SHA-256 of its SubjectPublicKeyInfo).
    pub keyid: String,
    #[serde(rename = "treeDigest")]
    pub tree_digest: DigestSet,
    /// The statements' subjects, in order: `ami://REGION/AMI-ID` with the tree digest.
    pub subjects: Vec<Subject>,
    /// What was written, in order: the bundles, then the SBOM copy if any.
    pub files: Vec<IndexFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// `{"sha256": HEX}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSet {
    pub sha256: String,
}

/// An in-toto subject as the statements carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    pub digest: DigestSet,
}

/// What a listed file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A Sigstore bundle (`predicateType` says of which statement).
    Bundle,
    /// The SBOM copy a digest-pinned reference names (`mediaType`, `size`).
    Sbom,
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    /// A plain file name in the output directory.
    pub file: String,
    pub kind: FileKind,
    /// Bundles: the statement's predicate type.
    #[serde(
        rename = "predicateType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub predicate_type: Option<String>,
    /// The SBOM copy: its media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The SBOM copy: its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Why an attest index was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not the index of `bakeproof attest` (bakeproofAttestIndex: 1 missing)")]
    NotAnIndex,
    #[error(
        "attest index version {0} is not supported (this bakeproof reads version {ATTEST_INDEX_VERSION})"
    )]
    Version(String),
    #[error("malformed attest index: {0}")]
    Malformed(String),
}

impl AttestIndex {
    /// Parses and validates index bytes: the version first (an unknown one
    /// is refused before anything else is read), then the whole document,
    /// strictly (no unknown fields), then what a reader relies on
    /// ([`AttestIndex::validate`]).
    pub fn from_slice(bytes: &[u8]) -> Result<AttestIndex, IndexError> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(rename = "bakeproofAttestIndex")]
            version: Option<serde_json::Value>,
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|e| IndexError::Json(e.to_string()))?;
        match probe.version {
            None => return Err(IndexError::NotAnIndex),
            Some(v) if v.as_u64() == Some(ATTEST_INDEX_VERSION) => {}
            Some(v) => return Err(IndexError::Version(v.to_string())),
        }
        let idx: AttestIndex =
            serde_json::from_slice(bytes).map_err(|e| IndexError::Malformed(e.to_string()))?;
        idx.validate()?;
        Ok(idx)
    }

    /// Checks what a reader relies on: hex digests, AMI subjects carrying the
    /// tree digest, at least one subject and one file, plain file names,
    /// bundles with a predicate type.
    pub fn validate(&self) -> Result<(), IndexError> {
        let bad = |m: String| Err(IndexError::Malformed(m));
        if self.version != ATTEST_INDEX_VERSION {
            return Err(IndexError::Version(self.version.to_string()));
        }
        if !Sha256Digest::is_hex(&self.tree_digest.sha256) {
            return bad("treeDigest.sha256 missing or not hex".into());
        }
        if self.subjects.is_empty() {
            return bad("no AMI subjects".into());
        }
        for s in &self.subjects {
            if AmiRef::from_subject_name(&s.name).is_err() {
                return bad(format!("subject {:?} is not ami://REGION/AMI-ID", s.name));
            }
            if s.digest.sha256 != self.tree_digest.sha256 {
                return bad(format!(
                    "subject {:?} carries another digest than the tree's",
                    s.name
                ));
            }
        }
        if self.files.is_empty() {
            return bad("no files listed".into());
        }
        for f in &self.files {
            if !plain_file_name(&f.file) {
                return bad(format!("file {:?} is not a plain file name", f.file));
            }
            if !Sha256Digest::is_hex(&f.sha256) {
                return bad(format!("file {:?}: sha256 is not 64 hex digits", f.file));
            }
            if f.kind == FileKind::Bundle && f.predicate_type.as_deref().is_none_or(str::is_empty) {
                return bad(format!("bundle {:?} has no predicateType", f.file));
            }
        }
        Ok(())
    }

    /// The AMIs the subjects name, in order, each once.
    pub fn amis(&self) -> Vec<AmiRef> {
        let mut v: Vec<AmiRef> = Vec::new();
        for a in self
            .subjects
            .iter()
            .filter_map(|s| AmiRef::from_subject_name(&s.name).ok())
        {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    }

    /// The stored form: pretty JSON with a final newline.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("serializable");
        v.push(b'\n');
        v
    }
}

/// A file name without directories, not `.`/`..`, not hidden, printable
/// (also the store's rule for the names its index carries).
pub fn plain_file_name(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 255
        && !f.starts_with('.')
        && f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}
