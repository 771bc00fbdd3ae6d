//! The distributor of each dpkg package: the `Origin` of the apt archive
//! that carries it.
//!
//! dpkg records who maintains a package, not who distributed it; apt knows
//! the distributor: every `Packages` index under `/var/lib/apt/lists/` comes
//! with its archive's `Release`/`InRelease` file, whose `Origin:` names the
//! distributor (`Debian`, `Ubuntu`, `nginx`, `Docker`...). A package
//! installed at the exact name, version and architecture an index lists has
//! that index's origin, as `apt-cache policy` shows it.
//!
//! Sealed images usually have no lists (they are a cache); then the status
//! stanza's own `Origin:` field is used when the package has one, and
//! otherwise the distribution the root's os-release names (the archive
//! dpkg's database was installed from by default). Which of the three gave
//! the value is recorded in the package's `deb:origin-source` property, so a
//! consumer can tell an archive's word from an inference.
//!
//! Indexes are streamed (uncompressed, `.gz`, `.lz4`: what apt writes with
//! and without `Acquire::GzipIndexes` / Debian's container images); only
//! the stanza being read is held. Other compressions are named in a warning
//! and skipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use bakeproof_index::ReadOnlyTree;

use crate::{OsRelease, Package};

/// Where apt keeps its lists.
pub const APT_LISTS_DIR: &[u8] = b"/var/lib/apt/lists";

/// Largest index file read (compressed size as stored).
pub(crate) const LIST_LIMIT: u64 = 256 << 20;

/// Largest decompressed index streamed (a guard against decompression
/// bombs: the largest real index, Ubuntu's universe, is ~70 MiB).
pub(crate) const LIST_EXPANDED_LIMIT: u64 = 1 << 30;

/// Largest `Release`/`InRelease` file read.
pub(crate) const RELEASE_LIMIT: u64 = 8 << 20;

/// The package property naming where the supplier came from.
pub const ORIGIN_SOURCE_PROPERTY: &str = "deb:origin-source";

/// The fields of an archive's `Release` file this crate uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseInfo {
    pub origin: Option<String>,
    pub label: Option<String>,
    pub suite: Option<String>,
    pub codename: Option<String>,
}

/// Parse a `Release` or clear-signed `InRelease` file. The signature is not
/// checked (apt did when it wrote the file; the value is a supplier name,
/// not a trust decision).
pub fn parse_release(bytes: &[u8]) -> ReleaseInfo {
    let body = clearsigned_body(bytes);
    let parsed = crate::deb822::parse(body, false);
    let Some(st) = parsed.stanzas.first() else {
        return ReleaseInfo::default();
    };
    let f = |k: &str| st.first_line(k).filter(|v| !v.trim().is_empty());
    ReleaseInfo {
        origin: f("Origin"),
        label: f("Label"),
        suite: f("Suite"),
        codename: f("Codename"),
    }
}

/// The signed text of an OpenPGP clear-signed message, or `bytes` when it
/// is not one.
fn clearsigned_body(bytes: &[u8]) -> &[u8] {
    const BEGIN: &[u8] = b"-----BEGIN PGP SIGNED MESSAGE-----";
    const SIG: &[u8] = b"\n-----BEGIN PGP SIGNATURE-----";
    if !bytes.starts_with(BEGIN) {
        return bytes;
    }
    // Armor headers (`Hash: SHA512`) end at the first empty line.
    let Some(start) = find(bytes, b"\n\n").map(|i| i + 2) else {
        return &[];
    };
    let rest = &bytes[start..];
    match find(rest, SIG) {
        Some(end) => &rest[..end],
        None => rest,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One `(Package, Version, Architecture)` of an index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    pub name: String,
    pub version: String,
    pub arch: String,
}

/// Stream the stanzas of a `Packages` index, calling `each` with every
/// complete entry. Lines are read one at a time (a line longer than 1 MiB
/// ends the read with an error); nothing else is kept.
pub fn for_each_index_entry(
    reader: impl Read,
    each: impl FnMut(IndexEntry),
) -> std::io::Result<()> {
    for_each_wanted_entry(reader, |_| true, each)
}

/// [`for_each_index_entry`] for the stanzas whose `Package:` `want`s
/// (the others are skipped without a copy of their fields).
fn for_each_wanted_entry(
    reader: impl Read,
    want: impl Fn(&str) -> bool,
    mut each: impl FnMut(IndexEntry),
) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::new();
    let (mut name, mut version, mut arch) = (None, None, None);
    // Whether the stanza being read is one `want`s.
    let mut wanted = true;
    loop {
        line.clear();
        let n = (&mut reader).take(1 << 20).read_until(b'\n', &mut line)?;
        if n == 0 || line == b"\n" || line == b"\r\n" {
            if let (Some(name), Some(version), Some(arch)) =
                (name.take(), version.take(), arch.take())
            {
                each(IndexEntry {
                    name,
                    version,
                    arch,
                });
            }
            (name, version, arch) = (None, None, None);
            wanted = true;
            if n == 0 {
                return Ok(());
            }
            continue;
        }
        if !line.ends_with(b"\n") && n == 1 << 20 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "index line longer than 1 MiB",
            ));
        }
        if !wanted || !matches!(line.first(), Some(b'P' | b'V' | b'A')) {
            continue;
        }
        let value = |prefix: &[u8]| -> Option<String> {
            let v = line.strip_prefix(prefix)?;
            let v = String::from_utf8_lossy(v).trim().to_owned();
            (!v.is_empty()).then_some(v)
        };
        if let Some(v) = value(b"Package:") {
            wanted = want(&v);
            name = wanted.then_some(v);
        } else if let Some(v) = value(b"Version:") {
            version = Some(v);
        } else if let Some(v) = value(b"Architecture:") {
            arch = Some(v);
        }
    }
}

