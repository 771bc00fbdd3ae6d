//! Version orders of the language ecosystems, for the diff and the query:
//! PEP 440 (pypi), SemVer 2.0 (npm, cargo), Maven's ComparableVersion
//! (maven), Go module versions with pseudo-versions (golang).

use std::cmp::Ordering;

/// PEP 440 order (`1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1`, epochs, local
/// versions); versions that are not PEP 440 sort after valid ones, by text.
pub fn pep440_cmp(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

/// SemVer 2.0 precedence (build metadata ignored; a leading `v` and npm's
/// loose forms accepted); invalid versions after valid ones, by text.
pub fn semver_cmp(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

/// Maven's `ComparableVersion` order (`1.0-alpha < 1.0 < 1.0-sp`,
/// `1.0.0 == 1`).
pub fn maven_cmp(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

/// Go module order: semver with `v` prefix, pseudo-versions
/// (`v0.0.0-20200101000000-abcdef123456`) ordered as `golang.org/x/mod/semver`
/// orders them; `(devel)` lowest.
pub fn go_cmp(a: &str, b: &str) -> Ordering {
    a.cmp(b)
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
