//! The static (musl) binaries of the release (docs/release.md): built through
//! cargo for `x86_64-unknown-linux-musl` and `aarch64-unknown-linux-musl`
//! (profile `ci-static`, or `BAKEPROOF_STATIC_PROFILE`), or taken from
//! `BAKEPROOF_STATIC_X86_64` / `BAKEPROOF_STATIC_AARCH64` when set (what
//! tools/release.sh does with its artifacts). Each must be free of glibc
//! (no interpreter, no DT_NEEDED, no GLIBC_ symbol version) and run `scan`,
//! `verify-attestation` and `verify` (against the IMDS emulator on loopback)
//! inside an empty chroot that holds nothing but the binary and the fixture:
//! natively for x86_64, under `qemu-aarch64-static` user emulation (copied
//! into the chroot, a static binary itself) for aarch64 (`#[ignore]`d in
//! CI for time, run by tools/release.sh: docs/release.md, "What CI builds"). The packages
//! (cargo-deb, cargo-generate-rpm) list what they should and the .deb
//! installs into a scratch root. No tool is optional: a missing musl-gcc,
//! cross gcc, Rust target, qemu, cargo-deb or cargo-generate-rpm fails the
//! test (tests/run-all.sh installs them).

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use common::imds_emulator::Emulator;
use common::run::{bakeproof_bin, describe};
use common::schema::repo_root;
use serde_json::Value;

const AMI: &str = "ami-0123456789abcdef0";
const REGION: &str = "us-east-1";
const X86_64: &str = "x86_64-unknown-linux-musl";
const AARCH64: &str = "aarch64-unknown-linux-musl";

fn ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", describe(o));
}

/// The target directory of this build (…/target/debug/bakeproof → …/target).
fn target_dir() -> PathBuf {
    bakeproof_bin()
        .ancestors()
        .nth(2)
        .expect("the binary lies in TARGET/PROFILE/")
        .to_path_buf()
}

fn profile() -> String {
    std::env::var("BAKEPROOF_STATIC_PROFILE").unwrap_or_else(|_| "ci-static".into())
}

/// The static binary for `target`: the one the environment names, else
/// built by cargo (once per test process; cargo serialises the two builds
/// on its own lock).
fn static_bin(target: &'static str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(&'static str, PathBuf)>>> = OnceLock::new();
    let var = match target {
        X86_64 => "BAKEPROOF_STATIC_X86_64",
        _ => "BAKEPROOF_STATIC_AARCH64",
    };
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{var}={} is not a file", p.display());
        return p;
    }
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = built.iter().find(|(t, _)| *t == target) {
        return p.clone();
    }
    let profile = profile();
    let o = Command::new(env!("CARGO"))
        .args(["build", "--locked", "-p", "bakeproof", "--target", target])
        .args(["--profile", &profile])
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(repo_root())
        .output()
        .expect("run cargo");
    ok(
        &o,
        &format!("cargo build --target {target} --profile {profile} (see README: set-up)"),
    );
    let p = target_dir().join(target).join(&profile).join("bakeproof");
    assert!(p.is_file(), "{} not built", p.display());
    built.push((target, p.clone()));
    p
}

fn run(cmd: &str, args: &[&OsStr]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {cmd} (installed by tests/run-all.sh): {e}"))
}

/// Static and glibc-free, by three independent tools: `file`, `readelf`
/// (no program interpreter, no DT_NEEDED) and the bytes (no `GLIBC_`).
fn assert_static(bin: &Path, machine: &str) {
    assert_no_loader(bin, machine);
    let bytes = std::fs::read(bin).unwrap();
    assert!(
        !bytes.windows(6).any(|w| w == b"GLIBC_"),
        "{} names a GLIBC_ symbol version",
        bin.display()
    );
}

/// Runs without a program interpreter or shared library (`file`, `readelf`).
fn assert_no_loader(bin: &Path, machine: &str) {
    let f = run("file", &[OsStr::new("-b"), bin.as_os_str()]);
    ok(&f, "file");
    let f = String::from_utf8_lossy(&f.stdout);
    assert!(
        f.contains("statically linked") || f.contains("static-pie linked"),
        "file says: {f}"
    );
    assert!(f.contains(machine), "file says {f}, want {machine}");
    let h = run("readelf", &[OsStr::new("-lhd"), bin.as_os_str()]);
    ok(&h, "readelf");
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(!h.contains("INTERP"), "a program interpreter:\n{h}");
    assert!(!h.contains("(NEEDED)"), "shared libraries needed:\n{h}");
}

