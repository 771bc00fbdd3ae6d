//! rpm header blobs, as the rpm database stores them (sqlite `Packages.blob`,
//! a Berkeley DB `Packages` value, an NDB blob): the header *without* the
//! 8-byte magic/reserved prefix that package files carry.
//!
//! Layout (all integers big-endian), as librpm's `hdrblobInit` reads it:
//!
//! ```text
//! il: u32, dl: u32, il × { tag: i32, type: u32, offset: i32, count: u32 }, dl data bytes
//! ```
//!
//! # Why not the `rpm` crate
//!
//! The `rpm` crate (0.30) was checked (its registry source): `Header::parse`
//! is `pub(crate)`, so a database blob could only go through it wrapped as a
//! whole package stream (a synthesized 96-byte lead plus an empty signature
//! header, copied for every record). More importantly its parser is not safe
//! on hostile input, which this is (images are untrusted, and this function
//! is fuzzed): it allocates `dl + il * 16` bytes straight from the two
//! untrusted `u32`s before checking them against anything, adds them without
//! overflow checks, and slices the store with `bytes[entry.offset as usize..]`
//! without bounds checks (a panic for any offset past the store). It also
//! knows nothing of rpmdb region trailers and "dribble" entries. So the index
//! is parsed here, in ~300 lines that bound every read by the blob, allocate
//! nothing per tag (the index is scanned once into a fixed table of the tags
//! we use) and charge what they build to a [`Budget`] before building it.
//!
//! # Memory
//!
//! Reads are bounded by the blob, but what is built from it is not bounded
//! by its length: paths are `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, so one
//! 20 KB directory name and 200,000 one-byte base names (a 2 MB blob) would
//! join into 4 GB of paths. Every per-tag array (transient) and the files,
//! dependencies and paths kept are therefore charged to the caller's
//! [`Budget`] before they are allocated; going over it is
//! [`HeaderError::Budget`], with nothing large allocated.
//!
//! # Rules followed (librpm's)
//!
//! * Region: when the first entry is a region tag (61 `HEADERIMAGE`, 62
//!   `HEADERSIGNATURES`, 63 `HEADERIMMUTABLE`), it must be `BIN` with count
//!   16, and its offset must point at a 16-byte trailer inside the data whose
//!   tag is the region tag (or 61, which legacy headers write), type `BIN`,
//!   count 16 and offset `-(ril * 16)` with
//!   `1 <= ril <= il`; anything else is a corrupt header (librpm says "region
//!   trailer: BAD"). Entries after the region are the "dribble" entries rpm
//!   adds at install time; as in librpm they replace region entries with the
//!   same tag (and a dribble `BASENAMES` hides `OLDFILENAMES`). Without a
//!   region tag the whole index is one legacy header.
//! * `RPMTAG_NOT_FOUND`: a tag that is absent, or present with a type the
//!   reader cannot use (e.g. `NAME` stored as `INT32`), is "not found":
//!   `None` / empty, which `rpm --qf` prints as `(none)`. A wrong type and a
//!   per-file array whose count differs from the number of files also add a
//!   line to [`RpmHeader::warnings`]. Only a missing `NAME`, a malformed
//!   index or region, or an entry pointing outside the data is an error.
//! * Strings: `STRING` must have count 1; `STRING_ARRAY`/`I18NSTRING` hold
//!   `count` NUL-terminated strings. A scalar string read from an array type
//!   (`SUMMARY` is `I18NSTRING`) takes its first element, the C locale.
//!   Text that is not UTF-8 (old Latin-1 headers) is converted lossily; file
//!   paths and link targets are kept as bytes.
//! * `FILEDIGESTALGO` absent means MD5 (rpm's default, `PGPHASHALGO_MD5`).

use std::cell::{Cell, RefCell};
use std::fmt;

use crate::budget::{Budget, BudgetError, FILE_COST, SLACK};
use crate::codec::{Invalid, Reader};

/// Why a header blob could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Malformed: index, region, an entry outside the data, no `NAME`.
    #[error("rpm header: {0}")]
    Corrupt(String),
    /// Well-formed so far, but what it describes does not fit in the
    /// memory budget (see the module docs).
    #[error("rpm header: {0}")]
    Budget(#[from] BudgetError),
}

fn err<T>(msg: impl Into<String>) -> Result<T, HeaderError> {
    Err(HeaderError::Corrupt(msg.into()))
}

// Tag numbers (rpmtag.h).
const HEADERIMAGE: u32 = 61;
const HEADERSIGNATURES: u32 = 62;
const HEADERIMMUTABLE: u32 = 63;

