//! Other volumes mounted into the root's tree where its `/etc/fstab` says
//! (`open::mount_volumes`, `ImageTree::mount`): a root, a `/data`, a
//! `/var` and a `/var/log` filesystem made by `mke2fs -d` (ext4, `-U`,
//! `-L`) and `mkfs.xfs -p` (XFS, `-m uuid=`, `-L`) from directories; the
//! composed tree's walk, entries and tree digest against bakeproof's
//! directory walk of one directory assembled from the same directories
//! (`cp -a`); `..` and symlinks across mount points; what fstab names and
//! no volume has. The fstab parser against util-linux's own
//! (`findmnt --fstab --tab-file F -J`).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use bakeproof_image::block::{FileSource, SharedSource};
use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::FsReader;
use bakeproof_image::fstab;
use bakeproof_image::open::{Volume, mount_volumes};
use bakeproof_image::tree::ImageTree;
use bakeproof_index::{Entry, FileKind, ReadOnlyTree, Root, ScanOptions, canonical_line};

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

const DATA_UUID: &str = "0d1e2f30-4152-6374-8596-a7b8c9dae0f1";
const LOG_UUID: &str = "11111111-2222-4333-8444-555555555555";
const ROOT_UUID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SPARE_UUID: &str = "99999999-8888-4777-8666-555555555555";
const MISSING_UUID: &str = "deadbeef-0000-4000-8000-000000000000";

fn write(p: &Path, data: &[u8], mode: u32) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn mkdir(p: &Path, mode: u32) {
    fs::create_dir_all(p).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn fstab_text() -> String {
    // /var/log before /var: mounted parents first whatever the order.
    format!(
        "# /etc/fstab of the test image\n\
         UUID={ROOT_UUID} / ext4 defaults 0 1\n\
         UUID={} /var/log xfs defaults,nofail 0 2\n\
         \tLABEL=var\\040fs   /var ext4 defaults 0 2\n\
         UUID={DATA_UUID} /data ext4 defaults 0 2\n\
         /dev/xvdf none swap sw 0 0\n\
         LABEL=backup /backup ext4 defaults,noauto 0 0\n\
         UUID={MISSING_UUID} /missing ext4 defaults,nofail 0 2\n\
         /dev/nvme2n1 /scratch ext4 defaults,nofail 0 2\n\
         proc /proc proc defaults 0 0\n\
         tmpfs /tmp tmpfs defaults 0 0\n",
        LOG_UUID.to_uppercase()
    )
}

/// The four source directories.
fn sources(tmp: &Path) {
    let root = tmp.join("root");
    mkdir(&root, 0o755);
    write(&root.join("etc/fstab"), fstab_text().as_bytes(), 0o644);
    write(&root.join("etc/os-release"), b"ID=test\n", 0o644);
    write(&root.join("etc/hostname"), b"root\n", 0o644);
    // Mount points: different modes from the mounted roots, so that the
    // entry shown is provably the mounted root's.
    mkdir(&root.join("data"), 0o755);
    mkdir(&root.join("var"), 0o755);
    mkdir(&root.join("missing"), 0o755);
    // Hidden by the /data mount, as a kernel mount hides it.
    write(
        &root.join("data/hidden-by-mount"),
        b"under the mount\n",
        0o644,
    );
    // An absolute link into a mounted filesystem.
    std::os::unix::fs::symlink("/data/file", root.join("link-abs")).unwrap();
    std::os::unix::fs::symlink("var/log/app.log", root.join("link-rel")).unwrap();

    let data = tmp.join("data");
    mkdir(&data, 0o750);
    write(&data.join("file"), b"data file\n", 0o640);
    write(&data.join("big"), &vec![7u8; 600 << 10], 0o644);
    fs::hard_link(data.join("file"), data.join("file-hardlink")).unwrap();
    // Relative, out of the mounted filesystem through its root's `..`.
    std::os::unix::fs::symlink("../etc/hostname", data.join("up")).unwrap();

    let var = tmp.join("var");
    mkdir(&var, 0o711);
    mkdir(&var.join("log"), 0o755);
    write(&var.join("lib/state"), b"state\n", 0o600);
    write(&var.join("log/hidden"), b"under /var/log's mount\n", 0o644);

    let log = tmp.join("log");
    mkdir(&log, 0o775);
    write(&log.join("app.log"), b"log line\n", 0o644);
    mkdir(&log.join("sub"), 0o700);
    std::os::unix::fs::symlink("../lib/state", log.join("state-link")).unwrap();
    std::os::unix::fs::symlink("../../../etc/hostname", log.join("sub/host")).unwrap();
    // A name equal to a mount point's parent's entry: no confusion.
    write(&log.join("data"), b"not the /data mount\n", 0o644);

    let spare = tmp.join("spare");
    mkdir(&spare, 0o755);
    write(&spare.join("unnamed"), b"no fstab entry names me\n", 0o644);
}

fn mke2fs(src: &Path, out: &Path, uuid: &str, label: &str) {
    let mut c = Command::new("mke2fs");
    c.args(["-q", "-F", "-t", "ext4", "-U", uuid]);
    if !label.is_empty() {
        c.args(["-L", label]);
    }
    run(c.arg("-d").arg(src).arg(out).arg("32M"));
    // mke2fs -d gives the root directory its own default mode, not the
    // source's: set it as the source has it.
    let mode = fs::metadata(src).unwrap().mode();
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("sif / mode 0{mode:o}"))
        .arg(out));
}

