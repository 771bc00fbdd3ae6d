//! bakeproof-ebs against moto's EBS direct APIs on loopback
//! (tests/tools/moto_ebs.py). Every snapshot is written with boto3
//! (tests/tools/ebs_put_image.py: StartSnapshot, PutSnapshotBlock with
//! SHA-256 checksums, all-zero blocks skipped, CompleteSnapshot) from an
//! ext4 image made by the real `mke2fs -d`, and every read is compared with
//! the image file itself.
//!
//! The SDK takes its endpoint and credentials from the environment, which a
//! test cannot set in its own (threaded) process: each test starts moto (and
//! when it needs one, a loopback proxy in front of it that throttles, cuts
//! off or alters answers) and runs its body in a child process of this test
//! binary with that environment.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bakeproof_ebs::{EbsError, EbsOptions, EbsSnapshot, ami_volumes};
use bakeproof_image::block::{BlockSource, FetchProgress};
use bakeproof_image::ext4::Ext4;
use bakeproof_image::fs::FsReader;

#[path = "../../bakeproof-store/tests/common/mod.rs"]
mod common;

use common::moto::{Moto, free_port};

const CHILD: &str = "BAKEPROOF_EBS_TEST_CHILD";
const MOTO_URL: &str = "BAKEPROOF_EBS_TEST_MOTO";
const BLOCK: usize = 524288;

/// A source tree of a few MB (files of pseudo-random bytes, so blocks
/// differ, with holes of zeros between them in the image), made into an
/// ext4 image by `mke2fs -d`.
struct Image {
    _dir: tempfile::TempDir,
    src: PathBuf,
    path: PathBuf,
    bytes: Vec<u8>,
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn make_image(mb: usize) -> Image {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("etc")).unwrap();
    std::fs::write(
        src.join("etc/os-release"),
        b"ID=bakeproof-test\nVERSION_ID=1\n",
    )
    .unwrap();
    std::fs::create_dir_all(src.join("data")).unwrap();
    for (i, len) in [1_500_000usize, 700_000, 3_000_000, 90_000]
        .iter()
        .enumerate()
    {
        std::fs::write(src.join(format!("data/f{i}")), noise(*len, i as u64 + 1)).unwrap();
    }
    let path = dir.path().join("img.ext4");
    let o = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
        .arg(&src)
        .arg(&path)
        .arg(format!("{mb}M"))
        .output()
        .expect("mke2fs (e2fsprogs)");
    assert!(o.status.success(), "mke2fs: {o:?}");
    let bytes = std::fs::read(&path).unwrap();
    Image {
        _dir: dir,
        src,
        path,
        bytes,
    }
}

struct Env {
    moto: String,
}

impl Env {
    /// The image in a new snapshot: (snapshot id, blocks written).
    fn put(&self, img: &Path) -> (String, u64) {
        let script = common::schema::repo_root().join("tests/tools/ebs_put_image.py");
        let python = common::schema::bakeproof_python().unwrap();
        let o = Command::new(python)
            .arg(script)
            .arg(img)
            .arg(&self.moto)
            .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (
            v["snapshot"].as_str().unwrap().to_string(),
            v["blocks"].as_u64().unwrap(),
        )
    }

    fn py(&self, code: &str) -> String {
        common::py(&self.moto, code)
    }
}

/// In the parent: starts moto (and `proxy` in front of it when given) and
/// runs test `name` again in a child with the AWS environment pointing at
/// it. In the child: runs `body`.
fn in_moto(name: &str, moto_env: &[(&str, &str)], proxy: Option<Proxy>, body: impl FnOnce(&Env)) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        let moto = std::env::var(MOTO_URL).unwrap();
        body(&Env { moto });
        return;
    }
    let server = Moto::start_ebs(moto_env);
    let url = server.url();
    let ebs_url = match &proxy {
        Some(p) => p.start(server_port(&url)),
        None => url.clone(),
    };
    run_child(name, &url, &ebs_url);
}

fn server_port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

fn run_child(name: &str, moto: &str, ebs: &str) {
    let o = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env(MOTO_URL, moto)
        .env("AWS_ENDPOINT_URL_EBS", ebs)
        .env("AWS_ENDPOINT_URL_EC2", moto)
        .env("AWS_CONFIG_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/bakeproof-test")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "child test {name}:\n{out}");
    assert!(
        out.contains("1 passed"),
        "child test {name} did not run:\n{out}"
    );
}

