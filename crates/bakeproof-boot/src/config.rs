//! What one verification is asked to do, resolved: the store, whom to
//! trust, which AMI, the live root, the level, and the few policy knobs
//! (tolerated seal warnings, ignored paths, the host-key age). The CLI
//! builds a [`BootConfig`] from its flags; nothing here knows about them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bakeproof_attest::{AmiRef, TrustError, TrustedKeys};
use bakeproof_imds::{IdentityCert, ImdsConfig, ImdsError};
use bakeproof_store::StoreOptions;

/// Default directory of trusted keys (`*.pub`) on the running system.
pub const DEFAULT_KEY_DIR: &str = "/etc/bakeproof/keys";

/// Paths that legitimately change between the bake and the boot (glob,
/// why): the real first-boot changes of a Debian and an Amazon Linux image.
/// They are not scanned nor hashed; the `first-boot` check walks them and
/// fails on any new executable, script, unit, cron entry or library
/// (`bakeproof_seal::firstboot`, docs/boot.md). The account files, the
/// cloud-init sudoers drop-in, `authorized_keys` and the new default user's
/// home are not here: they are judged by meaning.
pub const DEFAULT_MUTABLE: &[(&str, &str)] = bakeproof_seal::firstboot::DEFAULT_IGNORED;

/// How far the live root is compared with the attestations; each level
/// includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Signatures, subjects, seal report, identity freshness.
    Attestation,
    /// ... and the installed packages (and the files they own) against the
    /// attested SBOM.
    Packages,
    /// ... and every entry (content, type, target, mode, owner, ...).
    Files,
}

impl Level {
    /// The name the result (`level`) gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Attestation => "attestation",
            Level::Packages => "packages",
            Level::Files => "files",
        }
    }
}

/// Which time a live SSH host key must be newer than (docs/boot.md,
/// `ssh-host-keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyAge {
    /// The instance's launch (IMDS `pendingTime`): for a check run once at
    /// first boot (after a stop and start every key is older).
    Launch,
    /// The seal report's timestamp (survives a stop and start).
    Image,
    /// Not checked.
    Off,
}

/// Which AMI this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiChoice {
    /// Asked from IMDS (IMDSv2; with identity certificates, the signed
    /// identity document must verify and name it).
    Imds,
    /// Given by the caller: IMDS is not asked at all.
    Given(AmiRef),
}

/// Seal-check ids whose warnings are tolerated. Failing checks never are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowWarn {
    /// Any warning.
    pub all: bool,
    pub ids: BTreeSet<String>,
}

impl AllowWarn {
    /// From a list of ids, where `all` tolerates any.
    pub fn from_ids<S: AsRef<str>>(ids: &[S]) -> AllowWarn {
        AllowWarn {
            all: ids.iter().any(|i| i.as_ref() == "all"),
            ids: ids.iter().map(|i| i.as_ref().to_owned()).collect(),
        }
    }

    /// Whether a warning of check `id` is tolerated.
    pub fn allows(&self, id: &str) -> bool {
        self.all || self.ids.contains(id)
    }
}

/// The expected-mutable (ignored) path globs in force, compiled: matched
/// against the path inside the root, `*` does not cross `/`.
#[derive(Clone, Debug)]
pub struct Ignored {
    globs: Vec<String>,
    defaults: bool,
    set: globset::GlobSet,
}

impl Ignored {
    /// [`DEFAULT_MUTABLE`] (unless `defaults` is false) and `extra`.
    pub fn new(defaults: bool, extra: &[String]) -> Result<Ignored, ConfigError> {
        let mut globs: Vec<String> = if defaults {
            DEFAULT_MUTABLE
                .iter()
                .map(|(g, _)| (*g).to_owned())
                .collect()
        } else {
            Vec::new()
        };
        globs.extend(extra.iter().cloned());
        let set = glob_set(&globs)?;
        Ok(Ignored {
            globs,
            defaults,
            set,
        })
    }

    /// The globs, defaults first.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }

    /// Whether the defaults are in force (then the files the first-boot
    /// rules judge are left to them, not compared by digest).
    pub fn defaults(&self) -> bool {
        self.defaults
    }

    pub(crate) fn set(&self) -> &globset::GlobSet {
        &self.set
    }
}

impl Default for Ignored {
    /// The defaults only.
    fn default() -> Ignored {
        Ignored::new(true, &[]).expect("the default globs compile")
    }
}

