//! The parallel walk.
//!
//! One rayon task per directory: it lists the directory through its own file
//! descriptor, `lstat`s every name relative to that descriptor, spawns a task
//! per subdirectory, and hashes its regular files (in parallel when there are
//! several). Directory descriptors are opened with `O_NOFOLLOW` relative to the
//! parent's descriptor, so the walk cannot be redirected out of the root by a
//! symlink, even one created while the scan runs.
//!
//! Every name is looked up with one `statx` that also returns its mount ID;
//! an entry on another mount than its directory (a mount point, bind mounts
//! of the same filesystem included) is recorded as skipped and neither read
//! nor entered unless the scan crosses mounts.
//!
//! Resources are bounded by the image, never amplified by it: a path longer
//! than [`MAX_PATH_LEN`] is recorded with an error and not followed further
//! (so a deep chain of long names cannot make paths grow quadratically), and
//! the paths of one scan together may not exceed
//! [`ScanOptions::max_path_bytes`].

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

use crate::mount::{self, MountIdentity};
use crate::{Annotation, Entry, EntryError, FileKind, Root, RootError, SkipReason};

/// The longest path inside the root that is indexed normally: the longest
/// path the kernel resolves (`PATH_MAX` less its NUL), so the longest any
/// package manager or program in the image can name. An entry whose path is
/// longer is recorded with [`EntryError::PathTooLong`] and is neither read
/// nor descended into: every recorded path is at most this plus one name
/// (255 bytes) long.
pub const MAX_PATH_LEN: usize = 4095;

/// Default [`ScanOptions::max_path_bytes`]: 1 GiB of path bytes, about ten
/// million entries of ordinary path length.
pub const DEFAULT_MAX_PATH_BYTES: u64 = 1 << 30;

/// Bytes read per `read(2)`: large enough to amortise syscalls and let
/// SHA-NI run at full speed, small enough that memory stays bounded
/// (one buffer per thread, whatever the file sizes).
pub const CHUNK: usize = 256 * 1024;

/// Files larger than this get `POSIX_FADV_SEQUENTIAL` (bigger readahead on a
/// cold cache).
const FADVISE_MIN: u64 = 1 << 20;

/// Sees the bytes of regular files as the indexer reads them, so that
/// consumers of file content (an extra digest for package verification, the
/// seal secret scan) never read a file a second time.
pub trait ContentObserver: Send + Sync {
    /// Stable name, recorded in [`Annotation::observer`].
    fn name(&self) -> &'static str;
    /// Called before a file is read; return a sink to see its bytes.
    /// `path` is the physical path inside the root.
    fn start(&self, path: &[u8], size: u64) -> Option<Box<dyn ContentSink>>;
}

/// Per-file state of a [`ContentObserver`].
pub trait ContentSink: Send {
    fn update(&mut self, chunk: &[u8]);
    /// Called once after the last chunk when the read completed without error.
    /// Returns `(key, value)` annotations.
    fn finish(self: Box<Self>) -> Vec<(String, String)>;
}

/// Progress callbacks (called from worker threads).
pub trait Progress: Send + Sync {
    /// An entry was recorded; `bytes` were hashed for it.
    fn entry_done(&self, bytes: u64);
    /// Before the walk, when the caller can tell: about how many bytes the
    /// walk will hash (an estimate, e.g. the package databases' installed
    /// sizes; the walk may hash more or less). Called at most once.
    fn expect_bytes(&self, _estimate: u64) {}
}

/// What to scan and how.
#[derive(Clone, Default)]
pub struct ScanOptions {
    /// Glob patterns matched against the path inside the root (starting with
    /// `/`). A pattern without `/` matches a name at any depth. Matching
    /// entries are neither recorded nor descended into.
    pub excludes: Vec<String>,
    /// Descend into other mounted filesystems (kernel pseudo filesystems such
    /// as proc and sysfs are never scanned).
    pub cross_mounts: bool,
    /// Scan `/proc`, `/sys`, `/dev`, `/run` even when the root is the running
    /// system's `/`.
    pub include_runtime_dirs: bool,
    /// Worker threads; `None` = one per core.
    pub threads: Option<usize>,
    pub observers: Vec<Arc<dyn ContentObserver>>,
    pub progress: Option<Arc<dyn Progress>>,
    /// Budget for the bytes of all recorded paths together; the scan stops
    /// with [`ScanError::PathBudget`] beyond it. `None`:
    /// [`DEFAULT_MAX_PATH_BYTES`].
    pub max_path_bytes: Option<u64>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("excludes", &self.excludes)
            .field("cross_mounts", &self.cross_mounts)
            .field("include_runtime_dirs", &self.include_runtime_dirs)
            .field("threads", &self.threads)
            .field("observers", &self.observers.len())
            .field("max_path_bytes", &self.max_path_bytes)
            .finish()
    }
}

