//! End-to-end `bakeproof seal apply`: modes, exit codes, JSON, and a root
//! whose symlinks lead to the host.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_e2e::run::bakeproof;

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let head = format!("{:o} {}:{}", m.mode(), m.uid(), m.gid());
            let desc = if m.file_type().is_symlink() {
                format!("link {head} {}", fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                walk(base, &p, out);
                format!("dir {head}")
            } else {
                format!("file {head} {:?}", fs::read(&p).unwrap())
            };
            out.insert(p.strip_prefix(base).unwrap().to_path_buf(), desc);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn dirty(r: &Path) {
    write(r, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    write(
        r,
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\nec2-user:x:1000:1000::/home/ec2-user:/bin/sh\n",
    );
    fs::create_dir_all(r.join("etc/ssh")).unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
        .arg(r.join("etc/ssh/ssh_host_ed25519_key"))
        .status()
        .unwrap();
    assert!(st.success());
    write(
        r,
        "home/ec2-user/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdrPgxur9cbJEpOJPXddcy7YwD8rMkaYLZsKEUMZUci packer_6650f8d2\n",
    );
    write(r, "var/lib/cloud/instances/i-1/boot-finished", "x\n");
    symlink(
        "/var/lib/cloud/instances/i-1",
        r.join("var/lib/cloud/instance"),
    )
    .unwrap();
    write(r, "root/.bash_history", "history\n");
    write(r, "var/log/syslog", "live\n");
    write(r, "var/log/syslog.1", "rotated\n");
    write(r, "tmp/junk", "junk\n");
    write(r, "var/lib/systemd/random-seed", "seed");
    write(r, "var/lib/dhcp/dhclient.leases", "lease\n");
    write(r, "usr/bin/tool", "keep\n");
}

fn run(args: &[&OsStr]) -> (i32, String, String) {
    let out = bakeproof(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn without_yes_nothing_changes() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    dirty(r);
    let before = snapshot(r);
    let root = r.as_os_str();

    let (code, out, err) = run(&["seal".as_ref(), "apply".as_ref(), root]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(out.contains("/etc/machine-id"), "{out}");
    assert_eq!(snapshot(r), before);

    let (code, out, err) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        root,
        "--dry-run".as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    for p in [
        "/etc/ssh/ssh_host_ed25519_key",
        "/var/lib/cloud/instance",
        "/tmp/junk",
        "/var/log/syslog.1",
    ] {
        assert!(out.contains(p), "{p} not listed:\n{out}");
    }
    assert_eq!(snapshot(r), before);

    let (code, out, _) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        root,
        "--dry-run".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--only".as_ref(),
        "tmp,logs".as_ref(),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["mode"], "dry-run");
    assert_eq!(v["operations"], serde_json::json!(["logs", "tmp"]));
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["op"] == "tmp" || s["op"] == "logs")
    );
    assert_eq!(snapshot(r), before);

    for bad in [&["--only", "bogus"][..], &["--dry-run", "--yes"][..]] {
        let mut args: Vec<&OsStr> = vec!["seal".as_ref(), "apply".as_ref(), root];
        args.extend(bad.iter().map(|s| OsStr::new(*s)));
        assert_eq!(run(&args).0, 2, "{bad:?}");
    }
    assert_eq!(snapshot(r), before);
}

#[test]
fn yes_applies_and_reports_json() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    dirty(r);
    let (code, out, err) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        r.as_os_str(),
        "--yes".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "applied");
    assert_eq!(v["failures"], 0);
    assert!(v["bytes_freed"].as_u64().unwrap() > 0);
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["path"] == "/etc/machine-id"
                && x["action"] == "truncate"
                && x["outcome"] == "applied")
    );
    assert_eq!(fs::metadata(r.join("etc/machine-id")).unwrap().len(), 0);
    assert!(!r.join("etc/ssh/ssh_host_ed25519_key").exists());
    assert_eq!(
        fs::metadata(r.join("home/ec2-user/.ssh/authorized_keys"))
            .unwrap()
            .len(),
        0
    );
    assert!(fs::symlink_metadata(r.join("var/lib/cloud/instance")).is_err());
    assert_eq!(fs::metadata(r.join("var/log/syslog")).unwrap().len(), 0);
    assert!(!r.join("var/log/syslog.1").exists());
    assert_eq!(fs::read_dir(r.join("tmp")).unwrap().count(), 0);
    assert!(!r.join("var/lib/systemd/random-seed").exists());
    assert!(!r.join("var/lib/dhcp/dhclient.leases").exists());
    assert_eq!(
        fs::read_to_string(r.join("usr/bin/tool")).unwrap(),
        "keep\n"
    );

    // sealed: nothing left to do.
    let (code, out, _) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        r.as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("0 changes"), "{out}");
}

#[test]
fn host_files_survive_a_hostile_root() {
    let t = tempfile::tempdir().unwrap();
    let host = t.path().join("host");
    let r = t.path().join("root");
    write(&host, "tmp/precious", "host\n");
    write(&host, "file.log", "host log\n");
    write(&host, "history", "host history\n");
    write(&host, "ssh/ssh_host_rsa_key", "host key\n");
    fs::create_dir_all(r.join("var/log")).unwrap();
    fs::create_dir_all(r.join("home/u")).unwrap();
    fs::create_dir_all(r.join("etc")).unwrap();
    symlink(host.join("tmp"), r.join("tmp")).unwrap();
    symlink(host.join("file.log"), r.join("var/log/evil.log")).unwrap();
    symlink(host.join("history"), r.join("home/u/.bash_history")).unwrap();
    symlink(host.join("ssh"), r.join("etc/ssh")).unwrap();
    let before = snapshot(&host);
    let (code, out, err) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        r.as_os_str(),
        "--yes".as_ref(),
    ]);
    assert_eq!(snapshot(&host), before, "host changed:\n{out}{err}");
    // etc/ssh through a symlink is refused: the seal is incomplete.
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("/etc/ssh") && out.contains("INCOMPLETE"),
        "{out}"
    );
}
