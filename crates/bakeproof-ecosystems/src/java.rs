//! Java archives (`.jar`, `.war`, `.ear`, ...): `META-INF/maven/**/pom.properties`,
//! `META-INF/MANIFEST.MF`, nested archives (bounded depth and size); the
//! SHA-1 of each archive as Maven Central indexes it.
//!
//! # Which package an archive is
//!
//! An archive's own package takes its identity from, in order:
//!
//! 1. its `META-INF/maven/<groupId>/<artifactId>/pom.properties`, when one
//!    of them can be told apart as the archive's own (below);
//! 2. the manifest's main section: the name from `Implementation-Title`,
//!    `Bundle-SymbolicName` (without its `;` directives), `Bundle-Name` or
//!    `Specification-Title`, the version from `Implementation-Version`,
//!    `Bundle-Version` or `Specification-Version`, the first present of
//!    each; a name other than letters, digits, `-` and `_` is a display
//!    name ("Apache Commons Lang"), a Java package (`com.google.inject`)
//!    or an unexpanded `${project.artifactId}`, not an artifactId, and is
//!    passed over;
//! 3. the file name: `commons-lang3-3.12.0.jar` is `commons-lang3` at
//!    `3.12.0` (the version starts at the first `-` followed by a digit,
//!    else at the first `_` followed by a digit).
//!
//! A pom.properties (with an artifactId and a version, as syft requires) is
//! the archive's own when, among all of them:
//!
//! * exactly one has the file name's name as its artifactId
//!   (`guava-31.1-jre.jar` and `com.google.guava/guava`), else
//! * exactly one matches as syft 1.18.1's fallback does (the artifactId
//!   starts with the file name's name, or the name ends with the
//!   artifactId: `foo-bar.jar` and `bar`), else
//! * exactly one matches the manifest (`Bundle-SymbolicName` is the
//!   artifactId or ends with `.artifactId`, or `Implementation-Title`,
//!   `Bundle-Name` or `Specification-Title` in lower case with `-` for
//!   spaces is it: "Maven Core" and `maven-core`), else
//! * exactly one shares more name words (lower case, split at
//!   punctuation, trailing digits dropped) with the file name and the
//!   manifest's titles than any other, at least half of its own words,
//!   and its version is the file name's or the file name has none:
//!   Debian's `maven3-core.jar` is `maven-core`, `cdi-api-debian.jar` is
//!   `cdi-api`; `guice.jar`, whose one pom.properties is the shaded
//!   `cglib`, is not `cglib`, nor is `tool-7.1.jar` the `gson` 2.10 it
//!   bundles.
//!
//! syft (1.18.1, `discoverMainPackageFromPomInfo`) takes the *last* match
//! of its name rule in path order and no rule when several match; picking
//! only a unique match means an ambiguous fat jar keeps its manifest's or
//! file name's identity and lists every pom.properties as a package of its
//! own. Every pom.properties that is not the archive's own becomes a
//! further package (shaded and bundled artifacts); one with the same
//! groupId, artifactId and version as the archive's own is the same
//! package and is not repeated.
//!
//! # Bounds
//!
//! Entries are inflated through `Read::take` (the sizes in the headers are
//! not trusted): a manifest up to [`MAX_MANIFEST`], a pom.properties up to
//! [`MAX_POM_PROPERTIES`], a nested archive up to [`Limits::max_nested`],
//! all of them together up to [`Limits::max_inflated`] per call (a zip
//! whose entries overlap inflates the same bytes over and over). A nested
//! archive that is over a bound, too deep or unreadable is skipped and
//! named in a `bakeproof:package:java:skipped` property of the archive
//! holding it; the outer archive's own errors are the call's error.

use std::io::{Cursor, Read, Seek, SeekFrom};

use sha1::{Digest, Sha1};
use zip::ZipArchive;
use zip::result::ZipError;

use crate::{CatalogError, Ecosystem, LangPackage};

/// Largest archive the observer buffers for [`parse_archive`]; larger ones
/// are read again after the walk (see `observer`).
pub const MAX_ARCHIVE: u64 = 64 << 20;

/// Largest `META-INF/MANIFEST.MF` read.
pub const MAX_MANIFEST: u64 = 1 << 20;

/// Largest `pom.properties` read.
pub const MAX_POM_PROPERTIES: u64 = 64 << 10;

/// Property: where a nested archive sits, `outer.war:WEB-INF/lib/inner.jar`
/// (one `:` per level, as syft's virtual paths).
pub const PROP_ARCHIVE_PATH: &str = "bakeproof:package:java:archive-path";
/// Property: the pom.properties a package was read from, inside its archive.
pub const PROP_POM_PROPERTIES: &str = "bakeproof:package:java:pom-properties";
/// Property: where the name and version came from: `pom.properties`,
/// `manifest` or `file-name`.
pub const PROP_IDENTITY: &str = "bakeproof:package:java:identity-from";
/// Property: a nested archive that was not read, and why.
pub const PROP_SKIPPED: &str = "bakeproof:package:java:skipped";

const FORMAT: &str = "java archive";
const FOUND_BY: &str = "jar";

/// Bounds for nested archives.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Archives inside archives, counting the outer one as depth 1.
    pub max_depth: usize,
    /// Largest nested archive inflated into memory.
    pub max_nested: u64,
    /// Most entries read from one archive.
    pub max_entries: usize,
    /// Most bytes inflated by one [`parse_archive`] call, all entries of
    /// all nesting levels together.
    pub max_inflated: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_nested: 64 << 20,
            max_entries: 100_000,
            max_inflated: 1 << 30,
        }
    }
}

/// The extensions of syft 1.18.1's `archiveFormatGlobs`
/// (`syft/pkg/cataloger/java/archive_parser.go`), matched as its globs
/// match: case-sensitively, so `FOO.JAR` is not one. `.rar` (a JCA
/// resource adapter) is not in syft's list, and most `.rar` files are RAR
/// archives, not zips: left out.
const EXTENSIONS: &[&[u8]] = &[
    b".jar", b".war", b".ear", b".par", b".sar", b".nar", b".jpi", b".hpi", b".kar", b".lpkg",
];

