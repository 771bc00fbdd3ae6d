//! Accounts from passwd, shadow and group. OWNER: helper i14-facts.

use super::AccountFact;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountsFact {
    pub accounts: Vec<AccountFact>,
    /// `UID_MIN` from /etc/login.defs (1000 when absent).
    pub uid_min: u32,
}
