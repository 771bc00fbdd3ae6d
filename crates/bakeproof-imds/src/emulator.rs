//! An EC2 instance metadata service with IMDSv2 semantics, for tests and for
//! trying the boot flow on a laptop: [`Emulator::start`] serves one on a
//! thread of the calling process until it is dropped (the tests), the
//! `bakeproof-imds-emulator` binary serves one until it is killed.
//!
//! * `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`
//!   (1..=21600, else 400) returns a token valid for that TTL (capped by
//!   `--token-ttl-max`); a PUT carrying `X-Forwarded-For` is refused (403).
//! * Every GET needs a valid, unexpired token (`X-aws-ec2-metadata-token`):
//!   401 otherwise, unless `--allow-v1` (then a GET without a token is served).
//! * `meta-data/ami-id`, `instance-id`, `placement/region`,
//!   `placement/availability-zone`, `dynamic/instance-identity/document`,
//!   and with `--sign-key` `dynamic/instance-identity/signature` (base64
//!   RSA-SHA256 over the document's exact bytes).
//! * with `--public-key LINE` (repeatable): `meta-data/public-keys/`
//!   (`N=name` lines), `meta-data/public-keys/N/` (`openssh-key`) and
//!   `meta-data/public-keys/N/openssh-key`; without: 404, as for an instance
//!   launched without a key pair.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::Digest as _;
use tiny_http::{Header, Method, Response, Server};

/// What the emulated instance is, as the binary's command line gives it
/// (`EmulatorArgs::try_parse_from` for the same arguments in-process).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "bakeproof-imds-emulator", version, about)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:1338")]
    pub listen: String,
    #[arg(long, default_value = "ami-0123456789abcdef0")]
    pub ami_id: String,
    #[arg(long, default_value = "i-0123456789abcdef0")]
    pub instance_id: String,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    /// imageId in the identity document (default: --ami-id); for testing mismatches.
    #[arg(long)]
    pub document_image_id: Option<String>,
    /// Tokens live at most this many seconds, whatever TTL was asked.
    #[arg(long, default_value_t = 21600)]
    pub token_ttl_max: u64,
    /// Serve GETs without a token (IMDSv1).
    #[arg(long)]
    pub allow_v1: bool,
    /// PKCS#8 PEM RSA private key signing the identity document.
    #[arg(long, requires = "cert")]
    pub sign_key: Option<PathBuf>,
    /// The certificate of --sign-key (only checked to be readable; clients get it out of band).
    #[arg(long, requires = "sign_key")]
    pub cert: Option<PathBuf>,
    /// An OpenSSH public key line the instance was "launched with"
    /// (`meta-data/public-keys/N/openssh-key`); repeatable.
    #[arg(long, value_name = "LINE")]
    pub public_key: Vec<String>,
    /// `pendingTime` of the identity document (the launch time, RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    pub pending_time: String,
    /// Serve an identity document without `pendingTime` (as some emulators do).
    #[arg(long, conflicts_with = "pending_time")]
    pub no_pending_time: bool,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a PKCS#8 RSA key: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("signing: {0}")]
    Sign(String),
    #[error("{listen}: {message}")]
    Listen { listen: String, message: String },
}

