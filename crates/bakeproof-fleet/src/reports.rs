//! Boot results for the fleet (`bakeproof verify --report URL`, `bakeproof
//! query --reports`): each verification's result written by the instance
//! that ran it, and what only the fleet can see: instances that failed or
//! could not verify, and ghost identities, instances that report the same
//! machine-id or the same SSH host key.
//!
//! ```text
//! reports/json/region=<R>/day=<YYYY-MM-DD>/<instance-id>-<unix-ms>.json            the record (boot result + instance, AMI, region, time)
//! reports/boot_results/region=<R>/day=<YYYY-MM-DD>/<instance-id>-<unix-ms>.parquet  its row (crate::rows::ReportRow)
//! ```
//!
//! Both are create-only. The machine-id itself never leaves the instance:
//! the record carries systemd's app-specific id of it
//! ([`machine_id_hash`], what `systemd-id128 machine-id
//! --app-specific=`[`MACHINE_ID_APP`] prints), equal for two instances
//! exactly when their machine-ids are.

use std::collections::{BTreeMap, BTreeSet};

use hmac::{KeyInit, Mac};
use serde::Serialize;

use bakeproof_boot::BootReport;
use bakeproof_store::{ObjectWrite, Store, StoreError};

use crate::FleetError;
use crate::parquet_io;
use crate::rows::ReportRow;
use crate::tables::{PartFilter, ReadStats, read_table};

/// The application id of [`machine_id_hash`] (systemd's
/// `sd_id128_get_machine_app_specific`; chosen once with `systemd-id128 new`).
pub const MACHINE_ID_APP: &str = "ca0f079e8bdf4409a4c9dbf93140badf";
/// The boot results table's directory.
pub const REPORTS_TABLE_PREFIX: &str = "reports/boot_results/";
/// The records' directory.
pub const REPORTS_JSON_PREFIX: &str = "reports/json/";
/// Largest record read back (bytes).
pub const MAX_RECORD_SIZE: u64 = 64 << 20;

/// systemd's app-specific id of a machine-id (`/etc/machine-id`'s text):
/// HMAC-SHA256 keyed by the 16 bytes of the machine-id over the 16 bytes
/// of [`MACHINE_ID_APP`], the first 16 bytes made a v4 UUID, as 32 hex
/// digits. `None` when the text is not a machine-id (empty: an image
/// sealed for first boot; `uninitialized`).
pub fn machine_id_hash(machine_id: &str) -> Option<String> {
    let id = parse_id128(machine_id.trim())?;
    if id == [0u8; 16] {
        return None;
    }
    let app = parse_id128(MACHINE_ID_APP)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&id).ok()?;
    mac.update(&app);
    let out = mac.finalize().into_bytes();
    let mut b = [0u8; 16];
    b.copy_from_slice(&out[..16]);
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    Some(hex::encode(b))
}

/// The text of `/etc/machine-id` of the root at `root`, read inside it
/// (a symlink out of the root is not followed); `None` when unreadable.
pub fn read_machine_id(root: &std::path::Path) -> Option<String> {
    let r = bakeproof_index::Root::open(root).ok()?;
    let b = r.read_file(b"/etc/machine-id", 4096).ok()?;
    String::from_utf8(b).ok()
}

fn parse_id128(s: &str) -> Option<[u8; 16]> {
    let s: String = if s.len() == 36 {
        s.replace('-', "")
    } else {
        s.to_owned()
    };
    if s.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    hex::decode_to_slice(&s, &mut b).ok()?;
    Some(b)
}

/// One instance's verification as it reports it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootRecord {
    /// Always 1 (the record format's version).
    pub bakeproof_boot_record: u32,
    /// `unknown` when IMDS did not say.
    pub instance_id: String,
    /// `REGION:AMI-ID`, when known.
    pub ami: Option<String>,
    /// `unknown` when the AMI is not known.
    pub region: String,
    /// RFC 3339 UTC.
    pub time: String,
    pub machine_id_hash: Option<String>,
    /// The boot result (`schemas/boot-result.schema.json`).
    pub report: serde_json::Value,
}

