//! What a scan reads: a directory, a disk image file (raw or qcow2), an
//! EBS snapshot (`ebs:snap-…`) or an AMI's snapshot (`ami:REGION:ami-…`).
//! Each becomes a `ReadOnlyTree`; everything after (walk, package readers,
//! seal checks, audit) is the same for all of them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bakeproof_ebs::{EbsOptions, EbsSnapshot};
use bakeproof_image::block::{FetchProgress, SharedSource};
use bakeproof_image::open::{Found, MountReport, OpenOptions, Volume};
use bakeproof_image::tree::ImageTree;
use bakeproof_index::{ReadOnlyTree, Root};

use crate::args::image::ImageArgs;

/// A scan's source as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// A directory, a disk image file or a bare package database (which of
    /// them is decided by what the path holds).
    Path(PathBuf),
    /// `ebs:snap-…`
    Snapshot(String),
    /// `ami:REGION:ami-…`
    Ami { region: String, ami: String },
}

impl Spec {
    pub fn parse(arg: &OsStr) -> Result<Spec> {
        let bytes = arg.as_bytes();
        if let Some(rest) = bytes.strip_prefix(b"ebs:") {
            let id = std::str::from_utf8(rest).unwrap_or("");
            if !id.starts_with("snap-") || !id[5..].bytes().all(|b| b.is_ascii_alphanumeric()) {
                bail!("ebs:{id}: expected ebs:snap-<id>");
            }
            return Ok(Spec::Snapshot(id.to_string()));
        }
        if let Some(rest) = bytes.strip_prefix(b"ami:") {
            let rest = std::str::from_utf8(rest).unwrap_or("");
            let ami_ref = bakeproof_types::AmiRef::parse(rest).with_context(|| {
                format!("ami:{rest}: expected ami:REGION:ami-<id> (ami:us-east-1:ami-0abc...)")
            })?;
            return Ok(Spec::Ami {
                region: ami_ref.region().to_string(),
                ami: ami_ref.ami_id().to_string(),
            });
        }
        Ok(Spec::Path(PathBuf::from(arg)))
    }

    /// How reports name it.
    pub fn label(&self) -> String {
        match self {
            Spec::Path(p) => p.display().to_string(),
            Spec::Snapshot(s) => format!("ebs:{s}"),
            Spec::Ami { region, ami } => format!("ami:{region}:{ami}"),
        }
    }

    /// The SBOM's default image name.
    pub fn default_name(&self) -> String {
        match self {
            Spec::Path(p) => match p.file_name() {
                Some(_) if !p.is_dir() => p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "image".into()),
                _ => bakeproof_sbom::default_image_name(p),
            },
            Spec::Snapshot(s) => s.clone(),
            Spec::Ami { ami, .. } => ami.clone(),
        }
    }
}

/// An opened image source: its tree, what was found on it, and the
/// snapshots it reads (for their request counts).
pub struct Image {
    pub tree: ImageTree,
    pub found: Found,
    pub snapshots: Vec<Arc<EbsSnapshot>>,
    /// `--all-volumes`: what the other volumes hold and which were mounted
    /// into the tree where the root's `/etc/fstab` says.
    pub volumes: Option<MountReport>,
}

/// What a path holds, as a scan source.
pub enum Opened {
    Directory(Root),
    Image(Box<Image>),
    /// A bare package database file.
    Database(PathBuf),
}

impl Opened {
    pub fn tree(&self) -> Option<&dyn ReadOnlyTree> {
        match self {
            Opened::Directory(r) => Some(r),
            Opened::Image(i) => Some(&i.tree),
            Opened::Database(_) => None,
        }
    }
}

fn open_options(args: &ImageArgs) -> OpenOptions {
    OpenOptions {
        partition: args.partition,
    }
}

fn ebs_options(args: &ImageArgs, region: Option<String>, progress: bool) -> EbsOptions {
    EbsOptions {
        region,
        parallel: args.ebs_parallel.max(1),
        cache_bytes: args.ebs_cache_mib.max(8) << 20,
        progress: FetchBar::start(progress).map(|b| b as Arc<dyn FetchProgress>),
    }
}

/// A disk opened to its root filesystem, or why not.
type RootOpened = Result<(ImageTree, Found), bakeproof_image::ImageError>;

fn open_snapshot(
    id: &str,
    args: &ImageArgs,
    region: Option<String>,
    progress: bool,
) -> Result<(Arc<EbsSnapshot>, RootOpened)> {
    let snap = Arc::new(
        EbsSnapshot::open(id, ebs_options(args, region, progress))
            .with_context(|| format!("ebs:{id}"))?,
    );
    let src: SharedSource = Arc::clone(&snap) as SharedSource;
    let opened = bakeproof_image::open::open_disk(src, &format!("ebs:{id}"), &open_options(args));
    Ok((snap, opened))
}

