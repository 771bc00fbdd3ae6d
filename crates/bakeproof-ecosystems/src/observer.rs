//! The content observer that feeds the catalogers from the scan's one read.
//!
//! [`EcosystemObserver::start`] decides from the path alone which
//! cataloger, if any, wants a file: Python and npm metadata files and Java
//! archives by name; every other regular file could be a Go or Rust binary,
//! so it gets a sink that looks at the first chunk (the ELF header) and
//! drops out at once when the file is not ELF. What each sink keeps is
//! bounded: a metadata file up to its format's limit, a Java archive up to
//! [`java::MAX_ARCHIVE`] within a budget shared by all sinks
//! ([`MAX_BUFFERED`]), a Go build-info blob, an ELF's section table.
//! An archive over the bound or the budget, and a Rust audit section the
//! stream passed before its location was known, become a [`What::Reread`]:
//! [`crate::catalog`] reads that one file again after the walk, one at a
//! time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bakeproof_index::{ContentObserver, ContentSink};
use sha1::{Digest as _, Sha1};

use crate::{CatalogError, Ecosystem, LangFile, LangPackage, golang, java, npm, python, rustaudit};

/// Observer name (annotations: none; results go to [`EcosystemObserver::take`]).
pub const OBSERVER_NAME: &str = "ecosystems";

/// Most archive bytes all sinks together hold at any time.
pub const MAX_BUFFERED: u64 = 256 << 20;

/// Smallest file given an ELF sink: no Go or Rust binary is smaller.
const MIN_BINARY: u64 = 16 << 10;

/// Which ecosystems to catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Langs {
    pub python: bool,
    pub npm: bool,
    pub go: bool,
    pub java: bool,
    pub rust: bool,
}

impl Default for Langs {
    /// Every ecosystem: the catalogers ride the walk's one read.
    fn default() -> Self {
        Langs::ALL
    }
}

impl Langs {
    /// Every ecosystem.
    pub const ALL: Langs = Langs {
        python: true,
        npm: true,
        go: true,
        java: true,
        rust: true,
    };
    /// None.
    pub const NONE: Langs = Langs {
        python: false,
        npm: false,
        go: false,
        java: false,
        rust: false,
    };

    /// Whether `eco` is cataloged.
    pub fn has(self, eco: Ecosystem) -> bool {
        match eco {
            Ecosystem::Pypi => self.python,
            Ecosystem::Npm => self.npm,
            Ecosystem::Golang => self.go,
            Ecosystem::Maven => self.java,
            Ecosystem::Cargo => self.rust,
            _ => false,
        }
    }

    /// Whether any is.
    pub fn any(self) -> bool {
        self != Langs::NONE
    }
}

/// What the observer kept of one file.
#[derive(Debug)]
pub struct Found {
    /// Physical path inside the root.
    pub path: Vec<u8>,
    pub what: What,
}

/// One file's result.
#[derive(Debug)]
pub enum What {
    /// A `.dist-info/METADATA` or `.egg-info` `PKG-INFO`.
    PyMetadata(LangPackage),
    /// A `.dist-info/RECORD`.
    PyRecord(Vec<LangFile>),
    /// An installed `node_modules/.../package.json`.
    NpmPackage(LangPackage),
    /// A `package-lock.json` / `npm-shrinkwrap.json` outside `node_modules`.
    NpmLock(Vec<LangPackage>),
    /// Complete packages of one file (a Go binary, a Java archive, a
    /// cargo-auditable binary).
    Packages(Vec<LangPackage>),
    /// Read this file again after the walk.
    Reread(Reread),
    /// The file looked like a format but gave no package.
    Error(CatalogError),
}

/// Why a file has to be read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reread {
    /// A Java archive larger than [`java::MAX_ARCHIVE`] or over the
    /// buffering budget, with the SHA-1 of the bytes the walk streamed
    /// (`None` when it grew past its bound while read): the catalog reads
    /// its central directory and the entries it wants in ranges.
    JavaArchive { sha1: Option<String> },
    /// A cargo-auditable section at this range.
    RustSection(rustaudit::SectionRange),
}

/// The catalogers as one [`ContentObserver`].
pub struct EcosystemObserver {
    shared: Arc<Shared>,
}

