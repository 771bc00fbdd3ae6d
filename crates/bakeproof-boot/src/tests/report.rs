//! The report: its JSON against schemas/boot-result.schema.json (the
//! contract `bakeproof verify --format json` prints), and whole runs of
//! [`crate::verify`] on a local store and a root in tempdirs.

use std::path::{Path, PathBuf};

use bakeproof_attest::{AmiRef, AttestRequest, PrivateKey, TrustedKeys, attest};
use bakeproof_diff::EntryChangeKind;
use bakeproof_imds::ImdsConfig;
use bakeproof_store::{IndexWrite, LocalStore, publish_attest_dir};
use serde_json::{Value, json};

use super::{TREE, sbom, seal_report};
use crate::{
    AllowWarn, AmiChoice, AmiInfo, AmiSource, BootConfig, BootReport, Check, Differences, FileDiff,
    HostKeyInfo, InstanceInfo, Level, Outcome, PackageChange, PackageDiff, code, verify,
};

const AMI: &str = "eu-west-1:ami-0123456789abcdef0";

fn schema_errors(doc: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/boot-result.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let v = jsonschema::options()
        .should_validate_formats(true)
        .offline()
        .build(&schema)
        .unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn valid(r: &BootReport) -> Value {
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    let errors = schema_errors(&v);
    assert!(errors.is_empty(), "{errors:?}\n{v:#}");
    v
}

fn full_report() -> BootReport {
    BootReport {
        bakeproof_boot_result: 1,
        result: Outcome::Failed,
        exit_code: code::FAILED,
        level: Level::Packages,
        ami: Some(AmiInfo {
            ami: AmiRef::parse(AMI).unwrap(),
            source: AmiSource::Imds,
        }),
        instance: Some(InstanceInfo {
            instance_id: "i-0123456789abcdef0".into(),
            identity_verified_by: None,
            launch_time: Some(1_704_067_200),
        }),
        store: "s3://bucket/prefix".into(),
        tree_digest: Some(format!("sha256:{TREE}")),
        keyid: Some("abc,def".into()),
        checks: vec![
            Check::pass("ami", "given"),
            Check::fail("packages", "1 difference"),
        ],
        lifecycle: Some(bakeproof_lifecycle::boot::BootLifecycle {
            verdict: bakeproof_lifecycle::boot::Verdict::Warn,
            message: "deprecated from 2099-01-01T00:00:00Z".into(),
            state: Some(bakeproof_lifecycle::State::Deprecated),
            status_version: Some(7),
            status_expires: Some("2099-01-08T00:00:00Z".into()),
            chain: vec![bakeproof_lifecycle::boot::CheckedRecord {
                sequence: 1,
                action: "deprecate".into(),
                state: "deprecated".into(),
                time: "2025-01-01T00:00:00Z".into(),
                signer: "abc".into(),
                digest: format!("sha256:{TREE}"),
                reason: None,
                effective: Some("2099-01-01T00:00:00Z".into()),
            }],
            ignored: vec![bakeproof_lifecycle::Ignored {
                sequence: 2,
                digest: format!("sha256:{TREE}"),
                why: "not signed by a trusted key".into(),
            }],
        }),
        host_keys: vec![HostKeyInfo {
            path: "/etc/ssh/ssh_host_ed25519_key.pub".into(),
            key_type: "ssh-ed25519".into(),
            fingerprint: "SHA256:qObMy3LZx9fgvcRpOK3uzIdSl6NWnk+tfN2kv6UHCB8".into(),
        }],
        differences: Differences {
            packages: vec![PackageDiff {
                package: "pkg:rpm/amzn/kernel?arch=x86_64".into(),
                change: PackageChange::Missing,
                attested: Some("6.1.1-1".into()),
                live: None,
            }],
            files: vec![
                FileDiff {
                    path: b"/usr/lib/a\xff".to_vec(),
                    change: EntryChangeKind::Target,
                    attested: Some(b"b\xfe".to_vec()),
                    live: Some(b"c".to_vec()),
                    package: Some(None),
                },
                FileDiff {
                    path: b"/usr/bin/x".to_vec(),
                    change: EntryChangeKind::Modified,
                    attested: Some(TREE.as_bytes().to_vec()),
                    live: None,
                    package: Some(Some("pkg:deb/debian/x@1?arch=amd64".into())),
                },
            ],
        },
        elapsed_ms: 12,
    }
}

#[test]
fn the_json_is_the_schema_s_and_names_exact_bytes() {
    let mut r = full_report();
    let v = valid(&r);
    assert_eq!(
        v["ami"],
        json!({"region": "eu-west-1", "amiId": "ami-0123456789abcdef0", "source": "imds"})
    );
    assert_eq!(
        v["instance"],
        json!({"instanceId": "i-0123456789abcdef0", "identityVerifiedBy": null})
    );
    assert_eq!(
        v["checks"][1],
        json!({"id": "packages", "status": "fail", "detail": "1 difference"})
    );
    assert_eq!(v["lifecycle"]["verdict"], "warn");
    assert_eq!(v["lifecycle"]["statusVersion"], 7);
    assert_eq!(v["lifecycle"]["state"], "deprecated");
    assert_eq!(v["level"], "packages");
    assert_eq!(v["result"], "failed");
    assert_eq!(v["exitCode"], 1);
    // Members in the order the CLI always printed them.
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "bakeproofBootResult",
            "result",
            "exitCode",
            "level",
            "ami",
            "instance",
            "store",
            "treeDigest",
            "keyid",
            "checks",
            "lifecycle",
            "hostKeys",
            "differences",
            "elapsedMs"
        ]
    );
    assert_eq!(
        v["differences"]["files"][0],
        json!({"path": "/usr/lib/a%FF", "change": "target", "pathEncoding": "percent",
               "attested": "b%FE", "attestedEncoding": "percent", "live": "c", "package": null})
    );
    assert_eq!(
        v["differences"]["files"][1],
        json!({"path": "/usr/bin/x", "change": "modified", "attested": TREE, "live": null,
               "package": "pkg:deb/debian/x@1?arch=amd64"})
    );
    assert_eq!(r.differences.files[0].shown_path(), "/usr/lib/a%FF");
    // At the files level no owner is named: no `package` member.
    for f in &mut r.differences.files {
        f.package = None;
    }
    r.level = Level::Files;
    let v = valid(&r);
    assert!(
        v["differences"]["files"][0].get("package").is_none(),
        "{v:#}"
    );
    // An early stop: nothing known but the check that stopped it.
    let r = BootReport {
        ami: None,
        instance: None,
        tree_digest: None,
        keyid: None,
        result: Outcome::Unreachable,
        exit_code: code::COULD_NOT_VERIFY,
        checks: vec![Check::fail("reach", "could not reach IMDS")],
        lifecycle: None,
        host_keys: Vec::new(),
        differences: Differences::default(),
        ..full_report()
    };
    valid(&r);
}

