//! Firewall enablement: firewalld, nftables, ufw, iptables services.
//! OWNER: helper i14-facts.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallFact {
    /// Firewall services enabled at boot.
    pub enabled: Vec<String>,
}
