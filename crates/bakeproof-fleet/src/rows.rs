//! The tables' rows and their Arrow schemas: one definition per table
//! (the [`table!`] macro gives each row type its schema, its Arrow record
//! batch and its reader), documented column by column in docs/fleet.md
//! ("Schema"). Every column is nullable; the partition columns (`region`,
//! `ami`; `region`, `day` for boot results) are in the object keys, not
//! in the files (Hive style: what Athena, Spark and DuckDB expect).

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::Serialize;

use crate::FleetError;

/// The tables' schema version (`bakeproof.schema-version` in every file's
/// key-value metadata and the manifest). A reader refuses a higher one.
pub const SCHEMA_VERSION: u32 = 1;

/// A column kind: how a field is typed in Rust and in Arrow.
#[doc(hidden)]
pub mod kind {
    pub type Str = Option<String>;
    pub type I64 = Option<i64>;
    pub type List = Vec<String>;
}

pub(crate) fn str_col(
    b: &RecordBatch,
    name: &str,
    table: &str,
) -> Result<Option<StringArray>, FleetError> {
    match b.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_any()
            .downcast_ref::<StringArray>()
            .cloned()
            .map(Some)
            .ok_or_else(|| bad_type(table, name, "string")),
    }
}

pub(crate) fn i64_col(
    b: &RecordBatch,
    name: &str,
    table: &str,
) -> Result<Option<Int64Array>, FleetError> {
    match b.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_any()
            .downcast_ref::<Int64Array>()
            .cloned()
            .map(Some)
            .ok_or_else(|| bad_type(table, name, "int64")),
    }
}

pub(crate) fn list_col(
    b: &RecordBatch,
    name: &str,
    table: &str,
) -> Result<Option<ListArray>, FleetError> {
    match b.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_any()
            .downcast_ref::<ListArray>()
            .cloned()
            .map(Some)
            .ok_or_else(|| bad_type(table, name, "list<string>")),
    }
}

fn bad_type(table: &str, col: &str, want: &str) -> FleetError {
    FleetError::Corrupt(format!("table {table}: column {col} is not of type {want}"))
}

pub(crate) fn get_str(a: &Option<StringArray>, i: usize) -> Option<String> {
    a.as_ref()
        .filter(|a| a.is_valid(i))
        .map(|a| a.value(i).to_owned())
}

pub(crate) fn get_i64(a: &Option<Int64Array>, i: usize) -> Option<i64> {
    a.as_ref().filter(|a| a.is_valid(i)).map(|a| a.value(i))
}

pub(crate) fn get_list(a: &Option<ListArray>, i: usize) -> Result<Vec<String>, FleetError> {
    let Some(a) = a.as_ref().filter(|a| a.is_valid(i)) else {
        return Ok(Vec::new());
    };
    let v = a.value(i);
    let s = v
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| FleetError::Corrupt("a list column's items are not strings".into()))?;
    Ok((0..s.len())
        .filter(|&j| s.is_valid(j))
        .map(|j| s.value(j).to_owned())
        .collect())
}

pub(crate) fn list_item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Utf8, true))
}

macro_rules! dtype {
    (Str) => {
        DataType::Utf8
    };
    (I64) => {
        DataType::Int64
    };
    (List) => {
        DataType::List(list_item_field())
    };
}

