//! dpkg's database, read the way `dpkg-query` lists it. One file per
//! on-disk format, as [`crate::rpm`] is; the parsers take bytes and return
//! values (as syft's `parse_dpkg_db.go` / `parse_dpkg_info_files.go`), and
//! this module is the wiring: which files of a root are read, in which
//! order, within which [`Budget`], and how they become [`PackageDb`]s.
//!
//! * [`status`]: the status-file format (deb822 stanzas): `status`,
//!   `updates/NNNN`, a `status.d/` file, a bare file given on the command
//!   line.
//! * [`info_files`]: `info/NAME.list`, `NAME.md5sums`, `NAME.conffiles`.
//! * [`diversions`]: the `diversions` file.
//! * [`attach`]: which `info/` files belong to a record, and its licenses.
//! * [`status_d`]: the distroless `status.d/` directory.

mod attach;
mod diversions;
mod info_files;
mod status;
mod status_d;

use std::collections::HashMap;

use bakeproof_index::ReadOnlyTree;

use crate::budget::{Budget, BudgetError};
use crate::{DbKind, OsRelease, PackageDb, PkgDbError};
use attach::{Claims, LicenseCache, finish};
use diversions::parse_diversions;
use status::{Record, records, status_parse};

pub use info_files::parse_md5sums;
pub(crate) use status::status_abbrev;
pub use status::{StatusMode, StatusParse, parse_dpkg_status, parse_dpkg_status_detailed};

/// dpkg's default administrative directory.
pub const DPKG_ADMINDIR: &str = "/var/lib/dpkg";
/// Largest `status` file read. Big desktop installs reach ~10 MiB; the limit
/// only bounds what a hostile image can make us allocate.
pub const STATUS_LIMIT: u64 = 256 << 20;
/// Largest `info/*` or `status.d/*` file read.
pub const INFO_LIMIT: u64 = 64 << 20;