fn proto_mode(meta: &fs::Metadata) -> String {
    let ft = meta.file_type();
    let t = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else {
        '-'
    };
    format!(
        "{t}--{:03o} {} {}",
        meta.mode() & 0o777,
        meta.uid(),
        meta.gid()
    )
}

fn write_proto(out: &mut Vec<u8>, dir: &Path) {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        use std::os::unix::ffi::OsStrExt as _;
        let meta = fs::symlink_metadata(&p).unwrap();
        out.extend_from_slice(p.file_name().unwrap().as_bytes());
        out.push(b' ');
        out.extend_from_slice(proto_mode(&meta).as_bytes());
        if meta.is_file() {
            out.push(b' ');
            out.extend_from_slice(p.as_os_str().as_bytes());
        } else if meta.file_type().is_symlink() {
            out.push(b' ');
            out.extend_from_slice(fs::read_link(&p).unwrap().as_os_str().as_bytes());
        }
        out.push(b'\n');
        if meta.is_dir() {
            write_proto(out, &p);
            out.extend_from_slice(b"$\n");
        }
    }
}

fn mkfs_xfs(src: &Path, out: &Path, uuid: &str, label: &str) {
    let root = fs::symlink_metadata(src).unwrap();
    let mut proto = format!("/dev/null\n0 0\n{}\n", proto_mode(&root)).into_bytes();
    write_proto(&mut proto, src);
    proto.extend_from_slice(b"$\n");
    let pf = out.with_extension("proto");
    fs::File::create(&pf).unwrap().write_all(&proto).unwrap();
    fs::File::create(out).unwrap().set_len(320 << 20).unwrap();
    let mkfs = if Path::new("/usr/sbin/mkfs.xfs").exists() {
        "/usr/sbin/mkfs.xfs"
    } else {
        "mkfs.xfs"
    };
    run(Command::new(mkfs)
        .args(["-q", "-m", &format!("uuid={uuid}"), "-L", label, "-p"])
        .arg(&pf)
        .arg(out));
}

fn src(p: &Path) -> SharedSource {
    Arc::new(FileSource::open(p).unwrap())
}

fn ext4(p: &Path) -> Arc<dyn FsReader> {
    Arc::new(Ext4::open(src(p)).unwrap())
}