/// Whether a file name is a Java archive by its extension.
pub fn is_archive_name(name: &[u8]) -> bool {
    EXTENSIONS
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// The packages of an archive named `file_name` (for the name and version
/// when neither pom.properties nor the manifest gives them) with content
/// `bytes`: the archive itself first (`primary`, with its SHA-1), then
/// every nested archive's and every further pom.properties' package.
pub fn parse_archive(
    file_name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<LangPackage>, CatalogError> {
    let sha1 = hex::encode(Sha1::digest(bytes));
    parse_archive_from(file_name, Cursor::new(bytes), sha1, limits)
}

/// [`parse_archive`] of an archive read through `reader` (a large archive
/// read again in ranges after the walk: only its central directory and the
/// entries wanted are read, each bounded by `limits`), whose SHA-1 the
/// caller computed while the walk streamed it (`sha1`, lower hex).
pub fn parse_archive_from<R: Read + Seek>(
    file_name: &str,
    reader: R,
    sha1: String,
    limits: &Limits,
) -> Result<Vec<LangPackage>, CatalogError> {
    let mut ctx = Ctx {
        limits,
        inflated: 0,
    };
    let mut out = Vec::new();
    parse_one(&mut ctx, file_name, None, reader, sha1, 1, &mut out)?;
    if let Some(first) = out.first_mut() {
        first.primary = true;
    }
    Ok(out)
}

struct Ctx<'a> {
    limits: &'a Limits,
    /// Bytes inflated so far by this call.
    inflated: u64,
}

/// One pom.properties.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PomProperties {
    path: String,
    group_id: String,
    artifact_id: String,
    version: String,
}

/// Why an entry was not read.
enum EntryError {
    /// Over the entry's bound or the call's budget.
    TooLarge(String),
    Zip(ZipError),
}

impl EntryError {
    fn into_catalog(self, what: &str) -> CatalogError {
        match self {
            EntryError::TooLarge(detail) => CatalogError::TooLarge {
                format: FORMAT,
                detail: format!("{what}: {detail}"),
            },
            EntryError::Zip(e) => zip_error(what, e),
        }
    }
}

fn zip_error(what: &str, e: ZipError) -> CatalogError {
    match e {
        ZipError::UnsupportedArchive(msg) => CatalogError::Unsupported {
            format: FORMAT,
            detail: format!("{what}: {msg}"),
        },
        ZipError::CompressionMethodNotSupported(m) => CatalogError::Unsupported {
            format: FORMAT,
            detail: format!("{what}: compression method {m}"),
        },
        ZipError::InvalidPassword => CatalogError::Unsupported {
            format: FORMAT,
            detail: format!("{what}: encrypted entry"),
        },
        other => CatalogError::malformed(FORMAT, format!("{what}: {other}")),
    }
}

/// Inflates entry `index` up to `limit` bytes (and the call's budget),
/// counting what it inflates.
fn read_entry<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    zip: &mut ZipArchive<R>,
    index: usize,
    limit: u64,
) -> Result<Vec<u8>, EntryError> {
    let mut file = zip.by_index(index).map_err(EntryError::Zip)?;
    if file.encrypted() {
        return Err(EntryError::Zip(ZipError::InvalidPassword));
    }
    let budget = ctx.limits.max_inflated.saturating_sub(ctx.inflated);
    let declared = file.size();
    if declared > limit {
        return Err(EntryError::TooLarge(format!(
            "{declared} bytes, more than {limit}"
        )));
    }
    let cap = limit.min(budget);
    // The declared size only sizes the first allocation (it is at most the
    // limit); what counts is what inflates.
    let mut buf = Vec::with_capacity(usize::try_from(declared.min(cap)).unwrap_or(0));
    let read = (&mut file)
        .take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| EntryError::Zip(ZipError::Io(e)));
    ctx.inflated = ctx.inflated.saturating_add(buf.len() as u64);
    read?;
    if buf.len() as u64 > cap {
        return Err(EntryError::TooLarge(if cap < limit {
            format!(
                "the {} bytes inflated from this file are spent",
                ctx.limits.max_inflated
            )
        } else {
            format!("inflates to more than {limit} bytes")
        }));
    }
    Ok(buf)
}

