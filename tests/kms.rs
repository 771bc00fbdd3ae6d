//! AWS KMS signing keys end to end (`--key awskms://...` for `attest` and
//! `key public`), against moto's KMS on loopback (tests/tools/moto_kms.py:
//! moto_server with AWS's `MessageType=DIGEST` semantics for `Sign`). No
//! private key file exists anywhere in these tests: the keys are made inside
//! the KMS server, and the public key the verifiers trust is the one
//! `bakeproof key public` read from it, cross-checked with boto3's
//! GetPublicKey and the `cryptography` package.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::attest::{AttestInputs, attest_inputs_without_key};
use common::interop::{node_verify, py_verify};
use common::moto::{Moto, free_port, test_aws_env};
use common::run::{bakeproof_bin, describe, read_json};

const AMI: &str = "us-east-1:ami-0123456789abcdef0";

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `bakeproof ARGS` with moto's test credentials, KMS at `endpoint` (when
/// given) and no key password anywhere.
fn bp(endpoint: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(bakeproof_bin());
    test_aws_env(&mut c)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env_remove("COSIGN_PASSWORD")
        .stdin(Stdio::null());
    if let Some(e) = endpoint {
        c.env("AWS_ENDPOINT_URL_KMS", e);
    }
    c.output().expect("run bakeproof")
}

fn attest(
    s: &AttestInputs,
    endpoint: Option<&str>,
    key: &str,
    out: &str,
    extra: &[&str],
) -> Output {
    let (sbom, seal, out) = (s.s("sbom.cdx.json"), s.s("seal.json"), s.s(out));
    let mut args = vec![
        "attest", "--sbom", &sbom, "--seal", &seal, "--key", key, "-o", &out, "--ami", AMI,
    ];
    args.extend_from_slice(extra);
    bp(endpoint, &args)
}

/// Creates a KMS key of `spec` and `usage` with alias `alias/NAME`; returns
/// (key id, key ARN) as moto names them.
fn create_key(m: &Moto, name: &str, spec: &str, usage: &str) -> (String, String) {
    let out = m.py(&format!(
        "k = kms.create_key(KeySpec='{spec}', KeyUsage='{usage}')['KeyMetadata']\n\
         kms.create_alias(AliasName='alias/{name}', TargetKeyId=k['KeyId'])\n\
         print(k['KeyId'], k['Arn'])"
    ));
    let (id, arn) = out.split_once(' ').unwrap();
    (id.to_string(), arn.to_string())
}

