//! Package URLs (purl-spec): one builder and one parser.
//!
//! Hand-written rather than taken from the `packageurl` crate (or the `purl`
//! crate already in the tree through `cyclonedx-bom`): both percent-encode
//! with URL-derived sets that leave `+` alone, so `4+deb12u2` would be
//! written `4+deb12u2` where bakeproof has always written `4%2Bdeb12u2`, and
//! changing the purls of every SBOM already published would break matching
//! against them. The spec's current text
//! (`docs/standard/characters-and-encoding.md`) is one rule: everything but
//! the unreserved characters `A-Za-z0-9.-_~` and the colon is encoded (so a
//! Debian epoch `1:2.66` stays as is). That, a sorted qualifier list and a
//! lenient reader are about a hundred lines we test against the spec's
//! examples, cheaper than a dependency whose encoding rules we would have to
//! audit and pin.

use std::fmt;
use std::str::FromStr;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes one purl component: everything except the alphanumerics,
/// the punctuation `.-_~` and the colon is encoded as `%XX` (upper-case hex)
/// of its UTF-8 bytes. So `+` becomes `%2B`, `/` `%2F`, and `1:2.66` stays.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// Decodes `%XX` escapes. Lenient, as a reader of other tools' SBOMs must be:
/// a `%` not followed by two hex digits is kept as is, and bytes that do not
/// form UTF-8 become U+FFFD.
pub fn decode_component(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hexval(c)),
                b.get(i + 2).and_then(|&c| hexval(c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Builds a purl from already-chosen parts (not yet encoded).
///
/// * The namespace may have several `/`-separated segments; each is encoded
///   on its own, and empty ones are dropped.
/// * Qualifiers with empty values are dropped (the spec says a key with an
///   empty value is the same as no key) and the rest are sorted by key, the
///   spec's canonical form. Keys are written as given (callers use the
///   spec's lower-case keys).
pub fn build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    qualifiers: &[(&str, &str)],
) -> String {
    let mut s = format!("pkg:{ty}/");
    for seg in namespace.into_iter().flat_map(|n| n.split('/')) {
        if !seg.is_empty() {
            s.push_str(&encode_component(seg));
            s.push('/');
        }
    }
    s.push_str(&encode_component(name));
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        s.push('@');
        s.push_str(&encode_component(v));
    }
    let mut q: Vec<(&str, &str)> = qualifiers
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    q.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in q.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.push_str(k);
        s.push('=');
        s.push_str(&encode_component(v));
    }
    s
}

/// A subpath segment kept: not empty, `.` or `..` (also once decoded, so
/// `%2E%2E` cannot climb out of the package either).
fn plain_segment(s: &str) -> bool {
    !matches!(s, "" | "." | "..")
}

/// A parsed purl, every part decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purl {
    /// Lower-cased (`deb`, `rpm`).
    pub ty: String,
    /// Segments joined by `/`; empty when there is none.
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    /// In the order written, keys lower-cased, empty values dropped.
    pub qualifiers: Vec<(String, String)>,
    /// Segments joined by `/`; empty, `.` and `..` ones dropped.
    pub subpath: Option<String>,
}

/// A string that is not a purl.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PurlError {
    #[error("not a purl (no pkg: scheme): {0:?}")]
    Scheme(String),
    #[error("purl without a type: {0:?}")]
    NoType(String),
    #[error("purl without a name: {0:?}")]
    NoName(String),
}

impl Purl {
    /// Splits `pkg:type/namespace/name@version?qualifiers#subpath`, decoding
    /// each part, as the spec's "how to parse" describes (subpath split off at
    /// the last `#`, qualifiers at the last `?`, version at the last `@`).
    ///
    /// Lenient where a reader of other tools' SBOMs must be, strict where the
    /// identity would be unclear: the scheme must be `pkg:`, and the type and
    /// name must be non-empty; slashes after the scheme and empty path
    /// segments are ignored, escapes that are not `%XX` kept literally, and
    /// the characters of the type and qualifier keys are not checked.
    pub fn parse(purl: &str) -> Result<Purl, PurlError> {
        let rest = purl
            .strip_prefix("pkg:")
            .ok_or_else(|| PurlError::Scheme(purl.to_owned()))?;
        let (rest, subpath) = match rest.rsplit_once('#') {
            Some((a, sp)) => {
                let segs: Vec<String> = sp
                    .split('/')
                    .map(decode_component)
                    .filter(|s| plain_segment(s))
                    .collect();
                (a, (!segs.is_empty()).then(|| segs.join("/")))
            }
            None => (rest, None),
        };
        let (rest, quals) = rest.rsplit_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_start_matches('/');
        let (ty, rest) = rest.split_once('/').unwrap_or((rest, ""));
        if ty.is_empty() {
            return Err(PurlError::NoType(purl.to_owned()));
        }
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) => (p, Some(decode_component(v))),
            None => (rest, None),
        };
        let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let name = segs
            .pop()
            .map(decode_component)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| PurlError::NoName(purl.to_owned()))?;
        let namespace = segs
            .iter()
            .map(|s| decode_component(s))
            .collect::<Vec<_>>()
            .join("/");
        let qualifiers = quals
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_ascii_lowercase(), decode_component(v)))
            .collect();
        Ok(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name,
            version,
            qualifiers,
            subpath,
        })
    }

    /// The value of qualifier `key` (lower case), the last one if repeated.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The canonical form: [`build`], then the subpath.
impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q: Vec<(&str, &str)> = self
            .qualifiers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        f.write_str(&build(
            &self.ty,
            Some(&self.namespace),
            &self.name,
            self.version.as_deref(),
            &q,
        ))?;
        if let Some(sp) = &self.subpath {
            f.write_str("#")?;
            let segs: Vec<String> = sp
                .split('/')
                .filter(|s| plain_segment(s))
                .map(encode_component)
                .collect();
            f.write_str(&segs.join("/"))?;
        }
        Ok(())
    }
}

impl FromStr for Purl {
    type Err = PurlError;
    fn from_str(s: &str) -> Result<Purl, PurlError> {
        Purl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn encoding() {
        assert_eq!(
            encode_component("a b/c@d?e#f%g+h~i:j"),
            "a%20b%2Fc%40d%3Fe%23f%25g%2Bh~i:j"
        );
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(encode_component("&="), "%26%3D");
        assert_eq!(
            decode_component("a%20b%2Fc%40d%3Fe%23f%25g%2Bh~i:j"),
            "a b/c@d?e#f%g+h~i:j"
        );
        assert_eq!(decode_component("%c3%A9"), "é");
        // Lenient: a broken escape is kept, a lone byte becomes U+FFFD.
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%zz%41"), "%zzA");
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
        assert_eq!(decode_component("%41"), "A");
    }

    #[test]
    fn build_canonical() {
        assert_eq!(
            build(
                "generic",
                None,
                "x",
                None,
                &[("z", "1"), ("a", "2"), ("m", "")]
            ),
            "pkg:generic/x?a=2&z=1"
        );
        assert_eq!(
            build(
                "deb",
                Some("debian"),
                "xz-utils",
                Some("5.4.1-0.2"),
                &[("distro", "debian-12"), ("arch", "amd64")]
            ),
            "pkg:deb/debian/xz-utils@5.4.1-0.2?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            build(
                "rpm",
                Some("fedora"),
                "curl",
                Some("7.50.3-1.fc25"),
                &[("arch", "i386"), ("distro", "fedora-25"), ("epoch", "1")]
            ),
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25&epoch=1"
        );
        // Epoch in a Debian version: the colon stays, `+` is encoded.
        assert_eq!(
            build(
                "deb",
                Some("debian"),
                "libpam-cap",
                Some("1:2.66-4+deb12u2+b2"),
                &[]
            ),
            "pkg:deb/debian/libpam-cap@1:2.66-4%2Bdeb12u2%2Bb2"
        );
        // A multi-segment namespace keeps its slashes; a `/` inside a name
        // or a qualifier value is encoded.
        assert_eq!(
            build(
                "golang",
                Some("google.golang.org/"),
                "genproto",
                Some("abcdedf"),
                &[]
            ),
            "pkg:golang/google.golang.org/genproto@abcdedf"
        );
        assert_eq!(
            build("generic", Some("a//b"), "c/d", None, &[("u", "x/y z&w=v")]),
            "pkg:generic/a/b/c%2Fd?u=x%2Fy%20z%26w%3Dv"
        );
        assert_eq!(
            build("generic", Some(""), "x", Some(""), &[]),
            "pkg:generic/x"
        );
        assert_eq!(
            build("cargo", None, "bakeproof", Some("0.1.0"), &[]),
            "pkg:cargo/bakeproof@0.1.0"
        );
    }

