//! `bakeproof lifecycle ...` and `bakeproof channel ...`: flags -> the
//! lifecycle library's operations ([`bakeproof_lifecycle::ops`]) -> text or
//! JSON. Formats, states and the boot semantics: docs/lifecycle.md.
//!
//! Exit codes: 0 done; 1 refused by what the store holds (a transition the
//! state does not allow, a channel on an AMI that is not approved, an AMI
//! not published, a broken chain, a status document that is expired or
//! inconsistent); 2 the store unreachable, a usage or key error.

use anyhow::{Context, Result};
use bakeproof_attest::{AmiRef, Signer, TrustedKeys};
use bakeproof_lifecycle::chain::Ignored;
use bakeproof_lifecycle::model::{Labels, RecordPredicate};
use bakeproof_lifecycle::ops::{self, ChannelRequest, RecordRequest, Writer};
use bakeproof_lifecycle::time::{parse_duration, parse_rfc3339};
use bakeproof_lifecycle::{Action, LifecycleError, status};
use bakeproof_store::{Store, StoreOptions};
use serde_json::{Value, json};

use crate::args::attest::SigningKeyArgs;
use crate::args::lifecycle::{
    ChannelCommand, ChannelSetArgs, ChannelShowArgs, LifecycleCommand, LifecycleFormat, ListArgs,
    ReaderArgs, RecordArgs, RefreshArgs, ShowArgs, WriterArgs,
};
use crate::args::store::StoreArgs;
use crate::output::exit;

pub fn run(cmd: LifecycleCommand) -> Result<u8> {
    match cmd {
        LifecycleCommand::Test(a) => run_record(Action::Test, a),
        LifecycleCommand::Approve(a) => run_record(Action::Approve, a),
        LifecycleCommand::Deprecate(a) => run_record(Action::Deprecate, a),
        LifecycleCommand::Revoke(a) => run_record(Action::Revoke, a),
        LifecycleCommand::Restore(a) => run_record(Action::Restore, a),
        LifecycleCommand::Status(a) => run_status(a),
        LifecycleCommand::History(a) => run_history(a),
        LifecycleCommand::List(a) => run_list(a),
        LifecycleCommand::Refresh(a) => run_refresh(a),
        LifecycleCommand::FindUsage(a) => super::ec2::run_find_usage(a),
        LifecycleCommand::Cleanup(a) => super::ec2::run_cleanup(a),
    }
}

pub fn run_channel(cmd: ChannelCommand) -> Result<u8> {
    match cmd {
        ChannelCommand::Set(a) => run_channel_set(a),
        ChannelCommand::Get(a) => run_channel_show(a, false),
        ChannelCommand::History(a) => run_channel_show(a, true),
    }
}

/// A lifecycle error as its exit code (printed on standard error):
/// refused by what the store holds, 1; anything else, 2.
fn failure(cmd: &str, e: &LifecycleError) -> u8 {
    eprintln!("bakeproof {cmd}: error: {e}");
    match e {
        LifecycleError::Transition(_)
        | LifecycleError::NotApproved { .. }
        | LifecycleError::NotPublished(_)
        | LifecycleError::Chain(_)
        | LifecycleError::Status(_) => exit::FINDINGS,
        LifecycleError::Store(s) if s.is_integrity() => exit::FINDINGS,
        _ => exit::ERROR,
    }
}

fn open_store(url: &str, opts: &StoreOptions) -> Result<Box<dyn Store>> {
    bakeproof_store::check_options(url, opts)?;
    bakeproof_store::open_with(url, opts).map_err(|e| anyhow::anyhow!("store {url}: {e}"))
}

fn store_of(a: &StoreArgs) -> Result<Box<dyn Store>> {
    open_store(&a.store, &a.s3.options())
}

fn now() -> i64 {
    bakeproof_sbom::cyclonedx::now_secs()
}

fn date(flag: &str, s: &str) -> Result<i64> {
    parse_rfc3339(s)
        .with_context(|| format!("{flag} {s:?}: not an RFC 3339 date-time nor YYYY-MM-DD"))
}

