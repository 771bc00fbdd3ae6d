//! EBS snapshots as [`BlockSource`]s, read through the EBS direct APIs
//! (`ListSnapshotBlocks`, `GetSnapshotBlock`), never by creating a volume.
//!
//! - The block map is listed once (every page); a block the map does not
//!   name reads as zeros without a request.
//! - Blocks are fetched in parallel (at most [`EbsOptions::parallel`]
//!   requests in flight), each checked against the SHA-256 checksum EBS
//!   sends with it; a block two readers want is fetched once.
//! - Fetched blocks are kept in a cache of at most
//!   [`EbsOptions::cache_bytes`]; a sequential reader's next blocks are
//!   fetched ahead of it within the same bound. Memory is bounded by these
//!   two numbers and the block map, whatever the snapshot's size.
//! - Throttling and transient errors are retried with backoff; a block
//!   that still fails is an [`ImageError::Io`] naming the snapshot and block.
//! - Credentials, region and endpoint come from the usual AWS chain
//!   (`AWS_ENDPOINT_URL_EBS`, else `AWS_ENDPOINT_URL`), through
//!   `bakeproof_store::sdk_config`.
//!
//! Bounds: a snapshot of at most [`MAX_VOLUME_GIB`] GiB (64 TiB, EBS's
//! largest volume); block sizes from 4 KiB to 16 MiB (EBS's is 512 KiB).
//! The block map costs 16 bytes and its token per allocated block (a full
//! 64 TiB snapshot: 128 Mi blocks, about 11 GiB with AWS's ~70-byte tokens;
//! an 8 GiB root volume: at most 16 Ki blocks, about 1.4 MiB).
//!
//! Retries are this crate's own (the SDK's are turned off for the EBS
//! client) so that every attempt is counted in [`FetchStats`]: throttling
//! (`ThrottlingException`, `RequestThrottledException`, HTTP 429), 5xx and
//! internal errors up to [`THROTTLE_ATTEMPTS`] attempts, timeouts and
//! connection failures up to [`TRANSIENT_ATTEMPTS`], with exponential
//! backoff ([`BACKOFF_BASE`] doubling to [`BACKOFF_MAX`]) and full jitter.
//! Every attempt (request and body) is bounded by [`ATTEMPT_TIMEOUT`].

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use aws_sdk_ebs::Client;
use aws_sdk_ebs::config::http::HttpResponse;
use aws_sdk_ebs::error::{ProvideErrorMetadata, SdkError};
use bakeproof_image::ImageError;
use bakeproof_image::block::{BlockSource, FetchProgress};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The largest snapshot read: 64 TiB (EBS's largest volume, io2 Block Express).
pub const MAX_VOLUME_GIB: u64 = 64 * 1024;
/// Smallest and largest block size accepted (EBS's is 512 KiB).
pub const MIN_BLOCK_SIZE: u64 = 4096;
pub const MAX_BLOCK_SIZE: u64 = 16 << 20;
/// Attempts of a throttled (or 5xx) request.
pub const THROTTLE_ATTEMPTS: u32 = 8;
/// Attempts of a request that timed out or could not connect.
pub const TRANSIENT_ATTEMPTS: u32 = 3;
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// One attempt, the request and its whole body.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Blocks a `ListSnapshotBlocks` page asks for (EBS's most).
const LIST_PAGE: i32 = 10_000;

/// Why a snapshot (or an AMI's snapshots) could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EbsError {
    #[error("EBS configuration: {0}")]
    Config(String),
    #[error("{op} {resource}: {message}")]
    Api {
        op: &'static str,
        resource: String,
        message: String,
    },
    #[error("snapshot {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Ec2(#[from] bakeproof_ec2::Ec2Error),
}

