//! Partition tables and what a partition holds: GPT (primary header, the
//! backup when the primary is damaged), MBR (primary and logical
//! partitions; a protective MBR means GPT), and the signatures of the
//! filesystems and volume managers a partition can hold.
//!
//! Pure parsers over a [`BlockSource`]: every count, size and offset is
//! checked against the source before it is used (fuzz target
//! `fuzz/fuzz_targets/disk_layout.rs`).

use crate::ImageError;
use crate::block::{BlockSource, Slice};
use crate::bytes::{le16, le32, le64};

/// The partition table a disk image has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    Gpt,
    Mbr,
    /// No table: the image is one filesystem (a partition image).
    None,
}

impl TableKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Gpt => "gpt",
            TableKind::Mbr => "mbr",
            TableKind::None => "none",
        }
    }
}

/// What a partition's (or a whole image's) first bytes say it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// ext2, ext3 or ext4 (superblock magic 0xEF53 at byte 1080).
    Ext,
    /// XFS (`XFSB` at byte 0).
    Xfs,
    /// An LVM2 physical volume (`LABELONE` … `LVM2 001` in one of the
    /// first four sectors).
    Lvm2,
    /// Linux swap (`SWAPSPACE2`).
    Swap,
    /// FAT (an EFI system partition).
    Fat,
    /// btrfs, read by no reader here (said, never guessed).
    Btrfs,
    /// A LUKS-encrypted volume (said, never opened).
    Luks,
    /// A partition table inside a partition, or nothing known.
    Unknown,
}

impl Content {
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Ext => "ext",
            Content::Xfs => "xfs",
            Content::Lvm2 => "lvm2",
            Content::Swap => "swap",
            Content::Fat => "fat",
            Content::Btrfs => "btrfs",
            Content::Luks => "luks",
            Content::Unknown => "unknown",
        }
    }
}

/// One partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The number Linux gives it (`/dev/sda<number>`): GPT entry index + 1;
    /// MBR 1-4 primary, 5… logical.
    pub number: u32,
    /// Byte offset and length in the image.
    pub start: u64,
    pub len: u64,
    /// GPT: the type GUID (lower-case, as `sgdisk` prints it); MBR: the
    /// type byte as `0x83`.
    pub type_id: String,
    /// GPT: the partition name (UTF-16LE decoded); MBR: none.
    pub name: Option<String>,
    /// GPT: the unique partition GUID (lower-case; what `/etc/fstab`'s
    /// `PARTUUID=` names); MBR: none.
    pub unique_id: Option<String>,
    /// What its first bytes hold.
    pub content: Content,
}

/// A disk image's partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub table: TableKind,
    /// Sorted by number. For [`TableKind::None`]: one entry, number 0,
    /// covering the whole image.
    pub partitions: Vec<Partition>,
    /// What was wrong but could be read around (a damaged primary GPT
    /// header read from its backup, an entry past the end of the image).
    pub warnings: Vec<String>,
}

/// Most partitions read from one table (GPT allows 128 by default; MBR's
/// logical chain is followed at most this far).
pub const MAX_PARTITIONS: usize = 256;

/// Most bytes of a GPT partition entry array read (128 entries of 128
/// bytes is 16 KiB; sgdisk allows more entries, not this much).
const MAX_GPT_ARRAY: u64 = 1 << 20;

/// `&dyn BlockSource` as an owned source, for [`Slice`].
struct Borrowed<'a>(&'a dyn BlockSource);

impl BlockSource for Borrowed<'_> {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        self.0.read_at(offset, buf)
    }
}

/// `len` bytes at `offset`, or `None` when the source is shorter.
fn read_opt(src: &dyn BlockSource, offset: u64, len: usize) -> Result<Option<Vec<u8>>, ImageError> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= src.size() => {
            let mut buf = vec![0u8; len];
            src.read_at(offset, &mut buf)?;
            Ok(Some(buf))
        }
        _ => Ok(None),
    }
}

/// A FAT boot sector: a jump, a sane BIOS parameter block and the
/// filesystem type string of FAT12/16 (byte 54) or FAT32 (byte 82). An MBR
/// has the 0x55AA signature too, not the rest.
fn is_fat(s: &[u8]) -> bool {
    if s.len() < 512 || s[510] != 0x55 || s[511] != 0xAA {
        return false;
    }
    let jump = s[0] == 0xEB && s[2] == 0x90 || s[0] == 0xE9;
    let bps = le16(s, 11);
    let spc = s[13];
    let reserved = le16(s, 14);
    let fats = s[16];
    jump && matches!(bps, 512 | 1024 | 2048 | 4096)
        && spc.is_power_of_two()
        && reserved >= 1
        && (1..=2).contains(&fats)
        && (s[54..57] == *b"FAT" || s[82..87] == *b"FAT32")
}

