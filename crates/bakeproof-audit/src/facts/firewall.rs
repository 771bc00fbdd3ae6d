//! Firewall enablement: firewalld, nftables, ufw, iptables services.
//! OWNER: helper i14-facts.
//!
//! A firewall is enabled when its unit starts at boot: enabled in systemd's
//! sense (from [`super::systemd::UnitFacts`] when the caller has them, else
//! this module's own small reading of the `*.wants/` and `*.requires/`
//! symlinks, below) and not masked. ufw also needs `ENABLED=yes` in
//! /etc/ufw/ufw.conf: its unit starts on every Debian/Ubuntu image and
//! loads rules only when ufw is enabled (`ufw enable` writes that line).

use bakeproof_index::{FileKind, ReadOnlyTree};

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

/// Unit directories whose `*.wants/`/`*.requires/` links start a unit at
/// boot, and whose `UNIT -> /dev/null` masks it (systemd's search path
/// for the system manager, configuration first).
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

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

/// A unit's boot state from the root's symlinks: `masked`, `enabled` or
/// `disabled`. Private reading for firewall units only, kept until the
/// caller passes i14-config's [`UnitFacts`].
fn unit_state(tree: &dyn ReadOnlyTree, unit: &str) -> Result<&'static str, AuditError> {
    let err = |what: String| move |source| AuditError::Read { what, source };
    for dir in UNIT_DIRS {
        let p = format!("{dir}/{unit}");
        if tree.kind_of(p.as_bytes()).map_err(err(p.clone()))? == Some(FileKind::Symlink) {
            let target = tree.read_link(p.as_bytes()).map_err(err(p.clone()))?;
            if target == b"/dev/null" {
                return Ok("masked");
            }
        }
    }
    for dir in UNIT_DIRS {
        let names = match tree.read_dir(dir.as_bytes()) {
            Ok(n) => n,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(err(dir.to_string())(e)),
        };
        for n in names {
            if !(n.ends_with(b".wants") || n.ends_with(b".requires")) {
                continue;
            }
            let sub = [dir.as_bytes(), b"/", &n].concat();
            let links = match tree.read_dir(&sub) {
                Ok(l) => l,
                // A `.wants` that is not a directory, or vanished.
                Err(_) => continue,
            };
            for l in links {
                let p = [&sub[..], b"/", &l].concat();
                if l == unit.as_bytes() {
                    return Ok("enabled");
                }
                // A link of another name to the unit (an instance or an
                // alias someone made by hand).
                if let Ok(t) = tree.read_link(&p)
                    && t.rsplit(|&b| b == b'/').next() == Some(unit.as_bytes())
                {
                    return Ok("enabled");
                }
            }
        }
    }
    Ok("disabled")
}

/// Firewall enablement of a root. `units`: systemd's unit states when the
/// caller has read them (`facts::systemd`), else read here.
pub fn read(
    tree: &dyn ReadOnlyTree,
    units: Option<&UnitFacts>,
) -> Result<FirewallFact, AuditError> {
    let mut f = FirewallFact::default();
    for (name, unit) in FIREWALL_UNITS {
        let state = match units {
            Some(u) => match u.states.get(*unit).map(String::as_str) {
                Some("enabled" | "enabled-runtime") => "enabled",
                Some("masked" | "masked-runtime") => "masked",
                _ => "disabled",
            },
            None => unit_state(tree, unit)?,
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
