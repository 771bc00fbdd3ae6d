//! `[sshd]` requirements: each keyword's effective value (as `sshd -T`
//! prints it for the default connection) against the design's. Kind
//! `sshd`, rule `value`.

use crate::design::Design;
use crate::facts::Facts;
use crate::facts::sshd::{self, SshdConfig};
use crate::report::{ReqStatus, Requirement};

/// One requirement per `[sshd]` entry of the design.
pub fn check(design: &Design, facts: &Facts) -> Vec<Requirement> {
    design
        .sshd
        .iter()
        .map(|req| {
            let (keyword, wanted) = &req.value;
            let mut r = Requirement {
                kind: "sshd".to_string(),
                name: keyword.to_ascii_lowercase(),
                rule: Some("value".to_string()),
                expected: wanted.clone(),
                actual: String::new(),
                status: ReqStatus::Ng,
                detail: None,
                source: Some(req.source.clone()),
            };
            let (name, expected) = match sshd::normalize(keyword, wanted) {
                Ok(n) => n,
                Err(e) => {
                    r.actual = "not assessed".to_string();
                    r.detail = Some(format!("the design's value is not one sshd takes: {e}"));
                    return r;
                }
            };
            r.name = name.clone();
            r.expected = expected.clone();
            match &facts.sshd {
                None => {
                    r.actual = "not assessed".to_string();
                    r.detail = Some("the source has no sshd configuration to read".to_string());
                }
                Some(cfg) => judge(&mut r, cfg, &name, &expected),
            }
            r
        })
        .collect()
}

fn judge(r: &mut Requirement, cfg: &SshdConfig, name: &str, expected: &str) {
    if let Some(e) = &cfg.error {
        r.actual = "invalid configuration".to_string();
        r.detail = Some(format!("sshd would not start: {e}"));
        return;
    }
    let actual = cfg.get(name).unwrap_or_else(|| "none".to_string());
    r.status = if actual == expected {
        ReqStatus::Ok
    } else {
        ReqStatus::Ng
    };
    let mut detail = match cfg.sources.get(name) {
        Some(at) => format!("set at {at}"),
        None => "built-in default".to_string(),
    };
    if cfg.unresolved.contains(name) {
        detail.push_str("; value as written (sshd expands it against its compiled-in list)");
    }
    r.actual = actual;
    r.detail = Some(detail);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::Located;
    use crate::report::SourceLocation;

    fn design(pairs: &[(&str, &str)]) -> Design {
        Design {
            sshd: pairs
                .iter()
                .map(|(k, v)| Located {
                    value: (k.to_string(), v.to_string()),
                    source: SourceLocation {
                        file: "design.toml".to_string(),
                        line: Some(3),
                    },
                })
                .collect(),
            ..Design::default()
        }
    }

    fn facts(text: &str) -> Facts {
        Facts {
            sshd: Some(sshd::parse_bytes("/etc/ssh/sshd_config", text.as_bytes())),
            ..Facts::default()
        }
    }

    #[test]
    fn effective_values_in_sshd_t_form() {
        let d = design(&[
            ("PermitRootLogin", "prohibit-password"),
            ("PasswordAuthentication", "no"),
            ("LoginGraceTime", "1m"),
        ]);
        let r = check(&d, &facts("PasswordAuthentication no\nLoginGraceTime 60\n"));
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|r| r.status == ReqStatus::Ok), "{r:#?}");
        assert_eq!(r[0].name, "permitrootlogin");
        assert_eq!(r[0].actual, "without-password");
        assert_eq!(r[0].detail.as_deref(), Some("built-in default"));
        assert_eq!(
            r[1].detail.as_deref(),
            Some("set at /etc/ssh/sshd_config:1")
        );
    }

    #[test]
    fn mismatch_invalid_and_missing() {
        let d = design(&[("PermitRootLogin", "no")]);
        let r = check(&d, &facts("PermitRootLogin yes\n"));
        assert_eq!((r[0].status, r[0].actual.as_str()), (ReqStatus::Ng, "yes"));
        let r = check(&d, &facts("PermitRootLogin no\nBogus 1\n"));
        assert_eq!(r[0].status, ReqStatus::Ng);
        assert_eq!(r[0].actual, "invalid configuration");
        let r = check(&d, &Facts::default());
        assert_eq!(
            (r[0].status, r[0].actual.as_str()),
            (ReqStatus::Ng, "not assessed")
        );
        let r = check(&design(&[("NoSuchKeyword", "x")]), &facts(""));
        assert_eq!(r[0].status, ReqStatus::Ng);
    }
}
