//! The inventory: the filesystem index joined to the package databases.
//!
//! Package databases name files by the path the package *installed* them
//! under (`/bin/bzip2`), while the walk sees physical paths
//! (`/usr/bin/bzip2` on a usrmerged root). Every listed path is therefore
//! mapped to its physical location once, before the walk, by resolving its
//! parent directories inside the root ([`ReadOnlyTree::canonicalize_parent`]). That
//! map serves twice: during the walk it tells the [`PackageDigestObserver`]
//! which files need a digest other than SHA-256 (dpkg's MD5), so package
//! verification costs no second read; after the walk it ties every entry to
//! the packages that own it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bakeproof_index::{ContentObserver, ContentSink, Entry, FileKind, ReadOnlyTree, ScanResult};
use bakeproof_pkgdb::{DigestAlgo, Ecosystem, PackageDb};
use md5::Md5;
use sha2::Digest;

/// Identifies one package: `(database index, package index)`.
pub type PkgId = (usize, usize);

/// One file a package lists, at its physical location.
#[derive(Clone, Debug)]
pub struct Claim {
    pub pkg: PkgId,
    /// Index into the package's `files`.
    pub file: usize,
}

/// Pre-scan plan: physical path → the package files that name it.
#[derive(Debug, Default)]
pub struct OwnershipPlan {
    pub by_physical: HashMap<Vec<u8>, Vec<Claim>>,
    /// The reverse: `(package, file index)` → physical path.
    pub physical_of: HashMap<(PkgId, usize), Vec<u8>>,
    /// Paths that could not be resolved (e.g. a symlink loop in a parent).
    pub unresolvable: Vec<(PkgId, usize, String)>,
}

impl OwnershipPlan {
    /// Resolves every listed path of every package inside `root`.
    pub fn build(root: &dyn ReadOnlyTree, dbs: &[PackageDb]) -> OwnershipPlan {
        let mut plan = OwnershipPlan::default();
        plan.add(root, dbs, 0);
        plan
    }

    /// Adds the listed paths of `dbs`, which the inventory will hold from
    /// index `first` on (the language packages the walk found, after the
    /// databases read before it).
    pub fn add(&mut self, root: &dyn ReadOnlyTree, dbs: &[PackageDb], first: usize) {
        let plan = self;
        for (d, db) in dbs.iter().enumerate() {
            let d = first + d;
            for (p, pkg) in db.packages.iter().enumerate() {
                for (f, file) in pkg.files.iter().enumerate() {
                    let installed = db.diverted(&pkg.name, &file.path);
                    match root.canonicalize_parent(installed) {
                        Ok(phys) => {
                            plan.physical_of.insert(((d, p), f), phys.clone());
                            plan.by_physical.entry(phys).or_default().push(Claim {
                                pkg: (d, p),
                                file: f,
                            });
                        }
                        Err(e) => plan.unresolvable.push(((d, p), f, e.to_string())),
                    }
                }
            }
        }
    }
}

/// Observer name under which package digests are annotated.
pub const PKG_DIGEST_OBSERVER: &str = "pkg-digest";

/// Computes, during the walk, the digests package databases store in
/// algorithms other than SHA-256 (which the indexer computes for every file
/// anyway): dpkg's MD5, and for rpm MD5, SHA-1, SHA-512 and friends.
pub struct PackageDigestObserver {
    wanted: HashMap<Vec<u8>, BTreeSet<AlgoKey>>,
}

/// Digest algorithms the observer computes (SHA-256 comes from the indexer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum AlgoKey {
    Md5,
    Sha1,
    Sha224,
    Sha384,
    Sha512,
}

impl PackageDigestObserver {
    pub fn new(plan: &OwnershipPlan, dbs: &[PackageDb]) -> PackageDigestObserver {
        let mut wanted: HashMap<Vec<u8>, BTreeSet<AlgoKey>> = HashMap::new();
        for (phys, claims) in &plan.by_physical {
            for c in claims {
                let file = &dbs[c.pkg.0].packages[c.pkg.1].files[c.file];
                if let Some(d) = &file.digest
                    && let Some(k) = algo_key(d.algo)
                {
                    wanted.entry(phys.clone()).or_default().insert(k);
                }
            }
        }
        PackageDigestObserver { wanted }
    }
}

