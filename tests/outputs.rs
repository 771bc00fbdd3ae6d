//! `bakeproof scan -o FORMAT[=FILE]`: several outputs from one scan
//! (CycloneDX 1.5 and 1.6, the packages-only CycloneDX, SPDX 2.3, the
//! table), each checked against independent oracles: the official SPDX 2.3
//! schema, PyPI spdx-tools, cyclonedx-python-lib's 1.6 schema, coreutils'
//! `sha1sum`/`sha256sum`, trivy and syft.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

use common::run::{
    assert_properties_documented, bakeproof, bakeproof_bin, components, describe, extract, props,
};
use common::schema::{
    python_validate, python_validate_version, spdx_tools_validate, trivy_reads,
    validate_cyclonedx_1_5, validate_with_schema,
};
use serde_json::Value;

fn scan(root: &Path, outputs: &[String]) -> std::process::Output {
    let mut args: Vec<&OsStr> = vec!["scan".as_ref(), root.as_os_str(), "-q".as_ref()];
    for o in outputs {
        args.push("-o".as_ref());
        args.push(o.as_ref());
    }
    bakeproof(&args)
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn o(format: &str, p: &Path) -> String {
    format!("{format}={}", p.display())
}

/// Every output of one scan is byte for byte the output of a scan that
/// writes only it (the time is pinned, so the serial number is derived
/// and the same); a bare `-o FILE` keeps its old meaning.
#[test]
fn several_outputs_equal_single_output_scans() {
    for fixture in ["dpkgroot/clean.tar.gz", "rpmroot/clean.tar.gz"] {
        let root = extract(fixture);
        let out = tempfile::tempdir().unwrap();
        let d = out.path();
        let formats = [
            ("cyclonedx-json", "a.cdx.json"),
            ("cyclonedx-json@1.6", "b.cdx.json"),
            ("cyclonedx-json-packages", "c.cdx.json"),
            ("cyclonedx-json-packages@1.6", "c6.cdx.json"),
            ("spdx-json", "d.spdx.json"),
            ("table", "e.txt"),
        ];
        let mut all: Vec<String> = formats
            .iter()
            .map(|(f, n)| o(f, &d.join(format!("all-{n}"))))
            .collect();
        all.push("table".into());
        let r = scan(root.path(), &all);
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
        for (f, n) in formats {
            let single = d.join(format!("one-{n}"));
            let r1 = scan(root.path(), &[o(f, &single)]);
            assert_eq!(r1.status.code(), Some(0), "{}", describe(&r1));
            let a = std::fs::read(d.join(format!("all-{n}"))).unwrap();
            let b = std::fs::read(&single).unwrap();
            assert!(a == b, "{fixture}: {f} of the several-output scan differs");
        }
        assert_eq!(
            r.stdout,
            std::fs::read(d.join("all-e.txt")).unwrap(),
            "table on stdout"
        );
        // `-o FILE` (no format name): CycloneDX 1.5, as before.
        let bare = d.join("bare.json");
        let r = scan(root.path(), &[bare.display().to_string()]);
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
        assert_eq!(
            std::fs::read(&bare).unwrap(),
            std::fs::read(d.join("all-a.cdx.json")).unwrap()
        );
    }
}

#[test]
fn output_refusals() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    for (args, want) in [
        (
            vec!["table".to_owned(), "spdx-json".to_owned()],
            "at most one output",
        ),
        (
            vec![
                o("table", &out.path().join("x")),
                o("spdx-json", &out.path().join("x")),
            ],
            "named twice",
        ),
    ] {
        let r = scan(root.path(), &args);
        assert_eq!(r.status.code(), Some(2), "{}", describe(&r));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(want), "{err}");
        assert!(
            std::fs::read_dir(out.path()).unwrap().next().is_none(),
            "nothing written"
        );
    }
}

/// purl → bom-ref of the package components of a CycloneDX SBOM.
fn cdx_packages(doc: &Value) -> BTreeSet<String> {
    components(doc, "library")
        .iter()
        .map(|c| c["purl"].as_str().unwrap().to_owned())
        .collect()
}

