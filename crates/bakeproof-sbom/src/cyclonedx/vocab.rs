//! The CycloneDX vocabulary bakeproof writes and reads: every `bakeproof:`
//! property name, and the other fixed names of the format (component
//! types, the hash algorithm, the path-encoding marker). The encoder
//! ([`super::write_json`]) and the decoder ([`super::decoder`]) both name
//! them only through these constants, so the two cannot drift apart; the
//! meaning of each is documented in docs/formats.md. Tests keep string
//! literals on purpose: they are the independent oracle.

// ---------------------------------------------------------- fixed names --

/// `bomFormat` of every CycloneDX JSON document.
pub const BOM_FORMAT: &str = "CycloneDX";
/// The hash algorithm of the tree digest and of file digests.
pub const SHA_256: &str = "SHA-256";
/// Value of [`FILE_PATH_ENCODING`] and [`FILE_LINK_TARGET_ENCODING`]: the
/// text is percent-encoded (the bytes are not UTF-8).
pub const PERCENT: &str = "percent";
/// Value of [`SCAN_MODE`] when no file tree was indexed.
pub const PACKAGES_ONLY: &str = "packages-only";
/// Value of [`SBOM_CONTENT`]: the packages of the scan, no file component.
pub const CONTENT_PACKAGES: &str = "packages";
/// Values of boolean properties ([`FILE_UNOWNED`], [`FILE_CONFIG`]).
pub const TRUE: &str = "true";
/// Value of [`FILE_VERIFY`] for a file that matches its package.
pub const VERIFY_OK: &str = "ok";

/// Component type of a file-system entry.
pub const TYPE_FILE: &str = "file";
/// Component type bakeproof gives a package.
pub const TYPE_LIBRARY: &str = "library";
/// Component types that are packages when another tool wrote the SBOM.
pub const PACKAGE_TYPES: &[&str] = &[
    TYPE_LIBRARY,
    "application",
    "framework",
    "platform",
    "device-driver",
    "firmware",
];

// ---------------------------------------------------- image (metadata) --

pub const SOURCE: &str = "bakeproof:source";
pub const TREE_DIGEST: &str = "bakeproof:tree-digest";
pub const TREE_DIGEST_VERSION: &str = "bakeproof:tree-digest-version";
pub const SCAN_MODE: &str = "bakeproof:scan:mode";
/// On the image of the packages-only SBOM of a full scan
/// (`-o cyclonedx-json-packages`): what the document lists of the scan.
pub const SBOM_CONTENT: &str = "bakeproof:sbom:content";
pub const SCAN_ENTRIES: &str = "bakeproof:scan:entries";
pub const SCAN_FILES: &str = "bakeproof:scan:files";
pub const SCAN_DIRECTORIES: &str = "bakeproof:scan:directories";
pub const SCAN_SYMLINKS: &str = "bakeproof:scan:symlinks";
pub const SCAN_SPECIAL: &str = "bakeproof:scan:special";
pub const SCAN_BYTES_HASHED: &str = "bakeproof:scan:bytes-hashed";
pub const SCAN_ERRORS: &str = "bakeproof:scan:errors";
pub const SCAN_SKIPPED_DIRECTORIES: &str = "bakeproof:scan:skipped-directories";
pub const SCAN_PACKAGES: &str = "bakeproof:scan:packages";
pub const SCAN_OWNED_ENTRIES: &str = "bakeproof:scan:owned-entries";
pub const SCAN_UNOWNED_ENTRIES: &str = "bakeproof:scan:unowned-entries";
pub const SCAN_UNOWNED_FILES: &str = "bakeproof:scan:unowned-files";
pub const SCAN_MODIFIED: &str = "bakeproof:scan:modified";
pub const SCAN_MISSING: &str = "bakeproof:scan:missing";
pub const SCAN_UNVERIFIABLE: &str = "bakeproof:scan:unverifiable";
pub const PACKAGE_DB: &str = "bakeproof:package-db";
pub const PACKAGE_DB_ERROR: &str = "bakeproof:package-db:error";
pub const PACKAGE_DB_WARNING: &str = "bakeproof:package-db:warning";

// ------------------------------------------------------------------ os --

pub const OS_NAME: &str = "bakeproof:os:name";
pub const OS_VERSION_CODENAME: &str = "bakeproof:os:version-codename";
pub const OS_ID_LIKE: &str = "bakeproof:os:id-like";
pub const OS_CPE_NAME: &str = "bakeproof:os:cpe-name";

// ------------------------------------------------------------- package --

