//! sshd's effective configuration for the default connection, as `sshd -T`
//! reports it.
//!
//! The semantics are OpenSSH's (9.2 as packaged on Debian 12, the `sshd`
//! the oracle tests run), not string matching:
//! * lines are split as sshd splits them: the keyword ends at whitespace or
//!   one `=` (`Banner=/x`, `Banner = /x`), keywords are case-insensitive,
//!   arguments may be quoted (`"…"` or `'…'`, `\` escapes), a `#` at the start
//!   of an argument ends the line, a `#` inside one does not;
//! * `Include` takes globs (glob(3): `*`, `?`, `[…]`, sorted, dot files
//!   only by a leading `.`); a relative path is relative to `/etc/ssh`;
//!   included files are read in place, recursion deeper than 16 is an
//!   error (as sshd's), so an include loop is one;
//! * the first value of a keyword wins; list keywords (`AcceptEnv`,
//!   `AllowUsers`, `HostKey`, `Port`, ...) accumulate;
//! * `Match` blocks are not applied to the default connection (no user,
//!   host or address matches it), except `Match all`, which matches every
//!   connection: its values replace the global ones, as in `sshd -T`;
//! * keywords not set have the built-in defaults of this OpenSSH build
//!   (the values `sshd -T` prints for an empty configuration); values are
//!   printed as `sshd -T` prints them (`prohibit-password` is
//!   `without-password`, times in seconds, flags lower-case, paths made
//!   absolute against `/`, the daemon's working directory).
//!
//! Not modelled (kept as written, flagged in [`SshdConfig::unresolved`]):
//! algorithm lists with `+`/`-`/`^` modifiers (`Ciphers -aes128*`), which
//! sshd expands against its compiled-in algorithm list. Values are not
//! validated beyond what the keyword's type needs (an unknown cipher name
//! is taken as written).
//!
//! Everything is read through [`ReadOnlyTree`] (a symlink out of the root
//! never reaches the host), each file at most [`MAX_FILE`] bytes, at most
//! [`MAX_FILES`] files.

use std::collections::{BTreeMap, BTreeSet};

use bakeproof_index::ReadOnlyTree;

/// The main configuration file.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
/// Where relative `Include` paths start (sshd's `SSHDIR`).
pub const SSHDIR: &str = "/etc/ssh";
/// sshd's limit on nested includes (`SERVCONF_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 16;
/// Largest configuration file read.
pub const MAX_FILE: u64 = 1 << 20;
/// Most files read for one configuration (includes counted each time).
pub const MAX_FILES: usize = 1024;

/// Lower-case keyword → effective value(s), as `sshd -T` prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshdConfig {
    /// One entry per line `sshd -T` prints for the keyword (`hostkey` has
    /// one per key, `authorizedkeysfile` one with the files space
    /// separated).
    pub values: BTreeMap<String, Vec<String>>,
    /// Keyword → `file:line` where its effective value was set; keywords
    /// absent here have their built-in default.
    pub sources: BTreeMap<String, String>,
    /// Keywords whose value is kept as written because sshd computes it
    /// from data this reader does not have (algorithm list modifiers).
    pub unresolved: BTreeSet<String>,
    /// The configuration sshd would refuse (`file:line: message`): sshd
    /// does not start with it; `values` then hold what was read up to it.
    pub error: Option<String>,
}

impl SshdConfig {
    /// The effective value of `keyword` (case-insensitive) as one string:
    /// the lines `sshd -T` prints, joined by a space.
    pub fn get(&self, keyword: &str) -> Option<String> {
        self.values
            .get(&keyword.to_ascii_lowercase())
            .map(|v| v.join(" "))
    }
}

/// The keywords the configuration report shows (`ConfigReport::sshd`).
pub const REPORT_KEYWORDS: &[&str] = &[
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "pubkeyauthentication",
    "permitemptypasswords",
    "port",
    "listenaddress",
    "x11forwarding",
    "allowtcpforwarding",
    "maxauthtries",
    "usepam",
    "allowusers",
    "allowgroups",
    "denyusers",
    "denygroups",
];

impl SshdConfig {
    /// The configuration report's sshd section: [`REPORT_KEYWORDS`] with
    /// their effective values (lists joined by a space; unset lists
    /// omitted).
    pub fn report(&self) -> BTreeMap<String, String> {
        REPORT_KEYWORDS
            .iter()
            .filter_map(|k| Some((k.to_string(), self.get(k)?)))
            .collect()
    }
}

/// Whether `keyword` (any case) is one sshd knows (aliases and deprecated
/// keywords included).
pub fn is_keyword(word: &str) -> bool {
    keyword(&word.to_ascii_lowercase()).is_some()
}

/// A design's `keyword = value` in the form `sshd -T` prints it
/// (`PermitRootLogin prohibit-password` → `without-password`, `2m` →
/// `120`, `YES` → `yes`), with the keyword as `sshd -T` prints it; an error
/// when sshd would refuse the line.
pub fn normalize(keyword_: &str, value: &str) -> Result<(String, String), String> {
    let lower = keyword_.to_ascii_lowercase();
    let Some((name, kind, _)) = keyword(&lower) else {
        return Err(format!("unknown sshd keyword {keyword_:?}"));
    };
    if value.contains(['\n', '\r', '\0']) {
        return Err(format!("sshd value {value:?} spans lines"));
    }
    if matches!(kind, Kind::Include | Kind::Match | Kind::Ignored) {
        return Err(format!("sshd keyword {keyword_:?} has no effective value"));
    }
    let cfg = parse_bytes("design", format!("{keyword_} {value}\n").as_bytes());
    if let Some(e) = cfg.error {
        return Err(e);
    }
    let v = cfg
        .values
        .get(name)
        .map(|v| v.join(" "))
        .unwrap_or_else(|| value.to_string());
    Ok((name.to_string(), v))
}

/// The sshd fact of `tree` for [`crate::Facts`]: a root without
/// `/etc/ssh/sshd_config` has a configuration with [`SshdConfig::error`]
/// saying so (sshd is not configured there), an unreadable one too.
pub fn fact(tree: &dyn ReadOnlyTree) -> SshdConfig {
    match read(tree) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => SshdConfig {
            error: Some(format!(
                "{SSHD_CONFIG}: not present (no OpenSSH server configured)"
            )),
            ..SshdConfig::default()
        },
        Err(e) => SshdConfig {
            error: Some(e.to_string()),
            ..SshdConfig::default()
        },
    }
}

/// A configuration sshd refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct SshdError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Where the configuration files come from: the tree, or (fuzzing, tests)
/// memory.
pub trait ConfigSource {
    /// The file's bytes; `Ok(None)` when nothing is there.
    fn load(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
    /// Names in a directory, sorted bytewise; empty when it is not one.
    fn list(&self, dir: &str) -> Vec<String>;
    /// Whether something (anything, a dangling symlink too) is at `path`.
    fn exists(&self, path: &str) -> bool;
}

/// [`ConfigSource`] over a [`ReadOnlyTree`].
pub struct TreeSource<'a>(pub &'a dyn ReadOnlyTree);

