//! Differences between two CycloneDX JSON SBOMs (`bakeproof diff`).
//!
//! Reads any CycloneDX JSON document (bakeproof's own, syft's, trivy's,
//! cdxgen's; spec 1.4 to 1.6) through a minimal serde model of only the
//! fields it compares (not the `cyclonedx-bom` model), so newer spec
//! versions and unknown fields are no obstacle. Nested components are
//! flattened. The rules (documented in docs/diff.md):
//!
//! * **Packages** are matched by identity: purl type, namespace (aliases
//!   normalised: `rhel` = `redhat`, `opensuse-leap` = `opensuse`, ...), name
//!   and architecture (purl `arch` qualifier or `bakeproof:package:arch`).
//!   Components without a purl are matched by name and version.
//! * Matched packages are classified by the package manager's order
//!   ([`bakeproof_pkgdb::version`]): rpm's EVR order for `pkg:rpm`, dpkg's
//!   for `pkg:deb`, a generic numeric-aware order otherwise.
//! * Same version, different content: `rebuilt` (rpm: header SHA-256 or
//!   header+payload MD5; otherwise the SHA-256s of the package's owned,
//!   verified file components, where both sides carry them).
//! * Files (when both sides carry `file` components): added, removed,
//!   modified (SHA-256 or type), mode changed, became unowned.
//! * Seal state (when both sides come with a seal report, the JSON of
//!   `bakeproof seal check`, read through [`parse_seal`]): per check, a
//!   status change (worse or better) and the findings added or removed by
//!   (path, kind); the overall verdict. Finding details are never read, so
//!   nothing of a secret can reach the output.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use bakeproof_pkgdb::version::{Evr, dpkg_version_cmp, generic_version_cmp, rpm_evr_cmp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest SBOM `bakeproof diff` reads by default (bytes, 512 MiB): the 80 MB
/// SBOM of a 130k-entry `/usr` scales to ~400 MB for a million files, while
/// an unbounded input (one 1 GiB JSON string) costs 18 s and 4 GB of memory
/// before anything is compared.
pub const MAX_SBOM_BYTES: u64 = 512 << 20;
/// Largest seal report read (bytes): a report is tens of kilobytes; 100k
/// findings are ~15 MB.
pub const MAX_SEAL_BYTES: u64 = 64 << 20;

/// Why a document cannot be diffed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a CycloneDX JSON document: {0}")]
    NotCycloneDx(String),
    /// A file component that cannot be read unambiguously (no name, an
    /// encoding that does not decode, a path listed twice).
    #[error("file components: {0}")]
    File(String),
}

mod entries;
pub use entries::{EntryChange, EntryChangeKind, FileFacts, compare_entries, decode_text};

type S<'a> = Cow<'a, str>;

/// The parts of a CycloneDX document the diff reads; every other field is
/// ignored (so 1.6 documents and unknown fields are fine). Strings borrow
/// from the input where they have no escapes: two 100k-file SBOMs parse in
/// a fraction of the time and memory a generic `serde_json::Value` needs.
#[derive(Debug, Deserialize)]
struct RawBom<'a> {
    #[serde(rename = "bomFormat", borrow)]
    bom_format: Option<S<'a>>,
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<S<'a>>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default, borrow)]
    components: Option<Vec<RawComponent<'a>>>,
}

#[derive(Debug, Deserialize)]
struct RawComponent<'a> {
    #[serde(rename = "type", default, borrow)]
    ctype: Option<S<'a>>,
    #[serde(default, borrow)]
    name: Option<S<'a>>,
    #[serde(default, borrow)]
    version: Option<S<'a>>,
    #[serde(default, borrow)]
    purl: Option<S<'a>>,
    #[serde(rename = "bom-ref", default, borrow)]
    bom_ref: Option<S<'a>>,
    #[serde(default, borrow)]
    supplier: Option<RawSupplier<'a>>,
    #[serde(default, borrow)]
    publisher: Option<S<'a>>,
    #[serde(default, borrow)]
    licenses: Option<Vec<RawLicenseChoice<'a>>>,
    #[serde(default, borrow)]
    hashes: Option<Vec<RawHash<'a>>>,
    #[serde(default, borrow)]
    properties: Option<Vec<RawProp<'a>>>,
    #[serde(default, borrow)]
    components: Option<Vec<RawComponent<'a>>>,
}

#[derive(Debug, Deserialize)]
struct RawSupplier<'a> {
    #[serde(default, borrow)]
    name: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawLicenseChoice<'a> {
    #[serde(default, borrow)]
    license: Option<RawLicense<'a>>,
    #[serde(default, borrow)]
    expression: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawLicense<'a> {
    #[serde(default, borrow)]
    id: Option<S<'a>>,
    #[serde(default, borrow)]
    name: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawHash<'a> {
    #[serde(borrow)]
    alg: S<'a>,
    #[serde(borrow)]
    content: S<'a>,
}

#[derive(Debug, Deserialize)]
struct RawProp<'a> {
    #[serde(borrow)]
    name: S<'a>,
    #[serde(default, borrow)]
    value: Option<S<'a>>,
}

/// A parsed CycloneDX document, borrowing from its bytes.
#[derive(Debug)]
pub struct Sbom<'a> {
    components: Vec<RawComponent<'a>>,
    metadata: Option<Value>,
    /// `specVersion`.
    pub spec_version: String,
}

/// Parses and checks a CycloneDX JSON document (`bomFormat` `CycloneDX`,
/// a `specVersion`; `components` may be absent).
pub fn parse(bytes: &[u8]) -> Result<Sbom<'_>, DiffError> {
    let raw: RawBom<'_> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            DiffError::NotCycloneDx(e.to_string())
        } else {
            DiffError::Json(e.to_string())
        }
    })?;
    match raw.bom_format.as_deref() {
        Some("CycloneDX") => {}
        Some(f) => return Err(DiffError::NotCycloneDx(format!("bomFormat is {f:?}"))),
        None => return Err(DiffError::NotCycloneDx("no bomFormat".into())),
    }
    let Some(spec_version) = raw.spec_version else {
        return Err(DiffError::NotCycloneDx("no specVersion".into()));
    };
    Ok(Sbom {
        components: raw.components.unwrap_or_default(),
        metadata: raw.metadata,
        spec_version: spec_version.into_owned(),
    })
}

impl<'a> Sbom<'a> {
    /// The tree digest a bakeproof SBOM names (`sha256:<hex>`): the
    /// `bakeproof:tree-digest` property, else the SHA-256 of
    /// `metadata.component`; `None` for SBOMs without one (packages-only
    /// scans, other tools') or when the two disagree.
    pub fn tree_digest(&self) -> Option<String> {
        let m = self.metadata.as_ref()?;
        let packages_only = m
            .pointer("/component/properties")
            .and_then(Value::as_array)
            .is_some_and(|ps| {
                ps.iter().any(|p| {
                    p.get("name").and_then(Value::as_str) == Some("bakeproof:scan:mode")
                        && p.get("value").and_then(Value::as_str) == Some("packages-only")
                })
            });
        if packages_only {
            return None;
        }
        let hashed = m
            .pointer("/component/hashes/0")
            .filter(|h| h.get("alg").and_then(Value::as_str) == Some("SHA-256"))
            .and_then(|h| h.get("content"))
            .and_then(Value::as_str)
            .map(|c| format!("sha256:{c}"));
        let prop = m
            .get("properties")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("bakeproof:tree-digest"))
            .and_then(|p| p.get("value"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match (hashed, prop) {
            (Some(h), Some(p)) if h != p => None,
            (h, p) => p.or(h),
        }
    }

    /// `(purl, version)` of every top-level `library` component with a purl
    /// (the version empty when absent), in document order.
    pub fn package_versions(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.components
            .iter()
            .filter(|c| c.ctype.as_deref() == Some("library"))
            .filter_map(|c| Some((c.purl.as_deref()?, c.version.as_deref().unwrap_or(""))))
    }
}

// ------------------------------------------------------------ seal input --

/// Why a seal report cannot be compared.
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

/// The parts of a seal report (`schemas/seal-report.schema.json`) the diff
/// reads. Finding details are deliberately not read.
#[derive(Debug, Deserialize)]
struct RawSealReport {
    report_version: u64,
    tree_digest: String,
    status: Verdict,
    #[serde(default)]
    strict: bool,
    checks: Vec<RawSealCheck>,
}

#[derive(Debug, Deserialize)]
struct RawSealCheck {
    id: String,
    status: CheckStatus,
    #[serde(default)]
    findings: Vec<RawSealFinding>,
}

#[derive(Debug, Deserialize)]
struct RawSealFinding {
    path: String,
    kind: String,
    #[serde(default)]
    severity: Option<CheckStatus>,
}

/// A parsed seal report, as far as the diff needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealReport {
    /// `sha256:<hex>`: the tree the checks ran on.
    pub tree_digest: String,
    pub status: Verdict,
    pub strict: bool,
    pub checks: Vec<SealCheck>,
}

/// One check of a seal report: its id, status and findings (path, kind,
/// severity; sorted, (path, kind) unique: the worst severity is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealCheck {
    pub id: String,
    pub status: CheckStatus,
    pub findings: Vec<SealFindingRef>,
}

