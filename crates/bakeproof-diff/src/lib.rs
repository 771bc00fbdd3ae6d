//! Differences between two CycloneDX JSON SBOMs and their seal reports
//! (`bakeproof diff`): a pure function over two decoded documents.
//!
//! Documents are read by the one CycloneDX decoder
//! (`bakeproof_sbom::cyclonedx::decoder`: any tool's SBOM, spec 1.4 to
//! 1.6, nested components flattened); seal reports by the seal crate's own
//! type (`bakeproof_seal::SealReport`). The rules (documented in
//! docs/diff.md), one module each:
//!
//! * [`packages`]: matched by identity (`PackageId`), classified by the
//!   package manager's version order; `rebuilt` by rpm header digests or
//!   owned file digests; license and supplier changes.
//! * [`files`] (when both sides carry `file` components): added, removed,
//!   modified (SHA-256 or type), mode changed, capabilities, became
//!   unowned; and the entry-by-entry comparison of the first-boot check.
//! * [`seal`] (when both sides come with a seal report): per check, a
//!   status change (worse or better) and the findings added or removed by
//!   (path, kind); the overall verdict. Finding details are never read.
//! * [`model`]: the result ([`Diff`]); [`render`]: text, Markdown, JSON.
//!
//! The library takes resolved settings ([`FailOn`]); the CLI parses flags.

pub mod audit;
pub mod files;
pub mod model;
pub mod packages;
pub mod render;
pub mod seal;

pub use audit::{
    AuditChanges, AuditReportError, MAX_AUDIT_BYTES, check_audit_binding, diff_audit, parse_audit,
};
pub use bakeproof_sbom::cyclonedx::decoder::Package;
pub use bakeproof_sbom::cyclonedx::{DecodeError, MAX_SBOM_BYTES, Sbom, parse};
pub use files::{
    EntryChange, EntryChangeKind, FileMap, caps_differ, compare_entries, compare_file_maps,
};
pub use model::*;
pub use packages::version_cmp;
pub use seal::{MAX_SEAL_BYTES, SealReportError, check_seal_binding, diff_seal, parse_seal};

use bakeproof_sbom::cyclonedx::vocab;
use bakeproof_seal::SealReport;

use crate::files::SideFiles;

/// One document as the diff compares it.
struct Side<'a> {
    pkgs: Vec<Package<'a>>,
    files: SideFiles<'a>,
    summary: DocSummary,
}

fn side<'s>(sbom: &'s Sbom<'_>) -> Side<'s> {
    let mut pkgs = Vec::new();
    let mut files = SideFiles::default();
    for c in sbom.components() {
        match c.kind() {
            Some(vocab::TYPE_FILE) => files.add(c),
            Some(t) if vocab::PACKAGE_TYPES.contains(&t) => pkgs.extend(c.package()),
            _ => {}
        }
    }
    let summary = DocSummary {
        spec_version: sbom.spec_version.clone(),
        tool: sbom.tool().map(str::to_owned),
        packages: pkgs.len(),
        files: files.files.len(),
    };
    Side {
        pkgs,
        files,
        summary,
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
    let compare_files = a.files.has_files && b.files.has_files;
    d.packages = packages::compare(&a.pkgs, &b.pkgs, (&a.files, &b.files), compare_files);
    if compare_files {
        d.files = files::compare(&a.files, &b.files);
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
    s.author_changed = d.packages.author_changed.len();
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

#[cfg(test)]
mod tests;
