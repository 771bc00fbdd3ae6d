//! Version orders of the language ecosystems, for the diff and the query:
//! PEP 440 (pypi), SemVer 2.0 (npm, cargo), Maven's ComparableVersion
//! (maven), Go module versions with pseudo-versions (golang).
//!
//! Each is checked against the ecosystem's own implementation
//! (`tests/version_oracle.rs`: Python's `packaging`, npm's `semver`,
//! Maven's `ComparableVersion`, Go's `golang.org/x/mod/semver`).

use std::cmp::Ordering;
use std::str::FromStr;

/// PEP 440 order (`1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1`, epochs, local
/// versions); versions that are not PEP 440 sort after valid ones, by text.
pub fn pep440_cmp(a: &str, b: &str) -> Ordering {
    let pa = pep440_rs::Version::from_str(a.trim()).ok();
    let pb = pep440_rs::Version::from_str(b.trim()).ok();
    valid_first(pa, pb, a, b)
}

/// Valid versions in their order, then invalid ones by text.
fn valid_first<T: Ord>(pa: Option<T>, pb: Option<T>, a: &str, b: &str) -> Ordering {
    match (pa, pb) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A SemVer version compared by precedence (build metadata ignored, as
/// SemVer 2.0 section 11 says; `semver::Version`'s own `Ord` orders by it).
#[derive(PartialEq, Eq)]
struct Precedence(semver::Version);

impl PartialOrd for Precedence {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Precedence {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        (a.major, a.minor, a.patch)
            .cmp(&(b.major, b.minor, b.patch))
            .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.pre.cmp(&b.pre),
            })
    }
}

fn semver_parse(v: &str) -> Option<Precedence> {
    let v = v.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    semver::Version::parse(v).ok().map(Precedence)
}

/// SemVer 2.0 precedence (build metadata ignored; a leading `v`
/// accepted, as npm's `semver` does in its strict mode); invalid versions after valid ones,
/// by text.
pub fn semver_cmp(a: &str, b: &str) -> Ordering {
    valid_first(semver_parse(a), semver_parse(b), a, b)
}

