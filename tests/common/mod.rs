//! Shared helpers of the end-to-end tests. Each test file is an integration
//! test of the `bakeproof` package (crates/bakeproof/Cargo.toml) and includes
//! this module (`mod common;`), so `env!("CARGO_BIN_EXE_bakeproof")` in
//! [`run`] is the binary Cargo built for it.

// Each test file uses some of the helpers.
#![allow(dead_code)]

pub mod attest;
pub mod imds_emulator;
pub mod interop;
pub mod moto;
pub mod packages;
pub mod run;
pub mod schema;