/// The empty chroot: nothing but `/bakeproof` (and the emulator for a
/// foreign architecture) and the fixture, `/img`.
struct Jail {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// `qemu-aarch64-static` inside the jail, for the aarch64 binary.
    qemu: bool,
}

impl Jail {
    fn new(bin: &Path, qemu: bool) -> Jail {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("jail");
        std::fs::create_dir(&root).unwrap();
        std::fs::copy(bin, root.join("bakeproof")).unwrap();
        if qemu {
            let q = PathBuf::from("/usr/bin/qemu-aarch64-static");
            assert!(
                q.is_file(),
                "qemu-aarch64-static missing (Debian qemu-user-static, tests/run-all.sh)"
            );
            // (Debian's is a static glibc build: no loader, no library.)
            assert_no_loader(&q, "x86-64");
            std::fs::copy(&q, root.join("qemu-aarch64-static")).unwrap();
        }
        let st = Command::new("tar")
            .arg("-xzf")
            .arg(common::run::fixture("dpkgroot/clean.tar.gz"))
            .arg("--numeric-owner")
            .arg("-C")
            .arg({
                std::fs::create_dir(root.join("img")).unwrap();
                root.join("img")
            })
            .status()
            .expect("run tar");
        assert!(st.success());
        for d in ["out", "att", "store"] {
            std::fs::create_dir(root.join(d)).unwrap();
        }
        Jail {
            _dir: dir,
            root,
            qemu,
        }
    }

