//! The audit report: the one definition of `schemas/audit-report.schema.json`.
//!
//! Field names are the contract other tools (and `attest --audit`,
//! `verify --require-audit`, `diff`) build on: `status` (`pass`/`fail`) and
//! `requirements`, each with `kind`, `name`, `expected`, `actual` and
//! `status` (`ok`/`ng`). Package requirements have `kind` `package`.

use serde::{Deserialize, Serialize};

/// The in-toto predicate type an audit report is signed under.
pub const AUDIT_PREDICATE_TYPE: &str = "https://bakeproof.dev/audit/v1";

/// Version of the report's JSON shape (`schema_version`).
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditStatus {
    /// Every requirement is `ok`.
    Pass,
    /// At least one requirement is `ng`.
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReqStatus {
    Ok,
    Ng,
}

/// What `actual` says of a fact the source does not have (an SBOM has no
/// sshd configuration; a file that exists could not be read).
pub const NOT_ASSESSED: &str = "not assessed";

/// Where a requirement was written (design file and 1-based line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One checked requirement of the design document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// What is required: `package`, `service`, `sshd`, `account`,
    /// `selinux`, `firewall`, `kernel`, `arch`, `os` (docs/audit.md lists
    /// each with its fact source).
    pub kind: String,
    /// The subject: a package name, a unit, an sshd keyword, an account
    /// rule, ...
    pub name: String,
    /// The rule within the kind (package: `constraint`, `approved`,
    /// `forbidden`, `approved-only`; service: `enabled`, `disabled`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What the design document asks for, as a person reads it
    /// (`>= 1.24.0`, `no`, `enforcing`, `installed`, `not installed`).
    pub expected: String,
    /// What the image has (`1.24.0-1.amzn2023.0.2`, `not installed`,
    /// `prohibit-password`, ...).
    pub actual: String,
    pub status: ReqStatus,
    /// Why, when the status needs explaining (which package matched, which
    /// file set the value, which accounts broke the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
}

impl Requirement {
    /// A requirement judged `ok` (`met`) or `ng`.
    #[allow(clippy::too_many_arguments)]
    pub fn judged(
        kind: &str,
        name: &str,
        rule: Option<&str>,
        expected: String,
        actual: String,
        met: bool,
        detail: Option<String>,
        source: Option<SourceLocation>,
    ) -> Requirement {
        Requirement {
            kind: kind.to_owned(),
            name: name.to_owned(),
            rule: rule.map(str::to_owned),
            expected,
            actual,
            status: if met { ReqStatus::Ok } else { ReqStatus::Ng },
            detail,
            source,
        }
    }
}

/// The design document the report checks against.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// `# 設計書: SYS-2025-001` / `Design:` / TOML `[design] id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `# 対象: ...` / `Target:` / TOML `[design] title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The design files, as given, with their SHA-256.
    pub files: Vec<DesignFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignFile {
    pub path: String,
    pub sha256: String,
}

/// What was audited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIdentity {
    /// The root directory, SBOM file or `REGION:AMI-ID` audited.
    pub source: String,
    /// The image's tree digest (`sha256:…`), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The configuration report: what the image is, beside the requirements
/// (the handover document's second half). Every field is a fact read from
/// the source; `None` when the source does not say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<crate::facts::OsFact>,
    /// Kernel versions installed (from `/boot` and the module trees).
    #[serde(default)]
    pub kernels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_count: Option<usize>,
    /// Enabled units, as `systemctl --root list-unit-files --state=enabled`.
    #[serde(default)]
    pub enabled_services: Vec<String>,
    /// Accounts with UID < 1000 (name, uid, shell).
    #[serde(default)]
    pub system_users: Vec<crate::facts::AccountFact>,
    /// SELinux mode from /etc/selinux/config (`enforcing`, `permissive`,
    /// `disabled`), or absent when there is no SELinux configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
    /// Firewall services enabled (`firewalld`, `nftables`, `ufw`,
    /// `iptables`, ...).
    #[serde(default)]
    pub firewall: Vec<String>,
    /// sshd keywords of interest, effective values (`permitrootlogin`,
    /// `passwordauthentication`, ...), lower-case keys as `sshd -T`.
    #[serde(default)]
    pub sshd: std::collections::BTreeMap<String, String>,
    /// Listening sockets: only with `--live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listening: Option<Vec<crate::facts::SocketFact>>,
    /// What this source cannot tell (offline: listening ports, running
    /// SELinux mode; from an SBOM: everything but packages).
    #[serde(default)]
    pub not_assessed: Vec<String>,
}

/// The audit report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub schema_version: u32,
    /// `pass` when every requirement is `ok`.
    pub status: AuditStatus,
    pub document: DocumentRef,
    /// RFC 3339 UTC time of the audit (SOURCE_DATE_EPOCH when set).
    pub date: String,
    pub image: ImageIdentity,
    pub requirements: Vec<Requirement>,
    pub configuration: ConfigReport,
    /// Reads that failed without stopping the audit.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Why a report is not the audit of a given tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeMismatch {
    /// The report names no tree digest (an audit of an SBOM or a package
    /// list).
    Unbound,
    /// The report audited another tree: its `image.tree_digest`.
    Other(String),
}

impl AuditReport {
    /// Whether this report audited the tree `tree` (`sha256:HEX` or the
    /// bare hex): the one binding rule `attest --audit`, `verify
    /// --require-audit` and `diff` apply. The expected digest is returned
    /// spelled `sha256:HEX`.
    pub fn check_tree(&self, tree: &str) -> Result<String, (TreeMismatch, String)> {
        let want = if tree.starts_with("sha256:") {
            tree.to_owned()
        } else {
            format!("sha256:{tree}")
        };
        match self.image.tree_digest.as_deref() {
            None => Err((TreeMismatch::Unbound, want)),
            Some(t) if t != want => Err((TreeMismatch::Other(t.to_owned()), want)),
            Some(_) => Ok(want),
        }
    }

    /// `pass` iff no requirement is `ng`.
    pub fn status_of(requirements: &[Requirement]) -> AuditStatus {
        if requirements.iter().all(|r| r.status == ReqStatus::Ok) {
            AuditStatus::Pass
        } else {
            AuditStatus::Fail
        }
    }

    /// 0 when every requirement is met, 1 when some are not (2, usage or
    /// input error, is the CLI's).
    pub fn exit_code(&self) -> i32 {
        match self.status {
            AuditStatus::Pass => 0,
            AuditStatus::Fail => 1,
        }
    }

    /// Parse a report (JSON bytes), as `verify --require-audit` and `diff`
    /// read one back.
    pub fn from_json(bytes: &[u8]) -> Result<AuditReport, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings, numbers and maps with string keys always
        // serialises.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}
