//! `bakeproof tables rebuild`, `bakeproof query`, and the fleet side of
//! `publish` and `verify --report`. The work is in `bakeproof-fleet`
//! (docs/fleet.md).
//!
//! Exit codes: `query`: 0 nothing matched (no instance to report), 1
//! something matched (a CI gate), 2 usage error or a store that could not
//! be read. `tables rebuild`: 0 every AMI's tables written, 1 an AMI whose
//! attestations did not verify (the others are written), 2 the store could
//! not be used.

use std::io::Write as _;

use anyhow::{Context, Result};
use bakeproof_attest::{AmiRef, TrustedKeys};
use bakeproof_fleet::derive::TableChoice;
use bakeproof_fleet::query::{Answer, Query};
use bakeproof_fleet::reports::FleetFindings;
use bakeproof_fleet::tables::{PartFilter, TablesWritten};
use bakeproof_fleet::{FleetError, sql};
use bakeproof_store::Store;

use crate::args::fleet::{FleetFormat, QueryArgs, SqlDialect, TablesCommand, TablesRebuildArgs};
use crate::output::{exit, store_failure};

fn fleet_failure(cmd: &str, e: &FleetError) -> u8 {
    if let FleetError::Store(s) = e {
        return store_failure(cmd, s);
    }
    eprintln!("bakeproof {cmd}: error: {e}");
    if e.is_integrity() {
        exit::FINDINGS
    } else {
        exit::ERROR
    }
}

pub fn run_tables(cmd: TablesCommand) -> Result<u8> {
    match cmd {
        TablesCommand::Rebuild(a) => run_rebuild(a),
    }
}

/// One line per table file written (for `publish` and `tables rebuild`).
pub fn print_written(w: &TablesWritten) {
    for (p, how) in &w.parts {
        println!(
            "{:<9} table {} {} ({} rows, sha256:{})",
            how.as_str(),
            p.table,
            p.key,
            p.rows,
            p.sha256
        );
    }
    println!(
        "{:<9} tables {} {}",
        w.manifest.as_str(),
        w.ami,
        w.manifest_key
    );
}

/// The fleet tables of the AMIs `publish` just indexed.
pub fn publish_tables(store: &dyn Store, amis: &[AmiRef], keys: &TrustedKeys, files: bool) -> u8 {
    let mut code = exit::OK;
    for ami in amis {
        match bakeproof_fleet::tables::build_ami(store, ami, keys, TableChoice { files }) {
            Ok(w) => print_written(&w),
            Err(e) => code = code.max(fleet_failure("publish", &e)),
        }
    }
    code
}

/// After a lifecycle record: the AMI's fleet tables again (its state and
/// labels are in them), when the store has tables for it. What happened,
/// for the command's output (`None`: no tables to refresh). A failure is
/// reported, never fatal: the record is written.
pub fn refresh_after_lifecycle(
    store: &dyn Store,
    ami: &AmiRef,
    keys: &TrustedKeys,
) -> Option<String> {
    let m = match bakeproof_fleet::tables::read_manifest(store, ami) {
        Ok(Some(m)) => m,
        Ok(None) => return None,
        Err(e) => return Some(format!("not refreshed: {e}")),
    };
    let files = m.parts.iter().any(|p| p.table == "files");
    Some(
        match bakeproof_fleet::tables::build_ami(store, ami, keys, TableChoice { files }) {
            Ok(w) => {
                let changed = w
                    .parts
                    .iter()
                    .filter(|(_, h)| *h != bakeproof_fleet::tables::Written::Unchanged)
                    .count();
                format!("refreshed ({changed} of {} files rewritten)", w.parts.len())
            }
            Err(e) => {
                crate::output::warn(format!("the fleet tables of {ami} were not refreshed: {e}"));
                format!("not refreshed: {e}")
            }
        },
    )
}

fn run_rebuild(a: TablesRebuildArgs) -> Result<u8> {
    bakeproof_store::check_options(&a.store.store, &a.store.s3.options())?;
    let keys = TrustedKeys::load_files(&a.key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let only = a
        .ami
        .iter()
        .map(|s| AmiRef::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let store = match bakeproof_store::open_with(&a.store.store, &a.store.s3.options()) {
        Ok(s) => s,
        Err(e) => return Ok(store_failure("tables rebuild", &e)),
    };
    let done = match bakeproof_fleet::tables::rebuild(
        store.as_ref(),
        &keys,
        TableChoice { files: a.files },
        (!only.is_empty()).then_some(&only[..]),
        a.threads,
    ) {
        Ok(d) => d,
        Err(e) => return Ok(fleet_failure("tables rebuild", &e)),
    };
    let mut code = exit::OK;
    let mut json = Vec::new();
    for r in &done {
        match &r.result {
            Ok(w) => {
                if a.format == FleetFormat::Text {
                    print_written(w);
                }
                json.push(serde_json::json!({"ami": r.ami.to_string(), "ok": true, "written": w}));
            }
            Err(e) => {
                code = code.max(fleet_failure("tables rebuild", e));
                json.push(
                    serde_json::json!({"ami": r.ami.to_string(), "ok": false, "error": e.to_string()}),
                );
            }
        }
    }
    if a.format == FleetFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "amis": json }))?
        );
    } else {
        let ok = done.iter().filter(|r| r.result.is_ok()).count();
        println!("rebuilt the tables of {ok} of {} AMIs", done.len());
    }
    Ok(code)
}