impl ConfigSource for TreeSource<'_> {
    fn load(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match self.0.read_file(path.as_bytes(), MAX_FILE) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
    fn list(&self, dir: &str) -> Vec<String> {
        let d = if dir.is_empty() { "/" } else { dir };
        self.0
            .read_dir(d.as_bytes())
            .map(|names| {
                names
                    .into_iter()
                    .filter_map(|n| String::from_utf8(n).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn exists(&self, path: &str) -> bool {
        matches!(self.0.kind_of(path.as_bytes()), Ok(Some(_)))
    }
}

/// In-memory files (path → bytes): the fuzz target's and unit tests'
/// source.
#[derive(Default)]
pub struct MemSource(pub BTreeMap<String, Vec<u8>>);

impl ConfigSource for MemSource {
    fn load(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.get(path).cloned())
    }
    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }
    fn exists(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        self.0.contains_key(path) || self.0.keys().any(|k| k.starts_with(&prefix))
    }
}

/// sshd's effective configuration in `tree`: `None` when the root has no
/// `/etc/ssh/sshd_config` (no OpenSSH server configured). A configuration
/// sshd would refuse is returned with [`SshdConfig::error`] set.
pub fn read(tree: &dyn ReadOnlyTree) -> Result<Option<SshdConfig>, SshdError> {
    let src = TreeSource(tree);
    match src.load(SSHD_CONFIG) {
        Ok(None) => Ok(None),
        Ok(Some(_)) => Ok(Some(effective(&src, SSHD_CONFIG))),
        Err(message) => Err(SshdError {
            file: SSHD_CONFIG.to_string(),
            line: None,
            message,
        }),
    }
}

/// The effective configuration of the main file `main` read from `src`.
/// Never fails: a configuration sshd refuses has [`SshdConfig::error`].
pub fn effective(src: &dyn ConfigSource, main: &str) -> SshdConfig {
    let mut p = Parser {
        src,
        files_read: 0,
        global: Options::default(),
        matched: Options::default(),
    };
    let result = match src.load(main) {
        Ok(Some(bytes)) => {
            p.files_read += 1;
            let mut active = true;
            p.parse_file(main, &bytes, &mut active, false, false, 0)
        }
        Ok(None) => Err(SshdError {
            file: main.to_string(),
            line: None,
            message: "No such file or directory".to_string(),
        }),
        Err(message) => Err(SshdError {
            file: main.to_string(),
            line: None,
            message,
        }),
    };
    let mut cfg = p.finish();
    if let Err(e) = result {
        cfg.error = Some(e.to_string());
    }
    cfg
}

/// Parse one configuration file (bytes) without following `Include`: the
/// fuzz target's entry point. Never panics.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> SshdConfig {
    let mut files = BTreeMap::new();
    files.insert(name.to_string(), bytes.to_vec());
    effective(&MemSource(files), name)
}

// ---- lexing, as sshd's strdelim() and argv_split() ----------------------

const WS: &[u8] = b" \t\r\n";

/// sshd's `strdelim` with `=` splitting: the next token of `s`, advancing
/// it. `None` for an unterminated quote. `*s == None` is sshd's NULL.
fn strdelim(s: &mut Option<Vec<u8>>) -> Option<Vec<u8>> {
    let cur = s.take()?;
    let Some(p) = cur
        .iter()
        .position(|b| WS.contains(b) || *b == b'"' || *b == b'=')
    else {
        return Some(cur);
    };
    if cur[p] == b'"' {
        let rest = &cur[p + 1..];
        let q = rest.iter().position(|&b| b == b'"')?;
        let mut tok = cur[..p].to_vec();
        tok.extend_from_slice(&rest[..q]);
        let after = &rest[q + 1..];
        let skip = after.iter().take_while(|b| WS.contains(b)).count();
        *s = Some(after[skip..].to_vec());
        return Some(tok);
    }
    let was_eq = cur[p] == b'=';
    let tok = cur[..p].to_vec();
    let mut i = p + 1;
    i += cur[i..].iter().take_while(|b| WS.contains(b)).count();
    if !was_eq && cur.get(i) == Some(&b'=') {
        i += 1;
        i += cur[i..].iter().take_while(|b| WS.contains(b)).count();
    }
    *s = Some(cur[i..].to_vec());
    Some(tok)
}

/// sshd's `argv_split` with comments terminating: `None` on unbalanced
/// quotes.
fn argv_split(s: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b' ' || s[i] == b'\t' {
            i += 1;
            continue;
        }
        if s[i] == b'#' {
            break;
        }
        let mut quote = 0u8;
        let mut arg = Vec::new();
        while i < s.len() {
            let c = s[i];
            if c == b'\\' {
                let n = s.get(i + 1).copied();
                if matches!(n, Some(b'\'') | Some(b'"') | Some(b'\\'))
                    || (quote == 0 && n == Some(b' '))
                {
                    i += 1;
                    arg.push(s[i]);
                } else {
                    arg.push(c);
                }
            } else if quote == 0 && (c == b' ' || c == b'\t') {
                break;
            } else if quote == 0 && (c == b'"' || c == b'\'') {
                quote = c;
            } else if quote != 0 && c == quote {
                quote = 0;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if i >= s.len() && quote != 0 {
            return None;
        }
        out.push(String::from_utf8_lossy(&arg).into_owned());
    }
    Some(out)
}

/// The lines of a file as sshd's `load_server_config` + the parse loop see
/// them: leading blanks stripped, each line cut at a NUL byte (which also
/// swallows its newline, as `strlen` does), then split at newlines.
fn config_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut buf = Vec::with_capacity(bytes.len());
    for raw in bytes.split_inclusive(|&b| b == b'\n') {
        let skip = raw
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r'))
            .count();
        let line = &raw[skip..];
        let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
        buf.extend_from_slice(&line[..end]);
    }
    buf.split(|&b| b == b'\n').map(|l| l.to_vec()).collect()
}

// ---- keywords -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// One of the listed values (input matched case-insensitively) → the
    /// value printed.
    Multi(&'static [(&'static str, &'static str)]),
    /// Decimal integer (`min` the least accepted).
    Int(i64),
    /// sshd's time format (`1h30m`), printed in seconds.
    Time,
    /// One argument, printed as written.
    Str,
    /// One path argument made absolute against `/` (`none` kept).
    Path,
    /// The rest of the line as written (`ForceCommand`).
    Rest,
    /// The rest of the line, an absolute command or `none`
    /// (`AuthorizedKeysCommand`).
    Command,
    /// One argument printed upper-case, one of the names.
    Upper(&'static [&'static str]),
    /// Every argument of every line, one printed line each.
    Accum,
    /// Paths, accumulated, made absolute (`HostKey`, `HostCertificate`).
    AccumPath,
    /// Ports, accumulated.
    Port,
    /// Every argument of the first line, printed on one line.
    FirstLine,
    /// Every argument of the first line, one printed line each (`SetEnv`).
    FirstLineEach,
    /// Algorithm list (one argument); `+`/`-`/`^` make it unresolved.
    Algorithms,
    /// `ListenAddress`: accumulated, expanded with the ports at the end.
    Listen,
    /// Accepted and ignored (deprecated, unsupported, `Protocol`).
    Ignored,
    /// sshd prints two values (`IPQoS af21` is `af21 af21`,
    /// `RekeyLimit 1G 1h`): kept as written, one line.
    Pair,
    /// `Subsystem NAME COMMAND...`: accumulated as `NAME COMMAND...`.
    Subsystem,
    /// `PermitUserEnvironment`: `yes`/`no` or a pattern list.
    UserEnv,
    /// `StreamLocalBindMask`: octal, printed `0NNN`.
    Octal,
    /// `MaxStartups start[:rate:full]`.
    MaxStartups,
    /// `PerSourceNetBlockSize v4[:v6]`.
    NetBlock,
    Include,
    Match,
}

