//! CycloneDX: the encoder (this file: an [`Inventory`] as CycloneDX 1.5
//! JSON, through `cyclonedx-bom`), the one decoder every reader uses
//! ([`decoder`]: `bakeproof diff`, the first-boot check), side by side, and
//! the vocabulary both name properties by ([`vocab`]).
//!
//! Layout (every `bakeproof:` property is documented in docs/formats.md):
//! * `metadata.component`: the image (type `container`: the VM analogue of a
//!   container image), its SHA-256 hash is the tree digest;
//! * `components`: the operating system, one `library` component per
//!   package, one `file` component per indexed entry;
//! * `dependencies`: image → OS and packages; package → the packages its
//!   `Depends` name, where installed.
//!
//! Output is deterministic: components are sorted, and the timestamp and
//! serial number are derived from `SOURCE_DATE_EPOCH` when it is set.

use std::collections::{BTreeMap, HashMap};

use bakeproof_index::{Entry, FileKind, encode_path, is_path_encoded};
use bakeproof_pkgdb::{Ecosystem, OsRelease, Package};
use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::Purl;
use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use cyclonedx_bom::models::component::{
    Classification, Component, ComponentEvidence, Components, Occurrence, Occurrences,
};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::organization::OrganizationalEntity;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use sha2::{Digest, Sha256};

use crate::inventory::{Inventory, PkgId};

pub mod decoder;
pub mod license;
pub mod v1_6;
pub mod vocab;

// The decoder's `Package` is `decoder::Package` (this module's `Package`
// is the package database's, which the encoder reads; likewise `Component`).
pub use decoder::{
    DecodeError, FileFacts, MAX_SBOM_BYTES, PackageId, Sbom, TreeDigestError, decode_text, parse,
    tree_digest_of_metadata,
};

/// bom-ref of the image (metadata component).
pub const IMAGE_REF: &str = "image";

/// What the caller knows about the scan beyond the inventory.
#[derive(Clone, Debug)]
pub struct ScanMeta {
    /// Name given to the image (metadata component name).
    pub image_name: String,
    /// What was scanned, as given on the command line.
    pub source: String,
    pub tool_name: String,
    pub tool_version: String,
    /// Seconds since the epoch for `metadata.timestamp`; `None` = now.
    pub timestamp: Option<i64>,
    /// Fixed serial number; `None` = derived (deterministic) when `timestamp`
    /// is pinned, random otherwise.
    pub serial: Option<uuid::Uuid>,
    pub os: Option<OsRelease>,
    /// Package databases that could not be read at all (the scan went on
    /// without them).
    pub db_errors: Vec<String>,
    /// `false` when no file tree was indexed (`scan --packages-only`, a bare
    /// package database): the image component then carries no tree digest,
    /// so such an SBOM can never be attested as an image, and
    /// `bakeproof:scan:mode` says `packages-only`.
    pub files_indexed: bool,
}

impl ScanMeta {
    /// The serial number of the documents of this scan: [`ScanMeta::serial`]
    /// when fixed; derived from the tree digest, the time and the packages
    /// when the time is pinned (reproducible); random otherwise.
    pub fn serial_of(&self, inv: &Inventory) -> uuid::Uuid {
        match (self.serial, self.timestamp) {
            (Some(u), _) => u,
            // Pinned time: a reproducible serial derived from what the BOM says.
            (None, Some(t)) => {
                let mut h = Sha256::new();
                h.update(b"bakeproof-serial-v1\n");
                h.update(hex::encode(inv.scan.tree_digest).as_bytes());
                h.update(t.to_le_bytes());
                for db in &inv.dbs {
                    for p in &db.packages {
                        h.update(p.purl.as_bytes());
                        h.update(b"\n");
                    }
                }
                let d = h.finalize();
                let mut b = [0u8; 16];
                b.copy_from_slice(&d[..16]);
                uuid::Builder::from_random_bytes(b).into_uuid()
            }
            (None, None) => uuid::Uuid::new_v4(),
        }
    }

    /// This metadata with the time and the serial number fixed (the time
    /// now when unset, the serial of [`ScanMeta::serial_of`]): every
    /// document encoded with the result (CycloneDX 1.5 and 1.6, the
    /// packages-only CycloneDX, SPDX) names the same scan by the same
    /// serial number and time.
    pub fn resolved(&self, inv: &Inventory) -> ScanMeta {
        let serial = self.serial_of(inv);
        ScanMeta {
            serial: Some(serial),
            timestamp: Some(self.timestamp.unwrap_or_else(now_secs)),
            ..self.clone()
        }
    }

