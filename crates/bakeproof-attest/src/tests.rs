//! Round trips and tampering: every case rejected with its own reason.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use verify::VerifyError as E;

fn sbom() -> Vec<u8> {
    let d = "ab".repeat(32);
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"type": "container", "name": "img",
            "hashes": [{"alg": "SHA-256", "content": d}]},
            "properties": [{"name": "bakeproof:tree-digest", "value": format!("sha256:{d}")}]},
        "components": []
    }))
    .unwrap()
}

/// A sealed report of the tree of [`sbom`].
fn seal_report() -> Value {
    json!({"report_version": 2, "status": "sealed", "strict": false, "root": "/",
        "tree_digest": format!("sha256:{}", "ab".repeat(32)),
        "tool": {"name": "bakeproof", "version": "0"}, "timestamp": "2026-01-01T00:00:00Z",
        "host_keys": [],
        "scan": {"entries": 1, "files": 1, "errors": 0, "files_over_size_cap": 0,
                 "size_cap_bytes": 0, "package_files_not_reported": 0, "packages": 0},
        "summary": {"pass": 2, "warn": 0, "fail": 0},
        "checks": [{"id": "machine-id", "status": "pass", "findings": []},
                   {"id": "ssh-host-keys", "status": "pass", "findings": []}]})
}

fn amis() -> Vec<AmiRef> {
    vec![
        AmiRef::parse("us-east-1:ami-0123456789abcdef0").unwrap(),
        AmiRef::parse("eu-west-1:ami-11111111").unwrap(),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    key: PrivateKey,
    sbom: Vec<u8>,
    seal: Vec<u8>,
    index: AttestIndex,
}

fn make(inline_max: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate();
    let sbom = sbom();
    let seal = serde_json::to_vec(&seal_report()).unwrap();
    let amis = amis();
    let index = attest(
        &AttestRequest {
            sbom: &sbom,
            seal: &seal,
            amis: &amis,
            key: &key,
            inline_sbom_max: inline_max,
            allow_unsealed: false,
            audit: None,
            allow_failing_audit: false,
            tool_version: "0.0.0",
            created: "2024-01-01T00:00:00Z".into(),
        },
        dir.path(),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        key,
        sbom,
        seal,
        index,
    }
}

impl Fixture {
    fn bundle(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self._dir.path().join(name)).unwrap()).unwrap()
    }
    fn policy(&self) -> VerifyPolicy {
        VerifyPolicy::new(self.key.public_key())
    }
}

fn check(b: &Value, p: &VerifyPolicy) -> Result<VerifiedStatement, VerifyError> {
    verify_bundle(&serde_json::to_vec(b).unwrap(), p)
}

fn payload(b: &Value) -> Vec<u8> {
    STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap()
}

#[test]
fn round_trip_inline() {
    let f = make(statement::DEFAULT_INLINE_SBOM_MAX);
    let b = f.bundle(SBOM_BUNDLE_FILE);
    assert_eq!(b["mediaType"], verify::BUNDLE_MEDIA_TYPE_V03);
    assert_eq!(
        b["verificationMaterial"]["publicKey"]["hint"],
        f.key.public_key().keyid()
    );
    let mut p = f.policy();
    p.ami = Some(amis()[1].clone());
    p.kind = Some(PredicateKind::Sbom);
    p.tree_digest = Some("ab".repeat(32));
    let v = check(&b, &p).unwrap();
    assert_eq!(v.predicate_type, statement::SBOM_PREDICATE_TYPE);
    assert_eq!(v.amis, amis());
    assert_eq!(
        v.predicate,
        serde_json::from_slice::<Value>(&f.sbom).unwrap()
    );
    let st: Value = serde_json::from_slice(&payload(&b)).unwrap();
    assert_eq!(st["_type"], statement::STATEMENT_TYPE);
    assert_eq!(
        st["subject"][0]["name"],
        "ami://us-east-1/ami-0123456789abcdef0"
    );
    assert_eq!(st["subject"][0]["digest"]["sha256"], "ab".repeat(32));

    p.kind = Some(PredicateKind::Seal);
    let s = check(&f.bundle(SEAL_BUNDLE_FILE), &p).unwrap();
    assert_eq!(
        s.predicate,
        serde_json::from_slice::<Value>(&f.seal).unwrap()
    );
    assert_eq!(f.index.files.len(), 2);
    assert_eq!(f.index.keyid, f.key.public_key().keyid());
}

