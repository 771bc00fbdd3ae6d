//! LVM2: a physical volume's label and text metadata, and the logical
//! volumes made of linear segments on it as block sources.
//!
//! Fuzz target: `fuzz/fuzz_targets/lvm_metadata.rs`.

use crate::ImageError;
use crate::block::{BlockSource, SharedSource};
use crate::bytes::{le32, le64};

/// One logical volume of a volume group, as its metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalVolume {
    pub vg: String,
    pub name: String,
    /// Size in bytes.
    pub len: u64,
    /// `linear` when every segment is striped over one PV with one stripe
    /// (readable here); otherwise the first other segment type (`striped`,
    /// `raid1`, `thin`, …), which is said and not read.
    pub layout: String,
    /// `(offset in the LV, length, offset in the PV)` in bytes, sorted;
    /// empty unless `layout == "linear"` and every segment is on this PV.
    pub segments: Vec<(u64, u64, u64)>,
}

/// What a physical volume's metadata says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhysicalVolume {
    pub vg: String,
    /// The PV's UUID (as LVM prints it, with dashes).
    pub pv_uuid: String,
    pub lvs: Vec<LogicalVolume>,
}

/// Largest metadata text read from one area.
const MAX_TEXT: u64 = 16 << 20;
/// Deepest nesting of sections and most values in the metadata text.
const MAX_DEPTH: usize = 16;
const MAX_NODES: usize = 200_000;
/// Most raw locations read from one area header, areas from one label.
const MAX_LOCNS: usize = 16;
const MDA_MAGIC: &[u8; 16] = b"\x20LVM2\x20x[5A%r0N*>";
const MDA_HEADER_SIZE: u64 = 512;

fn corrupt(why: impl Into<String>) -> ImageError {
    ImageError::corrupt("LVM2 metadata", why)
}

/// LVM's CRC (lib/misc/crc.c): the IEEE CRC-32 polynomial, reflected,
/// started at 0xf597a6cf, no final inversion. crc32fast inverts its state
/// on entry and exit, which the two `!` undo.
fn lvm_crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(!0xf597_a6cf_u32);
    h.update(data);
    !h.finalize()
}

/// A value of LVM's text metadata format (`name = value`, `name { … }`).
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Section(Vec<(String, Value)>),
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn sections(&self) -> impl Iterator<Item = (&str, &Value)> {
        let items: &[(String, Value)] = match self {
            Value::Section(items) => items,
            _ => &[],
        };
        items
            .iter()
            .filter(|(_, v)| matches!(v, Value::Section(_)))
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// A parser of LVM's metadata text (lib/config/config.c), written here:
/// no crate reads this format. Bounded: nesting depth, value count.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    nodes: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            if c == b'#' {
                while self.s.get(self.pos).is_some_and(|&c| c != b'\n') {
                    self.pos += 1;
                }
            } else if c.is_ascii_whitespace() || c == 0 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn err(&self, why: &str) -> ImageError {
        corrupt(format!("text at byte {}: {why}", self.pos))
    }

    fn ident(&mut self) -> Result<String, ImageError> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || b"_-+.".contains(&c))
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn count(&mut self) -> Result<(), ImageError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ImageError::Limit(format!(
                "LVM2 metadata with more than {MAX_NODES} values"
            )));
        }
        Ok(())
    }

    /// Items until `}` (depth > 0) or the end (depth 0).
    fn section(&mut self, depth: usize) -> Result<Vec<(String, Value)>, ImageError> {
        if depth > MAX_DEPTH {
            return Err(ImageError::Limit(format!(
                "LVM2 metadata nested deeper than {MAX_DEPTH}"
            )));
        }
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.pos) {
                None if depth == 0 => return Ok(items),
                None => return Err(self.err("unterminated section")),
                Some(b'}') if depth > 0 => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => {}
            }
            self.count()?;
            let name = self.ident()?;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b'{') => {
                    self.pos += 1;
                    let inner = self.section(depth + 1)?;
                    items.push((name, Value::Section(inner)));
                }
                Some(b'=') => {
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(true)?;
                    items.push((name, v));
                }
                _ => return Err(self.err("expected '=' or '{'")),
            }
        }
    }

    fn value(&mut self, list_ok: bool) -> Result<Value, ImageError> {
        match self.s.get(self.pos) {
            Some(b'"') => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.pos) {
                        None => return Err(self.err("unterminated string")),
                        Some(b'"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let Some(&c) = self.s.get(self.pos + 1) else {
                                return Err(self.err("unterminated string"));
                            };
                            out.push(c);
                            self.pos += 2;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                }
                Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(b'[') if list_ok => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        Some(b',') => self.pos += 1,
                        None => return Err(self.err("unterminated list")),
                        Some(_) => {
                            self.count()?;
                            items.push(self.value(false)?);
                        }
                    }
                }
            }
            Some(&c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                match text.parse::<i64>() {
                    Ok(i) => Ok(Value::Int(i)),
                    // Floats exist in the format, not in the fields read here.
                    Err(_) => Ok(Value::Str(text.to_string())),
                }
            }
            _ => Err(self.err("expected a value")),
        }
    }
}

