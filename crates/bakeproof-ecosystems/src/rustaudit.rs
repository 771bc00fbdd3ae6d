//! Rust binaries built with cargo-auditable: the `.dep-v0` ELF section
//! (zlib-compressed JSON, `auditable-serde`'s format).

use std::io::Read;

use serde::Deserialize;

use crate::{CatalogError, Ecosystem, LangPackage, elf};

/// Most bytes of a decompressed dependency list.
pub const MAX_JSON: usize = 8 << 20;

/// Largest compressed `.dep-v0` section read (a zlib stream inflating to
/// at most [`MAX_JSON`] is far smaller).
pub const MAX_SECTION: usize = 8 << 20;

/// `found_by` of every package read from `.dep-v0`.
pub const FOUND_BY: &str = "cargo-auditable";

/// Property keys (below the SBOM's `bakeproof:package:`): where the crate
/// came from (`crates.io`, `git`, `local`, `registry`), and `build` for a
/// crate only the build (build scripts, proc macros) used.
pub const PROP_SOURCE: &str = "bakeproof:package:rust:source";
pub const PROP_KIND: &str = "bakeproof:package:rust:kind";

/// The section's name.
pub const SECTION: &[u8] = b".dep-v0";

/// Bytes kept before the section header table: the section names
/// (`.shstrtab`) and, in a stripped binary, `.dep-v0` itself usually sit
/// just before it.
pub const WINDOW_BEFORE: u64 = 64 << 10;

/// Largest section header table followed (65535 entries of 64 bytes).
const MAX_TABLE: u64 = 4 << 20;

const FORMAT: &str = "cargo-auditable";

/// Where an ELF file's `.dep-v0` section is, read from the ELF header, the
/// section header table and the section names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionRange {
    pub offset: u64,
    pub size: u64,
}

/// Watches a file stream for what is needed to find `.dep-v0` (bounded
/// memory: the ELF header, the section header table, the section names).
///
/// It keeps the bytes in `[e_shoff - 64 KiB, e_shoff + table size)` and
/// nothing else: the section lies there in stripped binaries; elsewhere,
/// [`DepV0Finder::finish`] says where to read it. When the section names
/// are before the window too (an unstripped binary: `.symtab` and `.strtab`
/// sit between them and the table), the offsets where `.dep-v0\0` went by
/// (a few numbers) tell which section header is the one.
#[derive(Debug, Default)]
pub struct DepV0Finder {
    state: State,
    /// File offset of the next byte [`DepV0Finder::update`] gets.
    offset: u64,
}

#[derive(Debug)]
enum State {
    /// The first bytes, until the ELF header is in.
    Head(Vec<u8>),
    /// Keeping `[start, end)`; `bytes` holds what of it came so far.
    Window {
        header: elf::Header,
        start: u64,
        end: u64,
        bytes: Vec<u8>,
        names: NameHits,
    },
    /// Not ELF, or no section table.
    Off,
}

impl Default for State {
    fn default() -> Self {
        State::Head(Vec::new())
    }
}

impl DepV0Finder {
    pub fn new() -> DepV0Finder {
        DepV0Finder::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        let off = self.offset;
        self.offset = off.saturating_add(chunk.len() as u64);
        self.feed(chunk, off);
    }

