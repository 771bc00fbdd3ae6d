//! `bakeproof-imds-emulator`: an EC2 instance metadata service with IMDSv2
//! semantics, for tests and for trying the boot flow on a laptop.
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
//!
//! Prints `listening on http://ADDR` on stdout once bound (`--listen
//! 127.0.0.1:0` picks a free port).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::Parser;
use sha2::Digest as _;
use tiny_http::{Header, Method, Response, Server};

#[derive(Parser, Debug)]
#[command(name = "bakeproof-imds-emulator", version, about)]
struct Args {
    /// Address to listen on (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:1338")]
    listen: String,
    #[arg(long, default_value = "ami-0123456789abcdef0")]
    ami_id: String,
    #[arg(long, default_value = "i-0123456789abcdef0")]
    instance_id: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// imageId in the identity document (default: --ami-id); for testing mismatches.
    #[arg(long)]
    document_image_id: Option<String>,
    /// Tokens live at most this many seconds, whatever TTL was asked.
    #[arg(long, default_value_t = 21600)]
    token_ttl_max: u64,
    /// Serve GETs without a token (IMDSv1).
    #[arg(long)]
    allow_v1: bool,
    /// PKCS#8 PEM RSA private key signing the identity document.
    #[arg(long, requires = "cert")]
    sign_key: Option<PathBuf>,
    /// The certificate of --sign-key (only checked to be readable; clients get it out of band).
    #[arg(long, requires = "sign_key")]
    cert: Option<PathBuf>,
    /// An OpenSSH public key line the instance was "launched with"
    /// (`meta-data/public-keys/N/openssh-key`); repeatable.
    #[arg(long, value_name = "LINE")]
    public_key: Vec<String>,
    /// `pendingTime` of the identity document (the launch time, RFC 3339).
    #[arg(long, default_value = "2026-01-01T00:00:00Z")]
    pending_time: String,
    /// Serve an identity document without `pendingTime` (as some emulators do).
    #[arg(long, conflicts_with = "pending_time")]
    no_pending_time: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bakeproof-imds-emulator: error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn document(args: &Args) -> String {
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

fn sign(key_path: &PathBuf, msg: &[u8]) -> Result<String, String> {
    use rsa::pkcs8::DecodePrivateKey as _;
    let pem =
        std::fs::read_to_string(key_path).map_err(|e| format!("{}: {e}", key_path.display()))?;
    let key = rsa::PrivateKey::from_pkcs8_pem(&pem)
        .map_err(|e| format!("{}: not a PKCS#8 RSA key: {e}", key_path.display()))?;
    let sig = key
        .pkcs1v15_sign::<sha2::Sha256>(msg)
        .map_err(|e| format!("signing: {e}"))?;
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

fn run(args: Args) -> Result<(), String> {
    let doc = document(&args);
    let signature = match (&args.sign_key, &args.cert) {
        (Some(k), Some(c)) => {
            std::fs::metadata(c).map_err(|e| format!("{}: {e}", c.display()))?;
            Some(sign(k, doc.as_bytes())?)
        }
        _ => None,
    };
    let server = Server::http(&args.listen).map_err(|e| format!("{}: {e}", args.listen))?;
    let addr = server.server_addr().to_ip().ok_or("not an IP listener")?;
    println!("listening on http://{addr}");
    std::io::stdout().flush().ok();

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
                    "dynamic/instance-identity/document" => Some(&doc),
                    "dynamic/instance-identity/signature" => signature.as_deref(),
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
    Ok(())
}