// Entry types (rpmtag.h `rpmTagType`).
const T_CHAR: u32 = 1;
const T_INT8: u32 = 2;
const T_INT16: u32 = 3;
const T_INT32: u32 = 4;
const T_INT64: u32 = 5;
const T_STRING: u32 = 6;
const T_BIN: u32 = 7;
const T_STRING_ARRAY: u32 = 8;
const T_I18NSTRING: u32 = 9;

/// rpm's `RPMFILE_CONFIG` bit of `FILEFLAGS`.
pub const RPMFILE_CONFIG: u32 = 1 << 0;
/// rpm's `RPMFILE_GHOST` bit of `FILEFLAGS` (listed, never on disk).
pub const RPMFILE_GHOST: u32 = 1 << 6;

// `RPMSENSE_*` comparison bits of `REQUIREFLAGS`.
const SENSE_LESS: u32 = 1 << 1;
const SENSE_GREATER: u32 = 1 << 2;
const SENSE_EQUAL: u32 = 1 << 3;

/// The tags read, each with its slot in the lookup table.
macro_rules! tags {
    ($($name:ident = $num:expr),* $(,)?) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        #[repr(usize)]
        enum Tag { $($name),* }
        const TAG_COUNT: usize = [$(Tag::$name),*].len();
        fn slot(tag: u32) -> Option<usize> {
            match tag { $($num => Some(Tag::$name as usize),)* _ => None }
        }
        fn tag_name(t: Tag) -> &'static str {
            match t { $(Tag::$name => stringify!($name),)* }
        }
    };
}

tags! {
    SIGMD5 = 261,
    SHA256HEADER = 273,
    NAME = 1000,
    VERSION = 1001,
    RELEASE = 1002,
    EPOCH = 1003,
    SUMMARY = 1004,
    BUILDTIME = 1006,
    INSTALLTIME = 1008,
    SIZE = 1009,
    DISTRIBUTION = 1010,
    VENDOR = 1011,
    LICENSE = 1014,
    PACKAGER = 1015,
    URL = 1020,
    ARCH = 1022,
    OLDFILENAMES = 1027,
    FILESIZES = 1028,
    FILESTATES = 1029,
    FILEMODES = 1030,
    FILERDEVS = 1033,
    FILEMTIMES = 1034,
    FILEDIGESTS = 1035,
    FILELINKTOS = 1036,
    FILEFLAGS = 1037,
    FILEUSERNAME = 1039,
    FILEGROUPNAME = 1040,
    SOURCERPM = 1044,
    FILEVERIFYFLAGS = 1045,
    PROVIDENAME = 1047,
    REQUIREFLAGS = 1048,
    REQUIRENAME = 1049,
    REQUIREVERSION = 1050,
    FILEINODES = 1096,
    DIRINDEXES = 1116,
    BASENAMES = 1117,
    DIRNAMES = 1118,
    LONGFILESIZES = 5008,
    LONGSIZE = 5009,
    FILECAPS = 5010,
    FILEDIGESTALGO = 5011,
    MODULARITYLABEL = 5096,
}

/// One `Requires:` entry (`REQUIRENAME`, `REQUIREFLAGS`, `REQUIREVERSION`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmDependency {
    /// The required capability (a package name, a soname such as
    /// `libc.so.6()(64bit)`, a path, `rpmlib(...)`).
    pub name: String,
    /// Raw `RPMSENSE_*` flags.
    pub flags: u32,
    /// The EVR compared against, empty when unversioned.
    pub version: String,
}

impl RpmDependency {
    /// rpm's `%{REQUIRENEVRS}` rendering: `name`, then ` <`/` >=`/... when
    /// a comparison flag is set, then ` EVR` when there is one.
    pub fn nevr(&self) -> String {
        let mut s = self.name.clone();
        let sense = self.flags & (SENSE_LESS | SENSE_GREATER | SENSE_EQUAL);
        if sense != 0 {
            s.push(' ');
            if sense & SENSE_LESS != 0 {
                s.push('<');
            }
            if sense & SENSE_GREATER != 0 {
                s.push('>');
            }
            if sense & SENSE_EQUAL != 0 {
                s.push('=');
            }
        }
        if !self.version.is_empty() {
            s.push(' ');
            s.push_str(&self.version);
        }
        s
    }
}

