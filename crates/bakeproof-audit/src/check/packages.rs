//! Package requirements (kind `package`): required with constraints,
//! approved exact versions, approved-only, forbidden.

use bakeproof_pkgdb::Ecosystem;
use bakeproof_pkgdb::version::Evr;

use crate::constraint::{compare, describe};
use crate::design::{ApprovedPackage, Design, PackageRule};
use crate::facts::Facts;
use crate::facts::packages::{InstalledPackage, PackageFacts};
use crate::report::{ReqStatus, Requirement, SourceLocation};

pub const KIND: &str = "package";
pub const NOT_INSTALLED: &str = "not installed";
pub use crate::report::NOT_ASSESSED;

fn req(
    name: &str,
    rule: &str,
    expected: String,
    actual: String,
    ok: bool,
    detail: Option<String>,
    source: &SourceLocation,
) -> Requirement {
    let source = (!source.file.is_empty()).then(|| source.clone());
    Requirement::judged(KIND, name, Some(rule), expected, actual, ok, detail, source)
}

fn versions<'a>(it: impl Iterator<Item = &'a InstalledPackage>, with_arch: bool) -> String {
    let v: Vec<String> = it
        .map(|p| {
            if with_arch && !p.arch.is_empty() {
                format!("{}.{}", p.version, p.arch)
            } else {
                p.version.clone()
            }
        })
        .collect();
    if v.is_empty() {
        NOT_INSTALLED.to_owned()
    } else {
        v.join(", ")
    }
}

/// Every package requirement of `design` against the facts' packages.
pub fn check(design: &Design, facts: &Facts) -> Vec<Requirement> {
    let mut out = Vec::new();
    let Some(pkgs) = facts.packages.as_ref() else {
        let none = |name: &str, rule: &str, expected: String, source: &SourceLocation| {
            req(
                name,
                rule,
                expected,
                NOT_ASSESSED.to_owned(),
                false,
                Some("no package database was read".to_owned()),
                source,
            )
        };
        for r in &design.required {
            out.push(none(
                &r.name,
                rule_of(r),
                describe(&r.constraints),
                &r.source,
            ));
        }
        for a in &design.approved {
            out.push(none(&a.name, "approved", approved_expected(a), &a.source));
        }
        for f in &design.forbidden {
            out.push(none(&f.name, "forbidden", forbidden_expected(f), &f.source));
        }
        if design.approved_only {
            out.push(none(
                "*",
                "approved-only",
                "only approved packages".into(),
                &approved_only_source(design),
            ));
        }
        return out;
    };
    for r in &design.required {
        out.push(required(r, pkgs));
    }
    for a in &design.approved {
        out.push(approved(a, pkgs));
    }
    let absence_from = out.len();
    for f in &design.forbidden {
        out.push(forbidden(f, pkgs));
    }
    if design.approved_only {
        out.extend(approved_only(design, pkgs));
    }
    // An absence is proved only by a complete package list (fail closed).
    if let Some(why) = &pkgs.incomplete {
        for r in &mut out[absence_from..] {
            if r.status == ReqStatus::Ok {
                r.status = ReqStatus::Ng;
                r.detail = Some(format!("cannot be proved: {why}"));
            }
        }
    }
    out
}

fn rule_of(r: &PackageRule) -> &'static str {
    if r.constraints.is_empty() {
        "installed"
    } else {
        "constraint"
    }
}

fn holds(r: &PackageRule, p: &InstalledPackage) -> bool {
    r.constraints
        .iter()
        .all(|c| c.matches(p.ecosystem, &p.version))
}

