//! The seal's content scan: a [`ContentObserver`] that sees every regular
//! file's bytes during the indexer's single read and records, as
//! annotations, baked credentials (masked), SSH public keys (host keys and
//! authorized keys, as fingerprints) and MAC addresses pinned in network
//! configuration.
//!
//! Streaming: files are processed line by line with a bounded carry for the
//! line that straddles a chunk boundary; a line longer than [`MAX_LINE`] is
//! scanned in windows that overlap by [`OVERLAP`] bytes, so no pattern is
//! missed at a boundary and memory stays bounded whatever the file size.

use std::collections::BTreeSet;
use std::sync::Arc;

use bakeproof_index::{ContentObserver, ContentSink};

use crate::sshkey;

/// Observer name in [`bakeproof_index::Annotation::observer`].
pub const OBSERVER: &str = "seal";

/// Files larger than this are not content-scanned (documented in
/// docs/seal.md): configuration and credential files are small; what is
/// larger is data, databases, archives or logs.
pub const CONTENT_SIZE_CAP: u64 = 8 << 20;

/// Files whose whole content is needed (host private keys, registry auth
/// JSON) are buffered up to this size.
pub const BUFFER_CAP: usize = 1 << 20;

/// Longest line handled as a unit; longer lines are scanned in windows.
pub const MAX_LINE: usize = 16 << 10;

/// Overlap between windows of an over-long line (longer than any pattern).
pub const OVERLAP: usize = 256;

/// Annotation key prefixes.
pub const KEY_SECRET: &str = "secret:";
pub const KEY_NET: &str = "net:";
pub const KEY_HOST_KEY: &str = "host-key";
pub const KEY_AUTH_KEY: &str = "authorized-key";

/// Secret kinds (the `kind` of a `secrets` finding).
pub mod kind {
    pub const AWS_ACCESS_KEY: &str = "aws-access-key";
    pub const AWS_SECRET_KEY: &str = "aws-secret-key";
    pub const PRIVATE_KEY: &str = "private-key";
    pub const AWS_CREDENTIALS: &str = "aws-credentials-file";
    pub const NETRC: &str = "netrc-password";
    pub const GIT_CREDENTIALS: &str = "git-credentials";
    pub const REGISTRY_AUTH: &str = "registry-auth";
    pub const ASSIGNMENT: &str = "secret-assignment";
    pub const URL_CREDENTIALS: &str = "url-credentials";
    pub const GITHUB_TOKEN: &str = "github-token";
    pub const SLACK_TOKEN: &str = "slack-token";
}

/// The observer. Cheap to clone through `Arc`.
#[derive(Debug, Default)]
pub struct SealObserver;

impl SealObserver {
    /// The observer, ready for [`bakeproof_index::ScanOptions::observers`].
    pub fn shared() -> Arc<dyn ContentObserver> {
        Arc::new(SealObserver)
    }
}

impl ContentObserver for SealObserver {
    fn name(&self) -> &'static str {
        OBSERVER
    }

    fn start(&self, path: &[u8], size: u64) -> Option<Box<dyn ContentSink>> {
        if size == 0 || size > CONTENT_SIZE_CAP {
            return None;
        }
        Some(Box::new(Sink::new(classify(path))))
    }
}

/// Syntax of `NAME=value` style assignments a file may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignSyntax {
    None,
    /// `NAME=value` (shell, env files, systemd `Environment=`).
    Shell,
    /// `name = value` or `name=value` (ini, conf, cfg, properties, toml).
    Ini,
    /// `name: value` / `"name": "value"` (yaml, json).
    Yaml,
    /// Any other text file outside documentation (extensionless
    /// configuration, shell histories, unit files, code): `NAME=value` and
    /// `name = value`, with stricter values (no placeholders, no code:
    /// see [`is_generic_value`]).
    Generic,
}

/// How a MAC address is pinned in a network configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacSyntax {
    None,
    /// `HWADDR=` / `MACADDR=` (ifcfg).
    Ifcfg,
    /// `MACAddress=` / `PermanentMACAddress=` (systemd .network / .link).
    Networkd,
    /// `macaddress:` (netplan).
    Netplan,
    /// `mac-address=` (NetworkManager keyfile).
    NmKeyfile,
}

/// What to look for in one file, decided from its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    pub assign: AssignSyntax,
    pub mac: MacSyntax,
    pub host_key_private: bool,
    pub host_key_public: bool,
    pub authorized_keys: bool,
    pub aws_credentials: bool,
    pub netrc: bool,
    pub git_credentials: bool,
    pub registry_auth: bool,
}

const DOC_DIRS: &[&[u8]] = &[
    b"/usr/share/doc/",
    b"/usr/share/man/",
    b"/usr/share/info/",
    b"/usr/share/gtk-doc/",
    b"/usr/share/help/",
];