/// One file entry of a header. Per-file tags that are absent (or whose count
/// does not match the file count) are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmFile {
    /// `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, or `OLDFILENAMES[i]`.
    pub path: Vec<u8>,
    /// `FILEDIGESTS[i]` as stored (hex, empty for directories, links, ghosts).
    pub digest: String,
    pub mode: Option<u16>,
    /// `LONGFILESIZES[i]` when present, else `FILESIZES[i]`.
    pub size: Option<u64>,
    pub flags: Option<u32>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub mtime: Option<u32>,
    /// `FILELINKTOS[i]` (empty for non-links).
    pub link_to: Option<Vec<u8>>,
    pub rdev: Option<u16>,
    /// `FILECAPS[i]` (empty when the file has none).
    pub caps: Option<String>,
    pub verify_flags: Option<u32>,
    pub state: Option<u8>,
    pub inode: Option<u32>,
}

/// What this crate reads from one rpm header. Absent tags are `None`;
/// present but empty strings are `Some("")` (rpm prints `(none)` for the
/// first and an empty field for the second).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: Option<String>,
    pub release: Option<String>,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    /// `PACKAGER`: who built the package (`Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>`).
    pub packager: Option<String>,
    pub summary: Option<String>,
    pub distribution: Option<String>,
    pub url: Option<String>,
    pub build_time: Option<u32>,
    pub install_time: Option<u32>,
    /// `LONGSIZE` when present, else `SIZE`: installed size in bytes.
    pub size: Option<u64>,
    /// `SIGMD5` (16 bytes: MD5 of header + payload), raw.
    pub sigmd5: Option<Vec<u8>>,
    /// `SHA256HEADER` (hex text).
    pub sha256_header: Option<String>,
    pub modularity_label: Option<String>,
    /// Raw `FILEDIGESTALGO` (`None` when absent: then digests are MD5).
    pub file_digest_algo: Option<u32>,
    pub requires: Vec<RpmDependency>,
    pub provides: Vec<String>,
    pub files: Vec<RpmFile>,
    /// Tags that were present but unusable, in index order.
    pub warnings: Vec<String>,
}

impl RpmHeader {
    /// Bytes of the charge of [`parse_header_blob_in`] that are freed when
    /// the header is converted ([`crate::rpm::package_from_header`] moves
    /// the strings and drops the `RpmFile` structs).
    pub fn transient_cost(&self) -> u64 {
        self.files.len() as u64 * std::mem::size_of::<RpmFile>() as u64
    }

    /// rpm's `%{EPOCHNUM}`: the epoch, 0 when there is none.
    pub fn epoch_num(&self) -> u32 {
        self.epoch.unwrap_or(0)
    }

    /// `FILEDIGESTALGO` with rpm's default (1 = MD5) when absent.
    pub fn digest_algo_num(&self) -> u32 {
        self.file_digest_algo.unwrap_or(1)
    }

    /// The digest algorithm of `files[].digest` (`None` for a number rpm
    /// does not define).
    pub fn digest_algo(&self) -> Option<crate::DigestAlgo> {
        digest_algo(self.digest_algo_num())
    }

    /// `[epoch:]version-release`, as rpm's `%{EVR}` prints it.
    pub fn evr(&self) -> String {
        let mut s = String::new();
        if let Some(e) = self.epoch {
            s.push_str(&e.to_string());
            s.push(':');
        }
        s.push_str(self.version.as_deref().unwrap_or(""));
        if let Some(r) = &self.release {
            s.push('-');
            s.push_str(r);
        }
        s
    }
}

/// rpm's `PGPHASHALGO_*` numbers.
pub fn digest_algo(n: u32) -> Option<crate::DigestAlgo> {
    use crate::DigestAlgo::*;
    Some(match n {
        1 => Md5,
        2 => Sha1,
        8 => Sha256,
        9 => Sha384,
        10 => Sha512,
        11 => Sha224,
        _ => return None,
    })
}

#[derive(Clone, Copy)]
struct Entry {
    ty: u32,
    offset: usize,
    count: usize,
}

/// Parsed index plus data store; all accessors bounds-check, and charge the
/// arrays they return to `budget` (`transient` counts them, to be refunded
/// when the parse ends).
struct Index<'a, 'b> {
    data: Reader<'a>,
    slots: [Option<Entry>; TAG_COUNT],
    budget: RefCell<&'b mut Budget>,
    transient: Cell<u64>,
}

impl fmt::Debug for Index<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("dl", &self.data.input().len())
            .finish()
    }
}

/// Parses one header blob (see the module documentation for the rules)
/// within a fresh default [`Budget`] (one database's worth). Never panics.
pub fn parse_header_blob(blob: &[u8]) -> Result<RpmHeader, HeaderError> {
    parse_header_blob_in(blob, &mut Budget::default())
}

