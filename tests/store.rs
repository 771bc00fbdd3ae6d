//! `bakeproof publish` / `bakeproof fetch` end to end: a local directory
//! store, and S3 semantics against a real S3-compatible server (moto_server
//! from tests/tools/requirements.txt, started here on loopback).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::attest::{AttestInputs as Attested, attest_inputs};
use common::moto::{Moto, free_port, test_aws_env};
use common::run::{bakeproof_bin, describe};
use common::schema::validate_with_schema;

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

/// A real attest output in `att/` (scan → seal check → key → attest for
/// two AMIs).
fn attested() -> Attested {
    let a = attest_inputs(PASSWORD);
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
        &a.s("att"),
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
    let o = bp(&["publish", "--store", &store, &a.s("att")]);
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
    let o = bp(&[
        "publish",
        "--store",
        &format!("file://{store}"),
        &a.s("att"),
    ]);
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
    let o = s3(&["publish", "--store", store, &a.s("att")], &ep);
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
    let o = s3(&["publish", "--store", store, &a.s("att")], &ep);
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
    let o = s3(&["publish", "--store", store, &a.s("att")], &ep);
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
        &[
            "publish",
            "--store",
            "s3://no-such-bucket-here",
            &a.s("att"),
        ],
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
            &a.s("att"),
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
            a.root.path().to_str().unwrap(),
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

// ------------------------------------------- bounded reads (issue 10, item 7)

/// `bakeproof ARGS` as a child, killed if it is still running after
/// `guard` (a hang guard, not a timing assertion): `None` when it had to be killed.
fn bp_guarded(args: &[String], env: &[(&str, &str)], guard: Duration) -> Option<Output> {
    bp_guarded_cmd(Command::new(bakeproof_bin()), args, env, guard)
}

/// As [`bp_guarded`], through `c` (a wrapper such as `prlimit` or `unshare`
/// with its arguments and the binary).
fn bp_guarded_cmd(
    mut c: Command,
    args: &[String],
    env: &[(&str, &str)],
    guard: Duration,
) -> Option<Output> {
    test_aws_env(c.args(args))
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("run bakeproof");
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > guard {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

/// `bakeproof verify --ami AMI_A` against `store` (the level needs no root).
fn verify_args(a: &Attested, store: &str) -> Vec<String> {
    strings(&[
        "verify",
        "--store",
        store,
        "--key",
        &a.s("cosign.pub"),
        "--ami",
        AMI_A,
        "--root",
        &a.s(""),
        "--format",
        "json",
    ])
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// What a tiny S3 stand-in on loopback answers to every request.
#[derive(Clone, Copy)]
enum Fake {
    /// `200` with a `Content-Length`, then the body one byte per 400 ms
    /// (2.5 B/s): the headers come in time, the body never does.
    Drip,
    /// `500 InternalError`, every time.
    ServerError,
}

/// Serves `mode` on a free loopback port until the process ends.
fn fake_s3(mode: Fake) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                // Request line and headers; the requests here have no body.
                loop {
                    line.clear();
                    match r.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                match mode {
                    Fake::Drip => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                    Content-Length: 4096\r\n\r\n";
                        if conn.write_all(head.as_bytes()).is_err() {
                            return;
                        }
                        for _ in 0..4096 {
                            if conn.write_all(b" ").and_then(|()| conn.flush()).is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(400));
                        }
                    }
                    Fake::ServerError => {
                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
                                    <Message>We encountered an internal error. Please try again.</Message></Error>";
                        let _ = write!(
                            conn,
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                }
            });
        }
    });
    ep
}

