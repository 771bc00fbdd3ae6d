//! The SBOM of an image root in one call: the scan pipeline
//! ([`bakeproof_inventory::ImageScan`]) and the encoder ([`write_json`]),
//! with the metadata a scan implies ([`ScanMeta::of_scan`]). `bakeproof
//! scan` and the first-boot check build their SBOMs through these, so a
//! live root's SBOM and an attested one are comparable field by field.

use std::path::Path;

use bakeproof_index::{Root, RootError};
use bakeproof_inventory::{ScanError, ScanSettings, Scanned};

use crate::{EncodeError, ScanMeta, write_json};

/// Why [`sbom_of_root`] produced no SBOM.
#[derive(Debug, thiserror::Error)]
pub enum SbomOfRootError {
    /// The root could not be opened.
    #[error(transparent)]
    Open(#[from] RootError),
    /// The scan failed as a whole.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The inventory could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The image name an SBOM of `root` gets by default: the last component of
/// its canonical path (`root` for `/`).
pub fn default_image_name(root: &Path) -> String {
    let canon = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    match canon.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => "root".into(),
    }
}

impl ScanMeta {
    /// The metadata of `scanned`, a scan of the directory `root` by
    /// `bakeproof` `tool_version`: the default image name, `root` as the
    /// source, the scan's os-release and its problems (as
    /// `bakeproof:package-db:error`), files indexed, the time now and a
    /// derived serial. Override fields with struct update syntax.
    pub fn of_scan(scanned: &Scanned, root: &Path, tool_version: &str) -> ScanMeta {
        ScanMeta {
            image_name: default_image_name(root),
            source: root.display().to_string(),
            tool_name: "bakeproof".into(),
            tool_version: tool_version.into(),
            timestamp: None,
            serial: None,
            os: scanned.os.clone(),
            db_errors: scanned.problems.iter().map(ToString::to_string).collect(),
            files_indexed: true,
        }
    }
}

/// The CycloneDX JSON SBOM of the directory `root`, in memory: the same
/// scan and encoding as `bakeproof scan ROOT` (metadata of
/// [`ScanMeta::of_scan`]), with `settings` (excludes, or
/// [`ScanSettings::only_paths`] for the chosen paths only).
pub fn sbom_of_root(
    root: &Path,
    settings: ScanSettings,
    tool_version: &str,
) -> Result<Vec<u8>, SbomOfRootError> {
    let tree = Root::open(root)?;
    let scanned = bakeproof_inventory::ImageScan::new(&tree, settings).run()?;
    let meta = ScanMeta::of_scan(&scanned, root, tool_version);
    let mut out = Vec::new();
    write_json(&scanned.inventory, &meta, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_image_names() {
        assert_eq!(default_image_name(Path::new("/")), "root");
        let dir = std::env::temp_dir().join(format!("bakeproof-sbom-name-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("img")).unwrap();
        // canonical: a trailing `.` names the directory itself
        assert_eq!(default_image_name(&dir.join("img/.")), "img");
        assert_eq!(default_image_name(&dir.join("absent")), "absent");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sbom_of_an_empty_root() {
        let dir = std::env::temp_dir().join(format!("bakeproof-sbom-root-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        let bytes = sbom_of_root(&dir, ScanSettings::default(), "9.9.9").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["bomFormat"], "CycloneDX");
        assert_eq!(v["metadata"]["tools"]["components"][0]["version"], "9.9.9");
        assert!(matches!(
            sbom_of_root(&dir.join("absent"), ScanSettings::default(), "9.9.9"),
            Err(SbomOfRootError::Open(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
