//! cosign-compatible ECDSA P-256 keys.
//!
//! Private key file (`cosign.key`): PEM, label `ENCRYPTED SIGSTORE PRIVATE KEY`
//! (`ENCRYPTED COSIGN PRIVATE KEY`, written by older cosign, is read too). The
//! PEM body is the JSON document of go-securesystemslib's `encrypted` package,
//! exactly as cosign writes it:
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<base64, 32 bytes>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64, 24 bytes>"},
//!  "ciphertext":"<base64>"}
//! ```
//!
//! `key = scrypt(password, salt, N, r, p, 32)`; `ciphertext = secretbox(PKCS#8 DER
//! of the EC private key, nonce, key)` (XSalsa20-Poly1305, tag first as in NaCl).
//! Base64 is standard with padding (Go's encoding of `[]byte`).
//!
//! Public key file (`cosign.pub`): PEM `PUBLIC KEY`, the SubjectPublicKeyInfo DER.
//!
//! Key id: lower-case hex SHA-256 of that SubjectPublicKeyInfo DER.
//!
//! [`KeyPairFiles`] writes a new pair (never over an existing file). The
//! password comes from the caller: asking for it (`COSIGN_PASSWORD`, a
//! terminal prompt) is the CLI's job, never this library's.
//!
//! Why not the `sigstore` crate: the format is small and fully specified, and
//! the crate's non-optional dependencies (tokio, chrono, x509-cert, rsa,
//! ed25519-dalek, p384, its protobuf specs, in the releases looked at) would
//! come into a binary that also runs at boot, on RustCrypto majors older than
//! this workspace's. Its bundle code only handles Fulcio/Rekor bundles, so DSSE
//! and keyed bundles are ours anyway. The RustCrypto crates used here (`p256`,
//! `scrypt`, `crypto_secretbox`) are the ones the `sigstore` crate itself uses
//! for this format; interop with independent implementations (PyNaCl +
//! hashlib.scrypt, Python `cryptography`) is tested in tests/attest.rs.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey, signature::Signer, signature::Verifier};
use p256::pkcs8::der::pem::{self, LineEnding};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// PEM label cosign writes for private keys.
pub const PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of older cosign private keys (read only).
pub const LEGACY_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The environment variable cosign reads the password from.
pub const PASSWORD_ENV: &str = "COSIGN_PASSWORD";

/// scrypt parameters cosign writes (N = 2^15, r = 8, p = 1).
const LOG_N: u8 = 15;
const R: u32 = 8;
const P: u32 = 1;
/// Largest accepted scrypt N on read (2^20: 1 GiB of memory with r = 8).
const MAX_LOG_N: u8 = 20;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("wrong password")]
    WrongPassword,
    #[error("not a cosign private key: {0}")]
    Format(String),
    #[error("not a P-256 public key: {0}")]
    PublicKey(String),
    #[error("no password: set {PASSWORD_ENV} or run on a terminal ({0})")]
    NoPassword(String),
    #[error("passwords do not match")]
    PasswordMismatch,
    /// A file of the pair to write exists (a dangling symlink counts).
    #[error("{} exists: not overwriting", .0.display())]
    Exists(PathBuf),
    /// A file of the pair could not be written.
    #[error("{}", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: CipherInfo,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct CipherInfo {
    name: String,
    nonce: String,
}

/// A P-256 signing key. Never printed (its `Debug` shows the key id only).
pub struct PrivateKey {
    key: SigningKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public_key().keyid())
    }
}

/// A P-256 verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

