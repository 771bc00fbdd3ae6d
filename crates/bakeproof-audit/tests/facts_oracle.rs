//! The system fact readers against the real tools (i14-facts): accounts
//! made by shadow-utils' own `useradd`/`usermod`/`passwd` in a scratch root
//! and read back by `passwd -S`; listening sockets against `ss`; the
//! architecture against `uname -m` (in the unit tests).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use bakeproof_audit::facts::{accounts, live};
use bakeproof_index::Root;

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(root: &Path, p: &str, s: &str) {
    let p = root.join(p.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, s).expect("write");
}

/// A root whose accounts shadow-utils made: its login.defs in the C
/// notations getdef reads (hex, a later line overriding an earlier one).
fn scratch_root(uid_min_line: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let r = d.path();
    write(r, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write(r, "/etc/shadow", "root:*:19000:0:99999:7:::\n");
    write(r, "/etc/group", "root:x:0:\nusers:x:100:\n");
    write(r, "/etc/gshadow", "root:*::\nusers:*::\n");
    write(
        r,
        "/etc/login.defs",
        &format!(
            "# test\nUID_MIN 1000\n{uid_min_line}\nUID_MAX 60000\nSYS_UID_MIN 100\n\
             SYS_UID_MAX 0x1387\nGID_MIN 5000\nSYS_GID_MIN 100\nSYS_GID_MAX 4999\n"
        ),
    );
    write(r, "/etc/shells", "# /etc/shells\n/bin/sh\n/bin/bash\n");
    let prefix = r.to_str().expect("utf-8");
    let ua = |args: &[&str]| {
        run(Command::new("useradd")
            .args(["--prefix", prefix])
            .args(args));
    };
    ua(&["-r", "-s", "/usr/sbin/nologin", "svc"]);
    ua(&["-r", "-s", "/bin/bash", "sysbash"]);
    ua(&["-r", "-s", "/usr/sbin/nologin", "syshash"]);
    ua(&["-s", "/bin/bash", "alice"]);
    ua(&["-s", "/bin/sh", "bob"]);
    ua(&["-o", "-u", "0", "-s", "/bin/sh", "toor"]);
    // A SHA-512 crypt hash (of "x"): a password login.
    let hash = "$6$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91";
    for u in ["bob", "syshash", "alice"] {
        run(Command::new("usermod").args(["--prefix", prefix, "-p", hash, u]));
    }
    run(Command::new("usermod").args(["--prefix", prefix, "-L", "alice"]));
    run(Command::new("passwd").args(["-R", prefix, "-d", "toor"]));
    d
}

/// `passwd -S -a` in the root: name → L / NP / P.
fn passwd_status(root: &Path) -> Vec<(String, String)> {
    run(Command::new("passwd").args(["-R", root.to_str().expect("utf-8"), "-S", "-a"]))
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect()
}

#[test]
fn accounts_as_shadow_utils_made_and_reads_them() {
    for uid_min in ["UID_MIN 0x1388", "UID_MIN\t\"5000\""] {
        let d = scratch_root(uid_min);
        let root = Root::open(d.path()).expect("root");
        let f = accounts::read(&root).expect("read").expect("accounts");
        assert_eq!(f.uid_min, 5000, "{uid_min}");
        // The password state passwd -S reports.
        let status = passwd_status(d.path());
        assert_eq!(status.len(), f.accounts.len());
        for (name, st) in &status {
            let a = f
                .accounts
                .iter()
                .find(|a| &a.name == name)
                .unwrap_or_else(|| panic!("{name} not read"));
            let want = match st.as_str() {
                "L" => "locked",
                "NP" => "empty",
                "P" => "hash",
                o => panic!("passwd -S {o}"),
            };
            assert_eq!(a.password, want, "{name}");
        }
        // useradd -r chose UIDs below UID_MIN, useradd without it at or
        // above: the same line of login.defs read the same way.
        let system: BTreeSet<&str> = f.system_accounts().map(|a| a.name.as_str()).collect();
        assert_eq!(
            system,
            BTreeSet::from(["root", "svc", "sysbash", "syshash", "toor"])
        );
        assert!(f.is_login_shell("/bin/bash") && !f.is_login_shell("/usr/sbin/nologin"));
        assert!(f.malformed.is_empty(), "{:?}", f.malformed);
    }
}

/// The listening sockets of this machine from /proc/net against `ss`. Each
/// side once more after the other so that a socket opened or closed in
/// between is not a difference: only a socket both `ss` runs agree on and
/// both reads agree on is compared.
#[test]
fn listening_sockets_as_ss_lists_them() {
    // A listener of our own so that the set is never empty.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let udp = std::net::UdpSocket::bind("[::1]:0").ok();
    let ss = |flags: &str| -> BTreeSet<(String, String, u16)> {
        run(Command::new("ss").args([flags, "-H"]))
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let local = f.get(3)?;
                let (addr, port) = local.rsplit_once(':')?;
                let addr = addr.trim_start_matches('[').trim_end_matches(']');
                let addr = addr.split('%').next()?;
                let v6 = addr.contains(':') || addr == "*";
                let proto = match (flags.contains('t'), v6) {
                    (true, false) => "tcp",
                    (true, true) => "tcp6",
                    (false, false) => "udp",
                    (false, true) => "udp6",
                };
                let addr = if addr == "*" { "::" } else { addr };
                Some((proto.to_string(), addr.to_string(), port.parse().ok()?))
            })
            .collect()
    };
    let ours = || -> BTreeSet<(String, String, u16)> {
        live::read_from(Path::new("/proc"), Path::new("/sys/fs/selinux"))
            .expect("live")
            .listening
            .into_iter()
            .map(|s| (s.proto, s.address, s.port))
            .collect()
    };
    let (s1, o1) = (
        ss("-ltn")
            .union(&ss("-lun"))
            .cloned()
            .collect::<BTreeSet<_>>(),
        ours(),
    );
    let (s2, o2) = (
        ss("-ltn")
            .union(&ss("-lun"))
            .cloned()
            .collect::<BTreeSet<_>>(),
        ours(),
    );
    let ss_stable: BTreeSet<_> = s1.intersection(&s2).cloned().collect();
    let ours_stable: BTreeSet<_> = o1.intersection(&o2).cloned().collect();
    let port = tcp.local_addr().expect("addr").port();
    assert!(ours_stable.contains(&("tcp".into(), "127.0.0.1".into(), port)));
    if let Some(u) = &udp {
        let p = u.local_addr().expect("addr").port();
        assert!(ours_stable.contains(&("udp6".into(), "::1".into(), p)));
    }
    // Everything stable on one side is on the other.
    for s in &ss_stable {
        assert!(
            o1.contains(s) || o2.contains(s),
            "ss lists {s:?}, /proc/net not"
        );
    }
    for s in &ours_stable {
        assert!(
            s1.contains(s) || s2.contains(s),
            "/proc/net lists {s:?}, ss not"
        );
    }
}

