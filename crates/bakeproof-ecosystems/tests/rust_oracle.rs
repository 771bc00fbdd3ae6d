//! cargo-auditable's `.dep-v0` read by `rustaudit.rs`, against the
//! `Cargo.lock` of the crate the test builds with `cargo auditable build`
//! (offline, from the local registry cache), and against `readelf`'s
//! section table. Never skips: without cargo-auditable (`cargo install
//! --locked cargo-auditable`) or readelf (binutils) the test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_ecosystems::observer::{EcosystemObserver, Langs, Reread, What};
use bakeproof_ecosystems::rustaudit::{self, DepV0Finder, PROP_SOURCE, SectionRange};
use bakeproof_ecosystems::{Ecosystem, catalog};
use bakeproof_index::ContentObserver;

/// The crate: `demo 0.3.1` depending on `hex =0.4.3` (in the workspace's
/// Cargo.lock, so in the registry cache of any machine that built it).
fn write_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n\
         [dependencies]\nhex = \"=0.4.3\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() { println!(\"{}\", hex::encode([1u8, 2])); }\n",
    )
    .unwrap();
}

/// `cargo auditable build` with `args`; the binary's path.
fn auditable_build(dir: &Path, target: &Path, args: &[&str], profile: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let o = Command::new(&cargo)
        .current_dir(dir)
        .args(["auditable", "build", "--offline", "--quiet"])
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        o.status.success(),
        "cargo auditable build failed (is cargo-auditable installed? \
         `cargo install --locked cargo-auditable`): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    target.join(profile).join("demo")
}

/// (name, version) → (source as auditable-serde writes it, dependency
/// names), from Cargo.lock read line by line.
fn lockfile(path: &Path) -> BTreeMap<(String, String), (String, Vec<String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let field = |k: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(&format!("{k} = \""))
                    .and_then(|v| v.strip_suffix('"'))
                    .map(str::to_string)
            })
        };
        let source = match field("source").as_deref() {
            None => "local".to_string(),
            Some("registry+https://github.com/rust-lang/crates.io-index") => "crates.io".into(),
            Some(s) if s.starts_with("git+") => "git".into(),
            Some(_) => "registry".into(),
        };
        let deps = block
            .split_once("dependencies = [")
            .map(|(_, rest)| {
                rest.split(']')
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|d| d.trim().trim_matches('"'))
                    .filter(|d| !d.is_empty())
                    // "name version" when two versions of a crate are locked.
                    .map(|d| d.split(' ').next().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            (field("name").unwrap(), field("version").unwrap()),
            (source, deps),
        );
    }
    out
}

/// `.dep-v0`'s (offset, size) as binutils' readelf reads the section table.
fn readelf_section(bin: &Path) -> SectionRange {
    let o = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(bin)
        .output()
        .expect("readelf (binutils) is needed");
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    let line = out
        .lines()
        .find(|l| l.contains(" .dep-v0 "))
        .unwrap_or_else(|| panic!("no .dep-v0 in {}:\n{out}", bin.display()));
    // [Nr] Name Type Address Off Size ...
    let cols: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    SectionRange {
        offset: u64::from_str_radix(cols[3], 16).unwrap(),
        size: u64::from_str_radix(cols[4], 16).unwrap(),
    }
}

fn streamed(file: &[u8], chunk: usize) -> Option<Result<Vec<u8>, SectionRange>> {
    let mut f = DepV0Finder::new();
    for c in file.chunks(chunk) {
        if !f.wants_more() {
            break;
        }
        f.update(c);
    }
    f.finish()
}

fn check(bin: &Path, lock: &Path, expect_in_window: bool) {
    let bytes = std::fs::read(bin).unwrap();
    let range = readelf_section(bin);
    let section = rustaudit::find_dep_v0(&bytes).expect("find_dep_v0");
    let at = section.as_ptr() as usize - bytes.as_ptr() as usize;
    assert_eq!(
        (at as u64, section.len() as u64),
        (range.offset, range.size),
        "find_dep_v0 against readelf"
    );
    let pkgs = rustaudit::parse_dep_v0(section).unwrap();
    let ours: BTreeMap<(String, String), (String, Vec<String>)> = pkgs
        .iter()
        .map(|p| {
            assert_eq!(p.lang, Ecosystem::Cargo);
            assert_eq!(p.found_by, "cargo-auditable");
            let source = p
                .properties
                .iter()
                .find(|(k, _)| k == PROP_SOURCE)
                .map(|(_, v)| v.clone())
                .unwrap();
            let mut deps = p.depends.clone();
            deps.sort();
            ((p.name.clone(), p.version.clone()), (source, deps))
        })
        .collect();
    let mut lock = lockfile(lock);
    for (_, deps) in lock.values_mut() {
        deps.sort();
    }
    assert_eq!(ours, lock, "packages against Cargo.lock");
    let roots: Vec<&str> = pkgs
        .iter()
        .filter(|p| p.primary)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(roots, ["demo"]);
    // Through the scan's observer (64 KiB reads): the packages, or the
    // range to read again after the walk.
    let obs = EcosystemObserver::new(Langs {
        go: true,
        rust: true,
        ..Langs::NONE
    });
    let mut sink = obs
        .start(b"/usr/bin/demo", bytes.len() as u64)
        .expect("a sink for a binary");
    for c in bytes.chunks(64 << 10) {
        sink.update(c);
    }
    sink.finish();
    let found = obs.take();
    assert_eq!(found.len(), 1);
    match &found[0].what {
        What::Packages(p) => assert_eq!(p, &pkgs),
        What::Reread(Reread::RustSection(r)) if !expect_in_window => assert_eq!(*r, range),
        other => panic!("{other:?}"),
    }
    // And the catalog (which reads the range again when it has to): one
    // Cargo database, every crate located in the binary.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    std::fs::copy(bin, root.path().join("usr/bin/demo")).unwrap();
    let tree = bakeproof_index::Root::open(root.path()).unwrap();
    let cat = catalog::build(found, &tree);
    assert_eq!(cat.dbs.len(), 1);
    let db = &cat.dbs[0];
    assert!(db.warnings.is_empty(), "{:?}", db.warnings);
    let mut purls: Vec<&str> = db.packages.iter().map(|p| p.purl.as_str()).collect();
    purls.sort();
    assert_eq!(purls, ["pkg:cargo/demo@0.3.1", "pkg:cargo/hex@0.4.3"]);
    assert!(
        db.packages
            .iter()
            .all(|p| p.locations == [b"/usr/bin/demo".to_vec()])
    );
    for n in [1, 7, 4096, 65537, usize::MAX] {
        match streamed(&bytes, n) {
            Some(Ok(s)) => assert_eq!(s, section, "chunks of {n}"),
            Some(Err(r)) => {
                assert!(!expect_in_window, "chunks of {n}: passed at {r:?}");
                assert_eq!(r, range, "chunks of {n}");
            }
            None => panic!("chunks of {n}: no section found"),
        }
    }
}

#[test]
fn cargo_auditable_binaries_list_their_cargo_lock() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("demo");
    write_crate(&krate);
    let target = dir.path().join("target");
    // Stripped: the section sits just before the section table.
    let stripped = auditable_build(
        &krate,
        &target,
        &["--release", "--config", "profile.release.strip=true"],
        "release",
    );
    check(&stripped, &krate.join("Cargo.lock"), true);
    // With debug info between it and the table: the finder gives the
    // range to read again.
    let debug = auditable_build(&krate, &target, &[], "debug");
    check(&debug, &krate.join("Cargo.lock"), false);
}
