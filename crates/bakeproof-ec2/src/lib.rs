//! EC2 for the image lifecycle (issue 15, docs/lifecycle.md "EC2"), through
//! the real API (aws-sdk-ec2):
//!
//! - [`Ec2::mirror`]: an AMI's signed lifecycle state ([`Mirror`], read from
//!   its chain in the store) copied to the image's tags (`Status`,
//!   `Application`, `Version`, `BuildDate`, `DeprecationDate`, and the
//!   record's sequence number and digest) and to EC2's own deprecation
//!   time (`EnableImageDeprecation`; `DisableImageDeprecation` once the
//!   AMI is no longer deprecated or revoked). The tags are a *copy* for
//!   the tools that read tags (consoles, scripts, launch-template
//!   selectors); nothing in bakeproof believes them: the store's signed
//!   records are the state;
//! - [`Ec2::find_usage`]: the instances launched from an AMI
//!   (`DescribeInstances`, filter `image-id`, every page);
//! - [`Ec2::cleanup`]: given an application's deprecated AMIs newest first,
//!   deregisters those beyond the newest N and deletes their snapshots
//!   (dry run unless told), skipping an image any instance still uses;
//! - [`Ec2::describe_image`]: the image with its root device's snapshot and
//!   every volume's (`DescribeImages`).
//!
//! The client is configured like the store's S3 and the KMS client
//! (`bakeproof_store::sdk_config`: the rustls/ring HTTPS client, bounded
//! retries and timeouts, credentials from the SDK's default chain) on a
//! private current-thread tokio runtime; the endpoint is
//! `AWS_ENDPOINT_URL_EC2`, else `AWS_ENDPOINT_URL`, else AWS's, and the
//! region is the AMI's.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::{Filter, Image, Tag};
use bakeproof_lifecycle::AmiChain;
use bakeproof_lifecycle::model::{Action, Labels, State};
use bakeproof_lifecycle::time::{parse_rfc3339, rfc3339};
use bakeproof_store::{env_nonempty, sdk_config};

/// Tag: the lifecycle state (`built`, `testing`, `approved`, `deprecated`, `revoked`).
pub const TAG_STATUS: &str = "Status";
pub const TAG_APPLICATION: &str = "Application";
pub const TAG_VERSION: &str = "Version";
pub const TAG_BUILD_DATE: &str = "BuildDate";
/// Tag: when the AMI counts as deprecated (RFC 3339), on deprecated and
/// revoked AMIs only.
pub const TAG_DEPRECATION_DATE: &str = "DeprecationDate";
/// Tag: the sequence number of the record mirrored.
pub const TAG_SEQUENCE: &str = "bakeproof:lifecycle-sequence";
/// Tag: `sha256:HEX` of the record mirrored (its bundle in the store).
pub const TAG_RECORD: &str = "bakeproof:lifecycle-record";

/// EC2's limits on a tag (bytes of UTF-8 here, characters at EC2: stricter).
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
/// EC2 refuses a `DeprecateAt` more than 10 years ahead.
const MAX_DEPRECATE_AHEAD_SECS: i64 = 10 * 365 * 86_400;
/// A deprecation "now" (or in the past) is set this far ahead: EC2 refuses
/// a `DeprecateAt` in the past and rounds to the minute.
const DEPRECATE_NOW_MARGIN_SECS: i64 = 60;

/// Why an EC2 operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Ec2Error {
    /// No region, no runtime: nothing was sent.
    #[error("EC2: {0}")]
    Config(String),
    /// The image is not in EC2 (in this region, for these credentials).
    #[error("{ami}: no such image at {target}")]
    NotFound { ami: String, target: String },
    /// EC2 could not be reached, or refused the request.
    #[error("{op} {resource}: {message}")]
    Api {
        op: &'static str,
        resource: String,
        message: String,
    },
    /// What would be sent is not valid for EC2 (a tag too long, a date out of range).
    #[error("{0}")]
    Invalid(String),
}

/// One EBS volume of an image's block device mappings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVolume {
    pub device: String,
    pub snapshot_id: Option<String>,
    pub size_gib: Option<i32>,
    pub volume_type: Option<String>,
    pub encrypted: Option<bool>,
}

