//! `bakeproof scan IMAGE`, `verify-packages IMAGE` and `seal check IMAGE`
//! on disk images made by the real tools from the fixture roots: a root
//! filesystem by `mke2fs -d` (ext4) or `mkfs.xfs -p` (XFS, from a
//! protofile), placed in a GPT or MBR disk partitioned by `sfdisk` next to
//! a swap partition (`mkswap`), converted to qcow2 by `qemu-img`. The oracle
//! is the scan of the directory the image was made from: every component
//! of the SBOM (packages, files, digests, ownership), the tree digest, the
//! `verify-packages` lines and the seal checks must be the same. Damaged
//! images must fail with a clear error, never a panic.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::run::{bakeproof, describe, extract, scan_to_json};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A partition image of `root` made by `mke2fs -d`.
fn ext4_image(root: &Path, out: &Path) {
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-d"])
        .arg(root)
        .arg(out)
        .arg("64M"));
}

fn proto_mode(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::FileTypeExt as _;
    let ft = meta.file_type();
    let t = if ft.is_dir() {
        'd'
    } else if ft.is_symlink() {
        'l'
    } else if ft.is_file() {
        '-'
    } else if ft.is_fifo() {
        'p'
    } else if ft.is_char_device() {
        'c'
    } else {
        'b'
    };
    let m = meta.mode();
    format!(
        "{t}{}{}{:03o} {} {}",
        if m & 0o4000 != 0 { 'u' } else { '-' },
        if m & 0o2000 != 0 { 'g' } else { '-' },
        m & 0o777,
        meta.uid(),
        meta.gid()
    )
}

/// A partition image of `root` in XFS: `mkfs.xfs -p PROTOFILE` makes the
/// root directory with the source's owner and mode (a protofile cannot say
/// hard links, xattrs or names with spaces, which the fixture roots have:
/// crates/bakeproof-image/tests/xfs.rs tests the protofile's entries), then
/// the whole tree is copied in with `cp -a` through a loop mount in a
/// private mount namespace (root, a loop device and the kernel's xfs).
fn xfs_image(root: &Path, out: &Path) {
    let meta = fs::metadata(root).unwrap();
    let mut proto = b"/dev/null\n0 0\n".to_vec();
    proto.extend_from_slice(proto_mode(&meta).as_bytes());
    proto.push(b'\n');
    proto.extend_from_slice(b"$\n");
    let pf = out.with_extension("proto");
    fs::write(&pf, proto).unwrap();
    run(Command::new("truncate").args(["-s", "320M"]).arg(out));
    run(Command::new("mkfs.xfs")
        .args(["-q", "-f", "-p"])
        .arg(&pf)
        .arg(out));
    let mnt = out.with_extension("mnt");
    fs::create_dir_all(&mnt).unwrap();
    let script =
        r#"set -e; mount -o loop "$1" "$2"; cp -a --sparse=always "$3/." "$2/"; umount "$2""#;
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh"])
        .arg(out)
        .arg(&mnt)
        .arg(root)
        .output()
        .expect("unshare (util-linux)");
    assert!(
        o.status.success(),
        "loop-mounting the XFS image in a private mount namespace (root, a loop device and \
         the kernel's xfs are needed): {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A disk with `label` (`gpt` or `dos`): a 4 MiB swap partition, then
/// `fs` in the second partition; returns the disk's path.
fn disk_with(fs_img: &Path, label: &str, out: &Path) -> PathBuf {
    let fs_len = fs::metadata(fs_img).unwrap().len();
    let mib = 1 << 20;
    let size = mib + 4 * mib + fs_len.div_ceil(mib) * mib + 2 * mib;
    run(Command::new("truncate")
        .arg("-s")
        .arg(size.to_string())
        .arg(out));
    let script = match label {
        "gpt" => format!(
            "label: gpt\nstart=2048, size=8192, type=swap, name=swap\nstart=10240, size={}, type=linux, name=root\n",
            fs_len / 512
        ),
        _ => format!(
            "label: dos\nstart=2048, size=8192, type=82\nstart=10240, size={}, type=83\n",
            fs_len / 512
        ),
    };
    let mut child = Command::new("sfdisk")
        .arg("-q")
        .arg(out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sfdisk (fdisk; tests/run-all.sh installs it)");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "sfdisk: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The swap partition: a real mkswap signature, which is not a root.
    let swap = out.with_extension("swap");
    run(Command::new("truncate").args(["-s", "4M"]).arg(&swap));
    run(Command::new("mkswap").arg("-q").arg(&swap));
    for (img, sector) in [(&swap, 2048u64), (&fs_img.to_path_buf(), 10240)] {
        run(Command::new("dd")
            .arg(format!("if={}", img.display()))
            .arg(format!("of={}", out.display()))
            .args(["bs=512", "conv=notrunc,sparse", "status=none"])
            .arg(format!("seek={sector}")));
    }
    out.to_path_buf()
}

/// The tree digest: the SBOM's `metadata.component` hash (docs/formats.md).
fn tree_digest(doc: &serde_json::Value) -> String {
    let h = &doc["metadata"]["component"]["hashes"][0];
    assert_eq!(h["alg"], "SHA-256", "{h}");
    h["content"].as_str().expect("a tree digest").to_owned()
}

/// The SBOM's components, without mke2fs's own `/lost+found`.
fn components(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] != "/lost+found")
        .cloned()
        .collect()
}

/// The image's scan must be the directory's: components, dependencies,
/// tree digest.
fn assert_same_sbom(dir: &serde_json::Value, img: &serde_json::Value, what: &str) {
    let (a, b) = (components(dir), components(img));
    assert!(
        a.iter().any(|c| c["type"] == "library"),
        "{what}: the directory scan found no packages"
    );
    assert_eq!(a.len(), b.len(), "{what}: component count");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x, y,
            "{what}: a component differs (left: directory, right: image)"
        );
    }
    assert_eq!(
        dir["dependencies"], img["dependencies"],
        "{what}: dependencies"
    );
    assert_eq!(tree_digest(dir), tree_digest(img), "{what}: tree digest");
}

