//! `/etc/fstab` as util-linux's libmount reads it (`mnt_table_parse_file`,
//! fstab(5)): one filesystem a line, fields separated by blanks (spaces
//! and tabs), `#` at a line's first non-blank character a comment, blank
//! lines skipped; fields: the source (`UUID=…`, `LABEL=…`, `PARTUUID=…`,
//! `PARTLABEL=…`, a device path), the mount point, the type (these three
//! required: a shorter line is skipped, as libmount skips it), the options
//! (none given: `defaults`), the dump frequency and the fsck pass (none
//! given: 0); fields past the sixth are ignored, as libmount ignores them;
//! `\ooo` (three octal digits: `\040` is a space) is the byte it names.
//! Tested against `findmnt --fstab --tab-file` (util-linux).
//!
//! Written here rather than taken from a crate: the fstab crates on
//! crates.io read a path on the host (`/etc/fstab`), not bytes from an
//! image, and none unescapes `\ooo`. A pure function of bytes, bounded by
//! [`MAX_FSTAB`] and [`MAX_ENTRIES`]; fuzz target `fstab`.

/// The largest fstab read (bytes).
pub const MAX_FSTAB: usize = 1 << 20;

/// Most entries kept (the rest are a warning).
pub const MAX_ENTRIES: usize = 4096;

/// One line of fstab that names a filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The source field, unescaped, as written (`UUID=…`, `/dev/xvdb`).
    pub source: Vec<u8>,
    /// The mount point, unescaped.
    pub target: Vec<u8>,
    pub fstype: Vec<u8>,
    /// The options field, unescaped; `None` when the line has none
    /// (libmount then means `defaults`).
    pub options: Option<Vec<u8>>,
    pub freq: u32,
    pub passno: u32,
}

/// What an entry's source names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `UUID=…` or `/dev/disk/by-uuid/…` (lower-cased).
    Uuid(String),
    /// `LABEL=…` or `/dev/disk/by-label/…`.
    Label(Vec<u8>),
    /// `PARTUUID=…` or `/dev/disk/by-partuuid/…` (lower-cased).
    PartUuid(String),
    /// `PARTLABEL=…` or `/dev/disk/by-partlabel/…`.
    PartLabel(Vec<u8>),
    /// Another path under `/dev` (`/dev/xvdb1`, `/dev/nvme1n1p1`,
    /// `/dev/mapper/vg-lv`).
    Device(Vec<u8>),
    /// Anything else (`none`, `tmpfs`, `server:/export`).
    Other(Vec<u8>),
}

/// What a scan does with an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    /// A filesystem to mount at boot.
    Mount,
    /// Swap space (nothing to mount).
    Swap,
    /// A pseudo or memory filesystem (`proc`, `tmpfs`, …): nothing on
    /// disk.
    Pseudo,
    /// `noauto`: not mounted at boot.
    NoAuto,
    /// A network filesystem (`nfs`, `cifs`, …): not in the image.
    Network,
    /// A bind mount: not a filesystem of its own (not done).
    Bind,
    /// Not mountable as written (a mount point that is not an absolute
    /// path, `none`).
    Invalid(String),
}

/// A parsed fstab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fstab {
    pub entries: Vec<Entry>,
    /// Lines that could not be read (line number, why), and limits hit.
    pub warnings: Vec<String>,
}

const PSEUDO: &[&[u8]] = &[
    b"proc",
    b"sysfs",
    b"tmpfs",
    b"ramfs",
    b"devtmpfs",
    b"devpts",
    b"cgroup",
    b"cgroup2",
    b"securityfs",
    b"debugfs",
    b"tracefs",
    b"hugetlbfs",
    b"mqueue",
    b"pstore",
    b"efivarfs",
    b"bpf",
    b"configfs",
    b"fusectl",
    b"binfmt_misc",
    b"autofs",
    b"rpc_pipefs",
    b"nfsd",
    b"selinuxfs",
    b"overlay",
    b"none",
];

