//! What first boot concludes from the lifecycle (docs/lifecycle.md,
//! docs/boot.md `lifecycle` check). SKELETON (issue 15): helper i15-boot
//! implements [`check`].

use bakeproof_attest::TrustedKeys;
use bakeproof_store::Store;
use bakeproof_types::AmiRef;
use serde::Serialize;

use crate::chain::Ignored;
use crate::model::State;

/// How much of the lifecycle boot insists on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// Not read.
    Off,
    /// Enforced when the store has a status document (the default); a store
    /// with records of this AMI but no status document fails.
    Auto,
    /// A valid status document is required (what an image baked for a store
    /// with a lifecycle should say: a bucket writer deleting the status
    /// document then stops boots instead of hiding revocations).
    Required,
}

/// What a deprecated AMI means at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeprecatedPolicy {
    /// A warning until its effective date, a failure after it.
    Warn,
    /// A failure.
    Fail,
}

/// The boot policy.
#[derive(Clone, Debug)]
pub struct BootPolicy {
    pub enforcement: Enforcement,
    /// `--require approved`: anything else fails (implies [`Enforcement::Required`]).
    pub require: Option<State>,
    pub deprecated: DeprecatedPolicy,
    /// Highest status version seen before (the caller's state file).
    pub seen_version: Option<u64>,
    /// Unix seconds.
    pub now: i64,
}

/// The verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing against booting (the message says what was found).
    Pass,
    /// Boot goes on, with a warning (deprecated before its effective date).
    Warn,
    /// Not allowed to boot (exit 1).
    Fail,
    /// Could not be decided (exit 2): the store did not answer.
    Unverifiable,
}

/// One record of the chain the verdict rests on (for the JSON result).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedRecord {
    pub sequence: u64,
    pub action: String,
    pub state: String,
    pub time: String,
    pub signer: String,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

/// What [`check`] found.
#[derive(Clone, Debug, Serialize)]
pub struct BootLifecycle {
    pub verdict: Verdict,
    pub message: String,
    /// The AMI's state (absent when it could not be read).
    pub state: Option<State>,
    /// The status document's version, when one was read and accepted.
    pub status_version: Option<u64>,
    pub status_expires: Option<String>,
    pub chain: Vec<CheckedRecord>,
    pub ignored: Vec<Ignored>,
}

/// Reads the AMI's chain and the status document and decides.
pub fn check(
    _store: &dyn Store,
    _ami: &AmiRef,
    _tree_digest_hex: &str,
    _keys: &TrustedKeys,
    _policy: &BootPolicy,
) -> BootLifecycle {
    BootLifecycle {
        verdict: Verdict::Unverifiable,
        message: "lifecycle::boot::check: not implemented yet".into(),
        state: None,
        status_version: None,
        status_expires: None,
        chain: Vec::new(),
        ignored: Vec::new(),
    }
}