const FLAG: &[(&str, &str)] = &[("yes", "yes"), ("no", "no")];
const ROOT: &[(&str, &str)] = &[
    ("yes", "yes"),
    ("prohibit-password", "without-password"),
    ("without-password", "without-password"),
    ("forced-commands-only", "forced-commands-only"),
    ("no", "no"),
];
const FAMILY: &[(&str, &str)] = &[("inet", "inet"), ("inet6", "inet6"), ("any", "any")];
const COMPRESSION: &[(&str, &str)] = &[("yes", "yes"), ("delayed", "yes"), ("no", "no")];
const GATEWAY: &[(&str, &str)] = &[
    ("clientspecified", "clientspecified"),
    ("yes", "yes"),
    ("no", "no"),
];
const TCPFWD: &[(&str, &str)] = &[
    ("yes", "yes"),
    ("all", "yes"),
    ("no", "no"),
    ("remote", "remote"),
    ("local", "local"),
];
const TUNNEL: &[(&str, &str)] = &[
    ("ethernet", "ethernet"),
    ("point-to-point", "point-to-point"),
    ("yes", "yes"),
    ("no", "no"),
];
const RHOSTS: &[(&str, &str)] = &[("yes", "yes"), ("shosts-only", "shosts-only"), ("no", "no")];
const FPHASH: &[(&str, &str)] = &[("md5", "MD5"), ("sha256", "SHA256")];
const LOGLEVEL: &[&str] = &[
    "QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3",
];
const FACILITY: &[&str] = &[
    "DAEMON", "USER", "AUTH", "AUTHPRIV", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4",
    "LOCAL5", "LOCAL6", "LOCAL7",
];

/// Keyword (lower-case) → (the keyword `sshd -T` prints, its kind,
/// allowed inside `Match`).
fn keyword(k: &str) -> Option<(&'static str, Kind, bool)> {
    use Kind::*;
    let m = |name, kind| Some((name, kind, true));
    let g = |name, kind| Some((name, kind, false));
    match k {
        "port" => g("port", Port),
        "listenaddress" => g("listenaddress", Listen),
        "addressfamily" => g("addressfamily", Multi(FAMILY)),
        "hostkey" | "hostdsakey" => g("hostkey", AccumPath),
        "hostcertificate" => g("hostcertificate", AccumPath),
        "hostkeyagent" => g("hostkeyagent", Path),
        "pidfile" => g("pidfile", Path),
        "modulifile" => g("modulifile", Path),
        "xauthlocation" => g("xauthlocation", Path),
        "securitykeyprovider" => g("securitykeyprovider", Path),
        "permitrootlogin" => m("permitrootlogin", Multi(ROOT)),
        "passwordauthentication" => m("passwordauthentication", Multi(FLAG)),
        "kbdinteractiveauthentication"
        | "challengeresponseauthentication"
        | "skeyauthentication" => m("kbdinteractiveauthentication", Multi(FLAG)),
        "pubkeyauthentication" | "dsaauthentication" => m("pubkeyauthentication", Multi(FLAG)),
        "permitemptypasswords" => m("permitemptypasswords", Multi(FLAG)),
        "usepam" => g("usepam", Multi(FLAG)),
        "x11forwarding" => m("x11forwarding", Multi(FLAG)),
        "x11uselocalhost" => m("x11uselocalhost", Multi(FLAG)),
        "x11displayoffset" => m("x11displayoffset", Int(0)),
        "printmotd" => g("printmotd", Multi(FLAG)),
        "printlastlog" => g("printlastlog", Multi(FLAG)),
        "strictmodes" => g("strictmodes", Multi(FLAG)),
        "tcpkeepalive" | "keepalive" => g("tcpkeepalive", Multi(FLAG)),
        "permittty" => m("permittty", Multi(FLAG)),
        "permituserrc" => m("permituserrc", Multi(FLAG)),
        "ignorerhosts" => m("ignorerhosts", Multi(RHOSTS)),
        "ignoreuserknownhosts" => g("ignoreuserknownhosts", Multi(FLAG)),
        "hostbasedauthentication" => m("hostbasedauthentication", Multi(FLAG)),
        "hostbasedusesnamefrompacketonly" => m("hostbasedusesnamefrompacketonly", Multi(FLAG)),
        "kerberosauthentication" => m("kerberosauthentication", Multi(FLAG)),
        "kerberosorlocalpasswd" => g("kerberosorlocalpasswd", Multi(FLAG)),
        "kerberosticketcleanup" => g("kerberosticketcleanup", Multi(FLAG)),
        "gssapiauthentication" => m("gssapiauthentication", Multi(FLAG)),
        "gssapicleanupcredentials" | "gssapicleanupcreds" => {
            g("gssapicleanupcredentials", Multi(FLAG))
        }
        "gssapikeyexchange" => g("gssapikeyexchange", Multi(FLAG)),
        "gssapistrictacceptorcheck" => g("gssapistrictacceptorcheck", Multi(FLAG)),
        "gssapistorecredentialsonrekey" => g("gssapistorecredentialsonrekey", Multi(FLAG)),
        "compression" => g("compression", Multi(COMPRESSION)),
        "gatewayports" => m("gatewayports", Multi(GATEWAY)),
        "usedns" => g("usedns", Multi(FLAG)),
        "allowtcpforwarding" => m("allowtcpforwarding", Multi(TCPFWD)),
        "allowstreamlocalforwarding" => m("allowstreamlocalforwarding", Multi(TCPFWD)),
        "allowagentforwarding" => m("allowagentforwarding", Multi(FLAG)),
        "disableforwarding" => m("disableforwarding", Multi(FLAG)),
        "streamlocalbindunlink" => m("streamlocalbindunlink", Multi(FLAG)),
        "exposeauthinfo" => m("exposeauthinfo", Multi(FLAG)),
        "permittunnel" => m("permittunnel", Multi(TUNNEL)),
        "fingerprinthash" => g("fingerprinthash", Multi(FPHASH)),
        "debianbanner" => g("debianbanner", Ignored),
        "logingracetime" => g("logingracetime", Time),
        "clientaliveinterval" => m("clientaliveinterval", Time),
        "unusedconnectiontimeout" => m("unusedconnectiontimeout", Time),
        "clientalivecountmax" => m("clientalivecountmax", Int(0)),
        "maxauthtries" => m("maxauthtries", Int(0)),
        "maxsessions" => m("maxsessions", Int(0)),
        "requiredrsasize" => m("requiredrsasize", Int(0)),
        "loglevel" => m("loglevel", Upper(LOGLEVEL)),
        "syslogfacility" => g("syslogfacility", Upper(FACILITY)),
        "banner" => m("banner", Path),
        "chrootdirectory" => m("chrootdirectory", Str),
        "trustedusercakeys" => m("trustedusercakeys", Path),
        "revokedkeys" => m("revokedkeys", Path),
        "authorizedprincipalsfile" => m("authorizedprincipalsfile", Str),
        "authorizedkeyscommanduser" => m("authorizedkeyscommanduser", Str),
        "authorizedprincipalscommanduser" => m("authorizedprincipalscommanduser", Str),
        "forcecommand" => m("forcecommand", Rest),
        "authorizedkeyscommand" => m("authorizedkeyscommand", Command),
        "authorizedprincipalscommand" => m("authorizedprincipalscommand", Command),
        "versionaddendum" => g("versionaddendum", Rest),
        "acceptenv" => m("acceptenv", Accum),
        "allowusers" => m("allowusers", Accum),
        "denyusers" => m("denyusers", Accum),
        "allowgroups" => m("allowgroups", Accum),
        "denygroups" => m("denygroups", Accum),
        "authorizedkeysfile" => m("authorizedkeysfile", FirstLine),
        "authenticationmethods" => m("authenticationmethods", FirstLine),
        "permitopen" => m("permitopen", FirstLine),
        "permitlisten" => m("permitlisten", FirstLine),
        "pubkeyauthoptions" => m("pubkeyauthoptions", FirstLine),
        "logverbose" => m("logverbose", FirstLine),
        "channeltimeout" => m("channeltimeout", FirstLine),
        "setenv" => m("setenv", FirstLineEach),
        "ciphers" => g("ciphers", Algorithms),
        "macs" => g("macs", Algorithms),
        "kexalgorithms" => g("kexalgorithms", Algorithms),
        "gssapikexalgorithms" => g("gssapikexalgorithms", Algorithms),
        "casignaturealgorithms" => m("casignaturealgorithms", Algorithms),
        "hostkeyalgorithms" => g("hostkeyalgorithms", Algorithms),
        "hostbasedacceptedalgorithms" | "hostbasedacceptedkeytypes" => {
            m("hostbasedacceptedalgorithms", Algorithms)
        }
        "pubkeyacceptedalgorithms" | "pubkeyacceptedkeytypes" => {
            m("pubkeyacceptedalgorithms", Algorithms)
        }
        "ipqos" => m("ipqos", Pair),
        "rekeylimit" => m("rekeylimit", Pair),
        "maxstartups" => g("maxstartups", MaxStartups),
        "persourcemaxstartups" => g("persourcemaxstartups", Str),
        "persourcenetblocksize" => g("persourcenetblocksize", NetBlock),
        "permituserenvironment" => g("permituserenvironment", UserEnv),
        "streamlocalbindmask" => m("streamlocalbindmask", Octal),
        "subsystem" => g("subsystem", Subsystem),
        "rdomain" => m("rdomain", Str),
        "include" => m("include", Include),
        "match" => m("match", Match),
        "protocol"
        | "afstokenpassing"
        | "kerberosgetafstoken"
        | "kerberostgtpassing"
        | "gssapiusesessioncredcache"
        | "gssusesessionccache"
        | "checkmail"
        | "keyregenerationinterval"
        | "pamauthenticationviakbdint"
        | "permitblacklistedkeys"
        | "reversemappingcheck"
        | "rhostsauthentication"
        | "rhostsrsaauthentication"
        | "rsaauthentication"
        | "serverkeybits"
        | "uselogin"
        | "useprivilegeseparation"
        | "verifyreversemapping" => g("", Ignored),
        "authorizedkeysfile2" => m("", Ignored),
        _ => None,
    }
}

