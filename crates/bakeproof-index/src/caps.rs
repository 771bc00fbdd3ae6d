//! File capabilities: the `security.capability` extended attribute
//! (`struct vfs_cap_data`, linux/capability.h) and libcap's text form
//! (`cap_to_text` / `cap_from_text`, as rpm stores it in `FILECAPS`).
//!
//! Own code, not a crate: the `caps` crate manages *process* capability sets
//! through syscalls and parses neither the xattr nor libcap's text grammar;
//! linking libcap itself would break the static single binary. Both parsers
//! take bytes or text and return values, so they are fuzzed
//! (`fuzz/fuzz_targets/caps.rs`).

use std::fmt;

/// Capability names by number (linux/capability.h, 0 ..= 40), as libcap
/// prints them.
pub const CAP_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_REVISION_3: u32 = 0x0300_0000;

/// The three capability sets of a file, one bit per capability number (as
/// libcap's `cap_t` holds them after `cap_get_file`), plus the namespace
/// root id of a revision-3 attribute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileCaps {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    /// `rootid` of a `VFS_CAP_REVISION_3` attribute (0 otherwise).
    pub rootid: u32,
}

/// Why bytes or text are not file capabilities.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CapsError {
    #[error("security.capability: {0}")]
    Xattr(String),
    #[error("capability text {text:?}: {why}")]
    Text { text: String, why: String },
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl FileCaps {
    /// True when no capability is in any set.
    pub fn is_empty(&self) -> bool {
        self.effective == 0 && self.permitted == 0 && self.inheritable == 0
    }

    /// Parses a `security.capability` value as the kernel stores it: a
    /// little-endian `magic_etc` (revision and the effective flag), then one
    /// (revision 1) or two (revisions 2, 3) `{permitted, inheritable}` pairs
    /// of 32-bit words, then for revision 3 the `rootid`. The effective set
    /// is permitted | inheritable when the flag is set (libcap's reading).
    pub fn from_xattr(b: &[u8]) -> Result<FileCaps, CapsError> {
        if b.len() < 4 {
            return Err(CapsError::Xattr(format!("{} bytes, too short", b.len())));
        }
        let magic = le32(b, 0);
        let (words, want) = match magic & VFS_CAP_REVISION_MASK {
            VFS_CAP_REVISION_1 => (1, 12),
            VFS_CAP_REVISION_2 => (2, 20),
            VFS_CAP_REVISION_3 => (2, 24),
            r => return Err(CapsError::Xattr(format!("unknown revision {:#x}", r >> 24))),
        };
        if b.len() != want {
            return Err(CapsError::Xattr(format!(
                "revision {} needs {want} bytes, got {}",
                magic >> 24,
                b.len()
            )));
        }
        if magic & !(VFS_CAP_REVISION_MASK | VFS_CAP_FLAGS_EFFECTIVE) != 0 {
            return Err(CapsError::Xattr(format!("unknown flags in {magic:#x}")));
        }
        let mut c = FileCaps::default();
        for w in 0..words {
            c.permitted |= u64::from(le32(b, 4 + 8 * w)) << (32 * w);
            c.inheritable |= u64::from(le32(b, 8 + 8 * w)) << (32 * w);
        }
        if magic & VFS_CAP_FLAGS_EFFECTIVE != 0 {
            c.effective = c.permitted | c.inheritable;
        }
        if want == 24 {
            c.rootid = le32(b, 20);
        }
        Ok(c)
    }

    /// Parses libcap's text form (`cap_from_text`): whitespace-separated
    /// clauses `[CAPS] OP FLAGS [OP FLAGS]...`, CAPS a comma list of names
    /// (`cap_net_raw`, any case, with or without `cap_`), numbers, or `all`
    /// (an empty list before `=` also means all); OP `=` (set exactly),
    /// `+` (raise), `-` (lower); FLAGS any of `e`, `i`, `p`. The empty text
    /// is the empty set, like `=`.
    pub fn from_text(text: &str) -> Result<FileCaps, CapsError> {
        let err = |why: String| CapsError::Text {
            text: text.chars().take(200).collect(),
            why,
        };
        let mut c = FileCaps::default();
        for clause in text.split_ascii_whitespace() {
            let op_at = clause
                .find(['=', '+', '-'])
                .ok_or_else(|| err(format!("clause {clause:?} has no =, + or -")))?;
            let (list, mut rest) = clause.split_at(op_at);
            let mut mask = 0u64;
            if list.is_empty() || list.eq_ignore_ascii_case("all") {
                if list.is_empty() && !rest.starts_with('=') {
                    return Err(err(format!("clause {clause:?} names no capability")));
                }
                mask = (1u64 << CAP_NAMES.len()) - 1;
            } else {
                for name in list.split(',') {
                    mask |= 1u64
                        << cap_number(name)
                            .ok_or_else(|| err(format!("unknown capability {name:?}")))?;
                }
            }
            while let Some(op) = rest.chars().next() {
                rest = &rest[1..];
                let end = rest.find(['=', '+', '-']).unwrap_or(rest.len());
                let (flags, next) = rest.split_at(end);
                rest = next;
                let (mut e, mut i, mut p) = (false, false, false);
                for f in flags.chars() {
                    match f.to_ascii_lowercase() {
                        'e' => e = true,
                        'i' => i = true,
                        'p' => p = true,
                        other => return Err(err(format!("unknown flag {other:?}"))),
                    }
                }
                if op != '=' && flags.is_empty() {
                    return Err(err(format!("{op} without flags in {clause:?}")));
                }
                let sets = [
                    (&mut c.effective, e),
                    (&mut c.inheritable, i),
                    (&mut c.permitted, p),
                ];
                for (set, on) in sets {
                    match op {
                        '=' => *set = if on { *set | mask } else { *set & !mask },
                        '+' if on => *set |= mask,
                        '-' if on => *set &= !mask,
                        _ => {}
                    }
                }
            }
        }
        Ok(c)
    }
}

