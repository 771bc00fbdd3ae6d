//! Package databases of a scanned root, read into one ecosystem-neutral model.
//!
//! A golden image is only provable if we can say, for every file on it, which
//! package claims it and with which digest. That claim lives in the package
//! manager's own database, so this crate reads those databases exactly as the
//! package manager would list them (the tests compare against real
//! `dpkg-query` output) and returns plain values: [`PackageDb`] holding
//! [`Package`]s holding [`PackageFile`]s.
//!
//! Design rules:
//! * Parsers take bytes and return values, so each can be fuzzed without a
//!   filesystem. Reading from an image goes through
//!   [`bakeproof_index::ReadOnlyTree`] (a directory [`bakeproof_index::Root`]
//!   today), so symlinks in the image (`etc/os-release ->
//!   ../usr/lib/os-release`, absolute `var/run -> /run`) resolve inside it,
//!   never on the host.
//! * Damage is reported, not fatal: a corrupt stanza or a missing info file
//!   becomes a string in [`PackageDb::warnings`] and the rest is still read.
//!   Only failures that make the whole database unreadable are errors.
//! * The model has room for rpm (per-file mode, owner, size, flags...) which
//!   dpkg does not record; those fields are `None` for dpkg.

mod apt_lists;
pub mod budget;
mod codec;
mod copyright;
pub mod deb822;
mod dpkg;
mod os_release;
mod purl;
pub mod rpm;
pub mod version;

use bakeproof_index::{ReadOnlyTree, RootError};

pub use apt_lists::{
    APT_LISTS_DIR, IndexEntry, ORIGIN_SOURCE_PROPERTY, ReleaseInfo, for_each_index_entry,
    parse_release,
};
pub use budget::{Budget, BudgetError, BudgetScope, DB_BUDGET, SCAN_BUDGET};

pub use copyright::{COPYRIGHT_LIMIT, licenses as dep5_licenses};
pub use dpkg::{
    DPKG_ADMINDIR, INFO_LIMIT, STATUS_LIMIT, StatusMode, StatusParse, parse_dpkg_status,
    parse_dpkg_status_detailed, parse_md5sums, read_dpkg,
};
pub use os_release::{
    OS_RELEASE_LIMIT, OS_RELEASE_PATHS, OsRelease, os_of_database, read_os_release,
};
pub use purl::{
    build as build_purl, deb_purl, encode_component as purl_encode, rpm_namespace, rpm_purl,
};

/// Which package manager a package belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Deb,
    Rpm,
    /// Python distributions (`.dist-info`, `.egg-info`).
    Pypi,
    /// npm packages (`node_modules`, `package-lock.json`).
    Npm,
    /// Go modules compiled into a Go binary.
    Golang,
    /// Java archives (Maven coordinates).
    Maven,
    /// Rust crates recorded by cargo-auditable in a binary.
    Cargo,
}

impl Ecosystem {
    /// The purl type of this ecosystem (`deb`, `rpm`, `pypi`, `npm`,
    /// `golang`, `maven`, `cargo`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Golang => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::Cargo => "cargo",
        }
    }

    /// The ecosystem of a purl type (`as_str`'s inverse).
    pub fn from_purl_type(t: &str) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.as_str() == t)
    }

    /// A package manager of the operating system (dpkg, rpm), as opposed
    /// to a language ecosystem whose packages the walk finds in files.
    pub fn is_os(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Rpm)
    }

    /// The language ecosystem's name in `bakeproof:package:ecosystem`
    /// (`python`, `npm`, `go`, `java`, `rust`; `deb`, `rpm` for the OS's).
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "python",
            Ecosystem::Golang => "go",
            Ecosystem::Maven => "java",
            Ecosystem::Cargo => "rust",
            e => e.as_str(),
        }
    }

    pub const ALL: [Ecosystem; 7] = [
        Ecosystem::Deb,
        Ecosystem::Rpm,
        Ecosystem::Pypi,
        Ecosystem::Npm,
        Ecosystem::Golang,
        Ecosystem::Maven,
        Ecosystem::Cargo,
    ];

    /// The language ecosystems.
    pub const LANGUAGES: [Ecosystem; 5] = [
        Ecosystem::Pypi,
        Ecosystem::Npm,
        Ecosystem::Golang,
        Ecosystem::Maven,
        Ecosystem::Cargo,
    ];
}

