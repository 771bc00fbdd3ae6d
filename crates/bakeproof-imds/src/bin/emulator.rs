//! `bakeproof-imds-emulator`: an EC2 instance metadata service with IMDSv2
//! semantics, for tests and for trying the boot flow on a laptop (what it
//! serves: [`bakeproof_imds::emulator`]).
//!
//! Prints `listening on http://ADDR` on stdout once bound (`--listen
//! 127.0.0.1:0` picks a free port).

// The binary is the edge: it reports on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

use bakeproof_imds::emulator::{Emulator, EmulatorArgs};
use clap::Parser as _;

fn main() -> std::process::ExitCode {
    match Emulator::start(EmulatorArgs::parse()) {
        Ok(emulator) => {
            println!("listening on {}", emulator.endpoint());
            std::io::stdout().flush().ok();
            emulator.wait();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bakeproof-imds-emulator: error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