/// `sshd -T` of an empty configuration on Debian 12's OpenSSH 9.2p1
/// (`hostkey` and `listenaddress` are computed in [`Parser::finish`]).
const DEFAULTS: &[(&str, &str)] = &[
    ("port", "22"),
    ("addressfamily", "any"),
    ("usepam", "no"),
    ("logingracetime", "120"),
    ("x11displayoffset", "10"),
    ("maxauthtries", "6"),
    ("maxsessions", "10"),
    ("clientaliveinterval", "0"),
    ("clientalivecountmax", "3"),
    ("requiredrsasize", "1024"),
    ("streamlocalbindmask", "0177"),
    ("unusedconnectiontimeout", "none"),
    ("permitrootlogin", "without-password"),
    ("ignorerhosts", "yes"),
    ("ignoreuserknownhosts", "no"),
    ("hostbasedauthentication", "no"),
    ("hostbasedusesnamefrompacketonly", "no"),
    ("pubkeyauthentication", "yes"),
    ("kerberosauthentication", "no"),
    ("kerberosorlocalpasswd", "yes"),
    ("kerberosticketcleanup", "yes"),
    ("gssapiauthentication", "no"),
    ("gssapicleanupcredentials", "yes"),
    ("gssapikeyexchange", "no"),
    ("gssapistrictacceptorcheck", "yes"),
    ("gssapistorecredentialsonrekey", "no"),
    (
        "gssapikexalgorithms",
        "gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-",
    ),
    ("passwordauthentication", "yes"),
    ("kbdinteractiveauthentication", "yes"),
    ("printmotd", "yes"),
    ("printlastlog", "yes"),
    ("x11forwarding", "no"),
    ("x11uselocalhost", "yes"),
    ("permittty", "yes"),
    ("permituserrc", "yes"),
    ("strictmodes", "yes"),
    ("tcpkeepalive", "yes"),
    ("permitemptypasswords", "no"),
    ("compression", "yes"),
    ("gatewayports", "no"),
    ("usedns", "no"),
    ("allowtcpforwarding", "yes"),
    ("allowagentforwarding", "yes"),
    ("disableforwarding", "no"),
    ("allowstreamlocalforwarding", "yes"),
    ("streamlocalbindunlink", "no"),
    ("fingerprinthash", "SHA256"),
    ("exposeauthinfo", "no"),
    ("pidfile", "/run/sshd.pid"),
    ("modulifile", "/etc/ssh/moduli"),
    ("xauthlocation", "/usr/bin/xauth"),
    (
        "ciphers",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    ),
    (
        "macs",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    ),
    ("banner", "none"),
    ("forcecommand", "none"),
    ("chrootdirectory", "none"),
    ("trustedusercakeys", "none"),
    ("revokedkeys", "none"),
    ("securitykeyprovider", "internal"),
    ("authorizedprincipalsfile", "none"),
    ("versionaddendum", "none"),
    ("authorizedkeyscommand", "none"),
    ("authorizedkeyscommanduser", "none"),
    ("authorizedprincipalscommand", "none"),
    ("authorizedprincipalscommanduser", "none"),
    ("hostkeyagent", "none"),
    (
        "kexalgorithms",
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    ),
    (
        "casignaturealgorithms",
        "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256",
    ),
    ("hostbasedacceptedalgorithms", KEY_ALGS),
    ("hostkeyalgorithms", KEY_ALGS),
    ("pubkeyacceptedalgorithms", KEY_ALGS),
    ("loglevel", "INFO"),
    ("syslogfacility", "AUTH"),
    (
        "authorizedkeysfile",
        ".ssh/authorized_keys .ssh/authorized_keys2",
    ),
    ("authenticationmethods", "any"),
    ("maxstartups", "10:30:100"),
    ("persourcemaxstartups", "none"),
    ("persourcenetblocksize", "32:128"),
    ("permittunnel", "no"),
    ("ipqos", "lowdelay throughput"),
    ("rekeylimit", "0 0"),
    ("permitopen", "any"),
    ("permitlisten", "any"),
    ("permituserenvironment", "no"),
    ("pubkeyauthoptions", "none"),
];

