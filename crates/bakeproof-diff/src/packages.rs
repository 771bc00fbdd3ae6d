//! Packages: matched by identity ([`PackageId`], the decoder's one
//! definition), then classified by the package manager's order
//! ([`bakeproof_pkgdb::version`]): rpm's EVR order for `pkg:rpm`, dpkg's
//! for `pkg:deb`, the language ecosystems' own ([`bakeproof_ecosystems::version`]:
//! PEP 440, SemVer, Maven, Go), a generic numeric-aware order otherwise. Same version,
//! different content: `rebuilt` (rpm: header SHA-256 or header+payload
//! MD5; otherwise the SHA-256s of the package's owned, verified file
//! components, where both sides carry them).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use bakeproof_pkgdb::version::{Evr, dpkg_version_cmp, generic_version_cmp, rpm_evr_cmp};
use bakeproof_sbom::cyclonedx::PackageId;
use bakeproof_sbom::cyclonedx::decoder::Package;

use crate::files::SideFiles;
use crate::model::{AttrChange, PackageChanges, PkgEntry};

/// Orders two full versions of a package of purl type `ptype`.
pub fn version_cmp(ptype: &str, a: &str, b: &str) -> Ordering {
    match ptype {
        "rpm" => rpm_evr_cmp(Evr::parse(a), Evr::parse(b)),
        "deb" => dpkg_version_cmp(a, b),
        // Language ecosystems: PEP 440, SemVer, Maven, Go's module order.
        _ => match bakeproof_ecosystems::version::for_purl_type(ptype) {
            Some(cmp) => cmp(a, b),
            None => generic_version_cmp(a, b),
        },
    }
}

fn entry(p: &Package<'_>, from: Option<&Package<'_>>, to: Option<&Package<'_>>) -> PkgEntry {
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

/// The `packages` part of the diff from `a` to `b`; `files` are each
/// side's file components (for `rebuilt` by file digests), consulted only
/// when `compare_files`.
pub(crate) fn compare(
    a: &[Package<'_>],
    b: &[Package<'_>],
    files: (&SideFiles<'_>, &SideFiles<'_>),
    compare_files: bool,
) -> PackageChanges {
    let mut d = PackageChanges::default();
    let mut groups: BTreeMap<PackageId, (Vec<&Package<'_>>, Vec<&Package<'_>>)> = BTreeMap::new();
    for p in a {
        groups.entry(p.id()).or_default().0.push(p);
    }
    for p in b {
        groups.entry(p.id()).or_default().1.push(p);
    }
    for (PackageId { ptype, .. }, (mut olds, mut news)) in groups {
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
        if olds.len() == 1
            && news.len() == 1
            && let (Some(o), Some(n)) = (olds.pop(), news.pop())
        {
            pairs.push((o, n));
        }
        for o in olds {
            d.removed.push(entry(o, Some(o), None));
        }
        for n in news {
            d.added.push(entry(n, None, Some(n)));
        }
        for (o, n) in pairs {
            match version_cmp(&ptype, &o.version, &n.version) {
                Ordering::Less => d.upgraded.push(entry(n, Some(o), Some(n))),
                Ordering::Greater => d.downgraded.push(entry(n, Some(o), Some(n))),
                Ordering::Equal => {
                    if let Some(e) = rebuilt(files, o, n, compare_files) {
                        d.rebuilt.push(e);
                    }
                }
            }
            if o.licenses != n.licenses {
                d.license_changed.push(AttrChange {
                    name: n.name.to_owned(),
                    purl: n.purl.map(str::to_owned),
                    version: n.version.clone(),
                    before: o.licenses.clone(),
                    after: n.licenses.clone(),
                });
            }
            for (list, before, after) in [
                (&mut d.supplier_changed, o.supplier, n.supplier),
                (&mut d.author_changed, o.author, n.author),
            ] {
                if before != after {
                    list.push(AttrChange {
                        name: n.name.to_owned(),
                        purl: n.purl.map(str::to_owned),
                        version: n.version.clone(),
                        before: before.map(str::to_owned).into_iter().collect(),
                        after: after.map(str::to_owned).into_iter().collect(),
                    });
                }
            }
        }
    }
    let by_name = |x: &PkgEntry, y: &PkgEntry| {
        (&x.name, &x.arch, &x.from, &x.to).cmp(&(&y.name, &y.arch, &y.from, &y.to))
    };
    for l in [
        &mut d.added,
        &mut d.removed,
        &mut d.upgraded,
        &mut d.downgraded,
        &mut d.rebuilt,
    ] {
        l.sort_by(by_name);
    }
    d
}

fn rebuilt(
    (a, b): (&SideFiles<'_>, &SideFiles<'_>),
    o: &Package<'_>,
    n: &Package<'_>,
    files: bool,
) -> Option<PkgEntry> {
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
