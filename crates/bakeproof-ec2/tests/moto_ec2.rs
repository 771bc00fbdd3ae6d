//! bakeproof-ec2 against moto's EC2 on loopback (tests/tools/moto_ec2.py:
//! moto_server with EnableImageDeprecation / DisableImageDeprecation and
//! the block device mappings RegisterImage is given). Every image, instance
//! and snapshot is made with boto3, and every outcome is read back with
//! boto3 (an independent client) rather than with the code under test.
//!
//! The AWS SDK takes its endpoint and credentials from the environment, and
//! a test cannot set the environment of its own (threaded) process: each
//! test starts its own moto and runs its body in a child process of this
//! test binary (the same test, `--exact`) with that environment.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use bakeproof_ec2::{CleanupOutcome, DeprecationChange, Ec2, Ec2Error, Mirror};
use bakeproof_lifecycle::model::{Labels, State};
use bakeproof_lifecycle::time::{parse_rfc3339, rfc3339};

const CHILD: &str = "BAKEPROOF_EC2_TEST_CHILD";
const URL: &str = "BAKEPROOF_EC2_TEST_URL";

#[path = "../../bakeproof-store/tests/common/mod.rs"]
mod common;

use common::moto::{Moto, free_port};

/// The moto server of the child's test.
struct Env {
    url: String,
}

impl Env {
    /// Runs boto3 code with an `ec2` client bound to the server (region
    /// us-east-1); returns its stdout, trimmed.
    fn py(&self, code: &str) -> String {
        common::py(&self.url, code)
    }

    fn json(&self, code: &str) -> serde_json::Value {
        serde_json::from_str(&self.py(code)).unwrap()
    }

    /// A registered image (moto gives it a root snapshot) with `extra`
    /// more EBS volumes, each from a new snapshot.
    fn register(&self, name: &str, extra: usize) -> String {
        self.py(&format!(
            "maps = []\n\
             for n in range({extra}):\n\
             \x20   v = ec2.create_volume(Size=8, AvailabilityZone='us-east-1a')['VolumeId']\n\
             \x20   s = ec2.create_snapshot(VolumeId=v)['SnapshotId']\n\
             \x20   maps.append({{'DeviceName': '/dev/xvd' + 'bcdefg'[n], 'Ebs': {{'SnapshotId': s, 'VolumeSize': 8}}}})\n\
             print(ec2.register_image(Name='{name}', BlockDeviceMappings=maps)['ImageId'])"
        ))
    }

    fn image(&self, ami: &str) -> serde_json::Value {
        self.json(&format!(
            "r = ec2.describe_images(ImageIds=['{ami}'])['Images']\n\
             print(json.dumps(r[0] if r else None, default=str))"
        ))
    }

