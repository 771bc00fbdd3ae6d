//! A filesystem read by an [`FsReader`] as a [`ReadOnlyTree`]: the scan
//! pipeline (walk, package readers, seal checks, audit) reads an image
//! exactly as it reads a directory, and gets the same entries and the same
//! tree digest for the same content.
//!
//! Paths resolve as [`bakeproof_index::Root`] resolves them in a directory
//! (`openat2(RESOLVE_IN_ROOT)` semantics): absolute symlinks restart at the
//! image's root, `..` never climbs above it, at most
//! [`MAX_SYMLINK_HOPS`] links are followed, and a missing component keeps
//! the rest of the path as written. Nothing outside the image is ever
//! read: there is no host path under it.
//!
//! The walk keeps the contract of [`ReadOnlyTree::walk`]: one [`Entry`]
//! per entry below the root, sorted by raw path, the SHA-256 of every
//! regular file read once in [`CHUNK`]-sized pieces handed to the
//! observers, excludes and the path budget honoured, errors recorded per
//! entry. It lists directories level by level in parallel, remembers every
//! directory inode it listed (a directory met twice, by a loop or a
//! hard-linked directory of a hostile image, is recorded with an error and
//! not entered again), then hashes the regular files in parallel in inode
//! order (close to the order of their blocks on disk, which is what a
//! remote source's read-ahead wants).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bakeproof_index::{
    Annotation, CHUNK, ContentSink, DEFAULT_MAX_PATH_BYTES, Entry, EntryError, Excludes, FileKind,
    MAX_PATH_LEN, MAX_SYMLINK_HOPS, Metadata, ReadOnlyTree, RootError, RootPath, ScanError,
    ScanOptions, ScanResult,
};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::ImageError;
use crate::fs::{DirEntry, FsReader, Ino, Inode, Kind};

/// The device number entries of an image's root filesystem carry;
/// [`Entry::ino`] is the filesystem's inode number, and hard links share
/// it as they do in a directory scan. A filesystem mounted into the tree
/// ([`ImageTree::mount`]) has its own device number: its index in the
/// order of mounting (1, 2, …), so that (dev, ino) names one inode.
pub const IMAGE_DEV: u64 = 0;

/// Most filesystems one tree holds (the root and what is mounted on it).
pub const MAX_MOUNTS: usize = 256;

/// Most directory entries the path-lookup cache keeps (about 100 MB at
/// worst); past it the cache starts again empty.
const DIR_CACHE_ENTRIES: usize = 1 << 20;

/// The largest `security.capability` value read (the directory walk reads
/// the attribute into a buffer of this size: a larger one is no capability
/// there either).
const MAX_CAPABILITY: usize = 64;

/// The tree of one filesystem of an image, and of the filesystems mounted
/// on its directories ([`ImageTree::mount`]).
pub struct ImageTree {
    /// The root filesystem first, then each mounted one in mounting order
    /// (its index is its [`Entry::dev`]).
    fss: Vec<Mounted>,
    name: String,
}

/// One filesystem of the tree.
struct Mounted {
    fs: Arc<dyn FsReader>,
    /// What reports call it (`/dev/sdb (snap-…)`); the root's is the
    /// tree's name.
    label: String,
    /// Where it is mounted (physical path; `/` for the root).
    at: Vec<u8>,
    dirs: Mutex<DirCache>,
    /// Its directories that have a filesystem mounted on them: directory
    /// inode -> index of that filesystem.
    mounts: HashMap<Ino, usize>,
}

/// An inode and the filesystem it is on.
#[derive(Clone, Debug)]
struct Node {
    fs: usize,
    n: Inode,
}

/// One filesystem mounted into a tree, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// The physical path it is mounted at.
    pub at: Vec<u8>,
    pub label: String,
    /// What its reader says of it.
    pub filesystem: String,
    /// Its [`Entry::dev`] in this tree.
    pub dev: u64,
}

#[derive(Default)]
struct DirCache {
    map: HashMap<Ino, Arc<Vec<DirEntry>>>,
    entries: usize,
}

impl std::fmt::Debug for ImageTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageTree")
            .field("name", &self.name)
            .field("fs", &self.fss[0].fs.describe())
            .field("mounts", &self.mounts())
            .finish()
    }
}