/// The packages-only SBOM of a scan and its full SBOM: one serial number
/// and tree digest, the same packages (component for component), no file.
/// Also without SOURCE_DATE_EPOCH, where the serial number is random.
#[test]
fn packages_only_sbom_shares_serial_and_tree_digest() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let full = out.path().join("full.json");
    let po = out.path().join("packages.json");
    let po16 = out.path().join("packages16.json");
    let r = Command::new(bakeproof_bin())
        .args(["scan", "-q"])
        .arg(root.path())
        .arg("-o")
        .arg(o("cyclonedx-json", &full))
        .arg("-o")
        .arg(o("cyclonedx-json-packages", &po))
        .arg("-o")
        .arg(o("cyclonedx-json-packages@1.6", &po16))
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let (f, p) = (read(&full), read(&po));
    assert!(f["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"));
    assert_eq!(f["serialNumber"], p["serialNumber"]);
    assert_eq!(f["metadata"]["timestamp"], p["metadata"]["timestamp"]);
    assert_eq!(
        f["metadata"]["component"]["hashes"],
        p["metadata"]["component"]["hashes"]
    );
    let fi = &f["metadata"]["component"];
    let pi = &p["metadata"]["component"];
    assert_eq!(
        props(fi, "bakeproof:tree-digest"),
        props(pi, "bakeproof:tree-digest")
    );
    assert_eq!(props(pi, "bakeproof:sbom:content"), ["packages"]);
    assert!(props(fi, "bakeproof:sbom:content").is_empty());
    assert!(!components(&f, "file").is_empty());
    assert!(components(&p, "file").is_empty());
    // Every non-file component of the full SBOM, and nothing else.
    let non_file: Vec<&Value> = f["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] != "file")
        .collect();
    let got: Vec<&Value> = p["components"].as_array().unwrap().iter().collect();
    assert_eq!(got, non_file);
    assert_eq!(f["dependencies"], p["dependencies"]);
    assert_eq!(cdx_packages(&p).len(), 5);
    validate_cyclonedx_1_5(&p).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    python_validate(&po).unwrap();
    python_validate_version(&po16, "1.6").unwrap();
    assert_properties_documented(&p);
    let p16 = read(&po16);
    assert_eq!(p16["serialNumber"], f["serialNumber"]);
}

/// CycloneDX 1.6: valid against cyclonedx-python-lib's bundled official 1.6
/// schema, and the 1.5 document of the same scan apart from the version
/// (and 1.6's `authors` for 1.5's `author`).
#[test]
fn cyclonedx_1_6_output() {
    for fixture in ["dpkgroot/clean.tar.gz", "rpmroot/clean.tar.gz"] {
        let root = extract(fixture);
        let out = tempfile::tempdir().unwrap();
        let (a, b) = (out.path().join("15.json"), out.path().join("16.json"));
        let r = scan(
            root.path(),
            &[o("cyclonedx-json", &a), o("cyclonedx-json@1.6", &b)],
        );
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
        python_validate_version(&b, "1.6").unwrap();
        let (mut x, y) = (read(&a), read(&b));
        assert_eq!(y["specVersion"], "1.6");
        if fixture.starts_with("dpkg") {
            // dpkg's Maintainer: 1.5 `author`, 1.6 `authors` (name, e-mail)
            for c in components(&y, "library") {
                assert!(c.get("author").is_none(), "{c}");
                assert!(
                    c["authors"][0]["email"]
                        .as_str()
                        .is_some_and(|e| e.contains('@')),
                    "{c}"
                );
            }
            // The distributor is the supplier (apt's archive origin, or the
            // root's distribution), the maintainer the author.
            assert!(
                components(&x, "library").iter().all(|c| {
                    c["supplier"]["name"] == "Debian"
                        && c["author"].as_str().is_some_and(|a| a.contains('@'))
                }),
                "{x}"
            );
        }
        x["specVersion"] = "1.6".into();
        for c in x["components"].as_array_mut().unwrap() {
            if let Some(author) = c.as_object_mut().unwrap().remove("author") {
                let s = author.as_str().unwrap();
                let (name, email) = s.split_once(" <").unwrap();
                c["authors"] = serde_json::json!([{"name": name,
                    "email": email.trim_end_matches('>')}]);
            }
        }
        // Compared without key order (1.6's field order is the model's).
        assert_eq!(
            serde_json::to_string(&sorted(&x)).unwrap(),
            serde_json::to_string(&sorted(&y)).unwrap(),
            "{fixture}"
        );
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let b: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::to_value(b).unwrap()
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        v => v.clone(),
    }
}

