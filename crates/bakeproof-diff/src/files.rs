//! Files: the `files` part of a diff (added, removed, modified, mode,
//! capabilities, became unowned), and the entry-by-entry comparison the
//! first-boot check (`bakeproof verify --level files`) makes of the live
//! root against the attested SBOM ([`compare_entries`]).
//!
//! Both key entries by their raw path bytes, as the decoder reads them back
//! (`bakeproof_sbom::cyclonedx::FileFacts`): a literal `/usr/lib/a%FF` and
//! the non-UTF-8 `/usr/lib/a<0xFF>`, whose texts are equal, are two
//! entries.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bakeproof_sbom::cyclonedx::decoder::Component;
use bakeproof_sbom::cyclonedx::{DecodeError, FileFacts, Sbom, decode_text, vocab};

use crate::model::{FileChange, FileChanges, FileEntry};

/// Maps keyed by paths and bom-refs read from the documents: a keyed hasher
/// with a per-process random seed (aHash), so names chosen to collide (a
/// fixed-seed hash such as FxHash can be flooded: 40k colliding file names
/// made the diff quadratic, minutes instead of a fraction of a second)
/// cannot degrade it, at a fraction of SipHash's cost.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A `file` component as the diff reads it. Lenient where the first-boot
/// check is strict: a component without a name is left out, an unknown
/// path encoding is read as none, and a marked name that does not decode
/// is kept as its text (the diff reports, it does not judge).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileRec<'a> {
    /// `name`, as the document writes it.
    pub(crate) name: &'a str,
    /// `bakeproof:file:path-encoding` is `percent`.
    pub(crate) encoded: bool,
    pub(crate) ftype: Option<&'a str>,
    pub(crate) sha256: Option<&'a str>,
    pub(crate) mode: Option<&'a str>,
    pub(crate) caps: Option<&'a str>,
    pub(crate) unowned: bool,
    pub(crate) verify_ok: bool,
}

/// A package's owned files: raw path → (name, SHA-256).
pub(crate) type OwnedFiles<'a> = BTreeMap<Cow<'a, [u8]>, (&'a str, &'a str)>;

/// The `file` components of one side, by raw path, and the owned files of
/// each package (by bom-ref) that verify ok (or carry no verification).
#[derive(Default)]
pub(crate) struct SideFiles<'a> {
    pub(crate) files: FastMap<Cow<'a, [u8]>, FileRec<'a>>,
    pub(crate) owned: FastMap<&'a str, OwnedFiles<'a>>,
    /// Whether the side has any `file` component at all.
    pub(crate) has_files: bool,
}

impl<'a> SideFiles<'a> {
    /// Adds one `file` component.
    pub(crate) fn add(&mut self, c: &'a Component<'_>) {
        self.has_files = true;
        let Some(path) = c.name() else {
            return;
        };
        let sha256 = c.sha256();
        let mut rec = FileRec {
            name: path,
            encoded: false,
            ftype: None,
            sha256,
            mode: None,
            caps: None,
            unowned: false,
            verify_ok: true,
        };
        let mut refs: Vec<&str> = Vec::new();
        for (k, v) in c.properties() {
            match k {
                vocab::FILE_TYPE => rec.ftype = Some(v),
                vocab::FILE_PATH_ENCODING => rec.encoded = v == vocab::PERCENT,
                vocab::FILE_MODE => rec.mode = Some(v),
                vocab::FILE_CAPABILITIES => rec.caps = Some(v),
                vocab::FILE_UNOWNED => rec.unowned = v == vocab::TRUE,
                vocab::FILE_VERIFY => rec.verify_ok = v == vocab::VERIFY_OK,
                vocab::FILE_PACKAGE => refs.push(v),
                _ => {}
            }
        }
        // A marked name that does not decode is kept as its text.
        let raw = decode_text(path, rec.encoded).unwrap_or(Cow::Borrowed(path.as_bytes()));
        if let Some(h) = sha256
            && rec.verify_ok
        {
            for r in refs {
                self.owned
                    .entry(r)
                    .or_default()
                    .insert(raw.clone(), (path, h));
            }
        }
        self.files.insert(raw, rec);
    }
}

