//! EC2 instance metadata: an IMDSv2 client ([`Client`]), verification of the
//! signed instance identity document ([`IdentityCert`],
//! [`verify_identity_signature`]), and an emulator with IMDSv2 semantics for
//! tests and laptops ([`emulator`], served by the `bakeproof-imds-emulator`
//! binary). Behaviour: docs/boot.md.
//!
//! The client is blocking and small: IMDS is plain HTTP on a link-local
//! address. It never goes through a proxy, never follows redirects, bounds
//! every connect (1 s by default) and the whole call (a total deadline across
//! retries), and uses IMDSv1 (GET without a token) only when
//! [`ImdsConfig::allow_v1`] is set.

pub mod emulator;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The IPv4 endpoint.
pub const DEFAULT_ENDPOINT_V4: &str = "http://169.254.169.254";
/// The IPv6 endpoint (Nitro instances).
pub const DEFAULT_ENDPOINT_V6: &str = "http://[fd00:ec2::254]";
/// The AWS SDKs' endpoint override variable.
pub const ENV_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// The AWS SDKs' endpoint mode variable (`IPv4` or `IPv6`).
pub const ENV_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
/// Token request header (TTL in seconds, 1..=21600).
pub const HEADER_TTL: &str = "X-aws-ec2-metadata-token-ttl-seconds";
/// Token header of every GET.
pub const HEADER_TOKEN: &str = "X-aws-ec2-metadata-token";
/// The largest token TTL IMDS accepts.
pub const MAX_TOKEN_TTL: u32 = 21600;

/// Largest body accepted from IMDS.
const BODY_LIMIT: u64 = 1 << 20;

/// Most public keys read from `meta-data/public-keys/` (EC2 launches with
/// one key pair; more is refused as malformed).
pub const MAX_PUBLIC_KEYS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ImdsError {
    /// Nothing answered (connect refused, timeout, reset) within the bounds.
    #[error("could not reach IMDS at {endpoint} ({attempts} attempts in {elapsed_ms} ms): {last}")]
    Unreachable {
        endpoint: String,
        attempts: u32,
        elapsed_ms: u128,
        last: String,
    },
    /// IMDS answered, but refused or failed.
    #[error("IMDS {method} {path}: HTTP {status}{hint}")]
    Http {
        method: &'static str,
        path: String,
        status: u16,
        hint: String,
    },
    #[error("bad IMDS configuration: {0}")]
    Config(String),
    #[error("IMDS {path}: malformed answer: {detail}")]
    Malformed { path: String, detail: String },
    #[error("identity certificate {name}: {detail}")]
    Certificate { name: String, detail: String },
    #[error(
        "instance identity document signature does not verify against any of {0} configured certificate(s)"
    )]
    BadSignature(usize),
    #[error(
        "instance identity document says imageId {document}, but meta-data/ami-id is {metadata}"
    )]
    ImageMismatch { document: String, metadata: String },
}

impl ImdsError {
    /// IMDS could not be reached at all (as opposed to answering wrongly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ImdsError::Unreachable { .. })
    }
}

/// How to talk to IMDS.
#[derive(Clone, Debug)]
pub struct ImdsConfig {
    /// `http://HOST[:PORT]` without a path.
    pub endpoint: String,
    /// TTL asked for a session token.
    pub token_ttl: u32,
    /// Per-attempt connect timeout (≤ 1 s by default, as the SDKs).
    pub connect_timeout: Duration,
    /// Per-attempt bound on one request (connect + send + answer).
    pub request_timeout: Duration,
    /// Bound on one call, retries included.
    pub total_timeout: Duration,
    /// Attempts per call (≥ 1).
    pub attempts: u32,
    /// Fall back to IMDSv1 (GET without a token) when the token request is
    /// refused. Off by default.
    pub allow_v1: bool,
}

impl Default for ImdsConfig {
    fn default() -> Self {
        ImdsConfig {
            endpoint: DEFAULT_ENDPOINT_V4.to_string(),
            token_ttl: MAX_TOKEN_TTL,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(6),
            attempts: 3,
            allow_v1: false,
        }
    }
}

