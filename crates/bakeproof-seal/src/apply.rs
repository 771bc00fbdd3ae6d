//! Seal operations: what `bakeproof seal apply` changes in an image root.
//!
//! [`plan`] looks (read-only) and lists every change; [`apply`] carries a
//! plan out. Both work through descriptors opened relative to the root with
//! no symlink ever followed (see `apply/fsat.rs`): a root whose `tmp` links
//! to the host's `/tmp`, or whose `var/log/x` links to a host file, never
//! costs the host anything. Operation ids match the `seal check` ids they
//! fix. The rules are documented in `docs/seal-apply.md`.

mod fsat;

use std::collections::{BTreeSet, HashSet};
use std::os::fd::OwnedFd;
use std::sync::Arc;

use bakeproof_index::Root;
use rustix::fs::{FileType, Stat};
use serde::{Serialize, Serializer};

use fsat::{DirError, MOUNT_REASON, RootFd, kind, lstat, size};

/// One seal operation (its id is the `seal check` id it makes pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpId {
    MachineId,
    SshHostKeys,
    SshAuthorizedKeys,
    CloudInit,
    ShellHistory,
    Logs,
    Tmp,
    PackageCache,
    RandomSeed,
    NetworkIdentity,
}

impl OpId {
    /// Every operation, in the order they are planned and applied.
    pub const ALL: [OpId; 10] = [
        OpId::MachineId,
        OpId::SshHostKeys,
        OpId::SshAuthorizedKeys,
        OpId::CloudInit,
        OpId::ShellHistory,
        OpId::Logs,
        OpId::Tmp,
        OpId::PackageCache,
        OpId::RandomSeed,
        OpId::NetworkIdentity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpId::MachineId => "machine-id",
            OpId::SshHostKeys => "ssh-host-keys",
            OpId::SshAuthorizedKeys => "ssh-authorized-keys",
            OpId::CloudInit => "cloud-init",
            OpId::ShellHistory => "shell-history",
            OpId::Logs => "logs",
            OpId::Tmp => "tmp",
            OpId::PackageCache => "package-cache",
            OpId::RandomSeed => "random-seed",
            OpId::NetworkIdentity => "network-identity",
        }
    }
}

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OpId {
    type Err = ApplyError;
    fn from_str(s: &str) -> Result<OpId, ApplyError> {
        OpId::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ApplyError::UnknownOperation(s.to_owned()))
    }
}

/// Which operations to plan, and for whom.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Only these operations (`None`: all of them).
    pub only: Option<Vec<OpId>>,
    /// Never these operations (applied after `only`).
    pub skip: Vec<OpId>,
    /// Users whose `authorized_keys` are emptied. `None`: every user with a
    /// home under `/home`, every `/etc/passwd` user with uid >= 1000, and the
    /// usual cloud build users (`ec2-user`, `ubuntu`, `admin`, `centos`,
    /// `fedora`, `debian`) when present; never root unless listed here.
    pub users: Option<Vec<String>>,
}

impl ApplyOptions {
    /// The operations selected, in application order.
    pub fn selected(&self) -> Vec<OpId> {
        OpId::ALL
            .into_iter()
            .filter(|o| self.only.as_ref().is_none_or(|only| only.contains(o)))
            .filter(|o| !self.skip.contains(o))
            .collect()
    }
}

/// Errors that stop planning altogether.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "unknown seal operation {0:?} (known: machine-id, ssh-host-keys, ssh-authorized-keys, cloud-init, shell-history, logs, tmp, package-cache, random-seed, network-identity)"
    )]
    UnknownOperation(String),
    #[error("cannot open root {path}: {source}")]
    Root {
        path: String,
        source: std::io::Error,
    },
}