    fn feed(&mut self, chunk: &[u8], off: u64) {
        match &mut self.state {
            State::Head(head) => {
                let take = elf::EHDR_MAX.saturating_sub(head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                if !elf::header_decidable(head) {
                    return;
                }
                let head = std::mem::take(head);
                self.state = match elf::header(&head).and_then(|h| Some((h, h.section_table()?))) {
                    Some((header, (shoff, len))) if len <= MAX_TABLE => State::Window {
                        header,
                        start: shoff.saturating_sub(WINDOW_BEFORE),
                        end: shoff + len,
                        bytes: Vec::new(),
                        names: NameHits::default(),
                    },
                    _ => State::Off,
                };
                // The head may lie in the window (a small file): replay it.
                self.feed(&head, 0);
                if let Some(rest) = chunk.get(take..).filter(|r| !r.is_empty()) {
                    self.feed(rest, off + take as u64);
                }
            }
            State::Window {
                start,
                end,
                bytes,
                names,
                ..
            } => {
                if off < *end {
                    names.scan(chunk, off, *end);
                }
                let from = (*start).max(off);
                let to = (*end).min(off + chunk.len() as u64);
                if from < to {
                    let a = usize::try_from(from - off).unwrap_or(usize::MAX);
                    let b = usize::try_from(to - off).unwrap_or(usize::MAX);
                    if let Some(piece) = chunk.get(a..b) {
                        bytes.extend_from_slice(piece);
                    }
                }
            }
            State::Off => {}
        }
    }

    pub fn wants_more(&self) -> bool {
        match &self.state {
            State::Head(_) => true,
            State::Window { end, .. } => self.offset < *end,
            State::Off => false,
        }
    }

    /// The section's bytes when the stream held them, or where to read them
    /// (`Err(range)`) when it passed them before it could know.
    pub fn finish(self) -> Option<Result<Vec<u8>, SectionRange>> {
        let State::Window {
            header,
            start,
            bytes,
            names,
            ..
        } = self.state
        else {
            return None;
        };
        let view = elf::View {
            start,
            bytes: &bytes,
        };
        let s = header.find_section(view, SECTION).or_else(|| {
            // The names were before the window (`.symtab` and `.strtab`
            // between them and the table): a section whose name sits where
            // the stream saw `.dep-v0\0` is the one.
            header.find_section_named_at(view, NAME_NUL.len() as u64, |at| names.hits.contains(&at))
        })?;
        if s.kind == elf::SHT_NOBITS {
            return None;
        }
        Some(match view.get(s.offset, s.size) {
            Some(b) => Ok(b.to_vec()),
            None => Err(SectionRange {
                offset: s.offset,
                size: s.size,
            }),
        })
    }
}

/// File offsets of `.dep-v0\0` in the stream (where a section name may be),
/// found across chunk boundaries.
#[derive(Debug, Default)]
struct NameHits {
    /// The last bytes seen (fewer than the needle), ending at the chunk's
    /// offset.
    tail: Vec<u8>,
    hits: Vec<u64>,
}

/// A name as the section names hold it: NUL-terminated.
const NAME_NUL: &[u8] = b".dep-v0\0";

/// Most name hits remembered (the name is in `.shstrtab` once, maybe in a
/// symbol table or two: more is not a binary worth following).
const MAX_HITS: usize = 64;

impl NameHits {
    /// Records the names in `chunk` (at `off`) that end by `end` (so what
    /// is recorded does not depend on where the chunks are cut).
    fn scan(&mut self, chunk: &[u8], off: u64, end: u64) {
        let finder = memchr::memmem::Finder::new(NAME_NUL);
        let keep = NAME_NUL.len() - 1;
        let t = self.tail.len();
        let mut seam = std::mem::take(&mut self.tail);
        seam.extend_from_slice(&chunk[..chunk.len().min(keep)]);
        let seam_start = off.saturating_sub(t as u64);
        // Hits starting in the tail span the boundary; the rest are the
        // chunk's own.
        let cut = finder.find_iter(&seam).take_while(|&i| i < t);
        let own = finder.find_iter(chunk);
        for at in cut
            .map(|i| seam_start + i as u64)
            .chain(own.map(|i| off + i as u64))
        {
            if self.hits.len() < MAX_HITS && at + NAME_NUL.len() as u64 <= end {
                self.hits.push(at);
            }
        }
        // The next seam's tail: the last bytes of the tail and the chunk.
        self.tail = match chunk.len().checked_sub(keep) {
            Some(from) => chunk[from..].to_vec(),
            None => seam.split_off(seam.len().saturating_sub(keep)),
        };
    }
}

/// The section in a whole ELF file's bytes.
pub fn find_dep_v0(file: &[u8]) -> Option<&[u8]> {
    let header = elf::header(file)?;
    let view = elf::View {
        start: 0,
        bytes: file,
    };
    let s = header.find_section(view, SECTION)?;
    if s.kind == elf::SHT_NOBITS {
        return None;
    }
    view.get(s.offset, s.size)
}

/// `auditable-serde`'s `VersionInfo` (the fields read).
#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<Crate>,
}

