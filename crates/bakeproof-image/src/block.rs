//! Where an image's bytes come from.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use crate::ImageError;

/// Random-access, read-only bytes. `read_at` fills all of `buf` or fails
/// (a short read is [`ImageError::OutOfRange`]).
pub trait BlockSource: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError>;
}

fn check_range(offset: u64, len: usize, size: u64) -> Result<(), ImageError> {
    let len = len as u64;
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(ImageError::OutOfRange { offset, len, size }),
    }
}

/// A raw image file (or a block device opened read-only).
#[derive(Debug)]
pub struct FileSource {
    file: File,
    size: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource, ImageError> {
        let io = |e: std::io::Error| ImageError::Io {
            offset: 0,
            message: format!("{}: {e}", path.display()),
        };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        Ok(FileSource { file, size })
    }
}

impl BlockSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        check_range(offset, buf.len(), self.size)?;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| ImageError::Io {
                offset,
                message: e.to_string(),
            })
    }
}

/// Bytes in memory (tests, fuzz targets).
impl BlockSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        check_range(offset, buf.len(), self.size())?;
        let start = offset as usize;
        buf.copy_from_slice(&self[start..start + buf.len()]);
        Ok(())
    }
}

/// A window `[start, start + len)` of another source: a partition.
pub struct Slice<S> {
    inner: S,
    start: u64,
    len: u64,
}

impl<S: BlockSource> Slice<S> {
    pub fn new(inner: S, start: u64, len: u64) -> Result<Slice<S>, ImageError> {
        check_range(start, 0, inner.size())?;
        let len = len.min(inner.size() - start);
        Ok(Slice { inner, start, len })
    }
}

impl<S: BlockSource> BlockSource for Slice<S> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        check_range(offset, buf.len(), self.len)?;
        self.inner.read_at(self.start + offset, buf)
    }
}

/// A shared source: the partition windows, the qcow2 layer, the LVM
/// volumes and the filesystem reader above them hold one of these.
pub type SharedSource = std::sync::Arc<dyn BlockSource>;

impl<T: BlockSource + ?Sized> BlockSource for std::sync::Arc<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        (**self).read_at(offset, buf)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        (**self).read_at(offset, buf)
    }
}

/// How a remote source (an EBS snapshot) says what it fetched, for the
/// CLI's progress line (blocks and MB/s). Called from worker threads.
pub trait FetchProgress: Send + Sync {
    /// Once, when the source knows: how many blocks and bytes it holds
    /// (allocated blocks only: the ones a full read would fetch).
    fn expect(&self, _blocks: u64, _bytes: u64) {}
    /// One block of `bytes` bytes arrived (after its checksum was checked).
    fn fetched(&self, bytes: u64);
}
