//! The distroless variant: `/var/lib/dpkg/status.d/`, one status-format file
//! per package (usually without `Status:`, since no dpkg ever ran), with the
//! package's `NAME.md5sums` beside it.

use bakeproof_index::{ReadOnlyTree, RootError};

use super::attach::{Claims, LicenseCache, finish};
use super::status::{Record, StatusMode, records};
use super::{DPKG_ADMINDIR, INFO_LIMIT, join, show};
use crate::budget::{Budget, BudgetError};
use crate::{DbKind, OsRelease, PackageDb};

pub(super) fn read_statusd_db(
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
        let parsed = records(&bytes, Some(StatusMode::StatusD), &show(&path), budget)?;
        let new = parsed.records;
        warnings.extend(parsed.warnings);
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
