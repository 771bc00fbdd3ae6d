//! LVM2 on arbitrary bytes. First byte even: the bytes are a PV
//! (`lvm::read_pv`: label, PV header, metadata area header, metadata text
//! behind their checksums), then `open_lv` and a read of each volume. Odd:
//! the rest is metadata text (`lvm::parse_metadata`, the text parser
//! without the checksums in front of it). No panic, hang or unbounded
//! allocation (nesting depth and value count are bounded).
#![no_main]
use std::sync::Arc;

use bakeproof_image::block::{BlockSource as _, SharedSource};
use bakeproof_image::lvm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let pv: SharedSource = Arc::new(rest.to_vec());
    let got = if mode % 2 == 0 {
        lvm::read_pv(&pv)
    } else {
        // The UUID the text's first `id = "…"` names, so that the PV is found.
        let text = String::from_utf8_lossy(rest);
        let uuid = text
            .split("id = \"")
            .nth(2)
            .and_then(|s| s.split('"').next())
            .unwrap_or("")
            .to_string();
        lvm::parse_metadata(rest, &uuid)
    };
    let Ok(got) = got else { return };
    for lv in &got.lvs {
        if let Ok(src) = lvm::open_lv(pv.clone(), lv) {
            assert_eq!(src.size(), lv.len);
            let mut b = vec![0u8; (lv.len as usize).min(4096)];
            let _ = src.read_at(0, &mut b);
        }
    }
});
