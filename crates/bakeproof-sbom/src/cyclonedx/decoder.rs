//! The one CycloneDX JSON decoder: `bakeproof diff` and the first-boot
//! check read SBOMs only through it.
//!
//! Reads any CycloneDX JSON document (bakeproof's own, syft's, trivy's,
//! cdxgen's; spec 1.4 to 1.6) through a minimal serde model of only the
//! fields bakeproof compares (not the `cyclonedx-bom` model), so newer spec
//! versions and unknown fields are no obstacle. Strings borrow from the
//! input where they have no escapes: two 100k-file SBOMs parse in a
//! fraction of the time and memory a generic `serde_json::Value` needs.
//!
//! One rule for every reader: nested components are flattened (document
//! order, parents before their children), and a package is identified by
//! [`PackageId`]. Property names come from [`super::vocab`], the names the
//! encoder writes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bakeproof_pkgdb::version::Evr;
use serde::Deserialize;
use serde_json::Value;

use super::vocab;

/// Largest SBOM `bakeproof diff` reads by default (bytes, 512 MiB): the 80 MB
/// SBOM of a 130k-entry `/usr` scales to ~400 MB for a million files, while
/// an unbounded input (one 1 GiB JSON string) costs 18 s and 4 GB of memory
/// before anything is compared.
pub const MAX_SBOM_BYTES: u64 = 512 << 20;

/// Why a document cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a CycloneDX JSON document: {0}")]
    NotCycloneDx(String),
    /// A file component that cannot be read unambiguously (no name, an
    /// encoding that does not decode, a path listed twice).
    #[error("file components: {0}")]
    File(String),
}

type S<'a> = Cow<'a, str>;

/// The parts of a CycloneDX document bakeproof reads; every other field is
/// ignored (so 1.6 documents and unknown fields are fine).
#[derive(Debug, Deserialize)]
struct RawBom<'a> {
    #[serde(rename = "bomFormat", borrow)]
    bom_format: Option<S<'a>>,
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<S<'a>>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default, borrow)]
    components: Option<Vec<Component<'a>>>,
}

/// One component as the decoder reads it (any type; nested components are
/// reached through [`Sbom::components`]).
#[derive(Debug, Deserialize)]
pub struct Component<'a> {
    #[serde(rename = "type", default, borrow)]
    ctype: Option<S<'a>>,
    #[serde(default, borrow)]
    name: Option<S<'a>>,
    #[serde(default, borrow)]
    version: Option<S<'a>>,
    #[serde(default, borrow)]
    purl: Option<S<'a>>,
    #[serde(rename = "bom-ref", default, borrow)]
    bom_ref: Option<S<'a>>,
    #[serde(default, borrow)]
    supplier: Option<RawSupplier<'a>>,
    #[serde(default, borrow)]
    publisher: Option<S<'a>>,
    #[serde(default, borrow)]
    author: Option<S<'a>>,
    #[serde(default, borrow)]
    licenses: Option<Vec<RawLicenseChoice<'a>>>,
    #[serde(default, borrow)]
    hashes: Option<Vec<RawHash<'a>>>,
    #[serde(default, borrow)]
    properties: Option<Vec<RawProp<'a>>>,
    #[serde(default, borrow)]
    components: Option<Vec<Component<'a>>>,
}

#[derive(Debug, Deserialize)]
struct RawSupplier<'a> {
    #[serde(default, borrow)]
    name: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawLicenseChoice<'a> {
    #[serde(default, borrow)]
    license: Option<RawLicense<'a>>,
    #[serde(default, borrow)]
    expression: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawLicense<'a> {
    #[serde(default, borrow)]
    id: Option<S<'a>>,
    #[serde(default, borrow)]
    name: Option<S<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawHash<'a> {
    #[serde(borrow)]
    alg: S<'a>,
    #[serde(borrow)]
    content: S<'a>,
}

#[derive(Debug, Deserialize)]
struct RawProp<'a> {
    #[serde(borrow)]
    name: S<'a>,
    #[serde(default, borrow)]
    value: Option<S<'a>>,
}

