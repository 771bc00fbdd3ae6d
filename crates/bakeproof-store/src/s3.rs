//! S3 backend (`s3://bucket/prefix`): `aws-sdk-s3` driven by a private
//! current-thread tokio runtime. Blobs are uploaded with `If-None-Match: *`
//! (create-only); a 412 means the object exists, and its content is then
//! read back and checked against the digest. The index is written last,
//! after a HEAD of every blob it names, also with `If-None-Match: *` unless
//! replacing: of two concurrent publishers exactly one creates it.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;

use crate::{
    AmiIndex, AmiRef, BlobPut, IndexPut, IndexWrite, MAX_INDEX_SIZE, MAX_LIST_KEYS, ObjectTag,
    ObjectWrite, ReadLimits, Sha256Digest, Store, StoreError, StoreOptions, StoredObject, blob_key,
    check_hex, check_object_key, index_conflict, index_key, too_large, verify_digest,
};

/// Attempts per request (first try included), with exponential backoff.
pub const MAX_ATTEMPTS: u32 = 3;
/// TCP/TLS connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One attempt at most.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// One operation (all attempts) at most, until the response headers.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// A whole read (request, retries and the body) at most: this, plus the
/// object's size limit at [`MIN_READ_RATE`]. The SDK's timeouts end with the
/// response headers; this deadline also covers a body that trickles.
pub(crate) const READ_DEADLINE: Duration = Duration::from_secs(30);
/// Slowest body transfer a read allows for (bytes per second), see [`READ_DEADLINE`].
pub(crate) const MIN_READ_RATE: u64 = 1 << 20;

/// The wall-clock bound of one read of at most `limit` bytes.
pub(crate) fn read_deadline(limit: u64) -> Duration {
    READ_DEADLINE + Duration::from_secs(limit / MIN_READ_RATE)
}

