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
    /// The filesystem's reader (the tree's), when it opened.
    fs: Option<Arc<dyn FsReader>>,
    /// The partition it is on (none for a whole-disk filesystem).
    part: Option<disk::Partition>,
    /// Its LVM volume group and logical volume, when it is one.
    lv: Option<(String, String)>,
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
    let (tree, fs) = match open_fs(content, src) {
        None => {
            c.error = Some(unreadable_content(content));
            (None, None)
        }
        Some(Err(e)) => {
            c.error = Some(e.to_string());
            (None, None)
        }
        Some(Ok(fs)) => {
            c.filesystem = Some(fs.describe());
            let tree = ImageTree::new(Arc::clone(&fs), format!("{name} {}", c.location));
            // Followed inside the image: /etc/os-release is often a link
            // to ../usr/lib/os-release.
            c.os_release = tree.metadata(b"/etc/os-release").is_ok();
            (Some(tree), Some(fs))
        }
    };
    Opened {
        candidate: c,
        tree,
        fs,
        part: None,
        lv: None,
    }
}

/// Every filesystem candidate of the disk `src`: each partition's (or the
/// whole disk's), each linear LVM volume's.
fn filesystems(src: &SharedSource, name: &str) -> Result<(Layout, Vec<Opened>), ImageError> {
    let layout = disk::read_layout(&**src)?;
    let mut opened: Vec<Opened> = Vec::new();
    for p in &layout.partitions {
        let location = if layout.table == disk::TableKind::None {
            "whole image".to_string()
        } else {
            format!("partition {}", p.number)
        };
        let part: SharedSource = Arc::new(Slice::new(Arc::clone(src), p.start, p.len)?);
        let in_table = (layout.table != disk::TableKind::None).then(|| p.clone());
        if p.content != Content::Lvm2 {
            let mut o = candidate_of(name, location, p.number, p.content, part);
            o.part = in_table;
            opened.push(o);
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
                fs: None,
                part: in_table,
                lv: None,
            }),
            Ok(pv) => {
                for lv in &pv.lvs {
                    let at = format!("{location} lvm {}/{}", lv.vg, lv.name);
                    let volume = lvm::open_lv(Arc::clone(&part), lv)
                        .and_then(|v| disk::probe(&*v).map(|content| (v, content)));
                    let mut o = match volume {
                        Ok((v, content)) => candidate_of(name, at, p.number, content, v),
                        Err(e) => Opened {
                            candidate: Candidate {
                                location: at,
                                partition: p.number,
                                content: Content::Unknown,
                                filesystem: None,
                                os_release: false,
                                error: Some(format!("{} volume: {e}", lv.layout)),
                            },
                            tree: None,
                            fs: None,
                            part: None,
                            lv: None,
                        },
                    };
                    o.lv = Some((lv.vg.clone(), lv.name.clone()));
                    opened.push(o);
                }
            }
        }
    }
    Ok((layout, opened))
}

fn open_as(
    src: SharedSource,
    format: &'static str,
    name: &str,
    opts: &OpenOptions,
) -> Result<(ImageTree, Found), ImageError> {
    let (layout, mut opened) = filesystems(&src, name)?;
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

/// One more disk of the image (an AMI's other EBS volume).
#[derive(Clone)]
pub struct Volume {
    /// Its device name in the image's block device mapping (`/dev/sdb`,
    /// `/dev/xvdb`): what `/dev/sdX` and `/dev/xvdX` in fstab are matched
    /// against.
    pub device: String,
    /// What reports call it (`/dev/sdb (snap-…)`).
    pub label: String,
    pub source: SharedSource,
}

/// What [`mount_volumes`] did, for the scan's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountReport {
    /// Mounted: (mount point, what: volume, location, filesystem, fstab line).
    pub mounted: Vec<(String, String)>,
    /// fstab entries that name a filesystem no volume has (an instance
    /// store, a volume attached later, a device name that cannot be
    /// matched), or one that could not be mounted: warnings.
    pub unmatched: Vec<String>,
    /// fstab entries not mounted at boot, or not filesystems of a disk
    /// (`noauto`, swap, network, bind): said, not scanned.
    pub skipped: Vec<String>,
    /// Filesystems of the volumes that no fstab entry names: reported, not
    /// scanned.
    pub unnamed: Vec<String>,
    /// What else was found (an fstab line that did not parse, a volume
    /// that could not be read, what each volume holds).
    pub notes: Vec<String>,
}

impl MountReport {
    /// One line per finding, for people.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.notes.iter().cloned());
        for (at, what) in &self.mounted {
            out.push(format!("mounted at {at}: {what}"));
        }
        for s in &self.skipped {
            out.push(format!("not mounted: {s}"));
        }
        for u in &self.unmatched {
            out.push(format!("warning: {u}"));
        }
        for u in &self.unnamed {
            out.push(format!("not scanned (no /etc/fstab entry names it): {u}"));
        }
        out
    }
}

