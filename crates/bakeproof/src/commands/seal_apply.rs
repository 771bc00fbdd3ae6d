//! `bakeproof seal apply`: arguments, rendering, exit codes. The operations
//! are `bakeproof_seal::apply`; the rules are in docs/seal-apply.md.

use anyhow::{Context, Result};
use bakeproof_index::Root;
use bakeproof_seal::apply::{Action, ApplyOptions, ApplyReport, Outcome, Plan, Step, apply, plan};

use crate::args::seal::{ApplyArgs, ApplyFormat};
use crate::output::{exit, human_bytes as human};

/// The apply settings from the flags.
fn options(args: &ApplyArgs) -> ApplyOptions {
    ApplyOptions {
        only: (!args.only.is_empty()).then(|| args.only.clone()),
        skip: args.skip.clone(),
        users: args.users.clone(),
    }
}

pub fn run(args: ApplyArgs) -> Result<u8> {
    let root = Root::open(&args.root).context("seal apply")?;
    let plan = plan(&root, &options(&args)).context("seal apply")?;
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
