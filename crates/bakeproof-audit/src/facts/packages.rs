//! Installed packages: from a scanned root's package databases or from an
//! SBOM standing in for the root. OWNER: helper i14-design.

use bakeproof_pkgdb::Ecosystem;

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
}
