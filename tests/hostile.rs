//! Hostile roots built at test time: nothing outside the root is ever read,
//! nothing blocks, nothing is lost.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::run::{
    assert_properties_documented, bakeproof_bin, components, props, read_json, scan_args,
    scan_peak_rss, scan_to_json, sha256_of,
};
use common::schema::{python_validate, validate_cyclonedx_1_5};

/// A root whose links all point at a "host" directory beside it that holds
/// secrets, an os-release and a dpkg status naming a package that must never
/// appear.
fn hostile_root() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let host = t.path().join("host");
    let root = t.path().join("root");
    std::fs::create_dir_all(host.join("etc")).unwrap();
    std::fs::create_dir_all(host.join("var/lib/dpkg/info")).unwrap();
    std::fs::write(
        host.join("etc/shadow"),
        b"root:$6$outside-secret:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::write(host.join("etc/os-release"), b"ID=evilos\nVERSION_ID=666\n").unwrap();
    std::fs::write(
        host.join("var/lib/dpkg/status"),
        b"Package: evil\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n",
    )
    .unwrap();

    for d in ["etc", "usr/bin", "var/lib", "a/b/c"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("usr/bin/tool"), b"#!/bin/sh\necho inside\n").unwrap();
    // absolute link to the host's shadow (inside the root it means /etc/shadow)
    symlink(host.join("etc/shadow"), root.join("etc/shadow")).unwrap();
    // relative escapes
    symlink(
        "../../../../../../../../host/etc/shadow",
        root.join("a/b/c/escape"),
    )
    .unwrap();
    symlink("../../..", root.join("a/b/c/up")).unwrap();
    // tool-resolved paths pointing out: os-release and the dpkg database
    symlink(host.join("etc/os-release"), root.join("etc/os-release")).unwrap();
    symlink(host.join("var/lib/dpkg"), root.join("var/lib/dpkg")).unwrap();
    // a symlink loop
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    // a directory symlink loop through a parent
    symlink(".", root.join("a/self")).unwrap();
    (t, root, host)
}

#[test]
fn never_reads_outside_the_root() {
    let (t, root, host) = hostile_root();
    let f = t.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(&root, &f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&f).unwrap();
    let secret = sha256_of(&host.join("etc/shadow"));
    assert!(
        !text.contains(&secret),
        "a file outside the root was hashed"
    );
    assert!(!text.contains("outside-secret"));
    assert!(
        !text.contains("evilos"),
        "os-release outside the root was read"
    );
    assert!(
        components(&doc, "library").is_empty(),
        "a package database outside the root was read"
    );
    assert!(!text.contains("pkg:deb"));
    let files: std::collections::BTreeMap<&str, &serde_json::Value> = components(&doc, "file")
        .into_iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    // every link is recorded as a link, with its target, never followed
    for (p, target) in [
        ("/etc/shadow", host.join("etc/shadow").display().to_string()),
        (
            "/a/b/c/escape",
            "../../../../../../../../host/etc/shadow".into(),
        ),
        ("/a/b/c/up", "../../..".into()),
        ("/loop1", "loop2".into()),
        ("/a/self", ".".into()),
    ] {
        let c = files.get(p).unwrap_or_else(|| panic!("{p} not recorded"));
        assert_eq!(props(c, "bakeproof:file:type"), ["symlink"], "{p}");
        assert_eq!(
            props(c, "bakeproof:file:link-target"),
            [target.as_str()],
            "{p}"
        );
        assert!(c.get("hashes").is_none(), "{p} was hashed");
    }
    // nothing under a followed link
    assert!(
        !files
            .keys()
            .any(|k| k.starts_with("/a/self/") || k.starts_with("/a/b/c/up/"))
    );
    assert_eq!(
        files["/usr/bin/tool"]["hashes"][0]["content"]
            .as_str()
            .unwrap(),
        sha256_of(&root.join("usr/bin/tool"))
    );
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
}

/// `bakeproof scan ROOT -o OUT`, killed after 60 s: `None` when it did not
/// finish in time (a blocked open or write).
fn scan_with_deadline(root: &Path, out: &Path) -> Option<std::process::ExitStatus> {
    let mut child = Command::new(bakeproof_bin())
        .args(scan_args(root, out))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn fifo_socket_and_device_never_block() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("run")).unwrap();
    let st = Command::new("mkfifo")
        .arg(root.join("run/fifo"))
        .status()
        .unwrap();
    assert!(st.success());
    let _sock = std::os::unix::net::UnixListener::bind(root.join("run/sock")).unwrap();
    let f = t.path().join("sbom.cdx.json");
    // Run with a deadline: a scan that opens the FIFO would block forever.
    let status = scan_with_deadline(&root, &f).unwrap_or_else(|| panic!("scan blocked on a FIFO"));
    assert_eq!(status.code(), Some(0));
    let doc = read_json(&f);
    let kinds: std::collections::BTreeMap<String, String> = components(&doc, "file")
        .into_iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                props(c, "bakeproof:file:type")[0].to_owned(),
            )
        })
        .collect();
    assert_eq!(kinds["/run/fifo"], "fifo");
    assert_eq!(kinds["/run/sock"], "socket");
}

