//! `bakeproof`: the command-line edge. `main` parses the command line
//! ([`args`]: clap definitions only) and dispatches to [`commands`] (each
//! turns its arguments into the libraries' settings, calls them and renders
//! the result); everything written to the terminal or an output file, and
//! the exit codes, go through [`output`]. Format details and the work live
//! in the libraries; this crate only decides what to print.

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

// The static (musl) builds: musl's allocator serialises the parallel scan
// (docs/release.md: the measurement); glibc builds keep glibc's malloc.
// Feature `musl-malloc` keeps musl's (to measure it again).
#[cfg(all(target_env = "musl", not(feature = "musl-malloc")))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Like other Unix filters: `bakeproof ... | head` ends quietly when the
    // reader goes away, instead of a panic from a failed write to stdout
    // (Rust's runtime ignores SIGPIPE, turning it into EPIPE errors).
    // SAFETY: called first, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A walk holds a descriptor per directory level and worker: the soft
    // limit goes up to the hard one, process-wide, so it is the binary's
    // decision, never a library's.
    bakeproof_index::raise_fd_limit();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return output::usage_exit(&e),
    };
    if let Err(e) = output::init_logging(cli.verbose) {
        return output::exit_code(Err(e));
    }
    output::exit_code(match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::VerifyPackages(args) => commands::scan::run_verify(args),
        Command::Seal(cmd) => commands::seal::run(cmd),
        Command::Diff(args) => commands::diff::run(args),
        Command::Key(cmd) => commands::attest::run_key(cmd),
        Command::Attest(args) => commands::attest::run_attest(args),
        Command::VerifyAttestation(args) => commands::attest::run_verify(args),
        Command::Publish(args) => commands::store::run_publish(args),
        Command::Fetch(args) => commands::store::run_fetch(args),
        Command::Tables(cmd) => commands::fleet::run_tables(cmd),
        Command::Query(args) => commands::fleet::run_query(args),
        Command::Verify(args) => commands::boot::run(args),
        Command::Version(args) => commands::meta::run_version(args),
        Command::Completion(args) => commands::meta::run_completion(args),
        Command::Man(args) => commands::meta::run_man(args),
        Command::AttestArtifacts(args) => commands::artifacts::run_attest(args),
        Command::VerifyArtifacts(args) => commands::artifacts::run_verify(args),
        Command::Audit(args) => commands::audit::run(args),
        Command::Lifecycle(cmd) => commands::lifecycle::run(cmd),
        Command::Channel(cmd) => commands::lifecycle::run_channel(cmd),
    })
}