/// Totals of one scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub entries: u64,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    /// FIFOs, sockets, devices.
    pub special: u64,
    pub bytes_hashed: u64,
    pub errors: u64,
    pub skipped_dirs: u64,
    pub elapsed: Duration,
    pub threads: usize,
}

/// The index of a root: entries sorted by path bytes.
#[derive(Clone, Debug)]
pub struct ScanResult {
    pub entries: Vec<Entry>,
    pub stats: ScanStats,
    /// See [`crate::tree_digest`].
    pub tree_digest: [u8; 32],
    /// The exclude patterns the scan applied: a path they match is absent
    /// from `entries` because it was not looked at, not because it is gone.
    pub excludes: Excludes,
}

/// Compiled `--exclude` patterns.
#[derive(Clone, Debug, Default)]
pub struct Excludes(GlobSet);

impl Excludes {
    /// Patterns are matched against the path inside the root (starting with
    /// `/`); a pattern without `/` matches a name at any depth.
    pub fn new(patterns: &[String]) -> Result<Excludes, ScanError> {
        build_excludes(patterns).map(Excludes)
    }

    /// Whether `path` matches a pattern.
    pub fn matches(&self, path: &[u8]) -> bool {
        !self.0.is_empty() && self.0.is_match(OsStr::from_bytes(path))
    }

    /// Whether `path` or one of its ancestors matches (excluded directories
    /// are pruned, so everything below them is unscanned too).
    pub fn covers(&self, path: &[u8]) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let mut p = path;
        loop {
            if p.is_empty() {
                return false;
            }
            if self.matches(p) {
                return true;
            }
            match p.iter().rposition(|&b| b == b'/') {
                Some(i) => p = &p[..i],
                None => return false,
            }
        }
    }
}

/// Errors that stop a scan before it starts.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("invalid --exclude pattern {pattern:?}: {source}")]
    BadExclude {
        pattern: String,
        source: globset::Error,
    },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error(
        "scan stopped: the paths of the entries found so far exceed the {limit} byte budget \
         of one scan (a tree this large, or this deep, is refused rather than exhausting memory)"
    )]
    PathBudget { limit: u64 },
    #[error(transparent)]
    Root(#[from] RootError),
}

struct Ctx<'a> {
    opts: &'a ScanOptions,
    excludes: Excludes,
    skip_runtime: bool,
    out: Mutex<Vec<Entry>>,
    bytes: AtomicU64,
    /// Path bytes of every entry created so far, against `path_budget`.
    path_bytes: AtomicU64,
    path_budget: u64,
    over_budget: AtomicBool,
}

impl Ctx<'_> {
    /// Counts `len` path bytes; false (and the scan winds down) once the
    /// budget is exceeded.
    fn charge(&self, len: usize) -> bool {
        let total = self.path_bytes.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
        if total > self.path_budget {
            self.over_budget.store(true, Ordering::Relaxed);
        }
        !self.stopped()
    }

    fn stopped(&self) -> bool {
        self.over_budget.load(Ordering::Relaxed)
    }
}

/// Builds the exclude matcher: patterns without `/` match at any depth.
fn build_excludes(patterns: &[String]) -> Result<GlobSet, ScanError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let pat = if p.contains('/') {
            p.clone()
        } else {
            format!("**/{p}")
        };
        let g = GlobBuilder::new(&pat)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|source| ScanError::BadExclude {
                pattern: p.clone(),
                source,
            })?;
        b.add(g);
    }
    b.build().map_err(|source| ScanError::BadExclude {
        pattern: patterns.join(","),
        source,
    })
}

/// A readable directory descriptor of the root itself (the walk's and
/// [`scan_paths`]' starting point).
fn open_root_dir(root: &Root) -> Result<OwnedFd, ScanError> {
    rustix::fs::openat(
        root.fd(),
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        ScanError::Root(RootError::OpenRoot {
            path: root.host_path().to_owned(),
            source: e.into(),
        })
    })
}