/// Reads one archive (at nesting `depth`) and appends its package, its
/// further pom.properties' and its nested archives' packages to `out`.
/// Fails, appending nothing, when the archive itself cannot be read.
fn parse_one<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    file_name: &str,
    archive_path: Option<&str>,
    mut reader: R,
    sha1: String,
    depth: usize,
    out: &mut Vec<LangPackage>,
) -> Result<(), CatalogError> {
    let mut zip = match ZipArchive::new(&mut reader) {
        Ok(z) => z,
        Err(e) => {
            return Err(if looks_like_zip(&mut reader) {
                zip_error("central directory", e)
            } else {
                CatalogError::NotFormat(FORMAT)
            });
        }
    };
    if zip.len() > ctx.limits.max_entries {
        return Err(CatalogError::TooLarge {
            format: FORMAT,
            detail: format!(
                "{} entries, more than {}",
                zip.len(),
                ctx.limits.max_entries
            ),
        });
    }

    // Classify by name first: only the few entries wanted are inflated.
    let mut manifest_exact = None;
    let mut manifest_any_case = None;
    let mut poms: Vec<(usize, String)> = Vec::new();
    let mut nested: Vec<(usize, String)> = Vec::new();
    for i in 0..zip.len() {
        let name = match zip.name_for_index(i) {
            Some(Ok(n)) => n.into_owned(),
            Some(Err(e)) => return Err(zip_error("entry name", e)),
            None => continue,
        };
        if name == "META-INF/MANIFEST.MF" {
            manifest_exact.get_or_insert(i);
        } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            manifest_any_case.get_or_insert(i);
        } else if is_pom_properties_path(&name) {
            poms.push((i, name));
        } else if !name.ends_with('/') && is_archive_name(base_name(&name).as_bytes()) {
            nested.push((i, name));
        }
    }
    // The central directory's order is the writer's; sorted, the output
    // does not depend on it.
    poms.sort_by(|a, b| a.1.cmp(&b.1));
    nested.sort_by(|a, b| a.1.cmp(&b.1));

    let manifest = match manifest_exact.or(manifest_any_case) {
        Some(i) => {
            let raw = read_entry(ctx, &mut zip, i, MAX_MANIFEST)
                .map_err(|e| e.into_catalog("META-INF/MANIFEST.MF"))?;
            Manifest::parse(&raw)
        }
        None => Manifest::default(),
    };
    let mut pom_list = Vec::new();
    for (i, path) in &poms {
        let raw =
            read_entry(ctx, &mut zip, *i, MAX_POM_PROPERTIES).map_err(|e| e.into_catalog(path))?;
        if let Some(p) = PomProperties::parse(path, &raw) {
            pom_list.push(p);
        }
    }

    let file = FileName::parse(file_name);
    let own = own_pom(&pom_list, &file, &manifest);
    let mut main = LangPackage::new(Ecosystem::Maven, "", "");
    main.found_by = FOUND_BY;
    let identity = match own {
        Some(i) => {
            let p = &pom_list[i];
            main.name = p.artifact_id.clone();
            main.version = p.version.clone();
            main.namespace = non_empty(&p.group_id);
            main.properties
                .push((PROP_POM_PROPERTIES.into(), p.path.clone()));
            "pom.properties"
        }
        None => {
            let (name, version) = manifest.name_version();
            let from_manifest = name.is_some() || version.is_some();
            main.name = name.unwrap_or_else(|| file.name.clone());
            main.version = version.unwrap_or_else(|| file.version.clone());
            main.namespace = manifest.group_id();
            if from_manifest {
                "manifest"
            } else {
                "file-name"
            }
        }
    };
    if main.name.is_empty() {
        main.name = file_name.to_owned();
    }
    main.properties
        .push((PROP_IDENTITY.into(), identity.into()));
    main.licenses = manifest.licenses();
    main.summary = manifest.get("Bundle-Description").map(str::to_owned);
    main.homepage = manifest.get("Bundle-DocURL").map(str::to_owned);
    main.hashes.push(("SHA-1".into(), sha1));
    if let Some(path) = archive_path {
        main.properties
            .push((PROP_ARCHIVE_PATH.into(), path.into()));
    }
    let me = out.len();
    out.push(main);

    for (i, p) in pom_list.iter().enumerate() {
        if Some(i) == own {
            continue;
        }
        let m = &out[me];
        if m.name == p.artifact_id
            && m.version == p.version
            && m.namespace.as_deref().unwrap_or("") == p.group_id
        {
            continue;
        }
        let mut pkg = LangPackage::new(Ecosystem::Maven, &p.artifact_id, &p.version);
        pkg.namespace = non_empty(&p.group_id);
        pkg.found_by = FOUND_BY;
        pkg.properties
            .push((PROP_POM_PROPERTIES.into(), p.path.clone()));
        pkg.properties
            .push((PROP_IDENTITY.into(), "pom.properties".into()));
        if let Some(path) = archive_path {
            pkg.properties.push((PROP_ARCHIVE_PATH.into(), path.into()));
        }
        out.push(pkg);
    }

    let here = archive_path.unwrap_or(file_name);
    let mut skipped = Vec::new();
    for (i, name) in &nested {
        let inner_path = format!("{here}:{name}");
        if depth >= ctx.limits.max_depth {
            skipped.push(format!(
                "{name}: nested deeper than {} archives",
                ctx.limits.max_depth
            ));
            continue;
        }
        let inner = match read_entry(ctx, &mut zip, *i, ctx.limits.max_nested) {
            Ok(b) => b,
            Err(e) => {
                skipped.push(format!("{name}: {}", e.into_catalog("nested archive")));
                continue;
            }
        };
        let inner_sha1 = hex::encode(Sha1::digest(&inner));
        if let Err(e) = parse_one(
            ctx,
            base_name(name),
            Some(&inner_path),
            Cursor::new(&inner[..]),
            inner_sha1,
            depth + 1,
            out,
        ) {
            skipped.push(format!("{name}: {e}"));
        }
    }
    out[me]
        .properties
        .extend(skipped.into_iter().map(|s| (PROP_SKIPPED.to_owned(), s)));
    Ok(())
}

/// Whether a file that failed to open as a zip is a damaged one (it starts
/// with a local header, or the end of central directory record's
/// signature is where a zip has it: in the last 64 KiB + 22 bytes) rather
/// than no zip at all.
fn looks_like_zip<R: Read + Seek>(r: &mut R) -> bool {
    const TAIL: u64 = (64 << 10) + 22;
    let mut head = [0u8; 4];
    let starts = r.seek(SeekFrom::Start(0)).is_ok()
        && r.read_exact(&mut head).is_ok()
        && &head == b"PK\x03\x04";
    let mut tail = Vec::new();
    let ends = r
        .seek(SeekFrom::End(0))
        .and_then(|len| r.seek(SeekFrom::Start(len.saturating_sub(TAIL))))
        .and_then(|_| r.by_ref().take(TAIL).read_to_end(&mut tail))
        .is_ok()
        && tail.windows(4).any(|w| w == b"PK\x05\x06");
    starts || ends
}

