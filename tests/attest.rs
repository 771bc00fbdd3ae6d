//! `bakeproof key generate`, `attest`, `verify-attestation` end to end, on the
//! SBOM of the Debian fixture root, checked against independent
//! implementations (tests/tools/attest_interop.py: securesystemslib for DSSE,
//! PyNaCl + hashlib.scrypt + cryptography for cosign keys;
//! tests/tools/npm/sigstore_verify.cjs: sigstore-js for whole bundles).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::attest::{AttestInputs as Setup, attest_inputs};
use common::interop::{node_verify, py_verify};
use common::run::{bakeproof_bin, extract, read_json};
use common::schema::{bakeproof_python, repo_root, validate_cyclonedx_1_5, validate_with_schema};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const AMI1: &str = "us-east-1:ami-0123456789abcdef0";
const AMI2: &str = "eu-west-1:ami-0fedcba9876543210";

fn bp(args: &[&OsStr], password: Option<&str>) -> Output {
    let mut c = Command::new(bakeproof_bin());
    c.args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env_remove("COSIGN_PASSWORD")
        .stdin(Stdio::null());
    if let Some(p) = password {
        c.env("COSIGN_PASSWORD", p);
    }
    c.output().expect("run bakeproof")
}

fn bps(args: &[&str], password: Option<&str>) -> Output {
    let v: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    bp(&v, password)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Runs tests/tools/attest_interop.py; fails (never skips) without BAKEPROOF_PYTHON.
fn py(args: &[&OsStr], password: &str) -> Output {
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    Command::new(python)
        .arg(repo_root().join("tests/tools/attest_interop.py"))
        .args(args)
        .env("COSIGN_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .expect("run attest_interop.py")
}

/// Scans the fixture root, writes a seal report and a key pair.
fn setup() -> Setup {
    attest_inputs(PASSWORD)
}

fn attest(s: &Setup, out: &str, key: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "attest".to_string(),
        "--sbom".into(),
        s.s("sbom.cdx.json"),
        "--seal".into(),
        s.s("seal.json"),
        "--key".into(),
        s.s(key),
        "-o".into(),
        s.s(out),
    ];
    args.extend(extra.iter().map(|x| x.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    bps(&a, Some(PASSWORD))
}

fn verify(s: &Setup, bundles: &[PathBuf], key: &str, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["verify-attestation".into()];
    args.extend(bundles.iter().map(|b| b.to_str().unwrap().to_string()));
    args.extend(["--key".to_string(), s.s(key)]);
    args.extend(extra.iter().map(|x| x.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    bps(&a, None)
}

fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn packer_manifest(s: &Setup) -> PathBuf {
    let m = json!({
        "builds": [
            {"name": "golden", "builder_type": "amazon-ebs", "build_time": 1700000000,
             "files": null, "artifact_id": "us-east-1:ami-11111111", "packer_run_uuid": "run-old",
             "custom_data": null},
            {"name": "golden", "builder_type": "amazon-ebs", "build_time": 1704067200,
             "files": null, "artifact_id": format!("{AMI1},{AMI2}"), "packer_run_uuid": "run-new",
             "custom_data": null}
        ],
        "last_run_uuid": "run-new"
    });
    let p = s.p("manifest.json");
    write_json(&p, &m);
    p
}

#[test]
fn keys_attest_verify_round_trip_and_independent_verifiers() {
    let s = setup();
    // Key files: modes, PEM labels; the private key decrypts independently.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(s.p("cosign.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key_pem = std::fs::read_to_string(s.p("cosign.key")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let pub_pem = std::fs::read_to_string(s.p("cosign.pub")).unwrap();
    assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let o = py(
        &[OsStr::new("decrypt-key"), s.p("cosign.key").as_os_str()],
        PASSWORD,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), pub_pem);
    let o = py(
        &[OsStr::new("decrypt-key"), s.p("cosign.key").as_os_str()],
        "nope",
    );
    assert_eq!(code(&o), 1);
    // Existing keys are not overwritten.
    let o = bps(
        &["key", "generate", "--output-dir", &s.s("")],
        Some(PASSWORD),
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("not overwriting"));

    // Attest for the AMIs of the Packer manifest's last run.
    let m = packer_manifest(&s);
    let o = attest(
        &s,
        "out",
        "cosign.key",
        &["--packer-manifest", m.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!text(&o).contains(PASSWORD));
    let index = read_json(&s.p("out/index.json"));
    assert_eq!(index["created"], "2024-01-01T00:00:00Z");
    assert_eq!(index["treeDigest"]["sha256"], s.tree_digest.as_str());
    let names: Vec<&str> = index["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ami://us-east-1/ami-0123456789abcdef0",
            "ami://eu-west-1/ami-0fedcba9876543210"
        ]
    );
    let bundles = [s.p("out/sbom.sigstore.json"), s.p("out/seal.sigstore.json")];
    for b in &bundles {
        let v = read_json(b);
        assert_eq!(
            v["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(
            v["verificationMaterial"]["publicKey"]["hint"],
            index["keyid"]
        );
        assert_eq!(v["dsseEnvelope"]["signatures"].as_array().unwrap().len(), 1);
        // securesystemslib verifies it with a key whose keyid it computed itself.
        let o = py_verify(b, &s.p("cosign.pub"));
        assert_eq!(code(&o), 0, "{}", text(&o));
        // So does sigstore-js, as a whole bundle.
        let o = node_verify(b, &s.p("cosign.pub"));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    // bakeproof verifies them, for each AMI and type.
    for ami in [AMI1, AMI2] {
        let o = verify(&s, &bundles, "cosign.pub", &["--ami", ami]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        assert_eq!(text(&o).matches("verified").count(), 2);
    }
    let o = verify(&s, &bundles[..1], "cosign.pub", &["--type", "sbom"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = verify(&s, &bundles[1..], "cosign.pub", &["--type", "seal"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The signed seal predicate is the seal report, valid against its schema.
    let env = read_json(&bundles[1]);
    let st: Value = serde_json::from_slice(&base64_decode(
        env["dsseEnvelope"]["payload"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(st["predicateType"], "https://bakeproof.dev/seal-report/v1");
    assert_eq!(st["predicate"], read_json(&s.p("seal.json")));
    if let Err(errors) = validate_with_schema("seal-report.schema.json", &st["predicate"]) {
        panic!("seal predicate invalid against its schema: {errors:#?}");
    }

    // The SBOM statement carries the SBOM inline; the statements are reproducible.
    let env = read_json(&bundles[0]);
    let payload = base64_decode(env["dsseEnvelope"]["payload"].as_str().unwrap());
    let st: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(st["predicate"], read_json(&s.p("sbom.cdx.json")));
    let o = attest(&s, "again", "cosign.key", &["--ami", AMI1, "--ami", AMI2]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    for f in ["sbom.sigstore.json", "seal.sigstore.json", "index.json"] {
        assert_eq!(
            std::fs::read(s.p(&format!("out/{f}"))).unwrap(),
            std::fs::read(s.p(&format!("again/{f}"))).unwrap(),
            "{f} differs between runs"
        );
    }
}

/// Minimal standard base64 decoder (the e2e crate has no base64 dependency).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    out
}

fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= (b as u32) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_helpers() {
    for s in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"\xff\x00\x10"] {
        assert_eq!(base64_decode(&base64_encode(s)), s);
    }
    assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
}

#[test]
fn tampering_is_rejected_by_bakeproof_securesystemslib_and_sigstore_js() {
    let s = setup();
    let o = attest(&s, "out", "cosign.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // A second key pair, and bundles signed with it.
    std::fs::create_dir(s.p("k2")).unwrap();
    let o = bps(
        &["key", "generate", "--output-dir", &s.s("k2")],
        Some(PASSWORD),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = attest(&s, "out2", "k2/cosign.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));

    let good = read_json(&s.p("out/sbom.sigstore.json"));
    let seal = read_json(&s.p("out/seal.sigstore.json"));
    let other = read_json(&s.p("out2/sbom.sigstore.json"));
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();

    let mut b = good.clone();
    let mut pl = base64_decode(b["dsseEnvelope"]["payload"].as_str().unwrap());
    let i = pl.len() / 2;
    pl[i] ^= 0x20;
    b["dsseEnvelope"]["payload"] = base64_encode(&pl).into();
    cases.push(("payload byte", b, "bad signature"));

    let mut b = good.clone();
    b["dsseEnvelope"]["payloadType"] = "application/vnd.in-toto+jsonx".into();
    cases.push(("payloadType", b, "payloadType"));

    let mut b = good.clone();
    b["dsseEnvelope"]["signatures"] = seal["dsseEnvelope"]["signatures"].clone();
    cases.push(("swapped signature", b, "bad signature"));

    let mut b = good.clone();
    let sig = b["dsseEnvelope"]["signatures"][0].clone();
    b["dsseEnvelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(sig);
    cases.push(("second signature", b, "exactly one signature, found 2"));

    // Another key's valid bundle, passed off with our hint and keyid.
    let mut b = other.clone();
    b["verificationMaterial"] = good["verificationMaterial"].clone();
    b["dsseEnvelope"]["signatures"][0]["keyid"] =
        good["dsseEnvelope"]["signatures"][0]["keyid"].clone();
    cases.push(("another key, our key id", b, "bad signature"));
    cases.push(("another key", other.clone(), "unknown key"));

    for (what, b, reason) in cases {
        let p = s.p("tampered.json");
        write_json(&p, &b);
        let o = verify(&s, std::slice::from_ref(&p), "cosign.pub", &[]);
        assert_eq!(code(&o), 1, "{what}: {}", text(&o));
        assert!(text(&o).contains(reason), "{what}: {}", text(&o));
        let o = py_verify(&p, &s.p("cosign.pub"));
        assert_eq!(
            code(&o),
            1,
            "{what}: securesystemslib accepted: {}",
            text(&o)
        );
    }

    // Malformed JSON and unsupported media types (bakeproof only: bundle level).
    let p = s.p("bad.json");
    std::fs::write(&p, b"{\"mediaType\": ").unwrap();
    let o = verify(&s, std::slice::from_ref(&p), "cosign.pub", &[]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("malformed JSON"), "{}", text(&o));
    let mut b = good.clone();
    b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json".into();
    write_json(&p, &b);
    let o = verify(&s, std::slice::from_ref(&p), "cosign.pub", &[]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("unsupported bundle mediaType"),
        "{}",
        text(&o)
    );
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    write_json(&p, &b);
    let o = verify(&s, std::slice::from_ref(&p), "cosign.pub", &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // One bad bundle among good ones fails the run.
    let o = verify(
        &s,
        &[
            s.p("out/seal.sigstore.json"),
            s.p("out2/seal.sigstore.json"),
        ],
        "cosign.pub",
        &[],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
}

#[test]
fn policy_usage_and_input_errors() {
    let s = setup();
    let o = attest(&s, "out", "cosign.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let sbom_b = s.p("out/sbom.sigstore.json");
    let seal_b = s.p("out/seal.sigstore.json");

    let o = verify(
        &s,
        std::slice::from_ref(&sbom_b),
        "cosign.pub",
        &["--ami", AMI2],
    );
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("is not among the subjects"),
        "{}",
        text(&o)
    );
    let o = verify(
        &s,
        std::slice::from_ref(&seal_b),
        "cosign.pub",
        &["--type", "sbom"],
    );
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("is not a sbom predicate"), "{}", text(&o));
    // Usage and I/O: exit 2.
    let o = verify(&s, &[s.p("missing.json")], "cosign.pub", &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let o = verify(&s, std::slice::from_ref(&sbom_b), "cosign.key", &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let o = verify(
        &s,
        std::slice::from_ref(&sbom_b),
        "cosign.pub",
        &["--ami", "nope"],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));

    // Wrong password.
    let args = [
        "attest",
        "--sbom",
        &s.s("sbom.cdx.json"),
        "--seal",
        &s.s("seal.json"),
        "--key",
        &s.s("cosign.key"),
        "--ami",
        AMI1,
        "-o",
        &s.s("x"),
    ];
    let o = bps(&args, Some("wrong"));
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("wrong password"), "{}", text(&o));
    assert!(!s.p("x").exists());

    // AMI inputs.
    let o = attest(
        &s,
        "y",
        "cosign.key",
        &["--ami", "us-east-1/ami-0123456789abcdef0"],
    );
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("malformed AMI reference"), "{}", text(&o));
    let o = attest(&s, "y", "cosign.key", &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    for (manifest, msg) in [
        (
            json!({"builds": [{"builder_type": "amazon-ebs", "artifact_id": AMI1, "packer_run_uuid": "a"}], "last_run_uuid": "b"}),
            "no build of run b",
        ),
        (
            json!({"builds": [{"builder_type": "amazon-ebs", "artifact_id": "us-east-1=ami-11111111", "packer_run_uuid": "a"}], "last_run_uuid": "a"}),
            "malformed artifact_id",
        ),
        (
            json!({"builds": [{"builder_type": "amazon-ebs", "artifact_id": "", "packer_run_uuid": "a"}], "last_run_uuid": "a"}),
            "produced no AMI",
        ),
        (json!({"builds": []}), "no last_run_uuid"),
    ] {
        let p = s.p("m.json");
        write_json(&p, &manifest);
        let o = attest(
            &s,
            "y",
            "cosign.key",
            &["--packer-manifest", p.to_str().unwrap()],
        );
        assert_eq!(code(&o), 2, "{msg}: {}", text(&o));
        assert!(text(&o).contains(msg), "{msg}: {}", text(&o));
    }
    // Seal report without status.
    std::fs::write(s.p("seal.json"), b"{\"checks\": []}").unwrap();
    let o = attest(&s, "y", "cosign.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("status"), "{}", text(&o));
}

/// `attest` reads `SOURCE_DATE_EPOCH` by the rule of `scan` and `seal check`
/// (one parser, bakeproof_types::SourceDateEpoch): a value that is set but
/// not a number of seconds is an error before the password is asked for, not
/// a silent "now" in the index.
#[test]
fn source_date_epoch_follows_the_rule_of_scan() {
    let s = setup();
    let run = |out: &str, epoch: &str| {
        let mut c = Command::new(bakeproof_bin());
        c.args([
            "attest",
            "--sbom",
            &s.s("sbom.cdx.json"),
            "--seal",
            &s.s("seal.json"),
            "--key",
            &s.s("cosign.key"),
            "--ami",
            AMI1,
            "--allow-unsealed",
            "-o",
            &s.s(out),
        ])
        .env("SOURCE_DATE_EPOCH", epoch)
        .env("COSIGN_PASSWORD", PASSWORD)
        .stdin(Stdio::null());
        c.output().expect("run bakeproof")
    };
    for (i, bad) in ["yesterday", "1.5", "99999999999999"].iter().enumerate() {
        let out = format!("bad{i}");
        let o = run(&out, bad);
        assert_eq!(code(&o), 2, "{bad}: {}", text(&o));
        assert!(
            text(&o).contains("SOURCE_DATE_EPOCH"),
            "{bad}: {}",
            text(&o)
        );
        assert!(!s.p(&out).exists(), "{bad}");
        // scan says the same of the same value.
        let mut c = Command::new(bakeproof_bin());
        let o = c
            .args(["seal", "check", &s.s("."), "--format", "json"])
            .env("SOURCE_DATE_EPOCH", bad)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "seal check {bad}: {}", text(&o));
        assert!(text(&o).contains("SOURCE_DATE_EPOCH"), "{}", text(&o));
    }
    // Blanks around the number are allowed, as in scan.
    let o = run("ok", " 1704067200\n");
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        read_json(&s.p("ok/index.json"))["created"],
        "2024-01-01T00:00:00Z"
    );
}

#[test]
fn key_written_by_an_independent_implementation_is_used() {
    let s = setup();
    let o = py(&[OsStr::new("write-key"), s.p("py").as_os_str()], PASSWORD);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = attest(&s, "out", "py.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let bundles = [s.p("out/sbom.sigstore.json"), s.p("out/seal.sigstore.json")];
    let o = verify(&s, &bundles, "py.pub", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    for b in &bundles {
        let o = py_verify(b, &s.p("py.pub"));
        assert_eq!(code(&o), 0, "{}", text(&o));
        let o = py_verify(b, &s.p("cosign.pub"));
        assert_eq!(code(&o), 1, "{}", text(&o));
        let o = node_verify(b, &s.p("py.pub"));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    let o = verify(&s, &bundles, "cosign.pub", &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("unknown key"), "{}", text(&o));
}

#[test]
fn large_sbom_is_attested_by_digest_pinned_reference() {
    let s = setup();
    let o = attest(
        &s,
        "out",
        "cosign.key",
        &["--ami", AMI1, "--inline-sbom-max", "1000"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let index = read_json(&s.p("out/index.json"));
    // The standard CycloneDX predicate type (what `cosign verify-attestation
    // --type cyclonedx` matches), inline or by reference.
    assert_eq!(
        index["files"][0]["predicateType"],
        "https://cyclonedx.org/bom"
    );
    assert_eq!(index["files"][2]["file"], "sbom.cdx.json");
    let b = s.p("out/sbom.sigstore.json");
    let env = read_json(&b);
    let st: Value = serde_json::from_slice(&base64_decode(
        env["dsseEnvelope"]["payload"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
    let sbom = std::fs::read(s.p("sbom.cdx.json")).unwrap();
    let full: Value = serde_json::from_slice(&sbom).unwrap();
    let sha = {
        use sha2::Digest as _;
        sha2::Sha256::digest(&sbom)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    // The predicate: a CycloneDX document (valid against the 1.5 schema) of
    // the SBOM's metadata, pinning the SBOM by SHA-256 in a `bom` external
    // reference, with the digest and size in bakeproof properties.
    let p = &st["predicate"];
    validate_cyclonedx_1_5(p).unwrap();
    assert_eq!(p["metadata"]["component"], full["metadata"]["component"]);
    assert!(p.get("components").is_none());
    let ext = &p["externalReferences"][0];
    assert_eq!(ext["type"], "bom");
    assert_eq!(ext["url"], "sbom.cdx.json");
    assert_eq!(ext["hashes"], json!([{"alg": "SHA-256", "content": sha}]));
    let props = p["metadata"]["properties"].as_array().unwrap();
    assert!(
        props.contains(&json!({"name": "bakeproof:sbom-ref", "value": format!("sha256:{sha}")}))
    );
    assert!(
        props
            .contains(&json!({"name": "bakeproof:sbom-ref-size", "value": sbom.len().to_string()}))
    );
    let o = verify(
        &s,
        std::slice::from_ref(&b),
        "cosign.pub",
        &["--type", "sbom"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("SBOM sbom.cdx.json matches"),
        "{}",
        text(&o)
    );
    let o = py_verify(&b, &s.p("cosign.pub"));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = node_verify(&b, &s.p("cosign.pub"));
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The referenced SBOM altered: rejected; the original given: accepted.
    let mut altered = sbom.clone();
    altered.extend_from_slice(b" ");
    std::fs::write(s.p("out/sbom.cdx.json"), &altered).unwrap();
    let o = verify(&s, std::slice::from_ref(&b), "cosign.pub", &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("SBOM digest mismatch"), "{}", text(&o));
    let o = verify(
        &s,
        std::slice::from_ref(&b),
        "cosign.pub",
        &["--sbom", &s.s("sbom.cdx.json")],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The referenced SBOM absent: fail-closed, unless explicitly accepted.
    std::fs::remove_file(s.p("out/sbom.cdx.json")).unwrap();
    let o = verify(&s, std::slice::from_ref(&b), "cosign.pub", &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("INVALID") && text(&o).contains("neither beside the bundle"),
        "{}",
        text(&o)
    );
    let o = verify(
        &s,
        std::slice::from_ref(&b),
        "cosign.pub",
        &["--allow-missing-sbom"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("NOT checked"), "{}", text(&o));
}

/// Issue 10, item 1, end to end: image B's SBOM with image A's sealed
/// report is refused by `attest` (before any password is asked); B's own
/// unsealed report only with `--allow-unsealed`; and two bundles each
/// validly signed, of two different trees, are refused together by
/// `verify-attestation` (a crossed pair assembled after signing).
#[test]
fn crossed_seal_pair_is_refused_at_attest_and_verify() {
    let s = setup();
    // Image B: the same root with a baked credential (unsealed) and one
    // more file (another tree).
    let b = extract("dpkgroot/clean.tar.gz");
    std::fs::create_dir_all(b.path().join("root")).unwrap();
    std::fs::write(
        b.path().join("root/.aws-creds.sh"),
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let o = bps(
        &[
            "scan",
            b.path().to_str().unwrap(),
            "-o",
            &s.s("sbom-b.cdx.json"),
            "--seal-report",
            &s.s("seal-b.json"),
            "-q",
        ],
        None,
    );
    assert_eq!(code(&o), 1, "unsealed: {}", text(&o));
    let seal_b = read_json(&s.p("seal-b.json"));
    assert_eq!(seal_b["status"], "unsealed", "{seal_b:#}");
    let sbom_b = read_json(&s.p("sbom-b.cdx.json"));
    let tree_b = sbom_b["metadata"]["component"]["hashes"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(tree_b, s.tree_digest);
    assert_eq!(seal_b["tree_digest"], format!("sha256:{tree_b}"));

    let run = |sbom: &str, seal: &str, out: &str, extra: &[&str]| {
        let mut a = vec![
            "attest".to_string(),
            "--sbom".into(),
            s.s(sbom),
            "--seal".into(),
            s.s(seal),
            "--key".into(),
            s.s("cosign.key"),
            "--ami".into(),
            AMI1.into(),
            "-o".into(),
            s.s(out),
        ];
        a.extend(extra.iter().map(|x| x.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        // No password: a refusal must come before the key is opened.
        bps(&a, None)
    };
    // B's SBOM, A's sealed report: refused, nothing written.
    let o = run("sbom-b.cdx.json", "seal.json", "crossed", &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("is of another image")
            && text(&o).contains(&tree_b)
            && text(&o).contains(&s.tree_digest),
        "{}",
        text(&o)
    );
    assert!(!s.p("crossed").exists());
    // --allow-unsealed does not make another image's report acceptable.
    let o = run(
        "sbom-b.cdx.json",
        "seal.json",
        "crossed",
        &["--allow-unsealed"],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("is of another image"), "{}", text(&o));
    // B's own report, unsealed: refused unless --allow-unsealed.
    let o = run("sbom-b.cdx.json", "seal-b.json", "b", &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("the image is unsealed") && text(&o).contains("--allow-unsealed"),
        "{}",
        text(&o)
    );
    assert!(!s.p("b").exists());
    let o = bps(
        &[
            "attest",
            "--sbom",
            &s.s("sbom-b.cdx.json"),
            "--seal",
            &s.s("seal-b.json"),
            "--key",
            &s.s("cosign.key"),
            "--ami",
            AMI1,
            "-o",
            &s.s("b"),
            "--allow-unsealed",
        ],
        Some(PASSWORD),
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    // A's own pair.
    let o = attest(&s, "a", "cosign.key", &["--ami", AMI1]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // Each pair verifies; A's SBOM with B's seal bundle does not.
    let (sa, la) = (s.p("a/sbom.sigstore.json"), s.p("a/seal.sigstore.json"));
    let (sb, lb) = (s.p("b/sbom.sigstore.json"), s.p("b/seal.sigstore.json"));
    let o = verify(
        &s,
        &[sa.clone(), la.clone()],
        "cosign.pub",
        &["--ami", AMI1],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    for pair in [[sa.clone(), lb.clone()], [sb.clone(), la.clone()]] {
        let o = verify(&s, &pair, "cosign.pub", &["--ami", AMI1]);
        assert_ne!(code(&o), 0, "a crossed pair verified: {}", text(&o));
        assert!(
            text(&o).contains(&tree_b) || text(&o).contains("tree"),
            "{}",
            text(&o)
        );
    }
}
