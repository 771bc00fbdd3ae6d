//! AWS KMS keys as [`bakeproof_attest::Signer`]s, so that no private key
//! exists on the build host: `--key awskms:///alias/NAME` signs with a key
//! that never leaves KMS, interchangeable with a cosign key file.
//!
//! References use cosign's grammar (sigstore/sigstore
//! `pkg/signature/kms/aws`): `awskms://[ENDPOINT]/KEY` where `KEY` is
//!
//! * a key id: `1234abcd-12ab-34cd-56ef-1234567890ab` (or a multi-Region
//!   `mrk-` id),
//! * a key ARN: `arn:aws:kms:us-east-2:111122223333:key/1234abcd-...`,
//! * an alias name: `alias/NAME`,
//! * an alias ARN: `arn:aws:kms:us-east-2:111122223333:alias/NAME`,
//!
//! and `ENDPOINT`, when not empty, is a `host[:port]` reached over HTTPS
//! (`https://ENDPOINT`, as cosign does). Without it the endpoint is
//! `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`, else AWS's. Region: the
//! caller's, else the ARN's, else `AWS_REGION` / `AWS_DEFAULT_REGION` / the
//! profile. Credentials: the SDK's default chain.
//!
//! Only ECDSA P-256 keys are used (`KeySpec` `ECC_NIST_P256`, `KeyUsage`
//! `SIGN_VERIFY`, signing algorithm `ECDSA_SHA_256`), the algorithm of cosign
//! key files and of every bundle bakeproof writes; any other key is refused
//! when it is opened, before anything is signed. Signing sends only the
//! SHA-256 digest of the message (`MessageType` `DIGEST`); KMS returns an
//! ASN.1 DER ECDSA signature, the form the bundles carry, and every
//! signature is checked with the key's public key before it is used
//! ([`bakeproof_attest::signer::sign_checked`]).
//!
//! The client runs on a private current-thread tokio runtime, as the S3
//! store's does (crate `bakeproof-store`), with the same bounded retries and
//! timeouts. Why a crate of its own: `bakeproof-attest` knows nothing of the
//! network (it also runs in the boot verifier, which only verifies), and the
//! store knows nothing of keys; this crate sits beside the store, above
//! attest (docs/architecture.md).

use aws_sdk_kms::Client;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use bakeproof_attest::{PublicKey, SignError, Signer};
use bakeproof_store::{env_nonempty, sdk_config};
use bakeproof_types::Sha256Digest;

/// The URI scheme of AWS KMS key references (cosign's).
pub const SCHEME: &str = "awskms://";

/// Why a KMS key could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error(
        "{0:?}: not an AWS KMS key reference: expected awskms://[ENDPOINT]/KEY, KEY being a key \
         id, a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias/NAME or an alias ARN \
         (arn:aws:kms:REGION:ACCOUNT:alias/NAME)"
    )]
    Reference(String),
    #[error("{reference}: {message}")]
    Config { reference: String, message: String },
    /// The key is not an ECDSA P-256 signing key.
    #[error(
        "{reference}: {found}: bakeproof signs with ECDSA P-256 only (an ECC_NIST_P256 \
         SIGN_VERIFY key, ECDSA_SHA_256), as cosign key files and every bundle it writes"
    )]
    UnsupportedKey { reference: String, found: String },
    /// KMS could not be reached, or refused the request.
    #[error("{reference}: {op}: {message}")]
    Kms {
        reference: String,
        op: &'static str,
        message: String,
    },
}

/// A parsed `awskms://[ENDPOINT]/KEY` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsKeyRef {
    /// The reference as given (for messages).
    pub reference: String,
    /// `host[:port]` between `awskms://` and the key, when not empty.
    pub endpoint: Option<String>,
    /// The key id, key ARN, alias name or alias ARN, as KMS takes it.
    pub key: String,
    /// The region named by an ARN.
    pub arn_region: Option<String>,
}

