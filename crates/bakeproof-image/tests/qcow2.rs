//! qcow2 files made by `qemu-img convert` (qemu-utils) from a raw image
//! with data, holes and zeros, read through `qcow2::Qcow2`: every byte must
//! equal the raw image's and what `qemu-img convert -O raw` makes of the
//! same qcow2 file (full reads and random ranges). v2 (`compat=0.10`), v3,
//! compressed (deflate and zstd), cluster sizes 512 B, 64 KiB and 2 MiB,
//! v3 zero clusters (`qemu-io write -z`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bakeproof_image::ImageError;
use bakeproof_image::block::{BlockSource, FileSource, SharedSource};
use bakeproof_image::qcow2::{Qcow2, is_qcow2};

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (tests/run-all.sh installs qemu-utils)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const RAW_SIZE: u64 = 12 << 20;

/// A raw image: random runs (incompressible), text runs (compressible),
/// explicit zeros and holes; its size is not a multiple of 2 MiB.
fn raw_image(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut bytes = vec![0u8; (RAW_SIZE - 4096 - 512) as usize];
    let mut rng = Rng(7);
    let mut at = 0usize;
    while at < bytes.len() {
        let run = (rng.next() % (300 * 1024)) as usize + 1;
        let end = (at + run).min(bytes.len());
        match rng.next() % 4 {
            0 => bytes[at..end]
                .iter_mut()
                .for_each(|b| *b = rng.next() as u8),
            1 => {
                let text = b"bakeproof scans golden images without mounting them. ";
                for (i, b) in bytes[at..end].iter_mut().enumerate() {
                    *b = text[i % text.len()];
                }
            }
            _ => {} // zeros (written below) or a hole (skipped)
        }
        at = end;
    }
    let path = dir.join("disk.raw");
    std::fs::write(&path, &bytes).unwrap();
    // Holes: punch the all-zero MiBs out with fallocate if it is there
    // (the bytes are the same either way; qemu-img sees them as holes).
    let _ = Command::new("fallocate")
        .arg("--dig-holes")
        .arg(&path)
        .status();
    (path, bytes)
}

fn convert(raw: &Path, out: &Path, opts: &[&str]) {
    run(Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "qcow2"])
        .args(opts)
        .arg(raw)
        .arg(out));
}

fn back_to_raw(q: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("back.raw");
    run(Command::new("qemu-img")
        .args(["convert", "-f", "qcow2", "-O", "raw"])
        .arg(q)
        .arg(&out));
    std::fs::read(out).unwrap()
}

fn open(q: &Path) -> Qcow2 {
    let f: SharedSource = Arc::new(FileSource::open(q).unwrap());
    assert!(is_qcow2(&f).unwrap());
    Qcow2::open(f).unwrap()
}

fn check_equal(q: &Qcow2, expected: &[u8], what: &str) {
    assert_eq!(q.size(), expected.len() as u64, "{what}");
    let mut all = vec![0u8; expected.len()];
    for (i, chunk) in all.chunks_mut(1 << 20).enumerate() {
        q.read_at(i as u64 * (1 << 20), chunk).unwrap();
    }
    assert!(all == expected, "{what}: full read differs");
    let mut rng = Rng(99);
    for _ in 0..300 {
        let off = rng.next() % expected.len() as u64;
        let len = (rng.next() % 200_000).min(expected.len() as u64 - off) as usize;
        let mut buf = vec![0u8; len];
        q.read_at(off, &mut buf).unwrap();
        assert!(
            buf == expected[off as usize..off as usize + len],
            "{what}: {len} at {off}"
        );
    }
    let mut one = [0u8; 1];
    assert!(matches!(
        q.read_at(expected.len() as u64, &mut one),
        Err(ImageError::OutOfRange { .. })
    ));
}

