//! sshd's effective configuration for the default connection, as `sshd -T`
//! reports it. OWNER: helper i14-config.

use std::collections::BTreeMap;

/// Lower-case keyword → effective value(s), as `sshd -T` prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshdConfig {
    pub values: BTreeMap<String, Vec<String>>,
}