/// Digest algorithms package databases use for file contents. dpkg only
/// knows MD5; rpm's `FILEDIGESTALGO` can name any of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgo {
    /// Length of the digest in bytes.
    pub fn byte_len(self) -> usize {
        match self {
            DigestAlgo::Md5 => 16,
            DigestAlgo::Sha1 => 20,
            DigestAlgo::Sha224 => 28,
            DigestAlgo::Sha256 => 32,
            DigestAlgo::Sha384 => 48,
            DigestAlgo::Sha512 => 64,
        }
    }

    /// Lower-case name as CycloneDX/SPDX-ish tools spell it (`md5`, `sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgo::Md5 => "md5",
            DigestAlgo::Sha1 => "sha1",
            DigestAlgo::Sha224 => "sha224",
            DigestAlgo::Sha256 => "sha256",
            DigestAlgo::Sha384 => "sha384",
            DigestAlgo::Sha512 => "sha512",
        }
    }
}

/// A file digest as the package database records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileDigest {
    pub algo: DigestAlgo,
    /// Lower-case hex, exactly `2 * algo.byte_len()` characters.
    pub hex: String,
}

impl FileDigest {
    /// Validates and lower-cases a hex digest; `None` when it is not
    /// `2 * algo.byte_len()` hex digits (dpkg writes placeholders such as
    /// `newconffile` in `Conffiles:`, rpm writes empty strings for
    /// directories; neither is a digest to compare against).
    pub fn from_hex(algo: DigestAlgo, hex: &str) -> Option<FileDigest> {
        let hex = hex.trim();
        (hex.len() == 2 * algo.byte_len() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(
            || FileDigest {
                algo,
                hex: hex.to_ascii_lowercase(),
            },
        )
    }
}

/// One path a package claims.
///
/// dpkg only records the path, an MD5 for regular files and which paths are
/// conffiles. The other fields exist for rpm, which records mode, size,
/// owner, mtime, link target and flags per file; they are `None` for dpkg so
/// verification code can tell "not recorded" from "recorded as zero".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageFile {
    /// Absolute path exactly as the database lists it (a dpkg `.list` line,
    /// e.g. `/bin/bzip2` even where `/bin` is a symlink to `usr/bin`): that
    /// string is what the package manager matches, so it is kept verbatim.
    pub path: Vec<u8>,
    /// dpkg: MD5 from `info/*.md5sums`, or for a conffile the MD5 of the
    /// `Conffiles:` field (which is what `dpkg --verify` uses for them).
    pub digest: Option<FileDigest>,
    /// dpkg conffile / rpm `%config`.
    pub config: bool,
    /// rpm: full `st_mode` including the file type bits.
    pub mode: Option<u32>,
    /// rpm: file size in bytes.
    pub size: Option<u64>,
    /// rpm: owner user name.
    pub user: Option<String>,
    /// rpm: owner group name.
    pub group: Option<String>,
    /// rpm: modification time, seconds since the epoch.
    pub mtime: Option<i64>,
    /// rpm: symlink target.
    pub link_target: Option<Vec<u8>>,
    /// rpm: `RPMFILE_*` flags (config, doc, ghost, ...), raw.
    pub flags: Option<u32>,
    /// rpm: `FILERDEVS` (device number of a device node, 0 otherwise).
    pub rdev: Option<u32>,
    /// rpm: `FILECAPS` (`cap_to_text` form), `None` when empty/absent.
    pub caps: Option<String>,
    /// rpm: `FILEVERIFYFLAGS` (`RPMVERIFY_*` bits `rpm -V` checks), raw.
    pub verify_flags: Option<u32>,
    /// rpm: `FILESTATES` (0 normal, 1 replaced, 2 not installed, 3 net
    /// shared, 4 wrong color, -1 missing), raw byte.
    pub state: Option<u8>,
    /// rpm: `FILEINODES` (build-time inode, groups hard links), raw.
    pub inode: Option<u32>,
}

impl PackageFile {
    /// A file entry with only a path (all else unknown).
    pub fn new(path: impl Into<Vec<u8>>) -> PackageFile {
        PackageFile {
            path: path.into(),
            ..PackageFile::default()
        }
    }
}