/// Classifies a physical path inside the root.
pub fn classify(path: &[u8]) -> Class {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let parent = &path[..path.len() - name.len()];
    let ext = name
        .iter()
        .rposition(|&b| b == b'.')
        .filter(|&i| i > 0)
        .map(|i| &name[i + 1..])
        .unwrap_or(b"");
    let in_doc = DOC_DIRS.iter().any(|d| path.starts_with(d));
    let host_key = parent == b"/etc/ssh/" && name.starts_with(b"ssh_host_");
    let host_key_public = host_key && ext == b"pub";
    let assign = if in_doc {
        AssignSyntax::None
    } else if matches!(ext, b"sh" | b"bash" | b"zsh" | b"env")
        || name == b".env"
        || name.starts_with(b".env.")
        || matches!(
            name,
            b".bashrc" | b".bash_profile" | b".profile" | b".zshrc" | b".zprofile" | b".zshenv"
        )
        || path == b"/etc/environment"
        || path.starts_with(b"/etc/default/")
        || path.starts_with(b"/etc/sysconfig/")
        || path.starts_with(b"/etc/profile.d/")
    {
        AssignSyntax::Shell
    } else if matches!(
        ext,
        b"conf" | b"cfg" | b"ini" | b"cnf" | b"properties" | b"toml" | b"service"
    ) || matches!(name, b".npmrc" | b".pypirc" | b".my.cnf" | b".s3cfg")
    {
        AssignSyntax::Ini
    } else if matches!(ext, b"yaml" | b"yml" | b"json") {
        AssignSyntax::Yaml
    } else {
        AssignSyntax::Generic
    };
    let mac = if !path.starts_with(b"/etc/") {
        MacSyntax::None
    } else if name.starts_with(b"ifcfg-") {
        MacSyntax::Ifcfg
    } else if matches!(ext, b"network" | b"link") {
        MacSyntax::Networkd
    } else if path.starts_with(b"/etc/netplan/") && matches!(ext, b"yaml" | b"yml") {
        MacSyntax::Netplan
    } else if path.starts_with(b"/etc/NetworkManager/system-connections/") {
        MacSyntax::NmKeyfile
    } else {
        MacSyntax::None
    };
    Class {
        assign,
        mac,
        host_key_private: host_key && !host_key_public,
        host_key_public,
        authorized_keys: parent.ends_with(b"/.ssh/")
            && matches!(name, b"authorized_keys" | b"authorized_keys2"),
        aws_credentials: parent.ends_with(b"/.aws/") && name == b"credentials",
        netrc: name == b".netrc",
        git_credentials: name == b".git-credentials",
        registry_auth: (parent.ends_with(b"/.docker/") && name == b"config.json")
            || (parent.ends_with(b"/containers/") && name == b"auth.json")
            || (parent.ends_with(b"/containers/0/") && name == b"auth.json"),
    }
}

/// Per-file state.
pub struct Sink {
    class: Class,
    first: bool,
    binary: bool,
    carry: Vec<u8>,
    lineno: u64,
    buffer: Option<Vec<u8>>,
    aws_ids: BTreeSet<String>,
    aws_secret_named: bool,
    aws_secret_token: bool,
    out: BTreeSet<(String, String)>,
}

impl Sink {
    pub fn new(class: Class) -> Sink {
        let buffer = (class.host_key_private || class.registry_auth).then(Vec::new);
        Sink {
            class,
            first: true,
            binary: false,
            carry: Vec::new(),
            lineno: 1,
            buffer,
            aws_ids: BTreeSet::new(),
            aws_secret_named: false,
            aws_secret_token: false,
            out: BTreeSet::new(),
        }
    }

    fn emit(&mut self, key: String, value: String) {
        self.out.insert((key, value));
    }

    fn secret(&mut self, kind: &str, detail: String) {
        self.emit(format!("{KEY_SECRET}{kind}"), detail);
    }

    fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return;
        }
        let n = self.lineno;
        if !self.class.host_key_private
            && let Some(h) = pem_private_header(line)
        {
            self.secret(kind::PRIVATE_KEY, format!("line {n}: {h}"));
        }
        for id in aws_key_ids(line) {
            self.aws_ids.insert(id);
        }
        if has_aws_secret_assignment(line) {
            self.aws_secret_named = true;
        }
        if has_40_char_token(line) {
            self.aws_secret_token = true;
        }
        let text = String::from_utf8_lossy(line);
        if self.class.assign != AssignSyntax::None {
            for name in secret_assignments(&text, self.class.assign) {
                self.secret(kind::ASSIGNMENT, format!("line {n}: {name}=<redacted>"));
            }
            if !self.class.git_credentials
                && let Some(masked) = url_credentials(&text)
            {
                self.secret(kind::URL_CREDENTIALS, format!("line {n}: {masked}"));
            }
        }
        for (k, masked) in token_shapes(line) {
            self.secret(k, format!("line {n}: {masked}"));
        }
        if self.class.aws_credentials
            && let Some((k, v)) = text.split_once('=')
            && !k.trim_start().starts_with(['#', ';'])
            && !v.trim().is_empty()
        {
            let k = k.trim();
            self.secret(kind::AWS_CREDENTIALS, format!("line {n}: {k}=<redacted>"));
        }
        if self.class.netrc {
            let mut toks = text.split_ascii_whitespace();
            while let Some(t) = toks.next() {
                if t == "password" && toks.next().is_some() {
                    self.secret(kind::NETRC, format!("line {n}: password <redacted>"));
                }
            }
        }
        if self.class.git_credentials
            && let Some(masked) = mask_url_credentials(&text)
        {
            self.secret(kind::GIT_CREDENTIALS, format!("line {n}: {masked}"));
        }
        if (self.class.authorized_keys || self.class.host_key_public)
            && let Some(k) = sshkey::parse_public_key_line(&text)
        {
            let key = if self.class.authorized_keys {
                KEY_AUTH_KEY
            } else {
                KEY_HOST_KEY
            };
            self.emit(key.into(), encode_key(&k));
        }
        if self.class.mac != MacSyntax::None
            && let Some(d) = pinned_mac(&text, self.class.mac)
        {
            self.emit(format!("{KEY_NET}mac-address"), format!("line {n}: {d}"));
        }
    }
}

