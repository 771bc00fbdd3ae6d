//! in-toto Statement v1 about AMIs: subjects, predicates, AMI references,
//! Packer manifests, the SBOM's tree digest.

use serde_json::{Map, Value, json};

use bakeproof_types::Sha256Digest;
pub use bakeproof_types::{AmiRef, AmiRefError};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The CycloneDX SBOM: carried inline, or, when too large, a small CycloneDX
/// document pinning it by digest ([`sbom_ref_predicate`]). One predicate type
/// for both, so that policies matching CycloneDX attestations (`cosign
/// verify-attestation --type cyclonedx`) match either.
pub const SBOM_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";
/// The reference predicate of bakeproof before issue 13 (its own type, which
/// no CycloneDX policy matches). Still verified; no longer written.
pub const SBOM_REF_PREDICATE_TYPE: &str = "https://bakeproof.dev/sbom-ref/v1";
/// `metadata.properties` of a CycloneDX reference predicate: `sha256:HEX` of
/// the referenced SBOM's exact bytes. Its presence makes the predicate a
/// reference.
pub const SBOM_REF_PROPERTY: &str = "bakeproof:sbom-ref";
/// `metadata.properties` of a CycloneDX reference predicate: the referenced
/// SBOM's size in bytes (decimal).
pub const SBOM_REF_SIZE_PROPERTY: &str = "bakeproof:sbom-ref-size";
/// The seal report of `bakeproof seal check --format json`.
pub const SEAL_PREDICATE_TYPE: &str = "https://bakeproof.dev/seal-report/v1";
/// The audit report of `bakeproof audit --format json` (the image against
/// its design document): the one definition is the audit crate's.
pub use bakeproof_audit::report::AUDIT_PREDICATE_TYPE;
/// Media type recorded in an SBOM reference.
pub const CYCLONEDX_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
/// SBOMs up to this size (bytes) are carried inline.
pub const DEFAULT_INLINE_SBOM_MAX: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Ami(#[from] AmiRefError),
    #[error("no AMI to attest (give REGION:AMI-ID, e.g. us-east-1:ami-0123456789abcdef0)")]
    NoAmi,
    #[error("Packer manifest: {0}")]
    Manifest(String),
    #[error("SBOM: {0}")]
    Sbom(String),
    #[error("seal report: {0}")]
    Seal(String),
    #[error(
        "seal report: it checked tree {report}, the SBOM describes tree {expected}: the report \
         is of another image (check the root the SBOM was scanned from, or write both in one run \
         with `bakeproof scan --seal-report FILE`)"
    )]
    SealTreeDigest { report: String, expected: String },
    #[error("audit report: {0}")]
    Audit(String),
    #[error(
        "audit report: it audited tree {report}, the SBOM describes tree {expected}: the report \
         is of another image (audit the root the SBOM was scanned from)"
    )]
    AuditTreeDigest { report: String, expected: String },
    #[error(
        "audit report: the image does not meet its design document (ng: {0}); attesting it \
         would let `bakeproof verify --require-audit` pass nothing (fix the image, or pass \
         --allow-failing-audit to attest the failing report anyway)"
    )]
    AuditFailed(String),
    #[error(
        "seal report: the image is unsealed ({0}); attesting it would let every clone boot as \
         the builder (seal it and check again, or pass --allow-unsealed to attest it anyway)"
    )]
    Unsealed(String),
}

/// What a statement's predicate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredicateKind {
    /// The SBOM, inline or by reference.
    Sbom,
    Seal,
    /// The audit report (`bakeproof audit`).
    Audit,
}

impl PredicateKind {
    pub fn of(predicate_type: &str) -> Option<PredicateKind> {
        match predicate_type {
            SBOM_PREDICATE_TYPE | SBOM_REF_PREDICATE_TYPE => Some(PredicateKind::Sbom),
            SEAL_PREDICATE_TYPE => Some(PredicateKind::Seal),
            AUDIT_PREDICATE_TYPE => Some(PredicateKind::Audit),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PredicateKind::Sbom => "sbom",
            PredicateKind::Seal => "seal",
            PredicateKind::Audit => "audit",
        }
    }
}