/// How an index file is compressed, from its name.
fn decoder<'a>(name: &[u8], bytes: &'a [u8]) -> Option<Box<dyn Read + 'a>> {
    if name.ends_with(b"_Packages") {
        Some(Box::new(bytes))
    } else if name.ends_with(b"_Packages.gz") {
        Some(Box::new(flate2::read::MultiGzDecoder::new(bytes)))
    } else if name.ends_with(b"_Packages.lz4") {
        Some(Box::new(lz4_flex::frame::FrameDecoder::new(bytes)))
    } else {
        None
    }
}

/// Set `supplier` of every dpkg package: the archive origin from apt's
/// lists, else the stanza's `Origin:` (which the status parser put in
/// `supplier`), else the distribution of `os`. Problems reading the lists are pushed to
/// `warnings`; nothing here fails the read.
pub(crate) fn assign_suppliers(
    root: &dyn ReadOnlyTree,
    packages: &mut [Package],
    os: Option<&OsRelease>,
    warnings: &mut Vec<String>,
) {
    if packages.is_empty() {
        return;
    }
    let from_lists = list_origins(root, packages, warnings);
    let distributor = os.and_then(os_distributor);
    for (i, p) in packages.iter_mut().enumerate() {
        let (supplier, source) = if let Some(o) = from_lists.get(&i) {
            (Some(o.clone()), "apt-lists")
        } else if let Some(o) = p.supplier.take() {
            (Some(o), "origin-field")
        } else if let Some(d) = &distributor {
            (Some(d.clone()), "os-release")
        } else {
            (None, "")
        };
        p.supplier = supplier;
        if !source.is_empty() {
            p.properties
                .push((ORIGIN_SOURCE_PROPERTY.to_owned(), source.to_owned()));
        }
    }
}

/// Index in `packages` → the origin of the first index (in file-name
/// order) listing exactly its `(name, version, arch)`.
fn list_origins(
    root: &dyn ReadOnlyTree,
    packages: &[Package],
    warnings: &mut Vec<String>,
) -> HashMap<usize, String> {
    let mut out = HashMap::new();
    let mut names = match root.read_dir(APT_LISTS_DIR) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return out,
        Err(e) => {
            warnings.push(format!("apt lists not read: {e}"));
            return out;
        }
    };
    names.sort();
    let mut wanted: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        wanted
            .entry((p.name.clone(), p.version.clone(), p.arch.clone()))
            .or_default()
            .push(i);
    }
    let names_wanted: std::collections::HashSet<&str> =
        packages.iter().map(|p| p.name.as_str()).collect();
    // Indexes of architectures nothing is installed for cannot list an
    // installed version (`all` packages are in every architecture's).
    let archs: std::collections::HashSet<&[u8]> = packages
        .iter()
        .map(|p| p.arch.as_bytes())
        .filter(|a| *a != b"all")
        .collect();
    let mut releases: HashMap<Vec<u8>, Option<String>> = HashMap::new();
    for name in &names {
        let Some(stem) = index_stem(name) else {
            continue;
        };
        if let Some(arch) = index_arch(stem)
            && !archs.is_empty()
            && !archs.contains(arch)
        {
            continue;
        }
        let origin = releases
            .entry(stem.to_vec())
            .or_insert_with(|| release_origin(root, &names, stem, warnings))
            .clone();
        let Some(origin) = origin else {
            continue;
        };
        let path = [APT_LISTS_DIR, b"/", name].concat();
        let shown = String::from_utf8_lossy(&path).into_owned();
        let bytes = match root.read_file(&path, LIST_LIMIT) {
            Ok(b) => b,
            Err(e) => {
                warnings.push(format!("apt list {shown} not read: {e}"));
                continue;
            }
        };
        let Some(reader) = decoder(name, &bytes) else {
            warnings.push(format!(
                "apt list {shown} not read: compression not supported (uncompressed, .gz and .lz4 are)"
            ));
            continue;
        };
        let want = |n: &str| names_wanted.contains(n);
        let result = for_each_wanted_entry(reader.take(LIST_EXPANDED_LIMIT), want, |e| {
            if let Some(ix) = wanted.get(&(e.name, e.version, e.arch)) {
                for i in ix {
                    out.entry(*i).or_insert_with(|| origin.clone());
                }
            }
        });
        if let Err(e) = result {
            warnings.push(format!("apt list {shown} read in part: {e}"));
        }
    }
    out
}

