//! Mount points, found by mount ID rather than device number.
//!
//! A bind mount of the same filesystem has the same `st_dev` as its parent, so
//! comparing device numbers misses it (and the walk would read, hash, or
//! `seal apply` would delete, whatever the bind mount shows from outside the
//! root). The mount ID does not have that blind spot: every mount, bind
//! mounts included, has its own. It comes from `statx(STATX_MNT_ID)` (Linux
//! 5.8); on older kernels from the `mnt_id:` line of `/proc/self/fdinfo/FD`
//! (Linux 3.15); where neither answers, [`is_mount_point_at`] falls back to
//! comparing device numbers.
//!
//! These functions are the one definition of "mount point" for the walk,
//! for [`crate::Root`] and for anything else that must stay on ROOT's mounts
//! (`seal apply`).

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, Mode, OFlags, Statx, StatxFlags};
use rustix::io::Errno;

/// Where an entry lives: its device number and, when the kernel can tell,
/// the ID of the mount it was reached through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountIdentity {
    /// `st_dev`.
    pub dev: u64,
    /// Mount ID (`statx` `stx_mnt_id` or `/proc/self/fdinfo`); `None` when
    /// the kernel reports neither.
    pub mnt_id: Option<u64>,
}

impl MountIdentity {
    /// Whether `self` is on another mount than `parent`: another mount ID
    /// when both are known, else another device number. (The mount ID
    /// decides when known: overlayfs reports the lower layer's device
    /// number for files, on the overlay's own mount.)
    pub fn differs_from(&self, parent: &MountIdentity) -> bool {
        match (self.mnt_id, parent.mnt_id) {
            (Some(a), Some(b)) => a != b,
            _ => self.dev != parent.dev,
        }
    }
}

/// `statx` flags of every lookup here: never follow the last symlink, never
/// trigger an automount.
const LOOKUP: AtFlags = AtFlags::SYMLINK_NOFOLLOW.union(AtFlags::NO_AUTOMOUNT);

pub(crate) fn statx_mnt_id(stx: &Statx) -> Option<u64> {
    (stx.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(stx.stx_mnt_id)
}

pub(crate) fn statx_dev(stx: &Statx) -> u64 {
    rustix::fs::makedev(stx.stx_dev_major, stx.stx_dev_minor)
}

/// The mount ID of the mount `fd` is on (`None`: the kernel cannot tell).
pub fn mount_id(fd: impl AsFd) -> io::Result<Option<u64>> {
    Ok(identity(fd)?.mnt_id)
}

/// Device number and mount ID of the file `fd` refers to.
pub fn identity(fd: impl AsFd) -> io::Result<MountIdentity> {
    let fd = fd.as_fd();
    match rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID) {
        Ok(stx) => {
            let mnt_id = match statx_mnt_id(&stx) {
                Some(id) => Some(id),
                None => fdinfo_mnt_id(fd),
            };
            Ok(MountIdentity {
                dev: statx_dev(&stx),
                mnt_id,
            })
        }
        Err(Errno::NOSYS) | Err(Errno::PERM) => {
            let st = rustix::fs::fstat(fd)?;
            Ok(MountIdentity {
                dev: st.st_dev,
                mnt_id: fdinfo_mnt_id(fd),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Device number and mount ID of the entry `name` in directory `dir`, as the
/// walk reaches it (a mount point shows the mounted filesystem's root). The
/// last component is not followed and automounts are not triggered.
pub fn identity_at(dir: impl AsFd, name: &[u8]) -> io::Result<MountIdentity> {
    let dir = dir.as_fd();
    let name = OsStr::from_bytes(name);
    match rustix::fs::statx(dir, name, LOOKUP, StatxFlags::MNT_ID) {
        Ok(stx) => match statx_mnt_id(&stx) {
            Some(id) => Ok(MountIdentity {
                dev: statx_dev(&stx),
                mnt_id: Some(id),
            }),
            None => identity_by_opath(dir, name, statx_dev(&stx)),
        },
        Err(Errno::NOSYS) | Err(Errno::PERM) => {
            let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
            identity_by_opath(dir, name, st.st_dev)
        }
        Err(e) => Err(e.into()),
    }
}

/// Old kernels: an `O_PATH` descriptor (which opens nothing: no driver, no
/// FIFO end) and its fdinfo.
fn identity_by_opath(
    dir: rustix::fd::BorrowedFd<'_>,
    name: &OsStr,
    dev: u64,
) -> io::Result<MountIdentity> {
    let mnt_id = rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
    .and_then(|fd| fdinfo_mnt_id(fd.as_fd()));
    Ok(MountIdentity { dev, mnt_id })
}

/// Whether `name` in `dir` is a mount point: on another mount (or device)
/// than `dir` itself. Bind mounts of the same filesystem count.
pub fn is_mount_point_at(dir: impl AsFd, name: &[u8]) -> io::Result<bool> {
    let dir = dir.as_fd();
    let parent = identity(dir)?;
    Ok(identity_at(dir, name)?.differs_from(&parent))
}

/// The `mnt_id:` line of `/proc/self/fdinfo/FD` (Linux 3.15+).
fn fdinfo_mnt_id(fd: rustix::fd::BorrowedFd<'_>) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_directory_is_no_mount_point() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let dir = std::fs::File::open(t.path()).unwrap();
        assert!(!is_mount_point_at(&dir, b"d").unwrap());
        assert!(!is_mount_point_at(&dir, b"f").unwrap());
        assert!(is_mount_point_at(&dir, b"missing").is_err());
        let a = identity(&dir).unwrap();
        assert_eq!(a, identity_at(&dir, b"d").unwrap());
        // The running kernel reports mount IDs (statx or fdinfo).
        assert!(a.mnt_id.is_some());
        assert_eq!(fdinfo_mnt_id(dir.as_fd()), a.mnt_id);
    }

    #[test]
    fn proc_is_a_mount_point_of_slash() {
        let slash = std::fs::File::open("/").unwrap();
        if std::path::Path::new("/proc/self").exists() {
            assert!(is_mount_point_at(&slash, b"proc").unwrap());
        }
    }

    #[test]
    fn identity_compares_mount_ids_when_known() {
        let a = MountIdentity {
            dev: 1,
            mnt_id: Some(10),
        };
        let same_dev_other_mount = MountIdentity {
            dev: 1,
            mnt_id: Some(11),
        };
        assert!(same_dev_other_mount.differs_from(&a));
        assert!(!a.differs_from(&a));
        let unknown = MountIdentity {
            dev: 1,
            mnt_id: None,
        };
        assert!(!unknown.differs_from(&a));
        let other_dev = MountIdentity {
            dev: 2,
            mnt_id: None,
        };
        assert!(other_dev.differs_from(&a));
        // the mount ID decides when both are known
        let same_mount_other_dev = MountIdentity {
            dev: 2,
            mnt_id: Some(10),
        };
        assert!(!same_mount_other_dev.differs_from(&a));
    }
}
