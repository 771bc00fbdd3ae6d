//! `bakeproof query`: which AMIs contain a package in a version range,
//! answered from the `packages` table in the package manager's own order.
//!
//! A query is one or more terms `SUBJECT [OP VERSION]...`: the subject is
//! a package name (any ecosystem) or a purl without version
//! (`pkg:deb/debian/xz-utils`, qualifiers such as `arch` must match too;
//! `pkg:...@V` is `SUBJECT = V`); a term's constraints all hold (a range:
//! `xz-utils >= 5.6.0 xz-utils < 5.6.2` is one term, the subject repeated
//! or not); a package matches when it matches any term. Versions compare
//! as each package manager compares a versioned dependency: rpm's
//! `rpmverCmp` (a constraint without a release holds for every release:
//! `= 5.6.0` holds for `5.6.0-1.fc40`), dpkg's order for `deb`, PEP 440,
//! SemVer, Maven, Go for the language ecosystems
//! (`bakeproof_diff::version_cmp`).

use std::cmp::Ordering;

use serde::Serialize;

use bakeproof_audit::constraint::{Op, rpm_dep_cmp};
use bakeproof_sbom::cyclonedx::decoder::{normalize_namespace, parse_purl};
use bakeproof_store::Store;

use crate::FleetError;
use crate::rows::PackageRow;
use crate::tables::{PartFilter, ReadStats, read_table};

/// What a term names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subject {
    Name {
        name: String,
    },
    Purl {
        ptype: String,
        namespace: String,
        name: String,
        qualifiers: Vec<(String, String)>,
    },
}

impl Subject {
    fn parse(s: &str) -> Result<(Subject, Option<String>), FleetError> {
        if s.starts_with("pkg:") {
            let p = parse_purl(s)
                .ok_or_else(|| FleetError::Invalid(format!("{s:?}: not a package URL")))?;
            Ok((
                Subject::Purl {
                    ptype: p.ptype.to_ascii_lowercase(),
                    namespace: normalize_namespace(&p.namespace),
                    name: p.name,
                    qualifiers: p.qualifiers,
                },
                p.version,
            ))
        } else {
            Ok((Subject::Name { name: s.to_owned() }, None))
        }
    }

    /// Whether the package of `row` is this subject.
    pub fn names(&self, row: &PackageRow) -> bool {
        match self {
            Subject::Name { name } => row.name.as_deref() == Some(name),
            Subject::Purl {
                ptype,
                namespace,
                name,
                qualifiers,
            } => {
                row.name.as_deref() == Some(name)
                    && row.ecosystem.as_deref().unwrap_or("") == ptype
                    && (namespace.is_empty() || row.namespace.as_deref().unwrap_or("") == namespace)
                    && qualifiers.iter().all(|(k, v)| match k.as_str() {
                        "arch" => row.arch.as_deref() == Some(v),
                        // other qualifiers (distro, repository_url...) are
                        // in the row's purl
                        _ => row.purl.as_deref().and_then(parse_purl).is_some_and(|p| {
                            p.qualifiers.iter().any(|(k2, v2)| k2 == k && v2 == v)
                        }),
                    })
            }
        }
    }

    /// The subject as written for people.
    pub fn text(&self) -> String {
        match self {
            Subject::Name { name } => name.clone(),
            Subject::Purl {
                ptype,
                namespace,
                name,
                qualifiers,
            } => {
                let mut s = format!("pkg:{ptype}/");
                if !namespace.is_empty() {
                    s.push_str(namespace);
                    s.push('/');
                }
                s.push_str(name);
                for (i, (k, v)) in qualifiers.iter().enumerate() {
                    s.push(if i == 0 { '?' } else { '&' });
                    s.push_str(&format!("{k}={v}"));
                }
                s
            }
        }
    }
}

/// `OP VERSION`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Constraint {
    #[serde(serialize_with = "op_str")]
    pub op: Op,
    pub version: String,
}

fn op_str<S: serde::Serializer>(op: &Op, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(op.as_str())
}

/// One term: a subject and the constraints that must all hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub subject: Subject,
    pub constraints: Vec<Constraint>,
}

/// A parsed query: packages matching any term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Query {
    pub terms: Vec<Term>,
}

fn split_op(tok: &str) -> Option<(Op, &str)> {
    let n = tok
        .bytes()
        .take_while(|b| matches!(b, b'<' | b'>' | b'=' | b'!'))
        .count();
    if n == 0 {
        return None;
    }
    Op::parse(&tok[..n]).map(|op| (op, &tok[n..]))
}

