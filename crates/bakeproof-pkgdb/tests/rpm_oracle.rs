//! rpm databases (sqlite, BDB, NDB, and a real rpm-installed root) against
//! the outputs of real librpm (`fixtures/rpmdb/*/expected-*.tsv`,
//! `fixtures/rpmroot/expected-*.tsv`; formats in `fixtures/README.md`), plus
//! read-only directories, transactions only in `-wal`, and damaged input.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_index::Root;
use bakeproof_pkgdb::rpm::{parse_header_blob, read_bare_rpm_file, read_sqlite_packages};
use bakeproof_pkgdb::{DbKind, Ecosystem, Package, PackageDb, read_bare_file, read_root};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
    v.sort();
    v
}

fn oracle(rel: &str) -> Vec<String> {
    lines(&String::from_utf8(read(&fixtures().join(rel))).expect("utf-8 oracle"))
}

fn prop<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A raw tag as `rpm --qf '%{TAG}'` prints it: `(none)` when absent.
fn tag<'a>(p: &'a Package, key: &str) -> &'a str {
    prop(p, key).unwrap_or("(none)")
}

/// `%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\t%{VENDOR}`
fn package_lines(db: &PackageDb) -> Vec<String> {
    let mut v: Vec<String> = db
        .packages
        .iter()
        .map(|p| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.name,
                p.epoch.unwrap_or(0),
                tag(p, "rpm:version"),
                tag(p, "rpm:release"),
                tag(p, "rpm:arch"),
                tag(p, "rpm:sourcerpm"),
                tag(p, "rpm:license"),
                tag(p, "rpm:vendor"),
            )
        })
        .collect();
    v.sort();
    v
}

/// `[%{=NAME}\t%{FILENAMES}\t%{=FILEDIGESTALGO}\t%{FILEDIGESTS}\t%{FILEMODES:octal}\t%{FILESIZES}\n]`
fn file_lines(db: &PackageDb) -> Vec<String> {
    let mut v = Vec::new();
    for p in &db.packages {
        let algo = tag(p, "rpm:filedigestalgo");
        for f in &p.files {
            v.push(format!(
                "{}\t{}\t{}\t{}\t{:o}\t{}",
                p.name,
                String::from_utf8(f.path.clone()).expect("utf-8 path"),
                algo,
                f.digest.as_ref().map_or("", |d| d.hex.as_str()),
                f.mode.expect("mode"),
                f.size.expect("size"),
            ));
        }
    }
    v.sort();
    v
}

/// The model's own fields agree with the raw tags.
fn check_model(db: &PackageDb) {
    for p in &db.packages {
        assert_eq!(p.ecosystem, Ecosystem::Rpm);
        let v = prop(p, "rpm:version").unwrap_or("");
        let r = prop(p, "rpm:release").expect("release");
        let evr = match p.epoch {
            Some(e) => format!("{e}:{v}-{r}"),
            None => format!("{v}-{r}"),
        };
        assert_eq!(p.version, evr, "{}", p.name);
        assert_eq!(p.db_key, format!("{}-{evr}.{}", p.name, p.arch));
        assert!(p.purl.starts_with("pkg:rpm/"), "{}", p.purl);
        if let Some(e) = p.epoch {
            assert!(p.purl.contains(&format!("&epoch={e}")), "{}", p.purl);
        } else {
            assert!(!p.purl.contains("epoch="), "{}", p.purl);
        }
        // The source rpm in syft's `upstream` qualifier (grype reads it).
        let upstream = bakeproof_types::Purl::parse(&p.purl)
            .expect("purl")
            .qualifiers
            .into_iter()
            .find(|(k, _)| k == "upstream")
            .map(|(_, v)| v);
        assert_eq!(
            upstream.as_deref(),
            prop(p, "rpm:sourcerpm").filter(|s| !s.is_empty()),
            "{}",
            p.purl
        );
        if let Some(srpm) = prop(p, "rpm:sourcerpm") {
            let (n, sv) = (
                p.source_name.as_deref().expect("source"),
                p.source_version.as_deref().expect("sv"),
            );
            assert_eq!(format!("{n}-{sv}.src.rpm"), srpm);
        }
        assert_eq!(
            p.supplier.as_deref(),
            prop(p, "rpm:vendor").filter(|v| !v.is_empty())
        );
        for f in &p.files {
            assert_eq!(f.config, f.flags.expect("flags") & 1 != 0);
            assert!(f.user.is_some() && f.group.is_some() && f.mtime.is_some());
        }
    }
}