/// One directory with the content the booted instance sees: the root,
/// each filesystem copied over its mount point (`cp -a SRC/. DST`, which
/// also gives the mount point the mounted root's mode and owner), and the
/// empty `lost+found` mke2fs makes in each ext4 filesystem (mode 0700,
/// root's: the mode `debugfs -R "stat /lost+found"` shows on these images
/// is checked below).
fn assembled(tmp: &Path) -> std::path::PathBuf {
    let all = tmp.join("assembled");
    run(Command::new("cp").arg("-a").arg(tmp.join("root")).arg(&all));
    fs::remove_file(all.join("data/hidden-by-mount")).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(tmp.join("data/."))
        .arg(all.join("data")));
    run(Command::new("cp")
        .arg("-a")
        .arg(tmp.join("var/."))
        .arg(all.join("var")));
    fs::remove_file(all.join("var/log/hidden")).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(tmp.join("log/."))
        .arg(all.join("var/log")));
    for d in ["data/lost+found", "var/lost+found"] {
        mkdir(&all.join(d), 0o700);
    }
    all
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    root: std::path::PathBuf,
    data: std::path::PathBuf,
    var: std::path::PathBuf,
    log: std::path::PathBuf,
    spare: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    sources(t);
    let img = |n: &str| t.join(format!("{n}.img"));
    mke2fs(&t.join("root"), &img("root"), ROOT_UUID, "root");
    mke2fs(&t.join("data"), &img("data"), DATA_UUID, "");
    mke2fs(
        &t.join("var"),
        &img("var"),
        "22222222-3333-4444-8555-666666666666",
        "var fs",
    );
    mkfs_xfs(&t.join("log"), &img("log"), LOG_UUID, "logs");
    mke2fs(&t.join("spare"), &img("spare"), SPARE_UUID, "spare");
    let dir = assembled(t);
    Fixture {
        dir,
        root: img("root"),
        data: img("data"),
        var: img("var"),
        log: img("log"),
        spare: img("spare"),
        _tmp: tmp,
    }
}

fn volume(device: &str, p: &Path) -> Volume {
    Volume {
        device: device.into(),
        label: format!("{device} ({})", p.file_name().unwrap().to_string_lossy()),
        source: src(p),
    }
}

fn lines(entries: &[Entry]) -> BTreeMap<Vec<u8>, String> {
    entries
        .iter()
        .map(|e| {
            let mut l = Vec::new();
            canonical_line(&mut l, e);
            (e.path.clone(), String::from_utf8_lossy(&l).into_owned())
        })
        .collect()
}

