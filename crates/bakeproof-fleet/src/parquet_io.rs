//! Rows to Parquet bytes and back. The bytes are a function of the rows
//! alone (sorted rows, fixed writer properties, no timestamps), so the
//! same attestations give the same file: a rebuild of an unchanged AMI
//! rewrites nothing.

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::FleetError;
use crate::rows::SCHEMA_VERSION;

/// Key-value metadata key of the schema version (`TABLE/VERSION`).
pub const SCHEMA_KEY: &str = "bakeproof.schema";

/// Rows per row group: a few MiB of package rows; engines skip row groups
/// by their statistics.
const ROW_GROUP: usize = 64 * 1024;

/// One table file's bytes.
pub fn write(table: &str, batch: &RecordBatch) -> Result<Vec<u8>, FleetError> {
    let err = |e: parquet::errors::ParquetError| FleetError::Parquet(format!("table {table}: {e}"));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_KEY.to_owned(),
            format!("{table}/{SCHEMA_VERSION}"),
        )]))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).map_err(err)?;
    w.write(batch).map_err(err)?;
    w.close().map_err(err)?;
    Ok(out)
}

/// The record batches of a table file, after checking it is a file of
/// `table` of a schema version this reader knows.
pub fn read(table: &str, bytes: Vec<u8>, what: &str) -> Result<Vec<RecordBatch>, FleetError> {
    let err = |e: &dyn std::fmt::Display| {
        FleetError::Corrupt(format!(
            "{what}: not a readable Parquet file of table {table}: {e}"
        ))
    };
    let b =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).map_err(|e| err(&e))?;
    let kv = b.metadata().file_metadata().key_value_metadata();
    let tag = kv
        .and_then(|kv| kv.iter().find(|k| k.key == SCHEMA_KEY))
        .and_then(|k| k.value.clone());
    match tag.as_deref().and_then(|t| t.split_once('/')) {
        Some((t, v)) if t == table => match v.parse::<u32>() {
            Ok(v) if v <= SCHEMA_VERSION => {}
            _ => {
                return Err(FleetError::Corrupt(format!(
                    "{what}: schema version {v} of table {table}: this bakeproof reads up to {SCHEMA_VERSION}"
                )));
            }
        },
        _ => {
            return Err(FleetError::Corrupt(format!(
                "{what}: not a bakeproof {table} table file (metadata {SCHEMA_KEY} is {tag:?})"
            )));
        }
    }
    let reader = b.build().map_err(|e| err(&e))?;
    reader
        .map(|r| r.map_err(|e| err(&e)))
        .collect::<Result<Vec<_>, _>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{PackageRow, SealRow};

    #[test]
    fn same_rows_same_bytes_and_back() {
        let rows = vec![PackageRow {
            name: Some("xz-utils".into()),
            epoch: Some(1),
            ..Default::default()
        }];
        let a = write("packages", &PackageRow::batch(&rows).unwrap()).unwrap();
        let b = write("packages", &PackageRow::batch(&rows).unwrap()).unwrap();
        assert_eq!(a, b);
        let back = read("packages", a.clone(), "t").unwrap();
        assert_eq!(PackageRow::from_batch(&back[0]).unwrap(), rows);
        // another table's file, and garbage, are refused
        assert!(read("seal", a, "t").is_err());
        assert!(read("seal", b"PAR1 nope".to_vec(), "t").is_err());
        let s = write("seal", &SealRow::batch(&[]).unwrap()).unwrap();
        assert!(
            read("seal", s, "t")
                .unwrap()
                .iter()
                .all(|b| b.num_rows() == 0)
        );
    }
}
