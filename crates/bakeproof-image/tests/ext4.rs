//! The ext2/3/4 reader against images made by the real `mke2fs -d` from a
//! source directory built here; the oracle is the source tree read with std
//! (and `getfattr` for the attributes). Hostile images are the real images
//! corrupted byte-wise (offsets from `debugfs`, an independent tool).

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_image::ImageError;
use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::{FsReader, Ino, Kind};
use sha2::{Digest as _, Sha256};

/// Path → (name, value) of each attribute.
type XattrMap = BTreeMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pseudo-random bytes (xorshift), so contents are not all alike.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn build_source(src: &Path, inline: bool) {
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::write(src.join("a/b/c/deep.txt"), b"deep\n").unwrap();
    fs::create_dir(src.join("many")).unwrap();
    for i in 0..3000 {
        let body = if i % 7 == 0 {
            format!("entry {i}\n").into_bytes()
        } else {
            Vec::new()
        };
        fs::write(src.join(format!("many/file-{i:05}")), body).unwrap();
    }
    fs::create_dir(src.join("names")).unwrap();
    fs::write(src.join("names/new\nline"), b"nl").unwrap();
    fs::write(
        src.join("names").join(OsStr::from_bytes(b"\xff\xfe-bytes")),
        b"nu",
    )
    .unwrap();
    fs::write(src.join("names").join("n".repeat(255)), b"long").unwrap();
    fs::write(src.join("empty"), b"").unwrap();
    fs::write(src.join("small.txt"), b"hello, ext4\n").unwrap();
    fs::write(src.join("big.bin"), noise(3 * 1024 * 1024 + 123, 7)).unwrap();
    // Sparse: data, a hole in the middle, data, a hole at the end.
    {
        let mut f = fs::File::create(src.join("sparse")).unwrap();
        f.write_all(&noise(8192, 3)).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, &noise(5000, 4), 2 * 1024 * 1024).unwrap();
        // mke2fs 1.47.0 with -O inline_data drops a trailing hole (the
        // size stops at the last data block; debugfs shows the same size),
        // so the hole at the end is only made for the other images.
        if !inline {
            f.set_len(5 * 1024 * 1024).unwrap();
        }
    }
    // Fragmented: 40 separate extents (an extent tree of depth 1).
    {
        let f = fs::File::create(src.join("fragmented")).unwrap();
        for i in 0..40u64 {
            std::os::unix::fs::FileExt::write_at(&f, &noise(4096, i + 10), i * 65536).unwrap();
        }
    }
    fs::create_dir(src.join("hl")).unwrap();
    fs::hard_link(src.join("small.txt"), src.join("hl/small-again")).unwrap();
    fs::hard_link(src.join("small.txt"), src.join("hl/small-third")).unwrap();
    std::os::unix::fs::symlink("small.txt", src.join("fast-link")).unwrap();
    let slow = format!("{}/target", "x".repeat(200));
    std::os::unix::fs::symlink(&slow, src.join("slow-link")).unwrap();
    run(Command::new("mkfifo").arg(src.join("fifo")));
    let _ = Command::new("mknod")
        .arg(src.join("null-dev"))
        .args(["c", "1", "3"])
        .status();
    fs::write(src.join("ping"), b"\x7fELF not really").unwrap();
    run(Command::new("setcap")
        .arg("cap_net_raw+ep")
        .arg(src.join("ping")));
    // Attributes too big for the inode body: in an attribute block (on a
    // fast symlink too, whose block count is then the attribute block's).
    let big_value = format!("0x{}", "ab".repeat(300));
    std::os::unix::fs::symlink("small.txt", src.join("labeled-link")).unwrap();
    for f in ["labeled-link", "ping"] {
        run(Command::new("setfattr")
            .args(["-h", "-n", "security.bakeproof-test", "-v", &big_value])
            .arg(src.join(f)));
    }
    fs::write(src.join("owned"), b"someone else's").unwrap();
    std::os::unix::fs::chown(src.join("owned"), Some(1234), Some(56789)).unwrap();
    fs::set_permissions(
        src.join("owned"),
        std::os::unix::fs::PermissionsExt::from_mode(0o4751),
    )
    .unwrap();
    if inline {
        fs::create_dir(src.join("tiny-dir")).unwrap();
        fs::write(src.join("tiny-dir/t"), b"inline file").unwrap();
        fs::write(src.join("tiny-dir/u"), noise(100, 9)).unwrap();
    }
}

