//! Installed kernels from /boot and the module trees. OWNER: helper i14-facts.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelFact {
    /// `uname -r` form (`6.1.0-28-amd64`, `5.14.0-427.13.1.el9_4.x86_64`).
    pub release: String,
}