#[test]
fn round_trip_reference() {
    let f = make(10);
    let b = f.bundle(SBOM_BUNDLE_FILE);
    let v = check(&b, &f.policy()).unwrap();
    // The standard CycloneDX predicate type, so CycloneDX policies match.
    assert_eq!(v.predicate_type, "https://cyclonedx.org/bom");
    assert_eq!(v.kind, PredicateKind::Sbom);
    let r = v.sbom_ref.clone().unwrap();
    assert_eq!(r.uri, SBOM_COPY_FILE);
    let copy = std::fs::read(f._dir.path().join(SBOM_COPY_FILE)).unwrap();
    assert_eq!(copy, f.sbom);
    assert_eq!(r.size, copy.len() as u64);
    assert_eq!(
        r.sha256,
        bakeproof_types::Sha256Digest::of(&copy).to_string()
    );
    r.check(&copy).unwrap();
    let mut bad = copy.clone();
    bad[3] ^= 1;
    assert!(matches!(r.check(&bad), Err(E::SbomDigestMismatch { .. })));
    // The predicate is a CycloneDX document: the SBOM's metadata, no
    // components, one `bom` external reference pinning the SBOM by SHA-256.
    let p = &v.predicate;
    let full: Value = serde_json::from_slice(&f.sbom).unwrap();
    assert_eq!(p["bomFormat"], "CycloneDX");
    assert_eq!(p["specVersion"], full["specVersion"]);
    assert_eq!(p["metadata"]["component"], full["metadata"]["component"]);
    assert!(p.get("components").is_none());
    assert_eq!(
        p["externalReferences"],
        json!([{"type": "bom", "url": SBOM_COPY_FILE,
                "comment": p["externalReferences"][0]["comment"],
                "hashes": [{"alg": "SHA-256", "content": r.sha256}]}])
    );
    let props = p["metadata"]["properties"].as_array().unwrap();
    assert!(
        props.contains(
            &json!({"name": "bakeproof:sbom-ref", "value": format!("sha256:{}", r.sha256)})
        )
    );
    assert!(
        props
            .contains(&json!({"name": "bakeproof:sbom-ref-size", "value": copy.len().to_string()}))
    );
}

