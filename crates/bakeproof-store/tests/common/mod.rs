//! Shared by the store's (and the lifecycle crate's) tests that need a real
//! S3-compatible server: the suite's moto_server helper
//! (tests/common/moto.rs), and [`aws_child`], which runs a test in a child
//! process of the test binary with the server's endpoint and test
//! credentials in its environment (a test never changes its own process's
//! environment).

// Each test file uses some of it.
#![allow(dead_code, unreachable_pub)]

pub mod schema {
    use std::path::{Path, PathBuf};

    pub fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> has a grandparent")
            .to_path_buf()
    }

    pub fn bakeproof_python() -> Result<PathBuf, String> {
        match std::env::var_os("BAKEPROOF_PYTHON") {
            Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
            _ => Err("BAKEPROOF_PYTHON is not set: run the tests through tests/run-all.sh \
                      (it creates .venv with moto and exports BAKEPROOF_PYTHON=$PWD/.venv/bin/python)"
                .to_string()),
        }
    }
}

#[path = "../../../../tests/common/moto.rs"]
pub mod moto;

use std::process::Command;

/// Set in the child [`aws_child`] starts: the moto endpoint.
const CHILD_ENV: &str = "BAKEPROOF_TEST_MOTO_URL";

/// In the parent (the test as the harness runs it): starts moto_server,
/// creates `bucket`, runs this very test (`name`, its full path in the test
/// binary) again in a child process with the server as `AWS_ENDPOINT_URL_S3`
/// and test credentials, asserts that the child passed, and returns `None`.
/// In the child: returns the endpoint, and the test body runs.
pub fn aws_child(name: &str, bucket: &str) -> Option<String> {
    if let Some(url) = std::env::var_os(CHILD_ENV) {
        return Some(url.to_string_lossy().into_owned());
    }
    let m = moto::Moto::start(&[]);
    m.py(&format!("s3.create_bucket(Bucket='{bucket}')"));
    let mut c = Command::new(std::env::current_exe().expect("the test binary"));
    moto::test_aws_env(&mut c);
    c.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, m.url())
        .env("AWS_ENDPOINT_URL_S3", m.url());
    let o = c.output().expect("run the test binary");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("1 passed"),
        "{name} against moto failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    None
}

/// Runs boto3 `code` against the child's moto server (see [`moto::boto3`]).
pub fn py(url: &str, code: &str) -> String {
    let python = schema::bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
    moto::boto3(&python, url, code)
}
