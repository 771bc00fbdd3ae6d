//! The fleet inventory end to end (docs/fleet.md): real roots (the Debian
//! fixture with an `xz-utils` package of a different version installed by
//! real dpkg in each, the rpm fixture), scanned, sealed, attested and
//! published to several regions; then `bakeproof query`, DuckDB and Spark
//! (tests/tools/fleet_sql.py, over the Parquet tables the publish wrote)
//! must give the AMIs that dpkg's and rpm's own version order put in the
//! range. Boot results: instances verify with `--report`, and the fleet's
//! failures and ghost identities are found by `bakeproof query --reports`
//! and by the same engines.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::imds_emulator::Emulator;
use common::moto::{Moto, test_aws_env};
use common::packages::{dpkg_deb, dpkg_in_root};
use common::run::{bakeproof_bin, describe, extract};
use serde_json::Value;

const PASSWORD: &str = "fleet-test-password";

fn bp_env(args: &[&OsStr], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bakeproof_bin());
    test_aws_env(c.args(args))
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("BAKEPROOF_PUBLIC_KEY")
        .env_remove("BAKEPROOF_STORE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run bakeproof")
}

fn bp(args: &[&str]) -> Output {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    bp_env(&a, &[])
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// One AMI of the test fleet.
struct Ami {
    region: &'static str,
    id: &'static str,
    /// `deb` (the Debian fixture with xz-utils `xz`) or `rpm` (the rpm fixture).
    kind: &'static str,
    xz: &'static str,
    application: &'static str,
    version: &'static str,
}

impl Ami {
    fn r(&self) -> String {
        format!("{}:{}", self.region, self.id)
    }
}

/// Versions from xz-utils' real history in Debian (5.6.1+really5.4.5 is the
/// revert after CVE-2024-3094).
const FLEET: &[Ami] = &[
    Ami {
        region: "us-east-1",
        id: "ami-0a000000000000001",
        kind: "deb",
        xz: "5.4.1-0.2",
        application: "web",
        version: "1.0",
    },
    Ami {
        region: "us-east-1",
        id: "ami-0a000000000000002",
        kind: "deb",
        xz: "5.6.0-0.2",
        application: "web",
        version: "1.1",
    },
    Ami {
        region: "eu-west-1",
        id: "ami-0b000000000000003",
        kind: "deb",
        xz: "5.6.1-1",
        application: "web",
        version: "1.2",
    },
    Ami {
        region: "eu-west-1",
        id: "ami-0b000000000000004",
        kind: "deb",
        xz: "5.6.1+really5.4.5-1",
        application: "web",
        version: "1.3",
    },
    Ami {
        region: "ap-south-1",
        id: "ami-0c000000000000005",
        kind: "deb",
        xz: "1:5.2.5-2",
        application: "api",
        version: "2.0",
    },
    Ami {
        region: "ap-south-1",
        id: "ami-0c000000000000006",
        kind: "deb",
        xz: "5.6.2-1",
        application: "api",
        version: "2.1",
    },
    Ami {
        region: "us-west-2",
        id: "ami-0d000000000000007",
        kind: "rpm",
        xz: "",
        application: "db",
        version: "3.0",
    },
];

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        ok(&bp(&["key", "generate", "--output-dir", s(dir.path())]));
        Keys { dir }
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("cosign.key")
    }
    fn public(&self) -> PathBuf {
        self.dir.path().join("cosign.pub")
    }
}