/// Indexes `root`: every entry below it (the root itself excluded), sorted by
/// path bytes, with the tree digest.
pub fn scan(root: &Root, opts: &ScanOptions) -> Result<ScanResult, ScanError> {
    let start = Instant::now();
    let path_budget = opts.max_path_bytes.unwrap_or(DEFAULT_MAX_PATH_BYTES);
    let ctx = Ctx {
        opts,
        excludes: Excludes::new(&opts.excludes)?,
        skip_runtime: !opts.include_runtime_dirs && root.is_system_root(),
        out: Mutex::new(Vec::new()),
        bytes: AtomicU64::new(0),
        path_bytes: AtomicU64::new(0),
        path_budget,
        over_budget: AtomicBool::new(false),
    };
    let root_fd = open_root_dir(root)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .thread_name(|i| format!("bakeproof-index-{i}"))
        .build()
        .map_err(|e| ScanError::Threads(e.to_string()))?;
    let threads = pool.current_num_threads();
    log::info!(
        "walking {} with {threads} threads",
        root.host_path().display()
    );
    let names = read_names(&root_fd).map_err(|source| {
        ScanError::Root(RootError::OpenRoot {
            path: root.host_path().to_owned(),
            source,
        })
    })?;
    let ctx_ref = &ctx;
    let here = root.mount();
    pool.scope(move |s| {
        let root_fd = Arc::new(root_fd);
        s.spawn(move |s| list_dir(ctx_ref, s, root_fd, here, Vec::new(), names));
    });
    if ctx.stopped() {
        return Err(ScanError::PathBudget { limit: path_budget });
    }
    let mut entries = ctx.out.into_inner().unwrap_or_else(|p| p.into_inner());
    pool.install(|| entries.par_sort_unstable_by(|a, b| a.path.cmp(&b.path)));
    let result = ScanResult::from_entries(
        entries,
        ctx.excludes,
        threads,
        ctx.bytes.load(Ordering::Relaxed),
        start,
    );
    log::info!(
        "walked {}: {} entries, {} bytes hashed, {} errors, {:.2} s; tree digest sha256:{}",
        root.host_path().display(),
        result.stats.entries,
        result.stats.bytes_hashed,
        result.stats.errors,
        result.stats.elapsed.as_secs_f64(),
        hex::encode(result.tree_digest)
    );
    Ok(result)
}

