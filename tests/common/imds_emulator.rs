//! The IMDSv2 emulator (`bakeproof_imds::emulator`, what the
//! `bakeproof-imds-emulator` binary serves) on a free loopback port, in this
//! process; a test RSA key and certificate.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bakeproof_imds::emulator::{self, EmulatorArgs};
use clap::Parser as _;

/// A running emulator; stopped on drop.
pub struct Emulator {
    _server: emulator::Emulator,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl Emulator {
    /// Starts the emulator with `--listen 127.0.0.1:0` and `args` (the
    /// binary's arguments).
    pub fn start(args: &[&str]) -> Emulator {
        let argv = ["bakeproof-imds-emulator", "--listen", "127.0.0.1:0"]
            .into_iter()
            .chain(args.iter().copied());
        let args = EmulatorArgs::try_parse_from(argv)
            .unwrap_or_else(|e| panic!("emulator arguments {args:?}: {e}"));
        let server = emulator::Emulator::start(args).expect("start the emulator");
        Emulator {
            endpoint: server.endpoint(),
            _server: server,
        }
    }
}

/// A loopback endpoint nothing listens on.
pub fn dead_endpoint() -> String {
    format!("http://127.0.0.1:{}", super::moto::free_port())
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
