//! Version constraints against the package managers themselves, at the
//! edges (epoch, `~`, `^`, release absent):
//! * dpkg: `dpkg --compare-versions` (the order `Depends:` uses);
//! * rpm: rpm's own dependency matching (`rpm -i --test` of a package
//!   built with real rpmbuild that requires `CAP OP EVR`, against one that
//!   provides `CAP = EVR`), and, where both sides have a release, rpm's Lua
//!   `rpm.vercmp`.

use std::cmp::Ordering;
use std::path::Path;
use std::process::Command;

use bakeproof_audit::constraint::{Constraint, Op, compare};
use bakeproof_pkgdb::Ecosystem;

const OPS: [Op; 6] = [Op::Ge, Op::Gt, Op::Eq, Op::Le, Op::Lt, Op::Ne];

/// dpkg's own name of the relation (`dpkg --compare-versions A REL B`).
fn dpkg_rel(op: Op) -> &'static str {
    match op {
        Op::Ge => "ge",
        Op::Gt => "gt",
        Op::Eq => "eq",
        Op::Le => "le",
        Op::Lt => "lt",
        Op::Ne => "ne",
    }
}

const DEB: &[&str] = &[
    "1.0",
    "1.0-1",
    "1:1.0",
    "1:1.0-1",
    "0:1.0-1",
    "1.0~rc1",
    "1.0~rc1-1",
    "1.0~",
    "1.0+b1",
    "1.0-1+deb12u1",
    "1.0-1~bpo12+1",
    "1.0a",
    "1.00",
    "1.0.0",
    "2",
    "10",
    "1.0-0",
    "2.66-4+deb12u2+b2",
    "1:2.66-4",
    "1.0^1",
    "1.0-1.1",
    "1.0-1a",
    "0.9.9-9",
];

fn dpkg_holds(a: &str, rel: &str, b: &str) -> bool {
    let s = Command::new("dpkg")
        .args(["--compare-versions", a, rel, b])
        .status()
        .expect("dpkg (Debian's dpkg package)");
    match s.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!("dpkg --compare-versions {a} {rel} {b}: {other:?}"),
    }
}

