//! Python distributions: `*.dist-info/METADATA` (core metadata 1.0-2.4,
//! RFC 822 headers), `*.dist-info/RECORD` (CSV: path, `sha256=` urlsafe
//! base64 digest, size) and `*.egg-info/PKG-INFO` (or a `*.egg-info`
//! file, as distutils wrote one).

use base64::Engine as _;

use crate::{CatalogError, Ecosystem, LangFile, LangPackage};

/// Largest METADATA / PKG-INFO / RECORD the observer keeps.
pub const MAX_METADATA: u64 = 8 << 20;

/// Longest `License:` value taken as a licence name: longer ones are the
/// licence's text (setuptools copied `license=open("LICENSE").read()`).
const MAX_LICENSE_NAME: usize = 100;

/// The header fields of a core-metadata file, in order, continuation lines
/// folded in. Written here rather than with a mail-parsing crate: the
/// format is the RFC 822 header block only (the body, the long
/// description, is skipped), it must never fail on odd bytes, and the
/// crates that parse mail headers bring MIME decoding this does not want.
fn headers(text: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break; // the body (Description) follows the blank line
        }
        if line.starts_with([' ', '\t']) {
            // A continuation of the previous field (multi-line Description
            // or License in metadata < 2.1).
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => out.push((k.trim(), v.trim().to_owned())),
            // A line that is no header ends the block as a blank line does.
            None => break,
        }
    }
    out
}

/// A distribution's package from its METADATA or PKG-INFO bytes.
/// `found_by` is `dist-info` or `egg-info`. Licences: `License-Expression`
/// (metadata 2.4) when present, else the SPDX ids of the `License ::`
/// trove classifiers, else the `License:` field when it is short (one
/// line, not the licence text).
pub fn parse_metadata(bytes: &[u8], found_by: &'static str) -> Result<LangPackage, CatalogError> {
    const FORMAT: &str = "python metadata";
    let text = String::from_utf8_lossy(bytes);
    let fields = headers(&text);
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && *v != "UNKNOWN")
    };
    let Some(name) = get("Name") else {
        return Err(if fields.is_empty() {
            CatalogError::NotFormat(FORMAT)
        } else {
            CatalogError::malformed(FORMAT, "no Name field")
        });
    };
    // A folded (multi-line) Name, a path, a lone carriage return.
    if name.contains(['\n', '\r', '/']) {
        return Err(CatalogError::malformed(FORMAT, "Name is not a name"));
    }
    let mut p = LangPackage::new(Ecosystem::Pypi, name, get("Version").unwrap_or(""));
    p.found_by = found_by;
    p.summary = get("Summary").map(str::to_owned);
    p.homepage = get("Home-page").map(str::to_owned).or_else(|| {
        // Metadata 2.1+: `Project-URL: Homepage, https://...`.
        fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Project-URL"))
            .filter_map(|(_, v)| v.split_once(','))
            .find(|(label, _)| {
                let l = label.trim().to_ascii_lowercase();
                l == "homepage" || l == "home" || l == "home-page"
            })
            .map(|(_, url)| url.trim().to_owned())
    });
    p.author = get("Author")
        .or_else(|| get("Author-email"))
        .map(str::to_owned);
    if let Some(expr) = get("License-Expression") {
        p.licenses.push(expr.to_owned());
    } else {
        for (k, v) in &fields {
            if !k.eq_ignore_ascii_case("Classifier") {
                continue;
            }
            if !v.starts_with("License ::") {
                continue;
            }
            match classifier_license(v) {
                Some(id) => push_unique(&mut p.licenses, id),
                None => {
                    // "License :: OSI Approved :: BSD License" names no one
                    // licence: keep its words, not a guessed SPDX id.
                    let last = v.rsplit("::").next().unwrap_or("").trim();
                    if !last.is_empty() && last != "OSI Approved" {
                        push_unique(&mut p.licenses, last);
                    }
                }
            }
        }
        if p.licenses.is_empty()
            && let Some(l) = get("License")
            && !l.contains('\n')
            && l.len() <= MAX_LICENSE_NAME
        {
            p.licenses.push(l.to_owned());
        }
    }
    for (k, v) in &fields {
        if k.eq_ignore_ascii_case("Requires-Dist")
            && !is_extra_only(v)
            && let Some(n) = requirement_name(v)
        {
            push_unique(&mut p.depends, n);
        }
    }
    Ok(p)
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

