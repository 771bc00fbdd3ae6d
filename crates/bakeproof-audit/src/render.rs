//! Text, JSON and the Markdown handover document.

use std::fmt::Write as _;

use crate::report::{AuditReport, AuditStatus, ConfigReport, ReqStatus, Requirement};

fn status_word(s: ReqStatus) -> &'static str {
    match s {
        ReqStatus::Ok => "OK",
        ReqStatus::Ng => "NG",
    }
}

fn overall(s: AuditStatus) -> &'static str {
    match s {
        AuditStatus::Pass => "PASS",
        AuditStatus::Fail => "FAIL",
    }
}

fn requirement_label(r: &Requirement) -> String {
    match &r.rule {
        Some(rule) => format!("{} {} [{rule}]", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    }
}

fn source_of(r: &Requirement) -> String {
    match &r.source {
        Some(s) => match s.line {
            Some(l) => format!("{}:{l}", s.file),
            None => s.file.clone(),
        },
        None => String::new(),
    }
}

/// Control characters (an image's package database may hold any bytes)
/// shown as `\u{..}` escapes, never sent to a terminal.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The report for people: one line per requirement, then the summary and
/// the configuration report.
pub fn text(report: &AuditReport) -> String {
    let mut o = text_raw(report);
    if o.chars().any(|c| c.is_control() && c != '\n') {
        o = o
            .split('\n')
            .map(|l| clean(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
    }
    o
}

fn text_raw(report: &AuditReport) -> String {
    let mut o = String::new();
    let doc = match (&report.document.id, &report.document.title) {
        (Some(id), Some(t)) => format!("{id} ({t})"),
        (Some(id), None) => id.clone(),
        (None, Some(t)) => t.clone(),
        (None, None) => "(no document id)".to_owned(),
    };
    let _ = writeln!(o, "audit of {} against {doc}", report.image.source);
    for r in &report.requirements {
        let _ = write!(
            o,
            "{}  {}: expected {}, actual {}",
            status_word(r.status),
            requirement_label(r),
            r.expected,
            r.actual
        );
        if let Some(d) = &r.detail {
            let _ = write!(o, " ({d})");
        }
        let src = source_of(r);
        if !src.is_empty() {
            let _ = write!(o, "  [{src}]");
        }
        o.push('\n');
    }
    let ng = not_met(report);
    let _ = writeln!(
        o,
        "{}: {} requirements, {} met, {} not met",
        overall(report.status),
        report.requirements.len(),
        report.requirements.len() - ng,
        ng
    );
    for w in &report.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

/// The report as JSON (`schemas/audit-report.schema.json`).
pub fn json(report: &AuditReport) -> Vec<u8> {
    let mut v = report.to_json();
    v.push(b'\n');
    v
}

/// Escapes a table cell: `|`, newlines, and Markdown's inline markup.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// The handover document (Markdown): document id and title, date, image
/// identity and tree digest, each requirement with expected and actual
/// and OK/NG, then the configuration report.
pub fn markdown(report: &AuditReport) -> String {
    let mut o = String::new();
    let title = report.document.title.as_deref().unwrap_or("Image audit");
    let _ = writeln!(o, "# {}\n", cell(title));
    let _ = writeln!(o, "| | |\n|---|---|");
    if let Some(id) = &report.document.id {
        let _ = writeln!(o, "| Design document | {} |", cell(id));
    }
    for f in &report.document.files {
        let _ = writeln!(
            o,
            "| Design file | {} (sha256 {}) |",
            cell(&f.path),
            f.sha256
        );
    }
    let _ = writeln!(o, "| Date | {} |", cell(&report.date));
    let _ = writeln!(o, "| Image | {} |", cell(&report.image.source));
    if let Some(n) = &report.image.name {
        let _ = writeln!(o, "| Image name | {} |", cell(n));
    }
    let _ = writeln!(
        o,
        "| Tree digest | {} |",
        report
            .image
            .tree_digest
            .as_deref()
            .map(cell)
            .unwrap_or_else(|| "not computed".to_owned())
    );
    let ng = not_met(report);
    let _ = writeln!(
        o,
        "| Result | **{}** ({} of {} requirements met) |\n",
        overall(report.status),
        report.requirements.len() - ng,
        report.requirements.len()
    );
    let _ = writeln!(o, "## Requirements\n");
    if report.requirements.is_empty() {
        let _ = writeln!(o, "The design documents state no requirement.\n");
    } else {
        let _ = writeln!(
            o,
            "| # | Kind | Name | Rule | Expected | Actual | Result | Source |\n|---|---|---|---|---|---|---|---|"
        );
        for (i, r) in report.requirements.iter().enumerate() {
            let actual = match &r.detail {
                Some(d) => format!("{} ({d})", r.actual),
                None => r.actual.clone(),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                cell(&r.kind),
                cell(&r.name),
                cell(r.rule.as_deref().unwrap_or("")),
                cell(&r.expected),
                cell(&actual),
                status_word(r.status),
                cell(&source_of(r))
            );
        }
        o.push('\n');
    }
    configuration_markdown(&report.configuration, &mut o);
    if !report.warnings.is_empty() {
        let _ = writeln!(o, "## Warnings\n");
        for w in &report.warnings {
            let _ = writeln!(o, "- {}", cell(w));
        }
        o.push('\n');
    }
    o
}

fn configuration_markdown(c: &ConfigReport, o: &mut String) {
    let _ = writeln!(o, "## Configuration\n\n| Item | Value |\n|---|---|");
    let row = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "| {k} | {} |", cell(&v));
    };
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    if let Some(os) = &c.os {
        let v = os
            .pretty_name
            .clone()
            .or_else(|| {
                Some(format!(
                    "{} {}",
                    os.id.as_deref().unwrap_or("?"),
                    os.version_id.as_deref().unwrap_or("")
                ))
            })
            .unwrap_or_default();
        row(o, "OS", v);
    }
    if !c.kernels.is_empty() {
        row(o, "Kernels", c.kernels.join(", "));
    }
    if let Some(a) = &c.architecture {
        row(o, "Architecture", a.clone());
    }
    if let Some(n) = c.package_count {
        row(o, "Packages", n.to_string());
    }
    row(o, "Enabled services", list(&c.enabled_services));
    let users: Vec<String> = c
        .system_users
        .iter()
        .map(|u| format!("{} ({}, {})", u.name, u.uid, u.shell))
        .collect();
    row(o, "System users (UID < UID_MIN)", list(&users));
    if let Some(s) = &c.selinux {
        row(o, "SELinux (configured)", s.clone());
    }
    row(o, "Firewall enabled", list(&c.firewall));
    for (k, v) in &c.sshd {
        row(o, &format!("sshd {k}"), v.clone());
    }
    if let Some(l) = &c.listening {
        let socks: Vec<String> = l
            .iter()
            .map(|s| format!("{} {}:{}", s.proto, s.address, s.port))
            .collect();
        row(o, "Listening sockets", list(&socks));
    }
    o.push('\n');
    if !c.not_assessed.is_empty() {
        let _ = writeln!(o, "Not assessed: {}.\n", cell(&c.not_assessed.join("; ")));
    }
}

/// How many requirements are `ng`.
fn not_met(report: &AuditReport) -> usize {
    report
        .requirements
        .iter()
        .filter(|r| r.status == ReqStatus::Ng)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn report() -> AuditReport {
        let requirements = vec![Requirement {
            kind: "package".into(),
            name: "a|b".into(),
            rule: Some("constraint".into()),
            expected: ">= 1".into(),
            actual: "0.9\n# injected".into(),
            status: ReqStatus::Ng,
            detail: None,
            source: Some(SourceLocation {
                file: "spec.txt".into(),
                line: Some(3),
            }),
        }];
        AuditReport {
            schema_version: AUDIT_SCHEMA_VERSION,
            status: AuditReport::status_of(&requirements),
            document: DocumentRef {
                id: Some("SYS-1".into()),
                title: Some("Web".into()),
                files: vec![],
            },
            date: "2024-01-01T00:00:00Z".into(),
            image: ImageIdentity {
                source: "/mnt/img".into(),
                tree_digest: None,
                name: None,
            },
            requirements,
            configuration: ConfigReport::default(),
            warnings: vec![],
        }
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let md = markdown(&report());
        let row = md.lines().find(|l| l.starts_with("| 1 |")).unwrap();
        assert_eq!(row.matches(" | ").count(), 7, "{row}");
        assert!(
            row.contains("a\\|b") && row.contains("0.9 \\# injected"),
            "{row}"
        );
        assert!(md.contains("| Result | **FAIL** (0 of 1 requirements met) |"));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut r = report();
        r.requirements[0].actual = "1.0\u{1b}[2J\u{7}".into();
        let t = text(&r);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t:?}");
        assert!(t.contains("1.0\\u{1b}[2J\\u{7}"), "{t}");
        let md = markdown(&r);
        assert!(!md.contains('\u{1b}'), "{md:?}");
    }

    #[test]
    fn text_has_one_line_per_requirement_and_a_summary() {
        let t = text(&report());
        assert!(
            t.contains("NG  package a|b [constraint]: expected >= 1"),
            "{t}"
        );
        assert!(t.contains("[spec.txt:3]"), "{t}");
        assert!(t.contains("FAIL: 1 requirements, 0 met, 1 not met"), "{t}");
    }
}
