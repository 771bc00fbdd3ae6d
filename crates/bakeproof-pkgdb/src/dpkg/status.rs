//! The status-file format: dpkg's `status`, an `updates/NNNN` journal entry,
//! a distroless `status.d/` file. All are deb822 stanzas ([`crate::deb822`]);
//! this module turns them into packages. Bytes in, values out: reading the
//! files from a root is [`super`]'s job.

use std::collections::HashMap;

use crate::budget::{Budget, BudgetError, FILE_COST, SLACK};
use crate::deb822::{self, Stanza};
use crate::{
    Dependency, DigestAlgo, Ecosystem, FileDigest, OsRelease, Package, PackageFile, PkgDbError,
    deb_purl,
};

/// How a stanza without a `Status:` field is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMode {
    /// `/var/lib/dpkg/status` semantics: no `Status:` means not installed,
    /// as dpkg-query treats it.
    Status,
    /// Distroless `status.d/` semantics: the image builder wrote one stanza
    /// per package it unpacked, usually without `Status:` since no dpkg ever
    /// ran; such a stanza is installed (as syft and trivy treat it). A stanza
    /// that does have `Status:` is judged by it.
    StatusD,
}

/// Result of parsing a status-format file from bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusParse {
    /// Installed packages in file order; `files` holds only conffiles (the
    /// only paths a status stanza names).
    pub packages: Vec<Package>,
    pub warnings: Vec<String>,
    /// Stanzas that had a `Package:` field, installed or not: zero for input
    /// that is not a status file at all.
    pub stanzas_with_package: usize,
}

/// `Status:` states (third word) that count as installed.
///
/// Everything from `half-installed` up is on disk, at least partly, and
/// dpkg-query lists it; an SBOM must too, or the files of a package whose
/// postinst failed (`half-configured`) or whose triggers are pending would
/// show up as unowned. `not-installed` (a stanza dpkg keeps only for
/// selections) and `config-files` (removed, only conffiles left, which are
/// unowned leftovers now) are not installed.
pub(super) const INSTALLED_STATES: [&str; 6] = [
    "installed",
    "half-configured",
    "unpacked",
    "half-installed",
    "triggers-awaited",
    "triggers-pending",
];

/// dpkg's `${db:Status-Abbrev}`: want, status, error flag.
pub(crate) fn status_abbrev(status: &str) -> Option<String> {
    let mut w = status.split_whitespace();
    let (want, eflag, st) = (w.next()?, w.next()?, w.next()?);
    let want = match want {
        "unknown" => 'u',
        "install" => 'i',
        "hold" => 'h',
        "deinstall" => 'r',
        "purge" => 'p',
        _ => return None,
    };
    let eflag = match eflag {
        "ok" => ' ',
        "reinstreq" => 'R',
        _ => return None,
    };
    let st = match st {
        "not-installed" => 'n',
        "config-files" => 'c',
        "half-installed" => 'H',
        "unpacked" => 'U',
        "half-configured" => 'F',
        "triggers-awaited" => 'W',
        "triggers-pending" => 't',
        "installed" => 'i',
        _ => return None,
    };
    Some([want, st, eflag].iter().collect())
}

/// A conffile as the `Conffiles:` field records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Conffile {
    pub(super) path: Vec<u8>,
    pub(super) digest: Option<FileDigest>,
}

/// A stanza turned into a package, before filtering and before its info files
/// are attached.
#[derive(Clone, Debug)]
pub(super) struct Record {
    pub(super) pkg: Package,
    pub(super) conffiles: Vec<Conffile>,
    pub(super) installed: bool,
}

/// The records of one status-format file, as [`records`] returns them.
#[derive(Debug)]
pub(super) struct Records {
    /// Every record, installed or not, in file order (a name and
    /// architecture listed twice keeps the later stanza).
    pub(super) records: Vec<Record>,
    pub(super) warnings: Vec<String>,
    /// Stanzas that had a `Package:` field (see
    /// [`StatusParse::stanzas_with_package`]).
    pub(super) stanzas_with_package: usize,
    /// The mode the stanzas were judged by: the one asked for, or the one
    /// the stanzas implied (see [`records`]).
    pub(super) mode: StatusMode,
}

