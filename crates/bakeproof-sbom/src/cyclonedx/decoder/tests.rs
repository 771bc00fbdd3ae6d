use super::*;
use serde_json::json;

fn bytes(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn doc(components: Value) -> Vec<u8> {
    bytes(json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}))
}

fn file(name: &str, props: &[(&str, &str)], sha: Option<&str>) -> Value {
    let mut c = json!({"type": "file", "name": name,
        "properties": props.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()});
    if let Some(h) = sha {
        c["hashes"] = json!([{"alg": "SHA-256", "content": h}]);
    }
    c
}

#[test]
fn purl_parts() {
    let p = parse_purl("pkg:rpm/redhat/openssl@1.1.1k-7.el8?arch=x86_64&epoch=1").unwrap();
    assert_eq!(p.ptype, "rpm");
    assert_eq!(p.namespace, "redhat");
    assert_eq!(p.name, "openssl");
    assert_eq!(p.version.as_deref(), Some("1.1.1k-7.el8"));
    let p = parse_purl("pkg:rpm/fx-data@1.0%5Egit20240101-2?arch=noarch").unwrap();
    assert_eq!(p.version.as_deref(), Some("1.0^git20240101-2"));
    assert_eq!(p.namespace, "");
    assert!(parse_purl("nope").is_none());
    assert_eq!(normalize_namespace("rhel"), "redhat");
    assert_eq!(normalize_namespace("openSUSE-leap"), "opensuse");
    assert_eq!(normalize_namespace("amzn"), "amazon");
}

