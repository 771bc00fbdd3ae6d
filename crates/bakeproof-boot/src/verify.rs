//! One verification, in order: the AMI, its attestations from the store
//! (fetched and verified: [`crate::fetch_attestations`]), the seal report,
//! the live root's identity (machine-id, SSH host keys), and at the higher
//! levels the first-boot changes, the packages and the files. Every check
//! is recorded; a step that cannot be completed stops the run as a failed
//! check (exit 1) or, when IMDS or the store could not be reached, as
//! `reach` (exit 2). Fail-closed: nothing is a pass by default.

use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::time::Instant;

use bakeproof_index::Root;
use bakeproof_store::StoreError;

use bakeproof_lifecycle::boot::{BootPolicy, Enforcement, Verdict};

use crate::checks;
use crate::config::{BootConfig, HostKeyAge, Level};
use crate::fetch::{FetchError, FetchRequest, SealWanted, fetch_attestations};
use crate::report::{AmiInfo, BootReport, Check, Differences, HostKeyInfo, InstanceInfo, Outcome};

/// Why a run stopped: could not verify (exit 2) or not verified (exit 1),
/// with the check it fails.
#[derive(Debug)]
pub(crate) enum Stop {
    Unreachable(String),
    Failed(&'static str, String),
}

/// Failed only when the store answered and what it holds is wrong or
/// missing ([`StoreError::is_integrity`]); anything else (unreachable, a
/// server error, refused, an unusable store URL or bucket name, I/O)
/// proved nothing: could not verify.
fn store_stop(e: StoreError, what: &str) -> Stop {
    if e.is_integrity() {
        Stop::Failed("store", format!("{what}: {e}"))
    } else {
        Stop::Unreachable(format!("store: {what}: {e}"))
    }
}

/// A fetch-and-verify failure as the check it fails.
fn fetch_stop(e: FetchError) -> Stop {
    match e {
        FetchError::Store { what, error } => store_stop(error, &what),
        FetchError::NoSbom(_) | FetchError::NoSeal(_) => Stop::Failed(
            "signatures",
            "the index does not list both an SBOM and a seal attestation".into(),
        ),
        FetchError::TreeDigests { .. } => Stop::Failed(
            "signatures",
            "the SBOM and seal (or audit) attestations name different tree digests".into(),
        ),
        e => Stop::Failed(e.check_id(), e.to_string()),
    }
}

/// What a run has established so far.
#[derive(Default)]
struct Run {
    checks: Vec<Check>,
    ami: Option<AmiInfo>,
    instance: Option<InstanceInfo>,
    tree_digest: Option<String>,
    keyid: Option<String>,
    lifecycle: Option<bakeproof_lifecycle::boot::BootLifecycle>,
    host_keys: Vec<HostKeyInfo>,
    differences: Differences,
}

/// Verifies the instance `config` describes. Never fails: whatever could
/// not be checked is a failed check in the report ([`BootReport::result`]
/// says which outcome, [`BootReport::exit_code`] the exit code).
pub fn verify(config: &BootConfig) -> BootReport {
    let started = Instant::now();
    let mut run = Run::default();
    let stop = steps(config, &mut run).err();
    let result = match stop {
        Some(Stop::Unreachable(msg)) => {
            run.checks.push(Check::fail("reach", msg));
            Outcome::Unreachable
        }
        Some(Stop::Failed(id, msg)) => {
            run.checks.push(Check::fail(id, msg));
            Outcome::Failed
        }
        None if run.checks.iter().all(|c| c.ok) => Outcome::Verified,
        None => Outcome::Failed,
    };
    BootReport {
        bakeproof_boot_result: 1,
        result,
        exit_code: result.exit_code(),
        level: config.level,
        ami: run.ami,
        instance: run.instance,
        store: config.store.clone(),
        tree_digest: run.tree_digest,
        keyid: run.keyid,
        checks: run.checks,
        lifecycle: run.lifecycle,
        host_keys: run.host_keys,
        differences: run.differences,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

fn steps(config: &BootConfig, run: &mut Run) -> Result<(), Stop> {
    // 1. Which AMI this is.
    let resolved = crate::ami::resolve(&config.ami, &config.imds, &config.identity_certs)?;
    run.checks.push(resolved.check);
    let ami = resolved.ami.ami.clone();
    log::info!("this instance's AMI: {ami}");
    run.ami = Some(resolved.ami);
    run.instance = resolved.instance;

    // 2. Index and bundles, verified.
    let store = bakeproof_store::open_with(&config.store, &config.store_options)
        .map_err(|e| store_stop(e, "opening the store"))?;
    log::info!("fetching the attestations of {ami} from {}", config.store);
    let att = fetch_attestations(
        store.as_ref(),
        &FetchRequest {
            ami: &ami,
            keys: &config.keys,
            seal: SealWanted::Required,
        },
    )
    .map_err(fetch_stop)?;
    let Some(seal) = &att.seal else {
        return Err(fetch_stop(FetchError::NoSeal(ami.clone())));
    };
    let tree_hex = att.tree_digest().to_owned();
    log::info!("attestations verified: tree digest sha256:{tree_hex}");
    run.tree_digest = Some(format!("sha256:{tree_hex}"));
    let keyid = att.keyids.iter().cloned().collect::<Vec<_>>().join(",");
    run.checks.push(Check::pass(
        "signatures",
        format!("SBOM and seal attestations signed by trusted key {keyid}"),
    ));
    run.keyid = Some(keyid);
    run.checks.push(Check::pass(
        "subjects",
        format!("{ami} is a subject of both"),
    ));

    // 2b. The lifecycle: revoked, deprecated, required state; the status
    // document fresh, not rolled back, consistent with the records.
    if config.lifecycle.enforcement != Enforcement::Off {
        lifecycle(config, store.as_ref(), &ami, &tree_hex, run)?;
    }

    // 3. Seal report: typed, of the attested tree, judged by its checks.
    let report = checks::seal::read(&seal.statement.predicate);
    run.checks
        .push(checks::seal::judge(&report, &tree_hex, &config.allow_warn));

    // 3b. The audit report, when required: signed by a trusted key (the
    // fetch verified every bundle the index lists), of the attested tree,
    // passing. Missing is a failure, not a pass.
    if config.require_audit {
        run.checks
            .push(checks::audit::judge(att.audit_report(), &tree_hex));
    }

    // 4. Identity freshness on the live root.
    let root = Root::open(&config.root)
        .map_err(|e| Stop::Failed("root", format!("{}: {e}", config.root.display())))?;
    run.checks.push(checks::identity::machine_id(&root));
    // The attested SBOM: the host-key check needs its /etc/ssh files, the
    // package and file levels everything else.
    let attested_bytes = att.sbom_document(store.as_ref()).map_err(fetch_stop)?;
    let attested = bakeproof_diff::parse(&attested_bytes)
        .map_err(|e| Stop::Failed("signatures", format!("attested SBOM: {e}")))?;
    if attested.omits_files() {
        // Its packages are the image's, but with no file listed the host-key,
        // package-file and file checks would compare nothing: fail closed.
        return Err(Stop::Failed(
            "signatures",
            "attested SBOM: the packages-only SBOM of a scan (bakeproof:sbom:content \
             packages) lists no files and cannot verify an instance: attest and publish the \
             full SBOM"
                .into(),
        ));
    }
    let attested_files = attested
        .file_map()
        .map_err(|e| Stop::Failed("signatures", format!("attested SBOM: {e}")))?;
    let since = match config.host_key_age {
        HostKeyAge::Launch => run.instance.as_ref().and_then(|i| i.launch_time),
        HostKeyAge::Image => report.as_ref().ok().and_then(checks::seal::timestamp),
        HostKeyAge::Off => None,
    };
    let (check, live_keys) =
        checks::host_keys::check(&root, &report, &attested_files, config.host_key_age, since);
    run.checks.push(check);
    run.host_keys = live_keys;

    if config.level < Level::Packages {
        return Ok(());
    }
    // 4b. First-boot changes judged by meaning (--level files); the
    // ignored paths are left out of the live scan.
    let (excludes, leave) = if config.level >= Level::Files {
        let keys = || crate::ami::given_keys(&config.ami, &config.imds);
        let fb = checks::first_boot::check(&root, &report, &config.ignored, &keys);
        run.checks.push(fb.check);
        (fb.excludes, fb.leave)
    } else {
        (Vec::new(), config.ignored.set().clone())
    };

    // 5. The live root against the attested SBOM. At the package level:
    // the package databases and the files the attested packages own (no
    // walk); at the files level the whole tree.
    let is_left = |p: &[u8]| leave.is_match(Path::new(std::ffi::OsStr::from_bytes(p)));
    let owned: Option<Vec<Vec<u8>>> = (config.level == Level::Packages).then(|| {
        let mut paths: Vec<Vec<u8>> = attested_files
            .values()
            .filter(|f| f.package.is_some() && !is_left(&f.path))
            .map(|f| f.path.to_vec())
            .collect();
        // The files the attested language packages were found in (a jar,
        // a Go binary no package owns): the live scan reads them again to
        // catalog the same packages.
        paths.extend(
            attested
                .packages()
                .flat_map(|p| p.locations)
                .filter_map(bakeproof_index::decode_path)
                .filter(|p| !is_left(p)),
        );
        paths
    });
    let live_bytes = crate::live::sbom_of_root(
        &root,
        &config.root,
        &excludes,
        owned.as_deref(),
        &config.tool_version,
    )
    .map_err(|e| Stop::Failed("packages", format!("scanning the live root: {e}")))?;
    let live = bakeproof_diff::parse(&live_bytes)
        .map_err(|e| Stop::Failed("packages", format!("live SBOM: {e}")))?;
    let d = &mut run.differences;
    d.packages = checks::packages::diff_packages(&attested, &live);
    if let Some(owned) = &owned {
        let live_files = live
            .file_map()
            .map_err(|e| Stop::Failed("packages", format!("live SBOM: {e}")))?;
        d.files = checks::packages::diff_owned(&attested, &attested_files, &live_files, owned);
        let detail = format!("{} package-owned entr(y/ies) compared", owned.len());
        run.checks.push(if d.is_empty() {
            Check::pass(
                "packages",
                format!("installed packages match the attested SBOM; {detail}"),
            )
        } else {
            Check::fail(
                "packages",
                format!(
                    "{} package difference(s), {} package-owned file difference(s); {detail}",
                    d.packages.len(),
                    d.files.len()
                ),
            )
        });
        return Ok(());
    }
    run.checks.push(if d.packages.is_empty() {
        Check::pass("packages", "installed packages match the attested SBOM")
    } else {
        Check::fail(
            "packages",
            format!("{} package difference(s)", d.packages.len()),
        )
    });
    let live_files = live
        .file_map()
        .map_err(|e| Stop::Failed("files", format!("comparing files: {e}")))?;
    let d = &mut run.differences;
    d.files =
        checks::files::diff_files(&attested_files, &live_files, &leave, config.ignored.globs());
    run.checks.push(if d.files.is_empty() {
        Check::pass(
            "files",
            "every attested entry matches and none was added (expected-mutable paths ignored)",
        )
    } else {
        Check::fail("files", format!("{} file difference(s)", d.files.len()))
    });
    Ok(())
}

/// The `lifecycle` check, with the state file read before and written
/// after (only when the status document was accepted, never lowered).
fn lifecycle(
    config: &BootConfig,
    store: &dyn bakeproof_store::Store,
    ami: &bakeproof_attest::AmiRef,
    tree_hex: &str,
    run: &mut Run,
) -> Result<(), Stop> {
    let lc = &config.lifecycle;
    let seen = match &lc.state_file {
        Some(p) => crate::lifecycle::read_seen(p, &config.store)
            .map_err(|e| Stop::Unreachable(format!("lifecycle state file: {e}")))?,
        None => None,
    };
    let policy = BootPolicy {
        enforcement: lc.enforcement,
        require: lc.require,
        deprecated: lc.deprecated,
        seen_version: seen,
        now: bakeproof_sbom::cyclonedx::now_secs(),
    };
    log::info!("checking the lifecycle of {ami} (status version seen: {seen:?})");
    let found = bakeproof_lifecycle::boot::check(store, ami, tree_hex, &config.keys, &policy);
    let check = match found.verdict {
        Verdict::Pass => Check::pass("lifecycle", found.message.clone()),
        Verdict::Warn => Check::pass("lifecycle", format!("warning: {}", found.message)),
        Verdict::Fail => Check::fail("lifecycle", found.message.clone()),
        Verdict::Unverifiable => {
            let msg = format!("lifecycle: {}", found.message);
            run.lifecycle = Some(found);
            return Err(Stop::Unreachable(msg));
        }
    };
    let accepted = found.status_version.zip(found.status_expires.clone());
    run.lifecycle = Some(found);
    if let (Some(p), Some((version, expires))) = (&lc.state_file, accepted) {
        match crate::lifecycle::write_seen(p, &config.store, version, &expires) {
            Ok(written) => log::debug!(
                "lifecycle state file {}: version {version}{}",
                p.display(),
                if written {
                    " recorded"
                } else {
                    " already recorded"
                }
            ),
            Err(e) => {
                run.checks.push(check);
                return Err(Stop::Failed(
                    "lifecycle",
                    format!(
                        "the status document was accepted but the state file could not be written: {e}"
                    ),
                ));
            }
        }
    }
    run.checks.push(check);
    Ok(())
}
