//! XFS v5, read-only (docs/images.md).
//!
//! Written here rather than taken from a crate (docs/images.md, "XFS", says
//! which were looked at): the one general-purpose pure-Rust reader,
//! `xfs-core` 0.1, reads out-of-range fields as 0/`None` by design where
//! this reader must fail with an error, and has no extended attributes in
//! its API; `lamxfs` is a `no_std` bootloader reader; xfsprogs is GPL C.
//!
//! What is read: the primary superblock (v5 only; v4 is refused), inodes
//! (dinode v3) located from their numbers (AG, block, offset), data forks in
//! local, extent-list and B+tree (bmbt) format, short-form, block, leaf and
//! node directories (the data blocks of the directory's data range hold
//! every entry), inline and remote symlinks, regular files with holes and
//! unwritten extents (read as zeros), extended attributes in short-form and
//! leaf/node attribute forks (local and remote values). Not checked: CRCs.
//! Not supported (an error, never a guess): the realtime device, v4
//! filesystems, incompatible features other than ftype, sparse inodes,
//! meta_uuid, bigtime and nrext64.

use std::collections::HashSet;

use crate::ImageError;
use crate::block::BlockSource;
use crate::fs::{DirEntry, FsReader, Ino, Inode, Kind, MAX_DIR_ENTRIES, Xattr};

const SB_MAGIC: u32 = 0x5846_5342; // XFSB
const DINODE_MAGIC: u16 = 0x494e; // IN
const BMAP3_MAGIC: u32 = 0x424d_4133; // BMA3
const DIR3_BLOCK_MAGIC: u32 = 0x5844_4233; // XDB3
const DIR3_DATA_MAGIC: u32 = 0x5844_4433; // XDD3
const SYMLINK_MAGIC: u32 = 0x5853_4c4d; // XSLM
const ATTR3_LEAF_MAGIC: u16 = 0x3bee;
const ATTR3_RMT_MAGIC: u32 = 0x5841_524d; // XARM

const INCOMPAT_FTYPE: u32 = 1;
const INCOMPAT_SPINODES: u32 = 2;
const INCOMPAT_META_UUID: u32 = 4;
const INCOMPAT_BIGTIME: u32 = 8;
const INCOMPAT_NREXT64: u32 = 0x20;
const INCOMPAT_KNOWN: u32 =
    INCOMPAT_FTYPE | INCOMPAT_SPINODES | INCOMPAT_META_UUID | INCOMPAT_BIGTIME | INCOMPAT_NREXT64;

const FMT_DEV: u8 = 0;
const FMT_LOCAL: u8 = 1;
const FMT_EXTENTS: u8 = 2;
const FMT_BTREE: u8 = 3;

const DINODE_CORE: usize = 176;
/// Directory data lives below this byte offset of the directory
/// (`XFS_DIR2_LEAF_OFFSET`); leaf and free blocks above it.
const DIR_LEAF_OFFSET: u64 = 32 << 30;
const MAX_LINK: usize = 4096;
const MAX_XATTR_BYTES: usize = 64 * 1024;
/// Deepest B+tree extent map followed.
const MAX_BMBT_LEVEL: u16 = 9;
/// Most extent records one fork's map may have (beyond the image's
/// capacity anyway: also bounded by its block count).
const MAX_EXTENTS: u64 = 16 << 20;

fn be16(b: &[u8], off: usize) -> Result<u16, ImageError> {
    b.get(off..off + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or_else(|| ImageError::corrupt("xfs structure", format!("truncated at {off}")))
}
fn be32(b: &[u8], off: usize) -> Result<u32, ImageError> {
    b.get(off..off + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| ImageError::corrupt("xfs structure", format!("truncated at {off}")))
}
fn be64(b: &[u8], off: usize) -> Result<u64, ImageError> {
    b.get(off..off + 8)
        .map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_be_bytes(a)
        })
        .ok_or_else(|| ImageError::corrupt("xfs structure", format!("truncated at {off}")))
}
fn u8at(b: &[u8], off: usize) -> Result<u8, ImageError> {
    b.get(off)
        .copied()
        .ok_or_else(|| ImageError::corrupt("xfs structure", format!("truncated at {off}")))
}
fn bytes(b: &[u8], off: usize, len: usize) -> Result<&[u8], ImageError> {
    off.checked_add(len)
        .and_then(|end| b.get(off..end))
        .ok_or_else(|| ImageError::corrupt("xfs structure", format!("truncated at {off}+{len}")))
}

