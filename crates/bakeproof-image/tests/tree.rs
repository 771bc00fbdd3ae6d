//! The image tree against the directory it was made from: a source tree
//! (the dpkg fixture root, plus hard links, links that point out of the
//! root, a loop, a FIFO, a device, sparse and large files, a file
//! capability, hostile names, a directory of thousands of entries) is made
//! into images by `mke2fs -d` (e2fsprogs: ext4 with 4 KiB blocks, ext2 with
//! 1 KiB blocks and block maps). The oracle is bakeproof's directory walk
//! of the source (`Root`, itself tested against the kernel's `stat` and
//! `sha256sum`): every entry, every answer of the `ReadOnlyTree` methods and
//! the tree digest must be the same on the image.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::FsReader;
use bakeproof_image::tree::ImageTree;
use bakeproof_index::{
    ContentObserver, ContentSink, Entry, EntryError, FileKind, ReadOnlyTree, Root, RootError,
    ScanOptions,
};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// The dpkg fixture root with the hostile and unusual entries added.
fn source() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(workspace().join("fixtures/dpkgroot/clean.tar.gz"))
        .arg("-C")
        .arg(src)
        .arg("--numeric-owner"));
    let x = src.join("x");
    fs::create_dir(&x).unwrap();
    fs::write(x.join("file"), b"hard linked\n").unwrap();
    fs::hard_link(x.join("file"), x.join("hardlink")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", x.join("abs-out")).unwrap();
    std::os::unix::fs::symlink("../../../../../../etc", x.join("rel-out")).unwrap();
    std::os::unix::fs::symlink("/usr/share", x.join("abs-in")).unwrap();
    std::os::unix::fs::symlink("loop-b", x.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", x.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("dangling-target", x.join("dangling")).unwrap();
    let long_target = "t/".repeat(200);
    std::os::unix::fs::symlink(&long_target, x.join("slow-link")).unwrap();
    run(Command::new("mkfifo").arg(x.join("fifo")));
    run(Command::new("mknod")
        .arg(x.join("null"))
        .args(["c", "1", "3"]));
    run(Command::new("mknod")
        .arg(x.join("disk"))
        .args(["b", "259", "70000"]));
    fs::write(x.join("big"), noise(3 << 20, 7)).unwrap();
    let sparse = fs::File::create(x.join("sparse")).unwrap();
    sparse.set_len(40 << 20).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&sparse, b"middle", 20 << 20).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&sparse, b"end", (40 << 20) - 3).unwrap();
    fs::write(x.join(OsStr::from_bytes(b"caf\xe9\nnew line")), b"latin-1").unwrap();
    fs::write(x.join("setuid"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(x.join("setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::write(x.join("ping"), b"\x7fELF").unwrap();
    // cap_net_raw+ep, as `setcap` writes it (VFS_CAP_REVISION_2).
    run(Command::new("setfattr")
        .args(["-n", "security.capability", "-v"])
        .arg("0x0000000200200000000000000000000000000000")
        .arg(x.join("ping")));
    fs::create_dir(x.join("many")).unwrap();
    for i in 0..2500 {
        fs::write(x.join(format!("many/entry-{i:05}")), format!("{i}\n")).unwrap();
    }
    let mut deep = x.join("deep");
    for i in 0..30 {
        deep = deep.join(format!("level-{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("leaf"), b"leaf\n").unwrap();
    std::os::unix::fs::chown(x.join("file"), Some(1000), Some(100)).unwrap();
    dir
}

fn mke2fs(src: &Path, out: &Path, args: &[&str]) {
    run(Command::new("mke2fs")
        .args(["-q", "-F"])
        .args(args)
        .arg("-d")
        .arg(src)
        .arg(out)
        .arg("96M"));
}

fn open_ext(img: &Path) -> ImageTree {
    let src = bakeproof_image::block::FileSource::open(img).unwrap();
    let fs: Arc<dyn FsReader> = Arc::new(Ext4::open(src).unwrap());
    ImageTree::new(fs, img.display().to_string())
}

/// Counts each file's bytes: proves the observers see the content once.
struct Counter;
struct CounterSink(u64);
impl ContentObserver for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn start(&self, _path: &[u8], _size: u64) -> Option<Box<dyn ContentSink>> {
        Some(Box::new(CounterSink(0)))
    }
}
impl ContentSink for CounterSink {
    fn update(&mut self, chunk: &[u8]) {
        self.0 += chunk.len() as u64;
    }
    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        vec![("bytes".into(), self.0.to_string())]
    }
}

fn opts() -> ScanOptions {
    ScanOptions {
        observers: vec![Arc::new(Counter)],
        ..ScanOptions::default()
    }
}

/// What must be the same for an entry on both sides: all but the device
/// and inode numbers (a copy changes them).
fn comparable(e: &Entry) -> Entry {
    Entry {
        dev: 0,
        ino: 0,
        ..e.clone()
    }
}

fn by_path(entries: &[Entry]) -> BTreeMap<Vec<u8>, Entry> {
    entries
        .iter()
        .map(|e| (e.path.clone(), comparable(e)))
        .collect()
}

/// The outcome of a `ReadOnlyTree` call, with errors reduced to their
/// class (the messages name the source).
fn class<T: std::fmt::Debug>(r: Result<T, RootError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) if e.is_not_found() => "not found".into(),
        Err(RootError::NotRegular { .. }) => "not regular".into(),
        Err(RootError::TooLarge { .. }) => "too large".into(),
        Err(RootError::SymlinkLoop { .. }) => "loop".into(),
        // The kernel's word for the same (a directory root's `openat2`).
        Err(RootError::Io { source, .. }) if source.raw_os_error() == Some(40 /* ELOOP */) => {
            "loop".into()
        }
        Err(RootError::Io { source, .. }) => format!("io {:?}", source.kind()),
        Err(e) => format!("other {e}"),
    }
}

fn assert_same_answers(dir: &Root, img: &ImageTree, paths: &[Vec<u8>]) {
    for p in paths {
        let show = String::from_utf8_lossy(p);
        assert_eq!(
            class(dir.canonicalize(p)),
            class(img.canonicalize(p)),
            "canonicalize {show}"
        );
        assert_eq!(
            class(ReadOnlyTree::canonicalize_parent(dir, p)),
            class(img.canonicalize_parent(p)),
            "canonicalize_parent {show}"
        );
        assert_eq!(
            class(ReadOnlyTree::kind_of(dir, p)),
            class(img.kind_of(p)),
            "kind_of {show}"
        );
        assert_eq!(
            class(ReadOnlyTree::read_link(dir, p)),
            class(img.read_link(p)),
            "read_link {show}"
        );
        let meta = |t: &dyn ReadOnlyTree| {
            t.metadata(p).map(|m| {
                // A directory's size is the filesystem's business.
                let size = if m.kind == FileKind::Directory {
                    0
                } else {
                    m.size
                };
                // mke2fs's /lost+found is made in the root after the copy.
                let mtime = if p == b"/" { 0 } else { m.mtime };
                (m.kind, m.mode, m.uid, m.gid, size, mtime)
            })
        };
        assert_eq!(class(meta(dir)), class(meta(img)), "metadata {show}");
        let read = |t: &dyn ReadOnlyTree| {
            t.read_file(p, 1 << 20)
                .map(|b| bakeproof_index::escape_path(&b[..b.len().min(64)]))
        };
        assert_eq!(class(read(dir)), class(read(img)), "read_file {show}");
        let names = |t: &dyn ReadOnlyTree| {
            t.read_dir(p).map(|n| {
                n.into_iter()
                    .filter(|n| n != b"lost+found")
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(class(names(dir)), class(names(img)), "read_dir {show}");
    }
}

fn check_image(src: &Path, img: &Path) {
    let dir = Root::open(src).unwrap();
    let tree = open_ext(img);
    let want = ReadOnlyTree::walk(&dir, &opts()).unwrap();
    let got = tree.walk(&opts()).unwrap();
    let mut w = by_path(&want.entries);
    let mut g = by_path(&got.entries);
    // mke2fs's own directory: the one entry the image has and the source
    // has not (the tree digest leaves an empty one out).
    let lf = g
        .remove(b"/lost+found".as_slice())
        .expect("mke2fs makes /lost+found");
    assert_eq!(lf.kind, FileKind::Directory);
    assert!(g.keys().all(|k| !k.starts_with(b"/lost+found/")));
    for (path, e) in &mut w {
        let i = &mut g
            .get_mut(path)
            .unwrap_or_else(|| panic!("{} missing from the image", String::from_utf8_lossy(path)));
        if e.kind == FileKind::Directory {
            // Directory sizes are the filesystem's layout, not content.
            e.size = 0;
            i.size = 0;
        }
        assert_eq!(
            *e,
            **i,
            "entry {} differs (left: directory walk, right: image)",
            String::from_utf8_lossy(path)
        );
    }
    assert_eq!(w.len(), g.len(), "the image has entries the source has not");
    assert_eq!(
        hex::encode(want.tree_digest),
        hex::encode(got.tree_digest),
        "tree digest"
    );
    assert!(got.stats.bytes_hashed >= (43 << 20), "{:?}", got.stats);
    assert_eq!(got.stats.errors, 0, "{:?}", got.stats);

    // Every path, plus paths that climb out, loop, or name nothing.
    let mut paths: Vec<Vec<u8>> = want.entries.iter().map(|e| e.path.clone()).collect();
    for extra in [
        "/",
        "/x/abs-out",
        "/x/rel-out/passwd",
        "/x/abs-in/doc",
        "/x/loop-a",
        "/x/loop-a/below",
        "/x/dangling",
        "/x/missing/deeper",
        "/x/file/not-a-dir",
        "/x/../../x/./file",
        "/etc/os-release",
        "/x/big",
        "/x/sparse",
        "/x/fifo",
        "/x/null",
    ] {
        paths.push(extra.as_bytes().to_vec());
    }
    assert_same_answers(&dir, &tree, &paths);

    // The chosen paths only: the same entries as the directory source's.
    let chosen: Vec<Vec<u8>> = [
        "/x/file",
        "/x/hardlink",
        "/x/ping",
        "/x/abs-out",
        "/x/fifo",
        "/x/gone",
        "/x/abs-in/doc",
        "/x/many/entry-01234",
    ]
    .iter()
    .map(|p| p.as_bytes().to_vec())
    .collect();
    let a = ReadOnlyTree::index_paths(&dir, &chosen, &opts()).unwrap();
    let b = tree.index_paths(&chosen, &opts()).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        let (x, y) = (comparable(x), comparable(y));
        match (&x.error, &y.error) {
            // The messages differ (a directory's descriptor against an
            // image's lookup): the class must not.
            (Some(ex), Some(ey)) => assert_eq!(ex.code(), ey.code(), "{:?}", x.path),
            _ => assert_eq!(x, y),
        }
    }
    assert_eq!(b[5].error, Some(EntryError::Vanished));
    assert!(b[0].sha256.is_some() && b[2].capability.is_some());
}

#[test]
fn ext4_and_ext2_images_index_as_their_source_directory() {
    let src = source();
    let work = tempfile::tempdir().unwrap();
    let ext4 = work.path().join("ext4.img");
    mke2fs(src.path(), &ext4, &["-t", "ext4", "-b", "4096"]);
    check_image(src.path(), &ext4);
    let ext2 = work.path().join("ext2.img");
    mke2fs(src.path(), &ext2, &["-t", "ext2", "-b", "1024"]);
    check_image(src.path(), &ext2);
}

#[test]
fn a_directory_loop_is_listed_once_and_the_walk_ends() {
    let src = tempfile::tempdir().unwrap();
    fs::create_dir_all(src.path().join("a/b/c")).unwrap();
    fs::write(src.path().join("a/b/c/f"), b"f").unwrap();
    let work = tempfile::tempdir().unwrap();
    let img = work.path().join("loop.img");
    mke2fs(src.path(), &img, &["-t", "ext4"]);
    // A second name for /a inside its own subtree: a cycle no kernel
    // would let anyone make, as a hostile image holds it.
    run(Command::new("debugfs")
        .args(["-w", "-R", "ln /a /a/b/c/up"])
        .arg(&img));
    let tree = open_ext(&img);
    let got = tree.walk(&ScanOptions::default()).unwrap();
    let up = got
        .entries
        .iter()
        .find(|e| e.path == b"/a/b/c/up")
        .expect("the looping entry is recorded");
    assert!(
        matches!(&up.error, Some(EntryError::UnlistableDirectory(m)) if m.contains("already listed")),
        "{up:?}"
    );
    assert!(
        got.entries
            .iter()
            .all(|e| !e.path.starts_with(b"/a/b/c/up/"))
    );
    // Resolving through the loop is bounded by the path, not by the cycle.
    assert!(tree.kind_of(b"/a/b/c/up/b/c/up/b/c/f").unwrap().is_some());
}