/// The AMIs of a Packer manifest's last run: every build whose
/// `packer_run_uuid` is `last_run_uuid` and whose builder is an `amazon-*`
/// one (or unnamed); `artifact_id` is `REGION:AMI-ID` pairs joined by commas.
pub fn amis_from_packer_manifest(bytes: &[u8]) -> Result<Vec<AmiRef>, InputError> {
    let m = |s: String| InputError::Manifest(s);
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| m(format!("not JSON: {e}")))?;
    let last = doc
        .get("last_run_uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| m("no last_run_uuid".into()))?;
    let builds = doc
        .get("builds")
        .and_then(Value::as_array)
        .ok_or_else(|| m("no builds array".into()))?;
    let mut run_builds = 0;
    let mut amis = Vec::new();
    for b in builds {
        if b.get("packer_run_uuid").and_then(Value::as_str) != Some(last) {
            continue;
        }
        run_builds += 1;
        let builder = b.get("builder_type").and_then(Value::as_str).unwrap_or("");
        if !builder.is_empty() && !builder.starts_with("amazon-") {
            continue;
        }
        let name = b.get("name").and_then(Value::as_str).unwrap_or("?");
        let art = b
            .get("artifact_id")
            .and_then(Value::as_str)
            .ok_or_else(|| m(format!("build {name:?} has no artifact_id")))?;
        for pair in art.split(',').filter(|p| !p.trim().is_empty()) {
            let a = AmiRef::parse(pair.trim()).map_err(|_| {
                m(format!(
                    "build {name:?}: malformed artifact_id {art:?} (expected REGION:AMI-ID pairs joined by commas)"
                ))
            })?;
            if !amis.contains(&a) {
                amis.push(a);
            }
        }
    }
    if run_builds == 0 {
        return Err(m(format!("no build of run {last} (last_run_uuid)")));
    }
    if amis.is_empty() {
        return Err(m(format!("run {last} produced no AMI")));
    }
    Ok(amis)
}

/// The image's tree digest (lower-case hex) from a bakeproof CycloneDX SBOM:
/// `metadata.component.hashes[0]` (SHA-256), cross-checked with the
/// `bakeproof:tree-digest` property when present. The definition is the
/// SBOM crate's ([`bakeproof_sbom::cyclonedx::tree_digest_of_metadata`]),
/// the one `diff` binds seal reports by.
pub fn tree_digest_of_sbom(sbom: &Value) -> Result<String, InputError> {
    bakeproof_sbom::cyclonedx::tree_digest_of_metadata(sbom.get("metadata"))
        .map_err(|e| InputError::Sbom(e.to_string()))
}

/// What a checked seal report says ([`check_seal_report`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealFacts {
    /// `status` is `sealed` (and the checks agree).
    pub sealed: bool,
    /// Ids of the checks that fail.
    pub failing: Vec<String>,
    /// Ids of the checks that warn.
    pub warning: Vec<String>,
}

/// Checks a seal report against the tree it must describe (`tree`: the
/// lower-case hex of the SBOM's tree digest, the subjects' `digest.sha256`),
/// by the seal crate's rules for a report read back
/// ([`bakeproof_seal::SealReport::from_value`]: the typed report with every
/// field the schema requires, report_version 2, unique check ids, a summary
/// that counts the checks, a status that is what the checks say), then
/// [`bakeproof_seal::SealReport::check_tree`]: a report of another tree is
/// refused.
///
/// A report that passes may still be unsealed ([`SealFacts::sealed`]).
pub fn check_seal_report(v: &Value, tree: &str) -> Result<SealFacts, InputError> {
    use bakeproof_seal::{SealReport, SealReportError};
    let r = SealReport::from_value(v).map_err(|e| InputError::Seal(e.to_string()))?;
    r.check_tree(tree).map_err(|e| match e {
        SealReportError::OtherTree { report, sbom } => InputError::SealTreeDigest {
            report,
            expected: sbom,
        },
        e => InputError::Seal(e.to_string()),
    })?;
    Ok(SealFacts {
        sealed: r.sealed(),
        failing: r.failing().into_iter().map(str::to_owned).collect(),
        warning: r.warning().into_iter().map(str::to_owned).collect(),
    })
}