impl ImdsConfig {
    /// Defaults, with the endpoint from `AWS_EC2_METADATA_SERVICE_ENDPOINT`,
    /// else from `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` (`IPv4`, `IPv6`).
    pub fn from_env() -> Result<Self, ImdsError> {
        let ep = std::env::var(ENV_ENDPOINT).ok();
        let mode = std::env::var(ENV_ENDPOINT_MODE).ok();
        Self::from_values(ep.as_deref(), mode.as_deref())
    }

    /// [`ImdsConfig::from_env`] on given values (testable).
    pub fn from_values(endpoint: Option<&str>, mode: Option<&str>) -> Result<Self, ImdsError> {
        let mut c = ImdsConfig::default();
        match endpoint.map(str::trim).filter(|s| !s.is_empty()) {
            Some(ep) => c.endpoint = normalize_endpoint(ep)?,
            None => match mode.map(str::trim).filter(|s| !s.is_empty()) {
                None => {}
                Some(m) if m.eq_ignore_ascii_case("ipv4") => {}
                Some(m) if m.eq_ignore_ascii_case("ipv6") => {
                    c.endpoint = DEFAULT_ENDPOINT_V6.to_string()
                }
                Some(m) => {
                    return Err(ImdsError::Config(format!(
                        "{ENV_ENDPOINT_MODE}={m:?}: expected IPv4 or IPv6"
                    )));
                }
            },
        }
        Ok(c)
    }

    /// Sets the endpoint (`http://HOST[:PORT]`, a trailing `/` allowed).
    pub fn with_endpoint(mut self, endpoint: &str) -> Result<Self, ImdsError> {
        self.endpoint = normalize_endpoint(endpoint)?;
        Ok(self)
    }
}

fn normalize_endpoint(ep: &str) -> Result<String, ImdsError> {
    let ep = ep.trim().trim_end_matches('/');
    let rest = ep.strip_prefix("http://").ok_or_else(|| {
        ImdsError::Config(format!(
            "endpoint {ep:?}: expected http://HOST[:PORT] (IMDS is plain HTTP)"
        ))
    })?;
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return Err(ImdsError::Config(format!(
            "endpoint {ep:?}: expected http://HOST[:PORT] with no path"
        )));
    }
    Ok(ep.to_string())
}

/// The signed instance identity document, as served.
#[derive(Clone, Debug)]
pub struct IdentityDocument {
    /// The exact bytes served (the signature covers these).
    pub raw: Vec<u8>,
    /// `dynamic/instance-identity/signature` (base64), when served.
    pub signature: Option<String>,
    pub fields: IdentityFields,
}

/// The fields of the identity document bakeproof uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityFields {
    pub image_id: String,
    pub instance_id: String,
    pub region: String,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// When the instance last entered `pending` (RFC 3339): its launch, or
    /// its latest start after a stop.
    #[serde(default)]
    pub pending_time: Option<String>,
}

impl IdentityFields {
    /// `pendingTime` in seconds since the Unix epoch; `None` when the
    /// document has none, an error when it is not RFC 3339.
    pub fn launch_time(&self) -> Result<Option<i64>, ImdsError> {
        let Some(t) = self.pending_time.as_deref() else {
            return Ok(None);
        };
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| Some(d.unix_timestamp()))
            .map_err(|e| ImdsError::Malformed {
                path: "dynamic/instance-identity/document".into(),
                detail: format!("pendingTime {t:?}: {e}"),
            })
    }
}

/// What the boot verifier needs from IMDS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceInfo {
    pub ami_id: String,
    pub instance_id: String,
    pub region: String,
    /// The identity document was verified against a configured certificate
    /// (its file name), and its imageId/instanceId/region matched.
    pub identity_verified_by: Option<String>,
    /// The identity document's `pendingTime` (seconds since the epoch):
    /// when this instance launched, or last started after a stop. `None`
    /// when the document has none or is not served (404).
    pub launch_time: Option<i64>,
}