/// [`parse_header_blob`], charging `budget`: on success the header's files,
/// paths and dependencies stay charged (the caller refunds
/// [`RpmHeader::transient_cost`] once it has converted the header); the
/// per-tag arrays used while parsing are refunded before returning.
pub fn parse_header_blob_in(blob: &[u8], budget: &mut Budget) -> Result<RpmHeader, HeaderError> {
    let mut r = Reader::new(blob);
    let (Ok(il), Ok(dl)) = (r.u32_be(), r.u32_be()) else {
        return err(format!(
            "{} bytes: too short for the index header",
            blob.len()
        ));
    };
    let il = il as usize;
    let dl = dl as usize;
    let Some(index) = il.checked_mul(16).and_then(|n| r.sub(n).ok()) else {
        return err(format!(
            "index of {il} entries does not fit in {} bytes",
            blob.len()
        ));
    };
    if il == 0 {
        return err("empty index");
    }
    let Ok(data) = r.take(dl) else {
        return err(format!(
            "data of {dl} bytes does not fit in {} bytes after the index",
            r.left()
        ));
    };

    // Entry i of the index; the index holds exactly `il` entries.
    let raw = |i: usize| -> Result<(u32, u32, u32, u32), HeaderError> {
        let entry = index.at(i.saturating_mul(16)).and_then(|mut e| {
            Ok::<_, Invalid>((e.u32_be()?, e.u32_be()?, e.u32_be()?, e.u32_be()?))
        });
        entry.or_else(|e| err(format!("index entry {i}: {e}")))
    };

    // Region (see module docs). `ril` = entries inside the region.
    let (first_tag, first_ty, first_off, first_count) = raw(0)?;
    let mut start = 0;
    let ril;
    if matches!(first_tag, HEADERIMAGE | HEADERSIGNATURES | HEADERIMMUTABLE) {
        if first_ty != T_BIN || first_count != 16 {
            return err(format!("region tag {first_tag}: bad type/count"));
        }
        let off = first_off as usize;
        let trailer = Reader::new(data)
            .at(off)
            .and_then(|mut t| Ok((t.u32_be()?, t.u32_be()?, t.u32_be()? as i32, t.u32_be()?)));
        let Ok((ttag, tty, toff, tcount)) = trailer else {
            return err(format!("region tag {first_tag}: trailer outside the data"));
        };
        let tag_ok = ttag == first_tag || ttag == HEADERIMAGE;
        if !tag_ok || tty != T_BIN || tcount != 16 || toff >= 0 || toff % 16 != 0 {
            return err(format!("region tag {first_tag}: bad trailer"));
        }
        ril = (i64::from(toff).unsigned_abs() / 16) as usize;
        if ril == 0 || ril > il {
            return err(format!(
                "region tag {first_tag}: bad region size {ril} of {il}"
            ));
        }
        start = 1;
    } else {
        ril = il;
    }

    let mut slots: [Option<Entry>; TAG_COUNT] = [None; TAG_COUNT];
    let mut dribble_basenames = false;
    for i in start..il {
        let (tag, ty, off, count) = raw(i)?;
        if ty > T_I18NSTRING {
            return err(format!("tag {tag}: unknown type {ty}"));
        }
        let off = off as usize;
        let count = count as usize;
        if off > dl || (ty != 0 && count == 0) {
            return err(format!(
                "tag {tag}: offset {off} / count {count} outside {dl} data bytes"
            ));
        }
        // Every item takes at least one byte.
        if count > dl - off {
            return err(format!("tag {tag}: count {count} does not fit in the data"));
        }
        if let Some(s) = slot(tag) {
            // Later entries (dribble, outside the region) replace earlier ones.
            slots[s] = Some(Entry {
                ty,
                offset: off,
                count,
            });
            if i >= ril && tag == 1117 {
                dribble_basenames = true;
            }
        }
    }
    if dribble_basenames {
        slots[Tag::OLDFILENAMES as usize] = None;
    }
    let ix = Index {
        data: Reader::new(data),
        slots,
        budget: RefCell::new(budget),
        transient: Cell::new(0),
    };
    let mut warnings = Vec::new();
    let out = build(&ix, &mut warnings);
    let transient = ix.transient.get();
    ix.budget.into_inner().refund(transient);
    out
}

