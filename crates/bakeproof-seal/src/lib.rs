//! Seal checks and seal operations for image roots.
//!
//! * [`check`]: read-only checks (`bakeproof seal check`), fed by one scan
//!   of the root; [`check::check_root`] is the entry point.
//! * [`secrets`]: the content observer that scans every file for baked
//!   credentials during the indexer's single read.
//! * [`sshkey`]: OpenSSH key parsing and `ssh-keygen -l` fingerprints.
//! * [`firstboot`]: the seal report's first-boot baseline and the rules
//!   `bakeproof verify` judges first-boot changes by.
//! * [`apply`]: seal operations (`bakeproof seal apply`).

pub mod apply;
pub mod check;
pub mod firstboot;
pub mod report;
pub mod secrets;
pub mod sshkey;

pub use check::{
    CheckOptions, CheckResult, Finding, HostKey, SealError, SealReport, Status, check_inventory,
    check_root, image_scan,
};
pub use report::SealReportError;
pub use secrets::SealObserver;
