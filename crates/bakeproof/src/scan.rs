//! Items `boot.rs` reaches under `crate::scan` (their old home). The
//! command is `crate::commands::scan`, its flags `crate::args::scan`; this
//! module only keeps the first-boot check's paths working.

use std::path::Path;

use anyhow::Result;
use bakeproof_inventory::ScanSettings;

#[allow(unused_imports)] // kept for boot.rs, whichever of them it uses
pub(crate) use crate::commands::{resolved_source_date_epoch, source_date_epoch};
#[allow(unused_imports)]
pub(crate) use crate::output::{is_regular_or_absent, write_output};

/// For `bakeproof verify`: the CycloneDX SBOM of a live root, in memory
/// (same scan and encoding as `bakeproof scan`, quiet); with `only`, of the
/// chosen paths only (`--level packages`: the package databases and the
/// entries the attested packages own, no walk). The work is
/// [`bakeproof_sbom::sbom_of_root`].
pub(crate) fn sbom_of_root_paths(
    root: &Path,
    excludes: &[String],
    only: Option<&[Vec<u8>]>,
) -> Result<Vec<u8>> {
    let settings = ScanSettings {
        excludes: excludes.to_vec(),
        only_paths: only.map(<[Vec<u8>]>::to_vec),
        ..Default::default()
    };
    Ok(bakeproof_sbom::sbom_of_root(
        root,
        settings,
        env!("CARGO_PKG_VERSION"),
    )?)
}
