//! From a disk image to the tree of its root filesystem: the qcow2 layer
//! when the file is one, the partition table, LVM physical volumes and
//! their linear volumes, and the filesystem that holds `/etc/os-release`
//! (or the partition the caller names; a disk with one filesystem is that
//! filesystem).

use std::path::Path;
use std::sync::Arc;

use bakeproof_index::ReadOnlyTree as _;

use crate::ImageError;
use crate::block::{FileSource, SharedSource, Slice};
use crate::disk::{self, Content, Layout};
use crate::ext4::Ext4;
use crate::fs::FsReader;
use crate::lvm;
use crate::qcow2::{self, Qcow2};
use crate::tree::ImageTree;
use crate::xfs::Xfs;

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

impl Found {
    /// One line per finding, for people: the table, each candidate, the
    /// choice.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} image, partition table {}, {} partition(s)",
            self.format,
            self.layout.table.as_str(),
            self.layout.partitions.len()
        )];
        for w in &self.layout.warnings {
            out.push(format!("warning: {w}"));
        }
        for (i, c) in self.candidates.iter().enumerate() {
            let mark = if i == self.chosen {
                "scanning"
            } else {
                "found"
            };
            let what = match (&c.filesystem, &c.error) {
                (Some(fs), _) => fs.clone(),
                (None, Some(e)) => format!("{} ({e})", c.content.as_str()),
                (None, None) => c.content.as_str().to_string(),
            };
            let os = if c.os_release {
                ", /etc/os-release"
            } else {
                ""
            };
            out.push(format!("{mark} {}: {what}{os}", c.location));
        }
        out
    }
}

/// Opens the root filesystem of the disk `src`; `name` is what reports
/// call it (the file path, `ebs:snap-…`).
pub fn open_disk(
    src: SharedSource,
    name: &str,
    opts: &OpenOptions,
) -> Result<(ImageTree, Found), ImageError> {
    open_as(src, "raw", name, opts)
}

/// Opens a disk image file (raw or qcow2).
pub fn open_path(path: &Path, opts: &OpenOptions) -> Result<(ImageTree, Found), ImageError> {
    let file: SharedSource = Arc::new(FileSource::open(path)?);
    let name = path.display().to_string();
    if qcow2::is_qcow2(&*file)? {
        let guest: SharedSource = Arc::new(Qcow2::open(file)?);
        open_as(guest, "qcow2", &name, opts)
    } else {
        open_as(file, "raw", &name, opts)
    }
}

/// The filesystem reader of `content` on `src`, when there is one.
fn open_fs(content: Content, src: SharedSource) -> Option<Result<Arc<dyn FsReader>, ImageError>> {
    match content {
        Content::Ext => Some(Ext4::open(src).map(|f| Arc::new(f) as Arc<dyn FsReader>)),
        Content::Xfs => Some(Xfs::open(src).map(|f| Arc::new(f) as Arc<dyn FsReader>)),
        _ => None,
    }
}

fn unreadable_content(content: Content) -> String {
    match content {
        Content::Swap | Content::Fat => "not a root filesystem".into(),
        Content::Btrfs => "btrfs is not read by bakeproof (ext2/3/4 and XFS are)".into(),
        Content::Luks => "encrypted (LUKS): not opened".into(),
        _ => "no filesystem bakeproof reads (ext2/3/4, XFS, LVM2)".into(),
    }
}

struct Opened {
    candidate: Candidate,
    tree: Option<ImageTree>,
}

fn candidate_of(
    name: &str,
    location: String,
    partition: u32,
    content: Content,
    src: SharedSource,
) -> Opened {
    let mut c = Candidate {
        location,
        partition,
        content,
        filesystem: None,
        os_release: false,
        error: None,
    };
    let tree = match open_fs(content, src) {
        None => {
            c.error = Some(unreadable_content(content));
            None
        }
        Some(Err(e)) => {
            c.error = Some(e.to_string());
            None
        }
        Some(Ok(fs)) => {
            c.filesystem = Some(fs.describe());
            let tree = ImageTree::new(fs, format!("{name} {}", c.location));
            // Followed inside the image: /etc/os-release is often a link
            // to ../usr/lib/os-release.
            c.os_release = tree.metadata(b"/etc/os-release").is_ok();
            Some(tree)
        }
    };
    Opened { candidate: c, tree }
}

