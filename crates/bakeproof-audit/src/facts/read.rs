//! [`Facts::read`]: every fact of a root, read through its
//! [`ReadOnlyTree`]: the packages (one scan), then sshd, the systemd units
//! and the system facts.

use bakeproof_index::ReadOnlyTree;
use bakeproof_inventory::{ImageScan, ScanSettings};

use super::packages::PackageFacts;
use super::{Facts, OsFact};
use crate::error::AuditError;

/// How [`Facts::read`] reads a root.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Also read what only a running system has (`--live`).
    pub live: bool,
    /// Walk the whole tree for its tree digest (the digest an SBOM and an
    /// attestation of the same root carry); without it only the package
    /// databases are read (as `scan --packages-only`) and the report
    /// names no tree digest.
    pub tree_digest: bool,
    /// Worker threads for the walk (`None`: one per core).
    pub threads: Option<usize>,
}

impl Facts {
    /// Reads every fact of `tree`. What cannot be read costs its own fact
    /// (`None`, and a warning), never the audit; only a walk that cannot
    /// start at all is an error.
    pub fn read(tree: &dyn ReadOnlyTree, options: &ReadOptions) -> Result<Facts, AuditError> {
        let settings = ScanSettings {
            packages_only: !options.tree_digest,
            threads: options.threads,
            ..Default::default()
        };
        let scanned = ImageScan::new(tree, settings).run()?;
        let mut facts = Facts {
            warnings: scanned.problems.iter().map(ToString::to_string).collect(),
            ..Default::default()
        };
        for db in &scanned.inventory.dbs {
            facts.warnings.extend(db.warnings.iter().cloned());
            if db.dropped > 0 {
                facts.warnings.push(format!(
                    "{}: {} records could not be read (their packages are not in the audit)",
                    db.location, db.dropped
                ));
            }
        }
        let errors = scanned.inventory.scan.stats.errors;
        if options.tree_digest && errors > 0 {
            facts.warnings.push(format!(
                "{errors} entries could not be indexed: the tree digest covers what was read"
            ));
        }
        // A database that could not be read at all leaves the packages
        // unknown, not empty.
        let db_failed = scanned
            .problems
            .iter()
            .any(|p| matches!(p, bakeproof_inventory::ScanProblem::PackageDb(_)));
        if !db_failed && !scanned.inventory.dbs.is_empty() {
            facts.packages = Some(PackageFacts::of_scan(&scanned));
        } else if !db_failed {
            facts.warnings.push("no package database found".to_owned());
        }
        facts.os = scanned.os.as_ref().map(|o| OsFact {
            id: o.id.clone(),
            version_id: o.version_id.clone(),
            pretty_name: o.pretty_name.clone(),
        });
        if options.tree_digest {
            facts.tree_digest = Some(format!(
                "sha256:{}",
                hex::encode(scanned.inventory.scan.tree_digest)
            ));
        }
        // An absent or invalid sshd_config is a fact too (`error`): the
        // sshd requirements are then `ng`.
        facts.sshd = Some(super::sshd::fact(tree));
        facts.units = Some(super::systemd::read(tree));
        // After the packages and units: the architecture prefers the
        // package database's, the firewall reads the unit states.
        super::system::read_into(tree, &mut facts, options.live)?;
        Ok(facts)
    }
}