/// Parses a status-format file (dpkg `status`, an `updates/` entry, a
/// `status.d/` file) and keeps the installed packages.
///
/// Never fails: damage becomes `warnings`. Purls are built without
/// os-release (namespace `debian`); readers that know the OS rebuild them.
///
/// Memory: within a default [`Budget`]; a status file whose packages would
/// pass it gives no packages and a warning saying so.
pub fn parse_dpkg_status_detailed(bytes: &[u8], mode: StatusMode) -> StatusParse {
    match status_parse(bytes, Some(mode), "status", None, &mut Budget::default()) {
        Ok((p, _)) => p,
        Err(e) => StatusParse {
            packages: Vec::new(),
            warnings: vec![format!("status: {e}")],
            stanzas_with_package: 0,
        },
    }
}

/// Installed packages of a dpkg `status` file (see
/// [`parse_dpkg_status_detailed`], which also returns the warnings).
///
/// Errors only when the input is not blank yet holds no stanza with a
/// `Package:` field, i.e. is not a status file at all; an empty status file
/// (a system with nothing installed) is `Ok(vec![])`.
pub fn parse_dpkg_status(bytes: &[u8]) -> Result<Vec<Package>, PkgDbError> {
    let (p, _) = status_parse(
        bytes,
        Some(StatusMode::Status),
        "status",
        None,
        &mut Budget::default(),
    )
    .map_err(|source| PkgDbError::Budget {
        file: "status".into(),
        source,
    })?;
    p.check_is_status(bytes, "status")?;
    Ok(p.packages)
}

/// The one [`StatusParse`] builder: the installed records of `bytes`, each
/// with its conffiles as its files and a purl for `os`, and the mode they
/// were judged by (`mode` as for [`records`]).
pub(super) fn status_parse(
    bytes: &[u8],
    mode: Option<StatusMode>,
    origin: &str,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<(StatusParse, StatusMode), BudgetError> {
    let r = records(bytes, mode, origin, budget)?;
    let mode = r.mode;
    Ok((StatusParse::from_records(r, os), mode))
}

impl StatusParse {
    /// Keeps the installed records, each with its conffiles as its files.
    fn from_records(r: Records, os: Option<&OsRelease>) -> StatusParse {
        StatusParse {
            packages: r
                .records
                .into_iter()
                .filter(|r| r.installed)
                .map(|r| with_conffiles_only(r, os))
                .collect(),
            warnings: r.warnings,
            stanzas_with_package: r.stanzas_with_package,
        }
    }

    /// [`PkgDbError::NotADatabase`] when `bytes` (what this was parsed
    /// from) is not blank yet no stanza had a `Package:` field.
    pub(super) fn check_is_status(&self, bytes: &[u8], file: &str) -> Result<(), PkgDbError> {
        if self.stanzas_with_package == 0 && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(PkgDbError::NotADatabase {
                file: file.to_owned(),
                reason: self
                    .warnings
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "no stanza has a Package field".to_owned()),
            });
        }
        Ok(())
    }
}

fn with_conffiles_only(mut r: Record, os: Option<&OsRelease>) -> Package {
    r.pkg.files = r
        .conffiles
        .into_iter()
        .map(|c| PackageFile {
            digest: c.digest,
            config: true,
            ..PackageFile::new(c.path)
        })
        .collect();
    r.pkg.purl = deb_purl(
        &r.pkg.name,
        &r.pkg.version,
        &r.pkg.arch,
        (
            r.pkg.source_name.as_deref(),
            r.pkg.source_version.as_deref(),
        ),
        os,
    );
    r.pkg
}

/// What a file's stanzas cost while parsed ([`deb822::parse`] holds a
/// field per line): charged for the time the records are being built.
fn stanzas_cost(bytes: &[u8]) -> u64 {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    lines * (std::mem::size_of::<deb822::Field>() as u64 + 2 * SLACK) + bytes.len() as u64
}

