//! qcow2 (versions 2 and 3) as a [`BlockSource`]: the guest's bytes, read
//! through the L1 and L2 tables; unallocated and zero clusters read as
//! zeros; compressed clusters (deflate; zstd when the header says so)
//! inflated within one cluster's size. A backing file, encryption, an
//! external data file or an unknown incompatible feature is refused
//! ([`ImageError::Unsupported`]). L2 tables are cached within a fixed
//! budget. Fuzz target: `fuzz/fuzz_targets/qcow2_image.rs`.

use crate::ImageError;
use crate::block::{BlockSource, SharedSource};
use crate::bytes::{be32, be64};

/// Whether `src` starts with the qcow2 magic (`QFI\xfb`).
pub fn is_qcow2(src: &dyn BlockSource) -> Result<bool, ImageError> {
    if src.size() < 4 {
        return Ok(false);
    }
    let mut m = [0u8; 4];
    src.read_at(0, &mut m)?;
    Ok(&m == b"QFI\xfb")
}

/// Largest L1 table read (qemu's own limit, `QCOW_MAX_L1_SIZE`).
const MAX_L1_BYTES: u64 = 32 << 20;
/// Bytes of L2 tables kept in memory.
const L2_CACHE_BYTES: usize = 16 << 20;
/// Largest guest disk (qemu's `QCOW_MAX_SIZE`… is larger; 2^56 bytes keeps
/// every offset computation far from overflowing).
const MAX_GUEST_SIZE: u64 = 1 << 56;
/// Host offsets in L1 and L2 entries: bits 9-55.
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
const ZERO: u64 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    Deflate,
    Zstd,
}

/// L2 tables by host offset, within a byte budget (oldest out first).
#[derive(Default)]
struct L2Cache {
    tables: std::collections::HashMap<u64, std::sync::Arc<Vec<u64>>>,
    order: std::collections::VecDeque<u64>,
    bytes: usize,
}

/// A qcow2 image's guest disk.
pub struct Qcow2 {
    file: SharedSource,
    size: u64,
    cluster_bits: u32,
    version: u32,
    compression: Compression,
    l1: Vec<u64>,
    l2_cache: std::sync::Mutex<L2Cache>,
    /// The last compressed cluster inflated (host offset, bytes).
    last_inflated: std::sync::Mutex<Option<(u64, std::sync::Arc<Vec<u8>>)>>,
}

fn corrupt(why: impl Into<String>) -> ImageError {
    ImageError::corrupt("qcow2", why)
}

