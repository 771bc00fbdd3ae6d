use std::path::PathBuf;

/// A design document that cannot be used. Always names the file and, where
/// there is one, the line (1-based).
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DesignError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// Errors of the audit as a whole (facts that could not be read at all).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Design(#[from] DesignError),
    /// `--live` on a root that is not the running system, or its facts
    /// unreadable.
    #[error(transparent)]
    Live(#[from] crate::facts::live::LiveError),
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: bakeproof_index::RootError,
    },
    /// The root could not be scanned at all (the walk for the tree digest).
    #[error("cannot scan the root: {0}")]
    Scan(#[from] bakeproof_inventory::ScanError),
}
