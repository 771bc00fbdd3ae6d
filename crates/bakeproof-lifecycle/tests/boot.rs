//! What first boot concludes ([`bakeproof_lifecycle::boot::check`]) from a
//! store written by the real operations (a local directory): every verdict
//! of docs/lifecycle.md's table, the record deleted behind the status
//! document's back, an untrusted record, and a store that does not answer.

use bakeproof_attest::{PrivateKey, TrustedKeys};
use bakeproof_lifecycle::boot::{
    BootPolicy, DeprecatedPolicy, Enforcement, Verdict, check as boot_check,
};
use bakeproof_lifecycle::layout::{STATUS_KEY, record_key};
use bakeproof_lifecycle::model::{Labels, RecordPredicate};
use bakeproof_lifecycle::ops::{self, RecordRequest, Writer};
use bakeproof_lifecycle::record::sign_record;
use bakeproof_lifecycle::{Action, State};
use bakeproof_store::{
    AmiIndex, AmiRef, IndexEntry, IndexPut, IndexWrite, LocalStore, ObjectTag, ObjectWrite, Store,
    StoreError, StoredObject,
};

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn ami() -> AmiRef {
    AmiRef::parse("eu-west-1:ami-0123456789abcdef0").unwrap()
}

fn tree() -> String {
    bakeproof_store::Sha256Digest::of(b"the tree").to_string()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: LocalStore,
    key: PrivateKey,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let blob = b"bundle";
    let h = store.put_blob(blob).unwrap();
    store
        .put_index(
            &AmiIndex {
                ami: ami(),
                entries: vec![IndexEntry {
                    sha256: h,
                    predicate_type: "https://example.com/p".into(),
                    media_type: "application/json".into(),
                    size: blob.len() as u64,
                    file: Some("sbom.sigstore.json".into()),
                }],
                tree_digest: format!("sha256:{}", tree()),
                created: "2025-01-01T00:00:00Z".into(),
                tool_version: "test".into(),
            },
            IndexWrite::CreateOnly,
        )
        .unwrap();
    Fixture {
        _dir: dir,
        store,
        key: PrivateKey::generate(),
    }
}

impl Fixture {
    fn keys(&self) -> TrustedKeys {
        TrustedKeys::from(self.key.public_key())
    }

    fn record(&self, action: Action, effective: Option<i64>, now: i64) {
        let w = Writer {
            store: &self.store,
            signer: &self.key,
            trusted: TrustedKeys::default(),
            now,
            status_validity_secs: ops::DEFAULT_STATUS_VALIDITY_SECS,
        };
        ops::record(
            &w,
            &RecordRequest {
                ami: ami(),
                action,
                reason: action
                    .needs_reason()
                    .then(|| format!("{action}: CVE-2025-0001")),
                effective,
                labels: Labels::default(),
            },
        )
        .unwrap();
    }

    fn check(&self, policy: &BootPolicy) -> bakeproof_lifecycle::boot::BootLifecycle {
        boot_check(&self.store, &ami(), &tree(), &self.keys(), policy)
    }
}

fn policy(now: i64) -> BootPolicy {
    BootPolicy {
        enforcement: Enforcement::Auto,
        require: None,
        deprecated: DeprecatedPolicy::Warn,
        seen_version: None,
        now,
    }
}

#[test]
fn a_store_without_lifecycle_passes_only_when_not_required() {
    let f = fixture();
    let r = f.check(&policy(NOW));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);
    assert_eq!(r.state, Some(State::Built));
    assert_eq!(r.status_version, None);
    for p in [
        BootPolicy {
            enforcement: Enforcement::Required,
            ..policy(NOW)
        },
        BootPolicy {
            require: Some(State::Approved),
            ..policy(NOW)
        },
        BootPolicy {
            seen_version: Some(3),
            ..policy(NOW)
        },
    ] {
        let r = f.check(&p);
        assert_eq!(r.verdict, Verdict::Fail, "{p:?}: {}", r.message);
        assert!(r.message.contains("no status document"), "{}", r.message);
    }
    let off = f.check(&BootPolicy {
        enforcement: Enforcement::Off,
        ..policy(NOW)
    });
    assert_eq!(off.verdict, Verdict::Pass);
}

#[test]
fn approved_passes_and_names_its_chain() {
    let f = fixture();
    f.record(Action::Test, None, NOW);
    f.record(Action::Approve, None, NOW + 1);
    let r = f.check(&BootPolicy {
        require: Some(State::Approved),
        enforcement: Enforcement::Required,
        ..policy(NOW + 2)
    });
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);
    assert_eq!(r.state, Some(State::Approved));
    assert_eq!(r.status_version, Some(2));
    let actions: Vec<&str> = r.chain.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["test", "approve"]);
    // The chain's digests are the stored objects' (an independent oracle).
    let bytes = f.store.get_object(&record_key(&ami(), 2), 1 << 20).unwrap();
    assert_eq!(
        r.chain[1].digest,
        bakeproof_store::Sha256Digest::of(&bytes.bytes).prefixed()
    );
}

#[test]
fn testing_fails_require_approved() {
    let f = fixture();
    f.record(Action::Test, None, NOW);
    assert_eq!(f.check(&policy(NOW)).verdict, Verdict::Pass);
    let r = f.check(&BootPolicy {
        require: Some(State::Approved),
        ..policy(NOW)
    });
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("is testing"), "{}", r.message);
}

