//! The XFS v5 reader against the real tool: a source tree is written with
//! std, made into an image by `mkfs.xfs -p PROTOFILE` (xfsprogs), and what
//! a protofile cannot say (hard links, xattrs and file capabilities, sparse
//! and fragmented files, remote symlinks, names with spaces and newlines, the sticky bit) is
//! copied in with `cp -a` through a loop mount in a private mount namespace
//! (`unshare -m`: root, as the suite's other namespace tests). The oracle is the source tree read with std
//! (and `getfattr` for attributes); every entry's kind, mode, owner, size,
//! nlink, device numbers, link target, content (SHA-256) and xattrs must be
//! equal. Then the image is corrupted byte-wise: each must be a clean
//! `ImageError`.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{FileExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_image::ImageError;
use bakeproof_image::block::FileSource;
use bakeproof_image::fs::{FsReader, Ino, Kind};
use bakeproof_image::xfs::Xfs;
use sha2::{Digest as _, Sha256};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "command -v {tool} || test -x /usr/sbin/{tool} || test -x /sbin/{tool}"
        ))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Deterministic pseudo-random bytes.
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

fn write(path: &Path, data: &[u8], mode: u32, uid: u32, gid: u32) {
    fs::write(path, data).unwrap();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The part of the source a protofile can express.
fn build_proto_part(src: &Path) {
    fs::create_dir_all(src.join("dir/nested/deeper")).unwrap();
    write(
        &src.join("dir/nested/deeper/leaf.txt"),
        b"deep\n",
        0o644,
        0,
        0,
    );
    fs::create_dir(src.join("private")).unwrap();
    std::os::unix::fs::chown(src.join("private"), Some(33), Some(33)).unwrap();
    fs::set_permissions(src.join("private"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::create_dir(src.join("many")).unwrap();
    for i in 0..3000u32 {
        write(
            &src.join(format!("many/entry-{i:05}-with-a-longer-name")),
            format!("{i}\n").as_bytes(),
            0o644,
            i % 7,
            i % 5,
        );
    }
    write(
        &src.join(OsStr::from_bytes(&[b'a'; 255])),
        b"long name",
        0o600,
        1,
        2,
    );
    write(
        &src.join(OsStr::from_bytes(b"caf\xe9-\xff\xfe")),
        b"latin-1",
        0o644,
        0,
        0,
    );
    write(&src.join("empty"), b"", 0o644, 0, 0);
    write(&src.join("small"), b"hello, xfs\n", 0o640, 1000, 100);
    write(&src.join("big"), &noise(5 << 20, 1), 0o755, 0, 0);
    write(&src.join("setuid"), b"#!/bin/sh\n", 0o4755, 0, 0);
    write(&src.join("setgid"), b"#!/bin/sh\n", 0o2711, 0, 50);
    std::os::unix::fs::symlink("dir/nested", src.join("fast-link")).unwrap();
    run(Command::new("mkfifo").arg(src.join("fifo")));
    run(Command::new("mknod")
        .arg(src.join("null"))
        .args(["c", "1", "3"]));
    run(Command::new("mknod")
        .arg(src.join("disk"))
        .args(["b", "259", "70000"]));
}

/// What needs a mounted filesystem to be put in.
fn build_extras(extras: &Path) {
    fs::create_dir(extras).unwrap();
    write(&extras.join("hard-a"), b"linked twice\n", 0o644, 0, 0);
    fs::hard_link(extras.join("hard-a"), extras.join("hard-b")).unwrap();
    // Sparse: data, a hole in the middle, data, a hole at the end.
    let sparse = extras.join("sparse");
    let f = fs::File::create(&sparse).unwrap();
    f.write_all_at(&noise(65536, 2), 0).unwrap();
    f.write_all_at(&noise(65536, 3), 4 << 20).unwrap();
    f.set_len(9 << 20).unwrap();
    drop(f);
    // Fragmented: one block in two, 600 extents (a B+tree extent map).
    let frag = extras.join("fragmented");
    let f = fs::File::create(&frag).unwrap();
    for i in 0..600u64 {
        f.write_all_at(&noise(4096, 10 + i), i * 8192).unwrap();
    }
    drop(f);
    write(&extras.join("ping"), b"\x7fELF", 0o755, 0, 0);
    run(Command::new("setcap")
        .arg("cap_net_raw+ep")
        .arg(extras.join("ping")));
    let attrs = extras.join("many-attrs");
    write(&attrs, b"x", 0o644, 0, 0);
    for i in 0..40 {
        run(Command::new("setfattr")
            .args(["-n", &format!("user.attr{i:02}"), "-v"])
            .arg(format!("value-{i}-{}", "v".repeat(60)))
            .arg(&attrs));
    }
    let remote = extras.join("remote-attr");
    write(&remote, b"y", 0o644, 0, 0);
    run(Command::new("setfattr")
        .args(["-n", "user.big", "-v"])
        .arg(format!("0x{}", hex::encode(noise(3500, 4))))
        .arg(&remote));
    // A slow (remote) symlink: through the mount, since mkfs.xfs 6.1 writes
    // a protofile's remote symlink blocks without their v5 header (the
    // kernel and xfs_repair reject them, as this reader does).
    let slow: String = (0..100).map(|i| format!("seg{i:03}x/")).collect();
    std::os::unix::fs::symlink(&slow, extras.join("slow-link")).unwrap();
    write(&extras.join("with space"), b"space", 0o644, 0, 0);
    write(&extras.join("new\nline"), b"newline", 0o644, 0, 0);
    fs::create_dir(extras.join("sticky")).unwrap();
    fs::set_permissions(extras.join("sticky"), fs::Permissions::from_mode(0o1777)).unwrap();
}

fn proto_mode(meta: &fs::Metadata) -> String {
    let ft = meta.file_type();
    let t = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else if ft.is_file() {
        '-'
    } else {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            'p'
        } else if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else {
            panic!("no protofile type for {ft:?}")
        }
    };
    let m = meta.mode();
    assert_eq!(m & 0o1000, 0, "a protofile cannot say the sticky bit");
    format!(
        "{t}{}{}{:03o} {} {}",
        if m & 0o4000 != 0 { 'u' } else { '-' },
        if m & 0o2000 != 0 { 'g' } else { '-' },
        m & 0o777,
        meta.uid(),
        meta.gid()
    )
}

fn dev_split(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort_by(|a, b| {
        a.file_name()
            .unwrap()
            .as_bytes()
            .cmp(b.file_name().unwrap().as_bytes())
    });
    v
}

fn write_proto(out: &mut Vec<u8>, dir: &Path, skip: &Path) {
    for p in sorted_dir(dir) {
        if p == skip {
            continue;
        }
        let meta = fs::symlink_metadata(&p).unwrap();
        out.extend_from_slice(p.file_name().unwrap().as_bytes());
        out.push(b' ');
        out.extend_from_slice(proto_mode(&meta).as_bytes());
        let ft = meta.file_type();
        if ft.is_file() {
            out.push(b' ');
            out.extend_from_slice(p.as_os_str().as_bytes());
        } else if ft.is_symlink() {
            out.push(b' ');
            out.extend_from_slice(fs::read_link(&p).unwrap().as_os_str().as_bytes());
        } else if meta.rdev() != 0 {
            let (ma, mi) = dev_split(meta.rdev());
            out.extend_from_slice(format!(" {ma} {mi}").as_bytes());
        }
        out.push(b'\n');
        if ft.is_dir() {
            write_proto(out, &p, skip);
            out.extend_from_slice(b"$\n");
        }
    }
}

/// `getfattr -R -d -m - -e hex` of the source: path -> sorted attributes.
/// Path -> its attributes (name, value), sorted.
type Attrs = BTreeMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>;

fn source_xattrs(src: &Path) -> Attrs {
    let out = Command::new("getfattr")
        .args([
            "-R",
            "-P",
            "-h",
            "-d",
            "-m",
            "-",
            "-e",
            "hex",
            "--absolute-names",
        ])
        .arg(src)
        .output()
        .expect("getfattr (attr)");
    let mut map: Attrs = BTreeMap::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in out.stdout.split(|&c| c == b'\n') {
        if let Some(p) = line.strip_prefix(b"# file: ") {
            cur = Some(unescape(p));
        } else if let (Some(c), Some(eq)) = (&cur, line.iter().position(|&c| c == b'=')) {
            let name = unescape(&line[..eq]);
            let v = &line[eq + 1..];
            let value = hex::decode(v.strip_prefix(b"0x").expect("hex value")).unwrap();
            map.entry(c.clone()).or_default().push((name, value));
        }
    }
    for v in map.values_mut() {
        v.sort();
    }
    map
}

/// getfattr's octal escapes (`\012`).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && i + 3 < s.len()
            && s[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push(((s[i + 1] - b'0') << 6) | ((s[i + 2] - b'0') << 3) | (s[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn content_digest(fs: &dyn FsReader, ino: Ino, size: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let n = fs.read(ino, off, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        off += n as u64;
    }
    assert_eq!(off, size);
    hex::encode(h.finalize())
}

struct Walk<'a> {
    fs: &'a dyn FsReader,
    xattrs: Attrs,
    checked: usize,
}

impl Walk<'_> {
    fn compare(&mut self, path: &Path, ino: Ino) {
        let meta = fs::symlink_metadata(path).unwrap();
        let got = self.fs.inode(ino).unwrap();
        let kind = bakeproof_image::fs::kind_from_mode(meta.mode()).expect("a file type");
        let at = path.display();
        assert_eq!(got.kind, kind, "{at}");
        assert_eq!(got.perm, meta.mode() & 0o7777, "{at}");
        assert_eq!((got.uid, got.gid), (meta.uid(), meta.gid()), "{at}");
        assert_eq!(u64::from(got.nlink), meta.nlink(), "{at}");
        let want_attrs = self
            .xattrs
            .get(path.as_os_str().as_bytes())
            .cloned()
            .unwrap_or_default();
        let got_attrs: Vec<(Vec<u8>, String)> = self
            .fs
            .xattrs(ino)
            .unwrap()
            .into_iter()
            .map(|x| (x.name, hex::encode(Sha256::digest(x.value))))
            .collect();
        let want_attrs: Vec<(Vec<u8>, String)> = want_attrs
            .into_iter()
            .map(|(n, v)| (n, hex::encode(Sha256::digest(v))))
            .collect();
        assert_eq!(got_attrs, want_attrs, "{at}: xattrs");
        self.checked += 1;
        match kind {
            Kind::Regular => {
                assert_eq!(got.size, meta.len(), "{at}");
                let want = hex::encode(Sha256::digest(fs::read(path).unwrap()));
                assert_eq!(content_digest(self.fs, ino, got.size), want, "{at}");
            }
            Kind::Symlink => {
                let target = fs::read_link(path).unwrap();
                assert_eq!(
                    self.fs.read_link(ino).unwrap(),
                    target.as_os_str().as_bytes(),
                    "{at}"
                );
                assert_eq!(got.size, meta.len(), "{at}");
            }
            Kind::CharDevice | Kind::BlockDevice => {
                assert_eq!(got.rdev, Some(dev_split(meta.rdev())), "{at}");
            }
            Kind::Directory => {
                let want: Vec<Vec<u8>> = sorted_dir(path)
                    .iter()
                    .map(|p| p.file_name().unwrap().as_bytes().to_vec())
                    .collect();
                let entries = self.fs.read_dir(ino).unwrap();
                let names: Vec<Vec<u8>> = entries.iter().map(|e| e.name.clone()).collect();
                assert_eq!(names, want, "{at}: entries");
                for e in entries {
                    self.compare(&path.join(OsStr::from_bytes(&e.name)), e.ino);
                }
            }
            _ => {}
        }
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    image: PathBuf,
}

fn fixture() -> Fixture {
    assert!(
        have("mkfs.xfs"),
        "mkfs.xfs (xfsprogs) is needed: tests/run-all.sh installs it"
    );
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o755)).unwrap();
    build_proto_part(&src);
    let extras = src.join("extras");
    build_extras(&extras);
    let root = fs::symlink_metadata(&src).unwrap();
    let mut proto = format!("/dev/null\n0 0\n{}\n", proto_mode(&root)).into_bytes();
    write_proto(&mut proto, &src, &extras);
    proto.extend_from_slice(b"$\n");
    let proto_path = tmp.path().join("proto");
    fs::File::create(&proto_path)
        .unwrap()
        .write_all(&proto)
        .unwrap();
    let image = tmp.path().join("xfs.img");
    fs::File::create(&image)
        .unwrap()
        .set_len(320 << 20)
        .unwrap();
    let mkfs = if Path::new("/usr/sbin/mkfs.xfs").exists() {
        "/usr/sbin/mkfs.xfs"
    } else {
        "mkfs.xfs"
    };
    run(Command::new(mkfs)
        .args(["-q", "-L", "bp-test", "-p"])
        .arg(&proto_path)
        .arg(&image));
    // What the protofile cannot say, through a private loop mount.
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let script =
        r#"set -e; mount -o loop "$1" "$2"; cp -a --sparse=always "$3" "$2/"; umount "$2""#;
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&image)
        .arg(&mnt)
        .arg(&extras)
        .output()
        .expect("unshare (util-linux)");
    assert!(
        out.status.success(),
        "loop-mounting the image in a private mount namespace (root, a loop device and the \
         kernel's xfs driver, for the test only) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Fixture {
        _tmp: tmp,
        src,
        image,
    }
}

fn find(fs: &dyn FsReader, path: &[&str]) -> Ino {
    let mut ino = fs.root();
    for part in path {
        ino = fs
            .read_dir(ino)
            .unwrap()
            .into_iter()
            .find(|e| e.name == part.as_bytes())
            .unwrap_or_else(|| panic!("{part} not found"))
            .ino;
    }
    ino
}

/// A copy of the image with `patch` applied.
fn patched(fx: &Fixture, name: &str, patch: impl FnOnce(&fs::File)) -> PathBuf {
    let copy = fx.image.with_file_name(name);
    run(Command::new("cp")
        .arg("--sparse=always")
        .arg(&fx.image)
        .arg(&copy));
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&copy)
        .unwrap();
    patch(&f);
    copy
}

fn expect_corrupt<T>(r: Result<T, ImageError>, what: &str) {
    match r {
        Err(ImageError::Corrupt { .. }) => {}
        Err(e) => panic!("{what}: {e} (a Corrupt error expected)"),
        Ok(_) => panic!("{what}: read without an error"),
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |a, &c| (a << 8) | u64::from(c))
}

/// The byte offset of the first leaf of the B+tree extent map rooted in
/// the inode at `inode_at` (a level-1 tree), read from the image itself.
fn bmbt_first_leaf(f: &fs::File, inode_at: u64) -> u64 {
    let mut sb = [0u8; 256];
    f.read_exact_at(&mut sb, 0).unwrap();
    let (bs, agblocks, isize, agblklog) =
        (be(&sb[4..8]), be(&sb[84..88]), be(&sb[104..106]), sb[124]);
    let mut ino = vec![0u8; isize as usize];
    f.read_exact_at(&mut ino, inode_at).unwrap();
    assert_eq!(ino[5], 3, "data fork in B+tree format");
    let fork = if ino[82] == 0 {
        ino.len() - 176
    } else {
        usize::from(ino[82]) * 8
    };
    let root = &ino[176..176 + fork];
    assert_eq!(be(&root[0..2]), 1, "a level-1 B+tree");
    let maxrecs = (fork - 4) / 16;
    let ptr = be(&root[4 + maxrecs * 8..12 + maxrecs * 8]);
    let (agno, agbno) = (ptr >> agblklog, ptr & ((1 << agblklog) - 1));
    (agno * agblocks + agbno) * bs
}

/// Walks everything, bounded; the first error.
fn walk_all(fs: &dyn FsReader) -> Result<usize, ImageError> {
    let mut seen = HashSet::new();
    let mut stack = vec![fs.root()];
    let mut buf = vec![0u8; 1 << 16];
    while let Some(ino) = stack.pop() {
        if !seen.insert(ino) {
            continue;
        }
        let meta = fs.inode(ino)?;
        fs.xattrs(ino)?;
        match meta.kind {
            Kind::Directory => stack.extend(fs.read_dir(ino)?.into_iter().map(|e| e.ino)),
            Kind::Regular => {
                let mut off = 0;
                loop {
                    let n = fs.read(ino, off, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    off += n as u64;
                }
            }
            Kind::Symlink => {
                fs.read_link(ino)?;
            }
            _ => {}
        }
    }
    Ok(seen.len())
}

#[test]
fn xfs_image_equals_its_source_tree_then_corruptions_fail_cleanly() {
    let fx = fixture();
    let xfs = Xfs::open(FileSource::open(&fx.image).unwrap()).unwrap();
    assert!(xfs.describe().contains("bp-test"), "{}", xfs.describe());
    let mut walk = Walk {
        fs: &xfs,
        xattrs: source_xattrs(&fx.src),
        checked: 0,
    };
    walk.compare(&fx.src, xfs.root());
    assert!(walk.checked > 3000, "{} entries compared", walk.checked);
    {
        let ping = walk.xattrs[fx.src.join("extras/ping").as_os_str().as_bytes()].clone();
        assert_eq!(ping[0].0, b"security.capability");
        // VFS_CAP_REVISION_2 with the effective flag (le32 0x02000001),
        // cap_net_raw (13) permitted.
        assert_eq!(ping[0].1[0..4], [1, 0, 0, 2]);
        assert_eq!(ping[0].1[5] & (1 << 5), 1 << 5);
    }

    // Hostile images.
    let open = |p: &Path| Xfs::open(FileSource::open(p).unwrap());
    let bad_magic = patched(&fx, "bad-magic.img", |f| {
        f.write_all_at(b"XFSC", 0).unwrap()
    });
    assert!(matches!(open(&bad_magic), Err(ImageError::Corrupt { .. })));
    let v4 = patched(&fx, "v4.img", |f| {
        let mut v = [0u8; 2];
        f.read_exact_at(&mut v, 100).unwrap();
        v[1] = (v[1] & 0xf0) | 4;
        f.write_all_at(&v, 100).unwrap();
    });
    assert!(
        matches!(open(&v4), Err(ImageError::Unsupported(_))),
        "{:?}",
        open(&v4).err()
    );
    let bad_geometry = patched(&fx, "geometry.img", |f| {
        f.write_all_at(&[0, 0, 0, 0], 88).unwrap()
    });
    assert!(matches!(
        open(&bad_geometry),
        Err(ImageError::Corrupt { .. })
    ));
    // Truncated: the superblock is there, most of the rest is not.
    let truncated = patched(&fx, "truncated.img", |f| f.set_len(8 << 20).unwrap());
    let t = open(&truncated).unwrap();
    assert!(walk_all(&t).is_err());

    let big = find(&xfs, &["big"]);
    let big_at = xfs.inode_offset(big).unwrap();
    // The first extent record of `big`: its start block past the end.
    let past_end = patched(&fx, "past-end.img", |f| {
        let mut rec = [0u8; 16];
        f.read_exact_at(&mut rec, big_at + 176).unwrap();
        rec[7] |= 0x01;
        rec[8] = 0xff;
        f.write_all_at(&rec, big_at + 176).unwrap();
    });
    let p = open(&past_end).unwrap();
    expect_corrupt(p.read(big, 0, &mut [0u8; 4096]), "a block past the end");
    // A huge extent length (2^21 - 1 blocks).
    let huge = patched(&fx, "huge-extent.img", |f| {
        let mut rec = [0u8; 16];
        f.read_exact_at(&mut rec, big_at + 176).unwrap();
        rec[13] |= 0x1f;
        rec[14] = 0xff;
        rec[15] = 0xff;
        f.write_all_at(&rec, big_at + 176).unwrap();
    });
    let h = open(&huge).unwrap();
    assert!(h.read(big, 0, &mut [0u8; 4096]).is_err());
    assert!(walk_all(&h).is_err());

    // The directory of 3000 entries (mkfs.xfs writes it in many extents,
    // a B+tree extent map): the second record of its first leaf made to
    // map the first record's file blocks again (a directory block reached
    // twice).
    let many = find(&xfs, &["many"]);
    let many_at = xfs.inode_offset(many).unwrap();
    let again = patched(&fx, "dir-again.img", |f| {
        let leaf = bmbt_first_leaf(f, many_at);
        let mut recs = [0u8; 32];
        f.read_exact_at(&mut recs, leaf + 72).unwrap();
        let l0a = u64::from_be_bytes(recs[..8].try_into().unwrap());
        let l0b = u64::from_be_bytes(recs[16..24].try_into().unwrap());
        recs[16..24].copy_from_slice(&((l0a & !0x1ff) | (l0b & 0x1ff)).to_be_bytes());
        f.write_all_at(&recs, leaf + 72).unwrap();
    });
    let d = open(&again).unwrap();
    expect_corrupt(d.read_dir(many), "a directory block mapped twice");
    // A directory entry naming an inode outside the filesystem.
    let nested = find(&xfs, &["dir", "nested"]);
    let nested_at = xfs.inode_offset(nested).unwrap();
    let bad_entry = patched(&fx, "bad-entry.img", |f| {
        // Short-form: count, i8count, parent (4), namelen, offset (2),
        // "deeper", ftype, inode (4).
        f.write_all_at(&[0xff, 0xff, 0xff, 0xf0], nested_at + 176 + 6 + 3 + 6 + 1)
            .unwrap();
    });
    let b = open(&bad_entry).unwrap();
    assert!(walk_all(&b).is_err());

    {
        // The fragmented file's B+tree: its root's second pointer made
        // equal to its first (a loop in the block map).
        let frag = find(&xfs, &["extras", "fragmented"]);
        assert!(content_digest(&xfs, frag, 600 * 8192 - 4096).len() == 64);
        let frag_at = xfs.inode_offset(frag).unwrap();
        let looped = patched(&fx, "bmbt-loop.img", |f| {
            let mut root = vec![0u8; 512 - 176];
            f.read_exact_at(&mut root, frag_at + 176).unwrap();
            let forkoff = {
                let mut b = [0u8; 1];
                f.read_exact_at(&mut b, frag_at + 82).unwrap();
                usize::from(b[0]) * 8
            };
            let fork = if forkoff == 0 { root.len() } else { forkoff };
            let maxrecs = (fork - 4) / 16;
            let numrecs = u16::from_be_bytes([root[2], root[3]]) as usize;
            assert!(numrecs >= 2, "B+tree root with {numrecs} records");
            let p0 = 4 + maxrecs * 8;
            let first: [u8; 8] = root[p0..p0 + 8].try_into().unwrap();
            root[p0 + 8..p0 + 16].copy_from_slice(&first);
            f.write_all_at(&root, frag_at + 176).unwrap();
        });
        let l = open(&looped).unwrap();
        expect_corrupt(l.read(frag, 0, &mut [0u8; 4096]), "a loop in the B+tree");
    }
}