fn parse_text(text: &[u8]) -> Result<Value, ImageError> {
    let mut p = Parser {
        s: text,
        pos: 0,
        nodes: 0,
    };
    Ok(Value::Section(p.section(0)?))
}

/// The label: the PV UUID, the data area start, the metadata areas.
struct Label {
    pv_uuid: String,
    pe_start: Option<u64>,
    mdas: Vec<(u64, u64)>,
}

fn format_uuid(raw: &[u8]) -> String {
    // LVM prints its 32-character ids as 6-4-4-4-4-4-6.
    let mut out = String::new();
    let mut at = 0;
    for (i, n) in [6usize, 4, 4, 4, 4, 4, 6].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&String::from_utf8_lossy(&raw[at..at + n]));
        at += n;
    }
    out
}

fn read_label(src: &dyn BlockSource) -> Result<Label, ImageError> {
    for sector in 0..4u64 {
        let off = sector * 512;
        if off + 512 > src.size() {
            break;
        }
        let mut s = vec![0u8; 512];
        src.read_at(off, &mut s)?;
        if &s[0..8] != b"LABELONE" || &s[24..32] != b"LVM2 001" {
            continue;
        }
        if le64(&s, 8) != sector {
            return Err(corrupt(format!(
                "label in sector {sector} says sector {}",
                le64(&s, 8)
            )));
        }
        let crc = lvm_crc(&s[20..]);
        if crc != le32(&s, 16) {
            return Err(corrupt(format!(
                "label CRC {:#010x}, computed {crc:#010x}",
                le32(&s, 16)
            )));
        }
        let ph = le32(&s, 20) as usize;
        // pv_header: uuid[32], device_size u64, then two zero-terminated
        // lists of (offset u64, size u64): data areas, metadata areas.
        if ph < 32 || ph + 40 > 512 {
            return Err(corrupt(format!("PV header at {ph} in the label sector")));
        }
        let pv_uuid = format_uuid(&s[ph..ph + 32]);
        let mut at = ph + 40;
        let mut lists: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
        for list in &mut lists {
            loop {
                if at + 16 > 512 {
                    return Err(corrupt("PV header area lists past the label sector"));
                }
                let (o, n) = (le64(&s, at), le64(&s, at + 8));
                at += 16;
                if o == 0 {
                    break;
                }
                if list.len() >= MAX_LOCNS {
                    return Err(ImageError::Limit(format!("more than {MAX_LOCNS} PV areas")));
                }
                list.push((o, n));
            }
        }
        let [data, mdas] = lists;
        return Ok(Label {
            pv_uuid,
            pe_start: data.first().map(|d| d.0),
            mdas,
        });
    }
    Err(corrupt("no LABELONE/LVM2 001 label in sectors 0-3"))
}

/// The current metadata text of the area at `(offset, size)`, if any.
fn read_mda(src: &dyn BlockSource, offset: u64, size: u64) -> Result<Option<Vec<u8>>, ImageError> {
    // The area's header must be in the source; the area itself may run
    // past the end of a truncated image as long as the text read is not.
    if size < MDA_HEADER_SIZE
        || offset.checked_add(size).is_none()
        || offset + MDA_HEADER_SIZE > src.size()
    {
        return Err(corrupt(format!(
            "metadata area at {offset} ({size} bytes) past the end of the PV"
        )));
    }
    let mut h = vec![0u8; MDA_HEADER_SIZE as usize];
    src.read_at(offset, &mut h)?;
    if &h[4..20] != MDA_MAGIC {
        return Err(corrupt(format!("no metadata area magic at {offset}")));
    }
    let crc = lvm_crc(&h[4..]);
    if crc != le32(&h, 0) {
        return Err(corrupt(format!("metadata area header CRC at {offset}")));
    }
    for i in 0..MAX_LOCNS {
        let at = 40 + i * 24;
        if at + 24 > h.len() {
            break;
        }
        let (o, n, sum, flags) = (
            le64(&h, at),
            le64(&h, at + 8),
            le32(&h, at + 16),
            le32(&h, at + 20),
        );
        if o == 0 {
            break;
        }
        if flags & 1 != 0 {
            continue; // RAW_LOCN_IGNORED
        }
        if n > MAX_TEXT || n > size - MDA_HEADER_SIZE {
            return Err(corrupt(format!(
                "metadata text of {n} bytes in an area of {size}"
            )));
        }
        if o < MDA_HEADER_SIZE || o >= size {
            return Err(corrupt(format!(
                "metadata text at {o} in an area of {size}"
            )));
        }
        // The area is a ring after its header: the text may wrap.
        let first = n.min(size - o);
        let inside = |at: u64, len: u64| at.checked_add(len).is_some_and(|e| e <= src.size());
        if !inside(offset + o, first) || !inside(offset + MDA_HEADER_SIZE, n - first) {
            return Err(corrupt(format!(
                "metadata text at {} ({n} bytes) past the end of the PV ({} bytes)",
                offset + o,
                src.size()
            )));
        }
        let mut text = vec![0u8; n as usize];
        src.read_at(offset + o, &mut text[..first as usize])?;
        if first < n {
            src.read_at(offset + MDA_HEADER_SIZE, &mut text[first as usize..])?;
        }
        if lvm_crc(&text) != sum {
            return Err(corrupt(format!(
                "metadata text CRC in the area at {offset}"
            )));
        }
        return Ok(Some(text));
    }
    Ok(None)
}

