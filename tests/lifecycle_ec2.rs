//! The lifecycle commands with `--ec2`, `lifecycle find-usage` and
//! `lifecycle cleanup` through the binary, against moto's EC2 on loopback
//! (tests/tools/moto_ec2.py) and a store directory; every EC2 outcome is
//! read back with boto3, not with bakeproof.

mod common;

use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use common::attest::{AttestInputs, attest_inputs};
use common::moto::{Moto, free_port, test_aws_env};
use common::run::{bakeproof_bin, describe};

const PASSWORD: &str = "lifecycle-ec2-test-password";

fn bp(ec2_url: &str, args: &[&str]) -> Output {
    let mut c = Command::new(bakeproof_bin());
    test_aws_env(c.args(args))
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_EC2", ec2_url);
    c.output().expect("run bakeproof")
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn image(m: &Moto, ami: &str) -> serde_json::Value {
    serde_json::from_str(&m.py(&format!(
        "import json\n\
         r = ec2.describe_images(ImageIds=['{ami}'])['Images']\n\
         print(json.dumps(r[0] if r else None, default=str))"
    )))
    .unwrap()
}

fn tag(img: &serde_json::Value, key: &str) -> Option<String> {
    img["Tags"]
        .as_array()?
        .iter()
        .find_map(|t| (t["Key"] == key).then(|| t["Value"].as_str().unwrap_or("").to_string()))
}

fn deprecation_time(img: &serde_json::Value) -> Option<i64> {
    let s = img.get("DeprecationTime")?.as_str()?;
    Some(
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp(),
    )
}

/// Registers `n` images in moto, attests and publishes them to a store
/// directory; returns the inputs and the AMI ids.
fn published(m: &Moto, n: usize) -> (AttestInputs, Vec<String>) {
    let a = attest_inputs(PASSWORD);
    let ids: Vec<String> = m
        .py(&format!(
            "print(' '.join(ec2.register_image(Name='web-server-1.0.%d' % i)['ImageId'] for i in range({n})))"
        ))
        .split(' ')
        .map(str::to_string)
        .collect();
    let mut args = vec![
        "attest".to_string(),
        "--sbom".into(),
        a.s("sbom.cdx.json"),
        "--seal".into(),
        a.s("seal.json"),
        "--key".into(),
        a.s("cosign.key"),
        "-o".into(),
        a.s("att"),
    ];
    for id in &ids {
        args.push("--ami".into());
        args.push(format!("us-east-1:{id}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&bp(&m.url(), &args));
    ok(&bp(
        &m.url(),
        &["publish", "--store", &a.s("store"), &a.s("att")],
    ));
    (a, ids)
}

#[test]
fn ec2_mirror_find_usage_and_cleanup_through_the_cli() {
    let m = Moto::start_ec2();
    let url = m.url();
    let (a, ids) = published(&m, 3);
    let (old, new, other) = (&ids[0], &ids[1], &ids[2]);
    let store = a.s("store");
    let key = a.s("cosign.key");
    let public = a.s("cosign.pub");
    let ami = |id: &str| format!("us-east-1:{id}");
    let write = |args: &[&str]| {
        let mut v: Vec<&str> = args.to_vec();
        v.extend(["--store", &store, "--key", &key, "--ec2"]);
        bp(&url, &v)
    };

    // approve with labels: the tags, no deprecation time
    let out = ok(&write(&[
        "lifecycle",
        "approve",
        &ami(old),
        "--application",
        "web-server",
        "--version",
        "1.0.0",
        "--build-date",
        "2025-01-10",
    ]));
    assert!(out.contains("ec2: "), "{out}");
    let img = image(&m, old);
    assert_eq!(tag(&img, "Status").as_deref(), Some("approved"), "{img}");
    assert_eq!(tag(&img, "Application").as_deref(), Some("web-server"));
    assert_eq!(tag(&img, "Version").as_deref(), Some("1.0.0"));
    assert!(
        tag(&img, "BuildDate").is_some_and(|d| d.starts_with("2025-01-10")),
        "{img}"
    );
    assert_eq!(
        tag(&img, "bakeproof:lifecycle-sequence").as_deref(),
        Some("1")
    );
    assert!(tag(&img, "bakeproof:lifecycle-record").is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(deprecation_time(&img), None);

    let o = write(&[
        "lifecycle",
        "approve",
        &ami(new),
        "--application",
        "web-server",
        "--version",
        "1.0.1",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["ec2"]["ami"], new.as_str(), "{v}");
    assert_eq!(v["ec2"]["tagsSet"]["Status"], "approved", "{v}");

    // the channel moves to the new AMI and deprecates the old one, in EC2 too
    ok(&write(&["channel", "set", "prod", &ami(old)]));
    let t0 = now();
    ok(&write(&[
        "channel",
        "set",
        "prod",
        &ami(new),
        "--deprecate-previous",
    ]));
    let img = image(&m, old);
    assert_eq!(tag(&img, "Status").as_deref(), Some("deprecated"), "{img}");
    assert!(tag(&img, "DeprecationDate").is_some());
    let at = deprecation_time(&img).expect("EC2 deprecation time");
    assert!(at > t0 && at <= now() + 120, "{at} vs {t0}");
    assert_eq!(tag(&image(&m, new), "Status").as_deref(), Some("approved"));

    // revoke and restore: deprecated at once in EC2, then not
    ok(&write(&[
        "lifecycle",
        "revoke",
        &ami(other),
        "--reason",
        "CVE-2025-0001",
    ]));
    let img = image(&m, other);
    assert_eq!(tag(&img, "Status").as_deref(), Some("revoked"));
    assert!(deprecation_time(&img).is_some());
    ok(&write(&[
        "lifecycle",
        "restore",
        &ami(other),
        "--reason",
        "false alarm",
    ]));
    let img = image(&m, other);
    assert_eq!(tag(&img, "Status").as_deref(), Some("built"), "{img}");
    assert_eq!(deprecation_time(&img), None);
    assert_eq!(tag(&img, "DeprecationDate"), None);

    // find-usage
    let inst = m.py(&format!(
        "print(ec2.run_instances(ImageId='{old}', MinCount=1, MaxCount=1)['Instances'][0]['InstanceId'])"
    ));
    let o = bp(
        &url,
        &["lifecycle", "find-usage", &ami(old), "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["inUse"], 1, "{v}");
    assert_eq!(v["instances"][0]["instanceId"], inst.as_str());
    let text = ok(&bp(&url, &["lifecycle", "find-usage", &ami(new)]));
    assert!(text.contains("0 instance(s) in use"), "{text}");

    // cleanup: the old AMI is the application's one deprecated AMI; kept
    // out while an instance uses it, then deregistered with its snapshot
    let snaps: Vec<String> = image(&m, old)["BlockDeviceMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Ebs"]["SnapshotId"].as_str().unwrap().to_string())
        .collect();
    assert!(!snaps.is_empty());
    let cleanup = |extra: &[&str]| {
        let mut v = vec![
            "lifecycle",
            "cleanup",
            "--keep",
            "0",
            "--application",
            "web-server",
            "--store",
            &store,
            "--key",
            &public,
            "--format",
            "json",
        ];
        v.extend(extra);
        bp(&url, &v)
    };
    let v: serde_json::Value = serde_json::from_str(&ok(&cleanup(&["--yes"]))).unwrap();
    let item = &v["regions"][0]["items"][0];
    assert_eq!(item["ami"], ami(old).as_str(), "{v}");
    assert_eq!(item["outcome"], "in-use", "{v}");
    assert_eq!(item["instances"][0], inst.as_str());
    assert!(!image(&m, old).is_null());

    m.py(&format!("ec2.terminate_instances(InstanceIds=['{inst}'])"));
    let dry = ok(&bp(
        &url,
        &[
            "lifecycle",
            "cleanup",
            "--keep",
            "0",
            "--application",
            "web-server",
            "--store",
            &store,
            "--key",
            &public,
        ],
    ));
    assert!(
        dry.contains("would deregister") && dry.contains("dry run"),
        "{dry}"
    );
    assert!(!image(&m, old).is_null(), "a dry run deregistered");
    let v: serde_json::Value = serde_json::from_str(&ok(&cleanup(&["--yes"]))).unwrap();
    assert_eq!(v["regions"][0]["items"][0]["outcome"], "deleted", "{v}");
    assert_eq!(v["complete"], true);
    assert!(image(&m, old).is_null(), "still registered");
    assert!(!image(&m, new).is_null());
    let left = m.py(&format!(
        "ids = [s['SnapshotId'] for s in ec2.describe_snapshots(OwnerIds=['self'])['Snapshots']]\n\
         print(sum(1 for s in {snaps:?} if s in ids))"
    ));
    assert_eq!(left, "0", "snapshots left");

    // EC2 down: the record is written, the command says so and exits 2
    let dead = format!("http://127.0.0.1:{}", free_port());
    let new_ami = ami(new);
    let o = bp(
        &dead,
        &[
            "lifecycle",
            "deprecate",
            &new_ami,
            "--store",
            &store,
            "--key",
            &key,
            "--ec2",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--ec2"),
        "{}",
        describe(&o)
    );
    let st = ok(&bp(
        &url,
        &[
            "lifecycle",
            "status",
            &ami(new),
            "--store",
            &store,
            "--key",
            &public,
        ],
    ));
    assert!(st.contains("deprecated"), "{st}");
}
