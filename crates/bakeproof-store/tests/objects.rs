//! Named objects (`put_object`, `get_object`, `list`) on both backends: the
//! local directory here, S3 against moto_server (the same scenarios, run
//! in a child process with moto's endpoint, see common/mod.rs).
//!
//! Oracles: a directory's tag is the SHA-256 of the content (computed here
//! independently); S3's is the ETag moto returns (compared as issued);
//! concurrency: counters incremented by compare and swap from threads end
//! at the number of increments (none lost), create-only races have exactly
//! one winner.

mod common;

use std::os::unix::fs::symlink;
use std::sync::Barrier;

use bakeproof_store::{
    LocalStore, ObjectTag, ObjectWrite, Store, StoreError, StoreOptions, StoredObject, open_with,
};

fn sha256_hex(b: &[u8]) -> String {
    bakeproof_store::Sha256Digest::of(b).to_string()
}

/// Create-only, compare and swap, bounded reads, key checks: on any backend.
fn object_semantics(s: &dyn Store, local: bool) {
    let k = "lifecycle/status.sigstore.json";
    assert!(matches!(
        s.get_object(k, 1 << 20),
        Err(StoreError::NotFound(_))
    ));
    let t1 = s.put_object(k, b"one", ObjectWrite::CreateOnly).unwrap();
    if local {
        assert_eq!(t1, ObjectTag(sha256_hex(b"one")));
    }
    let got = s.get_object(k, 1 << 20).unwrap();
    assert_eq!(
        got,
        StoredObject {
            bytes: b"one".to_vec(),
            tag: t1.clone()
        }
    );
    // Create-only: anything there, even identical bytes, is a conflict.
    for b in [b"one".as_slice(), b"two"] {
        let e = s.put_object(k, b, ObjectWrite::CreateOnly).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    }
    assert_eq!(s.get_object(k, 1 << 20).unwrap().bytes, b"one");
    // Compare and swap with the tag read: replaced; with a stale one: conflict.
    let t2 = s
        .put_object(k, b"two", ObjectWrite::IfMatch(t1.clone()))
        .unwrap();
    assert_ne!(t1, t2);
    assert_eq!(s.get_object(k, 1 << 20).unwrap().tag, t2);
    let e = s
        .put_object(k, b"three", ObjectWrite::IfMatch(t1))
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert_eq!(s.get_object(k, 1 << 20).unwrap().bytes, b"two");
    // Compare and swap on a missing object.
    let e = s
        .put_object("lifecycle/none.json", b"x", ObjectWrite::IfMatch(t2))
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    // Bounded: a longer object is corrupt, exactly the limit is read.
    assert!(matches!(s.get_object(k, 2), Err(StoreError::Corrupt(_))));
    assert_eq!(s.get_object(k, 3).unwrap().bytes, b"two");
    // Keys are checked before anything is asked of the store.
    for bad in ["", "/abs", "a/../b", "a/.hidden", "a//b", "a/b c", ".lock"] {
        assert!(
            matches!(
                s.put_object(bad, b"x", ObjectWrite::CreateOnly),
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
        assert!(
            matches!(s.get_object(bad, 10), Err(StoreError::Invalid(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(s.list("amis"), Err(StoreError::Invalid(_))));
}

/// Listing: every key below a prefix, sorted, relative to the store.
fn list_semantics(s: &dyn Store) {
    let keys = [
        "amis/eu-west-1/ami-1/lifecycle/00000002.sigstore.json",
        "amis/eu-west-1/ami-1/lifecycle/00000001.sigstore.json",
        "amis/eu-west-1/ami-2/lifecycle/00000001.sigstore.json",
        "amis/us-east-1/ami-3/x.json",
        "channels/eu-west-1/prod/00000001.sigstore.json",
    ];
    for k in keys {
        s.put_object(k, k.as_bytes(), ObjectWrite::CreateOnly)
            .unwrap();
    }
    let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    want.sort();
    let all = s.list("").unwrap();
    for k in &want {
        assert!(all.contains(k), "{k} in {all:?}");
    }
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(
        s.list("amis/eu-west-1/ami-1/lifecycle/").unwrap(),
        want[..2].to_vec()
    );
    assert_eq!(s.list("amis/").unwrap(), want[..4].to_vec());
    assert_eq!(s.list("channels/").unwrap(), want[4..].to_vec());
    assert_eq!(s.list("amis/eu-west-1/").unwrap(), want[..3].to_vec());
    assert!(s.list("nothing/here/").unwrap().is_empty());
}

/// Threads increment a counter by compare and swap (retrying on conflict):
/// none of the increments is lost. And of threads creating one key, exactly
/// one wins.
fn concurrency(open: &(dyn Fn() -> Box<dyn Store> + Sync)) {
    const THREADS: usize = 4;
    const EACH: usize = 8;
    let k = "counter/value";
    open().put_object(k, b"0", ObjectWrite::CreateOnly).unwrap();
    let start = Barrier::new(THREADS);
    std::thread::scope(|sc| {
        for _ in 0..THREADS {
            sc.spawn(|| {
                let s = open();
                start.wait();
                for _ in 0..EACH {
                    loop {
                        let o = s.get_object(k, 64).unwrap();
                        let n: usize = std::str::from_utf8(&o.bytes).unwrap().parse().unwrap();
                        match s.put_object(
                            k,
                            (n + 1).to_string().as_bytes(),
                            ObjectWrite::IfMatch(o.tag),
                        ) {
                            Ok(_) => break,
                            Err(StoreError::Conflict(_)) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    let n = open().get_object(k, 64).unwrap().bytes;
    assert_eq!(n, (THREADS * EACH).to_string().as_bytes());

    let start = Barrier::new(THREADS);
    let won: Vec<bool> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|i| {
                let start = &start;
                sc.spawn(move || {
                    let s = open();
                    start.wait();
                    match s.put_object(
                        "race/one",
                        format!("w{i}").as_bytes(),
                        ObjectWrite::CreateOnly,
                    ) {
                        Ok(_) => true,
                        Err(StoreError::Conflict(_)) => false,
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let winner = won.iter().position(|w| *w).unwrap();
    assert_eq!(
        open().get_object("race/one", 64).unwrap().bytes,
        format!("w{winner}").as_bytes()
    );
}

// ------------------------------------------------------------- directory

#[test]
fn local_objects() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    object_semantics(&s, true);
    // Stored under the key, as is.
    assert_eq!(
        std::fs::read(d.path().join("lifecycle/status.sigstore.json")).unwrap(),
        b"two"
    );
}

#[test]
fn local_list() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    list_semantics(&s);
    // Blobs and indexes are keys too.
    let h = s.put_blob(b"blob").unwrap();
    assert!(s.list("").unwrap().contains(&format!("blobs/sha256/{h}")));
}

#[test]
fn local_concurrency() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    concurrency(&move || Box::new(LocalStore::new(&p)) as Box<dyn Store>);
}

/// Only real directories and regular files inside the store: symlinks
/// (to files or directories, inside or outside) are neither listed nor
/// read nor written through; FIFOs are not listed; the backend's own
/// dot-files (temporaries, the lock) are never keys.
#[test]
fn local_confinement() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"outside").unwrap();
    // Compare and swap in a store that does not exist: not found, nothing created.
    let none = d.path().join("none");
    let e = LocalStore::new(&none)
        .put_object("a/b", b"x", ObjectWrite::IfMatch(ObjectTag("0".repeat(64))))
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert!(!none.exists());
    let root = d.path();
    let s = LocalStore::new(root);
    s.put_object("a/real", b"r", ObjectWrite::CreateOnly)
        .unwrap();
    // The lock file exists after a compare and swap.
    let t = s.get_object("a/real", 10).unwrap().tag;
    s.put_object("a/real", b"r2", ObjectWrite::IfMatch(t))
        .unwrap();
    assert!(root.join(".lock").is_file());
    symlink(outside.path(), root.join("a/linkdir")).unwrap();
    symlink(outside.path().join("secret"), root.join("a/linkfile")).unwrap();
    symlink(outside.path(), root.join("linked")).unwrap();
    std::fs::write(root.join("a/.tmp.x.1.2"), b"temp").unwrap();
    let fifo = root.join("a/fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(s.list("").unwrap(), vec!["a/real".to_string()]);
    assert_eq!(s.list("a/").unwrap(), vec!["a/real".to_string()]);
    assert!(
        s.list("linked/")
            .is_err_and(|e| matches!(e, StoreError::Corrupt(_)))
    );
    assert!(matches!(
        s.get_object("a/linkfile", 100),
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        s.get_object("a/linkdir/secret", 100),
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        s.get_object("a/fifo", 100),
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        s.put_object("linked/new", b"x", ObjectWrite::CreateOnly),
        Err(StoreError::Corrupt(_))
    ));
    let t = s.get_object("a/real", 100).unwrap().tag;
    std::fs::remove_file(root.join("a/real")).unwrap();
    symlink(outside.path().join("secret"), root.join("a/real")).unwrap();
    assert!(matches!(
        s.put_object("a/real", b"x", ObjectWrite::IfMatch(t)),
        Err(StoreError::Corrupt(_))
    ));
    assert!(!outside.path().join("new").exists());
    assert_eq!(
        std::fs::read(outside.path().join("secret")).unwrap(),
        b"outside"
    );
}

// -------------------------------------------------------------- S3 (moto)

fn s3(url: &str) -> Box<dyn Store> {
    open_with(
        "s3://objects/pre",
        &StoreOptions {
            endpoint_url: Some(url.to_string()),
            region: Some("us-east-1".into()),
        },
    )
    .unwrap()
}

#[test]
fn s3_objects() {
    let Some(url) = common::aws_child("s3_objects", "objects") else {
        return;
    };
    object_semantics(s3(&url).as_ref(), false);
    // Under the store's prefix, as is.
    assert_eq!(
        common::py(
            &url,
            "print(s3.get_object(Bucket='objects', Key='pre/lifecycle/status.sigstore.json')['Body'].read().decode())"
        ),
        "two"
    );
}

#[test]
fn s3_list() {
    let Some(url) = common::aws_child("s3_list", "objects") else {
        return;
    };
    let s = s3(&url);
    list_semantics(s.as_ref());
    // Outside the prefix: not the store's.
    common::py(
        &url,
        "s3.put_object(Bucket='objects', Key='other/amis/x', Body=b'x')",
    );
    assert!(!s.list("").unwrap().iter().any(|k| k.contains("other")));
    // More than one page (ListObjectsV2 returns at most 1000 keys a page).
    common::py(
        &url,
        "for i in range(1234): s3.put_object(Bucket='objects', Key='pre/many/k%05d' % i, Body=b'')",
    );
    let many = s.list("many/").unwrap();
    let want: Vec<String> = (0..1234).map(|i| format!("many/k{i:05}")).collect();
    assert_eq!(many, want);
}

#[test]
fn s3_concurrency() {
    let Some(url) = common::aws_child("s3_concurrency", "objects") else {
        return;
    };
    concurrency(&move || s3(&url));
}