/// What `DescribeImages` says of one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub ami_id: String,
    pub name: Option<String>,
    /// `available`, `pending`, `disabled`, ...
    pub state: Option<String>,
    pub owner_id: Option<String>,
    pub creation_date: Option<String>,
    /// EC2's deprecation time (RFC 3339), when set.
    pub deprecation_time: Option<String>,
    pub root_device_name: Option<String>,
    /// The snapshot of the root device's volume (the volume mapped at
    /// `root_device_name`), when it is EBS.
    pub root_snapshot: Option<String>,
    /// Every EBS volume of the mappings, in EC2's order (instance-store
    /// mappings have no volume and are left out).
    pub volumes: Vec<ImageVolume>,
    pub tags: BTreeMap<String, String>,
}

impl ImageInfo {
    /// Every snapshot the image maps (root first when it is one of them).
    pub fn snapshots(&self) -> Vec<String> {
        let mut out: Vec<String> = self.root_snapshot.iter().cloned().collect();
        for v in &self.volumes {
            if let Some(s) = &v.snapshot_id
                && !out.contains(s)
            {
                out.push(s.clone());
            }
        }
        out
    }
}

/// An AMI's lifecycle state as mirrored to EC2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    pub state: State,
    pub labels: Labels,
    /// The newest trusted record (0 and `None` for an AMI with none).
    pub sequence: u64,
    pub record_digest: Option<String>,
    /// Deprecated: when it counts as deprecated (the deprecation's
    /// effective date, else its time); revoked: when it was revoked.
    /// Unix seconds.
    pub deprecate_at: Option<i64>,
}

impl Mirror {
    /// The state of an AMI's trusted chain (as `bakeproof_lifecycle::ops`
    /// reads it from the store).
    pub fn from_chain(chain: &AmiChain) -> Mirror {
        let Some(head) = chain.head() else {
            return Mirror {
                state: State::Built,
                labels: Labels::default(),
                sequence: 0,
                record_digest: None,
                deprecate_at: None,
            };
        };
        let p = &head.predicate;
        let deprecate_at = match p.state {
            State::Deprecated => chain
                .records
                .iter()
                .rev()
                .find(|r| r.predicate.action == Action::Deprecate)
                .map(|r| &r.predicate)
                .and_then(|d| d.effective.as_deref().or(Some(d.time.as_str())))
                .and_then(parse_rfc3339)
                .or_else(|| parse_rfc3339(&p.time)),
            State::Revoked => parse_rfc3339(&p.time),
            _ => None,
        };
        Mirror {
            state: p.state,
            labels: p.labels.clone(),
            sequence: p.sequence,
            record_digest: Some(head.digest.clone()),
            deprecate_at,
        }
    }

    /// The tags this state sets.
    pub fn tags(&self) -> Result<BTreeMap<String, String>, Ec2Error> {
        let mut t = BTreeMap::new();
        for (k, v) in &self.labels.extra {
            t.insert(k.clone(), v.clone());
        }
        let l = &self.labels;
        for (k, v) in [
            (TAG_APPLICATION, &l.application),
            (TAG_VERSION, &l.version),
            (TAG_BUILD_DATE, &l.build_date),
        ] {
            if let Some(v) = v {
                t.insert(k.to_string(), v.clone());
            }
        }
        t.insert(TAG_STATUS.to_string(), self.state.as_str().to_string());
        if let Some(at) = self.deprecate_at {
            t.insert(TAG_DEPRECATION_DATE.to_string(), rfc3339(at));
        }
        if let Some(d) = &self.record_digest {
            t.insert(TAG_SEQUENCE.to_string(), self.sequence.to_string());
            t.insert(TAG_RECORD.to_string(), d.clone());
        }
        for (k, v) in &t {
            if k.is_empty() || k.len() > MAX_TAG_KEY || k.to_ascii_lowercase().starts_with("aws:") {
                return Err(Ec2Error::Invalid(format!(
                    "label {k:?}: not a usable EC2 tag key (1 to {MAX_TAG_KEY} bytes, not aws:*)"
                )));
            }
            if v.len() > MAX_TAG_VALUE {
                return Err(Ec2Error::Invalid(format!(
                    "label {k}: its value is longer than EC2's {MAX_TAG_VALUE} for a tag"
                )));
            }
        }
        Ok(t)
    }

    /// The tags bakeproof owns and removes when this state does not set
    /// them (the labels' tags are the team's: never removed).
    fn owned_tags() -> [&'static str; 3] {
        [TAG_DEPRECATION_DATE, TAG_SEQUENCE, TAG_RECORD]
    }
}

