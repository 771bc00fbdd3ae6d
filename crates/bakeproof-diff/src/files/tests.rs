use super::*;
use bakeproof_sbom::cyclonedx::parse;
use serde_json::{Value, json};

fn file(name: &str, props: &[(&str, &str)], sha: Option<&str>) -> Value {
    let mut c = json!({"type": "file", "name": name,
        "properties": props.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()});
    if let Some(h) = sha {
        c["hashes"] = json!([{"alg": "SHA-256", "content": h}]);
    }
    c
}

fn bytes(components: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": components}))
    .unwrap()
}

fn cmp(a: &[u8], l: &[u8], mutable: &dyn Fn(&[u8]) -> bool) -> Vec<(String, &'static str)> {
    let (a, l) = (parse(a).unwrap(), parse(l).unwrap());
    compare_entries(&a, &l, mutable)
        .unwrap()
        .into_iter()
        .map(|c| (bakeproof_index::encode_path(&c.path), c.change.as_str()))
        .collect()
}

const T: &str = "bakeproof:file:type";
const M: &str = "bakeproof:file:mode";

#[test]
fn twins_of_one_display_text_are_two_entries() {
    let lit = file("/a%FF", &[(T, "file"), (M, "0644")], Some("aa"));
    let raw = file(
        "/a%FF",
        &[
            (T, "file"),
            (M, "0644"),
            ("bakeproof:file:path-encoding", "percent"),
        ],
        Some("aa"),
    );
    let two = bytes(vec![lit.clone(), raw.clone()]);
    let two = parse(&two).unwrap();
    let keys: Vec<Vec<u8>> = two
        .file_map()
        .unwrap()
        .into_keys()
        .map(Cow::into_owned)
        .collect();
    assert_eq!(keys, [b"/a%FF".to_vec(), b"/a\xFF".to_vec()]);
    let l = bytes(vec![
        file("/a%FF", &[(T, "file"), (M, "0644")], Some("bb")),
        raw,
    ]);
    let got = cmp(&bytes(vec![lit]), &l, &|_| false);
    assert_eq!(
        got,
        [("/a%FF".into(), "modified"), ("/a%FF".into(), "added")]
    );
    let dup = bytes(vec![file("/x", &[], None), file("/x", &[], None)]);
    let d = parse(&dup).unwrap();
    assert!(matches!(d.file_map(), Err(DecodeError::File(_))));
    let bad = bytes(vec![file(
        "/%G",
        &[("bakeproof:file:path-encoding", "percent")],
        None,
    )]);
    assert!(parse(&bad).unwrap().file_map().is_err());
}

#[test]
fn every_kind_of_entry_is_compared() {
    let lt = "bakeproof:file:link-target";
    let a = bytes(vec![
        file("/l", &[(T, "symlink"), (M, "0777"), (lt, "x")], None),
        file("/s", &[(T, "symlink"), (M, "0777"), (lt, "y")], None),
        file("/d", &[(T, "directory"), (M, "0755")], None),
        file("/gone", &[(T, "directory"), (M, "0755")], None),
        file(
            "/c",
            &[
                (T, "char-device"),
                (M, "0600"),
                ("bakeproof:file:rdev", "1:3"),
            ],
            None,
        ),
        file(
            "/mnt",
            &[
                (T, "directory"),
                (M, "0755"),
                ("bakeproof:file:skipped", "mount"),
            ],
            None,
        ),
        file(
            "/t",
            &[
                (T, "symlink"),
                (M, "0777"),
                (lt, "%FF"),
                ("bakeproof:file:link-target-encoding", "percent"),
            ],
            None,
        ),
    ]);
    let l = bytes(vec![
        file("/l", &[(T, "symlink"), (M, "0777"), (lt, "z")], None),
        file("/s", &[(T, "file"), (M, "4755")], Some("aa")),
        file("/d", &[(T, "directory"), (M, "0777")], None),
        file(
            "/c",
            &[
                (T, "char-device"),
                (M, "0600"),
                ("bakeproof:file:rdev", "1:5"),
            ],
            None,
        ),
        file(
            "/mnt",
            &[
                (T, "directory"),
                (M, "0700"),
                ("bakeproof:file:skipped", "mount"),
            ],
            None,
        ),
        file("/t", &[(T, "symlink"), (M, "0777"), (lt, "%FF")], None),
        file("/fifo", &[(T, "fifo"), (M, "0644")], None),
        file("/var/log", &[(T, "directory"), (M, "0755")], None),
        file("/var/log/x", &[(T, "file"), (M, "0644")], Some("aa")),
    ]);
    let mutable = |p: &[u8]| p.starts_with(b"/var/log/");
    assert_eq!(
        cmp(&a, &l, &mutable),
        [
            ("/c".into(), "device"),
            ("/d".into(), "mode"),
            ("/fifo".into(), "added"),
            ("/gone".into(), "missing"),
            ("/l".into(), "target"),
            ("/s".into(), "type"),
            ("/t".into(), "target"),
        ]
    );
    assert_eq!(cmp(&a, &a, &|_| false), []);
}

/// A file component nested in another component is an entry like any
/// other: the first-boot comparison used to read top-level components only,
/// so an attested file hidden one level down was never compared.
#[test]
fn nested_file_components_are_compared() {
    let nested = |sha: &str| {
        serde_json::to_vec(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [{"type": "library", "name": "p", "version": "1",
                "components": [file("/usr/bin/p", &[(T, "file"), (M, "0755")], Some(sha))]}]}))
        .unwrap()
    };
    let top = bytes(vec![file(
        "/usr/bin/p",
        &[(T, "file"), (M, "0755")],
        Some("aa"),
    )]);
    assert_eq!(cmp(&nested("aa"), &top, &|_| false), []);
    assert_eq!(
        cmp(&nested("aa"), &nested("bb"), &|_| false),
        [("/usr/bin/p".into(), "modified")]
    );
    assert_eq!(
        cmp(&nested("aa"), &bytes(vec![]), &|_| false),
        [("/usr/bin/p".into(), "missing")]
    );
}