/// How a snapshot is read.
#[derive(Clone)]
pub struct EbsOptions {
    /// The region; `None`: the environment's or the profile's.
    pub region: Option<String>,
    /// Most `GetSnapshotBlock` requests in flight.
    pub parallel: usize,
    /// Most bytes of fetched blocks kept (cache and read-ahead together).
    pub cache_bytes: u64,
    pub progress: Option<Arc<dyn FetchProgress>>,
}

impl Default for EbsOptions {
    fn default() -> EbsOptions {
        EbsOptions {
            region: None,
            parallel: 16,
            cache_bytes: 256 << 20,
            progress: None,
        }
    }
}

/// What reading a snapshot cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// `ListSnapshotBlocks` pages.
    pub list_requests: u64,
    /// `GetSnapshotBlock` requests (retries included).
    pub get_requests: u64,
    pub blocks_fetched: u64,
    pub bytes_fetched: u64,
    /// Reads served from the cache.
    pub cache_hits: u64,
    /// Reads of blocks the map does not name (zeros, no request).
    pub zero_blocks: u64,
    pub retries: u64,
    /// Most requests that were in flight at once.
    pub max_in_flight: u64,
}

#[derive(Default)]
struct Counters {
    list_requests: AtomicU64,
    get_requests: AtomicU64,
    blocks_fetched: AtomicU64,
    bytes_fetched: AtomicU64,
    cache_hits: AtomicU64,
    zero_blocks: AtomicU64,
    retries: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// The block map: allocated block indices, sorted, with their tokens in one
/// arena (16 bytes and the token per block; binary search by index).
struct BlockMap {
    /// (block index, token length, token offset in `tokens`).
    entries: Vec<(u32, u32, u64)>,
    tokens: String,
}

impl BlockMap {
    fn position(&self, index: u64) -> Option<usize> {
        let index = u32::try_from(index).ok()?;
        self.entries.binary_search_by_key(&index, |e| e.0).ok()
    }

    fn token(&self, pos: usize) -> &str {
        let (_, len, off) = self.entries[pos];
        let start = off as usize;
        &self.tokens[start..start + len as usize]
    }
}

/// A fetch's outcome, shared by everyone waiting for it.
type Slot = Arc<OnceLock<Result<Arc<[u8]>, String>>>;

struct State {
    cache: lru::LruCache<u32, Arc<[u8]>>,
    in_flight: std::collections::HashMap<u32, Slot>,
}

struct Inner {
    snapshot_id: String,
    client: Client,
    handle: tokio::runtime::Handle,
    /// For messages: the endpoint when not AWS's.
    target: String,
    block_size: u64,
    size: u64,
    map: BlockMap,
    state: Mutex<State>,
    done: Condvar,
    permits: Arc<tokio::sync::Semaphore>,
    /// Allocated blocks fetched ahead of a read.
    window: usize,
    counters: Counters,
    progress: Option<Arc<dyn FetchProgress>>,
}

/// An EBS snapshot's bytes.
pub struct EbsSnapshot {
    snapshot_id: String,
    size: u64,
    inner: Arc<Inner>,
    /// Last: dropped after `inner` (the tasks' clones go with it).
    _rt: tokio::runtime::Runtime,
}

/// What to do with a failed attempt.
enum Failure {
    /// Throttled or a server error: retried up to [`THROTTLE_ATTEMPTS`].
    Throttled(String),
    /// Timed out, could not connect, cut off: up to [`TRANSIENT_ATTEMPTS`].
    Transient(String),
    /// Refused (validation, access) or wrong: at once.
    Fatal(String),
    /// The snapshot (or block) does not exist: at once.
    NotFound(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Failure::Throttled(m)
            | Failure::Transient(m)
            | Failure::Fatal(m)
            | Failure::NotFound(m) => m,
        }
    }
}

