//! Reader for rpm's Berkeley DB `Packages` file (hash access method), from bytes.
//!
//! rpm up to 4.15 (RHEL/CentOS 5–8, older SUSE and Fedora) keeps every
//! installed package's header in `/var/lib/rpm/Packages`, a Berkeley DB *hash*
//! database: key = the header's instance number (a native-endian `u32`),
//! value = the header blob exactly as `headerExport()` writes it (index count,
//! data length, index entries, data store; no 8-byte header magic). This
//! module reads that file without libdb and returns the raw key/blob pairs;
//! parsing a blob is [`super::header`]'s job.
//!
//! # On-disk format (what we rely on)
//!
//! The file is an array of fixed-size pages. Every page starts with the
//! generic 26-byte page header:
//!
//! | off | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | LSN (log sequence number; ignored) |
//! | 8 | 4 | `pgno`: the page's own number |
//! | 12 | 4 | `prev_pgno` |
//! | 16 | 4 | `next_pgno` |
//! | 20 | 2 | `entries`: number of index slots |
//! | 22 | 2 | `hf_offset`: first byte of the item area; on overflow pages: bytes of data on the page |
//! | 24 | 1 | level (btree only) |
//! | 25 | 1 | page type |
//!
//! Page 0 is the *metadata page*: the same first 26 bytes reinterpreted as
//! `DBMETA` (magic at 12, version at 16, page size at 20, encryption algorithm
//! at 24, type `P_HASHMETA` = 8 at 25, meta flags at 26, `last_pgno` at 32),
//! followed by the hash fields (`max_bucket` at 72, ..., `spares`). All
//! integers are in the byte order of the machine that created the file; the
//! magic 0x061561 read in the wrong order tells us to swap, so both byte
//! orders are supported.
//!
//! Hash pages (`P_HASH` = 13, or `P_HASH_UNSORTED` = 2 written by old
//! libdb) hold an array of `u16` item offsets right after the header; items
//! are packed from the end of the page downwards, so item `i` spans
//! `inp[i] .. inp[i-1]` (item 0 ends at the page end). Slots alternate key,
//! data. The first byte of an item is its type:
//! * `H_KEYDATA` (1): the bytes follow inline;
//! * `H_OFFPAGE` (3): 12 bytes `type, pad[3], pgno: u32, tlen: u32`: the value
//!   lives on a chain of `P_OVERFLOW` (7) pages starting at `pgno`, each
//!   carrying `hf_offset` data bytes after its header and linked by
//!   `next_pgno` (0 ends the chain), `prev_pgno` pointing back;
//! * `H_DUPLICATE` (2) / `H_OFFDUP` (4): duplicate sets, never used by rpm
//!   (its Packages db has unique keys); reported per record.
//!
//! Instead of walking the hash buckets (which needs the bucket→page mapping
//! through `spares` and is one more thing a damaged file can get wrong), we
//! visit every page up to `last_pgno` and take the pairs of every hash page:
//! every live key/data pair is on exactly one hash page, free pages have
//! another type. This is also what librpm's `bdb_ro` backend and go-rpmdb do.
//!
//! The record with key 0 is rpm's bookkeeping (the next instance number), not
//! a header, and is skipped.
//!
//! # Hostile input
//!
//! Every offset, count and page number is checked against the file before
//! use; damage to one record becomes a string in [`BlobSet::errors`] and the
//! other records are still returned. Work and output are bounded by the file
//! size: each overflow page may be consumed by at most one chain (which also
//! detects cycles), inline items may not overlap, so no input can make us
//! produce more than about one copy of the file.

use std::collections::BTreeMap;

use crate::codec::{Endian, Reader};

/// One stored rpm header: the database key (rpm's header instance number)
/// and the header blob as rpm stores it (big-endian `il`, `dl`, then
/// `16 * il` bytes of index entries and `dl` bytes of data; no 8-byte magic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRecord {
    pub key: u32,
    pub blob: Vec<u8>,
}

/// Everything that could be read from one database file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlobSet {
    /// Readable records, sorted by key, keys unique.
    pub records: Vec<BlobRecord>,
    /// One message per record (or damaged region) that could not be read,
    /// saying what and where. Records not named here were read normally.
    pub errors: Vec<String>,
}