/// What a path resolved to: its physical path and, when something is
/// there, its inode.
struct Resolved {
    path: Vec<u8>,
    node: Option<Node>,
    /// Nothing is there because a component on the way is not a
    /// directory (`ENOTDIR`, where a missing one is `ENOENT`).
    not_dir: bool,
}

impl Resolved {
    /// The inode, or the error a directory root gives for what is not there.
    fn found(self, path: &[u8]) -> Result<Node, RootError> {
        match self.node {
            Some(n) => Ok(n),
            None if self.not_dir => Err(RootError::Io {
                path: bakeproof_index::encode_path(path),
                source: std::io::ErrorKind::NotADirectory.into(),
            }),
            None => Err(not_found(path)),
        }
    }
}

fn root_err(path: &[u8], e: ImageError) -> RootError {
    let kind = match e {
        ImageError::NotFound(_) => std::io::ErrorKind::NotFound,
        _ => std::io::ErrorKind::Other,
    };
    RootError::Io {
        path: bakeproof_index::encode_path(path),
        source: std::io::Error::new(kind, e.to_string()),
    }
}

fn not_found(path: &[u8]) -> RootError {
    RootError::Io {
        path: bakeproof_index::encode_path(path),
        source: std::io::ErrorKind::NotFound.into(),
    }
}

fn components(p: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    p.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    p.extend_from_slice(dir);
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

/// An entry from an inode, as the directory walk builds one from `lstat`.
fn entry_of(path: Vec<u8>, node: &Node) -> Entry {
    let n = &node.n;
    let kind = n.kind;
    Entry {
        path,
        kind,
        mode: n.perm & 0o7777,
        uid: n.uid,
        gid: n.gid,
        size: n.size,
        mtime: n.mtime,
        nlink: u64::from(n.nlink),
        dev: IMAGE_DEV + node.fs as u64,
        ino: n.ino,
        rdev: match (kind, n.rdev) {
            (FileKind::CharDevice | FileKind::BlockDevice, Some((major, minor))) => {
                Some(rustix::fs::makedev(major, minor))
            }
            (FileKind::CharDevice | FileKind::BlockDevice, None) => Some(0),
            _ => None,
        },
        link_target: None,
        sha256: None,
        error: None,
        skipped: None,
        annotations: Vec::new(),
        capability: None,
    }
}

/// The filesystem index of an entry of this tree (its device number).
fn fs_of(e: &Entry) -> usize {
    usize::try_from(e.dev.saturating_sub(IMAGE_DEV)).unwrap_or(usize::MAX)
}

fn unreadable(e: &ImageError) -> Option<EntryError> {
    Some(EntryError::Unreadable(e.to_string()))
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; CHUNK]);
}

impl ImageTree {
    /// `name`: what reports call the source (`disk.img partition 1`).
    pub fn new(fs: Arc<dyn FsReader>, name: impl Into<String>) -> ImageTree {
        let name = name.into();
        ImageTree {
            fss: vec![Mounted {
                fs,
                label: name.clone(),
                at: b"/".to_vec(),
                dirs: Mutex::new(DirCache::default()),
                mounts: HashMap::new(),
            }],
            name,
        }
    }

    /// The tree of `root` with each filesystem of `mounts` mounted at its
    /// path (`(path, filesystem, label)`), parents before children
    /// (`/var` before `/var/log`, whatever the order given, as systemd
    /// orders fstab's mounts); fails on the first mount point that is not
    /// a directory ([`ImageTree::mount`]).
    pub fn with_mounts(
        root: Arc<dyn FsReader>,
        name: impl Into<String>,
        mut mounts: Vec<(Vec<u8>, Arc<dyn FsReader>, String)>,
    ) -> Result<ImageTree, ImageError> {
        let mut tree = ImageTree::new(root, name);
        mounts.sort_by_key(|(at, _, _)| components(at).count());
        for (at, fs, label) in mounts {
            tree.mount(&at, fs, label)?;
        }
        Ok(tree)
    }

