//! Java archives (`.jar`, `.war`, `.ear`, ...): `META-INF/maven/**/pom.properties`,
//! `META-INF/MANIFEST.MF`, nested archives (bounded depth and size); the
//! SHA-1 of each archive as Maven Central indexes it.

use crate::{CatalogError, LangPackage};

/// Largest archive the observer buffers for [`parse_archive`]; larger ones
/// are read again after the walk (see `observer`).
pub const MAX_ARCHIVE: u64 = 64 << 20;

/// Bounds for nested archives.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Archives inside archives, counting the outer one as depth 1.
    pub max_depth: usize,
    /// Largest nested archive inflated into memory.
    pub max_nested: u64,
    /// Most entries read from one archive.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_nested: 64 << 20,
            max_entries: 100_000,
        }
    }
}

/// Whether a file name is a Java archive by its extension.
pub fn is_archive_name(name: &[u8]) -> bool {
    let _ = name;
    false
}

/// The packages of an archive named `file_name` (for the name and version
/// when neither pom.properties nor the manifest gives them) with content
/// `bytes`: the archive itself first (`primary`, with its SHA-1), then
/// every nested archive's and every further pom.properties' package.
pub fn parse_archive(
    file_name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<LangPackage>, CatalogError> {
    let _ = (file_name, bytes, limits);
    Err(CatalogError::NotFormat("java archive"))
}