impl<'a> Index<'a, '_> {
    /// Charges an allocation that lives until the parse ends.
    fn charge_transient(&self, bytes: u64, t: Tag) -> Result<(), HeaderError> {
        self.charge(bytes, || format!("tag {}", tag_name(t)))?;
        self.transient.set(self.transient.get() + bytes);
        Ok(())
    }

    /// Charges an allocation the header keeps.
    fn charge(&self, bytes: u64, what: impl FnOnce() -> String) -> Result<(), HeaderError> {
        Ok(self.budget.borrow_mut().charge(bytes, what)?)
    }

    fn get(&self, t: Tag) -> Option<Entry> {
        self.slots[t as usize]
    }

    fn wrong_type(&self, t: Tag, e: Entry, w: &mut Vec<String>) {
        w.push(format!(
            "tag {} has type {}, not usable: treated as absent",
            tag_name(t),
            e.ty
        ));
    }

    /// Strings of a STRING / STRING_ARRAY / I18NSTRING entry.
    fn strings(&self, t: Tag, w: &mut Vec<String>) -> Result<Option<Vec<&'a [u8]>>, HeaderError> {
        let Some(e) = self.get(t) else {
            return Ok(None);
        };
        if !matches!(e.ty, T_STRING | T_STRING_ARRAY | T_I18NSTRING) {
            self.wrong_type(t, e, w);
            return Ok(None);
        }
        if e.ty == T_STRING && e.count != 1 {
            return err(format!(
                "tag {}: STRING with count {}",
                tag_name(t),
                e.count
            ));
        }
        // offset <= dl was checked.
        let Ok(mut rest) = self.data.at(e.offset).map(|mut r| r.rest()) else {
            return err(format!("tag {}: offset outside the data", tag_name(t)));
        };
        self.charge_transient(
            (e.count as u64).saturating_mul(std::mem::size_of::<&[u8]>() as u64),
            t,
        )?;
        let mut out = Vec::with_capacity(e.count);
        for _ in 0..e.count {
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return err(format!("tag {}: unterminated string", tag_name(t)));
            };
            out.push(&rest[..nul]);
            rest = &rest[nul + 1..];
        }
        Ok(Some(out))
    }

    fn string(&self, t: Tag, w: &mut Vec<String>) -> Result<Option<String>, HeaderError> {
        Ok(self
            .strings(t, w)?
            .and_then(|v| v.first().map(|s| String::from_utf8_lossy(s).into_owned())))
    }

    /// Integers of an INT8/CHAR/INT16/INT32/INT64 entry of the expected width.
    fn ints(
        &self,
        t: Tag,
        types: &[u32],
        w: &mut Vec<String>,
    ) -> Result<Option<Vec<u64>>, HeaderError> {
        let Some(e) = self.get(t) else {
            return Ok(None);
        };
        if !types.contains(&e.ty) {
            self.wrong_type(t, e, w);
            return Ok(None);
        }
        let width = match e.ty {
            T_CHAR | T_INT8 => 1,
            T_INT16 => 2,
            T_INT32 => 4,
            T_INT64 => 8,
            _ => {
                self.wrong_type(t, e, w);
                return Ok(None);
            }
        };
        let Some(bytes) = e
            .count
            .checked_mul(width)
            .and_then(|n| self.data.bytes_at(e.offset, n).ok())
        else {
            return err(format!(
                "tag {}: {} items outside the data",
                tag_name(t),
                e.count
            ));
        };
        self.charge_transient((e.count as u64).saturating_mul(8), t)?;
        Ok(Some(
            bytes
                .chunks_exact(width)
                .map(|c| c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
                .collect(),
        ))
    }

    fn int(&self, t: Tag, types: &[u32], w: &mut Vec<String>) -> Result<Option<u64>, HeaderError> {
        Ok(self.ints(t, types, w)?.and_then(|v| v.first().copied()))
    }

    fn bin(&self, t: Tag, w: &mut Vec<String>) -> Result<Option<&'a [u8]>, HeaderError> {
        let Some(e) = self.get(t) else {
            return Ok(None);
        };
        if !matches!(e.ty, T_BIN | T_CHAR | T_INT8) {
            self.wrong_type(t, e, w);
            return Ok(None);
        }
        // count <= dl - offset was checked.
        match self.data.bytes_at(e.offset, e.count) {
            Ok(b) => Ok(Some(b)),
            Err(why) => err(format!("tag {}: {why}", tag_name(t))),
        }
    }
}

/// A per-file array: `None` (with a warning) when its length is not `n`.
fn per_file<T>(v: Option<Vec<T>>, n: usize, t: Tag, w: &mut Vec<String>) -> Option<Vec<T>> {
    let v = v?;
    if v.len() != n {
        w.push(format!(
            "tag {} has {} entries for {n} files: ignored",
            tag_name(t),
            v.len()
        ));
        return None;
    }
    Some(v)
}

