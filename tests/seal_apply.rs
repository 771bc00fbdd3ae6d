//! End-to-end `bakeproof seal apply`: modes, exit codes, JSON, and a root
//! whose symlinks lead to the host.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::run::bakeproof;

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

/// Runs `sh -c SCRIPT bakeproof ARGS...` in a private mount namespace
/// (`unshare -m`, propagation private): mounts made there vanish with it and
/// are never seen outside the test. `$0` in SCRIPT is the bakeproof binary.
fn in_mount_ns(script: &str, args: &[&OsStr]) -> (i32, String, String) {
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .arg(common::run::bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .expect("run unshare");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn steps_at<'a>(v: &'a serde_json::Value, key: &str, path: &str) -> Vec<&'a serde_json::Value> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"] == path)
        .collect()
}

/// Bind mounts of a directory outside the root, on the same filesystem (same
/// `st_dev`), at `tmp/src`, `var/log/host` and `etc`, and of a single
/// outside file at `var/log/file.log`: apply never enters nor changes them
/// (they are left, named as mount points) and seals the rest.
#[test]
fn bind_mounts_of_outside_paths_are_never_entered() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    let r = t.path().join("root");
    write(&outside, "host.log", "host log\n");
    write(&outside, "host.log.1", "host rotated\n");
    write(&outside, "decoy/tree/file", "decoy\n");
    write(&outside, "machine-id", "0123456789abcdef0123456789abcdef\n");
    write(t.path(), "outside.log", "outside file\n");
    write(&r, "var/log/syslog", "live\n");
    write(&r, "var/log/file.log", "");
    write(&r, "tmp/junk", "junk\n");
    fs::create_dir_all(r.join("tmp/src")).unwrap();
    fs::create_dir_all(r.join("var/log/host")).unwrap();
    fs::create_dir_all(r.join("etc")).unwrap();
    let before = snapshot(t.path());
    let script = r#"set -e
mount --bind "$1" "$2/tmp/src"
mount --bind "$1" "$2/var/log/host"
mount --bind "$1" "$2/etc"
mount --bind "$3" "$2/var/log/file.log"
exec "$0" seal apply "$2" --yes --only tmp,logs,machine-id --format json"#;
    let (code, out, err) = in_mount_ns(
        script,
        &[
            outside.as_os_str(),
            r.as_os_str(),
            t.path().join("outside.log").as_os_str(),
        ],
    );
    let after = snapshot(t.path());
    for (p, d) in &before {
        if p.starts_with("outside") || p == Path::new("outside.log") {
            assert_eq!(
                after.get(p),
                Some(d),
                "{} changed:\n{out}{err}",
                p.display()
            );
        }
    }
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for p in ["/tmp/src", "/var/log/host", "/etc", "/var/log/file.log"] {
        let s = steps_at(&v, "results", p);
        assert!(
            s.len() == 1
                && s[0]["action"] == "leave"
                && s[0]["reason"].as_str().unwrap().contains("mount point"),
            "{p}: {s:?}\n{out}"
        );
    }
    // The root's own files are sealed.
    assert_eq!(fs::metadata(r.join("var/log/syslog")).unwrap().len(), 0);
    assert!(!r.join("tmp/junk").exists());
}

