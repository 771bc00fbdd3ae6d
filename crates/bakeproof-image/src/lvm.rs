//! LVM2: a physical volume's label and text metadata, and the logical
//! volumes made of linear segments on it as block sources.
//!
//! Fuzz target: `fuzz/fuzz_targets/lvm_metadata.rs`.

use crate::ImageError;
use crate::block::{BlockSource, SharedSource};

/// One logical volume of a volume group, as its metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalVolume {
    pub vg: String,
    pub name: String,
    /// Size in bytes.
    pub len: u64,
    /// `linear` when every segment is striped over one PV with one stripe
    /// (readable here); otherwise the first other segment type (`striped`,
    /// `raid1`, `thin`, …), which is said and not read.
    pub layout: String,
    /// `(offset in the LV, length, offset in the PV)` in bytes, sorted;
    /// empty unless `layout == "linear"` and every segment is on this PV.
    pub segments: Vec<(u64, u64, u64)>,
}

/// What a physical volume's metadata says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhysicalVolume {
    pub vg: String,
    /// The PV's UUID (as LVM prints it, with dashes).
    pub pv_uuid: String,
    pub lvs: Vec<LogicalVolume>,
}

/// Reads the LVM2 label and the newest metadata of the PV `src`.
pub fn read_pv(src: &dyn BlockSource) -> Result<PhysicalVolume, ImageError> {
    let _ = src;
    Err(ImageError::Unsupported(
        "lvm::read_pv: not written yet".into(),
    ))
}

/// A linear logical volume of the PV `pv` as a block source.
pub fn open_lv(pv: SharedSource, lv: &LogicalVolume) -> Result<SharedSource, ImageError> {
    let _ = (pv, lv);
    Err(ImageError::Unsupported(
        "lvm::open_lv: not written yet".into(),
    ))
}
