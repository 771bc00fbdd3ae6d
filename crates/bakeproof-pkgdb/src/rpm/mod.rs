//! rpm databases: sqlite (`rpmdb.sqlite`), Berkeley DB hash (`Packages`)
//! and NDB (`Packages.db`), each read into raw header blobs
//! ([`bdb::BlobSet`]) and every blob parsed by [`parse_header_blob`] into a
//! [`Package`].
//!
//! Where rpm's data goes in the model ([`package_from_header`]):
//!
//! | rpm | [`Package`] |
//! | --- | --- |
//! | NAME | `name` |
//! | `[EPOCH:]VERSION-RELEASE` | `version` (the full EVR rpm prints as `%{EVR}`: unlike `VERSION-RELEASE` it keeps packages that differ only by epoch apart, and it is what `rpm -q` compares; deb keeps its epoch the same way) |
//! | EPOCH | `epoch` (only when the tag exists: `Epoch: 0` is `Some(0)`) |
//! | ARCH | `arch` (empty when absent, e.g. `gpg-pubkey`) |
//! | SOURCERPM `n-v-r.src.rpm` | `source_name` = `n`, `source_version` = `v-r` |
//! | LICENSE | `licenses` = `[LICENSE]`, one SPDX-ish expression, unsplit |
//! | VENDOR | `supplier` (when non-empty) |
//! | PACKAGER | `author` (when non-empty) |
//! | SUMMARY | `summary`; URL -> `homepage`; LONGSIZE/SIZE -> `installed_size` |
//! | REQUIRENAME | `depends`, one single-alternative clause per capability, `rpmlib(...)` left out (rpm-internal features, never a package); these are capabilities, resolved through other packages' `provides` |
//! | PROVIDENAME | `provides` |
//! | files | `files` ([`PackageFile`]: path = dirname + basename, digest when non-empty and well-formed, `config` = `RPMFILE_CONFIG`, mode, size, user, group, mtime, link target when non-empty, flags, rdev, caps when non-empty, verify flags, state, inode) |
//! | NEVRA | `db_key` |
//!
//! Everything else is kept raw in [`Package::properties`], each key present
//! exactly when the header has the tag, in this order: `rpm:version`,
//! `rpm:release`, `rpm:arch`, `rpm:sourcerpm`, `rpm:license`, `rpm:vendor`,
//! `rpm:distribution`, `rpm:buildtime`, `rpm:installtime` (decimal seconds
//! since the epoch), `rpm:sigmd5` (lower-case hex), `rpm:sha256header`,
//! `rpm:modularitylabel`, `rpm:filedigestalgo` (rpm's number), and always
//! `rpm:dbkey` (the record's key in its database: sqlite `hnum`, BDB key,
//! NDB package index).

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use std::collections::HashSet;

use bakeproof_index::ReadOnlyTree;

pub use bdb::{BlobRecord, BlobSet, is_bdb_hash, read_bdb_packages};
pub use header::{
    HeaderError, RpmDependency, RpmFile, RpmHeader, parse_header_blob, parse_header_blob_in,
};
pub use ndb::{is_ndb, read_ndb_packages};
pub use sqlite::{SqliteError, is_sqlite, read_sqlite_packages};

use crate::budget::{Budget, BudgetError, SLACK};
use crate::{
    DbKind, Dependency, Ecosystem, FileDigest, OsRelease, Package, PackageDb, PackageFile,
    PkgDbError, rpm_purl,
};

/// Directories rpm databases live in, in the order searched: the classic
/// dbpath, the one Fedora 36+/openSUSE moved to (`/var/lib/rpm` is often a
/// symlink to it), and the one rpm-ostree images ship.
pub const RPM_DB_DIRS: [&str; 3] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm"];

/// Database file names in one directory, in order of preference.
pub const RPM_DB_FILES: [(&str, DbKind); 3] = [
    ("rpmdb.sqlite", DbKind::RpmSqlite),
    ("Packages.db", DbKind::RpmNdb),
    ("Packages", DbKind::RpmBdb),
];

