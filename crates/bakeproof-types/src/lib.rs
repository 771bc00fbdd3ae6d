//! The vocabulary every bakeproof crate shares, defined once: an AMI
//! reference ([`AmiRef`]), a SHA-256 digest ([`Sha256Digest`]), the
//! `SOURCE_DATE_EPOCH` rule ([`SourceDateEpoch`]) and package URLs
//! ([`purl`]).
//!
//! This crate sits at the bottom of the workspace: it depends on no other
//! bakeproof crate, and every parser here takes a value and returns a value
//! or a typed error (no I/O, no environment, no panics), so each can be
//! fuzzed on its own (`fuzz/fuzz_targets/types.rs`).

mod ami;
mod digest;
mod epoch;
pub mod purl;

pub use ami::{AmiRef, AmiRefError, AmiRefProblem};
pub use digest::{DigestError, Sha256Digest};
pub use epoch::{SourceDateEpoch, SourceDateEpochError};
pub use purl::{Purl, PurlError};
