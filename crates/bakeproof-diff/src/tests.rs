use super::*;
use crate::files::FastMap;
use crate::render::json::render as render_json;
use crate::render::markdown::render as render_markdown;
use crate::render::text::render as render_text;
use serde_json::Value;
use std::collections::BTreeSet;

/// A complete seal report (every field `schemas/seal-report.schema.json`
/// requires), its fields replaced by those of `over`.
fn report_json(over: Value) -> Value {
    let mut v = serde_json::json!({"report_version": 2, "status": "sealed", "strict": false,
        "root": "/r", "tree_digest": format!("sha256:{}", "a".repeat(64)),
        "tool": {"name": "bakeproof", "version": "0"}, "timestamp": "1970-01-01T00:00:00Z",
        "summary": {"pass": 0, "warn": 0, "fail": 0}, "checks": [], "host_keys": [],
        "scan": {"entries": 0, "files": 0, "errors": 0, "files_over_size_cap": 0,
                 "size_cap_bytes": 0, "package_files_not_reported": 0, "packages": 0}});
    for (k, x) in over.as_object().unwrap() {
        v[k] = x.clone();
    }
    // The summary counts the checks unless the test sets one.
    if over.get("summary").is_none() {
        let n = |st: &str| {
            v["checks"]
                .as_array()
                .map_or(0, |c| c.iter().filter(|c| c["status"] == st).count())
        };
        v["summary"] = serde_json::json!({"pass": n("pass"), "warn": n("warn"), "fail": n("fail")});
    }
    v
}

fn doc(components: Value) -> Sbom<'static> {
    let v = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components});
    parse(Box::leak(
        serde_json::to_vec(&v).unwrap().into_boxed_slice(),
    ))
    .unwrap()
}

#[test]
fn epoch_qualifier_equals_epoch_in_version_and_aliases_match() {
    let a = doc(serde_json::json!([
        {"type": "library", "name": "openssl", "version": "1.1.1k-7",
         "purl": "pkg:rpm/rhel/openssl@1.1.1k-7?arch=x86_64&epoch=1"},
        {"type": "library", "name": "bash", "version": "5.1-1",
         "purl": "pkg:rpm/rhel/bash@5.1-1?arch=x86_64"},
        {"type": "library", "name": "gone", "version": "1", "purl": "pkg:deb/debian/gone@1?arch=all"},
        {"type": "library", "name": "lib", "version": "1.0-1", "purl": "pkg:deb/debian/lib@1.0-1?arch=amd64",
         "licenses": [{"license": {"id": "MIT"}}]},
        {"type": "library", "name": "nopurl", "version": "1"}
    ]));
    let b = doc(serde_json::json!([
        {"type": "library", "name": "openssl", "version": "1:1.1.1k-7",
         "purl": "pkg:rpm/redhat/openssl@1:1.1.1k-7?arch=x86_64"},
        {"type": "application", "name": "bash", "version": "5.1~rc1-1",
         "purl": "pkg:rpm/redhat/bash@5.1~rc1-1?arch=x86_64"},
        {"type": "library", "name": "new", "version": "2", "purl": "pkg:deb/debian/new@2?arch=all"},
        {"type": "library", "name": "lib", "version": "1.0-1+b1", "purl": "pkg:deb/debian/lib@1.0-1%2Bb1?arch=amd64",
         "licenses": [{"license": {"name": "Apache-2.0"}}]},
        {"type": "library", "name": "nopurl", "version": "1", "components": [
            {"type": "library", "name": "nested", "version": "3"}
        ]}
    ]));
    let d = diff(&a, &b);
    assert!(
        d.packages.upgraded.iter().all(|e| e.name == "lib"),
        "{d:#?}"
    );
    assert_eq!(d.packages.upgraded.len(), 1);
    assert_eq!(d.packages.upgraded[0].from.as_deref(), Some("1.0-1"));
    assert_eq!(d.packages.upgraded[0].to.as_deref(), Some("1.0-1+b1"));
    assert_eq!(d.packages.downgraded.len(), 1);
    assert_eq!(d.packages.downgraded[0].name, "bash");
    assert_eq!(
        d.packages
            .added
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["nested", "new"]
    );
    assert_eq!(d.packages.removed.len(), 1);
    assert_eq!(d.packages.license_changed.len(), 1);
    assert!(!d.files.compared);
    assert!(d.summary.changed);
}

