//! The few ELF structures the Go and Rust catalogers need (file header,
//! program headers, section headers), read with bounds checks from bytes
//! that may be a prefix or a window of the file.

/// `\x7fELF`.
pub(crate) const MAGIC: &[u8; 4] = b"\x7fELF";

/// Bytes of the largest file header (64-bit); a 32-bit one is 52.
pub(crate) const EHDR_MAX: usize = 64;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
/// A section with no bytes in the file (`.bss`).
pub(crate) const SHT_NOBITS: u32 = 8;

/// What the file header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) is64: bool,
    pub(crate) big_endian: bool,
    pub(crate) phoff: u64,
    pub(crate) phentsize: u16,
    pub(crate) phnum: u16,
    pub(crate) shoff: u64,
    pub(crate) shentsize: u16,
    pub(crate) shnum: u16,
    pub(crate) shstrndx: u16,
}

/// One section header (the fields used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) name: u32,
    pub(crate) kind: u32,
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

/// Bytes of the file from `start` on (a whole file, or a window of it).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) start: u64,
    pub(crate) bytes: &'a [u8],
}

impl<'a> View<'a> {
    /// `len` bytes at file offset `off`, when the view holds all of them.
    pub(crate) fn get(&self, off: u64, len: u64) -> Option<&'a [u8]> {
        let rel = usize::try_from(off.checked_sub(self.start)?).ok()?;
        let len = usize::try_from(len).ok()?;
        self.bytes.get(rel..rel.checked_add(len)?)
    }
}

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

fn u64_at(b: &[u8], at: usize, be: bool) -> Option<u64> {
    let a: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if be {
        u64::from_be_bytes(a)
    } else {
        u64::from_le_bytes(a)
    })
}

/// Whether `head` has enough bytes to decide [`header`]. Non-ELF is decided from the first byte that differs.
pub(crate) fn header_decidable(head: &[u8]) -> bool {
    let n = head.len().min(MAGIC.len());
    if head.get(..n) != MAGIC.get(..n) {
        return true;
    }
    match head.get(4) {
        Some(1) => head.len() >= 52,
        Some(2) => head.len() >= 64,
        Some(_) => true,
        None => false,
    }
}

/// The file header, when `head` starts with a well-formed one.
pub(crate) fn header(head: &[u8]) -> Option<Header> {
    if !head.starts_with(MAGIC) {
        return None;
    }
    let is64 = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let be = match head.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    // 64-bit offsets are 12 bytes further than 32-bit ones after e_entry.
    let (phoff, shoff, rest) = if is64 {
        (u64_at(head, 0x20, be)?, u64_at(head, 0x28, be)?, 0x36)
    } else {
        (
            u64::from(u32_at(head, 0x1c, be)?),
            u64::from(u32_at(head, 0x20, be)?),
            0x2a,
        )
    };
    Some(Header {
        is64,
        big_endian: be,
        phoff,
        phentsize: u16_at(head, rest, be)?,
        phnum: u16_at(head, rest + 2, be)?,
        shoff,
        shentsize: u16_at(head, rest + 4, be)?,
        shnum: u16_at(head, rest + 6, be)?,
        shstrndx: u16_at(head, rest + 8, be)?,
    })
}

impl Header {
    /// Where the program header table is (offset, bytes), when its entry
    /// size is one this header's class can hold.
    pub(crate) fn program_table(&self) -> Option<(u64, u64)> {
        let min = if self.is64 { 56 } else { 32 };
        if self.phnum == 0 || usize::from(self.phentsize) < min {
            return None;
        }
        let len = u64::from(self.phentsize) * u64::from(self.phnum);
        self.phoff.checked_add(len).map(|_| (self.phoff, len))
    }

    /// Where the section header table is (offset, bytes). `None` when there
    /// is none or its count is kept in section 0 (`e_shnum` 0, more than
    /// 65279 sections: no binary of interest has that many).
    pub(crate) fn section_table(&self) -> Option<(u64, u64)> {
        let min = if self.is64 { 64 } else { 40 };
        if self.shoff == 0 || self.shnum == 0 || usize::from(self.shentsize) < min {
            return None;
        }
        let len = u64::from(self.shentsize) * u64::from(self.shnum);
        self.shoff.checked_add(len).map(|_| (self.shoff, len))
    }

