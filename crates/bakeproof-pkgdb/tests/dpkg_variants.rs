//! Bare status files, distroless `status.d/`, and damaged databases.

mod common;

use bakeproof_index::Root;
use bakeproof_pkgdb::{
    DbKind, OsRelease, PkgDbError, StatusMode, deb822, parse_dpkg_status,
    parse_dpkg_status_detailed, read_bare_file, read_os_release, read_root,
};
use common::{extract, oracle, sorted, write};

fn real_status() -> Vec<u8> {
    let dir = extract("clean.tar.gz");
    std::fs::read(dir.path().join("var/lib/dpkg/status")).expect("status")
}

fn debian12() -> OsRelease {
    OsRelease::parse(b"ID=debian\nVERSION_ID=\"12\"\n")
}

fn pkg_lines(db: &bakeproof_pkgdb::PackageDb) -> Vec<String> {
    let mut v: Vec<String> = db
        .packages
        .iter()
        .map(|p| {
            let src = match (&p.source_name, &p.source_version) {
                (Some(n), Some(v)) => format!("{n} ({v})"),
                (Some(n), None) => n.clone(),
                _ => String::new(),
            };
            format!("{}\t{}\t{}\t{}", p.name, p.version, p.arch, src)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn bare_status_file() {
    let status = real_status();
    let os = debian12();
    let db = read_bare_file(&status, "status", Some(&os)).expect("bare");
    assert_eq!(db.kind, DbKind::Dpkg);
    assert_eq!(db.location, "status");
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    assert_eq!(pkg_lines(&db), sorted(&oracle("expected-packages.tsv")));
    // Without info/ only the conffiles are known, with their digests.
    let netbase = db
        .packages
        .iter()
        .find(|p| p.name == "netbase")
        .expect("netbase");
    let paths: Vec<&[u8]> = netbase.files.iter().map(|f| f.path.as_slice()).collect();
    assert_eq!(
        paths,
        [
            &b"/etc/ethertypes"[..],
            b"/etc/protocols",
            b"/etc/rpc",
            b"/etc/services"
        ]
    );
    assert!(netbase.files.iter().all(|f| f.config && f.digest.is_some()));
    assert!(db.packages.iter().all(|p| p.licenses.is_empty()));
    let cap = db
        .packages
        .iter()
        .find(|p| p.name == "libpam-cap")
        .expect("cap");
    assert_eq!(
        cap.purl,
        "pkg:deb/debian/libpam-cap@1:2.66-4%2Bdeb12u2%2Bb2?arch=amd64&distro=debian-12&upstream=libcap2%401:2.66-4%2Bdeb12u2"
    );

    // Without os-release: namespace debian, no distro qualifier.
    let db = read_bare_file(&status, "status", None).expect("bare");
    let cap = db
        .packages
        .iter()
        .find(|p| p.name == "libpam-cap")
        .expect("cap");
    assert_eq!(
        cap.purl,
        "pkg:deb/debian/libpam-cap@1:2.66-4%2Bdeb12u2%2Bb2?arch=amd64&upstream=libcap2%401:2.66-4%2Bdeb12u2"
    );
    assert_eq!(parse_dpkg_status(&status).expect("parse").len(), 5);
}

#[test]
fn installed_states() {
    let mut text = String::new();
    for (i, st) in [
        "install ok installed",
        "install ok half-configured",
        "install reinstreq unpacked",
        "install reinstreq half-installed",
        "install ok triggers-awaited",
        "install ok triggers-pending",
        "deinstall ok config-files",
        "purge ok not-installed",
        "install ok",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "Package: p{i}\nStatus: {st}\nVersion: 1\nArchitecture: all\n\n"
        ));
    }
    text.push_str("Package: nostatus\nVersion: 1\nArchitecture: all\n");
    let p = parse_dpkg_status_detailed(text.as_bytes(), StatusMode::Status);
    let names: Vec<&str> = p.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings); // malformed "install ok"
    let p = parse_dpkg_status_detailed(text.as_bytes(), StatusMode::StatusD);
    assert_eq!(p.packages.len(), 7, "absent Status = installed in status.d");
}