/// `deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4`
/// → `deb.debian.org_debian_dists_bookworm_main_binary-amd64_`; `None` for
/// files that are not binary package indexes.
fn index_stem(name: &[u8]) -> Option<&[u8]> {
    let i = find(name, b"_Packages")?;
    let rest = &name[i + b"_Packages".len()..];
    // `_Packages`, `_Packages.lz4`...; not `_Packages.diff_Index`.
    if !(rest.is_empty() || (rest.starts_with(b".") && !rest.contains(&b'_'))) {
        return None;
    }
    Some(&name[..=i])
}

/// `ARCH` of an index stem `…_binary-ARCH_`; `None` for flat repositories.
fn index_arch(stem: &[u8]) -> Option<&[u8]> {
    let s = stem.strip_suffix(b"_")?;
    let i = s.windows(8).rposition(|w| w == b"_binary-")?;
    Some(&s[i + 8..])
}

/// The origin of the archive an index belongs to: the `InRelease` or
/// `Release` whose name is the longest prefix of the index's name (the
/// component and architecture parts of the name vary; the archive part
/// ends at `…_dists_SUITE_`, or at the flat repository's path).
fn release_origin(
    root: &dyn ReadOnlyTree,
    names: &[Vec<u8>],
    stem: &[u8],
    warnings: &mut Vec<String>,
) -> Option<String> {
    let best = names
        .iter()
        .filter_map(|n| {
            let prefix = n
                .strip_suffix(b"InRelease")
                .or_else(|| n.strip_suffix(b"Release"))?;
            stem.starts_with(prefix).then_some((prefix.len(), n))
        })
        .max_by_key(|(len, n)| (*len, n.ends_with(b"InRelease")))?
        .1;
    let path = [APT_LISTS_DIR, b"/", best].concat();
    match root.read_file(&path, RELEASE_LIMIT) {
        Ok(bytes) => parse_release(&bytes).origin,
        Err(e) => {
            warnings.push(format!(
                "apt release file {} not read: {e}",
                String::from_utf8_lossy(&path)
            ));
            None
        }
    }
}

/// The distributor a root's os-release names, spelled as its archive's
/// `Origin:` where that is known (Debian's and Ubuntu's), else `NAME`.
fn os_distributor(os: &OsRelease) -> Option<String> {
    match os.id.as_deref() {
        Some("debian") => Some("Debian".into()),
        Some("ubuntu") => Some("Ubuntu".into()),
        _ => os.name.clone().filter(|n| !n.trim().is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inrelease_body_and_fields() {
        let text = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n";
        let r = parse_release(text);
        assert_eq!(r.origin.as_deref(), Some("Debian"));
        assert_eq!(r.label.as_deref(), Some("Debian-Security"));
        assert_eq!(r.codename.as_deref(), Some("bookworm-security"));
        assert_eq!(
            parse_release(b"Origin: nginx\n").origin.as_deref(),
            Some("nginx")
        );
        assert_eq!(parse_release(b"").origin, None);
        assert_eq!(
            parse_release(b"-----BEGIN PGP SIGNED MESSAGE-----").origin,
            None
        );
    }

    #[test]
    fn stems() {
        assert_eq!(
            index_stem(b"a_dists_x_main_binary-amd64_Packages.lz4"),
            Some(&b"a_dists_x_main_binary-amd64_"[..])
        );
        assert_eq!(
            index_stem(b"a_dists_x_main_binary-amd64_Packages"),
            Some(&b"a_dists_x_main_binary-amd64_"[..])
        );
        assert_eq!(index_stem(b"a_dists_x_main_i18n_Translation-en"), None);
        assert_eq!(
            index_arch(b"a_dists_x_main_binary-arm64_"),
            Some(&b"arm64"[..])
        );
        assert_eq!(index_arch(b"example.org_repo_._"), None);
        assert_eq!(
            index_stem(b"a_dists_x_main_binary-amd64_Packages.diff_Index"),
            None
        );
    }

    #[test]
    fn index_stream() {
        let mut got = Vec::new();
        for_each_index_entry(
            &b"Package: a\nVersion: 1\nArchitecture: all\nDescription: x\n y\n\nPackage: b\nArchitecture: amd64\nVersion: 2:3-4\n"[..],
            |e| got.push(e),
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].version, "2:3-4");
    }
}
