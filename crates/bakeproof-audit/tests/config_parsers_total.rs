//! The sshd and systemd readers are total: deterministic mutations of real
//! configuration files (the packaged Debian `sshd_config`, unit files of
//! this machine) never panic or hang, and keep the invariants the fuzz
//! targets (fuzz/fuzz_targets/sshd_config.rs, systemd_unit.rs) check.

mod common;

use std::collections::BTreeMap;

use bakeproof_audit::facts::{sshd, systemd};

use common::Rng;

const SPICE: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\\",
    b"=",
    b"#",
    b"\n",
    b"\r",
    b"\t",
    b" ",
    b"\0",
    b"\x0c",
    b"[",
    b"]",
    b"*",
    b"?",
    b"Include ",
    b"Match all\n",
    b"Match User x\n",
    b"Include /etc/ssh/sshd_config\n",
    b"Include sshd_config.d/*\n",
    b"[Install]\n",
    b"WantedBy=",
    b"Alias=",
    b"\\\n",
    b"\xff\xfe",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(3) {
            0 => {
                let s = SPICE[rng.below(SPICE.len())];
                v.splice(at..at, s.iter().copied());
            }
            1 if at < v.len() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            _ if at < v.len() => v[at] = rng.next() as u8,
            _ => {}
        }
    }
    v
}

fn seeds(paths: &[&str]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    out.push(Vec::new());
    out
}

#[test]
fn sshd_reader_is_total() {
    let seeds = seeds(&["/usr/share/openssh/sshd_config", "/etc/ssh/sshd_config"]);
    let mut rng = Rng(0x5eed_0001);
    for i in 0..4000 {
        let data = mutate(&mut rng, &seeds[i % seeds.len()]);
        let mut files = BTreeMap::new();
        let names = [
            sshd::SSHD_CONFIG,
            "/etc/ssh/sshd_config.d/10-a.conf",
            "/etc/ssh/sshd_config.d/20-b.conf",
        ];
        files.insert(names[0].to_string(), data.clone());
        files.insert(names[1].to_string(), mutate(&mut rng, &data));
        files.insert(
            names[2].to_string(),
            b"Include /etc/ssh/sshd_config\n".to_vec(),
        );
        let cfg = sshd::effective(&sshd::MemSource(files), sshd::SSHD_CONFIG);
        if cfg.error.is_none() {
            assert!(cfg.values.contains_key("permitrootlogin"));
        }
        let _ = sshd::parse_bytes("x", &data);
    }
}

#[test]
fn unit_install_reader_is_total() {
    let seeds = seeds(&[
        "/lib/systemd/system/getty@.service",
        "/lib/systemd/system/systemd-networkd.service",
        "/lib/systemd/system/cron.service",
    ]);
    let mut rng = Rng(0x5eed_0002);
    for i in 0..20000 {
        let data = mutate(&mut rng, &seeds[i % seeds.len()]);
        let inst = systemd::parse_install(&data);
        for w in inst
            .wanted_by
            .iter()
            .chain(&inst.required_by)
            .chain(&inst.alias)
        {
            assert!(!w.is_empty() && !w.chars().any(char::is_whitespace));
        }
    }
}