fn required(r: &PackageRule, pkgs: &PackageFacts) -> Requirement {
    let found: Vec<&InstalledPackage> = pkgs.named(&r.name).collect();
    let failing: Vec<&InstalledPackage> = found.iter().copied().filter(|p| !holds(r, p)).collect();
    let ok = !found.is_empty() && failing.is_empty();
    let detail = if found.is_empty() {
        None
    } else if !failing.is_empty() && failing.len() < found.len() {
        Some(format!(
            "every installed instance must satisfy it; not: {}",
            versions(failing.iter().copied(), true)
        ))
    } else {
        None
    };
    let multi_arch = found.iter().any(|p| p.arch != found[0].arch);
    req(
        &r.name,
        rule_of(r),
        describe(&r.constraints),
        versions(found.iter().copied(), multi_arch),
        ok,
        detail,
        &r.source,
    )
}

fn approved_expected(a: &ApprovedPackage) -> String {
    match &a.arch {
        Some(arch) => format!("= {} ({arch})", a.version),
        None => format!("= {}", a.version),
    }
}

/// Architecture names that are the same architecture.
fn same_arch(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> &str {
        match s {
            "amd64" | "x86_64" => "x86_64",
            "arm64" | "aarch64" => "aarch64",
            "all" | "noarch" => "noarch",
            other => other,
        }
    }
    norm(a) == norm(b)
}

/// Whether `p` is the approved build: name, version (equal in the
/// ecosystem's order; an approval without an epoch is compared with the
/// installed version's epoch removed, as `rpm -qa` lists NEVRAs without
/// one; without a release, rpm compares the version only) and arch when
/// given.
pub fn is_approved(a: &ApprovedPackage, p: &InstalledPackage) -> bool {
    if a.name != p.name {
        return false;
    }
    if let Some(arch) = &a.arch
        && !same_arch(arch, &p.arch)
    {
        return false;
    }
    let installed = if Evr::parse(&a.version).epoch.is_none() {
        strip_epoch(&p.version)
    } else {
        p.version.as_str()
    };
    compare(p.ecosystem, installed, &a.version) == std::cmp::Ordering::Equal
        && exact_release(p.ecosystem, installed, &a.version)
}

/// rpm: an approval with a release needs the same release (compare
/// ignores a missing one on either side; the installed one always has
/// one).
fn exact_release(eco: Ecosystem, installed: &str, wanted: &str) -> bool {
    match eco {
        Ecosystem::Rpm => {
            let (i, w) = (Evr::parse(installed), Evr::parse(wanted));
            w.release.is_none() || i.release.is_some()
        }
        _ => true,
    }
}

fn strip_epoch(v: &str) -> &str {
    match Evr::parse(v).epoch {
        Some(e) => &v[e.len() + 1..],
        None => v,
    }
}

fn approved(a: &ApprovedPackage, pkgs: &PackageFacts) -> Requirement {
    let found: Vec<&InstalledPackage> = pkgs.named(&a.name).collect();
    let ok = found.iter().any(|p| is_approved(a, p));
    req(
        &a.name,
        "approved",
        approved_expected(a),
        versions(found.iter().copied(), a.arch.is_some()),
        ok,
        None,
        &a.source,
    )
}

fn forbidden_expected(f: &PackageRule) -> String {
    if f.constraints.is_empty() {
        NOT_INSTALLED.to_owned()
    } else {
        format!("{NOT_INSTALLED} ({})", describe(&f.constraints))
    }
}

fn forbidden(f: &PackageRule, pkgs: &PackageFacts) -> Requirement {
    let found: Vec<&InstalledPackage> = pkgs.named(&f.name).collect();
    let bad: Vec<&InstalledPackage> = found.iter().copied().filter(|p| holds(f, p)).collect();
    req(
        &f.name,
        "forbidden",
        forbidden_expected(f),
        versions(found.iter().copied(), false),
        bad.is_empty(),
        None,
        &f.source,
    )
}

fn approved_only_source(design: &Design) -> SourceLocation {
    design
        .approved
        .first()
        .map(|a| SourceLocation {
            file: a.source.file.clone(),
            line: None,
        })
        .or_else(|| {
            design.files.first().map(|(f, _)| SourceLocation {
                file: f.clone(),
                line: None,
            })
        })
        .unwrap_or(SourceLocation {
            file: String::new(),
            line: None,
        })
}