/// A signed CycloneDX predicate that is unclear about what it pins is
/// refused, whatever else is right; the reference of the older predicate
/// type (`https://bakeproof.dev/sbom-ref/v1`) still verifies.
#[test]
fn reference_predicate_must_agree_with_itself() {
    let f = make(10);
    let st: Value = serde_json::from_slice(&payload(&f.bundle(SBOM_BUNDLE_FILE))).unwrap();
    let sha = st["predicate"]["externalReferences"][0]["hashes"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let props = |st: &mut Value| -> Vec<Value> {
        st["predicate"]["metadata"]["properties"]
            .as_array()
            .unwrap()
            .clone()
    };
    let set_props = |st: &mut Value, v: Vec<Value>| {
        st["predicate"]["metadata"]["properties"] = Value::Array(v);
    };
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut t = st.clone();
    t["predicate"]["externalReferences"][0]["hashes"][0]["content"] = "cd".repeat(32).into();
    cases.push(("hash differs from the property", t));
    let mut t = st.clone();
    let e = t["predicate"]["externalReferences"][0].clone();
    t["predicate"]["externalReferences"] = json!([e.clone(), e]);
    cases.push(("two bom references", t));
    let mut t = st.clone();
    t["predicate"]["externalReferences"] = json!([]);
    cases.push(("no bom reference", t));
    let mut t = st.clone();
    let v: Vec<Value> = props(&mut t)
        .into_iter()
        .filter(|p| p["name"] != "bakeproof:sbom-ref-size")
        .collect();
    set_props(&mut t, v);
    cases.push(("no size", t));
    let mut t = st.clone();
    let v: Vec<Value> = props(&mut t)
        .into_iter()
        .map(|p| {
            if p["name"] == "bakeproof:sbom-ref-size" {
                json!({"name": "bakeproof:sbom-ref-size", "value": "+12"})
            } else {
                p
            }
        })
        .collect();
    set_props(&mut t, v);
    cases.push(("size not decimal", t));
    let mut t = st.clone();
    let mut v = props(&mut t);
    v.push(json!({"name": "bakeproof:sbom-ref", "value": format!("sha256:{sha}")}));
    set_props(&mut t, v);
    cases.push(("two reference properties", t));
    let mut t = st.clone();
    let v: Vec<Value> = props(&mut t)
        .into_iter()
        .map(|p| {
            if p["name"] == "bakeproof:sbom-ref" {
                json!({"name": "bakeproof:sbom-ref", "value": sha.to_uppercase()})
            } else {
                p
            }
        })
        .collect();
    set_props(&mut t, v);
    cases.push(("property not sha256:hex", t));
    let mut t = st.clone();
    t["predicate"]["externalReferences"][0]
        .as_object_mut()
        .unwrap()
        .remove("url");
    cases.push(("no url", t));
    for (what, t) in cases {
        let e = check(&resign(&f, &t), &f.policy()).unwrap_err();
        assert!(
            matches!(&e, E::MalformedStatement(m) if m.contains("SBOM reference")),
            "{what}: {e}"
        );
    }
    // Untouched, re-signed: verifies (the cases fail for what they change).
    assert!(
        check(&resign(&f, &st), &f.policy())
            .unwrap()
            .sbom_ref
            .is_some()
    );

    // The older predicate type still verifies, as a reference.
    let mut old = st.clone();
    old["predicateType"] = statement::SBOM_REF_PREDICATE_TYPE.into();
    old["predicate"] = json!({"uri": SBOM_COPY_FILE, "digest": {"sha256": sha},
        "size": f.sbom.len(), "mediaType": statement::CYCLONEDX_MEDIA_TYPE,
        "treeDigest": {"sha256": "ab".repeat(32)}});
    let v = check(&resign(&f, &old), &f.policy()).unwrap();
    assert_eq!(v.kind, PredicateKind::Sbom);
    v.sbom_ref.unwrap().check(&f.sbom).unwrap();
}

#[test]
fn policy_failures() {
    let f = make(statement::DEFAULT_INLINE_SBOM_MAX);
    let b = f.bundle(SEAL_BUNDLE_FILE);
    let mut p = f.policy();
    p.ami = Some(AmiRef::parse("us-east-2:ami-0123456789abcdef0").unwrap());
    assert_eq!(
        check(&b, &p).unwrap_err(),
        E::AmiNotInSubjects("us-east-2:ami-0123456789abcdef0".into())
    );
    let mut p = f.policy();
    p.kind = Some(PredicateKind::Sbom);
    assert!(matches!(check(&b, &p), Err(E::WrongKind { .. })));
    let mut p = f.policy();
    p.tree_digest = Some("cd".repeat(32));
    assert!(matches!(check(&b, &p), Err(E::TreeDigestMismatch { .. })));
    let other = VerifyPolicy::new(PrivateKey::generate().public_key());
    assert!(matches!(check(&b, &other), Err(E::UnknownKey { .. })));
}

/// Re-signs a modified statement with the fixture's key (a validly signed
/// but unacceptable statement).
fn resign(f: &Fixture, st: &Value) -> Value {
    verify::sign_bundle(st, &f.key).unwrap()
}

#[test]
fn tampering() {
    let f = make(statement::DEFAULT_INLINE_SBOM_MAX);
    let good = f.bundle(SBOM_BUNDLE_FILE);
    let p = f.policy();

    // A payload byte.
    let mut b = good.clone();
    let mut pl = payload(&b);
    let i = pl.len() / 2;
    pl[i] ^= 0x01;
    b["dsseEnvelope"]["payload"] = STANDARD.encode(&pl).into();
    assert_eq!(check(&b, &p).unwrap_err(), E::BadSignature);

    // The payloadType.
    let mut b = good.clone();
    b["dsseEnvelope"]["payloadType"] = "application/json".into();
    assert_eq!(
        check(&b, &p).unwrap_err(),
        E::PayloadType("application/json".into())
    );

    // A swapped signature (the seal bundle's).
    let mut b = good.clone();
    b["dsseEnvelope"]["signatures"] =
        f.bundle(SEAL_BUNDLE_FILE)["dsseEnvelope"]["signatures"].clone();
    assert_eq!(check(&b, &p).unwrap_err(), E::BadSignature);

    // A second signature.
    let mut b = good.clone();
    let s = b["dsseEnvelope"]["signatures"][0].clone();
    b["dsseEnvelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(s);
    assert_eq!(check(&b, &p).unwrap_err(), E::SignatureCount(2));
    let mut b = good.clone();
    b["dsseEnvelope"]["signatures"] = json!([]);
    assert_eq!(check(&b, &p).unwrap_err(), E::SignatureCount(0));

    // Another key, same hint and keyid (only the signature can tell).
    let other = PrivateKey::generate();
    let mut b =
        verify::sign_bundle(&serde_json::from_slice(&payload(&good)).unwrap(), &other).unwrap();
    b["verificationMaterial"] = good["verificationMaterial"].clone();
    b["dsseEnvelope"]["signatures"][0]["keyid"] =
        good["dsseEnvelope"]["signatures"][0]["keyid"].clone();
    assert_eq!(check(&b, &p).unwrap_err(), E::BadSignature);
    // Another key, honest hint.
    let b = verify::sign_bundle(&serde_json::from_slice(&payload(&good)).unwrap(), &other).unwrap();
    assert!(matches!(check(&b, &p).unwrap_err(), E::UnknownKey { .. }));

    // Media types.
    for mt in [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
    ] {
        let mut b = good.clone();
        b["mediaType"] = mt.into();
        check(&b, &p).unwrap();
    }
    let mut b = good.clone();
    b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json".into();
    assert!(matches!(
        check(&b, &p).unwrap_err(),
        E::UnsupportedMediaType(_)
    ));

    // Malformed JSON, missing envelope.
    assert!(matches!(
        verify_bundle(b"{\"mediaType\":", &p).unwrap_err(),
        E::MalformedJson(_)
    ));
    assert!(matches!(
        verify_bundle(b"[]", &p).unwrap_err(),
        E::MalformedJson(_)
    ));
    let mut b = good.clone();
    b.as_object_mut().unwrap().remove("dsseEnvelope");
    assert!(matches!(check(&b, &p).unwrap_err(), E::MalformedBundle(_)));

    // Signed but wrong statement type / predicate type / subjects / inner digest.
    let st: Value = serde_json::from_slice(&payload(&good)).unwrap();
    let mut s = st.clone();
    s["_type"] = "https://in-toto.io/Statement/v0.1".into();
    assert!(matches!(
        check(&resign(&f, &s), &p).unwrap_err(),
        E::StatementType(_)
    ));
    let mut s = st.clone();
    s["predicateType"] = "https://slsa.dev/provenance/v1".into();
    assert!(matches!(
        check(&resign(&f, &s), &p).unwrap_err(),
        E::PredicateType(_)
    ));
    let mut s = st.clone();
    s["subject"][0]["name"] = "docker://x".into();
    assert!(matches!(
        check(&resign(&f, &s), &p).unwrap_err(),
        E::MalformedStatement(_)
    ));
    // A subject name is exact, by the one AmiRef rule: blanks are not trimmed
    // (this reader used to trim them while the store's publish refused them).
    for name in [
        "ami:// us-east-1/ami-0123456789abcdef0",
        "ami://us-east-1/ami-0123456789abcdef0 ",
        "ami://us-east-1/ami-0123456789ABCDEF0",
    ] {
        let mut s = st.clone();
        s["subject"][0]["name"] = name.into();
        assert!(
            matches!(
                check(&resign(&f, &s), &p).unwrap_err(),
                E::MalformedStatement(_)
            ),
            "{name}"
        );
    }
    let mut s = st.clone();
    s["subject"][0]["digest"]["sha256"] = "cd".repeat(32).into();
    assert!(matches!(
        check(&resign(&f, &s), &p).unwrap_err(),
        E::MalformedStatement(_)
    ));
    let mut s = st.clone();
    s["subject"][0]["digest"]["sha256"] = "cd".repeat(32).into();
    s["subject"][1]["digest"]["sha256"] = "cd".repeat(32).into();
    assert!(matches!(
        check(&resign(&f, &s), &p).unwrap_err(),
        E::TreeDigestMismatch { .. }
    ));
}

#[test]
fn bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate();
    let mk = |sbom: &[u8], seal: &[u8], amis: &[AmiRef]| {
        attest(
            &AttestRequest {
                sbom,
                seal,
                amis,
                key: &key,
                inline_sbom_max: 1 << 20,
                allow_unsealed: false,
                audit: None,
                allow_failing_audit: false,
                tool_version: "0",
                created: String::new(),
            },
            dir.path(),
        )
    };
    let e = mk(b"{}", b"{\"status\":\"sealed\"}", &amis())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tree digest"), "{e}");
    let e = mk(&sbom(), b"{\"checks\":[]}", &amis())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a bakeproof seal report"), "{e}");
    let good = serde_json::to_vec(&seal_report()).unwrap();
    let e = mk(&sbom(), &good, &[]).unwrap_err().to_string();
    assert!(e.contains("AMI"), "{e}");
}

/// The seal report must describe the SBOM's tree and agree with its checks;
/// an unsealed one is attested only when allowed.
#[test]
fn seal_report_bound_to_the_tree_and_judged_by_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate();
    let mk = |seal: &Value, allow_unsealed: bool| {
        attest(
            &AttestRequest {
                sbom: &sbom(),
                seal: &serde_json::to_vec(seal).unwrap(),
                amis: &amis(),
                key: &key,
                inline_sbom_max: 1 << 20,
                allow_unsealed,
                audit: None,
                allow_failing_audit: false,
                tool_version: "0",
                created: String::new(),
            },
            dir.path(),
        )
    };
    assert!(mk(&seal_report(), false).is_ok());
    // Another tree's report.
    let mut other = seal_report();
    other["tree_digest"] = format!("sha256:{}", "cd".repeat(32)).into();
    let e = mk(&other, true).unwrap_err();
    assert!(
        matches!(e, AttestError::Input(InputError::SealTreeDigest { .. })),
        "{e}"
    );
    // A report that names no tree (report_version 1).
    let mut v1 = seal_report();
    v1.as_object_mut().unwrap().remove("tree_digest");
    let e = mk(&v1, true).unwrap_err().to_string();
    assert!(e.contains("tree_digest"), "{e}");
    // Unsealed: refused unless allowed.
    let mut unsealed = seal_report();
    unsealed["status"] = "unsealed".into();
    unsealed["checks"][1]["status"] = "fail".into();
    unsealed["summary"] = json!({"pass": 1, "warn": 0, "fail": 1});
    let e = mk(&unsealed, false).unwrap_err();
    assert!(
        matches!(&e, AttestError::Input(InputError::Unsealed(w)) if w.contains("ssh-host-keys")),
        "{e}"
    );
    assert!(mk(&unsealed, true).is_ok());
    // "sealed" with a failing check, an unsealed one with nothing failing,
    // a strict one that warns, a summary that lies, no checks at all.
    let mut lie = unsealed.clone();
    lie["status"] = "sealed".into();
    let mut inverse = seal_report();
    inverse["status"] = "unsealed".into();
    let mut strict = seal_report();
    strict["strict"] = true.into();
    strict["checks"][0]["status"] = "warn".into();
    strict["summary"] = json!({"pass": 1, "warn": 1, "fail": 0});
    let mut summary = seal_report();
    summary["summary"]["pass"] = 3.into();
    let mut empty = seal_report();
    empty["checks"] = json!([]);
    // Without the baked host keys, first boot could not tell a cloned key.
    let mut no_keys = seal_report();
    no_keys.as_object_mut().unwrap().remove("host_keys");
    let mut odd = seal_report();
    odd["checks"][0]["status"] = "ok".into();
    for (v, want) in [
        (&lie, "contradicts its checks"),
        (&inverse, "contradicts its checks"),
        (&strict, "contradicts its checks"),
        (&summary, "does not count"),
        (&empty, "no checks"),
        (&odd, "unknown variant `ok`"),
        (&no_keys, "missing field `host_keys`"),
    ] {
        let e = mk(v, true).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
}

/// A signed seal statement whose report names another tree than its
/// subjects, or whose status contradicts its checks, does not verify.
#[test]
fn signed_seal_report_of_another_tree_or_contradicting_itself_is_refused() {
    let f = make(1 << 20);
    let p = f.policy();
    let b = f.bundle(SEAL_BUNDLE_FILE);
    assert!(check(&b, &p).is_ok());
    let st: Value = serde_json::from_slice(&payload(&b)).unwrap();
    let mut other = st.clone();
    other["predicate"]["tree_digest"] = format!("sha256:{}", "cd".repeat(32)).into();
    assert!(matches!(
        check(&resign(&f, &other), &p).unwrap_err(),
        E::SealTreeDigest { .. }
    ));
    let mut lie = st.clone();
    lie["predicate"]["checks"][1]["status"] = "fail".into();
    lie["predicate"]["summary"] = json!({"pass": 1, "warn": 0, "fail": 1});
    let e = check(&resign(&f, &lie), &p).unwrap_err();
    assert!(
        matches!(&e, E::SealReport(s) if s.contains("contradicts")),
        "{e}"
    );
}

/// The index as the `json!` literal of the earlier writer built it: the
/// typed index writes the same bytes (an independent oracle of the format).
fn index_as_json_literal(f: &Fixture, copy: bool) -> Vec<u8> {
    let d = "ab".repeat(32);
    let sha = |name: &str| {
        bakeproof_types::Sha256Digest::of(&std::fs::read(f._dir.path().join(name)).unwrap())
            .to_string()
    };
    // One predicate type, inline or by reference (cosign's `--type cyclonedx`).
    let _ = copy;
    let sbom_type = statement::SBOM_PREDICATE_TYPE;
    let mut files = vec![
        json!({"file": SBOM_BUNDLE_FILE, "kind": "bundle", "predicateType": sbom_type,
               "sha256": sha(SBOM_BUNDLE_FILE)}),
        json!({"file": SEAL_BUNDLE_FILE, "kind": "bundle",
               "predicateType": statement::SEAL_PREDICATE_TYPE, "sha256": sha(SEAL_BUNDLE_FILE)}),
    ];
    if copy {
        files.push(json!({"file": SBOM_COPY_FILE, "kind": "sbom",
            "mediaType": statement::CYCLONEDX_MEDIA_TYPE,
            "sha256": bakeproof_types::Sha256Digest::of(&f.sbom).to_string(), "size": f.sbom.len()}));
    }
    let v = json!({
        "bakeproofAttestIndex": 1,
        "tool": {"name": "bakeproof", "version": "0.0.0"},
        "created": "2024-01-01T00:00:00Z",
        "keyid": f.key.public_key().keyid(),
        "treeDigest": {"sha256": d},
        "subjects": [
            {"name": "ami://us-east-1/ami-0123456789abcdef0", "digest": {"sha256": d}},
            {"name": "ami://eu-west-1/ami-11111111", "digest": {"sha256": d}},
        ],
        "files": files,
    });
    let mut b = serde_json::to_vec_pretty(&v).unwrap();
    b.push(b'\n');
    b
}

#[test]
fn index_bytes_are_the_documented_form_and_read_back_by_the_same_type() {
    for (inline_max, copy) in [(statement::DEFAULT_INLINE_SBOM_MAX, false), (10, true)] {
        let f = make(inline_max);
        let on_disk = std::fs::read(f._dir.path().join(INDEX_FILE)).unwrap();
        assert_eq!(
            String::from_utf8(on_disk.clone()).unwrap(),
            String::from_utf8(index_as_json_literal(&f, copy)).unwrap()
        );
        let back = AttestIndex::from_slice(&on_disk).unwrap();
        assert_eq!(back, f.index);
        assert_eq!(back.to_vec(), on_disk);
        assert_eq!(back.amis(), amis());
    }
}

#[test]
fn index_read_is_strict() {
    let f = make(statement::DEFAULT_INLINE_SBOM_MAX);
    let good: Value = serde_json::from_slice(&f.index.to_vec()).unwrap();
    let read = |v: &Value| AttestIndex::from_slice(&serde_json::to_vec(v).unwrap());
    read(&good).unwrap();
    // an unknown version is refused before its fields are looked at
    for (v, shown) in [(json!(2), "2"), (json!("1"), "\"1\""), (json!(1.5), "1.5")] {
        let mut x = json!({"bakeproofAttestIndex": v, "whatever": true});
        assert_eq!(read(&x).unwrap_err(), IndexError::Version(shown.into()));
        x = good.clone();
        x["bakeproofAttestIndex"] = v;
        assert_eq!(read(&x).unwrap_err(), IndexError::Version(shown.into()));
    }
    let mut x = good.clone();
    x.as_object_mut().unwrap().remove("bakeproofAttestIndex");
    assert_eq!(read(&x).unwrap_err(), IndexError::NotAnIndex);
    assert!(matches!(
        AttestIndex::from_slice(b"[1"),
        Err(IndexError::Json(_))
    ));
    // unknown fields, at any level
    for ptr in ["", "/tool", "/treeDigest", "/subjects/0", "/files/0"] {
        let mut x = good.clone();
        x.pointer_mut(ptr).unwrap()["extra"] = json!(1);
        assert!(
            matches!(read(&x), Err(IndexError::Malformed(ref m)) if m.contains("extra")),
            "{ptr}"
        );
    }
    // what a reader relies on
    let cases: Vec<(&str, Value)> = vec![
        ("/treeDigest/sha256", json!("AB".repeat(32))),
        ("/subjects", json!([])),
        ("/subjects/0/name", json!("ami://us-east-1/i-123")),
        ("/subjects/1/digest/sha256", json!("cd".repeat(32))),
        ("/files", json!([])),
        ("/files/0/file", json!("../sbom.sigstore.json")),
        ("/files/0/sha256", json!("ab")),
        ("/files/0/predicateType", json!("")),
        ("/files/0/kind", json!("blob")),
    ];
    for (ptr, v) in cases {
        let mut x = good.clone();
        *x.pointer_mut(ptr).unwrap() = v;
        assert!(matches!(read(&x), Err(IndexError::Malformed(_))), "{ptr}");
    }
}

#[test]
fn trusted_keys_are_a_set_matched_by_key_id() {
    let f = make(statement::DEFAULT_INLINE_SBOM_MAX);
    let b = f.bundle(SBOM_BUNDLE_FILE);
    let (k1, k2) = (PrivateKey::generate(), PrivateKey::generate());
    let set: TrustedKeys = [k1.public_key(), f.key.public_key(), k2.public_key()]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 3);
    let v = check(&b, &VerifyPolicy::new(set.clone())).unwrap();
    assert_eq!(v.keyid, f.key.public_key().keyid());

    // not in the set: unknown key, naming every trusted id
    let others: TrustedKeys = [k1.public_key(), k2.public_key()].into_iter().collect();
    match check(&b, &VerifyPolicy::new(others.clone())).unwrap_err() {
        E::UnknownKey { trusted, found } => {
            assert_eq!(found, f.key.public_key().keyid());
            let want: Vec<String> = others.keyids().map(String::from).collect();
            assert_eq!(trusted, want);
        }
        e => panic!("{e}"),
    }

    // no key id at all: tried against each trusted key
    let mut anon = b.clone();
    anon["verificationMaterial"]["publicKey"]["hint"] = json!("");
    anon["dsseEnvelope"]["signatures"][0]["keyid"] = json!("");
    let v = check(&anon, &VerifyPolicy::new(set.clone())).unwrap();
    assert_eq!(v.keyid, f.key.public_key().keyid());
    assert_eq!(
        check(&anon, &VerifyPolicy::new(others)).unwrap_err(),
        E::BadSignature
    );

    // a hint naming one trusted key, the signature another
    let mut mixed = b.clone();
    mixed["verificationMaterial"]["publicKey"]["hint"] = json!(k1.public_key().keyid());
    assert!(matches!(
        check(&mixed, &VerifyPolicy::new(set.clone())).unwrap_err(),
        E::KeyIdMismatch { .. }
    ));
    // the signature claims a trusted key that did not make it
    let mut claim = b.clone();
    claim["verificationMaterial"]["publicKey"]["hint"] = json!(k2.public_key().keyid());
    claim["dsseEnvelope"]["signatures"][0]["keyid"] = json!(k2.public_key().keyid());
    assert_eq!(
        check(&claim, &VerifyPolicy::new(set)).unwrap_err(),
        E::BadSignature
    );
}