    /// File ranges `(offset, end)` of the loadable segments that are
    /// writable and not executable (where the Go linker puts build info),
    /// sorted and merged. `None` when `view` does not hold the table.
    pub(crate) fn writable_loads(&self, view: View<'_>) -> Option<Vec<(u64, u64)>> {
        let (off, len) = self.program_table()?;
        let table = view.get(off, len)?;
        let be = self.big_endian;
        let mut ranges = Vec::new();
        for e in table.chunks_exact(usize::from(self.phentsize)) {
            let (kind, flags, offset, filesz) = if self.is64 {
                (
                    u32_at(e, 0, be)?,
                    u32_at(e, 4, be)?,
                    u64_at(e, 8, be)?,
                    u64_at(e, 32, be)?,
                )
            } else {
                (
                    u32_at(e, 0, be)?,
                    u32_at(e, 24, be)?,
                    u64::from(u32_at(e, 4, be)?),
                    u64::from(u32_at(e, 16, be)?),
                )
            };
            if kind == PT_LOAD && flags & (PF_X | PF_W) == PF_W && filesz > 0 {
                ranges.push((offset, offset.saturating_add(filesz)));
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        for (s, e) in ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Some(merged)
    }

    /// Section header `index`, when `view` holds it.
    pub(crate) fn section(&self, view: View<'_>, index: u16) -> Option<Section> {
        let (off, _) = self.section_table()?;
        if index >= self.shnum {
            return None;
        }
        let ent = u64::from(self.shentsize);
        let e = view.get(off + ent * u64::from(index), ent)?;
        let be = self.big_endian;
        let (offset, size) = if self.is64 {
            (u64_at(e, 24, be)?, u64_at(e, 32, be)?)
        } else {
            (u64::from(u32_at(e, 16, be)?), u64::from(u32_at(e, 20, be)?))
        };
        Some(Section {
            name: u32_at(e, 0, be)?,
            kind: u32_at(e, 4, be)?,
            offset,
            size,
        })
    }

    /// The first section named `name`, looked up in the section names
    /// (`e_shstrndx`), when `view` holds the table and the names.
    pub(crate) fn find_section(&self, view: View<'_>, name: &[u8]) -> Option<Section> {
        let names = self.section(view, self.shstrndx)?;
        let strtab = view.get(names.offset, names.size)?;
        (0..self.shnum)
            .filter_map(|i| self.section(view, i))
            .find(|s| {
                usize::try_from(s.name)
                    .ok()
                    .and_then(|at| strtab.get(at..))
                    // Names are NUL-terminated inside the table.
                    .and_then(|rest| Some(&rest[..rest.iter().position(|&b| b == 0)?]))
                    == Some(name)
            })
    }

    /// The first section whose name, `name_len` bytes with its NUL inside
    /// the names, starts at a file offset `at_name` accepts (the names
    /// themselves need not be in `view`, only the section table).
    pub(crate) fn find_section_named_at(
        &self,
        view: View<'_>,
        name_len: u64,
        at_name: impl Fn(u64) -> bool,
    ) -> Option<Section> {
        let names = self.section(view, self.shstrndx)?;
        (0..self.shnum)
            .filter_map(|i| self.section(view, i))
            .find(|s| {
                u64::from(s.name) + name_len <= names.size
                    && names
                        .offset
                        .checked_add(u64::from(s.name))
                        .is_some_and(&at_name)
            })
    }
}

/// Synthetic ELF files for the catalogers' tests.
#[cfg(test)]
pub(crate) mod testing {
    /// Room for this many program headers after the file header.
    const MAX_PHDRS: usize = 4;
    /// Where a builder's caller may start putting data.
    pub(crate) const DATA: u64 = 0x200;

    pub(crate) struct Builder {
        is64: bool,
        be: bool,
        file: Vec<u8>,
        /// (type, flags, offset, filesz).
        phdrs: Vec<(u32, u32, u64, u64)>,
        /// (name, type, offset, size).
        sections: Vec<(String, u32, u64, u64)>,
        phoff: Option<u64>,
    }

    impl Builder {
        pub(crate) fn new(is64: bool, be: bool) -> Builder {
            Builder {
                is64,
                be,
                file: vec![0; DATA as usize],
                phdrs: Vec::new(),
                sections: Vec::new(),
                phoff: None,
            }
        }

        /// Writes `bytes` at `off`, growing the file with zeros.
        pub(crate) fn put(&mut self, off: u64, bytes: &[u8]) -> &mut Builder {
            let off = off as usize;
            if self.file.len() < off + bytes.len() {
                self.file.resize(off + bytes.len(), 0);
            }
            self.file[off..off + bytes.len()].copy_from_slice(bytes);
            self
        }

        pub(crate) fn load(&mut self, flags: u32, off: u64, size: u64) -> &mut Builder {
            assert!(self.phdrs.len() < MAX_PHDRS);
            self.phdrs.push((1, flags, off, size));
            self
        }

        /// Puts the program headers at `off` instead of after the header.
        pub(crate) fn phoff(&mut self, off: u64) -> &mut Builder {
            self.phoff = Some(off);
            self
        }

        pub(crate) fn section(
            &mut self,
            name: &str,
            kind: u32,
            off: u64,
            size: u64,
        ) -> &mut Builder {
            self.sections.push((name.into(), kind, off, size));
            self
        }

        fn int(&self, v: u64, n: usize) -> Vec<u8> {
            let b = v.to_le_bytes();
            let mut b = b[..n].to_vec();
            if self.be {
                b.reverse();
            }
            b
        }

        fn word(&self, v: u64) -> Vec<u8> {
            self.int(v, if self.is64 { 8 } else { 4 })
        }

        /// The file, with the section names at `names_at` (or at the end)
        /// and the section header table at the end.
        pub(crate) fn build(&mut self, names_at: Option<u64>) -> Vec<u8> {
            let mut names = vec![0u8];
            let mut sections = vec![(0u32, 0u32, 0u64, 0u64)];
            let mut entries = self.sections.clone();
            entries.push((".shstrtab".into(), 3, 0, 0));
            let shstrndx = entries.len();
            for (name, kind, off, size) in &entries {
                sections.push((names.len() as u32, *kind, *off, *size));
                names.extend_from_slice(name.as_bytes());
                names.push(0);
            }
            let names_off = names_at.unwrap_or(self.file.len() as u64);
            self.put(names_off, &names.clone());
            let last = sections.last_mut().unwrap();
            (last.2, last.3) = (names_off, names.len() as u64);
            let shoff = (self.file.len() as u64).next_multiple_of(8);
            let mut table = Vec::new();
            for (name, kind, off, size) in &sections {
                let mut e = self.int(u64::from(*name), 4);
                e.extend(self.int(u64::from(*kind), 4));
                if self.is64 {
                    e.extend(self.int(0, 8)); // flags
                    e.extend(self.int(0, 8)); // addr
                    e.extend(self.int(*off, 8));
                    e.extend(self.int(*size, 8));
                    e.resize(64, 0);
                } else {
                    e.extend(self.int(0, 4));
                    e.extend(self.int(0, 4));
                    e.extend(self.int(*off, 4));
                    e.extend(self.int(*size, 4));
                    e.resize(40, 0);
                }
                table.extend(e);
            }
            self.put(shoff, &table.clone());
            let phoff = self.phoff.unwrap_or(if self.is64 { 64 } else { 52 });
            let mut ph = Vec::new();
            for &(kind, flags, off, size) in &self.phdrs.clone() {
                let mut e = self.int(u64::from(kind), 4);
                if self.is64 {
                    e.extend(self.int(u64::from(flags), 4));
                    e.extend(self.int(off, 8));
                    e.extend(self.int(off + 0x40_0000, 8)); // vaddr
                    e.extend(self.int(off + 0x40_0000, 8)); // paddr
                    e.extend(self.int(size, 8));
                    e.extend(self.int(size, 8));
                    e.resize(56, 0);
                } else {
                    e.extend(self.int(off, 4));
                    e.extend(self.int(off + 0x40_0000, 4));
                    e.extend(self.int(off + 0x40_0000, 4));
                    e.extend(self.int(size, 4));
                    e.extend(self.int(size, 4));
                    e.extend(self.int(u64::from(flags), 4));
                    e.resize(32, 0);
                }
                ph.extend(e);
            }
            self.put(phoff, &ph);
            let mut h = b"\x7fELF".to_vec();
            h.push(if self.is64 { 2 } else { 1 });
            h.push(if self.be { 2 } else { 1 });
            h.push(1);
            h.resize(16, 0);
            h.extend(self.int(2, 2)); // ET_EXEC
            h.extend(self.int(62, 2));
            h.extend(self.int(1, 4));
            h.extend(self.word(0x40_1000)); // entry
            h.extend(self.word(phoff));
            h.extend(self.word(shoff));
            h.extend(self.int(0, 4));
            h.extend(self.int(if self.is64 { 64 } else { 52 }, 2));
            h.extend(self.int(if self.is64 { 56 } else { 32 }, 2));
            h.extend(self.int(self.phdrs.len() as u64, 2));
            h.extend(self.int(if self.is64 { 64 } else { 40 }, 2));
            h.extend(self.int(sections.len() as u64, 2));
            h.extend(self.int(shstrndx as u64, 2));
            self.put(0, &h);
            self.file.clone()
        }
    }
}
