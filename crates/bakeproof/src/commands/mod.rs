//! One module per command family. Each command turns its arguments
//! (`crate::args`) into the libraries' resolved settings, makes the library
//! call, and renders the result through `crate::output`; the libraries never
//! see a clap struct.

pub mod artifacts;
pub mod attest;
pub mod audit;
pub mod boot;
pub mod diff;
pub mod meta;
pub mod scan;
pub mod seal;
pub mod seal_apply;
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
