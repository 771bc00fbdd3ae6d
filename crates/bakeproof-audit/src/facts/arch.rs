//! The image's architecture: package database, then ELF headers.
//!
//! Named as `uname -m` names it (`x86_64`, `aarch64`, ...): dpkg's `amd64`
//! is `x86_64`, `arm64` is `aarch64` ([`normalize`], also applied to what
//! the design asks for). From the package database: the architecture of
//! the packages that are not `all`/`noarch`, the most common one (a
//! multiarch Debian root with a few `i386` libraries is `amd64`). Without
//! packages: the ELF header (`e_machine`, with `EI_CLASS` and `EI_DATA`)
//! of `/bin/sh`, else of the first ELF file of a few well-known binaries,
//! read through the tree (a symlink is resolved inside the root).

use std::collections::BTreeMap;

use bakeproof_index::ReadOnlyTree;

use super::packages::PackageFacts;

/// Binaries whose ELF header names the architecture, in order.
pub const ELF_PROBES: &[&str] = &[
    "/bin/sh",
    "/usr/bin/sh",
    "/bin/bash",
    "/usr/bin/env",
    "/bin/ls",
    "/usr/bin/ls",
    "/sbin/init",
    "/usr/lib/systemd/systemd",
];

/// Largest binary read for its header.
pub const ELF_PROBE_LIMIT: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchFact {
    /// `uname -m` form.
    pub arch: String,
    /// Where it was read: `package database`, or the ELF file's path.
    pub source: String,
}

/// The `uname -m` name of a dpkg, rpm or uname architecture name.
pub fn normalize(arch: &str) -> String {
    let a = arch.trim().to_ascii_lowercase();
    match a.as_str() {
        "amd64" | "x86-64" | "x64" => "x86_64".into(),
        "arm64" | "aarch64" => "aarch64".into(),
        "i386" | "i486" | "i586" | "i686" | "x86" => "i686".into(),
        "armhf" | "armv7hl" | "armv7l" | "armv7" => "armv7l".into(),
        "ppc64el" | "ppc64le" => "ppc64le".into(),
        "riscv64" => "riscv64".into(),
        _ => a,
    }
}

/// The architecture an ELF header names (`uname -m` form), or `None` when
/// `bytes` do not start with one.
pub fn elf_arch(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return None;
    }
    let class64 = match bytes[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let machine = match bytes[5] {
        1 => u16::from_le_bytes([bytes[18], bytes[19]]),
        2 => u16::from_be_bytes([bytes[18], bytes[19]]),
        _ => return None,
    };
    let little = bytes[5] == 1;
    Some(
        match (machine, class64) {
            (62, true) => "x86_64",
            (62, false) => "x32",
            (3, _) => "i686",
            (183, _) => "aarch64",
            (40, _) => "armv7l",
            (243, true) => "riscv64",
            (243, false) => "riscv32",
            (21, _) if little => "ppc64le",
            (21, _) => "ppc64",
            (20, _) => "ppc",
            (22, true) => "s390x",
            (22, false) => "s390",
            (8, true) => "mips64",
            (8, false) => "mips",
            (258, _) => "loongarch64",
            (m, _) => return Some(format!("elf-machine-{m}")),
        }
        .to_string(),
    )
}

/// The most common architecture of the installed packages (not
/// `all`/`noarch`/`any`); ties go to the name sorting first.
pub fn of_packages(p: &PackageFacts) -> Option<String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for pkg in &p.packages {
        let a = pkg.arch.trim();
        if a.is_empty() || matches!(a, "all" | "noarch" | "any" | "(none)") {
            continue;
        }
        *count.entry(normalize(a)).or_default() += 1;
    }
    let max = count.values().copied().max()?;
    count.into_iter().find(|(_, n)| *n == max).map(|(a, _)| a)
}

/// The architecture of a root: from `packages` when given and they say,
/// else from the ELF probes.
pub fn read(tree: &dyn ReadOnlyTree, packages: Option<&PackageFacts>) -> Option<ArchFact> {
    if let Some(a) = packages.and_then(of_packages) {
        return Some(ArchFact {
            arch: a,
            source: "package database".into(),
        });
    }
    for p in ELF_PROBES {
        if let Ok(b) = tree.read_file(p.as_bytes(), ELF_PROBE_LIMIT)
            && let Some(a) = elf_arch(&b)
        {
            return Some(ArchFact {
                arch: a,
                source: (*p).to_string(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18] = 183;
        assert_eq!(elf_arch(&h).as_deref(), Some("aarch64"));
        h[5] = 2;
        h[18] = 0;
        h[19] = 22;
        assert_eq!(elf_arch(&h).as_deref(), Some("s390x"));
        assert_eq!(elf_arch(b"\x7fELF"), None);
        assert_eq!(elf_arch(b"#!/bin/sh\n"), None);
        assert_eq!(normalize("amd64"), "x86_64");
        assert_eq!(normalize("ARM64"), "aarch64");
    }

    /// This machine's own shell against `uname -m`.
    #[test]
    fn host_shell_matches_uname() {
        let Ok(out) = std::process::Command::new("uname").arg("-m").output() else {
            return;
        };
        let uname = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let root = bakeproof_index::Root::open("/").expect("/");
        let a = read(&root, None).expect("an ELF probe");
        assert_eq!(normalize(&a.arch), normalize(&uname), "{}", a.source);
    }
}
