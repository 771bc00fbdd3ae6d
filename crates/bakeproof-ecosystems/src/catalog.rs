//! From what the observer found to package databases: one
//! [`PackageDb`] per language ecosystem (kind [`DbKind::Files`]), whose
//! packages carry purls, the files they were found in
//! ([`Package::locations`]) and, for Python, the files `RECORD` lists with
//! their SHA-256 (so the inventory verifies them as it verifies dpkg's).
//!
//! The same package found twice at the same path is one package; the same
//! package at two paths is two (two copies of a jar are two things a
//! scanner must see). A lockfile's pinned packages count only where no
//! installed tree sits beside it (`DIR/node_modules`): the installed
//! `package.json`s are what is on disk; its project counts always.

use std::collections::{BTreeMap, BTreeSet};

use bakeproof_index::ReadOnlyTree;
use bakeproof_pkgdb::{DbKind, DigestAlgo, FileDigest, Package, PackageDb, PackageFile};

use crate::observer::{Found, PathKind, Reread, What};
use crate::{Ecosystem, LangPackage, java, rustaudit};

/// Property key prefix the encoder adds (`bakeproof:package:`); a
/// cataloger's keys are written with it and stored without.
const PREFIX: &str = "bakeproof:package:";

/// The language packages of a tree.
#[derive(Debug, Default)]
pub struct Catalog {
    /// One database per ecosystem that has a package or a warning, in
    /// [`Ecosystem::LANGUAGES`] order.
    pub dbs: Vec<PackageDb>,
}

/// Builds the catalog from the observer's findings (sorted by path, as
/// [`crate::observer::EcosystemObserver::take`] returns them). `tree` is
/// only read for [`What::Reread`] files.
pub fn build(found: Vec<Found>, tree: &dyn ReadOnlyTree) -> Catalog {
    let mut acc = Acc::default();
    // Python: METADATA and RECORD of one .dist-info meet here.
    let mut records: BTreeMap<Vec<u8>, Vec<crate::LangFile>> = BTreeMap::new();
    let mut metadata: Vec<(Vec<u8>, LangPackage)> = Vec::new();
    let mut locks: Vec<(Vec<u8>, Vec<LangPackage>)> = Vec::new();
    let mut npm_dirs: BTreeSet<Vec<u8>> = BTreeSet::new();
    for Found { path, what } in found {
        match what {
            What::PyMetadata(p) => metadata.push((path, p)),
            What::PyRecord(files) => {
                records.insert(parent(&path).to_vec(), files);
            }
            What::NpmPackage(p) => {
                // The project directory whose node_modules holds it.
                if let Some(i) = find(&path, b"/node_modules/") {
                    npm_dirs.insert(path[..i].to_vec());
                }
                acc.add(&path, p);
            }
            What::NpmLock(ps) => locks.push((path, ps)),
            What::Packages(ps) => {
                for p in ps {
                    acc.add(&path, p);
                }
            }
            What::Reread(why) => reread(tree, &path, why, &mut acc),
            What::Error(e) => acc.warn(
                eco_of_error(&path),
                format!("{}: {e}", bakeproof_index::encode_path(&path)),
            ),
        }
    }
    for (path, mut p) in metadata {
        let dir = parent(&path);
        if let Some(files) = records.remove(dir) {
            // RECORD paths are relative to the directory holding the
            // .dist-info (site-packages); `..` climbs out of it (scripts).
            let base = parent(dir);
            p.files = files
                .into_iter()
                .map(|mut f| {
                    f.path = bakeproof_index::encode_path(&join_lexically(base, f.path.as_bytes()));
                    f
                })
                .collect();
        }
        acc.add(&path, p);
    }
    for (dir, _) in records {
        acc.warn(
            Some(Ecosystem::Pypi),
            format!(
                "{}: RECORD without METADATA",
                bakeproof_index::encode_path(&dir)
            ),
        );
    }
    for (path, ps) in locks {
        // Beside an installed tree, only the project itself: the
        // installed package.json files say what is on disk.
        let installed = npm_dirs.contains(parent(&path));
        for p in ps {
            if !installed || p.primary {
                acc.add(&path, p);
            }
        }
    }
    acc.finish()
}