/// `META-INF/maven/<groupId>/<artifactId>/pom.properties`.
fn is_pom_properties_path(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    matches!(parts.as_slice(), ["META-INF", "maven", g, a, "pom.properties"] if !g.is_empty() && !a.is_empty())
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Which of `poms` is the archive's own (see the module's documentation).
fn own_pom(poms: &[PomProperties], file: &FileName, manifest: &Manifest) -> Option<usize> {
    let unique = |pred: &dyn Fn(&PomProperties) -> bool| -> Option<usize> {
        let mut hits = poms.iter().enumerate().filter(|(_, p)| pred(p));
        match (hits.next(), hits.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    };
    let name = file.name.as_str();
    if !name.is_empty() {
        if poms.iter().any(|p| p.artifact_id == name) {
            // An exact match exists: only exact matches count (as syft).
            return unique(&|p| p.artifact_id == name);
        }
        if let Some(i) =
            unique(&|p| p.artifact_id.starts_with(name) || name.ends_with(&p.artifact_id))
        {
            return Some(i);
        }
    }
    // The manifest names the artifact: its symbolic name is the artifactId
    // or ends with `.artifactId`, or a title spelled as words is it
    // ("Maven Core" for maven-core).
    let symbolic = manifest.get("Bundle-SymbolicName").map(strip_directives);
    let titles: Vec<String> = ["Implementation-Title", "Bundle-Name", "Specification-Title"]
        .iter()
        .filter_map(|k| manifest.get(k))
        .map(|t| {
            t.to_ascii_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    if let Some(i) = unique(&|p| {
        symbolic.is_some_and(|s| {
            s == p.artifact_id
                || s.strip_suffix(p.artifact_id.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        }) || titles
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&p.artifact_id))
    }) {
        return Some(i);
    }
    // Last, the most name words shared with the file name and the
    // manifest's titles, when one pom.properties has more than all others
    // and its version does not contradict the file name's: Debian's
    // `maven3-core.jar` is `maven-core`, but `guice.jar`'s one
    // pom.properties (`cglib`, shaded) shares no word with it and is not
    // its own. Without a shared word nothing is picked: a renamed archive
    // keeps its manifest's or file name's identity.
    let mut words = name_words(name);
    for t in &titles {
        words.extend(name_words(t));
    }
    let scores: Vec<usize> = poms
        .iter()
        .map(|p| {
            let own = name_words(&p.artifact_id);
            let shared = own.iter().filter(|w| words.contains(w)).count();
            let version_ok = file.version.is_empty() || file.version == p.version;
            if version_ok && 2 * shared >= own.len() {
                shared
            } else {
                0
            }
        })
        .collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return None;
    }
    let mut at = scores.iter().enumerate().filter(|(_, s)| **s == best);
    match (at.next(), at.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The words of a name: lower case, split at anything not a letter or a
/// digit, trailing digits dropped (`maven3` is `maven`), numbers dropped.
fn name_words(s: &str) -> Vec<String> {
    s.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `org.example.foo;singleton:=true` → `org.example.foo`.
fn strip_directives(s: &str) -> &str {
    s.split(';').next().unwrap_or(s).trim()
}

impl PomProperties {
    /// The three coordinates of a Java properties file; `None` without an
    /// artifactId or a version (syft skips those too).
    fn parse(path: &str, raw: &[u8]) -> Option<PomProperties> {
        let mut p = PomProperties {
            path: path.to_owned(),
            group_id: String::new(),
            artifact_id: String::new(),
            version: String::new(),
        };
        for (k, v) in parse_properties(&String::from_utf8_lossy(raw)) {
            match k.as_str() {
                "groupId" => p.group_id = v,
                "artifactId" => p.artifact_id = v,
                "version" => p.version = v,
                _ => {}
            }
        }
        (!p.artifact_id.is_empty() && !p.version.is_empty()).then_some(p)
    }
}

/// `java.util.Properties` text: `#`/`!` comments, `=`, `:` or white space
/// between key and value, a trailing `\` continues the line, `\` escapes
/// (`\uXXXX`, `\t`, `\n`, ...). Later keys win, as in Java.
fn parse_properties(text: &str) -> Vec<(String, String)> {
    let ws = [' ', '\t', '\x0c'];
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let line = first.trim_start_matches(ws);
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        let (mut body, mut more) = strip_continuation(line);
        loop {
            logical.push_str(body);
            if !more {
                break;
            }
            // A continuation line's leading white space is not part of it.
            match lines.next() {
                Some(n) => (body, more) = strip_continuation(n.trim_start_matches(ws)),
                None => break,
            }
        }
        let (k, v) = split_property(&logical);
        out.retain(|(old, _)| *old != k);
        out.push((k, v));
    }
    out
}

/// A line ending in an odd number of `\` continues on the next.
fn strip_continuation(line: &str) -> (&str, bool) {
    let slashes = line.bytes().rev().take_while(|&b| b == b'\\').count();
    if slashes % 2 == 1 {
        (&line[..line.len() - 1], true)
    } else {
        (line, false)
    }
}

fn split_property(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars();
    let mut rest = "";
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(e) = chars.next() {
                    push_escape(&mut key, e, &mut chars);
                }
            }
            '=' | ':' => {
                rest = chars.as_str();
                break;
            }
            ' ' | '\t' | '\x0c' => {
                // White space ends the key; one `=` or `:` after it still
                // belongs to the separator.
                let r = chars.as_str().trim_start_matches([' ', '\t', '\x0c']);
                rest = r.strip_prefix(['=', ':']).unwrap_or(r);
                break;
            }
            c => key.push(c),
        }
    }
    let rest = rest.trim_start_matches([' ', '\t', '\x0c']);
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(e) = chars.next() {
                push_escape(&mut value, e, &mut chars);
            }
        } else {
            value.push(c);
        }
    }
    (key, value.trim_end().to_owned())
}

fn push_escape(out: &mut String, e: char, chars: &mut std::str::Chars<'_>) {
    match e {
        't' => out.push('\t'),
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        'f' => out.push('\x0c'),
        'u' => {
            let hex: String = chars.by_ref().take(4).collect();
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => out.push(char::REPLACEMENT_CHARACTER),
            }
        }
        other => out.push(other),
    }
}

