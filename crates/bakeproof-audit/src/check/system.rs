//! Requirements on the system: accounts, SELinux, firewall, kernel,
//! architecture, OS (kinds `account`, `selinux`, `firewall`, `kernel`,
//! `arch`, `os`).
//!
//! A fact the source could not give (an SBOM, a file that could not be
//! read) never passes a requirement: it is `ng` with actual `not assessed`.

use bakeproof_pkgdb::Ecosystem;

use crate::constraint::Constraint;
use crate::design::{Design, Located};
use crate::facts::{AccountFact, Facts, arch::normalize};
use crate::report::{ConfigReport, Requirement, SourceLocation};

pub use crate::report::NOT_ASSESSED;

#[allow(clippy::too_many_arguments)]
fn req(
    kind: &str,
    name: &str,
    rule: Option<&str>,
    expected: String,
    actual: String,
    ok: bool,
    detail: Option<String>,
    source: &SourceLocation,
) -> Requirement {
    let source = Some(source.clone());
    Requirement::judged(kind, name, rule, expected, actual, ok, detail, source)
}

/// The version order kernels and `VERSION_ID` are compared in: the root's
/// package manager's (rpm's when the source has no packages: its
/// segment-wise order is the one kernel releases are written for).
fn ecosystem(facts: &Facts) -> Ecosystem {
    facts
        .packages
        .as_ref()
        .and_then(|p| p.packages.first())
        .map_or(Ecosystem::Rpm, |p| p.ecosystem)
}

