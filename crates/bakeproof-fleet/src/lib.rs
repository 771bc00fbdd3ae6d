//! Fleet inventory (issue 18, docs/fleet.md): every published AMI as rows
//! of Apache Parquet tables beside its attestations, queryable by the
//! embedded [`query`] and by existing engines (Athena/Trino, Spark,
//! DuckDB); boot results reported by instances, and what only the fleet
//! can see (ghost identities).
//!
//! - [`rows`]: the tables' rows and Arrow schemas (one definition each);
//! - [`parquet_io`]: rows to deterministic Parquet bytes and back;
//! - [`derive`]: an AMI's verified attestations (and lifecycle) to rows;
//! - [`tables`]: the store layout, writing an AMI's tables, `tables rebuild`,
//!   reading a table back;
//! - [`sortkey`]: version sort keys (byte order = dpkg's or rpm's order),
//!   for SQL range queries;
//! - [`query`]: `NAME|PURL OP VERSION ...` evaluated in the package
//!   manager's own order, and the same question as SQL;
//! - [`reports`]: boot results written by instances, the fleet's findings
//!   (failed, unverified, ghost identities).

pub mod derive;
pub mod parquet_io;
pub mod query;
pub mod reports;
pub mod rows;
pub mod sortkey;
pub mod sql;
pub mod tables;

use bakeproof_store::StoreError;

/// Why a fleet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The AMI's attestations were not accepted (fail-closed: no table is
    /// derived from an unverified bundle).
    #[error("attestations of {ami}: {error}")]
    Attestations {
        ami: String,
        error: Box<bakeproof_boot::FetchError>,
    },
    #[error("lifecycle of {ami}: {error}")]
    Lifecycle {
        ami: String,
        error: Box<bakeproof_lifecycle::LifecycleError>,
    },
    /// A signed document that does not decode (SBOM, seal or audit report).
    #[error("{0}")]
    Decode(String),
    #[error("parquet: {0}")]
    Parquet(String),
    /// A stored table file or manifest that is not what it should be.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// An argument that cannot be used (a query that does not parse).
    #[error("{0}")]
    Invalid(String),
}

impl FleetError {
    /// The store answered and what it holds is wrong (as opposed to a
    /// store that could not be reached, or a bad argument).
    pub fn is_integrity(&self) -> bool {
        match self {
            FleetError::Store(e) => e.is_integrity(),
            FleetError::Attestations { error, .. } => !error.is_unreachable(),
            FleetError::Lifecycle { .. } | FleetError::Decode(_) | FleetError::Corrupt(_) => true,
            FleetError::Parquet(_) | FleetError::Invalid(_) => false,
        }
    }
}
