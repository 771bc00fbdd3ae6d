//! `bakeproof seal check` end to end: dirty roots built with real
//! `ssh-keygen` keys (fingerprints compared with `ssh-keygen -l`), clean
//! roots with decoys, package-owned files, symlinks out of the root, and the
//! JSON report validated against `schemas/seal-report.schema.json`.

mod common;

use std::ffi::OsStr;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use common::run::{bakeproof, extract};
use common::schema::validate_with_schema;
use serde_json::Value;

const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn ssh_keygen(args: &[&str]) -> String {
    let o = Command::new("ssh-keygen")
        .args(args)
        .output()
        .expect("ssh-keygen (openssh-client) is installed by tests/run-all.sh");
    assert!(o.status.success(), "ssh-keygen {args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// `ssh-keygen -l -f FILE` → (bits, fingerprint, type) — the oracle.
fn keygen_fingerprint(file: &Path) -> (u32, String, String) {
    let out = ssh_keygen(&["-l", "-f", file.to_str().unwrap()]);
    let f: Vec<&str> = out.split_whitespace().collect();
    let ty = f.last().unwrap().trim_matches(['(', ')']).to_owned();
    (f[0].parse().unwrap(), f[1].to_owned(), ty)
}

/// Runs `seal check ROOT --format json [extra]` → (exit code, report, stdout).
fn check_json(root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args: Vec<&OsStr> = vec![
        "seal".as_ref(),
        "check".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let o = bakeproof(&args);
    let stdout = String::from_utf8(o.stdout).unwrap();
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    if let Err(errors) = validate_with_schema("seal-report.schema.json", &doc) {
        panic!("report invalid against its schema: {errors:#?}\n{stdout}");
    }
    (o.status.code().unwrap(), doc, stdout)
}

fn check_text(root: &Path, extra: &[&str]) -> (i32, String) {
    let mut args: Vec<&OsStr> = vec!["seal".as_ref(), "check".as_ref(), root.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let o = bakeproof(&args);
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
    )
}

fn check<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn status<'a>(doc: &'a Value, id: &str) -> &'a str {
    check(doc, id)["status"].as_str().unwrap()
}

/// (path, kind, detail) of a check's findings.
fn findings(doc: &Value, id: &str) -> Vec<(String, String, String)> {
    check(doc, id)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
                f["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(doc: &Value, id: &str, path: &str, kind: &str) -> bool {
    findings(doc, id)
        .iter()
        .any(|(p, k, _)| p == path && k == kind)
}

/// A root as a Packer build leaves it when nobody seals it.
fn dirty_root(r: &Path) {
    write(r, "etc/passwd", b"root:x:0:0:root:/root:/bin/bash\nec2-user:x:1000:1000::/home/ec2-user:/bin/bash\nsvc:x:999:999::/srv/svc:/usr/sbin/nologin\n");
    write(r, "etc/machine-id", b"4c4c4544004d3510804bb4c04f563432\n");
    write(
        r,
        "var/lib/dbus/machine-id",
        b"4c4c4544004d3510804bb4c04f563432\n",
    );
    std::fs::create_dir_all(r.join("etc/ssh")).unwrap();
    for t in ["ed25519", "rsa", "ecdsa"] {
        let f = r.join(format!("etc/ssh/ssh_host_{t}_key"));
        ssh_keygen(&[
            "-q",
            "-t",
            t,
            "-N",
            "",
            "-C",
            "root@build",
            "-f",
            f.to_str().unwrap(),
        ]);
    }
    // An RSA host key without its .pub: fingerprint from the private key.
    std::fs::remove_file(r.join("etc/ssh/ssh_host_rsa_key.pub")).unwrap();
    // Packer's temporary key, left in the build user's authorized_keys.
    let tmp = tempfile::tempdir().unwrap();
    let k = tmp.path().join("packer");
    ssh_keygen(&[
        "-q",
        "-t",
        "rsa",
        "-b",
        "2048",
        "-N",
        "",
        "-C",
        "packer_6571a2b3-1c2d",
        "-f",
        k.to_str().unwrap(),
    ]);
    let packer_pub = std::fs::read(k.with_extension("pub")).unwrap();
    write(r, "home/ec2-user/.ssh/authorized_keys", &packer_pub);
    std::fs::copy(k.with_extension("pub"), r.join("packer.pub.oracle")).unwrap();
    // The builder's own private key.
    std::fs::create_dir_all(r.join("root/.ssh")).unwrap();
    let id = r.join("root/.ssh/id_ed25519");
    ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", id.to_str().unwrap()]);
    // cloud-init that already ran.
    write(
        r,
        "var/lib/cloud/instances/i-0123456789abcdef0/boot-finished",
        b"1\n",
    );
    write(
        r,
        "var/lib/cloud/instances/i-0123456789abcdef0/sem/config_ssh",
        b"x\n",
    );
    write(
        r,
        "var/lib/cloud/data/instance-id",
        b"i-0123456789abcdef0\n",
    );
    write(r, "var/lib/cloud/sem/config_scripts_per_once.once", b"x\n");
    symlink(
        "/var/lib/cloud/instances/i-0123456789abcdef0",
        r.join("var/lib/cloud/instance"),
    )
    .unwrap();
    write(r, "var/lib/cloud/seed/nocloud/meta-data", b"");
    // Histories.
    write(
        r,
        "root/.bash_history",
        b"export AWS_SECRET_ACCESS_KEY=oops\n",
    );
    write(r, "home/ec2-user/.python_history", b"import os\n");
    write(r, "srv/svc/.viminfo", b"# viminfo\n");
    write(r, "home/ec2-user/.zsh_history", b"");
    // Logs, tmp, caches, random seed, network identity.
    write(r, "var/log/cloud-init.log", b"boot\n");
    write(r, "var/log/journal/0123/system.journal", b"LPKSHHRH");
    write(r, "var/log/empty.log", b"");
    write(r, "tmp/packer-shell123.sh", b"#!/bin/sh\n");
    write(r, "var/tmp/build/x", b"x");
    write(r, "var/cache/apt/archives/curl_8.0_amd64.deb", b"!<arch>\n");
    write(r, "var/cache/apt/archives/lock", b"");
    write(
        r,
        "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
        b"x",
    );
    write(r, "var/lib/apt/lists/lock", b"");
    write(r, "var/cache/dnf/updates.solv", b"x");
    write(r, "var/lib/systemd/random-seed", &[7u8; 512]);
    write(r, "var/lib/dhcp/dhclient.eth0.leases", b"lease {}\n");
    write(r, "run/systemd/netif/leases/2", b"ADDRESS=10.0.0.5\n");
    write(
        r,
        "etc/udev/rules.d/70-persistent-net.rules",
        b"SUBSYSTEM==\"net\", ATTR{address}==\"0a:1b:2c:3d:4e:5f\", NAME=\"eth0\"\n",
    );
    write(
        r,
        "etc/netplan/50-cloud-init.yaml",
        b"network:\n  ethernets:\n    ens5:\n      match:\n        macaddress: 0a:1b:2c:3d:4e:5f\n",
    );
    write(
        r,
        "etc/sysconfig/network-scripts/ifcfg-eth0",
        b"DEVICE=eth0\nHWADDR=0a:1b:2c:3d:4e:5f\n",
    );
    // Secrets.
    write(
        r,
        "root/.aws/credentials",
        format!("[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n")
            .as_bytes(),
    );
    write(
        r,
        "opt/app/deploy.py",
        format!("ID = '{AWS_ID}'\nKEY = '{AWS_SECRET}'\n").as_bytes(),
    );
    write(
        r,
        "etc/default/app",
        b"DB_PASSWORD=hunter2\nAPI_TOKEN=${FROM_VAULT}\nEMPTY_SECRET=\n",
    );
    write(r, "opt/app/.env", b"export STRIPE_API_KEY='sk_live_abc'\n");
    write(
        r,
        "root/.netrc",
        b"machine git.example.com login builder password s3cr3t\n",
    );
    write(
        r,
        "home/ec2-user/.git-credentials",
        b"https://builder:ghp_tokentokentoken@github.com\n",
    );
    write(r, "root/.docker/config.json", br#"{"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {"auth": "QVdTOnBhc3N3b3Jk"}}}"#);
    write(
        r,
        "etc/ssl/private/app.key",
        b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n",
    );
}

#[test]
fn dirty_root_fails_with_evidence_and_never_prints_a_secret() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    dirty_root(r);
    let (code, doc, stdout) = check_json(r, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(doc["status"], "unsealed");
    assert_eq!(
        doc["timestamp"], "2024-01-01T00:00:00Z",
        "SOURCE_DATE_EPOCH"
    );
    for id in [
        "machine-id",
        "ssh-host-keys",
        "ssh-authorized-keys",
        "cloud-init",
        "secrets",
    ] {
        assert_eq!(status(&doc, id), "fail", "{id}: {stdout}");
    }
    for id in [
        "shell-history",
        "logs",
        "tmp",
        "package-cache",
        "random-seed",
        "network-identity",
    ] {
        assert_eq!(status(&doc, id), "warn", "{id}: {stdout}");
    }

    assert!(has(&doc, "machine-id", "/etc/machine-id", "machine-id"));
    assert!(has(
        &doc,
        "machine-id",
        "/var/lib/dbus/machine-id",
        "machine-id"
    ));

    // Fingerprints: exactly ssh-keygen -l's, for the .pub and for the
    // private key alone (rsa has no .pub).
    let host_keys = doc["host_keys"].as_array().unwrap();
    assert_eq!(host_keys.len(), 3, "{host_keys:?}");
    for t in ["ed25519", "rsa", "ecdsa"] {
        let path = format!("/etc/ssh/ssh_host_{t}_key");
        let (bits, fp, ty) = keygen_fingerprint(&r.join(&path[1..]));
        let hk = host_keys
            .iter()
            .find(|k| k["path"] == path.as_str())
            .unwrap();
        assert_eq!(hk["fingerprint"], fp.as_str(), "{t}");
        assert_eq!(hk["bits"], bits, "{t}");
        let detail = findings(&doc, "ssh-host-keys")
            .into_iter()
            .find(|(p, _, _)| *p == path)
            .unwrap()
            .2;
        assert_eq!(detail, format!("{bits} {fp} {ty}"), "{t}");
        assert_eq!(hk["public_path"].is_null(), t == "rsa");
    }
    assert!(has(
        &doc,
        "ssh-host-keys",
        "/etc/ssh/ssh_host_ed25519_key.pub",
        "host-public-key"
    ));

    let (_, packer_fp, _) = keygen_fingerprint(&r.join("packer.pub.oracle"));
    let ak = findings(&doc, "ssh-authorized-keys");
    assert_eq!(ak.len(), 1, "{ak:?}");
    assert_eq!(ak[0].0, "/home/ec2-user/.ssh/authorized_keys");
    assert_eq!(ak[0].2, format!("ssh-rsa {packer_fp} packer_6571a2b3-1c2d"));

    let ci = "/var/lib/cloud";
    assert!(has(
        &doc,
        "cloud-init",
        &format!("{ci}/instance"),
        "instance"
    ));
    assert!(has(
        &doc,
        "cloud-init",
        &format!("{ci}/instances/i-0123456789abcdef0"),
        "instance-state"
    ));
    assert!(has(
        &doc,
        "cloud-init",
        &format!("{ci}/instances/i-0123456789abcdef0/boot-finished"),
        "boot-finished"
    ));
    assert!(has(
        &doc,
        "cloud-init",
        &format!("{ci}/data/instance-id"),
        "data"
    ));
    assert!(has(
        &doc,
        "cloud-init",
        &format!("{ci}/sem/config_scripts_per_once.once"),
        "semaphore"
    ));
    assert!(
        !findings(&doc, "cloud-init")
            .iter()
            .any(|f| f.0.contains("/seed"))
    );

    let hist: Vec<String> = findings(&doc, "shell-history")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(
        hist,
        [
            "/home/ec2-user/.python_history",
            "/root/.bash_history",
            "/srv/svc/.viminfo"
        ]
    );
    let logs: Vec<String> = findings(&doc, "logs").into_iter().map(|f| f.0).collect();
    assert_eq!(
        logs,
        [
            "/var/log/cloud-init.log",
            "/var/log/journal/0123/system.journal"
        ]
    );
    assert!(has(&doc, "tmp", "/tmp/packer-shell123.sh", "tmp"));
    assert!(has(&doc, "tmp", "/var/tmp/build", "tmp"));
    for (p, k) in [
        ("/var/cache/apt/archives", "apt-archives"),
        ("/var/lib/apt/lists", "apt-lists"),
        ("/var/cache/dnf", "dnf-cache"),
    ] {
        assert!(has(&doc, "package-cache", p, k), "{p}");
    }
    assert!(has(
        &doc,
        "random-seed",
        "/var/lib/systemd/random-seed",
        "random-seed"
    ));
    for (p, k) in [
        ("/var/lib/dhcp/dhclient.eth0.leases", "dhcp-lease"),
        ("/run/systemd/netif/leases/2", "dhcp-lease"),
        (
            "/etc/udev/rules.d/70-persistent-net.rules",
            "udev-persistent-net",
        ),
        ("/etc/netplan/50-cloud-init.yaml", "mac-address"),
        ("/etc/sysconfig/network-scripts/ifcfg-eth0", "mac-address"),
    ] {
        assert!(has(&doc, "network-identity", p, k), "{p}: {stdout}");
    }

    for (p, k) in [
        ("/root/.aws/credentials", "aws-credentials-file"),
        ("/root/.aws/credentials", "aws-access-key"),
        ("/opt/app/deploy.py", "aws-access-key"),
        ("/etc/default/app", "secret-assignment"),
        ("/opt/app/.env", "secret-assignment"),
        ("/root/.netrc", "netrc-password"),
        ("/home/ec2-user/.git-credentials", "git-credentials"),
        ("/root/.docker/config.json", "registry-auth"),
        ("/etc/ssl/private/app.key", "private-key"),
        ("/root/.ssh/id_ed25519", "private-key"),
    ] {
        assert!(has(&doc, "secrets", p, k), "{p} {k}: {stdout}");
    }
    let app: Vec<String> = findings(&doc, "secrets")
        .into_iter()
        .filter(|f| f.0 == "/etc/default/app")
        .map(|f| f.2)
        .collect();
    assert_eq!(
        app,
        ["line 1: DB_PASSWORD=<redacted>"],
        "references and empty values are not findings"
    );
    assert!(
        findings(&doc, "secrets")
            .iter()
            .any(|f| f.2.contains("AKIA************MPLE"))
    );
    // SSH host keys are not "secrets" findings (their own check).
    assert!(
        !findings(&doc, "secrets")
            .iter()
            .any(|f| f.0.starts_with("/etc/ssh/"))
    );

    // Masking: no secret value anywhere in either output.
    let (tcode, text) = check_text(r, &[]);
    assert_eq!(tcode, 1);
    for out in [&stdout, &text] {
        for secret in [
            AWS_ID,
            AWS_SECRET,
            "hunter2",
            "sk_live_abc",
            "s3cr3t",
            "ghp_tokentokentoken",
            "QVdTOnBhc3N3b3Jk",
            "MIIEvQIBADANBg",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
    }
    assert!(text.contains("FAIL secrets"), "{text}");
    assert!(text.contains("WARN logs"), "{text}");
    assert!(text.contains("     /etc/machine-id [machine-id]"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("unsealed: 5 fail, 6 warn, 0 pass"),
        "{text}"
    );
}

/// A sealed root, with decoys that mention passwords without holding one.
fn clean_root(r: &Path) {
    write(
        r,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\n",
    );
    write(r, "etc/machine-id", b"");
    std::fs::create_dir_all(r.join("var/lib/dbus")).unwrap();
    symlink("/etc/machine-id", r.join("var/lib/dbus/machine-id")).unwrap();
    write(
        r,
        "etc/ssh/sshd_config",
        b"PasswordAuthentication no\nPermitRootLogin prohibit-password\n#PermitEmptyPasswords no\n",
    );
    write(
        r,
        "etc/ssh/sshd_config.d/50-cloud.conf",
        b"PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
    );
    write(
        r,
        "usr/share/doc/app/README",
        b"Set DB_PASSWORD=yourpassword in /etc/default/app.\nThe password must be long.\n",
    );
    write(
        r,
        "usr/share/doc/app/examples/app.conf",
        b"password = example\n",
    );
    write(
        r,
        "usr/share/man/man5/app.conf.5",
        b".B password\nthe password = secret used by ...\n",
    );
    write(
        r,
        "etc/app/app.conf",
        b"# password = \npassword_file = /run/secrets/db\ntoken = ${APP_TOKEN}\n",
    );
    write(
        r,
        "etc/default/app",
        b"DB_PASSWORD=\"\"\nAPI_TOKEN=$API_TOKEN\n",
    );
    write(
        r,
        "etc/pam.d/common-password",
        b"password [success=1 default=ignore] pam_unix.so obscure yescrypt\n",
    );
    write(
        r,
        "etc/ssl/certs/ca.pem",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    write(
        r,
        "home/admin/.ssh/authorized_keys",
        b"# keys come from cloud-init at boot\n",
    );
    symlink("/dev/null", r.join("home/admin/.bash_history")).unwrap();
    write(r, "var/log/empty.log", b"");
    std::fs::create_dir_all(r.join("tmp")).unwrap();
    std::fs::create_dir_all(r.join("var/tmp")).unwrap();
    std::fs::create_dir_all(r.join("var/lib/cloud/seed")).unwrap();
    write(r, "var/lib/apt/lists/lock", b"");
    std::fs::create_dir_all(r.join("var/lib/apt/lists/partial")).unwrap();
    write(
        r,
        "etc/systemd/network/99-default.link",
        b"[Link]\nMACAddressPolicy=persistent\n",
    );
}

#[test]
fn clean_root_with_decoys_is_sealed() {
    let t = tempfile::tempdir().unwrap();
    clean_root(t.path());
    let (code, doc, stdout) = check_json(t.path(), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(doc["status"], "sealed");
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{stdout}");
    }
    assert_eq!(doc["host_keys"], serde_json::json!([]));
    let (code, text) = check_text(t.path(), &["--strict"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("PASS secrets") && text.contains("sealed: 0 fail, 0 warn, 11 pass"),
        "{text}"
    );
}

#[test]
fn warnings_fail_only_with_strict() {
    let t = tempfile::tempdir().unwrap();
    clean_root(t.path());
    write(t.path(), "var/log/syslog", b"boot\n");
    let (code, doc, _) = check_json(t.path(), &[]);
    assert_eq!((code, doc["status"].as_str()), (0, Some("sealed")));
    assert_eq!(status(&doc, "logs"), "warn");
    let (code, doc, _) = check_json(t.path(), &["--strict"]);
    assert_eq!((code, doc["status"].as_str()), (1, Some("unsealed")));
    assert_eq!(doc["strict"], true);
}

/// Makes `netbase` (of the dpkg fixture) own `path` with `content`, with
/// the md5 dpkg would record: a package file that matches its digest.
fn add_owned_file(r: &Path, path: &str, content: &[u8]) {
    write(r, &path[1..], content);
    let md5 = Command::new("md5sum")
        .arg(r.join(&path[1..]))
        .output()
        .unwrap();
    let md5 = String::from_utf8(md5.stdout).unwrap();
    let md5 = md5.split_whitespace().next().unwrap();
    let info = r.join("var/lib/dpkg/info");
    let mut list = std::fs::read_to_string(info.join("netbase.list")).unwrap();
    list.push_str(&format!(
        "{}\n{path}\n",
        Path::new(path).parent().unwrap().display()
    ));
    std::fs::write(info.join("netbase.list"), list).unwrap();
    let mut sums = std::fs::read_to_string(info.join("netbase.md5sums")).unwrap();
    sums.push_str(&format!("{md5}  {}\n", &path[1..]));
    std::fs::write(info.join("netbase.md5sums"), sums).unwrap();
}

#[test]
fn package_files_matching_their_digest_are_not_reported() {
    let key = b"# test key shipped by the package\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n";
    let fixture = extract("dpkgroot/clean.tar.gz");
    let r = fixture.path();
    // Unmodified fixture: sealed, nothing suppressed.
    let (code, doc, stdout) = check_json(r, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(doc["scan"]["packages"].as_u64().unwrap() >= 5);
    assert_eq!(doc["scan"]["package_files_not_reported"], 0);

    add_owned_file(r, "/usr/share/netbase/test-key.pem", key);
    // Independent check that the package really owns it and it verifies:
    // dpkg --verify's answer through bakeproof verify-packages (no line).
    let v = bakeproof(&["verify-packages".as_ref(), r.as_os_str()]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let (code, doc, stdout) = check_json(r, &[]);
    assert_eq!(code, 0, "owned and matching: the distribution's: {stdout}");
    assert_eq!(doc["scan"]["package_files_not_reported"], 1);

    // The same content where no package owns it: reported.
    write(r, "opt/test-key.pem", key);
    let (code, doc, _) = check_json(r, &[]);
    assert_eq!(code, 1);
    let s = findings(&doc, "secrets");
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(
        (s[0].0.as_str(), s[0].1.as_str()),
        ("/opt/test-key.pem", "private-key")
    );

    // The owned file changed after installation: the builder's, reported.
    std::fs::remove_file(r.join("opt/test-key.pem")).unwrap();
    let mut changed = key.to_vec();
    changed.extend_from_slice(b"# edited\n");
    std::fs::write(r.join("usr/share/netbase/test-key.pem"), changed).unwrap();
    let (code, doc, _) = check_json(r, &[]);
    assert_eq!(code, 1);
    assert!(has(
        &doc,
        "secrets",
        "/usr/share/netbase/test-key.pem",
        "private-key"
    ));
    assert_eq!(doc["scan"]["package_files_not_reported"], 0);
}

#[test]
fn symlinks_out_of_the_root_are_never_followed() {
    let host = tempfile::tempdir().unwrap();
    let secret =
        format!("{AWS_ID}\n{AWS_SECRET}\n-----BEGIN OPENSSH PRIVATE KEY-----\nDB_PASSWORD=host\n");
    write(host.path(), "secret.sh", secret.as_bytes());
    write(
        host.path(),
        "machine-id",
        b"deadbeefdeadbeefdeadbeefdeadbeef\n",
    );
    write(
        host.path(),
        ".ssh/authorized_keys",
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3R78GBF0hkl3KMX1pp4ZzhNlA0hADvre8GHLLOQpsz host\n",
    );
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    clean_root(r);
    let hostfile = host.path().join("secret.sh");
    std::fs::remove_file(r.join("home/admin/.bash_history")).unwrap();
    symlink(&hostfile, r.join("home/admin/.bash_history")).unwrap();
    std::fs::remove_dir(r.join("tmp")).unwrap();
    symlink(host.path(), r.join("tmp")).unwrap();
    symlink(&hostfile, r.join("etc/default/host.sh")).unwrap();
    std::fs::remove_file(r.join("etc/machine-id")).unwrap();
    symlink(host.path().join("machine-id"), r.join("etc/machine-id")).unwrap();
    std::fs::create_dir_all(r.join("root")).unwrap();
    symlink(host.path().join(".ssh"), r.join("root/.ssh")).unwrap();
    std::fs::create_dir_all(r.join("home/admin/.ssh")).unwrap();
    std::fs::remove_file(r.join("home/admin/.ssh/authorized_keys")).unwrap();
    symlink(
        host.path().join(".ssh/authorized_keys"),
        r.join("home/admin/.ssh/authorized_keys"),
    )
    .unwrap();

    let (code, doc, stdout) = check_json(r, &[]);
    // Reported as links, never as the host files' content.
    assert!(
        has(
            &doc,
            "shell-history",
            "/home/admin/.bash_history",
            "symlink"
        ),
        "{stdout}"
    );
    assert!(has(&doc, "tmp", "/tmp", "symlink"), "{stdout}");
    assert!(
        has(&doc, "ssh-authorized-keys", "/root/.ssh", "symlink"),
        "{stdout}"
    );
    assert!(
        has(
            &doc,
            "ssh-authorized-keys",
            "/home/admin/.ssh/authorized_keys",
            "symlink"
        ),
        "{stdout}"
    );
    assert_eq!(
        status(&doc, "machine-id"),
        "pass",
        "the host's machine-id is not the image's"
    );
    assert_eq!(status(&doc, "secrets"), "pass", "{stdout}");
    assert!(
        !stdout.contains("AKIA") && !stdout.contains("authorized-key\""),
        "{stdout}"
    );
    assert_eq!(code, 0, "only warnings: {stdout}");
}

#[test]
fn usage_and_io_errors_exit_2() {
    let o = bakeproof(&[
        "seal".as_ref(),
        "check".as_ref(),
        "/nonexistent/root".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let t = tempfile::tempdir().unwrap();
    let o = bakeproof(&[
        "seal".as_ref(),
        "check".as_ref(),
        t.path().as_os_str(),
        "--format".as_ref(),
        "yaml".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// Runs `seal check ROOT --format json` → (exit code, report, stderr).
fn check_json_stderr(root: &Path) -> (i32, Value, String) {
    let o = bakeproof(&[
        "seal".as_ref(),
        "check".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    if let Err(errors) = validate_with_schema("seal-report.schema.json", &doc) {
        panic!("report invalid against its schema: {errors:#?}\n{stdout}");
    }
    (o.status.code().unwrap(), doc, stderr)
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success(), "mkfifo {}", p.display());
}

/// What the scan could not read is reported, never dropped: a package
/// database or an account file that cannot be read makes `seal check`
/// incomplete (exit 3, the problem named on stderr), as it makes `scan`,
/// while the report is still written. The oracle for each case is the same
/// root without the damage, sealed with exit 0 (so only the damage changes
/// the outcome), and `bakeproof scan`'s own verdict on the damaged root.
#[test]
fn unreadable_package_database_or_accounts_is_reported_exit_3() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 4] = [
        (
            "dpkg status is a FIFO",
            |r| mkfifo(&r.join("var/lib/dpkg/status")),
            "package database: ",
        ),
        (
            "dpkg status is a directory",
            |r| std::fs::create_dir_all(r.join("var/lib/dpkg/status/x")).unwrap(),
            "package database: ",
        ),
        (
            "rpm database is not a database",
            |r| {
                write(
                    r,
                    "var/lib/rpm/rpmdb.sqlite",
                    b"SQLite format 3\0 but corrupt",
                )
            },
            "package database: ",
        ),
        (
            "/etc/group is a FIFO",
            |r| mkfifo(&r.join("etc/group")),
            "accounts: ",
        ),
    ];
    for (what, damage, said) in cases {
        let t = tempfile::tempdir().unwrap();
        clean_root(t.path());
        let (code, doc, stderr) = check_json_stderr(t.path());
        assert_eq!(
            (code, doc["status"].as_str()),
            (0, Some("sealed")),
            "{what}: control: {stderr}"
        );
        damage(t.path());
        let scan = bakeproof(&[
            "scan".as_ref(),
            t.path().as_os_str(),
            "-q".as_ref(),
            "-o".as_ref(),
            "/dev/null".as_ref(),
        ]);
        assert_eq!(scan.status.code(), Some(3), "{what}: scan's verdict");
        let (code, _doc, stderr) = check_json_stderr(t.path());
        assert_eq!(code, 3, "{what}: {stderr}");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("bakeproof: warning: ") && l.contains(said)),
            "{what}: {stderr}"
        );
    }
}

/// Errors name what the user gave, once: a missing root's OS error is not
/// printed twice (a typed error that shows its source and also exposes it),
/// and an output in a missing directory names that directory and the
/// output asked for, not the temporary file bakeproof would have written.
#[test]
fn errors_name_what_was_given_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-root");
    let o = bakeproof(&[OsStr::new("seal"), OsStr::new("check"), missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let os = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(err.matches(os.as_str()).count(), 1, "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");

    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let out = dir.path().join("missing-dir").join("x.json");
    let o = bakeproof(&[
        OsStr::new("scan"),
        root.as_os_str(),
        OsStr::new("-q"),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&out.display().to_string()), "{err}");
    assert!(
        err.contains(&out.parent().unwrap().display().to_string()),
        "{err}"
    );
    assert!(!err.contains(".x.json."), "{err}");
    assert!(!out.parent().unwrap().exists());
}