fn check_against(db: &PackageDb, dir: &str) {
    assert!(db.warnings.is_empty(), "{dir}: {:?}", db.warnings);
    let want = oracle(&format!("{dir}/expected-packages.tsv"));
    assert_eq!(package_lines(db), want, "{dir}: packages");
    let want = oracle(&format!("{dir}/expected-files.tsv"));
    let got = file_lines(db);
    assert_eq!(got.len(), want.len(), "{dir}: number of file entries");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{dir}: files");
    }
    check_model(db);
}

const DB_FIXTURES: [(&str, &str, DbKind); 4] = [
    ("rpmdb/cbl-mariner-2.0", "rpmdb.sqlite", DbKind::RpmSqlite),
    ("rpmdb/rhel8-libuuid", "Packages", DbKind::RpmBdb),
    ("rpmdb/centos8-dive", "Packages", DbKind::RpmBdb),
    ("rpmdb/sle15-bci", "Packages.db", DbKind::RpmNdb),
];

#[test]
fn bare_databases_match_librpm() {
    for (dir, file, kind) in DB_FIXTURES {
        let path = fixtures().join(dir).join(file);
        let db = read_bare_file(&read(&path), file, None).expect(dir);
        assert_eq!(db.kind, kind, "{dir}");
        assert_eq!(db.kind.ecosystem(), Ecosystem::Rpm);
        check_against(&db, dir);
        let db2 = read_bare_rpm_file(&path, None).expect(dir);
        assert_eq!(db2.packages, db.packages, "{dir}");
    }
}

#[test]
fn header_details() {
    let db = read_bare_file(
        &read(&fixtures().join("rpmdb/rhel8-libuuid/Packages")),
        "Packages",
        None,
    )
    .expect("libuuid");
    let p = &db.packages[0];
    // SIGMD5 ends in zero bytes (go-rpmdb bug #45): kept whole.
    let md5 = prop(p, "rpm:sigmd5").expect("sigmd5");
    assert_eq!(md5.len(), 32, "{md5}");
    assert_eq!(
        p.purl,
        "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&upstream=util-linux-2.32.1-42.el8_8.src.rpm"
    );
    assert_eq!(p.source_name.as_deref(), Some("util-linux"));
    assert_eq!(p.source_version.as_deref(), Some("2.32.1-42.el8_8"));
    assert_eq!(p.licenses, ["BSD"]);
    assert!(p.summary.is_some() && p.installed_size.is_some());
    assert!(prop(p, "rpm:installtime").is_some() && prop(p, "rpm:buildtime").is_some());
    let link = p
        .files
        .iter()
        .find(|f| f.path == b"/usr/lib64/libuuid.so.1")
        .expect("link");
    assert_eq!(link.link_target.as_deref(), Some(&b"libuuid.so.1.3.0"[..]));
    assert_eq!(link.user.as_deref(), Some("root"));
    assert!(link.digest.is_none() && link.verify_flags.is_some() && link.state == Some(0));

    // centos8-dive: VENDOR present but empty -> no supplier, property "".
    let db = read_bare_file(
        &read(&fixtures().join("rpmdb/centos8-dive/Packages")),
        "Packages",
        None,
    )
    .expect("dive");
    assert_eq!(prop(&db.packages[0], "rpm:vendor"), Some(""));
    assert_eq!(db.packages[0].supplier, None);
    assert_eq!(
        db.packages[0].purl,
        "pkg:rpm/dive@0.9.2-1?arch=x86_64&upstream=dive-0.9.2-1.src.rpm"
    );
}

/// Extracts `fixtures/rpmroot/<tarball>` (modes, hard links, empty dirs).
fn extract_rpmroot(tarball: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(fixtures().join("rpmroot").join(tarball))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(st.success(), "tar -xzf {tarball}");
    dir
}

