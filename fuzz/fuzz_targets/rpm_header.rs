//! rpm header blob parser (`il`, `dl`, index, data store): any bytes, no
//! panic, no hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_pkgdb::rpm::parse_header_blob(data);
});
