//! The `ssh-host-keys` check on a root in a tempdir: a test key made with
//! `ssh-keygen -t ed25519` (its fingerprint and the SHA-256 of its `.pub`
//! file as `ssh-keygen -l` and `sha256sum` printed them: the oracles).

use std::path::Path;

use bakeproof_diff::SealReportError;
use bakeproof_index::Root;
use bakeproof_seal::{HostKey, SealReport};

use super::{TREE, file_component, sbom, seal_report};
use crate::HostKeyAge;
use crate::checks::host_keys::check;
use crate::checks::seal::read;
use crate::report::{Check, HostKeyInfo};

const PUB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBNgkyJHDmvtsOEj5K5i+nt3Ducf8eabcDCQa3J5dUKt k\n";
const PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACATYJMiRw5r7bDhI+SuYvp7dw7nH/Hmm3AwkGtyeXVCrQAAAIisAx03rAMd
NwAAAAtzc2gtZWQyNTUxOQAAACATYJMiRw5r7bDhI+SuYvp7dw7nH/Hmm3AwkGtyeXVCrQ
AAAEDuv0r9c6TKtbZvhZkJY0uFMYHBmoKDA7m06UZYhOO0wBNgkyJHDmvtsOEj5K5i+nt3
Ducf8eabcDCQa3J5dUKtAAAAAWsBAgME
-----END OPENSSH PRIVATE KEY-----
";
const FINGERPRINT: &str = "SHA256:qObMy3LZx9fgvcRpOK3uzIdSl6NWnk+tfN2kv6UHCB8";
const PUB_SHA256: &str = "05c93d8f6840c479c1bc008337cdbafbcdf063a320cc8fb52abced068cc6d3a4";

fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, body) in files {
        let p = d.path().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    d
}

fn report(host_keys: Vec<HostKey>) -> Result<SealReport, SealReportError> {
    let mut v = seal_report(TREE, &[("machine-id", "pass")], None);
    v["host_keys"] = serde_json::to_value(host_keys).unwrap();
    read(&v)
}

/// Runs the check on `dir` with an attested SBOM listing `attested`
/// (path, SHA-256) and a reference time `since`.
fn run(
    dir: &Path,
    report: &Result<SealReport, SealReportError>,
    attested: &[(&str, &str)],
    since: Option<i64>,
) -> (Check, Vec<HostKeyInfo>) {
    let doc = sbom(
        TREE,
        attested.iter().map(|(p, h)| file_component(p, h)).collect(),
    );
    let s = bakeproof_diff::parse(&doc).unwrap();
    let files = s.file_map().unwrap();
    check(
        &Root::open(dir).unwrap(),
        report,
        &files,
        HostKeyAge::Launch,
        since,
    )
}

fn fails(c: &Check, needle: &str) {
    super::assert_failed(c, "ssh-host-keys", needle);
}

#[test]
fn fresh_keys_pass_and_are_listed_once_per_key() {
    let d = root_with(&[
        ("/etc/ssh/ssh_host_ed25519_key", PRIVATE),
        ("/etc/ssh/ssh_host_ed25519_key.pub", PUB),
        ("/etc/ssh/sshd_config", "Port 22\n"),
    ]);
    let (c, live) = run(d.path(), &report(Vec::new()), &[], Some(0));
    assert!(c.ok, "{c:?}");
    assert!(c.detail.starts_with("1 live host key(s)"), "{c:?}");
    assert!(
        c.detail
            .contains("none older than this instance's launch (0)"),
        "{c:?}"
    );
    assert_eq!(
        live,
        [HostKeyInfo {
            path: "/etc/ssh/ssh_host_ed25519_key.pub".into(),
            key_type: "ssh-ed25519".into(),
            fingerprint: FINGERPRINT.into(),
        }]
    );
    // The private key alone: its public half is the one listed.
    std::fs::remove_file(d.path().join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap();
    let (c, live) = run(d.path(), &report(Vec::new()), &[], None);
    assert!(c.ok, "{c:?}");
    assert!(
        c.detail.contains("key age not checked (no launch time"),
        "{c:?}"
    );
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].path, "/etc/ssh/ssh_host_ed25519_key");
    assert_eq!(live[0].fingerprint, FINGERPRINT);
}