/// A store key component made of what [`bakeproof_store::check_object_key`] accepts.
fn key_safe(s: &str) -> Option<&str> {
    (!s.is_empty()
        && s.len() <= 64
        && !s.starts_with(['.', '='])
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then_some(s)
}

impl BootRecord {
    /// The record of `report`, made at `time_ms` (Unix milliseconds), with
    /// the instance's `/etc/machine-id` text.
    pub fn new(report: &BootReport, machine_id: Option<&str>, time_ms: i64) -> BootRecord {
        let instance_id = report
            .instance
            .as_ref()
            .and_then(|i| key_safe(&i.instance_id))
            .unwrap_or("unknown")
            .to_owned();
        let (ami, region) = match &report.ami {
            Some(a) => (
                Some(a.ami.to_string()),
                key_safe(a.ami.region()).unwrap_or("unknown").to_owned(),
            ),
            None => (None, "unknown".to_owned()),
        };
        let time = bakeproof_lifecycle::time::rfc3339(time_ms.div_euclid(1000));
        BootRecord {
            bakeproof_boot_record: 1,
            instance_id,
            ami,
            region,
            time,
            machine_id_hash: machine_id.and_then(machine_id_hash),
            report: serde_json::from_str(&report.to_json()).expect("a boot report is JSON"),
        }
    }

    /// The record's table row (`report_key`: where its JSON is).
    pub fn row(&self, report_key: &str) -> ReportRow {
        let r = &self.report;
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let mut failed: Vec<String> = r
            .get("checks")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .filter(|c| c.get("status").and_then(|s| s.as_str()) == Some("fail"))
            .filter_map(|c| c.get("id").and_then(|i| i.as_str()).map(str::to_owned))
            .collect();
        failed.sort();
        failed.dedup();
        let mut host_keys: Vec<String> = r
            .get("hostKeys")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .filter_map(|k| {
                k.get("fingerprint")
                    .and_then(|f| f.as_str())
                    .map(str::to_owned)
            })
            .collect();
        host_keys.sort();
        host_keys.dedup();
        ReportRow {
            instance_id: Some(self.instance_id.clone()),
            ami: self
                .ami
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .map(|(_, id)| id.to_owned()),
            time: Some(self.time.clone()),
            result: s("result"),
            exit_code: r.get("exitCode").and_then(|v| v.as_i64()),
            level: s("level"),
            failed_checks: failed,
            tree_digest: s("treeDigest"),
            keyid: s("keyid"),
            machine_id_hash: self.machine_id_hash.clone(),
            host_keys,
            lifecycle_state: r
                .get("lifecycle")
                .and_then(|l| l.get("state"))
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            report_key: Some(report_key.to_owned()),
            tool_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }

    fn stem(&self, time_ms: i64, n: u32) -> String {
        let day = self.time.get(..10).unwrap_or("unknown");
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        format!(
            "region={}/day={day}/{}-{time_ms}{suffix}",
            self.region, self.instance_id
        )
    }
}

/// Where [`write_report`] put a record.
#[derive(Clone, Debug, Serialize)]
pub struct ReportWritten {
    pub json_key: String,
    pub table_key: String,
    pub location: String,
}

/// Writes `record` (made at `time_ms`) to `store`: the JSON, then its row.
/// Create-only; a key already taken (two reports in the same millisecond)
/// gets a suffix.
pub fn write_report(
    store: &dyn Store,
    record: &BootRecord,
    time_ms: i64,
) -> Result<ReportWritten, FleetError> {
    let mut json = serde_json::to_vec_pretty(record).expect("a record serializes");
    json.push(b'\n');
    for n in 0..16 {
        let stem = record.stem(time_ms, n);
        let json_key = format!("{REPORTS_JSON_PREFIX}{stem}.json");
        match store.put_object(&json_key, &json, ObjectWrite::CreateOnly) {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        let row = record.row(&json_key);
        let bytes = parquet_io::write(ReportRow::TABLE, &ReportRow::batch(&[row])?)?;
        let table_key = format!("{REPORTS_TABLE_PREFIX}{stem}.parquet");
        store.put_object(&table_key, &bytes, ObjectWrite::CreateOnly)?;
        return Ok(ReportWritten {
            location: store.location(),
            json_key,
            table_key,
        });
    }
    Err(FleetError::Store(StoreError::Conflict(
        "16 reports of this instance in the same millisecond".into(),
    )))
}

/// An instance as the fleet sees it: its newest report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceState {
    pub instance_id: String,
    pub region: String,
    pub ami: Option<String>,
    pub time: Option<String>,
    pub result: Option<String>,
    pub failed_checks: Vec<String>,
    pub report_key: Option<String>,
    /// How many reports it wrote.
    pub reports: usize,
}

/// Instances that share one identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ghost {
    /// `machine-id` or `ssh-host-key`.
    pub kind: &'static str,
    /// The machine-id hash, or the host key's fingerprint.
    pub value: String,
    pub instances: Vec<String>,
    pub amis: Vec<String>,
}

/// What `bakeproof query --reports` finds.
#[derive(Clone, Debug, Serialize)]
pub struct FleetFindings {
    pub instances: usize,
    pub reports: usize,
    /// Instances whose newest report is not `verified` (failed, or could
    /// not verify).
    pub not_verified: Vec<InstanceState>,
    pub ghosts: Vec<Ghost>,
    pub stats: ReadStats,
}

impl FleetFindings {
    /// Whether anything needs attention (the query's exit code 1).
    pub fn any(&self) -> bool {
        !self.not_verified.is_empty() || !self.ghosts.is_empty()
    }
}

/// Reads the boot results table and finds the fleet's problems.
pub fn findings(
    store: &dyn Store,
    filter: &PartFilter,
    threads: usize,
) -> Result<FleetFindings, FleetError> {
    let (parts, stats) = read_table(
        store,
        ReportRow::TABLE,
        REPORTS_TABLE_PREFIX,
        &PartFilter {
            regions: filter.regions.clone(),
            amis: Vec::new(),
        },
        threads,
        ReportRow::from_batch,
        |region, _, row| Some((region.to_owned(), row)),
    )?;
    let rows: Vec<(String, ReportRow)> = parts.into_iter().flat_map(|p| p.rows).collect();
    Ok(analyse(rows, stats))
}

/// The findings of boot result rows (pure).
pub fn analyse(rows: Vec<(String, ReportRow)>, stats: ReadStats) -> FleetFindings {
    let reports = rows.len();
    // newest report per instance (RFC 3339 UTC text orders by time)
    let mut newest: BTreeMap<String, (usize, (String, ReportRow))> = BTreeMap::new();
    let mut mids: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut keys: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (region, row) in rows {
        let id = row.instance_id.clone().unwrap_or_else(|| "unknown".into());
        let ami = format!("{region}:{}", row.ami.as_deref().unwrap_or("unknown"));
        if id != "unknown" {
            if let Some(m) = &row.machine_id_hash {
                let e = mids.entry(m.clone()).or_default();
                e.0.insert(id.clone());
                e.1.insert(ami.clone());
            }
            for k in &row.host_keys {
                let e = keys.entry(k.clone()).or_default();
                e.0.insert(id.clone());
                e.1.insert(ami.clone());
            }
        }
        let key = format!("{region}/{id}");
        match newest.get_mut(&key) {
            Some((n, cur)) => {
                *n += 1;
                if (&row.time, &row.report_key) > (&cur.1.time, &cur.1.report_key) {
                    *cur = (region, row);
                }
            }
            None => {
                newest.insert(key, (1, (region, row)));
            }
        }
    }
    let instances = newest.len();
    let not_verified = newest
        .into_values()
        .filter(|(_, (_, r))| r.result.as_deref() != Some("verified"))
        .map(|(n, (region, r))| InstanceState {
            instance_id: r.instance_id.unwrap_or_else(|| "unknown".into()),
            region,
            ami: r.ami,
            time: r.time,
            result: r.result,
            failed_checks: r.failed_checks,
            report_key: r.report_key,
            reports: n,
        })
        .collect();
    let mut ghosts = Vec::new();
    for (kind, map) in [("machine-id", mids), ("ssh-host-key", keys)] {
        for (value, (ids, amis)) in map {
            if ids.len() > 1 {
                ghosts.push(Ghost {
                    kind,
                    value,
                    instances: ids.into_iter().collect(),
                    amis: amis.into_iter().collect(),
                });
            }
        }
    }
    FleetFindings {
        instances,
        reports,
        not_verified,
        ghosts,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_id_hash_is_systemds_app_specific_id() {
        assert_eq!(machine_id_hash(""), None);
        assert_eq!(machine_id_hash("uninitialized\n"), None);
        assert_eq!(machine_id_hash("00000000000000000000000000000000"), None);
        let a = machine_id_hash("3d1219c7c4c5404aaa1f6d2a48adfda4\n").unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(&a[12..13], "4");
        assert_ne!(
            a,
            machine_id_hash("3d1219c7c4c5404aaa1f6d2a48adfda5").unwrap()
        );
    }

    fn row(id: &str, t: &str, result: &str, mid: &str, keys: &[&str]) -> (String, ReportRow) {
        (
            "us-east-1".into(),
            ReportRow {
                instance_id: Some(id.into()),
                ami: Some("ami-1".into()),
                time: Some(t.into()),
                result: Some(result.into()),
                machine_id_hash: Some(mid.into()),
                host_keys: keys.iter().map(|k| k.to_string()).collect(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn newest_report_counts_and_shared_identities_are_ghosts() {
        let f = analyse(
            vec![
                row("i-1", "2026-12-03T10:00:00Z", "failed", "m1", &["SHA256:a"]),
                row(
                    "i-1",
                    "2026-12-03T11:00:00Z",
                    "verified",
                    "m1",
                    &["SHA256:a"],
                ),
                row(
                    "i-2",
                    "2026-12-03T10:00:00Z",
                    "unreachable",
                    "m2",
                    &["SHA256:b"],
                ),
                row(
                    "i-3",
                    "2026-12-03T10:00:00Z",
                    "verified",
                    "m2",
                    &["SHA256:a"],
                ),
            ],
            ReadStats::default(),
        );
        assert_eq!(f.instances, 3);
        assert_eq!(f.reports, 4);
        let nv: Vec<&str> = f
            .not_verified
            .iter()
            .map(|i| i.instance_id.as_str())
            .collect();
        assert_eq!(nv, ["i-2"]);
        assert_eq!(f.ghosts.len(), 2);
        assert_eq!(f.ghosts[0].kind, "machine-id");
        assert_eq!(f.ghosts[0].instances, ["i-2", "i-3"]);
        assert_eq!(f.ghosts[1].kind, "ssh-host-key");
        assert_eq!(f.ghosts[1].instances, ["i-1", "i-3"]);
        assert!(f.any());
    }
}