/// What an audit report says, once read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFacts {
    /// `status` is `pass` (and every requirement `ok`).
    pub passed: bool,
    /// `KIND NAME` of each requirement `ng`.
    pub failing: Vec<String>,
    /// How many requirements the report has.
    pub requirements: usize,
    /// The design document's id (`document.id`), when it has one.
    pub document: Option<String>,
}

/// Checks an audit report (`bakeproof audit --format json`) for the image
/// of tree `tree` (hex): the audit crate's typed report
/// ([`bakeproof_audit::AuditReport`]), `schema_version` this version
/// reads, a `status` that is what its requirements say (`pass` iff none is
/// `ng`), and `image.tree_digest` that is `sha256:TREE`: a report of
/// another tree, or of no tree (an audit of an SBOM), is refused.
pub fn check_audit_report(v: &Value, tree: &str) -> Result<AuditFacts, InputError> {
    use bakeproof_audit::report::{AUDIT_SCHEMA_VERSION, AuditReport, ReqStatus, TreeMismatch};
    let r: AuditReport =
        serde_json::from_value(v.clone()).map_err(|e| InputError::Audit(e.to_string()))?;
    if r.schema_version != AUDIT_SCHEMA_VERSION {
        return Err(InputError::Audit(format!(
            "schema_version {} is not supported (this bakeproof reads {AUDIT_SCHEMA_VERSION})",
            r.schema_version
        )));
    }
    if r.status != AuditReport::status_of(&r.requirements) {
        return Err(InputError::Audit(format!(
            "status {:?} is not what its requirements say",
            r.status
        )));
    }
    match r.check_tree(tree) {
        Err((TreeMismatch::Unbound, _)) => {
            return Err(InputError::Audit(
                "it names no tree digest (an audit of an SBOM or a package list proves nothing \
                 about an image: audit the root)"
                    .into(),
            ));
        }
        Err((TreeMismatch::Other(report), expected)) => {
            return Err(InputError::AuditTreeDigest { report, expected });
        }
        Ok(_) => {}
    }
    let failing: Vec<String> = r
        .requirements
        .iter()
        .filter(|q| q.status == ReqStatus::Ng)
        .map(|q| format!("{} {}", q.kind, q.name))
        .collect();
    Ok(AuditFacts {
        passed: failing.is_empty(),
        failing,
        requirements: r.requirements.len(),
        document: r.document.id.clone(),
    })
}

/// Why a report is unsealed, for messages: `failing: a, b; warning
/// (strict): c`.
pub fn unsealed_reason(f: &SealFacts) -> String {
    let mut parts = Vec::new();
    if !f.failing.is_empty() {
        parts.push(format!("failing: {}", f.failing.join(", ")));
    }
    if !f.warning.is_empty() {
        parts.push(format!("warning: {}", f.warning.join(", ")));
    }
    parts.join("; ")
}

/// The statement's subjects: one per AMI, all with the tree digest.
pub fn subjects(amis: &[AmiRef], tree_digest: &str) -> Value {
    Value::Array(
        amis.iter()
            .map(|a| json!({"name": a.subject_name(), "digest": {"sha256": tree_digest}}))
            .collect(),
    )
}

/// An in-toto Statement v1 (keys in the spec's order).
pub fn statement(subjects: Value, predicate_type: &str, predicate: Value) -> Value {
    let mut m = Map::new();
    m.insert("_type".into(), STATEMENT_TYPE.into());
    m.insert("subject".into(), subjects);
    m.insert("predicateType".into(), predicate_type.into());
    m.insert("predicate".into(), predicate);
    Value::Object(m)
}

