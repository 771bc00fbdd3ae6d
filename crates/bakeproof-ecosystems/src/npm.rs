//! npm: an installed package's `package.json` (`node_modules/**/package.json`)
//! and lockfiles (`package-lock.json` / `npm-shrinkwrap.json` v1-v3).

use serde_json::{Map, Value};

use crate::{CatalogError, Ecosystem, LangPackage};

/// Largest package.json / lockfile the observer keeps.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// Deepest v1 lockfile `dependencies` nesting followed (each level is one
/// `node_modules` inside another; npm itself never writes 64).
const MAX_LOCK_DEPTH: usize = 64;

const PROP_RESOLVED: &str = "bakeproof:package:npm:resolved";
const PROP_INTEGRITY: &str = "bakeproof:package:npm:integrity";
const PROP_LOCK_PATH: &str = "bakeproof:package:npm:lock-path";

/// The package an installed `package.json` describes (name with its scope
/// in `namespace`, version, licence, `_resolved`/`_integrity` as
/// properties `bakeproof:package:npm:resolved` / `:integrity`).
///
/// A `package.json` without a name or a version is no installed package
/// (npm writes both into every package it installs): `NotFormat`.
pub fn parse_package_json(bytes: &[u8]) -> Result<LangPackage, CatalogError> {
    const FORMAT: &str = "package.json";
    let v: Value = serde_json::from_slice(strip_bom(bytes))
        .map_err(|e| CatalogError::malformed(FORMAT, e.to_string()))?;
    let Value::Object(o) = v else {
        return Err(CatalogError::NotFormat(FORMAT));
    };
    let (Some(name), Some(version)) = (str_of(&o, "name"), str_of(&o, "version")) else {
        return Err(CatalogError::NotFormat(FORMAT));
    };
    let mut p = named(name, version).ok_or_else(|| CatalogError::malformed(FORMAT, "bad name"))?;
    p.found_by = "node_modules";
    p.licenses = licenses(&o);
    p.summary = str_of(&o, "description").map(str::to_owned);
    p.homepage = str_of(&o, "homepage").map(str::to_owned);
    p.author = person(o.get("author"));
    if let Some(Value::Object(deps)) = o.get("dependencies") {
        p.depends = deps.keys().cloned().collect();
    }
    if let Some(r) = str_of(&o, "_resolved") {
        p.properties.push((PROP_RESOLVED.into(), r.into()));
    }
    if let Some(i) = str_of(&o, "_integrity") {
        p.properties.push((PROP_INTEGRITY.into(), i.into()));
    }
    Ok(p)
}

/// Every package a lockfile pins (v1 `dependencies` tree, v2/v3
/// `packages` map), the project itself first (`primary`, when it has a
/// name and a version). Links
/// (`"link": true`, workspace members) are not packages of their own: the
/// entry they point to is. Development dependencies (`"dev": true`) are
/// left out: a lockfile is read only where no `node_modules` is installed,
/// to say what `npm ci --omit=dev` puts on the image.
pub fn parse_lockfile(bytes: &[u8]) -> Result<Vec<LangPackage>, CatalogError> {
    const FORMAT: &str = "package-lock.json";
    let v: Value = serde_json::from_slice(strip_bom(bytes))
        .map_err(|e| CatalogError::malformed(FORMAT, e.to_string()))?;
    let Value::Object(o) = v else {
        return Err(CatalogError::NotFormat(FORMAT));
    };
    let mut out = Vec::new();
    if let Some(Value::Object(pkgs)) = o.get("packages") {
        // v2/v3: keys are install paths, "" the root project.
        for (key, entry) in pkgs {
            let Value::Object(e) = entry else { continue };
            if key.is_empty() {
                if let Some(p) = root_project(e) {
                    out.insert(0, p);
                }
                continue;
            }
            if is_true(e, "link") || is_true(e, "dev") {
                continue;
            }
            let name = match str_of(e, "name") {
                Some(n) => n,
                None => match key.rfind("node_modules/") {
                    Some(i) => &key[i + "node_modules/".len()..],
                    // A workspace member's own entry ("packages/foo"),
                    // without a name of its own: not an installed package.
                    None => continue,
                },
            };
            let Some(version) = str_of(e, "version") else {
                continue;
            };
            if let Some(mut p) = named(name, version) {
                lock_details(&mut p, e);
                p.properties.push((PROP_LOCK_PATH.into(), key.clone()));
                out.push(p);
            }
        }
        return Ok(out);
    }
    if let Some(p) = root_project(&o) {
        out.push(p);
    }
    match o.get("dependencies") {
        Some(Value::Object(deps)) => {
            walk_v1(deps, "", 0, &mut out)?;
            Ok(out)
        }
        _ if o.contains_key("lockfileVersion") => Ok(out),
        _ => Err(CatalogError::NotFormat(FORMAT)),
    }
}