    /// Every top-level entry of the jail.
    fn entries(&self) -> BTreeSet<String> {
        std::fs::read_dir(&self.root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// `/bakeproof ARGS` inside the jail, with an empty environment but
    /// for the pinned time and the key password.
    fn bakeproof(&self, args: &[&str]) -> Output {
        let mut c = if rustix::process::geteuid().is_root() {
            Command::new("/usr/sbin/chroot")
        } else {
            let mut c = Command::new("/usr/bin/unshare");
            c.args(["--map-root-user", "/usr/sbin/chroot"]);
            c
        };
        c.arg(&self.root);
        if self.qemu {
            c.arg("/qemu-aarch64-static");
        }
        c.arg("/bakeproof")
            .args(args)
            .env_clear()
            .env("SOURCE_DATE_EPOCH", "1704067200")
            .env("COSIGN_PASSWORD", "test-password");
        c.output().expect("run chroot")
    }

    fn host(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// The host's (dynamic, debug) bakeproof.
fn host_bp(args: &[&OsStr]) -> Output {
    Command::new(bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("COSIGN_PASSWORD", "test-password")
        .env_remove("BAKEPROOF_STORE")
        .output()
        .expect("run bakeproof")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn tree_digest(sbom: &Value) -> &str {
    sbom["metadata"]["component"]["hashes"][0]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no tree digest in {sbom:#}"))
}

/// scan → (host: seal, key, attest, publish) → verify-attestation → verify,
/// the static binary in the jail.
fn chain_in_jail(bin: &Path, qemu: bool) {
    let jail = Jail::new(bin, qemu);
    let mut want: BTreeSet<String> = ["bakeproof", "img", "out", "att", "store"]
        .into_iter()
        .map(String::from)
        .collect();
    if qemu {
        want.insert("qemu-aarch64-static".into());
    }
    assert_eq!(jail.entries(), want, "the jail holds more than it should");

    let v = jail.bakeproof(&["--version"]);
    ok(&v, "--version in the jail");

    // scan: the same SBOM content as the host's dynamic build of the same root.
    let o = jail.bakeproof(&["scan", "/img", "-o", "/out/sbom.json", "-q"]);
    ok(&o, "scan in the jail");
    let sbom = read_json(&jail.host("out/sbom.json"));
    let host_sbom = jail.host("../host-sbom.json");
    ok(
        &host_bp(&[
            "scan".as_ref(),
            jail.host("img").as_os_str(),
            "-o".as_ref(),
            host_sbom.as_os_str(),
            "-q".as_ref(),
        ]),
        "host scan",
    );
    let host = read_json(&host_sbom);
    assert_eq!(
        tree_digest(&sbom),
        tree_digest(&host),
        "tree digests differ"
    );
    assert_eq!(
        sbom["components"].as_array().map(Vec::len),
        host["components"].as_array().map(Vec::len)
    );
    assert!(sbom["components"].as_array().unwrap().len() > 100);

    // The host signs what the jail scanned, and publishes it into the jail.
    let seal = host_bp(&[
        "seal".as_ref(),
        "check".as_ref(),
        jail.host("img").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let work = jail.host("../work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("seal.json"), &seal.stdout).unwrap();
    let other = work.join("other");
    std::fs::create_dir(&other).unwrap();
    for d in [&work, &other] {
        ok(
            &host_bp(&[
                "key".as_ref(),
                "generate".as_ref(),
                "--output-dir".as_ref(),
                d.as_os_str(),
            ]),
            "key generate",
        );
    }
    // Only the public halves go into the jail.
    std::fs::copy(work.join("cosign.pub"), jail.host("att/cosign.pub")).unwrap();
    std::fs::copy(other.join("cosign.pub"), jail.host("att/other.pub")).unwrap();
    let bundles = work.join("bundles");
    ok(
        &host_bp(&[
            "attest".as_ref(),
            "--sbom".as_ref(),
            jail.host("out/sbom.json").as_os_str(),
            "--seal".as_ref(),
            work.join("seal.json").as_os_str(),
            "--key".as_ref(),
            work.join("cosign.key").as_os_str(),
            "--ami".as_ref(),
            format!("{REGION}:{AMI}").as_ref(),
            "-o".as_ref(),
            bundles.as_os_str(),
            "--allow-unsealed".as_ref(),
        ]),
        "attest",
    );
    let mut names = Vec::new();
    for e in std::fs::read_dir(&bundles).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sigstore.json") {
            std::fs::copy(e.path(), jail.host("att").join(&name)).unwrap();
            names.push(format!("/att/{name}"));
        }
    }
    assert_eq!(names.len(), 2, "an SBOM and a seal bundle");
    ok(
        &host_bp(&[
            "publish".as_ref(),
            "--store".as_ref(),
            jail.host("store").as_os_str(),
            bundles.as_os_str(),
        ]),
        "publish",
    );

    // verify-attestation: the right key verifies, another does not.
    let ami = format!("{REGION}:{AMI}");
    let mut args = vec![
        "verify-attestation",
        "--key",
        "/att/cosign.pub",
        "--ami",
        &ami,
    ];
    args.extend(names.iter().map(String::as_str));
    let o = jail.bakeproof(&args);
    ok(&o, "verify-attestation in the jail");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.matches("verified: ").count(), 2, "{out}");
    args[2] = "/att/other.pub";
    let o = jail.bakeproof(&args);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("INVALID: ")
            .count(),
        2
    );

    // verify: first boot of the image, IMDS from the emulator on loopback.
    std::fs::write(
        jail.host("img/etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    for (key, code, result) in [
        ("/att/cosign.pub", 0, "verified"),
        ("/att/other.pub", 1, "failed"),
    ] {
        let o = jail.bakeproof(&[
            "verify",
            "--store",
            "/store",
            "--key",
            key,
            "--root",
            "/img",
            "--imds-endpoint",
            &emu.endpoint,
            "--level",
            "packages",
            "--format",
            "json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "verify --key {key}: {}",
            describe(&o)
        );
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("verify JSON ({e}): {}", describe(&o)));
        assert_eq!(v["result"], result, "{v:#}");
        if code == 0 {
            assert_eq!(v["ami"]["amiId"], AMI);
        }
    }
}

#[test]
fn x86_64_static_binary_runs_in_an_empty_chroot() {
    let bin = static_bin(X86_64);
    assert_static(&bin, "x86-64");
    let l = run("ldd", &[bin.as_os_str()]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&l.stdout),
        String::from_utf8_lossy(&l.stderr)
    );
    assert!(
        said.contains("not a dynamic executable") || said.contains("statically linked"),
        "ldd says: {said}"
    );
    chain_in_jail(&bin, false);
}

/// Not in CI's `cargo test`: a second cold static build (about 9 CPU
/// minutes, docs/release.md) does not fit CI's time budget. tools/release.sh
/// runs it (`-- --include-ignored`) against the aarch64 artifact; by hand:
/// `cargo test -p bakeproof --test static_binary -- --include-ignored`.
#[test]
#[ignore = "the aarch64 static build + qemu run: tools/release.sh runs it (--include-ignored)"]
fn aarch64_static_binary_runs_under_qemu_in_an_empty_chroot() {
    let bin = static_bin(AARCH64);
    assert_static(&bin, "ARM aarch64");
    chain_in_jail(&bin, true);
}

/// The packages of the x86_64 static binary: `BAKEPROOF_DEB`/`BAKEPROOF_RPM`
/// when set (tools/release.sh), else made here by cargo-deb and
/// cargo-generate-rpm from the binary of [`static_bin`].
fn packages() -> (PathBuf, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    if let (Some(d), Some(r)) = (
        std::env::var_os("BAKEPROOF_DEB"),
        std::env::var_os("BAKEPROOF_RPM"),
    ) {
        return (d.into(), r.into(), dir);
    }
    let bin = static_bin(X86_64);
    let profile = profile();
    let share = target_dir().join(X86_64).join(&profile).join("share");
    let o = Command::new(repo_root().join("packaging/share.sh"))
        .arg(&bin)
        .arg(&share)
        .output()
        .expect("run packaging/share.sh");
    ok(&o, "packaging/share.sh (manual pages and completions)");
    let o = Command::new(env!("CARGO"))
        .args([
            "deb",
            "-p",
            "bakeproof",
            "--no-build",
            "--no-strip",
            "--target",
            X86_64,
        ])
        .args(["--profile", &profile, "-o"])
        .arg(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(repo_root())
        .output()
        .expect("run cargo deb");
    ok(&o, "cargo deb (cargo-deb, installed by tests/run-all.sh)");
    let o = Command::new(env!("CARGO"))
        .args(["generate-rpm", "-p", "crates/bakeproof", "--target", X86_64])
        .args(["--profile", &profile, "-o"])
        .arg(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(repo_root())
        .output()
        .expect("run cargo generate-rpm");
    ok(
        &o,
        "cargo generate-rpm (cargo-generate-rpm, installed by tests/run-all.sh)",
    );
    let find = |ext: &str| {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap_or_else(|| panic!("no .{ext} written"))
    };
    (find("deb"), find("rpm"), dir)
}

const UNIT: &str = "usr/lib/systemd/system/bakeproof-verify.service";

/// The file names `bakeproof man` writes (the test's own host binary).
fn man_pages() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(bakeproof_bin())
        .arg("man")
        .arg("-o")
        .arg(dir.path())
        .output()
        .expect("bakeproof man");
    ok(&o, "bakeproof man");
    let mut v: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn deb_and_rpm_hold_the_binary_the_unit_and_the_keys_directory() {
    let (deb, rpm, _dir) = packages();

    let c = run("dpkg-deb", &["-c".as_ref(), deb.as_os_str()]);
    ok(&c, "dpkg-deb -c");
    let listing = String::from_utf8_lossy(&c.stdout);
    let entries: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|l| Some((l.split_whitespace().next()?, l.split_whitespace().last()?)))
        .collect();
    for (mode, path) in [
        ("-rwxr-xr-x", "./usr/bin/bakeproof"),
        ("-rw-r--r--", &format!("./{UNIT}")),
        ("-rw-r--r--", "./etc/bakeproof/verify.env"),
        ("drwxr-xr-x", "./etc/bakeproof/keys/"),
        (
            "-rw-r--r--",
            "./usr/share/bash-completion/completions/bakeproof",
        ),
        (
            "-rw-r--r--",
            "./usr/share/zsh/vendor-completions/_bakeproof",
        ),
        (
            "-rw-r--r--",
            "./usr/share/fish/vendor_completions.d/bakeproof.fish",
        ),
    ] {
        assert!(
            entries.contains(&(mode, path)),
            "{mode} {path} not in the .deb:\n{listing}"
        );
    }
    // A manual page for every page `bakeproof man` writes (the oracle: the
    // binary's own listing), compressed or not.
    let pages = man_pages();
    assert!(
        pages.len() > 10 && pages.contains(&"bakeproof-scan.1".to_owned()),
        "{pages:?}"
    );
    for page in &pages {
        let plain = format!("./usr/share/man/man1/{page}");
        let gz = format!("{plain}.gz");
        assert!(
            entries.iter().any(|(_, p)| *p == plain || *p == gz),
            "{page} not in the .deb:\n{listing}"
        );
    }
    let f = run("dpkg-deb", &["-f".as_ref(), deb.as_os_str()]);
    let fields = String::from_utf8_lossy(&f.stdout);
    assert!(fields.contains("Architecture: amd64"), "{fields}");
    assert!(
        fields
            .lines()
            .filter(|l| l.starts_with("Depends:") || l.starts_with("Pre-Depends:"))
            .all(|l| l.split_once(':').is_some_and(|(_, v)| v.trim().is_empty())),
        "a static binary depends on nothing: {fields}"
    );

    // Installed into a scratch root by dpkg itself.
    let scratch = tempfile::tempdir().unwrap();
    let r = scratch.path();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("var/lib/dpkg/status"), "").unwrap();
    let root_arg = format!("--root={}", r.display());
    let i = run(
        "dpkg",
        &[
            root_arg.as_ref(),
            "--log=/dev/null".as_ref(),
            "--install".as_ref(),
            deb.as_os_str(),
        ],
    );
    ok(&i, "dpkg --root --install");
    let s = run(
        "dpkg",
        &[root_arg.as_ref(), "-s".as_ref(), "bakeproof".as_ref()],
    );
    assert!(
        String::from_utf8_lossy(&s.stdout).contains("Status: install ok installed"),
        "{}",
        describe(&s)
    );
    let installed = r.join("usr/bin/bakeproof");
    assert_static(&installed, "x86-64");
    ok(
        &run(installed.to_str().unwrap(), &["--version".as_ref()]),
        "installed --version",
    );
    assert_eq!(
        std::fs::read(r.join(UNIT)).unwrap(),
        std::fs::read(repo_root().join("packaging/bakeproof-verify.service")).unwrap()
    );
    assert!(r.join("etc/bakeproof/keys").is_dir());
    let conf = std::fs::read_to_string(r.join("var/lib/dpkg/info/bakeproof.conffiles")).unwrap();
    assert!(
        conf.lines().any(|l| l == "/etc/bakeproof/verify.env"),
        "{conf}"
    );

    // The .rpm: the same files, the configuration marked so.
    let l = run("rpm", &["-qlp".as_ref(), rpm.as_os_str()]);
    ok(&l, "rpm -qlp");
    let files: BTreeSet<String> = String::from_utf8_lossy(&l.stdout)
        .lines()
        .map(String::from)
        .collect();
    for f in [
        "/usr/bin/bakeproof",
        &format!("/{UNIT}"),
        "/etc/bakeproof/verify.env",
        "/etc/bakeproof/keys/README",
    ] {
        assert!(files.contains(f), "{f} not in the .rpm: {files:?}");
    }
    for page in &pages {
        let plain = format!("/usr/share/man/man1/{page}");
        assert!(
            files.contains(&plain) || files.contains(&format!("{plain}.gz")),
            "{page} not in the .rpm: {files:?}"
        );
    }
    for f in [
        "/usr/share/bash-completion/completions/bakeproof",
        "/usr/share/zsh/site-functions/_bakeproof",
        "/usr/share/fish/vendor_completions.d/bakeproof.fish",
    ] {
        assert!(files.contains(f), "{f} not in the .rpm: {files:?}");
    }
    let c = run("rpm", &["-qcp".as_ref(), rpm.as_os_str()]);
    assert!(
        String::from_utf8_lossy(&c.stdout)
            .lines()
            .any(|l| l == "/etc/bakeproof/verify.env"),
        "{}",
        describe(&c)
    );
    let q = run(
        "rpm",
        &[
            "-qp".as_ref(),
            "--queryformat".as_ref(),
            "%{ARCH}".as_ref(),
            rpm.as_os_str(),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&q.stdout), "x86_64");
    let q = run("rpm", &["-qpR".as_ref(), rpm.as_os_str()]);
    let req = String::from_utf8_lossy(&q.stdout);
    assert!(
        !req.contains("libc.so"),
        "a static binary needs no libc: {req}"
    );
}

/// One TLS/crypto backend: rustls with ring, no aws-lc-sys (a second C
/// crypto library, and a CMake build, for the same TLS).
#[test]
fn one_crypto_backend() {
    let tree = |pkg: &str| {
        Command::new(env!("CARGO"))
            .args(["tree", "--locked", "-p", "bakeproof", "-e", "normal,build"])
            .args(["--target", "all", "-i", pkg])
            .current_dir(repo_root())
            .output()
            .expect("run cargo tree")
    };
    let lc = tree("aws-lc-sys");
    assert!(
        !lc.status.success()
            && String::from_utf8_lossy(&lc.stderr).contains("did not match any packages"),
        "aws-lc-sys is in the build: {}",
        describe(&lc)
    );
    let ring = tree("ring");
    ok(&ring, "ring is the TLS backend");
    assert!(String::from_utf8_lossy(&ring.stdout).contains("rustls"));
}

/// `attest-artifacts` / `verify-artifacts` through the binary, as
/// tools/release.sh uses them: securesystemslib verifies the bundle
/// independently, the subjects' digests are `sha256sum`'s, and a changed,
/// unattested or other-key file fails.
#[test]
fn release_artifacts_are_attested_and_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("bakeproof-x"), b"a binary\n").unwrap();
    std::fs::write(dist.join("bakeproof_0.1.0-1_amd64.deb"), b"a package\n").unwrap();
    let files = [
        dist.join("bakeproof-x"),
        dist.join("bakeproof_0.1.0-1_amd64.deb"),
    ];
    let sbom = tmp.path().join("sbom.json");
    ok(
        &host_bp(&[
            "scan".as_ref(),
            dist.as_os_str(),
            "-o".as_ref(),
            sbom.as_os_str(),
            "-q".as_ref(),
        ]),
        "scan",
    );
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    for d in [tmp.path(), other.as_path()] {
        ok(
            &host_bp(&[
                "key".as_ref(),
                "generate".as_ref(),
                "--output-dir".as_ref(),
                d.as_os_str(),
            ]),
            "key generate",
        );
    }
    let bundle = tmp.path().join("release.sigstore.json");
    let key = tmp.path().join("cosign.key");
    let mut args: Vec<&OsStr> = vec![
        "attest-artifacts".as_ref(),
        "--sbom".as_ref(),
        sbom.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "-o".as_ref(),
        bundle.as_os_str(),
    ];
    args.extend(files.iter().map(|f| f.as_os_str()));
    ok(&host_bp(&args), "attest-artifacts");

    // Independent: securesystemslib verifies the DSSE signature with the
    // public key; the subjects are the files' names and sha256sum digests.
    let python = common::schema::bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(python)
        .arg(repo_root().join("tests/tools/attest_interop.py"))
        .arg("verify-bundle")
        .arg(&bundle)
        .arg(tmp.path().join("cosign.pub"))
        .output()
        .expect("run attest_interop.py");
    ok(&o, "securesystemslib verifies the bundle");
    let doc = read_json(&bundle);
    let payload = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap()
    };
    let st: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(st["predicate"], read_json(&sbom));
    let sums = run(
        "sha256sum",
        &files.iter().map(|f| f.as_os_str()).collect::<Vec<_>>(),
    );
    let want: Vec<(String, String)> = String::from_utf8_lossy(&sums.stdout)
        .lines()
        .map(|l| {
            let (d, p) = l.split_once("  ").unwrap();
            let name = Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, d.to_string())
        })
        .collect();
    let got: Vec<(String, String)> = st["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["digest"]["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);

    let verify = |key: &Path, files: &[&Path]| {
        let mut a: Vec<&OsStr> = vec![
            "verify-artifacts".as_ref(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
        ];
        a.extend(files.iter().map(|f| f.as_os_str()));
        host_bp(&a)
    };
    let public = tmp.path().join("cosign.pub");
    let o = verify(&public, &[&files[0], &files[1]]);
    ok(&o, "verify-artifacts");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches(": verified")
            .count(),
        2
    );
    let o = verify(&other.join("cosign.pub"), &[&files[0]]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID: unknown key"));
    // A changed file (same name).
    std::fs::write(&files[0], b"a binary, changed\n").unwrap();
    let o = verify(&public, &[&files[0]]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID: bakeproof-x: sha256"));
    // A file the statement does not name.
    let o = verify(&public, &[&sbom]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not among the attested artifacts"));
}
