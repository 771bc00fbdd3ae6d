//! `bakeproof publish` and `bakeproof fetch`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// The store: s3://BUCKET[/PREFIX], file:///DIR, or a directory path.
    #[arg(long, value_name = "URL", env = "BAKEPROOF_STORE")]
    pub store: String,
    #[command(flatten)]
    pub s3: S3Args,
}

/// How an `s3://` store is reached: the same two flags on every command
/// that opens a store (`publish`, `fetch`, `verify`, `diff`). Given with a
/// store that is not `s3://`, they are refused (the store would silently be
/// a local directory).
#[derive(Args, Debug, Clone, Default)]
pub struct S3Args {
    /// S3 endpoint for S3-compatible servers (path-style addressing);
    /// default AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The store bucket's region (default AWS_REGION / AWS_DEFAULT_REGION,
    /// or the profile's).
    #[arg(long, value_name = "REGION", visible_alias = "store-region")]
    pub region: Option<String>,
}

impl S3Args {
    /// The store's options.
    pub fn options(&self) -> bakeproof_store::StoreOptions {
        bakeproof_store::StoreOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
        }
    }
}

/// Where `REGION:AMI-ID` arguments are looked up (`diff`, `audit --sbom`):
/// the store, its S3 options and the key its attestations must be signed
/// with.
#[derive(Args, Debug, Clone, Default)]
pub struct AmiLookupArgs {
    /// Attestation store to look `REGION:AMI-ID` up in (s3://BUCKET[/PREFIX],
    /// file:///DIR or a directory).
    #[arg(long, value_name = "URL", env = "BAKEPROOF_STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    /// Public key the AMI's attestations must be signed with (verified
    /// before any of them is used).
    #[arg(long, value_name = "PUB", env = "BAKEPROOF_PUBLIC_KEY")]
    pub key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The output directory of `bakeproof attest` (bundles and index.json).
    pub dir: PathBuf,
    /// Supersede an AMI's index that is already in the store with different
    /// content (default: an AMI is published once; a different index there
    /// is a conflict, exit 1; an identical one is left as it is).
    #[arg(long)]
    pub replace: bool,
    /// Public keys the attestations are checked against before the fleet
    /// tables are derived from them (repeatable; docs/fleet.md). Without
    /// one, no tables are written (`bakeproof tables rebuild` later).
    #[arg(long, value_name = "PUB", env = "BAKEPROOF_PUBLIC_KEY")]
    pub key: Vec<PathBuf>,
    /// Also write the `files` table (one row per file: the large one).
    #[arg(long)]
    pub files_table: bool,
    /// Write no fleet tables.
    #[arg(long, conflicts_with = "files_table")]
    pub no_tables: bool,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The AMI, REGION:AMI-ID.
    #[arg(long, value_name = "REGION:AMI-ID")]
    pub ami: String,
    /// Output directory (bundles under their names, and store-index.json).
    #[arg(short, long)]
    pub output: PathBuf,
}