fn build<'a>(ix: &Index<'a, '_>, w: &mut Vec<String>) -> Result<RpmHeader, HeaderError> {
    const I32: &[u32] = &[T_INT32];
    let lossy = |s: &[u8]| String::from_utf8_lossy(s).into_owned();

    let Some(name) = ix.string(Tag::NAME, w)? else {
        return err("no NAME tag");
    };
    let mut h = RpmHeader {
        name,
        epoch: ix.int(Tag::EPOCH, I32, w)?.map(|e| e as u32),
        version: ix.string(Tag::VERSION, w)?,
        release: ix.string(Tag::RELEASE, w)?,
        arch: ix.string(Tag::ARCH, w)?,
        source_rpm: ix.string(Tag::SOURCERPM, w)?,
        license: ix.string(Tag::LICENSE, w)?,
        vendor: ix.string(Tag::VENDOR, w)?,
        packager: ix.string(Tag::PACKAGER, w)?,
        summary: ix.string(Tag::SUMMARY, w)?,
        distribution: ix.string(Tag::DISTRIBUTION, w)?,
        url: ix.string(Tag::URL, w)?,
        build_time: ix.int(Tag::BUILDTIME, I32, w)?.map(|v| v as u32),
        install_time: ix.int(Tag::INSTALLTIME, I32, w)?.map(|v| v as u32),
        size: match ix.int(Tag::LONGSIZE, &[T_INT64], w)? {
            Some(s) => Some(s),
            None => ix.int(Tag::SIZE, I32, w)?,
        },
        sigmd5: ix.bin(Tag::SIGMD5, w)?.map(<[u8]>::to_vec),
        sha256_header: ix.string(Tag::SHA256HEADER, w)?,
        modularity_label: ix.string(Tag::MODULARITYLABEL, w)?,
        file_digest_algo: ix.int(Tag::FILEDIGESTALGO, I32, w)?.map(|v| v as u32),
        ..RpmHeader::default()
    };

    // Requires.
    if let Some(names) = ix.strings(Tag::REQUIRENAME, w)? {
        let n = names.len();
        let flags = per_file(ix.ints(Tag::REQUIREFLAGS, I32, w)?, n, Tag::REQUIREFLAGS, w);
        let vers = per_file(
            ix.strings(Tag::REQUIREVERSION, w)?,
            n,
            Tag::REQUIREVERSION,
            w,
        );
        let bytes: u64 = names.iter().map(|s| s.len() as u64).sum::<u64>()
            + vers
                .as_ref()
                .map_or(0, |v| v.iter().map(|s| s.len() as u64).sum());
        ix.charge(
            n as u64 * (std::mem::size_of::<RpmDependency>() as u64 + 2 * SLACK) + bytes,
            || format!("{} ({n} requires)", h.name),
        )?;
        h.requires = names
            .iter()
            .enumerate()
            .map(|(i, nm)| RpmDependency {
                name: lossy(nm),
                flags: flags.as_ref().map_or(0, |f| f[i] as u32),
                version: vers.as_ref().map_or_else(String::new, |v| lossy(v[i])),
            })
            .collect();
    }
    if let Some(p) = ix.strings(Tag::PROVIDENAME, w)? {
        let bytes: u64 = p.iter().map(|s| s.len() as u64 + SLACK + 24).sum();
        ix.charge(bytes, || format!("{} ({} provides)", h.name, p.len()))?;
        h.provides = p.iter().map(|s| lossy(s)).collect();
    }

    // File paths: compressed (DIRNAMES/BASENAMES/DIRINDEXES) or old-style.
    // Only slices of the blob here; the joined paths are built below, once
    // their size has been charged.
    let mut dir_of: Vec<&'a [u8]> = Vec::new();
    let file_names: Vec<&'a [u8]> = if let Some(base) = ix.strings(Tag::BASENAMES, w)? {
        let dirs = ix.strings(Tag::DIRNAMES, w)?.unwrap_or_default();
        let Some(idx) = ix.ints(Tag::DIRINDEXES, I32, w)? else {
            return err("BASENAMES without DIRINDEXES");
        };
        if idx.len() != base.len() {
            return err(format!(
                "{} DIRINDEXES for {} BASENAMES",
                idx.len(),
                base.len()
            ));
        }
        ix.charge_transient(
            (idx.len() as u64).saturating_mul(std::mem::size_of::<&[u8]>() as u64),
            Tag::DIRINDEXES,
        )?;
        dir_of.reserve_exact(idx.len());
        for &d in &idx {
            let Some(dir) = usize::try_from(d).ok().and_then(|d| dirs.get(d)) else {
                return err(format!("DIRINDEX {d} outside {} DIRNAMES", dirs.len()));
            };
            dir_of.push(dir);
        }
        base
    } else {
        ix.strings(Tag::OLDFILENAMES, w)?.unwrap_or_default()
    };
    let path_len = |i: usize| dir_of.get(i).map_or(0, |d| d.len()) + file_names[i].len();
    let n = file_names.len();
    if n == 0 {
        return Ok(finish(h, w));
    }

    let digests = per_file(ix.strings(Tag::FILEDIGESTS, w)?, n, Tag::FILEDIGESTS, w);
    let modes = per_file(
        ix.ints(Tag::FILEMODES, &[T_INT16], w)?,
        n,
        Tag::FILEMODES,
        w,
    );
    let sizes = match per_file(
        ix.ints(Tag::LONGFILESIZES, &[T_INT64], w)?,
        n,
        Tag::LONGFILESIZES,
        w,
    ) {
        Some(s) => Some(s),
        None => per_file(ix.ints(Tag::FILESIZES, I32, w)?, n, Tag::FILESIZES, w),
    };
    let flags = per_file(ix.ints(Tag::FILEFLAGS, I32, w)?, n, Tag::FILEFLAGS, w);
    let users = per_file(ix.strings(Tag::FILEUSERNAME, w)?, n, Tag::FILEUSERNAME, w);
    let groups = per_file(ix.strings(Tag::FILEGROUPNAME, w)?, n, Tag::FILEGROUPNAME, w);
    let mtimes = per_file(ix.ints(Tag::FILEMTIMES, I32, w)?, n, Tag::FILEMTIMES, w);
    let links = per_file(ix.strings(Tag::FILELINKTOS, w)?, n, Tag::FILELINKTOS, w);
    let rdevs = per_file(
        ix.ints(Tag::FILERDEVS, &[T_INT16], w)?,
        n,
        Tag::FILERDEVS,
        w,
    );
    let caps = per_file(ix.strings(Tag::FILECAPS, w)?, n, Tag::FILECAPS, w);
    let vflags = per_file(
        ix.ints(Tag::FILEVERIFYFLAGS, I32, w)?,
        n,
        Tag::FILEVERIFYFLAGS,
        w,
    );
    let states = per_file(
        ix.ints(Tag::FILESTATES, &[T_CHAR, T_INT8], w)?,
        n,
        Tag::FILESTATES,
        w,
    );
    let inodes = per_file(ix.ints(Tag::FILEINODES, I32, w)?, n, Tag::FILEINODES, w);

    // What the files keep: each entry (as an `RpmFile`, then as the
    // `PackageFile` it becomes) and its strings. Charged before anything of
    // it is allocated.
    let sum = |v: &Option<Vec<&[u8]>>| {
        v.as_ref()
            .map_or(0, |v| v.iter().map(|s| s.len() as u64).sum::<u64>())
    };
    let bytes =
        (0..n).map(|i| path_len(i) as u64).sum::<u64>() + sum(&digests) + sum(&links) + sum(&caps);
    let entries = n as u64 * (std::mem::size_of::<RpmFile>() as u64 + FILE_COST + 2 * SLACK);
    ix.charge(entries.saturating_add(bytes), || {
        format!(
            "{}: {n} file entries with {bytes} bytes of paths and strings",
            h.name
        )
    })?;

    // User and group names repeat (`root` thousands of times): decode each
    // distinct byte string once.
    let mut names: Vec<(&'a [u8], String)> = Vec::new();
    let mut intern = |b: &'a [u8]| -> String {
        if let Some((_, s)) = names.iter().find(|(k, _)| *k == b) {
            return s.clone();
        }
        let s = lossy(b);
        if names.len() < 64 {
            names.push((b, s.clone()));
        }
        s
    };

    h.files = (0..n)
        .map(|i| RpmFile {
            path: {
                let mut p = Vec::with_capacity(path_len(i));
                if let Some(d) = dir_of.get(i) {
                    p.extend_from_slice(d);
                }
                p.extend_from_slice(file_names[i]);
                p
            },
            digest: digests.as_ref().map_or_else(String::new, |d| lossy(d[i])),
            mode: modes.as_ref().map(|m| m[i] as u16),
            size: sizes.as_ref().map(|s| s[i]),
            flags: flags.as_ref().map(|f| f[i] as u32),
            user: users.as_ref().map(|u| intern(u[i])),
            group: groups.as_ref().map(|g| intern(g[i])),
            mtime: mtimes.as_ref().map(|m| m[i] as u32),
            link_to: links.as_ref().map(|l| l[i].to_vec()),
            rdev: rdevs.as_ref().map(|r| r[i] as u16),
            caps: caps.as_ref().map(|c| lossy(c[i])),
            verify_flags: vflags.as_ref().map(|v| v[i] as u32),
            state: states.as_ref().map(|s| s[i] as u8),
            inode: inodes.as_ref().map(|v| v[i] as u32),
        })
        .collect();
    Ok(finish(h, w))
}