/// An AWS per-region identity certificate (RSA).
#[derive(Clone, Debug)]
pub struct IdentityCert {
    pub name: String,
    key: rsa::PublicKey,
}

impl IdentityCert {
    /// Every certificate in a PEM file (one or several `CERTIFICATE` blocks).
    pub fn from_pem(name: &str, pem: &[u8]) -> Result<Vec<IdentityCert>, ImdsError> {
        use rsa::pkcs8::DecodePublicKey as _;
        use x509_cert::der::Encode as _;
        let err = |d: String| ImdsError::Certificate {
            name: name.to_string(),
            detail: d,
        };
        let certs = x509_cert::Certificate::load_pem_chain(pem)
            .map_err(|e| err(format!("not a PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(err("no certificate".into()));
        }
        certs
            .iter()
            .map(|c| {
                let spki = c
                    .tbs_certificate()
                    .subject_public_key_info()
                    .to_der()
                    .map_err(|e| err(e.to_string()))?;
                let key = rsa::PublicKey::from_public_key_der(&spki)
                    .map_err(|e| err(format!("not an RSA key: {e}")))?;
                Ok(IdentityCert {
                    name: name.to_string(),
                    key,
                })
            })
            .collect()
    }

    /// Whether `sig` is an RSA PKCS#1 v1.5 SHA-256 signature of `msg` by this key.
    pub fn verifies(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.pkcs1v15_verify::<sha2::Sha256>(msg, sig).is_ok()
    }
}

/// Checks the base64 `signature` over `document` against `certs`; returns
/// the name of the certificate that verified it.
pub fn verify_identity_signature(
    document: &[u8],
    signature_b64: &str,
    certs: &[IdentityCert],
) -> Result<String, ImdsError> {
    let compact: String = signature_b64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| ImdsError::Malformed {
            path: "dynamic/instance-identity/signature".into(),
            detail: format!("not base64: {e}"),
        })?;
    certs
        .iter()
        .find(|c| c.verifies(document, &sig))
        .map(|c| c.name.clone())
        .ok_or(ImdsError::BadSignature(certs.len()))
}

#[derive(Clone)]
struct Token {
    value: String,
    refresh_at: Instant,
}

/// A blocking IMDSv2 client.
pub struct Client {
    cfg: ImdsConfig,
    agent: ureq::Agent,
    token: Mutex<Option<Token>>,
}

enum Attempt {
    /// Connect/timeout/IO: retry.
    Transport(String),
    Status(u16, String),
}

impl Client {
    pub fn new(cfg: ImdsConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_global(Some(cfg.request_timeout))
            .user_agent(concat!("bakeproof/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            cfg,
            agent,
            token: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &ImdsConfig {
        &self.cfg
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/latest/{}",
            self.cfg.endpoint,
            path.trim_start_matches('/')
        )
    }

    /// One request with retries of transport errors and 5xx within the total deadline.
    fn request(
        &self,
        method: &'static str,
        path: &str,
        header: Option<(&str, &str)>,
        deadline: Instant,
        started: Instant,
    ) -> Result<(u16, String), ImdsError> {
        let url = self.url(path);
        log::debug!("IMDS {method} {url}");
        let mut attempts = 0u32;
        let mut backoff = Duration::from_millis(100);
        loop {
            attempts += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let per = self
                .cfg
                .request_timeout
                .min(left)
                .max(Duration::from_millis(1));
            let res = match method {
                "PUT" => {
                    let mut r = self
                        .agent
                        .put(&url)
                        .config()
                        .timeout_global(Some(per))
                        .build();
                    if let Some((k, v)) = header {
                        r = r.header(k, v);
                    }
                    r.send_empty()
                }
                _ => {
                    let mut r = self
                        .agent
                        .get(&url)
                        .config()
                        .timeout_global(Some(per))
                        .build();
                    if let Some((k, v)) = header {
                        r = r.header(k, v);
                    }
                    r.call()
                }
            };
            let outcome = match res {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    match resp
                        .body_mut()
                        .with_config()
                        .limit(BODY_LIMIT)
                        .read_to_string()
                    {
                        Ok(body) => Attempt::Status(status, body),
                        Err(e) => Attempt::Transport(e.to_string()),
                    }
                }
                Err(e) => Attempt::Transport(e.to_string()),
            };
            let retry_reason = match outcome {
                Attempt::Status(s, body) if s < 500 => return Ok((s, body)),
                Attempt::Status(s, _) => format!("HTTP {s}"),
                Attempt::Transport(e) => e,
            };
            let now = Instant::now();
            if attempts >= self.cfg.attempts.max(1) || now + backoff >= deadline {
                return Err(ImdsError::Unreachable {
                    endpoint: self.cfg.endpoint.clone(),
                    attempts,
                    elapsed_ms: started.elapsed().as_millis(),
                    last: retry_reason,
                });
            }
            std::thread::sleep(backoff);
            backoff *= 2;
        }
    }

    /// A valid token (cached), `None` when falling back to IMDSv1.
    fn token(
        &self,
        force: bool,
        deadline: Instant,
        started: Instant,
    ) -> Result<Option<String>, ImdsError> {
        let mut guard = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if !force
            && let Some(t) = guard.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(Some(t.value.clone()));
        }
        let ttl = self.cfg.token_ttl.clamp(1, MAX_TOKEN_TTL);
        let ttl_s = ttl.to_string();
        let (status, body) = self.request(
            "PUT",
            "api/token",
            Some((HEADER_TTL, &ttl_s)),
            deadline,
            started,
        )?;
        match status {
            200 => {
                let value = body.trim().to_string();
                if value.is_empty() {
                    return Err(ImdsError::Malformed {
                        path: "api/token".into(),
                        detail: "empty token".into(),
                    });
                }
                // Refresh a little before the TTL runs out.
                let margin = (u64::from(ttl) / 10).clamp(0, 60);
                let life = Duration::from_secs(u64::from(ttl).saturating_sub(margin));
                *guard = Some(Token {
                    value: value.clone(),
                    refresh_at: Instant::now() + life,
                });
                Ok(Some(value))
            }
            403..=405 if self.cfg.allow_v1 => Ok(None),
            s => Err(ImdsError::Http {
                method: "PUT",
                path: "api/token".into(),
                status: s,
                hint: match s {
                    403 => " (token refused: IMDS disabled, or the request was proxied)".into(),
                    404 | 405 => {
                        " (no IMDSv2 token service; IMDSv1 is not used unless allowed)".into()
                    }
                    400 => format!(" (bad {HEADER_TTL})"),
                    _ => String::new(),
                },
            }),
        }
    }