/// What a step does to its path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Truncate a regular file to 0 bytes (inode, owner and mode kept).
    Truncate,
    /// Empty a regular file that has other hard links (its content is
    /// shared, maybe with a file outside the root): a new empty file of the
    /// same owner and mode replaces it; the other links keep their content.
    ReplaceEmpty,
    /// Unlink a file or a symlink (the link itself, never its target).
    Remove,
    /// Remove a directory and everything below it (same filesystem only).
    RemoveTree,
    /// Replace a file with a symlink to `target`.
    Symlink { target: String },
    /// Nothing is done here, for the reason given (a symlink that is never
    /// followed, a mount point...). Not a failure.
    Leave { reason: String },
    /// The operation cannot do what it must here without breaking a safety
    /// rule or because of an error; counts as a failure.
    Refuse { reason: String },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Truncate => "truncate",
            Action::ReplaceEmpty => "replace-empty",
            Action::Remove => "remove",
            Action::RemoveTree => "remove-tree",
            Action::Symlink { .. } => "symlink",
            Action::Leave { .. } => "leave",
            Action::Refuse { .. } => "refuse",
        }
    }

    /// Whether this step changes the root.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::Leave { .. } | Action::Refuse { .. })
    }
}

fn ser_path<S: Serializer>(p: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display(p))
}

/// `etc/machine-id` -> `/etc/machine-id` (lossy UTF-8, for display).
fn display(rel: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(rel))
}

/// One planned change (or a note that a path is left alone).
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub op: OpId,
    /// Root-relative path without the leading `/` (serialised with it).
    #[serde(serialize_with = "ser_path")]
    pub path: Vec<u8>,
    #[serde(flatten)]
    pub action: Action,
    /// Bytes this step frees, as seen when planning.
    pub bytes: u64,
}

impl Step {
    /// The path as shown to people (`/etc/machine-id`).
    pub fn display_path(&self) -> String {
        display(&self.path)
    }
}

/// Every change `apply` would make, in order.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub operations: Vec<OpId>,
    pub steps: Vec<Step>,
    /// The root directory's descriptor the plan was made on; [`apply`]
    /// changes that directory, never whatever the root's path names by then.
    #[serde(skip)]
    rfd: Arc<RootFd>,
}

impl Plan {
    /// Steps that change something.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action.is_change())
    }

    /// Bytes the changes would free.
    pub fn bytes(&self) -> u64 {
        self.changes().map(|s| s.bytes).sum()
    }

    /// The plan as a JSON document (`mode`: `dry-run` or `plan`); see
    /// docs/seal-apply.md.
    pub fn to_json(&self, root: &str, mode: &str) -> String {
        let doc = serde_json::json!({
            "root": root,
            "mode": mode,
            "operations": self.operations,
            "changes": self.changes().count(),
            "bytes": self.bytes(),
            "steps": self.steps,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// Steps refused at planning time (each is a failure of apply).
    pub fn refused(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Refuse { .. }))
            .count()
    }
}

/// What happened to one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Applied {
        bytes_freed: u64,
    },
    /// The path was already gone when applying.
    AlreadyGone,
    /// Left alone by design (see the step's reason).
    Left,
    Failed {
        error: String,
    },
}

/// One step and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    #[serde(flatten)]
    pub step: Step,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What `apply` did.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyReport {
    pub results: Vec<StepResult>,
}

impl ApplyReport {
    pub fn failures(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
            .count()
    }

    pub fn bytes_freed(&self) -> u64 {
        self.results
            .iter()
            .map(|r| match r.outcome {
                Outcome::Applied { bytes_freed } => bytes_freed,
                _ => 0,
            })
            .sum()
    }

