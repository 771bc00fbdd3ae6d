//! The source side of a scan: a read-only tree.
//!
//! Everything that reads an image (the package readers in `bakeproof-pkgdb`,
//! the ownership plan and the account reader in `bakeproof-inventory`, the
//! seal checks and the first-boot baseline in `bakeproof-seal`) reads it
//! through [`ReadOnlyTree`], never through host paths. Today the one
//! implementation is the directory [`Root`]; a disk image, a partition
//! or an EBS snapshot read through a filesystem library is a second
//! implementation of the same trait, and nothing above it changes.
//!
//! The trait lives here, in the lowest crate every reader depends on,
//! because the package readers (`bakeproof-pkgdb`, below the inventory) and
//! the walk itself ([`ReadOnlyTree::walk`]) must see it, and its types
//! (paths as bytes, [`RootError`], [`ScanOptions`], [`ScanResult`]) are this
//! crate's.
//!
//! ## The walk
//!
//! [`ReadOnlyTree::walk`] produces the index of the whole tree. `Root`'s is
//! the fd-based parallel walk ([`crate::scan`]), specialised on directory
//! descriptors because that is what makes it fast and race-free. A second
//! source provides its own walk (an ext4 or XFS reader iterates its inodes
//! and directory blocks) and must keep the same contract: one [`Entry`] per
//! entry, sorted by raw path, SHA-256 of every regular file, each chunk of
//! content handed to [`ScanOptions::observers`] exactly once, excludes and
//! the path budget honoured, errors recorded per entry, and the same tree
//! digest ([`crate::tree_digest`]) for the same content. Mount points only
//! exist for a live directory tree; a filesystem read from an image has
//! none.
//!
//! [`Entry`]: crate::Entry

use crate::{FileKind, Root, RootError, ScanError, ScanOptions, ScanResult};

/// What [`ReadOnlyTree::metadata`] tells of a file (the fields every
/// source can give: an image's inode has them as a directory's `fstat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Permission bits and setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

/// A filesystem tree that can be read, never written: paths are raw bytes
/// starting with `/`, resolved inside the tree (absolute symlinks and `..`
/// never leave it), and no read can block (FIFOs and devices are refused
/// without being opened).
pub trait ReadOnlyTree: Send + Sync {
    /// Reads a whole regular file, following symlinks inside the tree.
    /// Refuses anything but a regular file ([`RootError::NotRegular`]) and
    /// files larger than `limit` bytes ([`RootError::TooLarge`]); a missing
    /// file is an error for which [`RootError::is_not_found`] is true.
    fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, RootError>;

