//! `bakeproof verify`: the first-boot check (CLI side). Rules, exit codes
//! and the systemd unit: docs/boot.md; result schema:
//! schemas/boot-result.schema.json.
//!
//! Fail-closed: every step that cannot be completed is a failure. Exit 0
//! verified, 1 failed, 2 usage or configuration error, 3 IMDS or the store
//! could not be reached (also not verified).

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bakeproof_attest::{AmiRef, TrustError, TrustedKeys};
use bakeproof_boot::{FetchError, FetchRequest, SealWanted};
use bakeproof_imds::{Client, IdentityCert, ImdsConfig};
use bakeproof_index::{encode_path, is_path_encoded};
use bakeproof_sbom::cyclonedx::{PackageId, Sbom};
use bakeproof_store::StoreError;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

/// Exit codes of `bakeproof verify`, as the first-boot contract fixes them:
/// 0 verified, 1 failed, 2 could not verify. "Could not verify" covers both
/// an unreachable IMDS or store and a usage or configuration error (clap,
/// unreadable keys, mapped by `main`): in both cases nothing was proven, and a
/// unit or script only has to tell "image bad" (1) from "check impossible" (2).
pub mod code {
    pub const VERIFIED: u8 = 0;
    pub const FAILED: u8 = 1;
    /// IMDS or the store unreachable after bounded retries, the store refused
    /// (credentials, access, no bucket), or a usage/configuration error.
    pub const COULD_NOT_VERIFY: u8 = 2;
}

/// Default directory of trusted keys (`*.pub`) on the running system.
pub const DEFAULT_KEY_DIR: &str = "/etc/bakeproof/keys";

/// Paths that legitimately change between the bake and the boot (glob,
/// why): the real first-boot changes of a Debian and an Amazon Linux image.
/// They are not scanned nor hashed; the `first-boot` check walks them and
/// fails on any new executable, script, unit, cron entry or library
/// (`bakeproof_seal::firstboot`, docs/boot.md). The account files, the
/// cloud-init sudoers drop-in, `authorized_keys` and the new default user's
/// home are not here: they are judged by meaning.
pub const DEFAULT_MUTABLE: &[(&str, &str)] = bakeproof_seal::firstboot::DEFAULT_IGNORED;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Signatures, subjects, seal report, identity freshness.
    Attestation,
    /// ... and the installed packages against the attested SBOM.
    Packages,
    /// ... and every entry (content, type, target, mode, owner, ...).
    Files,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct BootVerifyArgs {
    /// The attestation store (`s3://BUCKET/PREFIX`, `file:///DIR`, a directory).
    #[arg(long, env = "BAKEPROOF_STORE", value_name = "URL")]
    store: String,
    /// S3 endpoint for S3-compatible servers (default AWS_ENDPOINT_URL_S3 /
    /// AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The store bucket's region (default AWS_REGION / AWS_DEFAULT_REGION,
    /// or the profile's).
    #[arg(long, value_name = "REGION")]
    store_region: Option<String>,
    /// Trusted public keys (cosign.pub); repeatable. Default: every `*.pub`
    /// in /etc/bakeproof/keys on the running system.
    #[arg(long, value_name = "PUB")]
    key: Vec<PathBuf>,
    /// `auto` (from IMDS) or REGION:AMI-ID.
    #[arg(long, default_value = "auto", value_name = "auto|REGION:AMI-ID")]
    ami: String,
    /// The live root filesystem to check.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    #[arg(long, value_enum, default_value_t = Level::Attestation)]
    level: Level,
    #[arg(long, value_enum, default_value_t = BootFormat::Text)]
    format: BootFormat,
    /// IMDS endpoint (default: AWS_EC2_METADATA_SERVICE_ENDPOINT, the
    /// endpoint mode, else http://169.254.169.254).
    #[arg(long, value_name = "URL")]
    imds_endpoint: Option<String>,
    /// Allow IMDSv1 when the token service refuses (off: IMDSv2 only).
    #[arg(long)]
    imds_allow_v1: bool,
    /// AWS identity certificates (PEM) for the instance identity document;
    /// when given, the document must verify and name this AMI. Repeatable.
    #[arg(long, value_name = "PEM")]
    identity_cert: Vec<PathBuf>,
    /// Seal-check ids whose warnings are tolerated (`all`: any). Failing
    /// checks are never tolerated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    allow_warn: Vec<String>,
    /// Extra expected-mutable path globs (added to the defaults).
    #[arg(long, value_name = "GLOB")]
    mutable: Vec<String>,
    /// Do not use the default expected-mutable globs.
    #[arg(long)]
    no_default_mutable: bool,
    /// Which time a live SSH host key must be newer than (docs/boot.md,
    /// ssh-host-keys): `launch`, the instance's launch (IMDS `pendingTime`:
    /// for a check run once at first boot; after a stop and start every key
    /// is older); `image`, the seal report's time (survives stop/start);
    /// `off`.
    #[arg(long, value_enum, default_value_t = HostKeyAge::Launch)]
    host_key_age: HostKeyAge,
}

