//! Attestation store: blobs addressed by SHA-256, then a per-AMI index
//! written last. Backends: a local directory (the embedded default) and S3.
//!
//! Contract shared with the boot verifier (`bakeproof verify`); the
//! implementation is being written.

use serde::{Deserialize, Serialize};

/// One AMI in one region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AmiRef {
    pub region: String,
    pub ami_id: String,
}

/// One bundle listed in an AMI's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// SHA-256 (hex) of the bundle blob.
    pub sha256: String,
    /// in-toto predicate type of the statement inside.
    pub predicate_type: String,
    /// Bundle media type.
    pub media_type: String,
    pub size: u64,
}

/// The per-AMI index (written after every blob it names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmiIndex {
    pub ami: AmiRef,
    pub entries: Vec<IndexEntry>,
    /// `sha256:<hex>` tree digest of the image.
    pub tree_digest: String,
    pub created: String,
    pub tool_version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("digest mismatch for {0}")]
    DigestMismatch(String),
    #[error("{0}")]
    Other(String),
}

/// A store backend. Synchronous: the S3 backend drives its own runtime.
pub trait Store: Send + Sync {
    /// Stores `bytes` under their SHA-256 (create-only); returns the hex digest.
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// Reads a blob and checks its digest before returning it.
    fn get_blob(&self, sha256_hex: &str) -> Result<Vec<u8>, StoreError>;
    /// Writes (replaces) an AMI's index.
    fn put_index(&self, index: &AmiIndex) -> Result<(), StoreError>;
    /// Reads an AMI's index.
    fn get_index(&self, ami: &AmiRef) -> Result<AmiIndex, StoreError>;
}
