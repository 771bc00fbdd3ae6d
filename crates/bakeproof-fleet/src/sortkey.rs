//! Version sort keys: a string per version whose byte order is the
//! package manager's version order (dpkg's for `deb`, rpm's for `rpm`), so
//! an engine without that order (Athena, Spark, DuckDB) answers a range
//! query with a plain string comparison.
//!
//! # Keys
//!
//! [`version_key`] returns, for purl types `deb` and `rpm`, a non-empty
//! string of lower-case hex digits (`0-9a-f`) such that for two versions
//! `a`, `b` of the same type, `key(a).cmp(&key(b))` (plain byte order, which
//! is also code-point order) equals
//!
//! * `deb`: [`dpkg_version_cmp`] (`dpkg --compare-versions`): epoch as a
//!   number, then the upstream version and the revision by dpkg's
//!   `verrevcmp`;
//! * `rpm`: [`rpm_evr_cmp`] on [`Evr::parse`] (`rpm.labelCompare`): epoch
//!   (missing = 0), version and release by `rpmvercmp`, a missing release
//!   before any present one.
//!
//! Versions equal under the order have the same key (`1.01` / `1.1` for
//! dpkg, `1.0` / `1_0` for rpm). Keys are prefix-free: no key is a proper
//! prefix of another, so any key `K` satisfies `K < K + s < L` for every
//! suffix `s` and every key `L > K`. Every string has a key (no input
//! panics): strings dpkg refuses are keyed as [`dpkg_version_cmp`] orders
//! them. A typical key is 20 to 60 characters (about two to three per
//! character of the version); nothing is clamped. Other purl types have no
//! key (`None`): their orders are only in `bakeproof query`.
//!
//! The key is the hex of a byte string of tokens (the digits of a number
//! are single hex digits, so `2.36` shows `…2…36`):
//!
//! * dpkg: `epoch`, then upstream and revision each as rounds (non-digit
//!   run, digit run) then `TERM`. A non-digit run is one byte per
//!   character, ranked as dpkg's `order()` ranks it (`~` = `01` lowest;
//!   letters; bytes above 0x7F; other ASCII), then the end-of-run byte
//!   `03`; a digit run (leading zeros dropped) is its length then its
//!   digits. `TERM` = `02` sorts above `~` and below every other character,
//!   as dpkg's padding of the shorter string does. Every part has at least
//!   one round, so `""` == `"0"`.
//! * rpm: `epoch` (a number), the version's tokens then `END`, then `01`
//!   (no release) or `02` + the release's tokens + `END`. Tokens: `~` =
//!   `01`, `END` = `02`, `^` = `03`, a letter run = `04` + its bytes + `00`,
//!   a digit run = `05` + length + digits (separators are dropped).
//!
//! A number (an epoch, a digit run) is its decimal digits without leading
//! zeros: one byte for their count (`ff` + 8 bytes big-endian at 255 or
//! more), then one hex digit per decimal digit.
//!
//! # Bounds of a constraint
//!
//! [`key_range`] gives, for a constraint version `v`, a [`KeyRange`]
//! `(low, high)` such that for every version key `k` of that type
//!
//! | constraint | SQL |
//! | --- | --- |
//! | `= v`  | `k >= low AND k < high` |
//! | `>= v` | `k >= low` |
//! | `> v`  | `k >= high` |
//! | `< v`  | `k < low` |
//! | `<= v` | `k < high` |
//!
//! [`constraint_bounds`] turns an operator into that pair of optional
//! bounds. `high` is `low` + `"g"` (`g` sorts above every hex digit in
//! byte order and in the usual collations); `low` is a hex string.
//!
//! * `deb`, and `rpm` when `v` has a release: `low` is `v`'s key, so the
//!   bounds are exactly the order above.
//! * `rpm` when `v` has no release (`>= 5.6.0`): rpm's dependency rule,
//!   which compares releases only when both sides have one. `low` is the
//!   key prefix common to every `[e:]v[-r]` with that epoch and version
//!   (any or no release), so `= 5.6.0` holds for `5.6.0-1.fc40`, `> 5.6.0`
//!   does not, and `<= 5.6.0` holds for `5.6.0-9`.
//!
//! Not covered: `!=` (two ranges: `k < low OR k >= high`); a constraint
//! with a release against a *package* without one (rpm would not compare
//! the releases; here the release-less package sorts first, as installed
//! rpm packages always have a release). The constraint's missing epoch is
//! 0 (rpm >= 4.x, dpkg).

