//! systemd unit enablement, as `systemctl --root=ROOT list-unit-files`
//! reports it.
//!
//! systemd's own rules (systemd 252 as on Debian 12, the `systemctl` the
//! oracle tests run), read through [`ReadOnlyTree`]:
//! * units are the entries of the unit directories, in systemd's order
//!   ([`UNIT_DIRS`]: `/etc/systemd/system` before `/run/systemd/system`,
//!   `/usr/local/lib`, `/lib` and `/usr/lib/systemd/system`); the first
//!   directory that has a name defines it;
//! * masked: a symlink to `/dev/null` or an empty file (`masked-runtime`
//!   under `/run`);
//! * alias: a symlink to a unit of another name (of the same type; a
//!   link into a unit directory names its target by name, so the target
//!   is the unit found first under that name, and a masked or missing
//!   target makes the alias `masked` or `bad`);
//! * enabled: a symlink named after the unit (or an instance of the
//!   template) in a `*.wants/` or `*.requires/` directory of
//!   `/etc/systemd/system` whose name is one the unit's `[Install]` section
//!   would create (the unit's own name, an `Alias=`, the `DefaultInstance=`
//!   instance), or an `Alias=` symlink at the top of `/etc/systemd/system`
//!   (`enabled-runtime` for the same under `/run`). The link's target does
//!   not matter (systemd looks at names);
//! * otherwise `indirect` (linked under another name, or only `Also=`),
//!   `disabled` (an `[Install]` section with `WantedBy=`, `RequiredBy=`
//!   or `Alias=`; systemd 252 does not know `UpheldBy=`), or `static`;
//! * `linked` (a same-named symlink at the top of `/etc/systemd/system`,
//!   `linked-runtime` under `/run`), `bad` (a dangling symlink, a
//!   same-named one into another unit directory, an alias of another unit
//!   type), `generated` and `transient` (units under
//!   `/run/systemd/generator*` and `/run/systemd/transient`); an instance
//!   linked at the top of a unit directory to its template is enabled by
//!   that link (`static` in a vendor directory).
//!
//! Not modelled: specifiers (`%i`) in `[Install]` values, an instance
//! linked to another template than its own, and the vendor `preset`
//! column.

use std::collections::BTreeMap;

use bakeproof_index::{FileKind, ReadOnlyTree};

/// systemd 252's system unit search path (Debian 12: split-usr, so
/// `/lib/systemd/system` too), in priority order.
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// Where a `*.wants`/`*.requires` or alias link enables a unit
/// persistently.
const PERSISTENT_CONFIG: &str = "/etc/systemd/system";

/// Most aliases followed from one name.
const MAX_ALIAS_DEPTH: usize = 8;

/// Largest unit file read.
pub const MAX_UNIT_FILE: u64 = 1 << 20;
/// Most entries looked at in one directory.
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// Unit name → state (`enabled`, `disabled`, `masked`, `static`, `alias`,
/// `indirect`, `generated`, ...), as `systemctl list-unit-files` prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitFacts {
    pub states: BTreeMap<String, String>,
    /// Alias → the unit it names (`sshd.service` → `ssh.service`), for the
    /// units whose state is `alias`.
    pub aliases: BTreeMap<String, String>,
}