/// Opens what `spec` names. `progress`: a fetch progress line on a
/// terminal for remote sources.
pub fn open(spec: &Spec, args: &ImageArgs, progress: bool) -> Result<Opened> {
    match spec {
        Spec::Path(p) => {
            let meta =
                std::fs::metadata(p).with_context(|| format!("cannot scan {}", p.display()))?;
            if meta.is_dir() {
                if args.partition.is_some() {
                    bail!(
                        "--partition applies to a disk image, not the directory {}",
                        p.display()
                    );
                }
                return Ok(Opened::Directory(Root::open(p)?));
            }
            if !(meta.is_file() || is_block_device(&meta)) {
                bail!(
                    "{}: neither a directory, a disk image nor a package database file",
                    p.display()
                );
            }
            if bakeproof_image::open::is_disk_image(p)
                .with_context(|| format!("cannot read {}", p.display()))?
            {
                let (tree, found) = bakeproof_image::open::open_path(p, &open_options(args))
                    .with_context(|| format!("cannot read the disk image {}", p.display()))?;
                return Ok(Opened::Image(Box::new(Image {
                    tree,
                    found,
                    snapshots: Vec::new(),
                    volumes: None,
                })));
            }
            if args.partition.is_some() {
                bail!("--partition: {} is not a disk image", p.display());
            }
            Ok(Opened::Database(p.clone()))
        }
        Spec::Snapshot(id) => {
            let (snap, opened) = open_snapshot(id, args, args.region.clone(), progress)?;
            let (tree, found) = opened.with_context(|| format!("cannot read ebs:{id}"))?;
            Ok(Opened::Image(Box::new(Image {
                tree,
                found,
                snapshots: vec![snap],
                volumes: None,
            })))
        }
        Spec::Ami { region, ami } => {
            let volumes = bakeproof_ebs::ami_volumes(region, ami, args.all_volumes)
                .with_context(|| format!("ami:{region}:{ami}"))?;
            let mut root = None;
            let mut snapshots = Vec::new();
            let mut others = Vec::new();
            for v in volumes {
                let label = format!("{} ({})", v.device, v.snapshot_id);
                if v.root {
                    let (snap, opened) =
                        open_snapshot(&v.snapshot_id, args, Some(region.clone()), progress)?;
                    snapshots.push(snap);
                    root = Some(opened.with_context(|| {
                        format!("cannot read ami:{region}:{ami}'s root volume {label}")
                    })?);
                } else {
                    // Mounted below by the root's /etc/fstab.
                    let snap = Arc::new(
                        EbsSnapshot::open(
                            &v.snapshot_id,
                            ebs_options(args, Some(region.clone()), progress),
                        )
                        .with_context(|| format!("ebs:{}", v.snapshot_id))?,
                    );
                    others.push(Volume {
                        device: v.device.clone(),
                        label,
                        source: Arc::clone(&snap) as SharedSource,
                    });
                    snapshots.push(snap);
                }
            }
            let Some((tree, found)) = root else {
                bail!("ami:{region}:{ami}: no root volume");
            };
            let (tree, volumes) = if args.all_volumes {
                let (tree, report) = bakeproof_image::open::mount_volumes(tree, others);
                (tree, Some(report))
            } else {
                (tree, None)
            };
            Ok(Opened::Image(Box::new(Image {
                tree,
                found,
                snapshots,
                volumes,
            })))
        }
    }
}

fn is_block_device(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    meta.file_type().is_block_device()
}

/// Says on standard error what was found on an image and what its reading
/// cost.
pub fn report_found(label: &str, image: &Image) {
    for line in image.found.lines() {
        crate::output::note(format_args!("{label}: {line}"));
    }
    if let Some(report) = &image.volumes {
        for line in report.lines() {
            crate::output::note(format_args!("{label}: {line}"));
        }
    }
}

/// After the scan: the snapshots' request counts.
pub fn report_fetches(image: &Image) {
    for s in &image.snapshots {
        let st = s.stats();
        crate::output::note(format_args!(
            "ebs:{}: {} blocks fetched ({}), {} requests, {} unallocated blocks read as zeros, {} retries",
            s.snapshot_id(),
            st.blocks_fetched,
            crate::output::human_bytes(st.bytes_fetched),
            st.get_requests + st.list_requests,
            st.zero_blocks,
            st.retries
        ));
    }
}

/// A progress line for snapshot fetches (blocks and MB/s), on a terminal.
struct FetchBar(indicatif::ProgressBar, AtomicU64);

impl FetchBar {
    fn start(wanted: bool) -> Option<Arc<FetchBar>> {
        use std::io::IsTerminal as _;
        (wanted && std::io::stderr().is_terminal()).then(|| {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "fetching {msg:>18} [{bar:20}] {bytes:>9}/{total_bytes:<9} {bytes_per_sec:>11} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            pb.enable_steady_tick(Duration::from_millis(200));
            Arc::new(FetchBar(pb, AtomicU64::new(0)))
        })
    }
}

impl FetchProgress for FetchBar {
    fn expect(&self, blocks: u64, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_message(format!("0/{blocks} blocks"));
    }
    fn fetched(&self, bytes: u64) {
        let n = self.1.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.inc(bytes);
        if n.is_multiple_of(16) {
            self.0.set_message(format!("{n} blocks"));
        }
        if self.0.length().is_some_and(|l| self.0.position() >= l) {
            self.0.finish_and_clear();
        }
    }
}
