//! Package licences as CycloneDX wants them: SPDX ids and expressions where
//! the package database's text is (or maps to) SPDX, names otherwise.
//!
//! The SPDX list and expression grammar are the `spdx` crate's; the only
//! table here is Debian's: the DEP-5 short names
//! (<https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/#license-short-name>)
//! that are not SPDX ids as written (`GPL-2+`, `Expat`, `BSD-3-clause`).
//!
//! Rules ([`licenses`]):
//! * one licence text is split into terms joined by `and` / `or` (either
//!   case; DEP-5 writes them lower-case) and parentheses; every term is
//!   mapped ([`map_term`]); when every term maps, the text becomes one SPDX
//!   id (a single term) or one SPDX expression (`GPL-2+ or Artistic` ->
//!   `GPL-2.0-or-later OR Artistic-1.0-Perl`), checked by the `spdx`
//!   crate's strict parser;
//! * a package with several texts (DEP-5 `Files:` paragraphs under
//!   different licences) gets a list of `license.id`s when each text is one
//!   id, else (some text an expression) one expression of all, joined by
//!   `AND` (every file's licence applies to the package);
//! * CycloneDX 1.5 allows either one expression or a list of licence
//!   objects: as soon as one text does not map, every text is a licence
//!   object (an id where it is one, the raw text as `license.name`
//!   otherwise).

use cyclonedx_bom::models::license::{License, LicenseChoice, Licenses};

use bakeproof_pkgdb::Ecosystem;

/// DEP-5 short names (lower-cased) that are not SPDX ids as written.
/// Versioned GNU names (`GPL-2`, `LGPL-2.1+`, `GFDL-1.3`, `AGPL-3+`) are
/// mapped by rule in [`map_term`]; names case-insensitively equal to an
/// SPDX id (`BSD-3-clause`, `Apache-2.0`, `Zlib`, `CC0-1.0`) need no entry.
const DEBIAN_NAMES: &[(&str, &str)] = &[
    // DEP-5: "Expat: The Expat license", SPDX's MIT.
    ("expat", "MIT"),
    // DEP-5: "Artistic: Artistic license" (Debian's common-licenses/Artistic
    // is Perl's), SPDX's Artistic-1.0-Perl.
    ("artistic", "Artistic-1.0-Perl"),
    ("artistic-1", "Artistic-1.0"),
    ("artistic-1.0", "Artistic-1.0"),
    ("artistic-2", "Artistic-2.0"),
    ("apache-2", "Apache-2.0"),
    ("mpl-1.1", "MPL-1.1"),
    ("mpl-2", "MPL-2.0"),
    ("cc0", "CC0-1.0"),
    ("isc", "ISC"),
    ("zlib", "Zlib"),
    ("bsd-2", "BSD-2-Clause"),
    ("bsd-3", "BSD-3-Clause"),
    ("bsd-4", "BSD-4-Clause"),
    ("bsd-2-clause-freebsd", "BSD-2-Clause-FreeBSD"),
    ("python-2.0", "Python-2.0"),
    ("psf-2", "PSF-2.0"),
    ("w3c", "W3C"),
];

/// GNU licence families whose DEP-5 names carry a version and an optional
/// `+` (`GPL-2+`), and their SPDX stem.
const GNU: &[(&str, &str)] = &[
    ("gpl", "GPL"),
    ("lgpl", "LGPL"),
    ("agpl", "AGPL"),
    ("gfdl", "GFDL"),
];

/// The SPDX licence with this id, ignoring ASCII case.
fn spdx_license(name: &str) -> Option<spdx::LicenseId> {
    spdx::identifiers::LICENSES
        .iter()
        .position(|l| l.name.eq_ignore_ascii_case(name))
        .and_then(|i| spdx::license_id(spdx::identifiers::LICENSES[i].name))
}

/// The SPDX id with this name, ignoring ASCII case.
fn spdx_id(name: &str) -> Option<&'static str> {
    spdx_license(name).map(|l| l.name)
}

/// One licence term as an SPDX id, `None` when it is none. An SPDX id
/// (any case) maps to itself, except SPDX's deprecated bare GNU ids, which
/// map to what SPDX replaced them by (`GPL-2.0` -> `GPL-2.0-only`,
/// `GPL-2.0+` -> `GPL-2.0-or-later`); for Debian packages also the DEP-5
/// names: `GPL-2` -> `GPL-2.0-only`, `GPL-2+` -> `GPL-2.0-or-later`,
/// `LGPL-2.1+` -> `LGPL-2.1-or-later`, `Expat` -> `MIT`, `Artistic` ->
/// `Artistic-1.0-Perl`, `BSD-3-clause` -> `BSD-3-Clause`. `public-domain`
/// and other names without an SPDX id stay unmapped.
pub fn map_term(term: &str, eco: Ecosystem) -> Option<&'static str> {
    // `MIT+` is not `MIT`: the spdx crate's lookup would drop the `+`.
    let exact = if term.ends_with('+') {
        spdx_license(term).filter(|l| l.is_deprecated())
    } else {
        spdx_license(term)
    };
    if let Some(l) = exact.filter(|l| !l.is_deprecated()) {
        return Some(l.name);
    }
    if let Some(id) = (eco == Ecosystem::Deb || exact.is_some())
        .then(|| gnu(term))
        .flatten()
    {
        return Some(id);
    }
    if eco == Ecosystem::Deb {
        let lower = term.to_ascii_lowercase();
        if let Some((_, id)) = DEBIAN_NAMES.iter().find(|(n, _)| *n == lower) {
            return Some(id);
        }
    }
    exact.map(|l| l.name)
}

