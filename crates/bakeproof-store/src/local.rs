//! Local directory backend: `blobs/sha256/<hex>` written create-only (an
//! `O_EXCL` temporary file, fsynced, then hard-linked to its name: `link`
//! never replaces), `amis/<region>/<ami-id>/index.json` the same way
//! (create-only: of two concurrent publishers exactly one links its index;
//! `--replace` renames over it instead). Readers check every digest.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{
    AmiIndex, AmiRef, BlobPut, IndexPut, IndexWrite, Store, StoreError, blob_key, check_ami,
    check_hex, index_conflict, index_key, sha256_hex, verify_digest,
};

/// A store in a local directory (created on the first write).
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(p: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", p.display()))
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// A new temporary file beside `target` (same directory, so link/rename
    /// stay on one filesystem), created with `O_EXCL`.
    fn temp_beside(target: &Path) -> Result<(PathBuf, File), StoreError> {
        let dir = target.parent().expect("keys have a parent");
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let base = target.file_name().and_then(|n| n.to_str()).unwrap_or("x");
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let name = format!(
                ".tmp.{base}.{}.{}.{nanos}",
                std::process::id(),
                TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let p = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&p) {
                Ok(f) => return Ok((p, f)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&p, e)),
            }
        }
    }

    fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let (tmp, mut f) = Self::temp_beside(target)?;
        let r = f.write_all(bytes).and_then(|()| f.sync_all());
        if let Err(e) = r {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(&tmp, e));
        }
        Ok(tmp)
    }

    fn sync_dir(p: &Path) {
        if let Some(d) = p.parent()
            && let Ok(f) = File::open(d)
        {
            let _ = f.sync_all();
        }
    }

    fn read(&self, key: &str, what: &str) -> Result<Vec<u8>, StoreError> {
        let p = self.path(key);
        match fs::read(&p) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(StoreError::NotFound(format!("{what} ({})", p.display())))
            }
            Err(e) => Err(io_err(&p, e)),
        }
    }
}

impl Store for LocalStore {
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.put_blob_outcome(bytes).map(|o| o.sha256)
    }

    fn put_blob_outcome(&self, bytes: &[u8]) -> Result<BlobPut, StoreError> {
        let hex = sha256_hex(bytes);
        let target = self.path(&blob_key(&hex));
        let exists = |created: bool| -> Result<BlobPut, StoreError> {
            if !created {
                // Create-only: what is there must be this very content.
                let have = fs::read(&target).map_err(|e| io_err(&target, e))?;
                verify_digest(&have, &hex, &format!("blob {}", target.display()))?;
            }
            Ok(BlobPut {
                sha256: hex.clone(),
                created,
            })
        };
        if target.exists() {
            return exists(false);
        }
        let tmp = Self::write_temp(&target, bytes)?;
        let linked = fs::hard_link(&tmp, &target);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                Self::sync_dir(&target);
                exists(true)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => exists(false),
            Err(e) => Err(io_err(&target, e)),
        }
    }

    fn get_blob(&self, sha256_hex: &str) -> Result<Vec<u8>, StoreError> {
        check_hex(sha256_hex)?;
        let key = blob_key(sha256_hex);
        let bytes = self.read(&key, &format!("blob sha256:{sha256_hex}"))?;
        verify_digest(
            &bytes,
            sha256_hex,
            &format!("blob {}", self.path(&key).display()),
        )?;
        Ok(bytes)
    }

    fn put_index(&self, index: &AmiIndex, mode: IndexWrite) -> Result<IndexPut, StoreError> {
        index
            .validate(None)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        // Written last: every blob it names must already be there, whole.
        for e in &index.entries {
            let p = self.path(&blob_key(&e.sha256));
            match fs::metadata(&p) {
                Ok(m) if m.len() == e.size => {}
                Ok(m) => {
                    return Err(StoreError::DigestMismatch(format!(
                        "blob {} has {} bytes, the index says {}",
                        p.display(),
                        m.len(),
                        e.size
                    )));
                }
                Err(err) if err.kind() == ErrorKind::NotFound => {
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
        let target = self.path(&index_key(&index.ami));
        let tmp = Self::write_temp(&target, &index.to_vec())?;
        let outcome = match mode {
            IndexWrite::Replace => {
                let existed = target.exists();
                if let Err(e) = fs::rename(&tmp, &target) {
                    let _ = fs::remove_file(&tmp);
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
            IndexWrite::CreateOnly => match fs::hard_link(&tmp, &target) {
                Ok(()) => IndexPut::Created,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let _ = fs::remove_file(&tmp);
                    let have = self.get_index(&index.ami)?;
                    if &have == index {
                        IndexPut::Unchanged
                    } else {
                        return Err(index_conflict(&have, index, &target.display().to_string()));
                    }
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(io_err(&target, e));
                }
            },
        };
        let _ = fs::remove_file(&tmp);
        Self::sync_dir(&target);
        Ok(outcome)
    }

    fn get_index(&self, ami: &AmiRef) -> Result<AmiIndex, StoreError> {
        check_ami(ami)?;
        let bytes = self.read(
            &index_key(ami),
            &format!("no index for {ami} in this store"),
        )?;
        AmiIndex::from_slice(&bytes, Some(ami))
    }

    fn location(&self) -> String {
        let abs = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        format!("file://{}", abs.display())
    }
}
