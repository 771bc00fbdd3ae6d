//! The lifecycle end to end, through the `bakeproof` binary, on a local
//! store and on S3 (moto_server): a baked, attested, published image;
//! `lifecycle test|approve|deprecate|revoke`, `channel set|get|history`,
//! and `verify --ami` honouring them at first boot. What a bucket writer
//! without the key can do is done directly to the store's objects (files,
//! or boto3 against moto): plant an untrusted record, delete the head
//! record, put back an older status document, put an expired one.

mod common;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::moto::{Moto, test_aws_env};
use common::run::{bakeproof_bin, describe, extract};
use serde_json::Value;

const REGION: &str = "us-east-1";
const AMI_A: &str = "ami-0aaaaaaaaaaaaaaaa";
const AMI_B: &str = "ami-0bbbbbbbbbbbbbbbb";
const PASSWORD: &str = "test-password";

fn a() -> String {
    format!("{REGION}:{AMI_A}")
}
fn b() -> String {
    format!("{REGION}:{AMI_B}")
}

/// Where the store is and how to reach its objects behind bakeproof's back.
enum Backend {
    Dir(PathBuf),
    S3 { moto: Moto, url: String },
}

struct World {
    _tmp: tempfile::TempDir,
    _root_dir: tempfile::TempDir,
    t: PathBuf,
    root: PathBuf,
    backend: Backend,
}

impl World {
    fn store(&self) -> String {
        match &self.backend {
            Backend::Dir(d) => d.display().to_string(),
            Backend::S3 { url, .. } => url.clone(),
        }
    }

    fn endpoint(&self) -> Option<String> {
        match &self.backend {
            Backend::Dir(_) => None,
            Backend::S3 { moto, .. } => Some(moto.url()),
        }
    }

    /// `bakeproof ARGS` (store commands get the S3 endpoint and test
    /// credentials on S3).
    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(bakeproof_bin());
        c.args(args)
            .env("COSIGN_PASSWORD", PASSWORD)
            .env_remove("BAKEPROOF_STORE")
            .env_remove("BAKEPROOF_KEY")
            .env_remove("BAKEPROOF_PUBLIC_KEY")
            .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        if let Some(ep) = self.endpoint() {
            test_aws_env(&mut c);
            c.args(["--endpoint-url", &ep]);
        }
        c.output().expect("run bakeproof")
    }

    fn key(&self) -> String {
        self.t.join("cosign.key").display().to_string()
    }
    fn public(&self) -> String {
        self.t.join("cosign.pub").display().to_string()
    }

    /// `bakeproof lifecycle ACTION AMI --store S --key KEY EXTRA...`.
    fn lifecycle(&self, action: &str, ami: &str, extra: &[&str]) -> Output {
        let (store, key) = (self.store(), self.key());
        let mut args = vec!["lifecycle", action, ami, "--store", &store, "--key", &key];
        args.extend(extra);
        self.run(&args)
    }

    fn channel_set(&self, name: &str, ami: &str, extra: &[&str]) -> Output {
        let (store, key) = (self.store(), self.key());
        let mut args = vec![
            "channel", "set", name, ami, "--store", &store, "--key", &key,
        ];
        args.extend(extra);
        self.run(&args)
    }

    fn channel(&self, what: &str, name: &str, extra: &[&str]) -> Output {
        let (store, public) = (self.store(), self.public());
        let mut args = vec![
            "channel", what, name, "--region", REGION, "--store", &store, "--key", &public,
        ];
        args.extend(extra);
        self.run(&args)
    }

    /// `bakeproof verify --ami AMI --format json` with the state file
    /// `state`: (exit code, the result).
    fn verify(&self, ami: &str, state: &Path, extra: &[&str]) -> (i32, Value, String) {
        let (store, public) = (self.store(), self.public());
        let root = self.root.display().to_string();
        let state = state.display().to_string();
        let mut args = vec![
            "verify",
            "--ami",
            ami,
            "--store",
            &store,
            "--key",
            &public,
            "--root",
            &root,
            "--status-state",
            &state,
            "--format",
            "json",
        ];
        args.extend(extra);
        let o = self.run(&args);
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("JSON ({e}): {}", describe(&o)));
        if let Err(e) = common::schema::validate_with_schema("boot-result.schema.json", &v) {
            panic!("result does not match schemas/boot-result.schema.json: {e:?}\n{v:#}");
        }
        (
            o.status.code().unwrap_or(-1),
            v,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        match &self.backend {
            Backend::Dir(d) => std::fs::write(d.join(key), bytes).unwrap(),
            Backend::S3 { moto, url } => {
                let (bucket, prefix) = bucket_prefix(url);
                moto.py(&format!(
                    "import base64\ns3.put_object(Bucket='{bucket}', Key='{prefix}{key}', Body=base64.b64decode('{}'))",
                    b64(bytes)
                ));
            }
        }
    }

    fn get(&self, key: &str) -> Vec<u8> {
        match &self.backend {
            Backend::Dir(d) => std::fs::read(d.join(key)).unwrap(),
            Backend::S3 { moto, url } => {
                let (bucket, prefix) = bucket_prefix(url);
                let hex = moto.py(&format!(
                    "print(s3.get_object(Bucket='{bucket}', Key='{prefix}{key}')['Body'].read().hex())"
                ));
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect()
            }
        }
    }

    fn delete(&self, key: &str) {
        match &self.backend {
            Backend::Dir(d) => std::fs::remove_file(d.join(key)).unwrap(),
            Backend::S3 { moto, url } => {
                let (bucket, prefix) = bucket_prefix(url);
                moto.py(&format!(
                    "s3.delete_object(Bucket='{bucket}', Key='{prefix}{key}')"
                ));
            }
        }
    }
}