fn is_uuid(s: &str) -> bool {
    // cosign: m?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?...-?[A-Fa-f0-9]{12}
    let s = s.strip_prefix("mrk-").unwrap_or(s);
    let mut rest = s;
    for (i, n) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix('-').unwrap_or(rest);
        }
        if rest.len() < n || !rest.as_bytes()[..n].iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        rest = &rest[n..];
    }
    rest.is_empty()
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:RESOURCE` → (region, resource).
fn parse_arn(s: &str) -> Option<(&str, &str)> {
    let mut it = s.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok = arn == "arn"
        && matches!(partition, "aws" | "aws-us-gov" | "aws-cn")
        && service == "kms"
        && region_ok
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    ok.then_some((region, resource))
}

/// `alias/NAME` with a non-empty name.
fn is_alias(s: &str) -> bool {
    s.strip_prefix("alias/").is_some_and(|n| !n.is_empty())
}

impl KmsKeyRef {
    /// Whether `s` names a KMS key (starts with `awskms://`) rather than a file.
    pub fn is_kms(s: &str) -> bool {
        s.starts_with(SCHEME)
    }

    pub fn parse(s: &str) -> Result<KmsKeyRef, KmsError> {
        let bad = || KmsError::Reference(s.to_string());
        let rest = s.strip_prefix(SCHEME).ok_or_else(bad)?;
        let (host, key) = rest.split_once('/').ok_or_else(bad)?;
        let arn_region = if key.starts_with("arn:") {
            let (region, resource) = parse_arn(key).ok_or_else(bad)?;
            let ok = resource.strip_prefix("key/").is_some_and(is_uuid) || is_alias(resource);
            if !ok {
                return Err(bad());
            }
            Some(region.to_string())
        } else if is_uuid(key) || is_alias(key) {
            None
        } else {
            return Err(bad());
        };
        if host.chars().any(|c| c.is_whitespace() || c == '@') {
            return Err(bad());
        }
        Ok(KmsKeyRef {
            reference: s.to_string(),
            endpoint: (!host.is_empty()).then(|| host.to_string()),
            key: key.to_string(),
            arn_region,
        })
    }
}

/// What the caller decides (the CLI's flags); the rest comes from the
/// environment as the AWS SDKs read it.
#[derive(Clone, Debug, Default)]
pub struct KmsOptions {
    /// The region (`--region`); else the ARN's, else the environment's.
    pub region: Option<String>,
}

/// An ECDSA P-256 key held by AWS KMS.
pub struct KmsSigner {
    conn: Conn,
    /// The key's ARN as GetPublicKey named it: every Sign goes to that key,
    /// even if the alias is moved meanwhile.
    key_arn: String,
    public: PublicKey,
}

/// The client and what messages name.
struct Conn {
    rt: tokio::runtime::Runtime,
    client: Client,
    /// The reference as given.
    reference: String,
    /// The endpoint when not AWS's.
    endpoint: Option<String>,
}

impl std::fmt::Debug for KmsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSigner")
            .field("reference", &self.conn.reference)
            .field("key_arn", &self.key_arn)
            .finish()
    }
}

impl KmsSigner {
    /// Connects, reads the key's public key (GetPublicKey) and checks that it
    /// is an ECDSA P-256 signing key. Nothing is signed.
    pub fn open(reference: &KmsKeyRef, opts: &KmsOptions) -> Result<KmsSigner, KmsError> {
        let config = |message: String| KmsError::Config {
            reference: reference.reference.clone(),
            message,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| config(format!("cannot start the KMS runtime: {e}")))?;
        let endpoint = match &reference.endpoint {
            Some(host) => Some(format!("https://{host}")),
            None => {
                env_nonempty("AWS_ENDPOINT_URL_KMS").or_else(|| env_nonempty("AWS_ENDPOINT_URL"))
            }
        };
        if let (Some(given), Some(arn)) = (&opts.region, &reference.arn_region)
            && given != arn
        {
            return Err(config(format!(
                "the key's ARN is in region {arn}, --region names {given}"
            )));
        }
        let region = opts.region.as_ref().or(reference.arn_region.as_ref());
        let sdk = sdk_config(&rt, region.map(String::as_str), endpoint.as_deref()).ok_or_else(|| {
            config("no AWS region for KMS: pass --region, set AWS_REGION (or a profile region), or name the key by ARN".into())
        })?;
        let conn = Conn {
            rt,
            client: Client::new(&sdk),
            reference: reference.reference.clone(),
            endpoint,
        };
        let out = conn
            .rt
            .block_on(conn.client.get_public_key().key_id(&reference.key).send())
            .map_err(|e| conn.map_err(e, "GetPublicKey"))?;
        let unsupported = |found: String| KmsError::UnsupportedKey {
            reference: reference.reference.clone(),
            found,
        };
        // KeySpec, else the deprecated CustomerMasterKeySpec (the only one
        // some KMS-compatible servers, moto among them, return).
        #[allow(deprecated)]
        let spec = out.key_spec().cloned().or_else(|| {
            out.customer_master_key_spec()
                .map(|c| KeySpec::from(c.as_str()))
        });
        match spec.as_ref() {
            Some(KeySpec::EccNistP256) => {}
            Some(k) => return Err(unsupported(format!("a {} key", k.as_str()))),
            None => return Err(unsupported("a key of no KeySpec".into())),
        }
        match out.key_usage() {
            Some(KeyUsageType::SignVerify) => {}
            Some(u) => return Err(unsupported(format!("a {} key", u.as_str()))),
            None => return Err(unsupported("a key of no KeyUsage".into())),
        }
        if !out
            .signing_algorithms()
            .contains(&SigningAlgorithmSpec::EcdsaSha256)
        {
            return Err(unsupported("a key without ECDSA_SHA_256".into()));
        }
        let der = out
            .public_key()
            .ok_or_else(|| unsupported("GetPublicKey returned no public key".into()))?;
        let public = PublicKey::from_der(der.as_ref())
            .map_err(|e| unsupported(format!("its public key is not P-256 ({e})")))?;
        let key_arn = out.key_id().unwrap_or(&reference.key).to_string();
        Ok(KmsSigner {
            conn,
            key_arn,
            public,
        })
    }

