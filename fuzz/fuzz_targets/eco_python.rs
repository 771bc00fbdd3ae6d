//! Python core metadata (`parse_metadata` as a `dist-info` METADATA and
//! as an `egg-info` PKG-INFO), `RECORD` (`parse_record`) and trove
//! classifiers (`classifier_license`, on every line). No panic; a parsed
//! package has a non-empty name on one line, the `found_by` it was given.
#![no_main]
use bakeproof_ecosystems::python;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for found_by in ["dist-info", "egg-info"] {
        if let Ok(p) = python::parse_metadata(data, found_by) {
            assert!(!p.name.is_empty());
            assert!(!p.name.contains(['\n', '\r']), "{:?}", p.name);
            assert_eq!(p.found_by, found_by);
        }
    }
    if let Ok(files) = python::parse_record(data) {
        assert!(files.iter().all(|f| !f.path.is_empty()));
        assert!(
            files
                .iter()
                .filter_map(|f| f.sha256.as_deref())
                .all(|h| h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()))
        );
    }
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Some(id) = python::classifier_license(line) {
            assert!(!id.is_empty());
        }
    }
});