fn algo_key(a: DigestAlgo) -> Option<AlgoKey> {
    match a {
        DigestAlgo::Md5 => Some(AlgoKey::Md5),
        DigestAlgo::Sha1 => Some(AlgoKey::Sha1),
        DigestAlgo::Sha224 => Some(AlgoKey::Sha224),
        DigestAlgo::Sha384 => Some(AlgoKey::Sha384),
        DigestAlgo::Sha512 => Some(AlgoKey::Sha512),
        DigestAlgo::Sha256 => None,
    }
}

/// One running digest per algorithm a file needs; annotated under the
/// algorithm's name (`md5`, `sha1`, ...).
struct DigestSink(Vec<(&'static str, Box<dyn digest_dyn::DynDigest>)>);

mod digest_dyn {
    /// Object-safe view of the RustCrypto hashers used here.
    pub(super) trait DynDigest: Send {
        fn update(&mut self, b: &[u8]);
        fn finish_hex(self: Box<Self>) -> String;
    }
    impl<D: sha2::Digest + Send> DynDigest for D {
        fn update(&mut self, b: &[u8]) {
            sha2::Digest::update(self, b);
        }
        fn finish_hex(self: Box<Self>) -> String {
            hex::encode((*self).finalize())
        }
    }
}

impl ContentSink for DigestSink {
    fn update(&mut self, chunk: &[u8]) {
        for (_, d) in &mut self.0 {
            d.update(chunk);
        }
    }
    fn finish(self: Box<Self>) -> Vec<(String, String)> {
        self.0
            .into_iter()
            .map(|(name, d)| (name.to_owned(), d.finish_hex()))
            .collect()
    }
}

impl ContentObserver for PackageDigestObserver {
    fn name(&self) -> &'static str {
        PKG_DIGEST_OBSERVER
    }
    fn start(&self, path: &[u8], _size: u64) -> Option<Box<dyn ContentSink>> {
        let algos = self.wanted.get(path)?;
        let sinks = algos
            .iter()
            .map(|a| -> (&'static str, Box<dyn digest_dyn::DynDigest>) {
                match a {
                    AlgoKey::Md5 => ("md5", Box::new(Md5::new())),
                    AlgoKey::Sha1 => ("sha1", Box::new(sha1::Sha1::new())),
                    AlgoKey::Sha224 => ("sha224", Box::new(sha2::Sha224::new())),
                    AlgoKey::Sha384 => ("sha384", Box::new(sha2::Sha384::new())),
                    AlgoKey::Sha512 => ("sha512", Box::new(sha2::Sha512::new())),
                }
            })
            .collect();
        Some(Box::new(DigestSink(sinks)))
    }
}

/// The hex digest of an entry in `algo`, if it was computed.
fn entry_digest(e: &Entry, algo: DigestAlgo) -> Option<String> {
    match algo {
        DigestAlgo::Sha256 => e.sha256.map(hex::encode),
        other => e
            .annotation(PKG_DIGEST_OBSERVER, other.as_str())
            .map(str::to_owned),
    }
}

/// Result of checking one listed file against the package database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileVerdict {
    /// The stored digest matches.
    Ok,
    /// Differs from the database: the `RPMVERIFY_*` bits of what differs
    /// (see [`crate::rpmverify::bits`]; dpkg only ever sets `FILEDIGEST`).
    Modified(u32),
    /// Listed, absent on disk.
    Missing,
    /// Present but not readable (or changed during the scan): not checked.
    Unverifiable(String),
}

/// One line of package verification, in the package manager's order.
#[derive(Clone, Debug)]
pub struct VerifyResult {
    pub pkg: PkgId,
    /// Path as the package lists it.
    pub listed_path: Vec<u8>,
    /// Physical path inside the root.
    pub physical_path: Vec<u8>,
    pub config: bool,
    /// rpm's attribute column (`c`, `d`, `l`, ...) or a space.
    pub attr: char,
    pub ecosystem: Ecosystem,
    pub verdict: FileVerdict,
}

impl VerifyResult {
    /// The line `dpkg --verify` prints for this result (`None` when it
    /// prints nothing). Format from dpkg's `verify_output_rpm`:
    /// nine check columns, the conffile marker, the path.
    /// The path is the raw bytes, as dpkg prints it (no newline at the end).
    pub fn dpkg_line(&self) -> Option<Vec<u8>> {
        let flags = match &self.verdict {
            FileVerdict::Ok => return None,
            FileVerdict::Modified(_) => "??5??????",
            FileVerdict::Missing => "missing  ",
            // dpkg has no line for "could not read": reported separately.
            FileVerdict::Unverifiable(_) => return None,
        };
        let marker = if self.config { 'c' } else { ' ' };
        let mut l = format!("{flags} {marker} ").into_bytes();
        l.extend_from_slice(&self.listed_path);
        Some(l)
    }

