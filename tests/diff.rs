//! `bakeproof diff`: version order against real rpm and dpkg, diffs of
//! fixture roots changed with real rpm tooling, interop with syft 1.18.1,
//! and the JSON output against `schemas/diff.schema.json`.

mod common;

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_pkgdb::version::{dpkg_version_cmp, parse_dpkg_version, rpm_evr_str_cmp, rpmvercmp};
use common::run::{bakeproof, extract, fixture, scan_to_json};
use common::schema::{repo_root, syft};
use serde_json::Value;

// ------------------------------------------------------------ the corpus --

/// xorshift64*: a fixed, dependency-free generator (the corpus is the same
/// on every run).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// rpm EVR strings: epochs, tildes, carets, letters vs digits, leading
/// zeros, separators, missing and present releases.
fn rpm_corpus() -> Vec<(String, String)> {
    let tokens = [
        "0",
        "1",
        "2",
        "9",
        "10",
        "01",
        "001",
        "00",
        "a",
        "b",
        "z",
        "A",
        "Z",
        "rc",
        "rc1",
        "beta",
        "p1",
        "p10",
        ".",
        ".",
        ".",
        "_",
        "+",
        "~",
        "~",
        "^",
        "^",
        "~rc1",
        "^git1",
        "^20240101",
        "1a",
        "a1",
        "..",
    ];
    let mut rng = Rng(0x5eed_0001);
    let gen_one = |rng: &mut Rng| {
        let mut s = String::new();
        match rng.next() % 6 {
            0 => s.push_str("1:"),
            1 => s.push_str(rng.pick(&["0:", "2:", "10:", "01:"])),
            _ => {}
        }
        let n = 1 + rng.next() % 4;
        for _ in 0..n {
            s.push_str(rng.pick(&tokens));
        }
        if rng.next().is_multiple_of(2) {
            s.push('-');
            let m = 1 + rng.next() % 2;
            for _ in 0..m {
                s.push_str(rng.pick(&tokens));
            }
        }
        s
    };
    let mut out = Vec::new();
    // hand-picked edge cases, then generated pairs (half of them sharing a
    // prefix so that the interesting suffix rules are reached)
    for (a, b) in [
        ("1.0", "1.0"),
        ("1.0~rc1", "1.0"),
        ("1.0^", "1.0"),
        ("1.0^git1", "1.0.1"),
        ("1.0^git1~pre", "1.0^git1"),
        ("1.0~rc1^git1", "1.0~rc1"),
        ("001", "1"),
        ("1:1.0", "2.0"),
        ("0:1.0", "1.0"),
        ("1.0-1", "1.0"),
        ("1.0-2", "1.0-10"),
        ("a", "1"),
        ("1.0", "1_0"),
        ("5.5p1", "5.5p10"),
        ("10xyz", "10.1xyz"),
        ("1.0aa", "1.0a"),
        ("~", "~~"),
        ("^", "~"),
    ] {
        out.push((a.to_owned(), b.to_owned()));
    }
    for i in 0..500 {
        let a = gen_one(&mut rng);
        let b = if i % 2 == 0 {
            let base = a.clone();
            let mut b = base[..base.len() / 2].to_owned();
            b.push_str(rng.pick(&tokens));
            b
        } else {
            gen_one(&mut rng)
        };
        out.push((a, b));
    }
    out.retain(|(a, b)| !a.is_empty() && !b.is_empty());
    out
}