/// Parses a seal report as `bakeproof seal check --format json` writes it
/// (`report_version` 2 with its `tree_digest`; unknown fields are ignored;
/// check ids unique; the status must be what the checks say: `unsealed`
/// exactly when one fails, or, `strict`, warns). Bind it to its SBOM with
/// [`check_seal_binding`].
pub fn parse_seal(bytes: &[u8]) -> Result<SealReport, SealReportError> {
    let raw: RawSealReport = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            SealReportError::NotSealReport(e.to_string())
        } else {
            SealReportError::Json(e.to_string())
        }
    })?;
    if raw.report_version != 2 {
        return Err(SealReportError::Version(raw.report_version));
    }
    if !raw
        .tree_digest
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    {
        return Err(SealReportError::TreeDigest(raw.tree_digest));
    }
    let ids = |st: CheckStatus| -> Vec<&str> {
        raw.checks
            .iter()
            .filter(|c| c.status == st)
            .map(|c| c.id.as_str())
            .collect()
    };
    let (failing, warning) = (ids(CheckStatus::Fail), ids(CheckStatus::Warn));
    let derived = if failing.is_empty() && (!raw.strict || warning.is_empty()) {
        Verdict::Sealed
    } else {
        Verdict::Unsealed
    };
    if raw.checks.is_empty() || derived != raw.status {
        let why = if raw.checks.is_empty() {
            "it has no checks".to_string()
        } else if !failing.is_empty() {
            format!("{} fail", failing.join(", "))
        } else if !warning.is_empty() && raw.strict {
            format!("{} warn and the report is strict", warning.join(", "))
        } else {
            "no check fails".to_string()
        };
        return Err(SealReportError::Inconsistent {
            status: raw.status.as_str(),
            why,
        });
    }
    let mut seen = BTreeSet::new();
    let mut checks = Vec::with_capacity(raw.checks.len());
    for c in raw.checks {
        if c.id.is_empty() {
            return Err(SealReportError::EmptyCheckId);
        }
        if !seen.insert(c.id.clone()) {
            return Err(SealReportError::DuplicateCheck(c.id));
        }
        // (path, kind) → worst severity
        let mut by_key: BTreeMap<(String, String), Option<CheckStatus>> = BTreeMap::new();
        for f in c.findings {
            let e = by_key.entry((f.path, f.kind)).or_insert(f.severity);
            *e = (*e).max(f.severity);
        }
        checks.push(SealCheck {
            id: c.id,
            status: c.status,
            findings: by_key
                .into_iter()
                .map(|((path, kind), severity)| SealFindingRef {
                    path,
                    kind,
                    severity,
                })
                .collect(),
        });
    }
    Ok(SealReport {
        tree_digest: raw.tree_digest,
        status: raw.status,
        strict: raw.strict,
        checks,
    })
}

/// Checks that `seal` describes the tree `sbom` describes: a seal report is
/// compared only beside the SBOM of the very tree it checked.
pub fn check_seal_binding(sbom: &Sbom<'_>, seal: &SealReport) -> Result<(), SealReportError> {
    let tree = sbom.tree_digest().ok_or(SealReportError::UnboundSbom)?;
    if tree != seal.tree_digest {
        return Err(SealReportError::OtherTree {
            report: seal.tree_digest.clone(),
            sbom: tree,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------- output --

/// The whole difference, as `--format json` writes it
/// (`schemas/diff.schema.json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub packages: PackageChanges,
    pub files: FileChanges,
    pub seal: SealChanges,
    pub summary: Summary,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PackageChanges {
    pub added: Vec<PkgEntry>,
    pub removed: Vec<PkgEntry>,
    pub upgraded: Vec<PkgEntry>,
    pub downgraded: Vec<PkgEntry>,
    pub rebuilt: Vec<PkgEntry>,
    pub license_changed: Vec<AttrChange>,
    pub supplier_changed: Vec<AttrChange>,
}

/// One package change. `from` is the old full version (absent for
/// `added`), `to` the new one (absent for `removed`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PkgEntry {
    pub name: String,
    /// The purl of the new side (the old side's for `removed`), `null` when
    /// the component has none.
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ptype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// `rebuilt` only: what differed (`rpm:sha256header`, `rpm:sigmd5`,
    /// `files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// `rebuilt` with `files` evidence: the paths whose digest differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// A license or supplier change of a package present on both sides.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct AttrChange {
    pub name: String,
    pub purl: Option<String>,
    pub version: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FileChanges {
    /// `false` when a side has no `file` components (nothing compared).
    pub compared: bool,
    pub added: Vec<FileEntry>,
    pub removed: Vec<FileEntry>,
    pub modified: Vec<FileChange>,
    pub mode_changed: Vec<FileChange>,
    /// `bakeproof:file:capabilities` differs (`from`/`to`: the capability
    /// text, `null` for none).
    pub capabilities_changed: Vec<FileChange>,
    pub became_unowned: Vec<FileChange>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    /// `percent` when `path` is percent-encoded (the name is not UTF-8), as
    /// `bakeproof:file:path-encoding` says; absent when `path` is the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_encoding: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ftype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `true` when the file is `bakeproof:file:unowned`.
    pub unowned: bool,
}

/// `from`/`to`: the SHA-256 (or `type:KIND` when the kind changed) for
/// `modified`, the 4-digit mode for `mode_changed`, the owning package
/// references and `unowned` for `became_unowned`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// As for [`FileEntry::path_encoding`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_encoding: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Seal-state changes between the two sides' seal reports.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SealChanges {
    /// `true` when both sides have a seal report.
    pub compared: bool,
    /// Why nothing was compared (`null` when `compared`).
    pub reason: Option<String>,
    /// The overall verdict on each side (`null` when not compared).
    pub verdict: Option<VerdictChange>,
    /// One entry per check whose status or findings differ, in the order
    /// of the new report's checks (then checks only the old one has).
    pub changes: Vec<SealCheckChange>,
}

/// A seal report's overall status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Sealed,
    Unsealed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Sealed => "sealed",
            Verdict::Unsealed => "unsealed",
        }
    }
}

/// A check's status (or a finding's severity), ordered `pass < warn < fail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

/// The verdict of the old and the new report (equal when it did not change).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VerdictChange {
    pub from: Verdict,
    pub to: Verdict,
}

/// How a check's status moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The status rose (`pass` → `warn`, `warn` → `fail`, ...).
    Worse,
    /// The status fell.
    Better,
    /// Same status, different findings.
    Same,
}

/// One check that changed between the two seal reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SealCheckChange {
    /// The check id (`machine-id`, `ssh-host-keys`, ...).
    pub check: String,
    /// Old status; `null` when the old report has no such check.
    pub from: Option<CheckStatus>,
    /// New status; `null` when the new report has no such check.
    pub to: Option<CheckStatus>,
    /// `worse`, `better` or `same` (a missing check counts as `pass`).
    pub direction: Direction,
    /// Findings, by (path, kind), only in the new report.
    pub findings_added: Vec<SealFindingRef>,
    /// Findings, by (path, kind), only in the old report.
    pub findings_removed: Vec<SealFindingRef>,
}

/// A finding as the diff names it: path and kind, with its severity; never
/// its detail.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SealFindingRef {
    pub path: String,
    pub kind: String,
    pub severity: Option<CheckStatus>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub old: DocSummary,
    pub new: DocSummary,
    pub added: usize,
    pub removed: usize,
    pub upgraded: usize,
    pub downgraded: usize,
    pub rebuilt: usize,
    pub license_changed: usize,
    pub supplier_changed: usize,
    pub added_files: usize,
    pub removed_files: usize,
    pub modified_files: usize,
    pub mode_changes: usize,
    pub capability_changes: usize,
    pub unowned_files: usize,
    /// Seal checks whose status got worse (0 when not compared).
    pub seal_worse: usize,
    /// Seal checks whose status got better.
    pub seal_better: usize,
    /// Seal findings only in the new report.
    pub seal_findings_added: usize,
    /// Seal findings only in the old report.
    pub seal_findings_removed: usize,
    /// Whether anything at all changed.
    pub changed: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DocSummary {
    pub spec_version: String,
    /// First tool named in `metadata.tools`.
    pub tool: Option<String>,
    pub packages: usize,
    pub files: usize,
}

/// What `--fail-on` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    Rebuilt,
    License,
    Supplier,
    AddedFiles,
    RemovedFiles,
    ModifiedFiles,
    ModeChanges,
    /// A file's capabilities changed (gained, lost or different).
    Capabilities,
    UnownedFiles,
    /// A seal check got worse, or the verdict went from sealed to unsealed.
    Seal,
    /// A seal finding was added (in any check, whatever its status).
    SealFindings,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 15] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Upgraded,
        ChangeKind::Downgraded,
        ChangeKind::Rebuilt,
        ChangeKind::License,
        ChangeKind::Supplier,
        ChangeKind::AddedFiles,
        ChangeKind::RemovedFiles,
        ChangeKind::ModifiedFiles,
        ChangeKind::ModeChanges,
        ChangeKind::Capabilities,
        ChangeKind::UnownedFiles,
        ChangeKind::Seal,
        ChangeKind::SealFindings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Rebuilt => "rebuilt",
            ChangeKind::License => "license",
            ChangeKind::Supplier => "supplier",
            ChangeKind::AddedFiles => "added-files",
            ChangeKind::RemovedFiles => "removed-files",
            ChangeKind::ModifiedFiles => "modified-files",
            ChangeKind::ModeChanges => "mode-changes",
            ChangeKind::Capabilities => "capabilities",
            ChangeKind::UnownedFiles => "unowned-files",
            ChangeKind::Seal => "seal",
            ChangeKind::SealFindings => "seal-findings",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Diff {
    /// How many changes of `kind` there are.
    pub fn count(&self, kind: ChangeKind) -> usize {
        let s = &self.summary;
        match kind {
            ChangeKind::Added => s.added,
            ChangeKind::Removed => s.removed,
            ChangeKind::Upgraded => s.upgraded,
            ChangeKind::Downgraded => s.downgraded,
            ChangeKind::Rebuilt => s.rebuilt,
            ChangeKind::License => s.license_changed,
            ChangeKind::Supplier => s.supplier_changed,
            ChangeKind::AddedFiles => s.added_files,
            ChangeKind::RemovedFiles => s.removed_files,
            ChangeKind::ModifiedFiles => s.modified_files,
            ChangeKind::ModeChanges => s.mode_changes,
            ChangeKind::Capabilities => s.capability_changes,
            ChangeKind::UnownedFiles => s.unowned_files,
            ChangeKind::Seal => {
                let verdict_worse = self
                    .seal
                    .verdict
                    .is_some_and(|v| v.from == Verdict::Sealed && v.to == Verdict::Unsealed);
                s.seal_worse + usize::from(verdict_worse)
            }
            ChangeKind::SealFindings => s.seal_findings_added,
        }
    }
}

// ------------------------------------------------------------------ model --

