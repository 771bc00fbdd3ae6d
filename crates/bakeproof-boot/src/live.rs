//! The live root as a CycloneDX SBOM, in memory: the same scan pipeline
//! ([`ImageScan`]) and encoding as `bakeproof scan`, so the comparison
//! reads both sides with the one decoder.

use std::path::Path;

use bakeproof_index::Root;
use bakeproof_inventory::{ImageScan, ScanSettings};
use bakeproof_sbom::ScanMeta;

/// Why the live root could not be scanned.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LiveError {
    #[error(transparent)]
    Scan(#[from] bakeproof_inventory::ScanError),
    #[error(transparent)]
    Encode(#[from] bakeproof_sbom::EncodeError),
}

/// The SBOM of `tree` (at `root_path`), `excludes` skipped; with `only`,
/// of those paths only (`--level packages`: the package databases and the
/// entries the attested packages own, no walk).
pub(crate) fn sbom_of_root(
    tree: &Root,
    root_path: &Path,
    excludes: &[String],
    only: Option<&[Vec<u8>]>,
    tool_version: &str,
) -> Result<Vec<u8>, LiveError> {
    let settings = ScanSettings {
        excludes: excludes.to_vec(),
        only_paths: only.map(<[Vec<u8>]>::to_vec),
        ..Default::default()
    };
    let scanned = ImageScan::new(tree, settings).run()?;
    let meta = ScanMeta {
        image_name: image_name(root_path),
        source: root_path.display().to_string(),
        tool_name: "bakeproof".into(),
        tool_version: tool_version.to_owned(),
        timestamp: None,
        serial: None,
        os: scanned.os.clone(),
        db_errors: scanned.problems.iter().map(ToString::to_string).collect(),
        files_indexed: true,
    };
    let mut out = Vec::new();
    bakeproof_sbom::write_json(&scanned.inventory, &meta, &mut out)?;
    Ok(out)
}

/// The last component of the root's canonical path (`root` for `/`).
fn image_name(root: &Path) -> String {
    let canon = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    match canon.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => "root".into(),
    }
}
