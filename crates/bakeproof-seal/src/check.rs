//! Read-only seal checks: what would make clones of this image share an
//! identity or carry the builder's secrets.
//!
//! One scan of the root (index + package databases, with the seal's content
//! observer riding along the indexer's single read of each file) feeds every
//! check: [`check_root`] does it all; [`check_inventory`] runs the checks on
//! an inventory built elsewhere with [`crate::SealObserver`] among its
//! observers. The checks and their rules are documented in `docs/seal.md`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use bakeproof_index::{Entry, FileKind, ReadOnlyTree, encode_path};
use bakeproof_inventory::{FileVerdict, ImageScan, Inventory, ScanProblem, ScanSettings};
use serde::{Deserialize, Serialize};

use crate::secrets::{self, KEY_AUTH_KEY, KEY_HOST_KEY, KEY_NET, KEY_SECRET, OBSERVER};

/// Version of the report format (`report_version` in the JSON). Bumped on
/// any incompatible change of `schemas/seal-report.schema.json` (2: the
/// report names the tree it checked, `tree_digest`).
pub const REPORT_VERSION: u32 = 2;

/// The check ids, in report order (stable; documented in docs/seal.md).
pub const CHECK_IDS: [&str; 11] = [
    "machine-id",
    "ssh-host-keys",
    "ssh-authorized-keys",
    "cloud-init",
    "shell-history",
    "logs",
    "tmp",
    "package-cache",
    "random-seed",
    "network-identity",
    "secrets",
];

/// History files looked for in every home.
pub const HISTORY_FILES: [&str; 8] = [
    ".bash_history",
    ".zsh_history",
    ".sh_history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
    ".lesshst",
    ".viminfo",
];

/// Options of a seal check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Warnings count as failures (the report's `status` and exit code).
    pub strict: bool,
    /// Seconds since the epoch for the report's timestamp (the CLI passes
    /// `SOURCE_DATE_EPOCH`); `None`: now.
    pub timestamp: Option<i64>,
    /// Worker threads for the scan (`None`: one per core).
    pub threads: Option<usize>,
    /// Text for the report's `root` field (`None`: the root's host path).
    pub source: Option<String>,
}

/// Errors that prevent a report (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Root(#[from] bakeproof_index::RootError),
    #[error(transparent)]
    Scan(#[from] bakeproof_inventory::ScanError),
    /// The scan could not read everything a check relies on (a package
    /// database, the accounts): no report rather than one that passes on
    /// less than the whole image.
    #[error("incomplete scan: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<ScanProblem>),
    #[error("timestamp {0} is out of range")]
    Timestamp(i64),
}

/// Status of a check or of one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One thing a check found. Never contains a secret value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Path inside the root (percent-encoded when not UTF-8).
    pub path: String,
    /// Stable kind (see docs/seal.md).
    pub kind: String,
    /// Human-readable detail; secrets are masked.
    pub detail: String,
    /// `warn` or `fail`: what this finding makes its check.
    pub severity: Status,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub status: Status,
    pub findings: Vec<Finding>,
}

/// An SSH host key baked into the image, as `ssh-keygen -l` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostKey {
    /// The private key file (or the `.pub` when there is no private key).
    pub path: String,
    /// The `.pub` file, when present.
    pub public_path: Option<String>,
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`...
    #[serde(rename = "type")]
    pub key_type: Option<String>,
    pub bits: Option<u32>,
    /// `SHA256:...` exactly as `ssh-keygen -l` prints it; `None` when the
    /// key could not be parsed (legacy PEM private key without a `.pub`).
    pub fingerprint: Option<String>,
}

/// Tool that produced the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Counts of the scan behind the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub entries: u64,
    pub files: u64,
    /// Regular files that could not be read (the `secrets` check warns).
    pub errors: u64,
    /// Files not content-scanned because they are larger than the cap.
    pub files_over_size_cap: u64,
    pub size_cap_bytes: u64,
    /// Files with secret-like content that a package owns and that still
    /// match the package's digest: the distribution's, not reported.
    pub package_files_not_reported: u64,
    pub packages: u64,
}

/// Counts of check statuses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
}

/// The seal report (`schemas/seal-report.schema.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealReport {
    pub report_version: u32,
    /// `sealed` when no check fails (with `strict`: and none warns).
    pub status: String,
    pub strict: bool,
    pub root: String,
    /// `sha256:<hex>`: the tree digest (`bakeproof-tree-v2`, the SBOM's
    /// `bakeproof:tree-digest`) of the scan the checks ran on. Binds the
    /// report to the image it describes: `attest`, `verify` and `diff`
    /// refuse a report whose digest is not the SBOM's.
    pub tree_digest: String,
    pub tool: Tool,
    /// RFC 3339, UTC (`SOURCE_DATE_EPOCH` when set).
    pub timestamp: String,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    /// Every baked host key's fingerprint, so a booted instance can later
    /// prove it does not run one of them.
    pub host_keys: Vec<HostKey>,
    pub scan: ScanSummary,
    /// Bake-time facts first-boot changes are judged against
    /// ([`crate::firstboot`]); absent in reports of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::firstboot::Baseline>,
}