const KEY_ALGS: &str = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";

/// The host keys sshd uses when none is configured.
const DEFAULT_HOSTKEYS: &[&str] = &[
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
];

// ---- values -----------------------------------------------------------------

/// One keyword's setting: the printed lines and where it was set.
#[derive(Clone, Debug, Default)]
struct Setting {
    lines: Vec<String>,
    at: String,
    unresolved: bool,
}

#[derive(Default)]
struct Options {
    set: BTreeMap<&'static str, Setting>,
}

impl Options {
    /// First value wins.
    fn first(&mut self, key: &'static str, lines: Vec<String>, at: &str, unresolved: bool) {
        self.set.entry(key).or_insert_with(|| Setting {
            lines,
            at: at.to_string(),
            unresolved,
        });
    }
    /// Accumulates.
    fn push(&mut self, key: &'static str, lines: Vec<String>, at: &str) {
        let s = self.set.entry(key).or_insert_with(|| Setting {
            at: at.to_string(),
            ..Setting::default()
        });
        s.lines.extend(lines);
    }
}

fn absolute(path: &str) -> String {
    if path.eq_ignore_ascii_case("none") || path.starts_with('/') {
        path.to_string()
    } else {
        // derelativise_path() against the daemon's working directory `/`.
        format!("//{path}")
    }
}

/// sshd's `convtime`: `90`, `1h30m`, `2W`; seconds.
fn convtime(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let mult = match b.get(i).map(|c| c.to_ascii_lowercase()) {
            None => 1,
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3600,
            Some(b'd') => 86400,
            Some(b'w') => 604800,
            Some(_) => return None,
        };
        if i < b.len() {
            i += 1;
        }
        total = total.checked_add(n.checked_mul(mult)?)?;
        if total > i32::MAX as i64 {
            return None;
        }
    }
    Some(total)
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (i32::MIN as i64..=i32::MAX as i64)
        .contains(&v)
        .then_some(v)
}

fn parse_port(s: &str) -> Option<u16> {
    let digits = s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty();
    if !digits {
        return None;
    }
    match s.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Some(p as u16),
        _ => None,
    }
}

/// Keywords sshd overwrites: the last value wins.
fn last_wins(name: &str) -> bool {
    matches!(
        name,
        "maxstartups"
            | "streamlocalbindmask"
            | "persourcemaxstartups"
            | "persourcenetblocksize"
            | "fingerprinthash"
    )
}

const DSCP: &[&str] = &[
    "af11",
    "af12",
    "af13",
    "af21",
    "af22",
    "af23",
    "af31",
    "af32",
    "af33",
    "af41",
    "af42",
    "af43",
    "cs0",
    "cs1",
    "cs2",
    "cs3",
    "cs4",
    "cs5",
    "cs6",
    "cs7",
    "ef",
    "le",
    "lowdelay",
    "throughput",
    "reliability",
];

fn ipqos_ok(a: &str) -> bool {
    DSCP.iter().any(|d| d.eq_ignore_ascii_case(a))
        || parse_int(a).is_some_and(|n| (0..=255).contains(&n))
}

/// Authentication methods and the keyword that enables each.
const AUTH_METHODS: &[(&str, &str)] = &[
    ("publickey", "pubkeyauthentication"),
    ("password", "passwordauthentication"),
    ("keyboard-interactive", "kbdinteractiveauthentication"),
    ("hostbased", "hostbasedauthentication"),
    ("gssapi-with-mic", "gssapiauthentication"),
    ("none", ""),
];

/// The one line `sshd -T` prints for a first-line list keyword, with the
/// checks sshd makes on it.
fn first_line(name: &str, args: &[String]) -> Result<String, String> {
    match name {
        "permitlisten" | "permitopen" => {
            let mut out = Vec::new();
            for a in args {
                if a == "any" || a == "none" {
                    out.push(a.clone());
                    continue;
                }
                let (host, port) = match a.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p),
                    None if name == "permitlisten" => ("*".to_string(), a.as_str()),
                    None => return Err(format!("{name} bad port number")),
                };
                let port_ok = port == "*" || parse_port(port).is_some();
                if host.is_empty() || !port_ok || a.contains(char::is_whitespace) {
                    return Err(format!("{name} bad port number"));
                }
                out.push(format!("{host}:{port}"));
            }
            Ok(out.join(" "))
        }
        "pubkeyauthoptions" => {
            let (mut touch, mut verify) = (false, false);
            for a in args {
                match a.to_ascii_lowercase().as_str() {
                    "none" => {}
                    "touch-required" => touch = true,
                    "verify-required" => verify = true,
                    _ => return Err(format!("unsupported PubkeyAuthOptions option {a}")),
                }
            }
            let mut out = Vec::new();
            if touch {
                out.push("touch-required");
            }
            if verify {
                out.push("verify-required");
            }
            Ok(if out.is_empty() {
                "none".to_string()
            } else {
                out.join(" ")
            })
        }
        "logverbose" => {
            if args.len() > 1 && args.iter().any(|a| a == "none") {
                return Err("keyword LogVerbose \"none\" argument must appear alone.".to_string());
            }
            Ok(args.join(" "))
        }
        "channeltimeout" => {
            for a in args {
                let ok = a.split_once('=').is_some_and(|(t, v)| {
                    !t.is_empty()
                        && !a.contains(char::is_whitespace)
                        && (v == "none" || convtime(v).is_some())
                });
                if !ok {
                    return Err(format!("invalid channel timeout {a}"));
                }
            }
            Ok(args.join(" "))
        }
        "authenticationmethods" => {
            if args.len() > 1 && args.iter().any(|a| a == "any") {
                return Err("\"any\" must appear alone in AuthenticationMethods".to_string());
            }
            for list in args.iter().filter(|a| a.as_str() != "any") {
                for m in list.split(',') {
                    let method = m.split(':').next().unwrap_or(m);
                    if !AUTH_METHODS.iter().any(|(k, _)| *k == method) {
                        return Err(format!("Unknown authentication method \"{m}\" in list"));
                    }
                }
            }
            Ok(args.join(" "))
        }
        _ => Ok(args.join(" ")),
    }
}

// ---- globbing (glob(3) without flags) --------------------------------------