    /// The line `rpm -V` prints for this result (`None` when it prints
    /// nothing): `S.5....T.  c /etc/foo.conf`, `missing   c /etc/bar`; the
    /// path is the raw bytes, as rpm prints it.
    pub fn rpm_line(&self) -> Option<Vec<u8>> {
        let mut l = match &self.verdict {
            FileVerdict::Ok | FileVerdict::Unverifiable(_) => return None,
            FileVerdict::Modified(bits) => {
                format!("{}  {} ", crate::rpmverify::verify_string(*bits), self.attr)
            }
            FileVerdict::Missing => format!("missing   {} ", self.attr),
        }
        .into_bytes();
        l.extend_from_slice(&self.listed_path);
        Some(l)
    }

    /// The package manager's own verify line for this result (raw bytes).
    pub fn native_line(&self) -> Option<Vec<u8>> {
        match self.ecosystem {
            Ecosystem::Deb => self.dpkg_line(),
            Ecosystem::Rpm => self.rpm_line(),
            // pip, npm, go, maven and cargo have no verify command whose
            // output bakeproof could match: their results are in the SBOM
            // and the JSON report only.
            _ => None,
        }
    }

    /// The package manager's check columns (`S.5....T.`, `??5??????`) for
    /// a modified file.
    pub fn detail(&self) -> Option<String> {
        match (&self.verdict, self.ecosystem) {
            (FileVerdict::Modified(_), Ecosystem::Deb) => Some("??5??????".into()),
            (FileVerdict::Modified(b), Ecosystem::Rpm) => Some(crate::rpmverify::verify_string(*b)),
            _ => None,
        }
    }

    /// Short text for the SBOM (`bakeproof:file:verify`).
    pub fn sbom_value(&self) -> String {
        match &self.verdict {
            FileVerdict::Ok => "ok".into(),
            FileVerdict::Modified(_) => "modified".into(),
            FileVerdict::Missing => "missing".into(),
            FileVerdict::Unverifiable(why) => format!("unverifiable: {why}"),
        }
    }
}

/// The joined view of a scanned root.
#[derive(Debug)]
pub struct Inventory {
    pub scan: ScanResult,
    pub dbs: Vec<PackageDb>,
    /// For each entry of `scan.entries` (same index): owning packages, sorted.
    pub owners: Vec<Vec<PkgId>>,
    /// For each entry: the listed paths that name it when they differ from
    /// the physical path (usrmerge aliases), sorted.
    pub aliases: Vec<Vec<Vec<u8>>>,
    /// Verification results, in package order then listing order.
    pub verify: Vec<VerifyResult>,
    /// For each entry: index into `verify` of its result (first claim).
    pub entry_verify: Vec<Option<usize>>,
    pub unresolvable: Vec<(PkgId, usize, String)>,
}

/// Totals for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryStats {
    pub packages: usize,
    pub owned_entries: usize,
    pub unowned_entries: usize,
    pub unowned_files: usize,
    pub modified: usize,
    pub missing: usize,
    pub unverifiable: usize,
}

