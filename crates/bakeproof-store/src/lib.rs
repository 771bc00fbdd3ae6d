//! Attestation store: blobs addressed by SHA-256, then a per-AMI index
//! written last. Backends: a local directory (the embedded default) and S3.
//!
//! Contract shared with the boot verifier (`bakeproof verify`). Layout,
//! create-only semantics, consistency and errors: docs/store.md.
//!
//! ```text
//! <root>/blobs/sha256/<hex>                  create-only, content-addressed
//! <root>/amis/<region>/<ami-id>/index.json   an AmiIndex, create-only, written last
//! ```
//!
//! Open a store from a URL with [`open`] (`file://DIR`, a plain path, or
//! `s3://bucket/prefix`); [`publish_attest_dir`] and [`fetch_ami`] are the
//! two operations of `bakeproof publish` and `bakeproof fetch`.

mod local;
mod ops;
mod s3;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use bakeproof_types::{AmiRef, AmiRefError, Sha256Digest};

pub use local::LocalStore;

pub use ops::{
    FetchReport, FetchedFile, PublishReport, PublishedBlob, STORE_INDEX_FILE, fetch_ami,
    publish_attest_dir,
};
pub use s3::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, S3Store, TransportFailure,
    env_nonempty, error_chain, https_client, sdk_config, transport_failure,
};

/// Largest index a reader accepts (bytes); a longer one is [`StoreError::Corrupt`].
pub const MAX_INDEX_SIZE: u64 = 1 << 20;
/// Largest bundle (an index entry with a predicate type) a reader accepts,
/// whatever size the index states. `bakeproof attest` inlines SBOMs up to
/// 4 MiB; larger ones go to a separate SBOM copy.
pub const MAX_BUNDLE_SIZE: u64 = 64 << 20;
/// Largest blob of any other kind (the SBOM copy of a digest-pinned
/// reference), and of a blob no index read through this store states a size for.
pub const MAX_BLOB_SIZE: u64 = 1 << 30;

/// One bundle listed in an AMI's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// SHA-256 (hex) of the bundle blob.
    pub sha256: String,
    /// in-toto predicate type of the statement inside (empty for a blob that
    /// is not a bundle, such as the SBOM copy a digest-pinned reference names).
    pub predicate_type: String,
    /// Bundle media type.
    pub media_type: String,
    pub size: u64,
    /// File name the blob had in the attest output (`sbom.sigstore.json`,
    /// `seal.sigstore.json`, `sbom.cdx.json`); `fetch` writes it under this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl IndexEntry {
    /// How many bytes a reader accepts for this blob: the size the index
    /// states, capped by [`MAX_BUNDLE_SIZE`] (bundles) or [`MAX_BLOB_SIZE`].
    pub fn read_limit(&self) -> u64 {
        let cap = if self.predicate_type.is_empty() {
            MAX_BLOB_SIZE
        } else {
            MAX_BUNDLE_SIZE
        };
        self.size.min(cap)
    }
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
    /// The store URL or an argument is not usable.
    #[error("invalid: {0}")]
    Invalid(String),
    /// An index (or other stored JSON) that does not parse or does not match
    /// what was asked for.
    #[error("corrupt: {0}")]
    Corrupt(String),
    #[error("no such bucket: {0}")]
    NoSuchBucket(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("bad credentials: {0}")]
    BadCredentials(String),
    /// Network down, connection refused, DNS, timeouts (after the retries).
    #[error("store unreachable: {0}")]
    Unreachable(String),
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("I/O error: {0}")]
    Io(String),
    /// The store already holds a different index for this AMI (another
    /// publisher won, or the AMI was attested before).
    #[error("conflict: {0}")]
    Conflict(String),
}

impl StoreError {
    /// The store answered, and what it holds is wrong or incomplete: a digest
    /// mismatch, a corrupt index, or a missing object. (As opposed to a store
    /// that could not be reached or used.)
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::DigestMismatch(_)
                | StoreError::Corrupt(_)
                | StoreError::Conflict(_)
        )
    }
}

/// Whether [`Store::put_blob_outcome`] created the blob or found it there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobPut {
    pub sha256: String,
    /// false: an object with this digest (and verified content) was already there.
    pub created: bool,
}

