//! Version sort keys (`bakeproof_fleet::sortkey`) on the input split at its
//! first 0x00 byte into two versions: no panic; for `deb` and `rpm` the
//! byte order of the keys is `dpkg_version_cmp` / `rpm_evr_str_cmp`; the
//! keys are lower-case hex; the constraint bounds bracket the key.
#![no_main]
use std::cmp::Ordering;

use bakeproof_fleet::sortkey::{key_range, version_key};
use bakeproof_pkgdb::version::{dpkg_version_cmp, rpm_evr_str_cmp};
use libfuzzer_sys::fuzz_target;

type Cmp = fn(&str, &str) -> Ordering;

const ORDERS: [(&str, Cmp); 2] = [("deb", dpkg_version_cmp), ("rpm", rpm_evr_str_cmp)];

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (ptype, cmp) in ORDERS {
        let ka = version_key(ptype, &a).expect("deb and rpm have keys");
        let kb = version_key(ptype, &b).expect("deb and rpm have keys");
        assert!(
            ka.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
            "{ka}"
        );
        assert_eq!(ka.cmp(&kb), cmp(&a, &b), "{ptype} {a:?} {b:?}: {ka} {kb}");
        let r = key_range(ptype, &a).expect("deb and rpm have bounds");
        assert!(r.low <= ka && ka < r.high, "{ptype} {a:?}: {r:?} {ka}");
    }
    assert_eq!(version_key("npm", &a), None);
});