fn open_as(
    src: SharedSource,
    format: &'static str,
    name: &str,
    opts: &OpenOptions,
) -> Result<(ImageTree, Found), ImageError> {
    let layout = disk::read_layout(&*src)?;
    let mut opened: Vec<Opened> = Vec::new();
    for p in &layout.partitions {
        let location = if layout.table == disk::TableKind::None {
            "whole image".to_string()
        } else {
            format!("partition {}", p.number)
        };
        let part: SharedSource = Arc::new(Slice::new(Arc::clone(&src), p.start, p.len)?);
        if p.content != Content::Lvm2 {
            opened.push(candidate_of(name, location, p.number, p.content, part));
            continue;
        }
        match lvm::read_pv(&*part) {
            Err(e) => opened.push(Opened {
                candidate: Candidate {
                    location,
                    partition: p.number,
                    content: Content::Lvm2,
                    filesystem: None,
                    os_release: false,
                    error: Some(format!("LVM2 physical volume: {e}")),
                },
                tree: None,
            }),
            Ok(pv) => {
                for lv in &pv.lvs {
                    let at = format!("{location} lvm {}/{}", lv.vg, lv.name);
                    let volume = lvm::open_lv(Arc::clone(&part), lv)
                        .and_then(|v| disk::probe(&*v).map(|content| (v, content)));
                    match volume {
                        Ok((v, content)) => {
                            opened.push(candidate_of(name, at, p.number, content, v));
                        }
                        Err(e) => opened.push(Opened {
                            candidate: Candidate {
                                location: at,
                                partition: p.number,
                                content: Content::Unknown,
                                filesystem: None,
                                os_release: false,
                                error: Some(format!("{} volume: {e}", lv.layout)),
                            },
                            tree: None,
                        }),
                    }
                }
            }
        }
    }
    let readable: Vec<usize> = (0..opened.len())
        .filter(|&i| opened[i].tree.is_some())
        .collect();
    let summary = || {
        let found = Found {
            format,
            layout: layout.clone(),
            candidates: opened.iter().map(|o| o.candidate.clone()).collect(),
            chosen: usize::MAX,
        };
        found.lines()[1..].join("; ")
    };
    let chosen = match opts.partition {
        Some(n) => {
            let here: Vec<usize> = readable
                .iter()
                .copied()
                .filter(|&i| opened[i].candidate.partition == n)
                .collect();
            match here.as_slice() {
                [one] => *one,
                [] => {
                    return Err(ImageError::NoRoot(format!(
                        "{name}: partition {n} holds no filesystem bakeproof reads ({})",
                        summary()
                    )));
                }
                many => {
                    // Several LVs on the chosen PV: the one with os-release.
                    let with: Vec<usize> = many
                        .iter()
                        .copied()
                        .filter(|&i| opened[i].candidate.os_release)
                        .collect();
                    match with.as_slice() {
                        [one] => *one,
                        _ => {
                            return Err(ImageError::NoRoot(format!(
                                "{name}: partition {n} holds several filesystems and not exactly \
                                 one has /etc/os-release ({})",
                                summary()
                            )));
                        }
                    }
                }
            }
        }
        None => {
            let with: Vec<usize> = readable
                .iter()
                .copied()
                .filter(|&i| opened[i].candidate.os_release)
                .collect();
            match with.as_slice() {
                [one] => *one,
                // One filesystem (a partition image, a one-partition
                // disk): it is the one to scan, os-release or not.
                [] if readable.len() == 1 => readable[0],
                [] => {
                    return Err(ImageError::NoRoot(format!(
                        "{name}: no filesystem holds /etc/os-release ({}); choose one with \
                         --partition N",
                        summary()
                    )));
                }
                _ => {
                    return Err(ImageError::NoRoot(format!(
                        "{name}: several filesystems hold /etc/os-release ({}); choose one with \
                         --partition N",
                        summary()
                    )));
                }
            }
        }
    };
    let candidates = opened.iter().map(|o| o.candidate.clone()).collect();
    let tree = opened
        .swap_remove(chosen)
        .tree
        .ok_or_else(|| ImageError::NoRoot(format!("{name}: the chosen filesystem did not open")))?;
    Ok((
        tree,
        Found {
            format,
            layout,
            candidates,
            chosen,
        },
    ))
}

/// Whether the file `path` is a disk image rather than something else a
/// scan takes (a bare package database): a qcow2 file, a partition table,
/// or a filesystem or LVM signature at the start.
pub fn is_disk_image(path: &Path) -> Result<bool, ImageError> {
    let file = FileSource::open(path)?;
    if qcow2::is_qcow2(&file)? {
        return Ok(true);
    }
    if matches!(
        disk::probe(&file),
        Ok(Content::Ext | Content::Xfs | Content::Lvm2)
    ) {
        return Ok(true);
    }
    Ok(disk::read_layout(&file).is_ok_and(|l| l.table != disk::TableKind::None))
}