fn reader_keys(r: &ReaderArgs) -> Result<TrustedKeys> {
    TrustedKeys::load_files(&r.key).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The signer and the keys whose records count (the signer's own among them).
fn writer_keys(w: &WriterArgs) -> Result<(Box<dyn Signer>, TrustedKeys, i64)> {
    let validity = parse_duration(&w.valid_for)
        .with_context(|| format!("--valid-for {:?}: a duration like 12h or 7d", w.valid_for))?;
    let mut trusted = if w.trusted_key.is_empty() {
        TrustedKeys::default()
    } else {
        TrustedKeys::load_files(&w.trusted_key).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let signer = super::attest::open_signer(&SigningKeyArgs {
        key: w.key.clone(),
        region: w.kms_region.clone(),
    })?;
    trusted.insert(signer.public_key());
    Ok((signer, trusted, validity))
}

fn print_json(v: &Value) -> Result<u8> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    crate::output::print_text(&s)?;
    Ok(exit::OK)
}

fn labels_json(l: &Labels) -> Value {
    serde_json::to_value(l).unwrap_or(Value::Null)
}

fn record_json(p: &RecordPredicate, digest: &str) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("digest".into(), json!(digest));
    }
    v
}

fn record_line(p: &RecordPredicate, digest: &str) -> String {
    let mut s = format!(
        "{:>4} {} {:<9} {} -> {} by {} {digest}",
        p.sequence, p.time, p.action, p.previous_state, p.state, p.signer
    );
    if let Some(e) = &p.effective {
        s.push_str(&format!(" effective {e}"));
    }
    if let Some(r) = &p.reason {
        s.push_str(&format!(" reason: {r}"));
    }
    s
}

fn ignored_lines(ignored: &[Ignored]) -> String {
    ignored
        .iter()
        .map(|i| {
            format!(
                "  ignored record {} ({}): {}\n",
                i.sequence, i.digest, i.why
            )
        })
        .collect()
}

fn run_record(action: Action, a: RecordArgs) -> Result<u8> {
    let cmd = format!("lifecycle {action}");
    let ami = AmiRef::parse(&a.ami)?;
    if action.needs_reason() && a.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        anyhow::bail!("{action} needs --reason TEXT");
    }
    if a.at.is_some() && action != Action::Deprecate {
        anyhow::bail!("--at DATE is an option of deprecate");
    }
    let effective = a.at.as_deref().map(|s| date("--at", s)).transpose()?;
    let mut labels = match &a.packer_manifest {
        Some(p) => {
            let bytes = super::read_capped(p, 16 << 20, "Packer manifest", "")?;
            Labels::from_packer_manifest(&bytes, &ami.to_string())
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None => Labels::default(),
    };
    labels = labels.merged(&Labels {
        application: a.application.clone(),
        version: a.version.clone(),
        build_date: a.build_date.clone(),
        extra: Default::default(),
    });
    if let Some(d) = &labels.build_date {
        date("--build-date", d)?;
    }
    let store = store_of(&a.store)?;
    let (signer, trusted, validity) = writer_keys(&a.writer)?;
    let w = Writer {
        store: store.as_ref(),
        signer: signer.as_ref(),
        trusted,
        now: now(),
        status_validity_secs: validity,
    };
    let req = RecordRequest {
        ami: ami.clone(),
        action,
        reason: a.reason.clone(),
        effective,
        labels,
    };
    let rec = match ops::record(&w, &req) {
        Ok(r) => r,
        Err(e) => return Ok(failure(&cmd, &e)),
    };
    let p = &rec.record.predicate;
    let mut readers = w.trusted.clone();
    readers.insert(w.signer.public_key());
    let tables = super::fleet::refresh_after_lifecycle(store.as_ref(), &ami, &readers);
    let ec2 = super::ec2::Ec2Outcome::after(&a.ec2, store.as_ref(), &ami, &w.trusted, w.now);
    if a.format == LifecycleFormat::Json {
        let mut v = json!({
            "record": record_json(p, &rec.record.digest),
            "key": rec.key,
            "conflicts": rec.conflicts,
            "statusVersion": rec.status.version,
            "statusExpires": rec.status.expires,
            "tables": tables,
        });
        ec2.add_json(&mut v);
        print_json(&v)?;
        return Ok(ec2.exit(&cmd, exit::OK));
    }
    let mut s = format!(
        "{ami}: {} -> {} (record {}, {})\nstatus document version {}, expires {}\n",
        p.previous_state,
        p.state,
        p.sequence,
        rec.record.digest,
        rec.status.version,
        rec.status.expires
    );
    if rec.conflicts > 0 {
        s.push_str(&format!(
            "({} concurrent write(s) took the slot first; re-read and retried)\n",
            rec.conflicts
        ));
    }
    if let Some(t) = &tables {
        s.push_str(&format!("fleet tables: {t}\n"));
    }
    s.push_str(&ec2.text());
    crate::output::print_text(&s)?;
    Ok(ec2.exit(&cmd, exit::OK))
}