#[test]
fn trusted_keys_load_from_files_and_directories() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (PrivateKey::generate(), PrivateKey::generate());
    std::fs::write(d.path().join("a.pub"), a.public_key().to_pem()).unwrap();
    std::fs::write(d.path().join("b.pub"), b.public_key().to_pem()).unwrap();
    // the same key twice is one key
    std::fs::write(d.path().join("c.pub"), a.public_key().to_pem()).unwrap();
    std::fs::write(d.path().join("notes.txt"), "not a key").unwrap();
    let set = TrustedKeys::load_dir(d.path()).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.contains(&a.public_key().keyid()) && set.contains(&b.public_key().keyid()));
    assert_eq!(
        TrustedKeys::load_files(&[d.path().join("b.pub")])
            .unwrap()
            .keyids()
            .collect::<Vec<_>>(),
        [b.public_key().keyid()]
    );

    assert!(matches!(
        TrustedKeys::load_files(&[d.path().join("notes.txt")]),
        Err(TrustError::Key { .. })
    ));
    assert!(matches!(
        TrustedKeys::load_files(&[d.path().join("missing.pub")]),
        Err(TrustError::Read { .. })
    ));
    assert!(matches!(
        TrustedKeys::load_files::<&std::path::Path>(&[]),
        Err(TrustError::Empty)
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        TrustedKeys::load_dir(empty.path()),
        Err(TrustError::Empty)
    ));
    assert!(matches!(
        TrustedKeys::load_dir(&empty.path().join("none")),
        Err(TrustError::Dir { .. })
    ));
    let big = d.path().join("big.pub");
    std::fs::write(&big, vec![b'A'; (trust::MAX_KEY_FILE + 1) as usize]).unwrap();
    assert!(matches!(
        TrustedKeys::load_files(&[big]),
        Err(TrustError::TooLarge { .. })
    ));
}

