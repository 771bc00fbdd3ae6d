//! What first boot concludes from the lifecycle (docs/lifecycle.md,
//! docs/boot.md `lifecycle` check): [`check`].

use bakeproof_attest::TrustedKeys;
use bakeproof_store::Store;
use bakeproof_types::AmiRef;
use serde::Serialize;

use crate::LifecycleError;
use crate::chain::Ignored;
use crate::model::{RecordPredicate, State};
use crate::ops;
use crate::record::Opened;
use crate::status::{check_ami, check_fresh};
use crate::time::parse_rfc3339;

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

/// What [`check`] found (the boot result's `lifecycle`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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
///
/// In order: the status document ([`ops::read_status`]: one not signed by
/// a trusted key fails), the AMI's chain ([`ops::read_ami_chain`], against
/// the published tree digest: untrusted objects are ignored, a broken
/// chain fails), the status document's rules (expired, rolled back below
/// `policy.seen_version`, naming a record the store lacks: each fails),
/// then the state (revoked fails with its reason; deprecated warns before
/// its effective date and fails after it or under
/// [`DeprecatedPolicy::Fail`]; `require` fails any other state). A store
/// that did not answer is [`Verdict::Unverifiable`]. Without a status
/// document: [`Enforcement::Required`] (or `require`, or a version seen
/// before) fails; [`Enforcement::Auto`] fails when the AMI has records and
/// passes when the store has no lifecycle at all.
pub fn check(
    store: &dyn Store,
    ami: &AmiRef,
    tree_digest_hex: &str,
    keys: &TrustedKeys,
    policy: &BootPolicy,
) -> BootLifecycle {
    let mut out = BootLifecycle {
        verdict: Verdict::Pass,
        message: String::new(),
        state: None,
        status_version: None,
        status_expires: None,
        chain: Vec::new(),
        ignored: Vec::new(),
    };
    if policy.enforcement == Enforcement::Off {
        out.message = "not checked (--lifecycle off)".into();
        return out;
    }
    let status = match ops::read_status(store, keys) {
        Ok(s) => s,
        Err(e) => return out.error("the status document", e),
    };
    let chain = match ops::read_ami_chain(store, ami, Some(tree_digest_hex), keys) {
        Ok(c) => c,
        Err(e) => return out.error(&format!("the lifecycle records of {ami}"), e),
    };
    out.chain = chain.records.iter().map(checked).collect();
    out.ignored.clone_from(&chain.ignored);
    let state = chain.state();
    out.state = Some(state);
    let required = policy.enforcement == Enforcement::Required
        || policy.require.is_some()
        || policy.seen_version.is_some();
    match &status {
        None if required => {
            let why = match policy.seen_version {
                Some(v) => format!(" (version {v} was seen before: it was deleted)"),
                None => String::new(),
            };
            return out.fail(format!(
                "the store has no status document{why}: the lifecycle cannot be trusted to be complete"
            ));
        }
        None if !chain.records.is_empty() => {
            return out.fail(format!(
                "{ami} has {} lifecycle record(s) but the store has no status document (deleted?): refused",
                chain.records.len()
            ));
        }
        None => {
            out.message = "the store has no lifecycle (no status document, no record)".into();
            return out;
        }
        Some(s) => {
            if let Err(e) = check_fresh(&s.predicate, policy.now, policy.seen_version)
                .and_then(|()| check_ami(&s.predicate, &chain))
            {
                return out.fail(e.to_string());
            }
            out.status_version = Some(s.predicate.version);
            out.status_expires = Some(s.predicate.expires.clone());
        }
    }
    let version = out.status_version.unwrap_or_default();
    let head = chain.head().map(|r| &r.predicate);
    let by = |p: &crate::model::RecordPredicate| {
        format!(
            "record {} of {}, signed by {}",
            p.sequence, p.time, p.signer
        )
    };
    match (state, head) {
        (State::Revoked, Some(p)) => {
            return out.fail(format!(
                "{ami} is revoked: {} ({})",
                p.reason.as_deref().unwrap_or("no reason given"),
                by(p)
            ));
        }
        (State::Deprecated, Some(p)) => {
            let effective = p.effective.as_deref().unwrap_or(&p.time);
            let Some(from) = parse_rfc3339(effective) else {
                return out.fail(format!(
                    "{ami} is deprecated from {effective:?}, which is not a date"
                ));
            };
            let reason = p
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            if policy.now >= from {
                return out.fail(format!(
                    "{ami} is deprecated since {effective}{reason} ({})",
                    by(p)
                ));
            }
            if policy.deprecated == DeprecatedPolicy::Fail {
                return out.fail(format!(
                    "{ami} is deprecated from {effective}{reason} ({}), and --deprecated fail",
                    by(p)
                ));
            }
            out.verdict = Verdict::Warn;
            out.message = format!(
                "{ami} is deprecated from {effective}{reason} ({}); boots are refused from then on",
                by(p)
            );
        }
        _ => {
            out.message = match head {
                Some(p) => format!("{ami} is {state} ({})", by(p)),
                None => format!("{ami} is {state} (no record)"),
            };
        }
    }
    if let Some(req) = policy.require
        && state != req
    {
        return out.fail(format!(
            "{ami} is {state}, and {req} is required (--require {req})"
        ));
    }
    out.message = format!("{}; status document version {version}", out.message);
    if !out.ignored.is_empty() {
        out.message = format!(
            "{}; {} untrusted object(s) ignored",
            out.message,
            out.ignored.len()
        );
    }
    out
}

impl BootLifecycle {
    fn fail(mut self, message: String) -> BootLifecycle {
        self.verdict = Verdict::Fail;
        self.message = message;
        self
    }

    /// A read that failed: a store that did not answer proved nothing
    /// (unverifiable); one that answered with something wrong fails.
    fn error(mut self, what: &str, e: LifecycleError) -> BootLifecycle {
        let unreachable = matches!(&e, LifecycleError::Store(s) if !s.is_integrity());
        self.verdict = if unreachable {
            Verdict::Unverifiable
        } else {
            Verdict::Fail
        };
        self.message = format!("{what}: {e}");
        self
    }
}

fn checked(r: &Opened<RecordPredicate>) -> CheckedRecord {
    let p = &r.predicate;
    CheckedRecord {
        sequence: p.sequence,
        action: p.action.as_str().into(),
        state: p.state.as_str().into(),
        time: p.time.clone(),
        signer: p.signer.clone(),
        digest: r.digest.clone(),
        reason: p.reason.clone(),
        effective: p.effective.clone(),
    }
}