impl ScanResult {
    /// The result of a walk from its entries, which must be sorted by path
    /// bytes: the totals and the tree digest. Every source's walk ends
    /// here (the directory walk, an image's), so their results mean the
    /// same thing.
    pub fn from_entries(
        entries: Vec<Entry>,
        excludes: Excludes,
        threads: usize,
        bytes_hashed: u64,
        started: Instant,
    ) -> ScanResult {
        let mut stats = ScanStats {
            threads,
            bytes_hashed,
            ..ScanStats::default()
        };
        for e in &entries {
            stats.entries += 1;
            match e.kind {
                FileKind::Regular => stats.files += 1,
                FileKind::Directory => stats.directories += 1,
                FileKind::Symlink => stats.symlinks += 1,
                _ => stats.special += 1,
            }
            if e.error.is_some() {
                stats.errors += 1;
            }
            if e.skipped.is_some() {
                stats.skipped_dirs += 1;
            }
        }
        let tree_digest = crate::tree_digest(&entries);
        stats.elapsed = started.elapsed();
        ScanResult {
            entries,
            stats,
            tree_digest,
            excludes,
        }
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    p.extend_from_slice(dir);
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

fn entry_from_stat(path: Vec<u8>, st: &rustix::fs::Stat) -> Entry {
    let kind = FileKind::from_mode(st.st_mode);
    // `st_nlink` is a u64 on x86_64 and a u32 on aarch64.
    #[allow(clippy::useless_conversion)]
    let nlink = u64::from(st.st_nlink);
    Entry {
        path,
        kind,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        size: u64::try_from(st.st_size).unwrap_or(0),
        mtime: st.st_mtime,
        nlink,
        dev: st.st_dev,
        ino: st.st_ino,
        rdev: matches!(kind, FileKind::CharDevice | FileKind::BlockDevice).then_some(st.st_rdev),
        link_target: None,
        sha256: None,
        error: None,
        skipped: None,
        annotations: Vec::new(),
        capability: None,
    }
}

fn entry_from_statx(path: Vec<u8>, st: &rustix::fs::Statx) -> Entry {
    let mode = u32::from(st.stx_mode);
    let kind = FileKind::from_mode(mode);
    Entry {
        path,
        kind,
        mode: mode & 0o7777,
        uid: st.stx_uid,
        gid: st.stx_gid,
        size: st.stx_size,
        mtime: st.stx_mtime.tv_sec,
        nlink: u64::from(st.stx_nlink),
        dev: mount::statx_dev(st),
        ino: st.stx_ino,
        rdev: matches!(kind, FileKind::CharDevice | FileKind::BlockDevice)
            .then(|| rustix::fs::makedev(st.stx_rdev_major, st.stx_rdev_minor)),
        link_target: None,
        sha256: None,
        error: None,
        skipped: None,
        annotations: Vec::new(),
        capability: None,
    }
}

/// `lstat` of `name` in `dir` with its mount: one `statx`; `fstatat` plus a
/// mount-ID lookup (for what the walk would open) where `statx` is missing.
fn lstat_entry(
    dir: &OwnedFd,
    name: &[u8],
    path: Vec<u8>,
) -> Result<(Entry, MountIdentity), (Vec<u8>, Errno)> {
    let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT;
    let name_os = OsStr::from_bytes(name);
    match rustix::fs::statx(
        dir,
        name_os,
        flags,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    ) {
        Ok(stx)
            if stx.stx_mask & StatxFlags::BASIC_STATS.bits() == StatxFlags::BASIC_STATS.bits() =>
        {
            let entry = entry_from_statx(path, &stx);
            let mut id = MountIdentity {
                dev: entry.dev,
                mnt_id: mount::statx_mnt_id(&stx),
            };
            if id.mnt_id.is_none() && matches!(entry.kind, FileKind::Directory | FileKind::Regular)
            {
                id = mount::identity_at(dir, name).unwrap_or(id);
            }
            Ok((entry, id))
        }
        Ok(_) | Err(Errno::NOSYS) | Err(Errno::PERM) => {
            match rustix::fs::statat(dir, name_os, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => {
                    let entry = entry_from_stat(path, &st);
                    let mut id = MountIdentity {
                        dev: entry.dev,
                        mnt_id: None,
                    };
                    if matches!(entry.kind, FileKind::Directory | FileKind::Regular) {
                        id = mount::identity_at(dir, name).unwrap_or(id);
                    }
                    Ok((entry, id))
                }
                Err(e) => Err((path, e)),
            }
        }
        Err(e) => Err((path, e)),
    }
}

fn vanished(path: Vec<u8>) -> Entry {
    Entry::vanished(path)
}

/// A directory task: list, stat, spawn subdirectories, hash files.
/// `dir` is this directory's path (empty for the root).
fn list_dir<'s>(
    ctx: &'s Ctx<'s>,
    s: &rayon::Scope<'s>,
    fd: Arc<OwnedFd>,
    here: MountIdentity,
    dir: Vec<u8>,
    names: Vec<Vec<u8>>,
) {
    let mut batch: Vec<Entry> = Vec::with_capacity(names.len());
    let mut files: Vec<(Vec<u8>, Entry)> = Vec::new();
    for name in names {
        let path = join(&dir, &name);
        if ctx.excludes.matches(&path) {
            continue;
        }
        if !ctx.charge(path.len()) {
            return;
        }
        let (mut entry, id) = match lstat_entry(&fd, &name, path) {
            Ok(found) => found,
            Err((path, Errno::NOENT)) => {
                batch.push(vanished(path));
                continue;
            }
            Err((path, e)) => {
                let mut v = vanished(path);
                v.error = Some(EntryError::Unreadable(std::io::Error::from(e).to_string()));
                batch.push(v);
                continue;
            }
        };
        // Directories also by device number, as before mount IDs: a btrfs
        // subvolume (own st_dev, same mount) stays a boundary.
        let is_mount =
            id.differs_from(&here) || (entry.kind == FileKind::Directory && entry.dev != here.dev);
        if let Some(reason) = skip_reason(ctx, &entry, is_mount) {
            // A mount point (directory or bind-mounted file) or a runtime
            // directory: recorded from its lstat, never opened.
            entry.skipped = Some(reason);
            batch.push(entry);
            continue;
        }
        if entry.path.len() > MAX_PATH_LEN {
            entry.error = Some(EntryError::PathTooLong(entry.path.len()));
            batch.push(entry);
            continue;
        }
        match entry.kind {
            FileKind::Directory => {
                let parent = Arc::clone(&fd);
                s.spawn(move |s| open_and_list(ctx, s, parent, here, id, name, entry));
            }
            FileKind::Symlink => {
                match rustix::fs::readlinkat(&*fd, OsStr::from_bytes(&name), Vec::new()) {
                    Ok(t) => entry.link_target = Some(t.into_bytes()),
                    Err(Errno::NOENT) => entry.error = Some(EntryError::Vanished),
                    Err(e) => {
                        entry.error =
                            Some(EntryError::Unreadable(std::io::Error::from(e).to_string()))
                    }
                }
                batch.push(entry);
            }
            FileKind::Regular => files.push((name, entry)),
            // FIFOs, sockets and devices: recorded from lstat, never opened.
            _ => batch.push(entry),
        }
    }
    if files.len() > 1 {
        files
            .par_iter_mut()
            .for_each(|(name, e)| hash_file(ctx, &fd, name, e));
    } else if let Some((name, e)) = files.first_mut() {
        hash_file(ctx, &fd, name, e);
    }
    batch.extend(files.into_iter().map(|(_, e)| e));
    push(ctx, batch);
}

fn push(ctx: &Ctx<'_>, batch: Vec<Entry>) {
    if let Some(p) = &ctx.opts.progress {
        for e in &batch {
            p.entry_done(if e.sha256.is_some() { e.size } else { 0 });
        }
    }
    match ctx.out.lock() {
        Ok(mut out) => out.extend(batch),
        Err(poisoned) => poisoned.into_inner().extend(batch),
    }
}

fn open_and_list<'s>(
    ctx: &'s Ctx<'s>,
    s: &rayon::Scope<'s>,
    parent: Arc<OwnedFd>,
    parent_id: MountIdentity,
    id: MountIdentity,
    name: Vec<u8>,
    mut entry: Entry,
) {
    if ctx.stopped() {
        return;
    }
    let opened = rustix::fs::openat(
        &*parent,
        OsStr::from_bytes(&name),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    );
    drop(parent);
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            entry.error = Some(EntryError::Vanished);
            push(ctx, vec![entry]);
            return;
        }
        Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
            entry.error = Some(EntryError::Changed(
                "directory replaced by another file type".into(),
            ));
            push(ctx, vec![entry]);
            return;
        }
        Err(e) => {
            entry.error = Some(EntryError::UnlistableDirectory(
                std::io::Error::from(e).to_string(),
            ));
            push(ctx, vec![entry]);
            return;
        }
    };
    let is_mount = id.differs_from(&parent_id) || id.dev != parent_id.dev;
    if ctx.opts.cross_mounts && is_mount && is_pseudo_fs(&fd) {
        entry.skipped = Some(SkipReason::PseudoFilesystem);
        push(ctx, vec![entry]);
        return;
    }
    // The directory opened is the one looked up: same inode, same mount
    // (a mount made in between would otherwise be entered unchecked).
    let same_mount = match mount::identity(&fd) {
        Ok(now) => now == id || (now.dev == id.dev && id.mnt_id.is_none()),
        Err(_) => false,
    };
    match rustix::fs::fstat(&fd) {
        Ok(st) if st.st_ino == entry.ino && st.st_dev == entry.dev && same_mount => {}
        _ => {
            entry.error = Some(EntryError::Changed("directory replaced".into()));
            push(ctx, vec![entry]);
            return;
        }
    }
    match read_names(&fd) {
        Ok(names) => {
            let dir = entry.path.clone();
            push(ctx, vec![entry]);
            list_dir(ctx, s, Arc::new(fd), id, dir, names);
        }
        Err(e) => {
            entry.error = Some(EntryError::UnlistableDirectory(e.to_string()));
            push(ctx, vec![entry]);
        }
    }
}

