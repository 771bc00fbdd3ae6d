//! `bakeproof seal apply` (CLI side): arguments, rendering, exit codes. The
//! operations are `bakeproof_seal::apply`; the rules are in
//! docs/seal-apply.md.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bakeproof_index::Root;
use bakeproof_seal::apply::{
    Action, ApplyOptions, ApplyReport, OpId, Outcome, Plan, Step, apply, plan,
};
use clap::{Args, ValueEnum};

use crate::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Root filesystem to seal.
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// List every change and change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Apply the changes (without it nothing changes).
    #[arg(long)]
    pub yes: bool,
    /// Only these operations (comma-separated ids: machine-id, ssh-host-keys,
    /// ssh-authorized-keys, cloud-init, shell-history, logs, tmp,
    /// package-cache, random-seed, network-identity).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = parse_op)]
    pub only: Vec<OpId>,
    /// Never these operations (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = parse_op)]
    pub skip: Vec<OpId>,
    /// Users whose authorized_keys are emptied (comma-separated; root only
    /// when listed). Default: every /home user, every uid >= 1000, and the
    /// usual cloud build users when present.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub users: Option<Vec<String>>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ApplyFormat,
}

fn parse_op(s: &str) -> Result<OpId, String> {
    s.trim().parse::<OpId>().map_err(|e| e.to_string())
}

pub fn run(args: ApplyArgs) -> Result<u8> {
    let root = Root::open(&args.root).context("seal apply")?;
    let opts = ApplyOptions {
        only: (!args.only.is_empty()).then(|| args.only.clone()),
        skip: args.skip.clone(),
        users: args.users.clone(),
    };
    let plan = plan(&root, &opts).context("seal apply")?;
    let shown_root = args.root.display().to_string();

    if !args.yes {
        let mode = if args.dry_run { "dry-run" } else { "plan" };
        match args.format {
            ApplyFormat::Json => println!("{}", plan.to_json(&shown_root, mode)),
            ApplyFormat::Text => print!("{}", render_plan(&plan, &shown_root)),
        }
        if args.dry_run {
            return Ok(exit::OK);
        }
        eprintln!(
            "bakeproof: seal apply: nothing changed; pass --yes to apply these changes (or --dry-run to only list them)"
        );
        return Ok(exit::ERROR);
    }

    if root.is_system_root() {
        eprintln!("bakeproof: seal apply: applying to the running system's /; about to do this:");
        eprint!("{}", render_plan(&plan, &shown_root));
    }
    let report = apply(&root, &plan);
    match args.format {
        ApplyFormat::Json => println!("{}", report.to_json(&shown_root, &plan.operations)),
        ApplyFormat::Text => print!("{}", render_report(&report, &shown_root)),
    }
    Ok(if report.ok() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn step_line(step: &Step) -> String {
    let mut line = format!(
        "  {:<20} {:<11} {}",
        step.op.as_str(),
        step.action.name(),
        step.display_path()
    );
    match &step.action {
        Action::Symlink { target } => line.push_str(&format!(" -> {target}")),
        Action::Leave { reason } | Action::Refuse { reason } => {
            line.push_str(&format!(": {reason}"))
        }
        _ => {}
    }
    line
}

fn render_plan(plan: &Plan, root: &str) -> String {
    let mut out = format!("seal apply plan for {root}\n");
    for step in &plan.steps {
        out.push_str(&step_line(step));
        if step.action.is_change() && step.bytes > 0 {
            out.push_str(&format!(" ({})", human(step.bytes)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} changes, {} to free, {} refused; nothing changed\n",
        plan.changes().count(),
        human(plan.bytes()),
        plan.refused()
    ));
    out
}

fn render_report(report: &ApplyReport, root: &str) -> String {
    let mut out = format!("seal apply on {root}\n");
    let mut applied = 0;
    for r in &report.results {
        out.push_str(&step_line(&r.step));
        match &r.outcome {
            Outcome::Applied { bytes_freed } => {
                applied += 1;
                out.push_str(&format!(" [done, {} freed]", human(*bytes_freed)));
            }
            Outcome::AlreadyGone => out.push_str(" [already gone]"),
            Outcome::Left => {}
            Outcome::Failed { error } => {
                if !matches!(r.step.action, Action::Refuse { .. }) {
                    out.push_str(&format!(" [FAILED: {error}]"));
                } else {
                    out.push_str(" [FAILED]");
                }
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{}: {applied} applied, {} failed, {} freed\n",
        if report.ok() { "APPLIED" } else { "INCOMPLETE" },
        report.failures(),
        human(report.bytes_freed())
    ));
    out
}