/// The AMI's chain and what the status document says of it.
struct Checked {
    chain: bakeproof_lifecycle::AmiChain,
    status: Option<bakeproof_lifecycle::record::Opened<bakeproof_lifecycle::StatusPredicate>>,
    /// Why the status document is refused (expired, inconsistent).
    refused: Option<String>,
}

fn checked(store: &dyn Store, ami: &AmiRef, keys: &TrustedKeys) -> Result<Checked, LifecycleError> {
    let status = ops::read_status(store, keys)?;
    let chain = ops::read_ami_chain(store, ami, None, keys)?;
    let refused = status.as_ref().and_then(|s| {
        status::check_fresh(&s.predicate, now(), None)
            .and_then(|()| status::check_ami(&s.predicate, &chain))
            .err()
            .map(|e| e.to_string())
    });
    Ok(Checked {
        chain,
        status,
        refused,
    })
}

fn run_status(a: ShowArgs) -> Result<u8> {
    let ami = AmiRef::parse(&a.ami)?;
    let keys = reader_keys(&a.reader)?;
    let store = store_of(&a.store)?;
    let c = match checked(store.as_ref(), &ami, &keys) {
        Ok(c) => c,
        Err(e) => return Ok(failure("lifecycle status", &e)),
    };
    let state = c.chain.state();
    let head = c.chain.head();
    let labels = head.map(|r| r.predicate.labels.clone()).unwrap_or_default();
    let code = if c.refused.is_some() {
        exit::FINDINGS
    } else {
        exit::OK
    };
    if a.format == LifecycleFormat::Json {
        print_json(&json!({
            "ami": ami.to_string(),
            "state": state,
            "labels": labels_json(&labels),
            "head": head.map(|r| record_json(&r.predicate, &r.digest)),
            "statusVersion": c.status.as_ref().map(|s| s.predicate.version),
            "statusExpires": c.status.as_ref().map(|s| s.predicate.expires.clone()),
            "statusRefused": c.refused,
            "ignored": c.chain.ignored,
        }))?;
        return Ok(code);
    }
    let mut s = match head {
        Some(r) => format!("{ami}: {state}\n{}\n", record_line(&r.predicate, &r.digest)),
        None => format!("{ami}: {state} (no record)\n"),
    };
    for (k, v) in [
        ("application", &labels.application),
        ("version", &labels.version),
        ("build date", &labels.build_date),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("  {k}: {v}\n"));
        }
    }
    match (&c.status, &c.refused) {
        (_, Some(why)) => s.push_str(&format!("status document REFUSED: {why}\n")),
        (Some(st), None) => s.push_str(&format!(
            "status document version {}, expires {}\n",
            st.predicate.version, st.predicate.expires
        )),
        (None, None) => s.push_str("the store has no status document\n"),
    }
    s.push_str(&ignored_lines(&c.chain.ignored));
    crate::output::print_text(&s)?;
    Ok(code)
}

