//! CycloneDX encoding of a scanned inventory.
//!
//! The inventory itself (the index joined to the package databases:
//! ownership, verification, unowned files) is `bakeproof-inventory`'s;
//! [`cyclonedx`] encodes it as a CycloneDX 1.5 JSON SBOM, and is the one
//! decoder of CycloneDX documents ([`cyclonedx::decoder`]), both naming
//! properties through one vocabulary ([`cyclonedx::vocab`]).

pub mod cyclonedx;
pub mod image;
pub mod spdx;

// The encoder names the inventory's types as `crate::inventory::...`.
use bakeproof_inventory::join as inventory;

pub use cyclonedx::{
    CdxSpec, CycloneDxOptions, EncodeError, IMAGE_REF, ScanMeta, file_ref, rfc3339, to_bom,
    write_cyclonedx, write_json,
};
pub use image::{SbomOfRootError, default_image_name, sbom_of_root};