    /// Mounts `fs` at `at`, as the kernel does: `at` is resolved in the
    /// tree as it is now (symlinks followed inside it, filesystems mounted
    /// before crossed) and must be an existing directory, which the
    /// mounted filesystem's root then hides (its entry is the mounted
    /// root's, as `stat` of a mount point shows; `..` of the mounted root
    /// is the mount point's parent). Mounting on `/` is refused: the root
    /// is the tree's. Mount parents before children.
    pub fn mount(
        &mut self,
        at: &[u8],
        fs: Arc<dyn FsReader>,
        label: impl Into<String>,
    ) -> Result<(), ImageError> {
        let shown = String::from_utf8_lossy(at).into_owned();
        if self.fss.len() >= MAX_MOUNTS {
            return Err(ImageError::Limit(format!(
                "more than {MAX_MOUNTS} filesystems in one tree (mounting at {shown})"
            )));
        }
        if at.first() != Some(&b'/') {
            return Err(ImageError::NotFound(format!(
                "mount point {shown}: not an absolute path"
            )));
        }
        let r = self
            .resolve(at, true)
            .map_err(|e| ImageError::NotFound(format!("mount point {shown}: {e}")))?;
        if r.path == b"/" {
            return Err(ImageError::Unsupported(format!(
                "mount point {shown}: a filesystem mounted on the root"
            )));
        }
        let node = match r.node {
            Some(n) if n.n.kind == Kind::Directory => n,
            Some(_) => {
                return Err(ImageError::NotFound(format!(
                    "mount point {shown}: not a directory"
                )));
            }
            None => {
                return Err(ImageError::NotFound(format!(
                    "mount point {shown}: no such directory"
                )));
            }
        };
        // The mounted root must read, or every path below it fails later.
        fs.inode(fs.root())?;
        let index = self.fss.len();
        self.fss[node.fs].mounts.insert(node.n.ino, index);
        self.fss.push(Mounted {
            fs,
            label: label.into(),
            at: r.path,
            dirs: Mutex::new(DirCache::default()),
            mounts: HashMap::new(),
        });
        Ok(())
    }

