//! The audit-report half of the diff: the requirements of the design
//! document whose status changed between two images' audit reports
//! (`bakeproof audit --format json`, or the audits the AMIs carry).
//! A requirement is the same on both sides when its `kind`, `name` and
//! `rule` are.

use bakeproof_audit::report::{AuditReport, AuditStatus, ReqStatus, Requirement, TreeMismatch};
use serde::Serialize;

use crate::model::Direction;

/// Largest audit report read.
pub const MAX_AUDIT_BYTES: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum AuditReportError {
    #[error("not an audit report: {0}")]
    Parse(String),
    #[error("the audit report audited tree {report}, the SBOM describes {sbom}: another image")]
    OtherTree { report: String, sbom: String },
    #[error("the audit report names no tree digest (an audit of no image)")]
    Unbound,
    #[error("the SBOM names no tree digest to bind the audit report to")]
    UnboundSbom,
}

/// Parses an audit report (JSON bytes).
pub fn parse_audit(bytes: &[u8]) -> Result<AuditReport, AuditReportError> {
    AuditReport::from_json(bytes).map_err(|e| AuditReportError::Parse(e.to_string()))
}

/// An audit report is compared only beside the SBOM of the tree it audited.
pub fn check_audit_binding(
    sbom: &crate::Sbom<'_>,
    audit: &AuditReport,
) -> Result<(), AuditReportError> {
    let tree = sbom.tree_digest().ok_or(AuditReportError::UnboundSbom)?;
    match audit.check_tree(&tree) {
        Ok(_) => Ok(()),
        Err((TreeMismatch::Unbound, _)) => Err(AuditReportError::Unbound),
        Err((TreeMismatch::Other(report), sbom)) => {
            Err(AuditReportError::OtherTree { report, sbom })
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AuditStatusChange {
    pub from: AuditStatus,
    pub to: AuditStatus,
}

/// One requirement whose status differs (or that only one side has).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReqChange {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What the design asks (the new side's, else the old side's).
    pub expected: String,
    /// `ok`/`ng` on each side, `null` where the side has no such
    /// requirement.
    pub from: Option<ReqStatus>,
    pub to: Option<ReqStatus>,
    pub actual_from: Option<String>,
    pub actual_to: Option<String>,
    /// `worse`: now `ng` and was not; `better`: was `ng` and is not;
    /// `same`: appeared or went away `ok`.
    pub direction: Direction,
}

/// Audit-report changes between the two sides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditChanges {
    /// `true` when both sides have an audit report.
    pub compared: bool,
    /// Why nothing was compared (`null` when `compared`).
    pub reason: Option<String>,
    pub status: Option<AuditStatusChange>,
    pub changes: Vec<AuditReqChange>,
    /// Requirements now `ng` that were not.
    pub worse: usize,
    /// Requirements no longer `ng`.
    pub better: usize,
}

impl AuditChanges {
    /// What `--fail-on audit` counts: requirements worse, and the status
    /// going from `pass` to `fail`.
    pub fn count_worse(&self) -> usize {
        let status = self
            .status
            .is_some_and(|s| s.from == AuditStatus::Pass && s.to == AuditStatus::Fail);
        self.worse + usize::from(status)
    }
}

type Key<'a> = (&'a str, &'a str, Option<&'a str>);

fn key(r: &Requirement) -> Key<'_> {
    (&r.kind, &r.name, r.rule.as_deref())
}

/// Compares two audit reports; `None` when neither side has one (the diff
/// then says nothing of audits). Pure.
pub fn diff_audit(old: Option<&AuditReport>, new: Option<&AuditReport>) -> Option<AuditChanges> {
    let (a, b) = match (old, new) {
        (None, None) => return None,
        (Some(a), Some(b)) => (a, b),
        (a, _) => {
            return Some(AuditChanges {
                reason: Some(
                    if a.is_none() {
                        "the old side has no audit report"
                    } else {
                        "the new side has no audit report"
                    }
                    .into(),
                ),
                ..AuditChanges::default()
            });
        }
    };
    let mut out = AuditChanges {
        compared: true,
        status: Some(AuditStatusChange {
            from: a.status,
            to: b.status,
        }),
        ..AuditChanges::default()
    };
    let find = |list: &'_ [Requirement], k: Key<'_>| -> Option<usize> {
        list.iter().position(|r| key(r) == k)
    };
    let mut push = |o: Option<&Requirement>, n: Option<&Requirement>| {
        let from = o.map(|r| r.status);
        let to = n.map(|r| r.status);
        if from == to {
            return;
        }
        let direction = match (from, to) {
            (_, Some(ReqStatus::Ng)) => Direction::Worse,
            (Some(ReqStatus::Ng), _) => Direction::Better,
            _ => Direction::Same,
        };
        match direction {
            Direction::Worse => out.worse += 1,
            Direction::Better => out.better += 1,
            Direction::Same => {}
        }
        let Some(r) = n.or(o) else { return };
        out.changes.push(AuditReqChange {
            kind: r.kind.clone(),
            name: r.name.clone(),
            rule: r.rule.clone(),
            expected: r.expected.clone(),
            from,
            to,
            actual_from: o.map(|r| r.actual.clone()),
            actual_to: n.map(|r| r.actual.clone()),
            direction,
        });
    };
    for r in &b.requirements {
        let o = find(&a.requirements, key(r)).map(|i| &a.requirements[i]);
        push(o, Some(r));
    }
    for r in &a.requirements {
        if find(&b.requirements, key(r)).is_none() {
            push(Some(r), None);
        }
    }
    Some(out)
}