/// One clause of `Depends:`/`Pre-Depends:`: any one of the alternatives
/// satisfies it. Only names are kept (version constraints and `:any` /
/// `:amd64` qualifiers are dropped): enough for a dependency graph in an
/// SBOM, which links packages, not constraints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependency {
    pub alternatives: Vec<String>,
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// Full version as the package manager prints it; deb keeps the epoch
    /// (`1:2.66-4+deb12u2+b2`).
    pub version: String,
    /// The epoch of `version`, `None` when the version has none.
    pub epoch: Option<u64>,
    pub arch: String,
    /// dpkg `Source:` name, `None` when the field is absent (then the
    /// source package has the binary's name: [`Package::source_name_or_self`]).
    pub source_name: Option<String>,
    /// Version in `Source: name (version)`, `None` when absent (then the
    /// source version is the binary version: [`Package::source_version_or_self`]).
    pub source_version: Option<String>,
    /// License short names from a machine-readable copyright file; see
    /// [`dep5_licenses`].
    pub licenses: Vec<String>,
    /// The distributor. dpkg: the `Origin:` of the apt archive listing the
    /// package at this version (`/var/lib/apt/lists`), else the stanza's
    /// `Origin:`, else the root's distribution (property
    /// `deb:origin-source` says which); rpm `VENDOR`.
    pub supplier: Option<String>,
    /// Who made the package: dpkg `Maintainer:`; rpm `PACKAGER`.
    pub author: Option<String>,
    /// First line of `Description:`.
    pub summary: Option<String>,
    pub homepage: Option<String>,
    /// Bytes (dpkg records KiB; multiplied by 1024 here).
    pub installed_size: Option<u64>,
    /// Raw `Multi-Arch:` (`same`, `foreign`, `allowed`, `no`).
    pub multi_arch: Option<String>,
    /// Raw `Status:` (`install ok installed`); `None` in `status.d` stanzas
    /// that have none.
    pub status: Option<String>,
    /// `Depends:` clauses, then `Pre-Depends:` clauses.
    pub depends: Vec<Dependency>,
    /// Names from `Provides:`.
    pub provides: Vec<String>,
    pub purl: String,
    /// Files in database order (dpkg: `.list` order, which is what
    /// `dpkg-query -L` prints).
    pub files: Vec<PackageFile>,
    /// The package's key in its database: dpkg `name:arch` for
    /// `Multi-Arch: same`, else `name`. This is the stem of its `info/` files
    /// and the name `dpkg-query` prints for `${binary:Package}` and `-S`.
    /// rpm: the NEVRA `name-[epoch:]version-release.arch`, as `rpm -q`
    /// prints `%{NEVRA}` (the database's own record number is the
    /// `rpm:dbkey` property).
    pub db_key: String,
    /// Raw package-manager values with no field of their own, as
    /// `(key, value)` in a fixed order. Empty for dpkg. For rpm see
    /// [`rpm::package_from_header`]: keys `rpm:version`, `rpm:release`,
    /// `rpm:arch`, `rpm:sourcerpm`, `rpm:license`, `rpm:vendor`, ... each
    /// present exactly when the header has the tag (so `(none)` and an
    /// empty value stay distinguishable).
    pub properties: Vec<(String, String)>,
    /// Where a language package was found: the files its metadata was read
    /// from (a `METADATA`, a `package.json`, an archive, a binary), physical
    /// paths inside the root, sorted. Empty for dpkg and rpm packages.
    pub locations: Vec<Vec<u8>>,
    /// Digests of the package's artifact itself as (CycloneDX algorithm
    /// name, lower hex): a Java archive's `SHA-1`. Empty for dpkg and rpm.
    pub hashes: Vec<(String, String)>,
}

impl Package {
    /// dpkg-query's `${source:Package}`: the `Source:` name, or the binary
    /// package's own name when there is no `Source:` field.
    pub fn source_name_or_self(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.name)
    }

    /// dpkg-query's `${source:Version}`: the version in `Source: name
    /// (version)`, or the binary version when none is given.
    pub fn source_version_or_self(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }

    /// dpkg-query's `${db:Status-Abbrev}` (`ii `): want, status and error
    /// flag as three letters. `None` when there is no parseable `Status:`.
    pub fn status_abbrev(&self) -> Option<String> {
        dpkg::status_abbrev(self.status.as_deref()?)
    }
}

