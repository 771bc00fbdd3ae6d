//! The lifecycle's operations on both store backends: a local directory
//! and S3 (moto_server, the same scenarios run in a child process with
//! moto's endpoint: see crates/bakeproof-store/tests/common/mod.rs).
//!
//! Oracles: the chain is read back through the pure chain reader with the
//! trusted key (never through what `record` returned), the status document
//! through its own signature check, and the objects are listed and deleted
//! or planted directly in the store.

#[path = "../../bakeproof-store/tests/common/mod.rs"]
mod common;

use std::sync::Barrier;

use bakeproof_attest::{PrivateKey, TrustedKeys};
use bakeproof_lifecycle::layout::{STATUS_KEY, channel_id, record_key};
use bakeproof_lifecycle::model::{Labels, RecordPredicate};
use bakeproof_lifecycle::ops::{self, ChannelRequest, RecordRequest, Writer};
use bakeproof_lifecycle::record::sign_record;
use bakeproof_lifecycle::{Action, ChainError, LifecycleError, State, StatusError};
use bakeproof_store::{
    AmiIndex, AmiRef, IndexEntry, IndexPut, IndexWrite, LocalStore, ObjectTag, ObjectWrite, Store,
    StoreError, StoreOptions, StoredObject, open_with,
};

type Open<'a> = &'a (dyn Fn() -> Box<dyn Store> + Sync);

const NOW: i64 = 1_750_000_000;

fn ami(n: u32) -> AmiRef {
    AmiRef::parse(&format!("eu-west-1:ami-{n:017x}")).unwrap()
}

fn tree_of(a: &AmiRef) -> String {
    bakeproof_store::Sha256Digest::of(a.to_string().as_bytes()).to_string()
}

/// Publishes `a` (one blob, its index) as `bakeproof publish` would.
fn publish(s: &dyn Store, a: &AmiRef) {
    let blob = format!("bundle of {a}");
    let h = s.put_blob(blob.as_bytes()).unwrap();
    let idx = AmiIndex {
        ami: a.clone(),
        entries: vec![IndexEntry {
            sha256: h,
            predicate_type: "https://example.com/p".into(),
            media_type: "application/json".into(),
            size: blob.len() as u64,
            file: Some("sbom.sigstore.json".into()),
        }],
        tree_digest: format!("sha256:{}", tree_of(a)),
        created: "2025-01-01T00:00:00Z".into(),
        tool_version: "test".into(),
    };
    s.put_index(&idx, IndexWrite::CreateOnly).unwrap();
}

fn writer<'a>(s: &'a dyn Store, k: &'a PrivateKey) -> Writer<'a> {
    Writer {
        store: s,
        signer: k,
        trusted: TrustedKeys::default(),
        now: NOW,
        status_validity_secs: ops::DEFAULT_STATUS_VALIDITY_SECS,
    }
}

fn req(a: &AmiRef, action: Action) -> RecordRequest {
    RecordRequest {
        ami: a.clone(),
        action,
        reason: action.needs_reason().then(|| format!("{action} in a test")),
        effective: None,
        labels: Labels::default(),
    }
}

fn keys(k: &PrivateKey) -> TrustedKeys {
    TrustedKeys::from(k.public_key())
}

/// The status document, as its signature and the status rules see it.
fn status(s: &dyn Store, k: &PrivateKey) -> bakeproof_lifecycle::StatusPredicate {
    ops::read_status(s, &keys(k)).unwrap().unwrap().predicate
}

/// Every record and the status document name one another consistently.
fn assert_consistent(s: &dyn Store, k: &PrivateKey, a: &AmiRef) {
    let chain = ops::read_ami_chain(s, a, Some(&tree_of(a)), &keys(k)).unwrap();
    let st = status(s, k);
    bakeproof_lifecycle::status::check_ami(&st, &chain).unwrap();
    let h = chain.head().unwrap();
    let named = &st.amis[&a.to_string()];
    assert_eq!(
        (named.sequence, &named.digest, named.value.as_str()),
        (h.predicate.sequence, &h.digest, h.predicate.state.as_str()),
        "the status document names the newest record"
    );
}

// ------------------------------------------------------------- scenarios

