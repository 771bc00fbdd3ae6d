//! rpm header blob parser (`il`, `dl`, index, data store): any bytes, no
//! panic, no hang, and no more memory than its budget (64 MiB here; run.sh's
//! RSS limit catches anything built outside the budget, such as the
//! `amplify-dirnames` seed's 660 MB of joined paths before it had one).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut budget = bakeproof_pkgdb::Budget::new(64 << 20, 64 << 20);
    let _ = bakeproof_pkgdb::rpm::parse_header_blob_in(data, &mut budget);
});