/// Why a file is not a readable Berkeley DB hash database at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BdbError {
    #[error("file too short for a Berkeley DB metadata page ({len} bytes)")]
    TooShort { len: usize },
    #[error("not a Berkeley DB file (no hash/btree/queue/heap magic at offset 12)")]
    NotBdb,
    #[error("Berkeley DB file but not a hash database (magic {magic:#x})")]
    NotHash { magic: u32 },
    #[error("unsupported Berkeley DB hash version {0} (supported: 7..=10)")]
    UnsupportedVersion(u32),
    #[error("invalid page size {0} (must be a power of two from 512 to 65536)")]
    BadPageSize(u32),
    #[error("unsupported Berkeley DB feature: {0}")]
    Unsupported(&'static str),
    #[error("metadata page is damaged: {0}")]
    BadMeta(String),
}

/// Berkeley DB hash magic (`DB_HASHMAGIC`).
pub const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const QUEUE_MAGIC: u32 = 0x0004_2253;
const HEAP_MAGIC: u32 = 0x0007_4582;

/// Size of the generic page header (`SIZEOF_PAGE`).
const PAGE_HEADER: usize = 26;
/// Bytes of the meta page we read (`DBMETA` + hash fields up to `h_charkey`).
const META_MIN: usize = 96;

const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;
/// Size of an `H_OFFPAGE` item (`HOFFPAGE_SIZE`).
const HOFFPAGE_SIZE: usize = 12;

/// `DBMETA.metaflags` bit: pages carry checksums (changes the page layout).
const DBMETA_CHKSUM: u8 = 0x01;

/// Magic of a Berkeley DB file, in either byte order, if any (the byte
/// order the magic is in is the file's).
fn bdb_magic(bytes: &[u8]) -> Option<(u32, Endian)> {
    for order in [Endian::Little, Endian::Big] {
        let m = Reader::new(bytes).u32_at(12, order).ok()?;
        if [HASH_MAGIC, BTREE_MAGIC, QUEUE_MAGIC, HEAP_MAGIC].contains(&m) {
            return Some((m, order));
        }
    }
    None
}

/// Whether `bytes` starts with a Berkeley DB *hash* metadata page (magic
/// 0x061561 at offset 12 in either byte order). Cheap sniffing only; a `true`
/// does not promise [`read_bdb_packages`] succeeds.
pub fn is_bdb_hash(bytes: &[u8]) -> bool {
    matches!(bdb_magic(bytes), Some((HASH_MAGIC, _)))
}

/// The metadata we use, validated.
struct Meta {
    order: Endian,
    page_size: usize,
    /// Pages we may read: `min(last_pgno + 1, whole pages in the file)`.
    npages: usize,
}

fn read_meta(bytes: &[u8], errors: &mut Vec<String>) -> Result<Meta, BdbError> {
    if bytes.len() < 16 {
        return Err(BdbError::TooShort { len: bytes.len() });
    }
    let (magic, order) = bdb_magic(bytes).ok_or(BdbError::NotBdb)?;
    if magic != HASH_MAGIC {
        // A btree (rpm's index files, e.g. `Name`) is BDB but has no headers.
        return Err(BdbError::NotHash { magic });
    }
    if bytes.len() < META_MIN {
        return Err(BdbError::TooShort { len: bytes.len() });
    }
    let file = Reader::new(bytes);
    let too_short = |_| BdbError::TooShort { len: bytes.len() };
    let get32 = |off| file.u32_at(off, order).map_err(too_short);
    let get8 = |off| file.u8_at(off).map_err(too_short);
    // Hash versions 7 (libdb 3.x) to 10 (libdb 6.x) share the page layout
    // read here; older ones used a different hash item encoding.
    let version = get32(16)?;
    if !(7..=10).contains(&version) {
        return Err(BdbError::UnsupportedVersion(version));
    }
    // The page size drives every offset computation; libdb only creates
    // powers of two between 512 B and 64 KiB, anything else is damage.
    let page_size = get32(20)?;
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(BdbError::BadPageSize(page_size));
    }
    // Encryption and page checksums move the item index behind extra
    // per-page bytes (and encrypted pages are unreadable anyway); rpm never
    // enables either for Packages, so refuse rather than misread.
    if get8(24)? != 0 {
        return Err(BdbError::Unsupported("encrypted database"));
    }
    if get8(26)? & DBMETA_CHKSUM != 0 {
        return Err(BdbError::Unsupported("page checksums"));
    }
    let page_type = get8(25)?;
    if page_type != P_HASHMETA {
        return Err(BdbError::BadMeta(format!(
            "page type {page_type} at page 0, expected hash metadata ({P_HASHMETA})"
        )));
    }
    if get32(8)? != 0 {
        return Err(BdbError::BadMeta(
            "metadata page does not say it is page 0".into(),
        ));
    }
    let page_size = page_size as usize;
    if bytes.len() < page_size {
        return Err(BdbError::BadMeta(format!(
            "file ({} bytes) is shorter than one {page_size}-byte page",
            bytes.len()
        )));
    }
    let last_pgno = get32(32)? as u64;
    let file_pages = (bytes.len() / page_size) as u64;
    if !bytes.len().is_multiple_of(page_size) {
        errors.push(format!(
            "file size {} is not a multiple of the page size {page_size}: last page {} is truncated",
            bytes.len(),
            file_pages
        ));
    }
    if last_pgno + 1 > file_pages {
        errors.push(format!(
            "metadata says the last page is {last_pgno} but the file holds only {file_pages} whole pages: \
             the file is truncated, records on missing pages are lost"
        ));
    }
    // `npages` is capped by the file, so every loop below is bounded by the
    // input length whatever `last_pgno` claims.
    let npages = (last_pgno + 1).min(file_pages) as usize;
    Ok(Meta {
        order,
        page_size,
        npages,
    })
}

