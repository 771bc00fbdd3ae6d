//! What `bakeproof diff` reports: the whole difference as one value
//! ([`Diff`], serialised as `schemas/diff.schema.json`), and what a caller
//! can ask of it ([`ChangeKind`], [`FailOn`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A seal check's status (or a finding's severity), ordered
/// `pass < warn < fail`: the seal report's own type.
pub use bakeproof_seal::Status as CheckStatus;

/// The whole difference, as `--format json` writes it
/// (`schemas/diff.schema.json`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub packages: PackageChanges,
    pub files: FileChanges,
    pub seal: SealChanges,
    /// The audit reports' requirements whose status changed; absent when
    /// neither side has an audit report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditChanges>,
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
    /// The maintainer (dpkg) or packager (rpm) changed.
    pub author_changed: Vec<AttrChange>,
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
    pub author_changed: usize,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    Rebuilt,
    License,
    Supplier,
    /// The maintainer or packager changed.
    Author,
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
    /// An audit requirement became `ng`, or the audit went from `pass` to
    /// `fail`.
    Audit,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 17] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Upgraded,
        ChangeKind::Downgraded,
        ChangeKind::Rebuilt,
        ChangeKind::License,
        ChangeKind::Supplier,
        ChangeKind::Author,
        ChangeKind::AddedFiles,
        ChangeKind::RemovedFiles,
        ChangeKind::ModifiedFiles,
        ChangeKind::ModeChanges,
        ChangeKind::Capabilities,
        ChangeKind::UnownedFiles,
        ChangeKind::Seal,
        ChangeKind::SealFindings,
        ChangeKind::Audit,
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
            ChangeKind::Author => "author",
            ChangeKind::AddedFiles => "added-files",
            ChangeKind::RemovedFiles => "removed-files",
            ChangeKind::ModifiedFiles => "modified-files",
            ChangeKind::ModeChanges => "mode-changes",
            ChangeKind::Capabilities => "capabilities",
            ChangeKind::UnownedFiles => "unowned-files",
            ChangeKind::Seal => "seal",
            ChangeKind::SealFindings => "seal-findings",
            ChangeKind::Audit => "audit",
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
            ChangeKind::Author => s.author_changed,
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
            ChangeKind::Audit => self
                .audit
                .as_ref()
                .map_or(0, crate::audit::AuditChanges::count_worse),
        }
    }
}

/// The change kinds that make a diff fail (the CLI's `--fail-on`, parsed
/// by the caller): the library never sees the flag's text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailOn(pub BTreeSet<ChangeKind>);

impl FailOn {
    /// Every kind (`--fail-on all`).
    pub fn all() -> FailOn {
        FailOn(ChangeKind::ALL.into_iter().collect())
    }
}

impl Diff {
    /// Whether a change of one of the kinds in `on` exists.
    pub fn fails(&self, on: &FailOn) -> bool {
        !self.matched(on).is_empty()
    }

    /// The kinds in `on` that occurred, with their counts, in `on`'s order:
    /// what made [`Diff::fails`] true.
    pub fn matched(&self, on: &FailOn) -> Vec<(ChangeKind, usize)> {
        on.0.iter()
            .map(|&k| (k, self.count(k)))
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}
