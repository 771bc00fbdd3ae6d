//! Installed kernels from /boot and the module trees.
//!
//! A kernel release is installed when the root has its image
//! (`/boot/vmlinuz-RELEASE`, `/boot/vmlinux-RELEASE`, or the
//! `vmlinuz` file kernel-install keeps in `/usr/lib/modules/RELEASE/`) or
//! its modules (`/lib/modules/RELEASE` or `/usr/lib/modules/RELEASE` with
//! `modules.dep`, `modules.order` or `kernel/`: an empty leftover directory
//! of a removed kernel is not one). Rescue images (`vmlinuz-0-rescue-*`)
//! are not releases.

use std::collections::BTreeMap;

use bakeproof_index::{FileKind, ReadOnlyTree};

use crate::AuditError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelFact {
    /// `uname -r` form (`6.1.0-28-amd64`, `5.14.0-427.13.1.el9_4.x86_64`).
    pub release: String,
    /// Where its image is (`/boot/vmlinuz-6.1.0-28-amd64`), if anywhere.
    pub image: Option<String>,
    /// Where its modules are (`/usr/lib/modules/6.1.0-28-amd64`), if
    /// anywhere.
    pub modules: Option<String>,
}

const MODULE_DIRS: &[&str] = &["/usr/lib/modules", "/lib/modules"];

fn list(tree: &dyn ReadOnlyTree, dir: &str) -> Result<Vec<String>, AuditError> {
    match tree.read_dir(dir.as_bytes()) {
        Ok(n) => Ok(n
            .into_iter()
            .filter_map(|n| String::from_utf8(n).ok())
            .collect()),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        // /boot a file, or unreadable: no kernels there, but say so.
        Err(source) => Err(AuditError::Read {
            what: dir.to_string(),
            source,
        }),
    }
}

fn exists(tree: &dyn ReadOnlyTree, p: &str) -> bool {
    matches!(tree.kind_of(p.as_bytes()), Ok(Some(_)))
}

/// The release a `/boot` file name carries, if it is a kernel image.
pub fn release_of_image_name(name: &str) -> Option<&str> {
    let r = name
        .strip_prefix("vmlinuz-")
        .or_else(|| name.strip_prefix("vmlinux-"))?;
    if r.is_empty() || r.contains("rescue") {
        return None;
    }
    Some(r)
}

/// The kernels of a root, sorted by release (bytewise).
pub fn read(tree: &dyn ReadOnlyTree) -> Result<Vec<KernelFact>, AuditError> {
    let mut by: BTreeMap<String, KernelFact> = BTreeMap::new();
    for name in list(tree, "/boot")? {
        let Some(r) = release_of_image_name(&name) else {
            continue;
        };
        let p = format!("/boot/{name}");
        // A dangling link is no kernel.
        if !matches!(tree.metadata(p.as_bytes()), Ok(m) if m.kind == FileKind::Regular) {
            continue;
        }
        by.entry(r.to_string())
            .or_insert_with(|| KernelFact {
                release: r.to_string(),
                image: None,
                modules: None,
            })
            .image
            .get_or_insert(p);
    }
    for dir in MODULE_DIRS {
        for r in list(tree, dir)? {
            let base = format!("{dir}/{r}");
            if !matches!(tree.metadata(base.as_bytes()), Ok(m) if m.kind == FileKind::Directory) {
                continue;
            }
            let image = format!("{base}/vmlinuz");
            let has_image =
                matches!(tree.metadata(image.as_bytes()), Ok(m) if m.kind == FileKind::Regular);
            let has_modules = ["modules.dep", "modules.order", "kernel"]
                .iter()
                .any(|f| exists(tree, &format!("{base}/{f}")));
            if !has_image && !has_modules {
                continue;
            }
            let k = by.entry(r.clone()).or_insert_with(|| KernelFact {
                release: r.clone(),
                image: None,
                modules: None,
            });
            if has_image {
                k.image.get_or_insert(image);
            }
            if has_modules {
                k.modules.get_or_insert(base);
            }
        }
    }
    Ok(by.into_values().collect())
}