fn classify<E>(e: &SdkError<E, HttpResponse>, target: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(t) = bakeproof_store::transport_failure(e, target) {
        return match t {
            bakeproof_store::TransportFailure::Unreachable(m) => Failure::Transient(m),
            other => Failure::Fatal(other.message().to_string()),
        };
    }
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().unwrap_or("");
    let msg = e.message().unwrap_or("");
    let detail = bakeproof_store::error_chain(e);
    let what = match (code, status) {
        ("", Some(s)) => format!("{target} answered HTTP {s}: {detail}"),
        ("", None) => format!("{target}: {detail}"),
        (c, _) => format!("{target} answered {c}: {msg}"),
    };
    match code {
        "ThrottlingException"
        | "RequestThrottledException"
        | "SlowDown"
        | "InternalServerException"
        | "ServiceUnavailable"
        | "InternalError" => return Failure::Throttled(what),
        "ResourceNotFoundException" => return Failure::NotFound(what),
        "AccessDeniedException" | "UnauthorizedOperation" | "AccessDenied" => {
            return Failure::Fatal(format!(
                "the credentials in use may not do this (IAM ebs:ListSnapshotBlocks, \
                 ebs:GetSnapshotBlock; KMS decrypt for an encrypted snapshot): {what}"
            ));
        }
        _ => {}
    }
    match (status, e) {
        (Some(429), _) => Failure::Throttled(what),
        (Some(s), _) if s >= 500 => Failure::Throttled(what),
        // Cut off or unreadable: the connection, not EBS's answer.
        (_, SdkError::ResponseError(_)) => Failure::Transient(what),
        _ => Failure::Fatal(what),
    }
}

/// Full jitter: a uniform wait in `[0, min(max, base * 2^n)]`.
fn backoff(retry: u32) -> Duration {
    let cap = BACKOFF_BASE
        .saturating_mul(1u32 << retry.min(16))
        .min(BACKOFF_MAX);
    let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=ms))
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of
/// attempts; counts the retries.
async fn with_retries<T, F, Fut>(counters: &Counters, mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let (mut throttled, mut transient) = (0u32, 0u32);
    loop {
        let failure = match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(f)) => f,
            Err(_) => Failure::Transient(format!(
                "no complete answer in {}s",
                ATTEMPT_TIMEOUT.as_secs()
            )),
        };
        let n = match failure {
            f @ (Failure::Fatal(_) | Failure::NotFound(_)) => return Err(f),
            Failure::Throttled(m) => {
                throttled += 1;
                if throttled >= THROTTLE_ATTEMPTS {
                    return Err(Failure::Throttled(format!(
                        "{m} (throttled or failing, {throttled} attempts)"
                    )));
                }
                throttled + transient
            }
            Failure::Transient(m) => {
                transient += 1;
                if transient >= TRANSIENT_ATTEMPTS {
                    return Err(Failure::Transient(format!("{m} ({transient} attempts)")));
                }
                throttled + transient
            }
        };
        counters.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff(n - 1)).await;
    }
}

