//! Unit tests of the library's decisions (the end-to-end ones, through the
//! `bakeproof` binary, are tests/boot.rs and tests/imds.rs).

mod fetch;
mod host_keys;
mod packages;
mod report;
mod seal;

use serde_json::{Value, json};

use crate::report::Check;

/// `c` is the failed check `id` and its detail says `needle`.
pub(super) fn assert_failed(c: &Check, id: &str, needle: &str) {
    assert_eq!(c.id, id);
    assert!(!c.ok, "{c:?}");
    assert!(
        c.detail.contains(needle),
        "{needle:?} not in {:?}",
        c.detail
    );
}

/// A tree digest (hex) of the tests' image, and of another.
pub(super) const TREE: &str = "1111111111111111111111111111111111111111111111111111111111111111";
pub(super) const OTHER_TREE: &str =
    "2222222222222222222222222222222222222222222222222222222222222222";

/// A seal report as `bakeproof seal check --format json` writes it
/// (schemas/seal-report.schema.json) of tree `tree` (hex), with `checks`
/// as (id, status) and a status derived as the seal crate derives it
/// (unless `status` overrides it).
pub(super) fn seal_report(tree: &str, checks: &[(&str, &str)], status: Option<&str>) -> Value {
    let count = |s: &str| checks.iter().filter(|c| c.1 == s).count();
    let derived = if count("fail") == 0 {
        "sealed"
    } else {
        "unsealed"
    };
    json!({
        "report_version": 2,
        "status": status.unwrap_or(derived),
        "strict": false,
        "root": "/img",
        "tree_digest": format!("sha256:{tree}"),
        "tool": {"name": "bakeproof", "version": "0.1.0"},
        "timestamp": "2024-01-01T00:00:00Z",
        "summary": {"pass": count("pass"), "warn": count("warn"), "fail": count("fail")},
        "checks": checks.iter().map(|(id, st)| json!({"id": id, "status": st, "findings": []})).collect::<Vec<_>>(),
        "host_keys": [],
        "scan": {"entries": 1, "files": 1, "errors": 0, "files_over_size_cap": 0,
                 "size_cap_bytes": 1048576, "package_files_not_reported": 0, "packages": 0}
    })
}

/// A CycloneDX SBOM of tree `tree` (hex) with `components`.
pub(super) fn sbom(tree: &str, components: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"type": "container", "name": "img",
            "hashes": [{"alg": "SHA-256", "content": tree}]},
            "properties": [{"name": "bakeproof:tree-digest", "value": format!("sha256:{tree}")}]},
        "components": components
    }))
    .unwrap()
}

/// A file component as bakeproof's encoder writes one.
pub(super) fn file_component(path: &str, sha256: &str) -> Value {
    json!({"type": "file", "name": path, "bom-ref": format!("file:{path}"),
        "hashes": [{"alg": "SHA-256", "content": sha256}],
        "properties": [{"name": "bakeproof:file:type", "value": "file"},
                       {"name": "bakeproof:file:mode", "value": "0600"}]})
}