    /// Reads `len` bytes at `offset` of a regular file (fewer at its end),
    /// with [`ReadOnlyTree::read_file`]'s checks: one section of a large
    /// file without holding the file (a binary's ELF section).
    fn read_range(&self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, RootError>;

    /// Names in a directory (symlinks followed inside the tree), sorted
    /// bytewise, without `.` and `..`.
    fn read_dir(&self, path: &[u8]) -> Result<Vec<Vec<u8>>, RootError>;

    /// The kind of what `path` names, its parents resolved and its last
    /// component not followed (`lstat`); `None` when nothing is there.
    fn kind_of(&self, path: &[u8]) -> Result<Option<FileKind>, RootError>;

    /// What `path` names, symlinks followed inside the tree (as
    /// [`ReadOnlyTree::read_file`] resolves it): nothing is read.
    fn metadata(&self, path: &[u8]) -> Result<Metadata, RootError>;

    /// The target of the symlink `path` names (its parents resolved inside
    /// the tree), as stored: not resolved.
    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, RootError>;

    /// Resolves every component of `path` inside the tree and returns the
    /// physical path; components that do not exist are kept as written.
    fn canonicalize(&self, path: &[u8]) -> Result<Vec<u8>, RootError>;

    /// Resolves the parents of `path` inside the tree but not its last
    /// component: the physical location of the entry a package database
    /// means by a path (`/bin/sh` is `/usr/bin/sh` on a usrmerged root).
    fn canonicalize_parent(&self, path: &[u8]) -> Result<Vec<u8>, RootError>;

    /// What reports call this source (the host path of a directory root).
    fn describe(&self) -> String;

    /// Whether this tree is the running system's own `/` (whose `/run` and
    /// `/proc` are the live system's, not the image's).
    fn is_running_system(&self) -> bool;

    /// Indexes the whole tree (see the module documentation for the
    /// contract a second implementation keeps).
    fn walk(&self, opts: &ScanOptions) -> Result<ScanResult, ScanError>;

    /// The entries of the chosen physical paths only, in the order given,
    /// as [`ReadOnlyTree::walk`] would index them (`scan_paths` for a
    /// directory root); a path with nothing there is an entry with
    /// [`crate::EntryError::Vanished`].
    fn index_paths(
        &self,
        paths: &[crate::RootPath],
        opts: &ScanOptions,
    ) -> Result<Vec<crate::Entry>, ScanError>;

    /// The directory root behind this tree, when it is one. Only for code
    /// still specialised on directory descriptors (the first-boot
    /// baseline's `lstat` walk of the ignored paths); such code says what it
    /// could not do on another source instead of reading the host.
    fn as_directory_root(&self) -> Option<&Root> {
        None
    }
}

impl ReadOnlyTree for Root {
    fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, RootError> {
        Root::read_file(self, path, limit)
    }
    fn read_range(&self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, RootError> {
        Root::read_range(self, path, offset, len)
    }
    fn read_dir(&self, path: &[u8]) -> Result<Vec<Vec<u8>>, RootError> {
        Root::read_dir(self, path)
    }
    fn kind_of(&self, path: &[u8]) -> Result<Option<FileKind>, RootError> {
        Root::kind_of(self, path)
    }
    fn metadata(&self, path: &[u8]) -> Result<Metadata, RootError> {
        use std::os::unix::fs::MetadataExt as _;
        let m = Root::metadata(self, path)?;
        Ok(Metadata {
            kind: FileKind::from_mode(m.mode()),
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            mtime: m.mtime(),
        })
    }
    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Root::read_link(self, path)
    }
    fn canonicalize(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Root::canonicalize(self, path)
    }
    fn canonicalize_parent(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Root::canonicalize_parent(self, path)
    }
    fn describe(&self) -> String {
        self.host_path().display().to_string()
    }
    fn is_running_system(&self) -> bool {
        self.is_system_root()
    }
    fn walk(&self, opts: &ScanOptions) -> Result<ScanResult, ScanError> {
        crate::scan(self, opts)
    }
    fn index_paths(
        &self,
        paths: &[crate::RootPath],
        opts: &ScanOptions,
    ) -> Result<Vec<crate::Entry>, ScanError> {
        crate::scan_paths(self, paths, opts)
    }
    fn as_directory_root(&self) -> Option<&Root> {
        Some(self)
    }
}

/// A regular file of a [`ReadOnlyTree`] as `Read + Seek`, read in ranges
/// ([`ReadOnlyTree::read_range`]): a reader of a format with an index at
/// its end (a zip's central directory) takes what it needs of a large
/// file without holding the file. Wrap it in a `BufReader`: each read is
/// one range read.
pub struct RangeReader<'a> {
    tree: &'a dyn ReadOnlyTree,
    path: Vec<u8>,
    pos: u64,
    len: u64,
}

impl<'a> RangeReader<'a> {
    /// The file at `path` (its size from [`ReadOnlyTree::metadata`]).
    pub fn open(tree: &'a dyn ReadOnlyTree, path: &[u8]) -> Result<RangeReader<'a>, RootError> {
        let md = tree.metadata(path)?;
        if md.kind != FileKind::Regular {
            return Err(RootError::NotRegular {
                path: crate::encode_path(path),
            });
        }
        Ok(RangeReader {
            tree,
            path: path.to_vec(),
            pos: 0,
            len: md.size,
        })
    }

    /// The file's size when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::io::Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let got = self
            .tree
            .read_range(&self.path, self.pos, want)
            .map_err(std::io::Error::other)?;
        let n = got.len().min(want);
        buf[..n].copy_from_slice(&got[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for RangeReader<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(t) => {
                self.pos = t;
                Ok(t)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )),
        }
    }
}