fn approved_only(design: &Design, pkgs: &PackageFacts) -> Vec<Requirement> {
    let source = approved_only_source(design);
    let mut out = Vec::new();
    for p in &pkgs.packages {
        if design.approved.iter().any(|a| is_approved(a, p)) {
            continue;
        }
        let listed = design.approved.iter().any(|a| a.name == p.name);
        out.push(req(
            &p.name,
            "approved-only",
            "approved".to_owned(),
            versions(std::iter::once(p), true),
            false,
            Some(if listed {
                "installed at a version the approved list does not name".to_owned()
            } else {
                "not in the approved list".to_owned()
            }),
            &source,
        ));
    }
    if out.is_empty() {
        out.push(req(
            "*",
            "approved-only",
            "only approved packages".to_owned(),
            format!("{} packages, all approved", pkgs.packages.len()),
            true,
            None,
            &source,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::parse_file;

    fn pkg(eco: Ecosystem, name: &str, version: &str, arch: &str) -> InstalledPackage {
        InstalledPackage {
            ecosystem: eco,
            name: name.to_owned(),
            version: version.to_owned(),
            arch: arch.to_owned(),
        }
    }

    fn facts(pkgs: Vec<InstalledPackage>) -> Facts {
        Facts {
            packages: Some(PackageFacts {
                packages: pkgs,
                sources: Vec::new(),
                incomplete: None,
            }),
            ..Default::default()
        }
    }

    fn statuses(design: &str, file: &str, f: &Facts) -> Vec<(String, String, ReqStatus)> {
        let d = parse_file(design.as_bytes(), file).unwrap();
        check(&d, f)
            .into_iter()
            .map(|r| (r.name, r.rule.unwrap_or_default(), r.status))
            .collect()
    }

    #[test]
    fn every_installed_instance_must_satisfy_a_constraint() {
        let f = facts(vec![
            pkg(Ecosystem::Rpm, "kernel", "6.1.100-1.amzn2023", "x86_64"),
            pkg(Ecosystem::Rpm, "kernel", "6.1.50-1.amzn2023", "x86_64"),
        ]);
        let d = parse_file(b"kernel >= 6.1.60\nkernel >= 6.1\n", "s").unwrap();
        let r = check(&d, &f);
        assert_eq!(r[0].status, ReqStatus::Ng);
        assert!(
            r[0].detail.as_deref().unwrap().contains("6.1.50"),
            "{:?}",
            r[0]
        );
        assert_eq!(r[0].actual, "6.1.100-1.amzn2023, 6.1.50-1.amzn2023");
        assert_eq!(r[1].status, ReqStatus::Ok);
    }

    #[test]
    fn forbidden_with_and_without_constraints() {
        let f = facts(vec![pkg(
            Ecosystem::Deb,
            "openssl",
            "3.0.15-1~deb12u1",
            "amd64",
        )]);
        let s = statuses(
            "[packages]\nforbidden = [\"telnetd\", \"openssl < 3\", \"openssl\", \"openssl=3.0.15-1~deb12u1\"]\n",
            "d.toml",
            &f,
        );
        let st: Vec<ReqStatus> = s.iter().map(|x| x.2).collect();
        assert_eq!(
            st,
            [ReqStatus::Ok, ReqStatus::Ok, ReqStatus::Ng, ReqStatus::Ng]
        );
        assert!(s.iter().all(|x| x.1 == "forbidden"));
    }

    #[test]
    fn approvals_are_exact_with_arch_and_epoch_rules() {
        let f = facts(vec![
            pkg(
                Ecosystem::Rpm,
                "openssl",
                "1:3.0.8-1.amzn2023.0.14",
                "x86_64",
            ),
            pkg(Ecosystem::Rpm, "bash", "5.2.15-1.amzn2023.0.2", "x86_64"),
        ]);
        let s = statuses(
            "openssl-1:3.0.8-1.amzn2023.0.14.x86_64\n\
             openssl-3.0.8-1.amzn2023.0.14.x86_64\n\
             openssl-2:3.0.8-1.amzn2023.0.14.x86_64\n\
             openssl-1:3.0.8-1.amzn2023.0.14.aarch64\n\
             openssl-1:3.0.8-1.amzn2023.0.13.x86_64\n\
             bash=5.2.15\n\
             bash=5.2.15-1.amzn2023.0.2\n\
             bash=5.2.15-1\n",
            "s",
            &f,
        );
        let st: Vec<ReqStatus> = s.iter().map(|x| x.2).collect();
        use ReqStatus::{Ng, Ok};
        assert_eq!(st, [Ok, Ok, Ng, Ng, Ng, Ok, Ok, Ng]);
    }

    #[test]
    fn approved_only_names_each_unapproved_package() {
        let f = facts(vec![
            pkg(Ecosystem::Deb, "bash", "5.2.15-2+b7", "amd64"),
            pkg(Ecosystem::Deb, "curl", "7.88.1-10+deb12u8", "amd64"),
            pkg(Ecosystem::Deb, "nc", "1.0", "amd64"),
        ]);
        let toml = "[packages]\napproved_only = true\napproved = [\"bash=5.2.15-2+b7\", \"curl=7.88.1-10+deb12u7\"]\n";
        let s = statuses(toml, "d.toml", &f);
        let ao: Vec<(&str, ReqStatus)> = s
            .iter()
            .filter(|x| x.1 == "approved-only")
            .map(|x| (x.0.as_str(), x.2))
            .collect();
        assert_eq!(ao, [("curl", ReqStatus::Ng), ("nc", ReqStatus::Ng)]);
        let f = facts(vec![pkg(Ecosystem::Deb, "bash", "5.2.15-2+b7", "amd64")]);
        let toml = "[packages]\napproved_only = true\napproved = [\"bash=5.2.15-2+b7\"]\n";
        let s = statuses(toml, "d.toml", &f);
        assert!(s.iter().all(|x| x.2 == ReqStatus::Ok), "{s:?}");
        assert_eq!(s.last().unwrap().0, "*");
    }

    #[test]
    fn an_incomplete_package_list_proves_no_absence() {
        let mut f = facts(vec![pkg(Ecosystem::Rpm, "bash", "5.2-1", "x86_64")]);
        if let Some(p) = f.packages.as_mut() {
            p.incomplete = Some("/var/lib/rpm/Packages: 3 records could not be read".into());
        }
        let toml = "[packages]\nrequired = [\"bash >= 5\"]\nforbidden = [\"telnet\"]\n\
                    approved_only = true\napproved = [\"bash=5.2-1\"]\n";
        let d = parse_file(toml.as_bytes(), "d.toml").unwrap();
        let r = check(&d, &f);
        let st: Vec<(&str, ReqStatus)> = r
            .iter()
            .map(|r| (r.rule.as_deref().unwrap(), r.status))
            .collect();
        use ReqStatus::{Ng, Ok};
        assert_eq!(
            st,
            [
                ("constraint", Ok),
                ("approved", Ok),
                ("forbidden", Ng),
                ("approved-only", Ng)
            ]
        );
        assert!(
            r[2].detail.as_deref().unwrap().contains("3 records"),
            "{:?}",
            r[2]
        );
    }

    #[test]
    fn without_package_facts_everything_is_ng_not_assessed() {
        let d = parse_file(b"nginx >= 1\nbash=5\n", "s").unwrap();
        let r = check(&d, &Facts::default());
        assert_eq!(r.len(), 2);
        assert!(
            r.iter()
                .all(|r| r.status == ReqStatus::Ng && r.actual == NOT_ASSESSED)
        );
    }
}