use bakeproof_pkgdb::version::{Evr, parse_dpkg_version};
#[cfg(doc)]
use bakeproof_pkgdb::version::{dpkg_version_cmp, rpm_evr_cmp};

/// The sort key of `full_version` for purl type `ptype`; `None` where the
/// ecosystem has no key (its order is only in `bakeproof query`).
///
/// `deb`: `[epoch:]upstream[-revision]`; `rpm`: `[epoch:]version[-release]`
/// (split as [`Evr::parse`] splits it). See the module documentation.
pub fn version_key(ptype: &str, full_version: &str) -> Option<String> {
    match Kind::of(ptype)? {
        Kind::Deb => Some(dpkg_key(full_version)),
        Kind::Rpm => {
            let evr = Evr::parse(full_version);
            let mut k = rpm_ev_prefix(&evr);
            rpm_release(&mut k, evr.release);
            Some(k.0)
        }
    }
}

/// The keys bounding a constraint version: see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// Every version `>= v` (rpm without a release: `>=` on epoch and
    /// version only) has a key `>= low`, every other a key `< low`.
    pub low: String,
    /// Every version `> v` (rpm without a release: `>` on epoch and version
    /// only) has a key `>= high`, every other a key `< high`.
    pub high: String,
}

/// The suffix that makes `high` from `low`: above every hex digit.
const HIGH_SUFFIX: char = 'g';

/// The bounds of constraint version `version` for purl type `ptype` (rpm:
/// the dependency rule when it has no release); `None` where the ecosystem
/// has no key.
pub fn key_range(ptype: &str, version: &str) -> Option<KeyRange> {
    let low = match Kind::of(ptype)? {
        Kind::Deb => dpkg_key(version),
        Kind::Rpm => {
            let evr = Evr::parse(version);
            let mut k = rpm_ev_prefix(&evr);
            if evr.release.is_some() {
                rpm_release(&mut k, evr.release);
            }
            k.0
        }
    };
    let mut high = low.clone();
    high.push(HIGH_SUFFIX);
    Some(KeyRange { low, high })
}

/// A relational operator of a version constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Op {
    /// Reads an operator as purl type `ptype` writes it: `deb` `<<`, `<=`,
    /// `=`, `>=`, `>>` (and the obsolete `<` = `<=`, `>` = `>=`, as dpkg
    /// reads them); `rpm` (and any other type) `<`, `<=`, `=`, `==`, `>=`,
    /// `>`. `None` for anything else (`!=` included).
    pub fn parse(ptype: &str, op: &str) -> Option<Op> {
        let deb = Kind::of(ptype) == Some(Kind::Deb);
        Some(match op.trim() {
            "<<" if deb => Op::Lt,
            ">>" if deb => Op::Gt,
            "<" if deb => Op::Le,
            ">" if deb => Op::Ge,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            "=" | "==" => Op::Eq,
            ">=" => Op::Ge,
            _ => return None,
        })
    }
}

/// The SQL bounds of `key OP version`: the constraint holds for a version
/// key `k` exactly when `k >= ge` (if `ge` is set) and `k < lt` (if `lt` is
/// set).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Inclusive lower bound.
    pub ge: Option<String>,
    /// Exclusive upper bound.
    pub lt: Option<String>,
}