    /// `metadata.timestamp` (SPDX `created`): RFC 3339 UTC of
    /// [`ScanMeta::timestamp`], or of now when unset.
    pub fn timestamp_text(&self) -> Result<String, EncodeError> {
        Ok(match self.timestamp {
            Some(t) => rfc3339(t).ok_or(EncodeError::Timestamp(t))?,
            None => rfc3339(now_secs()).unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("invalid timestamp {0}")]
    Timestamp(i64),
    #[error("cannot write CycloneDX JSON: {0}")]
    Write(String),
}

fn prop(name: &str, value: impl AsRef<str>) -> Property {
    Property::new(name, value.as_ref())
}

fn ns(s: &str) -> NormalizedString {
    NormalizedString::new(s)
}

fn sha256_hash(hex: String) -> Hash {
    Hash {
        alg: HashAlgorithm::SHA_256,
        content: HashValue(hex),
    }
}

/// Now, in seconds since the Unix epoch (0 for a clock before it): the
/// time of a document when `SOURCE_DATE_EPOCH` does not pin it.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC (`1970-01-01T00:00:00Z`), as CycloneDX wants.
pub fn rfc3339(secs: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).ok()
}

/// bom-refs of packages: the purl ([`purl_ref`]), made unique when two
/// packages share one.
fn package_refs(inv: &Inventory) -> HashMap<PkgId, String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = HashMap::new();
    for id in package_order(inv) {
        let purl = purl_ref(&inv.dbs[id.0].packages[id.1].purl);
        let n = seen.entry(purl.clone()).or_insert(0);
        *n += 1;
        let r = if *n == 1 { purl } else { format!("{purl}#{n}") };
        out.insert(id, r);
    }
    out
}

/// A purl spelled as a bom-ref: `%40`, `%3A` and `%2F` in the qualifier
/// values written as `@`, `:` and `/` (`upstream=bzip2@1.0.8-5`). The same
/// purl (a parser splits the qualifiers off at `?` before it looks for the
/// version's `@`), as cdxgen writes its bom-refs; cdxgen's validator
/// (`cdx-validate --strict`) rejects dependency refs with those escapes.
pub(crate) fn purl_ref(purl: &str) -> String {
    let Some((head, rest)) = purl.split_once('?') else {
        return purl.to_owned();
    };
    let (qualifiers, subpath) = match rest.split_once('#') {
        Some((q, s)) => (q, Some(s)),
        None => (rest, None),
    };
    let q = qualifiers
        .replace("%40", "@")
        .replace("%3A", ":")
        .replace("%2F", "/");
    match subpath {
        Some(s) => format!("{head}?{q}#{s}"),
        None => format!("{head}?{q}"),
    }
}

/// Every package of `inv` in the order the SBOMs list them (CycloneDX and
/// SPDX alike): name, arch, version, then database order.
pub(crate) fn package_order(inv: &Inventory) -> Vec<PkgId> {
    let mut ids: Vec<PkgId> = inv
        .dbs
        .iter()
        .enumerate()
        .flat_map(|(d, db)| (0..db.packages.len()).map(move |p| (d, p)))
        .collect();
    ids.sort_by(|a, b| pkg_sort_key(inv, *a).cmp(&pkg_sort_key(inv, *b)));
    ids
}

fn pkg_sort_key(inv: &Inventory, id: PkgId) -> (&str, &str, &str, PkgId) {
    let p = &inv.dbs[id.0].packages[id.1];
    (&p.name, &p.arch, &p.version, id)
}

/// The bom-ref of a file component: `file:PATH`, or `file-pct:PATH` when the
/// path is not UTF-8 and was percent-encoded (so the two forms never collide).
pub fn file_ref(path: &[u8]) -> String {
    if is_path_encoded(path) {
        format!("{}{}", vocab::FILE_PCT_REF_PREFIX, encode_path(path))
    } else {
        format!("{}{}", vocab::FILE_REF_PREFIX, encode_path(path))
    }
}

/// Builds the CycloneDX model (of the full SBOM; file components are not in
/// the model: see [`write_json`]).
pub fn to_bom(inv: &Inventory, meta: &ScanMeta) -> Result<Bom, EncodeError> {
    build_bom(inv, meta, true)
}

/// The CycloneDX document [`write_cyclonedx`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycloneDxOptions {
    /// The specification version.
    pub spec: CdxSpec,
    /// One `file` component per indexed entry (the full SBOM); `false`: the
    /// packages-only SBOM of the same scan (same serial number, tree digest
    /// and packages, no file components, `bakeproof:sbom:content` =
    /// `packages` on the image).
    pub files: bool,
}

impl Default for CycloneDxOptions {
    fn default() -> Self {
        CycloneDxOptions {
            spec: CdxSpec::V1_5,
            files: true,
        }
    }
}

/// A CycloneDX specification version bakeproof writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CdxSpec {
    /// 1.5 (the default: AWS Inspector's ScanSbom reads only 1.5), through
    /// `cyclonedx-bom`.
    #[default]
    V1_5,
    /// 1.6, through the project's typed model ([`v1_6`]): `cyclonedx-bom`
    /// 0.8 writes up to 1.5.
    V1_6,
}