#[test]
fn qcow2_variants_read_as_the_raw_image() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, bytes) = raw_image(dir.path());
    let variants: &[(&str, &[&str])] = &[
        ("v3 64k", &[]),
        ("v2", &["-o", "compat=0.10"]),
        ("v3 512", &["-o", "cluster_size=512"]),
        ("v3 2M", &["-o", "cluster_size=2M"]),
        ("v3 deflate", &["-c"]),
        (
            "v2 deflate 512",
            &["-c", "-o", "compat=0.10,cluster_size=512"],
        ),
        ("v3 deflate 2M", &["-c", "-o", "cluster_size=2M"]),
        ("v3 zstd", &["-c", "-o", "compression_type=zstd"]),
        (
            "v3 zstd 512",
            &["-c", "-o", "compression_type=zstd,cluster_size=512"],
        ),
    ];
    for (what, opts) in variants {
        let q = dir.path().join("img.qcow2");
        let _ = std::fs::remove_file(&q);
        convert(&raw, &q, opts);
        let oracle = back_to_raw(&q, dir.path());
        assert!(oracle == bytes, "{what}: qemu-img's own round trip differs");
        if what.contains("zstd") {
            let info = run(Command::new("qemu-img")
                .args(["info", "--output=json"])
                .arg(&q));
            assert!(info.contains("\"compression-type\": \"zstd\""), "{info}");
        }
        check_equal(&open(&q), &oracle, what);
    }
}

#[test]
fn v3_zero_clusters_read_as_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("z.qcow2");
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&q)
        .arg("4M"));
    run(Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", "write -q -P 0xab 0 3M"])
        .args(["-c", "write -q -z 512k 1M"])
        .args(["-c", "write -q -z -u 2M 256k"])
        .arg(&q));
    let map = run(Command::new("qemu-img")
        .args(["map", "--output=json"])
        .arg(&q));
    assert!(map.contains("\"zero\": true, \"data\": false"), "{map}");
    let oracle = back_to_raw(&q, dir.path());
    assert!(oracle[512 * 1024..1536 * 1024].iter().all(|&b| b == 0));
    assert_eq!(oracle[0], 0xab);
    check_equal(&open(&q), &oracle, "zero clusters");
}

#[test]
fn refused_features_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    let top = dir.path().join("top.qcow2");
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&base)
        .arg("1M"));
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
        .arg(&base)
        .arg(&top));
    let f: SharedSource = Arc::new(FileSource::open(&top).unwrap());
    match Qcow2::open(f) {
        Err(ImageError::Unsupported(m)) => assert!(m.contains("backing file"), "{m}"),
        other => panic!("{:?}", other.err()),
    }
    let ext = dir.path().join("ext.qcow2");
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o", "extended_l2=on"])
        .arg(&ext)
        .arg("1M"));
    let f: SharedSource = Arc::new(FileSource::open(&ext).unwrap());
    assert!(matches!(Qcow2::open(f), Err(ImageError::Unsupported(_))));
    let enc = dir.path().join("enc.qcow2");
    run(Command::new("qemu-img")
        .args([
            "create",
            "-q",
            "-f",
            "qcow2",
            "--object",
            "secret,id=s0,data=pw",
        ])
        .args(["-o", "encrypt.format=luks,encrypt.key-secret=s0"])
        .arg(&enc)
        .arg("1M"));
    let f: SharedSource = Arc::new(FileSource::open(&enc).unwrap());
    assert!(matches!(Qcow2::open(f), Err(ImageError::Unsupported(_))));
    let data = dir.path().join("data.raw");
    let xd = dir.path().join("xd.qcow2");
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o"])
        .arg(format!("data_file={}", data.display()))
        .arg(&xd)
        .arg("1M"));
    let f: SharedSource = Arc::new(FileSource::open(&xd).unwrap());
    assert!(matches!(Qcow2::open(f), Err(ImageError::Unsupported(_))));
}

