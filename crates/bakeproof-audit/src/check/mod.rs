//! A [`Design`] against [`Facts`] → [`AuditReport`]. One file per
//! requirement kind: `packages.rs`, `sshd.rs`, `services.rs`, and
//! `system.rs` for accounts, SELinux, firewall, kernel, arch and os.

pub mod packages;
pub mod services;
pub mod sshd;
pub mod system;

use crate::design::Design;
use crate::facts::Facts;
use crate::report::{
    AUDIT_SCHEMA_VERSION, AuditReport, ConfigReport, DesignFile, DocumentRef, ImageIdentity,
    Requirement,
};

/// Check every requirement of `design` against `facts`, in kind order:
/// packages, services, sshd, then the system kinds.
pub fn audit(design: &Design, facts: &Facts) -> Vec<Requirement> {
    let mut out = packages::check(design, facts);
    out.extend(services::check(design, facts));
    out.extend(sshd::check(design, facts));
    out.extend(system::check(design, facts));
    out
}

/// The whole report: the requirements of `design` against `facts`, the
/// configuration report, the document and image identity. `date` is RFC
/// 3339 UTC (the caller resolves SOURCE_DATE_EPOCH).
pub fn report(design: &Design, facts: &Facts, image: ImageIdentity, date: String) -> AuditReport {
    let requirements = audit(design, facts);
    let mut image = image;
    if image.tree_digest.is_none() {
        image.tree_digest = facts.tree_digest.clone();
    }
    AuditReport {
        schema_version: AUDIT_SCHEMA_VERSION,
        status: AuditReport::status_of(&requirements),
        document: DocumentRef {
            id: design.id.clone(),
            title: design.title.clone(),
            files: design
                .files
                .iter()
                .map(|(path, sha256)| DesignFile {
                    path: path.clone(),
                    sha256: sha256.clone(),
                })
                .collect(),
        },
        date,
        image,
        requirements,
        configuration: configuration(facts),
        warnings: facts.warnings.clone(),
    }
}

/// The configuration report: what the facts say, and what they cannot.
pub fn configuration(facts: &Facts) -> ConfigReport {
    let mut c = ConfigReport {
        package_count: facts.packages.as_ref().map(|p| p.packages.len()),
        ..Default::default()
    };
    if let Some(u) = &facts.units {
        c.enabled_services = u.enabled();
    }
    if let Some(s) = &facts.sshd {
        c.sshd = s.report();
    }
    for (missing, what) in [
        (facts.packages.is_none(), "packages"),
        (facts.units.is_none(), "enabled services"),
        (facts.sshd.is_none(), "sshd configuration"),
    ] {
        if missing {
            c.not_assessed.push(what.to_owned());
        }
    }
    // OS, kernels, architecture, accounts, SELinux, firewall, sockets.
    system::configuration(facts, &mut c);
    c
}