    /// GET `/latest/PATH` (e.g. `meta-data/ami-id`) with a session token;
    /// a token rejected with 401 (expired) is renewed once.
    pub fn get(&self, path: &str) -> Result<String, ImdsError> {
        let started = Instant::now();
        let deadline = started + self.cfg.total_timeout;
        let mut renewed = false;
        loop {
            let token = self.token(renewed, deadline, started)?;
            let header = token.as_deref().map(|t| (HEADER_TOKEN, t));
            let (status, body) = self.request("GET", path, header, deadline, started)?;
            match status {
                200 => return Ok(body),
                401 if !renewed && token.is_some() => {
                    renewed = true;
                    continue;
                }
                s => {
                    return Err(ImdsError::Http {
                        method: "GET",
                        path: path.to_string(),
                        status: s,
                        hint: match s {
                            401 => " (token rejected)".into(),
                            404 => " (not found)".into(),
                            _ => String::new(),
                        },
                    });
                }
            }
        }
    }

    fn get_word(&self, path: &str) -> Result<String, ImdsError> {
        let v = self.get(path)?.trim().to_string();
        if v.is_empty() || v.contains(char::is_whitespace) {
            return Err(ImdsError::Malformed {
                path: path.into(),
                detail: format!("{v:?}"),
            });
        }
        Ok(v)
    }

    pub fn ami_id(&self) -> Result<String, ImdsError> {
        self.get_word("meta-data/ami-id")
    }

