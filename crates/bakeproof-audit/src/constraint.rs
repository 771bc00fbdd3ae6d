//! Version constraints (`>= 1.24.0`) evaluated in the package manager's own
//! order: rpm's rpmvercmp with epoch, `~` and `^`; dpkg's order
//! ([`bakeproof_pkgdb::version`]).
//!
//! The rule is the one each package manager applies to a versioned
//! dependency (`Requires: nginx >= 1.24.0`, `Depends: nginx (>= 1.24.0)`):
//! * rpm (`rpmdsCompare`/`rpmverCmp`): a missing epoch is `0`; versions
//!   compare with `rpmvercmp`; the release is compared only when both
//!   sides have one, so `nginx = 1.24.0` holds for `1.24.0-1.amzn2023`
//!   (what `rpm -q --whatprovides 'nginx = 1.24.0'` answers). With both
//!   releases the answer is `rpm.vercmp`'s.
//! * dpkg (`dpkg --compare-versions`): epoch, upstream version and
//!   revision, a missing revision being the empty one (so `= 1.24.0` does
//!   not hold for `1.24.0-1`, as for `Depends:`).

use std::cmp::Ordering;

use bakeproof_pkgdb::Ecosystem;
use bakeproof_pkgdb::version::{Evr, dpkg_version_cmp, rpm_ev_cmp, rpmvercmp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Eq,
    Le,
    Lt,
    Ne,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "=",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ne => "!=",
        }
    }

    /// The operator written `s` (`==` is `=`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            ">=" => Op::Ge,
            ">" => Op::Gt,
            "=" | "==" => Op::Eq,
            "<=" => Op::Le,
            "<" => Op::Lt,
            "!=" => Op::Ne,
            _ => return None,
        })
    }

    /// Whether `ord` (installed compared with the constraint's version)
    /// satisfies the operator.
    pub fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Ge => ord != Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
            Op::Eq => ord == Ordering::Equal,
            Op::Le => ord != Ordering::Greater,
            Op::Lt => ord == Ordering::Less,
            Op::Ne => ord != Ordering::Equal,
        }
    }
}

/// One `OP VERSION`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub op: Op,
    pub version: String,
}

/// Why a version string is not one a design document may name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("missing version")]
    Empty,
    #[error("unparsable version {0:?}: {1}")]
    Bad(String, &'static str),
}

/// Checks a version as written in a design document: ASCII letters,
/// digits and `. _ + ~ ^ - :` only; an optional numeric epoch before one
/// `:`; it begins with a letter or digit (after the epoch) and does not end
/// with `-` or `:`.
pub fn check_version(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty);
    }
    let bad = |why| Err(VersionError::Bad(v.to_owned(), why));
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._+~^-:".contains(*c)))
    {
        let _ = c;
        return bad("only letters, digits and . _ + ~ ^ - : may appear");
    }
    let rest = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return bad("the epoch (before ':') must be a number");
            }
            if e.parse::<u32>().is_err() {
                return bad("the epoch is too large");
            }
            if rest.contains(':') {
                return bad("more than one ':'");
            }
            rest
        }
        None => v,
    };
    match rest.bytes().next() {
        None => return bad("nothing after the epoch"),
        Some(b) if !b.is_ascii_alphanumeric() => {
            return bad("must begin with a letter or digit");
        }
        _ => {}
    }
    if rest.ends_with('-') {
        return bad("empty release after '-'");
    }
    Ok(())
}

/// `installed` compared with `wanted` under `ecosystem`'s dependency rule
/// (see the module documentation).
pub fn compare(ecosystem: Ecosystem, installed: &str, wanted: &str) -> Ordering {
    match ecosystem {
        Ecosystem::Deb => dpkg_version_cmp(installed, wanted),
        Ecosystem::Rpm => rpm_dep_cmp(installed, wanted),
        // The design documents constrain the OS's packages only (the facts
        // hold no language package); a generic order, never a panic.
        _ => bakeproof_pkgdb::version::generic_version_cmp(installed, wanted),
    }
}

/// rpm's `rpmverCmp()`: missing epoch `0`, release compared only when both
/// sides have one.
pub fn rpm_dep_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (Evr::parse(a), Evr::parse(b));
    rpm_ev_cmp(&a, &b).then_with(|| match (a.release, b.release) {
        (Some(ra), Some(rb)) => rpmvercmp(ra, rb),
        _ => Ordering::Equal,
    })
}

impl Constraint {
    /// Whether `installed` (as the package manager prints it) satisfies the
    /// constraint in `ecosystem`'s order.
    pub fn matches(&self, ecosystem: Ecosystem, installed: &str) -> bool {
        self.op.holds(compare(ecosystem, installed, &self.version))
    }

    /// Parses `OP VERSION [[,] OP VERSION]...` (blanks between operator
    /// and version optional: `>=1.0,<2`). An empty string is no
    /// constraint (any version).
    pub fn parse_list(s: &str) -> Result<Vec<Constraint>, ConstraintError> {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        let is_op = |c: u8| matches!(c, b'<' | b'>' | b'=' | b'!' | b'~');
        let is_blank = |c: u8| c == b' ' || c == b'\t' || c == b',';
        loop {
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let start = i;
            while i < b.len() && is_op(b[i]) {
                i += 1;
            }
            let op_text = &s[start..i];
            if op_text.is_empty() {
                let word: String = s[start..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != ',')
                    .collect();
                return Err(ConstraintError::MissingOperator(word));
            }
            let op = Op::parse(op_text)
                .ok_or_else(|| ConstraintError::UnknownOperator(op_text.to_owned()))?;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            let vstart = i;
            while i < b.len() && !is_blank(b[i]) && !matches!(b[i], b'<' | b'>' | b'=' | b'!') {
                // a character boundary: only ASCII bytes stop the scan
                i += 1;
            }
            let version = &s[vstart..i];
            check_version(version).map_err(|e| ConstraintError::Version(op_text.to_owned(), e))?;
            out.push(Constraint {
                op,
                version: version.to_owned(),
            });
        }
        Ok(out)
    }
}

/// Why a constraint list does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    #[error("unknown operator {0:?} (expected one of >= > = <= < !=)")]
    UnknownOperator(String),
    #[error("expected an operator (>= > = <= < !=) before {0:?}")]
    MissingOperator(String),
    #[error("after {0:?}: {1}")]
    Version(String, VersionError),
}

/// `>= 1.0, < 2` as people read it; `any version` for none.
pub fn describe(constraints: &[Constraint]) -> String {
    if constraints.is_empty() {
        return "installed".to_owned();
    }
    constraints
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op.as_str(), self.version)
    }
}
