//! `rpm -V` semantics, applied to the index instead of the live filesystem.
//!
//! This follows librpm 4.18's `rpmfilesVerify` and `verifyHeader`
//! (lib/verify.c) test by test, so that `bakeproof verify-packages` prints
//! exactly what `rpm -Va` prints: the file states that skip verification,
//! the per-file `%verify` flags, which attributes apply to links, non-regular
//! files and `%ghost`s, user and group matching by name *or* id, the mtime
//! filter for files shared by several packages, and the `missingok`/`ghost`
//! rule for missing files.

use std::collections::HashMap;

use bakeproof_index::{Entry, FileCaps, FileKind};
use bakeproof_pkgdb::PackageFile;

/// `RPMVERIFY_*` bits (rpmvf.h).
pub mod bits {
    pub const FILEDIGEST: u32 = 1 << 0;
    pub const FILESIZE: u32 = 1 << 1;
    pub const LINKTO: u32 = 1 << 2;
    pub const USER: u32 = 1 << 3;
    pub const GROUP: u32 = 1 << 4;
    pub const MTIME: u32 = 1 << 5;
    pub const MODE: u32 = 1 << 6;
    pub const RDEV: u32 = 1 << 7;
    pub const CAPS: u32 = 1 << 8;
    pub const READLINKFAIL: u32 = 1 << 28;
    pub const READFAIL: u32 = 1 << 29;
    pub const LSTATFAIL: u32 = 1 << 30;
    /// Everything `rpm -V` checks by default.
    pub const ALL: u32 = !0;
    pub const FAILURES: u32 = READLINKFAIL | READFAIL | LSTATFAIL;
}

/// `RPMFILE_*` attribute bits (rpmfiles.h).
pub mod fflags {
    pub const CONFIG: u32 = 1 << 0;
    pub const DOC: u32 = 1 << 1;
    pub const MISSINGOK: u32 = 1 << 3;
    pub const NOREPLACE: u32 = 1 << 4;
    pub const SPECFILE: u32 = 1 << 5;
    pub const GHOST: u32 = 1 << 6;
    pub const LICENSE: u32 = 1 << 7;
    pub const README: u32 = 1 << 8;
    pub const ARTIFACT: u32 = 1 << 12;
}

/// `RPMFILE_STATE_*`.
mod state {
    pub(super) const REPLACED: u8 = 1;
    pub(super) const NOTINSTALLED: u8 = 2;
    pub(super) const NETSHARED: u8 = 3;
    pub(super) const WRONGCOLOR: u8 = 4;
}

/// The nine-column string of `rpm -V` (`rpmVerifyString`), `.` as padding.
pub fn verify_string(r: u32) -> String {
    let f = |bit: u32, c: char| if r & bit != 0 { c } else { '.' };
    let mut s = String::with_capacity(9);
    s.push(f(bits::FILESIZE, 'S'));
    s.push(f(bits::MODE, 'M'));
    s.push(if r & bits::READFAIL != 0 {
        '?'
    } else {
        f(bits::FILEDIGEST, '5')
    });
    s.push(f(bits::RDEV, 'D'));
    s.push(if r & bits::READLINKFAIL != 0 {
        '?'
    } else {
        f(bits::LINKTO, 'L')
    });
    s.push(f(bits::USER, 'U'));
    s.push(f(bits::GROUP, 'G'));
    s.push(f(bits::MTIME, 'T'));
    s.push(f(bits::CAPS, 'P'));
    s
}

/// The attribute column of `rpm -V`: the first of `dcsmnglra` that the
/// file's flags set (`rpmFFlagsString`), or a space.
pub fn attr_char(flags: u32) -> char {
    const ORDER: [(u32, char); 9] = [
        (fflags::DOC, 'd'),
        (fflags::CONFIG, 'c'),
        (fflags::SPECFILE, 's'),
        (fflags::MISSINGOK, 'm'),
        (fflags::NOREPLACE, 'n'),
        (fflags::GHOST, 'g'),
        (fflags::LICENSE, 'l'),
        (fflags::README, 'r'),
        (fflags::ARTIFACT, 'a'),
    ];
    ORDER
        .iter()
        .find(|(b, _)| flags & b != 0)
        .map(|(_, c)| *c)
        .unwrap_or(' ')
}

/// Login shells that never give an interactive login (the seventh passwd
/// field of service accounts): the one list the seal checks and the audit
/// use when a root has no `/etc/shells` to say what a login shell is.
pub const NOLOGIN_SHELLS: &[&str] = &[
    "/usr/sbin/nologin",
    "/sbin/nologin",
    "/bin/false",
    "/usr/bin/false",
    "/bin/sync",
    "/usr/bin/sync",
    "/sbin/shutdown",
    "/usr/sbin/shutdown",
    "/sbin/halt",
    "/usr/sbin/halt",
];

/// User and group names of the scanned root (`etc/passwd`, `etc/group`):
/// `rpm --root` resolves them inside the chroot, so must we.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    users: HashMap<String, u32>,
    uids: HashMap<u32, String>,
    groups: HashMap<String, u32>,
    gids: HashMap<u32, String>,
}