/// Largest rpm database file read (big Fedora desktops reach ~300 MiB of
/// sqlite); only bounds what a hostile image can make us allocate.
pub const RPMDB_LIMIT: u64 = 1 << 30;

/// Maps one parsed header into the model (see the module docs for where
/// every tag goes). `key` is the record's database key (`rpm:dbkey`).
/// Consumes the header: file paths, names and digests are moved, not copied.
pub fn package_from_header(h: RpmHeader, key: u32, os: Option<&OsRelease>) -> Package {
    let algo = h.digest_algo();
    let epoch = h.epoch.map(u64::from);
    let evr = h.evr();
    let arch = h.arch.clone().unwrap_or_default();
    let (source_name, source_version) = h
        .source_rpm
        .as_deref()
        .and_then(parse_srpm)
        .map_or((None, None), |(n, v)| (Some(n), Some(v)));
    let purl = rpm_purl(
        &h.name,
        h.version.as_deref(),
        h.release.as_deref(),
        epoch,
        &arch,
        h.source_rpm.as_deref().filter(|s| !s.is_empty()),
        os,
        h.vendor.as_deref(),
    );
    let mut db_key = format!("{}-{evr}", h.name);
    if let Some(a) = &h.arch {
        db_key.push('.');
        db_key.push_str(a);
    }
    let mut props: Vec<(String, String)> = Vec::with_capacity(14);
    let mut prop = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            props.push((k.to_owned(), v));
        }
    };
    prop("rpm:version", h.version);
    prop("rpm:release", h.release);
    prop("rpm:arch", h.arch);
    prop("rpm:sourcerpm", h.source_rpm);
    prop("rpm:license", h.license.clone());
    prop("rpm:vendor", h.vendor.clone());
    prop("rpm:distribution", h.distribution);
    prop("rpm:buildtime", h.build_time.map(|t| t.to_string()));
    prop("rpm:installtime", h.install_time.map(|t| t.to_string()));
    prop("rpm:sigmd5", h.sigmd5.as_deref().map(hex));
    prop("rpm:sha256header", h.sha256_header);
    prop("rpm:modularitylabel", h.modularity_label);
    prop(
        "rpm:filedigestalgo",
        h.file_digest_algo.map(|a| a.to_string()),
    );
    prop("rpm:dbkey", Some(key.to_string()));

    let files = h
        .files
        .into_iter()
        .map(|f| PackageFile {
            digest: algo
                .filter(|_| !f.digest.is_empty())
                .and_then(|a| FileDigest::from_hex(a, &f.digest)),
            config: f.flags.is_some_and(|x| x & header::RPMFILE_CONFIG != 0),
            mode: f.mode.map(u32::from),
            size: f.size,
            user: f.user,
            group: f.group,
            mtime: f.mtime.map(i64::from),
            link_target: f.link_to.filter(|l| !l.is_empty()),
            flags: f.flags,
            rdev: f.rdev.map(u32::from),
            caps: f.caps.filter(|c| !c.is_empty()),
            verify_flags: f.verify_flags,
            state: f.state,
            inode: f.inode,
            path: f.path,
        })
        .collect();
    Package {
        ecosystem: Ecosystem::Rpm,
        purl,
        name: h.name,
        version: evr,
        epoch,
        arch,
        source_name,
        source_version,
        licenses: h.license.into_iter().filter(|l| !l.is_empty()).collect(),
        supplier: h.vendor.filter(|v| !v.is_empty()),
        author: h.packager.filter(|v| !v.is_empty()),
        summary: h.summary.filter(|s| !s.is_empty()),
        homepage: h.url.filter(|s| !s.is_empty()),
        installed_size: h.size,
        multi_arch: None,
        status: None,
        depends: h
            .requires
            .into_iter()
            .filter(|r| !r.name.starts_with("rpmlib("))
            .map(|r| Dependency {
                alternatives: vec![r.name],
            })
            .collect(),
        provides: h.provides,
        files,
        db_key,
        properties: props,
        locations: Vec::new(),
        hashes: Vec::new(),
    }
}