/// Checks a block against the checksum EBS sent with it.
fn verify(data: &[u8], checksum: Option<&str>, algorithm: Option<&str>) -> Result<(), String> {
    match algorithm {
        Some("SHA256") => {}
        Some(a) => {
            return Err(format!(
                "checksum algorithm {a:?}, not SHA256: cannot verify"
            ));
        }
        None => return Err("no checksum algorithm in the answer: cannot verify".into()),
    }
    let Some(want) = checksum else {
        return Err("no checksum in the answer: cannot verify".into());
    };
    let want = base64::engine::general_purpose::STANDARD
        .decode(want.trim())
        .map_err(|e| format!("checksum {want:?} is not base64: {e}"))?;
    let got = Sha256::digest(data);
    if want.as_slice() != got.as_slice() {
        return Err(format!(
            "checksum mismatch: EBS says SHA-256 {}, the data is {}",
            base64::engine::general_purpose::STANDARD.encode(&want),
            base64::engine::general_purpose::STANDARD.encode(got)
        ));
    }
    Ok(())
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every
        // update is a single insert or remove).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn io(&self, index: u64, message: impl std::fmt::Display) -> ImageError {
        ImageError::Io {
            offset: index.saturating_mul(self.block_size),
            message: format!("EBS snapshot {} block {index}: {message}", self.snapshot_id),
        }
    }

    /// One `GetSnapshotBlock`, with retries, checked.
    async fn fetch(self: Arc<Self>, pos: usize) -> Result<Arc<[u8]>, String> {
        let index = self.map.entries[pos].0;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| format!("the fetch pool is closed: {e}"))?;
        let c = &self.counters;
        let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let me = &self;
        let out = with_retries(c, || async move {
            me.counters.get_requests.fetch_add(1, Ordering::Relaxed);
            let out = me
                .client
                .get_snapshot_block()
                .snapshot_id(&me.snapshot_id)
                .block_index(index as i32)
                .block_token(me.map.token(pos))
                .send()
                .await
                .map_err(|e| classify(&e, &me.target))?;
            let checksum = out.checksum.clone();
            let algorithm = out
                .checksum_algorithm
                .as_ref()
                .map(|a| a.as_str().to_string());
            let data = out
                .block_data
                .collect()
                .await
                .map_err(|e| {
                    Failure::Transient(format!(
                        "reading the block's body: {}",
                        bakeproof_store::error_chain(&e)
                    ))
                })?
                .into_bytes();
            Ok((data, checksum, algorithm))
        })
        .await;
        c.in_flight.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        let (data, checksum, algorithm) = out.map_err(Failure::into_message)?;
        if data.len() as u64 != self.block_size {
            return Err(format!(
                "the block is {} bytes, the snapshot's block size {}",
                data.len(),
                self.block_size
            ));
        }
        verify(&data, checksum.as_deref(), algorithm.as_deref())?;
        c.blocks_fetched.fetch_add(1, Ordering::Relaxed);
        c.bytes_fetched
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.fetched(data.len() as u64);
        }
        Ok(Arc::from(data.as_ref()))
    }

    /// The slot of block `pos`: the cache's (filled), an in-flight one, or
    /// a new fetch's. `None` from the cache means a hit was counted.
    fn slot(self: &Arc<Self>, st: &mut State, pos: usize, demand: bool) -> Option<Slot> {
        let index = self.map.entries[pos].0;
        if let Some(b) = st.cache.get(&index) {
            if demand {
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            }
            let s: Slot = Arc::new(OnceLock::new());
            let _ = s.set(Ok(b.clone()));
            return Some(s);
        }
        if let Some(s) = st.in_flight.get(&index) {
            return Some(s.clone());
        }
        if !demand && st.in_flight.len() >= self.window {
            return None;
        }
        let s: Slot = Arc::new(OnceLock::new());
        st.in_flight.insert(index, s.clone());
        let me = self.clone();
        let slot = s.clone();
        self.handle.spawn(async move {
            let r = me.clone().fetch(pos).await;
            let mut st = me.lock();
            if let Ok(b) = &r {
                st.cache.put(index, b.clone());
            }
            let _ = slot.set(r);
            st.in_flight.remove(&index);
            drop(st);
            me.done.notify_all();
        });
        Some(s)
    }

    fn wait(&self, slot: &Slot) -> Result<Arc<[u8]>, String> {
        let mut st = self.lock();
        loop {
            if let Some(r) = slot.get() {
                return r.clone();
            }
            st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn read_at(self: &Arc<Self>, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        let len = buf.len() as u64;
        match offset.checked_add(len) {
            Some(end) if end <= self.size => {}
            _ => {
                return Err(ImageError::OutOfRange {
                    offset,
                    len,
                    size: self.size,
                });
            }
        }
        if buf.is_empty() {
            return Ok(());
        }
        let bs = self.block_size;
        let first = offset / bs;
        let last = (offset + len - 1) / bs;
        // Every block of the read is asked for at once, then the allocated
        // blocks after it (read-ahead), then the read waits for its own.
        let mut wanted: Vec<(u64, Option<Slot>)> = Vec::new();
        {
            let mut st = self.lock();
            for b in first..=last {
                let slot = match self.map.position(b) {
                    Some(pos) => self.slot(&mut st, pos, true),
                    None => None,
                };
                wanted.push((b, slot));
            }
            let next = match self
                .map
                .entries
                .binary_search_by_key(&(last + 1), |e| u64::from(e.0))
            {
                Ok(p) | Err(p) => p,
            };
            for pos in next..self.map.entries.len().min(next + self.window) {
                if self.slot(&mut st, pos, false).is_none() {
                    break;
                }
            }
        }
        for (b, slot) in wanted {
            let block_start = b * bs;
            let from = offset.max(block_start);
            let to = (offset + len).min(block_start + bs);
            let dst = &mut buf[(from - offset) as usize..(to - offset) as usize];
            match slot {
                None => {
                    self.counters.zero_blocks.fetch_add(1, Ordering::Relaxed);
                    dst.fill(0);
                }
                Some(s) => {
                    let data = self.wait(&s).map_err(|m| self.io(b, m))?;
                    let at = (from - block_start) as usize;
                    dst.copy_from_slice(&data[at..at + dst.len()]);
                }
            }
        }
        Ok(())
    }
}

impl EbsSnapshot {
    /// Lists the snapshot's blocks (nothing else is fetched yet).
    pub fn open(snapshot_id: &str, opts: EbsOptions) -> Result<EbsSnapshot, EbsError> {
        if snapshot_id.is_empty()
            || snapshot_id.len() > 64
            || !snapshot_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(EbsError::Invalid(format!(
                "{snapshot_id:?} is not a snapshot id (snap-…)"
            )));
        }
        let parallel = opts.parallel.clamp(1, 256);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(parallel.clamp(1, 4))
            .thread_name("bakeproof-ebs")
            .enable_all()
            .build()
            .map_err(|e| EbsError::Config(format!("cannot start the EBS runtime: {e}")))?;
        let endpoint = bakeproof_store::env_nonempty("AWS_ENDPOINT_URL_EBS")
            .or_else(|| bakeproof_store::env_nonempty("AWS_ENDPOINT_URL"));
        let sdk = bakeproof_store::sdk_config(&rt, opts.region.as_deref(), endpoint.as_deref())
            .ok_or_else(|| {
                EbsError::Config(
                    "no AWS region (give one, or set AWS_REGION or a profile's region)".into(),
                )
            })?;
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let target = match &endpoint {
            Some(e) => format!("EBS endpoint {e} ({region})"),
            None => format!("AWS EBS ({region})"),
        };
        // Retries are ours (counted, see the crate's documentation).
        let conf = aws_sdk_ebs::config::Builder::from(&sdk)
            .retry_config(aws_sdk_ebs::config::retry::RetryConfig::disabled())
            .build();
        let client = Client::from_conf(conf);
        let counters = Counters::default();
        let (map, volume_gib, block_size) =
            rt.block_on(list_blocks(&client, snapshot_id, &target, &counters))?;
        let size = volume_gib << 30;
        let allocated = map.entries.len() as u64;
        if let Some(p) = &opts.progress {
            p.expect(allocated, allocated * block_size);
        }
        let cap_blocks = (opts.cache_bytes / block_size).max(2);
        let window = (parallel as u64).min(cap_blocks / 2).max(1) as usize;
        let cap = NonZeroUsize::new(usize::try_from(cap_blocks).unwrap_or(usize::MAX))
            .unwrap_or(NonZeroUsize::MIN);
        let inner = Arc::new(Inner {
            snapshot_id: snapshot_id.to_string(),
            client,
            handle: rt.handle().clone(),
            target,
            block_size,
            size,
            map,
            state: Mutex::new(State {
                cache: lru::LruCache::new(cap),
                in_flight: std::collections::HashMap::new(),
            }),
            done: Condvar::new(),
            permits: Arc::new(tokio::sync::Semaphore::new(parallel)),
            window,
            counters,
            progress: opts.progress.clone(),
        });
        Ok(EbsSnapshot {
            snapshot_id: snapshot_id.to_string(),
            size,
            inner,
            _rt: rt,
        })
    }

    pub fn snapshot_id(&self) -> &str {
        &self.snapshot_id
    }

    /// The block size EBS reports (512 KiB).
    pub fn block_size(&self) -> u32 {
        self.inner.block_size as u32
    }

    /// Blocks the map names (the ones a full read fetches).
    pub fn allocated_blocks(&self) -> u64 {
        self.inner.map.entries.len() as u64
    }

    pub fn stats(&self) -> FetchStats {
        let c = &self.inner.counters;
        let g = |a: &AtomicU64| a.load(Ordering::SeqCst);
        FetchStats {
            list_requests: g(&c.list_requests),
            get_requests: g(&c.get_requests),
            blocks_fetched: g(&c.blocks_fetched),
            bytes_fetched: g(&c.bytes_fetched),
            cache_hits: g(&c.cache_hits),
            zero_blocks: g(&c.zero_blocks),
            retries: g(&c.retries),
            max_in_flight: g(&c.max_in_flight),
        }
    }
}