/// `/tmp` on its own filesystem (a tmpfs) is not the root's: `seal check`
/// does not look inside it and `seal apply` does not change it, one rule
/// for both.
#[test]
fn tmp_on_its_own_mount_check_and_apply_agree() {
    let t = tempfile::tempdir().unwrap();
    let r = &t.path().join("root");
    write(r, "var/tmp/old", "old\n");
    fs::create_dir_all(r.join("tmp")).unwrap();
    let script = r#"set -e
mount -t tmpfs none "$1/tmp"
echo x > "$1/tmp/x"
mkdir "$1/tmp/d"
echo y > "$1/tmp/d/y"
"$0" seal check "$1" --format json > "$2/check.json" || true
"$0" seal apply "$1" --yes --only tmp --format json > "$2/apply.json"
test -f "$1/tmp/x" && test -f "$1/tmp/d/y""#;
    let (code, out, err) = in_mount_ns(script, &[r.as_os_str(), t.path().as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    let check: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(t.path().join("check.json")).unwrap()).unwrap();
    let apply: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(t.path().join("apply.json")).unwrap()).unwrap();
    let tmp = check["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "tmp")
        .unwrap();
    let listed: BTreeSet<&str> = tmp["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let changed: BTreeSet<&str> = apply["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "leave")
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed, changed, "check:\n{tmp}\napply:\n{apply}");
    assert_eq!(changed, BTreeSet::from(["/var/tmp/old"]));
    let s = steps_at(&apply, "results", "/tmp");
    assert!(s.len() == 1 && s[0]["action"] == "leave", "{apply}");
    assert!(!r.join("var/tmp/old").exists());
}

