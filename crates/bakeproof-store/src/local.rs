//! Local directory backend: `blobs/sha256/<hex>` written create-only (an
//! unnamed `O_TMPFILE` file, fsynced, then linked to its name: `link` never
//! replaces), `amis/<region>/<ami-id>/index.json` the same way
//! (create-only: of two concurrent publishers exactly one links its index;
//! `--replace` renames over it instead). Readers check every digest.
//!
//! Only real directories and regular files inside the store directory are
//! used: every component below the store directory is opened relative to
//! its parent with `O_NOFOLLOW` (a symlinked `blobs/sha256` or blob is
//! refused, so neither reads nor writes leave the store), files are opened
//! `O_NONBLOCK` and must be regular (a FIFO or device is refused, nothing
//! blocks), and a read stops at the size limit.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, CWD, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::{
    AmiIndex, AmiRef, BlobPut, IndexPut, IndexWrite, MAX_BLOB_SIZE, MAX_INDEX_SIZE, MAX_LIST_KEYS,
    ObjectTag, ObjectWrite, ReadLimits, Sha256Digest, Store, StoreError, StoredObject, check_hex,
    check_object_key, index_conflict, too_large, verify_digest,
};

/// A store in a local directory (created on the first write).
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    limits: ReadLimits,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

const BLOB_DIR: [&str; 2] = ["blobs", "sha256"];
const INDEX_FILE: &str = "index.json";
/// The lock file a compare-and-swap write holds (`flock`), in the store
/// directory (a dot-file: never a key).
const LOCK_FILE: &str = ".lock";

/// A checked object key → its directory components and file name.
fn split_key(key: &str) -> (Vec<&str>, &str) {
    let mut comps: Vec<&str> = key.split('/').collect();
    let name = comps.pop().unwrap_or(key);
    (comps, name)
}

fn io_err(p: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(format!("{}: {e}", p.display()))
}

fn file_mode() -> Mode {
    Mode::from_raw_mode(0o666)
}

