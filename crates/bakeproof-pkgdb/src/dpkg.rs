//! dpkg's database: `status`, `updates/`, `info/*.list`, `*.md5sums`,
//! `*.conffiles`, and the distroless `status.d/` variant.

use std::collections::{HashMap, HashSet};

use bakeproof_index::{ReadOnlyTree, RootError};

use crate::budget::{Budget, BudgetError, FILE_COST, SLACK};
use crate::deb822::{self, Stanza};
use crate::{
    DbKind, Dependency, DigestAlgo, Ecosystem, FileDigest, OsRelease, Package, PackageDb,
    PackageFile, PkgDbError, copyright, deb_purl,
};

/// dpkg's default administrative directory.
pub const DPKG_ADMINDIR: &str = "/var/lib/dpkg";
/// Largest `status` file read. Big desktop installs reach ~10 MiB; the limit
/// only bounds what a hostile image can make us allocate.
pub const STATUS_LIMIT: u64 = 256 << 20;
/// Largest `info/*` or `status.d/*` file read.
pub const INFO_LIMIT: u64 = 64 << 20;

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
pub const INSTALLED_STATES: [&str; 6] = [
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
struct Conffile {
    path: Vec<u8>,
    digest: Option<FileDigest>,
}

/// A stanza turned into a package, before filtering and before its info files
/// are attached.
#[derive(Clone, Debug)]
struct Record {
    pkg: Package,
    conffiles: Vec<Conffile>,
    installed: bool,
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
    let (records, warnings, stanzas_with_package) =
        match records(bytes, mode, "status", &mut Budget::default()) {
            Ok(r) => r,
            Err(e) => (Vec::new(), vec![format!("status: {e}")], 0),
        };
    StatusParse {
        packages: records
            .into_iter()
            .filter(|r| r.installed)
            .map(|r| with_conffiles_only(r, None))
            .collect(),
        warnings,
        stanzas_with_package,
    }
}

/// Installed packages of a dpkg `status` file (see
/// [`parse_dpkg_status_detailed`], which also returns the warnings).
///
/// Errors only when the input is not blank yet holds no stanza with a
/// `Package:` field, i.e. is not a status file at all; an empty status file
/// (a system with nothing installed) is `Ok(vec![])`.
pub fn parse_dpkg_status(bytes: &[u8]) -> Result<Vec<Package>, PkgDbError> {
    let (records, warnings, stanzas_with_package) =
        records(bytes, StatusMode::Status, "status", &mut Budget::default()).map_err(|source| {
            PkgDbError::Budget {
                file: "status".into(),
                source,
            }
        })?;
    let p = StatusParse {
        packages: records
            .into_iter()
            .filter(|r| r.installed)
            .map(|r| with_conffiles_only(r, None))
            .collect(),
        warnings,
        stanzas_with_package,
    };
    check_is_status(bytes, &p, "status")?;
    Ok(p.packages)
}

fn check_is_status(bytes: &[u8], p: &StatusParse, file: &str) -> Result<(), PkgDbError> {
    if p.stanzas_with_package == 0 && !bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PkgDbError::NotADatabase {
            file: file.to_owned(),
            reason: p
                .warnings
                .first()
                .cloned()
                .unwrap_or_else(|| "no stanza has a Package field".to_owned()),
        });
    }
    Ok(())
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
    r.pkg.purl = deb_purl(&r.pkg.name, &r.pkg.version, &r.pkg.arch, os);
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
fn records(
    bytes: &[u8],
    mode: StatusMode,
    origin: &str,
    budget: &mut Budget,
) -> Result<(Vec<Record>, Vec<String>, usize), BudgetError> {
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
    mode: StatusMode,
    origin: &str,
    budget: &mut Budget,
) -> Result<(Vec<Record>, Vec<String>, usize), BudgetError> {
    let parsed = deb822::parse(bytes, false);
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
    Ok((out, warnings, with_package))
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
            supplier: st.first_line("Maintainer"),
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

/// Parses an `info/*.md5sums` file: `md5  path` lines (path relative to `/`,
/// as `md5sum` printed it from the package's root; a `*` binary marker is
/// accepted too). Returns `(absolute path, digest)` in file order and a
/// warning per malformed line.
pub fn parse_md5sums(bytes: &[u8]) -> (Vec<(Vec<u8>, FileDigest)>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let parsed = line.iter().position(|&b| b == b' ').and_then(|sp| {
            let hash = std::str::from_utf8(&line[..sp]).ok()?;
            let digest = FileDigest::from_hex(DigestAlgo::Md5, hash)?;
            let mut path = &line[sp + 1..];
            if let [b' ' | b'*', p @ ..] = path {
                path = p;
            }
            if path.is_empty() {
                return None;
            }
            let mut abs = Vec::with_capacity(path.len() + 1);
            if path[0] != b'/' {
                abs.push(b'/');
            }
            abs.extend_from_slice(path);
            Some((abs, digest))
        });
        match parsed {
            Some(p) => out.push(p),
            None => warnings.push(format!("line {}: malformed md5sums line", i + 1)),
        }
    }
    (out, warnings)
}