#[test]
fn a_key_identical_to_an_attested_file_fails() {
    let d = root_with(&[("/etc/ssh/ssh_host_ed25519_key.pub", PUB)]);
    let attested = [("/etc/ssh/ssh_host_ed25519_key.pub", PUB_SHA256)];
    let (c, _) = run(d.path(), &report(Vec::new()), &attested, None);
    fails(
        &c,
        "/etc/ssh/ssh_host_ed25519_key.pub is byte-identical to the attested /etc/ssh/ssh_host_ed25519_key.pub",
    );
    // The same digest under another attested name (not a host key file):
    // not a host key of the image.
    let (c, _) = run(
        d.path(),
        &report(Vec::new()),
        &[("/etc/motd", PUB_SHA256)],
        None,
    );
    assert!(c.ok, "{c:?}");
}

#[test]
fn a_key_whose_fingerprint_was_baked_fails() {
    let d = root_with(&[("/etc/ssh/ssh_host_ed25519_key.pub", PUB)]);
    let baked = HostKey {
        path: "/etc/ssh/ssh_host_ed25519_key".into(),
        public_path: None,
        key_type: Some("ssh-ed25519".into()),
        bits: Some(256),
        fingerprint: Some(FINGERPRINT.into()),
    };
    let (c, _) = run(d.path(), &report(vec![baked.clone()]), &[], None);
    fails(
        &c,
        &format!("{FINGERPRINT} (baked as /etc/ssh/ssh_host_ed25519_key)"),
    );
    // Another baked key: this one is fresh.
    let other = HostKey {
        fingerprint: Some("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        ..baked
    };
    let (c, _) = run(d.path(), &report(vec![other]), &[], None);
    assert!(c.ok, "{c:?}");
    assert!(c.detail.contains("none among the 1 baked"), "{c:?}");
}

#[test]
fn a_key_older_than_the_reference_time_fails() {
    let d = root_with(&[("/etc/ssh/ssh_host_ed25519_key.pub", PUB)]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // Made now; the instance launched an hour from now: not made for it.
    let (c, _) = run(d.path(), &report(Vec::new()), &[], Some(now + 3600));
    fails(
        &c,
        &format!("older than this instance's launch ({})", now + 3600),
    );
    fails(&c, "/etc/ssh/ssh_host_ed25519_key.pub (mtime ");
    // Launched an hour ago: fresh.
    let (c, _) = run(d.path(), &report(Vec::new()), &[], Some(now - 3600));
    assert!(c.ok, "{c:?}");
    // Back-dated mtime (an old copy): stale although the ctime is new.
    let f = std::fs::File::options()
        .write(true)
        .open(d.path().join("etc/ssh/ssh_host_ed25519_key.pub"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(978_307_200))
        .unwrap();
    let (c, _) = run(d.path(), &report(Vec::new()), &[], Some(now - 3600));
    fails(&c, "(mtime 978307200");
}

#[test]
fn no_readable_seal_report_fails() {
    let d = root_with(&[("/etc/ssh/ssh_host_ed25519_key.pub", PUB)]);
    let mut v = seal_report(TREE, &[("machine-id", "pass")], None);
    v.as_object_mut().unwrap().remove("host_keys");
    let (c, live) = run(d.path(), &read(&v), &[], None);
    fails(&c, "nothing to compare the live keys with");
    fails(&c, "host_keys");
    assert!(live.is_empty());
    // No /etc/ssh at all, with a report: nothing to judge, a pass.
    let empty = root_with(&[("/etc/hostname", "h\n")]);
    let (c, live) = run(empty.path(), &report(Vec::new()), &[], Some(0));
    assert!(c.ok && live.is_empty(), "{c:?}");
}