/// Every page of `ListSnapshotBlocks`: the map, the volume size (GiB) and
/// the block size (bytes), checked against the bounds.
async fn list_blocks(
    client: &Client,
    snapshot_id: &str,
    target: &str,
    counters: &Counters,
) -> Result<(BlockMap, u64, u64), EbsError> {
    let api = |message: String| EbsError::Api {
        op: "ListSnapshotBlocks",
        resource: snapshot_id.to_string(),
        message,
    };
    let mut entries: Vec<(u32, u32, u64)> = Vec::new();
    let mut tokens = String::new();
    let mut geometry: Option<(u64, u64)> = None;
    let mut next: Option<String> = None;
    let mut pages: u64 = 0;
    loop {
        let token = next.clone();
        let out = with_retries(counters, || {
            let token = token.clone();
            async move {
                counters.list_requests.fetch_add(1, Ordering::Relaxed);
                client
                    .list_snapshot_blocks()
                    .snapshot_id(snapshot_id)
                    .max_results(LIST_PAGE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify(&e, target))
            }
        })
        .await
        .map_err(|f| match f {
            Failure::NotFound(_) => EbsError::NotFound(snapshot_id.to_string()),
            f => api(f.into_message()),
        })?;
        pages += 1;
        let gib = out
            .volume_size()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| {
                EbsError::Invalid(format!(
                    "{snapshot_id}: no VolumeSize in ListSnapshotBlocks"
                ))
            })?;
        let bs = out
            .block_size()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| {
                EbsError::Invalid(format!("{snapshot_id}: no BlockSize in ListSnapshotBlocks"))
            })?;
        if gib == 0 || gib > MAX_VOLUME_GIB {
            return Err(EbsError::Invalid(format!(
                "{snapshot_id}: volume of {gib} GiB (1 to {MAX_VOLUME_GIB} GiB are read)"
            )));
        }
        if !bs.is_power_of_two() || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&bs) {
            return Err(EbsError::Invalid(format!(
                "{snapshot_id}: block size {bs} (a power of two from {MIN_BLOCK_SIZE} to {MAX_BLOCK_SIZE} is read)"
            )));
        }
        match geometry {
            None => geometry = Some((gib, bs)),
            Some(g) if g != (gib, bs) => {
                return Err(EbsError::Invalid(format!(
                    "{snapshot_id}: the pages disagree on the volume and block size"
                )));
            }
            Some(_) => {}
        }
        let blocks = (gib << 30) / bs;
        for b in out.blocks() {
            let (Some(i), Some(t)) = (b.block_index(), b.block_token()) else {
                return Err(EbsError::Invalid(format!(
                    "{snapshot_id}: a block without index or token in ListSnapshotBlocks"
                )));
            };
            let i = u64::try_from(i)
                .ok()
                .filter(|i| *i < blocks)
                .ok_or_else(|| {
                    EbsError::Invalid(format!(
                        "{snapshot_id}: block index {i} outside the volume ({blocks} blocks)"
                    ))
                })?;
            if entries.len() as u64 >= blocks || t.is_empty() || t.len() > 4096 {
                return Err(EbsError::Invalid(format!(
                    "{snapshot_id}: more blocks than the volume has, or a bad token"
                )));
            }
            entries.push((i as u32, t.len() as u32, tokens.len() as u64));
            tokens.push_str(t);
        }
        next = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if next.is_none() {
            break;
        }
        // Pages may be short or even empty, but not endless.
        if pages > blocks + 16 {
            return Err(api("the pages do not end".into()));
        }
    }
    let Some((gib, bs)) = geometry else {
        return Err(api("no page".into()));
    };
    entries.sort_unstable_by_key(|e| e.0);
    if entries.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(EbsError::Invalid(format!(
            "{snapshot_id}: a block listed twice in ListSnapshotBlocks"
        )));
    }
    entries.shrink_to_fit();
    tokens.shrink_to_fit();
    Ok((BlockMap { entries, tokens }, gib, bs))
}

