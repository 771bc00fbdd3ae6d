//! Version constraints (`>= 1.24.0`) evaluated in the package manager's own
//! order: rpm's rpmvercmp with epoch, `~` and `^`; dpkg's order
//! ([`bakeproof_pkgdb::version`]). OWNER: helper i14-design.

use bakeproof_pkgdb::Ecosystem;

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
}

/// One `OP VERSION`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub op: Op,
    pub version: String,
}

impl Constraint {
    /// Whether `installed` (as the package manager prints it) satisfies the
    /// constraint in `ecosystem`'s order.
    pub fn matches(&self, ecosystem: Ecosystem, installed: &str) -> bool {
        let _ = (ecosystem, installed);
        todo_constraint()
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op.as_str(), self.version)
    }
}

// Placeholder until i14-design lands the real comparison.
fn todo_constraint() -> bool {
    false
}