/// The predicate (type [`SBOM_PREDICATE_TYPE`]) standing for an SBOM too
/// large to inline: a CycloneDX document of the SBOM's `bomFormat`,
/// `specVersion` and `metadata` (so the image component, its tree digest and
/// the scan's properties are read as from the SBOM itself), no components,
/// and one `externalReferences` entry of type `bom` whose `url` is `uri` (the
/// file name written beside the bundles) and whose `hashes` hold the SHA-256
/// of the SBOM's exact bytes. `metadata.properties` gains
/// [`SBOM_REF_PROPERTY`] (`sha256:HEX`) and [`SBOM_REF_SIZE_PROPERTY`]: a
/// verifier reads the reference from them and checks that the external
/// reference agrees ([`sbom_ref_of_predicate`]).
pub fn sbom_ref_predicate(uri: &str, sbom: &Value, sbom_bytes: &[u8]) -> Value {
    let digest = Sha256Digest::of(sbom_bytes);
    let mut metadata = sbom.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(m) = metadata.as_object_mut() {
        let props = m.entry("properties").or_insert_with(|| json!([]));
        if !props.is_array() {
            *props = json!([]);
        }
        if let Some(a) = props.as_array_mut() {
            a.retain(|p| {
                let n = p.get("name").and_then(Value::as_str);
                n != Some(SBOM_REF_PROPERTY) && n != Some(SBOM_REF_SIZE_PROPERTY)
            });
            a.push(json!({"name": SBOM_REF_PROPERTY, "value": digest.prefixed()}));
            a.push(json!({"name": SBOM_REF_SIZE_PROPERTY, "value": sbom_bytes.len().to_string()}));
        }
    }
    let serial = sbom.get("serialNumber").and_then(Value::as_str);
    let comment = match serial {
        Some(s) => format!(
            "The complete SBOM ({s}, {} bytes, {CYCLONEDX_MEDIA_TYPE}), too large to carry \
             inline: check its SHA-256 before reading it.",
            sbom_bytes.len()
        ),
        None => format!(
            "The complete SBOM ({} bytes, {CYCLONEDX_MEDIA_TYPE}), too large to carry inline: \
             check its SHA-256 before reading it.",
            sbom_bytes.len()
        ),
    };
    let mut doc = Map::new();
    doc.insert(
        "bomFormat".into(),
        sbom.get("bomFormat")
            .cloned()
            .unwrap_or_else(|| "CycloneDX".into()),
    );
    doc.insert(
        "specVersion".into(),
        sbom.get("specVersion")
            .cloned()
            .unwrap_or_else(|| "1.5".into()),
    );
    doc.insert("version".into(), 1.into());
    doc.insert("metadata".into(), metadata);
    doc.insert(
        "externalReferences".into(),
        json!([{
            "type": "bom",
            "url": uri,
            "comment": comment,
            "hashes": [{"alg": "SHA-256", "content": digest.to_hex()}],
        }]),
    );
    Value::Object(doc)
}

