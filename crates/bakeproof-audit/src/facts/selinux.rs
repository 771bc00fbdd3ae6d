//! SELinux mode from /etc/selinux/config (and, live, /sys/fs/selinux).
//!
//! Read as libselinux's `selinux_getenforcemode` reads the file: lines
//! starting with `SELINUX=` (no leading blanks), the value compared
//! case-insensitively with `enforcing`, `permissive`, `disabled`; the first
//! such line counts (libselinux stops there). `SELINUXTYPE=` is read the same way. A root without the file boots
//! with SELinux disabled (libselinux's and systemd's reading of a missing
//! configuration). The kernel command line (`selinux=0`, `enforcing=0`) is
//! not read: docs/audit.md says so.

use bakeproof_index::ReadOnlyTree;

use crate::AuditError;

/// Largest /etc/selinux/config read.
pub const SELINUX_CONFIG_LIMIT: u64 = 1 << 20;

pub const SELINUX_CONFIG: &str = "/etc/selinux/config";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelinuxFact {
    /// `SELINUX=` from the config, lower-case.
    pub configured: Option<String>,
    /// `SELINUXTYPE=` (`targeted`, `mls`, ...), as written.
    pub policy_type: Option<String>,
    /// Whether /etc/selinux/config exists.
    pub config_present: bool,
}

impl SelinuxFact {
    /// The mode the image boots in as far as its configuration says:
    /// `enforcing`, `permissive` or `disabled` (no configuration, or a
    /// `SELINUX=` value libselinux does not know, which it treats as
    /// disabled).
    pub fn effective_mode(&self) -> &str {
        match self.configured.as_deref() {
            Some(m @ ("enforcing" | "permissive" | "disabled")) => m,
            _ => "disabled",
        }
    }
}

fn tag_value(line: &[u8], tag: &[u8]) -> Option<String> {
    let v = line.strip_prefix(tag)?;
    let v = String::from_utf8_lossy(v);
    // libselinux compares the value's prefix; trailing blanks and CR are
    // not part of the mode.
    Some(v.trim().trim_matches('"').to_string())
}

/// Parses /etc/selinux/config bytes.
pub fn parse_config(bytes: &[u8]) -> SelinuxFact {
    let mut f = SelinuxFact {
        config_present: true,
        ..SelinuxFact::default()
    };
    for l in bytes.split(|&b| b == b'\n') {
        if f.configured.is_none()
            && let Some(v) = tag_value(l, b"SELINUX=")
        {
            let lower = v.to_ascii_lowercase();
            // libselinux: strncasecmp(value, "enforcing", len("enforcing")).
            let mode = ["enforcing", "permissive", "disabled"]
                .into_iter()
                .find(|m| lower.starts_with(m))
                .map_or(lower.clone(), str::to_string);
            f.configured = Some(mode);
        } else if f.policy_type.is_none()
            && let Some(v) = tag_value(l, b"SELINUXTYPE=")
        {
            f.policy_type = Some(v);
        }
    }
    f
}

/// SELinux as the root configures it (`config_present` false when it has
/// no /etc/selinux/config).
pub fn read(tree: &dyn ReadOnlyTree) -> Result<SelinuxFact, AuditError> {
    Ok(
        match super::accounts::optional(tree, SELINUX_CONFIG, SELINUX_CONFIG_LIMIT)? {
            Some(b) => parse_config(&b),
            None => SelinuxFact::default(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_forms() {
        let f = parse_config(
            b"# SELINUX=disabled\nSELINUX=Enforcing\r\nSELINUXTYPE=targeted\nSELINUX=permissive\n",
        );
        assert_eq!(f.configured.as_deref(), Some("enforcing"));
        assert_eq!(f.policy_type.as_deref(), Some("targeted"));
        assert_eq!(f.effective_mode(), "enforcing");
        // Leading blanks: libselinux does not see the line.
        let f = parse_config(b"  SELINUX=enforcing\n");
        assert_eq!(f.configured, None);
        assert_eq!(f.effective_mode(), "disabled");
        let f = parse_config(b"SELINUX=bogus\n");
        assert_eq!(f.effective_mode(), "disabled");
        assert_eq!(SelinuxFact::default().effective_mode(), "disabled");
    }
}
