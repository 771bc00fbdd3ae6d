//! Seal state: a seal report (`bakeproof seal check --format json`, read
//! as `bakeproof_seal::SealReport`, the type that writes it) checked and
//! bound to its SBOM, and the changes between two reports: per check, a
//! status change (worse or better) and the findings added or removed by
//! (path, kind); the overall verdict. Finding details are never compared
//! or copied, so nothing of a secret can reach the output.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use bakeproof_sbom::cyclonedx::Sbom;
use bakeproof_seal::SealReport;

use crate::model::{
    CheckStatus, Direction, SealChanges, SealCheckChange, SealFindingRef, Verdict, VerdictChange,
};

/// Largest seal report read (bytes): a report is tens of kilobytes; 100k
/// findings are ~15 MB.
pub const MAX_SEAL_BYTES: u64 = 64 << 20;

/// Why a seal report cannot be compared: the seal crate's reasons (one
/// set of rules for `attest`, `verify` and `diff`).
pub use bakeproof_seal::SealReportError;

/// The report's overall status as the diff names it.
fn verdict(r: &SealReport) -> Verdict {
    if r.sealed() {
        Verdict::Sealed
    } else {
        Verdict::Unsealed
    }
}

/// Parses a seal report as `bakeproof seal check --format json` writes it
/// (`schemas/seal-report.schema.json`, read by the seal crate's own type:
/// every field the schema requires; `report_version` 2 with its
/// `tree_digest`; check ids unique; the status `sealed` or `unsealed`, and
/// what the checks say: `unsealed` exactly when one fails, or, `strict`,
/// warns). Bind it to its SBOM with [`check_seal_binding`].
pub fn parse_seal(bytes: &[u8]) -> Result<SealReport, SealReportError> {
    SealReport::from_json(bytes)
}

/// Checks that `seal` describes the tree `sbom` describes: a seal report is
/// compared only beside the SBOM of the very tree it checked.
pub fn check_seal_binding(sbom: &Sbom<'_>, seal: &SealReport) -> Result<(), SealReportError> {
    let tree = sbom.tree_digest().ok_or(SealReportError::UnboundSbom)?;
    seal.check_tree(&tree)
}

/// A check's findings as the diff names them: sorted, (path, kind) unique
/// (the worst severity is kept), never the detail.
fn finding_refs(c: &bakeproof_seal::CheckResult) -> Vec<SealFindingRef> {
    let mut by_key: BTreeMap<(&str, &str), CheckStatus> = BTreeMap::new();
    for f in &c.findings {
        let e = by_key
            .entry((f.path.as_str(), f.kind.as_str()))
            .or_insert(f.severity);
        *e = (*e).max(f.severity);
    }
    by_key
        .into_iter()
        .map(|((path, kind), severity)| SealFindingRef {
            path: path.to_owned(),
            kind: kind.to_owned(),
            severity: Some(severity),
        })
        .collect()
}

/// Compares two seal reports. Pure: the same inputs give the same output.
/// With a report on one side only (or none), nothing is compared and
/// `reason` says why.
pub fn diff_seal(old: Option<&SealReport>, new: Option<&SealReport>) -> SealChanges {
    let (a, b) = match (old, new) {
        (Some(a), Some(b)) => (a, b),
        (o, n) => {
            let reason = match (o.is_some(), n.is_some()) {
                (true, false) => "only the old side has a seal report",
                (false, true) => "only the new side has a seal report",
                _ => "neither side has a seal report",
            };
            return SealChanges {
                compared: false,
                reason: Some(reason.into()),
                verdict: None,
                changes: Vec::new(),
            };
        }
    };
    type Check = (CheckStatus, Vec<SealFindingRef>);
    let olds: BTreeMap<&str, Check> = a
        .checks
        .iter()
        .map(|c| (c.id.as_str(), (c.status, finding_refs(c))))
        .collect();
    let news: BTreeMap<&str, Check> = b
        .checks
        .iter()
        .map(|c| (c.id.as_str(), (c.status, finding_refs(c))))
        .collect();
    // the new report's order, then checks only the old one has
    let ids = b.checks.iter().map(|c| c.id.as_str()).chain(
        a.checks
            .iter()
            .map(|c| c.id.as_str())
            .filter(|id| !news.contains_key(id)),
    );
    let empty: &[SealFindingRef] = &[];
    let mut changes = Vec::new();
    for id in ids {
        let (o, n) = (olds.get(id), news.get(id));
        let (from, to) = (o.map(|c| c.0), n.map(|c| c.0));
        let rank = |s: Option<CheckStatus>| s.unwrap_or(CheckStatus::Pass);
        let direction = match rank(from).cmp(&rank(to)) {
            Ordering::Less => Direction::Worse,
            Ordering::Greater => Direction::Better,
            Ordering::Equal => Direction::Same,
        };
        let fo = o.map_or(empty, |c| c.1.as_slice());
        let fn_ = n.map_or(empty, |c| c.1.as_slice());
        let key = |f: &SealFindingRef| (f.path.clone(), f.kind.clone());
        let ko: BTreeSet<(String, String)> = fo.iter().map(key).collect();
        let kn: BTreeSet<(String, String)> = fn_.iter().map(key).collect();
        let findings_added: Vec<SealFindingRef> = fn_
            .iter()
            .filter(|f| !ko.contains(&key(f)))
            .cloned()
            .collect();
        let findings_removed: Vec<SealFindingRef> = fo
            .iter()
            .filter(|f| !kn.contains(&key(f)))
            .cloned()
            .collect();
        if from == to && findings_added.is_empty() && findings_removed.is_empty() {
            continue;
        }
        changes.push(SealCheckChange {
            check: id.to_owned(),
            from,
            to,
            direction,
            findings_added,
            findings_removed,
        });
    }
    SealChanges {
        compared: true,
        reason: None,
        verdict: Some(VerdictChange {
            from: verdict(a),
            to: verdict(b),
        }),
        changes,
    }
}