/// Maps keyed by paths and bom-refs read from the documents: a keyed hasher
/// with a per-process random seed (aHash), so names chosen to collide (a
/// fixed-seed hash such as FxHash can be flooded: 40k colliding file names
/// made the diff quadratic, minutes instead of a fraction of a second)
/// cannot degrade it, at a fraction of SipHash's cost.
type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A package component as the diff sees it.
#[derive(Debug)]
struct Pkg<'a> {
    name: &'a str,
    purl: Option<&'a str>,
    bom_ref: Option<&'a str>,
    /// Lower-case purl type, or `bakeproof:package:type`; empty if unknown.
    ptype: String,
    namespace: String,
    arch: String,
    /// Full version, epoch included when known (`3:1.0-1`).
    version: String,
    licenses: Vec<String>,
    supplier: Option<&'a str>,
    /// rpm header digests.
    sha256header: Option<&'a str>,
    sigmd5: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
struct FileRec<'a> {
    /// `name`, as the document writes it.
    name: &'a str,
    /// `bakeproof:file:path-encoding` is `percent`.
    encoded: bool,
    ftype: Option<&'a str>,
    sha256: Option<&'a str>,
    mode: Option<&'a str>,
    caps: Option<&'a str>,
    unowned: bool,
    verify_ok: bool,
}

/// A package's owned files: raw path → (name, SHA-256).
type OwnedFiles<'a> = BTreeMap<Cow<'a, [u8]>, (&'a str, &'a str)>;

struct Side<'a> {
    pkgs: Vec<Pkg<'a>>,
    /// By raw path bytes (`name` percent-decoded where it is marked so): a
    /// literal `a%FF` and the byte `a<0xFF>` are two files.
    files: FastMap<Cow<'a, [u8]>, FileRec<'a>>,
    /// package bom-ref → (raw path → (name, sha256)) of its owned regular
    /// files that verify ok (or carry no verification).
    owned: FastMap<&'a str, OwnedFiles<'a>>,
    has_files: bool,
    summary: DocSummary,
}

fn props<'s>(c: &'s RawComponent<'_>) -> impl Iterator<Item = (&'s str, &'s str)> {
    c.properties
        .iter()
        .flatten()
        .filter_map(|p| Some((p.name.as_ref(), p.value.as_deref()?)))
}

fn flatten<'s, 'a>(list: &'s [RawComponent<'a>], out: &mut Vec<&'s RawComponent<'a>>) {
    for c in list {
        out.push(c);
        if let Some(kids) = &c.components {
            flatten(kids, out);
        }
    }
}

const PACKAGE_TYPES: &[&str] = &[
    "library",
    "application",
    "framework",
    "platform",
    "device-driver",
    "firmware",
];

/// The parts of a purl the diff needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PurlParts {
    pub ptype: String,
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: Vec<(String, String)>,
}

/// Splits `pkg:type/namespace/name@version?qualifiers#subpath`, decoding
/// each part ([`bakeproof_types::Purl::parse`]). `None` when it is not a purl.
pub fn parse_purl(purl: &str) -> Option<PurlParts> {
    let p = bakeproof_types::Purl::parse(purl).ok()?;
    Some(PurlParts {
        ptype: p.ty,
        namespace: p.namespace,
        name: p.name,
        version: p.version,
        qualifiers: p.qualifiers,
    })
}

/// Namespace aliases: distributions tools spell differently.
pub fn normalize_namespace(ns: &str) -> String {
    let ns = ns.to_ascii_lowercase();
    let n = match ns.as_str() {
        "rhel" | "redhat" | "red hat" => "redhat",
        "amzn" | "amazon" | "amazonlinux" | "amazon-linux" => "amazon",
        "ol" | "oracle" | "oraclelinux" => "oracle",
        "rocky" | "rockylinux" => "rocky",
        "alma" | "almalinux" => "almalinux",
        "mariner" | "cbl-mariner" => "mariner",
        "azurelinux" | "azure-linux" => "azurelinux",
        "sles" | "sle" | "suse" | "sled" | "sle-micro" | "sle_hpc" => "sles",
        "fedora" | "fedoraproject" => "fedora",
        _ if ns.starts_with("opensuse") => "opensuse",
        _ => return ns,
    };
    n.to_owned()
}

fn package<'a>(c: &'a RawComponent<'_>) -> Option<Pkg<'a>> {
    let name = c.name.as_deref()?;
    let purl = c.purl.as_deref();
    let parts = purl.and_then(parse_purl);
    let mut arch = None;
    let mut epoch: Option<String> = None;
    let mut ptype = String::new();
    let mut namespace = String::new();
    let mut sha256header = None;
    let mut sigmd5 = None;
    if let Some(p) = &parts {
        ptype = p.ptype.clone();
        namespace = normalize_namespace(&p.namespace);
        for (k, v) in &p.qualifiers {
            match k.as_str() {
                "arch" if !v.is_empty() => arch = Some(v.clone()),
                "epoch" if !v.is_empty() => epoch = Some(v.clone()),
                _ => {}
            }
        }
    }
    for (k, v) in props(c) {
        match k {
            "bakeproof:package:type" if ptype.is_empty() => ptype = v.to_owned(),
            "bakeproof:package:arch" if arch.is_none() => arch = Some(v.to_owned()),
            "bakeproof:package:epoch" if epoch.is_none() => epoch = Some(v.to_owned()),
            "syft:metadata:architecture" if arch.is_none() => arch = Some(v.to_owned()),
            "syft:metadata:epoch" if epoch.is_none() => epoch = Some(v.to_owned()),
            "bakeproof:package:rpm:sha256header" => sha256header = Some(v),
            "bakeproof:package:rpm:sigmd5" => sigmd5 = Some(v),
            _ => {}
        }
    }
    let raw_version = c
        .version
        .as_deref()
        .map(str::to_owned)
        .or_else(|| parts.as_ref().and_then(|p| p.version.clone()))
        .unwrap_or_default();
    let version = match epoch {
        Some(e) if Evr::parse(&raw_version).epoch.is_none() && !raw_version.is_empty() => {
            format!("{e}:{raw_version}")
        }
        _ => raw_version,
    };
    let mut licenses: Vec<String> = c
        .licenses
        .iter()
        .flatten()
        .filter_map(|l| {
            let lic = l.license.as_ref();
            lic.and_then(|x| x.id.as_deref())
                .or_else(|| lic.and_then(|x| x.name.as_deref()))
                .or(l.expression.as_deref())
                .map(str::to_owned)
        })
        .collect();
    licenses.sort();
    licenses.dedup();
    let supplier = c
        .supplier
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .or(c.publisher.as_deref())
        .filter(|s| !s.is_empty());
    Some(Pkg {
        name,
        purl,
        bom_ref: c.bom_ref.as_deref(),
        ptype: ptype.to_ascii_lowercase(),
        namespace,
        arch: arch.unwrap_or_default(),
        version,
        licenses,
        supplier,
        sha256header,
        sigmd5,
    })
}

fn side<'s>(sbom: &'s Sbom<'_>) -> Side<'s> {
    let mut all = Vec::new();
    flatten(&sbom.components, &mut all);
    let mut pkgs = Vec::new();
    let mut files = FastMap::default();
    let mut owned: FastMap<&str, OwnedFiles<'_>> = FastMap::default();
    let mut has_files = false;
    for c in all {
        let ty = c.ctype.as_deref().unwrap_or("");
        if ty == "file" {
            has_files = true;
            let Some(path) = c.name.as_deref() else {
                continue;
            };
            let sha256 = c
                .hashes
                .iter()
                .flatten()
                .find(|h| h.alg == "SHA-256")
                .map(|h| h.content.as_ref());
            let mut rec = FileRec {
                name: path,
                encoded: false,
                ftype: None,
                sha256,
                mode: None,
                caps: None,
                unowned: false,
                verify_ok: true,
            };
            let mut refs: Vec<&str> = Vec::new();
            for (k, v) in props(c) {
                match k {
                    "bakeproof:file:type" => rec.ftype = Some(v),
                    "bakeproof:file:path-encoding" => rec.encoded = v == "percent",
                    "bakeproof:file:mode" => rec.mode = Some(v),
                    "bakeproof:file:capabilities" => rec.caps = Some(v),
                    "bakeproof:file:unowned" => rec.unowned = v == "true",
                    "bakeproof:file:verify" => rec.verify_ok = v == "ok",
                    "bakeproof:file:package" => refs.push(v),
                    _ => {}
                }
            }
            // A marked name that does not decode is kept as its text.
            let raw = decode_text(path, rec.encoded).unwrap_or(Cow::Borrowed(path.as_bytes()));
            if let Some(h) = sha256
                && rec.verify_ok
            {
                for r in refs {
                    owned.entry(r).or_default().insert(raw.clone(), (path, h));
                }
            }
            files.insert(raw, rec);
        } else if PACKAGE_TYPES.contains(&ty)
            && let Some(p) = package(c)
        {
            pkgs.push(p);
        }
    }
    let tool = sbom
        .metadata
        .as_ref()
        .and_then(|m| {
            m.pointer("/tools/components/0/name")
                .or_else(|| m.pointer("/tools/0/name"))
        })
        .and_then(Value::as_str)
        .map(str::to_owned);
    let summary = DocSummary {
        spec_version: sbom.spec_version.clone(),
        tool,
        packages: pkgs.len(),
        files: files.len(),
    };
    Side {
        pkgs,
        files,
        owned,
        has_files,
        summary,
    }
}

// ---------------------------------------------------------------- compare --

/// Orders two full versions of a package of purl type `ptype`.
pub fn version_cmp(ptype: &str, a: &str, b: &str) -> Ordering {
    match ptype {
        "rpm" => rpm_evr_cmp(Evr::parse(a), Evr::parse(b)),
        "deb" => dpkg_version_cmp(a, b),
        _ => generic_version_cmp(a, b),
    }
}

type Key = (String, String, String, String);

fn key(p: &Pkg<'_>) -> Key {
    if p.purl.is_none() && p.ptype.is_empty() {
        // no identity beyond the name: name + version
        return (
            String::new(),
            String::new(),
            p.name.to_owned(),
            p.version.clone(),
        );
    }
    (
        p.ptype.clone(),
        p.namespace.clone(),
        p.name.to_owned(),
        p.arch.clone(),
    )
}

