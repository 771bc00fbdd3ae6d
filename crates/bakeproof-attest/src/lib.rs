//! Signed in-toto attestations about AMIs: cosign-compatible keys ([`keys`]),
//! DSSE envelopes ([`dsse`]), in-toto statements ([`statement`]), Sigstore
//! bundles and their verification ([`verify`]). Formats: docs/attest.md.

pub mod artifacts;
pub mod dsse;
pub mod index;
pub mod keys;
pub mod signer;
pub mod statement;
pub mod trust;
pub mod verify;

use std::path::{Path, PathBuf};

use bakeproof_types::{Sha256Digest, SourceDateEpoch};
use serde_json::Value;

pub use index::{AttestIndex, FileKind, IndexError, IndexFile};
pub use keys::{KeyError, PrivateKey, PublicKey};
pub use signer::{SignError, Signer};
pub use statement::{AmiRef, InputError, PredicateKind};
pub use trust::{TrustError, TrustedKeys};
pub use verify::{SbomRef, VerifiedStatement, VerifyError, VerifyPolicy, verify_bundle};

/// File names written by [`attest`].
pub const SBOM_BUNDLE_FILE: &str = "sbom.sigstore.json";
pub const SEAL_BUNDLE_FILE: &str = "seal.sigstore.json";
pub const AUDIT_BUNDLE_FILE: &str = "audit.sigstore.json";
pub const SBOM_COPY_FILE: &str = "sbom.cdx.json";
pub const INDEX_FILE: &str = "index.json";

#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("signing: {0}")]
    Sign(#[from] SignError),
}

/// What to attest.
pub struct AttestRequest<'a> {
    /// The exact bytes of the CycloneDX SBOM.
    pub sbom: &'a [u8],
    /// The exact bytes of the seal report (JSON).
    pub seal: &'a [u8],
    pub amis: &'a [AmiRef],
    /// The signer: a key file's [`PrivateKey`], or a KMS key.
    pub key: &'a dyn Signer,
    /// SBOMs larger than this are carried as a digest-pinned reference.
    pub inline_sbom_max: u64,
    /// Attest an `unsealed` seal report too (refused otherwise).
    pub allow_unsealed: bool,
    /// The exact bytes of an audit report (`bakeproof audit --format
    /// json`) to sign beside the SBOM and seal report, of the same tree.
    pub audit: Option<&'a [u8]>,
    /// Attest a failing audit report too (refused otherwise).
    pub allow_failing_audit: bool,
    /// `bakeproof`'s version, for the index.
    pub tool_version: &'a str,
    /// RFC 3339 creation time, for the index.
    pub created: String,
}

/// One written file.
#[derive(Debug, Clone)]
pub struct Written {
    pub file: String,
    pub predicate_type: Option<String>,
}