fn be32_at(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn hostile_headers_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = raw_image(dir.path());
    let q = dir.path().join("c.qcow2");
    convert(&raw, &q, &["-c", "-o", "cluster_size=4096"]);
    let good = std::fs::read(&q).unwrap();
    let try_open = |b: Vec<u8>| -> Result<Vec<u8>, ImageError> {
        let q = Qcow2::open(Arc::new(b))?;
        let mut all = vec![0u8; q.size() as usize];
        q.read_at(0, &mut all)?;
        Ok(all)
    };
    // L1 size huge.
    let mut b = good.clone();
    be32_at(&mut b, 36, u32::MAX);
    assert!(try_open(b).is_err());
    // Guest size huge for its L1 table.
    let mut b = good.clone();
    b[24..32].copy_from_slice(&(1u64 << 50).to_be_bytes());
    assert!(try_open(b).is_err());
    // cluster_bits out of range.
    let mut b = good.clone();
    be32_at(&mut b, 20, 30);
    assert!(try_open(b).is_err());
    // The dirty bit (refcounts not up to date) is fine: same bytes.
    let mut b = good.clone();
    b[79] |= 1;
    assert!(try_open(b).unwrap() == try_open(good.clone()).unwrap());
    // The corrupt bit is refused.
    let mut b = good.clone();
    b[79] |= 2;
    assert!(matches!(try_open(b), Err(ImageError::Unsupported(_))));
    // An unknown incompatible feature.
    let mut b = good.clone();
    b[72..80].copy_from_slice(&(1u64 << 40).to_be_bytes());
    assert!(matches!(try_open(b), Err(ImageError::Unsupported(_))));
    // The first L1 entry (an L2 table) pointed past the end of the file.
    let l1 = u64::from_be_bytes(good[40..48].try_into().unwrap()) as usize;
    let mut b = good.clone();
    b[l1..l1 + 8].copy_from_slice(&((good.len() as u64 + 4096) | 1 << 63).to_be_bytes());
    assert!(matches!(try_open(b), Err(ImageError::Corrupt { .. })));
    // An L2 entry (a data cluster) pointed past the end of the file.
    let l2 =
        (u64::from_be_bytes(good[l1..l1 + 8].try_into().unwrap()) & 0x00ff_ffff_ffff_fe00) as usize;
    assert!(l2 != 0);
    let mut b = good.clone();
    b[l2..l2 + 8].copy_from_slice(&((good.len() as u64 + (1 << 20)) & !4095).to_be_bytes());
    assert!(matches!(try_open(b), Err(ImageError::Corrupt { .. })));
    // The file cut short: L2 tables and clusters past its end.
    assert!(try_open(good[..good.len() / 2].to_vec()).is_err());
}

/// No fuzzer here (cargo-fuzz needs nightly): byte flips and truncations
/// of a real compressed qcow2 (header, L1, L2 and compressed clusters),
/// each an answer or an ImageError, in bounded time.
/// `fuzz/fuzz_targets/qcow2_image.rs` is the same under libFuzzer.
#[test]
fn mutations_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("small.raw");
    let mut small = vec![0u8; 256 * 1024];
    let mut rng = Rng(3);
    for (i, b) in small.iter_mut().enumerate() {
        *b = if i % 3000 < 1000 {
            rng.next() as u8
        } else {
            (i / 7) as u8
        };
    }
    std::fs::write(&raw, &small).unwrap();
    let mut images = Vec::new();
    for opts in [
        &["-c", "-o", "cluster_size=512"][..],
        &["-o", "cluster_size=4096,compat=0.10"][..],
    ] {
        let q = dir.path().join("m.qcow2");
        let _ = std::fs::remove_file(&q);
        convert(&raw, &q, opts);
        images.push(std::fs::read(&q).unwrap());
    }
    let t0 = Instant::now();
    for good in images {
        let mut buf = vec![0u8; 64 * 1024];
        for i in 0..1500 {
            let mut b = good.clone();
            for _ in 0..(1 + rng.next() % 4) {
                let at = match rng.next() % 3 {
                    0 => rng.next() % 112,
                    _ => rng.next() % b.len() as u64,
                } as usize;
                b[at] = rng.next() as u8;
            }
            if i % 10 == 0 {
                b.truncate((rng.next() % b.len() as u64) as usize);
            }
            let Ok(q) = Qcow2::open(Arc::new(b)) else {
                continue;
            };
            let size = q.size();
            for _ in 0..8 {
                if size == 0 {
                    break;
                }
                let off = rng.next() % size;
                let len = (buf.len() as u64).min(size - off) as usize;
                let _ = q.read_at(off, &mut buf[..len]);
            }
        }
    }
    assert!(
        t0.elapsed() < Duration::from_secs(120),
        "{:?}",
        t0.elapsed()
    );
}