/// One mapping of a fork: `count` blocks from file block `off` at
/// filesystem block `start` (`unwritten`: allocated, reads as zeros).
#[derive(Clone, Copy, Debug)]
struct Extent {
    off: u64,
    start: u64,
    count: u64,
    unwritten: bool,
}

/// The parts of an inode the reader needs beyond [`Inode`].
struct Dinode {
    meta: Inode,
    format: u8,
    aformat: u8,
    nextents: u64,
    anextents: u64,
    /// The whole on-disk inode.
    raw: Vec<u8>,
    /// Data fork `[start, end)` within `raw`.
    data: (usize, usize),
    /// Attribute fork, if any.
    attr: Option<(usize, usize)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fork {
    Data,
    Attr,
}

/// An XFS v5 filesystem read from a [`BlockSource`].
pub struct Xfs<S> {
    src: S,
    block_size: u32,
    block_log: u8,
    dblocks: u64,
    agblocks: u32,
    agblklog: u8,
    agcount: u32,
    inode_size: u16,
    inopblog: u8,
    dir_block_size: u32,
    rootino: u64,
    ftype: bool,
    nrext64: bool,
    label: String,
    uuid: [u8; 16],
}

impl<S: BlockSource> Xfs<S> {
    /// Reads and checks the primary superblock.
    pub fn open(src: S) -> Result<Xfs<S>, ImageError> {
        let mut sb = vec![0u8; 512];
        src.read_at(0, &mut sb)?;
        let bad = |why: String| ImageError::corrupt("xfs superblock", why);
        if be32(&sb, 0)? != SB_MAGIC {
            return Err(bad("bad magic (not XFS)".into()));
        }
        let version = be16(&sb, 100)? & 0xf;
        if version != 5 {
            return Err(ImageError::Unsupported(format!(
                "XFS version {version} (only v5 is read)"
            )));
        }
        let block_size = be32(&sb, 4)?;
        let block_log = u8at(&sb, 120)?;
        if !(9..=16).contains(&block_log) || block_size != 1 << block_log {
            return Err(bad(format!("block size {block_size} (log {block_log})")));
        }
        if be64(&sb, 16)? != 0 {
            return Err(ImageError::Unsupported("XFS realtime device".into()));
        }
        let dblocks = be64(&sb, 8)?;
        let agblocks = be32(&sb, 84)?;
        let agcount = be32(&sb, 88)?;
        let inode_size = be16(&sb, 104)?;
        let inode_log = u8at(&sb, 122)?;
        let inopblock = be16(&sb, 106)?;
        let inopblog = u8at(&sb, 123)?;
        let agblklog = u8at(&sb, 124)?;
        let dirblklog = u8at(&sb, 192)?;
        if !(8..=11).contains(&inode_log)
            || u32::from(inode_size) != 1 << inode_log
            || inode_log > block_log
            || inopblog != block_log - inode_log
            || u32::from(inopblock) != 1 << inopblog
        {
            return Err(bad(format!(
                "inode size {inode_size} (log {inode_log}), {inopblock} per block"
            )));
        }
        if agblocks < 5 || agcount == 0 || agblklog > 31 || u64::from(agblocks) > 1u64 << agblklog {
            return Err(bad(format!(
                "{agcount} AGs of {agblocks} blocks (log {agblklog})"
            )));
        }
        if u64::from(agcount)
            .checked_mul(u64::from(agblocks))
            .is_none_or(|n| n < dblocks)
        {
            return Err(bad(format!(
                "{dblocks} blocks do not fit {agcount} AGs of {agblocks}"
            )));
        }
        if dblocks == 0
            || dblocks
                .checked_mul(u64::from(block_size))
                .is_none_or(|b| b > i64::MAX as u64)
        {
            return Err(bad(format!("{dblocks} blocks")));
        }
        if u32::from(block_log) + u32::from(dirblklog) > 16 {
            return Err(bad(format!("directory block log {dirblklog}")));
        }
        let incompat = be32(&sb, 216)?;
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(ImageError::Unsupported(format!(
                "XFS incompatible features {:#x}",
                incompat & !INCOMPAT_KNOWN
            )));
        }
        let rootino = be64(&sb, 56)?;
        let label_raw = bytes(&sb, 108, 12)?;
        let label_end = label_raw.iter().position(|&c| c == 0).unwrap_or(12);
        let label = String::from_utf8_lossy(&label_raw[..label_end]).into_owned();
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(bytes(&sb, 32, 16)?);
        let fs = Xfs {
            src,
            block_size,
            block_log,
            dblocks,
            agblocks,
            agblklog,
            agcount,
            inode_size,
            inopblog,
            dir_block_size: block_size << dirblklog,
            rootino,
            ftype: incompat & INCOMPAT_FTYPE != 0,
            nrext64: incompat & INCOMPAT_NREXT64 != 0,
            label,
            uuid,
        };
        fs.inode_offset(rootino)?;
        Ok(fs)
    }

