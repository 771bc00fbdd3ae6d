//! First-boot verification as a library: is this instance running an
//! attested, sealed, untampered image?
//!
//! A caller resolves its settings into a [`BootConfig`] (the store, the
//! trusted keys, which AMI, the live root, the [`Level`], the policy
//! knobs) and calls [`verify`], which returns a typed [`BootReport`]: every
//! check with its outcome, what was verified, the live SSH host keys and
//! the differences found. Its JSON is `schemas/boot-result.schema.json`;
//! [`BootReport::exit_code`] is the first-boot contract's 0 verified, 1
//! failed, 2 could not verify. The library never prints nor exits: the
//! CLI (`bakeproof verify`) renders the report.
//!
//! The steps, in order (rules: docs/boot.md):
//! * the AMI, given or from IMDSv2 (identity document optionally verified);
//! * its attestations: [`fetch_attestations`] resolves the AMI in a store,
//!   reads its index and every bundle it lists with the store's bounded
//!   reads (each digest checked), verifies each against a
//!   [`TrustedKeys`](bakeproof_attest::TrustedKeys) set and returns the
//!   verified statements, failing closed; it is also the one
//!   implementation behind `bakeproof diff REGION:AMI`;
//! * the AMI's lifecycle (`lifecycle`: its signed records and the store's
//!   status document, [`bakeproof_lifecycle::boot::check`]);
//! * the checks, one module each under `checks/`: the seal report (typed,
//!   [`bakeproof_seal::SealReport`]), machine-id, SSH host keys, and at the
//!   higher levels the first-boot changes, the packages and the files.

mod ami;
mod checks;
mod config;
mod fetch;
mod lifecycle;
mod live;
mod report;
mod verify;

pub use config::{
    AllowWarn, AmiChoice, BootConfig, ConfigError, DEFAULT_KEY_DIR, DEFAULT_MUTABLE, HostKeyAge,
    Ignored, Level, load_identity_certs, load_trusted_keys,
};
pub use fetch::{
    Attestation, Attestations, FetchError, FetchRequest, SealWanted, fetch_attestations,
};
pub use lifecycle::{DEFAULT_STATUS_STATE, LifecycleConfig, StateFileError, read_seen, write_seen};
pub use report::{
    AmiInfo, AmiSource, BootReport, Check, Differences, FileDiff, HostKeyInfo, InstanceInfo,
    Outcome, PackageChange, PackageDiff, code,
};
pub use verify::verify;

#[cfg(test)]
mod tests;
