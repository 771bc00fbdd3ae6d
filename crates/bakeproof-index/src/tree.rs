//! The tree digest: one SHA-256 that names the content of a scanned root.
//!
//! The attestation binds an AMI to this digest, and the first-boot check
//! recomputes it, so it must depend only on what an image *is*, never on
//! how or where it was scanned. It therefore covers path, type, permission
//! bits, owner, size of regular files, content digest, link target, device
//! number and the scan state of each entry, and leaves out what changes when
//! the same tree is copied or mounted elsewhere: mtimes, inode and device
//! numbers, link counts, directory sizes, and the empty `/lost+found`
//! that `mke2fs` creates at the top of every ext filesystem (a tree copied
//! into an ext image gains it, one copied out of one keeps it: neither is
//! a change of content; a `/lost+found` holding anything, or that could
//! not be listed, stays in).
//!
//! Canonical form (`bakeproof-tree-v2`), hashed as one byte stream:
//!
//! ```text
//! bakeproof-tree-v2\n
//! then per entry, sorted by raw path bytes, but an empty /lost+found:
//! PATH \t KIND \t MODE \t UID \t GID \t SIZE \t SHA256 \t TARGET \t RDEV \t STATE \n
//! ```
//!
//! `PATH` and `TARGET` are the raw bytes with `%`, bytes below 0x21, 0x7F and
//! above escaped as `%XX` (upper-case hex); `KIND` is [`crate::FileKind::as_str`];
//! `MODE` is 4-digit octal permission bits; `SIZE` is decimal for regular files
//! and `-` otherwise; `SHA256` is lower-case hex or `-`; `TARGET` is `-` for
//! non-links; `RDEV` is decimal for devices, `-` otherwise; `STATE` is `ok`,
//! `skipped:REASON` or `error:CODE`.
//!
//! `bakeproof-tree-v1` was the same without the `/lost+found` rule. The
//! digest binds the documents of one scan to each other and to the AMI
//! (nothing recomputes an old document's digest), so v1 documents stay
//! valid as they are.

use sha2::{Digest, Sha256};

use crate::{Entry, FileKind};

/// Version tag hashed first; bump it when the canonical form changes.
pub const TREE_DIGEST_VERSION: &str = "bakeproof-tree-v2";

/// `bytes` as the tree digest writes a path: `%`, bytes below 0x21, 0x7F and
/// above as `%XX` (upper-case hex), everything else as is. Printable ASCII
/// without spaces, one token, and it decodes back to the exact bytes: the
/// form text outputs use for names that could be hostile (a newline in a
/// name cannot forge a line).
pub fn escape_path(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    escape(&mut out, bytes);
    // Only ASCII was written.
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b == b'%' || !(0x21..0x7f).contains(&b) {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

/// Appends the canonical line of one entry.
pub fn canonical_line(out: &mut Vec<u8>, e: &Entry) {
    use std::io::Write;
    escape(out, &e.path);
    let size = if e.kind == FileKind::Regular {
        e.size.to_string()
    } else {
        "-".into()
    };
    let digest = e.sha256.map(hex::encode).unwrap_or_else(|| "-".into());
    let _ = write!(
        out,
        "\t{}\t{:04o}\t{}\t{}\t{}\t{}\t",
        e.kind, e.mode, e.uid, e.gid, size, digest
    );
    match &e.link_target {
        Some(t) => escape(out, t),
        None => out.push(b'-'),
    }
    let rdev = e.rdev.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
    let state = match (&e.error, &e.skipped) {
        (Some(err), _) => format!("error:{}", err.code()),
        (None, Some(s)) => format!("skipped:{}", s.as_str()),
        (None, None) => "ok".into(),
    };
    let _ = writeln!(out, "\t{rdev}\t{state}");
}

/// Whether `e` is the top-level `/lost+found` the digest leaves out: a
/// directory, listed without error, with nothing recorded below it
/// (`entries` sorted by path bytes).
fn is_empty_lost_found(entries: &[Entry], e: &Entry) -> bool {
    const DIR: &[u8] = b"/lost+found";
    const BELOW: &[u8] = b"/lost+found/";
    if e.path != DIR || e.kind != FileKind::Directory || e.error.is_some() || e.skipped.is_some() {
        return false;
    }
    let first_below = entries.partition_point(|x| x.path.as_slice() < BELOW);
    !entries
        .get(first_below)
        .is_some_and(|x| x.path.starts_with(BELOW))
}

/// SHA-256 over the canonical form of `entries`, which must be sorted by
/// path bytes (as [`crate::scan`] returns them).
pub fn tree_digest(entries: &[Entry]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TREE_DIGEST_VERSION.as_bytes());
    h.update(b"\n");
    let mut line = Vec::with_capacity(256);
    for e in entries {
        if e.path.len() == 11 && is_empty_lost_found(entries, e) {
            continue;
        }
        line.clear();
        canonical_line(&mut line, e);
        h.update(&line);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &[u8], kind: FileKind) -> Entry {
        Entry {
            kind,
            error: None,
            ..Entry::vanished(path.to_vec())
        }
    }

    #[test]
    fn an_empty_lost_found_is_left_out_and_a_full_one_is_not() {
        let etc = entry(b"/etc", FileKind::Directory);
        let lf = entry(b"/lost+found", FileKind::Directory);
        let sibling = entry(b"/lost+found.old", FileKind::Directory);
        let inside = entry(b"/lost+found/#12", FileKind::Regular);
        let base = tree_digest(std::slice::from_ref(&etc));
        assert_eq!(tree_digest(&[etc.clone(), lf.clone()]), base);
        // Something sorting between it and its children does not hide them.
        let full = tree_digest(&[etc.clone(), lf.clone(), sibling.clone(), inside.clone()]);
        assert_ne!(
            full,
            tree_digest(&[etc.clone(), sibling.clone(), inside.clone()])
        );
        assert_eq!(
            tree_digest(&[etc.clone(), lf.clone(), sibling.clone()]),
            tree_digest(&[etc.clone(), sibling])
        );
        // Not a directory, not at the top, or unlistable: kept.
        let file = entry(b"/lost+found", FileKind::Regular);
        assert_ne!(tree_digest(&[etc.clone(), file]), base);
        let deep = entry(b"/var/lost+found", FileKind::Directory);
        assert_ne!(tree_digest(&[etc.clone(), deep]), base);
        let mut unlistable = lf;
        unlistable.error = Some(crate::EntryError::UnlistableDirectory("EACCES".into()));
        assert_ne!(tree_digest(&[etc, unlistable]), base);
    }
}
