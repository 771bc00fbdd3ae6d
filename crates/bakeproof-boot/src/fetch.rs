//! An AMI's attestations from a store, verified: the index, every bundle it
//! lists (bounded reads, digests and sizes checked), each verified against
//! the trusted keys with the AMI among its subjects, every statement of one
//! tree. Fail-closed: a missing, tampered or unverifiable bundle is an
//! error, never skipped.

use std::collections::BTreeSet;

use bakeproof_attest::{
    AmiRef, PredicateKind, TrustedKeys, VerifiedStatement, VerifyError, VerifyPolicy, verify_bundle,
};
use bakeproof_store::{AmiIndex, IndexEntry, MAX_BLOB_SIZE, Store, StoreError};
use serde_json::Value;

/// What to do with the seal attestations an index lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealWanted {
    /// The caller has its own seal report: seal bundles are still fetched
    /// (a missing or tampered one is an error) but not verified, and
    /// [`Attestations::seal`] is `None`.
    Skip,
    /// Verified when listed; an index that lists none gives no seal report.
    IfListed,
    /// As [`SealWanted::IfListed`], and an index that lists none is
    /// [`FetchError::NoSeal`] (the boot check).
    Required,
}

/// What [`fetch_attestations`] looks up and whom it trusts.
#[derive(Clone, Copy, Debug)]
pub struct FetchRequest<'a> {
    pub ami: &'a AmiRef,
    pub keys: &'a TrustedKeys,
    pub seal: SealWanted,
}

/// One verified bundle and the index entry it came from.
#[derive(Clone, Debug)]
pub struct Attestation {
    pub entry: IndexEntry,
    pub statement: VerifiedStatement,
}

/// An AMI's verified attestations.
#[derive(Clone, Debug)]
pub struct Attestations {
    pub ami: AmiRef,
    pub index: AmiIndex,
    /// The first SBOM attestation the index lists (inline or by reference:
    /// [`Attestations::sbom_document`] gives the document).
    pub sbom: Attestation,
    /// The seal attestation (several listed must carry the same report).
    pub seal: Option<Attestation>,
    /// The audit attestation (`bakeproof attest --audit`), when listed
    /// (several listed must carry the same report). Always verified when
    /// listed: a tampered or foreign audit fails the fetch as any bundle.
    pub audit: Option<Attestation>,
    /// The key ids that signed the returned statements.
    pub keyids: BTreeSet<String>,
}

/// Why an AMI's attestations were not accepted.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A store read failed: [`StoreError::is_integrity`] tells a store whose
    /// content is wrong or missing from one that could not be used.
    #[error("{what}: {error}")]
    Store { what: String, error: StoreError },
    /// The store's index for the AMI names another one.
    #[error("index names {found}, not {expected}")]
    WrongAmi { expected: AmiRef, found: String },
    /// A bundle the index lists does not verify.
    #[error("bundle {sha256} ({predicate_type}): {error}")]
    Verify {
        sha256: String,
        /// The predicate type the index gives it.
        predicate_type: String,
        error: VerifyError,
    },
    /// The SBOM a digest-pinned reference names is not the one signed.
    #[error("{error}")]
    SbomRef { sha256: String, error: VerifyError },
    #[error("the index of {0} lists no SBOM attestation")]
    NoSbom(AmiRef),
    #[error("the index of {0} lists no seal attestation")]
    NoSeal(AmiRef),
    #[error(
        "the attestations name different tree digests: sha256:{first}, and sha256:{other} in bundle {sha256}"
    )]
    TreeDigests {
        first: String,
        other: String,
        sha256: String,
    },
    #[error("the index lists several seal attestations that disagree (bundle {sha256})")]
    SealsDisagree { sha256: String },
    #[error("the index lists several audit attestations that disagree (bundle {sha256})")]
    AuditsDisagree { sha256: String },
}

impl FetchError {
    /// Nothing was proven either way: the store could not be reached or
    /// used (as opposed to a store whose content is wrong).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Store { error, .. } if !error.is_integrity())
    }

    /// The boot check this failure belongs to (docs/boot.md): `store`
    /// (the index or a blob), `subjects` (the AMI is not a subject of a
    /// bundle), or `signatures` (everything else about the bundles).
    pub fn check_id(&self) -> &'static str {
        match self {
            FetchError::Store { .. } | FetchError::WrongAmi { .. } => "store",
            FetchError::Verify {
                error: VerifyError::AmiNotInSubjects(_),
                ..
            } => "subjects",
            _ => "signatures",
        }
    }

    /// The kind the index gives the bundle that failed to verify.
    pub fn bundle_kind(&self) -> Option<PredicateKind> {
        match self {
            FetchError::Verify { predicate_type, .. } => PredicateKind::of(predicate_type),
            _ => None,
        }
    }
}

/// Reads the blob of `entry`, at most the size its index states (capped),
/// and checks it is exactly that size (the store checks the digest).
fn read_entry(
    store: &dyn Store,
    ami: &AmiRef,
    entry: &IndexEntry,
    what: &str,
) -> Result<Vec<u8>, FetchError> {
    let err = |error| FetchError::Store {
        what: format!("{what} {}", entry.sha256),
        error,
    };
    let b = store
        .get_blob_bounded(&entry.sha256, entry.read_limit())
        .map_err(err)?;
    if b.len() as u64 != entry.size {
        return Err(err(StoreError::Corrupt(format!(
            "{} bytes, the index of {ami} says {}",
            b.len(),
            entry.size
        ))));
    }
    Ok(b)
}