impl SealReport {
    /// Whether the report passes: no failure (with `strict`, no warning).
    pub fn sealed(&self) -> bool {
        self.status == "sealed"
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Exit code for the CLI: 0 sealed, 1 a check fails (or warns, strict).
    pub fn exit_code(&self) -> u8 {
        if self.sealed() { 0 } else { 1 }
    }

    /// Pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `PASS`/`WARN`/`FAIL` per check, with paths.
    pub fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "seal check of {}", self.root)?;
        for c in &self.checks {
            let tag = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            writeln!(w, "{tag} {}", c.id)?;
            for f in &c.findings {
                writeln!(w, "     {} [{}] {}", f.path, f.kind, f.detail)?;
            }
            if c.id == "secrets" && self.scan.files_over_size_cap > 0 {
                writeln!(
                    w,
                    "     {} files larger than {} bytes were not scanned for secrets",
                    self.scan.files_over_size_cap, self.scan.size_cap_bytes
                )?;
            }
        }
        writeln!(
            w,
            "{}: {} fail, {} warn, {} pass{}",
            self.status,
            self.summary.fail,
            self.summary.warn,
            self.summary.pass,
            if self.strict { " (strict)" } else { "" }
        )
    }
}

/// The scan a seal check runs: the one pipeline (`bakeproof scan`'s), with
/// the seal's content observer riding its single read of every file.
pub fn image_scan<'a>(root: &'a dyn ReadOnlyTree, opts: &CheckOptions) -> ImageScan<'a> {
    let settings = ScanSettings {
        threads: opts.threads,
        ..Default::default()
    };
    ImageScan::new(root, settings).observer(secrets::SealObserver::shared())
}

/// Scans `root` once ([`image_scan`]) and runs every check. The function
/// `seal apply`'s tests call to prove "after apply, check passes". A scan
/// that could not read a package database or the accounts is
/// [`SealError::Incomplete`]: the CLI, which reports such problems beside
/// the report, runs [`image_scan`] and [`check_inventory`] itself.
pub fn check_root(root: &dyn ReadOnlyTree, opts: &CheckOptions) -> Result<SealReport, SealError> {
    let scanned = image_scan(root, opts).run()?;
    if !scanned.problems.is_empty() {
        return Err(SealError::Incomplete(scanned.problems));
    }
    check_inventory(root, &scanned.inventory, opts)
}