fn mkfs(src: &Path, img: &Path, args: &[&str]) {
    run(Command::new("mke2fs")
        .args(["-q", "-F"])
        .args(args)
        .arg("-d")
        .arg(src)
        .arg(img)
        .arg("64M"));
}

/// Unescapes getfattr's `\ooo` octal escapes in a path.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push(u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Every attribute of every file under `src`, from `getfattr -R`.
fn getfattr_all(src: &Path) -> XattrMap {
    let out = Command::new("getfattr")
        .args(["-R", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names"])
        .arg(src)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map: XattrMap = BTreeMap::new();
    let mut cur = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("# file: ") {
            cur = Some(unescape(p));
        } else if let Some((name, val)) = line.split_once('=') {
            let hex = val.strip_prefix("0x").expect("hex value");
            let value = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            map.entry(cur.clone().unwrap())
                .or_default()
                .push((name.as_bytes().to_vec(), value));
        }
    }
    map
}

fn read_all(fs: &dyn FsReader, ino: Ino, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size as usize);
    let mut buf = vec![0u8; 65536 + 13]; // not block-aligned on purpose
    loop {
        let n = fs.read(ino, out.len() as u64, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

struct Seen {
    entries: usize,
    kinds: HashSet<&'static str>,
}

/// Compares directory `dir` of the image with `path` of the source, recursively.
fn compare_dir(
    fs: &dyn FsReader,
    ino: Ino,
    path: &Path,
    xattrs: &XattrMap,
    top: bool,
    seen: &mut Seen,
) {
    let mut image: Vec<(Vec<u8>, Ino)> = fs
        .read_dir(ino)
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.ino))
        .collect();
    if top {
        image.retain(|(n, _)| n != b"lost+found");
    }
    let mut source: Vec<Vec<u8>> = fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect();
    source.sort();
    let names: Vec<Vec<u8>> = image.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, source, "entries of {}", path.display());
    let mut subdirs = 0;
    for (name, child) in image {
        let p = path.join(OsStr::from_bytes(&name));
        let m = fs::symlink_metadata(&p).unwrap();
        let i = fs.inode(child).unwrap();
        seen.entries += 1;
        let kind = bakeproof_image::fs::kind_from_mode(m.mode()).expect("a file type");
        let what = p.display().to_string();
        assert_eq!(i.kind, kind, "{what}");
        assert_eq!(i.perm, m.mode() & 0o7777, "{what}");
        assert_eq!((i.uid, i.gid), (m.uid(), m.gid()), "{what}");
        assert_eq!(i.mtime, m.mtime(), "{what}");
        if kind != Kind::Directory {
            assert_eq!(i.nlink as u64, m.nlink(), "{what}");
        }
        let mut want_x: Vec<(Vec<u8>, Vec<u8>)> = xattrs
            .get(p.as_os_str().as_bytes())
            .cloned()
            .unwrap_or_default();
        want_x.sort();
        let got_x: Vec<(Vec<u8>, Vec<u8>)> = fs
            .xattrs(child)
            .unwrap()
            .into_iter()
            .map(|x| (x.name, x.value))
            .collect();
        assert_eq!(got_x, want_x, "xattrs of {what}");
        if !want_x.is_empty() {
            seen.kinds.insert("xattr");
        }
        match kind {
            Kind::Directory => {
                subdirs += 1;
                seen.kinds.insert("dir");
                compare_dir(fs, child, &p, xattrs, false, seen);
            }
            Kind::Regular => {
                assert_eq!(i.size, m.len(), "{what}");
                let got = read_all(fs, child, i.size);
                assert_eq!(got.len() as u64, m.len(), "{what}");
                assert_eq!(sha(&got), sha(&fs::read(&p).unwrap()), "content of {what}");
                seen.kinds.insert("file");
            }
            Kind::Symlink => {
                assert_eq!(i.size, m.len(), "{what}");
                let t = fs.read_link(child).unwrap();
                assert_eq!(
                    t,
                    fs::read_link(&p).unwrap().as_os_str().as_bytes(),
                    "{what}"
                );
                seen.kinds.insert(if t.len() < 60 {
                    "fast-link"
                } else {
                    "slow-link"
                });
            }
            Kind::CharDevice | Kind::BlockDevice => {
                let r = m.rdev();
                let major = ((r >> 8) & 0xfff) | ((r >> 32) & !0xfff);
                let minor = (r & 0xff) | ((r >> 12) & !0xff);
                assert_eq!(i.rdev, Some((major as u32, minor as u32)), "{what}");
                seen.kinds.insert("device");
            }
            Kind::Fifo => {
                seen.kinds.insert("fifo");
            }
            Kind::Socket => {}
            // kind_from_mode never gives it (the expect above).
            Kind::Unknown => unreachable!("{what}: no file type"),
        }
    }
    // A directory's link count: 2 plus its subdirectories.
    let me = fs.inode(ino).unwrap();
    if !top {
        assert_eq!(me.nlink, 2 + subdirs, "nlink of {}", path.display());
    }
}