    /// The filesystems mounted into the tree, in mounting order.
    pub fn mounts(&self) -> Vec<MountInfo> {
        self.fss
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, m)| MountInfo {
                at: m.at.clone(),
                label: m.label.clone(),
                filesystem: m.fs.describe(),
                dev: IMAGE_DEV + i as u64,
            })
            .collect()
    }

    /// The root filesystem's reader.
    pub fn reader(&self) -> &dyn FsReader {
        &*self.fss[0].fs
    }

    /// The reader of filesystem `fs` (an index from a [`Node`] or an
    /// entry's device number; the root's when out of range, which no
    /// entry of this tree has).
    fn fs(&self, fs: usize) -> &dyn FsReader {
        match self.fss.get(fs) {
            Some(m) => &*m.fs,
            None => &*self.fss[0].fs,
        }
    }

    /// What is seen at `n` on filesystem `fs`: the root of what is mounted
    /// on it, when something is.
    fn cross(&self, mut fs: usize, mut n: Inode) -> Result<Node, ImageError> {
        // A mounted filesystem's index is larger than its parent's, so
        // this ends; bounded anyway.
        for _ in 0..self.fss.len() {
            if n.kind != Kind::Directory {
                break;
            }
            let Some(&child) = self.fss.get(fs).and_then(|m| m.mounts.get(&n.ino)) else {
                break;
            };
            let cfs = self.fs(child);
            n = cfs.inode(cfs.root())?;
            fs = child;
        }
        Ok(Node { fs, n })
    }

    /// The root directory as seen (nothing is mounted on `/`).
    fn root_node(&self) -> Result<Node, ImageError> {
        let fs = self.fs(0);
        self.cross(0, fs.inode(fs.root())?)
    }

    /// A directory's entries, through the lookup cache.
    fn dir(&self, fs: usize, ino: Ino) -> Result<Arc<Vec<DirEntry>>, ImageError> {
        let Some(m) = self.fss.get(fs) else {
            return Err(ImageError::NotFound(format!("filesystem {fs}")));
        };
        if let Ok(c) = m.dirs.lock()
            && let Some(d) = c.map.get(&ino)
        {
            return Ok(Arc::clone(d));
        }
        let d = Arc::new(m.fs.read_dir(ino)?);
        if let Ok(mut c) = m.dirs.lock() {
            if c.entries + d.len() > DIR_CACHE_ENTRIES {
                c.map.clear();
                c.entries = 0;
            }
            if d.len() <= DIR_CACHE_ENTRIES {
                c.entries += d.len();
                c.map.insert(ino, Arc::clone(&d));
            }
        }
        Ok(d)
    }

    /// `name` in the directory `dir` (`None` when it has no such entry),
    /// crossing into what is mounted there.
    fn lookup(&self, dir: &Node, name: &[u8]) -> Result<Option<Node>, ImageError> {
        let d = self.dir(dir.fs, dir.n.ino)?;
        match d.binary_search_by(|e| e.name.as_slice().cmp(name)) {
            Ok(i) => {
                let n = self.fs(dir.fs).inode(d[i].ino)?;
                self.cross(dir.fs, n).map(Some)
            }
            Err(_) => Ok(None),
        }
    }

    fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Resolved, RootError> {
        let root = self.root_node().map_err(|e| root_err(b"/", e))?;
        let mut queue: VecDeque<Vec<u8>> = components(path).map(<[u8]>::to_vec).collect();
        // The physical path so far, each component with what is there
        // (`None` once something on the way is missing: the rest stays as
        // written, as a package database may name what is gone). `..`
        // pops: at a mounted root it goes back to the mount point's
        // parent, as in the kernel.
        let mut cur: Vec<(Vec<u8>, Option<Node>)> = Vec::new();
        let mut hops = 0usize;
        let mut not_dir = false;
        while let Some(c) = queue.pop_front() {
            if c == b"." {
                continue;
            }
            if c == b".." {
                cur.pop();
                continue;
            }
            let last = queue.is_empty();
            let parent = match cur.last() {
                None => Some(&root),
                Some((_, node)) => node.as_ref(),
            };
            let node = match parent {
                Some(p) if p.n.kind == Kind::Directory => {
                    self.lookup(p, &c).map_err(|e| root_err(path, e))?
                }
                Some(_) => {
                    not_dir = true;
                    None
                }
                None => None,
            };
            let is_link = node.as_ref().is_some_and(|n| n.n.kind == Kind::Symlink);
            if is_link && (!last || follow_last) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(RootError::SymlinkLoop {
                        path: bakeproof_index::encode_path(path),
                    });
                }
                let target = match &node {
                    Some(n) => self
                        .fs(n.fs)
                        .read_link(n.n.ino)
                        .map_err(|e| root_err(path, e))?,
                    None => Vec::new(),
                };
                if target.first() == Some(&b'/') {
                    cur.clear();
                }
                for t in components(&target).rev() {
                    queue.push_front(t.to_vec());
                }
                continue;
            }
            cur.push((c, node));
        }
        let mut out = Vec::with_capacity(path.len() + 1);
        for (c, _) in &cur {
            out.push(b'/');
            out.extend_from_slice(c);
        }
        if out.is_empty() {
            out.push(b'/');
        }
        let node = match cur.last() {
            None => Some(root),
            Some((_, n)) => n.clone(),
        };
        Ok(Resolved {
            path: out,
            node,
            not_dir,
        })
    }

    /// Reads a regular file's content into `sinks` and the SHA-256, in
    /// [`CHUNK`] pieces; records the outcome on `e`.
    fn hash_into(&self, e: &mut Entry, opts: &ScanOptions, bytes: &AtomicU64) {
        let size = e.size;
        let mut sinks: Vec<(&'static str, Box<dyn ContentSink>)> = opts
            .observers
            .iter()
            .filter_map(|o| o.start(&e.path, size).map(|s| (o.name(), s)))
            .collect();
        let mut hasher = Sha256::new();
        let read: Result<(), String> = BUF.with(|b| {
            let mut buf = b.borrow_mut();
            let mut total = 0u64;
            while total < size {
                let want = usize::try_from(size - total)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                let n = self
                    .fs(fs_of(e))
                    .read(e.ino, total, &mut buf[..want])
                    .map_err(|err| err.to_string())?;
                if n == 0 {
                    return Err(format!(
                        "the file's data ends at byte {total} of its {size}"
                    ));
                }
                let chunk = &buf[..n];
                hasher.update(chunk);
                for (_, s) in sinks.iter_mut() {
                    s.update(chunk);
                }
                total += n as u64;
            }
            Ok(())
        });
        if let Err(why) = read {
            e.error = Some(EntryError::Unreadable(why));
            return;
        }
        bytes.fetch_add(size, Ordering::Relaxed);
        e.sha256 = Some(hasher.finalize().into());
        for (observer, s) in sinks {
            for (key, value) in s.finish() {
                e.annotations.push(Annotation {
                    observer,
                    key,
                    value,
                });
            }
        }
    }

    /// The `security.capability` attribute of a regular file, when it has
    /// one (as the directory walk reads it).
    fn capability(&self, fs: usize, ino: Ino) -> Option<Vec<u8>> {
        match self.fs(fs).xattrs(ino) {
            Ok(attrs) => attrs
                .into_iter()
                .find(|a| a.name == b"security.capability")
                .map(|a| a.value)
                .filter(|v| !v.is_empty() && v.len() <= MAX_CAPABILITY),
            Err(e) => {
                log::warn!("{}: inode {ino}: attributes: {e}", self.name);
                None
            }
        }
    }

    /// A regular file's entry completed: capability, content.
    fn read_file_entry(&self, e: &mut Entry, opts: &ScanOptions, bytes: &AtomicU64) {
        e.capability = self.capability(fs_of(e), e.ino);
        self.hash_into(e, opts, bytes);
    }

    /// A symlink's entry completed: its target.
    fn read_link_entry(&self, e: &mut Entry) {
        match self.fs(fs_of(e)).read_link(e.ino) {
            Ok(t) => e.link_target = Some(t),
            Err(err) => e.error = unreadable(&err),
        }
    }

    fn pool(opts: &ScanOptions) -> Result<rayon::ThreadPool, ScanError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads.unwrap_or(0))
            .thread_name(|i| format!("bakeproof-image-{i}"))
            .build()
            .map_err(|e| ScanError::Threads(e.to_string()))
    }
}

