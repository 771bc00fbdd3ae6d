//! The plain design document (`design-spec.txt`).
//!
//! One requirement per line; `#` starts a comment (whole line, or after
//! a blank). Lines:
//! * `NAME OP VERSION [[,] OP VERSION]...`: the package must be installed
//!   and every constraint must hold (`>=`, `>`, `=`, `<=`, `<`, `!=`);
//! * `NAME`: the package must be installed, any version;
//! * `NAME-[EPOCH:]VERSION-RELEASE.ARCH` (a NEVRA, as `rpm -qa` prints it)
//!   or `NAME-VERSION-RELEASE`: approved, exactly this build;
//! * `NAME=VERSION` (no blanks around `=`): approved, exactly this version.
//!
//! Header comments `# 設計書: ID` / `# Design: ID` and `# 対象: TITLE` /
//! `# Target: TITLE` (full-width `：` too) name the document.

use super::{ApprovedPackage, Design, PackageRule};
use crate::constraint::{Constraint, ConstraintError, check_version};
use crate::error::DesignError;
use crate::report::SourceLocation;

/// Architectures a NEVRA may end with (rpm's arch names).
const RPM_ARCHES: &[&str] = &[
    "x86_64",
    "aarch64",
    "noarch",
    "i686",
    "i586",
    "i486",
    "i386",
    "ppc64le",
    "ppc64",
    "s390x",
    "armv7hl",
    "armv7l",
    "armhfp",
    "riscv64",
    "loongarch64",
    "src",
    "nosrc",
    "ia32e",
    "amd64",
    "arm64",
    "athlon",
    "x86_64_v2",
    "x86_64_v3",
    "x86_64_v4",
];

/// Parses a plain design document. `file` names it in errors and in the
/// report's source locations.
pub fn parse(text: &str, file: &str) -> Result<Design, DesignError> {
    let mut design = Design::default();
    for (n, raw) in text.lines().enumerate() {
        let lineno = n + 1;
        let err = |message: String| DesignError {
            file: file.into(),
            line: Some(lineno),
            message,
        };
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            header(comment, &mut design);
            continue;
        }
        let body = strip_comment(trimmed).trim();
        if body.is_empty() {
            continue;
        }
        let source = SourceLocation {
            file: file.to_owned(),
            line: Some(lineno),
        };
        parse_line(body, source, &mut design).map_err(err)?;
    }
    Ok(design)
}

/// `# 設計書: X` and friends.
fn header(comment: &str, design: &mut Design) {
    let c = comment.trim();
    let Some((key, value)) = c.split_once([':', '：']) else {
        return;
    };
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    match key.trim().to_lowercase().as_str() {
        "設計書" | "design" | "設計書番号" | "document" => {
            design.id.get_or_insert_with(|| value.to_owned());
        }
        "対象" | "target" | "title" => {
            design.title.get_or_insert_with(|| value.to_owned());
        }
        _ => {}
    }
}

/// Drops a trailing ` # comment`.
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    for i in 1..b.len() {
        if b[i] == b'#' && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return &s[..i];
        }
    }
    s
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._+-:@".contains(c)
}

/// Checks a package name: ASCII letters, digits and `. _ + - : @`,
/// starting with a letter, digit or `_`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    match name.chars().next() {
        None => return Err("missing package name".to_owned()),
        Some(c) if !(c.is_ascii_alphanumeric() || c == '_') => {
            return Err(format!(
                "bad package name {name:?}: must begin with a letter or digit"
            ));
        }
        _ => {}
    }
    if let Some(c) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(format!(
            "bad package name {name:?}: character {c:?} is not allowed"
        ));
    }
    Ok(())
}