    /// Where inode `ino` lives in the image (its byte offset), checked
    /// against the filesystem's geometry.
    pub fn inode_offset(&self, ino: Ino) -> Result<u64, ImageError> {
        let off_mask = (1u64 << self.inopblog) - 1;
        let shift = u32::from(self.agblklog) + u32::from(self.inopblog);
        let agno = if shift >= 64 { 0 } else { ino >> shift };
        let agbno = (ino >> self.inopblog) & ((1u64 << self.agblklog) - 1);
        let slot = ino & off_mask;
        if agno >= u64::from(self.agcount) || agbno >= u64::from(self.agblocks) {
            return Err(ImageError::corrupt(
                "xfs inode number",
                format!("{ino} is outside the filesystem"),
            ));
        }
        let block = agno * u64::from(self.agblocks) + agbno;
        if block >= self.dblocks {
            return Err(ImageError::corrupt(
                "xfs inode number",
                format!("{ino} is past the last block"),
            ));
        }
        Ok((block << self.block_log) + slot * u64::from(self.inode_size))
    }

    /// Byte offset of a filesystem block number (AG-encoded).
    fn fsblock_offset(&self, fsb: u64, count: u64) -> Result<u64, ImageError> {
        let agno = fsb >> self.agblklog;
        let agbno = fsb & ((1u64 << self.agblklog) - 1);
        let bad = || {
            ImageError::corrupt(
                "xfs block map",
                format!("block {fsb} (+{count}) is outside the filesystem"),
            )
        };
        if agno >= u64::from(self.agcount) || agbno >= u64::from(self.agblocks) {
            return Err(bad());
        }
        let block = agno * u64::from(self.agblocks) + agbno;
        match block.checked_add(count) {
            Some(end) if end <= self.dblocks => Ok(block << self.block_log),
            _ => Err(bad()),
        }
    }