/// The project the lockfile is of (v2/v3: the `""` entry; v1: the top
/// level), `primary`, as syft and `npm ls` list it.
fn root_project(e: &Map<String, Value>) -> Option<LangPackage> {
    let mut p = named(str_of(e, "name")?, str_of(e, "version")?)?;
    p.found_by = "package-lock";
    p.primary = true;
    p.licenses = licenses(e);
    Some(p)
}

fn walk_v1(
    deps: &Map<String, Value>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<LangPackage>,
) -> Result<(), CatalogError> {
    if depth >= MAX_LOCK_DEPTH {
        return Err(CatalogError::TooLarge {
            format: "package-lock.json",
            detail: format!("dependencies nested more than {MAX_LOCK_DEPTH} deep"),
        });
    }
    for (name, entry) in deps {
        let Value::Object(e) = entry else { continue };
        let path = format!("{prefix}node_modules/{name}");
        if !is_true(e, "dev")
            && let Some(version) = str_of(e, "version")
            && let Some(mut p) = named(name, version)
        {
            lock_details(&mut p, e);
            p.properties.push((PROP_LOCK_PATH.into(), path.clone()));
            out.push(p);
        }
        if let Some(Value::Object(nested)) = e.get("dependencies") {
            walk_v1(nested, &format!("{path}/"), depth + 1, out)?;
        }
    }
    Ok(())
}

fn lock_details(p: &mut LangPackage, e: &Map<String, Value>) {
    p.found_by = "package-lock";
    p.licenses = licenses(e);
    if let Some(r) = str_of(e, "resolved") {
        p.properties.push((PROP_RESOLVED.into(), r.into()));
    }
    if let Some(i) = str_of(e, "integrity") {
        p.properties.push((PROP_INTEGRITY.into(), i.into()));
    }
    // v2/v3 "dependencies" is a map of ranges; v1's "requires" is.
    for key in ["dependencies", "requires"] {
        if let Some(Value::Object(d)) = e.get(key)
            && d.values().all(Value::is_string)
        {
            p.depends.extend(d.keys().cloned());
        }
    }
}

/// A package named `@scope/name` or `name`.
fn named(name: &str, version: &str) -> Option<LangPackage> {
    if name.is_empty() {
        return None;
    }
    let (ns, n) = match name.strip_prefix('@') {
        Some(rest) => {
            let (scope, n) = rest.split_once('/')?;
            (Some(format!("@{scope}")), n)
        }
        None => (None, name),
    };
    if n.is_empty() || n.contains('/') {
        return None;
    }
    let mut p = LangPackage::new(Ecosystem::Npm, n, version);
    p.namespace = ns;
    Some(p)
}

/// `license` as a string (SPDX expression), or the legacy object form
/// `{"type": ...}`, or the older `licenses: [{"type": ...}]`.
fn licenses(o: &Map<String, Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Object(l) => l
            .get("type")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned()),
        _ => None,
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(l) = o.get("license").and_then(one) {
        out.push(l);
    } else if let Some(Value::Array(ls)) = o.get("licenses") {
        out.extend(ls.iter().filter_map(one));
    }
    out.retain(|l| !l.is_empty());
    out
}

