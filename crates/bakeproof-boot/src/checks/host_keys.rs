//! The `ssh-host-keys` check. A live `/etc/ssh/ssh_host_*` file fails it
//! when it is byte-identical to any `/etc/ssh/ssh_host_*` file the attested
//! SBOM lists (its SHA-256), when its public key (the `.pub` line, or the
//! one an OpenSSH private key carries) has a fingerprint the seal report
//! lists among the baked `host_keys`, when it cannot be read, or when its
//! mtime or ctime is older than the reference time (such a key was not made
//! for this instance). No readable seal report fails it (nothing to compare
//! with is not a pass). The live public keys are returned so a fleet can
//! find duplicates.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt as _;

use bakeproof_diff::{FileMap, SealReportError};
use bakeproof_index::{Root, RootError, escape_path};
use bakeproof_seal::SealReport;
use bakeproof_types::Sha256Digest;

use crate::config::HostKeyAge;
use crate::report::{Check, HostKeyInfo};

const ID: &str = "ssh-host-keys";

/// Largest SSH host key file read (an RSA-16384 private key is ~13 KiB).
const HOST_KEY_LIMIT: u64 = 1 << 20;

/// Runs the check on `root`. `since`: the time (seconds since the epoch) a
/// live key must be newer than, resolved from `age` (`None`: not known, or
/// not asked; `age` only words the detail).
pub(crate) fn check(
    root: &Root,
    report: &Result<SealReport, SealReportError>,
    attested_files: &FileMap<'_>,
    age: HostKeyAge,
    since: Option<i64>,
) -> (Check, Vec<HostKeyInfo>) {
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            return (
                Check::fail(
                    ID,
                    format!("no readable seal report ({e}): nothing to compare the live keys with"),
                ),
                Vec::new(),
            );
        }
    };
    // Fingerprint -> the baked key's path.
    let baked: BTreeMap<&str, &str> = report
        .host_keys
        .iter()
        .filter_map(|k| Some((k.fingerprint.as_deref()?, k.path.as_str())))
        .collect();
    // SHA-256 (hex) -> the attested /etc/ssh/ssh_host_* file.
    let attested: HashMap<String, String> = attested_files
        .values()
        .filter(|f| f.path.starts_with(b"/etc/ssh/ssh_host_"))
        .filter_map(|f| Some((f.sha256?.to_ascii_lowercase(), escape_path(&f.path))))
        .collect();
    let mut problems = Vec::new();
    let mut old = Vec::new();
    let mut live: BTreeMap<Vec<u8>, HostKeyInfo> = BTreeMap::new();
    let names = match root.read_dir(b"/etc/ssh") {
        Ok(n) => n,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return (Check::fail(ID, format!("/etc/ssh: {e}")), Vec::new()),
    };
    for name in names.iter().filter(|n| n.starts_with(b"ssh_host_")) {
        let mut path = b"/etc/ssh/".to_vec();
        path.extend_from_slice(name);
        let shown = escape_path(&path);
        let b = match root.read_file(&path, HOST_KEY_LIMIT) {
            Ok(b) => b,
            // Not a regular file (a directory named ssh_host_*): no key.
            Err(RootError::NotRegular { .. }) => continue,
            Err(e) => {
                problems.push(format!("{shown}: {e}"));
                continue;
            }
        };
        if let Some(p) = attested.get(&Sha256Digest::of(&b).to_string()) {
            problems.push(format!("{shown} is byte-identical to the attested {p}"));
        }
        let info = if name.ends_with(b".pub") {
            bakeproof_seal::sshkey::parse_public_key_line(String::from_utf8_lossy(&b).trim())
        } else {
            bakeproof_seal::sshkey::public_from_openssh_private(&b)
        };
        if let Some(info) = info {
            if let Some(p) = baked.get(info.fingerprint.as_str()) {
                problems.push(format!("{shown} {} (baked as {p})", info.fingerprint));
            }
            // One entry per key: the .pub file's, else the private key's.
            let stem = name.strip_suffix(b".pub").unwrap_or(name).to_vec();
            if name.ends_with(b".pub") || !live.contains_key(&stem) {
                live.insert(
                    stem,
                    HostKeyInfo {
                        path: shown.clone(),
                        key_type: info.key_type,
                        fingerprint: info.fingerprint,
                    },
                );
            }
        }
        if let Some(t) = since {
            match root.metadata(&path) {
                Ok(m) if m.mtime() < t || m.ctime() < t => old.push(format!(
                    "{shown} (mtime {}, ctime {})",
                    m.mtime(),
                    m.ctime()
                )),
                Ok(_) => {}
                Err(e) => problems.push(format!("{shown}: {e}")),
            }
        }
    }
    let live: Vec<HostKeyInfo> = live.into_values().collect();
    let what = match age {
        HostKeyAge::Launch => "this instance's launch",
        HostKeyAge::Image => "the image's seal",
        HostKeyAge::Off => "",
    };
    if !old.is_empty() {
        problems.push(format!(
            "older than {what} ({}): {}",
            since.unwrap_or_default(),
            old.join(", ")
        ));
    }
    let age_note = match (age, since) {
        (HostKeyAge::Off, _) => "key age not checked (--host-key-age off)".to_string(),
        (HostKeyAge::Launch, None) => {
            "key age not checked (no launch time: --ami given, or IMDS has no pendingTime)"
                .to_string()
        }
        (HostKeyAge::Image, None) => {
            "key age not checked (the seal report has no readable timestamp)".to_string()
        }
        (_, Some(t)) => format!("none older than {what} ({t})"),
    };
    let check = if problems.is_empty() {
        Check::pass(
            ID,
            format!(
                "{} live host key(s), none among the {} baked (seal report) or the {} attested /etc/ssh/ssh_host_* file(s); {age_note}",
                live.len(),
                baked.len(),
                attested.len()
            ),
        )
    } else {
        Check::fail(
            ID,
            format!(
                "baked host key reused, or stale (ghost identity): {}",
                problems.join("; ")
            ),
        )
    };
    (check, live)
}