/// test → approve → deprecate → revoke → restore: a chain of five linked
/// records, the status document following; refused transitions write nothing.
fn flow(s: &dyn Store) {
    let k = PrivateKey::generate();
    let w = writer(s, &k);
    let a = ami(1);
    assert!(matches!(
        ops::record(&w, &req(&a, Action::Test)),
        Err(LifecycleError::NotPublished(_))
    ));
    assert!(s.list("amis/").unwrap().is_empty());
    publish(s, &a);
    let mut r = req(&a, Action::Test);
    r.labels.application = Some("web".into());
    r.labels.version = Some("1.0.0".into());
    r.labels.build_date = Some("2025-01-10T00:00:00Z".into());
    let t = ops::record(&w, &r).unwrap();
    assert_eq!(t.key, record_key(&a, 1));
    assert_eq!(t.status.version, 1);
    ops::record(&w, &req(&a, Action::Approve)).unwrap();
    let mut d = req(&a, Action::Deprecate);
    d.effective = Some(NOW + 86_400);
    ops::record(&w, &d).unwrap();
    // Refused: approve a deprecated AMI; revoke without a reason.
    assert!(matches!(
        ops::record(&w, &req(&a, Action::Approve)),
        Err(LifecycleError::Transition(_))
    ));
    let mut nr = req(&a, Action::Revoke);
    nr.reason = Some("  ".into());
    assert!(matches!(
        ops::record(&w, &nr),
        Err(LifecycleError::Invalid(_))
    ));
    assert_eq!(
        s.list(&bakeproof_lifecycle::layout::records_prefix(&a))
            .unwrap()
            .len(),
        3
    );
    ops::record(&w, &req(&a, Action::Revoke)).unwrap();
    let last = ops::record(&w, &req(&a, Action::Restore)).unwrap();
    assert_eq!(last.status.version, 5);

    let chain = ops::read_ami_chain(s, &a, Some(&tree_of(&a)), &keys(&k)).unwrap();
    let got: Vec<(u64, Action, State)> = chain
        .records
        .iter()
        .map(|r| (r.predicate.sequence, r.predicate.action, r.predicate.state))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Action::Test, State::Testing),
            (2, Action::Approve, State::Approved),
            (3, Action::Deprecate, State::Deprecated),
            (4, Action::Revoke, State::Revoked),
            (5, Action::Restore, State::Deprecated),
        ]
    );
    let p: &RecordPredicate = &chain.records[2].predicate;
    assert_eq!(p.effective.as_deref(), Some("2025-06-16T15:06:40Z"));
    assert_eq!(
        chain.records[4].predicate.labels.application.as_deref(),
        Some("web")
    );
    assert!(chain.ignored.is_empty());
    assert_consistent(s, &k, &a);

    // list: every published AMI with its state, newest build first.
    let b = ami(2);
    publish(s, &b);
    let mut rb = req(&b, Action::Approve);
    rb.labels.build_date = Some("2025-02-01".into());
    rb.labels.application = Some("web".into());
    ops::record(&w, &rb).unwrap();
    let c = ami(3);
    publish(s, &c);
    let l = ops::list(s, &keys(&k)).unwrap();
    let got: Vec<(String, State)> = l.iter().map(|x| (x.ami.to_string(), x.state)).collect();
    assert_eq!(
        got,
        vec![
            (b.to_string(), State::Approved),
            (a.to_string(), State::Deprecated),
            (c.to_string(), State::Built),
        ]
    );
    assert_eq!(l[1].labels.version.as_deref(), Some("1.0.0"));
    assert_eq!(status(s, &k).version, 6);
}

