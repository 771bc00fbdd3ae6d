//! Accounts from passwd, shadow and group.
//!
//! Read as glibc's `files` NSS module and shadow-utils read them: one entry
//! per `:`-separated line, the first entry of a name wins (getpwnam stops at
//! the first match), `+`/`-` NIS compat lines and comments skipped; the
//! password state comes from shadow when passwd's field is `x`, else from
//! passwd's own field. `UID_MIN` is login.defs' (shadow-utils' `getdef`:
//! `NAME VALUE`, the number in C's base-0 notation, the last occurrence of
//! a name counts). Whether a shell is a login shell is /etc/shells' (the
//! list chsh and pam_shells accept), a fixed list of non-login shells when
//! the root has none. The parsers take bytes and never panic (fuzzed).

use bakeproof_index::ReadOnlyTree;

use super::AccountFact;
use crate::AuditError;

/// Largest account file read (a root with a million accounts is not an
/// image).
pub const ACCOUNT_FILE_LIMIT: u64 = 64 << 20;

/// `UID_MIN` when login.defs does not set it (shadow-utils' default).
pub const DEFAULT_UID_MIN: u32 = 1000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountsFact {
    pub accounts: Vec<AccountFact>,
    /// `UID_MIN` from /etc/login.defs (1000 when absent).
    pub uid_min: u32,
    /// Groups from /etc/group (name, gid, members), first entry of a name.
    pub groups: Vec<GroupFact>,
    /// The login shells /etc/shells lists; `None` when the root has none.
    pub shells: Option<Vec<String>>,
    /// Malformed lines skipped (file and line number).
    pub malformed: Vec<String>,
}

/// One /etc/group entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupFact {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

impl AccountsFact {
    /// Whether `shell` (an account's seventh passwd field) gives a login:
    /// listed in /etc/shells (an empty field is `/bin/sh`, as login(1)
    /// runs it), or, without /etc/shells, not a known non-login shell.
    pub fn is_login_shell(&self, shell: &str) -> bool {
        let shell = if shell.is_empty() { "/bin/sh" } else { shell };
        match &self.shells {
            Some(list) => list.iter().any(|s| s == shell),
            None => !bakeproof_inventory::NOLOGIN_SHELLS.contains(&shell),
        }
    }

    /// System accounts: UID below `UID_MIN` (root included).
    pub fn system_accounts(&self) -> impl Iterator<Item = &AccountFact> {
        self.accounts.iter().filter(move |a| a.uid < self.uid_min)
    }
}

/// One passwd line's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, String)> + '_ {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, String::from_utf8_lossy(l).into_owned()))
        .filter(|(_, l)| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || t.starts_with('+') || t.starts_with('-'))
        })
}

/// A passwd uid/gid: decimal digits only, as glibc's parser (which refuses
/// an empty field and anything after the digits).
fn id(field: &str) -> Option<u32> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

/// Parses /etc/passwd: entries (first of a name kept) and the line numbers
/// of malformed lines.
pub fn parse_passwd(bytes: &[u8]) -> (Vec<PasswdEntry>, Vec<usize>) {
    let mut out: Vec<PasswdEntry> = Vec::new();
    let mut bad = Vec::new();
    for (n, l) in lines(bytes) {
        let l = l.strip_suffix('\r').unwrap_or(&l);
        let f: Vec<&str> = l.split(':').collect();
        let (Some(uid), Some(gid)) = (f.get(2).and_then(|s| id(s)), f.get(3).and_then(|s| id(s)))
        else {
            bad.push(n);
            continue;
        };
        if f.len() != 7 || f[0].is_empty() {
            bad.push(n);
            continue;
        }
        if out.iter().any(|e| e.name == f[0]) {
            continue;
        }
        out.push(PasswdEntry {
            name: f[0].to_string(),
            password: f[1].to_string(),
            uid,
            gid,
            home: f[5].to_string(),
            shell: f[6].to_string(),
        });
    }
    (out, bad)
}