fn reread(tree: &dyn ReadOnlyTree, path: &[u8], why: Reread, acc: &mut Acc) {
    let (eco, result) = match why {
        Reread::JavaArchive { sha1 } => (Ecosystem::Maven, reread_archive(tree, path, sha1)),
        Reread::RustSection(range) => (
            Ecosystem::Cargo,
            match usize::try_from(range.size) {
                // Only the section's bytes, never the whole binary.
                Ok(n) if n <= rustaudit::MAX_SECTION => {
                    tree.read_range(path, range.offset, n).map(|s| {
                        if s.len() != n {
                            What::Error(crate::CatalogError::malformed(
                                "cargo-auditable",
                                "section beyond the end of the file",
                            ))
                        } else {
                            match rustaudit::parse_dep_v0(&s) {
                                Ok(p) => What::Packages(p),
                                Err(e) => What::Error(e),
                            }
                        }
                    })
                }
                _ => Ok(What::Error(crate::CatalogError::TooLarge {
                    format: "cargo-auditable",
                    detail: format!("a .dep-v0 section of {} bytes", range.size),
                })),
            },
        ),
    };
    match result {
        Ok(What::Packages(ps)) => {
            for p in ps {
                acc.add(path, p);
            }
        }
        Ok(What::Error(e)) => acc.warn(
            Some(eco),
            format!("{}: {e}", bakeproof_index::encode_path(path)),
        ),
        Ok(_) => {}
        Err(e) => acc.warn(
            Some(eco),
            format!("{}: read again: {e}", bakeproof_index::encode_path(path)),
        ),
    }
}

/// A Java archive too large to have been kept, read again in ranges:
/// the central directory and the few entries wanted, each bounded by
/// [`java::Limits`]; never the whole archive in memory. Its SHA-1 is the
/// walk's, or (an archive that grew while read) taken now in one pass.
fn reread_archive(
    tree: &dyn ReadOnlyTree,
    path: &[u8],
    sha1: Option<String>,
) -> Result<What, bakeproof_index::RootError> {
    use sha1::{Digest as _, Sha1};
    use std::io::Read as _;
    let sha1 = match sha1 {
        Some(s) => s,
        None => {
            let mut r = bakeproof_index::RangeReader::open(tree, path)?;
            let mut h = Sha1::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = r
                    .read(&mut buf)
                    .map_err(|e| bakeproof_index::RootError::Io {
                        path: bakeproof_index::encode_path(path),
                        source: e,
                    })?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            hex::encode(h.finalize())
        }
    };
    let reader = std::io::BufReader::with_capacity(
        256 << 10,
        bakeproof_index::RangeReader::open(tree, path)?,
    );
    let (_, name) = path.split_at(path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1));
    Ok(
        match java::parse_archive_from(
            &String::from_utf8_lossy(name),
            reader,
            sha1,
            &java::Limits::default(),
        ) {
            Ok(p) => What::Packages(p),
            Err(e) => What::Error(e),
        },
    )
}

fn eco_of_error(path: &[u8]) -> Option<Ecosystem> {
    match crate::observer::classify(path, crate::observer::Langs::ALL) {
        PathKind::PyMetadata(_) | PathKind::PyRecord => Some(Ecosystem::Pypi),
        PathKind::NpmPackage | PathKind::NpmLock => Some(Ecosystem::Npm),
        PathKind::JavaArchive => Some(Ecosystem::Maven),
        PathKind::Other => None,
    }
}

/// Packages per ecosystem, deduplicated by (identity, location).
#[derive(Default)]
struct Acc {
    by_eco: BTreeMap<Ecosystem, EcoAcc>,
    /// Warnings of files that could be Go or Rust binaries.
    binary_warnings: Vec<String>,
}