fn entry(p: &Pkg<'_>, from: Option<&Pkg<'_>>, to: Option<&Pkg<'_>>) -> PkgEntry {
    PkgEntry {
        name: p.name.to_owned(),
        purl: p.purl.map(str::to_owned),
        from: from.map(|x| x.version.clone()),
        to: to.map(|x| x.version.clone()),
        ptype: (!p.ptype.is_empty()).then(|| p.ptype.clone()),
        arch: (!p.arch.is_empty()).then(|| p.arch.clone()),
        evidence: None,
        paths: Vec::new(),
    }
}

/// Computes the difference from `old` to `new` (seal state not compared:
/// see [`diff_with_seal`]).
pub fn diff(old: &Sbom<'_>, new: &Sbom<'_>) -> Diff {
    diff_with_seal(old, new, None, None)
}

/// Computes the difference from `old` to `new`, and between their seal
/// reports when both sides have one ([`diff_seal`]).
pub fn diff_with_seal(
    old: &Sbom<'_>,
    new: &Sbom<'_>,
    old_seal: Option<&SealReport>,
    new_seal: Option<&SealReport>,
) -> Diff {
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| side(old));
        let b = side(new);
        (h.join().expect("side() does not panic"), b)
    });
    let mut d = Diff::default();
    let mut groups: BTreeMap<Key, (Vec<&Pkg<'_>>, Vec<&Pkg<'_>>)> = BTreeMap::new();
    for p in &a.pkgs {
        groups.entry(key(p)).or_default().0.push(p);
    }
    for p in &b.pkgs {
        groups.entry(key(p)).or_default().1.push(p);
    }
    let compare_files = a.has_files && b.has_files;
    for ((ptype, ..), (mut olds, mut news)) in groups {
        // pair identical versions first (several installed versions of one
        // package: kernels, gpg-pubkey), then a single leftover each side
        let mut pairs = Vec::new();
        olds.retain(|o| {
            match news
                .iter()
                .position(|n| version_cmp(&ptype, &o.version, &n.version) == Ordering::Equal)
            {
                Some(i) => {
                    pairs.push((*o, news.remove(i)));
                    false
                }
                None => true,
            }
        });
        if olds.len() == 1 && news.len() == 1 {
            pairs.push((olds.pop().expect("one"), news.pop().expect("one")));
        }
        for o in olds {
            d.packages.removed.push(entry(o, Some(o), None));
        }
        for n in news {
            d.packages.added.push(entry(n, None, Some(n)));
        }
        for (o, n) in pairs {
            match version_cmp(&ptype, &o.version, &n.version) {
                Ordering::Less => d.packages.upgraded.push(entry(n, Some(o), Some(n))),
                Ordering::Greater => d.packages.downgraded.push(entry(n, Some(o), Some(n))),
                Ordering::Equal => {
                    if let Some(e) = rebuilt(&a, &b, o, n, compare_files) {
                        d.packages.rebuilt.push(e);
                    }
                }
            }
            if o.licenses != n.licenses {
                d.packages.license_changed.push(AttrChange {
                    name: n.name.to_owned(),
                    purl: n.purl.map(str::to_owned),
                    version: n.version.clone(),
                    before: o.licenses.clone(),
                    after: n.licenses.clone(),
                });
            }
            if o.supplier != n.supplier {
                d.packages.supplier_changed.push(AttrChange {
                    name: n.name.to_owned(),
                    purl: n.purl.map(str::to_owned),
                    version: n.version.clone(),
                    before: o.supplier.map(str::to_owned).into_iter().collect(),
                    after: n.supplier.map(str::to_owned).into_iter().collect(),
                });
            }
        }
    }
    let by_name = |x: &PkgEntry, y: &PkgEntry| {
        (&x.name, &x.arch, &x.from, &x.to).cmp(&(&y.name, &y.arch, &y.from, &y.to))
    };
    for l in [
        &mut d.packages.added,
        &mut d.packages.removed,
        &mut d.packages.upgraded,
        &mut d.packages.downgraded,
        &mut d.packages.rebuilt,
    ] {
        l.sort_by(by_name);
    }
    if compare_files {
        d.files = files(&a, &b);
    }
    let s = &mut d.summary;
    s.old = a.summary;
    s.new = b.summary;
    s.added = d.packages.added.len();
    s.removed = d.packages.removed.len();
    s.upgraded = d.packages.upgraded.len();
    s.downgraded = d.packages.downgraded.len();
    s.rebuilt = d.packages.rebuilt.len();
    s.license_changed = d.packages.license_changed.len();
    s.supplier_changed = d.packages.supplier_changed.len();
    s.added_files = d.files.added.len();
    s.removed_files = d.files.removed.len();
    s.modified_files = d.files.modified.len();
    s.mode_changes = d.files.mode_changed.len();
    s.capability_changes = d.files.capabilities_changed.len();
    s.unowned_files =
        d.files.became_unowned.len() + d.files.added.iter().filter(|f| f.unowned).count();
    d.seal = diff_seal(old_seal, new_seal);
    let s = &mut d.summary;
    for c in &d.seal.changes {
        match c.direction {
            Direction::Worse => s.seal_worse += 1,
            Direction::Better => s.seal_better += 1,
            Direction::Same => {}
        }
        s.seal_findings_added += c.findings_added.len();
        s.seal_findings_removed += c.findings_removed.len();
    }
    let verdict_changed = d.seal.verdict.is_some_and(|v| v.from != v.to);
    d.summary.changed = ChangeKind::ALL.iter().any(|&k| d.count(k) > 0)
        || !d.seal.changes.is_empty()
        || verdict_changed;
    d
}

fn rebuilt(a: &Side<'_>, b: &Side<'_>, o: &Pkg<'_>, n: &Pkg<'_>, files: bool) -> Option<PkgEntry> {
    let mut e = entry(n, Some(o), Some(n));
    if let (Some(x), Some(y)) = (o.sha256header, n.sha256header) {
        if x.eq_ignore_ascii_case(y) {
            return None;
        }
        e.evidence = Some("rpm:sha256header".into());
        return Some(e);
    }
    if let (Some(x), Some(y)) = (o.sigmd5, n.sigmd5) {
        if x.eq_ignore_ascii_case(y) {
            return None;
        }
        e.evidence = Some("rpm:sigmd5".into());
        return Some(e);
    }
    if !files {
        return None;
    }
    let (fo, fn_) = (
        o.bom_ref.and_then(|r| a.owned.get(r))?,
        n.bom_ref.and_then(|r| b.owned.get(r))?,
    );
    let paths: Vec<String> = fo
        .iter()
        .filter(|(p, (_, h))| {
            fn_.get(*p)
                .is_some_and(|(_, h2)| !h2.eq_ignore_ascii_case(h))
        })
        .map(|(_, (name, _))| (*name).to_owned())
        .collect();
    if paths.is_empty() {
        return None;
    }
    e.evidence = Some("files".into());
    e.paths = paths;
    Some(e)
}

fn files(a: &Side<'_>, b: &Side<'_>) -> FileChanges {
    let mut fc = FileChanges {
        compared: true,
        ..FileChanges::default()
    };
    let enc = |r: &FileRec<'_>| r.encoded.then(|| "percent".to_owned());
    let fe = |r: &FileRec<'_>| FileEntry {
        path: r.name.to_owned(),
        path_encoding: enc(r),
        ftype: r.ftype.map(str::to_owned),
        sha256: r.sha256.map(str::to_owned),
        unowned: r.unowned,
    };
    let chg = |r: &FileRec<'_>, from: Option<String>, to: Option<String>| FileChange {
        path: r.name.to_owned(),
        path_encoding: enc(r),
        from,
        to,
    };
    for (p, o) in &a.files {
        let Some(n) = b.files.get(p) else {
            fc.removed.push(fe(o));
            continue;
        };
        if o.ftype != n.ftype {
            fc.modified.push(chg(
                n,
                o.ftype.map(|t| format!("type:{t}")),
                n.ftype.map(|t| format!("type:{t}")),
            ));
        } else if let (Some(x), Some(y)) = (o.sha256, n.sha256)
            && !x.eq_ignore_ascii_case(y)
        {
            fc.modified
                .push(chg(n, Some(x.to_owned()), Some(y.to_owned())));
        }
        if let (Some(x), Some(y)) = (o.mode, n.mode)
            && x != y
        {
            fc.mode_changed
                .push(chg(n, Some(x.to_owned()), Some(y.to_owned())));
        }
        // Capabilities are compared as sets (two texts can spell one set);
        // only between regular files, where they exist.
        if o.ftype == n.ftype && caps_differ(o.caps, n.caps) {
            fc.capabilities_changed.push(chg(
                n,
                o.caps.map(str::to_owned),
                n.caps.map(str::to_owned),
            ));
        }
        if !o.unowned && n.unowned {
            fc.became_unowned
                .push(chg(n, Some("owned".into()), Some("unowned".into())));
        }
    }
    for (p, n) in &b.files {
        if !a.files.contains_key(p) {
            fc.added.push(fe(n));
        }
    }
    let key = |x: &FileEntry| (x.path.clone(), x.path_encoding.clone());
    fc.added.sort_by_key(key);
    fc.removed.sort_by_key(key);
    for l in [
        &mut fc.modified,
        &mut fc.mode_changed,
        &mut fc.capabilities_changed,
        &mut fc.became_unowned,
    ] {
        l.sort_by(|x, y| (&x.path, &x.path_encoding).cmp(&(&y.path, &y.path_encoding)));
    }
    fc
}

/// Whether two `bakeproof:file:capabilities` values name different sets.
/// Absent and `=` are both the empty set; a value that does not parse is
/// compared as text.
pub fn caps_differ(a: Option<&str>, b: Option<&str>) -> bool {
    let set = |v: Option<&str>| match v {
        None => Some(bakeproof_index::FileCaps::default()),
        Some(t) => bakeproof_index::FileCaps::from_text(t).ok(),
    };
    match (set(a), set(b)) {
        (Some(x), Some(y)) => {
            (x.effective, x.permitted, x.inheritable) != (y.effective, y.permitted, y.inheritable)
        }
        _ => a != b,
    }
}

