//! The BDB and NDB `Packages` readers against real databases, at the blob
//! level (header parsing is tested elsewhere).
//!
//! Oracles: `fixtures/rpmdb/*/expected-packages.tsv`, written by real librpm
//! (see each directory's SOURCE.md). For each fixture the readers must return
//! exactly as many blobs as librpm lists packages, every blob must be a
//! well-formed header envelope (`il > 0`, `8 + 16*il + dl == len`), and the
//! NAME tags found by a tiny index scan here must equal librpm's names.
//!
//! Damage tests: truncation at every page boundary and at random points,
//! seeded byte flips, a looped overflow chain, `last_pgno` past the file.
//! They assert no panic, bounded time, no invented records, and that
//! undamaged records survive local damage.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bakeproof_pkgdb::rpm::bdb::{BlobRecord, BlobSet, is_bdb_hash, read_bdb_packages};
use bakeproof_pkgdb::rpm::ndb::{is_ndb, read_ndb_packages};

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/rpmdb")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn oracle_names(dir: &str) -> Vec<String> {
    let text = String::from_utf8(fixture(&format!("{dir}/expected-packages.tsv"))).unwrap();
    let mut names: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// The NAME (tag 1000, type STRING 6) of a header blob, after checking the
/// envelope: `il > 0` index entries of 16 bytes, `dl` data bytes, nothing more.
fn header_name(blob: &[u8]) -> Result<String, String> {
    let il = be32(blob, 0).ok_or("no il")? as usize;
    let dl = be32(blob, 4).ok_or("no dl")? as usize;
    if il == 0 || 8 + 16 * il + dl != blob.len() {
        return Err(format!("bad envelope il={il} dl={dl} len={}", blob.len()));
    }
    let data = &blob[8 + 16 * il..];
    for i in 0..il {
        let e = 8 + 16 * i;
        let (tag, ty, off) = (
            be32(blob, e).unwrap(),
            be32(blob, e + 4).unwrap(),
            be32(blob, e + 8).unwrap(),
        );
        if tag == 1000 && ty == 6 {
            let s = data.get(off as usize..).ok_or("NAME offset out of range")?;
            let end = s
                .iter()
                .position(|&c| c == 0)
                .ok_or("NAME not NUL-terminated")?;
            return String::from_utf8(s[..end].to_vec()).map_err(|e| e.to_string());
        }
    }
    Err("no NAME tag".into())
}

fn check_against_oracle(set: &BlobSet, dir: &str) {
    assert!(set.errors.is_empty(), "{dir}: {:?}", set.errors);
    let expected = oracle_names(dir);
    assert_eq!(
        set.records.len(),
        expected.len(),
        "{dir}: record count vs librpm"
    );
    assert!(
        set.records.windows(2).all(|w| w[0].key < w[1].key),
        "{dir}: keys sorted and unique"
    );
    let mut names: Vec<String> = set
        .records
        .iter()
        .map(|r| header_name(&r.blob).unwrap_or_else(|e| panic!("{dir} key {}: {e}", r.key)))
        .collect();
    names.sort();
    assert_eq!(names, expected, "{dir}: NAMEs vs librpm");
}

const BDB: [&str; 2] = ["rhel8-libuuid", "centos8-dive"];

#[test]
fn bdb_fixtures_match_librpm() {
    for dir in BDB {
        let bytes = fixture(&format!("{dir}/Packages"));
        assert!(is_bdb_hash(&bytes) && !is_ndb(&bytes), "{dir}");
        let set = read_bdb_packages(&bytes).unwrap();
        check_against_oracle(&set, dir);
    }
}

#[test]
fn ndb_fixture_matches_librpm() {
    let bytes = fixture("sle15-bci/Packages.db");
    assert!(is_ndb(&bytes) && !is_bdb_hash(&bytes));
    let set = read_ndb_packages(&bytes).unwrap();
    check_against_oracle(&set, "sle15-bci");
    // Each format refuses the other.
    assert!(read_bdb_packages(&bytes).is_err());
    assert!(read_ndb_packages(&fixture("rhel8-libuuid/Packages")).is_err());
}

// ---------------------------------------------------------------- big endian