#[test]
fn volumes_mount_where_fstab_says_and_the_tree_is_the_assembled_directory() {
    let fx = fixture();
    let root = ImageTree::new(ext4(&fx.root), "root.img");
    // Device names as a block device mapping gives them; the order given
    // is not the order mounted.
    let vols = vec![
        volume("/dev/sdd", &fx.log),
        volume("/dev/sdb", &fx.data),
        volume("/dev/xvdc", &fx.var),
        volume("/dev/sde", &fx.spare),
    ];
    let (tree, report) = mount_volumes(root, vols);
    let text = report.lines().join("\n");
    let at: Vec<&str> = report.mounted.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(at, ["/var", "/data", "/var/log"], "{text}");
    assert!(report.mounted[2].1.contains("xfs"), "{text}");
    assert_eq!(report.unmatched.len(), 2, "{text}");
    assert!(report.unmatched[0].contains(MISSING_UUID), "{text}");
    assert!(
        report.unmatched[1].contains("/dev/nvme2n1") && report.unmatched[1].contains("NVMe"),
        "{text}"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.contains("LABEL=backup") && s.contains("noauto")),
        "{text}"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.contains("/dev/xvdf") && s.contains("swap")),
        "{text}"
    );
    assert_eq!(
        report.skipped.len(),
        2,
        "proc and tmpfs are not reported: {text}"
    );
    assert_eq!(report.unnamed.len(), 1, "{text}");
    assert!(report.unnamed[0].contains("/dev/sde"), "{text}");
    let mounts = tree.mounts();
    assert_eq!(mounts.len(), 3);

    // mke2fs's lost+found, as the assembled directory has it.
    for lf in ["data/lost+found", "var/lost+found"] {
        let m = tree.metadata(format!("/{lf}").as_bytes()).unwrap();
        assert_eq!(
            (m.kind, m.mode, m.uid),
            (FileKind::Directory, 0o700, 0),
            "{lf}"
        );
    }

    let dir = Root::open(&fx.dir).unwrap();
    let want = ReadOnlyTree::walk(&dir, &ScanOptions::default()).unwrap();
    let got = tree.walk(&ScanOptions::default()).unwrap();
    let mut w = lines(&want.entries);
    let mut g = lines(&got.entries);
    // The root's own mke2fs /lost+found (the digest leaves it out).
    assert!(g.remove(b"/lost+found".as_slice()).is_some());
    w.remove(b"/lost+found".as_slice());
    for (p, l) in &w {
        assert_eq!(Some(l), g.get(p), "{}", String::from_utf8_lossy(p));
    }
    assert_eq!(
        w.len(),
        g.len(),
        "{:?}",
        g.keys().filter(|k| !w.contains_key(*k)).collect::<Vec<_>>()
    );
    assert_eq!(got.stats.errors, 0);
    assert_eq!(hex::encode(want.tree_digest), hex::encode(got.tree_digest));

    // Each filesystem its own device: the mount point's entry is the
    // mounted root's; hard links share (dev, ino) within one filesystem.
    let by: BTreeMap<&[u8], &Entry> = got.entries.iter().map(|e| (e.path.as_slice(), e)).collect();
    let dev = |p: &str| by[p.as_bytes()].dev;
    assert_eq!(dev("/etc"), 0);
    let (d, v, l) = (dev("/data"), dev("/var"), dev("/var/log"));
    assert!(d != 0 && v != 0 && l != 0 && d != v && v != l && d != l);
    assert_eq!(dev("/data/file"), d);
    assert_eq!(dev("/var/log/sub"), l);
    assert_eq!(dev("/var/lib/state"), v);
    assert_eq!(by[b"/data".as_slice()].ino, 2, "ext4's root inode");
    assert_eq!(by[b"/data".as_slice()].mode, 0o750);
    let (f, h) = (
        by[b"/data/file".as_slice()],
        by[b"/data/file-hardlink".as_slice()],
    );
    assert_eq!((f.dev, f.ino), (h.dev, h.ino));
    assert!(!by.contains_key(b"/data/hidden-by-mount".as_slice()));

    // Resolution across mount points.
    let read = |p: &str| tree.read_file(p.as_bytes(), 1 << 20);
    assert_eq!(read("/link-abs").unwrap(), b"data file\n");
    assert_eq!(read("/link-rel").unwrap(), b"log line\n");
    assert_eq!(read("/data/up").unwrap(), b"root\n");
    assert_eq!(read("/var/log/state-link").unwrap(), b"state\n");
    assert_eq!(read("/var/log/sub/host").unwrap(), b"root\n");
    assert_eq!(read("/data/../etc/hostname").unwrap(), b"root\n");
    assert_eq!(read("/var/log/../lib/state").unwrap(), b"state\n");
    assert_eq!(read("/var/log/data").unwrap(), b"not the /data mount\n");
    assert!(read("/var/log/hidden").unwrap_err().is_not_found());
    for (p, want) in [
        ("/var/log/../lib", "/var/lib"),
        ("/data/..", "/"),
        ("/var/log/sub/host", "/etc/hostname"),
        ("/link-rel", "/var/log/app.log"),
    ] {
        assert_eq!(
            tree.canonicalize(p.as_bytes()).unwrap(),
            want.as_bytes(),
            "{p}"
        );
        assert_eq!(
            dir.canonicalize(p.as_bytes()).unwrap(),
            want.as_bytes(),
            "{p} (directory)"
        );
    }
    let names = tree.read_dir(b"/var/log").unwrap();
    assert_eq!(names, dir.read_dir(b"/var/log").unwrap());
    assert_eq!(tree.metadata(b"/var").unwrap().mode, 0o711);

    // index_paths: the same entries as the walk's.
    let paths: Vec<Vec<u8>> = [
        "/data",
        "/data/file",
        "/var/log/sub/host",
        "/var/log",
        "/nothing",
    ]
    .iter()
    .map(|p| p.as_bytes().to_vec())
    .collect();
    let idx = tree.index_paths(&paths, &ScanOptions::default()).unwrap();
    for e in &idx[..4] {
        let w = by[e.path.as_slice()];
        assert_eq!(
            (e.dev, e.ino, e.sha256, e.mode),
            (w.dev, w.ino, w.sha256, w.mode)
        );
    }
    assert!(idx[4].error.is_some());
}

#[test]
fn a_mount_point_must_be_an_existing_directory() {
    let fx = fixture();
    let mut tree = ImageTree::new(ext4(&fx.root), "root.img");
    let e = tree
        .mount(b"/etc/hostname", ext4(&fx.data), "data")
        .unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
    let e = tree.mount(b"/nope", ext4(&fx.data), "data").unwrap_err();
    assert!(e.to_string().contains("no such directory"), "{e}");
    assert!(tree.mount(b"/", ext4(&fx.data), "data").is_err());
    assert!(tree.mounts().is_empty());
    // A link to a directory is followed, as mount(8) follows it; the mount
    // is at the physical path.
    tree.mount(b"/link-rel/../../../data", ext4(&fx.data), "data")
        .unwrap();
    assert_eq!(tree.mounts()[0].at, b"/data");

    // with_mounts: the first mount point that is not a directory fails.
    let with = ImageTree::with_mounts(
        ext4(&fx.root),
        "root.img",
        vec![(b"/etc/os-release".to_vec(), ext4(&fx.data), "data".into())],
    );
    assert!(with.is_err());
}

