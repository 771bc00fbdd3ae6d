//! Plain text grouped by kind; ANSI colours on request.

use std::fmt::Write as _;

use super::{join_or_none, short, shown, status_or_absent};
use crate::model::{Diff, Direction, FileChange, PkgEntry};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn pkg_line(e: &PkgEntry) -> String {
    let arch = e
        .arch
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    match (&e.from, &e.to) {
        (Some(f), Some(t)) if f != t => format!("{} {f} -> {t}{arch}", e.name),
        (Some(v), _) | (None, Some(v)) => format!("{} {v}{arch}", e.name),
        _ => e.name.clone(),
    }
}

/// Plain text grouped by kind; ANSI colours when `color`.
pub fn render(d: &Diff, color: bool) -> String {
    let c = |code: &'static str| if color { code } else { "" };
    let mut out = String::new();
    let s = &d.summary;
    let _ = writeln!(
        out,
        "{}packages:{} {} added, {} removed, {} upgraded, {} downgraded, {} rebuilt, {} license, {} supplier, {} author",
        c(BOLD),
        c(RESET),
        s.added,
        s.removed,
        s.upgraded,
        s.downgraded,
        s.rebuilt,
        s.license_changed,
        s.supplier_changed,
        s.author_changed
    );
    if d.files.compared {
        let _ = writeln!(
            out,
            "{}files:{} {} added, {} removed, {} modified, {} mode changes, {} capability changes, {} unowned",
            c(BOLD),
            c(RESET),
            s.added_files,
            s.removed_files,
            s.modified_files,
            s.mode_changes,
            s.capability_changes,
            s.unowned_files
        );
    } else {
        let _ = writeln!(out, "files: not compared (a side has no file components)");
    }
    match d.seal.verdict {
        Some(v) => {
            let _ = writeln!(
                out,
                "{}seal:{} {} -> {}; {} checks worse, {} better, {} findings added, {} removed",
                c(BOLD),
                c(RESET),
                v.from.as_str(),
                v.to.as_str(),
                s.seal_worse,
                s.seal_better,
                s.seal_findings_added,
                s.seal_findings_removed
            );
        }
        None => {
            let _ = writeln!(
                out,
                "seal: not compared ({})",
                d.seal.reason.as_deref().unwrap_or("no seal reports")
            );
        }
    }
    let groups: [(&str, &Vec<PkgEntry>, &str, &str); 5] = [
        ("added", &d.packages.added, "+", GREEN),
        ("removed", &d.packages.removed, "-", RED),
        ("upgraded", &d.packages.upgraded, "^", CYAN),
        ("downgraded", &d.packages.downgraded, "v", YELLOW),
        ("rebuilt", &d.packages.rebuilt, "*", YELLOW),
    ];
    for (title, list, mark, col) in groups {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), list.len(), c(RESET));
        for e in list {
            let ev = e
                .evidence
                .as_deref()
                .map(|x| format!(" [{x}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}{mark} {}{ev}{}", c(col), pkg_line(e), c(RESET));
        }
    }
    for (title, list) in [
        ("license changed", &d.packages.license_changed),
        ("supplier changed", &d.packages.supplier_changed),
        ("author changed", &d.packages.author_changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), list.len(), c(RESET));
        for e in list {
            let _ = writeln!(
                out,
                "  ~ {} {}: {} -> {}",
                e.name,
                e.version,
                join_or_none(&e.before),
                join_or_none(&e.after)
            );
        }
    }
    let fgroups: [(&str, Vec<String>, &str); 6] = [
        (
            "added files",
            d.files
                .added
                .iter()
                .map(|f| format!("+ {}", shown(&f.path, &f.path_encoding)))
                .collect(),
            GREEN,
        ),
        (
            "removed files",
            d.files
                .removed
                .iter()
                .map(|f| format!("- {}", shown(&f.path, &f.path_encoding)))
                .collect(),
            RED,
        ),
        (
            "modified files",
            change_lines("M", &d.files.modified),
            YELLOW,
        ),
        (
            "mode changes",
            change_lines("m", &d.files.mode_changed),
            YELLOW,
        ),
        (
            "capability changes",
            change_lines("c", &d.files.capabilities_changed),
            RED,
        ),
        (
            "became unowned",
            change_lines("?", &d.files.became_unowned),
            RED,
        ),
    ];
    for (title, lines, col) in fgroups {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}{title} ({}){}", c(BOLD), lines.len(), c(RESET));
        for l in lines {
            let _ = writeln!(out, "  {}{l}{}", c(col), c(RESET));
        }
    }
    if !d.seal.changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}seal checks ({}){}",
            c(BOLD),
            d.seal.changes.len(),
            c(RESET)
        );
        for ch in &d.seal.changes {
            let (mark, col) = match ch.direction {
                Direction::Worse => ("!", RED),
                Direction::Better => ("o", GREEN),
                Direction::Same => ("~", YELLOW),
            };
            let _ = writeln!(
                out,
                "  {}{mark} {} {} -> {}{}",
                c(col),
                ch.check,
                status_or_absent(ch.from),
                status_or_absent(ch.to),
                c(RESET)
            );
            for (m, list) in [("+", &ch.findings_added), ("-", &ch.findings_removed)] {
                for f in list {
                    let _ = writeln!(out, "      {m} {} [{}]", f.path, f.kind);
                }
            }
        }
    }
    if let Some(a) = &d.audit {
        out.push_str(&crate::audit::render_text(a, color));
    }
    out
}

fn change_lines(mark: &str, l: &[FileChange]) -> Vec<String> {
    l.iter()
        .map(|f| {
            format!(
                "{mark} {} ({} -> {})",
                shown(&f.path, &f.path_encoding),
                f.from.as_deref().map(short).unwrap_or("-"),
                f.to.as_deref().map(short).unwrap_or("-")
            )
        })
        .collect()
}
