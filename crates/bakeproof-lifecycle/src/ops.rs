//! The lifecycle's operations on a store. SKELETON (issue 15): helper
//! i15-store implements every function here (the signatures are the
//! contract the CLI and the boot check use).
//!
//! Writes are create-only records ([`bakeproof_store::ObjectWrite::CreateOnly`]
//! at the next sequence number: of two concurrent writers one wins, the
//! other re-reads the chain and tries again if its action is still allowed,
//! else it gets the transition error: never a lost record), then the status
//! document, updated by compare and swap ([`bakeproof_store::ObjectWrite::IfMatch`])
//! with a version one higher.

use bakeproof_attest::{Signer, TrustedKeys};
use bakeproof_store::Store;
use bakeproof_types::AmiRef;

use crate::LifecycleError;
use crate::chain::{AmiChain, ChannelChain};
use crate::model::{Action, Labels, RecordPredicate, State, StatusPredicate};
use crate::record::Opened;

/// Default validity of a status document: 7 days (re-signed by every write
/// and by [`refresh_status`]; run it from a scheduler well within this).
pub const DEFAULT_STATUS_VALIDITY_SECS: i64 = 7 * 86_400;
/// Attempts of a create-only or compare-and-swap write against concurrent writers.
pub const MAX_WRITE_ATTEMPTS: u32 = 16;
/// Largest record or status document read (bytes).
pub const MAX_RECORD_SIZE: u64 = 1 << 20;

/// Who writes, and when.
pub struct Writer<'a> {
    pub store: &'a dyn Store,
    pub signer: &'a dyn Signer,
    /// Keys whose records are taken when the chain is read before writing
    /// (the signer's own public key is always added).
    pub trusted: TrustedKeys,
    /// Unix seconds (the caller's clock).
    pub now: i64,
    /// Validity of the status document written.
    pub status_validity_secs: i64,
}

/// One lifecycle action on one AMI.
#[derive(Clone, Debug)]
pub struct RecordRequest {
    pub ami: AmiRef,
    pub action: Action,
    /// Required for revoke and restore.
    pub reason: Option<String>,
    /// Deprecate: effective from (Unix seconds); `None`: now.
    pub effective: Option<i64>,
    /// Merged into the labels the chain carries.
    pub labels: Labels,
}

/// What [`record`] wrote.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub record: Opened<RecordPredicate>,
    /// The store key of the record.
    pub key: String,
    /// How many times another writer took the slot first.
    pub conflicts: u32,
    /// The status document written after it.
    pub status: StatusPredicate,
}

/// Appends a record: checks that the AMI is published (its index gives
/// the tree digest of the subject), reads the chain, applies
/// [`crate::transition`], signs, writes create-only at the next sequence
/// number (retrying on conflict), then updates the status document.
pub fn record(_w: &Writer<'_>, _req: &RecordRequest) -> Result<Recorded, LifecycleError> {
    Err(LifecycleError::Invalid(
        "lifecycle::ops::record: not implemented yet".into(),
    ))
}

/// Reads an AMI's chain (list its prefix, get each record, [`crate::chain::ami_chain`]).
/// `tree_digest_hex`: the published index's, when the caller has it.
pub fn read_ami_chain(
    _store: &dyn Store,
    _ami: &AmiRef,
    _tree_digest_hex: Option<&str>,
    _keys: &TrustedKeys,
) -> Result<AmiChain, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}

/// The store's status document, opened with `keys` (`None`: the store has
/// none). A document not signed by a trusted key is an error (never
/// ignored: it stands for the whole store). Not checked for freshness
/// (that is the reader's: [`crate::status::check_fresh`]).
pub fn read_status(
    _store: &dyn Store,
    _keys: &TrustedKeys,
) -> Result<Option<Opened<StatusPredicate>>, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}

/// Re-signs the status document from the chains the store holds (every
/// AMI's and channel's newest trusted record), version one higher, a new
/// expiry: what a scheduler runs to keep it fresh, and the repair after a
/// write whose status update was lost.
pub fn refresh_status(_w: &Writer<'_>) -> Result<StatusPredicate, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}

/// One channel move.
#[derive(Clone, Debug)]
pub struct ChannelRequest {
    pub channel: String,
    pub ami: AmiRef,
    pub reason: Option<String>,
    /// Deprecate the AMI the channel pointed at before (effective from, Unix
    /// seconds; `Some(now)` for now), unless it is the same AMI.
    pub deprecate_previous: Option<i64>,
}

/// What [`set_channel`] wrote.
#[derive(Clone, Debug)]
pub struct ChannelSet {
    pub chain: ChannelChain,
    /// The AMI it pointed at before.
    pub previous: Option<AmiRef>,
    /// The deprecation record of the previous AMI, when asked for.
    pub deprecated: Option<Recorded>,
    pub status: StatusPredicate,
}

/// Points a channel (in the AMI's region) at an approved AMI: a signed
/// pointer record appended to the channel's chain (rollback is setting it
/// back), then the status document.
pub fn set_channel(_w: &Writer<'_>, _req: &ChannelRequest) -> Result<ChannelSet, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}

/// Reads a channel's chain, checked against the status document when the
/// store has one.
pub fn read_channel(
    _store: &dyn Store,
    _channel: &str,
    _region: &str,
    _keys: &TrustedKeys,
) -> Result<ChannelChain, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}

/// One AMI of [`list`].
#[derive(Clone, Debug)]
pub struct AmiSummary {
    pub ami: AmiRef,
    pub state: State,
    pub labels: Labels,
    /// The published index's creation time (RFC 3339).
    pub published: String,
    /// The newest record's time, if any.
    pub changed: Option<String>,
    pub tree_digest: String,
}

/// Every AMI the store has an index for, with its state (newest build
/// date first, then newest publication).
pub fn list(_store: &dyn Store, _keys: &TrustedKeys) -> Result<Vec<AmiSummary>, LifecycleError> {
    Err(LifecycleError::Invalid("not implemented yet".into()))
}