fn opts(parallel: usize) -> EbsOptions {
    EbsOptions {
        parallel,
        ..EbsOptions::default()
    }
}

/// The blocks of `bytes` that are not all zeros (what the map must name).
fn nonzero_blocks(bytes: &[u8]) -> u64 {
    bytes
        .chunks(BLOCK)
        .filter(|c| c.iter().any(|b| *b != 0))
        .count() as u64
}

#[derive(Default)]
struct Progress {
    expected: Mutex2,
    fetched: AtomicU64,
    calls: AtomicU64,
}

#[derive(Default)]
struct Mutex2(std::sync::Mutex<Vec<(u64, u64)>>);

impl FetchProgress for Progress {
    fn expect(&self, blocks: u64, bytes: u64) {
        self.expected.0.lock().unwrap().push((blocks, bytes));
    }
    fn fetched(&self, bytes: u64) {
        self.fetched.fetch_add(bytes, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn reads_back_the_image() {
    // Pages of 3 blocks: ListSnapshotBlocks is followed through NextToken.
    in_moto(
        "reads_back_the_image",
        &[("BAKEPROOF_MOTO_EBS_PAGE", "3")],
        None,
        |env| {
            let img = make_image(24);
            let (snap, written) = env.put(&img.path);
            assert_eq!(written, nonzero_blocks(&img.bytes));
            assert!(written > 3 * 2, "several pages: {written} blocks");
            let progress = Arc::new(Progress::default());
            let s = EbsSnapshot::open(
                &snap,
                EbsOptions {
                    progress: Some(progress.clone()),
                    ..opts(8)
                },
            )
            .unwrap();
            assert_eq!(s.snapshot_id(), snap);
            assert_eq!(
                s.size(),
                1 << 30,
                "the 1 GiB volume StartSnapshot was given"
            );
            assert_eq!(s.block_size() as usize, BLOCK);
            assert_eq!(s.allocated_blocks(), written);
            let st = s.stats();
            assert_eq!(st.list_requests, written.div_ceil(3));
            assert_eq!(st.get_requests, 0, "open fetches no block");
            assert_eq!(
                *progress.expected.0.lock().unwrap(),
                vec![(written, written * BLOCK as u64)]
            );

            // Sequentially, 1 MiB at a time, the whole volume.
            let mut got = vec![0u8; img.bytes.len()];
            for (i, chunk) in got.chunks_mut(1 << 20).enumerate() {
                s.read_at((i << 20) as u64, chunk).unwrap();
            }
            assert!(got == img.bytes, "the snapshot reads back as the image");
            let mut rest = vec![0xAAu8; 8 << 20];
            let mut off = img.bytes.len() as u64;
            while off < s.size() {
                let n = rest.len().min((s.size() - off) as usize);
                s.read_at(off, &mut rest[..n]).unwrap();
                assert!(rest[..n].iter().all(|b| *b == 0), "past the image: zeros");
                off += n as u64;
            }
            let st = s.stats();
            let volume_blocks = s.size() / BLOCK as u64;
            assert_eq!(st.blocks_fetched, written, "{st:?}");
            assert_eq!(
                st.get_requests, written,
                "one request per allocated block: {st:?}"
            );
            assert_eq!(st.zero_blocks, volume_blocks - written, "{st:?}");
            assert_eq!(st.bytes_fetched, written * BLOCK as u64);
            assert_eq!(st.retries, 0);
            assert!(st.max_in_flight > 1, "parallel 8 overlaps requests: {st:?}");
            assert!(st.max_in_flight <= 8, "{st:?}");
            assert_eq!(progress.fetched.load(Ordering::SeqCst), st.bytes_fetched);
            assert_eq!(progress.calls.load(Ordering::SeqCst), written);

            // Random reads, and reads across block boundaries: from the cache now.
            let mut x = 12345u64;
            for _ in 0..300 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = ((x >> 33) % (3 * BLOCK as u64)) as usize + 1;
                let off = (x >> 7) % (img.bytes.len() - len) as u64;
                let mut b = vec![0u8; len];
                s.read_at(off, &mut b).unwrap();
                assert!(
                    b[..] == img.bytes[off as usize..off as usize + len],
                    "at {off} +{len}"
                );
            }
            for k in 1..(img.bytes.len() / BLOCK) {
                let off = (k * BLOCK - 10) as u64;
                let mut b = [0u8; 20];
                s.read_at(off, &mut b).unwrap();
                assert_eq!(b[..], img.bytes[off as usize..off as usize + 20]);
            }
            assert_eq!(s.stats().get_requests, written, "all from the cache");
            assert!(s.stats().cache_hits > 0);
            let mut b = [0u8; 2];
            assert!(s.read_at(s.size() - 1, &mut b).is_err(), "past the end");

            // Eight threads at once, on a fresh snapshot: each block once.
            let s = Arc::new(EbsSnapshot::open(&snap, opts(8)).unwrap());
            std::thread::scope(|sc| {
                for t in 0..8 {
                    let s = s.clone();
                    let want = &img.bytes;
                    sc.spawn(move || {
                        let mut got = vec![0u8; want.len()];
                        let step = 300_000 + t * 7919;
                        let mut off = 0;
                        while off < want.len() {
                            let n = step.min(want.len() - off);
                            s.read_at(off as u64, &mut got[off..off + n]).unwrap();
                            off += n;
                        }
                        assert!(got == *want);
                    });
                }
            });
            assert_eq!(s.stats().get_requests, written, "{:?}", s.stats());

            // The ext4 reader on top of it: a file as the source tree has it.
            let fs = Ext4::open(s.clone()).unwrap();
            let etc = fs
                .read_dir(fs.root())
                .unwrap()
                .into_iter()
                .find(|e| e.name == b"etc")
                .unwrap();
            let os = fs
                .read_dir(etc.ino)
                .unwrap()
                .into_iter()
                .find(|e| e.name == b"os-release")
                .unwrap();
            let want = std::fs::read(img.src.join("etc/os-release")).unwrap();
            assert_eq!(fs.inode(os.ino).unwrap().size, want.len() as u64);
            let mut buf = vec![0u8; want.len()];
            let n = fs.read(os.ino, 0, &mut buf).unwrap();
            assert_eq!(&buf[..n], &want[..]);
            let data = fs
                .read_dir(fs.root())
                .unwrap()
                .into_iter()
                .find(|e| e.name == b"data")
                .unwrap();
            let f2 = fs
                .read_dir(data.ino)
                .unwrap()
                .into_iter()
                .find(|e| e.name == b"f2")
                .unwrap();
            let want = std::fs::read(img.src.join("data/f2")).unwrap();
            let mut buf = vec![0u8; want.len()];
            let mut done = 0;
            while done < buf.len() {
                let n = fs.read(f2.ino, done as u64, &mut buf[done..]).unwrap();
                assert!(n > 0);
                done += n;
            }
            assert!(buf == want, "data/f2 through ext4 on EBS");
        },
    );
}

#[test]
fn parallel_one_and_a_small_cache() {
    in_moto("parallel_one_and_a_small_cache", &[], None, |env| {
        let img = make_image(16);
        let (snap, written) = env.put(&img.path);
        let s = EbsSnapshot::open(&snap, opts(1)).unwrap();
        let mut got = vec![0u8; img.bytes.len()];
        s.read_at(0, &mut got).unwrap();
        assert!(got == img.bytes);
        let st = s.stats();
        assert_eq!(
            st.max_in_flight, 1,
            "parallel 1: one request at a time: {st:?}"
        );
        assert_eq!(st.get_requests, written);

        // A cache of 4 blocks, read twice: correct, and the second pass
        // fetches again (nothing beyond the bound was kept).
        let s = EbsSnapshot::open(
            &snap,
            EbsOptions {
                cache_bytes: 4 * BLOCK as u64,
                ..opts(4)
            },
        )
        .unwrap();
        for _ in 0..2 {
            let mut got = vec![0u8; img.bytes.len()];
            for (i, c) in got.chunks_mut(100_000).enumerate() {
                s.read_at(i as u64 * 100_000, c).unwrap();
            }
            assert!(got == img.bytes);
        }
        let st = s.stats();
        assert!(st.max_in_flight <= 4, "{st:?}");
        assert!(
            st.get_requests >= 2 * written - 4,
            "evicted and fetched again: {st:?}"
        );
        assert!(st.get_requests <= 3 * written, "{st:?}");
    });
}

/// What the loopback proxy does to the answers.
#[derive(Clone, Default)]
struct Proxy {
    /// Answer this many requests with 429 ThrottlingException first.
    throttle: Arc<AtomicU64>,
    /// Flip a byte of every GetSnapshotBlock body.
    tamper: Arc<AtomicBool>,
    /// Close GetSnapshotBlock connections without an answer.
    cut_gets: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on a free loopback port, forwarding to moto at `port`.
    fn start(&self, port: u16) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let me = self.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let me = me.clone();
                std::thread::spawn(move || me.serve(c, port));
            }
        });
        url
    }

    fn serve(&self, mut c: TcpStream, port: u16) {
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        loop {
            let Some(req) = read_request(&mut c) else {
                return;
            };
            let head = String::from_utf8_lossy(&req[..req.len().min(300)]).to_string();
            let get_block = head.starts_with("GET ") && head.contains("/blocks/");
            if self
                .throttle
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let body = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                let resp = format!(
                    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n\
                     x-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(resp.as_bytes());
                let _ = c.write_all(body);
                continue;
            }
            if get_block && self.cut_gets.load(Ordering::SeqCst) {
                return;
            }
            let mut up = TcpStream::connect(("127.0.0.1", port)).unwrap();
            up.write_all(&req).unwrap();
            let mut resp = Vec::new();
            let _ = up.read_to_end(&mut resp);
            if get_block && self.tamper.load(Ordering::SeqCst) {
                let split = find(&resp, b"\r\n\r\n").unwrap() + 4;
                if resp.len() > split + 1000 {
                    resp[split + 1000] ^= 0x01;
                }
            }
            // moto answers `Connection: close`: so does the proxy.
            let _ = c.write_all(&resp);
            return;
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// One HTTP/1.1 request (head and Content-Length body), `None` at EOF.
fn read_request(c: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut b = [0u8; 65536];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = c.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = c.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
    Some(buf)
}

#[test]
fn throttling_is_retried_and_counted() {
    let p = Proxy::default();
    p.throttle.store(5, Ordering::SeqCst);
    in_moto("throttling_is_retried_and_counted", &[], Some(p), |env| {
        let img = make_image(16);
        let (snap, written) = env.put(&img.path);
        // The first 5 requests (the listing's first attempts, then blocks)
        // are throttled.
        let s = EbsSnapshot::open(&snap, opts(1)).unwrap();
        let mut got = vec![0u8; img.bytes.len()];
        s.read_at(0, &mut got).unwrap();
        assert!(got == img.bytes);
        let st = s.stats();
        assert_eq!(st.retries, 5, "{st:?}");
        assert_eq!(
            st.list_requests + st.get_requests,
            1 + written + 5,
            "{st:?}"
        );
        assert_eq!(st.blocks_fetched, written);
    });
}

#[test]
fn a_tampered_block_is_an_error() {
    let p = Proxy::default();
    p.tamper.store(true, Ordering::SeqCst);
    in_moto("a_tampered_block_is_an_error", &[], Some(p), |env| {
        let img = make_image(16);
        let (snap, _) = env.put(&img.path);
        let s = EbsSnapshot::open(&snap, opts(4)).unwrap();
        let mut got = vec![0u8; BLOCK];
        let e = s.read_at(0, &mut got).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        assert!(e.contains(&snap) && e.contains("block 0"), "{e}");
        assert_eq!(s.stats().blocks_fetched, 0);
    });
}

#[test]
fn unreachable_and_missing_are_clear_errors() {
    let p = Proxy::default();
    p.cut_gets.store(true, Ordering::SeqCst);
    in_moto(
        "unreachable_and_missing_are_clear_errors",
        &[],
        Some(p),
        |env| {
            let img = make_image(16);
            let (snap, _) = env.put(&img.path);
            // Listed through the proxy, every block cut off: an error naming the
            // snapshot and block, in bounded time.
            let s = EbsSnapshot::open(&snap, opts(2)).unwrap();
            let t0 = Instant::now();
            let mut b = vec![0u8; 4096];
            let e = s.read_at(0, &mut b).unwrap_err().to_string();
            assert!(e.contains(&snap) && e.contains("block 0"), "{e}");
            assert!(t0.elapsed() < Duration::from_secs(40), "{:?}", t0.elapsed());
            // Block 0 tried 3 times (and the read-ahead blocks too).
            assert!(s.stats().retries >= 2, "{:?}", s.stats());

            // No such snapshot (moto's, directly).
            match EbsSnapshot::open("snap-0123456789abcdef0", opts(2)) {
                Err(EbsError::NotFound(id)) => assert_eq!(id, "snap-0123456789abcdef0"),
                other => panic!("{:?}", other.err()),
            }
            assert!(matches!(
                EbsSnapshot::open("snap/../x", opts(2)),
                Err(EbsError::Invalid(_))
            ));
            let _ = env;
        },
    );
}

#[test]
fn nothing_listening_is_a_clear_error() {
    if std::env::var(CHILD).as_deref() == Ok("nothing_listening_is_a_clear_error") {
        let t0 = Instant::now();
        let e = EbsSnapshot::open("snap-0123456789abcdef0", opts(2))
            .err()
            .unwrap();
        let m = e.to_string();
        assert!(
            matches!(
                e,
                EbsError::Api {
                    op: "ListSnapshotBlocks",
                    ..
                }
            ),
            "{m}"
        );
        assert!(
            m.contains("cannot reach") && m.contains("snap-0123456789abcdef0"),
            "{m}"
        );
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        return;
    }
    let dead = format!("http://127.0.0.1:{}", free_port());
    run_child("nothing_listening_is_a_clear_error", &dead, &dead);
}

#[test]
fn ami_volumes_resolve_the_snapshots() {
    in_moto("ami_volumes_resolve_the_snapshots", &[], None, |env| {
        let img = make_image(16);
        let (snap, _) = env.put(&img.path);
        let ami = env.py(&format!(
            "print(ec2.register_image(Name='ebs-test', RootDeviceName='/dev/xvda', \
             BlockDeviceMappings=[{{'DeviceName': '/dev/xvdb', 'Ebs': {{'SnapshotId': '{snap}'}}}}])['ImageId'])"
        ));
        // What EC2 (boto3) says the image maps.
        let maps: serde_json::Value = serde_json::from_str(&env.py(&format!(
            "i = ec2.describe_images(ImageIds=['{ami}'])['Images'][0]\n\
             print(json.dumps({{'root': i['RootDeviceName'], 'maps': [[m['DeviceName'], m['Ebs']['SnapshotId']] for m in i['BlockDeviceMappings'] if 'Ebs' in m]}}))"
        )))
        .unwrap();
        let root_dev = maps["root"].as_str().unwrap();
        let mut want: HashMap<String, String> = HashMap::new();
        for m in maps["maps"].as_array().unwrap() {
            want.insert(
                m[0].as_str().unwrap().to_string(),
                m[1].as_str().unwrap().to_string(),
            );
        }
        let root = ami_volumes("us-east-1", &ami, false).unwrap();
        assert_eq!(root.len(), 1);
        assert!(root[0].root);
        assert_eq!(root[0].device, root_dev);
        assert_eq!(Some(&root[0].snapshot_id), want.get(root_dev));
        let all = ami_volumes("us-east-1", &ami, true).unwrap();
        assert_eq!(all[0], root[0], "root first");
        assert_eq!(all.len(), want.len());
        let xvdb = all.iter().find(|v| v.device == "/dev/xvdb").unwrap();
        assert_eq!(xvdb.snapshot_id, snap);
        assert!(!xvdb.root);
        // And that volume reads back as the image.
        let s = EbsSnapshot::open(&xvdb.snapshot_id, opts(4)).unwrap();
        let mut got = vec![0u8; img.bytes.len()];
        s.read_at(0, &mut got).unwrap();
        assert!(got == img.bytes);

        let e = ami_volumes("us-east-1", "ami-0123456789abcdef0", false).unwrap_err();
        assert!(
            matches!(e, EbsError::Ec2(bakeproof_ec2::Ec2Error::NotFound { .. })),
            "{e}"
        );
    });
}