fn build_bom(inv: &Inventory, meta: &ScanMeta, files: bool) -> Result<Bom, EncodeError> {
    let refs = package_refs(inv);
    let stats = inv.stats();
    let tree_hex = hex::encode(inv.scan.tree_digest);

    // ---- metadata --------------------------------------------------------
    let timestamp = meta.timestamp_text()?;
    let serial = meta.serial_of(inv);

    let mut tool = Component::new(
        Classification::Application,
        &meta.tool_name,
        &meta.tool_version,
        None,
    );
    tool.purl = Some(
        bakeproof_types::purl::build(
            "cargo",
            None,
            &meta.tool_name,
            Some(&meta.tool_version),
            &[],
        )
        .parse::<Purl>()
        .map_err(|_| EncodeError::Write("tool purl".into()))?,
    );

    let mut image = Component::new(
        Classification::Container,
        &meta.image_name,
        &if meta.files_indexed {
            format!("sha256:{tree_hex}")
        } else {
            vocab::PACKAGES_ONLY.to_string()
        },
        Some(IMAGE_REF.into()),
    );
    let mut iprops = vec![prop(vocab::SOURCE, &meta.source)];
    if meta.files_indexed {
        image.hashes = Some(Hashes(vec![sha256_hash(tree_hex.clone())]));
        image.description = Some(ns("root filesystem image indexed by bakeproof"));
        iprops.extend([
            prop(vocab::TREE_DIGEST, format!("sha256:{tree_hex}")),
            prop(
                vocab::TREE_DIGEST_VERSION,
                bakeproof_index::TREE_DIGEST_VERSION,
            ),
        ]);
    } else {
        image.description = Some(ns(
            "packages of a root or package database read by bakeproof; no file tree indexed",
        ));
        iprops.push(prop(vocab::SCAN_MODE, vocab::PACKAGES_ONLY));
    }
    if meta.files_indexed && !files {
        // The tree was indexed (the digest is the image's) but this document
        // lists no file: it cannot stand for the file inventory.
        iprops.push(prop(vocab::SBOM_CONTENT, vocab::CONTENT_PACKAGES));
    }
    image.properties = Some(Properties(std::mem::take(&mut iprops)));

    let s = &inv.scan.stats;
    let mut mprops = vec![
        prop(vocab::SCAN_ENTRIES, s.entries.to_string()),
        prop(vocab::SCAN_FILES, s.files.to_string()),
        prop(vocab::SCAN_DIRECTORIES, s.directories.to_string()),
        prop(vocab::SCAN_SYMLINKS, s.symlinks.to_string()),
        prop(vocab::SCAN_SPECIAL, s.special.to_string()),
        prop(vocab::SCAN_BYTES_HASHED, s.bytes_hashed.to_string()),
        prop(vocab::SCAN_ERRORS, s.errors.to_string()),
        prop(vocab::SCAN_SKIPPED_DIRECTORIES, s.skipped_dirs.to_string()),
        prop(vocab::SCAN_PACKAGES, stats.packages.to_string()),
        prop(vocab::SCAN_OWNED_ENTRIES, stats.owned_entries.to_string()),
        prop(
            vocab::SCAN_UNOWNED_ENTRIES,
            stats.unowned_entries.to_string(),
        ),
        prop(vocab::SCAN_UNOWNED_FILES, stats.unowned_files.to_string()),
        prop(vocab::SCAN_MODIFIED, stats.modified.to_string()),
        prop(vocab::SCAN_MISSING, stats.missing.to_string()),
        prop(vocab::SCAN_UNVERIFIABLE, stats.unverifiable.to_string()),
    ];
    for e in &meta.db_errors {
        mprops.push(prop(vocab::PACKAGE_DB_ERROR, e));
    }
    for db in &inv.dbs {
        mprops.push(prop(
            vocab::PACKAGE_DB,
            format!("{}:{}", db.kind.as_str(), db.location),
        ));
        for w in &db.warnings {
            mprops.push(prop(vocab::PACKAGE_DB_WARNING, w));
        }
    }
    let metadata = Metadata {
        timestamp: Some(
            DateTime::try_from(timestamp).map_err(|e| EncodeError::Write(e.to_string()))?,
        ),
        tools: Some(Tools::Object {
            services: None,
            components: Some(Components(vec![tool])),
        }),
        authors: None,
        component: Some(image),
        manufacture: None,
        supplier: None,
        licenses: None,
        properties: Some(Properties(mprops)),
        lifecycles: None,
    };

    // ---- components --------------------------------------------------------
    let mut components = Vec::with_capacity(1 + refs.len() + inv.scan.entries.len());
    let mut top_deps: Vec<String> = Vec::new();
    if let Some(os) = &meta.os {
        let c = os_component(os);
        if let Some(r) = &c.bom_ref {
            top_deps.push(r.clone());
        }
        components.push(c);
    }

    let mut ids: Vec<PkgId> = refs.keys().copied().collect();
    ids.sort_by(|a, b| pkg_sort_key(inv, *a).cmp(&pkg_sort_key(inv, *b)));
    // Verification results per package.
    #[derive(Default)]
    struct PkgVerify<'a> {
        checked: usize,
        modified: Vec<&'a [u8]>,
        missing: Vec<&'a [u8]>,
    }
    let mut per_pkg: HashMap<PkgId, PkgVerify<'_>> = HashMap::new();
    for v in &inv.verify {
        let e = per_pkg.entry(v.pkg).or_default();
        match v.verdict {
            crate::inventory::FileVerdict::Modified(_) => e.modified.push(&v.listed_path),
            crate::inventory::FileVerdict::Missing => e.missing.push(&v.listed_path),
            _ => {}
        }
        e.checked += 1;
    }
    let lang_edges = language_links(inv, &ids);
    for id in &ids {
        let p = &inv.dbs[id.0].packages[id.1];
        let r = &refs[id];
        let mut c = package_component(p, r);
        let props = c.properties.get_or_insert_with(|| Properties(Vec::new()));
        for owner in lang_edges.owners.get(id).into_iter().flatten() {
            props.0.push(prop(vocab::PACKAGE_OS_PACKAGE, &refs[owner]));
        }
        props
            .0
            .push(prop(vocab::PACKAGE_FILES, p.files.len().to_string()));
        if let Some(PkgVerify {
            checked,
            modified,
            missing,
        }) = per_pkg.get(id)
        {
            props
                .0
                .push(prop(vocab::PACKAGE_VERIFIED_FILES, checked.to_string()));
            for m in modified {
                props.0.push(prop(vocab::PACKAGE_MODIFIED, encode_path(m)));
            }
            for m in missing {
                props.0.push(prop(vocab::PACKAGE_MISSING, encode_path(m)));
            }
        }
        components.push(c);
        top_deps.push(r.clone());
    }

    // File components are not in the model: see [`write_json`].

    // ---- dependencies ------------------------------------------------------
    let mut deps = vec![Dependency {
        dependency_ref: IMAGE_REF.into(),
        dependencies: top_deps,
    }];
    for (id, mut on) in package_dependencies(inv, &ids) {
        on.extend(lang_edges.contains.get(&id).into_iter().flatten());
        let mut on: Vec<String> = on.iter().map(|t| refs[t].clone()).collect();
        on.sort();
        on.dedup();
        deps.push(Dependency {
            dependency_ref: refs[&id].clone(),
            dependencies: on,
        });
    }

    Ok(Bom {
        version: 1,
        spec_version: cyclonedx_bom::models::bom::SpecVersion::V1_5,
        serial_number: Some(UrnUuid::from(serial)),
        metadata: Some(metadata),
        components: Some(Components(components)),
        services: None,
        external_references: None,
        dependencies: Some(Dependencies(deps)),
        compositions: None,
        properties: None,
        vulnerabilities: None,
        signature: None,
        annotations: None,
        formulation: None,
    })
}