/// The reference a CycloneDX predicate carries ([`sbom_ref_predicate`]):
/// `Ok(None)` for an inline SBOM (no [`SBOM_REF_PROPERTY`]); for a reference,
/// `(uri, sha256 hex, size)`, once every part agrees: exactly one
/// [`SBOM_REF_PROPERTY`] (`sha256:` and 64 lower-case hex digits) and one
/// [`SBOM_REF_SIZE_PROPERTY`] (decimal), and exactly one `bom` external
/// reference, with a SHA-256 hash equal to the property and a plain `url`.
/// Anything else is an error: a signed statement that is unclear about what
/// it pins is not accepted.
pub fn sbom_ref_of_predicate(p: &Value) -> Result<Option<(String, String, u64)>, String> {
    let props: Vec<&Value> = p
        .pointer("/metadata/properties")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let values = |name: &str| -> Vec<Option<&str>> {
        props
            .iter()
            .filter(|q| q.get("name").and_then(Value::as_str) == Some(name))
            .map(|q| q.get("value").and_then(Value::as_str))
            .collect()
    };
    let refs = values(SBOM_REF_PROPERTY);
    let sizes = values(SBOM_REF_SIZE_PROPERTY);
    if refs.is_empty() && sizes.is_empty() {
        return Ok(None);
    }
    let [Some(r)] = refs[..] else {
        return Err(format!(
            "SBOM reference: expected one {SBOM_REF_PROPERTY} property"
        ));
    };
    let sha = r
        .strip_prefix("sha256:")
        .filter(|h| Sha256Digest::is_hex(h))
        .ok_or_else(|| format!("SBOM reference: {SBOM_REF_PROPERTY} {r:?} is not sha256:HEX"))?;
    let [Some(size)] = sizes[..] else {
        return Err(format!(
            "SBOM reference: expected one {SBOM_REF_SIZE_PROPERTY} property"
        ));
    };
    let size: u64 = size
        .parse()
        .ok()
        .filter(|_| size.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!("SBOM reference: {SBOM_REF_SIZE_PROPERTY} {size:?} is not a size")
        })?;
    let boms: Vec<&Value> = p
        .get("externalReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|e| e.get("type").and_then(Value::as_str) == Some("bom"))
                .collect()
        })
        .unwrap_or_default();
    let [bom] = boms[..] else {
        return Err(format!(
            "SBOM reference: expected one externalReferences entry of type bom, found {}",
            boms.len()
        ));
    };
    let uri = bom
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| "SBOM reference: the bom external reference has no url".to_string())?;
    let hashes: Vec<&str> = bom
        .get("hashes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|h| h.get("alg").and_then(Value::as_str) == Some("SHA-256"))
                .filter_map(|h| h.get("content").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if hashes != [sha] {
        return Err(format!(
            "SBOM reference: the bom external reference's SHA-256 is not the {SBOM_REF_PROPERTY} \
             property's ({sha})"
        ));
    }
    Ok(Some((uri.to_string(), sha.to_string(), size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ami_refs() {
        let a = AmiRef::parse("us-east-1:ami-0123456789abcdef0").unwrap();
        assert_eq!(a.subject_name(), "ami://us-east-1/ami-0123456789abcdef0");
        assert_eq!(AmiRef::from_subject_name(&a.subject_name()), Ok(a));
        assert!(AmiRef::parse("us-gov-west-1:ami-12345678").is_ok());
        for bad in [
            "",
            "us-east-1",
            "ami-0123456789abcdef0",
            "us-east-1:ami-XYZ",
            "US-EAST-1:ami-12345678",
            "us-east-1:ami-123",
            "us-east-1:snap-12345678",
            "us-east-1:ami-12345678:x",
            "../x:ami-12345678",
        ] {
            assert!(AmiRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packer_manifest() {
        let m = br#"{"builds":[
            {"name":"old","builder_type":"amazon-ebs","artifact_id":"us-east-1:ami-11111111","packer_run_uuid":"r1"},
            {"name":"new","builder_type":"amazon-ebs","artifact_id":"us-east-1:ami-22222222, eu-west-1:ami-33333333 ","packer_run_uuid":"r2"},
            {"name":"docker","builder_type":"docker","artifact_id":"sha256:abc","packer_run_uuid":"r2"}
        ],"last_run_uuid":"r2"}"#;
        let amis = amis_from_packer_manifest(m).unwrap();
        let s: Vec<String> = amis.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["us-east-1:ami-22222222", "eu-west-1:ami-33333333"]);

        let unknown = br#"{"builds":[{"artifact_id":"us-east-1:ami-11111111","packer_run_uuid":"r1"}],"last_run_uuid":"r9"}"#;
        let e = amis_from_packer_manifest(unknown).unwrap_err().to_string();
        assert!(e.contains("no build of run r9"), "{e}");
        let none = br#"{"builds":[{"builder_type":"docker","artifact_id":"x","packer_run_uuid":"r1"}],"last_run_uuid":"r1"}"#;
        let e = amis_from_packer_manifest(none).unwrap_err().to_string();
        assert!(e.contains("produced no AMI"), "{e}");
        let bad = br#"{"builds":[{"builder_type":"amazon-ebs","artifact_id":"us-east-1;ami-11111111","packer_run_uuid":"r1"}],"last_run_uuid":"r1"}"#;
        let e = amis_from_packer_manifest(bad).unwrap_err().to_string();
        assert!(e.contains("malformed artifact_id"), "{e}");
        assert!(amis_from_packer_manifest(b"{").is_err());
        assert!(amis_from_packer_manifest(b"{}").is_err());
    }

    #[test]
    fn tree_digest() {
        let d = "a".repeat(64);
        let sbom = json!({"metadata": {"component": {"hashes": [{"alg": "SHA-256", "content": d}]},
            "properties": [{"name": "bakeproof:tree-digest", "value": format!("sha256:{d}")}]}});
        assert_eq!(tree_digest_of_sbom(&sbom).unwrap(), d);
        let bad = json!({"metadata": {"component": {"hashes": [{"alg": "SHA-256", "content": d}]},
            "properties": [{"name": "bakeproof:tree-digest", "value": "sha256:00"}]}});
        assert!(tree_digest_of_sbom(&bad).is_err());
        assert!(tree_digest_of_sbom(&json!({})).is_err());
    }
}