/// Which kind of database a [`PackageDb`] was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbKind {
    /// `/var/lib/dpkg/status` with `info/` (and `updates/` applied).
    Dpkg,
    /// `/var/lib/dpkg/status.d/`: one file per package, as distroless images
    /// ship them (no `dpkg` binary, often no `Status:` field).
    DpkgDistroless,
    /// rpm's sqlite backend, `rpmdb.sqlite` (rpm >= 4.16 default).
    RpmSqlite,
    /// rpm's Berkeley DB hash `Packages` (rpm < 4.16).
    RpmBdb,
    /// rpm's NDB backend, `Packages.db` (SUSE).
    RpmNdb,
    /// Packages of a language ecosystem found in the tree's files by the
    /// walk (`bakeproof-ecosystems`), not read from a database.
    Files(Ecosystem),
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Dpkg => "dpkg",
            DbKind::DpkgDistroless => "dpkg-distroless",
            DbKind::RpmSqlite => "rpm-sqlite",
            DbKind::RpmBdb => "rpm-bdb",
            DbKind::RpmNdb => "rpm-ndb",
            DbKind::Files(e) => e.name(),
        }
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            DbKind::Dpkg | DbKind::DpkgDistroless => Ecosystem::Deb,
            DbKind::RpmSqlite | DbKind::RpmBdb | DbKind::RpmNdb => Ecosystem::Rpm,
            DbKind::Files(e) => e,
        }
    }
}

/// One package database and what was read from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageDb {
    pub kind: DbKind,
    /// Where it was found, inside the root (`/var/lib/dpkg/status`) or the
    /// file name given for a bare file.
    pub location: String,
    pub os: Option<OsRelease>,
    /// Installed packages in database order.
    pub packages: Vec<Package>,
    /// Everything that could not be read, one line each, with its path.
    pub warnings: Vec<String>,
    /// Records of the database that were lost (each also has a line in
    /// `warnings`): rpm headers that did not parse and records the BDB /
    /// NDB / sqlite reader had to skip (an sqlite scan that broke off counts
    /// once). A database with dropped records is an incomplete inventory.
    /// Always 0 for dpkg.
    pub dropped: usize,
    /// dpkg diversions (`dpkg-divert`): a package's file installed under
    /// another name. Empty for other databases.
    pub diversions: Vec<Diversion>,
}

/// One dpkg diversion: files listed as `from` by any package other than
/// `by` live at `to` on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diversion {
    pub from: Vec<u8>,
    pub to: Vec<u8>,
    /// The diverting package; `None` for a local diversion (`:`), which
    /// diverts every package's file.
    pub by: Option<String>,
}

impl PackageDb {
    /// Where `pkg`'s listed `path` is installed, after diversions.
    pub fn diverted<'a>(&'a self, pkg: &str, path: &'a [u8]) -> &'a [u8] {
        for d in &self.diversions {
            if d.from == path && d.by.as_deref() != Some(pkg) {
                return &d.to;
            }
        }
        path
    }
}

/// Failures that make a whole database unreadable. Per-package damage is a
/// warning instead (see [`PackageDb::warnings`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkgDbError {
    /// A file or directory inside the root could not be read (the root
    /// error's message names the path).
    #[error("{source}")]
    Read {
        /// The path inside the root, as given (lossy UTF-8).
        path: String,
        #[source]
        source: RootError,
    },
    /// A bare file that is not a package database this crate reads.
    #[error("{file}: not a dpkg status file: {reason}")]
    NotADatabase { file: String, reason: String },
    /// An rpm database that cannot be read at all (not sqlite / BDB / NDB,
    /// no `Packages` table, corrupt beyond the first record, ...).
    #[error("{file}: unreadable rpm database: {reason}")]
    Rpm { file: String, reason: String },
    /// Building what the database describes would pass a memory budget
    /// (see [`budget`]); nothing of the database is kept.
    #[error("{file}: {source}")]
    Budget {
        file: String,
        #[source]
        source: BudgetError,
    },
    /// A recognised database format that is not implemented yet.
    #[error("{file}: {format} databases are not supported yet")]
    Unsupported { file: String, format: &'static str },
}

impl PkgDbError {
    pub(crate) fn root(path: &[u8], source: RootError) -> PkgDbError {
        PkgDbError::Read {
            path: String::from_utf8_lossy(path).into_owned(),
            source,
        }
    }
}

