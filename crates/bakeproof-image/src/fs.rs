//! What a filesystem reader offers: inodes by number, directories as
//! names, file contents by offset, link targets, extended attributes.
//! The image tree (the `ReadOnlyTree` of an image, resolving paths and
//! symlinks inside the image as `Root` does inside a directory) is written
//! once on this trait, for every filesystem.

use crate::ImageError;

/// An inode number as the filesystem numbers them.
pub type Ino = u64;

/// What an inode is: the index's own kinds (one type from the reader to
/// the SBOM). A reader never returns [`Kind::Unknown`]: [`kind_from_mode`]
/// refuses a mode without a known file type.
pub use bakeproof_index::FileKind as Kind;

/// The kind the file-type bits of a POSIX `mode` (`mode & 0o170000`, the
/// same values on ext, XFS and Linux's `stat`) name, by
/// [`bakeproof_index::FileKind::from_mode`]; `None` for any other value (a
/// free inode's 0, a corrupt one).
pub fn kind_from_mode(mode: u32) -> Option<Kind> {
    Some(Kind::from_mode(mode)).filter(|k| *k != Kind::Unknown)
}

/// An inode's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inode {
    pub ino: Ino,
    pub kind: Kind,
    /// Permission bits and setuid/setgid/sticky (`mode & 0o7777`).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub nlink: u32,
    /// Seconds since the epoch.
    pub mtime: i64,
    /// Devices: (major, minor).
    pub rdev: Option<(u32, u32)>,
}

/// One directory entry (never `.` or `..`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: Ino,
}

/// One extended attribute: its full name (`security.capability`) and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xattr {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// Most entries one directory may have.
pub const MAX_DIR_ENTRIES: usize = 4_000_000;

/// A read-only filesystem reader (object safe: the image tree holds a
/// `Box<dyn FsReader>`). Every method bounds its work: a
/// directory by [`MAX_DIR_ENTRIES`], a link target by 4096 bytes,
/// attributes by 64 KiB per inode; block maps and directory trees are
/// walked with loop and depth checks.
pub trait FsReader: Send + Sync {
    /// The root directory's inode number.
    fn root(&self) -> Ino;
    fn inode(&self, ino: Ino) -> Result<Inode, ImageError>;
    /// The entries of a directory, sorted by name (bytewise).
    fn read_dir(&self, ino: Ino) -> Result<Vec<DirEntry>, ImageError>;
    /// Fills `buf` from byte `offset` of a regular file; returns how many
    /// bytes were read (0 at or past the end). Holes read as zeros.
    fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError>;
    /// A symlink's target, as stored.
    fn read_link(&self, ino: Ino) -> Result<Vec<u8>, ImageError>;
    /// Extended attributes (full names such as `security.capability`), sorted.
    fn xattrs(&self, ino: Ino) -> Result<Vec<Xattr>, ImageError>;
    /// What the reader calls the filesystem (`ext4`, `xfs`) and its label/UUID.
    fn describe(&self) -> String;
    /// The filesystem's UUID and label, as `blkid` reports them (what
    /// `/etc/fstab`'s `UUID=` and `LABEL=` name); none by default.
    fn identity(&self) -> FsIdentity {
        FsIdentity::default()
    }
}

/// What names a filesystem in `/etc/fstab`: its UUID and label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsIdentity {
    pub uuid: Option<[u8; 16]>,
    /// `None` when the filesystem has none (an empty label).
    pub label: Option<String>,
}