    fn load(&self, ino: Ino) -> Result<Dinode, ImageError> {
        let at = self.inode_offset(ino)?;
        let mut raw = vec![0u8; usize::from(self.inode_size)];
        self.src.read_at(at, &mut raw)?;
        let bad = |why: String| ImageError::corrupt(format!("xfs inode {ino}"), why);
        if be16(&raw, 0)? != DINODE_MAGIC {
            return Err(bad("bad magic".into()));
        }
        if u8at(&raw, 4)? != 3 {
            return Err(bad(format!("inode version {} (v3 expected)", raw[4])));
        }
        if be64(&raw, 152)? != ino {
            return Err(bad(format!("records inode number {}", be64(&raw, 152)?)));
        }
        let mode = u32::from(be16(&raw, 2)?);
        let kind = match crate::fs::kind_from_mode(mode) {
            Some(k) => k,
            None if mode & 0o170000 == 0 => {
                return Err(ImageError::NotFound(format!("xfs inode {ino} is free")));
            }
            None => return Err(bad(format!("file type {:#o}", mode & 0o170000))),
        };
        let format = u8at(&raw, 5)?;
        let aformat = u8at(&raw, 83)?;
        let forkoff = usize::from(u8at(&raw, 82)?) * 8;
        let size = be64(&raw, 56)?;
        if size > i64::MAX as u64 {
            return Err(bad(format!("size {size}")));
        }
        let (nextents, anextents) = if self.nrext64 {
            (be64(&raw, 24)?, u64::from(be32(&raw, 76)?))
        } else {
            (u64::from(be32(&raw, 76)?), u64::from(be16(&raw, 80)?))
        };
        let end = raw.len();
        let (data, attr) = if forkoff == 0 {
            ((DINODE_CORE, end), None)
        } else if DINODE_CORE + forkoff >= end {
            return Err(bad(format!("attribute fork offset {forkoff}")));
        } else {
            (
                (DINODE_CORE, DINODE_CORE + forkoff),
                Some((DINODE_CORE + forkoff, end)),
            )
        };
        let flags2 = be64(&raw, 120)?;
        let mtime = if flags2 & (1 << 3) != 0 {
            // bigtime: nanoseconds since 1901-12-13 (the 32-bit epoch's start).
            (be64(&raw, 40)? / 1_000_000_000) as i64 - (1i64 << 31)
        } else {
            i64::from(be32(&raw, 40)? as i32)
        };
        let rdev = if matches!(kind, Kind::CharDevice | Kind::BlockDevice) {
            if format != FMT_DEV {
                return Err(bad(format!("device in fork format {format}")));
            }
            let dev = be32(&raw, DINODE_CORE)?;
            Some((dev >> 18, dev & 0x3ffff))
        } else {
            None
        };
        let meta = Inode {
            ino,
            kind,
            perm: mode & 0o7777,
            uid: be32(&raw, 8)?,
            gid: be32(&raw, 12)?,
            size,
            nlink: be32(&raw, 16)?,
            mtime,
            rdev,
        };
        Ok(Dinode {
            meta,
            format,
            aformat,
            nextents,
            anextents,
            raw,
            data,
            attr,
        })
    }

