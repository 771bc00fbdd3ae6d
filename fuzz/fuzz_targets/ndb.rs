//! NDB `Packages.db` reader: any bytes, no panic, no hang, keys sorted and
//! unique, output bounded by the input size.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_pkgdb::rpm::ndb::is_ndb(data);
    if let Ok(set) = bakeproof_pkgdb::rpm::ndb::read_ndb_packages(data) {
        assert!(set.records.windows(2).all(|w| w[0].key < w[1].key));
        let total: usize = set.records.iter().map(|r| r.blob.len()).sum();
        assert!(total <= data.len(), "output {total} > input {}", data.len());
    }
});