fn bucket_prefix(url: &str) -> (String, String) {
    let rest = url.strip_prefix("s3://").unwrap();
    match rest.split_once('/') {
        Some((b, p)) => (b.to_string(), format!("{p}/")),
        None => (rest.to_string(), String::new()),
    }
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", describe(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Bakes the fixture root (scan, seal check, key, attest for AMI_A and
/// AMI_B) and publishes it to the backend.
fn world(backend: impl FnOnce(&Path) -> Backend) -> World {
    let root_dir = extract("dpkgroot/clean.tar.gz");
    let root = root_dir.path().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_path_buf();
    let w = World {
        backend: backend(&t),
        _tmp: tmp,
        _root_dir: root_dir,
        t: t.clone(),
        root: root.clone(),
    };
    let plain = |args: &[&OsStr]| {
        let o = Command::new(bakeproof_bin())
            .args(args)
            .env("COSIGN_PASSWORD", PASSWORD)
            .env("SOURCE_DATE_EPOCH", "1704067200")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", describe(&o));
        o
    };
    let sbom = t.join("sbom.json");
    plain(&[
        "scan".as_ref(),
        root.as_os_str(),
        "-o".as_ref(),
        sbom.as_os_str(),
        "-q".as_ref(),
    ]);
    let seal = Command::new(bakeproof_bin())
        .args([
            "seal".as_ref(),
            "check".as_ref(),
            root.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ] as [&OsStr; 5])
        .output()
        .unwrap();
    std::fs::write(t.join("seal.json"), &seal.stdout).unwrap();
    plain(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        t.as_os_str(),
    ]);
    let other = t.join("other");
    std::fs::create_dir(&other).unwrap();
    plain(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        other.as_os_str(),
    ]);
    let att = t.join("attest");
    let (ta, tb): (OsString, OsString) = (a().into(), b().into());
    plain(&[
        "attest".as_ref(),
        "--sbom".as_ref(),
        sbom.as_os_str(),
        "--seal".as_ref(),
        t.join("seal.json").as_os_str(),
        "--key".as_ref(),
        t.join("cosign.key").as_os_str(),
        "--ami".as_ref(),
        &ta,
        "--ami".as_ref(),
        &tb,
        "-o".as_ref(),
        att.as_os_str(),
        "--allow-unsealed".as_ref(),
    ]);
    let store = w.store();
    ok(&w.run(&["publish", "--store", &store, att.to_str().unwrap()]));
    std::fs::write(
        root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    w
}

fn lc(v: &Value) -> &Value {
    &v["lifecycle"]
}

