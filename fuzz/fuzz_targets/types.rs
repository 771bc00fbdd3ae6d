//! The shared vocabulary's string parsers (bakeproof-types): any text, no
//! panic, and what parses prints back as itself (AmiRef) or as a canonical
//! purl that is a fixed point of parse-then-print.
#![no_main]
use bakeproof_types::{AmiRef, Purl, Sha256Digest, SourceDateEpoch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = AmiRef::parse(s) {
        assert_eq!(a.to_string(), s);
        assert_eq!(AmiRef::from_subject_name(&a.subject_name()).as_ref(), Ok(&a));
        assert_eq!(AmiRef::new(a.region(), a.ami_id()).as_ref(), Ok(&a));
    }
    if let Ok(a) = AmiRef::from_subject_name(s) {
        assert_eq!(a.subject_name(), s);
    }
    if let Ok(p) = Purl::parse(s) {
        let canonical = p.to_string();
        let again = Purl::parse(&canonical).expect("the canonical form parses");
        assert_eq!(again.ty, p.ty);
        assert_eq!(again.name, p.name);
        assert_eq!(again.to_string(), canonical);
    }
    if let Ok(d) = Sha256Digest::from_hex(s) {
        assert_eq!(d.to_string(), s);
    }
    let _ = s.parse::<SourceDateEpoch>();
});
