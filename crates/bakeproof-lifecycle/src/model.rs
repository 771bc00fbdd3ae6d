//! The lifecycle's vocabulary: states, the actions that move between them,
//! the transition rules, and the predicates of the three statement kinds
//! (an AMI's record, a channel's pointer, the store's status document).
//! Pure: no store, no clock, no keys. Formats: docs/lifecycle.md and
//! `schemas/lifecycle-*.schema.json`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// in-toto predicate type of an AMI's lifecycle record.
pub const RECORD_PREDICATE_TYPE: &str = "https://bakeproof.dev/lifecycle/record/v1";
/// in-toto predicate type of a channel's pointer record.
pub const CHANNEL_PREDICATE_TYPE: &str = "https://bakeproof.dev/lifecycle/channel/v1";
/// in-toto predicate type of the store's status document.
pub const STATUS_PREDICATE_TYPE: &str = "https://bakeproof.dev/lifecycle/status/v1";
/// Subject name of the status document's statement (its digest is the
/// SHA-256 of the predicate's canonical JSON: [`StatusPredicate::digest`]).
pub const STATUS_SUBJECT_NAME: &str = "bakeproof-store-status";

/// Where an AMI is in its life. An AMI with no record is [`State::Built`]
/// (published, nothing decided).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Built,
    Testing,
    Approved,
    Deprecated,
    Revoked,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Built,
        State::Testing,
        State::Approved,
        State::Deprecated,
        State::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Built => "built",
            State::Testing => "testing",
            State::Approved => "approved",
            State::Deprecated => "deprecated",
            State::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a record does (the CLI's subcommand).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// built → testing.
    Test,
    /// built | testing → approved.
    Approve,
    /// approved → deprecated (now, or from an effective date).
    Deprecate,
    /// any state but revoked → revoked (a reason is required).
    Revoke,
    /// revoked → the state before the revocation (a reason is required).
    Restore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Test => "test",
            Action::Approve => "approve",
            Action::Deprecate => "deprecate",
            Action::Revoke => "revoke",
            Action::Restore => "restore",
        }
    }

    /// Whether the action is refused without a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Revoke | Action::Restore)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action the current state does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed from state {from}: {why}")]
pub struct TransitionError {
    pub from: State,
    pub action: Action,
    pub why: &'static str,
}

/// The state `action` leads to from `from`. `before_revoke` is the state
/// the AMI had when it was revoked (the state a restore returns to; `None`
/// unless `from` is [`State::Revoked`]).
///
/// ```text
/// built ──test──► testing ──approve──► approved ──deprecate──► deprecated
///   └────────────approve──────────────►  │                        │
///   any state but revoked ──revoke──► revoked ──restore──► the state before
/// ```
pub fn transition(
    from: State,
    action: Action,
    before_revoke: Option<State>,
) -> Result<State, TransitionError> {
    let refuse = |why| Err(TransitionError { from, action, why });
    match (action, from) {
        (Action::Test, State::Built) => Ok(State::Testing),
        (Action::Test, _) => refuse("only a built AMI goes into testing"),
        (Action::Approve, State::Built | State::Testing) => Ok(State::Approved),
        (Action::Approve, State::Approved) => refuse("it is already approved"),
        (Action::Approve, State::Deprecated) => {
            refuse("a deprecated AMI is not approved again (publish a new one)")
        }
        (Action::Approve, State::Revoked) => refuse("a revoked AMI is only restored (restore)"),
        (Action::Deprecate, State::Approved) => Ok(State::Deprecated),
        (Action::Deprecate, State::Deprecated) => refuse("it is already deprecated"),
        (Action::Deprecate, _) => refuse("only an approved AMI is deprecated"),
        (Action::Revoke, State::Revoked) => refuse("it is already revoked"),
        (Action::Revoke, _) => Ok(State::Revoked),
        (Action::Restore, State::Revoked) => match before_revoke {
            Some(s) if s != State::Revoked => Ok(s),
            _ => refuse("the chain does not say which state it had before the revocation"),
        },
        (Action::Restore, _) => refuse("only a revoked AMI is restored"),
    }
}

