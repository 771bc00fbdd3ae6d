//! EC2 on the lifecycle commands (docs/lifecycle.md "EC2"): the mirror
//! after a record (`--ec2`), `lifecycle find-usage`, `lifecycle cleanup`.
//! Exit codes: 0 done; 1 cleanup left something (a snapshot another image
//! maps); 2 EC2 or the store unusable.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, anyhow};
use serde_json::{Value, json};

use bakeproof_attest::{AmiRef, TrustedKeys};
use bakeproof_ec2::{
    CleanupOutcome, CleanupReport, DeprecationChange, Ec2, InstanceUse, Mirror, Mirrored,
};
use bakeproof_lifecycle::AmiChain;
use bakeproof_lifecycle::model::State;

use crate::args::ec2::{CleanupArgs, Ec2Args, Ec2Format, FindUsageArgs};
use crate::output::{exit, print_text};

/// What `--ec2` did after a write (nothing when not asked).
pub struct Ec2Outcome(Option<(String, Result<Mirrored, String>)>);

impl Ec2Outcome {
    pub fn none() -> Ec2Outcome {
        Ec2Outcome(None)
    }

    /// `--ec2` asked, and it cannot be done (`why`).
    pub fn failed(args: &Ec2Args, why: String) -> Ec2Outcome {
        Ec2Outcome(args.ec2.then(|| (String::new(), Err(why))))
    }

    /// With `--ec2`: `ami`'s chain, read back after the write, mirrored to EC2.
    pub fn after(
        args: &Ec2Args,
        store: &dyn bakeproof_store::Store,
        ami: &AmiRef,
        keys: &TrustedKeys,
        now: i64,
    ) -> Ec2Outcome {
        if !args.ec2 {
            return Ec2Outcome(None);
        }
        let r = mirror_after(store, ami, keys, now).map_err(|e| format!("{e:#}"));
        Ec2Outcome(Some((ami.to_string(), r)))
    }

    /// The `ec2` member of the command's JSON.
    pub fn add_json(&self, v: &mut Value) {
        if let Some((ami, r)) = &self.0 {
            v["ec2"] = match r {
                Ok(m) => mirror_json(m),
                Err(e) => json!({"ami": ami, "error": e}),
            };
        }
    }

    /// The lines of the command's text.
    pub fn text(&self) -> String {
        match &self.0 {
            Some((ami, Ok(m))) => format!("{}\n", mirror_text(ami, m)),
            _ => String::new(),
        }
    }

    /// `code`, or exit 2 (said on stderr) when the mirror failed.
    pub fn exit(&self, cmd: &str, code: u8) -> u8 {
        match &self.0 {
            Some((_, Err(e))) => {
                eprintln!("bakeproof {cmd}: error: --ec2: {e}");
                exit::ERROR
            }
            _ => code,
        }
    }
}

fn connect(region: &str) -> Result<Ec2> {
    Ec2::connect(region).map_err(|e| anyhow!("{e}"))
}

fn parse_ami(s: &str) -> Result<AmiRef> {
    AmiRef::parse(s).map_err(|e| anyhow!("{e}"))
}

/// `--ec2` after a record of `ami` was written: its chain read back from
/// the store (the state the record left, with the deprecation date a
/// restore returns to) mirrored to EC2. `now`: Unix seconds.
pub fn mirror_after(
    store: &dyn bakeproof_store::Store,
    ami: &AmiRef,
    keys: &TrustedKeys,
    now: i64,
) -> Result<Mirrored> {
    let chain = bakeproof_lifecycle::ops::read_ami_chain(store, ami, None, keys)
        .map_err(|e| anyhow!("{ami}: reading the chain back: {e}"))?;
    mirror_chain(&chain, now)
}

