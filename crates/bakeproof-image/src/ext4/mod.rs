//! ext2, ext3 and ext4, read-only (docs/images.md).
//!
//! Written here rather than taken from a crate: the maintained reader
//! (`ext4-view`) is path-based, exposes neither inode numbers nor extended
//! attributes (file capabilities), and the older `ext4`/`ext2` crates are
//! unmaintained and panic on hostile input.
//!
//! What is read: the superblock, group descriptors (32 and 64 bytes), the
//! inode tables, extent trees (any depth, each level strictly one shallower
//! than its parent, so a block pointing to itself is caught), ext2/ext3
//! block maps (direct, indirect, double, triple), linear and htree
//! directories (every block of a directory read as ordinary entries: htree
//! index blocks look like one empty entry, checksum tails are skipped),
//! inline data (files and directories), fast and slow symlinks, devices,
//! FIFOs, sockets, extended attributes in the inode body and in an
//! attribute block. Checksums are not verified and the journal is not
//! replayed. Refused as unsupported: `meta_bg`, compression, `dirdata`,
//! external journal devices, values stored in EA inodes.

use crate::ImageError;
use crate::block::BlockSource;
use crate::bytes::{le16, le32};
use crate::fs::{DirEntry, FsReader, Ino, Inode, Kind, MAX_DIR_ENTRIES, Xattr};

const MAGIC: u16 = 0xEF53;
const XATTR_MAGIC: u32 = 0xEA02_0000;
const EXTENT_MAGIC: u16 = 0xF30A;

const INCOMPAT_COMPRESSION: u32 = 0x1;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_MMP: u32 = 0x100;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_EA_INODE: u32 = 0x400;
const INCOMPAT_DIRDATA: u32 = 0x1000;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const INCOMPAT_LARGEDIR: u32 = 0x4000;
const INCOMPAT_INLINE_DATA: u32 = 0x8000;
const INCOMPAT_ENCRYPT: u32 = 0x10000;
const INCOMPAT_CASEFOLD: u32 = 0x20000;
const INCOMPAT_KNOWN: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;
const COMPAT_HAS_JOURNAL: u32 = 0x4;

const FLAG_EXTENTS: u32 = 0x8_0000;
const FLAG_INLINE_DATA: u32 = 0x1000_0000;

/// Deepest extent tree the kernel builds (ext4_ext_check: depth <= 5).
const MAX_EXTENT_DEPTH: u16 = 5;
/// Longest link target returned.
const MAX_LINK: u64 = 4096;
/// Most attribute bytes (names and values) read for one inode.
const MAX_XATTR_BYTES: usize = 64 * 1024;

/// An attribute as stored: (name index, name without prefix, value).
type RawXattr = (u8, Vec<u8>, Vec<u8>);

/// Where a logical block of a file lives: `len` blocks from `lblk` on are
/// `Some(first physical block)` or a hole (`None`, read as zeros).
#[derive(Debug, Clone, Copy)]
struct Run {
    phys: Option<u64>,
    len: u64,
}

/// An ext2/3/4 filesystem read from a [`BlockSource`].
pub struct Ext4<S> {
    src: S,
    block_size: u64,
    blocks_count: u64,
    inodes_count: u64,
    inodes_per_group: u64,
    inode_size: u64,
    groups: u64,
    gdt_offset: u64,
    desc_size: u64,
    incompat: u32,
    compat: u32,
    label: String,
    uuid: [u8; 16],
}

/// An inode's raw bytes (up to the inode size) and what is parsed from them.
struct Raw {
    bytes: Vec<u8>,
    meta: Inode,
    flags: u32,
    file_acl: u64,
}

impl Raw {
    fn i_block(&self) -> &[u8] {
        self.bytes.get(0x28..0x28 + 60).unwrap_or(&[])
    }
}

