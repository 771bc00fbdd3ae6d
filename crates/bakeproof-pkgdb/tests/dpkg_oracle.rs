//! The dpkg reader against real dpkg-query 1.21.22 output for the dpkgroot
//! fixture (five Debian 12 packages): package list, versions, architectures,
//! Source fields, status, Multi-Arch, Installed-Size, `-L` file lists in
//! order, md5sums and conffiles must match exactly.

mod common;

use bakeproof_index::Root;
use bakeproof_pkgdb::{
    DbKind, DigestAlgo, Ecosystem, Package, PackageDb, read_os_release, read_root,
};
use common::{extract, oracle, sorted};

fn read_clean() -> (tempfile::TempDir, PackageDb) {
    let dir = extract("clean.tar.gz");
    let root = Root::open(dir.path()).expect("open root");
    let mut dbs = read_root(&root).expect("read_root");
    assert_eq!(dbs.len(), 1, "one database expected: {dbs:?}");
    let db = dbs.remove(0);
    (dir, db)
}

fn by_key(db: &PackageDb) -> Vec<&Package> {
    let mut v: Vec<&Package> = db.packages.iter().collect();
    v.sort_by(|a, b| a.db_key.cmp(&b.db_key));
    v
}

/// dpkg-query's raw `${Source}`: `name (version)`, `name`, or empty.
fn raw_source(p: &Package) -> String {
    match (&p.source_name, &p.source_version) {
        (Some(n), Some(v)) => format!("{n} ({v})"),
        (Some(n), None) => n.clone(),
        _ => String::new(),
    }
}

#[test]
fn database_found_without_warnings() {
    let (_dir, db) = read_clean();
    assert_eq!(db.kind, DbKind::Dpkg);
    assert_eq!(db.location, "/var/lib/dpkg/status");
    assert!(db.warnings.is_empty(), "{:#?}", db.warnings);
    assert_eq!(db.packages.len(), 5);
    assert!(db.packages.iter().all(|p| p.ecosystem == Ecosystem::Deb));
    // Database order is status file order.
    let names: Vec<&str> = db.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["base-files", "bzip2", "libbz2-1.0", "libpam-cap", "netbase"]
    );
}

#[test]
fn packages_match_dpkg_query_w() {
    let (_dir, db) = read_clean();
    let mine: Vec<String> = db
        .packages
        .iter()
        .map(|p| format!("{}\t{}\t{}\t{}", p.name, p.version, p.arch, raw_source(p)))
        .collect();
    let mut mine = mine;
    mine.sort();
    assert_eq!(mine, sorted(&oracle("expected-packages.tsv")));
}

#[test]
fn extra_fields_match_dpkg_query() {
    let (_dir, db) = read_clean();
    let mut mine: Vec<String> = db
        .packages
        .iter()
        .map(|p| {
            let size = p.installed_size.expect("Installed-Size");
            assert_eq!(size % 1024, 0);
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                p.db_key,
                p.status_abbrev().expect("status"),
                p.source_name_or_self(),
                p.source_version_or_self(),
                p.multi_arch.as_deref().unwrap_or(""),
                size / 1024
            )
        })
        .collect();
    mine.sort();
    assert_eq!(mine, sorted(&oracle("expected-packages-extra.tsv")));
}

#[test]
fn file_lists_match_dpkg_query_l_in_order() {
    let (_dir, db) = read_clean();
    let mut mine = String::new();
    for p in by_key(&db) {
        for f in &p.files {
            mine.push_str(&p.db_key);
            mine.push('\t');
            mine.push_str(std::str::from_utf8(&f.path).expect("utf-8 path"));
            mine.push('\n');
        }
    }
    assert_eq!(mine, oracle("expected-list.tsv"));
    assert_eq!(mine.lines().count(), 176);
}

#[test]
fn md5sums_match_control_show() {
    let (_dir, db) = read_clean();
    // `.md5sums` holds no conffiles in this fixture: every non-conffile
    // digest must come from it, and every entry of it must be on a file.
    let mut mine = Vec::new();
    for p in &db.packages {
        for f in p.files.iter().filter(|f| !f.config) {
            if let Some(d) = &f.digest {
                assert_eq!(d.algo, DigestAlgo::Md5);
                let rel = std::str::from_utf8(&f.path[1..]).expect("utf-8");
                mine.push(format!("{}\t{}  {}", p.db_key, d.hex, rel));
            }
        }
    }
    mine.sort();
    let expected = sorted(&oracle("expected-md5sums.tsv"));
    assert_eq!(expected.len(), 61);
    assert_eq!(mine, expected);
}

