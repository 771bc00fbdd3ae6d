//! Trusted keys: the set of public keys a verifier accepts signatures from,
//! keyed by key id. [`crate::VerifyPolicy`] holds a set, and
//! [`crate::verify_bundle`] picks the key a bundle names (its hint or its
//! signature's key id) from it, so no caller loops over keys.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::keys::{KeyError, PublicKey};

/// Largest public key file read (a PEM P-256 key is under 200 bytes).
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Why a set of trusted keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Key { path: PathBuf, source: KeyError },
    #[error("{}: larger than {MAX_KEY_FILE} bytes: not a public key", path.display())]
    TooLarge { path: PathBuf },
    #[error("{}: unreadable key directory: {source}", dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// Nothing to trust: no file given, or no `*.pub` in the directory.
    #[error("no trusted keys")]
    Empty,
}

/// A set of trusted public keys, keyed by key id (each key once).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: BTreeMap<String, PublicKey>,
}

impl From<PublicKey> for TrustedKeys {
    fn from(k: PublicKey) -> Self {
        let mut s = TrustedKeys::default();
        s.insert(k);
        s
    }
}

impl FromIterator<PublicKey> for TrustedKeys {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut s = TrustedKeys::default();
        for k in iter {
            s.insert(k);
        }
        s
    }
}

impl TrustedKeys {
    /// Adds a key; false when a key with its id was already there.
    pub fn insert(&mut self, key: PublicKey) -> bool {
        self.keys.insert(key.keyid(), key).is_none()
    }

    /// The key with this key id.
    pub fn get(&self, keyid: &str) -> Option<&PublicKey> {
        self.keys.get(keyid)
    }

    pub fn contains(&self, keyid: &str) -> bool {
        self.keys.contains_key(keyid)
    }

    /// The key ids, sorted.
    pub fn keyids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// The keys, by key id.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.values()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Loads PEM public keys (`cosign.pub`) from files; none given is
    /// [`TrustError::Empty`].
    pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<TrustedKeys, TrustError> {
        let mut s = TrustedKeys::default();
        for p in paths {
            s.insert(read_key(p.as_ref())?);
        }
        if s.is_empty() {
            return Err(TrustError::Empty);
        }
        Ok(s)
    }

    /// Loads every `*.pub` in `dir` (in name order); none there is
    /// [`TrustError::Empty`].
    pub fn load_dir(dir: &Path) -> Result<TrustedKeys, TrustError> {
        let derr = |source| TrustError::Dir {
            dir: dir.to_path_buf(),
            source,
        };
        let mut paths = Vec::new();
        for e in std::fs::read_dir(dir).map_err(derr)? {
            let p = e.map_err(derr)?.path();
            if p.extension().is_some_and(|x| x == "pub") {
                paths.push(p);
            }
        }
        paths.sort();
        Self::load_files(&paths)
    }
}

fn read_key(path: &Path) -> Result<PublicKey, TrustError> {
    let rerr = |source| TrustError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut b = Vec::new();
    std::fs::File::open(path)
        .map_err(rerr)?
        .take(MAX_KEY_FILE + 1)
        .read_to_end(&mut b)
        .map_err(rerr)?;
    if b.len() as u64 > MAX_KEY_FILE {
        return Err(TrustError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    PublicKey::from_pem(&b).map_err(|source| TrustError::Key {
        path: path.to_path_buf(),
        source,
    })
}
