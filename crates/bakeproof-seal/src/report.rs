//! Reading a seal report back: the one set of rules by which `attest`,
//! `verify` and `diff` accept a [`SealReport`] somebody else wrote (and
//! may have edited). A report is parsed by the type that writes it (every
//! field `schemas/seal-report.schema.json` requires), then judged: the
//! version that names its tree, a well-formed tree digest, at least one
//! check, unique non-empty ids, a summary that counts the checks, and a
//! status that is what the checks say. Binding it to an image is a second
//! step ([`SealReport::check_tree`]): the caller knows which tree it wants.

use std::collections::BTreeSet;

use bakeproof_types::Sha256Digest;

use crate::check::{SealReport, Status};

/// The report version this bakeproof reads: the first that names the tree
/// it checked.
pub const REPORT_VERSION: u32 = 2;

/// Why a seal report is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealReportError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a bakeproof seal report: {0}")]
    NotSealReport(String),
    #[error(
        "seal report_version {0} is not supported (this bakeproof reads 2: a report that names \
         the tree it checked)"
    )]
    Version(u64),
    #[error("seal report tree_digest {0:?} is not sha256:<64 lower-case hex digits>")]
    TreeDigest(String),
    #[error("seal report status {status:?} contradicts its checks: {why}")]
    Inconsistent { status: &'static str, why: String },
    #[error(
        "seal report summary ({pass} pass, {warn} warn, {fail} fail) does not count its checks \
         ({} pass, {} warn, {} fail)", counted.0, counted.1, counted.2
    )]
    Summary {
        pass: u32,
        warn: u32,
        fail: u32,
        counted: (usize, usize, usize),
    },
    #[error(
        "the seal report checked tree {report}, the SBOM describes {sbom}: the report is of \
         another image"
    )]
    OtherTree { report: String, sbom: String },
    #[error(
        "the SBOM names no tree digest (not a full bakeproof scan), so no seal report can be \
         bound to it"
    )]
    UnboundSbom,
    #[error("seal report lists check {0:?} twice")]
    DuplicateCheck(String),
    #[error("seal report has a check with an empty id")]
    EmptyCheckId,
}

/// Why `v` did not deserialise as a report: no string `status` first (what
/// says it is a report at all), else serde's reason.
fn not_a_report(v: &serde_json::Value, e: &serde_json::Error) -> SealReportError {
    if v.get("status")
        .and_then(serde_json::Value::as_str)
        .is_none()
    {
        SealReportError::NotSealReport(format!("no string \"status\" ({e})"))
    } else {
        SealReportError::NotSealReport(e.to_string())
    }
}

impl SealReport {
    /// Parses and judges a seal report's JSON ([`SealReport::validate`]).
    pub fn from_json(bytes: &[u8]) -> Result<SealReport, SealReportError> {
        let r: SealReport = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                // The error path only: name the field that says what a
                // report is before serde's first complaint.
                match serde_json::from_slice::<serde_json::Value>(bytes) {
                    Ok(v) => not_a_report(&v, &e),
                    Err(_) => SealReportError::NotSealReport(e.to_string()),
                }
            } else {
                SealReportError::Json(e.to_string())
            }
        })?;
        r.validate()?;
        Ok(r)
    }

    /// [`SealReport::from_json`] for a report already parsed as JSON (a
    /// statement's predicate).
    pub fn from_value(v: &serde_json::Value) -> Result<SealReport, SealReportError> {
        let r = SealReport::deserialize_value(v)?;
        r.validate()?;
        Ok(r)
    }

    fn deserialize_value(v: &serde_json::Value) -> Result<SealReport, SealReportError> {
        serde::Deserialize::deserialize(v).map_err(|e: serde_json::Error| not_a_report(v, &e))
    }

    /// The rules a report read back must meet (the module docs).
    pub fn validate(&self) -> Result<(), SealReportError> {
        if self.report_version != REPORT_VERSION {
            return Err(SealReportError::Version(u64::from(self.report_version)));
        }
        if Sha256Digest::from_prefixed(&self.tree_digest).is_err() {
            return Err(SealReportError::TreeDigest(self.tree_digest.clone()));
        }
        let status: &'static str = match self.status.as_str() {
            "sealed" => "sealed",
            "unsealed" => "unsealed",
            other => {
                return Err(SealReportError::NotSealReport(format!(
                    "status {other:?} is neither sealed nor unsealed"
                )));
            }
        };
        let mut seen = BTreeSet::new();
        for c in &self.checks {
            if c.id.is_empty() {
                return Err(SealReportError::EmptyCheckId);
            }
            if !seen.insert(c.id.as_str()) {
                return Err(SealReportError::DuplicateCheck(c.id.clone()));
            }
        }
        let (failing, warning) = (self.failing(), self.warning());
        let derived_sealed = failing.is_empty() && (!self.strict || warning.is_empty());
        if self.checks.is_empty() || derived_sealed != self.sealed() {
            let why = if self.checks.is_empty() {
                "it has no checks".to_string()
            } else if !failing.is_empty() {
                format!("{} fail", failing.join(", "))
            } else if !warning.is_empty() && self.strict {
                format!("{} warn and the report is strict", warning.join(", "))
            } else {
                "no check fails".to_string()
            };
            return Err(SealReportError::Inconsistent { status, why });
        }
        let counted = (
            self.checks.len() - failing.len() - warning.len(),
            warning.len(),
            failing.len(),
        );
        let s = &self.summary;
        if (s.pass as usize, s.warn as usize, s.fail as usize) != counted {
            return Err(SealReportError::Summary {
                pass: s.pass,
                warn: s.warn,
                fail: s.fail,
                counted,
            });
        }
        Ok(())
    }

    /// Checks that the report is of the tree `tree` (`sha256:<hex>` or the
    /// bare hex): a seal report counts only beside the very tree it checked.
    pub fn check_tree(&self, tree: &str) -> Result<(), SealReportError> {
        let want = if tree.starts_with("sha256:") {
            tree.to_owned()
        } else {
            format!("sha256:{tree}")
        };
        if self.tree_digest != want {
            return Err(SealReportError::OtherTree {
                report: self.tree_digest.clone(),
                sbom: want,
            });
        }
        Ok(())
    }

    /// Ids of the checks that fail, in report order.
    pub fn failing(&self) -> Vec<&str> {
        self.with_status(Status::Fail)
    }

    /// Ids of the checks that warn, in report order.
    pub fn warning(&self) -> Vec<&str> {
        self.with_status(Status::Warn)
    }

    fn with_status(&self, st: Status) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.status == st)
            .map(|c| c.id.as_str())
            .collect()
    }
}
