//! Image lifecycle in the store (issue 15, docs/lifecycle.md): signed,
//! chained records per AMI (built → testing → approved → deprecated →
//! revoked, restore), channels (signed pointers to approved AMIs), and the
//! store's signed, expiring status document (TUF timestamp style) that
//! makes a hidden revocation detectable.
//!
//! - [`model`]: states, actions, [`model::transition`], the predicates;
//! - [`record`]: signing and opening the statements (Sigstore bundles);
//! - [`chain`]: an AMI's or a channel's chain read back from its objects (pure);
//! - [`status`]: the status document's reader rules (pure);
//! - [`layout`]: the store keys;
//! - [`ops`]: the operations on a [`bakeproof_store::Store`] (record, read,
//!   channels, status, list);
//! - [`boot`]: what first boot concludes from them ([`boot::check`]).

pub mod boot;
pub mod chain;
pub mod layout;
pub mod model;
pub mod ops;
pub mod record;
pub mod status;
pub mod time;

use bakeproof_store::StoreError;

pub use chain::{AmiChain, ChainError, ChannelChain, Ignored, StoredRecord};
pub use model::{Action, Head, Labels, State, StatusPredicate, TransitionError, transition};
pub use status::StatusError;

/// Why a lifecycle operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The store could not be read or written (or holds something corrupt).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("signing: {0}")]
    Sign(#[from] bakeproof_attest::SignError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The AMI has no published index in the store (`bakeproof publish` first).
    #[error("{0} is not published in this store (bakeproof publish first)")]
    NotPublished(String),
    /// A channel may only point at an approved AMI.
    #[error("{ami} is {state}: only an approved AMI is put on a channel")]
    NotApproved { ami: String, state: State },
    /// Concurrent writers kept winning the same slot.
    #[error("gave up after {attempts} attempts: other writers kept changing {what}")]
    Contended { what: String, attempts: u32 },
    /// An argument that cannot be used (a reason missing, a bad date or name).
    #[error("{0}")]
    Invalid(String),
}
