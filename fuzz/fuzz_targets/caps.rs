//! File-capability parsers: `security.capability` bytes and libcap text
//! (rpm's FILECAPS). No panic; what the text form prints parses back to the
//! same sets.
#![no_main]
use bakeproof_index::FileCaps;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = FileCaps::from_xattr(data) {
        let back = FileCaps::from_text(&c.to_string()).expect("own text form parses");
        assert_eq!(
            (back.effective, back.permitted, back.inheritable),
            (c.effective, c.permitted, c.inheritable)
        );
    }
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(c) = FileCaps::from_text(s)
    {
        let back = FileCaps::from_text(&c.to_string()).expect("own text form parses");
        assert_eq!(back, c);
    }
});