fn check_version(v: &str) -> Result<(), FleetError> {
    if v.is_empty() || v.len() > 256 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FleetError::Invalid(format!(
            "{v:?}: not a version (1 to 256 printable characters, no blanks)"
        )));
    }
    Ok(())
}

impl Query {
    /// Parses the words of a query (`["xz-utils >= 5.6.0", "xz-utils < 5.6.2"]`
    /// or each word apart; `NAME>=V` glued works too).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Query, FleetError> {
        let mut toks: Vec<String> = Vec::new();
        for a in args {
            for w in a.as_ref().split_whitespace() {
                // NAME>=V: the subject, then the operator and version
                match w.find(['<', '>', '=', '!']) {
                    Some(i) if i > 0 && !w.starts_with("pkg:") => {
                        toks.push(w[..i].to_owned());
                        toks.push(w[i..].to_owned());
                    }
                    _ => toks.push(w.to_owned()),
                }
            }
        }
        if toks.is_empty() {
            return Err(FleetError::Invalid(
                "an empty query: give PACKAGE [OP VERSION]... (e.g. 'xz-utils >= 5.6.0 xz-utils < 5.6.2')".into(),
            ));
        }
        let mut terms: Vec<Term> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if let Some((op, rest)) = split_op(t) {
                // an operator after a term continues it
                let Some(last) = terms.last_mut() else {
                    return Err(FleetError::Invalid(format!(
                        "{t:?}: an operator needs a package before it"
                    )));
                };
                let version = if rest.is_empty() {
                    i += 1;
                    toks.get(i).cloned().ok_or_else(|| {
                        FleetError::Invalid(format!("{t:?}: a version must follow"))
                    })?
                } else {
                    rest.to_owned()
                };
                if split_op(&version).is_some() {
                    return Err(FleetError::Invalid(format!(
                        "{t:?} {version:?}: a version must follow the operator"
                    )));
                }
                check_version(&version)?;
                last.constraints.push(Constraint { op, version });
                i += 1;
                continue;
            }
            if t.starts_with(['<', '>', '=', '!']) {
                return Err(FleetError::Invalid(format!("{t:?}: unknown operator")));
            }
            let (subject, pinned) = Subject::parse(t)?;
            let mut constraints = Vec::new();
            if let Some(v) = pinned {
                check_version(&v)?;
                constraints.push(Constraint {
                    op: Op::Eq,
                    version: v,
                });
            }
            // the same subject again continues its term (a range)
            match terms.last_mut() {
                Some(last) if last.subject == subject => last.constraints.extend(constraints),
                _ => terms.push(Term {
                    subject,
                    constraints,
                }),
            }
            i += 1;
        }
        Ok(Query { terms })
    }

    /// The term `row` matches, if any.
    pub fn matches(&self, row: &PackageRow) -> Option<usize> {
        self.terms.iter().position(|t| {
            t.subject.names(row)
                && t.constraints.iter().all(|c| {
                    let v = row.full_version.as_deref().unwrap_or("");
                    c.op.holds(compare(
                        row.ecosystem.as_deref().unwrap_or(""),
                        v,
                        &c.version,
                    ))
                })
        })
    }

    /// The query as written for people.
    pub fn text(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                let mut s = t.subject.text();
                for c in &t.constraints {
                    s.push_str(&format!(" {} {}", c.op.as_str(), c.version));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `installed` compared with a constraint's `wanted` version, in the order
/// of purl type `ptype` (see the module documentation).
pub fn compare(ptype: &str, installed: &str, wanted: &str) -> Ordering {
    match ptype {
        "rpm" => rpm_dep_cmp(installed, wanted),
        _ => bakeproof_diff::version_cmp(ptype, installed, wanted),
    }
}

/// One package of one AMI that matches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Match {
    pub region: String,
    pub ami: String,
    pub application: Option<String>,
    pub image_version: Option<String>,
    pub build_date: Option<String>,
    pub ecosystem: Option<String>,
    pub name: String,
    /// The attested version found.
    pub version: String,
    pub arch: Option<String>,
    pub purl: Option<String>,
    pub tree_digest: Option<String>,
    /// The index of the query term it matched.
    pub term: usize,
}

/// What [`run`] found.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub query: String,
    pub matches: Vec<Match>,
    /// Distinct AMIs among the matches.
    pub amis: usize,
    /// AMIs (parts of the packages table) searched.
    pub searched: u64,
    pub stats: ReadStats,
}