    /// Examples from the purl-spec (`test-suite-data.json`, README), the
    /// parsed parts and the canonical form.
    #[test]
    fn spec_examples() {
        let x = p("pkg:deb/debian/xz-utils@5.4.1-0.2?arch=amd64&distro=debian-12");
        assert_eq!(
            (x.ty.as_str(), x.namespace.as_str(), x.name.as_str()),
            ("deb", "debian", "xz-utils")
        );
        assert_eq!(x.version.as_deref(), Some("5.4.1-0.2"));
        assert_eq!(x.qualifier("arch"), Some("amd64"));
        assert_eq!(x.qualifier("distro"), Some("debian-12"));
        assert_eq!(x.subpath, None);

        let c = p("pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25&epoch=1");
        assert_eq!(c.qualifier("epoch"), Some("1"));
        assert_eq!(c.version.as_deref(), Some("7.50.3-1.fc25"));

        let o = p("pkg:rpm/opensuse/curl@7.56.1-1.1.?arch=i386&distro=opensuse-tumbleweed");
        assert_eq!(o.version.as_deref(), Some("7.56.1-1.1."));

        let g = p("pkg:golang/google.golang.org/genproto#googleapis/api/annotations");
        assert_eq!(g.namespace, "google.golang.org");
        assert_eq!(g.name, "genproto");
        assert_eq!(g.version, None);
        assert_eq!(g.subpath.as_deref(), Some("googleapis/api/annotations"));

        let n = p("pkg:npm/%40angular/animation@12.3.1");
        assert_eq!(
            (n.namespace.as_str(), n.name.as_str()),
            ("@angular", "animation")
        );
        assert_eq!(n.to_string(), "pkg:npm/%40angular/animation@12.3.1");

        let m = p(
            "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repository_url=repo.spring.io/release",
        );
        assert_eq!(
            m.qualifier("repository_url"),
            Some("repo.spring.io/release")
        );

        // Spec: "pkg:" may be followed by slashes; type is case-insensitive;
        // qualifier keys are lower-cased, empty values dropped.
        let s = p("pkg:///DEB/debian/bash/@5.2?ARCH=amd64&distro=");
        assert_eq!(s.ty, "deb");
        assert_eq!(s.name, "bash");
        assert_eq!(
            s.qualifiers,
            vec![("arch".to_string(), "amd64".to_string())]
        );

        // Subpath: `.` and `..` segments dropped, encoded or not.
        let sp = p("pkg:generic/x#./a/../b/%2E%2E/%2e");
        assert_eq!(sp.subpath.as_deref(), Some("a/b"));
        assert_eq!(p("pkg:generic/x#..").subpath, None);

        // An `@` in the namespace is the version separator only at the end.
        let at = p("pkg:generic/a@b/c@1");
        assert_eq!((at.namespace.as_str(), at.name.as_str()), ("a@b", "c"));
        assert_eq!(at.version.as_deref(), Some("1"));
    }

    #[test]
    fn invalid() {
        for (bad, e) in [
            ("", PurlError::Scheme(String::new())),
            ("nope", PurlError::Scheme("nope".into())),
            (
                "PKG:deb/debian/x",
                PurlError::Scheme("PKG:deb/debian/x".into()),
            ),
            ("deb/debian/x", PurlError::Scheme("deb/debian/x".into())),
            ("pkg:", PurlError::NoType("pkg:".into())),
            ("pkg:/", PurlError::NoType("pkg:/".into())),
            ("pkg:?a=b", PurlError::NoType("pkg:?a=b".into())),
            ("pkg:deb", PurlError::NoName("pkg:deb".into())),
            ("pkg:deb/", PurlError::NoName("pkg:deb/".into())),
            ("pkg:deb/@1", PurlError::NoName("pkg:deb/@1".into())),
            ("pkg:deb@1", PurlError::NoName("pkg:deb@1".into())),
        ] {
            assert_eq!(Purl::parse(bad), Err(e), "{bad:?}");
        }
        // A lone `%` is kept, so this one has a name.
        assert_eq!(p("pkg:deb/%").name, "%");
    }

    /// Everything bakeproof builds parses back to its parts, and the
    /// canonical form is what was built.
    #[test]
    fn build_parse_round_trip() {
        for (ty, ns, name, ver, q) in [
            (
                "deb",
                Some("debian"),
                "libpam-cap",
                Some("1:2.66-4+deb12u2+b2"),
                vec![("arch", "amd64"), ("distro", "debian-12")],
            ),
            (
                "rpm",
                None,
                "fx-data",
                Some("1.0^git1-2"),
                vec![("arch", "noarch")],
            ),
            (
                "rpm",
                Some("sles"),
                "t",
                Some("2.1~rc1-1"),
                vec![("arch", "x86_64"), ("epoch", "0")],
            ),
            (
                "generic",
                Some("a b/c"),
                "n?#@&=%",
                Some("v#?@"),
                vec![("k", "v&=#? ")],
            ),
            ("generic", None, "ünïcode", None, vec![]),
        ] {
            let s = build(ty, ns, name, ver, &q);
            let parsed = p(&s);
            assert_eq!(parsed.ty, ty);
            assert_eq!(parsed.namespace, ns.unwrap_or(""));
            assert_eq!(parsed.name, name);
            assert_eq!(parsed.version.as_deref(), ver);
            let want: Vec<(String, String)> = q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(parsed.qualifiers, want);
            assert_eq!(parsed.to_string(), s);
            assert_eq!(s.parse::<Purl>().unwrap(), parsed);
        }
        // The canonical form is a fixed point, also for odd inputs.
        for odd in [
            "pkg:generic/x#a%2F",
            "pkg:generic/a%2F/x",
            "pkg:generic/x@",
            "pkg:T/x?B=1&a=2&b=",
            "pkg:a@b/c@1",
            "pkg:generic/x?k/@=v",
            "pkg:generic/%FF%FE",
        ] {
            let c = p(odd).to_string();
            assert_eq!(p(&c).to_string(), c, "{odd}");
        }
        let with_sub = p("pkg:generic/x@1#a%20b/c");
        assert_eq!(with_sub.subpath.as_deref(), Some("a b/c"));
        assert_eq!(with_sub.to_string(), "pkg:generic/x@1#a%20b/c");
    }
}