fn has_magic(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// fnmatch of one path component, with glob(3)'s leading-dot rule.
fn component_match(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    fnmatch(pat, name)
}

fn fnmatch(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let (mut star_p, mut star_n) = (None::<usize>, 0usize);
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star_p = Some(p);
                    star_n = n;
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, len)) = bracket(&pat[p..], name[n]) {
                        if ok {
                            p += len;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() => {
                    if pat[p + 1] == name[n] {
                        p += 2;
                        n += 1;
                        continue;
                    }
                }
                c => {
                    if c == name[n] {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
            }
        }
        match star_p {
            Some(sp) => {
                star_n += 1;
                n = star_n;
                p = sp + 1;
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}

/// A bracket expression at the start of `pat`: (matches `c`, its length);
/// `None` when it is not closed (then `[` is literal).
fn bracket(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *pat.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pat[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// glob(3) of an absolute pattern, sorted; no match is an empty list.
fn glob(src: &dyn ConfigSource, pattern: &str) -> Vec<String> {
    if !has_magic(pattern) {
        let p = unescape(pattern);
        return if src.exists(&p) { vec![p] } else { Vec::new() };
    }
    let mut found = vec![String::new()];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for base in &found {
            if has_magic(comp) {
                for name in src.list(if base.is_empty() { "/" } else { base }) {
                    if component_match(comp.as_bytes(), name.as_bytes()) {
                        next.push(format!("{base}/{name}"));
                    }
                }
            } else {
                let p = format!("{base}/{}", unescape(comp));
                if !last || src.exists(&p) {
                    next.push(p);
                }
            }
            if next.len() > MAX_FILES {
                break;
            }
        }
        found = next;
    }
    found.sort();
    found
}

// ---- the parser -------------------------------------------------------------

struct Parser<'a> {
    src: &'a dyn ConfigSource,
    files_read: usize,
    /// Values outside any Match block (and inside `Match all`, first pass).
    global: Options,
    /// Values from matching Match blocks (`Match all`): they replace the
    /// global ones.
    matched: Options,
}

impl Parser<'_> {
    /// `active`: the current Match state (true outside Match blocks);
    /// `in_block`: the lines are inside a Match block (of an including
    /// file); `never_match`: included from a Match block that does not
    /// apply, so no Match block of this file applies either.
    fn parse_file(
        &mut self,
        file: &str,
        bytes: &[u8],
        active: &mut bool,
        in_block: bool,
        never_match: bool,
        depth: usize,
    ) -> Result<(), SshdError> {
        if depth > MAX_DEPTH {
            return Err(SshdError {
                file: file.to_string(),
                line: None,
                message: "Too many recursive configuration includes".to_string(),
            });
        }
        let mut in_block = in_block;
        for (idx, line) in config_lines(bytes).iter().enumerate() {
            self.line(
                file,
                idx + 1,
                line,
                active,
                &mut in_block,
                never_match,
                depth,
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        file: &str,
        lineno: usize,
        raw: &[u8],
        active: &mut bool,
        in_block: &mut bool,
        never_match: bool,
        depth: usize,
    ) -> Result<(), SshdError> {
        let err = |message: String| SshdError {
            file: file.to_string(),
            line: Some(lineno),
            message,
        };
        // Trailing whitespace and form feeds (never the first byte).
        let mut end = raw.len();
        while end > 1 && matches!(raw[end - 1], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
            end -= 1;
        }
        let line = &raw[..end];
        if line.is_empty() {
            return Ok(());
        }
        let mut rest = Some(line.to_vec());
        let mut kw = strdelim(&mut rest);
        if kw.as_deref() == Some(b"") {
            kw = strdelim(&mut rest);
        }
        let Some(kw) = kw else {
            return Ok(());
        };
        if kw.is_empty() || kw[0] == b'#' {
            return Ok(());
        }
        let kw_str = String::from_utf8_lossy(&kw).into_owned();
        let Some(rest) = rest.filter(|r| !r.is_empty()) else {
            return Err(err(format!("no argument after keyword \"{kw_str}\"")));
        };
        let lower = kw_str.to_ascii_lowercase();
        let Some((name, kind, match_ok)) = keyword(&lower) else {
            return Err(err(format!("Bad configuration option: {kw_str}")));
        };
        let Some(args) = argv_split(&rest) else {
            return Err(err("invalid quotes".to_string()));
        };
        if !*active && !match_ok {
            return Err(err(format!(
                "Directive '{kw_str}' is not allowed within a Match block"
            )));
        }
        let at = format!("{file}:{lineno}");
        match kind {
            Kind::Match => {
                let applies = match_all(&args).map_err(err)?;
                *active = applies && !never_match;
                *in_block = true;
                return Ok(());
            }
            Kind::Include => {
                if args.is_empty() {
                    return Err(err(format!("{kw_str} missing filename argument")));
                }
                for a in &args {
                    if a.is_empty() {
                        return Err(err(format!("keyword {kw_str} empty argument")));
                    }
                    let pattern = if a.starts_with('/') || a.starts_with('~') {
                        a.clone()
                    } else {
                        format!("{SSHDIR}/{a}")
                    };
                    let saved = *active;
                    for path in glob(self.src, &pattern) {
                        self.files_read += 1;
                        if self.files_read > MAX_FILES {
                            return Err(err(format!("more than {MAX_FILES} files included")));
                        }
                        let bytes = match self.src.load(&path) {
                            Ok(Some(b)) => b,
                            Ok(None) => {
                                return Err(err(format!("{path}: No such file or directory")));
                            }
                            Err(e) => return Err(err(e)),
                        };
                        // An included file inside a Match block that does
                        // not apply never activates its own Match blocks.
                        let nm = never_match || !saved;
                        let mut act = saved;
                        self.parse_file(&path, &bytes, &mut act, *in_block, nm, depth + 1)?;
                    }
                    *active = saved;
                }
                return Ok(());
            }
            _ => {}
        }
        let one = |what: &str| -> Result<String, SshdError> {
            match args.as_slice() {
                [] => Err(err(format!("missing {what} argument."))),
                [a] => Ok(a.clone()),
                _ => Err(err(format!(
                    "keyword {kw_str} extra arguments at end of line"
                ))),
            }
        };
        let (lines, unresolved): (Vec<String>, bool) = match kind {
            Kind::Multi(states) => {
                let a = one("argument")?;
                let v = states
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&a))
                    .map(|(_, v)| v.to_string())
                    .ok_or_else(|| err(format!("unsupported option \"{a}\".")))?;
                (vec![v], false)
            }
            Kind::Int(min) => {
                let a = one("integer")?;
                let v =
                    parse_int(&a).ok_or_else(|| err(format!("{kw_str} integer value invalid.")))?;
                if v < min {
                    return Err(err(format!("{kw_str} integer value too small.")));
                }
                (vec![v.to_string()], false)
            }
            Kind::Time => {
                let a = one("time")?;
                let v = if name == "unusedconnectiontimeout" && a.eq_ignore_ascii_case("none") {
                    "none".to_string()
                } else {
                    let t = convtime(&a).ok_or_else(|| err("invalid time value.".to_string()))?;
                    if name == "unusedconnectiontimeout" && t == 0 {
                        "none".to_string()
                    } else {
                        t.to_string()
                    }
                };
                (vec![v], false)
            }
            Kind::Str => (vec![one("argument")?], false),
            Kind::Path => (vec![absolute(&one("file name")?)], false),
            Kind::Rest => {
                let skip = rest.iter().take_while(|b| WS.contains(b)).count();
                (
                    vec![String::from_utf8_lossy(&rest[skip..]).into_owned()],
                    false,
                )
            }
            Kind::Command => {
                let skip = rest.iter().take_while(|b| WS.contains(b)).count();
                let v = String::from_utf8_lossy(&rest[skip..]).into_owned();
                if !v.starts_with('/') && !v.eq_ignore_ascii_case("none") {
                    return Err(err(format!("{lower} must be an absolute path")));
                }
                (vec![v], false)
            }
            Kind::Upper(names) => {
                let a = one("argument")?;
                let up = a.to_ascii_uppercase();
                if !names.contains(&up.as_str()) {
                    return Err(err(format!("unsupported value '{a}'")));
                }
                (vec![up], false)
            }
            Kind::Accum => (args.clone(), false),
            Kind::AccumPath => (vec![absolute(&one("file name")?)], false),
            Kind::Port => {
                let a = one("port")?;
                let p = parse_port(&a)
                    .ok_or_else(|| err("Badly formatted port number.".to_string()))?;
                (vec![p.to_string()], false)
            }
            Kind::FirstLine => (vec![first_line(name, &args).map_err(err)?], false),
            Kind::FirstLineEach => (args.clone(), false),
            Kind::Algorithms => {
                let a = one("algorithms")?;
                let modifier = a.starts_with(['+', '-', '^']);
                (vec![a], modifier)
            }
            Kind::Listen => (vec![one("address")?], false),
            Kind::Pair => {
                if name == "ipqos"
                    && let Some(bad) = args.iter().find(|a| !ipqos_ok(a))
                {
                    return Err(err(format!("Bad IPQoS value: {bad}")));
                }
                let v = match args.as_slice() {
                    [a] if name == "ipqos" => format!("{a} {a}"),
                    [a] => format!("{a} 0"),
                    [a, b] => format!("{a} {b}"),
                    _ => {
                        return Err(err(format!(
                            "keyword {kw_str} extra arguments at end of line"
                        )));
                    }
                };
                // RekeyLimit sizes and times are printed in bytes/seconds:
                // kept as written unless plain numbers.
                let plain = v.split(' ').all(|p| p.bytes().all(|b| b.is_ascii_digit()));
                (vec![v], name == "rekeylimit" && !plain)
            }
            Kind::Subsystem => {
                if args.len() < 2 {
                    return Err(err("Missing subsystem command.".to_string()));
                }
                (vec![args.join(" ")], false)
            }
            Kind::UserEnv => (vec![one("argument")?], false),
            Kind::Octal => {
                let a = one("mask")?;
                let v = u32::from_str_radix(&a, 8)
                    .ok()
                    .filter(|v| *v <= 0o777)
                    .ok_or_else(|| err(format!("Invalid {kw_str}.")))?;
                (vec![format!("0{v:o}")], false)
            }
            Kind::MaxStartups => {
                let a = one("argument")?;
                let parts: Vec<&str> = a.split(':').collect();
                let v = match parts.as_slice() {
                    [n] if parse_int(n).is_some() => format!("{n}:30:{n}"),
                    [_, _, _] => a.clone(),
                    _ => return Err(err(format!("Illegal {kw_str} spec."))),
                };
                (vec![v], false)
            }
            Kind::NetBlock => {
                let a = one("argument")?;
                let (v4, v6) = a.split_once(':').unwrap_or((a.as_str(), "0"));
                let ok = |s: &str, max: i64| parse_int(s).is_some_and(|n| (0..=max).contains(&n));
                if !ok(v4, 32) || !ok(v6, 128) {
                    return Err(err(format!("Invalid {kw_str} spec.")));
                }
                (vec![format!("{v4}:{v6}")], false)
            }
            Kind::Ignored | Kind::Include | Kind::Match => return Ok(()),
        };
        if !*active {
            return Ok(());
        }
        let accumulates = matches!(
            kind,
            Kind::Accum | Kind::AccumPath | Kind::Port | Kind::Listen | Kind::Subsystem
        );
        // In an applying Match block (`Match all`) sshd's first pass sets
        // every keyword globally; the second pass then replaces the
        // Match-able ones with the block's values.
        let target = if *in_block && match_ok {
            &mut self.matched
        } else {
            &mut self.global
        };
        if kind == Kind::Subsystem {
            let sub = lines[0].split(' ').next().unwrap_or_default().to_string();
            let dup = target.set.get(name).is_some_and(|s| {
                s.lines
                    .iter()
                    .any(|l| l.split(' ').next() == Some(sub.as_str()))
            });
            if dup {
                return Err(err(format!("Subsystem '{sub}' already defined.")));
            }
        }
        // A later `UnusedConnectionTimeout none` still clears an earlier
        // time (a later time does not replace an earlier one).
        let none_clears =
            name == "unusedconnectiontimeout" && lines.first().is_some_and(|v| v == "none");
        if last_wins(name) || none_clears {
            // sshd overwrites these.
            target.set.insert(
                name,
                Setting {
                    lines,
                    at,
                    unresolved,
                },
            );
        } else if accumulates {
            target.push(name, lines, &at);
        } else {
            target.first(name, lines, &at, unresolved);
        }
        Ok(())
    }

    fn finish(self) -> SshdConfig {
        let Parser {
            mut global,
            matched,
            ..
        } = self;
        // Match-able settings of a matching block replace the global ones.
        global.set.extend(matched.set);
        let mut cfg = SshdConfig::default();
        for (k, v) in DEFAULTS {
            cfg.values.insert(k.to_string(), vec![v.to_string()]);
        }
        for (k, s) in &global.set {
            if s.lines.is_empty() {
                continue;
            }
            cfg.values.insert(k.to_string(), s.lines.clone());
            cfg.sources.insert(k.to_string(), s.at.clone());
            if s.unresolved {
                cfg.unresolved.insert(k.to_string());
            }
        }
        if !cfg.values.contains_key("hostkey") {
            cfg.values.insert(
                "hostkey".to_string(),
                DEFAULT_HOSTKEYS.iter().map(|s| s.to_string()).collect(),
            );
        }
        if let Some(e) = final_checks(&cfg) {
            cfg.error = Some(e);
        }
        let ports = cfg.values.get("port").cloned().unwrap_or_default();
        let family = cfg.get("addressfamily").unwrap_or_default();
        let listen = listen_addresses(
            global
                .set
                .get("listenaddress")
                .map(|s| s.lines.as_slice())
                .unwrap_or(&[]),
            &ports,
            &family,
        );
        match listen {
            Err(e) => cfg.error = Some(e),
            Ok(Some(l)) => {
                cfg.values.insert("listenaddress".to_string(), l);
            }
            Ok(None) => {
                cfg.unresolved.insert("listenaddress".to_string());
                if let Some(s) = global.set.get("listenaddress") {
                    cfg.values
                        .insert("listenaddress".to_string(), s.lines.clone());
                }
            }
        }
        cfg
    }
}

/// What sshd checks once the whole configuration is read.
fn final_checks(cfg: &SshdConfig) -> Option<String> {
    let set = |k: &str| cfg.get(k).is_some_and(|v| !v.eq_ignore_ascii_case("none"));
    for (cmd, user) in [
        ("AuthorizedKeysCommand", "AuthorizedKeysCommandUser"),
        (
            "AuthorizedPrincipalsCommand",
            "AuthorizedPrincipalsCommandUser",
        ),
    ] {
        if set(cmd) && !set(user) {
            return Some(format!("{cmd} set without {user}"));
        }
    }
    // Some list must be satisfiable with the enabled methods (sshd checks
    // this at start-up; Match blocks aside).
    let methods = cfg.get("authenticationmethods").unwrap_or_default();
    if methods != "any" {
        let satisfiable = methods.split(' ').any(|list| {
            list.split(',').all(|m| {
                let method = m.split(':').next().unwrap_or(m);
                let enabled_by = AUTH_METHODS
                    .iter()
                    .find(|(k, _)| *k == method)
                    .map(|(_, e)| *e)
                    .unwrap_or("");
                enabled_by.is_empty() || cfg.get(enabled_by).as_deref() != Some("no")
            })
        });
        if !satisfiable {
            return Some(
                "AuthenticationMethods cannot be satisfied by enabled authentication methods"
                    .to_string(),
            );
        }
    }
    None
}

/// The `listenaddress` lines `sshd -T` prints, for literal addresses;
/// `Ok(None)` when a host name would need resolving; an error for an
/// address of another family than `AddressFamily` allows (sshd's
/// "bad addr or host").
fn listen_addresses(
    addrs: &[String],
    ports: &[String],
    family: &str,
) -> Result<Option<Vec<String>>, String> {
    let mut out = Vec::new();
    let wild: &[&str] = match family {
        "inet" => &["0.0.0.0"],
        "inet6" => &["[::]"],
        _ => &["[::]", "0.0.0.0"],
    };
    if addrs.is_empty() {
        for p in ports {
            for w in wild {
                out.push(format!("{w}:{p}"));
            }
        }
        return Ok(Some(out));
    }
    for a in addrs {
        // [v6]:port, v4:port, v6, v4 (an optional rdomain is not modelled).
        let (host, port) = if let Some(r) = a.strip_prefix('[') {
            let Some((h, after)) = r.split_once(']') else {
                return Ok(None);
            };
            match after.strip_prefix(':') {
                Some(p) => (h.to_string(), Some(p.to_string())),
                None if after.is_empty() => (h.to_string(), None),
                None => return Ok(None),
            }
        } else if a.matches(':').count() == 1 {
            let (h, p) = a.split_once(':').unwrap_or((a, ""));
            (h.to_string(), Some(p.to_string()))
        } else {
            (a.clone(), None)
        };
        let Ok(ip) = host.parse::<std::net::IpAddr>() else {
            return Ok(None);
        };
        let wrong = match family {
            "inet" => ip.is_ipv6(),
            "inet6" => ip.is_ipv4(),
            _ => false,
        };
        if wrong {
            return Err(format!(
                "bad addr or host: {host} (Address family for hostname not supported)"
            ));
        }
        let shown = if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        match port {
            Some(p) => match parse_port(&p) {
                Some(p) => out.push(format!("{shown}:{p}")),
                None => return Ok(None),
            },
            None => {
                for p in ports {
                    out.push(format!("{shown}:{p}"));
                }
            }
        }
    }
    Ok(Some(out))
}

/// Whether a `Match` line applies to the default connection: only `all`
/// does (no user, host, address or port matches it). Errors as sshd's.
fn match_all(args: &[String]) -> Result<bool, String> {
    if args.is_empty() {
        return Err("One or more attributes required for Match".to_string());
    }
    if args[0].eq_ignore_ascii_case("all") {
        if args.len() > 1 {
            return Err("'all' cannot be combined with other Match attributes".to_string());
        }
        return Ok(true);
    }
    let mut i = 0;
    while i < args.len() {
        let attr = args[i].to_ascii_lowercase();
        if attr == "all" {
            return Err("'all' cannot be combined with other Match attributes".to_string());
        }
        if !matches!(
            attr.as_str(),
            "user" | "group" | "host" | "address" | "localaddress" | "localport" | "rdomain"
        ) {
            return Err(format!("Unsupported Match attribute {}", args[i]));
        }
        if args.get(i + 1).is_none_or(|a| a.is_empty()) {
            return Err(format!("Missing Match criteria for {}", args[i]));
        }
        i += 2;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> SshdConfig {
        parse_bytes("/etc/ssh/sshd_config", text.as_bytes())
    }

    #[test]
    fn first_value_wins_and_keywords_are_case_insensitive() {
        let c = cfg("permitRootLogin no\nPermitRootLogin yes\n");
        assert_eq!(c.get("PermitRootLogin").as_deref(), Some("no"));
        assert_eq!(
            c.sources.get("permitrootlogin").map(String::as_str),
            Some("/etc/ssh/sshd_config:1")
        );
    }

    #[test]
    fn separators_and_quotes() {
        assert_eq!(cfg("Banner=/x\n").get("banner").as_deref(), Some("/x"));
        assert_eq!(cfg("Banner = /x\n").get("banner").as_deref(), Some("/x"));
        assert_eq!(
            cfg("Banner \"/a b\"\n").get("banner").as_deref(),
            Some("/a b")
        );
        assert_eq!(cfg("Banner /a#b\n").get("banner").as_deref(), Some("/a#b"));
        assert!(cfg("Banner \"/a\n").error.is_some());
        assert!(cfg("Banner /a /b\n").error.is_some());
    }

    #[test]
    fn match_blocks_do_not_apply_but_match_all_does() {
        let c = cfg("Match User root\nPermitRootLogin yes\n");
        assert_eq!(
            c.get("permitrootlogin").as_deref(),
            Some("without-password")
        );
        let c = cfg("PermitRootLogin no\nMatch all\nPermitRootLogin yes\n");
        assert_eq!(c.get("permitrootlogin").as_deref(), Some("yes"));
    }

    #[test]
    fn include_globs_relative_and_loops() {
        let mut files = BTreeMap::new();
        files.insert(
            "/etc/ssh/sshd_config".to_string(),
            b"Include sshd_config.d/*.conf\nPermitRootLogin yes\n".to_vec(),
        );
        files.insert(
            "/etc/ssh/sshd_config.d/50-a.conf".to_string(),
            b"PasswordAuthentication no\n".to_vec(),
        );
        files.insert(
            "/etc/ssh/sshd_config.d/10-b.conf".to_string(),
            b"PermitRootLogin no\nPasswordAuthentication yes\n".to_vec(),
        );
        files.insert(
            "/etc/ssh/sshd_config.d/.hidden.conf".to_string(),
            b"X11Forwarding yes\n".to_vec(),
        );
        let c = effective(&MemSource(files.clone()), SSHD_CONFIG);
        assert_eq!(c.error, None);
        assert_eq!(c.get("permitrootlogin").as_deref(), Some("no"));
        assert_eq!(c.get("passwordauthentication").as_deref(), Some("yes"));
        assert_eq!(c.get("x11forwarding").as_deref(), Some("no"));
        files.insert(
            "/etc/ssh/sshd_config.d/50-a.conf".to_string(),
            b"Include /etc/ssh/sshd_config\n".to_vec(),
        );
        let c = effective(&MemSource(files), SSHD_CONFIG);
        assert!(c.error.unwrap().contains("recursive"));
    }

    #[test]
    fn fnmatch_basics() {
        assert!(component_match(b"*.conf", b"a.conf"));
        assert!(!component_match(b"*.conf", b".a.conf"));
        assert!(component_match(b"[0-9]?-*", b"10-x"));
        assert!(!component_match(b"[!0-9]*", b"1x"));
        assert!(component_match(b"a\\*", b"a*"));
    }

    #[test]
    fn convtime_units() {
        assert_eq!(convtime("1h2M3"), Some(3723));
        assert_eq!(convtime("2m"), Some(120));
        assert_eq!(convtime("x"), None);
        assert_eq!(convtime(""), None);
    }
}