fn parse_line(body: &str, source: SourceLocation, design: &mut Design) -> Result<(), String> {
    // One token without an operator: a NEVRA (its version may hold `~`
    // and `^`) or a bare package name.
    if !body.contains(char::is_whitespace)
        && !body.contains(['<', '>', '=', '!', ','])
        && let Some(a) = parse_nevra(body)
    {
        design.approved.push(ApprovedPackage { source, ..a });
        return Ok(());
    }
    let name_end = body
        .find(|c: char| c.is_whitespace() || "<>=!~,".contains(c))
        .unwrap_or(body.len());
    let (name, rest) = body.split_at(name_end);
    // `name=version`: one token, one `=`, nothing else.
    if !body.contains(char::is_whitespace) && rest.starts_with('=') && !rest.starts_with("==") {
        let version = &rest[1..];
        if !version.contains(['<', '>', '=', '!']) {
            check_name(name)?;
            check_version(version).map_err(|e| format!("{name}=: {e}"))?;
            design.approved.push(ApprovedPackage {
                name: name.to_owned(),
                version: version.to_owned(),
                arch: None,
                source,
            });
            return Ok(());
        }
    }
    check_name(name)?;
    let rest = rest.trim();
    if rest.is_empty() {
        if let Some(a) = parse_nevra(name) {
            design.approved.push(ApprovedPackage { source, ..a });
        } else {
            design.required.push(PackageRule {
                name: name.to_owned(),
                constraints: Vec::new(),
                source,
            });
        }
        return Ok(());
    }
    let constraints = Constraint::parse_list(rest).map_err(|e| match e {
        ConstraintError::MissingOperator(w) => {
            format!("{name}: expected an operator (>= > = <= < !=) before {w:?}")
        }
        other => format!("{name}: {other}"),
    })?;
    design.required.push(PackageRule {
        name: name.to_owned(),
        constraints,
        source,
    });
    Ok(())
}

