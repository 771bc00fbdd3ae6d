//! Berkeley DB hash `Packages` reader: any bytes, no panic, no hang, and the
//! invariants the API promises (keys sorted and unique, key 0 skipped, output
//! bounded by the input size).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_pkgdb::rpm::bdb::is_bdb_hash(data);
    if let Ok(set) = bakeproof_pkgdb::rpm::bdb::read_bdb_packages(data) {
        assert!(set.records.windows(2).all(|w| w[0].key < w[1].key));
        assert!(set.records.iter().all(|r| r.key != 0));
        let total: usize = set.records.iter().map(|r| r.blob.len()).sum();
        assert!(total <= data.len(), "output {total} > input {}", data.len());
    }
});
