//! The `files` check (`--level files`): every entry of the live scan
//! against the attested SBOM ([`bakeproof_diff::compare_file_maps`],
//! matched by raw path bytes), expected-mutable paths left alone.

use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use bakeproof_diff::FileMap;

use crate::report::FileDiff;

/// The differences; `leave`: the globs the comparison leaves alone (the
/// ignored paths and what the first-boot rules judged), `ignored`: the
/// ignored-path globs themselves.
pub(crate) fn diff_files(
    attested: &FileMap<'_>,
    live: &FileMap<'_>,
    leave: &globset::GlobSet,
    ignored: &[String],
) -> Vec<FileDiff> {
    // The literal leading part of each ignored glob (`/etc/ssh/ssh_host_`
    // of `/etc/ssh/ssh_host_*`): a directory added at first boot only to
    // hold ignored paths (a new `/etc/ssh` for fresh host keys, which the
    // live scan does not read) is expected. What else it holds is still
    // compared entry by entry.
    let literal: Vec<&[u8]> = ignored
        .iter()
        .map(|g| {
            let end = g.find(['*', '?', '[', '{']).unwrap_or(g.len());
            &g.as_bytes()[..end]
        })
        .collect();
    let is_mutable = |p: &[u8]| {
        leave.is_match(Path::new(std::ffi::OsStr::from_bytes(p)))
            || (p.ends_with(b"/")
                && literal
                    .iter()
                    .any(|l| l.len() > p.len() && l.starts_with(p)))
    };
    bakeproof_diff::compare_file_maps(attested, live, &is_mutable)
        .into_iter()
        .map(FileDiff::of)
        .collect()
}