struct Shared {
    langs: Langs,
    found: Mutex<Vec<Found>>,
    buffered: AtomicU64,
}

impl Shared {
    fn push(&self, path: Vec<u8>, what: What) {
        // A poisoned lock only means another sink panicked: its result is
        // lost, ours is not.
        let mut found = match self.found.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        found.push(Found { path, what });
    }
}

impl EcosystemObserver {
    pub fn new(langs: Langs) -> EcosystemObserver {
        EcosystemObserver {
            shared: Arc::new(Shared {
                langs,
                found: Mutex::new(Vec::new()),
                buffered: AtomicU64::new(0),
            }),
        }
    }

    /// Which ecosystems it catalogs.
    pub fn langs(&self) -> Langs {
        self.shared.langs
    }

    /// Everything found so far, sorted by path (the walk's order is not
    /// deterministic; this is).
    pub fn take(&self) -> Vec<Found> {
        let mut found = match self.shared.found.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        found.sort_by(|a, b| a.path.cmp(&b.path));
        found
    }
}

/// What a path is to the catalogers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathKind {
    PyMetadata(&'static str),
    PyRecord,
    NpmPackage,
    NpmLock,
    JavaArchive,
    Other,
}

/// Classifies a physical path by its name and its parents' names.
pub(crate) fn classify(path: &[u8], langs: Langs) -> PathKind {
    let (parent, name) = split_last(path);
    let (grandparent, parent_name) = split_last(parent);
    if langs.python {
        if parent_name.ends_with(b".dist-info") {
            if name == b"METADATA" {
                return PathKind::PyMetadata("dist-info");
            }
            if name == b"RECORD" {
                return PathKind::PyRecord;
            }
        }
        // `.egg-info` directories and files, and the `EGG-INFO` of an
        // unpacked `.egg` (easy_install, pkg_resources).
        let (_, gp_name) = split_last(grandparent);
        if (name == b"PKG-INFO"
            && (parent_name.ends_with(b".egg-info")
                || (parent_name == b"EGG-INFO" && gp_name.ends_with(b".egg"))))
            || name.ends_with(b".egg-info")
        {
            return PathKind::PyMetadata("egg-info");
        }
    }
    if langs.npm {
        if name == b"package.json" {
            // node_modules/NAME/package.json or node_modules/@SCOPE/NAME/package.json
            let (_, gp_name) = split_last(grandparent);
            if grandparent.ends_with(b"/node_modules") && !parent_name.starts_with(b".") {
                return PathKind::NpmPackage;
            }
            if gp_name.starts_with(b"@") {
                let (ggp, _) = split_last(grandparent);
                if ggp.ends_with(b"/node_modules") {
                    return PathKind::NpmPackage;
                }
            }
        }
        if (name == b"package-lock.json" || name == b"npm-shrinkwrap.json")
            && !contains(parent, b"/node_modules")
        {
            return PathKind::NpmLock;
        }
    }
    if langs.java && java::is_archive_name(name) {
        return PathKind::JavaArchive;
    }
    PathKind::Other
}

fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

impl ContentObserver for EcosystemObserver {
    fn name(&self) -> &'static str {
        OBSERVER_NAME
    }

    fn start(&self, path: &[u8], size: u64) -> Option<Box<dyn ContentSink>> {
        let langs = self.shared.langs;
        let kind = classify(path, langs);
        let limit = match kind {
            PathKind::PyMetadata(_) | PathKind::PyRecord => python::MAX_METADATA,
            PathKind::NpmPackage | PathKind::NpmLock => npm::MAX_MANIFEST,
            PathKind::JavaArchive => {
                if size > java::MAX_ARCHIVE || !self.reserve(size) {
                    // Too large to hold: hash it as it streams by (the
                    // SHA-1 Maven Central indexes), read its zip structure
                    // again after the walk.
                    return Some(Box::new(Sha1Sink {
                        shared: self.shared.clone(),
                        path: path.to_vec(),
                        sha1: Sha1::new(),
                    }));
                }
                size
            }
            PathKind::Other => {
                if size < MIN_BINARY || !(langs.go || langs.rust) {
                    return None;
                }
                return Some(Box::new(BinarySink {
                    shared: self.shared.clone(),
                    path: path.to_vec(),
                    go: langs.go.then(golang::BuildInfoFinder::new),
                    rust: langs.rust.then(rustaudit::DepV0Finder::new),
                    first: true,
                }));
            }
        };
        if size > limit {
            self.shared.push(
                path.to_vec(),
                What::Error(CatalogError::TooLarge {
                    format: kind_format(kind),
                    detail: format!("{size} bytes, more than {limit}"),
                }),
            );
            return None;
        }
        Some(Box::new(BufferSink {
            shared: self.shared.clone(),
            path: path.to_vec(),
            kind,
            limit,
            reserved: if kind == PathKind::JavaArchive {
                size
            } else {
                0
            },
            // The size is known and within the limit (and, for an archive,
            // reserved from the budget): one allocation, no regrowth copies.
            buf: Vec::with_capacity(usize::try_from(size).unwrap_or(0)),
            over: false,
        }))
    }
}

