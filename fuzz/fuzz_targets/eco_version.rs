//! Version orders (`pep440_cmp`, `semver_cmp`, `maven_cmp`, `go_cmp`) on
//! the input split at its first 0x00 byte into two versions. No panic;
//! each is reflexive (`cmp(a, a) == Equal`) and antisymmetric
//! (`cmp(a, b) == cmp(b, a).reverse()`).
#![no_main]
use std::cmp::Ordering;

use bakeproof_ecosystems::version;
use libfuzzer_sys::fuzz_target;

type Cmp = fn(&str, &str) -> Ordering;

const ORDERS: [(&str, Cmp); 4] = [
    ("pep440", version::pep440_cmp),
    ("semver", version::semver_cmp),
    ("maven", version::maven_cmp),
    ("go", version::go_cmp),
];

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (name, cmp) in ORDERS {
        assert_eq!(cmp(&a, &a), Ordering::Equal, "{name} {a:?}");
        assert_eq!(cmp(&b, &b), Ordering::Equal, "{name} {b:?}");
        assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse(), "{name} {a:?} {b:?}");
    }
});
