//! The `lifecycle` check (docs/boot.md, docs/lifecycle.md): the AMI's
//! signed lifecycle records and the store's status document
//! ([`bakeproof_lifecycle::boot::check`]), and the seen-version state file
//! that makes a rolled-back status document detectable.
//!
//! The state file (`/var/lib/bakeproof/lifecycle-status.json` by default)
//! holds, per store, the highest status document version accepted:
//! `{"bakeproofLifecycleState": 1, "stores": {"URL": {"version": N,
//! "expires": "..."}}}`. It is read before the check, written (atomically:
//! a temporary file renamed over it) only after the status document was
//! accepted, and never lowered.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bakeproof_lifecycle::State;
use bakeproof_lifecycle::boot::{DeprecatedPolicy, Enforcement};
use serde::{Deserialize, Serialize};

/// Default state file.
pub const DEFAULT_STATUS_STATE: &str = "/var/lib/bakeproof/lifecycle-status.json";
/// Largest state file read (bytes).
const MAX_STATE_SIZE: u64 = 1 << 20;

/// What the `lifecycle` check insists on.
#[derive(Clone, Debug)]
pub struct LifecycleConfig {
    pub enforcement: Enforcement,
    /// Anything but this state fails (`--require approved`).
    pub require: Option<State>,
    pub deprecated: DeprecatedPolicy,
    /// The seen-version state file (`None`: no rollback protection beyond
    /// the status document's expiry).
    pub state_file: Option<PathBuf>,
}

impl Default for LifecycleConfig {
    /// Auto, nothing required, deprecated warns, no state file.
    fn default() -> LifecycleConfig {
        LifecycleConfig {
            enforcement: Enforcement::Auto,
            require: None,
            deprecated: DeprecatedPolicy::Warn,
            state_file: None,
        }
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a bakeproof lifecycle state file: {why}", path.display())]
    Corrupt { path: PathBuf, why: String },
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateDoc {
    #[serde(rename = "bakeproofLifecycleState")]
    format: u32,
    stores: BTreeMap<String, Seen>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    version: u64,
    expires: String,
}

fn read_doc(path: &Path) -> Result<Option<StateDoc>, StateFileError> {
    use std::io::Read as _;
    let io = |source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut bytes = Vec::new();
    f.take(MAX_STATE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let corrupt = |why: String| StateFileError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    if bytes.len() as u64 > MAX_STATE_SIZE {
        return Err(corrupt(format!("larger than {MAX_STATE_SIZE} bytes")));
    }
    let doc: StateDoc = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.format != 1 {
        return Err(corrupt(format!("format {} (1 expected)", doc.format)));
    }
    Ok(Some(doc))
}

/// The highest status version accepted before from `store` (`None`: none,
/// or no state file).
pub fn read_seen(path: &Path, store: &str) -> Result<Option<u64>, StateFileError> {
    Ok(read_doc(path)?.and_then(|d| d.stores.get(store).map(|s| s.version)))
}

/// Records `version` as seen from `store`, unless a higher (or equal) one
/// is recorded already; returns whether the file was written.
pub fn write_seen(
    path: &Path,
    store: &str,
    version: u64,
    expires: &str,
) -> Result<bool, StateFileError> {
    let io = |source| StateFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut doc = read_doc(path)?.unwrap_or(StateDoc {
        format: 1,
        stores: BTreeMap::new(),
    });
    if doc.stores.get(store).is_some_and(|s| s.version >= version) {
        return Ok(false);
    }
    doc.stores.insert(
        store.to_owned(),
        Seen {
            version,
            expires: expires.to_owned(),
        },
    );
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| StateFileError::Corrupt {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    bytes.push(b'\n');
    tmp.write_all(&bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_is_never_lowered() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/state.json");
        assert_eq!(read_seen(&p, "s3://b").unwrap(), None);
        assert!(write_seen(&p, "s3://b", 5, "2030-01-01T00:00:00Z").unwrap());
        assert!(!write_seen(&p, "s3://b", 4, "2030-01-01T00:00:00Z").unwrap());
        assert!(!write_seen(&p, "s3://b", 5, "2030-01-01T00:00:00Z").unwrap());
        assert_eq!(read_seen(&p, "s3://b").unwrap(), Some(5));
        assert_eq!(read_seen(&p, "file:///other").unwrap(), None);
        assert!(write_seen(&p, "s3://b", 6, "2030-01-01T00:00:00Z").unwrap());
        assert_eq!(read_seen(&p, "s3://b").unwrap(), Some(6));
        std::fs::write(&p, b"{\"version\": 1}").unwrap();
        assert!(matches!(
            read_seen(&p, "s3://b"),
            Err(StateFileError::Corrupt { .. })
        ));
    }
}