/// How language packages hang on the rest of the graph.
#[derive(Default)]
pub(crate) struct LanguageLinks {
    /// Language package → the dpkg/rpm packages owning a file it was
    /// found in.
    pub(crate) owners: HashMap<PkgId, Vec<PkgId>>,
    /// Package → the language packages it contains: an OS package the
    /// language packages in its files, a primary language package (a Go
    /// binary's main module, an outer archive) the others of its file.
    pub(crate) contains: HashMap<PkgId, Vec<PkgId>>,
}

/// The links of the language packages among `ids`: the OS packages owning
/// the files they were found in, and a file's primary package to the
/// others found in it.
pub(crate) fn language_links(inv: &Inventory, ids: &[PkgId]) -> LanguageLinks {
    let mut links = LanguageLinks::default();
    let mut primary_at: HashMap<(&[u8], Ecosystem), PkgId> = HashMap::new();
    let is_primary = |p: &Package| {
        p.properties.iter().any(|(k, v)| {
            vocab::PACKAGE_PRIMARY.strip_prefix(vocab::PACKAGE_PREFIX) == Some(k)
                && v == vocab::TRUE
        })
    };
    for id in ids {
        let p = &inv.dbs[id.0].packages[id.1];
        if !p.ecosystem.is_os() && is_primary(p) {
            for l in &p.locations {
                primary_at.entry((l.as_slice(), p.ecosystem)).or_insert(*id);
            }
        }
    }
    for id in ids {
        let p = &inv.dbs[id.0].packages[id.1];
        if p.ecosystem.is_os() {
            continue;
        }
        for l in &p.locations {
            if let Some(prim) = primary_at.get(&(l.as_slice(), p.ecosystem))
                && prim != id
            {
                links.contains.entry(*prim).or_default().push(*id);
            }
            let Ok(i) = inv
                .scan
                .entries
                .binary_search_by(|e| e.path.as_slice().cmp(l.as_slice()))
            else {
                continue;
            };
            for owner in &inv.owners[i] {
                if inv.dbs[owner.0].packages[owner.1].ecosystem.is_os() {
                    let o = links.owners.entry(*id).or_default();
                    if !o.contains(owner) {
                        o.push(*owner);
                        links.contains.entry(*owner).or_default().push(*id);
                    }
                }
            }
        }
    }
    links
}

/// The package graph of `ids` (sorted as the SBOM lists packages): each
/// package and the installed packages its `Depends` (or `Requires`) name,
/// the first installed alternative of each, by name or `Provides`, per
/// ecosystem; never itself.
pub(crate) fn package_dependencies(inv: &Inventory, ids: &[PkgId]) -> Vec<(PkgId, Vec<PkgId>)> {
    let mut out = Vec::with_capacity(ids.len());
    // name (and provides) → installed packages, per ecosystem
    let mut by_name: BTreeMap<(&str, &str), Vec<PkgId>> = BTreeMap::new();
    for id in ids {
        let p = &inv.dbs[id.0].packages[id.1];
        by_name
            .entry((p.ecosystem.as_str(), &p.name))
            .or_default()
            .push(*id);
        for pr in &p.provides {
            by_name
                .entry((p.ecosystem.as_str(), pr))
                .or_default()
                .push(*id);
        }
    }
    for id in ids {
        let p = &inv.dbs[id.0].packages[id.1];
        let mut on: Vec<PkgId> = Vec::new();
        for d in &p.depends {
            // First installed alternative, as the package manager satisfied it.
            if let Some(t) = d
                .alternatives
                .iter()
                .find_map(|a| by_name.get(&(p.ecosystem.as_str(), a.as_str())))
            {
                for tid in t {
                    if tid != id {
                        on.push(*tid);
                    }
                }
            }
        }
        out.push((*id, on));
    }
    out
}