    pub fn instance_id(&self) -> Result<String, ImdsError> {
        self.get_word("meta-data/instance-id")
    }

    pub fn region(&self) -> Result<String, ImdsError> {
        self.get_word("meta-data/placement/region")
    }

    /// The OpenSSH public keys the instance was launched with:
    /// `meta-data/public-keys/` lists `N=name` lines, each key is
    /// `meta-data/public-keys/N/openssh-key`. No key pair (404 on the list):
    /// none. At most [`MAX_PUBLIC_KEYS`]; each call bounded as [`Client::get`].
    pub fn public_keys(&self) -> Result<Vec<String>, ImdsError> {
        let list_path = "meta-data/public-keys/";
        let list = match self.get(list_path) {
            Ok(l) => l,
            Err(ImdsError::Http { status: 404, .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut idx = Vec::new();
        for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let n = line.split_once('=').map(|(n, _)| n).unwrap_or(line);
            let n: u32 = n
                .trim_end_matches('/')
                .parse()
                .map_err(|_| ImdsError::Malformed {
                    path: list_path.into(),
                    detail: format!("{line:?} is not N=name"),
                })?;
            idx.push(n);
        }
        if idx.len() > MAX_PUBLIC_KEYS {
            return Err(ImdsError::Malformed {
                path: list_path.into(),
                detail: format!("{} keys, more than {MAX_PUBLIC_KEYS}", idx.len()),
            });
        }
        let mut keys = Vec::new();
        for n in idx {
            let path = format!("meta-data/public-keys/{n}/openssh-key");
            for l in self.get(&path)?.lines().map(str::trim) {
                if !l.is_empty() {
                    keys.push(l.to_string());
                }
            }
        }
        Ok(keys)
    }

    /// The identity document and (when served) its signature.
    pub fn identity_document(&self) -> Result<IdentityDocument, ImdsError> {
        let path = "dynamic/instance-identity/document";
        let raw = self.get(path)?.into_bytes();
        let fields: IdentityFields =
            serde_json::from_slice(&raw).map_err(|e| ImdsError::Malformed {
                path: path.into(),
                detail: e.to_string(),
            })?;
        let signature = match self.get("dynamic/instance-identity/signature") {
            Ok(s) => Some(s),
            Err(ImdsError::Http { status: 404, .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(IdentityDocument {
            raw,
            signature,
            fields,
        })
    }

    /// The identity document's `pendingTime` (seconds since the epoch),
    /// unverified. `None` when the document is not served (404), is not a
    /// JSON object or has no `pendingTime` (not every emulator serves one);
    /// an error when IMDS fails or `pendingTime` is not an RFC 3339 string.
    pub fn launch_time(&self) -> Result<Option<i64>, ImdsError> {
        let path = "dynamic/instance-identity/document";
        let raw = match self.get(path) {
            Ok(r) => r,
            Err(ImdsError::Http { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let pending = match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(serde_json::Value::Object(mut o)) => o.remove("pendingTime"),
            _ => None,
        };
        let pending_time = match pending {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::String(t)) => Some(t),
            Some(other) => {
                return Err(ImdsError::Malformed {
                    path: path.into(),
                    detail: format!("pendingTime {other} is not a string"),
                });
            }
        };
        IdentityFields {
            image_id: String::new(),
            instance_id: String::new(),
            region: String::new(),
            account_id: None,
            availability_zone: None,
            pending_time,
        }
        .launch_time()
    }

    /// ami-id, instance-id and region (and the launch time, see
    /// [`Client::launch_time`]). With `certs` non-empty, the identity
    /// document must carry a signature that verifies against one of them,
    /// and its imageId, instanceId and region must equal the metadata's; the
    /// launch time is then the verified document's.
    pub fn instance_info(&self, certs: &[IdentityCert]) -> Result<InstanceInfo, ImdsError> {
        let ami_id = self.ami_id()?;
        let instance_id = self.instance_id()?;
        let region = self.region()?;
        let mut info = InstanceInfo {
            ami_id,
            instance_id,
            region,
            identity_verified_by: None,
            launch_time: None,
        };
        if certs.is_empty() {
            info.launch_time = self.launch_time()?;
        } else {
            let doc = self.identity_document()?;
            let sig = doc.signature.as_deref().ok_or(ImdsError::Http {
                method: "GET",
                path: "dynamic/instance-identity/signature".into(),
                status: 404,
                hint: " (identity certificates are configured: the signature is required)".into(),
            })?;
            let by = verify_identity_signature(&doc.raw, sig, certs)?;
            check_identity(&doc.fields, &info)?;
            info.launch_time = doc.fields.launch_time()?;
            info.identity_verified_by = Some(by);
        }
        Ok(info)
    }
}

/// The verified document must describe this instance.
pub fn check_identity(doc: &IdentityFields, info: &InstanceInfo) -> Result<(), ImdsError> {
    if doc.image_id != info.ami_id {
        return Err(ImdsError::ImageMismatch {
            document: doc.image_id.clone(),
            metadata: info.ami_id.clone(),
        });
    }
    for (what, d, m) in [
        ("instanceId", &doc.instance_id, &info.instance_id),
        ("region", &doc.region, &info.region),
    ] {
        if d != m {
            return Err(ImdsError::Malformed {
                path: "dynamic/instance-identity/document".into(),
                detail: format!("{what} {d} differs from the metadata's {m}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_env_values() {
        let c = ImdsConfig::from_values(None, None).unwrap();
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT_V4);
        let c = ImdsConfig::from_values(None, Some("IPv6")).unwrap();
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT_V6);
        let c = ImdsConfig::from_values(Some("http://127.0.0.1:8080/"), Some("IPv6")).unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:8080");
        assert!(ImdsConfig::from_values(None, Some("ipx")).is_err());
        assert!(ImdsConfig::from_values(Some("https://x"), None).is_err());
        assert!(ImdsConfig::from_values(Some("http://x/latest"), None).is_err());
        assert!(!c.allow_v1);
        assert!(c.connect_timeout <= Duration::from_secs(1));
    }

    #[test]
    fn identity_fields_parse() {
        let d = br#"{"accountId":"1","imageId":"ami-0123456789abcdef0","instanceId":"i-1","region":"us-east-1","version":"2017-09-30"}"#;
        let f: IdentityFields = serde_json::from_slice(d).unwrap();
        assert_eq!(f.image_id, "ami-0123456789abcdef0");
        let info = InstanceInfo {
            ami_id: "ami-0123456789abcdef0".into(),
            instance_id: "i-1".into(),
            region: "us-east-1".into(),
            identity_verified_by: None,
            launch_time: None,
        };
        check_identity(&f, &info).unwrap();
        let other = InstanceInfo {
            ami_id: "ami-1".into(),
            ..info
        };
        assert!(matches!(
            check_identity(&f, &other),
            Err(ImdsError::ImageMismatch { .. })
        ));
    }

    #[test]
    fn bad_signature_is_rejected_without_certs() {
        assert!(matches!(
            verify_identity_signature(b"x", "AAAA", &[]),
            Err(ImdsError::BadSignature(0))
        ));
        assert!(verify_identity_signature(b"x", "!!", &[]).is_err());
    }

    #[test]
    fn launch_time_from_pending_time() {
        let f = |t: Option<&str>| IdentityFields {
            image_id: "ami-1".into(),
            instance_id: "i-1".into(),
            region: "r".into(),
            account_id: None,
            availability_zone: None,
            pending_time: t.map(String::from),
        };
        // `date -u -d 2026-01-01T00:00:00Z +%s`
        assert_eq!(
            f(Some("2026-01-01T00:00:00Z")).launch_time().unwrap(),
            Some(1_767_225_600)
        );
        assert_eq!(
            f(Some("2026-01-01T02:00:00+02:00")).launch_time().unwrap(),
            Some(1_767_225_600)
        );
        assert_eq!(f(None).launch_time().unwrap(), None);
        assert!(f(Some("2026-01-01")).launch_time().is_err());
        assert!(f(Some("")).launch_time().is_err());
    }
}