impl ContentSink for Sink {
    fn update(&mut self, chunk: &[u8]) {
        if self.binary {
            return;
        }
        if self.first {
            self.first = false;
            if chunk.contains(&0) {
                self.binary = true;
                self.buffer = None;
                return;
            }
        }
        if let Some(b) = &mut self.buffer {
            if b.len() + chunk.len() <= BUFFER_CAP {
                b.extend_from_slice(chunk);
            } else {
                self.buffer = None;
            }
        }
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            if self.carry.is_empty() {
                self.line(&rest[..pos]);
            } else {
                let mut c = std::mem::take(&mut self.carry);
                c.extend_from_slice(&rest[..pos]);
                self.line(&c);
            }
            self.lineno += 1;
            rest = &rest[pos + 1..];
        }
        // Bounded carry: an over-long line is scanned as it goes, keeping an
        // overlap so a pattern across the window boundary is still seen.
        while self.carry.len() + rest.len() > MAX_LINE {
            let take = (MAX_LINE - self.carry.len()).min(rest.len());
            let mut window = std::mem::take(&mut self.carry);
            window.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.line(&window);
            self.carry = window[window.len() - OVERLAP..].to_vec();
        }
        self.carry.extend_from_slice(rest);
    }

    fn finish(mut self: Box<Self>) -> Vec<(String, String)> {
        if self.binary {
            return Vec::new();
        }
        if !self.carry.is_empty() {
            let c = std::mem::take(&mut self.carry);
            self.line(&c);
        }
        let ids = std::mem::take(&mut self.aws_ids);
        if self.aws_secret_named || self.aws_secret_token {
            for id in &ids {
                self.secret(
                    kind::AWS_ACCESS_KEY,
                    format!("{} with a secret access key", mask_middle(id)),
                );
            }
        }
        if ids.is_empty() && self.aws_secret_named && !self.class.aws_credentials {
            self.secret(
                kind::AWS_SECRET_KEY,
                "aws_secret_access_key=<redacted>".into(),
            );
        }
        if let Some(buf) = self.buffer.take() {
            if self.class.host_key_private {
                let v = match sshkey::public_from_openssh_private(&buf) {
                    Some(k) => encode_key(&k),
                    None => String::new(),
                };
                self.emit(KEY_HOST_KEY.into(), v);
            }
            if self.class.registry_auth {
                for reg in registry_auths(&buf) {
                    self.secret(
                        kind::REGISTRY_AUTH,
                        format!("auths[{reg:?}].auth <redacted>"),
                    );
                }
            }
        }
        self.out.into_iter().collect()
    }
}

/// `key_type\tbits\tfingerprint\tcomment` (the annotation value of a key).
pub fn encode_key(k: &sshkey::PublicKeyInfo) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        k.key_type,
        k.bits.map(|b| b.to_string()).unwrap_or_default(),
        k.fingerprint,
        k.comment
            .as_deref()
            .unwrap_or("")
            .replace(['\t', '\n'], " ")
    )
}

/// Inverse of [`encode_key`]; `None` for an empty value (unparsable key).
pub fn decode_key(v: &str) -> Option<sshkey::PublicKeyInfo> {
    let mut it = v.splitn(4, '\t');
    let key_type = it.next().filter(|s| !s.is_empty())?.to_owned();
    let bits = it.next()?.parse().ok();
    let fingerprint = it.next()?.to_owned();
    let comment = it.next().filter(|s| !s.is_empty()).map(str::to_owned);
    Some(sshkey::PublicKeyInfo {
        key_type,
        bits,
        fingerprint,
        comment,
    })
}

/// Shows at most the first 4 and last 4 characters: `AKIA************MPLE`.
pub fn mask_middle(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= 8 {
        return "*".repeat(c.len());
    }
    let mut out: String = c[..4].iter().collect();
    out.push_str(&"*".repeat(c.len() - 8));
    out.extend(&c[c.len() - 4..]);
    out
}