fn os_component(os: &OsRelease) -> Component {
    let id = os.id.clone().unwrap_or_else(|| "linux".into());
    let version = os.version_id.clone().unwrap_or_default();
    let mut c = Component::new(
        Classification::OperatingSystem,
        &id,
        &version,
        Some(if version.is_empty() {
            format!("os:{id}")
        } else {
            format!("os:{id}@{version}")
        }),
    );
    c.description = os.pretty_name.as_deref().map(ns);
    c.cpe = os_cpe(os).map(|s| cyclonedx_bom::models::component::Cpe::new(&s));
    let mut props = Vec::new();
    if let Some(n) = &os.name {
        props.push(prop(vocab::OS_NAME, n));
    }
    if let Some(n) = &os.version_codename {
        props.push(prop(vocab::OS_VERSION_CODENAME, n));
    }
    for l in &os.id_like {
        props.push(prop(vocab::OS_ID_LIKE, l));
    }
    if let Some(n) = &os.cpe_name {
        props.push(prop(vocab::OS_CPE_NAME, n));
    }
    if !props.is_empty() {
        c.properties = Some(Properties(props));
    }
    c
}

/// The OS component's CPE: os-release's `CPE_NAME` when it has one (CPE
/// 2.2 URI binding, which CycloneDX accepts as is), else the NVD name of the
/// distributions whose os-release carries none: `cpe:/o:debian:debian_linux:VERSION_ID`
/// and `cpe:/o:canonical:ubuntu_linux:VERSION_ID`. `None` otherwise (no
/// guessed vendor).
pub fn os_cpe(os: &OsRelease) -> Option<String> {
    if let Some(c) = os.cpe_name.as_deref().filter(|c| c.starts_with("cpe:")) {
        return Some(c.to_owned());
    }
    let version = os.version_id.as_deref()?;
    if !version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return None;
    }
    let (vendor, product) = match os.id.as_deref()? {
        "debian" => ("debian", "debian_linux"),
        "ubuntu" => ("canonical", "ubuntu_linux"),
        _ => return None,
    };
    Some(format!("cpe:/o:{vendor}:{product}:{version}"))
}

fn package_component(p: &Package, bom_ref: &str) -> Component {
    let mut c = Component::new(
        Classification::Library,
        &p.name,
        &p.version,
        Some(bom_ref.into()),
    );
    c.purl = p.purl.parse::<Purl>().ok();
    c.description = p.summary.as_deref().map(ns);
    if let Some(s) = &p.supplier {
        c.supplier = Some(OrganizationalEntity {
            name: Some(ns(s)),
            url: None,
            contact: None,
            bom_ref: None,
        });
    }
    // dpkg's `Maintainer`, rpm's `PACKAGER` (1.6: `authors`).
    c.author = p.author.as_deref().map(ns);
    c.licenses = license::licenses(&p.licenses, p.ecosystem);
    let mut props = vec![prop(vocab::PACKAGE_TYPE, p.ecosystem.as_str())];
    if p.ecosystem.is_os() || !p.arch.is_empty() {
        props.push(prop(vocab::PACKAGE_ARCH, &p.arch));
    }
    if !p.ecosystem.is_os() {
        props.push(prop(vocab::PACKAGE_ECOSYSTEM, p.ecosystem.name()));
        for l in &p.locations {
            props.push(prop(vocab::PACKAGE_LOCATION, encode_path(l)));
        }
        if !p.locations.is_empty() {
            c.evidence = Some(ComponentEvidence {
                licenses: None,
                copyright: None,
                occurrences: Some(Occurrences(
                    p.locations
                        .iter()
                        .map(|l| Occurrence::new(&encode_path(l)))
                        .collect(),
                )),
                callstack: None,
                identity: None,
            });
        }
        let hashes: Vec<Hash> = p
            .hashes
            .iter()
            .filter_map(|(alg, hex)| {
                let alg = match alg.as_str() {
                    "SHA-1" => HashAlgorithm::SHA1,
                    "SHA-256" => HashAlgorithm::SHA_256,
                    "SHA-512" => HashAlgorithm::SHA_512,
                    "MD5" => HashAlgorithm::MD5,
                    _ => return None,
                };
                Some(Hash {
                    alg,
                    content: HashValue(hex.clone()),
                })
            })
            .collect();
        if !hashes.is_empty() {
            c.hashes = Some(Hashes(hashes));
        }
    }
    if let Some(e) = p.epoch {
        props.push(prop(vocab::PACKAGE_EPOCH, e.to_string()));
    }
    if let Some(s) = &p.source_name {
        props.push(prop(vocab::PACKAGE_SOURCE_NAME, s));
    }
    if let Some(s) = &p.source_version {
        props.push(prop(vocab::PACKAGE_SOURCE_VERSION, s));
    }
    if let Some(s) = p.installed_size {
        props.push(prop(vocab::PACKAGE_INSTALLED_SIZE, s.to_string()));
    }
    if let Some(s) = &p.multi_arch {
        props.push(prop(vocab::PACKAGE_MULTI_ARCH, s));
    }
    if let Some(s) = &p.status {
        props.push(prop(vocab::PACKAGE_STATUS, s));
    }
    if let Some(s) = &p.homepage {
        props.push(prop(vocab::PACKAGE_HOMEPAGE, s));
    }
    for l in &p.licenses {
        props.push(prop(vocab::PACKAGE_LICENSE, l));
    }
    props.extend(trivy_source(p));
    // Database-specific raw values (rpm: `rpm:buildtime`, `rpm:sigmd5`, ...).
    for (k, v) in &p.properties {
        props.push(prop(&format!("{}{k}", vocab::PACKAGE_PREFIX), v));
    }
    c.properties = Some(Properties(props));
    c
}