/// The SDK's HTTPS client as its `default-https-client` feature builds it
/// (hyper 1 + rustls, proxy settings from the environment), but with rustls'
/// ring provider: the one TLS/crypto backend of the build (see
/// crates/bakeproof-store/Cargo.toml). Without it the SDK has no HTTP client.
/// The one definition for every AWS SDK client of the workspace (S3 here,
/// KMS in bakeproof-kms).
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// An S3 (or S3-compatible) bucket and key prefix.
pub struct S3Store {
    rt: tokio::runtime::Runtime,
    client: Client,
    bucket: String,
    /// Empty, or ending with `/`.
    prefix: String,
    /// For messages: the endpoint when not AWS's.
    endpoint: Option<String>,
    limits: ReadLimits,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// The variable `k` when set and not blank.
pub fn env_nonempty(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// The AWS SDK configuration of every client of the workspace (S3 here,
/// KMS in bakeproof-kms), loaded on `rt`: [`https_client`], standard
/// retries ([`MAX_ATTEMPTS`], backoff 200 ms to 2 s), the connect, attempt
/// and operation timeouts, `endpoint` when given, and the region `region`,
/// else the environment's or the profile's (IMDS is deliberately not asked:
/// off EC2 it only adds a timeout). `None` when no region is found.
pub fn sdk_config(
    rt: &tokio::runtime::Runtime,
    region: Option<&str>,
    endpoint: Option<&str>,
) -> Option<aws_config::SdkConfig> {
    let region = match region {
        Some(r) => RegionProviderChain::first_try(Region::new(r.to_owned())),
        None => RegionProviderChain::first_try(
            aws_config::environment::region::EnvironmentVariableRegionProvider::new(),
        )
        .or_else(aws_config::profile::ProfileFileRegionProvider::new()),
    };
    let region = rt.block_on(region.region())?;
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(2));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(region)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(ep) = endpoint {
        loader = loader.endpoint_url(ep);
    }
    Some(rt.block_on(loader.load()))
}

impl S3Store {
    /// `rest` is the URL after `s3://`: `bucket` or `bucket/prefix`.
    pub fn open(rest: &str, opts: &StoreOptions) -> Result<S3Store, StoreError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(StoreError::Invalid(format!(
                "s3://{rest}: not a bucket name (3-63 of a-z 0-9 . -)"
            )));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|c| c == "." || c == "..") {
            return Err(StoreError::Invalid(format!(
                "s3://{rest}: . and .. are not allowed in the prefix"
            )));
        }
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Other(format!("cannot start the S3 runtime: {e}")))?;
        let endpoint = opts
            .endpoint_url
            .clone()
            .or_else(|| env_nonempty("AWS_ENDPOINT_URL_S3"))
            .or_else(|| env_nonempty("AWS_ENDPOINT_URL"));
        let sdk =
            sdk_config(&rt, opts.region.as_deref(), endpoint.as_deref()).ok_or_else(|| {
                StoreError::Invalid(
                    "no AWS region for the S3 store: set AWS_REGION (or a profile region)".into(),
                )
            })?;
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            // The signed payload hash already covers the body; trailing
            // checksums are not understood by every S3-compatible server.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if endpoint.is_some() {
            conf = conf.force_path_style(true);
        }
        let client = Client::from_conf(conf.build());
        Ok(S3Store {
            rt,
            client,
            bucket: bucket.to_string(),
            prefix,
            endpoint,
            limits: ReadLimits::default(),
        })
    }

    fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    fn url_of(&self, rel: &str) -> String {
        format!("s3://{}/{}{rel}", self.bucket, self.prefix)
    }

    fn target(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("S3 endpoint {e}"),
            None => "S3".to_string(),
        }
    }

    /// One clear error per failure class (after the SDK's retries).
    fn map_err<E>(&self, e: SdkError<E, HttpResponse>, what: &str) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e.code().unwrap_or("").to_string();
        let detail = error_chain(&e);
        let bucket = &self.bucket;
        if let Some(t) = transport_failure(&e, &self.target()) {
            return match t {
                TransportFailure::NoCredentials(m) => {
                    StoreError::BadCredentials(format!("{what}: {m}"))
                }
                TransportFailure::Unreachable(m) => StoreError::Unreachable(format!("{what}: {m}")),
                TransportFailure::Construction(m) => StoreError::Other(format!("{what}: {m}")),
            };
        }
        match code.as_str() {
            "NoSuchBucket" => {
                return StoreError::NoSuchBucket(format!(
                    "{bucket} (at {}) does not exist",
                    self.target()
                ));
            }
            "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
                return StoreError::AccessDenied(format!(
                    "{what}: the credentials in use may not access s3://{bucket} ({code})"
                ));
            }
            "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
            | "InvalidSecurity"
            | "ExpiredTokenException"
            | "InvalidClientTokenId" => {
                return StoreError::BadCredentials(format!(
                    "{what}: the store rejected the AWS credentials ({code})"
                ));
            }
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "ServiceUnavailable" => {
                return StoreError::Throttled(format!(
                    "{what}: the store is throttling requests ({code}) after {MAX_ATTEMPTS} attempts; retry later"
                ));
            }
            "NoSuchKey" | "NotFound" => {
                return StoreError::NotFound(what.to_string());
            }
            _ => {}
        }
        match status {
            Some(404) => StoreError::NotFound(what.to_string()),
            Some(403) => StoreError::AccessDenied(format!(
                "{what}: HTTP 403 from s3://{bucket} (access denied or bad credentials)"
            )),
            Some(429 | 503) => StoreError::Throttled(format!(
                "{what}: HTTP {} after {MAX_ATTEMPTS} attempts; retry later",
                status.unwrap_or(0)
            )),
            // A server error says nothing about what the store holds.
            Some(s @ 500..=599) => StoreError::Unreachable(format!(
                "{what}: HTTP {s} from {} after {MAX_ATTEMPTS} attempts (server error{}): {detail}",
                self.target(),
                if code.is_empty() {
                    String::new()
                } else {
                    format!(" {code}")
                }
            )),
            _ => StoreError::Other(format!("{what}: {detail}")),
        }
    }

    /// `GetObject` of `rel`, at most `limit` bytes (a longer object is
    /// [`StoreError::Corrupt`]), all of it within [`read_deadline`].
    async fn get_bytes(&self, rel: &str, what: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        self.get_tagged(rel, what, limit).await.map(|(b, _)| b)
    }

    /// As [`S3Store::get_bytes`], with the object's ETag (as returned,
    /// quotes included; empty if the server sent none).
    async fn get_tagged(
        &self,
        rel: &str,
        what: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, String), StoreError> {
        let deadline = read_deadline(limit);
        log::debug!("GET {}", self.url_of(rel));
        let read = async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.key(rel))
                .send()
                .await
                .map_err(|e| self.map_err(e, what))?;
            let etag = out.e_tag().unwrap_or_default().to_string();
            let stated = out.content_length().and_then(|n| u64::try_from(n).ok());
            if stated.is_some_and(|n| n > limit) {
                return Err(too_large(what, limit));
            }
            let mut body = out.body;
            let mut bytes = Vec::with_capacity(stated.unwrap_or(0) as usize);
            while let Some(chunk) = body.try_next().await.map_err(|e| {
                StoreError::Unreachable(format!(
                    "{what}: reading the object failed: {}",
                    DisplayErrorContext(&e)
                ))
            })? {
                if (bytes.len() + chunk.len()) as u64 > limit {
                    return Err(too_large(what, limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((bytes, etag))
        };
        tokio::time::timeout(deadline, read).await.map_err(|_| {
            StoreError::Unreachable(format!(
                "{what}: {} did not deliver the object within {} s (the deadline of a read of at most {limit} bytes)",
                self.target(),
                deadline.as_secs()
            ))
        })?
    }

    /// `PutObject` of `body` at `rel`; `create_only` adds `If-None-Match: *`
    /// (see [`lost_conditional_write`] for how such a write loses).
    async fn put(
        &self,
        rel: &str,
        content_type: &str,
        body: Vec<u8>,
        create_only: bool,
    ) -> Result<PutObjectOutput, SdkError<PutObjectError, HttpResponse>> {
        log::debug!(
            "PUT {} ({} bytes{})",
            self.url_of(rel),
            body.len(),
            if create_only { ", create-only" } else { "" }
        );
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(rel))
            .set_if_none_match(create_only.then(|| "*".to_string()))
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
    }

    /// `PutObject` of a named object: `If-None-Match: *` (create-only) or
    /// `If-Match: ETAG` (compare and swap); a lost condition is
    /// [`StoreError::Conflict`].
    async fn put_object_async(
        &self,
        rel: &str,
        bytes: &[u8],
        mode: &ObjectWrite,
    ) -> Result<ObjectTag, StoreError> {
        let url = self.url_of(rel);
        let (if_none_match, if_match, how) = match mode {
            ObjectWrite::CreateOnly => (Some("*".to_string()), None, "create-only"),
            ObjectWrite::IfMatch(t) => (None, Some(t.0.clone()), "if-match"),
        };
        log::debug!("PUT {url} ({} bytes, {how})", bytes.len());
        let r = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(rel))
            .set_if_none_match(if_none_match)
            .set_if_match(if_match)
            .content_type("application/json")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match r {
            Ok(out) => match out.e_tag() {
                Some(t) if !t.is_empty() => Ok(ObjectTag(t.to_string())),
                // Without an ETag there is nothing to compare and swap
                // against later: read it back.
                _ => self
                    .get_tagged(rel, &format!("object {url}"), bytes.len() as u64)
                    .await
                    .map(|(_, t)| ObjectTag(t)),
            },
            Err(e) if lost_conditional_write(&e) => Err(StoreError::Conflict(match mode {
                ObjectWrite::CreateOnly => format!("{url}: already exists (create-only)"),
                ObjectWrite::IfMatch(t) => {
                    format!("{url}: changed since it was read (ETag {})", t.0)
                }
            })),
            Err(e) => Err(self.map_err(e, &format!("object {url} ({how} write)"))),
        }
    }

    /// `ListObjectsV2` below `rel_prefix`, every page.
    async fn list_async(&self, rel_prefix: &str) -> Result<Vec<String>, StoreError> {
        let what = format!("listing {}", self.url_of(rel_prefix));
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            log::debug!(
                "LIST {}{}",
                self.url_of(rel_prefix),
                if token.is_some() { " (next page)" } else { "" }
            );
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.key(rel_prefix))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.map_err(e, &what))?;
            for o in out.contents() {
                let Some(rel) = o.key().and_then(|k| k.strip_prefix(self.prefix.as_str())) else {
                    continue;
                };
                // Only keys the object calls can address.
                if check_object_key(rel, false).is_err() {
                    continue;
                }
                if keys.len() >= MAX_LIST_KEYS {
                    return Err(StoreError::Corrupt(format!(
                        "{what}: more than {MAX_LIST_KEYS} keys: not listed further"
                    )));
                }
                keys.push(rel.to_string());
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) && !t.is_empty() => {
                    token = Some(t.to_string());
                }
                _ => break,
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    async fn put_blob_async(&self, bytes: &[u8]) -> Result<BlobPut, StoreError> {
        let hex = Sha256Digest::of(bytes).to_string();
        let rel = blob_key(&hex);
        let what = format!("blob {}", self.url_of(&rel));
        let r = self
            .put(&rel, "application/octet-stream", bytes.to_vec(), true)
            .await;
        match r {
            Ok(_) => Ok(BlobPut {
                sha256: hex,
                created: true,
            }),
            Err(e) => {
                // It exists, or a concurrent conditional write of the same
                // key is in flight: either way the object must hold this
                // content.
                if lost_conditional_write(&e) {
                    let have = self.get_bytes(&rel, &what, bytes.len() as u64).await?;
                    verify_digest(&have, &hex, &what)?;
                    Ok(BlobPut {
                        sha256: hex,
                        created: false,
                    })
                } else {
                    Err(self.map_err(e, &what))
                }
            }
        }
    }

    async fn put_index_async(
        &self,
        index: &AmiIndex,
        mode: IndexWrite,
    ) -> Result<IndexPut, StoreError> {
        index
            .validate(None)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        for e in &index.entries {
            let rel = blob_key(&e.sha256);
            let what = format!(
                "blob sha256:{} named by the index of {} ({})",
                e.sha256,
                index.ami,
                self.url_of(&rel)
            );
            let head = self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(self.key(&rel))
                .send()
                .await
                .map_err(|err| match self.map_err(err, &what) {
                    StoreError::NotFound(m) => StoreError::NotFound(format!(
                        "{m}: not writing an index that names a missing blob"
                    )),
                    other => other,
                })?;
            let len = head.content_length().unwrap_or(-1);
            if len != e.size as i64 {
                return Err(StoreError::DigestMismatch(format!(
                    "{what}: object has {len} bytes, the index says {}",
                    e.size
                )));
            }
        }
        let rel = index_key(&index.ami);
        let url = self.url_of(&rel);
        let what = format!("index {url}");
        if mode == IndexWrite::Replace {
            let existed = match self.get_bytes(&rel, &what, MAX_INDEX_SIZE).await {
                Ok(_) | Err(StoreError::Corrupt(_)) => true,
                Err(StoreError::NotFound(_)) => false,
                Err(e) => return Err(e),
            };
            self.put(&rel, "application/json", index.to_vec(), false)
                .await
                .map_err(|e| self.map_err(e, &what))?;
            return Ok(if existed {
                IndexPut::Replaced
            } else {
                IndexPut::Created
            });
        }
        // Create-only. A 412 means an index is there: identical is a retried
        // publish (no-op), different is a conflict. A 409 means a concurrent
        // conditional write of the same key is in flight: read what it left,
        // and if nothing is there yet, try again.
        let body = index.to_vec();
        for attempt in 0..MAX_ATTEMPTS {
            let r = self.put(&rel, "application/json", body.clone(), true).await;
            let e = match r {
                Ok(_) => return Ok(IndexPut::Created),
                Err(e) => e,
            };
            if !lost_conditional_write(&e) {
                return Err(self.map_err(e, &what));
            }
            match self.get_bytes(&rel, &what, MAX_INDEX_SIZE).await {
                Ok(bytes) => {
                    let have = AmiIndex::from_slice(&bytes, Some(&index.ami))?;
                    return if &have == index {
                        Ok(IndexPut::Unchanged)
                    } else {
                        Err(index_conflict(&have, index, &url))
                    };
                }
                Err(StoreError::NotFound(_)) => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict(format!(
            "{what}: concurrent writers kept the conditional write from completing after {MAX_ATTEMPTS} attempts"
        )))
    }
}