/// Concurrent writers: never a lost record, and the status document names
/// the newest record of every chain.
fn concurrent(open: Open<'_>) {
    let k = PrivateKey::generate();
    let s0 = open();
    let a = ami(10);
    publish(s0.as_ref(), &a);
    const N: usize = 4;
    // N approvers of one AMI: exactly one approval; the others lose (the
    // transition is no longer allowed once they re-read the chain).
    let start = Barrier::new(N);
    let results: Vec<Result<u32, String>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..N)
            .map(|_| {
                let (k, a, start) = (&k, &a, &start);
                sc.spawn(move || {
                    let s = open();
                    let w = writer(s.as_ref(), k);
                    start.wait();
                    ops::record(&w, &req(a, Action::Approve))
                        .map(|r| r.conflicts)
                        .map_err(|e| match e {
                            LifecycleError::Transition(_) => "transition".to_string(),
                            other => panic!("{other}"),
                        })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let chain = ops::read_ami_chain(s0.as_ref(), &a, None, &keys(&k)).unwrap();
    assert_eq!(chain.records.len(), 1);
    assert_consistent(s0.as_ref(), &k, &a);

    // Compatible writers on one AMI (deprecate, then revoke; or revoke
    // first, and deprecate refused): every accepted action is recorded.
    let start = Barrier::new(2);
    let res: Vec<bool> = std::thread::scope(|sc| {
        let hs: Vec<_> = [Action::Deprecate, Action::Revoke]
            .into_iter()
            .map(|act| {
                let (k, a, start) = (&k, &a, &start);
                sc.spawn(move || {
                    let s = open();
                    let w = writer(s.as_ref(), k);
                    start.wait();
                    match ops::record(&w, &req(a, act)) {
                        Ok(_) => true,
                        Err(LifecycleError::Transition(_)) => false,
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let chain = ops::read_ami_chain(s0.as_ref(), &a, None, &keys(&k)).unwrap();
    assert_eq!(chain.records.len(), 1 + res.iter().filter(|x| **x).count());
    assert_eq!(chain.state(), State::Revoked);
    assert!(res[1], "revoke is allowed in either order");
    assert_consistent(s0.as_ref(), &k, &a);

    // N writers on N AMIs: all contend for the status document; every
    // record is named by it.
    let amis: Vec<AmiRef> = (0..N as u32).map(|i| ami(20 + i)).collect();
    for x in &amis {
        publish(s0.as_ref(), x);
    }
    let v0 = status(s0.as_ref(), &k).version;
    let start = Barrier::new(N);
    std::thread::scope(|sc| {
        for x in &amis {
            let (k, start) = (&k, &start);
            sc.spawn(move || {
                let s = open();
                let w = writer(s.as_ref(), k);
                start.wait();
                ops::record(&w, &req(x, Action::Test)).unwrap();
            });
        }
    });
    for x in &amis {
        assert_consistent(s0.as_ref(), &k, x);
    }
    assert_eq!(status(s0.as_ref(), &k).version, v0 + N as u64);
}

/// A record signed by another key, planted at the next sequence number, is
/// ignored (listed, never believed), and the next record goes after it.
fn untrusted(s: &dyn Store) {
    let k = PrivateKey::generate();
    let evil = PrivateKey::generate();
    let w = writer(s, &k);
    let a = ami(30);
    publish(s, &a);
    let first = ops::record(&w, &req(&a, Action::Approve)).unwrap();
    let forged = RecordPredicate {
        ami: a.to_string(),
        sequence: 2,
        action: Action::Deprecate,
        state: State::Deprecated,
        previous_state: State::Approved,
        reason: None,
        time: "2025-06-15T00:00:00Z".into(),
        effective: None,
        signer: evil.public_key().keyid(),
        supersedes: Some(first.record.digest.clone()),
        labels: Labels::default(),
    };
    let b = sign_record(&a, &tree_of(&a), &forged, &evil).unwrap();
    s.put_object(&record_key(&a, 2), &b.bytes, ObjectWrite::CreateOnly)
        .unwrap();
    let chain = ops::read_ami_chain(s, &a, Some(&tree_of(&a)), &keys(&k)).unwrap();
    assert_eq!(chain.state(), State::Approved);
    assert_eq!(chain.ignored.len(), 1);
    assert_eq!(chain.ignored[0].sequence, 2);
    let r = ops::record(&w, &req(&a, Action::Revoke)).unwrap();
    assert_eq!(r.record.predicate.sequence, 3);
    assert_eq!(r.record.predicate.supersedes, Some(first.record.digest));
    assert_consistent(s, &k, &a);
    // Trusting the other key too: its record breaks nothing it was not
    // entitled to (it links to record 1), and record 3 then does not link
    // to it: the chain is broken, not silently rewritten.
    let mut both = keys(&k);
    both.insert(evil.public_key());
    assert!(matches!(
        ops::read_ami_chain(s, &a, None, &both),
        Err(LifecycleError::Chain(_))
    ));
}

/// A deleted middle record breaks the chain; a deleted head record is
/// found through the status document, and no writer builds on it.
fn deletions(s: &dyn Store) {
    let k = PrivateKey::generate();
    let w = writer(s, &k);
    let a = ami(40);
    publish(s, &a);
    for act in [Action::Test, Action::Approve, Action::Revoke] {
        ops::record(&w, &req(&a, act)).unwrap();
    }
    delete(s, &record_key(&a, 3));
    let chain = ops::read_ami_chain(s, &a, None, &keys(&k)).unwrap();
    assert_eq!(chain.state(), State::Approved, "the chain alone looks fine");
    let st = status(s, &k);
    assert!(matches!(
        bakeproof_lifecycle::status::check_ami(&st, &chain),
        Err(StatusError::Hidden { sequence: 3, .. })
    ));
    // A writer refuses to take the deleted record's place.
    assert!(matches!(
        ops::record(&w, &req(&a, Action::Deprecate)),
        Err(LifecycleError::Status(StatusError::Hidden {
            sequence: 3,
            ..
        }))
    ));
    assert!(s.get_object(&record_key(&a, 3), 1 << 20).is_err());
    // And so does refresh (it would launder the deletion).
    assert!(matches!(
        ops::refresh_status(&w),
        Err(LifecycleError::Status(StatusError::Hidden { .. }))
    ));
    // A deleted middle record: the chain is broken.
    let b = ami(41);
    publish(s, &b);
    for act in [Action::Test, Action::Approve, Action::Deprecate] {
        ops::record(&w, &req(&b, act)).unwrap();
    }
    delete(s, &record_key(&b, 2));
    assert!(matches!(
        ops::read_ami_chain(s, &b, None, &keys(&k)),
        Err(LifecycleError::Chain(ChainError::Broken {
            sequence: 3,
            ..
        }))
    ));
}

/// refresh: re-signs the status document (version one higher, new expiry)
/// and repairs one a lost update left behind; after the document is lost,
/// rebuilds it from the chains.
fn refresh(s: &dyn Store) {
    let k = PrivateKey::generate();
    let mut w = writer(s, &k);
    let a = ami(50);
    publish(s, &a);
    ops::record(&w, &req(&a, Action::Test)).unwrap();
    let v1 = status(s, &k);
    // A record whose status update was lost (written, then the writer died).
    let head = ops::read_ami_chain(s, &a, None, &keys(&k)).unwrap();
    let lost = RecordPredicate {
        ami: a.to_string(),
        sequence: 2,
        action: Action::Approve,
        state: State::Approved,
        previous_state: State::Testing,
        reason: None,
        time: "2025-06-15T00:00:00Z".into(),
        effective: None,
        signer: k.public_key().keyid(),
        supersedes: Some(head.head().unwrap().digest.clone()),
        labels: Labels::default(),
    };
    let b = sign_record(&a, &tree_of(&a), &lost, &k).unwrap();
    s.put_object(&record_key(&a, 2), &b.bytes, ObjectWrite::CreateOnly)
        .unwrap();
    assert_eq!(status(s, &k).amis[&a.to_string()].sequence, 1);
    w.now = NOW + 3600;
    let p = ops::refresh_status(&w).unwrap();
    assert_eq!(p.version, v1.version + 1);
    assert_eq!(
        p.expires,
        bakeproof_lifecycle::time::rfc3339(NOW + 3600 + ops::DEFAULT_STATUS_VALIDITY_SECS)
    );
    assert_eq!(status(s, &k), p);
    assert_consistent(s, &k, &a);
    // The status document lost: rebuilt, naming every chain.
    let c = ami(51);
    publish(s, &c);
    ops::record(&w, &req(&c, Action::Approve)).unwrap();
    ops::set_channel(
        &w,
        &ChannelRequest {
            channel: "prod".into(),
            ami: c.clone(),
            reason: None,
            deprecate_previous: None,
        },
    )
    .unwrap();
    let before = status(s, &k);
    delete(s, STATUS_KEY);
    let p = ops::refresh_status(&w).unwrap();
    assert_eq!(p.version, 1);
    assert_eq!(
        (p.amis.clone(), p.channels.clone()),
        (before.amis, before.channels)
    );
    // A status document not signed by a trusted key stands for the whole
    // store: refused, never overwritten.
    let other = PrivateKey::generate();
    let ow = writer(s, &other);
    assert!(ops::read_status(s, &keys(&other)).is_err());
    assert!(ops::record(&ow, &req(&c, Action::Deprecate)).is_err());
    assert!(ops::refresh_status(&ow).is_err());
    assert_eq!(status(s, &k), p);
}

/// Channels: set, move, roll back (set it back), history; only approved
/// AMIs; deprecate the previous one on a move.
fn channels(s: &dyn Store) {
    let k = PrivateKey::generate();
    let w = writer(s, &k);
    let (a, b, c) = (ami(60), ami(61), ami(62));
    for x in [&a, &b, &c] {
        publish(s, x);
    }
    ops::record(&w, &req(&a, Action::Approve)).unwrap();
    ops::record(&w, &req(&b, Action::Approve)).unwrap();
    ops::record(&w, &req(&c, Action::Test)).unwrap();
    let set = |x: &AmiRef, dep: Option<i64>| {
        ops::set_channel(
            &w,
            &ChannelRequest {
                channel: "prod".into(),
                ami: x.clone(),
                reason: Some("test".into()),
                deprecate_previous: dep,
            },
        )
    };
    let r = set(&a, None).unwrap();
    assert_eq!(r.previous, None);
    let r = set(&b, None).unwrap();
    assert_eq!(r.previous, Some(a.clone()));
    // Rollback: set it back.
    let r = set(&a, None).unwrap();
    assert_eq!(r.previous, Some(b.clone()));
    let ch = ops::read_channel(s, "prod", "eu-west-1", &keys(&k)).unwrap();
    assert_eq!(ch.current(), Some(a.clone()));
    let hist: Vec<String> = ch.records.iter().map(|r| r.predicate.ami.clone()).collect();
    assert_eq!(hist, vec![a.to_string(), b.to_string(), a.to_string()]);
    let st = status(s, &k);
    assert_eq!(st.channels[&channel_id("prod", "eu-west-1")].sequence, 3);
    assert_eq!(
        st.channels[&channel_id("prod", "eu-west-1")].value,
        a.to_string()
    );
    // Only approved AMIs.
    assert!(matches!(
        set(&c, None),
        Err(LifecycleError::NotApproved {
            state: State::Testing,
            ..
        })
    ));
    assert!(matches!(
        ops::set_channel(
            &w,
            &ChannelRequest {
                channel: "Bad/Name".into(),
                ami: a.clone(),
                reason: None,
                deprecate_previous: None,
            }
        ),
        Err(LifecycleError::Invalid(_))
    ));
    // Moving with --deprecate-previous deprecates the AMI it pointed at.
    let r = set(&b, Some(NOW + 7 * 86_400)).unwrap();
    let d = r.deprecated.expect("a deprecation record");
    assert_eq!(d.record.predicate.ami, a.to_string());
    assert_eq!(d.record.predicate.state, State::Deprecated);
    assert!(d.record.predicate.effective.is_some());
    assert_eq!(
        ops::read_ami_chain(s, &a, None, &keys(&k)).unwrap().state(),
        State::Deprecated
    );
    assert_eq!(r.status, status(s, &k));
    assert_consistent(s, &k, &a);
    // ... so a rollback onto it is refused now.
    assert!(matches!(
        set(&a, None),
        Err(LifecycleError::NotApproved {
            state: State::Deprecated,
            ..
        })
    ));
    // A deleted channel head is found through the status document.
    delete(
        s,
        &bakeproof_lifecycle::layout::channel_key("prod", "eu-west-1", 4),
    );
    assert!(matches!(
        ops::read_channel(s, "prod", "eu-west-1", &keys(&k)),
        Err(LifecycleError::Status(StatusError::Hidden {
            sequence: 4,
            ..
        }))
    ));
}

/// A store that runs `hook` (once) just before the first write of the
/// status document through it: another writer's whole operation, placed
/// exactly between this writer's record and its status update.
struct Interleave<'a> {
    inner: &'a dyn Store,
    hook: std::sync::Mutex<Option<Hook<'a>>>,
}

type Hook<'a> = Box<dyn FnOnce(&dyn Store) + Send + 'a>;

impl Store for Interleave<'_> {
    fn put_blob(&self, b: &[u8]) -> Result<String, StoreError> {
        self.inner.put_blob(b)
    }
    fn get_blob_bounded(&self, h: &str, n: u64) -> Result<Vec<u8>, StoreError> {
        self.inner.get_blob_bounded(h, n)
    }
    fn get_blob(&self, h: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.get_blob(h)
    }
    fn put_index(&self, i: &AmiIndex, m: IndexWrite) -> Result<IndexPut, StoreError> {
        self.inner.put_index(i, m)
    }
    fn get_index(&self, a: &AmiRef) -> Result<AmiIndex, StoreError> {
        self.inner.get_index(a)
    }
    fn put_object(&self, k: &str, b: &[u8], m: ObjectWrite) -> Result<ObjectTag, StoreError> {
        if k == STATUS_KEY {
            let hook = self.hook.lock().unwrap().take();
            if let Some(h) = hook {
                h(self.inner);
            }
        }
        self.inner.put_object(k, b, m)
    }
    fn get_object(&self, k: &str, n: u64) -> Result<StoredObject, StoreError> {
        self.inner.get_object(k, n)
    }
    fn list(&self, p: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(p)
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

/// A slow writer's status update (after a faster writer recorded the next
/// record of the same AMI and updated the document) does not put its older
/// record back as the head: heads are only raised.
fn slow_status_writer(s: &dyn Store) {
    let k = PrivateKey::generate();
    let a = ami(70);
    publish(s, &a);
    ops::record(&writer(s, &k), &req(&a, Action::Test)).unwrap();
    let slow = Interleave {
        inner: s,
        hook: std::sync::Mutex::new(Some(Box::new(|inner: &dyn Store| {
            // The faster writer: revokes right after the slow one's approval.
            let r = ops::record(&writer(inner, &k), &req(&a, Action::Revoke)).unwrap();
            assert_eq!(r.record.predicate.sequence, 3);
        }))),
    };
    let r = ops::record(&writer(&slow, &k), &req(&a, Action::Approve)).unwrap();
    assert_eq!(r.record.predicate.sequence, 2);
    let st = status(s, &k);
    assert_eq!(st.amis[&a.to_string()].sequence, 3, "{st:?}");
    assert_eq!(st.amis[&a.to_string()].value, "revoked");
    assert_eq!(st.version, 3);
    assert_consistent(s, &k, &a);
}

/// Deletes an object as a bucket writer without the key could.
fn delete(s: &dyn Store, key: &str) {
    if let Some(rest) = s.location().strip_prefix("file://") {
        std::fs::remove_file(std::path::Path::new(rest).join(key)).unwrap();
    } else {
        let url = std::env::var("AWS_ENDPOINT_URL_S3").unwrap();
        let loc = s.location();
        let (bucket, prefix) = loc.strip_prefix("s3://").unwrap().split_once('/').unwrap();
        common::py(
            &url,
            &format!("s3.delete_object(Bucket='{bucket}', Key='{prefix}/{key}')"),
        );
    }
}

// ------------------------------------------------------------- directory

fn local() -> (tempfile::TempDir, Box<dyn Store>) {
    let d = tempfile::tempdir().unwrap();
    let s = Box::new(LocalStore::new(d.path()));
    (d, s)
}

#[test]
fn local_flow() {
    let (_d, s) = local();
    flow(s.as_ref());
}

#[test]
fn local_concurrent() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    concurrent(&move || Box::new(LocalStore::new(&p)) as Box<dyn Store>);
}

#[test]
fn local_untrusted() {
    let (_d, s) = local();
    untrusted(s.as_ref());
}

#[test]
fn local_deletions() {
    let (_d, s) = local();
    deletions(s.as_ref());
}

#[test]
fn local_refresh() {
    let (_d, s) = local();
    refresh(s.as_ref());
}

#[test]
fn local_slow_status_writer() {
    let (_d, s) = local();
    slow_status_writer(s.as_ref());
}

#[test]
fn local_channels() {
    let (_d, s) = local();
    channels(s.as_ref());
}

// -------------------------------------------------------------- S3 (moto)

/// The bucket, under a prefix of its own per scenario (each signs with its
/// own key, so each needs a store of its own).
fn s3(url: &str, prefix: &str) -> Box<dyn Store> {
    open_with(
        &format!("s3://lifecycle/{prefix}"),
        &StoreOptions {
            endpoint_url: Some(url.to_string()),
            region: Some("us-east-1".into()),
        },
    )
    .unwrap()
}

/// Every scenario in one child (one moto server), each under its own prefix.
#[test]
fn s3_all() {
    let Some(url) = common::aws_child("s3_all", "lifecycle") else {
        return;
    };
    flow(s3(&url, "flow").as_ref());
    untrusted(s3(&url, "untrusted").as_ref());
    deletions(s3(&url, "deletions").as_ref());
    refresh(s3(&url, "refresh").as_ref());
    channels(s3(&url, "channels").as_ref());
    slow_status_writer(s3(&url, "slow").as_ref());
    concurrent(&|| s3(&url, "concurrent"));
}