// ------------------------------------------------------------------ seal --

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
    let olds: BTreeMap<&str, &SealCheck> = a.checks.iter().map(|c| (c.id.as_str(), c)).collect();
    let news: BTreeMap<&str, &SealCheck> = b.checks.iter().map(|c| (c.id.as_str(), c)).collect();
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
        let (o, n) = (olds.get(id).copied(), news.get(id).copied());
        let (from, to) = (o.map(|c| c.status), n.map(|c| c.status));
        let rank = |s: Option<CheckStatus>| s.unwrap_or(CheckStatus::Pass);
        let direction = match rank(from).cmp(&rank(to)) {
            Ordering::Less => Direction::Worse,
            Ordering::Greater => Direction::Better,
            Ordering::Equal => Direction::Same,
        };
        let fo = o.map_or(empty, |c| c.findings.as_slice());
        let fn_ = n.map_or(empty, |c| c.findings.as_slice());
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
            from: a.status,
            to: b.status,
        }),
        changes,
    }
}

// -------------------------------------------------------------- rendering --

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn pkg_line(e: &PkgEntry) -> String {
    let arch = e
        .arch
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    match (&e.from, &e.to) {
        (Some(f), Some(t)) if f != t => format!("{} {f} -> {t}{arch}", e.name),
        (Some(v), _) | (None, Some(v)) => format!("{} {v}{arch}", e.name),
        _ => e.name.clone(),
    }
}

/// Plain text grouped by kind; ANSI colours when `color`.
pub fn render_text(d: &Diff, color: bool) -> String {
    let c = |code: &'static str| if color { code } else { "" };
    let mut out = String::new();
    let s = &d.summary;
    let _ = writeln!(
        out,
        "{}packages:{} {} added, {} removed, {} upgraded, {} downgraded, {} rebuilt, {} license, {} supplier",
        c(BOLD),
        c(RESET),
        s.added,
        s.removed,
        s.upgraded,
        s.downgraded,
        s.rebuilt,
        s.license_changed,
        s.supplier_changed
    );
    if d.files.compared {
        let _ = writeln!(
            out,
            "{}files:{} {} added, {} removed, {} modified, {} mode changes, {} capability changes, {} unowned",
            c(BOLD),
            c(RESET),
            s.added_files,
            s.removed_files,
            s.modified_files,
            s.mode_changes,
            s.capability_changes,
            s.unowned_files
        );
    } else {
        let _ = writeln!(out, "files: not compared (a side has no file components)");
    }
    match d.seal.verdict {
        Some(v) => {
            let _ = writeln!(
                out,
                "{}seal:{} {} -> {}; {} checks worse, {} better, {} findings added, {} removed",
                c(BOLD),
                c(RESET),
                v.from.as_str(),
                v.to.as_str(),
                s.seal_worse,
                s.seal_better,
                s.seal_findings_added,
                s.seal_findings_removed
            );
        }
        None => {
            let _ = writeln!(
                out,
                "seal: not compared ({})",
                d.seal.reason.as_deref().unwrap_or("no seal reports")
            );
        }
    }
    let groups: [(&str, &Vec<PkgEntry>, &str, &str); 5] = [
        ("added", &d.packages.added, "+", GREEN),
        ("removed", &d.packages.removed, "-", RED),
        ("upgraded", &d.packages.upgraded, "^", CYAN),
        ("downgraded", &d.packages.downgraded, "v", YELLOW),
        ("rebuilt", &d.packages.rebuilt, "*", YELLOW),
    ];
    for (title, list, mark, col) in groups {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), list.len(), c(RESET));
        for e in list {
            let ev = e
                .evidence
                .as_deref()
                .map(|x| format!(" [{x}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}{mark} {}{ev}{}", c(col), pkg_line(e), c(RESET));
        }
    }
    for (title, list) in [
        ("license changed", &d.packages.license_changed),
        ("supplier changed", &d.packages.supplier_changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), list.len(), c(RESET));
        for e in list {
            let _ = writeln!(
                out,
                "  ~ {} {}: {} -> {}",
                e.name,
                e.version,
                join_or_none(&e.before),
                join_or_none(&e.after)
            );
        }
    }
    let fgroups: [(&str, Vec<String>, &str); 6] = [
        (
            "added files",
            d.files
                .added
                .iter()
                .map(|f| format!("+ {}", shown(&f.path, &f.path_encoding)))
                .collect(),
            GREEN,
        ),
        (
            "removed files",
            d.files
                .removed
                .iter()
                .map(|f| format!("- {}", shown(&f.path, &f.path_encoding)))
                .collect(),
            RED,
        ),
        (
            "modified files",
            change_lines("M", &d.files.modified),
            YELLOW,
        ),
        (
            "mode changes",
            change_lines("m", &d.files.mode_changed),
            YELLOW,
        ),
        (
            "capability changes",
            change_lines("c", &d.files.capabilities_changed),
            RED,
        ),
        (
            "became unowned",
            change_lines("?", &d.files.became_unowned),
            RED,
        ),
    ];
    for (title, lines, col) in fgroups {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), lines.len(), c(RESET));
        for l in lines {
            let _ = writeln!(out, "  {}{l}{}", c(col), c(RESET));
        }
    }
    if !d.seal.changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}seal checks ({}){}",
            c(BOLD),
            d.seal.changes.len(),
            c(RESET)
        );
        for ch in &d.seal.changes {
            let (mark, col) = match ch.direction {
                Direction::Worse => ("!", RED),
                Direction::Better => ("o", GREEN),
                Direction::Same => ("~", YELLOW),
            };
            let _ = writeln!(
                out,
                "  {}{mark} {} {} -> {}{}",
                c(col),
                ch.check,
                status_or_absent(ch.from),
                status_or_absent(ch.to),
                c(RESET)
            );
            for (m, list) in [("+", &ch.findings_added), ("-", &ch.findings_removed)] {
                for f in list {
                    let _ = writeln!(out, "      {m} {} [{}]", f.path, f.kind);
                }
            }
        }
    }
    out
}

/// A file path as text and Markdown show it: the raw bytes escaped as the
/// tree digest writes them ([`bakeproof_index::escape_path`]), so hostile
/// names (a newline, a literal `%FF` beside the byte 0xFF) cannot forge or
/// merge lines.
fn shown(path: &str, encoding: &Option<String>) -> String {
    let raw = decode_text(path, encoding.as_deref() == Some("percent"))
        .unwrap_or(Cow::Borrowed(path.as_bytes()));
    bakeproof_index::escape_path(&raw)
}

fn status_or_absent(s: Option<CheckStatus>) -> &'static str {
    s.map_or("absent", CheckStatus::as_str)
}

fn change_lines(mark: &str, l: &[FileChange]) -> Vec<String> {
    l.iter()
        .map(|f| {
            format!(
                "{mark} {} ({} -> {})",
                shown(&f.path, &f.path_encoding),
                f.from.as_deref().map(short).unwrap_or("-"),
                f.to.as_deref().map(short).unwrap_or("-")
            )
        })
        .collect()
}

fn short(s: &str) -> &str {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        &s[..12]
    } else {
        s
    }
}

fn join_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

/// Pretty JSON (`schemas/diff.schema.json`), newline-terminated.
pub fn render_json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

/// Markdown cell: no pipes or newlines, code spans kept simple.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// How many rows each Markdown file table shows before "... and N more".
pub const MARKDOWN_FILE_ROWS: usize = 100;

