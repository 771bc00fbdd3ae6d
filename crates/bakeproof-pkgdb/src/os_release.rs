//! `os-release(5)`: which distribution a root is, for package URLs and SBOM
//! metadata.

use bakeproof_index::ReadOnlyTree;

use crate::PkgDbError;

/// Largest os-release file read. Real ones are well under 1 KiB; the limit
/// only stops a hostile root from making us read a huge file.
pub const OS_RELEASE_LIMIT: u64 = 1 << 20;

/// Where os-release(5) says to look, in its order: `/etc/os-release` takes
/// precedence, `/usr/lib/os-release` is the vendor fallback.
pub const OS_RELEASE_PATHS: [&[u8]; 2] = [b"/etc/os-release", b"/usr/lib/os-release"];

/// The fields of os-release(5) this tool uses.
///
/// No defaults are filled in (os-release(5) says a missing `ID` means
/// `linux`): an absent field stays `None` so that callers can tell "the image
/// said nothing" from "the image said linux". Empty values are `None` too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    pub version_codename: Option<String>,
    /// `ID_LIKE`, split on whitespace.
    pub id_like: Vec<String>,
    pub cpe_name: Option<String>,
}

impl OsRelease {
    /// The distribution named `ID-VERSION_ID` (`debian-12`, `rhel-9.4`,
    /// `opensuse-leap-15.5`: the version is what follows the last `-`), as
    /// the purl `distro` qualifier and `scan --distro` spell it. `None`
    /// unless both parts are non-empty and made of ASCII letters, digits,
    /// `.`, `_`, `-` (`ID` lower-case, as os-release(5) requires) and `~`
    /// `+` in the version.
    pub fn from_distro(distro: &str) -> Option<OsRelease> {
        let (id, version) = distro.rsplit_once('-')?;
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let version_ok = !version.is_empty()
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~+".contains(&b));
        (id_ok && version_ok).then(|| OsRelease {
            id: Some(id.to_owned()),
            version_id: Some(version.to_owned()),
            ..OsRelease::default()
        })
    }

    /// Parses an os-release file.
    ///
    /// os-release(5) declares the format a subset of shell variable
    /// assignments, so values are unquoted as a shell would: `"..."` with the
    /// backslash escapes `\"` `\\` `\$` `` \` ``, `'...'` literally, and a
    /// backslash outside quotes escapes the next character. Lines that are
    /// blank, comments (`#`), or not `NAME=value` are skipped: a damaged line
    /// must not hide the others. The last assignment of a variable wins, as
    /// in a shell. Never fails: an unreadable file simply yields no fields.
    pub fn parse(bytes: &[u8]) -> OsRelease {
        let text = String::from_utf8_lossy(bytes);
        let mut os = OsRelease::default();
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let key_ok = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                continue;
            }
            let value = unquote(raw);
            let opt = if value.is_empty() { None } else { Some(value) };
            match key {
                "ID" => os.id = opt,
                "VERSION_ID" => os.version_id = opt,
                "NAME" => os.name = opt,
                "PRETTY_NAME" => os.pretty_name = opt,
                "VERSION_CODENAME" => os.version_codename = opt,
                "CPE_NAME" => os.cpe_name = opt,
                "ID_LIKE" => {
                    os.id_like = opt
                        .map(|v| v.split_whitespace().map(str::to_owned).collect())
                        .unwrap_or_default()
                }
                _ => {}
            }
        }
        os
    }
}

/// Shell-style unquoting of one assignment's right-hand side. Stops at the
/// first unquoted whitespace (what follows would be another word, which a
/// shell would run as a command: not part of the value). An unterminated
/// quote takes the rest of the line rather than failing.
fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                            Some(n) => {
                                out.push('\\');
                                out.push(n);
                            }
                            None => out.push('\\'),
                        },
                        _ => out.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
    }
    out
}

/// Reads `/etc/os-release`, falling back to `/usr/lib/os-release`, inside the
/// root (so `etc/os-release -> ../usr/lib/os-release` resolves within it).
///
/// `Ok(None)` when neither exists (or `/etc/os-release` is a dangling link).
/// Any other failure (unreadable, not a regular file, too large) is an error,
/// because silently falling back could report the wrong distribution.
pub fn read_os_release(root: &dyn ReadOnlyTree) -> Result<Option<OsRelease>, PkgDbError> {
    for path in OS_RELEASE_PATHS {
        match root.read_file(path, OS_RELEASE_LIMIT) {
            Ok(bytes) => return Ok(Some(OsRelease::parse(&bytes))),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(PkgDbError::root(path, e)),
        }
    }
    Ok(None)
}