impl EcosystemObserver {
    /// Takes `size` bytes of the shared buffering budget.
    fn reserve(&self, size: u64) -> bool {
        self.shared
            .buffered
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used.saturating_add(size) <= MAX_BUFFERED).then_some(used + size)
            })
            .is_ok()
    }
}

fn kind_format(kind: PathKind) -> &'static str {
    match kind {
        PathKind::PyMetadata(_) => "python metadata",
        PathKind::PyRecord => "RECORD",
        PathKind::NpmPackage => "package.json",
        PathKind::NpmLock => "package-lock.json",
        PathKind::JavaArchive => "java archive",
        PathKind::Other => "file",
    }
}

/// Keeps a whole small file (metadata, manifest, lockfile, archive).
struct BufferSink {
    shared: Arc<Shared>,
    path: Vec<u8>,
    kind: PathKind,
    limit: u64,
    /// Budget bytes to give back at the end.
    reserved: u64,
    buf: Vec<u8>,
    /// The file grew past the limit while being read.
    over: bool,
}

impl ContentSink for BufferSink {
    fn update(&mut self, chunk: &[u8]) {
        if self.over {
            return;
        }
        if self.buf.len() as u64 + chunk.len() as u64 > self.limit {
            self.over = true;
            self.buf = Vec::new();
            return;
        }
        self.buf.extend_from_slice(chunk);
    }

    fn finish(mut self: Box<Self>) -> Vec<(String, String)> {
        let buf = std::mem::take(&mut self.buf);
        let what = if self.over {
            match self.kind {
                PathKind::JavaArchive => What::Reread(Reread::JavaArchive { sha1: None }),
                _ => What::Error(CatalogError::TooLarge {
                    format: kind_format(self.kind),
                    detail: "grew past its limit while being read".into(),
                }),
            }
        } else {
            parse_buffered(self.kind, &self.path, &buf)
        };
        drop(buf);
        self.release();
        let path = std::mem::take(&mut self.path);
        self.shared.push(path, what);
        Vec::new()
    }
}

impl BufferSink {
    /// Gives the reserved budget back (once).
    fn release(&mut self) {
        if self.reserved > 0 {
            self.shared
                .buffered
                .fetch_sub(self.reserved, Ordering::AcqRel);
            self.reserved = 0;
        }
    }
}

impl Drop for BufferSink {
    fn drop(&mut self) {
        // A read that failed never reaches `finish`: give the budget back.
        self.release();
    }
}

/// Hashes a Java archive too large to keep; the catalog reads it again.
struct Sha1Sink {
    shared: Arc<Shared>,
    path: Vec<u8>,
    sha1: Sha1,
}

impl ContentSink for Sha1Sink {
    fn update(&mut self, chunk: &[u8]) {
        self.sha1.update(chunk);
    }

    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        let Sha1Sink { shared, path, sha1 } = *self;
        let sha1 = Some(hex::encode(sha1.finalize()));
        shared.push(path, What::Reread(Reread::JavaArchive { sha1 }));
        Vec::new()
    }
}

