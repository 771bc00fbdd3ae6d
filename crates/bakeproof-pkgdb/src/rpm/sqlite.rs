//! rpm's sqlite backend: `rpmdb.sqlite`, table `Packages(hnum INTEGER
//! PRIMARY KEY, blob BLOB)`, usually in WAL journal mode.
//!
//! The scanned image is never written to, and SQLite is never pointed at it:
//! the caller reads the database bytes (and the bytes of `rpmdb.sqlite-wal`
//! when there is one) through [`bakeproof_index::Root`], and this module
//! writes them into a private temporary directory and opens that copy.
//! Opening the copy replays the WAL there, so transactions that are still
//! only in the `-wal` file (rpm had not checkpointed yet) are seen, exactly
//! as rpm itself would see them; and a WAL-mode database from a read-only
//! directory opens, because SQLite creates its `-shm` next to the copy, never
//! next to the original. No `-shm` from the image is used (it is only an
//! index over the `-wal`, which SQLite rebuilds).
//!
//! The copy is opened with `SQLITE_DBCONFIG_DEFENSIVE` and without trusted
//! schema, so a hostile database cannot run schema-defined functions or
//! corrupt itself through `PRAGMA writable_schema`; only `SELECT hnum, blob
//! FROM Packages` is run.

use rusqlite::{Connection, OpenFlags, config::DbConfig};

use super::bdb::{BlobRecord, BlobSet};

/// The first 16 bytes of every SQLite 3 database file.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Whether `bytes` start like an SQLite 3 database.
pub fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(SQLITE_MAGIC)
}

/// Why an sqlite rpm database could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    #[error("not an SQLite 3 database (no \"SQLite format 3\" magic)")]
    NotSqlite,
    #[error("cannot make a private copy: {0}")]
    Copy(#[source] std::io::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Reads every `Packages` row of an rpm sqlite database given as bytes, with
/// the bytes of its `-wal` file when there is one (see the module docs: both
/// are copied into a private temporary directory, which is removed again).
///
/// Rows whose `hnum` is not a `u32` or whose `blob` is not a BLOB, and a
/// scan that breaks off on a corrupt page, become [`BlobSet::errors`]; the
/// rows read before are kept. Errors: not sqlite, no `Packages` table, or a
/// database SQLite refuses to open.
pub fn read_sqlite_packages(db: &[u8], wal: Option<&[u8]>) -> Result<BlobSet, SqliteError> {
    if !is_sqlite(db) {
        return Err(SqliteError::NotSqlite);
    }
    let dir = tempfile::Builder::new()
        .prefix("bakeproof-rpmdb-")
        .tempdir()
        .map_err(SqliteError::Copy)?;
    let path = dir.path().join("rpmdb.sqlite");
    std::fs::write(&path, db).map_err(SqliteError::Copy)?;
    if let Some(wal) = wal.filter(|w| !w.is_empty()) {
        std::fs::write(dir.path().join("rpmdb.sqlite-wal"), wal).map_err(SqliteError::Copy)?;
    }
    let out = read_copy(&path);
    // `dir` is removed when dropped, after the connection is closed.
    drop(dir);
    out
}

fn read_copy(path: &std::path::Path) -> Result<BlobSet, SqliteError> {
    // Read-write on the private copy: replaying a WAL needs a writable
    // `-shm`. NO_MUTEX: one thread uses this connection.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    // Map the private copy instead of one pread(2) per page (600+ for a
    // 3.6 MB database: a fifth of the whole run). The copy is ours, no one
    // truncates it while mapped.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    // Busy: the copy is ours alone, never wait.
    let mut set = BlobSet::default();
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages")?;
    let mut rows = stmt.query([])?;
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                set.errors.push(format!(
                    "scan stopped after {} records: {e}",
                    set.records.len()
                ));
                break;
            }
        };
        let hnum: rusqlite::Result<i64> = row.get(0);
        let key = match hnum.map(u32::try_from) {
            Ok(Ok(k)) => k,
            Ok(Err(_)) | Err(_) => {
                set.errors.push(format!(
                    "row {}: hnum is not a record number",
                    set.records.len()
                ));
                continue;
            }
        };
        match row.get_ref(1) {
            Ok(rusqlite::types::ValueRef::Blob(b)) => set.records.push(BlobRecord {
                key,
                blob: b.to_vec(),
            }),
            Ok(v) => set.errors.push(format!(
                "hnum {key}: blob column holds {:?}, not a BLOB",
                v.data_type()
            )),
            Err(e) => set.errors.push(format!("hnum {key}: {e}")),
        }
    }
    drop(rows);
    drop(stmt);
    // Close explicitly so the tempdir is removed only after SQLite let go.
    let _ = conn.close();
    set.records.sort_by_key(|r| r.key);
    Ok(set)
}