/// Fetches `req.ami`'s index from `store` and every bundle it lists (an
/// entry with a predicate type), and verifies each against `req.keys` with
/// the AMI among its subjects and the kind the index gives it. Then: at
/// least one SBOM attestation, every statement of the same tree, seal
/// attestations (per [`SealWanted`]) carrying the same report. The SBOM
/// copy of a digest-pinned reference is not read here
/// ([`Attestations::sbom_document`]).
pub fn fetch_attestations(
    store: &dyn Store,
    req: &FetchRequest<'_>,
) -> Result<Attestations, FetchError> {
    let ami = req.ami;
    let sref = ami.clone();
    let index = store.get_index(&sref).map_err(|error| FetchError::Store {
        what: format!("index of {ami}"),
        error,
    })?;
    if index.ami != sref {
        return Err(FetchError::WrongAmi {
            expected: ami.clone(),
            found: index.ami.to_string(),
        });
    }
    let mut policy = VerifyPolicy::new(req.keys.clone());
    policy.ami = Some(ami.clone());
    let mut sbom: Option<Attestation> = None;
    let mut seal: Option<Attestation> = None;
    let mut audit: Option<Attestation> = None;
    let mut keyids = BTreeSet::new();
    let mut tree: Option<String> = None;
    for entry in index
        .entries
        .iter()
        .filter(|e| !e.predicate_type.is_empty())
    {
        let blob = read_entry(store, ami, entry, "bundle")?;
        let label = PredicateKind::of(&entry.predicate_type);
        if label == Some(PredicateKind::Seal) && req.seal == SealWanted::Skip {
            continue;
        }
        // The kind the index gives it must be the statement's (a label
        // this version does not know: the statement says).
        policy.kind = label;
        let st = verify_bundle(&blob, &policy).map_err(|error| FetchError::Verify {
            sha256: entry.sha256.clone(),
            predicate_type: entry.predicate_type.clone(),
            error,
        })?;
        if st.kind == PredicateKind::Seal && req.seal == SealWanted::Skip {
            continue;
        }
        match &tree {
            Some(t) if *t != st.tree_digest => {
                return Err(FetchError::TreeDigests {
                    first: t.clone(),
                    other: st.tree_digest,
                    sha256: entry.sha256.clone(),
                });
            }
            Some(_) => {}
            None => tree = Some(st.tree_digest.clone()),
        }
        keyids.insert(st.keyid.clone());
        let a = Attestation {
            entry: entry.clone(),
            statement: st,
        };
        match a.statement.kind {
            PredicateKind::Sbom => {
                if sbom.is_none() {
                    sbom = Some(a);
                }
            }
            PredicateKind::Seal => match &seal {
                Some(s) if s.statement.predicate != a.statement.predicate => {
                    return Err(FetchError::SealsDisagree {
                        sha256: entry.sha256.clone(),
                    });
                }
                Some(_) => {}
                None => seal = Some(a),
            },
            PredicateKind::Audit => match &audit {
                Some(s) if s.statement.predicate != a.statement.predicate => {
                    return Err(FetchError::AuditsDisagree {
                        sha256: entry.sha256.clone(),
                    });
                }
                Some(_) => {}
                None => audit = Some(a),
            },
        }
    }
    let Some(sbom) = sbom else {
        return Err(FetchError::NoSbom(ami.clone()));
    };
    if seal.is_none() && req.seal == SealWanted::Required {
        return Err(FetchError::NoSeal(ami.clone()));
    }
    Ok(Attestations {
        ami: ami.clone(),
        index,
        sbom,
        seal,
        audit,
        keyids,
    })
}

impl Attestations {
    /// The tree digest (hex) every returned statement names.
    pub fn tree_digest(&self) -> &str {
        &self.sbom.statement.tree_digest
    }

    /// The verified audit report, when the AMI carries one.
    pub fn audit_report(&self) -> Option<&Value> {
        self.audit.as_ref().map(|s| &s.statement.predicate)
    }

    /// The verified seal report, when fetched.
    pub fn seal_report(&self) -> Option<&Value> {
        self.seal.as_ref().map(|s| &s.statement.predicate)
    }

    /// The attested SBOM document: the inline predicate, or the SBOM a
    /// digest-pinned reference names, read from `store` (bounded by the
    /// signed size) and checked against the signed digest and size.
    pub fn sbom_document(&self, store: &dyn Store) -> Result<Vec<u8>, FetchError> {
        let st = &self.sbom.statement;
        let Some(r) = &st.sbom_ref else {
            return Ok(serde_json::to_vec(&st.predicate).expect("a JSON value serializes"));
        };
        let limit = self
            .index
            .entries
            .iter()
            .find(|e| e.sha256 == r.sha256)
            .map_or(MAX_BLOB_SIZE, IndexEntry::read_limit)
            .min(r.size)
            .min(MAX_BLOB_SIZE);
        let b = store
            .get_blob_bounded(&r.sha256, limit)
            .map_err(|error| FetchError::Store {
                what: format!("SBOM {}", r.sha256),
                error,
            })?;
        r.check(&b).map_err(|error| FetchError::SbomRef {
            sha256: r.sha256.clone(),
            error,
        })?;
        Ok(b)
    }
}