/// The parse of a whole kept file.
pub(crate) fn parse_buffered(kind: PathKind, path: &[u8], bytes: &[u8]) -> What {
    let result = match kind {
        PathKind::PyMetadata(found_by) => {
            python::parse_metadata(bytes, found_by).map(What::PyMetadata)
        }
        PathKind::PyRecord => python::parse_record(bytes).map(What::PyRecord),
        PathKind::NpmPackage => npm::parse_package_json(bytes).map(What::NpmPackage),
        PathKind::NpmLock => npm::parse_lockfile(bytes).map(What::NpmLock),
        PathKind::JavaArchive => {
            let (_, name) = split_last(path);
            java::parse_archive(
                &String::from_utf8_lossy(name),
                bytes,
                &java::Limits::default(),
            )
            .map(What::Packages)
        }
        PathKind::Other => return What::Packages(Vec::new()),
    };
    result.unwrap_or_else(What::Error)
}

/// Looks for Go build info and a cargo-auditable section in a file that
/// may be an ELF binary.
struct BinarySink {
    shared: Arc<Shared>,
    path: Vec<u8>,
    go: Option<golang::BuildInfoFinder>,
    rust: Option<rustaudit::DepV0Finder>,
    first: bool,
}

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

impl ContentSink for BinarySink {
    fn update(&mut self, chunk: &[u8]) {
        if self.first {
            self.first = false;
            if !chunk.starts_with(ELF_MAGIC) {
                self.go = None;
                self.rust = None;
                return;
            }
        }
        if let Some(g) = &mut self.go
            && g.wants_more()
        {
            g.update(chunk);
        }
        if let Some(r) = &mut self.rust
            && r.wants_more()
        {
            r.update(chunk);
        }
    }

    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        let BinarySink {
            shared,
            path,
            go,
            rust,
            ..
        } = *self;
        let mut packages = Vec::new();
        let mut errors = Vec::new();
        if let Some(blob) = go.and_then(golang::BuildInfoFinder::finish) {
            match golang::parse_buildinfo(&blob) {
                Ok(info) => packages.extend(info.packages()),
                Err(e) => errors.push(e),
            }
        }
        match rust.and_then(rustaudit::DepV0Finder::finish) {
            Some(Ok(section)) => match rustaudit::parse_dep_v0(&section) {
                Ok(p) => packages.extend(p),
                Err(e) => errors.push(e),
            },
            Some(Err(range)) => {
                shared.push(path.clone(), What::Reread(Reread::RustSection(range)));
            }
            None => {}
        }
        for e in errors {
            shared.push(path.clone(), What::Error(e));
        }
        if !packages.is_empty() {
            shared.push(path, What::Packages(packages));
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_by_name_and_parents() {
        let all = Langs::ALL;
        let cases: &[(&[u8], PathKind)] = &[
            (
                b"/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                PathKind::PyMetadata("dist-info"),
            ),
            (
                b"/venv/lib/python3.11/site-packages/idna-3.7.dist-info/RECORD",
                PathKind::PyRecord,
            ),
            (
                b"/usr/lib/python3/dist-packages/foo.egg-info/PKG-INFO",
                PathKind::PyMetadata("egg-info"),
            ),
            (
                b"/usr/lib/python3/dist-packages/bar-1.0.egg-info",
                PathKind::PyMetadata("egg-info"),
            ),
            (
                b"/site-packages/my_pkg-1.0-py3.7.egg/EGG-INFO/PKG-INFO",
                PathKind::PyMetadata("egg-info"),
            ),
            (b"/site-packages/EGG-INFO/PKG-INFO", PathKind::Other),
            (
                b"/app/node_modules/left-pad/package.json",
                PathKind::NpmPackage,
            ),
            (
                b"/app/node_modules/@types/node/package.json",
                PathKind::NpmPackage,
            ),
            (
                b"/app/node_modules/a/node_modules/b/package.json",
                PathKind::NpmPackage,
            ),
            (b"/app/node_modules/a/lib/package.json", PathKind::Other),
            (b"/app/node_modules/.bin/package.json", PathKind::Other),
            (b"/app/package.json", PathKind::Other),
            (b"/app/package-lock.json", PathKind::NpmLock),
            (b"/app/node_modules/x/package-lock.json", PathKind::Other),
            (b"/x/METADATA", PathKind::Other),
        ];
        for (path, want) in cases {
            assert_eq!(
                classify(path, all),
                *want,
                "{}",
                String::from_utf8_lossy(path)
            );
            assert_eq!(classify(path, Langs::NONE), PathKind::Other);
        }
    }
}