macro_rules! build_col {
    (Str, $rows:expr, $f:ident) => {{
        let mut b = StringBuilder::new();
        for r in $rows {
            b.append_option(r.$f.as_deref());
        }
        Arc::new(b.finish()) as ArrayRef
    }};
    (I64, $rows:expr, $f:ident) => {{
        let mut b = Int64Builder::new();
        for r in $rows {
            b.append_option(r.$f);
        }
        Arc::new(b.finish()) as ArrayRef
    }};
    (List, $rows:expr, $f:ident) => {{
        let mut b = ListBuilder::new(StringBuilder::new()).with_field(list_item_field());
        for r in $rows {
            for s in &r.$f {
                b.values().append_value(s);
            }
            b.append(true);
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

macro_rules! read_col {
    (Str, $b:expr, $name:expr, $t:expr) => {
        str_col($b, $name, $t)?
    };
    (I64, $b:expr, $name:expr, $t:expr) => {
        i64_col($b, $name, $t)?
    };
    (List, $b:expr, $name:expr, $t:expr) => {
        list_col($b, $name, $t)?
    };
}

macro_rules! get_val {
    (Str, $a:expr, $i:expr) => {
        get_str(&$a, $i)
    };
    (I64, $a:expr, $i:expr) => {
        get_i64(&$a, $i)
    };
    (List, $a:expr, $i:expr) => {
        get_list(&$a, $i)?
    };
}

/// Defines a row type, its table name, its Arrow schema, and the
/// conversions to and from a record batch (a column missing from a file is
/// null: an older file of the same schema version).
macro_rules! table {
    ($(#[$m:meta])* $name:ident = $tname:literal { $( $(#[$fm:meta])* $field:ident : $kind:ident ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        pub struct $name {
            $( $(#[$fm])* pub $field: kind::$kind, )*
        }

        impl $name {
            /// The table's name (its directory below `tables/`).
            pub const TABLE: &'static str = $tname;
            /// The column names, in the files' order.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The Arrow schema of the table's files.
            pub fn schema() -> SchemaRef {
                Arc::new(Schema::new(vec![
                    $( Field::new(stringify!($field), dtype!($kind), true) ),*
                ]))
            }

            /// The rows as one record batch.
            pub fn batch(rows: &[Self]) -> Result<RecordBatch, FleetError> {
                let cols: Vec<ArrayRef> = vec![ $( build_col!($kind, rows, $field) ),* ];
                RecordBatch::try_new(Self::schema(), cols)
                    .map_err(|e| FleetError::Parquet(format!("table {}: {e}", $tname)))
            }

            /// The rows of a record batch read from a file of this table.
            pub fn from_batch(b: &RecordBatch) -> Result<Vec<Self>, FleetError> {
                $( let $field = read_col!($kind, b, stringify!($field), $tname); )*
                let mut out = Vec::with_capacity(b.num_rows());
                for i in 0..b.num_rows() {
                    out.push($name { $( $field: get_val!($kind, $field, i), )* });
                }
                Ok(out)
            }
        }
    };
}

table! {
    /// `packages`: one row per package the AMI's signed SBOM lists (OS and
    /// language ecosystems).
    PackageRow = "packages" {
        /// The lifecycle labels (`Application`, `Version`, `BuildDate` of
        /// the Packer build), null before the AMI's first lifecycle record.
        application: Str,
        image_version: Str,
        build_date: Str,
        /// `sha256:<hex>` of the image's tree.
        tree_digest: Str,
        /// The purl type: `deb`, `rpm`, `pypi`, `npm`, `golang`, `maven`, `cargo`, ...
        ecosystem: Str,
        /// The purl namespace (`debian`, `amzn`, a Maven group, an npm scope).
        namespace: Str,
        name: Str,
        /// rpm's VERSION, dpkg's upstream version, a language package's version.
        version: Str,
        epoch: I64,
        /// rpm's RELEASE, dpkg's Debian revision.
        release: Str,
        /// As the package manager prints it: `[E:]V[-R]`.
        full_version: Str,
        /// A string whose byte order is the package manager's version order
        /// (deb, rpm; `crate::sortkey`): SQL range queries.
        version_key: Str,
        arch: Str,
        purl: Str,
        source_package: Str,
        /// The package's licences (SPDX ids or expressions), ` AND `-joined.
        license: Str,
        supplier: Str,
        /// The SBOM bundle (store blob) the row derives from.
        sbom_sha256: Str,
    }
}

table! {
    /// `files`: one row per file component of the SBOM (written with
    /// `--tables files`, off by default: it is the large one).
    FileRow = "files" {
        tree_digest: Str,
        /// The path; percent-encoded when the name is not UTF-8 (`path_encoding` = `percent`).
        path: Str,
        path_encoding: Str,
        /// `file`, `directory`, `symlink`, ...
        file_type: Str,
        sha256: Str,
        /// Four octal digits.
        mode: Str,
        uid: Str,
        gid: Str,
        /// The owning package's bom-ref (null: unowned).
        package: Str,
        link_target: Str,
    }
}

table! {
    /// `seal`: one row per seal check of the AMI's signed seal report.
    SealRow = "seal" {
        tree_digest: Str,
        check_id: Str,
        /// `pass`, `warn`, `fail`.
        status: Str,
        findings: I64,
        /// The report's verdict: `sealed`, `unsealed`.
        seal_status: Str,
        seal_time: Str,
        seal_sha256: Str,
    }
}

table! {
    /// `images`: one row per AMI, its labels, lifecycle, seal and audit status.
    ImageRow = "images" {
        application: Str,
        image_version: Str,
        build_date: Str,
        tree_digest: Str,
        /// When the AMI's index was published.
        published: Str,
        tool_version: Str,
        /// `built`, `testing`, `approved`, `deprecated`, `revoked`; null:
        /// no lifecycle record.
        lifecycle_state: Str,
        lifecycle_sequence: I64,
        lifecycle_changed: Str,
        /// `sealed`, `unsealed`; null: no seal attestation.
        seal_status: Str,
        /// `pass`, `fail`; null: no audit attestation.
        audit_status: Str,
        packages: I64,
        files: I64,
        sbom_sha256: Str,
        seal_sha256: Str,
        audit_sha256: Str,
        /// The key ids that signed the attestations.
        keyids: List,
        /// SSH host-key fingerprints baked into the image (the seal
        /// report's): every instance of it shares them.
        baked_host_keys: List,
    }
}

table! {
    /// `boot_results`: one row per `bakeproof verify --report` run.
    ReportRow = "boot_results" {
        instance_id: Str,
        /// `REGION:AMI-ID` is `region` (the partition) and this.
        ami: Str,
        /// RFC 3339 UTC.
        time: Str,
        /// `verified`, `failed`, `unreachable`.
        result: Str,
        exit_code: I64,
        level: Str,
        /// The ids of the checks that failed.
        failed_checks: List,
        tree_digest: Str,
        keyid: Str,
        /// systemd's app-specific machine id of the instance (HMAC-SHA256
        /// keyed by /etc/machine-id, `crate::reports::MACHINE_ID_APP`):
        /// equal on two instances exactly when their machine-ids are.
        machine_id_hash: Str,
        /// The live SSH host keys' fingerprints (`SHA256:...`).
        host_keys: List,
        lifecycle_state: Str,
        /// The store key of the full JSON report.
        report_key: Str,
        tool_version: Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_a_batch() {
        let rows = vec![
            ImageRow {
                application: Some("web".into()),
                packages: Some(3),
                keyids: vec!["a".into(), "b".into()],
                ..Default::default()
            },
            ImageRow::default(),
        ];
        let b = ImageRow::batch(&rows).unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(ImageRow::from_batch(&b).unwrap(), rows);
        assert_eq!(ImageRow::COLUMNS.len(), b.num_columns());
    }
}