#[test]
fn non_utf8_names_are_preserved() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 100%");
    std::fs::write(root.join(name), b"latin-1 name").unwrap();
    std::fs::write(root.join("caf%E9 100%25"), b"utf-8 name that looks encoded").unwrap();
    let f = t.path().join("sbom.cdx.json");
    let (code, doc, _) = scan_to_json(&root, &f, &[]);
    assert_eq!(code, 0);
    let files = components(&doc, "file");
    let enc = files
        .iter()
        .find(|c| props(c, "bakeproof:file:path-encoding") == ["percent"])
        .unwrap();
    assert_eq!(enc["name"], "/caf%E9 100%25");
    assert_eq!(
        enc["hashes"][0]["content"].as_str().unwrap(),
        sha256_of(&root.join(name))
    );
    // the UTF-8 name with the same spelling is a different component
    let plain = files
        .iter()
        .find(|c| {
            c["name"] == "/caf%E9 100%25" && props(c, "bakeproof:file:path-encoding").is_empty()
        })
        .unwrap();
    assert_ne!(plain["bom-ref"], enc["bom-ref"]);
    assert_properties_documented(&doc);
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
}

#[test]
fn sparse_gigabyte_file_right_digest_bounded_memory() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let big = root.join("sparse.img");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    let f = t.path().join("sbom.cdx.json");
    let (o, kib) = scan_peak_rss(&root, &f, &t.path().join("rss"));
    assert!(o.status.success());
    let doc = read_json(&f);
    let c = components(&doc, "file")
        .into_iter()
        .find(|c| c["name"] == "/sparse.img")
        .unwrap();
    assert_eq!(c["hashes"][0]["content"].as_str().unwrap(), sha256_of(&big));
    assert_eq!(props(c, "bakeproof:file:size"), ["1073741824"]);
    assert!(
        kib < 64 * 1024,
        "peak RSS {kib} KiB for a 1 GiB file: memory is not bounded"
    );
}

#[test]
fn unreadable_file_is_recorded_and_exit_code_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("locked")).unwrap();
    std::fs::write(root.join("secret"), b"x").unwrap();
    std::fs::write(root.join("public"), b"y").unwrap();
    std::fs::set_permissions(root.join("secret"), PermissionsExt::from_mode(0o000)).unwrap();
    std::fs::set_permissions(root.join("locked"), PermissionsExt::from_mode(0o000)).unwrap();
    let outdir = t.path().join("out");
    std::fs::create_dir_all(&outdir).unwrap();
    std::fs::set_permissions(&outdir, PermissionsExt::from_mode(0o777)).unwrap();
    let f = outdir.join("sbom.cdx.json");
    // Root reads everything: drop to an unprivileged user (util-linux setpriv).
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ]);
        c.arg(bakeproof_bin());
        c
    } else {
        Command::new(bakeproof_bin())
    };
    let o = cmd
        .args(scan_args(&root, &f))
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .expect("run bakeproof (setpriv from util-linux when root)");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("/secret"), "{stderr}");
    let doc = read_json(&f);
    let get = |n: &str| {
        components(&doc, "file")
            .into_iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    assert!(props(get("/secret"), "bakeproof:file:error")[0].starts_with("unreadable"));
    assert!(props(get("/locked"), "bakeproof:file:error")[0].starts_with("unlistable-directory"));
    assert!(get("/public").get("hashes").is_some(), "the scan went on");
    let errors = doc["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bakeproof:scan:errors")
        .unwrap();
    assert_eq!(errors["value"], "2");
    assert_properties_documented(&doc);
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
}

fn is_root() -> bool {
    let t = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::MetadataExt::uid(&t.as_file().metadata().unwrap()) == 0
}

/// `-o` naming something that is not a regular file (a FIFO here; `/dev/null`
/// in real use) is written through, never replaced by the temporary file's
/// rename: run as root, that rename turned `/dev/null` into a regular file
/// for the whole machine.
#[test]
fn output_to_a_fifo_is_written_through_not_replaced() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/hostname"), b"x\n").unwrap();
    let fifo = t.path().join("out.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = Vec::new();
            std::fs::File::open(&fifo)
                .unwrap()
                .read_to_end(&mut s)
                .unwrap();
            s
        })
    };
    let Some(status) = scan_with_deadline(&root, &fifo) else {
        // Unblock the reader so the test ends.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
        panic!("scan -o FIFO did not finish");
    };
    assert_eq!(status.code(), Some(0));
    // Checked before joining: had the FIFO been replaced, the reader would
    // wait on it forever.
    let ft = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(ft.is_fifo(), "the FIFO was replaced: {ft:?}");
    let bytes = reader.join().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("SBOM through the FIFO");
    assert_eq!(doc["bomFormat"], "CycloneDX");
}