/// Splits a source rpm file name `name-version-release.src.rpm` (or
/// `.nosrc.rpm`) into `(name, "version-release")`. `None` when it has not
/// that shape.
pub fn parse_srpm(srpm: &str) -> Option<(String, String)> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(H[usize::from(x >> 4)]));
        s.push(char::from(H[usize::from(x & 15)]));
    }
    s
}

/// Parses every blob of `set` into packages within `budget`; unreadable
/// records and the set's own errors become warnings prefixed with
/// `location`, and are counted in the third value (records dropped).
pub fn packages_from_blobs(
    set: &BlobSet,
    location: &str,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<(Vec<Package>, Vec<String>, usize), BudgetError> {
    let mut warnings: Vec<String> = set
        .errors
        .iter()
        .map(|e| format!("{location}: {e}"))
        .collect();
    let mut dropped = set.errors.len();
    budget.charge(
        set.records.len() as u64 * (std::mem::size_of::<Package>() as u64 + 16 * SLACK),
        || format!("{} packages", set.records.len()),
    )?;
    let mut packages = Vec::with_capacity(set.records.len());
    for r in &set.records {
        match parse_header_blob_in(&r.blob, budget) {
            Ok(mut h) => {
                for w in std::mem::take(&mut h.warnings) {
                    warnings.push(format!("{location}: record {} ({}): {w}", r.key, h.name));
                }
                let freed = h.transient_cost();
                packages.push(package_from_header(h, r.key, os));
                budget.refund(freed);
            }
            Err(HeaderError::Budget(mut e)) => {
                e.what = format!("record {}: {}", r.key, e.what);
                return Err(e);
            }
            Err(e) => {
                dropped += 1;
                warnings.push(format!("{location}: record {}: {e}", r.key));
            }
        }
    }
    Ok((packages, warnings, dropped))
}

/// Reads one database of a known kind from its bytes (`wal`: the sqlite
/// `-wal` file's bytes, ignored for other kinds), within `budget` (whose
/// database count starts again here).
pub fn read_rpm_bytes(
    kind: DbKind,
    bytes: &[u8],
    wal: Option<&[u8]>,
    location: &str,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<PackageDb, PkgDbError> {
    let fail = |reason: String| PkgDbError::Rpm {
        file: location.to_owned(),
        reason,
    };
    let set = match kind {
        DbKind::RpmSqlite => read_sqlite_packages(bytes, wal).map_err(|e| fail(e.to_string()))?,
        DbKind::RpmBdb => read_bdb_packages(bytes).map_err(|e| fail(e.to_string()))?,
        DbKind::RpmNdb => read_ndb_packages(bytes).map_err(|e| fail(e.to_string()))?,
        other => {
            return Err(fail(format!(
                "{} is not an rpm database kind",
                other.as_str()
            )));
        }
    };
    budget.start_db();
    let (packages, warnings, dropped) =
        packages_from_blobs(&set, location, os, budget).map_err(|source| PkgDbError::Budget {
            file: location.to_owned(),
            source,
        })?;
    Ok(PackageDb {
        kind,
        location: location.to_owned(),
        os: os.cloned(),
        packages,
        warnings,
        dropped,
        diversions: Vec::new(),
    })
}

/// Which rpm database format `bytes` are, by magic.
pub fn sniff(bytes: &[u8]) -> Option<DbKind> {
    if is_sqlite(bytes) {
        Some(DbKind::RpmSqlite)
    } else if is_ndb(bytes) {
        Some(DbKind::RpmNdb)
    } else if is_bdb_hash(bytes) {
        Some(DbKind::RpmBdb)
    } else {
        None
    }
}

/// Finds and reads the rpm databases of a root (see [`crate::read_root`]).
///
/// In each of [`RPM_DB_DIRS`] the first of [`RPM_DB_FILES`] that exists is
/// read (rpm itself uses one backend per dbpath; a leftover file of another
/// backend, e.g. a `Packages` kept after a conversion to sqlite, is named in
/// a warning, not read). Directories are compared after resolving symlinks
/// inside the root, so `/var/lib/rpm -> ../../usr/lib/sysimage/rpm` is read
/// once. For sqlite the `rpmdb.sqlite-wal` beside it is read too.
///
/// Each database is read within `budget` (see [`crate::budget`]).
pub fn read_rpm(
    root: &dyn ReadOnlyTree,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<Vec<PackageDb>, PkgDbError> {
    let mut dbs = Vec::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    for dir in RPM_DB_DIRS {
        let canon = match root.canonicalize(dir.as_bytes()) {
            Ok(c) => c,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(PkgDbError::root(dir.as_bytes(), e)),
        };
        if !seen.insert(canon) {
            continue;
        }
        let mut found: Option<(String, DbKind, Vec<u8>)> = None;
        let mut ignored = Vec::new();
        for (file, kind) in RPM_DB_FILES {
            let path = format!("{dir}/{file}");
            if found.is_some() {
                if matches!(root.kind_of(path.as_bytes()), Ok(Some(_))) {
                    ignored.push(path);
                }
                continue;
            }
            match root.read_file(path.as_bytes(), RPMDB_LIMIT) {
                Ok(b) => found = Some((path, kind, b)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(PkgDbError::root(path.as_bytes(), e)),
            }
        }
        let Some((path, kind, bytes)) = found else {
            continue;
        };
        let wal = if kind == DbKind::RpmSqlite {
            let wal_path = format!("{path}-wal");
            match root.read_file(wal_path.as_bytes(), RPMDB_LIMIT) {
                Ok(b) => Some(b),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(PkgDbError::root(wal_path.as_bytes(), e)),
            }
        } else {
            None
        };
        let mut db = read_rpm_bytes(kind, &bytes, wal.as_deref(), &path, os, budget)?;
        for i in ignored {
            db.warnings
                .push(format!("{i}: not read: {path} is the database in use here"));
        }
        dbs.push(db);
    }
    Ok(dbs)
}

/// Reads a bare rpm database file from the host (not inside a root), taking
/// the `-wal` file beside an sqlite database into account: `<path>-wal` is
/// read when it exists (read only; nothing is created beside `path`).
/// `location` in the result is `path` as given. Errors when the file is not
/// an rpm database.
pub fn read_bare_rpm_file(
    path: &std::path::Path,
    os: Option<&OsRelease>,
) -> Result<PackageDb, PkgDbError> {
    let location = path.display().to_string();
    let io = |e: std::io::Error| PkgDbError::Rpm {
        file: location.clone(),
        reason: e.to_string(),
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let Some(kind) = sniff(&bytes) else {
        return Err(PkgDbError::Rpm {
            file: location,
            reason: "not an rpm database (no sqlite, NDB or Berkeley DB hash magic)".into(),
        });
    };
    let wal = if kind == DbKind::RpmSqlite {
        let mut w = path.as_os_str().to_owned();
        w.push("-wal");
        match std::fs::read(std::path::PathBuf::from(w)) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        }
    } else {
        None
    };
    read_rpm_bytes(
        kind,
        &bytes,
        wal.as_deref(),
        &location,
        os,
        &mut Budget::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srpm_names() {
        assert_eq!(
            parse_srpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".into(), "2.32.1-42.el8_8".into()))
        );
        assert_eq!(parse_srpm("x.src.rpm"), None);
        assert_eq!(
            parse_srpm("a-1-2.nosrc.rpm"),
            Some(("a".into(), "1-2".into()))
        );
        assert_eq!(parse_srpm("a-1-2.rpm"), None);
    }
}
