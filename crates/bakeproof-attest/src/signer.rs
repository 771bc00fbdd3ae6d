//! What signs: a [`Signer`] holds (or reaches) an ECDSA P-256 private key
//! and names its public key. A key in memory ([`PrivateKey`], read from a
//! cosign key file) and a key that never leaves a KMS (crate
//! `bakeproof-kms`) are interchangeable: everything that signs in this
//! crate ([`crate::attest`], [`crate::verify::sign_bundle`],
//! [`crate::dsse::Envelope::sign`]) takes a `&dyn Signer`, never a path.

use crate::keys::{PrivateKey, PublicKey};

/// Why a signature could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer failed (a KMS unreachable, access denied, ...): the
    /// signer's own message, naming the key.
    #[error("{0}")]
    Signer(String),
    /// The signer returned something its public key does not verify (not
    /// DER, another key, a signature over something else): nothing is
    /// written with it.
    #[error("the signature made by {key} does not verify with its public key (key id {keyid})")]
    Unverifiable { key: String, keyid: String },
}

/// An ECDSA P-256 SHA-256 signer.
pub trait Signer {
    /// The public key whose key id names the signatures.
    fn public_key(&self) -> PublicKey;
    /// For messages: which key this is (`awskms:///alias/x`, `key file`).
    fn describe(&self) -> String;
    /// ECDSA P-256 with SHA-256 over `msg` (the signer hashes it), as an
    /// ASN.1 DER signature. Callers use [`sign_checked`].
    fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>, SignError>;
}

impl Signer for PrivateKey {
    fn public_key(&self) -> PublicKey {
        PrivateKey::public_key(self)
    }

    fn describe(&self) -> String {
        format!("key {}", PrivateKey::public_key(self).keyid())
    }

    fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.sign(msg))
    }
}

/// Signs `msg` with `signer` and checks the signature with the signer's
/// public key before returning it: a remote signer's answer is not trusted
/// to be what was asked for. Returns the public key too (asked once).
pub fn sign_checked(signer: &dyn Signer, msg: &[u8]) -> Result<(Vec<u8>, PublicKey), SignError> {
    let public = signer.public_key();
    let sig = signer.sign_der(msg)?;
    if !public.verify(msg, &sig) {
        return Err(SignError::Unverifiable {
            key: signer.describe(),
            keyid: public.keyid(),
        });
    }
    Ok((sig, public))
}
