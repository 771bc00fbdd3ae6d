//! Bounded resources: path length and the per-scan path budget.

use bakeproof_index::{EntryError, MAX_PATH_LEN, Root, ScanError, ScanOptions, scan};
use rustix::fs::{Mode, OFlags};

/// `depth` nested directories named with `len` bytes each below `root`.
fn chain(root: &std::path::Path, depth: usize, len: usize) {
    let name = "d".repeat(len);
    let mut dir =
        rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    for _ in 0..depth {
        rustix::fs::mkdirat(&dir, name.as_str(), Mode::from_raw_mode(0o755)).unwrap();
        dir = rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
    }
    drop(
        rustix::fs::openat(
            &dir,
            "leaf",
            OFlags::WRONLY | OFlags::CREATE,
            Mode::from_raw_mode(0o644),
        )
        .unwrap(),
    );
}

#[test]
fn paths_beyond_path_max_are_recorded_not_followed() {
    let t = tempfile::tempdir().unwrap();
    chain(t.path(), 100, 250);
    let r = scan(&Root::open(t.path()).unwrap(), &ScanOptions::default()).unwrap();
    let longest = r.entries.iter().map(|e| e.path.len()).max().unwrap();
    assert!(longest <= MAX_PATH_LEN + 256, "{longest}");
    let too_long: Vec<_> = r
        .entries
        .iter()
        .filter(|e| matches!(e.error, Some(EntryError::PathTooLong(_))))
        .collect();
    assert_eq!(too_long.len(), 1);
    assert!(too_long[0].path.len() > MAX_PATH_LEN);
    assert_eq!(too_long[0].error.as_ref().unwrap().code(), "path-too-long");
    // every level up to it, nothing below
    assert_eq!(r.entries.len(), too_long[0].path.len() / 251);
    assert_eq!(r.stats.errors, 1);
}

#[test]
fn the_path_budget_stops_the_scan_with_an_error() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(t.path().join(format!("file-{i:03}")), b"x").unwrap();
    }
    let root = Root::open(t.path()).unwrap();
    // 50 paths of 9 bytes: 450 bytes.
    let fits = ScanOptions {
        max_path_bytes: Some(450),
        ..Default::default()
    };
    assert_eq!(scan(&root, &fits).unwrap().entries.len(), 50);
    let over = ScanOptions {
        max_path_bytes: Some(449),
        ..Default::default()
    };
    let err = scan(&root, &over).unwrap_err();
    assert!(matches!(err, ScanError::PathBudget { limit: 449 }), "{err}");
    assert!(err.to_string().contains("449 byte budget"), "{err}");
}
