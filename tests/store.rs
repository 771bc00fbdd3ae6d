//! `bakeproof publish` / `bakeproof fetch` end to end: a local directory
//! store, and S3 semantics against a real S3-compatible server (moto_server
//! from tests/tools/requirements.txt, started here on loopback).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bakeproof_e2e::moto::{Moto, free_port, test_aws_env};
use bakeproof_e2e::run::{bakeproof_bin, describe, extract, scan_to_json};
use bakeproof_e2e::schema::validate_with_schema;

const PASSWORD: &str = "store-test-password";
const AMI_A: &str = "us-east-1:ami-0123456789abcdef0";
const AMI_B: &str = "eu-west-1:ami-0fedcba9876543210";

/// `bakeproof ARGS` with S3 settings for `endpoint` (or none), no AWS
/// config files, no IMDS.
fn bp_env(args: &[&OsStr], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bakeproof_bin());
    test_aws_env(c.args(args))
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run bakeproof")
}

fn bp(args: &[&str]) -> Output {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    bp_env(&a, &[])
}

/// A real attest output (scan → seal check → key → attest for two AMIs).
struct Attested {
    dir: tempfile::TempDir,
    _root: tempfile::TempDir,
}

impl Attested {
    fn p(&self, n: &str) -> PathBuf {
        self.dir.path().join(n)
    }
    fn s(&self, n: &str) -> String {
        self.p(n).to_str().unwrap().to_string()
    }
    fn out(&self) -> String {
        self.s("att")
    }
}

