//! The ext2/3/4 reader on arbitrary bytes: open, then walk every reachable
//! inode (bounded: inodes, depth, bytes read per file), reading
//! directories, contents, link targets and attributes. No panic, hang or
//! unbounded allocation; what is returned keeps the `FsReader` contract.
#![no_main]
use std::collections::HashSet;

use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::{FsReader, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fs) = Ext4::open(data.to_vec()) else {
        return;
    };
    let _ = fs.describe();
    let mut stack = vec![(fs.root(), 0u32)];
    let mut seen = HashSet::new();
    let mut buf = vec![0u8; 8192];
    while let Some((ino, depth)) = stack.pop() {
        if !seen.insert(ino) || seen.len() > 2000 || depth > 32 {
            continue;
        }
        let Ok(i) = fs.inode(ino) else { continue };
        if let Ok(x) = fs.xattrs(ino) {
            assert!(x.windows(2).all(|w| w[0].name <= w[1].name));
            assert!(
                x.iter()
                    .map(|a| a.name.len() + a.value.len())
                    .sum::<usize>()
                    <= 2 * 65536
            );
        }
        match i.kind {
            Kind::Directory => {
                if let Ok(entries) = fs.read_dir(ino) {
                    assert!(entries.windows(2).all(|w| w[0].name <= w[1].name));
                    for e in entries.into_iter().take(4096) {
                        assert!(!e.name.is_empty() && e.name != b"." && e.name != b"..");
                        stack.push((e.ino, depth + 1));
                    }
                }
            }
            Kind::Regular => {
                let mut off = 0u64;
                while off < i.size.min(256 * 1024) {
                    match fs.read(ino, off, &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            assert!(n <= buf.len());
                            off += n as u64;
                        }
                    }
                }
                // Far past the data: a hole or the end, never a huge read.
                let _ = fs.read(ino, i.size.saturating_sub(1), &mut buf);
            }
            Kind::Symlink => {
                if let Ok(t) = fs.read_link(ino) {
                    assert!(t.len() <= 4096);
                }
            }
            _ => {}
        }
    }
});
