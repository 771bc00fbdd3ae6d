//! What only a running system has (`--live`): listening sockets from
//! /proc/net/{tcp,tcp6,udp,udp6}, the running SELinux mode.
//! OWNER: helper i14-facts.

use super::SocketFact;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveFacts {
    pub listening: Vec<SocketFact>,
    pub selinux_running: Option<String>,
}