impl Accounts {
    /// Parses `passwd` and `group` files (`name:x:id:...` lines; the first
    /// line for a name or id wins, as getpwnam/getpwuid do).
    pub fn parse(passwd: &[u8], group: &[u8]) -> Accounts {
        fn table(b: &[u8]) -> (HashMap<String, u32>, HashMap<u32, String>) {
            let mut by_name = HashMap::new();
            let mut by_id = HashMap::new();
            for line in b.split(|&c| c == b'\n') {
                let line = String::from_utf8_lossy(line);
                let mut it = line.split(':');
                let (Some(name), Some(_), Some(id)) = (it.next(), it.next(), it.next()) else {
                    continue;
                };
                let Ok(id) = id.trim().parse::<u32>() else {
                    continue;
                };
                if name.is_empty() || name.starts_with('#') || name.starts_with('+') {
                    continue;
                }
                by_name.entry(name.to_owned()).or_insert(id);
                by_id.entry(id).or_insert_with(|| name.to_owned());
            }
            (by_name, by_id)
        }
        let (users, uids) = table(passwd);
        let (groups, gids) = table(group);
        Accounts {
            users,
            uids,
            groups,
            gids,
        }
    }

    // rpmug: "root" and id 0 are fixed, whatever the files say.
    fn uname(&self, uid: u32) -> Option<&str> {
        if uid == 0 {
            return Some("root");
        }
        self.uids.get(&uid).map(String::as_str)
    }
    fn uid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.users.get(name).copied()
    }
    fn gname(&self, gid: u32) -> Option<&str> {
        if gid == 0 {
            return Some("root");
        }
        self.gids.get(&gid).map(String::as_str)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.groups.get(name).copied()
    }
}

/// What `rpm -V` concludes for one listed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpmOutcome {
    /// Not verified at all (file state not installed / netshared).
    Skipped,
    /// Absent from disk; `printed` is false for `%ghost` and `missingok`.
    Missing { printed: bool },
    /// Present; the `RPMVERIFY_*` bits that differ (0 = all fine).
    Checked(u32),
}

/// Inputs for one file: the database's view and the index's.
pub struct RpmFileCheck<'a> {
    pub file: &'a PackageFile,
    /// The entry at the listed path (lstat), if any.
    pub entry: Option<&'a Entry>,
    /// The entry a symlink at the listed path resolves to, inside the index.
    pub followed: Option<&'a Entry>,
    /// Hex digest of the entry's content in the file's algorithm, if computed.
    pub digest_hex: Option<&'a str>,
    /// Another package lists the same path (mtime differences are ignored).
    pub shared: bool,
}

fn type_bits(kind: FileKind) -> u32 {
    match kind {
        FileKind::Regular => 0o100000,
        FileKind::Directory => 0o040000,
        FileKind::Symlink => 0o120000,
        FileKind::Fifo => 0o010000,
        FileKind::Socket => 0o140000,
        FileKind::CharDevice => 0o020000,
        FileKind::BlockDevice => 0o060000,
        FileKind::Unknown => 0,
    }
}

