//! Descriptor-relative file operations for `seal apply`.
//!
//! Every directory is opened relative to the root's descriptor with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`
//! (or, where `openat2` is refused, one `openat(O_NOFOLLOW | O_DIRECTORY)` per
//! component), and every entry is changed relative to its directory's
//! descriptor (`unlinkat`, `ftruncate` on an `O_NOFOLLOW` descriptor,
//! `symlinkat` + `renameat`). No path string is re-resolved and no symlink is
//! ever followed: a symlink is unlinked or left alone.
//!
//! Mount points are never entered nor changed: path resolution uses
//! `RESOLVE_NO_XDEV` (or, component by component, [`is_mount_point`]), and
//! every entry is checked with [`is_mount_point`] before it is changed or
//! descended into, so a bind mount of the same filesystem (same `st_dev`) is
//! caught too. The root directory is opened once ([`RootFd::open`]) and that
//! descriptor serves the plan and its application.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{
    AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat, StatxAttributes, StatxFlags,
};
use rustix::io::Errno;

/// Where a file lives: its mount (statx `STATX_MNT_ID`, when the kernel
/// reports it) and its device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MountKey {
    mnt: Option<u64>,
    dev: u64,
    /// The kernel says this is the root of a mount (`STATX_ATTR_MOUNT_ROOT`).
    mount_root: bool,
}

fn mount_key(dir: impl AsFd, name: &[u8], flags: AtFlags) -> Result<MountKey, Errno> {
    let stx = rustix::fs::statx(
        dir,
        os(name),
        flags | AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    )?;
    let mnt = (stx.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(stx.stx_mnt_id);
    // STATX_ATTR_MOUNT_ROOT (Linux 5.8): the path is the root of a mount.
    let mount_root = stx
        .stx_attributes_mask
        .contains(StatxAttributes::MOUNT_ROOT)
        && stx.stx_attributes.contains(StatxAttributes::MOUNT_ROOT);
    Ok(MountKey {
        mnt,
        dev: rustix::fs::makedev(stx.stx_dev_major, stx.stx_dev_minor),
        mount_root,
    })
}

/// Whether two open directories are on the same mount (a directory that
/// cannot be examined is not).
pub(crate) fn same_mount(a: impl AsFd, b: impl AsFd) -> bool {
    match (
        mount_key(a, b"", AtFlags::EMPTY_PATH),
        mount_key(b, b"", AtFlags::EMPTY_PATH),
    ) {
        (Ok(a), Ok(b)) => a.dev == b.dev && !matches!((a.mnt, b.mnt), (Some(x), Some(y)) if x != y),
        _ => false,
    }
}

/// Whether `name` (an entry of the directory `dir`, never followed) is a
/// mount point: another mount than `dir`'s (mount ID from `statx`, falling
/// back to the device number on kernels without `STATX_MNT_ID`), or the root
/// of a mount. A bind mount of the same filesystem counts. An entry that
/// cannot be examined counts as a mount point (never entered).
///
/// The one place `seal apply` (and `seal check`'s `/tmp` rule) decides
/// mount points; it can be swapped for a shared implementation.
pub(crate) fn is_mount_point(dir: impl AsFd, name: &[u8]) -> bool {
    let dir = dir.as_fd();
    let (Ok(parent), Ok(child)) = (
        mount_key(dir, b"", AtFlags::EMPTY_PATH),
        mount_key(dir, name, AtFlags::empty()),
    ) else {
        return true;
    };
    if child.mount_root || child.dev != parent.dev {
        return true;
    }
    matches!((parent.mnt, child.mnt), (Some(a), Some(b)) if a != b)
}

/// Deepest directory nesting removed recursively (a hostile tree cannot
/// exhaust the stack or the descriptor table).
pub(crate) const MAX_DEPTH: usize = 256;

pub(crate) fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

pub(crate) fn kind(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

pub(crate) fn size(st: &Stat) -> u64 {
    u64::try_from(st.st_size).unwrap_or(0)
}

/// Why a directory could not be opened.
#[derive(Debug)]
pub(crate) enum DirError {
    /// Some component does not exist.
    Missing,
    /// This prefix of the path is a symlink (never followed).
    Symlink(Vec<u8>),
    /// This prefix of the path is not a directory.
    NotDir(Vec<u8>),
    /// This prefix of the path is a mount point (never entered).
    Mount(Vec<u8>),
    Io(Errno),
}

/// The root's own descriptor: opened once, when planning, and used for the
/// plan and its application (the root's path is never resolved again, so
/// renaming or exchanging the root directory, or retargeting a symlink that
/// names it, changes nothing for a plan already made).
pub(crate) struct RootFd {
    fd: OwnedFd,
}

impl std::fmt::Debug for RootFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootFd").finish_non_exhaustive()
    }
}

