//! The package comparison: identities matched as `bakeproof diff` matches
//! them, versions compared as multisets (several installed versions of one
//! package: kernels, rpm `gpg-pubkey`).

use serde_json::{Value, json};

use super::{TREE, sbom};
use crate::checks::packages::diff_packages;
use crate::report::{PackageChange, PackageDiff};

/// A package component as bakeproof's encoder writes one.
fn pkg(ptype: &str, ns: &str, name: &str, version: &str, arch: &str) -> Value {
    json!({"type": "library", "name": name, "version": version,
        "bom-ref": format!("pkg:{name}@{version}:{arch}"),
        "purl": format!("pkg:{ptype}/{ns}/{name}@{version}?arch={arch}")})
}

fn kernel(v: &str) -> Value {
    pkg("rpm", "amzn", "kernel", v, "x86_64")
}

fn diff(a: Vec<Value>, l: Vec<Value>) -> Vec<(PackageChange, Option<String>, Option<String>)> {
    let (a, l) = (sbom(TREE, a.into()), sbom(TREE, l.into()));
    let (a, l) = (
        bakeproof_diff::parse(&a).unwrap(),
        bakeproof_diff::parse(&l).unwrap(),
    );
    diff_packages(&a, &l)
        .into_iter()
        .map(|d: PackageDiff| (d.change, d.attested, d.live))
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn one_version_each_side() {
    let bash = |v| pkg("deb", "debian", "bash", v, "amd64");
    assert!(diff(vec![bash("5.2.15-2")], vec![bash("5.2.15-2")]).is_empty());
    let a = sbom(TREE, vec![bash("5.2.15-2")].into());
    let l = sbom(TREE, vec![bash("5.2.15-3")].into());
    let d = diff_packages(
        &bakeproof_diff::parse(&a).unwrap(),
        &bakeproof_diff::parse(&l).unwrap(),
    );
    assert_eq!(
        d,
        [PackageDiff {
            package: "pkg:deb/debian/bash?arch=amd64".into(),
            change: PackageChange::Version,
            attested: s("5.2.15-2"),
            live: s("5.2.15-3"),
        }]
    );
    assert_eq!(
        diff(vec![bash("5.2.15-2")], vec![]),
        [(PackageChange::Missing, s("5.2.15-2"), None)]
    );
    assert_eq!(
        diff(vec![], vec![bash("5.2.15-2")]),
        [(PackageChange::Added, None, s("5.2.15-2"))]
    );
    // Another architecture is another package.
    assert_eq!(
        diff(
            vec![bash("5.2.15-2")],
            vec![
                bash("5.2.15-2"),
                pkg("deb", "debian", "bash", "5.2.15-2", "i386")
            ]
        ),
        [(PackageChange::Added, None, s("5.2.15-2"))]
    );
}

/// Two installed kernels: one replaced, removed, or a third added is
/// reported, whichever order the databases list them in. (Keeping one
/// version per identity, the last listed, hid all three when the changed
/// one was not listed last.)
#[test]
fn several_versions_of_one_package_are_each_accounted_for() {
    let attested = || vec![kernel("6.1.1-1"), kernel("6.1.2-1")];
    assert!(diff(attested(), attested()).is_empty());
    assert!(diff(attested(), vec![kernel("6.1.2-1"), kernel("6.1.1-1")]).is_empty());
    // The first kernel replaced by an unattested build.
    assert_eq!(
        diff(attested(), vec![kernel("6.1.0-9"), kernel("6.1.2-1")]),
        [(PackageChange::Version, s("6.1.1-1"), s("6.1.0-9"))]
    );
    // Removed.
    assert_eq!(
        diff(attested(), vec![kernel("6.1.2-1")]),
        [(PackageChange::Missing, s("6.1.1-1"), None)]
    );
    // A third one installed (listed first).
    assert_eq!(
        diff(
            attested(),
            vec![kernel("6.6.6-1"), kernel("6.1.1-1"), kernel("6.1.2-1")]
        ),
        [(PackageChange::Added, None, s("6.6.6-1"))]
    );
    // Both replaced: no pairing guessed, each one named.
    assert_eq!(
        diff(attested(), vec![kernel("7.0.0-1"), kernel("7.0.1-1")]),
        [
            (PackageChange::Missing, s("6.1.1-1"), None),
            (PackageChange::Missing, s("6.1.2-1"), None),
            (PackageChange::Added, None, s("7.0.0-1")),
            (PackageChange::Added, None, s("7.0.1-1")),
        ]
    );
    // The same version installed twice where the image had it once.
    assert_eq!(
        diff(
            vec![kernel("6.1.1-1")],
            vec![kernel("6.1.1-1"), kernel("6.1.1-1")]
        ),
        [(PackageChange::Added, None, s("6.1.1-1"))]
    );
}

#[test]
fn attested_side_first_then_added_in_identity_order() {
    let p = |n, v| pkg("deb", "debian", n, v, "amd64");
    assert_eq!(
        diff(
            vec![p("b", "1"), p("d", "1"), kernel("1")],
            vec![
                p("c", "1"),
                p("a", "1"),
                p("b", "2"),
                kernel("1"),
                kernel("2")
            ]
        ),
        [
            (PackageChange::Version, s("1"), s("2")),
            (PackageChange::Missing, s("1"), None),
            (PackageChange::Added, None, s("1")),
            (PackageChange::Added, None, s("1")),
            (PackageChange::Added, None, s("2")),
        ]
    );
}