impl Inventory {
    /// Joins a finished scan to the package databases. `plan` must be the
    /// one the scan's [`PackageDigestObserver`] was built from.
    pub fn join(
        scan: ScanResult,
        dbs: Vec<PackageDb>,
        plan: OwnershipPlan,
        accounts: &crate::rpmverify::Accounts,
    ) -> Inventory {
        let index: HashMap<&[u8], usize> = scan
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_slice(), i))
            .collect();
        let n = scan.entries.len();
        let mut owners: Vec<Vec<PkgId>> = vec![Vec::new(); n];
        let mut aliases: Vec<Vec<Vec<u8>>> = vec![Vec::new(); n];
        for (phys, claims) in &plan.by_physical {
            if let Some(&i) = index.get(phys.as_slice()) {
                for c in claims {
                    owners[i].push(c.pkg);
                    let listed = &dbs[c.pkg.0].packages[c.pkg.1].files[c.file].path;
                    if listed != phys {
                        aliases[i].push(listed.clone());
                    }
                }
                owners[i].sort();
                owners[i].dedup();
                aliases[i].sort();
                aliases[i].dedup();
            }
        }

        // Verification, in the package manager's order: dpkg walks
        // packages by name (then arch), rpm in database order; files in
        // listing order.
        let mut order: Vec<PkgId> = Vec::new();
        for (d, db) in dbs.iter().enumerate() {
            let mut ids: Vec<PkgId> = (0..db.packages.len()).map(|p| (d, p)).collect();
            if db.kind.ecosystem() == Ecosystem::Deb {
                ids.sort_by(|a, b| {
                    let pa = &dbs[a.0].packages[a.1];
                    let pb = &dbs[b.0].packages[b.1];
                    (&pa.name, &pa.arch).cmp(&(&pb.name, &pb.arch))
                });
            }
            order.extend(ids);
        }
        let mut verify = Vec::new();
        let mut entry_verify: Vec<Option<usize>> = vec![None; n];
        for id in order {
            let pkg = &dbs[id.0].packages[id.1];
            for (f, file) in pkg.files.iter().enumerate() {
                let Some(phys) = plan.physical_of.get(&(id, f)).cloned() else {
                    continue;
                };
                // `/.` (the first line of every dpkg .list): the root itself,
                // which is not an entry of the index.
                if phys == b"/" {
                    continue;
                }
                let at = index.get(phys.as_slice()).copied();
                if at.is_none() && !was_scanned(&scan, &index, &phys) {
                    // Excluded, or under a skipped mount: not looked at.
                    continue;
                }
                let verdict = match pkg.ecosystem {
                    // A language package's recorded files (Python's RECORD)
                    // are checked as dpkg checks its md5sums: a listed path
                    // that is gone is missing; one with a digest is compared.
                    Ecosystem::Deb
                    | Ecosystem::Pypi
                    | Ecosystem::Npm
                    | Ecosystem::Golang
                    | Ecosystem::Maven
                    | Ecosystem::Cargo => match (at, &file.digest) {
                        // Like dpkg --verify (lstat first): any listed path
                        // that is gone is missing, digest or not.
                        (None, _) => FileVerdict::Missing,
                        (Some(_), None) => continue,
                        (Some(i), Some(digest)) => {
                            let target = follow_symlink_entry(&scan.entries, &index, i);
                            check_entry(&scan.entries[target], digest.algo, &digest.hex)
                        }
                    },
                    Ecosystem::Rpm => {
                        let entry = at.map(|i| &scan.entries[i]);
                        let followed = at
                            .map(|i| follow_symlink_entry(&scan.entries, &index, i))
                            .filter(|&t| Some(t) != at)
                            .map(|t| &scan.entries[t]);
                        let digest_hex = match (entry, &file.digest) {
                            (Some(e), Some(d)) if e.error.is_none() => entry_digest(e, d.algo),
                            _ => None,
                        };
                        let shared = plan
                            .by_physical
                            .get(&phys)
                            .is_some_and(|claims| claims.iter().any(|c| c.pkg != id));
                        let check = crate::rpmverify::RpmFileCheck {
                            file,
                            entry,
                            followed,
                            digest_hex: digest_hex.as_deref(),
                            shared,
                        };
                        match crate::rpmverify::verify(&check, accounts) {
                            crate::rpmverify::RpmOutcome::Skipped => continue,
                            crate::rpmverify::RpmOutcome::Missing { printed: false } => continue,
                            crate::rpmverify::RpmOutcome::Missing { printed: true } => {
                                FileVerdict::Missing
                            }
                            crate::rpmverify::RpmOutcome::Checked(0) => FileVerdict::Ok,
                            crate::rpmverify::RpmOutcome::Checked(b) => FileVerdict::Modified(b),
                        }
                    }
                };
                if let Some(i) = at
                    && entry_verify[i].is_none()
                {
                    entry_verify[i] = Some(verify.len());
                }
                verify.push(VerifyResult {
                    pkg: id,
                    listed_path: file.path.clone(),
                    physical_path: phys,
                    config: file.config,
                    attr: crate::rpmverify::attr_char(file.flags.unwrap_or(0)),
                    ecosystem: pkg.ecosystem,
                    verdict,
                });
            }
        }
        Inventory {
            scan,
            dbs,
            owners,
            aliases,
            verify,
            entry_verify,
            unresolvable: plan.unresolvable,
        }
    }

    pub fn stats(&self) -> InventoryStats {
        let mut s = InventoryStats {
            packages: self.dbs.iter().map(|d| d.packages.len()).sum(),
            ..InventoryStats::default()
        };
        for (e, o) in self.scan.entries.iter().zip(&self.owners) {
            if o.is_empty() {
                s.unowned_entries += 1;
                if e.kind == FileKind::Regular {
                    s.unowned_files += 1;
                }
            } else {
                s.owned_entries += 1;
            }
        }
        for v in &self.verify {
            match v.verdict {
                FileVerdict::Ok => {}
                FileVerdict::Modified(_) => s.modified += 1,
                FileVerdict::Missing => s.missing += 1,
                FileVerdict::Unverifiable(_) => s.unverifiable += 1,
            }
        }
        s
    }

    /// Each package manager's own verify output (`dpkg --verify` lines for
    /// dpkg databases, `rpm -Va` lines for rpm databases), in its order;
    /// raw bytes (paths as the package lists them), without newlines.
    pub fn native_verify_lines(&self) -> Vec<Vec<u8>> {
        self.verify
            .iter()
            .filter_map(VerifyResult::native_line)
            .collect()
    }

    /// Paths of entries no package owns.
    pub fn unowned(&self) -> impl Iterator<Item = &Entry> {
        self.scan
            .entries
            .iter()
            .zip(&self.owners)
            .filter(|(_, o)| o.is_empty())
            .map(|(e, _)| e)
    }
}

