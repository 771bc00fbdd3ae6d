//! Shared helpers: the dpkgroot fixture (real Debian 12 packages, with
//! oracles from real dpkg-query 1.21.22) extracted into a temporary directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/dpkgroot")
}

pub(crate) fn oracle(name: &str) -> String {
    let p = fixture_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Extracts `clean.tar.gz` or `tampered.tar.gz` (the tarballs keep the empty
/// directories and symlinks that git cannot).
pub(crate) fn extract(tarball: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(fixture_dir().join(tarball))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -xzf {tarball} failed");
    dir
}

/// Sorted lines, as `LC_ALL=C sort` orders them (bytewise).
pub(crate) fn sorted(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
    v.sort();
    v
}

pub(crate) fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, bytes).expect("write");
}
