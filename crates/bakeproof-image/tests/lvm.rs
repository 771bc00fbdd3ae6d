//! LVM2 physical volumes made by the real tools (lvm2: pvcreate, vgcreate,
//! lvcreate, lvextend on loop devices; needs root and `losetup`), read by
//! `lvm::read_pv` and compared with `pvs`/`lvs --reportformat json`; the
//! linear volumes' bytes (an ext4 image and a pattern, written at the
//! extents `lvs -o seg_pe_ranges` names) read back through `lvm::open_lv`.
//!
//! This machine's kernel has no device-mapper, so the volumes are created
//! with `--driverloaded n -an -Zn` (metadata only) and their bytes written
//! to the PV where LVM's report says they live; with device-mapper the
//! same bytes would be what /dev/<vg>/<lv> shows.

use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bakeproof_image::ImageError;
use bakeproof_image::block::{BlockSource, FileSource, SharedSource};
use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::FsReader as _;
use bakeproof_image::lvm;

const CONFIG: &str = "--config=activation{udev_sync=0 udev_rules=0 monitoring=0} devices{obtain_device_list_from_udev=0}";

fn lvm_cmd(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .arg(CONFIG)
        .args(&args[1..])
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .output()
        .map_err(|e| format!("{args:?}: {e} (tests/run-all.sh installs lvm2)"))?;
    if !out.status.success() {
        return Err(format!(
            "{args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn lvm_ok(args: &[&str]) -> String {
    lvm_cmd(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Loop devices and a VG, removed whatever happens.
struct Pvs {
    vg: String,
    loops: Vec<String>,
    _dir: tempfile::TempDir,
    files: Vec<PathBuf>,
}

impl Pvs {
    fn new(n: usize, size: u64) -> Pvs {
        let dir = tempfile::tempdir().unwrap();
        let vg = format!(
            "bkp{}x{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut pvs = Pvs {
            vg,
            loops: Vec::new(),
            files: Vec::new(),
            _dir: dir,
        };
        for i in 0..n {
            let f = pvs._dir.path().join(format!("pv{i}.img"));
            std::fs::File::create(&f).unwrap().set_len(size).unwrap();
            let out = Command::new("losetup")
                .args(["-f", "--show"])
                .arg(&f)
                .output()
                .expect("losetup (util-linux)");
            assert!(
                out.status.success(),
                "loop devices are not usable here (this test needs root and a free /dev/loopN to run pvcreate): losetup -f --show: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            pvs.loops
                .push(String::from_utf8_lossy(&out.stdout).trim().to_string());
            pvs.files.push(f);
        }
        pvs
    }
}

impl Drop for Pvs {
    fn drop(&mut self) {
        let _ = lvm_cmd(&["vgremove", "-f", "-q", &self.vg]);
        for l in &self.loops {
            let _ = lvm_cmd(&["pvremove", "-q", "-y", l]);
            let _ = Command::new("losetup").arg("-d").arg(l).status();
        }
    }
}

fn json(out: &str, kind: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v["report"][0][kind].as_array().unwrap().clone()
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

/// Byte `i` of the pattern LV `lv`.
fn pattern(lv: u8, i: u64) -> u8 {
    (i.wrapping_mul(0x9e37_79b9) >> 13) as u8 ^ lv
}

#[test]
fn linear_volumes_of_a_real_pv() {
    let pvs = Pvs::new(2, 96 << 20);
    let (l0, l1, vg) = (
        pvs.loops[0].as_str(),
        pvs.loops[1].as_str(),
        pvs.vg.as_str(),
    );
    let lv_create = |args: &[&str]| {
        let mut a = vec!["lvcreate", "--driverloaded", "n", "-an", "-Zn", "-q"];
        a.extend_from_slice(args);
        lvm_ok(&a);
    };
    lvm_ok(&["pvcreate", "-q", l0, l1]);
    lvm_ok(&["vgcreate", "-q", "-s", "4M", vg, l0, l1]);
    lv_create(&["-L", "8M", "-n", "fs", vg, l0]);
    lv_create(&["-L", "12M", "-n", "data", vg, l0]);
    lvm_ok(&[
        "lvextend",
        "--driverloaded",
        "n",
        "-q",
        "-L",
        "+8M",
        &format!("{vg}/fs"),
        l0,
    ]);
    lv_create(&[
        "-i", "2", "-I", "64k", "-L", "8M", "-n", "stripes", vg, l0, l1,
    ]);
    lv_create(&["-L", "8M", "-n", "other", vg, l1]);

    // The oracles.
    let pv_report = json(
        &lvm_ok(&[
            "pvs",
            "--reportformat",
            "json",
            "-o",
            "pv_name,pv_uuid,vg_name,pe_start",
            "--units",
            "b",
            "--nosuffix",
            l0,
        ]),
        "pv",
    );
    let pv_uuid = pv_report[0]["pv_uuid"].as_str().unwrap().to_string();
    let pe_start = num(&pv_report[0]["pe_start"]);
    let extent = num(&json(
        &lvm_ok(&[
            "vgs",
            "--reportformat",
            "json",
            "-o",
            "vg_extent_size",
            "--units",
            "b",
            "--nosuffix",
            vg,
        ]),
        "vg",
    )[0]["vg_extent_size"]);
    let segs = json(
        &lvm_ok(&[
            "lvs",
            "-a",
            "--segments",
            "--reportformat",
            "json",
            "-o",
            "lv_name,lv_size,seg_start,seg_size,seg_pe_ranges,segtype,stripes",
            "--units",
            "b",
            "--nosuffix",
            vg,
        ]),
        "seg",
    );

    let pv: SharedSource = Arc::new(FileSource::open(&pvs.files[0]).unwrap());
    let got = lvm::read_pv(&pv).unwrap();
    assert_eq!(got.vg, vg);
    assert_eq!(got.pv_uuid, pv_uuid);
    let mut names: Vec<&str> = segs
        .iter()
        .map(|s| s["lv_name"].as_str().unwrap())
        .collect();
    names.dedup();
    let mut ours: Vec<&str> = got.lvs.iter().map(|l| l.name.as_str()).collect();
    names.sort();
    ours.sort();
    assert_eq!(ours, names);
    for lv in &got.lvs {
        let mine: Vec<&serde_json::Value> = segs
            .iter()
            .filter(|s| s["lv_name"] == lv.name.as_str())
            .collect();
        assert_eq!(lv.vg, vg);
        assert_eq!(lv.len, num(&mine[0]["lv_size"]), "{}", lv.name);
        let linear_here = mine.iter().all(|s| {
            s["segtype"] == "linear"
                && s["seg_pe_ranges"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{l0}:"))
        });
        let expected: Vec<(u64, u64, u64)> = if linear_here {
            mine.iter()
                .map(|s| {
                    let range = s["seg_pe_ranges"].as_str().unwrap();
                    let first: u64 = range
                        .rsplit(':')
                        .next()
                        .unwrap()
                        .split('-')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    (
                        num(&s["seg_start"]),
                        num(&s["seg_size"]),
                        pe_start + first * extent,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        assert_eq!(lv.segments, expected, "{}", lv.name);
        match lv.name.as_str() {
            "stripes" => assert_eq!(lv.layout, "striped"),
            _ => assert_eq!(lv.layout, "linear", "{}", lv.name),
        }
        if !linear_here {
            assert!(
                matches!(
                    lvm::open_lv(pv.clone(), lv),
                    Err(ImageError::Unsupported(_))
                ),
                "{}",
                lv.name
            );
        }
    }
    assert_eq!(
        got.lvs
            .iter()
            .find(|l| l.name == "fs")
            .unwrap()
            .segments
            .len(),
        2
    );

    // Write the LVs' bytes where LVM's report puts them: an ext4 image in
    // `fs` (two segments), a pattern in `data`.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/os-release"), "ID=bakeproof-lvm-test\n").unwrap();
    let fs_img = dir.path().join("fs.img");
    let out = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-d"])
        .arg(&tree)
        .arg(&fs_img)
        .arg("16M")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("mke2fs");
    assert!(out.success());
    let fs_bytes = std::fs::read(&fs_img).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&pvs.files[0])
        .unwrap();
    let write_lv = |name: &str, bytes: &dyn Fn(u64, usize) -> Vec<u8>| {
        for s in segs.iter().filter(|s| s["lv_name"] == name) {
            let range = s["seg_pe_ranges"].as_str().unwrap();
            let first: u64 = range
                .rsplit(':')
                .next()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let at = pe_start + first * extent;
            file.write_all_at(
                &bytes(num(&s["seg_start"]), num(&s["seg_size"]) as usize),
                at,
            )
            .unwrap();
        }
    };
    write_lv("fs", &|start, len| {
        fs_bytes[start as usize..start as usize + len].to_vec()
    });
    write_lv("data", &|start, len| {
        (start..start + len as u64).map(|i| pattern(7, i)).collect()
    });
    file.sync_all().unwrap();

    let lv_fs = got.lvs.iter().find(|l| l.name == "fs").unwrap();
    let src = lvm::open_lv(pv.clone(), lv_fs).unwrap();
    let mut all = vec![0u8; src.size() as usize];
    src.read_at(0, &mut all).unwrap();
    assert!(all == fs_bytes);
    let ext = Ext4::open(src).unwrap();
    let names: Vec<Vec<u8>> = ext
        .read_dir(ext.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains(&b"etc".to_vec()), "{names:?}");

    let lv_data = got.lvs.iter().find(|l| l.name == "data").unwrap();
    let src = lvm::open_lv(pv.clone(), lv_data).unwrap();
    let mut buf = vec![0u8; 300_000];
    for off in [0u64, 4 << 20, (12 << 20) - 300_000, 1234567] {
        src.read_at(off, &mut buf).unwrap();
        assert!(
            buf.iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(7, off + i as u64)),
            "at {off}"
        );
    }
    let mut one = [0u8];
    assert!(src.read_at(12 << 20, &mut one).is_err());

    // vgcfgbackup writes the same metadata as text: the text parser alone.
    let backup = dir.path().join("vg.txt");
    lvm_ok(&["vgcfgbackup", "-q", "-f", backup.to_str().unwrap(), vg]);
    let text = std::fs::read(&backup).unwrap();
    assert_eq!(lvm::parse_metadata(&text, &pv_uuid).unwrap(), got);

    // No fuzzer here (cargo-fuzz needs nightly): byte flips and truncations
    // of this real PV's label and metadata area (the first MiB), and of the
    // metadata text; `fuzz/fuzz_targets/lvm_metadata.rs` under libFuzzer.
    let mut head = vec![0u8; 1 << 20];
    pv.read_at(0, &mut head).unwrap();
    let mut rng = 0x1234_5678_9abc_def1u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let t0 = Instant::now();
    assert_eq!(lvm::read_pv(&head).unwrap(), got);
    // Cut short (the metadata area runs past the end, its text does not):
    // still read; cut inside the text: an error.
    assert_eq!(lvm::read_pv(&head[..128 * 1024].to_vec()).unwrap(), got);
    assert!(lvm::read_pv(&head[..4096 + 600].to_vec()).is_err());
    for i in 0..2000 {
        let mut h = head[..8192].to_vec();
        h.resize(head.len(), 0);
        let at = (next() % 8192) as usize;
        h[at] = next() as u8;
        if i % 10 == 0 {
            h.truncate((next() % 8192) as usize);
        }
        if let Ok(p) = lvm::read_pv(&h) {
            for lv in &p.lvs {
                let _ = lvm::open_lv(Arc::new(h.clone()), lv);
            }
        }
        let mut t = text.clone();
        for _ in 0..(1 + next() % 3) {
            let at = (next() % t.len() as u64) as usize;
            t[at] = b"{}[]=\",#\n0-a"[(next() % 12) as usize];
        }
        if i % 10 == 0 {
            t.truncate((next() % t.len() as u64) as usize);
        }
        if let Ok(p) = lvm::parse_metadata(&t, &pv_uuid) {
            for lv in &p.lvs {
                if let Ok(src) = lvm::open_lv(pv.clone(), lv) {
                    let mut b = [0u8; 512];
                    let _ = src.read_at(0, &mut b);
                }
            }
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

#[test]
fn hostile_metadata_text() {
    let uuid = "aaaaaa-bbbb-cccc-dddd-eeee-ffff-gggggg";
    let deep = format!("vg {{ {} }}", "a { ".repeat(100_000));
    assert!(matches!(
        lvm::parse_metadata(deep.as_bytes(), uuid),
        Err(ImageError::Limit(_))
    ));
    let wide = format!("vg {{ x = [{}] }}", "1,".repeat(300_000));
    assert!(matches!(
        lvm::parse_metadata(wide.as_bytes(), uuid),
        Err(ImageError::Limit(_))
    ));
    for bad in [
        "vg {",
        "vg { x = \"abc",
        "vg { x = [1, 2",
        "= 3",
        "vg { x }",
        "",
    ] {
        assert!(
            lvm::parse_metadata(bad.as_bytes(), uuid).is_err(),
            "{bad:?}"
        );
    }
    // Huge extents: an error, not an overflow.
    let text = format!(
        "vg {{ extent_size = 9223372036854775807 physical_volumes {{ pv0 {{ id = \"{uuid}\" pe_start = 2048 }} }} \
         logical_volumes {{ lv {{ segment1 {{ start_extent = 0 extent_count = 3 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 0] }} }} }} }}"
    );
    assert!(lvm::parse_metadata(text.as_bytes(), uuid).is_err());
}