    /// The extent map of one fork, sorted by file offset, checked for
    /// overlap and range.
    fn extents(&self, d: &Dinode, fork: Fork) -> Result<Vec<Extent>, ImageError> {
        let ino = d.meta.ino;
        let (format, n, range) = match fork {
            Fork::Data => (d.format, d.nextents, d.data),
            Fork::Attr => match d.attr {
                Some(r) => (d.aformat, d.anextents, r),
                None => return Ok(Vec::new()),
            },
        };
        let area = &d.raw[range.0..range.1];
        let cap = MAX_EXTENTS.min(self.dblocks.max(1));
        if n > cap {
            return Err(ImageError::corrupt(
                format!("xfs inode {ino}"),
                format!("{n} extents"),
            ));
        }
        let mut out = Vec::new();
        match format {
            FMT_EXTENTS => {
                if n as usize * 16 > area.len() {
                    return Err(ImageError::corrupt(
                        format!("xfs inode {ino}"),
                        format!("{n} extents do not fit the fork"),
                    ));
                }
                for i in 0..n as usize {
                    out.push(self.extent_rec(area, i * 16)?);
                }
            }
            FMT_BTREE => {
                let level = be16(area, 0)?;
                let numrecs = usize::from(be16(area, 2)?);
                let maxrecs = (area.len().saturating_sub(4)) / 16;
                if level == 0 || level > MAX_BMBT_LEVEL || numrecs == 0 || numrecs > maxrecs {
                    return Err(ImageError::corrupt(
                        format!("xfs inode {ino} B+tree root"),
                        format!("level {level}, {numrecs} records"),
                    ));
                }
                let mut seen = HashSet::new();
                for i in 0..numrecs {
                    let ptr = be64(area, 4 + maxrecs * 8 + i * 8)?;
                    self.bmbt_walk(ino, ptr, level - 1, &mut seen, &mut out, cap)?;
                }
            }
            FMT_LOCAL | FMT_DEV => return Ok(Vec::new()),
            f => {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino}"),
                    format!("fork format {f}"),
                ));
            }
        }
        out.sort_by_key(|e| e.off);
        for w in out.windows(2) {
            if w[0].off + w[0].count > w[1].off {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino} block map"),
                    format!("extents overlap at file block {}", w[1].off),
                ));
            }
        }
        Ok(out)
    }

    fn extent_rec(&self, b: &[u8], at: usize) -> Result<Extent, ImageError> {
        let l0 = be64(b, at)?;
        let l1 = be64(b, at + 8)?;
        let e = Extent {
            unwritten: l0 >> 63 != 0,
            off: (l0 & ((1u64 << 63) - 1)) >> 9,
            start: ((l0 & 0x1ff) << 43) | (l1 >> 21),
            count: l1 & 0x1f_ffff,
        };
        if e.count == 0 {
            return Err(ImageError::corrupt("xfs block map", "empty extent"));
        }
        self.fsblock_offset(e.start, e.count)?;
        Ok(e)
    }

    fn bmbt_walk(
        &self,
        ino: Ino,
        fsb: u64,
        level: u16,
        seen: &mut HashSet<u64>,
        out: &mut Vec<Extent>,
        cap: u64,
    ) -> Result<(), ImageError> {
        let what = || format!("xfs inode {ino} B+tree block {fsb}");
        if !seen.insert(fsb) {
            return Err(ImageError::corrupt(what(), "visited twice (a loop)"));
        }
        let at = self.fsblock_offset(fsb, 1)?;
        let mut b = vec![0u8; self.block_size as usize];
        self.src.read_at(at, &mut b)?;
        if be32(&b, 0)? != BMAP3_MAGIC {
            return Err(ImageError::corrupt(what(), "bad magic"));
        }
        if be16(&b, 4)? != level {
            return Err(ImageError::corrupt(
                what(),
                format!("level {} where {level} expected", be16(&b, 4)?),
            ));
        }
        if be64(&b, 56)? != ino {
            return Err(ImageError::corrupt(what(), "belongs to another inode"));
        }
        let numrecs = usize::from(be16(&b, 6)?);
        let maxrecs = (b.len() - 72) / 16;
        if numrecs > maxrecs {
            return Err(ImageError::corrupt(what(), format!("{numrecs} records")));
        }
        if level == 0 {
            if (out.len() + numrecs) as u64 > cap {
                return Err(ImageError::Limit(format!(
                    "{} extents",
                    out.len() + numrecs
                )));
            }
            for i in 0..numrecs {
                out.push(self.extent_rec(&b, 72 + i * 16)?);
            }
        } else {
            for i in 0..numrecs {
                let ptr = be64(&b, 72 + maxrecs * 8 + i * 8)?;
                self.bmbt_walk(ino, ptr, level - 1, seen, out, cap)?;
            }
        }
        Ok(())
    }

    /// Fills `buf` from byte `offset` of a fork mapped by `map`; unmapped
    /// and unwritten blocks read as zeros.
    fn read_mapped(&self, map: &[Extent], offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        buf.fill(0);
        let bs = u64::from(self.block_size);
        let end = offset + buf.len() as u64;
        // First extent that may overlap.
        let first = map.partition_point(|e| (e.off + e.count).saturating_mul(bs) <= offset);
        for e in &map[first..] {
            let e_start = e.off.saturating_mul(bs);
            if e_start >= end {
                break;
            }
            if e.unwritten {
                continue;
            }
            let e_end = (e.off + e.count).saturating_mul(bs);
            let lo = offset.max(e_start);
            let hi = end.min(e_end);
            if lo >= hi {
                continue;
            }
            let disk = self.fsblock_offset(e.start, e.count)? + (lo - e_start);
            let dst = &mut buf[(lo - offset) as usize..(hi - offset) as usize];
            self.src.read_at(disk, dst)?;
        }
        Ok(())
    }

    fn dir_entries(&self, d: &Dinode) -> Result<Vec<DirEntry>, ImageError> {
        let ino = d.meta.ino;
        let mut out = Vec::new();
        match d.format {
            FMT_LOCAL => self.dir_shortform(d, &mut out)?,
            FMT_EXTENTS | FMT_BTREE => {
                let map = self.extents(d, Fork::Data)?;
                let dbs = u64::from(self.dir_block_size);
                let bs = u64::from(self.block_size);
                let data_end = d.meta.size.min(DIR_LEAF_OFFSET);
                // A single-block directory (XDB3) or data blocks (XDD3).
                let mut buf = vec![0u8; self.dir_block_size as usize];
                for e in &map {
                    let mut pos = e.off.saturating_mul(bs).div_ceil(dbs).saturating_mul(dbs);
                    let e_end = (e.off + e.count).saturating_mul(bs).min(data_end);
                    while pos < e_end {
                        if !e.unwritten {
                            self.read_mapped(&map, pos, &mut buf)?;
                            self.dir_data_block(ino, &buf, &mut out)?;
                        }
                        pos += dbs;
                    }
                }
            }
            f => {
                return Err(ImageError::corrupt(
                    format!("xfs directory {ino}"),
                    format!("fork format {f}"),
                ));
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        if out.windows(2).any(|w| w[0].name == w[1].name) {
            return Err(ImageError::corrupt(
                format!("xfs directory {ino}"),
                "a name appears twice",
            ));
        }
        Ok(out)
    }

    fn dir_shortform(&self, d: &Dinode, out: &mut Vec<DirEntry>) -> Result<(), ImageError> {
        let area = &d.raw[d.data.0..d.data.1];
        let len = (d.meta.size as usize).min(area.len());
        let b = &area[..len];
        let count = usize::from(u8at(b, 0)?);
        let i8count = usize::from(u8at(b, 1)?);
        let wide = i8count > 0;
        let isz = if wide { 8 } else { 4 };
        let mut p = 2 + isz;
        for _ in 0..count.max(i8count) {
            let namelen = usize::from(u8at(b, p)?);
            if namelen == 0 {
                return Err(ImageError::corrupt(
                    format!("xfs directory {}", d.meta.ino),
                    "empty name",
                ));
            }
            let name = bytes(b, p + 3, namelen)?.to_vec();
            let mut q = p + 3 + namelen;
            if self.ftype {
                q += 1;
            }
            let ino = if wide {
                be64(b, q)?
            } else {
                u64::from(be32(b, q)?)
            };
            p = q + isz;
            out.push(DirEntry { name, ino });
        }
        Ok(())
    }

    fn dir_data_block(
        &self,
        dir: Ino,
        b: &[u8],
        out: &mut Vec<DirEntry>,
    ) -> Result<(), ImageError> {
        let what = || format!("xfs directory {dir} block");
        let magic = be32(b, 0)?;
        let mut end = b.len();
        if magic == DIR3_BLOCK_MAGIC {
            let count = be32(b, b.len() - 8)? as usize;
            end = count
                .checked_mul(8)
                .and_then(|l| b.len().checked_sub(8 + l))
                .ok_or_else(|| ImageError::corrupt(what(), format!("{count} leaf entries")))?;
        } else if magic != DIR3_DATA_MAGIC {
            return Err(ImageError::corrupt(what(), "bad magic"));
        }
        if be64(b, 40)? != dir {
            return Err(ImageError::corrupt(what(), "belongs to another inode"));
        }
        let mut p = 64;
        while p < end {
            if be16(b, p)? == 0xffff {
                let len = usize::from(be16(b, p + 2)?);
                if len < 8 || len % 8 != 0 {
                    return Err(ImageError::corrupt(
                        what(),
                        format!("free entry of {len} bytes"),
                    ));
                }
                p += len;
                continue;
            }
            let ino = be64(b, p)?;
            let namelen = usize::from(u8at(b, p + 8)?);
            if namelen == 0 {
                return Err(ImageError::corrupt(what(), "empty name"));
            }
            let name = bytes(b, p + 9, namelen)?;
            let raw_len = 8 + 1 + namelen + usize::from(self.ftype) + 2;
            let len = raw_len.div_ceil(8) * 8;
            if name != b"." && name != b".." {
                if out.len() >= MAX_DIR_ENTRIES {
                    return Err(ImageError::Limit(format!(
                        "directory {dir} has more than {MAX_DIR_ENTRIES} entries"
                    )));
                }
                out.push(DirEntry {
                    name: name.to_vec(),
                    ino,
                });
            }
            p += len;
        }
        Ok(())
    }

    fn attr_shortform(&self, b: &[u8], out: &mut Vec<Xattr>) -> Result<(), ImageError> {
        let total = usize::from(be16(b, 0)?).min(b.len());
        let b = &b[..total];
        let count = usize::from(u8at(b, 2)?);
        let mut p = 4;
        for _ in 0..count {
            let namelen = usize::from(u8at(b, p)?);
            let valuelen = usize::from(u8at(b, p + 1)?);
            let flags = u8at(b, p + 2)?;
            let name = bytes(b, p + 3, namelen)?;
            let value = bytes(b, p + 3 + namelen, valuelen)?;
            p += 3 + namelen + valuelen;
            if let Some(full) = attr_name(flags, name) {
                out.push(Xattr {
                    name: full,
                    value: value.to_vec(),
                });
            }
        }
        Ok(())
    }

    fn attr_leaf(
        &self,
        ino: Ino,
        map: &[Extent],
        b: &[u8],
        out: &mut Vec<Xattr>,
        budget: &mut usize,
    ) -> Result<(), ImageError> {
        let count = usize::from(be16(b, 56)?);
        for i in 0..count {
            let at = 80 + i * 8;
            let nameidx = usize::from(be16(b, at + 4)?);
            let flags = u8at(b, at + 6)?;
            if flags & 0x80 != 0 {
                continue; // incomplete
            }
            let (name, value) = if flags & 1 != 0 {
                let valuelen = usize::from(be16(b, nameidx)?);
                let namelen = usize::from(u8at(b, nameidx + 2)?);
                let name = bytes(b, nameidx + 3, namelen)?;
                let value = bytes(b, nameidx + 3 + namelen, valuelen)?.to_vec();
                (name, value)
            } else {
                let valueblk = u64::from(be32(b, nameidx)?);
                let valuelen = be32(b, nameidx + 4)? as usize;
                let namelen = usize::from(u8at(b, nameidx + 8)?);
                let name = bytes(b, nameidx + 9, namelen)?;
                if valuelen > *budget {
                    return Err(ImageError::Limit(format!(
                        "inode {ino}: attributes over {MAX_XATTR_BYTES} bytes"
                    )));
                }
                (name, self.attr_remote(ino, map, valueblk, valuelen)?)
            };
            *budget = budget
                .checked_sub(name.len() + value.len())
                .ok_or_else(|| {
                    ImageError::Limit(format!(
                        "inode {ino}: attributes over {MAX_XATTR_BYTES} bytes"
                    ))
                })?;
            if let Some(full) = attr_name(flags, name) {
                out.push(Xattr { name: full, value });
            }
        }
        Ok(())
    }

    fn attr_remote(
        &self,
        ino: Ino,
        map: &[Extent],
        mut blk: u64,
        len: usize,
    ) -> Result<Vec<u8>, ImageError> {
        let bs = self.block_size as usize;
        let mut b = vec![0u8; bs];
        let mut value = Vec::with_capacity(len);
        while value.len() < len {
            self.read_mapped(map, blk << self.block_log, &mut b)?;
            if be32(&b, 0)? != ATTR3_RMT_MAGIC || be64(&b, 32)? != ino {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino} remote attribute"),
                    "bad magic or owner",
                ));
            }
            let n = (be32(&b, 8)? as usize).min(len - value.len());
            value.extend_from_slice(bytes(&b, 56, n)?);
            if n == 0 {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino} remote attribute"),
                    "empty block",
                ));
            }
            blk += 1;
        }
        Ok(value)
    }
}

