//! Every system fact of this helper's modules in one call, for
//! [`super::Facts::read`]: accounts, SELinux, firewall, kernels,
//! architecture and, with `live`, the running system's sockets and SELinux
//! mode.
//!
//! A fact that cannot be read is left `None` with a warning (its
//! requirements then say `not assessed`, never `ok`); `--live` on a root
//! that is not the running system is an error (a usage error for the CLI).

use bakeproof_index::ReadOnlyTree;

use super::{Facts, accounts, arch, firewall, kernel, live, selinux};

/// Fills `facts`' system half from `tree`. Call it after the packages and
/// units are read: the architecture prefers the package database's, the
/// firewall the systemd unit states.
pub fn read_into(
    tree: &dyn ReadOnlyTree,
    facts: &mut Facts,
    with_live: bool,
) -> Result<(), live::LiveError> {
    match accounts::read(tree) {
        Ok(Some(a)) => {
            for m in &a.malformed {
                facts.warnings.push(format!("malformed account line {m}"));
            }
            facts.accounts = Some(a);
        }
        Ok(None) => facts
            .warnings
            .push("no /etc/passwd: accounts not assessed".into()),
        Err(e) => facts.warnings.push(format!("accounts: {e}")),
    }
    match selinux::read(tree) {
        Ok(s) => facts.selinux = Some(s),
        Err(e) => facts.warnings.push(format!("SELinux: {e}")),
    }
    // The unit states Facts::read has read; read here for a caller that
    // has not.
    let read_units;
    let units = match &facts.units {
        Some(u) => u,
        None => {
            read_units = super::systemd::read(tree);
            &read_units
        }
    };
    match firewall::read(tree, units) {
        Ok(f) => facts.firewall = Some(f),
        Err(e) => facts.warnings.push(format!("firewall: {e}")),
    }
    match kernel::read(tree) {
        Ok(k) => facts.kernels = Some(k),
        Err(e) => facts.warnings.push(format!("kernels: {e}")),
    }
    facts.arch = arch::read(tree, facts.packages.as_ref()).map(|a| a.arch);
    if facts.arch.is_none() {
        facts
            .warnings
            .push("architecture: no package architecture and no ELF binary to read".into());
    }
    if with_live {
        facts.live = Some(live::read_running(tree)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_facts_are_warnings_not_passes() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        std::fs::create_dir_all(r.join("etc/shadow")).expect("mkdir");
        std::fs::write(r.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").expect("write");
        std::fs::create_dir_all(r.join("boot")).expect("mkdir");
        std::fs::write(r.join("boot/vmlinuz-6.1.0-1-amd64"), "k").expect("write");
        let root = bakeproof_index::Root::open(r).expect("root");
        let mut f = Facts::default();
        read_into(&root, &mut f, false).expect("offline");
        assert!(f.accounts.is_none(), "shadow a directory: not read");
        assert!(
            f.warnings.iter().any(|w| w.contains("/etc/shadow")),
            "{:?}",
            f.warnings
        );
        assert_eq!(f.selinux.as_ref().map(|s| s.config_present), Some(false));
        assert_eq!(f.kernels.as_ref().map(Vec::len), Some(1));
        assert!(f.live.is_none());
        assert!(matches!(
            read_into(&root, &mut f, true),
            Err(live::LiveError::NotRunningSystem(_))
        ));
    }
}