/// A parsed CycloneDX document, borrowing from its bytes.
#[derive(Debug)]
pub struct Sbom<'a> {
    components: Vec<Component<'a>>,
    metadata: Option<Value>,
    /// `specVersion`.
    pub spec_version: String,
}

/// Parses and checks a CycloneDX JSON document (`bomFormat` `CycloneDX`,
/// a `specVersion`; `components` may be absent). The caller bounds the
/// input (`MAX_SBOM_BYTES`): nothing is read but `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Sbom<'_>, DecodeError> {
    let raw: RawBom<'_> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            DecodeError::NotCycloneDx(e.to_string())
        } else {
            DecodeError::Json(e.to_string())
        }
    })?;
    match raw.bom_format.as_deref() {
        Some(vocab::BOM_FORMAT) => {}
        Some(f) => return Err(DecodeError::NotCycloneDx(format!("bomFormat is {f:?}"))),
        None => return Err(DecodeError::NotCycloneDx("no bomFormat".into())),
    }
    let Some(spec_version) = raw.spec_version else {
        return Err(DecodeError::NotCycloneDx("no specVersion".into()));
    };
    Ok(Sbom {
        components: raw.components.unwrap_or_default(),
        metadata: raw.metadata,
        spec_version: spec_version.into_owned(),
    })
}

impl<'a> Sbom<'a> {
    /// An empty document of `spec_version` (no metadata, no components).
    pub fn empty(spec_version: &str) -> Sbom<'static> {
        Sbom {
            components: Vec::new(),
            metadata: None,
            spec_version: spec_version.to_owned(),
        }
    }

    /// Every component, nested ones flattened: document order, each
    /// component before its children.
    pub fn components(&self) -> impl Iterator<Item = &Component<'a>> + '_ {
        let mut stack: Vec<std::slice::Iter<'_, Component<'a>>> = vec![self.components.iter()];
        std::iter::from_fn(move || {
            loop {
                let top = stack.last_mut()?;
                match top.next() {
                    Some(c) => {
                        if let Some(kids) = &c.components {
                            stack.push(kids.iter());
                        }
                        return Some(c);
                    }
                    None => {
                        stack.pop();
                    }
                }
            }
        })
    }

    /// Every package component ([`vocab::PACKAGE_TYPES`], with a name), as
    /// [`Package`]s, nested ones included.
    pub fn packages(&self) -> impl Iterator<Item = Package<'_>> + '_ {
        self.components()
            .filter(|c| c.kind().is_some_and(|t| vocab::PACKAGE_TYPES.contains(&t)))
            .filter_map(Component::package)
    }

    /// The first tool named in `metadata.tools` (1.5's object form or 1.4's
    /// list).
    pub fn tool(&self) -> Option<&str> {
        self.metadata
            .as_ref()?
            .pointer("/tools/components/0/name")
            .or_else(|| self.metadata.as_ref()?.pointer("/tools/0/name"))
            .and_then(Value::as_str)
    }

    /// The tree digest a bakeproof SBOM names (`sha256:<hex>`), by
    /// [`tree_digest_of_metadata`]; `None` for SBOMs without one
    /// (packages-only scans, other tools') or an inconsistent one.
    pub fn tree_digest(&self) -> Option<String> {
        tree_digest_of_metadata(self.metadata.as_ref())
            .ok()
            .map(|h| format!("sha256:{h}"))
    }

    /// What the SBOM says about every `file` component (nested ones
    /// included), in document order, read in one pass; paths and link
    /// targets decoded to their raw bytes. An error for a component without
    /// a name or with an encoding that does not decode. For callers that
    /// compare files without a full diff (the boot verifier), at the cost of
    /// the borrowed model rather than a generic `serde_json::Value` (a
    /// 100k-file SBOM: ~0.2 s instead of ~1.5 s).
    pub fn file_facts(&self) -> impl Iterator<Item = Result<FileFacts<'_>, DecodeError>> + '_ {
        self.components()
            .filter(|c| c.kind() == Some(vocab::TYPE_FILE))
            .map(Component::file_facts)
    }

    /// Whether the document is the packages-only SBOM of a full scan
    /// (`bakeproof:sbom:content` `packages` on the image): it names the
    /// image's tree digest but lists none of its files, so it cannot stand
    /// for the file inventory (the first-boot check refuses it).
    pub fn omits_files(&self) -> bool {
        self.metadata
            .as_ref()
            .and_then(|m| m.pointer("/component/properties"))
            .and_then(Value::as_array)
            .is_some_and(|ps| {
                ps.iter().any(|p| {
                    p.get("name").and_then(Value::as_str) == Some(vocab::SBOM_CONTENT)
                        && p.get("value").and_then(Value::as_str) == Some(vocab::CONTENT_PACKAGES)
                })
            })
    }

    /// bom-ref → purl of every package component that has both (what a
    /// file's `bakeproof:file:package` points at).
    pub fn package_purls(&self) -> std::collections::HashMap<&str, &str> {
        self.packages()
            .filter_map(|p| Some((p.bom_ref?, p.purl?)))
            .collect()
    }

    /// [`Sbom::file_facts`] by raw path; an error when a path is listed twice.
    pub fn file_map(&self) -> Result<BTreeMap<Cow<'_, [u8]>, FileFacts<'_>>, DecodeError> {
        let mut m = BTreeMap::new();
        for f in self.file_facts() {
            let f = f?;
            if let Some(old) = m.insert(f.path.clone(), f) {
                return Err(DecodeError::File(format!(
                    "path {:?} is listed twice",
                    bakeproof_index::encode_path(&old.path)
                )));
            }
        }
        Ok(m)
    }
}

