//! SPDX 2.3 JSON encoding of a scanned inventory (`bakeproof scan -o
//! spdx-json`), through a typed model of what bakeproof writes.
//!
//! Layout (docs/formats.md has the full table):
//! * one package for the image (`SPDXRef-Image`, purpose `CONTAINER`, the
//!   tree digest as its version and in its comment), which the document
//!   `DESCRIBES`;
//! * one package for the operating system (purpose `OPERATING_SYSTEM`, its
//!   CPE as a `SECURITY` external reference), and one per installed package
//!   (the purl as a `PACKAGE-MANAGER` external reference, the licence as an
//!   SPDX expression where the database's text maps to one, `NOASSERTION`
//!   otherwise with the raw text in `licenseComments`, the distributor as
//!   `supplier`); the image `CONTAINS` each;
//! * one file per regular file whose content was read (SPDX files are
//!   content: directories, symlinks and special files have no SPDX
//!   checksum and are not listed; the CycloneDX SBOM lists them), with its
//!   SHA-1 (which SPDX 2.3 requires of every file) and SHA-256; its package
//!   `CONTAINS` it, or the image when no package owns it;
//! * the package graph as `DEPENDS_ON`.
//!
//! SHA-1 is not the index's digest: the SHA-1 of each file is computed in
//! the walk's single read by [`Sha1Observer`], which the scan must carry
//! when SPDX is wanted ([`write_spdx_json`] refuses an inventory where a
//! hashed file has no SHA-1).
//!
//! `documentNamespace` is `https://bakeproof.invalid/spdx/NAME-SERIAL`:
//! the serial number of the CycloneDX documents of the same scan (so the
//! two name one scan, and it is reproducible when the time is pinned), under
//! the reserved `.invalid` domain (SPDX namespaces are identifiers, never
//! fetched).

use std::collections::HashMap;

use bakeproof_index::{ContentObserver, ContentSink, Entry, FileKind, encode_path};
use bakeproof_pkgdb::{Ecosystem, OsRelease, Package as DbPackage};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use sha2::Digest;

use crate::cyclonedx::{EncodeError, ScanMeta, license, os_cpe};
use crate::inventory::{Inventory, PkgId};

/// Observer name of [`Sha1Observer`]'s annotations.
pub const SHA1_OBSERVER: &str = "spdx-sha1";
/// Annotation key of a file's SHA-1 (lower-case hex).
pub const SHA1_KEY: &str = "sha1";

/// Computes every regular file's SHA-1 during the walk's single read (SPDX
/// 2.3 requires a SHA-1 checksum of each file).
pub struct Sha1Observer;

impl Sha1Observer {
    pub fn shared() -> std::sync::Arc<dyn ContentObserver> {
        std::sync::Arc::new(Sha1Observer)
    }
}

struct Sha1Sink(sha1::Sha1);

impl ContentSink for Sha1Sink {
    fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }
    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        vec![(SHA1_KEY.to_owned(), hex::encode(self.0.finalize()))]
    }
}

impl ContentObserver for Sha1Observer {
    fn name(&self) -> &'static str {
        SHA1_OBSERVER
    }
    fn start(&self, _path: &[u8], _size: u64) -> Option<Box<dyn ContentSink>> {
        Some(Box::new(Sha1Sink(sha1::Sha1::new())))
    }
}

// ------------------------------------------------------------------ model --

pub const SPDX_VERSION: &str = "SPDX-2.3";
pub const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
pub const IMAGE_ID: &str = "SPDXRef-Image";
pub const OS_ID: &str = "SPDXRef-OperatingSystem";
pub const NOASSERTION: &str = "NOASSERTION";

