//! The `audit` check (`verify --require-audit`): the AMI carries an audit
//! report (`bakeproof attest --audit`), signed by a trusted key (every
//! bundle the index lists was verified by the fetch), of the attested tree,
//! read by the audit crate's own type, and passing: every requirement of
//! the design document `ok`. Missing, failing, unreadable or of another
//! tree: fail.

use bakeproof_attest::statement::check_audit_report;
use serde_json::Value;

use crate::report::Check;

const ID: &str = "audit";

/// Judges the attested audit report (`None`: the AMI carries none) for
/// the image of tree `tree_hex`.
pub(crate) fn judge(report: Option<&Value>, tree_hex: &str) -> Check {
    let Some(v) = report else {
        return Check::fail(
            ID,
            "the AMI carries no audit attestation (attest it with `bakeproof attest --audit \
             REPORT` and publish it)",
        );
    };
    let facts = match check_audit_report(v, tree_hex) {
        Ok(f) => f,
        Err(e) => return Check::fail(ID, format!("the attested {e}")),
    };
    let n = facts.requirements;
    let doc = facts
        .document
        .as_deref()
        .map(|d| format!(" of design document {d}"))
        .unwrap_or_default();
    if facts.passed {
        Check::pass(ID, format!("audit{doc} passes: {n} requirement(s) ok"))
    } else {
        Check::fail(
            ID,
            format!(
                "audit{doc} fails: {} of {n} requirement(s) ng: {}",
                facts.failing.len(),
                facts.failing.join(", ")
            ),
        )
    }
}
