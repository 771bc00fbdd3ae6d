//! A real S3-compatible server for the tests: moto_server (PyPI
//! `moto[server]`, pinned in tests/tools/requirements.txt and installed into
//! .venv by tests/run-all.sh) on a free loopback port, one per test so tests
//! stay independent (some enforce credentials, some stop the server).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::schema::bakeproof_python;

/// Runs boto3 `code` with `json`, `sys` and `s3`, `iam`, `kms` and `ec2`
/// clients bound to the server at `url` (region us-east-1, moto's test
/// credentials, no AWS configuration files); asserts it succeeds and
/// returns its standard output, trimmed.
pub fn boto3(python: &std::path::Path, url: &str, code: &str) -> String {
    let prelude = format!(
        "import boto3, json, sys\n\
         kw = dict(endpoint_url='{url}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         s3 = boto3.client('s3', **kw)\n\
         iam = boto3.client('iam', **kw)\n\
         kms = boto3.client('kms', **kw)\n\
         ec2 = boto3.client('ec2', **kw)\n"
    );
    let o = Command::new(python)
        .args(["-c", &format!("{prelude}{code}")])
        .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// moto_server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
    python: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    pub fn start(env: &[(&str, &str)]) -> Moto {
        Moto::start_module(env, &["-m", "moto.server"])
    }

    /// moto_server through tests/tools/moto_kms.py: KMS `Sign` with
    /// `MessageType=DIGEST` as AWS does it (moto itself hashes the digest
    /// again).
    pub fn start_kms() -> Moto {
        let script = super::schema::repo_root().join("tests/tools/moto_kms.py");
        Moto::start_module(&[], &[script.to_str().unwrap()])
    }

    /// moto_server through tests/tools/moto_ec2.py: the EC2 calls
    /// bakeproof-ec2 makes that moto lacks (Enable/DisableImageDeprecation,
    /// RegisterImage's block device mappings).
    pub fn start_ec2() -> Moto {
        let script = super::schema::repo_root().join("tests/tools/moto_ec2.py");
        Moto::start_module(&[], &[script.to_str().unwrap()])
    }

    /// moto_server through tests/tools/moto_ebs.py: the EBS direct APIs as
    /// AWS documents them (block size in bytes, ListSnapshotBlocks pages,
    /// PutSnapshotBlock checksums checked) and moto_ec2.py's EC2 additions.
    pub fn start_ebs(env: &[(&str, &str)]) -> Moto {
        let script = super::schema::repo_root().join("tests/tools/moto_ebs.py");
        Moto::start_module(env, &[script.to_str().unwrap()])
    }

    fn start_module(env: &[(&str, &str)], program: &[&str]) -> Moto {
        let python = bakeproof_python().unwrap_or_else(|e| panic!("{e}"));
        let probe = Command::new(&python)
            .args(["-c", "import moto.server, boto3"])
            .output();
        assert!(
            probe.as_ref().is_ok_and(|o| o.status.success()),
            "moto[server] is not installed in {}: run tests/run-all.sh (it installs \
             tests/tools/requirements.txt into .venv)",
            python.display()
        );
        let port = free_port();
        let mut c = Command::new(&python);
        c.args(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().expect("start moto_server");
        let m = Moto {
            child,
            port,
            python,
        };
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs boto3 code with `s3`, `iam`, `kms` and `ec2` clients bound to the server.
    pub fn py(&self, code: &str) -> String {
        boto3(&self.python, &self.url(), code)
    }
}

/// Points `c` at the moto server's test credentials and at nothing of the
/// caller's: no AWS config or credentials file, profile, session token,
/// endpoint or `BAKEPROOF_STORE`; region us-east-1.
pub fn test_aws_env(c: &mut Command) -> &mut Command {
    c.env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ENDPOINT_URL_KMS")
        .env_remove("AWS_ENDPOINT_URL_EC2")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("BAKEPROOF_STORE")
}