/// `sha1sum` / `sha256sum` (coreutils) of every regular file of `root`,
/// by path inside the root (`./usr/...`), files only.
fn coreutils_sums(root: &Path, tool: &str) -> BTreeMap<String, String> {
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd \"$1\" && find . -type f -print0 | sort -z | xargs -0 -r {tool}"
        ))
        .arg("sh")
        .arg(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (sum, path) = l.split_once("  ").unwrap();
            (path.to_owned(), sum.to_owned())
        })
        .collect()
}

/// SPDX 2.3: valid against the official schema (schemas/spdx-2.3.schema.json)
/// and for spdx-tools; every regular file with the SHA-1 and SHA-256
/// coreutils compute; the packages and purls of the CycloneDX SBOM of the
/// same scan; each file `CONTAINS`-ed by the packages the CycloneDX SBOM
/// says own it (the image for unowned ones); one namespace per serial.
#[test]
fn spdx_output() {
    for fixture in ["dpkgroot/clean.tar.gz", "rpmroot/clean.tar.gz"] {
        let root = extract(fixture);
        let out = tempfile::tempdir().unwrap();
        let (cdx, spdx) = (
            out.path().join("x.cdx.json"),
            out.path().join("x.spdx.json"),
        );
        let r = scan(
            root.path(),
            &[o("cyclonedx-json", &cdx), o("spdx-json", &spdx)],
        );
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
        let doc = read(&spdx);
        validate_with_schema("spdx-2.3.schema.json", &doc)
            .unwrap_or_else(|e| panic!("{fixture}: SPDX 2.3 schema: {e:#?}"));
        spdx_tools_validate(&spdx).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        // Both oracles can fail: a file without its SHA-1 is refused by
        // spdx-tools, one without checksums by the schema too.
        let mut bad = doc.clone();
        bad["files"][0]["checksums"]
            .as_array_mut()
            .unwrap()
            .remove(0);
        let bad_path = out.path().join("bad.spdx.json");
        std::fs::write(&bad_path, serde_json::to_vec(&bad).unwrap()).unwrap();
        assert!(
            spdx_tools_validate(&bad_path).is_err(),
            "spdx-tools: no SHA1"
        );
        bad["files"][0].as_object_mut().unwrap().remove("checksums");
        assert!(validate_with_schema("spdx-2.3.schema.json", &bad).is_err());
        let c = read(&cdx);
        let serial = c["serialNumber"].as_str().unwrap();
        assert!(
            doc["documentNamespace"]
                .as_str()
                .unwrap()
                .ends_with(serial.trim_start_matches("urn:uuid:")),
            "{}",
            doc["documentNamespace"]
        );
        assert_eq!(doc["creationInfo"]["created"], c["metadata"]["timestamp"]);

        // files and checksums against coreutils
        let sha1 = coreutils_sums(root.path(), "sha1sum");
        let sha256 = coreutils_sums(root.path(), "sha256sum");
        let mut got1 = BTreeMap::new();
        let mut got256 = BTreeMap::new();
        let mut file_ids: BTreeMap<String, String> = BTreeMap::new();
        for f in doc["files"].as_array().unwrap() {
            let name = f["fileName"].as_str().unwrap().to_owned();
            file_ids.insert(f["SPDXID"].as_str().unwrap().to_owned(), name.clone());
            for ck in f["checksums"].as_array().unwrap() {
                let v = ck["checksumValue"].as_str().unwrap().to_owned();
                match ck["algorithm"].as_str().unwrap() {
                    "SHA1" => got1.insert(name.clone(), v),
                    "SHA256" => got256.insert(name.clone(), v),
                    a => panic!("{a}"),
                };
            }
        }
        assert!(!sha1.is_empty());
        assert_eq!(got1, sha1, "{fixture}: SHA-1 of the files");
        assert_eq!(got256, sha256, "{fixture}: SHA-256 of the files");

        // packages: the CycloneDX ones, by purl
        let mut pkg_ids: BTreeMap<String, String> = BTreeMap::new();
        for p in doc["packages"].as_array().unwrap() {
            for r in p["externalRefs"].as_array().into_iter().flatten() {
                if r["referenceType"] == "purl" {
                    assert_eq!(r["referenceCategory"], "PACKAGE-MANAGER");
                    pkg_ids.insert(
                        p["SPDXID"].as_str().unwrap().to_owned(),
                        r["referenceLocator"].as_str().unwrap().to_owned(),
                    );
                }
            }
        }
        let purls: BTreeSet<String> = pkg_ids.values().cloned().collect();
        assert_eq!(purls, cdx_packages(&c), "{fixture}");

        // ownership: SPDX CONTAINS = CycloneDX bakeproof:file:package
        let ref_purl: BTreeMap<String, String> = components(&c, "library")
            .iter()
            .map(|p| {
                (
                    p["bom-ref"].as_str().unwrap().to_owned(),
                    p["purl"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut want: BTreeSet<(String, String)> = BTreeSet::new();
        for f in components(&c, "file") {
            // regular files read without error: the ones with a digest
            if !props(f, "bakeproof:file:type").contains(&"file") || f.get("hashes").is_none() {
                continue;
            }
            let name = format!(".{}", f["name"].as_str().unwrap());
            let owners = props(f, "bakeproof:file:package");
            if owners.is_empty() {
                want.insert(("image".into(), name));
            } else {
                for o in owners {
                    want.insert((ref_purl[o].clone(), name.clone()));
                }
            }
        }
        let mut got: BTreeSet<(String, String)> = BTreeSet::new();
        let mut describes = 0;
        for r in doc["relationships"].as_array().unwrap() {
            let (a, t, b) = (
                r["spdxElementId"].as_str().unwrap(),
                r["relationshipType"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap(),
            );
            if t == "DESCRIBES" {
                assert_eq!((a, b), ("SPDXRef-DOCUMENT", "SPDXRef-Image"));
                describes += 1;
            }
            if t == "CONTAINS"
                && let Some(file) = file_ids.get(b)
            {
                let owner = if a == "SPDXRef-Image" {
                    "image".to_owned()
                } else {
                    pkg_ids[a].clone()
                };
                got.insert((owner, file.clone()));
            }
        }
        assert_eq!(describes, 1);
        assert_eq!(got, want, "{fixture}: files CONTAINS-ed by their packages");
    }
}

/// The licences of the Debian fixture: SPDX expressions where the
/// CycloneDX SBOM has SPDX ids or an expression, NOASSERTION otherwise.
#[test]
fn spdx_licences_follow_the_cyclonedx_mapping() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let (cdx, spdx) = (
        out.path().join("x.cdx.json"),
        out.path().join("x.spdx.json"),
    );
    let r = scan(
        root.path(),
        &[o("cyclonedx-json", &cdx), o("spdx-json", &spdx)],
    );
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let c = read(&cdx);
    let doc = read(&spdx);
    let mut seen_expr = false;
    for comp in components(&c, "library") {
        let purl = comp["purl"].as_str().unwrap();
        let p = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["externalRefs"][0]["referenceLocator"] == purl)
            .unwrap();
        let l = comp["licenses"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = l
            .iter()
            .filter_map(|x| x["license"]["id"].as_str())
            .collect();
        let want = if l.len() == 1 && l[0].get("expression").is_some() {
            l[0]["expression"].as_str().unwrap().to_owned()
        } else if !l.is_empty() && ids.len() == l.len() {
            ids.join(" AND ")
        } else {
            "NOASSERTION".to_owned()
        };
        seen_expr |= want != "NOASSERTION";
        assert_eq!(p["licenseDeclared"], want.as_str(), "{purl}");
    }
    assert!(seen_expr, "the fixture has mapped licences");
}

/// trivy and syft read the SPDX output: the packages by purl.
#[test]
fn scanners_read_the_spdx_output() {
    let root = extract("dpkgroot/clean.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let (cdx, spdx) = (
        out.path().join("x.cdx.json"),
        out.path().join("x.spdx.json"),
    );
    let r = scan(
        root.path(),
        &[o("cyclonedx-json", &cdx), o("spdx-json", &spdx)],
    );
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let want: BTreeSet<String> = components(&read(&cdx), "library")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();

    let report = trivy_reads(&spdx);
    let mut names = BTreeSet::new();
    for res in report["Results"].as_array().into_iter().flatten() {
        for p in res["Packages"].as_array().into_iter().flatten() {
            names.insert(p["Name"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(names, want, "trivy: {report}");

    let syft = common::schema::repo_root().join(".venv/bin/syft");
    let o = Command::new(&syft)
        .arg("convert")
        .arg(&spdx)
        .args(["-o", "syft-json"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: BTreeSet<String> = s["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/"))
        })
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want, "syft");
}

/// The packages-only SBOM of a scan is attested as the full one is: same
/// subjects (AMI and tree digest), the seal report of the same tree
/// accepted, the bundles verified with the public key; only the
/// `--packages-only` scan (no tree digest) is refused.
#[test]
fn packages_only_sbom_is_attested_beside_the_full_one() {
    const AMI: &str = "us-east-1:ami-0123456789abcdef0";
    let inputs = common::attest::attest_inputs("pw");
    let po = inputs.p("packages.cdx.json");
    let r = scan(inputs.root.path(), &[o("cyclonedx-json-packages", &po)]);
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    let mut subjects = Vec::new();
    for (sbom, dir) in [
        ("sbom.cdx.json", "att-full"),
        ("packages.cdx.json", "att-packages"),
    ] {
        let r = Command::new(bakeproof_bin())
            .args(["attest", "--allow-unsealed", "--ami", AMI, "--sbom"])
            .arg(inputs.p(sbom))
            .arg("--seal")
            .arg(inputs.p("seal.json"))
            .arg("--key")
            .arg(inputs.p("cosign.key"))
            .arg("-o")
            .arg(inputs.p(dir))
            .env("COSIGN_PASSWORD", "pw")
            .env("SOURCE_DATE_EPOCH", "1704067200")
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(0), "{sbom}: {}", describe(&r));
        let index = read(&inputs.p(dir).join("index.json"));
        let bundles: Vec<std::path::PathBuf> = index["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["predicateType"].is_string())
            .map(|f| inputs.p(dir).join(f["file"].as_str().unwrap()))
            .collect();
        assert!(!bundles.is_empty(), "{index}");
        let r = Command::new(bakeproof_bin())
            .arg("verify-attestation")
            .args(&bundles)
            .arg("--key")
            .arg(inputs.p("cosign.pub"))
            .args(["--ami", AMI])
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(0), "{sbom}: {}", describe(&r));
        assert_eq!(
            index["treeDigest"]["sha256"],
            inputs.tree_digest.as_str(),
            "{index}"
        );
        subjects.push(index["subjects"].clone());
    }
    assert_eq!(subjects[0], subjects[1]);
}

/// `target/cyclonedx-npm/node_modules` with the pinned
/// @cyclonedx/cyclonedx-library of tests/tools/npm-cyclonedx, installed once
/// with `npm ci` (again only when the lock file changed). Fails, never
/// skips, without node and npm.
fn cyclonedx_node_modules() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        common::interop::npm_ci(
            "tests/tools/npm-cyclonedx",
            "cyclonedx-npm",
            "@cyclonedx/cyclonedx-library",
        )
    })
    .clone()
}

/// One scan of `fixture` writing each of `formats` to `DIR/FORMAT.json`
/// (exit 0 or 1: findings are not the point here).
fn scan_outputs<'a>(
    fixture: &str,
    formats: &[&'a str],
) -> (tempfile::TempDir, Vec<(&'a str, PathBuf)>) {
    let root = extract(fixture);
    let out = tempfile::tempdir().unwrap();
    let files: Vec<(&str, PathBuf)> = formats
        .iter()
        .map(|f| (*f, out.path().join(format!("{f}.json"))))
        .collect();
    let args: Vec<String> = files.iter().map(|(f, p)| o(f, p)).collect();
    let r = scan(root.path(), &args);
    assert!(matches!(r.status.code(), Some(0 | 1)), "{}", describe(&r));
    (out, files)
}

/// cdxgen's validator, `cdx-validate --strict` (schema and its deep
/// checks: dependency refs, purls), on the CycloneDX outputs of a dpkg and
/// an rpm root. It failed on `%40` in dependency refs (the purls' upstream
/// qualifier) before bom-refs were spelled as cdxgen spells them.
#[test]
fn cdxgen_validates_the_cyclonedx_outputs_strictly() {
    let modules = common::interop::npm_install_locked(
        "tests/tools/npm-cdxgen",
        "cdxgen-npm",
        "@cyclonedx/cdxgen",
    );
    let validate = modules.join("@cyclonedx/cdxgen/bin/validate.js");
    for fixture in ["dpkgroot/clean.tar.gz", "rpmroot/clean.tar.gz"] {
        let (out, files) = scan_outputs(
            fixture,
            &[
                "cyclonedx-json",
                "cyclonedx-json@1.6",
                "cyclonedx-json-packages",
            ],
        );
        for (f, p) in &files {
            // Only the validity verdict: the compliance scorecards
            // (SCVS/CRA findings such as "no licence") are a policy's.
            let report_file = out.path().join(format!("{f}.report.json"));
            let r = Command::new("node")
                .arg(&validate)
                .arg("-i")
                .arg(p)
                .args(["--strict", "-r", "json", "--fail-severity", "critical"])
                .arg("--report-file")
                .arg(&report_file)
                .output()
                .expect("node");
            let report: Value =
                serde_json::from_slice(&std::fs::read(&report_file).unwrap_or_else(|e| {
                    panic!("{fixture} {f}: no report ({e}): {}", describe(&r))
                }))
                .unwrap();
            assert_eq!(
                (&report["schemaValid"], &report["deepValid"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{fixture} {f}: {}",
                describe(&r)
            );
            assert_ne!(r.status.code(), Some(2), "{fixture} {f}: {}", describe(&r));
        }
    }
}

/// More independent consumers of the CycloneDX outputs (1.5, 1.6, the
/// packages-only one): @cyclonedx/cyclonedx-library's strict JSON validator
/// (Node.js), and syft, which converts each to SPDX with every package.
#[test]
fn more_consumers_read_the_cyclonedx_outputs() {
    let (_out, files) = scan_outputs(
        "dpkgroot/clean.tar.gz",
        &[
            "cyclonedx-json",
            "cyclonedx-json@1.6",
            "cyclonedx-json-packages",
            "cyclonedx-json-packages@1.6",
        ],
    );
    let want = cdx_packages(&read(&files[0].1));

    let script =
        common::schema::repo_root().join("tests/tools/npm-cyclonedx/validate_cyclonedx.cjs");
    let r = Command::new("node")
        .arg(&script)
        .args(files.iter().map(|(_, p)| p))
        .env("NODE_PATH", cyclonedx_node_modules())
        .output()
        .expect("node");
    assert_eq!(r.status.code(), Some(0), "{}", describe(&r));

    let syft = common::schema::repo_root().join(".venv/bin/syft");
    for (f, p) in &files {
        let r = Command::new(&syft)
            .arg("convert")
            .arg(p)
            .args(["-o", "syft-json"])
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .output()
            .unwrap();
        assert!(r.status.success(), "syft convert {f}: {}", describe(&r));
        let s: Value = serde_json::from_slice(&r.stdout).unwrap();
        let got: BTreeSet<String> = s["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["purl"].as_str())
            .filter(|p| p.starts_with("pkg:deb/"))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "syft convert {f}: {got:?} vs {want:?}"
        );
    }
}