/// A file written and fsynced, not yet given its final name.
enum Temp {
    /// `O_TMPFILE`: it has no name, so a crash or kill leaves nothing.
    Unnamed(OwnedFd),
    /// Fallback where `O_TMPFILE` is unsupported: an `O_EXCL` name.
    Named(String),
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore {
            root: root.into(),
            limits: ReadLimits::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn shown(&self, comps: &[&str]) -> PathBuf {
        comps.iter().fold(self.root.clone(), |p, c| p.join(c))
    }

    /// Opens the directory `comps` below the store directory, each
    /// component relative to its parent with `O_NOFOLLOW`; `create` makes
    /// missing ones. `Ok(None)`: a component does not exist (reading).
    fn open_dir(&self, comps: &[&str], create: bool) -> Result<Option<OwnedFd>, StoreError> {
        let dflags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if create {
            std::fs::create_dir_all(&self.root).map_err(|e| io_err(&self.root, e))?;
        }
        // The store directory itself is the caller's path (it may be a symlink).
        let mut dir = match rustix::fs::open(&self.root, dflags, Mode::empty()) {
            Ok(d) => d,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(io_err(&self.root, e)),
        };
        for (i, c) in comps.iter().enumerate() {
            let shown = || self.shown(&comps[..=i]);
            let open =
                |d: &OwnedFd| rustix::fs::openat(d, *c, dflags | OFlags::NOFOLLOW, Mode::empty());
            let next = match open(&dir) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&dir, *c, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(io_err(&shown(), e)),
                    }
                    open(&dir)
                }
                r => r,
            };
            dir = match next {
                Ok(d) => d,
                Err(Errno::NOENT) => return Ok(None),
                Err(Errno::LOOP | Errno::NOTDIR) => {
                    return Err(StoreError::Corrupt(format!(
                        "{}: a symlink or not a directory (the store uses only real directories inside {})",
                        shown().display(),
                        self.root.display()
                    )));
                }
                Err(e) => return Err(io_err(&shown(), e)),
            };
        }
        Ok(Some(dir))
    }

    /// Reads the regular file `name` in `dir` (no symlink, no FIFO or
    /// device: opened `O_NOFOLLOW | O_NONBLOCK`, then checked with `fstat`),
    /// at most `limit` bytes. `Ok(None)`: it does not exist.
    fn read_in(
        dir: &OwnedFd,
        name: &str,
        limit: u64,
        shown: &Path,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP) => {
                return Err(StoreError::Corrupt(format!(
                    "{}: a symlink (the store reads only regular files inside its directory)",
                    shown.display()
                )));
            }
            Err(e) => return Err(io_err(shown, e)),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| io_err(shown, e))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(StoreError::Corrupt(format!(
                "{}: not a regular file (the store reads only regular files)",
                shown.display()
            )));
        }
        let what = shown.display().to_string();
        if st.st_size as u64 > limit {
            return Err(too_large(&what, limit));
        }
        let mut bytes = Vec::with_capacity(st.st_size as usize);
        File::from(fd)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_err(shown, e))?;
        if bytes.len() as u64 > limit {
            return Err(too_large(&what, limit));
        }
        Ok(Some(bytes))
    }

    fn read(
        &self,
        dir: &[&str],
        name: &str,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, StoreError> {
        let mut comps = dir.to_vec();
        comps.push(name);
        let shown = self.shown(&comps);
        let not_found = || StoreError::NotFound(format!("{what} ({})", shown.display()));
        let Some(d) = self.open_dir(dir, false)? else {
            return Err(not_found());
        };
        Self::read_in(&d, name, limit, &shown)?.ok_or_else(not_found)
    }

    /// Writes `bytes` to a new file in `dir`, fsynced, without a name if the
    /// filesystem allows (`O_TMPFILE`), else under an `O_EXCL` temporary name.
    fn write_temp(
        dir: &OwnedFd,
        base: &str,
        bytes: &[u8],
        shown: &Path,
    ) -> Result<Temp, StoreError> {
        let wflags = OFlags::WRONLY | OFlags::CLOEXEC;
        let (fd, temp) = match rustix::fs::openat(dir, ".", wflags | OFlags::TMPFILE, file_mode()) {
            // Linking an unnamed file goes through /proc/self/fd; without
            // /proc, fall back to a name.
            Ok(fd) if Path::new("/proc/self/fd").is_dir() => {
                let dup = fd.try_clone().map_err(|e| io_err(shown, e))?;
                (fd, Temp::Unnamed(dup))
            }
            _ => {
                let (fd, name) = Self::create_named(dir, base, shown)?;
                (fd, Temp::Named(name))
            }
        };
        let mut f = File::from(fd);
        if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
            Self::discard(dir, &temp);
            return Err(io_err(shown, e));
        }
        Ok(temp)
    }

    fn create_named(
        dir: &OwnedFd,
        base: &str,
        shown: &Path,
    ) -> Result<(OwnedFd, String), StoreError> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        loop {
            let name = Self::temp_name(base);
            match rustix::fs::openat(dir, name.as_str(), flags, file_mode()) {
                Ok(fd) => return Ok((fd, name)),
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(io_err(&shown.with_file_name(&name), e)),
            }
        }
    }

    fn temp_name(base: &str) -> String {
        format!(
            ".tmp.{base}.{}.{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Gives `temp` the name `name` in `dir`; fails with `EEXIST` rather than
    /// replace.
    fn link(dir: &OwnedFd, temp: &Temp, name: &str) -> rustix::io::Result<()> {
        match temp {
            Temp::Unnamed(fd) => {
                let proc = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd));
                rustix::fs::linkat(CWD, proc.as_str(), dir, name, AtFlags::SYMLINK_FOLLOW)
            }
            Temp::Named(t) => rustix::fs::linkat(dir, t.as_str(), dir, name, AtFlags::empty()),
        }
    }

    /// Atomically replaces (or creates) `name` in `dir` with `temp`.
    fn replace(dir: &OwnedFd, temp: &Temp, base: &str, name: &str) -> rustix::io::Result<()> {
        let named = match temp {
            Temp::Named(t) => t.clone(),
            Temp::Unnamed(_) => loop {
                let t = Self::temp_name(base);
                match Self::link(dir, temp, &t) {
                    Ok(()) => break t,
                    Err(Errno::EXIST) => continue,
                    Err(e) => return Err(e),
                }
            },
        };
        let r = rustix::fs::renameat(dir, named.as_str(), dir, name);
        if r.is_err() {
            let _ = rustix::fs::unlinkat(dir, named.as_str(), AtFlags::empty());
        }
        r
    }

    fn discard(dir: &OwnedFd, temp: &Temp) {
        if let Temp::Named(t) = temp {
            let _ = rustix::fs::unlinkat(dir, t.as_str(), AtFlags::empty());
        }
    }

    fn sync(dir: &OwnedFd) {
        let _ = rustix::fs::fsync(dir.as_fd());
    }

    fn index_dir(ami: &AmiRef) -> [&str; 3] {
        ["amis", ami.region(), ami.ami_id()]
    }

    /// Takes the store's lock file (`<root>/.lock`, `flock` exclusive),
    /// held until the returned descriptor is dropped: what makes a
    /// compare-and-swap write atomic against other writers of the store.
    /// `None`: the store directory does not exist (nothing to swap).
    fn lock(&self) -> Result<Option<OwnedFd>, StoreError> {
        let shown = self.root.join(LOCK_FILE);
        let Some(root) = self.open_dir(&[], false)? else {
            return Ok(None);
        };
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&root, LOCK_FILE, flags, Mode::from_raw_mode(0o644))
            .map_err(|e| io_err(&shown, e))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| io_err(&shown, e))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(StoreError::Corrupt(format!(
                "{}: not a regular file",
                shown.display()
            )));
        }
        rustix::fs::flock(&fd, FlockOperation::LockExclusive).map_err(|e| io_err(&shown, e))?;
        Ok(Some(fd))
    }

    /// Appends every key below `dir` (whose key prefix is `prefix`) to
    /// `keys`: regular files and real directories only (opened relative to
    /// their parent with `O_NOFOLLOW`; symlinks, FIFOs and devices are
    /// skipped, never followed), names that are not key components (the
    /// backend's own dot-files: temporaries, the lock) skipped.
    fn list_in(
        &self,
        dir: &OwnedFd,
        prefix: &str,
        keys: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        let shown = || self.root.join(prefix);
        let entries = rustix::fs::Dir::read_from(dir).map_err(|e| io_err(&shown(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&shown(), e))?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            let key = format!("{prefix}{name}");
            if name == "." || name == ".." || check_object_key(&key, false).is_err() {
                continue;
            }
            let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                // Removed while listing.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(io_err(&self.root.join(&key), e)),
            };
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => {
                    if keys.len() >= MAX_LIST_KEYS {
                        return Err(StoreError::Corrupt(format!(
                            "{}: more than {MAX_LIST_KEYS} keys: not listed further",
                            self.root.display()
                        )));
                    }
                    keys.push(key);
                }
                FileType::Directory => {
                    let sub = format!("{key}/");
                    if check_object_key(&sub, true).is_err() {
                        continue;
                    }
                    let dflags =
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    match rustix::fs::openat(dir, name, dflags, Mode::empty()) {
                        Ok(d) => self.list_in(&d, &sub, keys)?,
                        Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => continue,
                        Err(e) => return Err(io_err(&self.root.join(&key), e)),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn get_blob_limited(&self, sha256_hex: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        check_hex(sha256_hex)?;
        let shown = self.shown(&[BLOB_DIR[0], BLOB_DIR[1], sha256_hex]);
        let bytes = self.read(
            &BLOB_DIR,
            sha256_hex,
            limit,
            &format!("blob sha256:{sha256_hex}"),
        )?;
        verify_digest(&bytes, sha256_hex, &format!("blob {}", shown.display()))?;
        Ok(bytes)
    }
}

impl Store for LocalStore {
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.put_blob_outcome(bytes).map(|o| o.sha256)
    }

    fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        mode: ObjectWrite,
    ) -> Result<ObjectTag, StoreError> {
        check_object_key(key, false)?;
        let (dir_comps, name) = split_key(key);
        let shown = self.shown(&key.split('/').collect::<Vec<_>>());
        let tag = ObjectTag(Sha256Digest::of(bytes).to_string());
        match mode {
            ObjectWrite::CreateOnly => {
                let dir = self
                    .open_dir(&dir_comps, true)?
                    .ok_or_else(|| io_err(&shown, "directory vanished"))?;
                let temp = Self::write_temp(&dir, name, bytes, &shown)?;
                // `link` never replaces: of concurrent writers exactly one
                // gives the object its name.
                let linked = Self::link(&dir, &temp, name);
                Self::discard(&dir, &temp);
                match linked {
                    Ok(()) => {
                        Self::sync(&dir);
                        Ok(tag)
                    }
                    Err(Errno::EXIST) => Err(StoreError::Conflict(format!(
                        "{}: already exists (create-only)",
                        shown.display()
                    ))),
                    Err(e) => Err(io_err(&shown, e)),
                }
            }
            ObjectWrite::IfMatch(want) => {
                let not_found =
                    || StoreError::NotFound(format!("{} (compare and swap)", shown.display()));
                // Held around compare and rename: no other writer of this
                // store changes an object in between.
                let _lock = self.lock()?.ok_or_else(not_found)?;
                let dir = self.open_dir(&dir_comps, false)?.ok_or_else(not_found)?;
                let have =
                    Self::read_in(&dir, name, MAX_BLOB_SIZE, &shown)?.ok_or_else(not_found)?;
                let have_tag = Sha256Digest::of(&have).to_string();
                if have_tag != want.0 {
                    return Err(StoreError::Conflict(format!(
                        "{}: changed since it was read (sha256 {have_tag}, expected {})",
                        shown.display(),
                        want.0
                    )));
                }
                let temp = Self::write_temp(&dir, name, bytes, &shown)?;
                if let Err(e) = Self::replace(&dir, &temp, name, name) {
                    Self::discard(&dir, &temp);
                    return Err(io_err(&shown, e));
                }
                Self::sync(&dir);
                Ok(tag)
            }
        }
    }

    fn get_object(&self, key: &str, max_len: u64) -> Result<StoredObject, StoreError> {
        check_object_key(key, false)?;
        let (dir_comps, name) = split_key(key);
        let bytes = self.read(&dir_comps, name, max_len, &format!("object {key}"))?;
        let tag = ObjectTag(Sha256Digest::of(&bytes).to_string());
        Ok(StoredObject { bytes, tag })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        check_object_key(prefix, true)?;
        let comps: Vec<&str> = prefix.split('/').filter(|c| !c.is_empty()).collect();
        let Some(dir) = self.open_dir(&comps, false)? else {
            return Ok(Vec::new());
        };
        let mut keys = Vec::new();
        self.list_in(&dir, prefix, &mut keys)?;
        keys.sort();
        Ok(keys)
    }

    fn put_blob_outcome(&self, bytes: &[u8]) -> Result<BlobPut, StoreError> {
        let hex = Sha256Digest::of(bytes).to_string();
        let shown = self.shown(&[BLOB_DIR[0], BLOB_DIR[1], &hex]);
        let dir = self
            .open_dir(&BLOB_DIR, true)?
            .ok_or_else(|| io_err(&shown, "directory vanished"))?;
        let exists = |created: bool| -> Result<BlobPut, StoreError> {
            if !created {
                // Create-only: what is there must be this very content.
                let have = Self::read_in(&dir, &hex, bytes.len() as u64, &shown)?
                    .ok_or_else(|| io_err(&shown, "vanished"))?;
                verify_digest(&have, &hex, &format!("blob {}", shown.display()))?;
            }
            Ok(BlobPut {
                sha256: hex.clone(),
                created,
            })
        };
        match rustix::fs::statat(&dir, hex.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if st.st_size as u64 != bytes.len() as u64 => {
                return Err(StoreError::DigestMismatch(format!(
                    "blob {}: {} bytes stored under the digest of {} bytes (tampered or corrupt object)",
                    shown.display(),
                    st.st_size,
                    bytes.len()
                )));
            }
            Ok(_) => return exists(false),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(io_err(&shown, e)),
        }
        let temp = Self::write_temp(&dir, &hex, bytes, &shown)?;
        let linked = Self::link(&dir, &temp, &hex);
        Self::discard(&dir, &temp);
        match linked {
            Ok(()) => {
                Self::sync(&dir);
                exists(true)
            }
            Err(Errno::EXIST) => exists(false),
            Err(e) => Err(io_err(&shown, e)),
        }
    }

    fn get_blob_bounded(&self, sha256_hex: &str, max_len: u64) -> Result<Vec<u8>, StoreError> {
        self.get_blob_limited(sha256_hex, max_len)
    }

    fn get_blob(&self, sha256_hex: &str) -> Result<Vec<u8>, StoreError> {
        self.get_blob_limited(sha256_hex, self.limits.limit(sha256_hex))
    }

    fn put_index(&self, index: &AmiIndex, mode: IndexWrite) -> Result<IndexPut, StoreError> {
        index
            .validate(None)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        // Written last: every blob it names must already be there, whole.
        let blobs = self.open_dir(&BLOB_DIR, false)?;
        for e in &index.entries {
            let p = self.shown(&[BLOB_DIR[0], BLOB_DIR[1], &e.sha256]);
            let st = match &blobs {
                None => Err(Errno::NOENT),
                Some(d) => rustix::fs::statat(d, e.sha256.as_str(), AtFlags::SYMLINK_NOFOLLOW),
            };
            match st {
                Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
                    return Err(StoreError::Corrupt(format!(
                        "blob {}: not a regular file",
                        p.display()
                    )));
                }
                Ok(st) if st.st_size as u64 == e.size => {}
                Ok(st) => {
                    return Err(StoreError::DigestMismatch(format!(
                        "blob {} has {} bytes, the index says {}",
                        p.display(),
                        st.st_size,
                        e.size
                    )));
                }
                Err(Errno::NOENT) => {
                    return Err(StoreError::NotFound(format!(
                        "blob sha256:{} named by the index of {} ({}): not writing an index that names a missing blob",
                        e.sha256,
                        index.ami,
                        p.display()
                    )));
                }
                Err(err) => return Err(io_err(&p, err)),
            }
        }
        let comps = Self::index_dir(&index.ami);
        let target = self.shown(&[comps[0], comps[1], comps[2], INDEX_FILE]);
        let dir = self
            .open_dir(&comps, true)?
            .ok_or_else(|| io_err(&target, "directory vanished"))?;
        let temp = Self::write_temp(&dir, INDEX_FILE, &index.to_vec(), &target)?;
        let outcome = match mode {
            IndexWrite::Replace => {
                let existed =
                    rustix::fs::statat(&dir, INDEX_FILE, AtFlags::SYMLINK_NOFOLLOW).is_ok();
                if let Err(e) = Self::replace(&dir, &temp, INDEX_FILE, INDEX_FILE) {
                    Self::discard(&dir, &temp);
                    return Err(io_err(&target, e));
                }
                if existed {
                    IndexPut::Replaced
                } else {
                    IndexPut::Created
                }
            }
            // `link` fails with EEXIST instead of replacing: of concurrent
            // publishers exactly one creates the index.
            IndexWrite::CreateOnly => {
                let linked = Self::link(&dir, &temp, INDEX_FILE);
                Self::discard(&dir, &temp);
                match linked {
                    Ok(()) => IndexPut::Created,
                    Err(Errno::EXIST) => {
                        let have = self.get_index(&index.ami)?;
                        if &have == index {
                            IndexPut::Unchanged
                        } else {
                            return Err(index_conflict(
                                &have,
                                index,
                                &target.display().to_string(),
                            ));
                        }
                    }
                    Err(e) => return Err(io_err(&target, e)),
                }
            }
        };
        Self::sync(&dir);
        Ok(outcome)
    }

    fn get_index(&self, ami: &AmiRef) -> Result<AmiIndex, StoreError> {
        let bytes = self.read(
            &Self::index_dir(ami),
            INDEX_FILE,
            MAX_INDEX_SIZE,
            &format!("no index for {ami} in this store"),
        )?;
        let index = AmiIndex::from_slice(&bytes, Some(ami))?;
        self.limits.learn(&index);
        Ok(index)
    }

    fn location(&self) -> String {
        let abs = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        format!("file://{}", abs.display())
    }
}