/// `OP VERSION` for purl type `ptype` as [`Bounds`] on [`version_key`]
/// (see [`key_range`]); `None` where the ecosystem has no key.
pub fn constraint_bounds(ptype: &str, op: Op, version: &str) -> Option<Bounds> {
    let KeyRange { low, high } = key_range(ptype, version)?;
    Some(match op {
        Op::Lt => Bounds {
            ge: None,
            lt: Some(low),
        },
        Op::Le => Bounds {
            ge: None,
            lt: Some(high),
        },
        Op::Eq => Bounds {
            ge: Some(low),
            lt: Some(high),
        },
        Op::Ge => Bounds {
            ge: Some(low),
            lt: None,
        },
        Op::Gt => Bounds {
            ge: Some(high),
            lt: None,
        },
    })
}

impl Bounds {
    /// Whether a version key satisfies the bounds (what the SQL computes).
    pub fn contains(&self, key: &str) -> bool {
        self.ge.as_deref().is_none_or(|g| key >= g) && self.lt.as_deref().is_none_or(|l| key < l)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deb,
    Rpm,
}

impl Kind {
    fn of(ptype: &str) -> Option<Kind> {
        if ptype.eq_ignore_ascii_case("deb") {
            Some(Kind::Deb)
        } else if ptype.eq_ignore_ascii_case("rpm") {
            Some(Kind::Rpm)
        } else {
            None
        }
    }
}

/// A key being written: hex digits.
struct Key(String);

impl Key {
    fn new() -> Key {
        Key(String::with_capacity(64))
    }
    fn nibble(&mut self, n: u8) {
        self.0
            .push(char::from(b"0123456789abcdef"[usize::from(n & 0xF)]));
    }
    fn byte(&mut self, b: u8) {
        self.nibble(b >> 4);
        self.nibble(b);
    }
    /// A run of ASCII digits as a number: leading zeros dropped, count,
    /// digits.
    fn number(&mut self, digits: &[u8]) {
        let start = digits.iter().take_while(|&&d| d == b'0').count();
        let digits = digits.get(start..).unwrap_or_default();
        match u8::try_from(digits.len()) {
            Ok(n) if n < 0xFF => self.byte(n),
            _ => {
                self.byte(0xFF);
                for b in (digits.len() as u64).to_be_bytes() {
                    self.byte(b);
                }
            }
        }
        for &d in digits {
            self.nibble(d.wrapping_sub(b'0'));
        }
    }
}

fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

// ---- dpkg ----

const DPKG_TILDE: u8 = 0x01;
const DPKG_TERM: u8 = 0x02;
const DPKG_END_OF_RUN: u8 = 0x03;

/// The rank of a non-digit, non-NUL byte in dpkg's `order()`: `~`, then
/// (end of run), then letters, then bytes above 0x7F (dpkg's `char` is
/// signed), then the other ASCII bytes.
fn dpkg_sym(c: u8) -> u8 {
    match c {
        b'~' => DPKG_TILDE,
        b'A'..=b'Z' => 0x04 + (c - b'A'),
        b'a'..=b'z' => 0x1E + (c - b'a'),
        0x80..=0xFF => 0x38 + (c - 0x80),
        // the 64 other ASCII bytes, in ASCII order, from 0xB8
        0x00..=0x2F => 0xB8 + c.saturating_sub(1),
        0x3A..=0x40 => 0xB8 + 47 + (c - 0x3A),
        0x5B..=0x60 => 0xB8 + 54 + (c - 0x5B),
        0x7B..=0x7D => 0xB8 + 60 + (c - 0x7B),
        // 0x7F and (not reached) the digits
        _ => 0xB8 + 63,
    }
}

/// One part (upstream version or revision) as `verrevcmp` sees it.
fn dpkg_part(k: &mut Key, part: &[u8]) {
    let s = until_nul(part);
    let mut i = 0;
    loop {
        while let Some(&c) = s.get(i).filter(|c| !c.is_ascii_digit()) {
            k.byte(dpkg_sym(c));
            i += 1;
        }
        k.byte(DPKG_END_OF_RUN);
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        k.number(&s[start..i]);
        if i >= s.len() {
            break;
        }
    }
    k.byte(DPKG_TERM);
}

fn dpkg_key(v: &str) -> String {
    let (epoch, upstream, revision) = match parse_dpkg_version(v) {
        Some(p) => (p.epoch, p.upstream, p.revision),
        None => lenient_dpkg(v),
    };
    let mut k = Key::new();
    k.number(epoch.to_string().as_bytes());
    dpkg_part(&mut k, upstream.as_bytes());
    dpkg_part(&mut k, revision.as_bytes());
    k.0
}

/// How `dpkg_version_cmp` splits a string dpkg refuses (the same rule as
/// `bakeproof_pkgdb::version`'s private `lenient_dpkg`).
fn lenient_dpkg(s: &str) -> (u64, &str, &str) {
    let s = s.trim_matches([' ', '\t']);
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), rest)
        }
        _ => (0, s),
    };
    match rest.rfind('-') {
        Some(i) => (epoch, &rest[..i], &rest[i + 1..]),
        None => (epoch, rest, ""),
    }
}

