//! Confinement and bounded resources of the walk and of the paths the tool
//! resolves itself: bind mounts of the same filesystem are mount points,
//! FIFOs and devices at tool-resolved paths are never opened, and a deep
//! chain of long names cannot make memory grow with the square of its depth.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::run::{
    bakeproof_bin, components, describe, props, read_json, scan_args, scan_peak_rss, sha256_of,
};

fn files(doc: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    components(doc, "file")
        .into_iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

/// `bakeproof scan ROOT -o OUT EXTRA...` in a private mount namespace
/// (`unshare -m`: the mounts vanish with it, nothing outside the scratch
/// space is touched) after `mount --bind SRC DST` for each pair.
fn scan_with_binds(
    binds: &[(&Path, &Path)],
    root: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut script = String::from("set -e\n");
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    for (i, (src, dst)) in binds.iter().enumerate() {
        script.push_str(&format!(
            "mount --bind \"${}\" \"${}\"\n",
            2 * i + 1,
            2 * i + 2
        ));
        args.push(src.as_os_str().to_owned());
        args.push(dst.as_os_str().to_owned());
    }
    script.push_str(&format!("shift {}\nexec \"$@\"\n", 2 * binds.len()));
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
        .args(&args)
        .arg(bakeproof_bin())
        .args(scan_args(root, out))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .expect("unshare (util-linux)")
}

#[test]
fn same_filesystem_bind_mounts_are_skipped_mount_points() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    let root = t.path().join("root");
    std::fs::create_dir_all(outside.join("sub")).unwrap();
    std::fs::write(outside.join("secret"), b"outside-secret-content\n").unwrap();
    std::fs::write(outside.join("sub/deeper"), b"outside-deeper-content\n").unwrap();
    let outside_file = t.path().join("outside-file");
    std::fs::write(&outside_file, b"outside-file-content\n").unwrap();
    for d in ["tmp/src", "var/log/host", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("etc/hostname"), b"inside\n").unwrap();
    std::fs::write(root.join("etc/motd"), b"inside motd\n").unwrap();
    // The premise: one filesystem, so st_dev cannot tell the mounts apart.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&outside).unwrap().dev(),
        std::fs::metadata(&root).unwrap().dev()
    );
    let binds = [
        (outside.as_path(), root.join("tmp/src")),
        (outside.as_path(), root.join("var/log/host")),
        (outside_file.as_path(), root.join("etc/hostname")),
    ];
    let binds: Vec<(&Path, &Path)> = binds.iter().map(|(s, d)| (*s, d.as_path())).collect();
    let secrets = [
        sha256_of(&outside.join("secret")),
        sha256_of(&outside.join("sub/deeper")),
        sha256_of(&outside_file),
    ];

    let out = t.path().join("sbom.cdx.json");
    let o = scan_with_binds(&binds, &root, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "content outside the root was hashed"
        );
    }
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = files(&doc);
    for p in ["/tmp/src", "/var/log/host", "/etc/hostname"] {
        let c = f.get(p).unwrap_or_else(|| panic!("{p} not recorded"));
        assert_eq!(props(c, "bakeproof:file:skipped"), ["mount"], "{p}");
        assert!(c.get("hashes").is_none(), "{p} was read");
    }
    assert!(
        !f.keys()
            .any(|k| k.starts_with("/tmp/src/") || k.starts_with("/var/log/host/")),
        "a bind mount was entered: {:?}",
        f.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        f["/etc/motd"]["hashes"][0]["content"],
        sha256_of(&root.join("etc/motd"))
    );

    // --cross-mounts enters them (and reads what they show).
    let out2 = t.path().join("cross.cdx.json");
    let o = scan_with_binds(&binds, &root, &out2, &["--cross-mounts"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let doc = read_json(&out2);
    let f = files(&doc);
    for (p, want) in [
        ("/tmp/src/secret", &secrets[0]),
        ("/var/log/host/sub/deeper", &secrets[1]),
        ("/etc/hostname", &secrets[2]),
    ] {
        let c = f.get(p).unwrap_or_else(|| panic!("{p} not recorded"));
        assert_eq!(
            c["hashes"][0]["content"].as_str(),
            Some(want.as_str()),
            "{p}"
        );
        assert!(props(c, "bakeproof:file:skipped").is_empty(), "{p}");
    }
}

#[test]
fn bind_mounted_package_database_is_not_read() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside-dpkg");
    let root = t.path().join("root");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("status"),
        b"Package: evil\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    let out = t.path().join("sbom.cdx.json");
    let dst = root.join("var/lib/dpkg");
    let o = scan_with_binds(&[(&outside, &dst)], &root, &out, &[]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(3),
        "{}",
        describe(&o)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("pkg:deb"),
        "a bind-mounted database was read"
    );
    assert!(!text.contains("evil"));
}