/// A listed file that is a symlink on disk is checked through the link, as
/// the package managers do (they `open()` the path); the link is resolved
/// inside the index only, never on the host.
fn follow_symlink_entry(entries: &[Entry], index: &HashMap<&[u8], usize>, mut i: usize) -> usize {
    for _ in 0..bakeproof_index::MAX_SYMLINK_HOPS {
        let e = &entries[i];
        let Some(target) = (e.kind == FileKind::Symlink)
            .then_some(())
            .and(e.link_target.as_ref())
        else {
            return i;
        };
        let parent = match e.path.iter().rposition(|&b| b == b'/') {
            Some(p) => &e.path[..p],
            None => &b""[..],
        };
        let joined = if target.first() == Some(&b'/') {
            target.clone()
        } else {
            let mut j = parent.to_vec();
            j.push(b'/');
            j.extend_from_slice(target);
            j
        };
        let norm = bakeproof_index::normalize_lexically(&joined);
        match index.get(norm.as_slice()) {
            Some(&n) => i = n,
            None => return i,
        }
    }
    i
}

/// Whether the scan looked where `phys` would be: not excluded, and the
/// nearest recorded ancestor is a directory that was listed.
fn was_scanned(scan: &ScanResult, index: &HashMap<&[u8], usize>, phys: &[u8]) -> bool {
    if scan.excludes.covers(phys) {
        return false;
    }
    let mut p = phys;
    while let Some(i) = p.iter().rposition(|&b| b == b'/') {
        p = &p[..i];
        if p.is_empty() {
            return true;
        }
        if let Some(&e) = index.get(p) {
            let e = &scan.entries[e];
            return e.skipped.is_none()
                && !matches!(
                    e.error,
                    Some(bakeproof_index::EntryError::UnlistableDirectory(_))
                );
        }
    }
    true
}

fn check_entry(e: &Entry, algo: DigestAlgo, want_hex: &str) -> FileVerdict {
    if let Some(err) = &e.error {
        return FileVerdict::Unverifiable(err.to_string());
    }
    if e.kind != FileKind::Regular {
        return FileVerdict::Unverifiable(format!("is a {}, not a regular file", e.kind));
    }
    let got = match algo {
        DigestAlgo::Sha256 => e.sha256.map(hex::encode),
        DigestAlgo::Md5 => e.annotation(PKG_DIGEST_OBSERVER, "md5").map(str::to_owned),
        other => {
            return FileVerdict::Unverifiable(format!("digest algorithm {other:?} not computed"));
        }
    };
    match got {
        Some(g) if g.eq_ignore_ascii_case(want_hex) => FileVerdict::Ok,
        Some(_) => FileVerdict::Modified(crate::rpmverify::bits::FILEDIGEST),
        None => FileVerdict::Unverifiable("no digest computed".into()),
    }
}

/// Builds the digest observer for a plan, ready for [`bakeproof_index::ScanOptions`].
pub fn digest_observer(plan: &OwnershipPlan, dbs: &[PackageDb]) -> Arc<dyn ContentObserver> {
    Arc::new(PackageDigestObserver::new(plan, dbs))
}
