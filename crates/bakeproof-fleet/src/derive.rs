//! An AMI's verified attestations (and its signed lifecycle chain) as
//! table rows. Only what a trusted key signed reaches a row: the SBOM (the
//! inline predicate, or the SBOM copy checked against the signed digest),
//! the seal and audit reports of the same tree, the lifecycle records.

use bakeproof_attest::TrustedKeys;
use bakeproof_boot::{Attestations, FetchRequest, SealWanted, fetch_attestations};
use bakeproof_pkgdb::version::{Evr, parse_dpkg_version};
use bakeproof_sbom::cyclonedx::{self, vocab};
use bakeproof_store::{AmiRef, Store};

use crate::FleetError;
use crate::rows::{FileRow, ImageRow, PackageRow, SealRow};
use crate::sortkey;

/// Which optional tables to derive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableChoice {
    /// The `files` table (one row per file component: the large one).
    pub files: bool,
}

/// One AMI's rows, every table sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmiTables {
    pub ami: AmiRef,
    pub packages: Vec<PackageRow>,
    /// `None`: not derived ([`TableChoice::files`] off).
    pub files: Option<Vec<FileRow>>,
    pub seal: Vec<SealRow>,
    pub image: ImageRow,
    /// The blobs the rows derive from (index entries' SHA-256), sorted.
    pub sources: Vec<String>,
}

/// Fetches `ami`'s attestations from `store`, verifies them against
/// `keys` (fail-closed, as first boot does: [`fetch_attestations`]), reads
/// its lifecycle chain, and derives its rows.
pub fn derive(
    store: &dyn Store,
    ami: &AmiRef,
    keys: &TrustedKeys,
    choice: TableChoice,
) -> Result<AmiTables, FleetError> {
    let att = fetch_attestations(
        store,
        &FetchRequest {
            ami,
            keys,
            seal: SealWanted::IfListed,
        },
    )
    .map_err(|error| FleetError::Attestations {
        ami: ami.to_string(),
        error: Box::new(error),
    })?;
    let sbom = att
        .sbom_document(store)
        .map_err(|error| FleetError::Attestations {
            ami: ami.to_string(),
            error: Box::new(error),
        })?;
    let chain = bakeproof_lifecycle::ops::read_ami_chain(store, ami, Some(att.tree_digest()), keys)
        .map_err(|error| FleetError::Lifecycle {
            ami: ami.to_string(),
            error: Box::new(error),
        })?;
    of_attestations(&att, &sbom, Some(&chain), choice)
}