/// Markdown for change records and pull-request comments.
pub fn render_markdown(d: &Diff) -> String {
    let s = &d.summary;
    let mut out = String::from("## SBOM diff\n\n| change | count |\n| --- | ---: |\n");
    let mut rows = vec![
        ("packages added", s.added),
        ("packages removed", s.removed),
        ("packages upgraded", s.upgraded),
        ("packages downgraded", s.downgraded),
        ("packages rebuilt", s.rebuilt),
        ("license changes", s.license_changed),
        ("supplier changes", s.supplier_changed),
    ];
    if d.files.compared {
        rows.extend([
            ("files added", s.added_files),
            ("files removed", s.removed_files),
            ("files modified", s.modified_files),
            ("mode changes", s.mode_changes),
            ("capability changes", s.capability_changes),
            ("unowned files", s.unowned_files),
        ]);
    }
    if d.seal.compared {
        rows.extend([
            ("seal checks worse", s.seal_worse),
            ("seal checks better", s.seal_better),
            ("seal findings added", s.seal_findings_added),
            ("seal findings removed", s.seal_findings_removed),
        ]);
    }
    for (k, n) in rows {
        let _ = writeln!(out, "| {k} | {n} |");
    }
    if !d.files.compared {
        out.push_str("\nFiles not compared: a side has no file components.\n");
    }
    match d.seal.verdict {
        Some(v) => {
            let _ = writeln!(
                out,
                "\nSeal verdict: {} -> {}.",
                v.from.as_str(),
                v.to.as_str()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nSeal not compared: {}.",
                md(d.seal.reason.as_deref().unwrap_or("no seal reports"))
            );
        }
    }
    let groups: [(&str, &Vec<PkgEntry>); 5] = [
        ("Added packages", &d.packages.added),
        ("Removed packages", &d.packages.removed),
        ("Upgraded packages", &d.packages.upgraded),
        ("Downgraded packages", &d.packages.downgraded),
        ("Rebuilt packages", &d.packages.rebuilt),
    ];
    for (title, list) in groups {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| package | arch | from | to |\n| --- | --- | --- | --- |\n",
            list.len()
        );
        for e in list {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                md(&e.name),
                md(e.arch.as_deref().unwrap_or("")),
                e.from
                    .as_deref()
                    .map(|v| format!("`{}`", md(v)))
                    .unwrap_or_default(),
                e.to.as_deref()
                    .map(|v| format!("`{}`", md(v)))
                    .unwrap_or_default(),
            );
        }
    }
    for (title, list) in [
        ("License changes", &d.packages.license_changed),
        ("Supplier changes", &d.packages.supplier_changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| package | version | before | after |\n| --- | --- | --- | --- |\n",
            list.len()
        );
        for e in list {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                md(&e.name),
                md(&e.version),
                md(&join_or_none(&e.before)),
                md(&join_or_none(&e.after))
            );
        }
    }
    let ftables: [(&str, Vec<Row>); 6] = [
        (
            "Added files",
            d.files
                .added
                .iter()
                .map(|f| {
                    (
                        shown(&f.path, &f.path_encoding),
                        String::new(),
                        f.sha256.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        ),
        (
            "Removed files",
            d.files
                .removed
                .iter()
                .map(|f| {
                    (
                        shown(&f.path, &f.path_encoding),
                        f.sha256.clone().unwrap_or_default(),
                        String::new(),
                    )
                })
                .collect(),
        ),
        ("Modified files", ftriples(&d.files.modified)),
        ("Mode changes", ftriples(&d.files.mode_changed)),
        (
            "Capability changes",
            ftriples(&d.files.capabilities_changed),
        ),
        (
            "Files that became unowned",
            ftriples(&d.files.became_unowned),
        ),
    ];
    for (title, rows) in ftables {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| path | from | to |\n| --- | --- | --- |\n",
            rows.len()
        );
        for (p, f, t) in rows.iter().take(MARKDOWN_FILE_ROWS) {
            let _ = writeln!(out, "| `{}` | {} | {} |", md(p), md(short(f)), md(short(t)));
        }
        if rows.len() > MARKDOWN_FILE_ROWS {
            let _ = writeln!(
                out,
                "\n... and {} more (see `--format json`).",
                rows.len() - MARKDOWN_FILE_ROWS
            );
        }
    }
    if !d.seal.changes.is_empty() {
        let _ = write!(
            out,
            "\n### Seal checks ({})\n\n| check | from | to | change | findings added | findings removed |\n| --- | --- | --- | --- | ---: | ---: |\n",
            d.seal.changes.len()
        );
        for ch in &d.seal.changes {
            let dir = match ch.direction {
                Direction::Worse => "worse",
                Direction::Better => "better",
                Direction::Same => "findings",
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {dir} | {} | {} |",
                md(&ch.check),
                status_or_absent(ch.from),
                status_or_absent(ch.to),
                ch.findings_added.len(),
                ch.findings_removed.len()
            );
        }
        let findings: Vec<(&str, &str, &SealFindingRef)> = d
            .seal
            .changes
            .iter()
            .flat_map(|ch| {
                let added = ch
                    .findings_added
                    .iter()
                    .map(|f| (ch.check.as_str(), "added", f));
                let removed = ch
                    .findings_removed
                    .iter()
                    .map(|f| (ch.check.as_str(), "removed", f));
                added.chain(removed)
            })
            .collect();
        if !findings.is_empty() {
            let _ = write!(
                out,
                "\n### Seal findings ({})\n\n| check | | path | kind |\n| --- | --- | --- | --- |\n",
                findings.len()
            );
            for (check, what, f) in findings.iter().take(MARKDOWN_FILE_ROWS) {
                let _ = writeln!(
                    out,
                    "| `{}` | {what} | `{}` | {} |",
                    md(check),
                    md(&f.path),
                    md(&f.kind)
                );
            }
            if findings.len() > MARKDOWN_FILE_ROWS {
                let _ = writeln!(
                    out,
                    "\n... and {} more (see `--format json`).",
                    findings.len() - MARKDOWN_FILE_ROWS
                );
            }
        }
    }
    out
}

/// A Markdown file-table row: path, from, to.
type Row = (String, String, String);

fn ftriples(l: &[FileChange]) -> Vec<Row> {
    l.iter()
        .map(|f| {
            (
                shown(&f.path, &f.path_encoding),
                f.from.clone().unwrap_or_default(),
                f.to.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// The set of `--fail-on` kinds in `spec` (comma-separated; `all` = every
/// kind). Unknown names are an error naming the valid ones.
pub fn parse_fail_on(spec: &str) -> Result<BTreeSet<&'static str>, String> {
    let mut out = BTreeSet::new();
    for w in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w == "all" {
            out.extend(ChangeKind::ALL.iter().map(|k| k.as_str()));
            continue;
        }
        match ChangeKind::parse(w) {
            Some(k) => {
                out.insert(k.as_str());
            }
            None => {
                let valid: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "unknown --fail-on kind {w:?} (valid: {}, all)",
                    valid.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(components: Value) -> Sbom<'static> {
        let v = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components});
        parse(Box::leak(
            serde_json::to_vec(&v).unwrap().into_boxed_slice(),
        ))
        .unwrap()
    }

    #[test]
    fn purl_parts() {
        let p = parse_purl("pkg:rpm/redhat/openssl@1.1.1k-7.el8?arch=x86_64&epoch=1").unwrap();
        assert_eq!(p.ptype, "rpm");
        assert_eq!(p.namespace, "redhat");
        assert_eq!(p.name, "openssl");
        assert_eq!(p.version.as_deref(), Some("1.1.1k-7.el8"));
        let p = parse_purl("pkg:rpm/fx-data@1.0%5Egit20240101-2?arch=noarch").unwrap();
        assert_eq!(p.version.as_deref(), Some("1.0^git20240101-2"));
        assert_eq!(p.namespace, "");
        assert!(parse_purl("nope").is_none());
        assert_eq!(normalize_namespace("rhel"), "redhat");
        assert_eq!(normalize_namespace("openSUSE-leap"), "opensuse");
        assert_eq!(normalize_namespace("amzn"), "amazon");
    }

    #[test]
    fn epoch_qualifier_equals_epoch_in_version_and_aliases_match() {
        let a = doc(serde_json::json!([
            {"type": "library", "name": "openssl", "version": "1.1.1k-7",
             "purl": "pkg:rpm/rhel/openssl@1.1.1k-7?arch=x86_64&epoch=1"},
            {"type": "library", "name": "bash", "version": "5.1-1",
             "purl": "pkg:rpm/rhel/bash@5.1-1?arch=x86_64"},
            {"type": "library", "name": "gone", "version": "1", "purl": "pkg:deb/debian/gone@1?arch=all"},
            {"type": "library", "name": "lib", "version": "1.0-1", "purl": "pkg:deb/debian/lib@1.0-1?arch=amd64",
             "licenses": [{"license": {"id": "MIT"}}]},
            {"type": "library", "name": "nopurl", "version": "1"}
        ]));
        let b = doc(serde_json::json!([
            {"type": "library", "name": "openssl", "version": "1:1.1.1k-7",
             "purl": "pkg:rpm/redhat/openssl@1:1.1.1k-7?arch=x86_64"},
            {"type": "application", "name": "bash", "version": "5.1~rc1-1",
             "purl": "pkg:rpm/redhat/bash@5.1~rc1-1?arch=x86_64"},
            {"type": "library", "name": "new", "version": "2", "purl": "pkg:deb/debian/new@2?arch=all"},
            {"type": "library", "name": "lib", "version": "1.0-1+b1", "purl": "pkg:deb/debian/lib@1.0-1%2Bb1?arch=amd64",
             "licenses": [{"license": {"name": "Apache-2.0"}}]},
            {"type": "library", "name": "nopurl", "version": "1", "components": [
                {"type": "library", "name": "nested", "version": "3"}
            ]}
        ]));
        let d = diff(&a, &b);
        assert!(
            d.packages.upgraded.iter().all(|e| e.name == "lib"),
            "{d:#?}"
        );
        assert_eq!(d.packages.upgraded.len(), 1);
        assert_eq!(d.packages.upgraded[0].from.as_deref(), Some("1.0-1"));
        assert_eq!(d.packages.upgraded[0].to.as_deref(), Some("1.0-1+b1"));
        assert_eq!(d.packages.downgraded.len(), 1);
        assert_eq!(d.packages.downgraded[0].name, "bash");
        assert_eq!(
            d.packages
                .added
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            ["nested", "new"]
        );
        assert_eq!(d.packages.removed.len(), 1);
        assert_eq!(d.packages.license_changed.len(), 1);
        assert!(!d.files.compared);
        assert!(d.summary.changed);
    }

    #[test]
    fn files_and_rebuilds() {
        let a = doc(serde_json::json!([
            {"type": "library", "name": "p", "version": "1", "bom-ref": "P", "purl": "pkg:deb/debian/p@1?arch=all"},
            {"type": "file", "name": "/a", "hashes": [{"alg": "SHA-256", "content": "aa"}],
             "properties": [{"name": "bakeproof:file:mode", "value": "0644"},
                            {"name": "bakeproof:file:package", "value": "P"},
                            {"name": "bakeproof:file:verify", "value": "ok"}]},
            {"type": "file", "name": "/gone"},
            {"type": "file", "name": "/b", "properties": [{"name": "bakeproof:file:package", "value": "P"}]}
        ]));
        let b = doc(serde_json::json!([
            {"type": "library", "name": "p", "version": "1", "bom-ref": "Q", "purl": "pkg:deb/debian/p@1?arch=all"},
            {"type": "file", "name": "/a", "hashes": [{"alg": "SHA-256", "content": "bb"}],
             "properties": [{"name": "bakeproof:file:mode", "value": "0755"},
                            {"name": "bakeproof:file:package", "value": "Q"},
                            {"name": "bakeproof:file:verify", "value": "ok"}]},
            {"type": "file", "name": "/new", "properties": [{"name": "bakeproof:file:unowned", "value": "true"}]},
            {"type": "file", "name": "/b", "properties": [{"name": "bakeproof:file:unowned", "value": "true"}]}
        ]));
        let d = diff(&a, &b);
        assert_eq!(d.packages.rebuilt.len(), 1);
        assert_eq!(d.packages.rebuilt[0].evidence.as_deref(), Some("files"));
        assert_eq!(d.packages.rebuilt[0].paths, ["/a"]);
        assert_eq!(d.files.modified.len(), 1);
        assert_eq!(d.files.mode_changed[0].to.as_deref(), Some("0755"));
        assert_eq!(d.files.added[0].path, "/new");
        assert_eq!(d.files.removed[0].path, "/gone");
        assert_eq!(d.files.became_unowned[0].path, "/b");
        assert_eq!(d.summary.unowned_files, 2);
        let t = render_text(&d, false);
        assert!(t.contains("rebuilt (1)"), "{t}");
        assert!(!t.contains('\x1b'));
        assert!(render_text(&d, true).contains('\x1b'));
        assert!(render_markdown(&d).contains("### Modified files (1)"));
    }

    #[test]
    fn capabilities_compared_as_sets() {
        let f = |name: &str, caps: Option<&str>| {
            let mut props =
                vec![serde_json::json!({"name": "bakeproof:file:type", "value": "file"})];
            if let Some(c) = caps {
                props.push(serde_json::json!({"name": "bakeproof:file:capabilities", "value": c}));
            }
            serde_json::json!({"type": "file", "name": name, "properties": props})
        };
        let a = doc(serde_json::json!([
            f("/same", Some("cap_net_raw=ep")),
            f("/respelled", Some("cap_net_admin,cap_net_raw=p")),
            f("/gained", None),
            f("/lost", Some("cap_setuid=p")),
            f("/changed", Some("cap_setuid=p")),
            f("/empty", Some("="))
        ]));
        let b = doc(serde_json::json!([
            f("/same", Some("cap_net_raw=ep")),
            f("/respelled", Some("cap_net_raw,cap_net_admin+p")),
            f("/gained", Some("cap_sys_admin=ep")),
            f("/lost", None),
            f("/changed", Some("cap_setuid=ep")),
            f("/empty", None)
        ]));
        let d = diff(&a, &b);
        let got: Vec<(&str, Option<&str>, Option<&str>)> = d
            .files
            .capabilities_changed
            .iter()
            .map(|c| (c.path.as_str(), c.from.as_deref(), c.to.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("/changed", Some("cap_setuid=p"), Some("cap_setuid=ep")),
                ("/gained", None, Some("cap_sys_admin=ep")),
                ("/lost", Some("cap_setuid=p"), None),
            ]
        );
        assert_eq!(d.summary.capability_changes, 3);
        assert_eq!(d.count(ChangeKind::Capabilities), 3);
        assert!(render_text(&d, false).contains("c /gained (- -> cap_sys_admin=ep)"));
        assert!(render_markdown(&d).contains("Capability changes (3)"));
    }

    /// A seal report with `checks` given as (id, status, [(path, kind,
    /// severity)]); every finding's detail carries a marker that must never
    /// reach the output.
    /// (check id, status, [(path, kind, severity)]).
    type CheckSpec<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str, &'a str)]);

    fn seal(status: &str, checks: &[CheckSpec<'_>]) -> SealReport {
        let checks: Vec<Value> = checks
            .iter()
            .map(|(id, st, fs)| {
                let findings: Vec<Value> = fs
                    .iter()
                    .map(|(p, k, sev)| {
                        serde_json::json!({"path": p, "kind": k, "severity": sev,
                                           "detail": "line 1: DETAIL-MARKER=<redacted>"})
                    })
                    .collect();
                serde_json::json!({"id": id, "status": st, "findings": findings})
            })
            .collect();
        let v = serde_json::json!({"report_version": 2, "status": status, "strict": false,
            "tree_digest": format!("sha256:{}", "a".repeat(64)), "root": "/r", "summary": {}, "checks": checks, "host_keys": [], "scan": {}});
        parse_seal(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    fn fref(path: &str, kind: &str, sev: CheckStatus) -> SealFindingRef {
        SealFindingRef {
            path: path.into(),
            kind: kind.into(),
            severity: Some(sev),
        }
    }

    #[test]
    fn seal_changes_per_check_and_verdict() {
        use CheckStatus::*;
        let old = seal(
            "unsealed",
            &[
                ("machine-id", "pass", &[]),
                ("ssh-host-keys", "pass", &[]),
                ("logs", "warn", &[("/var/log/a.log", "log", "warn")]),
                (
                    "tmp",
                    "warn",
                    &[("/tmp/x", "tmp", "warn"), ("/tmp/y", "tmp", "warn")],
                ),
                (
                    "secrets",
                    "fail",
                    &[
                        ("/etc/app.env", "secret-assignment", "fail"),
                        ("/etc/app.env", "secret-assignment", "fail"),
                    ],
                ),
                ("random-seed", "pass", &[]),
            ],
        );
        let new = seal(
            "unsealed",
            &[
                (
                    "machine-id",
                    "fail",
                    &[("/etc/machine-id", "machine-id", "fail")],
                ),
                (
                    "ssh-host-keys",
                    "fail",
                    &[
                        ("/etc/ssh/ssh_host_ed25519_key", "host-private-key", "fail"),
                        (
                            "/etc/ssh/ssh_host_ed25519_key.pub",
                            "host-public-key",
                            "fail",
                        ),
                    ],
                ),
                ("logs", "pass", &[]),
                (
                    "tmp",
                    "warn",
                    &[("/tmp/y", "tmp", "warn"), ("/tmp/z", "tmp", "warn")],
                ),
                (
                    "secrets",
                    "fail",
                    &[("/etc/app.env", "secret-assignment", "fail")],
                ),
                (
                    "cloud-init",
                    "warn",
                    &[("/var/lib/cloud", "symlink", "warn")],
                ),
            ],
        );
        let c = diff_seal(Some(&old), Some(&new));
        assert!(c.compared);
        assert_eq!(c.reason, None);
        assert_eq!(
            c.verdict,
            Some(VerdictChange {
                from: Verdict::Unsealed,
                to: Verdict::Unsealed
            })
        );
        let want = vec![
            SealCheckChange {
                check: "machine-id".into(),
                from: Some(Pass),
                to: Some(Fail),
                direction: Direction::Worse,
                findings_added: vec![fref("/etc/machine-id", "machine-id", Fail)],
                findings_removed: vec![],
            },
            SealCheckChange {
                check: "ssh-host-keys".into(),
                from: Some(Pass),
                to: Some(Fail),
                direction: Direction::Worse,
                findings_added: vec![
                    fref("/etc/ssh/ssh_host_ed25519_key", "host-private-key", Fail),
                    fref("/etc/ssh/ssh_host_ed25519_key.pub", "host-public-key", Fail),
                ],
                findings_removed: vec![],
            },
            SealCheckChange {
                check: "logs".into(),
                from: Some(Warn),
                to: Some(Pass),
                direction: Direction::Better,
                findings_added: vec![],
                findings_removed: vec![fref("/var/log/a.log", "log", Warn)],
            },
            SealCheckChange {
                check: "tmp".into(),
                from: Some(Warn),
                to: Some(Warn),
                direction: Direction::Same,
                findings_added: vec![fref("/tmp/z", "tmp", Warn)],
                findings_removed: vec![fref("/tmp/x", "tmp", Warn)],
            },
            // secrets: same (path, kind) on both sides: no change;
            // cloud-init only in the new report, random-seed only in the old
            SealCheckChange {
                check: "cloud-init".into(),
                from: None,
                to: Some(Warn),
                direction: Direction::Worse,
                findings_added: vec![fref("/var/lib/cloud", "symlink", Warn)],
                findings_removed: vec![],
            },
            SealCheckChange {
                check: "random-seed".into(),
                from: Some(Pass),
                to: None,
                direction: Direction::Same,
                findings_added: vec![],
                findings_removed: vec![],
            },
        ];
        assert_eq!(c.changes, want);

        let empty = Sbom {
            components: Vec::new(),
            metadata: None,
            spec_version: "1.5".into(),
        };
        let d = diff_with_seal(&empty, &empty, Some(&old), Some(&new));
        assert_eq!(d.summary.seal_worse, 3);
        assert_eq!(d.summary.seal_better, 1);
        assert_eq!(d.summary.seal_findings_added, 5);
        assert_eq!(d.summary.seal_findings_removed, 2);
        assert_eq!(d.count(ChangeKind::Seal), 3);
        assert_eq!(d.count(ChangeKind::SealFindings), 5);
        assert!(d.summary.changed);
        let json = render_json(&d);
        assert!(!json.contains("DETAIL-MARKER"), "{json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["seal"]["verdict"]["from"], "unsealed");
        assert_eq!(v["seal"]["changes"][0]["direction"], "worse");
        assert_eq!(v["seal"]["changes"][4]["from"], Value::Null);
        let t = render_text(&d, false);
        assert!(
            t.contains(
                "seal: unsealed -> unsealed; 3 checks worse, 1 better, 5 findings added, 2 removed"
            ),
            "{t}"
        );
        assert!(
            t.contains("  ! machine-id pass -> fail\n      + /etc/machine-id [machine-id]\n"),
            "{t}"
        );
        assert!(
            t.contains("  o logs warn -> pass\n      - /var/log/a.log [log]\n"),
            "{t}"
        );
        assert!(t.contains("  ~ random-seed pass -> absent\n"), "{t}");
        assert!(!t.contains("DETAIL-MARKER"));
        let m = render_markdown(&d);
        assert!(m.contains("| seal checks worse | 3 |"), "{m}");
        assert!(m.contains("Seal verdict: unsealed -> unsealed."), "{m}");
        assert!(m.contains("### Seal checks (6)"), "{m}");
        assert!(
            m.contains("| `tmp` | warn | warn | findings | 1 | 1 |"),
            "{m}"
        );
        assert!(
            m.contains("| `machine-id` | added | `/etc/machine-id` | machine-id |"),
            "{m}"
        );

        // nothing changed: no entries, verdict still given, nothing counted
        let d = diff_with_seal(&empty, &empty, Some(&old), Some(&old));
        assert!(d.seal.compared && d.seal.changes.is_empty());
        assert!(!d.summary.changed);
        assert_eq!(d.count(ChangeKind::Seal), 0);
        assert!(render_text(&d, false).contains("seal: unsealed -> unsealed; 0 checks worse"));
    }

    #[test]
    fn seal_verdict_worsening_alone_counts_for_fail_on_seal() {
        let a = seal(
            "sealed",
            &[("logs", "warn", &[("/var/log/a", "log", "warn")])],
        );
        let mut b = a.clone();
        b.status = Verdict::Unsealed;
        b.strict = true;
        let c = diff_seal(Some(&a), Some(&b));
        assert!(c.changes.is_empty());
        let empty = Sbom {
            components: Vec::new(),
            metadata: None,
            spec_version: "1.5".into(),
        };
        let d = diff_with_seal(&empty, &empty, Some(&a), Some(&b));
        assert_eq!(d.count(ChangeKind::Seal), 1);
        assert_eq!(d.count(ChangeKind::SealFindings), 0);
        assert!(d.summary.changed);
        let d = diff_with_seal(&empty, &empty, Some(&b), Some(&a));
        assert_eq!(d.count(ChangeKind::Seal), 0);
        assert!(d.summary.changed);
    }

    #[test]
    fn seal_one_sided_is_not_compared_with_a_reason() {
        let a = seal("sealed", &[("machine-id", "pass", &[])]);
        for (o, n, reason) in [
            (Some(&a), None, "only the old side has a seal report"),
            (None, Some(&a), "only the new side has a seal report"),
            (None, None, "neither side has a seal report"),
        ] {
            let c = diff_seal(o, n);
            assert!(!c.compared);
            assert_eq!(c.reason.as_deref(), Some(reason));
            assert_eq!(c.verdict, None);
            assert!(c.changes.is_empty());
        }
        let d = diff(&doc(serde_json::json!([])), &doc(serde_json::json!([])));
        assert!(!d.seal.compared);
        assert!(
            render_text(&d, false).contains("seal: not compared (neither side has a seal report)")
        );
        assert!(render_markdown(&d).contains("Seal not compared: neither side has a seal report."));
    }

    #[test]
    fn parse_seal_rejects_what_is_not_a_v2_report() {
        let t = format!(r#""tree_digest": "sha256:{}""#, "a".repeat(64));
        let j = |rest: &str| format!(r#"{{"report_version": 2, {t}, {rest}}}"#).into_bytes();
        assert!(matches!(parse_seal(b"{"), Err(SealReportError::Json(_))));
        assert!(matches!(
            parse_seal(br#"{"bomFormat": "CycloneDX", "specVersion": "1.5"}"#),
            Err(SealReportError::NotSealReport(_))
        ));
        assert_eq!(
            parse_seal(
                format!(r#"{{"report_version": 3, {t}, "status": "sealed", "checks": []}}"#)
                    .as_bytes()
            ),
            Err(SealReportError::Version(3))
        );
        // version 1 names no tree: not a report to compare
        assert!(matches!(
            parse_seal(br#"{"report_version": 1, "status": "sealed", "checks": [{"id": "x", "status": "pass"}]}"#),
            Err(SealReportError::NotSealReport(_))
        ));
        assert_eq!(
            parse_seal(br#"{"report_version": 2, "tree_digest": "sha256:AB", "status": "sealed", "checks": [{"id": "x", "status": "pass"}]}"#),
            Err(SealReportError::TreeDigest("sha256:AB".into()))
        );
        assert!(matches!(
            parse_seal(&j(r#""status": "maybe", "checks": []"#)),
            Err(SealReportError::NotSealReport(_))
        ));
        assert!(matches!(
            parse_seal(&j(
                r#""status": "sealed", "checks": [{"id": "x", "status": "ok", "findings": []}]"#
            )),
            Err(SealReportError::NotSealReport(_))
        ));
        assert_eq!(
            parse_seal(&j(
                r#""status": "sealed", "checks": [{"id": "x", "status": "pass"}, {"id": "x", "status": "pass"}]"#
            )),
            Err(SealReportError::DuplicateCheck("x".into()))
        );
        assert_eq!(
            parse_seal(&j(
                r#""status": "sealed", "checks": [{"id": "", "status": "pass"}]"#
            )),
            Err(SealReportError::EmptyCheckId)
        );
        // the status is judged by the checks
        for (rest, why) in [
            (r#""status": "sealed", "checks": []"#, "it has no checks"),
            (
                r#""status": "sealed", "checks": [{"id": "x", "status": "pass"}, {"id": "secrets", "status": "fail"}]"#,
                "secrets fail",
            ),
            (
                r#""status": "unsealed", "checks": [{"id": "x", "status": "warn"}]"#,
                "no check fails",
            ),
            (
                r#""status": "sealed", "strict": true, "checks": [{"id": "x", "status": "warn"}]"#,
                "x warn and the report is strict",
            ),
        ] {
            match parse_seal(&j(rest)) {
                Err(SealReportError::Inconsistent { why: w, .. }) => assert_eq!(w, why, "{rest}"),
                other => panic!("{rest}: {other:?}"),
            }
        }
        // the worst severity of one (path, kind) is kept
        let r = parse_seal(&j(
            r#""status": "unsealed", "checks": [{"id": "secrets", "status": "fail",
                "findings": [{"path": "/a", "kind": "k", "severity": "warn"},
                             {"path": "/a", "kind": "k", "severity": "fail"}]}]"#,
        ))
        .unwrap();
        assert_eq!(r.checks[0].findings, [fref("/a", "k", CheckStatus::Fail)]);
    }

    #[test]
    fn seal_report_is_bound_to_the_sboms_tree() {
        let d = "a".repeat(64);
        let sbom_json = |props: bool| {
            let mut m = serde_json::json!({"component": {"type": "operating-system", "name": "x",
                "hashes": [{"alg": "SHA-256", "content": d}]}});
            if props {
                m["properties"] = serde_json::json!([{"name": "bakeproof:tree-digest", "value": format!("sha256:{d}")}]);
            }
            serde_json::to_vec(
                &serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
                "metadata": m, "components": []}),
            )
            .unwrap()
        };
        let (a, b) = (sbom_json(true), sbom_json(false));
        let seal = seal("sealed", &[("machine-id", "pass", &[])]);
        for bytes in [&a, &b] {
            let sbom = parse(bytes).unwrap();
            assert_eq!(sbom.tree_digest(), Some(format!("sha256:{d}")));
            assert_eq!(check_seal_binding(&sbom, &seal), Ok(()));
        }
        let mut other = seal.clone();
        other.tree_digest = format!("sha256:{}", "b".repeat(64));
        assert!(matches!(
            check_seal_binding(&parse(&a).unwrap(), &other),
            Err(SealReportError::OtherTree { .. })
        ));
        let syft = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}"#;
        assert_eq!(
            check_seal_binding(&parse(syft).unwrap(), &seal),
            Err(SealReportError::UnboundSbom)
        );
    }

    /// FxHash as the diff used it (rustc's, fixed seed): the oracle the
    /// colliding names below are built against.
    fn fxhash_str(s: &str) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = 0u64;
        let bytes = s.as_bytes();
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap());
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder().iter().chain(&[0xff]) {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        h
    }

    /// `n` distinct 16-byte ASCII paths that all have FxHash 0 before the
    /// `str` terminator: the second word cancels the first.
    fn fx_colliding_names(n: usize) -> Vec<String> {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut out = Vec::with_capacity(n);
        let mut i = 0u64;
        while out.len() < n {
            i += 1;
            let mut w1 = *b"/f000000";
            let mut x = i;
            for b in w1[1..].iter_mut().rev() {
                *b = b'a' + (x % 26) as u8;
                x /= 26;
            }
            let w2 = w1_word(&w1).wrapping_mul(K).rotate_left(5).to_le_bytes();
            if w2.iter().all(|&b| (0x20..0x7f).contains(&b)) {
                let mut name = String::from_utf8(w1.to_vec()).unwrap();
                name.push_str(std::str::from_utf8(&w2).unwrap());
                out.push(name);
            }
        }
        out
    }

    fn w1_word(w: &[u8; 8]) -> u64 {
        u64::from_le_bytes(*w)
    }

    #[test]
    fn map_hasher_is_keyed_per_map() {
        // A fixed-seed hasher gives every map the same hash of a key.
        let hashes: BTreeSet<u64> = (0..8)
            .map(|_| {
                FastMap::<&str, ()>::default()
                    .hasher()
                    .hash_one("/etc/passwd")
            })
            .collect();
        assert!(hashes.len() > 1, "the map hasher has a fixed seed");
    }

    #[test]
    fn names_colliding_in_fxhash_do_not_collide_in_the_map() {
        let names = fx_colliding_names(5_000);
        assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), names.len());
        let fx: BTreeSet<u64> = names.iter().map(|n| fxhash_str(n)).collect();
        assert_eq!(fx.len(), 1, "the names collide in FxHash");
        let b = FastMap::<&str, ()>::default();
        let ours: BTreeSet<u64> = names
            .iter()
            .map(|n| b.hasher().hash_one(n.as_str()))
            .collect();
        assert!(ours.len() > names.len() - 10, "{} distinct", ours.len());
        // and the diff over them is right (it would be quadratic with FxHash)
        let doc = |modified: &str| {
            let comps: Vec<Value> = names
                .iter()
                .map(|n| {
                    let h = if n == modified { "b" } else { "a" }.repeat(64);
                    serde_json::json!({"type": "file", "name": n, "bom-ref": n,
                        "hashes": [{"alg": "SHA-256", "content": h}]})
                })
                .collect();
            serde_json::to_vec(
                &serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
                "components": comps}),
            )
            .unwrap()
        };
        let (old, new) = (doc(""), doc(&names[777]));
        let d = diff(&parse(&old).unwrap(), &parse(&new).unwrap());
        assert_eq!(d.count(ChangeKind::ModifiedFiles), 1);
        assert_eq!(d.count(ChangeKind::AddedFiles), 0);
    }

    #[test]
    fn rejects_non_cyclonedx() {
        assert!(matches!(parse(b"{"), Err(DiffError::Json(_))));
        assert!(matches!(
            parse(br#"{"spdxVersion": "SPDX-2.3"}"#),
            Err(DiffError::NotCycloneDx(_))
        ));
        assert!(parse_fail_on("added,bogus").is_err());
        assert_eq!(parse_fail_on("all").unwrap().len(), 15);
    }
}
