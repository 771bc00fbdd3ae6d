//! Prints the sshd and systemd facts of a root (default `/`) and how long
//! reading them took: `cargo run -p bakeproof-audit --example config_facts
//! -- ROOT`. Compare with `sshd -T` and `systemctl --root=ROOT
//! list-unit-files --state=enabled`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line example

use std::time::Instant;

use bakeproof_audit::facts::{sshd, systemd};
use bakeproof_index::Root;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/".to_string());
    let root = match Root::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    let cfg = sshd::fact(&root);
    let t_sshd = t.elapsed();
    let t = Instant::now();
    let units = systemd::read(&root);
    let t_units = t.elapsed();
    if let Some(e) = &cfg.error {
        println!("sshd: {e}");
    }
    for (k, v) in cfg.report() {
        println!("sshd {k} {v}");
    }
    for u in units.enabled() {
        println!("enabled {u}");
    }
    println!(
        "{} unit files; sshd read in {:.1} ms, units in {:.1} ms",
        units.states.len(),
        t_sshd.as_secs_f64() * 1e3,
        t_units.as_secs_f64() * 1e3
    );
}
