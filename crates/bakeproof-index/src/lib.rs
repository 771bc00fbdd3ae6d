//! Root-confined, parallel filesystem indexer.
//!
//! `bakeproof-index` turns a root directory (the build VM's `/`, or a mounted
//! image) into a flat, sorted list of [`Entry`] values: type, mode, owner,
//! size, mtime, link target and the SHA-256 of every regular file.
//!
//! Three properties drive the design:
//!
//! * **Confinement.** Nothing outside the root is ever opened. The walk works
//!   on directory file descriptors (`openat` with `O_NOFOLLOW`), never on
//!   path strings, so a symlink swapped in during the scan cannot redirect it;
//!   symlinks are recorded, never followed. Paths the *tool* resolves (database
//!   locations, usrmerge links such as `bin -> usr/bin`, absolute links such as
//!   `var/run -> /run`) go through [`Root`], which resolves them inside the root
//!   with `openat2(RESOLVE_IN_ROOT)` semantics. Mount points inside the root
//!   (found by mount ID, so bind mounts of the same filesystem count; see
//!   [`mount`]) are recorded, never entered, unless asked.
//! * **One read per file.** Each regular file is read exactly once, in fixed
//!   size chunks, and every chunk is handed to the SHA-256 state and to any
//!   [`ContentObserver`] (an extra digest for package verification, the seal
//!   secret scan, ...). Memory per file is one chunk, whatever the file size.
//! * **Never block, never lose.** FIFOs, sockets and devices are recorded from
//!   `lstat` and never opened. Files that are unreadable, vanish, or change
//!   while they are read become entries with an [`EntryError`]; the scan goes
//!   on and the caller decides the exit code. [`Root::read_file`] opens a
//!   path `O_PATH` and type-checks it before any real open.
//! * **Bounded.** Paths longer than [`MAX_PATH_LEN`] are not followed, and
//!   one scan's paths share a byte budget ([`ScanOptions::max_path_bytes`]).

pub mod caps;
pub mod mount;
mod root;
mod source;
mod tree;
mod walk;

pub use caps::{CapsError, FileCaps};
pub use root::{MAX_SYMLINK_HOPS, Root, RootError};
pub use source::{Metadata, RangeReader, ReadOnlyTree};
pub use tree::{TREE_DIGEST_VERSION, canonical_line, escape_path, tree_digest};
pub use walk::{
    CHUNK, ContentObserver, ContentSink, DEFAULT_MAX_PATH_BYTES, Excludes, MAX_PATH_LEN, Progress,
    ScanError, ScanOptions, ScanResult, ScanStats, raise_fd_limit, scan, scan_paths,
};

use std::fmt;

/// A path inside the scanned root, as raw bytes, always starting with `/`.
///
/// Bytes, not `String`: Linux file names are arbitrary bytes except `/` and
/// NUL, and an SBOM of an image must be able to name every file losslessly.
pub type RootPath = Vec<u8>;

/// The type of a filesystem entry, from `lstat` (links are never followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Unknown,
}

impl FileKind {
    pub fn from_mode(mode: u32) -> FileKind {
        match mode & 0o170000 {
            0o100000 => FileKind::Regular,
            0o040000 => FileKind::Directory,
            0o120000 => FileKind::Symlink,
            0o010000 => FileKind::Fifo,
            0o140000 => FileKind::Socket,
            0o020000 => FileKind::CharDevice,
            0o060000 => FileKind::BlockDevice,
            _ => FileKind::Unknown,
        }
    }

    /// Stable lower-case name, used in the SBOM and the tree digest.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Regular => "file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Fifo => "fifo",
            FileKind::Socket => "socket",
            FileKind::CharDevice => "char-device",
            FileKind::BlockDevice => "block-device",
            FileKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an entry could not be fully indexed. The entry is still recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryError {
    /// Permission denied or another error opening / reading the file.
    Unreadable(String),
    /// The entry disappeared between listing and reading.
    Vanished,
    /// Size, mtime, ctime or identity changed while the file was read: the
    /// digest would describe no version of the file that ever existed.
    Changed(String),
    /// The directory could not be listed; its children are unknown.
    UnlistableDirectory(String),
    /// The path (this many bytes) is longer than [`MAX_PATH_LEN`]: the entry
    /// is recorded from its `lstat`, not read and not descended into.
    PathTooLong(usize),
}

impl EntryError {
    /// Stable short code, used in the SBOM (`bakeproof:error`).
    pub fn code(&self) -> &'static str {
        match self {
            EntryError::Unreadable(_) => "unreadable",
            EntryError::Vanished => "vanished",
            EntryError::Changed(_) => "changed-during-scan",
            EntryError::UnlistableDirectory(_) => "unlistable-directory",
            EntryError::PathTooLong(_) => "path-too-long",
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::Unreadable(e) => write!(f, "unreadable: {e}"),
            EntryError::Vanished => f.write_str("vanished during scan"),
            EntryError::Changed(e) => write!(f, "changed during scan: {e}"),
            EntryError::UnlistableDirectory(e) => write!(f, "directory not listable: {e}"),
            EntryError::PathTooLong(n) => write!(
                f,
                "path of {n} bytes is longer than {MAX_PATH_LEN} (PATH_MAX): not read, not descended"
            ),
        }
    }
}

