//! `bakeproof publish` and `bakeproof fetch`. Layout and semantics:
//! docs/store.md; the work is in `bakeproof-store`.
//!
//! Exit codes: 0 done; 1 the store answered but its content is wrong or
//! incomplete (digest mismatch, an index naming a missing blob, a corrupt
//! index, no index for the AMI); 2 usage error, unusable input, or a store
//! that could not be used (unreachable, no such bucket, access denied, bad
//! credentials, throttled).

use anyhow::Result;
use bakeproof_store::{AmiRef, IndexPut, IndexWrite, StoreError};

use crate::args::store::{FetchArgs, PublishArgs, StoreArgs};
use crate::output::{exit, store_failure as fail};

fn open(a: &StoreArgs) -> Result<Box<dyn bakeproof_store::Store>, StoreError> {
    bakeproof_store::open_with(&a.store, &a.s3.options())
}

pub fn run_publish(a: PublishArgs) -> Result<u8> {
    // The keys first: an unreadable one is a usage error before anything
    // is uploaded.
    let keys = if a.key.is_empty() || a.no_tables {
        None
    } else {
        Some(
            bakeproof_attest::TrustedKeys::load_files(&a.key)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        )
    };
    let store = match open(&a.store) {
        Ok(s) => s,
        Err(e) => return Ok(fail("publish", &e)),
    };
    let mode = if a.replace {
        IndexWrite::Replace
    } else {
        IndexWrite::CreateOnly
    };
    match bakeproof_store::publish_attest_dir(store.as_ref(), &a.dir, mode) {
        Ok(r) => {
            for b in &r.blobs {
                println!(
                    "{} blob sha256:{} {} ({} bytes)",
                    if b.created { "stored " } else { "present" },
                    b.sha256,
                    b.file,
                    b.size
                );
            }
            for (ami, loc, put) in &r.indexes {
                let what = match put {
                    IndexPut::Created => "wrote  ",
                    IndexPut::Unchanged => "present",
                    IndexPut::Replaced => "replaced",
                };
                println!("{what} index {ami} {loc}");
            }
            let amis: Vec<AmiRef> = r.indexes.iter().map(|(a, _, _)| a.clone()).collect();
            match &keys {
                Some(k) => Ok(crate::commands::fleet::publish_tables(
                    store.as_ref(),
                    &amis,
                    k,
                    a.files_table,
                )),
                None if a.no_tables => Ok(exit::OK),
                None => {
                    crate::output::note(
                        "no fleet tables written: give --key PUB (or BAKEPROOF_PUBLIC_KEY) to \
                         derive them from the verified attestations, or run \
                         `bakeproof tables rebuild` later",
                    );
                    Ok(exit::OK)
                }
            }
        }
        Err(e) => Ok(fail("publish", &e)),
    }
}

pub fn run_fetch(a: FetchArgs) -> Result<u8> {
    let ami = match AmiRef::parse(&a.ami) {
        Ok(x) => x,
        Err(e) => return Ok(fail("fetch", &e.into())),
    };
    let store = match open(&a.store) {
        Ok(s) => s,
        Err(e) => return Ok(fail("fetch", &e)),
    };
    match bakeproof_store::fetch_ami(store.as_ref(), &ami, &a.output) {
        Ok(r) => {
            for f in &r.files {
                println!(
                    "fetched sha256:{} {} {}",
                    f.entry.sha256,
                    f.path.display(),
                    f.entry.predicate_type
                );
            }
            println!(
                "index   {ami} {} (tree {})",
                r.index_path.display(),
                r.index.tree_digest
            );
            Ok(exit::OK)
        }
        Err(e) => Ok(fail("fetch", &e)),
    }
}
