//! Packages built and installed by the tests with the real tools.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A one-file `Architecture: all` deb (`/usr/share/NAME/data.txt` holding
/// `content`) built with real dpkg-deb in `work`.
pub fn dpkg_deb(
    work: &Path,
    name: &str,
    version: &str,
    maintainer: &str,
    content: &str,
) -> PathBuf {
    let d = work.join(format!("deb-{name}-{version}-{content}"));
    std::fs::create_dir_all(d.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(d.join(format!("usr/share/{name}"))).unwrap();
    std::fs::write(
        d.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: {maintainer}\nDescription: test fixture\n"
        ),
    )
    .unwrap();
    std::fs::write(d.join(format!("usr/share/{name}/data.txt")), content).unwrap();
    let deb = d.with_extension("deb");
    let o = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&d)
        .arg(&deb)
        .output()
        .expect("Debian's dpkg-deb");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    deb
}

/// `dpkg --root=ROOT --force-all ARGS DEBS...` (real dpkg), which must
/// succeed.
pub fn dpkg_in_root(root: &Path, args: &[&str], debs: &[&Path]) {
    let o = Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg("--force-all")
        .args(args)
        .args(debs)
        .output()
        .expect("run dpkg");
    assert!(
        o.status.success(),
        "dpkg {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
