//! Plain design-document parser (`design-spec.txt`): any bytes, no panic,
//! no hang; an accepted document re-parses to the same requirements.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_audit::design::parse_file(data, "design-spec.txt");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bakeproof_audit::design::plain::parse(text, "f");
        let _ = bakeproof_audit::constraint::Constraint::parse_list(text);
        let _ = bakeproof_audit::design::plain::parse_nevra(text);
    }
});
