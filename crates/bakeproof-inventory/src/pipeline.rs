//! The scan pipeline: one call from a source tree to a scanned inventory.
//!
//! `scan`, `verify-packages`, `seal check` and first-boot verification all
//! run [`ImageScan::run`], so they see the same packages, the same accounts
//! and the same problems. The order is fixed: os-release and the package
//! databases are read first (the ownership plan needs them before the walk,
//! to know which files need a second digest), then the accounts, then one
//! walk with every observer riding its single read, then the join.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bakeproof_index::{ContentObserver, Progress, ReadOnlyTree, RootError, ScanOptions};
use bakeproof_pkgdb::{OsRelease, PackageDb, PkgDbError};

use bakeproof_ecosystems::observer::{EcosystemObserver, Langs};

use crate::join::{Inventory, OwnershipPlan, digest_observer};
use crate::rpmverify::Accounts;

/// Largest `/etc/passwd` or `/etc/group` read.
pub const ACCOUNTS_LIMIT: u64 = 64 << 20;

/// How to scan, resolved from the caller's own options (the CLI builds it
/// from its flags; nothing here knows about them).
#[derive(Clone, Debug, Default)]
pub struct ScanSettings {
    /// Glob patterns of paths inside the tree to skip (see
    /// [`ScanOptions::excludes`]).
    pub excludes: Vec<String>,
    /// Descend into other mounted filesystems.
    pub cross_mounts: bool,
    /// Also scan `/proc`, `/sys`, `/dev` and `/run` of the running system.
    pub include_runtime_dirs: bool,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Read the package databases only: no accounts, no walk, no join of
    /// files (an empty index whose tree digest is that of no entry).
    pub packages_only: bool,
    /// Index these paths only ([`ReadOnlyTree::index_paths`], no walk)
    /// instead of the whole tree: what is not there is left out of the
    /// inventory (so a caller comparing with another SBOM sees it missing).
    /// The first-boot package level's owned files.
    pub only_paths: Option<Vec<Vec<u8>>>,
    /// The language ecosystems whose packages the walk catalogs
    /// (`bakeproof-ecosystems`; default: none, while the catalogers are
    /// being written). A packages-only scan has no
    /// walk, so no language package.
    pub ecosystems: Langs,
}

/// A scan of a tree, configured; [`ImageScan::run`] does the work.
pub struct ImageScan<'a> {
    tree: &'a dyn ReadOnlyTree,
    settings: ScanSettings,
    observers: Vec<Arc<dyn ContentObserver>>,
    progress: Option<Arc<dyn Progress>>,
}