/// The document (fields in the order of the SPDX 2.3 JSON examples).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    #[serde(rename = "SPDXID")]
    pub spdx_id: &'static str,
    pub spdx_version: &'static str,
    pub data_license: &'static str,
    pub name: String,
    pub document_namespace: String,
    pub creation_info: CreationInfo,
    pub comment: String,
    pub packages: Vec<Package>,
    pub files: Files<'a>,
    pub relationships: Relationships<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationInfo {
    pub created: String,
    pub creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator: Option<String>,
    pub download_location: &'static str,
    pub files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_info: Option<String>,
    pub license_concluded: &'static str,
    pub license_declared: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_comments: Option<String>,
    pub copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_package_purpose: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRef {
    pub reference_category: &'static str,
    pub reference_type: &'static str,
    pub reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub file_name: String,
    pub checksums: [Checksum; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checksum {
    pub algorithm: &'static str,
    pub checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship<'a> {
    pub spdx_element_id: &'a str,
    pub relationship_type: &'static str,
    pub related_spdx_element: std::borrow::Cow<'a, str>,
}

/// The files, encoded one at a time from the index (a `/usr` has 100k+).
pub struct Files<'a> {
    inv: &'a Inventory,
    listed: &'a [usize],
}

impl Serialize for Files<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.listed.len()))?;
        for &i in self.listed {
            seq.serialize_element(&file(&self.inv.scan.entries[i], i))?;
        }
        seq.end()
    }
}

/// The relationships, streamed as [`Files`] are.
pub struct Relationships<'a> {
    inv: &'a Inventory,
    listed: &'a [usize],
    pkg_ids: &'a HashMap<PkgId, String>,
    /// Image `CONTAINS` (OS and packages) and `DEPENDS_ON` edges.
    fixed: Vec<Relationship<'a>>,
}

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in &self.fixed {
            seq.serialize_element(r)?;
        }
        for &i in self.listed {
            let fid = std::borrow::Cow::Owned(file_id(i));
            let owners = &self.inv.owners[i];
            if owners.is_empty() {
                seq.serialize_element(&Relationship {
                    spdx_element_id: IMAGE_ID,
                    relationship_type: "CONTAINS",
                    related_spdx_element: fid,
                })?;
            } else {
                for o in owners {
                    seq.serialize_element(&Relationship {
                        spdx_element_id: &self.pkg_ids[o],
                        relationship_type: "CONTAINS",
                        related_spdx_element: fid.clone(),
                    })?;
                }
            }
        }
        seq.end()
    }
}

fn file_id(i: usize) -> String {
    format!("SPDXRef-File-{i}")
}

fn file(e: &Entry, i: usize) -> File {
    let sha256 = e.sha256.map(hex::encode).unwrap_or_default();
    let sha1 = e
        .annotation(SHA1_OBSERVER, SHA1_KEY)
        .unwrap_or_default()
        .to_owned();
    File {
        spdx_id: file_id(i),
        // SPDX file names are relative to the package root: `./usr/bin/ls`.
        file_name: format!(".{}", encode_path(&e.path)),
        checksums: [
            Checksum {
                algorithm: "SHA1",
                checksum_value: sha1,
            },
            Checksum {
                algorithm: "SHA256",
                checksum_value: sha256,
            },
        ],
        comment: bakeproof_index::is_path_encoded(&e.path)
            .then(|| "path is not UTF-8: percent-encoded".to_owned()),
    }
}

/// `[A-Za-z0-9.-]` of `s`, other bytes as `-` (an SPDX id's alphabet).
fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// An SPDX actor of a package database's supplier or maintainer text:
/// `Organization: NAME (ADDRESS)` from `NAME <ADDRESS>` (parentheses in
/// the name, which the actor syntax uses, are dropped).
fn actor(kind: &str, text: &str) -> Option<String> {
    let c = crate::cyclonedx::v1_6::contact(text);
    let name: String = c
        .name
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, '(' | ')') && !c.is_control())
        .collect();
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some(match c.email {
        Some(e) if !e.contains(['(', ')']) => format!("{kind}: {name} ({e})"),
        _ => format!("{kind}: {name}"),
    })
}

/// A homepage SPDX accepts (an http(s) URL without blanks).
fn homepage(h: &str) -> Option<String> {
    let h = h.trim();
    ((h.starts_with("http://") || h.starts_with("https://"))
        && !h.contains(|c: char| c.is_whitespace() || c.is_control()))
    .then(|| h.to_owned())
}