/// What a record keeps: the package, its strings (at most the stanza's
/// bytes) and its conffiles (which may all become files).
fn record_cost(st: &Stanza, r: &Record) -> u64 {
    let bytes: u64 = st.fields.iter().map(|f| f.value.len() as u64).sum();
    let conf: u64 = r
        .conffiles
        .iter()
        .map(|c| std::mem::size_of::<Conffile>() as u64 + FILE_COST + 2 * c.path.len() as u64)
        .sum();
    std::mem::size_of::<Record>() as u64 + 16 * SLACK + bytes + conf
}

/// Parses stanzas into records within `budget`; `origin` prefixes warnings.
///
/// `mode: None` decides from the stanzas, as for a bare file whose kind is
/// unknown: a file in which no stanza has a `Status:` field is a distroless
/// `status.d` file ([`StatusMode::StatusD`]), anything else (an empty file
/// too) is a `status` file.
pub(super) fn records(
    bytes: &[u8],
    mode: Option<StatusMode>,
    origin: &str,
    budget: &mut Budget,
) -> Result<Records, BudgetError> {
    let transient = stanzas_cost(bytes);
    budget.charge(transient, || {
        format!("{origin}: stanzas of {} bytes", bytes.len())
    })?;
    let out = records_charged(bytes, mode, origin, budget);
    budget.refund(transient);
    out
}

fn records_charged(
    bytes: &[u8],
    mode: Option<StatusMode>,
    origin: &str,
    budget: &mut Budget,
) -> Result<Records, BudgetError> {
    let parsed = deb822::parse(bytes, false);
    let mode = mode.unwrap_or_else(|| {
        let any_status = parsed.stanzas.iter().any(|s| s.get("Status").is_some());
        if any_status || parsed.stanzas.is_empty() {
            StatusMode::Status
        } else {
            StatusMode::StatusD
        }
    });
    let mut warnings: Vec<String> = parsed
        .warnings
        .into_iter()
        .map(|w| format!("{origin}: {w}"))
        .collect();
    // dpkg ends every stanza with a newline; a file that does not end with
    // one was cut short (a truncated copy, a full disk), so the last stanza's
    // last value may be partial. It is kept (its name is still right) but
    // flagged.
    if !bytes.ends_with(b"\n") && !bytes.iter().all(u8::is_ascii_whitespace) {
        warnings.push(format!(
            "{origin}: does not end with a newline: the last stanza may be truncated"
        ));
    }
    let mut out: Vec<Record> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut with_package = 0;
    for st in &parsed.stanzas {
        if st.get("Package").is_some() {
            with_package += 1;
        }
        match record(st, mode, origin, &mut warnings) {
            Ok(r) => {
                budget.charge(record_cost(st, &r), || {
                    format!("{origin}: line {}: package {}", st.line, r.pkg.name)
                })?;
                insert_record(&mut out, &mut index, r, origin, &mut warnings)
            }
            Err(why) => warnings.push(format!("{origin}: line {}: stanza skipped: {why}", st.line)),
        }
    }
    Ok(Records {
        records: out,
        warnings,
        stanzas_with_package: with_package,
        mode,
    })
}

/// Adds a record, replacing one with the same name and architecture (dpkg's
/// key). In one file that is damage (dpkg would refuse the file) and is
/// warned about. `index` maps the key to the record's position, so big
/// status files (thousands of stanzas) stay linear.
fn insert_record(
    out: &mut Vec<Record>,
    index: &mut HashMap<(String, String), usize>,
    r: Record,
    origin: &str,
    warnings: &mut Vec<String>,
) {
    let key = (r.pkg.name.clone(), r.pkg.arch.clone());
    match index.get(&key) {
        Some(&i) => {
            warnings.push(format!(
                "{origin}: package {} ({}) listed twice, the later stanza kept",
                r.pkg.name, r.pkg.arch
            ));
            out[i] = r;
        }
        None => {
            index.insert(key, out.len());
            out.push(r);
        }
    }
}

