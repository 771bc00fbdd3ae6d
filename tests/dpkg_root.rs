//! `bakeproof scan` and `verify-packages` on the real Debian 12 fixture
//! root, compared with the outputs of real dpkg-query / dpkg 1.21.22.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::run::{
    assert_properties_documented, bakeproof, components, extract, oracle, props, scan_to_json,
    verify_oracle,
};
use common::schema::{python_validate, validate_cyclonedx_1_5};

/// Package name as dpkg-query -S prints it, without the arch qualifier.
fn bare(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

/// purl → package name, from the SBOM's package components.
fn purl_names(doc: &serde_json::Value) -> BTreeMap<String, String> {
    components(doc, "library")
        .into_iter()
        .map(|c| {
            (
                c["bom-ref"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// path (physical name or listed alias) → (owner names, aliases).
fn ownership(doc: &serde_json::Value) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let names = purl_names(doc);
    let mut m = BTreeMap::new();
    for c in components(doc, "file") {
        let owners: BTreeSet<String> = props(c, "bakeproof:file:package")
            .into_iter()
            .map(|r| names[r].clone())
            .collect();
        let aliases: BTreeSet<String> = props(c, "bakeproof:file:listed-as")
            .into_iter()
            .map(str::to_owned)
            .collect();
        m.insert(c["name"].as_str().unwrap().to_owned(), (owners, aliases));
    }
    m
}

/// package → listed paths, from `dpkg-query -L`.
fn listed() -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in oracle("dpkgroot/expected-list.tsv").lines() {
        let (p, path) = l.split_once('\t').unwrap();
        m.entry(bare(p).to_owned())
            .or_default()
            .insert(path.to_owned());
    }
    m
}

#[test]
fn packages_equal_dpkg_query() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(root.path(), &f, &[]);
    assert_eq!(code, 0, "{stderr}");

    // ${Package}\t${Version}\t${Architecture}\t${Source}
    let mut got: Vec<String> = components(&doc, "library")
        .iter()
        .map(|c| {
            let arch = props(c, "bakeproof:package:arch")[0];
            let src = match (
                props(c, "bakeproof:package:source-name").first(),
                props(c, "bakeproof:package:source-version").first(),
            ) {
                (Some(n), Some(v)) => format!("{n} ({v})"),
                (Some(n), None) => (*n).to_owned(),
                _ => String::new(),
            };
            format!(
                "{}\t{}\t{arch}\t{src}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    let want: Vec<String> = oracle("dpkgroot/expected-packages.tsv")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, want);

    // purls per purl-spec, distro from os-release (debian 12)
    for c in components(&doc, "library") {
        let purl = c["purl"].as_str().unwrap();
        assert!(
            purl.starts_with(&format!("pkg:deb/debian/{}@", c["name"].as_str().unwrap())),
            "{purl}"
        );
        assert!(purl.contains("distro=debian-12"), "{purl}");
        assert!(purl.contains("arch="), "{purl}");
    }
    let os = components(&doc, "operating-system");
    assert_eq!(os.len(), 1);
    assert_eq!(os[0]["name"], "debian");
    assert_eq!(os[0]["version"], "12");

    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
    // The cyclonedx-bom crate reads it back, file components included.
    let bom =
        cyclonedx_bom::models::bom::Bom::parse_from_json_v1_5(std::fs::File::open(&f).unwrap())
            .expect("cyclonedx-bom parses the SBOM");
    let n = bom.components.as_ref().map(|c| c.0.len()).unwrap_or(0);
    assert_eq!(n, doc["components"].as_array().unwrap().len());
    use cyclonedx_bom::validation::Validate;
    let report = bom.validate();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn ownership_equals_dpkg_s_modulo_usrmerge_aliases() {
    for (tarball, expected) in [
        ("dpkgroot/clean.tar.gz", "dpkgroot/expected-S-clean.tsv"),
        (
            "dpkgroot/tampered.tar.gz",
            "dpkgroot/expected-S-tampered.tsv",
        ),
    ] {
        let root = extract(tarball);
        let out = tempfile::tempdir().unwrap();
        let f = out.path().join("sbom.cdx.json");
        let (_, doc, _) = scan_to_json(root.path(), &f, &[]);
        let own = ownership(&doc);
        let lists = listed();
        // Reverse view: listed alias → physical component.
        let mut by_alias: BTreeMap<&str, &str> = BTreeMap::new();
        for (phys, (_, aliases)) in &own {
            for a in aliases {
                by_alias.insert(a, phys);
            }
        }
        let mut checked = 0;
        for line in oracle(expected).lines() {
            let (path, answer) = line.split_once('\t').unwrap();
            let dpkg_owners: BTreeSet<String> = if answer.contains("no path found") {
                BTreeSet::new()
            } else {
                let (names, p) = answer.rsplit_once(": ").unwrap();
                assert_eq!(p, path);
                names.split(", ").map(|n| bare(n).to_owned()).collect()
            };
            // The component this path names: itself, or the physical file a
            // listed alias resolves to (usrmerge: /bin/bzip2 is /usr/bin/bzip2).
            let comp = own
                .get(path)
                .or_else(|| by_alias.get(path).and_then(|p| own.get(*p)));
            let Some((ours, aliases)) = comp else {
                // Not on disk: only a deleted package file may be missing.
                assert!(
                    !dpkg_owners.is_empty() && tarball.contains("tampered"),
                    "{path} is not in the SBOM but dpkg says {answer}"
                );
                continue;
            };
            // Ours = dpkg's owners of this very string, plus the owners of
            // every alias that resolves to the same physical entry.
            let mut expect = dpkg_owners.clone();
            if own.contains_key(path) {
                for a in aliases {
                    for (pkg, paths) in &lists {
                        if paths.contains(a) {
                            expect.insert(pkg.clone());
                        }
                    }
                }
            } else {
                expect = ours.clone();
                assert!(
                    dpkg_owners.is_subset(ours),
                    "{path}: dpkg {dpkg_owners:?} ours {ours:?}"
                );
            }
            assert_eq!(ours, &expect, "owners of {path} ({tarball})");
            checked += 1;
        }
        assert!(checked > 150, "only {checked} paths checked");
        // Unowned: exactly the entries no listed path names.
        let unowned: BTreeSet<&str> = components(&doc, "file")
            .into_iter()
            .filter(|c| props(c, "bakeproof:file:unowned") == ["true"])
            .map(|c| c["name"].as_str().unwrap())
            .filter(|n| !n.starts_with("/var/lib/dpkg"))
            .collect();
        // dpkg-query -S: "no path found" for an on-disk path that is not
        // the physical form of any listed alias = unowned.
        let want: BTreeSet<String> = oracle(expected)
            .lines()
            .filter(|l| l.contains("no path found"))
            .map(|l| l.split('\t').next().unwrap().to_owned())
            .filter(|p| own.get(p).is_some_and(|(_, aliases)| aliases.is_empty()))
            .filter(|p| !p.starts_with("/var/lib/dpkg"))
            .collect();
        let unowned: BTreeSet<String> = unowned.into_iter().map(str::to_owned).collect();
        if tarball.contains("tampered") {
            assert!(
                want.contains("/opt/extra/notes.txt") && want.contains("/usr/local/bin/local-tool")
            );
        }
        assert_eq!(unowned, want, "{tarball}");
    }
}

#[test]
fn verify_packages_equals_dpkg_verify() {
    for (tarball, expected, code) in [
        (
            "dpkgroot/clean.tar.gz",
            "dpkgroot/expected-verify-clean.txt",
            0,
        ),
        (
            "dpkgroot/tampered.tar.gz",
            "dpkgroot/expected-verify.txt",
            1,
        ),
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

#[test]
fn sbom_records_verification_of_tampered_root() {
    let root = extract("dpkgroot/tampered.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(root.path(), &f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let files: BTreeMap<&str, &serde_json::Value> = components(&doc, "file")
        .into_iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    assert_eq!(
        props(files["/usr/bin/bzgrep"], "bakeproof:file:verify"),
        ["modified"]
    );
    assert_eq!(
        props(files["/etc/services"], "bakeproof:file:verify"),
        ["modified"]
    );
    assert_eq!(
        props(files["/etc/services"], "bakeproof:file:config"),
        ["true"]
    );
    assert_eq!(
        props(files["/usr/bin/bzip2"], "bakeproof:file:verify"),
        ["ok"]
    );
    let bz = components(&doc, "library")
        .into_iter()
        .find(|c| c["name"] == "bzip2")
        .unwrap();
    assert_eq!(
        props(bz, "bakeproof:package:missing"),
        ["/usr/share/man/man1/bzmore.1.gz"]
    );
    assert_eq!(props(bz, "bakeproof:package:modified"), ["/bin/bzgrep"]);
    // Every md5sums entry of the oracle was checked on the tampered root.
    let checked: usize = components(&doc, "library")
        .iter()
        .map(|c| {
            props(c, "bakeproof:package:verified-files")[0]
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let md5_lines = oracle("dpkgroot/expected-md5sums.tsv").lines().count();
    let conffiles = oracle("dpkgroot/expected-conffiles.tsv").lines().count();
    assert_eq!(checked, md5_lines + conffiles);
    let meta = &doc["metadata"]["properties"];
    let get = |n: &str| {
        meta.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(get("bakeproof:scan:modified"), "2");
    assert_eq!(get("bakeproof:scan:missing"), "1");
    assert_properties_documented(&doc);
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
}

#[test]
fn deterministic_output_and_tree_digest() {
    let a = extract("dpkgroot/clean.tar.gz");
    let b = extract("dpkgroot/clean.tar.gz");
    let t = extract("dpkgroot/tampered.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let run = |root: &std::path::Path, name: &str| {
        let f = out.path().join(name);
        let (code, doc, _) = scan_to_json(root, &f, &["--name", "fixture"]);
        assert_eq!(code, 0);
        (std::fs::read(&f).unwrap(), doc)
    };
    let (a1, da) = run(a.path(), "a1.json");
    let (a2, _) = run(a.path(), "a2.json");
    let (b1, db) = run(b.path(), "b1.json");
    let (_, dt) = run(t.path(), "t1.json");
    assert!(a1 == a2, "two scans of one tree differ");
    let digest = |d: &serde_json::Value| {
        d["metadata"]["component"]["hashes"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Another extraction of the same tarball: same tree, same digest (and,
    // with the same mtimes from the tarball, the same bytes).
    assert_eq!(digest(&da), digest(&db));
    // ... and the same SBOM but for the scanned path.
    let strip = |mut d: serde_json::Value| {
        d["metadata"]["component"]["properties"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p["name"] != "bakeproof:source");
        d["serialNumber"] = serde_json::Value::Null;
        d
    };
    assert!(
        strip(da.clone()) == strip(db.clone()),
        "same tree, different SBOM"
    );
    let _ = b1;
    assert_ne!(digest(&da), digest(&dt));
    assert_eq!(da["metadata"]["timestamp"], "2024-01-01T00:00:00Z");
}

#[test]
fn bare_status_file() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(&root.path().join("var/lib/dpkg/status"), &f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let mut names: Vec<&str> = components(&doc, "library")
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    let want: Vec<String> = oracle("dpkgroot/expected-packages.tsv")
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, want);
    assert!(components(&doc, "file").is_empty());
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
}

/// `scan --packages-only`: the packages of the full scan (purls compared with
/// the full scan and names with dpkg-query's oracle), no file components, no
/// tree digest; such an SBOM is refused by `attest` (it proves no image).
#[test]
fn packages_only_scan() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let full = out.path().join("full.cdx.json");
    let po = out.path().join("po.cdx.json");
    let (code, full_doc, stderr) = scan_to_json(root.path(), &full, &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, doc, stderr) = scan_to_json(root.path(), &po, &["--packages-only"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(purl_names(&doc), purl_names(&full_doc));
    let mut names: Vec<String> = purl_names(&doc).into_values().collect();
    names.sort();
    let want: Vec<String> = oracle("dpkgroot/expected-packages.tsv")
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, want);
    assert!(components(&doc, "file").is_empty());
    let image = &doc["metadata"]["component"];
    assert!(image.get("hashes").is_none(), "{image}");
    assert_eq!(props(image, "bakeproof:scan:mode"), ["packages-only"]);
    assert!(props(image, "bakeproof:tree-digest").is_empty());
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    assert_properties_documented(&doc);
    // attest refuses it: there is no tree to bind an AMI to.
    std::fs::write(out.path().join("seal.json"), b"{}").unwrap();
    let o = bakeproof(&[
        "attest".as_ref(),
        "--sbom".as_ref(),
        po.as_os_str(),
        "--seal".as_ref(),
        out.path().join("seal.json").as_os_str(),
        "--key".as_ref(),
        out.path().join("none.key").as_os_str(),
        "--ami".as_ref(),
        "us-east-1:ami-0123456789abcdef0".as_ref(),
        "-o".as_ref(),
        out.path().join("att").as_os_str(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tree digest"), "{err}");
}

/// The strongest oracle at hand: this machine's own dpkg database (hundreds
/// of packages, diversions, usrmerge, conffiles, locally modified files).
/// `bakeproof verify-packages /` must report exactly what `dpkg --verify`
/// reports (as a set: dpkg walks packages in its hash-table order).
#[test]
fn verify_packages_of_this_machine_equals_dpkg_verify() {
    let dpkg = std::process::Command::new("dpkg")
        .arg("--verify")
        .output()
        .expect("dpkg (Debian)");
    // Scratch and build trees hold no package files; skipping them keeps
    // the scan short. Both runs see the same package files.
    let ours = bakeproof(&[
        "verify-packages".as_ref(),
        "/".as_ref(),
        "--exclude".as_ref(),
        "/work".as_ref(),
        "--exclude".as_ref(),
        "/tmp".as_ref(),
    ]);
    let set = |b: &[u8]| -> BTreeSet<String> {
        String::from_utf8_lossy(b)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let want = set(&dpkg.stdout);
    let got = set(&ours.stdout);
    let missing: Vec<_> = want.difference(&got).take(20).collect();
    let extra: Vec<_> = got.difference(&want).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "dpkg only: {missing:#?}\nbakeproof only: {extra:#?}"
    );
    let code = ours.status.code();
    assert_eq!(
        code,
        Some(if want.is_empty() { 0 } else { 1 }),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
}

/// Two listed paths that differ only in an invalid UTF-8 byte (0xFF, 0xFE):
/// `verify-packages` prints each path's raw bytes, exactly the lines real
/// `dpkg --root R --verify` prints, not one U+FFFD line twice.
#[test]
fn verify_packages_prints_raw_bytes_like_dpkg() {
    use std::io::Write as _;
    use std::os::unix::ffi::OsStrExt;
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    let info = r.join("var/lib/dpkg/info");
    let append = |f: &str, b: &[u8]| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(info.join(f))
            .unwrap()
            .write_all(b)
            .unwrap()
    };
    append(
        "bzip2.list",
        b"/usr/share/doc/bzip2/x\xff\n/usr/share/doc/bzip2/x\xfe\n",
    );
    // MD5 of the empty file: the 0xFF file's content differs, the 0xFE one is missing.
    append(
        "bzip2.md5sums",
        b"d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/bzip2/x\xff\n\
          d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/bzip2/x\xfe\n",
    );
    std::fs::write(
        r.join(std::ffi::OsStr::from_bytes(b"usr/share/doc/bzip2/x\xff")),
        b"A",
    )
    .unwrap();
    let dpkg = std::process::Command::new("dpkg")
        .arg(format!("--root={}", r.display()))
        .arg("--verify")
        .output()
        .expect("dpkg");
    let want: BTreeSet<Vec<u8>> = dpkg
        .stdout
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    assert!(
        want.contains(&b"??5??????   /usr/share/doc/bzip2/x\xff"[..])
            && want.contains(&b"missing     /usr/share/doc/bzip2/x\xfe"[..]),
        "dpkg printed: {:?}",
        String::from_utf8_lossy(&dpkg.stdout)
    );
    let o = bakeproof(&["verify-packages".as_ref(), r.as_os_str()]);
    let got: BTreeSet<Vec<u8>> = o
        .stdout
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(
        got,
        want,
        "bakeproof: {:?}\ndpkg: {:?}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&dpkg.stdout)
    );
    assert_eq!(o.status.code(), Some(1));
}

/// `scan --unowned` prints one escaped token per path: a name with a
/// newline cannot forge a second `unowned` line, and the literal `%FF` and
/// the byte 0xFF stay apart.
#[test]
fn scan_unowned_lines_cannot_be_forged_by_names() {
    use std::os::unix::ffi::OsStrExt;
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    // A directory `x<newline>unowned file ` holding `etc/forged`.
    std::fs::create_dir_all(r.join("opt/x\nunowned file /etc")).unwrap();
    for name in [
        &b"opt/x\nunowned file /etc/forged"[..],
        b"opt/a%FF",
        b"opt/a\xff",
    ] {
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(name)), b"x").unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let o = bakeproof(&[
        "scan".as_ref(),
        r.as_os_str(),
        "-o".as_ref(),
        out.path().join("s.json").as_os_str(),
        "-q".as_ref(),
        "--unowned".as_ref(),
    ]);
    let err = String::from_utf8(o.stderr).expect("escaped output is ASCII");
    let lines: BTreeSet<&str> = err.lines().collect();
    assert!(!lines.contains("unowned file /etc/forged"), "{err}");
    for l in [
        "unowned file /opt/x%0Aunowned%20file%20/etc/forged",
        "unowned file /opt/a%25FF",
        "unowned file /opt/a%FF",
    ] {
        assert!(lines.contains(l), "{l:?} not in:\n{err}");
    }
}

/// Link targets carry the encoding marker paths carry: a byte-0xFF target
/// and a literal `%FF` one are written with the same text, and only the
/// first is marked.
#[test]
fn sbom_marks_percent_encoded_link_targets() {
    use std::os::unix::ffi::OsStrExt;
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    std::fs::create_dir_all(r.join("opt")).unwrap();
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(b"t\xff"), r.join("opt/raw")).unwrap();
    std::os::unix::fs::symlink("t%FF", r.join("opt/lit")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("s.json");
    let (code, doc, stderr) = scan_to_json(r, &f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let files: BTreeMap<&str, &serde_json::Value> = components(&doc, "file")
        .into_iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    for (p, marked) in [("/opt/raw", true), ("/opt/lit", false)] {
        let c = files[p];
        assert_eq!(props(c, "bakeproof:file:link-target"), ["t%FF"], "{c:#}");
        let m = props(c, "bakeproof:file:link-target-encoding");
        assert_eq!(m.len(), usize::from(marked), "{p}: {c:#}");
        if marked {
            assert_eq!(m, ["percent"]);
        }
    }
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    assert_properties_documented(&doc);
}

/// Scanners find the source package (trivy's `SrcName`/`SrcVersion`
/// properties, grype's purl `upstream`), SPDX licences, the OS with a CPE,
/// and an explicit `dependsOn` on every dependency entry.
#[test]
fn scanners_read_sources_licences_and_os() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(root.path(), &f, &["--packages-only"]);
    assert_eq!(code, 0, "{stderr}");
    validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&f).unwrap();
    assert_properties_documented(&doc);

    // The oracle: dpkg-query's ${Package}, ${Version}, ${Source} (`NAME
    // (VERSION)` when it differs from the binary's, as dpkg-query prints).
    let mut want: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut source_field: BTreeMap<String, String> = BTreeMap::new();
    for l in oracle("dpkgroot/expected-packages.tsv").lines() {
        let f: Vec<&str> = l.split('\t').collect();
        let (name, version, src) = (f[0], f[1], f[3]);
        let (sn, sv) = match src.split_once(" (") {
            Some((n, v)) => (n.to_owned(), v.trim_end_matches(')').to_owned()),
            None if !src.is_empty() => (src.to_owned(), version.to_owned()),
            None => (name.to_owned(), version.to_owned()),
        };
        want.insert(name.to_owned(), (sn, sv));
        source_field.insert(name.to_owned(), src.to_owned());
    }

    // trivy, an independent consumer, reads the source packages.
    let report = common::schema::trivy_reads(&f);
    assert_eq!(report["Metadata"]["OS"]["Family"], "debian", "{report}");
    assert_eq!(report["Metadata"]["OS"]["Name"], "12", "{report}");
    let pkgs = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Class"] == "os-pkgs")
        .unwrap_or_else(|| panic!("no os-pkgs result: {report}"))["Packages"]
        .as_array()
        .unwrap();
    let mut got: BTreeMap<String, (String, String)> = BTreeMap::new();
    for p in pkgs {
        let mut v = p["SrcVersion"].as_str().unwrap().to_owned();
        if let Some(r) = p["SrcRelease"].as_str().filter(|r| !r.is_empty()) {
            v = format!("{v}-{r}");
        }
        if let Some(e) = p["SrcEpoch"].as_u64().filter(|e| *e != 0) {
            v = format!("{e}:{v}");
        }
        got.insert(
            p["Name"].as_str().unwrap().to_owned(),
            (p["SrcName"].as_str().unwrap().to_owned(), v),
        );
    }
    assert_eq!(got, want);

    // grype: the purl's `upstream` qualifier, as syft writes it.
    for c in components(&doc, "library") {
        let name = c["name"].as_str().unwrap();
        let purl = bakeproof_types::Purl::parse(c["purl"].as_str().unwrap()).unwrap();
        let upstream = purl
            .qualifiers
            .iter()
            .find(|(k, _)| k == "upstream")
            .map(|(_, v)| v.clone());
        let src = &source_field[name];
        let expect = match src.split_once(" (") {
            Some((n, v)) => Some(format!("{n}@{}", v.trim_end_matches(')'))),
            None if !src.is_empty() => Some(src.clone()),
            None => None,
        };
        assert_eq!(upstream, expect, "{name}");
    }

    // Licences: DEP-5 names as SPDX ids / expressions, the rest names, the
    // raw texts kept.
    let lic = |name: &str| {
        components(&doc, "library")
            .into_iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        lic("bzip2")["licenses"],
        serde_json::json!([{"license": {"name": "BSD-variant"}}, {"license": {"id": "GPL-2.0-only"}}])
    );
    assert_eq!(
        props(&lic("bzip2"), "bakeproof:package:license"),
        ["BSD-variant", "GPL-2"]
    );
    assert_eq!(
        lic("netbase")["licenses"],
        serde_json::json!([{"license": {"id": "GPL-2.0-only"}}])
    );
    assert_eq!(
        lic("libpam-cap")["licenses"],
        serde_json::json!([{"expression": "(BSD-3-Clause OR GPL-2.0-only) AND (BSD-3-Clause OR GPL-2.0-or-later) AND BSD-3-Clause AND GPL-2.0-only AND GPL-2.0-or-later"}])
    );
    assert!(lic("base-files").get("licenses").is_none());

    // The OS component: Debian's os-release has no CPE_NAME; NVD's name.
    let os = components(&doc, "operating-system");
    assert_eq!(os[0]["cpe"], "cpe:/o:debian:debian_linux:12");

    // Every dependency entry says what it depends on, leaves `[]`.
    let deps = doc["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1 + want.len());
    for d in deps {
        assert!(d["dependsOn"].is_array(), "{d}");
    }
    assert!(
        deps.iter()
            .any(|d| d["dependsOn"].as_array().unwrap().is_empty())
    );
}

/// `--distro` names a bare database's distribution: on a bare status file it
/// sets the purls' distro and the OS component; a root (whose os-release
/// says) and a value not `ID-VERSION_ID` are refused with exit 2.
#[test]
fn distro_flag_for_bare_databases_only() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let status = root.path().join("var/lib/dpkg/status");
    let f = out.path().join("sbom.cdx.json");
    let (code, doc, stderr) = scan_to_json(&status, &f, &["--distro", "debian-11"]);
    assert_eq!(code, 0, "{stderr}");
    let os = components(&doc, "operating-system");
    assert_eq!(
        (os[0]["name"].as_str(), os[0]["version"].as_str()),
        (Some("debian"), Some("11"))
    );
    assert_eq!(os[0]["cpe"], "cpe:/o:debian:debian_linux:11");
    for c in components(&doc, "library") {
        assert!(
            c["purl"].as_str().unwrap().contains("distro=debian-11"),
            "{c}"
        );
    }
    for args in [
        vec![
            std::ffi::OsStr::new("scan"),
            "--distro".as_ref(),
            "debian-12".as_ref(),
            root.path().as_os_str(),
        ],
        vec![
            "scan".as_ref(),
            "--distro".as_ref(),
            "Debian 12".as_ref(),
            status.as_os_str(),
        ],
    ] {
        let o = bakeproof(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("distro"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