/// How [`Store::put_index`] treats an index that is already there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexWrite {
    /// The default: an AMI is published once. An identical index already
    /// there is a no-op (a retried publish); a different one is a
    /// [`StoreError::Conflict`]. Atomic against concurrent publishers
    /// (`If-None-Match: *` on S3, `link(2)` on a directory): exactly one wins.
    CreateOnly,
    /// Supersede whatever is there (`publish --replace`), atomically; the
    /// last writer wins.
    Replace,
}

/// What [`Store::put_index`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexPut {
    Created,
    /// An identical index was already there.
    Unchanged,
    Replaced,
}

/// The conflict message shared by the backends.
pub(crate) fn index_conflict(have: &AmiIndex, want: &AmiIndex, loc: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{} already has a different index at {loc} (tree {}, created {:?}, tool {}; \
         this publish: tree {}, created {:?}): an AMI is published once, so another \
         publisher got there first; `bakeproof publish --replace` supersedes it",
        want.ami, have.tree_digest, have.created, have.tool_version, want.tree_digest, want.created
    ))
}

/// Read limits learned from the indexes a store has read: a blob an index
/// names is read up to the size that index states ([`IndexEntry::read_limit`]),
/// any other up to [`MAX_BLOB_SIZE`].
#[derive(Debug, Default)]
pub(crate) struct ReadLimits(Mutex<HashMap<String, u64>>);

impl ReadLimits {
    pub(crate) fn learn(&self, index: &AmiIndex) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for e in &index.entries {
            m.insert(e.sha256.clone(), e.read_limit());
        }
    }

    pub(crate) fn limit(&self, sha256_hex: &str) -> u64 {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(sha256_hex).copied().unwrap_or(MAX_BLOB_SIZE)
    }
}

/// The error of a stored object longer than a reader accepts.
pub(crate) fn too_large(what: &str, limit: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "{what}: more than {limit} bytes (the size its index states, or the cap): not read further"
    ))
}

/// A store backend. Synchronous: the S3 backend drives its own runtime.
///
/// Every read is bounded: an index by [`MAX_INDEX_SIZE`], a blob by the size
/// the index states (see [`Store::get_blob`]), and (S3) by a wall-clock
/// deadline; a longer object is [`StoreError::Corrupt`].
pub trait Store: Send + Sync {
    /// Stores `bytes` under their SHA-256 (create-only); returns the hex digest.
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// Reads a blob of at most `max_len` bytes and checks its digest before
    /// returning it.
    fn get_blob_bounded(&self, sha256_hex: &str, max_len: u64) -> Result<Vec<u8>, StoreError>;
    /// Reads a blob and checks its digest before returning it. Bounded by the
    /// size stated by the last index read through this store that names it
    /// ([`IndexEntry::read_limit`]), else by [`MAX_BLOB_SIZE`].
    fn get_blob(&self, sha256_hex: &str) -> Result<Vec<u8>, StoreError>;
    /// Writes an AMI's index after checking that every blob it names is
    /// there; `mode` says what happens to an index already there.
    fn put_index(&self, index: &AmiIndex, mode: IndexWrite) -> Result<IndexPut, StoreError>;
    /// Reads an AMI's index.
    fn get_index(&self, ami: &AmiRef) -> Result<AmiIndex, StoreError>;

    /// As [`Store::put_blob`], telling whether the blob was new.
    fn put_blob_outcome(&self, bytes: &[u8]) -> Result<BlobPut, StoreError> {
        self.put_blob(bytes).map(|sha256| BlobPut {
            sha256,
            created: true,
        })
    }
    /// Writes a named (not content-addressed) object under `key` (a
    /// relative key, checked by [`check_object_key`]); `mode` says what
    /// happens to an object already there. Returns the new object's
    /// [`ObjectTag`]. Both modes are atomic against concurrent writers: of two
    /// writers exactly one succeeds, the other gets [`StoreError::Conflict`]
    /// (S3: `If-None-Match: *` / `If-Match: ETAG`; a directory: `link(2)` /
    /// a lock file held around compare and rename).
    fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        mode: ObjectWrite,
    ) -> Result<ObjectTag, StoreError>;
    /// Reads the named object `key`, at most `max_len` bytes (a longer one is
    /// [`StoreError::Corrupt`]), with its tag for a later
    /// [`ObjectWrite::IfMatch`]. [`StoreError::NotFound`] when absent.
    fn get_object(&self, key: &str, max_len: u64) -> Result<StoredObject, StoreError>;
    /// Every key below `prefix` (a relative key ending in `/`, or empty for
    /// the whole store), relative to the store like the keys given to
    /// [`Store::put_object`], sorted (byte order), blobs and indexes
    /// included. More than [`MAX_LIST_KEYS`] keys is [`StoreError::Corrupt`]
    /// (never an unbounded list). S3 needs `s3:ListBucket` on the prefix.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Where the store is (for messages): `file:///…`, `s3://bucket/prefix`.
    fn location(&self) -> String {
        "store".to_string()
    }
    /// Where an AMI's index lives (for messages).
    fn index_location(&self, ami: &AmiRef) -> String {
        format!("{}/{}", self.location(), index_key(ami))
    }
}