/// See `--host-key-age`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyAge {
    Launch,
    Image,
    Off,
}

/// One check's outcome.
struct Check {
    id: &'static str,
    ok: bool,
    detail: String,
}

/// Failure with a class: could not verify (exit 2) or not verified (exit 1).
enum Stop {
    Unreachable(String),
    Failed(&'static str, String),
}

struct Run {
    checks: Vec<Check>,
    ami: Option<AmiRef>,
    ami_source: &'static str,
    instance: Option<bakeproof_imds::InstanceInfo>,
    tree_digest: Option<String>,
    keyid: Option<String>,
    packages: Vec<Value>,
    files: Vec<Value>,
    /// The live SSH host keys: `{path, type, fingerprint}`.
    host_keys: Vec<Value>,
}

impl Run {
    fn pass(&mut self, id: &'static str, detail: impl Into<String>) {
        self.checks.push(Check {
            id,
            ok: true,
            detail: detail.into(),
        });
    }
    fn fail(&mut self, id: &'static str, detail: impl Into<String>) {
        self.checks.push(Check {
            id,
            ok: false,
            detail: detail.into(),
        });
    }
}

fn load_keys(args: &BootVerifyArgs) -> Result<TrustedKeys> {
    let keys = if args.key.is_empty() {
        TrustedKeys::load_dir(Path::new(DEFAULT_KEY_DIR))
    } else {
        TrustedKeys::load_files(&args.key)
    };
    match keys {
        Err(TrustError::Empty) => bail!("no trusted keys (--key, or *.pub in {DEFAULT_KEY_DIR})"),
        Err(e @ TrustError::Dir { .. }) => {
            Err(e).context(format!("no --key given and {DEFAULT_KEY_DIR} unreadable"))
        }
        r => Ok(r?),
    }
}

fn load_certs(args: &BootVerifyArgs) -> Result<Vec<IdentityCert>> {
    let mut v = Vec::new();
    for p in &args.identity_cert {
        let b = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
        v.extend(IdentityCert::from_pem(&p.display().to_string(), &b)?);
    }
    Ok(v)
}

/// Failed (1) only when the store answered and what it holds is wrong or
/// missing ([`StoreError::is_integrity`]); anything else (unreachable, a
/// server error, refused, an unusable store URL or bucket name, I/O) proved
/// nothing: could not verify (2).
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
            "the SBOM and seal attestations name different tree digests".into(),
        ),
        e => Stop::Failed(e.check_id(), e.to_string()),
    }
}