/// An attribute's full name from its namespace flags; `None` for parent
/// pointers (filesystem-internal).
fn attr_name(flags: u8, name: &[u8]) -> Option<Vec<u8>> {
    let prefix: &[u8] = if flags & 8 != 0 {
        return None;
    } else if flags & 4 != 0 {
        b"security."
    } else if flags & 2 != 0 {
        b"trusted."
    } else {
        b"user."
    };
    let mut full = prefix.to_vec();
    full.extend_from_slice(name);
    Some(full)
}

impl<S: BlockSource> FsReader for Xfs<S> {
    fn root(&self) -> Ino {
        self.rootino
    }

    fn inode(&self, ino: Ino) -> Result<Inode, ImageError> {
        Ok(self.load(ino)?.meta)
    }

    fn read_dir(&self, ino: Ino) -> Result<Vec<DirEntry>, ImageError> {
        let d = self.load(ino)?;
        if d.meta.kind != Kind::Directory {
            return Err(ImageError::NotFound(format!(
                "xfs inode {ino} is not a directory"
            )));
        }
        self.dir_entries(&d)
    }

    fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let d = self.load(ino)?;
        if d.meta.kind != Kind::Regular {
            return Err(ImageError::NotFound(format!(
                "xfs inode {ino} is not a regular file"
            )));
        }
        if offset >= d.meta.size {
            return Ok(0);
        }
        let n = ((d.meta.size - offset).min(buf.len() as u64)) as usize;
        let buf = &mut buf[..n];
        match d.format {
            FMT_EXTENTS | FMT_BTREE => {
                let map = self.extents(&d, Fork::Data)?;
                self.read_mapped(&map, offset, buf)?;
            }
            FMT_LOCAL => {
                let area = &d.raw[d.data.0..d.data.1];
                let src = bytes(area, offset as usize, n)?;
                buf.copy_from_slice(src);
            }
            f => {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino}"),
                    format!("regular file in fork format {f}"),
                ));
            }
        }
        Ok(n)
    }

    fn read_link(&self, ino: Ino) -> Result<Vec<u8>, ImageError> {
        let d = self.load(ino)?;
        if d.meta.kind != Kind::Symlink {
            return Err(ImageError::NotFound(format!(
                "xfs inode {ino} is not a symlink"
            )));
        }
        let len = d.meta.size as usize;
        if d.meta.size == 0 || len > MAX_LINK {
            return Err(ImageError::corrupt(
                format!("xfs symlink {ino}"),
                format!("length {}", d.meta.size),
            ));
        }
        match d.format {
            FMT_LOCAL => Ok(bytes(&d.raw[d.data.0..d.data.1], 0, len)?.to_vec()),
            FMT_EXTENTS | FMT_BTREE => {
                let map = self.extents(&d, Fork::Data)?;
                let bs = self.block_size as usize;
                let mut b = vec![0u8; bs];
                let mut target = Vec::with_capacity(len);
                let mut blk = 0u64;
                while target.len() < len {
                    if blk > (MAX_LINK as u64) {
                        return Err(ImageError::corrupt(
                            format!("xfs symlink {ino}"),
                            "too many blocks",
                        ));
                    }
                    self.read_mapped(&map, blk << self.block_log, &mut b)?;
                    if be32(&b, 0)? != SYMLINK_MAGIC || be64(&b, 32)? != ino {
                        return Err(ImageError::corrupt(
                            format!("xfs symlink {ino}"),
                            "bad block magic or owner",
                        ));
                    }
                    let n = (be32(&b, 8)? as usize).min(len - target.len());
                    if n == 0 {
                        return Err(ImageError::corrupt(
                            format!("xfs symlink {ino}"),
                            "empty block",
                        ));
                    }
                    target.extend_from_slice(bytes(&b, 56, n)?);
                    blk += 1;
                }
                Ok(target)
            }
            f => Err(ImageError::corrupt(
                format!("xfs symlink {ino}"),
                format!("fork format {f}"),
            )),
        }
    }

    fn xattrs(&self, ino: Ino) -> Result<Vec<Xattr>, ImageError> {
        let d = self.load(ino)?;
        let Some((a0, a1)) = d.attr else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        match d.aformat {
            FMT_LOCAL => self.attr_shortform(&d.raw[a0..a1], &mut out)?,
            FMT_EXTENTS | FMT_BTREE => {
                let map = self.extents(&d, Fork::Attr)?;
                let mut b = vec![0u8; self.block_size as usize];
                let mut budget = MAX_XATTR_BYTES;
                let mut blocks = 0u64;
                for e in &map {
                    for blk in e.off..e.off + e.count {
                        blocks += 1;
                        if blocks > (MAX_XATTR_BYTES as u64) {
                            return Err(ImageError::Limit(format!(
                                "inode {ino}: attribute fork over {MAX_XATTR_BYTES} blocks"
                            )));
                        }
                        if e.unwritten {
                            continue;
                        }
                        self.read_mapped(&map, blk << self.block_log, &mut b)?;
                        if be16(&b, 8)? == ATTR3_LEAF_MAGIC && be64(&b, 48)? == ino {
                            self.attr_leaf(ino, &map, &b, &mut out, &mut budget)?;
                        }
                    }
                }
            }
            f => {
                return Err(ImageError::corrupt(
                    format!("xfs inode {ino} attributes"),
                    format!("fork format {f}"),
                ));
            }
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
        let u = &self.uuid;
        format!(
            "xfs (v5, {} B blocks) label {:?} uuid {}",
            self.block_size,
            self.label,
            uuid::Uuid::from_bytes(*u).hyphenated(),
        )
    }
}