/// dpkg versions: epochs, tildes, letters vs digits vs punctuation,
/// leading zeros, revisions (some with hyphens in the upstream part), and a
/// few strings dpkg refuses.
fn dpkg_corpus() -> Vec<(String, String)> {
    let up = [
        "0", "1", "2", "9", "10", "01", "00", "a", "b", "z", "A", "Z", "rc", ".", ".", "+", "~",
        "~", "~rc1", "+dfsg", "+b1", "1a", "a1", ":", "-",
    ];
    let rev = [
        "0", "1", "2", "10", "01", "a", "b", "deb12u1", ".", "+", "~", "~bpo1", "+b2", "ubuntu1",
    ];
    let mut rng = Rng(0x5eed_0002);
    let gen_one = |rng: &mut Rng| {
        let mut s = String::new();
        match rng.next() % 6 {
            0 => s.push_str("1:"),
            1 => s.push_str(rng.pick(&["0:", "2:", "10:", "00:"])),
            _ => {}
        }
        s.push_str(rng.pick(&["0", "1", "2", "10", "01"]));
        for _ in 0..rng.next() % 4 {
            s.push_str(rng.pick(&up));
        }
        if rng.next().is_multiple_of(2) {
            s.push('-');
            for _ in 0..1 + rng.next() % 2 {
                s.push_str(rng.pick(&rev));
            }
        }
        s
    };
    let mut out: Vec<(String, String)> = [
        ("1.0", "1.0"),
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0+b1"),
        ("1.0a", "1.0+"),
        ("1:0.1", "2.0"),
        ("1.0-1", "1.0-1~bpo1"),
        ("1.0-1", "1.0"),
        ("00:1", "1"),
        ("1.01", "1.1"),
        ("2.66-4+deb12u2+b2", "2.66-4+deb12u2"),
        ("1.0-1-1", "1.0-1"),
        ("1:", "1"),
        ("a:1", "1"),
        ("1.0-", "1.0"),
        ("1.0 1", "1.0"),
        ("-1", "1"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    for i in 0..500 {
        let a = gen_one(&mut rng);
        let b = if i % 2 == 0 {
            let mut b = a[..a.len() / 2].to_owned();
            b.push_str(rng.pick(&up));
            b
        } else {
            gen_one(&mut rng)
        };
        out.push((a, b));
    }
    out
}

fn ord_of(s: &str) -> Ordering {
    match s.trim() {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        x => panic!("unexpected comparison result {x:?}"),
    }
}

#[test]
fn rpm_order_agrees_with_real_rpm_on_a_generated_corpus() {
    let corpus = rpm_corpus();
    assert!(corpus.len() >= 400);
    for (a, b) in &corpus {
        assert!(
            !a.contains(['"', '\\', '%']) && !b.contains(['"', '\\', '%']),
            "corpus must not need Lua/macro escaping"
        );
    }
    // One rpm process for the whole corpus: a Lua script printing every
    // rpm.vercmp result (rpm 4.18: parses [epoch:]version[-release]).
    let t = tempfile::tempdir().unwrap();
    let script = t.path().join("vercmp.lua");
    let mut f = std::fs::File::create(&script).unwrap();
    for (a, b) in &corpus {
        // rpm's Lua `print` appends to the macro output without a newline
        writeln!(f, "print(rpm.vercmp(\"{a}\", \"{b}\") .. \"\\n\")").unwrap();
    }
    drop(f);
    let o = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile(\"{}\")}}", script.display()))
        .output()
        .expect("Debian's `rpm` is needed (tests/run-all.sh installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), corpus.len(), "one rpm answer per pair");
    let mut bad = Vec::new();
    for ((a, b), l) in corpus.iter().zip(lines) {
        let want = ord_of(l);
        if rpm_evr_str_cmp(a, b) != want {
            bad.push(format!("rpm_evr_str_cmp({a:?}, {b:?}) != rpm's {want:?}"));
        }
        // without an epoch or release, rpm.vercmp is rpmvercmp itself
        if !a.contains([':', '-']) && !b.contains([':', '-']) && rpmvercmp(a, b) != want {
            bad.push(format!("rpmvercmp({a:?}, {b:?}) != rpm's {want:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn dpkg_order_agrees_with_real_dpkg_on_a_generated_corpus() {
    let corpus = dpkg_corpus();
    assert!(corpus.len() >= 400);
    let t = tempfile::tempdir().unwrap();
    let pairs = t.path().join("pairs");
    let mut f = std::fs::File::create(&pairs).unwrap();
    for (a, b) in &corpus {
        assert!(!a.contains(['\t', '\n']) && !b.contains(['\t', '\n']));
        writeln!(f, "{a}\t{b}").unwrap();
    }
    drop(f);
    // One shell for the whole corpus; E = dpkg refused a version.
    let o = Command::new("sh")
        .arg("-c")
        .arg(
            r#"while IFS="$(printf '\t')" read -r a b; do
                 dpkg --compare-versions "$a" lt "$b" 2>/dev/null; r=$?
                 case $r in
                   0) echo -1 ;;
                   1) if dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0; else echo 1; fi ;;
                   *) echo E ;;
                 esac
               done < "$1""#,
        )
        .arg("sh")
        .arg(&pairs)
        .output()
        .expect("run sh");
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), corpus.len(), "one dpkg answer per pair");
    let mut bad = Vec::new();
    let mut refused = 0;
    for ((a, b), l) in corpus.iter().zip(lines) {
        if l == "E" {
            refused += 1;
            if parse_dpkg_version(a).is_some() && parse_dpkg_version(b).is_some() {
                bad.push(format!("dpkg refused {a:?} / {b:?}, we accept both"));
            }
            continue;
        }
        if parse_dpkg_version(a).is_none() || parse_dpkg_version(b).is_none() {
            bad.push(format!("dpkg accepted {a:?} / {b:?}, we refuse one"));
        }
        let want = ord_of(l);
        if dpkg_version_cmp(a, b) != want {
            bad.push(format!("dpkg_version_cmp({a:?}, {b:?}) != dpkg's {want:?}"));
        }
    }
    assert!(refused >= 4, "the refused cases are exercised ({refused})");
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

// ------------------------------------------------------------- real roots --

fn diff_json(old: &Path, new: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "diff".as_ref(),
        old.as_os_str(),
        new.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let o = bakeproof(&args);
    let code = o.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "diff output is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    validate_diff(&doc);
    (code, doc)
}

fn validate_diff(doc: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/diff.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .offline()
        .build(&schema)
        .expect("schemas/diff.schema.json compiles");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "diff JSON vs schema: {errors:#?}");
}

/// `(name, from, to)` of one package list.
fn changes(doc: &Value, kind: &str) -> BTreeSet<(String, Option<String>, Option<String>)> {
    doc["packages"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["from"].as_str().map(str::to_owned),
                e["to"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn set(
    items: &[(&str, Option<&str>, Option<&str>)],
) -> BTreeSet<(String, Option<String>, Option<String>)> {
    items
        .iter()
        .map(|(n, f, t)| ((*n).to_owned(), f.map(str::to_owned), t.map(str::to_owned)))
        .collect()
}

fn paths(doc: &Value, kind: &str) -> BTreeSet<String> {
    doc["files"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Builds `spec` (a fixture spec edited by `edit`) with real rpmbuild; the
/// path of the binary rpm.
fn rpmbuild(work: &Path, spec: &str, edit: impl Fn(String) -> String, host: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture(&format!("rpmroot/specs/{spec}"))).unwrap();
    let top = work.join(format!("top-{spec}-{host}"));
    std::fs::create_dir_all(&top).unwrap();
    let path = top.join(spec);
    std::fs::write(&path, edit(text)).unwrap();
    let o = Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", &format!("_buildhost {host}")])
        .args(["--define", "_build_id_links none"])
        .arg(&path)
        .output()
        .expect("Debian's rpmbuild is needed (package rpm; tests/run-all.sh installs it)");
    assert!(
        o.status.success(),
        "rpmbuild {spec}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = top.join("RPMS/noarch");
    let rpms: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rpms.len(), 1, "{rpms:?}");
    rpms[0].clone()
}

fn rpm_root(root: &Path, args: &[&str], rpms: &[&Path]) {
    let o = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/var/lib/rpm"])
        .args(args)
        .args(rpms)
        .output()
        .expect("run rpm");
    assert!(
        o.status.success(),
        "rpm {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn set_line(text: String, tag: &str, value: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with(&format!("{tag}:")) {
                format!("{tag}: {value}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The rpm fixture root, scanned; then removed / installed / upgraded /
/// downgraded / rebuilt packages made with real rpmbuild and rpm; scanned
/// again. The diff reports exactly those changes.
#[test]
fn rpm_root_changed_with_rpm_diffs_to_exactly_those_changes() {
    let root = extract("rpmroot/clean.tar.gz");
    let r = root.path();
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a.json");
    let (code, _, stderr) = scan_to_json(r, &a, &[]);
    assert_eq!(code, 0, "{stderr}");

    let lib = rpmbuild(
        work.path(),
        "fx-lib.spec",
        |s| set_line(set_line(s, "Version", "2.1"), "License", "Apache-2.0"),
        "a.invalid",
    );
    let tools = rpmbuild(
        work.path(),
        "fx-tools.spec",
        |s| set_line(s, "Version", "2.0"),
        "a.invalid",
    );
    let base = rpmbuild(work.path(), "fx-base.spec", |s| s, "rebuilt.invalid");
    let extra = rpmbuild(
        work.path(),
        "fx-docs.spec",
        |s| set_line(set_line(s, "Name", "fx-extra"), "Requires", "fx-base"),
        "a.invalid",
    );
    rpm_root(r, &["-e", "--nodeps", "--noscripts", "fx-docs"], &[]);
    rpm_root(
        r,
        &[
            "-U",
            "--oldpackage",
            "--replacepkgs",
            "--nodeps",
            "--noscripts",
        ],
        &[&lib, &tools, &base],
    );
    rpm_root(r, &["-i", "--nodeps", "--noscripts"], &[&extra]);
    // a mode change and a new file no package owns
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        r.join("usr/share/fx-data/big.bin"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(r.join("opt-new.txt"), b"nobody owns me\n").unwrap();

    let b = work.path().join("b.json");
    let (code, _, stderr) = scan_to_json(r, &b, &[]);
    assert_eq!(code, 0, "{stderr}");

    let (code, d) = diff_json(&a, &b, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        changes(&d, "added"),
        set(&[("fx-extra", None, Some("0:0.1-1"))])
    );
    assert_eq!(
        changes(&d, "removed"),
        set(&[("fx-docs", Some("0:0.1-1"), None)])
    );
    assert_eq!(
        changes(&d, "upgraded"),
        set(&[("fx-lib", Some("2.0-1"), Some("2.1-1"))])
    );
    assert_eq!(
        changes(&d, "downgraded"),
        set(&[("fx-tools", Some("2.1~rc1-1"), Some("2.0-1"))])
    );
    assert_eq!(
        changes(&d, "rebuilt"),
        set(&[("fx-base", Some("3:1.0-1"), Some("3:1.0-1"))])
    );
    assert_eq!(d["packages"]["rebuilt"][0]["evidence"], "rpm:sha256header");
    let lic = &d["packages"]["license_changed"];
    assert_eq!(lic.as_array().unwrap().len(), 1, "{lic}");
    assert_eq!(lic[0]["name"], "fx-lib");
    assert_eq!(lic[0]["before"][0], "MIT");
    assert_eq!(lic[0]["after"][0], "Apache-2.0");
    for e in d["packages"]["upgraded"].as_array().unwrap() {
        assert!(
            e["purl"]
                .as_str()
                .unwrap()
                .starts_with("pkg:rpm/fx-lib@2.1-1")
        );
    }
    // files
    assert_eq!(d["files"]["compared"], true);
    let added = paths(&d, "added");
    let removed = paths(&d, "removed");
    assert!(
        added.contains("/usr/share/doc/fx-extra-0.1/README"),
        "{added:?}"
    );
    assert!(added.contains("/opt-new.txt"));
    assert!(
        removed.contains("/usr/share/doc/fx-docs-0.1/README"),
        "{removed:?}"
    );
    assert!(!removed.iter().any(|p| p.starts_with("/usr/share/fx-data")));
    assert_eq!(
        paths(&d, "mode_changed"),
        BTreeSet::from(["/usr/share/fx-data/big.bin".to_owned()])
    );
    let unowned_added: Vec<&Value> = d["files"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["unowned"] == true && !f["path"].as_str().unwrap().starts_with("/var/lib/rpm")
        })
        .collect();
    assert_eq!(unowned_added.len(), 1, "{unowned_added:?}");
    // the rpm database changed; no package file content did (same sources)
    for m in paths(&d, "modified") {
        assert!(m.starts_with("/var/lib/rpm/"), "modified {m}");
    }

    // --fail-on: exit 1 only for kinds that occurred
    for (kinds, want) in [
        ("downgraded", 1),
        ("added,removed", 1),
        ("rebuilt", 1),
        ("license", 1),
        ("supplier", 0),
        ("mode-changes", 1),
        ("unowned-files", 1),
    ] {
        let (code, _) = diff_json(&a, &b, &["--fail-on", kinds]);
        assert_eq!(code, want, "--fail-on {kinds}");
    }
    let (code, _) = diff_json(&a, &a, &["--fail-on", "all"]);
    assert_eq!(code, 0, "no changes against itself");
    // exit 1 says which of the kinds asked for occurred, with the counts
    // the JSON summary gives
    let (_, doc) = diff_json(&a, &b, &[]);
    let o = bakeproof(&[
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--fail-on".as_ref(),
        "supplier,added,removed".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("--fail-on matched: "))
        .unwrap_or_else(|| panic!("no --fail-on line: {err}"));
    for (kind, key) in [("added", "added"), ("removed", "removed")] {
        let n = doc["summary"][key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {doc}"));
        if n > 0 {
            assert!(line.contains(&format!("{kind} ({n})")), "{kind}: {line}");
        } else {
            assert!(!line.contains(kind), "{kind}: {line}");
        }
    }
    assert!(!line.contains("supplier"), "{line}");

    // text and Markdown
    let o = bakeproof(&["diff".as_ref(), a.as_os_str(), b.as_os_str()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("fx-tools 2.1~rc1-1 -> 2.0-1"), "{text}");
    assert!(!text.contains('\x1b'), "no colour without a terminal");
    let o = bakeproof(&[
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--format".as_ref(),
        "markdown".as_ref(),
    ]);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("### Downgraded packages (1)"), "{md}");
    assert!(
        md.contains("| `fx-lib` | noarch | `2.0-1` | `2.1-1` |"),
        "{md}"
    );
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let t = tempfile::tempdir().unwrap();
    let spdx = t.path().join("spdx.json");
    std::fs::write(&spdx, br#"{"spdxVersion": "SPDX-2.3"}"#).unwrap();
    let junk = t.path().join("junk.json");
    std::fs::write(&junk, b"not json").unwrap();
    let missing = t.path().join("missing.json");
    for (old, needle) in [
        (spdx.as_os_str(), "not a CycloneDX JSON document"),
        (junk.as_os_str(), "not JSON"),
        (missing.as_os_str(), "cannot read"),
        (
            "eu-west-1:ami-0123456789abcdef0".as_ref(),
            "needs --store URL and --key PUB",
        ),
    ] {
        let o = bakeproof(&["diff".as_ref(), old, spdx.as_os_str()]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let o = bakeproof(&[
        "diff".as_ref(),
        spdx.as_os_str(),
        spdx.as_os_str(),
        "--fail-on".as_ref(),
        "bogus".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

// ---------------------------------------------------------------- interop --

#[test]
fn syft_and_bakeproof_sboms_of_the_same_root_have_no_package_changes() {
    let syft = syft();
    for tarball in ["rpmroot/clean.tar.gz", "dpkgroot/clean.tar.gz"] {
        let root = extract(tarball);
        let work = tempfile::tempdir().unwrap();
        let ours = work.path().join("ours.json");
        let (code, _, stderr) = scan_to_json(root.path(), &ours, &[]);
        assert_eq!(code, 0, "{stderr}");
        let theirs = work.path().join("syft.json");
        let o = Command::new(&syft)
            .arg(format!("dir:{}", root.path().display()))
            .arg("-o")
            .arg(format!("cyclonedx-json={}", theirs.display()))
            .arg("-q")
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "syft: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for (x, y) in [(&ours, &theirs), (&theirs, &ours)] {
            let (code, d) = diff_json(
                x,
                y,
                &["--fail-on", "added,removed,upgraded,downgraded,rebuilt"],
            );
            for k in ["added", "removed", "upgraded", "downgraded", "rebuilt"] {
                assert_eq!(d["packages"][k], serde_json::json!([]), "{tarball}: {k}");
            }
            assert_eq!(code, 0, "{tarball}");
            assert!(
                d["summary"]["old"]["packages"].as_u64().unwrap() >= 5,
                "{tarball}: {d}"
            );
        }
    }
}

use common::packages::{dpkg_deb, dpkg_in_root as dpkg_root};

/// The dpkg fixture root plus packages built here with dpkg-deb; then a
/// purge, an install, an upgrade, a downgrade, a same-version rebuild and a
/// maintainer change, all with real dpkg. The diff reports exactly those.
#[test]
fn dpkg_root_changed_with_dpkg_diffs_to_exactly_those_changes() {
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    let w = tempfile::tempdir().unwrap();
    let wp = w.path();
    let before = [
        dpkg_deb(wp, "fx-up", "1.0-1", "A <a@example.invalid>", "one"),
        dpkg_deb(wp, "fx-down", "2.0-1", "A <a@example.invalid>", "one"),
        dpkg_deb(wp, "fx-rb", "1.0-1", "A <a@example.invalid>", "one"),
        dpkg_deb(wp, "fx-sup", "1.0", "A <a@example.invalid>", "one"),
    ];
    dpkg_root(
        r,
        &["-i"],
        &before.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    );
    let a = wp.join("a.json");
    let (code, _, stderr) = scan_to_json(r, &a, &[]);
    assert_eq!(code, 0, "{stderr}");

    let after = [
        dpkg_deb(wp, "fx-up", "1.0-1+b1", "A <a@example.invalid>", "one"),
        dpkg_deb(wp, "fx-down", "2.0~rc1-1", "A <a@example.invalid>", "one"),
        dpkg_deb(wp, "fx-rb", "1.0-1", "A <a@example.invalid>", "two"),
        dpkg_deb(wp, "fx-sup", "1.0", "B <b@example.invalid>", "one"),
        dpkg_deb(wp, "fx-new", "0.1", "A <a@example.invalid>", "one"),
    ];
    dpkg_root(r, &["--purge", "netbase"], &[]);
    dpkg_root(
        r,
        &["-i"],
        &after.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    );
    let b = wp.join("b.json");
    let (code, _, stderr) = scan_to_json(r, &b, &[]);
    assert_eq!(code, 0, "{stderr}");

    let (code, d) = diff_json(&a, &b, &[]);
    assert_eq!(code, 0);
    assert_eq!(changes(&d, "added"), set(&[("fx-new", None, Some("0.1"))]));
    assert_eq!(
        changes(&d, "removed"),
        set(&[("netbase", Some("6.4"), None)])
    );
    assert_eq!(
        changes(&d, "upgraded"),
        set(&[("fx-up", Some("1.0-1"), Some("1.0-1+b1"))])
    );
    assert_eq!(
        changes(&d, "downgraded"),
        set(&[("fx-down", Some("2.0-1"), Some("2.0~rc1-1"))])
    );
    assert_eq!(
        changes(&d, "rebuilt"),
        set(&[("fx-rb", Some("1.0-1"), Some("1.0-1"))])
    );
    let rb = &d["packages"]["rebuilt"][0];
    assert_eq!(rb["evidence"], "files");
    assert_eq!(
        rb["paths"],
        serde_json::json!(["/usr/share/fx-rb/data.txt"])
    );
    assert!(
        rb["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/fx-rb@1.0-1")
    );
    // dpkg's Maintainer is the author; the distributor (the supplier) is
    // the same on both sides.
    assert_eq!(d["packages"]["supplier_changed"], serde_json::json!([]));
    let sup = d["packages"]["author_changed"].as_array().unwrap();
    assert_eq!(sup.len(), 1, "{sup:?}");
    assert_eq!(sup[0]["name"], "fx-sup");
    assert_eq!(sup[0]["before"][0], "A <a@example.invalid>");
    assert_eq!(sup[0]["after"][0], "B <b@example.invalid>");
    assert_eq!(d["packages"]["license_changed"], serde_json::json!([]));
    let removed = paths(&d, "removed");
    assert!(removed.contains("/etc/services"), "{removed:?}");
    assert!(paths(&d, "added").contains("/usr/share/fx-new/data.txt"));
    let modified = paths(&d, "modified");
    assert!(
        modified.contains("/usr/share/fx-rb/data.txt"),
        "{modified:?}"
    );
    assert!(!modified.contains("/usr/share/fx-sup/data.txt"));
}

// ------------------------------------------------------------ seal state --

/// `bakeproof ARGS...` with a pinned `SOURCE_DATE_EPOCH`, the test key
/// password and no store or IMDS from the environment.
fn bp(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(common::run::bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("COSIGN_PASSWORD", "test-password")
        .env_remove("BAKEPROOF_STORE")
        .env_remove("NO_COLOR")
        .output()
        .expect("run bakeproof")
}

fn bp_ok(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let o = bp(args);
    assert!(
        o.status.success(),
        "{args:?}: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Two images built at test time from the clean dpkg fixture root:
///
/// * old: sealed by `seal check`'s rules but with two warnings: a build log
///   `/var/log/build.log` and a leftover `/tmp/old-scratch`;
/// * new: no build log, a leftover `/tmp/new-scratch`, a non-empty
///   `/etc/machine-id` and an ed25519 SSH host key made by real `ssh-keygen`.
///
/// Each with its SBOM (`scan`) and seal report (`seal check --format json`,
/// whose exit code says unsealed = 1 for the new one).
struct SealPair {
    _roots: (tempfile::TempDir, tempfile::TempDir),
    work: tempfile::TempDir,
    old_root: PathBuf,
    new_root: PathBuf,
}

impl SealPair {
    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

fn seal_pair() -> SealPair {
    let (old_dir, new_dir) = (
        extract("dpkgroot/clean.tar.gz"),
        extract("dpkgroot/clean.tar.gz"),
    );
    let (old_root, new_root) = (old_dir.path().to_path_buf(), new_dir.path().to_path_buf());
    std::fs::create_dir_all(old_root.join("var/log")).unwrap();
    std::fs::write(old_root.join("var/log/build.log"), "packer: provisioning\n").unwrap();
    std::fs::write(old_root.join("tmp/old-scratch"), "x\n").unwrap();
    std::fs::write(new_root.join("tmp/new-scratch"), "y\n").unwrap();
    std::fs::write(
        new_root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    std::fs::create_dir_all(new_root.join("etc/ssh")).unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "root@build", "-f"])
        .arg(new_root.join("etc/ssh/ssh_host_ed25519_key"))
        .status()
        .expect("run ssh-keygen (openssh-client)");
    assert!(st.success(), "ssh-keygen failed");
    let work = tempfile::tempdir().unwrap();
    for (root, name, want_exit) in [(&old_root, "old", 0), (&new_root, "new", 1)] {
        let sbom = work.path().join(format!("{name}.cdx.json"));
        bp_ok(&[
            "scan".as_ref(),
            root.as_os_str(),
            "-o".as_ref(),
            sbom.as_os_str(),
            "-q".as_ref(),
        ]);
        let o = bp(&[
            "seal".as_ref(),
            "check".as_ref(),
            root.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(want_exit),
            "seal check {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::write(work.path().join(format!("{name}.seal.json")), &o.stdout).unwrap();
    }
    SealPair {
        _roots: (old_dir, new_dir),
        work,
        old_root,
        new_root,
    }
}

/// The `seal` object expected from old → new: derived from what
/// [`seal_pair`] put into the roots and the check table of docs/seal.md.
fn expected_seal_changes() -> Value {
    serde_json::json!({
        "compared": true,
        "reason": null,
        "verdict": {"from": "sealed", "to": "unsealed"},
        "changes": [
            {"check": "machine-id", "from": "pass", "to": "fail", "direction": "worse",
             "findings_added": [{"path": "/etc/machine-id", "kind": "machine-id", "severity": "fail"}],
             "findings_removed": []},
            {"check": "ssh-host-keys", "from": "pass", "to": "fail", "direction": "worse",
             "findings_added": [
                {"path": "/etc/ssh/ssh_host_ed25519_key", "kind": "host-private-key", "severity": "fail"},
                {"path": "/etc/ssh/ssh_host_ed25519_key.pub", "kind": "host-public-key", "severity": "fail"}],
             "findings_removed": []},
            {"check": "logs", "from": "warn", "to": "pass", "direction": "better",
             "findings_added": [],
             "findings_removed": [{"path": "/var/log/build.log", "kind": "log", "severity": "warn"}]},
            {"check": "tmp", "from": "warn", "to": "warn", "direction": "same",
             "findings_added": [{"path": "/tmp/new-scratch", "kind": "tmp", "severity": "warn"}],
             "findings_removed": [{"path": "/tmp/old-scratch", "kind": "tmp", "severity": "warn"}]}
        ]
    })
}

/// Every base64 line of the OpenSSH private key in `root`: none may appear
/// in any diff output.
fn private_key_lines(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join("etc/ssh/ssh_host_ed25519_key"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(str::to_owned)
        .collect()
}

fn os(s: &Path) -> &std::ffi::OsStr {
    s.as_os_str()
}

#[test]
fn seal_changes_between_two_sealed_reports_are_exactly_what_was_baked_in() {
    let sp = seal_pair();
    let (old, new) = (sp.path("old.cdx.json"), sp.path("new.cdx.json"));
    let (old_seal, new_seal) = (sp.path("old.seal.json"), sp.path("new.seal.json"));
    let seal_args = |o: &Path, n: &Path| -> Vec<String> {
        vec![
            "--old-seal".into(),
            o.display().to_string(),
            "--new-seal".into(),
            n.display().to_string(),
        ]
    };
    let args = seal_args(&old_seal, &new_seal);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, doc) = diff_json(&old, &new, &args);
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(code, 0, "no --fail-on: exit 0");
    assert_eq!(doc["seal"], expected_seal_changes(), "{:#}", doc["seal"]);
    let s = &doc["summary"];
    assert_eq!(
        (
            &s["seal_worse"],
            &s["seal_better"],
            &s["seal_findings_added"],
            &s["seal_findings_removed"],
            &s["changed"]
        ),
        (
            &Value::from(2),
            &Value::from(1),
            &Value::from(4),
            &Value::from(2),
            &Value::from(true)
        )
    );
    // the SBOM side of the same diff: no package changes, the baked files
    for k in ["added", "removed", "upgraded", "downgraded", "rebuilt"] {
        assert_eq!(s[k], 0, "{k}");
    }
    for p in [
        "/etc/machine-id",
        "/etc/ssh/ssh_host_ed25519_key",
        "/tmp/new-scratch",
    ] {
        assert!(paths(&doc, "added").contains(p), "{p}");
    }

    // --fail-on seal: a check got worse (exit 1, both ways: backwards the
    // build log comes back, logs pass -> warn). A third report of the new
    // root with one more leftover in /tmp: tmp stays warn, one finding is
    // added: `seal-findings` fails, `seal` does not; backwards neither.
    std::fs::write(sp.new_root.join("tmp/third-scratch"), "z\n").unwrap();
    let o = bp(&[
        "seal".as_ref(),
        "check".as_ref(),
        os(&sp.new_root),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let third_seal = sp.path("third.seal.json");
    std::fs::write(&third_seal, &o.stdout).unwrap();
    // A seal report is bound to the tree it checked: the third report goes
    // with a scan of the same (changed) root.
    let third = sp.path("third.cdx.json");
    let o = bp(&[
        "scan".as_ref(),
        os(&sp.new_root),
        "-o".as_ref(),
        os(&third),
        "-q".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rev = seal_args(&new_seal, &old_seal);
    let rev: Vec<&str> = rev.iter().map(String::as_str).collect();
    let more = seal_args(&new_seal, &third_seal);
    let more: Vec<&str> = more.iter().map(String::as_str).collect();
    let less = seal_args(&third_seal, &new_seal);
    let less: Vec<&str> = less.iter().map(String::as_str).collect();
    for (o, n, seals, kind, want) in [
        (&old, &new, &args, "seal", 1),
        (&new, &old, &rev, "seal", 1),
        (&old, &new, &args, "seal-findings", 1),
        (&old, &new, &args, "all", 1),
        (&old, &new, &args, "added,removed", 0),
        (&new, &third, &more, "seal", 0),
        (&new, &third, &more, "seal-findings", 1),
        (&third, &new, &less, "seal,seal-findings", 0),
    ] {
        let mut a = seals.clone();
        a.extend(["--fail-on", kind]);
        let (code, doc) = diff_json(o, n, &a);
        assert_eq!(code, want, "--fail-on {kind} {}", doc["seal"]);
    }
    let (_, doc3) = diff_json(&new, &third, &more);
    assert_eq!(
        doc3["seal"]["changes"],
        serde_json::json!([{"check": "tmp", "from": "warn", "to": "warn", "direction": "same",
            "findings_added": [{"path": "/tmp/third-scratch", "kind": "tmp", "severity": "warn"}],
            "findings_removed": []}])
    );
    let (_, doc3) = diff_json(&third, &new, &less);
    assert_eq!(
        doc3["seal"]["changes"][0]["findings_removed"][0]["path"],
        "/tmp/third-scratch"
    );
    let (_, back) = diff_json(&new, &old, &rev);
    assert_eq!(back["seal"]["verdict"]["to"], "sealed");
    let dirs: Vec<(&str, &str)> = back["seal"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap(),
                c["direction"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        dirs,
        [
            ("machine-id", "better"),
            ("ssh-host-keys", "better"),
            ("logs", "worse"),
            ("tmp", "same")
        ]
    );
    // the same report on both sides: compared, nothing changed, exit 0
    let same = seal_args(&new_seal, &new_seal);
    let mut same: Vec<&str> = same.iter().map(String::as_str).collect();
    same.extend(["--fail-on", "seal,seal-findings"]);
    let (code, doc) = diff_json(&new, &new, &same);
    assert_eq!(code, 0);
    assert_eq!(doc["seal"]["compared"], true);
    assert_eq!(doc["seal"]["changes"], serde_json::json!([]));
    assert_eq!(doc["summary"]["changed"], false);

    // text and markdown
    let run_fmt = |fmt: &str| {
        let mut a: Vec<&std::ffi::OsStr> = vec![
            "diff".as_ref(),
            os(&old),
            os(&new),
            "--format".as_ref(),
            fmt.as_ref(),
        ];
        a.extend(args.iter().map(std::ffi::OsStr::new));
        String::from_utf8(bp_ok(&a).stdout).unwrap()
    };
    let text = run_fmt("text");
    for needle in [
        "seal: sealed -> unsealed; 2 checks worse, 1 better, 4 findings added, 2 removed\n",
        "seal checks (4)\n",
        "  ! machine-id pass -> fail\n      + /etc/machine-id [machine-id]\n",
        "  ! ssh-host-keys pass -> fail\n      + /etc/ssh/ssh_host_ed25519_key [host-private-key]\n      + /etc/ssh/ssh_host_ed25519_key.pub [host-public-key]\n",
        "  o logs warn -> pass\n      - /var/log/build.log [log]\n",
        "  ~ tmp warn -> warn\n      + /tmp/new-scratch [tmp]\n      - /tmp/old-scratch [tmp]\n",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    let md = run_fmt("markdown");
    for needle in [
        "| seal checks worse | 2 |",
        "| seal checks better | 1 |",
        "Seal verdict: sealed -> unsealed.",
        "### Seal checks (4)",
        "| `ssh-host-keys` | pass | fail | worse | 2 | 0 |",
        "| `logs` | warn | pass | better | 0 | 1 |",
        "### Seal findings (6)",
        "| `tmp` | removed | `/tmp/old-scratch` | tmp |",
    ] {
        assert!(md.contains(needle), "{needle:?} not in:\n{md}");
    }
    // never a secret: no line of the private host key in any output
    for l in private_key_lines(&sp.new_root) {
        for out in [&text, &md, &json] {
            assert!(!out.contains(&l), "private key material in the output");
        }
    }
    assert!(sp.old_root.join("var/log/build.log").exists());
}

#[test]
fn seal_on_one_side_only_is_not_compared_and_bad_reports_exit_2() {
    let sp = seal_pair();
    let (old, new) = (sp.path("old.cdx.json"), sp.path("new.cdx.json"));
    let new_seal = sp.path("new.seal.json").display().to_string();
    let old_seal = sp.path("old.seal.json").display().to_string();
    for (flag, file, reason) in [
        (
            "--new-seal",
            &new_seal,
            "only the new side has a seal report",
        ),
        (
            "--old-seal",
            &old_seal,
            "only the old side has a seal report",
        ),
    ] {
        let (code, doc) = diff_json(&old, &new, &[flag, file, "--fail-on", "seal,seal-findings"]);
        assert_eq!(code, 0, "nothing compared, nothing to fail on");
        assert_eq!(
            doc["seal"],
            serde_json::json!({"compared": false, "reason": reason, "verdict": null, "changes": []})
        );
        assert_eq!(doc["summary"]["seal_worse"], 0);
    }
    let (_, doc) = diff_json(&old, &new, &[]);
    assert_eq!(doc["seal"]["reason"], "neither side has a seal report");
    let text = String::from_utf8(bp_ok(&["diff".as_ref(), os(&old), os(&new)]).stdout).unwrap();
    assert!(
        text.contains("seal: not compared (neither side has a seal report)"),
        "{text}"
    );

    // an SBOM, a missing file, a future report version: exit 2, file named
    let future = sp.path("future.seal.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&new_seal).unwrap()).unwrap();
    v["report_version"] = 3.into();
    std::fs::write(&future, serde_json::to_vec(&v).unwrap()).unwrap();
    let missing = sp.path("missing.seal.json");
    for (bad, needle) in [
        (old.clone(), "not a bakeproof seal report"),
        (missing.clone(), "cannot read"),
        (future.clone(), "report_version 3 is not supported"),
    ] {
        let o = bp(&[
            "diff".as_ref(),
            os(&old),
            os(&new),
            "--old-seal".as_ref(),
            os(&bad),
            "--new-seal".as_ref(),
            new_seal.as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", bad.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(err.contains(&*bad.display().to_string()), "{err}");
        assert!(o.stdout.is_empty());
    }
}

const REGION: &str = "eu-west-1";

/// `bakeproof attest` of `sbom` + `seal` for `ami` with `key` into `out`,
/// then `publish` into `store`.
fn attest_and_publish(sbom: &Path, seal: &Path, key: &Path, ami: &str, out: &Path, store: &Path) {
    bp_ok(&[
        "attest".as_ref(),
        "--sbom".as_ref(),
        os(sbom),
        "--seal".as_ref(),
        os(seal),
        "--key".as_ref(),
        os(key),
        "--ami".as_ref(),
        format!("{REGION}:{ami}").as_ref(),
        "-o".as_ref(),
        os(out),
        // the new side of the seal pair is unsealed on purpose
        "--allow-unsealed".as_ref(),
    ]);
    bp_ok(&["publish".as_ref(), "--store".as_ref(), os(store), os(out)]);
}

fn index_path(store: &Path, ami: &str) -> PathBuf {
    store.join(format!("amis/{REGION}/{ami}/index.json"))
}

fn seal_predicate_type() -> &'static str {
    "https://bakeproof.dev/seal-report/v1"
}

#[test]
fn seal_attestations_of_amis_in_the_store_are_verified_and_compared() {
    let sp = seal_pair();
    let t = sp.work.path();
    bp_ok(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        os(t),
    ]);
    let (key, key_pub) = (t.join("cosign.key"), t.join("cosign.pub"));
    let store = t.join("store");
    let (a, b, c, d, e) = (
        "ami-0aaaaaaaaaaaaaaaa",
        "ami-0bbbbbbbbbbbbbbbb",
        "ami-0cccccccccccccccc",
        "ami-0dddddddddddddddd",
        "ami-0eeeeeeeeeeeeeeee",
    );
    let (old, new) = (sp.path("old.cdx.json"), sp.path("new.cdx.json"));
    let (old_seal, new_seal) = (sp.path("old.seal.json"), sp.path("new.seal.json"));
    for (ami, sbom, seal) in [
        (a, &old, &old_seal),
        (b, &new, &new_seal),
        (c, &new, &new_seal),
        (d, &new, &new_seal),
        (e, &new, &new_seal),
    ] {
        attest_and_publish(sbom, seal, &key, ami, &t.join(format!("att-{ami}")), &store);
    }
    let index = |ami: &str| -> Value {
        serde_json::from_slice(&std::fs::read(index_path(&store, ami)).unwrap()).unwrap()
    };
    let write_index = |ami: &str, v: &Value| {
        std::fs::write(
            index_path(&store, ami),
            serde_json::to_vec_pretty(v).unwrap(),
        )
        .unwrap()
    };
    // c: its seal entry names e's seal bundle (signed with the right key, for
    // another AMI): listed but does not verify for c
    let e_seal = index(e)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["predicate_type"] == seal_predicate_type())
        .expect("e has a seal entry")
        .clone();
    let mut ic = index(c);
    for x in ic["entries"].as_array_mut().unwrap() {
        if x["predicate_type"] == seal_predicate_type() {
            *x = e_seal.clone();
        }
    }
    write_index(c, &ic);
    // d: no seal attestation listed
    let mut id = index(d);
    id["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|x| x["predicate_type"] != seal_predicate_type());
    assert!(!id["entries"].as_array().unwrap().is_empty());
    write_index(d, &id);

    let run = |x: &str, y: &str, extra: &[&str]| {
        let (x, y) = (format!("{REGION}:{x}"), format!("{REGION}:{y}"));
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "diff".as_ref(),
            x.as_ref(),
            y.as_ref(),
            "--store".as_ref(),
            os(&store),
            "--key".as_ref(),
            os(&key_pub),
            "--format".as_ref(),
            "json".as_ref(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        bp(&args)
    };
    let parse = |o: &std::process::Output| -> Value {
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&o.stderr)));
        validate_diff(&v);
        v
    };
    // both AMIs carry verified seal reports: the same changes as the files
    let o = run(a, b, &["--fail-on", "seal"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(parse(&o)["seal"], expected_seal_changes());
    // a file given with --new-seal replaces the store's, but only a report
    // of b's own tree: the old image's report is refused (exit 2)
    let o = run(
        a,
        b,
        &[
            "--new-seal",
            old_seal.to_str().unwrap(),
            "--fail-on",
            "seal",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the report is of another image"), "{err}");
    assert!(o.stdout.is_empty());
    // d lists no seal attestation: that side has no seal report
    let o = run(a, d, &["--fail-on", "seal"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        parse(&o)["seal"]["reason"],
        "only the old side has a seal report"
    );
    // c lists a seal bundle that does not verify for c: fail-closed, exit 2
    for (x, y) in [(a, c), (c, a)] {
        let o = run(x, y, &[]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{REGION}:{c}: seal attestation"))
                && err.contains("does not verify"),
            "{err}"
        );
        assert!(o.stdout.is_empty());
    }
    // ... unless its seal report comes from a file: then the store's is not used
    let o = run(a, c, &["--new-seal", new_seal.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(parse(&o)["seal"], expected_seal_changes());
}

/// A blob of an AMI's attestations tampered in the store: `diff REGION:AMI`
/// refuses it (exit 2, the store's digest mismatch named), whichever bundle
/// it is, and even when the seal report comes from a file: a store whose
/// content is wrong is never skipped over.
#[test]
fn tampered_blob_of_an_ami_in_the_store_is_refused() {
    let sp = seal_pair();
    let t = sp.work.path();
    bp_ok(&[
        "key".as_ref(),
        "generate".as_ref(),
        "--output-dir".as_ref(),
        os(t),
    ]);
    let (key, key_pub) = (t.join("cosign.key"), t.join("cosign.pub"));
    let (a, b) = ("ami-0aaaaaaaaaaaaaaaa", "ami-0bbbbbbbbbbbbbbbb");
    let (old, new) = (sp.path("old.cdx.json"), sp.path("new.cdx.json"));
    let (old_seal, new_seal) = (sp.path("old.seal.json"), sp.path("new.seal.json"));
    let run = |store: &Path, extra: &[&str]| {
        let (x, y) = (format!("{REGION}:{a}"), format!("{REGION}:{b}"));
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "diff".as_ref(),
            x.as_ref(),
            y.as_ref(),
            "--store".as_ref(),
            os(store),
            "--key".as_ref(),
            os(&key_pub),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        bp(&args)
    };
    let with_seal = ["--new-seal", new_seal.to_str().unwrap()];
    for (what, extra) in [
        ("seal-report", &with_seal[..]),
        ("seal-report", &[][..]),
        ("cyclonedx", &with_seal[..]),
    ] {
        let store = t.join(format!("store-{what}-{}", extra.len()));
        for (ami, sbom, seal) in [(a, &old, &old_seal), (b, &new, &new_seal)] {
            let out = t.join(format!("att-{ami}-{what}-{}", extra.len()));
            attest_and_publish(sbom, seal, &key, ami, &out, &store);
        }
        // intact: the diff runs
        let o = run(&store, extra);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // b's bundle of this kind, one byte flipped (same size)
        let idx: Value =
            serde_json::from_slice(&std::fs::read(index_path(&store, b)).unwrap()).unwrap();
        let sha = idx["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["predicate_type"].as_str().unwrap().contains(what))
            .expect("listed")["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let blob = store.join("blobs/sha256").join(&sha);
        let mut bytes = std::fs::read(&blob).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x20;
        std::fs::write(&blob, bytes).unwrap();
        let o = run(&store, extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what} {extra:?}: {err}");
        assert!(
            err.contains(&format!("{REGION}:{b}"))
                && err.contains(&sha)
                && err.contains("digest mismatch"),
            "{what} {extra:?}: {err}"
        );
        assert!(o.stdout.is_empty());
    }
}

/// The encoding twin: the literal name `a%FF` modified and the byte name
/// `a<0xFF>` (same SBOM text) added with the original bytes are two
/// changes, told apart by `path_encoding`, and two distinct text lines.
#[test]
fn literal_and_byte_twins_are_two_files() {
    use std::os::unix::ffi::OsStrExt;
    let root = extract("dpkgroot/clean.tar.gz");
    let r = root.path();
    let name = |b: &[u8]| r.join(std::ffi::OsStr::from_bytes(b));
    std::fs::write(name(b"usr/lib/a%FF"), b"original\n").unwrap();
    let t = tempfile::tempdir().unwrap();
    let (old, new) = (t.path().join("old.json"), t.path().join("new.json"));
    assert_eq!(scan_to_json(r, &old, &[]).0, 0);
    std::fs::write(name(b"usr/lib/a%FF"), b"tampered\n").unwrap();
    std::fs::write(name(b"usr/lib/a\xff"), b"original\n").unwrap();
    assert_eq!(scan_to_json(r, &new, &[]).0, 0);
    let (_, d) = diff_json(&old, &new, &[]);
    let files = &d["files"];
    assert_eq!(files["modified"].as_array().unwrap().len(), 1, "{files:#}");
    assert_eq!(files["modified"][0]["path"], "/usr/lib/a%FF", "{files:#}");
    assert!(
        files["modified"][0].get("path_encoding").is_none(),
        "{files:#}"
    );
    assert_eq!(files["added"].as_array().unwrap().len(), 1, "{files:#}");
    assert_eq!(files["added"][0]["path"], "/usr/lib/a%FF", "{files:#}");
    assert_eq!(files["added"][0]["path_encoding"], "percent", "{files:#}");
    assert!(files["removed"].as_array().unwrap().is_empty(), "{files:#}");
    let o = bakeproof(&["diff".as_ref(), old.as_os_str(), new.as_os_str()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("+ /usr/lib/a%FF\n"), "{text}");
    assert!(text.contains("M /usr/lib/a%25FF ("), "{text}");
}
