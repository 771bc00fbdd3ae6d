//! The walk leaves process-wide state alone: raising the descriptor limit is
//! the binary's decision ([`bakeproof_index::raise_fd_limit`]). One test in
//! its own test binary, since it changes this process's limit.

use bakeproof_index::{Root, ScanOptions, raise_fd_limit, scan, scan_paths};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

#[test]
fn scan_leaves_the_descriptor_limit_alone() {
    let hard = getrlimit(Resource::Nofile)
        .maximum
        .expect("a finite hard limit of open files");
    let soft = (hard / 2).max(64);
    assert!(soft < hard, "hard limit {hard} too low for this test");
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: Some(hard),
        },
    )
    .unwrap();
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("d")).unwrap();
    std::fs::write(t.path().join("d/f"), b"x").unwrap();
    let root = Root::open(t.path()).unwrap();
    let r = scan(&root, &ScanOptions::default()).unwrap();
    assert_eq!(r.entries.len(), 2);
    assert_eq!(getrlimit(Resource::Nofile).current, Some(soft), "scan");
    scan_paths(&root, &[b"/d/f".to_vec()], &ScanOptions::default()).unwrap();
    assert_eq!(
        getrlimit(Resource::Nofile).current,
        Some(soft),
        "scan_paths"
    );
    // The binary's call does raise it.
    raise_fd_limit();
    assert_eq!(getrlimit(Resource::Nofile).current, Some(hard));
}
