//! The checks on an AMI's attestations and on the live root, one module
//! each (docs/boot.md names them by id). Each takes what it needs and
//! returns its [`Check`](crate::Check); [`crate::verify`] runs them in order.

pub(crate) mod audit;
pub(crate) mod files;
pub(crate) mod first_boot;
pub(crate) mod host_keys;
pub(crate) mod identity;
pub(crate) mod packages;
pub(crate) mod seal;