/// The kernel thread ID of the calling thread.
fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

#[cfg(target_arch = "x86_64")]
const SYS_OPENAT: &str = "257";
#[cfg(target_arch = "aarch64")]
const SYS_OPENAT: &str = "56";

/// Whether thread `tid` of this process sleeps (`S`) inside `openat`: a
/// writer opening a FIFO waits there for a reader.
fn asleep_in_open(tid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(") ").map(|(_, r)| r.chars().next());
    let sys = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).unwrap_or_default();
    state == Some(Some('S')) && sys.split_whitespace().next() == Some(SYS_OPENAT)
}

/// A thread blocked opening `fifo` for writing. A blocking writer's open
/// returns once a reader has opened the FIFO at any time after the writer
/// started waiting (the kernel counts reader opens; closing again does not
/// undo it), and never otherwise: a deterministic "was it opened" oracle.
struct FifoWitness {
    opened: Arc<AtomicBool>,
    tid: u32,
    fifo: PathBuf,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl FifoWitness {
    fn start(fifo: &Path) -> FifoWitness {
        let opened = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let (o, f) = (Arc::clone(&opened), fifo.to_owned());
        let handle = std::thread::spawn(move || {
            tx.send(gettid()).unwrap();
            let w = std::fs::OpenOptions::new().write(true).open(&f);
            o.store(w.is_ok(), Ordering::SeqCst);
        });
        let tid = rx.recv().unwrap();
        let start = Instant::now();
        while !asleep_in_open(tid) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "writer never blocked"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        FifoWitness {
            opened,
            tid,
            fifo: fifo.to_owned(),
            handle: Some(handle),
        }
    }

    /// After the scanning process has exited: did it open the FIFO?
    fn was_opened(mut self) -> bool {
        let start = Instant::now();
        let verdict = loop {
            if self.opened.load(Ordering::SeqCst) {
                break true;
            }
            // Still asleep with every possible reader gone: a reader's open
            // would have woken it already.
            if asleep_in_open(self.tid) {
                break false;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "hang guard");
            std::thread::sleep(Duration::from_millis(5));
        };
        // Release the writer: open the reader end ourselves.
        let _r = std::fs::OpenOptions::new().read(true).open(&self.fifo);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        verdict
    }
}

const TOOL_PATHS: [&str; 3] = ["var/lib/dpkg/status", "etc/os-release", "etc/passwd"];

fn root_with_special_files(make: &dyn Fn(&Path)) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for p in TOOL_PATHS {
        make(&root.join(p));
    }
    (t, root)
}