/// What the team that builds an AMI says about it (Packer's `custom_data`,
/// the EC2 tags teams use: `Application`, `Version`, `BuildDate`, ...).
/// Carried forward by every record of the chain (the newest one's count).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// RFC 3339.
    #[serde(default, rename = "buildDate", skip_serializing_if = "Option::is_none")]
    pub build_date: Option<String>,
    /// Any other key=value a team tags its images with (`BaseAMI`, `BuildNumber`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Labels {
    /// `self`, with every field `newer` sets replaced by it.
    pub fn merged(&self, newer: &Labels) -> Labels {
        let mut out = self.clone();
        if newer.application.is_some() {
            out.application.clone_from(&newer.application);
        }
        if newer.version.is_some() {
            out.version.clone_from(&newer.version);
        }
        if newer.build_date.is_some() {
            out.build_date.clone_from(&newer.build_date);
        }
        for (k, v) in &newer.extra {
            out.extra.insert(k.clone(), v.clone());
        }
        out
    }
}

impl Labels {
    /// The labels of `ami`'s build in a Packer manifest (the build of its
    /// `last_run_uuid` whose `artifact_id` names the AMI): `custom_data`'s
    /// `Application`, `Version` and `BuildDate` (any case; the other keys
    /// kept in [`Labels::extra`]), and `build_time` (Unix seconds) as the
    /// build date when `custom_data` has none.
    pub fn from_packer_manifest(bytes: &[u8], ami: &str) -> Result<Labels, String> {
        use serde_json::Value;
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("Packer manifest: not JSON: {e}"))?;
        let last = doc.get("last_run_uuid").and_then(Value::as_str);
        let builds = doc
            .get("builds")
            .and_then(Value::as_array)
            .ok_or("Packer manifest: no builds array")?;
        let names_ami = |b: &&Value| {
            b.get("artifact_id")
                .and_then(Value::as_str)
                .is_some_and(|a| a.split(',').any(|p| p.trim() == ami))
        };
        let build = builds
            .iter()
            .filter(|b| last.is_none() || b.get("packer_run_uuid").and_then(Value::as_str) == last)
            .find(names_ami)
            .ok_or_else(|| format!("Packer manifest: no build of the last run made {ami}"))?;
        let mut labels = Labels::default();
        if let Some(cd) = build.get("custom_data").and_then(Value::as_object) {
            for (k, v) in cd {
                let Some(v) = v.as_str() else { continue };
                match k.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
                    "application" => labels.application = Some(v.to_owned()),
                    "version" => labels.version = Some(v.to_owned()),
                    "builddate" => labels.build_date = Some(v.to_owned()),
                    _ => {
                        labels.extra.insert(k.clone(), v.to_owned());
                    }
                }
            }
        }
        if labels.build_date.is_none()
            && let Some(t) = build.get("build_time").and_then(Value::as_i64)
        {
            labels.build_date = Some(crate::time::rfc3339(t));
        }
        Ok(labels)
    }
}

/// The predicate of an AMI's lifecycle record ([`RECORD_PREDICATE_TYPE`]).
/// The statement's subject is the AMI (`ami://REGION/AMI-ID`) with the
/// tree digest of its published index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPredicate {
    /// `REGION:AMI-ID` (the subject's AMI, repeated for readers of the predicate).
    pub ami: String,
    /// 1 for the first record of the AMI, then +1 per record.
    pub sequence: u64,
    pub action: Action,
    /// The state after this record.
    pub state: State,
    /// The state before it.
    #[serde(rename = "previousState")]
    pub previous_state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was signed (RFC 3339, UTC).
    pub time: String,
    /// Deprecate: from when it counts as deprecated (RFC 3339); absent: now.
    #[serde(default, rename = "effective", skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// Key id of the signer.
    pub signer: String,
    /// `sha256:HEX` of the bundle of the record it supersedes (the trusted
    /// record at `sequence - 1`); absent only on the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    #[serde(default)]
    pub labels: Labels,
}

