//! Where the tables live in a store, and writing and reading them
//! (docs/fleet.md, "Layout"):
//!
//! ```text
//! tables/<table>/region=<R>/ami=<AMI-ID>/part-0.parquet   one file per AMI and table
//! amis/<R>/<AMI-ID>/tables.json                            the AMI's table manifest, written last
//! ```
//!
//! `<table>` is `packages`, `seal`, `images` and (when asked) `files`. A
//! part's bytes are a function of the signed attestations they derive
//! from ([`crate::parquet_io`]); the manifest names each part's SHA-256
//! and the blobs it derives from, so a part is checked like any
//! content-addressed object, and a rebuild of an unchanged AMI writes
//! nothing.

use serde::{Deserialize, Serialize};

use bakeproof_attest::TrustedKeys;
use bakeproof_store::{AmiRef, ObjectWrite, Sha256Digest, Store, StoreError};

use crate::FleetError;
use crate::derive::{AmiTables, TableChoice, derive};
use crate::parquet_io;
use crate::rows::{FileRow, ImageRow, PackageRow, SCHEMA_VERSION, SealRow};

/// Prefix of every table.
pub const TABLES_PREFIX: &str = "tables/";
/// Largest table file a reader takes (bytes).
pub const MAX_PART_SIZE: u64 = 1 << 30;
/// Largest manifest a reader takes (bytes).
pub const MAX_MANIFEST_SIZE: u64 = 1 << 20;
/// Attempts at a compare-and-swap write before giving up.
const CAS_ATTEMPTS: u32 = 5;

/// The tables an AMI has, in the order they are written.
pub const AMI_TABLES: &[&str] = &[
    PackageRow::TABLE,
    FileRow::TABLE,
    SealRow::TABLE,
    ImageRow::TABLE,
];

/// The directory of a table (`tables/<table>/`).
pub fn table_prefix(table: &str) -> String {
    format!("{TABLES_PREFIX}{table}/")
}

/// Key of an AMI's part of `table`.
pub fn part_key(table: &str, ami: &AmiRef) -> String {
    format!(
        "{TABLES_PREFIX}{table}/region={}/ami={}/part-0.parquet",
        ami.region(),
        ami.ami_id()
    )
}

/// Key of an AMI's table manifest.
pub fn manifest_key(ami: &AmiRef) -> String {
    format!("amis/{}/{}/tables.json", ami.region(), ami.ami_id())
}

/// The partition values of a key below a table's prefix
/// (`.../k1=v1/k2=v2/file`): `[(k1, v1), (k2, v2)]`.
pub fn partitions(key: &str) -> Vec<(&str, &str)> {
    let mut parts: Vec<&str> = key.split('/').collect();
    parts.pop();
    parts
        .into_iter()
        .filter_map(|c| c.split_once('='))
        .collect()
}

/// One table file of an AMI, as its manifest names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub table: String,
    pub key: String,
    pub sha256: String,
    pub size: u64,
    pub rows: u64,
}

/// An AMI's table manifest (`amis/<R>/<AMI-ID>/tables.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    pub ami: AmiRef,
    pub tree_digest: String,
    /// The store blobs (SHA-256) the parts derive from: the AMI's index entries.
    pub sources: Vec<String>,
    pub parts: Vec<Part>,
}

impl Manifest {
    pub fn from_slice(bytes: &[u8], ami: &AmiRef) -> Result<Manifest, FleetError> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            FleetError::Corrupt(format!("table manifest of {ami}: not a manifest: {e}"))
        })?;
        if &m.ami != ami {
            return Err(FleetError::Corrupt(format!(
                "table manifest of {ami} names {}",
                m.ami
            )));
        }
        if m.schema_version > SCHEMA_VERSION {
            return Err(FleetError::Corrupt(format!(
                "table manifest of {ami}: schema version {} (this bakeproof reads up to {SCHEMA_VERSION})",
                m.schema_version
            )));
        }
        Ok(m)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        v.push(b'\n');
        v
    }
}

/// What a write did to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Written {
    Created,
    /// The same bytes were there.
    Unchanged,
    Replaced,
}

impl Written {
    pub fn as_str(self) -> &'static str {
        match self {
            Written::Created => "created",
            Written::Unchanged => "unchanged",
            Written::Replaced => "replaced",
        }
    }
}

/// What [`write_tables`] did.
#[derive(Clone, Debug, Serialize)]
pub struct TablesWritten {
    pub ami: AmiRef,
    pub parts: Vec<(Part, Written)>,
    pub manifest_key: String,
    pub manifest: Written,
}