#[derive(Default)]
struct EcoAcc {
    packages: Vec<Package>,
    seen: BTreeSet<(String, Vec<u8>)>,
    warnings: Vec<String>,
}

impl Acc {
    fn add(&mut self, path: &[u8], p: LangPackage) {
        let pkg = package_of(path, p);
        let e = self.by_eco.entry(pkg.ecosystem).or_default();
        if e.seen.insert((pkg.purl.clone(), path.to_vec())) {
            e.packages.push(pkg);
        }
    }

    fn warn(&mut self, eco: Option<Ecosystem>, w: String) {
        match eco {
            Some(eco) => self.by_eco.entry(eco).or_default().warnings.push(w),
            None => self.binary_warnings.push(w),
        }
    }

    fn finish(mut self) -> Catalog {
        if !self.binary_warnings.is_empty() {
            // A binary's error is Go's or Rust's; the message says which.
            self.by_eco
                .entry(Ecosystem::Golang)
                .or_default()
                .warnings
                .append(&mut self.binary_warnings);
        }
        let mut dbs = Vec::new();
        for eco in Ecosystem::LANGUAGES {
            let Some(e) = self.by_eco.remove(&eco) else {
                continue;
            };
            dbs.push(PackageDb {
                kind: DbKind::Files(eco),
                location: "files".into(),
                os: None,
                packages: e.packages,
                warnings: e.warnings,
                dropped: 0,
                diversions: Vec::new(),
            });
        }
        Catalog { dbs }
    }
}

/// The purl of a language package, per the purl spec's rules for its type:
/// pypi names lower-cased with `_` as `-`; an npm scope as the namespace
/// (`%40types`); a Go module path split into namespace and last segment;
/// Maven's groupId as namespace; cargo as is.
pub fn purl(p: &LangPackage) -> String {
    let version = (!p.version.is_empty()).then_some(p.version.as_str());
    let ty = p.lang.as_str();
    match p.lang {
        Ecosystem::Pypi => {
            let name = p.name.to_ascii_lowercase().replace('_', "-");
            bakeproof_types::purl::build(ty, None, &name, version, &[])
        }
        // The standard library is `stdlib` at the toolchain's version
        // (`go1.22.5`); its purl carries the bare release, as syft writes
        // it and vulnerability databases match it (`pkg:golang/stdlib@1.22.5`).
        Ecosystem::Golang if p.name == "stdlib" && p.namespace.is_none() => {
            let version = version.map(|v| v.strip_prefix("go").unwrap_or(v));
            bakeproof_types::purl::build(ty, None, &p.name, version, &[])
        }
        Ecosystem::Golang => {
            let (ns, name) = match p.name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, p.name.as_str()),
            };
            bakeproof_types::purl::build(ty, ns, name, version, &[])
        }
        _ => bakeproof_types::purl::build(ty, p.namespace.as_deref(), &p.name, version, &[]),
    }
}

