//! The result of one verification: every check with its outcome, what was
//! verified (AMI, instance, tree digest, key ids), the live host keys and
//! the differences found. Its JSON serialisation is
//! `schemas/boot-result.schema.json` (`bakeproof verify --format json`).

use bakeproof_attest::AmiRef;
use bakeproof_index::{encode_path, escape_path, is_path_encoded};
use serde::{Serialize, Serializer};

use crate::config::Level;

/// Exit codes of a first-boot check, as its contract fixes them: 0
/// verified, 1 failed, 2 could not verify (IMDS or the store unreachable,
/// the store refused; a caller also uses 2 for a usage or configuration
/// error: in both cases nothing was proven).
pub mod code {
    pub const VERIFIED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const COULD_NOT_VERIFY: u8 = 2;
}

/// The overall outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every check passed.
    Verified,
    /// A check failed: this is not the attested, sealed, untampered image.
    Failed,
    /// IMDS or the store could not be reached or used: nothing was proven.
    Unreachable,
}

impl Outcome {
    /// The exit code ([`code`]).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Verified => code::VERIFIED,
            Outcome::Failed => code::FAILED,
            Outcome::Unreachable => code::COULD_NOT_VERIFY,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::Unreachable => "unreachable",
        }
    }
}

/// One check's outcome. `id` is one of docs/boot.md's check ids (`reach`:
/// IMDS or the store could not be reached).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    #[serde(rename = "status", serialize_with = "pass_fail")]
    pub ok: bool,
    pub detail: String,
}

fn pass_fail<S: Serializer>(ok: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *ok { "pass" } else { "fail" })
}

impl Check {
    pub(crate) fn pass(id: &'static str, detail: impl Into<String>) -> Check {
        Check {
            id,
            ok: true,
            detail: detail.into(),
        }
    }
    pub(crate) fn fail(id: &'static str, detail: impl Into<String>) -> Check {
        Check {
            id,
            ok: false,
            detail: detail.into(),
        }
    }
}

/// Where the AMI came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AmiSource {
    Imds,
    Argument,
}

/// The AMI checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmiInfo {
    pub ami: AmiRef,
    pub source: AmiSource,
}

impl Serialize for AmiInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Json<'a> {
            region: &'a str,
            ami_id: &'a str,
            source: AmiSource,
        }
        Json {
            region: self.ami.region(),
            ami_id: self.ami.ami_id(),
            source: self.source,
        }
        .serialize(s)
    }
}

/// The instance, as IMDS described it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    pub instance_id: String,
    /// The certificate the identity document verified against.
    pub identity_verified_by: Option<String>,
    /// The identity document's `pendingTime` (seconds since the epoch).
    #[serde(skip)]
    pub launch_time: Option<i64>,
}

/// A live SSH host key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostKeyInfo {
    /// Escaped as in text output ([`escape_path`]).
    pub path: String,
    #[serde(rename = "type")]
    pub key_type: String,
    /// As `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

/// How a package differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageChange {
    Missing,
    Added,
    Version,
}

impl PackageChange {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageChange::Missing => "missing",
            PackageChange::Added => "added",
            PackageChange::Version => "version",
        }
    }
}

/// One package difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    /// The purl without its version, qualifiers kept
    /// (`pkg:deb/debian/bash?arch=amd64`).
    pub package: String,
    pub change: PackageChange,
    /// The full versions.
    pub attested: Option<String>,
    pub live: Option<String>,
}

/// One entry difference: `path` and the values as the SBOM writes them,
/// each with a `...Encoding` marker where it had to be percent-encoded, so
/// the JSON names exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// The raw path.
    pub path: Vec<u8>,
    pub change: bakeproof_diff::EntryChangeKind,
    pub attested: Option<Vec<u8>>,
    pub live: Option<Vec<u8>>,
    /// `--level packages`: the purl of the package owning the entry (the
    /// bom-ref as written when the SBOM has no such package); `None` at
    /// the files level, where no owner is named.
    pub package: Option<Option<String>>,
}

impl FileDiff {
    pub(crate) fn of(c: bakeproof_diff::EntryChange) -> FileDiff {
        FileDiff {
            path: c.path,
            change: c.change,
            attested: c.attested,
            live: c.live,
            package: None,
        }
    }

    /// The path for text output: escaped, one token whatever the name.
    pub fn shown_path(&self) -> String {
        escape_path(&self.path)
    }
}

impl Serialize for FileDiff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let percent = |b: &[u8]| is_path_encoded(b).then_some("percent");
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &encode_path(&self.path))?;
        m.serialize_entry("change", self.change.as_str())?;
        if let Some(p) = percent(&self.path) {
            m.serialize_entry("pathEncoding", p)?;
        }
        for (k, ke, x) in [
            ("attested", "attestedEncoding", &self.attested),
            ("live", "liveEncoding", &self.live),
        ] {
            m.serialize_entry(k, &x.as_deref().map(encode_path))?;
            if let Some(p) = x.as_deref().and_then(percent) {
                m.serialize_entry(ke, p)?;
            }
        }
        if let Some(p) = &self.package {
            m.serialize_entry("package", p)?;
        }
        m.end()
    }
}

/// What differs between the live root and the attested SBOM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Differences {
    pub packages: Vec<PackageDiff>,
    pub files: Vec<FileDiff>,
}

impl Differences {
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty() && self.files.is_empty()
    }
}

/// The result of [`crate::verify`] (`schemas/boot-result.schema.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootReport {
    /// Always 1 (the result format's version).
    pub bakeproof_boot_result: u32,
    pub result: Outcome,
    pub exit_code: u8,
    #[serde(serialize_with = "level_str")]
    pub level: Level,
    pub ami: Option<AmiInfo>,
    pub instance: Option<InstanceInfo>,
    pub store: String,
    /// `sha256:<hex>` of the attested tree.
    pub tree_digest: Option<String>,
    /// The key ids that signed the attestations, comma-separated.
    pub keyid: Option<String>,
    /// Every check in the order it ran; the last one is the failure that
    /// stopped the run, if any.
    pub checks: Vec<Check>,
    /// What the `lifecycle` check found (`None`: not checked, or the run
    /// stopped before it).
    pub lifecycle: Option<bakeproof_lifecycle::boot::BootLifecycle>,
    pub host_keys: Vec<HostKeyInfo>,
    pub differences: Differences,
    pub elapsed_ms: u64,
}

fn level_str<S: Serializer>(l: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.as_str())
}

impl BootReport {
    /// The exit code ([`code`]): 0 verified, 1 failed, 2 could not verify.
    pub fn exit_code(&self) -> u8 {
        self.result.exit_code()
    }

    /// Whether the image verified.
    pub fn verified(&self) -> bool {
        self.result == Outcome::Verified
    }

    /// The JSON document (`schemas/boot-result.schema.json`), pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a boot report serializes")
    }
}
