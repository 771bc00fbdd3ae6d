//! Inventory and CycloneDX encoding.
//!
//! [`inventory`] joins the filesystem index (`bakeproof-index`) to the
//! package databases (`bakeproof-pkgdb`): which package owns which file,
//! which owned files differ from the digest their package recorded, which
//! files no package owns. [`cyclonedx`] encodes the result as a CycloneDX
//! 1.5 JSON SBOM, and is the one decoder of CycloneDX documents
//! ([`cyclonedx::decoder`]), both naming properties through one
//! vocabulary ([`cyclonedx::vocab`]).

pub mod cyclonedx;
pub mod inventory;
pub mod rpmverify;

pub use cyclonedx::{EncodeError, IMAGE_REF, ScanMeta, file_ref, rfc3339, to_bom, write_json};
pub use inventory::{
    FileVerdict, Inventory, InventoryStats, OwnershipPlan, PKG_DIGEST_OBSERVER, PkgId,
    VerifyResult, digest_observer,
};
pub use rpmverify::Accounts;