// ------------------------------------------------------------ tree digest --

/// Why an SBOM names no tree digest ([`tree_digest_of_metadata`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeDigestError {
    #[error(
        "a packages-only SBOM (scan --packages-only or a bare package database) has no tree \
         digest and proves no image: attest a full scan"
    )]
    PackagesOnly,
    #[error("no metadata.component.hashes[0] (the tree digest)")]
    Missing,
    #[error("metadata.component.hashes[0] is not SHA-256")]
    NotSha256,
    #[error("metadata.component.hashes[0].content is not lower-case SHA-256 hex")]
    NotHex,
    #[error("bakeproof:tree-digest property differs from metadata.component.hashes[0]")]
    PropertyDiffers,
}

/// The image's tree digest (lower-case hex, no prefix) from the `metadata`
/// of a bakeproof CycloneDX SBOM: `metadata.component.hashes[0]`
/// (SHA-256), cross-checked with every `bakeproof:tree-digest` property.
/// The one definition: `attest` binds this digest to an AMI, `diff` binds
/// a seal report to it. A packages-only SBOM (`bakeproof:scan:mode`) has
/// none.
pub fn tree_digest_of_metadata(metadata: Option<&Value>) -> Result<String, TreeDigestError> {
    let packages_only = metadata
        .and_then(|m| m.pointer("/component/properties"))
        .and_then(Value::as_array)
        .is_some_and(|ps| {
            ps.iter().any(|p| {
                p.get("name").and_then(Value::as_str) == Some(vocab::SCAN_MODE)
                    && p.get("value").and_then(Value::as_str) == Some(vocab::PACKAGES_ONLY)
            })
        });
    if packages_only {
        return Err(TreeDigestError::PackagesOnly);
    }
    let h = metadata
        .and_then(|m| m.pointer("/component/hashes/0"))
        .ok_or(TreeDigestError::Missing)?;
    if h.get("alg").and_then(Value::as_str) != Some(vocab::SHA_256) {
        return Err(TreeDigestError::NotSha256);
    }
    let hex_digest = h
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or(TreeDigestError::NotHex)?;
    let props = metadata
        .and_then(|m| m.get("properties"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for p in props {
        if p.get("name").and_then(Value::as_str) == Some(vocab::TREE_DIGEST) {
            let v = p.get("value").and_then(Value::as_str).unwrap_or("");
            if v.strip_prefix("sha256:") != Some(hex_digest) {
                return Err(TreeDigestError::PropertyDiffers);
            }
        }
    }
    Ok(hex_digest.to_owned())
}

// -------------------------------------------------------------- components --

impl<'a> Component<'a> {
    /// `type` (`library`, `file`, `operating-system`, ...).
    pub fn kind(&self) -> Option<&str> {
        self.ctype.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn bom_ref(&self) -> Option<&str> {
        self.bom_ref.as_deref()
    }

    /// The first `SHA-256` hash's content.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes
            .iter()
            .flatten()
            .find(|h| h.alg == vocab::SHA_256)
            .map(|h| h.content.as_ref())
    }

    /// `(name, value)` of every property that has a value, in order.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .flatten()
            .filter_map(|p| Some((p.name.as_ref(), p.value.as_deref()?)))
    }

    /// The component read as a package (whatever its type); `None` without
    /// a name.
    pub fn package(&self) -> Option<Package<'_>> {
        package(self)
    }

    /// The component read as a file-system entry (whatever its type).
    pub fn file_facts(&self) -> Result<FileFacts<'_>, DecodeError> {
        facts(self)
    }
}