fn constraints_text(c: &[Constraint]) -> String {
    c.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn names(a: &[&AccountFact]) -> String {
    a.iter()
        .map(|a| {
            format!(
                "{} (uid {}, {}, shell {:?})",
                a.name, a.uid, a.password, a.shell
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn accounts(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    type Rule = (
        &'static str,
        &'static str,
        fn(&crate::facts::accounts::AccountsFact, &AccountFact) -> bool,
    );
    let rules: [(Option<&SourceLocation>, Rule); 3] = [
        (
            design.accounts.only_root_uid0.as_ref(),
            ("only-root-uid0", "no account but root has UID 0", |_, a| {
                a.uid == 0 && a.name != "root"
            }),
        ),
        (
            design.accounts.no_empty_passwords.as_ref(),
            (
                "no-empty-passwords",
                "no account has an empty password",
                |_, a| a.password == "empty",
            ),
        ),
        (
            design.accounts.system_accounts_locked.as_ref(),
            (
                "system-accounts-locked",
                "system accounts (UID < UID_MIN, but root) have no login shell and no password",
                |f, a| {
                    a.uid < f.uid_min
                        && a.name != "root"
                        && (f.is_login_shell(&a.shell)
                            || a.password == "hash"
                            || a.password == "empty")
                },
            ),
        ),
    ];
    for (src, (name, expected, breaks)) in rules {
        let Some(src) = src else { continue };
        let Some(f) = &facts.accounts else {
            out.push(req(
                "account",
                name,
                None,
                expected.into(),
                NOT_ASSESSED.into(),
                false,
                Some("no /etc/passwd read".into()),
                src,
            ));
            continue;
        };
        let bad: Vec<&AccountFact> = f.accounts.iter().filter(|a| breaks(f, a)).collect();
        let mut detail = if bad.is_empty() {
            None
        } else {
            Some(names(&bad))
        };
        // A line glibc might read otherwise than this parser could hide an
        // account: the rule cannot be shown to hold.
        let unsure = !f.malformed.is_empty();
        if unsure {
            let m = format!("malformed lines not assessed: {}", f.malformed.join(", "));
            detail = Some(match detail {
                Some(d) => format!("{d}; {m}"),
                None => m,
            });
        }
        let actual = if bad.is_empty() {
            if unsure {
                NOT_ASSESSED.to_string()
            } else {
                "none".to_string()
            }
        } else {
            bad.iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(req(
            "account",
            name,
            None,
            expected.into(),
            actual,
            bad.is_empty() && !unsure,
            detail,
            src,
        ));
    }
}

fn selinux(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    let Some(Located { value, source }) = &design.selinux else {
        return;
    };
    let want = value.trim().to_ascii_lowercase();
    match &facts.selinux {
        None => out.push(req(
            "selinux",
            "mode",
            Some("configured"),
            want.clone(),
            NOT_ASSESSED.into(),
            false,
            None,
            source,
        )),
        Some(s) => {
            let actual = s.effective_mode().to_string();
            let detail = match &s.configured {
                _ if !s.config_present => {
                    "no /etc/selinux/config: SELinux is not enabled".to_string()
                }
                Some(c) => format!("SELINUX={c} in /etc/selinux/config"),
                None => "/etc/selinux/config has no SELINUX= line".to_string(),
            };
            out.push(req(
                "selinux",
                "mode",
                Some("configured"),
                want.clone(),
                actual.clone(),
                actual == want,
                Some(detail),
                source,
            ));
        }
    }
    if let Some(live) = &facts.live {
        let actual = live
            .selinux_running
            .clone()
            .unwrap_or_else(|| NOT_ASSESSED.into());
        out.push(req(
            "selinux",
            "running",
            Some("running"),
            want.clone(),
            actual.clone(),
            actual == want,
            Some("/sys/fs/selinux/enforce".into()),
            source,
        ));
    }
}

fn firewall(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    let Some(Located { value, source }) = &design.firewall_enabled else {
        return;
    };
    let expected = if *value {
        "enabled".to_string()
    } else {
        "none enabled".to_string()
    };
    let Some(f) = &facts.firewall else {
        out.push(req(
            "firewall",
            "enabled",
            None,
            expected,
            NOT_ASSESSED.into(),
            false,
            None,
            source,
        ));
        return;
    };
    let actual = if f.enabled.is_empty() {
        "none enabled".to_string()
    } else {
        f.enabled.join(", ")
    };
    let detail = (!f.notes.is_empty()).then(|| f.notes.join("; "));
    out.push(req(
        "firewall",
        "enabled",
        None,
        expected,
        actual,
        f.enabled.is_empty() != *value,
        detail,
        source,
    ));
}

fn kernel(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    let Some(Located { value, source }) = &design.kernel else {
        return;
    };
    let expected = constraints_text(value);
    let eco = ecosystem(facts);
    match &facts.kernels {
        None => out.push(req(
            "kernel",
            "kernel",
            Some("constraint"),
            expected,
            NOT_ASSESSED.into(),
            false,
            None,
            source,
        )),
        Some(k) if k.is_empty() => out.push(req(
            "kernel",
            "kernel",
            Some("constraint"),
            expected,
            "no kernel installed".into(),
            false,
            Some(
                "no /boot/vmlinuz-* and no module tree in /lib/modules or /usr/lib/modules".into(),
            ),
            source,
        )),
        Some(k) => {
            for k in k {
                let ok = value.iter().all(|c| c.matches(eco, &k.release));
                let detail = [k.image.as_deref(), k.modules.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(req(
                    "kernel",
                    &k.release,
                    Some("constraint"),
                    expected.clone(),
                    k.release.clone(),
                    ok,
                    Some(detail),
                    source,
                ));
            }
        }
    }
}

fn arch(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    let Some(Located { value, source }) = &design.arch else {
        return;
    };
    let want = normalize(value);
    let (actual, ok) = match &facts.arch {
        Some(a) => (normalize(a), normalize(a) == want),
        None => (NOT_ASSESSED.to_string(), false),
    };
    out.push(req(
        "arch",
        "architecture",
        None,
        want,
        actual,
        ok,
        None,
        source,
    ));
}

fn os(design: &Design, facts: &Facts, out: &mut Vec<Requirement>) {
    if let Some(Located { value, source }) = &design.os_id {
        let want = value.trim().to_ascii_lowercase();
        let actual = facts.os.as_ref().and_then(|o| o.id.clone());
        let ok = actual.as_deref() == Some(want.as_str());
        out.push(req(
            "os",
            "id",
            None,
            want,
            actual.unwrap_or_else(|| NOT_ASSESSED.into()),
            ok,
            None,
            source,
        ));
    }
    if let Some(Located { value, source }) = &design.os_version {
        let eco = ecosystem(facts);
        let actual = facts.os.as_ref().and_then(|o| o.version_id.clone());
        let ok = actual
            .as_deref()
            .is_some_and(|v| value.iter().all(|c| c.matches(eco, v)));
        out.push(req(
            "os",
            "version",
            Some("constraint"),
            constraints_text(value),
            actual.unwrap_or_else(|| NOT_ASSESSED.into()),
            ok,
            None,
            source,
        ));
    }
}

/// The requirements of kinds `account`, `selinux`, `firewall`, `kernel`,
/// `arch` and `os`, in that order.
pub fn check(design: &Design, facts: &Facts) -> Vec<Requirement> {
    let mut out = Vec::new();
    accounts(design, facts, &mut out);
    selinux(design, facts, &mut out);
    firewall(design, facts, &mut out);
    kernel(design, facts, &mut out);
    arch(design, facts, &mut out);
    os(design, facts, &mut out);
    out
}

/// Fills the configuration report's system half (OS, kernels,
/// architecture, system users, SELinux, firewall, listening sockets) and
/// says what the source could not tell.
pub fn configuration(facts: &Facts, c: &mut ConfigReport) {
    c.os = facts.os.clone();
    c.kernels = facts
        .kernels
        .iter()
        .flatten()
        .map(|k| k.release.clone())
        .collect();
    c.architecture = facts.arch.clone();
    if let Some(a) = &facts.accounts {
        c.system_users = a.system_accounts().cloned().collect();
    }
    c.selinux = facts
        .selinux
        .as_ref()
        .map(|s| s.effective_mode().to_string());
    if let Some(f) = &facts.firewall {
        c.firewall = f.enabled.clone();
    }
    let mut not = Vec::new();
    for (missing, what) in [
        (facts.accounts.is_none(), "accounts"),
        (facts.selinux.is_none(), "SELinux configuration"),
        (facts.firewall.is_none(), "firewall"),
        (facts.kernels.is_none(), "kernels"),
        (facts.arch.is_none(), "architecture"),
        (facts.os.is_none(), "os-release"),
    ] {
        if missing {
            not.push(what.to_string());
        }
    }
    match &facts.live {
        Some(l) => c.listening = Some(l.listening.clone()),
        None => {
            c.listening = None;
            not.push("listening sockets (offline: --live on the running system)".into());
            not.push("running SELinux mode (offline: --live on the running system)".into());
        }
    }
    for n in not {
        if !c.not_assessed.contains(&n) {
            c.not_assessed.push(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{accounts, firewall::FirewallFact, selinux::SelinuxFact};
    use crate::report::ReqStatus;

    fn loc() -> SourceLocation {
        SourceLocation {
            file: "d.toml".into(),
            line: Some(3),
        }
    }

    fn at<T>(value: T) -> Option<Located<T>> {
        Some(Located {
            value,
            source: loc(),
        })
    }

    fn status(r: &[Requirement]) -> Vec<(String, String, ReqStatus)> {
        r.iter()
            .map(|r| (r.kind.clone(), r.name.clone(), r.status))
            .collect()
    }

    #[test]
    fn rules_against_facts() {
        let mut d = Design::default();
        d.accounts.only_root_uid0 = Some(loc());
        d.accounts.no_empty_passwords = Some(loc());
        d.accounts.system_accounts_locked = Some(loc());
        d.selinux = at("Enforcing".to_string());
        d.firewall_enabled = at(true);
        d.arch = at("amd64".to_string());
        d.os_id = at("debian".to_string());
        let mut f = Facts {
            accounts: Some(accounts::from_bytes(
                b"root:x:0:0::/:/bin/bash\nsync:x:4:65534::/:/bin/sync\nd:x:2:2::/:/usr/sbin/nologin\nu:x:1000:1000::/:/bin/bash\n",
                Some(b"root:$6$h:1::\nsync:*:1::\nd:*:1::\nu:$6$h:1::\n"),
                None,
                None,
                Some(b"/bin/sh\n/bin/bash\n"),
            )),
            selinux: Some(SelinuxFact::default()),
            firewall: Some(FirewallFact {
                enabled: vec!["nftables".into()],
                notes: vec![],
            }),
            arch: Some("x86_64".into()),
            os: Some(crate::facts::OsFact {
                id: Some("debian".into()),
                ..Default::default()
            }),
            ..Facts::default()
        };
        let r = check(&d, &f);
        use ReqStatus::{Ng, Ok};
        let s = |k: &str, n: &str, st| (k.to_string(), n.to_string(), st);
        assert_eq!(
            status(&r),
            [
                s("account", "only-root-uid0", Ok),
                s("account", "no-empty-passwords", Ok),
                s("account", "system-accounts-locked", Ok),
                s("selinux", "mode", Ng),
                s("firewall", "enabled", Ok),
                s("arch", "architecture", Ok),
                s("os", "id", Ok),
            ]
        );
        assert_eq!(r[3].actual, "disabled");
        // The breaking cases: a second UID 0, an empty password, a system
        // account with a login shell; a firewall-free root; no facts at all.
        f.accounts = Some(accounts::from_bytes(
            b"root:x:0:0::/:/bin/bash\ntoor::0:0::/:/bin/sh\nd:x:2:2::/:/bin/sh\n",
            Some(b"root:*:1::\nd:*:1::\n"),
            None,
            None,
            None,
        ));
        f.firewall = Some(FirewallFact::default());
        f.selinux = Some(crate::facts::selinux::parse_config(b"SELINUX=enforcing\n"));
        let r = check(&d, &f);
        assert_eq!(r[0].actual, "toor");
        assert_eq!(r[1].actual, "toor");
        assert_eq!(r[2].actual, "toor, d");
        assert_eq!(r[3].status, Ok);
        assert_eq!(r[4].status, Ng);
        let r = check(&d, &Facts::default());
        assert!(r.iter().all(|r| r.status == Ng && r.actual == NOT_ASSESSED));
        // A malformed passwd line: the UID 0 rule cannot be shown to hold.
        f.accounts = Some(accounts::from_bytes(
            b"root:x:0:0::/:/bin/bash\nx:x: 0:0::/:/bin/sh\n",
            None,
            None,
            None,
            None,
        ));
        let r = check(&d, &f);
        assert_eq!((r[0].status, r[0].actual.as_str()), (Ng, NOT_ASSESSED));
    }
}