/// Read every key/data pair of a Berkeley DB hash `Packages` file and return
/// the rpm header blobs, sorted by key. Errors only when the file is not a
/// usable BDB hash database; damage to individual records is reported in
/// [`BlobSet::errors`].
pub fn read_bdb_packages(bytes: &[u8]) -> Result<BlobSet, BdbError> {
    let mut errors = Vec::new();
    let meta = read_meta(bytes, &mut errors)?;
    let mut pages = Pages {
        file: Reader::new(bytes),
        meta: &meta,
        claimed: vec![false; meta.npages],
    };
    let mut records: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for pgno in 1..meta.npages {
        // Every page below `npages` is whole (see `read_meta`).
        let Ok(page) = pages.page(pgno) else { break };
        let ptype = page.u8_at(25).unwrap_or(0);
        if ptype != P_HASH && ptype != P_HASH_UNSORTED {
            continue;
        }
        pages.hash_page(pgno, &page, &mut records, &mut errors);
    }
    Ok(BlobSet {
        records: records
            .into_iter()
            .map(|(key, blob)| BlobRecord { key, blob })
            .collect(),
        errors,
    })
}

/// The file as pages.
struct Pages<'a> {
    file: Reader<'a>,
    meta: &'a Meta,
    /// Overflow pages already consumed by a chain: a valid file never shares
    /// one, so a second use means a cycle or a crossed link. This keeps the
    /// total work and output linear in the file size.
    claimed: Vec<bool>,
}