fn check_image(args: &[&str], inline: bool, want_describe: &str) -> (tempfile::TempDir, PathBuf) {
    check_image_with(args, inline, want_describe, false)
}

/// `htree`: after mke2fs (whose `-d` writes linear directories), index the
/// directories with `e2fsck -fyD` and check `many/` became an htree.
fn check_image_with(
    args: &[&str],
    inline: bool,
    want_describe: &str,
    htree: bool,
) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    build_source(&src, inline);
    let img = tmp.path().join("fs.img");
    mkfs(&src, &img, args);
    if htree {
        let st = Command::new("e2fsck")
            .arg("-fyD")
            .arg(&img)
            .output()
            .unwrap();
        assert!(matches!(st.status.code(), Some(0 | 1)), "{st:?}");
        let out = debugfs(&img, "htree /many");
        assert!(out.contains("Root node dump"), "{out}");
    }
    let fs = Ext4::open(bakeproof_image::block::FileSource::open(&img).unwrap()).unwrap();
    assert!(
        fs.describe().starts_with(want_describe),
        "{}",
        fs.describe()
    );
    let xattrs = getfattr_all(&src);
    assert!(
        xattrs.contains_key(src.join("ping").as_os_str().as_bytes()),
        "getfattr sees the capability: {xattrs:?}"
    );
    let mut seen = Seen {
        entries: 0,
        kinds: HashSet::new(),
    };
    compare_dir(&fs, fs.root(), &src, &xattrs, true, &mut seen);
    assert!(seen.entries > 3000, "{}", seen.entries);
    for k in ["dir", "file", "fast-link", "slow-link", "fifo", "xattr"] {
        assert!(seen.kinds.contains(k), "no {k} seen: {:?}", seen.kinds);
    }
    (tmp, img)
}

#[test]
fn ext4_4k_blocks_match_the_source_tree() {
    check_image(&["-t", "ext4", "-b", "4096"], false, "ext4");
}

#[test]
fn ext4_htree_directories_match_the_source_tree() {
    check_image_with(&["-t", "ext4", "-b", "4096"], false, "ext4", true);
}

#[test]
fn ext2_1k_blocks_block_maps_match_the_source_tree() {
    check_image(&["-t", "ext2", "-b", "1024"], false, "ext2");
}

#[test]
fn ext3_matches_the_source_tree() {
    check_image(&["-t", "ext3", "-b", "4096"], false, "ext3");
}