// ---------------------------------------------------------------- packages --

/// What identifies a package across two SBOMs: purl type, namespace
/// (aliases normalised: `rhel` = `redhat`, `opensuse-leap` = `opensuse`,
/// ...), name and architecture (purl `arch` qualifier or
/// `bakeproof:package:arch`). The version, epoch and other qualifiers are
/// not part of it: they are what changes between two builds of an image.
/// A component with neither purl nor package type has nothing but its name
/// to go by: its name and version.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId {
    /// Lower-case purl type (or `bakeproof:package:type`); empty if unknown.
    pub ptype: String,
    pub namespace: String,
    pub name: String,
    /// The architecture; the version for a component with no purl and no
    /// package type.
    pub variant: String,
}

/// A package component as the decoder reads it.
#[derive(Clone, Debug)]
pub struct Package<'a> {
    pub name: &'a str,
    pub purl: Option<&'a str>,
    pub bom_ref: Option<&'a str>,
    /// Lower-case purl type, or `bakeproof:package:type`; empty if unknown.
    pub ptype: String,
    /// The purl namespace, normalised ([`normalize_namespace`]).
    pub namespace: String,
    pub arch: String,
    /// Full version, epoch included when known (`3:1.0-1`).
    pub version: String,
    /// License ids, names or expressions, sorted, unique.
    pub licenses: Vec<String>,
    pub supplier: Option<&'a str>,
    /// CycloneDX 1.5 `author` (dpkg's Maintainer, rpm's PACKAGER).
    pub author: Option<&'a str>,
    /// rpm header digests (`bakeproof:package:rpm:sha256header`,
    /// `bakeproof:package:rpm:sigmd5`).
    pub sha256header: Option<&'a str>,
    pub sigmd5: Option<&'a str>,
    /// A language package's files it was found in
    /// (`bakeproof:package:location`, path text as encoded).
    pub locations: Vec<&'a str>,
}

impl Package<'_> {
    /// The package's identity.
    pub fn id(&self) -> PackageId {
        if self.purl.is_none() && self.ptype.is_empty() {
            // no identity beyond the name: name + version
            return PackageId {
                ptype: String::new(),
                namespace: String::new(),
                name: self.name.to_owned(),
                variant: self.version.clone(),
            };
        }
        PackageId {
            ptype: self.ptype.clone(),
            namespace: self.namespace.clone(),
            name: self.name.to_owned(),
            variant: self.arch.clone(),
        }
    }
}