/// The rows of verified attestations `att` whose SBOM document is `sbom`
/// (pure: no store access).
pub fn of_attestations(
    att: &Attestations,
    sbom: &[u8],
    chain: Option<&bakeproof_lifecycle::AmiChain>,
    choice: TableChoice,
) -> Result<AmiTables, FleetError> {
    let ami = &att.ami;
    let doc = cyclonedx::parse(sbom)
        .map_err(|e| FleetError::Decode(format!("the signed SBOM of {ami}: {e}")))?;
    let tree = format!("sha256:{}", att.tree_digest());
    let labels = chain
        .and_then(|c| c.head())
        .map(|h| h.predicate.labels.clone())
        .unwrap_or_default();
    let sbom_sha = att.sbom.entry.sha256.clone();

    let mut packages = Vec::new();
    for c in doc.components() {
        match c.kind() {
            Some(t) if vocab::PACKAGE_TYPES.contains(&t) => {}
            _ => continue,
        }
        let Some(p) = c.package() else { continue };
        let source = c
            .properties()
            .find(|(k, _)| *k == vocab::PACKAGE_SOURCE_NAME || *k == vocab::TRIVY_SRC_NAME)
            .map(|(_, v)| v.to_owned());
        let (epoch, version, release) = split_version(&p.ptype, &p.version);
        packages.push(PackageRow {
            application: labels.application.clone(),
            image_version: labels.version.clone(),
            build_date: labels.build_date.clone(),
            tree_digest: Some(tree.clone()),
            ecosystem: non_empty(&p.ptype),
            namespace: non_empty(&p.namespace),
            name: Some(p.name.to_owned()),
            version: non_empty(&version),
            epoch,
            release,
            full_version: non_empty(&p.version),
            version_key: sortkey::version_key(&p.ptype, &p.version),
            arch: non_empty(&p.arch),
            purl: p.purl.map(str::to_owned),
            source_package: source,
            license: (!p.licenses.is_empty()).then(|| p.licenses.join(" AND ")),
            supplier: p.supplier.map(str::to_owned),
            sbom_sha256: Some(sbom_sha.clone()),
        });
    }
    packages.sort();

    let files = if choice.files {
        let mut rows = Vec::new();
        for f in doc.file_facts() {
            let f = f.map_err(|e| FleetError::Decode(format!("the signed SBOM of {ami}: {e}")))?;
            let encoded = bakeproof_index::is_path_encoded(&f.path);
            rows.push(FileRow {
                tree_digest: Some(tree.clone()),
                path: Some(bakeproof_index::encode_path(&f.path)),
                path_encoding: encoded.then(|| "percent".to_owned()),
                file_type: f.kind().map(str::to_owned),
                sha256: f.sha256.map(str::to_owned),
                mode: f.mode.map(str::to_owned),
                uid: f.uid.map(str::to_owned),
                gid: f.gid.map(str::to_owned),
                package: f.package.map(str::to_owned),
                link_target: f.link_target.as_deref().map(bakeproof_index::encode_path),
            });
        }
        rows.sort();
        Some(rows)
    } else {
        None
    };

    let mut seal = Vec::new();
    let mut seal_status = None;
    let mut baked_host_keys = Vec::new();
    if let Some(s) = &att.seal {
        let report: bakeproof_seal::SealReport =
            serde_json::from_value(s.statement.predicate.clone())
                .map_err(|e| FleetError::Decode(format!("the signed seal report of {ami}: {e}")))?;
        seal_status = Some(report.status.clone());
        for c in &report.checks {
            seal.push(SealRow {
                tree_digest: Some(tree.clone()),
                check_id: Some(c.id.clone()),
                status: Some(c.status.as_str().to_owned()),
                findings: Some(c.findings.len() as i64),
                seal_status: Some(report.status.clone()),
                seal_time: Some(report.timestamp.clone()),
                seal_sha256: Some(s.entry.sha256.clone()),
            });
        }
        baked_host_keys = report
            .host_keys
            .iter()
            .filter_map(|k| k.fingerprint.clone())
            .collect();
        baked_host_keys.sort();
        baked_host_keys.dedup();
    }
    seal.sort();

    let audit_status = att
        .audit_report()
        .and_then(|a| a.get("status"))
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let head = chain.and_then(|c| c.head());
    let image = ImageRow {
        application: labels.application.clone(),
        image_version: labels.version.clone(),
        build_date: labels.build_date.clone(),
        tree_digest: Some(tree.clone()),
        published: Some(att.index.created.clone()),
        tool_version: Some(att.index.tool_version.clone()),
        lifecycle_state: head.map(|h| h.predicate.state.as_str().to_owned()),
        lifecycle_sequence: head.map(|h| h.predicate.sequence as i64),
        lifecycle_changed: head.map(|h| h.predicate.time.clone()),
        seal_status,
        audit_status,
        packages: Some(packages.len() as i64),
        files: files.as_ref().map(|f| f.len() as i64),
        sbom_sha256: Some(sbom_sha),
        seal_sha256: att.seal.as_ref().map(|s| s.entry.sha256.clone()),
        audit_sha256: att.audit.as_ref().map(|s| s.entry.sha256.clone()),
        keyids: att.keyids.iter().cloned().collect(),
        baked_host_keys,
    };
    let mut sources: Vec<String> = att.index.entries.iter().map(|e| e.sha256.clone()).collect();
    sources.sort();
    sources.dedup();
    Ok(AmiTables {
        ami: ami.clone(),
        packages,
        files,
        seal,
        image,
        sources,
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// `(epoch, version, release)` of a full version as its ecosystem writes
/// it: rpm's `[E:]V-R`, dpkg's `[E:]UPSTREAM[-REVISION]` (the revision after
/// the last `-`); any other ecosystem's version is the version.
pub fn split_version(ptype: &str, full: &str) -> (Option<i64>, String, Option<String>) {
    match ptype {
        "rpm" => {
            let e = Evr::parse(full);
            (
                e.epoch.and_then(|x| x.parse().ok()),
                e.version.to_owned(),
                e.release.map(str::to_owned),
            )
        }
        // dpkg's own parse (`parseversion()`); a version it refuses stays whole.
        "deb" => match parse_dpkg_version(full) {
            Some(v) => (
                (v.epoch != 0 || full.contains(':')).then_some(v.epoch as i64),
                v.upstream.to_owned(),
                non_empty(v.revision),
            ),
            None => (None, full.to_owned(), None),
        },
        _ => (None, full.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_version;

    #[test]
    fn versions_split_as_each_package_manager_writes_them() {
        assert_eq!(
            split_version("deb", "1:5.6.1+really5.4.5-1"),
            (Some(1), "5.6.1+really5.4.5".into(), Some("1".into()))
        );
        assert_eq!(
            split_version("deb", "2.36-9+deb12u4"),
            (None, "2.36".into(), Some("9+deb12u4".into()))
        );
        assert_eq!(split_version("deb", "1.0"), (None, "1.0".into(), None));
        assert_eq!(
            split_version("deb", "0:1.0-1"),
            (Some(0), "1.0".into(), Some("1".into()))
        );
        // refused by dpkg (an empty revision): kept whole
        assert_eq!(split_version("deb", "1.0-"), (None, "1.0-".into(), None));
        assert_eq!(
            split_version("rpm", "5.6.0-1.fc40"),
            (None, "5.6.0".into(), Some("1.fc40".into()))
        );
        assert_eq!(
            split_version("rpm", "2:1.0-3.el9"),
            (Some(2), "1.0".into(), Some("3.el9".into()))
        );
        assert_eq!(split_version("pypi", "1.0-1"), (None, "1.0-1".into(), None));
    }
}
