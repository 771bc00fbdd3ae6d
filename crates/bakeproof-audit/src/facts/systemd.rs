//! systemd unit enablement, as `systemctl --root=ROOT list-unit-files`
//! reports it. OWNER: helper i14-config.

use std::collections::BTreeMap;

/// Unit name → state (`enabled`, `disabled`, `masked`, `static`, `alias`,
/// `indirect`, `generated`, ...), as `systemctl list-unit-files` prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitFacts {
    pub states: BTreeMap<String, String>,
}
