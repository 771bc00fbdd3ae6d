//! `java::parse_archive` on arbitrary bytes, with small bounds so that
//! nesting, the entry count and the inflation budget are all reachable
//! from a 128 KiB input: no panic, the archive's own package first and
//! alone primary, every archive package with one SHA-1.
#![no_main]
use bakeproof_ecosystems::java;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = java::Limits {
        max_depth: 3,
        max_nested: 1 << 20,
        max_entries: 4096,
        max_inflated: 16 << 20,
    };
    if let Ok(ps) = java::parse_archive("fuzz.jar", data, &limits) {
        assert!(!ps.is_empty());
        assert!(ps[0].primary);
        assert!(ps[1..].iter().all(|p| !p.primary));
        assert!(!ps[0].name.is_empty());
        assert_eq!(ps[0].hashes.len(), 1);
        let _ = java::is_archive_name(data);
    }
});