/// Firewall units enabled and masked by `systemctl --root` itself, read
/// back; ufw counts only with ENABLED=yes, as its init script loads rules.
#[test]
fn firewall_units_as_systemctl_enables_them() {
    use bakeproof_audit::facts::{firewall, systemd};
    let d = tempfile::tempdir().expect("tmp");
    let r = d.path();
    for u in [
        "firewalld",
        "nftables",
        "ufw",
        "iptables",
        "ip6tables",
        "netfilter-persistent",
    ] {
        write(
            r,
            &format!("/usr/lib/systemd/system/{u}.service"),
            "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        );
    }
    write(
        r,
        "/usr/lib/systemd/system/multi-user.target",
        "[Unit]\nDescription=m\n",
    );
    let sc = |args: &[&str]| {
        run(Command::new("systemctl")
            .arg(format!("--root={}", r.display()))
            .args(args));
    };
    sc(&[
        "enable",
        "nftables.service",
        "ufw.service",
        "ip6tables.service",
    ]);
    sc(&["mask", "firewalld.service"]);
    sc(&["enable", "iptables.service"]);
    sc(&["disable", "iptables.service"]);
    let is_enabled = |u: &str| -> bool {
        Command::new("systemctl")
            .arg(format!("--root={}", r.display()))
            .args(["is-enabled", "--quiet", u])
            .status()
            .expect("systemctl")
            .success()
    };
    let root = Root::open(r).expect("root");
    let oracle: Vec<String> = firewall::FIREWALL_UNITS
        .iter()
        .filter(|(n, u)| *n != "ufw" && is_enabled(u))
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(oracle, ["nftables", "ip6tables"]);
    let f = firewall::read(&root, &systemd::read(&root)).expect("read");
    assert_eq!(f.enabled, oracle, "{:?}", f.notes);
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("firewalld.service masked"))
    );
    assert!(f.notes.iter().any(|n| n.contains("ufw.service enabled")));
    write(
        r,
        "/etc/ufw/ufw.conf",
        "# ufw\nENABLED=no\nENABLED=yes\nLOGLEVEL=low\n",
    );
    assert!(is_enabled("ufw.service"));
    let f = firewall::read(&root, &systemd::read(&root)).expect("read");
    assert_eq!(f.enabled, ["nftables", "ufw", "ip6tables"]);
}