/// The PEM header of a private key on this line, if any.
pub fn pem_private_header(line: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(i) = find(&line[from..], b"-----BEGIN ") {
        let start = from + i;
        let rest = &line[start + 11..];
        let end = find(rest, b"-----")?;
        let label = &rest[..end];
        let ok = matches!(
            label,
            b"PRIVATE KEY"
                | b"RSA PRIVATE KEY"
                | b"EC PRIVATE KEY"
                | b"DSA PRIVATE KEY"
                | b"ENCRYPTED PRIVATE KEY"
                | b"OPENSSH PRIVATE KEY"
                | b"PGP PRIVATE KEY BLOCK"
        );
        if ok {
            return Some(format!(
                "-----BEGIN {}-----",
                String::from_utf8_lossy(label)
            ));
        }
        from = start + 11;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// AWS access key ids (`AKIA`/`ASIA` + 16 upper-case letters or digits, on
/// word boundaries).
pub fn aws_key_ids(line: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 20 <= line.len() {
        let w = &line[i..i + 20];
        if (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..].iter().all(|&b| is_upper_alnum(b))
            && (i == 0 || !line[i - 1].is_ascii_alphanumeric())
            && line.get(i + 20).is_none_or(|&b| !b.is_ascii_alphanumeric())
        {
            out.push(String::from_utf8_lossy(w).into_owned());
            i += 20;
        } else {
            i += 1;
        }
    }
    out
}

/// `aws_secret_access_key` (any case) assigned a 40-character value.
pub fn has_aws_secret_assignment(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    let Some(i) = find(&lower, b"secret_access_key") else {
        return false;
    };
    let rest = &line[i + 17..];
    let rest: Vec<u8> = rest
        .iter()
        .copied()
        .skip_while(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'=' | b':'))
        .take_while(|&b| is_b64(b))
        .collect();
    rest.len() == 40
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+'
}

/// A standalone run of exactly 40 base64 characters mixing upper case, lower
/// case and a digit or `/`/`+`: the shape of an AWS secret access key (a
/// 40-character hex digest, lower case only, does not qualify).
pub fn has_40_char_token(line: &[u8]) -> bool {
    let mut i = 0;
    while i < line.len() {
        if !is_b64(line[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && is_b64(line[i]) {
            i += 1;
        }
        let tok = &line[start..i];
        if tok.len() == 40
            && tok.iter().any(u8::is_ascii_uppercase)
            && tok.iter().any(u8::is_ascii_lowercase)
            && tok
                .iter()
                .any(|&b| b.is_ascii_digit() || b == b'/' || b == b'+')
        {
            return true;
        }
    }
    false
}

/// Name suffixes that make an assignment a credential (after normalising
/// `camelCase`, `-` and `.` to `snake_case`).
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "passphrase",
    "secret",
    "secret_key",
    "secret_access_key",
    "token",
    "api_key",
    "apikey",
    "private_key",
];

fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    out
}

/// Whether a variable or key name names a credential.
pub fn is_secret_name(name: &str) -> bool {
    let n = normalise_name(name);
    SECRET_SUFFIXES.iter().any(|s| {
        n == *s
            || n.strip_suffix(s)
                .is_some_and(|p| p.ends_with('_') && p.len() > 1)
    })
}

/// Whether an assigned value is a literal (not empty, not a reference).
pub fn is_literal_value(v: &str) -> bool {
    let v = v.trim();
    !(v.is_empty()
        || v.starts_with('$')
        || v.starts_with("{{")
        || v == "~"
        || v == "null"
        || v == "|"
        || v == ">")
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Names assigned a literal value on this line, per syntax. Never returns
/// the value.
pub fn secret_assignments(line: &str, syntax: AssignSyntax) -> Vec<String> {
    let b = line.as_bytes();
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.starts_with("//") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // A name starts at the line start or after a delimiter.
        // `=` too: `Environment=NAME=value` assigns NAME.
        let boundary = i == 0
            || matches!(
                b[i - 1],
                b' ' | b'\t' | b'"' | b'\'' | b';' | b'{' | b',' | b'='
            );
        if !boundary || !is_name_char(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_name_char(b[i]) {
            i += 1;
        }
        let name = &line[start..i];
        let mut j = i;
        if syntax == AssignSyntax::Yaml && j < b.len() && matches!(b[j], b'"' | b'\'') {
            j += 1;
        }
        if syntax != AssignSyntax::Shell {
            while j < b.len() && matches!(b[j], b' ' | b'\t') {
                j += 1;
            }
        }
        let sep_ok = match syntax {
            AssignSyntax::Shell | AssignSyntax::Ini => b.get(j) == Some(&b'='),
            // `=`, not `==`, `=>`, `=~` (comparisons, code).
            AssignSyntax::Generic => {
                b.get(j) == Some(&b'=') && !matches!(b.get(j + 1), Some(b'=' | b'>' | b'~'))
            }
            AssignSyntax::Yaml => b.get(j) == Some(&b':'),
            AssignSyntax::None => false,
        };
        if !sep_ok {
            continue;
        }
        j += 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        let value = value_at(&line[j..], syntax);
        let literal = match syntax {
            AssignSyntax::Generic => is_generic_value(&line[j..], value),
            _ => is_literal_value(value),
        };
        if is_secret_name(name) && literal {
            out.push(name.to_owned());
        }
        i = j;
    }
    out
}

/// A placeholder, not a credential: `<password>`, `xxxx`, `****`,
/// `changeme`, `your-password`, `example`, `redacted`...
pub fn is_placeholder(v: &str) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    let first = v.chars().next().unwrap_or(' ');
    (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']'))
        || v.starts_with('%')
        || v.chars().all(|c| c == first)
        || [
            "changeme",
            "change_me",
            "change-me",
            "changethis",
            "your",
            "example",
            "placeholder",
            "redacted",
            "replace",
            "dummy",
            "secret_here",
            "password_here",
            "todo",
            "fixme",
            "...",
        ]
        .iter()
        .any(|p| lower.contains(p))
        || matches!(
            lower.as_str(),
            "password"
                | "passwd"
                | "pass"
                | "secret"
                | "token"
                | "none"
                | "true"
                | "false"
                | "nil"
                | "undefined"
                | "yes"
                | "no"
                | "required"
                | "optional"
                | "string"
        )
}