/// The letter of a block device mapping or fstab name `/dev/sdb`,
/// `/dev/xvdb`, `sdb`, `xvdb3` (`xvdX` is `sdX`: the Xen and the
/// SCSI-style name of one attachment) and its partition number (0: the
/// whole disk).
fn disk_letter(dev: &[u8]) -> Option<(Vec<u8>, u32)> {
    let d = dev.strip_prefix(b"/dev/").unwrap_or(dev);
    let rest = d
        .strip_prefix(b"xvd")
        .or_else(|| d.strip_prefix(b"sd"))
        .or_else(|| d.strip_prefix(b"hd"))?;
    let letters = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
    if letters == 0 {
        return None;
    }
    let (l, num) = rest.split_at(letters);
    let n = if num.is_empty() {
        0
    } else {
        std::str::from_utf8(num).ok()?.parse().ok()?
    };
    Some((l.to_vec(), n))
}

/// `/dev/mapper/VG-LV` (a `-` in a name doubled) or `/dev/VG/LV`.
fn lvm_name(dev: &[u8]) -> Option<(String, String)> {
    let s = std::str::from_utf8(dev.strip_prefix(b"/dev/")?).ok()?;
    if let Some(m) = s.strip_prefix("mapper/") {
        let b = m.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'-' {
                if b.get(i + 1) == Some(&b'-') {
                    i += 2;
                    continue;
                }
                let (vg, lv) = (&m[..i], &m[i + 1..]);
                return Some((vg.replace("--", "-"), lv.replace("--", "-")));
            }
            i += 1;
        }
        return None;
    }
    let (vg, lv) = s.split_once('/')?;
    (!lv.contains('/')).then(|| (vg.to_string(), lv.to_string()))
}