#[test]
fn dpkg_order_is_dpkg_compare_versions() {
    let mut checked = 0;
    for a in DEB {
        for b in DEB {
            let ord = if dpkg_holds(a, "lt", b) {
                Ordering::Less
            } else if dpkg_holds(a, "eq", b) {
                Ordering::Equal
            } else {
                Ordering::Greater
            };
            assert_eq!(compare(Ecosystem::Deb, a, b), ord, "{a} vs {b}");
            for op in OPS {
                let c = Constraint {
                    op,
                    version: (*b).to_owned(),
                };
                // dpkg judges the relation itself.
                assert_eq!(
                    c.matches(Ecosystem::Deb, a),
                    dpkg_holds(a, dpkg_rel(op), b),
                    "{a} {} {b}",
                    op.as_str()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, DEB.len() * DEB.len() * OPS.len());
}

/// Installed rpm versions (always with a release).
const RPM_INSTALLED: &[&str] = &[
    "1.0-1",
    "1.0-2",
    "1:1.0-1",
    "0:1.0-1",
    "1.0~rc1-1",
    "1.0^git1-1",
    "1.0.1-1",
    "1.0a-1",
    "1.00-1",
    "2.0-1.el9",
    "1.0-1~beta",
    "10-1",
    "1.0_1-1",
    "1.0-1.amzn2023.0.2",
    "1.0-1^p",
    "2:0.1-1",
];

/// Constraint versions: the installed ones and some without a release.
const RPM_WANTED_EXTRA: &[&str] = &[
    "1.0",
    "1:1.0",
    "0:1.0",
    "1.0~rc1",
    "1.0^",
    "1.0^git1",
    "1.0~",
    "2",
    "1",
    "1.0-1.el9",
    "1.0.0",
    "2:0.1",
    "1:0.9",
];

fn rpm_wanted() -> Vec<&'static str> {
    RPM_INSTALLED
        .iter()
        .chain(RPM_WANTED_EXTRA)
        .copied()
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().expect("run rpm tools (Debian's rpm package)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Builds a noarch package named `name` from spec `lines` with real
/// rpmbuild; its path.
fn rpmbuild(work: &Path, name: &str, lines: &str) -> std::path::PathBuf {
    let spec = format!(
        "Name: {name}\nVersion: 1\nRelease: 1\nSummary: o\nLicense: MIT\nBuildArch: noarch\n\
         {lines}%description\no\n%files\n"
    );
    let top = work.join(format!("top-{name}"));
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(top.join("o.spec"), spec).unwrap();
    run(Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none"])
        .arg(top.join("o.spec")));
    top.join(format!("RPMS/noarch/{name}-1-1.noarch.rpm"))
}

/// rpm's own dependency matching as the oracle: a package `prov` that
/// provides `qK = INSTALLED` and a package `req` that requires `qK OP
/// WANTED`, for every query K; `rpm -i --test req` (with `prov` recorded
/// in a scratch root's database) lists exactly the requirements rpm finds
/// unmet.
#[test]
fn rpm_constraints_are_rpm_dependency_matching() {
    let work = tempfile::tempdir().unwrap();
    let wanted = rpm_wanted();
    let rpm_ops = [Op::Ge, Op::Gt, Op::Eq, Op::Le, Op::Lt];
    let mut provides = String::new();
    let mut requires = String::new();
    let mut expect = Vec::new();
    for a in RPM_INSTALLED {
        for b in &wanted {
            for op in rpm_ops {
                let k = expect.len();
                provides.push_str(&format!("Provides: q{k} = {a}\n"));
                requires.push_str(&format!("Requires: q{k} {} {b}\n", op.as_str()));
                expect.push((*a, op, *b));
            }
        }
    }
    let prov = rpmbuild(work.path(), "prov", &provides);
    let req = rpmbuild(work.path(), "req", &requires);
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    run(Command::new("rpm")
        .arg("--root")
        .arg(&root)
        .args(["--dbpath", "/var/lib/rpm", "-i", "--justdb", "--nodeps"])
        .arg(&prov));
    let o = Command::new("rpm")
        .arg("--root")
        .arg(&root)
        .args(["--dbpath", "/var/lib/rpm", "-i", "--test"])
        .arg(&req)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let unmet: std::collections::BTreeSet<usize> = stderr
        .lines()
        .filter(|l| l.contains(" is needed by req-1-1.noarch"))
        .map(|l| {
            let cap = l.split_whitespace().next().unwrap();
            cap.strip_prefix('q').unwrap().parse().unwrap()
        })
        .collect();
    assert!(
        !unmet.is_empty() && unmet.len() < expect.len(),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    let mut disagree = Vec::new();
    for (k, (a, op, b)) in expect.iter().enumerate() {
        let rpm_says = !unmet.contains(&k);
        let c = Constraint {
            op: *op,
            version: (*b).to_owned(),
        };
        if c.matches(Ecosystem::Rpm, a) != rpm_says {
            disagree.push(format!("{a} {} {b}: rpm says {rpm_says}", op.as_str()));
        }
        // `!=` (no rpm operator) is the negation of `=`.
        if *op == Op::Eq {
            let ne = Constraint {
                op: Op::Ne,
                version: (*b).to_owned(),
            };
            assert_eq!(ne.matches(Ecosystem::Rpm, a), !rpm_says, "{a} != {b}");
        }
    }
    assert!(
        disagree.is_empty(),
        "{} of {} disagree:\n{}",
        disagree.len(),
        expect.len(),
        disagree.join("\n")
    );
}

#[test]
fn rpm_order_with_both_releases_is_rpm_vercmp() {
    let wanted = rpm_wanted();
    let pairs: Vec<(&str, &str)> = RPM_INSTALLED
        .iter()
        .flat_map(|a| wanted.iter().map(move |b| (*a, *b)))
        .filter(|(_, b)| bakeproof_pkgdb::version::Evr::parse(b).release.is_some())
        .collect();
    let script: String = pairs
        .iter()
        .map(|(a, b)| format!("print(rpm.vercmp(\"{a}\", \"{b}\") .. \" \")\n"))
        .collect();
    let out = run(Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua:\n{script}}}")));
    let got: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(got.len(), pairs.len());
    for ((a, b), v) in pairs.iter().zip(got) {
        let want = match v.trim() {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            "1" => Ordering::Greater,
            other => panic!("{other}"),
        };
        assert_eq!(compare(Ecosystem::Rpm, a, b), want, "{a} vs {b}");
    }
}
