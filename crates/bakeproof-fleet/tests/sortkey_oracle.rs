//! Version sort keys against the package managers themselves:
//!
//! * `deb`: the key order of pairs of a corpus (the real versions of the
//!   dpkg fixture and of this machine's dpkg database, hand-picked ones and
//!   generated hostile ones) equals `dpkg --compare-versions A lt|eq B`;
//! * `rpm`: the same with rpm's `rpm.labelCompare` (python3-rpm, one
//!   Python process over all pairs) on the versions of the rpm fixtures
//!   and generated ones;
//! * both: the key order equals `bakeproof_pkgdb`'s `dpkg_version_cmp` /
//!   `rpm_evr_cmp` on many random pairs, and the constraint bounds equal
//!   rpm's dependency rule.
//!
//! A missing tool fails the test (never a skip). The Python interpreter is
//! `$BAKEPROOF_RPM_PYTHON`, else the first of `/usr/bin/python3`, `python3`
//! that imports `rpm`.

// The corpus statistics are printed for whoever runs the test.
#![allow(clippy::print_stderr)]

use std::cmp::Ordering;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use bakeproof_fleet::sortkey::{Op, constraint_bounds, version_key};
use bakeproof_pkgdb::version::{Evr, dpkg_version_cmp, rpm_ev_cmp, rpm_evr_str_cmp};

const FIXTURES: &str = "/work/shared/fixtures";

/// xorshift64*: a deterministic corpus, the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A hostile version: up to `max` characters of a small alphabet.
    fn hostile(&mut self, max: usize) -> String {
        const ALPHABET: &[&str] = &[
            "0", "1", "9", "a", "z", "A", "~", "^", ".", "+", "-", "_", ":", "00", "10",
        ];
        let n = self.below(max + 1);
        (0..n)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }
    /// A version shaped like a real one, with hostile pieces.
    fn plausible(&mut self) -> String {
        const PIECES: &[&str] = &[
            "1", "2", "10", "01", "0", ".", ".", "~rc1", "~", "^git1", "+b1", "+deb12u1", "a",
            "p1", "-1", "-2", "-0", ".fc40", ".el8_8", "1:", "2:", "_", "+", "~~", "-1~bpo1",
        ];
        let n = 1 + self.below(6);
        (0..n).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }
}

fn key(ptype: &str, v: &str) -> String {
    version_key(ptype, v).unwrap_or_else(|| panic!("{ptype} has keys"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read the fixture {path}: {e}"))
}

/// The real deb versions: the dpkg fixture's status files and expected
/// list, and this machine's dpkg database (`dpkg-query -W`).
fn real_deb_versions() -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "dpkgroot/clean/var/lib/dpkg/status",
        "dpkgroot/tampered/var/lib/dpkg/status",
    ] {
        for line in read(&format!("{FIXTURES}/{f}")).lines() {
            if let Some(v) = line.strip_prefix("Version:") {
                out.push(v.trim().to_owned());
            }
        }
    }
    for line in read(&format!("{FIXTURES}/dpkgroot/expected-packages.tsv")).lines() {
        if let Some(v) = line.split('\t').nth(1) {
            out.push(v.to_owned());
        }
    }
    let q = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}\n"])
        .output()
        .unwrap_or_else(|e| panic!("dpkg-query is needed (package dpkg): {e}"));
    assert!(q.status.success(), "dpkg-query -W failed");
    out.extend(
        String::from_utf8_lossy(&q.stdout)
            .lines()
            .map(str::to_owned),
    );
    out.sort();
    out.dedup();
    assert!(out.len() >= 5, "too few real deb versions: {out:?}");
    out
}

/// The real rpm versions (`e:v-r`) of the rpm fixtures' expected lists
/// (`rpm -qa` outputs: NAME, EPOCHNUM, VERSION, RELEASE, ...).
fn real_rpm_versions() -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "rpmdb/cbl-mariner-2.0",
        "rpmdb/rhel8-libuuid",
        "rpmdb/centos8-dive",
        "rpmdb/sle15-bci",
        "rpmroot",
    ] {
        for line in read(&format!("{FIXTURES}/{f}/expected-packages.tsv")).lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if let [_, e, v, r, ..] = cols[..] {
                out.push(format!("{e}:{v}-{r}"));
                out.push(format!("{v}-{r}"));
            }
        }
    }
    out.sort();
    out.dedup();
    assert!(out.len() >= 50, "too few real rpm versions: {}", out.len());
    out
}