fn skip_reason(ctx: &Ctx<'_>, e: &Entry, is_mount: bool) -> Option<SkipReason> {
    if ctx.skip_runtime
        && e.kind == FileKind::Directory
        && matches!(e.path.as_slice(), b"/proc" | b"/sys" | b"/dev" | b"/run")
    {
        return Some(SkipReason::RuntimeDirectory);
    }
    if is_mount && !ctx.opts.cross_mounts {
        return Some(SkipReason::Mount);
    }
    None
}

/// Kernel pseudo filesystems, by `statfs` magic (linux/magic.h).
fn is_pseudo_fs(fd: &OwnedFd) -> bool {
    const PSEUDO: &[i64] = &[
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x1cd1,      // devpts
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0xcafe_4a11, // bpf
        0x6165_676c, // pstore
        0x6265_6570, // configfs
        0x6573_5543, // fusectl
        0x1980_0202, // mqueue
        0x4249_4e4d, // binfmt_misc
        0xde5e_81e4, // efivarfs
        0x958458f6,  // hugetlbfs
    ];
    match rustix::fs::fstatfs(fd) {
        #[allow(clippy::unnecessary_cast)]
        Ok(sfs) => PSEUDO.contains(&(sfs.f_type as i64)),
        Err(_) => false,
    }
}

