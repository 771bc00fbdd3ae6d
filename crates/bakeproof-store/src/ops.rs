//! `publish` (the output of `bakeproof attest` → a store) and `fetch`
//! (an AMI's index and blobs → a directory), on any [`Store`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use bakeproof_attest::{AttestIndex, FileKind};

use crate::{AmiIndex, AmiRef, IndexEntry, IndexPut, IndexWrite, Sha256Digest, Store, StoreError};

/// The attest output's index (`bakeproof attest -o DIR` writes `DIR/index.json`).
const ATTEST_INDEX_FILE: &str = "index.json";
/// File `fetch` writes the AMI's store index to, beside the bundles.
pub const STORE_INDEX_FILE: &str = "store-index.json";
/// Media type of the bundles `bakeproof attest` writes, when the bundle does not say.
const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// One blob `publish` stored.
#[derive(Clone, Debug)]
pub struct PublishedBlob {
    pub file: String,
    pub sha256: String,
    pub size: u64,
    /// false: it was already in the store (identical content, checked).
    pub created: bool,
}

/// What `publish` did.
#[derive(Clone, Debug)]
pub struct PublishReport {
    pub blobs: Vec<PublishedBlob>,
    /// Each AMI's index, where it was written, and what the write did.
    pub indexes: Vec<(AmiRef, String, IndexPut)>,
}

/// One file `fetch` wrote.
#[derive(Clone, Debug)]
pub struct FetchedFile {
    pub path: PathBuf,
    pub entry: IndexEntry,
}

/// What `fetch` did.
#[derive(Clone, Debug)]
pub struct FetchReport {
    pub index: AmiIndex,
    pub files: Vec<FetchedFile>,
    /// `DIR/store-index.json`.
    pub index_path: PathBuf,
}

fn input(dir: &Path, m: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("{}: {m}", dir.join(ATTEST_INDEX_FILE).display()))
}

/// Largest attest index `publish` reads (it lists a handful of files).
const MAX_ATTEST_INDEX_SIZE: u64 = 1 << 20;

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, StoreError> {
    use std::io::Read as _;
    let err = |e: std::io::Error| StoreError::Io(format!("{}: {e}", path.display()));
    let mut v = Vec::new();
    std::fs::File::open(path)
        .map_err(err)?
        .take(max + 1)
        .read_to_end(&mut v)
        .map_err(err)?;
    if v.len() as u64 > max {
        return Err(StoreError::Invalid(format!(
            "{}: larger than {max} bytes: not an attest index",
            path.display()
        )));
    }
    Ok(v)
}