/// Runs every check on an inventory whose scan had
/// [`crate::SealObserver`] among its observers. `root` is only used to
/// resolve paths (homes, `/etc/ssh`) inside the root and to read
/// `/etc/passwd`.
pub fn check_inventory(
    root: &dyn ReadOnlyTree,
    inv: &Inventory,
    opts: &CheckOptions,
) -> Result<SealReport, SealError> {
    let ts = opts.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    });
    let timestamp = time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .ok_or(SealError::Timestamp(ts))?;
    let ctx = Ctx::new(root, inv);
    let mut checks = vec![
        ctx.machine_id(),
        ctx.ssh_host_keys(),
        ctx.authorized_keys(),
        ctx.cloud_init(),
        ctx.shell_history(),
        ctx.logs(),
        ctx.tmp(),
        ctx.package_cache(),
        ctx.random_seed(),
        ctx.network_identity(),
    ];
    let (secrets, suppressed) = ctx.secrets();
    checks.push(secrets);
    let mut summary = Summary::default();
    for c in &checks {
        match c.status {
            Status::Pass => summary.pass += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
        }
    }
    let sealed = summary.fail == 0 && !(opts.strict && summary.warn > 0);
    let stats = &inv.scan.stats;
    Ok(SealReport {
        report_version: REPORT_VERSION,
        status: if sealed { "sealed" } else { "unsealed" }.into(),
        strict: opts.strict,
        root: opts.source.clone().unwrap_or_else(|| root.describe()),
        tree_digest: tree_digest_string(&inv.scan.tree_digest),
        tool: Tool {
            name: "bakeproof".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        timestamp,
        summary,
        checks,
        host_keys: ctx.host_keys(),
        scan: ScanSummary {
            entries: stats.entries,
            files: stats.files,
            errors: stats.errors,
            files_over_size_cap: inv
                .scan
                .entries
                .iter()
                .filter(|e| e.kind == FileKind::Regular && e.size > secrets::CONTENT_SIZE_CAP)
                .count() as u64,
            size_cap_bytes: secrets::CONTENT_SIZE_CAP,
            package_files_not_reported: suppressed,
            packages: inv.dbs.iter().map(|d| d.packages.len() as u64).sum(),
        },
        baseline: Some(crate::firstboot::Baseline::of_root(root)),
    })
}

/// `sha256:<hex>`, as the SBOM's `bakeproof:tree-digest` property writes it.
pub fn tree_digest_string(d: &[u8; 32]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

struct Ctx<'a> {
    root: &'a dyn ReadOnlyTree,
    inv: &'a Inventory,
    by_path: HashMap<&'a [u8], usize>,
}

fn finding(e: &Entry, kind: &str, detail: impl Into<String>, severity: Status) -> Finding {
    Finding {
        path: encode_path(&e.path),
        kind: kind.into(),
        detail: detail.into(),
        severity,
    }
}

fn result(id: &str, mut findings: Vec<Finding>) -> CheckResult {
    findings.sort_by(|a, b| (&a.path, &a.kind, &a.detail).cmp(&(&b.path, &b.kind, &b.detail)));
    findings.dedup();
    let status = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Status::Pass);
    CheckResult {
        id: id.into(),
        status,
        findings,
    }
}

fn name_of(p: &[u8]) -> &[u8] {
    p.rsplit(|&b| b == b'/').next().unwrap_or(p)
}

fn parent_of(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/') {
        Some(0) => b"/",
        Some(i) => &p[..i],
        None => b"",
    }
}