#[test]
fn rejects_non_cyclonedx() {
    assert!(matches!(parse(b"{"), Err(DecodeError::Json(_))));
    assert!(matches!(
        parse(br#"{"spdxVersion": "SPDX-2.3"}"#),
        Err(DecodeError::NotCycloneDx(_))
    ));
    assert!(matches!(
        parse(br#"{"bomFormat": "SPDX", "specVersion": "1.5"}"#),
        Err(DecodeError::NotCycloneDx(_))
    ));
    assert!(matches!(
        parse(br#"{"bomFormat": "CycloneDX"}"#),
        Err(DecodeError::NotCycloneDx(_))
    ));
}

/// One rule for every reader: nested components are read like top-level
/// ones, packages and files alike (the first-boot check used to read
/// top-level components only, so a nested file or package escaped it).
#[test]
fn nested_components_are_flattened_for_packages_and_files() {
    let b = doc(json!([
        {"type": "library", "name": "outer", "version": "1", "purl": "pkg:deb/debian/outer@1?arch=all",
         "components": [
            {"type": "library", "name": "inner", "version": "2", "purl": "pkg:deb/debian/inner@2?arch=all"},
            file("/nested", &[("bakeproof:file:type", "file")], Some("aa"))
         ]},
        file("/top", &[("bakeproof:file:type", "file")], Some("bb")),
        {"type": "operating-system", "name": "debian", "version": "12"}
    ]));
    let s = parse(&b).unwrap();
    let names: Vec<&str> = s.components().filter_map(Component::name).collect();
    assert_eq!(names, ["outer", "inner", "/nested", "/top", "debian"]);
    let pkgs: Vec<&str> = s.packages().map(|p| p.name).collect();
    assert_eq!(pkgs, ["outer", "inner"]);
    let files: Vec<Vec<u8>> = s
        .file_map()
        .unwrap()
        .into_keys()
        .map(Cow::into_owned)
        .collect();
    assert_eq!(files, [b"/nested".to_vec(), b"/top".to_vec()]);
}

#[test]
fn package_identity_ignores_version_epoch_and_namespace_spelling() {
    let b = doc(json!([
        {"type": "library", "name": "openssl", "version": "1.1.1k-7",
         "purl": "pkg:rpm/rhel/openssl@1.1.1k-7?arch=x86_64&epoch=1&distro=rhel-8"},
        {"type": "application", "name": "openssl", "version": "1:1.1.1k-8",
         "purl": "pkg:rpm/redhat/openssl@1:1.1.1k-8?arch=x86_64"},
        {"type": "library", "name": "openssl", "version": "1:1.1.1k-8",
         "purl": "pkg:rpm/redhat/openssl@1:1.1.1k-8?arch=aarch64"},
        {"type": "library", "name": "nopurl", "version": "1"},
        {"type": "library", "name": "typed", "version": "1",
         "properties": [{"name": "bakeproof:package:type", "value": "DEB"},
                        {"name": "bakeproof:package:arch", "value": "amd64"}]}
    ]));
    let s = parse(&b).unwrap();
    let p: Vec<Package<'_>> = s.packages().collect();
    assert_eq!(p[0].id(), p[1].id());
    assert_ne!(p[1].id(), p[2].id(), "another architecture");
    assert_eq!(
        p[0].version, "1:1.1.1k-7",
        "the epoch qualifier joins the version"
    );
    assert_eq!(
        p[3].id(),
        PackageId {
            ptype: String::new(),
            namespace: String::new(),
            name: "nopurl".into(),
            variant: "1".into()
        }
    );
    assert_eq!(
        p[4].id(),
        PackageId {
            ptype: "deb".into(),
            namespace: String::new(),
            name: "typed".into(),
            variant: "amd64".into()
        }
    );
}

#[test]
fn twins_of_one_display_text_are_two_entries() {
    let lit = file("/a%FF", &[("bakeproof:file:mode", "0644")], Some("aa"));
    let raw = file(
        "/a%FF",
        &[("bakeproof:file:path-encoding", "percent")],
        Some("aa"),
    );
    let two = doc(json!([lit, raw]));
    let two = parse(&two).unwrap();
    let keys: Vec<Vec<u8>> = two
        .file_map()
        .unwrap()
        .into_keys()
        .map(Cow::into_owned)
        .collect();
    assert_eq!(keys, [b"/a%FF".to_vec(), b"/a\xFF".to_vec()]);
    let dup = doc(json!([file("/x", &[], None), file("/x", &[], None)]));
    assert!(matches!(
        parse(&dup).unwrap().file_map(),
        Err(DecodeError::File(_))
    ));
    let bad = doc(json!([file(
        "/%G",
        &[("bakeproof:file:path-encoding", "percent")],
        None
    )]));
    assert!(parse(&bad).unwrap().file_map().is_err());
    let unknown = doc(json!([file(
        "/x",
        &[("bakeproof:file:path-encoding", "base64")],
        None
    )]));
    assert!(parse(&unknown).unwrap().file_map().is_err());
    let nameless = doc(json!([{"type": "file"}]));
    assert!(parse(&nameless).unwrap().file_map().is_err());
}

fn with_metadata(m: Value) -> Vec<u8> {
    bytes(json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": m}))
}

#[test]
fn tree_digest_is_the_image_hash_cross_checked_with_every_property() {
    let d = "a".repeat(64);
    let hash = json!([{"alg": "SHA-256", "content": d}]);
    let prop = |v: &str| json!({"name": "bakeproof:tree-digest", "value": v});
    let want = Some(format!("sha256:{d}"));
    let td = |m: Value| parse(&with_metadata(m)).unwrap().tree_digest();
    // hash alone, hash and an equal property
    assert_eq!(td(json!({"component": {"hashes": hash}})), want);
    assert_eq!(
        td(json!({"component": {"hashes": hash}, "properties": [prop(&format!("sha256:{d}"))]})),
        want
    );
    // a property alone names no tree: the digest is the image's hash
    assert_eq!(
        td(json!({"component": {}, "properties": [prop(&format!("sha256:{d}"))]})),
        None
    );
    // any property that disagrees makes it inconsistent, not only the first
    assert_eq!(
        td(json!({"component": {"hashes": hash},
                  "properties": [prop(&format!("sha256:{d}")), prop(&format!("sha256:{}", "b".repeat(64)))]})),
        None
    );
    // not lower-case hex, not SHA-256, packages-only
    assert_eq!(
        td(json!({"component": {"hashes": [{"alg": "SHA-256", "content": "A".repeat(64)}]}})),
        None
    );
    assert_eq!(
        td(json!({"component": {"hashes": [{"alg": "SHA-512", "content": d}]}})),
        None
    );
    assert_eq!(
        tree_digest_of_metadata(Some(&json!({"component": {"hashes": hash,
            "properties": [{"name": "bakeproof:scan:mode", "value": "packages-only"}]}}))),
        Err(TreeDigestError::PackagesOnly)
    );
    assert_eq!(tree_digest_of_metadata(None), Err(TreeDigestError::Missing));
    assert_eq!(
        tree_digest_of_metadata(Some(&json!({"component": {"hashes": hash}}))),
        Ok(d)
    );
}

#[test]
fn tool_is_the_first_named() {
    let s = |m: Value| parse(&with_metadata(m)).unwrap().tool().map(str::to_owned);
    assert_eq!(
        s(json!({"tools": {"components": [{"name": "syft"}]}})).as_deref(),
        Some("syft")
    );
    assert_eq!(
        s(json!({"tools": [{"name": "trivy"}]})).as_deref(),
        Some("trivy")
    );
    assert_eq!(s(json!({})), None);
}

#[test]
fn packages_content_omits_files() {
    let s = |m: Value| parse(&with_metadata(m)).unwrap().omits_files();
    assert!(s(json!({"component": {"type": "container", "name": "i",
        "properties": [{"name": "bakeproof:sbom:content", "value": "packages"}]}})));
    assert!(!s(json!({"component": {"type": "container", "name": "i",
        "properties": [{"name": "bakeproof:sbom:content", "value": "files"}]}})));
    assert!(!s(json!({"component": {"type": "container", "name": "i"}})));
    assert!(!s(json!({})));
}