/// A `PutObject` with `If-None-Match: *` that lost: 412 Precondition Failed
/// (the key exists) or 409 ConditionalRequestConflict (a concurrent
/// conditional write of the same key is in flight). By status, or by error
/// code when a proxy or an S3-compatible server reports it differently.
fn lost_conditional_write<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().unwrap_or("");
    matches!(status, Some(409 | 412))
        || code == "PreconditionFailed"
        || code == "ConditionalRequestConflict"
}

/// The messages of an error and its sources, without repeats (the AWS SDK's
/// errors repeat their source in their own message): for every AWS SDK
/// client of the workspace, as [`https_client`].
/// How an AWS SDK request failed below the service, after the SDK's
/// retries: the one classification (and wording) of the S3 store, the KMS
/// signer and the EC2 client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// No usable credentials were found (environment, profile, instance role).
    NoCredentials(String),
    /// The service did not answer: timeouts, connection refused, DNS, network down.
    Unreachable(String),
    /// The request could not be built.
    Construction(String),
}

impl TransportFailure {
    pub fn message(&self) -> &str {
        match self {
            TransportFailure::NoCredentials(m)
            | TransportFailure::Unreachable(m)
            | TransportFailure::Construction(m) => m,
        }
    }
}

/// The [`TransportFailure`] of `e` (`target` names the service for the
/// message: `S3 endpoint http://…`, `AWS EC2 (eu-west-1)`); `None` when the
/// service answered (a service error, for the caller to map by its code).
pub fn transport_failure<E, R>(e: &SdkError<E, R>, target: &str) -> Option<TransportFailure>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let detail = error_chain(e);
    match e {
        SdkError::TimeoutError(_) => Some(TransportFailure::Unreachable(format!(
            "{target} did not answer in time ({MAX_ATTEMPTS} attempts, {}s at most)",
            OPERATION_TIMEOUT.as_secs()
        ))),
        SdkError::DispatchFailure(d) => {
            if detail.to_ascii_lowercase().contains("credential") {
                return Some(TransportFailure::NoCredentials(format!(
                    "no usable AWS credentials (environment, profile, instance role): {detail}"
                )));
            }
            let kind = if d.is_timeout() {
                "timed out"
            } else if d.is_io() {
                "network error (connection refused, DNS, or network down)"
            } else {
                "request failed"
            };
            Some(TransportFailure::Unreachable(format!(
                "cannot reach {target}: {kind} (up to {MAX_ATTEMPTS} attempts): {detail}"
            )))
        }
        SdkError::ConstructionFailure(_) => Some(TransportFailure::Construction(format!(
            "cannot build the request: {detail}"
        ))),
        _ => None,
    }
}

pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let m = err.to_string();
        if !m.is_empty() && !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = err.source();
    }
    parts.join(": ")
}

impl Store for S3Store {
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.put_blob_outcome(bytes).map(|o| o.sha256)
    }

    fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        mode: ObjectWrite,
    ) -> Result<ObjectTag, StoreError> {
        check_object_key(key, false)?;
        self.rt.block_on(self.put_object_async(key, bytes, &mode))
    }

    fn get_object(&self, key: &str, max_len: u64) -> Result<StoredObject, StoreError> {
        check_object_key(key, false)?;
        let url = self.url_of(key);
        let (bytes, etag) =
            self.rt
                .block_on(self.get_tagged(key, &format!("object {url}"), max_len))?;
        if etag.is_empty() {
            return Err(StoreError::Other(format!(
                "object {url}: the server sent no ETag (needed for compare and swap)"
            )));
        }
        Ok(StoredObject {
            bytes,
            tag: ObjectTag(etag),
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        check_object_key(prefix, true)?;
        self.rt.block_on(self.list_async(prefix))
    }

    fn put_blob_outcome(&self, bytes: &[u8]) -> Result<BlobPut, StoreError> {
        self.rt.block_on(self.put_blob_async(bytes))
    }

    fn get_blob_bounded(&self, sha256_hex: &str, max_len: u64) -> Result<Vec<u8>, StoreError> {
        check_hex(sha256_hex)?;
        let rel = blob_key(sha256_hex);
        let what = format!("blob {}", self.url_of(&rel));
        let bytes = self.rt.block_on(self.get_bytes(&rel, &what, max_len))?;
        verify_digest(&bytes, sha256_hex, &what)?;
        Ok(bytes)
    }

    fn get_blob(&self, sha256_hex: &str) -> Result<Vec<u8>, StoreError> {
        self.get_blob_bounded(sha256_hex, self.limits.limit(sha256_hex))
    }

    fn put_index(&self, index: &AmiIndex, mode: IndexWrite) -> Result<IndexPut, StoreError> {
        self.rt.block_on(self.put_index_async(index, mode))
    }

    fn get_index(&self, ami: &AmiRef) -> Result<AmiIndex, StoreError> {
        let rel = index_key(ami);
        let url = self.url_of(&rel);
        let what = format!("index of {ami} ({url})");
        let bytes = self
            .rt
            .block_on(self.get_bytes(&rel, &what, MAX_INDEX_SIZE))
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::NotFound(format!("no index for {ami} at {url}"))
                }
                other => other,
            })?;
        let index = AmiIndex::from_slice(&bytes, Some(ami))?;
        self.limits.learn(&index);
        Ok(index)
    }

    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix.trim_end_matches('/'))
            .trim_end_matches('/')
            .to_string()
    }

    fn index_location(&self, ami: &AmiRef) -> String {
        self.url_of(&index_key(ami))
    }
}