#[test]
fn ext4_inline_data_matches_the_source_tree() {
    let (_tmp, img) = check_image(
        &["-t", "ext4", "-b", "4096", "-O", "inline_data", "-I", "256"],
        true,
        "ext4",
    );
    // The inline area was really used (debugfs says so).
    let ino = ino_of(&img, "tiny-dir/t");
    let stat = debugfs(&img, &format!("stat <{ino}>"));
    assert!(stat.contains("Size of inline data"), "{stat}");
}

#[test]
fn ext4_64bit_descriptors() {
    check_image(&["-t", "ext4", "-b", "4096", "-O", "64bit"], false, "ext4");
}

// ---------------------------------------------------------------- hostile

fn debugfs(img: &Path, req: &str) -> String {
    run(Command::new("debugfs").arg("-R").arg(req).arg(img))
}

fn ino_of(img: &Path, path: &str) -> u64 {
    let out = debugfs(img, &format!("stat /{path}"));
    let line = out.lines().next().unwrap();
    let n = line
        .strip_prefix("Inode: ")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    n.parse().unwrap()
}

/// Byte offset of inode `ino` in the image (debugfs's `imap`).
fn inode_offset(img: &Path, ino: u64, bs: u64) -> u64 {
    let out = debugfs(img, &format!("imap <{ino}>"));
    let loc = out.split("located at block ").nth(1).unwrap();
    let (block, rest) = loc.split_once(", offset ").unwrap();
    let off = rest.trim();
    block.parse::<u64>().unwrap() * bs
        + u64::from_str_radix(off.trim_start_matches("0x"), 16).unwrap()
}

fn small_image(args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("d/e")).unwrap();
    fs::write(src.join("small.txt"), b"hello").unwrap();
    fs::write(src.join("big.bin"), noise(200_000, 1)).unwrap();
    {
        let f = fs::File::create(src.join("fragmented")).unwrap();
        for i in 0..40u64 {
            std::os::unix::fs::FileExt::write_at(&f, &noise(4096, i + 10), i * 65536).unwrap();
        }
    }
    for i in 0..300 {
        fs::write(src.join(format!("d/f{i}")), b"").unwrap();
    }
    let img = tmp.path().join("fs.img");
    run(Command::new("mke2fs")
        .args(["-q", "-F"])
        .args(args)
        .arg("-d")
        .arg(&src)
        .arg(&img)
        .arg("8M"));
    (tmp, img)
}

fn open_bytes(b: Vec<u8>) -> Result<Ext4<Vec<u8>>, ImageError> {
    Ext4::open(b)
}

/// Everything reachable, bounded; the first error.
fn walk(fs: &dyn FsReader) -> Result<usize, ImageError> {
    let mut stack = vec![(fs.root(), 0u32)];
    let mut dirs = HashSet::new();
    let mut n = 0;
    while let Some((ino, depth)) = stack.pop() {
        let i = fs.inode(ino)?;
        n += 1;
        fs.xattrs(ino)?;
        match i.kind {
            Kind::Directory => {
                if !dirs.insert(ino) || depth > 64 {
                    continue;
                }
                for e in fs.read_dir(ino)? {
                    stack.push((e.ino, depth + 1));
                }
            }
            Kind::Regular => {
                let mut buf = vec![0u8; 1 << 16];
                let mut off = 0;
                while off < i.size.min(1 << 24) {
                    let r = fs.read(ino, off, &mut buf)?;
                    if r == 0 {
                        break;
                    }
                    off += r as u64;
                }
            }
            Kind::Symlink => {
                fs.read_link(ino)?;
            }
            _ => {}
        }
    }
    Ok(n)
}

fn corrupt_with(img: &Path, edits: &[(u64, &[u8])]) -> Vec<u8> {
    let mut b = fs::read(img).unwrap();
    for (at, bytes) in edits {
        b[*at as usize..*at as usize + bytes.len()].copy_from_slice(bytes);
    }
    b
}