/// The distribution name a PEP 508 requirement starts with.
fn requirement_name(req: &str) -> Option<&str> {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let name = &req[..end];
    (!name.is_empty()).then_some(name)
}

/// Whether a requirement applies only with an extra (`; extra == "socks"`):
/// those are not installed by default, so they are no dependency of what
/// is on disk.
fn is_extra_only(req: &str) -> bool {
    match req.split_once(';') {
        Some((_, marker)) => {
            let m: String = marker.chars().filter(|c| !c.is_whitespace()).collect();
            m.contains("extra==")
        }
        None => false,
    }
}

/// The files a `RECORD` lists (paths as written: relative to the
/// directory holding the `.dist-info`).
pub fn parse_record(bytes: &[u8]) -> Result<Vec<LangFile>, CatalogError> {
    const FORMAT: &str = "RECORD";
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut files = Vec::new();
    for (i, rec) in reader.byte_records().enumerate() {
        let rec =
            rec.map_err(|e| CatalogError::malformed(FORMAT, format!("line {}: {e}", i + 1)))?;
        let Some(path) = rec.get(0).filter(|p| !p.is_empty()) else {
            continue;
        };
        let path = String::from_utf8(path.to_vec()).map_err(|_| {
            CatalogError::malformed(FORMAT, format!("line {}: path is not UTF-8", i + 1))
        })?;
        let sha256 = rec
            .get(1)
            .and_then(|h| h.strip_prefix(b"sha256="))
            .and_then(|b64| {
                let b64 = b64.strip_suffix(b"=").unwrap_or(b64);
                let b64 = b64.strip_suffix(b"=").unwrap_or(b64);
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b64)
                    .ok()
            })
            .filter(|d| d.len() == 32)
            .map(hex::encode);
        let size = rec
            .get(2)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.trim().parse().ok());
        files.push(LangFile { path, sha256, size });
    }
    if files.is_empty() && !bytes.is_empty() {
        return Err(CatalogError::malformed(FORMAT, "no file listed"));
    }
    Ok(files)
}