impl Qcow2 {
    /// Reads and checks the header of the qcow2 file `file`.
    pub fn open(file: SharedSource) -> Result<Qcow2, ImageError> {
        let fsize = file.size();
        if fsize < 72 {
            return Err(corrupt(format!("{fsize} bytes: shorter than a header")));
        }
        let mut h = vec![0u8; fsize.min(112) as usize];
        file.read_at(0, &mut h)?;
        if h[0..4] != *b"QFI\xfb" {
            return Err(corrupt("no QFI\\xfb magic"));
        }
        let version = be32(&h, 4);
        if version != 2 && version != 3 {
            return Err(ImageError::Unsupported(format!("qcow2 version {version}")));
        }
        let backing_offset = be64(&h, 8);
        if backing_offset != 0 {
            let len = be32(&h, 16).min(1023) as usize;
            let mut name = vec![0u8; len];
            let name = match backing_offset.checked_add(len as u64) {
                Some(end) if end <= fsize => {
                    file.read_at(backing_offset, &mut name)?;
                    String::from_utf8_lossy(&name).into_owned()
                }
                _ => "?".to_string(),
            };
            return Err(ImageError::Unsupported(format!(
                "qcow2 with a backing file ({name:?}): read the backing chain flattened (qemu-img convert)"
            )));
        }
        let cluster_bits = be32(&h, 20);
        if !(9..=21).contains(&cluster_bits) {
            return Err(corrupt(format!("cluster_bits {cluster_bits} (9 to 21)")));
        }
        let size = be64(&h, 24);
        if size > MAX_GUEST_SIZE {
            return Err(corrupt(format!("guest size {size}")));
        }
        if be32(&h, 32) != 0 {
            return Err(ImageError::Unsupported(format!(
                "encrypted qcow2 (method {})",
                be32(&h, 32)
            )));
        }
        let l1_size = u64::from(be32(&h, 36));
        let l1_offset = be64(&h, 40);
        let mut compression = Compression::Deflate;
        if version == 3 {
            if h.len() < 104 {
                return Err(corrupt("version 3 header shorter than 104 bytes"));
            }
            let incompatible = be64(&h, 72);
            // Bit 0 (dirty: refcounts may be stale) does not matter to a
            // reader that never looks at refcounts.
            if incompatible & 2 != 0 {
                return Err(ImageError::Unsupported(
                    "qcow2 marked corrupt by qemu (incompatible feature bit 1)".into(),
                ));
            }
            if incompatible & 4 != 0 {
                return Err(ImageError::Unsupported(
                    "qcow2 with an external data file (incompatible feature bit 2)".into(),
                ));
            }
            if incompatible & 16 != 0 {
                return Err(ImageError::Unsupported(
                    "qcow2 with extended L2 entries / subclusters (incompatible feature bit 4)"
                        .into(),
                ));
            }
            let unknown = incompatible & !0b1_1111;
            if unknown != 0 {
                return Err(ImageError::Unsupported(format!(
                    "qcow2 unknown incompatible features {unknown:#x}"
                )));
            }
            let header_len = be32(&h, 100);
            if incompatible & 8 != 0 {
                if header_len < 105 || h.len() < 105 {
                    return Err(corrupt(
                        "compression type bit without a compression_type field",
                    ));
                }
                compression = match h[104] {
                    0 => Compression::Deflate,
                    1 => Compression::Zstd,
                    t => {
                        return Err(ImageError::Unsupported(format!(
                            "qcow2 compression type {t}"
                        )));
                    }
                };
            }
        }
        let cluster = 1u64 << cluster_bits;
        let per_l2 = cluster / 8;
        let needed = size.div_ceil(cluster).div_ceil(per_l2);
        if l1_size < needed {
            return Err(corrupt(format!(
                "L1 table of {l1_size} entries for {size} bytes (needs {needed})"
            )));
        }
        let l1_bytes = l1_size * 8;
        if l1_bytes > MAX_L1_BYTES {
            return Err(ImageError::Limit(format!(
                "qcow2 L1 table of {l1_bytes} bytes (at most {MAX_L1_BYTES})"
            )));
        }
        if !l1_offset.is_multiple_of(cluster)
            || l1_offset.checked_add(l1_bytes).is_none_or(|e| e > fsize)
        {
            return Err(corrupt(format!(
                "L1 table at {l1_offset} ({l1_bytes} bytes) not in the file ({fsize} bytes) or not cluster-aligned"
            )));
        }
        // Only the entries the guest size uses are kept.
        let mut raw = vec![0u8; (needed * 8) as usize];
        file.read_at(l1_offset, &mut raw)?;
        let l1 = raw.chunks_exact(8).map(|c| be64(c, 0)).collect();
        Ok(Qcow2 {
            file,
            size,
            cluster_bits,
            version,
            compression,
            l1,
            l2_cache: std::sync::Mutex::new(L2Cache::default()),
            last_inflated: std::sync::Mutex::new(None),
        })
    }

    fn cluster_size(&self) -> u64 {
        1u64 << self.cluster_bits
    }

    fn l2_table(&self, offset: u64) -> Result<std::sync::Arc<Vec<u64>>, ImageError> {
        if let Ok(c) = self.l2_cache.lock()
            && let Some(t) = c.tables.get(&offset)
        {
            return Ok(t.clone());
        }
        let cluster = self.cluster_size();
        if offset
            .checked_add(cluster)
            .is_none_or(|e| e > self.file.size())
        {
            return Err(corrupt(format!(
                "L2 table at {offset} past the end of the file ({} bytes)",
                self.file.size()
            )));
        }
        let mut raw = vec![0u8; cluster as usize];
        self.file.read_at(offset, &mut raw)?;
        let table =
            std::sync::Arc::new(raw.chunks_exact(8).map(|c| be64(c, 0)).collect::<Vec<_>>());
        if let Ok(mut c) = self.l2_cache.lock() {
            let c = &mut *c;
            while c.bytes + raw.len() > L2_CACHE_BYTES {
                let Some(old) = c.order.pop_front() else {
                    break;
                };
                if c.tables.remove(&old).is_some() {
                    c.bytes = c.bytes.saturating_sub(raw.len());
                }
            }
            if c.tables.insert(offset, table.clone()).is_none() {
                c.order.push_back(offset);
                c.bytes += raw.len();
            }
        }
        Ok(table)
    }

