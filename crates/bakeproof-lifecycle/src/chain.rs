//! An AMI's (or a channel's) chain of records, read back: pure functions
//! from the stored objects (sequence number from the key, exact bytes) to
//! the trusted chain. What a reader relies on:
//!
//! - objects not signed by a trusted key, or not a record of this AMI (or
//!   channel) at this sequence number, are *ignored* (listed, never
//!   believed): a bucket writer without a key can add objects, not records;
//! - the trusted records form one chain: the first supersedes nothing,
//!   each later one supersedes the digest of the trusted record before it,
//!   sequence numbers grow, each record's previous state is the state
//!   before it and its state follows from it by [`transition`]; a record
//!   that supersedes something the store does not hold is a *gap* (a
//!   deleted record) and the chain is [`ChainError::Broken`].

use bakeproof_attest::TrustedKeys;
use bakeproof_types::AmiRef;

use crate::model::{ChannelPredicate, RecordPredicate, State, transition};
use crate::record::{Opened, open_channel, open_record};

/// One stored object of a chain: the sequence number its key names and its bytes.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub sequence: u64,
    pub bytes: Vec<u8>,
}

/// An object of the chain's prefix that is not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    pub sequence: u64,
    pub digest: String,
    pub why: String,
}

/// A chain whose trusted records do not link up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the lifecycle chain of {what} is broken at record {sequence}: {why}")]
    Broken {
        what: String,
        sequence: u64,
        why: String,
    },
}

/// An AMI's trusted records, oldest first.
#[derive(Clone, Debug)]
pub struct AmiChain {
    pub ami: AmiRef,
    pub records: Vec<Opened<RecordPredicate>>,
    pub ignored: Vec<Ignored>,
}

impl AmiChain {
    /// The state after the newest trusted record ([`State::Built`] with none).
    pub fn state(&self) -> State {
        self.records
            .last()
            .map_or(State::Built, |r| r.predicate.state)
    }

    pub fn head(&self) -> Option<&Opened<RecordPredicate>> {
        self.records.last()
    }

    /// The state the AMI had when it was last revoked (what a restore returns to).
    pub fn before_revoke(&self) -> Option<State> {
        match self.head() {
            Some(r) if r.predicate.state == State::Revoked => Some(r.predicate.previous_state),
            _ => None,
        }
    }

    /// The next free sequence number (after every stored object, trusted or not).
    pub fn next_sequence(&self) -> u64 {
        let t = self.records.last().map_or(0, |r| r.predicate.sequence);
        let i = self.ignored.iter().map(|i| i.sequence).max().unwrap_or(0);
        t.max(i) + 1
    }
}

/// A channel's trusted pointer records, oldest first.
#[derive(Clone, Debug)]
pub struct ChannelChain {
    pub channel: String,
    pub region: String,
    pub records: Vec<Opened<ChannelPredicate>>,
    pub ignored: Vec<Ignored>,
}

impl ChannelChain {
    /// The AMI the channel points at now.
    pub fn current(&self) -> Option<AmiRef> {
        self.records
            .last()
            .and_then(|r| AmiRef::parse(&r.predicate.ami).ok())
    }

    pub fn next_sequence(&self) -> u64 {
        let t = self.records.last().map_or(0, |r| r.predicate.sequence);
        let i = self.ignored.iter().map(|i| i.sequence).max().unwrap_or(0);
        t.max(i) + 1
    }
}

fn digest_of(bytes: &[u8]) -> String {
    bakeproof_types::Sha256Digest::of(bytes).prefixed()
}