    /// The report as a JSON document; see docs/seal-apply.md.
    pub fn to_json(&self, root: &str, operations: &[OpId]) -> String {
        let doc = serde_json::json!({
            "root": root,
            "mode": "apply",
            "operations": operations,
            "status": if self.ok() { "applied" } else { "failed" },
            "failures": self.failures(),
            "bytes_freed": self.bytes_freed(),
            "results": self.results,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// True when every change was applied (or its path was already gone).
    pub fn ok(&self) -> bool {
        self.failures() == 0
    }
}

/// Looks at `root` (read-only) and lists every change the selected
/// operations would make.
pub fn plan(root: &Root, opts: &ApplyOptions) -> Result<Plan, ApplyError> {
    let rfd = Arc::new(RootFd::open(root).map_err(|e| ApplyError::Root {
        path: root.host_path().display().to_string(),
        source: e,
    })?);
    let operations = opts.selected();
    let mut p = Planner {
        root,
        rfd: &rfd,
        steps: Vec::new(),
        claimed: HashSet::new(),
    };
    for op in &operations {
        match op {
            OpId::MachineId => p.machine_id(),
            OpId::SshHostKeys => p.ssh_host_keys(),
            OpId::SshAuthorizedKeys => p.authorized_keys(opts.users.as_deref()),
            OpId::CloudInit => p.cloud_init(),
            OpId::ShellHistory => p.shell_history(),
            OpId::Logs => p.logs(),
            OpId::Tmp => p.tmp(),
            OpId::PackageCache => p.package_cache(),
            OpId::RandomSeed => p.random_seed(),
            OpId::NetworkIdentity => p.network_identity(),
        }
    }
    let steps = p.steps;
    Ok(Plan {
        operations,
        steps,
        rfd,
    })
}

/// Carries out `plan` on the root directory it was made on (the
/// descriptor [`plan`] opened; `root`'s path is not resolved again). Every
/// path is re-opened through descriptors (no symlink followed, no mount
/// point entered); a failure is recorded for its path and the rest goes on.
pub fn apply(_root: &Root, plan: &Plan) -> ApplyReport {
    let rfd = &plan.rfd;
    let results = plan
        .steps
        .iter()
        .map(|step| {
            let outcome = match &step.action {
                Action::Leave { .. } => Outcome::Left,
                Action::Refuse { reason } => Outcome::Failed {
                    error: reason.clone(),
                },
                action => apply_step(rfd, step, action),
            };
            StepResult {
                step: step.clone(),
                outcome,
            }
        })
        .collect();
    ApplyReport { results }
}

fn split(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (b"", rel),
    }
}

fn apply_step(rfd: &RootFd, step: &Step, action: &Action) -> Outcome {
    let (parent, name) = split(&step.path);
    let dir = match rfd.open_dir(parent) {
        Ok(d) => d,
        Err(DirError::Missing) => return Outcome::AlreadyGone,
        Err(e) => {
            return Outcome::Failed {
                error: dir_error_text(&e),
            };
        }
    };
    let shown = step.display_path();
    let r = match action {
        Action::Truncate | Action::ReplaceEmpty => fsat::truncate(&dir, name),
        Action::Remove => fsat::remove(&dir, name, &shown, false),
        Action::RemoveTree => fsat::remove(&dir, name, &shown, true),
        Action::Symlink { target } => {
            fsat::replace_with_symlink(&dir, name, target.as_bytes()).map(Some)
        }
        Action::Leave { .. } | Action::Refuse { .. } => unreachable!("handled by apply"),
    };
    match r {
        Ok(Some(bytes_freed)) => Outcome::Applied { bytes_freed },
        Ok(None) => Outcome::AlreadyGone,
        Err(error) => Outcome::Failed { error },
    }
}

fn dir_error_text(e: &DirError) -> String {
    match e {
        DirError::Missing => "does not exist".into(),
        DirError::Symlink(p) => format!("{} is a symlink (never followed)", display(p)),
        DirError::NotDir(p) => format!("{} is not a directory", display(p)),
        DirError::Mount(p) => format!("{} is a {MOUNT_REASON}", display(p)),
        DirError::Io(e) => std::io::Error::from(*e).to_string(),
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = dir.to_vec();
    if !v.is_empty() {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    v
}

const HISTORY_FILES: [&[u8]; 8] = [
    b".bash_history",
    b".zsh_history",
    b".sh_history",
    b".python_history",
    b".mysql_history",
    b".psql_history",
    b".lesshst",
    b".viminfo",
];

const CLOUD_BUILD_USERS: [&str; 6] = ["ec2-user", "ubuntu", "admin", "centos", "fedora", "debian"];

/// A user of the root's `/etc/passwd`.
struct PasswdUser {
    name: String,
    uid: u32,
    home: Vec<u8>,
}

struct Planner<'a> {
    root: &'a Root,
    rfd: &'a RootFd,
    steps: Vec<Step>,
    /// Paths some earlier step already handles (cloud-init's logs are
    /// removed by `cloud-init`, not truncated again by `logs`).
    claimed: HashSet<Vec<u8>>,
}

impl Planner<'_> {
    fn push(&mut self, op: OpId, path: Vec<u8>, action: Action, bytes: u64) {
        if action.is_change() && !self.claimed.insert(path.clone()) {
            return;
        }
        self.steps.push(Step {
            op,
            path,
            action,
            bytes,
        });
    }

    fn leave(&mut self, op: OpId, path: Vec<u8>, reason: impl Into<String>) {
        self.push(
            op,
            path,
            Action::Leave {
                reason: reason.into(),
            },
            0,
        );
    }

    fn refuse(&mut self, op: OpId, path: Vec<u8>, reason: impl Into<String>) {
        self.push(
            op,
            path,
            Action::Refuse {
                reason: reason.into(),
            },
            0,
        );
    }

    /// Opens a directory the operation works in. Absent: `None`, nothing to
    /// do. Reached through a symlink: left alone (never followed), noted as
    /// a refusal when `must` (identity state the check fails on) or a plain
    /// note otherwise.
    fn dir(&mut self, op: OpId, rel: &[u8], must: bool) -> Option<OwnedFd> {
        match self.rfd.open_dir(rel) {
            Ok(fd) => Some(fd),
            Err(DirError::Missing) => None,
            Err(DirError::Symlink(p)) => {
                let why = "a symlink; never followed, nothing under it is touched";
                if must {
                    self.refuse(op, p, why);
                } else {
                    self.leave(op, p, why);
                }
                None
            }
            Err(DirError::NotDir(p)) => {
                self.leave(op, p, "not a directory");
                None
            }
            Err(DirError::Mount(p)) => {
                self.leave(op, p, MOUNT_REASON);
                None
            }
            Err(e @ DirError::Io(_)) => {
                self.refuse(op, rel.to_vec(), dir_error_text(&e));
                None
            }
        }
    }

    /// The entries of `fd` (the directory `rel`), mount points left out
    /// (each noted as left alone: never entered nor changed).
    fn entries(&mut self, op: OpId, rel: &[u8], fd: &OwnedFd) -> Vec<(Vec<u8>, Stat)> {
        match fsat::list(fd) {
            Ok(e) => e
                .into_iter()
                .filter(|(name, _)| {
                    let mount = fsat::is_mount_point(fd, name);
                    if mount {
                        self.leave(op, join(rel, name), MOUNT_REASON);
                    }
                    !mount
                })
                .collect(),
            Err(e) => {
                self.refuse(op, rel.to_vec(), std::io::Error::from(e).to_string());
                Vec::new()
            }
        }
    }

    /// `lstat` of `name` in `dir`; `None` when absent, and for a mount point
    /// (noted as left alone).
    fn stat(&mut self, op: OpId, dir: &OwnedFd, rel: &[u8], name: &[u8]) -> Option<Stat> {
        match lstat(dir, name) {
            Ok(Some(_)) if fsat::is_mount_point(dir, name) => {
                self.leave(op, join(rel, name), MOUNT_REASON);
                None
            }
            Ok(st) => st,
            Err(e) => {
                self.refuse(op, join(rel, name), std::io::Error::from(e).to_string());
                None
            }
        }
    }

    /// Removes an entry of `dir`: a directory on the same filesystem as a
    /// tree, a mount point is left, anything else is unlinked.
    fn remove_entry(&mut self, op: OpId, dir: &OwnedFd, rel: &[u8], name: &[u8], st: &Stat) {
        let path = join(rel, name);
        if fsat::is_mount_point(dir, name) {
            self.leave(op, path, MOUNT_REASON);
            return;
        }
        if kind(st) == FileType::Directory {
            let bytes = fsat::tree_size(dir, name, st, 0);
            self.push(op, path, Action::RemoveTree, bytes);
        } else {
            self.push(op, path, Action::Remove, fsat::freed_by_unlink(st));
        }
    }

    /// Every entry of `rel` that `keep` does not keep is removed.
    fn remove_contents(&mut self, op: OpId, rel: &[u8], keep: impl Fn(&[u8], &Stat) -> bool) {
        let Some(fd) = self.dir(op, rel, false) else {
            return;
        };
        for (name, st) in self.entries(op, rel, &fd) {
            if !keep(&name, &st) {
                self.remove_entry(op, &fd, rel, &name, &st);
            }
        }
    }

    /// Empties the regular file `path`: truncated in place, or, when it has
    /// other hard links, replaced by a new empty file (never truncating
    /// content another path shares).
    fn empty_file(&mut self, op: OpId, path: Vec<u8>, st: &Stat) {
        if st.st_nlink > 1 {
            self.push(op, path, Action::ReplaceEmpty, 0);
        } else {
            self.push(op, path, Action::Truncate, size(st));
        }
    }

    /// Truncates `name` of `rel` when it is a non-empty regular file; a
    /// symlink there is left alone.
    fn truncate_file(&mut self, op: OpId, fd: &OwnedFd, rel: &[u8], name: &[u8]) {
        let Some(st) = self.stat(op, fd, rel, name) else {
            return;
        };
        match kind(&st) {
            FileType::RegularFile if size(&st) > 0 => self.empty_file(op, join(rel, name), &st),
            FileType::RegularFile => {}
            FileType::Symlink => self.leave(op, join(rel, name), "a symlink; never followed"),
            _ => self.leave(op, join(rel, name), "not a regular file"),
        }
    }

    fn machine_id(&mut self) {
        let op = OpId::MachineId;
        if let Some(etc) = self.dir(op, b"etc", true) {
            // Absent stays absent: systemd treats a missing file as a first
            // boot (ConditionFirstBoot), an empty one as "generate an id, not
            // a first boot"; creating it would change the image's semantics.
            if let Some(st) = self.stat(op, &etc, b"etc", b"machine-id") {
                match kind(&st) {
                    FileType::RegularFile if size(&st) > 0 => {
                        self.empty_file(op, b"etc/machine-id".to_vec(), &st)
                    }
                    FileType::RegularFile => {}
                    _ => self.refuse(
                        op,
                        b"etc/machine-id".to_vec(),
                        "not a regular file (symlinks are never followed); make it an empty regular file",
                    ),
                }
            }
        }
        let rel = b"var/lib/dbus";
        if let Some(dbus) = self.dir(op, rel, false)
            && let Some(st) = self.stat(op, &dbus, rel, b"machine-id")
        {
            let path = b"var/lib/dbus/machine-id".to_vec();
            let target = Action::Symlink {
                target: "/etc/machine-id".into(),
            };
            match kind(&st) {
                FileType::RegularFile => self.push(op, path, target, fsat::freed_by_unlink(&st)),
                FileType::Symlink => {
                    // Already a link: fine when it leads to /etc/machine-id
                    // inside the root (resolved in the root, never the host).
                    let to_etc = self
                        .root
                        .canonicalize(b"/var/lib/dbus/machine-id")
                        .is_ok_and(|c| c == b"/etc/machine-id");
                    if !to_etc {
                        self.push(op, path, target, 0);
                    }
                }
                _ => self.refuse(op, path, "not a regular file or symlink"),
            }
        }
    }

    fn ssh_host_keys(&mut self) {
        let op = OpId::SshHostKeys;
        let rel = b"etc/ssh";
        let Some(fd) = self.dir(op, rel, true) else {
            return;
        };
        for (name, st) in self.entries(op, rel, &fd) {
            if name.starts_with(b"ssh_host_") {
                if kind(&st) == FileType::Directory {
                    self.leave(op, join(rel, &name), "a directory");
                } else {
                    self.push(
                        op,
                        join(rel, &name),
                        Action::Remove,
                        fsat::freed_by_unlink(&st),
                    );
                }
            }
        }
    }

    fn passwd(&self) -> Vec<PasswdUser> {
        let Ok(bytes) = self.root.read_file(b"/etc/passwd", 16 << 20) else {
            return Vec::new();
        };
        bytes
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
                if f.len() < 7 || f[0].is_empty() || f[0].starts_with(b"#") {
                    return None;
                }
                Some(PasswdUser {
                    name: String::from_utf8_lossy(f[0]).into_owned(),
                    uid: std::str::from_utf8(f[2]).ok()?.parse().ok()?,
                    home: f[5].to_vec(),
                })
            })
            .collect()
    }