#[test]
fn exit_codes() {
    assert_eq!(Outcome::Verified.exit_code(), 0);
    assert_eq!(Outcome::Failed.exit_code(), 1);
    assert_eq!(Outcome::Unreachable.exit_code(), 2);
}

/// A local store holding AMI's attestations of an SBOM of tree TREE and
/// `seal`, signed with a fresh key; a live root with `files`.
struct Image {
    dir: tempfile::TempDir,
    keys: TrustedKeys,
}

impl Image {
    fn new(seal: &Value) -> Image {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate();
        let out = dir.path().join("attest");
        attest(
            &AttestRequest {
                sbom: &sbom(TREE, json!([])),
                seal: &serde_json::to_vec(seal).unwrap(),
                amis: &[AmiRef::parse(AMI).unwrap()],
                key: &key,
                inline_sbom_max: 1 << 20,
                allow_unsealed: true,
                audit: None,
                allow_failing_audit: false,
                tool_version: "0.0.0",
                created: "2024-01-01T00:00:00Z".into(),
            },
            &out,
        )
        .unwrap();
        publish_attest_dir(
            &LocalStore::new(dir.path().join("store")),
            &out,
            IndexWrite::Replace,
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("root/etc")).unwrap();
        std::fs::write(dir.path().join("root/etc/machine-id"), "0123456789abcdef\n").unwrap();
        Image {
            keys: key.public_key().into(),
            dir,
        }
    }
    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    fn config(&self) -> BootConfig {
        let mut c = BootConfig::new(
            self.dir.path().join("store").display().to_string(),
            self.keys.clone(),
            ImdsConfig::default(),
        );
        c.ami = AmiChoice::Given(AmiRef::parse(AMI).unwrap());
        c.root = self.root();
        c
    }
}