fn package(p: &DbPackage, id: String) -> Package {
    let (declared, comments) = match license::expression(&p.licenses, p.ecosystem) {
        Some(e) => (e, None),
        None if p.licenses.is_empty() => (NOASSERTION.to_owned(), None),
        None => (
            NOASSERTION.to_owned(),
            Some(format!(
                "licence text of the package database, not an SPDX expression: {}",
                p.licenses.join("; ")
            )),
        ),
    };
    let source = match p.ecosystem {
        Ecosystem::Deb => Some((p.source_name_or_self(), p.source_version_or_self())),
        Ecosystem::Rpm => p.source_name.as_deref().zip(p.source_version.as_deref()),
        _ => None,
    };
    Package {
        spdx_id: id,
        name: p.name.clone(),
        version_info: Some(p.version.clone()),
        supplier: p
            .supplier
            .as_deref()
            .and_then(|s| actor("Organization", s))
            .or_else(|| Some(NOASSERTION.to_owned())),
        // dpkg's Maintainer, rpm's PACKAGER: who made the package.
        originator: p.author.as_deref().and_then(|a| actor("Person", a)),
        download_location: NOASSERTION,
        files_analyzed: false,
        homepage: p.homepage.as_deref().and_then(homepage),
        source_info: source.map(|(n, v)| format!("built package from: {n} {v}")),
        license_concluded: NOASSERTION,
        license_declared: declared,
        license_comments: comments,
        copyright_text: NOASSERTION,
        summary: p.summary.clone(),
        comment: None,
        external_refs: vec![ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p.purl.clone(),
        }],
        primary_package_purpose: None,
    }
}

fn os_package(os: &OsRelease) -> Package {
    let mut refs = Vec::new();
    if let Some(cpe) = os_cpe(os) {
        refs.push(ExternalRef {
            reference_category: "SECURITY",
            reference_type: if cpe.starts_with("cpe:2.3:") {
                "cpe23Type"
            } else {
                "cpe22Type"
            },
            reference_locator: cpe,
        });
    }
    Package {
        spdx_id: OS_ID.into(),
        name: os.id.clone().unwrap_or_else(|| "linux".into()),
        version_info: os.version_id.clone(),
        supplier: None,
        originator: None,
        download_location: NOASSERTION,
        files_analyzed: false,
        homepage: None,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        license_comments: None,
        copyright_text: NOASSERTION,
        summary: os.pretty_name.clone(),
        comment: None,
        external_refs: refs,
        primary_package_purpose: Some("OPERATING_SYSTEM"),
    }
}

/// The regular files SPDX lists: read without error (SHA-256 and SHA-1
/// known). A hashed file without SHA-1 means the scan did not carry
/// [`Sha1Observer`]: an error, not a silently shorter document.
fn listed_files(inv: &Inventory) -> Result<Vec<usize>, EncodeError> {
    let mut out = Vec::new();
    for (i, e) in inv.scan.entries.iter().enumerate() {
        if e.kind != FileKind::Regular || e.sha256.is_none() {
            continue;
        }
        if e.annotation(SHA1_OBSERVER, SHA1_KEY).is_none() {
            return Err(EncodeError::Write(format!(
                "{}: no SHA-1 (the scan did not compute the SHA-1s SPDX requires)",
                encode_path(&e.path)
            )));
        }
        out.push(i);
    }
    Ok(out)
}