impl RootFd {
    /// The directory `root` was opened on: a duplicate of the descriptor
    /// [`bakeproof_index::Root::open`] holds, never a new resolution of its
    /// host path, so a root exchanged with another directory (renameat2
    /// RENAME_EXCHANGE) or replaced by a symlink to `/` after it was opened
    /// cannot redirect apply.
    pub(crate) fn open(root: &bakeproof_index::Root) -> std::io::Result<RootFd> {
        let fd = root.as_fd().try_clone_to_owned()?;
        Ok(RootFd { fd })
    }

    /// Opens the directory `rel` (root-relative, `/`-separated, no `.` or
    /// `..`; empty = the root) without following any symlink.
    pub(crate) fn open_dir(&self, rel: &[u8]) -> Result<OwnedFd, DirError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if rel.is_empty() {
            return rustix::fs::openat(&self.fd, ".", flags, Mode::empty()).map_err(DirError::Io);
        }
        let how = ResolveFlags::IN_ROOT
            | ResolveFlags::NO_SYMLINKS
            | ResolveFlags::NO_MAGICLINKS
            | ResolveFlags::NO_XDEV;
        match rustix::fs::openat2(&self.fd, os(rel), flags, Mode::empty(), how) {
            // RESOLVE_NO_XDEV refuses every mount crossing, the last
            // component's included; the result is checked all the same.
            Ok(fd) if same_mount(&self.fd, &fd) => Ok(fd),
            Ok(_) => self.walk(rel),
            Err(Errno::NOENT) => Err(DirError::Missing),
            // ELOOP (a symlink on the way), EXDEV (a mount point on the
            // way), ENOTDIR, ENOSYS/EPERM (openat2 refused), anything else:
            // walk component by component, which names the offending prefix
            // and needs no openat2.
            Err(_) => self.walk(rel),
        }
    }

    fn walk(&self, rel: &[u8]) -> Result<OwnedFd, DirError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut cur =
            rustix::fs::openat(&self.fd, ".", flags, Mode::empty()).map_err(DirError::Io)?;
        let mut prefix: Vec<u8> = Vec::new();
        for comp in rel.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            if comp == b"." || comp == b".." {
                return Err(DirError::Io(Errno::INVAL));
            }
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(comp);
            let st = match rustix::fs::statat(&cur, os(comp), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => return Err(DirError::Missing),
                Err(e) => return Err(DirError::Io(e)),
            };
            match kind(&st) {
                FileType::Symlink => return Err(DirError::Symlink(prefix)),
                FileType::Directory => {}
                _ => return Err(DirError::NotDir(prefix)),
            }
            if is_mount_point(&cur, comp) {
                return Err(DirError::Mount(prefix));
            }
            let next =
                rustix::fs::openat(&cur, os(comp), flags, Mode::empty()).map_err(|e| match e {
                    Errno::LOOP => DirError::Symlink(prefix.clone()),
                    Errno::NOTDIR => DirError::NotDir(prefix.clone()),
                    Errno::NOENT => DirError::Missing,
                    e => DirError::Io(e),
                })?;
            if !same_mount(&cur, &next) {
                return Err(DirError::Mount(prefix));
            }
            cur = next;
        }
        Ok(cur)
    }
}