/// Go module order, as `golang.org/x/mod/semver.Compare`: `v` + SemVer,
/// `vMAJOR` and `vMAJOR.MINOR` shorthands (without pre-release or build),
/// pseudo-versions (`v0.0.0-20200101000000-abcdef123456`) are pre-releases
/// and order as such, `+incompatible` is build metadata. Anything else
/// (`(devel)`, no `v`) is lower than every valid version; invalid versions
/// order by text among themselves (Go calls them equal; a total order is
/// kinder to a diff).
pub fn go_cmp(a: &str, b: &str) -> Ordering {
    match (go_parse(a), go_parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

fn go_parse(v: &str) -> Option<Precedence> {
    let rest = v.strip_prefix('v')?;
    let core_end = rest.find(['-', '+']).unwrap_or(rest.len());
    let dots = rest[..core_end].matches('.').count();
    let full = match dots {
        2 => rest.to_owned(),
        // Shorthands only without suffixes (x/mod/semver's parse).
        1 if core_end == rest.len() => format!("{rest}.0"),
        0 if core_end == rest.len() => format!("{rest}.0.0"),
        _ => return None,
    };
    semver::Version::parse(&full).ok().map(Precedence)
}

/// Maven's `ComparableVersion` order (`1.0-alpha < 1.0 < 1.0-sp`,
/// `1.0.0 == 1`), as Maven 3.8's `org.apache.maven.artifact.versioning.
/// ComparableVersion` computes it. Written here: no crate implements
/// Maven's order (the `maven`-named crates parse POMs or use plain
/// SemVer, which orders qualifiers differently).
///
/// Like Maven's, this order has cycles among versions with a qualifier
/// after a dot or at the start (`1.m00 < 1 < 1.a.2 < 1.m00`): compare
/// pairs with it (as the diff does), never sort by it (Rust's sorts may
/// panic on an order that is not total).
pub fn maven_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (maven::parse(a), maven::parse(b));
    maven::cmp_list(&x, Some(&y))
}

mod maven {
    use std::cmp::Ordering;

    #[derive(Debug, Clone)]
    pub(super) enum Item {
        /// Digits without leading zeros ("" is zero).
        Int(String),
        /// A qualifier, aliases resolved (`a1` -> `alpha`, `ga` -> "").
        Str(String),
        List(Vec<Item>),
    }

    const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
    /// The comparable form of "" (a release).
    const RELEASE_INDEX: &str = "5";

    fn int_item(digits: &str) -> Item {
        Item::Int(digits.trim_start_matches('0').to_owned())
    }

    fn str_item(s: &str, followed_by_digit: bool) -> Item {
        let s = if followed_by_digit && s.len() == 1 {
            match s {
                "a" => "alpha",
                "b" => "beta",
                "m" => "milestone",
                _ => s,
            }
        } else {
            s
        };
        let s = match s {
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            _ => s,
        };
        Item::Str(s.to_owned())
    }

    fn parse_item(is_digit: bool, s: &str) -> Item {
        if is_digit {
            int_item(s)
        } else {
            str_item(s, false)
        }
    }

    fn is_null(i: &Item) -> bool {
        match i {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// Trailing null items removed, stopping at the first non-list item
    /// that is not null (ListItem.normalize).
    fn normalize(list: &mut Vec<Item>) {
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            if is_null(&list[i]) {
                list.remove(i);
            } else if !matches!(list[i], Item::List(_)) {
                break;
            }
        }
    }

    /// The item tree of a version. Lists nest at each `-` and at each
    /// digit/letter transition. Java adds a new list to the current one
    /// and continues in it, never adding to an outer list again, so a
    /// stack of the open lists (outermost first) holds the same tree; each
    /// is normalised and folded into its parent at the end, innermost
    /// first, as Java pops its stack.
    pub(super) fn parse(version: &str) -> Vec<Item> {
        let v = version.to_lowercase();
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0usize;
        let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
            if let Some(l) = stack.last_mut() {
                l.push(item);
            }
        };
        for (i, c) in v.char_indices() {
            if c == '.' || c == '-' {
                let item = if i == start {
                    Item::Int(String::new())
                } else {
                    parse_item(is_digit, &v[start..i])
                };
                push(&mut stack, item);
                start = i + 1;
                if c == '-' {
                    stack.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // `1.0.0.X1 < 1.0.0-X2`: a qualifier after a dot
                    // starts a list, as after a dash (Maven 3.8).
                    if stack.last().is_some_and(|l| !l.is_empty()) {
                        stack.push(Vec::new());
                    }
                    push(&mut stack, str_item(&v[start..i], true));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    push(&mut stack, int_item(&v[start..i]));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if v.len() > start {
            if !is_digit && stack.last().is_some_and(|l| !l.is_empty()) {
                stack.push(Vec::new());
            }
            let item = parse_item(is_digit, &v[start..]);
            push(&mut stack, item);
        }
        while stack.len() > 1 {
            let mut inner = stack.pop().unwrap_or_default();
            normalize(&mut inner);
            push(&mut stack, Item::List(inner));
        }
        let mut root = stack.pop().unwrap_or_default();
        normalize(&mut root);
        root
    }

    fn cmp_int(a: &str, b: &str) -> Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    fn comparable(q: &str) -> String {
        match QUALIFIERS.iter().position(|x| *x == q) {
            Some(i) => i.to_string(),
            None => format!("{}-{q}", QUALIFIERS.len()),
        }
    }

    fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
        match a {
            Item::Int(x) => match b {
                None => {
                    if x.is_empty() {
                        Ordering::Equal
                    } else {
                        Ordering::Greater
                    }
                }
                Some(Item::Int(y)) => cmp_int(x, y),
                Some(Item::Str(_)) | Some(Item::List(_)) => Ordering::Greater,
            },
            Item::Str(x) => match b {
                None => comparable(x).as_str().cmp(RELEASE_INDEX),
                Some(Item::Int(_)) => Ordering::Less,
                Some(Item::Str(y)) => comparable(x).cmp(&comparable(y)),
                Some(Item::List(_)) => Ordering::Less,
            },
            Item::List(l) => match b {
                // `1-0.1 > 1`: the first item that is not null decides.
                None => l
                    .iter()
                    .map(|i| cmp_item(i, None))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal),
                Some(Item::Int(_)) => Ordering::Less,
                Some(Item::Str(_)) => Ordering::Greater,
                Some(Item::List(m)) => cmp_list(l, Some(m)),
            },
        }
    }

    pub(super) fn cmp_list(l: &[Item], m: Option<&Vec<Item>>) -> Ordering {
        let Some(m) = m else {
            return cmp_item(&Item::List(l.to_vec()), None);
        };
        let n = l.len().max(m.len());
        for i in 0..n {
            let r = match (l.get(i), m.get(i)) {
                (None, None) => Ordering::Equal,
                (None, Some(y)) => cmp_item(y, None).reverse(),
                (Some(x), y) => cmp_item(x, y),
            };
            if r != Ordering::Equal {
                return r;
            }
        }
        Ordering::Equal
    }
}

/// Whether `v` is a version in the order of purl type `ptype` (the ones
/// the order sorts among themselves; Maven's order takes any string).
pub fn is_valid(ptype: &str, v: &str) -> bool {
    match ptype {
        "pypi" => pep440_rs::Version::from_str(v.trim()).is_ok(),
        "npm" | "cargo" => semver_parse(v).is_some(),
        "golang" => go_parse(v).is_some(),
        _ => true,
    }
}

/// The order for a purl type, if the ecosystem has one of its own.
pub fn for_purl_type(ptype: &str) -> Option<fn(&str, &str) -> Ordering> {
    match ptype {
        "pypi" => Some(pep440_cmp),
        "npm" | "cargo" => Some(semver_cmp),
        "maven" => Some(maven_cmp),
        "golang" => Some(go_cmp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Each version of `order` is strictly less than the next one.
    fn ascending(cmp: fn(&str, &str) -> Ordering, order: &[&str]) {
        for w in order.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
            assert_eq!(cmp(w[1], w[0]), Greater, "{} > {}", w[1], w[0]);
        }
    }

    #[test]
    fn pep440() {
        let order = [
            "1.0.dev1",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0.post1",
            "1.1",
            "1!0.1",
        ];
        ascending(pep440_cmp, &order);
        assert_eq!(pep440_cmp("1.0", "1.0.0"), Equal);
        assert_eq!(pep440_cmp("1.0", "not a version"), Less);
    }

    #[test]
    fn semver_precedence() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta",
            "1.0.0-rc.1",
            "1.0.0",
            "v1.0.1",
        ];
        ascending(semver_cmp, &order);
        assert_eq!(semver_cmp("1.0.0+a", "1.0.0+b"), Equal);
    }

    #[test]
    fn go_versions() {
        let order = [
            "(devel)",
            "v0.0.0-20190101000000-abcdefabcdef",
            "v0.1.0",
            "v1",
            "v1.2.3-pre",
            "v1.2.3",
            "v2.0.0+incompatible",
        ];
        ascending(go_cmp, &order);
        assert_eq!(go_cmp("v1.2", "v1.2.0"), Equal);
        assert_eq!(
            go_cmp("v1.2-pre", "v0.0.1"),
            Less,
            "shorthand with suffix is invalid"
        );
    }

    #[test]
    fn maven_examples_of_comparable_version_doc() {
        let order = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-foo",
            "1-1",
            "1.1",
        ];
        ascending(maven_cmp, &order);
        assert_eq!(maven_cmp("1.0.0", "1"), Equal);
        assert_eq!(maven_cmp("1-ga", "1"), Equal);
        assert_eq!(maven_cmp("1a1", "1-alpha-1"), Equal);
        assert_eq!(maven_cmp("1.0-cr1", "1.0-rc1"), Equal);
        for weird in ["", "-", "..", "a", "1--1", "1.-", "0x"] {
            let _ = maven_cmp(weird, "1");
        }
    }

    /// xorshift64*: the generated versions are the same on every run.
    use crate::testutil::Rng;

    /// Version-like strings: numbers (with leading zeros, big ones),
    /// qualifiers of every ecosystem, separators, prefixes; small
    /// alphabets so that equal and nearly equal versions are frequent.
    fn generated(n: usize) -> Vec<String> {
        const NUMS: [&str; 10] = [
            "0",
            "00",
            "1",
            "01",
            "2",
            "9",
            "10",
            "20240229223000",
            "18446744073709551616",
            "",
        ];
        const WORDS: [&str; 22] = [
            "a",
            "b",
            "c",
            "m",
            "rc",
            "cr",
            "alpha",
            "beta",
            "milestone",
            "snapshot",
            "SNAPSHOT",
            "ga",
            "final",
            "release",
            "sp",
            "dev",
            "post",
            "pre",
            "foo",
            "x",
            "incompatible",
            "abcdef123456",
        ];
        const SEPS: [&str; 6] = [".", ".", ".", "-", "+", "_"];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut out = vec![String::new(), "(devel)".to_owned()];
        while out.len() < n {
            let mut v = String::new();
            match rng.below(8) {
                0 => v.push('v'),
                1 => v.push_str("1!"),
                2 => v.push(' '),
                _ => {}
            }
            for i in 0..=rng.below(6) {
                if i > 0 {
                    v.push_str(rng.pick(&SEPS));
                }
                if rng.below(3) == 0 {
                    v.push_str(rng.pick(&WORDS));
                    if rng.below(2) == 0 {
                        v.push_str(rng.pick(&NUMS));
                    }
                } else {
                    v.push_str(rng.pick(&NUMS));
                }
            }
            out.push(v);
        }
        out
    }

    /// Maven's own order is not transitive: `ComparableVersion` (3.8.7,
    /// whose order `maven_cmp` reproduces, checked by the oracle test)
    /// puts a qualifier item below a list item, an unknown qualifier above
    /// the release and a pre-release one below it, so that
    /// `"1.m00" < "1" < "1.a.2" < "1.m00"` and
    /// `"0.0" < "b_9" < "00.00-rc2-" < "0.0"`. Its cycles need a
    /// qualifier that is not the first item of its list: a version that
    /// starts with one, or one after a dot (`1.a.2`). Versions as Maven
    /// projects write them (`1.2.3`, `1.0-rc1`, `2.0-SNAPSHOT`, `1.0a1`)
    /// have none, and on those transitivity is checked.
    fn maven_like(v: &str) -> bool {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.split('.')
                .skip(1)
                .all(|part| part.starts_with(|c: char| c.is_ascii_digit()))
    }

    type Cmp = fn(&str, &str) -> Ordering;
    type Domain = fn(&str) -> bool;

    const ORDERS: [(&str, Cmp, Domain); 4] = [
        ("pep440", pep440_cmp, |_| true),
        ("semver", semver_cmp, |_| true),
        ("maven", maven_cmp, maven_like),
        ("go", go_cmp, |_| true),
    ];

    #[test]
    fn maven_has_cycles_as_comparable_version_has() {
        for [a, b, c] in [["0.0", "b_9", "00.00-rc2-"], ["1.m00", "1", "1.a.2"]] {
            assert_eq!(
                (maven_cmp(a, b), maven_cmp(b, c), maven_cmp(c, a)),
                (Less, Less, Less)
            );
            assert!(!maven_like(a) || !maven_like(b) || !maven_like(c));
        }
    }

    #[test]
    fn the_orders_are_total_on_generated_versions() {
        let all = generated(600);
        for (name, cmp, transitive_on) in ORDERS {
            // Reflexive and antisymmetric on every pair.
            for a in &all {
                assert_eq!(cmp(a, a), Equal, "{name}: {a:?}");
                for b in &all {
                    assert_eq!(cmp(a, b), cmp(b, a).reverse(), "{name}: {a:?} {b:?}");
                }
            }
            let vs: Vec<&String> = all.iter().filter(|v| transitive_on(v)).collect();
            assert!(vs.len() > 150, "{name}: {}", vs.len());
            // Transitive on triples sampled deterministically: a <= b <= c
            // gives a <= c, strict when either step is.
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            for _ in 0..40_000 {
                let [a, b, c] = [0; 3].map(|_| vs[rng.below(vs.len())]);
                let (ab, bc, ac) = (cmp(a, b), cmp(b, c), cmp(a, c));
                if ab != Greater && bc != Greater {
                    let want = if ab == Less || bc == Less {
                        Less
                    } else {
                        Equal
                    };
                    assert_eq!(ac, want, "{name}: {a:?} {ab:?} {b:?} {bc:?} {c:?}");
                }
            }
            // And over the whole set: sorted, no later version is smaller.
            let mut sorted = vs.clone();
            sorted.sort_by(|a, b| cmp(a, b));
            for (i, a) in sorted.iter().enumerate() {
                for b in &sorted[i + 1..] {
                    assert_ne!(cmp(a, b), Greater, "{name}: {a:?} {b:?}");
                }
            }
        }
    }
}