/// Reads all dpkg databases in the root (see [`crate::read_root`]).
///
/// Each database is read within `budget` (see [`crate::budget`]).
pub fn read_dpkg(
    root: &dyn ReadOnlyTree,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<Vec<PackageDb>, PkgDbError> {
    let mut dbs = Vec::new();
    let mut licenses = LicenseCache::default();
    let status_path = join(DPKG_ADMINDIR, b"status");
    match root.read_file(&status_path, STATUS_LIMIT) {
        Ok(bytes) => {
            budget.start_db();
            let location = format!("{DPKG_ADMINDIR}/status");
            let mut db =
                read_status_db(root, &bytes, os, &mut licenses, budget).map_err(|source| {
                    PkgDbError::Budget {
                        file: location,
                        source,
                    }
                })?;
            crate::apt_lists::assign_suppliers(root, &mut db.packages, os, &mut db.warnings);
            dbs.push(db);
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(PkgDbError::root(&status_path, e)),
    }
    let statusd_path = join(DPKG_ADMINDIR, b"status.d");
    match root.read_dir(&statusd_path) {
        Ok(names) => {
            budget.start_db();
            let mut db = status_d::read_statusd_db(root, &names, os, &mut licenses, budget)
                .map_err(|source| PkgDbError::Budget {
                    file: show(&statusd_path),
                    source,
                })?;
            crate::apt_lists::assign_suppliers(root, &mut db.packages, os, &mut db.warnings);
            dbs.push(db);
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(PkgDbError::root(&statusd_path, e)),
    }
    Ok(dbs)
}

fn read_status_db(
    root: &dyn ReadOnlyTree,
    bytes: &[u8],
    os: Option<&OsRelease>,
    licenses: &mut LicenseCache,
    budget: &mut Budget,
) -> Result<PackageDb, BudgetError> {
    let location = format!("{DPKG_ADMINDIR}/status");
    let parsed = records(bytes, Some(StatusMode::Status), &location, budget)?;
    let (mut recs, mut warnings) = (parsed.records, parsed.warnings);
    apply_updates(root, &mut recs, &mut warnings, budget)?;
    recs.retain(|r| r.installed);
    let mut claims = Claims::new(recs.iter());
    let packages = recs
        .into_iter()
        .map(|r| {
            finish(
                root,
                r,
                os,
                None,
                licenses,
                &mut warnings,
                budget,
                &mut claims,
            )
        })
        .collect::<Result<_, _>>()?;
    let div_path = join(DPKG_ADMINDIR, b"diversions");
    let diversions = match root.read_file(&div_path, INFO_LIMIT) {
        Ok(bytes) => parse_diversions(&bytes, &mut warnings),
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => {
            warnings.push(format!("{DPKG_ADMINDIR}/diversions: {e}"));
            Vec::new()
        }
    };
    Ok(PackageDb {
        kind: DbKind::Dpkg,
        location,
        os: os.cloned(),
        packages,
        warnings,
        dropped: 0,
        diversions,
    })
}

/// Applies dpkg's journal: `updates/NNNN` files hold stanzas written by a
/// dpkg run that has not yet folded them into `status` (it was interrupted, or
/// the image was snapshotted mid-run). dpkg-query reads them on top of
/// `status`, in numeric order, so we do too. Only all-digit names are
/// journal entries (dpkg ignores others, e.g. its `tmp.i`).
fn apply_updates(
    root: &dyn ReadOnlyTree,
    recs: &mut Vec<Record>,
    warnings: &mut Vec<String>,
    budget: &mut Budget,
) -> Result<(), BudgetError> {
    let dir = join(DPKG_ADMINDIR, b"updates");
    let names = match root.read_dir(&dir) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => {
            warnings.push(e.to_string());
            return Ok(());
        }
    };
    let mut numbered: Vec<(u64, Vec<u8>)> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
        .filter_map(|n| Some((std::str::from_utf8(&n).ok()?.parse().ok()?, n)))
        .collect();
    numbered.sort();
    for (_, name) in numbered {
        let path = join(&show(&dir), &name);
        let Some(bytes) = read_optional(root, &path, warnings) else {
            continue;
        };
        let parsed = records(&bytes, Some(StatusMode::Status), &show(&path), budget)?;
        let new = parsed.records;
        warnings.extend(parsed.warnings);
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, o) in recs.iter().enumerate() {
            index.insert((o.pkg.name.as_str(), o.pkg.arch.as_str()), i);
        }
        let mut replaced: Vec<(Option<usize>, Record)> = Vec::new();
        for r in new {
            let at = index
                .get(&(r.pkg.name.as_str(), r.pkg.arch.as_str()))
                .copied();
            replaced.push((at, r));
        }
        for (at, r) in replaced {
            match at {
                Some(i) => recs[i] = r,
                None => recs.push(r),
            }
        }
    }
    Ok(())
}

/// See [`crate::read_bare_file`].
pub(crate) fn read_bare(
    bytes: &[u8],
    file_name: &str,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<PackageDb, PkgDbError> {
    let (p, mode) =
        status_parse(bytes, None, file_name, os, budget).map_err(|source| PkgDbError::Budget {
            file: file_name.to_owned(),
            source,
        })?;
    p.check_is_status(bytes, file_name)?;
    Ok(PackageDb {
        kind: match mode {
            StatusMode::Status => DbKind::Dpkg,
            StatusMode::StatusD => DbKind::DpkgDistroless,
        },
        location: file_name.to_owned(),
        os: os.cloned(),
        packages: p.packages,
        warnings: p.warnings,
        dropped: 0,
        diversions: Vec::new(),
    })
}

fn join(dir: &str, name: &[u8]) -> Vec<u8> {
    let mut p = dir.as_bytes().to_vec();
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Reads one optional file: `Ok(None)` when absent, a warning (and `None`)
/// when present but unreadable.
fn read_optional(
    root: &dyn ReadOnlyTree,
    path: &[u8],
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    match root.read_file(path, INFO_LIMIT) {
        Ok(b) => Some(b),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    }
}