#[test]
fn files_and_rebuilds() {
    let a = doc(serde_json::json!([
        {"type": "library", "name": "p", "version": "1", "bom-ref": "P", "purl": "pkg:deb/debian/p@1?arch=all"},
        {"type": "file", "name": "/a", "hashes": [{"alg": "SHA-256", "content": "aa"}],
         "properties": [{"name": "bakeproof:file:mode", "value": "0644"},
                        {"name": "bakeproof:file:package", "value": "P"},
                        {"name": "bakeproof:file:verify", "value": "ok"}]},
        {"type": "file", "name": "/gone"},
        {"type": "file", "name": "/b", "properties": [{"name": "bakeproof:file:package", "value": "P"}]}
    ]));
    let b = doc(serde_json::json!([
        {"type": "library", "name": "p", "version": "1", "bom-ref": "Q", "purl": "pkg:deb/debian/p@1?arch=all"},
        {"type": "file", "name": "/a", "hashes": [{"alg": "SHA-256", "content": "bb"}],
         "properties": [{"name": "bakeproof:file:mode", "value": "0755"},
                        {"name": "bakeproof:file:package", "value": "Q"},
                        {"name": "bakeproof:file:verify", "value": "ok"}]},
        {"type": "file", "name": "/new", "properties": [{"name": "bakeproof:file:unowned", "value": "true"}]},
        {"type": "file", "name": "/b", "properties": [{"name": "bakeproof:file:unowned", "value": "true"}]}
    ]));
    let d = diff(&a, &b);
    assert_eq!(d.packages.rebuilt.len(), 1);
    assert_eq!(d.packages.rebuilt[0].evidence.as_deref(), Some("files"));
    assert_eq!(d.packages.rebuilt[0].paths, ["/a"]);
    assert_eq!(d.files.modified.len(), 1);
    assert_eq!(d.files.mode_changed[0].to.as_deref(), Some("0755"));
    assert_eq!(d.files.added[0].path, "/new");
    assert_eq!(d.files.removed[0].path, "/gone");
    assert_eq!(d.files.became_unowned[0].path, "/b");
    assert_eq!(d.summary.unowned_files, 2);
    let t = render_text(&d, false);
    assert!(t.contains("rebuilt (1)"), "{t}");
    assert!(!t.contains('\x1b'));
    assert!(render_text(&d, true).contains('\x1b'));
    assert!(render_markdown(&d).contains("### Modified files (1)"));
}

#[test]
fn capabilities_compared_as_sets() {
    let f = |name: &str, caps: Option<&str>| {
        let mut props = vec![serde_json::json!({"name": "bakeproof:file:type", "value": "file"})];
        if let Some(c) = caps {
            props.push(serde_json::json!({"name": "bakeproof:file:capabilities", "value": c}));
        }
        serde_json::json!({"type": "file", "name": name, "properties": props})
    };
    let a = doc(serde_json::json!([
        f("/same", Some("cap_net_raw=ep")),
        f("/respelled", Some("cap_net_admin,cap_net_raw=p")),
        f("/gained", None),
        f("/lost", Some("cap_setuid=p")),
        f("/changed", Some("cap_setuid=p")),
        f("/empty", Some("="))
    ]));
    let b = doc(serde_json::json!([
        f("/same", Some("cap_net_raw=ep")),
        f("/respelled", Some("cap_net_raw,cap_net_admin+p")),
        f("/gained", Some("cap_sys_admin=ep")),
        f("/lost", None),
        f("/changed", Some("cap_setuid=ep")),
        f("/empty", None)
    ]));
    let d = diff(&a, &b);
    let got: Vec<(&str, Option<&str>, Option<&str>)> = d
        .files
        .capabilities_changed
        .iter()
        .map(|c| (c.path.as_str(), c.from.as_deref(), c.to.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("/changed", Some("cap_setuid=p"), Some("cap_setuid=ep")),
            ("/gained", None, Some("cap_sys_admin=ep")),
            ("/lost", Some("cap_setuid=p"), None),
        ]
    );
    assert_eq!(d.summary.capability_changes, 3);
    assert_eq!(d.count(ChangeKind::Capabilities), 3);
    assert!(render_text(&d, false).contains("c /gained (- -> cap_sys_admin=ep)"));
    assert!(render_markdown(&d).contains("Capability changes (3)"));
}