fn assert_warned(stderr: &str, doc: &serde_json::Value) {
    let recorded: Vec<&str> = doc["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "bakeproof:package-db:error")
        .filter_map(|p| p["value"].as_str())
        .collect();
    for (p, what) in [
        ("/var/lib/dpkg/status", "package database"),
        ("/etc/os-release", "os-release"),
        ("/etc/passwd", "accounts"),
    ] {
        assert!(
            recorded
                .iter()
                .any(|r| r.starts_with(what) && r.contains(p) && r.contains("not a regular file")),
            "{p}: no clear error recorded: {recorded:?}"
        );
        assert!(
            stderr.contains(p) && stderr.contains("not a regular file"),
            "{p}: no warning: {stderr}"
        );
    }
}

#[test]
fn fifos_at_tool_resolved_paths_are_never_opened() {
    let (t, root) = root_with_special_files(&|p| {
        let st = Command::new("mkfifo").arg(p).status().unwrap();
        assert!(st.success());
    });
    let witnesses: Vec<(&str, FifoWitness)> = TOOL_PATHS
        .iter()
        .map(|p| (*p, FifoWitness::start(&root.join(p))))
        .collect();
    let out = t.path().join("sbom.cdx.json");
    let o = Command::new(bakeproof_bin())
        .args(scan_args(&root, &out))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let opened: Vec<&str> = witnesses
        .into_iter()
        .filter_map(|(p, w)| w.was_opened().then_some(p))
        .collect();
    assert!(opened.is_empty(), "FIFOs opened by the tool: {opened:?}");
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
    let doc = read_json(&out);
    assert_warned(&String::from_utf8_lossy(&o.stderr), &doc);
    // The walk records them as FIFOs.
    let f = files(&doc);
    for p in TOOL_PATHS {
        assert_eq!(props(&f[&format!("/{p}")], "bakeproof:file:type"), ["fifo"]);
    }
}

#[test]
fn tty_devices_at_tool_resolved_paths_are_never_opened() {
    // 5,0 is /dev/tty: opening it reaches the tty driver, which refuses a
    // process without a controlling terminal with ENXIO. Under `setsid` the
    // scan has none, so an open shows as "No such device or address"; a
    // type check before any open shows as "not a regular file".
    let (t, root) = root_with_special_files(&|p| {
        let st = Command::new("mknod")
            .arg(p)
            .args(["c", "5", "0"])
            .status()
            .unwrap();
        assert!(st.success());
    });
    let out = t.path().join("sbom.cdx.json");
    let o = Command::new("setsid")
        .arg("--wait")
        .arg(bakeproof_bin())
        .args(scan_args(&root, &out))
        .stdin(Stdio::null())
        .output()
        .expect("setsid (util-linux)");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("No such device or address"),
        "the tty driver was reached: {stderr}"
    );
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
    let doc = read_json(&out);
    assert_warned(&stderr, &doc);
    let f = files(&doc);
    for p in TOOL_PATHS {
        assert_eq!(
            props(&f[&format!("/{p}")], "bakeproof:file:type"),
            ["char-device"]
        );
    }
}

/// A chain of `depth` directories named with 250 bytes each, below
/// `root/chain`, built through directory descriptors (the paths are far
/// beyond PATH_MAX). Returns the chain's directory names.
fn deep_chain(root: &Path, depth: usize) -> Vec<u8> {
    use rustix::fs::{Mode, OFlags};
    let name = vec![b'n'; 250];
    std::fs::create_dir_all(root.join("chain")).unwrap();
    let mut dir = rustix::fs::open(
        root.join("chain"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let n = std::ffi::OsStr::new(std::str::from_utf8(&name).unwrap());
    for _ in 0..depth {
        rustix::fs::mkdirat(&dir, n, Mode::from_raw_mode(0o755)).unwrap();
        dir = rustix::fs::openat(
            &dir,
            n,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
    }
    let f = rustix::fs::openat(
        &dir,
        "bottom",
        OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .unwrap();
    drop(f);
    name
}

#[test]
fn deep_chain_of_long_names_is_bounded() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    // 1,500 levels of 250-byte names: 375 KB of names on disk, but 282 MB
    // of paths (and about 1 GB of peak memory) when every level's full
    // path is kept.
    let name = deep_chain(&root, 1500);
    std::fs::write(root.join("ordinary"), b"ordinary file\n").unwrap();
    let out = t.path().join("sbom.cdx.json");
    let (o, kib) = scan_peak_rss(&root, &out, &t.path().join("rss"));
    assert!(
        kib < 128 * 1024,
        "peak RSS {kib} KiB for a 1,500-deep chain: path memory is not bounded"
    );
    // Recorded as far as PATH_MAX allows, then a clear error: exit 3.
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
    let doc = read_json(&out);
    let f = files(&doc);
    let longest = f.keys().map(String::len).max().unwrap();
    assert!(longest <= 4095 + 1 + 255, "a path of {longest} bytes");
    let errors: Vec<(&String, Vec<&str>)> = f
        .iter()
        .filter_map(|(k, c)| {
            let e = props(c, "bakeproof:file:error");
            (!e.is_empty()).then_some((k, e))
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (p, e) = &errors[0];
    assert!(e[0].starts_with("path-too-long"), "{e:?}");
    assert!(p.len() > 4095);
    // Every level up to the limit is there, each a prefix of the next.
    let step = name.len() + 1;
    let levels = f.keys().filter(|k| k.starts_with("/chain/")).count();
    assert_eq!(levels, (p.len() - "/chain".len()) / step);
    assert!(f.contains_key("/ordinary"));
}
