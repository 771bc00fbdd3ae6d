//! `/etc/fstab` on arbitrary bytes (`fstab::parse`, then each entry's
//! source and use): no panic, and what is kept is bounded.
#![no_main]
use bakeproof_image::fstab;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = fstab::parse(data);
    assert!(f.entries.len() <= fstab::MAX_ENTRIES);
    for e in &f.entries {
        assert!(e.source.len() <= data.len() && e.target.len() <= data.len());
        let _ = e.source();
        let _ = e.use_();
        let _ = e.options();
    }
});