pub fn run(args: BootVerifyArgs) -> Result<u8> {
    let started = Instant::now();
    // Usage/configuration errors: exit 2 before anything is checked.
    let keys = load_keys(&args)?;
    let certs = load_certs(&args)?;
    let mut mutable: Vec<String> = if args.no_default_mutable {
        Vec::new()
    } else {
        DEFAULT_MUTABLE.iter().map(|(g, _)| g.to_string()).collect()
    };
    mutable.extend(args.mutable.iter().cloned());
    let mut gb = globset::GlobSetBuilder::new();
    for g in &mutable {
        gb.add(
            globset::GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .with_context(|| format!("--mutable {g:?}"))?,
        );
    }
    let mutable_set = gb.build()?;
    let fixed_ami = if args.ami == "auto" {
        None
    } else {
        Some(AmiRef::parse(&args.ami)?)
    };
    let imds_cfg = match &args.imds_endpoint {
        Some(ep) => ImdsConfig::default().with_endpoint(ep)?,
        None => ImdsConfig::from_env()?,
    };
    let imds_cfg = ImdsConfig {
        allow_v1: args.imds_allow_v1,
        ..imds_cfg
    };

    let mut run = Run {
        checks: Vec::new(),
        ami: None,
        ami_source: if fixed_ami.is_some() {
            "argument"
        } else {
            "imds"
        },
        instance: None,
        tree_digest: None,
        keyid: None,
        packages: Vec::new(),
        files: Vec::new(),
        host_keys: Vec::new(),
    };
    let stop = verify(
        &args,
        &mut run,
        fixed_ami,
        imds_cfg,
        &keys,
        &certs,
        &mutable_set,
    )
    .err();
    let (result, exit) = match &stop {
        Some(Stop::Unreachable(msg)) => {
            run.fail("reach", msg.clone());
            ("unreachable", code::COULD_NOT_VERIFY)
        }
        Some(Stop::Failed(id, msg)) => {
            run.fail(id, msg.clone());
            ("failed", code::FAILED)
        }
        None if run.checks.iter().all(|c| c.ok) => ("verified", code::VERIFIED),
        None => ("failed", code::FAILED),
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let mut out = std::io::stdout().lock();
    match args.format {
        BootFormat::Json => {
            let doc = json!({
                "bakeproofBootResult": 1,
                "result": result,
                "exitCode": exit,
                "level": format!("{:?}", args.level).to_lowercase(),
                "ami": run.ami.as_ref().map(|a| json!({"region": a.region(), "amiId": a.ami_id(), "source": run.ami_source})),
                "instance": run.instance.as_ref().map(|i| json!({
                    "instanceId": i.instance_id,
                    "identityVerifiedBy": i.identity_verified_by,
                })),
                "store": args.store,
                "treeDigest": run.tree_digest,
                "keyid": run.keyid,
                "checks": run.checks.iter().map(|c| json!({
                    "id": c.id,
                    "status": if c.ok { "pass" } else { "fail" },
                    "detail": c.detail,
                })).collect::<Vec<_>>(),
                "hostKeys": run.host_keys,
                "differences": {"packages": run.packages, "files": run.files},
                "elapsedMs": elapsed_ms,
            });
            let mut s = serde_json::to_string_pretty(&doc)?;
            s.push('\n');
            out.write_all(s.as_bytes())?;
        }
        BootFormat::Text => {
            for c in &run.checks {
                writeln!(
                    out,
                    "{} {:<14} {}",
                    if c.ok { "PASS" } else { "FAIL" },
                    c.id,
                    c.detail
                )?;
            }
            for d in run.packages.iter().chain(run.files.iter()).take(50) {
                let name = shown_path(d)
                    .or_else(|| d["package"].as_str().map(String::from))
                    .unwrap_or_else(|| "?".into());
                writeln!(out, "  {} {name}", d["change"].as_str().unwrap_or("?"))?;
            }
            let more = (run.packages.len() + run.files.len()).saturating_sub(50);
            if more > 0 {
                writeln!(out, "  ... {more} more")?;
            }
            let ami = run
                .ami
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "?".into());
            writeln!(
                out,
                "{}: {ami} at level {:?} ({elapsed_ms} ms)",
                result.to_uppercase(),
                args.level
            )?;
        }
    }
    out.flush()?;
    Ok(exit)
}

