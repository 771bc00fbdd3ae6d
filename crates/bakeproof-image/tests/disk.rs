//! Partition tables read by `disk::read_layout`, compared with what
//! `sfdisk --json` (util-linux) says of the same image (start, size, type,
//! name), for tables written by `sfdisk` and `sgdisk`; partition contents
//! compared with `blkid -p --offset` (libblkid's own probing). Needs the
//! Debian packages fdisk, gdisk, e2fsprogs, util-linux (tests/run-all.sh).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bakeproof_image::block::{BlockSource, FileSource, Slice};
use bakeproof_image::disk::{self, Content, Layout, TableKind};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (tests/run-all.sh installs fdisk, gdisk, e2fsprogs)")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn image(dir: &Path, name: &str, size: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    run(Command::new("truncate").arg("-s").arg(size).arg(&p));
    p
}

fn sfdisk(img: &Path, script: &str) {
    use std::io::Write as _;
    let mut child = Command::new("sfdisk")
        .arg("--no-reread")
        .arg("--no-tell-kernel")
        .arg("-q")
        .arg(img)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sfdisk (Debian package fdisk)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "sfdisk {script}");
}

/// One partition as sfdisk says: (number, start byte, bytes, type, name).
type Oracle = (u32, u64, u64, String, Option<String>);

fn sfdisk_json(img: &Path) -> (String, Vec<Oracle>) {
    let out = run(Command::new("sfdisk").arg("--json").arg(img));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v["partitiontable"];
    let sector = t["sectorsize"].as_u64().unwrap_or(512);
    let label = t["label"].as_str().unwrap().to_string();
    let img_s = img.to_str().unwrap();
    let mut parts = Vec::new();
    for p in t["partitions"].as_array().cloned().unwrap_or_default() {
        let node = p["node"].as_str().unwrap();
        let tail = node.strip_prefix(img_s).unwrap();
        // /dev/loop0p1: a `p` between a device name ending in a digit and the number.
        let number: u32 = tail.trim_start_matches('p').parse().unwrap();
        let ty = p["type"].as_str().unwrap().to_lowercase();
        let ty = if label == "dos" {
            format!("0x{:0>2}", ty)
        } else {
            ty
        };
        parts.push((
            number,
            p["start"].as_u64().unwrap() * sector,
            p["size"].as_u64().unwrap() * sector,
            ty,
            p["name"].as_str().map(str::to_string),
        ));
    }
    (label, parts)
}

fn ours(layout: &Layout) -> Vec<Oracle> {
    layout
        .partitions
        .iter()
        .map(|p| {
            (
                p.number,
                p.start,
                p.len,
                p.type_id.clone(),
                p.name.clone().filter(|n| !n.is_empty()),
            )
        })
        .collect()
}

/// What `blkid -p` finds at `[start, start + len)` of `img`, as a Content.
fn blkid(img: &Path, start: u64, len: u64) -> Content {
    let out = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "TYPE"])
        .arg(format!("--offset={start}"))
        .arg(format!("--size={len}"))
        .arg(img)
        .output()
        .expect("blkid (util-linux)");
    match String::from_utf8_lossy(&out.stdout).trim() {
        "ext2" | "ext3" | "ext4" => Content::Ext,
        "xfs" => Content::Xfs,
        "swap" => Content::Swap,
        "LVM2_member" => Content::Lvm2,
        "vfat" => Content::Fat,
        "btrfs" => Content::Btrfs,
        "crypto_LUKS" => Content::Luks,
        _ => Content::Unknown,
    }
}

fn check_against_oracle(img: &Path, table: TableKind) -> Layout {
    let src = FileSource::open(img).unwrap();
    let layout = disk::read_layout(&src).unwrap();
    let (label, oracle) = sfdisk_json(img);
    assert_eq!(
        label,
        match table {
            TableKind::Gpt => "gpt",
            _ => "dos",
        }
    );
    assert_eq!(layout.table, table);
    assert_eq!(ours(&layout), oracle, "{layout:#?}");
    assert!(layout.warnings.is_empty(), "{:?}", layout.warnings);
    for p in &layout.partitions {
        // An extended partition's first sector is an EBR: nothing to blkid.
        if !matches!(p.type_id.as_str(), "0x05" | "0x0f" | "0x85") {
            assert_eq!(
                p.content,
                blkid(img, p.start, p.len),
                "partition {}",
                p.number
            );
        }
    }
    layout
}