/// The main section of a manifest.
#[derive(Debug, Default)]
struct Manifest {
    main: Vec<(String, String)>,
}

impl Manifest {
    /// The JAR manifest format: `Name: value` lines, a line starting with
    /// one space continues the previous one (that space dropped), the
    /// main section ends at the first empty line.
    fn parse(raw: &[u8]) -> Manifest {
        let text = String::from_utf8_lossy(raw);
        let mut main: Vec<(String, String)> = Vec::new();
        let mut continuable = false;
        for line in text.split("\r\n").flat_map(|l| l.split(['\n', '\r'])) {
            if line.is_empty() {
                break;
            }
            if let Some(more) = line.strip_prefix(' ') {
                if continuable && let Some((_, v)) = main.last_mut() {
                    v.push_str(more);
                }
                continue;
            }
            match line.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() => {
                    main.push((k.trim().to_owned(), v.trim_start().to_owned()));
                    continuable = true;
                }
                // Not an attribute: what follows cannot continue it.
                _ => continuable = false,
            }
        }
        for (_, v) in &mut main {
            let t = v.trim_end();
            v.truncate(t.len());
        }
        Manifest { main }
    }

    /// A main attribute, by name case-insensitively (as the JAR spec has
    /// it); an empty value is none.
    fn get(&self, key: &str) -> Option<&str> {
        self.main
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn name_version(&self) -> (Option<String>, Option<String>) {
        // A dotted name (`com.google.inject.assistedinject`) is a Java
        // package, not an artifactId: the file name (`guice-assistedinject`)
        // is closer to what Maven calls it.
        let name = [
            "Implementation-Title",
            "Bundle-SymbolicName",
            "Bundle-Name",
            "Specification-Title",
        ]
        .iter()
        .filter_map(|k| self.get(k))
        .map(strip_directives)
        .find(|v| is_artifact_name(v))
        .map(str::to_owned);
        let version = [
            "Implementation-Version",
            "Bundle-Version",
            "Specification-Version",
        ]
        .iter()
        .filter_map(|k| self.get(k))
        .find(|v| !v.contains(char::is_whitespace))
        .map(str::to_owned);
        (name, version)
    }

    /// `Implementation-Vendor-Id` is the groupId in what Maven's archiver
    /// writes (`addDefaultImplementationEntries`).
    fn group_id(&self) -> Option<String> {
        self.get("Implementation-Vendor-Id")
            .filter(|v| !v.contains(char::is_whitespace))
            .map(str::to_owned)
    }

    /// `Bundle-License` (OSGi: `name;link=...`, comma-separated), kept
    /// where it names a licence: a bare URL is dropped (it is a pointer,
    /// not a name), an SPDX-like id list is split, anything else is kept
    /// whole as a licence name.
    fn licenses(&self) -> Vec<String> {
        let Some(v) = self.get("Bundle-License") else {
            return Vec::new();
        };
        let ids: Vec<&str> = v.split(',').map(|p| strip_directives(p.trim())).collect();
        if ids
            .iter()
            .all(|id| !id.is_empty() && !id.contains(char::is_whitespace))
        {
            return ids
                .into_iter()
                .filter_map(|id| {
                    if id.contains("://") {
                        license_of_url(id).map(str::to_owned)
                    } else {
                        Some(id.to_owned())
                    }
                })
                .collect();
        }
        let name = strip_directives(v);
        if name.is_empty() || name.contains("://") {
            return Vec::new();
        }
        vec![name.to_owned()]
    }
}

/// The SPDX id of a licence URL manifests write in `Bundle-License`, when
/// the URL is one licence's canonical text (the Apache, Eclipse, GNU,
/// Mozilla and OSI pages); other URLs name no licence bakeproof can vouch
/// for and give `None`.
fn license_of_url(url: &str) -> Option<&'static str> {
    let u = url.trim().to_ascii_lowercase();
    let u = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))?;
    let u = u.strip_prefix("www.").unwrap_or(u);
    let u = u.trim_end_matches('/');
    let u = [".txt", ".html", ".php"]
        .iter()
        .find_map(|x| u.strip_suffix(x))
        .unwrap_or(u);
    Some(match u {
        "apache.org/licenses/license-2.0" => "Apache-2.0",
        "opensource.org/licenses/mit" | "opensource.org/licenses/mit-license" => "MIT",
        "opensource.org/licenses/bsd-3-clause" => "BSD-3-Clause",
        "opensource.org/licenses/bsd-2-clause" => "BSD-2-Clause",
        "eclipse.org/legal/epl-v10" => "EPL-1.0",
        "eclipse.org/legal/epl-2.0" | "eclipse.org/legal/epl-v20" => "EPL-2.0",
        "eclipse.org/org/documents/edl-v10" => "BSD-3-Clause",
        "mozilla.org/mpl/2.0" => "MPL-2.0",
        "gnu.org/licenses/lgpl-2.1" => "LGPL-2.1-only",
        "gnu.org/licenses/lgpl-3.0" | "gnu.org/licenses/lgpl" => "LGPL-3.0-only",
        "gnu.org/licenses/gpl-2.0" => "GPL-2.0-only",
        "gnu.org/licenses/gpl-3.0" => "GPL-3.0-only",
        _ => return None,
    })
}

