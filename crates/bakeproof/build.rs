//! Build metadata for `bakeproof version`: the commit the binary was built
//! from, its date, the build date, the target and the compiler.
//!
//! Written by hand rather than with `vergen`: two `git` invocations and a
//! few environment variables, where vergen would bring a builder-macro
//! dependency tree into the build of a security tool.
//!
//! * `BAKEPROOF_BUILD_COMMIT` overrides the commit (builds from a source
//!   tarball, which has no `.git`); else `git rev-parse HEAD`; else `unknown`.
//! * `SOURCE_DATE_EPOCH` (seconds) is the build date when set (reproducible
//!   builds: the release script sets it to the commit's time); else the
//!   time this script ran.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-env-changed=BAKEPROOF_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");

    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it
    // names (a commit) and packed-refs (a gc). Only existing paths: Cargo
    // reruns a script every build for a path that does not exist.
    if let Some(git_dir) = git(&dir, &["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        let common = git(&dir, &["rev-parse", "--git-common-dir"])
            .map(|c| {
                let c = PathBuf::from(c);
                if c.is_absolute() { c } else { dir.join(c) }
            })
            .unwrap_or_else(|| git_dir.clone());
        let mut watch = vec![git_dir.join("HEAD"), common.join("packed-refs")];
        if let Some(r) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(r));
        }
        for p in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }

    let commit = std::env::var("BAKEPROOF_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&dir, &["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let commit_time = git(&dir, &["log", "-1", "--format=%ct", "HEAD"])
        .filter(|_| std::env::var("BAKEPROOF_BUILD_COMMIT").is_err())
        .unwrap_or_default();
    let build_time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    let rustc = std::env::var_os("RUSTC")
        .and_then(|r| Command::new(r).arg("--version").output().ok())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();

    println!("cargo:rustc-env=BAKEPROOF_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=BAKEPROOF_BUILD_COMMIT_TIME={commit_time}");
    println!("cargo:rustc-env=BAKEPROOF_BUILD_TIME={build_time}");
    println!(
        "cargo:rustc-env=BAKEPROOF_BUILD_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=BAKEPROOF_BUILD_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );
    println!("cargo:rustc-env=BAKEPROOF_BUILD_RUSTC={rustc}");
}
