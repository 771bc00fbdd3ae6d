//! The distributor (supplier) of dpkg packages against apt itself: apt-get
//! writes the lists of a real local archive whose Release says
//! `Origin: Bakeproof Test Archive`, dpkg installs a package from it into a
//! scratch root holding this machine's dpkg status and apt lists, and
//! `apt-cache policy` (pointed at the scratch root's lists and status) says
//! which archive carries each installed version. Every package apt places
//! in an archive must have that archive's origin as supplier (source
//! `apt-lists`); every other one the root's distribution (`os-release`).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use bakeproof_index::Root;
use bakeproof_pkgdb::read_root;

const ORIGIN: &str = "Bakeproof Test Archive";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256(p: &Path) -> String {
    run(Command::new("sha256sum").arg(p))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A flat archive at `repo` with one package and a Release naming ORIGIN.
fn archive(repo: &Path) {
    let pkg = repo.join("build");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(pkg.join("usr/share/bp-origin")).unwrap();
    std::fs::write(pkg.join("usr/share/bp-origin/x"), "x\n").unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: bp-origin-test\nVersion: 1:2.0-1\nArchitecture: all\n\
         Maintainer: Someone Else <someone@example.org>\nDescription: origin test\n",
    )
    .unwrap();
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-b"])
        .arg(&pkg)
        .arg(repo.join("bp-origin-test_2.0-1_all.deb")));
    std::fs::remove_dir_all(&pkg).unwrap();
    let packages = run(Command::new("dpkg-scanpackages")
        .args(["-m", "."])
        .current_dir(repo));
    std::fs::write(repo.join("Packages"), &packages).unwrap();
    let p = repo.join("Packages");
    let size = std::fs::metadata(&p).unwrap().len();
    std::fs::write(
        repo.join("Release"),
        format!(
            "Origin: {ORIGIN}\nLabel: bp\nSuite: stable\nCodename: bp\n\
             Date: Tue, 01 Dec 2026 00:00:00 UTC\nSHA256:\n {} {size} Packages\n",
            sha256(&p)
        ),
    )
    .unwrap();
}

