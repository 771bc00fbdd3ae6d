//! npm: the input as an installed `package.json` (`parse_package_json`)
//! and as a lockfile (`parse_lockfile`, v1 tree or v2/v3 map). No panic
//! (v1 nesting is bounded); every package has a non-empty name without
//! `/`, and a namespace, when there is one, is a scope starting with `@`.
#![no_main]
use bakeproof_ecosystems::{LangPackage, npm};
use libfuzzer_sys::fuzz_target;

fn check(p: &LangPackage) {
    assert!(!p.name.is_empty());
    assert!(!p.name.contains('/'), "{:?}", p.name);
    if let Some(ns) = &p.namespace {
        assert!(ns.starts_with('@'), "{ns:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = npm::parse_package_json(data) {
        check(&p);
        assert_eq!(p.found_by, "node_modules");
    }
    if let Ok(pkgs) = npm::parse_lockfile(data) {
        for p in &pkgs {
            check(p);
            assert_eq!(p.found_by, "package-lock");
        }
    }
});