fn scan(target: &Path, out: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let (code, doc, stderr) = scan_to_json(target, out, extra);
    assert_eq!(code, 0, "scan {}: {stderr}", target.display());
    (doc, stderr)
}

#[test]
fn a_dpkg_root_in_ext4_on_gpt_and_in_qcow2_scans_as_its_directory() {
    let root = extract("dpkgroot/clean.tar.gz");
    // What the seal report's first-boot baseline records under the paths
    // first boot may change: a script, a unit, a cron link, an ELF.
    let r = root.path();
    for d in ["var/tmp", "var/cache/x/cron.d", "var/log/sub"] {
        fs::create_dir_all(r.join(d)).unwrap();
    }
    fs::write(r.join("var/tmp/dropper"), b"#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(r.join("var/tmp/dropper"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(r.join("var/log/sub/evil.service"), b"[Service]\n").unwrap();
    fs::write(r.join("var/cache/x/libx.so.1"), b"\x7fELF....").unwrap();
    std::os::unix::fs::symlink("/var/tmp/dropper", r.join("var/cache/x/cron.d/job")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.ext4");
    ext4_image(root.path(), &part);
    let disk = disk_with(&part, "gpt", &w.join("disk.img"));

    let (want, _) = scan(root.path(), &w.join("dir.json"), &[]);
    let (got, stderr) = scan(&disk, &w.join("disk.json"), &[]);
    assert_same_sbom(&want, &got, "GPT raw disk");
    // It says what it found and what it chose.
    assert!(stderr.contains("partition table gpt"), "{stderr}");
    assert!(stderr.contains("partition 1: swap"), "{stderr}");
    assert!(
        stderr.contains("scanning partition 2: ext4") && stderr.contains("/etc/os-release"),
        "{stderr}"
    );

    // The bare partition image, and qcow2 (compressed and not).
    let (got, _) = scan(&part, &w.join("part.json"), &[]);
    assert_same_sbom(&want, &got, "partition image");
    for (name, extra) in [("disk.qcow2", &[][..]), ("disk-c.qcow2", &["-c"][..])] {
        let q = w.join(name);
        run(Command::new("qemu-img")
            .args(["convert", "-O", "qcow2"])
            .args(extra)
            .arg(&disk)
            .arg(&q));
        let (got, stderr) = scan(&q, &w.join(format!("{name}.json")), &[]);
        assert!(stderr.contains("qcow2 image"), "{stderr}");
        assert_same_sbom(&want, &got, name);
    }

    // --partition: the swap partition is no filesystem; 2 is the root.
    let (got, _) = scan(&disk, &w.join("p2.json"), &["--partition", "2"]);
    assert_same_sbom(&want, &got, "--partition 2");
    let o = bakeproof(&[
        "scan".as_ref(),
        disk.as_os_str(),
        "--partition".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        w.join("p1.json").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("partition 1 holds no filesystem"),
        "{}",
        describe(&o)
    );

    // verify-packages and seal check read the image as the directory.
    for cmd in [
        &["verify-packages"][..],
        &["seal", "check", "--format", "json"][..],
    ] {
        let on = |target: &Path| {
            let mut args: Vec<&OsStr> = cmd.iter().map(OsStr::new).collect();
            args.push(target.as_os_str());
            bakeproof(&args)
        };
        let (a, b) = (on(root.path()), on(&disk));
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "{cmd:?}: {}",
            describe(&b)
        );
        let norm = |o: &std::process::Output, target: &Path| {
            let text =
                String::from_utf8_lossy(&o.stdout).replace(&*target.to_string_lossy(), "TARGET");
            match serde_json::from_str::<serde_json::Value>(&text) {
                // The seal report counts the entries it saw: the image has
                // mke2fs's /lost+found too.
                Ok(mut v) => {
                    assert!(
                        v["baseline"]["state"].as_array().unwrap().len() >= 3,
                        "{}",
                        v["baseline"]
                    );
                    let n = v["scan"]["entries"].as_u64().unwrap();
                    v["scan"]["entries"] = if target == disk { n - 1 } else { n }.into();
                    serde_json::to_string_pretty(&v).unwrap()
                }
                Err(_) => text,
            }
        };
        assert_eq!(norm(&a, root.path()), norm(&b, &disk), "{cmd:?}");
    }
}

#[test]
fn a_tampered_dpkg_root_in_an_mbr_disk_verifies_as_dpkg_does() {
    let root = extract("dpkgroot/tampered.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.ext4");
    ext4_image(root.path(), &part);
    let disk = disk_with(&part, "dos", &w.join("mbr.img"));
    let o = bakeproof(&["verify-packages".as_ref(), disk.as_os_str()]);
    // dpkg --verify's own lines for this root (fixtures/dpkgroot).
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        common::run::verify_oracle("dpkgroot/expected-verify.txt"),
        "{}",
        describe(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("partition table mbr") || o.stderr.is_empty(),
        "{}",
        describe(&o)
    );
}

#[test]
fn an_rpm_root_in_xfs_scans_as_its_directory() {
    let root = extract("rpmroot/clean.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.xfs");
    xfs_image(root.path(), &part);
    let disk = disk_with(&part, "dos", &w.join("xfs.img"));
    let (want, _) = scan(root.path(), &w.join("dir.json"), &[]);
    // No /etc/os-release in this root: the one filesystem is the root.
    let (got, stderr) = scan(&disk, &w.join("xfs.json"), &[]);
    assert!(stderr.contains("scanning partition 2: xfs"), "{stderr}");
    assert_same_sbom(&want, &got, "XFS on MBR");
    let a = bakeproof(&["verify-packages".as_ref(), root.path().as_os_str()]);
    let b = bakeproof(&["verify-packages".as_ref(), disk.as_os_str()]);
    assert_eq!(a.stdout, b.stdout, "{}", describe(&b));
}

#[test]
fn damaged_images_fail_cleanly() {
    let root = extract("dpkgroot/clean.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.ext4");
    ext4_image(root.path(), &part);
    let disk = disk_with(&part, "gpt", &w.join("disk.img"));
    let bytes = fs::read(&disk).unwrap();
    let fs_at = 10240 * 512;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Cut in the middle of the superblock, and after the group
        // descriptors but before the inode tables.
        ("truncated-superblock", bytes[..fs_at + 1500].to_vec()),
        ("truncated-metadata", bytes[..fs_at + (40 << 10)].to_vec()),
        // The ext superblock's block count zeroed.
        ("superblock", {
            let mut b = bytes.clone();
            b[fs_at + 1024 + 4..fs_at + 1024 + 8].fill(0);
            b
        }),
        // Everything after the superblock overwritten: group descriptors,
        // bitmaps, inode tables.
        ("garbage", {
            let mut b = bytes.clone();
            for (i, x) in b[fs_at + 2048..fs_at + (1 << 20)].iter_mut().enumerate() {
                *x = (i * 131 % 251) as u8;
            }
            b
        }),
    ];
    for (name, b) in cases {
        let p = w.join(format!("{name}.img"));
        fs::write(&p, b).unwrap();
        let o = bakeproof(&[
            "scan".as_ref(),
            p.as_os_str(),
            "-q".as_ref(),
            "-o".as_ref(),
            w.join(format!("{name}.json")).as_os_str(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{name}: {}", describe(&o));
        // Either a clean refusal (2) or a scan that records what it could
        // not read (3, incomplete): never 0 with the damage unsaid.
        assert!(
            matches!(o.status.code(), Some(2) | Some(3)),
            "{name}: {}",
            describe(&o)
        );
    }
}

/// Runs `bakeproof ARGS` against the moto server at `url` (EBS and EC2).
fn bakeproof_aws(url: &str, args: &[&OsStr]) -> std::process::Output {
    let mut c = Command::new(common::run::bakeproof_bin());
    common::moto::test_aws_env(&mut c)
        .env("AWS_ENDPOINT_URL", url)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .args(args);
    c.output().expect("run bakeproof")
}

#[test]
fn an_ebs_snapshot_and_an_ami_scan_as_their_directory() {
    let root = extract("dpkgroot/clean.tar.gz");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.ext4");
    ext4_image(root.path(), &part);
    let disk = disk_with(&part, "gpt", &w.join("disk.img"));
    let (want, _) = scan(root.path(), &w.join("dir.json"), &[]);

    let moto = common::moto::Moto::start_ebs(&[]);
    // The disk in a snapshot, through the EBS direct APIs (boto3).
    let python = common::schema::bakeproof_python().unwrap();
    let put = Command::new(python)
        .arg(common::schema::repo_root().join("tests/tools/ebs_put_image.py"))
        .arg(&disk)
        .arg(moto.url())
        .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
        .output()
        .unwrap();
    assert!(put.status.success(), "{}", describe(&put));
    let put: serde_json::Value = serde_json::from_slice(&put.stdout).unwrap();
    let snap = put["snapshot"].as_str().unwrap().to_string();
    let blocks = put["blocks"].as_u64().unwrap();
    // An AMI whose root device is that snapshot.
    let ami = moto.py(&format!(
        "print(ec2.register_image(Name='images-e2e', RootDeviceName='/dev/xvda', \
         BlockDeviceMappings=[{{'DeviceName': '/dev/xvda', 'Ebs': {{'SnapshotId': '{snap}'}}}}])['ImageId'])"
    ));
    let ami = ami.trim();

    for (target, name) in [
        (format!("ebs:{snap}"), "ebs.json"),
        (format!("ami:us-east-1:{ami}"), "ami.json"),
    ] {
        let out = w.join(name);
        let o = bakeproof_aws(
            &moto.url(),
            &[
                "scan".as_ref(),
                target.as_ref(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{target}: {}", describe(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("scanning partition 2: ext4"), "{err}");
        // Each allocated block once at most, and never an unallocated one.
        let fetched: u64 = err
            .lines()
            .filter(|l| l.contains("blocks fetched"))
            .find_map(|l| l.strip_prefix(&format!("bakeproof: ebs:{snap}: ")))
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no fetch report: {err}"));
        assert!(
            fetched > 0 && fetched <= blocks,
            "{fetched} of {blocks}: {err}"
        );
        let got = common::run::read_json(&out);
        assert_same_sbom(&want, &got, &target);
    }

    // A snapshot or AMI that does not exist: a clear error, exit 2.
    for target in [
        "ebs:snap-0123456789abcdef0",
        "ami:us-east-1:ami-0123456789abcdef0",
    ] {
        let o = bakeproof_aws(
            &moto.url(),
            &["scan".as_ref(), target.as_ref(), "-q".as_ref()],
        );
        assert_eq!(o.status.code(), Some(2), "{target}: {}", describe(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("not found") || err.contains("no such image"),
            "{target}: {err}"
        );
    }
}

#[test]
fn an_ami_with_all_volumes_scans_as_the_tree_its_fstab_mounts() {
    // The root (the dpkg fixture) mounts a second volume at /data by label.
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    fs::create_dir_all(r.join("data")).unwrap();
    let mut fstab = fs::read(r.join("etc/fstab")).unwrap_or_default();
    fstab.extend_from_slice(b"LABEL=appdata /data ext4 defaults,nofail 0 2\n");
    fs::write(r.join("etc/fstab"), &fstab).unwrap();
    let data = tempfile::tempdir().unwrap();
    fs::create_dir_all(data.path().join("app/bin")).unwrap();
    fs::write(
        data.path().join("app/bin/server"),
        b"#!/bin/sh\nexec true\n",
    )
    .unwrap();
    fs::write(data.path().join("app/config.toml"), b"port = 8080\n").unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let part = w.join("root.ext4");
    ext4_image(r, &part);
    let disk = disk_with(&part, "gpt", &w.join("disk.img"));
    let data_img = w.join("data.ext4");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-L", "appdata", "-d"])
        .arg(data.path())
        .arg(&data_img)
        .arg("16M"));
    // mke2fs stamps the new root directory (its /lost+found made last)
    // with the time of mkfs, not the source's: give it the source's, as
    // the copy below keeps it, so that /data's mtime compares.
    let secs = fs::metadata(data.path()).unwrap().mtime();
    run(Command::new("debugfs")
        .args(["-w", "-R", &format!("sif / mtime @{secs}")])
        .arg(&data_img));
    // The oracle: one directory holding both, as the instance sees it.
    let combined = tempfile::tempdir().unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", r.display()))
        .arg(combined.path()));
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", data.path().display()))
        .arg(combined.path().join("data")));
    let (want, _) = scan(combined.path(), &w.join("dir.json"), &[]);

    let moto = common::moto::Moto::start_ebs(&[]);
    let python = common::schema::bakeproof_python().unwrap();
    let put = |img: &Path| {
        let o = Command::new(&python)
            .arg(common::schema::repo_root().join("tests/tools/ebs_put_image.py"))
            .arg(img)
            .arg(moto.url())
            .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", describe(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["snapshot"].as_str().unwrap().to_string()
    };
    let (root_snap, data_snap) = (put(&disk), put(&data_img));
    let ami = moto.py(&format!(
        "print(ec2.register_image(Name='images-volumes', RootDeviceName='/dev/xvda', \
         BlockDeviceMappings=[{{'DeviceName': '/dev/xvda', 'Ebs': {{'SnapshotId': '{root_snap}'}}}}, \
         {{'DeviceName': '/dev/xvdb', 'Ebs': {{'SnapshotId': '{data_snap}'}}}}])['ImageId'])"
    ));
    let target = format!("ami:us-east-1:{}", ami.trim());
    let out = w.join("ami.json");
    let o = bakeproof_aws(
        &moto.url(),
        &[
            "scan".as_ref(),
            target.as_ref(),
            "--all-volumes".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/data"), "the mount is said: {err}");
    let got = common::run::read_json(&out);
    let names: Vec<&str> = got["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"/data/app/bin/server"), "{names:?}");
    // Both filesystems have their own /lost+found: the data volume's is
    // /data/lost+found, which the directory does not have.
    let strip = |doc: &serde_json::Value| {
        let mut d = doc.clone();
        d["components"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["name"] != "/data/lost+found");
        d
    };
    let (a, b) = (components(&strip(&want)), components(&strip(&got)));
    assert_eq!(a.len(), b.len(), "component count");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "a component differs (left: directory, right: AMI)");
    }
    // Without --all-volumes the root alone: /data is its empty mount point.
    let o = bakeproof_aws(
        &moto.url(),
        &[
            "scan".as_ref(),
            target.as_ref(),
            "-o".as_ref(),
            w.join("root-only.json").as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let root_only = common::run::read_json(&w.join("root-only.json"));
    assert!(
        !root_only["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "/data/app/bin/server")
    );
}
