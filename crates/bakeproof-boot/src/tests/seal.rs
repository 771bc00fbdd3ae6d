//! The `seal` check's judgement of the attested seal report.

use serde_json::Value;

use super::{OTHER_TREE, TREE, seal_report};
use crate::AllowWarn;
use crate::checks::seal::{judge, read};
use crate::report::Check;

fn judged(v: &Value, allow: &[&str]) -> Check {
    judge(&read(v), TREE, &AllowWarn::from_ids(allow))
}

fn failed(c: &Check, needle: &str) {
    super::assert_failed(c, "seal", needle);
}

#[test]
fn sealed_report_of_the_attested_tree_passes() {
    let c = judged(
        &seal_report(TREE, &[("machine-id", "pass"), ("secrets", "pass")], None),
        &[],
    );
    assert!(c.ok, "{c:?}");
    assert_eq!(c.detail, "sealed");
}

#[test]
fn a_status_other_than_sealed_fails() {
    let v = seal_report(TREE, &[("machine-id", "fail")], None);
    assert_eq!(v["status"], "unsealed");
    failed(
        &judged(&v, &["all"]),
        "seal report status is \"unsealed\", not \"sealed\"",
    );
    // A status the seal crate does not write: not a seal report.
    let v = seal_report(TREE, &[("machine-id", "pass")], Some("mostly-sealed"));
    failed(&judged(&v, &[]), "neither sealed nor unsealed");
}

#[test]
fn sealed_beside_a_failing_check_fails() {
    let v = seal_report(
        TREE,
        &[("machine-id", "pass"), ("secrets", "fail")],
        Some("sealed"),
    );
    failed(
        &judged(&v, &["all"]),
        "contradicts its checks: secrets fail",
    );
}

#[test]
fn a_report_without_judgeable_checks_fails() {
    failed(
        &judged(&seal_report(TREE, &[], None), &[]),
        "it has no checks",
    );
    // A check status that is neither pass, warn nor fail.
    let v = seal_report(TREE, &[("machine-id", "skipped")], None);
    failed(&judged(&v, &["all"]), "not a bakeproof seal report");
}

#[test]
fn warnings_fail_unless_tolerated_by_id_or_all() {
    let v = seal_report(
        TREE,
        &[
            ("machine-id", "pass"),
            ("secrets", "warn"),
            ("logs", "warn"),
        ],
        None,
    );
    failed(
        &judged(&v, &[]),
        "seal checks warn: secrets, logs (tolerate with --allow-warn)",
    );
    failed(&judged(&v, &["secrets"]), "seal checks warn: logs (");
    assert!(judged(&v, &["secrets", "logs"]).ok);
    assert!(judged(&v, &["all"]).ok);
    // A strict report that says sealed beside a warning contradicts itself:
    // no tolerance makes it pass.
    let mut strict = v.clone();
    strict["strict"] = true.into();
    failed(&judged(&strict, &["all"]), "contradicts its checks");
}

#[test]
fn a_report_of_another_tree_fails() {
    let v = seal_report(OTHER_TREE, &[("machine-id", "pass")], None);
    failed(&judged(&v, &[]), "it is another image's");
    assert!(
        judged(&v, &[])
            .detail
            .contains(&format!("sha256:{OTHER_TREE}"))
    );
}

#[test]
fn a_report_that_is_not_one_fails() {
    // No host_keys list (a report without it made the old host-key check
    // pass): the typed report refuses it.
    let mut v = seal_report(TREE, &[("machine-id", "pass")], None);
    v.as_object_mut().unwrap().remove("host_keys");
    failed(&judged(&v, &[]), "host_keys");
    let mut v = seal_report(TREE, &[("machine-id", "pass")], None);
    v["report_version"] = 1.into();
    failed(&judged(&v, &[]), "report_version 1");
    failed(
        &judged(&Value::String("sealed".into()), &[]),
        "not a bakeproof seal report",
    );
}
