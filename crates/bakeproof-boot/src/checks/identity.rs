//! The `machine-id` check: the live root's `/etc/machine-id` is set now
//! (non-empty, not `uninitialized`): an image sealed with an empty one got
//! its own at first boot.

use bakeproof_index::Root;

use crate::report::Check;

const ID: &str = "machine-id";

pub(crate) fn machine_id(root: &Root) -> Check {
    match root.read_file(b"/etc/machine-id", 4096) {
        Ok(b) => judge(&b),
        Err(e) => Check::fail(ID, format!("/etc/machine-id: {e}")),
    }
}

/// The decision on the file's bytes.
pub(crate) fn judge(content: &[u8]) -> Check {
    let s = String::from_utf8_lossy(content).trim().to_string();
    if s.is_empty() || s == "uninitialized" {
        Check::fail(ID, format!("/etc/machine-id is {s:?}"))
    } else {
        Check::pass(ID, "present")
    }
}