    /// The guest cluster `index`'s bytes `[within, within + out.len())`.
    fn read_cluster(&self, index: u64, within: u64, out: &mut [u8]) -> Result<(), ImageError> {
        let per_l2 = self.cluster_size() / 8;
        let l1_entry = *self
            .l1
            .get((index / per_l2) as usize)
            .ok_or_else(|| corrupt(format!("cluster {index} past the L1 table")))?;
        let l2_offset = l1_entry & OFFSET_MASK;
        if l2_offset == 0 {
            out.fill(0);
            return Ok(());
        }
        if !l2_offset.is_multiple_of(self.cluster_size()) {
            return Err(corrupt(format!(
                "L2 table offset {l2_offset} not cluster-aligned"
            )));
        }
        let table = self.l2_table(l2_offset)?;
        let entry = table[(index % per_l2) as usize];
        if entry & COMPRESSED != 0 {
            let data = self.inflate(entry)?;
            out.copy_from_slice(&data[within as usize..within as usize + out.len()]);
            return Ok(());
        }
        if self.version == 3 && entry & ZERO != 0 {
            out.fill(0);
            return Ok(());
        }
        let host = entry & OFFSET_MASK;
        if host == 0 {
            // Unallocated, and no backing file: zeros.
            out.fill(0);
            return Ok(());
        }
        if !host.is_multiple_of(self.cluster_size()) {
            return Err(corrupt(format!(
                "data cluster offset {host} not cluster-aligned"
            )));
        }
        let at = host + within;
        if at
            .checked_add(out.len() as u64)
            .is_none_or(|e| e > self.file.size())
        {
            return Err(corrupt(format!(
                "data cluster at {host} past the end of the file ({} bytes)",
                self.file.size()
            )));
        }
        self.file.read_at(at, out)
    }

    /// A compressed cluster, inflated to exactly one cluster (a stream that
    /// inflates to more is cut there; one that inflates to less is corrupt).
    fn inflate(&self, entry: u64) -> Result<std::sync::Arc<Vec<u8>>, ImageError> {
        let shift = 62 - (self.cluster_bits - 8);
        let host = entry & ((1u64 << shift) - 1);
        if let Ok(c) = self.last_inflated.lock()
            && let Some((at, data)) = &*c
            && *at == host
        {
            return Ok(data.clone());
        }
        let sectors = ((entry & !COMPRESSED & !(1u64 << 63)) >> shift) + 1;
        let fsize = self.file.size();
        if host >= fsize {
            return Err(corrupt(format!(
                "compressed cluster at {host} past the end of the file"
            )));
        }
        // At most 2^(cluster_bits - 8) sectors: twice a cluster.
        let len = (sectors * 512 - (host % 512)).min(fsize - host);
        let mut input = vec![0u8; len as usize];
        self.file.read_at(host, &mut input)?;
        let mut out = vec![0u8; self.cluster_size() as usize];
        let produced = match self.compression {
            Compression::Deflate => {
                let mut d = flate2::Decompress::new(false);
                match d.decompress(&input, &mut out, flate2::FlushDecompress::Finish) {
                    Ok(_) => d.total_out() as usize,
                    Err(e) => return Err(corrupt(format!("compressed cluster at {host}: {e}"))),
                }
            }
            Compression::Zstd => zstd_into(&input, &mut out)
                .map_err(|e| corrupt(format!("zstd cluster at {host}: {e}")))?,
        };
        if produced != out.len() {
            return Err(corrupt(format!(
                "compressed cluster at {host} inflates to {produced} bytes, not {}",
                out.len()
            )));
        }
        let out = std::sync::Arc::new(out);
        if let Ok(mut c) = self.last_inflated.lock() {
            *c = Some((host, out.clone()));
        }
        Ok(out)
    }
}

/// zstd frames into `out` until it is full (qemu's streaming decoder: the
/// compressed run is padded to its sector).
fn zstd_into(input: &[u8], out: &mut [u8]) -> std::io::Result<usize> {
    use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};
    let mut d = Decoder::new()?;
    let mut inb = InBuffer::around(input);
    let mut outb = OutBuffer::around(out);
    loop {
        let before = (inb.pos(), outb.pos());
        d.run(&mut inb, &mut outb)?;
        if outb.pos() == outb.capacity()
            || inb.pos() == input.len()
            || (inb.pos(), outb.pos()) == before
        {
            return Ok(outb.pos());
        }
    }
}

impl BlockSource for Qcow2 {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        let len = buf.len() as u64;
        if offset.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(ImageError::OutOfRange {
                offset,
                len,
                size: self.size,
            });
        }
        let cluster = self.cluster_size();
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let within = pos % cluster;
            let n = ((cluster - within) as usize).min(buf.len() - done);
            self.read_cluster(pos >> self.cluster_bits, within, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}
