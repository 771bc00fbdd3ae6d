//! Version ordering as the package managers define it.
//!
//! * [`rpmvercmp`]: rpm 4.18's `rpmvercmp()` (alphanumeric segments, numbers
//!   beat letters, leading zeros ignored, `~` sorts before everything, `^`
//!   after the base version but before any other suffix).
//! * [`rpm_evr_cmp`] / [`rpm_evr_str_cmp`]: rpm's `rpmverCmp()` on
//!   `[epoch:]version[-release]` (missing epoch = 0; a release, even an
//!   empty or `~` one, sorts after no release), which is what rpm 4.18's
//!   Lua `rpm.vercmp(a, b)` returns (checked on a generated corpus).
//! * [`dpkg_version_cmp`]: dpkg's `dpkg_version_compare()` (epoch as a
//!   number, then `verrevcmp` on upstream version and revision: `~` lowest,
//!   then the end of the string, then letters, then everything else).
//!
//! Every function here takes arbitrary strings and never panics. The
//! tests in `tests/diff.rs` compare them with real `rpm` and `dpkg` on a
//! generated corpus.

use std::cmp::Ordering;

/// `[epoch:]version[-release]`, split as rpm's `parseEVR()` splits it: the
/// epoch is a (possibly empty) run of ASCII digits before the first `:`; the
/// release is what follows the last `-` after the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Evr<'a> {
    /// The epoch as written (`Some("")` for `:1.0`, which rpm reads as 0).
    pub epoch: Option<&'a str>,
    pub version: &'a str,
    pub release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    /// Splits `[epoch:]version[-release]` (never fails: anything that is not
    /// an epoch or a release is version).
    pub fn parse(s: &'a str) -> Evr<'a> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = if s.as_bytes().get(digits) == Some(&b':') {
            (Some(&s[..digits]), &s[digits + 1..])
        } else {
            (None, s)
        };
        match rest.rfind('-') {
            Some(i) => Evr {
                epoch,
                version: &rest[..i],
                release: Some(&rest[i + 1..]),
            },
            None => Evr {
                epoch,
                version: rest,
                release: None,
            },
        }
    }

    /// The epoch as a number: absent or empty = 0, `None` when it does not
    /// fit a `u64`.
    pub fn epoch_num(&self) -> Option<u64> {
        match self.epoch {
            None | Some("") => Some(0),
            Some(e) => e.parse().ok(),
        }
    }
}

impl std::fmt::Display for Evr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(self.version)?;
        if let Some(r) = self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

