//! The lifecycle's operations on a store (docs/lifecycle.md, "Store
//! layout and concurrency").
//!
//! Writes are create-only records ([`bakeproof_store::ObjectWrite::CreateOnly`]
//! at the next sequence number: of two concurrent writers one wins, the
//! other re-reads the chain and tries again if its action is still allowed,
//! else it gets the transition error: never a lost record), then the status
//! document, updated by compare and swap ([`bakeproof_store::ObjectWrite::IfMatch`])
//! with a version one higher. A status update never lowers the head it
//! names for a chain (heads are merged by sequence number), so a slow
//! writer cannot undo a faster one's entry.
//!
//! Before writing, a writer checks the chain it read against the status
//! document: a store lacking a record the document names (a deleted head) is
//! refused, never built upon (the next record would take the deleted one's
//! place and launder the deletion).

use std::collections::BTreeMap;

use bakeproof_attest::{Signer, TrustedKeys};
use bakeproof_store::{ObjectWrite, Store, StoreError};
use bakeproof_types::AmiRef;

use crate::LifecycleError;
use crate::chain::{AmiChain, ChannelChain, StoredRecord, ami_chain, channel_chain};
use crate::layout::{
    CHANNELS_PREFIX, RECORD_SUFFIX, STATUS_KEY, channel_id, channel_key, channel_prefix,
    record_key, records_prefix, sequence_of,
};
use crate::model::{
    Action, ChannelPredicate, Head, Labels, RecordPredicate, State, StatusPredicate,
    check_channel_name,
};
use crate::record::{Opened, open_status, sign_channel, sign_record, sign_status};
use crate::status::{StatusError, check_ami, check_channel};
use crate::time::rfc3339;

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
pub fn record(w: &Writer<'_>, req: &RecordRequest) -> Result<Recorded, LifecycleError> {
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if req.action.needs_reason() && reason.is_none() {
        return Err(LifecycleError::Invalid(format!(
            "{} of {} needs a reason",
            req.action, req.ami
        )));
    }
    if req.effective.is_some() && req.action != Action::Deprecate {
        return Err(LifecycleError::Invalid(format!(
            "an effective date is only for deprecate, not {}",
            req.action
        )));
    }
    let trusted = w.trusted_keys();
    let tree = published_tree(w.store, &req.ami)?;
    let keyid = w.signer.public_key().keyid();
    let mut conflicts = 0;
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let chain = read_ami_chain(w.store, &req.ami, Some(&tree), &trusted)?;
        if let Some(st) = read_status(w.store, &trusted)? {
            check_ami(&st.predicate, &chain)?;
        }
        let from = chain.state();
        let to = crate::transition(from, req.action, chain.before_revoke())?;
        let head = chain.head();
        let labels = head
            .map(|h| h.predicate.labels.clone())
            .unwrap_or_default()
            .merged(&req.labels);
        let sequence = chain.next_sequence();
        let pred = RecordPredicate {
            ami: req.ami.to_string(),
            sequence,
            action: req.action,
            state: to,
            previous_state: from,
            reason: reason.map(str::to_string),
            time: rfc3339(w.now),
            effective: req.effective.map(rfc3339),
            signer: keyid.clone(),
            supersedes: head.map(|h| h.digest.clone()),
            labels,
        };
        let signed = sign_record(&req.ami, &tree, &pred, w.signer)?;
        let key = record_key(&req.ami, sequence);
        match w
            .store
            .put_object(&key, &signed.bytes, ObjectWrite::CreateOnly)
        {
            Ok(_) => {}
            Err(StoreError::Conflict(m)) => {
                log::debug!("{key}: taken by another writer ({m}); reading the chain again");
                conflicts += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let id = req.ami.to_string();
        let new_head = Head {
            sequence,
            digest: signed.digest.clone(),
            value: to.as_str().to_string(),
        };
        let status = update_status(w, &trusted, |p| {
            raise(&mut p.amis, &id, new_head.clone());
        })?;
        let record = crate::record::open_record(&signed.bytes, &trusted).map_err(|e| {
            LifecycleError::Invalid(format!("the record just signed does not open: {e}"))
        })?;
        return Ok(Recorded {
            record,
            key,
            conflicts,
            status,
        });
    }
    Err(LifecycleError::Contended {
        what: format!("the lifecycle chain of {}", req.ami),
        attempts: MAX_WRITE_ATTEMPTS,
    })
}

/// Reads an AMI's chain (list its prefix, get each record, [`crate::chain::ami_chain`]).
/// `tree_digest_hex`: the published index's, when the caller has it.
pub fn read_ami_chain(
    store: &dyn Store,
    ami: &AmiRef,
    tree_digest_hex: Option<&str>,
    keys: &TrustedKeys,
) -> Result<AmiChain, LifecycleError> {
    let prefix = records_prefix(ami);
    let listed = store.list(&prefix)?;
    let objects = get_records(store, &prefix, &listed)?;
    Ok(ami_chain(ami, tree_digest_hex, objects, keys)?)
}

/// The store's status document, opened with `keys` (`None`: the store has
/// none). A document not signed by a trusted key (or not a status
/// document) is an error, [`LifecycleError::Store`] with
/// [`StoreError::Corrupt`] (never ignored: it stands for the whole store). Not checked for freshness
/// (that is the reader's: [`crate::status::check_fresh`]).
pub fn read_status(
    store: &dyn Store,
    keys: &TrustedKeys,
) -> Result<Option<Opened<StatusPredicate>>, LifecycleError> {
    Ok(read_status_tagged(store, keys)?.map(|(o, _)| o))
}

/// Re-signs the status document from the chains the store holds (every
/// AMI's and channel's newest trusted record), version one higher, a new
/// expiry: what a scheduler runs to keep it fresh, and the repair after a
/// write whose status update was lost.
pub fn refresh_status(w: &Writer<'_>) -> Result<StatusPredicate, LifecycleError> {
    let trusted = w.trusted_keys();
    let old = read_status(w.store, &trusted)?.map(|o| o.predicate);
    let mut amis: BTreeMap<String, Head> = BTreeMap::new();
    let mut channels: BTreeMap<String, Head> = BTreeMap::new();

    // Every AMI with records: amis/<region>/<ami-id>/lifecycle/<seq>.sigstore.json.
    let listed = w.store.list("amis/")?;
    let mut by_ami: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for k in &listed {
        let parts: Vec<&str> = k.split('/').collect();
        if let ["amis", region, ami, "lifecycle", file] = parts.as_slice()
            && file.ends_with(RECORD_SUFFIX)
        {
            by_ami
                .entry((region.to_string(), ami.to_string()))
                .or_default()
                .push(k.clone());
        }
    }
    for ((region, id), keys) in &by_ami {
        let Ok(ami) = AmiRef::parse(&format!("{region}:{id}")) else {
            continue;
        };
        let tree = match published_tree(w.store, &ami) {
            Ok(t) => Some(t),
            Err(LifecycleError::NotPublished(_)) => None,
            Err(e) => return Err(e),
        };
        let prefix = records_prefix(&ami);
        let objects = get_records(w.store, &prefix, keys)?;
        let chain = ami_chain(&ami, tree.as_deref(), objects, &trusted)?;
        if let Some(p) = &old {
            check_ami(p, &chain)?;
        }
        if let Some(h) = chain.head() {
            amis.insert(
                ami.to_string(),
                Head {
                    sequence: h.predicate.sequence,
                    digest: h.digest.clone(),
                    value: h.predicate.state.as_str().to_string(),
                },
            );
        }
    }

    // Every channel: channels/<region>/<name>/<seq>.sigstore.json.
    let listed = w.store.list(CHANNELS_PREFIX)?;
    let mut by_channel: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for k in &listed {
        let parts: Vec<&str> = k.split('/').collect();
        if let ["channels", region, name, file] = parts.as_slice()
            && file.ends_with(RECORD_SUFFIX)
        {
            by_channel
                .entry((region.to_string(), name.to_string()))
                .or_default()
                .push(k.clone());
        }
    }
    for ((region, name), keys) in &by_channel {
        if check_channel_name(name).is_err() {
            continue;
        }
        let prefix = channel_prefix(name, region);
        let objects = get_records(w.store, &prefix, keys)?;
        let chain = channel_chain(name, region, objects, &trusted)?;
        if let Some(p) = &old {
            check_channel(p, &chain)?;
        }
        if let Some(h) = chain.records.last() {
            channels.insert(
                channel_id(name, region),
                Head {
                    sequence: h.predicate.sequence,
                    digest: h.digest.clone(),
                    value: h.predicate.ami.clone(),
                },
            );
        }
    }

    // A chain the old document names that has no object left at all.
    if let Some(p) = &old {
        if let Some((id, h)) = p.amis.iter().find(|(id, _)| !amis.contains_key(*id)) {
            return Err(hidden(p, id.clone(), h).into());
        }
        if let Some((id, h)) = p
            .channels
            .iter()
            .find(|(id, _)| !channels.contains_key(*id))
        {
            return Err(hidden(p, format!("channel {id}"), h).into());
        }
    }

    update_status(w, &trusted, |p| {
        for (id, h) in &amis {
            raise(&mut p.amis, id, h.clone());
        }
        for (id, h) in &channels {
            raise(&mut p.channels, id, h.clone());
        }
    })
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
pub fn set_channel(w: &Writer<'_>, req: &ChannelRequest) -> Result<ChannelSet, LifecycleError> {
    check_channel_name(&req.channel).map_err(LifecycleError::Invalid)?;
    let trusted = w.trusted_keys();
    let region = req.ami.region().to_string();
    let tree = published_tree(w.store, &req.ami)?;
    let status0 = read_status(w.store, &trusted)?;
    let ami_chain = read_ami_chain(w.store, &req.ami, Some(&tree), &trusted)?;
    if let Some(st) = &status0 {
        check_ami(&st.predicate, &ami_chain)?;
    }
    if ami_chain.state() != State::Approved {
        return Err(LifecycleError::NotApproved {
            ami: req.ami.to_string(),
            state: ami_chain.state(),
        });
    }
    let keyid = w.signer.public_key().keyid();
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let chain = read_channel_raw(w.store, &req.channel, &region, &trusted)?;
        if let Some(st) = read_status(w.store, &trusted)? {
            check_channel(&st.predicate, &chain)?;
        }
        let previous = chain.current();
        let sequence = chain.next_sequence();
        let pred = ChannelPredicate {
            channel: req.channel.clone(),
            region: region.clone(),
            ami: req.ami.to_string(),
            sequence,
            time: rfc3339(w.now),
            signer: keyid.clone(),
            reason: reason.clone(),
            supersedes: chain.records.last().map(|r| r.digest.clone()),
        };
        let signed = sign_channel(&req.ami, &tree, &pred, w.signer)?;
        let key = channel_key(&req.channel, &region, sequence);
        match w
            .store
            .put_object(&key, &signed.bytes, ObjectWrite::CreateOnly)
        {
            Ok(_) => {}
            Err(StoreError::Conflict(m)) => {
                log::debug!("{key}: taken by another writer ({m}); reading the channel again");
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let id = channel_id(&req.channel, &region);
        let new_head = Head {
            sequence,
            digest: signed.digest.clone(),
            value: req.ami.to_string(),
        };
        let mut status = update_status(w, &trusted, |p| {
            raise(&mut p.channels, &id, new_head.clone());
        })?;
        let mut deprecated = None;
        if let (Some(at), Some(prev)) = (req.deprecate_previous, &previous)
            && *prev != req.ami
        {
            let prev_state = read_ami_chain(w.store, prev, None, &trusted)?.state();
            // Only an approved AMI is deprecated; one already deprecated
            // or revoked stays as it is.
            if prev_state == State::Approved {
                let r = record(
                    w,
                    &RecordRequest {
                        ami: prev.clone(),
                        action: Action::Deprecate,
                        reason: Some(format!("channel {} moved to {}", req.channel, req.ami)),
                        effective: (at > w.now).then_some(at),
                        labels: Labels::default(),
                    },
                )?;
                status = r.status.clone();
                deprecated = Some(r);
            }
        }
        let chain = read_channel_raw(w.store, &req.channel, &region, &trusted)?;
        return Ok(ChannelSet {
            chain,
            previous,
            deprecated,
            status,
        });
    }
    Err(LifecycleError::Contended {
        what: format!("channel {} in {region}", req.channel),
        attempts: MAX_WRITE_ATTEMPTS,
    })
}

/// Reads a channel's chain, checked against the status document when the
/// store has one.
pub fn read_channel(
    store: &dyn Store,
    channel: &str,
    region: &str,
    keys: &TrustedKeys,
) -> Result<ChannelChain, LifecycleError> {
    check_channel_name(channel).map_err(LifecycleError::Invalid)?;
    let chain = read_channel_raw(store, channel, region, keys)?;
    if let Some(st) = read_status(store, keys)? {
        check_channel(&st.predicate, &chain)?;
    }
    Ok(chain)
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
pub fn list(store: &dyn Store, keys: &TrustedKeys) -> Result<Vec<AmiSummary>, LifecycleError> {
    // One listing of amis/ gives every index and every record.
    let listed = store.list("amis/")?;
    let mut records: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut amis = Vec::new();
    for k in &listed {
        let parts: Vec<&str> = k.split('/').collect();
        match parts.as_slice() {
            ["amis", region, id, "index.json"] => {
                if let Ok(a) = AmiRef::parse(&format!("{region}:{id}")) {
                    amis.push(a);
                }
            }
            ["amis", region, id, "lifecycle", file] if file.ends_with(RECORD_SUFFIX) => {
                records
                    .entry((region.to_string(), id.to_string()))
                    .or_default()
                    .push(k.clone());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for ami in amis {
        let index = store.get_index(&ami)?;
        let tree = tree_hex(&index.tree_digest, &ami)?;
        let prefix = records_prefix(&ami);
        let keys_of = records
            .get(&(ami.region().to_string(), ami.ami_id().to_string()))
            .map_or(&[][..], Vec::as_slice);
        let objects = get_records(store, &prefix, keys_of)?;
        let chain = ami_chain(&ami, Some(&tree), objects, keys)?;
        let head = chain.head();
        out.push(AmiSummary {
            state: chain.state(),
            labels: head.map(|h| h.predicate.labels.clone()).unwrap_or_default(),
            published: index.created.clone(),
            changed: head.map(|h| h.predicate.time.clone()),
            tree_digest: index.tree_digest.clone(),
            ami,
        });
    }
    let when = |s: &Option<String>| s.as_deref().and_then(crate::time::parse_rfc3339);
    out.sort_by(|a, b| {
        when(&b.labels.build_date)
            .cmp(&when(&a.labels.build_date))
            .then_with(|| {
                crate::time::parse_rfc3339(&b.published)
                    .cmp(&crate::time::parse_rfc3339(&a.published))
            })
            .then_with(|| a.ami.to_string().cmp(&b.ami.to_string()))
    });
    Ok(out)
}

impl Writer<'_> {
    /// The keys a writer reads the store with: its own and the trusted ones.
    fn trusted_keys(&self) -> TrustedKeys {
        let mut k = self.trusted.clone();
        k.insert(self.signer.public_key());
        k
    }
}

/// The hex tree digest of a published index's `sha256:HEX`.
fn tree_hex(prefixed: &str, ami: &AmiRef) -> Result<String, LifecycleError> {
    bakeproof_types::Sha256Digest::from_prefixed(prefixed)
        .map(|d| d.to_hex())
        .map_err(|_| {
            StoreError::Corrupt(format!(
                "index of {ami}: tree digest {prefixed:?} is not sha256:<hex>"
            ))
            .into()
        })
}

/// The tree digest (hex) of the AMI's published index; an AMI without one
/// is [`LifecycleError::NotPublished`].
fn published_tree(store: &dyn Store, ami: &AmiRef) -> Result<String, LifecycleError> {
    match store.get_index(ami) {
        Ok(index) => tree_hex(&index.tree_digest, ami),
        Err(StoreError::NotFound(_)) => Err(LifecycleError::NotPublished(ami.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Reads the record objects `keys` (listed below `prefix`). A key that is
/// not a record key is skipped; one removed since the listing is skipped
/// (the chain reader sees the gap); one larger than [`MAX_RECORD_SIZE`] is
/// kept with no content, so it is ignored (not believed) but its sequence
/// number stays taken.
fn get_records(
    store: &dyn Store,
    prefix: &str,
    keys: &[String],
) -> Result<Vec<StoredRecord>, LifecycleError> {
    let mut out = Vec::new();
    for k in keys {
        let Some(sequence) = sequence_of(prefix, k) else {
            continue;
        };
        match store.get_object(k, MAX_RECORD_SIZE) {
            Ok(o) => out.push(StoredRecord {
                sequence,
                bytes: o.bytes,
            }),
            Err(StoreError::NotFound(_)) => {}
            Err(StoreError::Corrupt(m)) => {
                log::debug!("{k}: not read ({m})");
                out.push(StoredRecord {
                    sequence,
                    bytes: Vec::new(),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

fn read_channel_raw(
    store: &dyn Store,
    channel: &str,
    region: &str,
    keys: &TrustedKeys,
) -> Result<ChannelChain, LifecycleError> {
    let prefix = channel_prefix(channel, region);
    let listed = store.list(&prefix)?;
    let objects = get_records(store, &prefix, &listed)?;
    Ok(channel_chain(channel, region, objects, keys)?)
}

/// The status document with its store tag. One that does not open with a
/// trusted key is [`StoreError::Corrupt`] (it stands for the whole store:
/// never ignored, never overwritten by a writer).
fn read_status_tagged(
    store: &dyn Store,
    keys: &TrustedKeys,
) -> Result<Option<(Opened<StatusPredicate>, bakeproof_store::ObjectTag)>, LifecycleError> {
    let obj = match store.get_object(STATUS_KEY, MAX_RECORD_SIZE) {
        Ok(o) => o,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match open_status(&obj.bytes, keys) {
        Ok(o) => Ok(Some((o, obj.tag))),
        Err(e) => Err(StoreError::Corrupt(format!(
            "{} at {}/{STATUS_KEY}: {e}",
            "the lifecycle status document",
            store.location()
        ))
        .into()),
    }
}

/// Sets `map[id]` to `head` unless it already names a later record.
fn raise(map: &mut BTreeMap<String, Head>, id: &str, head: Head) {
    match map.get(id) {
        Some(h) if h.sequence >= head.sequence => {}
        _ => {
            map.insert(id.to_string(), head);
        }
    }
}

fn hidden(p: &StatusPredicate, what: String, h: &Head) -> StatusError {
    StatusError::Hidden {
        version: p.version,
        what,
        sequence: h.sequence,
        digest: h.digest.clone(),
        have: "none".to_string(),
    }
}

/// Writes the next status document: the current one (if any) with `edit`
/// applied, version one higher, issued now, expiring after the writer's
/// validity; by compare and swap against the document read (create-only
/// when there is none), read again and retried when another writer won.
fn update_status(
    w: &Writer<'_>,
    trusted: &TrustedKeys,
    edit: impl Fn(&mut StatusPredicate),
) -> Result<StatusPredicate, LifecycleError> {
    if w.status_validity_secs <= 0 {
        return Err(LifecycleError::Invalid(
            "the status document's validity must be positive".into(),
        ));
    }
    let signer = w.signer.public_key().keyid();
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let (mut p, mode) = match read_status_tagged(w.store, trusted)? {
            Some((o, tag)) => (o.predicate, ObjectWrite::IfMatch(tag)),
            None => (
                StatusPredicate {
                    version: 0,
                    issued: String::new(),
                    expires: String::new(),
                    signer: String::new(),
                    amis: BTreeMap::new(),
                    channels: BTreeMap::new(),
                },
                ObjectWrite::CreateOnly,
            ),
        };
        edit(&mut p);
        p.version = p.version.checked_add(1).ok_or_else(|| {
            LifecycleError::Invalid("the status document's version is at its maximum".into())
        })?;
        p.issued = rfc3339(w.now);
        p.expires = rfc3339(w.now.saturating_add(w.status_validity_secs));
        p.signer.clone_from(&signer);
        let signed = sign_status(&p, w.signer)?;
        match w.store.put_object(STATUS_KEY, &signed.bytes, mode) {
            Ok(_) => return Ok(p),
            // Another writer changed (or removed) it since it was read.
            Err(StoreError::Conflict(m) | StoreError::NotFound(m)) => {
                log::debug!("{STATUS_KEY}: {m}; reading it again");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(LifecycleError::Contended {
        what: "the lifecycle status document".into(),
        attempts: MAX_WRITE_ATTEMPTS,
    })
}
