//! Installed packages: from a scanned root's package databases or from an
//! SBOM standing in for the root.

use bakeproof_inventory::Scanned;
use bakeproof_pkgdb::Ecosystem;
use bakeproof_sbom::cyclonedx::decoder;

/// One installed package, as the package manager prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// Full version: dpkg `[epoch:]upstream[-revision]`; rpm
    /// `[epoch:]version-release`.
    pub version: String,
    pub arch: String,
}

#[derive(Clone, Debug, Default)]
pub struct PackageFacts {
    pub packages: Vec<InstalledPackage>,
    /// Where they were read (`/var/lib/dpkg/status`, `rpm-sqlite
    /// /var/lib/rpm/rpmdb.sqlite`, the SBOM file).
    pub sources: Vec<String>,
    /// Why the list may lack packages (records of a database that could
    /// not be read): absence (`forbidden`, `approved-only`) cannot be
    /// proved then. `None` when every record was read.
    pub incomplete: Option<String>,
}

impl PackageFacts {
    /// The installed packages named `name` (several for multi-arch or
    /// installonly packages such as kernels).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a InstalledPackage> + 'a {
        self.packages.iter().filter(move |p| p.name == name)
    }

    /// The packages of a scan (every database found in the root), as
    /// the SBOM of the same scan lists them (dpkg: the states dpkg-query
    /// lists as on disk, see bakeproof-pkgdb).
    pub fn of_scan(scanned: &Scanned) -> PackageFacts {
        let mut out = PackageFacts::default();
        for db in &scanned.inventory.dbs {
            out.sources
                .push(format!("{} {}", db.kind.as_str(), db.location));
            if db.dropped > 0 {
                out.incomplete = Some(format!(
                    "{}: {} records could not be read",
                    db.location, db.dropped
                ));
            }
            // The OS's package managers' packages: a design document's
            // package requirements are about them (as `of_sbom` reads).
            for p in db.packages.iter().filter(|p| p.ecosystem.is_os()) {
                out.packages.push(InstalledPackage {
                    ecosystem: p.ecosystem,
                    name: p.name.clone(),
                    version: p.version.clone(),
                    arch: p.arch.clone(),
                });
            }
        }
        out
    }

    /// The deb and rpm packages a CycloneDX SBOM lists (by purl type, or
    /// bakeproof's `bakeproof:package:type`); other components are not
    /// packages of the image's package managers and are left out.
    pub fn of_sbom(sbom: &decoder::Sbom<'_>, source: &str) -> PackageFacts {
        let mut out = PackageFacts {
            packages: Vec::new(),
            sources: vec![source.to_owned()],
            incomplete: None,
        };
        for p in sbom.packages() {
            let ecosystem = match p.ptype.as_str() {
                "deb" => Ecosystem::Deb,
                "rpm" => Ecosystem::Rpm,
                _ => continue,
            };
            out.packages.push(InstalledPackage {
                ecosystem,
                name: p.name.to_owned(),
                version: p.version.clone(),
                arch: p.arch.clone(),
            });
        }
        out
    }
}