    /// Names of the directories under `/home` (symlinks included: they are
    /// resolved inside the root later).
    fn home_names(&mut self, op: OpId) -> Vec<String> {
        let Some(fd) = self.dir(op, b"home", false) else {
            return Vec::new();
        };
        self.entries(op, b"home", &fd)
            .into_iter()
            .filter(|(_, st)| matches!(kind(st), FileType::Directory | FileType::Symlink))
            .map(|(n, _)| String::from_utf8_lossy(&n).into_owned())
            .collect()
    }

    /// A home directory as a root-relative physical path (resolved inside
    /// the root); `None` for a home that is the root itself or unresolvable.
    fn home_rel(&self, home: &[u8]) -> Option<Vec<u8>> {
        let canon = self.root.canonicalize(home).ok()?;
        let rel = canon.strip_prefix(b"/").unwrap_or(&canon);
        (!rel.is_empty()).then(|| rel.to_vec())
    }

    /// Users (name, home) whose authorized_keys are emptied.
    fn key_users(&mut self, op: OpId, users: Option<&[String]>) -> Vec<(String, Vec<u8>)> {
        let passwd = self.passwd();
        let home_of = |name: &str| -> Option<Vec<u8>> {
            passwd
                .iter()
                .find(|u| u.name == name)
                .map(|u| u.home.clone())
        };
        let names: BTreeSet<String> = match users {
            Some(list) => list.iter().cloned().collect(),
            None => {
                let mut set: BTreeSet<String> = self
                    .home_names(op)
                    .into_iter()
                    .filter(|n| n != "root")
                    .collect();
                set.extend(
                    passwd
                        .iter()
                        .filter(|u| u.uid >= 1000 && u.uid != 65534 && u.name != "root")
                        .map(|u| u.name.clone()),
                );
                set.extend(
                    CLOUD_BUILD_USERS
                        .iter()
                        .filter(|n| passwd.iter().any(|u| u.name == **n))
                        .map(|n| n.to_string()),
                );
                set
            }
        };
        let explicit = users.is_some();
        let mut out = Vec::new();
        for name in names {
            let home = home_of(&name).unwrap_or_else(|| {
                if name == "root" {
                    b"/root".to_vec()
                } else {
                    format!("/home/{name}").into_bytes()
                }
            });
            match self.home_rel(&home) {
                Some(rel) if self.rfd.open_dir(&rel).is_ok() => out.push((name, rel)),
                _ if explicit => {
                    let shown = String::from_utf8_lossy(&home).into_owned();
                    self.refuse(
                        op,
                        home.strip_prefix(b"/").unwrap_or(&home).to_vec(),
                        format!("user {name}: home {shown} not found"),
                    )
                }
                _ => {}
            }
        }
        out
    }