fn detail(v: &Value, id: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .map(|c| {
            format!(
                "{} {}",
                c["status"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

const STATUS_KEY: &str = "lifecycle/status.sigstore.json";

fn record_key(ami: &str, seq: u64) -> String {
    let (region, id) = ami.split_once(':').unwrap();
    format!("amis/{region}/{id}/lifecycle/{seq:08}.sigstore.json")
}

/// The whole story on one backend.
fn story(w: &World) {
    let state = w.t.join("state/lifecycle-status.json");

    // A store without lifecycle: verify passes, as before; nothing written.
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(lc(&v)["verdict"], "pass");
    assert_eq!(lc(&v)["state"], "built");
    assert!(
        !state.exists(),
        "no status document accepted: no state file"
    );
    // ... but --require approved refuses it.
    let (c, v, _) = w.verify(&a(), &state, &["--require", "approved"]);
    assert_eq!(c, 1, "{v:#}");
    assert!(
        detail(&v, "lifecycle").contains("no status document"),
        "{v:#}"
    );

    // test (labels), approve: verify --require approved passes.
    let o = w.lifecycle(
        "test",
        &a(),
        &[
            "--application",
            "web-server",
            "--version",
            "1.0.0",
            "--build-date",
            "2025-01-10",
        ],
    );
    assert!(ok(&o).contains("built -> testing"), "{}", describe(&o));
    let o = w.lifecycle("approve", &a(), &["--format", "json"]);
    let j: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(j["record"]["state"], "approved");
    assert_eq!(j["record"]["sequence"], 2);
    assert_eq!(j["record"]["labels"]["application"], "web-server");
    let (c, v, _) = w.verify(&a(), &state, &["--require", "approved"]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(lc(&v)["state"], "approved");
    let chain: Vec<&str> = lc(&v)["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(chain, ["test", "approve"]);
    // The chain's digests are the stored objects' (read behind bakeproof's back).
    let head = w.get(&record_key(&a(), 2));
    assert_eq!(
        lc(&v)["chain"][1]["digest"].as_str().unwrap(),
        format!("sha256:{}", sha256_hex(&head))
    );
    let seen = lc(&v)["statusVersion"].as_u64().unwrap();
    let st: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(st["stores"][w.store()]["version"], seen, "{st:#}");
    let old_status = w.get(STATUS_KEY);

    // status and list.
    let (store, public) = (w.store(), w.public());
    let s = ok(&w.run(&[
        "lifecycle",
        "status",
        &a(),
        "--store",
        &store,
        "--key",
        &public,
    ]));
    assert!(s.starts_with(&format!("{}: approved", a())), "{s}");
    assert!(s.contains("application: web-server"), "{s}");
    let l = ok(&w.run(&[
        "lifecycle",
        "list",
        "--store",
        &store,
        "--key",
        &public,
        "--format",
        "json",
    ]));
    let l: Value = serde_json::from_str(&l).unwrap();
    let states: Vec<(String, String)> = l["amis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["ami"].as_str().unwrap().into(),
                x["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(states.contains(&(a(), "approved".into())), "{states:?}");
    assert!(states.contains(&(b(), "built".into())), "{states:?}");

    // A record signed by another key, planted at the next sequence number:
    // ignored (listed), the AMI still approved.
    plant_untrusted(w, 3);
    let (c, v, _) = w.verify(&a(), &state, &["--require", "approved"]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(lc(&v)["ignored"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(lc(&v)["ignored"][0]["sequence"], 3);

    // Channels: only an approved AMI; set, move, roll back, history.
    ok(&w.channel_set("prod", &a(), &[]));
    assert_eq!(ok(&w.channel("get", "prod", &[])), format!("{AMI_A}\n"));
    let o = w.channel_set("prod", &b(), &[]);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only an approved AMI"),
        "{}",
        describe(&o)
    );
    ok(&w.lifecycle("approve", &b(), &[]));
    ok(&w.channel_set("prod", &b(), &[]));
    assert_eq!(ok(&w.channel("get", "prod", &[])), format!("{AMI_B}\n"));
    ok(&w.channel_set("prod", &a(), &["--reason", "rollback"]));
    assert_eq!(ok(&w.channel("get", "prod", &[])), format!("{AMI_A}\n"));
    let h: Value =
        serde_json::from_str(&ok(&w.channel("history", "prod", &["--format", "json"]))).unwrap();
    let amis: Vec<&str> = h["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ami"].as_str().unwrap())
        .collect();
    assert_eq!(amis, [a(), b(), a()]);
    let o = w.channel("get", "staging", &[]);
    assert_eq!(code(&o), 1, "a channel never set: {}", describe(&o));

    // Moving the channel deprecates the previous AMI from a future date:
    // a warning at boot, a failure with --deprecated fail.
    let o = w.channel_set(
        "prod",
        &b(),
        &["--deprecate-previous", "--at", "2099-01-01"],
    );
    assert!(
        ok(&o).contains("deprecated from 2099-01-01"),
        "{}",
        describe(&o)
    );
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(lc(&v)["verdict"], "warn", "{v:#}");
    assert!(
        detail(&v, "lifecycle").starts_with("pass warning:"),
        "{v:#}"
    );
    let (c, v, _) = w.verify(&a(), &state, &["--deprecated", "fail"]);
    assert_eq!(c, 1, "{v:#}");
    // The text output says WARN.
    let (store, public) = (w.store(), w.public());
    let root = w.root.display().to_string();
    let st = state.display().to_string();
    let o = w.run(&[
        "verify",
        "--ami",
        &a(),
        "--store",
        &store,
        "--key",
        &public,
        "--root",
        &root,
        "--status-state",
        &st,
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("WARN lifecycle"),
        "{}",
        describe(&o)
    );

    // Deprecated past its date: fails.
    ok(&w.lifecycle("deprecate", &b(), &["--at", "2020-01-01"]));
    let (c, v, _) = w.verify(&b(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(
        detail(&v, "lifecycle").contains("deprecated since 2020-01-01"),
        "{v:#}"
    );

    // Revoked: fails with the reason.
    let o = w.lifecycle("revoke", &a(), &[]);
    assert_eq!(code(&o), 2, "revoke needs a reason: {}", describe(&o));
    ok(&w.lifecycle("revoke", &a(), &["--reason", "CVE-2025-1234 in openssl"]));
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert_eq!(lc(&v)["state"], "revoked");
    assert!(
        detail(&v, "lifecycle").contains("CVE-2025-1234 in openssl"),
        "{v:#}"
    );
    let o = w.lifecycle("approve", &a(), &[]);
    assert_eq!(code(&o), 1, "an invalid transition: {}", describe(&o));

    // A rolled-back status document (an older signed one put back): refused
    // given the state file; a fresh instance (no state) accepts it, but the
    // chain still holds the revocation.
    let current = w.get(STATUS_KEY);
    w.put(STATUS_KEY, &old_status);
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(detail(&v, "lifecycle").contains("rolled-back"), "{v:#}");
    let fresh = w.t.join("fresh-state.json");
    let (c, v, _) = w.verify(&a(), &fresh, &[]);
    assert_eq!((c, lc(&v)["state"].as_str()), (1, Some("revoked")), "{v:#}");
    w.put(STATUS_KEY, &current);

    // The hidden revocation: the revoke record deleted from the store.
    let rev_seq = lc(&v)["chain"].as_array().unwrap().last().unwrap()["sequence"]
        .as_u64()
        .unwrap();
    let rev = w.get(&record_key(&a(), rev_seq));
    w.delete(&record_key(&a(), rev_seq));
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(detail(&v, "lifecycle").contains("does not hold"), "{v:#}");
    // And the status document deleted too: records without one are refused.
    w.delete(STATUS_KEY);
    let (c, v, _) = w.verify(&a(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(
        detail(&v, "lifecycle").contains("no status document"),
        "{v:#}"
    );
    w.put(&record_key(&a(), rev_seq), &rev);
    w.put(STATUS_KEY, &current);

    // An expired status document (signed by the trusted key, a higher
    // version, expired): refused.
    w.put(STATUS_KEY, &expired_status(w, &current));
    let (c, v, _) = w.verify(&b(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(detail(&v, "lifecycle").contains("expired"), "{v:#}");
    // refresh re-signs it: fresh again (B is still deprecated since 2020).
    let (store, key) = (w.store(), w.key());
    ok(&w.run(&[
        "lifecycle",
        "refresh",
        "--store",
        &store,
        "--key",
        &key,
        "--valid-for",
        "1h",
    ]));
    let (c, v, _) = w.verify(&b(), &state, &[]);
    assert_eq!(c, 1, "{v:#}");
    assert!(
        detail(&v, "lifecycle").contains("deprecated since"),
        "{v:#}"
    );
    // --lifecycle off: not read.
    let (c, v, _) = w.verify(&a(), &state, &["--lifecycle", "off"]);
    assert_eq!(c, 0, "{v:#}");
    assert!(lc(&v).is_null());
}

fn sha256_hex(b: &[u8]) -> String {
    bakeproof_types::Sha256Digest::of(b).to_hex()
}

fn private(w: &World, file: &Path) -> bakeproof_attest::PrivateKey {
    let _ = w;
    bakeproof_attest::PrivateKey::from_encrypted_pem(
        &std::fs::read(file).unwrap(),
        PASSWORD.as_bytes(),
    )
    .unwrap()
}

/// A revocation of AMI_A signed by the other (untrusted) key, at `seq`.
fn plant_untrusted(w: &World, seq: u64) {
    use bakeproof_lifecycle::model::{Labels, RecordPredicate};
    use bakeproof_lifecycle::{Action, State};
    let k = private(w, &w.t.join("other/cosign.key"));
    let ami = bakeproof_attest::AmiRef::parse(&a()).unwrap();
    let idx: Value =
        serde_json::from_slice(&w.get(&format!("amis/{REGION}/{AMI_A}/index.json"))).unwrap();
    let tree = idx["tree_digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let p = RecordPredicate {
        ami: a(),
        sequence: seq,
        action: Action::Revoke,
        state: State::Revoked,
        previous_state: State::Approved,
        reason: Some("planted by a bucket writer".into()),
        time: "2025-01-01T00:00:00Z".into(),
        effective: None,
        signer: k.public_key().keyid(),
        supersedes: None,
        labels: Labels::default(),
    };
    let s = bakeproof_lifecycle::record::sign_record(&ami, &tree, &p, &k).unwrap();
    w.put(&record_key(&a(), seq), &s.bytes);
}

/// `current` re-signed with the trusted key: version one higher, expired.
fn expired_status(w: &World, current: &[u8]) -> Vec<u8> {
    let k = private(w, &w.t.join("cosign.key"));
    let keys = bakeproof_attest::TrustedKeys::from(k.public_key());
    let mut p = bakeproof_lifecycle::record::open_status(current, &keys)
        .unwrap()
        .predicate;
    p.version += 1;
    p.issued = "2020-01-01T00:00:00Z".into();
    p.expires = "2020-01-08T00:00:00Z".into();
    bakeproof_lifecycle::record::sign_status(&p, &k)
        .unwrap()
        .bytes
}

#[test]
fn local_store_lifecycle_at_boot() {
    let w = world(|t| Backend::Dir(t.join("store")));
    story(&w);
}

#[test]
fn s3_lifecycle_at_boot_and_what_it_costs() {
    let moto = Moto::start(&[]);
    moto.py("s3.create_bucket(Bucket='attest')");
    let w = world(|_| Backend::S3 {
        moto,
        url: "s3://attest/golden".into(),
    });
    story(&w);

    // What the boot check costs: the store's own request log (-vv), with
    // the lifecycle and without, for an AMI whose chain is R records.
    let count = |extra: &[&str]| {
        let (store, public) = (w.store(), w.public());
        let root = w.root.display().to_string();
        let st = w.t.join("cost-state.json").display().to_string();
        let mut args = vec![
            "-vv",
            "verify",
            "--ami",
            AMI_B_REF,
            "--store",
            &store,
            "--key",
            &public,
            "--root",
            &root,
            "--status-state",
            &st,
            "--format",
            "json",
        ];
        args.extend(extra);
        let o = w.run(&args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let get = err.lines().filter(|l| l.contains("GET s3://")).count();
        let list = err.lines().filter(|l| l.contains("LIST s3://")).count();
        let v: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
        (get, list, v["elapsedMs"].as_u64().unwrap(), v)
    };
    let (g0, l0, ms0, _) = count(&["--lifecycle", "off"]);
    let (g1, l1, ms1, v) = count(&[]);
    let r = lc(&v)["chain"].as_array().unwrap().len() + lc(&v)["ignored"].as_array().unwrap().len();
    assert_eq!(l1 - l0, 1, "one listing of the AMI's records");
    assert_eq!(
        g1 - g0,
        r + 1,
        "one GET per record and one of the status document"
    );
    eprintln!(
        "boot check cost on moto: without lifecycle {g0} GET, {l0} LIST, {ms0} ms; \
         with it {g1} GET, {l1} LIST, {ms1} ms (chain of {r} object(s))"
    );

    // The store down (nothing listens at its endpoint): could not verify (2).
    let dead = format!("http://127.0.0.1:{}", common::moto::free_port());
    let (store, public) = (w.store(), w.public());
    let root = w.root.display().to_string();
    let st = w.t.join("down-state.json").display().to_string();
    let mut c = Command::new(bakeproof_bin());
    test_aws_env(&mut c).args([
        "verify",
        "--ami",
        AMI_B_REF,
        "--store",
        &store,
        "--key",
        &public,
        "--root",
        &root,
        "--status-state",
        &st,
        "--endpoint-url",
        &dead,
        "--format",
        "json",
    ]);
    let o = c.output().unwrap();
    assert_eq!(code(&o), 2, "{}", describe(&o));
}

const AMI_B_REF: &str = "us-east-1:ami-0bbbbbbbbbbbbbbbb";
