//! The independent verifiers of attestations: securesystemslib
//! (tests/tools/attest_interop.py `verify-bundle`) and sigstore-js
//! (tests/tools/npm/sigstore_verify.cjs), as tests/attest.rs and
//! tests/kms.rs run them. Each fails, never skips, when its tool is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::run::describe;
use super::schema::{bakeproof_python, repo_root};

/// `target/attest-npm/node_modules` with the pinned sigstore-js of
/// tests/tools/npm, installed once with `npm ci` (again only when the lock file
/// changed). Fails, never skips, without node and npm.
pub fn node_modules() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| npm_ci("tests/tools/npm", "attest-npm", "@sigstore/verify"))
        .clone()
}

/// `target/NAME/node_modules` installed with `npm ci` from the package.json
/// and lock file in the repository's `tools_dir`, again only when the lock
/// file changed (`package`'s package.json is the installed marker). Fails,
/// never skips, without node and npm.
pub fn npm_ci(tools_dir: &str, name: &str, package: &str) -> PathBuf {
    npm_locked(tools_dir, name, package, &["ci"])
}

/// As [`npm_ci`], but `npm install --no-save --omit=optional
/// --ignore-scripts` from the lock file, for a package whose lock cannot
/// satisfy `npm ci` (npm writes no lock entries for the other platforms'
/// optional native packages, npm/cli#4828, and `npm ci` then refuses the
/// lock). The lock file must come out unchanged: the install is still the
/// pinned tree.
pub fn npm_install_locked(tools_dir: &str, name: &str, package: &str) -> PathBuf {
    let dir = npm_locked(
        tools_dir,
        name,
        package,
        &[
            "install",
            "--no-save",
            "--omit=optional",
            "--ignore-scripts",
        ],
    );
    let src = repo_root().join(tools_dir).join("package-lock.json");
    let used = dir.parent().unwrap().join("package-lock.json");
    assert_eq!(
        std::fs::read(src).unwrap(),
        std::fs::read(used).unwrap(),
        "npm changed the lock file of {tools_dir}"
    );
    dir
}

fn npm_locked(tools_dir: &str, name: &str, package: &str, how: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).expect("target/<profile>/deps/exe");
    let dir = target.join(name);
    let src = repo_root().join(tools_dir);
    let lock = std::fs::read(src.join("package-lock.json")).unwrap();
    let installed = dir
        .join("node_modules")
        .join(package)
        .join("package.json")
        .exists()
        && std::fs::read(dir.join("package-lock.json")).ok().as_deref() == Some(&lock[..]);
    if !installed {
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let o = Command::new("npm")
            .args(how)
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("npm (Node.js) is needed for {package}: {e}"));
        assert!(o.status.success(), "npm {how:?} failed: {}", describe(&o));
    }
    dir.join("node_modules")
}

/// Verifies a bundle with sigstore-js (tests/tools/npm/sigstore_verify.cjs).
pub fn node_verify(bundle: &Path, key: &Path) -> Output {
    Command::new("node")
        .arg(repo_root().join("tests/tools/npm/sigstore_verify.cjs"))
        .arg(bundle)
        .arg(key)
        .env("NODE_PATH", node_modules())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("node is needed for the sigstore-js interop test: {e}"))
}

pub fn py_verify(bundle: &Path, key: &Path) -> Output {
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    Command::new(python)
        .arg(repo_root().join("tests/tools/attest_interop.py"))
        .arg("verify-bundle")
        .arg(bundle)
        .arg(key)
        .stdin(Stdio::null())
        .output()
        .expect("run attest_interop.py")
}
