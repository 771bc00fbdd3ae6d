//! Where the lifecycle lives in a store (beside `blobs/` and `amis/`,
//! docs/store.md):
//!
//! ```text
//! amis/<region>/<ami-id>/lifecycle/<seq>.sigstore.json   an AMI's records, create-only
//! channels/<region>/<name>/<seq>.sigstore.json           a channel's pointers, create-only
//! lifecycle/status.sigstore.json                         the status document (compare and swap)
//! ```
//!
//! `<seq>` is the record's sequence number, zero-padded to 8 digits (keys
//! sort in sequence order; a reader parses any number of digits).

use bakeproof_types::AmiRef;

/// Key of the store's status document.
pub const STATUS_KEY: &str = "lifecycle/status.sigstore.json";
/// Suffix of every record key.
pub const RECORD_SUFFIX: &str = ".sigstore.json";

/// Prefix of an AMI's records.
pub fn records_prefix(ami: &AmiRef) -> String {
    format!("amis/{}/{}/lifecycle/", ami.region(), ami.ami_id())
}

/// Key of an AMI's record `seq`.
pub fn record_key(ami: &AmiRef, seq: u64) -> String {
    format!("{}{seq:08}{RECORD_SUFFIX}", records_prefix(ami))
}

/// Prefix of every channel.
pub const CHANNELS_PREFIX: &str = "channels/";

/// Prefix of a channel's pointer records.
pub fn channel_prefix(name: &str, region: &str) -> String {
    format!("{CHANNELS_PREFIX}{region}/{name}/")
}

/// Key of a channel's pointer record `seq`.
pub fn channel_key(name: &str, region: &str, seq: u64) -> String {
    format!("{}{seq:08}{RECORD_SUFFIX}", channel_prefix(name, region))
}

/// The sequence number of a record key below `prefix`; `None` for any
/// other key (a stray object is not a record).
pub fn sequence_of(prefix: &str, key: &str) -> Option<u64> {
    let digits = key.strip_prefix(prefix)?.strip_suffix(RECORD_SUFFIX)?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n > 0)
}

/// The status document's name for a channel: `NAME@REGION`.
pub fn channel_id(name: &str, region: &str) -> String {
    format!("{name}@{region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let ami = AmiRef::parse("eu-west-1:ami-0123456789abcdef0").unwrap();
        let k = record_key(&ami, 7);
        assert_eq!(
            k,
            "amis/eu-west-1/ami-0123456789abcdef0/lifecycle/00000007.sigstore.json"
        );
        assert_eq!(sequence_of(&records_prefix(&ami), &k), Some(7));
        assert_eq!(sequence_of(&records_prefix(&ami), "amis/x"), None);
        let p = records_prefix(&ami);
        for bad in [
            "0.sigstore.json",
            "x1.sigstore.json",
            "1.json",
            "1/2.sigstore.json",
        ] {
            assert_eq!(sequence_of(&p, &format!("{p}{bad}")), None, "{bad}");
        }
        assert_eq!(
            sequence_of(
                &channel_prefix("prod", "us-east-1"),
                &channel_key("prod", "us-east-1", 12)
            ),
            Some(12)
        );
    }
}
