//! Reader for rpm's NDB `Packages.db` (the "ndb" backend, used by SUSE since
//! SLE 15 / openSUSE), from bytes.
//!
//! # On-disk format (rpm `lib/backend/ndb/rpmpkg.c`)
//!
//! All integers are little-endian `u32`, whatever the host. The file is
//! addressed in 16-byte *blocks*.
//!
//! * Header, bytes 0..32: magic `"RpmP"`, version (0), generation,
//!   `slotnpages`, next package index, 12 reserved bytes.
//! * Slot area: `slotnpages` pages of 4096 bytes starting at offset 0 (the
//!   header occupies the first two 16-byte slots of page 0). Each slot is
//!   magic `"Slot"`, `pkgidx`, `blkoff`, `blkcnt`. `blkoff == 0` marks a free
//!   slot; otherwise the package's blob occupies blocks
//!   `blkoff .. blkoff + blkcnt`, which must lie after the slot area.
//! * Blob, at byte `blkoff * 16`: head (magic `"BlbS"`, `pkgidx`, timestamp,
//!   `bloblen`), then `bloblen` bytes of rpm header blob, zero padding to the
//!   block boundary, and a 12-byte tail at the very end of the blocks:
//!   Adler-32 of everything from the head up to the tail, `bloblen` again, and
//!   magic `"BlbE"`. `blkcnt` must equal `ceil((16 + bloblen + 12) / 16)`.
//!
//! The blob is the header as `headerExport()` writes it (index count, data
//! length, index, data; no 8-byte magic), exactly like the BDB and sqlite
//! backends store it.
//!
//! # Checks, and why
//!
//! librpm refuses the whole database on the first bad slot; we report the
//! slot in [`BlobSet::errors`] and keep reading, so one damaged slot page
//! does not hide every other package. Each blob is checked the way librpm's
//! `rpmpkgVerifyblob` does (magics, `pkgidx` in head = slot, length
//! consistency, Adler-32). Note librpm's plain *read* path skips the Adler-32
//! check; we do not, because the checksum is the only integrity evidence the
//! format has and a header we cannot vouch for should be named, not parsed.
//! Blobs whose blocks overlap an earlier blob are refused: a valid file never
//! shares blocks, and allowing it would let a small file name one large blob
//! thousands of times (output quadratic in the input).

use std::collections::BTreeMap;

pub use super::bdb::{BlobRecord, BlobSet};
use crate::codec::{Endian, Invalid, Reader};

/// Why a file is not a readable NDB `Packages.db` at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NdbError {
    #[error("file too short for an NDB header ({len} bytes)")]
    TooShort { len: usize },
    #[error("not an rpm NDB Packages.db (no \"RpmP\" magic)")]
    NotNdb,
    #[error("unsupported NDB version {0} (supported: 0)")]
    UnsupportedVersion(u32),
    #[error("NDB header says there are no slot pages")]
    NoSlotPages,
    #[error("NDB header claims {slotnpages} slot pages but the file has only {len} bytes")]
    SlotPagesTruncated { slotnpages: u32, len: usize },
}

const PKGDB_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOBHEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOBTAIL_MAGIC: &[u8; 4] = b"BlbE";
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLK_SIZE: u64 = 16;
const PAGE_SIZE: usize = 4096;
const BLOBHEAD_SIZE: u64 = 16;
const BLOBTAIL_SIZE: u64 = 12;

/// Whether `bytes` starts with an NDB `Packages.db` header (magic `"RpmP"`,
/// version 0). Cheap sniffing only.
pub fn is_ndb(bytes: &[u8]) -> bool {
    let r = Reader::new(bytes);
    bytes.len() >= HEADER_SIZE
        && r.bytes_at(0, 4) == Ok(PKGDB_MAGIC)
        && r.u32_at(4, Endian::Little) == Ok(0)
}

