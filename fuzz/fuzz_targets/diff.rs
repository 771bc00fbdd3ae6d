//! `bakeproof diff`'s input side: two CycloneDX documents and two seal
//! reports from any bytes, then the diff and all three renderings. No panic,
//! no hang. Input: `u16 LE length of OLD` ‖ OLD ‖ NEW; each half is tried as
//! an SBOM and as a seal report.
#![no_main]
use bakeproof_diff::render::{json, markdown, text};
use bakeproof_diff::{diff_with_seal, parse, parse_seal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (old, new) = data[2..].split_at(n);
    let (Ok(a), Ok(b)) = (parse(old), parse(new)) else {
        let _ = parse_seal(old);
        let _ = parse_seal(new);
        return;
    };
    let sa = parse_seal(old).ok();
    let sb = parse_seal(new).ok();
    let d = diff_with_seal(&a, &b, sa.as_ref(), sb.as_ref());
    let _ = json::render(&d);
    let _ = text::render(&d, true);
    let _ = markdown::render(&d);
});