fn result_of(o: &Output) -> String {
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .map(|v| v["result"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[test]
fn s3_dripping_body_is_cut_off_by_the_read_deadline() {
    let a = attested();
    let ep = fake_s3(Fake::Drip);
    let mut args = verify_args(&a, "s3://attest");
    args.extend(strings(&["--endpoint-url", &ep]));
    // The read deadline of an index is 31 s; the guard only catches a hang
    // (the body alone would take 27 minutes).
    let o = bp_guarded(&args, &[], Duration::from_secs(150))
        .expect("bakeproof verify still reading a dripping body after 150 s");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_eq!(result_of(&o), "unreachable", "{}", describe(&o));
    assert!(
        describe(&o).contains("did not deliver the object within"),
        "{}",
        describe(&o)
    );
}

#[test]
fn s3_server_error_and_invalid_bucket_are_could_not_verify() {
    let a = attested();
    let ep = fake_s3(Fake::ServerError);
    let mut args = verify_args(&a, "s3://attest");
    args.extend(strings(&["--endpoint-url", &ep]));
    let o = bp_guarded(&args, &[], Duration::from_secs(120)).expect("hang");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_eq!(result_of(&o), "unreachable", "{}", describe(&o));
    assert!(describe(&o).contains("HTTP 500"), "{}", describe(&o));

    for bad in ["s3://Not_A_Bucket", "s3://ab"] {
        let o = bp_guarded(&verify_args(&a, bad), &[], Duration::from_secs(60)).expect("hang");
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", describe(&o));
        assert_eq!(result_of(&o), "unreachable", "{bad}: {}", describe(&o));
        assert!(
            describe(&o).contains("not a bucket name"),
            "{}",
            describe(&o)
        );
    }
}

fn index_path(store: &Path) -> PathBuf {
    store.join("amis/us-east-1/ami-0123456789abcdef0/index.json")
}

fn first_blob(store: &Path) -> PathBuf {
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index_path(store)).unwrap()).unwrap();
    store.join(format!(
        "blobs/sha256/{}",
        idx["entries"][0]["sha256"].as_str().unwrap()
    ))
}

fn mkfifo(p: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        p,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

#[test]
fn local_store_reads_only_bounded_regular_files_inside_it() {
    let a = attested();
    let store = a.p("store");
    let o = bp(&["publish", "--store", store.to_str().unwrap(), &a.s("att")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let s = store.to_str().unwrap();
    let o = bp_guarded(&verify_args(&a, s), &[], Duration::from_secs(60)).expect("hang");
    // The genuine store passes the store and signature checks (the seal
    // state of this fixture root is not what is tested here).
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failed: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["status"] == "fail"
                && matches!(c["id"].as_str(), Some("store" | "reach" | "signatures"))
        })
        .collect();
    assert!(failed.is_empty(), "{failed:?}: {}", describe(&o));
    assert!(v["keyid"].is_string(), "{v}");

    // A blob symlinked to /dev/zero (under a 4 GiB address-space limit, so
    // reading it unbounded fails instead of exhausting the machine), and a
    // blob replaced by a longer file: refused without reading past the
    // size the index states.
    let blob = first_blob(&store);
    let genuine = std::fs::read(&blob).unwrap();
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &blob).unwrap();
    for args in [
        verify_args(&a, s),
        strings(&["fetch", "--store", s, "--ami", AMI_A, "-o", &a.s("f1")]),
    ] {
        let mut c = Command::new("prlimit");
        c.args(["--as=4294967296", "--"]).arg(bakeproof_bin());
        let o = bp_guarded_cmd(c, &args, &[], Duration::from_secs(60)).expect("hang");
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        assert!(describe(&o).contains("symlink"), "{}", describe(&o));
    }
    std::fs::remove_file(&blob).unwrap();
    let mut longer = genuine.clone();
    longer.extend(std::iter::repeat_n(b' ', 1 << 20));
    std::fs::write(&blob, &longer).unwrap();
    let o = bp_guarded(&verify_args(&a, s), &[], Duration::from_secs(60)).expect("hang");
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(describe(&o).contains("more than"), "{}", describe(&o));
    std::fs::write(&blob, &genuine).unwrap();

    // The index as a FIFO nobody writes to: refused, not waited on.
    let idx = index_path(&store);
    let idx_bytes = std::fs::read(&idx).unwrap();
    std::fs::remove_file(&idx).unwrap();
    mkfifo(&idx);
    for args in [
        verify_args(&a, s),
        strings(&["fetch", "--store", s, "--ami", AMI_A, "-o", &a.s("f2")]),
    ] {
        let o = bp_guarded(&args, &[], Duration::from_secs(60))
            .expect("bakeproof still waiting on a FIFO index after 60 s");
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        assert!(
            describe(&o).contains("not a regular file"),
            "{}",
            describe(&o)
        );
    }
    std::fs::remove_file(&idx).unwrap();
    std::fs::write(&idx, &idx_bytes).unwrap();

    // blobs/sha256 a symlink to a directory outside the store: reads
    // refuse it, and so do writes (publish stores nothing there).
    let outside = a.p("outside");
    std::fs::create_dir(&outside).unwrap();
    let blobs = store.join("blobs/sha256");
    for f in std::fs::read_dir(&blobs).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, outside.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::rename(&blobs, a.p("blobs-moved")).unwrap();
    std::os::unix::fs::symlink(&outside, &blobs).unwrap();
    let o = bp_guarded(&verify_args(&a, s), &[], Duration::from_secs(60)).expect("hang");
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(describe(&o).contains("symlink"), "{}", describe(&o));

    let fresh = a.p("store2");
    std::fs::create_dir_all(fresh.join("blobs")).unwrap();
    let empty_outside = a.p("outside2");
    std::fs::create_dir(&empty_outside).unwrap();
    std::os::unix::fs::symlink(&empty_outside, fresh.join("blobs/sha256")).unwrap();
    let o = bp(&["publish", "--store", fresh.to_str().unwrap(), &a.s("att")]);
    assert_ne!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(describe(&o).contains("symlink"), "{}", describe(&o));
    assert_eq!(
        std::fs::read_dir(&empty_outside).unwrap().count(),
        0,
        "publish wrote through a symlinked blobs/sha256"
    );
}

// ------------------------------------ no write through a planted link (item 8)

#[test]
fn fetch_does_not_follow_a_planted_temporary_symlink() {
    let a = attested();
    let store = a.s("store");
    let o = bp(&["publish", "--store", &store, &a.s("att")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    // In a new PID namespace `bakeproof` is PID 1, so the temporary names
    // of a writer that uses its PID are known: plant them all.
    let out = a.p("fetched");
    std::fs::create_dir(&out).unwrap();
    let decoy = a.p("decoy");
    std::fs::write(&decoy, b"decoy").unwrap();
    for n in [
        "sbom.sigstore.json",
        "seal.sigstore.json",
        "store-index.json",
    ] {
        std::os::unix::fs::symlink(&decoy, out.join(format!(".{n}.tmp.1"))).unwrap();
    }
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--"]).arg(bakeproof_bin());
    let args = strings(&[
        "fetch",
        "--store",
        &store,
        "--ami",
        AMI_A,
        "-o",
        out.to_str().unwrap(),
    ]);
    let o = bp_guarded_cmd(c, &args, &[], Duration::from_secs(60)).expect("hang");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        std::fs::read(&decoy).unwrap(),
        b"decoy",
        "fetch wrote through a planted symlink"
    );
    for n in [
        "sbom.sigstore.json",
        "seal.sigstore.json",
        "store-index.json",
    ] {
        let m = std::fs::symlink_metadata(out.join(n)).unwrap();
        assert!(m.is_file(), "{n} is not a regular file");
    }
    check_fetched(&a, &out, AMI_A);
}

#[test]
fn attest_key_generate_and_diff_do_not_write_through_planted_links() {
    let a = attested();
    let decoy = a.p("decoy");
    std::fs::write(&decoy, b"decoy").unwrap();

    // attest -o: a symlink planted under a bundle's name.
    let out = a.p("att2");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&decoy, out.join("seal.sigstore.json")).unwrap();
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
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        std::fs::read(&decoy).unwrap(),
        b"decoy",
        "attest -o wrote through a symlink"
    );
    assert!(
        std::fs::symlink_metadata(out.join("seal.sigstore.json"))
            .unwrap()
            .is_file()
    );
    let o = bp(&[
        "verify-attestation",
        "--key",
        &a.s("cosign.pub"),
        "--ami",
        AMI_A,
        out.join("seal.sigstore.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // key generate: a dangling symlink planted under the public key's name.
    let kd = a.p("keys");
    std::fs::create_dir(&kd).unwrap();
    let target = a.p("created-through-link");
    std::os::unix::fs::symlink(&target, kd.join("cosign.pub")).unwrap();
    let o = bp(&["key", "generate", "--output-dir", kd.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(
        std::fs::symlink_metadata(&target).is_err(),
        "key generate wrote the public key through a symlink"
    );
    assert!(
        !kd.join("cosign.key").exists(),
        "a key without its public half"
    );

    // diff -o: the output name is a hard link to another file; the diff
    // replaces the name, the other file keeps its content.
    let report = a.p("diff.txt");
    std::fs::hard_link(&decoy, &report).unwrap();
    let sbom = a.s("sbom.cdx.json");
    let o = bp(&["diff", &sbom, &sbom, "-o", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        std::fs::read(&decoy).unwrap(),
        b"decoy",
        "diff -o wrote into a shared inode"
    );
    assert_ne!(std::fs::read(&report).unwrap(), b"decoy");
}

#[test]
fn publish_never_creates_a_temporary_name_in_the_store() {
    use rustix::fs::inotify;
    let a = attested();
    let store = a.p("store");
    let dirs = [
        store.join("blobs/sha256"),
        store.join("amis/us-east-1/ami-0123456789abcdef0"),
        store.join("amis/eu-west-1/ami-0fedcba9876543210"),
    ];
    let ino =
        inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).unwrap();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
        inotify::add_watch(
            &ino,
            d,
            inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO,
        )
        .unwrap();
    }
    let o = bp(&["publish", "--store", store.to_str().unwrap(), &a.s("att")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 1 << 16];
    let mut r = inotify::Reader::new(&ino, &mut buf);
    let mut names = Vec::new();
    while let Ok(ev) = r.next() {
        if let Some(n) = ev.file_name() {
            names.push(n.to_string_lossy().into_owned());
        }
    }
    // Every name that ever appeared is a final one: a kill at any moment
    // leaves nothing else behind.
    assert_eq!(names.len(), 4, "{names:?}");
    for n in &names {
        let hex = n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(
            hex || n == "index.json",
            "a temporary name appeared: {n:?} ({names:?})"
        );
    }
}

/// Every command that opens a store takes the same `--endpoint-url` and
/// `--region`, and refuses an endpoint with a store that is not `s3://`:
/// before, `publish --store my-bucket --endpoint-url ...` wrote a local
/// directory named `my-bucket`, and `diff` had no such flags at all.
#[test]
fn s3_endpoint_with_a_local_store_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("my-bucket");
    let (store_s, out) = (
        store.to_str().unwrap().to_string(),
        dir.path().join("out").to_str().unwrap().to_string(),
    );
    let ami = "us-east-1:ami-0123456789abcdef0";
    let key = dir.path().join("cosign.pub");
    std::fs::write(&key, b"not a key").unwrap();
    let key = key.to_str().unwrap().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["publish", "--store", &store_s, &out],
        vec!["fetch", "--store", &store_s, "--ami", ami, "-o", &out],
        vec!["verify", "--store", &store_s, "--ami", ami, "--key", &key],
        vec!["diff", "--store", &store_s, "--key", &key, ami, ami],
    ];
    for c in &cases {
        let mut args: Vec<&str> = c.clone();
        args.extend([
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
        ]);
        let o = Command::new(bakeproof_bin()).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("s3://BUCKET"), "{args:?}: {err}");
        assert!(!store.exists(), "{args:?} created {}", store.display());
    }
}

/// Issue 13, item 5: an SBOM over the inline limit (lowered here with
/// `--inline-sbom-max` rather than a 4 MiB fixture) is attested with the
/// standard CycloneDX predicate type, published and fetched with the SBOM it
/// pins, and verified through the store fail-closed: `fetch` +
/// `verify-attestation` check the SBOM beside the bundle, `diff REGION:AMI`
/// reads it from the store by its signed digest, and an SBOM swapped in the
/// store is refused.
#[test]
fn large_sbom_by_reference_through_a_store_is_checked_by_its_signed_digest() {
    let a = attest_inputs(PASSWORD);
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
        "--inline-sbom-max",
        "1000",
        "-o",
        &a.s("att"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(a.p("att/sbom.cdx.json").is_file());
    let store = a.s("store");
    let o = bp(&["publish", "--store", &store, &a.s("att")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("stored  blob")
            .count(),
        3,
        "{}",
        describe(&o)
    );

    // fetch: the bundles and the SBOM; the SBOM bundle is of the CycloneDX
    // type and verifies with the SBOM found beside it.
    let out = a.p("fetched");
    let o = bp(&[
        "fetch",
        "--store",
        &store,
        "--ami",
        AMI_A,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("store-index.json")).unwrap()).unwrap();
    let types: Vec<&str> = idx["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["predicate_type"].as_str())
        .collect();
    assert!(types.contains(&"https://cyclonedx.org/bom"), "{idx}");
    assert!(!types.iter().any(|t| t.contains("sbom-ref")), "{idx}");
    let bundle = out.join("sbom.sigstore.json");
    let verify_fetched = || {
        bp(&[
            "verify-attestation",
            "--key",
            &a.s("cosign.pub"),
            "--ami",
            AMI_A,
            bundle.to_str().unwrap(),
        ])
    };
    let o = verify_fetched();
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(
        describe(&o).contains("verified: https://cyclonedx.org/bom")
            && describe(&o).contains("SBOM sbom.cdx.json matches"),
        "{}",
        describe(&o)
    );
    // The fetched SBOM altered: the bundle is INVALID.
    let sbom = std::fs::read(a.p("sbom.cdx.json")).unwrap();
    let mut altered = sbom.clone();
    altered.push(b'\n');
    std::fs::write(out.join("sbom.cdx.json"), &altered).unwrap();
    let o = verify_fetched();
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        describe(&o).contains("SBOM digest mismatch"),
        "{}",
        describe(&o)
    );

    // diff REGION:AMI reads the pinned SBOM from the store: no change
    // against the SBOM itself.
    let diff = || {
        bp(&[
            "diff",
            AMI_A,
            &a.s("sbom.cdx.json"),
            "--store",
            &store,
            "--key",
            &a.s("cosign.pub"),
            "--format",
            "json",
        ])
    };
    let o = diff();
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["summary"]["added"], 0, "{d}");
    assert_eq!(d["summary"]["removed"], 0, "{d}");
    assert_eq!(d["summary"]["modified_files"], 0, "{d}");

    // The SBOM's blob swapped in the store (same name, other bytes): refused,
    // nothing diffed.
    let sha = sha256_file(&a.p("sbom.cdx.json"));
    let blob = a.p(&format!("store/blobs/sha256/{sha}"));
    assert!(blob.is_file(), "{}", blob.display());
    std::fs::write(&blob, &altered).unwrap();
    let o = diff();
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(o.stdout.is_empty(), "{}", describe(&o));
    assert!(describe(&o).contains(&sha), "{}", describe(&o));
}