/// One directory of the level being listed: its inode, its path (empty for
/// the root) and its own entry (none for the root), pushed once listed.
struct Pending {
    fs: usize,
    ino: Ino,
    path: Vec<u8>,
    entry: Option<Entry>,
}

/// What listing one directory gave.
#[derive(Default)]
struct Listed {
    done: Vec<Entry>,
    files: Vec<Entry>,
    dirs: Vec<Pending>,
    path_bytes: u64,
}

impl ImageTree {
    fn list_one(&self, p: Pending, excludes: &Excludes) -> Listed {
        let mut out = Listed::default();
        let fs = self.fs(p.fs);
        let names = match fs.read_dir(p.ino) {
            Ok(n) => n,
            Err(err) => {
                if let Some(mut e) = p.entry {
                    e.error = Some(EntryError::UnlistableDirectory(err.to_string()));
                    out.done.push(e);
                }
                return out;
            }
        };
        if let Some(e) = p.entry {
            out.done.push(e);
        }
        for d in names {
            let path = join(&p.path, &d.name);
            if excludes.matches(&path) {
                continue;
            }
            out.path_bytes += path.len() as u64;
            let mut e = match fs.inode(d.ino).and_then(|n| self.cross(p.fs, n)) {
                Ok(n) => entry_of(path, &n),
                Err(err) => {
                    let mut v = Entry::vanished(path);
                    v.dev = IMAGE_DEV + p.fs as u64;
                    v.ino = d.ino;
                    v.error = unreadable(&err);
                    out.done.push(v);
                    continue;
                }
            };
            if e.path.len() > MAX_PATH_LEN {
                e.error = Some(EntryError::PathTooLong(e.path.len()));
                out.done.push(e);
                continue;
            }
            match e.kind {
                FileKind::Directory => out.dirs.push(Pending {
                    fs: fs_of(&e),
                    ino: e.ino,
                    path: e.path.clone(),
                    entry: Some(e),
                }),
                FileKind::Symlink => {
                    self.read_link_entry(&mut e);
                    out.done.push(e);
                }
                FileKind::Regular => out.files.push(e),
                _ => out.done.push(e),
            }
        }
        out
    }
}