fn expect_corrupt<T: std::fmt::Debug>(r: Result<T, ImageError>, what: &str) {
    match r {
        Err(ImageError::Corrupt { .. } | ImageError::OutOfRange { .. }) => {}
        other => panic!("{what}: expected a clean corruption error, got {other:?}"),
    }
}

#[test]
fn hostile_bad_magic_and_superblock() {
    let (_t, img) = small_image(&["-t", "ext4"]);
    assert!(walk(&open_bytes(fs::read(&img).unwrap()).unwrap()).unwrap() > 300);
    expect_corrupt(
        open_bytes(corrupt_with(&img, &[(1024 + 0x38, b"\0\0")])).map(|_| ()),
        "bad magic",
    );
    // Block size 1024 << 40.
    expect_corrupt(
        open_bytes(corrupt_with(&img, &[(1024 + 0x18, &40u32.to_le_bytes())])).map(|_| ()),
        "block size",
    );
    // No inodes per group.
    expect_corrupt(
        open_bytes(corrupt_with(&img, &[(1024 + 0x28, &0u32.to_le_bytes())])).map(|_| ()),
        "inodes per group",
    );
    // Blocks far beyond the image: the group descriptors would be past its end.
    expect_corrupt(
        open_bytes(corrupt_with(&img, &[(1024 + 0x4, &u32::MAX.to_le_bytes())])).map(|_| ()),
        "blocks count",
    );
    // Unknown incompatible feature: unsupported, said.
    let r = open_bytes(corrupt_with(&img, &[(1024 + 0x60 + 3, &[0x80])]));
    assert!(
        matches!(r, Err(ImageError::Unsupported(_))),
        "{:?}",
        r.err()
    );
}

#[test]
fn hostile_truncated_image() {
    let (_t, img) = small_image(&["-t", "ext4"]);
    let full = fs::read(&img).unwrap();
    for keep in [0usize, 1500, 4096, 70_000, 1 << 20] {
        let r = open_bytes(full[..keep].to_vec()).and_then(|fs| walk(&fs));
        expect_corrupt(r, &format!("truncated to {keep}"));
    }
    // Cut anywhere: an error or (when all that is used was kept) a full
    // walk, never a panic.
    for keep in (0..full.len()).step_by(97 * 1024) {
        let _ = open_bytes(full[..keep].to_vec()).and_then(|fs| walk(&fs));
    }
}