fn read_names(fd: &OwnedFd) -> Result<Vec<Vec<u8>>, std::io::Error> {
    let dir = rustix::fs::Dir::read_from(fd)?;
    let mut names = Vec::new();
    for ent in dir {
        let ent = ent?;
        let n = ent.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(n.to_vec());
        }
    }
    Ok(names)
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; CHUNK]);
}

fn hash_file(ctx: &Ctx<'_>, dir: &OwnedFd, name: &[u8], e: &mut Entry) {
    let base =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    // O_NOATIME keeps the scan from touching the image's atimes; the kernel
    // refuses it for files we do not own unless we have CAP_FOWNER.
    let opened = match rustix::fs::openat(
        dir,
        OsStr::from_bytes(name),
        base | OFlags::NOATIME,
        Mode::empty(),
    ) {
        Err(Errno::PERM) => rustix::fs::openat(dir, OsStr::from_bytes(name), base, Mode::empty()),
        r => r,
    };
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            e.error = Some(EntryError::Vanished);
            return;
        }
        Err(Errno::LOOP) => {
            e.error = Some(EntryError::Changed("replaced by a symlink".into()));
            return;
        }
        Err(err) => {
            e.error = Some(EntryError::Unreadable(
                std::io::Error::from(err).to_string(),
            ));
            return;
        }
    };
    let before = match rustix::fs::fstat(&fd) {
        Ok(st) => st,
        Err(err) => {
            e.error = Some(EntryError::Unreadable(
                std::io::Error::from(err).to_string(),
            ));
            return;
        }
    };
    if FileKind::from_mode(before.st_mode) != FileKind::Regular || before.st_ino != e.ino {
        e.error = Some(EntryError::Changed(
            "replaced between listing and reading".into(),
        ));
        return;
    }
    // Describe the version we are about to read.
    *e = Entry {
        path: std::mem::take(&mut e.path),
        ..entry_from_stat(Vec::new(), &before)
    };
    e.capability = file_capability(&fd);
    let size = e.size;
    if size >= FADVISE_MIN {
        let _ = rustix::fs::fadvise(&fd, 0, None, rustix::fs::Advice::Sequential);
    }
    let mut sinks: Vec<(&'static str, Box<dyn ContentSink>)> = ctx
        .opts
        .observers
        .iter()
        .filter_map(|o| o.start(&e.path, size).map(|s| (o.name(), s)))
        .collect();
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::from(fd);
    let mut total: u64 = 0;
    let read_result: std::io::Result<()> = BUF.with(|b| {
        let mut buf = b.borrow_mut();
        loop {
            // Stop at the size fstat reported: the fstat after the read
            // catches a file that grew, and one read(2) per file is saved.
            let want = usize::try_from(size.saturating_sub(total)).unwrap_or(usize::MAX);
            if want == 0 && total > 0 {
                return Ok(());
            }
            let n = match file.read(&mut buf[..]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            let chunk = &buf[..n];
            hasher.update(chunk);
            for (_, s) in sinks.iter_mut() {
                s.update(chunk);
            }
            total += n as u64;
        }
    });
    if let Err(err) = read_result {
        e.error = Some(EntryError::Unreadable(err.to_string()));
        return;
    }
    let after = match rustix::fs::fstat(&file) {
        Ok(st) => st,
        Err(err) => {
            e.error = Some(EntryError::Unreadable(
                std::io::Error::from(err).to_string(),
            ));
            return;
        }
    };
    if after.st_size != before.st_size
        || after.st_mtime != before.st_mtime
        || after.st_mtime_nsec != before.st_mtime_nsec
        || after.st_ctime != before.st_ctime
        || after.st_ctime_nsec != before.st_ctime_nsec
        || total != size
    {
        e.error = Some(EntryError::Changed(format!(
            "{size} bytes expected, {total} read; modified while being read"
        )));
        return;
    }
    ctx.bytes.fetch_add(total, Ordering::Relaxed);
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

/// The `security.capability` attribute, when the file has one. One
/// `fgetxattr` on the descriptor already open for reading; a filesystem
/// without xattrs (or no attribute) is simply no capability.
fn file_capability(fd: &OwnedFd) -> Option<Vec<u8>> {
    let mut buf = [0u8; 64];
    match rustix::fs::fgetxattr(fd, "security.capability", &mut buf[..]) {
        Ok(n) if n > 0 => Some(buf[..n.min(buf.len())].to_vec()),
        _ => None,
    }
}

/// Raises this process's soft limit of open descriptors to its hard limit:
/// a large tree can need more than the usual soft limit of 1024 (one per
/// directory being listed plus one per file being hashed). It changes the
/// whole process, so it is the binary's to call, once at start-up; [`scan`]
/// and [`scan_paths`] never change it (a descriptor they cannot open is an
/// entry error, never a read elsewhere).
pub fn raise_fd_limit() {
    let lim = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    if let Some(max) = lim.maximum
        && lim.current.is_none_or(|c| c < max)
    {
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(max),
                maximum: Some(max),
            },
        );
    }
}