impl UnitFacts {
    /// The units `systemctl list-unit-files --state=enabled` lists.
    pub fn enabled(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(_, s)| s.as_str() == "enabled")
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Whether `unit` is enabled (`enabled`; through its alias when it is
    /// one; a bare name means `NAME.service`). `enabled-runtime` is not:
    /// `/run` of an image is not what the booted system has.
    pub fn is_enabled(&self, unit: &str) -> bool {
        self.resolved_state(unit)
            .is_some_and(|(_, s)| s == "enabled")
    }

    /// The unit `unit` names after aliases, and its state.
    pub fn resolved_state(&self, unit: &str) -> Option<(String, &str)> {
        let mut name = unit_name(unit);
        for _ in 0..=MAX_ALIAS_DEPTH {
            let state = self.states.get(&name)?;
            match (state.as_str(), self.aliases.get(&name)) {
                ("alias", Some(target)) if *target != name => name = target.clone(),
                _ => return Some((name, state.as_str())),
            }
        }
        None
    }

    /// The state of `unit` (a bare name means `NAME.service`).
    pub fn state(&self, unit: &str) -> Option<&str> {
        let name = unit_name(unit);
        self.states.get(&name).map(String::as_str)
    }
}

/// `sshd` → `sshd.service`; names with a unit suffix are kept.
pub fn unit_name(unit: &str) -> String {
    if unit_suffix(unit).is_some() {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

const SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

fn unit_suffix(name: &str) -> Option<&str> {
    let (_, suffix) = name.rsplit_once('.')?;
    SUFFIXES.contains(&suffix).then_some(suffix)
}

/// A valid unit name (`foo.service`, `getty@.service`, `getty@tty1.service`).
fn valid_unit_name(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    unit_suffix(name).is_some()
        && !stem.is_empty()
        && name.len() <= 255
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
        && stem.matches('@').count() <= 1
        && !stem.starts_with('@')
}

/// `foo@.service` (template) and `foo@bar.service` → its instance of it.
fn is_instance_of(name: &str, template: &str) -> bool {
    let Some((prefix, suffix)) = template.split_once("@.") else {
        return false;
    };
    name.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('@'))
        .and_then(|r| r.strip_suffix(suffix))
        .and_then(|r| r.strip_suffix('.'))
        .is_some_and(|inst| !inst.is_empty())
}

/// Whether the link `name` may alias the unit `dest`: the same type, and a
/// template only a template, an instance an instance or a template, a
/// plain name a plain name.
fn valid_alias(name: &str, dest: &str) -> bool {
    if !valid_unit_name(dest) || unit_suffix(name) != unit_suffix(dest) {
        return false;
    }
    let kind = |n: &str| {
        if n.contains("@.") {
            2
        } else if n.contains('@') {
            1
        } else {
            0
        }
    };
    matches!((kind(name), kind(dest)), (0, 0) | (2, 2) | (1, 1) | (1, 2))
}

/// The `[Install]` section of a unit file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallSection {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub alias: Vec<String>,
    pub also: Vec<String>,
    pub default_instance: Option<String>,
}

impl InstallSection {
    fn has_rules(&self) -> bool {
        !(self.wanted_by.is_empty() && self.required_by.is_empty() && self.alias.is_empty())
    }
}

/// The `[Install]` section of a unit file's bytes, as systemd reads it
/// (section and keys case-sensitive, `#`/`;` comments, `\` continuation
/// lines, an empty assignment resets a list). Never panics.
pub fn parse_install(bytes: &[u8]) -> InstallSection {
    let text = String::from_utf8_lossy(bytes);
    let mut out = InstallSection::default();
    let mut in_install = false;
    let mut pending = String::new();
    for raw in text.lines() {
        let piece = raw.trim();
        if pending.is_empty() && (piece.starts_with('#') || piece.starts_with(';')) {
            continue;
        }
        if let Some(cont) = piece.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(piece);
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_install = line == "[Install]";
            continue;
        }
        if !in_install {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let words: Vec<String> = value.split_whitespace().map(str::to_string).collect();
        let list = match key.trim() {
            "WantedBy" => &mut out.wanted_by,
            "RequiredBy" => &mut out.required_by,
            "Alias" => &mut out.alias,
            "Also" => &mut out.also,
            "DefaultInstance" => {
                let v = value.trim();
                out.default_instance = (!v.is_empty()).then(|| v.to_string());
                continue;
            }
            _ => continue,
        };
        if words.is_empty() {
            list.clear();
        } else {
            list.extend(words);
        }
    }
    out
}

fn is_runtime(dir: &str) -> bool {
    dir.starts_with("/run/")
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((p, _)) => p,
        None => "/",
    }
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// A symlink's target made absolute against the link's directory.
fn absolute_target(dir: &str, target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else {
        join(dir, target)
    }
}

struct Reader<'a> {
    tree: &'a dyn ReadOnlyTree,
    /// The unit directories as the tree resolves them (`/lib` may be
    /// `/usr/lib`).
    canonical_dirs: Vec<String>,
    /// The links of the configuration directories, read once.
    config: Vec<ConfigLinks>,
}

/// The symlinks of one configuration directory (`/etc/systemd/system`,
/// the `/run` ones).
struct ConfigLinks {
    index: usize,
    dir: &'static str,
    /// Names of the symlinks in its `*.wants/` and `*.requires/`.
    wants: Vec<String>,
    /// Its top-level symlinks: (name, target made absolute).
    top: Vec<(String, String)>,
}