#[allow(clippy::too_many_arguments)]
fn verify(
    args: &BootVerifyArgs,
    run: &mut Run,
    fixed_ami: Option<AmiRef>,
    imds_cfg: ImdsConfig,
    keys: &TrustedKeys,
    certs: &[IdentityCert],
    mutable: &globset::GlobSet,
) -> Result<(), Stop> {
    // 1. Which AMI this is.
    let ami = match fixed_ami {
        Some(a) => {
            run.pass("ami", format!("{a} (given)"));
            a
        }
        None => {
            let endpoint = imds_cfg.endpoint.clone();
            let client = Client::new(imds_cfg);
            let info = client.instance_info(certs).map_err(|e| {
                if e.is_unreachable() {
                    Stop::Unreachable(e.to_string())
                } else {
                    Stop::Failed("ami", e.to_string())
                }
            })?;
            let a = AmiRef::parse(&format!("{}:{}", info.region, info.ami_id))
                .map_err(|e| Stop::Failed("ami", format!("IMDS at {endpoint}: {e}")))?;
            let how = match &info.identity_verified_by {
                Some(c) => format!("identity document verified by {c}"),
                None => "identity document not checked (no --identity-cert)".into(),
            };
            run.pass(
                "ami",
                format!("{a} from IMDS, instance {} ({how})", info.instance_id),
            );
            run.instance = Some(info);
            a
        }
    };
    run.ami = Some(ami.clone());

    // 2. Index and bundles.
    let store = bakeproof_store::open_with(
        &args.store,
        &bakeproof_store::StoreOptions {
            endpoint_url: args.endpoint_url.clone(),
            region: args.store_region.clone(),
        },
    )
    .map_err(|e| store_stop(e, "opening the store"))?;
    let att = bakeproof_boot::fetch_attestations(
        store.as_ref(),
        &FetchRequest {
            ami: &ami,
            keys,
            seal: SealWanted::Required,
        },
    )
    .map_err(fetch_stop)?;
    let sbom_st = &att.sbom.statement;
    let Some(seal) = &att.seal else {
        return Err(fetch_stop(FetchError::NoSeal(ami.clone())));
    };
    let seal_st = &seal.statement;
    let keyids = &att.keyids;
    run.tree_digest = Some(format!("sha256:{}", sbom_st.tree_digest));
    run.keyid = Some(keyids.iter().cloned().collect::<Vec<_>>().join(","));
    run.pass(
        "signatures",
        format!(
            "SBOM and seal attestations signed by trusted key {}",
            run.keyid.as_deref().unwrap_or("")
        ),
    );
    run.pass("subjects", format!("{} is a subject of both", ami));

    // 3. Seal report: of the attested tree, and judged by its checks, not
    // only by its status string.
    let report = &seal_st.predicate;
    let status = report["status"].as_str().unwrap_or("");
    let allow_all = args.allow_warn.iter().any(|w| w == "all");
    let checks: Vec<&Value> = report["checks"].as_array().into_iter().flatten().collect();
    let with = |st: &str| -> Vec<String> {
        checks
            .iter()
            .filter(|c| c["status"] == st)
            .map(|c| c["id"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    let failing = with("fail");
    let odd: Vec<String> = checks
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("pass" | "warn" | "fail")))
        .map(|c| c["id"].as_str().unwrap_or("?").to_string())
        .collect();
    let warned: Vec<String> = with("warn")
        .into_iter()
        .filter(|id| !allow_all && !args.allow_warn.contains(id))
        .collect();
    let want_tree = format!("sha256:{}", sbom_st.tree_digest);
    let report_tree = report["tree_digest"].as_str().unwrap_or("");
    if report_tree != want_tree {
        run.fail(
            "seal",
            format!(
                "the seal report checked tree {report_tree:?}, the SBOM attests {want_tree}: \
                 it is another image's"
            ),
        );
    } else if status != "sealed" {
        run.fail(
            "seal",
            format!("seal report status is {status:?}, not \"sealed\""),
        );
    } else if checks.is_empty() || !odd.is_empty() {
        run.fail(
            "seal",
            format!(
                "seal report says \"sealed\" without judgeable checks{}",
                if odd.is_empty() {
                    String::new()
                } else {
                    format!(" (no pass/warn/fail status: {})", odd.join(", "))
                }
            ),
        );
    } else if !failing.is_empty() {
        run.fail(
            "seal",
            format!(
                "seal report says \"sealed\" but checks fail: {}",
                failing.join(", ")
            ),
        );
    } else if !warned.is_empty() {
        run.fail(
            "seal",
            format!(
                "seal checks warn: {} (tolerate with --allow-warn)",
                warned.join(", ")
            ),
        );
    } else {
        run.pass("seal", "sealed");
    }

    // 4. Identity freshness on the live root.
    let root = bakeproof_index::Root::open(&args.root)
        .map_err(|e| Stop::Failed("root", format!("{}: {e}", args.root.display())))?;
    match root.read_file(b"/etc/machine-id", 4096) {
        Ok(b) => {
            let s = String::from_utf8_lossy(&b).trim().to_string();
            if s.is_empty() || s == "uninitialized" {
                run.fail("machine-id", format!("/etc/machine-id is {s:?}"));
            } else {
                run.pass("machine-id", "present");
            }
        }
        Err(e) => run.fail("machine-id", format!("/etc/machine-id: {e}")),
    }
    // The attested SBOM: the host-key check needs its /etc/ssh files, the
    // package and file levels everything else.
    let attested_bytes = att.sbom_document(store.as_ref()).map_err(fetch_stop)?;
    let attested = bakeproof_sbom::cyclonedx::parse(&attested_bytes)
        .map_err(|e| Stop::Failed("signatures", format!("attested SBOM: {e}")))?;
    let attested_files = attested
        .file_map()
        .map_err(|e| Stop::Failed("signatures", format!("attested SBOM: {e}")))?;
    // The time a live host key must be newer than (seconds since the
    // epoch); `None`: not known, or not asked.
    let since = match args.host_key_age {
        HostKeyAge::Launch => run.instance.as_ref().and_then(|i| i.launch_time),
        HostKeyAge::Image => report["timestamp"]
            .as_str()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|t| t.unix_timestamp()),
        HostKeyAge::Off => None,
    };
    host_keys(
        run,
        &root,
        report,
        &attested_files,
        args.host_key_age,
        since,
    );

    // 4b. First-boot changes judged by meaning (--level files); the
    // ignored paths are left out of the live scan.
    let (live_excludes, extended) = first_boot(args, run, report);
    let mutable = extended.as_ref().unwrap_or(mutable);

    // 5. The live root against the attested SBOM.
    if args.level >= Level::Packages {
        let is_mutable = |p: &[u8]| mutable.is_match(Path::new(std::ffi::OsStr::from_bytes(p)));
        // At the package level: the package databases and the files the
        // attested packages own (no walk); at the files level the whole tree.
        let owned: Option<Vec<Vec<u8>>> = (args.level == Level::Packages).then(|| {
            attested_files
                .values()
                .filter(|f| f.package.is_some() && !is_mutable(&f.path))
                .map(|f| f.path.to_vec())
                .collect()
        });
        let live_bytes =
            crate::scan::sbom_of_root_paths(&args.root, &live_excludes, owned.as_deref())
                .map_err(|e| Stop::Failed("packages", format!("scanning the live root: {e:#}")))?;
        let live = bakeproof_sbom::cyclonedx::parse(&live_bytes)
            .map_err(|e| Stop::Failed("packages", format!("live SBOM: {e}")))?;
        run.packages = diff_packages(&attested, &live);
        if let Some(owned) = &owned {
            // Every owned file, entry by entry: the same comparison as the
            // files level, on the owned paths only.
            let wanted: std::collections::HashSet<&[u8]> =
                owned.iter().map(Vec::as_slice).collect();
            let live_files = live
                .file_map()
                .map_err(|e| Stop::Failed("packages", format!("live SBOM: {e}")))?;
            let changes = bakeproof_diff::compare_file_maps(&attested_files, &live_files, &|p| {
                !wanted.contains(p)
            });
            let purls = attested.package_purls();
            run.files = changes
                .into_iter()
                .map(|c| {
                    let pkg = attested_files
                        .get(c.path.as_slice())
                        .and_then(|f| f.package)
                        .map(|r| purls.get(r).copied().unwrap_or(r));
                    let mut v = change_value(&c);
                    v["package"] = json!(pkg);
                    v
                })
                .collect();
            let detail = format!("{} package-owned entr(y/ies) compared", owned.len());
            if run.packages.is_empty() && run.files.is_empty() {
                run.pass(
                    "packages",
                    format!("installed packages match the attested SBOM; {detail}"),
                );
            } else {
                run.fail(
                    "packages",
                    format!(
                        "{} package difference(s), {} package-owned file difference(s); {detail}",
                        run.packages.len(),
                        run.files.len()
                    ),
                );
            }
        } else if run.packages.is_empty() {
            run.pass("packages", "installed packages match the attested SBOM");
        } else {
            run.fail(
                "packages",
                format!("{} package difference(s)", run.packages.len()),
            );
        }
        if args.level >= Level::Files {
            match diff_files(&attested_files, &live, mutable, &ignored_globs(args)) {
                Ok(f) => run.files = f,
                Err(e) => return Err(Stop::Failed("files", format!("comparing files: {e}"))),
            }
            if run.files.is_empty() {
                run.pass(
                    "files",
                    "every attested entry matches and none was added (expected-mutable paths ignored)",
                );
            } else {
                run.fail("files", format!("{} file difference(s)", run.files.len()));
            }
        }
    }
    Ok(())
}

