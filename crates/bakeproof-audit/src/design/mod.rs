//! The design document: one [`Design`] from any number of files, plain
//! (`plain.rs`) or TOML (`toml.rs`).
//!
//! Plain form (what teams keep today, e.g. `design-spec.txt`):
//! ```text
//! # 設計書: SYS-2025-001
//! # 対象: Web server golden image
//! nginx >= 1.24.0
//! openssl >= 3.0.0 < 4
//! nginx-1.24.0-1.amzn2023.0.2.x86_64      (approved NEVRA)
//! bash=5.2.15-3                           (approved name=version)
//! ```
//! TOML form: see docs/audit.md (sections `[design]`, `[packages]`,
//! `[services]`, `[sshd]`, `[accounts]`, `[selinux]`, `[firewall]`,
//! `[kernel]`, `[system]`).

pub mod plain;
pub mod toml;

use sha2::{Digest, Sha256};

use crate::constraint::Constraint;
use crate::error::DesignError;
use crate::report::SourceLocation;

/// Largest design file read (bytes).
pub const MAX_DESIGN_BYTES: usize = 16 << 20;

/// Parses one design file: TOML when `file` ends with `.toml`, else the
/// plain form. `file` names it in errors (`file:line: message`) and in the
/// report; the file's SHA-256 goes into [`Design::files`].
pub fn parse_file(bytes: &[u8], file: &str) -> Result<Design, DesignError> {
    let err = |line: Option<usize>, message: String| DesignError {
        file: file.into(),
        line,
        message,
    };
    if bytes.len() > MAX_DESIGN_BYTES {
        return Err(err(None, format!("larger than {MAX_DESIGN_BYTES} bytes")));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        err(Some(line), "not UTF-8 text".to_owned())
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut design = if file.to_ascii_lowercase().ends_with(".toml") {
        toml::parse(text, file)?
    } else {
        plain::parse(text, file)?
    };
    design
        .files
        .push((file.to_owned(), hex::encode(Sha256::digest(bytes))));
    Ok(design)
}

/// Everything the design documents require, merged in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Design {
    /// Document id (`設計書:`/`Design:` header, TOML `[design] id`).
    pub id: Option<String>,
    /// Title (`対象:`/`Target:` header, TOML `[design] title`).
    pub title: Option<String>,
    /// The files read, with their SHA-256 (hex), in order.
    pub files: Vec<(String, String)>,
    /// `NAME OP VERSION...` lines and `[packages] required`.
    pub required: Vec<PackageRule>,
    /// Approved exact versions (NEVRA or `name=version` lines, `[packages]
    /// approved`).
    pub approved: Vec<ApprovedPackage>,
    /// Any installed package not in `approved` (by name and version) is a
    /// finding.
    pub approved_only: bool,
    /// Packages that must not be installed (`[packages] forbidden`).
    pub forbidden: Vec<PackageRule>,
    /// Units that must be enabled / must not be enabled.
    pub services_enabled: Vec<Located<String>>,
    pub services_disabled: Vec<Located<String>>,
    /// sshd keyword (lower-case, as `sshd -T`) → required effective value.
    pub sshd: Vec<Located<(String, String)>>,
    pub accounts: AccountRules,
    /// Required SELinux mode (`enforcing`, `permissive`, `disabled`).
    pub selinux: Option<Located<String>>,
    /// Some firewall must be enabled (`true`) / none may be (`false`).
    pub firewall_enabled: Option<Located<bool>>,
    /// Constraint on every installed kernel's version.
    pub kernel: Option<Located<Vec<Constraint>>>,
    /// Required architecture (`x86_64`, `aarch64`; `amd64`/`arm64` accepted).
    pub arch: Option<Located<String>>,
    /// Required os-release `ID` and `VERSION_ID` constraint.
    pub os_id: Option<Located<String>>,
    pub os_version: Option<Located<Vec<Constraint>>>,
}

/// A value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub source: SourceLocation,
}

/// `nginx >= 1.24.0 < 2` (every constraint must hold), or a bare name
/// (installed, any version).
#[derive(Clone, Debug, PartialEq)]
pub struct PackageRule {
    pub name: String,
    pub constraints: Vec<Constraint>,
    pub source: SourceLocation,
}

/// An approved package at one exact version.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovedPackage {
    pub name: String,
    /// `[epoch:]version[-release]` as written.
    pub version: String,
    /// From a NEVRA; `None` for `name=version`.
    pub arch: Option<String>,
    pub source: SourceLocation,
}

/// `[accounts]`: rules over passwd/shadow/group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountRules {
    /// No account but `root` has UID 0.
    pub only_root_uid0: Option<SourceLocation>,
    /// No account has an empty password field in shadow (or passwd).
    pub no_empty_passwords: Option<SourceLocation>,
    /// System accounts (UID below `UID_MIN`, 1000 by default, except root)
    /// have no login shell and no password hash.
    pub system_accounts_locked: Option<SourceLocation>,
}

impl Design {
    /// Whether the documents require nothing at all (a design that checks
    /// nothing proves nothing: the CLI refuses it as an input error).
    pub fn is_empty(&self) -> bool {
        self.required.is_empty()
            && self.approved.is_empty()
            && !self.approved_only
            && self.forbidden.is_empty()
            && self.services_enabled.is_empty()
            && self.services_disabled.is_empty()
            && self.sshd.is_empty()
            && self.accounts == AccountRules::default()
            && self.selinux.is_none()
            && self.firewall_enabled.is_none()
            && self.kernel.is_none()
            && self.arch.is_none()
            && self.os_id.is_none()
            && self.os_version.is_none()
    }

    /// Merge `other` (a later file) into `self`.
    pub fn merge(&mut self, other: Design) {
        let Design {
            id,
            title,
            files,
            required,
            approved,
            approved_only,
            forbidden,
            services_enabled,
            services_disabled,
            sshd,
            accounts,
            selinux,
            firewall_enabled,
            kernel,
            arch,
            os_id,
            os_version,
        } = other;
        self.id = self.id.take().or(id);
        self.title = self.title.take().or(title);
        self.files.extend(files);
        self.required.extend(required);
        self.approved.extend(approved);
        self.approved_only |= approved_only;
        self.forbidden.extend(forbidden);
        self.services_enabled.extend(services_enabled);
        self.services_disabled.extend(services_disabled);
        self.sshd.extend(sshd);
        self.accounts.only_root_uid0 = self
            .accounts
            .only_root_uid0
            .take()
            .or(accounts.only_root_uid0);
        self.accounts.no_empty_passwords = self
            .accounts
            .no_empty_passwords
            .take()
            .or(accounts.no_empty_passwords);
        self.accounts.system_accounts_locked = self
            .accounts
            .system_accounts_locked
            .take()
            .or(accounts.system_accounts_locked);
        self.selinux = selinux.or(self.selinux.take());
        self.firewall_enabled = firewall_enabled.or(self.firewall_enabled.take());
        self.kernel = kernel.or(self.kernel.take());
        self.arch = arch.or(self.arch.take());
        self.os_id = os_id.or(self.os_id.take());
        self.os_version = os_version.or(self.os_version.take());
    }
}
