//! `bakeproof scan` on package databases that amplify (a few MB describing
//! GBs of paths or file entries) and on an rpm database with a lost record.
//!
//! Memory is measured on the real process: GNU time's maximum resident set
//! size (`%M`, KiB), with the address space capped at 3 GiB (`ulimit -v`) so
//! that the unbudgeted code aborts instead of taking the machine's memory.

mod common;

use std::path::Path;
use std::process::Command;

use common::run::{bakeproof, bakeproof_bin, describe, fixture};

/// Runs `bakeproof scan ROOT -q -o OUT` under `ulimit -v` 3 GiB and GNU
/// time: (exit code, stderr without time's line, max RSS in MiB).
fn scan_measured(root: &Path, out: &Path) -> (Option<i32>, String, u64) {
    let rss_file = out.with_extension("rss");
    let o = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 3145728; exec /usr/bin/time -f %M -o "$0" "$1" scan "$2" -q -o "$3""#)
        .arg(&rss_file)
        .arg(bakeproof_bin())
        .arg(root)
        .arg(out)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .expect("run sh");
    let rss = std::fs::read_to_string(&rss_file).unwrap_or_default();
    let kib: u64 = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS from time: {rss:?}\n{}", describe(&o)));
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        kib / 1024,
    )
}

const T_STRING: u32 = 6;
const T_INT32: u32 = 4;
const T_STRING_ARRAY: u32 = 8;

/// The issue's rpm header: NAME, one 20 KB DIRNAMES entry, 200,000
/// one-byte BASENAMES with DIRINDEXES all 0 (4 GB of joined paths).
fn amplifying_header() -> Vec<u8> {
    let n = 200_000u32;
    let mut dir = vec![b'/'];
    dir.extend(std::iter::repeat_n(b'd', 20_000));
    dir.extend_from_slice(b"/\0");
    let bases: Vec<u8> = (0..n).flat_map(|i| [b'a' + (i % 26) as u8, 0]).collect();
    let idx: Vec<u8> = (0..n).flat_map(|_| 0u32.to_be_bytes()).collect();
    let entries: [(u32, u32, Vec<u8>, u32); 4] = [
        (1000, T_STRING, b"amp\0".to_vec(), 1),
        (1116, T_INT32, idx, n),
        (1117, T_STRING_ARRAY, bases, n),
        (1118, T_STRING_ARRAY, dir, 1),
    ];
    let mut data = Vec::new();
    let mut index = Vec::new();
    for (tag, ty, d, count) in entries {
        while ty == T_INT32 && data.len() % 4 != 0 {
            data.push(0);
        }
        index.push([tag, ty, data.len() as u32, count]);
        data.extend_from_slice(&d);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for e in index {
        for w in e {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    out.extend_from_slice(&data);
    out
}

/// A copy of the real CBL-Mariner rpmdb.sqlite with the smallest record's
/// blob replaced by `blob`.
fn mariner_db_with(dir: &Path, blob: &[u8]) -> std::path::PathBuf {
    let db = dir.join("rpmdb.sqlite");
    std::fs::copy(fixture("rpmdb/cbl-mariner-2.0/rpmdb.sqlite"), &db).expect("copy");
    let c = rusqlite::Connection::open(&db).expect("open");
    let n = c
        .execute(
            "UPDATE Packages SET blob = ?1 WHERE hnum = (SELECT min(hnum) FROM Packages)",
            [blob],
        )
        .expect("update");
    assert_eq!(n, 1);
    c.execute_batch("PRAGMA journal_mode = DELETE")
        .expect("no wal");
    drop(c);
    db
}

#[test]
fn dropped_rpm_record_is_exit_3_even_with_quiet() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Control: the real database as it is scans clean.
    let o = bakeproof(&[
        "scan".as_ref(),
        fixture("rpmdb/cbl-mariner-2.0/rpmdb.sqlite").as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        tmp.path().join("ok.json").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // One header blob corrupted (an index of one entry and no data): that
    // record is dropped, the others read.
    let dbdir = tmp.path().join("root/var/lib/rpm");
    std::fs::create_dir_all(&dbdir).expect("mkdir");
    let db = mariner_db_with(&dbdir, &[0, 0, 0, 1, 0, 0, 0, 0]);
    for target in [db.as_path(), &tmp.path().join("root")] {
        let out = tmp.path().join("out.json");
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "scan".as_ref(),
            target.as_os_str(),
            "-q".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        if target.is_dir() {
            args.push("--packages-only".as_ref());
        }
        let o = bakeproof(&args);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}: {}",
            target.display(),
            describe(&o)
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("rpmdb.sqlite: 1 records could not be read"),
            "{}",
            describe(&o)
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).expect("sbom")).expect("json");
        let libs = doc["components"]
            .as_array()
            .expect("components")
            .iter()
            .filter(|c| c["type"] == "library")
            .count();
        assert!(libs > 0, "the other records are read");
    }
}

#[test]
fn amplifying_rpm_header_scan_is_bounded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dbdir = tmp.path().join("root/var/lib/rpm");
    std::fs::create_dir_all(&dbdir).expect("mkdir");
    mariner_db_with(&dbdir, &amplifying_header());
    let (code, stderr, rss) = scan_measured(&tmp.path().join("root"), &tmp.path().join("o.json"));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("over the per-database budget"),
        "a clear budget error: {stderr}"
    );
    assert!(rss < 256, "max RSS {rss} MiB");
}

#[test]
fn dpkg_multiarch_fallback_scan_is_bounded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("root");
    let info = root.join("var/lib/dpkg/info");
    std::fs::create_dir_all(&info).expect("mkdir");
    let mut status = String::new();
    for i in 0..32 {
        status.push_str(&format!(
            "Package: amp\nStatus: install ok installed\nArchitecture: arch{i}\n\
             Multi-Arch: same\nVersion: 1\n\n"
        ));
    }
    std::fs::write(root.join("var/lib/dpkg/status"), status).expect("status");
    let mut list = Vec::new();
    let mut i = 0u64;
    while list.len() < 8 << 20 {
        list.extend_from_slice(format!("/usr/share/amp/f{i:010}\n").as_bytes());
        i += 1;
    }
    std::fs::write(info.join("amp.list"), &list).expect("list");
    let (code, stderr, rss) = scan_measured(&root, &tmp.path().join("o.json"));
    // The scan completes (the files are missing on disk: still exit 0, as
    // a package's missing files are findings of verify, not scan errors).
    assert!(matches!(code, Some(0 | 3)), "{stderr}");
    assert!(rss < 1024, "max RSS {rss} MiB");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("o.json")).expect("sbom"))
            .expect("json");
    let libs = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["type"] == "library")
        .count();
    assert_eq!(libs, 32, "every instance is a component");
}