fn mke2fs_at(img: &Path, start: u64, len: u64) {
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4"])
        .arg("-E")
        .arg(format!("offset={start}"))
        .arg(img)
        .arg(format!("{}k", len / 1024)));
}

fn mkswap_at(dir: &Path, img: &Path, start: u64, len: u64) {
    let part = dir.join("swap.part");
    run(Command::new("truncate")
        .arg("-s")
        .arg(len.to_string())
        .arg(&part));
    run(Command::new("mkswap").arg("-q").arg(&part));
    run(Command::new("dd")
        .arg(format!("if={}", part.display()))
        .arg(format!("of={}", img.display()))
        .args(["bs=512", "conv=notrunc,sparse", "status=none"])
        .arg(format!("seek={}", start / 512)));
}

#[test]
fn mbr_primary_and_logical_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "mbr.img", "64M");
    sfdisk(
        &img,
        "label: dos\n,10M,83\n,6M,82\n,,5\n,8M,83\n,4M,8e\n,,83\n",
    );
    let (_, oracle) = sfdisk_json(&img);
    let by = |n: u32| oracle.iter().find(|p| p.0 == n).unwrap().clone();
    mke2fs_at(&img, by(1).1, by(1).2);
    mkswap_at(dir.path(), &img, by(2).1, by(2).2);
    mke2fs_at(&img, by(6).1, by(6).2);
    let layout = check_against_oracle(&img, TableKind::Mbr);
    let numbers: Vec<u32> = layout.partitions.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 2, 3, 5, 6, 7]);
    assert_eq!(layout.partitions[0].content, Content::Ext);
    assert_eq!(layout.partitions[1].content, Content::Swap);
    assert_eq!(layout.partitions[4].content, Content::Ext);
}

#[test]
fn gpt_from_sfdisk() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "gpt.img", "48M");
    sfdisk(
        &img,
        "label: gpt\n\
         size=4M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI System\"\n\
         size=16M, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n\
         size=8M, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n\
         type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name=\"lvm ü\"\n",
    );
    let (_, oracle) = sfdisk_json(&img);
    mke2fs_at(&img, oracle[1].1, oracle[1].2);
    mkswap_at(dir.path(), &img, oracle[2].1, oracle[2].2);
    run(Command::new("mkfs.vfat")
        .arg(format!("--offset={}", oracle[0].1 / 512))
        .arg(&img)
        .arg((oracle[0].2 / 1024).to_string()));
    let layout = check_against_oracle(&img, TableKind::Gpt);
    assert_eq!(layout.partitions[0].content, Content::Fat);
    assert_eq!(layout.partitions[1].content, Content::Ext);
    assert_eq!(layout.partitions[2].content, Content::Swap);
    assert_eq!(layout.partitions[3].name.as_deref(), Some("lvm ü"));
}

fn sgdisk_image(dir: &Path, size: &str) -> std::path::PathBuf {
    let img = image(dir, "sg.img", size);
    run(Command::new("sgdisk")
        .args(["-n", "1:2048:+2M", "-t", "1:ef02", "-c", "1:bios boot"])
        .args(["-n", "5:0:+8M", "-t", "5:8300", "-c", "5:root"])
        .args(["-n", "2:0:+4M", "-t", "2:8200", "-c", "2:swap"])
        .args(["-n", "3:0:0", "-t", "3:8e00"])
        .arg(&img));
    img
}