/// A value in a file of no known configuration syntax ([`AssignSyntax::Generic`])
/// counts when it is a literal that looks like a credential: quoted, or one
/// word; not a placeholder; not code (a call, an index, an attribute, an
/// operator after it). `rest` is the line from the value on.
pub fn is_generic_value(rest: &str, value: &str) -> bool {
    if !is_literal_value(value) || is_placeholder(value) || value.len() < 4 {
        return false;
    }
    let quoted = rest.starts_with(['"', '\'']);
    if quoted {
        // `"abc" + x`, `"abc".encode()`: code; a plain quoted literal ends
        // the statement.
        let after = rest[value.len() + 2.min(rest.len() - value.len())..].trim_start();
        return after.is_empty() || after.starts_with([';', ',', '#']) || after.starts_with("//");
    }
    let value = value.trim_end_matches([';', ',']);
    let attribute = value.contains('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    !value.contains(['(', ')', '[', ']', '{', '}', '<', '>']) && !attribute
}

/// Credentials in a URL (`postgres://user:pass@host`), masked; `None`
/// without a password or with a placeholder one.
pub fn url_credentials(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || t.starts_with("//") {
        return None;
    }
    let mut from = 0;
    while let Some(i) = line[from..].find("://") {
        let start = from + i;
        let scheme_start = line[..start]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map(|p| p + 1)
            .unwrap_or(0);
        let seg = &line[scheme_start..];
        let rest = &line[start + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '/' | '?' | '#'))
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@')
            && let Some((_, pass)) = rest[..at].split_once(':')
            && pass.len() >= 3
            && !pass.starts_with('$')
            && !pass.starts_with("{{")
            && !is_placeholder(pass)
            && let Some(masked) = mask_url_credentials(seg)
        {
            return Some(masked);
        }
        from = start + 3;
    }
    None
}

fn token_run(line: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    line[from..].iter().take_while(|&&b| ok(b)).count()
}