impl<S: BlockSource> Ext4<S> {
    /// Reads and checks the superblock.
    pub fn open(src: S) -> Result<Ext4<S>, ImageError> {
        let mut sb = [0u8; 1024];
        src.read_at(1024, &mut sb)?;
        if le16(&sb, 0x38) != MAGIC {
            return Err(ImageError::corrupt(
                "ext superblock",
                "bad magic (not an ext2/3/4 filesystem)",
            ));
        }
        let bad = |why: String| Err(ImageError::corrupt("ext superblock", why));
        let log_bs = le32(&sb, 0x18);
        if log_bs > 6 {
            return bad(format!("block size 1024 << {log_bs}"));
        }
        let block_size = 1024u64 << log_bs;
        let incompat = le32(&sb, 0x60);
        let compat = le32(&sb, 0x5C);
        for (bit, what) in [
            (INCOMPAT_COMPRESSION, "compression"),
            (INCOMPAT_JOURNAL_DEV, "an external journal device"),
            (INCOMPAT_META_BG, "meta_bg"),
            (INCOMPAT_DIRDATA, "dirdata"),
        ] {
            if incompat & bit != 0 {
                return Err(ImageError::Unsupported(format!("ext4 feature {what}")));
            }
        }
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(ImageError::Unsupported(format!(
                "ext4 incompatible features {:#x}",
                incompat & !INCOMPAT_KNOWN
            )));
        }
        let mut blocks_count = u64::from(le32(&sb, 0x4));
        if incompat & INCOMPAT_64BIT != 0 {
            blocks_count |= u64::from(le32(&sb, 0x150)) << 32;
        }
        let first_data_block = u64::from(le32(&sb, 0x14));
        let blocks_per_group = u64::from(le32(&sb, 0x20));
        let inodes_per_group = u64::from(le32(&sb, 0x28));
        let inodes_count = u64::from(le32(&sb, 0x0));
        let rev = le32(&sb, 0x4C);
        let inode_size = if rev == 0 {
            128
        } else {
            u64::from(le16(&sb, 0x58))
        };
        if !(128..=block_size).contains(&inode_size) || !inode_size.is_power_of_two() {
            return bad(format!("inode size {inode_size}"));
        }
        if blocks_per_group == 0 || blocks_per_group > 8 * block_size {
            return bad(format!("{blocks_per_group} blocks per group"));
        }
        if inodes_per_group == 0 || inodes_per_group > 8 * block_size {
            return bad(format!("{inodes_per_group} inodes per group"));
        }
        if first_data_block >= blocks_count {
            return bad(format!(
                "first data block {first_data_block} of {blocks_count}"
            ));
        }
        let groups = (blocks_count - first_data_block).div_ceil(blocks_per_group);
        if inodes_count == 0 || inodes_count > groups.saturating_mul(inodes_per_group) {
            return bad(format!(
                "{inodes_count} inodes in {groups} groups of {inodes_per_group}"
            ));
        }
        let desc_size = if incompat & INCOMPAT_64BIT != 0 {
            u64::from(le16(&sb, 0xFE))
        } else {
            32
        };
        if desc_size < 32 || desc_size > block_size || !desc_size.is_power_of_two() {
            return bad(format!("group descriptor size {desc_size}"));
        }
        // Every byte offset computed from a checked block number fits u64.
        if blocks_count.checked_mul(block_size).is_none() {
            return bad(format!("{blocks_count} blocks of {block_size} bytes"));
        }
        let gdt_offset = (first_data_block + 1) * block_size;
        // The descriptor table must be inside the image (a truncated image
        // or a blocks count far beyond it is caught here, not later).
        let gdt_end = groups
            .checked_mul(desc_size)
            .and_then(|n| n.checked_add(gdt_offset));
        if gdt_end.is_none_or(|end| end > src.size()) {
            return Err(ImageError::corrupt(
                "ext group descriptors",
                format!(
                    "{groups} groups of {desc_size} bytes at {gdt_offset} past the end of the image ({} bytes)",
                    src.size()
                ),
            ));
        }
        let label =
            String::from_utf8_lossy(sb[0x78..0x88].split(|&b| b == 0).next().unwrap_or(&[]))
                .into_owned();
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&sb[0x68..0x78]);
        Ok(Ext4 {
            src,
            block_size,
            blocks_count,
            inodes_count,
            inodes_per_group,
            inode_size,
            groups,
            gdt_offset,
            desc_size,
            incompat,
            compat,
            label,
            uuid,
        })
    }

    /// The source the filesystem is read from.
    pub fn source(&self) -> &S {
        &self.src
    }

    fn check_block(&self, what: &str, block: u64, len: u64) -> Result<(), ImageError> {
        match block.checked_add(len) {
            Some(end) if block != 0 && end <= self.blocks_count => Ok(()),
            _ => Err(ImageError::corrupt(
                what,
                format!(
                    "block {block} (+{len}) out of range (filesystem has {} blocks)",
                    self.blocks_count
                ),
            )),
        }
    }

    fn read_block(&self, what: &str, block: u64) -> Result<Vec<u8>, ImageError> {
        self.check_block(what, block, 1)?;
        let mut buf = vec![0u8; self.block_size as usize];
        self.src.read_at(block * self.block_size, &mut buf)?;
        Ok(buf)
    }

    fn raw(&self, ino: Ino) -> Result<Raw, ImageError> {
        if ino == 0 || ino > self.inodes_count {
            return Err(ImageError::corrupt(
                "ext inode",
                format!("inode number {ino} out of range 1..={}", self.inodes_count),
            ));
        }
        let group = (ino - 1) / self.inodes_per_group;
        let index = (ino - 1) % self.inodes_per_group;
        if group >= self.groups {
            return Err(ImageError::corrupt(
                "ext inode",
                format!("inode {ino} in group {group} of {}", self.groups),
            ));
        }
        let mut desc = [0u8; 64];
        let dlen = self.desc_size.min(64) as usize;
        self.src
            .read_at(self.gdt_offset + group * self.desc_size, &mut desc[..dlen])?;
        let mut table = u64::from(le32(&desc, 0x8));
        if dlen >= 64 {
            table |= u64::from(le32(&desc, 0x28)) << 32;
        }
        let table_blocks = (self.inodes_per_group * self.inode_size).div_ceil(self.block_size);
        self.check_block("ext inode table", table, table_blocks)?;
        let mut bytes = vec![0u8; self.inode_size as usize];
        self.src.read_at(
            table * self.block_size + index * self.inode_size,
            &mut bytes,
        )?;
        let mode = le16(&bytes, 0);
        let Some(kind) = crate::fs::kind_from_mode(u32::from(mode)) else {
            return Err(ImageError::corrupt(
                "ext inode",
                format!(
                    "inode {ino}: file type {:#o} (mode {mode:#o}; inode not in use?)",
                    mode & 0xF000
                ),
            ));
        };
        let size = u64::from(le32(&bytes, 0x4)) | (u64::from(le32(&bytes, 0x6C)) << 32);
        let uid = u32::from(le16(&bytes, 0x2)) | (u32::from(le16(&bytes, 0x78)) << 16);
        let gid = u32::from(le16(&bytes, 0x18)) | (u32::from(le16(&bytes, 0x7A)) << 16);
        let extra_isize = if self.inode_size > 128 {
            u64::from(le16(&bytes, 0x80))
        } else {
            0
        };
        let mut mtime = i64::from(le32(&bytes, 0x10) as i32);
        if extra_isize >= 12 {
            mtime += i64::from(le32(&bytes, 0x88) & 3) << 32;
        }
        let rdev = match kind {
            Kind::CharDevice | Kind::BlockDevice => {
                let old = le32(&bytes, 0x28);
                if old != 0 {
                    Some(((old >> 8) & 0xff, old & 0xff))
                } else {
                    let new = le32(&bytes, 0x2C);
                    Some(((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00)))
                }
            }
            _ => None,
        };
        let flags = le32(&bytes, 0x20);
        let file_acl = u64::from(le32(&bytes, 0x68)) | (u64::from(le16(&bytes, 0x76)) << 32);
        Ok(Raw {
            meta: Inode {
                ino,
                kind,
                perm: u32::from(mode & 0o7777),
                uid,
                gid,
                size,
                nlink: u32::from(le16(&bytes, 0x1A)),
                mtime,
                rdev,
            },
            bytes,
            flags,
            file_acl,
        })
    }

    /// Maps logical block `lblk` of a file with a block map or an extent tree.
    fn map(&self, raw: &Raw, lblk: u64) -> Result<Run, ImageError> {
        if raw.flags & FLAG_EXTENTS != 0 {
            self.map_extent(raw, lblk)
        } else {
            self.map_indirect(raw, lblk)
        }
    }

    fn map_extent(&self, raw: &Raw, lblk: u64) -> Result<Run, ImageError> {
        let what = "ext4 extent tree";
        let mut node = raw.i_block().to_vec();
        // Logical blocks from here on belong to a later subtree (or past
        // the last extent: a hole to the end).
        let mut limit = u64::MAX;
        let mut expect_depth: Option<u16> = None;
        loop {
            if le16(&node, 0) != EXTENT_MAGIC {
                return Err(ImageError::corrupt(what, "bad extent header magic"));
            }
            let entries = usize::from(le16(&node, 2));
            let depth = le16(&node, 6);
            if depth > MAX_EXTENT_DEPTH || expect_depth.is_some_and(|d| d != depth) {
                return Err(ImageError::corrupt(
                    what,
                    format!("node depth {depth} where {expect_depth:?} was expected (a loop?)"),
                ));
            }
            if 12 + entries * 12 > node.len() {
                return Err(ImageError::corrupt(
                    what,
                    format!("{entries} entries in a {}-byte node", node.len()),
                ));
            }
            let entry = |i: usize| &node[12 + i * 12..24 + i * 12];
            if depth == 0 {
                for i in 0..entries {
                    let e = entry(i);
                    let start = u64::from(le32(e, 0));
                    let raw_len = le16(e, 4);
                    let (len, uninit) = if raw_len > 32768 {
                        (u64::from(raw_len - 32768), true)
                    } else {
                        (u64::from(raw_len), false)
                    };
                    let phys = (u64::from(le16(e, 6)) << 32) | u64::from(le32(e, 8));
                    if lblk < start {
                        return Ok(Run {
                            phys: None,
                            len: (start - lblk).min(limit - lblk),
                        });
                    }
                    if lblk < start + len {
                        self.check_block(what, phys, len)?;
                        let off = lblk - start;
                        return Ok(Run {
                            // Unwritten extents read as zeros.
                            phys: if uninit { None } else { Some(phys + off) },
                            len: len - off,
                        });
                    }
                }
                return Ok(Run {
                    phys: None,
                    len: limit.saturating_sub(lblk).max(1),
                });
            }
            // An index node: the last entry starting at or before lblk.
            let mut pick = None;
            for i in 0..entries {
                let start = u64::from(le32(entry(i), 0));
                if start <= lblk {
                    pick = Some(i);
                } else {
                    break;
                }
            }
            let Some(i) = pick else {
                let first = if entries > 0 {
                    u64::from(le32(entry(0), 0))
                } else {
                    limit
                };
                return Ok(Run {
                    phys: None,
                    len: first.min(limit).saturating_sub(lblk).max(1),
                });
            };
            if i + 1 < entries {
                limit = limit.min(u64::from(le32(entry(i + 1), 0)));
            }
            let e = entry(i);
            let child = (u64::from(le16(e, 8)) << 32) | u64::from(le32(e, 4));
            node = self.read_block(what, child)?;
            expect_depth = Some(depth - 1);
        }
    }

    fn map_indirect(&self, raw: &Raw, lblk: u64) -> Result<Run, ImageError> {
        let what = "ext2 block map";
        let per = self.block_size / 4;
        let ib = raw.i_block();
        if lblk < 12 {
            return self.leaf_run(
                what,
                &ib[(lblk as usize * 4).min(ib.len())..48.min(ib.len())],
            );
        }
        // (slot in i_block, levels below it, first logical block it maps)
        let mut first = 12u64;
        let mut span = per;
        for (slot, levels) in [(12usize, 1u32), (13, 2), (14, 3)] {
            if lblk < first + span {
                let mut block = u64::from(le32(ib, slot * 4));
                let mut rel = lblk - first;
                let mut sub = span;
                for level in 0..levels {
                    if block == 0 {
                        // A whole subtree is a hole.
                        return Ok(Run {
                            phys: None,
                            len: sub - rel,
                        });
                    }
                    self.check_block(what, block, 1)?;
                    sub /= per;
                    let idx = rel / sub;
                    rel %= sub;
                    if level + 1 == levels {
                        // The data block pointers: up to 64 of them at
                        // once, so that contiguous blocks are one run.
                        let n = (per - idx).min(64) as usize;
                        let mut ptrs = [0u8; 256];
                        self.src
                            .read_at(block * self.block_size + idx * 4, &mut ptrs[..n * 4])?;
                        return self.leaf_run(what, &ptrs[..n * 4]);
                    }
                    let mut ptr = [0u8; 4];
                    self.src
                        .read_at(block * self.block_size + idx * 4, &mut ptr)?;
                    block = u64::from(u32::from_le_bytes(ptr));
                }
                return Err(ImageError::corrupt(what, "no levels"));
            }
            first += span;
            span = span.saturating_mul(per);
        }
        Ok(Run {
            phys: None,
            len: u64::MAX - lblk,
        })
    }

    /// The run starting at the first of `ptrs` (little-endian block
    /// numbers): as many following pointers as continue it (all holes, or
    /// consecutive blocks).
    fn leaf_run(&self, what: &str, ptrs: &[u8]) -> Result<Run, ImageError> {
        let first = u64::from(le32(ptrs, 0));
        let mut len = 1u64;
        while (len as usize + 1) * 4 <= ptrs.len() {
            let next = u64::from(le32(ptrs, len as usize * 4));
            let continues = if first == 0 {
                next == 0
            } else {
                next == first + len
            };
            if !continues {
                break;
            }
            len += 1;
        }
        if first == 0 {
            return Ok(Run { phys: None, len });
        }
        self.check_block(what, first, len)?;
        Ok(Run {
            phys: Some(first),
            len,
        })
    }

    /// Inline data: the first 60 bytes in `i_block`, the rest in the
    /// `system.data` attribute.
    fn inline_data(&self, raw: &Raw) -> Result<Vec<u8>, ImageError> {
        let mut data = raw.i_block().to_vec();
        for (index, name, value) in self.ibody_xattrs(raw)? {
            if index == 7 && name == b"data" {
                data.extend_from_slice(&value);
            }
        }
        Ok(data)
    }

    fn read_raw(&self, raw: &Raw, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let size = raw.meta.size;
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(size - offset) as usize;
        let buf = &mut buf[..want];
        if raw.flags & FLAG_INLINE_DATA != 0 {
            let data = self.inline_data(raw)?;
            if (data.len() as u64) < offset + want as u64 {
                return Err(ImageError::corrupt(
                    "ext4 inline data",
                    format!(
                        "inode {}: {} bytes stored for a size of {size}",
                        raw.meta.ino,
                        data.len()
                    ),
                ));
            }
            buf.copy_from_slice(&data[offset as usize..offset as usize + want]);
            return Ok(want);
        }
        let bs = self.block_size;
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            let lblk = pos / bs;
            let within = pos % bs;
            let run = self.map(raw, lblk)?;
            let run_bytes = run.len.saturating_mul(bs).saturating_sub(within);
            let n = (run_bytes.min((want - done) as u64)) as usize;
            let n = n.max(1).min(want - done);
            let out = &mut buf[done..done + n];
            match run.phys {
                None => out.fill(0),
                Some(p) => self.src.read_at(p * bs + within, out)?,
            }
            done += n;
        }
        Ok(want)
    }

    /// `(name index, name, value)` of the attributes in an entry table.
    /// `values` is where value offsets count from; the table starts at
    /// `entries` in `region`.
    fn parse_entries(
        &self,
        region: &[u8],
        entries: usize,
        values: usize,
        out: &mut Vec<RawXattr>,
        budget: &mut usize,
    ) -> Result<(), ImageError> {
        let what = "ext xattr entries";
        let mut at = entries;
        while at + 4 <= region.len() && le32(region, at) != 0 {
            let name_len = usize::from(region[at]);
            let index = region.get(at + 1).copied().unwrap_or(0);
            let value_offs = usize::from(le16(region, at + 2));
            let value_inum = le32(region, at + 4);
            let value_size = le32(region, at + 8) as usize;
            let name = region
                .get(at + 16..at + 16 + name_len)
                .ok_or_else(|| ImageError::corrupt(what, "name past the end"))?;
            if value_inum != 0 {
                return Err(ImageError::Unsupported(
                    "ext4 xattr value in an EA inode".into(),
                ));
            }
            let value = values
                .checked_add(value_offs)
                .and_then(|s| region.get(s..s.checked_add(value_size)?))
                .ok_or_else(|| {
                    ImageError::corrupt(
                        what,
                        format!("value of {value_size} bytes at {value_offs} past the end"),
                    )
                })?;
            *budget = budget
                .checked_sub(name_len + value_size)
                .ok_or_else(|| ImageError::Limit("xattrs over 64 KiB for one inode".into()))?;
            out.push((index, name.to_vec(), value.to_vec()));
            at += (16 + name_len + 3) & !3;
        }
        Ok(())
    }

    fn ibody_xattrs(&self, raw: &Raw) -> Result<Vec<RawXattr>, ImageError> {
        let mut out = Vec::new();
        if self.inode_size <= 128 {
            return Ok(out);
        }
        let start = 128 + usize::from(le16(&raw.bytes, 0x80));
        let Some(region) = raw.bytes.get(start..) else {
            return Err(ImageError::corrupt(
                "ext inode",
                format!("extra size {} past the inode", start - 128),
            ));
        };
        if region.len() >= 4 && le32(region, 0) == XATTR_MAGIC {
            let region = &region[4..];
            let mut budget = MAX_XATTR_BYTES;
            self.parse_entries(region, 0, 0, &mut out, &mut budget)?;
        }
        Ok(out)
    }

    fn all_xattrs(&self, raw: &Raw) -> Result<Vec<RawXattr>, ImageError> {
        let mut out = self.ibody_xattrs(raw)?;
        if raw.file_acl != 0 {
            let block = self.read_block("ext xattr block", raw.file_acl)?;
            if le32(&block, 0) != XATTR_MAGIC || le32(&block, 8) != 1 {
                return Err(ImageError::corrupt(
                    "ext xattr block",
                    format!("bad header in block {}", raw.file_acl),
                ));
            }
            let used: usize = out.iter().map(|(_, n, v)| n.len() + v.len()).sum();
            let mut budget = MAX_XATTR_BYTES.saturating_sub(used);
            self.parse_entries(&block, 32, 0, &mut out, &mut budget)?;
        }
        Ok(out)
    }
}

