//! Shared helpers for the end-to-end tests.
pub mod moto;
pub mod run;
pub mod schema;
