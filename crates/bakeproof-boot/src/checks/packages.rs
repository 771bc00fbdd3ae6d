//! The `packages` check (`--level packages` and `files`): the installed
//! packages of the live root against the attested SBOM, and at `--level
//! packages` every entry an attested package owns.
//!
//! Packages are matched by identity ([`PackageId`], the decoder's, as
//! `bakeproof diff` matches them: purl type, namespace, name, architecture)
//! and compared as MULTISETS of full versions: an image may hold several
//! installed versions of one package (kernels, rpm `gpg-pubkey`), and each
//! is accounted for. Identical version strings pair first; then a single
//! leftover on each side is a `version` change, and any other leftover is
//! `missing` (attested) or `added` (live). The diff's own package
//! comparison (`bakeproof_diff::diff`) pairs versions the package manager
//! orders as equal and reports upgrades and rebuilds; here a version must
//! be the attested string exactly, so the rule is kept apart.

use std::collections::{BTreeMap, HashSet};

use bakeproof_diff::{FileMap, Sbom};
use bakeproof_sbom::cyclonedx::PackageId;

use crate::report::{FileDiff, PackageChange, PackageDiff};

/// Per identity: each package with a purl as (purl without version,
/// qualifiers kept: `pkg:deb/debian/bash?arch=amd64`; full version), in
/// document order.
fn package_map(doc: &Sbom<'_>) -> BTreeMap<PackageId, Vec<(String, String)>> {
    let mut m: BTreeMap<PackageId, Vec<(String, String)>> = BTreeMap::new();
    for p in doc.packages() {
        let Some(purl) = p.purl else { continue };
        let (base, rest) = purl.split_once('@').unwrap_or((purl, ""));
        let quals = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
        m.entry(p.id())
            .or_default()
            .push((format!("{base}?{quals}"), p.version));
    }
    m
}

/// The package differences from `attested` to `live`: per identity, first
/// the attested side's (`missing`, `version`), in identity order, then the
/// live side's `added`.
pub(crate) fn diff_packages(attested: &Sbom<'_>, live: &Sbom<'_>) -> Vec<PackageDiff> {
    let a = package_map(attested);
    let l = package_map(live);
    let mut out = Vec::new();
    let mut added = Vec::new();
    let empty = Vec::new();
    for id in a.keys().chain(l.keys().filter(|id| !a.contains_key(*id))) {
        let mut olds: Vec<&(String, String)> = a.get(id).unwrap_or(&empty).iter().collect();
        let mut news: Vec<&(String, String)> = l.get(id).unwrap_or(&empty).iter().collect();
        // Identical versions pair first, one for one.
        olds.retain(|(_, v)| match news.iter().position(|(_, lv)| lv == v) {
            Some(i) => {
                news.remove(i);
                false
            }
            None => true,
        });
        if let ([(k, v)], [(_, lv)]) = (olds.as_slice(), news.as_slice()) {
            out.push(PackageDiff {
                package: k.clone(),
                change: PackageChange::Version,
                attested: Some(v.clone()),
                live: Some(lv.clone()),
            });
            continue;
        }
        for (k, v) in olds {
            out.push(PackageDiff {
                package: k.clone(),
                change: PackageChange::Missing,
                attested: Some(v.clone()),
                live: None,
            });
        }
        for (k, v) in news {
            added.push((
                id,
                PackageDiff {
                    package: k.clone(),
                    change: PackageChange::Added,
                    attested: None,
                    live: Some(v.clone()),
                },
            ));
        }
    }
    // In identity order, as the attested side's (a stable sort: document
    // order within one identity).
    added.sort_by(|x, y| x.0.cmp(y.0));
    out.extend(added.into_iter().map(|(_, d)| d));
    out
}

/// Every owned entry (`owned`: the paths the attested packages own,
/// expected-mutable ones aside) of `live_files` against the attested
/// entries, exactly as the files level compares an entry, each difference
/// naming the purl of its owning package.
pub(crate) fn diff_owned(
    attested: &Sbom<'_>,
    attested_files: &FileMap<'_>,
    live_files: &FileMap<'_>,
    owned: &[Vec<u8>],
) -> Vec<FileDiff> {
    let wanted: HashSet<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    let changes =
        bakeproof_diff::compare_file_maps(attested_files, live_files, &|p| !wanted.contains(p));
    let purls = attested.package_purls();
    changes
        .into_iter()
        .map(|c| {
            let pkg = attested_files
                .get(c.path.as_slice())
                .and_then(|f| f.package)
                .map(|r| purls.get(r).copied().unwrap_or(r).to_owned());
            let mut d = FileDiff::of(c);
            d.package = Some(pkg);
            d
        })
        .collect()
}