// ---- rpm ----

const RPM_TILDE: u8 = 0x01;
const RPM_END: u8 = 0x02;
const RPM_CARET: u8 = 0x03;
const RPM_ALPHA: u8 = 0x04;
const RPM_NUM: u8 = 0x05;
const RPM_NO_RELEASE: u8 = 0x01;
const RPM_RELEASE: u8 = 0x02;

/// `rpmvercmp`'s tokens of `s`, then `END`.
fn rpm_tokens(k: &mut Key, s: &str) {
    let s = until_nul(s.as_bytes());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'~' {
            k.byte(RPM_TILDE);
            i += 1;
        } else if c == b'^' {
            k.byte(RPM_CARET);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            k.byte(RPM_NUM);
            k.number(&s[start..i]);
        } else if c.is_ascii_alphabetic() {
            k.byte(RPM_ALPHA);
            while let Some(&c) = s.get(i).filter(|c| c.is_ascii_alphabetic()) {
                k.byte(c);
                i += 1;
            }
            k.byte(0x00);
        } else {
            i += 1; // a separator
        }
    }
    k.byte(RPM_END);
}

/// The key up to the release: epoch, version tokens.
fn rpm_ev_prefix(evr: &Evr<'_>) -> Key {
    let mut k = Key::new();
    // The epoch is digits (Evr::parse), compared by rpmvercmp: as a number.
    k.number(evr.epoch.unwrap_or("").as_bytes());
    rpm_tokens(&mut k, evr.version);
    k
}

