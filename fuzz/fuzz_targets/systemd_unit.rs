//! systemd unit file `[Install]` reader (issue 14): any bytes, no panic, no
//! hang; every value is a word (no whitespace).
#![no_main]
use bakeproof_audit::facts::systemd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let i = systemd::parse_install(data);
    for w in i.wanted_by.iter().chain(&i.required_by).chain(&i.alias).chain(&i.also) {
        assert!(!w.is_empty() && !w.chars().any(char::is_whitespace));
    }
});