/// Indexes only `paths` (physical paths inside the root, each starting with
/// `/`, as [`scan`] records them), each entry as [`scan`] would record it:
/// type and metadata from `lstat`, the link target of a symlink, the SHA-256
/// (and the observers' annotations) of a regular file, read once. For checks
/// that need a known set of files (a package's owned files), at the cost of
/// those files rather than the whole tree.
///
/// Every directory on the way is opened with `O_NOFOLLOW` from the root's
/// descriptor, component by component: a symlink (or a non-directory) where
/// the path has a directory makes the entry an error
/// ([`EntryError::Changed`]), never a read elsewhere; a directory on another
/// filesystem likewise, unless [`ScanOptions::cross_mounts`]. A path with
/// nothing there is an entry of kind [`FileKind::Unknown`] with
/// [`EntryError::Vanished`]. `..` and `.` components are refused the same
/// way. Entries come back in the order of `paths`; [`ScanOptions::excludes`]
/// and the runtime-directory rule do not apply (the caller chose the paths).
pub fn scan_paths(
    root: &Root,
    paths: &[crate::RootPath],
    opts: &ScanOptions,
) -> Result<Vec<Entry>, ScanError> {
    let ctx = Ctx {
        opts,
        excludes: Excludes::default(),
        skip_runtime: false,
        out: Mutex::new(Vec::new()),
        bytes: AtomicU64::new(0),
        path_bytes: AtomicU64::new(0),
        path_budget: u64::MAX,
        over_budget: AtomicBool::new(false),
    };
    let root_fd = open_root_dir(root)?;
    let root_id = mount::identity(&root_fd).map_err(|e| {
        ScanError::Root(RootError::OpenRoot {
            path: root.host_path().to_owned(),
            source: e,
        })
    })?;
    let root_fd = Arc::new(root_fd);
    // Parent directory → the names wanted in it (index into `paths`).
    let mut by_dir: std::collections::BTreeMap<&[u8], Vec<(usize, &[u8])>> = Default::default();
    let mut out: Vec<Option<Entry>> = vec![None; paths.len()];
    for (i, p) in paths.iter().enumerate() {
        match p.iter().rposition(|&b| b == b'/') {
            Some(pos) if p.first() == Some(&b'/') && pos + 1 < p.len() => {
                by_dir
                    .entry(&p[..pos])
                    .or_default()
                    .push((i, &p[pos + 1..]));
            }
            _ => {
                let mut e = vanished(p.clone());
                e.error = Some(EntryError::Unreadable("not an absolute path".into()));
                out[i] = Some(e);
            }
        }
    }
    // Open each directory once, reusing the open ancestors of the previous.
    let mut stack: Vec<(Vec<u8>, Arc<OwnedFd>)> = Vec::new();
    // (directory, [(index into `paths`, name in it)])
    type Job<'p> = (Arc<OwnedFd>, Vec<(usize, &'p [u8])>);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (dir, names) in by_dir {
        let opened = open_dir_path(&ctx, &root_fd, root_id, &mut stack, dir);
        match opened {
            Ok(fd) => jobs.push((fd, names)),
            Err(err) => {
                for (i, _) in names {
                    let mut e = vanished(paths[i].clone());
                    e.error = Some(err.clone());
                    out[i] = Some(e);
                }
            }
        }
    }
    drop(stack);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .thread_name(|i| format!("bakeproof-index-{i}"))
        .build()
        .map_err(|e| ScanError::Threads(e.to_string()))?;
    let flat: Vec<(&Arc<OwnedFd>, usize, &[u8])> = jobs
        .iter()
        .flat_map(|(fd, names)| names.iter().map(move |&(i, n)| (fd, i, n)))
        .collect();
    let done: Vec<(usize, Entry)> = pool.install(|| {
        flat.par_iter()
            .map(|&(fd, i, name)| (i, stat_one(&ctx, fd, root_id, paths[i].clone(), name)))
            .collect()
    });
    for (i, e) in done {
        out[i] = Some(e);
    }
    Ok(out
        .into_iter()
        .zip(paths)
        .map(|(e, p)| e.unwrap_or_else(|| vanished(p.clone())))
        .collect())
}