fn package_of(path: &[u8], p: LangPackage) -> Package {
    let purl = purl(&p);
    // Keys below `bakeproof:package:` (the SBOM's vocabulary:
    // `PACKAGE_FOUND_BY`, `PACKAGE_PRIMARY`).
    let mut properties: Vec<(String, String)> = Vec::with_capacity(p.properties.len() + 2);
    properties.push(("found-by".into(), p.found_by.into()));
    if p.primary {
        properties.push(("primary".into(), "true".into()));
    }
    for (k, v) in p.properties {
        let k = k.strip_prefix(PREFIX).map(str::to_owned).unwrap_or(k);
        properties.push((k, v));
    }
    let files = p
        .files
        .into_iter()
        .map(|f| {
            let mut pf = PackageFile::new(
                bakeproof_index::decode_path(&f.path).unwrap_or_else(|| f.path.into_bytes()),
            );
            pf.digest = f
                .sha256
                .as_deref()
                .and_then(|h| FileDigest::from_hex(DigestAlgo::Sha256, h));
            pf.size = f.size;
            pf
        })
        .collect();
    let name = match (&p.namespace, p.lang) {
        // The SBOM's name is what users search for: `@types/node`,
        // `org.slf4j:slf4j-api` is the purl's business; Maven and npm
        // show the scope with the name, as syft does for npm.
        (Some(ns), Ecosystem::Npm) => format!("{ns}/{}", p.name),
        _ => p.name,
    };
    Package {
        ecosystem: p.lang,
        db_key: format!("{}:{}", bakeproof_index::encode_path(path), name),
        name,
        version: p.version,
        epoch: None,
        arch: String::new(),
        source_name: None,
        source_version: None,
        licenses: p.licenses,
        supplier: None,
        author: p.author,
        summary: p.summary,
        homepage: p.homepage,
        installed_size: None,
        multi_arch: None,
        status: None,
        depends: p
            .depends
            .into_iter()
            .map(|d| bakeproof_pkgdb::Dependency {
                alternatives: vec![d],
            })
            .collect(),
        provides: Vec::new(),
        purl,
        files,
        properties,
        locations: vec![path.to_vec()],
        hashes: p.hashes,
    }
}

fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[..i],
        None => &[],
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `base` joined with a relative (or absolute) `rel`, folded lexically
/// ([`bakeproof_index::normalize_lexically`]); the inventory's ownership
/// plan resolves the result inside the root.
fn join_lexically(base: &[u8], rel: &[u8]) -> Vec<u8> {
    if rel.starts_with(b"/") {
        return bakeproof_index::normalize_lexically(rel);
    }
    let mut joined = Vec::with_capacity(base.len() + 1 + rel.len());
    joined.extend_from_slice(base);
    joined.push(b'/');
    joined.extend_from_slice(rel);
    bakeproof_index::normalize_lexically(&joined)
}

/// Whether a Java archive's packages would be read: exposed for the CLI's
/// summary of what a scan looked at.
pub fn is_java_archive(name: &[u8]) -> bool {
    java::is_archive_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths_join_lexically() {
        assert_eq!(
            join_lexically(b"/v/lib/python3.11/site-packages", b"six.py"),
            b"/v/lib/python3.11/site-packages/six.py"
        );
        assert_eq!(
            join_lexically(b"/v/lib/python3.11/site-packages", b"../../../bin/pip"),
            b"/v/bin/pip"
        );
        assert_eq!(join_lexically(b"/a", b"../../../../x"), b"/x");
        assert_eq!(join_lexically(b"/a", b"/etc/x"), b"/etc/x");
    }

    #[test]
    fn purls_follow_the_spec_per_type() {
        let mut p = LangPackage::new(Ecosystem::Pypi, "Typing_Extensions", "4.12.2");
        assert_eq!(purl(&p), "pkg:pypi/typing-extensions@4.12.2");
        p = LangPackage::new(Ecosystem::Npm, "node", "20.1.0");
        p.namespace = Some("@types".into());
        assert_eq!(purl(&p), "pkg:npm/%40types/node@20.1.0");
        p = LangPackage::new(Ecosystem::Golang, "github.com/spf13/cobra", "v1.8.1");
        assert_eq!(purl(&p), "pkg:golang/github.com/spf13/cobra@v1.8.1");
        p = LangPackage::new(Ecosystem::Golang, "stdlib", "go1.22.5");
        assert_eq!(purl(&p), "pkg:golang/stdlib@1.22.5");
        p = LangPackage::new(Ecosystem::Maven, "commons-io", "2.11.0");
        p.namespace = Some("commons-io".into());
        assert_eq!(purl(&p), "pkg:maven/commons-io/commons-io@2.11.0");
        p = LangPackage::new(Ecosystem::Cargo, "serde", "1.0.200");
        assert_eq!(purl(&p), "pkg:cargo/serde@1.0.200");
    }
}
