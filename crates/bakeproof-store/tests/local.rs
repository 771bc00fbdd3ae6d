//! Local directory backend: round trip, create-only, tampering, missing
//! blobs, concurrent index writers.

use std::sync::Arc;

use bakeproof_store::{
    AmiIndex, AmiRef, IndexEntry, IndexPut, IndexWrite, LocalStore, Store, StoreError, blob_key,
    index_key, open,
};

fn sha256_hex(b: &[u8]) -> String {
    bakeproof_store::Sha256Digest::of(b).to_string()
}

fn ami() -> AmiRef {
    AmiRef::parse("eu-west-1:ami-0123456789abcdef0").unwrap()
}

fn index_for(ami: &AmiRef, blobs: &[&[u8]], tag: &str) -> AmiIndex {
    AmiIndex {
        ami: ami.clone(),
        entries: blobs
            .iter()
            .enumerate()
            .map(|(i, b)| IndexEntry {
                sha256: sha256_hex(b),
                predicate_type: format!("https://example.com/p{i}"),
                media_type: "application/json".into(),
                size: b.len() as u64,
                file: Some(format!("f{i}.json")),
            })
            .collect(),
        tree_digest: format!("sha256:{}", sha256_hex(tag.as_bytes())),
        created: "2024-01-01T00:00:00Z".into(),
        tool_version: tag.into(),
    }
}

#[test]
fn round_trip_and_layout() {
    let d = tempfile::tempdir().unwrap();
    let s = open(d.path().to_str().unwrap()).unwrap();
    let a = b"bundle a".as_slice();
    let b = b"bundle b".as_slice();
    let ha = s.put_blob(a).unwrap();
    assert_eq!(ha, sha256_hex(a));
    s.put_blob(b).unwrap();
    assert!(d.path().join(blob_key(&ha)).is_file());
    assert_eq!(s.get_blob(&ha).unwrap(), a);
    let idx = index_for(&ami(), &[a, b], "1");
    assert_eq!(
        s.put_index(&idx, IndexWrite::CreateOnly).unwrap(),
        IndexPut::Created
    );
    // A retried publish of the same index: a no-op.
    assert_eq!(
        s.put_index(&idx, IndexWrite::CreateOnly).unwrap(),
        IndexPut::Unchanged
    );
    // A different index for the same AMI: a conflict, the first one stays.
    let other = index_for(&ami(), &[a], "2");
    let e = s.put_index(&other, IndexWrite::CreateOnly).unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert!(e.to_string().contains("--replace"), "{e}");
    assert_eq!(s.get_index(&ami()).unwrap(), idx);
    assert!(
        d.path()
            .join("amis/eu-west-1/ami-0123456789abcdef0/index.json")
            .is_file()
    );
    assert_eq!(s.get_index(&ami()).unwrap(), idx);
    // file:// URL opens the same store.
    let url = format!("file://{}", d.path().display());
    let s2 = open(&url).unwrap();
    assert_eq!(s2.get_index(&ami()).unwrap(), idx);
    assert!(s2.location().starts_with("file:///"));
    // No temporary files left behind.
    let leftovers: Vec<_> = walk(d.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            v.extend(walk(&e));
        } else {
            v.push(e);
        }
    }
    v
}

#[test]
fn create_only_blobs() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    let first = s.put_blob_outcome(b"same").unwrap();
    assert!(first.created);
    let again = s.put_blob_outcome(b"same").unwrap();
    assert!(!again.created);
    assert_eq!(first.sha256, again.sha256);
    // A blob whose content no longer matches its name is never overwritten:
    // putting it again reports the mismatch.
    let p = d.path().join(blob_key(&first.sha256));
    std::fs::write(&p, b"other").unwrap();
    let e = s.put_blob(b"same").unwrap_err();
    assert!(matches!(e, StoreError::DigestMismatch(_)), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"other");
}

#[test]
fn tampered_blob_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    let h = s.put_blob(b"genuine").unwrap();
    std::fs::write(d.path().join(blob_key(&h)), b"forged!").unwrap();
    let e = s.get_blob(&h).unwrap_err();
    assert!(matches!(e, StoreError::DigestMismatch(_)), "{e}");
    assert!(e.is_integrity());
    assert!(e.to_string().contains(&h), "{e}");
}

#[test]
fn missing_blob_and_index() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    // Not written: an index naming a blob the store lacks.
    let idx = index_for(&ami(), &[b"never stored"], "1");
    let e = s.put_index(&idx, IndexWrite::CreateOnly).unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert!(e.to_string().contains("missing blob"), "{e}");
    assert!(!d.path().join(index_key(&ami())).exists());
    // No index for an AMI.
    let e = s.get_index(&ami()).unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert!(
        e.to_string().contains("eu-west-1:ami-0123456789abcdef0"),
        "{e}"
    );
    // An index written by someone else that names a missing blob: fetch fails clearly.
    std::fs::create_dir_all(d.path().join(index_key(&ami())).parent().unwrap()).unwrap();
    std::fs::write(d.path().join(index_key(&ami())), idx.to_vec()).unwrap();
    let out = d.path().join("out");
    let e = bakeproof_store::fetch_ami(&s, &ami(), &out).unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert!(e.to_string().contains("missing from the store"), "{e}");
    assert!(!out.exists(), "nothing written on failure");
}