/// A versioned GNU name (`GPL-2`, `GPL-2.0+`, `LGPL-2.1`) as SPDX's `-only`
/// / `-or-later` id.
fn gnu(term: &str) -> Option<&'static str> {
    let lower = term.to_ascii_lowercase();
    let (base, or_later) = match lower.strip_suffix('+') {
        Some(b) => (b, true),
        None => (lower.as_str(), false),
    };
    let (family, version) = base.split_once('-')?;
    let (_, stem) = GNU.iter().find(|(f, _)| *f == family)?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // DEP-5 writes `GPL-2`; SPDX `GPL-2.0`.
    let version = if version.contains('.') {
        version.to_owned()
    } else {
        format!("{version}.0")
    };
    let suffix = if or_later { "or-later" } else { "only" };
    spdx_id(&format!("{stem}-{version}-{suffix}"))
}

/// What one licence text becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// One SPDX id.
    Id(&'static str),
    /// An SPDX expression of several terms.
    Expression(String),
    /// Not (all) SPDX: the raw text.
    Name(String),
}

/// Maps one licence text ([`map_term`] per term, `and`/`or`/parentheses
/// kept); [`Mapped::Name`] when a term does not map or the result is not
/// an expression the `spdx` crate's strict parser accepts.
pub fn map_text(text: &str, eco: Ecosystem) -> Mapped {
    let name = || Mapped::Name(text.to_owned());
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let mut out: Vec<String> = Vec::new();
    let mut terms = 0usize;
    for tok in spaced.split_whitespace() {
        match tok.to_ascii_lowercase().as_str() {
            "and" => out.push("AND".into()),
            "or" => out.push("OR".into()),
            "(" | ")" => out.push(tok.into()),
            _ => match map_term(tok.trim_end_matches(','), eco) {
                // A `,` between terms is not SPDX: only a trailing one on a
                // term before an operator is tolerated (it changes nothing).
                Some(id) if !tok.ends_with(',') => {
                    out.push(id.into());
                    terms += 1;
                }
                _ => return name(),
            },
        }
    }
    match terms {
        0 => name(),
        1 if out.len() == 1 => Mapped::Id(spdx_id(&out[0]).unwrap_or("NOASSERTION")),
        _ => {
            let expr = out.join(" ").replace("( ", "(").replace(" )", ")");
            if spdx::Expression::parse(&expr).is_ok() {
                Mapped::Expression(expr)
            } else {
                name()
            }
        }
    }
}

/// The one SPDX expression of a package with these licence texts (SPDX's
/// `licenseDeclared`): the mapped texts, each parenthesised when an
/// expression of several, joined by `AND` (every text applies), duplicates
/// dropped; `None` when there is no text or one does not map.
pub fn expression(texts: &[String], eco: Ecosystem) -> Option<String> {
    let mut unique: Vec<String> = Vec::new();
    for t in texts {
        let part = match map_text(t, eco) {
            Mapped::Id(id) => id.to_owned(),
            Mapped::Expression(e) if texts.len() > 1 => format!("({e})"),
            Mapped::Expression(e) => e,
            Mapped::Name(_) => return None,
        };
        if !unique.contains(&part) {
            unique.push(part);
        }
    }
    (!unique.is_empty()).then(|| unique.join(" AND "))
}

