//! Shared by tests/imds.rs and tests/boot.rs: start `bakeproof-imds-emulator`
//! on a free loopback port, and make a test RSA key and certificate.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// Path of `bakeproof-imds-emulator` of this build profile (built once).
pub fn emulator_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        bakeproof_e2e::run::workspace_bin("bakeproof-imds", "bakeproof-imds-emulator")
    })
    .clone()
}

/// A running emulator; killed on drop.
pub struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl Emulator {
    /// Starts the emulator with `--listen 127.0.0.1:0` and `args`.
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(emulator_bin())
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("emulator's first line");
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected emulator output {line:?}"))
            .to_string();
        Emulator { child, endpoint }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback endpoint nothing listens on.
pub fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// `openssl req -x509 -newkey rsa:2048`: (PKCS#8 key, certificate) in `dir`.
pub fn test_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let st = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(st.success(), "openssl req failed");
    (key, cert)
}
