//! The structured design document (TOML).
//!
//! ```toml
//! [design]
//! id = "SYS-2025-001"
//! title = "Web server golden image"
//!
//! [packages]
//! required = ["nginx >= 1.24.0", "openssl >= 3.0.0, < 4", "curl"]
//! approved = ["nginx-1.24.0-1.amzn2023.0.2.x86_64", "bash=5.2.15-3"]
//! approved_only = true
//! forbidden = ["telnet-server", "openssl < 3"]
//!
//! [services]
//! enabled = ["sshd.service", "chronyd.service"]
//! disabled = ["telnet.socket"]
//!
//! [sshd]
//! PermitRootLogin = "no"
//! PasswordAuthentication = "no"
//!
//! [accounts]
//! only_root_uid0 = true
//! no_empty_passwords = true
//! system_accounts_locked = true
//!
//! [selinux]
//! mode = "enforcing"
//!
//! [firewall]
//! enabled = true
//!
//! [kernel]
//! version = ">= 6.1"
//!
//! [system]
//! arch = "x86_64"
//! os_id = "amzn"
//! os_version = ">= 2023"
//! ```
//! Every key is checked: an unknown one is an error naming file and line.

use std::collections::BTreeMap;

use ::toml::Spanned;
use serde::Deserialize;

use super::{Design, Located, PackageRule, plain};
use crate::constraint::Constraint;
use crate::error::DesignError;
use crate::report::SourceLocation;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    design: Option<DesignSection>,
    packages: Option<Packages>,
    services: Option<Services>,
    sshd: Option<BTreeMap<Spanned<String>, Spanned<::toml::Value>>>,
    accounts: Option<Accounts>,
    selinux: Option<Selinux>,
    firewall: Option<Firewall>,
    kernel: Option<Kernel>,
    system: Option<System>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignSection {
    id: Option<String>,
    title: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Packages {
    #[serde(default)]
    required: Vec<Spanned<String>>,
    #[serde(default)]
    approved: Vec<Spanned<String>>,
    #[serde(default)]
    approved_only: Option<Spanned<bool>>,
    #[serde(default)]
    forbidden: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Services {
    #[serde(default)]
    enabled: Vec<Spanned<String>>,
    #[serde(default)]
    disabled: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accounts {
    only_root_uid0: Option<Spanned<bool>>,
    no_empty_passwords: Option<Spanned<bool>>,
    system_accounts_locked: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Selinux {
    mode: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Firewall {
    enabled: Spanned<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Kernel {
    version: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct System {
    arch: Option<Spanned<String>>,
    os_id: Option<Spanned<String>>,
    os_version: Option<Spanned<String>>,
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses a TOML design document.
pub fn parse(text: &str, file: &str) -> Result<Design, DesignError> {
    let doc: Doc = ::toml::from_str(text).map_err(|e| DesignError {
        file: file.into(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let loc = |span: std::ops::Range<usize>| SourceLocation {
        file: file.to_owned(),
        line: Some(line_of(text, span.start)),
    };
    let err = |span: std::ops::Range<usize>, message: String| DesignError {
        file: file.into(),
        line: Some(line_of(text, span.start)),
        message,
    };
    let located = |s: Spanned<String>| Located {
        source: loc(s.span()),
        value: s.into_inner(),
    };
    let mut d = Design::default();
    if let Some(s) = doc.design {
        d.id = s.id.filter(|v| !v.trim().is_empty());
        d.title = s.title.filter(|v| !v.trim().is_empty());
    }
    if let Some(p) = doc.packages {
        for r in p.required {
            let span = r.span();
            let sub = plain::parse(r.get_ref(), file).map_err(|e| err(span.clone(), e.message))?;
            if !sub.approved.is_empty() || sub.required.len() != 1 {
                return Err(err(
                    span,
                    format!(
                        "[packages] required: {:?} is not `NAME [OP VERSION]...`",
                        r.get_ref()
                    ),
                ));
            }
            d.required.extend(sub.required.into_iter().map(|mut rule| {
                rule.source = loc(span.clone());
                rule
            }));
        }
        for a in p.approved {
            let span = a.span();
            let sub = plain::parse(a.get_ref(), file).map_err(|e| err(span.clone(), e.message))?;
            if sub.approved.len() != 1 || !sub.required.is_empty() {
                return Err(err(
                    span,
                    format!(
                        "[packages] approved: {:?} is not a NEVRA or NAME=VERSION",
                        a.get_ref()
                    ),
                ));
            }
            d.approved.extend(sub.approved.into_iter().map(|mut ap| {
                ap.source = loc(span.clone());
                ap
            }));
        }
        if let Some(ao) = p.approved_only {
            d.approved_only = *ao.get_ref();
        }
        for f in p.forbidden {
            let span = f.span();
            let sub = plain::parse(f.get_ref(), file).map_err(|e| err(span.clone(), e.message))?;
            // A forbidden NEVRA or name=version is that exact version.
            let rules: Vec<PackageRule> = sub
                .required
                .into_iter()
                .chain(sub.approved.into_iter().map(|a| PackageRule {
                    name: a.name,
                    constraints: vec![Constraint {
                        op: crate::constraint::Op::Eq,
                        version: a.version,
                    }],
                    source: a.source,
                }))
                .collect();
            if rules.len() != 1 {
                return Err(err(
                    span,
                    format!("[packages] forbidden: {:?} is not one package", f.get_ref()),
                ));
            }
            d.forbidden.extend(rules.into_iter().map(|mut rule| {
                rule.source = loc(span.clone());
                rule
            }));
        }
    }
    if let Some(s) = doc.services {
        for (list, out) in [
            (s.enabled, &mut d.services_enabled),
            (s.disabled, &mut d.services_disabled),
        ] {
            for u in list {
                if u.get_ref().trim().is_empty() || u.get_ref().contains(char::is_whitespace) {
                    return Err(err(u.span(), format!("bad unit name {:?}", u.get_ref())));
                }
                out.push(located(u));
            }
        }
    }
    if let Some(map) = doc.sshd {
        for (k, v) in map {
            let key = k.get_ref().to_ascii_lowercase();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(err(k.span(), format!("bad sshd keyword {:?}", k.get_ref())));
            }
            // `Port = 22`, `X11Forwarding = false` are what people write:
            // numbers as written, booleans as sshd's `yes`/`no`.
            let value = match v.get_ref() {
                ::toml::Value::String(s) => s.clone(),
                ::toml::Value::Integer(n) => n.to_string(),
                ::toml::Value::Boolean(b) => if *b { "yes" } else { "no" }.to_owned(),
                _ => {
                    return Err(err(
                        v.span(),
                        format!(
                            "[sshd] {}: expected a string, number or boolean",
                            k.get_ref()
                        ),
                    ));
                }
            };
            d.sshd.push(Located {
                source: loc(k.span()),
                value: (key, value),
            });
        }
        // Keep document order (the map sorted by keyword).
        d.sshd.sort_by_key(|l| l.source.line);
    }
    if let Some(a) = doc.accounts {
        let on = |v: Option<Spanned<bool>>| v.filter(|b| *b.get_ref()).map(|b| loc(b.span()));
        d.accounts.only_root_uid0 = on(a.only_root_uid0);
        d.accounts.no_empty_passwords = on(a.no_empty_passwords);
        d.accounts.system_accounts_locked = on(a.system_accounts_locked);
    }
    if let Some(s) = doc.selinux {
        let mode = s.mode.get_ref().to_ascii_lowercase();
        if !matches!(mode.as_str(), "enforcing" | "permissive" | "disabled") {
            return Err(err(
                s.mode.span(),
                format!(
                    "[selinux] mode {:?}: expected enforcing, permissive or disabled",
                    s.mode.get_ref()
                ),
            ));
        }
        d.selinux = Some(Located {
            source: loc(s.mode.span()),
            value: mode,
        });
    }
    if let Some(f) = doc.firewall {
        d.firewall_enabled = Some(Located {
            source: loc(f.enabled.span()),
            value: *f.enabled.get_ref(),
        });
    }
    let constraints =
        |s: Spanned<String>, what: &str| -> Result<Located<Vec<Constraint>>, DesignError> {
            let list = Constraint::parse_list(s.get_ref())
                .map_err(|e| err(s.span(), format!("{what}: {e}")))?;
            if list.is_empty() {
                return Err(err(s.span(), format!("{what}: no constraint")));
            }
            Ok(Located {
                source: loc(s.span()),
                value: list,
            })
        };
    if let Some(k) = doc.kernel {
        d.kernel = Some(constraints(k.version, "[kernel] version")?);
    }
    if let Some(s) = doc.system {
        if let Some(a) = s.arch {
            if a.get_ref().trim().is_empty() {
                return Err(err(a.span(), "[system] arch: empty".to_owned()));
            }
            d.arch = Some(located(a));
        }
        if let Some(o) = s.os_id {
            if o.get_ref().trim().is_empty() {
                return Err(err(o.span(), "[system] os_id: empty".to_owned()));
            }
            d.os_id = Some(located(o));
        }
        if let Some(v) = s.os_version {
            d.os_version = Some(constraints(v, "[system] os_version")?);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[design]
id = "SYS-2025-001"
title = "Web"

[packages]
required = ["nginx >= 1.24.0", "openssl >= 3.0.0, < 4", "curl"]
approved = ["nginx-1.24.0-1.amzn2023.0.2.x86_64", "bash=5.2.15-3"]
approved_only = true
forbidden = ["telnet-server", "openssl < 3"]

[services]
enabled = ["sshd.service"]
disabled = ["telnet.socket"]

[sshd]
PermitRootLogin = "no"
PasswordAuthentication = false
Port = 22

[accounts]
only_root_uid0 = true
no_empty_passwords = true
system_accounts_locked = false

[selinux]
mode = "Enforcing"

[firewall]
enabled = true

[kernel]
version = ">= 6.1"

[system]
arch = "x86_64"
os_id = "amzn"
os_version = ">= 2023"
"#;

    #[test]
    fn every_section() {
        let d = parse(FULL, "d.toml").unwrap();
        assert_eq!(d.id.as_deref(), Some("SYS-2025-001"));
        assert_eq!(d.required.len(), 3);
        assert_eq!(d.required[1].constraints.len(), 2);
        assert_eq!(d.required[0].source.line, Some(7));
        assert_eq!(d.approved.len(), 2);
        assert!(d.approved_only);
        assert_eq!(d.forbidden.len(), 2);
        assert_eq!(d.forbidden[1].constraints[0].version, "3");
        assert_eq!(d.services_enabled[0].value, "sshd.service");
        assert_eq!(d.services_disabled[0].source.line, Some(14));
        assert_eq!(
            d.sshd[0].value,
            ("permitrootlogin".to_owned(), "no".to_owned())
        );
        assert_eq!(d.sshd[0].source.line, Some(17));
        assert_eq!(d.sshd[1].value.1, "no");
        assert_eq!(d.sshd[2].value, ("port".to_owned(), "22".to_owned()));
        assert!(d.accounts.only_root_uid0.is_some());
        assert!(d.accounts.system_accounts_locked.is_none());
        assert_eq!(d.selinux.unwrap().value, "enforcing");
        assert!(d.firewall_enabled.unwrap().value);
        assert_eq!(d.kernel.unwrap().value[0].version, "6.1");
        assert_eq!(d.arch.unwrap().value, "x86_64");
        assert_eq!(d.os_version.unwrap().source.line, Some(38));
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, line, needle) in [
            (
                "[packages]\nrequired = [\"a\"]\nrequird = [\"b\"]\n",
                3,
                "unknown field `requird`",
            ),
            (
                "[design]\nid = \"x\"\n[nonsense]\n",
                3,
                "unknown field `nonsense`",
            ),
            (
                "[packages]\nrequired = [\n  \"a >= 1\",\n  \"b => 2\",\n]\n",
                4,
                "unknown operator",
            ),
            ("[kernel]\nversion = \">= 6.1$\"\n", 2, "unparsable version"),
            ("[selinux]\nmode = \"strict\"\n", 2, "expected enforcing"),
            (
                "[packages]\napproved = [\"nginx >= 1\"]\n",
                2,
                "not a NEVRA",
            ),
            ("[firewall]\nenabled = \"yes\"\n", 2, "bool"),
            ("[accounts]\nno_uid0 = true\n", 2, "unknown field"),
            ("x = [", 1, ""),
            (
                "[sshd]\nPort = [22]\n",
                2,
                "expected a string, number or boolean",
            ),
        ] {
            let e = parse(text, "d.toml").unwrap_err();
            assert_eq!(e.line, Some(line), "{text:?}: {e}");
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("d.toml:{line}: ")), "{shown}");
            assert!(shown.contains(needle), "{text:?}: {shown}");
        }
    }
}
