//! Go binaries: the build information the Go linker writes
//! (`\xff Go buildinf:`; Go >= 1.18 inline strings), read while the
//! index streams the file.

use memchr::memmem;

use crate::{CatalogError, Ecosystem, LangPackage, elf};

/// The build-info magic.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// Most bytes kept after the magic.
pub const MAX_BLOB: usize = 4 << 20;

/// `found_by` of every package read from build info.
pub const FOUND_BY: &str = "go-buildinfo";

/// Property keys (below the SBOM's `bakeproof:package:`).
pub const PROP_SUM: &str = "bakeproof:package:go:h1";
pub const PROP_REPLACED_PATH: &str = "bakeproof:package:go:replaced-path";
pub const PROP_REPLACED_VERSION: &str = "bakeproof:package:go:replaced-version";
pub const PROP_GO_VERSION: &str = "bakeproof:package:go:go-version";
pub const PROP_MAIN_PACKAGE: &str = "bakeproof:package:go:main-package";
/// The main module's version as the build info says it (`(devel)`), kept
/// when [`BuildInfo::packages`] reports a better one.
pub const PROP_BUILDINFO_VERSION: &str = "bakeproof:package:go:buildinfo-version";
/// Followed by the setting's key: `bakeproof:package:go:build:GOOS`.
pub const PROP_BUILD: &str = "bakeproof:package:go:build:";

const FORMAT: &str = "go build info";
/// The fixed header: magic, pointer size, flags, padding.
const HEADER: usize = 32;
/// Build info starts on a 16-byte boundary (Go's linker aligns it; a
/// magic elsewhere is some other data).
const ALIGN: u64 = 16;
/// Bytes of one chunk that can start a magic the next chunk ends.
const OVERLAP: usize = MAGIC.len() - 1;
/// Flags bit: version and modinfo are inline strings (Go >= 1.18).
const FLAG_INLINE: u8 = 0x2;
/// Most bytes held before the program headers are known: past this the
/// whole file is searched.
const HEAD_MAX: u64 = 64 << 10;

/// Finds the build-info blob in a file seen once, chunk after chunk, with
/// bounded memory (the blob, at most [`MAX_BLOB`] bytes, and a few
/// bytes of overlap between chunks). Files that are not ELF are dropped at
/// the first chunk.
///
/// As Go's `debug/buildinfo` does, only the writable, non-executable
/// loadable segments are searched, when the program headers are in the
/// first 64 KiB (they always are; otherwise the whole file is). The
/// result does not depend on how the file is cut into chunks.
#[derive(Debug, Default)]
pub struct BuildInfoFinder {
    state: State,
    /// File offset of the next byte [`BuildInfoFinder::update`] gets.
    offset: u64,
}

#[derive(Debug)]
enum State {
    /// The file's first bytes, until the ELF header and program headers
    /// are in.
    Head(Vec<u8>),
    /// Boxed: the memmem finder is most of its size.
    Search(Box<Search>),
    /// The blob from the magic on, growing.
    Blob(Vec<u8>),
    Done(Option<Vec<u8>>),
}

impl Default for State {
    fn default() -> Self {
        State::Head(Vec::new())
    }
}

#[derive(Debug)]
struct Search {
    /// File ranges `(start, end)` to search; `None`: all of it.
    ranges: Option<Vec<(u64, u64)>>,
    /// The last searched bytes (at most [`OVERLAP`]), ending at `tail_end`.
    tail: Vec<u8>,
    tail_end: u64,
    finder: memmem::Finder<'static>,
}

impl Search {
    fn new(ranges: Option<Vec<(u64, u64)>>) -> Search {
        Search {
            ranges,
            tail: Vec::new(),
            tail_end: 0,
            finder: memmem::Finder::new(MAGIC),
        }
    }
}

impl BuildInfoFinder {
    pub fn new() -> BuildInfoFinder {
        BuildInfoFinder::default()
    }

    /// The next bytes of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        let off = self.offset;
        self.offset = off.saturating_add(chunk.len() as u64);
        self.feed(chunk, off);
    }

    fn feed(&mut self, chunk: &[u8], off: u64) {
        match &mut self.state {
            State::Head(head) => {
                // Take only what the decision needs; the rest is replayed.
                let mut rest = chunk;
                loop {
                    let missing = head_wants(head).saturating_sub(head.len() as u64);
                    if missing == 0 {
                        break;
                    }
                    if rest.is_empty() {
                        return;
                    }
                    let take = usize::try_from(missing)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    head.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                }
                let head = std::mem::take(head);
                let consumed = (chunk.len() - rest.len()) as u64;
                self.decide(&head);
                self.feed(&head, 0);
                if !rest.is_empty() {
                    self.feed(rest, off + consumed);
                }
            }
            State::Search(search) => {
                if let Some(hit) = search.find(chunk, off) {
                    let mut blob = Vec::new();
                    if hit < off {
                        // The magic began in the tail (contiguous with the chunk).
                        let tail_start = search.tail_end - search.tail.len() as u64;
                        let from = usize::try_from(hit - tail_start).unwrap_or(0);
                        blob.extend_from_slice(search.tail.get(from..).unwrap_or(&[]));
                        self.state = State::Blob(blob);
                        self.feed(chunk, off);
                    } else {
                        let from = usize::try_from(hit - off).unwrap_or(chunk.len());
                        self.state = State::Blob(blob);
                        self.feed(chunk.get(from..).unwrap_or(&[]), hit);
                    }
                } else if search.past_end(off + chunk.len() as u64) {
                    self.state = State::Done(None);
                }
            }
            State::Blob(blob) => {
                let room = MAX_BLOB.saturating_sub(blob.len());
                blob.extend_from_slice(&chunk[..room.min(chunk.len())]);
                let keep = match blob_need(blob) {
                    Need::More if blob.len() < MAX_BLOB => return,
                    Need::More => blob.len(),
                    Need::Complete(n) => n,
                };
                blob.truncate(keep);
                let blob = std::mem::take(blob);
                self.state = State::Done(Some(blob));
            }
            State::Done(_) => {}
        }
    }

    /// Leaves [`State::Head`] with what `head` (the file's first bytes)
    /// says.
    fn decide(&mut self, head: &[u8]) {
        let Some(h) = elf::header(head) else {
            self.state = State::Done(None);
            return;
        };
        let view = elf::View {
            start: 0,
            bytes: head,
        };
        let ranges = match h.program_table() {
            Some(_) => h.writable_loads(view),
            // No program headers (an object file): search everything.
            None => None,
        };
        if ranges.as_ref().is_some_and(Vec::is_empty) {
            // Nowhere Go would look.
            self.state = State::Done(None);
            return;
        }
        self.state = State::Search(Box::new(Search::new(ranges)));
    }

    /// Whether more bytes can still matter (false once the blob is complete
    /// or the file is known not to be a Go binary): the observer stops
    /// feeding it.
    pub fn wants_more(&self) -> bool {
        !matches!(self.state, State::Done(_))
    }

    /// The blob (from the magic on), if one was found.
    pub fn finish(mut self) -> Option<Vec<u8>> {
        if let State::Head(head) = &mut self.state {
            // A file shorter than its program headers: search what there is.
            let head = std::mem::take(head);
            elf::header(&head)?;
            self.state = State::Search(Box::new(Search::new(None)));
            self.feed(&head, 0);
        }
        match self.state {
            State::Blob(blob) | State::Done(Some(blob)) => Some(blob),
            _ => None,
        }
    }
}