/// Parses /etc/shadow into (name, password field), first of a name kept,
/// with the line numbers of malformed lines.
pub fn parse_shadow(bytes: &[u8]) -> (Vec<(String, String)>, Vec<usize>) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut bad = Vec::new();
    for (n, l) in lines(bytes) {
        let l = l.strip_suffix('\r').unwrap_or(&l);
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 2 || f[0].is_empty() {
            bad.push(n);
            continue;
        }
        if !out.iter().any(|(name, _)| name == f[0]) {
            out.push((f[0].to_string(), f[1].to_string()));
        }
    }
    (out, bad)
}

/// Parses /etc/group, first of a name kept.
pub fn parse_group(bytes: &[u8]) -> (Vec<GroupFact>, Vec<usize>) {
    let mut out: Vec<GroupFact> = Vec::new();
    let mut bad = Vec::new();
    for (n, l) in lines(bytes) {
        let l = l.strip_suffix('\r').unwrap_or(&l);
        let f: Vec<&str> = l.split(':').collect();
        let gid = f.get(2).and_then(|s| id(s));
        let (4, Some(gid)) = (f.len(), gid) else {
            bad.push(n);
            continue;
        };
        if f[0].is_empty() {
            bad.push(n);
            continue;
        }
        if out.iter().any(|g| g.name == f[0]) {
            continue;
        }
        out.push(GroupFact {
            name: f[0].to_string(),
            gid,
            members: f[3]
                .split(',')
                .filter(|m| !m.is_empty())
                .map(String::from)
                .collect(),
        });
    }
    (out, bad)
}

/// A login.defs number as shadow-utils' `getulong` reads it: `strtoul` with
/// base 0 (`0x` hex, leading `0` octal, else decimal), the whole value.
fn c_number(s: &str) -> Option<u32> {
    let s = s.trim_matches('"');
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// `UID_MIN` of a login.defs file (its last `UID_MIN` line);
/// [`DEFAULT_UID_MIN`] when there is none or its value is not a number
/// (shadow-utils then uses the default too).
pub fn parse_login_defs_uid_min(bytes: &[u8]) -> u32 {
    login_defs_value(bytes, "UID_MIN")
        .and_then(|v| c_number(&v))
        .unwrap_or(DEFAULT_UID_MIN)
}

/// The value of `name` in a login.defs file as shadow-utils' `def_load`
/// reads it: `NAME<blanks>VALUE` lines (`#` comments), the value's first
/// word with quotes stripped, the last occurrence of a name winning.
pub fn login_defs_value(bytes: &[u8], name: &str) -> Option<String> {
    let mut found = None;
    for l in bytes.split(|&b| b == b'\n') {
        let l = String::from_utf8_lossy(l);
        let t = l.trim_start_matches([' ', '\t']);
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (key, rest) = t.split_once([' ', '\t']).unwrap_or((t, ""));
        if key == name {
            let v = rest.trim_start_matches([' ', '\t', '"']);
            let end = v.find([' ', '\t', '"', '\r']).unwrap_or(v.len());
            found = Some(v[..end].to_string());
        }
    }
    found
}

/// /etc/shells: absolute paths, one a line, `#` comments.
pub fn parse_shells(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .filter(|l| l.starts_with('/'))
        .collect()
}

/// The password state of a shadow (or passwd) field: `empty`, `locked`
/// (`!` or `*` prefix, as `passwd -S` shows L), else `hash`.
pub fn password_state(field: &str) -> &'static str {
    if field.is_empty() {
        "empty"
    } else if field.starts_with('!') || field.starts_with('*') {
        "locked"
    } else {
        "hash"
    }
}