/// Convert a little-endian BDB hash file into the file a big-endian machine
/// would have written, following the on-disk format (libdb's own
/// `__db_byteswap` swaps the same fields when it opens a foreign-endian file):
/// * every page header: LSN (two u32), pgno, prev_pgno, next_pgno (u32),
///   entries, hf_offset (u16);
/// * the metadata page: the DBMETA u32 fields (pgno, magic, version,
///   pagesize, free, last_pgno, nparts, key_count, record_count, flags) and
///   the hash fields (max_bucket, high_mask, low_mask, ffactor, nelem,
///   h_charkey, spares[32]);
/// * hash pages: the u16 item index, and in H_OFFPAGE items pgno and tlen;
/// * rpm's own native-endian integers: the 4-byte keys, and the data of the
///   key-0 record (the next instance number). Header blobs are big-endian on
///   every machine and stay as they are. Overflow pages carry only blob bytes.
fn to_big_endian(le: &[u8]) -> Vec<u8> {
    fn sw32(b: &mut [u8], off: usize) {
        b[off..off + 4].reverse();
    }
    fn sw16(b: &mut [u8], off: usize) {
        b[off..off + 2].reverse();
    }
    let ps = u32::from_le_bytes(le[20..24].try_into().unwrap()) as usize;
    let mut out = le.to_vec();
    for (pgno, page) in out.chunks_mut(ps).enumerate() {
        let entries = u16::from_le_bytes(page[20..22].try_into().unwrap()) as usize;
        let ptype = page[25];
        if pgno == 0 {
            for off in [0, 4, 8, 12, 16, 20, 28, 32, 36, 40, 44, 48] {
                sw32(page, off);
            }
            for i in 0..(6 + 32) {
                sw32(page, 72 + 4 * i);
            }
            continue;
        }
        let inp: Vec<usize> = (0..entries)
            .map(|i| u16::from_le_bytes(page[26 + 2 * i..28 + 2 * i].try_into().unwrap()) as usize)
            .collect();
        for off in [0, 4, 8, 12, 16] {
            sw32(page, off);
        }
        sw16(page, 20);
        sw16(page, 22);
        if ptype == 13 || ptype == 2 {
            let mut key0 = false;
            for (i, &off) in inp.iter().enumerate() {
                sw16(page, 26 + 2 * i);
                let end = if i == 0 { ps } else { inp[i - 1] };
                match page[off] {
                    3 => {
                        sw32(page, off + 4);
                        sw32(page, off + 8);
                    }
                    1 if i % 2 == 0 => {
                        assert_eq!(end - off, 5, "rpm keys are 4 bytes");
                        key0 = page[off + 1..off + 5] == [0; 4];
                        sw32(page, off + 1);
                    }
                    1 if key0 => {
                        assert_eq!(end - off, 5, "key-0 data is a u32");
                        sw32(page, off + 1);
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[test]
fn bdb_big_endian_variant_reads_the_same() {
    for dir in BDB {
        let le = fixture(&format!("{dir}/Packages"));
        let be = to_big_endian(&le);
        assert_ne!(le, be);
        assert_eq!(
            &be[12..16],
            &[0x00, 0x06, 0x15, 0x61],
            "magic now big-endian"
        );
        assert!(is_bdb_hash(&be));
        let a = read_bdb_packages(&le).unwrap();
        let b = read_bdb_packages(&be).unwrap();
        assert_eq!(a, b, "{dir}: same keys and blobs in both byte orders");
        check_against_oracle(&b, dir);
    }
}

// ---------------------------------------------------------------- damage

type Reader = fn(&[u8]) -> Option<BlobSet>;

/// SplitMix64: a tiny deterministic PRNG, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Run a reader on damaged bytes; check time, and that whatever comes back
/// is well-formed: sorted unique keys.
fn run(read: Reader, bytes: &[u8], what: &str) -> Option<BlobSet> {
    let t = Instant::now();
    let set = read(bytes);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "{what}: took {:?}",
        t.elapsed()
    );
    if let Some(s) = &set {
        assert!(
            s.records.windows(2).all(|w| w[0].key < w[1].key),
            "{what}: keys"
        );
    }
    set
}

fn bdb(b: &[u8]) -> Option<BlobSet> {
    read_bdb_packages(b).ok()
}
fn ndb(b: &[u8]) -> Option<BlobSet> {
    read_ndb_packages(b).ok()
}

/// Every returned record is one of the originals, byte for byte: damage may
/// lose records, never invent or alter them.
fn subset(got: &BlobSet, orig: &[BlobRecord], what: &str) {
    for r in &got.records {
        assert!(
            orig.contains(r),
            "{what}: record {} is not an original record",
            r.key
        );
    }
}

#[test]
fn truncations_never_invent_records() {
    let mut rng = Rng(0x7275_6e63);
    let cases: [(&str, Reader, usize); 3] = [
        ("rhel8-libuuid/Packages", bdb, 4096),
        ("centos8-dive/Packages", bdb, 4096),
        ("sle15-bci/Packages.db", ndb, 4096),
    ];
    for (path, read, page) in cases {
        let bytes = fixture(path);
        let orig = read(&bytes).unwrap().records;
        let mut cuts: Vec<usize> = (0..=bytes.len() / page).map(|p| p * page).collect();
        cuts.extend((0..150).map(|_| rng.below(bytes.len())));
        for cut in cuts {
            let what = format!("{path} cut at {cut}");
            if let Some(set) = run(read, &bytes[..cut], &what) {
                subset(&set, &orig, &what);
                if set.records.len() < orig.len() {
                    assert!(
                        !set.errors.is_empty(),
                        "{what}: records lost without an error"
                    );
                }
            }
        }
    }
}

#[test]
fn ndb_truncation_keeps_blobs_before_the_cut() {
    let bytes = fixture("sle15-bci/Packages.db");
    let orig = read_ndb_packages(&bytes).unwrap();
    // Cut in the middle of the last blob in file order: all others survive.
    let set = read_ndb_packages(&bytes[..bytes.len() - 100]).unwrap();
    assert_eq!(set.records.len(), orig.records.len() - 1);
    assert!(!set.errors.is_empty());
    subset(&set, &orig.records, "cut");
}

#[test]
fn seeded_byte_flips() {
    let mut rng = Rng(0xB17F_11B5);
    let cases: [(&str, Reader); 3] = [
        ("rhel8-libuuid/Packages", bdb),
        ("centos8-dive/Packages", bdb),
        ("sle15-bci/Packages.db", ndb),
    ];
    for (path, read) in cases {
        let bytes = fixture(path);
        for round in 0..200 {
            let mut b = bytes.clone();
            let n = 1 + rng.below(8);
            // Half the rounds hit the first 4 KiB (metadata, slots, item
            // index), where flips matter most; the rest anywhere.
            let span = if round % 2 == 0 {
                4096.min(b.len())
            } else {
                b.len()
            };
            for _ in 0..n {
                let i = rng.below(span);
                b[i] ^= 1 << rng.below(8);
            }
            run(read, &b, &format!("{path} round {round}"));
        }
    }
}

#[test]
fn ndb_damage_to_one_blob_is_local() {
    let bytes = fixture("sle15-bci/Packages.db");
    let orig = read_ndb_packages(&bytes).unwrap().records;
    let mut rng = Rng(42);
    // Locate each blob via its slot, flip one byte inside its payload: the
    // Adler-32 catches it, that record alone is reported, the rest survive.
    let mut damaged = 0;
    for slot in 0..(4096 - 32) / 16 {
        let s = 32 + 16 * slot;
        let pkgidx = u32::from_le_bytes(bytes[s + 4..s + 8].try_into().unwrap());
        let blkoff = u32::from_le_bytes(bytes[s + 8..s + 12].try_into().unwrap()) as usize;
        if blkoff == 0 {
            continue; // free slot
        }
        damaged += 1;
        let bloblen = u32::from_le_bytes(
            bytes[blkoff * 16 + 12..blkoff * 16 + 16]
                .try_into()
                .unwrap(),
        ) as usize;
        let mut b = bytes.clone();
        b[blkoff * 16 + 16 + rng.below(bloblen)] ^= 0x20;
        let set = read_ndb_packages(&b).unwrap();
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
        assert!(
            set.errors[0].contains(&format!("package {pkgidx}")),
            "{:?}",
            set.errors
        );
        let expect: Vec<BlobRecord> = orig.iter().filter(|r| r.key != pkgidx).cloned().collect();
        assert_eq!(set.records, expect);
    }
    assert_eq!(damaged, orig.len());
    // A slot pointing past the file: only that slot is lost.
    let mut b = bytes.clone();
    b[32 + 8..32 + 12].copy_from_slice(&0x0FFF_FFFFu32.to_le_bytes());
    let set = read_ndb_packages(&b).unwrap();
    assert_eq!(set.records.len(), orig.len() - 1);
    assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    // A header whose slot-page count points beyond the file is unusable.
    let mut b = bytes.clone();
    b[12..16].copy_from_slice(&100_000u32.to_le_bytes());
    assert!(read_ndb_packages(&b).is_err());
}

/// Patch a little-endian u32 in page `pgno` of a 4096-byte-page file.
fn patch(b: &mut [u8], pgno: usize, off: usize, v: u32) {
    let at = pgno * 4096 + off;
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn bdb_overflow_loops_and_bad_page_numbers() {
    let bytes = fixture("rhel8-libuuid/Packages");
    let orig = read_bdb_packages(&bytes).unwrap();
    // The package's chain runs through pages 3..=22 (see the fixture).
    for (page, next) in [
        (10usize, 10u32),
        (10, 5),
        (22, 3),
        (4, 0xFFFF_FFFF),
        (4, 23),
        (4, 0),
    ] {
        let mut b = bytes.clone();
        patch(&mut b, page, 16, next);
        let what = format!("page {page} next -> {next}");
        let set = run(bdb, &b, &what).unwrap();
        if (page, next) == (22, 3) {
            // The last page's next is never followed: the length is reached.
            assert_eq!(set, orig, "{what}");
        } else {
            assert!(set.records.is_empty(), "{what}");
            assert_eq!(set.errors.len(), 1, "{what}: {:?}", set.errors);
        }
    }
    // last_pgno far beyond the file: the pages that exist are still read.
    let mut b = bytes.clone();
    patch(&mut b, 0, 32, 0xFFFF_FFFF);
    let set = read_bdb_packages(&b).unwrap();
    assert_eq!(set.records, orig.records);
    assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    // Damage to the key-0 page (the item index of page 1) is local.
    let mut b = bytes.clone();
    b[4096 + 26..4096 + 30].copy_from_slice(&[0xff; 4]);
    let set = read_bdb_packages(&b).unwrap();
    assert_eq!(set.records, orig.records);
    // A metadata page with an impossible page size is unusable.
    let mut b = bytes.clone();
    patch(&mut b, 0, 20, 3000);
    assert!(read_bdb_packages(&b).is_err());
}