#[test]
fn key_pair_files_never_overwrite() {
    use std::os::unix::fs::PermissionsExt as _;
    let d = tempfile::tempdir().unwrap();
    let files = keys::KeyPairFiles::new(d.path(), "k");
    assert_eq!(files.private, d.path().join("k.key"));
    assert_eq!(files.public, d.path().join("k.pub"));
    files.check_absent().unwrap();
    let key = PrivateKey::generate();
    files.write(&key, b"pw").unwrap();
    let mode = std::fs::metadata(&files.private)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let back =
        PrivateKey::from_encrypted_pem(&std::fs::read(&files.private).unwrap(), b"pw").unwrap();
    assert_eq!(back.public_key(), key.public_key());
    let public = PublicKey::from_pem(&std::fs::read(&files.public).unwrap()).unwrap();
    assert_eq!(public, key.public_key());
    // Either file present, or a dangling symlink in its place: refused.
    assert!(matches!(files.check_absent(), Err(KeyError::Exists(p)) if p == files.private));
    assert!(matches!(files.write(&key, b"pw"), Err(KeyError::Write(..))));
    let other = keys::KeyPairFiles::new(d.path(), "dangling");
    std::os::unix::fs::symlink(d.path().join("nowhere"), &other.public).unwrap();
    assert!(matches!(other.check_absent(), Err(KeyError::Exists(p)) if p == other.public));
    assert!(!d.path().join("nowhere").exists());
}