fn record(
    st: &Stanza,
    mode: StatusMode,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Result<Record, String> {
    let name = st.first_line("Package").ok_or("no Package field")?;
    if name.contains(char::is_whitespace) {
        return Err(format!("invalid package name {name:?}"));
    }
    let version = st
        .first_line("Version")
        .ok_or_else(|| format!("{name}: no Version field"))?;
    let line = st.line;
    let mut warn = |msg: String| warnings.push(format!("{origin}: line {line}: {name}: {msg}"));
    let arch = st.first_line("Architecture").unwrap_or_else(|| {
        warn("no Architecture field".to_owned());
        String::new()
    });
    let status = st.first_line("Status");
    let installed = match &status {
        None => mode == StatusMode::StatusD,
        Some(s) => {
            let state = s.split_whitespace().nth(2);
            if state.is_none() {
                warn(format!("malformed Status {s:?}, taken as not installed"));
            }
            state.is_some_and(|w| INSTALLED_STATES.contains(&w))
        }
    };
    let (source_name, source_version) = match st.first_line("Source") {
        Some(s) => parse_source(&s),
        None => (None, None),
    };
    let installed_size = st.first_line("Installed-Size").and_then(|s| {
        let kib = s.parse::<u64>().ok().and_then(|k| k.checked_mul(1024));
        if kib.is_none() {
            warn(format!("invalid Installed-Size {s:?}"));
        }
        kib
    });
    let multi_arch = st.first_line("Multi-Arch");
    let db_key = if multi_arch
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("same"))
        && !arch.is_empty()
    {
        format!("{name}:{arch}")
    } else {
        name.clone()
    };
    let mut depends = relations(st.get_str("Depends").as_deref().unwrap_or(""));
    depends.extend(relations(
        st.get_str("Pre-Depends").as_deref().unwrap_or(""),
    ));
    let provides = relations(st.get_str("Provides").as_deref().unwrap_or(""))
        .into_iter()
        .flat_map(|d| d.alternatives)
        .collect();
    let conffiles = st
        .get("Conffiles")
        .map(|v| conffiles(v, &mut warn))
        .unwrap_or_default();
    Ok(Record {
        pkg: Package {
            ecosystem: Ecosystem::Deb,
            epoch: epoch(&version),
            purl: String::new(),
            licenses: Vec::new(),
            // The stanza's `Origin:`; apt_lists::assign_suppliers decides.
            supplier: st.first_line("Origin"),
            author: st.first_line("Maintainer"),
            summary: st.first_line("Description"),
            homepage: st.first_line("Homepage"),
            installed_size,
            multi_arch,
            status,
            depends,
            provides,
            files: Vec::new(),
            db_key,
            properties: Vec::new(),
            locations: Vec::new(),
            hashes: Vec::new(),
            source_name,
            source_version,
            name,
            version,
            arch,
        },
        conffiles,
        installed,
    })
}

/// The epoch of a Debian version: the digits before the first `:`.
fn epoch(version: &str) -> Option<u64> {
    let (e, _) = version.split_once(':')?;
    if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    e.parse().ok()
}

/// `Source: bzip2 (1.0.8-5)` -> (`bzip2`, `1.0.8-5`); `Source: bzip2` ->
/// (`bzip2`, none).
fn parse_source(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim();
    let (name, rest) = match s.find(|c: char| c.is_whitespace() || c == '(') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let version = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(v, _)| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let name = (!name.is_empty()).then(|| name.to_owned());
    (name, version)
}