/// The distribution a bare package database says it is from, when every
/// package that says anything says the same (a file with no os-release
/// beside it: `scan rpmdb.sqlite`):
/// * rpm: the `DISTRIBUTION` tag, else the `VENDOR` tag (`rpm:distribution`,
///   `rpm:vendor` properties), mapped to the os-release `ID` that
///   distribution ships: `Red Hat` -> `rhel`, `CentOS` -> `centos`, `Fedora`
///   -> `fedora`, `SUSE Linux Enterprise` / `SUSE LLC` -> `sles`, `openSUSE`
///   -> `opensuse-leap`, `Mariner` (CBL-Mariner) -> `mariner`, `Azure
///   Linux` -> `azurelinux`, `Amazon Linux` -> `amzn`, `Rocky` -> `rocky`,
///   `AlmaLinux` -> `almalinux`, `Oracle` -> `ol`; `VERSION_ID` only when
///   `DISTRIBUTION` ends in a version (`SUSE Linux Enterprise 15` -> `15`);
/// * dpkg: `Maintainer:` addresses at `ubuntu.com` (Ubuntu's packages all
///   carry one) -> `ubuntu`; no version.
///
/// `None` when packages disagree or nothing is known: never a guess from
/// one package out of many.
pub fn os_of_database(db: &crate::PackageDb) -> Option<OsRelease> {
    let mut found: Option<(&'static str, Option<String>)> = None;
    for p in &db.packages {
        let prop = |k: &str| {
            p.properties
                .iter()
                .find(|(key, v)| key == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim())
        };
        let this = match p.ecosystem {
            crate::Ecosystem::Rpm => {
                let dist = prop("rpm:distribution");
                let Some(text) = dist.or(prop("rpm:vendor")) else {
                    continue;
                };
                // A text naming no known distribution: not a guess.
                let id = rpm_os_id(text)?;
                let version = dist.and_then(|d| {
                    let last = d.rsplit(' ').next()?;
                    (last.bytes().next().is_some_and(|b| b.is_ascii_digit())
                        && last.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                    .then(|| last.to_owned())
                });
                (id, version)
            }
            crate::Ecosystem::Deb => {
                let Some(m) = p.author.as_deref() else {
                    continue;
                };
                if m.to_ascii_lowercase().contains("ubuntu.com>") {
                    ("ubuntu", None)
                } else {
                    continue;
                }
            }
            // A language package names no distribution.
            _ => continue,
        };
        match &found {
            None => found = Some(this),
            Some(f) if *f == this => {}
            Some(_) => return None,
        }
    }
    let (id, version_id) = found?;
    Some(OsRelease {
        id: Some(id.to_owned()),
        version_id,
        ..OsRelease::default()
    })
}

/// os-release `ID` of an rpm `DISTRIBUTION` or `VENDOR` text.
fn rpm_os_id(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    const TABLE: [(&str, &str); 11] = [
        ("red hat", "rhel"),
        ("centos", "centos"),
        ("fedora", "fedora"),
        ("opensuse", "opensuse-leap"),
        ("suse", "sles"),
        ("mariner", "mariner"),
        ("azure linux", "azurelinux"),
        ("amazon", "amzn"),
        ("rocky", "rocky"),
        ("almalinux", "almalinux"),
        ("oracle", "ol"),
    ];
    TABLE
        .iter()
        .find(|(prefix, _)| t.starts_with(prefix))
        .map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_12() {
        let os = OsRelease::parse(
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
              VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!(os.id.as_deref(), Some("debian"));
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.name.as_deref(), Some("Debian GNU/Linux"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert!(os.id_like.is_empty());
    }

    #[test]
    fn quoting() {
        let os = OsRelease::parse(
            b"# comment\n\n  ID='my distro'\nNAME=\"say \\\"hi\\\" \\$HOME \\\\ \\n\"\n\
              PRETTY_NAME=a\\ b\"c d\"'e f'\nID_LIKE=\"rhel  centos\tfedora\"\n\
              VERSION_ID=1.0 trailing words\nCPE_NAME=\"unterminated\r\nbad line\n1X=2\n",
        );
        assert_eq!(os.id.as_deref(), Some("my distro"));
        assert_eq!(os.name.as_deref(), Some("say \"hi\" $HOME \\ \\n"));
        assert_eq!(os.pretty_name.as_deref(), Some("a bc de f"));
        assert_eq!(os.id_like, ["rhel", "centos", "fedora"]);
        assert_eq!(os.version_id.as_deref(), Some("1.0"));
        assert_eq!(os.cpe_name.as_deref(), Some("unterminated"));
    }

    #[test]
    fn last_wins_and_empty_is_none() {
        let os = OsRelease::parse(b"ID=a\nID=b\nVERSION_ID=\nVERSION_CODENAME=\"\"\n");
        assert_eq!(os.id.as_deref(), Some("b"));
        assert_eq!(os.version_id, None);
        assert_eq!(os.version_codename, None);
    }

    #[test]
    fn from_distro() {
        let os = OsRelease::from_distro("opensuse-leap-15.5").unwrap();
        assert_eq!(os.id.as_deref(), Some("opensuse-leap"));
        assert_eq!(os.version_id.as_deref(), Some("15.5"));
        assert_eq!(
            OsRelease::from_distro("debian-12").unwrap().id.as_deref(),
            Some("debian")
        );
        for bad in [
            "debian",
            "-12",
            "debian-",
            "Debian-12",
            "deb ian-12",
            "a-1/2",
            "",
        ] {
            assert_eq!(OsRelease::from_distro(bad), None, "{bad}");
        }
    }

    #[test]
    fn os_named_by_a_database() {
        // (ecosystem, Maintainer / VENDOR, raw properties) per package.
        type Spec<'a> = (crate::Ecosystem, Option<&'a str>, &'a [(&'a str, &'a str)]);
        let bare = |pkgs: &[Spec<'_>]| crate::PackageDb {
            kind: crate::DbKind::Dpkg,
            location: "x".into(),
            os: None,
            packages: pkgs
                .iter()
                .map(|(eco, supplier, props)| crate::Package {
                    ecosystem: *eco,
                    name: "p".into(),
                    version: "1".into(),
                    epoch: None,
                    arch: String::new(),
                    source_name: None,
                    source_version: None,
                    licenses: Vec::new(),
                    supplier: None,
                    // dpkg's Maintainer is the author.
                    author: supplier.map(Into::into),
                    summary: None,
                    homepage: None,
                    installed_size: None,
                    multi_arch: None,
                    status: None,
                    depends: Vec::new(),
                    provides: Vec::new(),
                    purl: String::new(),
                    files: Vec::new(),
                    db_key: "p".into(),
                    properties: props
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect(),
                    locations: Vec::new(),
                    hashes: Vec::new(),
                })
                .collect(),
            warnings: Vec::new(),
            dropped: 0,
            diversions: Vec::new(),
        };
        use crate::Ecosystem::{Deb, Rpm};
        let ubuntu = bare(&[
            (
                Deb,
                Some("Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>"),
                &[],
            ),
            (Deb, None, &[]),
        ]);
        assert_eq!(
            os_of_database(&ubuntu).and_then(|o| o.id).as_deref(),
            Some("ubuntu")
        );
        // Debian maintainers are people and teams: nothing said.
        assert_eq!(
            os_of_database(&bare(&[(Deb, Some("Santiago <s@debian.org>"), &[])])),
            None
        );
        let suse = bare(&[(
            Rpm,
            Some("SUSE LLC"),
            &[
                ("rpm:distribution", "SUSE Linux Enterprise 15"),
                ("rpm:vendor", "SUSE LLC"),
            ],
        )]);
        let os = os_of_database(&suse).unwrap();
        assert_eq!(
            (os.id.as_deref(), os.version_id.as_deref()),
            (Some("sles"), Some("15"))
        );
        // Two distributions in one database: none.
        let mixed = bare(&[
            (Rpm, None, &[("rpm:vendor", "Red Hat, Inc.")]),
            (Rpm, None, &[("rpm:vendor", "Fedora Project")]),
        ]);
        assert_eq!(os_of_database(&mixed), None);
        // An unknown vendor names nothing.
        assert_eq!(
            os_of_database(&bare(&[(Rpm, None, &[("rpm:vendor", "ACME")])])),
            None
        );
    }

    #[test]
    fn garbage() {
        let os = OsRelease::parse(&[0xff, 0, 0x80, b'=', b'\n', b'"', 0xfe]);
        assert_eq!(os, OsRelease::default());
    }
}
