//! dpkg status-format parser, through every entry point that takes bytes
//! (`status` and `status.d` modes, a bare file whose mode is sniffed from
//! its stanzas, `info/*.md5sums`): any bytes, no panic, no hang.
#![no_main]
use bakeproof_pkgdb::StatusMode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bakeproof_pkgdb::parse_dpkg_status(data);
    let d = bakeproof_pkgdb::parse_dpkg_status_detailed(data, StatusMode::StatusD);
    assert!(d.packages.len() <= d.stanzas_with_package);
    // Not sqlite: that path copies the bytes to a temporary file for
    // SQLite, which is not what this target is about (and slow).
    if !bakeproof_pkgdb::rpm::is_sqlite(data) {
        let _ = bakeproof_pkgdb::read_bare_file(data, "status", None);
    }
    let _ = bakeproof_pkgdb::parse_md5sums(data);
});
