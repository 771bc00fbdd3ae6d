//! `bakeproof`: the command-line edge. Parses arguments, wires the library
//! crates together, renders output, and maps outcomes to exit codes. Format
//! details live in the libraries; this crate only decides what to print.

mod attest;
mod boot;
mod diff;
mod scan;
mod seal;
mod seal_apply;
mod store_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes (documented in docs/cli.md; a contract for scripts).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A check found differences (`verify-packages`: a file differs from its
    /// package or is missing).
    pub const FINDINGS: u8 = 1;
    /// Usage error, or a fatal error before any output was written.
    pub const ERROR: u8 = 2;
    /// The scan completed and its output was written, but some entries could
    /// not be indexed (unreadable, vanished, changed during the scan); they
    /// are recorded in the SBOM.
    pub const INCOMPLETE: u8 = 3;
}

#[derive(Parser, Debug)]
#[command(
    name = "bakeproof",
    version,
    about = "Prove what is inside a golden VM image, and check it at boot",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Index a root filesystem (or a bare package database) into a CycloneDX SBOM.
    Scan(scan::ScanArgs),
    /// Check every file the package databases list against their recorded
    /// digests; prints `dpkg --verify`'s or `rpm -Va`'s format. Exit 1 when
    /// anything differs.
    VerifyPackages(scan::VerifyArgs),
    /// Check (read-only) or apply the seal of an image root.
    #[command(subcommand)]
    Seal(seal::SealCommand),
    /// Compare two SBOMs (or two AMIs' attested SBOMs).
    Diff(diff::DiffArgs),
    /// Manage signing keys (cosign-compatible).
    #[command(subcommand)]
    Key(attest::KeyCommand),
    /// Sign the SBOM and seal report as in-toto attestations bound to AMIs.
    Attest(attest::AttestArgs),
    /// Verify Sigstore bundles written by `bakeproof attest`.
    VerifyAttestation(attest::VerifyArgs),
    /// Publish the output of `bakeproof attest` to a store (S3 or a directory).
    Publish(store_cmd::PublishArgs),
    /// Fetch an AMI's attestations from a store.
    Fetch(store_cmd::FetchArgs),
    /// First-boot check: this instance runs an attested, sealed, untampered image.
    Verify(boot::BootVerifyArgs),
}

fn main() -> ExitCode {
    // Like other Unix filters: `bakeproof ... | head` ends quietly when the
    // reader goes away, instead of a panic from a failed write to stdout
    // (Rust's runtime ignores SIGPIPE, turning it into EPIPE errors).
    // SAFETY: called first, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::VerifyPackages(args) => scan::run_verify(args),
        Command::Seal(cmd) => seal::run(cmd),
        Command::Diff(args) => diff::run(args),
        Command::Key(cmd) => attest::run_key(cmd),
        Command::Attest(args) => attest::run_attest(args),
        Command::VerifyAttestation(args) => attest::run_verify(args),
        Command::Publish(args) => store_cmd::run_publish(args),
        Command::Fetch(args) => store_cmd::run_fetch(args),
        Command::Verify(args) => boot::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("bakeproof: error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}