const NETWORK: &[&[u8]] = &[
    b"nfs",
    b"nfs4",
    b"cifs",
    b"smb3",
    b"smbfs",
    b"ceph",
    b"glusterfs",
    b"sshfs",
    b"9p",
    b"afs",
    b"efs",
    b"lustre",
];

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// libmount's `unmangle`: `\` and three octal digits is that byte; any
/// other `\` stays.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && let Some(d) = s.get(i + 1..i + 4)
            && d.iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (u32::from(d[0] - b'0') << 6)
                | (u32::from(d[1] - b'0') << 3)
                | u32::from(d[2] - b'0');
            out.push((v & 0xff) as u8);
            i += 4;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// A leading run of decimal digits, as `strtol` reads one (none: 0).
fn number(field: Option<&[u8]>) -> Result<u32, String> {
    let Some(f) = field else { return Ok(0) };
    let digits: &[u8] = {
        let n = f.iter().take_while(|b| b.is_ascii_digit()).count();
        &f[..n]
    };
    if digits.len() != f.len() {
        return Err(format!("{:?} is not a number", String::from_utf8_lossy(f)));
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or_else(|| format!("{:?} is out of range", String::from_utf8_lossy(f)))
}

/// Parses fstab's bytes (past [`MAX_FSTAB`], the rest is a warning).
pub fn parse(bytes: &[u8]) -> Fstab {
    let mut out = Fstab::default();
    let bytes = if bytes.len() > MAX_FSTAB {
        out.warnings.push(format!(
            "fstab is longer than {MAX_FSTAB} bytes: the rest is not read"
        ));
        &bytes[..MAX_FSTAB]
    } else {
        bytes
    };
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut fields = line.split(|&b| is_blank(b)).filter(|f| !f.is_empty());
        let Some(first) = fields.next() else { continue };
        if first.first() == Some(&b'#') {
            continue;
        }
        let Some(target) = fields.next() else {
            out.warnings
                .push(format!("line {n}: a source without a mount point: skipped"));
            continue;
        };
        let Some(fstype) = fields.next() else {
            out.warnings
                .push(format!("line {n}: no filesystem type: skipped"));
            continue;
        };
        let options = fields.next();
        let freq = number(fields.next());
        let passno = number(fields.next());
        let (freq, passno) = match (freq, passno) {
            (Ok(f), Ok(p)) => (f, p),
            (Err(e), _) | (_, Err(e)) => {
                out.warnings.push(format!("line {n}: {e}: skipped"));
                continue;
            }
        };
        if out.entries.len() >= MAX_ENTRIES {
            out.warnings.push(format!(
                "more than {MAX_ENTRIES} entries: line {n} and after are not read"
            ));
            break;
        }
        out.entries.push(Entry {
            line: n,
            source: unescape(first),
            target: unescape(target),
            fstype: unescape(fstype),
            options: options.map(unescape),
            freq,
            passno,
        });
    }
    out
}

/// A tag's value without the quotes it may have (`LABEL="my data"`).
fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [b'"', inner @ .., b'"'] | [b'\'', inner @ .., b'\''] => inner,
        _ => v,
    }
}