/// `name-[epoch:]version-release.arch` (arch one of rpm's) or
/// `name-[epoch:]version-release` where version and release begin with a
/// digit. `None` when the token is not one (then it is a package name).
pub fn parse_nevra(token: &str) -> Option<ApprovedPackage> {
    let (nevr, arch) = match token.rsplit_once('.') {
        Some((nevr, arch)) if RPM_ARCHES.contains(&arch) => (nevr, Some(arch)),
        _ => (token, None),
    };
    let (nv, release) = nevr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    let starts_digit = |s: &str| s.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if arch.is_none() && !(starts_digit(version) && starts_digit(release)) {
        return None;
    }
    if !starts_digit(version) && arch.is_none() {
        return None;
    }
    check_name(name).ok()?;
    let full = format!("{version}-{release}");
    check_version(&full).ok()?;
    Some(ApprovedPackage {
        name: name.to_owned(),
        version: full,
        arch: arch.map(str::to_owned),
        source: SourceLocation {
            file: String::new(),
            line: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraint::Op;

    fn p(text: &str) -> Result<Design, DesignError> {
        parse(text, "spec.txt")
    }

    #[test]
    fn the_issue_example() {
        let d = p("# 設計書: SYS-2025-001\n# 対象: Web server golden image\n\
                   nginx >= 1.24.0\nopenssl >= 3.0.0 < 4\n\
                   nginx-1.24.0-1.amzn2023.0.2.x86_64\nbash=5.2.15-3\ncurl\n")
        .unwrap();
        assert_eq!(d.id.as_deref(), Some("SYS-2025-001"));
        assert_eq!(d.title.as_deref(), Some("Web server golden image"));
        assert_eq!(d.required.len(), 3);
        assert_eq!(d.required[0].name, "nginx");
        assert_eq!(d.required[0].constraints[0].op, Op::Ge);
        assert_eq!(d.required[1].constraints.len(), 2);
        assert_eq!(d.required[1].constraints[1].op, Op::Lt);
        assert_eq!(d.required[1].source.line, Some(4));
        assert!(d.required[2].constraints.is_empty());
        assert_eq!(d.approved.len(), 2);
        assert_eq!(d.approved[0].name, "nginx");
        assert_eq!(d.approved[0].version, "1.24.0-1.amzn2023.0.2");
        assert_eq!(d.approved[0].arch.as_deref(), Some("x86_64"));
        assert_eq!(d.approved[0].source.line, Some(5));
        assert_eq!(d.approved[1].name, "bash");
        assert_eq!(d.approved[1].version, "5.2.15-3");
        assert_eq!(d.approved[1].arch, None);
    }

    #[test]
    fn nevra_lines_with_tilde_and_caret() {
        let d = p("fx-tools-2.1~rc1-1\nfx-data-1.0^git1-2.noarch\nfx-x~\n").unwrap_err();
        assert_eq!(d.line, Some(3), "{d}");
        let d = p("fx-tools-2.1~rc1-1\nfx-data-1.0^git1-2.noarch\n").unwrap();
        assert_eq!(d.approved.len(), 2);
        assert_eq!(d.approved[1].source.line, Some(2));
    }

    #[test]
    fn english_headers_fullwidth_colon_comments_crlf() {
        let d = p("#Design： D-1\r\n# Target: T\r\n\r\nnginx>=1.2,<2 # web\r\n").unwrap();
        assert_eq!(d.id.as_deref(), Some("D-1"));
        assert_eq!(d.title.as_deref(), Some("T"));
        assert_eq!(d.required[0].constraints.len(), 2);
        assert_eq!(d.required[0].constraints[1].version, "2");
    }

    #[test]
    fn nevra_with_epoch_and_nevr() {
        let a = parse_nevra("openssl-1:3.0.8-1.amzn2023.0.14.aarch64").unwrap();
        assert_eq!(
            (a.name.as_str(), a.version.as_str()),
            ("openssl", "1:3.0.8-1.amzn2023.0.14")
        );
        let a = parse_nevra("python3-pip-21.3.1-2.amzn2023.0.5.noarch").unwrap();
        assert_eq!(a.name, "python3-pip");
        let a = parse_nevra("nginx-1.24.0-1.el9").unwrap();
        assert_eq!((a.version.as_str(), a.arch), ("1.24.0-1.el9", None));
        let a = parse_nevra("fx-data-1.0^git20240101-2.noarch").unwrap();
        assert_eq!(a.version, "1.0^git20240101-2");
        let a = parse_nevra("fx-tools-2.1~rc1-1").unwrap();
        assert_eq!(
            (a.name.as_str(), a.version.as_str()),
            ("fx-tools", "2.1~rc1-1")
        );
        assert_eq!(parse_nevra("python3-pip"), None);
        assert_eq!(parse_nevra("libstdc++-12-dev"), None);
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, line, needle) in [
            ("nginx >= 1\nnginx => 1.2\n", 2, "unknown operator \"=>\""),
            ("\n\nnginx ~> 1.2\n", 3, "unknown operator"),
            ("nginx >= 1.2 <<3\n", 1, "unknown operator \"<<\""),
            ("nginx >=\n", 1, "missing version"),
            ("nginx >= 1.2$\n", 1, "unparsable version"),
            ("nginx >= a:1\n", 1, "epoch"),
            ("nginx 1.2\n", 1, "expected an operator"),
            ("ngi/nx >= 1\n", 1, "bad package name"),
            ("bash=\n", 1, "missing version"),
            ("bash=1.0-\n", 1, "unparsable version"),
        ] {
            let e = p(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text:?}: {e}");
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("spec.txt:{line}: ")), "{shown}");
            assert!(shown.contains(needle), "{text:?}: {shown}");
        }
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for text in [
            "=",
            "==",
            "a=",
            "=1",
            ">=1",
            "a b c",
            "é >= 1",
            "a >= é",
            "a\u{3000}>= 1",
            "-",
            "#",
            "a-b-c.x86_64",
        ] {
            let _ = p(text);
        }
    }
}