/// How many of the file's first bytes [`BuildInfoFinder::decide`] needs.
fn head_wants(head: &[u8]) -> u64 {
    if !elf::header_decidable(head) {
        return elf::EHDR_MAX as u64;
    }
    match elf::header(head).and_then(|h| h.program_table()) {
        Some((off, len)) if off.saturating_add(len) <= HEAD_MAX => off + len,
        _ => head.len() as u64,
    }
}

impl Search {
    /// The first 16-aligned magic in `chunk` (at file offset `off`) or
    /// across the tail and `chunk`, within the ranges; updates the tail.
    fn find(&mut self, chunk: &[u8], off: u64) -> Option<u64> {
        let end = off + chunk.len() as u64;
        let n = self.ranges.as_ref().map_or(1, Vec::len);
        for i in 0..n {
            let (s, e) = match &self.ranges {
                None => (off, end),
                Some(rs) => match rs.get(i) {
                    Some(&(s, e)) => (s.max(off), e.min(end)),
                    None => break,
                },
            };
            if s >= e {
                continue;
            }
            let a = usize::try_from(s - off).ok()?;
            let b = usize::try_from(e - off).ok()?;
            let piece = chunk.get(a..b)?;
            if let Some(hit) = self.find_piece(piece, s) {
                return Some(hit);
            }
        }
        None
    }

    fn find_piece(&mut self, piece: &[u8], off: u64) -> Option<u64> {
        let finder = &self.finder;
        if self.tail_end == off && !self.tail.is_empty() {
            // A magic cut by the chunk boundary starts in the tail.
            let t = self.tail.len();
            let mut buf = [0u8; 2 * OVERLAP];
            let head = &piece[..piece.len().min(OVERLAP)];
            buf[..t].copy_from_slice(&self.tail);
            buf[t..t + head.len()].copy_from_slice(head);
            let seam = &buf[..t + head.len()];
            let seam_start = off - t as u64;
            for i in finder.find_iter(seam) {
                if i >= t {
                    break;
                }
                let at = seam_start + i as u64;
                if at.is_multiple_of(ALIGN) {
                    return Some(at);
                }
            }
        }
        for i in finder.find_iter(piece) {
            let at = off + i as u64;
            if at.is_multiple_of(ALIGN) {
                return Some(at);
            }
        }
        // Keep the last bytes of the contiguous searched run.
        if self.tail_end != off {
            self.tail.clear();
        }
        self.tail
            .extend_from_slice(&piece[piece.len().saturating_sub(OVERLAP)..]);
        let excess = self.tail.len().saturating_sub(OVERLAP);
        self.tail.drain(..excess);
        self.tail_end = off + piece.len() as u64;
        None
    }

    /// Whether everything to search ends before file offset `pos`.
    fn past_end(&self, pos: u64) -> bool {
        match &self.ranges {
            Some(rs) => rs.last().is_none_or(|&(_, e)| pos >= e),
            None => false,
        }
    }
}

enum Need {
    More,
    /// The blob is this many bytes (or its header is damaged: keep these).
    Complete(usize),
}

/// How long the blob at the start of `b` is, as far as `b` tells.
fn blob_need(b: &[u8]) -> Need {
    let Some(&flags) = b.get(15) else {
        return Need::More;
    };
    if b.len() < HEADER {
        return Need::More;
    }
    if flags & FLAG_INLINE == 0 {
        return Need::Complete(HEADER);
    }
    let mut at = HEADER;
    for _ in 0..2 {
        match uvarint(b.get(at..).unwrap_or(&[])) {
            Varint::Short => return Need::More,
            // Keep what shows the damage, not the megabytes after it.
            Varint::Bad => return Need::Complete(b.len().min(at + 10)),
            Varint::Ok(len, n) => {
                match usize::try_from(len)
                    .ok()
                    .and_then(|l| at.checked_add(n)?.checked_add(l))
                    .filter(|&end| end <= MAX_BLOB)
                {
                    Some(end) => at = end,
                    None => return Need::Complete(b.len().min(at + n)),
                }
            }
        }
    }
    if at <= b.len() {
        Need::Complete(at)
    } else {
        Need::More
    }
}

enum Varint {
    /// Value and bytes used.
    Ok(u64, usize),
    /// Ends before its last byte.
    Short,
    /// Longer than 10 bytes or over 64 bits.
    Bad,
}

/// Go's `binary.Uvarint`: 7 bits a byte, least significant first.
fn uvarint(b: &[u8]) -> Varint {
    let mut x: u64 = 0;
    for (i, &byte) in b.iter().enumerate() {
        if i == 10 || (i == 9 && byte > 1) {
            return Varint::Bad;
        }
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Varint::Ok(x, i + 1);
        }
    }
    if b.len() >= 10 {
        Varint::Bad
    } else {
        Varint::Short
    }
}

