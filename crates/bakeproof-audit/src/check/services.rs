//! `[services]` requirements: units that must be enabled / must not be,
//! against systemd's own enablement (`systemctl --root list-unit-files`).
//! Kind `service`, rules `enabled` and `disabled`.
//!
//! A unit named by an alias (`sshd` on Debian is `ssh.service`'s alias)
//! is judged by the unit it names. `enabled` means `enabled`:
//! `enabled-runtime` (links under `/run`) is not what the booted image has.

use crate::design::{Design, Located};
use crate::facts::Facts;
use crate::facts::systemd::{UnitFacts, unit_name};
use crate::report::{ReqStatus, Requirement};

pub fn check(design: &Design, facts: &Facts) -> Vec<Requirement> {
    let mut out = Vec::new();
    for req in &design.services_enabled {
        out.push(one(req, facts.units.as_ref(), true));
    }
    for req in &design.services_disabled {
        out.push(one(req, facts.units.as_ref(), false));
    }
    out
}

fn one(req: &Located<String>, units: Option<&UnitFacts>, want_enabled: bool) -> Requirement {
    let name = unit_name(&req.value);
    let mut r = Requirement {
        kind: "service".to_string(),
        name: name.clone(),
        rule: Some(if want_enabled { "enabled" } else { "disabled" }.to_string()),
        expected: if want_enabled {
            "enabled"
        } else {
            "not enabled"
        }
        .to_string(),
        actual: String::new(),
        status: ReqStatus::Ng,
        detail: None,
        source: Some(req.source.clone()),
    };
    let Some(units) = units else {
        r.actual = "not assessed".to_string();
        r.detail = Some("the source has no systemd unit directories to read".to_string());
        return r;
    };
    match units.resolved_state(&name) {
        None => {
            r.actual = "not installed".to_string();
            r.status = if want_enabled {
                ReqStatus::Ng
            } else {
                ReqStatus::Ok
            };
        }
        Some((resolved, state)) => {
            let enabled = state == "enabled";
            r.actual = state.to_string();
            if resolved != name {
                r.detail = Some(format!("{name} is an alias of {resolved}"));
            }
            r.status = if enabled == want_enabled {
                ReqStatus::Ok
            } else {
                ReqStatus::Ng
            };
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceLocation;

    fn loc(v: &str) -> Located<String> {
        Located {
            value: v.to_string(),
            source: SourceLocation {
                file: "design.toml".to_string(),
                line: Some(7),
            },
        }
    }

    #[test]
    fn enabled_disabled_alias_missing() {
        let mut units = UnitFacts::default();
        for (n, s) in [
            ("ssh.service", "enabled"),
            ("sshd.service", "alias"),
            ("telnet.socket", "masked"),
            ("rsync.service", "disabled"),
            ("debug.service", "enabled-runtime"),
        ] {
            units.states.insert(n.to_string(), s.to_string());
        }
        units
            .aliases
            .insert("sshd.service".to_string(), "ssh.service".to_string());
        let facts = Facts {
            units: Some(units),
            ..Facts::default()
        };
        let design = Design {
            services_enabled: vec![loc("sshd"), loc("rsync"), loc("nginx"), loc("debug")],
            services_disabled: vec![loc("telnet.socket"), loc("ssh.service"), loc("absent")],
            ..Design::default()
        };
        let r = check(&design, &facts);
        let st: Vec<(String, ReqStatus)> = r.iter().map(|r| (r.name.clone(), r.status)).collect();
        assert_eq!(
            st,
            vec![
                ("sshd.service".to_string(), ReqStatus::Ok),
                ("rsync.service".to_string(), ReqStatus::Ng),
                ("nginx.service".to_string(), ReqStatus::Ng),
                ("debug.service".to_string(), ReqStatus::Ng),
                ("telnet.socket".to_string(), ReqStatus::Ok),
                ("ssh.service".to_string(), ReqStatus::Ng),
                ("absent.service".to_string(), ReqStatus::Ok),
            ]
        );
        assert_eq!(
            r[0].detail.as_deref(),
            Some("sshd.service is an alias of ssh.service")
        );
        assert_eq!(r[2].actual, "not installed");
        let none = check(&design, &Facts::default());
        assert!(
            none.iter()
                .all(|r| r.status == ReqStatus::Ng && r.actual == "not assessed")
        );
    }
}
