//! [`Root`]: a directory treated as `/`, from which nothing escapes.
//!
//! Every path the tool itself resolves (a package database location,
//! `etc/os-release -> ../usr/lib/os-release`, a dpkg list entry `/bin/bzip2`
//! on a usrmerged root where `bin -> usr/bin`) is resolved *inside* the root:
//! absolute symlink targets restart at the root, `..` stops at the root. File
//! contents are opened by the kernel with `openat2(RESOLVE_IN_ROOT)`, so even a
//! link swapped in between resolution and open cannot lead outside.
//!
//! Mounts inside the root are boundaries: `openat2` gets `RESOLVE_NO_XDEV`,
//! the user-space resolver compares every component's mount ID with the
//! root's (see [`crate::mount`]), so a bind mount of an outside directory at
//! `ROOT/var/lib/dpkg` is never read through. And a file is opened for
//! reading only once it is known to be a regular file: `O_PATH` first (which
//! opens nothing: a FIFO's reader end, a device's driver are never reached),
//! `fstat`, then the reopen of that very inode through `/proc/self/fd`.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use rustix::io::Errno;

use crate::FileKind;
use crate::mount::{self, MountIdentity};

/// Linux's own limit on symlinks followed while resolving one path.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Errors opening or reading inside a [`Root`].
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("cannot open root {path}: {source}")]
    OpenRoot {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a regular file")]
    NotRegular { path: String },
    #[error("{path}: larger than the {limit} byte limit for this kind of file")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: too many levels of symbolic links (more than {MAX_SYMLINK_HOPS})")]
    SymlinkLoop { path: String },
    #[error("{path}: resolves onto another mount (a mount point inside the root is never entered)")]
    CrossesMount { path: String },
}