/// Adler-32 (RFC 1950), as rpmpkg.c computes it over head + blob + padding.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n keeping b below 2^32 before the modulo.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Read every package blob of an NDB `Packages.db`, sorted by package index.
/// Errors only when the header or slot area is unusable; damage to
/// individual slots or blobs is reported in [`BlobSet::errors`].
pub fn read_ndb_packages(bytes: &[u8]) -> Result<BlobSet, NdbError> {
    let file = Reader::new(bytes);
    let too_short = |_| NdbError::TooShort { len: bytes.len() };
    let mut head = file.clone().sub(HEADER_SIZE).map_err(too_short)?;
    if head.take(4).map_err(too_short)? != PKGDB_MAGIC {
        return Err(NdbError::NotNdb);
    }
    let version = head.u32_le().map_err(too_short)?;
    if version != 0 {
        return Err(NdbError::UnsupportedVersion(version));
    }
    let _generation = head.u32_le().map_err(too_short)?;
    let slotnpages = head.u32_le().map_err(too_short)?;
    if slotnpages == 0 {
        return Err(NdbError::NoSlotPages);
    }
    // Checked against the file before anything is sized by it.
    let Some(mut slot_pages) = (slotnpages as usize)
        .checked_mul(PAGE_SIZE)
        .and_then(|n| file.clone().sub(n).ok())
    else {
        return Err(NdbError::SlotPagesTruncated {
            slotnpages,
            len: bytes.len(),
        });
    };
    let slot_area = slot_pages.left();
    let mut errors = Vec::new();
    if !(bytes.len() as u64).is_multiple_of(BLK_SIZE) {
        errors.push(format!(
            "file size {} is not a multiple of the {BLK_SIZE}-byte block size (truncated?)",
            bytes.len()
        ));
    }
    let fileblks = bytes.len() as u64 / BLK_SIZE;
    let minblkoff = (slot_area as u64) / BLK_SIZE;

    // Pass 1: the slots. (slot number, pkgidx, blkoff, blkcnt)
    let mut slots: Vec<(usize, u32, u64, u64)> = Vec::new();
    // The header takes the first two slots; the slot area is whole pages,
    // so it holds whole slots.
    slot_pages.skip(HEADER_SIZE).map_err(too_short)?;
    while slot_pages.any_left() {
        let off = slot_pages.used();
        let slotno = off / SLOT_SIZE;
        let Ok(mut s) = slot_pages.sub(SLOT_SIZE) else {
            break;
        };
        let (Ok(magic), Ok(pkgidx), Ok(blkoff), Ok(blkcnt)) =
            (s.take(4), s.u32_le(), s.u32_le(), s.u32_le())
        else {
            break;
        };
        if magic != SLOT_MAGIC {
            errors.push(format!(
                "slot {slotno} (offset {off}): bad slot magic; skipped"
            ));
            continue;
        }
        let blkoff = u64::from(blkoff);
        let blkcnt = u64::from(blkcnt);
        if blkoff == 0 {
            continue; // free slot
        }
        let why = if pkgidx == 0 {
            Some("package index 0".to_string())
        } else if blkcnt == 0 {
            Some("zero block count".to_string())
        } else if blkoff < minblkoff {
            Some(format!(
                "blob offset block {blkoff} lies inside the slot pages"
            ))
        } else if blkoff + blkcnt > fileblks {
            Some(format!(
                "blob blocks {blkoff}..{} extend past the end of the file ({fileblks} blocks)",
                blkoff + blkcnt
            ))
        } else {
            None
        };
        if let Some(why) = why {
            errors.push(format!("slot {slotno} (package {pkgidx}): {why}; skipped"));
            continue;
        }
        slots.push((slotno, pkgidx, blkoff, blkcnt));
    }

    // Pass 2: the blobs, in file order so overlaps are seen.
    slots.sort_by_key(|&(_, _, blkoff, _)| blkoff);
    let mut records: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut end_of_prev = 0u64;
    for (slotno, pkgidx, blkoff, blkcnt) in slots {
        let what = |why: String| {
            format!("slot {slotno} (package {pkgidx}, block {blkoff}): {why}; skipped")
        };
        if blkoff < end_of_prev {
            errors.push(what(format!(
                "blob overlaps the previous blob ending at block {end_of_prev}"
            )));
            continue;
        }
        end_of_prev = blkoff + blkcnt;
        // In range: checked in pass 1 against `fileblks`.
        let area = file.bytes_at((blkoff * BLK_SIZE) as usize, (blkcnt * BLK_SIZE) as usize);
        match area
            .map_err(|e| e.to_string())
            .and_then(|a| read_blob(a, pkgidx))
        {
            Ok(blob) => {
                if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(pkgidx) {
                    slot.insert(blob.to_vec());
                } else {
                    errors.push(what(
                        "package index appears in two slots; the later blob is ignored".into(),
                    ));
                }
            }
            Err(why) => errors.push(what(why)),
        }
    }
    Ok(BlobSet {
        records: records
            .into_iter()
            .map(|(key, blob)| BlobRecord { key, blob })
            .collect(),
        errors,
    })
}

