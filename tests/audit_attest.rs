//! Issue 14, item 4: the audit report attested beside the SBOM and seal
//! report (`attest --audit`), published and fetched, enforced at first
//! boot (`verify --require-audit`, fail-closed: missing, failing,
//! tampered, foreign key, another tree), and compared by `diff` of two
//! AMIs. The audit reports are written by hand from the report contract
//! (`schemas/audit-report.schema.json`: `status`, `requirements` with
//! `kind`, `name`, `expected`, `actual`, `status`, `image.tree_digest`).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::imds_emulator::Emulator;
use common::run::{bakeproof_bin, describe, extract, sha256_of};
use serde_json::{Value, json};

const AMI: &str = "ami-0123456789abcdef0";
const AMI_B: &str = "ami-0bbbbbbbbbbbbbbbb";
const REGION: &str = "us-east-1";
const AUDIT_TYPE: &str = "https://bakeproof.dev/audit/v1";

fn bp(args: &[&OsStr]) -> Output {
    Command::new(bakeproof_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1704067200")
        .env("COSIGN_PASSWORD", "test-password")
        .env_remove("BAKEPROOF_STORE")
        .env_remove("BAKEPROOF_KEY")
        .env_remove("BAKEPROOF_PUBLIC_KEY")
        .env_remove("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .output()
        .expect("run bakeproof")
}

fn bps(args: &[&str]) -> Output {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    bp(&a)
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", describe(o));
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// An audit report of tree `tree` (hex) with `requirements`
/// (kind, name, expected, actual, ok).
fn audit_report(tree: &str, reqs: &[(&str, &str, &str, &str, bool)]) -> Value {
    let requirements: Vec<Value> = reqs
        .iter()
        .map(|(kind, name, expected, actual, ok)| {
            json!({
                "kind": kind, "name": name, "expected": expected, "actual": actual,
                "status": if *ok { "ok" } else { "ng" },
                "source": {"file": "design-spec.txt", "line": 3}
            })
        })
        .collect();
    let pass = reqs.iter().all(|r| r.4);
    json!({
        "schema_version": 1,
        "status": if pass { "pass" } else { "fail" },
        "document": {
            "id": "SYS-2025-001",
            "title": "Web server golden image",
            "files": [{"path": "design-spec.txt", "sha256": "0".repeat(64)}]
        },
        "date": "2024-01-01T00:00:00Z",
        "image": {"source": "/build/root", "tree_digest": format!("sha256:{tree}")},
        "requirements": requirements,
        "configuration": {"kernels": [], "enabled_services": [], "system_users": [],
                          "firewall": [], "sshd": {}, "not_assessed": []},
        "warnings": []
    })
}

const PASSING: &[(&str, &str, &str, &str, bool)] = &[
    ("package", "base-files", ">= 12", "12.4+deb12u5", true),
    ("sshd", "permitrootlogin", "no", "no", true),
    (
        "account",
        "only-root-uid0",
        "no account but root has UID 0",
        "none",
        true,
    ),
];

const FAILING: &[(&str, &str, &str, &str, bool)] = &[
    ("package", "base-files", ">= 12", "12.4+deb12u5", true),
    ("sshd", "permitrootlogin", "no", "yes", false),
    (
        "account",
        "only-root-uid0",
        "no account but root has UID 0",
        "none",
        true,
    ),
];

/// A scanned and seal-checked image with a key pair (and a second, foreign
/// one), ready to be attested.
struct Image {
    t: tempfile::TempDir,
    _root_dir: tempfile::TempDir,
    root: PathBuf,
    tree: String,
}

impl Image {
    fn p(&self, n: &str) -> PathBuf {
        self.t.path().join(n)
    }

    fn new() -> Image {
        let root_dir = extract("dpkgroot/clean.tar.gz");
        let root = root_dir.path().to_path_buf();
        let t = tempfile::tempdir().expect("tmp");
        let img = Image {
            t,
            _root_dir: root_dir,
            root,
            tree: String::new(),
        };
        img.rescan()
    }

    /// Scans the root (again) into sbom.json and seal.json.
    fn rescan(mut self) -> Image {
        ok(&bps(&[
            "scan",
            s(&self.root),
            "-o",
            s(&self.p("sbom.json")),
            "-q",
        ]));
        let sbom: Value =
            serde_json::from_slice(&std::fs::read(self.p("sbom.json")).expect("sbom"))
                .expect("json");
        self.tree = sbom["metadata"]["component"]["hashes"][0]["content"]
            .as_str()
            .expect("tree digest")
            .to_string();
        let seal = bps(&["seal", "check", s(&self.root), "--format", "json"]);
        std::fs::write(self.p("seal.json"), &seal.stdout).expect("write");
        if !self.p("cosign.key").exists() {
            ok(&bps(&["key", "generate", "--output-dir", s(self.t.path())]));
            std::fs::create_dir(self.p("other")).expect("mkdir");
            ok(&bps(&[
                "key",
                "generate",
                "--output-dir",
                s(&self.p("other")),
            ]));
        }
        self
    }

    fn write_audit(&self, name: &str, v: &Value) -> PathBuf {
        let p = self.p(name);
        std::fs::write(&p, serde_json::to_vec_pretty(v).expect("json")).expect("write");
        p
    }

    /// `attest` with `extra` arguments into `out`.
    fn attest(&self, key: &Path, ami: &str, out: &Path, extra: &[&str]) -> Output {
        let (sbom, seal) = (self.p("sbom.json"), self.p("seal.json"));
        let ami = format!("{REGION}:{ami}");
        let mut args = vec![
            "attest",
            "--sbom",
            s(&sbom),
            "--seal",
            s(&seal),
            "--key",
            s(key),
            "--ami",
            &ami,
            "-o",
            s(out),
            "--allow-unsealed",
        ];
        args.extend_from_slice(extra);
        bps(&args)
    }
}

fn publish(dir: &Path, store: &Path) {
    ok(&bps(&["publish", "--store", s(store), s(dir)]));
}

fn index_files(dir: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index"))
        .expect("json");
    v["files"].as_array().expect("files").clone()
}

/// `verify --require-audit` (and `extra`) of the image at `root` against
/// `store`, as JSON: (exit code, result).
fn verify(root: &Path, store: &Path, key: &Path, endpoint: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "verify",
        "--store",
        s(store),
        "--key",
        s(key),
        "--root",
        s(root),
        "--imds-endpoint",
        endpoint,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = bps(&args);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&o)));
    if let Err(e) = common::schema::validate_with_schema("boot-result.schema.json", &v) {
        panic!("result does not match schemas/boot-result.schema.json: {e:?}\n{v:#}");
    }
    (o.status.code().unwrap_or(-1), v)
}