fn rpm_db_of(dbs: &[PackageDb]) -> &PackageDb {
    let rpm: Vec<&PackageDb> = dbs
        .iter()
        .filter(|d| d.kind.ecosystem() == Ecosystem::Rpm)
        .collect();
    assert_eq!(
        rpm.len(),
        1,
        "{:?}",
        dbs.iter().map(|d| &d.location).collect::<Vec<_>>()
    );
    rpm[0]
}

#[test]
fn rpmroot_matches_librpm() {
    let tmp = extract_rpmroot("clean.tar.gz");
    let root_dir = tmp.path().join("clean");
    let root_dir = if root_dir.is_dir() {
        root_dir
    } else {
        tmp.path().to_owned()
    };
    let root = Root::open(&root_dir).expect("root");
    let dbs = read_root(&root).expect("read_root");
    let db = rpm_db_of(&dbs);
    assert_eq!(db.kind, DbKind::RpmSqlite);
    assert_eq!(db.location, "/var/lib/rpm/rpmdb.sqlite");
    check_against(db, "rpmroot");

    // REQUIRENEVRS, through the header parser.
    let bytes = read(&root_dir.join("var/lib/rpm/rpmdb.sqlite"));
    let set = read_sqlite_packages(&bytes, None).expect("sqlite");
    assert!(set.errors.is_empty());
    let mut got = Vec::new();
    for r in &set.records {
        let h = parse_header_blob(&r.blob).expect("header");
        for d in &h.requires {
            got.push(format!("{}\t{}", h.name, d.nevr()));
        }
    }
    got.sort();
    assert_eq!(got, oracle("rpmroot/expected-requires.tsv"));

    let by_name: BTreeMap<&str, &Package> =
        db.packages.iter().map(|p| (p.name.as_str(), p)).collect();
    let base = by_name["fx-base"];
    assert_eq!(base.version, "3:1.0-1");
    assert_eq!(base.epoch, Some(3));
    let conf = base
        .files
        .iter()
        .find(|f| f.path == b"/etc/fx/base.conf")
        .expect("conf");
    assert!(conf.config);
    let ghost = base
        .files
        .iter()
        .find(|f| f.path == b"/var/log/fx-base.log")
        .expect("ghost");
    assert!(ghost.flags.expect("flags") & 64 != 0 && ghost.digest.is_none());
    let hi = base
        .files
        .iter()
        .find(|f| f.path == b"/usr/bin/fx-hi")
        .expect("link");
    assert_eq!(hi.link_target.as_deref(), Some(&b"fx-hello"[..]));
    assert_eq!(by_name["fx-lib"].epoch, None);
    assert_eq!(by_name["fx-docs"].epoch, Some(0));
    assert_eq!(
        by_name["fx-lib"]
            .depends
            .iter()
            .map(|d| d.alternatives.join("|"))
            .collect::<Vec<_>>(),
        ["fx-base"]
    );
    // No os-release in this root: no namespace (vendor "Fixture Vendor" is
    // no known distribution), epoch only where the tag exists, ^ encoded.
    assert_eq!(
        by_name["fx-data"].purl,
        "pkg:rpm/fx-data@1.0%5Egit20240101-2?arch=noarch&upstream=fx-data-1.0%5Egit20240101-2.src.rpm"
    );
    assert_eq!(
        by_name["fx-docs"].purl,
        "pkg:rpm/fx-docs@0.1-1?arch=noarch&epoch=0&upstream=fx-docs-0.1-1.src.rpm"
    );
    assert_eq!(
        by_name["fx-tools"].purl,
        "pkg:rpm/fx-tools@2.1~rc1-1?arch=noarch&upstream=fx-tools-2.1~rc1-1.src.rpm"
    );

    // With an os-release the namespace and distro come from it.
    std::fs::create_dir_all(root_dir.join("etc")).expect("etc");
    std::fs::write(
        root_dir.join("etc/os-release"),
        "ID=rhel\nVERSION_ID=\"9.4\"\n",
    )
    .expect("os");
    let dbs = read_root(&root).expect("read_root");
    let base = rpm_db_of(&dbs)
        .packages
        .iter()
        .find(|p| p.name == "fx-base")
        .expect("base");
    assert_eq!(
        base.purl,
        "pkg:rpm/redhat/fx-base@1.0-1?arch=noarch&distro=rhel-9.4&epoch=3&upstream=fx-base-1.0-1.src.rpm"
    );
}

