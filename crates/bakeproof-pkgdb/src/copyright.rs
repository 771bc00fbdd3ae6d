//! Licenses from Debian machine-readable copyright files (DEP-5,
//! <https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/>).
//!
//! dpkg records no license at all, so `/usr/share/doc/<package>/copyright` is
//! the only place a Debian image says under which terms a package is
//! distributed. Only the machine-readable format is parsed: free-form copyright
//! files (base-files, many older packages) yield no license rather than a
//! guess from prose.

use crate::deb822;

/// Largest copyright file read (the biggest in Debian are a few MiB).
pub const COPYRIGHT_LIMIT: u64 = 16 << 20;

/// Whether the header's `Format:` names DEP-5: the 1.0 URL (http or https,
/// with or without trailing slash) or the draft URLs that older packages
/// still carry (`dep.debian.net/deps/dep5`).
fn is_dep5_format(value: &str) -> bool {
    let v = value.trim();
    v.contains("copyright-format/1.0") || v.contains("dep.debian.net/deps/dep5")
}

/// The license short names of a DEP-5 copyright file, deduplicated, in order
/// of first appearance. Empty when the file is not machine-readable.
///
/// Every paragraph's `License:` field counts: `Files:` paragraphs,
/// stand-alone `License:` paragraphs (which carry the full texts) and the
/// header (DEP-5 allows a summary license there). Only the field's first line
/// is the short name; the following lines are the license text.
///
/// An expression such as `BSD-3-clause or GPL-2` is kept as one entry, with
/// whitespace normalised: splitting it would lose whether the names combine
/// with `or` (choice) or `and` (both apply), and mapping DEP-5 names to SPDX
/// is the SBOM writer's job. A trailing `,` or `.` left by hand-editing is
/// removed.
pub fn licenses(bytes: &[u8]) -> Vec<String> {
    let parsed = deb822::parse(bytes, true);
    let Some(header) = parsed.stanzas.first() else {
        return Vec::new();
    };
    if parsed.stanzas[0].line > first_content_line(bytes)
        || !header.get_str("Format").is_some_and(|f| is_dep5_format(&f))
    {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for st in &parsed.stanzas {
        let Some(first) = st.first_line("License") else {
            continue;
        };
        let name = first
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_end_matches([',', '.'])
            .to_owned();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Line number of the first non-blank, non-comment line: the header must be
/// the file's first stanza, not merely the first one that parsed (a damaged
/// free-form file must not be promoted to DEP-5 by a later `Format:` line).
fn first_content_line(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .position(|l| {
            let t = deb822::trim(l.strip_suffix(b"\r").unwrap_or(l));
            !t.is_empty() && t[0] != b'#'
        })
        .map_or(usize::MAX, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_machine_readable() {
        assert!(
            licenses(b"This is the Debian prepackaged version of x.\n\nLicense: GPL\n").is_empty()
        );
        assert!(licenses(b"").is_empty());
        assert!(licenses(b"\xff\x00\xfe").is_empty());
        assert!(licenses(b"Format: something else\n\nFiles: *\nLicense: MIT\n").is_empty());
    }

    #[test]
    fn dep5() {
        let text = b"Format: http://www.debian.org/doc/packaging-manuals/copyright-format/1.0\n\
License: MIT\n\n# a comment\nFiles: *\nCopyright: x\n\t y\nLicense: GPL-2+\n text\n\n\
Files: debian/*\nLicense: GPL-2+   or\tArtistic\n\nLicense: MIT.\n Permission...\n";
        assert_eq!(licenses(text), ["MIT", "GPL-2+", "GPL-2+ or Artistic"]);
    }
}