fn package<'a>(c: &'a Component<'_>) -> Option<Package<'a>> {
    let name = c.name.as_deref()?;
    let purl = c.purl.as_deref();
    let parts = purl.and_then(parse_purl);
    let mut arch = None;
    let mut epoch: Option<String> = None;
    let mut ptype = String::new();
    let mut namespace = String::new();
    let mut sha256header = None;
    let mut sigmd5 = None;
    let mut locations = Vec::new();
    if let Some(p) = &parts {
        ptype = p.ptype.clone();
        namespace = normalize_namespace(&p.namespace);
        for (k, v) in &p.qualifiers {
            match k.as_str() {
                "arch" if !v.is_empty() => arch = Some(v.clone()),
                "epoch" if !v.is_empty() => epoch = Some(v.clone()),
                _ => {}
            }
        }
    }
    for (k, v) in c.properties() {
        match k {
            vocab::PACKAGE_TYPE if ptype.is_empty() => ptype = v.to_owned(),
            vocab::PACKAGE_ARCH if arch.is_none() => arch = Some(v.to_owned()),
            vocab::PACKAGE_EPOCH if epoch.is_none() => epoch = Some(v.to_owned()),
            vocab::SYFT_ARCHITECTURE if arch.is_none() => arch = Some(v.to_owned()),
            vocab::SYFT_EPOCH if epoch.is_none() => epoch = Some(v.to_owned()),
            vocab::PACKAGE_RPM_SHA256HEADER => sha256header = Some(v),
            vocab::PACKAGE_RPM_SIGMD5 => sigmd5 = Some(v),
            vocab::PACKAGE_LOCATION => locations.push(v),
            _ => {}
        }
    }
    let raw_version = c
        .version
        .as_deref()
        .map(str::to_owned)
        .or_else(|| parts.as_ref().and_then(|p| p.version.clone()))
        .unwrap_or_default();
    let version = match epoch {
        Some(e) if Evr::parse(&raw_version).epoch.is_none() && !raw_version.is_empty() => {
            format!("{e}:{raw_version}")
        }
        _ => raw_version,
    };
    let mut licenses: Vec<String> = c
        .licenses
        .iter()
        .flatten()
        .filter_map(|l| {
            let lic = l.license.as_ref();
            lic.and_then(|x| x.id.as_deref())
                .or_else(|| lic.and_then(|x| x.name.as_deref()))
                .or(l.expression.as_deref())
                .map(str::to_owned)
        })
        .collect();
    licenses.sort();
    licenses.dedup();
    let supplier = c
        .supplier
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .or(c.publisher.as_deref())
        .filter(|s| !s.is_empty());
    Some(Package {
        name,
        purl,
        bom_ref: c.bom_ref.as_deref(),
        ptype: ptype.to_ascii_lowercase(),
        namespace,
        arch: arch.unwrap_or_default(),
        version,
        licenses,
        supplier,
        author: c.author.as_deref().filter(|s| !s.is_empty()),
        sha256header,
        sigmd5,
        locations,
    })
}

// -------------------------------------------------------------------- purl --
/// The parts of a purl the diff needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PurlParts {
    pub ptype: String,
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: Vec<(String, String)>,
}

/// Splits `pkg:type/namespace/name@version?qualifiers#subpath`, decoding
/// each part ([`bakeproof_types::Purl::parse`]). `None` when it is not a purl.
pub fn parse_purl(purl: &str) -> Option<PurlParts> {
    let p = bakeproof_types::Purl::parse(purl).ok()?;
    Some(PurlParts {
        ptype: p.ty,
        namespace: p.namespace,
        name: p.name,
        version: p.version,
        qualifiers: p.qualifiers,
    })
}

/// Namespace aliases: distributions tools spell differently.
pub fn normalize_namespace(ns: &str) -> String {
    let ns = ns.to_ascii_lowercase();
    let n = match ns.as_str() {
        "rhel" | "redhat" | "red hat" => "redhat",
        "amzn" | "amazon" | "amazonlinux" | "amazon-linux" => "amazon",
        "ol" | "oracle" | "oraclelinux" => "oracle",
        "rocky" | "rockylinux" => "rocky",
        "alma" | "almalinux" => "almalinux",
        "mariner" | "cbl-mariner" => "mariner",
        "azurelinux" | "azure-linux" => "azurelinux",
        "sles" | "sle" | "suse" | "sled" | "sle-micro" | "sle_hpc" => "sles",
        "fedora" | "fedoraproject" => "fedora",
        _ if ns.starts_with("opensuse") => "opensuse",
        _ => return ns,
    };
    n.to_owned()
}

// ------------------------------------------------------------------- files --

