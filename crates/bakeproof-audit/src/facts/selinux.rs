//! SELinux mode from /etc/selinux/config (and, live, /sys/fs/selinux).
//! OWNER: helper i14-facts.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelinuxFact {
    /// `SELINUX=` from the config, lower-case.
    pub configured: Option<String>,
}