/// Mirrors the state of `chain` to its AMI in EC2. `now`: Unix seconds.
pub fn mirror_chain(chain: &AmiChain, now: i64) -> Result<Mirrored> {
    let ec2 = connect(chain.ami.region())?;
    ec2.mirror(chain.ami.ami_id(), &Mirror::from_chain(chain), now)
        .map_err(|e| anyhow!("{}: {e} (the record is written)", chain.ami))
}

/// One line of text about a mirror.
pub fn mirror_text(ami: &str, m: &Mirrored) -> String {
    let dep = match &m.deprecation {
        DeprecationChange::Unchanged => "deprecation time unchanged".to_string(),
        DeprecationChange::Enabled { at } => format!("deprecated in EC2 from {at}"),
        DeprecationChange::Disabled => "EC2 deprecation removed".to_string(),
    };
    let tags = if m.tags_set.is_empty() {
        "tags unchanged".to_string()
    } else {
        let kv: Vec<String> = m.tags_set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("tags {}", kv.join(" "))
    };
    format!("ec2: {ami}: {tags}; {dep}")
}

/// The JSON of a mirror (the `ec2` member of the lifecycle commands' output).
pub fn mirror_json(m: &Mirrored) -> Value {
    let dep = match &m.deprecation {
        DeprecationChange::Unchanged => json!({"change": "unchanged"}),
        DeprecationChange::Enabled { at } => json!({"change": "enabled", "at": at}),
        DeprecationChange::Disabled => json!({"change": "disabled"}),
    };
    json!({
        "ami": m.ami_id,
        "tagsSet": m.tags_set,
        "tagsRemoved": m.tags_removed,
        "deprecation": dep,
    })
}

fn instance_json(i: &InstanceUse) -> Value {
    json!({
        "instanceId": i.instance_id,
        "state": i.state,
        "inUse": i.in_use(),
        "launchTime": i.launch_time,
        "instanceType": i.instance_type,
        "name": i.name,
    })
}

/// `lifecycle find-usage REGION:AMI-ID`: exit 0 (also when nothing uses it).
pub fn run_find_usage(args: FindUsageArgs) -> Result<u8> {
    let ami = parse_ami(&args.ami)?;
    let ec2 = connect(ami.region())?;
    let found = ec2
        .find_usage(ami.ami_id())
        .map_err(|e| anyhow!("{ami}: {e}"))?;
    let in_use = found.iter().filter(|i| i.in_use()).count();
    match args.format {
        Ec2Format::Json => {
            let v = json!({
                "ami": ami.to_string(),
                "inUse": in_use,
                "instances": found.iter().map(instance_json).collect::<Vec<_>>(),
            });
            print_text(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Ec2Format::Text => {
            let mut s = String::new();
            for i in &found {
                s.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    i.instance_id,
                    i.state,
                    i.instance_type.as_deref().unwrap_or("-"),
                    i.launch_time.as_deref().unwrap_or("-"),
                    i.name.as_deref().unwrap_or("-"),
                ));
            }
            s.push_str(&format!(
                "{ami}: {in_use} instance(s) in use, {} listed\n",
                found.len()
            ));
            print_text(&s)?;
        }
    }
    Ok(exit::OK)
}