/// Largest SSH host key file read (an RSA-16384 private key is ~13 KiB).
const HOST_KEY_LIMIT: u64 = 1 << 20;

/// The `ssh-host-keys` check. A live `/etc/ssh/ssh_host_*` file fails it
/// when it is byte-identical to any `/etc/ssh/ssh_host_*` file the attested
/// SBOM lists (its SHA-256), when its public key (the `.pub` line, or the
/// one an OpenSSH private key carries) has a fingerprint the seal report
/// lists among the baked `host_keys`, when it cannot be read, or when its
/// mtime or ctime is older than the time `--host-key-age` names (such a key
/// was not made for this instance). A seal report without a `host_keys`
/// list fails it (nothing to compare with is not a pass). The live public
/// keys go to `run.host_keys` so a fleet can find duplicates.
fn host_keys(
    run: &mut Run,
    root: &bakeproof_index::Root,
    report: &Value,
    attested_files: &bakeproof_diff::FileMap<'_>,
    age: HostKeyAge,
    since: Option<i64>,
) {
    use std::os::unix::fs::MetadataExt as _;
    let Some(baked_list) = report.get("host_keys").and_then(Value::as_array) else {
        run.fail(
            "ssh-host-keys",
            "the seal report has no host_keys list: nothing to compare the live keys with",
        );
        return;
    };
    let baked: BTreeMap<String, String> = baked_list
        .iter()
        .filter_map(|k| {
            Some((
                k["fingerprint"].as_str()?.to_string(),
                k["path"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect();
    let attested: HashMap<String, String> = attested_files
        .values()
        .filter(|f| f.path.starts_with(b"/etc/ssh/ssh_host_"))
        .filter_map(|f| {
            Some((
                f.sha256?.to_ascii_lowercase(),
                bakeproof_index::escape_path(&f.path),
            ))
        })
        .collect();
    let mut problems = Vec::new();
    let mut old = Vec::new();
    let mut live = BTreeMap::new();
    let names = match root.read_dir(b"/etc/ssh") {
        Ok(n) => n,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => {
            run.fail("ssh-host-keys", format!("/etc/ssh: {e}"));
            return;
        }
    };
    for name in names.iter().filter(|n| n.starts_with(b"ssh_host_")) {
        let mut path = b"/etc/ssh/".to_vec();
        path.extend_from_slice(name);
        let shown = bakeproof_index::escape_path(&path);
        let b = match root.read_file(&path, HOST_KEY_LIMIT) {
            Ok(b) => b,
            // Not a regular file (a directory named ssh_host_*): no key.
            Err(bakeproof_index::RootError::NotRegular { .. }) => continue,
            Err(e) => {
                problems.push(format!("{shown}: {e}"));
                continue;
            }
        };
        if let Some(p) = attested.get(&bakeproof_types::Sha256Digest::of(&b).to_string()) {
            problems.push(format!("{shown} is byte-identical to the attested {p}"));
        }
        let info = if name.ends_with(b".pub") {
            bakeproof_seal::sshkey::parse_public_key_line(String::from_utf8_lossy(&b).trim())
        } else {
            bakeproof_seal::sshkey::public_from_openssh_private(&b)
        };
        if let Some(info) = &info {
            if let Some(p) = baked.get(&info.fingerprint) {
                problems.push(format!("{shown} {} (baked as {p})", info.fingerprint));
            }
            // One entry per key: the .pub file's, else the private key's.
            let stem = name.strip_suffix(b".pub").unwrap_or(name).to_vec();
            if name.ends_with(b".pub") || !live.contains_key(&stem) {
                live.insert(
                    stem,
                    json!({"path": shown, "type": info.key_type, "fingerprint": info.fingerprint}),
                );
            }
        }
        if let Some(t) = since {
            match root.metadata(&path) {
                Ok(m) if m.mtime() < t || m.ctime() < t => old.push(format!(
                    "{shown} (mtime {}, ctime {})",
                    m.mtime(),
                    m.ctime()
                )),
                Ok(_) => {}
                Err(e) => problems.push(format!("{shown}: {e}")),
            }
        }
    }
    run.host_keys = live.into_values().collect();
    let n = run.host_keys.len();
    let what = match age {
        HostKeyAge::Launch => "this instance's launch",
        HostKeyAge::Image => "the image's seal",
        HostKeyAge::Off => "",
    };
    if !old.is_empty() {
        problems.push(format!(
            "older than {what} ({}): {}",
            since.unwrap_or_default(),
            old.join(", ")
        ));
    }
    let age_note = match (age, since) {
        (HostKeyAge::Off, _) => "key age not checked (--host-key-age off)".to_string(),
        (HostKeyAge::Launch, None) => {
            "key age not checked (no launch time: --ami given, or IMDS has no pendingTime)"
                .to_string()
        }
        (HostKeyAge::Image, None) => {
            "key age not checked (the seal report has no readable timestamp)".to_string()
        }
        (_, Some(t)) => format!("none older than {what} ({t})"),
    };
    if problems.is_empty() {
        run.pass(
            "ssh-host-keys",
            format!(
                "{n} live host key(s), none among the {} baked (seal report) or the {} attested /etc/ssh/ssh_host_* file(s); {age_note}",
                baked.len(),
                attested.len()
            ),
        );
    } else {
        run.fail(
            "ssh-host-keys",
            format!(
                "baked host key reused, or stale (ghost identity): {}",
                problems.join("; ")
            ),
        );
    }
}

/// The ignored-path globs in force: the defaults (unless
/// `--no-default-mutable`) and `--mutable`.
fn ignored_globs(args: &BootVerifyArgs) -> Vec<String> {
    let mut v: Vec<String> = if args.no_default_mutable {
        Vec::new()
    } else {
        DEFAULT_MUTABLE.iter().map(|(g, _)| g.to_string()).collect()
    };
    v.extend(args.mutable.iter().cloned());
    v
}

/// The `first-boot` check (`--level files`): what changed at first boot in
/// the accounts, `sudoers.d`, `authorized_keys` (only the keys IMDS gave the
/// instance; with `--ami`, none), the new default user's home and under the
/// ignored paths, judged against the seal report's baseline. Returns the
/// live scan's excludes (the ignored paths: not read) and the globs the
/// file comparison leaves alone (the ignored paths and what was judged).
fn first_boot(
    args: &BootVerifyArgs,
    run: &mut Run,
    report: &Value,
) -> (Vec<String>, Option<globset::GlobSet>) {
    use bakeproof_seal::firstboot;
    if args.level < Level::Files {
        return (Vec::new(), None);
    }
    let ignored = ignored_globs(args);
    // The scan prunes a matching directory: the comparison must leave
    // everything below it alone too.
    let excludes: Vec<String> = ignored
        .iter()
        .filter(|g| g.starts_with('/'))
        .cloned()
        .collect();
    let mut leave: Vec<String> = ignored.clone();
    leave.extend(
        excludes
            .iter()
            .filter(|g| !g.ends_with("/**"))
            .map(|g| format!("{g}/**")),
    );
    let judge = || -> Result<(String, Vec<String>), String> {
        let baseline: firstboot::Baseline = match report.get("baseline") {
            Some(b) if !b.is_null() => serde_json::from_value(b.clone())
                .map_err(|e| format!("seal report baseline: {e}"))?,
            _ => {
                return Err(
                    "the seal report has no first-boot baseline (sealed by an older bakeproof): re-seal"
                        .into(),
                );
            }
        };
        let (keys, given) = if args.ami == "auto" {
            let cfg = match &args.imds_endpoint {
                Some(ep) => ImdsConfig::default().with_endpoint(ep),
                None => ImdsConfig::from_env(),
            }
            .map_err(|e| e.to_string())?;
            let cfg = ImdsConfig {
                allow_v1: args.imds_allow_v1,
                ..cfg
            };
            let keys = Client::new(cfg)
                .public_keys()
                .map_err(|e| format!("public keys from IMDS: {e}"))?;
            let n = keys.len();
            (keys, format!("{n} key(s) given by IMDS"))
        } else {
            (Vec::new(), "no key given (--ami: IMDS not asked)".into())
        };
        let root = bakeproof_index::Root::open(&args.root)
            .map_err(|e| format!("{}: {e}", args.root.display()))?;
        let j = firstboot::judge(&root, &baseline, &ignored, &keys).map_err(|e| e.to_string())?;
        if !j.findings.is_empty() {
            let mut shown: Vec<String> = j
                .findings
                .iter()
                .take(20)
                .map(|f| format!("{} {}: {}", f.kind, f.path, f.detail))
                .collect();
            if j.findings.len() > 20 {
                shown.push(format!("... {} more", j.findings.len() - 20));
            }
            return Err(format!(
                "{} first-boot finding(s): {}",
                j.findings.len(),
                shown.join("; ")
            ));
        }
        Ok((
            format!(
                "accounts, sudoers.d, authorized_keys ({given}) and {} entries under the ignored paths judged against the seal baseline",
                j.walked
            ),
            j.judged,
        ))
    };
    match judge() {
        Ok((detail, judged)) => {
            run.pass("first-boot", detail);
            if !args.no_default_mutable {
                leave.extend(judged.iter().map(|p| globset::escape(p)));
            }
        }
        Err(detail) => {
            run.fail("first-boot", detail);
            // Reported here; the digest comparison still sees them as
            // files unless the defaults are off.
            if !args.no_default_mutable {
                leave.extend(firstboot::JUDGED.iter().map(|p| globset::escape(p)));
            }
        }
    }
    let mut gb = globset::GlobSetBuilder::new();
    for g in &leave {
        if let Ok(g) = globset::GlobBuilder::new(g).literal_separator(true).build() {
            gb.add(g);
        }
    }
    (excludes, gb.build().ok())
}

/// Packages with a purl, by identity (the decoder's [`PackageId`], the
/// diff's) → (purl without version, qualifiers kept:
/// `pkg:deb/debian/bash?arch=amd64`; full version).
fn package_map(doc: &Sbom<'_>) -> BTreeMap<PackageId, (String, String)> {
    doc.packages()
        .filter_map(|p| {
            let purl = p.purl?;
            let (base, rest) = purl.split_once('@').unwrap_or((purl, ""));
            let quals = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
            Some((p.id(), (format!("{base}?{quals}"), p.version)))
        })
        .collect()
}

fn diff_packages(attested: &Sbom<'_>, live: &Sbom<'_>) -> Vec<Value> {
    let a = package_map(attested);
    let l = package_map(live);
    let mut out = Vec::new();
    for (id, (k, v)) in &a {
        match l.get(id) {
            None => {
                out.push(json!({"package": k, "change": "missing", "attested": v, "live": null}))
            }
            Some((_, lv)) if lv != v => {
                out.push(json!({"package": k, "change": "version", "attested": v, "live": lv}))
            }
            _ => {}
        }
    }
    for (id, (k, v)) in &l {
        if !a.contains_key(id) {
            out.push(json!({"package": k, "change": "added", "attested": null, "live": v}));
        }
    }
    out
}

/// Every entry of the live root against the attested SBOM
/// ([`bakeproof_diff::compare_entries`]), as result entries: `path`
/// and the values as the SBOM writes them, each with a `...Encoding`
/// marker (`pathEncoding`, `attestedEncoding`, `liveEncoding`: `percent`)
/// where it had to be percent-encoded, so the JSON names exact bytes.
fn diff_files(
    attested: &bakeproof_diff::FileMap<'_>,
    live: &Sbom<'_>,
    mutable: &globset::GlobSet,
    ignored: &[String],
) -> Result<Vec<Value>, bakeproof_sbom::cyclonedx::DecodeError> {
    use std::os::unix::ffi::OsStrExt as _;
    // The literal leading part of each ignored glob (`/etc/ssh/ssh_host_`
    // of `/etc/ssh/ssh_host_*`): a directory added at first boot only to
    // hold ignored paths (a new `/etc/ssh` for fresh host keys, which the
    // live scan does not read) is expected. What else it holds is still
    // compared entry by entry.
    let literal: Vec<&[u8]> = ignored
        .iter()
        .map(|g| {
            let end = g.find(['*', '?', '[', '{']).unwrap_or(g.len());
            &g.as_bytes()[..end]
        })
        .collect();
    let is_mutable = |p: &[u8]| {
        mutable.is_match(Path::new(std::ffi::OsStr::from_bytes(p)))
            || (p.ends_with(b"/")
                && literal
                    .iter()
                    .any(|l| l.len() > p.len() && l.starts_with(p)))
    };
    let changes = bakeproof_diff::compare_file_maps(attested, &live.file_map()?, &is_mutable);
    Ok(changes.iter().map(change_value).collect())
}

/// One entry difference as a result entry: `path` and the values as the
/// SBOM writes them, each with a `...Encoding` marker where it had to be
/// percent-encoded.
fn change_value(c: &bakeproof_diff::EntryChange) -> Value {
    let mut v = json!({"path": encode_path(&c.path), "change": c.change.as_str()});
    if is_path_encoded(&c.path) {
        v["pathEncoding"] = json!("percent");
    }
    for (k, x) in [("attested", &c.attested), ("live", &c.live)] {
        v[k] = json!(x.as_deref().map(encode_path));
        if x.as_deref().is_some_and(is_path_encoded) {
            v[format!("{k}Encoding")] = json!("percent");
        }
    }
    v
}

/// A result entry's path (`path` and `pathEncoding`) for text output:
/// escaped ([`bakeproof_index::escape_path`]), one token whatever the name.
fn shown_path(d: &Value) -> Option<String> {
    let p = d["path"].as_str()?;
    let raw = bakeproof_sbom::cyclonedx::decode_text(p, d["pathEncoding"] == "percent")?;
    Some(bakeproof_index::escape_path(&raw))
}