/// What the files of a `.list` file cost once built: an entry per line plus
/// the path bytes.
fn list_cost(bytes: &[u8]) -> u64 {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    lines * (FILE_COST + SLACK) + bytes.len() as u64
}

/// What a parsed `md5sums` file costs while a package is built: its entries
/// and the map over them.
fn md5sums_cost(bytes: &[u8]) -> u64 {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let entry = std::mem::size_of::<(Vec<u8>, FileDigest)>() as u64 + 48 + 3 * SLACK;
    lines * entry + 2 * bytes.len() as u64
}

/// Lines of a `.list` file, in order, verbatim (only the newline removed).
fn parse_list(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Paths of an `info/*.conffiles` file (dpkg >= 1.20 may prefix a line with
/// `remove-on-upgrade `).
fn parse_info_conffiles(bytes: &[u8]) -> Vec<Vec<u8>> {
    parse_list(bytes)
        .into_iter()
        .map(|l| match l.strip_prefix(b"remove-on-upgrade ") {
            Some(p) => p.to_vec(),
            None => l,
        })
        .collect()
}

/// Parses dpkg's `diversions` file: groups of three lines (diverted path,
/// new path, diverting package or `:` for a local diversion).
pub fn parse_diversions(bytes: &[u8], warnings: &mut Vec<String>) -> Vec<crate::Diversion> {
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if !lines.len().is_multiple_of(3) {
        warnings.push(format!(
            "{DPKG_ADMINDIR}/diversions: {} lines, not a multiple of 3; trailing lines ignored",
            lines.len()
        ));
    }
    lines
        .chunks_exact(3)
        .map(|c| crate::Diversion {
            from: c[0].to_vec(),
            to: c[1].to_vec(),
            by: (c[2] != b":").then(|| String::from_utf8_lossy(c[2]).into_owned()),
        })
        .collect()
}

fn join(dir: &str, name: &[u8]) -> Vec<u8> {
    let mut p = dir.as_bytes().to_vec();
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Reads one optional file: `Ok(None)` when absent, a warning (and `None`)
/// when present but unreadable.
fn read_optional(
    root: &dyn ReadOnlyTree,
    path: &[u8],
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    match root.read_file(path, INFO_LIMIT) {
        Ok(b) => Some(b),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    }
}

/// Reads all dpkg databases in the root (see [`crate::read_root`]).
///
/// Each database is read within `budget` (see [`crate::budget`]).
pub fn read_dpkg(
    root: &dyn ReadOnlyTree,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<Vec<PackageDb>, PkgDbError> {
    let mut dbs = Vec::new();
    let mut licenses = LicenseCache::default();
    let status_path = join(DPKG_ADMINDIR, b"status");
    match root.read_file(&status_path, STATUS_LIMIT) {
        Ok(bytes) => {
            budget.start_db();
            let location = format!("{DPKG_ADMINDIR}/status");
            let db = read_status_db(root, &bytes, os, &mut licenses, budget).map_err(|source| {
                PkgDbError::Budget {
                    file: location,
                    source,
                }
            })?;
            dbs.push(db);
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(PkgDbError::root(&status_path, e)),
    }
    let statusd_path = join(DPKG_ADMINDIR, b"status.d");
    match root.read_dir(&statusd_path) {
        Ok(names) => {
            budget.start_db();
            let db =
                read_statusd_db(root, &names, os, &mut licenses, budget).map_err(|source| {
                    PkgDbError::Budget {
                        file: show(&statusd_path),
                        source,
                    }
                })?;
            dbs.push(db);
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(PkgDbError::root(&statusd_path, e)),
    }
    Ok(dbs)
}

fn read_status_db(
    root: &dyn ReadOnlyTree,
    bytes: &[u8],
    os: Option<&OsRelease>,
    licenses: &mut LicenseCache,
    budget: &mut Budget,
) -> Result<PackageDb, BudgetError> {
    let location = format!("{DPKG_ADMINDIR}/status");
    let (mut recs, mut warnings, _) = records(bytes, StatusMode::Status, &location, budget)?;
    apply_updates(root, &mut recs, &mut warnings, budget)?;
    recs.retain(|r| r.installed);
    let mut claims = Claims::new(recs.iter());
    let packages = recs
        .into_iter()
        .map(|r| {
            finish(
                root,
                r,
                os,
                None,
                licenses,
                &mut warnings,
                budget,
                &mut claims,
            )
        })
        .collect::<Result<_, _>>()?;
    let div_path = join(DPKG_ADMINDIR, b"diversions");
    let diversions = match root.read_file(&div_path, INFO_LIMIT) {
        Ok(bytes) => parse_diversions(&bytes, &mut warnings),
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => {
            warnings.push(format!("{DPKG_ADMINDIR}/diversions: {e}"));
            Vec::new()
        }
    };
    Ok(PackageDb {
        kind: DbKind::Dpkg,
        location,
        os: os.cloned(),
        packages,
        warnings,
        dropped: 0,
        diversions,
    })
}

/// Applies dpkg's journal: `updates/NNNN` files hold stanzas written by a
/// dpkg run that has not yet folded them into `status` (it was interrupted, or
/// the image was snapshotted mid-run). dpkg-query reads them on top of
/// `status`, in numeric order, so we do too. Only all-digit names are
/// journal entries (dpkg ignores others, e.g. its `tmp.i`).
fn apply_updates(
    root: &dyn ReadOnlyTree,
    recs: &mut Vec<Record>,
    warnings: &mut Vec<String>,
    budget: &mut Budget,
) -> Result<(), BudgetError> {
    let dir = join(DPKG_ADMINDIR, b"updates");
    let names = match root.read_dir(&dir) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => {
            warnings.push(e.to_string());
            return Ok(());
        }
    };
    let mut numbered: Vec<(u64, Vec<u8>)> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
        .filter_map(|n| Some((std::str::from_utf8(&n).ok()?.parse().ok()?, n)))
        .collect();
    numbered.sort();
    for (_, name) in numbered {
        let path = join(&show(&dir), &name);
        let Some(bytes) = read_optional(root, &path, warnings) else {
            continue;
        };
        let (new, w, _) = records(&bytes, StatusMode::Status, &show(&path), budget)?;
        warnings.extend(w);
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, o) in recs.iter().enumerate() {
            index.insert((o.pkg.name.as_str(), o.pkg.arch.as_str()), i);
        }
        let mut replaced: Vec<(Option<usize>, Record)> = Vec::new();
        for r in new {
            let at = index
                .get(&(r.pkg.name.as_str(), r.pkg.arch.as_str()))
                .copied();
            replaced.push((at, r));
        }
        for (at, r) in replaced {
            match at {
                Some(i) => recs[i] = r,
                None => recs.push(r),
            }
        }
    }
    Ok(())
}

fn read_statusd_db(
    root: &dyn ReadOnlyTree,
    names: &[Vec<u8>],
    os: Option<&OsRelease>,
    licenses: &mut LicenseCache,
    budget: &mut Budget,
) -> Result<PackageDb, BudgetError> {
    let dir = format!("{DPKG_ADMINDIR}/status.d");
    let mut warnings = Vec::new();
    let mut recs: Vec<(Record, Vec<u8>)> = Vec::new();
    for name in names {
        // `NAME.md5sums` files sit next to the stanzas in distroless images;
        // they are read per package below. Hidden files are editor/tool
        // leftovers, not stanzas.
        if name.ends_with(b".md5sums") || name.starts_with(b".") {
            continue;
        }
        let path = join(&dir, name);
        let bytes = match root.read_file(&path, INFO_LIMIT) {
            Ok(b) => b,
            Err(RootError::NotRegular { .. }) => continue,
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        let (new, w, _) = records(&bytes, StatusMode::StatusD, &show(&path), budget)?;
        warnings.extend(w);
        recs.extend(new.into_iter().map(|r| (r, name.clone())));
    }
    recs.retain(|(r, _)| r.installed);
    let mut claims = Claims::new(recs.iter().map(|(r, _)| r));
    let packages = recs
        .into_iter()
        .map(|(r, file)| {
            finish(
                root,
                r,
                os,
                Some(&file),
                licenses,
                &mut warnings,
                budget,
                &mut claims,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok(PackageDb {
        kind: DbKind::DpkgDistroless,
        location: dir,
        os: os.cloned(),
        packages,
        warnings,
        dropped: 0,
        diversions: Vec::new(),
    })
}

/// Which `info/` stems are taken. A package's own stem (its `db_key`) is
/// always its own; the other spelling (`name` for a `name:arch` key) is only
/// a fallback, used when no installed package has it as its own stem and no
/// other package used it already. So one `info/NAME.list` is read for one
/// package at most: a status file with many `Multi-Arch: same` instances of
/// one package that all lack their `NAME:ARCH.list` cannot make the same
/// list be read and built once per instance.
struct Claims {
    own: HashSet<String>,
    used: HashMap<String, String>,
}

impl Claims {
    fn new<'r>(recs: impl Iterator<Item = &'r Record>) -> Claims {
        Claims {
            own: recs.map(|r| r.pkg.db_key.clone()).collect(),
            used: HashMap::new(),
        }
    }
}

/// Attaches files, licenses and the purl to a record read from a root.
///
/// Files are the `.list` lines in order (what `dpkg-query -L` prints), each
/// with the MD5 from `.md5sums`, or for a conffile the MD5 from `Conffiles:`
/// (what `dpkg --verify` checks; `.md5sums` usually omits conffiles).
/// Conffiles not in `.list` (obsolete ones a newer version dropped) are not
/// files of the package, as for `dpkg -L` / `-S`.
///
/// Without a `.list` (normal for distroless `status.d`, damage otherwise)
/// the files are the `.md5sums` entries followed by the remaining conffiles:
/// the best list the image still holds.
///
/// `statusd_file` is the `status.d/` file the stanza came from, whose
/// `NAME.md5sums` sibling is the distroless md5sums.
#[allow(clippy::too_many_arguments)]
fn finish(
    root: &dyn ReadOnlyTree,
    r: Record,
    os: Option<&OsRelease>,
    statusd_file: Option<&[u8]>,
    licenses: &mut LicenseCache,
    warnings: &mut Vec<String>,
    budget: &mut Budget,
    claims: &mut Claims,
) -> Result<Package, BudgetError> {
    let Record {
        mut pkg, conffiles, ..
    } = r;
    let info = format!("{DPKG_ADMINDIR}/info");
    // dpkg's own name for info files is db_key; the other spelling is tried
    // for databases written before multiarch (info/format 0) or by tools
    // that get it wrong.
    let mut stems = vec![pkg.db_key.clone()];
    let alt = if pkg.db_key.contains(':') {
        pkg.name.clone()
    } else if !pkg.arch.is_empty() {
        format!("{}:{}", pkg.name, pkg.arch)
    } else {
        String::new()
    };
    if !alt.is_empty() {
        stems.push(alt);
    }

    let mut list = None;
    let mut stem = stems[0].clone();
    for (i, s) in stems.iter().enumerate() {
        if i > 0 && (claims.own.contains(s) || claims.used.contains_key(s)) {
            let by = claims.used.get(s).map_or(s.as_str(), String::as_str);
            warnings.push(format!(
                "{}: {info}/{s}.list not used as its file list: it is {by}'s",
                pkg.db_key
            ));
            continue;
        }
        let path = join(&info, format!("{s}.list").as_bytes());
        match root.read_file(&path, INFO_LIMIT) {
            Ok(b) => {
                budget.charge(list_cost(&b), || {
                    format!(
                        "{}: file list {} of {} bytes",
                        pkg.db_key,
                        show(&path),
                        b.len()
                    )
                })?;
                list = Some(parse_list(&b));
                claims.used.insert(s.clone(), pkg.db_key.clone());
                stem = s.clone();
                break;
            }
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                warnings.push(format!("{}: {e}", pkg.db_key));
                stem = s.clone();
                break;
            }
        }
    }
    if list.is_none() && statusd_file.is_none() {
        warnings.push(format!(
            "{}: no file list {info}/{}.list: its files are unknown",
            pkg.db_key, stems[0]
        ));
    }

    let mut md5_paths = vec![join(&info, format!("{stem}.md5sums").as_bytes())];
    if let Some(file) = statusd_file {
        let d = format!("{DPKG_ADMINDIR}/status.d");
        let mut own = file.to_vec();
        own.extend_from_slice(b".md5sums");
        md5_paths.push(join(&d, &own));
        md5_paths.push(join(&d, format!("{}.md5sums", pkg.name).as_bytes()));
    }
    let mut md5 = Vec::new();
    let mut md5_charge = 0;
    for path in &md5_paths {
        if let Some(b) = read_optional(root, path, warnings) {
            md5_charge = md5sums_cost(&b);
            budget.charge(md5_charge, || {
                format!("{}: {} of {} bytes", pkg.db_key, show(path), b.len())
            })?;
            let (m, w) = parse_md5sums(&b);
            warnings.extend(w.into_iter().map(|w| format!("{}: {w}", show(path))));
            md5 = m;
            break;
        }
    }
    let info_conf: HashSet<Vec<u8>> = match read_optional(
        root,
        &join(&info, format!("{stem}.conffiles").as_bytes()),
        warnings,
    ) {
        Some(b) => {
            let cost = list_cost(&b);
            budget.charge(cost, || format!("{}: conffiles list", pkg.db_key))?;
            md5_charge += cost;
            parse_info_conffiles(&b).into_iter().collect()
        }
        None => HashSet::new(),
    };

    let conf_digest: HashMap<&[u8], &Option<FileDigest>> = conffiles
        .iter()
        .map(|c| (c.path.as_slice(), &c.digest))
        .collect();
    let is_config = |p: &[u8]| conf_digest.contains_key(p) || info_conf.contains(p);

    pkg.files = match list {
        Some(list) => {
            let md5_map: HashMap<&[u8], &FileDigest> =
                md5.iter().map(|(p, d)| (p.as_slice(), d)).collect();
            let stray = {
                let listed: HashSet<&[u8]> = list.iter().map(Vec::as_slice).collect();
                md5.iter()
                    .filter(|(p, _)| !listed.contains(p.as_slice()))
                    .count()
            };
            // The list's paths are moved into the files, not copied.
            let files: Vec<PackageFile> = list
                .into_iter()
                .map(|p| {
                    let config = is_config(&p);
                    let digest = match conf_digest.get(p.as_slice()) {
                        Some(Some(d)) => Some(d.clone()),
                        _ => md5_map.get(p.as_slice()).map(|d| (*d).clone()),
                    };
                    PackageFile {
                        digest,
                        config,
                        ..PackageFile::new(p)
                    }
                })
                .collect();
            if stray > 0 {
                warnings.push(format!(
                    "{}: {stray} md5sums entries for paths not in its file list (ignored)",
                    pkg.db_key
                ));
            }
            files
        }
        None => {
            let mut files: Vec<PackageFile> = md5
                .into_iter()
                .map(|(p, d)| {
                    let config = is_config(&p);
                    let digest = match conf_digest.get(p.as_slice()) {
                        Some(Some(cd)) => Some(cd.clone()),
                        _ => Some(d),
                    };
                    PackageFile {
                        digest,
                        config,
                        ..PackageFile::new(p)
                    }
                })
                .collect();
            for c in &conffiles {
                if !files.iter().any(|f| f.path == c.path) {
                    files.push(PackageFile {
                        digest: c.digest.clone(),
                        config: true,
                        ..PackageFile::new(c.path.clone())
                    });
                }
            }
            files
        }
    };
    pkg.licenses = licenses.get(root, &pkg.name, warnings);
    pkg.purl = deb_purl(&pkg.name, &pkg.version, &pkg.arch, os);
    budget.refund(md5_charge);
    Ok(pkg)
}

/// Licenses per package name: `Multi-Arch: same` packages installed for two
/// architectures share one doc directory.
#[derive(Default)]
struct LicenseCache(HashMap<String, Vec<String>>);

impl LicenseCache {
    fn get(
        &mut self,
        root: &dyn ReadOnlyTree,
        name: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<String> {
        if let Some(l) = self.0.get(name) {
            return l.clone();
        }
        let path = format!("/usr/share/doc/{name}/copyright");
        let l = match root.read_file(path.as_bytes(), copyright::COPYRIGHT_LIMIT) {
            Ok(b) => copyright::licenses(&b),
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => {
                warnings.push(e.to_string());
                Vec::new()
            }
        };
        self.0.insert(name.to_owned(), l.clone());
        l
    }
}

/// See [`crate::read_bare_file`].
pub(crate) fn read_bare(
    bytes: &[u8],
    file_name: &str,
    os: Option<&OsRelease>,
    budget: &mut Budget,
) -> Result<PackageDb, PkgDbError> {
    let over = |source| PkgDbError::Budget {
        file: file_name.to_owned(),
        source,
    };
    let cost = stanzas_cost(bytes);
    budget
        .charge(cost, || format!("stanzas of {} bytes", bytes.len()))
        .map_err(over)?;
    let parsed = deb822::parse(bytes, false);
    let any_status = parsed.stanzas.iter().any(|s| s.get("Status").is_some());
    let (mode, kind) = if any_status || parsed.stanzas.is_empty() {
        (StatusMode::Status, DbKind::Dpkg)
    } else {
        (StatusMode::StatusD, DbKind::DpkgDistroless)
    };
    drop(parsed);
    budget.refund(cost);
    let (recs, warnings, stanzas_with_package) =
        records(bytes, mode, file_name, budget).map_err(over)?;
    let p = StatusParse {
        packages: recs
            .into_iter()
            .filter(|r| r.installed)
            .map(|r| with_conffiles_only(r, os))
            .collect(),
        warnings,
        stanzas_with_package,
    };
    check_is_status(bytes, &p, file_name)?;
    Ok(PackageDb {
        kind,
        location: file_name.to_owned(),
        os: os.cloned(),
        packages: p.packages,
        warnings: p.warnings,
        dropped: 0,
        diversions: Vec::new(),
    })
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
    fn md5sums_lines() {
        let (m, w) = parse_md5sums(
            b"07d31e7e63800ab1b7966980709c51eb  usr/lib/os-release\n\
              07d31e7e63800ab1b7966980709c51eb */abs path\nbad\nzz  x\n07d31e7e63800ab1b7966980709c51eb  \n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, b"/usr/lib/os-release");
        assert_eq!(m[1].0, b"/abs path");
        assert_eq!(w.len(), 3);
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

#[cfg(test)]
mod diversion_tests {
    use super::*;

    #[test]
    fn parses_diversions_in_threes() {
        let mut w = Vec::new();
        let d = parse_diversions(
            b"/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n/etc/x\n/etc/x.orig\n:\n/dangling\n",
            &mut w,
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].by.as_deref(), Some("postgresql-common"));
        assert_eq!(d[1].by, None);
        assert_eq!(w.len(), 1);
        let db = PackageDb {
            kind: DbKind::Dpkg,
            location: String::new(),
            os: None,
            packages: Vec::new(),
            warnings: Vec::new(),
            dropped: 0,
            diversions: d,
        };
        assert_eq!(
            db.diverted("libpq-dev", b"/usr/bin/pg_config"),
            b"/usr/bin/pg_config.libpq-dev"
        );
        assert_eq!(
            db.diverted("postgresql-common", b"/usr/bin/pg_config"),
            b"/usr/bin/pg_config"
        );
        assert_eq!(db.diverted("anything", b"/etc/x"), b"/etc/x.orig");
    }
}