fn run_history(a: ShowArgs) -> Result<u8> {
    let ami = AmiRef::parse(&a.ami)?;
    let keys = reader_keys(&a.reader)?;
    let store = store_of(&a.store)?;
    let c = match checked(store.as_ref(), &ami, &keys) {
        Ok(c) => c,
        Err(e) => return Ok(failure("lifecycle history", &e)),
    };
    let code = if c.refused.is_some() {
        exit::FINDINGS
    } else {
        exit::OK
    };
    if a.format == LifecycleFormat::Json {
        let records: Vec<Value> = c
            .chain
            .records
            .iter()
            .map(|r| record_json(&r.predicate, &r.digest))
            .collect();
        print_json(&json!({
            "ami": ami.to_string(),
            "state": c.chain.state(),
            "records": records,
            "ignored": c.chain.ignored,
            "statusRefused": c.refused,
        }))?;
        return Ok(code);
    }
    let mut s = format!("{ami}: {}\n", c.chain.state());
    for r in &c.chain.records {
        s.push_str(&record_line(&r.predicate, &r.digest));
        s.push('\n');
    }
    s.push_str(&ignored_lines(&c.chain.ignored));
    if let Some(why) = &c.refused {
        s.push_str(&format!("status document REFUSED: {why}\n"));
    }
    crate::output::print_text(&s)?;
    Ok(code)
}

fn run_list(a: ListArgs) -> Result<u8> {
    let keys = reader_keys(&a.reader)?;
    let store = store_of(&a.store)?;
    let all = match ops::list(store.as_ref(), &keys) {
        Ok(v) => v,
        Err(e) => return Ok(failure("lifecycle list", &e)),
    };
    if a.format == LifecycleFormat::Json {
        let v: Vec<Value> = all
            .iter()
            .map(|s| {
                json!({
                    "ami": s.ami.to_string(),
                    "state": s.state,
                    "labels": labels_json(&s.labels),
                    "published": s.published,
                    "changed": s.changed,
                    "treeDigest": s.tree_digest,
                })
            })
            .collect();
        return print_json(&json!({ "amis": v }));
    }
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut s = format!(
        "{:<32} {:<10} {:<20} {:<12} {}\n",
        "AMI", "STATE", "APPLICATION", "VERSION", "BUILD DATE"
    );
    for a in &all {
        s.push_str(&format!(
            "{:<32} {:<10} {:<20} {:<12} {}\n",
            a.ami.to_string(),
            a.state.as_str(),
            dash(&a.labels.application),
            dash(&a.labels.version),
            a.labels
                .build_date
                .clone()
                .unwrap_or_else(|| a.published.clone())
        ));
    }
    crate::output::print_text(&s)?;
    Ok(exit::OK)
}

fn run_refresh(a: RefreshArgs) -> Result<u8> {
    let store = store_of(&a.store)?;
    let (signer, trusted, validity) = writer_keys(&a.writer)?;
    let w = Writer {
        store: store.as_ref(),
        signer: signer.as_ref(),
        trusted,
        now: now(),
        status_validity_secs: validity,
    };
    let st = match ops::refresh_status(&w) {
        Ok(s) => s,
        Err(e) => return Ok(failure("lifecycle refresh", &e)),
    };
    if a.format == LifecycleFormat::Json {
        return print_json(&serde_json::to_value(&st)?);
    }
    crate::output::print_text(&format!(
        "status document version {}, issued {}, expires {}: {} AMI(s), {} channel(s)\n",
        st.version,
        st.issued,
        st.expires,
        st.amis.len(),
        st.channels.len()
    ))?;
    Ok(exit::OK)
}