#[test]
fn sbom_ref_beside_the_bundle_only_by_plain_name() {
    let r = |uri: &str| SbomRef {
        uri: uri.into(),
        sha256: "00".repeat(32),
        size: 0,
    };
    let bundle = std::path::Path::new("/out/sbom.sigstore.json");
    assert_eq!(
        r("sbom.cdx.json").beside(bundle),
        Some(std::path::PathBuf::from("/out/sbom.cdx.json"))
    );
    for uri in ["../etc/shadow", "/etc/shadow", "a/b.json", "..", "."] {
        assert_eq!(r(uri).beside(bundle), None, "{uri}");
    }
    assert_eq!(
        r("x.json").beside(std::path::Path::new("b.json")),
        Some(std::path::PathBuf::from("x.json"))
    );
}

#[test]
fn unpaired_statements() {
    use PredicateKind::{Sbom, Seal};
    assert!(verify::unpaired(&[]).is_empty());
    // one kind alone is never unpaired
    assert!(verify::unpaired(&[(Sbom, "a"), (Sbom, "b")]).is_empty());
    assert!(verify::unpaired(&[(Seal, "a")]).is_empty());
    assert!(verify::unpaired(&[(Sbom, "a"), (Seal, "a")]).is_empty());
    // a crossed pair: both sides
    assert_eq!(verify::unpaired(&[(Sbom, "a"), (Seal, "b")]), [0, 1]);
    assert_eq!(
        verify::unpaired(&[(Sbom, "a"), (Seal, "a"), (Sbom, "b")]),
        [2]
    );
    // An audit beside the statements of its own tree is paired; beside
    // another image's it is not (and they stay paired with each other);
    // audits alone are never unpaired.
    use PredicateKind::Audit;
    assert!(verify::unpaired(&[(Sbom, "a"), (Seal, "a"), (Audit, "a")]).is_empty());
    assert!(verify::unpaired(&[(Audit, "a"), (Audit, "b")]).is_empty());
    assert!(verify::unpaired(&[(Seal, "a"), (Audit, "a")]).is_empty());
    assert_eq!(
        verify::unpaired(&[(Sbom, "a"), (Seal, "a"), (Audit, "b")]),
        [2]
    );
    assert_eq!(verify::unpaired(&[(Sbom, "a"), (Audit, "b")]), [1]);
}

