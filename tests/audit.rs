//! `bakeproof audit` end to end: real dpkg and rpm roots (the fixtures,
//! plus packages built here with dpkg-deb), design documents with
//! constraints at the edges (epoch, `~`, `^`, release absent), each
//! requirement's status compared with the package manager itself:
//! `dpkg-query -W` + `dpkg --compare-versions`; rpm's own dependency
//! matching (`rpm -i --test` of a package that requires exactly the design's
//! constraints) and `rpm -q NEVRA` for approvals.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::run::{bakeproof, describe, extract, scan_to_json};
use common::schema::validate_with_schema;
use serde_json::Value;

/// One line of a generated plain design document.
enum Line {
    /// `NAME OP VERSION...` (or a bare name).
    Req(&'static str, Vec<(&'static str, &'static str)>),
    /// `NAME=VERSION` or a NEVRA, written as is.
    Approved(&'static str, &'static str, &'static str),
}

/// Writes the design (two header lines, then one line per entry) and
/// returns, per entry, its 1-based line number.
fn write_design(path: &Path, id: &str, title: &str, lines: &[Line]) -> Vec<usize> {
    let mut text = format!("# 設計書: {id}\n# 対象: {title}\n");
    let mut at = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        at.push(i + 3);
        match l {
            Line::Req(name, cs) => {
                text.push_str(name);
                for (op, v) in cs {
                    text.push_str(&format!(" {op} {v}"));
                }
                text.push('\n');
            }
            Line::Approved(token, _, _) => {
                text.push_str(token);
                text.push('\n');
            }
        }
    }
    std::fs::write(path, text).unwrap();
    at
}

/// `bakeproof audit ARGS` → (exit code, stdout, stderr).
fn audit(args: &[&OsStr]) -> (i32, String, String) {
    let mut all: Vec<&OsStr> = vec!["audit".as_ref()];
    all.extend_from_slice(args);
    let o = bakeproof(&all);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn audit_json(root: &Path, designs: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<&OsStr> = vec![root.as_os_str()];
    for d in designs {
        args.push("--design".as_ref());
        args.push(d.as_os_str());
    }
    args.extend([OsStr::new("--format"), OsStr::new("json")]);
    args.extend(extra.iter().map(OsStr::new));
    let (code, out, err) = audit(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    if let Err(errors) = validate_with_schema("audit-report.schema.json", &doc) {
        panic!("report does not match its schema: {errors:#?}");
    }
    (code, doc)
}

/// Requirements of kind `package` by (file name, line).
fn by_line(doc: &Value) -> BTreeMap<usize, &Value> {
    doc["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "package" && r["source"]["line"].is_u64())
        .map(|r| (r["source"]["line"].as_u64().unwrap() as usize, r))
        .collect()
}

fn ok(r: &Value) -> bool {
    match r["status"].as_str().unwrap() {
        "ok" => true,
        "ng" => false,
        other => panic!("status {other}"),
    }
}

// ---------------------------------------------------------------- dpkg

/// A one-file `Architecture: all` deb built with real dpkg-deb.
fn dpkg_deb(work: &Path, name: &str, version: &str) -> PathBuf {
    common::packages::dpkg_deb(work, name, version, "A <a@example.invalid>", name)
}

/// The dpkg fixture root plus fx-tilde 2.0~rc1-1 and fx-epoch 2:0.5,
/// installed with real dpkg.
fn dpkg_root() -> tempfile::TempDir {
    let root = extract("dpkgroot/clean.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let debs = [
        dpkg_deb(work.path(), "fx-tilde", "2.0~rc1-1"),
        dpkg_deb(work.path(), "fx-epoch", "2:0.5"),
    ];
    common::packages::dpkg_in_root(root.path(), &["-i"], &[&debs[0], &debs[1]]);
    root
}

/// `dpkg-query -W -f '${Version}' NAME` in the root; `None` when not
/// installed.
fn dpkg_installed(root: &Path, name: &str) -> Option<String> {
    let o = Command::new("dpkg-query")
        .arg(format!("--admindir={}/var/lib/dpkg", root.display()))
        .args(["-W", "-f", "${Version} ${db:Status-Abbrev}", name])
        .output()
        .expect("dpkg-query");
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    let (v, st) = s.split_once(' ')?;
    (o.status.success() && st.starts_with("ii")).then(|| v.to_owned())
}

fn dpkg_cmp(a: &str, op: &str, b: &str) -> bool {
    let rel = match op {
        ">=" => "ge",
        ">" => "gt",
        "=" => "eq",
        "<=" => "le",
        "<" => "lt",
        "!=" => "ne",
        other => panic!("{other}"),
    };
    let s = Command::new("dpkg")
        .args(["--compare-versions", a, rel, b])
        .status()
        .unwrap();
    s.code() == Some(0)
}

fn dpkg_lines() -> Vec<Line> {
    use Line::*;
    vec![
        Req("libpam-cap", vec![(">=", "2.66")]),
        Req(
            "libpam-cap",
            vec![(">=", "1:2.66-4+deb12u2+b2"), ("<", "1:2.66-4+deb12u2+b3")],
        ),
        Req("libpam-cap", vec![("=", "2.66-4+deb12u2+b2")]),
        Req("bzip2", vec![("=", "1.0.8-5+b1")]),
        Req("bzip2", vec![("=", "1.0.8")]),
        Req("bzip2", vec![(">=", "1.0.8"), ("<", "1.0.9")]),
        Req("bzip2", vec![("!=", "1.0.8-5")]),
        Req("base-files", vec![(">=", "12.4~")]),
        Req("netbase", vec![(">", "6.4~rc1"), ("<=", "6.4")]),
        Req("fx-tilde", vec![(">=", "2.0")]),
        Req("fx-tilde", vec![(">=", "2.0~"), ("<", "2.0")]),
        Req("fx-epoch", vec![(">", "99")]),
        Req("fx-epoch", vec![("<", "2:0.5.1")]),
        Req("fx-missing", vec![]),
        Req("bzip2", vec![]),
        Approved("bzip2=1.0.8-5+b1", "bzip2", "1.0.8-5+b1"),
        Approved("netbase=6.4", "netbase", "6.4"),
        Approved("fx-tilde=2.0-1", "fx-tilde", "2.0-1"),
        Approved("bash=5.2.15-3", "bash", "5.2.15-3"),
    ]
}

#[test]
fn dpkg_root_requirements_are_what_dpkg_says() {
    let root = dpkg_root();
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    let design = w.path().join("design-spec.txt");
    let lines = dpkg_lines();
    let at = write_design(&design, "SYS-DEB-001", "dpkg fixture image", &lines);
    let (code, doc) = audit_json(r, &[&design], &[]);
    let reqs = by_line(&doc);
    let mut oks = 0;
    for (line, l) in at.iter().zip(&lines) {
        let got = reqs
            .get(line)
            .unwrap_or_else(|| panic!("no requirement for line {line}"));
        let (name, want) = match l {
            Line::Req(name, cs) => {
                let want = match dpkg_installed(r, name) {
                    None => false,
                    Some(v) => cs.iter().all(|(op, b)| dpkg_cmp(&v, op, b)),
                };
                (*name, want)
            }
            Line::Approved(_, name, v) => {
                let want = dpkg_installed(r, name).is_some_and(|iv| dpkg_cmp(&iv, "=", v));
                (*name, want)
            }
        };
        assert_eq!(got["name"], name);
        assert_eq!(ok(got), want, "line {line}: {got}");
        if let Some(v) = dpkg_installed(r, name) {
            assert_eq!(got["actual"], v.as_str(), "line {line}");
        } else {
            assert_eq!(got["actual"], "not installed", "line {line}");
        }
        oks += usize::from(want);
    }
    // The corpus has both outcomes, and the exit code follows them.
    assert!(oks > 3 && oks < lines.len(), "{oks}");
    assert_eq!(code, 1);
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["document"]["id"], "SYS-DEB-001");
    assert_eq!(doc["document"]["title"], "dpkg fixture image");
    assert_eq!(doc["configuration"]["package_count"], 7);
    // The tree digest is the one `scan` writes into the SBOM of the same root.
    let sbom = w.path().join("sbom.json");
    let (c, _, err) = scan_to_json(r, &sbom, &[]);
    assert_eq!(c, 0, "{err}");
    let sbom_doc: Value = serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
    let tree = sbom_doc["metadata"]["component"]["hashes"][0]["content"]
        .as_str()
        .unwrap();
    assert_eq!(doc["image"]["tree_digest"], format!("sha256:{tree}"));

    // The same design against the SBOM standing in for the root: the same
    // package statuses; the SBOM's tree digest.
    let (code2, doc2) = {
        let mut args: Vec<&OsStr> = vec!["--sbom".as_ref(), sbom.as_os_str()];
        args.extend([
            OsStr::new("--design"),
            design.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("json"),
        ]);
        let (c, out, err) = audit(&args);
        assert!(c == 1, "{c}: {err}");
        (c, serde_json::from_str::<Value>(&out).unwrap())
    };
    assert_eq!(code2, 1);
    validate_with_schema("audit-report.schema.json", &doc2).unwrap();
    let a: Vec<(&Value, &Value)> = by_line(&doc)
        .values()
        .map(|r| (&r["status"], &r["actual"]))
        .collect();
    let b: Vec<(&Value, &Value)> = by_line(&doc2)
        .values()
        .map(|r| (&r["status"], &r["actual"]))
        .collect();
    assert_eq!(a, b);
    assert_eq!(doc2["image"]["tree_digest"], doc["image"]["tree_digest"]);
    let na = doc2["configuration"]["not_assessed"].as_array().unwrap();
    assert!(na.iter().any(|v| v == "accounts"), "{na:?}");
}

#[test]
fn approved_only_lists_every_unapproved_package() {
    let root = dpkg_root();
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    // Every installed package, as dpkg-query lists it.
    let o = Command::new("dpkg-query")
        .arg(format!("--admindir={}/var/lib/dpkg", r.display()))
        .args(["-W", "-f", "${Package}=${Version}\n"])
        .output()
        .unwrap();
    let all: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(all.len(), 7, "{all:?}");
    let toml_list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let design = w.path().join("design.toml");
    std::fs::write(
        &design,
        format!(
            "[design]\nid = \"A-1\"\n\n[packages]\napproved_only = true\napproved = [{}]\n",
            toml_list(&all)
        ),
    )
    .unwrap();
    let (code, doc) = audit_json(r, &[&design], &["--no-tree-digest"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["status"], "pass");
    assert!(doc["image"]["tree_digest"].is_null());

    // Drop two approvals and change one version: exactly those three
    // packages are findings of approved-only.
    let mut fewer: Vec<String> = all
        .iter()
        .filter(|s| !s.starts_with("netbase=") && !s.starts_with("fx-epoch="))
        .cloned()
        .collect();
    for s in &mut fewer {
        if s.starts_with("fx-tilde=") {
            *s = "fx-tilde=2.0-1".to_owned();
        }
    }
    std::fs::write(
        &design,
        format!(
            "[packages]\napproved_only = true\napproved = [{}]\n",
            toml_list(&fewer)
        ),
    )
    .unwrap();
    let (code, doc) = audit_json(r, &[&design], &["--no-tree-digest"]);
    assert_eq!(code, 1);
    let mut findings: Vec<&str> = doc["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "approved-only" && r["status"] == "ng")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    findings.sort();
    assert_eq!(findings, ["fx-epoch", "fx-tilde", "netbase"]);
}

// ---------------------------------------------------------------- rpm

fn rpmbuild_requires(work: &Path, requires: &[String]) -> PathBuf {
    let mut spec = String::from(
        "Name: oracle\nVersion: 1\nRelease: 1\nSummary: o\nLicense: MIT\nBuildArch: noarch\n",
    );
    for r in requires {
        spec.push_str(&format!("Requires: {r}\n"));
    }
    spec.push_str("%description\no\n%files\n");
    let top = work.join("top");
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(top.join("o.spec"), spec).unwrap();
    let o = Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none"])
        .arg(top.join("o.spec"))
        .output()
        .expect("Debian's rpmbuild (package rpm)");
    assert!(o.status.success(), "{}", describe(&o));
    top.join("RPMS/noarch/oracle-1-1.noarch.rpm")
}

/// Which of `requires` rpm finds unmet in `root`'s database (`rpm -i
/// --test`: nothing is installed).
fn rpm_unmet(root: &Path, rpm: &Path) -> Vec<String> {
    let o = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/var/lib/rpm", "-i", "--test", "--nosignature"])
        .arg(rpm)
        .output()
        .expect("rpm");
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| l.trim().strip_suffix(" is needed by oracle-1-1.noarch"))
        .map(str::to_owned)
        .collect()
}

fn rpm_q(root: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/var/lib/rpm", "-q"])
        .args(args)
        .output()
        .expect("rpm");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_owned(),
    )
}

fn rpm_lines() -> Vec<Line> {
    use Line::*;
    vec![
        // fx-base 3:1.0-1 (epoch 3)
        Req("fx-base", vec![(">=", "1.0")]),
        Req("fx-base", vec![("=", "1.0")]),
        Req("fx-base", vec![("=", "3:1.0")]),
        Req("fx-base", vec![(">", "3:1.0")]),
        Req("fx-base", vec![("<=", "3:1.0"), (">=", "3:1.0-1")]),
        Req("fx-base", vec![("<", "4:0")]),
        // fx-data 1.0^git20240101-2 (caret)
        Req("fx-data", vec![(">", "1.0")]),
        Req("fx-data", vec![("<", "1.0.1")]),
        Req("fx-data", vec![("=", "1.0^git20240101")]),
        Req("fx-data", vec![(">=", "1.0^git20240101-3")]),
        Req("fx-data", vec![(">", "1.0^")]),
        // fx-tools 2.1~rc1-1 (tilde)
        Req("fx-tools", vec![(">=", "2.1")]),
        Req("fx-tools", vec![(">=", "2.1~rc1"), ("<", "2.1")]),
        Req("fx-tools", vec![(">", "2.1~")]),
        Req("fx-lib", vec![(">=", "2.0-1"), ("<", "3")]),
        Req("fx-lib", vec![("<=", "2.0-0")]),
        Req("fx-docs", vec![]),
        Req("fx-missing", vec![]),
        Req("fx-missing", vec![(">=", "1")]),
        Approved("fx-base-3:1.0-1.noarch", "fx-base-3:1.0-1.noarch", ""),
        Approved("fx-lib-2.0-1.noarch", "fx-lib-2.0-1.noarch", ""),
        Approved("fx-docs-0.1-2.noarch", "fx-docs-0.1-2.noarch", ""),
        Approved("fx-tools-2.1~rc1-1", "fx-tools-2.1~rc1-1", ""),
        Approved(
            "fx-data-1.0^git20240101-2.x86_64",
            "fx-data-1.0^git20240101-2.x86_64",
            "",
        ),
    ]
}

#[test]
fn rpm_root_requirements_are_what_rpm_says() {
    let root = extract("rpmroot/clean.tar.gz");
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    let design = w.path().join("design-spec.txt");
    let lines = rpm_lines();
    let at = write_design(&design, "SYS-RPM-001", "rpm fixture image", &lines);
    let (code, doc) = audit_json(r, &[&design], &["--no-tree-digest"]);
    let reqs = by_line(&doc);
    // rpm's verdict on every constraint line at once.
    let requires: Vec<String> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Req(name, cs) if cs.is_empty() => Some(vec![(*name).to_owned()]),
            Line::Req(name, cs) => Some(
                cs.iter()
                    .map(|(op, v)| format!("{name} {op} {v}"))
                    .collect(),
            ),
            Line::Approved(..) => None,
        })
        .flatten()
        .collect();
    let unmet = rpm_unmet(r, &rpmbuild_requires(w.path(), &requires));
    assert!(!unmet.is_empty(), "the oracle found nothing unmet");
    let mut oks = 0;
    for (line, l) in at.iter().zip(&lines) {
        let got = reqs
            .get(line)
            .unwrap_or_else(|| panic!("no requirement for line {line}: {doc}"));
        let want = match l {
            Line::Req(name, cs) if cs.is_empty() => !unmet.iter().any(|u| u == name),
            Line::Req(name, cs) => cs
                .iter()
                .all(|(op, v)| !unmet.contains(&format!("{name} {op} {v}"))),
            // `rpm -q NAME-[E:]V-R[.ARCH]`: is exactly this build installed?
            Line::Approved(_, nevra, _) => rpm_q(r, &[nevra]).0,
        };
        assert_eq!(ok(got), want, "line {line}: {got}");
        oks += usize::from(want);
        if let Line::Req(name, _) = l {
            let (installed, evr) = rpm_q(r, &["--qf", "%{EVR}", name]);
            let shown = if installed {
                evr.as_str()
            } else {
                "not installed"
            };
            assert_eq!(got["actual"], shown, "line {line}");
        }
    }
    assert!(oks > 3 && oks < lines.len(), "{oks}");
    assert_eq!(code, 1);

    // Text and Markdown say the same, OK/NG per requirement.
    for (fmt, want_ok, want_ng) in [
        ("text", "OK  package", "NG  package"),
        ("markdown", "| OK |", "| NG |"),
    ] {
        let (c, out, err) = audit(&[
            r.as_os_str(),
            "--design".as_ref(),
            design.as_os_str(),
            "--format".as_ref(),
            fmt.as_ref(),
            "--no-tree-digest".as_ref(),
        ]);
        assert_eq!(c, 1, "{err}");
        assert_eq!(out.matches(want_ok).count(), oks, "{fmt}: {out}");
        assert_eq!(
            out.matches(want_ng).count(),
            lines.len() - oks,
            "{fmt}: {out}"
        );
        if fmt == "markdown" {
            assert!(out.starts_with("# rpm fixture image\n"), "{out}");
            assert!(out.contains("| Design document | SYS-RPM-001 |"), "{out}");
            assert!(out.contains("| Date | 2024-01-01T00:00:00Z |"), "{out}");
            assert!(out.contains("## Configuration"), "{out}");
        }
    }
}

#[test]
fn passing_design_exits_0_and_writes_the_output_file() {
    let root = extract("rpmroot/clean.tar.gz");
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    let design = w.path().join("d.txt");
    std::fs::write(
        &design,
        "# Design: OK-1\nfx-base >= 3:1.0\nfx-tools >= 2.1~rc1\nfx-data-1.0^git20240101-2.noarch\n",
    )
    .unwrap();
    // A second document: its requirements add up; the title comes from it
    // (the first names none), the id from the first.
    let design2 = w.path().join("d2.toml");
    std::fs::write(
        &design2,
        "[design]\nid = \"OTHER\"\ntitle = \"rpm fixture\"\n[packages]\nforbidden = [\"fx-missing\", \"fx-lib < 2\"]\n",
    )
    .unwrap();
    let out = w.path().join("report.json");
    let (c, stdout, err) = audit(&[
        r.as_os_str(),
        "--design".as_ref(),
        design.as_os_str(),
        "--design".as_ref(),
        design2.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(c, 0, "{err}");
    assert!(stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    validate_with_schema("audit-report.schema.json", &doc).unwrap();
    assert_eq!(doc["status"], "pass");
    // The schema is not vacuous: it refuses what the contract excludes.
    for (ptr, bad) in [
        ("/status", serde_json::json!("maybe")),
        ("/requirements/0/status", serde_json::json!("OK")),
        ("/requirements/0/kind", serde_json::json!("packages")),
        ("/image/tree_digest", serde_json::json!("sha256:xyz")),
        ("/schema_version", serde_json::json!(2)),
    ] {
        let mut broken = doc.clone();
        *broken.pointer_mut(ptr).unwrap() = bad;
        assert!(
            validate_with_schema("audit-report.schema.json", &broken).is_err(),
            "{ptr}"
        );
    }
    let mut broken = doc.clone();
    broken["requirements"][0]
        .as_object_mut()
        .unwrap()
        .remove("expected");
    assert!(validate_with_schema("audit-report.schema.json", &broken).is_err());
    assert_eq!(doc["requirements"].as_array().unwrap().len(), 5);
    assert_eq!(doc["document"]["id"], "OK-1");
    assert_eq!(doc["document"]["title"], "rpm fixture");
    assert_eq!(doc["document"]["files"].as_array().unwrap().len(), 2);
    let forbidden: Vec<&Value> = doc["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "forbidden")
        .collect();
    assert_eq!(forbidden.len(), 2);
    assert_eq!(forbidden[0]["source"]["line"], 5);
    assert_eq!(forbidden[1]["actual"], "2.0-1");
    assert_eq!(
        doc["document"]["files"][0]["sha256"],
        common::run::sha256_of(&design)
    );
    assert!(
        doc["image"]["tree_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn bad_design_documents_exit_2_naming_file_and_line() {
    let root = extract("rpmroot/clean.tar.gz");
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "spec.txt",
            "# 設計書: X\nfx-base >= 1\nfx-lib => 2\n",
            "spec.txt:3: fx-lib: unknown operator \"=>\"",
        ),
        (
            "spec.txt",
            "fx-base >= 1.0 <\n",
            "spec.txt:1: fx-base: after \"<\": missing version",
        ),
        (
            "spec.txt",
            "fx-base >= 1.0#x\n",
            "spec.txt:1: fx-base: after \">=\": unparsable version",
        ),
        (
            "d.toml",
            "[packages]\nrequired = [\"fx-base\"]\nforbiden = [\"x\"]\n",
            "d.toml:3: unknown field `forbiden`",
        ),
        (
            "d.toml",
            "[sshd]\nPermitRootLogin = \"no\"\n[kernal]\nversion = \">= 6\"\n",
            "d.toml:3: unknown field `kernal`",
        ),
        (
            "d.toml",
            "[system]\nos_version = \"~> 9\"\n",
            "d.toml:2: [system] os_version: unknown operator \"~>\"",
        ),
    ] {
        let design = w.path().join(name);
        std::fs::write(&design, text).unwrap();
        let (c, out, err) = audit(&[r.as_os_str(), "--design".as_ref(), design.as_os_str()]);
        assert_eq!(c, 2, "{text:?}: {out} {err}");
        assert!(out.is_empty(), "{out}");
        let shown = format!("{}", design.display());
        let want = want.replacen(name, &shown, 1);
        assert!(err.contains(&want), "{text:?}: want {want:?} in {err:?}");
    }
    // A design that requires nothing (only comments and headers).
    let empty = w.path().join("empty.txt");
    std::fs::write(&empty, "# 設計書: X\n# nothing yet\n").unwrap();
    let (c, _, err) = audit(&[r.as_os_str(), "--design".as_ref(), empty.as_os_str()]);
    assert_eq!(c, 2);
    assert!(err.contains("state no requirement"), "{err}");
    // A missing design file, no --design, a root and --sbom together.
    let missing = w.path().join("absent.txt");
    let (c, _, err) = audit(&[r.as_os_str(), "--design".as_ref(), missing.as_os_str()]);
    assert_eq!(c, 2);
    assert!(err.contains("absent.txt"), "{err}");
    let (c, _, _) = audit(&[r.as_os_str()]);
    assert_eq!(c, 2);
    let (c, _, _) = audit(&[
        r.as_os_str(),
        "--sbom".as_ref(),
        missing.as_os_str(),
        "--design".as_ref(),
        missing.as_os_str(),
    ]);
    assert_eq!(c, 2);
}

// ---------------------------------------------------------------- an AMI's SBOM

/// `--sbom REGION:AMI-ID`: the AMI's attested SBOM from the store, verified
/// with `--key` first; a foreign key is refused (exit 2), never audited.
#[test]
fn an_amis_attested_sbom_stands_in_for_the_root() {
    let inputs = common::attest::attest_inputs("pw");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("att");
    let store = work.path().join("store");
    let ami = "eu-west-1:ami-0123456789abcdef0";
    for args in [
        vec![
            "attest".to_owned(),
            "--sbom".to_owned(),
            inputs.s("sbom.cdx.json"),
            "--seal".to_owned(),
            inputs.s("seal.json"),
            "--key".to_owned(),
            inputs.s("cosign.key"),
            "--ami".to_owned(),
            ami.to_owned(),
            "-o".to_owned(),
            out.display().to_string(),
            "--allow-unsealed".to_owned(),
        ],
        vec![
            "publish".to_owned(),
            "--store".to_owned(),
            store.display().to_string(),
            out.display().to_string(),
        ],
    ] {
        let o = Command::new(common::run::bakeproof_bin())
            .args(&args)
            .env("COSIGN_PASSWORD", "pw")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", describe(&o));
    }
    let design = work.path().join("d.txt");
    std::fs::write(&design, "bzip2 >= 1.0.8\nlibpam-cap >= 1:2.66\nfx-absent\n").unwrap();
    let run = |key: &Path| {
        audit(&[
            "--sbom".as_ref(),
            ami.as_ref(),
            "--store".as_ref(),
            store.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "--design".as_ref(),
            design.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ])
    };
    let (c, stdout, err) = run(&inputs.p("cosign.pub"));
    assert_eq!(c, 1, "{err}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    validate_with_schema("audit-report.schema.json", &doc).unwrap();
    let st: Vec<&str> = doc["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(st, ["ok", "ok", "ng"]);
    assert_eq!(doc["image"]["source"], ami);
    assert_eq!(
        doc["image"]["tree_digest"],
        format!("sha256:{}", inputs.tree_digest)
    );

    // Another key: the attestation does not verify, nothing is audited.
    let other = tempfile::tempdir().unwrap();
    let o = Command::new(common::run::bakeproof_bin())
        .args(["key", "generate", "--output-dir"])
        .arg(other.path())
        .env("COSIGN_PASSWORD", "x")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let (c, stdout, err) = run(&other.path().join("cosign.pub"));
    assert_eq!(c, 2, "{stdout} {err}");
    assert!(stdout.is_empty());
    // Without --store/--key an AMI cannot be looked up.
    let (c, _, err) = audit(&[
        "--sbom".as_ref(),
        ami.as_ref(),
        "--design".as_ref(),
        design.as_os_str(),
    ]);
    assert_eq!(c, 2);
    assert!(err.contains("needs --store URL and --key PUB"), "{err}");
}

// ------------------------------------------------------ every kind, CLI --

/// `sshd -T` on the root's own `/etc/ssh` (bind-mounted over the host's in
/// a private mount namespace), keyword → value.
fn sshd_t(root: &Path) -> BTreeMap<String, String> {
    let script = format!(
        "set -e; mount --make-rprivate /; mount --bind '{}' /etc/ssh; \
         mount -t tmpfs tmpfs /run; mkdir -p /run/sshd; cd /; \
         exec /usr/sbin/sshd -T -f /etc/ssh/sshd_config",
        root.join("etc/ssh").display()
    );
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux) and openssh-server's sshd");
    assert!(o.status.success(), "sshd -T: {}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `systemctl --root=ROOT is-enabled UNIT`'s word.
fn is_enabled(root: &Path, unit: &str) -> String {
    let o = Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(["is-enabled", unit])
        .output()
        .expect("systemctl");
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Every requirement kind through the CLI on one root (the dpkg fixture
/// plus sshd, systemd, accounts, SELinux, firewall and kernel files the
/// test writes): each `sshd` requirement's actual is what the real `sshd
/// -T` says for the same files (a drop-in sets the value first; a later
/// main-file line and a Match block do not count), each `service` one what
/// `systemctl --root` says (enabled with `systemctl enable`, masked with
/// `systemctl mask`); the exit status, the JSON (against its schema) and the
/// Markdown handover document agree.
#[test]
fn every_requirement_kind_through_the_cli() {
    let root = dpkg_root();
    let r = root.path();
    write(
        r,
        "etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nX11Forwarding yes\n\
         Match User bob\n    PasswordAuthentication yes\n",
    );
    write(
        r,
        "etc/ssh/sshd_config.d/50-hardening.conf",
        "PermitRootLogin no\nPasswordAuthentication no\n",
    );
    let key = r.join("etc/ssh/ssh_host_ed25519_key");
    let o = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(o.status.success(), "{}", describe(&o));
    for (unit, text) in [
        (
            "lib/systemd/system/ssh.service",
            "[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n",
        ),
        (
            "lib/systemd/system/nftables.service",
            "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n[Install]\nWantedBy=sysinit.target\n",
        ),
        (
            "lib/systemd/system/telnet.socket",
            "[Socket]\nListenStream=23\n[Install]\nWantedBy=sockets.target\n",
        ),
        (
            "lib/systemd/system/cron.service",
            "[Service]\nExecStart=/usr/sbin/cron -f\n[Install]\nWantedBy=multi-user.target\n",
        ),
    ] {
        write(r, unit, text);
    }
    for (verb, unit) in [
        ("enable", "ssh.service"),
        ("enable", "nftables.service"),
        ("enable", "telnet.socket"),
        ("mask", "cron.service"),
    ] {
        let o = Command::new("systemctl")
            .arg(format!("--root={}", r.display()))
            .args([verb, unit])
            .output()
            .expect("systemctl");
        assert!(
            o.status.success(),
            "systemctl {verb} {unit}: {}",
            describe(&o)
        );
    }
    write(
        r,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         toor:x:0:0::/root:/bin/sh\n",
    );
    write(
        r,
        "etc/shadow",
        "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\ntoor::19000:0:99999:7:::\n",
    );
    write(r, "etc/group", "root:x:0:\ndaemon:x:1:\n");
    write(r, "etc/shells", "/bin/sh\n/bin/bash\n");
    write(
        r,
        "etc/selinux/config",
        "SELINUX=permissive\nSELINUXTYPE=targeted\n",
    );
    write(r, "boot/vmlinuz-6.1.0-28-amd64", "kernel");
    write(r, "lib/modules/6.1.0-28-amd64/modules.dep", "");

    let work = tempfile::tempdir().unwrap();
    let design = work.path().join("design.toml");
    std::fs::write(
        &design,
        r#"[design]
id = "SYS-2025-001"
title = "Every kind"

[packages]
required = ["bzip2 >= 1.0.8", "fx-epoch >= 2:0.1"]
forbidden = ["telnetd"]

[services]
enabled = ["ssh.service", "sshd.service", "cron.service"]
disabled = ["telnet.socket"]

[sshd]
PermitRootLogin = "no"
PasswordAuthentication = "no"
X11Forwarding = "no"

[accounts]
only_root_uid0 = true
no_empty_passwords = true
system_accounts_locked = true

[selinux]
mode = "enforcing"

[firewall]
enabled = true

[kernel]
version = ">= 6.1"

[system]
arch = "amd64"
os_id = "debian"
os_version = ">= 12"
"#,
    )
    .unwrap();
    let (code, doc) = audit_json(r, &[&design], &["--no-tree-digest"]);
    assert_eq!(code, 1, "some requirements are not met: {doc:#}");
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["document"]["id"], "SYS-2025-001");
    let reqs = doc["requirements"].as_array().unwrap();
    let find = |kind: &str, name: &str| -> &Value {
        reqs.iter()
            .find(|q| q["kind"] == kind && q["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}: {doc:#}"))
    };

    // sshd: the effective values sshd itself computes from the same files.
    let sshd = sshd_t(r);
    for (k, want) in [
        ("permitrootlogin", "no"),
        ("passwordauthentication", "no"),
        ("x11forwarding", "no"),
    ] {
        let q = find("sshd", k);
        assert_eq!(q["actual"].as_str(), sshd.get(k).map(String::as_str), "{q}");
        assert_eq!(ok(q), sshd[k] == want, "{q}");
    }
    assert!(
        ok(find("sshd", "permitrootlogin")),
        "the drop-in's value wins"
    );
    assert!(!ok(find("sshd", "x11forwarding")));

    // services: what systemctl --root says.
    for (unit, rule) in [
        ("ssh.service", "enabled"),
        ("cron.service", "enabled"),
        ("telnet.socket", "disabled"),
    ] {
        let q = reqs
            .iter()
            .find(|q| q["kind"] == "service" && q["name"] == unit && q["rule"] == rule)
            .unwrap_or_else(|| panic!("no service {unit}: {doc:#}"));
        let state = is_enabled(r, unit);
        let enabled = state == "enabled";
        assert_eq!(
            ok(q),
            if rule == "enabled" { enabled } else { !enabled },
            "{unit} is {state}: {q}"
        );
    }
    assert_eq!(is_enabled(r, "cron.service"), "masked");
    assert!(!ok(find("service", "cron.service")));

    // accounts, SELinux, firewall, kernel, system
    assert!(!ok(find("account", "only-root-uid0")), "toor has UID 0");
    assert!(
        !ok(find("account", "no-empty-passwords")),
        "toor has no password"
    );
    assert!(!ok(find("selinux", "mode")));
    assert_eq!(find("selinux", "mode")["actual"], "permissive");
    let fw = reqs
        .iter()
        .find(|q| q["kind"] == "firewall")
        .expect("firewall");
    assert!(ok(fw), "{fw}");
    let k = reqs.iter().find(|q| q["kind"] == "kernel").expect("kernel");
    assert!(ok(k), "{k}");
    assert!(ok(reqs.iter().find(|q| q["kind"] == "arch").expect("arch")));
    for q in reqs.iter().filter(|q| q["kind"] == "os") {
        assert!(ok(q), "{q}");
    }
    for q in reqs.iter().filter(|q| q["kind"] == "package") {
        assert!(ok(q), "{q}");
    }
    // the configuration report
    let c = &doc["configuration"];
    assert_eq!(c["selinux"], "permissive");
    assert_eq!(c["sshd"]["permitrootlogin"], "no");
    assert!(
        c["enabled_services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "ssh.service"),
        "{c}"
    );
    assert_eq!(c["kernels"], serde_json::json!(["6.1.0-28-amd64"]));
    assert!(
        c["not_assessed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("listening sockets")),
        "{c}"
    );

    // The Markdown handover document: one row per requirement.
    let (mcode, md, err) = audit(&[
        r.as_os_str(),
        "--design".as_ref(),
        design.as_os_str(),
        "--format".as_ref(),
        "markdown".as_ref(),
        "--no-tree-digest".as_ref(),
    ]);
    assert_eq!(mcode, 1, "{err}");
    assert!(md.contains("SYS-2025-001"), "{md}");
    for q in reqs {
        let name = q["name"].as_str().unwrap();
        assert!(md.contains(name), "{name} missing from the Markdown: {md}");
    }
}