#[test]
fn hostile_block_past_the_end_and_huge_extent() {
    let (_t, img) = small_image(&["-t", "ext4", "-b", "4096"]);
    let ino = ino_of(&img, "big.bin");
    let at = inode_offset(&img, ino, 4096);
    // i_block: extent header (12 bytes), then the first extent:
    // ee_block u32, ee_len u16, ee_start_hi u16, ee_start_lo u32.
    let b = corrupt_with(&img, &[(at + 0x28 + 12 + 8, &0xFFFF_FFF0u32.to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    expect_corrupt(fs.read(ino, 0, &mut [0u8; 4096]), "block past the end");
    expect_corrupt(walk(&fs), "walk, block past the end");
    // The longest initialized extent (32768 blocks = 128 MiB) in an 8 MiB image.
    let b = corrupt_with(&img, &[(at + 0x28 + 12 + 4, &32768u16.to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    expect_corrupt(fs.read(ino, 0, &mut [0u8; 4096]), "huge extent");
    // A huge size: reads past the data are holes (zeros), nothing allocated.
    let b = corrupt_with(&img, &[(at + 0x6C, &0x7FFF_FFFFu32.to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    let i = fs.inode(ino).unwrap();
    assert!(i.size > 1 << 60);
    let mut buf = [1u8; 4096];
    assert_eq!(fs.read(ino, 1 << 59, &mut buf).unwrap(), 4096);
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn hostile_extent_tree_loop() {
    let (_t, img) = small_image(&["-t", "ext4", "-b", "4096"]);
    let ino = ino_of(&img, "fragmented");
    let at = inode_offset(&img, ino, 4096);
    let raw = fs::read(&img).unwrap();
    let hdr = &raw[(at + 0x28) as usize..(at + 0x28 + 12) as usize];
    let depth = u16::from_le_bytes([hdr[6], hdr[7]]);
    assert!(
        depth >= 1,
        "the fragmented file has an index node (depth {depth})"
    );
    {
        // Sanity: the real tree reads back.
        let fs = open_bytes(raw.clone()).unwrap();
        let got = read_all(&fs, ino, 40 * 65536);
        assert_eq!(&got[39 * 65536..39 * 65536 + 4096], &noise(4096, 49)[..]);
    }
    // The leaf the root's first index points to: make it an index node
    // (depth 1) whose first entry points back to the leaf itself.
    let idx = (at + 0x28 + 12) as usize;
    let leaf = u64::from(u32::from_le_bytes(
        raw[idx + 4..idx + 8].try_into().unwrap(),
    )) | (u64::from(u16::from_le_bytes(
        raw[idx + 8..idx + 10].try_into().unwrap(),
    )) << 32);
    let l = leaf * 4096;
    let mut e = Vec::new();
    e.extend_from_slice(&0u32.to_le_bytes());
    e.extend_from_slice(&(leaf as u32).to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    let b = corrupt_with(&img, &[(l + 6, &depth.to_le_bytes()), (l + 12, &e)]);
    let fs = open_bytes(b).unwrap();
    expect_corrupt(fs.read(ino, 0, &mut [0u8; 4096]), "extent loop");
    // Entry count larger than the node holds.
    let b = corrupt_with(&img, &[(l + 2, &1000u16.to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    expect_corrupt(fs.read(ino, 0, &mut [0u8; 4096]), "entry count");
}

#[test]
fn hostile_directories() {
    let (_t, img) = small_image(&["-t", "ext2", "-b", "1024"]);
    let ino = ino_of(&img, "d");
    let at = inode_offset(&img, ino, 1024);
    let raw = fs::read(&img).unwrap();
    let first = u64::from(u32::from_le_bytes(
        raw[(at + 0x28) as usize..(at + 0x2C) as usize]
            .try_into()
            .unwrap(),
    ));
    // A record length of 0 in the directory's first block.
    let b = corrupt_with(&img, &[(first * 1024 + 4, &0u16.to_le_bytes())]);
    expect_corrupt(open_bytes(b).unwrap().read_dir(ino), "rec_len 0");
    // A directory whose second block is its first (a block listed twice)
    // still ends: it is bounded by its size.
    let b = corrupt_with(&img, &[(at + 0x2C, &(first as u32).to_le_bytes())]);
    let _ = open_bytes(b).unwrap().read_dir(ino);
    // A directory claiming more bytes than the image holds.
    let b = corrupt_with(
        &img,
        &[
            (at + 0x4, &u32::MAX.to_le_bytes()),
            (at + 0x6C, &u32::MAX.to_le_bytes()),
        ],
    );
    expect_corrupt(open_bytes(b).unwrap().read_dir(ino), "huge directory");
    // An indirect block pointer past the end (big.bin has 195 blocks).
    let big = inode_offset(&img, ino_of(&img, "big.bin"), 1024);
    let b = corrupt_with(
        &img,
        &[(big + 0x28 + 12 * 4, &0x7FFF_FFFFu32.to_le_bytes())],
    );
    let fs = open_bytes(b).unwrap();
    expect_corrupt(walk(&fs), "indirect pointer past the end");
    // An entry naming a directory's ancestor (a tree loop): the reader
    // returns it; a walker that remembers directories ends.
    let e_ino = ino_of(&img, "d/e");
    let e_at = inode_offset(&img, e_ino, 1024);
    let e_blk = u64::from(u32::from_le_bytes(
        raw[(e_at + 0x28) as usize..(e_at + 0x2C) as usize]
            .try_into()
            .unwrap(),
    ));
    // ".." of d/e sits at offset 12; make "." (offset 0) name the root.
    let b = corrupt_with(&img, &[(e_blk * 1024 + 8, b"x")]);
    let fs = open_bytes(b).unwrap();
    assert!(
        fs.read_dir(e_ino)
            .unwrap()
            .iter()
            .any(|e| e.name == b"x" && e.ino == e_ino)
    );
    assert!(walk(&fs).unwrap() > 300);
    // An inode number past the inode count.
    let b = corrupt_with(&img, &[(first * 1024 + 24, &u32::MAX.to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    expect_corrupt(walk(&fs), "inode number out of range");
}

#[test]
fn hostile_directory_size_past_its_extents() {
    // A directory whose size runs past its last extent: the rest is one
    // hole (to the end of the logical range), skipped, not iterated.
    let (_t, img) = small_image(&["-t", "ext4", "-b", "4096"]);
    let ino = ino_of(&img, "d");
    let at = inode_offset(&img, ino, 4096);
    let want = open_bytes(fs::read(&img).unwrap())
        .unwrap()
        .read_dir(ino)
        .unwrap();
    assert_eq!(want.len(), 301);
    let b = corrupt_with(&img, &[(at + 0x4, &(4u32 << 20).to_le_bytes())]);
    let fs = open_bytes(b).unwrap();
    assert_eq!(fs.read_dir(ino).unwrap(), want);
}

#[test]
fn mutated_images_never_panic() {
    // Small real images (as the fuzz seeds), bytes flipped at random in
    // their metadata: every outcome is a value or an ImageError.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("dir/sub")).unwrap();
    fs::write(src.join("file"), b"hello\n").unwrap();
    fs::write(src.join("dir/blocks"), noise(20_000, 5)).unwrap();
    std::os::unix::fs::symlink("file", src.join("link")).unwrap();
    std::os::unix::fs::symlink("x".repeat(100), src.join("slow")).unwrap();
    fs::hard_link(src.join("file"), src.join("dir/hardlink")).unwrap();
    run(Command::new("setcap")
        .arg("cap_net_raw+ep")
        .arg(src.join("dir/blocks")));
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for args in [
        &["-t", "ext2", "-b", "1024"][..],
        &["-t", "ext4", "-b", "1024", "-O", "^has_journal"],
        &[
            "-t",
            "ext4",
            "-b",
            "1024",
            "-O",
            "^has_journal,inline_data",
            "-I",
            "256",
        ],
    ] {
        let img = tmp.path().join("img");
        run(Command::new("mke2fs")
            .args(["-q", "-F", "-N", "32"])
            .args(args)
            .arg("-d")
            .arg(&src)
            .arg(&img)
            .arg("128K"));
        let good = fs::read(&img).unwrap();
        assert!(walk(&open_bytes(good.clone()).unwrap()).unwrap() >= 7);
        let mut errors = 0;
        for _ in 0..6000 {
            let mut b = good.clone();
            for _ in 0..1 + next() % 8 {
                // Metadata lives in the first 40 KiB of these images.
                let at = (next() % 40_960) as usize;
                b[at] = next() as u8;
            }
            if open_bytes(b).and_then(|fs| walk(&fs)).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 0, "no mutation was noticed ({args:?})");
    }
}

#[test]
fn short_slow_symlink_is_read_from_its_block() {
    // A block-mapped symlink whose target is under 60 bytes (debugfs's
    // set_inode_field shortens a slow one): it is slow because it has a
    // data block, not because of its size.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    let target = format!("{}/end", "y".repeat(100));
    std::os::unix::fs::symlink(&target, src.join("slow")).unwrap();
    let img = tmp.path().join("img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "1024", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("1M"));
    let ino = ino_of(&img, "slow");
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("sif <{ino}> size 10"))
        .arg(&img));
    let fs = open_bytes(fs::read(&img).unwrap()).unwrap();
    assert_eq!(fs.read_link(ino).unwrap(), target.as_bytes()[..10].to_vec());
}