impl ImageTree {
    /// `len` bytes at `offset` of regular file `n` of filesystem `fs`
    /// (the caller keeps `offset + len` within its size): a file whose
    /// data ends early is corrupt.
    fn read_inode_at(
        &self,
        path: &[u8],
        fs: usize,
        n: &Inode,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, RootError> {
        let mut out = vec![0u8; len];
        let mut at = 0usize;
        while at < len {
            let got = self
                .fs(fs)
                .read(n.ino, offset + at as u64, &mut out[at..])
                .map_err(|e| root_err(path, e))?;
            if got == 0 {
                return Err(root_err(
                    path,
                    ImageError::corrupt(
                        "file",
                        format!("data ends at byte {} of {}", offset + at as u64, n.size),
                    ),
                ));
            }
            at += got;
        }
        Ok(out)
    }
}

impl ReadOnlyTree for ImageTree {
    fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, RootError> {
        let Node { fs, n } = self.resolve(path, true)?.found(path)?;
        if n.kind != Kind::Regular {
            return Err(RootError::NotRegular {
                path: bakeproof_index::encode_path(path),
            });
        }
        if n.size > limit {
            return Err(RootError::TooLarge {
                path: bakeproof_index::encode_path(path),
                limit,
            });
        }
        let len = usize::try_from(n.size).map_err(|_| RootError::TooLarge {
            path: bakeproof_index::encode_path(path),
            limit,
        })?;
        self.read_inode_at(path, fs, &n, 0, len)
    }

