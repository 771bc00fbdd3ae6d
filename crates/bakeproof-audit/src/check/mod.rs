//! A [`Design`] against [`Facts`] → [`AuditReport`]. One file per
//! requirement kind: `packages.rs` (i14-design), `sshd.rs` and
//! `services.rs` (i14-config), `system.rs` for accounts, SELinux,
//! firewall, kernel, arch and os (i14-facts).

pub mod packages;

use crate::design::Design;
use crate::facts::Facts;
use crate::report::{
    AUDIT_SCHEMA_VERSION, AuditReport, ConfigReport, DesignFile, DocumentRef, ImageIdentity,
    ReqStatus, Requirement,
};

/// Check every requirement of `design` against `facts`, in kind order:
/// packages, services, sshd, then the system kinds.
pub fn audit(design: &Design, facts: &Facts) -> Vec<Requirement> {
    let mut out = packages::check(design, facts);
    out.extend(services::check(design, facts));
    out.extend(sshd::check(design, facts));
    // Wired at merge (same signature): system::check. Until then every
    // such requirement is `ng`, `not assessed` (fail closed), never
    // silently dropped.
    out.extend(pending::check(design));
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
        os: facts.os.clone(),
        architecture: facts.arch.clone(),
        package_count: facts.packages.as_ref().map(|p| p.packages.len()),
        ..Default::default()
    };
    if let Some(k) = &facts.kernels {
        c.kernels = k.iter().map(|k| k.release.clone()).collect();
    }
    if let Some(u) = &facts.units {
        c.enabled_services = u
            .states
            .iter()
            .filter(|(_, s)| s.as_str() == "enabled")
            .map(|(n, _)| n.clone())
            .collect();
    }
    if let Some(a) = &facts.accounts {
        c.system_users = a
            .accounts
            .iter()
            .filter(|u| u.uid < a.uid_min)
            .cloned()
            .collect();
    }
    if let Some(s) = &facts.selinux {
        c.selinux = s.configured.clone();
    }
    if let Some(f) = &facts.firewall {
        c.firewall = f.enabled.clone();
    }
    if let Some(s) = &facts.sshd {
        c.sshd = s.report();
    }
    let mut na = |what: &str, missing: bool| {
        if missing {
            c.not_assessed.push(what.to_owned());
        }
    };
    na("packages", facts.packages.is_none());
    na("os-release", facts.os.is_none());
    na("kernels", facts.kernels.is_none());
    na("architecture", facts.arch.is_none());
    na("enabled services", facts.units.is_none());
    na("accounts", facts.accounts.is_none());
    na("SELinux configuration", facts.selinux.is_none());
    na("firewall", facts.firewall.is_none());
    na("sshd configuration", facts.sshd.is_none());
    match &facts.live {
        Some(l) => {
            c.listening = Some(l.listening.clone());
            if l.selinux_running.is_none() {
                c.not_assessed.push("running SELinux mode".to_owned());
            }
        }
        None => {
            c.not_assessed
                .push("listening sockets (offline; --live reads them)".to_owned());
            c.not_assessed
                .push("running SELinux mode (offline; --live reads it)".to_owned());
        }
    }
    c
}

/// Requirements of the kinds whose checks land with the other helpers:
/// `ng`, `not assessed`, so a design is never passed by omission.
mod pending {
    use super::*;
    use crate::report::SourceLocation;

    fn na(
        kind: &str,
        name: &str,
        rule: Option<&str>,
        expected: String,
        source: &SourceLocation,
    ) -> Requirement {
        Requirement {
            kind: kind.to_owned(),
            name: name.to_owned(),
            rule: rule.map(str::to_owned),
            expected,
            actual: "not assessed".to_owned(),
            status: ReqStatus::Ng,
            detail: Some("this check is not available in this build".to_owned()),
            source: Some(source.clone()),
        }
    }

    pub(super) fn check(d: &Design) -> Vec<Requirement> {
        let mut out = Vec::new();
        for (rule, src) in [
            ("only-root-uid0", &d.accounts.only_root_uid0),
            ("no-empty-passwords", &d.accounts.no_empty_passwords),
            ("system-accounts-locked", &d.accounts.system_accounts_locked),
        ] {
            if let Some(src) = src {
                out.push(na("account", rule, Some(rule), "true".into(), src));
            }
        }
        if let Some(s) = &d.selinux {
            out.push(na("selinux", "mode", None, s.value.clone(), &s.source));
        }
        if let Some(f) = &d.firewall_enabled {
            out.push(na(
                "firewall",
                "enabled",
                None,
                f.value.to_string(),
                &f.source,
            ));
        }
        if let Some(k) = &d.kernel {
            out.push(na(
                "kernel",
                "version",
                None,
                crate::constraint::describe(&k.value),
                &k.source,
            ));
        }
        if let Some(a) = &d.arch {
            out.push(na("arch", "arch", None, a.value.clone(), &a.source));
        }
        if let Some(o) = &d.os_id {
            out.push(na("os", "id", None, o.value.clone(), &o.source));
        }
        if let Some(o) = &d.os_version {
            out.push(na(
                "os",
                "version_id",
                None,
                crate::constraint::describe(&o.value),
                &o.source,
            ));
        }
        out
    }
}

pub mod services;
pub mod sshd;