#[test]
fn conffiles_match_status_field() {
    let (_dir, db) = read_clean();
    let mut mine = Vec::new();
    for p in &db.packages {
        for f in p.files.iter().filter(|f| f.config) {
            let d = f.digest.as_ref().expect("conffile digest");
            let path = std::str::from_utf8(&f.path).expect("utf-8");
            mine.push(format!("{}\t {} {}", p.db_key, path, d.hex));
        }
    }
    mine.sort();
    assert_eq!(mine, sorted(&oracle("expected-conffiles.tsv")));
}

#[test]
fn metadata_purls_and_licenses() {
    let (_dir, db) = read_clean();
    let os = db.os.as_ref().expect("os-release");
    assert_eq!(os.id.as_deref(), Some("debian"));
    assert_eq!(os.version_id.as_deref(), Some("12"));
    let get = |n: &str| {
        db.packages
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };

    let cap = get("libpam-cap");
    assert_eq!(cap.epoch, Some(1));
    assert_eq!(cap.version, "1:2.66-4+deb12u2+b2");
    assert_eq!(
        cap.purl,
        "pkg:deb/debian/libpam-cap@1:2.66-4%2Bdeb12u2%2Bb2?arch=amd64&distro=debian-12&upstream=libcap2%401:2.66-4%2Bdeb12u2"
    );
    assert_eq!(
        cap.licenses,
        [
            "BSD-3-clause or GPL-2",
            "BSD-3-clause or GPL-2+",
            "BSD-3-clause",
            "GPL-2",
            "GPL-2+"
        ]
    );
    // dpkg's Maintainer is the author; the fixture has no apt lists and no
    // `Origin:` field, so the distributor comes from its os-release.
    assert_eq!(
        cap.author.as_deref(),
        Some("Christian Kastner <ckk@debian.org>")
    );
    assert_eq!(cap.supplier.as_deref(), Some("Debian"));
    assert!(
        cap.properties
            .contains(&("deb:origin-source".into(), "os-release".into())),
        "{:?}",
        cap.properties
    );
    assert_eq!(
        cap.summary.as_deref(),
        Some("POSIX 1003.1e capabilities (PAM module)")
    );
    assert_eq!(
        cap.homepage.as_deref(),
        Some("https://sites.google.com/site/fullycapable/")
    );
    let deps: Vec<&str> = cap
        .depends
        .iter()
        .flat_map(|d| d.alternatives.iter().map(String::as_str))
        .collect();
    assert_eq!(deps, ["libpam-runtime", "libc6", "libcap2", "libpam0g"]);

    let base = get("base-files");
    assert_eq!(base.epoch, None);
    assert!(
        base.licenses.is_empty(),
        "base-files copyright is free-form"
    );
    assert_eq!(base.provides, ["base"]);
    assert_eq!(base.depends.len(), 1, "Pre-Depends: awk");
    assert_eq!(base.depends[0].alternatives, ["awk"]);
    assert_eq!(base.source_name, None);
    assert_eq!(base.source_name_or_self(), "base-files");
    assert_eq!(base.status.as_deref(), Some("install ok installed"));
    assert_eq!(base.installed_size, Some(341 * 1024));
    assert_eq!(
        base.purl,
        "pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=debian-12"
    );

    assert_eq!(get("bzip2").licenses, ["BSD-variant", "GPL-2"]);
    assert_eq!(get("libbz2-1.0").licenses, ["BSD-variant", "GPL-2"]);
    assert_eq!(get("libbz2-1.0").db_key, "libbz2-1.0:amd64");
    assert_eq!(get("netbase").licenses, ["GPL-2"]);
    assert_eq!(
        get("netbase").purl,
        "pkg:deb/debian/netbase@6.4?arch=all&distro=debian-12"
    );
    // rpm-only fields stay unknown for dpkg.
    assert!(
        db.packages
            .iter()
            .flat_map(|p| &p.files)
            .all(|f| f.mode.is_none()
                && f.size.is_none()
                && f.user.is_none()
                && f.group.is_none()
                && f.mtime.is_none()
                && f.link_target.is_none()
                && f.flags.is_none())
    );
}

#[test]
fn os_release_through_symlink_inside_root() {
    let dir = extract("clean.tar.gz");
    let root = Root::open(dir.path()).expect("open");
    let os = read_os_release(&root).expect("read").expect("present");
    assert_eq!(
        os.pretty_name.as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );
    assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
}

#[test]
fn tampered_root_has_the_same_database() {
    // Tampering changed installed files, not the database: the claims read
    // must be identical (verification is another layer's job).
    let (_c, clean) = read_clean();
    let dir = extract("tampered.tar.gz");
    let root = Root::open(dir.path()).expect("open");
    let tampered = read_root(&root).expect("read");
    assert_eq!(tampered, vec![clean]);
}
