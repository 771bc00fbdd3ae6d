//! A filesystem read by an [`FsReader`] as a [`ReadOnlyTree`]: the scan
//! pipeline (walk, package readers, seal checks, audit) reads an image
//! exactly as it reads a directory, and gets the same entries and the same
//! tree digest for the same content.

use std::sync::Arc;

use bakeproof_index::{
    Entry, FileKind, Metadata, ReadOnlyTree, RootError, RootPath, ScanError, ScanOptions,
    ScanResult,
};

use crate::fs::FsReader;

/// The tree of one filesystem of an image.
pub struct ImageTree {
    fs: Arc<dyn FsReader>,
    name: String,
}

impl ImageTree {
    /// `name`: what reports call the source (`disk.img partition 1`).
    pub fn new(fs: Arc<dyn FsReader>, name: impl Into<String>) -> ImageTree {
        ImageTree {
            fs,
            name: name.into(),
        }
    }

    pub fn reader(&self) -> &dyn FsReader {
        &*self.fs
    }
}

fn todo(path: &[u8]) -> RootError {
    RootError::Io {
        path: bakeproof_index::encode_path(path),
        source: std::io::Error::other("image tree: not written yet"),
    }
}

impl ReadOnlyTree for ImageTree {
    fn read_file(&self, path: &[u8], _limit: u64) -> Result<Vec<u8>, RootError> {
        Err(todo(path))
    }
    fn read_dir(&self, path: &[u8]) -> Result<Vec<Vec<u8>>, RootError> {
        Err(todo(path))
    }
    fn kind_of(&self, path: &[u8]) -> Result<Option<FileKind>, RootError> {
        Err(todo(path))
    }
    fn metadata(&self, path: &[u8]) -> Result<Metadata, RootError> {
        Err(todo(path))
    }
    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Err(todo(path))
    }
    fn canonicalize(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Err(todo(path))
    }
    fn canonicalize_parent(&self, path: &[u8]) -> Result<Vec<u8>, RootError> {
        Err(todo(path))
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
    fn is_running_system(&self) -> bool {
        false
    }
    fn walk(&self, _opts: &ScanOptions) -> Result<ScanResult, ScanError> {
        Err(ScanError::Root(todo(b"/")))
    }
    fn index_paths(
        &self,
        _paths: &[RootPath],
        _opts: &ScanOptions,
    ) -> Result<Vec<Entry>, ScanError> {
        Err(ScanError::Root(todo(b"/")))
    }
}
