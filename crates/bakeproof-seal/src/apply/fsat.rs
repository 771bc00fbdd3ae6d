//! Descriptor-relative file operations for `seal apply`.
//!
//! Every directory is opened relative to the root's descriptor with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`
//! (or, where `openat2` is refused, one `openat(O_NOFOLLOW | O_DIRECTORY)` per
//! component), and every entry is changed relative to its directory's
//! descriptor (`unlinkat`, `ftruncate` on an `O_NOFOLLOW` descriptor,
//! `symlinkat` + `renameat`). No path string is re-resolved and no symlink is
//! ever followed: a symlink is unlinked or left alone.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

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
    Io(Errno),
}

/// The root's own descriptor, re-opened from its host path.
pub(crate) struct RootFd {
    fd: OwnedFd,
}

impl RootFd {
    pub(crate) fn open(root: &bakeproof_index::Root) -> std::io::Result<RootFd> {
        let fd = rustix::fs::open(
            root.host_path(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let st = rustix::fs::fstat(&fd)?;
        if st.st_dev != root.dev() {
            return Err(std::io::Error::other(
                "root directory changed since it was opened",
            ));
        }
        Ok(RootFd { fd })
    }

    /// Opens the directory `rel` (root-relative, `/`-separated, no `.` or
    /// `..`; empty = the root) without following any symlink.
    pub(crate) fn open_dir(&self, rel: &[u8]) -> Result<OwnedFd, DirError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if rel.is_empty() {
            return rustix::fs::openat(&self.fd, ".", flags, Mode::empty()).map_err(DirError::Io);
        }
        let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(&self.fd, os(rel), flags, Mode::empty(), how) {
            Ok(fd) => Ok(fd),
            Err(Errno::NOENT) => Err(DirError::Missing),
            // ELOOP (a symlink on the way), ENOTDIR, ENOSYS/EPERM (openat2
            // refused), anything else: walk component by component, which
            // names the offending prefix and needs no openat2.
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
            cur =
                rustix::fs::openat(&cur, os(comp), flags, Mode::empty()).map_err(|e| match e {
                    Errno::LOOP => DirError::Symlink(prefix.clone()),
                    Errno::NOTDIR => DirError::NotDir(prefix.clone()),
                    Errno::NOENT => DirError::Missing,
                    e => DirError::Io(e),
                })?;
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
            FileType::Directory if s.st_dev == st.st_dev => {
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
        if kind(&s) == FileType::Directory {
            if s.st_dev != st.st_dev {
                errors.push(format!("{child}: mount point, not descended"));
                continue;
            }
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

/// Truncates the regular file `name` of `dir` to 0 bytes, keeping its inode,
/// owner and mode. Refuses anything else (a symlink is never followed).
/// Returns the bytes freed, or `None` when the file is gone.
pub(crate) fn truncate(dir: &OwnedFd, name: &[u8]) -> Result<Option<u64>, String> {
    let Some(st) = lstat(dir, name).map_err(err)? else {
        return Ok(None);
    };
    if kind(&st) != FileType::RegularFile {
        return Err("not a regular file (symlinks are never followed); left alone".into());
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
    rustix::fs::ftruncate(&fd, 0).map_err(err)?;
    Ok(Some(size(&now)))
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