/// `v` with a `0` before every digit run: the same version for dpkg and rpm.
fn zero_padded(v: &str) -> String {
    let mut out = String::new();
    let mut prev_digit = false;
    for c in v.chars() {
        if c.is_ascii_digit() && !prev_digit {
            out.push('0');
        }
        prev_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// Pairs of a corpus: every version against its zero-padded self (every
/// fourth), against itself plus a suffix (every other, a random one of
/// `suffixes`: the end-of-string cases), its neighbours (in text order) and
/// random others, up to `n`.
fn pairs(corpus: &[String], rng: &mut Rng, n: usize, suffixes: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in corpus.iter().step_by(4) {
        out.push((v.clone(), zero_padded(v)));
    }
    for v in corpus.iter().step_by(2) {
        let s = suffixes[rng.below(suffixes.len())];
        out.push((v.clone(), format!("{v}{s}")));
    }
    for w in corpus.windows(2) {
        out.push((w[0].clone(), w[1].clone()));
    }
    while out.len() < n {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        out.push((a.clone(), b.clone()));
    }
    out
}

/// `dpkg --compare-versions` on every pair, in one shell: per pair `<`,
/// `=`, `>` or `!` (dpkg refused a version: exit status 2).
fn dpkg_oracle(pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    let dpkg = which("dpkg")
        .unwrap_or_else(|| panic!("dpkg is needed for this test (Debian package dpkg)"));
    let script = r#"
while IFS='|' read -r a b; do
  dpkg --compare-versions "$a" lt "$b" 2>/dev/null; lt=$?
  if [ $lt -eq 2 ]; then echo '!'; continue; fi
  if [ $lt -eq 0 ]; then echo '<'; continue; fi
  dpkg --compare-versions "$a" eq "$b" 2>/dev/null; eq=$?
  case $eq in 0) echo '=';; 1) echo '>';; *) echo '!';; esac
done
"#;
    let input: String = pairs
        .iter()
        .map(|(a, b)| {
            assert!(!a.contains(['|', '\n']) && !b.contains(['|', '\n']));
            format!("{a}|{b}\n")
        })
        .collect();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]).env(
        "PATH",
        format!(
            "{}:{}",
            dpkg.parent()
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let out = run(cmd, &input);
    let answers: Vec<Option<Ordering>> = out
        .lines()
        .map(|l| match l {
            "<" => Some(Ordering::Less),
            "=" => Some(Ordering::Equal),
            ">" => Some(Ordering::Greater),
            "!" => None,
            _ => panic!("the dpkg loop wrote {l:?}"),
        })
        .collect();
    assert_eq!(
        answers.len(),
        pairs.len(),
        "dpkg answered a different count"
    );
    answers
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|f| f.is_file())
    })
}

fn run(mut cmd: Command, input: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait for the oracle");
    writer
        .join()
        .expect("stdin writer")
        .expect("write the oracle's stdin");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the oracle writes UTF-8")
}

