//! Firewall enablement: firewalld, nftables, ufw, iptables services.
//!
//! A firewall is enabled when its unit starts at boot: enabled in systemd's
//! sense ([`super::systemd::UnitFacts`], the audit's one reading of the
//! unit links) and not masked. ufw also needs `ENABLED=yes` in
//! /etc/ufw/ufw.conf: its unit starts on every Debian/Ubuntu image and
//! loads rules only when ufw is enabled (`ufw enable` writes that line).

use bakeproof_index::ReadOnlyTree;

use super::systemd::UnitFacts;
use crate::AuditError;

/// The firewall services recognised: (name in the report, unit).
pub const FIREWALL_UNITS: &[(&str, &str)] = &[
    ("firewalld", "firewalld.service"),
    ("nftables", "nftables.service"),
    ("ufw", "ufw.service"),
    ("iptables", "iptables.service"),
    ("ip6tables", "ip6tables.service"),
    ("netfilter-persistent", "netfilter-persistent.service"),
];

pub const UFW_CONF: &str = "/etc/ufw/ufw.conf";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallFact {
    /// Firewall services enabled at boot.
    pub enabled: Vec<String>,
    /// Why a firewall present is not counted (`ufw.service enabled, but
    /// /etc/ufw/ufw.conf has ENABLED=no`, `firewalld.service masked`).
    pub notes: Vec<String>,
}

/// `ENABLED` of /etc/ufw/ufw.conf, as the shell that sources it sees it
/// (the last assignment, quotes removed).
pub fn ufw_enabled(conf: &[u8]) -> bool {
    let mut v = None;
    for l in conf.split(|&b| b == b'\n') {
        let l = String::from_utf8_lossy(l);
        if let Some(rest) = l.trim().strip_prefix("ENABLED=") {
            v = Some(rest.trim().trim_matches(['"', '\'']).to_ascii_lowercase());
        }
    }
    v.as_deref() == Some("yes")
}

/// Firewall enablement of a root whose systemd unit states are `units`
/// (`facts::systemd::read`).
pub fn read(tree: &dyn ReadOnlyTree, units: &UnitFacts) -> Result<FirewallFact, AuditError> {
    let mut f = FirewallFact::default();
    for (name, unit) in FIREWALL_UNITS {
        let state = match units.states.get(*unit).map(String::as_str) {
            Some("enabled" | "enabled-runtime") => "enabled",
            Some("masked" | "masked-runtime") => "masked",
            _ => "disabled",
        };
        match state {
            "enabled" if *name == "ufw" => {
                match super::accounts::optional(tree, UFW_CONF, 1 << 20)? {
                    Some(c) if ufw_enabled(&c) => f.enabled.push(name.to_string()),
                    Some(_) => f.notes.push(format!(
                        "{unit} enabled, but {UFW_CONF} does not say ENABLED=yes"
                    )),
                    None => f
                        .notes
                        .push(format!("{unit} enabled, but there is no {UFW_CONF}")),
                }
            }
            "enabled" => f.enabled.push(name.to_string()),
            "masked" => f.notes.push(format!("{unit} masked")),
            _ => {}
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufw_conf() {
        assert!(ufw_enabled(b"# ENABLED=no\nENABLED=no\nENABLED=\"yes\"\n"));
        assert!(!ufw_enabled(b"ENABLED=yes\nENABLED=no\n"));
        assert!(!ufw_enabled(b""));
    }
}
