//! Package URLs (purl-spec) for installed packages.
//!
//! The purl syntax itself (encoding, qualifier order, parsing) is
//! [`bakeproof_types::purl`]; this module holds the distribution rules:
//! which namespace, version and qualifiers a deb or rpm package gets.

pub use bakeproof_types::purl::{build, encode_component};

use crate::OsRelease;

/// The purl of an installed Debian-family package:
/// `pkg:deb/<ID>/<name>@<version>?arch=<arch>&distro=<ID>-<VERSION_ID>`.
///
/// * The namespace is os-release `ID` (lower-cased, as the deb type asks for
///   lower-case namespaces), e.g. `debian`, `ubuntu`. Without os-release (a
///   bare status file with no known OS) it is `debian`, the deb type's
///   default vendor, and there is no `distro` qualifier: we do not invent a
///   release we have not seen.
/// * `distro` is `<ID>-<VERSION_ID>` (`debian-12`); when the image has no
///   `VERSION_ID` (Debian testing/sid) it is `<ID>-<VERSION_CODENAME>`
///   (`debian-trixie`); with neither it is omitted.
/// * The version is the full dpkg version including the epoch, encoded as
///   above (`1:2.66-4%2Bdeb12u2%2Bb2`).
/// * `upstream` is the `Source:` field as syft writes it, which grype reads
///   to match vulnerabilities filed against the source package:
///   `upstream=NAME` for `Source: NAME`, `upstream=NAME@VERSION` for
///   `Source: NAME (VERSION)`; none without a `Source:` field (`source` is
///   `(source_name, source_version)` of the [`crate::Package`]).
pub fn deb_purl(
    name: &str,
    version: &str,
    arch: &str,
    source: (Option<&str>, Option<&str>),
    os: Option<&OsRelease>,
) -> String {
    let id = os
        .and_then(|o| o.id.as_deref())
        .filter(|i| !i.is_empty())
        .map(str::to_ascii_lowercase);
    let namespace = id.clone().unwrap_or_else(|| "debian".to_owned());
    let distro = match (&id, os) {
        (Some(id), Some(o)) => o
            .version_id
            .as_deref()
            .or(o.version_codename.as_deref())
            .map(|v| format!("{id}-{v}")),
        _ => None,
    };
    let upstream = match source {
        (Some(n), Some(v)) => format!("{n}@{v}"),
        (Some(n), None) => n.to_owned(),
        (None, _) => String::new(),
    };
    build(
        "deb",
        Some(&namespace),
        &name.to_ascii_lowercase(),
        Some(version),
        &[
            ("arch", arch),
            ("distro", distro.as_deref().unwrap_or("")),
            ("upstream", &upstream),
        ],
    )
}

/// The purl namespace of an rpm package.
///
/// * With os-release: its `ID`, lower-cased, mapped as syft maps it
///   (`syft/pkg/cataloger/redhat/package.go`): `rhel` and `hummingbird` ->
///   `redhat`, any `opensuse*` (`opensuse-leap`, `opensuse-tumbleweed`) ->
///   `opensuse`; every other ID is used as is (`fedora`, `centos`, `rocky`,
///   `almalinux`, `amzn`, `ol`, `sles`, `mariner`, `azurelinux`, ...).
/// * Without os-release (a bare database file): from the package's `VENDOR`
///   tag when it names a distribution unambiguously, giving the namespace
///   that distribution's os-release would give (`Red Hat, Inc.` -> `redhat`,
///   `CentOS` -> `centos`, `Fedora Project` -> `fedora`, `SUSE LLC ...` /
///   `SUSE LINUX ...` -> `sles`, `openSUSE` -> `opensuse`, `Amazon ...` ->
///   `amzn`, `Rocky Enterprise Software Foundation` -> `rocky`, `AlmaLinux`
///   -> `almalinux`, `Oracle America` -> `ol`); otherwise no namespace at
///   all (the rpm purl type allows that), never a guess.
pub fn rpm_namespace(os: Option<&OsRelease>, vendor: Option<&str>) -> Option<String> {
    if let Some(id) = os.and_then(|o| o.id.as_deref()).filter(|i| !i.is_empty()) {
        let id = id.to_ascii_lowercase();
        return Some(match id.as_str() {
            "rhel" | "hummingbird" => "redhat".to_owned(),
            _ if id.starts_with("opensuse") => "opensuse".to_owned(),
            _ => id,
        });
    }
    let v = vendor?.trim().to_ascii_lowercase();
    let table: [(&str, &str); 10] = [
        ("red hat", "redhat"),
        ("centos", "centos"),
        ("fedora project", "fedora"),
        ("opensuse", "opensuse"),
        ("suse", "sles"),
        ("amazon", "amzn"),
        ("rocky enterprise software foundation", "rocky"),
        ("almalinux", "almalinux"),
        ("oracle america", "ol"),
        ("rocky linux", "rocky"),
    ];
    table
        .iter()
        .find(|(prefix, _)| v.starts_with(prefix))
        .map(|(_, ns)| (*ns).to_owned())
}

