//! sshd configuration reader (issue 14): any bytes, as a main
//! `sshd_config` and drop-ins (the input split at 0x1e bytes), through
//! `Include` globs, Match blocks and the keyword table: no panic, no hang,
//! the built-in defaults always there, and a design value normalised once
//! is a fixed point.
#![no_main]
use std::collections::BTreeMap;

use bakeproof_audit::facts::sshd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let names = [
        sshd::SSHD_CONFIG,
        "/etc/ssh/sshd_config.d/10-a.conf",
        "/etc/ssh/sshd_config.d/20-b.conf",
        "/etc/ssh/extra.conf",
    ];
    let mut files = BTreeMap::new();
    for (name, part) in names.iter().zip(data.split(|&b| b == 0x1e)) {
        files.insert(name.to_string(), part.to_vec());
    }
    let cfg = sshd::effective(&sshd::MemSource(files), sshd::SSHD_CONFIG);
    if cfg.error.is_none() {
        assert!(cfg.values.contains_key("permitrootlogin"));
        assert!(cfg.values.keys().all(|k| k.bytes().all(|b| !b.is_ascii_uppercase())));
    }
    let _ = sshd::parse_bytes("fuzz", data);
    // The first line as a design's `keyword = value`.
    let line = String::from_utf8_lossy(data.split(|&b| b == b'\n').next().unwrap_or(&[]));
    if let Some((k, v)) = line.split_once(' ')
        && let Ok((name, value)) = sshd::normalize(k, v)
        && let Ok(again) = sshd::normalize(&name, &value)
    {
        // sshd -T's own output read back by sshd is itself, except for
        // values sshd derelativises or quotes differently.
        if !value.contains(['"', '\'', '\\', '#']) && !value.starts_with("//") {
            assert_eq!(again.1, value, "{name}");
        }
    }
});