/// Writes the inventory as SPDX 2.3 JSON (compact). `meta` should be
/// [`ScanMeta::resolved`] so that the namespace carries the serial number
/// of the scan's CycloneDX documents.
pub fn write_spdx_json<W: std::io::Write + ?Sized>(
    inv: &Inventory,
    meta: &ScanMeta,
    w: &mut W,
) -> Result<(), EncodeError> {
    let serial = meta.serial_of(inv);
    let created = meta.timestamp_text()?;
    let tree_hex = hex::encode(inv.scan.tree_digest);
    let listed = if meta.files_indexed {
        listed_files(inv)?
    } else {
        Vec::new()
    };

    // Packages in the CycloneDX order (name, arch, version).
    let ids = crate::cyclonedx::package_order(inv);
    let pkg_ids: HashMap<PkgId, String> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let p = &inv.dbs[id.0].packages[id.1];
            (*id, format!("SPDXRef-Package-{k}-{}", id_part(&p.name)))
        })
        .collect();
    let mut with_files: std::collections::HashSet<PkgId> = Default::default();
    for &i in &listed {
        with_files.extend(inv.owners[i].iter().copied());
    }

    let image = Package {
        spdx_id: IMAGE_ID.into(),
        name: meta.image_name.clone(),
        version_info: Some(if meta.files_indexed {
            format!("sha256:{tree_hex}")
        } else {
            crate::cyclonedx::vocab::PACKAGES_ONLY.to_owned()
        }),
        supplier: None,
        originator: None,
        download_location: NOASSERTION,
        files_analyzed: !listed.is_empty(),
        homepage: None,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        license_comments: None,
        copyright_text: NOASSERTION,
        summary: None,
        comment: Some(if meta.files_indexed {
            format!(
                "root filesystem image indexed by bakeproof; tree digest sha256:{tree_hex} \
                 (bakeproof tree digest version {}); source {}",
                bakeproof_index::TREE_DIGEST_VERSION,
                meta.source
            )
        } else {
            format!(
                "packages of a root or package database read by bakeproof; no file tree \
                 indexed; source {}",
                meta.source
            )
        }),
        external_refs: Vec::new(),
        primary_package_purpose: Some("CONTAINER"),
    };

    let mut packages = vec![image];
    let mut fixed = vec![Relationship {
        spdx_element_id: DOCUMENT_ID,
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID.into(),
    }];
    if let Some(os) = &meta.os {
        packages.push(os_package(os));
        fixed.push(Relationship {
            spdx_element_id: IMAGE_ID,
            relationship_type: "CONTAINS",
            related_spdx_element: OS_ID.into(),
        });
    }
    for id in &ids {
        let mut p = package(&inv.dbs[id.0].packages[id.1], pkg_ids[id].clone());
        p.files_analyzed = with_files.contains(id);
        packages.push(p);
        fixed.push(Relationship {
            spdx_element_id: IMAGE_ID,
            relationship_type: "CONTAINS",
            related_spdx_element: pkg_ids[id].as_str().into(),
        });
    }
    for (id, on) in crate::cyclonedx::package_dependencies(inv, &ids) {
        let mut on: Vec<&str> = on.iter().map(|t| pkg_ids[t].as_str()).collect();
        on.sort_unstable();
        on.dedup();
        for t in on {
            fixed.push(Relationship {
                spdx_element_id: &pkg_ids[&id],
                relationship_type: "DEPENDS_ON",
                related_spdx_element: t.into(),
            });
        }
    }

    let regular = inv
        .scan
        .entries
        .iter()
        .filter(|e| e.kind == FileKind::Regular)
        .count();
    let doc = Document {
        spdx_id: DOCUMENT_ID,
        spdx_version: SPDX_VERSION,
        data_license: "CC0-1.0",
        name: meta.image_name.clone(),
        document_namespace: format!(
            "https://bakeproof.invalid/spdx/{}-{serial}",
            id_part(&meta.image_name)
        ),
        creation_info: CreationInfo {
            created,
            creators: vec![format!("Tool: {}-{}", meta.tool_name, meta.tool_version)],
        },
        comment: format!(
            "bakeproof scan of {}; serial number urn:uuid:{serial} (that of the CycloneDX SBOMs \
             of the same scan); {} of {} regular files listed (the others could not be read); \
             directories, symlinks and special files are not SPDX files (the CycloneDX SBOM \
             lists them)",
            meta.source,
            listed.len(),
            regular
        ),
        packages,
        files: Files {
            inv,
            listed: &listed,
        },
        relationships: Relationships {
            inv,
            listed: &listed,
            pkg_ids: &pkg_ids,
            fixed,
        },
    };
    let mut bw = std::io::BufWriter::with_capacity(1 << 16, w);
    serde_json::to_writer(&mut bw, &doc).map_err(|e| EncodeError::Write(e.to_string()))?;
    std::io::Write::flush(&mut bw).map_err(|e| EncodeError::Write(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_and_ids() {
        assert_eq!(
            actor("Organization", "Debian X Team <x@lists.debian.org>").as_deref(),
            Some("Organization: Debian X Team (x@lists.debian.org)")
        );
        assert_eq!(
            actor("Organization", "Red Hat, Inc.").as_deref(),
            Some("Organization: Red Hat, Inc.")
        );
        assert_eq!(
            actor("Organization", "A (B) <c>").as_deref(),
            Some("Organization: A B (c)")
        );
        assert_eq!(actor("Organization", " "), None);
        assert_eq!(id_part("libc6:amd64_x+y"), "libc6-amd64-x-y");
        assert_eq!(homepage("https://x.org/"), Some("https://x.org/".into()));
        assert_eq!(homepage("x.org"), None);
        assert_eq!(homepage("https://x.org/ y"), None);
    }
}
