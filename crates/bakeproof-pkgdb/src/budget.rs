//! Memory budgets for what the database parsers build.
//!
//! The input files are bounded ([`crate::STATUS_LIMIT`], [`crate::INFO_LIMIT`],
//! [`crate::rpm::RPMDB_LIMIT`]), but what is built from them need not be: an
//! rpm header stores each directory name once and every file as an index
//! into them, so a 2 MB header can name 200,000 files under one 20 KB
//! directory (4 GB of paths once joined), and every path of a dpkg `.list`
//! line becomes a [`PackageFile`] of some 230 bytes. So the parsers charge
//! what they are about to allocate to a [`Budget`] *before* allocating it,
//! and stop with a [`BudgetError`] (a [`crate::PkgDbError::Budget`] for the
//! database) when it would go over:
//!
//! * per database ([`DB_BUDGET`]): everything kept for one database (each
//!   file entry's struct and its strings, each package) plus what parsing it
//!   holds at once (the per-tag arrays of one rpm header, one package's
//!   parsed `md5sums`);
//! * per scan ([`SCAN_BUDGET`]): the sum over every database of a root
//!   ([`crate::read_root`] reads up to five).
//!
//! The charges are estimates that err on the high side (struct sizes plus
//! string bytes plus a fixed allowance per allocation). A big real system
//! (Fedora Workstation, ~2,000 rpm packages and ~300,000 files) is charged
//! about 180 MiB, an eighth of the per-scan budget.

use crate::PackageFile;

/// Memory one database's parse may use (see the module docs).
pub const DB_BUDGET: u64 = 768 << 20;
/// Memory all databases of one root may use together.
pub const SCAN_BUDGET: u64 = 1536 << 20;

/// Allowance for allocator overhead and small strings of one entry.
pub(crate) const SLACK: u64 = 64;

/// What one [`PackageFile`] costs besides its variable-length bytes.
pub(crate) const FILE_COST: u64 = std::mem::size_of::<PackageFile>() as u64 + SLACK;

/// Which limit a [`BudgetError`] hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetScope {
    Database,
    Scan,
}

impl BudgetScope {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetScope::Database => "database",
            BudgetScope::Scan => "scan",
        }
    }
}

/// A parse would have gone over its memory budget.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} would need {needed} bytes of memory, over the per-{} budget of {limit} bytes \
     ({used} bytes already used); not read",
    scope.as_str()
)]
pub struct BudgetError {
    pub scope: BudgetScope,
    pub limit: u64,
    pub used: u64,
    pub needed: u64,
    /// What was being built (`record 7 (name): 200000 file entries`).
    pub what: String,
}

/// Bytes charged against a per-database and a per-scan limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    db_limit: u64,
    scan_limit: u64,
    db_used: u64,
    scan_used: u64,
}

impl Default for Budget {
    /// [`DB_BUDGET`] and [`SCAN_BUDGET`].
    fn default() -> Budget {
        Budget::new(DB_BUDGET, SCAN_BUDGET)
    }
}

impl Budget {
    pub fn new(db_limit: u64, scan_limit: u64) -> Budget {
        Budget {
            db_limit,
            scan_limit,
            db_used: 0,
            scan_used: 0,
        }
    }

    /// Starts the next database: its own count starts at zero, the scan's
    /// count goes on.
    pub fn start_db(&mut self) {
        self.db_used = 0;
    }

    /// Bytes charged to the current database and to the scan.
    pub fn used(&self) -> (u64, u64) {
        (self.db_used, self.scan_used)
    }

    /// Charges `bytes`, or fails (charging nothing) when either limit would
    /// be passed. `what` names the thing for the error.
    pub fn charge(&mut self, bytes: u64, what: impl FnOnce() -> String) -> Result<(), BudgetError> {
        let over = |scope, limit, used| BudgetError {
            scope,
            limit,
            used,
            needed: bytes,
            what: what(),
        };
        if self.db_used.saturating_add(bytes) > self.db_limit {
            return Err(over(BudgetScope::Database, self.db_limit, self.db_used));
        }
        if self.scan_used.saturating_add(bytes) > self.scan_limit {
            return Err(over(BudgetScope::Scan, self.scan_limit, self.scan_used));
        }
        self.db_used += bytes;
        self.scan_used += bytes;
        Ok(())
    }

    /// Gives back bytes charged earlier that are freed again (transient
    /// parse state).
    pub fn refund(&mut self, bytes: u64) {
        self.db_used = self.db_used.saturating_sub(bytes);
        self.scan_used = self.scan_used.saturating_sub(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_db_and_per_scan() {
        let mut b = Budget::new(100, 150);
        b.charge(60, String::new).expect("fits");
        let e = b.charge(50, || "x".into()).expect_err("db over");
        assert_eq!(e.scope, BudgetScope::Database);
        assert_eq!(b.used(), (60, 60));
        b.start_db();
        b.charge(80, String::new).expect("second db fits");
        let e = b.charge(20, || "y".into()).expect_err("scan over");
        assert_eq!((e.scope, e.limit, e.used), (BudgetScope::Scan, 150, 140));
        assert!(
            e.to_string().contains("per-scan budget of 150 bytes"),
            "{e}"
        );
        b.refund(80);
        assert_eq!(b.used(), (0, 60));
    }
}