/// A distroless layout built from the real stanzas: one file per package in
/// `status.d/`, no `Status:` field (as distroless writes them), md5sums next
/// to them, no `info/` directory.
#[test]
fn distroless_status_d() {
    let status = real_status();
    let dir = tempfile::tempdir().expect("tmp");
    let parsed = deb822::parse(&status, false);
    assert_eq!(parsed.stanzas.len(), 5);
    // Split the real file on blank lines, keeping each stanza verbatim but
    // without its Status line.
    let text = String::from_utf8(status.clone()).expect("utf-8");
    for stanza in text.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let name = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Package: "))
            .expect("Package");
        let body: String = stanza
            .lines()
            .filter(|l| !l.starts_with("Status:"))
            .map(|l| format!("{l}\n"))
            .collect();
        write(
            dir.path(),
            &format!("var/lib/dpkg/status.d/{name}"),
            body.as_bytes(),
        );
    }
    let clean = extract("clean.tar.gz");
    let md5 = std::fs::read(clean.path().join("var/lib/dpkg/info/bzip2.md5sums")).expect("md5");
    write(dir.path(), "var/lib/dpkg/status.d/bzip2.md5sums", &md5);
    // A removed package with an explicit Status is still judged by it.
    write(
        dir.path(),
        "var/lib/dpkg/status.d/gone",
        b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n",
    );
    write(
        dir.path(),
        "usr/lib/os-release",
        b"ID=debian\nVERSION_ID=12\n",
    );

    let root = Root::open(dir.path()).expect("open");
    assert_eq!(
        read_os_release(&root).expect("os").and_then(|o| o.id),
        Some("debian".to_owned())
    );
    let dbs = read_root(&root).expect("read");
    assert_eq!(dbs.len(), 1);
    let db = &dbs[0];
    assert_eq!(db.kind, DbKind::DpkgDistroless);
    assert_eq!(db.location, "/var/lib/dpkg/status.d");
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    assert_eq!(pkg_lines(db), sorted(&oracle("expected-packages.tsv")));
    assert!(db.packages.iter().all(|p| p.status.is_none()));

    let bzip2 = db
        .packages
        .iter()
        .find(|p| p.name == "bzip2")
        .expect("bzip2");
    let expected: Vec<String> = oracle("expected-md5sums.tsv")
        .lines()
        .filter_map(|l| l.strip_prefix("bzip2\t"))
        .map(str::to_owned)
        .collect();
    let mine: Vec<String> = bzip2
        .files
        .iter()
        .map(|f| {
            format!(
                "{}  {}",
                f.digest.as_ref().expect("digest").hex,
                std::str::from_utf8(&f.path[1..]).expect("utf-8")
            )
        })
        .collect();
    assert_eq!(
        mine, expected,
        "files from status.d/bzip2.md5sums, in order"
    );
    let netbase = db
        .packages
        .iter()
        .find(|p| p.name == "netbase")
        .expect("netbase");
    assert_eq!(netbase.files.len(), 4, "only the conffiles are known");
    assert_eq!(
        netbase.purl,
        "pkg:deb/debian/netbase@6.4?arch=all&distro=debian-12"
    );

    // The same stanza handed over as a bare file is recognised as status.d.
    let one = std::fs::read(dir.path().join("var/lib/dpkg/status.d/netbase")).expect("read");
    let db = read_bare_file(&one, "netbase", None).expect("bare");
    assert_eq!(db.kind, DbKind::DpkgDistroless);
    assert_eq!(db.packages.len(), 1);
}

#[test]
fn missing_and_corrupt_info_files_are_warnings() {
    let dir = extract("clean.tar.gz");
    let info = dir.path().join("var/lib/dpkg/info");
    std::fs::remove_file(info.join("libbz2-1.0:amd64.list")).expect("rm");
    std::fs::write(
        info.join("netbase.md5sums"),
        b"not a digest line\n0c247591a720f534fe543401bd4844d6  etc/protocols-ish\n",
    )
    .expect("write");
    // A FIFO where a file list should be: never opened for reading.
    let fifo = info.join("bzip2.list");
    std::fs::remove_file(&fifo).expect("rm");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(ok.success());

    let root = Root::open(dir.path()).expect("open");
    let dbs = read_root(&root).expect("read");
    let db = &dbs[0];
    assert_eq!(db.packages.len(), 5, "every package still listed");
    let w = db.warnings.join("\n");
    assert!(w.contains("libbz2-1.0:amd64: no file list"), "{w}");
    assert!(w.contains("netbase.md5sums: line 1"), "{w}");
    assert!(
        w.contains("bzip2.list") && w.contains("not a regular file"),
        "{w}"
    );
    let lib = db
        .packages
        .iter()
        .find(|p| p.name == "libbz2-1.0")
        .expect("lib");
    // No .list: the md5sums entries are the best file list left.
    assert_eq!(lib.files.len(), 5);
}