fn attested() -> Attested {
    let root = extract("dpkgroot/clean.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let (c, _sbom, err) = scan_to_json(root.path(), &dir.path().join("sbom.cdx.json"), &[]);
    assert_eq!(c, 0, "{err}");
    let o = bp(&[
        "seal",
        "check",
        root.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", describe(&o));
    std::fs::write(dir.path().join("seal.json"), &o.stdout).unwrap();
    let a = Attested { dir, _root: root };
    let o = bp(&["key", "generate", "--output-dir", &a.s("")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let o = bp(&[
        "attest",
        "--sbom",
        &a.s("sbom.cdx.json"),
        "--seal",
        &a.s("seal.json"),
        "--key",
        &a.s("cosign.key"),
        "--ami",
        AMI_A,
        "--ami",
        AMI_B,
        "-o",
        &a.out(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    a
}

fn sha256_file(p: &Path) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks a fetched directory: the bundles verify with the key and name the AMI.
fn check_fetched(a: &Attested, out: &Path, ami: &str) {
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("store-index.json")).unwrap()).unwrap();
    let entries = idx["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{idx}");
    for e in entries {
        let f = out.join(e["file"].as_str().unwrap());
        assert_eq!(sha256_file(&f), e["sha256"].as_str().unwrap());
        assert_eq!(
            sha256_file(&f),
            sha256_file(&a.p("att").join(f.file_name().unwrap()))
        );
        let o = bp(&[
            "verify-attestation",
            "--key",
            &a.s("cosign.pub"),
            "--ami",
            ami,
            f.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    }
}

#[test]
fn local_directory_store_round_trip() {
    let a = attested();
    let store = a.s("store");
    let o = bp(&["publish", "--store", &store, &a.out()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(so.matches("stored  blob").count(), 2, "{so}");
    assert_eq!(so.matches("wrote   index").count(), 2, "{so}");
    assert!(
        a.p("store/amis/us-east-1/ami-0123456789abcdef0/index.json")
            .is_file()
    );
    assert!(
        a.p("store/amis/eu-west-1/ami-0fedcba9876543210/index.json")
            .is_file()
    );
    // The index validates against schemas/store-index.schema.json.
    let inst: serde_json::Value = serde_json::from_slice(
        &std::fs::read(a.p("store/amis/us-east-1/ami-0123456789abcdef0/index.json")).unwrap(),
    )
    .unwrap();
    validate_with_schema("store-index.schema.json", &inst).unwrap();
    // Re-publishing is a no-op for blobs.
    let o = bp(&["publish", "--store", &format!("file://{store}"), &a.out()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("present blob")
            .count(),
        2,
        "{}",
        describe(&o)
    );
    let out = a.p("fetched");
    let o = bp(&[
        "fetch",
        "--store",
        &store,
        "--ami",
        AMI_B,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    check_fetched(&a, &out, AMI_B);
    // Unknown AMI: exit 1, clear message.
    let o = bp(&[
        "fetch",
        "--store",
        &store,
        "--ami",
        "us-east-1:ami-11111111",
        "-o",
        a.s("x").as_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        describe(&o).contains("no index for us-east-1:ami-11111111"),
        "{}",
        describe(&o)
    );
    // Bad AMI argument: exit 2.
    let o = bp(&[
        "fetch",
        "--store",
        &store,
        "--ami",
        "nonsense",
        "-o",
        a.s("x").as_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

// ---------------------------------------------------------------- S3 (moto)

fn s3(args: &[&str], endpoint: &str) -> Output {
    let mut a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    a.extend([OsStr::new("--endpoint-url"), OsStr::new(endpoint)]);
    bp_env(&a, &[])
}

#[test]
fn s3_publish_fetch_tamper_missing_and_errors() {
    let a = attested();
    let moto = Moto::start(&[]);
    let ep = moto.url();
    moto.py("s3.create_bucket(Bucket='attest')");
    let store = "s3://attest/golden/v1";

    // Round trip.
    let o = s3(&["publish", "--store", store, &a.out()], &ep);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let so = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(so.matches("stored  blob").count(), 2, "{so}");
    assert!(
        so.contains("s3://attest/golden/v1/amis/us-east-1/ami-0123456789abcdef0/index.json"),
        "{so}"
    );
    let keys = moto.py("print('\\n'.join(sorted(o['Key'] for o in s3.list_objects_v2(Bucket='attest')['Contents'])))");
    assert_eq!(
        keys.lines()
            .filter(|k| k.starts_with("golden/v1/blobs/sha256/"))
            .count(),
        2,
        "{keys}"
    );
    assert_eq!(
        keys.lines().filter(|k| k.ends_with("/index.json")).count(),
        2,
        "{keys}"
    );
    let out = a.p("s3-fetched");
    let o = s3(
        &[
            "fetch",
            "--store",
            store,
            "--ami",
            AMI_A,
            "-o",
            out.to_str().unwrap(),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    check_fetched(&a, &out, AMI_A);

    // Re-publishing identical content: no-op for the blobs (412 → checked).
    let o = s3(&["publish", "--store", store, &a.out()], &ep);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("present blob")
            .count(),
        2,
        "{}",
        describe(&o)
    );

    // AWS_ENDPOINT_URL works like --endpoint-url.
    let o = bp_env(
        &[
            OsStr::new("fetch"),
            OsStr::new("--store"),
            OsStr::new(store),
            OsStr::new("--ami"),
            OsStr::new(AMI_B),
            OsStr::new("-o"),
            a.p("env-fetched").as_os_str(),
        ],
        &[("AWS_ENDPOINT_URL", &ep)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // Tampered blob object in S3 (overwritten behind the store's back).
    let seal_sha = sha256_file(&a.p("att/seal.sigstore.json"));
    moto.py(&format!("s3.put_object(Bucket='attest', Key='golden/v1/blobs/sha256/{seal_sha}', Body=b'{{\"forged\": true}}')"));
    let o = s3(
        &[
            "fetch",
            "--store",
            store,
            "--ami",
            AMI_A,
            "-o",
            a.s("tampered").as_str(),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(describe(&o).contains("digest mismatch"), "{}", describe(&o));
    assert!(describe(&o).contains(&seal_sha), "{}", describe(&o));
    assert!(!a.p("tampered").exists(), "nothing written on failure");
    // Publishing again does not overwrite it (create-only) and says so.
    let o = s3(&["publish", "--store", store, &a.out()], &ep);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(describe(&o).contains("digest mismatch"), "{}", describe(&o));

    // Index naming a missing blob.
    moto.py(&format!(
        "s3.delete_object(Bucket='attest', Key='golden/v1/blobs/sha256/{seal_sha}')"
    ));
    let o = s3(
        &[
            "fetch",
            "--store",
            store,
            "--ami",
            AMI_A,
            "-o",
            a.s("missing").as_str(),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        describe(&o).contains("missing from the store"),
        "{}",
        describe(&o)
    );
    assert!(describe(&o).contains(&seal_sha), "{}", describe(&o));

    // No such bucket: exit 2, one clear message.
    let o = s3(
        &[
            "fetch",
            "--store",
            "s3://no-such-bucket-here",
            "--ami",
            AMI_A,
            "-o",
            a.s("nb").as_str(),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("no such bucket: no-such-bucket-here"),
        "{}",
        describe(&o)
    );
    let o = s3(
        &["publish", "--store", "s3://no-such-bucket-here", &a.out()],
        &ep,
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("no such bucket"), "{}", describe(&o));

    // Server down: clear error in bounded time.
    drop(moto);
    let t0 = Instant::now();
    let o = s3(
        &[
            "fetch",
            "--store",
            store,
            "--ami",
            AMI_A,
            "-o",
            a.s("down").as_str(),
        ],
        &ep,
    );
    let took = t0.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("store unreachable"),
        "{}",
        describe(&o)
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn s3_server_not_listening_is_a_bounded_clear_error() {
    let a = tempfile::tempdir().unwrap();
    let port = free_port();
    let ep = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    let o = s3(
        &[
            "fetch",
            "--store",
            "s3://attest",
            "--ami",
            AMI_A,
            "-o",
            a.path().join("o").to_str().unwrap(),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("store unreachable"),
        "{}",
        describe(&o)
    );
    assert!(describe(&o).contains(&ep), "{}", describe(&o));
    assert!(t0.elapsed() < Duration::from_secs(60));
}

#[test]
fn s3_wrong_credentials_and_access_denied() {
    let a = attested();
    // moto enforces IAM authentication after this many requests.
    let moto = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "6")]);
    let ep = moto.url();
    let keys = moto.py(
        "s3.create_bucket(Bucket='attest')\n\
         iam.create_user(UserName='publisher')\n\
         iam.put_user_policy(UserName='publisher', PolicyName='s3', PolicyDocument='{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}')\n\
         k = iam.create_access_key(UserName='publisher')['AccessKey']\n\
         iam.create_user(UserName='nobody')\n\
         n = iam.create_access_key(UserName='nobody')['AccessKey']\n\
         print(k['AccessKeyId'], k['SecretAccessKey'], n['AccessKeyId'], n['SecretAccessKey'])",
    );
    let k: Vec<&str> = keys.split_whitespace().collect();
    assert_eq!(k.len(), 4, "{keys}");
    let run = |id: &str, secret: &str| {
        let args = [
            "publish",
            "--store",
            "s3://attest",
            "--endpoint-url",
            &ep,
            &a.out(),
        ];
        let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        bp_env(
            &a,
            &[("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)],
        )
    };
    // An unknown key id.
    let o = run(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("bad credentials"), "{}", describe(&o));
    // The right key id with a wrong secret.
    let o = run(k[0], "wrong-secret-wrong-secret-wrong-secret00");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("bad credentials"), "{}", describe(&o));
    // A valid user without S3 permissions.
    let o = run(k[2], k[3]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("access denied"), "{}", describe(&o));
    // The publisher's key works.
    let o = run(k[0], k[1]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // First-boot verify with wrong credentials: could not verify (exit 2),
    // the reason named; with the right ones it gets past the store.
    let verify = |id: &str, secret: &str| {
        let args = [
            "verify",
            "--store",
            "s3://attest",
            "--endpoint-url",
            &ep,
            "--key",
            &a.s("cosign.pub"),
            "--ami",
            AMI_A,
            "--root",
            a._root.path().to_str().unwrap(),
            "--format",
            "json",
        ];
        let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        bp_env(
            &a,
            &[("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)],
        )
    };
    let o = verify(k[0], "wrong-secret-wrong-secret-wrong-secret00");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "unreachable", "{v:#}");
    assert!(v.to_string().contains("bad credentials"), "{v:#}");
    let o = verify(k[0], k[1]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_ne!(v["result"], "unreachable", "{v:#}");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "signatures" && c["status"] == "pass"),
        "{v:#}"
    );
}
