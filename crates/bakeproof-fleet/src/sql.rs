//! The question of a [`Query`] as SQL over the `packages` table, for an
//! engine that has no package manager's order (Athena/Trino, Spark,
//! DuckDB): version ranges become plain string comparisons of
//! `version_key` ([`crate::sortkey`]), whose order is dpkg's or rpm's. So
//! the SQL covers the `deb` and `rpm` packages (the ecosystems with a key);
//! a language package's range is `bakeproof query`'s alone (a term naming
//! one by purl is refused here).

use bakeproof_audit::constraint::Op;

use crate::FleetError;
use crate::query::{Query, Subject};
use crate::sortkey;

/// The ecosystems whose versions have a sort key.
pub const KEYED: &[&str] = &["deb", "rpm"];

/// The engine the SQL is for: how the table is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Athena (Glue table `packages`, docs/fleet.md's DDL) and Trino.
    Athena,
    /// Spark SQL (a table or view `packages`).
    Spark,
    /// DuckDB (a view `packages`).
    DuckDb,
}

/// A SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn key_cond(ptype: &str, op: Op, version: &str) -> Result<String, FleetError> {
    let r = sortkey::key_range(ptype, version)
        .ok_or_else(|| FleetError::Invalid(format!("{version:?} has no {ptype} version key")))?;
    let (lo, hi) = (literal(&r.low), literal(&r.high));
    Ok(match op {
        Op::Ge => format!("version_key >= {lo}"),
        Op::Gt => format!("version_key >= {hi}"),
        Op::Lt => format!("version_key < {lo}"),
        Op::Le => format!("version_key < {hi}"),
        Op::Eq => format!("version_key >= {lo} AND version_key < {hi}"),
        Op::Ne => format!("(version_key < {lo} OR version_key >= {hi})"),
    })
}

/// The `WHERE` condition of `q`.
pub fn condition(q: &Query) -> Result<String, FleetError> {
    let mut terms = Vec::new();
    for t in &q.terms {
        let mut conds = Vec::new();
        let ptypes: Vec<&str> = match &t.subject {
            Subject::Name { name } => {
                conds.push(format!("name = {}", literal(name)));
                KEYED.to_vec()
            }
            Subject::Purl {
                ptype,
                namespace,
                name,
                qualifiers,
            } => {
                conds.push(format!("ecosystem = {}", literal(ptype)));
                if !namespace.is_empty() {
                    conds.push(format!("namespace = {}", literal(namespace)));
                }
                conds.push(format!("name = {}", literal(name)));
                for (k, v) in qualifiers {
                    if k == "arch" {
                        conds.push(format!("arch = {}", literal(v)));
                    } else {
                        return Err(FleetError::Invalid(format!(
                            "qualifier {k}: only arch has a column (the purl column has the rest)"
                        )));
                    }
                }
                if !t.constraints.is_empty() && !KEYED.contains(&ptype.as_str()) {
                    return Err(FleetError::Invalid(format!(
                        "{}: {ptype} versions have no sort key for SQL (deb and rpm do): \
                         bakeproof query answers it",
                        t.subject.text()
                    )));
                }
                vec![KEYED.iter().copied().find(|k| *k == ptype).unwrap_or("")]
            }
        };
        if !t.constraints.is_empty() {
            let mut per = Vec::new();
            for p in ptypes {
                let mut c = vec![format!("ecosystem = {}", literal(p))];
                for k in &t.constraints {
                    c.push(key_cond(p, k.op, &k.version)?);
                }
                per.push(format!("({})", c.join(" AND ")));
            }
            conds.push(format!("({})", per.join(" OR ")));
        }
        terms.push(format!("({})", conds.join(" AND ")));
    }
    Ok(terms.join("\n   OR "))
}

/// The columns the query returns (the same in every dialect and in the tests).
pub const COLUMNS: &str = "region, ami, application, image_version, ecosystem, name, full_version";

/// `SELECT ... FROM packages WHERE ...` for `dialect`.
pub fn packages_query(q: &Query, dialect: Dialect) -> Result<String, FleetError> {
    let cond = condition(q)?;
    let comment = match dialect {
        Dialect::Athena => "-- Athena/Trino: the Glue table of docs/fleet.md",
        Dialect::Spark => {
            "-- Spark SQL: packages is spark.read.parquet(STORE + '/tables/packages')"
        }
        Dialect::DuckDb => {
            "-- DuckDB: packages is read_parquet(STORE || '/tables/packages/*/*/*.parquet', hive_partitioning = true)"
        }
    };
    Ok(format!(
        "{comment}\n-- {}\nSELECT {COLUMNS}\nFROM packages\nWHERE {cond}\nORDER BY region, ami, name, full_version",
        q.text()
    ))
}