/// Bakes `ami`'s root, attests it with `keys` and returns (the root, the
/// attest output directory).
fn bake(ami: &Ami, keys: &Keys, work: &Path) -> (tempfile::TempDir, PathBuf) {
    let root = match ami.kind {
        "deb" => {
            let root = extract("dpkgroot/clean.tar.gz");
            let deb = dpkg_deb(
                work,
                "xz-utils",
                ami.xz,
                "Fleet <fleet@example.org>",
                ami.id,
            );
            dpkg_in_root(root.path(), &["-i"], &[&deb]);
            root
        }
        _ => extract("rpmroot/clean.tar.gz"),
    };
    let d = work.join(ami.id);
    std::fs::create_dir_all(&d).unwrap();
    let sbom = d.join("sbom.json");
    ok(&bp(&["scan", s(root.path()), "-o", s(&sbom), "-q"]));
    let seal = bp(&["seal", "check", s(root.path()), "--format", "json"]);
    assert!(
        matches!(seal.status.code(), Some(0 | 1)),
        "{}",
        describe(&seal)
    );
    std::fs::write(d.join("seal.json"), &seal.stdout).unwrap();
    let out = d.join("attest");
    ok(&bp(&[
        "attest",
        "--sbom",
        s(&sbom),
        "--seal",
        s(&d.join("seal.json")),
        "--key",
        s(&keys.key()),
        "--ami",
        &ami.r(),
        "-o",
        s(&out),
        "--allow-unsealed",
    ]));
    (root, out)
}

/// Publishes with the tables and records the AMI as tested with its labels.
fn publish_and_label(ami: &Ami, att: &Path, store: &str, keys: &Keys, env: &[(&str, &str)]) {
    let o = bp_env(
        &[
            "publish".as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            "--key".as_ref(),
            keys.public().as_os_str(),
            att.as_os_str(),
        ],
        env,
    );
    let out = ok(&o);
    for t in ["packages", "seal", "images"] {
        let part = format!(
            "table {t} tables/{t}/region={}/ami={}/part-0.parquet",
            ami.region, ami.id
        );
        assert!(out.contains(&part), "publish wrote no {t} table: {out}");
    }
    let o = bp_env(
        &[
            "lifecycle".as_ref(),
            "test".as_ref(),
            ami.r().as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            "--key".as_ref(),
            keys.key().as_os_str(),
            "--application".as_ref(),
            ami.application.as_ref(),
            "--version".as_ref(),
            ami.version.as_ref(),
            "--build-date".as_ref(),
            "2026-12-01".as_ref(),
        ],
        env,
    );
    let out = ok(&o);
    assert!(out.contains("fleet tables: refreshed"), "{out}");
}

/// `dpkg --compare-versions A OP B` (the oracle of dpkg's order).
fn dpkg_holds(a: &str, op: &str, b: &str) -> bool {
    let st = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .expect("Debian's dpkg");
    st.success()
}