fn symlink_detail(e: &Entry) -> String {
    format!(
        "symlink to {} (not followed)",
        String::from_utf8_lossy(e.link_target.as_deref().unwrap_or(b""))
    )
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = dir.to_vec();
    if v.last() != Some(&b'/') {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    v
}

/// The seal observer's annotations of an entry.
fn annotations(e: &Entry) -> impl Iterator<Item = (&str, &str)> {
    e.annotations
        .iter()
        .filter(|a| a.observer == OBSERVER)
        .map(|a| (a.key.as_str(), a.value.as_str()))
}

impl<'a> Ctx<'a> {
    fn new(root: &'a dyn ReadOnlyTree, inv: &'a Inventory) -> Ctx<'a> {
        let by_path = inv
            .scan
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_slice(), i))
            .collect();
        Ctx { root, inv, by_path }
    }

    fn entries(&self) -> &'a [Entry] {
        &self.inv.scan.entries
    }

    /// The entry at a physical path.
    fn get(&self, p: &[u8]) -> Option<&'a Entry> {
        self.by_path.get(p).map(|&i| &self.inv.scan.entries[i])
    }

    /// A directory path as written (`/var/lib/cloud`) resolved inside the
    /// root (its physical location).
    fn dir(&self, p: &[u8]) -> Vec<u8> {
        self.root.canonicalize(p).unwrap_or_else(|_| p.to_vec())
    }

    /// Entries strictly below a physical directory.
    fn under(&self, dir: &[u8]) -> impl Iterator<Item = &'a Entry> + use<'a> {
        let mut prefix = dir.to_vec();
        if prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        self.entries()
            .iter()
            .filter(move |e| e.path.starts_with(&prefix))
    }

    /// Direct children of a physical directory.
    fn children(&self, dir: &[u8]) -> impl Iterator<Item = &'a Entry> + use<'a> {
        let dir = dir.to_vec();
        self.under(&dir)
            .filter(move |e| parent_of(&e.path) == dir.as_slice())
    }

    /// When a directory the check needs is a symlink, the walk did not
    /// descend it: a finding (never followed).
    fn dir_symlink(&self, p: &[u8], severity: Status) -> Option<Finding> {
        let e = self.get(&self.root.canonicalize_parent(p).ok()?)?;
        (e.kind == FileKind::Symlink).then(|| finding(e, "symlink", symlink_detail(e), severity))
    }

    fn machine_id(&self) -> CheckResult {
        let mut f = Vec::new();
        let etc = self.root.canonicalize_parent(b"/etc/machine-id").ok();
        if let Some(e) = etc.as_deref().and_then(|p| self.get(p)) {
            self.machine_id_file(e, &mut f);
        }
        let dbus = self
            .root
            .canonicalize_parent(b"/var/lib/dbus/machine-id")
            .ok();
        if let Some(e) = dbus.as_deref().and_then(|p| self.get(p)) {
            let to_etc = self
                .root
                .canonicalize(&e.path)
                .is_ok_and(|c| Some(&c) == etc.as_ref() || c == b"/etc/machine-id");
            if !(e.kind == FileKind::Symlink && to_etc) {
                self.machine_id_file(e, &mut f);
            }
        }
        result("machine-id", f)
    }

    fn machine_id_file(&self, e: &Entry, f: &mut Vec<Finding>) {
        match e.kind {
            FileKind::Regular if e.size > 0 => f.push(finding(
                e,
                "machine-id",
                format!(
                    "non-empty ({} bytes): every clone gets this identity",
                    e.size
                ),
                Status::Fail,
            )),
            FileKind::Regular => {}
            FileKind::Symlink => {
                // Resolved inside the root, never on the host.
                let target = self.root.canonicalize(&e.path).ok();
                if let Some(t) = target.as_deref().and_then(|t| self.get(t))
                    && t.kind == FileKind::Regular
                    && t.size > 0
                {
                    f.push(finding(
                        e,
                        "machine-id",
                        format!(
                            "symlink to {}, which is non-empty ({} bytes)",
                            encode_path(&t.path),
                            t.size
                        ),
                        Status::Fail,
                    ));
                }
            }
            k => f.push(finding(e, "machine-id", format!("a {k}"), Status::Fail)),
        }
    }

    fn ssh_dir_keys(&self) -> Vec<&'a Entry> {
        let dir = self.dir(b"/etc/ssh");
        self.children(&dir)
            .filter(|e| name_of(&e.path).starts_with(b"ssh_host_"))
            .collect()
    }

    fn ssh_host_keys(&self) -> CheckResult {
        let mut f = Vec::new();
        if let Some(s) = self.dir_symlink(b"/etc/ssh", Status::Fail) {
            f.push(s);
        }
        for e in self.ssh_dir_keys() {
            let public = e.path.ends_with(b".pub");
            let kind = if public {
                "host-public-key"
            } else {
                "host-private-key"
            };
            let key = annotations(e)
                .find(|(k, _)| *k == KEY_HOST_KEY)
                .and_then(|(_, v)| secrets::decode_key(v));
            let detail = match (&e.kind, key) {
                (FileKind::Symlink, _) => symlink_detail(e),
                (_, Some(k)) => format!(
                    "{} {} {}",
                    k.bits.map(|b| b.to_string()).unwrap_or_default(),
                    k.fingerprint,
                    crate::sshkey::display_type(&k.key_type)
                ),
                _ => "baked host key (fingerprint unknown)".into(),
            };
            f.push(finding(e, kind, detail, Status::Fail));
        }
        result("ssh-host-keys", f)
    }

    fn host_keys(&self) -> Vec<HostKey> {
        let keys = self.ssh_dir_keys();
        let info = |e: &Entry| {
            annotations(e)
                .find(|(k, _)| *k == KEY_HOST_KEY)
                .and_then(|(_, v)| secrets::decode_key(v))
        };
        let mut out = BTreeMap::new();
        for e in &keys {
            if e.kind != FileKind::Regular {
                continue;
            }
            let (base, public) = match e.path.strip_suffix(b".pub") {
                Some(b) => (b.to_vec(), true),
                None => (e.path.clone(), false),
            };
            if name_of(&base).ends_with(b"-cert") {
                continue;
            }
            let hk = out.entry(base.clone()).or_insert_with(|| HostKey {
                path: encode_path(&base),
                public_path: None,
                key_type: None,
                bits: None,
                fingerprint: None,
            });
            if public {
                hk.public_path = Some(encode_path(&e.path));
            }
            // The .pub wins; the private key's embedded public part fills in.
            if let Some(k) = info(e)
                && (public || hk.fingerprint.is_none())
            {
                hk.key_type = Some(k.key_type);
                hk.bits = k.bits;
                hk.fingerprint = Some(k.fingerprint);
            }
        }
        for (base, hk) in out.iter_mut() {
            if self.get(base).is_none() {
                hk.path = hk.public_path.clone().unwrap_or_default();
            }
        }
        out.into_values().collect()
    }

    /// Home directories (physical paths): root's and every `/etc/passwd`
    /// home, plus `/home/*`; resolved inside the root.
    fn homes(&self) -> Vec<Vec<u8>> {
        let mut homes: Vec<Vec<u8>> = vec![b"/root".to_vec()];
        if let Ok(passwd) = self.root.read_file(b"/etc/passwd", 16 << 20) {
            for line in passwd.split(|&b| b == b'\n') {
                let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
                if f.len() >= 7 && !f[0].starts_with(b"#") && f[5].starts_with(b"/") {
                    homes.push(f[5].to_vec());
                }
            }
        }
        let home = self.dir(b"/home");
        for e in self.children(&home) {
            if matches!(e.kind, FileKind::Directory | FileKind::Symlink) {
                homes.push(e.path.clone());
            }
        }
        let mut out: Vec<Vec<u8>> = Vec::new();
        for h in homes {
            let c = self.root.canonicalize(&h).unwrap_or(h);
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    fn authorized_keys(&self) -> CheckResult {
        let mut f = Vec::new();
        for h in self.homes() {
            if let Some(s) = self.dir_symlink(&join(&h, b".ssh"), Status::Warn) {
                f.push(s);
            }
        }
        for e in self.entries() {
            let name = name_of(&e.path);
            if !(matches!(name, b"authorized_keys" | b"authorized_keys2")
                && parent_of(&e.path).ends_with(b"/.ssh"))
            {
                continue;
            }
            match e.kind {
                FileKind::Symlink => {
                    f.push(finding(e, "symlink", symlink_detail(e), Status::Warn));
                }
                FileKind::Regular => {
                    for (k, v) in annotations(e) {
                        if k == KEY_AUTH_KEY
                            && let Some(key) = secrets::decode_key(v)
                        {
                            let comment = key.comment.unwrap_or_default();
                            f.push(finding(
                                e,
                                "authorized-key",
                                format!("{} {} {comment}", key.key_type, key.fingerprint)
                                    .trim_end()
                                    .to_owned(),
                                Status::Fail,
                            ));
                        }
                    }
                    if e.size > 0 && e.error.is_some() {
                        f.push(finding(e, "unreadable", "not checked", Status::Fail));
                    }
                }
                _ => {}
            }
        }
        result("ssh-authorized-keys", f)
    }

    fn cloud_init(&self) -> CheckResult {
        let mut f = Vec::new();
        if let Some(s) = self.dir_symlink(b"/var/lib/cloud", Status::Fail) {
            f.push(s);
        }
        let cloud = self.dir(b"/var/lib/cloud");
        if let Some(e) = self.get(&join(&cloud, b"instance")) {
            f.push(finding(
                e,
                "instance",
                match e.kind {
                    FileKind::Symlink => format!(
                        "current instance link to {}",
                        String::from_utf8_lossy(e.link_target.as_deref().unwrap_or(b""))
                    ),
                    _ => "current instance state".into(),
                },
                Status::Fail,
            ));
        }
        for (sub, kind) in [
            (&b"instances"[..], "instance-state"),
            (b"data", "data"),
            (b"sem", "semaphore"),
        ] {
            for e in self.children(&join(&cloud, sub)) {
                let n = self.under(&e.path).count();
                let detail = if n > 0 {
                    format!("{} with {n} entries", e.kind)
                } else {
                    e.kind.to_string()
                };
                f.push(finding(e, kind, detail, Status::Fail));
            }
        }
        for e in self.under(&cloud) {
            if name_of(&e.path) == b"boot-finished" {
                f.push(finding(
                    e,
                    "boot-finished",
                    "cloud-init believes it already ran",
                    Status::Fail,
                ));
            }
        }
        result("cloud-init", f)
    }

    fn shell_history(&self) -> CheckResult {
        let mut f = Vec::new();
        for h in self.homes() {
            for name in HISTORY_FILES {
                let Some(e) = self.get(&join(&h, name.as_bytes())) else {
                    continue;
                };
                match e.kind {
                    FileKind::Regular if e.size > 0 => f.push(finding(
                        e,
                        "history",
                        format!("{} bytes", e.size),
                        Status::Warn,
                    )),
                    FileKind::Symlink
                        if e.link_target.as_deref() != Some(b"/dev/null".as_slice()) =>
                    {
                        f.push(finding(e, "symlink", symlink_detail(e), Status::Warn))
                    }
                    _ => {}
                }
            }
        }
        result("shell-history", f)
    }

    fn logs(&self) -> CheckResult {
        let mut f = Vec::new();
        if let Some(s) = self.dir_symlink(b"/var/log", Status::Warn) {
            f.push(s);
        }
        let log = self.dir(b"/var/log");
        for e in self.under(&log) {
            if e.kind == FileKind::Regular && e.size > 0 {
                f.push(finding(e, "log", format!("{} bytes", e.size), Status::Warn));
            }
        }
        result("logs", f)
    }

    fn tmp(&self) -> CheckResult {
        let mut f = Vec::new();
        for d in [&b"/tmp"[..], b"/var/tmp"] {
            if let Some(s) = self.dir_symlink(d, Status::Warn) {
                f.push(s);
                continue;
            }
            for e in self.children(&self.dir(d)) {
                let detail = match e.kind {
                    FileKind::Directory => {
                        format!("directory with {} entries", self.under(&e.path).count())
                    }
                    FileKind::Symlink => symlink_detail(e),
                    k => format!("{k}, {} bytes", e.size),
                };
                f.push(finding(e, "tmp", detail, Status::Warn));
            }
        }
        result("tmp", f)
    }

    fn package_cache(&self) -> CheckResult {
        let mut f = Vec::new();
        let mut cache = |dir: &[u8], kind: &str, keep: &dyn Fn(&Entry) -> bool| {
            let p = self.dir(dir);
            let (mut n, mut bytes) = (0u64, 0u64);
            for e in self.under(&p) {
                if e.kind == FileKind::Regular && keep(e) {
                    n += 1;
                    bytes += e.size;
                }
            }
            if n > 0
                && let Some(d) = self.get(&p)
            {
                f.push(finding(
                    d,
                    kind,
                    format!("{n} files, {bytes} bytes"),
                    Status::Warn,
                ));
            }
        };
        let nonempty = |e: &Entry| e.size > 0;
        cache(b"/var/cache/dnf", "dnf-cache", &nonempty);
        cache(b"/var/cache/libdnf5", "dnf-cache", &nonempty);
        cache(b"/var/cache/yum", "yum-cache", &nonempty);
        cache(b"/var/cache/zypp", "zypper-cache", &nonempty);
        cache(b"/var/cache/apt/archives", "apt-archives", &|e: &Entry| {
            e.path.ends_with(b".deb")
        });
        let apt = self.dir(b"/var/cache/apt");
        cache(b"/var/cache/apt", "apt-cache", &|e: &Entry| {
            e.path.ends_with(b".bin") && parent_of(&e.path) == apt.as_slice()
        });
        let lists = self.dir(b"/var/lib/apt/lists");
        cache(b"/var/lib/apt/lists", "apt-lists", &|e: &Entry| {
            parent_of(&e.path) == lists.as_slice() && name_of(&e.path) != b"lock"
        });
        result("package-cache", f)
    }

    fn random_seed(&self) -> CheckResult {
        let mut f = Vec::new();
        for p in [
            &b"/var/lib/systemd/random-seed"[..],
            b"/var/lib/urandom/random-seed",
        ] {
            if let Ok(c) = self.root.canonicalize_parent(p)
                && let Some(e) = self.get(&c)
            {
                f.push(finding(
                    e,
                    "random-seed",
                    format!("{}, {} bytes: clones share it", e.kind, e.size),
                    Status::Warn,
                ));
            }
        }
        result("random-seed", f)
    }

    fn network_identity(&self) -> CheckResult {
        let mut f = Vec::new();
        let is_file = |e: &Entry| e.kind == FileKind::Regular && e.size > 0;
        for d in [&b"/var/lib/dhcp"[..], b"/var/lib/dhclient"] {
            for e in self.under(&self.dir(d)) {
                let n = name_of(&e.path);
                if is_file(e) && (n.ends_with(b".leases") || n.ends_with(b".lease")) {
                    f.push(finding(e, "dhcp-lease", "DHCP lease", Status::Warn));
                }
            }
        }
        for e in self.under(&self.dir(b"/var/lib/NetworkManager")) {
            let n = name_of(&e.path);
            if is_file(e) && (n.ends_with(b".lease") || n.ends_with(b".leases")) {
                f.push(finding(e, "dhcp-lease", "DHCP lease", Status::Warn));
            } else if is_file(e) && n == b"secret_key" {
                f.push(finding(
                    e,
                    "networkmanager-secret-key",
                    "per-machine key behind stable MAC and IPv6 ids",
                    Status::Warn,
                ));
            }
        }
        for d in [&b"/var/lib/dhcpcd"[..], b"/run/systemd/netif/leases"] {
            if self.root.is_running_system() && d.starts_with(b"/run") {
                continue;
            }
            for e in self.under(&self.dir(d)) {
                if is_file(e) {
                    f.push(finding(e, "dhcp-lease", "DHCP lease", Status::Warn));
                }
            }
        }
        for e in self.children(&self.dir(b"/etc/udev/rules.d")) {
            if is_file(e) && name_of(&e.path).ends_with(b"persistent-net.rules") {
                f.push(finding(
                    e,
                    "udev-persistent-net",
                    "interface names pinned to MAC addresses",
                    Status::Warn,
                ));
            }
        }
        for e in self.entries() {
            for (k, v) in annotations(e) {
                if let Some(kind) = k.strip_prefix(KEY_NET) {
                    f.push(finding(e, kind, v, Status::Warn));
                }
            }
        }
        result("network-identity", f)
    }

    /// Whether a package owns this entry and it still matches the
    /// package's digest.
    fn package_ok(&self, idx: usize) -> bool {
        !self.inv.owners[idx].is_empty()
            && self.inv.entry_verify[idx]
                .is_some_and(|v| self.inv.verify[v].verdict == FileVerdict::Ok)
    }

    fn secrets(&self) -> (CheckResult, u64) {
        let mut f = Vec::new();
        let mut suppressed = 0u64;
        for (i, e) in self.entries().iter().enumerate() {
            let mut found = Vec::new();
            for (k, v) in annotations(e) {
                if let Some(kind) = k.strip_prefix(KEY_SECRET) {
                    found.push(finding(e, kind, v, Status::Fail));
                }
            }
            if e.kind == FileKind::Regular
                && let Some(err) = &e.error
            {
                found.push(finding(
                    e,
                    "unreadable",
                    format!("not scanned: {err}"),
                    Status::Warn,
                ));
            }
            if found.is_empty() {
                continue;
            }
            if self.package_ok(i) {
                suppressed += 1;
                continue;
            }
            f.extend(found);
        }
        (result("secrets", f), suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_order_and_result() {
        assert!(Status::Fail > Status::Warn && Status::Warn > Status::Pass);
        let r = result("x", vec![]);
        assert_eq!(r.status, Status::Pass);
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent_of(b"/etc/ssh/x"), b"/etc/ssh");
        assert_eq!(parent_of(b"/etc"), b"/");
        assert_eq!(name_of(b"/etc/ssh/x"), b"x");
        assert_eq!(join(b"/", b"tmp"), b"/tmp");
        assert_eq!(join(b"/home/u", b".ssh"), b"/home/u/.ssh");
    }
}
