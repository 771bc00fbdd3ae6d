//! `bakeproof scan` and `verify-packages` on rpm roots, against real librpm:
//! the committed oracles of the fixture root, and `rpm --root R -Va` run live
//! on roots built here with Debian's rpm 4.18.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::run::{
    assert_properties_documented, bakeproof, components, extract, fixture, oracle, props,
    scan_to_json, verify_oracle,
};
use common::schema::{python_validate, validate_cyclonedx_1_5};

#[test]
fn verify_packages_equals_rpm_va_on_fixture_roots() {
    for (tarball, expected, code) in [
        ("rpmroot/clean.tar.gz", "rpmroot/expected-Va-clean.txt", 0),
        ("rpmroot/tampered.tar.gz", "rpmroot/expected-Va.txt", 1),
    ] {
        let root = extract(tarball);
        let o = bakeproof(&["verify-packages".as_ref(), root.path().as_os_str()]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            verify_oracle(expected),
            "{tarball}"
        );
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// NEVRA as `rpm -qf --qf '%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}'`.
fn nevra(c: &serde_json::Value) -> String {
    let name = c["name"].as_str().unwrap();
    let evr = c["version"].as_str().unwrap();
    let evr = if evr.contains(':') {
        evr.to_owned()
    } else {
        format!("0:{evr}")
    };
    format!("{name}-{evr}.{}", props(c, "bakeproof:package:arch")[0])
}

#[test]
fn ownership_and_unowned_equal_rpm_qf() {
    for (tarball, expected) in [
        ("rpmroot/clean.tar.gz", "rpmroot/expected-qf-clean.tsv"),
        (
            "rpmroot/tampered.tar.gz",
            "rpmroot/expected-qf-tampered.tsv",
        ),
    ] {
        let root = extract(tarball);
        let out = tempfile::tempdir().unwrap();
        let f = out.path().join("sbom.cdx.json");
        let (code, doc, stderr) = scan_to_json(root.path(), &f, &[]);
        assert_eq!(code, 0, "{stderr}");
        let by_ref: BTreeMap<&str, String> = components(&doc, "library")
            .into_iter()
            .map(|c| (c["bom-ref"].as_str().unwrap(), nevra(c)))
            .collect();
        let files: BTreeMap<&str, &serde_json::Value> = components(&doc, "file")
            .into_iter()
            .map(|c| (c["name"].as_str().unwrap(), c))
            .collect();
        let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for l in oracle(expected).lines() {
            let (p, owner) = l.split_once('\t').unwrap();
            let e = want.entry(p.to_owned()).or_default();
            if owner != "-" {
                e.insert(owner.to_owned());
            }
        }
        let bz: BTreeMap<String, &serde_json::Value> = components(&doc, "library")
            .into_iter()
            .map(|c| (c["name"].as_str().unwrap().to_owned(), c))
            .collect();
        for (path, owners) in &want {
            match files.get(path.as_str()) {
                Some(c) => {
                    let ours: BTreeSet<String> = props(c, "bakeproof:file:package")
                        .into_iter()
                        .map(|r| by_ref[r].clone())
                        .collect();
                    assert_eq!(&ours, owners, "owners of {path} ({tarball})");
                    let unowned = props(c, "bakeproof:file:unowned") == ["true"];
                    assert_eq!(unowned, owners.is_empty(), "{path}");
                }
                None => {
                    // Not on disk: the deleted big.bin and the %ghost log.
                    assert!(tarball.contains("tampered"), "{path} missing from the SBOM");
                    assert_eq!(owners.len(), 1, "{path}");
                    if path.ends_with("big.bin") {
                        assert_eq!(
                            props(bz["fx-data"], "bakeproof:package:missing"),
                            [path.as_str()]
                        );
                    }
                }
            }
        }
        validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
        python_validate(&f).unwrap();
        assert_properties_documented(&doc);
        if tarball.contains("tampered") {
            let c = files["/etc/fx/base.conf"];
            assert_eq!(props(c, "bakeproof:file:verify"), ["modified"]);
            assert_eq!(props(c, "bakeproof:file:verify-detail"), ["S.5....T."]);
            // --unowned lists exactly the oracle's unowned regular files
            let o = bakeproof(&[
                "scan".as_ref(),
                root.path().as_os_str(),
                "-o".as_ref(),
                out.path().join("x.json").as_os_str(),
                "--unowned".as_ref(),
            ]);
            let listed: BTreeSet<String> = String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter_map(|l| l.strip_prefix("unowned file "))
                .map(str::to_owned)
                .filter(|p| !p.starts_with("/var/lib/rpm"))
                .collect();
            let expect: BTreeSet<String> = want
                .iter()
                .filter(|(p, o)| {
                    o.is_empty()
                        && files
                            .get(p.as_str())
                            .is_some_and(|c| props(c, "bakeproof:file:type") == ["file"])
                })
                .map(|(p, _)| p.clone())
                .filter(|p| !p.starts_with("/var/lib/rpm"))
                .collect();
            assert_eq!(listed, expect);
            assert!(listed.contains("/opt/fx-extra/notes.txt"));
        }
    }
}

/// A private copy of the fixture database `db` (the fixture directory may be
/// read-only, and librpm writes beside a database), in a new temporary
/// directory.
fn private_copy(db: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join(Path::new(db).file_name().unwrap());
    std::fs::copy(fixture(db), &copy).unwrap();
    (t, copy)
}

#[test]
fn bare_rpm_databases_scan_to_valid_sboms() {
    for (db, expected) in [
        (
            "rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
            "rpmdb/cbl-mariner-2.0/expected-packages.tsv",
        ),
        (
            "rpmdb/rhel8-libuuid/Packages",
            "rpmdb/rhel8-libuuid/expected-packages.tsv",
        ),
        (
            "rpmdb/centos8-dive/Packages",
            "rpmdb/centos8-dive/expected-packages.tsv",
        ),
        (
            "rpmdb/sle15-bci/Packages.db",
            "rpmdb/sle15-bci/expected-packages.tsv",
        ),
    ] {
        let (t, copy) = private_copy(db);
        let f = t.path().join("sbom.cdx.json");
        let (code, doc, stderr) = scan_to_json(&copy, &f, &[]);
        assert_eq!(code, 0, "{db}: {stderr}");
        let mut got: Vec<String> = components(&doc, "library")
            .iter()
            .map(|c| {
                let evr = c["version"].as_str().unwrap();
                let evr = evr.split_once(':').map(|(_, v)| v).unwrap_or(evr);
                format!(
                    "{}\t{evr}\t{}",
                    c["name"].as_str().unwrap(),
                    props(c, "bakeproof:package:arch")[0]
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = oracle(expected)
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                format!("{}\t{}-{}\t{}", f[0], f[2], f[3], f[4])
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{db}");
        for c in components(&doc, "library") {
            assert!(c["purl"].as_str().unwrap().starts_with("pkg:rpm/"), "{db}");
        }
        validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("{db}: schema: {e:#?}"));
        python_validate(&f).unwrap();
        assert_properties_documented(&doc);
    }
}

fn rpm_available() {
    let ok = Command::new("rpm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "Debian's `rpm` is needed (tests/run-all.sh installs it)"
    );
}

/// `rpm --root R -i --nodeps --noscripts RPMS...` with real rpm (the
/// database at R/var/lib/rpm).
fn rpm_install(r: &Path, rpms: &[std::path::PathBuf]) {
    let st = Command::new("rpm")
        .arg("--root")
        .arg(r)
        .args(["--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts"])
        .args(rpms)
        .status()
        .unwrap();
    assert!(st.success(), "rpm -i into a test root");
}

/// Live `rpm --root R -Va`, the oracle of the verify tests.
fn rpm_va(r: &Path) -> std::process::Output {
    Command::new("rpm")
        .arg("--root")
        .arg(r)
        .args(["--dbpath", "/var/lib/rpm", "-Va"])
        .output()
        .unwrap()
}

/// Installs the fixture rpms into a fresh root with real rpm 4.18, then
/// changes it in every way rpm -V can see, and compares `bakeproof
/// verify-packages` with `rpm --root R -Va` run live on the same root.
#[test]
fn verify_packages_equals_live_rpm_va_on_a_root_built_here() {
    rpm_available();
    use std::os::unix::fs::{PermissionsExt, symlink};
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("root");
    std::fs::create_dir_all(&r).unwrap();
    let rpms: Vec<_> = std::fs::read_dir(fixture("rpmroot/rpms"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    rpm_install(&r, &rpms);
    // M: mode; U/G: owner; L: link target; 5+S: content; T: mtime;
    // missing; a %config file removed; a file replaced by a directory.
    std::fs::set_permissions(
        r.join("usr/bin/fx-hello"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    std::os::unix::fs::chown(
        r.join("usr/share/fx-data/hardlink-a"),
        Some(4321),
        Some(4321),
    )
    .unwrap();
    std::fs::remove_file(r.join("usr/bin/fx-hi")).unwrap();
    symlink("elsewhere", r.join("usr/bin/fx-hi")).unwrap();
    std::fs::write(r.join("usr/lib/fx/empty.dat"), b"no longer empty").unwrap();
    std::fs::remove_file(r.join("etc/fx/tools.conf")).unwrap();
    std::fs::remove_file(r.join("usr/share/fx-base/file with space.txt")).unwrap();
    std::fs::create_dir(r.join("usr/share/fx-base/file with space.txt")).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(r.join("usr/share/fx/COMMON"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(r.join("usr/share/doc/fx-docs-0.1/README"))
        .unwrap()
        .set_modified(old)
        .unwrap();

    let live = rpm_va(&r);
    let ours = bakeproof(&["verify-packages".as_ref(), r.as_os_str()]);
    let want = String::from_utf8_lossy(&live.stdout).into_owned();
    assert!(
        want.lines().count() >= 7,
        "the changes are visible to rpm: {want}"
    );
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want);
    assert_eq!(ours.status.code(), live.status.code());
}

/// File capabilities (`rpm -V`'s `P` column), against live librpm: a package
/// built here with real rpmbuild and `%caps`, installed with real rpm (which
/// sets the `security.capability` attributes), then capabilities removed,
/// changed, and added where the package has none; `bakeproof
/// verify-packages` must print exactly what `rpm -Va` prints.
#[test]
fn file_capabilities_equal_live_rpm_va() {
    rpm_available();
    let t = tempfile::tempdir().unwrap();
    let spec = t.path().join("fx-caps.spec");
    std::fs::write(
        &spec,
        "Name: fx-caps\nVersion: 1.0\nRelease: 1\nSummary: file capabilities\n\
         License: MIT\nBuildArch: noarch\n\n%description\nFiles with capabilities.\n\n\
         %install\nmkdir -p %{buildroot}/usr/bin\n\
         for f in ping setuid multi plain keep; do printf '%s\\n' $f > %{buildroot}/usr/bin/fx-$f; done\n\n\
         %files\n\
         %attr(0755,root,root) %caps(cap_net_raw=ep) /usr/bin/fx-ping\n\
         %attr(0755,root,root) %caps(cap_setuid=p) /usr/bin/fx-setuid\n\
         %attr(0755,root,root) %caps(cap_net_admin,cap_net_raw=p cap_sys_nice=i) /usr/bin/fx-multi\n\
         %attr(0755,root,root) %caps(cap_bpf=p) /usr/bin/fx-keep\n\
         %attr(0755,root,root) /usr/bin/fx-plain\n",
    )
    .unwrap();
    let top = t.path().join("rpmbuild");
    let o = Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none"])
        .arg(&spec)
        .output()
        .expect("rpmbuild");
    assert!(
        o.status.success(),
        "rpmbuild: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rpm = top.join("RPMS/noarch/fx-caps-1.0-1.noarch.rpm");
    let r = t.path().join("root");
    std::fs::create_dir_all(&r).unwrap();
    rpm_install(&r, std::slice::from_ref(&rpm));
    let bin = r.join("usr/bin");
    // rpm set the capabilities (otherwise this filesystem cannot hold them
    // and the test proves nothing).
    let getcap = |f: &str| {
        let o = Command::new("getcap")
            .arg(bin.join(f))
            .output()
            .expect("getcap");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(
        getcap("fx-ping").contains("cap_net_raw"),
        "{}",
        getcap("fx-ping")
    );
    let setcap = |args: &[&str], f: &str| {
        let st = Command::new("setcap")
            .args(args)
            .arg(bin.join(f))
            .status()
            .expect("setcap");
        assert!(st.success(), "setcap {args:?} {f}");
    };
    // Before any change: nothing to report, like rpm.
    let clean = rpm_va(&r);
    let ours = bakeproof(&["verify-packages".as_ref(), r.as_os_str()]);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&clean.stdout)
    );
    // Removed, changed (effective dropped), widened, and added where the
    // package has none; fx-keep untouched.
    setcap(&["-r"], "fx-ping");
    setcap(&["cap_setuid=ep"], "fx-setuid");
    setcap(
        &["cap_net_admin,cap_net_raw=p cap_sys_nice,cap_chown=i"],
        "fx-multi",
    );
    setcap(&["cap_sys_admin=ep"], "fx-plain");
    let live = rpm_va(&r);
    let want = String::from_utf8_lossy(&live.stdout).into_owned();
    assert_eq!(
        want.lines()
            .filter(|l| l.as_bytes().get(8) == Some(&b'P'))
            .count(),
        4,
        "rpm sees four capability changes: {want}"
    );
    let ours = bakeproof(&["verify-packages".as_ref(), r.as_os_str()]);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want);
    assert_eq!(ours.status.code(), live.status.code());

    // The SBOM records each file's capabilities as getcap(8) prints them
    // (single-clause sets; several clauses may be grouped differently).
    let (code, doc, err) = scan_to_json(&r, &t.path().join("caps.cdx.json"), &[]);
    assert_eq!(code, 0, "{err}");
    let caps_of = |path: &str| -> Vec<String> {
        components(&doc, "file")
            .into_iter()
            .filter(|c| c["name"] == path)
            .flat_map(|c| props(c, "bakeproof:file:capabilities"))
            .map(str::to_owned)
            .collect()
    };
    for f in ["fx-keep", "fx-plain", "fx-setuid"] {
        let g = getcap(f);
        let want = g.split_whitespace().nth(1).expect("getcap prints the set");
        assert_eq!(
            caps_of(&format!("/usr/bin/{f}")),
            vec![want.to_string()],
            "{g}"
        );
    }
    assert!(
        caps_of("/usr/bin/fx-ping").is_empty(),
        "removed with setcap -r"
    );
    assert_properties_documented(&doc);
}

/// Bare rpm databases with `--distro`: the OS component and purls name the
/// distribution, and trivy (offline, licence scanner only: no DB needed)
/// reads the OS and each package's source rpm as `rpm -qa
/// --qf %{SOURCERPM}` gives it; the purl's `upstream` is that file name
/// (grype's reading).
#[test]
fn bare_rpm_databases_with_distro_are_read_by_trivy() {
    for (db, expected, distro, family) in [
        (
            "rpmdb/rhel8-libuuid/Packages",
            "rpmdb/rhel8-libuuid/expected-packages.tsv",
            "rhel-8.8",
            "rhel",
        ),
        (
            "rpmdb/sle15-bci/Packages.db",
            "rpmdb/sle15-bci/expected-packages.tsv",
            "sles-15.5",
            "sles",
        ),
        (
            "rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
            "rpmdb/cbl-mariner-2.0/expected-packages.tsv",
            "mariner-2.0",
            "mariner",
        ),
    ] {
        let (t, copy) = private_copy(db);
        let f = t.path().join("sbom.cdx.json");
        let (code, doc, stderr) = scan_to_json(&copy, &f, &["--distro", distro]);
        assert_eq!(code, 0, "{db}: {stderr}");
        validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("{db}: schema: {e:#?}"));
        python_validate(&f).unwrap();
        assert_properties_documented(&doc);
        let os = components(&doc, "operating-system");
        assert_eq!(os.len(), 1, "{db}");
        let (id, version) = distro.rsplit_once('-').unwrap();
        assert_eq!(os[0]["name"], id);
        assert_eq!(os[0]["version"], version);

        // name -> SOURCERPM, from real rpm.
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        for l in oracle(expected).lines() {
            let f: Vec<&str> = l.split('\t').collect();
            want.insert(f[0].to_owned(), f[5].to_owned());
        }
        for c in components(&doc, "library") {
            let purl = c["purl"].as_str().unwrap();
            assert!(purl.contains(&format!("distro={distro}")), "{purl}");
            let p = bakeproof_types::Purl::parse(purl).unwrap();
            let upstream = p.qualifiers.iter().find(|(k, _)| k == "upstream");
            assert_eq!(
                upstream.map(|(_, v)| v.as_str()),
                Some(want[c["name"].as_str().unwrap()].as_str()),
                "{purl}"
            );
        }

        let report = common::schema::trivy_reads(&f);
        assert_eq!(report["Metadata"]["OS"]["Family"], family, "{db}");
        assert_eq!(report["Metadata"]["OS"]["Name"], version, "{db}");
        let pkgs = report["Results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Class"] == "os-pkgs")
            .unwrap_or_else(|| panic!("{db}: no os-pkgs: {report}"))["Packages"]
            .as_array()
            .unwrap();
        let mut got: BTreeMap<String, String> = BTreeMap::new();
        for p in pkgs {
            got.insert(
                p["Name"].as_str().unwrap().to_owned(),
                format!(
                    "{}-{}-{}.src.rpm",
                    p["SrcName"].as_str().unwrap(),
                    p["SrcVersion"].as_str().unwrap(),
                    p["SrcRelease"].as_str().unwrap()
                ),
            );
        }
        assert_eq!(got, want, "{db}");
    }
}

/// Without `--distro`, a bare rpm database names its distribution itself
/// (`DISTRIBUTION`, else `VENDOR`): CBL-Mariner's `Mariner`, SUSE's `SUSE
/// Linux Enterprise 15`. A database that says nothing (centos8-dive: empty
/// `VENDOR`, no `DISTRIBUTION`) gets no OS.
#[test]
fn bare_rpm_databases_name_their_distribution() {
    for (db, os, version, namespace) in [
        (
            "rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
            Some("mariner"),
            None,
            "pkg:rpm/mariner/",
        ),
        (
            "rpmdb/sle15-bci/Packages.db",
            Some("sles"),
            Some("15"),
            "pkg:rpm/sles/",
        ),
        (
            "rpmdb/rhel8-libuuid/Packages",
            Some("rhel"),
            None,
            "pkg:rpm/redhat/",
        ),
        ("rpmdb/centos8-dive/Packages", None, None, "pkg:rpm/dive@"),
    ] {
        let (t, copy) = private_copy(db);
        let f = t.path().join("sbom.cdx.json");
        let (code, doc, stderr) = scan_to_json(&copy, &f, &[]);
        assert_eq!(code, 0, "{db}: {stderr}");
        validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("{db}: schema: {e:#?}"));
        let oss = components(&doc, "operating-system");
        assert_eq!(oss.first().map(|c| c["name"].as_str().unwrap()), os, "{db}");
        if let Some(c) = oss.first() {
            assert_eq!(
                c["version"].as_str().filter(|v| !v.is_empty()),
                version,
                "{db}"
            );
        }
        for c in components(&doc, "library") {
            let purl = c["purl"].as_str().unwrap();
            assert!(purl.starts_with(namespace), "{db}: {purl}");
        }
    }
}

/// rpm's `PACKAGER` is each package's CycloneDX `author` and `VENDOR` its
/// `supplier`, as librpm itself reports them (`rpm -qa --qf`, live, on a
/// copy of each database); a package without a packager has no author.
#[test]
fn packager_is_the_author_and_vendor_the_supplier_as_librpm_reports() {
    for db in [
        "rpmdb/rhel8-libuuid/Packages",
        "rpmdb/centos8-dive/Packages",
        "rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
    ] {
        let (t, _copy) = private_copy(db);
        let o = std::process::Command::new("rpm")
            .arg("--dbpath")
            .arg(t.path())
            .args(["-qa", "--qf", "%{NAME}\\t%{PACKAGER}\\t%{VENDOR}\\n"])
            .output()
            .expect("rpm (librpm 4.18, installed by tests/run-all.sh)");
        assert!(
            o.status.success(),
            "{db}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let none = |s: &str| (s != "(none)" && !s.is_empty()).then(|| s.to_owned());
        let mut want: Vec<(String, Option<String>, Option<String>)> =
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    (f[0].to_owned(), none(f[1]), none(f[2]))
                })
                .collect();
        want.sort();
        assert!(!want.is_empty(), "{db}: librpm lists nothing");
        // A fresh copy for the scan (librpm may have written beside the first).
        let (t2, copy2) = private_copy(db);
        let (code, doc, stderr) = scan_to_json(&copy2, &t2.path().join("sbom.json"), &[]);
        assert_eq!(code, 0, "{db}: {stderr}");
        let mut got: Vec<(String, Option<String>, Option<String>)> = components(&doc, "library")
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["author"].as_str().map(str::to_owned),
                    c["supplier"]["name"].as_str().map(str::to_owned),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{db}");
    }
}