/// The source package where trivy reads it (`aquasecurity:trivy:Src*`,
/// split as trivy's own dpkg and rpm analysers split it):
/// * deb: `SrcName` is the `Source:` name or the package's own; the source
///   version (of `Source: NAME (VERSION)`, else the binary version) is
///   split by dpkg's rules into `SrcEpoch` (when not 0), `SrcVersion`
///   (upstream) and `SrcRelease` (Debian revision, when there is one);
/// * rpm: from `SOURCERPM` (`NAME-VERSION-RELEASE.src.rpm`): `SrcName`,
///   `SrcVersion`, `SrcRelease`, and `SrcEpoch` the binary package's epoch
///   (the source rpm's name carries none; trivy does the same); nothing
///   without `SOURCERPM`.
fn trivy_source(p: &Package) -> Vec<Property> {
    let mut out = Vec::new();
    let (name, epoch, version, release) = match p.ecosystem {
        Ecosystem::Deb => {
            let v = p.source_version_or_self();
            match bakeproof_pkgdb::version::parse_dpkg_version(v) {
                Some(d) => (
                    p.source_name_or_self(),
                    d.epoch,
                    d.upstream,
                    Some(d.revision).filter(|r| !r.is_empty()),
                ),
                None => (p.source_name_or_self(), 0, v, None),
            }
        }
        Ecosystem::Rpm => {
            let (Some(n), Some(v)) = (&p.source_name, &p.source_version) else {
                return out;
            };
            let evr = bakeproof_pkgdb::version::Evr::parse(v);
            (n.as_str(), p.epoch.unwrap_or(0), evr.version, evr.release)
        }
        // trivy reads no source package of a language package.
        _ => return out,
    };
    out.push(prop(vocab::TRIVY_SRC_NAME, name));
    out.push(prop(vocab::TRIVY_SRC_VERSION, version));
    if let Some(r) = release {
        out.push(prop(vocab::TRIVY_SRC_RELEASE, r));
    }
    if epoch != 0 {
        out.push(prop(vocab::TRIVY_SRC_EPOCH, epoch.to_string()));
    }
    out
}

