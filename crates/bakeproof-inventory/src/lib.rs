//! The scan pipeline as a library: a source tree in, a scanned inventory
//! out.
//!
//! * [`pipeline`]: [`ImageScan`] reads the package databases, os-release and
//!   accounts of a [`bakeproof_index::ReadOnlyTree`], walks it once with
//!   every content observer riding the single read of each file, and joins
//!   the two into [`Scanned`]. Settings are a plain [`ScanSettings`];
//!   progress goes to a [`bakeproof_index::Progress`]; nothing is printed.
//! * [`join`]: the ownership plan (listed paths to physical paths, before
//!   the walk), the package-digest observer, and the join of the index to
//!   the packages: owners, aliases, verification results, unowned entries.
//! * [`rpmverify`]: `rpm -V` semantics (and the dpkg subset of them).
//!
//! Encoding the result (CycloneDX) is `bakeproof-sbom`'s; checking it for
//! seal problems is `bakeproof-seal`'s.
//!
//! ```no_run
//! use bakeproof_index::Root;
//! use bakeproof_inventory::{ImageScan, ScanSettings};
//!
//! let root = Root::open("/mnt/image")?;
//! let scanned = ImageScan::new(&root, ScanSettings::default()).run()?;
//! for problem in &scanned.problems {
//!     eprintln!("incomplete: {problem}");
//! }
//! println!("{} packages", scanned.inventory.stats().packages);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod join;
pub mod pipeline;
pub mod rpmverify;

pub use join::{
    FileVerdict, Inventory, InventoryStats, OwnershipPlan, PKG_DIGEST_OBSERVER, PkgId,
    VerifyResult, digest_observer,
};
pub use pipeline::{
    BareDbError, ImageScan, ScanError, ScanProblem, ScanSettings, Scanned, scan_bare_database,
};
pub use rpmverify::{Accounts, NOLOGIN_SHELLS};
