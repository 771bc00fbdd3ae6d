//! `validate-cyclonedx FILE...`: validates CycloneDX 1.5 JSON files against
//! the official schema in `schemas/` (the same check as the Rust tests; for
//! SBOMs too large for the Python validator, e.g. a scan of a whole `/`).
//! An example of the `bakeproof` package:
//! `cargo run -p bakeproof --example validate-cyclonedx -- FILE...`.

#[allow(dead_code)]
#[path = "../common/schema.rs"]
mod schema;

fn main() -> std::process::ExitCode {
    let mut failed = false;
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        match schema::validate_cyclonedx_1_5_file(&path) {
            Ok(()) => println!("{}: valid CycloneDX 1.5", path.display()),
            Err(errs) => {
                failed = true;
                eprintln!("{}: {} schema errors", path.display(), errs.len());
                for e in errs.iter().take(20) {
                    eprintln!("  {e}");
                }
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