#[derive(Deserialize)]
struct Crate {
    name: String,
    version: String,
    source: String,
    /// `runtime` when absent.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// The crates a `.dep-v0` section lists (the root crate `primary`).
pub fn parse_dep_v0(section: &[u8]) -> Result<Vec<LangPackage>, CatalogError> {
    let mut json = Vec::new();
    // One byte over the bound tells "too large" from "exactly the bound".
    flate2::read::ZlibDecoder::new(section)
        .take(MAX_JSON as u64 + 1)
        .read_to_end(&mut json)
        .map_err(|e| CatalogError::malformed(FORMAT, format!("zlib: {e}")))?;
    if json.len() > MAX_JSON {
        return Err(CatalogError::TooLarge {
            format: FORMAT,
            detail: format!("dependency list over {MAX_JSON} bytes"),
        });
    }
    let info: VersionInfo = serde_json::from_slice(&json)
        .map_err(|e| CatalogError::malformed(FORMAT, format!("JSON: {e}")))?;
    let names: Vec<&str> = info.packages.iter().map(|c| c.name.as_str()).collect();
    info.packages
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut p = LangPackage::new(Ecosystem::Cargo, c.name.clone(), c.version.clone());
            p.found_by = FOUND_BY;
            p.primary = c.root;
            p.properties.push((PROP_SOURCE.into(), c.source.clone()));
            if let Some(kind) = c.kind.as_deref().filter(|k| *k != "runtime") {
                p.properties.push((PROP_KIND.into(), kind.into()));
            }
            for &d in &c.dependencies {
                // auditable-serde rejects self-references and indices out
                // of range: a list with them was not written by it.
                match names.get(d) {
                    Some(n) if d != i => p.depends.push((*n).to_string()),
                    _ => {
                        return Err(CatalogError::malformed(
                            FORMAT,
                            format!("package {i} ({}): dependency index {d}", c.name),
                        ));
                    }
                }
            }
            Ok(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::elf::testing::{Builder, DATA};

    const JSON: &str = r#"{"packages":[
        {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"serde","version":"1.0.200","source":"crates.io","dependencies":[2]},
        {"name":"cc","version":"1.0.0","source":"registry","kind":"build"},
        {"name":"fork","version":"0.2.0","source":"git","kind":"runtime"}
    ],"format":1}"#;