/// Compiles `globs` (`*` does not cross `/`).
pub(crate) fn glob_set(globs: &[String]) -> Result<globset::GlobSet, ConfigError> {
    let mut gb = globset::GlobSetBuilder::new();
    for g in globs {
        gb.add(
            globset::GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|source| ConfigError::Glob {
                    glob: g.clone(),
                    source,
                })?,
        );
    }
    gb.build().map_err(|source| ConfigError::Glob {
        glob: String::new(),
        source,
    })
}

/// One verification, resolved.
#[derive(Clone, Debug)]
pub struct BootConfig {
    /// The attestation store (`s3://BUCKET/PREFIX`, `file:///DIR`, a
    /// directory), as the result names it.
    pub store: String,
    pub store_options: StoreOptions,
    /// Every bundle must verify against one of these.
    pub keys: TrustedKeys,
    pub ami: AmiChoice,
    /// IMDS (used for the AMI with [`AmiChoice::Imds`], and for the keys
    /// the instance was given at `--level files`).
    pub imds: ImdsConfig,
    /// AWS identity certificates: when not empty, the identity document
    /// must verify against one and name this AMI.
    pub identity_certs: Vec<IdentityCert>,
    /// The live root filesystem to check.
    pub root: PathBuf,
    pub level: Level,
    pub allow_warn: AllowWarn,
    pub ignored: Ignored,
    pub host_key_age: HostKeyAge,
    /// The AMI must carry a passing audit report (`attest --audit`) signed
    /// by a trusted key, of the attested tree (check `audit`).
    pub require_audit: bool,
    /// The `lifecycle` check: records, status document, state file.
    pub lifecycle: crate::lifecycle::LifecycleConfig,
    /// The tool version the live scan's SBOM names (only the comparison
    /// reads it back).
    pub tool_version: String,
}

impl BootConfig {
    /// A configuration with the defaults: the AMI from IMDS (its endpoint
    /// from `imds`), root `/`, level attestation, no tolerated warning, the
    /// default ignored paths, host keys newer than the launch.
    pub fn new(store: impl Into<String>, keys: TrustedKeys, imds: ImdsConfig) -> BootConfig {
        BootConfig {
            store: store.into(),
            store_options: StoreOptions::default(),
            keys,
            ami: AmiChoice::Imds,
            imds,
            identity_certs: Vec::new(),
            root: PathBuf::from("/"),
            level: Level::Attestation,
            allow_warn: AllowWarn::default(),
            ignored: Ignored::default(),
            host_key_age: HostKeyAge::Launch,
            require_audit: false,
            lifecycle: crate::lifecycle::LifecycleConfig::default(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Why a configuration could not be built (nothing was checked: the
/// caller reports a usage or configuration error, "could not verify").
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No key given and none in the key directory.
    #[error("no trusted keys (none given, and no *.pub in {})", dir.display())]
    NoKeys { dir: PathBuf },
    /// No key given and the key directory could not be read.
    #[error("no key given and {} unreadable: {source}", dir.display())]
    KeyDir { dir: PathBuf, source: TrustError },
    #[error(transparent)]
    Keys(TrustError),
    #[error("{}: {source}", path.display())]
    CertRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cert(ImdsError),
    #[error("ignored-path glob {glob:?}: {source}")]
    Glob {
        glob: String,
        source: globset::Error,
    },
}

/// The trusted keys: the given public key files, or (none given) every
/// `*.pub` in `dir` ([`DEFAULT_KEY_DIR`] on the running system).
pub fn load_trusted_keys(files: &[PathBuf], dir: &Path) -> Result<TrustedKeys, ConfigError> {
    let keys = if files.is_empty() {
        TrustedKeys::load_dir(dir)
    } else {
        TrustedKeys::load_files(files)
    };
    keys.map_err(|e| match e {
        TrustError::Empty => ConfigError::NoKeys {
            dir: dir.to_path_buf(),
        },
        e @ TrustError::Dir { .. } if files.is_empty() => ConfigError::KeyDir {
            dir: dir.to_path_buf(),
            source: e,
        },
        e => ConfigError::Keys(e),
    })
}

/// AWS identity certificates from PEM files (each may hold several).
pub fn load_identity_certs(files: &[PathBuf]) -> Result<Vec<IdentityCert>, ConfigError> {
    let mut v = Vec::new();
    for p in files {
        let b = std::fs::read(p).map_err(|source| ConfigError::CertRead {
            path: p.clone(),
            source,
        })?;
        v.extend(IdentityCert::from_pem(&p.display().to_string(), &b).map_err(ConfigError::Cert)?);
    }
    Ok(v)
}