/// A module as the build info lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    /// `h1:` sum.
    pub sum: Option<String>,
    /// The module that replaced it (`=>` line).
    pub replace: Option<Box<Module>>,
}

/// A Go binary's build information (what `go version -m` prints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.22.5`.
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` lines: `-ldflags`, `GOOS`, `vcs.revision`...
    pub settings: Vec<(String, String)>,
}

fn malformed(detail: impl Into<String>) -> CatalogError {
    CatalogError::malformed(FORMAT, detail)
}

/// One length-prefixed string at the start of `b`, and what follows.
fn inline_string<'a>(b: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8]), CatalogError> {
    match uvarint(b) {
        Varint::Ok(len, n) => {
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| n.checked_add(l))
                .ok_or_else(|| malformed(format!("{what} length {len}")))?;
            if end > MAX_BLOB {
                return Err(CatalogError::TooLarge {
                    format: FORMAT,
                    detail: format!("{what} of {len} bytes"),
                });
            }
            match (b.get(n..end), b.get(end..)) {
                (Some(s), Some(rest)) => Ok((s, rest)),
                _ => Err(malformed(format!("{what} truncated"))),
            }
        }
        Varint::Short => Err(malformed(format!("{what} length truncated"))),
        Varint::Bad => Err(malformed(format!("{what} length is not a varint"))),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses a blob [`BuildInfoFinder`] kept (starting at the magic).
pub fn parse_buildinfo(blob: &[u8]) -> Result<BuildInfo, CatalogError> {
    if !blob.starts_with(MAGIC) {
        return Err(CatalogError::NotFormat(FORMAT));
    }
    let (Some(&flags), Some(body)) = (blob.get(15), blob.get(HEADER..)) else {
        return Err(malformed("header truncated"));
    };
    if flags & FLAG_INLINE == 0 {
        return Err(CatalogError::Unsupported {
            format: FORMAT,
            detail: "pointer-based build info (Go before 1.18)".into(),
        });
    }
    let (version, rest) = inline_string(body, "Go version")?;
    let (modinfo, _) = inline_string(rest, "module info")?;
    if version.is_empty() {
        // What Go's debug/buildinfo calls "not a Go executable".
        return Err(CatalogError::NotFormat(FORMAT));
    }
    // The linker brackets the module info with 16-byte sentinels; without
    // them Go reads no module info at all.
    let modinfo = match modinfo.len().checked_sub(17).and_then(|i| modinfo.get(i)) {
        Some(b'\n') if modinfo.len() >= 33 => &modinfo[16..modinfo.len() - 16],
        _ => &[][..],
    };
    let mut info = parse_modinfo(modinfo)?;
    info.go_version = text(version);
    Ok(info)
}

/// Which module a `=>` line replaces.
enum Last {
    None,
    Main,
    Dep(usize),
}

/// The module info's lines (Go's `runtime/debug.ParseBuildInfo`).
fn parse_modinfo(data: &[u8]) -> Result<BuildInfo, CatalogError> {
    let mut info = BuildInfo::default();
    let mut last = Last::None;
    let mut lines = data.split(|&b| b == b'\n');
    // Go stops at the first line without its newline.
    let complete = data.iter().filter(|&&b| b == b'\n').count();
    for (n, line) in lines.by_ref().take(complete).enumerate() {
        let at = |e: String| malformed(format!("line {}: {e}", n + 1));
        if let Some(p) = line.strip_prefix(b"path\t") {
            info.path = text(p);
        } else if let Some(m) = line.strip_prefix(b"mod\t") {
            info.main = Some(module_line(m).map_err(at)?);
            last = Last::Main;
        } else if let Some(m) = line.strip_prefix(b"dep\t") {
            info.deps.push(module_line(m).map_err(at)?);
            last = Last::Dep(info.deps.len() - 1);
        } else if let Some(m) = line.strip_prefix(b"=>\t") {
            let cols: Vec<&[u8]> = m.split(|&b| b == b'\t').collect();
            let [path, version, sum] = cols[..] else {
                return Err(at(format!(
                    "expected 3 columns for replacement; got {}",
                    cols.len()
                )));
            };
            let target = match std::mem::replace(&mut last, Last::None) {
                Last::None => None,
                Last::Main => info.main.as_mut(),
                Last::Dep(i) => info.deps.get_mut(i),
            };
            let Some(target) = target else {
                return Err(at("replacement with no module on previous line".into()));
            };
            target.replace = Some(Box::new(Module {
                path: text(path),
                version: text(version),
                sum: (!sum.is_empty()).then(|| text(sum)),
                replace: None,
            }));
        } else if let Some(kv) = line.strip_prefix(b"build\t") {
            info.settings.push(build_line(kv).map_err(at)?);
        }
    }
    Ok(info)
}

fn module_line(m: &[u8]) -> Result<Module, String> {
    let cols: Vec<&[u8]> = m.split(|&b| b == b'\t').collect();
    let (path, version, sum) = match cols[..] {
        [p, v] => (p, v, &[][..]),
        [p, v, s] => (p, v, s),
        _ => return Err(format!("expected 2 or 3 columns; got {}", cols.len())),
    };
    Ok(Module {
        path: text(path),
        version: text(version),
        sum: (!sum.is_empty()).then(|| text(sum)),
        replace: None,
    })
}

/// Characters that make Go quote a setting's key (or, but `=`, its value).
fn needs_quote(b: &[u8], key: bool) -> bool {
    (key && (b.is_empty() || b.contains(&b'='))) || b.iter().any(|c| b" \t\r\n\"`".contains(c))
}