/// Kernels from /boot and the module trees, a usrmerged /lib counted once,
/// a leftover module directory and a rescue image not counted.
#[test]
fn kernels_from_boot_and_module_trees() {
    use bakeproof_audit::facts::kernel;
    let d = tempfile::tempdir().expect("tmp");
    let r = d.path();
    write(r, "/boot/vmlinuz-6.1.0-28-amd64", "k");
    write(r, "/boot/vmlinuz-0-rescue-abcdef", "k");
    write(r, "/boot/config-6.1.0-28-amd64", "c");
    write(r, "/usr/lib/modules/6.1.0-28-amd64/modules.dep", "");
    write(r, "/usr/lib/modules/6.12.0-1.el10.x86_64/vmlinuz", "k");
    std::fs::create_dir_all(r.join("usr/lib/modules/5.10.0-old")).expect("mkdir");
    std::os::unix::fs::symlink("usr/lib", r.join("lib")).expect("symlink");
    std::os::unix::fs::symlink("/nowhere", r.join("boot/vmlinuz-9.9-dangling")).expect("symlink");
    let root = Root::open(r).expect("root");
    let k = kernel::read(&root).expect("read");
    let rel: Vec<&str> = k.iter().map(|k| k.release.as_str()).collect();
    assert_eq!(rel, ["6.1.0-28-amd64", "6.12.0-1.el10.x86_64"]);
    assert_eq!(k[0].image.as_deref(), Some("/boot/vmlinuz-6.1.0-28-amd64"));
    assert_eq!(
        k[0].modules.as_deref(),
        Some("/usr/lib/modules/6.1.0-28-amd64")
    );
    assert_eq!(
        k[1].image.as_deref(),
        Some("/usr/lib/modules/6.12.0-1.el10.x86_64/vmlinuz")
    );
}

/// A symlink out of the root is resolved inside it: the host's accounts
/// are never read.
#[test]
fn account_files_are_read_inside_the_root() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(d.path().join("etc")).expect("mkdir");
    // The host has an /etc/group; this root has none.
    std::os::unix::fs::symlink("../../../../../etc/group", d.path().join("etc/passwd"))
        .expect("symlink");
    let root = Root::open(d.path()).expect("root");
    assert_eq!(accounts::read(&root).expect("read"), None);
}

/// The byte parsers on mutated real inputs (a small, deterministic stand-in
/// for the `audit_facts` fuzz target): no panic.
#[test]
fn parsers_never_panic_on_mutated_inputs() {
    use bakeproof_audit::facts::{arch, firewall, selinux};
    let seeds: Vec<Vec<u8>> = [
        "/etc/passwd",
        "/etc/group",
        "/etc/login.defs",
        "/etc/shells",
        "/proc/net/tcp",
        "/proc/net/tcp6",
        "/proc/net/udp",
    ]
    .iter()
    .filter_map(|p| std::fs::read(p).ok())
    .chain([
        b"root:x:0:0::/:/bin/sh\n:::\n\xff\xfe:x:1:1\n".to_vec(),
        b"SELINUX=enforcing\nENABLED=yes\n".to_vec(),
        b"  0: 00000000000000000000000001000000:0CEA 0:0 0A\n".to_vec(),
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\xb7\0".to_vec(),
    ])
    .collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000u64 {
        let mut b = seeds[(i as usize) % seeds.len()].clone();
        for _ in 0..1 + next() % 8 {
            let r = next();
            match r % 4 {
                0 if !b.is_empty() => {
                    let at = (r >> 8) as usize % b.len();
                    b[at] = (r >> 32) as u8;
                }
                1 if !b.is_empty() => {
                    let at = (r >> 8) as usize % b.len();
                    b.truncate(at);
                }
                2 => b.insert(
                    (r >> 8) as usize % (b.len() + 1),
                    b":\n\t \"0x#+-"[(r >> 40) as usize % 10],
                ),
                _ => b.extend_from_slice(&b.clone()[..b.len().min(64)]),
            }
        }
        let f = accounts::from_bytes(&b, Some(&b), Some(&b), Some(&b), Some(&b));
        for a in &f.accounts {
            let _ = f.is_login_shell(&a.shell);
        }
        let _ = selinux::parse_config(&b);
        let _ = firewall::ufw_enabled(&b);
        for p in live::Proto::ALL {
            let _ = live::parse_proc_net(&b, p);
        }
        let _ = live::selinux_mode_of_enforce(&b);
        let _ = arch::elf_arch(&b);
    }
}
