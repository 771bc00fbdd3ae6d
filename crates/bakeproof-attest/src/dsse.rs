//! DSSE v1 envelopes (<https://github.com/secure-systems-lab/dsse>).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::signer::{SignError, Signer, sign_checked};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The JSON envelope. Field names as in the DSSE spec and the Sigstore bundle
/// protobuf's JSON form (`payload`, `payloadType`, `signatures[].sig/keyid`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Envelope {
    /// Base64 (standard, padded when written) of the payload bytes.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Base64 of the ASN.1 DER ECDSA signature over the PAE.
    pub sig: String,
    #[serde(default)]
    pub keyid: String,
}

/// Decodes DSSE base64: the spec allows standard or URL-safe, padded or not.
pub fn b64decode(s: &str) -> Option<Vec<u8>> {
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

impl Envelope {
    /// Signs `payload` with one signature whose keyid is the key's
    /// (hex SHA-256 of its SubjectPublicKeyInfo DER). The signature is
    /// checked with the signer's public key before it is returned.
    pub fn sign(
        payload_type: &str,
        payload: &[u8],
        key: &dyn Signer,
    ) -> Result<Envelope, SignError> {
        let (sig, public) = sign_checked(key, &pae(payload_type, payload))?;
        Ok(Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(sig),
                keyid: public.keyid(),
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn pae_spec_vector() {
        // The DSSE protocol document's example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths are bytes, not characters.
        assert_eq!(pae("t", "é".as_bytes()), "DSSEv1 1 t 2 é".as_bytes());
    }

    #[test]
    fn sign_verifies_over_pae() {
        let k = PrivateKey::generate();
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}", &k).unwrap();
        let sig = b64decode(&env.signatures[0].sig).unwrap();
        assert!(
            k.public_key()
                .verify(&pae(IN_TOTO_PAYLOAD_TYPE, b"{}"), &sig)
        );
        assert!(!k.public_key().verify(b"{}", &sig));
        assert_eq!(env.signatures[0].keyid, k.public_key().keyid());
        assert_eq!(b64decode(&env.payload).unwrap(), b"{}");
    }
}
