//! The `seal` check: the attested seal report, read by the seal crate's
//! own type ([`SealReport::from_value`]: every field the schema
//! requires, `report_version` 2, a status consistent with its checks, check
//! ids unique), of the attested tree, and judged by its checks, not only by
//! its status string.

use bakeproof_seal::{SealReport, SealReportError, Status};
use serde_json::Value;

use crate::config::AllowWarn;
use crate::report::Check;

/// The signed predicate as a typed report; an error when it is not one
/// (then every check that needs the report fails: nothing is judged on a
/// report this version cannot read).
pub(crate) fn read(predicate: &Value) -> Result<SealReport, SealReportError> {
    SealReport::from_value(predicate)
}

/// Judges `report` for the SBOM of tree `tree_hex` (the SBOM statement's
/// digest, hex): of that tree, `sealed`, with checks, none failing, none
/// warning unless `allow` tolerates its id.
pub(crate) fn judge(
    report: &Result<SealReport, SealReportError>,
    tree_hex: &str,
    allow: &AllowWarn,
) -> Check {
    const ID: &str = "seal";
    let r = match report {
        Ok(r) => r,
        Err(e) => return Check::fail(ID, format!("the attested seal report: {e}")),
    };
    let with = |st: Status| -> Vec<&str> {
        r.checks
            .iter()
            .filter(|c| c.status == st)
            .map(|c| c.id.as_str())
            .collect()
    };
    let failing = with(Status::Fail);
    let warned: Vec<&str> = with(Status::Warn)
        .into_iter()
        .filter(|id| !allow.allows(id))
        .collect();
    let want_tree = format!("sha256:{tree_hex}");
    if r.tree_digest != want_tree {
        Check::fail(
            ID,
            format!(
                "the seal report checked tree {:?}, the SBOM attests {want_tree}: it is another image's",
                r.tree_digest
            ),
        )
    } else if r.status != "sealed" {
        Check::fail(
            ID,
            format!("seal report status is {:?}, not \"sealed\"", r.status),
        )
    } else if r.checks.is_empty() {
        Check::fail(ID, "seal report says \"sealed\" without judgeable checks")
    } else if !failing.is_empty() {
        Check::fail(
            ID,
            format!(
                "seal report says \"sealed\" but checks fail: {}",
                failing.join(", ")
            ),
        )
    } else if !warned.is_empty() {
        Check::fail(
            ID,
            format!(
                "seal checks warn: {} (tolerate with --allow-warn)",
                warned.join(", ")
            ),
        )
    } else {
        Check::pass(ID, "sealed")
    }
}

/// The report's timestamp (seconds since the epoch), for
/// [`HostKeyAge::Image`](crate::HostKeyAge::Image).
pub(crate) fn timestamp(report: &SealReport) -> Option<i64> {
    time::OffsetDateTime::parse(
        &report.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()
    .map(|t| t.unix_timestamp())
}