/// Validate one blob area (`blkcnt` blocks) and return its payload.
fn read_blob(area: &[u8], pkgidx: u32) -> Result<&[u8], String> {
    let len = area.len() as u64;
    if len < BLOBHEAD_SIZE + BLOBTAIL_SIZE {
        return Err(format!("{len} bytes cannot hold a blob head and tail"));
    }
    let short = |e: Invalid| format!("blob: {e}");
    let mut head = Reader::new(area);
    if head.take(4).map_err(short)? != BLOBHEAD_MAGIC {
        return Err("bad blob head magic".into());
    }
    // The head repeats the package index so a slot pointing at the wrong
    // blob (stale slot, interrupted move) is detected.
    let head_idx = head.u32_le().map_err(short)?;
    if head_idx != pkgidx {
        return Err(format!("blob head belongs to package {head_idx}"));
    }
    let _timestamp = head.u32_le().map_err(short)?;
    let bloblen = head.u32_le().map_err(short)?;
    let need = (BLOBHEAD_SIZE + u64::from(bloblen) + BLOBTAIL_SIZE).div_ceil(BLK_SIZE);
    if need * BLK_SIZE != len {
        return Err(format!(
            "blob length {bloblen} needs {need} blocks but the slot has {}",
            len / BLK_SIZE
        ));
    }
    let tail = (len - BLOBTAIL_SIZE) as usize;
    let mut t = head.at(tail).map_err(short)?;
    let stored = t.u32_le().map_err(short)?;
    let tail_len = t.u32_le().map_err(short)?;
    if t.take(4).map_err(short)? != BLOBTAIL_MAGIC {
        return Err("bad blob tail magic".into());
    }
    if tail_len != bloblen {
        return Err(format!(
            "blob tail says length {tail_len}, head says {bloblen}"
        ));
    }
    let checked = head.bytes_at(0, tail).map_err(short)?;
    let computed = adler32(checked);
    if stored != computed {
        return Err(format!(
            "Adler-32 mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    head.bytes_at(BLOBHEAD_SIZE as usize, bloblen as usize)
        .map_err(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler_known_value() {
        // RFC 1950 / zlib: adler32("Wikipedia") = 0x11E60398
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        let big = vec![0xffu8; 100_000];
        // Reference computed with the textbook per-byte modulo form.
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &big {
            a = (a + u64::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&big), ((b << 16) | a) as u32);
    }

    fn build(blobs: &[(u32, &[u8])]) -> Vec<u8> {
        let mut f = vec![0u8; PAGE_SIZE];
        f[0..4].copy_from_slice(PKGDB_MAGIC);
        f[12..16].copy_from_slice(&1u32.to_le_bytes());
        for off in (HEADER_SIZE..PAGE_SIZE).step_by(SLOT_SIZE) {
            f[off..off + 4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, (idx, data)) in blobs.iter().enumerate() {
            let blkoff = f.len() as u64 / BLK_SIZE;
            let blkcnt = (BLOBHEAD_SIZE + data.len() as u64 + BLOBTAIL_SIZE).div_ceil(BLK_SIZE);
            let mut area = vec![0u8; (blkcnt * BLK_SIZE) as usize];
            area[0..4].copy_from_slice(BLOBHEAD_MAGIC);
            area[4..8].copy_from_slice(&idx.to_le_bytes());
            area[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
            area[16..16 + data.len()].copy_from_slice(data);
            let t = area.len() - 12;
            let ad = adler32(&area[..t]);
            area[t..t + 4].copy_from_slice(&ad.to_le_bytes());
            area[t + 4..t + 8].copy_from_slice(&(data.len() as u32).to_le_bytes());
            area[t + 8..t + 12].copy_from_slice(BLOBTAIL_MAGIC);
            f.extend_from_slice(&area);
            let s = HEADER_SIZE + i * SLOT_SIZE;
            f[s + 4..s + 8].copy_from_slice(&idx.to_le_bytes());
            f[s + 8..s + 12].copy_from_slice(&(blkoff as u32).to_le_bytes());
            f[s + 12..s + 16].copy_from_slice(&(blkcnt as u32).to_le_bytes());
        }
        f
    }

    #[test]
    fn roundtrip_and_overlap() {
        let f = build(&[(5, b"hello"), (2, b"world!!")]);
        assert!(is_ndb(&f));
        let set = read_ndb_packages(&f).unwrap();
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(
            set.records[0],
            BlobRecord {
                key: 2,
                blob: b"world!!".to_vec()
            }
        );
        assert_eq!(
            set.records[1],
            BlobRecord {
                key: 5,
                blob: b"hello".to_vec()
            }
        );
        // A third slot reusing blob 5's blocks is refused (overlap).
        let mut g = f.clone();
        let s = HEADER_SIZE + 2 * SLOT_SIZE;
        let copy: Vec<u8> = g[HEADER_SIZE + 4..HEADER_SIZE + 16].to_vec();
        g[s + 4..s + 16].copy_from_slice(&copy);
        let set = read_ndb_packages(&g).unwrap();
        assert_eq!(set.records.len(), 2);
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    }

    #[test]
    fn rejects() {
        assert_eq!(
            read_ndb_packages(b"RpmP"),
            Err(NdbError::TooShort { len: 4 })
        );
        assert_eq!(read_ndb_packages(&[0u8; 64]), Err(NdbError::NotNdb));
        let mut f = build(&[]);
        f[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            read_ndb_packages(&f),
            Err(NdbError::SlotPagesTruncated { .. })
        ));
    }
}