impl<'a> Pages<'a> {
    /// Page `pgno` as a reader of its `page_size` bytes.
    fn page(&self, pgno: usize) -> Result<Reader<'a>, String> {
        let ps = self.meta.page_size;
        pgno.checked_mul(ps)
            .ok_or_else(|| format!("page {pgno} is past the end of the file"))
            .and_then(|start| {
                self.file
                    .bytes_at(start, ps)
                    .map_err(|e| format!("page {pgno}: {e}"))
            })
            .map(Reader::new)
    }

    fn hash_page(
        &mut self,
        pgno: usize,
        page: &Reader<'a>,
        records: &mut BTreeMap<u32, Vec<u8>>,
        errors: &mut Vec<String>,
    ) {
        let o = self.meta.order;
        let ps = self.meta.page_size;
        // A hash page whose self-number is wrong is a stale or misplaced copy:
        // its offsets cannot be trusted.
        let own = page.u32_at(8, o).unwrap_or(0) as usize;
        if own != pgno {
            errors.push(format!(
                "page {pgno}: hash page claims to be page {own}; skipped"
            ));
            return;
        }
        let entries = page.u16_at(20, o).unwrap_or(0) as usize;
        let index_end = PAGE_HEADER + 2 * entries;
        // The index grows up from the header, items down from the end; an
        // index that does not fit leaves no room for any item.
        if index_end > ps {
            errors.push(format!(
                "page {pgno}: {entries} index entries do not fit in a {ps}-byte page; page skipped"
            ));
            return;
        }
        if !entries.is_multiple_of(2) {
            errors.push(format!(
                "page {pgno}: odd number of index entries ({entries}); the unpaired last one is ignored"
            ));
        }
        // The index fits in the page (checked above).
        let inp = |i: usize| page.u16_at(PAGE_HEADER + 2 * i, o).unwrap_or(0) as usize;
        // Item i spans inp[i] .. inp[i-1] (item 0 ends at the page end).
        let item = |i: usize| -> Result<&'a [u8], String> {
            let off = inp(i);
            let end = if i == 0 { ps } else { inp(i - 1) };
            // Items must lie past the index and must not overlap (strictly
            // decreasing offsets): overlapping items would let one page's
            // bytes be emitted many times.
            if off < index_end || off >= end || end > ps {
                return Err(format!(
                    "item {i} has bad offset {off} (item area {index_end}..{end})"
                ));
            }
            page.bytes_at(off, end - off)
                .map_err(|e| format!("item {i}: {e}"))
        };
        for pair in 0..entries / 2 {
            let where_ = |what: &str| format!("page {pgno} pair {pair}: {what}");
            let key_item = match item(2 * pair) {
                Ok(it) => it,
                Err(e) => {
                    errors.push(where_(&format!("key {e}; record skipped")));
                    continue;
                }
            };
            let key_bytes = match self.value(key_item) {
                Ok(k) => k,
                Err(e) => {
                    errors.push(where_(&format!("key: {e}; record skipped")));
                    continue;
                }
            };
            let mut key = Reader::new(&key_bytes);
            let key_num = match key.u32(o) {
                Ok(k) if !key.any_left() => k,
                _ => {
                    errors.push(where_(&format!(
                        "key is {} bytes, rpm keys are 4; record skipped",
                        key_bytes.len()
                    )));
                    continue;
                }
            };
            let data = item(2 * pair + 1).and_then(|it| self.value(it));
            // Key 0 is rpm's "next instance number" record, not a header.
            if key_num == 0 {
                continue;
            }
            match data {
                Err(e) => errors.push(where_(&format!("key {key_num}: data {e}; record skipped"))),
                Ok(blob) => {
                    if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(key_num)
                    {
                        slot.insert(blob);
                    } else {
                        errors.push(where_(&format!(
                            "key {key_num} appears twice; the second copy is ignored"
                        )));
                    }
                }
            }
        }
    }

    /// The bytes of a key or data item: inline, or gathered from its
    /// overflow chain.
    fn value(&mut self, item: &[u8]) -> Result<Vec<u8>, String> {
        let mut r = Reader::new(item);
        match r.u8().map_err(|_| "is empty".to_string())? {
            H_KEYDATA => Ok(r.rest().to_vec()),
            H_OFFPAGE => {
                let o = self.meta.order;
                let (Ok(()), Ok(first), Ok(tlen)) = (r.skip(3), r.u32(o), r.u32(o)) else {
                    return Err(format!(
                        "off-page item is {} bytes, expected {HOFFPAGE_SIZE}",
                        item.len()
                    ));
                };
                self.overflow(first, tlen)
            }
            H_DUPLICATE | H_OFFDUP => Err("is a duplicate set, which rpm never writes".into()),
            t => Err(format!("has unknown item type {t}")),
        }
    }

    /// Follow an overflow chain from `first`, collecting `tlen` bytes.
    fn overflow(&mut self, first: u32, tlen: u32) -> Result<Vec<u8>, String> {
        let o = self.meta.order;
        let ps = self.meta.page_size;
        let npages = self.meta.npages;
        let tlen = tlen as usize;
        // Every byte of the value is on some page of this file: a longer
        // claim is damage, and refusing it bounds the allocation below.
        let file_len = self.file.input().len();
        if tlen > file_len {
            return Err(format!(
                "overflow length {tlen} exceeds the file size {file_len}"
            ));
        }
        let mut out = Vec::with_capacity(tlen);
        let mut pgno = first as usize;
        let mut prev = 0usize;
        while out.len() < tlen {
            if pgno == 0 {
                return Err(format!(
                    "overflow chain from page {first} ends after {} of {tlen} bytes",
                    out.len()
                ));
            }
            if pgno >= npages {
                return Err(format!(
                    "overflow chain from page {first} points to page {pgno}, beyond the last readable page {}",
                    npages.saturating_sub(1)
                ));
            }
            if self.claimed[pgno] {
                return Err(format!(
                    "overflow chain from page {first} reaches page {pgno} again (cycle or shared page)"
                ));
            }
            self.claimed[pgno] = true;
            let page = self.page(pgno)?;
            let ptype = page.u8_at(25).map_err(|e| format!("page {pgno}: {e}"))?;
            if ptype != P_OVERFLOW {
                return Err(format!(
                    "overflow chain from page {first}: page {pgno} has type {ptype}, not overflow"
                ));
            }
            // prev_pgno must point back along the chain: this catches a
            // record pointing into the middle of another record's chain.
            let back = page.u32_at(12, o).unwrap_or(u32::MAX) as usize;
            if back != prev {
                return Err(format!(
                    "overflow chain from page {first}: page {pgno} links back to {back}, expected {prev}"
                ));
            }
            let on_page = page.u16_at(22, o).unwrap_or(0) as usize;
            if on_page > ps - PAGE_HEADER {
                return Err(format!(
                    "overflow page {pgno} claims {on_page} bytes, more than a page holds"
                ));
            }
            let take = on_page.min(tlen - out.len());
            let data = page
                .bytes_at(PAGE_HEADER, take)
                .map_err(|e| format!("overflow page {pgno}: {e}"))?;
            out.extend_from_slice(data);
            prev = pgno;
            pgno = page.u32_at(16, o).unwrap_or(0) as usize;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_and_reject() {
        assert!(!is_bdb_hash(b""));
        assert!(!is_bdb_hash(&[0u8; 512]));
        assert_eq!(
            read_bdb_packages(b"short"),
            Err(BdbError::TooShort { len: 5 })
        );
        assert_eq!(read_bdb_packages(&[0u8; 4096]), Err(BdbError::NotBdb));
        let mut btree = vec![0u8; 4096];
        btree[12..16].copy_from_slice(&BTREE_MAGIC.to_le_bytes());
        assert!(matches!(
            read_bdb_packages(&btree),
            Err(BdbError::NotHash { .. })
        ));
    }

    #[test]
    fn minimal_both_orders() {
        for order in [Endian::Little, Endian::Big] {
            let ps = 512usize;
            let mut f = vec![0u8; ps * 3];
            let put32 = |f: &mut [u8], off: usize, v: u32| {
                let b = match order {
                    Endian::Little => v.to_le_bytes(),
                    Endian::Big => v.to_be_bytes(),
                };
                f[off..off + 4].copy_from_slice(&b);
            };
            let put16 = |f: &mut [u8], off: usize, v: u16| {
                let b = match order {
                    Endian::Little => v.to_le_bytes(),
                    Endian::Big => v.to_be_bytes(),
                };
                f[off..off + 2].copy_from_slice(&b);
            };
            put32(&mut f, 12, HASH_MAGIC);
            put32(&mut f, 16, 9);
            put32(&mut f, 20, ps as u32);
            f[25] = P_HASHMETA;
            put32(&mut f, 32, 2);
            // page 1: one inline pair, key 7 -> "abc"
            let p = ps;
            put32(&mut f, p + 8, 1);
            put16(&mut f, p + 20, 2);
            f[p + 25] = P_HASH;
            let key_off = ps - 5;
            let data_off = key_off - 4;
            put16(&mut f, p + 26, key_off as u16);
            put16(&mut f, p + 28, data_off as u16);
            f[p + key_off] = H_KEYDATA;
            put32(&mut f, p + key_off + 1, 7);
            f[p + data_off] = H_KEYDATA;
            f[p + data_off + 1..p + data_off + 4].copy_from_slice(b"abc");
            assert!(is_bdb_hash(&f));
            let set = read_bdb_packages(&f).unwrap();
            assert_eq!(set.errors, Vec::<String>::new());
            assert_eq!(
                set.records,
                vec![BlobRecord {
                    key: 7,
                    blob: b"abc".to_vec()
                }]
            );
        }
    }
}
