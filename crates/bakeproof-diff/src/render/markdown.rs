//! Markdown for change records and pull-request comments.

use std::fmt::Write as _;

use super::{join_or_none, short, shown, status_or_absent};
use crate::model::{Diff, Direction, FileChange, PkgEntry, SealFindingRef};

/// Markdown cell: no pipes or newlines, code spans kept simple.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// How many rows each Markdown file table shows before "... and N more".
pub const MARKDOWN_FILE_ROWS: usize = 100;

/// Markdown for change records and pull-request comments.
pub fn render(d: &Diff) -> String {
    let s = &d.summary;
    let mut out = String::from("## SBOM diff\n\n| change | count |\n| --- | ---: |\n");
    let mut rows = vec![
        ("packages added", s.added),
        ("packages removed", s.removed),
        ("packages upgraded", s.upgraded),
        ("packages downgraded", s.downgraded),
        ("packages rebuilt", s.rebuilt),
        ("license changes", s.license_changed),
        ("supplier changes", s.supplier_changed),
        ("author changes", s.author_changed),
    ];
    if d.files.compared {
        rows.extend([
            ("files added", s.added_files),
            ("files removed", s.removed_files),
            ("files modified", s.modified_files),
            ("mode changes", s.mode_changes),
            ("capability changes", s.capability_changes),
            ("unowned files", s.unowned_files),
        ]);
    }
    if d.seal.compared {
        rows.extend([
            ("seal checks worse", s.seal_worse),
            ("seal checks better", s.seal_better),
            ("seal findings added", s.seal_findings_added),
            ("seal findings removed", s.seal_findings_removed),
        ]);
    }
    for (k, n) in rows {
        let _ = writeln!(out, "| {k} | {n} |");
    }
    if !d.files.compared {
        out.push_str("\nFiles not compared: a side has no file components.\n");
    }
    match d.seal.verdict {
        Some(v) => {
            let _ = writeln!(
                out,
                "\nSeal verdict: {} -> {}.",
                v.from.as_str(),
                v.to.as_str()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nSeal not compared: {}.",
                md(d.seal.reason.as_deref().unwrap_or("no seal reports"))
            );
        }
    }
    let groups: [(&str, &Vec<PkgEntry>); 5] = [
        ("Added packages", &d.packages.added),
        ("Removed packages", &d.packages.removed),
        ("Upgraded packages", &d.packages.upgraded),
        ("Downgraded packages", &d.packages.downgraded),
        ("Rebuilt packages", &d.packages.rebuilt),
    ];
    for (title, list) in groups {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| package | arch | from | to |\n| --- | --- | --- | --- |\n",
            list.len()
        );
        for e in list {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                md(&e.name),
                md(e.arch.as_deref().unwrap_or("")),
                e.from
                    .as_deref()
                    .map(|v| format!("`{}`", md(v)))
                    .unwrap_or_default(),
                e.to.as_deref()
                    .map(|v| format!("`{}`", md(v)))
                    .unwrap_or_default(),
            );
        }
    }
    for (title, list) in [
        ("License changes", &d.packages.license_changed),
        ("Supplier changes", &d.packages.supplier_changed),
        ("Author changes", &d.packages.author_changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| package | version | before | after |\n| --- | --- | --- | --- |\n",
            list.len()
        );
        for e in list {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                md(&e.name),
                md(&e.version),
                md(&join_or_none(&e.before)),
                md(&join_or_none(&e.after))
            );
        }
    }
    let ftables: [(&str, Vec<Row>); 6] = [
        (
            "Added files",
            d.files
                .added
                .iter()
                .map(|f| {
                    (
                        shown(&f.path, &f.path_encoding),
                        String::new(),
                        f.sha256.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        ),
        (
            "Removed files",
            d.files
                .removed
                .iter()
                .map(|f| {
                    (
                        shown(&f.path, &f.path_encoding),
                        f.sha256.clone().unwrap_or_default(),
                        String::new(),
                    )
                })
                .collect(),
        ),
        ("Modified files", ftriples(&d.files.modified)),
        ("Mode changes", ftriples(&d.files.mode_changed)),
        (
            "Capability changes",
            ftriples(&d.files.capabilities_changed),
        ),
        (
            "Files that became unowned",
            ftriples(&d.files.became_unowned),
        ),
    ];
    for (title, rows) in ftables {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n### {title} ({})\n\n| path | from | to |\n| --- | --- | --- |\n",
            rows.len()
        );
        for (p, f, t) in rows.iter().take(MARKDOWN_FILE_ROWS) {
            let _ = writeln!(out, "| `{}` | {} | {} |", md(p), md(short(f)), md(short(t)));
        }
        if rows.len() > MARKDOWN_FILE_ROWS {
            let _ = writeln!(
                out,
                "\n... and {} more (see `--format json`).",
                rows.len() - MARKDOWN_FILE_ROWS
            );
        }
    }
    if !d.seal.changes.is_empty() {
        let _ = write!(
            out,
            "\n### Seal checks ({})\n\n| check | from | to | change | findings added | findings removed |\n| --- | --- | --- | --- | ---: | ---: |\n",
            d.seal.changes.len()
        );
        for ch in &d.seal.changes {
            let dir = match ch.direction {
                Direction::Worse => "worse",
                Direction::Better => "better",
                Direction::Same => "findings",
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {dir} | {} | {} |",
                md(&ch.check),
                status_or_absent(ch.from),
                status_or_absent(ch.to),
                ch.findings_added.len(),
                ch.findings_removed.len()
            );
        }
        let findings: Vec<(&str, &str, &SealFindingRef)> = d
            .seal
            .changes
            .iter()
            .flat_map(|ch| {
                let added = ch
                    .findings_added
                    .iter()
                    .map(|f| (ch.check.as_str(), "added", f));
                let removed = ch
                    .findings_removed
                    .iter()
                    .map(|f| (ch.check.as_str(), "removed", f));
                added.chain(removed)
            })
            .collect();
        if !findings.is_empty() {
            let _ = write!(
                out,
                "\n### Seal findings ({})\n\n| check | | path | kind |\n| --- | --- | --- | --- |\n",
                findings.len()
            );
            for (check, what, f) in findings.iter().take(MARKDOWN_FILE_ROWS) {
                let _ = writeln!(
                    out,
                    "| `{}` | {what} | `{}` | {} |",
                    md(check),
                    md(&f.path),
                    md(&f.kind)
                );
            }
            if findings.len() > MARKDOWN_FILE_ROWS {
                let _ = writeln!(
                    out,
                    "\n... and {} more (see `--format json`).",
                    findings.len() - MARKDOWN_FILE_ROWS
                );
            }
        }
    }
    if let Some(a) = &d.audit {
        out.push_str(&crate::audit::render_markdown(a));
    }
    out
}

/// A Markdown file-table row: path, from, to.
type Row = (String, String, String);

fn ftriples(l: &[FileChange]) -> Vec<Row> {
    l.iter()
        .map(|f| {
            (
                shown(&f.path, &f.path_encoding),
                f.from.clone().unwrap_or_default(),
                f.to.clone().unwrap_or_default(),
            )
        })
        .collect()
}