/// Most keys [`Store::list`] returns.
pub const MAX_LIST_KEYS: usize = 1_000_000;

/// How [`Store::put_object`] treats an object already at the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectWrite {
    /// Created only if nothing is there; anything there (even identical
    /// bytes) is a [`StoreError::Conflict`].
    CreateOnly,
    /// Replaces the object only if it is still the one read with this tag
    /// (compare and swap): [`StoreError::Conflict`] if it changed,
    /// [`StoreError::NotFound`] if it is gone.
    IfMatch(ObjectTag),
}

/// The version of a stored named object as its backend knows it (S3: the
/// ETag as returned, quotes included; a directory: the SHA-256 hex of the
/// content). Opaque: only compared by the backend that issued it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectTag(pub String);

/// A named object read by [`Store::get_object`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub tag: ObjectTag,
}

/// A key [`Store::put_object`], [`Store::get_object`] and [`Store::list`]
/// accept: relative, `/`-separated components of `[A-Za-z0-9._=-]`, none
/// empty, `.` or `..`, none starting with `.` (the backends' temporary and
/// lock files start with one) or `=`, at most 512 bytes; for `list`, a
/// prefix ending in `/` (or empty). `=` is for Hive-style partition
/// directories (`region=us-east-1`, the fleet tables).
pub fn check_object_key(key: &str, prefix: bool) -> Result<(), StoreError> {
    let bad = |why: &str| Err(StoreError::Invalid(format!("store key {key:?}: {why}")));
    if key.len() > 512 {
        return bad("longer than 512 bytes");
    }
    let body = if prefix {
        if key.is_empty() {
            return Ok(());
        }
        match key.strip_suffix('/') {
            Some(b) => b,
            None => return bad("a prefix ends in '/'"),
        }
    } else {
        key
    };
    for c in body.split('/') {
        if c.is_empty() || c.starts_with('.') || c.starts_with('=') {
            return bad("empty, '.'-led, '='-led or '..' component");
        }
        if !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'='))
        {
            return bad("components are made of A-Z a-z 0-9 . _ = -");
        }
    }
    Ok(())
}

/// Options for [`open_with`].
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// S3 endpoint (S3-compatible servers); default: `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, else AWS. A custom endpoint uses path-style addressing.
    pub endpoint_url: Option<String>,
    /// S3 region; default: `AWS_REGION` / `AWS_DEFAULT_REGION`, the profile's.
    pub region: Option<String>,
}

/// Opens a store from a URL: `s3://bucket[/prefix]`, `file:///dir`, or a
/// plain path. Same as [`open_with`] with default options.
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    open_with(url, &StoreOptions::default())
}

/// Checks that `opts` fit the store `url` names, without opening it: an S3
/// endpoint with a local store is refused (the user meant a bucket, and a
/// directory of that name would silently get the attestations). A region
/// alone is not refused: one configuration (a Packer template, a systemd
/// drop-in) commonly names the region whatever the store; it has no effect
/// on a local store. A command calls this
/// before anything else, so the mistake is a usage error.
pub fn check_options(url: &str, opts: &StoreOptions) -> Result<(), StoreError> {
    if !url.starts_with("s3://") && opts.endpoint_url.is_some() {
        return Err(StoreError::Invalid(format!(
            "{url}: an S3 endpoint is given, but this store is a local directory \
             (an S3 store is s3://BUCKET[/PREFIX])"
        )));
    }
    Ok(())
}

