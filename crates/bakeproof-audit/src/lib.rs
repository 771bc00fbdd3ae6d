//! `bakeproof audit`: does an image root match its design document (設計書)?
//!
//! Three parts, each its own module:
//! * [`design`]: the design document, read from the plain form teams already
//!   keep (`NAME OP VERSION` lines, `# 設計書:` headers, approved NEVRAs) and
//!   from a structured TOML file, into one [`Design`] value. Parsers take
//!   bytes and a file name (for `file:line` errors) and return values.
//! * [`facts`]: what the root says, read through
//!   [`bakeproof_index::ReadOnlyTree`] (never the host) with the daemons'
//!   own semantics: packages (or an SBOM standing in for them), sshd's
//!   effective configuration, systemd's enabled units, accounts, SELinux,
//!   firewall, kernels, os-release, architecture; with `live`, sockets.
//! * [`check`]: a [`Design`] against [`Facts`] → an [`AuditReport`]
//!   (`schemas/audit-report.schema.json`), rendered by [`render`] as text,
//!   JSON or the Markdown handover document.
//!
//! The library never prints or exits; the CLI maps
//! [`AuditReport::exit_code`] to the process status.

pub mod check;
pub mod constraint;
pub mod design;
mod error;
pub mod facts;
pub mod render;
pub mod report;

pub use check::audit;
pub use design::Design;
pub use error::{AuditError, DesignError};
pub use facts::Facts;
pub use report::{AuditReport, AuditStatus, ReqStatus, Requirement};