impl RootError {
    /// True when the error means "no such file".
    pub fn is_not_found(&self) -> bool {
        matches!(self, RootError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn io_err(path: &[u8], e: impl Into<std::io::Error>) -> RootError {
    RootError::Io {
        path: crate::encode_path(path),
        source: e.into(),
    }
}

/// A directory opened as the root of a filesystem tree.
pub struct Root {
    fd: OwnedFd,
    host_path: PathBuf,
    dev: u64,
    ino: u64,
    /// The mount the root directory is on.
    mount: MountIdentity,
    /// Canonical form of directories already resolved (usrmerge lookups repeat
    /// the same few parents thousands of times).
    dir_cache: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Root")
            .field("host_path", &self.host_path)
            .finish()
    }
}

impl Root {
    /// Opens `path` (which must be a directory) as a root.
    pub fn open(path: impl AsRef<Path>) -> Result<Root, RootError> {
        let path = path.as_ref();
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| RootError::OpenRoot {
            path: path.to_owned(),
            source: e.into(),
        })?;
        let st = rustix::fs::fstat(&fd).map_err(|e| RootError::OpenRoot {
            path: path.to_owned(),
            source: e.into(),
        })?;
        let mount = mount::identity(&fd).map_err(|source| RootError::OpenRoot {
            path: path.to_owned(),
            source,
        })?;
        Ok(Root {
            fd,
            host_path: path.to_owned(),
            dev: st.st_dev,
            ino: st.st_ino,
            mount,
            dir_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The path this root was opened from, on the host.
    pub fn host_path(&self) -> &Path {
        &self.host_path
    }

    /// Device number of the root directory's filesystem.
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// The descriptor of the root directory, opened once by [`Root::open`]:
    /// a caller that must act on the same directory (`seal apply`) duplicates
    /// it instead of resolving the host path again, so a root exchanged or
    /// replaced by a symlink after `open` cannot redirect it.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd as _;
        self.fd.as_fd()
    }

    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Device number and mount ID of the root directory's mount.
    pub fn mount(&self) -> MountIdentity {
        self.mount
    }

    /// Whether `path`, its parents resolved inside the root (the last
    /// component not followed), is on another mount than the root: a mount
    /// point (bind mounts of the same filesystem included) or below one.
    /// `Ok(false)` when nothing is there.
    pub fn crosses_mount(&self, path: &[u8]) -> Result<bool, RootError> {
        let canon = self.canonicalize_parent(path)?;
        let rel = relative(&canon);
        if rel.is_empty() {
            return Ok(false);
        }
        match mount::identity_at(&self.fd, rel) {
            Ok(id) => Ok(id.differs_from(&self.mount)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => Ok(false),
            Err(e) => Err(io_err(path, e)),
        }
    }

    fn crosses(&self, path: &[u8]) -> RootError {
        RootError::CrossesMount {
            path: crate::encode_path(path),
        }
    }

    /// Whether this root is the running system's own `/`.
    pub fn is_system_root(&self) -> bool {
        match rustix::fs::stat("/") {
            Ok(st) => st.st_dev == self.dev && st.st_ino == self.ino,
            Err(_) => false,
        }
    }

    fn open_in_root(&self, path: &[u8], flags: OFlags) -> Result<OwnedFd, RootError> {
        let rel = relative(path);
        let rel = if rel.is_empty() { b"." as &[u8] } else { rel };
        let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV;
        match rustix::fs::openat2(&self.fd, OsStr::from_bytes(rel), flags, Mode::empty(), how) {
            Ok(fd) => Ok(fd),
            // openat2 may be refused by old kernels (ENOSYS) or seccomp
            // filters (EPERM): resolve in user space, then open the
            // canonical path with O_NOFOLLOW on its last component.
            Err(Errno::NOSYS) | Err(Errno::PERM) => {
                let canon = self.canonicalize(path)?;
                let rel = relative(&canon);
                let rel = if rel.is_empty() { b"." as &[u8] } else { rel };
                let fd = rustix::fs::openat(
                    &self.fd,
                    OsStr::from_bytes(rel),
                    flags | OFlags::NOFOLLOW,
                    Mode::empty(),
                )
                .map_err(|e| io_err(path, e))?;
                // The resolver stops at mounts; the open re-walked the path,
                // so check where it landed.
                match mount::identity(&fd) {
                    Ok(id) if !id.differs_from(&self.mount) => Ok(fd),
                    Ok(_) => Err(self.crosses(path)),
                    Err(e) => Err(io_err(path, e)),
                }
            }
            Err(Errno::XDEV) => Err(self.crosses(path)),
            Err(e) => Err(io_err(path, e)),
        }
    }

    /// Reads a whole regular file, resolving `path` inside the root. Refuses
    /// anything that is not a regular file and files larger than `limit`
    /// bytes. FIFOs and devices are never opened, not even to be refused:
    /// the path is opened `O_PATH` (no FIFO end, no driver), type-checked
    /// with `fstat`, and only a regular file is then reopened for reading.
    pub fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, RootError> {
        let fd = self.open_regular(path)?;
        let st = rustix::fs::fstat(&fd).map_err(|e| io_err(path, e))?;
        let size = u64::try_from(st.st_size).unwrap_or(0);
        if size > limit {
            return Err(RootError::TooLarge {
                path: crate::encode_path(path),
                limit,
            });
        }
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let file = std::fs::File::from(fd);
        // take(limit + 1): a file growing while read is still bounded.
        file.take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| io_err(path, e))?;
        if out.len() as u64 > limit {
            return Err(RootError::TooLarge {
                path: crate::encode_path(path),
                limit,
            });
        }
        Ok(out)
    }

    /// Reads `len` bytes at `offset` of a regular file inside the root
    /// (fewer at its end), with [`Root::read_file`]'s checks.
    pub fn read_range(&self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, RootError> {
        use std::os::unix::fs::FileExt as _;
        let fd = self.open_regular(path)?;
        let file = std::fs::File::from(fd);
        let mut out = vec![0u8; len];
        let mut at = 0usize;
        while at < len {
            let got = file
                .read_at(&mut out[at..], offset.saturating_add(at as u64))
                .map_err(|e| io_err(path, e))?;
            if got == 0 {
                break;
            }
            at += got;
        }
        out.truncate(at);
        Ok(out)
    }

    /// Opens `path` for reading if, and only if, it is a regular file.
    fn open_regular(&self, path: &[u8]) -> Result<OwnedFd, RootError> {
        let opath = self.open_in_root(path, OFlags::PATH | OFlags::CLOEXEC)?;
        let st = rustix::fs::fstat(&opath).map_err(|e| io_err(path, e))?;
        if FileKind::from_mode(st.st_mode) != FileKind::Regular {
            return Err(RootError::NotRegular {
                path: crate::encode_path(path),
            });
        }
        let read = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        // The same inode, reopened through its magic link: nothing can be
        // swapped in between the type check and the open.
        let proc = format!("/proc/self/fd/{}", opath.as_raw_fd());
        let fd = match rustix::fs::open(proc.as_str(), read, Mode::empty()) {
            Ok(fd) => fd,
            // No /proc: open the path again; a file swapped in meanwhile is
            // caught by the identity check below (and was opened
            // non-blocking).
            Err(Errno::NOENT) | Err(Errno::NOTDIR) => self.open_in_root(path, read)?,
            Err(e) => return Err(io_err(path, e)),
        };
        let again = rustix::fs::fstat(&fd).map_err(|e| io_err(path, e))?;
        if again.st_dev != st.st_dev || again.st_ino != st.st_ino {
            return Err(io_err(
                path,
                std::io::Error::other("replaced while being opened"),
            ));
        }
        Ok(fd)
    }

    /// Metadata (`fstat`) of the file `path` names, resolved inside the root
    /// as [`Root::read_file`] resolves it (so the times are those of the file
    /// that would be read). Nothing is read.
    pub fn metadata(&self, path: &[u8]) -> Result<std::fs::Metadata, RootError> {
        let fd = self.open_in_root(path, OFlags::PATH | OFlags::CLOEXEC)?;
        std::fs::File::from(fd)
            .metadata()
            .map_err(|e| io_err(path, e))
    }

    /// Names in a directory resolved inside the root, sorted bytewise.
    pub fn read_dir(&self, path: &[u8]) -> Result<Vec<Vec<u8>>, RootError> {
        let fd = self.open_in_root(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC)?;
        let mut names = Vec::new();
        let dir = rustix::fs::Dir::read_from(&fd).map_err(|e| io_err(path, e))?;
        for ent in dir {
            let ent = ent.map_err(|e| io_err(path, e))?;
            let name = ent.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort();
        Ok(names)
    }

    /// `lstat` of a path resolved inside the root (the last component is not
    /// followed). Returns the kind, or `None` when nothing is there.
    pub fn kind_of(&self, path: &[u8]) -> Result<Option<FileKind>, RootError> {
        let canon = self.canonicalize_parent(path)?;
        let rel = relative(&canon);
        if rel.is_empty() {
            return Ok(Some(FileKind::Directory));
        }
        match self.lstat_here(rel) {
            Ok(Some(kind)) => Ok(Some(kind)),
            Ok(None) => Err(self.crosses(path)),
            Err(Errno::NOENT) | Err(Errno::NOTDIR) => Ok(None),
            Err(e) => Err(io_err(path, e)),
        }
    }

    /// The target of the symlink `path` names, its parents resolved inside
    /// the root (the link itself is not followed), as stored.
    pub fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        let canon = self.canonicalize_parent(path)?;
        let rel = relative(&canon);
        match self.lstat_here(rel) {
            Ok(Some(FileKind::Symlink)) => {}
            Ok(Some(_)) => {
                return Err(io_err(
                    path,
                    std::io::Error::from_raw_os_error(Errno::INVAL.raw_os_error()),
                ));
            }
            Ok(None) => return Err(self.crosses(path)),
            Err(e) => return Err(io_err(path, e)),
        }
        rustix::fs::readlinkat(&self.fd, OsStr::from_bytes(rel), Vec::new())
            .map(|t| t.into_bytes())
            .map_err(|e| io_err(path, e))
    }

    /// Resolves every component of `path` inside the root, as
    /// `openat2(RESOLVE_IN_ROOT)` would, and returns the physical path
    /// (starting with `/`). Components that do not exist are kept as written.
    pub fn canonicalize(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        self.resolve(path, true)
    }

    /// Resolves the parent directories of `path` inside the root but not its
    /// last component: the physical location of the entry `path` names, which
    /// is what a package database means by a file path (`/bin/bzip2` is
    /// `/usr/bin/bzip2` on a usrmerged root; `/var/run` stays the symlink).
    pub fn canonicalize_parent(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        let trimmed = trim_slashes(path);
        let Some(pos) = trimmed.iter().rposition(|&b| b == b'/') else {
            return self.resolve(path, false);
        };
        let (parent, name) = (&trimmed[..pos], &trimmed[pos + 1..]);
        if name == b"." || name == b".." {
            return self.resolve(path, false);
        }
        let cached = self
            .dir_cache
            .lock()
            .ok()
            .and_then(|c| c.get(parent).cloned());
        let mut dir = match cached {
            Some(d) => d,
            None => {
                let d = self.resolve(parent, true)?;
                if let Ok(mut c) = self.dir_cache.lock() {
                    c.insert(parent.to_vec(), d.clone());
                }
                d
            }
        };
        if dir != b"/" {
            dir.push(b'/');
        }
        dir.extend_from_slice(name);
        Ok(dir)
    }

    /// `lstat` of `rel` (relative to the root): its kind, or `None` when it
    /// is on another mount than the root.
    fn lstat_here(&self, rel: &[u8]) -> Result<Option<FileKind>, Errno> {
        let how = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT;
        let (mode, id) = match rustix::fs::statx(
            &self.fd,
            OsStr::from_bytes(rel),
            how,
            StatxFlags::TYPE | StatxFlags::MNT_ID,
        ) {
            Ok(stx) => {
                let mnt_id = mount::statx_mnt_id(&stx);
                let dev = mount::statx_dev(&stx);
                let id = match mnt_id {
                    Some(_) => MountIdentity { dev, mnt_id },
                    None => mount::identity_at(&self.fd, rel)
                        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?,
                };
                (u32::from(stx.stx_mode), id)
            }
            Err(Errno::NOSYS) | Err(Errno::PERM) => {
                let st = rustix::fs::statat(&self.fd, OsStr::from_bytes(rel), how)?;
                let id = mount::identity_at(&self.fd, rel)
                    .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
                (st.st_mode, id)
            }
            Err(e) => return Err(e),
        };
        if id.differs_from(&self.mount) {
            return Ok(None);
        }
        Ok(Some(FileKind::from_mode(mode)))
    }

    fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Vec<u8>, RootError> {
        let mut queue: VecDeque<Vec<u8>> = components(path).map(<[u8]>::to_vec).collect();
        let mut cur: Vec<Vec<u8>> = Vec::new();
        let mut hops = 0usize;
        // Set once a component is on another mount: what lies below is
        // never looked at, the rest of the path stays as written.
        let mut lexical = false;
        while let Some(c) = queue.pop_front() {
            if c == b"." {
                continue;
            }
            if c == b".." {
                cur.pop();
                continue;
            }
            let last = queue.is_empty();
            cur.push(c);
            if (last && !follow_last) || lexical {
                continue;
            }
            let rel = cur.join(&b'/');
            match self.lstat_here(&rel) {
                Ok(None) => lexical = true,
                Ok(Some(FileKind::Symlink)) => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(RootError::SymlinkLoop {
                            path: crate::encode_path(path),
                        });
                    }
                    let target =
                        rustix::fs::readlinkat(&self.fd, OsStr::from_bytes(&rel), Vec::new())
                            .map_err(|e| io_err(path, e))?
                            .into_bytes();
                    cur.pop();
                    if target.first() == Some(&b'/') {
                        cur.clear();
                    }
                    for t in components(&target).rev() {
                        queue.push_front(t.to_vec());
                    }
                }
                Ok(_) => {}
                // Missing components stay lexical: a database may list a
                // path that is gone from disk (dpkg reports it "missing").
                Err(Errno::NOENT) | Err(Errno::NOTDIR) => {}
                Err(e) => return Err(io_err(path, e)),
            }
        }
        let mut out = Vec::with_capacity(path.len() + 1);
        for c in &cur {
            out.push(b'/');
            out.extend_from_slice(c);
        }
        if out.is_empty() {
            out.push(b'/');
        }
        Ok(out)
    }
}

fn trim_slashes(p: &[u8]) -> &[u8] {
    let mut s = p;
    while let [rest @ .., b'/'] = s {
        s = rest;
    }
    s
}

fn components(p: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    p.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

/// `/usr/bin` -> `usr/bin`; `/` -> empty.
pub(crate) fn relative(p: &[u8]) -> &[u8] {
    let mut s = p;
    while let [b'/', rest @ ..] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn resolves_absolute_links_inside_root() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("usr/bin")).unwrap();
        std::fs::create_dir_all(r.join("run/lock")).unwrap();
        std::fs::create_dir_all(r.join("var")).unwrap();
        symlink("usr/bin", r.join("bin")).unwrap();
        symlink("/run", r.join("var/run")).unwrap();
        symlink("../../../../..", r.join("usr/up")).unwrap();
        symlink("/etc/shadow", r.join("usr/shadow")).unwrap();
        std::fs::write(r.join("usr/bin/tool"), b"x").unwrap();
        let root = Root::open(r).unwrap();
        assert_eq!(root.canonicalize(b"/bin/tool").unwrap(), b"/usr/bin/tool");
        assert_eq!(
            root.canonicalize_parent(b"/bin/tool").unwrap(),
            b"/usr/bin/tool"
        );
        assert_eq!(root.canonicalize(b"/var/run/lock").unwrap(), b"/run/lock");
        assert_eq!(root.canonicalize_parent(b"/var/run").unwrap(), b"/var/run");
        assert_eq!(root.canonicalize(b"/usr/up/usr/bin").unwrap(), b"/usr/bin");
        assert_eq!(root.canonicalize(b"/usr/shadow").unwrap(), b"/etc/shadow");
        assert_eq!(root.read_file(b"/bin/tool", 10).unwrap(), b"x");
        // /etc/shadow inside this root does not exist: never the host's.
        assert!(
            root.read_file(b"/usr/shadow", 1 << 20)
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            root.read_file(b"/usr/up/etc/passwd", 1 << 20)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn symlink_loop_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        symlink("b", t.path().join("a")).unwrap();
        symlink("a", t.path().join("b")).unwrap();
        let root = Root::open(t.path()).unwrap();
        assert!(matches!(
            root.canonicalize(b"/a/x"),
            Err(RootError::SymlinkLoop { .. })
        ));
        assert!(root.read_file(b"/a", 10).is_err());
    }

    #[test]
    fn fifo_is_never_read() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &p,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let root = Root::open(t.path()).unwrap();
        assert!(matches!(
            root.read_file(b"/fifo", 10),
            Err(RootError::NotRegular { .. })
        ));
    }
}