/// Opens directory `dir` ("" = the root) component by component with
/// `O_NOFOLLOW`, starting from the deepest open ancestor on `stack`.
fn open_dir_path(
    ctx: &Ctx<'_>,
    root_fd: &Arc<OwnedFd>,
    root_id: MountIdentity,
    stack: &mut Vec<(Vec<u8>, Arc<OwnedFd>)>,
    dir: &[u8],
) -> Result<Arc<OwnedFd>, EntryError> {
    let is_ancestor =
        |a: &[u8]| dir == a || (dir.starts_with(a) && dir.get(a.len()) == Some(&b'/'));
    while let Some((p, _)) = stack.last() {
        if is_ancestor(p) {
            break;
        }
        stack.pop();
    }
    let (mut path, mut fd) = match stack.last() {
        Some((p, fd)) => (p.clone(), Arc::clone(fd)),
        None => (Vec::new(), Arc::clone(root_fd)),
    };
    for comp in dir[path.len()..]
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
    {
        path.push(b'/');
        path.extend_from_slice(comp);
        if comp == b"." || comp == b".." {
            return Err(EntryError::Changed(format!(
                "{}: not a physical path",
                crate::encode_path(&path)
            )));
        }
        let next = match rustix::fs::openat(
            &*fd,
            OsStr::from_bytes(comp),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(f) => f,
            Err(Errno::NOENT) => return Err(EntryError::Vanished),
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                return Err(EntryError::Changed(format!(
                    "{} is not a directory (a symlink or another file type)",
                    crate::encode_path(&path)
                )));
            }
            Err(e) => {
                return Err(EntryError::Unreadable(format!(
                    "{}: {}",
                    crate::encode_path(&path),
                    std::io::Error::from(e)
                )));
            }
        };
        if !ctx.opts.cross_mounts {
            match mount::identity(&next) {
                Ok(id) if !id.differs_from(&root_id) && id.dev == root_id.dev => {}
                Ok(_) => {
                    return Err(EntryError::Changed(format!(
                        "{} is on another mounted filesystem",
                        crate::encode_path(&path)
                    )));
                }
                Err(e) => {
                    return Err(EntryError::Unreadable(e.to_string()));
                }
            }
        }
        fd = Arc::new(next);
        stack.push((path.clone(), Arc::clone(&fd)));
    }
    Ok(fd)
}

/// One entry of [`scan_paths`]: `lstat`, then the link target or the content.
fn stat_one(
    ctx: &Ctx<'_>,
    dir: &OwnedFd,
    root_id: MountIdentity,
    path: Vec<u8>,
    name: &[u8],
) -> Entry {
    if name == b"." || name == b".." {
        let mut e = vanished(path);
        e.error = Some(EntryError::Changed("not a physical path".into()));
        return e;
    }
    let (mut entry, id) = match lstat_entry(dir, name, path) {
        Ok(v) => v,
        Err((path, Errno::NOENT)) => return vanished(path),
        Err((path, e)) => {
            let mut v = vanished(path);
            v.error = Some(EntryError::Unreadable(std::io::Error::from(e).to_string()));
            return v;
        }
    };
    // A file bind-mounted here is the walk's skipped mount, never read.
    if !ctx.opts.cross_mounts && (id.differs_from(&root_id) || id.dev != root_id.dev) {
        entry.skipped = Some(SkipReason::Mount);
        return entry;
    }
    match entry.kind {
        FileKind::Symlink => match rustix::fs::readlinkat(dir, OsStr::from_bytes(name), Vec::new())
        {
            Ok(t) => entry.link_target = Some(t.into_bytes()),
            Err(Errno::NOENT) => entry.error = Some(EntryError::Vanished),
            Err(e) => {
                entry.error = Some(EntryError::Unreadable(std::io::Error::from(e).to_string()))
            }
        },
        FileKind::Regular => hash_file(ctx, dir, name, &mut entry),
        _ => {}
    }
    entry
}
