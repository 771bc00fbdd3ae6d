//! Version sort keys: a string per version whose byte order is the
//! package manager's version order (dpkg's for `deb`, rpm's for `rpm`), so
//! an engine without that order (Athena, Spark, DuckDB) answers a range
//! query with a plain string comparison. (Being written: see docs/fleet.md.)

/// The sort key of `full_version` for purl type `ptype`; `None` where the
/// ecosystem has no key (its order is only in `bakeproof query`).
pub fn version_key(ptype: &str, full_version: &str) -> Option<String> {
    let _ = (ptype, full_version);
    None
}

/// (stub until the sort keys land)
pub fn key_range(ptype: &str, version: &str) -> Option<(String, String)> {
    let _ = (ptype, version);
    None
}