#[test]
fn corrupt_or_foreign_index() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    let p = d.path().join(index_key(&ami()));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, b"{\"ami\":").unwrap();
    let e = s.get_index(&ami()).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e}");
    // An index stored under this AMI's key that names another AMI.
    s.put_blob(b"x").unwrap();
    let other = AmiRef::parse("us-east-1:ami-12345678").unwrap();
    std::fs::write(&p, index_for(&other, &[b"x"], "1").to_vec()).unwrap();
    let e = s.get_index(&ami()).unwrap_err();
    assert!(e.to_string().contains("another AMI"), "{e}");
}

#[test]
fn bad_arguments() {
    let d = tempfile::tempdir().unwrap();
    let s = LocalStore::new(d.path());
    assert!(matches!(
        s.get_blob("../../etc/passwd"),
        Err(StoreError::Invalid(_))
    ));
    // An AMI that would escape the store cannot be built, nor read from an index.
    assert!(AmiRef::new("..", "ami-12345678").is_err());
    assert!(AmiRef::parse("../x-1:ami-12345678").is_err());
    // The store takes the same AMIs as attest and verify: these it used to
    // accept (its region rule was only `[a-z0-9-]`).
    for loose in [
        "useast1:ami-12345678",
        "us--east-1:ami-12345678",
        "us-east-1-:ami-12345678",
        "us-east:ami-12345678",
    ] {
        assert!(AmiRef::parse(loose).is_err(), "{loose}");
    }
    let p = d.path().join(index_key(&ami()));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let evil = String::from_utf8(index_for(&ami(), &[b"x"], "1").to_vec())
        .unwrap()
        .replace("\"eu-west-1\"", "\"..\"");
    assert!(evil.contains("\"..\""));
    std::fs::write(&p, evil).unwrap();
    assert!(matches!(s.get_index(&ami()), Err(StoreError::Corrupt(_))));
    assert!(open("ftp://x/y").is_err());
    assert!(open("file://relative").is_err());
    assert!(open("s3://A_B").is_err());
}

#[test]
fn concurrent_index_writers_never_tear() {
    let d = tempfile::tempdir().unwrap();
    let s = Arc::new(LocalStore::new(d.path()));
    // Large enough indexes that a torn write would show.
    let blobs: Vec<Vec<u8>> = (0..200).map(|i| format!("blob {i}").into_bytes()).collect();
    for b in &blobs {
        s.put_blob(b).unwrap();
    }
    let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
    let first = index_for(&ami(), &refs, "writer-0");
    s.put_index(&first, IndexWrite::CreateOnly).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let s = Arc::clone(&s);
            let idx = index_for(&ami(), &refs[w * 10..], &format!("writer-{w}"));
            std::thread::spawn(move || {
                for _ in 0..50 {
                    s.put_index(&idx, IndexWrite::Replace).unwrap();
                }
                idx
            })
        })
        .collect();
    let reader = {
        let s = Arc::clone(&s);
        std::thread::spawn(move || {
            for _ in 0..300 {
                let got = s.get_index(&ami()).expect("a whole index every time");
                assert!(got.tool_version.starts_with("writer-"));
            }
        })
    };
    let written: Vec<AmiIndex> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    reader.join().unwrap();
    let last = s.get_index(&ami()).unwrap();
    assert!(
        written.contains(&last),
        "the final index is one complete write"
    );
    let dir = d.path().join(index_key(&ami()));
    let names: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("index.json")]);
}

#[test]
fn concurrent_blob_writers() {
    let d = tempfile::tempdir().unwrap();
    let s = Arc::new(LocalStore::new(d.path()));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || s.put_blob_outcome(b"contended").unwrap().created)
        })
        .collect();
    let created = hs.into_iter().filter(|_| true).map(|h| h.join().unwrap());
    assert_eq!(created.filter(|c| *c).count(), 1, "exactly one creator");
}

#[test]
fn concurrent_create_only_publishers_exactly_one_wins() {
    for round in 0..20 {
        let d = tempfile::tempdir().unwrap();
        let s = Arc::new(LocalStore::new(d.path()));
        let blobs: Vec<Vec<u8>> = (0..8).map(|i| format!("blob {i}").into_bytes()).collect();
        for b in &blobs {
            s.put_blob(b).unwrap();
        }
        let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let s = Arc::clone(&s);
                let b = Arc::clone(&barrier);
                let idx = index_for(&ami(), &refs[w..], &format!("writer-{w}"));
                std::thread::spawn(move || {
                    b.wait();
                    (idx.clone(), s.put_index(&idx, IndexWrite::CreateOnly))
                })
            })
            .collect();
        let results: Vec<_> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<&AmiIndex> = results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(IndexPut::Created)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, r) in &results {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            }
        }
        assert_eq!(&s.get_index(&ami()).unwrap(), winners[0]);
    }
}

/// An S3 endpoint given with a store that is not `s3://` is refused: the
/// attestations would otherwise land in a local directory named like the
/// bucket the user meant. A region alone has no effect on a local store.
#[test]
fn s3_endpoint_with_a_local_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("my-bucket");
    let url = url.to_str().unwrap();
    let endpoint = bakeproof_store::StoreOptions {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        region: None,
    };
    for u in [url.to_string(), format!("file://{url}")] {
        let e = bakeproof_store::open_with(&u, &endpoint)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("s3://BUCKET"), "{e}");
    }
    assert!(!dir.path().join("my-bucket").exists());
    let region = bakeproof_store::StoreOptions {
        endpoint_url: None,
        region: Some("us-east-1".into()),
    };
    assert!(bakeproof_store::open_with(url, &region).is_ok());
    assert!(bakeproof_store::open_with(url, &Default::default()).is_ok());
}