/// Prefix of every package property; database-specific raw values follow
/// it (`bakeproof:package:rpm:sigmd5`, ...).
pub const PACKAGE_PREFIX: &str = "bakeproof:package:";
pub const PACKAGE_TYPE: &str = "bakeproof:package:type";
pub const PACKAGE_ARCH: &str = "bakeproof:package:arch";
pub const PACKAGE_EPOCH: &str = "bakeproof:package:epoch";
pub const PACKAGE_SOURCE_NAME: &str = "bakeproof:package:source-name";
pub const PACKAGE_SOURCE_VERSION: &str = "bakeproof:package:source-version";
pub const PACKAGE_INSTALLED_SIZE: &str = "bakeproof:package:installed-size";
pub const PACKAGE_MULTI_ARCH: &str = "bakeproof:package:multi-arch";
pub const PACKAGE_STATUS: &str = "bakeproof:package:status";
pub const PACKAGE_HOMEPAGE: &str = "bakeproof:package:homepage";
/// A language package's ecosystem (`python`, `npm`, `go`, `java`,
/// `rust`); absent on dpkg and rpm packages.
pub const PACKAGE_ECOSYSTEM: &str = "bakeproof:package:ecosystem";
/// A file a language package was found in (its `METADATA`, `package.json`,
/// archive or binary; also `evidence.occurrences`), one property per file.
pub const PACKAGE_LOCATION: &str = "bakeproof:package:location";
/// The bom-ref of the dpkg or rpm package that owns the file a language
/// package was found in (that package also `dependsOn` it).
pub const PACKAGE_OS_PACKAGE: &str = "bakeproof:package:os-package";
/// How a language package was found (`dist-info`, `egg-info`,
/// `node_modules`, `package-lock`, `go-buildinfo`, `jar`,
/// `cargo-auditable`).
pub const PACKAGE_FOUND_BY: &str = "bakeproof:package:found-by";
/// `true` on the package a file is (a Go binary's main module, the outer
/// archive, a Rust binary's root crate), beside those it contains.
pub const PACKAGE_PRIMARY: &str = "bakeproof:package:primary";
/// A licence text exactly as the package database gives it (a DEP-5
/// `License:` name, the rpm `LICENSE` tag), one property per text, whatever
/// `licenses` made of it (SPDX id, expression or name).
pub const PACKAGE_LICENSE: &str = "bakeproof:package:license";
pub const PACKAGE_FILES: &str = "bakeproof:package:files";
pub const PACKAGE_VERIFIED_FILES: &str = "bakeproof:package:verified-files";
pub const PACKAGE_MODIFIED: &str = "bakeproof:package:modified";
pub const PACKAGE_MISSING: &str = "bakeproof:package:missing";
/// The rpm header's SHA-256 (`rpm:sha256header` raw value).
pub const PACKAGE_RPM_SHA256HEADER: &str = "bakeproof:package:rpm:sha256header";
/// The rpm header+payload MD5 (`rpm:sigmd5` raw value).
pub const PACKAGE_RPM_SIGMD5: &str = "bakeproof:package:rpm:sigmd5";

/// trivy's names for the source package of an OS package
/// (`pkg/sbom/core/bom.go`, read by `trivy sbom`): the source name, its
/// version without epoch and release/revision, the release (rpm) or
/// revision (deb), and the epoch (omitted when 0, as trivy omits it).
pub const TRIVY_SRC_NAME: &str = "aquasecurity:trivy:SrcName";
pub const TRIVY_SRC_VERSION: &str = "aquasecurity:trivy:SrcVersion";
pub const TRIVY_SRC_RELEASE: &str = "aquasecurity:trivy:SrcRelease";
pub const TRIVY_SRC_EPOCH: &str = "aquasecurity:trivy:SrcEpoch";

/// syft's names for what [`PACKAGE_ARCH`] and [`PACKAGE_EPOCH`] say, read
/// from syft's SBOMs.
pub const SYFT_ARCHITECTURE: &str = "syft:metadata:architecture";
pub const SYFT_EPOCH: &str = "syft:metadata:epoch";

// ---------------------------------------------------------------- file --

pub const FILE_TYPE: &str = "bakeproof:file:type";
pub const FILE_PATH_ENCODING: &str = "bakeproof:file:path-encoding";
pub const FILE_MODE: &str = "bakeproof:file:mode";
pub const FILE_UID: &str = "bakeproof:file:uid";
pub const FILE_GID: &str = "bakeproof:file:gid";
pub const FILE_MTIME: &str = "bakeproof:file:mtime";
pub const FILE_SIZE: &str = "bakeproof:file:size";
pub const FILE_NLINK: &str = "bakeproof:file:nlink";
pub const FILE_CAPABILITIES: &str = "bakeproof:file:capabilities";
pub const FILE_LINK_TARGET: &str = "bakeproof:file:link-target";
pub const FILE_LINK_TARGET_ENCODING: &str = "bakeproof:file:link-target-encoding";
pub const FILE_RDEV: &str = "bakeproof:file:rdev";
pub const FILE_UNOWNED: &str = "bakeproof:file:unowned";
pub const FILE_PACKAGE: &str = "bakeproof:file:package";
pub const FILE_LISTED_AS: &str = "bakeproof:file:listed-as";
pub const FILE_VERIFY: &str = "bakeproof:file:verify";
pub const FILE_VERIFY_DETAIL: &str = "bakeproof:file:verify-detail";
pub const FILE_CONFIG: &str = "bakeproof:file:config";
pub const FILE_ERROR: &str = "bakeproof:file:error";
pub const FILE_SKIPPED: &str = "bakeproof:file:skipped";

/// bom-ref prefix of a file component whose path is UTF-8.
pub const FILE_REF_PREFIX: &str = "file:";
/// bom-ref prefix of a file component whose path is percent-encoded.
pub const FILE_PCT_REF_PREFIX: &str = "file-pct:";