/// One `file` component as [`Sbom::file_facts`] reads it; `None` where the
/// SBOM does not say.
///
/// Paths and link targets are read back to the bytes they stand for:
/// `name` (or `bakeproof:file:link-target`) as is, percent-decoded when
/// `bakeproof:file:path-encoding` (or `bakeproof:file:link-target-encoding`)
/// is `percent` (docs/formats.md). So a literal `/usr/lib/a%FF` and the
/// non-UTF-8 `/usr/lib/a<0xFF>`, whose texts are equal, are two entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFacts<'s> {
    /// The entry's path as raw bytes: `name`, percent-decoded when
    /// `bakeproof:file:path-encoding` is `percent`.
    pub path: Cow<'s, [u8]>,
    /// `bakeproof:file:type` (`file`, `directory`, `symlink`, `fifo`, ...).
    pub ftype: Option<&'s str>,
    pub sha256: Option<&'s str>,
    /// `bakeproof:file:mode` (4 octal digits).
    pub mode: Option<&'s str>,
    /// `bakeproof:file:uid`, `bakeproof:file:gid`.
    pub uid: Option<&'s str>,
    pub gid: Option<&'s str>,
    /// `bakeproof:file:capabilities`.
    pub capabilities: Option<&'s str>,
    /// `bakeproof:file:link-target` as raw bytes (percent-decoded when
    /// `bakeproof:file:link-target-encoding` is `percent`).
    pub link_target: Option<Cow<'s, [u8]>>,
    /// `bakeproof:file:rdev` (`MAJOR:MINOR`).
    pub rdev: Option<&'s str>,
    /// `bakeproof:file:skipped` (`mount`, `pseudo-filesystem`, ...).
    pub skipped: Option<&'s str>,
    /// The first `bakeproof:file:package`: the bom-ref of a package that
    /// owns the entry ([`Sbom::package_purls`] names it); `None`: unowned.
    pub package: Option<&'s str>,
}

impl FileFacts<'_> {
    /// The type, `file` for an untyped component with a digest (another
    /// tool's SBOM).
    pub fn kind(&self) -> Option<&str> {
        self.ftype
            .or_else(|| self.sha256.is_some().then_some("file"))
    }
}

/// The bytes an SBOM text stands for: as is, or percent-decoded when the
/// component marks it `percent`. `None` when a marked text does not decode.
pub fn decode_text(text: &str, percent: bool) -> Option<Cow<'_, [u8]>> {
    if percent {
        bakeproof_index::decode_path(text).map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(text.as_bytes()))
    }
}

fn facts<'s>(c: &'s Component<'_>) -> Result<FileFacts<'s>, DecodeError> {
    let name = c
        .name
        .as_deref()
        .ok_or_else(|| DecodeError::File("a file component has no name".into()))?;
    let mut f = FileFacts {
        sha256: c.sha256(),
        ..FileFacts::default()
    };
    let (mut path_pct, mut target_pct, mut target) = (false, false, None);
    for (k, v) in c.properties() {
        match k {
            vocab::FILE_TYPE => f.ftype = Some(v),
            vocab::FILE_MODE => f.mode = Some(v),
            vocab::FILE_UID => f.uid = Some(v),
            vocab::FILE_GID => f.gid = Some(v),
            vocab::FILE_CAPABILITIES => f.capabilities = Some(v),
            vocab::FILE_LINK_TARGET => target = Some(v),
            vocab::FILE_RDEV => f.rdev = Some(v),
            vocab::FILE_SKIPPED => f.skipped = Some(v),
            vocab::FILE_PACKAGE => {
                f.package.get_or_insert(v);
            }
            vocab::FILE_PATH_ENCODING => path_pct = encoding(name, "path", v)?,
            vocab::FILE_LINK_TARGET_ENCODING => target_pct = encoding(name, "link target", v)?,
            _ => {}
        }
    }
    f.path = decode_text(name, path_pct).ok_or_else(|| {
        DecodeError::File(format!(
            "path {name:?} is marked percent-encoded but does not decode"
        ))
    })?;
    if let Some(t) = target {
        f.link_target = Some(decode_text(t, target_pct).ok_or_else(|| {
            DecodeError::File(format!(
                "link target {t:?} of {name:?} is marked percent-encoded but does not decode"
            ))
        })?);
    }
    Ok(f)
}

fn encoding(name: &str, what: &str, v: &str) -> Result<bool, DecodeError> {
    match v {
        vocab::PERCENT => Ok(true),
        other => Err(DecodeError::File(format!(
            "{name:?}: unknown {what} encoding {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests;
