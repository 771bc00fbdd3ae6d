//! Python distributions: `*.dist-info/METADATA` (core metadata 1.0-2.4,
//! RFC 822 headers), `*.dist-info/RECORD` (CSV: path, `sha256=` urlsafe
//! base64 digest, size) and `*.egg-info/PKG-INFO` (or a `*.egg-info`
//! file, as distutils wrote one).

use crate::{CatalogError, LangFile, LangPackage};

/// Largest METADATA / PKG-INFO / RECORD the observer keeps.
pub const MAX_METADATA: u64 = 8 << 20;

/// A distribution's package from its METADATA or PKG-INFO bytes.
/// `found_by` is `dist-info` or `egg-info`. Licences: `License-Expression`
/// (metadata 2.4) when present, else the SPDX ids of the `License ::`
/// trove classifiers, else the `License:` field when it is short (one
/// line, not the licence text).
pub fn parse_metadata(bytes: &[u8], found_by: &'static str) -> Result<LangPackage, CatalogError> {
    let _ = (bytes, found_by);
    Err(CatalogError::NotFormat("python metadata"))
}

/// The files a `RECORD` lists (paths as written: relative to the
/// directory holding the `.dist-info`).
pub fn parse_record(bytes: &[u8]) -> Result<Vec<LangFile>, CatalogError> {
    let _ = bytes;
    Err(CatalogError::NotFormat("RECORD"))
}

/// The SPDX id of a `License :: ...` trove classifier, when it names one.
pub fn classifier_license(classifier: &str) -> Option<&'static str> {
    let _ = classifier;
    None
}