    fn zlib(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn streamed(file: &[u8], chunk: usize) -> Option<Result<Vec<u8>, SectionRange>> {
        let mut f = DepV0Finder::new();
        for c in file.chunks(chunk) {
            if !f.wants_more() {
                break;
            }
            f.update(c);
        }
        f.finish()
    }

    #[test]
    fn the_section_lists_the_crates() {
        let pkgs = parse_dep_v0(&zlib(JSON.as_bytes())).unwrap();
        let names: Vec<(&str, &str)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("app", "0.1.0"),
                ("serde", "1.0.200"),
                ("cc", "1.0.0"),
                ("fork", "0.2.0")
            ]
        );
        assert!(
            pkgs.iter()
                .all(|p| p.lang == Ecosystem::Cargo && p.found_by == FOUND_BY)
        );
        assert_eq!(
            pkgs.iter().map(|p| p.primary).collect::<Vec<_>>(),
            [true, false, false, false]
        );
        assert_eq!(pkgs[0].depends, ["serde", "cc"]);
        assert_eq!(pkgs[1].depends, ["cc"]);
        assert_eq!(pkgs[0].properties, [(PROP_SOURCE.into(), "local".into())]);
        assert_eq!(
            pkgs[2].properties,
            [
                (PROP_SOURCE.into(), "registry".into()),
                (PROP_KIND.into(), "build".into())
            ]
        );
        assert_eq!(pkgs[3].properties, [(PROP_SOURCE.into(), "git".into())]);
    }

    #[test]
    fn damaged_sections_are_errors() {
        let malformed = |b: &[u8]| matches!(parse_dep_v0(b), Err(CatalogError::Malformed { .. }));
        assert!(malformed(JSON.as_bytes()), "not zlib");
        let z = zlib(JSON.as_bytes());
        assert!(malformed(&z[..z.len() / 2]), "truncated");
        assert!(malformed(&zlib(b"{\"packages\":{}}")), "not a list");
        assert!(malformed(&zlib(
            br#"{"packages":[{"name":"a","version":"1","source":"local","dependencies":[1]}]}"#
        )));
        assert!(malformed(&zlib(
            br#"{"packages":[{"name":"a","version":"1","source":"local","dependencies":[0]}]}"#
        )));
        // A bomb: a few KiB that inflate past MAX_JSON.
        let mut big = b"{\"packages\":[]".to_vec();
        big.resize(MAX_JSON + 10, b' ');
        big.push(b'}');
        let bomb = zlib(&big);
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(
            parse_dep_v0(&bomb),
            Err(CatalogError::TooLarge { .. })
        ));
    }

    /// An ELF with `.dep-v0` holding `section` at `at`, the names at
    /// `names_at` (or after it) and the section table at the end, `pad`
    /// bytes after the section.
    fn rust_elf(
        is64: bool,
        be: bool,
        section: &[u8],
        pad: usize,
        names_at: Option<u64>,
    ) -> Vec<u8> {
        let mut b = Builder::new(is64, be);
        let at = DATA + 0x100;
        b.load(5, 0, at)
            .put(at, section)
            .section(".text", 1, DATA, 0x100)
            .section(".bss", 8, 0, 0x100)
            .section(".dep-v0", 1, at, section.len() as u64)
            .put(at + section.len() as u64 + pad as u64, b"\0");
        b.build(names_at)
    }

    #[test]
    fn the_finder_keeps_the_window_before_the_section_table() {
        let section = zlib(JSON.as_bytes());
        for (is64, be) in [(true, false), (true, true), (false, false), (false, true)] {
            let file = rust_elf(is64, be, &section, 100, None);
            assert_eq!(find_dep_v0(&file), Some(&section[..]), "{is64} {be}");
            for n in (1..=20).chain([4096, file.len()]) {
                assert_eq!(
                    streamed(&file, n),
                    Some(Ok(section.clone())),
                    "{is64} {be} {n}"
                );
            }
        }
        // Passed before the table was known: where to read it.
        let far = rust_elf(true, false, &section, 200 << 10, None);
        assert_eq!(find_dep_v0(&far), Some(&section[..]));
        let range = SectionRange {
            offset: DATA + 0x100,
            size: section.len() as u64,
        };
        for n in [1, 7, 4096, far.len()] {
            assert_eq!(streamed(&far, n), Some(Err(range)), "{n}");
        }
        // The names before the window too (`.symtab`, `.strtab` between
        // them and the table): found by where the name was seen.
        let mut b = Builder::new(true, false);
        b.load(5, 0, DATA)
            .section(".dep-v0", 1, 0x4_0000, section.len() as u64);
        b.put(0x4_0000, &section)
            .put(0x4_0000 + section.len() as u64 + 10, b"\0");
        let names_first = b.build(Some(0x1000));
        for n in [1, 7, 4096, names_first.len()] {
            assert_eq!(streamed(&names_first, n), Some(Ok(section.clone())), "{n}");
        }
        let both_far = rust_elf(true, false, &section, 200 << 10, Some(0x1000));
        assert_eq!(find_dep_v0(&both_far), Some(&section[..]));
        for n in [1, 13, 4096] {
            assert_eq!(streamed(&both_far, n), Some(Err(range)), "{n}");
        }
    }

    #[test]
    fn files_without_the_section() {
        let mut b = Builder::new(true, false);
        b.section(".text", 1, DATA, 0x10).put(DATA, &[0; 0x10]);
        let file = b.build(None);
        assert_eq!(find_dep_v0(&file), None);
        assert_eq!(streamed(&file, 3), None);
        let mut f = DepV0Finder::new();
        f.update(b"#!/bin/sh\n");
        assert!(!f.wants_more());
        assert_eq!(f.finish(), None);
        // An empty `.dep-v0` with no bytes in the file.
        let mut b = Builder::new(true, false);
        b.section(".dep-v0", 8, 0, 0x10);
        let file = b.build(None);
        assert_eq!(find_dep_v0(&file), None);
        assert_eq!(streamed(&file, 5), None);
        // Past the window, the finder wants no more.
        let section = zlib(JSON.as_bytes());
        let mut file = rust_elf(true, false, &section, 0, None);
        let end = file.len();
        file.resize(end + 100_000, 0);
        let mut f = DepV0Finder::new();
        f.update(&file[..end]);
        assert!(!f.wants_more());
        assert_eq!(f.finish(), Some(Ok(section)));
    }

    use crate::testutil::Rng;

    #[test]
    fn mutated_input_never_panics() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let json = JSON.as_bytes();
        let section = zlib(json);
        for _ in 0..5_000 {
            // Damaged JSON in sound zlib, and damaged zlib.
            let mut j = json.to_vec();
            for _ in 0..=rng.below(3) {
                let i = rng.below(j.len());
                j[i] = b"{}[],:\"0 9ax-"[rng.below(13)];
            }
            let _ = parse_dep_v0(&zlib(&j));
            let mut z = section.clone();
            let i = rng.below(z.len());
            z[i] ^= 1 << rng.below(8);
            z.truncate(rng.below(z.len() + 1).max(i));
            let _ = parse_dep_v0(&z);
        }
        let file = rust_elf(true, false, &section, 100, None);
        let table = file.len() - 5 * 64;
        for _ in 0..5_000 {
            let mut f = file.clone();
            for _ in 0..=rng.below(3) {
                // Mostly the headers, where the offsets are.
                let i =
                    [rng.below(64), table + rng.below(5 * 64), rng.below(f.len())][rng.below(3)];
                f[i] = rng.next() as u8;
            }
            if rng.below(4) == 0 {
                f.truncate(rng.below(f.len()));
            }
            let _ = find_dep_v0(&f).map(parse_dep_v0);
            if let Some(Ok(s)) = streamed(&f, 1 + rng.below(300)) {
                let _ = parse_dep_v0(&s);
            }
        }
    }
}