fn check<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == id)
}

#[test]
fn attest_audit_signs_a_third_statement_that_publish_and_fetch_carry() {
    let img = Image::new();
    let report = img.write_audit("audit.json", &audit_report(&img.tree, PASSING));
    let out = img.p("attest");
    ok(&img.attest(&img.p("cosign.key"), AMI, &out, &["--audit", s(&report)]));
    // The index lists the audit bundle with its predicate type and digest.
    let files = index_files(&out);
    let audit = files
        .iter()
        .find(|f| f["predicateType"] == AUDIT_TYPE)
        .unwrap_or_else(|| panic!("no audit bundle in {files:?}"));
    assert_eq!(audit["file"], "audit.sigstore.json");
    let bundle = out.join("audit.sigstore.json");
    assert_eq!(audit["sha256"].as_str(), Some(sha256_of(&bundle).as_str()));
    // The statement: same subjects and tree digest as the SBOM's, the
    // report itself as predicate.
    let b: Value = serde_json::from_slice(&std::fs::read(&bundle).expect("bundle")).expect("json");
    let payload = base64_decode(b["dsseEnvelope"]["payload"].as_str().expect("payload"));
    let st: Value = serde_json::from_slice(&payload).expect("statement");
    assert_eq!(st["predicateType"], AUDIT_TYPE);
    assert_eq!(st["subject"][0]["name"], format!("ami://{REGION}/{AMI}"));
    assert_eq!(st["subject"][0]["digest"]["sha256"], img.tree);
    assert_eq!(st["predicate"]["status"], "pass");
    assert_eq!(
        st["predicate"]["requirements"][1]["name"],
        "permitrootlogin"
    );
    // verify-attestation knows the kind.
    let o = bps(&[
        "verify-attestation",
        s(&bundle),
        "--key",
        s(&img.p("cosign.pub")),
        "--type",
        "audit",
    ]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("verified: https://bakeproof.dev/audit/v1")
    );
    // publish stores it, fetch returns it byte for byte.
    let store = img.p("store");
    publish(&out, &store);
    let fetched = img.p("fetched");
    ok(&bps(&[
        "fetch",
        "--store",
        s(&store),
        "--ami",
        &format!("{REGION}:{AMI}"),
        "-o",
        s(&fetched),
    ]));
    let got: Vec<PathBuf> = std::fs::read_dir(&fetched)
        .expect("fetched")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(
        got.iter()
            .any(|p| std::fs::read(p).ok() == std::fs::read(&bundle).ok()),
        "fetch did not return the audit bundle: {got:?}"
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

#[test]
fn attest_refuses_an_audit_of_another_tree_or_failing() {
    let img = Image::new();
    let out = img.p("attest");
    let other = img.write_audit("other.json", &audit_report(&"ab".repeat(32), PASSING));
    let o = img.attest(&img.p("cosign.key"), AMI, &out, &["--audit", s(&other)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("another image"), "{}", describe(&o));
    let mut unbound = audit_report(&img.tree, PASSING);
    unbound["image"]
        .as_object_mut()
        .expect("image")
        .remove("tree_digest");
    let unbound = img.write_audit("unbound.json", &unbound);
    let o = img.attest(&img.p("cosign.key"), AMI, &out, &["--audit", s(&unbound)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    // A status that is not what its requirements say.
    let mut lying = audit_report(&img.tree, FAILING);
    lying["status"] = json!("pass");
    let lying = img.write_audit("lying.json", &lying);
    let o = img.attest(&img.p("cosign.key"), AMI, &out, &["--audit", s(&lying)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let failing = img.write_audit("failing.json", &audit_report(&img.tree, FAILING));
    let o = img.attest(&img.p("cosign.key"), AMI, &out, &["--audit", s(&failing)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("sshd permitrootlogin"),
        "{}",
        describe(&o)
    );
    assert!(
        !out.join("index.json").exists(),
        "nothing written on refusal"
    );
    ok(&img.attest(
        &img.p("cosign.key"),
        AMI,
        &out,
        &["--audit", s(&failing), "--allow-failing-audit"],
    ));
}

#[test]
fn verify_require_audit_fails_closed() {
    let img = Image::new();
    let key = img.p("cosign.key");
    let other_key = img.p("other/cosign.key");
    let pubkey = img.p("cosign.pub");
    let passing = img.write_audit("pass.json", &audit_report(&img.tree, PASSING));
    let failing = img.write_audit("fail.json", &audit_report(&img.tree, FAILING));
    // Each variant of the attest output, published into its own store.
    let attest_to = |name: &str, key: &Path, extra: &[&str]| -> PathBuf {
        let out = img.p(&format!("attest-{name}"));
        ok(&img.attest(key, AMI, &out, extra));
        out
    };
    let good = attest_to("good", &key, &["--audit", s(&passing)]);
    let none = attest_to("none", &key, &[]);
    let bad = attest_to(
        "bad",
        &key,
        &["--audit", s(&failing), "--allow-failing-audit"],
    );
    let foreign = attest_to("foreign", &other_key, &["--audit", s(&passing)]);
    // Foreign: this image's trusted SBOM and seal bundles with an audit
    // bundle signed by another key, the index edited to list it.
    let mixed = img.p("attest-mixed");
    std::fs::create_dir(&mixed).expect("mkdir");
    for f in ["sbom.sigstore.json", "seal.sigstore.json", "index.json"] {
        std::fs::copy(good.join(f), mixed.join(f)).expect("copy");
    }
    std::fs::copy(
        foreign.join("audit.sigstore.json"),
        mixed.join("audit.sigstore.json"),
    )
    .expect("copy");
    let mut idx: Value =
        serde_json::from_slice(&std::fs::read(good.join("index.json")).expect("index"))
            .expect("json");
    for f in idx["files"].as_array_mut().expect("files") {
        if f["file"] == "audit.sigstore.json" {
            f["sha256"] = json!(sha256_of(&mixed.join("audit.sigstore.json")));
        }
    }
    std::fs::write(
        mixed.join("index.json"),
        serde_json::to_vec(&idx).expect("json"),
    )
    .expect("write");

    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    // First boot: a fresh machine-id (the root was scanned before it).
    std::fs::write(
        img.root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .expect("write");
    let run = |dir: &Path, extra: &[&str]| {
        let store = dir.with_extension("store");
        if !store.exists() {
            publish(dir, &store);
        }
        verify(&img.root, &store, &pubkey, &emu.endpoint, extra)
    };
    let allow = ["--allow-warn", "all"];
    let req = ["--allow-warn", "all", "--require-audit"];

    // Baseline: without --require-audit, every variant but the foreign
    // one verifies (an audit listed is verified like any bundle).
    let (code, v) = run(&good, &allow);
    assert_eq!(code, 0, "{v:#}");
    assert!(check(&v, "audit").is_none(), "not required, not checked");
    // A passing audit by the trusted key: verified, check audit passes.
    let (code, v) = run(&good, &req);
    assert_eq!(code, 0, "{v:#}");
    let c = check(&v, "audit").expect("audit check");
    assert_eq!(c["status"], "pass");
    assert!(
        c["detail"]
            .as_str()
            .expect("detail")
            .contains("SYS-2025-001")
    );
    // Missing.
    assert_eq!(run(&none, &allow).0, 0);
    let (code, v) = run(&none, &req);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(check(&v, "audit").expect("audit")["status"], "fail");
    // Failing: signed, valid, and not a pass.
    let (code, v) = run(&bad, &req);
    assert_eq!(code, 1, "{v:#}");
    let detail = check(&v, "audit").expect("audit")["detail"].to_string();
    assert!(detail.contains("sshd permitrootlogin"), "{detail}");
    // Signed by a key not trusted.
    let (code, v) = run(&mixed, &req);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["result"], "failed");
    assert!(check(&v, "audit").is_none_or(|c| c["status"] == "fail"));
    // Tampered in the store: the blob no longer has its digest.
    let good_store = good.with_extension("store");
    let audit_sha = sha256_of(&good.join("audit.sigstore.json"));
    let blob = find_file(&good_store, &audit_sha).expect("audit blob in the store");
    let mut bytes = std::fs::read(&blob).expect("blob");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&blob, &bytes).expect("write");
    let (code, v) = run(&good, &req);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["result"], "failed");
}

/// A file named `name` (or `name.*`) under `dir`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if p
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|n| n == name || n.starts_with(&format!("{name}.")))
        {
            return Some(p);
        }
    }
    None
}

#[test]
fn verify_require_audit_refuses_an_audit_of_another_tree() {
    // Two images of one AMI: the audit bundle of the second (its own tree,
    // signed by the trusted key) listed with the first's SBOM and seal.
    let img = Image::new();
    let key = img.p("cosign.key");
    let first = img.p("attest-first");
    let pass1 = img.write_audit("pass1.json", &audit_report(&img.tree, PASSING));
    ok(&img.attest(&key, AMI, &first, &["--audit", s(&pass1)]));
    std::fs::write(img.root.join("etc/motd"), "changed\n").expect("write");
    let img = img.rescan();
    let second = img.p("attest-second");
    let pass2 = img.write_audit("pass2.json", &audit_report(&img.tree, PASSING));
    ok(&img.attest(&key, AMI, &second, &["--audit", s(&pass2)]));
    std::fs::copy(
        second.join("audit.sigstore.json"),
        first.join("audit.sigstore.json"),
    )
    .expect("copy");
    let mut idx: Value =
        serde_json::from_slice(&std::fs::read(first.join("index.json")).expect("index"))
            .expect("json");
    for f in idx["files"].as_array_mut().expect("files") {
        if f["file"] == "audit.sigstore.json" {
            f["sha256"] = json!(sha256_of(&first.join("audit.sigstore.json")));
        }
    }
    std::fs::write(
        first.join("index.json"),
        serde_json::to_vec(&idx).expect("json"),
    )
    .expect("write");
    let store = img.p("store");
    publish(&first, &store);
    std::fs::write(
        img.root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .expect("write");
    let emu = Emulator::start(&["--ami-id", AMI, "--region", REGION]);
    let (code, v) = verify(
        &img.root,
        &store,
        &img.p("cosign.pub"),
        &emu.endpoint,
        &["--allow-warn", "all", "--require-audit"],
    );
    assert_eq!(code, 1, "{v:#}");
    let failed: Vec<&Value> = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert!(
        failed
            .iter()
            .any(|c| c["detail"].as_str().is_some_and(|d| d.contains("tree"))),
        "{v:#}"
    );
}

#[test]
fn diff_of_two_amis_shows_requirements_whose_status_changed() {
    let img = Image::new();
    let key = img.p("cosign.key");
    let store = img.p("store");
    let a_out = img.p("attest-a");
    let pass = img.write_audit("a.json", &audit_report(&img.tree, PASSING));
    ok(&img.attest(&key, AMI, &a_out, &["--audit", s(&pass)]));
    publish(&a_out, &store);
    std::fs::copy(img.p("sbom.json"), img.p("sbom-a.json")).expect("copy");
    std::fs::write(img.root.join("etc/motd"), "changed\n").expect("write");
    let img = img.rescan();
    let b_out = img.p("attest-b");
    let fail = img.write_audit("b.json", &audit_report(&img.tree, FAILING));
    ok(&img.attest(
        &key,
        AMI_B,
        &b_out,
        &["--audit", s(&fail), "--allow-failing-audit"],
    ));
    publish(&b_out, &store);
    let a = format!("{REGION}:{AMI}");
    let b = format!("{REGION}:{AMI_B}");
    let pubkey = img.p("cosign.pub");
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", &a, &b, "--store", s(&store), "--key", s(&pubkey)];
        args.extend_from_slice(extra);
        bps(&args)
    };
    let o = diff(&["--format", "json"]);
    ok(&o);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    common::schema::validate_with_schema("diff.schema.json", &v)
        .unwrap_or_else(|e| panic!("diff.schema.json: {e:?}\n{v:#}"));
    let audit = &v["audit"];
    assert_eq!(audit["compared"], true, "{v:#}");
    assert_eq!(audit["status"], json!({"from": "pass", "to": "fail"}));
    let changes = audit["changes"].as_array().expect("changes");
    assert_eq!(
        changes.len(),
        1,
        "only the requirement whose status changed: {audit:#}"
    );
    assert_eq!(changes[0]["kind"], "sshd");
    assert_eq!(changes[0]["name"], "permitrootlogin");
    assert_eq!(changes[0]["from"], "ok");
    assert_eq!(changes[0]["to"], "ng");
    assert_eq!(changes[0]["actual_to"], "yes");
    assert_eq!(changes[0]["direction"], "worse");
    let o = diff(&[]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("audit: pass -> fail"), "{text}");
    assert!(text.contains("sshd permitrootlogin ok -> ng"), "{text}");
    let o = diff(&["--format", "markdown"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| sshd permitrootlogin | no | ok | ng |"));
    // --fail-on audit: a requirement got worse.
    let o = diff(&["--fail-on", "audit"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    // The other way round it got better: nothing to fail on.
    let o = bps(&[
        "diff",
        &b,
        &a,
        "--store",
        s(&store),
        "--key",
        s(&img.p("cosign.pub")),
        "--fail-on",
        "audit",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    // Files: --old-audit/--new-audit beside the SBOMs they audited.
    let (sa, sb) = (img.p("sbom-a.json"), img.p("sbom.json"));
    let o = bps(&[
        "diff",
        s(&sa),
        s(&sb),
        "--old-audit",
        s(&pass),
        "--new-audit",
        s(&fail),
        "--format",
        "json",
    ]);
    ok(&o);
    let v2: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v2["audit"], v["audit"], "the same audit diff from files");
    // An audit beside the SBOM of another tree is refused, not compared.
    let o = bps(&["diff", s(&sa), s(&sb), "--old-audit", s(&fail)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("another image"), "{}", describe(&o));
    // Without audit reports the JSON has no audit member (as before).
    let o = bps(&["diff", s(&sa), s(&sb), "--format", "json"]);
    ok(&o);
    let v3: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v3.get("audit").is_none(), "{v3:#}");
}