impl Reader<'_> {
    fn config_links(&self) -> Vec<ConfigLinks> {
        let mut out = Vec::new();
        for (index, dir) in UNIT_DIRS.iter().enumerate() {
            if *dir != PERSISTENT_CONFIG && !is_runtime(dir) {
                continue;
            }
            let entries = self.entries(dir);
            if entries.is_empty() {
                continue;
            }
            let mut c = ConfigLinks {
                index,
                dir,
                wants: Vec::new(),
                top: Vec::new(),
            };
            for e in &entries {
                let p = join(dir, e);
                match self.kind(&p) {
                    Some(FileKind::Directory)
                        if e.rsplit_once('.')
                            .is_some_and(|(_, s)| matches!(s, "wants" | "requires")) =>
                    {
                        for link in self.entries(&p) {
                            if self.kind(&join(&p, &link)) == Some(FileKind::Symlink) {
                                c.wants.push(link);
                            }
                        }
                    }
                    Some(FileKind::Symlink) => {
                        if let Some(t) = self.link(&p) {
                            c.top.push((e.clone(), absolute_target(dir, &t)));
                        }
                    }
                    _ => {}
                }
            }
            out.push(c);
        }
        out
    }

    fn entries(&self, dir: &str) -> Vec<String> {
        match self.tree.read_dir(dir.as_bytes()) {
            Ok(names) => names
                .into_iter()
                .take(MAX_DIR_ENTRIES)
                .filter_map(|n| String::from_utf8(n).ok())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn kind(&self, path: &str) -> Option<FileKind> {
        self.tree.kind_of(path.as_bytes()).ok().flatten()
    }

    fn link(&self, path: &str) -> Option<String> {
        self.tree
            .read_link(path.as_bytes())
            .ok()
            .and_then(|t| String::from_utf8(t).ok())
    }

    fn in_unit_dir(&self, path: &str) -> bool {
        let canon = self
            .tree
            .canonicalize_parent(path.as_bytes())
            .ok()
            .and_then(|c| String::from_utf8(c).ok())
            .unwrap_or_else(|| path.to_string());
        self.canonical_dirs.iter().any(|d| parent(&canon) == d)
    }

    /// The state of the unit `name` first found in `UNIT_DIRS[idx]`.
    fn state(&self, idx: usize, name: &str, depth: usize) -> Option<String> {
        let dir = UNIT_DIRS[idx];
        let path = join(dir, name);
        let masked = || {
            Some(if is_runtime(dir) {
                "masked-runtime".to_string()
            } else {
                "masked".to_string()
            })
        };
        // `own`: the unit directory the unit file is in (none when it is
        // linked from outside them).
        let (file, own) = match self.kind(&path)? {
            FileKind::Symlink => {
                let target = self.link(&path)?;
                if target == "/dev/null" {
                    return masked();
                }
                let target = absolute_target(dir, &target);
                let dest = basename(&target);
                // A link into a unit directory names a unit (looked up by
                // name in all of them); elsewhere the path must exist.
                // (An instance linked to its template: the path must exist.)
                let path_exists = self.tree.metadata(target.as_bytes()).is_ok();
                let by_name = UNIT_DIRS.contains(&parent(&target)) && !is_instance_of(name, dest);
                if dest != name && !by_name && !path_exists {
                    return Some("bad".to_string());
                }
                if dest != name && is_instance_of(name, dest) {
                    // An instance linked to its template at the top of a
                    // unit directory: enabled by that very link, masked
                    // with an empty template.
                    let empty = self
                        .tree
                        .read_file(target.as_bytes(), MAX_UNIT_FILE)
                        .is_ok_and(|b| b.is_empty());
                    if empty {
                        return Some(
                            if is_runtime(&target) {
                                "masked-runtime"
                            } else {
                                "masked"
                            }
                            .to_string(),
                        );
                    }
                    return Some(
                        if dir == PERSISTENT_CONFIG {
                            "enabled"
                        } else if is_runtime(dir) {
                            "enabled-runtime"
                        } else {
                            "static"
                        }
                        .to_string(),
                    );
                }
                if dest != name {
                    // An alias: of the same type and kind of name
                    // (template, instance, plain); a masked or bad target
                    // makes the alias so.
                    if !valid_alias(name, dest) {
                        return Some("bad".to_string());
                    }
                    if !by_name {
                        return Some("alias".to_string());
                    }
                    if depth >= MAX_ALIAS_DEPTH {
                        return Some("bad".to_string());
                    }
                    let Some(first) = UNIT_DIRS
                        .iter()
                        .position(|d| self.kind(&join(d, dest)).is_some())
                    else {
                        return Some("bad".to_string());
                    };
                    return Some(match self.state(first, dest, depth + 1).as_deref() {
                        None | Some("bad") => "bad".to_string(),
                        Some(m @ ("masked" | "masked-runtime")) => m.to_string(),
                        Some(_) => "alias".to_string(),
                    });
                }
                if self.in_unit_dir(&target) {
                    return Some("bad".to_string());
                }
                (target, None)
            }
            FileKind::Regular => (path.clone(), Some(idx)),
            FileKind::CharDevice => return masked(),
            _ => return None,
        };
        let bytes = match self.tree.read_file(file.as_bytes(), MAX_UNIT_FILE) {
            Ok(b) => b,
            Err(_) => return Some("bad".to_string()),
        };
        if bytes.is_empty() {
            return masked();
        }
        if dir == "/run/systemd/transient" {
            return Some("transient".to_string());
        }
        if dir.starts_with("/run/systemd/generator") {
            return Some("generated".to_string());
        }
        let install = parse_install(&bytes);
        if let Some(s) = self.find_links(own, name, &install, true) {
            return Some(s.to_string());
        }
        if self.find_links(own, name, &install, false).is_some() {
            return Some("indirect".to_string());
        }
        Some(
            if install.has_rules() {
                "disabled"
            } else if !install.also.is_empty() {
                "indirect"
            } else {
                "static"
            }
            .to_string(),
        )
    }

    /// `enabled` / `enabled-runtime` when a link enables `name`, defined
    /// in `UNIT_DIRS[own]` (with `match_name`, only under a name its
    /// `[Install]` section creates); else `linked` / `linked-runtime` when
    /// a same-named link at the top of a configuration directory is there.
    fn find_links(
        &self,
        own: Option<usize>,
        name: &str,
        install: &InstallSection,
        match_name: bool,
    ) -> Option<&'static str> {
        let known = |link: &str| {
            link == name
                || install.alias.iter().any(|a| a == link)
                || install.default_instance.as_deref().is_some_and(|inst| {
                    name.split_once("@.")
                        .is_some_and(|(p, s)| link == format!("{p}@{inst}.{s}"))
                })
        };
        let accept = |link: &str| !match_name || known(link);
        let mut runtime = false;
        let (mut same_config, mut same_runtime) = (false, false);
        for c in &self.config {
            // Below the unit's own directory a same-named link is shadowed.
            let ignore_same_name = own.is_some_and(|o| c.index > o);
            let mut found = c
                .wants
                .iter()
                .any(|link| (link == name || is_instance_of(link, name)) && accept(link));
            if !found {
                for (link, target) in &c.top {
                    let found_path = !ignore_same_name && link == name;
                    let found_dest = basename(target) == name;
                    if found_path && found_dest {
                        if c.dir == PERSISTENT_CONFIG {
                            same_config = true;
                        } else {
                            same_runtime = true;
                        }
                        continue;
                    }
                    if (found_path || found_dest) && accept(link) {
                        found = true;
                        break;
                    }
                }
            }
            if found {
                if c.dir == PERSISTENT_CONFIG {
                    return Some("enabled");
                }
                runtime = true;
            }
        }
        if runtime {
            Some("enabled-runtime")
        } else if same_config {
            Some("linked")
        } else if same_runtime {
            Some("linked-runtime")
        } else {
            None
        }
    }
}

