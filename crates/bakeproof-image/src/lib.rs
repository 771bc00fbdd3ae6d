//! Disk images read without mounting (issue 16, docs/images.md): no root,
//! no loop device, no kernel filesystem driver ever sees an untrusted image.
//!
//! - [`block`]: where the bytes come from ([`block::BlockSource`]: a file, a
//!   window of one (a partition), a qcow2 file ([`qcow2`]), a linear LVM
//!   volume ([`lvm`]), an EBS snapshot (crate `bakeproof-ebs`));
//! - [`disk`]: partition tables (GPT, MBR) and what each partition holds;
//! - [`fs`]: what a filesystem reader offers ([`fs::FsReader`]), the one
//!   interface the image tree (a `bakeproof_index::ReadOnlyTree`) is built on;
//! - [`ext4`]: ext2, ext3 and ext4;
//! - [`xfs`]: XFS v5;
//! - [`tree`]: a filesystem as a `bakeproof_index::ReadOnlyTree`, so the
//!   scan pipeline reads an image exactly as it reads a directory;
//! - [`open`]: from a disk to the tree of its root filesystem (table,
//!   partitions, LVM, the filesystem with `/etc/os-release`), and other
//!   disks' filesystems mounted into it where its `/etc/fstab` says
//!   ([`open::mount_volumes`], [`fstab`]).
//!
//! Every on-disk structure is parsed from bytes by code that never panics
//! and bounds what it allocates and how far it follows a chain (fuzz
//! targets in `fuzz/`): a hostile image is an [`ImageError`], never a
//! panic, a hang or unbounded memory.

pub mod block;
mod bytes;
pub mod disk;
pub mod ext4;
pub mod fs;
pub mod fstab;
pub mod lvm;
pub mod open;
pub mod qcow2;
pub mod tree;
pub mod xfs;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Reading the source failed.
    #[error("I/O error reading the image at byte {offset}: {message}")]
    Io { offset: u64, message: String },
    /// A read past the end of the source (a truncated image, or a block
    /// number out of range).
    #[error("read of {len} bytes at {offset} is past the end of the image ({size} bytes)")]
    OutOfRange { offset: u64, len: u64, size: u64 },
    /// The bytes are not (or no longer) the structure expected: a bad magic,
    /// checksum, count, or a reference out of range, a loop.
    #[error("corrupt {what}: {why}")]
    Corrupt { what: String, why: String },
    /// A valid feature this reader does not implement (said, never guessed).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A path lookup found nothing.
    #[error("not found: {0}")]
    NotFound(String),
    /// A limit of this reader (bytes allocated, entries, depth) was reached.
    #[error("limit reached: {0}")]
    Limit(String),
    /// The disk holds no filesystem to scan, or several and none was
    /// chosen (`--partition`).
    #[error("{0}")]
    NoRoot(String),
}

impl ImageError {
    pub fn corrupt(what: impl Into<String>, why: impl Into<String>) -> ImageError {
        ImageError::Corrupt {
            what: what.into(),
            why: why.into(),
        }
    }
}