/// Appends one CycloneDX 1.5 `component` of type `file` to `out`, as
/// compact JSON, straight from the index entry: no intermediate model and
/// only the allocations of the few formatted values (this runs 100k+ times
/// per scan). Property names are static ASCII; every other string goes
/// through serde_json's escaper.
fn encode_file_component(
    out: &mut Vec<u8>,
    inv: &Inventory,
    i: usize,
    e: &Entry,
    refs: &HashMap<PkgId, String>,
) {
    use std::io::Write;
    fn string(out: &mut Vec<u8>, s: &str) {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
    fn prop(out: &mut Vec<u8>, first: &mut bool, name: &str, value: &str) {
        if !*first {
            out.push(b',');
        }
        *first = false;
        out.extend_from_slice(b"{\"name\":\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\",\"value\":");
        string(out, value);
        out.push(b'}');
    }
    fn num(out: &mut Vec<u8>, first: &mut bool, name: &str, value: impl std::fmt::Display) {
        if !*first {
            out.push(b',');
        }
        *first = false;
        out.extend_from_slice(b"{\"name\":\"");
        out.extend_from_slice(name.as_bytes());
        let _ = write!(out, "\",\"value\":\"{value}\"}}");
    }
    let path = encode_path(&e.path);
    out.extend_from_slice(b"{\"type\":");
    string(out, vocab::TYPE_FILE);
    out.extend_from_slice(b",\"bom-ref\":");
    string(
        out,
        &format!(
            "{}{path}",
            if is_path_encoded(&e.path) {
                vocab::FILE_PCT_REF_PREFIX
            } else {
                vocab::FILE_REF_PREFIX
            }
        ),
    );
    out.extend_from_slice(b",\"name\":");
    string(out, &path);
    if let Some(d) = e.sha256 {
        out.extend_from_slice(b",\"hashes\":[{\"alg\":");
        string(out, vocab::SHA_256);
        out.extend_from_slice(b",\"content\":\"");
        let mut hexbuf = [0u8; 64];
        // hex::encode_to_slice cannot fail for a 64-byte buffer.
        let _ = hex::encode_to_slice(d, &mut hexbuf);
        out.extend_from_slice(&hexbuf);
        out.extend_from_slice(b"\"}]");
    }
    out.extend_from_slice(b",\"properties\":[");
    let f = &mut true;
    prop(out, f, vocab::FILE_TYPE, e.kind.as_str());
    if is_path_encoded(&e.path) {
        prop(out, f, vocab::FILE_PATH_ENCODING, vocab::PERCENT);
    }
    if e.kind != FileKind::Unknown {
        num(out, f, vocab::FILE_MODE, format_args!("{:04o}", e.mode));
        num(out, f, vocab::FILE_UID, e.uid);
        num(out, f, vocab::FILE_GID, e.gid);
        num(out, f, vocab::FILE_MTIME, e.mtime);
    }
    if e.kind == FileKind::Regular {
        num(out, f, vocab::FILE_SIZE, e.size);
        if e.nlink > 1 {
            num(out, f, vocab::FILE_NLINK, e.nlink);
        }
        // File capabilities grant privileges like setuid does: recorded so
        // an SBOM shows them and a diff or boot check sees them change.
        if let Some(raw) = &e.capability {
            match bakeproof_index::FileCaps::from_xattr(raw) {
                Ok(c) => prop(out, f, vocab::FILE_CAPABILITIES, &c.to_string()),
                Err(err) => prop(out, f, vocab::FILE_CAPABILITIES, &format!("invalid: {err}")),
            }
        }
    }
    if let Some(t) = &e.link_target {
        prop(out, f, vocab::FILE_LINK_TARGET, &encode_path(t));
        // As for the path: without the marker, a literal `%FF` target and
        // the byte 0xFF would read back the same.
        if is_path_encoded(t) {
            prop(out, f, vocab::FILE_LINK_TARGET_ENCODING, vocab::PERCENT);
        }
    }
    if let Some(r) = e.rdev {
        num(
            out,
            f,
            vocab::FILE_RDEV,
            format_args!("{}:{}", dev_major(r), dev_minor(r)),
        );
    }
    let owners = &inv.owners[i];
    if owners.is_empty() {
        prop(out, f, vocab::FILE_UNOWNED, vocab::TRUE);
    } else {
        for o in owners {
            prop(out, f, vocab::FILE_PACKAGE, &refs[o]);
        }
        for a in &inv.aliases[i] {
            prop(out, f, vocab::FILE_LISTED_AS, &encode_path(a));
        }
    }
    if let Some(v) = inv.entry_verify[i] {
        let v = &inv.verify[v];
        prop(out, f, vocab::FILE_VERIFY, &v.sbom_value());
        if let Some(d) = v.detail() {
            prop(out, f, vocab::FILE_VERIFY_DETAIL, &d);
        }
        if v.config {
            prop(out, f, vocab::FILE_CONFIG, vocab::TRUE);
        }
    }
    if let Some(err) = &e.error {
        prop(out, f, vocab::FILE_ERROR, &format!("{}: {err}", err.code()));
    }
    if let Some(s) = e.skipped {
        prop(out, f, vocab::FILE_SKIPPED, s.as_str());
    }
    out.extend_from_slice(b"]}");
}

// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
fn dev_major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)
}
fn dev_minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)
}

/// Writes the inventory as CycloneDX 1.5 JSON (compact).
///
/// The document skeleton (metadata, OS and package components, dependency
/// graph) is built and serialised by `cyclonedx-bom`. File components are
/// streamed by [`encode_file_component`], an encoder of the same 1.5 component
/// schema, straight from the index: `cyclonedx-bom` holds every component
/// twice (its model, then its spec form) and, for the 130k entries of a
/// distribution's `/usr`, that alone took 400 MB, over the 300 MB budget.
/// Streaming keeps memory at the size of the index, and the chunks are
/// encoded in parallel. Both halves are checked by the same official-schema
/// tests, and the output parses back with `cyclonedx-bom`.
pub fn write_json<W: std::io::Write + ?Sized>(
    inv: &Inventory,
    meta: &ScanMeta,
    w: &mut W,
) -> Result<(), EncodeError> {
    write_cyclonedx(inv, meta, CycloneDxOptions::default(), w)
}