/// The `files` part of the diff from `a` to `b` (both sides have files).
pub(crate) fn compare(a: &SideFiles<'_>, b: &SideFiles<'_>) -> FileChanges {
    let mut fc = FileChanges {
        compared: true,
        ..FileChanges::default()
    };
    let enc = |r: &FileRec<'_>| r.encoded.then(|| vocab::PERCENT.to_owned());
    let fe = |r: &FileRec<'_>| FileEntry {
        path: r.name.to_owned(),
        path_encoding: enc(r),
        ftype: r.ftype.map(str::to_owned),
        sha256: r.sha256.map(str::to_owned),
        unowned: r.unowned,
    };
    let chg = |r: &FileRec<'_>, from: Option<String>, to: Option<String>| FileChange {
        path: r.name.to_owned(),
        path_encoding: enc(r),
        from,
        to,
    };
    for (p, o) in &a.files {
        let Some(n) = b.files.get(p) else {
            fc.removed.push(fe(o));
            continue;
        };
        if o.ftype != n.ftype {
            fc.modified.push(chg(
                n,
                o.ftype.map(|t| format!("type:{t}")),
                n.ftype.map(|t| format!("type:{t}")),
            ));
        } else if let (Some(x), Some(y)) = (o.sha256, n.sha256)
            && !x.eq_ignore_ascii_case(y)
        {
            fc.modified
                .push(chg(n, Some(x.to_owned()), Some(y.to_owned())));
        }
        if let (Some(x), Some(y)) = (o.mode, n.mode)
            && x != y
        {
            fc.mode_changed
                .push(chg(n, Some(x.to_owned()), Some(y.to_owned())));
        }
        // Capabilities are compared as sets (two texts can spell one set);
        // only between regular files, where they exist.
        if o.ftype == n.ftype && caps_differ(o.caps, n.caps) {
            fc.capabilities_changed.push(chg(
                n,
                o.caps.map(str::to_owned),
                n.caps.map(str::to_owned),
            ));
        }
        if !o.unowned && n.unowned {
            fc.became_unowned
                .push(chg(n, Some("owned".into()), Some("unowned".into())));
        }
    }
    for (p, n) in &b.files {
        if !a.files.contains_key(p) {
            fc.added.push(fe(n));
        }
    }
    let key = |x: &FileEntry| (x.path.clone(), x.path_encoding.clone());
    fc.added.sort_by_key(key);
    fc.removed.sort_by_key(key);
    for l in [
        &mut fc.modified,
        &mut fc.mode_changed,
        &mut fc.capabilities_changed,
        &mut fc.became_unowned,
    ] {
        l.sort_by(|x, y| (&x.path, &x.path_encoding).cmp(&(&y.path, &y.path_encoding)));
    }
    fc
}

/// Whether two `bakeproof:file:capabilities` values name different sets.
/// Absent and `=` are both the empty set; a value that does not parse is
/// compared as text.
pub fn caps_differ(a: Option<&str>, b: Option<&str>) -> bool {
    let set = |v: Option<&str>| match v {
        None => Some(bakeproof_index::FileCaps::default()),
        Some(t) => bakeproof_index::FileCaps::from_text(t).ok(),
    };
    match (set(a), set(b)) {
        (Some(x), Some(y)) => {
            (x.effective, x.permitted, x.inheritable) != (y.effective, y.permitted, y.inheritable)
        }
        _ => a != b,
    }
}

/// What differs about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryChangeKind {
    /// Attested, absent from the live root.
    Missing,
    /// In the live root, not attested.
    Added,
    /// Another type (a symlink replaced by a regular file, ...).
    Type,
    /// A regular file's SHA-256 (or its absence: unreadable on one side).
    Modified,
    /// A symlink's target.
    Target,
    /// A device's `MAJOR:MINOR`.
    Device,
    /// A regular file's capabilities (compared as sets).
    Capabilities,
    /// Permission bits.
    Mode,
    /// `uid:gid`.
    Owner,
}

impl EntryChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryChangeKind::Missing => "missing",
            EntryChangeKind::Added => "added",
            EntryChangeKind::Type => "type",
            EntryChangeKind::Modified => "modified",
            EntryChangeKind::Target => "target",
            EntryChangeKind::Device => "device",
            EntryChangeKind::Capabilities => "capabilities",
            EntryChangeKind::Mode => "mode",
            EntryChangeKind::Owner => "owner",
        }
    }
}

/// One difference between an attested and a live entry. `attested` and
/// `live` are raw bytes (a link target can be any bytes; every other value
/// is ASCII text), `None` where that side has no value:
///
/// | change | attested / live |
/// | --- | --- |
/// | `missing`, `added` | a regular file's SHA-256, else the type |
/// | `type` | `bakeproof:file:type` |
/// | `modified` | SHA-256 hex |
/// | `target` | the link target |
/// | `device` | `MAJOR:MINOR` |
/// | `capabilities` | the capability text |
/// | `mode` | 4 octal digits |
/// | `owner` | `uid:gid` |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryChange {
    /// Raw path bytes.
    pub path: Vec<u8>,
    pub change: EntryChangeKind,
    pub attested: Option<Vec<u8>>,
    pub live: Option<Vec<u8>>,
}

fn text(s: Option<&str>) -> Option<Vec<u8>> {
    s.map(|s| s.as_bytes().to_vec())
}

/// What `missing` and `added` name an entry by.
fn summary(f: &FileFacts<'_>) -> Option<Vec<u8>> {
    match f.kind() {
        Some("file") | None => text(f.sha256.or(f.ftype)),
        Some(t) => text(Some(t)),
    }
}

fn owner(f: &FileFacts<'_>) -> Option<String> {
    match (f.uid, f.gid) {
        (None, None) => None,
        (u, g) => Some(format!("{}:{}", u.unwrap_or("?"), g.unwrap_or("?"))),
    }
}

