//! Go binaries: the build information the Go linker writes
//! (`\xff Go buildinf:`; Go >= 1.18 inline strings), read while the
//! index streams the file.

use crate::{CatalogError, LangPackage};

/// The build-info magic.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// Most bytes kept after the magic.
pub const MAX_BLOB: usize = 4 << 20;

/// Finds the build-info blob in a file seen once, chunk after chunk, with
/// bounded memory (the blob, at most [`MAX_BLOB`] bytes, and a few
/// bytes of overlap between chunks). Files that are not ELF are dropped at
/// the first chunk.
#[derive(Debug, Default)]
pub struct BuildInfoFinder {
    _private: (),
}

impl BuildInfoFinder {
    pub fn new() -> BuildInfoFinder {
        BuildInfoFinder::default()
    }

    /// The next bytes of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        let _ = chunk;
    }

    /// Whether more bytes can still matter (false once the blob is complete
    /// or the file is known not to be a Go binary): the observer stops
    /// feeding it.
    pub fn wants_more(&self) -> bool {
        false
    }

    /// The blob (from the magic on), if one was found.
    pub fn finish(self) -> Option<Vec<u8>> {
        None
    }
}

/// A module as the build info lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    /// `h1:` sum.
    pub sum: Option<String>,
    /// The module that replaced it (`=>` line).
    pub replace: Option<Box<Module>>,
}

/// A Go binary's build information (what `go version -m` prints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.22.5`.
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` lines: `-ldflags`, `GOOS`, `vcs.revision`...
    pub settings: Vec<(String, String)>,
}

/// Parses a blob [`BuildInfoFinder`] kept (starting at the magic).
pub fn parse_buildinfo(blob: &[u8]) -> Result<BuildInfo, CatalogError> {
    let _ = blob;
    Err(CatalogError::NotFormat("go build info"))
}

/// The blob in a whole file's bytes (tests, fuzzing): what the finder
/// keeps when fed `file` in one chunk.
pub fn find_buildinfo(file: &[u8]) -> Option<Vec<u8>> {
    let mut f = BuildInfoFinder::new();
    f.update(file);
    f.finish()
}

impl BuildInfo {
    /// The packages: the main module (`primary`), every dependency (the
    /// replacement's path and version when replaced), and the standard
    /// library as `stdlib` at the Go version, as syft reports it.
    pub fn packages(&self) -> Vec<LangPackage> {
        Vec::new()
    }
}