fn rpm_release(k: &mut Key, release: Option<&str>) {
    match release {
        None => k.byte(RPM_NO_RELEASE),
        Some(r) => {
            k.byte(RPM_RELEASE);
            rpm_tokens(k, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bakeproof_pkgdb::version::{dpkg_version_cmp, rpm_evr_str_cmp};
    use std::cmp::Ordering::{self, *};

    fn deb(v: &str) -> String {
        version_key("deb", v).expect("deb has keys")
    }
    fn rpm(v: &str) -> String {
        version_key("rpm", v).expect("rpm has keys")
    }

    fn check(ptype: &str, a: &str, b: &str, want: Ordering) {
        let (ka, kb) = (
            version_key(ptype, a).expect("key"),
            version_key(ptype, b).expect("key"),
        );
        assert_eq!(ka.cmp(&kb), want, "{ptype} {a:?} vs {b:?}: {ka} vs {kb}");
        assert_eq!(kb.cmp(&ka), want.reverse(), "{ptype} {b:?} vs {a:?}");
        let reference = if ptype == "deb" {
            dpkg_version_cmp(a, b)
        } else {
            rpm_evr_str_cmp(a, b)
        };
        assert_eq!(reference, want, "the reference disagrees on {a:?} {b:?}");
    }

    #[test]
    fn dpkg_tricky() {
        for (a, b, o) in [
            ("1", "1~", Greater),
            ("1", "1.0", Less),
            ("1.0", "1.", Equal),
            ("", "0", Equal),
            ("", "0~", Greater),
            ("1.0a", "1.a", Less),
            ("1~~", "1~~a", Less),
            ("1~~a", "1~", Less),
            ("1~", "1", Less),
            ("1", "1a", Less),
            ("01", "1", Equal),
            ("1.01", "1.1", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0a", "1.0+", Less),
            ("1.0a", "1.0é", Less),
            ("1.0é", "1.0+", Less),
            ("1:0.1", "2.0", Greater),
            ("1.0-1", "1.0-1~bpo1", Greater),
            ("1.0-1", "1.0", Greater),
            ("1.0-0", "1.0", Equal),
            ("00:1", "1", Equal),
            ("2.66-4+deb12u2+b2", "2.66-4+deb12u2", Greater),
            ("1:2.66-4+deb12u2+b2", "12.4+deb12u11", Greater),
            ("a:b", "1", Greater),
            ("10", "9", Greater),
            ("1.10", "1.9", Greater),
            ("1a", "1A", Greater),
            ("1Z", "1a", Less),
            ("1~", "1~~", Greater),
            ("1-~", "1", Less),
            ("1-", "1", Equal),
            (" 1.0 ", "1.0", Equal),
            ("1.0\0x", "1.0", Equal),
            ("99999999999999999999999999999999", "1", Greater),
            ("1.0.0", "1.0", Greater),
            ("1.0.0", "1.0.", Equal),
        ] {
            check("deb", a, b, o);
        }
        // the upstream ends before the revision starts
        assert!(deb("1.0-1") < deb("1.0a-0"));
        assert!(deb("1.0-1") < deb("1.0.-0"));
    }

    #[test]
    fn rpm_tricky() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1_0", Equal),
            ("1.0", "1.0.", Equal),
            ("001", "1", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("1.0aa", "1.0a", Greater),
            ("1b", "1a", Greater),
            ("a", "1", Less),
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
            ("1.0^", "1.0a", Less),
            ("1.0~", "1.0^", Less),
            ("", "1", Less),
            ("+", "_", Equal),
            ("0:1.0-1", "1.0-1", Equal),
            (":1.0-1", "1.0-1", Equal),
            ("1:1.0-1", "2.0-1", Greater),
            ("10:1", "9:2", Greater),
            ("1.0", "1.0-5", Less),
            ("1.0-~", "1.0", Greater),
            ("1.0-", "1.0", Greater),
            ("1.0-2", "1.0-10", Less),
            ("1.0-1.fc40", "1.0-1.fc40.1", Less),
            ("1.0-1-2", "1.0-2", Greater),
            ("1.0.a", "1.0a", Equal),
        ] {
            check("rpm", a, b, o);
        }
    }

    #[test]
    fn other_types_have_no_key() {
        assert_eq!(version_key("npm", "1.0.0"), None);
        assert_eq!(version_key("pypi", "1.0"), None);
        assert_eq!(key_range("golang", "v1.0.0"), None);
        assert!(version_key("DEB", "1").is_some());
    }

    #[test]
    fn keys_are_hex_and_short() {
        for v in ["1:2.66-4+deb12u2+b2", "12.4+deb12u11", "1.0.8-5+b1"] {
            let k = deb(v);
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(k.len() < 100, "{v}: {k}");
        }
        for v in ["1:5.6.0-1.fc40", "3.0.6-1.cm2", "2.28-225.el8_8.6"] {
            let k = rpm(v);
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(k.len() < 100, "{v}: {k}");
        }
    }

    #[test]
    fn rpm_range_without_release_is_the_dependency_rule() {
        let b = |op, v| constraint_bounds("rpm", op, v).expect("rpm");
        let pkg = rpm("5.6.0-1.fc40");
        assert!(b(Op::Eq, "5.6.0").contains(&pkg));
        assert!(b(Op::Ge, "5.6.0").contains(&pkg));
        assert!(b(Op::Le, "5.6.0").contains(&pkg));
        assert!(!b(Op::Gt, "5.6.0").contains(&pkg));
        assert!(!b(Op::Lt, "5.6.0").contains(&pkg));
        assert!(b(Op::Eq, "0:5.6.0").contains(&pkg));
        assert!(!b(Op::Eq, "1:5.6.0").contains(&pkg));
        assert!(!b(Op::Eq, "5.6").contains(&pkg));
        assert!(!b(Op::Eq, "5.6.0.1").contains(&pkg));
        assert!(b(Op::Gt, "5.6").contains(&pkg));
        assert!(b(Op::Lt, "5.6.0.1").contains(&pkg));
        assert!(b(Op::Lt, "5.6.0^1").contains(&pkg));
        assert!(b(Op::Gt, "5.6.0~rc1").contains(&pkg));
        assert!(b(Op::Eq, "5.6.0").contains(&rpm("5.6.0")));
        // with a release: the full order
        assert!(b(Op::Eq, "5.6.0-1.fc40").contains(&pkg));
        assert!(!b(Op::Eq, "5.6.0-1").contains(&pkg));
        assert!(b(Op::Gt, "5.6.0-1").contains(&pkg));
        assert!(b(Op::Lt, "5.6.0-2").contains(&pkg));
        assert!(b(Op::Le, "5.6.0-1.fc40").contains(&pkg));
        assert!(!b(Op::Lt, "5.6.0-1.fc40").contains(&pkg));
    }

    #[test]
    fn deb_range_is_the_order() {
        let b = |op: &str, v| {
            constraint_bounds("deb", Op::parse("deb", op).expect("op"), v).expect("deb")
        };
        let pkg = deb("1:2.66-4+deb12u2");
        assert!(b("=", "1:2.66-4+deb12u2").contains(&pkg));
        assert!(b("=", "1:2.066-04+deb12u02").contains(&pkg));
        assert!(!b("=", "1:2.66-4").contains(&pkg));
        assert!(b(">>", "1:2.66-4").contains(&pkg));
        assert!(b("<<", "1:2.66-4+deb12u2+b1").contains(&pkg));
        assert!(b(">=", "1:2.66-4+deb12u2").contains(&pkg));
        assert!(b("<=", "1:2.66-4+deb12u2").contains(&pkg));
        assert!(!b("<<", "1:2.66-4+deb12u2").contains(&pkg));
        assert!(!b(">>", "1:2.66-4+deb12u2").contains(&pkg));
        assert!(b("<", "1:2.66-4+deb12u2").contains(&pkg)); // obsolete <=
        assert_eq!(Op::parse("deb", "!="), None);
        assert_eq!(Op::parse("rpm", "<"), Some(Op::Lt));
        assert_eq!(Op::parse("rpm", "<<"), None);
    }

    #[test]
    fn exhaustive_small_strings_agree_with_the_reference() {
        let alphabet = [
            "", "0", "1", "9", "a", "Z", "~", "^", ".", "+", "-", ":", "_",
        ];
        let mut corpus = Vec::new();
        for x in alphabet {
            for y in alphabet {
                for z in alphabet {
                    corpus.push(format!("{x}{y}{z}"));
                }
            }
        }
        corpus.sort();
        corpus.dedup();
        let dk: Vec<String> = corpus.iter().map(|v| deb(v)).collect();
        let rk: Vec<String> = corpus.iter().map(|v| rpm(v)).collect();
        for (i, a) in corpus.iter().enumerate() {
            for (j, b) in corpus.iter().enumerate() {
                assert_eq!(dk[i].cmp(&dk[j]), dpkg_version_cmp(a, b), "deb {a:?} {b:?}");
                assert_eq!(rk[i].cmp(&rk[j]), rpm_evr_str_cmp(a, b), "rpm {a:?} {b:?}");
            }
        }
    }
}
