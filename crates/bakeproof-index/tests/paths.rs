//! `scan_paths`: the entries of chosen paths, as the full walk records them,
//! and nothing reached through a symlink on the way.

use std::os::unix::fs::symlink;

use bakeproof_index::{EntryError, FileKind, Root, ScanOptions, scan, scan_paths};

#[test]
fn chosen_paths_match_the_full_walk_and_stay_physical() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::create_dir_all(r.join("usr/sbin")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/x")).unwrap();
    std::fs::write(r.join("usr/sbin/nginx"), b"real nginx").unwrap();
    std::fs::write(r.join("usr/lib/x/lib.so"), vec![7u8; 600_000]).unwrap();
    symlink("lib.so", r.join("usr/lib/x/lib.so.1")).unwrap();
    // A directory replaced by a symlink to a copy: the path resolves, but not
    // physically.
    std::fs::create_dir_all(r.join("elsewhere")).unwrap();
    std::fs::write(r.join("elsewhere/tool"), b"tool").unwrap();
    symlink("/elsewhere", r.join("usr/libexec")).unwrap();
    // Outside the root entirely.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"s").unwrap();
    symlink(outside.path(), r.join("out")).unwrap();

    let root = Root::open(r).unwrap();
    let full = scan(&root, &ScanOptions::default()).unwrap();
    let want: Vec<Vec<u8>> = [
        "/usr/sbin/nginx",
        "/usr/lib/x/lib.so.1",
        "/usr/lib/x/lib.so",
        "/usr/sbin/gone",
        "/usr/libexec/tool",
        "/out/secret",
        "/usr/../usr/sbin/nginx",
        "relative",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let got = scan_paths(&root, &want, &ScanOptions::default()).unwrap();
    assert_eq!(got.len(), want.len());
    for (p, e) in want.iter().zip(&got) {
        assert_eq!(&e.path, p);
    }
    // Same entries as the walk (content digest, link target, metadata).
    for e in &got[..3] {
        let w = full.entries.iter().find(|x| x.path == e.path).unwrap();
        assert_eq!(e, w, "{}", String::from_utf8_lossy(&e.path));
    }
    assert!(got[0].sha256.is_some());
    assert_eq!(got[1].kind, FileKind::Symlink);
    assert_eq!(got[1].link_target.as_deref(), Some(&b"lib.so"[..]));
    assert_eq!(got[3].error, Some(EntryError::Vanished));
    assert_eq!(got[3].kind, FileKind::Unknown);
    for e in &got[4..] {
        assert!(e.sha256.is_none(), "{e:?}");
        assert!(
            matches!(
                e.error,
                Some(EntryError::Changed(_)) | Some(EntryError::Unreadable(_))
            ),
            "{e:?}"
        );
    }
}
