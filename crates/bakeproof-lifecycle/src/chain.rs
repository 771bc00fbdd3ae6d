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

/// What the chain rules need of a predicate.
trait Linked {
    fn sequence(&self) -> u64;
    fn supersedes(&self) -> Option<&str>;
}

impl Linked for RecordPredicate {
    fn sequence(&self) -> u64 {
        self.sequence
    }
    fn supersedes(&self) -> Option<&str> {
        self.supersedes.as_deref()
    }
}

impl Linked for ChannelPredicate {
    fn sequence(&self) -> u64 {
        self.sequence
    }
    fn supersedes(&self) -> Option<&str> {
        self.supersedes.as_deref()
    }
}

type Open<P> = fn(&[u8], &TrustedKeys) -> Result<Opened<P>, crate::record::OpenError>;

/// The rules both chains keep: objects in sequence order, opened with a
/// trusted key; an object that does not open, that `foreign` says is not
/// of this chain, or whose predicate names another sequence number than
/// its key is ignored; each trusted record supersedes the one before it;
/// `follows` checks the rest (the AMI's states).
fn link<P: Linked>(
    what: &str,
    mut objects: Vec<StoredRecord>,
    keys: &TrustedKeys,
    open: Open<P>,
    foreign: impl Fn(&Opened<P>) -> Option<String>,
    follows: impl Fn(Option<&Opened<P>>, &Opened<P>) -> Result<(), String>,
) -> Result<(Vec<Opened<P>>, Vec<Ignored>), ChainError> {
    objects.sort_by_key(|o| o.sequence);
    let mut records: Vec<Opened<P>> = Vec::new();
    let mut ignored = Vec::new();
    for o in objects {
        let why = match open(&o.bytes, keys) {
            Err(e) => Some(e.to_string()),
            Ok(r) => match foreign(&r) {
                Some(why) => Some(why),
                None if r.predicate.sequence() != o.sequence => Some(format!(
                    "record {} stored as record {} (copied or replayed)",
                    r.predicate.sequence(),
                    o.sequence
                )),
                None => {
                    let broken = |why: String| ChainError::Broken {
                        what: what.to_string(),
                        sequence: o.sequence,
                        why,
                    };
                    let prev = records.last();
                    match (prev, r.predicate.supersedes()) {
                        (None, None) => {}
                        (Some(q), Some(d)) if d == q.digest => {}
                        (None, Some(d)) => {
                            return Err(broken(format!(
                                "it supersedes {d}, which the store does not hold (a deleted record)"
                            )));
                        }
                        (Some(q), None) => {
                            return Err(broken(format!(
                                "it supersedes nothing, but record {} comes before it",
                                q.predicate.sequence()
                            )));
                        }
                        (Some(q), Some(d)) => {
                            return Err(broken(format!(
                                "it supersedes {d}, but the record before it (record {}) is {} (a deleted or replaced record)",
                                q.predicate.sequence(),
                                q.digest
                            )));
                        }
                    }
                    follows(prev, &r).map_err(broken)?;
                    records.push(r);
                    None
                }
            },
        };
        if let Some(why) = why {
            ignored.push(Ignored {
                sequence: o.sequence,
                digest: digest_of(&o.bytes),
                why,
            });
        }
    }
    Ok((records, ignored))
}

/// Reads an AMI's chain from its stored objects (any order). With
/// `tree_digest_hex`, every trusted record's subject must carry it (a
/// record about another image of the same AMI id breaks the chain).
pub fn ami_chain(
    ami: &AmiRef,
    tree_digest_hex: Option<&str>,
    objects: Vec<StoredRecord>,
    keys: &TrustedKeys,
) -> Result<AmiChain, ChainError> {
    let what = ami.to_string();
    let subject = ami.subject_name();
    let foreign = |r: &Opened<RecordPredicate>| {
        let ours = r.predicate.ami == what && r.subjects.len() == 1 && r.subjects[0].0 == subject;
        (!ours).then(|| format!("a record of another AMI ({})", r.predicate.ami))
    };
    let follows = |prev: Option<&Opened<RecordPredicate>>, r: &Opened<RecordPredicate>| {
        let p = &r.predicate;
        let tree = &r.subjects[0].1;
        if let Some(t) = tree_digest_hex
            && tree != t
        {
            return Err(format!(
                "it is about tree sha256:{tree}, the published image is sha256:{t}"
            ));
        }
        let (before, before_revoke) = match prev {
            None => (State::Built, None),
            Some(q) => (
                q.predicate.state,
                (q.predicate.state == State::Revoked).then_some(q.predicate.previous_state),
            ),
        };
        if p.previous_state != before {
            return Err(format!(
                "its previous state is {}, the chain says {before}",
                p.previous_state
            ));
        }
        match transition(before, p.action, before_revoke) {
            Ok(s) if s == p.state => Ok(()),
            Ok(s) => Err(format!(
                "{} from {before} leads to {s}, the record says {}",
                p.action, p.state
            )),
            Err(e) => Err(e.to_string()),
        }
    };
    let (records, ignored) = link(&what, objects, keys, open_record, foreign, follows)?;
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
    objects: Vec<StoredRecord>,
    keys: &TrustedKeys,
) -> Result<ChannelChain, ChainError> {
    let what = format!("channel {channel} in {region}");
    let foreign = |r: &Opened<ChannelPredicate>| {
        let p = &r.predicate;
        let ami_ok = AmiRef::parse(&p.ami).is_ok_and(|a| {
            a.region() == region && r.subjects.iter().any(|(n, _)| *n == a.subject_name())
        });
        (p.channel != channel || p.region != region || !ami_ok).then(|| {
            format!(
                "a pointer of channel {} in {} to {}",
                p.channel, p.region, p.ami
            )
        })
    };
    let (records, ignored) = link(&what, objects, keys, open_channel, foreign, |_, _| Ok(()))?;
    Ok(ChannelChain {
        channel: channel.to_string(),
        region: region.to_string(),
        records,
        ignored,
    })
}