/// One encoded table file: the table, its Parquet bytes, its row count.
pub type Encoded = (&'static str, Vec<u8>, u64);

/// The Parquet bytes of each of an AMI's tables (`files` only when derived).
pub fn encode(t: &AmiTables) -> Result<Vec<Encoded>, FleetError> {
    let mut out = Vec::new();
    let p = parquet_io::write(PackageRow::TABLE, &PackageRow::batch(&t.packages)?)?;
    out.push((PackageRow::TABLE, p, t.packages.len() as u64));
    if let Some(f) = &t.files {
        let b = parquet_io::write(FileRow::TABLE, &FileRow::batch(f)?)?;
        out.push((FileRow::TABLE, b, f.len() as u64));
    }
    let s = parquet_io::write(SealRow::TABLE, &SealRow::batch(&t.seal)?)?;
    out.push((SealRow::TABLE, s, t.seal.len() as u64));
    let i = parquet_io::write(
        ImageRow::TABLE,
        &ImageRow::batch(std::slice::from_ref(&t.image))?,
    )?;
    out.push((ImageRow::TABLE, i, 1));
    Ok(out)
}

/// Writes `bytes` at `key` unless the same bytes are there (create, or
/// compare and swap over a different object; a concurrent writer of other
/// bytes is retried against, the last one wins).
pub fn put_if_changed(store: &dyn Store, key: &str, bytes: &[u8]) -> Result<Written, FleetError> {
    for _ in 0..CAS_ATTEMPTS {
        match store.get_object(key, MAX_PART_SIZE) {
            Ok(have) if have.bytes == bytes => return Ok(Written::Unchanged),
            Ok(have) => match store.put_object(key, bytes, ObjectWrite::IfMatch(have.tag)) {
                Ok(_) => return Ok(Written::Replaced),
                Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            },
            Err(StoreError::NotFound(_)) => {
                match store.put_object(key, bytes, ObjectWrite::CreateOnly) {
                    Ok(_) => return Ok(Written::Created),
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(FleetError::Store(StoreError::Conflict(format!(
        "{key}: other writers kept changing it ({CAS_ATTEMPTS} attempts)"
    ))))
}

/// Writes an AMI's parts, then its manifest.
pub fn write_tables(store: &dyn Store, t: &AmiTables) -> Result<TablesWritten, FleetError> {
    let mut parts = Vec::new();
    for (table, bytes, rows) in encode(t)? {
        let key = part_key(table, &t.ami);
        let w = put_if_changed(store, &key, &bytes)?;
        parts.push((
            Part {
                table: table.to_owned(),
                key,
                sha256: Sha256Digest::of(&bytes).to_string(),
                size: bytes.len() as u64,
                rows,
            },
            w,
        ));
    }
    // A files part written before (with --tables files) stays listed while
    // it derives from the same attestations.
    if t.files.is_none()
        && let Some(old) = read_manifest(store, &t.ami)?
        && old.sources == t.sources
        && let Some(f) = old.parts.iter().find(|p| p.table == FileRow::TABLE)
    {
        parts.push((f.clone(), Written::Unchanged));
        parts.sort_by_key(|(p, _)| AMI_TABLES.iter().position(|t| *t == p.table));
    }
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        ami: t.ami.clone(),
        tree_digest: t.image.tree_digest.clone().unwrap_or_default(),
        sources: t.sources.clone(),
        parts: parts.iter().map(|(p, _)| p.clone()).collect(),
    };
    let mkey = manifest_key(&t.ami);
    let m = put_if_changed(store, &mkey, &manifest.to_vec())?;
    Ok(TablesWritten {
        ami: t.ami.clone(),
        parts,
        manifest_key: mkey,
        manifest: m,
    })
}

/// An AMI's manifest (`None`: no tables written yet).
pub fn read_manifest(store: &dyn Store, ami: &AmiRef) -> Result<Option<Manifest>, FleetError> {
    match store.get_object(&manifest_key(ami), MAX_MANIFEST_SIZE) {
        Ok(o) => Manifest::from_slice(&o.bytes, ami).map(Some),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Derives and writes the tables of one published AMI.
pub fn build_ami(
    store: &dyn Store,
    ami: &AmiRef,
    keys: &TrustedKeys,
    choice: TableChoice,
) -> Result<TablesWritten, FleetError> {
    let t = derive(store, ami, keys, choice)?;
    write_tables(store, &t)
}

/// Every AMI the store has an index for (one listing of `amis/`).
pub fn published_amis(store: &dyn Store) -> Result<Vec<AmiRef>, FleetError> {
    let mut out = Vec::new();
    for k in store.list("amis/")? {
        let parts: Vec<&str> = k.split('/').collect();
        if let ["amis", region, id, "index.json"] = parts.as_slice()
            && let Ok(a) = AmiRef::parse(&format!("{region}:{id}"))
        {
            out.push(a);
        }
    }
    Ok(out)
}

/// One AMI's outcome in [`rebuild`].
#[derive(Debug)]
pub struct Rebuilt {
    pub ami: AmiRef,
    pub result: Result<TablesWritten, FleetError>,
}

/// `bakeproof tables rebuild`: the tables of every published AMI (or of
/// `only`), derived again from their verified attestations, `threads`
/// AMIs at a time. An AMI whose attestations do not verify gets no
/// tables (its error is in the result); the others are written.
pub fn rebuild(
    store: &dyn Store,
    keys: &TrustedKeys,
    choice: TableChoice,
    only: Option<&[AmiRef]>,
    threads: usize,
) -> Result<Vec<Rebuilt>, FleetError> {
    use rayon::prelude::*;
    let amis = match only {
        Some(a) => a.to_vec(),
        None => published_amis(store)?,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| FleetError::Invalid(format!("cannot start threads: {e}")))?;
    Ok(pool.install(|| {
        amis.par_iter()
            .map(|ami| Rebuilt {
                ami: ami.clone(),
                result: build_ami(store, ami, keys, choice),
            })
            .collect()
    }))
}

/// A table file read back: its key, partition values and rows.
#[derive(Clone, Debug)]
pub struct ReadPart<R> {
    pub key: String,
    pub region: String,
    /// The `ami=` (AMI tables) or `day=` (boot results) partition value.
    pub partition: String,
    pub rows: Vec<R>,
}

/// Which parts of a table to read (by partition value; empty: all).
#[derive(Clone, Debug, Default)]
pub struct PartFilter {
    pub regions: Vec<String>,
    pub amis: Vec<String>,
}

impl PartFilter {
    fn keeps(&self, region: &str, ami: &str) -> bool {
        (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
            && (self.amis.is_empty() || self.amis.iter().any(|a| a == ami))
    }
}

/// What reading a table cost (for `--stats` and the benchmark).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReadStats {
    pub list_requests: u64,
    pub get_requests: u64,
    pub bytes: u64,
    pub parts: u64,
}

/// Reads every part of `table` below `prefix` ([`table_prefix`], or the
/// boot results' directory) that `filter` keeps (one listing, then the
/// parts `threads` at a time), each mapped by `keep` to the rows wanted.
pub fn read_table<R, T, F>(
    store: &dyn Store,
    table: &str,
    prefix: &str,
    filter: &PartFilter,
    threads: usize,
    from_batch: fn(&arrow_array::RecordBatch) -> Result<Vec<R>, FleetError>,
    keep: F,
) -> Result<(Vec<ReadPart<T>>, ReadStats), FleetError>
where
    R: Send,
    T: Send,
    F: Fn(&str, &str, R) -> Option<T> + Sync,
{
    use rayon::prelude::*;
    let keys = store.list(prefix)?;
    let mut stats = ReadStats {
        // S3 lists 1,000 keys a page (a directory: one listing).
        list_requests: keys.len().div_ceil(1000).max(1) as u64,
        ..ReadStats::default()
    };
    let wanted: Vec<(String, String, String)> = keys
        .into_iter()
        .filter(|k| k.ends_with(".parquet"))
        .filter_map(|k| {
            let p = partitions(&k);
            let region = p.iter().find(|(n, _)| *n == "region")?.1.to_owned();
            let second = p
                .iter()
                .find(|(n, _)| *n == "ami" || *n == "day")?
                .1
                .to_owned();
            filter
                .keeps(&region, &second)
                .then_some((k.clone(), region, second))
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| FleetError::Invalid(format!("cannot start threads: {e}")))?;
    let parts: Vec<Result<(ReadPart<T>, u64), FleetError>> = pool.install(|| {
        wanted
            .par_iter()
            .map(|(key, region, second)| {
                let o = store.get_object(key, MAX_PART_SIZE)?;
                let n = o.bytes.len() as u64;
                let what = format!("{}/{key}", store.location());
                let mut rows = Vec::new();
                for b in parquet_io::read(table, o.bytes, &what)? {
                    for r in from_batch(&b)? {
                        if let Some(t) = keep(region, second, r) {
                            rows.push(t);
                        }
                    }
                }
                Ok((
                    ReadPart {
                        key: key.clone(),
                        region: region.clone(),
                        partition: second.clone(),
                        rows,
                    },
                    n,
                ))
            })
            .collect()
    });
    let mut out = Vec::new();
    for p in parts {
        let (p, n) = p?;
        stats.get_requests += 1;
        stats.parts += 1;
        stats.bytes += n;
        out.push(p);
    }
    Ok((out, stats))
}
