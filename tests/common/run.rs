//! Running the `bakeproof` binary and preparing roots.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
fn workspace() -> PathBuf {
    super::schema::repo_root()
}

/// A finished command for an assertion message: exit code, stdout, stderr.
pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `bakeproof` binary Cargo built for this test.
pub fn bakeproof_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bakeproof"))
}

/// Runs `bakeproof ARGS...` with `SOURCE_DATE_EPOCH` pinned and no TTY.
pub fn bakeproof(args: &[&OsStr]) -> Output {
    Command::new(bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .output()
        .expect("run bakeproof")
}

/// `scan ROOT -o OUT`, as arguments of `bakeproof`.
pub fn scan_args<'a>(root: &'a Path, out: &'a Path) -> [&'a OsStr; 4] {
    [
        "scan".as_ref(),
        root.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]
}

/// `bakeproof scan ROOT -o OUT` → (exit code, parsed SBOM, stderr).
pub fn scan_to_json(root: &Path, out: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args: Vec<&OsStr> = scan_args(root, out).to_vec();
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    let o = bakeproof(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let code = o.status.code().unwrap_or(-1);
    let bytes =
        std::fs::read(out).unwrap_or_else(|e| panic!("no SBOM written ({e}); stderr: {stderr}"));
    let doc = serde_json::from_slice(&bytes).expect("SBOM is JSON");
    (code, doc, stderr)
}

/// `bakeproof scan ROOT -o OUT -q` under GNU time (`/usr/bin/time`, installed
/// by tests/run-all.sh) → (the scan's output, its peak RSS in KiB). `rss` is
/// the file time writes to.
pub fn scan_peak_rss(root: &Path, out: &Path, rss: &Path) -> (Output, u64) {
    let o = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(rss)
        .arg(bakeproof_bin())
        .args(scan_args(root, out))
        .arg("-q")
        .output()
        .expect("/usr/bin/time (Debian package `time`; tests/run-all.sh installs it)");
    let kib = std::fs::read_to_string(rss)
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    (o, kib)
}

/// The SHA-256 of a file (hex) by an independent implementation, coreutils'
/// `sha256sum`.
pub fn sha256_of(path: &Path) -> String {
    let o = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Path of a file under the repository's `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    workspace().join("fixtures").join(rel)
}

/// Extracts a fixture tarball (exact modes, owners, mtimes, hard links)
/// into a new temporary directory.
pub fn extract(tarball: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(fixture(tarball))
        .arg("-C")
        .arg(dir.path())
        .arg("--numeric-owner")
        .status()
        .expect("run tar");
    assert!(st.success(), "tar failed for {tarball}");
    dir
}

/// Components of a CycloneDX document with the given `type`.
pub fn components<'a>(doc: &'a serde_json::Value, ty: &str) -> Vec<&'a serde_json::Value> {
    doc["components"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["type"] == ty).collect())
        .unwrap_or_default()
}

/// All values of property `name` on a component.
pub fn props<'a>(c: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    c["properties"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["name"] == name)
                .filter_map(|p| p["value"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads an oracle file under fixtures/.
pub fn oracle(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `bakeproof:` property in `doc` is documented in docs/formats.md.
pub fn assert_properties_documented(doc: &serde_json::Value) {
    let formats =
        std::fs::read_to_string(workspace().join("docs/formats.md")).expect("docs/formats.md");
    let mut names = std::collections::BTreeSet::new();
    fn collect(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(ps)) = m.get("properties") {
                    for p in ps {
                        if let Some(n) = p["name"].as_str() {
                            out.insert(n.to_owned());
                        }
                    }
                }
                m.values().for_each(|x| collect(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(doc, &mut names);
    let undocumented: Vec<_> = names
        .iter()
        .filter(|n| !formats.contains(&format!("`{n}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/formats.md: {undocumented:?}"
    );
    assert!(!names.is_empty());
}

/// An oracle of a verify command (`expected-verify*.txt`, `expected-Va*.txt`)
/// without its trailing `# exit status N` line.
pub fn verify_oracle(rel: &str) -> String {
    oracle(rel)
        .lines()
        .filter(|l| !l.starts_with("# exit status"))
        .map(|l| format!("{l}\n"))
        .collect()
}