/// Compares every entry of the live SBOM with the attested one, by raw
/// path: entries of any type missing or added, and for an entry on both
/// sides its type, then a regular file's SHA-256 and capabilities, a
/// symlink's target, a device's numbers, and every entry's permission bits
/// and owner. Values the SBOMs leave out on both sides are equal; on one
/// side only, a difference (fail-closed).
///
/// `is_mutable(path)` says a path is expected to change: it is not compared
/// at all. A directory added in the live root is expected too when
/// everything inside it is mutable (`is_mutable("DIR/")`, e.g. `/var/log/**`
/// for a new `/var/log`). A directory that was not descended on either
/// side (`bakeproof:file:skipped`, a mount point) shows the mounted file
/// system's root, not the image's: only its type is compared.
///
/// Sorted by path bytes, then kind. An error when either SBOM lists a path
/// twice or has a file component that cannot be read ([`Sbom::file_facts`]).
pub fn compare_entries(
    attested: &Sbom<'_>,
    live: &Sbom<'_>,
    is_mutable: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<EntryChange>, DecodeError> {
    Ok(compare_file_maps(
        &attested.file_map()?,
        &live.file_map()?,
        is_mutable,
    ))
}

/// The entries of an SBOM by raw path ([`Sbom::file_map`]).
pub type FileMap<'s> = BTreeMap<Cow<'s, [u8]>, FileFacts<'s>>;

/// [`compare_entries`] of maps the caller already built (the boot verifier
/// builds the attested one once for its host-key check and both levels).
pub fn compare_file_maps(
    a: &FileMap<'_>,
    l: &FileMap<'_>,
    is_mutable: &dyn Fn(&[u8]) -> bool,
) -> Vec<EntryChange> {
    let mut out = Vec::new();
    let mut push = |p: &[u8], change, attested, live| {
        out.push(EntryChange {
            path: p.to_vec(),
            change,
            attested,
            live,
        })
    };
    for (p, af) in a {
        if is_mutable(p) {
            continue;
        }
        let Some(lf) = l.get(p) else {
            push(p, EntryChangeKind::Missing, summary(af), None);
            continue;
        };
        if af.kind() != lf.kind() {
            push(p, EntryChangeKind::Type, text(af.kind()), text(lf.kind()));
            continue;
        }
        match af.kind() {
            Some("file") | None => {
                let same = match (af.sha256, lf.sha256) {
                    (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                    (x, y) => x == y,
                };
                if !same {
                    push(
                        p,
                        EntryChangeKind::Modified,
                        text(af.sha256),
                        text(lf.sha256),
                    );
                }
                // A new privilege (cap_sys_admin) is as much a tampering as
                // new bytes, and the digest does not show it.
                let (x, y) = (af.capabilities, lf.capabilities);
                if (x.is_some() || y.is_some()) && caps_differ(x, y) {
                    push(p, EntryChangeKind::Capabilities, text(x), text(y));
                }
            }
            Some("symlink") if af.link_target != lf.link_target => push(
                p,
                EntryChangeKind::Target,
                af.link_target.as_deref().map(<[u8]>::to_vec),
                lf.link_target.as_deref().map(<[u8]>::to_vec),
            ),
            Some("char-device" | "block-device") if af.rdev != lf.rdev => {
                push(p, EntryChangeKind::Device, text(af.rdev), text(lf.rdev))
            }
            _ => {}
        }
        if af.skipped.is_some() || lf.skipped.is_some() {
            continue;
        }
        if af.mode != lf.mode {
            push(p, EntryChangeKind::Mode, text(af.mode), text(lf.mode));
        }
        let (ao, lo) = (owner(af), owner(lf));
        if ao != lo {
            push(
                p,
                EntryChangeKind::Owner,
                text(ao.as_deref()),
                text(lo.as_deref()),
            );
        }
    }
    for (p, lf) in l {
        if a.contains_key(p) || is_mutable(p) {
            continue;
        }
        if lf.kind() == Some("directory") && {
            let mut inside = p.to_vec();
            inside.push(b'/');
            is_mutable(&inside) || only_expected_inside(l, &inside, is_mutable)
        } {
            continue;
        }
        push(p, EntryChangeKind::Added, None, summary(lf));
    }
    out.sort_by(|x, y| (&x.path, x.change).cmp(&(&y.path, y.change)));
    out
}

/// An added directory holds what is expected (first-boot state such as a
/// new `/home/USER` or `/etc/ssh` with fresh host keys) when it is not empty
/// and everything under it is either mutable or a directory itself: it
/// then adds nothing that is not judged elsewhere. An empty added directory,
/// or one with any unexpected entry, is reported.
fn only_expected_inside(
    live: &BTreeMap<Cow<'_, [u8]>, FileFacts<'_>>,
    prefix: &[u8],
    is_mutable: &dyn Fn(&[u8]) -> bool,
) -> bool {
    use std::ops::Bound;
    let mut any_mutable = false;
    for (p, f) in live
        .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(|(p, _)| p.starts_with(prefix))
    {
        if is_mutable(p) {
            any_mutable = true;
        } else if f.kind() != Some("directory") {
            return false;
        }
    }
    any_mutable
}

#[cfg(test)]
mod tests;