/// Reads the attest output in `dir` (its `index.json` and every file it
/// lists, each checked against the listed digest) and stores every blob,
/// then one index per AMI subject, written last.
pub fn publish_attest_dir(
    store: &dyn Store,
    dir: &Path,
    mode: IndexWrite,
) -> Result<PublishReport, StoreError> {
    let ipath = dir.join(ATTEST_INDEX_FILE);
    let raw = read_bounded(&ipath, MAX_ATTEST_INDEX_SIZE)?;
    let idx = AttestIndex::from_slice(&raw).map_err(|e| input(dir, e))?;
    let amis: Vec<AmiRef> = idx.amis();

    // Read and check everything before the first upload.
    let mut blobs: Vec<(IndexEntry, Vec<u8>)> = Vec::new();
    for f in &idx.files {
        let name = &f.file;
        let p = dir.join(name);
        let bytes =
            std::fs::read(&p).map_err(|e| StoreError::Io(format!("{}: {e}", p.display())))?;
        let got = Sha256Digest::of(&bytes).to_string();
        if got != f.sha256 {
            return Err(StoreError::DigestMismatch(format!(
                "{}: sha256 {got}, but {} lists {:?} (the attest output was changed)",
                p.display(),
                ipath.display(),
                f.sha256
            )));
        }
        let bundle = f.kind == FileKind::Bundle;
        let media_type = match &f.media_type {
            Some(m) => m.clone(),
            None if bundle => serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| BUNDLE_MEDIA_TYPE.to_string()),
            None => "application/octet-stream".to_string(),
        };
        blobs.push((
            IndexEntry {
                sha256: got,
                predicate_type: f.predicate_type.clone().unwrap_or_default(),
                media_type,
                size: bytes.len() as u64,
                file: Some(name.clone()),
            },
            bytes,
        ));
    }
    let tree = &idx.tree_digest.sha256;
    let (created, tool_version) = (idx.created.clone(), idx.tool.version.clone());

    let mut report = PublishReport {
        blobs: Vec::new(),
        indexes: Vec::new(),
    };
    for (entry, bytes) in &blobs {
        let put = store.put_blob_outcome(bytes)?;
        report.blobs.push(PublishedBlob {
            file: entry.file.clone().unwrap_or_default(),
            sha256: put.sha256,
            size: entry.size,
            created: put.created,
        });
    }
    let entries: Vec<IndexEntry> = blobs.into_iter().map(|(e, _)| e).collect();
    for ami in amis {
        let index = AmiIndex {
            ami: ami.clone(),
            entries: entries.clone(),
            tree_digest: format!("sha256:{tree}"),
            created: created.clone(),
            tool_version: tool_version.clone(),
        };
        let put = store.put_index(&index, mode)?;
        let loc = store.index_location(&ami);
        report.indexes.push((ami, loc, put));
    }
    Ok(report)
}

/// Fetches `ami`'s index and every blob it names (each digest checked)
/// into `out_dir`: the blobs under their file names (or `<sha256>` when the
/// index has none), the index as `store-index.json`, written last. Nothing
/// is written unless everything was fetched and checked.
pub fn fetch_ami(
    store: &dyn Store,
    ami: &AmiRef,
    out_dir: &Path,
) -> Result<FetchReport, StoreError> {
    let index = store.get_index(ami)?;
    let mut got = Vec::new();
    let mut names = HashSet::new();
    for e in &index.entries {
        let bytes = store
            .get_blob_bounded(&e.sha256, e.read_limit())
            .map_err(|err| match err {
                StoreError::NotFound(m) => StoreError::NotFound(format!(
                    "{m}: named by the index of {ami} ({}) but missing from the store",
                    store.index_location(ami)
                )),
                other => other,
            })?;
        if bytes.len() as u64 != e.size {
            return Err(StoreError::Corrupt(format!(
                "blob sha256:{} has {} bytes, the index of {ami} says {}",
                e.sha256,
                bytes.len(),
                e.size
            )));
        }
        let mut name = e.file.clone().unwrap_or_else(|| e.sha256.clone());
        if name == STORE_INDEX_FILE || !names.insert(name.clone()) {
            name = e.sha256.clone();
            names.insert(name.clone());
        }
        got.push((name, e.clone(), bytes));
    }
    std::fs::create_dir_all(out_dir)
        .map_err(|e| StoreError::Io(format!("{}: {e}", out_dir.display())))?;
    let mut files = Vec::new();
    for (name, entry, bytes) in got {
        let path = out_dir.join(&name);
        write_atomic(&path, &bytes)?;
        files.push(FetchedFile { path, entry });
    }
    let index_path = out_dir.join(STORE_INDEX_FILE);
    write_atomic(&index_path, &index.to_vec())?;
    Ok(FetchReport {
        index,
        files,
        index_path,
    })
}

/// Writes `bytes` to `path` through a create-exclusive temporary file
/// (random name, `O_EXCL`: a planted file or symlink is never opened) in the
/// same directory, fsynced, then renamed over `path` (which replaces a
/// symlink there rather than following it).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let err = |e: std::io::Error| StoreError::Io(format!("{}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".bakeproof-fetch.")
        // As a plain create would (the umask applies), not tempfile's 0600.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
