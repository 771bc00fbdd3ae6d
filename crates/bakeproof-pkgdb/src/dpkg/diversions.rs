//! `/var/lib/dpkg/diversions`: the files `dpkg-divert` moved aside.

use super::DPKG_ADMINDIR;

/// Parses dpkg's `diversions` file: groups of three lines (diverted path,
/// new path, diverting package or `:` for a local diversion).
pub(super) fn parse_diversions(bytes: &[u8], warnings: &mut Vec<String>) -> Vec<crate::Diversion> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DbKind, PackageDb};

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
