//! OpenSSH public keys: parsing `.pub` lines and `openssh-key-v1` private
//! keys, and the SHA256 fingerprint exactly as `ssh-keygen -l` prints it.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha2::{Digest, Sha256};

/// A public key as `ssh-keygen -l` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// Key type from the blob, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`.
    pub key_type: String,
    /// Key size in bits as `ssh-keygen -l` prints it (RSA: modulus bits).
    pub bits: Option<u32>,
    /// `SHA256:` + unpadded base64 of SHA-256 of the key blob.
    pub fingerprint: String,
    /// The comment of the `.pub` line (or of the private key), if any.
    pub comment: Option<String>,
}

/// `SHA256:` + unpadded standard base64 of SHA-256(blob).
pub fn fingerprint_sha256(blob: &[u8]) -> String {
    let d: [u8; 32] = Sha256::digest(blob).into();
    format!("SHA256:{}", STANDARD_NO_PAD.encode(d))
}

/// The short name `ssh-keygen -l` prints in parentheses (`ED25519`, `RSA`...).
pub fn display_type(key_type: &str) -> &'static str {
    match key_type {
        "ssh-ed25519" => "ED25519",
        "ssh-rsa" => "RSA",
        "ssh-dss" => "DSA",
        t if t.starts_with("ecdsa-sha2-") => "ECDSA",
        "sk-ssh-ed25519@openssh.com" => "ED25519-SK",
        "sk-ecdsa-sha2-nistp256@openssh.com" => "ECDSA-SK",
        _ => "UNKNOWN",
    }
}

/// Describes a public key blob (the wire format of RFC 4253 section 6.6).
pub fn describe_blob(blob: &[u8], comment: Option<String>) -> Option<PublicKeyInfo> {
    let mut r = Reader(blob);
    let key_type = String::from_utf8(r.string()?.to_vec()).ok()?;
    let bits = match key_type.as_str() {
        "ssh-ed25519" | "sk-ssh-ed25519@openssh.com" => Some(256),
        "ssh-rsa" => {
            let _e = r.string()?;
            mpint_bits(r.string()?)
        }
        "ssh-dss" => mpint_bits(r.string()?),
        t if t.contains("nistp256") => Some(256),
        t if t.contains("nistp384") => Some(384),
        t if t.contains("nistp521") => Some(521),
        _ => None,
    };
    Some(PublicKeyInfo {
        key_type,
        bits,
        fingerprint: fingerprint_sha256(blob),
        comment,
    })
}

fn mpint_bits(m: &[u8]) -> Option<u32> {
    let m = match m.iter().position(|&b| b != 0) {
        Some(i) => &m[i..],
        None => return Some(0),
    };
    let lead = 8 - m[0].leading_zeros();
    Some((m.len() as u32 - 1) * 8 + lead)
}

/// Parses one public key line (`authorized_keys` or `.pub`): optional
/// options, the key type, the base64 blob, an optional comment. `None` for
/// blank lines, comments and anything that is not a key.
pub fn parse_public_key_line(line: &str) -> Option<PublicKeyInfo> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // The key type may be preceded by options (authorized_keys); find the
    // first field followed by a base64 blob whose embedded type matches.
    let fields = split_fields(line);
    for i in 0..fields.len().saturating_sub(1) {
        let (ty, _) = fields[i];
        let (b64, end) = fields[i + 1];
        if !looks_like_key_type(ty) {
            continue;
        }
        let Some(blob) = base64_decode(b64) else {
            continue;
        };
        let mut r = Reader(&blob);
        if r.string() != Some(ty.as_bytes()) {
            continue;
        }
        let comment = line[end..].trim();
        let comment = (!comment.is_empty()).then(|| comment.to_owned());
        return describe_blob(&blob, comment);
    }
    None
}

fn looks_like_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")
}

/// Whitespace-separated fields with their end offsets; double-quoted
/// strings (authorized_keys options) are kept whole.
fn split_fields(s: &str) -> Vec<(&str, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut quoted = false;
        while i < b.len() && (quoted || !b[i].is_ascii_whitespace()) {
            if b[i] == b'"' {
                quoted = !quoted;
            }
            i += 1;
        }
        out.push((&s[start..i], i));
    }
    out
}