#[test]
fn gpt_from_sgdisk_and_the_backup_header() {
    let dir = tempfile::tempdir().unwrap();
    let img = sgdisk_image(dir.path(), "32M");
    let (_, oracle) = sfdisk_json(&img);
    let root = oracle.iter().find(|p| p.0 == 5).unwrap();
    mke2fs_at(&img, root.1, root.2);
    let layout = check_against_oracle(&img, TableKind::Gpt);
    assert_eq!(
        layout
            .partitions
            .iter()
            .map(|p| p.number)
            .collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    // sgdisk -i names the type GUIDs: an independent reading of the types.
    for p in &layout.partitions {
        let info = run(Command::new("sgdisk")
            .arg("-i")
            .arg(p.number.to_string())
            .arg(&img));
        let guid = info
            .lines()
            .find_map(|l| l.strip_prefix("Partition GUID code: "))
            .unwrap();
        assert!(
            guid.to_lowercase().starts_with(&p.type_id),
            "{guid} vs {}",
            p.type_id
        );
    }

    // Damage the primary header (its disk GUID, so its CRC32 fails).
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[512 + 60] ^= 0xff;
    std::fs::write(&img, &bytes).unwrap();
    let src = FileSource::open(&img).unwrap();
    let damaged = disk::read_layout(&src).unwrap();
    assert_eq!(ours(&damaged), oracle);
    assert_eq!(damaged.warnings.len(), 1, "{:?}", damaged.warnings);
    assert!(
        damaged.warnings[0].contains("backup"),
        "{:?}",
        damaged.warnings
    );
    // Both headers damaged: an error, not a guess.
    let last = bytes.len() - 512;
    bytes[last + 60] ^= 0xff;
    let both = disk::read_layout(&bytes);
    assert!(
        matches!(both, Err(bakeproof_image::ImageError::Corrupt { .. })),
        "{both:?}"
    );
    // The entry array damaged (primary and backup share their entries'
    // bytes, not their location): the backup array is read.
    bytes[last + 60] ^= 0xff;
    bytes[512 + 60] ^= 0xff;
    bytes[1024 + 56] ^= 0x01; // first entry's name
    let arr = disk::read_layout(&bytes).unwrap();
    assert_eq!(ours(&arr), oracle);
    assert_eq!(arr.warnings.len(), 1);
}

#[test]
fn no_table_is_one_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "fs.img", "16M");
    mke2fs_at(&img, 0, 16 << 20);
    let src = FileSource::open(&img).unwrap();
    let layout = disk::read_layout(&src).unwrap();
    assert_eq!(layout.table, TableKind::None);
    assert_eq!(layout.partitions.len(), 1);
    let p = &layout.partitions[0];
    assert_eq!((p.number, p.start, p.len), (0, 0, 16 << 20));
    assert_eq!(p.content, blkid(&img, 0, 16 << 20));
    assert_eq!(p.content, Content::Ext);
    // sfdisk sees no table either.
    let out = Command::new("sfdisk")
        .arg("--json")
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.stdout.is_empty() || !out.status.success());
}

#[test]
fn partitions_past_the_end_are_clamped_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "cut.img", "32M");
    sfdisk(&img, "label: dos\n,8M,83\n,8M,83\n,,5\n,4M,83\n,,83\n");
    let (_, oracle) = sfdisk_json(&img);
    // Cut the image in the middle of partition 2.
    let cut = oracle[1].1 + 1024 * 1024;
    run(Command::new("truncate")
        .arg("-s")
        .arg(cut.to_string())
        .arg(&img));
    let src = FileSource::open(&img).unwrap();
    let layout = disk::read_layout(&src).unwrap();
    // Expected from sfdisk's view of the whole image: partitions starting
    // past the cut skipped, those across it clamped.
    let expected: Vec<Oracle> = oracle
        .iter()
        .filter(|p| p.1 < cut && p.0 <= 4)
        .map(|p| (p.0, p.1, p.2.min(cut - p.1), p.3.clone(), None))
        .collect();
    assert_eq!(ours(&layout), expected);
    assert!(layout.warnings.len() >= 2, "{:?}", layout.warnings);
}