fn derive(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<Key, KeyError> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| KeyError::Format(format!("scrypt parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, out.as_mut())
        .map_err(|e| KeyError::Format(format!("scrypt: {e}")))?;
    Ok(*Key::from_slice(out.as_ref()))
}

impl PrivateKey {
    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Self {
        PrivateKey {
            key: SigningKey::random(&mut OsRng),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: *self.key.verifying_key(),
        }
    }

    /// ECDSA P-256 with SHA-256 over `msg`; the ASN.1 DER signature.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }

    /// The key as cosign's encrypted PEM (see the module documentation).
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| KeyError::Format(format!("PKCS#8 encoding: {e}")))?;
        let mut salt = [0u8; 32];
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let key = derive(password, &salt, LOG_N, R, P)?;
        let ct = XSalsa20Poly1305::new(&key)
            .encrypt(Nonce::from_slice(&nonce), der.as_bytes())
            .map_err(|_| KeyError::Format("secretbox encryption failed".into()))?;
        let doc = EncryptedKey {
            kdf: Kdf {
                name: "scrypt".into(),
                params: ScryptParams {
                    n: 1 << LOG_N,
                    r: R,
                    p: P,
                },
                salt: STANDARD.encode(salt),
            },
            cipher: CipherInfo {
                name: "nacl/secretbox".into(),
                nonce: STANDARD.encode(nonce),
            },
            ciphertext: STANDARD.encode(ct),
        };
        let json = serde_json::to_vec(&doc).expect("serializable");
        pem::encode_string(PRIVATE_KEY_LABEL, LineEnding::LF, &json)
            .map_err(|e| KeyError::Format(format!("PEM encoding: {e}")))
    }

    /// Reads cosign's encrypted PEM. A failed authentication is `WrongPassword`.
    pub fn from_encrypted_pem(pem_text: &[u8], password: &[u8]) -> Result<Self, KeyError> {
        let (label, body) = pem::decode_vec(trim_pem(pem_text))
            .map_err(|e| KeyError::Format(format!("PEM: {e}")))?;
        if label != PRIVATE_KEY_LABEL && label != LEGACY_PRIVATE_KEY_LABEL {
            return Err(KeyError::Format(format!(
                "PEM label {label:?}, expected {PRIVATE_KEY_LABEL:?}"
            )));
        }
        let doc: EncryptedKey = serde_json::from_slice(&body)
            .map_err(|e| KeyError::Format(format!("encrypted key JSON: {e}")))?;
        if doc.kdf.name != "scrypt" {
            return Err(KeyError::Format(format!(
                "unsupported kdf {:?}",
                doc.kdf.name
            )));
        }
        if doc.cipher.name != "nacl/secretbox" {
            return Err(KeyError::Format(format!(
                "unsupported cipher {:?}",
                doc.cipher.name
            )));
        }
        let n = doc.kdf.params.n;
        if !n.is_power_of_two() || n < 2 || n.trailing_zeros() > u32::from(MAX_LOG_N) {
            return Err(KeyError::Format(format!("unsupported scrypt N {n}")));
        }
        let log_n = n.trailing_zeros() as u8;
        if doc.kdf.params.r == 0
            || doc.kdf.params.r > 32
            || doc.kdf.params.p == 0
            || doc.kdf.params.p > 16
        {
            return Err(KeyError::Format("unsupported scrypt r/p".into()));
        }
        let b64 = |what: &str, s: &str| {
            STANDARD
                .decode(s)
                .map_err(|e| KeyError::Format(format!("{what}: {e}")))
        };
        let salt = b64("salt", &doc.kdf.salt)?;
        let nonce = b64("nonce", &doc.cipher.nonce)?;
        let ct = b64("ciphertext", &doc.ciphertext)?;
        if nonce.len() != 24 {
            return Err(KeyError::Format(format!("nonce of {} bytes", nonce.len())));
        }
        let key = derive(password, &salt, log_n, doc.kdf.params.r, doc.kdf.params.p)?;
        let der = Zeroizing::new(
            XSalsa20Poly1305::new(&key)
                .decrypt(Nonce::from_slice(&nonce), ct.as_slice())
                .map_err(|_| KeyError::WrongPassword)?,
        );
        let key = SigningKey::from_pkcs8_der(&der)
            .map_err(|e| KeyError::Format(format!("not an ECDSA P-256 PKCS#8 key: {e}")))?;
        Ok(PrivateKey { key })
    }
}