/// `lstat` of `name` in `dir`; `None` when absent.
pub(crate) fn lstat(dir: &OwnedFd, name: &[u8]) -> Result<Option<Stat>, Errno> {
    match rustix::fs::statat(dir, os(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Names of `dir` (sorted bytewise) with their `lstat`; entries that vanish
/// while listed are left out.
pub(crate) fn list(dir: &OwnedFd) -> Result<Vec<(Vec<u8>, Stat)>, Errno> {
    let mut out = Vec::new();
    for ent in rustix::fs::Dir::read_from(dir)? {
        let ent = ent?;
        let name = ent.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if let Some(st) = lstat(dir, name)? {
            out.push((name.to_vec(), st));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn open_child_dir(dir: &OwnedFd, name: &[u8], expect: &Stat) -> Result<OwnedFd, Errno> {
    let fd = rustix::fs::openat(
        dir,
        os(name),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&fd)?;
    if st.st_dev != expect.st_dev || st.st_ino != expect.st_ino {
        return Err(Errno::STALE);
    }
    if !same_mount(dir, &fd) {
        return Err(Errno::XDEV);
    }
    Ok(fd)
}

/// Bytes of the regular files under `name` (a directory of `dir`), on the
/// same filesystem, without following symlinks. Errors count as 0.
pub(crate) fn tree_size(dir: &OwnedFd, name: &[u8], st: &Stat, depth: usize) -> u64 {
    if depth > MAX_DEPTH {
        return 0;
    }
    let Ok(fd) = open_child_dir(dir, name, st) else {
        return 0;
    };
    let Ok(entries) = list(&fd) else {
        return 0;
    };
    let mut total = 0;
    for (n, s) in entries {
        match kind(&s) {
            FileType::RegularFile => total += size(&s),
            FileType::Directory if !is_mount_point(&fd, &n) => {
                total += tree_size(&fd, &n, &s, depth + 1)
            }
            _ => {}
        }
    }
    total
}

/// Removes the directory `name` of `dir` and everything below it, through
/// descriptors only, without crossing into other filesystems. Returns the
/// bytes of regular files removed; errors are collected per path (`shown` is
/// the path used in messages) and the rest goes on.
pub(crate) fn remove_tree(
    dir: &OwnedFd,
    name: &[u8],
    st: &Stat,
    shown: &str,
    depth: usize,
    errors: &mut Vec<String>,
) -> u64 {
    if depth > MAX_DEPTH {
        errors.push(format!(
            "{shown}: nested deeper than {MAX_DEPTH} directories"
        ));
        return 0;
    }
    let fd = match open_child_dir(dir, name, st) {
        Ok(fd) => fd,
        Err(e) => {
            errors.push(format!("{shown}: {}", std::io::Error::from(e)));
            return 0;
        }
    };
    let entries = match list(&fd) {
        Ok(e) => e,
        Err(e) => {
            errors.push(format!("{shown}: {}", std::io::Error::from(e)));
            return 0;
        }
    };
    let before = errors.len();
    let mut freed = 0;
    for (n, s) in entries {
        let child = format!("{shown}/{}", String::from_utf8_lossy(&n));
        if is_mount_point(&fd, &n) {
            errors.push(format!("{child}: mount point, not entered"));
            continue;
        }
        if kind(&s) == FileType::Directory {
            freed += remove_tree(&fd, &n, &s, &child, depth + 1, errors);
        } else {
            match rustix::fs::unlinkat(&fd, os(&n), AtFlags::empty()) {
                Ok(()) => freed += freed_by_unlink(&s),
                Err(Errno::NOENT) => {}
                Err(e) => errors.push(format!("{child}: {}", std::io::Error::from(e))),
            }
        }
    }
    if errors.len() == before {
        match rustix::fs::unlinkat(dir, os(name), AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => errors.push(format!("{shown}: {}", std::io::Error::from(e))),
        }
    }
    freed
}

/// Bytes an unlink frees: a regular file's size when this was its last link.
pub(crate) fn freed_by_unlink(st: &Stat) -> u64 {
    if kind(st) == FileType::RegularFile && st.st_nlink <= 1 {
        size(st)
    } else {
        0
    }
}

/// Reason given for a mount point that a step would change.
pub(crate) const MOUNT_REASON: &str = "mount point; never entered nor changed";

/// Truncates the regular file `name` of `dir` to 0 bytes, keeping its inode,
/// owner and mode. Refuses anything else (a symlink is never followed, a
/// mount point is never changed). A file with other hard links (their
/// content is shared, maybe with a file outside the root: `cp -al`
/// snapshots) is not truncated: it is replaced by a new empty file with its
/// owner and mode ([`replace_with_empty`]), the other links keep their
/// content. Returns the bytes freed, or `None` when the file is gone.
pub(crate) fn truncate(dir: &OwnedFd, name: &[u8]) -> Result<Option<u64>, String> {
    let Some(st) = lstat(dir, name).map_err(err)? else {
        return Ok(None);
    };
    if is_mount_point(dir, name) {
        return Err(format!("{MOUNT_REASON}; left alone"));
    }
    if kind(&st) != FileType::RegularFile {
        return Err("not a regular file (symlinks are never followed); left alone".into());
    }
    if st.st_nlink > 1 {
        return replace_with_empty(dir, name, &st).map(|()| Some(0));
    }
    let fd = rustix::fs::openat(
        dir,
        os(name),
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(err)?;
    let now = rustix::fs::fstat(&fd).map_err(err)?;
    if kind(&now) != FileType::RegularFile || now.st_ino != st.st_ino || now.st_dev != st.st_dev {
        return Err("replaced while being sealed; left alone".into());
    }
    if now.st_nlink > 1 {
        // Linked elsewhere since the lstat: the shared content stays.
        drop(fd);
        return replace_with_empty(dir, name, &now).map(|()| Some(0));
    }
    rustix::fs::ftruncate(&fd, 0).map_err(err)?;
    Ok(Some(size(&now)))
}

/// Replaces the regular file `name` of `dir` (described by `st`) with a new
/// empty regular file of the same owner and mode: created under a temporary
/// name (`O_EXCL`), then renamed over `name`. The old inode, and the content
/// its other hard links share, are left as they are.
pub(crate) fn replace_with_empty(dir: &OwnedFd, name: &[u8], st: &Stat) -> Result<(), String> {
    let mut tmp = b".".to_vec();
    tmp.extend_from_slice(name);
    tmp.extend_from_slice(b".bakeproof-seal");
    let _ = rustix::fs::unlinkat(dir, os(&tmp), AtFlags::empty());
    let fd = rustix::fs::openat(
        dir,
        os(&tmp),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(err)?;
    let done = (|| {
        rustix::fs::fchown(
            &fd,
            Some(rustix::fs::Uid::from_raw(st.st_uid)),
            Some(rustix::fs::Gid::from_raw(st.st_gid)),
        )?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(st.st_mode & 0o7777))?;
        let now = lstat(dir, name)?;
        if now.is_none_or(|n| n.st_ino != st.st_ino || n.st_dev != st.st_dev) {
            return Err(Errno::STALE);
        }
        rustix::fs::renameat(dir, os(&tmp), dir, os(name))
    })();
    if let Err(e) = done {
        let _ = rustix::fs::unlinkat(dir, os(&tmp), AtFlags::empty());
        return Err(if e == Errno::STALE {
            "replaced while being sealed; left alone".into()
        } else {
            err(e)
        });
    }
    Ok(())
}

/// Removes `name` of `dir`: unlinks a file or symlink (never following it),
/// removes a directory recursively when `tree` is set.
pub(crate) fn remove(
    dir: &OwnedFd,
    name: &[u8],
    shown: &str,
    tree: bool,
) -> Result<Option<u64>, String> {
    let Some(st) = lstat(dir, name).map_err(err)? else {
        return Ok(None);
    };
    if is_mount_point(dir, name) {
        return Err(format!("{MOUNT_REASON}; left alone"));
    }
    if kind(&st) == FileType::Directory {
        if !tree {
            return Err("is a directory now (planned as a file); left alone".into());
        }
        let mut errors = Vec::new();
        let freed = remove_tree(dir, name, &st, shown, 0, &mut errors);
        if errors.is_empty() {
            return Ok(Some(freed));
        }
        return Err(errors.join("; "));
    }
    match rustix::fs::unlinkat(dir, os(name), AtFlags::empty()) {
        Ok(()) => Ok(Some(freed_by_unlink(&st))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

/// Replaces `name` of `dir` (a file or symlink, never followed) with a
/// symlink to `target`, atomically (`symlinkat` to a temporary name, then
/// `renameat` over it).
pub(crate) fn replace_with_symlink(
    dir: &OwnedFd,
    name: &[u8],
    target: &[u8],
) -> Result<u64, String> {
    let st = lstat(dir, name).map_err(err)?;
    if let Some(st) = &st
        && kind(st) == FileType::Directory
    {
        return Err("is a directory; left alone".into());
    }
    if st.is_some() && is_mount_point(dir, name) {
        return Err(format!("{MOUNT_REASON}; left alone"));
    }
    let mut tmp = b".".to_vec();
    tmp.extend_from_slice(name);
    tmp.extend_from_slice(b".bakeproof-seal");
    let _ = rustix::fs::unlinkat(dir, os(&tmp), AtFlags::empty());
    rustix::fs::symlinkat(os(target), dir, os(&tmp)).map_err(err)?;
    if let Err(e) = rustix::fs::renameat(dir, os(&tmp), dir, os(name)) {
        let _ = rustix::fs::unlinkat(dir, os(&tmp), AtFlags::empty());
        return Err(err(e));
    }
    Ok(st.as_ref().map(freed_by_unlink).unwrap_or(0))
}

fn err(e: Errno) -> String {
    std::io::Error::from(e).to_string()
}
