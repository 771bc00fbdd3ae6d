//! The language ecosystems' version orders against each ecosystem's own
//! implementation, on every pair of a corpus of hand-picked and generated
//! versions:
//!
//! * PEP 440: `packaging.version` (the copy pip vendors) under
//!   `$BAKEPROOF_PYTHON`;
//! * SemVer (npm): npm's own `semver` package, from `npm root -g`;
//! * Maven: `org.apache.maven.artifact.versioning.ComparableVersion` from
//!   the machine's Maven (`/usr/share/maven/lib/maven-artifact-*.jar`),
//!   run by a single-file Java program;
//! * Go: `golang.org/x/mod/semver`, the copy Go's own toolchain vendors
//!   (`$GOROOT/src/cmd/vendor`), built by `go build`.
//!
//! Each oracle prints, for the corpus, one line per version: whether it is
//! valid, then the signs of its comparison with every version.
//! The tests fail (never skip) when a tool is missing.

use std::cmp::Ordering;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bakeproof_ecosystems::version::{go_cmp, is_valid, maven_cmp, pep440_cmp, semver_cmp};

/// xorshift64*: a deterministic corpus, the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn num(&mut self) -> String {
        self.pick(&["0", "1", "2", "3", "9", "10", "11", "01", "100", "20240101"])
            .to_owned()
    }
}

/// Runs `cmd` with the corpus on stdin (one version per line) and parses
/// its answer: per version a line `V|I` then one of `<=>` per version.
fn oracle(mut cmd: Command, corpus: &[String]) -> Vec<(bool, Vec<Ordering>)> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the oracle {cmd:?}: {e}"));
    let mut input = corpus.join("\n");
    input.push('\n');
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle {cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<(bool, Vec<Ordering>)> = text
        .lines()
        .map(|l| {
            let (valid, signs) = l.split_at(1);
            let signs = signs
                .chars()
                .map(|c| match c {
                    '<' => Ordering::Less,
                    '=' => Ordering::Equal,
                    '>' => Ordering::Greater,
                    _ => panic!("oracle wrote {c:?}"),
                })
                .collect::<Vec<_>>();
            assert_eq!(signs.len(), corpus.len(), "oracle row length");
            (valid == "V", signs)
        })
        .collect();
    assert_eq!(rows.len(), corpus.len(), "oracle rows");
    rows
}

/// Compares `ours` with the oracle on every pair of valid versions, and
/// the validity verdicts when `validity` says the oracle's are ours.
fn check(
    name: &str,
    corpus: &[String],
    rows: &[(bool, Vec<Ordering>)],
    ours: fn(&str, &str) -> Ordering,
    valid: fn(&str) -> bool,
) {
    let mut bad = Vec::new();
    let mut pairs = 0usize;
    for (i, (vi, row)) in rows.iter().enumerate() {
        if *vi != valid(&corpus[i]) {
            bad.push(format!(
                "{:?}: oracle says {}, bakeproof {}",
                corpus[i],
                if *vi { "valid" } else { "invalid" },
                if valid(&corpus[i]) {
                    "valid"
                } else {
                    "invalid"
                }
            ));
            continue;
        }
        if !*vi {
            continue;
        }
        for (j, want) in row.iter().enumerate() {
            if !rows[j].0 {
                continue;
            }
            pairs += 1;
            let got = ours(&corpus[i], &corpus[j]);
            if got != *want {
                bad.push(format!(
                    "{:?} vs {:?}: oracle {want:?}, bakeproof {got:?}",
                    corpus[i], corpus[j]
                ));
            }
        }
    }
    assert!(
        pairs > corpus.len() * 20,
        "{name}: too few valid pairs ({pairs}): the corpus is broken"
    );
    assert!(
        bad.is_empty(),
        "{name}: {} disagreements with the ecosystem's own order, e.g.:\n{}",
        bad.len(),
        bad.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| !x.is_empty() && !x.contains(['\n', '\r']) && seen.insert(x.clone()));
    v
}