/// `findmnt`'s reading of a fstab: (source, target, fstype, options,
/// freq, passno) per entry.
fn findmnt(text: &[u8]) -> Vec<(String, String, String, Option<String>, u64, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fstab");
    fs::write(&f, text).unwrap();
    let out = Command::new("findmnt")
        .args([
            "--fstab",
            "-J",
            "-o",
            "SOURCE,TARGET,FSTYPE,OPTIONS,FREQ,PASSNO",
            "--tab-file",
        ])
        .arg(&f)
        .output()
        .expect("findmnt (util-linux)");
    if out.stdout.is_empty() {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["filesystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (
                s("source"),
                s("target"),
                s("fstype"),
                e["options"].as_str().map(str::to_string),
                e["freq"].as_u64().unwrap_or(0),
                e["passno"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn ours(text: &[u8]) -> Vec<(String, String, String, Option<String>, u64, u64)> {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    fstab::parse(text)
        .entries
        .iter()
        .map(|e| {
            (
                s(&e.source),
                s(&e.target),
                s(&e.fstype),
                e.options.as_deref().map(s),
                u64::from(e.freq),
                u64::from(e.passno),
            )
        })
        .collect()
}

#[test]
fn fstab_parses_as_util_linux_parses_it() {
    let cases: Vec<Vec<u8>> = vec![
        fstab_text().into_bytes(),
        b"UUID=ABCD-1234 /boot/efi vfat umask=0077 0 1\n".to_vec(),
        b"LABEL=\"my\\040data\" /mnt/my\\040data ext4 defaults,noauto 0 2\n".to_vec(),
        b"/dev/xvdb\t/data\txfs\n".to_vec(),
        b"PARTUUID=1234 /x ext4 defaults 0\n".to_vec(),
        b"tmpfs /tmp tmpfs defaults 0 0 extra fields\n".to_vec(),
        b"  # indented comment\n\n\t\n/dev/sdb2 none swap sw 0 0\n".to_vec(),
        b"/dev/a /b\\011tab ext4 rw 1 2\r\n".to_vec(),
        b"/dev/a /odd\\9x\\04 ext4 rw\n".to_vec(),
        b"/dev/disk/by-uuid/0d1e2f30-4152-6374-8596-a7b8c9dae0f1 /srv ext4 defaults 0 2\n".to_vec(),
    ];
    for c in &cases {
        assert_eq!(ours(c), findmnt(c), "{}", String::from_utf8_lossy(c));
    }
    // Random lines from the pieces fstabs are made of (a deterministic
    // generator), one line per run so that a line libmount rejects does
    // not hide the others.
    let pieces: &[&str] = &[
        "UUID=1",
        "LABEL=a\\040b",
        "/dev/sdb",
        "/",
        "/data",
        "/a\\134b",
        "ext4",
        "xfs",
        "auto",
        "defaults",
        "rw,noauto",
        "0",
        "1",
        "2",
        "#",
        "# x",
        "none",
        "swap",
        "\\040",
        "x#y",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut compared = 0;
    for _ in 0..300 {
        let n = 1 + (next() % 7) as usize;
        let mut line = String::new();
        for i in 0..n {
            if i > 0 {
                line.push(if next() % 3 == 0 { '\t' } else { ' ' });
            }
            line.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        line.push('\n');
        let want = findmnt(line.as_bytes());
        let got = ours(line.as_bytes());
        if want.is_empty() && !got.is_empty() {
            // libmount refused the line (a freq or passno that is not a
            // number); ours must have refused it too, or kept an entry
            // libmount would not: counted as a mismatch.
            panic!("{line:?}: findmnt reads nothing, ours reads {got:?}");
        }
        assert_eq!(got, want, "{line:?}");
        compared += 1;
    }
    assert_eq!(compared, 300);
}

/// A quick in-test stand-in for the fuzz target (no nightly toolchain
/// here): random mutations of an fstab never panic, and what is kept is
/// bounded.
#[test]
fn fstab_parser_survives_mutations() {
    let base = fstab_text().into_bytes();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let mut b = base.clone();
        for _ in 0..(1 + next() % 8) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = next() as u8,
                1 => {
                    b.insert(i, b"\\ \t\n#="[(next() % 6) as usize]);
                }
                _ => {
                    b.remove(i);
                }
            }
        }
        let f = fstab::parse(&b);
        for e in &f.entries {
            let _ = (e.source(), e.use_(), e.options());
        }
    }
    let huge = vec![b'a'; fstab::MAX_FSTAB + 10];
    let w = fstab::parse(&huge).warnings;
    assert!(w.iter().any(|w| w.contains("longer than")), "{w:?}");
}

/// A second volume with a GPT table (`sgdisk`: unique GUIDs and names
/// set), matched by `PARTUUID=`, `PARTLABEL=` and `/dev/xvdb2` against the
/// mapping's `/dev/sdb`; `/dev/sdc` names a volume the image has not.
#[test]
fn partitions_are_matched_by_partuuid_partlabel_and_device_name() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    const G1: &str = "6E3B1A2C-0D4F-4A5B-9C8D-7E6F5A4B3C2D";
    let root = t.join("root");
    mkdir(&root.join("data"), 0o755);
    mkdir(&root.join("srv"), 0o755);
    mkdir(&root.join("other"), 0o755);
    write(
        &root.join("etc/fstab"),
        format!(
            "PARTUUID={G1} /data ext4 defaults 0 2\n/dev/xvdb2 /srv ext4 defaults 0 2\n\
             PARTLABEL=srv\\040part /other ext4 defaults 0 2\n/dev/sdc1 /gone ext4 nofail 0 2\n"
        )
        .as_bytes(),
        0o644,
    );
    let (p1, p2) = (t.join("p1"), t.join("p2"));
    write(&p1.join("one"), b"partition one\n", 0o644);
    write(&p2.join("two"), b"partition two\n", 0o644);
    mke2fs(&root, &t.join("root.img"), ROOT_UUID, "");
    mke2fs(&p1, &t.join("p1.img"), DATA_UUID, "");
    mke2fs(&p2, &t.join("p2.img"), SPARE_UUID, "");
    let disk = t.join("disk.img");
    fs::File::create(&disk).unwrap().set_len(80 << 20).unwrap();
    run(Command::new("sgdisk")
        .args([
            "-n",
            "1:2048:+32M",
            "-u",
            &format!("1:{G1}"),
            "-c",
            "1:data",
        ])
        .args(["-n", "2:0:+32M", "-c", "2:srv part"])
        .arg(&disk));
    // Where sgdisk put the partitions, from its own report.
    let starts: Vec<u64> = [1, 2]
        .iter()
        .map(|n| {
            let out =
                String::from_utf8(run(Command::new("sgdisk").arg(format!("-i{n}")).arg(&disk)))
                    .unwrap();
            out.lines()
                .find_map(|l| l.strip_prefix("First sector: "))
                .and_then(|l| l.split_whitespace().next())
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    for (img, start) in [("p1.img", starts[0]), ("p2.img", starts[1])] {
        run(Command::new("dd")
            .arg(format!("if={}", t.join(img).display()))
            .arg(format!("of={}", disk.display()))
            .args([
                "bs=512",
                &format!("seek={start}"),
                "conv=notrunc",
                "status=none",
            ]));
    }
    let tree = ImageTree::new(ext4(&t.join("root.img")), "root.img");
    let (tree, report) = mount_volumes(tree, vec![volume("/dev/sdb", &disk)]);
    let text = report.lines().join("\n");
    let at: Vec<&str> = report.mounted.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(at, ["/data", "/srv", "/other"], "{text}");
    assert_eq!(
        tree.read_file(b"/data/one", 100).unwrap(),
        b"partition one\n"
    );
    assert_eq!(
        tree.read_file(b"/srv/two", 100).unwrap(),
        b"partition two\n"
    );
    assert_eq!(
        tree.read_file(b"/other/two", 100).unwrap(),
        b"partition two\n"
    );
    assert_eq!(report.unmatched.len(), 1, "{text}");
    assert!(report.unmatched[0].contains("/dev/sdc1"), "{text}");
    assert!(report.unnamed.is_empty(), "{text}");
}