/// The signature at the start of `src` (a whole image or a partition).
pub fn probe(src: &dyn BlockSource) -> Result<Content, ImageError> {
    let head_len = src.size().min(4096) as usize;
    let mut head = vec![0u8; head_len];
    src.read_at(0, &mut head)?;
    let at = |off: usize, magic: &[u8]| head.get(off..off + magic.len()) == Some(magic);
    if at(0, b"LUKS\xba\xbe") {
        return Ok(Content::Luks);
    }
    if at(0, b"XFSB") {
        return Ok(Content::Xfs);
    }
    for sector in 0..4 {
        if at(sector * 512, b"LABELONE") && at(sector * 512 + 24, b"LVM2 001") {
            return Ok(Content::Lvm2);
        }
    }
    if at(1080, &[0x53, 0xEF]) {
        return Ok(Content::Ext);
    }
    if let Some(b) = read_opt(src, 0x10040, 8)?
        && b == b"_BHRfS_M"
    {
        return Ok(Content::Btrfs);
    }
    if let Some(b) = read_opt(src, 4086, 10)?
        && (b == b"SWAPSPACE2" || b == b"SWAP-SPACE")
    {
        return Ok(Content::Swap);
    }
    if is_fat(&head) {
        return Ok(Content::Fat);
    }
    Ok(Content::Unknown)
}

/// A partition of `[start, start + len)` bytes checked against the image:
/// past its end it is skipped, across its end clamped (with a warning).
fn place(
    src: &dyn BlockSource,
    number: u32,
    start: u64,
    len: u64,
    warnings: &mut Vec<String>,
) -> Option<(u64, u64)> {
    let size = src.size();
    if len == 0 {
        return None;
    }
    if start >= size {
        warnings.push(format!(
            "partition {number} starts at byte {start}, past the end of the image ({size} bytes): skipped"
        ));
        return None;
    }
    let end = start.saturating_add(len);
    if end > size {
        warnings.push(format!(
            "partition {number} ends at byte {end}, past the end of the image ({size} bytes): clamped to {} bytes",
            size - start
        ));
        return Some((start, size - start));
    }
    Some((start, len))
}

/// A GPT header and its entry array, checked.
struct GptHeader {
    entries_lba: u64,
    count: u32,
    entry_size: u32,
    array_crc: u32,
}

fn gpt_header(src: &dyn BlockSource, lba: u64, sector: u64) -> Result<GptHeader, String> {
    let Some(off) = lba.checked_mul(sector) else {
        return Err(format!("LBA {lba} out of range"));
    };
    let h = read_opt(src, off, sector as usize)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("LBA {lba} past the end of the image"))?;
    if &h[0..8] != b"EFI PART" {
        return Err(format!("no signature at LBA {lba}"));
    }
    let hsize = le32(&h, 12) as usize;
    if !(92..=sector as usize).contains(&hsize) {
        return Err(format!("header size {hsize}"));
    }
    let stored = le32(&h, 16);
    let mut copy = h[..hsize].to_vec();
    copy[16..20].fill(0);
    let crc = crc32fast::hash(&copy);
    if crc != stored {
        return Err(format!("header CRC32 {stored:#010x}, computed {crc:#010x}"));
    }
    if le64(&h, 24) != lba {
        return Err(format!(
            "header at LBA {lba} says it is at LBA {}",
            le64(&h, 24)
        ));
    }
    let entries_lba = le64(&h, 72);
    let count = le32(&h, 80);
    let entry_size = le32(&h, 84);
    if entry_size < 128 || !entry_size.is_power_of_two() || entry_size > 4096 {
        return Err(format!("partition entry size {entry_size}"));
    }
    Ok(GptHeader {
        entries_lba,
        count,
        entry_size,
        array_crc: le32(&h, 88),
    })
}