/// Opens a store from a URL with options (endpoint, region for S3).
pub fn open_with(url: &str, opts: &StoreOptions) -> Result<Box<dyn Store>, StoreError> {
    if let Some(rest) = url.strip_prefix("s3://") {
        return Ok(Box::new(S3Store::open(rest, opts)?));
    }
    if url.is_empty() {
        return Err(StoreError::Invalid("empty store URL".into()));
    }
    check_options(url, opts)?;
    let path = if let Some(rest) = url.strip_prefix("file://") {
        if !rest.starts_with('/') {
            return Err(StoreError::Invalid(format!(
                "{url}: a file URL needs an absolute path (file:///dir)"
            )));
        }
        rest
    } else if url.contains("://") {
        return Err(StoreError::Invalid(format!(
            "{url}: unsupported store URL (s3://bucket/prefix, file:///dir, or a path)"
        )));
    } else {
        url
    };
    Ok(Box::new(LocalStore::new(path)))
}

pub(crate) fn check_hex(s: &str) -> Result<(), StoreError> {
    Sha256Digest::from_hex(s)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

/// A malformed AMI reference is an invalid argument.
impl From<AmiRefError> for StoreError {
    fn from(e: AmiRefError) -> StoreError {
        StoreError::Invalid(e.to_string())
    }
}

/// Key (relative path) of a blob: `blobs/sha256/<hex>`.
pub fn blob_key(sha256_hex: &str) -> String {
    format!("blobs/sha256/{sha256_hex}")
}

/// Key (relative path) of an AMI's index: `amis/<region>/<ami-id>/index.json`.
pub fn index_key(ami: &AmiRef) -> String {
    format!("amis/{}/{}/index.json", ami.region(), ami.ami_id())
}

impl AmiIndex {
    /// Checks what a reader relies on: the AMI is the one asked for (when
    /// given), digests are well-formed, file names are plain names.
    pub fn validate(&self, expected: Option<&AmiRef>) -> Result<(), StoreError> {
        let bad = |m: String| Err(StoreError::Corrupt(m));
        if let Some(e) = expected
            && &self.ami != e
        {
            return bad(format!("index of {e} names another AMI: {}", self.ami));
        }
        if Sha256Digest::from_prefixed(&self.tree_digest).is_err() {
            return bad(format!(
                "index of {}: tree digest is not sha256:<hex>: {:?}",
                self.ami, self.tree_digest
            ));
        }
        if self.entries.is_empty() {
            return bad(format!("index of {} lists no bundles", self.ami));
        }
        for e in &self.entries {
            if !Sha256Digest::is_hex(&e.sha256) {
                return bad(format!(
                    "index of {}: entry digest is not 64 hex digits: {:?}",
                    self.ami, e.sha256
                ));
            }
            if let Some(f) = &e.file
                && !plain_file_name(f)
            {
                return bad(format!(
                    "index of {}: entry file name is not a plain name: {f:?}",
                    self.ami
                ));
            }
        }
        Ok(())
    }

    /// Parses and validates stored index bytes.
    pub fn from_slice(bytes: &[u8], expected: Option<&AmiRef>) -> Result<AmiIndex, StoreError> {
        let what = expected.map_or_else(|| "index".to_string(), |a| format!("index of {a}"));
        let idx: AmiIndex = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("{what}: not a valid index: {e}")))?;
        idx.validate(expected)?;
        Ok(idx)
    }

    /// Canonical stored form (pretty JSON with a final newline).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("serializable");
        v.push(b'\n');
        v
    }
}

/// A file name without directories, not `.`/`..`, not hidden, printable
/// (the attest index's rule: one definition).
pub use bakeproof_attest::index::plain_file_name;

/// Digest check shared by the backends.
pub(crate) fn verify_digest(
    bytes: &[u8],
    sha256_hex: &str,
    where_: &str,
) -> Result<(), StoreError> {
    let got = Sha256Digest::of(bytes).to_string();
    if got == sha256_hex {
        Ok(())
    } else {
        Err(StoreError::DigestMismatch(format!(
            "{where_}: content has sha256 {got}, expected {sha256_hex} (tampered or corrupt object)"
        )))
    }
}