/// Reads the root's `/etc/fstab` and mounts each filesystem of `volumes`
/// it names at its mount point (parents before children), as a booted
/// instance would see them: matched by `UUID=`, `LABEL=`, `PARTUUID=`,
/// `PARTLABEL=` (and their `/dev/disk/by-*/` paths), `/dev/VG/LV`,
/// `/dev/mapper/VG-LV`, and `/dev/sdX[N]`/`/dev/xvdX[N]` against the
/// volumes' device names (`xvdX` is `sdX`). `/dev/nvme…` names are not
/// matched: on Nitro instances they follow the order volumes attach in,
/// which the mapping does not fix. The root's own entry (`/`) and the
/// root disk's other partitions are not mounted (only `volumes`' are).
/// Nothing here is fatal: what could not be matched, read or mounted is
/// in the report.
pub fn mount_volumes(mut root: ImageTree, volumes: Vec<Volume>) -> (ImageTree, MountReport) {
    let mut report = MountReport::default();
    struct Fs {
        volume: usize,
        o: Opened,
        used: bool,
    }
    let mut all: Vec<Fs> = Vec::new();
    for (vi, v) in volumes.iter().enumerate() {
        match filesystems(&v.source, &v.label) {
            Err(e) => report
                .notes
                .push(format!("volume {}: cannot be read: {e}", v.label)),
            Ok((layout, opened)) => {
                report.notes.push(format!(
                    "volume {}: partition table {}, {} partition(s)",
                    v.label,
                    layout.table.as_str(),
                    layout.partitions.len()
                ));
                for w in &layout.warnings {
                    report
                        .notes
                        .push(format!("volume {}: warning: {w}", v.label));
                }
                all.extend(opened.into_iter().map(|o| Fs {
                    volume: vi,
                    o,
                    used: false,
                }));
            }
        }
    }
    let fstab = match root.read_file(b"/etc/fstab", crate::fstab::MAX_FSTAB as u64) {
        Ok(b) => crate::fstab::parse(&b),
        Err(e) => {
            let why = if e.is_not_found() {
                "the root filesystem has no /etc/fstab".to_string()
            } else {
                format!("/etc/fstab: {e}")
            };
            report.notes.push(format!("{why}: no volume is mounted"));
            crate::fstab::Fstab::default()
        }
    };
    for w in &fstab.warnings {
        report.notes.push(format!("/etc/fstab: {w}"));
    }
    let mut entries: Vec<&crate::fstab::Entry> = Vec::new();
    for e in &fstab.entries {
        use crate::fstab::Use;
        let at = String::from_utf8_lossy(&e.target).into_owned();
        let src = String::from_utf8_lossy(&e.source).into_owned();
        let line = e.line;
        match e.use_() {
            Use::Mount if e.target == b"/" => {}
            Use::Mount => entries.push(e),
            Use::Pseudo => {}
            Use::Swap => report
                .skipped
                .push(format!("/etc/fstab line {line}: {src}: swap")),
            Use::NoAuto => report
                .skipped
                .push(format!("/etc/fstab line {line}: {src} at {at}: noauto")),
            Use::Network => report.skipped.push(format!(
                "/etc/fstab line {line}: {src} at {at}: a network filesystem"
            )),
            Use::Bind => report.skipped.push(format!(
                "/etc/fstab line {line}: {src} at {at}: a bind mount (not done)"
            )),
            Use::Invalid(why) => report
                .skipped
                .push(format!("/etc/fstab line {line}: {src}: {why}")),
        }
    }
    // Parents before children, fstab order otherwise (as systemd orders
    // mount units by their paths).
    entries.sort_by_key(|e| {
        e.target
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .count()
    });
    for e in entries {
        use crate::fstab::Source;
        let at = String::from_utf8_lossy(&e.target).into_owned();
        let src = String::from_utf8_lossy(&e.source).into_owned();
        let line = e.line;
        let uuid_of = |f: &Fs| {
            f.o.fs
                .as_ref()
                .and_then(|fs| fs.identity().uuid)
                .map(|u| uuid::Uuid::from_bytes(u).hyphenated().to_string())
        };
        let label_of = |f: &Fs| f.o.fs.as_ref().and_then(|fs| fs.identity().label);
        let source = e.source();
        let matches: Vec<usize> = match &source {
            Source::Uuid(u) => (0..all.len())
                .filter(|&i| uuid_of(&all[i]).as_deref() == Some(u.as_str()))
                .collect(),
            Source::Label(l) => (0..all.len())
                .filter(|&i| label_of(&all[i]).is_some_and(|x| x.as_bytes() == l.as_slice()))
                .collect(),
            Source::PartUuid(u) => (0..all.len())
                .filter(|&i| {
                    all[i].o.lv.is_none()
                        && all[i].o.part.as_ref().and_then(|p| p.unique_id.as_deref())
                            == Some(u.as_str())
                })
                .collect(),
            Source::PartLabel(l) => (0..all.len())
                .filter(|&i| {
                    all[i].o.lv.is_none()
                        && all[i]
                            .o
                            .part
                            .as_ref()
                            .and_then(|p| p.name.as_deref())
                            .is_some_and(|n| n.as_bytes() == l.as_slice())
                })
                .collect(),
            Source::Device(d) if d.starts_with(b"/dev/nvme") => {
                report.unmatched.push(format!(
                    "/etc/fstab line {line}: {src} at {at}: NVMe device names follow the order \
                     volumes attach in, not the block device mapping: not matched (UUID= or \
                     LABEL= would be)"
                ));
                continue;
            }
            Source::Device(d) => {
                if let Some((letter, n)) = disk_letter(d) {
                    (0..all.len())
                        .filter(|&i| {
                            all[i].o.lv.is_none()
                                && disk_letter(volumes[all[i].volume].device.as_bytes())
                                    .is_some_and(|(l, _)| l == letter)
                                && all[i].o.candidate.partition == n
                        })
                        .collect()
                } else if let Some(vl) = lvm_name(d) {
                    (0..all.len())
                        .filter(|&i| all[i].o.lv.as_ref() == Some(&vl))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            Source::Other(_) => Vec::new(),
        };
        let i = match matches.as_slice() {
            [one] => *one,
            [] => {
                report.unmatched.push(format!(
                    "/etc/fstab line {line}: {src} at {at}: no volume of the image has it (an \
                     instance store, or a volume attached later?): not scanned"
                ));
                continue;
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|&i| {
                        format!(
                            "{} {}",
                            volumes[all[i].volume].label, all[i].o.candidate.location
                        )
                    })
                    .collect();
                report.unmatched.push(format!(
                    "/etc/fstab line {line}: {src} at {at}: several filesystems match ({}): \
                     none mounted",
                    names.join(", ")
                ));
                continue;
            }
        };
        let f = &mut all[i];
        f.used = true;
        let what = format!("{} {}", volumes[f.volume].label, f.o.candidate.location);
        let Some(fs) = f.o.fs.clone() else {
            report.unmatched.push(format!(
                "/etc/fstab line {line}: {src} at {at}: {what}: {}: not scanned",
                f.o.candidate
                    .error
                    .clone()
                    .unwrap_or_else(|| "not readable".into())
            ));
            continue;
        };
        let described = fs.describe();
        match root.mount(&e.target, fs, what.clone()) {
            Ok(()) => report.mounted.push((
                at,
                format!("{what}: {described} (/etc/fstab line {line}: {src})"),
            )),
            Err(err) => report.unmatched.push(format!(
                "/etc/fstab line {line}: {src} at {at}: {what} not mounted: {err}"
            )),
        }
    }
    for f in &all {
        if f.used {
            continue;
        }
        let what = match (&f.o.candidate.filesystem, &f.o.candidate.error) {
            (Some(fs), _) => fs.clone(),
            (None, Some(e)) => format!("{} ({e})", f.o.candidate.content.as_str()),
            (None, None) => f.o.candidate.content.as_str().to_string(),
        };
        report.unnamed.push(format!(
            "{} {}: {what}",
            volumes[f.volume].label, f.o.candidate.location
        ));
    }
    (root, report)
}