/// A Python that imports rpm's bindings (python3-rpm).
fn rpm_python() -> String {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("BAKEPROOF_RPM_PYTHON") {
        candidates.push(p);
    }
    candidates.push("/usr/bin/python3".to_owned());
    candidates.push("python3".to_owned());
    for c in &candidates {
        let ok = Command::new(c)
            .args(["-c", "import rpm"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return c.clone();
        }
    }
    panic!(
        "no Python with rpm's bindings among {candidates:?}: install them \
         (apt-get install python3-rpm) or set BAKEPROOF_RPM_PYTHON"
    );
}

/// `rpm.labelCompare` on every pair (each split by `Evr::parse`; a missing
/// or empty epoch and a missing release are `None`); `None` where rpm
/// refuses a version.
fn rpm_oracle(pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    let evr = |s: &str| {
        let e = Evr::parse(s);
        serde_json::json!([e.epoch.filter(|e| !e.is_empty()), e.version, e.release])
    };
    let input = serde_json::Value::Array(
        pairs
            .iter()
            .map(|(a, b)| serde_json::json!([evr(a), evr(b)]))
            .collect(),
    )
    .to_string();
    // rpm 4.18 refuses an empty version ("invalid version")
    let script = "import json, sys, rpm\n\
        for a, b in json.load(sys.stdin):\n    \
        try:\n        \
        print(rpm.labelCompare(tuple(a), tuple(b)))\n    \
        except ValueError:\n        \
        print('!')\n";
    let mut cmd = Command::new(rpm_python());
    cmd.args(["-c", script]);
    let out = run(cmd, &input);
    let answers: Vec<Option<Ordering>> = out
        .lines()
        .map(|l| match l.trim() {
            "-1" => Some(Ordering::Less),
            "0" => Some(Ordering::Equal),
            "1" => Some(Ordering::Greater),
            "!" => None,
            _ => panic!("labelCompare answered {l:?}"),
        })
        .collect();
    assert_eq!(answers.len(), pairs.len(), "rpm answered a different count");
    answers
}

#[test]
fn deb_keys_order_as_dpkg() {
    let mut rng = Rng(0x5eed_deb0_0000_0001);
    let mut corpus = real_deb_versions();
    let real = corpus.len();
    corpus.extend(
        [
            "1",
            "1~",
            "1.0",
            "1.",
            "0",
            "0~",
            "1.0a",
            "1.a",
            "1~~",
            "1~~a",
            "1a",
            "01",
            "1.01",
            "1.1",
            "1.0~rc1",
            "1.0+b1",
            "1:0.1",
            "2.0",
            "1.0-1~bpo1",
            "00:1",
            "1.0-0",
            "1-~",
        ]
        .map(str::to_owned),
    );
    for _ in 0..150 {
        corpus.push(rng.hostile(6));
        corpus.push(rng.plausible());
    }
    corpus.retain(|v| !v.is_empty() && !v.contains(char::is_whitespace));
    corpus.sort();
    corpus.dedup();
    let pairs = pairs(
        &corpus,
        &mut rng,
        1300,
        &[
            "~", "~~", "~a", "A", "a", "z", ".", "+", "0", "1", ".0", "-1", "-0", "-~",
        ],
    );
    let answers = dpkg_oracle(&pairs);
    let (mut compared, mut refused, mut seen) = (0, 0, [0usize; 3]);
    for ((a, b), ans) in pairs.iter().zip(&answers) {
        let Some(want) = ans else {
            refused += 1;
            continue;
        };
        compared += 1;
        seen[(*want as i8 + 1) as usize] += 1;
        let (ka, kb) = (key("deb", a), key("deb", b));
        assert_eq!(
            ka.cmp(&kb),
            *want,
            "deb {a:?} vs {b:?}: keys {ka} vs {kb}, dpkg says {want:?}"
        );
    }
    eprintln!(
        "deb: {real} real versions, {} in all; {compared} pairs compared with dpkg, \
         {refused} refused by dpkg; </=/> {seen:?}",
        corpus.len()
    );
    assert!(
        compared * 10 >= pairs.len() * 6,
        "only {compared} of {} pairs were valid for dpkg",
        pairs.len()
    );
    assert!(seen.iter().all(|&n| n >= 20), "a thin corpus: {seen:?}");
}

#[test]
fn rpm_keys_order_as_rpm() {
    let mut rng = Rng(0x5eed_0000_0000_0002);
    let mut corpus = real_rpm_versions();
    let real = corpus.len();
    corpus.extend(
        [
            "1.0", "1_0", "1.0.", "1.0~rc1", "1.0^git1", "1.0^", "1.0-", "1.0-~", "1.0-1",
            "0:1.0-1", ":1.0", "1.0a", "1.0.a", "001", "1", "",
        ]
        .map(str::to_owned),
    );
    for _ in 0..300 {
        corpus.push(rng.hostile(7));
        corpus.push(rng.plausible());
    }
    corpus.sort();
    corpus.dedup();
    let pairs = pairs(
        &corpus,
        &mut rng,
        4000,
        &[
            "~", "~~", "~a", "^", "^a", "A", "a", "z", ".", "_", "0", "1", ".0", "-1", "-", "-~",
        ],
    );
    let answers = rpm_oracle(&pairs);
    let (mut compared, mut refused, mut seen) = (0, 0, [0usize; 3]);
    for ((a, b), ans) in pairs.iter().zip(&answers) {
        let Some(want) = ans else {
            refused += 1;
            continue;
        };
        compared += 1;
        seen[(*want as i8 + 1) as usize] += 1;
        let (ka, kb) = (key("rpm", a), key("rpm", b));
        assert_eq!(
            ka.cmp(&kb),
            *want,
            "rpm {a:?} vs {b:?}: keys {ka} vs {kb}, rpm.labelCompare says {want:?}"
        );
    }
    eprintln!(
        "rpm: {real} real versions, {} in all; {compared} pairs compared with rpm, \
         {refused} refused by rpm; </=/> {seen:?}",
        corpus.len()
    );
    assert!(
        compared * 10 >= pairs.len() * 8,
        "only {compared} of {} pairs were valid for rpm",
        pairs.len()
    );
    assert!(seen.iter().all(|&n| n >= 50), "a thin corpus: {seen:?}");
}

#[test]
fn keys_order_as_the_reference_on_random_pairs() {
    let mut rng = Rng(0x5eed_0000_0000_0003);
    let mut corpus: Vec<String> = Vec::new();
    for _ in 0..1500 {
        corpus.push(rng.hostile(8));
        corpus.push(rng.plausible());
    }
    corpus.extend(real_rpm_versions());
    for _ in 0..30_000 {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let (ka, kb) = (key("deb", a), key("deb", b));
        assert_eq!(ka.cmp(&kb), dpkg_version_cmp(a, b), "deb {a:?} {b:?}");
        let (ka, kb) = (key("rpm", a), key("rpm", b));
        assert_eq!(ka.cmp(&kb), rpm_evr_str_cmp(a, b), "rpm {a:?} {b:?}");
    }
}

/// The bounds of `OP c` hold for a version exactly when rpm's dependency
/// rule does (releases compared only when both sides have one) and, for
/// deb, when dpkg's order does.
#[test]
fn constraint_bounds_follow_the_dependency_rules() {
    let mut rng = Rng(0x5eed_0000_0000_0004);
    let mut corpus: Vec<String> = real_rpm_versions();
    for _ in 0..400 {
        corpus.push(rng.plausible());
        corpus.push(rng.hostile(6));
    }
    let ops = [Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt];
    let holds = |op: Op, o: Ordering| match op {
        Op::Lt => o.is_lt(),
        Op::Le => o.is_le(),
        Op::Eq => o.is_eq(),
        Op::Ge => o.is_ge(),
        Op::Gt => o.is_gt(),
    };
    let mut hits = 0;
    for _ in 0..20_000 {
        let pkg = &corpus[rng.below(corpus.len())];
        let c = &match rng.below(3) {
            // the package's own epoch:version, without the release
            0 => {
                let e = Evr::parse(pkg);
                match e.epoch {
                    Some(ep) => format!("{ep}:{}", e.version),
                    None => e.version.to_owned(),
                }
            }
            _ => corpus[rng.below(corpus.len())].clone(),
        };
        let (pe, ce) = (Evr::parse(pkg), Evr::parse(c));
        // installed packages have a release
        if pe.release.is_some() {
            let o = rpm_ev_cmp(&pe, &ce).then_with(|| match ce.release {
                Some(_) => rpm_evr_str_cmp(pkg, c),
                None => Ordering::Equal,
            });
            let k = key("rpm", pkg);
            for op in ops {
                let b = constraint_bounds("rpm", op, c).expect("rpm bounds");
                assert_eq!(b.contains(&k), holds(op, o), "rpm {pkg:?} {op:?} {c:?}");
                hits += usize::from(holds(op, o) && op == Op::Eq);
            }
        }
        let o = dpkg_version_cmp(pkg, c);
        let k = key("deb", pkg);
        for op in ops {
            let b = constraint_bounds("deb", op, c).expect("deb bounds");
            assert_eq!(b.contains(&k), holds(op, o), "deb {pkg:?} {op:?} {c:?}");
        }
    }
    assert!(hits >= 20, "few equal pairs: {hits}");
}