    fn tags(&self, ami: &str) -> std::collections::BTreeMap<String, String> {
        let img = self.image(ami);
        img["Tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        (
                            t["Key"].as_str().unwrap().to_string(),
                            t["Value"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn snapshot_exists(&self, snap: &str) -> bool {
        self.py(&format!(
            "ids = [s['SnapshotId'] for s in ec2.describe_snapshots(OwnerIds=['self'])['Snapshots']]\n\
             print('{snap}' in ids)"
        )) == "True"
    }

    fn ec2(&self) -> Ec2 {
        Ec2::connect("us-east-1").unwrap()
    }
}

/// In the parent: starts moto and runs test `name` again in a child with
/// the AWS environment pointing at it. In the child: runs `body`.
fn in_moto(name: &str, body: impl FnOnce(&Env)) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        let url = std::env::var(URL).unwrap();
        body(&Env { url });
        return;
    }
    let server = Moto::start_ec2();
    let url = server.url();
    run_child(name, &url);
}

fn run_child(name: &str, url: &str) {
    let o = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env(URL, url)
        .env("AWS_ENDPOINT_URL_EC2", url)
        .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "child test {name}:\n{out}");
    assert!(
        out.contains("1 passed"),
        "child test {name} did not run:\n{out}"
    );
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn labels() -> Labels {
    Labels {
        application: Some("web-server".into()),
        version: Some("1.0.0".into()),
        build_date: Some("2025-01-10T00:00:00Z".into()),
        extra: [("BuildNumber".to_string(), "001".to_string())].into(),
    }
}

fn mirror(state: State, sequence: u64, deprecate_at: Option<i64>) -> Mirror {
    Mirror {
        state,
        labels: labels(),
        sequence,
        record_digest: Some(format!("sha256:{:064x}", sequence)),
        deprecate_at,
    }
}

#[test]
fn describe_image_names_the_root_snapshot_and_every_volume() {
    in_moto(
        "describe_image_names_the_root_snapshot_and_every_volume",
        |env| {
            let ami = env.register("web-server-1.0.0-20250110-001", 2);
            let oracle = env.image(&ami);
            let ec2 = env.ec2();
            let info = ec2.describe_image(&ami).unwrap();
            assert_eq!(info.ami_id, ami);
            assert_eq!(info.name.as_deref(), Some("web-server-1.0.0-20250110-001"));
            let root = oracle["RootDeviceName"].as_str().unwrap();
            assert_eq!(info.root_device_name.as_deref(), Some(root));
            let maps = oracle["BlockDeviceMappings"].as_array().unwrap();
            assert_eq!(maps.len(), 3, "{oracle}");
            let want: Vec<(String, String)> = maps
                .iter()
                .map(|m| {
                    (
                        m["DeviceName"].as_str().unwrap().to_string(),
                        m["Ebs"]["SnapshotId"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let got: Vec<(String, String)> = info
                .volumes
                .iter()
                .map(|v| (v.device.clone(), v.snapshot_id.clone().unwrap()))
                .collect();
            assert_eq!(got, want);
            let root_snap = &want.iter().find(|(d, _)| d == root).unwrap().1;
            assert_eq!(info.root_snapshot.as_ref(), Some(root_snap));
            assert_eq!(info.snapshots().len(), 3);
            assert_eq!(&info.snapshots()[0], root_snap);

            let missing = "ami-0123456789abcdef0";
            match ec2.describe_image(missing) {
                Err(Ec2Error::NotFound { ami, .. }) => assert_eq!(ami, missing),
                other => panic!("{other:?}"),
            }
        },
    );
}

#[test]
fn mirror_copies_the_state_to_tags_and_the_deprecation_time() {
    in_moto(
        "mirror_copies_the_state_to_tags_and_the_deprecation_time",
        |env| {
            let ami = env.register("web", 0);
            env.py(&format!(
                "ec2.create_tags(Resources=['{ami}'], Tags=[{{'Key': 'Owner', 'Value': 'team-a'}}])"
            ));
            let ec2 = env.ec2();
            let t = now();

            // approved: the tags, no deprecation time
            let m = ec2
                .mirror(&ami, &mirror(State::Approved, 2, None), t)
                .unwrap();
            assert_eq!(m.deprecation, DeprecationChange::Unchanged);
            let tags = env.tags(&ami);
            assert_eq!(tags["Status"], "approved");
            assert_eq!(tags["Application"], "web-server");
            assert_eq!(tags["Version"], "1.0.0");
            assert_eq!(tags["BuildDate"], "2025-01-10T00:00:00Z");
            assert_eq!(tags["BuildNumber"], "001");
            assert_eq!(tags["bakeproof:lifecycle-sequence"], "2");
            assert_eq!(
                tags["bakeproof:lifecycle-record"],
                format!("sha256:{:064x}", 2)
            );
            assert_eq!(
                tags["Owner"], "team-a",
                "the team's own tags are left alone"
            );
            assert!(!tags.contains_key("DeprecationDate"));
            assert!(
                env.image(&ami)
                    .get("DeprecationTime")
                    .is_none_or(|v| v.is_null())
            );
            // the same state again: nothing to send
            let again = ec2
                .mirror(&ami, &mirror(State::Approved, 2, None), t)
                .unwrap();
            assert!(again.tags_set.is_empty() && again.tags_removed.is_empty());
            assert_eq!(again.deprecation, DeprecationChange::Unchanged);

            // deprecated from a date ahead: EC2's deprecation time is that date
            let at = (t / 60 + 3 * 24 * 60) * 60;
            let m = ec2
                .mirror(&ami, &mirror(State::Deprecated, 3, Some(at)), t)
                .unwrap();
            assert_eq!(
                m.deprecation,
                DeprecationChange::Enabled { at: rfc3339(at) }
            );
            let img = env.image(&ami);
            let ec2_at = parse_rfc3339(img["DeprecationTime"].as_str().unwrap()).unwrap();
            assert_eq!(ec2_at, at, "{img}");
            let tags = env.tags(&ami);
            assert_eq!(tags["Status"], "deprecated");
            assert_eq!(tags["DeprecationDate"], rfc3339(at));
            assert_eq!(tags["bakeproof:lifecycle-sequence"], "3");
            let again = ec2
                .mirror(&ami, &mirror(State::Deprecated, 3, Some(at)), t)
                .unwrap();
            assert_eq!(again.deprecation, DeprecationChange::Unchanged);

            // revoked (now): deprecated now in EC2 (EC2 takes no past time:
            // within the next minutes), not later than before
            let m = ec2
                .mirror(&ami, &mirror(State::Revoked, 4, Some(t - 3600)), t)
                .unwrap();
            let DeprecationChange::Enabled { at: now_at } = m.deprecation else {
                panic!("{m:?}");
            };
            let now_at = parse_rfc3339(&now_at).unwrap();
            assert!(now_at > t && now_at <= t + 120, "{now_at} vs {t}");
            let img = env.image(&ami);
            let ec2_at = parse_rfc3339(img["DeprecationTime"].as_str().unwrap()).unwrap();
            assert!(ec2_at > t && ec2_at <= t + 150, "{img}");
            assert_eq!(env.tags(&ami)["Status"], "revoked");

            // restored to approved: no deprecation time, no DeprecationDate
            let m = ec2
                .mirror(&ami, &mirror(State::Approved, 5, None), t)
                .unwrap();
            assert_eq!(m.deprecation, DeprecationChange::Disabled);
            assert_eq!(m.tags_removed, vec!["DeprecationDate".to_string()]);
            assert!(
                env.image(&ami)
                    .get("DeprecationTime")
                    .is_none_or(|v| v.is_null())
            );
            let tags = env.tags(&ami);
            assert_eq!(tags["Status"], "approved");
            assert_eq!(tags["bakeproof:lifecycle-sequence"], "5");
            assert!(!tags.contains_key("DeprecationDate"));
            assert_eq!(tags["Owner"], "team-a");

            // an image EC2 does not have
            let e = ec2
                .mirror(
                    "ami-0123456789abcdef0",
                    &mirror(State::Approved, 1, None),
                    t,
                )
                .unwrap_err();
            assert!(matches!(e, Ec2Error::NotFound { .. }), "{e}");
        },
    );
}

#[test]
fn find_usage_reads_every_page() {
    in_moto("find_usage_reads_every_page", |env| {
        let ami = env.register("web", 0);
        let other = env.register("other", 0);
        // 7 reservations of this image (one instance terminated), 1 of another
        let ids = env.py(&format!(
            "ids = []\n\
             for n in range(7):\n\
             \x20   ids += [i['InstanceId'] for i in ec2.run_instances(ImageId='{ami}', MinCount=1, MaxCount=1)['Instances']]\n\
             ec2.run_instances(ImageId='{other}', MinCount=1, MaxCount=1)\n\
             ec2.terminate_instances(InstanceIds=[ids[0]])\n\
             print(' '.join(sorted(ids)) + '|' + ids[0])"
        ));
        let (all, terminated) = ids.split_once('|').unwrap();
        let want: Vec<&str> = all.split(' ').collect();
        let ec2 = env.ec2().with_page_size(5);
        let found = ec2.find_usage(&ami).unwrap();
        let got: Vec<&str> = found.iter().map(|i| i.instance_id.as_str()).collect();
        assert_eq!(got, want, "every page, only this image's instances");
        let in_use: Vec<&str> = found
            .iter()
            .filter(|i| i.in_use())
            .map(|i| i.instance_id.as_str())
            .collect();
        assert_eq!(in_use.len(), 6);
        assert!(!in_use.contains(&terminated));
        assert!(found.iter().all(|i| i.launch_time.is_some()));
        assert!(
            ec2.find_usage(&env.register("unused", 0))
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn cleanup_keeps_the_newest_skips_used_images_and_deletes_snapshots() {
    in_moto(
        "cleanup_keeps_the_newest_skips_used_images_and_deletes_snapshots",
        |env| {
            // newest first: a b (kept) c d (in use) e (2 volumes) f (not in EC2)
            let a = env.register("web-1.0.5", 0);
            let b = env.register("web-1.0.4", 0);
            let c = env.register("web-1.0.3", 0);
            let d = env.register("web-1.0.2", 0);
            let e = env.register("web-1.0.1", 1);
            let f = "ami-0123456789abcdef0".to_string();
            env.py(&format!(
                "ec2.run_instances(ImageId='{d}', MinCount=1, MaxCount=1)"
            ));
            let snaps = |ami: &str| -> Vec<String> {
                env.image(ami)["BlockDeviceMappings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["Ebs"]["SnapshotId"].as_str().unwrap().to_string())
                    .collect()
            };
            let (sc, se) = (snaps(&c), snaps(&e));
            assert_eq!(se.len(), 2);
            let order = vec![
                a.clone(),
                b.clone(),
                c.clone(),
                d.clone(),
                e.clone(),
                f.clone(),
            ];
            let ec2 = env.ec2();

            // dry run: says what it would do, changes nothing
            let dry = ec2.cleanup(&order, 2, false);
            assert!(!dry.applied);
            assert_eq!(dry.kept, vec![a.clone(), b.clone()]);
            let outcomes: Vec<(&str, &CleanupOutcome)> = dry
                .items
                .iter()
                .map(|i| (i.ami_id.as_str(), &i.outcome))
                .collect();
            let in_use = |o: &CleanupOutcome| matches!(o, CleanupOutcome::InUse { instances } if instances.len() == 1);
            assert_eq!(outcomes.len(), 4);
            assert_eq!(outcomes[0], (c.as_str(), &CleanupOutcome::WouldDelete));
            assert!(outcomes[1].0 == d && in_use(outcomes[1].1), "{outcomes:?}");
            assert_eq!(outcomes[2], (e.as_str(), &CleanupOutcome::WouldDelete));
            assert_eq!(outcomes[3], (f.as_str(), &CleanupOutcome::NotInEc2));
            let would: Vec<String> = dry.items[2]
                .snapshots
                .iter()
                .map(|s| s.snapshot_id.clone())
                .collect();
            assert_eq!(would, se);
            for ami in [&a, &b, &c, &d, &e] {
                assert!(!env.image(ami).is_null(), "dry run deregistered {ami}");
            }
            assert!(sc.iter().chain(&se).all(|s| env.snapshot_exists(s)));

            // --yes
            let done = ec2.cleanup(&order, 2, true);
            assert!(done.applied && done.complete(), "{done:?}");
            assert_eq!(done.items[0].outcome, CleanupOutcome::Deleted);
            assert!(in_use(&done.items[1].outcome));
            assert_eq!(done.items[2].outcome, CleanupOutcome::Deleted);
            assert_eq!(done.items[3].outcome, CleanupOutcome::NotInEc2);
            for ami in [&c, &e] {
                assert!(env.image(ami).is_null(), "{ami} still registered");
            }
            for ami in [&a, &b, &d] {
                assert!(!env.image(ami).is_null(), "{ami} was deregistered");
            }
            for s in sc.iter().chain(&se) {
                assert!(!env.snapshot_exists(s), "snapshot {s} left");
            }
            assert!(snaps(&d).iter().all(|s| env.snapshot_exists(s)));

            // keep more than there are: nothing to do
            let none = ec2.cleanup(&order[..2], 5, true);
            assert!(none.items.is_empty() && none.kept.len() == 2);
        },
    );
}

#[test]
fn a_snapshot_another_image_maps_is_reported_not_lost() {
    in_moto(
        "a_snapshot_another_image_maps_is_reported_not_lost",
        |env| {
            // old and new share a data snapshot (as after a re-registration)
            let shared = env.py(
                "v = ec2.create_volume(Size=8, AvailabilityZone='us-east-1a')['VolumeId']\n\
             print(ec2.create_snapshot(VolumeId=v)['SnapshotId'])",
            );
            let reg = |name: &str| {
                env.py(&format!(
                "print(ec2.register_image(Name='{name}', BlockDeviceMappings=[{{'DeviceName': '/dev/xvdb', 'Ebs': {{'SnapshotId': '{shared}'}}}}])['ImageId'])"
            ))
            };
            let new = reg("new");
            let old = reg("old");
            let r = env.ec2().cleanup(&[new.clone(), old.clone()], 1, true);
            assert_eq!(r.items.len(), 1);
            assert_eq!(r.items[0].outcome, CleanupOutcome::Deleted);
            let s = r.items[0]
                .snapshots
                .iter()
                .find(|s| s.snapshot_id == shared)
                .unwrap();
            let err = s.error.as_deref().unwrap();
            assert!(err.contains("InvalidSnapshot.InUse"), "{err}");
            assert!(!r.complete());
            assert!(env.snapshot_exists(&shared));
            assert!(!env.image(&new).is_null());
        },
    );
}

#[test]
fn ec2_down_is_a_clear_error() {
    const NAME: &str = "ec2_down_is_a_clear_error";
    if std::env::var(CHILD).as_deref() == Ok(NAME) {
        let ec2 = Ec2::connect("us-east-1").unwrap();
        let e = ec2.describe_image("ami-0123456789abcdef0").unwrap_err();
        let Ec2Error::Api { op, message, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(*op, "DescribeImages");
        assert!(message.contains("cannot reach"), "{e}");
        let e = ec2.find_usage("ami-0123456789abcdef0").unwrap_err();
        assert!(
            matches!(
                e,
                Ec2Error::Api {
                    op: "DescribeInstances",
                    ..
                }
            ),
            "{e}"
        );
        // cleanup stops at the first failure and says it
        let r = ec2.cleanup(
            &[
                "ami-0123456789abcdef0".into(),
                "ami-0123456789abcdef1".into(),
            ],
            0,
            true,
        );
        assert_eq!(r.items.len(), 1);
        assert!(matches!(r.items[0].outcome, CleanupOutcome::Failed { .. }));
        assert!(!r.complete());
        return;
    }
    // nothing listens on a port just freed
    run_child(NAME, &format!("http://127.0.0.1:{}", free_port()));
}