fn xattr_prefix(index: u8) -> Option<&'static str> {
    Some(match index {
        1 => "user.",
        2 => "system.posix_acl_access",
        3 => "system.posix_acl_default",
        4 => "trusted.",
        6 => "security.",
        7 => "system.",
        8 => "system.richacl",
        _ => return None,
    })
}

/// Appends the entries of one directory block (or inline area).
fn parse_dirents(block: &[u8], out: &mut Vec<DirEntry>, ino: Ino) -> Result<(), ImageError> {
    let mut at = 0usize;
    while at + 8 <= block.len() {
        let inode = le32(block, at);
        let rec_len = usize::from(le16(block, at + 4));
        let name_len = usize::from(block[at + 6]);
        if rec_len < 8 || rec_len % 4 != 0 || at + rec_len > block.len() || 8 + name_len > rec_len {
            return Err(ImageError::corrupt(
                "ext directory",
                format!(
                    "directory {ino}: entry at {at} with record length {rec_len}, name length {name_len}"
                ),
            ));
        }
        let name = &block[at + 8..at + 8 + name_len];
        if inode != 0 && name != b"." && name != b".." && !name.is_empty() {
            if out.len() >= MAX_DIR_ENTRIES {
                return Err(ImageError::Limit(format!(
                    "directory {ino} has more than {MAX_DIR_ENTRIES} entries"
                )));
            }
            out.push(DirEntry {
                name: name.to_vec(),
                ino: u64::from(inode),
            });
        }
        at += rec_len;
    }
    Ok(())
}