/// What Maven allows in an artifactId (`[A-Za-z0-9_-.]`), without the
/// dot: a manifest value outside it is a display name, a Java package or
/// an unexpanded `${project.artifactId}`.
fn is_artifact_name(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The name and version a file name gives.
#[derive(Debug, Default, PartialEq, Eq)]
struct FileName {
    name: String,
    version: String,
}

impl FileName {
    fn parse(file_name: &str) -> FileName {
        let base = base_name(file_name);
        let stem = match base.rfind('.') {
            Some(i) if i > 0 => &base[..i],
            _ => base,
        };
        let split_at = |sep: u8| {
            stem.as_bytes()
                .windows(2)
                .position(|w| w[0] == sep && w[1].is_ascii_digit())
                .filter(|&i| i > 0)
        };
        match split_at(b'-').or_else(|| split_at(b'_')) {
            Some(i) => FileName {
                name: stem[..i].to_owned(),
                version: stem[i + 1..].to_owned(),
            },
            None => FileName {
                name: stem.to_owned(),
                version: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_with(entries: &[(&str, &[u8])], method: CompressionMethod, large: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(large);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        zip_with(entries, CompressionMethod::Deflated, false)
    }

    fn pom(g: &str, a: &str, v: &str) -> Vec<u8> {
        format!("#Generated by Maven\ngroupId={g}\nartifactId={a}\nversion={v}\n").into_bytes()
    }

    fn prop<'a>(p: &'a LangPackage, key: &str) -> Vec<&'a str> {
        p.properties
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn sha1_hex(b: &[u8]) -> String {
        hex::encode(Sha1::digest(b))
    }

    #[test]
    fn archive_names_are_syfts_globs() {
        for n in [
            "a.jar", "a.war", "a.ear", "a.par", "a.sar", "a.nar", "a.jpi", "a.hpi", "a.kar",
            "a.lpkg",
        ] {
            assert!(is_archive_name(n.as_bytes()), "{n}");
        }
        for n in [
            "a.JAR",
            "a.rar",
            "a.zip",
            "jar",
            ".jar",
            "a.jar.sig",
            "a.lpk",
        ] {
            assert!(!is_archive_name(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn the_observer_sends_archives_here() {
        use crate::observer::{Langs, PathKind, What, classify, parse_buffered};
        let java_only = Langs {
            java: true,
            ..Langs::NONE
        };
        for path in [
            &b"/usr/share/java/guava.jar"[..],
            b"/opt/app/webapps/ROOT.war",
            b"/var/lib/jenkins/plugins/git.hpi",
        ] {
            assert_eq!(classify(path, java_only), PathKind::JavaArchive);
            assert_eq!(classify(path, Langs::NONE), PathKind::Other);
        }
        assert_eq!(classify(b"/x/y.JAR", java_only), PathKind::Other);
        let bytes = jar(&[(
            "META-INF/maven/com.google.guava/guava/pom.properties",
            &pom("com.google.guava", "guava", "31.1-jre"),
        )]);
        match parse_buffered(PathKind::JavaArchive, b"/usr/share/java/guava.jar", &bytes) {
            What::Packages(ps) => {
                assert_eq!(
                    crate::catalog::purl(&ps[0]),
                    "pkg:maven/com.google.guava/guava@31.1-jre"
                );
            }
            other => panic!("{other:?}"),
        }
        match parse_buffered(PathKind::JavaArchive, b"/x/broken.jar", b"PK\x03\x04junk") {
            What::Error(CatalogError::Malformed { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_names_split_at_the_version() {
        let f = |s: &str| {
            let p = FileName::parse(s);
            (p.name, p.version)
        };
        assert_eq!(
            f("commons-lang3-3.12.0.jar"),
            ("commons-lang3".into(), "3.12.0".into())
        );
        assert_eq!(f("guava-31.1-jre.jar"), ("guava".into(), "31.1-jre".into()));
        assert_eq!(
            f("my-http2-server-5.jar"),
            ("my-http2-server".into(), "5".into())
        );
        assert_eq!(f("/x/y/guava.jar"), ("guava".into(), String::new()));
        assert_eq!(f("foo_1.2.jar"), ("foo".into(), "1.2".into()));
        assert_eq!(f("x.jar"), ("x".into(), String::new()));
    }

    #[test]
    fn pom_properties_identify_the_archive_and_its_sha1() {
        let bytes = jar(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Title: Apache Commons Lang\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\r\n\r\n"),
            ("META-INF/maven/org.apache.commons/commons-lang3/pom.properties", &pom("org.apache.commons", "commons-lang3", "3.12.0")),
            ("META-INF/maven/org.apache.commons/commons-lang3/pom.xml", b"<project/>"),
            ("org/apache/commons/lang3/StringUtils.class", b"\xca\xfe\xba\xbe"),
        ]);
        let ps = parse_archive("commons-lang3-3.12.0.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!(ps.len(), 1, "{ps:#?}");
        let p = &ps[0];
        assert!(p.primary);
        assert_eq!(p.lang, Ecosystem::Maven);
        assert_eq!(p.found_by, "jar");
        assert_eq!(p.namespace.as_deref(), Some("org.apache.commons"));
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("commons-lang3", "3.12.0")
        );
        assert_eq!(p.hashes, vec![("SHA-1".to_owned(), sha1_hex(&bytes))]);
        assert_eq!(prop(p, PROP_IDENTITY), ["pom.properties"]);
        assert_eq!(p.licenses, ["Apache-2.0"], "the licence's canonical URL");
        assert!(prop(p, PROP_ARCHIVE_PATH).is_empty());
    }

    #[test]
    fn shaded_pom_properties_are_further_packages() {
        let bytes = jar(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                "META-INF/maven/com.example/app/pom.properties",
                &pom("com.example", "app", "1.0"),
            ),
            (
                "META-INF/maven/com.google.code.gson/gson/pom.properties",
                &pom("com.google.code.gson", "gson", "2.10"),
            ),
            // No version: not a package (as syft).
            (
                "META-INF/maven/x/y/pom.properties",
                b"groupId=x\nartifactId=y\n",
            ),
            // Not where Maven writes it.
            ("lib/META-INF/maven/a/b/pom.properties", &pom("a", "b", "1")),
        ]);
        let ps = parse_archive("app-1.0.jar", &bytes, &Limits::default()).unwrap();
        let ids: Vec<_> = ps
            .iter()
            .map(|p| {
                (
                    p.namespace.clone().unwrap_or_default(),
                    p.name.clone(),
                    p.version.clone(),
                    p.primary,
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("com.example".into(), "app".into(), "1.0".into(), true),
                (
                    "com.google.code.gson".into(),
                    "gson".into(),
                    "2.10".into(),
                    false
                ),
            ]
        );
        assert!(ps[1].hashes.is_empty());
        assert_eq!(
            prop(&ps[1], PROP_POM_PROPERTIES),
            ["META-INF/maven/com.google.code.gson/gson/pom.properties"]
        );
    }

    #[test]
    fn a_lone_pom_with_another_version_is_a_shaded_one() {
        let bytes = jar(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\nImplementation-Title: tool\nImplementation-Version: 7.1\n",
            ),
            (
                "META-INF/maven/com.google.code.gson/gson/pom.properties",
                &pom("com.google.code.gson", "gson", "2.10"),
            ),
        ]);
        let ps = parse_archive("tool-7.1.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!(
            (ps[0].name.as_str(), ps[0].version.as_str()),
            ("tool", "7.1")
        );
        assert_eq!(prop(&ps[0], PROP_IDENTITY), ["manifest"]);
        assert_eq!(ps[1].name, "gson");
        // Renamed (no version in the name): the lone pom is its own.
        let ps = parse_archive("gson-renamed.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(
            (ps[0].name.as_str(), ps[0].version.as_str()),
            ("gson", "2.10")
        );
    }

    #[test]
    fn debian_renames_and_shaded_poms() {
        let mf = b"Manifest-Version: 1.0\nBundle-Name: guice\nBundle-SymbolicName: com.google.inject\nBundle-Version: 4.2.3\n";
        let bytes = jar(&[
            ("META-INF/MANIFEST.MF", mf),
            (
                "META-INF/maven/cglib/cglib/pom.properties",
                &pom("cglib", "cglib", "3.2.12"),
            ),
        ]);
        let ps = parse_archive("guice.jar", &bytes, &Limits::default()).unwrap();
        let ids: Vec<_> = ps
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(ids, [("guice", "4.2.3"), ("cglib", "3.2.12")]);

        let mf = b"Manifest-Version: 1.0\nImplementation-Title: Maven SLF4J Simple Provider\nImplementation-Version: 3.8.7\n";
        let bytes = jar(&[
            ("META-INF/MANIFEST.MF", mf),
            (
                "META-INF/maven/org.apache.maven/maven-slf4j-provider/pom.properties",
                &pom("org.apache.maven", "maven-slf4j-provider", "3.8.7"),
            ),
            (
                "META-INF/maven/org.slf4j/slf4j-simple/pom.properties",
                &pom("org.slf4j", "slf4j-simple", "1.7.32"),
            ),
        ]);
        let ps = parse_archive("maven3-slf4j-provider.jar", &bytes, &Limits::default()).unwrap();
        let ids: Vec<_> = ps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(ids, ["maven-slf4j-provider", "slf4j-simple"]);

        let bytes = jar(&[(
            "META-INF/maven/org.apache.maven/maven-core/pom.properties",
            &pom("org.apache.maven", "maven-core", "3.8.7"),
        )]);
        let ps = parse_archive("maven3-core.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].name, "maven-core");
        // No word in common: a renamed archive keeps its file name.
        let ps = parse_archive("renamed.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!(ps[0].name, "renamed");
        assert_eq!(ps[1].name, "maven-core");
    }

    #[test]
    fn manifest_then_file_name() {
        let mf = b"Manifest-Version: 1.0\r\nBundle-SymbolicName: example-very-long-sym\r\n bolic-name;singleton:=true\r\nBundle-Version: 2.3.4\r\nImplementation-Title: Example Library\r\nBundle-License: Apache-2.0;link=\"https://www.apache.org/licenses/LICENSE-2.0\"\r\nImplementation-Vendor-Id: org.example\r\n\r\nName: a/b/\r\nImplementation-Version: 9\r\n";
        let bytes = jar(&[("META-INF/MANIFEST.MF", mf)]);
        let ps = parse_archive("whatever.jar", &bytes, &Limits::default()).unwrap();
        let p = &ps[0];
        assert_eq!(p.name, "example-very-long-symbolic-name");
        assert_eq!(p.version, "2.3.4");
        assert_eq!(p.namespace.as_deref(), Some("org.example"));
        assert_eq!(p.licenses, ["Apache-2.0"]);
        assert_eq!(prop(p, PROP_IDENTITY), ["manifest"]);

        let bytes = jar(&[("a.txt", b"x")]);
        let p = &parse_archive("commons-lang3-3.12.0.jar", &bytes, &Limits::default()).unwrap()[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("commons-lang3", "3.12.0")
        );
        assert_eq!(p.namespace, None);
        assert_eq!(prop(p, PROP_IDENTITY), ["file-name"]);
    }

    #[test]
    fn licenses_of_bundle_license() {
        let lic = |v: &str| Manifest::parse(format!("Bundle-License: {v}\n").as_bytes()).licenses();
        assert_eq!(lic("Apache-2.0"), ["Apache-2.0"]);
        assert_eq!(
            lic("EPL-2.0, GPL-2.0-with-classpath-exception"),
            ["EPL-2.0", "GPL-2.0-with-classpath-exception"]
        );
        assert_eq!(
            lic("Apache License, Version 2.0"),
            ["Apache License, Version 2.0"]
        );
        assert_eq!(
            lic("http://www.apache.org/licenses/LICENSE-2.0.txt"),
            ["Apache-2.0"]
        );
        assert_eq!(
            lic("https://www.eclipse.org/legal/epl-2.0/, https://opensource.org/licenses/MIT"),
            ["EPL-2.0", "MIT"]
        );
        assert!(lic("http://example.com/my-license.html").is_empty());
        assert!(lic("").is_empty());
    }

    #[test]
    fn properties_format() {
        let got = parse_properties(
            "# c\n! c\n  groupId = org.x\nartifactId:a\\\n    b\nversion 1.0\\u0041 \nversion=2\nk\\=ey=v\n",
        );
        assert_eq!(
            got,
            [
                ("groupId".into(), "org.x".into()),
                ("artifactId".into(), "ab".into()),
                ("version".into(), "2".into()),
                ("k=ey".into(), "v".into()),
            ]
        );
    }

    fn inner_jar(g: &str, a: &str, v: &str) -> Vec<u8> {
        jar(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                &format!("META-INF/maven/{g}/{a}/pom.properties"),
                &pom(g, a, v),
            ),
        ])
    }

    #[test]
    fn nested_archives_have_their_path_and_sha1() {
        let a = inner_jar("org.a", "a", "1.0");
        let deepest = inner_jar("org.c", "c", "3.0");
        let b = jar(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                "META-INF/maven/org.b/b/pom.properties",
                &pom("org.b", "b", "2.0"),
            ),
            ("lib/c-3.0.jar", &deepest),
        ]);
        // Nested jars are stored (not deflated) in Spring Boot jars.
        let war = zip_with(
            &[
                ("WEB-INF/lib/a-1.0.jar", &a),
                ("WEB-INF/lib/b-2.0.jar", &b),
                ("WEB-INF/web.xml", b"<web-app/>"),
            ],
            CompressionMethod::Stored,
            false,
        );
        let ps = parse_archive("app.war", &war, &Limits::default()).unwrap();
        let got: Vec<_> = ps
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    prop(p, PROP_ARCHIVE_PATH),
                    p.hashes.clone(),
                    p.primary,
                )
            })
            .collect();
        let h = |b: &[u8]| vec![("SHA-1".to_owned(), sha1_hex(b))];
        assert_eq!(
            got,
            [
                ("app", vec![], h(&war), true),
                ("a", vec!["app.war:WEB-INF/lib/a-1.0.jar"], h(&a), false),
                ("b", vec!["app.war:WEB-INF/lib/b-2.0.jar"], h(&b), false),
                (
                    "c",
                    vec!["app.war:WEB-INF/lib/b-2.0.jar:lib/c-3.0.jar"],
                    h(&deepest),
                    false
                ),
            ]
        );

        // Depth 2: c is not opened, and b says so.
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        let ps = parse_archive("app.war", &war, &limits).unwrap();
        assert_eq!(ps.len(), 3);
        assert_eq!(
            prop(&ps[2], PROP_SKIPPED),
            ["lib/c-3.0.jar: nested deeper than 2 archives"]
        );

        // Nested size bound: checked against what inflates.
        let limits = Limits {
            max_nested: 100,
            ..Limits::default()
        };
        let ps = parse_archive("app.war", &war, &limits).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(prop(&ps[0], PROP_SKIPPED).len(), 2);
    }

    #[test]
    fn zip_bombs_are_bounded() {
        // 64 MiB of zeros deflates to ~64 KiB.
        let zeros = vec![0u8; 64 << 20];
        let bomb = jar(&[("META-INF/MANIFEST.MF", &zeros), ("x.jar", &zeros)]);
        assert!(bomb.len() < 1 << 20);
        match parse_archive("bomb.jar", &bomb, &Limits::default()) {
            Err(CatalogError::TooLarge { detail, .. }) => {
                assert!(detail.contains("MANIFEST"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        let bomb = jar(&[("a.jar", &zeros), ("b.jar", &zeros)]);
        let limits = Limits {
            max_nested: 1 << 20,
            ..Limits::default()
        };
        let ps = parse_archive("bomb.jar", &bomb, &limits).unwrap();
        assert_eq!(prop(&ps[0], PROP_SKIPPED).len(), 2, "{ps:?}");
        let limits = Limits {
            max_inflated: 80 << 20,
            ..Limits::default()
        };
        let ps = parse_archive("bomb.jar", &bomb, &limits).unwrap();
        let skipped = prop(&ps[0], PROP_SKIPPED);
        assert!(skipped[1].contains("spent"), "{skipped:?}");
    }

    #[test]
    fn entry_count_is_bounded() {
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = jar(&entries);
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        assert!(matches!(
            parse_archive("x.jar", &bytes, &limits),
            Err(CatalogError::TooLarge { .. })
        ));
    }

    #[test]
    fn zip64_reads() {
        let bytes = zip_with(
            &[("META-INF/maven/g/zz/pom.properties", &pom("g", "zz", "1"))],
            CompressionMethod::Deflated,
            true,
        );
        let ps = parse_archive("zz.jar", &bytes, &Limits::default()).unwrap();
        assert_eq!((ps[0].name.as_str(), ps[0].version.as_str()), ("zz", "1"));
    }

    #[test]
    fn damage_is_an_error() {
        assert_eq!(
            parse_archive("x.jar", b"not a zip at all", &Limits::default()),
            Err(CatalogError::NotFormat("java archive"))
        );
        let good = jar(&[("META-INF/maven/g/a/pom.properties", &pom("g", "a", "1"))]);
        // The central directory's offset points nowhere.
        let mut bad = good.clone();
        let eocd = bad.len() - 22;
        bad[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse_archive("x.jar", &bad, &Limits::default()),
            Err(CatalogError::Malformed { .. })
        ));
        // A flipped byte in the deflated data: CRC or inflate error.
        let mut bad = good.clone();
        bad[31 + "META-INF/maven/g/a/pom.properties".len() + 5] ^= 0xff;
        assert!(parse_archive("x.jar", &bad, &Limits::default()).is_err());
        // The encryption flag set in both headers.
        let mut enc = good.clone();
        enc[6] |= 1;
        let cd = enc.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        enc[cd + 8] |= 1;
        match parse_archive("x.jar", &enc, &Limits::default()) {
            Err(CatalogError::Unsupported { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
