//! The flags of a scan source that is an image rather than a directory
//! (`scan`, `verify-packages`, `seal check`).

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct ImageArgs {
    /// For a disk image, snapshot or AMI: the partition to read (as Linux
    /// numbers them: 1 for the first GPT entry or primary MBR partition, 5
    /// for the first logical one). Default: the filesystem that holds
    /// /etc/os-release.
    #[arg(long, value_name = "N")]
    pub partition: Option<u32>,
    /// For `ami:`: read every EBS volume of the image, not only the root
    /// device's, and scan each filesystem the root's /etc/fstab mounts at
    /// its mount point (what was mounted where is said on stderr).
    #[arg(long)]
    pub all_volumes: bool,
    /// For `ebs:` and `ami:`: most EBS GetSnapshotBlock requests in flight.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub ebs_parallel: usize,
    /// For `ebs:` and `ami:`: most MiB of snapshot blocks kept in memory
    /// (cache and read-ahead).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub ebs_cache_mib: u64,
    /// For `ebs:`: the snapshot's region (default: the environment's or the
    /// profile's; `ami:REGION:AMI-ID` names its own).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}
