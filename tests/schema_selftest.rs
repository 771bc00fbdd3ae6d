//! Self-test of the two CycloneDX 1.5 validators in `common::schema`: both accept a
//! minimal valid 1.5 BOM, and both reject each of a set of broken BOMs. A validator that
//! cannot fail proves nothing, so this runs before anything trusts them.

mod common;

use common::schema::{python_validate, repo_root, validate_cyclonedx_1_5};
use serde_json::{Value, json};

fn minimal_bom() -> Value {
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2024-01-01T00:00:00Z",
            "tools": { "components": [ { "type": "application", "name": "bakeproof", "version": "0.1.0" } ] },
            "component": { "type": "operating-system", "name": "debian", "version": "12", "bom-ref": "os" }
        },
        "components": [
            {
                "type": "file",
                "bom-ref": "file:/bin/sh",
                "name": "/bin/sh",
                "hashes": [ { "alg": "SHA-256", "content": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" } ]
            },
            {
                "type": "library",
                "bom-ref": "pkg:deb/debian/dash@0.5.12-2?arch=amd64",
                "name": "dash",
                "version": "0.5.12-2",
                "purl": "pkg:deb/debian/dash@0.5.12-2?arch=amd64",
                "licenses": [ { "license": { "id": "GPL-2.0-or-later" } } ]
            }
        ],
        "dependencies": [ { "ref": "os", "dependsOn": [ "pkg:deb/debian/dash@0.5.12-2?arch=amd64" ] } ]
    })
}

/// (name, mutation) pairs; each must make the BOM invalid for both validators.
fn broken_boms() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();

    let mut v = minimal_bom();
    v["components"][0]["hashes"][0]["alg"] = json!("SHA256");
    out.push(("bad hash alg", v));

    let mut v = minimal_bom();
    v["components"][0]["hashes"][0]["content"] = json!("not-hex");
    out.push(("bad hash content", v));

    let mut v = minimal_bom();
    v["components"][0]["type"] = json!("regular-file");
    out.push(("wrong component type", v));

    let mut v = minimal_bom();
    v.as_object_mut().unwrap().remove("bomFormat");
    out.push(("missing bomFormat", v));

    let mut v = minimal_bom();
    v["version"] = json!("1");
    out.push(("version is a string", v));

    let mut v = minimal_bom();
    v["components"][1]["licenses"][0]["license"]["id"] = json!("Not-A-Real-SPDX-Id");
    out.push(("unknown SPDX id (spdx.schema.json ref)", v));

    let mut v = minimal_bom();
    v["metadata"]["timestamp"] = json!("yesterday");
    out.push(("bad date-time format", v));

    let mut v = minimal_bom();
    v["components"][0]["unexpected"] = json!(true);
    out.push(("additional property", v));

    out
}

#[test]
fn schema_files_are_the_pinned_ones() {
    // The sha256 sums listed in schemas/README.md: a guard against accidental edits.
    use sha2::{Digest, Sha256};
    for (file, want) in [
        (
            "bom-1.5.schema.json",
            "067f7824b08653839ea050ae9e09ca48375eadc2652b0e2a299476e7db90335b",
        ),
        (
            "spdx.schema.json",
            "4f6e2b05c05d26a4f2dc5879fbc2fca94b0a28db46289d0c51345621b71cfbfc",
        ),
        (
            "jsf-0.82.schema.json",
            "8bae002c25e723db7ee1f26afde680ae1a2b1a8f6b4b4b0fd65dc3becb090aae",
        ),
    ] {
        let bytes = std::fs::read(repo_root().join("schemas").join(file)).unwrap();
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, want, "schemas/{file} changed: see schemas/README.md");
    }
}

#[test]
fn rust_validator_accepts_minimal_bom() {
    validate_cyclonedx_1_5(&minimal_bom()).unwrap_or_else(|e| panic!("{e:#?}"));
}

#[test]
fn rust_validator_rejects_broken_boms() {
    for (name, bom) in broken_boms() {
        let res = validate_cyclonedx_1_5(&bom);
        assert!(res.is_err(), "Rust validator accepted: {name}");
        eprintln!("{name}: {:?}", res.unwrap_err());
    }
}

#[test]
fn rust_validator_rejects_missing_version_per_tag_1_5() {
    // Tag 1.5 of the official schema requires "version" (1.5.1 relaxed it).
    let mut v = minimal_bom();
    v.as_object_mut().unwrap().remove("version");
    assert!(validate_cyclonedx_1_5(&v).is_err());
}