/// `rpm.vercmp(A, B)` from rpm's own Lua (the oracle of rpm's order).
fn rpm_vercmp(a: &str, b: &str) -> i32 {
    let o = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: print(rpm.vercmp(\"{a}\", \"{b}\"))}}"))
        .output()
        .expect("rpm (Debian's package rpm)");
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// Runs `queries` (name -> SQL) with `engine` over the local `store`.
fn engine(engine: &str, store: &Path, queries: &serde_json::Map<String, Value>) -> Value {
    let python = common::schema::bakeproof_python().expect("the test venv's Python");
    let q = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(q.path(), serde_json::to_vec(queries).unwrap()).unwrap();
    let script = common::schema::repo_root().join("tests/tools/fleet_sql.py");
    let o = Command::new(python)
        .arg(script)
        .args([
            "--engine",
            engine,
            "--store",
            s(store),
            "--queries",
            s(q.path()),
        ])
        .output()
        .expect("run fleet_sql.py");
    assert!(o.status.success(), "{engine}: {}", describe(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// (region, ami) of each row of an engine's answer, or of each match of
/// `bakeproof query --format json` (`v["matches"]`).
fn amis_of_rows(rows: &Value) -> BTreeSet<(String, String)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_owned(),
                r["ami"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn query_json(store: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut a: Vec<&OsStr> = vec![
        "query".as_ref(),
        "--store".as_ref(),
        store.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ];
    a.extend(args.iter().map(OsStr::new));
    let o = bp_env(&a, env);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("query output ({e}): {}", describe(&o)));
    (o.status.code().unwrap_or(-1), v)
}

fn amis_of_answer(v: &Value) -> BTreeSet<(String, String)> {
    amis_of_rows(&v["matches"])
}

/// The SQL blocks of docs/fleet.md marked `-- fleet-test: NAME`.
fn docs_sql() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(common::schema::repo_root().join("docs/fleet.md")).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in doc.lines() {
        if let Some(name) = line.strip_prefix("-- fleet-test: ") {
            cur = Some((name.trim().to_owned(), String::new()));
        } else if line.starts_with("```") {
            if let Some(c) = cur.take() {
                out.push(c);
            }
        } else if let Some((_, sql)) = cur.as_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    out
}

#[test]
fn published_fleet_query_duckdb_and_spark_agree() {
    let keys = Keys::new();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let store_s = s(&store).to_owned();
    let mut roots = Vec::new();
    for ami in FLEET {
        let (root, att) = bake(ami, &keys, work.path());
        publish_and_label(ami, &att, &store_s, &keys, &[]);
        roots.push(root);
    }

    // The oracle: dpkg's own order on the versions installed.
    let range = ("5.6.0", "5.6.2");
    let want: BTreeSet<(String, String)> = FLEET
        .iter()
        .filter(|a| {
            a.kind == "deb" && dpkg_holds(a.xz, "ge", range.0) && dpkg_holds(a.xz, "lt", range.1)
        })
        .map(|a| (a.region.to_owned(), a.id.to_owned()))
        .collect();
    assert_eq!(
        want.len(),
        3,
        "the fixture's range holds three AMIs: {want:?}"
    );

    let q = "xz-utils >= 5.6.0 xz-utils < 5.6.2";
    let (code, ans) = query_json(&store_s, &[q], &[]);
    assert_eq!(code, 1, "a match is exit 1: {ans:#}");
    assert_eq!(amis_of_answer(&ans), want, "{ans:#}");
    assert_eq!(ans["searched"], FLEET.len(), "{ans:#}");
    for m in ans["matches"].as_array().unwrap() {
        let a = FLEET.iter().find(|a| a.id == m["ami"]).unwrap();
        assert_eq!(m["version"], a.xz, "{m}");
        assert_eq!(m["application"], a.application, "{m}");
        assert_eq!(m["image_version"], a.version, "{m}");
        assert_eq!(m["ecosystem"], "deb", "{m}");
    }
    // Nothing matches: exit 0.
    let (code, ans) = query_json(&store_s, &["xz-utils", ">=", "2:0"], &[]);
    assert_eq!((code, ans["matches"].as_array().unwrap().len()), (0, 0));
    // By purl, one region.
    let (code, ans) = query_json(
        &store_s,
        &[
            "pkg:deb/debian/xz-utils@5.6.1-1",
            "--in-region",
            "eu-west-1",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(ans["searched"], 2, "{ans:#}");
    assert_eq!(
        amis_of_answer(&ans),
        [("eu-west-1".to_owned(), "ami-0b000000000000003".to_owned())].into()
    );

    // rpm's order (a `~` pre-release sorts before its release): the rpm
    // fixture's fx-tools 2.1~rc1-1 is below 2.1, fx-data 1.0^git... above 1.0.
    assert_eq!(rpm_vercmp("2.1~rc1", "2.1"), -1);
    assert_eq!(rpm_vercmp("1.0^git20240101", "1.0"), 1);
    let rpm_ami: BTreeSet<(String, String)> =
        [("us-west-2".to_owned(), "ami-0d000000000000007".to_owned())].into();
    let (code, ans) = query_json(&store_s, &["fx-tools < 2.1", "fx-data > 1.0"], &[]);
    assert_eq!(code, 1);
    assert_eq!(amis_of_answer(&ans), rpm_ami, "{ans:#}");
    assert_eq!(ans["matches"].as_array().unwrap().len(), 2, "{ans:#}");

    // The same questions as SQL (`query --sql`), and docs/fleet.md's SQL,
    // on DuckDB and Spark.
    let sql = |engine: &str, terms: &[&str]| {
        let mut a = vec!["query", "--sql", engine];
        a.extend(terms);
        ok(&bp(&a))
    };
    let mut queries = serde_json::Map::new();
    for eng in ["duckdb", "spark"] {
        queries.insert(format!("xz_{eng}"), sql(eng, &[q]).into());
        queries.insert(
            format!("rpm_{eng}"),
            sql(eng, &["fx-tools < 2.1", "fx-data > 1.0"]).into(),
        );
    }
    let docs = docs_sql();
    assert!(
        docs.iter().any(|(n, _)| n == "xz-range"),
        "docs/fleet.md has no `-- fleet-test: xz-range` SQL"
    );
    for (name, text) in &docs {
        if !name.starts_with("reports") {
            queries.insert(format!("docs_{name}"), text.clone().into());
        }
    }
    queries.insert(
        "images".into(),
        "SELECT region, ami, application, image_version, lifecycle_state, seal_status FROM images"
            .into(),
    );
    let answers: Vec<(&str, Value)> = ["duckdb", "spark"]
        .into_iter()
        .map(|e| (e, engine(e, &store, &queries)))
        .collect();
    for (eng, a) in &answers {
        for name in ["xz_duckdb", "xz_spark", "docs_xz-range"] {
            assert_eq!(amis_of_rows(&a[name]), want, "{eng} {name}: {a:#}");
        }
        for name in ["rpm_duckdb", "rpm_spark"] {
            assert_eq!(amis_of_rows(&a[name]), rpm_ami, "{eng} {name}");
        }
        let images = a["images"].as_array().unwrap();
        assert_eq!(images.len(), FLEET.len(), "{eng}: {images:?}");
        for r in images {
            let ami = FLEET.iter().find(|x| x.id == r["ami"]).unwrap();
            assert_eq!(r["region"], ami.region);
            assert_eq!(r["application"], ami.application);
            assert_eq!(r["image_version"], ami.version);
            assert_eq!(r["lifecycle_state"], "testing");
        }
    }
    assert_eq!(answers[0].1, answers[1].1, "DuckDB and Spark disagree");

    // Rebuilding an unchanged store rewrites nothing; a lost part comes back
    // byte for byte.
    let part =
        store.join("tables/packages/region=us-east-1/ami=ami-0a000000000000002/part-0.parquet");
    let before = std::fs::read(&part).unwrap();
    std::fs::remove_file(&part).unwrap();
    let out = ok(&bp(&[
        "tables",
        "rebuild",
        "--store",
        &store_s,
        "--key",
        s(&keys.public()),
    ]));
    assert_eq!(out.matches("created   table").count(), 1, "{out}");
    assert!(!out.contains("replaced"), "{out}");
    assert!(
        out.contains(&format!(
            "rebuilt the tables of {} of {}",
            FLEET.len(),
            FLEET.len()
        )),
        "{out}"
    );
    assert_eq!(std::fs::read(&part).unwrap(), before);
}

#[test]
fn tables_only_from_attestations_the_keys_verify() {
    let keys = Keys::new();
    let other = Keys::new();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let ami = &FLEET[2];
    let (_root, att) = bake(ami, &keys, work.path());
    // Published with a key that did not sign: no table, exit 1.
    let o = bp(&[
        "publish",
        "--store",
        s(&store),
        "--key",
        s(&other.public()),
        s(&att),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        !store.join("tables").exists(),
        "a table from an unverified bundle"
    );
    // Without a key: published, no tables, and said so.
    let o = bp(&["publish", "--store", s(&store), s(&att), "--no-tables"]);
    ok(&o);
    // A tampered bundle: rebuild refuses that AMI (exit 1).
    let idx: Value = serde_json::from_slice(
        &std::fs::read(store.join(format!("amis/{}/{}/index.json", ami.region, ami.id))).unwrap(),
    )
    .unwrap();
    let blob = store
        .join("blobs/sha256")
        .join(idx["entries"][0]["sha256"].as_str().unwrap());
    let good = std::fs::read(&blob).unwrap();
    let mut bad = good.clone();
    let n = bad.len() / 2;
    bad[n] ^= 1;
    std::fs::write(&blob, &bad).unwrap();
    let o = bp(&[
        "tables",
        "rebuild",
        "--store",
        s(&store),
        "--key",
        s(&keys.public()),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(!store.join("tables").exists());
    std::fs::write(&blob, &good).unwrap();
    ok(&bp(&[
        "tables",
        "rebuild",
        "--store",
        s(&store),
        "--key",
        s(&keys.public()),
    ]));
    let (code, ans) = query_json(s(&store), &["xz-utils = 5.6.1-1"], &[]);
    assert_eq!(code, 1, "{ans:#}");
    // A part that is not a table file is an error, not an empty answer.
    let part = store.join(format!(
        "tables/packages/region={}/ami={}/part-0.parquet",
        ami.region, ami.id
    ));
    std::fs::write(&part, b"PAR1 not parquet").unwrap();
    let o = bp(&["query", "--store", s(&store), "xz-utils"]);
    assert_ne!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Parquet"),
        "{}",
        describe(&o)
    );
}

#[test]
fn s3_store_tables_and_query() {
    let moto = Moto::start(&[]);
    let keys = Keys::new();
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_ENDPOINT_URL_S3", moto.url()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    moto.py("s3.create_bucket(Bucket='fleet')");
    let store = "s3://fleet/prefix";
    for ami in &FLEET[1..4] {
        let (_root, att) = bake(ami, &keys, work.path());
        publish_and_label(ami, &att, store, &keys, &env);
    }
    let (code, ans) = query_json(store, &["xz-utils >= 5.6.0 xz-utils < 5.6.2"], &env);
    assert_eq!(code, 1, "{ans:#}");
    assert_eq!(amis_of_answer(&ans).len(), 3, "{ans:#}");
    // One listing and one GET per AMI's part.
    assert_eq!(ans["stats"]["list_requests"], 1, "{ans:#}");
    assert_eq!(ans["stats"]["get_requests"], 3, "{ans:#}");
    let keys_listed = moto.py(
        "print('\\n'.join(o['Key'] for o in s3.list_objects_v2(Bucket='fleet', Prefix='prefix/tables/packages/')['Contents']))",
    );
    assert_eq!(keys_listed.lines().count(), 3, "{keys_listed}");
    assert!(
        keys_listed.contains(
            "prefix/tables/packages/region=eu-west-1/ami=ami-0b000000000000003/part-0.parquet"
        ),
        "{keys_listed}"
    );
}

/// systemd's app-specific machine id, computed independently (Python's
/// hmac, sd_id128_get_machine_app_specific's documented construction).
fn app_specific(python: &Path, machine_id: &str) -> String {
    let code = format!(
        "import hmac,hashlib\nb=bytearray(hmac.new(bytes.fromhex('{machine_id}'),bytes.fromhex('ca0f079e8bdf4409a4c9dbf93140badf'),hashlib.sha256).digest()[:16])\nb[6]=(b[6]&0x0F)|0x40\nb[8]=(b[8]&0x3F)|0x80\nprint(b.hex())"
    );
    let o = Command::new(python).args(["-c", &code]).output().unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn boot_reports_find_failures_and_ghost_identities() {
    let keys = Keys::new();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let reports = work.path().join("reports");
    let ami = &FLEET[0];
    let (root, att) = bake(ami, &keys, work.path());
    publish_and_label(ami, &att, s(&store), &keys, &[]);

    // Three instances of the AMI: i-1 and i-2 share a machine-id (a cloned
    // disk), i-1 and i-3 share an SSH host key; i-3 runs a changed image.
    let hostkey = work.path().join("hostkey");
    std::fs::create_dir(&hostkey).unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(hostkey.join("ssh_host_ed25519_key"))
        .status()
        .expect("ssh-keygen (openssh-client)");
    assert!(st.success());
    let instances = [
        (
            "i-0000000000000000a",
            "11111111111111111111111111111111",
            true,
            false,
        ),
        (
            "i-0000000000000000b",
            "11111111111111111111111111111111",
            false,
            false,
        ),
        (
            "i-0000000000000000c",
            "22222222222222222222222222222222",
            true,
            true,
        ),
    ];
    for (id, mid, with_key, tamper) in instances {
        let r = work.path().join(id);
        let st = Command::new("cp")
            .arg("-a")
            .arg(root.path())
            .arg(&r)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::write(r.join("etc/machine-id"), format!("{mid}\n")).unwrap();
        if with_key {
            let ssh = r.join("etc/ssh");
            std::fs::create_dir_all(&ssh).unwrap();
            for f in ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"] {
                std::fs::copy(hostkey.join(f), ssh.join(f)).unwrap();
            }
        }
        if tamper {
            std::fs::write(r.join("usr/share/xz-utils/data.txt"), "changed").unwrap();
        }
        let emu = Emulator::start(&[
            "--ami-id",
            ami.id,
            "--region",
            ami.region,
            "--instance-id",
            id,
        ]);
        let o = bp(&[
            "verify",
            "--store",
            s(&store),
            "--key",
            s(&keys.public()),
            "--root",
            s(&r),
            "--imds-endpoint",
            &emu.endpoint,
            "--host-key-age",
            "off",
            "--level",
            "files",
            "--status-state",
            s(&work.path().join(format!("{id}.state"))),
            "--report",
            s(&reports),
            "--format",
            "json",
        ]);
        let v: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", describe(&o)));
        assert_eq!(
            o.status.code(),
            Some(if tamper { 1 } else { 0 }),
            "{}",
            describe(&o)
        );
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("not reported"),
            "{}",
            describe(&o)
        );
        let _ = v;
    }
    let json_reports: Vec<PathBuf> = walk(&reports.join("reports/json"));
    assert_eq!(json_reports.len(), 3, "{json_reports:?}");
    for p in &json_reports {
        let rec: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        assert_eq!(rec["ami"], ami.r());
        assert_eq!(rec["region"], ami.region);
        common::schema::validate_with_schema("boot-result.schema.json", &rec["report"])
            .unwrap_or_else(|e| panic!("{e:?}"));
    }

    let (code, f) = query_json(s(&reports), &["--reports"], &[]);
    assert_eq!(code, 1, "{f:#}");
    assert_eq!(f["instances"], 3);
    let nv: Vec<&str> = f["not_verified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(nv, ["i-0000000000000000c"], "{f:#}");
    let python = common::schema::bakeproof_python().unwrap();
    let ghosts = f["ghosts"].as_array().unwrap();
    assert_eq!(ghosts.len(), 2, "{f:#}");
    assert_eq!(ghosts[0]["kind"], "machine-id");
    assert_eq!(
        ghosts[0]["value"],
        app_specific(&python, "11111111111111111111111111111111")
    );
    assert_eq!(
        ghosts[0]["instances"],
        serde_json::json!(["i-0000000000000000a", "i-0000000000000000b"])
    );
    let fp = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(hostkey.join("ssh_host_ed25519_key.pub"))
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&fp.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(ghosts[1]["kind"], "ssh-host-key");
    assert_eq!(ghosts[1]["value"], fp.as_str());
    assert_eq!(
        ghosts[1]["instances"],
        serde_json::json!(["i-0000000000000000a", "i-0000000000000000c"])
    );

    // The same findings from the engines, with docs/fleet.md's SQL.
    let mut queries = serde_json::Map::new();
    for (name, text) in docs_sql() {
        if name.starts_with("reports") {
            queries.insert(name, text.into());
        }
    }
    assert!(
        queries.contains_key("reports-ghost-machine-id"),
        "docs/fleet.md lacks the ghost SQL"
    );
    let a = engine("duckdb", &reports, &queries);
    let b = engine("spark", &reports, &queries);
    assert_eq!(a, b, "DuckDB and Spark disagree");
    let ids = |rows: &Value, col: &str| -> BTreeSet<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r[col].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&a["reports-ghost-machine-id"], "instance_a"),
        ["i-0000000000000000a".to_owned()].into()
    );
    assert_eq!(
        ids(&a["reports-ghost-machine-id"], "instance_b"),
        ["i-0000000000000000b".to_owned()].into()
    );
    assert_eq!(
        ids(&a["reports-ghost-host-key"], "instance_b"),
        ["i-0000000000000000c".to_owned()].into()
    );
    assert_eq!(
        ids(&a["reports-not-verified"], "instance_id"),
        ["i-0000000000000000c".to_owned()].into()
    );
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