/// Answers `q` from the `packages` table of `store` (the parts `filter`
/// keeps), reading `threads` parts at a time.
pub fn run(
    store: &dyn Store,
    q: &Query,
    filter: &PartFilter,
    threads: usize,
) -> Result<Answer, FleetError> {
    let (parts, stats) = read_table(
        store,
        PackageRow::TABLE,
        &crate::tables::table_prefix(PackageRow::TABLE),
        filter,
        threads,
        PackageRow::from_batch,
        |region, ami, row| {
            let term = q.matches(&row)?;
            Some(Match {
                region: region.to_owned(),
                ami: ami.to_owned(),
                application: row.application,
                image_version: row.image_version,
                build_date: row.build_date,
                ecosystem: row.ecosystem,
                name: row.name.unwrap_or_default(),
                version: row.full_version.unwrap_or_default(),
                arch: row.arch,
                purl: row.purl,
                tree_digest: row.tree_digest,
                term,
            })
        },
    )?;
    let searched = parts.len() as u64;
    let mut matches: Vec<Match> = parts.into_iter().flat_map(|p| p.rows).collect();
    matches.sort();
    matches.dedup();
    let mut amis: Vec<(&str, &str)> = matches
        .iter()
        .map(|m| (m.region.as_str(), m.ami.as_str()))
        .collect();
    amis.dedup();
    Ok(Answer {
        query: q.text(),
        amis: amis.len(),
        matches,
        searched,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(eco: &str, name: &str, v: &str) -> PackageRow {
        PackageRow {
            ecosystem: Some(eco.into()),
            namespace: Some(if eco == "deb" { "debian" } else { "fedora" }.into()),
            name: Some(name.into()),
            full_version: Some(v.into()),
            arch: Some("x86_64".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_range_in_each_package_managers_order() {
        let q = Query::parse(&["xz-utils >= 5.6.0 xz-utils < 5.6.2"]).unwrap();
        assert_eq!(q.terms.len(), 1);
        assert_eq!(q.terms[0].constraints.len(), 2);
        for (v, want) in [
            ("5.4.1-0.2", false),
            ("5.6.0-0.1", true),
            ("5.6.1-1", true),
            // dpkg's order puts the revert inside the range
            ("5.6.1+really5.4.5-1", true),
            ("5.6.2-1", false),
            ("1:5.2.0-1", false),
        ] {
            assert_eq!(q.matches(&row("deb", "xz-utils", v)).is_some(), want, "{v}");
        }
        let q = Query::parse(&["xz", ">=5.6.0", "xz<5.6.2"]).unwrap();
        for (v, want) in [
            ("5.6.0-1.fc40", true),
            ("5.6.1-2.fc40", true),
            ("5.6.2-1.fc40", false),
            ("5.4.6-3.fc40", false),
            ("1:5.2-1", false),
        ] {
            assert_eq!(q.matches(&row("rpm", "xz", v)).is_some(), want, "{v}");
        }
        // rpm's dependency rule: no release in the constraint, any release
        let q = Query::parse(&["xz = 5.6.0"]).unwrap();
        assert!(q.matches(&row("rpm", "xz", "5.6.0-3.fc40")).is_some());
        assert!(q.matches(&row("deb", "xz", "5.6.0-3")).is_none());
    }

    #[test]
    fn purls_terms_and_errors() {
        let q = Query::parse(&["pkg:deb/debian/xz-utils@5.6.1-1", "openssl<3"]).unwrap();
        assert_eq!(q.terms.len(), 2);
        assert!(q.matches(&row("deb", "xz-utils", "5.6.1-1")).is_some());
        assert!(q.matches(&row("rpm", "xz-utils", "5.6.1-1")).is_none());
        assert_eq!(q.matches(&row("rpm", "openssl", "1:1.1.1k-1")), None);
        assert_eq!(q.matches(&row("rpm", "openssl", "1.1.1k-1")), Some(1));
        let q = Query::parse(&["pkg:rpm/fedora/xz?arch=aarch64"]).unwrap();
        assert!(q.matches(&row("rpm", "xz", "5.6.0-1")).is_none());
        for bad in [
            &[""][..],
            &[">= 1"],
            &["xz >="],
            &["xz >= >= 1"],
            &["xz =< 1"],
        ] {
            assert!(Query::parse(bad).is_err(), "{bad:?}");
        }
    }
}
