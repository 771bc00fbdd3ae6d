//! qcow2 on arbitrary bytes: `Qcow2::open`, then reads at the start, the
//! end and a few offsets the input picks (L1/L2 lookups, compressed
//! clusters, zero clusters). No panic, hang or unbounded allocation (a
//! compressed cluster inflates to at most one cluster).
#![no_main]
use std::sync::Arc;

use bakeproof_image::block::BlockSource as _;
use bakeproof_image::qcow2::Qcow2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = Qcow2::open(Arc::new(data.to_vec())) else {
        return;
    };
    let size = q.size();
    if size == 0 {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut offsets = vec![0, size.saturating_sub(buf.len() as u64)];
    for c in data.chunks_exact(8).take(16) {
        let mut x = [0u8; 8];
        x.copy_from_slice(c);
        offsets.push(u64::from_le_bytes(x) % size);
    }
    for off in offsets {
        let len = (buf.len() as u64).min(size - off) as usize;
        let _ = q.read_at(off, &mut buf[..len]);
    }
});