/// The predicate of a channel's pointer record ([`CHANNEL_PREDICATE_TYPE`]):
/// channel NAME in REGION points at AMI. Subject: the AMI with its tree
/// digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelPredicate {
    pub channel: String,
    pub region: String,
    /// `REGION:AMI-ID`.
    pub ami: String,
    pub sequence: u64,
    pub time: String,
    pub signer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
}

/// The newest record of one chain, as the status document names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub sequence: u64,
    /// `sha256:HEX` of the record's bundle.
    pub digest: String,
    /// AMI records: the state; channel records: the AMI (`REGION:AMI-ID`).
    pub value: String,
}

/// The store's status document ([`STATUS_PREDICATE_TYPE`]), TUF's
/// timestamp role for the lifecycle: it names the newest record of every
/// AMI and channel, has a version that only grows and an expiry. A reader
/// refuses one that has expired, one with a lower version than it has
/// seen, and a store whose chains are shorter than it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPredicate {
    /// 1, then +1 per document written.
    pub version: u64,
    /// RFC 3339.
    pub issued: String,
    /// RFC 3339: not valid after.
    pub expires: String,
    pub signer: String,
    /// `REGION:AMI-ID` → the newest record of its chain.
    pub amis: BTreeMap<String, Head>,
    /// `NAME@REGION` → the newest record of the channel's chain.
    pub channels: BTreeMap<String, Head>,
}

impl StatusPredicate {
    /// SHA-256 hex of the canonical JSON of the predicate (the subject digest).
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        bakeproof_types::Sha256Digest::of(&bytes).to_hex()
    }
}

/// A channel name: 1 to 64 of `[a-z0-9._-]`, starting with a letter or digit.
pub fn check_channel_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "channel name {name:?}: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_is_decided() {
        use Action::*;
        use State::*;
        let allowed = [
            (Built, Test, Testing),
            (Built, Approve, Approved),
            (Testing, Approve, Approved),
            (Approved, Deprecate, Deprecated),
            (Built, Revoke, Revoked),
            (Testing, Revoke, Revoked),
            (Approved, Revoke, Revoked),
            (Deprecated, Revoke, Revoked),
        ];
        for from in State::ALL {
            for action in [Test, Approve, Deprecate, Revoke] {
                let want = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(transition(from, action, None).ok(), want, "{from} {action}");
            }
        }
        assert_eq!(transition(Revoked, Restore, Some(Approved)), Ok(Approved));
        assert_eq!(
            transition(Revoked, Restore, Some(Deprecated)),
            Ok(Deprecated)
        );
        assert!(transition(Revoked, Restore, None).is_err());
        assert!(transition(Approved, Restore, Some(Approved)).is_err());
    }

    #[test]
    fn labels_from_a_packer_manifest() {
        let m = br#"{"last_run_uuid": "r2", "builds": [
            {"packer_run_uuid": "r1", "artifact_id": "eu-west-1:ami-0123456789abcdef0",
             "custom_data": {"Application": "old"}},
            {"packer_run_uuid": "r2", "artifact_id": "us-east-1:ami-1,eu-west-1:ami-0123456789abcdef0",
             "build_time": 86400,
             "custom_data": {"Application": "web", "version": "1.0.0", "BuildNumber": "001", "n": 3}}]}"#;
        let l = Labels::from_packer_manifest(m, "eu-west-1:ami-0123456789abcdef0").unwrap();
        assert_eq!(l.application.as_deref(), Some("web"));
        assert_eq!(l.version.as_deref(), Some("1.0.0"));
        assert_eq!(l.build_date.as_deref(), Some("1970-01-02T00:00:00Z"));
        assert_eq!(l.extra.get("BuildNumber").map(String::as_str), Some("001"));
        assert_eq!(l.extra.len(), 1);
        assert!(Labels::from_packer_manifest(m, "eu-west-1:ami-0000000000000000f").is_err());
        assert!(Labels::from_packer_manifest(b"[", "x").is_err());
    }

    #[test]
    fn channel_names() {
        assert!(check_channel_name("prod").is_ok());
        assert!(check_channel_name("web-1.x_y").is_ok());
        for bad in ["", "-x", "Prod", "a/b", "..", &"x".repeat(65)] {
            assert!(check_channel_name(bad).is_err(), "{bad:?}");
        }
    }
}