/// The accounts of parsed files.
pub fn from_bytes(
    passwd: &[u8],
    shadow: Option<&[u8]>,
    group: Option<&[u8]>,
    login_defs: Option<&[u8]>,
    shells: Option<&[u8]>,
) -> AccountsFact {
    let (entries, bad_pw) = parse_passwd(passwd);
    let (shadow, bad_sh) = shadow.map(parse_shadow).unwrap_or_default();
    let (groups, bad_gr) = group.map(parse_group).unwrap_or_default();
    let mut malformed = Vec::new();
    for (file, bad) in [
        ("/etc/passwd", bad_pw),
        ("/etc/shadow", bad_sh),
        ("/etc/group", bad_gr),
    ] {
        malformed.extend(bad.into_iter().map(|n| format!("{file}:{n}")));
    }
    let accounts = entries
        .into_iter()
        .map(|e| {
            let password = if e.password == "x" {
                shadow
                    .iter()
                    .find(|(n, _)| *n == e.name)
                    .map_or("unknown", |(_, p)| password_state(p))
            } else {
                password_state(&e.password)
            };
            AccountFact {
                name: e.name,
                uid: e.uid,
                gid: e.gid,
                shell: e.shell,
                password: password.to_string(),
            }
        })
        .collect();
    AccountsFact {
        accounts,
        uid_min: login_defs.map_or(DEFAULT_UID_MIN, parse_login_defs_uid_min),
        groups,
        shells: shells.map(parse_shells),
        malformed,
    }
}

/// Reads a file that may be absent; any other failure is an error.
pub(crate) fn optional(
    tree: &dyn ReadOnlyTree,
    path: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, AuditError> {
    match tree.read_file(path.as_bytes(), limit) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(source) => Err(AuditError::Read {
            what: path.to_string(),
            source,
        }),
    }
}

/// The accounts of a root: `None` when it has no /etc/passwd; an error when
/// an account file exists but cannot be read (the checks then say "not
/// assessed": a rule is never passed on a file that was not read).
pub fn read(tree: &dyn ReadOnlyTree) -> Result<Option<AccountsFact>, AuditError> {
    let Some(passwd) = optional(tree, "/etc/passwd", ACCOUNT_FILE_LIMIT)? else {
        return Ok(None);
    };
    let shadow = optional(tree, "/etc/shadow", ACCOUNT_FILE_LIMIT)?;
    let group = optional(tree, "/etc/group", ACCOUNT_FILE_LIMIT)?;
    let defs = optional(tree, "/etc/login.defs", ACCOUNT_FILE_LIMIT)?;
    let shells = optional(tree, "/etc/shells", ACCOUNT_FILE_LIMIT)?;
    Ok(Some(from_bytes(
        &passwd,
        shadow.as_deref(),
        group.as_deref(),
        defs.as_deref(),
        shells.as_deref(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_shadow_join() {
        let f = from_bytes(
            b"root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/usr/sbin/nologin\n\
              toor:x:0:0::/:/bin/sh\nnos:x:5:5::/:/bin/sh\nopen::6:6::/:\n\
              bad:x:z:1::/:/bin/sh\n+nis\nroot:x:9:9::/:/bin/sh\n",
            Some(b"root:$6$abc:1::::::\nbin:*:1::::::\ntoor:!$6$x:1::::::\n"),
            Some(b"root:x:0:\nwheel:x:10:root,toor\n"),
            Some(b"# c\nUID_MIN 7\n  UID_MIN\t\t \"0x1F4\"\n"),
            Some(b"/bin/sh\n/bin/bash\n"),
        );
        let st: Vec<(&str, u32, &str)> = f
            .accounts
            .iter()
            .map(|a| (a.name.as_str(), a.uid, a.password.as_str()))
            .collect();
        assert_eq!(
            st,
            [
                ("root", 0, "hash"),
                ("bin", 1, "locked"),
                ("toor", 0, "locked"),
                ("nos", 5, "unknown"),
                ("open", 6, "empty")
            ]
        );
        assert_eq!(f.uid_min, 500);
        assert_eq!(f.malformed, ["/etc/passwd:6"]);
        assert_eq!(f.groups[1].members, ["root", "toor"]);
        assert!(f.is_login_shell(""));
        assert!(!f.is_login_shell("/usr/sbin/nologin"));
    }

    #[test]
    fn login_defs_numbers() {
        assert_eq!(parse_login_defs_uid_min(b"UID_MIN 0755\n"), 0o755);
        assert_eq!(parse_login_defs_uid_min(b"UID_MIN abc\n"), 1000);
        assert_eq!(parse_login_defs_uid_min(b"UID_MINX 5\n"), 1000);
        assert_eq!(parse_login_defs_uid_min(b""), 1000);
        assert_eq!(parse_login_defs_uid_min(b"UID_MIN 0\n"), 0);
    }
}