/// The unit files of `tree` and their states.
pub fn read(tree: &dyn ReadOnlyTree) -> UnitFacts {
    let canonical_dirs = UNIT_DIRS
        .iter()
        .map(|d| {
            tree.canonicalize(d.as_bytes())
                .ok()
                .and_then(|c| String::from_utf8(c).ok())
                .unwrap_or_else(|| d.to_string())
        })
        .collect();
    let mut r = Reader {
        tree,
        canonical_dirs,
        config: Vec::new(),
    };
    r.config = r.config_links();
    let mut facts = UnitFacts::default();
    for (idx, dir) in UNIT_DIRS.iter().enumerate() {
        for name in r.entries(dir) {
            if !valid_unit_name(&name) || facts.states.contains_key(&name) {
                continue;
            }
            if let Some(state) = r.state(idx, &name, 0) {
                if state == "alias"
                    && let Some(t) = r.link(&join(dir, &name))
                {
                    facts.aliases.insert(name.clone(), basename(&t).to_string());
                }
                facts.states.insert(name, state);
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_section() {
        let i = parse_install(
            b"[Unit]\nWantedBy=no.target\n[Install]\n# c\nWantedBy = a.target \\\n b.target\nAlias=x.service\nAlias=\nAlso=y.service\nDefaultInstance=tty1\nwantedby=z.target\n",
        );
        assert_eq!(i.wanted_by, vec!["a.target", "b.target"]);
        assert!(i.alias.is_empty());
        assert_eq!(i.also, vec!["y.service"]);
        assert_eq!(i.default_instance.as_deref(), Some("tty1"));
        assert!(
            parse_install(b"[install]\nWantedBy=a.target\n")
                .wanted_by
                .is_empty()
        );
    }

    #[test]
    fn names() {
        assert!(valid_unit_name("getty@.service"));
        assert!(valid_unit_name("a-b_c.socket"));
        assert!(!valid_unit_name("foo.conf"));
        assert!(!valid_unit_name("multi-user.target.wants"));
        assert!(is_instance_of("getty@tty1.service", "getty@.service"));
        assert!(!is_instance_of("getty@.service", "getty@.service"));
        assert!(!is_instance_of("gettyx@tty1.service", "getty@.service"));
        assert_eq!(unit_name("sshd"), "sshd.service");
        assert_eq!(unit_name("nftables.service"), "nftables.service");
    }
}