/// The CycloneDX `licenses` of a package with these licence texts (see the
/// module docs); `None` for none.
pub fn licenses(texts: &[String], eco: Ecosystem) -> Option<Licenses> {
    if texts.is_empty() {
        return None;
    }
    let mapped: Vec<Mapped> = texts.iter().map(|t| map_text(t, eco)).collect();
    let all_ids = mapped.iter().all(|m| matches!(m, Mapped::Id(_)));
    let any_name = mapped.iter().any(|m| matches!(m, Mapped::Name(_)));
    if !all_ids && !any_name {
        let parts: Vec<String> = mapped
            .iter()
            .map(|m| match m {
                Mapped::Id(id) => (*id).to_owned(),
                Mapped::Expression(e) if mapped.len() > 1 => format!("({e})"),
                Mapped::Expression(e) | Mapped::Name(e) => e.clone(),
            })
            .collect();
        let mut unique: Vec<String> = Vec::new();
        for p in parts {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        return Some(Licenses(vec![LicenseChoice::expression(
            &unique.join(" AND "),
        )]));
    }
    let mut out: Vec<LicenseChoice> = Vec::new();
    for (m, raw) in mapped.iter().zip(texts) {
        let c = match m {
            Mapped::Id(id) => LicenseChoice::License(License::license_id(id)),
            _ => LicenseChoice::license(raw),
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Some(Licenses(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Ecosystem = Ecosystem::Deb;

    #[test]
    fn debian_short_names() {
        for (dep5, spdx) in [
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-2", "GPL-2.0-only"),
            ("GPL-3+", "GPL-3.0-or-later"),
            ("GPL-1+", "GPL-1.0-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("LGPL-2.1", "LGPL-2.1-only"),
            ("LGPL-2+", "LGPL-2.0-or-later"),
            ("AGPL-3", "AGPL-3.0-only"),
            ("GFDL-1.3+", "GFDL-1.3-or-later"),
            ("Expat", "MIT"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("BSD-2-clause", "BSD-2-Clause"),
            ("Apache-2.0", "Apache-2.0"),
            ("Artistic", "Artistic-1.0-Perl"),
            ("Artistic-2.0", "Artistic-2.0"),
            ("Zlib", "Zlib"),
            ("CC0-1.0", "CC0-1.0"),
            ("MIT", "MIT"),
            ("ISC", "ISC"),
        ] {
            assert_eq!(map_term(dep5, D), Some(spdx), "{dep5}");
            assert_eq!(map_text(dep5, D), Mapped::Id(spdx), "{dep5}");
        }
        for none in [
            "public-domain",
            "BSD-variant",
            "GPL",
            "MIT+",
            "GPL-x",
            "permissive",
        ] {
            assert_eq!(map_term(none, D), None, "{none}");
        }
        // Debian's names are Debian's: an rpm `GPL-2+` is no SPDX id.
        assert_eq!(map_term("GPL-2+", Ecosystem::Rpm), None);
        assert_eq!(map_term("mit", Ecosystem::Rpm), Some("MIT"));
        // SPDX's deprecated bare GNU ids, as SPDX replaced them.
        assert_eq!(map_term("GPL-2.0", Ecosystem::Rpm), Some("GPL-2.0-only"));
        assert_eq!(
            map_term("GPL-2.0+", Ecosystem::Rpm),
            Some("GPL-2.0-or-later")
        );
        assert_eq!(map_term("LGPL-2.1", D), Some("LGPL-2.1-only"));
    }

    #[test]
    fn expressions() {
        assert_eq!(
            map_text("GPL-2+ or Artistic", D),
            Mapped::Expression("GPL-2.0-or-later OR Artistic-1.0-Perl".into())
        );
        assert_eq!(
            map_text("MIT AND Apache-2.0", Ecosystem::Rpm),
            Mapped::Expression("MIT AND Apache-2.0".into())
        );
        assert_eq!(
            map_text("(GPL-2+ or LGPL-2.1+) and BSD-3-clause", D),
            Mapped::Expression("(GPL-2.0-or-later OR LGPL-2.1-or-later) AND BSD-3-Clause".into())
        );
        for raw in [
            "GPL-2+ or public-domain",
            "GPL-2+ with OpenSSL exception",
            "MIT or",
            "and",
            "",
            "GPL-2+, MIT",
            "(MIT",
        ] {
            assert_eq!(map_text(raw, D), Mapped::Name(raw.into()), "{raw:?}");
        }
    }

    fn json(l: Option<Licenses>) -> serde_json::Value {
        // Through the crate's own 1.5 serialisation, as the encoder does.
        let mut c = cyclonedx_bom::models::component::Component::new(
            cyclonedx_bom::models::component::Classification::Library,
            "x",
            "1",
            None,
        );
        c.licenses = l;
        let bom = cyclonedx_bom::models::bom::Bom {
            components: Some(cyclonedx_bom::models::component::Components(vec![c])),
            ..Default::default()
        };
        let mut out = Vec::new();
        bom.output_as_json_v1_5(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["components"][0]["licenses"].clone()
    }

    #[test]
    fn package_licenses() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            json(licenses(&s(&["Expat", "GPL-2+"]), D)),
            serde_json::json!([{"license": {"id": "MIT"}}, {"license": {"id": "GPL-2.0-or-later"}}])
        );
        assert_eq!(
            json(licenses(&s(&["MIT", "GPL-2+ or Artistic"]), D)),
            serde_json::json!([{"expression": "MIT AND (GPL-2.0-or-later OR Artistic-1.0-Perl)"}])
        );
        assert_eq!(
            json(licenses(&s(&["GPL-2+ or Artistic"]), D)),
            serde_json::json!([{"expression": "GPL-2.0-or-later OR Artistic-1.0-Perl"}])
        );
        // One unmappable text: licence objects only (1.5 forbids mixing).
        assert_eq!(
            json(licenses(
                &s(&["BSD-variant", "GPL-2", "GPL-2+ or Artistic"]),
                D
            )),
            serde_json::json!([
                {"license": {"name": "BSD-variant"}},
                {"license": {"id": "GPL-2.0-only"}},
                {"license": {"name": "GPL-2+ or Artistic"}}
            ])
        );
        assert_eq!(licenses(&[], D), None);
    }
}