/// rpm 4.18's `rpmvercmp(a, b)`. Like the C code, a string ends at its
/// first NUL byte; only ASCII letters and digits are alphanumeric.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let a = until_nul(a.as_bytes());
    let b = until_nul(b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    let sep = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while at(a, i) != 0 || at(b, j) != 0 {
        while sep(at(a, i)) {
            i += 1;
        }
        while sep(at(b, j)) {
            j += 1;
        }
        let (ca, cb) = (at(a, i), at(b, j));
        // tilde sorts before everything else
        if ca == b'~' || cb == b'~' {
            if ca != b'~' {
                return Ordering::Greater;
            }
            if cb != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // caret: like tilde, except that the end of a string (the base
        // version) sorts lower
        if ca == b'^' || cb == b'^' {
            if ca == 0 {
                return Ordering::Less;
            }
            if cb == 0 {
                return Ordering::Greater;
            }
            if ca != b'^' {
                return Ordering::Greater;
            }
            if cb != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == 0 || cb == 0 {
            break;
        }
        let isnum = ca.is_ascii_digit();
        let class = |c: u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (si, sj) = (i, j);
        while class(at(a, i)) {
            i += 1;
        }
        while class(at(b, j)) {
            j += 1;
        }
        let (mut one, mut two) = (&a[si..i], &b[sj..j]);
        if one.is_empty() {
            return Ordering::Less; // cannot happen (rpm: "arbitrary")
        }
        if two.is_empty() {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        if isnum {
            while one.first() == Some(&b'0') {
                one = &one[1..];
            }
            while two.first() == Some(&b'0') {
                two = &two[1..];
            }
            match one.len().cmp(&two.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match one.cmp(two) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    match (at(a, i) == 0, at(b, j) == 0) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// rpm 4.18's EVR order, as `rpm.vercmp()` answers it: epochs (missing =
/// `0`, compared with [`rpmvercmp`] as rpm does), then versions, then
/// releases, where a present release (even `-` alone or `-~`) sorts after
/// a missing one.
pub fn rpm_evr_cmp(a: Evr<'_>, b: Evr<'_>) -> Ordering {
    rpm_ev_cmp(&a, &b).then_with(|| match (a.release, b.release) {
        (Some(ra), Some(rb)) => rpmvercmp(ra, rb),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => Ordering::Equal,
    })
}

/// Epochs (missing = `0`, compared with [`rpmvercmp`] as rpm does), then
/// versions: the part of the EVR order every rpm comparison shares (the
/// releases are compared by each caller's own rule).
pub fn rpm_ev_cmp(a: &Evr<'_>, b: &Evr<'_>) -> Ordering {
    let ea = a.epoch.filter(|e| !e.is_empty()).unwrap_or("0");
    let eb = b.epoch.filter(|e| !e.is_empty()).unwrap_or("0");
    rpmvercmp(ea, eb).then_with(|| rpmvercmp(a.version, b.version))
}

/// [`rpm_evr_cmp`] on two `[epoch:]version[-release]` strings: the same
/// answer as rpm's Lua `rpm.vercmp(a, b)`.
pub fn rpm_evr_str_cmp(a: &str, b: &str) -> Ordering {
    rpm_evr_cmp(Evr::parse(a), Evr::parse(b))
}

/// A dpkg version split as dpkg's `parseversion()` splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DpkgVersion<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    /// Empty when there is none.
    pub revision: &'a str,
}

/// Parses a dpkg version like `parseversion()`: surrounding blanks trimmed,
/// epoch = the number before the first `:`, revision = after the last `-`.
/// `None` where dpkg refuses the string (empty, embedded blanks, a
/// non-numeric, negative or too big epoch, nothing after the colon, an empty
/// revision or upstream version). Strings dpkg only warns about (a version
/// not starting with a digit, odd characters) are accepted, as dpkg compares
/// them too.
pub fn parse_dpkg_version(s: &str) -> Option<DpkgVersion<'_>> {
    let s = s.trim_matches([' ', '\t']);
    if s.is_empty() || s.contains([' ', '\t']) {
        return None;
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) => {
            let digits = e.strip_prefix('+').unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u64 = digits.parse().ok()?;
            if n > i32::MAX as u64 || rest.is_empty() {
                return None;
            }
            (n, rest)
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) if i + 1 == rest.len() => return None,
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return None;
    }
    Some(DpkgVersion {
        epoch,
        upstream,
        revision,
    })
}

/// dpkg's `order()`: `~` lowest, then digits and the end of the string,
/// then letters, then every other byte (as a signed `char`, so bytes above
/// 0x7F sort between letters and ASCII punctuation).
fn dpkg_order(c: u8) -> i32 {
    if c.is_ascii_digit() || c == 0 {
        0
    } else if c.is_ascii_alphabetic() {
        i32::from(c)
    } else if c == b'~' {
        -1
    } else {
        i32::from(c as i8) + 256
    }
}

/// dpkg's `verrevcmp()` on one part (upstream version or revision).
pub fn dpkg_verrevcmp(a: &str, b: &str) -> Ordering {
    let a = until_nul(a.as_bytes());
    let b = until_nul(b.as_bytes());
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while at(a, i) != 0 || at(b, j) != 0 {
        let mut first_diff = 0i32;
        while (at(a, i) != 0 && !at(a, i).is_ascii_digit())
            || (at(b, j) != 0 && !at(b, j).is_ascii_digit())
        {
            let (ac, bc) = (dpkg_order(at(a, i)), dpkg_order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(at(a, i)) - i32::from(at(b, j));
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// dpkg's `dpkg_version_compare()` on two version strings (what
/// `dpkg --compare-versions A lt B` decides). A string dpkg would refuse
/// (see [`parse_dpkg_version`]) is still ordered, never a panic: an empty
/// one is dpkg's blank version (epoch 0, empty upstream and revision);
/// otherwise a bad epoch is taken as part of the upstream version.
pub fn dpkg_version_cmp(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (lenient_dpkg(a), lenient_dpkg(b));
    pa.epoch
        .cmp(&pb.epoch)
        .then_with(|| dpkg_verrevcmp(pa.upstream, pb.upstream))
        .then_with(|| dpkg_verrevcmp(pa.revision, pb.revision))
}

fn lenient_dpkg(s: &str) -> DpkgVersion<'_> {
    if let Some(v) = parse_dpkg_version(s) {
        return v;
    }
    let s = s.trim_matches([' ', '\t']);
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), rest)
        }
        _ => (0, s),
    };
    match rest.rfind('-') {
        Some(i) => DpkgVersion {
            epoch,
            upstream: &rest[..i],
            revision: &rest[i + 1..],
        },
        None => DpkgVersion {
            epoch,
            upstream: rest,
            revision: "",
        },
    }
}

/// The order used for ecosystems without a package-manager rule (npm,
/// PyPI, golang, ...): versions split into runs of digits and runs of
/// non-digits; digit runs compare as numbers (leading zeros ignored),
/// other runs bytewise, a missing run is lower; a leading `v` is ignored.
/// A semver-like approximation: pre-release tags (`1.0.0-rc1`) sort
/// *after* the release here. Equal by this rule but different as text:
/// the text decides, so only identical strings are `Equal`.
pub fn generic_version_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let bytes = s.as_bytes();
        let mut k = 0;
        std::iter::from_fn(move || {
            if k >= bytes.len() {
                return None;
            }
            let start = k;
            let digit = bytes[k].is_ascii_digit();
            while k < bytes.len() && bytes[k].is_ascii_digit() == digit {
                k += 1;
            }
            Some((digit, &s[start..k]))
        })
    }
    let (mut ra, mut rb) = (runs(a), runs(b));
    loop {
        match (ra.next(), rb.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((da, x)), Some((db, y))) => {
                let o = if da && db {
                    let x = x.trim_start_matches('0');
                    let y = y.trim_start_matches('0');
                    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
                } else {
                    // digits sort after non-digits in a mixed position
                    da.cmp(&db).then_with(|| x.cmp(y))
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn rpmvercmp_known_cases() {
        // from rpm's own test suite (tests/rpmvercmp.at)
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("1.0aa", "1.0a", Greater),
            ("10", "9", Greater),
            ("1b", "1a", Greater),
            ("a", "1", Less),
            ("1.0", "1.0.", Equal),
            ("1.0", "1_0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0^20160101^git1", "1.0^20160101", Greater),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("001", "1", Equal),
            ("", "", Equal),
            ("", "1", Less),
            ("+", "_", Equal),
        ] {
            assert_eq!(rpmvercmp(a, b), o, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), o.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr_parse_and_cmp() {
        let e = Evr::parse("3:1.0-1");
        assert_eq!(
            (e.epoch, e.version, e.release),
            (Some("3"), "1.0", Some("1"))
        );
        assert_eq!(e.to_string(), "3:1.0-1");
        let e = Evr::parse("1.0-1-2");
        assert_eq!((e.epoch, e.version, e.release), (None, "1.0-1", Some("2")));
        let e = Evr::parse("a:b");
        assert_eq!((e.epoch, e.version, e.release), (None, "a:b", None));
        assert_eq!(Evr::parse(":1").epoch_num(), Some(0));
        assert_eq!(rpm_evr_str_cmp("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(rpm_evr_str_cmp("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(rpm_evr_str_cmp("1.0", "1.0-5"), Less);
        assert_eq!(rpm_evr_str_cmp("1.0-~", "1.0"), Greater);
        assert_eq!(rpm_evr_str_cmp("1.0-2", "1.0-10"), Less);
    }

    #[test]
    fn dpkg_known_cases() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0a", "1.0+", Less),
            ("1:0.1", "2.0", Greater),
            ("1.0-1", "1.0-1~bpo1", Greater),
            ("1.0-1", "1.0", Greater),
            ("00:1", "1", Equal),
            ("1.01", "1.1", Equal),
            ("2.66-4+deb12u2+b2", "2.66-4+deb12u2", Greater),
            ("", "0", Equal),
            ("a:b", "1", Greater),
        ] {
            assert_eq!(dpkg_version_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(dpkg_version_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
        assert_eq!(parse_dpkg_version("1:"), None);
        assert_eq!(parse_dpkg_version("1.0-"), None);
        assert_eq!(
            parse_dpkg_version(" 2:1.0-3 "),
            Some(DpkgVersion {
                epoch: 2,
                upstream: "1.0",
                revision: "3"
            })
        );
    }

    #[test]
    fn generic_order() {
        assert_eq!(generic_version_cmp("1.10.0", "1.9.0"), Greater);
        assert_eq!(generic_version_cmp("v1.2", "1.2"), Greater); // text decides ties
        assert_eq!(generic_version_cmp("1.2", "1.2.1"), Less);
    }

    #[test]
    fn never_panics() {
        let parts = [
            "",
            "~",
            "^",
            ":",
            "-",
            "0",
            "00",
            "1",
            "a",
            "Z",
            "é",
            "\0",
            "1:",
            ":1",
            "1-",
            "-1",
            ".",
            "+",
            "99999999999999999999999",
            "1:2:3",
            "~~^^",
        ];
        for x in parts {
            for y in parts {
                for z in parts {
                    let s = format!("{x}{y}{z}");
                    for t in parts {
                        let _ = rpmvercmp(&s, t);
                        let _ = rpm_evr_str_cmp(&s, t);
                        let _ = dpkg_version_cmp(&s, t);
                        let _ = generic_version_cmp(&s, t);
                        assert_eq!(rpmvercmp(&s, &s), Equal);
                        assert_eq!(dpkg_version_cmp(&s, &s), Equal);
                    }
                }
            }
        }
    }
}
