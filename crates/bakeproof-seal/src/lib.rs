//! Seal checks and seal operations for image roots.

pub mod apply;
pub mod check;