    fn authorized_keys(&mut self, users: Option<&[String]>) {
        let op = OpId::SshAuthorizedKeys;
        let mut seen = HashSet::new();
        for (_, home) in self.key_users(op, users) {
            if !seen.insert(home.clone()) {
                continue;
            }
            let rel = join(&home, b".ssh");
            let Some(fd) = self.dir(op, &rel, false) else {
                continue;
            };
            for name in [&b"authorized_keys"[..], b"authorized_keys2"] {
                self.truncate_file(op, &fd, &rel, name);
            }
        }
    }

    fn cloud_init(&mut self) {
        let op = OpId::CloudInit;
        // `cloud-init clean --logs`: everything under the cloud dir but seed/.
        let rel = b"var/lib/cloud";
        if let Some(fd) = self.dir(op, rel, true) {
            for (name, st) in self.entries(op, rel, &fd) {
                if name != b"seed" {
                    self.remove_entry(op, &fd, rel, &name, &st);
                }
            }
        }
        let rel = b"var/log";
        if let Some(fd) = self.dir(op, rel, false) {
            for (name, st) in self.entries(op, rel, &fd) {
                let is_log = name.starts_with(b"cloud-init")
                    && (name.ends_with(b".log") || contains(&name, b".log."));
                if is_log && kind(&st) != FileType::Directory {
                    self.push(
                        op,
                        join(rel, &name),
                        Action::Remove,
                        fsat::freed_by_unlink(&st),
                    );
                }
            }
        }
    }