    fn read_range(&self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, RootError> {
        let Node { fs, n } = self.resolve(path, true)?.found(path)?;
        if n.kind != Kind::Regular {
            return Err(RootError::NotRegular {
                path: bakeproof_index::encode_path(path),
            });
        }
        let len = usize::try_from(n.size.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(len);
        self.read_inode_at(path, fs, &n, offset, len)
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<Vec<u8>>, RootError> {
        let Node { fs, n } = self.resolve(path, true)?.found(path)?;
        if n.kind != Kind::Directory {
            return Err(RootError::Io {
                path: bakeproof_index::encode_path(path),
                source: std::io::ErrorKind::NotADirectory.into(),
            });
        }
        let d = self.dir(fs, n.ino).map_err(|e| root_err(path, e))?;
        Ok(d.iter().map(|e| e.name.clone()).collect())
    }

    fn kind_of(&self, path: &[u8]) -> Result<Option<FileKind>, RootError> {
        Ok(self.resolve(path, false)?.node.map(|n| n.n.kind))
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, RootError> {
        let n = self.resolve(path, true)?.found(path)?.n;
        Ok(Metadata {
            kind: n.kind,
            mode: n.perm & 0o7777,
            uid: n.uid,
            gid: n.gid,
            size: n.size,
            mtime: n.mtime,
        })
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        if components(path).next().is_none() {
            // The root itself is no link, and has no name to read one at.
            return Err(not_found(path));
        }
        let Node { fs, n } = self.resolve(path, false)?.found(path)?;
        if n.kind != Kind::Symlink {
            return Err(RootError::Io {
                path: bakeproof_index::encode_path(path),
                source: std::io::ErrorKind::InvalidInput.into(),
            });
        }
        self.fs(fs).read_link(n.ino).map_err(|e| root_err(path, e))
    }

    fn canonicalize(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Ok(self.resolve(path, true)?.path)
    }

    fn canonicalize_parent(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Ok(self.resolve(path, false)?.path)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn is_running_system(&self) -> bool {
        false
    }

    fn walk(&self, opts: &ScanOptions) -> Result<ScanResult, ScanError> {
        let start = Instant::now();
        let excludes = Excludes::new(&opts.excludes)?;
        let budget = opts.max_path_bytes.unwrap_or(DEFAULT_MAX_PATH_BYTES);
        let pool = Self::pool(opts)?;
        let threads = pool.current_num_threads();
        log::info!("walking {} with {threads} threads", self.name);
        let root = self
            .root_node()
            .map_err(|e| ScanError::Root(root_err(b"/", e)))?;
        // Per filesystem: (filesystem, inode).
        let mut visited: HashSet<(usize, Ino)> = HashSet::from([(root.fs, root.n.ino)]);
        let mut level = vec![Pending {
            fs: root.fs,
            ino: root.n.ino,
            path: Vec::new(),
            entry: None,
        }];
        let mut entries: Vec<Entry> = Vec::new();
        let mut files: Vec<Entry> = Vec::new();
        let mut path_bytes = 0u64;
        let progress = opts.progress.as_deref();
        let done = |e: &Entry| {
            if let Some(p) = progress {
                p.entry_done(if e.sha256.is_some() { e.size } else { 0 });
            }
        };
        while !level.is_empty() {
            let listed: Vec<Listed> = pool.install(|| {
                level
                    .into_par_iter()
                    .map(|p| self.list_one(p, &excludes))
                    .collect()
            });
            let mut next = Vec::new();
            for l in listed {
                path_bytes += l.path_bytes;
                if path_bytes > budget {
                    return Err(ScanError::PathBudget { limit: budget });
                }
                l.done.iter().for_each(done);
                entries.extend(l.done);
                files.extend(l.files);
                for mut d in l.dirs {
                    if visited.insert((d.fs, d.ino)) {
                        next.push(d);
                    } else if let Some(mut e) = d.entry.take() {
                        // A loop or a hard-linked directory: listed once.
                        e.error = Some(EntryError::UnlistableDirectory(format!(
                            "directory inode {} is already listed at another path (a loop \
                             or a hard-linked directory: not entered twice)",
                            d.ino
                        )));
                        done(&e);
                        entries.push(e);
                    }
                }
            }
            level = next;
        }
        // Inode order is close to the order of the files' blocks.
        files.sort_unstable_by_key(|e| (e.dev, e.ino));
        let bytes = AtomicU64::new(0);
        pool.install(|| {
            files.par_iter_mut().for_each(|e| {
                self.read_file_entry(e, opts, &bytes);
                done(e);
            })
        });
        entries.append(&mut files);
        pool.install(|| entries.par_sort_unstable_by(|a, b| a.path.cmp(&b.path)));
        let result = ScanResult::from_entries(
            entries,
            excludes,
            threads,
            bytes.load(Ordering::Relaxed),
            start,
        );
        log::info!(
            "walked {}: {} entries, {} bytes hashed, {} errors, {:.2} s; tree digest sha256:{}",
            self.name,
            result.stats.entries,
            result.stats.bytes_hashed,
            result.stats.errors,
            result.stats.elapsed.as_secs_f64(),
            hex::encode(result.tree_digest)
        );
        Ok(result)
    }

    fn index_paths(&self, paths: &[RootPath], opts: &ScanOptions) -> Result<Vec<Entry>, ScanError> {
        let pool = Self::pool(opts)?;
        let bytes = AtomicU64::new(0);
        Ok(pool.install(|| {
            paths
                .par_iter()
                .map(|p| self.index_path(p, opts, &bytes))
                .collect()
        }))
    }
}

impl ImageTree {
    /// The entry of one physical path, its directories looked up without
    /// following symlinks (as the directory source's `scan_paths`).
    fn index_path(&self, path: &[u8], opts: &ScanOptions, bytes: &AtomicU64) -> Entry {
        let fail = |err: EntryError| {
            let mut e = Entry::vanished(path.to_vec());
            e.error = Some(err);
            e
        };
        let comps: Vec<&[u8]> = components(path).collect();
        if path.first() != Some(&b'/') || comps.is_empty() {
            return fail(EntryError::Unreadable("not an absolute path".into()));
        }
        if comps.iter().any(|c| *c == b"." || *c == b"..") {
            return fail(EntryError::Changed(
                "a `.` or `..` component (paths are physical)".into(),
            ));
        }
        let mut dir = match self.root_node() {
            Ok(n) => n,
            Err(e) => return fail(EntryError::Unreadable(e.to_string())),
        };
        let (last, parents) = match comps.split_last() {
            Some(x) => x,
            None => return fail(EntryError::Vanished),
        };
        for c in parents {
            match self.lookup(&dir, c) {
                Ok(Some(n)) if n.n.kind == Kind::Directory => dir = n,
                Ok(Some(_)) => {
                    return fail(EntryError::Changed(format!(
                        "{} is not a directory",
                        bakeproof_index::encode_path(c)
                    )));
                }
                Ok(None) => return fail(EntryError::Vanished),
                Err(e) => return fail(EntryError::Unreadable(e.to_string())),
            }
        }
        let node = match self.lookup(&dir, last) {
            Ok(Some(n)) => n,
            Ok(None) => return fail(EntryError::Vanished),
            Err(e) => return fail(EntryError::Unreadable(e.to_string())),
        };
        let mut e = entry_of(path.to_vec(), &node);
        match e.kind {
            FileKind::Regular => self.read_file_entry(&mut e, opts, bytes),
            FileKind::Symlink => self.read_link_entry(&mut e),
            _ => {}
        }
        e
    }
}