/// Why the walk did not descend into a directory it recorded (or, for a
/// bind-mounted file, did not read it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Something is mounted here, another filesystem or a bind mount of the
    /// same one, found by mount ID (the scan stays on ROOT's mount unless
    /// told to cross mounts).
    Mount,
    /// A kernel pseudo filesystem (proc, sysfs, devtmpfs, cgroup...): never
    /// part of an image, never scanned.
    PseudoFilesystem,
    /// `/proc`, `/sys`, `/dev`, `/run` when the root is the running system.
    RuntimeDirectory,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Mount => "mount",
            SkipReason::PseudoFilesystem => "pseudo-filesystem",
            SkipReason::RuntimeDirectory => "runtime-directory",
        }
    }
}

/// A result attached to an entry by a [`ContentObserver`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The observer's [`ContentObserver::name`].
    pub observer: &'static str,
    /// Observer-defined key, e.g. `md5` or a finding kind.
    pub key: String,
    /// Observer-defined value, e.g. a hex digest.
    pub value: String,
}

/// One indexed filesystem entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the root, starting with `/`.
    pub path: RootPath,
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// `st_size` (for symlinks: the target length).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    pub nlink: u64,
    /// Device and inode: identifies hard links within one scan.
    pub dev: u64,
    pub ino: u64,
    /// Device number for character and block devices.
    pub rdev: Option<u64>,
    /// Symlink target bytes, as stored (never resolved).
    pub link_target: Option<Vec<u8>>,
    /// SHA-256 of the content (regular files read without error).
    pub sha256: Option<[u8; 32]>,
    pub error: Option<EntryError>,
    pub skipped: Option<SkipReason>,
    pub annotations: Vec<Annotation>,
    /// Raw `security.capability` extended attribute of a regular file that
    /// has one (read on the descriptor the content is read from; parse it
    /// with [`FileCaps::from_xattr`]).
    pub capability: Option<Vec<u8>>,
}

impl Entry {
    /// The entry of a path with nothing there (any more): kind
    /// [`FileKind::Unknown`], [`EntryError::Vanished`].
    pub fn vanished(path: RootPath) -> Entry {
        Entry {
            path,
            kind: FileKind::Unknown,
            mode: 0,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            nlink: 0,
            dev: 0,
            ino: 0,
            rdev: None,
            link_target: None,
            sha256: None,
            error: Some(EntryError::Vanished),
            skipped: None,
            annotations: Vec::new(),
            capability: None,
        }
    }

    /// The path as text when it is valid UTF-8.
    pub fn path_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.path).ok()
    }

    /// The annotation `key` of observer `observer`, if any.
    pub fn annotation(&self, observer: &str, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|a| a.observer == observer && a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// `path` with `.` and `..` folded and repeated slashes collapsed, without
/// looking at the tree (`..` never climbs above `/`): always absolute. The
/// one lexical normaliser of root paths (symlink targets in the
/// inventory's join, RECORD paths in the ecosystems' catalog); resolving
/// the result inside the root is the caller's business.
pub fn normalize_lexically(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Lossless text form of a root path: UTF-8 stays as is; a path with other
/// bytes is percent-encoded (`%` itself and every non-UTF-8 byte as `%XX`).
/// [`decode_path`] inverts it. Only non-UTF-8 paths change, so ordinary
/// paths are readable.
pub fn encode_path(path: &[u8]) -> String {
    match std::str::from_utf8(path) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(path.len() + 8);
            for chunk in path.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if c == '%' {
                        out.push_str("%25");
                    } else {
                        out.push(c);
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
    }
}

/// Inverse of [`encode_path`] for strings that [`is_path_encoded`] says were
/// percent-encoded.
pub fn decode_path(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Whether [`encode_path`] had to percent-encode this path.
pub fn is_path_encoded(path: &[u8]) -> bool {
    std::str::from_utf8(path).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_encoding_roundtrips_non_utf8() {
        let p = b"/tmp/caf\xe9%20/x".to_vec();
        let e = encode_path(&p);
        assert_eq!(e, "/tmp/caf%E9%2520/x");
        assert_eq!(decode_path(&e).unwrap(), p);
        assert!(is_path_encoded(&p));
        assert_eq!(encode_path(b"/usr/bin/100%"), "/usr/bin/100%");
    }

    #[test]
    fn kinds_from_mode() {
        assert_eq!(FileKind::from_mode(0o100644), FileKind::Regular);
        assert_eq!(FileKind::from_mode(0o120777), FileKind::Symlink);
        assert_eq!(FileKind::from_mode(0o010644), FileKind::Fifo);
    }
}

#[cfg(test)]
mod normalize_tests {
    #[test]
    fn normalizes_lexically() {
        use super::normalize_lexically as n;
        assert_eq!(n(b"/usr/bin/../lib/./x"), b"/usr/lib/x");
        assert_eq!(n(b"/../.."), b"/");
        assert_eq!(n(b"a//b/"), b"/a/b");
        assert_eq!(n(b""), b"/");
    }
}