/// What [`Ec2::mirror`] did to EC2's deprecation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeprecationChange {
    /// Already as wanted.
    Unchanged,
    /// `EnableImageDeprecation` at this time (RFC 3339; later than asked
    /// when that was in the past: EC2 takes future times only).
    Enabled { at: String },
    /// `DisableImageDeprecation`.
    Disabled,
}

/// What [`Ec2::mirror`] changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirrored {
    pub ami_id: String,
    /// Tags created or overwritten (`CreateTags`).
    pub tags_set: BTreeMap<String, String>,
    /// bakeproof's own tags removed (`DeleteTags`).
    pub tags_removed: Vec<String>,
    pub deprecation: DeprecationChange,
}

/// An instance launched from an AMI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceUse {
    pub instance_id: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    pub state: String,
    /// RFC 3339.
    pub launch_time: Option<String>,
    pub instance_type: Option<String>,
    pub name: Option<String>,
}

impl InstanceUse {
    /// Whether the instance still exists or may run again (anything but
    /// shutting-down and terminated): what keeps [`Ec2::cleanup`] off its image.
    pub fn in_use(&self) -> bool {
        !matches!(self.state.as_str(), "terminated" | "shutting-down")
    }
}

/// What [`Ec2::cleanup`] did, or would do, with one AMI beyond the newest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CleanupOutcome {
    /// Dry run: would be deregistered and these snapshots deleted.
    WouldDelete,
    /// Deregistered (its snapshots: [`CleanupItem::snapshots`]).
    Deleted,
    /// Skipped: instances still use it.
    InUse { instances: Vec<String> },
    /// Not in EC2 (already deregistered, or not this account's).
    NotInEc2,
    /// A request failed; the cleanup stopped here.
    Failed { message: String },
}

/// One snapshot of a cleaned-up image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotOutcome {
    pub snapshot_id: String,
    /// `None`: deleted (or would be, in a dry run); else why not.
    pub error: Option<String>,
}

/// One AMI beyond the newest N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanupItem {
    pub ami_id: String,
    pub outcome: CleanupOutcome,
    pub snapshots: Vec<SnapshotOutcome>,
}

/// What [`Ec2::cleanup`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanupReport {
    /// The newest N, left alone.
    pub kept: Vec<String>,
    /// The others, in the order given (up to the first failure).
    pub items: Vec<CleanupItem>,
    /// Whether anything was changed (`false`: a dry run).
    pub applied: bool,
}

impl CleanupReport {
    /// Whether every item went as planned (no failure, no snapshot left).
    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| {
            !matches!(i.outcome, CleanupOutcome::Failed { .. })
                && i.snapshots.iter().all(|s| s.error.is_none())
        })
    }
}

/// An EC2 client for one region.
pub struct Ec2 {
    rt: tokio::runtime::Runtime,
    client: Client,
    region: String,
    /// The endpoint when not AWS's (for messages).
    endpoint: Option<String>,
    /// `MaxResults` of one `DescribeInstances` page.
    page_size: i32,
}

/// `DescribeInstances` pages: EC2 takes 5 to 1000 results a page.
pub const MAX_PAGE_SIZE: i32 = 1000;
const MIN_PAGE_SIZE: i32 = 5;

impl std::fmt::Debug for Ec2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ec2")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

fn image_info(img: &Image) -> ImageInfo {
    let root = img.root_device_name().map(str::to_string);
    let mut volumes = Vec::new();
    let mut root_snapshot = None;
    for m in img.block_device_mappings() {
        let Some(ebs) = m.ebs() else { continue };
        let device = m.device_name().unwrap_or("").to_string();
        let snapshot_id = ebs.snapshot_id().map(str::to_string);
        if root.as_deref() == Some(device.as_str()) {
            root_snapshot.clone_from(&snapshot_id);
        }
        volumes.push(ImageVolume {
            device,
            snapshot_id,
            size_gib: ebs.volume_size(),
            volume_type: ebs.volume_type().map(|t| t.as_str().to_string()),
            encrypted: ebs.encrypted(),
        });
    }
    ImageInfo {
        ami_id: img.image_id().unwrap_or("").to_string(),
        name: img.name().map(str::to_string),
        state: img.state().map(|s| s.as_str().to_string()),
        owner_id: img.owner_id().map(str::to_string),
        creation_date: img.creation_date().map(str::to_string),
        deprecation_time: img.deprecation_time().map(str::to_string),
        root_device_name: root,
        root_snapshot,
        volumes,
        tags: tag_map(img.tags()),
    }
}

