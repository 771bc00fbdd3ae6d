//! `os-release(5)`: which distribution a root is, for package URLs and SBOM
//! metadata.

use bakeproof_index::ReadOnlyTree;

use crate::PkgDbError;

/// Largest os-release file read. Real ones are well under 1 KiB; the limit
/// only stops a hostile root from making us read a huge file.
pub const OS_RELEASE_LIMIT: u64 = 1 << 20;

/// Where os-release(5) says to look, in its order: `/etc/os-release` takes
/// precedence, `/usr/lib/os-release` is the vendor fallback.
pub const OS_RELEASE_PATHS: [&[u8]; 2] = [b"/etc/os-release", b"/usr/lib/os-release"];

/// The fields of os-release(5) this tool uses.
///
/// No defaults are filled in (os-release(5) says a missing `ID` means
/// `linux`): an absent field stays `None` so that callers can tell "the image
/// said nothing" from "the image said linux". Empty values are `None` too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
    pub version_codename: Option<String>,
    /// `ID_LIKE`, split on whitespace.
    pub id_like: Vec<String>,
    pub cpe_name: Option<String>,
}

impl OsRelease {
    /// Parses an os-release file.
    ///
    /// os-release(5) declares the format a subset of shell variable
    /// assignments, so values are unquoted as a shell would: `"..."` with the
    /// backslash escapes `\"` `\\` `\$` `` \` ``, `'...'` literally, and a
    /// backslash outside quotes escapes the next character. Lines that are
    /// blank, comments (`#`), or not `NAME=value` are skipped: a damaged line
    /// must not hide the others. The last assignment of a variable wins, as
    /// in a shell. Never fails: an unreadable file simply yields no fields.
    pub fn parse(bytes: &[u8]) -> OsRelease {
        let text = String::from_utf8_lossy(bytes);
        let mut os = OsRelease::default();
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let key_ok = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                continue;
            }
            let value = unquote(raw);
            let opt = if value.is_empty() { None } else { Some(value) };
            match key {
                "ID" => os.id = opt,
                "VERSION_ID" => os.version_id = opt,
                "NAME" => os.name = opt,
                "PRETTY_NAME" => os.pretty_name = opt,
                "VERSION_CODENAME" => os.version_codename = opt,
                "CPE_NAME" => os.cpe_name = opt,
                "ID_LIKE" => {
                    os.id_like = opt
                        .map(|v| v.split_whitespace().map(str::to_owned).collect())
                        .unwrap_or_default()
                }
                _ => {}
            }
        }
        os
    }
}

/// Shell-style unquoting of one assignment's right-hand side. Stops at the
/// first unquoted whitespace (what follows would be another word, which a
/// shell would run as a command: not part of the value). An unterminated
/// quote takes the rest of the line rather than failing.
fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                            Some(n) => {
                                out.push('\\');
                                out.push(n);
                            }
                            None => out.push('\\'),
                        },
                        _ => out.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
    }
    out
}

/// Reads `/etc/os-release`, falling back to `/usr/lib/os-release`, inside the
/// root (so `etc/os-release -> ../usr/lib/os-release` resolves within it).
///
/// `Ok(None)` when neither exists (or `/etc/os-release` is a dangling link).
/// Any other failure (unreadable, not a regular file, too large) is an error,
/// because silently falling back could report the wrong distribution.
pub fn read_os_release(root: &dyn ReadOnlyTree) -> Result<Option<OsRelease>, PkgDbError> {
    for path in OS_RELEASE_PATHS {
        match root.read_file(path, OS_RELEASE_LIMIT) {
            Ok(bytes) => return Ok(Some(OsRelease::parse(&bytes))),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(PkgDbError::root(path, e)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_12() {
        let os = OsRelease::parse(
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
              VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!(os.id.as_deref(), Some("debian"));
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.name.as_deref(), Some("Debian GNU/Linux"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert!(os.id_like.is_empty());
    }

    #[test]
    fn quoting() {
        let os = OsRelease::parse(
            b"# comment\n\n  ID='my distro'\nNAME=\"say \\\"hi\\\" \\$HOME \\\\ \\n\"\n\
              PRETTY_NAME=a\\ b\"c d\"'e f'\nID_LIKE=\"rhel  centos\tfedora\"\n\
              VERSION_ID=1.0 trailing words\nCPE_NAME=\"unterminated\r\nbad line\n1X=2\n",
        );
        assert_eq!(os.id.as_deref(), Some("my distro"));
        assert_eq!(os.name.as_deref(), Some("say \"hi\" $HOME \\ \\n"));
        assert_eq!(os.pretty_name.as_deref(), Some("a bc de f"));
        assert_eq!(os.id_like, ["rhel", "centos", "fedora"]);
        assert_eq!(os.version_id.as_deref(), Some("1.0"));
        assert_eq!(os.cpe_name.as_deref(), Some("unterminated"));
    }

    #[test]
    fn last_wins_and_empty_is_none() {
        let os = OsRelease::parse(b"ID=a\nID=b\nVERSION_ID=\nVERSION_CODENAME=\"\"\n");
        assert_eq!(os.id.as_deref(), Some("b"));
        assert_eq!(os.version_id, None);
        assert_eq!(os.version_codename, None);
    }

    #[test]
    fn garbage() {
        let os = OsRelease::parse(&[0xff, 0, 0x80, b'=', b'\n', b'"', 0xfe]);
        assert_eq!(os, OsRelease::default());
    }
}