/// The public key of an OpenSSH-format private key file
/// (`-----BEGIN OPENSSH PRIVATE KEY-----`): the public blob is stored
/// unencrypted in front of the (possibly encrypted) private section.
pub fn public_from_openssh_private(pem: &[u8]) -> Option<PublicKeyInfo> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
    let end = "-----END OPENSSH PRIVATE KEY-----";
    let start = text.find(begin)? + begin.len();
    let stop = start + text[start..].find(end)?;
    let raw = base64_decode(&text[start..stop])?;
    let rest = raw.strip_prefix(b"openssh-key-v1\0")?;
    let mut r = Reader(rest);
    let cipher = r.string()?;
    let _kdf = r.string()?;
    let _kdfopts = r.string()?;
    let n = r.u32()?;
    if n < 1 {
        return None;
    }
    let blob = r.string()?.to_vec();
    // Unencrypted keys carry the comment in the private section.
    let mut comment = None;
    if cipher == b"none" {
        let _ = r.string().and_then(|private| {
            let mut p = Reader(private);
            let (c1, c2) = (p.u32()?, p.u32()?);
            if c1 != c2 {
                return None;
            }
            let ty = p.string()?;
            // Skip the key-type specific fields: count them per type.
            let fields = match ty {
                b"ssh-ed25519" => 2,
                b"ssh-rsa" => 6,
                b"ssh-dss" => 5,
                t if t.starts_with(b"ecdsa-sha2-") => 3,
                _ => return None,
            };
            for _ in 0..fields {
                p.string()?;
            }
            let c = String::from_utf8(p.string()?.to_vec()).ok()?;
            if !c.is_empty() {
                comment = Some(c);
            }
            Some(())
        });
    }
    describe_blob(&blob, comment)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (h, t) = self.0.split_first_chunk::<4>()?;
        self.0 = t;
        Some(u32::from_be_bytes(*h))
    }
    fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        if self.0.len() < n {
            return None;
        }
        let (s, t) = self.0.split_at(n);
        self.0 = t;
        Some(s)
    }
}

/// Standard base64 (RFC 4648 section 4) as OpenSSH key files use it, padding
/// optional. Trailing bits that do not make a byte are dropped whatever
/// they are, as before this used the `base64` crate.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes [`B64`], ignoring ASCII whitespace (a PEM body is wrapped at 70
/// columns). `None` for anything else that is not base64: a byte outside the
/// alphabet, data after padding, more padding than the length needs, a
/// length no encoding has (one symbol past a group of four).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if s.iter().any(u8::is_ascii_whitespace) {
        let compact: Vec<u8> = s
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        B64.decode(compact).ok()
    } else {
        B64.decode(s).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip() {
        for (raw, enc) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64_decode(enc).unwrap(), raw);
            assert_eq!(base64_decode(enc.trim_end_matches('=')).unwrap(), raw);
        }
        assert_eq!(base64_decode("Zm\n8").unwrap(), b"fo");
        assert_eq!(base64_decode(" Zm9v\r\nYg =\t=\n").unwrap(), b"foob");
        // Trailing bits are dropped, as ever.
        assert_eq!(base64_decode("Zm9=").unwrap(), b"fo");
        assert!(base64_decode("Zm*8").is_none());
        assert!(base64_decode("Zm8=Zm8=").is_none());
    }

    /// Malformed lengths and padding are refused; the hand-written decoder
    /// this replaces returned a truncated blob for them.
    #[test]
    fn base64_refuses_impossible_lengths_and_padding() {
        for bad in ["Z", "Zm9vY", "Zg===", "Zg=====", "Zm9v=", "="] {
            assert!(base64_decode(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn ed25519_pub_line() {
        // Generated with ssh-keygen -t ed25519; fingerprint from ssh-keygen -l.
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3R78GBF0hkl3KMX1pp4ZzhNlA0hADvre8GHLLOQpsz test@host";
        let k = parse_public_key_line(line).unwrap();
        assert_eq!(k.key_type, "ssh-ed25519");
        assert_eq!(k.bits, Some(256));
        assert_eq!(k.comment.as_deref(), Some("test@host"));
        // `ssh-keygen -l -f`: 256 SHA256:+EwT... test@host (ED25519)
        assert_eq!(
            k.fingerprint,
            "SHA256:+EwTbwc3y5D40gRjUWry1v+jXRTeuDjpoob+ahfzeqA"
        );
    }

    #[test]
    fn options_before_key() {
        let line = r#"no-pty,command="echo a b" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C7okWi0dh2l9GKJl c"#;
        let k = parse_public_key_line(line).unwrap();
        assert_eq!(k.comment.as_deref(), Some("c"));
        assert!(parse_public_key_line("# ssh-rsa AAAA").is_none());
        assert!(parse_public_key_line("").is_none());
    }
}