/// Finds and reads every package database in the root: dpkg's
/// `/var/lib/dpkg/status` (with `info/*.list`, `*.md5sums`, `*.conffiles`
/// and pending `updates/`), distroless `/var/lib/dpkg/status.d/`, and rpm's
/// databases in `/var/lib/rpm`, `/usr/lib/sysimage/rpm` and `/usr/share/rpm`
/// (`rpmdb.sqlite` with its `-wal`, `Packages.db`, `Packages`; see
/// [`rpm::read_rpm`]). `Ok(vec![])` when there is none.
///
/// os-release is read once and attached to every database (it decides the
/// purl namespace); an unreadable os-release is a warning, not an error.
///
/// Memory: every database is read within [`DB_BUDGET`] and all of them
/// together within [`SCAN_BUDGET`] ([`read_root_in`] takes other limits);
/// going over is [`PkgDbError::Budget`].
pub fn read_root(root: &dyn ReadOnlyTree) -> Result<Vec<PackageDb>, PkgDbError> {
    read_root_in(root, &mut Budget::default())
}

/// [`read_root`] within `budget` (its scan count goes on across calls).
pub fn read_root_in(
    root: &dyn ReadOnlyTree,
    budget: &mut Budget,
) -> Result<Vec<PackageDb>, PkgDbError> {
    let (os, os_warning) = match read_os_release(root) {
        Ok(os) => (os, None),
        Err(e) => (None, Some(format!("os-release: {e}"))),
    };
    let mut dbs = dpkg::read_dpkg(root, os.as_ref(), budget)?;
    // A damaged or hostile rpm location (a FIFO named rpmdb.sqlite, a link
    // loop) must not cost the dpkg packages already read.
    match rpm::read_rpm(root, os.as_ref(), budget) {
        Ok(r) => dbs.extend(r),
        Err(e) if !dbs.is_empty() => dbs[0].warnings.push(format!("rpm database not read: {e}")),
        Err(e) => return Err(e),
    }
    match &os {
        Some(os) => log::info!(
            "os-release: ID={} VERSION_ID={}",
            os.id.as_deref().unwrap_or("(none)"),
            os.version_id.as_deref().unwrap_or("(none)")
        ),
        None => log::info!("os-release: none"),
    }
    if dbs.is_empty() {
        log::info!("no package database found");
    }
    for db in &mut dbs {
        log::info!(
            "{} database {}: {} packages{}",
            db.kind.as_str(),
            db.location,
            db.packages.len(),
            if db.warnings.is_empty() {
                String::new()
            } else {
                format!(", {} warnings", db.warnings.len())
            }
        );
        if let Some(w) = &os_warning {
            db.warnings.insert(0, w.clone());
        }
    }
    Ok(dbs)
}

/// Reads a bare database file given on the command line: an rpm database
/// (sqlite, NDB or Berkeley DB hash, recognised by magic), a dpkg `status`
/// file, or one `status.d/` stanza file. `os` sets the purl namespace and
/// `distro` qualifier when known (for rpm without `os`, see
/// [`rpm_namespace`]).
///
/// From bytes alone an sqlite database's `-wal` file cannot be found:
/// transactions still only in it are missing. [`rpm::read_bare_rpm_file`]
/// takes a path and reads the `-wal` beside it; prefer it for files on disk.
///
/// dpkg: without the surrounding root there are no `info/` files, so each
/// package's `files` are only its conffiles (from `Conffiles:`), and
/// `licenses` is empty. A file in which no stanza has a `Status:` field is
/// taken for a distroless `status.d` file ([`DbKind::DpkgDistroless`], every
/// stanza installed); otherwise stanzas without `Status:` are not installed,
/// as for dpkg.
///
/// Errors: an rpm database that cannot be read at all, and (dpkg) files in
/// which no stanza has a `Package:` field.
pub fn read_bare_file(
    bytes: &[u8],
    file_name: &str,
    os: Option<&OsRelease>,
) -> Result<PackageDb, PkgDbError> {
    if let Some(kind) = rpm::sniff(bytes) {
        return rpm::read_rpm_bytes(kind, bytes, None, file_name, os, &mut Budget::default());
    }
    if sniff_bdb_other(bytes) {
        return Err(PkgDbError::Rpm {
            file: file_name.to_owned(),
            reason: "Berkeley DB file that is not a hash database (rpm's Packages is one)".into(),
        });
    }
    dpkg::read_bare(bytes, file_name, os, &mut Budget::default())
}

/// Berkeley DB btree magic at offset 12 (either byte order): not something
/// rpm writes as `Packages`, but not a dpkg file either.
fn sniff_bdb_other(bytes: &[u8]) -> bool {
    let r = codec::Reader::new(bytes);
    [codec::Endian::Little, codec::Endian::Big]
        .into_iter()
        .any(|e| r.u32_at(12, e) == Ok(0x0005_3162))
}