impl<S: BlockSource> FsReader for Ext4<S> {
    fn root(&self) -> Ino {
        2
    }

    fn inode(&self, ino: Ino) -> Result<Inode, ImageError> {
        Ok(self.raw(ino)?.meta)
    }

    fn read_dir(&self, ino: Ino) -> Result<Vec<DirEntry>, ImageError> {
        let raw = self.raw(ino)?;
        if raw.meta.kind != Kind::Directory {
            return Err(ImageError::corrupt(
                "ext directory",
                format!("inode {ino} is not a directory"),
            ));
        }
        let mut out = Vec::new();
        if raw.flags & FLAG_INLINE_DATA != 0 {
            // 4 bytes of parent inode, then entries; more in system.data.
            let ib = raw.i_block();
            parse_dirents(ib.get(4..).unwrap_or(&[]), &mut out, ino)?;
            for (index, name, value) in self.ibody_xattrs(&raw)? {
                if index == 7 && name == b"data" {
                    parse_dirents(&value, &mut out, ino)?;
                }
            }
        } else {
            let size = raw.meta.size;
            if size > self.src.size() {
                return Err(ImageError::corrupt(
                    "ext directory",
                    format!(
                        "directory {ino} of {size} bytes in an image of {}",
                        self.src.size()
                    ),
                ));
            }
            let bs = self.block_size;
            let mut block = vec![0u8; bs as usize];
            let blocks = size.div_ceil(bs);
            let mut lblk = 0u64;
            while lblk < blocks {
                let run = self.map(&raw, lblk)?;
                match run.phys {
                    None => lblk = lblk.saturating_add(run.len.max(1)),
                    Some(p) => {
                        let n = run.len.min(blocks - lblk);
                        for k in 0..n {
                            self.src.read_at((p + k) * bs, &mut block)?;
                            parse_dirents(&block, &mut out, ino)?;
                        }
                        lblk += n.max(1);
                    }
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let raw = self.raw(ino)?;
        if raw.meta.kind != Kind::Regular {
            return Err(ImageError::corrupt(
                "ext file",
                format!("inode {ino} is not a regular file"),
            ));
        }
        self.read_raw(&raw, offset, buf)
    }

    fn read_link(&self, ino: Ino) -> Result<Vec<u8>, ImageError> {
        let raw = self.raw(ino)?;
        if raw.meta.kind != Kind::Symlink {
            return Err(ImageError::corrupt(
                "ext symlink",
                format!("inode {ino} is not a symlink"),
            ));
        }
        let size = raw.meta.size;
        if size == 0 || size > MAX_LINK {
            return Err(ImageError::corrupt(
                "ext symlink",
                format!("inode {ino}: target of {size} bytes"),
            ));
        }
        // A fast symlink (the target in i_block) has no data blocks: its
        // block count is that of its attribute block, if any (the
        // kernel's ext4_inode_is_fast_symlink).
        let blocks = u64::from(le32(&raw.bytes, 0x1C)) | (u64::from(le16(&raw.bytes, 0x74)) << 32);
        let ea_blocks = if raw.file_acl != 0 {
            self.block_size / 512
        } else {
            0
        };
        if raw.flags & FLAG_INLINE_DATA == 0 && blocks == ea_blocks {
            return match raw.i_block().get(..size as usize) {
                Some(t) => Ok(t.to_vec()),
                None => Err(ImageError::corrupt(
                    "ext symlink",
                    format!("inode {ino}: fast symlink of {size} bytes"),
                )),
            };
        }
        let mut buf = vec![0u8; size as usize];
        let n = self.read_raw(&raw, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn xattrs(&self, ino: Ino) -> Result<Vec<Xattr>, ImageError> {
        let raw = self.raw(ino)?;
        let mut out = Vec::new();
        for (index, name, value) in self.all_xattrs(&raw)? {
            if index == 7 && name == b"data" {
                continue; // inline data, not an attribute
            }
            let Some(prefix) = xattr_prefix(index) else {
                log::debug!("inode {ino}: xattr with unknown name index {index} skipped");
                continue;
            };
            let mut full = prefix.as_bytes().to_vec();
            full.extend_from_slice(&name);
            out.push(Xattr { name: full, value });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn identity(&self) -> crate::fs::FsIdentity {
        crate::fs::FsIdentity {
            uuid: Some(self.uuid),
            label: (!self.label.is_empty()).then(|| self.label.clone()),
        }
    }

    fn describe(&self) -> String {
        let kind = if self.incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG) != 0 {
            "ext4"
        } else if self.compat & COMPAT_HAS_JOURNAL != 0 {
            "ext3"
        } else {
            "ext2"
        };
        let u = &self.uuid;
        format!(
            "{kind} (label {:?}, UUID {}, {} blocks of {} bytes)",
            self.label,
            uuid::Uuid::from_bytes(*u).hyphenated(),
            self.blocks_count,
            self.block_size
        )
    }
}