fn st(s: Option<ReqStatus>) -> &'static str {
    match s {
        Some(ReqStatus::Ok) => "ok",
        Some(ReqStatus::Ng) => "ng",
        None => "absent",
    }
}

fn status_str(s: AuditStatus) -> &'static str {
    match s {
        AuditStatus::Pass => "pass",
        AuditStatus::Fail => "fail",
    }
}

fn subject(c: &AuditReqChange) -> String {
    match &c.rule {
        Some(r) => format!("{} {} ({r})", c.kind, c.name),
        None => format!("{} {}", c.kind, c.name),
    }
}

/// The text section: the status line, then one line per requirement.
pub(crate) fn render_text(a: &AuditChanges, color: bool) -> String {
    use std::fmt::Write as _;
    let c = |code: &'static str| if color { code } else { "" };
    let mut out = String::new();
    let Some(s) = a.status else {
        let _ = writeln!(
            out,
            "\naudit: not compared ({})",
            a.reason.as_deref().unwrap_or("no audit reports")
        );
        return out;
    };
    let _ = writeln!(
        out,
        "\n{}audit:{} {} -> {}; {} requirement(s) worse, {} better",
        c("\x1b[1m"),
        c("\x1b[0m"),
        status_str(s.from),
        status_str(s.to),
        a.worse,
        a.better
    );
    for ch in &a.changes {
        let (mark, col) = match ch.direction {
            Direction::Worse => ("!", "\x1b[31m"),
            Direction::Better => ("o", "\x1b[32m"),
            Direction::Same => ("~", "\x1b[33m"),
        };
        let _ = writeln!(
            out,
            "  {}{mark} {} {} -> {} (expected {}; actual {} -> {}){}",
            c(col),
            subject(ch),
            st(ch.from),
            st(ch.to),
            ch.expected,
            ch.actual_from.as_deref().unwrap_or("-"),
            ch.actual_to.as_deref().unwrap_or("-"),
            c("\x1b[0m")
        );
    }
    out
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown section: a table of the requirements whose status changed.
pub(crate) fn render_markdown(a: &AuditChanges) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let Some(s) = a.status else {
        let _ = writeln!(
            out,
            "\nAudit not compared: {}.",
            md(a.reason.as_deref().unwrap_or("no audit reports"))
        );
        return out;
    };
    let _ = writeln!(
        out,
        "\nAudit: {} -> {}; {} requirement(s) worse, {} better.",
        status_str(s.from),
        status_str(s.to),
        a.worse,
        a.better
    );
    if a.changes.is_empty() {
        return out;
    }
    let _ = write!(
        out,
        "\n### Audit requirements ({})\n\n| requirement | expected | from | to | actual before | actual after |\n| --- | --- | --- | --- | --- | --- |\n",
        a.changes.len()
    );
    for ch in &a.changes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md(&subject(ch)),
            md(&ch.expected),
            st(ch.from),
            st(ch.to),
            md(ch.actual_from.as_deref().unwrap_or("-")),
            md(ch.actual_to.as_deref().unwrap_or("-"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: &str, name: &str, st: ReqStatus, actual: &str) -> Requirement {
        Requirement {
            kind: kind.into(),
            name: name.into(),
            rule: None,
            expected: ">= 1".into(),
            actual: actual.into(),
            status: st,
            detail: None,
            source: None,
        }
    }

    fn report(reqs: Vec<Requirement>) -> AuditReport {
        AuditReport {
            schema_version: 1,
            status: AuditReport::status_of(&reqs),
            document: Default::default(),
            date: "2026-01-01T00:00:00Z".into(),
            image: Default::default(),
            requirements: reqs,
            configuration: Default::default(),
            warnings: vec![],
        }
    }

    #[test]
    fn status_changes_only() {
        use ReqStatus::{Ng, Ok};
        let a = report(vec![
            req("package", "nginx", Ok, "1.24"),
            req("package", "curl", Ng, "not installed"),
            req("sshd", "permitrootlogin", Ok, "no"),
            req("os", "id", Ok, "debian"),
        ]);
        let b = report(vec![
            req("package", "nginx", Ng, "1.22"),
            req("package", "curl", Ok, "8.0"),
            req("sshd", "permitrootlogin", Ok, "no"),
            req("kernel", "6.1", Ng, "6.1"),
        ]);
        let d = diff_audit(Some(&a), Some(&b)).expect("compared");
        let names: Vec<(&str, Direction)> = d
            .changes
            .iter()
            .map(|c| (c.name.as_str(), c.direction))
            .collect();
        assert_eq!(
            names,
            [
                ("nginx", Direction::Worse),
                ("curl", Direction::Better),
                ("6.1", Direction::Worse),
                ("id", Direction::Same)
            ]
        );
        assert_eq!((d.worse, d.better), (2, 1));
        assert_eq!(d.count_worse(), 2, "fail -> fail is no status change");
        assert_eq!(d.changes[0].actual_from.as_deref(), Some("1.24"));
        assert!(diff_audit(None, None).is_none());
        let one = diff_audit(None, Some(&b)).expect("reason");
        assert!(!one.compared && one.reason.is_some());
    }
}
