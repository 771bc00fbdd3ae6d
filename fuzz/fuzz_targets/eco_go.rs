//! Go build info: the input as a blob (`parse_buildinfo`) and as a file
//! (`find_buildinfo`, and the streaming finder in chunks of 1 + the first
//! byte). No panic; the blob is bounded, starts with the magic and does not
//! depend on where the chunks are cut.
#![no_main]
use bakeproof_ecosystems::golang::{self, BuildInfoFinder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    if let Ok(info) = golang::parse_buildinfo(rest) {
        let pkgs = info.packages();
        let primary = pkgs.iter().filter(|p| p.primary).count();
        assert_eq!(primary, usize::from(info.main.is_some()));
    }
    let whole = golang::find_buildinfo(rest);
    if let Some(b) = &whole {
        assert!(b.len() <= golang::MAX_BLOB);
        assert!(b.starts_with(golang::MAGIC));
        let _ = golang::parse_buildinfo(b).map(|i| i.packages());
    }
    let mut f = BuildInfoFinder::new();
    for c in rest.chunks(1 + usize::from(k)) {
        if !f.wants_more() {
            break;
        }
        f.update(c);
    }
    assert_eq!(f.finish(), whole);
});