#[test]
fn truncated_status_never_panics() {
    let status = real_status();
    for len in 0..=status.len() {
        let p = parse_dpkg_status_detailed(&status[..len], StatusMode::Status);
        assert!(p.packages.len() <= 5);
        if len < status.len() && len > 0 && !status[..len].ends_with(b"\n") {
            assert!(
                p.warnings.iter().any(|w| w.contains("truncated")),
                "len {len}: {:?}",
                p.warnings
            );
        }
        let _ = read_bare_file(&status[..len], "status", None);
    }
    // Cut inside the third stanza's Description: the first two are intact.
    let cut = status
        .windows(12)
        .position(|w| w == b"Package: lib")
        .expect("third stanza")
        + 400;
    let p = parse_dpkg_status_detailed(&status[..cut], StatusMode::Status);
    assert_eq!(p.packages.len(), 3);
    assert!(!p.warnings.is_empty());
}

#[test]
fn damaged_stanza_is_skipped_others_kept() {
    let mut status = real_status();
    // Break the bzip2 stanza: a line with no colon.
    let at = status
        .windows(15)
        .position(|w| w == b"Package: bzip2\n")
        .expect("bzip2")
        + 15;
    status.splice(at..at, b"this is not a field\n".iter().copied());
    let db = read_bare_file(&status, "status", None).expect("bare");
    let names: Vec<&str> = db.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base-files", "libbz2-1.0", "libpam-cap", "netbase"]);
    assert_eq!(db.warnings.len(), 1, "{:?}", db.warnings);
    assert!(db.warnings[0].contains("stanza skipped"));
}

#[test]
fn binary_garbage() {
    // Deterministic pseudo-random bytes (no RNG dependency needed).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut garbage = vec![0u8; 64 * 1024];
    for b in &mut garbage {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 24) as u8;
    }
    let p = parse_dpkg_status_detailed(&garbage, StatusMode::Status);
    assert!(p.packages.is_empty());
    assert!(matches!(
        parse_dpkg_status(&garbage),
        Err(PkgDbError::NotADatabase { .. })
    ));
    assert!(matches!(
        read_bare_file(&garbage, "junk", None),
        Err(PkgDbError::NotADatabase { .. })
    ));
    assert!(matches!(
        read_bare_file(b"SQLite format 3\0rest", "rpmdb.sqlite", None),
        Err(PkgDbError::Rpm { .. })
    ));
    // An empty status file is a valid, empty database.
    assert!(
        read_bare_file(b"", "status", None)
            .expect("empty")
            .packages
            .is_empty()
    );

    // Garbage as the root's status file: warnings, no packages, no error.
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "var/lib/dpkg/status", &garbage);
    let root = Root::open(dir.path()).expect("open");
    let dbs = read_root(&root).expect("read");
    assert_eq!(dbs.len(), 1);
    assert!(dbs[0].packages.is_empty());
    assert!(!dbs[0].warnings.is_empty());

    // Byte flips across the real file: whatever comes out, no panic.
    let status = real_status();
    for i in (0..status.len()).step_by(7) {
        let mut s = status.clone();
        s[i] ^= 0xA5;
        let _ = parse_dpkg_status_detailed(&s, StatusMode::Status);
        let _ = read_bare_file(&s, "status", None);
    }
}

#[test]
fn no_database_and_updates_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Root::open(dir.path()).expect("open");
    assert!(read_root(&root).expect("read").is_empty());
    assert!(read_os_release(&root).expect("os").is_none());

    // An interrupted dpkg run left updates/0001 removing netbase and
    // upgrading bzip2's status: dpkg-query applies it on top of status.
    let clean = extract("clean.tar.gz");
    write(
        clean.path(),
        "var/lib/dpkg/updates/0001",
        b"Package: netbase\nStatus: deinstall ok config-files\nVersion: 6.4\nArchitecture: all\n",
    );
    write(
        clean.path(),
        "var/lib/dpkg/updates/0002",
        b"Package: bzip2\nStatus: install ok half-configured\nVersion: 1.0.8-6\nArchitecture: amd64\n",
    );
    write(clean.path(), "var/lib/dpkg/updates/tmp.i", b"garbage");
    let root = Root::open(clean.path()).expect("open");
    let dbs = read_root(&root).expect("read");
    let db = &dbs[0];
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    let names: Vec<&str> = db.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base-files", "bzip2", "libbz2-1.0", "libpam-cap"]);
    let bzip2 = &db.packages[1];
    assert_eq!(bzip2.version, "1.0.8-6");
    assert_eq!(bzip2.status_abbrev().as_deref(), Some("iF "));
}