/// The error codes EC2 answers for an image it does not have.
fn is_not_found(code: &str) -> bool {
    matches!(
        code,
        "InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable" | "InvalidAMIID.Malformed"
    )
}

impl Ec2 {
    /// A client for `region`. Nothing is sent.
    pub fn connect(region: &str) -> Result<Ec2, Ec2Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Ec2Error::Config(format!("cannot start the EC2 runtime: {e}")))?;
        let endpoint =
            env_nonempty("AWS_ENDPOINT_URL_EC2").or_else(|| env_nonempty("AWS_ENDPOINT_URL"));
        let sdk = sdk_config(&rt, Some(region), endpoint.as_deref())
            .ok_or_else(|| Ec2Error::Config(format!("no AWS region {region:?}")))?;
        Ok(Ec2 {
            client: Client::new(&sdk),
            rt,
            region: region.to_string(),
            endpoint,
            page_size: MAX_PAGE_SIZE,
        })
    }

    /// Pages of `n` results (5 to 1000; [`MAX_PAGE_SIZE`] by default).
    pub fn with_page_size(mut self, n: i32) -> Ec2 {
        self.page_size = n.clamp(MIN_PAGE_SIZE, MAX_PAGE_SIZE);
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    fn target(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("EC2 endpoint {e} ({})", self.region),
            None => format!("AWS EC2 ({})", self.region),
        }
    }

    /// One clear error per failure class (after the SDK's retries).
    fn map_err<E>(&self, e: SdkError<E, HttpResponse>, op: &'static str, resource: &str) -> Ec2Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = e.code().unwrap_or("").to_string();
        if is_not_found(&code) {
            return Ec2Error::NotFound {
                ami: resource.to_string(),
                target: self.target(),
            };
        }
        let detail = bakeproof_store::error_chain(&e);
        let message = match bakeproof_store::transport_failure(&e, &self.target()) {
            Some(t) => t.message().to_string(),
            None => {
                let msg = e.message().unwrap_or("");
                match code.as_str() {
                    "" => format!("{}: {detail}", self.target()),
                    "UnauthorizedOperation" | "AuthFailure" => {
                        format!("the credentials in use may not do this ({code}: {msg})")
                    }
                    _ => format!("{} answered {code}: {msg}", self.target()),
                }
            }
        };
        Ec2Error::Api {
            op,
            resource: resource.to_string(),
            message,
        }
    }

    /// The image (`DescribeImages`, deprecated and disabled images
    /// included); [`Ec2Error::NotFound`] when EC2 has none of that id.
    pub fn describe_image(&self, ami_id: &str) -> Result<ImageInfo, Ec2Error> {
        self.describe(ami_id, false)
    }

    /// `owned`: only an image of this account (`Owners=self`), the images
    /// cleanup may deregister.
    fn describe(&self, ami_id: &str, owned: bool) -> Result<ImageInfo, Ec2Error> {
        let mut req = self
            .client
            .describe_images()
            .image_ids(ami_id)
            .include_deprecated(true)
            .include_disabled(true);
        if owned {
            req = req.owners("self");
        }
        let out = self
            .rt
            .block_on(req.send())
            .map_err(|e| self.map_err(e, "DescribeImages", ami_id))?;
        out.images()
            .iter()
            .find(|i| i.image_id() == Some(ami_id))
            .map(image_info)
            .ok_or_else(|| Ec2Error::NotFound {
                ami: ami_id.to_string(),
                target: self.target(),
            })
    }

    /// Mirrors `m` to the image `ami_id`: `CreateTags` for the tags that
    /// differ, `DeleteTags` for bakeproof's own tags the state no longer
    /// sets, and the deprecation time: enabled at `m.deprecate_at` (at
    /// least a minute after `now`, Unix seconds: EC2 takes no past time)
    /// unless EC2 already deprecates it no later, disabled when the state
    /// is neither deprecated nor revoked.
    pub fn mirror(&self, ami_id: &str, m: &Mirror, now: i64) -> Result<Mirrored, Ec2Error> {
        let want = m.tags()?;
        let deprecate_at = m
            .deprecate_at
            .map(|at| at.max(now + DEPRECATE_NOW_MARGIN_SECS));
        if let Some(at) = deprecate_at
            && at > now + MAX_DEPRECATE_AHEAD_SECS
        {
            return Err(Ec2Error::Invalid(format!(
                "{ami_id}: deprecation date {} is more than 10 years ahead (EC2's limit)",
                rfc3339(at)
            )));
        }
        let img = self.describe_image(ami_id)?;
        let tags_set: BTreeMap<String, String> = want
            .iter()
            .filter(|(k, v)| img.tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !tags_set.is_empty() {
            let mut req = self.client.create_tags().resources(ami_id);
            for (k, v) in &tags_set {
                req = req.tags(Tag::builder().key(k).value(v).build());
            }
            self.rt
                .block_on(req.send())
                .map_err(|e| self.map_err(e, "CreateTags", ami_id))?;
        }
        let tags_removed: Vec<String> = Mirror::owned_tags()
            .into_iter()
            .filter(|k| img.tags.contains_key(*k) && !want.contains_key(*k))
            .map(str::to_string)
            .collect();
        if !tags_removed.is_empty() {
            let mut req = self.client.delete_tags().resources(ami_id);
            for k in &tags_removed {
                req = req.tags(Tag::builder().key(k).build());
            }
            self.rt
                .block_on(req.send())
                .map_err(|e| self.map_err(e, "DeleteTags", ami_id))?;
        }
        let current = img.deprecation_time.as_deref().and_then(parse_rfc3339);
        let deprecation = match (deprecate_at, current) {
            // EC2 already deprecates it, no later than wanted (it rounds
            // to the minute).
            (Some(at), Some(cur)) if cur <= at.max(now) + 30 => DeprecationChange::Unchanged,
            (Some(at), _) => {
                self.rt
                    .block_on(
                        self.client
                            .enable_image_deprecation()
                            .image_id(ami_id)
                            .deprecate_at(DateTime::from_secs(at))
                            .send(),
                    )
                    .map_err(|e| self.map_err(e, "EnableImageDeprecation", ami_id))?;
                DeprecationChange::Enabled { at: rfc3339(at) }
            }
            (None, Some(_)) => {
                self.rt
                    .block_on(
                        self.client
                            .disable_image_deprecation()
                            .image_id(ami_id)
                            .send(),
                    )
                    .map_err(|e| self.map_err(e, "DisableImageDeprecation", ami_id))?;
                DeprecationChange::Disabled
            }
            (None, None) => DeprecationChange::Unchanged,
        };
        log::info!(
            "ec2: {ami_id}: {} tag(s) set, {} removed, deprecation {deprecation:?}",
            tags_set.len(),
            tags_removed.len()
        );
        Ok(Mirrored {
            ami_id: ami_id.to_string(),
            tags_set,
            tags_removed,
            deprecation,
        })
    }

    /// Every instance launched from `ami_id` that EC2 lists
    /// (`DescribeInstances`, filter `image-id`, every page), terminated
    /// ones included (EC2 lists them for about an hour).
    pub fn find_usage(&self, ami_id: &str) -> Result<Vec<InstanceUse>, Ec2Error> {
        let mut pages = self
            .client
            .describe_instances()
            .filters(Filter::builder().name("image-id").values(ami_id).build())
            .max_results(self.page_size)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(r) = self.rt.block_on(pages.next()) {
            let r = r.map_err(|e| self.map_err(e, "DescribeInstances", ami_id))?;
            for i in r.instances() {
                // The filter is EC2's; the image id is checked here too.
                if i.image_id() != Some(ami_id) {
                    continue;
                }
                out.push(InstanceUse {
                    instance_id: i.instance_id().unwrap_or("").to_string(),
                    state: i
                        .state()
                        .and_then(|s| s.name())
                        .map_or("unknown", |n| n.as_str())
                        .to_string(),
                    launch_time: i
                        .launch_time()
                        .and_then(|t| t.to_millis().ok().map(|ms| rfc3339(ms.div_euclid(1000)))),
                    instance_type: i.instance_type().map(|t| t.as_str().to_string()),
                    name: tag_map(i.tags()).remove("Name"),
                });
            }
        }
        out.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Ok(out)
    }

    /// Deregisters the AMIs of `deprecated_newest_first` beyond the first
    /// `keep` and deletes their snapshots (after the deregistration: EC2
    /// refuses to delete a snapshot a registered image maps); with
    /// `apply == false` only says what it would do. An image that any
    /// instance still uses ([`InstanceUse::in_use`]) is skipped, one not
    /// in EC2 for this account is said so. The caller gives the AMIs (the
    /// store's deprecated AMIs of one application in this region: the
    /// signed state decides what is deprecated, never the tags). Stops at
    /// the first failed request (reported in its item).
    pub fn cleanup(
        &self,
        deprecated_newest_first: &[String],
        keep: usize,
        apply: bool,
    ) -> CleanupReport {
        let split = keep.min(deprecated_newest_first.len());
        let (kept, beyond) = deprecated_newest_first.split_at(split);
        let mut items = Vec::new();
        for ami_id in beyond {
            let item = self.cleanup_one(ami_id, apply);
            let failed = matches!(item.outcome, CleanupOutcome::Failed { .. });
            items.push(item);
            if failed {
                break;
            }
        }
        CleanupReport {
            kept: kept.to_vec(),
            items,
            applied: apply,
        }
    }

    fn cleanup_one(&self, ami_id: &str, apply: bool) -> CleanupItem {
        let item = |outcome, snapshots| CleanupItem {
            ami_id: ami_id.to_string(),
            outcome,
            snapshots,
        };
        let failed = |e: Ec2Error| {
            item(
                CleanupOutcome::Failed {
                    message: e.to_string(),
                },
                Vec::new(),
            )
        };
        let img = match self.describe(ami_id, true) {
            Ok(i) => i,
            Err(Ec2Error::NotFound { .. }) => return item(CleanupOutcome::NotInEc2, Vec::new()),
            Err(e) => return failed(e),
        };
        let users: Vec<String> = match self.find_usage(ami_id) {
            Ok(u) => u
                .into_iter()
                .filter(InstanceUse::in_use)
                .map(|u| u.instance_id)
                .collect(),
            Err(e) => return failed(e),
        };
        if !users.is_empty() {
            log::warn!("ec2: {ami_id}: skipped, used by {}", users.join(", "));
            return item(CleanupOutcome::InUse { instances: users }, Vec::new());
        }
        let snapshots = img.snapshots();
        if !apply {
            let s = snapshots
                .into_iter()
                .map(|snapshot_id| SnapshotOutcome {
                    snapshot_id,
                    error: None,
                })
                .collect();
            return item(CleanupOutcome::WouldDelete, s);
        }
        if let Err(e) = self
            .rt
            .block_on(self.client.deregister_image().image_id(ami_id).send())
        {
            return failed(self.map_err(e, "DeregisterImage", ami_id));
        }
        log::info!("ec2: {ami_id}: deregistered");
        let s = snapshots
            .into_iter()
            .map(|snapshot_id| {
                let error = self
                    .rt
                    .block_on(
                        self.client
                            .delete_snapshot()
                            .snapshot_id(&snapshot_id)
                            .send(),
                    )
                    .err()
                    .map(|e| self.map_err(e, "DeleteSnapshot", &snapshot_id).to_string());
                SnapshotOutcome { snapshot_id, error }
            })
            .collect();
        item(CleanupOutcome::Deleted, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror(state: State) -> Mirror {
        Mirror {
            state,
            labels: Labels {
                application: Some("web".into()),
                version: Some("1.0.0".into()),
                build_date: None,
                extra: [("BuildNumber".to_string(), "7".to_string())].into(),
            },
            sequence: 3,
            record_digest: Some("sha256:ab".into()),
            deprecate_at: (state == State::Deprecated).then_some(86_400),
        }
    }

    #[test]
    fn tags_of_a_state() {
        let t = mirror(State::Deprecated).tags().unwrap();
        let want: BTreeMap<String, String> = [
            ("Application", "web"),
            ("BuildNumber", "7"),
            ("DeprecationDate", "1970-01-02T00:00:00Z"),
            ("Status", "deprecated"),
            ("Version", "1.0.0"),
            ("bakeproof:lifecycle-record", "sha256:ab"),
            ("bakeproof:lifecycle-sequence", "3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(t, want);
        let t = mirror(State::Approved).tags().unwrap();
        assert!(!t.contains_key(TAG_DEPRECATION_DATE));
        assert_eq!(t[TAG_STATUS], "approved");
    }

    #[test]
    fn labels_ec2_cannot_take_are_refused() {
        let mut m = mirror(State::Approved);
        m.labels
            .extra
            .insert("aws:cloudformation".into(), "x".into());
        assert!(matches!(m.tags(), Err(Ec2Error::Invalid(_))));
        let mut m = mirror(State::Approved);
        m.labels.version = Some("v".repeat(MAX_TAG_VALUE + 1));
        assert!(matches!(m.tags(), Err(Ec2Error::Invalid(_))));
    }

    fn chain(steps: &[(Action, State, Option<&str>, &str)]) -> AmiChain {
        use bakeproof_lifecycle::model::RecordPredicate;
        use bakeproof_lifecycle::record::Opened;
        let mut prev = State::Built;
        let records = steps
            .iter()
            .enumerate()
            .map(|(i, (action, state, effective, time))| {
                let p = RecordPredicate {
                    ami: "us-east-1:ami-0123456789abcdef0".into(),
                    sequence: i as u64 + 1,
                    action: *action,
                    state: *state,
                    previous_state: prev,
                    reason: None,
                    time: (*time).into(),
                    effective: effective.map(str::to_string),
                    signer: "k".into(),
                    supersedes: None,
                    labels: Labels {
                        version: Some(format!("1.0.{i}")),
                        ..Labels::default()
                    },
                };
                prev = *state;
                Opened {
                    keyid: "k".into(),
                    subjects: Vec::new(),
                    predicate: p,
                    digest: format!("sha256:{i:064x}"),
                }
            })
            .collect();
        AmiChain {
            ami: bakeproof_store::AmiRef::parse("us-east-1:ami-0123456789abcdef0").unwrap(),
            records,
            ignored: Vec::new(),
        }
    }

    #[test]
    fn the_state_of_a_chain() {
        use Action::*;
        let none = Mirror::from_chain(&chain(&[]));
        assert_eq!(
            (none.state, none.sequence, &none.record_digest),
            (State::Built, 0, &None)
        );
        assert!(!none.tags().unwrap().contains_key(TAG_SEQUENCE));

        let t = "1970-01-02T00:00:00Z";
        let approved = Mirror::from_chain(&chain(&[(Approve, State::Approved, None, t)]));
        assert_eq!(approved.state, State::Approved);
        assert_eq!(approved.deprecate_at, None);
        assert_eq!(approved.labels.version.as_deref(), Some("1.0.0"));

        // deprecated from its effective date, else from its time
        let dep = [
            (Approve, State::Approved, None, t),
            (
                Deprecate,
                State::Deprecated,
                Some("1970-01-05T00:00:00Z"),
                "1970-01-03T00:00:00Z",
            ),
        ];
        let m = Mirror::from_chain(&chain(&dep));
        assert_eq!((m.sequence, m.deprecate_at), (2, Some(4 * 86_400)));
        assert_eq!(
            m.record_digest.as_deref(),
            Some(format!("sha256:{:064x}", 1).as_str())
        );
        let m = Mirror::from_chain(&chain(&[
            (Approve, State::Approved, None, t),
            (Deprecate, State::Deprecated, None, "1970-01-03T00:00:00Z"),
        ]));
        assert_eq!(m.deprecate_at, Some(2 * 86_400));

        // revoked: from the revocation; restored to deprecated: the
        // deprecation's date again; restored to approved: none
        let mut steps = dep.to_vec();
        steps.push((Revoke, State::Revoked, None, "1970-01-04T00:00:00Z"));
        let m = Mirror::from_chain(&chain(&steps));
        assert_eq!(
            (m.state, m.deprecate_at),
            (State::Revoked, Some(3 * 86_400))
        );
        steps.push((Restore, State::Deprecated, None, "1970-01-06T00:00:00Z"));
        let m = Mirror::from_chain(&chain(&steps));
        assert_eq!(
            (m.state, m.deprecate_at),
            (State::Deprecated, Some(4 * 86_400))
        );
        let m = Mirror::from_chain(&chain(&[
            (Approve, State::Approved, None, t),
            (Revoke, State::Revoked, None, t),
            (Restore, State::Approved, None, t),
        ]));
        assert_eq!((m.state, m.deprecate_at), (State::Approved, None));
    }

    #[test]
    fn an_instance_in_use() {
        let u = |state: &str| InstanceUse {
            instance_id: "i-1".into(),
            state: state.into(),
            launch_time: None,
            instance_type: None,
            name: None,
        };
        for s in ["pending", "running", "stopping", "stopped", "unknown"] {
            assert!(u(s).in_use(), "{s}");
        }
        for s in ["terminated", "shutting-down"] {
            assert!(!u(s).in_use(), "{s}");
        }
    }
}
