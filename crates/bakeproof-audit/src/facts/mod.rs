//! Facts read from the audited source. Every reader takes a
//! [`bakeproof_index::ReadOnlyTree`] (the root, confined) and returns values;
//! the parsers under it take bytes (fuzzed in `fuzz/`). [`Facts::read`]
//! reads them all.

pub mod accounts;
pub mod arch;
pub mod firewall;
pub mod kernel;
pub mod live;
pub mod packages;
mod read;
pub mod selinux;
pub mod sshd;
pub mod system;
pub mod systemd;

pub use read::ReadOptions;

use serde::{Deserialize, Serialize};

/// os-release, as the report shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsFact {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

/// One account from passwd (+ shadow's password state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFact {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub shell: String,
    /// `hash`, `locked` (`!`/`*` prefix or field), `empty`, `unknown`
    /// (no shadow entry).
    pub password: String,
}

/// A listening socket (`--live`, from /proc/net).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketFact {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub proto: String,
    pub address: String,
    pub port: u16,
}

/// Everything the checks compare against. `None`/empty where the source
/// cannot say (an SBOM has packages only); the checks then report the
/// requirement as `ng` with actual `not assessed`.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub packages: Option<packages::PackageFacts>,
    pub sshd: Option<sshd::SshdConfig>,
    pub units: Option<systemd::UnitFacts>,
    pub accounts: Option<accounts::AccountsFact>,
    pub selinux: Option<selinux::SelinuxFact>,
    pub firewall: Option<firewall::FirewallFact>,
    pub kernels: Option<Vec<kernel::KernelFact>>,
    pub arch: Option<String>,
    pub os: Option<OsFact>,
    pub live: Option<live::LiveFacts>,
    pub tree_digest: Option<String>,
    /// Reads that failed without stopping the audit.
    pub warnings: Vec<String>,
}
