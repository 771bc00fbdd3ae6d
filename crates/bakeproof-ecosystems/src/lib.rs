//! Language-ecosystem packages: Python distributions, npm packages, Go
//! modules in Go binaries, Java archives, Rust crates in cargo-auditable
//! binaries.
//!
//! Each on-disk format has one module with a pure parser of bytes (fuzzed:
//! `fuzz/fuzz_targets/eco_*.rs`). None of them reads a file: the scan's one
//! read of every file feeds [`observer::EcosystemObserver`], a
//! `ContentObserver` that keeps only what a cataloger needs (a metadata
//! file, an archive up to a bound, the bytes after a Go build-info magic)
//! and hands the parsed packages to [`catalog`] after the walk.

pub mod catalog;
mod elf;
pub mod golang;
pub mod java;
pub mod npm;
pub mod observer;
pub mod python;
pub mod rustaudit;
pub mod version;

/// What the unit tests share: a deterministic generator for mutation
/// loops and generated corpora (xorshift64*).
#[cfg(test)]
pub(crate) mod testutil {
    pub(crate) struct Rng(pub(crate) u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        pub(crate) fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }
}

pub use bakeproof_pkgdb::Ecosystem;

/// A file a package lists with what it recorded about it (Python's
/// `RECORD`: path, SHA-256, size).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LangFile {
    /// The path as recorded (for `RECORD`: relative to the directory that
    /// holds the `.dist-info`, may contain `..`). [`catalog`] makes it
    /// absolute inside the root.
    pub path: String,
    /// Lower-case hex SHA-256, when recorded.
    pub sha256: Option<String>,
    /// Size in bytes, when recorded.
    pub size: Option<u64>,
}

/// One package as a cataloger read it from one file.
///
/// Names and versions are as the ecosystem writes them (the purl is built
/// by [`catalog::purl`], with the purl spec's normalisation per type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangPackage {
    /// One of [`Ecosystem::LANGUAGES`].
    pub lang: Ecosystem,
    /// npm scope with its `@` (`@types`), Maven groupId; `None` elsewhere
    /// (a Go module's name is its whole module path).
    pub namespace: Option<String>,
    pub name: String,
    /// Empty when the format gives none (a jar with no version anywhere).
    pub version: String,
    /// Declared licences as written: an SPDX expression
    /// (`License-Expression`, npm `license`), a licence name (`License:`)
    /// or the SPDX id a trove classifier stands for. Normalised to SPDX
    /// later, where they are SPDX.
    pub licenses: Vec<String>,
    pub summary: Option<String>,
    pub homepage: Option<String>,
    pub author: Option<String>,
    /// Names (in the same ecosystem) this package requires, as declared.
    pub depends: Vec<String>,
    /// Files the package lists (Python `RECORD`).
    pub files: Vec<LangFile>,
    /// Digests of the artifact itself as (CycloneDX algorithm name, lower
    /// hex): `("SHA-1", ..)` of a Java archive, as Maven Central indexes it.
    pub hashes: Vec<(String, String)>,
    /// Ecosystem facts, as `(key, value)` with keys under
    /// `bakeproof:package:<lang>:` (Go toolchain and build settings, module
    /// sums, npm `_resolved`/`_integrity`, the archive path inside a jar).
    pub properties: Vec<(String, String)>,
    /// How it was found: `dist-info`, `egg-info`, `node_modules`,
    /// `package-lock`, `go-buildinfo`, `jar`, `cargo-auditable`.
    pub found_by: &'static str,
    /// The main module of a Go binary, the crate a cargo-auditable binary
    /// was built from, the outermost archive: the package the others in
    /// the same file belong to.
    pub primary: bool,
}

/// Why a file gave no package.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    /// Not the format (a `package.json` that is not an object, no build
    /// info after the magic).
    #[error("not {0}")]
    NotFormat(&'static str),
    /// The format, but damaged (the message says where).
    #[error("{format}: {detail}")]
    Malformed {
        format: &'static str,
        detail: String,
    },
    /// A bound was hit (nesting depth, entry size, entry count).
    #[error("{format}: {detail}")]
    TooLarge {
        format: &'static str,
        detail: String,
    },
    /// A variant of the format bakeproof does not read (Go < 1.18 build
    /// info with pointers, a zip64 archive...).
    #[error("{format}: {detail} is not supported")]
    Unsupported {
        format: &'static str,
        detail: String,
    },
}

impl CatalogError {
    #[allow(dead_code)]
    pub(crate) fn malformed(format: &'static str, detail: impl Into<String>) -> CatalogError {
        CatalogError::Malformed {
            format,
            detail: detail.into(),
        }
    }
}

impl LangPackage {
    /// A package of `lang` named `name` at `version`, everything else empty.
    pub fn new(
        lang: Ecosystem,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> LangPackage {
        LangPackage {
            lang,
            namespace: None,
            name: name.into(),
            version: version.into(),
            licenses: Vec::new(),
            summary: None,
            homepage: None,
            author: None,
            depends: Vec::new(),
            files: Vec::new(),
            hashes: Vec::new(),
            properties: Vec::new(),
            found_by: "",
            primary: false,
        }
    }
}