/// The key's public key as boto3's GetPublicKey returns it, PEM-encoded by
/// `cryptography`, and its key id (hex SHA-256 of the SPKI DER): the oracle
/// of `key public`.
fn kms_public_pem(m: &Moto, key: &str) -> (String, String) {
    let out = m.py(&format!(
        "import hashlib\n\
         from cryptography.hazmat.primitives import serialization as s\n\
         der = kms.get_public_key(KeyId='{key}')['PublicKey']\n\
         pem = s.load_der_public_key(der).public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)\n\
         print(hashlib.sha256(der).hexdigest())\n\
         sys.stdout.write(pem.decode())"
    ));
    let (keyid, pem) = out.split_once('\n').unwrap();
    (format!("{}\n", pem.trim_end()), keyid.to_string())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn kms_key_signs_bundles_that_bakeproof_securesystemslib_and_sigstore_js_verify() {
    let m = Moto::start_kms();
    let url = m.url();
    let ep = Some(url.as_str());
    let (id, arn) = create_key(&m, "bakeproof-golden", "ECC_NIST_P256", "SIGN_VERIFY");
    let s = attest_inputs_without_key();

    // `key public`: the KMS key's public key, the same PEM and key id as
    // boto3 + cryptography compute, whichever way the key is named.
    let (want_pem, want_keyid) = kms_public_pem(&m, &id);
    let pub_path = s.s("kms.pub");
    let o = bp(
        ep,
        &[
            "key",
            "public",
            "--key",
            "awskms:///alias/bakeproof-golden",
            "-o",
            &pub_path,
        ],
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(std::fs::read_to_string(&pub_path).unwrap(), want_pem);
    assert!(describe(&o).contains(&want_keyid), "{}", describe(&o));
    for r in [format!("awskms:///{id}"), format!("awskms:///{arn}")] {
        let o = bp(ep, &["key", "public", "--key", &r]);
        assert_eq!(code(&o), 0, "{r}: {}", describe(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), want_pem, "{r}");
    }

    // `attest` with the KMS key: bundles named by its key id, verified by
    // bakeproof with the public key alone, and by two independent verifiers.
    let o = attest(&s, ep, "awskms:///alias/bakeproof-golden", "out", &[]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let index = read_json(&s.p("out/index.json"));
    assert_eq!(index["keyid"], want_keyid.as_str());
    let bundles = [s.p("out/sbom.sigstore.json"), s.p("out/seal.sigstore.json")];
    for b in &bundles {
        let v = read_json(b);
        assert_eq!(
            v["verificationMaterial"]["publicKey"]["hint"],
            want_keyid.as_str()
        );
        assert_eq!(
            v["dsseEnvelope"]["signatures"][0]["keyid"],
            want_keyid.as_str()
        );
    }
    let mut args = vec!["verify-attestation".to_string()];
    args.extend(bundles.iter().map(|b| b.to_str().unwrap().to_string()));
    args.extend(["--key".into(), pub_path.clone(), "--ami".into(), AMI.into()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = bp(None, &a);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(
        describe(&o).matches(": verified: ").count(),
        2,
        "{}",
        describe(&o)
    );
    for b in &bundles {
        let o = py_verify(b, Path::new(&pub_path));
        assert_eq!(code(&o), 0, "securesystemslib: {}", describe(&o));
        let o = node_verify(b, Path::new(&pub_path));
        assert_eq!(code(&o), 0, "sigstore-js: {}", describe(&o));
    }

    // A large SBOM by reference, signed by KMS too: the CycloneDX type.
    let o = attest(
        &s,
        ep,
        &format!("awskms:///{arn}"),
        "big",
        &["--inline-sbom-max", "1000"],
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let b = s.p("big/sbom.sigstore.json");
    let o = bp(
        None,
        &[
            "verify-attestation",
            b.to_str().unwrap(),
            "--key",
            &pub_path,
        ],
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(
        describe(&o).contains("verified: https://cyclonedx.org/bom")
            && describe(&o).contains("SBOM sbom.cdx.json matches"),
        "{}",
        describe(&o)
    );

    // Another KMS key's public key does not verify these bundles.
    create_key(&m, "other", "ECC_NIST_P256", "SIGN_VERIFY");
    let other = s.s("other.pub");
    let o = bp(
        ep,
        &[
            "key",
            "public",
            "--key",
            "awskms:///alias/other",
            "-o",
            &other,
        ],
    );
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let o = bp(
        None,
        &[
            "verify-attestation",
            bundles[0].to_str().unwrap(),
            "--key",
            &other,
        ],
    );
    assert_eq!(code(&o), 1, "{}", describe(&o));
    assert!(describe(&o).contains("unknown key"), "{}", describe(&o));

    // No private key exists anywhere in the test's files.
    for f in files_under(s.dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn kms_keys_of_other_specs_and_unknown_keys_are_refused_and_nothing_is_written() {
    let m = Moto::start_kms();
    let url = m.url();
    let ep = Some(url.as_str());
    let s = attest_inputs_without_key();
    for (name, spec, usage, found) in [
        ("rsa", "RSA_2048", "SIGN_VERIFY", "RSA_2048"),
        ("p384", "ECC_NIST_P384", "SIGN_VERIFY", "ECC_NIST_P384"),
        ("k1", "ECC_SECG_P256K1", "SIGN_VERIFY", "ECC_SECG_P256K1"),
        (
            "aes",
            "SYMMETRIC_DEFAULT",
            "ENCRYPT_DECRYPT",
            "SYMMETRIC_DEFAULT",
        ),
    ] {
        create_key(&m, name, spec, usage);
        let key = format!("awskms:///alias/{name}");
        for o in [
            attest(&s, ep, &key, name, &[]),
            bp(ep, &["key", "public", "--key", &key]),
        ] {
            let t = describe(&o);
            assert_eq!(code(&o), 2, "{name}: {t}");
            assert!(
                t.contains(&key) && t.contains(found) && t.contains("ECDSA P-256 only"),
                "{name}: {t}"
            );
            assert!(o.stdout.is_empty(), "{name}: {t}");
        }
        assert!(!s.p(name).exists(), "{name}");
    }
    // An alias that does not exist.
    let o = attest(&s, ep, "awskms:///alias/missing", "missing", &[]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(
        describe(&o).contains("awskms:///alias/missing") && describe(&o).contains("no such key"),
        "{}",
        describe(&o)
    );
    assert!(!s.p("missing").exists());
    // Not a reference in cosign's grammar.
    let o = attest(&s, ep, "awskms:///key/1234", "bad", &[]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(
        describe(&o).contains("not an AWS KMS key reference"),
        "{}",
        describe(&o)
    );
    assert!(!s.p("bad").exists());
}

#[test]
fn kms_down_is_a_clear_error_and_writes_nothing() {
    let s = attest_inputs_without_key();
    // Nothing listens on the port: the endpoint from the environment...
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let o = attest(&s, Some(&url), "awskms:///alias/golden", "out", &[]);
    let t = describe(&o);
    assert_eq!(code(&o), 2, "{t}");
    assert!(
        t.contains("awskms:///alias/golden")
            && t.contains(&format!("cannot reach KMS endpoint {url}")),
        "{t}"
    );
    assert!(!s.p("out").exists(), "{t}");
    let o = bp(
        Some(&url),
        &["key", "public", "--key", "awskms:///alias/golden"],
    );
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(o.stdout.is_empty());
    // ... and the one in the reference (cosign's awskms://HOST:PORT/ form,
    // reached over HTTPS), which wins over the environment's.
    let key = format!("awskms://127.0.0.1:{port}/alias/golden");
    let o = attest(&s, Some("http://127.0.0.1:9"), &key, "out", &[]);
    let t = describe(&o);
    assert_eq!(code(&o), 2, "{t}");
    assert!(
        t.contains(&format!(
            "cannot reach KMS endpoint https://127.0.0.1:{port}"
        )),
        "{t}"
    );
    assert!(!s.p("out").exists(), "{t}");
    // A --region that contradicts the ARN's: refused before any request.
    let o = attest(
        &s,
        Some(&url),
        "awskms:///arn:aws:kms:us-east-1:111122223333:alias/golden",
        "out",
        &["--region", "eu-west-1"],
    );
    let t = describe(&o);
    assert_eq!(code(&o), 2, "{t}");
    assert!(
        t.contains("the key's ARN is in region us-east-1, --region names eu-west-1"),
        "{t}"
    );
    assert!(!s.p("out").exists(), "{t}");
}