fn gpt_array(src: &dyn BlockSource, h: &GptHeader, sector: u64) -> Result<Vec<u8>, String> {
    let len = u64::from(h.count) * u64::from(h.entry_size);
    if len > MAX_GPT_ARRAY {
        return Err(format!(
            "{} entries of {} bytes: more than {MAX_GPT_ARRAY} bytes",
            h.count, h.entry_size
        ));
    }
    let off = h
        .entries_lba
        .checked_mul(sector)
        .ok_or_else(|| format!("entry array LBA {}", h.entries_lba))?;
    let a = read_opt(src, off, len as usize)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "entry array at LBA {} past the end of the image",
                h.entries_lba
            )
        })?;
    let crc = crc32fast::hash(&a);
    if crc != h.array_crc {
        return Err(format!(
            "entry array CRC32 {:#010x}, computed {crc:#010x}",
            h.array_crc
        ));
    }
    Ok(a)
}

fn read_gpt(src: &dyn BlockSource, sector: u64) -> Result<Layout, ImageError> {
    let mut warnings = Vec::new();
    let primary =
        gpt_header(src, 1, sector).and_then(|h| gpt_array(src, &h, sector).map(|a| (h, a)));
    let (h, array) = match primary {
        Ok(x) => x,
        Err(why) => {
            let last = (src.size() / sector).saturating_sub(1);
            match gpt_header(src, last, sector)
                .and_then(|h| gpt_array(src, &h, sector).map(|a| (h, a)))
            {
                Ok(x) => {
                    warnings.push(format!(
                        "primary GPT header damaged ({why}): read the backup at LBA {last}"
                    ));
                    x
                }
                Err(backup) => {
                    return Err(ImageError::corrupt(
                        "GPT",
                        format!("primary header: {why}; backup header: {backup}"),
                    ));
                }
            }
        }
    };
    let mut partitions = Vec::new();
    for (i, e) in array.chunks_exact(h.entry_size as usize).enumerate() {
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let number = i as u32 + 1;
        if partitions.len() >= MAX_PARTITIONS {
            return Err(ImageError::Limit(format!(
                "more than {MAX_PARTITIONS} GPT partitions"
            )));
        }
        let mut guid = [0u8; 16];
        guid.copy_from_slice(&e[..16]);
        let type_id = uuid::Uuid::from_bytes_le(guid).to_string();
        guid.copy_from_slice(&e[16..32]);
        let unique_id = uuid::Uuid::from_bytes_le(guid).to_string();
        let first = le64(e, 32);
        let last = le64(e, 40);
        if last < first {
            warnings.push(format!(
                "partition {number}: last LBA {last} before first LBA {first}: skipped"
            ));
            continue;
        }
        let units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let name = String::from_utf16_lossy(&units);
        let (Some(start), Some(len)) = (
            first.checked_mul(sector),
            (last - first)
                .checked_add(1)
                .and_then(|n| n.checked_mul(sector)),
        ) else {
            warnings.push(format!("partition {number}: LBAs out of range: skipped"));
            continue;
        };
        let Some((start, len)) = place(src, number, start, len, &mut warnings) else {
            continue;
        };
        partitions.push(Partition {
            number,
            start,
            len,
            type_id,
            name: Some(name),
            unique_id: Some(unique_id),
            content: Content::Unknown,
        });
    }
    Ok(Layout {
        table: TableKind::Gpt,
        partitions,
        warnings,
    })
}

fn is_extended(t: u8) -> bool {
    matches!(t, 0x05 | 0x0f | 0x85)
}

fn mbr_entry(s: &[u8], i: usize) -> (u8, u8, u64, u64) {
    let e = &s[446 + 16 * i..446 + 16 * (i + 1)];
    (e[0], e[4], u64::from(le32(e, 8)), u64::from(le32(e, 12)))
}