    /// Root's home and every other home (under /home, and passwd users with
    /// uid >= 1000), as root-relative physical paths.
    fn all_homes(&mut self, op: OpId) -> Vec<Vec<u8>> {
        let passwd = self.passwd();
        let mut homes: Vec<Vec<u8>> = Vec::new();
        let root_home = passwd
            .iter()
            .find(|u| u.uid == 0)
            .map(|u| u.home.clone())
            .unwrap_or_else(|| b"/root".to_vec());
        homes.push(root_home);
        for n in self.home_names(op) {
            homes.push(format!("/home/{n}").into_bytes());
        }
        for u in passwd.iter().filter(|u| u.uid >= 1000 && u.uid != 65534) {
            homes.push(u.home.clone());
        }
        let mut out = Vec::new();
        for h in homes {
            if let Some(rel) = self.home_rel(&h)
                && !out.contains(&rel)
            {
                out.push(rel);
            }
        }
        out
    }

    fn shell_history(&mut self) {
        let op = OpId::ShellHistory;
        for home in self.all_homes(op) {
            let Some(fd) = self.dir(op, &home, false) else {
                continue;
            };
            for name in HISTORY_FILES {
                self.truncate_file(op, &fd, &home, name);
            }
        }
    }

    fn logs(&mut self) {
        let op = OpId::Logs;
        let rel = b"var/log";
        let Some(fd) = self.dir(op, rel, false) else {
            return;
        };
        self.walk_logs(&fd, rel.to_vec(), 0, false);
    }