/// A capability number from a name (`cap_net_raw`, `CAP_NET_RAW`,
/// `net_raw`) or a decimal number below 64.
fn cap_number(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    if let Some(i) = CAP_NAMES
        .iter()
        .position(|n| *n == lower || n.strip_prefix("cap_") == Some(lower.as_str()))
    {
        return Some(i as u32);
    }
    lower.parse::<u32>().ok().filter(|n| *n < 64)
}

fn name_of(bit: u32) -> String {
    CAP_NAMES
        .get(bit as usize)
        .map(|s| (*s).to_string())
        .unwrap_or_else(|| bit.to_string())
}

impl fmt::Display for FileCaps {
    /// A text form `cap_from_text` reads back to the same sets: the
    /// capabilities grouped by their exact set of flags, each group one
    /// clause `NAMES=FLAGS` (flags in libcap's `e`, `i`, `p` order), groups
    /// ordered by their lowest capability number; `=` for the empty set.
    /// (libcap's own `cap_to_text` may group differently; compare values,
    /// not strings.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("=");
        }
        let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
        for bit in 0..64u32 {
            let m = 1u64 << bit;
            let mut flags = String::new();
            if self.effective & m != 0 {
                flags.push('e');
            }
            if self.inheritable & m != 0 {
                flags.push('i');
            }
            if self.permitted & m != 0 {
                flags.push('p');
            }
            if flags.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(g, _)| *g == flags) {
                Some((_, bits)) => bits.push(bit),
                None => groups.push((flags, vec![bit])),
            }
        }
        for (i, (flags, bits)) in groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let names: Vec<String> = bits.iter().map(|b| name_of(*b)).collect();
            write!(f, "{}={flags}", names.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xattr(magic: u32, pairs: &[(u32, u32)], rootid: Option<u32>) -> Vec<u8> {
        let mut v = magic.to_le_bytes().to_vec();
        for (p, i) in pairs {
            v.extend(p.to_le_bytes());
            v.extend(i.to_le_bytes());
        }
        if let Some(r) = rootid {
            v.extend(r.to_le_bytes());
        }
        v
    }

    #[test]
    fn xattr_revisions() {
        // cap_net_raw (13) =ep, revision 2.
        let c = FileCaps::from_xattr(&xattr(0x0200_0001, &[(1 << 13, 0), (0, 0)], None)).unwrap();
        assert_eq!(c.permitted, 1 << 13);
        assert_eq!(c.effective, 1 << 13);
        assert_eq!(c.inheritable, 0);
        assert_eq!(c.to_string(), "cap_net_raw=ep");
        // cap_bpf (39) =p lives in the second word.
        let c = FileCaps::from_xattr(&xattr(0x0200_0000, &[(0, 0), (1 << 7, 0)], None)).unwrap();
        assert_eq!(c.permitted, 1 << 39);
        assert_eq!(c.to_string(), "cap_bpf=p");
        // Revision 3 carries a root id.
        let c =
            FileCaps::from_xattr(&xattr(0x0300_0000, &[(1, 1), (0, 0)], Some(100_000))).unwrap();
        assert_eq!(c.rootid, 100_000);
        assert_eq!(c.to_string(), "cap_chown=ip");
        // Revision 1: one pair.
        let c = FileCaps::from_xattr(&xattr(0x0100_0000, &[(1 << 7, 0)], None)).unwrap();
        assert_eq!(c.to_string(), "cap_setuid=p");
        for bad in [
            vec![],
            vec![0, 0, 0, 2],
            xattr(0x0200_0000, &[(0, 0)], None),
            xattr(0x0400_0000, &[(0, 0), (0, 0)], None),
            xattr(0x0200_0002, &[(0, 0), (0, 0)], None),
        ] {
            assert!(FileCaps::from_xattr(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_grammar() {
        let t = |s: &str| FileCaps::from_text(s).unwrap();
        assert_eq!(t("cap_net_raw=ep"), t("cap_net_raw+ep"));
        assert_eq!(t("CAP_NET_RAW=pe").effective, 1 << 13);
        assert_eq!(
            t("cap_net_admin,cap_net_raw=ep").permitted,
            (1 << 12) | (1 << 13)
        );
        assert!(t("").is_empty());
        assert!(t("=").is_empty());
        let all = t("=ep");
        assert_eq!(all.permitted, (1u64 << 41) - 1);
        assert_eq!(all.inheritable, 0);
        let c = t("all=ep cap_sys_admin-e");
        assert_eq!(c.effective, ((1u64 << 41) - 1) & !(1 << 21));
        let c = t("cap_setuid,cap_setgid=ep cap_chown=i");
        assert_eq!(c.to_string(), "cap_chown=i cap_setgid,cap_setuid=ep");
        assert_eq!(t(&c.to_string()), c);
        assert_eq!(t("net_raw,7=p").permitted, (1 << 13) | (1 << 7));
        for bad in [
            "cap_nope=p",
            "cap_net_raw",
            "cap_net_raw=x",
            "+p",
            "cap_net_raw+",
        ] {
            assert!(FileCaps::from_text(bad).is_err(), "{bad}");
        }
    }
}
