//! The XFS v5 reader on hostile images: open, then walk every reachable
//! inode (directories, file contents, link targets, xattrs) within fixed
//! bounds. No panic, no hang, memory bounded by the reader's own caps.
//!
//! Input: a sparse image, since a real XFS image is at least 300 MiB while
//! its metadata fits a few KiB: repeated chunks of a little-endian u32 byte
//! offset in 8-byte units, a little-endian u16 length (at most 4096) and
//! that many bytes, placed in a 512 MiB image; everything else reads as
//! zeros. The seeds (seed.sh) are the non-zero byte runs of a real
//! mkfs.xfs image (its log left out: the reader never reads it).
#![no_main]
use std::collections::{BTreeMap, HashSet};

use bakeproof_image::ImageError;
use bakeproof_image::block::BlockSource;
use bakeproof_image::fs::{FsReader, Kind};
use bakeproof_image::xfs::Xfs;
use libfuzzer_sys::fuzz_target;

const CHUNK: usize = 4096;
const SIZE: u64 = 512 << 20;

struct Sparse(BTreeMap<u64, Vec<u8>>);

impl BlockSource for Sparse {
    fn size(&self) -> u64 {
        SIZE
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= SIZE)
            .ok_or(ImageError::OutOfRange {
                offset,
                len: buf.len() as u64,
                size: SIZE,
            })?;
        buf.fill(0);
        for (&start, data) in self.0.range(offset.saturating_sub(CHUNK as u64)..end) {
            let lo = offset.max(start);
            let hi = end.min(start + data.len() as u64);
            if lo < hi {
                buf[(lo - offset) as usize..(hi - offset) as usize]
                    .copy_from_slice(&data[(lo - start) as usize..(hi - start) as usize]);
            }
        }
        Ok(())
    }
}

fn parse(mut data: &[u8]) -> Sparse {
    let mut chunks = BTreeMap::new();
    while data.len() >= 6 {
        let off = u64::from(u32::from_le_bytes([data[0], data[1], data[2], data[3]])) * 8 % SIZE;
        let len = usize::from(u16::from_le_bytes([data[4], data[5]]))
            .min(CHUNK)
            .min(data.len() - 6);
        let len = len.min((SIZE - off) as usize);
        chunks.insert(off, data[6..6 + len].to_vec());
        data = &data[6 + len..];
    }
    Sparse(chunks)
}

fuzz_target!(|data: &[u8]| {
    let Ok(fs) = Xfs::open(parse(data)) else {
        return;
    };
    let _ = fs.describe();
    let mut seen = HashSet::new();
    let mut stack = vec![fs.root()];
    let mut buf = vec![0u8; 65536];
    while let Some(ino) = stack.pop() {
        if seen.len() >= 2000 || !seen.insert(ino) {
            continue;
        }
        let Ok(meta) = fs.inode(ino) else { continue };
        let _ = fs.xattrs(ino);
        match meta.kind {
            Kind::Directory => {
                if let Ok(entries) = fs.read_dir(ino) {
                    stack.extend(entries.into_iter().take(4000).map(|e| e.ino));
                }
            }
            Kind::Regular => {
                // The first and the last 64 KiB.
                let _ = fs.read(ino, 0, &mut buf);
                let _ = fs.read(ino, meta.size.saturating_sub(65536), &mut buf);
            }
            Kind::Symlink => {
                let _ = fs.read_link(ino);
            }
            _ => {}
        }
    }
});