impl BlockSource for EbsSnapshot {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ImageError> {
        self.inner.read_at(offset, buf)
    }
}

/// One volume of an AMI to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmiVolume {
    /// The device name of the mapping (`/dev/xvda`).
    pub device: String,
    pub snapshot_id: String,
    /// Whether it is the root device's volume.
    pub root: bool,
}

/// The snapshots of an AMI (`DescribeImages`): the root device's only, or
/// every EBS volume with `all_volumes` (root first).
pub fn ami_volumes(
    region: &str,
    ami_id: &str,
    all_volumes: bool,
) -> Result<Vec<AmiVolume>, EbsError> {
    let img = bakeproof_ec2::Ec2::connect(region)?.describe_image(ami_id)?;
    let root_device = img.root_device_name.clone().unwrap_or_default();
    let Some(root_snapshot) = img.root_snapshot.clone() else {
        return Err(EbsError::Invalid(format!(
            "{ami_id}: its root device {root_device:?} is not an EBS volume with a snapshot \
             (an instance-store AMI, or no mapping for it)"
        )));
    };
    let mut out = vec![AmiVolume {
        device: root_device.clone(),
        snapshot_id: root_snapshot.clone(),
        root: true,
    }];
    if all_volumes {
        for v in &img.volumes {
            let Some(s) = &v.snapshot_id else { continue };
            if v.device == root_device && *s == root_snapshot {
                continue;
            }
            out.push(AmiVolume {
                device: v.device.clone(),
                snapshot_id: s.clone(),
                root: false,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_checked() {
        let data = vec![7u8; 4096];
        let good = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
        assert!(verify(&data, Some(&good), Some("SHA256")).is_ok());
        let mut bad = data.clone();
        bad[100] ^= 1;
        assert!(
            verify(&bad, Some(&good), Some("SHA256"))
                .unwrap_err()
                .contains("mismatch")
        );
        assert!(verify(&data, None, Some("SHA256")).is_err());
        assert!(verify(&data, Some(&good), None).is_err());
        assert!(verify(&data, Some(&good), Some("MD5")).is_err());
        assert!(verify(&data, Some("%%%"), Some("SHA256")).is_err());
    }

    #[test]
    fn backoff_is_bounded() {
        for n in 0..40 {
            let d = backoff(n);
            assert!(d <= BACKOFF_MAX);
            assert!(d <= BACKOFF_BASE.saturating_mul(1 << n.min(16)));
        }
    }
}