/// `lifecycle cleanup --keep N --application APP [--yes]`.
pub fn run_cleanup(args: CleanupArgs) -> Result<u8> {
    let keys = TrustedKeys::load_files(&args.reader.key).map_err(|e| anyhow!("{e}"))?;
    let url = &args.store.store;
    let opts = args.store.s3.options();
    bakeproof_store::check_options(url, &opts)?;
    let store = bakeproof_store::open_with(url, &opts).with_context(|| format!("store {url}"))?;
    let all =
        bakeproof_lifecycle::ops::list(&*store, &keys).map_err(|e| anyhow!("store {url}: {e}"))?;
    // ops::list is newest first; per region, the application's deprecated AMIs.
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in all {
        if s.state == State::Deprecated
            && s.labels.application.as_deref() == Some(args.application.as_str())
        {
            by_region
                .entry(s.ami.region().to_string())
                .or_default()
                .push(s.ami.ami_id().to_string());
        }
    }
    let mut reports: Vec<(String, CleanupReport)> = Vec::new();
    for (region, amis) in &by_region {
        let ec2 = connect(region)?;
        reports.push((region.clone(), ec2.cleanup(amis, args.keep, args.yes)));
    }
    let complete = reports.iter().all(|(_, r)| r.complete());
    let failed = reports.iter().any(|(_, r)| {
        r.items
            .iter()
            .any(|i| matches!(i.outcome, CleanupOutcome::Failed { .. }))
    });
    match args.format {
        Ec2Format::Json => {
            let v = json!({
                "application": args.application,
                "keep": args.keep,
                "applied": args.yes,
                "complete": complete,
                "regions": reports.iter().map(|(region, r)| cleanup_json(region, r)).collect::<Vec<_>>(),
            });
            print_text(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Ec2Format::Text => print_text(&cleanup_text(&args, &reports))?,
    }
    Ok(if failed {
        exit::ERROR
    } else if complete {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn outcome_word(o: &CleanupOutcome) -> &'static str {
    match o {
        CleanupOutcome::WouldDelete => "would-delete",
        CleanupOutcome::Deleted => "deleted",
        CleanupOutcome::InUse { .. } => "in-use",
        CleanupOutcome::NotInEc2 => "not-in-ec2",
        CleanupOutcome::Failed { .. } => "failed",
    }
}

fn cleanup_json(region: &str, r: &CleanupReport) -> Value {
    let items: Vec<Value> = r
        .items
        .iter()
        .map(|i| {
            let mut v = json!({
                "ami": format!("{region}:{}", i.ami_id),
                "outcome": outcome_word(&i.outcome),
                "snapshots": i.snapshots.iter().map(|s| json!({
                    "snapshotId": s.snapshot_id,
                    "error": s.error,
                })).collect::<Vec<_>>(),
            });
            match &i.outcome {
                CleanupOutcome::InUse { instances } => v["instances"] = json!(instances),
                CleanupOutcome::Failed { message } => v["error"] = json!(message),
                _ => {}
            }
            v
        })
        .collect();
    json!({
        "region": region,
        "kept": r.kept.iter().map(|a| format!("{region}:{a}")).collect::<Vec<_>>(),
        "items": items,
    })
}

fn cleanup_text(args: &CleanupArgs, reports: &[(String, CleanupReport)]) -> String {
    let mut s = String::new();
    if reports.is_empty() {
        s.push_str(&format!(
            "no deprecated AMI of application {} in the store\n",
            args.application
        ));
    }
    for (region, r) in reports {
        for k in &r.kept {
            s.push_str(&format!("keep\t{region}:{k}\n"));
        }
        for i in &r.items {
            let ami = format!("{region}:{}", i.ami_id);
            let snaps: Vec<String> = i
                .snapshots
                .iter()
                .map(|x| match &x.error {
                    None => x.snapshot_id.clone(),
                    Some(e) => format!("{} (left: {e})", x.snapshot_id),
                })
                .collect();
            let line = match &i.outcome {
                CleanupOutcome::WouldDelete => {
                    format!("would deregister\t{ami}\tsnapshots {}", snaps.join(" "))
                }
                CleanupOutcome::Deleted => {
                    format!("deregistered\t{ami}\tsnapshots {}", snaps.join(" "))
                }
                CleanupOutcome::InUse { instances } => {
                    format!("skipped (in use)\t{ami}\tinstances {}", instances.join(" "))
                }
                CleanupOutcome::NotInEc2 => format!("not in EC2\t{ami}"),
                CleanupOutcome::Failed { message } => format!("failed\t{ami}\t{message}"),
            };
            s.push_str(&line);
            s.push('\n');
        }
    }
    if !args.yes {
        s.push_str("dry run: nothing changed (--yes deregisters and deletes)\n");
    }
    s
}