/// A `build` line: `KEY=VALUE`, either side possibly Go-quoted.
fn build_line(kv: &[u8]) -> Result<(String, String), String> {
    let (key, raw) = match kv.first() {
        None => return Err("build line missing '='".into()),
        Some(b'=') => return Err("build line with missing key".into()),
        Some(b'"' | b'`') => {
            let (key, used) = go_unquote_prefix(kv).ok_or("invalid quoted key in build line")?;
            match kv.get(used) {
                Some(b'=') => (key, &kv[used + 1..]),
                None => return Err("build line missing '=' after quoted key".into()),
                Some(c) => {
                    return Err(format!(
                        "unexpected character after quoted key: {:?}",
                        char::from(*c)
                    ));
                }
            }
        }
        Some(_) => {
            let eq = kv
                .iter()
                .position(|&b| b == b'=')
                .ok_or("build line missing '=' after key")?;
            let key = &kv[..eq];
            if needs_quote(key, true) {
                return Err(format!("unquoted key {:?} must be quoted", text(key)));
            }
            (key.to_vec(), &kv[eq + 1..])
        }
    };
    let value = match raw.first() {
        None => Vec::new(),
        Some(b'"' | b'`') => match go_unquote_prefix(raw) {
            Some((v, used)) if used == raw.len() => v,
            _ => return Err("invalid quoted value in build line".into()),
        },
        Some(_) => {
            if needs_quote(raw, false) {
                return Err(format!("unquoted value {:?} must be quoted", text(raw)));
            }
            raw.to_vec()
        }
    };
    Ok((text(&key), text(&value)))
}

