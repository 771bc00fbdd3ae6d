//! From a disk image to the tree of its root filesystem: the qcow2 layer
//! when the file is one, the partition table, LVM physical volumes and
//! their linear volumes, and the filesystem that holds `/etc/os-release`
//! (or the partition the caller names).

use std::path::Path;

use crate::ImageError;
use crate::block::SharedSource;
use crate::disk::{Content, Layout};
use crate::tree::ImageTree;

/// Which filesystem of a disk to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The partition number (as [`crate::disk::Partition::number`]);
    /// `None`: the one filesystem with `/etc/os-release`.
    pub partition: Option<u32>,
}

/// One filesystem candidate found on the disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// `partition 2`, `partition 3 lvm vg0/root`, `whole image`.
    pub location: String,
    pub partition: u32,
    pub content: Content,
    /// What the reader says of it (`ext4 UUID …`), when it opened.
    pub filesystem: Option<String>,
    /// Whether it holds `/etc/os-release`.
    pub os_release: bool,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
}

/// What was found on the disk, for the scan's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// `raw` or `qcow2`.
    pub format: &'static str,
    pub layout: Layout,
    pub candidates: Vec<Candidate>,
    /// The index in `candidates` of the filesystem read.
    pub chosen: usize,
}

/// Opens the root filesystem of the disk `src`; `name` is what reports
/// call it (the file path, `ebs:snap-…`).
pub fn open_disk(
    src: SharedSource,
    name: &str,
    opts: &OpenOptions,
) -> Result<(ImageTree, Found), ImageError> {
    let _ = (src, name, opts);
    Err(ImageError::Unsupported("open_disk: not written yet".into()))
}

/// Opens a disk image file (raw or qcow2).
pub fn open_path(path: &Path, opts: &OpenOptions) -> Result<(ImageTree, Found), ImageError> {
    let _ = (path, opts);
    Err(ImageError::Unsupported("open_path: not written yet".into()))
}