pub fn run_query(a: QueryArgs) -> Result<u8> {
    if let Some(d) = a.sql {
        let q = Query::parse(&a.terms)?;
        let dialect = match d {
            SqlDialect::Athena => sql::Dialect::Athena,
            SqlDialect::Spark => sql::Dialect::Spark,
            SqlDialect::Duckdb => sql::Dialect::DuckDb,
        };
        println!("{}", sql::packages_query(&q, dialect)?);
        return Ok(exit::OK);
    }
    let url = a
        .store
        .as_deref()
        .context("--store URL (or BAKEPROOF_STORE) is needed to answer a query")?;
    bakeproof_store::check_options(url, &a.s3.options())?;
    let q = if a.reports {
        None
    } else {
        Some(Query::parse(&a.terms)?)
    };
    let store = match bakeproof_store::open_with(url, &a.s3.options()) {
        Ok(s) => s,
        Err(e) => return Ok(store_failure("query", &e)),
    };
    let filter = PartFilter {
        regions: a.in_region.clone(),
        amis: a.ami.clone(),
    };
    let mut out = std::io::stdout().lock();
    let code = match q {
        None => match bakeproof_fleet::reports::findings(store.as_ref(), &filter, a.threads) {
            Ok(f) => {
                match a.format {
                    FleetFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&f)?)?,
                    FleetFormat::Text => render_findings(&f, &mut out)?,
                }
                if f.any() { exit::FINDINGS } else { exit::OK }
            }
            Err(e) => fleet_failure("query", &e),
        },
        Some(q) => match bakeproof_fleet::query::run(store.as_ref(), &q, &filter, a.threads) {
            Ok(ans) => {
                match a.format {
                    FleetFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&ans)?)?,
                    FleetFormat::Text => render_answer(&ans, &mut out)?,
                }
                if ans.matches.is_empty() {
                    exit::OK
                } else {
                    exit::FINDINGS
                }
            }
            Err(e) => fleet_failure("query", &e),
        },
    };
    out.flush().context("writing to standard output")?;
    Ok(code)
}

fn dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn render_answer(a: &Answer, out: &mut dyn std::io::Write) -> Result<()> {
    if !a.matches.is_empty() {
        writeln!(
            out,
            "{:<15} {:<21} {:<16} {:<10} {:<6} {:<24} FOUND",
            "REGION", "AMI", "APPLICATION", "VERSION", "TYPE", "PACKAGE"
        )?;
    }
    for m in &a.matches {
        writeln!(
            out,
            "{:<15} {:<21} {:<16} {:<10} {:<6} {:<24} {}",
            m.region,
            m.ami,
            dash(&m.application),
            dash(&m.image_version),
            dash(&m.ecosystem),
            m.name,
            m.version
        )?;
    }
    writeln!(out, "{} of {} AMIs contain {}", a.amis, a.searched, a.query)?;
    Ok(())
}

fn render_findings(f: &FleetFindings, out: &mut dyn std::io::Write) -> Result<()> {
    for i in &f.not_verified {
        writeln!(
            out,
            "NOT VERIFIED {} {}:{} {} {} {}",
            i.instance_id,
            i.region,
            dash(&i.ami),
            dash(&i.result),
            dash(&i.time),
            if i.failed_checks.is_empty() {
                String::new()
            } else {
                format!("(failed: {})", i.failed_checks.join(","))
            }
        )?;
    }
    for g in &f.ghosts {
        writeln!(
            out,
            "GHOST {} {} shared by {} instances: {} (AMIs {})",
            g.kind,
            g.value,
            g.instances.len(),
            g.instances.join(" "),
            g.amis.join(" ")
        )?;
    }
    writeln!(
        out,
        "{} instances ({} reports): {} not verified, {} shared identities",
        f.instances,
        f.reports,
        f.not_verified.len(),
        f.ghosts.len()
    )?;
    Ok(())
}