/// The PV's newest metadata text (highest `seqno`) as (VG name, VG section).
fn newest_metadata(src: &dyn BlockSource, label: &Label) -> Result<(String, Value), ImageError> {
    let mut best: Option<(i64, String, Value)> = None;
    let mut last_err = None;
    for &(o, n) in &label.mdas {
        let text = match read_mda(src, o, n) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        let (vg, section) = vg_section(&text)?;
        let seqno = section.int("seqno").unwrap_or(0);
        if best.as_ref().is_none_or(|b| seqno > b.0) {
            best = Some((seqno, vg, section));
        }
    }
    match best {
        Some((_, vg, section)) => Ok((vg, section)),
        None => Err(last_err.unwrap_or_else(|| {
            ImageError::Unsupported(
                "LVM2 PV without metadata (metadata areas empty or ignored)".into(),
            )
        })),
    }
}

fn vg_section(text: &[u8]) -> Result<(String, Value), ImageError> {
    let root = parse_text(text)?;
    let Some((vg, section)) = root.sections().next() else {
        return Err(corrupt("metadata text without a volume group section"));
    };
    Ok((vg.to_string(), section.clone()))
}

/// Reads the LVM2 label and the newest metadata of the PV `src`.
pub fn read_pv(src: &dyn BlockSource) -> Result<PhysicalVolume, ImageError> {
    let label = read_label(src)?;
    let (vg, meta) = newest_metadata(src, &label)?;
    physical_volume(vg, &meta, label.pv_uuid, label.pe_start)
}

/// The text half of [`read_pv`]: one metadata text (as LVM writes it in a
/// metadata area, or `vgcfgbackup` in a file) read as the PV `pv_uuid`
/// (with dashes) sees it. For the fuzz target and tests.
pub fn parse_metadata(text: &[u8], pv_uuid: &str) -> Result<PhysicalVolume, ImageError> {
    let (vg, meta) = vg_section(text)?;
    physical_volume(vg, &meta, pv_uuid.to_string(), None)
}

fn physical_volume(
    vg: String,
    meta: &Value,
    pv_uuid: String,
    label_pe_start: Option<u64>,
) -> Result<PhysicalVolume, ImageError> {
    let sector = 512u64;
    let extent = meta
        .int("extent_size")
        .filter(|&e| e > 0)
        .and_then(|e| (e as u64).checked_mul(sector))
        .ok_or_else(|| corrupt("no extent_size"))?;
    let pvs = meta
        .get("physical_volumes")
        .ok_or_else(|| corrupt("no physical_volumes"))?;
    let this = pvs
        .sections()
        .find(|(_, pv)| pv.str("id") == Some(pv_uuid.as_str()))
        .ok_or_else(|| corrupt(format!("PV {pv_uuid} not in the metadata of VG {vg}")))?;
    let pe_start = match this.1.int("pe_start") {
        Some(p) if p >= 0 => (p as u64)
            .checked_mul(sector)
            .ok_or_else(|| corrupt("pe_start"))?,
        _ => label_pe_start.ok_or_else(|| corrupt("no pe_start"))?,
    };
    let this_pv = this.0;
    let mut lvs = Vec::new();
    if let Some(section) = meta.get("logical_volumes") {
        for (name, lv) in section.sections() {
            lvs.push(logical_volume(&vg, name, lv, this_pv, extent, pe_start)?);
        }
    }
    Ok(PhysicalVolume { vg, pv_uuid, lvs })
}