/// The SPDX id of a `License :: ...` trove classifier, when it names one
/// licence (the classifiers of <https://pypi.org/classifiers/>; "BSD
/// License", "Apache Software License" and the unversioned GPL name a
/// family, not a licence, and give `None`).
pub fn classifier_license(classifier: &str) -> Option<&'static str> {
    let last = classifier.rsplit("::").next()?.trim();
    Some(match last {
        "MIT License" => "MIT",
        "MIT No Attribution License (MIT-0)" => "MIT-0",
        "ISC License (ISCL)" => "ISC",
        "Python Software Foundation License" => "PSF-2.0",
        "Python License (CNRI Python License)" => "CNRI-Python",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "GNU Affero General Public License v3" => "AGPL-3.0-only",
        "GNU Affero General Public License v3 or later (AGPLv3+)" => "AGPL-3.0-or-later",
        "Mozilla Public License 1.0 (MPL)" => "MPL-1.0",
        "Mozilla Public License 1.1 (MPL 1.1)" => "MPL-1.1",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "The Unlicense (Unlicense)" => "Unlicense",
        "zlib/libpng License" => "Zlib",
        "Boost Software License 1.0 (BSL-1.0)" => "BSL-1.0",
        "Eclipse Public License 1.0 (EPL-1.0)" => "EPL-1.0",
        "Eclipse Public License 2.0 (EPL-2.0)" => "EPL-2.0",
        "European Union Public Licence 1.1 (EUPL 1.1)" => "EUPL-1.1",
        "European Union Public Licence 1.2 (EUPL 1.2)" => "EUPL-1.2",
        "Historical Permission Notice and Disclaimer (HPND)" => "HPND",
        "Universal Permissive License (UPL)" => "UPL-1.0",
        "W3C License" => "W3C",
        "PostgreSQL License" => "PostgreSQL",
        "SIL Open Font License 1.1 (OFL-1.1)" => "OFL-1.1",
        "Blue Oak Model License (BlueOak-1.0.0)" => "BlueOak-1.0.0",
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication" => "CC0-1.0",
        "Apache License 2.0" | "Apache Software License 2.0" => "Apache-2.0",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &[u8] = b"Metadata-Version: 2.1\n\
Name: requests\n\
Version: 2.32.3\n\
Summary: Python HTTP for Humans.\n\
Home-page: https://requests.readthedocs.io\n\
Author: Kenneth Reitz\n\
License: Apache-2.0\n\
Classifier: License :: OSI Approved :: Apache Software License\n\
Requires-Dist: charset-normalizer<4,>=2\n\
Requires-Dist: idna <4,>=2.5\n\
Requires-Dist: PySocks !=1.5.7,>=1.5.6 ; extra == 'socks'\n\
\n\
# Requests\n\
Name: not-a-header\n";

    #[test]
    fn a_name_on_more_than_one_line_is_no_name() {
        for bad in [
            &b"Name: a\rb\nVersion: 1\n"[..],
            b"Name: a\n b\nVersion: 1\n",
            b"Name: a/b\n",
        ] {
            for found_by in ["dist-info", "egg-info"] {
                assert!(
                    matches!(
                        parse_metadata(bad, found_by),
                        Err(CatalogError::Malformed { .. })
                    ),
                    "{bad:?}"
                );
            }
        }
        assert_eq!(
            parse_metadata(b"Name: ab\r\n", "egg-info").unwrap().name,
            "ab"
        );
    }

    #[test]
    fn metadata_fields() {
        let p = parse_metadata(METADATA, "dist-info").unwrap();
        assert_eq!(p.name, "requests");
        assert_eq!(p.version, "2.32.3");
        assert_eq!(p.summary.as_deref(), Some("Python HTTP for Humans."));
        assert_eq!(
            p.homepage.as_deref(),
            Some("https://requests.readthedocs.io")
        );
        // The ambiguous classifier keeps its words; License: is not used
        // once a classifier gave something.
        assert_eq!(p.licenses, vec!["Apache Software License"]);
        assert_eq!(p.depends, vec!["charset-normalizer", "idna"]);
        assert_eq!(p.found_by, "dist-info");
    }

    #[test]
    fn license_expression_wins_and_long_license_text_is_not_a_name() {
        let p = parse_metadata(
            b"Name: x\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nClassifier: License :: OSI Approved :: MIT License\n",
            "dist-info",
        )
        .unwrap();
        assert_eq!(p.licenses, vec!["MIT OR Apache-2.0"]);
        let p = parse_metadata(
            b"Name: x\nVersion: 1\nLicense: Copyright (c) 2020\n        Permission is hereby granted\n",
            "egg-info",
        )
        .unwrap();
        assert!(p.licenses.is_empty());
        let p = parse_metadata(
            b"Name: x\nVersion: 1\nClassifier: License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)\n",
            "egg-info",
        )
        .unwrap();
        assert_eq!(p.licenses, vec!["GPL-2.0-or-later"]);
    }

    #[test]
    fn not_metadata() {
        assert_eq!(
            parse_metadata(b"", "dist-info"),
            Err(CatalogError::NotFormat("python metadata"))
        );
        assert!(matches!(
            parse_metadata(b"Version: 1\n", "dist-info"),
            Err(CatalogError::Malformed { .. })
        ));
    }

    #[test]
    fn record_rows() {
        let rec = b"six.py,sha256=4ybMWmtkY4cN6ZsDu8RjpBh7KS5XxBHE8-oZ9WvjtqQ,34549\n\
six-1.16.0.dist-info/RECORD,,\n\
\"odd,name.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
../../../bin/tool,sha512=abc,10\n";
        let files = parse_record(rec).unwrap();
        assert_eq!(files.len(), 4);
        assert_eq!(files[0].path, "six.py");
        assert_eq!(
            files[0].sha256.as_deref(),
            Some("e326cc5a6b6463870de99b03bbc463a4187b292e57c411c4f3ea19f56be3b6a4")
        );
        assert_eq!(files[0].size, Some(34549));
        assert_eq!(files[1].sha256, None);
        assert_eq!(files[2].path, "odd,name.py");
        // SHA-256 of the empty string.
        assert_eq!(
            files[2].sha256.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(files[3].sha256, None);
    }

    #[test]
    fn mutations_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for base in [
            METADATA,
            &b"a.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"[..],
        ] {
            for _ in 0..3000 {
                let mut m = base.to_vec();
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % m.len();
                m[i] = (seed >> 32) as u8;
                m.truncate(((seed >> 40) as usize % m.len()) + 1);
                let _ = parse_metadata(&m, "dist-info");
                let _ = parse_record(&m);
            }
        }
    }
}