/// The purl of an installed rpm package, per the purl-spec `rpm` type:
/// `pkg:rpm/<namespace>/<name>@<version>-<release>?arch=<arch>&distro=<ID>-<VERSION_ID>&epoch=<n>`.
///
/// * Namespace: [`rpm_namespace`].
/// * Version: `VERSION-RELEASE` (the epoch is a qualifier in purl, not part
///   of the version), percent-encoded by [`encode_component`]: `~` is an
///   unreserved character and stays (`2.1~rc1`), `^` becomes `%5E`, `+`
///   `%2B`.
/// * `epoch` only when the header has an `EPOCH` tag (so `Epoch: 0` gives
///   `epoch=0`, and no tag gives none).
/// * `distro` is the raw os-release `<ID>-<VERSION_ID>` (`rhel-9.4`),
///   omitted without os-release or without `VERSION_ID`.
/// * `upstream` is the `SOURCERPM` file name (`acl-2.2.53-1.el8.src.rpm`),
///   as syft writes it and grype reads it to match the source package;
///   none when the header has no (or an empty) `SOURCERPM`.
/// * Qualifiers sorted by key; empty ones (e.g. `arch` of `gpg-pubkey`)
///   dropped.
#[allow(clippy::too_many_arguments)]
pub fn rpm_purl(
    name: &str,
    version: Option<&str>,
    release: Option<&str>,
    epoch: Option<u64>,
    arch: &str,
    source_rpm: Option<&str>,
    os: Option<&OsRelease>,
    vendor: Option<&str>,
) -> String {
    let namespace = rpm_namespace(os, vendor);
    let mut v = version.unwrap_or("").to_owned();
    if let Some(r) = release {
        v.push('-');
        v.push_str(r);
    }
    let distro = os.and_then(|o| {
        let id = o.id.as_deref().filter(|i| !i.is_empty())?;
        let ver = o.version_id.as_deref().filter(|i| !i.is_empty())?;
        Some(format!("{}-{ver}", id.to_ascii_lowercase()))
    });
    let epoch = epoch.map(|e| e.to_string());
    build(
        "rpm",
        namespace.as_deref(),
        name,
        Some(&v),
        &[
            ("arch", arch),
            ("distro", distro.as_deref().unwrap_or("")),
            ("epoch", epoch.as_deref().unwrap_or("")),
            ("upstream", source_rpm.unwrap_or("")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian12() -> OsRelease {
        OsRelease {
            id: Some("debian".into()),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            ..OsRelease::default()
        }
    }

    #[test]
    fn epoch_and_plus() {
        assert_eq!(
            deb_purl(
                "libpam-cap",
                "1:2.66-4+deb12u2+b2",
                "amd64",
                (Some("libcap2"), None),
                Some(&debian12())
            ),
            "pkg:deb/debian/libpam-cap@1:2.66-4%2Bdeb12u2%2Bb2?arch=amd64&distro=debian-12&upstream=libcap2"
        );
        // As syft writes it: `upstream=NAME@VERSION` for `Source: NAME (VERSION)`.
        assert_eq!(
            deb_purl(
                "libbz2-1.0",
                "1.0.8-5+b1",
                "amd64",
                (Some("bzip2"), Some("1.0.8-5")),
                Some(&debian12())
            ),
            "pkg:deb/debian/libbz2-1.0@1.0.8-5%2Bb1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5"
        );
    }

    #[test]
    fn rpm_purls() {
        let rhel = OsRelease {
            id: Some("rhel".into()),
            version_id: Some("9.4".into()),
            ..OsRelease::default()
        };
        assert_eq!(
            rpm_purl(
                "fx-base",
                Some("1.0"),
                Some("1"),
                Some(3),
                "noarch",
                Some("fx-1.0-1.src.rpm"),
                Some(&rhel),
                None
            ),
            "pkg:rpm/redhat/fx-base@1.0-1?arch=noarch&distro=rhel-9.4&epoch=3&upstream=fx-1.0-1.src.rpm"
        );
        assert_eq!(
            rpm_purl(
                "fx-data",
                Some("1.0^git1"),
                Some("2"),
                None,
                "noarch",
                None,
                None,
                None
            ),
            "pkg:rpm/fx-data@1.0%5Egit1-2?arch=noarch"
        );
        assert_eq!(
            rpm_purl(
                "t",
                Some("2.1~rc1"),
                Some("1"),
                Some(0),
                "x86_64",
                None,
                None,
                Some("SUSE LLC <https://www.suse.com/>")
            ),
            "pkg:rpm/sles/t@2.1~rc1-1?arch=x86_64&epoch=0"
        );
        let leap = OsRelease {
            id: Some("opensuse-leap".into()),
            version_id: Some("15.5".into()),
            ..OsRelease::default()
        };
        assert_eq!(
            rpm_purl(
                "gpg-pubkey",
                Some("a"),
                Some("b"),
                None,
                "",
                None,
                Some(&leap),
                Some("Red Hat, Inc.")
            ),
            "pkg:rpm/opensuse/gpg-pubkey@a-b?distro=opensuse-leap-15.5"
        );
        assert_eq!(rpm_namespace(None, Some("Microsoft Corporation")), None);
        assert_eq!(
            rpm_namespace(None, Some("Red Hat, Inc.")).as_deref(),
            Some("redhat")
        );
    }

    #[test]
    fn no_os() {
        assert_eq!(
            deb_purl("netbase", "6.4", "all", (None, None), None),
            "pkg:deb/debian/netbase@6.4?arch=all"
        );
    }

    #[test]
    fn codename_fallback_and_ubuntu() {
        let os = OsRelease {
            id: Some("Ubuntu".into()),
            version_codename: Some("noble".into()),
            ..OsRelease::default()
        };
        assert_eq!(
            deb_purl("libc6", "2.39-0ubuntu8", "", (None, None), Some(&os)),
            "pkg:deb/ubuntu/libc6@2.39-0ubuntu8?distro=ubuntu-noble"
        );
    }
}