/// Writes into `out_dir`: `sbom.sigstore.json` and `seal.sigstore.json` (one
/// bundle per statement), `audit.sigstore.json` when an audit report is
/// given, `sbom.cdx.json` (a copy of the SBOM) when it is
/// referenced rather than inlined, and `index.json`. Returns the index.
pub fn attest(req: &AttestRequest<'_>, out_dir: &Path) -> Result<AttestIndex, AttestError> {
    let sbom: Value =
        serde_json::from_slice(req.sbom).map_err(|e| InputError::Sbom(format!("not JSON: {e}")))?;
    let tree = statement::tree_digest_of_sbom(&sbom)?;
    let seal: Value =
        serde_json::from_slice(req.seal).map_err(|e| InputError::Seal(format!("not JSON: {e}")))?;
    let facts = statement::check_seal_report(&seal, &tree)?;
    if !facts.sealed && !req.allow_unsealed {
        return Err(InputError::Unsealed(statement::unsealed_reason(&facts)).into());
    }
    let audit: Option<Value> = match req.audit {
        None => None,
        Some(bytes) => {
            let v: Value = serde_json::from_slice(bytes)
                .map_err(|e| InputError::Audit(format!("not JSON: {e}")))?;
            let facts = statement::check_audit_report(&v, &tree)?;
            if !facts.passed && !req.allow_failing_audit {
                return Err(InputError::AuditFailed(facts.failing.join(", ")).into());
            }
            Some(v)
        }
    };
    if req.amis.is_empty() {
        return Err(InputError::NoAmi.into());
    }
    let subjects = statement::subjects(req.amis, &tree);

    let (sbom_predicate, copy) = if req.sbom.len() as u64 > req.inline_sbom_max {
        (
            statement::sbom_ref_predicate(SBOM_COPY_FILE, &sbom, req.sbom),
            true,
        )
    } else {
        (sbom, false)
    };
    let sbom_type = statement::SBOM_PREDICATE_TYPE;
    let sbom_st = statement::statement(subjects.clone(), sbom_type, sbom_predicate);
    let seal_st = statement::statement(subjects.clone(), statement::SEAL_PREDICATE_TYPE, seal);
    let audit_st =
        audit.map(|a| statement::statement(subjects.clone(), statement::AUDIT_PREDICATE_TYPE, a));

    // Everything is signed before anything is written: a signer that fails
    // (a KMS unreachable) leaves no file behind, not one bundle of two.
    let mut signed = Vec::new();
    let mut to_sign = vec![
        (SBOM_BUNDLE_FILE, &sbom_st, sbom_type),
        (SEAL_BUNDLE_FILE, &seal_st, statement::SEAL_PREDICATE_TYPE),
    ];
    if let Some(a) = &audit_st {
        to_sign.push((AUDIT_BUNDLE_FILE, a, statement::AUDIT_PREDICATE_TYPE));
    }
    for (name, st, pt) in to_sign {
        let bundle = verify::sign_bundle(st, req.key)?;
        let bytes = serde_json::to_vec_pretty(&bundle).expect("serializable");
        signed.push((name, pt, bytes));
    }
    let keyid = req.key.public_key().keyid();

    std::fs::create_dir_all(out_dir).map_err(|e| AttestError::Io(out_dir.into(), e))?;
    // Each file through a create-exclusive temporary file (random name,
    // O_EXCL), fsynced, then renamed: a symlink or hard link planted under a
    // final name is replaced, never written through.
    let write = |name: &str, bytes: &[u8]| -> Result<(), AttestError> {
        use std::io::Write as _;
        use std::os::unix::fs::PermissionsExt as _;
        let p = out_dir.join(name);
        let err = |e: std::io::Error| AttestError::Io(p.clone(), e);
        let mut tmp = tempfile::Builder::new()
            .prefix(".bakeproof-attest.")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(out_dir)
            .map_err(err)?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(err)?;
        tmp.persist(&p).map_err(|e| err(e.error))?;
        Ok(())
    };
    let mut files = Vec::new();
    for (name, pt, bytes) in signed {
        write(name, &bytes)?;
        files.push(IndexFile {
            file: name.to_string(),
            kind: FileKind::Bundle,
            predicate_type: Some(pt.to_string()),
            media_type: None,
            sha256: Sha256Digest::of(&bytes).to_string(),
            size: None,
        });
    }
    if copy {
        write(SBOM_COPY_FILE, req.sbom)?;
        files.push(IndexFile {
            file: SBOM_COPY_FILE.to_string(),
            kind: FileKind::Sbom,
            predicate_type: None,
            media_type: Some(statement::CYCLONEDX_MEDIA_TYPE.to_string()),
            sha256: Sha256Digest::of(req.sbom).to_string(),
            size: Some(req.sbom.len() as u64),
        });
    }
    let index = AttestIndex {
        version: index::ATTEST_INDEX_VERSION,
        tool: index::Tool {
            name: "bakeproof".into(),
            version: req.tool_version.to_string(),
        },
        created: req.created.clone(),
        keyid,
        tree_digest: index::DigestSet {
            sha256: tree.clone(),
        },
        subjects: req
            .amis
            .iter()
            .map(|a| index::Subject {
                name: a.subject_name(),
                digest: index::DigestSet {
                    sha256: tree.clone(),
                },
            })
            .collect(),
        files,
    };
    let bytes = index.to_vec();
    write(INDEX_FILE, &bytes)?;
    Ok(index)
}

/// RFC 3339 UTC time of `epoch` (the caller's resolved `SOURCE_DATE_EPOCH`)
/// when given, else now.
pub fn created_time(epoch: Option<SourceDateEpoch>) -> String {
    // A SourceDateEpoch is within years 0000-9999, which `time` represents.
    let t = epoch
        .and_then(|e| time::OffsetDateTime::from_unix_timestamp(e.secs()).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

#[cfg(test)]
mod tests;