/// Reads an AMI's chain from its stored objects (any order). With
/// `tree_digest_hex`, every trusted record's subject must carry it (a
/// record about another image of the same AMI id breaks the chain).
pub fn ami_chain(
    ami: &AmiRef,
    tree_digest_hex: Option<&str>,
    mut objects: Vec<StoredRecord>,
    keys: &TrustedKeys,
) -> Result<AmiChain, ChainError> {
    objects.sort_by_key(|o| o.sequence);
    let what = ami.to_string();
    let subject = ami.subject_name();
    let mut records: Vec<Opened<RecordPredicate>> = Vec::new();
    let mut ignored = Vec::new();
    for o in objects {
        let ignore = |why: String| Ignored {
            sequence: o.sequence,
            digest: digest_of(&o.bytes),
            why,
        };
        let r = match open_record(&o.bytes, keys) {
            Ok(r) => r,
            Err(e) => {
                ignored.push(ignore(e.to_string()));
                continue;
            }
        };
        let p = &r.predicate;
        let Some((_, tree)) = r.subjects.iter().find(|(n, _)| *n == subject) else {
            ignored.push(ignore(format!("a record of another AMI ({})", p.ami)));
            continue;
        };
        if p.ami != what || r.subjects.len() != 1 {
            ignored.push(ignore(format!("a record of another AMI ({})", p.ami)));
            continue;
        }
        if p.sequence != o.sequence {
            ignored.push(ignore(format!(
                "record {} stored as record {} (copied or replayed)",
                p.sequence, o.sequence
            )));
            continue;
        }
        let broken = |why: String| ChainError::Broken {
            what: what.clone(),
            sequence: p.sequence,
            why,
        };
        if let Some(t) = tree_digest_hex
            && tree != t
        {
            return Err(broken(format!(
                "it is about tree sha256:{tree}, the published image is sha256:{t}"
            )));
        }
        let prev = records.last();
        match (prev, &p.supersedes) {
            (None, None) => {}
            (None, Some(d)) => {
                return Err(broken(format!(
                    "it supersedes {d}, which the store does not hold (a deleted record)"
                )));
            }
            (Some(q), None) => {
                return Err(broken(format!(
                    "it supersedes nothing, but record {} comes before it",
                    q.predicate.sequence
                )));
            }
            (Some(q), Some(d)) if *d != q.digest => {
                return Err(broken(format!(
                    "it supersedes {d}, but the record before it (record {}) is {} (a deleted or replaced record)",
                    q.predicate.sequence, q.digest
                )));
            }
            _ => {}
        }
        let (before, before_revoke) = match prev {
            None => (State::Built, None),
            Some(q) => (
                q.predicate.state,
                (q.predicate.state == State::Revoked).then_some(q.predicate.previous_state),
            ),
        };
        if p.previous_state != before {
            return Err(broken(format!(
                "its previous state is {}, the chain says {before}",
                p.previous_state
            )));
        }
        match transition(before, p.action, before_revoke) {
            Ok(s) if s == p.state => {}
            Ok(s) => {
                return Err(broken(format!(
                    "{} from {before} leads to {s}, the record says {}",
                    p.action, p.state
                )));
            }
            Err(e) => return Err(broken(e.to_string())),
        }
        records.push(r);
    }
    Ok(AmiChain {
        ami: ami.clone(),
        records,
        ignored,
    })
}

/// Reads a channel's chain from its stored objects (any order).
pub fn channel_chain(
    channel: &str,
    region: &str,
    mut objects: Vec<StoredRecord>,
    keys: &TrustedKeys,
) -> Result<ChannelChain, ChainError> {
    objects.sort_by_key(|o| o.sequence);
    let what = format!("channel {channel} in {region}");
    let mut records: Vec<Opened<ChannelPredicate>> = Vec::new();
    let mut ignored = Vec::new();
    for o in objects {
        let ignore = |why: String| Ignored {
            sequence: o.sequence,
            digest: digest_of(&o.bytes),
            why,
        };
        let r = match open_channel(&o.bytes, keys) {
            Ok(r) => r,
            Err(e) => {
                ignored.push(ignore(e.to_string()));
                continue;
            }
        };
        let p = &r.predicate;
        let ami_ok = AmiRef::parse(&p.ami).is_ok_and(|a| {
            a.region() == region && r.subjects.iter().any(|(n, _)| *n == a.subject_name())
        });
        if p.channel != channel || p.region != region || !ami_ok {
            ignored.push(ignore(format!(
                "a pointer of channel {} in {} to {}",
                p.channel, p.region, p.ami
            )));
            continue;
        }
        if p.sequence != o.sequence {
            ignored.push(ignore(format!(
                "record {} stored as record {} (copied or replayed)",
                p.sequence, o.sequence
            )));
            continue;
        }
        let broken = |why: String| ChainError::Broken {
            what: what.clone(),
            sequence: p.sequence,
            why,
        };
        match (records.last(), &p.supersedes) {
            (None, None) => {}
            (Some(q), Some(d)) if *d == q.digest => {}
            (None, Some(d)) => {
                return Err(broken(format!(
                    "it supersedes {d}, which the store does not hold (a deleted record)"
                )));
            }
            (Some(q), d) => {
                return Err(broken(format!(
                    "it supersedes {d:?}, but the record before it (record {}) is {}",
                    q.predicate.sequence, q.digest
                )));
            }
        }
        records.push(r);
    }
    Ok(ChannelChain {
        channel: channel.to_string(),
        region: region.to_string(),
        records,
        ignored,
    })
}
