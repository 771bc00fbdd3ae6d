//! npm: an installed package's `package.json` (`node_modules/**/package.json`)
//! and lockfiles (`package-lock.json` / `npm-shrinkwrap.json` v1-v3).

use crate::{CatalogError, LangPackage};

/// Largest package.json / lockfile the observer keeps.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// The package an installed `package.json` describes (name with its scope
/// in `namespace`, version, licence, `_resolved`/`_integrity` as
/// properties `bakeproof:package:npm:resolved` / `:integrity`).
pub fn parse_package_json(bytes: &[u8]) -> Result<LangPackage, CatalogError> {
    let _ = bytes;
    Err(CatalogError::NotFormat("package.json"))
}

/// Every package a lockfile pins (v1 `dependencies` tree, v2/v3
/// `packages` map; the root project itself is not one of them).
pub fn parse_lockfile(bytes: &[u8]) -> Result<Vec<LangPackage>, CatalogError> {
    let _ = bytes;
    Err(CatalogError::NotFormat("package-lock.json"))
}