/// `pem_rfc7468` is strict: drop leading/trailing whitespace and CRs.
fn trim_pem(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &text[start..end]
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding a P-256 key.
    pub fn from_pem(text: &[u8]) -> Result<Self, KeyError> {
        let s = std::str::from_utf8(text).map_err(|_| KeyError::PublicKey("not UTF-8".into()))?;
        let s = s.replace("\r\n", "\n");
        let key = VerifyingKey::from_public_key_pem(s.trim())
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        Ok(PublicKey { key })
    }

    /// Reads a SubjectPublicKeyInfo DER holding a P-256 key (what AWS KMS
    /// GetPublicKey returns). The same key read from PEM or DER has the same
    /// [`PublicKey::keyid`].
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_der(der)
            .map_err(|e| KeyError::PublicKey(e.to_string()))?;
        Ok(PublicKey { key })
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> Vec<u8> {
        self.key
            .to_public_key_der()
            .expect("P-256 SPKI encodes")
            .into_vec()
    }

    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .expect("P-256 SPKI encodes")
    }

    /// Lower-case hex SHA-256 of the SubjectPublicKeyInfo DER.
    pub fn keyid(&self) -> String {
        bakeproof_types::Sha256Digest::of(&self.to_der()).to_string()
    }

    /// Verifies an ASN.1 DER ECDSA P-256 SHA-256 signature over `msg`.
    pub fn verify(&self, msg: &[u8], der_sig: &[u8]) -> bool {
        match Signature::from_der(der_sig) {
            Ok(sig) => self.key.verify(msg, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// The two files of a cosign key pair: `PREFIX.key` (the encrypted private
/// key) and `PREFIX.pub` in one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPairFiles {
    pub private: PathBuf,
    pub public: PathBuf,
}

impl KeyPairFiles {
    /// `DIR/PREFIX.key` and `DIR/PREFIX.pub`.
    pub fn new(dir: &Path, prefix: &str) -> KeyPairFiles {
        KeyPairFiles {
            private: dir.join(format!("{prefix}.key")),
            public: dir.join(format!("{prefix}.pub")),
        }
    }

    /// Refuses when either file exists ([`KeyError::Exists`]): a pair is
    /// never overwritten. A dangling symlink counts as existing (it is not
    /// followed). Check before asking for a password.
    pub fn check_absent(&self) -> Result<(), KeyError> {
        for p in [&self.private, &self.public] {
            if p.symlink_metadata().is_ok() {
                return Err(KeyError::Exists(p.clone()));
            }
        }
        Ok(())
    }

    /// Writes `key` encrypted with `password` (mode 0600) and its public
    /// key, each created exclusively (`O_EXCL`, which never follows a
    /// symlink) and synced.
    pub fn write(&self, key: &PrivateKey, password: &[u8]) -> Result<(), KeyError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let pem = key.to_encrypted_pem(password)?;
        let create = |p: &Path, mode: u32, bytes: &[u8]| {
            let err = |e| KeyError::Write(p.to_owned(), e);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(p)
                .map_err(err)?;
            f.write_all(bytes).and_then(|()| f.sync_all()).map_err(err)
        };
        create(&self.private, 0o600, pem.as_bytes())?;
        create(&self.public, 0o666, key.public_key().to_pem().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_round_trip_and_wrong_password() {
        let k = PrivateKey::generate();
        let pem_text = k.to_encrypted_pem(b"hunter2").unwrap();
        assert!(pem_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let (_, body) = pem::decode_vec(pem_text.as_bytes()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["kdf"]["params"],
            serde_json::json!({"N": 32768, "r": 8, "p": 1})
        );
        assert_eq!(v["cipher"]["name"], "nacl/secretbox");
        assert_eq!(
            STANDARD
                .decode(v["kdf"]["salt"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
        let back = PrivateKey::from_encrypted_pem(pem_text.as_bytes(), b"hunter2").unwrap();
        assert_eq!(back.public_key(), k.public_key());
        let err = PrivateKey::from_encrypted_pem(pem_text.as_bytes(), b"hunter3").unwrap_err();
        assert_eq!(err.to_string(), "wrong password");
        assert!(!format!("{back:?}").contains("BEGIN"));
    }

    #[test]
    fn public_key_pem_keyid_and_signatures() {
        let k = PrivateKey::generate();
        let p = k.public_key();
        let pem_text = p.to_pem();
        assert!(pem_text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let q = PublicKey::from_pem(pem_text.as_bytes()).unwrap();
        assert_eq!(p, q);
        assert_eq!(p.keyid().len(), 64);
        let sig = k.sign(b"msg");
        assert!(q.verify(b"msg", &sig));
        assert!(!q.verify(b"msh", &sig));
        assert!(!PrivateKey::generate().public_key().verify(b"msg", &sig));
    }

    #[test]
    fn rejects_other_pem() {
        let k = PrivateKey::generate();
        let pub_pem = k.public_key().to_pem();
        assert!(matches!(
            PrivateKey::from_encrypted_pem(pub_pem.as_bytes(), b"x"),
            Err(KeyError::Format(_))
        ));
    }
}