fn finish(mut h: RpmHeader, w: &mut Vec<String>) -> RpmHeader {
    h.warnings = std::mem::take(w);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a blob: `entries` = (tag, type, data, count); with a region
    /// tag 63 covering the first `ril` entries (plus itself) when `Some`.
    fn blob(entries: &[(u32, u32, &[u8], u32)], ril: Option<usize>) -> Vec<u8> {
        let mut data = Vec::new();
        let mut index = Vec::new();
        for (tag, ty, d, count) in entries {
            index.push((*tag, *ty, data.len() as u32, *count));
            data.extend_from_slice(d);
        }
        if let Some(ril) = ril {
            let off = data.len() as u32;
            let trailer_off = (-(((ril + 1) * 16) as i32)) as u32;
            for w in [63u32, T_BIN, trailer_off, 16] {
                data.extend_from_slice(&w.to_be_bytes());
            }
            index.insert(0, (63, T_BIN, off, 16));
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (t, ty, o, c) in index {
            for w in [t, ty, o, c] {
                out.extend_from_slice(&w.to_be_bytes());
            }
        }
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn region_dribble_and_not_found() {
        let b = blob(
            &[
                (1000, T_STRING, b"old\0", 1),
                (1001, T_INT32, &[0, 0, 0, 1], 1), // VERSION as INT32: not found
                (1003, T_INT32, &[0, 0, 0, 7], 1),
                (1000, T_STRING, b"new\0", 1), // dribble: replaces NAME
            ],
            Some(3),
        );
        let h = parse_header_blob(&b).expect("parse");
        assert_eq!(h.name, "new");
        assert_eq!(h.version, None);
        assert_eq!(h.epoch, Some(7));
        assert_eq!(h.warnings.len(), 1, "{:?}", h.warnings);
        assert_eq!(h.digest_algo_num(), 1);
        assert_eq!(h.evr(), "7:");
    }

    #[test]
    fn bad_region_and_paths() {
        let mut b = blob(&[(1000, T_STRING, b"x\0", 1)], Some(1));
        let n = b.len();
        b[n - 4] = 15; // trailer count
        assert!(parse_header_blob(&b).is_err());
        // DIRINDEX outside DIRNAMES.
        let b = blob(
            &[
                (1000, T_STRING, b"x\0", 1),
                (1117, T_STRING_ARRAY, b"a\0", 1),
                (1118, T_STRING_ARRAY, b"/d/\0", 1),
                (1116, T_INT32, &[0, 0, 0, 1], 1),
            ],
            None,
        );
        assert!(parse_header_blob(&b).is_err());
        // Old-style file names, per-file array of the wrong length ignored.
        let b = blob(
            &[
                (1000, T_STRING, b"x\0", 1),
                (1027, T_STRING_ARRAY, b"/a\0/b\0", 2),
                (1030, T_INT16, &[0x81, 0xa4], 1),
            ],
            None,
        );
        let h = parse_header_blob(&b).expect("parse");
        assert_eq!(h.files.len(), 2);
        assert_eq!(h.files[1].path, b"/b");
        assert_eq!(h.files[0].mode, None);
        assert_eq!(h.warnings.len(), 1);
        // Missing NAME.
        assert!(parse_header_blob(&blob(&[(1001, T_STRING, b"1\0", 1)], None)).is_err());
    }

    #[test]
    fn requires_nevr() {
        let d = |flags, v: &str| RpmDependency {
            name: "a".into(),
            flags,
            version: v.into(),
        };
        assert_eq!(d(0, "").nevr(), "a");
        assert_eq!(d(SENSE_GREATER | SENSE_EQUAL, "2.0").nevr(), "a >= 2.0");
        assert_eq!(d(SENSE_LESS | SENSE_EQUAL, "1").nevr(), "a <= 1");
    }
}