/// A running emulator: serves on its own thread until dropped.
pub struct Emulator {
    server: Arc<Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `args.listen`, then serves on a new thread.
    pub fn start(args: EmulatorArgs) -> Result<Emulator, EmulatorError> {
        let doc = document(&args);
        let signature = match (&args.sign_key, &args.cert) {
            (Some(k), Some(c)) => {
                std::fs::metadata(c).map_err(|source| EmulatorError::Read {
                    path: c.clone(),
                    source,
                })?;
                Some(sign(k, doc.as_bytes())?)
            }
            _ => None,
        };
        let listen = args.listen.clone();
        let listen_error = |message: String| EmulatorError::Listen {
            listen: listen.clone(),
            message,
        };
        let server = Server::http(&listen).map_err(|e| listen_error(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| listen_error("not an IP listener".into()))?;
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let thread = std::thread::Builder::new()
            .name("imds-emulator".into())
            .spawn(move || serve(&serving, &args, &doc, signature.as_deref()))
            .map_err(|e| listen_error(e.to_string()))?;
        Ok(Emulator {
            server,
            addr,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the listener fails (for the binary: until killed).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn document(args: &EmulatorArgs) -> String {
    let mut doc = serde_json::json!({
        "accountId": args.account_id,
        "architecture": "x86_64",
        "availabilityZone": format!("{}a", args.region),
        "billingProducts": null,
        "devpayProductCodes": null,
        "marketplaceProductCodes": null,
        "imageId": args.document_image_id.as_deref().unwrap_or(&args.ami_id),
        "instanceId": args.instance_id,
        "instanceType": "t3.micro",
        "kernelId": null,
        "pendingTime": args.pending_time,
        "privateIp": "10.0.0.10",
        "ramdiskId": null,
        "region": args.region,
        "version": "2017-09-30",
    });
    if args.no_pending_time
        && let Some(o) = doc.as_object_mut()
    {
        o.remove("pendingTime");
    }
    serde_json::to_string_pretty(&doc).expect("serializable")
}

fn sign(key_path: &Path, msg: &[u8]) -> Result<String, EmulatorError> {
    use rsa::pkcs8::DecodePrivateKey as _;
    let pem = std::fs::read_to_string(key_path).map_err(|source| EmulatorError::Read {
        path: key_path.to_owned(),
        source,
    })?;
    let key = rsa::PrivateKey::from_pkcs8_pem(&pem).map_err(|e| EmulatorError::Key {
        path: key_path.to_owned(),
        message: e.to_string(),
    })?;
    let sig = key
        .pkcs1v15_sign::<sha2::Sha256>(msg)
        .map_err(|e| EmulatorError::Sign(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig))
}

fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn text(status: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(status)
        .with_header(
            Header::from_bytes(&b"Content-Type"[..], &b"text/plain"[..]).expect("valid header"),
        )
}

/// Answers requests until the server is unblocked (dropped) or fails.
fn serve(server: &Server, args: &EmulatorArgs, doc: &str, signature: Option<&str>) {
    let mut paths: HashMap<String, String> = HashMap::new();
    if !args.public_key.is_empty() {
        let mut list = String::new();
        for (i, k) in args.public_key.iter().enumerate() {
            let name = k
                .split_whitespace()
                .nth(2)
                .map(String::from)
                .unwrap_or_else(|| format!("key-{i}"));
            list.push_str(&format!("{i}={name}\n"));
            paths.insert(format!("meta-data/public-keys/{i}/"), "openssh-key".into());
            paths.insert(
                format!("meta-data/public-keys/{i}/openssh-key"),
                format!("{}\n", k.trim()),
            );
        }
        paths.insert("meta-data/public-keys/".into(), list.trim_end().to_string());
        paths.insert("meta-data/public-keys".into(), list.trim_end().to_string());
    }
    let mut tokens: HashMap<String, Instant> = HashMap::new();
    let mut counter: u64 = 0;
    let boot = Instant::now();
    for req in server.incoming_requests() {
        let url = req.url().to_string();
        let path = url.split('?').next().unwrap_or("").to_string();
        let resp = if path == "/latest/api/token" {
            if *req.method() != Method::Put {
                text(405, "Method Not Allowed")
            } else if header(&req, "X-Forwarded-For").is_some() {
                text(403, "Forbidden")
            } else {
                match header(&req, "X-aws-ec2-metadata-token-ttl-seconds")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .filter(|t| (1..=21600).contains(t))
                {
                    None => text(400, "Bad Request"),
                    Some(ttl) => {
                        counter += 1;
                        let mut h = sha2::Sha256::new();
                        h.update(counter.to_le_bytes());
                        h.update(boot.elapsed().as_nanos().to_le_bytes());
                        h.update(std::process::id().to_le_bytes());
                        let tok =
                            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize());
                        let life = ttl.min(args.token_ttl_max);
                        let now = Instant::now();
                        tokens.retain(|_, exp| *exp > now);
                        tokens.insert(tok.clone(), now + Duration::from_secs(life));
                        text(200, &tok).with_header(
                            Header::from_bytes(
                                &b"X-aws-ec2-metadata-token-ttl-seconds"[..],
                                ttl.to_string().as_bytes(),
                            )
                            .expect("valid header"),
                        )
                    }
                }
            }
        } else if *req.method() != Method::Get {
            text(405, "Method Not Allowed")
        } else {
            let authorized = match header(&req, "X-aws-ec2-metadata-token") {
                Some(t) => tokens.get(t).is_some_and(|exp| Instant::now() < *exp),
                None => args.allow_v1,
            };
            if !authorized {
                text(401, "Unauthorized")
            } else {
                let az = format!("{}a", args.region);
                let body: Option<&str> = match path.trim_start_matches("/latest/") {
                    "meta-data/ami-id" => Some(&args.ami_id),
                    "meta-data/instance-id" => Some(&args.instance_id),
                    "meta-data/placement/region" => Some(&args.region),
                    "meta-data/placement/availability-zone" => Some(&az),
                    "meta-data/" | "meta-data" => {
                        Some("ami-id\ninstance-id\ninstance-type\nplacement/")
                    }
                    "dynamic/instance-identity/document" => Some(doc),
                    "dynamic/instance-identity/signature" => signature,
                    p => paths.get(p).map(String::as_str),
                };
                match body {
                    Some(b) => text(200, b),
                    None => text(404, "Not Found"),
                }
            }
        };
        let _ = req.respond(resp);
    }
}