fn ids(r: &BootReport) -> Vec<(&str, bool)> {
    r.checks.iter().map(|c| (c.id, c.ok)).collect()
}

#[test]
fn a_sealed_attested_image_verifies_and_each_failure_is_its_check() {
    let img = Image::new(&seal_report(
        TREE,
        &[("machine-id", "pass"), ("secrets", "warn")],
        None,
    ));
    let mut cfg = img.config();
    cfg.allow_warn = AllowWarn::from_ids(&["secrets"]);
    let r = verify(&cfg);
    valid(&r);
    assert_eq!(
        ids(&r),
        [
            ("ami", true),
            ("signatures", true),
            ("subjects", true),
            ("lifecycle", true),
            ("seal", true),
            ("machine-id", true),
            ("ssh-host-keys", true)
        ],
        "{r:#?}"
    );
    assert_eq!(
        (r.result, r.exit_code(), r.exit_code),
        (Outcome::Verified, 0, 0)
    );
    assert_eq!(
        r.tree_digest.as_deref(),
        Some(format!("sha256:{TREE}").as_str())
    );
    assert_eq!(r.ami.as_ref().unwrap().source, AmiSource::Argument);

    // The warning not tolerated: the seal check fails, the run goes on.
    let r = verify(&img.config());
    assert_eq!((r.result, r.exit_code()), (Outcome::Failed, 1));
    assert!(!r.checks[4].ok && r.checks[4].id == "seal", "{r:#?}");
    assert_eq!(r.checks.len(), 7);

    // An uninitialized machine-id.
    std::fs::write(img.root().join("etc/machine-id"), "uninitialized\n").unwrap();
    let r = verify(&cfg);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(ids(&r)[5], ("machine-id", false));
    std::fs::write(img.root().join("etc/machine-id"), "0123456789abcdef\n").unwrap();

    // Packages level on a root with no package database: nothing to differ.
    cfg.level = Level::Packages;
    let r = verify(&cfg);
    valid(&r);
    assert_eq!(r.exit_code(), 0, "{r:#?}");
    assert_eq!(ids(&r).last(), Some(&("packages", true)));

    // Another key: the signatures check stops the run.
    cfg.keys = PrivateKey::generate().public_key().into();
    let r = verify(&cfg);
    valid(&r);
    assert_eq!(ids(&r), [("ami", true), ("signatures", false)], "{r:#?}");
    assert!(r.tree_digest.is_none());

    // A store without this AMI: the store answered, the image is not in it.
    let mut cfg = img.config();
    cfg.ami = AmiChoice::Given(AmiRef::parse("eu-west-1:ami-0fedcba9876543210").unwrap());
    let r = verify(&cfg);
    valid(&r);
    assert_eq!(ids(&r), [("ami", true), ("store", false)], "{r:#?}");
    assert_eq!(r.exit_code(), 1);

    // A live root that cannot be opened.
    let mut cfg = img.config();
    cfg.root = img.dir.path().join("no-such-root");
    let r = verify(&cfg);
    assert_eq!(ids(&r).last(), Some(&("root", false)), "{r:#?}");
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn an_unreachable_imds_could_not_verify() {
    let img = Image::new(&seal_report(TREE, &[("machine-id", "pass")], None));
    let mut cfg = img.config();
    cfg.ami = AmiChoice::Imds;
    // Nothing listens on the discard port of the loopback.
    cfg.imds = ImdsConfig {
        attempts: 1,
        ..ImdsConfig::default()
            .with_endpoint("http://127.0.0.1:9")
            .unwrap()
    };
    let r = verify(&cfg);
    let v = valid(&r);
    assert_eq!(
        (r.result, r.exit_code()),
        (Outcome::Unreachable, 2),
        "{r:#?}"
    );
    assert_eq!(ids(&r), [("reach", false)]);
    assert_eq!(v["ami"], Value::Null);
}