#[test]
fn supplier_is_the_archive_origin_apt_reports() {
    if !Path::new("/var/lib/apt/lists").is_dir() || !Path::new("/var/lib/dpkg/status").is_file() {
        panic!("this test needs a Debian-family host with apt lists (apt-get update)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    archive(&repo);
    let lists = root.join("var/lib/apt/lists");
    let dpkg = root.join("var/lib/dpkg");
    for d in [
        &lists.join("partial"),
        &dpkg.join("info"),
        &dpkg.join("updates"),
        &root.join("etc"),
    ] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::copy("/var/lib/dpkg/status", dpkg.join("status")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        std::fs::read("/etc/os-release").unwrap(),
    )
    .unwrap();
    // apt-get writes the local archive's lists (named, and its Release
    // kept, as apt does).
    let parts = tmp.path().join("sources.list.d");
    std::fs::create_dir_all(&parts).unwrap();
    for e in std::fs::read_dir("/etc/apt/sources.list.d").unwrap() {
        let e = e.unwrap();
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n.ends_with(".list") || n.ends_with(".sources") {
            std::fs::copy(e.path(), parts.join(&*n)).unwrap();
        }
    }
    let local = tmp.path().join("local.list");
    std::fs::write(
        &local,
        format!("deb [trusted=yes] file:{} ./\n", repo.display()),
    )
    .unwrap();
    let apt = |cmd: &str| {
        let mut c = Command::new(cmd);
        c.arg("-o")
            .arg(format!("Dir::State::Lists={}", lists.display()))
            .arg("-o")
            .arg(format!(
                "Dir::State::status={}",
                dpkg.join("status").display()
            ))
            .args([
                "-o",
                "Dir::Cache::pkgcache=",
                "-o",
                "Dir::Cache::srcpkgcache=",
            ]);
        c
    };
    run(apt("apt-get")
        .arg("-o")
        .arg(format!("Dir::Etc::sourcelist={}", local.display()))
        .args(["-o", "Dir::Etc::sourceparts=-", "-qq", "update"]));
    // This machine's own lists beside it.
    for e in std::fs::read_dir("/var/lib/apt/lists").unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() && e.file_name() != "lock" {
            std::fs::copy(e.path(), lists.join(e.file_name())).unwrap();
        }
    }
    run(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args(["--force-depends", "--force-not-root", "-i"])
        .arg(repo.join("bp-origin-test_2.0-1_all.deb")));

    let policy = |extra: &[String]| {
        let mut c = apt("apt-cache");
        c.arg("-o")
            .arg(format!("Dir::Etc::sourcelist={}", local.display()))
            .arg("-o")
            .arg(format!("Dir::Etc::sourceparts={}", parts.display()))
            .arg("policy")
            .args(extra);
        run(&mut c)
    };
    // "Package files": each index's line → its release's o= (origin).
    let files = policy(&[]);
    let mut origin_of: HashMap<String, String> = HashMap::new();
    let mut last = None;
    for line in files.lines() {
        let t = line.trim();
        if let Some(rel) = t.strip_prefix("release ") {
            if let (Some(index), Some(o)) = (
                last.take(),
                rel.split(',').find_map(|kv: &str| kv.strip_prefix("o=")),
            ) {
                origin_of.insert(index, o.to_owned());
            }
        } else if let Some((prio, rest)) = t.split_once(' ')
            && prio.parse::<i32>().is_ok()
            && rest.ends_with("Packages")
        {
            last = Some(rest.to_owned());
        }
    }
    assert!(
        origin_of.values().any(|o| o == ORIGIN),
        "apt does not see the local archive: {files}"
    );

    let dbs = read_root(&Root::open(&root).unwrap()).unwrap();
    let packages: Vec<_> = dbs.iter().flat_map(|d| &d.packages).collect();
    let keys: Vec<String> = packages.iter().map(|p| p.db_key.clone()).collect();
    // `apt-cache policy P...`: the index lines under the installed (***)
    // version.
    let out = policy(&keys);
    let mut apt_origin: HashMap<String, Option<String>> = HashMap::new();
    let (mut current, mut in_installed) = (None::<String>, false);
    for line in out.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = Some(line.trim_end_matches(':').to_owned());
            in_installed = false;
            continue;
        }
        let t = line.trim();
        if line.starts_with(" *** ") {
            in_installed = true;
            continue;
        }
        if line.starts_with("     ") && !line.starts_with("        ") {
            in_installed = false;
            continue;
        }
        if in_installed
            && let Some((_, index)) = t.split_once(' ')
            && let (Some(c), Some(o)) = (&current, origin_of.get(index))
        {
            apt_origin.entry(c.clone()).or_insert(Some(o.clone()));
        }
    }
    let source = |p: &bakeproof_pkgdb::Package| {
        p.properties
            .iter()
            .find(|(k, _)| k == "deb:origin-source")
            .map(|(_, v)| v.clone())
    };
    let (mut from_lists, mut inferred) = (0, 0);
    for p in &packages {
        // apt-cache prints a multi-arch package under its bare name when
        // the architecture is the native one.
        let name = p.db_key.split(':').next().unwrap();
        let apt = apt_origin
            .get(&p.db_key)
            .or_else(|| apt_origin.get(name))
            .cloned()
            .flatten();
        match apt {
            Some(o) => {
                from_lists += 1;
                assert_eq!(p.supplier.as_deref(), Some(o.as_str()), "{}", p.db_key);
                assert_eq!(source(p).as_deref(), Some("apt-lists"), "{}", p.db_key);
            }
            None => {
                inferred += 1;
                assert_eq!(source(p).as_deref(), Some("os-release"), "{}", p.db_key);
            }
        }
    }
    let ours = packages
        .iter()
        .find(|p| p.name == "bp-origin-test")
        .expect("the package dpkg installed");
    assert_eq!(ours.supplier.as_deref(), Some(ORIGIN));
    assert_eq!(
        ours.author.as_deref(),
        Some("Someone Else <someone@example.org>")
    );
    assert!(from_lists > 50, "{from_lists} packages placed by apt");
    eprintln!("{from_lists} packages in an archive, {inferred} inferred from os-release");
}
