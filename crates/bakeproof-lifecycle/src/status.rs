//! The status document's rules for a reader (pure): it must not have
//! expired, its version must not be lower than one the reader has seen,
//! and the store's chains must reach every record it names.

use crate::chain::{AmiChain, ChannelChain};
use crate::layout::channel_id;
use crate::model::StatusPredicate;
use crate::time::parse_rfc3339;

/// Why a status document is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("the status document (version {version}) expired at {expires}")]
    Expired { version: u64, expires: String },
    #[error(
        "the status document has version {version}, lower than version {seen} seen before (a rolled-back status document)"
    )]
    RolledBack { version: u64, seen: u64 },
    #[error("the status document is malformed: {0}")]
    Malformed(String),
    #[error(
        "the status document (version {version}) names record {sequence} ({digest}) of {what}, which the store does not hold (newest trusted record: {have}): a record was deleted or hidden"
    )]
    Hidden {
        version: u64,
        what: String,
        sequence: u64,
        digest: String,
        have: String,
    },
}

/// Checks expiry (at `now`, Unix seconds) and rollback (against `seen`, the
/// highest version the reader has accepted before).
pub fn check_fresh(p: &StatusPredicate, now: i64, seen: Option<u64>) -> Result<(), StatusError> {
    let expires = parse_rfc3339(&p.expires).ok_or_else(|| {
        StatusError::Malformed(format!("expires {:?} is not RFC 3339", p.expires))
    })?;
    if parse_rfc3339(&p.issued).is_none() {
        return Err(StatusError::Malformed(format!(
            "issued {:?} is not RFC 3339",
            p.issued
        )));
    }
    if now >= expires {
        return Err(StatusError::Expired {
            version: p.version,
            expires: p.expires.clone(),
        });
    }
    if let Some(seen) = seen
        && p.version < seen
    {
        return Err(StatusError::RolledBack {
            version: p.version,
            seen,
        });
    }
    Ok(())
}

/// Whether `records` (a chain, oldest first) hold the head the status
/// document names under `id` in `heads` (a chain may be longer: records
/// signed after the document are kept).
fn check_head<P>(
    p: &StatusPredicate,
    heads: &std::collections::BTreeMap<String, crate::model::Head>,
    id: &str,
    what: String,
    records: &[crate::record::Opened<P>],
    seq_of: impl Fn(&P) -> u64,
) -> Result<(), StatusError> {
    let Some(head) = heads.get(id) else {
        return Ok(());
    };
    if records
        .iter()
        .any(|r| seq_of(&r.predicate) == head.sequence && r.digest == head.digest)
    {
        return Ok(());
    }
    Err(StatusError::Hidden {
        version: p.version,
        what,
        sequence: head.sequence,
        digest: head.digest.clone(),
        have: records.last().map_or_else(
            || "none".to_string(),
            |r| format!("record {} ({})", seq_of(&r.predicate), r.digest),
        ),
    })
}

/// Checks that `chain` holds the record the status document names for its
/// AMI (a chain may be longer: records signed after the document are kept).
pub fn check_ami(p: &StatusPredicate, chain: &AmiChain) -> Result<(), StatusError> {
    let id = chain.ami.to_string();
    check_head(p, &p.amis, &id, id.clone(), &chain.records, |q| q.sequence)
}

/// As [`check_ami`], for a channel.
pub fn check_channel(p: &StatusPredicate, chain: &ChannelChain) -> Result<(), StatusError> {
    let id = channel_id(&chain.channel, &chain.region);
    check_head(
        p,
        &p.channels,
        &id,
        format!("channel {id}"),
        &chain.records,
        |q| q.sequence,
    )
}