/// udev's escaping of `/dev/disk/by-label/` names (`\x20` is a space).
fn unhex(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && s.get(i + 1) == Some(&b'x')
            && let Some(h) = s.get(i + 2..i + 4)
            && let Ok(t) = std::str::from_utf8(h)
            && let Ok(v) = u8::from_str_radix(t, 16)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn lower(v: &[u8]) -> String {
    String::from_utf8_lossy(v).to_ascii_lowercase()
}

impl Entry {
    /// What the source names.
    pub fn source(&self) -> Source {
        let s = self.source.as_slice();
        let tag = |p: &[u8]| s.strip_prefix(p).map(unquote);
        let by = |p: &[u8]| s.strip_prefix(p).map(unhex);
        if let Some(v) = tag(b"UUID=") {
            Source::Uuid(lower(v))
        } else if let Some(v) = by(b"/dev/disk/by-uuid/") {
            Source::Uuid(lower(&v))
        } else if let Some(v) = tag(b"LABEL=") {
            Source::Label(v.to_vec())
        } else if let Some(v) = by(b"/dev/disk/by-label/") {
            Source::Label(v)
        } else if let Some(v) = tag(b"PARTUUID=") {
            Source::PartUuid(lower(v))
        } else if let Some(v) = by(b"/dev/disk/by-partuuid/") {
            Source::PartUuid(lower(&v))
        } else if let Some(v) = tag(b"PARTLABEL=") {
            Source::PartLabel(v.to_vec())
        } else if let Some(v) = by(b"/dev/disk/by-partlabel/") {
            Source::PartLabel(v)
        } else if s.starts_with(b"/dev/") {
            Source::Device(s.to_vec())
        } else {
            Source::Other(s.to_vec())
        }
    }

    /// The options, `defaults` when none are given.
    pub fn options(&self) -> Vec<&[u8]> {
        match &self.options {
            Some(o) => o.split(|&b| b == b',').filter(|x| !x.is_empty()).collect(),
            None => vec![b"defaults".as_slice()],
        }
    }

    /// What a booted system does with it.
    pub fn use_(&self) -> Use {
        let t = self.fstype.as_slice();
        let opts = self.options();
        if t == b"swap" || self.target == b"swap" {
            return Use::Swap;
        }
        if PSEUDO.contains(&t) {
            return Use::Pseudo;
        }
        if NETWORK.contains(&t) || t.starts_with(b"fuse.") || t.starts_with(b"fuse") {
            return Use::Network;
        }
        if opts.iter().any(|o| *o == b"bind" || *o == b"rbind") {
            return Use::Bind;
        }
        if opts.contains(&b"noauto".as_slice()) {
            return Use::NoAuto;
        }
        if self.target == b"none" {
            return Use::Invalid("mount point `none`".into());
        }
        if self.target.first() != Some(&b'/') {
            return Use::Invalid(format!(
                "mount point {:?} is not an absolute path",
                String::from_utf8_lossy(&self.target)
            ));
        }
        Use::Mount
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_what_blkid_and_udev_name() {
        let f = parse(
            b"UUID=\"ABCD-1234\" /a ext4\n/dev/disk/by-label/my\\x20data /b xfs\n\
              PARTUUID=0FC63DAF-x /c ext4\nPARTLABEL=root /d ext4\n/dev/xvdb /e xfs\n\
              tmpfs /tmp tmpfs\n",
        );
        let s: Vec<Source> = f.entries.iter().map(Entry::source).collect();
        assert_eq!(
            s,
            vec![
                Source::Uuid("abcd-1234".into()),
                Source::Label(b"my data".to_vec()),
                Source::PartUuid("0fc63daf-x".into()),
                Source::PartLabel(b"root".to_vec()),
                Source::Device(b"/dev/xvdb".to_vec()),
                Source::Other(b"tmpfs".to_vec()),
            ]
        );
    }

    #[test]
    fn uses() {
        let f = parse(
            b"/dev/a none swap sw\n/dev/b /x ext4 defaults,noauto\nproc /proc proc\n\
              srv:/e /n nfs4\n/a /b none bind\n/dev/c rel ext4\n/dev/d /m ext4\n",
        );
        let u: Vec<Use> = f.entries.iter().map(Entry::use_).collect();
        assert_eq!(u[0], Use::Swap);
        assert_eq!(u[1], Use::NoAuto);
        assert_eq!(u[2], Use::Pseudo);
        assert_eq!(u[3], Use::Network);
        assert_eq!(u[4], Use::Pseudo, "type none is nothing on disk");
        assert!(matches!(u[5], Use::Invalid(_)));
        assert_eq!(u[6], Use::Mount);
    }
}