/// GPT on a disk of 4096-byte sectors: a loop device with `-b 4096`
/// partitioned by sfdisk, which reports in 4096-byte sectors.
#[test]
fn gpt_with_4096_byte_sectors() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "4k.img", "32M");
    let out = Command::new("losetup")
        .args(["-b", "4096", "-f", "--show"])
        .arg(&img)
        .output()
        .expect("losetup (util-linux)");
    assert!(
        out.status.success(),
        "loop devices are not usable here (this test needs root and a free /dev/loopN): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    struct Detach(String);
    impl Drop for Detach {
        fn drop(&mut self) {
            let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
        }
    }
    let _detach = Detach(dev.clone());
    let dev = Path::new(&dev);
    sfdisk(
        dev,
        "label: gpt\nsize=4M, name=one\nsize=8M, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n",
    );
    let (label, oracle) = sfdisk_json(dev);
    assert_eq!(label, "gpt");
    let src = FileSource::open(&img).unwrap();
    let layout = disk::read_layout(&src).unwrap();
    assert_eq!(layout.table, TableKind::Gpt);
    assert_eq!(ours(&layout), oracle);
    assert!(oracle[0].1 % 4096 == 0 && oracle[0].1 >= 4096 * 2);
    // The primary header's signature gone: the backup, at the last
    // 4096-byte sector.
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[4096] ^= 0xff;
    let damaged = disk::read_layout(&bytes).unwrap();
    assert_eq!(ours(&damaged), oracle);
    assert_eq!(damaged.warnings.len(), 1, "{:?}", damaged.warnings);
}

/// A small xorshift: deterministic mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// No fuzzer here (cargo-fuzz needs nightly): byte flips and truncations of
/// real tables (MBR with a logical chain, GPT), each an answer or an
/// ImageError, fast. `fuzz/fuzz_targets/disk_layout.rs` is the same loop
/// under libFuzzer.
#[test]
fn mutations_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mbr = image(dir.path(), "m.img", "2M");
    sfdisk(
        &mbr,
        "label: dos\n,256K,83\n,,5\n,128K,83\n,128K,83\n,128K,83\n,,83\n",
    );
    let gpt = sgdisk_image(dir.path(), "20M");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for img in [mbr, gpt] {
        let mut bytes = std::fs::read(&img).unwrap();
        let size = bytes.len();
        // Where the tables are: the first 64 KiB (MBR, EBRs near the
        // start of the extended partition, GPT header and entries) and the
        // last 17 KiB (the backup GPT).
        let ebrs: Vec<u64> = {
            let l = disk::read_layout(&bytes).unwrap();
            l.partitions
                .iter()
                .map(|p| p.start.saturating_sub(512))
                .collect()
        };
        let t0 = Instant::now();
        for i in 0..3000 {
            let pick = rng.next() as usize;
            let at = match pick % 4 {
                0 => pick / 4 % 1024,
                1 => 1024 + pick / 4 % (33 * 512),
                2 => size - 1 - pick / 4 % (33 * 512),
                _ => (ebrs[pick / 4 % ebrs.len()] as usize + 446 + pick / 64 % 66).min(size - 1),
            };
            let old = bytes[at];
            bytes[at] = rng.next() as u8;
            let shared = Arc::new(std::mem::take(&mut bytes));
            let r = if i % 10 == 0 {
                let len = rng.next() % size as u64;
                disk::read_layout(&Slice::new(shared.clone(), 0, len).unwrap())
            } else {
                disk::read_layout(&shared)
            };
            if let Ok(l) = r {
                assert!(l.partitions.len() <= disk::MAX_PARTITIONS);
                for p in &l.partitions {
                    assert!(p.start + p.len <= shared.size());
                }
            }
            bytes = Arc::try_unwrap(shared).unwrap();
            bytes[at] = old;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
    }
}

#[test]
fn a_looping_logical_chain_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), "loop.img", "8M");
    sfdisk(&img, "label: dos\n,1M,83\n,,5\n,1M,83\n,1M,83\n");
    let mut bytes = std::fs::read(&img).unwrap();
    let (_, oracle) = sfdisk_json(&img);
    let ext = oracle.iter().find(|p| p.0 == 2).unwrap().1 as usize;
    // The first EBR's link to the next EBR points back at itself.
    let link = ext + 446 + 16;
    bytes[link + 8..link + 12].copy_from_slice(&0u32.to_le_bytes());
    bytes[link + 4] = 0x05;
    bytes[link + 12..link + 16].copy_from_slice(&2048u32.to_le_bytes());
    let layout = disk::read_layout(&bytes).unwrap();
    assert!(
        layout.warnings.iter().any(|w| w.contains("loop")),
        "{:?}",
        layout.warnings
    );
    assert_eq!(
        layout.partitions.iter().filter(|p| p.number >= 5).count(),
        1
    );
}
