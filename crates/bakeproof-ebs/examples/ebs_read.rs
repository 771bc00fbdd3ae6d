//! Reads a whole EBS snapshot through [`EbsSnapshot`] and prints what it
//! cost, for benches/ebs_snapshot.sh:
//!
//!   ebs_read SNAPSHOT_ID PARALLEL [READ_BYTES] [SHA256_OF]
//!
//! READ_BYTES (default: the volume) is read from offset 0 in 8 MiB reads by
//! one thread; the output is one JSON line (wall seconds, MB/s of the bytes
//! fetched, the stats) and the SHA-256 of the bytes read (to compare with
//! the image's).

use std::io::Write as _;
use std::time::Instant;

use bakeproof_ebs::{EbsOptions, EbsSnapshot};
use bakeproof_image::block::BlockSource;
use sha2::{Digest as _, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(snap), Some(parallel)) = (args.get(1), args.get(2)) else {
        return Err("usage: ebs_read SNAPSHOT_ID PARALLEL [READ_BYTES]".into());
    };
    let t0 = Instant::now();
    let s = EbsSnapshot::open(
        snap,
        EbsOptions {
            parallel: parallel.parse()?,
            ..EbsOptions::default()
        },
    )?;
    let open_s = t0.elapsed().as_secs_f64();
    let len = match args.get(3) {
        Some(n) => n.parse::<u64>()?.min(s.size()),
        None => s.size(),
    };
    let mut buf = vec![0u8; 8 << 20];
    let mut h = Sha256::new();
    let mut off = 0u64;
    while off < len {
        let n = (buf.len() as u64).min(len - off) as usize;
        s.read_at(off, &mut buf[..n])?;
        h.update(&buf[..n]);
        off += n as u64;
    }
    let wall = t0.elapsed().as_secs_f64();
    let st = s.stats();
    writeln!(
        std::io::stdout(),
        "{{\"parallel\":{parallel},\"wall_s\":{wall:.3},\"open_s\":{open_s:.3},\"mb_s\":{:.1},\
         \"list_requests\":{},\"get_requests\":{},\"blocks_fetched\":{},\"bytes_fetched\":{},\
         \"zero_blocks\":{},\"retries\":{},\"max_in_flight\":{},\"sha256\":\"{}\"}}",
        st.bytes_fetched as f64 / 1e6 / wall,
        st.list_requests,
        st.get_requests,
        st.blocks_fetched,
        st.bytes_fetched,
        st.zero_blocks,
        st.retries,
        st.max_in_flight,
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )?;
    Ok(())
}