/// A seal report with `checks` given as (id, status, [(path, kind,
/// severity)]); every finding's detail carries a marker that must never
/// reach the output.
/// (check id, status, [(path, kind, severity)]).
type CheckSpec<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str, &'a str)]);

fn seal(status: &str, checks: &[CheckSpec<'_>]) -> SealReport {
    let checks: Vec<Value> = checks
        .iter()
        .map(|(id, st, fs)| {
            let findings: Vec<Value> = fs
                .iter()
                .map(|(p, k, sev)| {
                    serde_json::json!({"path": p, "kind": k, "severity": sev,
                                       "detail": "line 1: DETAIL-MARKER=<redacted>"})
                })
                .collect();
            serde_json::json!({"id": id, "status": st, "findings": findings})
        })
        .collect();
    let v = report_json(serde_json::json!({"status": status, "checks": checks}));
    parse_seal(&serde_json::to_vec(&v).unwrap()).unwrap()
}

fn fref(path: &str, kind: &str, sev: CheckStatus) -> SealFindingRef {
    SealFindingRef {
        path: path.into(),
        kind: kind.into(),
        severity: Some(sev),
    }
}

#[test]
fn seal_changes_per_check_and_verdict() {
    use CheckStatus::*;
    let old = seal(
        "unsealed",
        &[
            ("machine-id", "pass", &[]),
            ("ssh-host-keys", "pass", &[]),
            ("logs", "warn", &[("/var/log/a.log", "log", "warn")]),
            (
                "tmp",
                "warn",
                &[("/tmp/x", "tmp", "warn"), ("/tmp/y", "tmp", "warn")],
            ),
            (
                "secrets",
                "fail",
                &[
                    ("/etc/app.env", "secret-assignment", "fail"),
                    ("/etc/app.env", "secret-assignment", "fail"),
                ],
            ),
            ("random-seed", "pass", &[]),
        ],
    );
    let new = seal(
        "unsealed",
        &[
            (
                "machine-id",
                "fail",
                &[("/etc/machine-id", "machine-id", "fail")],
            ),
            (
                "ssh-host-keys",
                "fail",
                &[
                    ("/etc/ssh/ssh_host_ed25519_key", "host-private-key", "fail"),
                    (
                        "/etc/ssh/ssh_host_ed25519_key.pub",
                        "host-public-key",
                        "fail",
                    ),
                ],
            ),
            ("logs", "pass", &[]),
            (
                "tmp",
                "warn",
                &[("/tmp/y", "tmp", "warn"), ("/tmp/z", "tmp", "warn")],
            ),
            (
                "secrets",
                "fail",
                &[("/etc/app.env", "secret-assignment", "fail")],
            ),
            (
                "cloud-init",
                "warn",
                &[("/var/lib/cloud", "symlink", "warn")],
            ),
        ],
    );
    let c = diff_seal(Some(&old), Some(&new));
    assert!(c.compared);
    assert_eq!(c.reason, None);
    assert_eq!(
        c.verdict,
        Some(VerdictChange {
            from: Verdict::Unsealed,
            to: Verdict::Unsealed
        })
    );
    let want = vec![
        SealCheckChange {
            check: "machine-id".into(),
            from: Some(Pass),
            to: Some(Fail),
            direction: Direction::Worse,
            findings_added: vec![fref("/etc/machine-id", "machine-id", Fail)],
            findings_removed: vec![],
        },
        SealCheckChange {
            check: "ssh-host-keys".into(),
            from: Some(Pass),
            to: Some(Fail),
            direction: Direction::Worse,
            findings_added: vec![
                fref("/etc/ssh/ssh_host_ed25519_key", "host-private-key", Fail),
                fref("/etc/ssh/ssh_host_ed25519_key.pub", "host-public-key", Fail),
            ],
            findings_removed: vec![],
        },
        SealCheckChange {
            check: "logs".into(),
            from: Some(Warn),
            to: Some(Pass),
            direction: Direction::Better,
            findings_added: vec![],
            findings_removed: vec![fref("/var/log/a.log", "log", Warn)],
        },
        SealCheckChange {
            check: "tmp".into(),
            from: Some(Warn),
            to: Some(Warn),
            direction: Direction::Same,
            findings_added: vec![fref("/tmp/z", "tmp", Warn)],
            findings_removed: vec![fref("/tmp/x", "tmp", Warn)],
        },
        // secrets: same (path, kind) on both sides: no change;
        // cloud-init only in the new report, random-seed only in the old
        SealCheckChange {
            check: "cloud-init".into(),
            from: None,
            to: Some(Warn),
            direction: Direction::Worse,
            findings_added: vec![fref("/var/lib/cloud", "symlink", Warn)],
            findings_removed: vec![],
        },
        SealCheckChange {
            check: "random-seed".into(),
            from: Some(Pass),
            to: None,
            direction: Direction::Same,
            findings_added: vec![],
            findings_removed: vec![],
        },
    ];
    assert_eq!(c.changes, want);

    let empty = Sbom::empty("1.5");
    let d = diff_with_seal(&empty, &empty, Some(&old), Some(&new));
    assert_eq!(d.summary.seal_worse, 3);
    assert_eq!(d.summary.seal_better, 1);
    assert_eq!(d.summary.seal_findings_added, 5);
    assert_eq!(d.summary.seal_findings_removed, 2);
    assert_eq!(d.count(ChangeKind::Seal), 3);
    assert_eq!(d.count(ChangeKind::SealFindings), 5);
    assert!(d.summary.changed);
    let json = render_json(&d);
    assert!(!json.contains("DETAIL-MARKER"), "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["seal"]["verdict"]["from"], "unsealed");
    assert_eq!(v["seal"]["changes"][0]["direction"], "worse");
    assert_eq!(v["seal"]["changes"][4]["from"], Value::Null);
    let t = render_text(&d, false);
    assert!(
        t.contains(
            "seal: unsealed -> unsealed; 3 checks worse, 1 better, 5 findings added, 2 removed"
        ),
        "{t}"
    );
    assert!(
        t.contains("  ! machine-id pass -> fail\n      + /etc/machine-id [machine-id]\n"),
        "{t}"
    );
    assert!(
        t.contains("  o logs warn -> pass\n      - /var/log/a.log [log]\n"),
        "{t}"
    );
    assert!(t.contains("  ~ random-seed pass -> absent\n"), "{t}");
    assert!(!t.contains("DETAIL-MARKER"));
    let m = render_markdown(&d);
    assert!(m.contains("| seal checks worse | 3 |"), "{m}");
    assert!(m.contains("Seal verdict: unsealed -> unsealed."), "{m}");
    assert!(m.contains("### Seal checks (6)"), "{m}");
    assert!(
        m.contains("| `tmp` | warn | warn | findings | 1 | 1 |"),
        "{m}"
    );
    assert!(
        m.contains("| `machine-id` | added | `/etc/machine-id` | machine-id |"),
        "{m}"
    );

    // nothing changed: no entries, verdict still given, nothing counted
    let d = diff_with_seal(&empty, &empty, Some(&old), Some(&old));
    assert!(d.seal.compared && d.seal.changes.is_empty());
    assert!(!d.summary.changed);
    assert_eq!(d.count(ChangeKind::Seal), 0);
    assert!(render_text(&d, false).contains("seal: unsealed -> unsealed; 0 checks worse"));
}

#[test]
fn seal_verdict_worsening_alone_counts_for_fail_on_seal() {
    let a = seal(
        "sealed",
        &[("logs", "warn", &[("/var/log/a", "log", "warn")])],
    );
    let mut b = a.clone();
    b.status = "unsealed".into();
    b.strict = true;
    let c = diff_seal(Some(&a), Some(&b));
    assert!(c.changes.is_empty());
    let empty = Sbom::empty("1.5");
    let d = diff_with_seal(&empty, &empty, Some(&a), Some(&b));
    assert_eq!(d.count(ChangeKind::Seal), 1);
    assert_eq!(d.count(ChangeKind::SealFindings), 0);
    assert!(d.summary.changed);
    let d = diff_with_seal(&empty, &empty, Some(&b), Some(&a));
    assert_eq!(d.count(ChangeKind::Seal), 0);
    assert!(d.summary.changed);
}

#[test]
fn seal_one_sided_is_not_compared_with_a_reason() {
    let a = seal("sealed", &[("machine-id", "pass", &[])]);
    for (o, n, reason) in [
        (Some(&a), None, "only the old side has a seal report"),
        (None, Some(&a), "only the new side has a seal report"),
        (None, None, "neither side has a seal report"),
    ] {
        let c = diff_seal(o, n);
        assert!(!c.compared);
        assert_eq!(c.reason.as_deref(), Some(reason));
        assert_eq!(c.verdict, None);
        assert!(c.changes.is_empty());
    }
    let d = diff(&doc(serde_json::json!([])), &doc(serde_json::json!([])));
    assert!(!d.seal.compared);
    assert!(render_text(&d, false).contains("seal: not compared (neither side has a seal report)"));
    assert!(render_markdown(&d).contains("Seal not compared: neither side has a seal report."));
}

#[test]
fn parse_seal_rejects_what_is_not_a_v2_report() {
    let t = format!(r#""tree_digest": "sha256:{}""#, "a".repeat(64));
    let full = |v: Value| serde_json::to_vec(&report_json(v)).unwrap();
    let j = |rest: &str| {
        full(serde_json::from_str(&format!(r#"{{"report_version": 2, {t}, {rest}}}"#)).unwrap())
    };
    assert!(matches!(parse_seal(b"{"), Err(SealReportError::Json(_))));
    assert!(matches!(
        parse_seal(br#"{"bomFormat": "CycloneDX", "specVersion": "1.5"}"#),
        Err(SealReportError::NotSealReport(_))
    ));
    assert_eq!(
        parse_seal(&full(serde_json::json!({"report_version": 3}))),
        Err(SealReportError::Version(3))
    );
    // version 1 names no tree: not a report to compare
    let mut v1 = report_json(serde_json::json!({"report_version": 1,
        "checks": [{"id": "x", "status": "pass", "findings": []}]}));
    v1.as_object_mut().unwrap().remove("tree_digest");
    assert!(matches!(
        parse_seal(&serde_json::to_vec(&v1).unwrap()),
        Err(SealReportError::NotSealReport(_))
    ));
    assert_eq!(
        parse_seal(&full(serde_json::json!({"tree_digest": "sha256:AB",
            "checks": [{"id": "x", "status": "pass", "findings": []}]}))),
        Err(SealReportError::TreeDigest("sha256:AB".into()))
    );
    // a summary that does not count its checks (attest refused it; now
    // diff and verify do too: one set of rules)
    assert!(matches!(
        parse_seal(&full(
            serde_json::json!({"summary": {"pass": 2, "warn": 0, "fail": 0},
            "checks": [{"id": "x", "status": "pass", "findings": []}]})
        )),
        Err(SealReportError::Summary {
            pass: 2,
            counted: (1, 0, 0),
            ..
        })
    ));
    // the seal crate's type reads what the schema requires: a report
    // without its host keys (or any other required field) is refused
    for field in ["host_keys", "scan", "root", "strict"] {
        let mut v = report_json(serde_json::json!({
            "checks": [{"id": "x", "status": "pass", "findings": []}]}));
        v.as_object_mut().unwrap().remove(field);
        assert!(
            matches!(
                parse_seal(&serde_json::to_vec(&v).unwrap()),
                Err(SealReportError::NotSealReport(_))
            ),
            "{field}"
        );
    }
    assert!(matches!(
        parse_seal(&j(r#""status": "maybe", "checks": []"#)),
        Err(SealReportError::NotSealReport(_))
    ));
    assert!(matches!(
        parse_seal(&j(
            r#""status": "sealed", "checks": [{"id": "x", "status": "ok", "findings": []}]"#
        )),
        Err(SealReportError::NotSealReport(_))
    ));
    assert_eq!(
        parse_seal(&j(
            r#""status": "sealed", "checks": [{"id": "x", "status": "pass", "findings": []}, {"id": "x", "status": "pass", "findings": []}]"#
        )),
        Err(SealReportError::DuplicateCheck("x".into()))
    );
    assert_eq!(
        parse_seal(&j(
            r#""status": "sealed", "checks": [{"id": "", "status": "pass", "findings": []}]"#
        )),
        Err(SealReportError::EmptyCheckId)
    );
    // the status is judged by the checks
    for (rest, why) in [
        (r#""status": "sealed", "checks": []"#, "it has no checks"),
        (
            r#""status": "sealed", "checks": [{"id": "x", "status": "pass", "findings": []}, {"id": "secrets", "status": "fail", "findings": []}]"#,
            "secrets fail",
        ),
        (
            r#""status": "unsealed", "checks": [{"id": "x", "status": "warn", "findings": []}]"#,
            "no check fails",
        ),
        (
            r#""status": "sealed", "strict": true, "checks": [{"id": "x", "status": "warn", "findings": []}]"#,
            "x warn and the report is strict",
        ),
    ] {
        match parse_seal(&j(rest)) {
            Err(SealReportError::Inconsistent { why: w, .. }) => assert_eq!(w, why, "{rest}"),
            other => panic!("{rest}: {other:?}"),
        }
    }
    // the worst severity of one (path, kind) is kept
    let r = parse_seal(&j(
        r#""status": "unsealed", "checks": [{"id": "secrets", "status": "fail",
            "findings": [{"path": "/a", "kind": "k", "detail": "d", "severity": "warn"},
                         {"path": "/a", "kind": "k", "detail": "d", "severity": "fail"}]}]"#,
    ))
    .unwrap();
    let mut none = r.clone();
    none.checks[0].findings.clear();
    let c = diff_seal(Some(&none), Some(&r));
    assert_eq!(
        c.changes[0].findings_added,
        [fref("/a", "k", CheckStatus::Fail)]
    );
}

#[test]
fn seal_report_is_bound_to_the_sboms_tree() {
    let d = "a".repeat(64);
    let sbom_json = |props: bool| {
        let mut m = serde_json::json!({"component": {"type": "operating-system", "name": "x",
            "hashes": [{"alg": "SHA-256", "content": d}]}});
        if props {
            m["properties"] = serde_json::json!([{"name": "bakeproof:tree-digest", "value": format!("sha256:{d}")}]);
        }
        serde_json::to_vec(
            &serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": m, "components": []}),
        )
        .unwrap()
    };
    let (a, b) = (sbom_json(true), sbom_json(false));
    let seal = seal("sealed", &[("machine-id", "pass", &[])]);
    for bytes in [&a, &b] {
        let sbom = parse(bytes).unwrap();
        assert_eq!(sbom.tree_digest(), Some(format!("sha256:{d}")));
        assert_eq!(check_seal_binding(&sbom, &seal), Ok(()));
    }
    let mut other = seal.clone();
    other.tree_digest = format!("sha256:{}", "b".repeat(64));
    assert!(matches!(
        check_seal_binding(&parse(&a).unwrap(), &other),
        Err(SealReportError::OtherTree { .. })
    ));
    let syft = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}"#;
    assert_eq!(
        check_seal_binding(&parse(syft).unwrap(), &seal),
        Err(SealReportError::UnboundSbom)
    );
}

/// FxHash as the diff used it (rustc's, fixed seed): the oracle the
/// colliding names below are built against.
fn fxhash_str(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = 0u64;
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in chunks.remainder().iter().chain(&[0xff]) {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

/// `n` distinct 16-byte ASCII paths that all have FxHash 0 before the
/// `str` terminator: the second word cancels the first.
fn fx_colliding_names(n: usize) -> Vec<String> {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut out = Vec::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        i += 1;
        let mut w1 = *b"/f000000";
        let mut x = i;
        for b in w1[1..].iter_mut().rev() {
            *b = b'a' + (x % 26) as u8;
            x /= 26;
        }
        let w2 = w1_word(&w1).wrapping_mul(K).rotate_left(5).to_le_bytes();
        if w2.iter().all(|&b| (0x20..0x7f).contains(&b)) {
            let mut name = String::from_utf8(w1.to_vec()).unwrap();
            name.push_str(std::str::from_utf8(&w2).unwrap());
            out.push(name);
        }
    }
    out
}

fn w1_word(w: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*w)
}

#[test]
fn map_hasher_is_keyed_per_map() {
    // A fixed-seed hasher gives every map the same hash of a key.
    let hashes: BTreeSet<u64> = (0..8)
        .map(|_| {
            FastMap::<&str, ()>::default()
                .hasher()
                .hash_one("/etc/passwd")
        })
        .collect();
    assert!(hashes.len() > 1, "the map hasher has a fixed seed");
}

#[test]
fn names_colliding_in_fxhash_do_not_collide_in_the_map() {
    let names = fx_colliding_names(5_000);
    assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), names.len());
    let fx: BTreeSet<u64> = names.iter().map(|n| fxhash_str(n)).collect();
    assert_eq!(fx.len(), 1, "the names collide in FxHash");
    let b = FastMap::<&str, ()>::default();
    let ours: BTreeSet<u64> = names
        .iter()
        .map(|n| b.hasher().hash_one(n.as_str()))
        .collect();
    assert!(ours.len() > names.len() - 10, "{} distinct", ours.len());
    // and the diff over them is right (it would be quadratic with FxHash)
    let doc = |modified: &str| {
        let comps: Vec<Value> = names
            .iter()
            .map(|n| {
                let h = if n == modified { "b" } else { "a" }.repeat(64);
                serde_json::json!({"type": "file", "name": n, "bom-ref": n,
                    "hashes": [{"alg": "SHA-256", "content": h}]})
            })
            .collect();
        serde_json::to_vec(
            &serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": comps}),
        )
        .unwrap()
    };
    let (old, new) = (doc(""), doc(&names[777]));
    let d = diff(&parse(&old).unwrap(), &parse(&new).unwrap());
    assert_eq!(d.count(ChangeKind::ModifiedFiles), 1);
    assert_eq!(d.count(ChangeKind::AddedFiles), 0);
}

#[test]
fn rejects_non_cyclonedx() {
    assert!(matches!(parse(b"{"), Err(DecodeError::Json(_))));
    assert!(matches!(
        parse(br#"{"spdxVersion": "SPDX-2.3"}"#),
        Err(DecodeError::NotCycloneDx(_))
    ));
}
