//! The per-package files of `/var/lib/dpkg/info/`: `NAME.list` (the
//! package's paths), `NAME.md5sums` (digests, also the distroless
//! `status.d/NAME.md5sums`) and `NAME.conffiles`. Bytes in, values out (as
//! syft's `parse_dpkg_info_files.go`); which files belong to which package
//! is [`super::attach`]'s job.

use crate::budget::{FILE_COST, SLACK};
use crate::{DigestAlgo, FileDigest};

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
pub(super) fn list_cost(bytes: &[u8]) -> u64 {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    lines * (FILE_COST + SLACK) + bytes.len() as u64
}

/// What a parsed `md5sums` file costs while a package is built: its entries
/// and the map over them.
pub(super) fn md5sums_cost(bytes: &[u8]) -> u64 {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let entry = std::mem::size_of::<(Vec<u8>, FileDigest)>() as u64 + 48 + 3 * SLACK;
    lines * entry + 2 * bytes.len() as u64
}

/// Lines of a `.list` file, in order, verbatim (only the newline removed).
pub(super) fn parse_list(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Paths of an `info/*.conffiles` file (dpkg >= 1.20 may prefix a line with
/// `remove-on-upgrade `).
pub(super) fn parse_info_conffiles(bytes: &[u8]) -> Vec<Vec<u8>> {
    parse_list(bytes)
        .into_iter()
        .map(|l| match l.strip_prefix(b"remove-on-upgrade ") {
            Some(p) => p.to_vec(),
            None => l,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
