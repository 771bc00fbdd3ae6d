//! RFC-822-like "control" stanzas as Debian writes them (dpkg `status`,
//! `status.d/*`, machine-readable `copyright`), parsed from bytes.
//!
//! The parser is deliberately more forgiving than dpkg's, which refuses a whole
//! database on the first syntax error: an image scanner must report what it
//! can read and say what it could not, so a damaged stanza becomes a warning
//! and the stanzas around it are still returned.

/// One field: its name as written and its value as bytes.
///
/// Values stay bytes because some (`Conffiles:`) hold file paths, which are
/// not necessarily UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The first line with surrounding whitespace trimmed, then each
    /// continuation line after a `\n`, verbatim (including its leading
    /// space), so multi-line values can be re-split exactly.
    pub value: Vec<u8>,
}

/// One stanza (paragraph).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stanza {
    /// 1-based line number of the stanza's first line, for warnings.
    pub line: usize,
    pub fields: Vec<Field>,
}

impl Stanza {
    /// The first field of that name, compared ASCII-case-insensitively as
    /// dpkg does.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_slice())
    }

    /// The field's value as text (lossy: control data is UTF-8 by policy,
    /// a stray byte must not lose the whole field).
    pub fn get_str(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
    }

    /// The first line of a field, trimmed; `None` when absent or empty.
    pub fn first_line(&self, name: &str) -> Option<String> {
        let v = self.get(name)?;
        let first = v.split(|&b| b == b'\n').next().unwrap_or_default();
        let s = String::from_utf8_lossy(first).trim().to_owned();
        if s.is_empty() { None } else { Some(s) }
    }
}

/// Stanzas of a file plus what was wrong with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub stanzas: Vec<Stanza>,
    /// Human-readable problems, each starting with `line N:`.
    pub warnings: Vec<String>,
}

/// Splits `bytes` into stanzas.
///
/// * Stanzas are separated by lines that are empty or hold only spaces and
///   tabs (Debian policy 5.1 allows parsers to accept the latter).
/// * A line starting with a space or tab continues the previous field.
/// * Lines starting with `#` are skipped when `comments` is true (allowed in
///   `copyright`, not in dpkg's databases, where such a line is an error).
/// * A line with no `:`, a field with an empty name, a continuation line with
///   no field before it, or a NUL byte makes the whole stanza suspect: it is
///   dropped with a warning (guessing which package a damaged stanza
///   describes would be worse than reporting it unreadable).
/// * A repeated field keeps its first value, with a warning.
pub fn parse(bytes: &[u8], comments: bool) -> Parsed {
    let mut out = Parsed::default();
    let mut cur = Stanza::default();
    let mut bad: Option<String> = None;

    let finish = |cur: &mut Stanza, bad: &mut Option<String>, out: &mut Parsed| {
        let st = std::mem::take(cur);
        if let Some(why) = bad.take() {
            out.warnings
                .push(format!("line {}: stanza skipped: {why}", st.line.max(1)));
        } else if !st.fields.is_empty() {
            out.stanzas.push(st);
        }
    };

    for (idx, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let lineno = idx + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(|&b| b == b' ' || b == b'\t') {
            finish(&mut cur, &mut bad, &mut out);
            continue;
        }
        if cur.line == 0 {
            cur.line = lineno;
        }
        if bad.is_some() {
            continue;
        }
        if comments && line.first() == Some(&b'#') {
            continue;
        }
        if line.contains(&0) {
            bad = Some(format!("line {lineno}: NUL byte"));
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            match cur.fields.last_mut() {
                Some(f) => {
                    f.value.push(b'\n');
                    f.value.extend_from_slice(line);
                }
                None => bad = Some(format!("line {lineno}: continuation line before any field")),
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            bad = Some(format!("line {lineno}: not a `Field: value` line"));
            continue;
        };
        let name = &line[..colon];
        if name.is_empty() || name.iter().any(|&b| b <= b' ' || b >= 0x7f) {
            bad = Some(format!("line {lineno}: invalid field name"));
            continue;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let value = trim(&line[colon + 1..]).to_vec();
        if cur
            .fields
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(&name))
        {
            out.warnings.push(format!(
                "line {lineno}: duplicate field {name}, first value kept"
            ));
            // Swallow its continuation lines into a throw-away field by
            // marking the duplicate with a name no lookup will ever match.
            cur.fields.push(Field {
                name: format!("\0dup:{name}"),
                value,
            });
            continue;
        }
        cur.fields.push(Field { name, value });
    }
    finish(&mut cur, &mut bad, &mut out);
    out.stanzas
        .iter_mut()
        .for_each(|s| s.fields.retain(|f| !f.name.starts_with('\0')));
    out
}

/// Trims ASCII spaces and tabs at both ends.
pub(crate) fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic() {
        let p = parse(
            b"Package: a\nDescription: short\n long\n .\n\tmore\n\n \t\nPackage: b\r\nconffiles:\n /x 00\n",
            false,
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.stanzas.len(), 2);
        assert_eq!(p.stanzas[0].line, 1);
        assert_eq!(
            p.stanzas[0].get("description").unwrap(),
            b"short\n long\n .\n\tmore"
        );
        assert_eq!(p.stanzas[0].first_line("Description").unwrap(), "short");
        assert_eq!(p.stanzas[1].line, 8);
        assert_eq!(p.stanzas[1].get_str("Package").unwrap(), "b");
        assert_eq!(p.stanzas[1].get("Conffiles").unwrap(), b"\n /x 00");
    }

    #[test]
    fn bad_stanza_skipped_others_kept() {
        let p = parse(b"Package: a\ngarbage\nVersion: 1\n\nPackage: b\n", false);
        assert_eq!(p.stanzas.len(), 1);
        assert_eq!(p.stanzas[0].get_str("Package").unwrap(), "b");
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("line 2"), "{:?}", p.warnings);
    }

    #[test]
    fn duplicates_and_leading_continuation() {
        let p = parse(b" lead\nA: 1\n\nA: 1\nA: 2\n x\nB: 3\n", false);
        assert_eq!(p.stanzas.len(), 1);
        assert_eq!(p.stanzas[0].get("A").unwrap(), b"1");
        assert_eq!(p.stanzas[0].get("B").unwrap(), b"3");
        assert_eq!(p.stanzas[0].fields.len(), 2);
        assert_eq!(p.warnings.len(), 2);
    }

    #[test]
    fn comments() {
        let p = parse(b"# c\nA: 1\n# c\n", true);
        assert_eq!(p.stanzas.len(), 1);
        let p = parse(b"# c\nA: 1\n", false);
        assert!(p.stanzas.is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"\n\n\n",
            b":",
            b"\x00\xff\xfe:\n\x00",
            b"A:",
            b"A",
            b"\r",
            b" \r\n:x",
        ] {
            let _ = parse(input, false);
            let _ = parse(input, true);
        }
    }
}