/// A tree for the root-swap test: `etc/machine-id` and 50 logs, named after
/// `tag` so a plan made on one tree does not name the other's logs.
fn swap_tree(dir: &Path, tag: &str) {
    let _ = fs::remove_dir_all(dir);
    write(dir, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    write(dir, "tag", tag);
    for i in 0..50 {
        write(dir, &format!("var/log/{tag}-{i}.log"), "line\n");
    }
}

/// `untouched`, `sealed` (machine-id and every log empty) or `mixed`.
fn swap_state(dir: &Path) -> (String, &'static str) {
    let tag = fs::read_to_string(dir.join("tag")).unwrap();
    let mut sizes = vec![fs::metadata(dir.join("etc/machine-id")).unwrap().len()];
    for i in 0..50 {
        sizes.push(
            fs::metadata(dir.join(format!("var/log/{tag}-{i}.log")))
                .unwrap()
                .len(),
        );
    }
    let state = if sizes.iter().all(|&s| s > 0) {
        "untouched"
    } else if sizes.iter().all(|&s| s == 0) {
        "sealed"
    } else {
        "mixed"
    };
    (tag, state)
}

/// Swaps two paths in a loop until `stop` exists (a hang guard bounds the
/// loop): `exchange` = renameat2(RENAME_EXCHANGE) of two directories,
/// `retarget` = the symlink `a` atomically repointed to `b`, then `c`, ...
const SWAPPER: &str = r#"
import ctypes, os, sys
mode, a, b, c, stop, started = sys.argv[1:7]
libc = ctypes.CDLL(None, use_errno=True)
open(started, "w").close()
n = 0
while not os.path.exists(stop) and n < 50_000_000:
    if mode == "exchange":
        if libc.renameat2(-100, a.encode(), -100, b.encode(), 2) != 0:
            raise OSError(ctypes.get_errno(), "renameat2")
    else:
        tmp = a + ".tmp"
        os.symlink(b if n % 2 == 0 else c, tmp)
        os.replace(tmp, a)
    n += 1
print(n)
"#;

fn python() -> String {
    std::env::var("BAKEPROOF_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// While `seal apply` runs, the root's path keeps naming another directory
/// (exchanged with a decoy, or a root symlink repointed). Every run must
/// plan and apply on one and the same directory: afterwards one tree is
/// wholly sealed and the other untouched (or, when the root changed before
/// planning began, apply refuses and both are untouched); never a tree with
/// some files sealed and others not.
fn root_swap(mode: &str) {
    let t = tempfile::tempdir().unwrap();
    let base = t.path();
    let (a, d) = (base.join("a"), base.join("d"));
    let link = base.join("link");
    let mut swapped_runs = 0;
    for run_no in 0..30 {
        swap_tree(&a, "a");
        swap_tree(&d, "d");
        let (stop, started) = (base.join("stop"), base.join("started"));
        let _ = fs::remove_file(&stop);
        let _ = fs::remove_file(&started);
        let root = if mode == "exchange" {
            a.clone()
        } else {
            let _ = fs::remove_file(&link);
            symlink(&a, &link).unwrap();
            link.clone()
        };
        let (x, y) = if mode == "exchange" {
            (a.clone(), d.clone())
        } else {
            (link.clone(), d.clone())
        };
        let swapper = Command::new(python())
            .args(["-c", SWAPPER, mode])
            .args([&x, &y, &a, &stop, &started])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        for _ in 0..2000 {
            if started.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(started.exists(), "swapper did not start");
        let (code, out, err) = run(&[
            "seal".as_ref(),
            "apply".as_ref(),
            root.as_os_str(),
            "--yes".as_ref(),
            "--only".as_ref(),
            "machine-id,logs".as_ref(),
        ]);
        fs::write(&stop, "").unwrap();
        let o = swapper.wait_with_output().unwrap();
        assert!(o.status.success(), "swapper failed");
        let n: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        if n > 0 {
            swapped_runs += 1;
        }
        let mut states: Vec<(String, &str)> = vec![swap_state(&a), swap_state(&d)];
        states.sort();
        let ok = match code {
            0 => {
                states.iter().filter(|s| s.1 == "sealed").count() == 1
                    && states.iter().filter(|s| s.1 == "untouched").count() == 1
            }
            _ => {
                err.contains("root directory changed") && states.iter().all(|s| s.1 == "untouched")
            }
        };
        assert!(
            ok,
            "run {run_no} ({mode}, {n} swaps): {states:?}\nexit {code}\n{out}{err}"
        );
    }
    assert!(swapped_runs > 0, "the swapper never ran");
}

#[test]
fn root_exchanged_while_applying_changes_one_tree_only() {
    root_swap("exchange");
}

#[test]
fn root_symlink_repointed_while_applying_changes_one_tree_only() {
    root_swap("retarget");
}

/// `var/log/hl.log` hard-linked to a file outside the root (what a `cp -al`
/// snapshot looks like): apply never truncates the shared content; the link
/// in the root is replaced by a new empty file of the same owner and mode.
#[test]
fn hard_linked_files_are_replaced_not_truncated() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("root");
    let outside = t.path().join("outside.log");
    write(t.path(), "outside.log", "outside content\n");
    fs::create_dir_all(r.join("var/log")).unwrap();
    fs::create_dir_all(r.join("etc")).unwrap();
    fs::hard_link(&outside, r.join("var/log/hl.log")).unwrap();
    write(t.path(), "outside-id", "0123456789abcdef0123456789abcdef\n");
    fs::hard_link(t.path().join("outside-id"), r.join("etc/machine-id")).unwrap();
    fs::set_permissions(
        r.join("etc/machine-id"),
        std::os::unix::fs::PermissionsExt::from_mode(0o444),
    )
    .unwrap();
    let (code, out, err) = run(&[
        "seal".as_ref(),
        "apply".as_ref(),
        r.as_os_str(),
        "--yes".as_ref(),
        "--only".as_ref(),
        "logs,machine-id".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(
        fs::read_to_string(&outside).unwrap(),
        "outside content\n",
        "{out}{err}"
    );
    assert_eq!(
        fs::read_to_string(t.path().join("outside-id")).unwrap(),
        "0123456789abcdef0123456789abcdef\n"
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for p in ["/var/log/hl.log", "/etc/machine-id"] {
        let s = steps_at(&v, "results", p);
        assert!(
            s.len() == 1 && s[0]["action"] == "replace-empty" && s[0]["outcome"] == "applied",
            "{p}: {s:?}"
        );
    }
    for p in ["var/log/hl.log", "etc/machine-id"] {
        let m = fs::symlink_metadata(r.join(p)).unwrap();
        assert!(m.is_file() && m.len() == 0 && m.nlink() == 1, "{p}: {m:?}");
    }
    let m = fs::metadata(r.join("etc/machine-id")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o444);
    assert_eq!(
        fs::read_dir(r.join("etc")).unwrap().count(),
        1,
        "no temporary left"
    );
}