/// A signer that fails, or that answers with another key's signature (a
/// remote signer is not trusted to sign what was asked with the key it
/// names): `attest` fails and writes nothing, not even the directory.
#[test]
fn failing_or_lying_signer_writes_nothing() {
    struct Remote {
        named: PrivateKey,
        signs_with: Option<PrivateKey>,
    }
    impl Signer for Remote {
        fn public_key(&self) -> PublicKey {
            self.named.public_key()
        }
        fn describe(&self) -> String {
            "remote test key".into()
        }
        fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
            match &self.signs_with {
                Some(k) => Ok(k.sign(msg)),
                None => Err(SignError::Signer("remote test key: unreachable".into())),
            }
        }
    }
    let sbom = sbom();
    let seal = serde_json::to_vec(&seal_report()).unwrap();
    let amis = amis();
    for (signs_with, want) in [
        (None, "unreachable"),
        (
            Some(PrivateKey::generate()),
            "does not verify with its public key",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let key = Remote {
            named: PrivateKey::generate(),
            signs_with,
        };
        let e = attest(
            &AttestRequest {
                sbom: &sbom,
                seal: &seal,
                amis: &amis,
                key: &key,
                inline_sbom_max: 10,
                allow_unsealed: false,
                audit: None,
                allow_failing_audit: false,
                tool_version: "0.0.0",
                created: "2024-01-01T00:00:00Z".into(),
            },
            &out,
        )
        .unwrap_err();
        assert!(matches!(e, AttestError::Sign(_)), "{e}");
        assert!(e.to_string().contains(want), "{e}");
        assert!(!out.exists(), "{e}");
    }
    // The same signer answering with its own key works.
    let named = PrivateKey::generate();
    let key = Remote {
        signs_with: Some(
            PrivateKey::from_encrypted_pem(named.to_encrypted_pem(b"p").unwrap().as_bytes(), b"p")
                .unwrap(),
        ),
        named,
    };
    let dir = tempfile::tempdir().unwrap();
    attest(
        &AttestRequest {
            sbom: &sbom,
            seal: &seal,
            amis: &amis,
            key: &key,
            inline_sbom_max: 10,
            allow_unsealed: false,
            audit: None,
            allow_failing_audit: false,
            tool_version: "0.0.0",
            created: "2024-01-01T00:00:00Z".into(),
        },
        dir.path(),
    )
    .unwrap();
}