/// Package names of a relation field (`a (>= 1) | b:any, c [amd64]`):
/// clauses split on `,`, alternatives on `|`, each reduced to its name.
fn relations(field: &str) -> Vec<Dependency> {
    field
        .split(',')
        .filter_map(|clause| {
            let alternatives: Vec<String> = clause
                .split('|')
                .filter_map(|alt| {
                    let alt = alt.trim();
                    let end = alt
                        .find(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<'))
                        .unwrap_or(alt.len());
                    let name = alt[..end].split(':').next().unwrap_or_default();
                    (!name.is_empty()).then(|| name.to_owned())
                })
                .collect();
            (!alternatives.is_empty()).then_some(Dependency { alternatives })
        })
        .collect()
}

/// `Conffiles:` lines: ` /path md5 [obsolete] [remove-on-upgrade]`. The path
/// may contain spaces, so the line is taken apart from the right, as dpkg
/// does. A hash that is not 32 hex digits (dpkg's `newconffile`
/// placeholder) gives a conffile without digest.
fn conffiles(value: &[u8], warn: &mut impl FnMut(String)) -> Vec<Conffile> {
    let mut out = Vec::new();
    for line in value.split(|&b| b == b'\n') {
        let mut rest = deb822::trim(line);
        if rest.is_empty() {
            continue;
        }
        let hash = loop {
            let Some(sp) = rest.iter().rposition(|&b| b == b' ') else {
                warn(format!(
                    "malformed Conffiles line {:?}",
                    String::from_utf8_lossy(line)
                ));
                break None;
            };
            let last = &rest[sp + 1..];
            rest = deb822::trim(&rest[..sp]);
            if last != b"obsolete" && last != b"remove-on-upgrade" {
                break Some(last);
            }
        };
        let Some(hash) = hash else { continue };
        if rest.is_empty() {
            continue;
        }
        out.push(Conffile {
            path: rest.to_vec(),
            digest: std::str::from_utf8(hash)
                .ok()
                .and_then(|h| FileDigest::from_hex(DigestAlgo::Md5, h)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_field() {
        assert_eq!(
            parse_source("bzip2 (1.0.8-5)"),
            (Some("bzip2".into()), Some("1.0.8-5".into()))
        );
        assert_eq!(
            parse_source("libcap2 (1:2.66-4+deb12u2)"),
            (Some("libcap2".into()), Some("1:2.66-4+deb12u2".into()))
        );
        assert_eq!(parse_source("foo"), (Some("foo".into()), None));
        assert_eq!(parse_source("foo ("), (Some("foo".into()), None));
        assert_eq!(parse_source("(1)"), (None, Some("1".into())));
    }

    #[test]
    fn epochs() {
        assert_eq!(epoch("1:2.66-4"), Some(1));
        assert_eq!(epoch("2.66"), None);
        assert_eq!(epoch(":1"), None);
        assert_eq!(epoch("a:1"), None);
        assert_eq!(epoch("99999999999999999999999:1"), None);
    }

    #[test]
    fn relation_fields() {
        let d = relations(
            "libpam-runtime (>= 1.1.3-2~), libc6 (>= 2.4) | libc6.1:any, python3:any [amd64] <!nocheck>, , |",
        );
        let names: Vec<Vec<&str>> = d
            .iter()
            .map(|c| c.alternatives.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec!["libpam-runtime"],
                vec!["libc6", "libc6.1"],
                vec!["python3"]
            ]
        );
    }

    #[test]
    fn conffile_lines() {
        let mut w = Vec::new();
        let c = conffiles(
            b"\n /etc/a b/c 3975f0d8c4e1ecb25f035edfb1ba27ac\n /etc/old 3975F0D8C4E1ECB25F035EDFB1BA27AC obsolete\n \
              /etc/new newconffile\n /etc/r 3975f0d8c4e1ecb25f035edfb1ba27ac remove-on-upgrade\n nospace",
            &mut |s| w.push(s),
        );
        let paths: Vec<&[u8]> = c.iter().map(|c| c.path.as_slice()).collect();
        assert_eq!(
            paths,
            [&b"/etc/a b/c"[..], b"/etc/old", b"/etc/new", b"/etc/r"]
        );
        assert_eq!(
            c[1].digest.as_ref().map(|d| d.hex.as_str()),
            Some("3975f0d8c4e1ecb25f035edfb1ba27ac")
        );
        assert_eq!(c[2].digest, None);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn abbrev() {
        assert_eq!(
            status_abbrev("install ok installed").as_deref(),
            Some("ii ")
        );
        assert_eq!(
            status_abbrev("deinstall reinstreq half-configured").as_deref(),
            Some("rFR")
        );
        assert_eq!(status_abbrev("install ok"), None);
    }
}