    /// The key's ARN (as KMS named it).
    pub fn key_arn(&self) -> &str {
        &self.key_arn
    }
}

impl Conn {
    fn target(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("KMS endpoint {e}"),
            None => "AWS KMS".to_string(),
        }
    }

    /// One clear error per failure class (after the SDK's retries).
    fn map_err<E>(&self, e: SdkError<E, HttpResponse>, op: &'static str) -> KmsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = e.code().unwrap_or("").to_string();
        let detail = bakeproof_store::error_chain(&e);
        let message = match bakeproof_store::transport_failure(&e, &self.target()) {
            Some(t) => t.message().to_string(),
            None => {
                let msg = e.message().unwrap_or("");
                match code.as_str() {
                    "" => format!("{}: {detail}", self.target()),
                    "NotFoundException" => format!("no such key at {}: {msg}", self.target()),
                    "AccessDeniedException" => {
                        format!("the credentials in use may not use this key ({code}: {msg})")
                    }
                    "UnsupportedOperationException" | "InvalidKeyUsageException" => {
                        return KmsError::UnsupportedKey {
                            reference: self.reference.clone(),
                            found: format!("KMS says {code}: {msg}"),
                        };
                    }
                    _ => format!("{} answered {code}: {msg}", self.target()),
                }
            }
        };
        KmsError::Kms {
            reference: self.reference.clone(),
            op,
            message,
        }
    }
}

impl Signer for KmsSigner {
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn describe(&self) -> String {
        self.conn.reference.clone()
    }

    fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        let digest = Sha256Digest::of(msg);
        let c = &self.conn;
        let out =
            c.rt.block_on(
                c.client
                    .sign()
                    .key_id(&self.key_arn)
                    .message(Blob::new(digest.as_bytes().to_vec()))
                    .message_type(MessageType::Digest)
                    .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                    .send(),
            )
            .map_err(|e| SignError::Signer(c.map_err(e, "Sign").to_string()))?;
        out.signature().map(|b| b.as_ref().to_vec()).ok_or_else(|| {
            SignError::Signer(format!("{}: Sign returned no signature", c.reference))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_cosign_grammar() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let r = KmsKeyRef::parse(&format!("awskms:///{id}")).unwrap();
        assert_eq!((r.endpoint, r.key.as_str(), r.arn_region), (None, id, None));
        let r = KmsKeyRef::parse(&format!("awskms://localhost:4566/{id}")).unwrap();
        assert_eq!(r.endpoint.as_deref(), Some("localhost:4566"));
        let r = KmsKeyRef::parse("awskms:///mrk-1234abcd12ab34cd56ef1234567890ab").unwrap();
        assert_eq!(r.key, "mrk-1234abcd12ab34cd56ef1234567890ab");
        let arn = format!("arn:aws:kms:us-east-2:111122223333:key/{id}");
        let r = KmsKeyRef::parse(&format!("awskms:///{arn}")).unwrap();
        assert_eq!(r.key, arn);
        assert_eq!(r.arn_region.as_deref(), Some("us-east-2"));
        let r = KmsKeyRef::parse("awskms:///alias/ExampleAlias").unwrap();
        assert_eq!(r.key, "alias/ExampleAlias");
        let r = KmsKeyRef::parse(
            "awskms://kms.example:443/arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a/b",
        )
        .unwrap();
        assert_eq!(
            r.key,
            "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/a/b"
        );
        assert_eq!(r.arn_region.as_deref(), Some("us-gov-west-1"));
        assert_eq!(r.endpoint.as_deref(), Some("kms.example:443"));
        for bad in [
            "awskms://",
            "awskms:///",
            "awskms://alias/x",
            "awskms:///alias/",
            "awskms:///key/1234",
            "awskms:///1234abcd-12ab-34cd-56ef-1234567890",
            "awskms:///1234abcd-12ab-34cd-56ef-1234567890abc",
            "awskms:///arn:aws:kms:us-east-2:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms:///arn:aws:s3:us-east-2:111122223333:alias/x",
            "awskms:///arn:aws:kms:us-east-2:111122223333:key/nope",
            "gcpkms://projects/p",
            "cosign.key",
        ] {
            assert!(KmsKeyRef::parse(bad).is_err(), "{bad}");
        }
        assert!(KmsKeyRef::is_kms("awskms:///alias/x"));
        assert!(!KmsKeyRef::is_kms("./awskms"));
    }
}