/// Every file under `dir` with its bytes and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let md = std::fs::symlink_metadata(e.path()).expect("stat");
            if md.is_dir() {
                stack.push(e.path());
            }
            let bytes = if md.is_file() {
                read(&e.path())
            } else {
                Vec::new()
            };
            out.insert(e.path(), (bytes, md.permissions().mode()));
        }
    }
    out
}

#[test]
fn read_only_directory_is_left_untouched() {
    let tmp = tempfile::tempdir().expect("tmp");
    // As a bare file...
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::copy(
        fixtures().join("rpmdb/cbl-mariner-2.0/rpmdb.sqlite"),
        ro.join("rpmdb.sqlite"),
    )
    .expect("copy");
    // ...and inside a root.
    let root_dir = tmp.path().join("root");
    let dbdir = root_dir.join("var/lib/rpm");
    std::fs::create_dir_all(&dbdir).expect("mkdir");
    std::fs::copy(ro.join("rpmdb.sqlite"), dbdir.join("rpmdb.sqlite")).expect("copy");
    for d in [&ro, &dbdir] {
        std::fs::set_permissions(
            d.join("rpmdb.sqlite"),
            std::fs::Permissions::from_mode(0o444),
        )
        .expect("chmod");
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    }
    let before = snapshot(tmp.path());

    let db = read_bare_rpm_file(&ro.join("rpmdb.sqlite"), None).expect("bare");
    check_against(&db, "rpmdb/cbl-mariner-2.0");
    let root = Root::open(&root_dir).expect("root");
    let dbs = read_root(&root).expect("read_root");
    check_against(rpm_db_of(&dbs), "rpmdb/cbl-mariner-2.0");

    assert_eq!(snapshot(tmp.path()), before, "no file created or changed");
    for d in [&ro, &dbdir] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn rpm_binary() -> PathBuf {
    for p in ["/usr/bin/rpm", "/bin/rpm"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("this test needs Debian's `rpm` (apt-get install rpm); tests/run-all.sh installs it");
}

/// `rpm --root R --initdb` then `-i --justdb` of the given fixture rpms.
fn rpm_install(rpm: &Path, root: &Path, rpms: &[&str]) {
    let run = |args: &[&str]| {
        let out = Command::new(rpm)
            .arg("--root")
            .arg(root)
            .args(["--dbpath", "/var/lib/rpm"])
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .expect("run rpm");
        assert!(
            out.status.success(),
            "rpm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::create_dir_all(root.join("var/lib/rpm")).expect("mkdir");
    run(&["--initdb"]);
    let mut args = vec!["-i", "--nodeps", "--noscripts", "--justdb"];
    let paths: Vec<String> = rpms
        .iter()
        .map(|r| {
            fixtures()
                .join("rpmroot/rpms")
                .join(r)
                .display()
                .to_string()
        })
        .collect();
    args.extend(paths.iter().map(String::as_str));
    run(&args);
}

#[test]
fn package_only_in_wal_is_seen() {
    let rpm = rpm_binary();
    let tmp = tempfile::tempdir().expect("tmp");
    // Real rpm writes two databases: four packages, and fx-docs alone.
    let four = tmp.path().join("four");
    let docs = tmp.path().join("docs");
    rpm_install(
        &rpm,
        &four,
        &[
            "fx-base-1.0-1.noarch.rpm",
            "fx-data-1.0^git20240101-2.noarch.rpm",
            "fx-lib-2.0-1.noarch.rpm",
            "fx-tools-2.1~rc1-1.noarch.rpm",
        ],
    );
    rpm_install(&rpm, &docs, &["fx-docs-0.1-1.noarch.rpm"]);
    let docs_set =
        read_sqlite_packages(&read(&docs.join("var/lib/rpm/rpmdb.sqlite")), None).expect("docs db");
    assert_eq!(docs_set.records.len(), 1);
    let docs_blob = docs_set.records[0].blob.clone();

    // Append fx-docs to the four-package database in WAL mode, without
    // checkpointing, and copy the database and its -wal into the image while
    // the writer still holds them.
    let image = tmp.path().join("image");
    let image_db_dir = image.join("var/lib/rpm");
    std::fs::create_dir_all(&image_db_dir).expect("mkdir");
    let src = four.join("var/lib/rpm/rpmdb.sqlite");
    {
        let conn = rusqlite::Connection::open(&src).expect("open");
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .expect("wal");
        assert_eq!(mode, "wal");
        conn.execute_batch("PRAGMA wal_autocheckpoint=0")
            .expect("no autocheckpoint");
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [&docs_blob])
            .expect("insert");
        let wal = read(&four.join("var/lib/rpm/rpmdb.sqlite-wal"));
        assert!(!wal.is_empty(), "the insert is in the WAL");
        std::fs::copy(&src, image_db_dir.join("rpmdb.sqlite")).expect("copy db");
        std::fs::write(image_db_dir.join("rpmdb.sqlite-wal"), wal).expect("copy wal");
    }
    // The main file alone does not have fx-docs yet.
    let main_only =
        read_sqlite_packages(&read(&image_db_dir.join("rpmdb.sqlite")), None).expect("main");
    assert_eq!(main_only.records.len(), 4);

    let before = snapshot(&image);
    let root = Root::open(&image).expect("root");
    let dbs = read_root(&root).expect("read_root");
    let db = rpm_db_of(&dbs);
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    let mut names: Vec<&str> = db.packages.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["fx-base", "fx-data", "fx-docs", "fx-lib", "fx-tools"]
    );
    check_against(db, "rpmroot");
    // Also as a bare file with its -wal beside it.
    let bare = read_bare_rpm_file(&image_db_dir.join("rpmdb.sqlite"), None).expect("bare");
    assert_eq!(bare.packages, db.packages);
    assert_eq!(snapshot(&image), before, "the image is untouched");
}

fn sqlite_fixture() -> Vec<u8> {
    read(&fixtures().join("rpmdb/cbl-mariner-2.0/rpmdb.sqlite"))
}

#[test]
fn damaged_sqlite_never_panics() {
    let db = sqlite_fixture();
    let mut cuts: Vec<usize> = (0..120).collect();
    cuts.extend((1..db.len() / 4096).map(|p| p * 4096));
    cuts.extend([db.len() / 2 + 17, db.len() - 1]);
    for cut in cuts {
        match read_bare_file(&db[..cut], "rpmdb.sqlite", None) {
            Ok(d) => assert!(d.packages.len() <= 129),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    let mut garbage = b"SQLite format 3\0".to_vec();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..65536 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        garbage.push((x >> 24) as u8);
    }
    assert!(read_bare_file(&garbage, "rpmdb.sqlite", None).is_err());
    // Pages flipped inside the file: some records may be lost, with warnings
    // or an error, never a panic.
    for page in [2usize, 10, 100, 400, 800] {
        let mut d = db.clone();
        let at = page * 4096 + 100;
        if at + 64 > d.len() {
            continue;
        }
        for b in &mut d[at..at + 64] {
            *b ^= 0x5a;
        }
        if let Ok(r) = read_bare_file(&d, "rpmdb.sqlite", None) {
            assert!(r.packages.len() <= 129);
        }
    }
    // A wal that is garbage is ignored by SQLite (bad checksums), not fatal.
    let set = read_sqlite_packages(&db, Some(&garbage)).expect("garbage wal");
    assert_eq!(set.records.len(), 129);
}

#[test]
fn damaged_headers_never_panic() {
    let set = read_sqlite_packages(&sqlite_fixture(), None).expect("sqlite");
    let mut blobs: Vec<&[u8]> = set.records.iter().map(|r| r.blob.as_slice()).collect();
    blobs.sort_by_key(|b| b.len());
    // The smallest header: cut at every length; larger ones at strides.
    for (i, blob) in [blobs[0], blobs[blobs.len() / 2], blobs[blobs.len() - 1]]
        .into_iter()
        .enumerate()
    {
        let step = if i == 0 { 1 } else { 7 };
        for cut in (0..blob.len()).step_by(step) {
            assert!(parse_header_blob(&blob[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_header_blob(blob).is_ok());
        // Flip every byte of the index (tags, types, offsets, counts), and
        // the data every byte for the smallest header, at a stride for the
        // big ones (each parse of those walks thousands of files).
        let il = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
        let index_end = 8 + 16 * il;
        let data_step = if i == 0 { 1 } else { 211 };
        let positions = (0..index_end).chain((index_end..blob.len()).step_by(data_step));
        let mut b = blob.to_vec();
        for at in positions {
            for x in [0xffu8, 0x80, 0x01] {
                b[at] ^= x;
                let _ = parse_header_blob(&b);
                b[at] ^= x;
            }
        }
    }
    assert!(parse_header_blob(&[]).is_err());
    assert!(parse_header_blob(&[0xff; 64]).is_err());
    // il/dl that claim more than the blob has.
    let mut huge = vec![0u8; 8];
    huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    huge[4..].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(parse_header_blob(&huge).is_err());
}

#[test]
fn read_root_finds_every_backend_and_reads_symlinked_dirs_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = tmp.path();
    // Fedora layout: /var/lib/rpm -> ../../usr/lib/sysimage/rpm (sqlite).
    std::fs::create_dir_all(r.join("usr/lib/sysimage/rpm")).expect("mkdir");
    std::fs::create_dir_all(r.join("var/lib")).expect("mkdir");
    std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", r.join("var/lib/rpm")).expect("ln");
    std::fs::copy(
        fixtures().join("rpmdb/cbl-mariner-2.0/rpmdb.sqlite"),
        r.join("usr/lib/sysimage/rpm/rpmdb.sqlite"),
    )
    .expect("copy");
    // A leftover BDB Packages beside it is named, not read.
    std::fs::copy(
        fixtures().join("rpmdb/centos8-dive/Packages"),
        r.join("usr/lib/sysimage/rpm/Packages"),
    )
    .expect("copy");
    // NDB in /usr/share/rpm.
    std::fs::create_dir_all(r.join("usr/share/rpm")).expect("mkdir");
    std::fs::copy(
        fixtures().join("rpmdb/sle15-bci/Packages.db"),
        r.join("usr/share/rpm/Packages.db"),
    )
    .expect("copy");
    let root = Root::open(r).expect("root");
    let dbs = read_root(&root).expect("read_root");
    let got: Vec<(DbKind, &str)> = dbs.iter().map(|d| (d.kind, d.location.as_str())).collect();
    assert_eq!(
        got,
        [
            (DbKind::RpmSqlite, "/var/lib/rpm/rpmdb.sqlite"),
            (DbKind::RpmNdb, "/usr/share/rpm/Packages.db"),
        ]
    );
    assert_eq!(
        dbs[0].warnings,
        ["/var/lib/rpm/Packages: not read: /var/lib/rpm/rpmdb.sqlite is the database in use here"]
    );
    let mut sqlite = dbs[0].clone();
    sqlite.warnings.clear();
    check_against(&sqlite, "rpmdb/cbl-mariner-2.0");
    check_against(&dbs[1], "rpmdb/sle15-bci");

    // BDB through a root.
    let tmp2 = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp2.path().join("var/lib/rpm")).expect("mkdir");
    std::fs::copy(
        fixtures().join("rpmdb/rhel8-libuuid/Packages"),
        tmp2.path().join("var/lib/rpm/Packages"),
    )
    .expect("copy");
    let dbs = read_root(&Root::open(tmp2.path()).expect("root")).expect("read_root");
    assert_eq!(dbs.len(), 1);
    assert_eq!(dbs[0].kind, DbKind::RpmBdb);
    check_against(&dbs[0], "rpmdb/rhel8-libuuid");
}
