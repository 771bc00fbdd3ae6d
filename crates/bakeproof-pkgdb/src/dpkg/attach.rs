//! A package's files, digests and licenses: which `info/` files belong to a
//! status record, read from the root and merged with its `Conffiles:`.

use std::collections::{HashMap, HashSet};

use bakeproof_index::ReadOnlyTree;

use super::info_files::{list_cost, md5sums_cost, parse_info_conffiles, parse_list, parse_md5sums};
use super::status::Record;
use super::{DPKG_ADMINDIR, INFO_LIMIT, join, read_optional, show};
use crate::budget::{Budget, BudgetError};
use crate::{FileDigest, OsRelease, Package, PackageFile, copyright, deb_purl};

/// Which `info/` stems are taken. A package's own stem (its `db_key`) is
/// always its own; the other spelling (`name` for a `name:arch` key) is only
/// a fallback, used when no installed package has it as its own stem and no
/// other package used it already. So one `info/NAME.list` is read for one
/// package at most: a status file with many `Multi-Arch: same` instances of
/// one package that all lack their `NAME:ARCH.list` cannot make the same
/// list be read and built once per instance.
pub(super) struct Claims {
    own: HashSet<String>,
    used: HashMap<String, String>,
}

impl Claims {
    pub(super) fn new<'r>(recs: impl Iterator<Item = &'r Record>) -> Claims {
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
pub(super) fn finish(
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
    pkg.purl = deb_purl(
        &pkg.name,
        &pkg.version,
        &pkg.arch,
        (pkg.source_name.as_deref(), pkg.source_version.as_deref()),
        os,
    );
    budget.refund(md5_charge);
    Ok(pkg)
}

/// Licenses per package name: `Multi-Arch: same` packages installed for two
/// architectures share one doc directory.
#[derive(Default)]
pub(super) struct LicenseCache(HashMap<String, Vec<String>>);

impl LicenseCache {
    pub(super) fn get(
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
