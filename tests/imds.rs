//! The IMDSv2 client (`bakeproof-imds`) against its emulator
//! (`bakeproof_imds::emulator`, what `bakeproof-imds-emulator` serves).

mod common;

use std::time::{Duration, Instant};

use bakeproof_imds::{Client, IdentityCert, ImdsConfig, ImdsError};
use common::imds_emulator::{Emulator, dead_endpoint, test_cert};

const AMI: &str = "ami-0123456789abcdef0";

fn client(endpoint: &str) -> Client {
    Client::new(ImdsConfig::default().with_endpoint(endpoint).unwrap())
}

fn certs(path: &std::path::Path) -> Vec<IdentityCert> {
    IdentityCert::from_pem("test", &std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn v2_reads_ami_instance_region() {
    let emu = Emulator::start(&[
        "--ami-id",
        AMI,
        "--instance-id",
        "i-0abc",
        "--region",
        "eu-west-3",
    ]);
    let c = client(&emu.endpoint);
    assert_eq!(c.ami_id().unwrap(), AMI);
    assert_eq!(c.instance_id().unwrap(), "i-0abc");
    assert_eq!(c.region().unwrap(), "eu-west-3");
    let info = c.instance_info(&[]).unwrap();
    assert_eq!(info.region, "eu-west-3");
    assert_eq!(info.identity_verified_by, None);
}

#[test]
fn emulator_refuses_v1_and_bad_ttl() {
    let emu = Emulator::start(&[]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| {
        agent
            .get(format!("{}/latest/{path}", emu.endpoint))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get("meta-data/ami-id"), 401, "v1 GET must be refused");
    assert_eq!(get("api/token"), 405, "token needs PUT");
    let put = |ttl: &str| {
        agent
            .put(format!("{}/latest/api/token", emu.endpoint))
            .header("X-aws-ec2-metadata-token-ttl-seconds", ttl)
            .send_empty()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put("0"), 400);
    assert_eq!(put("21601"), 400);
    assert_eq!(put("x"), 400);
    assert_eq!(put("60"), 200);
    let bogus = agent
        .get(format!("{}/latest/meta-data/ami-id", emu.endpoint))
        .header("X-aws-ec2-metadata-token", "forged")
        .call()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(bogus, 401);
}

#[test]
fn client_uses_v1_only_when_allowed() {
    // An "IMDSv1-only" service: token PUT not served (emulate with a v1-allowing
    // emulator and a client that still uses v2 → works; v1 path covered by the
    // emulator accepting token-less GETs).
    let emu = Emulator::start(&["--allow-v1"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let st = agent
        .get(format!("{}/latest/meta-data/ami-id", emu.endpoint))
        .call()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(st, 200);
    assert_eq!(client(&emu.endpoint).ami_id().unwrap(), AMI);
}

#[test]
fn expired_token_is_renewed() {
    let emu = Emulator::start(&["--token-ttl-max", "1"]);
    let c = client(&emu.endpoint);
    assert_eq!(c.ami_id().unwrap(), AMI);
    std::thread::sleep(Duration::from_millis(1300));
    // The cached token (asked for 21600 s) expired after 1 s: 401, renewed once.
    assert_eq!(c.instance_id().unwrap(), "i-0123456789abcdef0");
}

#[test]
fn unreachable_is_a_clear_bounded_error() {
    let ep = dead_endpoint();
    let t = Instant::now();
    let e = client(&ep).ami_id().unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(e.is_unreachable(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("could not reach IMDS") && msg.contains(&ep),
        "{msg}"
    );
}

#[test]
fn unroutable_endpoint_times_out_within_bounds() {
    // TEST-NET-1: connects hang (or fail fast when there is no route).
    let t = Instant::now();
    let e = client("http://192.0.2.1:80").ami_id().unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(e.is_unreachable(), "{e}");
}

#[test]
fn identity_document_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = test_cert(dir.path(), "aws-test");
    let (_, other) = test_cert(dir.path(), "other");
    let emu = Emulator::start(&[
        "--sign-key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
    ]);
    let c = client(&emu.endpoint);
    let info = c.instance_info(&certs(&cert)).unwrap();
    assert_eq!(info.ami_id, AMI);
    assert_eq!(info.identity_verified_by.as_deref(), Some("test"));
    // Several certificates: any one may verify.
    let mut both = certs(&other);
    both.extend(certs(&cert));
    assert!(c.instance_info(&both).is_ok());

    let e = c.instance_info(&certs(&other)).unwrap_err();
    assert!(matches!(e, ImdsError::BadSignature(1)), "{e}");
    assert!(e.to_string().contains("signature does not verify"), "{e}");

    // Tampered document bytes do not verify.
    let doc = c.identity_document().unwrap();
    let mut raw = doc.raw.clone();
    raw[5] ^= 1;
    assert!(
        bakeproof_imds::verify_identity_signature(
            &raw,
            doc.signature.as_deref().unwrap(),
            &certs(&cert)
        )
        .is_err()
    );
}

#[test]
fn identity_image_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = test_cert(dir.path(), "aws-test");
    let emu = Emulator::start(&[
        "--sign-key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--document-image-id",
        "ami-0fedcba9876543210",
    ]);
    let e = client(&emu.endpoint)
        .instance_info(&certs(&cert))
        .unwrap_err();
    assert!(matches!(e, ImdsError::ImageMismatch { .. }), "{e}");
    assert!(e.to_string().contains("ami-0fedcba9876543210"), "{e}");
}

#[test]
fn certificates_configured_but_no_signature_served() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert) = test_cert(dir.path(), "aws-test");
    let emu = Emulator::start(&[]);
    let e = client(&emu.endpoint)
        .instance_info(&certs(&cert))
        .unwrap_err();
    assert!(e.to_string().contains("signature is required"), "{e}");
}

#[test]
fn not_a_certificate() {
    assert!(IdentityCert::from_pem("x", b"hello").is_err());
}

#[test]
fn public_keys_as_launched() {
    // Without a key pair: 404 on the list, no keys.
    let emu = Emulator::start(&[]);
    assert_eq!(
        client(&emu.endpoint).public_keys().unwrap(),
        Vec::<String>::new()
    );
    let k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl one";
    let k2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 two";
    let emu = Emulator::start(&["--public-key", k1, "--public-key", k2]);
    let c = client(&emu.endpoint);
    assert_eq!(
        c.public_keys().unwrap(),
        vec![k1.to_string(), k2.to_string()]
    );
    // The layout EC2 serves: N=name lines, then N/openssh-key.
    assert_eq!(c.get("meta-data/public-keys/").unwrap(), "0=one\n1=two");
    assert_eq!(c.get("meta-data/public-keys/1/").unwrap(), "openssh-key");
    // IMDSv2 only: the keys need a token like everything else.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let st = agent
        .get(format!(
            "{}/latest/meta-data/public-keys/0/openssh-key",
            emu.endpoint
        ))
        .call()
        .unwrap()
        .status();
    assert_eq!(st.as_u16(), 401);
}

/// The launch time is the identity document's `pendingTime`, with or
/// without certificates; an emulator that serves none gives `None`.
#[test]
fn launch_time_is_the_documents_pending_time() {
    // Oracle: GNU date's reading of the same RFC 3339 time.
    let t = "2026-03-04T05:06:07Z";
    let o = std::process::Command::new("date")
        .args(["-u", "-d", t, "+%s"])
        .output()
        .expect("date");
    let want: i64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let emu = Emulator::start(&["--pending-time", t]);
    let c = client(&emu.endpoint);
    assert_eq!(c.launch_time().unwrap(), Some(want));
    assert_eq!(c.instance_info(&[]).unwrap().launch_time, Some(want));

    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = test_cert(dir.path(), "aws-test");
    let signed = Emulator::start(&[
        "--pending-time",
        t,
        "--sign-key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
    ]);
    let info = client(&signed.endpoint)
        .instance_info(&certs(&cert))
        .unwrap();
    assert_eq!(info.launch_time, Some(want));

    let none = Emulator::start(&["--no-pending-time"]);
    let c = client(&none.endpoint);
    assert_eq!(c.launch_time().unwrap(), None);
    assert_eq!(c.instance_info(&[]).unwrap().launch_time, None);

    // Not RFC 3339: an error, never a guess.
    let bad = Emulator::start(&["--pending-time", "yesterday"]);
    let e = client(&bad.endpoint).launch_time().unwrap_err();
    assert!(e.to_string().contains("pendingTime"), "{e}");
}
