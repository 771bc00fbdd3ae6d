//! SHA-256 digests and their two string forms: bare lower-case hex (store
//! keys, index entries, in-toto `digest.sha256`) and `sha256:<hex>` (tree
//! digests, `bakeproof:tree-digest`).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 digest. Displays as 64 lower-case hex digits; [`Self::prefixed`]
/// gives `sha256:<hex>`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest([u8; 32]);

/// A string that is not a SHA-256 digest in the form asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("not a SHA-256 digest (64 lower-case hex digits): {0:?}")]
    Hex(String),
    #[error("not a SHA-256 digest (sha256: and 64 lower-case hex digits): {0:?}")]
    Prefixed(String),
}

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// 64 lower-case hex digits, nothing else (upper case is refused: every
    /// form bakeproof writes or compares is lower case, and a store key must
    /// have one spelling).
    pub fn from_hex(s: &str) -> Result<Sha256Digest, DigestError> {
        if !Self::is_hex(s) {
            return Err(DigestError::Hex(s.to_owned()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| DigestError::Hex(s.to_owned()))?;
        Ok(Sha256Digest(out))
    }

    /// `sha256:` and 64 lower-case hex digits.
    pub fn from_prefixed(s: &str) -> Result<Sha256Digest, DigestError> {
        s.strip_prefix("sha256:")
            .and_then(|h| Sha256Digest::from_hex(h).ok())
            .ok_or_else(|| DigestError::Prefixed(s.to_owned()))
    }

    /// Whether `s` is 64 lower-case hex digits.
    pub fn is_hex(s: &str) -> bool {
        s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// The lower-case hex form (as [`fmt::Display`]).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `sha256:<hex>`.
    pub fn prefixed(&self) -> String {
        format!("sha256:{self}")
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Sha256Digest {
    fn from(b: [u8; 32]) -> Sha256Digest {
        Sha256Digest(b)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// Bare hex, as [`Sha256Digest::from_hex`].
impl FromStr for Sha256Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Sha256Digest, DigestError> {
        Sha256Digest::from_hex(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // FIPS 180-2 / NIST test vectors.
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn of_known_vectors() {
        assert_eq!(Sha256Digest::of(b"").to_string(), EMPTY);
        assert_eq!(Sha256Digest::of(b"abc").to_hex(), ABC);
        assert_eq!(Sha256Digest::of(b"abc").prefixed(), format!("sha256:{ABC}"));
    }

    #[test]
    fn round_trips() {
        let d = Sha256Digest::from_hex(ABC).unwrap();
        assert_eq!(d, Sha256Digest::of(b"abc"));
        assert_eq!(ABC.parse::<Sha256Digest>().unwrap(), d);
        assert_eq!(
            Sha256Digest::from_prefixed(&format!("sha256:{ABC}")).unwrap(),
            d
        );
        assert_eq!(d.as_bytes()[0], 0xba);
        assert_eq!(Sha256Digest::from(*d.as_bytes()), d);
        assert_eq!(format!("{d:?}"), format!("Sha256Digest({ABC})"));
    }

    #[test]
    fn refuses() {
        let upper = ABC.to_ascii_uppercase();
        for bad in [
            "",
            &ABC[..63],
            &format!("{ABC}0"),
            &upper,
            &format!("sha256:{ABC}"),
            &format!(" {}", &ABC[1..]),
            &format!("{}g", &ABC[..63]),
            // 64 bytes, not 64 hex digits.
            &format!("é{}", &ABC[..62]),
        ] {
            assert!(Sha256Digest::from_hex(bad).is_err(), "{bad:?}");
            assert!(!Sha256Digest::is_hex(bad), "{bad:?}");
        }
        for bad in [
            ABC.to_string(),
            format!("SHA256:{ABC}"),
            format!("sha256:{upper}"),
            format!("sha256: {ABC}"),
            format!("sha512:{ABC}"),
            "sha256:".to_string(),
        ] {
            assert!(Sha256Digest::from_prefixed(&bad).is_err(), "{bad:?}");
        }
    }
}