#[test]
fn revoked_fails_with_its_reason() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    f.record(Action::Revoke, None, NOW + 1);
    let r = f.check(&policy(NOW + 2));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.state, Some(State::Revoked));
    assert!(
        r.message.contains("revoked: revoke: CVE-2025-0001"),
        "{}",
        r.message
    );
    // Restored: it passes again.
    f.record(Action::Restore, None, NOW + 3);
    let r = f.check(&policy(NOW + 4));
    assert_eq!((r.verdict, r.state), (Verdict::Pass, Some(State::Approved)));
}

#[test]
fn deprecated_warns_until_its_date_then_fails() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    f.record(Action::Deprecate, Some(NOW + DAY), NOW + 1);
    let before = f.check(&policy(NOW + 2));
    assert_eq!(before.verdict, Verdict::Warn, "{}", before.message);
    let strict = f.check(&BootPolicy {
        deprecated: DeprecatedPolicy::Fail,
        ..policy(NOW + 2)
    });
    assert_eq!(strict.verdict, Verdict::Fail);
    let after = f.check(&policy(NOW + DAY));
    assert_eq!(after.verdict, Verdict::Fail, "{}", after.message);
    assert!(
        after.message.contains("deprecated since"),
        "{}",
        after.message
    );
    // Deprecated now (no date): fails at once.
    let g = fixture();
    g.record(Action::Approve, None, NOW);
    g.record(Action::Deprecate, None, NOW + 1);
    assert_eq!(g.check(&policy(NOW + 1)).verdict, Verdict::Fail);
}

#[test]
fn an_expired_or_rolled_back_status_document_fails() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    let expired = f.check(&policy(NOW + ops::DEFAULT_STATUS_VALIDITY_SECS));
    assert_eq!(expired.verdict, Verdict::Fail);
    assert!(expired.message.contains("expired"), "{}", expired.message);
    let ok = f.check(&BootPolicy {
        seen_version: Some(1),
        ..policy(NOW + 1)
    });
    assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.message);
    let rolled = f.check(&BootPolicy {
        seen_version: Some(2),
        ..policy(NOW + 1)
    });
    assert_eq!(rolled.verdict, Verdict::Fail);
    assert!(rolled.message.contains("rolled-back"), "{}", rolled.message);
    assert_eq!(
        rolled.status_version, None,
        "a refused document is not accepted"
    );
}

#[test]
fn a_hidden_revocation_fails() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    f.record(Action::Revoke, None, NOW + 1);
    std::fs::remove_file(f._dir.path().join(record_key(&ami(), 2))).unwrap();
    let r = f.check(&policy(NOW + 2));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("does not hold"), "{}", r.message);
    // And with the status document deleted too: records without one fail.
    std::fs::remove_file(f._dir.path().join(STATUS_KEY)).unwrap();
    let r = f.check(&policy(NOW + 2));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("no status document"), "{}", r.message);
}

#[test]
fn a_deleted_middle_record_breaks_the_chain() {
    let f = fixture();
    f.record(Action::Test, None, NOW);
    f.record(Action::Approve, None, NOW + 1);
    f.record(Action::Deprecate, Some(NOW + DAY), NOW + 2);
    std::fs::remove_file(f._dir.path().join(record_key(&ami(), 2))).unwrap();
    let r = f.check(&policy(NOW + 3));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.contains("broken"), "{}", r.message);
}

#[test]
fn an_untrusted_record_is_ignored() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    let other = PrivateKey::generate();
    let fake = RecordPredicate {
        ami: ami().to_string(),
        sequence: 2,
        action: Action::Revoke,
        state: State::Revoked,
        previous_state: State::Approved,
        reason: Some("planted".into()),
        time: bakeproof_lifecycle::time::rfc3339(NOW),
        effective: None,
        signer: other.public_key().keyid(),
        supersedes: None,
        labels: Labels::default(),
    };
    let signed = sign_record(&ami(), &tree(), &fake, &other).unwrap();
    f.store
        .put_object(
            &record_key(&ami(), 2),
            &signed.bytes,
            ObjectWrite::CreateOnly,
        )
        .unwrap();
    let r = f.check(&policy(NOW + 1));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);
    assert_eq!(r.state, Some(State::Approved));
    assert_eq!(r.ignored.len(), 1);
    assert_eq!(r.ignored[0].sequence, 2);
}

#[test]
fn a_record_of_another_tree_fails() {
    let f = fixture();
    f.record(Action::Approve, None, NOW);
    let other_tree = bakeproof_store::Sha256Digest::of(b"another tree").to_string();
    let r = boot_check(&f.store, &ami(), &other_tree, &f.keys(), &policy(NOW));
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.message);
}

/// A store that answers nothing.
struct Down;

impl Store for Down {
    fn put_blob(&self, _: &[u8]) -> Result<String, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn get_blob_bounded(&self, _: &str, _: u64) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn get_blob(&self, _: &str) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn put_index(&self, _: &AmiIndex, _: IndexWrite) -> Result<IndexPut, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn get_index(&self, _: &AmiRef) -> Result<AmiIndex, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn put_object(&self, _: &str, _: &[u8], _: ObjectWrite) -> Result<ObjectTag, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn get_object(&self, _: &str, _: u64) -> Result<StoredObject, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
    fn list(&self, _: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Unreachable("down".into()))
    }
}

#[test]
fn a_store_that_does_not_answer_is_unverifiable() {
    let k = PrivateKey::generate();
    let r = boot_check(
        &Down,
        &ami(),
        &tree(),
        &TrustedKeys::from(k.public_key()),
        &policy(NOW),
    );
    assert_eq!(r.verdict, Verdict::Unverifiable, "{}", r.message);
}