fn logical_volume(
    vg: &str,
    name: &str,
    lv: &Value,
    this_pv: &str,
    extent: u64,
    pe_start: u64,
) -> Result<LogicalVolume, ImageError> {
    let bytes = |extents: i64| -> Result<u64, ImageError> {
        u64::try_from(extents)
            .ok()
            .and_then(|e| e.checked_mul(extent))
            .ok_or_else(|| corrupt(format!("LV {name}: extent count {extents}")))
    };
    let mut len = 0u64;
    let mut layout: Option<String> = None;
    let mut segments = Vec::new();
    let mut on_this_pv = true;
    for (_, seg) in lv.sections() {
        let count = bytes(seg.int("extent_count").unwrap_or(-1))?;
        let start = bytes(seg.int("start_extent").unwrap_or(-1))?;
        len = len
            .checked_add(count)
            .ok_or_else(|| corrupt(format!("LV {name} size")))?;
        let kind = seg.str("type").unwrap_or("?");
        let stripes = match seg.get("stripes") {
            Some(Value::List(l)) => l.as_slice(),
            _ => &[],
        };
        let linear = kind == "striped" && seg.int("stripe_count") == Some(1) && stripes.len() == 2;
        if !linear {
            layout.get_or_insert_with(|| kind.to_string());
            continue;
        }
        match (&stripes[0], &stripes[1]) {
            (Value::Str(pv), Value::Int(pe)) if pv == this_pv => {
                let at = bytes(*pe)?
                    .checked_add(pe_start)
                    .ok_or_else(|| corrupt(format!("LV {name}: extent {pe}")))?;
                segments.push((start, count, at));
            }
            (Value::Str(_), Value::Int(_)) => on_this_pv = false,
            _ => return Err(corrupt(format!("LV {name}: stripes {stripes:?}"))),
        }
    }
    let layout = layout.unwrap_or_else(|| "linear".to_string());
    if layout != "linear" || !on_this_pv {
        segments.clear();
    }
    segments.sort();
    Ok(LogicalVolume {
        vg: vg.to_string(),
        name: name.to_string(),
        len,
        layout,
        segments,
    })
}

/// A linear LV: its segments, each a window of the PV.
struct LinearLv {
    pv: SharedSource,
    len: u64,
    segments: Vec<(u64, u64, u64)>,
}

impl BlockSource for LinearLv {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        let len = buf.len() as u64;
        if offset.checked_add(len).is_none_or(|e| e > self.len) {
            return Err(ImageError::OutOfRange {
                offset,
                len,
                size: self.len,
            });
        }
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let i = self.segments.partition_point(|s| s.0 + s.1 <= pos);
            let Some(&(start, slen, at)) = self.segments.get(i).filter(|s| s.0 <= pos) else {
                return Err(corrupt(format!("no segment of the LV at byte {pos}")));
            };
            let n = ((start + slen - pos) as usize).min(buf.len() - done);
            self.pv
                .read_at(at + (pos - start), &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

/// A linear logical volume of the PV `pv` as a block source.
pub fn open_lv(pv: SharedSource, lv: &LogicalVolume) -> Result<SharedSource, ImageError> {
    if lv.layout != "linear" {
        return Err(ImageError::Unsupported(format!(
            "LV {}/{}: {} segments (only linear volumes are read)",
            lv.vg, lv.name, lv.layout
        )));
    }
    if lv.segments.is_empty() && lv.len > 0 {
        return Err(ImageError::Unsupported(format!(
            "LV {}/{} is on another PV (volume groups of several PVs are not read)",
            lv.vg, lv.name
        )));
    }
    let mut next = 0u64;
    for &(start, len, at) in &lv.segments {
        if start != next {
            return Err(corrupt(format!(
                "LV {}/{}: segments not contiguous at {start}",
                lv.vg, lv.name
            )));
        }
        if at.checked_add(len).is_none_or(|e| e > pv.size()) {
            return Err(corrupt(format!(
                "LV {}/{}: segment at PV byte {at} ({len} bytes) past the end of the PV ({} bytes)",
                lv.vg,
                lv.name,
                pv.size()
            )));
        }
        next = start.checked_add(len).ok_or_else(|| {
            corrupt(format!(
                "LV {}/{}: segment at {start} of {len} bytes",
                lv.vg, lv.name
            ))
        })?;
    }
    if next != lv.len {
        return Err(corrupt(format!(
            "LV {}/{}: segments cover {next} of {} bytes",
            lv.vg, lv.name, lv.len
        )));
    }
    Ok(std::sync::Arc::new(LinearLv {
        pv,
        len: lv.len,
        segments: lv.segments.clone(),
    }))
}
