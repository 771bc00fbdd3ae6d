//! TOML design-document parser: any bytes, no panic, no hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_audit::design::parse_file(data, "design.toml");
});