    /// Mount points are left out by `entries`.
    fn walk_logs(&mut self, fd: &OwnedFd, rel: Vec<u8>, depth: usize, journal: bool) {
        let op = OpId::Logs;
        for (name, st) in self.entries(op, &rel, fd) {
            let path = join(&rel, &name);
            match kind(&st) {
                FileType::Directory => {
                    if depth >= fsat::MAX_DEPTH {
                        self.refuse(op, path, "nested too deep");
                    } else if let Some(sub) = self.dir(op, &path, false) {
                        let j = journal || (depth == 0 && name == b"journal");
                        self.walk_logs(&sub, path, depth + 1, j);
                    }
                }
                FileType::RegularFile => {
                    let journal_file =
                        journal && (name.ends_with(b".journal") || name.ends_with(b".journal~"));
                    if journal_file || is_rotated(&name) {
                        self.push(op, path, Action::Remove, fsat::freed_by_unlink(&st));
                    } else if size(&st) > 0 {
                        self.empty_file(op, path, &st);
                    }
                }
                FileType::Symlink => self.leave(op, path, "a symlink; never followed"),
                _ => {}
            }
        }
    }

    fn tmp(&mut self) {
        for rel in [&b"tmp"[..], b"var/tmp"] {
            self.remove_contents(OpId::Tmp, rel, |_, _| false);
        }
    }