fn python() -> PathBuf {
    PathBuf::from(
        std::env::var("BAKEPROOF_PYTHON").expect(
            "BAKEPROOF_PYTHON must point at the test venv's python (tests/run-all.sh sets it)",
        ),
    )
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn pep440_agrees_with_packaging() {
    let mut v: Vec<String> = [
        "1.0",
        "1.0.0",
        "1",
        "1.0.dev0",
        "1.0.dev1",
        "1.0a1",
        "1.0a1.dev1",
        "1.0a2",
        "1.0b1",
        "1.0rc1",
        "1.0c2",
        "1.0.post1",
        "1.0-1",
        "1.0.post1.dev2",
        "1!0.1",
        "0!2.0",
        "1.0+local",
        "1.0+local.5",
        "1.0+5",
        "1.0+abc.1.2",
        "v1.0",
        "1.0RC1",
        "1.0.ALPHA1",
        "1.0-preview2",
        "2.0.0.0.0",
        "1.0_a_1",
        "1.0.a1",
        "1.0-r4",
        "1.0rev5",
        "01.02",
        "1.0.0.post0",
        "2024.1",
        "1.0a",
        "1.0.dev",
        "1.0.post",
        "not-a-version",
        "1.0+",
        "1..0",
        "",
        "1.0-",
        "3.12.0b4",
        "0.9.10",
        "0.10",
        "1.0.0-alpha",
        " 1.0 ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut r = Rng(0x5eed_0001);
    for _ in 0..140 {
        let mut s = String::new();
        if r.chance(8) {
            s.push_str(&format!("{}!", r.pick(&["0", "1", "2"])));
        }
        let n = 1 + r.next() % 4;
        let parts: Vec<String> = (0..n).map(|_| r.num()).collect();
        s.push_str(&parts.join("."));
        if r.chance(40) {
            s.push_str(r.pick(&[
                "a", "b", "rc", "alpha", "beta", "c", "pre", "preview", ".a", "-b",
            ]));
            if r.chance(80) {
                s.push_str(&r.num());
            }
        }
        if r.chance(25) {
            s.push_str(r.pick(&[".post", "-post", "post", ".rev", "-"]));
            s.push_str(&r.num());
        }
        if r.chance(20) {
            s.push_str(".dev");
            s.push_str(&r.num());
        }
        if r.chance(15) {
            s.push('+');
            s.push_str(r.pick(&["ubuntu1", "abc.5", "1", "deb12u1", "a.b.c", "x_y"]));
        }
        v.push(s);
    }
    let v = dedup(v);
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(
        r#"
import sys
from pip._vendor.packaging.version import Version, InvalidVersion
vs = sys.stdin.read().split("\n")[:-1]
parsed = []
for s in vs:
    try:
        parsed.append(Version(s))
    except InvalidVersion:
        parsed.append(None)
for a in parsed:
    row = "V" if a is not None else "I"
    for b in parsed:
        if a is None or b is None:
            row += "="
        else:
            row += "<" if a < b else (">" if a > b else "=")
    print(row)
"#,
    );
    let rows = oracle(cmd, &v);
    check("PEP 440", &v, &rows, pep440_cmp, |s| is_valid("pypi", s));
}

#[test]
fn semver_agrees_with_npm_semver() {
    let mut v: Vec<String> = [
        "1.0.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0+build.1",
        "1.0.0-x.7.z.92",
        "1.0.0-0.3.7",
        "v1.2.3",
        "=1.2.3",
        "1.2",
        "01.2.3",
        "1.2.3-01",
        "1.2.3-a..b",
        "1.2.3+",
        "10.0.0",
        "2.0.0",
        "1.10.0",
        "1.9.0",
        "0.0.0",
        "1.0.0-0",
        "1.0.0--",
        "1.0.0-a-b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut r = Rng(0x5eed_0002);
    for _ in 0..140 {
        let mut s = String::new();
        if r.chance(10) {
            s.push('v');
        }
        s.push_str(&format!("{}.{}.{}", r.num(), r.num(), r.num()));
        if r.chance(45) {
            s.push('-');
            let n = 1 + r.next() % 3;
            let ids: Vec<&str> = (0..n)
                .map(|_| {
                    r.pick(&[
                        "alpha", "beta", "rc", "1", "2", "11", "0", "x-y", "a1", "01", "pre",
                    ])
                })
                .collect();
            s.push_str(&ids.join("."));
        }
        if r.chance(15) {
            s.push('+');
            s.push_str(r.pick(&["build.5", "sha.abc", "001", "x"]));
        }
        v.push(s);
    }
    let v = dedup(v);
    let root = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm must be installed (tests/run-all.sh installs nodejs/npm)");
    let root = String::from_utf8(root.stdout).unwrap();
    let semver = Path::new(root.trim()).join("npm/node_modules/semver");
    assert!(
        semver.is_dir(),
        "npm's semver not found at {}",
        semver.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg("-e").arg(format!(
        r#"
const semver = require({:?});
const vs = require("fs").readFileSync(0, "utf8").split("\n").slice(0, -1);
for (const a of vs) {{
  let row = semver.valid(a) ? "V" : "I";
  for (const b of vs) {{
    if (!semver.valid(a) || !semver.valid(b)) {{ row += "="; continue; }}
    const c = semver.compare(a, b);
    row += c < 0 ? "<" : c > 0 ? ">" : "=";
  }}
  console.log(row);
}}
"#,
        semver.display().to_string()
    ));
    let rows = oracle(cmd, &v);
    check("SemVer", &v, &rows, semver_cmp, |s| is_valid("npm", s));
}

#[test]
fn maven_agrees_with_comparable_version() {
    let mut v: Vec<String> = [
        "1",
        "1.0",
        "1.0.0",
        "1-alpha",
        "1-alpha-1",
        "1a1",
        "1-beta",
        "1b2",
        "1-milestone",
        "1m3",
        "1-rc",
        "1-cr",
        "1-rc1",
        "1-snapshot",
        "1.0-SNAPSHOT",
        "1-ga",
        "1-final",
        "1.0.RELEASE",
        "1-sp",
        "1-sp1",
        "1-foo",
        "1-1",
        "1.1",
        "1-0.1",
        "1.0-jre",
        "1.0-android",
        "2.0-20200101.123456-1",
        "1.0.0.Final",
        "1.0.0.CR1",
        "1..1",
        "1-",
        "-1",
        "1.0-alpha.1",
        "1.0alpha1",
        "1.0-a1",
        "1.0-a",
        "1.0-abc1",
        "3.12.0",
        "3.2.1-jre",
        "0.9",
        "1.0.0-M1",
        "1.0-1-1",
        "1-0-1",
        "01.1",
        "1.01",
        "9999999999999999999999",
        "1.0-2",
        "1.0.2",
        "1.0-rc-1",
        "1.0-RC2",
        "2.0.0-beta.1",
        "1.x",
        "1.0-sp-1",
        "1.0-SP1",
        "5.3.31",
        "6.0.0-M2",
        "1.0.0-b01",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut r = Rng(0x5eed_0003);
    let quals = [
        "alpha",
        "a",
        "beta",
        "b",
        "milestone",
        "m",
        "rc",
        "cr",
        "snapshot",
        "SNAPSHOT",
        "ga",
        "final",
        "Final",
        "release",
        "RELEASE",
        "sp",
        "foo",
        "jre",
        "android",
        "M",
        "RC",
    ];
    for _ in 0..160 {
        let mut s = r.num();
        let n = r.next() % 5;
        for _ in 0..n {
            s.push_str(r.pick(&[".", "-", "", "."]));
            if r.chance(55) {
                s.push_str(&r.num());
            } else {
                s.push_str(r.pick(&quals));
            }
        }
        v.push(s);
    }
    let v = dedup(v);
    let jar = std::fs::read_dir("/usr/share/maven/lib")
        .expect("Maven's libraries in /usr/share/maven/lib (Debian's maven package)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("maven-artifact") && n.ends_with(".jar"))
        })
        .expect("maven-artifact jar in /usr/share/maven/lib");
    let dir = tempdir();
    let src = dir.path().join("Oracle.java");
    std::fs::write(
        &src,
        r#"
import java.io.*;
import java.util.*;
import org.apache.maven.artifact.versioning.ComparableVersion;
public class Oracle {
  public static void main(String[] a) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    List<ComparableVersion> vs = new ArrayList<>();
    for (String l; (l = in.readLine()) != null; ) vs.add(new ComparableVersion(l));
    StringBuilder out = new StringBuilder();
    for (ComparableVersion x : vs) {
      out.append('V');
      for (ComparableVersion y : vs) {
        int c = x.compareTo(y);
        out.append(c < 0 ? '<' : c > 0 ? '>' : '=');
      }
      out.append('\n');
    }
    System.out.print(out);
  }
}
"#,
    )
    .unwrap();
    let mut cmd = Command::new("java");
    cmd.arg("-cp").arg(&jar).arg(&src);
    let rows = oracle(cmd, &v);
    check("Maven", &v, &rows, maven_cmp, |_| true);
}

#[test]
fn go_agrees_with_x_mod_semver() {
    let mut v: Vec<String> = [
        "v1.2.3",
        "v1.2",
        "v1",
        "v1.2.3-pre",
        "v1.2.3-pre.1",
        "v1.2.3+meta",
        "v2.0.0+incompatible",
        "v0.0.0-20190101000000-abcdefabcdef",
        "v0.0.0-20200101000000-abcdefabcdef",
        "v1.2.4-0.20200101000000-abcdefabcdef",
        "v1.2.3-pre.0.20200101000000-abcdefabcdef",
        "(devel)",
        "1.2.3",
        "v01.2.3",
        "v1.2-pre",
        "v1.2.3.4",
        "v",
        "",
        "v0.0.0",
        "v1.10.0",
        "v1.9.0",
        "go1.22.5",
        "v1.0.0-rc.1",
        "v1.0.0-rc.10",
        "v1.0.0-rc.2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut r = Rng(0x5eed_0004);
    for _ in 0..140 {
        let mut s = format!("v{}", r.num());
        let shape = r.next() % 10;
        if shape > 0 {
            s.push_str(&format!(".{}", r.num()));
        }
        if shape > 2 {
            s.push_str(&format!(".{}", r.num()));
            if r.chance(40) {
                s.push('-');
                s.push_str(r.pick(&[
                    "pre",
                    "rc.1",
                    "0.20200101000000-abcdefabcdef",
                    "20230601120000-0123456789ab",
                    "beta.2",
                    "alpha",
                    "01",
                ]));
            }
            if r.chance(15) {
                s.push_str("+incompatible");
            }
        }
        v.push(s);
    }
    let v = dedup(v);
    let goroot = Command::new("go")
        .args(["env", "GOROOT"])
        .output()
        .expect("go must be installed (tests/run-all.sh installs Debian's golang-go)");
    let goroot = PathBuf::from(String::from_utf8(goroot.stdout).unwrap().trim());
    let vendored = goroot.join("src/cmd/vendor/golang.org/x/mod");
    assert!(
        vendored.join("semver").is_dir(),
        "no x/mod/semver at {}",
        vendored.display()
    );
    let dir = tempdir();
    let gopath = dir.path().join("gopath");
    std::fs::create_dir_all(gopath.join("src/golang.org/x")).unwrap();
    std::os::unix::fs::symlink(&vendored, gopath.join("src/golang.org/x/mod")).unwrap();
    let main_dir = gopath.join("src/oracle");
    std::fs::create_dir_all(&main_dir).unwrap();
    std::fs::write(
        main_dir.join("main.go"),
        r#"package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	var vs []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		vs = append(vs, sc.Text())
	}
	var b strings.Builder
	for _, x := range vs {
		if semver.IsValid(x) {
			b.WriteByte('V')
		} else {
			b.WriteByte('I')
		}
		for _, y := range vs {
			switch semver.Compare(x, y) {
			case -1:
				b.WriteByte('<')
			case 1:
				b.WriteByte('>')
			default:
				b.WriteByte('=')
			}
		}
		b.WriteByte('\n')
	}
	fmt.Print(b.String())
}
"#,
    )
    .unwrap();
    let bin = dir.path().join("oracle");
    let st = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("oracle")
        .env("GO111MODULE", "off")
        .env("GOPATH", &gopath)
        .env("GOCACHE", dir.path().join("cache"))
        .env("GOFLAGS", "")
        .status()
        .unwrap();
    assert!(st.success(), "go build of the x/mod/semver oracle failed");
    let rows = oracle(Command::new(&bin), &v);
    check("Go", &v, &rows, go_cmp, |s| is_valid("golang", s));
}