/// librpm's `rpmfilesVerify` + the missing/shared-mtime rules of
/// `verifyHeader`.
pub fn verify(c: &RpmFileCheck<'_>, accounts: &Accounts) -> RpmOutcome {
    let f = c.file;
    let attrs = f.flags.unwrap_or(0);
    let mut flags = f.verify_flags.unwrap_or(bits::ALL);
    match f.state {
        Some(state::NOTINSTALLED) | Some(state::NETSHARED) => return RpmOutcome::Skipped,
        Some(state::REPLACED) => flags = bits::LSTATFAIL,
        Some(state::WRONGCOLOR) => {
            flags &= !(bits::FILEDIGEST | bits::FILESIZE | bits::MTIME | bits::RDEV)
        }
        _ => {}
    }
    let Some(mut sb) = c.entry.filter(|e| e.kind != FileKind::Unknown) else {
        return RpmOutcome::Missing {
            printed: attrs & (fflags::MISSINGOK | fflags::GHOST) == 0,
        };
    };
    let fmode = f.mode.unwrap_or(0);
    // A directory in the package that is a symlink to a directory on disk
    // (usrmerge): rpm follows it when the target is root's or the link
    // owner's.
    if sb.kind == FileKind::Symlink
        && fmode & 0o170000 == 0o040000
        && let Some(t) = c.followed
        && t.kind == FileKind::Directory
        && (t.uid == 0 || t.uid == sb.uid)
    {
        sb = t;
    }
    if sb.kind == FileKind::Symlink {
        flags &= !bits::MODE;
    } else {
        flags &= !bits::LINKTO;
    }
    if sb.kind != FileKind::Regular {
        flags &= !(bits::FILEDIGEST | bits::FILESIZE | bits::MTIME | bits::CAPS);
    }
    if attrs & fflags::GHOST != 0 {
        flags &= !(bits::FILEDIGEST | bits::FILESIZE | bits::MTIME | bits::LINKTO);
    }
    flags &= !bits::FAILURES;

    let mut vfy = 0u32;
    if flags & bits::FILEDIGEST != 0 {
        match (&f.digest, c.digest_hex) {
            (Some(want), Some(got)) => {
                if !want.hex.eq_ignore_ascii_case(got) {
                    vfy |= bits::FILEDIGEST;
                }
            }
            (Some(_), None) => vfy |= bits::READFAIL | bits::FILEDIGEST,
            (None, _) => vfy |= bits::FILEDIGEST,
        }
    }
    if flags & bits::LINKTO != 0 {
        let disk = sb.link_target.as_deref().unwrap_or_default();
        let db = f.link_target.as_deref().unwrap_or_default();
        if sb.link_target.is_none() && sb.error.is_some() {
            vfy |= bits::READLINKFAIL | bits::LINKTO;
        } else if disk != db {
            vfy |= bits::LINKTO;
        }
    }
    if flags & bits::FILESIZE != 0 && Some(sb.size) != f.size {
        vfy |= bits::FILESIZE;
    }
    if flags & bits::MODE != 0 {
        let mut meta = fmode & 0xffff;
        let mut disk = (type_bits(sb.kind) | sb.mode) & 0xffff;
        if attrs & fflags::GHOST != 0 {
            meta &= !0xf000;
            disk &= !0xf000;
        }
        if meta != disk {
            vfy |= bits::MODE;
        }
    }
    if flags & bits::RDEV != 0 {
        let is_chr = |m: u32| m & 0o170000 == 0o020000;
        let is_blk = |m: u32| m & 0o170000 == 0o060000;
        let dmode = type_bits(sb.kind);
        let type_differs = is_chr(fmode) != is_chr(dmode) || is_blk(fmode) != is_blk(dmode);
        let is_dev = is_chr(fmode) || is_blk(fmode);
        let rdev_differs = (sb.rdev.unwrap_or(0) & 0xffff) as u32 != f.rdev.unwrap_or(0) & 0xffff;
        if type_differs || (is_dev && rdev_differs) {
            vfy |= bits::RDEV;
        }
    }
    if flags & bits::MTIME != 0 && Some(sb.mtime) != f.mtime {
        vfy |= bits::MTIME;
    }
    if flags & bits::USER != 0 {
        let fuser = f.user.as_deref();
        let namematch = matches!((accounts.uname(sb.uid), fuser), (Some(a), Some(b)) if a == b);
        let idmatch = fuser.and_then(|u| accounts.uid(u)) == Some(sb.uid);
        if !(namematch || idmatch) {
            vfy |= bits::USER;
        }
    }
    if flags & bits::GROUP != 0 {
        let fgroup = f.group.as_deref();
        let namematch = matches!((accounts.gname(sb.gid), fgroup), (Some(a), Some(b)) if a == b);
        let idmatch = fgroup.and_then(|g| accounts.gid(g)) == Some(sb.gid);
        if !(namematch || idmatch) {
            vfy |= bits::GROUP;
        }
    }
    if flags & bits::CAPS != 0 {
        // librpm: cap_from_text(FILECAPS) against cap_get_file(), either
        // falling back to "=" (the empty set) when absent or unusable, then
        // cap_compare over the effective, permitted and inheritable sets.
        let want = f
            .caps
            .as_deref()
            .and_then(|t| FileCaps::from_text(t).ok())
            .unwrap_or_default();
        let have = sb
            .capability
            .as_deref()
            .and_then(|b| FileCaps::from_xattr(b).ok())
            .unwrap_or_default();
        if (want.effective, want.permitted, want.inheritable)
            != (have.effective, have.permitted, have.inheritable)
        {
            vfy |= bits::CAPS;
        }
    }
    if c.shared && vfy & bits::MTIME != 0 {
        vfy &= !bits::MTIME;
    }
    RpmOutcome::Checked(vfy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_like_rpm() {
        assert_eq!(
            verify_string(bits::FILESIZE | bits::FILEDIGEST | bits::MTIME),
            "S.5....T."
        );
        assert_eq!(
            verify_string(bits::READFAIL | bits::FILEDIGEST),
            "..?......"
        );
        assert_eq!(attr_char(fflags::CONFIG | fflags::NOREPLACE), 'c');
        assert_eq!(attr_char(fflags::DOC | fflags::CONFIG), 'd');
        assert_eq!(attr_char(0), ' ');
    }

    #[test]
    fn accounts_resolve_names_and_root() {
        let a = Accounts::parse(
            b"root:x:0:0::/root:/bin/sh\napache:x:48:48::/:/sbin/nologin\n",
            b"wheel:x:10:\n",
        );
        assert_eq!(a.uid("apache"), Some(48));
        assert_eq!(a.uname(48), Some("apache"));
        assert_eq!(a.uid("root"), Some(0));
        assert_eq!(a.gid("wheel"), Some(10));
        assert_eq!(Accounts::default().uname(0), Some("root"));
    }
}