    fn package_cache(&mut self) {
        let op = OpId::PackageCache;
        for rel in [
            &b"var/cache/dnf"[..],
            b"var/cache/yum",
            b"var/cache/libdnf5",
            b"var/cache/zypp/packages",
            b"var/cache/zypp/raw",
            b"var/cache/zypp/solv",
            b"var/cache/apt/archives/partial",
            b"var/lib/apt/lists/partial",
        ] {
            self.remove_contents(op, rel, |_, _| false);
        }
        let not_dir = |st: &Stat| kind(st) != FileType::Directory;
        self.remove_contents(op, b"var/cache/apt", |n, st| {
            !(n.ends_with(b".bin") && not_dir(st))
        });
        self.remove_contents(op, b"var/cache/apt/archives", |n, st| {
            !(n.ends_with(b".deb") && not_dir(st))
        });
        self.remove_contents(op, b"var/lib/apt/lists", |n, _| {
            n == b"lock" || n == b"partial"
        });
    }

    fn random_seed(&mut self) {
        let op = OpId::RandomSeed;
        self.remove_contents(op, b"var/lib/systemd", |n, st| {
            !(n == b"random-seed" && kind(st) != FileType::Directory)
        });
    }

    fn network_identity(&mut self) {
        let op = OpId::NetworkIdentity;
        let file = |st: &Stat| kind(st) != FileType::Directory;
        self.remove_contents(op, b"var/lib/dhcp", |n, st| {
            !((n.ends_with(b".leases") || n.ends_with(b".lease")) && file(st))
        });
        self.remove_contents(op, b"var/lib/dhclient", |_, st| !file(st));
        self.remove_contents(op, b"var/lib/NetworkManager", |n, st| {
            !(n.ends_with(b".lease") && file(st))
        });
        self.remove_contents(op, b"var/lib/dhcpcd", |n, st| {
            !((n.ends_with(b".lease") || n.ends_with(b".lease6")) && file(st))
        });
        self.remove_contents(op, b"var/lib/wicked", |n, st| {
            !(n.starts_with(b"lease-") && file(st))
        });
        if !self.root.is_system_root() {
            // systemd-networkd's leases are runtime state; in an offline
            // image they are leftovers, on a running system they are live.
            self.remove_contents(op, b"run/systemd/netif/leases", |_, st| !file(st));
        }
        self.remove_contents(op, b"etc/udev/rules.d", |n, st| {
            !(n == b"70-persistent-net.rules" && file(st))
        });
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A rotated log: `x.1`, `x.2.gz`, `x.gz`/`.xz`/`.bz2`/`.zst`/`.lz4`/`.Z`,
/// `x.old`, `x-20240131` (dateext, 8 or 10 digits).
pub fn is_rotated(name: &[u8]) -> bool {
    const COMPRESSED: [&[u8]; 7] = [b".gz", b".xz", b".bz2", b".zst", b".lz4", b".Z", b".old"];
    if COMPRESSED.iter().any(|s| name.ends_with(s)) {
        return true;
    }
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if let Some(i) = name.iter().rposition(|&b| b == b'.')
        && i > 0
        && all_digits(&name[i + 1..])
    {
        return true;
    }
    if let Some(i) = name.iter().rposition(|&b| b == b'-')
        && i > 0
    {
        let tail = &name[i + 1..];
        let date = tail.split(|&b| b == b'.').next().unwrap_or(b"");
        if (date.len() == 8 || date.len() == 10) && all_digits(date) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        for n in [
            "syslog.1",
            "syslog.2.gz",
            "messages-20240131",
            "secure-2024013112",
            "dpkg.log.old",
            "kern.log.xz",
            "boot.log-20240101.gz",
        ] {
            assert!(is_rotated(n.as_bytes()), "{n}");
        }
        for n in [
            "syslog",
            "dpkg.log",
            "Xorg.0.log",
            "lastlog",
            "wtmp",
            "php7.4-fpm.log",
            ".1",
        ] {
            assert!(!is_rotated(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn op_ids_round_trip() {
        for op in OpId::ALL {
            assert_eq!(op.as_str().parse::<OpId>().unwrap(), op);
            assert_eq!(
                serde_json::to_value(op).unwrap(),
                serde_json::Value::String(op.as_str().into())
            );
        }
        assert!("nope".parse::<OpId>().is_err());
    }
}