fn read_mbr(src: &dyn BlockSource, mbr: &[u8]) -> Result<Layout, ImageError> {
    let mut warnings = Vec::new();
    let mut partitions = Vec::new();
    let mut extended = None;
    for i in 0..4 {
        let (_, t, lba, sectors) = mbr_entry(mbr, i);
        if t == 0 || sectors == 0 {
            continue;
        }
        let number = i as u32 + 1;
        if is_extended(t) {
            if extended.is_some() {
                warnings.push(format!(
                    "partition {number}: a second extended partition: its logical partitions are not read"
                ));
            } else {
                extended = Some((lba * 512, sectors * 512));
            }
        }
        if let Some((start, len)) = place(src, number, lba * 512, sectors * 512, &mut warnings) {
            partitions.push(Partition {
                number,
                start,
                len,
                type_id: format!("{t:#04x}"),
                name: None,
                unique_id: None,
                content: Content::Unknown,
            });
        }
    }
    if let Some((ext_start, ext_len)) = extended {
        let ext_end = ext_start.saturating_add(ext_len).min(src.size());
        let mut seen = std::collections::HashSet::new();
        let mut ebr = ext_start;
        let mut number = 5u32;
        loop {
            if !seen.insert(ebr) {
                warnings.push(format!(
                    "logical partition chain loops at byte {ebr}: stopped"
                ));
                break;
            }
            if seen.len() > MAX_PARTITIONS {
                return Err(ImageError::Limit(format!(
                    "more than {MAX_PARTITIONS} logical partitions"
                )));
            }
            if ebr < ext_start || ebr.saturating_add(512) > ext_end {
                warnings.push(format!(
                    "extended boot record at byte {ebr} outside the extended partition: stopped"
                ));
                break;
            }
            let mut s = vec![0u8; 512];
            src.read_at(ebr, &mut s)?;
            if s[510] != 0x55 || s[511] != 0xAA {
                warnings.push(format!(
                    "no signature in the extended boot record at byte {ebr}: stopped"
                ));
                break;
            }
            let mut next = None;
            for i in 0..4 {
                let (_, t, lba, sectors) = mbr_entry(&s, i);
                if t == 0 || sectors == 0 {
                    continue;
                }
                if is_extended(t) {
                    if next.is_none() {
                        next = Some(ext_start.saturating_add(lba * 512));
                    }
                    continue;
                }
                if let Some((start, len)) = place(
                    src,
                    number,
                    ebr.saturating_add(lba * 512),
                    sectors * 512,
                    &mut warnings,
                ) {
                    partitions.push(Partition {
                        number,
                        start,
                        len,
                        type_id: format!("{t:#04x}"),
                        name: None,
                        unique_id: None,
                        content: Content::Unknown,
                    });
                }
                number += 1;
            }
            match next {
                Some(n) => ebr = n,
                None => break,
            }
        }
    }
    Ok(Layout {
        table: TableKind::Mbr,
        partitions,
        warnings,
    })
}

/// Reads the partition table of `src`, and probes each partition.
pub fn read_layout(src: &dyn BlockSource) -> Result<Layout, ImageError> {
    let size = src.size();
    let mbr = read_opt(src, 0, 512)?;
    let protective = mbr.as_ref().is_some_and(|s| {
        s[510] == 0x55 && s[511] == 0xAA && (0..4).any(|i| mbr_entry(s, i).1 == 0xEE)
    });
    let sig_at = |off: u64| -> Result<bool, ImageError> {
        Ok(read_opt(src, off, 8)?.is_some_and(|b| b == b"EFI PART"))
    };
    let (gpt512, gpt4096) = (sig_at(512)?, sig_at(4096)?);
    let layout = if protective || gpt512 || gpt4096 {
        // The sector size is where the primary header is; with no primary
        // signature (damaged), the backup is looked for at both sizes.
        let sizes: &[u64] = match (gpt512, gpt4096) {
            (true, _) => &[512],
            (false, true) => &[4096],
            (false, false) => &[512, 4096],
        };
        let mut first_err = None;
        let mut found = None;
        for &sector in sizes {
            match read_gpt(src, sector) {
                Ok(l) => {
                    found = Some(l);
                    break;
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match (found, first_err) {
            (Some(l), _) => Some(l),
            (None, Some(e)) => return Err(e),
            (None, None) => None,
        }
    } else {
        match &mbr {
            Some(s)
                if s[510] == 0x55
                    && s[511] == 0xAA
                    && !is_fat(s)
                    && (0..4).all(|i| matches!(mbr_entry(s, i).0, 0x00 | 0x80))
                    && (0..4).any(|i| {
                        let (_, t, _, n) = mbr_entry(s, i);
                        t != 0 && n != 0
                    }) =>
            {
                Some(read_mbr(src, s)?)
            }
            _ => None,
        }
    };
    let Some(mut layout) = layout else {
        return Ok(Layout {
            table: TableKind::None,
            partitions: vec![Partition {
                number: 0,
                start: 0,
                len: size,
                type_id: String::new(),
                name: None,
                unique_id: None,
                content: probe(src)?,
            }],
            warnings: Vec::new(),
        });
    };
    layout.partitions.sort_by_key(|p| p.number);
    for p in &mut layout.partitions {
        let part = Slice::new(Borrowed(src), p.start, p.len)?;
        p.content = probe(&part)?;
    }
    Ok(layout)
}