/// Well-known token shapes anywhere in a line, masked: GitHub
/// (`ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 alphanumerics, `github_pat_` +
/// 82 word characters) and Slack (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`,
/// `xoxs-`, `xoxe-` + digits and dashes). Mixed letters and digits are
/// required (no `ghp_xxxx...` placeholder qualifies).
pub fn token_shapes(line: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mixed = |t: &[u8]| {
        t.iter().any(u8::is_ascii_digit)
            && t.iter().any(u8::is_ascii_alphabetic)
            && t.iter().collect::<BTreeSet<_>>().len() >= 10
    };
    let mut i = 0;
    while i < line.len() {
        let before_ok = i == 0 || !word(line[i - 1]);
        let rest = &line[i..];
        let mut hit = None;
        if before_ok {
            if rest.starts_with(b"github_pat_") {
                let n = token_run(line, i + 11, word);
                if n == 82 && mixed(&rest[11..11 + n]) {
                    hit = Some((kind::GITHUB_TOKEN, 11 + n));
                }
            } else if rest.len() > 4
                && rest.starts_with(b"gh")
                && matches!(rest[2], b'p' | b'o' | b'u' | b's' | b'r')
                && rest[3] == b'_'
            {
                let n = token_run(line, i + 4, |b| b.is_ascii_alphanumeric());
                if n == 36
                    && !line.get(i + 4 + n).is_some_and(|&b| word(b))
                    && mixed(&rest[4..4 + n])
                {
                    hit = Some((kind::GITHUB_TOKEN, 4 + n));
                }
            } else if rest.len() > 5
                && rest.starts_with(b"xox")
                && matches!(rest[3], b'b' | b'p' | b'a' | b'r' | b's' | b'e')
                && rest[4] == b'-'
            {
                let n = token_run(line, i + 5, |b| b.is_ascii_alphanumeric() || b == b'-');
                let t = &rest[5..5 + n];
                if n >= 20 && t.iter().filter(|&&b| b == b'-').count() >= 2 && mixed(t) {
                    hit = Some((kind::SLACK_TOKEN, 5 + n));
                }
            }
        }
        match hit {
            Some((k, len)) => {
                let tok = String::from_utf8_lossy(&line[i..i + len]).into_owned();
                out.push((k, mask_middle(&tok)));
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

fn value_at(s: &str, syntax: AssignSyntax) -> &str {
    let b = s.as_bytes();
    match b.first() {
        Some(&q @ (b'"' | b'\'')) => match s[1..].find(q as char) {
            Some(e) => &s[1..1 + e],
            None => &s[1..],
        },
        _ => {
            let end = match syntax {
                AssignSyntax::Shell => s.find([' ', '\t', ';', '"', '\'']).unwrap_or(s.len()),
                AssignSyntax::Yaml => s.find([',', '}', ' ', '\t']).unwrap_or(s.len()),
                _ => s.find(" #").or_else(|| s.find(" ;")).unwrap_or(s.len()),
            };
            let v = &s[..end];
            if v.starts_with('#') { "" } else { v }
        }
    }
}

/// `https://user:pass@host` → `https://user:<redacted>@host`.
pub fn mask_url_credentials(line: &str) -> Option<String> {
    let i = line.find("://")?;
    let scheme = &line[..i];
    let rest = &line[i + 3..];
    let at = rest.find('@')?;
    let userinfo = &rest[..at];
    if userinfo.contains('/') || userinfo.contains(char::is_whitespace) {
        return None;
    }
    let (user, pass) = userinfo.split_once(':')?;
    if pass.is_empty() {
        return None;
    }
    let host: String = rest[at + 1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '/')
        .collect();
    Some(format!("{scheme}://{user}:<redacted>@{host}"))
}

/// A MAC address pinned on this line (the line's key and value).
pub fn pinned_mac(line: &str, syntax: MacSyntax) -> Option<String> {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let (k, v) = match syntax {
        MacSyntax::Netplan => t.split_once(':')?,
        _ => t.split_once('=')?,
    };
    let k = k.trim();
    let v = v.trim().trim_matches(['"', '\'']);
    let ok = match syntax {
        MacSyntax::Ifcfg => matches!(k, "HWADDR" | "MACADDR"),
        MacSyntax::Networkd => matches!(k, "MACAddress" | "PermanentMACAddress"),
        MacSyntax::Netplan => k.trim_start_matches("- ") == "macaddress",
        MacSyntax::NmKeyfile => matches!(k, "mac-address" | "cloned-mac-address"),
        MacSyntax::None => false,
    };
    (ok && !v.is_empty() && !v.starts_with('$')).then(|| format!("{k}={v}"))
}

/// Registries with a non-empty `auth` (or `identitytoken`) in a Docker /
/// containers auth file.
pub fn registry_auths(buf: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(buf) else {
        return Vec::new();
    };
    let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
        return Vec::new();
    };
    auths
        .iter()
        .filter(|(_, e)| {
            ["auth", "identitytoken"].iter().any(|k| {
                e.get(k)
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| !s.is_empty())
            })
        })
        .map(|(r, _)| r.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut s: Box<dyn ContentSink> = Box::new(Sink::new(classify(path.as_bytes())));
        for c in chunks {
            s.update(c);
        }
        s.finish()
    }

    fn run_all_splits(path: &str, content: &[u8]) -> Vec<(String, String)> {
        let whole = run(path, &[content]);
        for cut in 0..=content.len() {
            let (a, b) = content.split_at(cut);
            assert_eq!(run(path, &[a, b]), whole, "split at {cut}");
        }
        whole
    }

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn aws_pair_named_and_token() {
        let f = format!("[default]\naws_access_key_id = {ID}\naws_secret_access_key = {SECRET}\n");
        let out = run_all_splits("/opt/app/creds.txt", f.as_bytes());
        assert_eq!(
            out,
            vec![(
                "secret:aws-access-key".into(),
                "AKIA************MPLE with a secret access key".into()
            )]
        );
        // A 40-char token nearby, no name.
        let f = format!("key={ID} other={SECRET}\n");
        assert_eq!(run("/x.txt", &[f.as_bytes()]).len(), 1);
        // An id alone, or a hex digest: not a pair.
        let f = format!("{ID}\n3f786850e387550fdab836ed7e6dc881de23001b\n");
        assert!(run("/x.txt", &[f.as_bytes()]).is_empty());
        // No secret ever appears in the output.
        let f = format!("export AWS_ACCESS_KEY_ID={ID}\nexport AWS_SECRET_ACCESS_KEY={SECRET}\n");
        let out = run("/root/setup.sh", &[f.as_bytes()]);
        assert_eq!(out.len(), 2, "{out:?}");
        for (k, v) in &out {
            assert!(!v.contains(SECRET) && !v.contains(ID), "{k} {v}");
        }
    }

    #[test]
    fn aws_id_boundaries() {
        assert_eq!(aws_key_ids(ID.as_bytes()), vec![ID.to_string()]);
        assert!(aws_key_ids(format!("X{ID}").as_bytes()).is_empty());
        assert!(aws_key_ids(format!("{ID}9").as_bytes()).is_empty());
        assert!(aws_key_ids(b"AKIAiosfodnn7example").is_empty());
        assert_eq!(aws_key_ids(b"id=ASIAABCDEFGHIJKLMNOP;").len(), 1);
    }

    #[test]
    fn pem_headers() {
        for l in [
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN DSA PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "key: \"-----BEGIN RSA PRIVATE KEY-----\\nMII",
        ] {
            assert!(pem_private_header(l.as_bytes()).is_some(), "{l}");
        }
        for l in [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----",
        ] {
            assert!(pem_private_header(l.as_bytes()).is_none(), "{l}");
        }
        let pem = b"junk\n-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\n";
        let out = run_all_splits("/root/key.pem", pem);
        assert_eq!(
            out,
            vec![(
                "secret:private-key".into(),
                "line 2: -----BEGIN RSA PRIVATE KEY-----".into()
            )]
        );
        // Host keys are the ssh-host-keys check's business.
        let out = run("/etc/ssh/ssh_host_rsa_key", &[pem]);
        assert!(
            out.iter().all(|(k, _)| !k.starts_with(KEY_SECRET)),
            "{out:?}"
        );
    }

    #[test]
    fn assignments() {
        let sh = AssignSyntax::Shell;
        assert_eq!(
            secret_assignments("DB_PASSWORD=hunter2", sh),
            vec!["DB_PASSWORD"]
        );
        assert_eq!(
            secret_assignments("export API_KEY='abc'", sh),
            vec!["API_KEY"]
        );
        assert_eq!(secret_assignments("TOKEN=changeme # x", sh), vec!["TOKEN"]);
        assert_eq!(
            secret_assignments(r#"Environment="SECRET=s3" "A=b""#, AssignSyntax::Ini),
            vec!["SECRET"]
        );
        for l in [
            "DB_PASSWORD=",
            "DB_PASSWORD=\"\"",
            "DB_PASSWORD=$FROM_VAULT",
            "DB_PASSWORD=${FROM_VAULT}",
            "# DB_PASSWORD=x",
            "PASSWORD_FILE=/run/secrets/db",
            "TOKEN_URL=https://x",
            "PASSWORD = x",
        ] {
            assert!(secret_assignments(l, sh).is_empty(), "{l}");
        }
        let ini = AssignSyntax::Ini;
        assert_eq!(
            secret_assignments("password = s3cret", ini),
            vec!["password"]
        );
        assert!(secret_assignments("PasswordAuthentication no", ini).is_empty());
        assert!(secret_assignments("PasswordAuthentication=no", ini).is_empty());
        assert!(secret_assignments("; password = x", ini).is_empty());
        let y = AssignSyntax::Yaml;
        assert_eq!(secret_assignments("  apiKey: abc", y), vec!["apiKey"]);
        assert_eq!(
            secret_assignments(r#"{"db_pass": "x"}"#, y),
            vec!["db_pass"]
        );
        assert!(secret_assignments("  password: ''", y).is_empty());
        assert!(secret_assignments("  password: {{ vault }}", y).is_empty());
        assert!(secret_assignments("  password: null", y).is_empty());
        assert!(is_secret_name("authToken") && is_secret_name("client-secret"));
        assert!(!is_secret_name("bypass") && !is_secret_name("MaxAuthTries"));
    }

    #[test]
    fn assignments_only_in_config_files() {
        let c = b"DB_PASSWORD=hunter2\n";
        assert_eq!(run("/etc/default/app", &[c]).len(), 1);
        assert_eq!(run("/opt/app/.env", &[c]).len(), 1);
        assert!(run("/usr/share/doc/app/README", &[c]).is_empty());
        assert!(run("/usr/share/doc/app/example.conf", &[c]).is_empty());
        // Any other text file gets the (stricter) generic rules.
        assert_eq!(run("/opt/app/notes.txt", &[c]).len(), 1);
        // The detail names the variable, never the value.
        let out = run("/etc/default/app", &[c]);
        assert_eq!(out[0].1, "line 1: DB_PASSWORD=<redacted>");
    }

    /// The cases extension-based classification missed.
    #[test]
    fn content_not_extension_decides() {
        let kinds = |path: &str, c: &str| -> Vec<String> {
            run(path, &[c.as_bytes()])
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        let a = "secret:secret-assignment";
        assert_eq!(kinds("/opt/app/config", "DB_PASSWORD=hunter2x\n"), [a]);
        assert_eq!(
            kinds(
                "/etc/systemd/system/app.service.d/override.conf",
                "[Service]\nEnvironment=DB_PASSWORD=hunter2x\n"
            ),
            [a]
        );
        assert_eq!(
            kinds(
                "/etc/systemd/system/app.service",
                "Environment=API_TOKEN=abcd1234\n"
            ),
            [a]
        );
        assert_eq!(
            kinds("/root/.bash_history", "ls\nexport DB_PASSWORD=hunter2x\n"),
            [a]
        );
        assert_eq!(
            kinds(
                "/opt/app/.env",
                "DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app\n"
            ),
            ["secret:url-credentials"]
        );
        let gh = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
        assert_eq!(gh.len(), 40);
        assert_eq!(
            kinds("/opt/app/notes.txt", &format!("use {gh} here\n")),
            ["secret:github-token"]
        );
        let pat = format!("github_pat_{}", "A1b2C3d4E5_".repeat(7) + "x9abc");
        assert_eq!(
            kinds("/srv/deploy", &format!("{pat}\n")),
            ["secret:github-token"]
        );
        assert_eq!(
            kinds(
                "/srv/run.log",
                "hook xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp\n"
            ),
            ["secret:slack-token"]
        );
        let out = run("/opt/app/notes.txt", &[format!("{gh}\n").as_bytes()]);
        assert!(!out[0].1.contains(&gh[4..36]), "masked: {}", out[0].1);
    }

    /// Realistic non-secret text: no finding.
    #[test]
    fn decoys_stay_quiet() {
        let decoys: &[(&str, &str)] = &[
            (
                "/opt/app/config.example",
                "DB_PASSWORD=<your-password>\nAPI_TOKEN=changeme\nSECRET=xxxxxxxx\n",
            ),
            (
                "/opt/app/README",
                "Set PASSWORD=your_password_here in the config.\n",
            ),
            (
                "/opt/app/app.py",
                "password = getpass.getpass()\nif password == stored:\n    token = make_token(user)\nsecret = os.environ[\"SECRET\"]\napi_key = None\n",
            ),
            (
                "/opt/app/app.js",
                "const token = req.headers.authorization;\nlet password = \"\";\n",
            ),
            (
                "/etc/ssh/sshd_config",
                "PasswordAuthentication no\nPermitEmptyPasswords no\n",
            ),
            (
                "/root/.bash_history",
                "export PATH=$PATH:/opt/bin\nexport DB_PASSWORD=$(vault read -field=pw db)\npasswd ec2-user\n",
            ),
            (
                "/opt/app/.env",
                "DATABASE_URL=postgres://app@db/app\nREDIS_URL=redis://:${REDIS_PASSWORD}@cache\nDOCS=https://user:<password>@example.com\n",
            ),
            (
                "/opt/app/notes.txt",
                "tokens look like ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nslack xoxb-your-token-here\n",
            ),
            (
                "/etc/pam.d/common-password",
                "password requisite pam_pwquality.so retry=3\n",
            ),
            ("/opt/app/Makefile", "TOKEN_FILE = /run/secrets/token\n"),
        ];
        for (path, content) in decoys {
            let out = run(path, &[content.as_bytes()]);
            assert!(out.is_empty(), "{path}: {out:?}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask_middle(ID), "AKIA************MPLE");
        assert_eq!(mask_middle("short"), "*****");
        assert_eq!(
            mask_url_credentials("https://bob:pw@github.com/x").unwrap(),
            "https://bob:<redacted>@github.com"
        );
        assert!(mask_url_credentials("https://github.com/x").is_none());
        assert!(mask_url_credentials("https://bob@github.com").is_none());
    }

    #[test]
    fn credential_files() {
        let out = run("/root/.netrc", &[b"machine h login u password p\n"]);
        assert_eq!(out[0].0, "secret:netrc-password");
        assert!(run("/root/.netrc", &[b"machine h login u\n"]).is_empty());
        let out = run("/home/u/.git-credentials", &[b"https://u:tok@github.com\n"]);
        assert_eq!(out[0].1, "line 1: https://u:<redacted>@github.com");
        let d = br#"{"auths": {"registry.example.com": {"auth": "dTpw"}, "empty.io": {}}}"#;
        let out = run("/root/.docker/config.json", &[&d[..10], &d[10..]]);
        assert_eq!(
            out,
            vec![(
                "secret:registry-auth".into(),
                "auths[\"registry.example.com\"].auth <redacted>".into()
            )]
        );
        assert!(run("/root/.docker/config.json", &[br#"{"auths": {}}"#]).is_empty());
        let out = run("/etc/containers/auth.json", &[d]);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn binary_files_are_skipped() {
        let mut c = format!("{ID} {SECRET}\n").into_bytes();
        c.push(0);
        assert!(run("/x.bin", &[&c]).is_empty());
    }

    #[test]
    fn long_lines_are_windowed_and_straddling_matches_found() {
        // The pair inside an over-long line, at every offset around a
        // window boundary and a chunk boundary.
        for pad in [MAX_LINE - 30, MAX_LINE - 5, MAX_LINE + 3, 3 * MAX_LINE] {
            let mut c = vec![b'x'; pad];
            c.extend_from_slice(format!(" {ID} ").as_bytes());
            c.extend(std::iter::repeat_n(b'y', 100));
            c.extend_from_slice(format!(" {SECRET} ").as_bytes());
            c.extend(std::iter::repeat_n(b'z', MAX_LINE));
            for cut in [1, 4096, pad, pad + 7, pad + 130] {
                let (a, b) = c.split_at(cut.min(c.len()));
                let out = run("/x.txt", &[a, b]);
                assert_eq!(out.len(), 1, "pad {pad} cut {cut}: {out:?}");
            }
        }
    }

    #[test]
    fn macs() {
        assert_eq!(
            pinned_mac("HWADDR=52:54:00:12:34:56", MacSyntax::Ifcfg).unwrap(),
            "HWADDR=52:54:00:12:34:56"
        );
        assert!(pinned_mac("MACAddress=0a:1b:2c:3d:4e:5f", MacSyntax::Networkd).is_some());
        assert!(pinned_mac("MACAddressPolicy=persistent", MacSyntax::Networkd).is_none());
        assert!(pinned_mac("      macaddress: 0a:1b:2c:3d:4e:5f", MacSyntax::Netplan).is_some());
        let out = run(
            "/etc/netplan/50-cloud-init.yaml",
            &[b"network:\n  ethernets:\n    eth0:\n      match:\n        macaddress: 0a:1b:2c:3d:4e:5f\n"],
        );
        assert_eq!(out[0].0, "net:mac-address");
        assert_eq!(out[0].1, "line 5: macaddress=0a:1b:2c:3d:4e:5f");
    }
}