/// A Go string literal (`"..."` with escapes, or `` `...` `` raw) at the
/// start of `s`: its value and how many bytes it took (Go's
/// `strconv.QuotedPrefix` and `Unquote`).
fn go_unquote_prefix(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    match s.first()? {
        b'`' => {
            let end = s.get(1..)?.iter().position(|&b| b == b'`')? + 1;
            // Go drops carriage returns from raw strings.
            let v = s[1..end].iter().copied().filter(|&b| b != b'\r').collect();
            Some((v, end + 1))
        }
        b'"' => {
            let mut out = Vec::new();
            let mut i = 1;
            loop {
                match *s.get(i)? {
                    b'"' => return Some((out, i + 1)),
                    b'\n' => return None,
                    b'\\' => i = unescape(s, i + 1, &mut out)?,
                    c => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
        }
        _ => None,
    }
}

/// One escape after a backslash at `s[i..]` (in a double-quoted string):
/// appends its bytes, returns the index after it.
fn unescape(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let simple = match *s.get(i)? {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return Some(i + 1);
    }
    let digits = |from: usize, n: usize, radix: u32| -> Option<u32> {
        let d = s.get(from..from.checked_add(n)?)?;
        let d = std::str::from_utf8(d).ok()?;
        if !d.bytes().all(|b| (b as char).is_digit(radix)) {
            return None;
        }
        u32::from_str_radix(d, radix).ok()
    };
    match *s.get(i)? {
        b'x' => {
            out.push(u8::try_from(digits(i + 1, 2, 16)?).ok()?);
            Some(i + 3)
        }
        b'0'..=b'7' => {
            out.push(u8::try_from(digits(i, 3, 8)?).ok()?);
            Some(i + 3)
        }
        b'u' | b'U' => {
            let n = if s[i] == b'u' { 4 } else { 8 };
            let c = char::from_u32(digits(i + 1, n, 16)?)?;
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            Some(i + 1 + n)
        }
        _ => None,
    }
}

/// The blob in a whole file's bytes (tests, fuzzing): what the finder
/// keeps when fed `file` in one chunk.
pub fn find_buildinfo(file: &[u8]) -> Option<Vec<u8>> {
    let mut f = BuildInfoFinder::new();
    f.update(file);
    f.finish()
}

impl BuildInfo {
    /// The packages: the main module (`primary`), every dependency (the
    /// replacement's path and version when replaced), and the standard
    /// library as `stdlib` at the Go version, as syft reports it.
    pub fn packages(&self) -> Vec<LangPackage> {
        let mut out = Vec::with_capacity(self.deps.len() + 2);
        // A binary built outside a module (Go's own commands, GOPATH
        // builds) has no `mod` line: its main package's path stands for
        // it, at `(devel)`, as syft 1.18.1 reports it.
        let outside_module = Module {
            path: self.path.clone(),
            version: DEVEL.into(),
            sum: None,
            replace: None,
        };
        let main = self
            .main
            .as_ref()
            .or((!self.path.is_empty()).then_some(&outside_module));
        if let Some(main) = main {
            let mut p = module_package(main);
            p.primary = true;
            if (p.version.is_empty() || p.version == DEVEL)
                && let Some(v) = self.main_version_guess(&p.name)
            {
                let was = std::mem::replace(&mut p.version, v);
                p.properties.push((PROP_BUILDINFO_VERSION.into(), was));
            }
            if !self.go_version.is_empty() {
                p.properties
                    .push((PROP_GO_VERSION.into(), self.go_version.clone()));
            }
            if !self.path.is_empty() {
                p.properties
                    .push((PROP_MAIN_PACKAGE.into(), self.path.clone()));
            }
            for (k, v) in &self.settings {
                p.properties.push((format!("{PROP_BUILD}{k}"), v.clone()));
            }
            out.push(p);
        }
        out.extend(self.deps.iter().map(module_package));
        if let Some(v) = self.stdlib_version() {
            let mut p = LangPackage::new(Ecosystem::Golang, "stdlib", v);
            p.found_by = FOUND_BY;
            out.push(p);
        }
        out
    }

    /// A version for a main module whose build info says `(devel)` (or
    /// nothing), by syft 1.18.1's rules (`findMainModuleVersion` in
    /// `syft/pkg/cataloger/golang/parse_go_binary.go`), in its order:
    ///
    /// 1. `-ldflags`: the first match (leftmost, RE2 semantics) of
    ///    `(main|<module>\/[^\s]*)` followed by
    ///    `\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=(\S+/)*`
    ///    or `\.[a-zA-Z0-9]*([tT]ag)=(\S+/)*`, then the version
    ///    `v?\d+.\d+.\d+[-\w]*` (the dots any character), with `v`
    ///    prepended when missing: `-X main.version=1.2.3` gives `v1.2.3`,
    ///    `-X <module>/internal.tag=0.23.4` gives `v0.23.4`. The version
    ///    pattern is tried first over the whole string, the tag one after.
    ///    `<module>` is the module path with only `/` escaped, so its dots
    ///    match any character, as in syft; `main` is not anchored either
    ///    (`domain.version=` matches). Character classes are ASCII, as in Go.
    /// 2. (syft only, not done here: `from-contents`, the first
    ///    `\x00v?1.2.3\x00`-like string in the whole file; the observer
    ///    keeps only the build-info blob.)
    /// 3. `vcs.revision` and `vcs.time` both set: the pseudo-version
    ///    `v0.0.0-<vcs.time in UTC as yyyymmddhhmmss>-<first 12 bytes of
    ///    the revision>`; a `vcs.time` that is not RFC 3339 gives Go's zero
    ///    time, `00010101000000`.
    ///
    /// `None` when neither applies (the build-info value stays). syft
    /// applies this to `(devel)` alone; here an empty version too.
    fn main_version_guess(&self, module: &str) -> Option<String> {
        let setting = |k: &str| {
            self.settings
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if let Some(v) = setting("-ldflags").and_then(|f| version_from_ldflags(f, module)) {
            return Some(v);
        }
        let (rev, time) = (setting("vcs.revision")?, setting("vcs.time")?);
        let rev = rev.get(..12).unwrap_or(rev);
        let ts = rfc3339_utc_stamp(time).unwrap_or_else(|| "00010101000000".into());
        Some(format!("v0.0.0-{ts}-{rev}"))
    }

    /// The standard library's version: the toolchain's release
    /// (`go1.22.5`), without what follows it (`go1.21.0 X:boringcrypto`:
    /// the experiments are a build setting, not a version).
    fn stdlib_version(&self) -> Option<&str> {
        self.go_version.split_whitespace().next()
    }
}

/// The version Go's linker gives a main module built from a work tree.
const DEVEL: &str = "(devel)";

/// syft's two `-ldflags` patterns after the module prefix, with Go's ASCII
/// `\d`, `\w`, `\s` spelt out (the `regex` crate's are Unicode).
const LDFLAGS_PATTERNS: [&str; 2] = [
    r"\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=([^\t\n\f\r ]+/)*(?P<version>v?[0-9]+.[0-9]+.[0-9]+[-0-9A-Za-z_]*)",
    r"\.[a-zA-Z0-9]*([tT]ag)=([^\t\n\f\r ]+/)*(?P<version>v?[0-9]+.[0-9]+.[0-9]+[-0-9A-Za-z_]*)",
];

/// Longest module path put into a pattern (a longer one is no real
/// module; its pattern would be costly to compile).
const MAX_PATTERN_MODULE: usize = 1024;

/// The main module's version in `-ldflags` (step 1 of
/// [`BuildInfo::main_version_guess`]), `v`-prefixed.
pub fn version_from_ldflags(ldflags: &str, module: &str) -> Option<String> {
    if ldflags.is_empty() || module.len() > MAX_PATTERN_MODULE {
        return None;
    }
    // syft escapes only `/`: a `.` stays "any character". Anything else
    // is escaped, so that a module path that is not one (syft's
    // MustCompile would panic on `(`) is matched literally.
    let mut prefix = String::with_capacity(module.len() * 2);
    for c in module.chars() {
        if c == '.' {
            prefix.push('.');
        } else {
            prefix.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
        }
    }
    for pat in LDFLAGS_PATTERNS {
        let Ok(re) = regex::Regex::new(&format!(r"(?m)(main|{prefix}/[^\t\n\f\r ]*){pat}")) else {
            continue;
        };
        if let Some(v) = re.captures(ldflags).and_then(|c| c.name("version")) {
            let v = v.as_str();
            return Some(if v.starts_with('v') {
                v.to_string()
            } else {
                format!("v{v}")
            });
        }
    }
    None
}

/// `vcs.time` (RFC 3339, as Go's `time.Parse`) in UTC as
/// `yyyymmddhhmmss`, the pseudo-version's timestamp.
fn rfc3339_utc_stamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let num = |from: usize, n: usize| -> Option<i64> {
        let d = b.get(from..from + n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(d).ok()?.parse().ok()
    };
    let lit = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(lit(4, b'-') && lit(7, b'-') && lit(10, b'T') && lit(13, b':') && lit(16, b':')) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > *days_in.get(usize::try_from(mo - 1).ok()?)? {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut i = 19;
    if lit(i, b'.') || lit(i, b',') {
        i += 1;
        let digits = b
            .get(i..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        i += digits;
    }
    let offset = match b.get(i..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && lit(i + 3, b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, mo, d) = civil_from_days(days);
    Some(format!(
        "{y:04}{mo:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn module_package(m: &Module) -> LangPackage {
    let used = m.replace.as_deref().unwrap_or(m);
    let mut p = LangPackage::new(Ecosystem::Golang, used.path.clone(), used.version.clone());
    p.found_by = FOUND_BY;
    if let Some(sum) = &used.sum {
        p.properties.push((PROP_SUM.into(), sum.clone()));
    }
    if m.replace.is_some() {
        p.properties
            .push((PROP_REPLACED_PATH.into(), m.path.clone()));
        if !m.version.is_empty() {
            p.properties
                .push((PROP_REPLACED_VERSION.into(), m.version.clone()));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::testing::{Builder, DATA};

    const START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    const END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

    fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// Build info as Go >= 1.18's linker writes it.
    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([8, FLAG_INLINE]);
        b.resize(HEADER, 0);
        put_uvarint(&mut b, version.len() as u64);
        b.extend(version.as_bytes());
        let mut m = START.to_vec();
        m.extend(modinfo.as_bytes());
        m.extend(END);
        put_uvarint(&mut b, m.len() as u64);
        b.extend(m);
        b
    }

    const MODINFO: &str = "path\texample.com/cmd/app\n\
        mod\texample.com/app\t(devel)\t\n\
        dep\tgithub.com/a/b\tv1.2.3\th1:abc=\n\
        dep\tgolang.org/x/sys\tv0.1.0\n\
        =>\tgithub.com/fork/sys\tv0.1.1\th1:def=\n\
        build\t-compiler=gc\n\
        build\t-ldflags=\"-X \\\"main.v=1 2\\\" \\x41\\u00e9\\101\"\n\
        build\t\"a b\"=`raw\tvalue`\n\
        build\tCGO_CFLAGS=\n";

    #[test]
    fn modinfo_lines_read_as_go_reads_them() {
        let info = parse_buildinfo(&blob("go1.22.5", MODINFO)).unwrap();
        assert_eq!(info.go_version, "go1.22.5");
        assert_eq!(info.path, "example.com/cmd/app");
        let main = info.main.as_ref().unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("example.com/app", "(devel)")
        );
        assert_eq!(main.sum, None);
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].sum.as_deref(), Some("h1:abc="));
        let r = info.deps[1].replace.as_ref().unwrap();
        assert_eq!(
            (r.path.as_str(), r.version.as_str()),
            ("github.com/fork/sys", "v0.1.1")
        );
        assert_eq!(
            info.settings,
            [
                ("-compiler".into(), "gc".into()),
                ("-ldflags".into(), "-X \"main.v=1 2\" A\u{e9}A".into()),
                ("a b".into(), "raw\tvalue".into()),
                ("CGO_CFLAGS".into(), String::new()),
            ]
        );
    }

    #[test]
    fn packages_are_the_modules_and_the_standard_library() {
        let info = parse_buildinfo(&blob("go1.21.0 X:boringcrypto", MODINFO)).unwrap();
        let pkgs = info.packages();
        assert_eq!(pkgs.len(), 4);
        let main = &pkgs[0];
        assert!(main.primary && main.found_by == FOUND_BY && main.lang == Ecosystem::Golang);
        let has = |p: &LangPackage, k: &str, v: &str| p.properties.contains(&(k.into(), v.into()));
        assert!(has(main, PROP_GO_VERSION, "go1.21.0 X:boringcrypto"));
        assert!(has(main, PROP_MAIN_PACKAGE, "example.com/cmd/app"));
        assert!(has(main, &format!("{PROP_BUILD}-compiler"), "gc"));
        assert!(has(&pkgs[1], PROP_SUM, "h1:abc="));
        let fork = &pkgs[2];
        assert_eq!(
            (fork.name.as_str(), fork.version.as_str()),
            ("github.com/fork/sys", "v0.1.1")
        );
        assert!(has(fork, PROP_SUM, "h1:def="));
        assert!(has(fork, PROP_REPLACED_PATH, "golang.org/x/sys"));
        assert!(has(fork, PROP_REPLACED_VERSION, "v0.1.0"));
        assert!(
            pkgs[1..]
                .iter()
                .all(|p| !p.primary && p.found_by == FOUND_BY)
        );
        let std = &pkgs[3];
        assert_eq!(
            (std.name.as_str(), std.version.as_str()),
            ("stdlib", "go1.21.0")
        );
    }

    #[test]
    fn main_version_from_ldflags_as_syft() {
        let cases = [
            (
                "github.com/anchore/syft",
                "-w -s -extldflags '-static' -X github.com/anchore/syft/internal/version.version=0.79.0 -X github.com/anchore/syft/internal/version.gitCommit=b2b332e8 -X github.com/anchore/syft/internal/version.buildDate=2023-04-21T16:20:25Z",
                Some("v0.79.0"),
            ),
            (
                "github.com/lima-vm/lima",
                "-s -w -X github.com/lima-vm/lima/pkg/version.Version=v0.15.1",
                Some("v0.15.1"),
            ),
            (
                "github.com/hashicorp/terraform",
                "-w -s -X 'github.com/hashicorp/terraform/version.Version=1.4.6' -X 'github.com/hashicorp/terraform/version.Prerelease='",
                Some("v1.4.6"),
            ),
            (
                "github.com/influxdata/influxdb-client-go/v2",
                "-s -w -X main.version=v2.7.1 -X main.commit=407fa622e9",
                Some("v2.7.1"),
            ),
            (
                "code.gitea.io/gitea",
                " -X \"main.MakeVersion=GNU Make 4.1\" -X \"main.Version=1.19.3\" ",
                Some("v1.19.3"),
            ),
            (
                "github.com/docker/sbom-cli-plugin",
                "-X github.com/docker/sbom-cli-plugin/internal/version.version=0.6.1-SNAPSHOT-02cf1c8",
                Some("v0.6.1-SNAPSHOT-02cf1c8"),
            ),
            (
                "sigs.k8s.io/kustomize/api",
                "-s -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/v4.5.7 ",
                Some("v4.5.7"),
            ),
            (
                "github.com/pingcap/tidb",
                "-X \"github.com/pingcap/tidb/pkg/parser/mysql.TiDBReleaseVersion=v7.5.0\" -X \"github.com/pingcap/tidb/pkg/util/versioninfo.TiDBBuildTS=2023-11-24 08:51:04\"",
                Some("v7.5.0"),
            ),
            (
                "github.com/containernetworking/plugins",
                "-extldflags -static -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v1.2.0",
                Some("v1.2.0"),
            ),
            (
                "github.com/coder/coder",
                "-s -w -X 'github.com/coder/coder/buildinfo.tag=0.23.4'",
                Some("v0.23.4"),
            ),
            // Another module's flag is not the main module's.
            (
                "github.com/foo/baz",
                "-X github.com/foo/bar/buildversion.BuildVersion=v1.2.0 -X github.com/foo/baz/buildversion.BuildVersion=v2.4.5",
                Some("v2.4.5"),
            ),
            // The version pattern wins over an earlier tag.
            (
                "example.com/m",
                "-X main.tag=1.0.0 -X main.version=2.0.0",
                Some("v2.0.0"),
            ),
            // `main` is not anchored; the module's dots are any character.
            ("example.com/m", "-X domain.version=3.1.4", Some("v3.1.4")),
            (
                "example.com/m",
                "-X exampleXcom/m/v.Version=0.0.1",
                Some("v0.0.1"),
            ),
            // The version's dots are any character too.
            (
                "example.com/m",
                "-X main.version=1x2y3-rc1",
                Some("v1x2y3-rc1"),
            ),
            (
                "github.com/gohugoio/hugo",
                "-s -w -X github.com/gohugoio/hugo/common/hugo.vendorInfo=gohugoio",
                None,
            ),
            (
                "github.com/ghostunnel/ghostunnel",
                "-X main.version=77d9aaa",
                None,
            ),
            (
                "github.com/open-policy-agent/opa",
                " -X github.com/open-policy-agent/opa/version.Hostname=9549178459bc",
                None,
            ),
            ("example.com/m", "", None),
            // Not a module path (syft would not compile the pattern).
            ("a(b[", "-X a(b[/x.version=1.2.3", Some("v1.2.3")),
            ("a(b[", "-X a(/x.version=1.2.3", None),
        ];
        for (module, flags, want) in cases {
            assert_eq!(
                version_from_ldflags(flags, module).as_deref(),
                want,
                "{module} {flags}"
            );
        }
    }

    #[test]
    fn a_devel_main_module_gets_syfts_version() {
        let with = |version: &str, settings: &str| {
            let modinfo =
                format!("path\texample.com/app\nmod\texample.com/app\t{version}\n{settings}");
            let info = parse_buildinfo(&blob("go1.22.5", &modinfo)).unwrap();
            let main = info.packages().remove(0);
            let kept = main
                .properties
                .iter()
                .find(|(k, _)| k == PROP_BUILDINFO_VERSION)
                .map(|(_, v)| v.clone());
            (main.version, kept)
        };
        let vcs =
            "build\tvcs.revision=0123456789abcdef0123\nbuild\tvcs.time=2024-02-29T23:30:00+01:00\n";
        let ld = "build\t-ldflags=\"-X main.version=1.2.3\"\n";
        assert_eq!(
            with("(devel)", &format!("{ld}{vcs}")),
            ("v1.2.3".into(), Some("(devel)".into()))
        );
        assert_eq!(
            with("(devel)", vcs),
            (
                "v0.0.0-20240229223000-0123456789ab".into(),
                Some("(devel)".into())
            )
        );
        assert_eq!(
            with("", "build\tvcs.revision=abc\nbuild\tvcs.time=yesterday\n"),
            ("v0.0.0-00010101000000-abc".into(), Some(String::new()))
        );
        // A release stays; so does (devel) with nothing to go on.
        assert_eq!(
            with("v1.0.0", &format!("{ld}{vcs}")),
            ("v1.0.0".into(), None)
        );
        assert_eq!(
            with("(devel)", "build\tvcs.revision=abc\n"),
            ("(devel)".into(), None)
        );
    }

    #[test]
    fn rfc3339_stamps() {
        for (t, want) in [
            ("2023-04-21T16:20:25Z", Some("20230421162025")),
            ("2023-04-21T16:20:25.123456789Z", Some("20230421162025")),
            ("2000-01-01T00:30:00+01:00", Some("19991231233000")),
            ("2023-12-31T23:00:00-02:00", Some("20240101010000")),
            ("2023-02-29T00:00:00Z", None),
            ("2023-04-21 16:20:25Z", None),
            ("2023-04-21T16:20:25", None),
            ("2023-04-21T24:00:00Z", None),
            ("", None),
        ] {
            assert_eq!(rfc3339_utc_stamp(t).as_deref(), want, "{t}");
        }
    }

    #[test]
    fn damaged_or_other_build_info_is_an_error() {
        let mut old = blob("go1.17", MODINFO);
        old[15] = 0;
        assert!(matches!(
            parse_buildinfo(&old),
            Err(CatalogError::Unsupported { .. })
        ));
        assert_eq!(
            parse_buildinfo(b"nope"),
            Err(CatalogError::NotFormat(FORMAT))
        );
        assert_eq!(
            parse_buildinfo(&blob("", MODINFO)),
            Err(CatalogError::NotFormat(FORMAT))
        );
        let b = blob("go1.22.5", MODINFO);
        for n in [15, 31, 33, 40, b.len() - 1] {
            assert!(
                matches!(
                    parse_buildinfo(&b[..n]),
                    Err(CatalogError::Malformed { .. })
                ),
                "{n}"
            );
        }
        for bad in [
            "=>\ta\tv1\th1:x\n",
            "dep\tonly-path\n",
            "dep\ta\tv1\n=>\ta\tv2\n",
            "build\tA B=c\n",
            "build\tA=b c\n",
            "build\t=x\n",
            "build\tA=\"unterminated\n",
            "build\tA=\"bad \\q escape\"\n",
            "build\t\"k\"x\n",
            "build\tnoequals\n",
        ] {
            assert!(
                matches!(
                    parse_buildinfo(&blob("go1.22.5", bad)),
                    Err(CatalogError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        // Without its sentinels Go reads no module info at all.
        let mut b = MAGIC.to_vec();
        b.extend([8, FLAG_INLINE]);
        b.resize(HEADER, 0);
        b.extend(b"\x08go1.22.5\x05mod\tx");
        let info = parse_buildinfo(&b).unwrap();
        assert_eq!((info.go_version.as_str(), info.main), ("go1.22.5", None));
        // Nor when the text before the end sentinel is not a whole line.
        let info = parse_buildinfo(&blob("go1.22.5", "path\tp\nmod\tm\tv1")).unwrap();
        assert_eq!((info.path.as_str(), info.main), ("", None));
    }

    /// An ELF (class, byte order) with a code segment holding an aligned
    /// decoy magic, and a data segment with an unaligned magic before the
    /// real build info.
    fn go_elf(is64: bool, be: bool, info: &[u8]) -> Vec<u8> {
        let mut decoy = blob("go1.0", "");
        decoy[14] = 0xee;
        let mut b = Builder::new(is64, be);
        b.load(5, 0, 0x1000)
            .put(DATA, &decoy)
            .load(6, 0x1000, 0x3000)
            .put(0x1003, MAGIC)
            .put(0x1010, info)
            .put(0x4000, &[0xaa; 100]);
        b.build(None)
    }

    fn streamed(file: &[u8], chunk: usize) -> (Option<Vec<u8>>, usize) {
        let mut f = BuildInfoFinder::new();
        let mut fed = 0;
        for c in file.chunks(chunk) {
            if !f.wants_more() {
                break;
            }
            f.update(c);
            fed += c.len();
        }
        (f.finish(), fed)
    }

    #[test]
    fn the_finder_reads_the_data_segment_in_any_chunks() {
        let info = blob("go1.22.5", MODINFO);
        for (is64, be) in [(true, false), (true, true), (false, false), (false, true)] {
            let file = go_elf(is64, be, &info);
            assert_eq!(find_buildinfo(&file).as_ref(), Some(&info), "{is64} {be}");
            for n in (1..=40).chain([4096, 0x1011, file.len()]) {
                let (got, fed) = streamed(&file, n);
                assert_eq!(got.as_ref(), Some(&info), "{is64} {be} chunks of {n}");
                // Done once the blob is in: the rest of the file is not read.
                assert!(fed < 0x1010 + info.len() + n, "{n}");
            }
        }
    }

    #[test]
    fn magics_the_finder_ignores() {
        let info = blob("go1.22.5", MODINFO);
        // Not ELF.
        let mut file = vec![0u8; 64];
        file.extend(&info);
        assert_eq!(find_buildinfo(&file), None);
        let mut f = BuildInfoFinder::new();
        f.update(b"MZ\x90\x00");
        assert!(!f.wants_more());
        // Only in a code segment, or only unaligned in the data one.
        let mut b = Builder::new(true, false);
        b.load(5, 0, 0x1000)
            .put(0x400, &info)
            .load(6, 0x1000, 0x1000)
            .put(0x1008, &info);
        assert_eq!(find_buildinfo(&b.build(None)), None);
        // No writable segment: nothing is searched.
        let mut b = Builder::new(true, false);
        b.load(5, 0, 0x2000).put(0x400, &info);
        let file = b.build(None);
        assert_eq!(find_buildinfo(&file), None);
        let mut f = BuildInfoFinder::new();
        f.update(&file[..0x200]);
        assert!(!f.wants_more());
        // Program headers past the first 64 KiB: the whole file is searched.
        let mut b = Builder::new(true, false);
        b.put(0x400, &info).load(5, 0, 0x2000).phoff(0x2_0000);
        assert_eq!(find_buildinfo(&b.build(None)), Some(info.clone()));
        // The magic at the end of the data segment, its strings after it.
        let mut b = Builder::new(true, false);
        b.load(6, 0x1000, 0x1010).put(0x2000, &info);
        let file = b.build(None);
        for n in [1, 5, 4096] {
            assert_eq!(streamed(&file, n).0, Some(info.clone()), "{n}");
        }
    }

    #[test]
    fn the_blob_is_bounded() {
        let mut b = MAGIC.to_vec();
        b.extend([8, FLAG_INLINE]);
        b.resize(HEADER, 0);
        put_uvarint(&mut b, (MAX_BLOB as u64) * 2);
        let mut el = Builder::new(true, false);
        el.load(6, 0x1000, 0x1000).put(0x1000, &b);
        let mut file = el.build(None);
        file.resize(file.len() + MAX_BLOB + 10, b'x');
        let got = find_buildinfo(&file).unwrap();
        assert!(got.len() <= HEADER + 10);
        assert!(matches!(
            parse_buildinfo(&got),
            Err(CatalogError::TooLarge { .. })
        ));
        // A string that never ends stops at MAX_BLOB.
        let mut b = MAGIC.to_vec();
        b.extend([8, FLAG_INLINE]);
        b.resize(HEADER, 0);
        put_uvarint(&mut b, (MAX_BLOB - 100) as u64);
        el = Builder::new(true, false);
        el.load(6, 0x1000, 0x1000).put(0x1000, &b);
        let mut file = el.build(None);
        file.resize(0x1000 + MAX_BLOB + 10, b'x');
        let (got, _) = streamed(&file, 65536);
        assert!(got.unwrap().len() <= MAX_BLOB);
    }

    /// xorshift64*: deterministic mutations.
    #[test]
    fn a_binary_outside_a_module_is_its_main_package_at_devel() {
        // `go version -m /usr/lib/go-1.19/bin/gofmt`: a path, no mod line.
        let info = BuildInfo {
            go_version: "go1.19.8".into(),
            path: "cmd/gofmt".into(),
            main: None,
            deps: Vec::new(),
            settings: vec![("-compiler".into(), "gc".into())],
        };
        let ps = info.packages();
        assert_eq!(ps[0].name, "cmd/gofmt");
        assert_eq!(ps[0].version, "(devel)");
        assert!(ps[0].primary);
        assert_eq!(ps[1].name, "stdlib");
        let nothing = BuildInfo {
            go_version: "go1.19.8".into(),
            ..BuildInfo::default()
        };
        assert!(nothing.packages().iter().all(|p| !p.primary));
    }

    use crate::testutil::Rng;

    fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
        match rng.below(5) {
            0 => {
                let i = rng.below(data.len());
                if let Some(b) = data.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => data.truncate(rng.below(data.len() + 1)),
            2 => {
                let i = rng.below(data.len() + 1);
                data.insert(i, rng.next() as u8);
            }
            3 => {
                let i = rng.below(data.len());
                if let Some(b) = data.get_mut(i) {
                    *b = [0, 0x7f, 0x80, 0xff, b'\t', b'\n', b'"', b'\\'][rng.below(8)];
                }
            }
            _ => {
                if !data.is_empty() {
                    let i = rng.below(data.len());
                    data.remove(i);
                }
            }
        }
    }

    #[test]
    fn mutated_input_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let info = blob("go1.22.5", MODINFO);
        for _ in 0..20_000 {
            let mut b = info.clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut b);
            }
            let _ = parse_buildinfo(&b).map(|i| i.packages());
        }
        let file = go_elf(true, false, &info);
        for _ in 0..2_000 {
            let mut f = file.clone();
            // Mostly in the headers and the blob, where the decisions are.
            for _ in 0..=rng.below(3) {
                let i = [
                    rng.below(0x80),
                    0x1010 + rng.below(info.len()),
                    rng.below(f.len()),
                ][rng.below(3)];
                if let Some(b) = f.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            if rng.below(4) == 0 {
                mutate(&mut rng, &mut f);
            }
            let chunk = 1 + rng.below(5000);
            let (got, _) = streamed(&f, chunk);
            assert!(got.as_ref().is_none_or(|b| b.len() <= MAX_BLOB));
            if let Some(b) = got {
                let _ = parse_buildinfo(&b);
            }
        }
    }
}