/// Something that went wrong without stopping the scan: the inventory is
/// complete for the files, but loses what the failed read would have told.
#[derive(Debug, thiserror::Error)]
pub enum ScanProblem {
    /// `/etc/os-release` (or `/usr/lib/os-release`) could not be read.
    #[error("os-release: {0}")]
    OsRelease(#[source] PkgDbError),
    /// A package database could not be read: no package of it is in the
    /// inventory.
    #[error("package database: {0}")]
    PackageDb(#[source] PkgDbError),
    /// `/etc/passwd` or `/etc/group` exists but could not be read (a FIFO,
    /// a device, unreadable, too large): owners are compared by id only.
    #[error("accounts: {0}")]
    Accounts(#[source] RootError),
}

/// Errors that leave no inventory at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Walk(#[from] bakeproof_index::ScanError),
}

/// What a scan produced.
#[derive(Debug)]
pub struct Scanned {
    /// The index joined to the package databases: entries, packages,
    /// owners, verification results, unowned entries.
    pub inventory: Inventory,
    /// The tree's os-release, when it has one.
    pub os: Option<OsRelease>,
    /// The tree's users and groups (what rpm -V compared names with).
    pub accounts: Accounts,
    /// Reads that failed without stopping the scan, in the order they
    /// happened.
    pub problems: Vec<ScanProblem>,
}

impl Scanned {
    /// An inventory of packages read elsewhere (a bare database file): no
    /// tree, no walk, no accounts.
    pub fn of_databases(dbs: Vec<PackageDb>, os: Option<OsRelease>) -> Scanned {
        Scanned {
            inventory: Inventory::join(
                empty_index(),
                dbs,
                OwnershipPlan::default(),
                &Accounts::default(),
            ),
            os,
            accounts: Accounts::default(),
            problems: Vec::new(),
        }
    }

    /// Whether the inventory is incomplete: a problem, an entry that could
    /// not be indexed, or records dropped from a database.
    pub fn is_incomplete(&self) -> bool {
        !self.problems.is_empty()
            || self.inventory.scan.stats.errors > 0
            || self.inventory.dbs.iter().any(|db| db.dropped > 0)
    }
}

/// Largest bare package database file [`scan_bare_database`] reads.
pub const BARE_DATABASE_LIMIT: u64 = 1 << 30;

/// Why a bare package database file gave no inventory.
#[derive(Debug, thiserror::Error)]
pub enum BareDbError {
    /// The file is larger than [`BARE_DATABASE_LIMIT`].
    #[error("{}: larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a package database bakeproof reads, or a damaged one.
    #[error("{}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: PkgDbError,
    },
}

/// The inventory of a bare package database file (`scan
/// /var/lib/dpkg/status`, an rpm `rpmdb.sqlite` or `Packages` file): its
/// packages, no tree, no walk, no accounts. An rpm database is read by path
/// (an sqlite database's `-wal` beside it holds transactions not yet in the
/// main file); anything else is sniffed from its bytes and its file name.
/// `os` is the distribution the caller knows the database is from (`scan
/// --distro`): it sets the purl namespace and `distro` qualifier and the
/// SBOM's OS component, which a bare file cannot tell.
pub fn scan_bare_database(path: &Path, os: Option<&OsRelease>) -> Result<Scanned, BareDbError> {
    let read_err = |source| BareDbError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > BARE_DATABASE_LIMIT {
        return Err(BareDbError::TooLarge {
            path: path.to_owned(),
            limit: BARE_DATABASE_LIMIT,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read = |os: Option<&OsRelease>| {
        if bakeproof_pkgdb::rpm::sniff(&bytes).is_some() {
            bakeproof_pkgdb::rpm::read_bare_rpm_file(path, os)
        } else {
            bakeproof_pkgdb::read_bare_file(&bytes, &file_name, os)
        }
        .map_err(|source| BareDbError::Database {
            path: path.to_owned(),
            source,
        })
    };
    let mut db = read(os)?;
    // Without --distro, the distribution the database itself names (rpm
    // DISTRIBUTION / VENDOR, Ubuntu maintainers): read again with it, so
    // purls get its namespace (a bare database is small).
    let os = match os {
        Some(os) => Some(os.clone()),
        None => match bakeproof_pkgdb::os_of_database(&db) {
            Some(found) => {
                db = read(Some(&found))?;
                Some(found)
            }
            None => None,
        },
    };
    let os = db.os.clone().or(os);
    Ok(Scanned::of_databases(vec![db], os))
}

fn empty_index() -> bakeproof_index::ScanResult {
    bakeproof_index::ScanResult {
        entries: Vec::new(),
        stats: Default::default(),
        tree_digest: bakeproof_index::tree_digest(&[]),
        excludes: Default::default(),
    }
}

impl<'a> ImageScan<'a> {
    /// A scan of `tree` with `settings`.
    pub fn new(tree: &'a dyn ReadOnlyTree, settings: ScanSettings) -> ImageScan<'a> {
        ImageScan {
            tree,
            settings,
            observers: Vec::new(),
            progress: None,
        }
    }

    /// Adds a content observer that rides the walk's single read of every
    /// file (after the package-digest observer the pipeline always runs).
    pub fn observer(mut self, observer: Arc<dyn ContentObserver>) -> ImageScan<'a> {
        self.observers.push(observer);
        self
    }

    /// Reports walk progress to `progress` (called from worker threads).
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> ImageScan<'a> {
        self.progress = Some(progress);
        self
    }

    /// Reads the package databases, walks the tree once and joins the two.
    /// A damaged os-release, package database or account file costs its
    /// own information, never the file inventory: it is a
    /// [`ScanProblem`] in the result.
    pub fn run(self) -> Result<Scanned, ScanError> {
        let tree = self.tree;
        let mut problems = Vec::new();
        let os = bakeproof_pkgdb::read_os_release(tree).unwrap_or_else(|e| {
            problems.push(ScanProblem::OsRelease(e));
            None
        });
        let dbs: Vec<PackageDb> = bakeproof_pkgdb::read_root(tree).unwrap_or_else(|e| {
            problems.push(ScanProblem::PackageDb(e));
            Vec::new()
        });
        if self.settings.packages_only {
            let mut s = Scanned::of_databases(dbs, os);
            s.problems = problems;
            return Ok(s);
        }
        if let Some(estimate) = expected_bytes(&dbs) {
            log::debug!("about {estimate} bytes to hash (the package databases' installed sizes)");
            if let Some(p) = &self.progress {
                p.expect_bytes(estimate);
            }
        }
        let accounts = read_accounts(tree, &mut problems);
        let mut plan = OwnershipPlan::build(tree, &dbs);
        let mut observers = Vec::with_capacity(2 + self.observers.len());
        observers.push(digest_observer(&plan, &dbs));
        let ecosystems = self
            .settings
            .ecosystems
            .any()
            .then(|| Arc::new(EcosystemObserver::new(self.settings.ecosystems)));
        if let Some(o) = &ecosystems {
            observers.push(o.clone() as Arc<dyn ContentObserver>);
        }
        observers.extend(self.observers);
        let opts = ScanOptions {
            excludes: self.settings.excludes,
            cross_mounts: self.settings.cross_mounts,
            include_runtime_dirs: self.settings.include_runtime_dirs,
            threads: self.settings.threads,
            observers,
            progress: self.progress,
            ..Default::default()
        };
        let index = match &self.settings.only_paths {
            None => tree.walk(&opts)?,
            Some(paths) => {
                let mut entries: Vec<bakeproof_index::Entry> = tree
                    .index_paths(paths, &opts)?
                    .into_iter()
                    .filter(|e| e.error != Some(bakeproof_index::EntryError::Vanished))
                    .collect();
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                entries.dedup_by(|a, b| a.path == b.path);
                bakeproof_index::ScanResult {
                    tree_digest: bakeproof_index::tree_digest(&entries),
                    entries,
                    stats: Default::default(),
                    excludes: Default::default(),
                }
            }
        };
        let mut dbs = dbs;
        if let Some(o) = ecosystems {
            // The language packages the walk's one read found; their
            // listed files (Python's RECORD) join the ownership plan after
            // the walk: their digests are SHA-256, which every entry has.
            let catalog = bakeproof_ecosystems::catalog::build(o.take(), tree);
            plan.add(tree, &catalog.dbs, dbs.len());
            dbs.extend(catalog.dbs);
        }
        Ok(Scanned {
            inventory: Inventory::join(index, dbs, plan, &accounts),
            os,
            accounts,
            problems,
        })
    }
}

/// What the package databases say their packages occupy (dpkg's
/// `Installed-Size`, rpm's `SIZE`): an estimate of the bytes a walk of the
/// whole root hashes (files no package owns come on top; excluded paths
/// and other mounts are in it). `None` when no package states a size.
pub fn expected_bytes(dbs: &[PackageDb]) -> Option<u64> {
    let sizes = dbs
        .iter()
        .flat_map(|db| &db.packages)
        .filter_map(|p| p.installed_size);
    let mut total: Option<u64> = None;
    for s in sizes {
        total = Some(total.unwrap_or(0).saturating_add(s));
    }
    total.filter(|&t| t > 0)
}

/// The tree's own users and groups (rpm -V compares names inside the
/// image). A missing file is no account; any other failure is a problem.
pub fn read_accounts(tree: &dyn ReadOnlyTree, problems: &mut Vec<ScanProblem>) -> Accounts {
    let mut read = |path: &[u8]| match tree.read_file(path, ACCOUNTS_LIMIT) {
        Ok(b) => b,
        Err(e) => {
            if !e.is_not_found() {
                problems.push(ScanProblem::Accounts(e));
            }
            Vec::new()
        }
    };
    let passwd = read(b"/etc/passwd");
    let group = read(b"/etc/group");
    Accounts::parse(&passwd, &group)
}

#[cfg(test)]
mod bare_tests {
    use super::*;

    #[test]
    fn bare_database_files() {
        let dir = std::env::temp_dir().join(format!("bakeproof-bare-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = dir.join("status");
        std::fs::write(
            &status,
            "Package: hello\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.10-3\n\n",
        )
        .unwrap();
        let scanned = scan_bare_database(&status, None).unwrap();
        assert_eq!(scanned.inventory.dbs.len(), 1);
        assert_eq!(scanned.inventory.dbs[0].packages[0].name, "hello");
        assert!(scanned.inventory.scan.entries.is_empty());
        let absent = dir.join("absent");
        assert!(matches!(
            scan_bare_database(&absent, None),
            Err(BareDbError::Read { path, .. }) if path == absent
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
