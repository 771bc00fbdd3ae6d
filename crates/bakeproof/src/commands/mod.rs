//! One module per command family. Each command turns its arguments
//! (`crate::args`) into the libraries' resolved settings, makes the library
//! call, and renders the result through `crate::output`; the libraries never
//! see a clap struct.

pub mod artifacts;
pub mod attest;
pub mod audit;
pub mod boot;
pub mod diff;
pub mod ec2;
pub mod fleet;
pub mod lifecycle;
pub mod meta;
pub mod scan;
pub mod seal;
pub mod seal_apply;
pub mod source;
pub mod store;

use anyhow::Result;

/// `SOURCE_DATE_EPOCH` (seconds), which pins every timestamp bakeproof writes.
pub fn source_date_epoch() -> Result<Option<i64>> {
    Ok(resolved_source_date_epoch()?.map(bakeproof_types::SourceDateEpoch::secs))
}

/// The one place the CLI reads `SOURCE_DATE_EPOCH` (libraries take the
/// resolved value); the rule is [`bakeproof_types::SourceDateEpoch::resolve`].
pub fn resolved_source_date_epoch() -> Result<Option<bakeproof_types::SourceDateEpoch>> {
    Ok(bakeproof_types::SourceDateEpoch::resolve(
        std::env::var_os("SOURCE_DATE_EPOCH").as_deref(),
    )?)
}

/// The store options of a `REGION:AMI-ID` lookup, checked: `--endpoint-url`
/// and `--region` belong to an `s3://` store and are refused without one or
/// with another kind of store.
pub fn lookup_options(
    lookup: &crate::args::store::AmiLookupArgs,
) -> Result<bakeproof_store::StoreOptions> {
    let opts = lookup.s3.options();
    match &lookup.store {
        None if opts.endpoint_url.is_some() || opts.region.is_some() => anyhow::bail!(
            "--endpoint-url and --region are options of an s3:// --store, and no --store is given"
        ),
        None => {}
        Some(url) => bakeproof_store::check_options(url, &opts)?,
    }
    Ok(opts)
}

/// The bytes of the file `path`, refused (without reading them all) when
/// larger than `max`: `PATH: WHAT larger than MAX bytes: refusedHINT`.
pub fn read_capped(path: &std::path::Path, max: u64, what: &str, hint: &str) -> Result<Vec<u8>> {
    use anyhow::Context as _;
    use std::io::Read as _;
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut v = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut v)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if v.len() as u64 > max {
        anyhow::bail!(
            "{}: {what} larger than {max} bytes: refused{hint}",
            path.display()
        );
    }
    Ok(v)
}

/// A fetch-and-verify failure of the AMI `arg`, in words that say which
/// attestation failed (`diff`, `audit --sbom`).
pub fn fetch_error(arg: &str, e: bakeproof_boot::FetchError) -> anyhow::Error {
    match &e {
        bakeproof_boot::FetchError::NoSbom(_) => {
            anyhow::anyhow!("{arg}: the store holds no SBOM attestation for this AMI")
        }
        bakeproof_boot::FetchError::Verify { sha256, error, .. } => match e.bundle_kind() {
            Some(bakeproof_attest::PredicateKind::Seal) => {
                anyhow::anyhow!("{arg}: seal attestation {sha256} does not verify: {error}")
            }
            _ => anyhow::anyhow!("{arg}: no SBOM attestation verifies: bundle {sha256}: {error}"),
        },
        bakeproof_boot::FetchError::SbomRef { .. } => {
            anyhow::anyhow!("{arg}: referenced SBOM: {e}")
        }
        _ => anyhow::anyhow!("{arg}: {e}"),
    }
}

/// The attestations of `ami` (`arg` as the user wrote it) from the store at
/// `url`, verified with the public key `key`
/// ([`bakeproof_boot::fetch_attestations`]: every bundle the index lists,
/// the AMI among the subjects, a referenced SBOM against its pinned digest;
/// any doubt is an error), and the store to read a referenced SBOM from.
pub fn fetch_ami(
    arg: &str,
    ami: &bakeproof_attest::AmiRef,
    url: &str,
    opts: &bakeproof_store::StoreOptions,
    key: &std::path::Path,
    seal: bakeproof_boot::SealWanted,
) -> Result<(
    Box<dyn bakeproof_store::Store>,
    bakeproof_boot::Attestations,
)> {
    let keys =
        bakeproof_attest::TrustedKeys::load_files(&[key]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store =
        bakeproof_store::open_with(url, opts).map_err(|e| anyhow::anyhow!("store {url}: {e}"))?;
    let att = bakeproof_boot::fetch_attestations(
        &*store,
        &bakeproof_boot::FetchRequest {
            ami,
            keys: &keys,
            seal,
        },
    )
    .map_err(|e| fetch_error(arg, e))?;
    Ok((store, att))
}