/// An audit report of the tree of [`sbom`], passing unless `ng`.
fn audit_report(ng: bool) -> Value {
    json!({"schema_version": 1, "status": if ng { "fail" } else { "pass" },
        "document": {"id": "SYS-1", "files": []}, "date": "2026-01-01T00:00:00Z",
        "image": {"source": "/", "tree_digest": format!("sha256:{}", "ab".repeat(32))},
        "requirements": [{"kind": "package", "name": "nginx", "expected": ">= 1.24",
                          "actual": "1.22", "status": if ng { "ng" } else { "ok" }}],
        "configuration": {}, "warnings": []})
}

/// `attest` with an audit: a third bundle of the same subjects, verified as
/// kind `audit`; a signed audit statement that contradicts itself or names
/// another tree does not verify (a key holder's mistake is not a pass).
#[test]
fn audit_statement_round_trip_and_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate();
    let (sbom, seal) = (sbom(), serde_json::to_vec(&seal_report()).unwrap());
    let amis = amis();
    let audit = serde_json::to_vec(&audit_report(false)).unwrap();
    fn req<'a>(
        f: (&'a [u8], &'a [u8], &'a [AmiRef], &'a PrivateKey),
        audit: &'a [u8],
        allow: bool,
    ) -> AttestRequest<'a> {
        AttestRequest {
            sbom: f.0,
            seal: f.1,
            amis: f.2,
            key: f.3,
            inline_sbom_max: 1 << 20,
            allow_unsealed: false,
            audit: Some(audit),
            allow_failing_audit: allow,
            tool_version: "0.0.0",
            created: "2024-01-01T00:00:00Z".into(),
        }
    }
    let f = (&sbom[..], &seal[..], &amis[..], &key);
    let index = attest(&req(f, &audit, false), dir.path()).unwrap();
    assert_eq!(index.files.len(), 3);
    assert_eq!(
        index.files[2].predicate_type.as_deref(),
        Some(statement::AUDIT_PREDICATE_TYPE)
    );
    let b = std::fs::read(dir.path().join(AUDIT_BUNDLE_FILE)).unwrap();
    let mut policy = VerifyPolicy::new(key.public_key());
    policy.kind = Some(PredicateKind::Audit);
    let v = verify_bundle(&b, &policy).unwrap();
    assert_eq!(v.kind, PredicateKind::Audit);
    assert_eq!(v.tree_digest, "ab".repeat(32));
    assert_eq!(v.amis, amis);
    // A failing report: refused, unless allowed.
    let failing = serde_json::to_vec(&audit_report(true)).unwrap();
    let other = tempfile::tempdir().unwrap();
    assert!(matches!(
        attest(&req(f, &failing, false), other.path()),
        Err(AttestError::Input(InputError::AuditFailed(_)))
    ));
    assert!(!other.path().join(INDEX_FILE).exists());
    attest(&req(f, &failing, true), other.path()).unwrap();
    // Signed statements attest would never write.
    let subjects = statement::subjects(&amis, &"ab".repeat(32));
    let sign = |predicate: Value| {
        let st = statement::statement(subjects.clone(), statement::AUDIT_PREDICATE_TYPE, predicate);
        serde_json::to_vec(&verify::sign_bundle(&st, &key).unwrap()).unwrap()
    };
    let mut lying = audit_report(true);
    lying["status"] = json!("pass");
    assert!(matches!(
        verify_bundle(&sign(lying), &policy),
        Err(E::AuditReport(_))
    ));
    let mut elsewhere = audit_report(false);
    elsewhere["image"]["tree_digest"] = json!(format!("sha256:{}", "cd".repeat(32)));
    assert!(matches!(
        verify_bundle(&sign(elsewhere), &policy),
        Err(E::AuditTreeDigest { .. })
    ));
    let mut unbound = audit_report(false);
    unbound["image"]
        .as_object_mut()
        .unwrap()
        .remove("tree_digest");
    assert!(matches!(
        verify_bundle(&sign(unbound), &policy),
        Err(E::AuditReport(_))
    ));
    // --type seal does not accept it.
    policy.kind = Some(PredicateKind::Seal);
    assert!(matches!(
        verify_bundle(&b, &policy),
        Err(E::WrongKind { .. })
    ));
}