fn run_channel_set(a: ChannelSetArgs) -> Result<u8> {
    bakeproof_lifecycle::model::check_channel_name(&a.name).map_err(anyhow::Error::msg)?;
    let ami = AmiRef::parse(&a.ami)?;
    let at = a.at.as_deref().map(|s| date("--at", s)).transpose()?;
    let store = store_of(&a.store)?;
    let (signer, trusted, validity) = writer_keys(&a.writer)?;
    let now = now();
    let w = Writer {
        store: store.as_ref(),
        signer: signer.as_ref(),
        trusted,
        now,
        status_validity_secs: validity,
    };
    let req = ChannelRequest {
        channel: a.name.clone(),
        ami: ami.clone(),
        reason: a.reason.clone(),
        deprecate_previous: a.deprecate_previous.then_some(at.unwrap_or(now)),
    };
    let set = match ops::set_channel(&w, &req) {
        Ok(s) => s,
        Err(e) => return Ok(failure("channel set", &e)),
    };
    let head = set.chain.records.last();
    let ec2 = match &set.deprecated {
        Some(d) => match AmiRef::parse(&d.record.predicate.ami) {
            Ok(prev) => {
                super::ec2::Ec2Outcome::after(&a.ec2, store.as_ref(), &prev, &w.trusted, now)
            }
            Err(e) => super::ec2::Ec2Outcome::failed(&a.ec2, e.to_string()),
        },
        None => super::ec2::Ec2Outcome::none(),
    };
    if a.format == LifecycleFormat::Json {
        let mut v = json!({
            "channel": a.name,
            "region": ami.region(),
            "ami": ami.to_string(),
            "sequence": head.map(|r| r.predicate.sequence),
            "digest": head.map(|r| r.digest.clone()),
            "previous": set.previous.as_ref().map(ToString::to_string),
            "deprecated": set.deprecated.as_ref().map(|d| record_json(&d.record.predicate, &d.record.digest)),
            "statusVersion": set.status.version,
        });
        ec2.add_json(&mut v);
        print_json(&v)?;
        return Ok(ec2.exit("channel set", exit::OK));
    }
    let mut s = format!(
        "channel {}@{} -> {ami} (record {})\n",
        a.name,
        ami.region(),
        head.map_or(0, |r| r.predicate.sequence)
    );
    if let Some(p) = &set.previous {
        s.push_str(&format!("previously {p}\n"));
    }
    if let Some(d) = &set.deprecated {
        let p = &d.record.predicate;
        s.push_str(&format!(
            "{} deprecated from {} (record {})\n",
            p.ami,
            p.effective.as_deref().unwrap_or(&p.time),
            p.sequence
        ));
    }
    s.push_str(&format!("status document version {}\n", set.status.version));
    s.push_str(&ec2.text());
    crate::output::print_text(&s)?;
    Ok(ec2.exit("channel set", exit::OK))
}

fn run_channel_show(a: ChannelShowArgs, history: bool) -> Result<u8> {
    let cmd = if history {
        "channel history"
    } else {
        "channel get"
    };
    bakeproof_lifecycle::model::check_channel_name(&a.name).map_err(anyhow::Error::msg)?;
    let keys = reader_keys(&a.reader)?;
    let opts = StoreOptions {
        endpoint_url: a.endpoint_url.clone(),
        region: a.store_region.clone(),
    };
    let store = open_store(&a.store, &opts)?;
    let chain = match ops::read_channel(store.as_ref(), &a.name, &a.region, &keys) {
        Ok(c) => c,
        Err(e) => return Ok(failure(cmd, &e)),
    };
    let current = chain.current();
    if a.format == LifecycleFormat::Json {
        let records: Vec<Value> = chain
            .records
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(&r.predicate).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("digest".into(), json!(r.digest));
                }
                v
            })
            .collect();
        print_json(&json!({
            "channel": a.name,
            "region": a.region,
            "ami": current.as_ref().map(ToString::to_string),
            "amiId": current.as_ref().map(|c| c.ami_id().to_owned()),
            "records": if history { Value::Array(records) } else { Value::Null },
            "ignored": chain.ignored,
        }))?;
        return Ok(if current.is_some() {
            exit::OK
        } else {
            exit::FINDINGS
        });
    }
    if !history {
        return Ok(match current {
            Some(c) => {
                crate::output::print_text(&format!("{}\n", c.ami_id()))?;
                exit::OK
            }
            None => {
                eprintln!(
                    "bakeproof {cmd}: error: channel {}@{} is not set in this store",
                    a.name, a.region
                );
                exit::FINDINGS
            }
        });
    }
    let mut s = format!("channel {}@{}\n", a.name, a.region);
    for r in &chain.records {
        let p = &r.predicate;
        s.push_str(&format!(
            "{:>4} {} {} by {} {}{}\n",
            p.sequence,
            p.time,
            p.ami,
            p.signer,
            r.digest,
            p.reason
                .as_deref()
                .map(|r| format!(" reason: {r}"))
                .unwrap_or_default()
        ));
    }
    s.push_str(&ignored_lines(&chain.ignored));
    crate::output::print_text(&s)?;
    Ok(exit::OK)
}