#[test]
fn python_validator_accepts_minimal_and_rejects_broken() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("minimal.cdx.json");
    std::fs::write(&ok, serde_json::to_vec_pretty(&minimal_bom()).unwrap()).unwrap();
    python_validate(&ok)
        .unwrap_or_else(|e| panic!("python validator rejected the minimal BOM:\n{e}"));

    for (i, (name, bom)) in broken_boms().into_iter().enumerate() {
        let p = dir.path().join(format!("broken-{i}.cdx.json"));
        std::fs::write(&p, serde_json::to_vec_pretty(&bom).unwrap()).unwrap();
        let res = python_validate(&p);
        assert!(res.is_err(), "python validator accepted: {name}");
    }

    // Only 1.5 is accepted by default.
    let mut v = minimal_bom();
    v["specVersion"] = json!("1.6");
    v.as_object_mut().unwrap().remove("$schema");
    let p = dir.path().join("v16.cdx.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let err = python_validate(&p).expect_err("python validator accepted specVersion 1.6");
    assert!(err.contains("expected '1.5'"), "{err}");
}

/// The lifecycle's three predicates (schemas/lifecycle-*.schema.json), as
/// the library signs them, and what each schema refuses.
#[test]
fn lifecycle_predicates_match_their_schemas() {
    use bakeproof_lifecycle::model::{
        ChannelPredicate, Head, Labels, RecordPredicate, StatusPredicate,
    };
    use bakeproof_lifecycle::{Action, State};
    use common::schema::validate_with_schema;
    let d = format!("sha256:{}", "ab".repeat(32));
    let record = RecordPredicate {
        ami: "eu-west-1:ami-0123456789abcdef0".into(),
        sequence: 2,
        action: Action::Deprecate,
        state: State::Deprecated,
        previous_state: State::Approved,
        reason: Some("superseded".into()),
        time: "2025-01-10T00:00:00Z".into(),
        effective: Some("2025-02-01T00:00:00Z".into()),
        signer: "keyid".into(),
        supersedes: Some(d.clone()),
        labels: Labels {
            application: Some("web".into()),
            version: Some("1.0.0".into()),
            build_date: Some("2025-01-10T00:00:00Z".into()),
            extra: [("BuildNumber".to_string(), "001".to_string())].into(),
        },
    };
    let channel = ChannelPredicate {
        channel: "prod".into(),
        region: "eu-west-1".into(),
        ami: "eu-west-1:ami-0123456789abcdef0".into(),
        sequence: 1,
        time: "2025-01-10T00:00:00Z".into(),
        signer: "keyid".into(),
        reason: None,
        supersedes: None,
    };
    let head = |v: &str| Head {
        sequence: 2,
        digest: d.clone(),
        value: v.into(),
    };
    let status = StatusPredicate {
        version: 3,
        issued: "2025-01-10T00:00:00Z".into(),
        expires: "2025-01-17T00:00:00Z".into(),
        signer: "keyid".into(),
        amis: [(
            "eu-west-1:ami-0123456789abcdef0".to_string(),
            head("deprecated"),
        )]
        .into(),
        channels: [(
            "prod@eu-west-1".to_string(),
            head("eu-west-1:ami-0123456789abcdef0"),
        )]
        .into(),
    };
    let cases = [
        (
            "lifecycle-record.schema.json",
            serde_json::to_value(&record).unwrap(),
            "/state",
            json!("gone"),
        ),
        (
            "lifecycle-channel.schema.json",
            serde_json::to_value(&channel).unwrap(),
            "/channel",
            json!("Prod/x"),
        ),
        (
            "lifecycle-status.schema.json",
            serde_json::to_value(&status).unwrap(),
            "/version",
            json!(0),
        ),
    ];
    for (schema, good, at, bad) in cases {
        validate_with_schema(schema, &good).unwrap_or_else(|e| panic!("{schema}: {e:?}\n{good:#}"));
        let mut broken = good.clone();
        *broken.pointer_mut(at).unwrap() = bad;
        assert!(
            validate_with_schema(schema, &broken).is_err(),
            "{schema} accepted {at}"
        );
        let mut extra = good.clone();
        extra
            .as_object_mut()
            .unwrap()
            .insert("unexpected".into(), json!(1));
        assert!(
            validate_with_schema(schema, &extra).is_err(),
            "{schema}: additional property"
        );
    }
}
