//! What only a running system has (`--live`): listening sockets from
//! /proc/net/{tcp,tcp6,udp,udp6}, the running SELinux mode.
//!
//! Only for the running system's own `/` ([`ReadOnlyTree::is_running_system`]):
//! the sockets and the mode of the host are no fact about an image mounted
//! elsewhere, and [`read_running`] refuses that. Listening means what `ss -l`
//! lists: TCP sockets in state `LISTEN` (0A), UDP sockets unconnected
//! (state 07, `UNCONN`). Addresses as the kernel prints them (`%08X` of
//! the network-order word, per 32-bit word for IPv6), decoded in the host's
//! byte order. Each (proto, address, port) once, sorted.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use bakeproof_index::ReadOnlyTree;

use super::SocketFact;

/// Largest /proc/net table read (a host with 100 000 sockets has ~15 MB).
pub const PROC_NET_LIMIT: u64 = 256 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveFacts {
    pub listening: Vec<SocketFact>,
    /// `enforcing`, `permissive`, or `disabled` (no /sys/fs/selinux).
    pub selinux_running: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("--live reads the running system: the audited root {0} is not the running system's /")]
    NotRunningSystem(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Which table a /proc/net file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

impl Proto {
    pub const ALL: [Proto; 4] = [Proto::Tcp, Proto::Tcp6, Proto::Udp, Proto::Udp6];

    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Tcp6 => "tcp6",
            Proto::Udp => "udp",
            Proto::Udp6 => "udp6",
        }
    }

    fn v6(self) -> bool {
        matches!(self, Proto::Tcp6 | Proto::Udp6)
    }

    /// The state `ss -l` lists for this protocol.
    fn listen_state(self) -> u8 {
        match self {
            Proto::Tcp | Proto::Tcp6 => 0x0A,
            Proto::Udp | Proto::Udp6 => 0x07,
        }
    }
}

fn hex_word(s: &str) -> Option<[u8; 4]> {
    if s.len() != 8 {
        return None;
    }
    u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes)
}

/// `ADDR:PORT` of a /proc/net line.
fn address(s: &str, v6: bool) -> Option<(String, u16)> {
    let (a, p) = s.split_once(':')?;
    if p.len() != 4 {
        return None;
    }
    let port = u16::from_str_radix(p, 16).ok()?;
    let addr = if v6 {
        if a.len() != 32 || !a.is_ascii() {
            return None;
        }
        let mut b = [0u8; 16];
        for i in 0..4 {
            b[4 * i..4 * i + 4].copy_from_slice(&hex_word(&a[8 * i..8 * i + 8])?);
        }
        Ipv6Addr::from(b).to_string()
    } else {
        Ipv4Addr::from(hex_word(a)?).to_string()
    };
    Some((addr, port))
}

/// The listening sockets of one /proc/net table (header line skipped,
/// malformed lines ignored).
pub fn parse_proc_net(bytes: &[u8], proto: Proto) -> Vec<SocketFact> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line);
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        // sl local_address rem_address st ...
        let (Some(local), Some(st)) = (f.get(1), f.get(3)) else {
            continue;
        };
        if u8::from_str_radix(st, 16).ok() != Some(proto.listen_state()) {
            continue;
        }
        if let Some((address, port)) = address(local, proto.v6()) {
            out.push(SocketFact {
                proto: proto.name().to_string(),
                address,
                port,
            });
        }
    }
    out
}

/// The running SELinux mode from the content of /sys/fs/selinux/enforce.
pub fn selinux_mode_of_enforce(bytes: &[u8]) -> Option<String> {
    match String::from_utf8_lossy(bytes).trim() {
        "1" => Some("enforcing".into()),
        "0" => Some("permissive".into()),
        _ => None,
    }
}

fn read_host(path: &Path) -> Result<Option<Vec<u8>>, LiveError> {
    use std::io::Read as _;
    let err = |source| LiveError::Io {
        path: path.display().to_string(),
        source,
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e)),
    };
    let mut out = Vec::new();
    f.take(PROC_NET_LIMIT).read_to_end(&mut out).map_err(err)?;
    Ok(Some(out))
}

/// Live facts from a proc directory (`/proc` on the host) and an selinuxfs
/// mount (`/sys/fs/selinux`). The tables of a kernel without IPv6 are
/// absent, not an error.
pub fn read_from(proc_dir: &Path, selinuxfs: &Path) -> Result<LiveFacts, LiveError> {
    let mut listening = Vec::new();
    for proto in Proto::ALL {
        if let Some(b) = read_host(&proc_dir.join("net").join(proto.name()))? {
            listening.extend(parse_proc_net(&b, proto));
        }
    }
    listening.sort_by(|a, b| (&a.proto, a.port, &a.address).cmp(&(&b.proto, b.port, &b.address)));
    listening.dedup();
    let selinux_running = match read_host(&selinuxfs.join("enforce"))? {
        Some(b) => selinux_mode_of_enforce(&b),
        None => Some("disabled".into()),
    };
    Ok(LiveFacts {
        listening,
        selinux_running,
    })
}

/// Live facts of the running system; refused unless `tree` is its `/`.
pub fn read_running(tree: &dyn ReadOnlyTree) -> Result<LiveFacts, LiveError> {
    if !tree.is_running_system() {
        return Err(LiveError::NotRunningSystem(tree.describe()));
    }
    read_from(Path::new("/proc"), Path::new("/sys/fs/selinux"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tables() {
        let tcp = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:0277 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 1\n bad line\n";
        let s = parse_proc_net(tcp, Proto::Tcp);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].address.as_str(), s[0].port), ("0.0.0.0", 22));
        let tcp6 = b"hdr\n   0: 00000000000000000000000001000000:0CEA 00000000000000000000000000000000:0000 0A 0\n";
        let s = parse_proc_net(tcp6, Proto::Tcp6);
        if cfg!(target_endian = "little") {
            assert_eq!(s[0].address, "::1");
        }
        assert_eq!(s[0].port, 3306);
        assert!(parse_proc_net(b"x\n 0: 0:0 0:0 0A\n", Proto::Tcp).is_empty());
        assert!(parse_proc_net("h\n 0: é0000000:0016 x 07\n".as_bytes(), Proto::Udp6).is_empty());
    }

    #[test]
    fn refuses_a_root_that_is_not_the_running_system() {
        let d = tempfile::tempdir().expect("tmp");
        let root = bakeproof_index::Root::open(d.path()).expect("root");
        assert!(matches!(
            read_running(&root),
            Err(LiveError::NotRunningSystem(_))
        ));
    }
}
