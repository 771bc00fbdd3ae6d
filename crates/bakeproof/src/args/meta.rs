//! `bakeproof version`, `bakeproof completion` and `bakeproof man`: what
//! packagers and shells need from the binary itself.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// JSON (`schemas/version.schema.json`): version, commit, dates, target.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Directory to write the pages into (`bakeproof.1` and one
    /// `bakeproof-COMMAND.1` per command), created if missing.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output_dir: PathBuf,
}