/// An `author` as a string or `{"name", "email"}`.
fn person(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Object(o) => {
            let name = o.get("name").and_then(Value::as_str)?.trim();
            if name.is_empty() {
                return None;
            }
            Some(match o.get("email").and_then(Value::as_str) {
                Some(e) if !e.is_empty() => format!("{name} <{e}>"),
                _ => name.to_owned(),
            })
        }
        _ => None,
    }
}

fn str_of<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn is_true(o: &Map<String, Value>, key: &str) -> bool {
    o.get(key).and_then(Value::as_bool) == Some(true)
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_package_json() {
        let p = parse_package_json(
            br#"{"name":"@types/node","version":"20.1.0","license":"MIT",
                "author":{"name":"A","email":"a@x"},"dependencies":{"undici-types":"~5"},
                "_resolved":"https://registry.npmjs.org/@types/node/-/node-20.1.0.tgz",
                "_integrity":"sha512-abc"}"#,
        )
        .unwrap();
        assert_eq!(p.namespace.as_deref(), Some("@types"));
        assert_eq!(p.name, "node");
        assert_eq!(p.licenses, vec!["MIT"]);
        assert_eq!(p.author.as_deref(), Some("A <a@x>"));
        assert_eq!(p.depends, vec!["undici-types"]);
        assert_eq!(p.properties.len(), 2);
        let p = parse_package_json(
            br#"{"name":"x","version":"1.0.0","licenses":[{"type":"BSD"},{"type":"MIT"}]}"#,
        )
        .unwrap();
        assert_eq!(p.licenses, vec!["BSD", "MIT"]);
        assert_eq!(
            parse_package_json(br#"{"type":"module"}"#),
            Err(CatalogError::NotFormat("package.json"))
        );
        assert!(parse_package_json(b"[1]").is_err());
        assert!(parse_package_json(b"{").is_err());
    }

    #[test]
    fn lockfile_v3_and_v1() {
        let v3 = br#"{"name":"app","lockfileVersion":3,"packages":{
            "":{"name":"app","version":"1.0.0"},
            "node_modules/a":{"version":"1.0.0","resolved":"r","integrity":"i","license":"ISC"},
            "node_modules/a/node_modules/@s/b":{"version":"2.0.0"},
            "node_modules/dev":{"version":"1.0.0","dev":true},
            "node_modules/ws":{"resolved":"packages/ws","link":true},
            "packages/ws":{"name":"ws","version":"0.1.0"}}}"#;
        let ps = parse_lockfile(v3).unwrap();
        let names: Vec<_> = ps
            .iter()
            .map(|p| (p.namespace.clone(), p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                (None, "app", "1.0.0"),
                (None, "a", "1.0.0"),
                (Some("@s".into()), "b", "2.0.0"),
                (None, "ws", "0.1.0")
            ]
        );
        let v1 = br#"{"name":"app","lockfileVersion":1,"dependencies":{
            "a":{"version":"1.0.0","requires":{"b":"^2"},"dependencies":{"b":{"version":"2.0.0"}}},
            "d":{"version":"3.0.0","dev":true}}}"#;
        let ps = parse_lockfile(v1).unwrap();
        assert_eq!(ps.len(), 2, "v1 without a version at the top: no project");
        assert_eq!(ps[0].depends, vec!["b"]);
        assert_eq!(
            ps[1].properties.last().unwrap().1,
            "node_modules/a/node_modules/b"
        );
    }

    #[test]
    fn deep_v1_nesting_is_bounded() {
        let mut s = String::new();
        for _ in 0..200 {
            s.push_str(r#"{"version":"1.0.0","dependencies":{"x":"#);
        }
        s.push_str("{}");
        for _ in 0..200 {
            s.push_str("}}");
        }
        let lock = format!(r#"{{"lockfileVersion":1,"dependencies":{{"x":{s}}}}}"#);
        // serde_json's own recursion limit (128) or ours: an error, no
        // stack overflow.
        assert!(parse_lockfile(lock.as_bytes()).is_err());
    }
}
