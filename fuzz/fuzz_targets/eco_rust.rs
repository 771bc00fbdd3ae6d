//! cargo-auditable: the input as a `.dep-v0` section (`parse_dep_v0`) and
//! as an ELF file (`find_dep_v0`, and the streaming finder in chunks of
//! 1 + the first byte). No panic, no inflating past `MAX_JSON`; the
//! finder's answer does not depend on where the chunks are cut.
#![no_main]
use bakeproof_ecosystems::rustaudit::{self, DepV0Finder};
use libfuzzer_sys::fuzz_target;

fn streamed(file: &[u8], chunk: usize) -> Option<Result<Vec<u8>, rustaudit::SectionRange>> {
    let mut f = DepV0Finder::new();
    for c in file.chunks(chunk) {
        if !f.wants_more() {
            break;
        }
        f.update(c);
    }
    f.finish()
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    if let Ok(pkgs) = rustaudit::parse_dep_v0(rest) {
        // Dependencies are named by the packages listed.
        assert!(
            pkgs.iter()
                .flat_map(|p| &p.depends)
                .all(|d| pkgs.iter().any(|p| &p.name == d))
        );
    }
    if let Some(s) = rustaudit::find_dep_v0(rest) {
        let _ = rustaudit::parse_dep_v0(s);
    }
    let whole = streamed(rest, rest.len().max(1));
    if let Some(Ok(s)) = &whole {
        let _ = rustaudit::parse_dep_v0(s);
    }
    assert_eq!(streamed(rest, 1 + usize::from(k)), whole);
});
