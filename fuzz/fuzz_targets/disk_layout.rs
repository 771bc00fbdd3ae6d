//! Partition tables on arbitrary bytes: `disk::read_layout` (GPT primary
//! and backup, MBR and its logical chain, protective MBR) and
//! `disk::probe`. No panic, hang or unbounded allocation; every partition
//! returned lies inside the image, at most `MAX_PARTITIONS` of them.
#![no_main]
use bakeproof_image::block::BlockSource as _;
use bakeproof_image::disk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = data.to_vec();
    let _ = disk::probe(&src);
    if let Ok(layout) = disk::read_layout(&src) {
        assert!(layout.partitions.len() <= disk::MAX_PARTITIONS);
        assert!(layout.partitions.windows(2).all(|w| w[0].number < w[1].number));
        for p in &layout.partitions {
            assert!(p.len > 0 || layout.table == disk::TableKind::None);
            assert!(p.start.checked_add(p.len).is_some_and(|e| e <= src.size()));
        }
    }
});