/// Writes the inventory as the CycloneDX JSON document `opts` names: 1.5
/// or 1.6, full or packages-only ([`CycloneDxOptions`]). Documents of one
/// scan share serial number and time when `meta` is
/// [`ScanMeta::resolved`].
///
/// 1.6: the skeleton `cyclonedx-bom` writes as 1.5 is read into the typed
/// 1.6 model ([`v1_6::Bom`], which knows every field bakeproof writes and
/// refuses any other), upgraded (`specVersion`, 1.6's `authors`), and
/// written from that model; file components are the same in both versions.
pub fn write_cyclonedx<W: std::io::Write + ?Sized>(
    inv: &Inventory,
    meta: &ScanMeta,
    opts: CycloneDxOptions,
    w: &mut W,
) -> Result<(), EncodeError> {
    use rayon::prelude::*;
    let werr = |e: std::io::Error| EncodeError::Write(e.to_string());
    let bom = build_bom(inv, meta, opts.files)?;
    let mut skeleton = Vec::new();
    bom.output_as_json_v1_5(&mut skeleton)
        .map_err(|e| EncodeError::Write(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&skeleton).map_err(|e| EncodeError::Write(e.to_string()))?;
    let value = match opts.spec {
        CdxSpec::V1_5 => value,
        CdxSpec::V1_6 => v1_6::upgrade(value)?,
    };
    let serde_json::Value::Object(doc) = value else {
        return Err(EncodeError::Write("skeleton is not an object".into()));
    };
    let entries: &[Entry] = if opts.files { &inv.scan.entries } else { &[] };
    let refs = package_refs(inv);
    w.write_all(b"{").map_err(werr)?;
    let mut first = true;
    let mut wrote_components = false;
    for (k, v) in &doc {
        if !first {
            w.write_all(b",").map_err(werr)?;
        }
        first = false;
        serde_json::to_writer(&mut *w, k).map_err(|e| EncodeError::Write(e.to_string()))?;
        w.write_all(b":").map_err(werr)?;
        if k == "components" {
            wrote_components = true;
            write_components(inv, entries, &refs, v, w)?;
        } else if k == "dependencies" {
            // `cyclonedx-bom` leaves `dependsOn` out of a leaf's entry; an
            // explicit `[]` says "depends on nothing" (1.5: "components that
            // do not have their own dependencies MUST be declared as empty
            // elements"), and cdxgen's validator needs it.
            let mut v = v.clone();
            for d in v.as_array_mut().into_iter().flatten() {
                if let Some(o) = d.as_object_mut() {
                    o.entry("dependsOn")
                        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                }
            }
            serde_json::to_writer(&mut *w, &v).map_err(|e| EncodeError::Write(e.to_string()))?;
        } else {
            serde_json::to_writer(&mut *w, v).map_err(|e| EncodeError::Write(e.to_string()))?;
        }
    }
    if !wrote_components && !entries.is_empty() {
        w.write_all(b",\"components\":").map_err(werr)?;
        write_components(
            inv,
            entries,
            &refs,
            &serde_json::Value::Array(Vec::new()),
            w,
        )?;
    }
    w.write_all(b"}").map_err(werr)?;

    fn write_components<W: std::io::Write + ?Sized>(
        inv: &Inventory,
        entries: &[Entry],
        refs: &HashMap<PkgId, String>,
        model: &serde_json::Value,
        w: &mut W,
    ) -> Result<(), EncodeError> {
        let werr = |e: std::io::Error| EncodeError::Write(e.to_string());
        w.write_all(b"[").map_err(werr)?;
        let mut n = 0usize;
        for c in model.as_array().into_iter().flatten() {
            if n > 0 {
                w.write_all(b",").map_err(werr)?;
            }
            serde_json::to_writer(&mut *w, c).map_err(|e| EncodeError::Write(e.to_string()))?;
            n += 1;
        }
        // Encode file components in parallel, a window of chunks at a time,
        // so memory stays bounded by the window, not the document.
        const CHUNK: usize = 2048;
        let window = CHUNK * rayon::current_num_threads().max(1) * 2;
        let mut start = 0;
        while start < entries.len() {
            let end = (start + window).min(entries.len());
            let bufs: Vec<Result<Vec<u8>, String>> = (start..end)
                .step_by(CHUNK)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|s| {
                    let mut buf = Vec::with_capacity(CHUNK * 512);
                    let stop = (s + CHUNK).min(end);
                    for (i, e) in entries.iter().enumerate().take(stop).skip(s) {
                        buf.push(b',');
                        encode_file_component(&mut buf, inv, i, e, refs);
                    }
                    Ok(buf)
                })
                .collect();
            for b in bufs {
                let b = b.map_err(EncodeError::Write)?;
                // The first file component of an otherwise empty array has
                // no comma before it.
                let body = if n == 0 { &b[1..] } else { &b[..] };
                w.write_all(body).map_err(werr)?;
                n += 1;
            }
            start = end;
        }
        w.write_all(b"]").map_err(werr)
    }
    Ok(())
}

#[cfg(test)]
mod os_tests {
    use super::*;

    fn os(id: &str, version: Option<&str>, cpe: Option<&str>) -> OsRelease {
        OsRelease {
            id: Some(id.into()),
            version_id: version.map(Into::into),
            cpe_name: cpe.map(Into::into),
            ..OsRelease::default()
        }
    }

    #[test]
    fn os_cpes() {
        // os-release's own CPE_NAME wins (RHEL, Amazon Linux ship one).
        assert_eq!(
            os_cpe(&os(
                "rhel",
                Some("9.4"),
                Some("cpe:/o:redhat:enterprise_linux:9::baseos")
            ))
            .as_deref(),
            Some("cpe:/o:redhat:enterprise_linux:9::baseos")
        );
        assert_eq!(
            os_cpe(&os("ubuntu", Some("24.04"), None)).as_deref(),
            Some("cpe:/o:canonical:ubuntu_linux:24.04")
        );
        // No version, an unknown vendor, a version that would break the CPE.
        assert_eq!(os_cpe(&os("debian", None, None)), None);
        assert_eq!(os_cpe(&os("mariner", Some("2.0"), None)), None);
        assert_eq!(os_cpe(&os("debian", Some("12:x"), None)), None);
        assert_eq!(
            os_cpe(&os("debian", Some("12"), Some("garbage"))).as_deref(),
            Some("cpe:/o:debian:debian_linux:12")
        );
    }
}
