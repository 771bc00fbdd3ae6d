//! `bakeproof tables` and `bakeproof query` (the fleet inventory,
//! docs/fleet.md).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::args::store::StoreArgs;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetFormat {
    Text,
    Json,
}

/// An engine whose SQL `query --sql` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    /// Amazon Athena and Trino.
    Athena,
    /// Spark SQL.
    Spark,
    /// DuckDB.
    Duckdb,
}

#[derive(Subcommand, Debug)]
pub enum TablesCommand {
    /// Derive every published AMI's tables again from its verified
    /// attestations (an existing store, a new schema version, a lost
    /// table). An unchanged AMI's files are left as they are.
    Rebuild(TablesRebuildArgs),
}

#[derive(Args, Debug)]
pub struct TablesRebuildArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Public keys the attestations must be signed with (repeatable); no
    /// table is derived from a bundle none of them signed.
    #[arg(
        long,
        value_name = "PUB",
        env = "BAKEPROOF_PUBLIC_KEY",
        required = true
    )]
    pub key: Vec<PathBuf>,
    /// Also write the `files` table (one row per file: the large one).
    #[arg(long)]
    pub files: bool,
    /// Only these AMIs (REGION:AMI-ID, repeatable; default: every published one).
    #[arg(long, value_name = "REGION:AMI-ID")]
    pub ami: Vec<String>,
    /// AMIs rebuilt at a time.
    #[arg(long, default_value_t = 8)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    pub format: FleetFormat,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The store holding the tables (s3://BUCKET[/PREFIX], file:///DIR, a
    /// directory). Not needed with --sql.
    #[arg(long, value_name = "URL", env = "BAKEPROOF_STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub s3: crate::args::store::S3Args,
    /// `PACKAGE [OP VERSION]...`: a name or a purl (`pkg:deb/debian/xz-utils`,
    /// `pkg:...@VERSION`), operators >= > = <= < !=; a package repeated
    /// continues its range (`xz-utils >= 5.6.0 xz-utils < 5.6.2`), another
    /// package is another term (any may match).
    #[arg(
        value_name = "PACKAGE [OP VERSION]",
        required_unless_present = "reports"
    )]
    pub terms: Vec<String>,
    /// List the instances whose newest boot report did not verify, and
    /// ghost identities (instances sharing a machine-id or an SSH host
    /// key), from `verify --report`'s boot results.
    #[arg(long, conflicts_with_all = ["terms", "sql"])]
    pub reports: bool,
    /// Only these regions (repeatable).
    #[arg(long, value_name = "REGION")]
    pub in_region: Vec<String>,
    /// Only these AMI ids (repeatable).
    #[arg(long, value_name = "AMI-ID")]
    pub ami: Vec<String>,
    /// Print the same question as SQL for an engine over the tables
    /// (docs/fleet.md) instead of answering it.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub sql: Option<SqlDialect>,
    /// Table files read at a time.
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    pub format: FleetFormat,
}
