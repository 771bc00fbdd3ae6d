//! First-boot verification as a library. For now its fetch half:
//! [`fetch_attestations`] resolves an AMI in a store, reads its index and
//! every bundle it lists with the store's bounded reads (each digest
//! checked), verifies each against a [`TrustedKeys`](bakeproof_attest::TrustedKeys)
//! set and returns the verified statements, failing closed. It is the one
//! implementation behind `bakeproof verify` (the boot check) and
//! `bakeproof diff REGION:AMI`. The checks on the live root are still in the
//! CLI (`crates/bakeproof/src/boot.rs`). Rules: docs/boot.md.

mod fetch;

pub use fetch::{
    Attestation, Attestations, FetchError, FetchRequest, SealWanted, fetch_attestations,
};

#[cfg(test)]
mod tests;
